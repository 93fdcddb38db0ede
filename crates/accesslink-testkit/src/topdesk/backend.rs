//! [`TicketBackend`] and [`AccountBackend`] over the mock's own state, for the
//! conformance suite.
//!
//! Conventions (what the TOPdesk connector is assumed to do): a ticket reference names an
//! incident by its UUID (`TicketRef.id`) or number; the correlation id travels in
//! `externalNumber`; an account is `operator:<uuid>` or `person:<uuid>`; entitlements are
//! `operator_group` (a group UUID) held through operator-group membership.

use std::time::SystemTime;

use accesslink_core::{
    AccountId, Comment, CorrelationId, EntitlementRef, Error, Result, TicketKind, TicketRef,
    TicketState,
};
use async_trait::async_trait;
use serde_json::Value;

use super::TopdeskMock;
use crate::conformance::{AccountBackend, FaultOp, TicketBackend};
use crate::fault::{FaultMatcher, FaultPlan};

/// Digits of a number, so `I 2612 001` and `I2612-001` compare equal.
fn digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

impl TopdeskMock {
    fn incident_index(&self, r: &TicketRef) -> Result<usize> {
        let state = self.lock();
        let found = state.incidents.iter().position(|i| {
            r.id().is_some_and(|id| id.eq_ignore_ascii_case(&i.id))
                || r.number().is_some_and(|n| digits(n) == digits(&i.number))
        });
        found.ok_or_else(|| Error::not_found(format!("incident {r}")))
    }
}

#[async_trait]
impl TicketBackend for TopdeskMock {
    /// Incident searches then answer every incident, whatever their FIQL query asks.
    fn ignore_search_filters(&self, on: bool) -> bool {
        self.lock().unfiltered = on;
        true
    }

    /// New, InProgress, Reopened → flags cleared, "In progress"; OnHold → "Waiting for
    /// user"; Resolved → `completed`; Closed → `completed` + `closed` (Solved);
    /// Cancelled → closed with closure code Withdrawn.
    async fn set_ticket_state(&self, r: &TicketRef, state: TicketState) -> Result<()> {
        let at = self.incident_index(r)?;
        let mut s = self.lock();
        let i = &mut s.incidents[at];
        let (ps, hold, completed, closed, code) = match state {
            TicketState::New | TicketState::InProgress | TicketState::Reopened => {
                ("In progress", false, false, false, None)
            }
            TicketState::OnHold => ("Waiting for user", true, false, false, None),
            TicketState::Resolved => ("Completed", false, true, false, Some("Solved")),
            TicketState::Closed => ("Closed", false, true, true, Some("Solved")),
            TicketState::Cancelled => ("Closed", false, true, true, Some("Withdrawn")),
            other => {
                return Err(Error::invalid_input(format!(
                    "no TOPdesk state for {other}"
                )));
            }
        };
        i.processing_status = ps.into();
        i.on_hold = hold;
        i.completed = completed;
        i.closed = closed;
        i.closure_code = code.map(str::to_owned);
        s.touch(at);
        Ok(())
    }

    fn freeze_clock(&self, at: Option<SystemTime>) -> bool {
        TopdeskMock::freeze_clock(self, at);
        true
    }

    /// A visible progress-trail entry written by the incident's caller (or a person
    /// "Caller, A." when it has none).
    async fn add_person_comment(&self, r: &TicketRef, body: &str) -> Result<bool> {
        let at = self.incident_index(r)?;
        let mut s = self.lock();
        let person = s.incidents[at]
            .caller
            .as_ref()
            .and_then(|c| {
                let id = c.get("id")?.as_str()?.to_owned();
                let name = c
                    .get("dynamicName")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned();
                Some((id, name))
            })
            .unwrap_or_else(|| {
                (
                    "7d0c0002-0002-4000-8000-0000000ca11e".into(),
                    "Caller, A.".into(),
                )
            });
        let mut e = s.entry(body, false, None);
        e.person = Some(person);
        s.incidents[at].actions.push(e);
        s.touch(at);
        Ok(true)
    }

