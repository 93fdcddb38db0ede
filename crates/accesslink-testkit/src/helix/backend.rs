//! [`TicketBackend`] over the mock's own state, for the conformance suite.
//!
//! Conventions: a ticket reference names an incident by its number; the correlation id
//! travels in `Vendor Ticket Number`; comments are `HPD:WorkLog` entries (`View Access`
//! `Internal` is internal).

use std::time::SystemTime;

use accesslink_core::{
    AccountId, Comment, CorrelationId, EntitlementRef, Error, Result, TicketKind, TicketRef,
    TicketState,
};
use async_trait::async_trait;
use serde_json::{Value, json};

use super::HelixMock;
use super::state::{HELP_DESK, PEOPLE, WORK_LOG};
use crate::conformance::{AccountBackend, FaultOp, TicketBackend};
use crate::fault::{FaultMatcher, FaultPlan};

impl HelixMock {
    fn number_of(r: &TicketRef) -> Result<String> {
        r.number()
            .map(str::to_owned)
            .ok_or_else(|| Error::invalid_input(format!("{r} has no number")))
    }
}

#[async_trait]
impl TicketBackend for HelixMock {
    /// New → `New`, InProgress/Reopened → `In Progress`, OnHold → `Pending`, Resolved →
    /// `Resolved`, Closed → `Closed`, Cancelled → `Cancelled`.
    async fn set_ticket_state(&self, r: &TicketRef, state: TicketState) -> Result<()> {
        let status = match state {
            TicketState::New => "New",
            TicketState::InProgress | TicketState::Reopened => "In Progress",
            TicketState::OnHold => "Pending",
            TicketState::Resolved => "Resolved",
            TicketState::Closed => "Closed",
            TicketState::Cancelled => "Cancelled",
            other => return Err(Error::invalid_input(format!("no Helix status for {other}"))),
        };
        let number = Self::number_of(r)?;
        if self.set_field(
            HELP_DESK,
            "Incident Number",
            &number,
            "Status",
            json!(status),
        ) {
            Ok(())
        } else {
            Err(Error::not_found(format!("incident {number}")))
        }
    }

    async fn count_with_correlation(&self, id: &CorrelationId) -> Result<usize> {
        Ok(self
            .entries(HELP_DESK)
            .iter()
            .filter(|r| {
                r.values.get("Vendor Ticket Number").and_then(Value::as_str) == Some(id.as_str())
            })
            .count())
    }

    async fn comments(&self, r: &TicketRef) -> Result<Vec<Comment>> {
        let number = Self::number_of(r)?;
        Ok(self
            .entries(WORK_LOG)
            .iter()
            .filter(|w| {
                w.values.get("Incident Number").and_then(Value::as_str) == Some(number.as_str())
            })
            .map(|w| {
                let text = w
                    .values
                    .get("Detailed Description")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned();
                if w.values.get("View Access").and_then(Value::as_str) == Some("Internal") {
                    Comment::internal(text)
                } else {
                    Comment::public(text)
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
            FaultOp::CreateTicket(TicketKind::Incident) => Some(
                FaultMatcher::method("POST").and_path_suffix("/entry/HPD:IncidentInterface_Create"),
            ),
            FaultOp::AddComment => {
                Some(FaultMatcher::method("POST").and_path_suffix("/entry/HPD:WorkLog"))
            }
            _ => None,
        }
    }

    fn ignore_search_filters(&self, on: bool) -> bool {
        self.lock().ignore_filters = on;
        true
    }

    fn freeze_clock(&self, at: Option<SystemTime>) -> bool {
        HelixMock::freeze_clock(self, at);
        true
    }

    /// An `HPD:WorkLog` entry, `Public`, submitted by `jdoe` as in the AR client.
    async fn add_person_comment(&self, r: &TicketRef, body: &str) -> Result<bool> {
        let number = Self::number_of(r)?;
        if self.incident(&number).is_none() {
            return Err(Error::not_found(format!("incident {number}")));
        }
        self.add_work_log(&number, body, "jdoe", "Public");
        Ok(true)
    }

    /// The fields the mock keeps on incidents it created through the interface form
    /// (the union over its `HPD:Help Desk` entries); other kinds: none kept.
    fn ticket_fields(&self, kind: &TicketKind) -> Option<Vec<String>> {
        if *kind != TicketKind::Incident {
            return None;
        }
        let mut out: Vec<String> = Vec::new();
        for r in self.entries(HELP_DESK) {
            for k in r.values.keys() {
                if !out.contains(k) {
                    out.push(k.clone());
                }
            }
        }
        Some(out)
    }
}

/// Accounts are `CTM:People` logins; entitlements are `support_group` ids held through
/// `CTM:Support Group Association` entries.
#[async_trait]
impl AccountBackend for HelixMock {
    async fn account_count(&self) -> Result<usize> {
        Ok(self.people_count())
    }

    /// The `Remedy Login ID` of every `CTM:People` entry.
    async fn account_ids(&self) -> Result<Option<Vec<String>>> {
        let logins = self
            .entries(PEOPLE)
            .iter()
            .filter_map(|r| r.values.get("Remedy Login ID")?.as_str().map(str::to_owned))
            .collect();
        Ok(Some(logins))
    }

    /// Searches then ignore their `>=` and `<` comparisons
    /// ([`set_ignore_ranges`](HelixMock::set_ignore_ranges)).
    fn ignore_key_ranges(&self, on: bool) -> bool {
        self.set_ignore_ranges(on);
        true
    }

    async fn holds(&self, account: &AccountId, e: &EntitlementRef) -> Result<bool> {
        if e.ty.as_str() != "support_group" {
            return Err(Error::invalid_input(format!(
                "Helix entitlements are support_group, not {}",
                e.ty
            )));
        }
        Ok(self
            .groups_of(account.as_str())
            .iter()
            .any(|g| g == e.id.as_str()))
    }

    fn requests_seen(&self) -> usize {
        self.requests()
    }

    fn faults(&self) -> Option<&FaultPlan> {
        Some(&self.faults)
    }

    fn expire_credentials(&self) -> bool {
        crate::mock::Mock::expire_credentials(self);
        true
    }

    /// The fields the mock keeps on `CTM:People` entries (the union over them).
    fn account_fields(&self) -> Option<Vec<String>> {
        let mut out: Vec<String> = Vec::new();
        for r in self.entries(PEOPLE) {
            for k in r.values.keys() {
                if !out.contains(k) {
                    out.push(k.clone());
                }
            }
        }
        Some(out)
    }
}
