//! [`TicketBackend`] and [`AccountBackend`] over the mock's own state, for the
//! conformance suite.
//!
//! Conventions (what the Jira connector is assumed to do): a ticket reference is an issue
//! key (`TicketRef.number`) or numeric id (`TicketRef.id`); the correlation id is carried
//! by a label ending in `-<id>` (the connector's default prefix is `accesslink-`) or by a
//! custom field holding it;
//! internal comments carry the JSM `sd.public.comment` property; an account is a user by
//! account id (Cloud) or name (Data Center), and only `atlassian` accounts are counted on
//! Cloud (the connector's default `account_types`); entitlements are groups by id (Cloud)
//! or name (Data Center).

use accesslink_core::{
    AccountId, Comment, CorrelationId, EntitlementRef, Error, Result, TicketKind, TicketRef,
    TicketState,
};
use async_trait::async_trait;
use serde_json::Value;
use std::time::{SystemTime, UNIX_EPOCH};

use super::JiraMock;
use super::state::{Mode, State};
use crate::conformance::{AccountBackend, FaultOp, TicketBackend};
use crate::fault::{FaultMatcher, FaultPlan};

fn find(state: &State, r: &TicketRef) -> Result<usize> {
    r.number()
        .and_then(|k| state.issue_index(k))
        .or_else(|| r.id().and_then(|id| state.issue_index(id)))
        .ok_or_else(|| Error::not_found(format!("issue {r}")))
}

/// The text of a stored body (ADF or string).
fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => {
            let mut out = Vec::new();
            collect(other, &mut out);
            out.join("")
        }
    }
}

fn collect(v: &Value, out: &mut Vec<String>) {
    if let Some(t) = v.get("text").and_then(Value::as_str) {
        out.push(t.to_owned());
    }
    if let Some(Value::Array(c)) = v.get("content") {
        for n in c {
            collect(n, out);
        }
    }
}

#[async_trait]
impl TicketBackend for JiraMock {
    /// JQL searches then answer every issue, whatever their query asks (an unknown key
    /// included, which Jira would refuse with a 400).
    fn ignore_search_filters(&self, on: bool) -> bool {
        self.lock().unfiltered = on;
        true
    }

    /// New: the workflow's first status; in progress: its first `indeterminate` status;
    /// on hold: its `On hold` status;
    /// resolved or closed: its first `done` status with resolution `Done`; cancelled: its
    /// last `done` status with `Won't Do`.
    async fn set_ticket_state(&self, r: &TicketRef, state: TicketState) -> Result<()> {
        let mut s = self.lock();
        let i = find(&s, r)?;
        let wf = s.workflow_of(&s.issues[i].issue_type);
        let pick = |cat: &str, last: bool| {
            let mut it = wf.statuses.iter().filter(|st| st.category == cat);
            if last { it.next_back() } else { it.next() }.map(|st| st.id.to_owned())
        };
        let (status, resolution) = match state {
            TicketState::New => (pick("new", false), None),
            TicketState::InProgress | TicketState::Reopened => (pick("indeterminate", false), None),
            // A status of its own, so the change is seen even in the same second.
            TicketState::OnHold => (
                wf.statuses
                    .iter()
                    .find(|st| st.name == "On hold")
                    .map(|st| st.id.to_owned()),
                None,
            ),
            TicketState::Resolved | TicketState::Closed => (pick("done", false), Some("Done")),
            TicketState::Cancelled => (pick("done", true), Some("Won't Do")),
            _ => return Err(Error::invalid_input(format!("no Jira status for {state}"))),
        };
        let status =
            status.ok_or_else(|| Error::invalid_input("the workflow has no such status"))?;
        let row = &mut s.issues[i];
        row.status = status;
        row.resolution = resolution.map(str::to_owned);
        s.touch(i);
        Ok(())
    }

    /// Every write then stamps `at` (Jira keeps milliseconds; the mock whole seconds).
    fn freeze_clock(&self, at: Option<SystemTime>) -> bool {
        let ms = at.map(|t| {
            let since = t.duration_since(UNIX_EPOCH).unwrap_or_default();
            // Whole seconds, as the mock's clock keeps them.
            since.as_secs() * 1000
        });
        self.lock().frozen_ms = ms;
        true
    }

    /// A public comment by Jane Doe, the mock's first user.
    async fn add_person_comment(&self, r: &TicketRef, body: &str) -> Result<bool> {
        let mut s = self.lock();
        let i = find(&s, r)?;
        let body = match s.mode {
            Mode::Cloud => super::adf_text(body),
            Mode::DataCenter => serde_json::json!(body),
        };
        s.push_comment(i, body, false, Some(0));
        Ok(true)
    }

