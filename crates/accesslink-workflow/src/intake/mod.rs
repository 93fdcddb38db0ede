//! Intake: tickets raised in a service desk become access requests, are checked,
//! provisioned, commented and closed — the other direction of [`fulfil`](crate::fulfil).
//!
//! ```no_run
//! use std::sync::Arc;
//!
//! use accesslink_core::{Provisioner, TicketingSystem};
//! use accesslink_workflow::intake::{
//!     FieldMap, FieldRule, FileCursorStore, InboundComment, Intake, IntakeConfig, SodRule,
//!     SourceConfig,
//! };
//!
//! # async fn run(otrs: Arc<dyn TicketingSystem>, crm: Arc<dyn Provisioner>) -> Result<(), Box<dyn std::error::Error>> {
//! // Usually `IntakeConfig::load("intake.toml")?`; the same in code:
//! let map = FieldMap::new(
//!     FieldRule::field("requester.login"),
//!     FieldRule::field("extra.DynamicField_Application").default_value("CRM"),
//!     FieldRule::field("title")
//!         .regex(r"(?i)access to (?P<value>[a-z ]+)$")
//!         .lookup([("payments create", "pay-create"), ("payments approve", "pay-approve")]),
//! );
//! let config = IntakeConfig::new(map)
//!     .source("otrs", SourceConfig::new().scope("Access requests"))
//!     .sod(SodRule::new("CRM", ["pay-create", "pay-approve"]))
//!     .sync_comments(true);
//! let (tx, mut comments) = tokio::sync::mpsc::unbounded_channel::<InboundComment>();
//! let intake = Intake::builder(config)
//!     .desk("otrs", otrs)
//!     .provisioner("CRM", crm)
//!     .store(Arc::new(FileCursorStore::new("/var/lib/accesslink/intake")?))
//!     .comments(Arc::new(tx))
//!     .build()?;
//! let report = intake.poll_once().await; // or `intake.run(shutdown).await`
//! for t in report.tickets() {
//!     println!("{} {}: {}", t.ticket, t.request_id, t.status);
//! }
//! while let Ok(c) = comments.try_recv() {
//!     println!("{} says {}", c.ticket, c.comment.body);
//! }
//! # Ok(()) }
//! ```
//!
//! # A poll
//!
//! [`Intake::poll_once`] does, for each configured source (a [`TicketingSystem`] and
//! its [`SourceConfig`]):
//!
//! 1. loads the source's state from the [`CursorStore`] and lists what changed with a
//!    core [`ChangeFeed`] (`list_tickets` with the stored watermark: a poll costs
//!    requests in proportion to what changed, not to what is open), plus, in one
//!    batched `get_tickets`, the tickets an earlier poll must finish;
//! 2. for each open ticket, reads its comments (`list_comments`): the intake keeps its
//!    state **in the ticket**, as marker lines in internal comments it wrote
//!    (`accesslink-intake: provisioned intake:<source>:<ticket id>`);
//! 3. delivers comments people added since the last poll, once each by comment id, to
//!    the [`CommentHandler`] (when `sync_comments` is on), never the intake's own;
//! 4. if the ticket carries the provisioned marker, only closes it (a crash between
//!    provisioning and closing is finished without a second provisioning call);
//! 5. maps the ticket through the [`FieldMap`]; a ticket that cannot be mapped gets one
//!    comment naming the field (per distinct error) and nothing is provisioned;
//! 6. checks the [`SodRule`]s of the application against what the beneficiary holds
//!    (read through the application's [`Provisioner`], once per poll); a conflict is
//!    commented once and the ticket left open or closed as rejected ([`OnConflict`]);
//! 7. provisions: `create_account` (an existing account is `AlreadyExists`, not an
//!    error) and `grant`; then writes the provisioned marker comment and closes the
//!    ticket;
//! 8. saves the source's state (new cursor, tickets to retry, comment ids delivered).
//!
//! Every step is an [`AuditEvent`] (`tickets_polled`,
//! `approval_decided` for the SoD check, `provisioned` per call, `ticket_commented`
//! (with `direction` `inbound` for synced comments), `ticket_closed`, and one
//! `task_finished` per ticket with its [`IntakeStatus`]).
//!
//! # Exactly once across restarts
//!
//! | stopped after | the next poll (same or new process) |
//! |---|---|
//! | listing, before saving the cursor | lists the same tickets again (the cursor was not saved); each is decided from its comments |
//! | provisioning, before the marker comment | provisions again; the provisioner answers `AlreadyExists`/`AlreadyGranted`, so nothing changes twice |
//! | the marker comment, before closing (or a close that failed) | finds the marker and closes, **without** calling the provisioner |
//! | closing | the ticket is no longer open and is not listed |
//!
//! A ticket whose processing failed with a retryable error (or whose close failed) is
//! kept in the stored state and read again at the next poll even if it did not change.
//! So is a ticket the intake commented on and left open (a conflict, a mapping error),
//! once: servers keep update times to the second, and a person's comment written in the
//! same second as the intake's would otherwise look like the change already seen.
//!
//! # Comments from the identity product
//!
//! [`Intake::post_comment`] adds a comment to a ticket with a `from-iam` marker line,
//! which comment sync recognises and never delivers back.

