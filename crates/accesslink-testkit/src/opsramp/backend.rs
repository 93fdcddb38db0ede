//! [`AccountBackend`] over the mock's own state, for the conformance suite.
//!
//! Conventions (what the OpsRamp connector is assumed to do): an account is a user named
//! by its `USR…` id; entitlements are `role` (a role `uniqueId`) and `group` (a user group
//! `uniqueId`).

use accesslink_core::{AccountId, EntitlementRef, Error, Result, TicketKind};
use async_trait::async_trait;

use super::OpsRampMock;
use crate::conformance::{AccountBackend, FaultOp};
use crate::fault::{FaultMatcher, FaultPlan};

#[async_trait]
impl AccountBackend for OpsRampMock {
    /// The users' `totalResults` then counts `extra` users more than the tenant holds
    /// (pages and `nextPage` stay true to the users held).
    fn inflate_reported_total(&self, extra: usize) -> bool {
        self.with_tenant(|t| t.total_bias = extra);
        true
    }

    /// Live users of the main tenant (terminated ones are gone).
    async fn account_count(&self) -> Result<usize> {
        Ok(self.user_count())
    }

    async fn holds(&self, account: &AccountId, e: &EntitlementRef) -> Result<bool> {
        if !self.has_user(account.as_str()) {
            return Err(Error::not_found(format!("account {account}")));
        }
        let id = e.id.as_str().to_owned();
        match e.ty.as_str() {
            "role" => Ok(self.user_roles(account.as_str()).contains(&id)),
            "group" => Ok(self.user_groups(account.as_str()).contains(&id)),
            other => Err(Error::invalid_input(format!(
                "no OpsRamp entitlement type {other}"
            ))),
        }
    }

    fn requests_seen(&self) -> usize {
        self.counter.total()
    }

    fn faults(&self) -> Option<&FaultPlan> {
        Some(&self.faults)
    }

    fn expire_credentials(&self) -> bool {
        self.expire_tokens();
        true
    }

    /// What `GET users/{id}` shows: the minimal fields, the stored extras and the
    /// defaults the mock fills in.
    fn account_fields(&self) -> Option<Vec<String>> {
        let base = [
            "id",
            "loginName",
            "firstName",
            "lastName",
            "email",
            "status",
            "roles",
            "userGroups",
            "createdTime",
            "updatedTime",
        ];
        Some(
            base.iter()
                .chain(super::users::EXTRA_FIELDS)
                .map(|f| (*f).to_owned())
                .collect(),
        )
    }

    /// The password last sent on create or update.
    async fn password_is(&self, account: &AccountId, password: &str) -> Result<Option<bool>> {
        if !self.has_user(account.as_str()) {
            return Err(Error::not_found(format!("account {account}")));
        }
        Ok(Some(
            self.password_matches(account.as_str(), password)
                .unwrap_or(false),
        ))
    }
}

/// Tickets: a reference names a ticket by `id` or `number` (`INC…`, `SRQ…`); comments
/// are its responses, `internal` ones internal; the correlation id is `extTicketId`.
#[async_trait]
impl crate::conformance::TicketBackend for OpsRampMock {
    /// Ticket searches then answer every ticket of the kind in the creation window,
    /// whatever `queryString` asks.
    fn ignore_search_filters(&self, on: bool) -> bool {
        self.with_tenant(|t| t.unfiltered = on);
        true
    }

    /// New → New, InProgress and Reopened → Open, OnHold → On Hold, Resolved → Resolved,
    /// Closed and Cancelled → Closed.
    async fn set_ticket_state(
        &self,
        r: &accesslink_core::TicketRef,
        state: accesslink_core::TicketState,
    ) -> Result<()> {
        use accesslink_core::TicketState as S;
        let status = match state {
            S::New => "New",
            S::InProgress | S::Reopened => "Open",
            S::OnHold => "On Hold",
            S::Resolved => "Resolved",
            S::Closed | S::Cancelled => "Closed",
            other => {
                return Err(Error::invalid_input(format!(
                    "no OpsRamp status for {other}"
                )));
            }
        };
        let id = r.id().or(r.number()).unwrap_or("");
        if self.set_ticket_status(id, status) {
            Ok(())
        } else {
            Err(Error::not_found(format!("ticket {r}")))
        }
    }

    /// Every ticket write then stamps `at` (OpsRamp shows seconds).
    fn freeze_clock(&self, at: Option<std::time::SystemTime>) -> bool {
        self.freeze_ticket_clock(at);
        true
    }

    /// A public response by `USR0000000001` (`jdoe`).
    async fn add_person_comment(&self, r: &accesslink_core::TicketRef, body: &str) -> Result<bool> {
        let id = r.id().or(r.number()).unwrap_or("");
        if self.add_response_by(id, "USR0000000001", "jdoe", body) {
            Ok(true)
        } else {
            Err(Error::not_found(format!("ticket {r}")))
        }
    }

    /// The create fields the mock accepts and the fields it adds to every ticket.
    fn ticket_fields(&self, _kind: &TicketKind) -> Option<Vec<String>> {
        Some(
            [
                "subject",
                "description",
                "priority",
                "requester",
                "assignedUser",
                "assigneeGroup",
                "category",
                "subCategory",
                "extTicketId",
                "id",
                "status",
                "oldStatus",
                "createdDate",
                "updatedDate",
                "source",
                "allowedStatus",
                "statusReason",
            ]
            .map(str::to_owned)
            .to_vec(),
        )
    }

    async fn count_with_correlation(&self, id: &accesslink_core::CorrelationId) -> Result<usize> {
        Ok(self.tickets_with_ext_id(id.as_str()))
    }

    async fn comments(
        &self,
        r: &accesslink_core::TicketRef,
    ) -> Result<Vec<accesslink_core::Comment>> {
        let id = r.id().or(r.number()).unwrap_or("");
        if self.ticket(id).is_none() {
            return Err(Error::not_found(format!("ticket {r}")));
        }
        Ok(self
            .ticket_responses(id)
            .into_iter()
            .map(|(text, internal)| {
                if internal {
                    accesslink_core::Comment::internal(text)
                } else {
                    accesslink_core::Comment::public(text)
                }
            })
            .collect())
    }

    fn requests_seen(&self) -> usize {
        self.counter.total()
    }

    fn faults(&self) -> Option<&FaultPlan> {
        Some(&self.faults)
    }

    fn drops_connections(&self) -> bool {
        self.proxy.is_some()
    }

    /// An incident is created with `POST …/incidents`, any other kind with
    /// `POST …/serviceRequests`; a comment is `POST …/responses`.
    fn fault_route(&self, op: FaultOp) -> Option<FaultMatcher> {
        let create = FaultMatcher::method("POST");
        match op {
            FaultOp::CreateTicket(TicketKind::Incident) => {
                Some(create.and_path_suffix("/incidents"))
            }
            FaultOp::CreateTicket(_) => Some(create.and_path_suffix("/serviceRequests")),
            FaultOp::AddComment => Some(FaultMatcher::method("POST").and_path_suffix("/responses")),
        }
    }
}
