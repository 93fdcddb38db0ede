//! Fulfilment: an access request becomes a ticket, the ticket is followed until it
//! is finished, and the outcome goes back to the identity product as a task status.
//!
//! # The run
//!
//! [`Fulfiller::fulfil_all`] takes a batch of requests and:
//!
//! 1. opens a ticket for each (at most [`PollOptions::concurrency`] at once) with
//!    `create_ticket`, whose correlation id is the request id: a ticket opened by an
//!    earlier run is found, not opened again;
//! 2. reads every pending ticket in batched `get_tickets` calls — one call per
//!    [`batch_size`](PollOptions::batch_size) pending tickets per round, never one
//!    call per ticket — with exponential back-off between rounds, capped, until the
//!    [deadline](PollOptions::deadline);
//! 3. maps each ticket's state and approval to a [`TaskStatus`] (see [`status_of`]);
//!    tickets still open at the deadline end as [`TaskStatus::TimedOut`], and running
//!    the request again later simply carries on with the same ticket.
//!
//! In **manual** mode people do the work and close the ticket. In **automated** mode
//! ([`FulfillerBuilder::automated`]) the workflow provisions requests the
//! [`Provisioner`] can do, as soon as their ticket is open and not waiting for
//! approval, then comments the result on the ticket, closes it (successful or
//! not), and reports `Completed` or `Failed`. Requests it cannot do (custom
//! operations, capabilities the provisioner does not declare) are left to people.
//!
//! # Idempotency and crash windows (automated mode)
//!
//! There is no local state: the ticket is the record. A run may stop at any point
//! and the same request be run again:
//!
//! | stopped after | the next run |
//! |---|---|
//! | sending `create_ticket` (answer lost) | the connector's create is idempotent on the correlation id: it finds the ticket |
//! | opening the ticket | finds it open and provisions |
//! | provisioning, before the comment | provisions again; the provisioner answers `AlreadyGranted` / `AlreadyAbsent` / `AlreadyExists` (disable is idempotent, deleting a gone account is taken as done), so nothing changes twice; then comments and closes |
//! | the marker comment, before closing | where the connector surfaces comments or close notes on the ticket, sees `accesslink: provisioned <id>` and does not call the provisioner at all ([`Provisioned::RecordedOnTicket`]); elsewhere as the row above; then closes |
//! | closing the ticket | sees it finished and reports from it, without provisioning |
//!
//! Before provisioning the workflow always works from a ticket read in the same
//! round and provisions only when it is open: a closed or cancelled ticket is
//! never provisioned. Within one run, a provisioning success is remembered, so a
//! close that fails transiently is retried at the next round without calling the
//! provisioner again. Retryable provisioning errors are retried at later rounds
//! (up to [`provision_attempts`](FulfillerBuilder::provision_attempts)) before the
//! ticket is closed as failed.
//!
//! What remains: a ticket closed unsuccessfully by an earlier run is reported by its
//! normalised state (connectors map "closed unsuccessful" to `Cancelled` or
//! `Closed`) unless the connector shows the failure marker
//! (`accesslink: provisioning failed <id>`) in the close notes; and if someone
//! revokes access by hand between two runs of a still-open request, the second run
//! grants it again — the open ticket says the request is still to be done.

mod engine;
mod outcome;
mod provision;
mod request;
mod template;

use std::sync::Arc;
use std::time::Duration;

use accesslink_core::{Error, Provisioner, Ticket, TicketingSystem};

use crate::audit::{AuditAction, AuditEvent, AuditOutcome, AuditSink, TracingSink, emit};

pub use outcome::{ErrorInfo, Provisioned, TaskOutcome, TaskStatus, status_of};
pub use provision::{carries_marker, failed_marker, provisioned_marker};
pub(crate) use request::person_label;
pub use request::{AccessRequest, Operation};
pub use template::{
    DEFAULT_DESCRIPTION, DEFAULT_TITLE, TemplateError, TicketTemplate, TicketTemplateBuilder,
};

/// How tickets are followed: back-off between poll rounds, deadline, batching and
/// concurrency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct PollOptions {
    /// Wait before the first poll round (default 30 s).
    pub initial_interval: Duration,
    /// The longest wait between rounds (default 10 min).
    pub max_interval: Duration,
    /// Each wait is the previous one times this, up to the maximum (default 2).
    pub multiplier: u32,
    /// How long to follow tickets before reporting `TimedOut` (default 1 h). Zero
    /// opens (or finds) the tickets, reads them once and returns.
    pub deadline: Duration,
    /// Tickets per `get_tickets` call (default 50).
    pub batch_size: usize,
    /// Calls in flight at once: creates, batched reads, provisioning (default 4).
    pub concurrency: usize,
}

impl Default for PollOptions {
    fn default() -> Self {
        PollOptions {
            initial_interval: Duration::from_secs(30),
            max_interval: Duration::from_secs(600),
            multiplier: 2,
            deadline: Duration::from_secs(3600),
            batch_size: 50,
            concurrency: 4,
        }
    }
}

impl PollOptions {
    /// The options with every field in range, whatever was assigned to the public
    /// fields: a zero interval or multiplier would poll the ticketing system in a
    /// tight loop, and zero batch size or concurrency would never poll at all.
    fn sanitized(mut self) -> Self {
        self.initial_interval = self.initial_interval.max(Duration::from_millis(1));
        self.max_interval = self.max_interval.max(self.initial_interval);
        self.multiplier = self.multiplier.max(1);
        self.batch_size = self.batch_size.max(1);
        self.concurrency = self.concurrency.max(1);
        self
    }