mod config;
mod map;
mod marker;
mod process;
mod sod;
mod store;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use accesslink_core::{
    Capability, ChangeFeed, Comment, Error, FeedCursor, Provisioner, RequestId, TicketComment,
    TicketRef, TicketingSystem, Visibility,
};
use serde::{Deserialize, Serialize};

use crate::audit::{
    AuditAction, AuditEvent, AuditOutcome, AuditSink, ConnectorLabel, TracingSink, emit,
};
use crate::fulfil::{ErrorInfo, error_detail};

pub use config::{IntakeConfig, IntakeConfigError, OnConflict, OnMappingError, SourceConfig};
pub use map::{FieldMap, FieldRule, MapError, Mapped};
pub use marker::MARKER_PREFIX;
pub use sod::{SodConflict, SodRule};
pub use store::{CursorStore, FileCursorStore, MemoryCursorStore};

use map::Mapper;

/// A comment a person added on a ticket, delivered once to the identity product.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct InboundComment {
    /// The source (configured desk name).
    pub source: String,
    /// The ticket.
    pub ticket: TicketRef,
    /// The request id the intake gives the ticket (`intake:<source>:<ticket id>`).
    pub request_id: RequestId,
    /// The comment as read back.
    pub comment: TicketComment,
}

/// Receives synced comments. Object-safe: hold it as `Arc<dyn CommentHandler>`.
pub trait CommentHandler: Send + Sync + fmt::Debug {
    /// Takes one comment; `false` when it could not be taken (it is offered again at
    /// the next poll that lists its ticket).
    fn deliver(&self, comment: InboundComment) -> bool;
}

impl CommentHandler for tokio::sync::mpsc::UnboundedSender<InboundComment> {
    fn deliver(&self, comment: InboundComment) -> bool {
        self.send(comment).is_ok()
    }
}

/// What became of one ticket in a poll.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum IntakeStatus {
    /// Provisioned, commented and closed now.
    Provisioned,
    /// An earlier poll had provisioned it (its marker was on the ticket): closed now,
    /// the provisioner not called.
    ClosedFromMarker,
    /// The field map could not read it; nothing was provisioned.
    MappingFailed(MapError),
    /// It breaks an SoD rule; left open or closed as rejected, as configured.
    Conflict(SodConflict),
    /// Provisioning failed for good; commented and left open for people.
    Failed(ErrorInfo),
    /// A retryable error; the ticket is read again at the next poll.
    Retrying(ErrorInfo),
    /// Not open any more (closed by people since it was listed): nothing done.
    NotOpen,
}

