//! [`TicketBackend`] and [`AccountBackend`] over the mock's own state, for the
//! conformance suite.
//!
//! Conventions (what the ServiceNow connector is assumed to do):
//! - a ticket reference is a sys_id (`TicketRef.id`, found in any task table) or a number
//!   (`TicketRef.number`, routed by its prefix, longest first: `PRJTASK` before `PRJ`);
//!   `scope`, when it names a table, narrows the search to it;
//! - the correlation id is stored in the task's `correlation_id` field;
//! - comments are journal entries: `comments` public, `work_notes` internal;
//! - an account is a `sys_user`, named by sys_id or `user_name`; entitlements are `group`
//!   (`sys_user_grmember`) and `role` (`sys_user_has_role`), named by the group's or role's
//!   sys_id (or its `name`).

use accesslink_core::{
    AccountId, Comment, CorrelationId, EntitlementRef, Error, Result, TicketRef, TicketState,
};
use async_trait::async_trait;
use serde_json::json;

use super::ServiceNowMock;
use super::schema::{self, TABLES};
use super::state::{State, is_sys_id, text};
use crate::conformance::{AccountBackend, FaultOp, TicketBackend};
use crate::fault::{FaultMatcher, FaultPlan};

/// The table and sys_id a reference names.
fn resolve_ticket(state: &State, r: &TicketRef) -> Result<(&'static str, String)> {
    let scope = r.scope().and_then(schema::table).map_or("task", |d| d.name);
    if let Some(id) = r.id().filter(|id| is_sys_id(id)) {
        if let Some((real, _)) = state.get(scope, id) {
            return Ok((real, id.to_owned()));
        }
    }
    let number = r.number().or(r.id()).unwrap_or("").trim();
    // Longest prefix first, so PRJTASK is not read as PRJ nor SCTASK as TASK.
    let mut by_prefix: Vec<_> = TABLES
        .iter()
        .filter_map(|d| d.number.map(|(p, _)| (p, d.name)))
        .collect();
    by_prefix.sort_by_key(|(p, _)| std::cmp::Reverse(p.len()));
    let table = by_prefix
        .iter()
        .find(|(p, _)| {
            number
                .strip_prefix(p)
                .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
        })
        .map(|(_, t)| *t);
    let found = table.and_then(|t| {
        state
            .map(t)?
            .iter()
            .find_map(|(id, row)| (text(row, "number") == number).then(|| (t, id.clone())))
    });
    found.ok_or_else(|| Error::not_found(format!("ticket {r}")))
}

/// The native `state` for a ticket state in `table`.
fn native_state(table: &str, state: TicketState) -> Option<&'static str> {
    use TicketState as S;
    Some(match (table, state) {
        ("incident", S::New) => "1",
        ("incident", S::InProgress | S::Reopened) => "2",
        ("incident", S::OnHold) => "3",
        ("incident", S::Resolved) => "6",
        ("incident", S::Closed) => "7",
        ("incident", S::Cancelled) => "8",
        ("change_request", S::New) => "-5",
        ("change_request", S::InProgress | S::Reopened | S::OnHold) => "-1",
        ("change_request", S::Resolved | S::Closed) => "3",
        ("change_request", S::Cancelled) => "4",
        ("problem", S::New) => "101",
        ("problem", S::InProgress | S::Reopened) => "104",
        ("problem", S::OnHold) => "103",
        ("problem", S::Resolved) => "106",
        ("problem", S::Closed | S::Cancelled) => "107",
        (_, S::New) => "1",
        (_, S::InProgress | S::Reopened) => "2",
        (_, S::OnHold) => "-5",
        (_, S::Resolved | S::Closed) => "3",
        (_, S::Cancelled) => "4",
        _ => return None,
    })
}

#[async_trait]
impl TicketBackend for ServiceNowMock {
    /// Listings then answer every row of the table, whatever `sysparm_query` asks.
    fn ignore_search_filters(&self, on: bool) -> bool {
        self.state().unfiltered = on;
        true
    }