    /// The keys of an incident as `GET /incidents/id/{id}` prints it.
    fn ticket_fields(&self, kind: &TicketKind) -> Option<Vec<String>> {
        if !matches!(kind, TicketKind::Incident) {
            return None;
        }
        let s = self.lock();
        let sample = s.sample_incident();
        match s.incident_json(&sample) {
            Value::Object(m) => Some(m.keys().cloned().collect()),
            _ => None,
        }
    }

    async fn count_with_correlation(&self, id: &CorrelationId) -> Result<usize> {
        let state = self.lock();
        Ok(state
            .incidents
            .iter()
            .filter(|i| i.external_number == id.as_str())
            .count())
    }

    /// Actions in order: invisible for the caller are internal, the others public.
    async fn comments(&self, r: &TicketRef) -> Result<Vec<Comment>> {
        let at = self.incident_index(r)?;
        let state = self.lock();
        Ok(state.incidents[at]
            .actions
            .iter()
            .map(|e| {
                if e.invisible {
                    Comment::internal(e.text.clone())
                } else {
                    Comment::public(e.text.clone())
                }
            })
            .collect())
    }

    fn requests_seen(&self) -> usize {
        self.requests()
    }

    fn faults(&self) -> Option<&FaultPlan> {
        Some(&self.faults)
    }

    fn drops_connections(&self) -> bool {
        self.proxy.is_some()
    }

    fn fault_route(&self, op: FaultOp) -> Option<FaultMatcher> {
        match op {
            FaultOp::CreateTicket(TicketKind::Incident | TicketKind::Request) => {
                Some(FaultMatcher::method("POST").and_path_suffix("/tas/api/incidents"))
            }
            FaultOp::AddComment => Some(FaultMatcher::route("PATCH", "/tas/api/incidents/id/")),
            _ => None,
        }
    }
}

#[async_trait]
impl AccountBackend for TopdeskMock {
    async fn account_count(&self) -> Result<usize> {
        Ok(TopdeskMock::account_count(self))
    }

    async fn holds(&self, account: &AccountId, e: &EntitlementRef) -> Result<bool> {
        let permission = match e.ty.as_str() {
            "operator_group" => false,
            "permission_group" => true,
            other => {
                return Err(Error::invalid_input(format!(
                    "TOPdesk entitlements are operator_group or permission_group, not {other}"
                )));
            }
        };
        let Some(id) = account.as_str().strip_prefix("operator:") else {
            return Ok(false);
        };
        let state = self.lock();
        let op = state
            .operators
            .iter()
            .find(|o| o.id.eq_ignore_ascii_case(id))
            .ok_or_else(|| Error::not_found(format!("TOPdesk operator {account}")))?;
        let held = if permission {
            &op.permission_groups
        } else {
            &op.groups
        };
        Ok(held.iter().any(|g| g.eq_ignore_ascii_case(e.id.as_str())))
    }

    /// The keys of persons and operators as the API prints them, and `password`
    /// (written, never printed).
    fn account_fields(&self) -> Option<Vec<String>> {
        let s = self.lock();
        let sample = s.sample_account();
        let mut keys = std::collections::BTreeSet::new();
        for v in [s.person_json(&sample), s.operator_json(&sample)] {
            if let Value::Object(m) = v {
                keys.extend(m.keys().cloned());
            }
        }
        keys.insert("password".to_owned());
        Some(keys.into_iter().collect())
    }

    async fn password_is(&self, account: &AccountId, password: &str) -> Result<Option<bool>> {
        let id = account
            .as_str()
            .split_once(':')
            .map_or(account.as_str(), |(_, id)| id);
        TopdeskMock::password_is(self, id, password)
            .map(Some)
            .ok_or_else(|| Error::not_found(format!("TOPdesk account {account}")))
    }

    fn requests_seen(&self) -> usize {
        self.requests()
    }

    fn faults(&self) -> Option<&FaultPlan> {
        Some(&self.faults)
    }

    /// Application passwords are not sessions: nothing expires mid-import.
    fn expire_credentials(&self) -> bool {
        false
    }
}