impl IntakeStatus {
    /// The snake_case name used in audit events.
    pub fn as_str(&self) -> &'static str {
        match self {
            IntakeStatus::Provisioned => "provisioned",
            IntakeStatus::ClosedFromMarker => "closed_from_marker",
            IntakeStatus::MappingFailed(_) => "mapping_failed",
            IntakeStatus::Conflict(_) => "sod_conflict",
            IntakeStatus::Failed(_) => "failed",
            IntakeStatus::Retrying(_) => "retrying",
            IntakeStatus::NotOpen => "not_open",
        }
    }
}

impl fmt::Display for IntakeStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IntakeStatus::MappingFailed(e) => write!(f, "mapping failed: {e}"),
            IntakeStatus::Conflict(c) => write!(f, "{c}"),
            IntakeStatus::Failed(e) => write!(f, "failed: {e}"),
            IntakeStatus::Retrying(e) => write!(f, "retrying: {e}"),
            other => f.write_str(other.as_str()),
        }
    }
}

/// One ticket's outcome.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct TicketOutcome {
    /// The source.
    pub source: String,
    /// The ticket.
    pub ticket: TicketRef,
    /// The request id.
    pub request_id: RequestId,
    /// What became of it.
    pub status: IntakeStatus,
}

/// What one source's poll did.
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub struct SourceReport {
    /// The source.
    pub source: String,
    /// Tickets the change feed handed out.
    pub changed: usize,
    /// Tickets read again from an earlier poll.
    pub retried: usize,
    /// Comments delivered to the handler.
    pub comments_delivered: usize,
    /// Each processed ticket.
    pub tickets: Vec<TicketOutcome>,
    /// Why the source could not be polled (listing or state store), if it could not;
    /// its cursor did not move.
    pub error: Option<ErrorInfo>,
}

/// What one [`Intake::poll_once`] did, per source.
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub struct PollReport {
    /// One report per source, in name order.
    pub sources: Vec<SourceReport>,
}

impl PollReport {
    /// Every ticket outcome of the poll.
    pub fn tickets(&self) -> impl Iterator<Item = &TicketOutcome> {
        self.sources.iter().flat_map(|s| s.tickets.iter())
    }

    /// Whether any source could not be polled.
    pub fn has_errors(&self) -> bool {
        self.sources.iter().any(|s| s.error.is_some())
    }
}

/// A source's state between polls, stored as JSON under the source name.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct SourceState {
    #[serde(default)]
    cursor: FeedCursor,
    /// Tickets to read again at the next poll.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    retry: Vec<TicketRef>,
    /// Ticket key → ids of the comments delivered (or seen as the opening text).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    delivered: BTreeMap<String, BTreeSet<String>>,
}

struct Source {
    name: String,
    config: SourceConfig,
    desk: Arc<dyn TicketingSystem>,
}

impl fmt::Debug for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Source")
            .field("name", &self.name)
            .field("desk", self.desk.info())
            .finish_non_exhaustive()
    }
}

/// Polls service desks for access-request tickets and fulfils them; see the
/// [module docs](self).
#[derive(Debug)]
pub struct Intake {
    config: IntakeConfig,
    mapper: Mapper,
    sources: Vec<Source>,
    /// Application name (lower case) → provisioner.
    provisioners: HashMap<String, Arc<dyn Provisioner>>,
    store: Arc<dyn CursorStore>,
    audit: Arc<dyn AuditSink>,
    comments: Option<Arc<dyn CommentHandler>>,
}

/// Builds an [`Intake`]: the configuration, then the connectors it names.
#[derive(Debug)]
pub struct IntakeBuilder {
    config: IntakeConfig,
    desks: BTreeMap<String, Arc<dyn TicketingSystem>>,
    provisioners: Vec<(String, Arc<dyn Provisioner>)>,
    store: Arc<dyn CursorStore>,
    audit: Arc<dyn AuditSink>,
    comments: Option<Arc<dyn CommentHandler>>,
}