    /// Incident 1/2/3/6/7/8; change request -5/-1 (on hold: `on_hold` "true")/3/4;
    /// problem 101/104/103/106/107; other task tables 1/2/-5/3/4. Resolving an incident
    /// fills `close_code` and `close_notes` as the agent would.
    async fn set_ticket_state(&self, r: &TicketRef, state: TicketState) -> Result<()> {
        let (table, id) = resolve_ticket(&self.state(), r)?;
        let value = native_state(table, state)
            .ok_or_else(|| Error::invalid_input(format!("no {table} state for {state}")))?;
        let mut patch = json!({ "state": value });
        if table == "change_request" {
            patch["on_hold"] = json!(if state == TicketState::OnHold {
                "true"
            } else {
                "false"
            });
        }
        if table == "incident" && matches!(value, "6" | "7") {
            let row = self.row(table, &id).unwrap_or_default();
            if row["close_code"].as_str().unwrap_or("").is_empty() {
                patch["close_code"] = json!("Solution provided");
            }
            if row["close_notes"].as_str().unwrap_or("").is_empty() {
                patch["close_notes"] = json!("Resolved by an agent");
            }
        }
        if self.update(table, &id, patch) {
            Ok(())
        } else {
            Err(Error::not_found(format!("ticket {r}")))
        }
    }

    /// Rows of every task table whose `correlation_id` is the id.
    async fn count_with_correlation(&self, id: &CorrelationId) -> Result<usize> {
        let state = self.state();
        let count = state
            .scan("task")
            .filter(|row| text(row, "correlation_id") == id.as_str())
            .count();
        Ok(count)
    }

    /// The ticket's journal, oldest first: `comments` public, `work_notes` internal.
    async fn comments(&self, r: &TicketRef) -> Result<Vec<Comment>> {
        let (_, id) = resolve_ticket(&self.state(), r)?;
        let comments = self.journal(&id).into_iter().map(|(element, value)| {
            if element == "work_notes" {
                Comment::internal(value)
            } else {
                Comment::public(value)
            }
        });
        Ok(comments.collect())
    }

    /// Writes then stamp `sys_updated_on` (and journal `sys_created_on`) with that second.
    fn freeze_clock(&self, at: Option<std::time::SystemTime>) -> bool {
        self.state().frozen =
            at.map(|t| accesslink_core::time::format_rfc3339_millis(t)[..19].replacen('T', " ", 1));
        true
    }

    /// A `comments` journal entry written by `beth.anderson` in the UI (which also
    /// stamps the ticket's `sys_updated_on`).
    async fn add_person_comment(&self, r: &TicketRef, body: &str) -> Result<bool> {
        let mut state = self.state();
        let (table, id) = resolve_ticket(&state, r)?;
        state.add_journal_by(&id, table, "comments", body, "beth.anderson");
        let stamp = state.clock();
        if let Some(row) = state.map_mut(table).and_then(|m| m.get_mut(&id)) {
            row.insert("sys_updated_on".into(), json!(stamp));
        }
        Ok(true)
    }

    /// Every column of the kind's table (task columns included).
    fn ticket_fields(&self, kind: &accesslink_core::TicketKind) -> Option<Vec<String>> {
        use accesslink_core::TicketKind as K;
        let table = match kind {
            K::Incident => "incident",
            K::Change => "change_request",
            K::ChangeTask => "change_task",
            K::Request => "sc_request",
            K::RequestItem => "sc_req_item",
            K::Problem => "problem",
            K::Project => "pm_project",
            K::ProjectTask => "pm_project_task",
            K::Task => "task",
            _ => return None,
        };
        let def = super::schema::table(table)?;
        Some(def.all_fields().iter().map(|f| (*f).to_owned()).collect())
    }

    fn requests_seen(&self) -> usize {
        self.log().len()
    }

    fn faults(&self) -> Option<&FaultPlan> {
        Some(&self.shared.faults)
    }

    fn drops_connections(&self) -> bool {
        self.proxy.is_some()
    }

