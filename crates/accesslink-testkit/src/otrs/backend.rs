//! [`TicketBackend`] over the mock's own state, for the conformance suite.

use std::time::{SystemTime, UNIX_EPOCH};

use accesslink_core::{Comment, CorrelationId, Error, Result, TicketKind, TicketRef, TicketState};
use async_trait::async_trait;

use super::OtrsMock;
use super::model::{CORRELATION_FIELD, FIELDS};
use crate::conformance::{FaultOp, TicketBackend};
use crate::fault::{FaultMatcher, FaultPlan};

impl OtrsMock {
    /// The TicketID a reference names: its id, or else its ticket number.
    fn resolve(&self, r: &TicketRef) -> Result<u64> {
        let state = self.lock();
        let by_id = r.id().and_then(|id| id.parse::<u64>().ok());
        let by_number = || {
            let number = r.number()?;
            state
                .tickets
                .values()
                .find(|t| t.number == number)
                .map(|t| t.id)
        };
        by_id
            .filter(|id| state.tickets.contains_key(id))
            .or_else(by_number)
            .ok_or_else(|| Error::not_found(format!("ticket {r}")))
    }
}

#[async_trait]
impl TicketBackend for OtrsMock {
    /// TicketSearch then answers every ticket the agent can see, whatever it is asked,
    /// as Znuny does with parameters it does not know.
    fn ignore_search_filters(&self, on: bool) -> bool {
        self.lock().unfiltered = on;
        true
    }

    /// Resolved and Closed become `closed successful`, InProgress and Reopened `open`,
    /// Cancelled `removed`, OnHold `pending reminder` (due in a day), New `new`.
    async fn set_ticket_state(&self, r: &TicketRef, state: TicketState) -> Result<()> {
        let name = match state {
            TicketState::New => "new",
            TicketState::InProgress | TicketState::Reopened => "open",
            TicketState::OnHold => "pending reminder",
            TicketState::Resolved | TicketState::Closed => "closed successful",
            TicketState::Cancelled => "removed",
            other => return Err(Error::invalid_input(format!("no Znuny state for {other}"))),
        };
        let id = self.resolve(r)?;
        if self.set_state(id, name) {
            Ok(())
        } else {
            Err(Error::not_found(format!("ticket {r}")))
        }
    }

    /// Tickets whose `AccessRequestID` is the id, or whose title carries the connector's
    /// fallback tag `[corr:<id>]`.
    async fn count_with_correlation(&self, id: &CorrelationId) -> Result<usize> {
        let tag = format!("[corr:{id}]");
        let state = self.lock();
        let tickets = state.tickets.values();
        Ok(tickets
            .filter(|t| {
                t.fields.get(CORRELATION_FIELD).map(String::as_str) == Some(id.as_str())
                    || t.title.contains(&tag)
            })
            .count())
    }

    /// Every article after the first (which is the ticket's description); articles visible
    /// to the customer are public comments, the others internal notes.
    async fn comments(&self, r: &TicketRef) -> Result<Vec<Comment>> {
        let id = self.resolve(r)?;
        let state = self.lock();
        let articles = state.tickets.get(&id).map(|t| t.articles.iter().skip(1));
        let comments = articles.into_iter().flatten().map(|a| {
            if a.visible {
                Comment::public(a.body.clone())
            } else {
                Comment::internal(a.body.clone())
            }
        });
        Ok(comments.collect())
    }

    /// Stops the clock every write stamps `change_time` with (whole seconds, as the
    /// server's `YYYY-MM-DD HH:MM:SS`).
    fn freeze_clock(&self, at: Option<SystemTime>) -> bool {
        let secs = at.map(|t| {
            let s = t.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
            i64::try_from(s).unwrap_or(i64::MAX)
        });
        self.lock().frozen = secs;
        true
    }

    /// A follow-up the customer `apicustomer` writes in the customer interface: a
    /// customer article, visible to the customer.
    async fn add_person_comment(&self, r: &TicketRef, body: &str) -> Result<bool> {
        let id = self.resolve(r)?;
        Ok(self.customer_follow_up(id, body))
    }

    /// The ticket attributes TicketCreate/TicketGet name, and `DynamicField_<Name>` for
    /// each ticket dynamic field (one Znuny ticket object for every kind).
    fn ticket_fields(&self, kind: &TicketKind) -> Option<Vec<String>> {
        let _ = kind;
        let mut names: Vec<String> = [
            "TicketID",
            "TicketNumber",
            "Title",
            "Queue",
            "State",
            "Priority",
            "Type",
            "CustomerUser",
            "CustomerID",
            "Owner",
            "Responsible",
            "Lock",
            "Created",
            "Changed",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        names.extend(FIELDS.iter().map(|(n, _)| format!("DynamicField_{n}")));
        Some(names)
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

    /// TicketCreate is `POST …/Ticket` (not `POST …/TicketSearch`); an article is added
    /// with TicketUpdate, `PATCH …/Ticket/:id`.
    fn fault_route(&self, op: FaultOp) -> Option<FaultMatcher> {
        match op {
            FaultOp::CreateTicket(_) => {
                Some(FaultMatcher::method("POST").and_path_suffix("/Ticket"))
            }
            FaultOp::AddComment => Some(FaultMatcher::route("PATCH", "/Ticket/")),
        }
    }
}