    /// The fields of the mock's create screens (the same for every issue type).
    fn ticket_fields(&self, _kind: &TicketKind) -> Option<Vec<String>> {
        Some(
            super::create_fields()
                .iter()
                .filter_map(|f| f.get("fieldId").and_then(Value::as_str).map(str::to_owned))
                .collect(),
        )
    }

    async fn count_with_correlation(&self, id: &CorrelationId) -> Result<usize> {
        let s = self.lock();
        let suffix = format!("-{id}");
        // A label ending in `-<id>`, or a custom field holding the id.
        Ok(s.issues
            .iter()
            .filter(|i| {
                i.labels.iter().any(|l| l.ends_with(&suffix))
                    || i.extra.iter().any(|(k, v)| {
                        k.starts_with("customfield_") && v.as_str() == Some(id.as_str())
                    })
            })
            .count())
    }

    async fn comments(&self, r: &TicketRef) -> Result<Vec<Comment>> {
        let s = self.lock();
        let i = find(&s, r)?;
        Ok(s.issues[i]
            .comments
            .iter()
            .map(|c| {
                if c.internal {
                    Comment::internal(text(&c.body))
                } else {
                    Comment::public(text(&c.body))
                }
            })
            .collect())
    }

    fn requests_seen(&self) -> usize {
        self.log.len()
    }

    fn faults(&self) -> Option<&FaultPlan> {
        Some(&self.faults)
    }

    fn drops_connections(&self) -> bool {
        self.proxy.is_some()
    }

    /// Issues are created with `POST …/rest/api/{v}/issue`, and changes and requests —
    /// JSM requests in the mock's settings — with `POST /rest/servicedeskapi/request`;
    /// comments with `POST …/comment`.
    fn fault_route(&self, op: FaultOp) -> Option<FaultMatcher> {
        let v = self.lock().version();
        match op {
            FaultOp::CreateTicket(TicketKind::Change | TicketKind::Request) => {
                Some(FaultMatcher::method("POST").and_path_suffix("/rest/servicedeskapi/request"))
            }
            FaultOp::CreateTicket(_) => {
                Some(FaultMatcher::method("POST").and_path_suffix(&format!("/rest/api/{v}/issue")))
            }
            FaultOp::AddComment => Some(FaultMatcher::method("POST").and_path_suffix("/comment")),
        }
    }
}

#[async_trait]
impl AccountBackend for JiraMock {
    async fn account_count(&self) -> Result<usize> {
        let s = self.lock();
        Ok(s.users
            .iter()
            .flatten()
            .filter(|u| s.mode == Mode::DataCenter || u.account_type == "atlassian")
            .count())
    }

    async fn holds(&self, account: &AccountId, e: &EntitlementRef) -> Result<bool> {
        let s = self.lock();
        if e.ty.as_str() != "group" {
            return Err(Error::invalid_input(format!(
                "Jira entitlements are groups, not {}",
                e.ty
            )));
        }
        let g = s
            .groups
            .iter()
            .find(|g| g.id == e.id.as_str() || g.name == e.id.as_str())
            .ok_or_else(|| Error::not_found(format!("group {}", e.id)))?;
        Ok(g.members.iter().any(|m| m == account.as_str()))
    }

    fn requests_seen(&self) -> usize {
        self.log.len()
    }

    fn faults(&self) -> Option<&FaultPlan> {
        Some(&self.faults)
    }

    /// The fields `GET user` shows (Cloud: account id, type, display name, e-mail,
    /// active, time zone; Data Center: name and key instead of the account id and type).
    fn account_fields(&self) -> Option<Vec<String>> {
        let s = self.lock();
        let fields: &[&str] = match s.mode {
            Mode::Cloud => &[
                "accountId",
                "accountType",
                "displayName",
                "emailAddress",
                "active",
                "timeZone",
            ],
            Mode::DataCenter => &[
                "name",
                "key",
                "displayName",
                "emailAddress",
                "active",
                "timeZone",
            ],
        };
        Some(fields.iter().map(|f| (*f).to_owned()).collect())
    }

    /// OAuth: every access token is dropped, so the next request renews with the
    /// (rotating) refresh token. Basic and personal access tokens do not expire here.
    fn expire_credentials(&self) -> bool {
        let mut s = self.lock();
        if s.auth == super::AuthMode::OAuth {
            s.access_tokens.clear();
            true
        } else {
            false
        }
    }
}