    /// The defaults.
    pub fn new() -> Self {
        PollOptions::default()
    }

    /// Sets the first wait.
    #[must_use]
    pub fn initial_interval(mut self, d: Duration) -> Self {
        self.initial_interval = d;
        self
    }

    /// Sets the longest wait.
    #[must_use]
    pub fn max_interval(mut self, d: Duration) -> Self {
        self.max_interval = d;
        self
    }

    /// Sets the back-off multiplier (at least 1).
    #[must_use]
    pub fn multiplier(mut self, m: u32) -> Self {
        self.multiplier = m.max(1);
        self
    }

    /// Sets the deadline.
    #[must_use]
    pub fn deadline(mut self, d: Duration) -> Self {
        self.deadline = d;
        self
    }

    /// Sets the tickets per batched read (at least 1).
    #[must_use]
    pub fn batch_size(mut self, n: usize) -> Self {
        self.batch_size = n.max(1);
        self
    }

    /// Sets the calls in flight at once (at least 1).
    #[must_use]
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }
}

/// Opens tickets for access requests and follows them to an outcome.
///
/// Stateless between runs and cheap to share (`Arc<Fulfiller>`); see the
/// [module docs](self) for the run and its idempotency.
#[derive(Debug)]
pub struct Fulfiller {
    tickets: Arc<dyn TicketingSystem>,
    provisioner: Option<Arc<dyn Provisioner>>,
    template: TicketTemplate,
    poll: PollOptions,
    provision_attempts: u32,
    audit: Arc<dyn AuditSink>,
}

/// Builds a [`Fulfiller`].
#[derive(Debug)]
pub struct FulfillerBuilder {
    inner: Fulfiller,
}

impl FulfillerBuilder {
    /// Automated mode: provision through `provisioner`, then comment and close.
    #[must_use]
    pub fn automated(mut self, provisioner: Arc<dyn Provisioner>) -> Self {
        self.inner.provisioner = Some(provisioner);
        self
    }

    /// How tickets are followed.
    #[must_use]
    pub fn poll(mut self, options: PollOptions) -> Self {
        self.inner.poll = options;
        self
    }

    /// Where audit events go (default [`TracingSink`]).
    #[must_use]
    pub fn audit(mut self, sink: Arc<dyn AuditSink>) -> Self {
        self.inner.audit = sink;
        self
    }

    /// How many times one run calls the provisioner for a request whose calls fail
    /// with retryable errors, before closing its ticket as failed (default 3, at least 1).
    #[must_use]
    pub fn provision_attempts(mut self, n: u32) -> Self {
        self.inner.provision_attempts = n.max(1);
        self
    }

    /// The fulfiller.
    pub fn build(mut self) -> Fulfiller {
        self.inner.poll = self.inner.poll.sanitized();
        self.inner
    }
}

impl Fulfiller {
    /// A manual-mode fulfiller over a ticketing system, with default poll options
    /// and the tracing audit sink.
    pub fn builder(
        tickets: Arc<dyn TicketingSystem>,
        template: TicketTemplate,
    ) -> FulfillerBuilder {
        FulfillerBuilder {
            inner: Fulfiller {
                tickets,
                provisioner: None,
                template,
                poll: PollOptions::default(),
                provision_attempts: 3,
                audit: Arc::new(TracingSink),
            },
        }
    }

    /// Whether the fulfiller provisions (automated mode).
    pub fn is_automated(&self) -> bool {
        self.provisioner.is_some()
    }

    /// The poll options.
    pub fn poll_options(&self) -> &PollOptions {
        &self.poll
    }

    /// Opens the ticket for a request, or finds the one an earlier run opened.
    ///
    /// # Errors
    /// The connector's error, when the ticket could neither be opened nor found.
    pub async fn open(&self, r: &AccessRequest) -> Result<Ticket, Error> {
        let new = self.template.render(r);
        let result = self.tickets.create_ticket(&new).await;
        let event = AuditEvent::new(
            AuditAction::TicketOpened,
            if result.is_ok() {
                AuditOutcome::Success
            } else {
                AuditOutcome::Failure
            },
            self.tickets.info().into(),
        )
        .request(&r.id)
        .detail("operation", r.operation.as_str())
        .detail("target", r.target.as_str());
        let event = match &result {
            Ok(t) => event
                .ticket(Some(&t.reference))
                .detail("kind", t.kind.to_string())
                .detail("state", t.status.state.to_string())
                .detail("raw_state", t.status.raw.as_str()),
            Err(e) => error_detail(event, &ErrorInfo::from(e)),
        };
        emit(self.audit.as_ref(), &event);
        result
    }

    /// Fulfils one request; see [`fulfil_all`](Self::fulfil_all).
    pub async fn fulfil(&self, r: &AccessRequest) -> TaskOutcome {
        let mut outcomes = self.fulfil_all(std::slice::from_ref(r)).await;
        outcomes
            .pop()
            .expect("fulfil_all returns one outcome per request")
    }

    /// Fulfils a batch of requests and returns one outcome per request, in order.
    /// A request id given twice is fulfilled once and reported twice.
    pub async fn fulfil_all(&self, requests: &[AccessRequest]) -> Vec<TaskOutcome> {
        engine::run(self, requests).await
    }
}

pub(crate) fn error_detail(event: AuditEvent, e: &ErrorInfo) -> AuditEvent {
    event
        .detail("error_kind", e.kind.to_string())
        .detail("error", e.message.as_str())
}