    /// Every kind is created with `POST /api/now/table/<table>`, and a comment is a
    /// `PATCH` of the record's `comments` or `work_notes`.
    fn fault_route(&self, op: FaultOp) -> Option<FaultMatcher> {
        match op {
            FaultOp::CreateTicket(_) => Some(FaultMatcher::route("POST", "/api/now/table/")),
            FaultOp::AddComment => Some(FaultMatcher::route("PATCH", "/api/now/table/")),
        }
    }
}

/// The sys_id of the user an account id names (sys_id or `user_name`).
fn resolve_account(state: &State, account: &AccountId) -> Option<String> {
    let raw = account.as_str();
    if is_sys_id(raw) && state.get("sys_user", raw).is_some() {
        return Some(raw.to_owned());
    }
    state.user_by_name(raw)
}

#[async_trait]
impl AccountBackend for ServiceNowMock {
    /// `X-Total-Count` then counts `extra` rows more than the table holds.
    fn inflate_reported_total(&self, extra: usize) -> bool {
        self.state().total_bias = extra;
        true
    }

    /// Users the connector can list: every `sys_user` row not hidden by ACL.
    async fn account_count(&self) -> Result<usize> {
        let state = self.state();
        let hidden = state
            .hidden
            .iter()
            .filter(|id| state.get("sys_user", id).is_some())
            .count();
        Ok(state.len("sys_user") - hidden)
    }

    /// The `sys_id` of every `sys_user` row not hidden by ACL.
    async fn account_ids(&self) -> Result<Option<Vec<String>>> {
        let state = self.state();
        let ids = state
            .scan("sys_user")
            .map(|r| super::state::text(&r, "sys_id").to_owned())
            .filter(|id| !state.hidden.contains(id))
            .collect();
        Ok(Some(ids))
    }

    /// Listings then drop their `sys_id>=` / `sys_id<` conditions (the keyset
    /// `sys_id>` still holds).
    fn ignore_key_ranges(&self, on: bool) -> bool {
        self.state().ignore_ranges = on;
        true
    }

    async fn holds(&self, account: &AccountId, e: &EntitlementRef) -> Result<bool> {
        let state = self.state();
        let user = resolve_account(&state, account)
            .ok_or_else(|| Error::not_found(format!("account {account}")))?;
        let (link, field, target) = match e.ty.as_str() {
            "group" => ("sys_user_grmember", "group", "sys_user_group"),
            "role" => ("sys_user_has_role", "role", "sys_user_role"),
            other => {
                return Err(Error::invalid_input(format!(
                    "no ServiceNow entitlement type {other}"
                )));
            }
        };
        let wanted = e.id.as_str();
        // The entitlement by sys_id, else by name.
        let target_id = if state.get(target, wanted).is_some() {
            Some(wanted.to_owned())
        } else {
            state.map(target).and_then(|m| {
                m.iter()
                    .find_map(|(id, r)| (text(r, "name") == wanted).then(|| id.clone()))
            })
        };
        let Some(target_id) = target_id else {
            return Ok(false);
        };
        let held = state.map(link).is_some_and(|m| {
            m.values()
                .any(|r| text(r, "user") == user && text(r, field) == target_id)
        });
        Ok(held)
    }

    fn requests_seen(&self) -> usize {
        self.log().len()
    }

    fn faults(&self) -> Option<&FaultPlan> {
        Some(&self.shared.faults)
    }

    /// Every `sys_user` column.
    fn account_fields(&self) -> Option<Vec<String>> {
        let def = super::schema::table("sys_user")?;
        Some(def.all_fields().iter().map(|f| (*f).to_owned()).collect())
    }

    /// Whether `user_password` was last set to `password` as clear text the instance
    /// hashed (`sysparm_input_display_value=true`).
    async fn password_is(&self, account: &AccountId, password: &str) -> Result<Option<bool>> {
        let state = self.state();
        let user = resolve_account(&state, account)
            .ok_or_else(|| Error::not_found(format!("account {account}")))?;
        Ok(Some(
            state.passwords.get(&user).map(String::as_str) == Some(password),
        ))
    }

    fn expire_credentials(&self) -> bool {
        // Basic auth has no session to expire; OAuth tokens do.
        self.expire_tokens();
        true
    }
}