impl IntakeBuilder {
    /// The ticketing system of the configured source `name`.
    #[must_use]
    pub fn desk(mut self, name: impl Into<String>, desk: Arc<dyn TicketingSystem>) -> Self {
        self.desks.insert(name.into(), desk);
        self
    }

    /// The provisioner of an application (the field map's `application` value,
    /// compared ignoring case).
    #[must_use]
    pub fn provisioner(
        mut self,
        application: impl Into<String>,
        provisioner: Arc<dyn Provisioner>,
    ) -> Self {
        self.provisioners.push((application.into(), provisioner));
        self
    }

    /// Where cursors are kept (default: in memory, lost at exit — a restart then
    /// lists every open ticket once and decides each from its markers).
    #[must_use]
    pub fn store(mut self, store: Arc<dyn CursorStore>) -> Self {
        self.store = store;
        self
    }

    /// Where audit events go (default [`TracingSink`]).
    #[must_use]
    pub fn audit(mut self, sink: Arc<dyn AuditSink>) -> Self {
        self.audit = sink;
        self
    }

    /// Where synced comments go (used when the configuration's `sync_comments` is on).
    #[must_use]
    pub fn comments(mut self, handler: Arc<dyn CommentHandler>) -> Self {
        self.comments = Some(handler);
        self
    }

    /// The intake, checked against its connectors.
    ///
    /// # Errors
    /// [`IntakeConfigError::Invalid`] when the configuration is invalid, a source has
    /// no desk or a desk no source, a desk does not declare `ListTickets` and
    /// `ListComments` (and `Comment`, `CloseTicket`), an SoD rule names an application
    /// without a provisioner, or `sync_comments` is on without a handler.
    pub fn build(mut self) -> Result<Intake, IntakeConfigError> {
        self.config.validate()?;
        let bad = |m: String| Err(IntakeConfigError::Invalid(m));
        let mapper = self
            .config
            .field_map
            .compile()
            .map_err(|m| IntakeConfigError::Invalid(format!("field_map.{m}")))?;
        let mut sources = Vec::new();
        for (name, config) in &self.config.sources {
            let Some(desk) = self.desks.remove(name) else {
                return bad(format!("source {name:?} has no ticketing system (.desk)"));
            };
            let info = desk.info();
            for cap in [
                Capability::ListTickets,
                Capability::ListComments,
                Capability::Comment,
                Capability::CloseTicket,
            ] {
                if !info.supports(&cap) {
                    return bad(format!(
                        "source {name:?}: the {} connector does not declare {cap:?}",
                        info.target
                    ));
                }
            }
            sources.push(Source {
                name: name.clone(),
                config: config.clone(),
                desk,
            });
        }
        if let Some(extra) = self.desks.keys().next() {
            return bad(format!(
                "ticketing system {extra:?} has no source in the configuration"
            ));
        }
        let mut provisioners = HashMap::new();
        for (app, p) in self.provisioners {
            let key = app.trim().to_lowercase();
            for cap in [Capability::CreateAccount, Capability::Grant] {
                if !p.info().supports(&cap) {
                    return bad(format!(
                        "application {app:?}: the {} provisioner does not declare {cap:?}",
                        p.info().target
                    ));
                }
            }
            if provisioners.insert(key, p).is_some() {
                return bad(format!("application {app:?} has two provisioners"));
            }
        }
        for r in &self.config.sod {
            if !provisioners.contains_key(&r.application.trim().to_lowercase()) {
                return bad(format!(
                    "SoD rule {}: application {:?} has no provisioner",
                    r.label(),
                    r.application
                ));
            }
        }
        if self.config.sync_comments && self.comments.is_none() {
            return bad("sync_comments is on but no comment handler is set (.comments)".into());
        }
        Ok(Intake {
            config: self.config,
            mapper,
            sources,
            provisioners,
            store: self.store,
            audit: self.audit,
            comments: self.comments,
        })
    }
}

