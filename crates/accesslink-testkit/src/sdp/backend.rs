//! [`TicketBackend`] over the mock's state, for the conformance suite.
//!
//! Conventions: a reference's scope `change` names a change, anything else a request; its
//! number is the display id and its id the internal id; the correlation id is a UDF value
//! or the subject/title tag `[…:<id>]`; public comments are notes shown to the requester.

use accesslink_core::{
    AccountId, Comment, CorrelationId, EntitlementRef, Error, Result, TicketKind, TicketRef,
    TicketState,
};
use async_trait::async_trait;
use serde_json::json;
use std::time::{SystemTime, UNIX_EPOCH};

use super::{SdpMock, State};
use crate::conformance::{AccountBackend, FaultOp, TicketBackend};
use crate::fault::{FaultMatcher, FaultPlan};

fn find(s: &State, r: &TicketRef) -> Result<(bool, usize)> {
    let change = r.scope() == Some("change");
    s.rows(change)
        .iter()
        .position(|row| {
            r.id().is_some_and(|id| id == row.id)
                || r.number()
                    .is_some_and(|n| n.trim_start_matches("CH-") == row.display_id)
        })
        .map(|i| (change, i))
        .ok_or_else(|| Error::not_found(format!("sdp ticket {r}")))
}

#[async_trait]
impl TicketBackend for SdpMock {
    /// Requests: Open (new), In Progress, On Hold, Resolved, Closed, Canceled. Changes:
    /// Submission/Requested, Implementation/In Progress, Implementation/On Hold,
    /// Close/Completed, Close/Canceled. Stamps the update time.
    async fn set_ticket_state(&self, r: &TicketRef, state: TicketState) -> Result<()> {
        let mut s = self.lock();
        let (change, i) = find(&s, r)?;
        let now = s.now();
        let row = &mut s.rows_mut(change)[i];
        row.updated = now;
        let (stage, status) = match (change, state) {
            (false, TicketState::New) => (None, "Open"),
            // A custom status, as instances add: `in_progress` true, so in progress.
            (false, TicketState::InProgress | TicketState::Reopened) => (None, "In Progress"),
            (false, TicketState::OnHold) => (None, "On Hold"),
            (false, TicketState::Resolved) => (None, "Resolved"),
            (false, TicketState::Closed) => (None, "Closed"),
            (false, TicketState::Cancelled) => (None, "Canceled"),
            (true, TicketState::New) => (Some("Submission"), "Requested"),
            (true, TicketState::InProgress | TicketState::Reopened) => {
                (Some("Implementation"), "In Progress")
            }
            (true, TicketState::OnHold) => (Some("Implementation"), "On Hold"),
            (true, TicketState::Resolved | TicketState::Closed) => (Some("Close"), "Completed"),
            (true, TicketState::Cancelled) => (Some("Close"), "Canceled"),
            _ => return Err(Error::invalid_input(format!("no SDP status for {state}"))),
        };
        row.status = status.to_owned();
        if let Some(stage) = stage {
            row.stage = Some(stage.to_owned());
        }
        Ok(())
    }

    async fn count_with_correlation(&self, id: &CorrelationId) -> Result<usize> {
        let s = self.lock();
        let tag = format!(":{id}]");
        Ok(s.requests
            .iter()
            .chain(s.changes.iter())
            .filter(|r| {
                r.title.contains(&tag) || r.udf.values().any(|v| v.as_str() == Some(id.as_str()))
            })
            .count())
    }

    async fn comments(&self, r: &TicketRef) -> Result<Vec<Comment>> {
        let s = self.lock();
        let (change, i) = find(&s, r)?;
        Ok(s.rows(change)[i]
            .notes
            .iter()
            .map(|n| {
                if n.public {
                    Comment::public(n.text.clone())
                } else {
                    Comment::internal(n.text.clone())
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

    /// Creates are `POST …/requests` or `POST …/changes`; comments `POST …/notes`.
    fn fault_route(&self, op: FaultOp) -> Option<FaultMatcher> {
        match op {
            FaultOp::CreateTicket(TicketKind::Change) => {
                Some(FaultMatcher::method("POST").and_path_suffix("/changes"))
            }
            FaultOp::CreateTicket(_) => {
                Some(FaultMatcher::method("POST").and_path_suffix("/requests"))
            }
            FaultOp::AddComment => Some(FaultMatcher::method("POST").and_path_suffix("/notes")),
        }
    }

    fn ignore_search_filters(&self, on: bool) -> bool {
        self.lock().ignore_filters = on;
        true
    }

    /// Every write stamps `last_updated_time` with the frozen time.
    fn freeze_clock(&self, at: Option<SystemTime>) -> bool {
        self.lock().clock = at.map(|t| {
            u64::try_from(t.duration_since(UNIX_EPOCH).unwrap_or_default().as_millis())
                .unwrap_or(u64::MAX)
        });
        true
    }

    /// A public note by the requester Jane Doe, as if written in the self-service portal.
    async fn add_person_comment(&self, r: &TicketRef, body: &str) -> Result<bool> {
        let mut s = self.lock();
        let (change, i) = find(&s, r)?;
        let by = json!({"id": "5", "name": "Jane Doe", "email_id": "jane@example.com", "login_name": "jdoe"});
        super::routes::push_note_by(&mut s, change, i, body, true, false, by);
        Ok(true)
    }

    /// The keys a request or change answer carries.
    fn ticket_fields(&self, kind: &TicketKind) -> Option<Vec<String>> {
        let change = *kind == TicketKind::Change;
        let s = self.lock();
        let row = super::Row {
            stage: change.then(|| "Submission".to_owned()),
            ..super::Row::default()
        };
        super::routes::row_json(&s, &row, change)
            .as_object()
            .map(|o| o.keys().cloned().collect())
    }
}

#[async_trait]
impl AccountBackend for SdpMock {
    async fn account_count(&self) -> Result<usize> {
        Ok(self.lock().accounts().len())
    }

    /// Technicians: whether the support group (`group`) or role (`role`) is in the
    /// technician's list. Requesters have no memberships: every question is refused.
    async fn holds(&self, account: &AccountId, e: &EntitlementRef) -> Result<bool> {
        let s = self.lock();
        if !s.technician_accounts {
            return Err(Error::invalid_input(format!(
                "SDP requesters have no {} entitlements",
                e.ty
            )));
        }
        let t = s
            .technicians
            .iter()
            .find(|p| p.id == account.as_str())
            .ok_or_else(|| Error::not_found(format!("sdp technician {account}")))?;
        let list = match e.ty.as_str() {
            "group" => &t.groups,
            "role" => &t.roles,
            other => return Err(Error::invalid_input(format!("no {other} on technicians"))),
        };
        Ok(list.iter().any(|g| g == e.id.as_str()))
    }

    fn account_fields(&self) -> Option<Vec<String>> {
        let s = self.lock();
        Some(super::people::person_fields(&s, s.technician_accounts))
    }

    fn requests_seen(&self) -> usize {
        self.log.len()
    }

    fn faults(&self) -> Option<&FaultPlan> {
        Some(&self.faults)
    }

    /// Cloud: drops every access token. Technician keys do not expire here.
    fn expire_credentials(&self) -> bool {
        let mut s = self.lock();
        if s.deployment == super::Deployment::Cloud {
            s.access_tokens.clear();
            true
        } else {
            false
        }
    }

    fn inflate_reported_total(&self, extra: usize) -> bool {
        self.lock().inflate_total = extra;
        true
    }
}
