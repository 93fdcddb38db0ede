//! The conformance suite every connector runs, against its stateful mock and, where the
//! product runs here (Znuny, GLPI), against a real server.
//!
//! Each check is a `pub async fn` over `&dyn TicketingSystem` or `&dyn Provisioner` that
//! returns `Ok(())` or a [`ConformanceFailure`] naming the check, the step, what was
//! expected and what was found. The checks cannot see the server through the connector
//! alone (that would let a connector vouch for itself), so each takes a backend —
//! [`TicketBackend`] or [`AccountBackend`] — that drives and inspects the server directly:
//! a mock reads its own state, a live suite uses its own client and counts the connector's
//! requests through a proxy.
//!
//! [`run_ticketing_suite`] and [`run_provisioning_suite`] run every check that applies to a
//! connector's declared capabilities and return a [`SuiteReport`]. When the backend can
//! inject faults ([`TicketBackend::faults`], [`AccountBackend::faults`]: every testkit mock
//! can), they also run the fault checks every connector used to copy: a create whose
//! answer is lost ([`lost_create_answer`]), an HTML page for JSON
//! ([`html_is_a_protocol_error`]), a comment answered with a 500
//! ([`comment_not_repeated`]), credentials expiring mid-import ([`expiry_mid_import`]) and
//! faults while draining entitlements and grants ([`entitlements_and_grants_drained`]).
//! The intake checks run where the connector declares the capability:
//! [`change_feed_exactly_once`], [`comments_read_back`], [`ticket_schema_lists_fields`],
//! [`account_schema_lists_fields`] and [`password_set_and_never_printed`].
//! The partitioned-import checks run where the connector splits its account listing
//! ([`Partitioner::splits`](accesslink_core::partition::Partitioner::splits)):
//! [`partitioned_accounts_exactly_once`], [`partitioned_resume_loses_nothing`] and
//! [`ignored_range_is_a_protocol_error`].
//! Against a live server they are skipped with the reason ([`Check::is_fault_check`]). A
//! connector that really fails a check skips only that one, in the open, with
//! [`TicketingSuite::skip`] or [`ProvisioningSuite::skip`]:
//!
//! ```no_run
//! use accesslink_core::{Connector, CorrelationId, NewTicket, TicketKind};
//! use accesslink_testkit::conformance::{
//!     TicketBackend, TicketingSuite, fresh_id, run_ticketing_suite,
//! };
//!
//! # async fn run(connector: &dyn Connector, mock: &dyn TicketBackend) {
//! let template = NewTicket::new(
//!     TicketKind::Incident,
//!     "conformance",
//!     "opened by the accesslink conformance suite",
//!     CorrelationId::new(fresh_id("conf")),
//! );
//! let suite = TicketingSuite::new(template)
//!     .bad_refs(["INC12", "12345678901234567890123"])
//!     .canaries(["agent-password-canary"]);
//! run_ticketing_suite(connector, mock, &suite).await.assert_success();
//! # }
//! ```

mod capabilities;
mod cx;
mod faults;
mod intake;
mod partition;
mod provisioning;
mod report;
mod secrets;
mod shape;
mod suite;
#[cfg(test)]
mod tests;
mod ticketing;

use accesslink_core::{
    AccountId, Comment, CorrelationId, EntitlementRef, Result, TicketKind, TicketRef, TicketState,
};
use std::time::SystemTime;

use async_trait::async_trait;

use crate::fault::{FaultMatcher, FaultPlan};

pub use self::capabilities::unsupported_operations_declared;
pub use self::faults::{
    comment_not_repeated, entitlements_and_grants_drained, expiry_mid_import,
    html_import_is_a_protocol_error, html_is_a_protocol_error, lost_create_answer,
};
pub use self::intake::{
    account_schema_lists_fields, change_feed_exactly_once, comments_read_back,
    password_set_and_never_printed, ticket_schema_lists_fields,
};
pub use self::partition::{
    ignored_range_is_a_protocol_error, partitioned_accounts_exactly_once,
    partitioned_resume_loses_nothing,
};
pub use self::provisioning::{account_lifecycle, drain_accounts, resume_accounts};
pub use self::report::{Check, CheckResult, ConformanceFailure, Outcome, SuiteReport};
pub use self::secrets::secrets_never_printed;
pub use self::shape::{
    default_wrong_shapes, echoed_request_not_printed, echoed_request_not_printed_import,
    repeated_page_is_an_error, reported_total_shortfall, search_hit_confirmed,
    wrong_shaped_page_is_an_error,
};
pub use self::suite::{
    ProvisioningSuite, TicketingSuite, fresh_id, injection_attempts, run_provisioning_suite,
    run_ticketing_suite,
};
pub use self::ticketing::{
    create_is_idempotent, follow_state_change, invalid_ticket_refs_rejected, ticket_lifecycle,
};

/// Drives and inspects the ticketing server behind a connector, without going through it.
///
/// A mock implements this over its own state; a live suite with its own client, counting
/// the connector's requests through a proxy. Requests the backend makes itself must not be
/// counted in [`requests_seen`](TicketBackend::requests_seen).
#[async_trait]
pub trait TicketBackend: Send + Sync {
    /// Moves a ticket to a state as an agent would (resolve it, say), so a check can
    /// test that the connector follows the change.
    async fn set_ticket_state(&self, r: &TicketRef, state: TicketState) -> Result<()>;

    /// How many tickets on the server carry this correlation id (to prove no duplicates).
    async fn count_with_correlation(&self, id: &CorrelationId) -> Result<usize>;

    /// The comments stored on a ticket, as the server keeps them (body and visibility),
    /// so a check can prove a comment landed instead of being silently dropped.
    async fn comments(&self, r: &TicketRef) -> Result<Vec<Comment>>;