impl Intake {
    /// A builder over a configuration.
    pub fn builder(config: IntakeConfig) -> IntakeBuilder {
        IntakeBuilder {
            config,
            desks: BTreeMap::new(),
            provisioners: Vec::new(),
            store: Arc::new(MemoryCursorStore::new()),
            audit: Arc::new(TracingSink),
            comments: None,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &IntakeConfig {
        &self.config
    }

    /// The request id the intake gives a ticket of a source:
    /// `intake:<source>:<ticket id>` (the number when the target has no id).
    pub fn request_id(source: &str, ticket: &TicketRef) -> RequestId {
        let key = ticket.id().or(ticket.number()).unwrap_or_default();
        RequestId::new(format!("intake:{source}:{key}"))
    }

    /// Polls every source once and processes what changed (see the [module docs](self)).
    /// Errors are per source and per ticket, in the report; a source that could not
    /// be listed keeps its cursor.
    pub async fn poll_once(&self) -> PollReport {
        let mut report = PollReport::default();
        for s in &self.sources {
            report.sources.push(self.poll_source(s).await);
        }
        report
    }

    /// Polls every [`interval_secs`](IntakeConfig::interval_secs) until `shutdown`
    /// completes. A poll under way is finished first (it is safe to stop at any point,
    /// but finishing saves its cursor). Returns the number of polls made.
    pub async fn run(&self, shutdown: impl Future<Output = ()>) -> u64 {
        let interval = Duration::from_secs(self.config.interval_secs.max(1));
        let mut shutdown = std::pin::pin!(shutdown);
        let mut polls = 0;
        loop {
            self.poll_once().await;
            polls += 1;
            tokio::select! {
                biased;
                () = &mut shutdown => return polls,
                () = tokio::time::sleep(interval) => {}
            }
        }
    }

    /// Starts a source's change feed at `since`: the next poll lists only tickets changed
    /// at or after it (less the overlap). For deploying the intake on a desk with a
    /// backlog that people handle; without it the first poll lists every open ticket.
    /// Tickets to retry and comment ids delivered are kept.
    ///
    /// # Errors
    /// `InvalidInput` for an unknown source; `Other` when the store cannot be read or
    /// written.
    pub fn start_at(&self, source: &str, since: std::time::SystemTime) -> Result<(), Error> {
        if !self.sources.iter().any(|s| s.name == source) {
            return Err(Error::invalid_input(format!("no intake source {source:?}")));
        }
        let mut state = self
            .load_state(source)
            .map_err(|e| Error::other(e.message))?;
        state.cursor = FeedCursor::starting_at(since);
        self.save_state(source, &state)
            .map_err(|e| Error::other(e.message))
    }

    /// Adds a comment from the identity product to a ticket of a source. The comment
    /// carries a `from-iam` marker line, so comment sync never delivers it back.
    ///
    /// # Errors
    /// `InvalidInput` for an unknown source; else the connector's error.
    pub async fn post_comment(
        &self,
        source: &str,
        ticket: &TicketRef,
        text: &str,
        visibility: Visibility,
    ) -> Result<(), Error> {
        let s = self
            .sources
            .iter()
            .find(|s| s.name == source)
            .ok_or_else(|| Error::invalid_input(format!("no intake source {source:?}")))?;
        let id = Self::request_id(source, ticket);
        let body = format!(
            "{text}\n\n{}",
            marker::line(marker::Mark::FromIam, &id, None)
        );
        let comment = match visibility {
            Visibility::Public => Comment::public(body),
            _ => Comment::internal(body),
        };
        let result = s.desk.add_comment(ticket, &comment).await;
        let event = AuditEvent::new(
            AuditAction::TicketCommented,
            if result.is_ok() {
                AuditOutcome::Success
            } else {
                AuditOutcome::Failure
            },
            s.desk.info().into(),
        )
        .request(&id)
        .ticket(Some(ticket))
        .detail("direction", "outbound");
        let event = match &result {
            Ok(()) => event,
            Err(e) => error_detail(event, &ErrorInfo::from(e)),
        };
        emit(self.audit.as_ref(), &event);
        result
    }

    async fn poll_source(&self, s: &Source) -> SourceReport {
        let mut report = SourceReport {
            source: s.name.clone(),
            ..SourceReport::default()
        };
        let label = || ConnectorLabel::from(s.desk.info());
        let failed = |report: &mut SourceReport, e: ErrorInfo| {
            let event = AuditEvent::new(AuditAction::TicketsPolled, AuditOutcome::Failure, label())
                .detail("source", s.name.as_str());
            emit(self.audit.as_ref(), &error_detail(event, &e));
            report.error = Some(e);
        };
        let mut state = match self.load_state(&s.name) {
            Ok(state) => state,
            Err(e) => {
                failed(&mut report, e);
                return report;
            }
        };
        let mut feed = ChangeFeed::new(s.config.query())
            .overlap(Duration::from_secs(s.config.overlap_secs))
            .resume(state.cursor.clone());
        let mut tickets = match feed.poll(s.desk.as_ref()).await {
            Ok(t) => t,
            Err(e) => {
                failed(&mut report, ErrorInfo::from(&e));
                return report;
            }
        };
        report.changed = tickets.len();
        let retry: Vec<TicketRef> = std::mem::take(&mut state.retry)
            .into_iter()
            .filter(|r| !tickets.iter().any(|t| process::same_ref(&t.reference, r)))
            .collect();
        if !retry.is_empty() {
            match s.desk.get_tickets(&retry).await {
                Ok(found) => {
                    report.retried = found.len();
                    tickets.extend(found);
                }
                Err(e) => {
                    // Kept for the next poll; what changed is still processed now.
                    tracing::warn!(source = %s.name, error = %e, "tickets to retry could not be read");
                    state.retry = retry;
                }
            }
        }
        let mut grants = process::GrantCache::default();
        for t in &tickets {
            let outcome = process::process(self, s, t, &mut state, &mut grants, &mut report).await;
            if matches!(outcome.status, IntakeStatus::Retrying(_)) {
                process::recheck(&mut state, &t.reference);
            }
            report.tickets.push(outcome);
        }
        state.cursor = feed.cursor().clone();
        let event = AuditEvent::new(AuditAction::TicketsPolled, AuditOutcome::Success, label())
            .detail("source", s.name.as_str())
            .detail("changed", report.changed)
            .detail("retried", report.retried)
            .detail("to_retry", state.retry.len());
        if let Err(e) = self.save_state(&s.name, &state) {
            // The work is done and marked on the tickets; the next poll repeats the
            // listing and finds the markers.
            failed(&mut report, e);
            return report;
        }
        emit(self.audit.as_ref(), &event);
        report
    }

    fn load_state(&self, source: &str) -> Result<SourceState, ErrorInfo> {
        let store_error = |what: String| ErrorInfo::new(accesslink_core::ErrorKind::Other, what);
        match self.store.load(source) {
            Ok(None) => Ok(SourceState::default()),
            Ok(Some(text)) => serde_json::from_str(&text).map_err(|e| {
                store_error(format!(
                    "the stored state of source {source:?} is unreadable: {e}"
                ))
            }),
            Err(e) => Err(store_error(format!(
                "the state of source {source:?} cannot be read: {e}"
            ))),
        }
    }

    fn save_state(&self, source: &str, state: &SourceState) -> Result<(), ErrorInfo> {
        let text = serde_json::to_string(state).unwrap_or_default();
        self.store.save(source, &text).map_err(|e| {
            ErrorInfo::new(
                accesslink_core::ErrorKind::Other,
                format!("the state of source {source:?} cannot be saved: {e}"),
            )
        })
    }
}