    /// How many requests the connector under test has sent to the server so far.
    fn requests_seen(&self) -> usize;

    /// The fault plan the server applies before answering, when the backend can inject
    /// faults (a testkit mock). `None`, the default, makes the fault checks report
    /// "skipped: the backend cannot inject faults", so live suites still pass.
    fn faults(&self) -> Option<&FaultPlan> {
        None
    }

    /// Whether a dropped connection reaches the client as one (the mock runs behind the
    /// [`FaultProxy`](crate::proxy::FaultProxy)); [`lost_create_answer`] needs it.
    fn drops_connections(&self) -> bool {
        false
    }

    /// Which requests of the connector under test a fault check aims at, so the fault
    /// lands on the write itself and not on a lookup or a login before it. `None`, the
    /// default, skips the checks that need the route.
    fn fault_route(&self, op: FaultOp) -> Option<FaultMatcher> {
        let _ = op;
        None
    }

    /// Makes the server's ticket searches ignore their filters (`true`) and answer with
    /// every ticket, as a search that does not know a parameter does, or restores them
    /// (`false`); returns whether the backend can. `false`, the default, skips
    /// [`search_hit_confirmed`].
    fn ignore_search_filters(&self, on: bool) -> bool {
        let _ = on;
        false
    }

    /// Stops the server's clock at `at` (every write stamps that update time, as a
    /// server with one-second times does for writes in the same second), or lets it run
    /// again (`None`); returns whether the backend can. `false`, the default, makes the
    /// change-feed check rely on the real clock, where writes in the same second are
    /// likely but not certain. [`set_ticket_state`](Self::set_ticket_state) must stamp
    /// the ticket's update time either way.
    fn freeze_clock(&self, at: Option<SystemTime>) -> bool {
        let _ = at;
        false
    }

    /// Adds a comment to a ticket as a person would in the service desk's own UI (not
    /// through the connector), public; returns `false`, the default, when the backend
    /// cannot, which skips the two-way comment checks.
    async fn add_person_comment(&self, r: &TicketRef, body: &str) -> Result<bool> {
        let _ = (r, body);
        Ok(false)
    }

    /// The API names of the fields the server keeps on tickets of `kind` (what
    /// [`TicketingSystem::ticket_schema`](accesslink_core::TicketingSystem::ticket_schema)
    /// must list); `None`, the default, skips the schema check.
    fn ticket_fields(&self, kind: &TicketKind) -> Option<Vec<String>> {
        let _ = kind;
        None
    }
}

/// A write a fault check aims at; see [`TicketBackend::fault_route`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FaultOp {
    /// The request that creates a ticket of this kind (`POST /Ticket`), not the lookup
    /// or login before it.
    CreateTicket(TicketKind),
    /// The request that stores a comment on a ticket.
    AddComment,
}

/// Inspects the identity store behind a provisioning connector, without going through it.
///
/// Requests the backend makes itself must not be counted in
/// [`requests_seen`](AccountBackend::requests_seen).
#[async_trait]
pub trait AccountBackend: Send + Sync {
    /// How many accounts the server holds (every account the connector can list).
    async fn account_count(&self) -> Result<usize>;

    /// Whether the account holds the entitlement on the server.
    async fn holds(&self, account: &AccountId, e: &EntitlementRef) -> Result<bool>;

    /// How many requests the connector under test has sent to the server so far.
    fn requests_seen(&self) -> usize;

    /// The fault plan the server applies before answering, when the backend can inject
    /// faults. `None`, the default, makes the fault checks report "skipped: the backend
    /// cannot inject faults".
    fn faults(&self) -> Option<&FaultPlan> {
        None
    }

    /// Invalidates every session or token the server has issued, so the connector's next
    /// request must sign in again; `false`, the default, when the backend cannot (an API
    /// key that never expires), which skips [`expiry_mid_import`].
    fn expire_credentials(&self) -> bool {
        false
    }

    /// Makes the server report `extra` more accounts in its listing totals than it holds
    /// (`0` restores the truth); returns whether the backend can. `false`, the default,
    /// skips [`reported_total_shortfall`].
    fn inflate_reported_total(&self, extra: usize) -> bool {
        let _ = extra;
        false
    }

    /// The ids of every account the server holds (every account the connector can
    /// list, as the connector names them in [`Account::id`](accesslink_core::Account)),
    /// read from the server's own state, not through the connector. `Ok(None)`, the
    /// default, when the backend cannot list them: the partition checks then compare
    /// the number of accounts with [`account_count`](Self::account_count) and check that
    /// none repeats.
    async fn account_ids(&self) -> Result<Option<Vec<String>>> {
        Ok(None)
    }

    /// Makes the server ignore the key-range conditions of account listings (`true`)
    /// and answer every row, as a server that does not know the filter does, or
    /// restores them (`false`); returns whether the backend can. `false`, the default,
    /// skips [`ignored_range_is_a_protocol_error`].
    fn ignore_key_ranges(&self, on: bool) -> bool {
        let _ = on;
        false
    }

    /// The API names of the fields the server keeps on accounts (what
    /// [`Provisioner::account_schema`](accesslink_core::Provisioner::account_schema)
    /// must list); `None`, the default, skips the schema check.
    fn account_fields(&self) -> Option<Vec<String>> {
        None
    }

    /// Whether `password` is the account's password on the server (`Some(false)` for an
    /// account that does not exist); `Ok(None)`, the default, when the backend cannot
    /// tell, which skips [`password_set_and_never_printed`].
    async fn password_is(&self, account: &AccountId, password: &str) -> Result<Option<bool>> {
        let _ = (account, password);
        Ok(None)
    }
}
