//! Audit events: one record per fulfilment step and per gate decision.
//!
//! Events carry identifiers, states, reasons and error kinds — never ticket bodies,
//! request attributes or credentials. Detail values go through core's redaction on
//! the way in, as a second line of defence.
//!
//! Sinks are synchronous and object-safe (`Arc<dyn AuditSink>`): recording an event
//! is a short append, and a synchronous trait can be called from anywhere, drop
//! guards and sync callbacks included. A sink error never changes a workflow
//! outcome or a gate verdict; it is reported through `tracing` at error level.

use std::fmt::{self, Debug};
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::SystemTime;

use accesslink_core::redact::{REDACTED, is_sensitive_key, redact_json};
use accesslink_core::{ConnectorInfo, RequestId, TicketRef};
use serde::{Serialize, Serializer};
use serde_json::{Map, Value};

/// Which connector an event concerns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ConnectorLabel {
    /// The target system (`otrs`, `servicenow`, …).
    pub target: String,
    /// The instance name from configuration.
    pub instance: String,
}

impl ConnectorLabel {
    /// A label from its parts.
    pub fn new(target: impl Into<String>, instance: impl Into<String>) -> Self {
        ConnectorLabel {
            target: target.into(),
            instance: instance.into(),
        }
    }
}

impl From<&ConnectorInfo> for ConnectorLabel {
    fn from(info: &ConnectorInfo) -> Self {
        ConnectorLabel::new(info.target, info.instance.clone())
    }
}

impl fmt::Display for ConnectorLabel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.target, self.instance)
    }
}

/// What step an event records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum AuditAction {
    /// A ticket was opened for a request, or the one already opened was found.
    TicketOpened,
    /// One batched poll round over the pending tickets.
    TicketsPolled,
    /// The provisioner carried out a request (or the ticket showed it already had).
    Provisioned,
    /// A result comment was added to a ticket.
    TicketCommented,
    /// A ticket was closed by the workflow.
    TicketClosed,
    /// The final outcome of a request was decided.
    TaskFinished,
    /// The ticket gate decided an access attempt.
    GateChecked,
    /// A super administrator was let through without a ticket.
    ExemptionUsed,
    /// An access request was approved automatically (its ticket validated) or
    /// routed to manual approval.
    ApprovalDecided,
    /// The link of an allowed session was added to the ticket as a comment.
    SessionLinked,
}

impl AuditAction {
    /// The snake_case name used in serialised events.
    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::TicketOpened => "ticket_opened",
            AuditAction::TicketsPolled => "tickets_polled",
            AuditAction::Provisioned => "provisioned",
            AuditAction::TicketCommented => "ticket_commented",
            AuditAction::TicketClosed => "ticket_closed",
            AuditAction::TaskFinished => "task_finished",
            AuditAction::GateChecked => "gate_checked",
            AuditAction::ExemptionUsed => "exemption_used",
            AuditAction::ApprovalDecided => "approval_decided",
            AuditAction::SessionLinked => "session_linked",
        }
    }
}

/// How a step ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum AuditOutcome {
    /// The step succeeded.
    Success,
    /// The step failed.
    Failure,
    /// Nothing final yet; the step will be retried or the ticket followed further.
    Pending,
    /// The gate allowed the attempt.
    Allowed,
    /// The gate denied the attempt.
    Denied,
}

impl AuditOutcome {
    /// The snake_case name used in serialised events.
    pub fn as_str(self) -> &'static str {
        match self {
            AuditOutcome::Success => "success",
            AuditOutcome::Failure => "failure",
            AuditOutcome::Pending => "pending",
            AuditOutcome::Allowed => "allowed",
            AuditOutcome::Denied => "denied",
        }
    }

    fn is_bad(self) -> bool {
        matches!(self, AuditOutcome::Failure | AuditOutcome::Denied)
    }
}

/// One audit record.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct AuditEvent {
    /// When it happened, serialised as RFC 3339 UTC with milliseconds.
    #[serde(serialize_with = "serialize_time")]
    pub time: SystemTime,
    /// The access request concerned, if any.
    pub request_id: Option<RequestId>,
    /// The ticket concerned, if known.
    pub ticket: Option<TicketRef>,
    /// The connector the step talked to.
    pub connector: ConnectorLabel,
    /// The step.
    pub action: AuditAction,
    /// How it ended.
    pub outcome: AuditOutcome,
    /// Step-specific facts (states, reasons, error kinds, counts). Never secrets.
    pub detail: Map<String, Value>,
}

impl AuditEvent {
    /// An event stamped now.
    pub fn new(action: AuditAction, outcome: AuditOutcome, connector: ConnectorLabel) -> Self {
        AuditEvent {
            time: SystemTime::now(),
            request_id: None,
            ticket: None,
            connector,
            action,
            outcome,
            detail: Map::new(),
        }
    }

    /// Sets the request.
    #[must_use]
    pub fn request(mut self, id: &RequestId) -> Self {
        self.request_id = Some(id.clone());
        self
    }

    /// Sets the ticket.
    #[must_use]
    pub fn ticket(mut self, r: Option<&TicketRef>) -> Self {
        self.ticket = r.cloned();
        self
    }

    /// Adds a detail. Values under secret-looking keys are replaced, and nested
    /// secret-looking keys redacted.
    #[must_use]
    pub fn detail(mut self, key: &str, value: impl Into<Value>) -> Self {
        let mut value = value.into();
        if is_sensitive_key(key) {
            value = Value::String(REDACTED.into());
        } else {
            redact_json(&mut value);
        }
        self.detail.insert(key.to_owned(), value);
        self
    }
}

/// Where audit events go. Object-safe: hold sinks as `Arc<dyn AuditSink>`.
pub trait AuditSink: Send + Sync + Debug {
    /// Records one event.
    ///
    /// # Errors
    /// When the event could not be stored; the caller logs it and carries on.
    fn record(&self, event: &AuditEvent) -> io::Result<()>;
}

/// Records `event`, logging (never propagating) a sink failure.
pub(crate) fn emit(sink: &dyn AuditSink, event: &AuditEvent) {
    if let Err(error) = sink.record(event) {
        tracing::error!(
            target: "accesslink::audit",
            %error,
            action = event.action.as_str(),
            "audit event could not be recorded"
        );
    }
}

/// Emits every event as a structured `tracing` event with target `accesslink::audit`
/// (info level; warn for failures and denials). The default sink.
#[derive(Debug, Clone, Copy, Default)]
pub struct TracingSink;

impl AuditSink for TracingSink {
    fn record(&self, e: &AuditEvent) -> io::Result<()> {
        let request_id = e.request_id.as_ref().map(RequestId::as_str);
        let ticket = e.ticket.as_ref().map(ToString::to_string);
        let detail = Value::Object(e.detail.clone()).to_string();
        macro_rules! event {
            ($level:expr) => {
                tracing::event!(
                    target: "accesslink::audit",
                    $level,
                    action = e.action.as_str(),
                    outcome = e.outcome.as_str(),
                    request_id,
                    ticket,
                    connector_target = %e.connector.target,
                    connector_instance = %e.connector.instance,
                    detail = %detail,
                    "audit"
                )
            };
        }
        if e.outcome.is_bad() {
            event!(tracing::Level::WARN);
        } else {
            event!(tracing::Level::INFO);
        }
        Ok(())
    }
}

/// Appends one JSON object per line to a file.
///
/// The file is opened in append mode and each event is written with a single
/// `write_all` of the whole line under a lock, so writers in this process never
/// interleave, and writers in other processes appending to the same file (with
/// `O_APPEND`) do not either for lines of ordinary size. Every line is handed to the
/// operating system before `record` returns; [`sync_each`](Self::sync_each) also
/// forces it to disk.
pub struct JsonLinesSink {
    path: PathBuf,
    file: Mutex<File>,
    sync: bool,
}

impl JsonLinesSink {
    /// Opens (creating if needed) the file for appending.
    ///
    /// # Errors
    /// When the file cannot be opened.
    pub fn open(path: impl AsRef<Path>) -> io::Result<Self> {
        let path = path.as_ref().to_path_buf();
        let file = OpenOptions::new().create(true).append(true).open(&path)?;
        Ok(JsonLinesSink {
            path,
            file: Mutex::new(file),
            sync: false,
        })
    }

    /// Also `fsync`s after every event (slower; survives power loss).
    #[must_use]
    pub fn sync_each(mut self, sync: bool) -> Self {
        self.sync = sync;
        self
    }

    /// The file written to.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Debug for JsonLinesSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JsonLinesSink")
            .field("path", &self.path)
            .field("sync", &self.sync)
            .finish_non_exhaustive()
    }
}

impl AuditSink for JsonLinesSink {
    fn record(&self, event: &AuditEvent) -> io::Result<()> {
        let mut line = serde_json::to_vec(event).map_err(io::Error::other)?;
        line.push(b'\n');
        let mut file = lock(&self.file);
        file.write_all(&line)?;
        file.flush()?;
        if self.sync {
            file.sync_data()?;
        }
        Ok(())
    }
}

/// Keeps events in memory: for tests, and for embedders that forward them in bulk.
#[derive(Debug, Default)]
pub struct MemorySink {
    events: Mutex<Vec<AuditEvent>>,
}

impl MemorySink {
    /// An empty sink.
    pub fn new() -> Self {
        MemorySink::default()
    }

    /// A copy of the events recorded so far.
    pub fn events(&self) -> Vec<AuditEvent> {
        lock(&self.events).clone()
    }

    /// Removes and returns the events recorded so far.
    pub fn take(&self) -> Vec<AuditEvent> {
        std::mem::take(&mut *lock(&self.events))
    }
}

impl AuditSink for MemorySink {
    fn record(&self, event: &AuditEvent) -> io::Result<()> {
        lock(&self.events).push(event.clone());
        Ok(())
    }
}

/// A poisoned lock only means another writer panicked mid-append; the data is
/// still usable, and an audit sink must keep recording.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn serialize_time<S: Serializer>(t: &SystemTime, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&rfc3339(*t))
}

/// `2026-01-31T12:34:56.789Z`; times before 1970 are clamped to the epoch.
pub(crate) fn rfc3339(t: SystemTime) -> String {
    accesslink_core::time::format_rfc3339_millis(t)
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;

    #[test]
    fn rfc3339_known_instants() {
        let at = |s: u64, ms: u64| UNIX_EPOCH + Duration::from_millis(s * 1000 + ms);
        assert_eq!(rfc3339(at(0, 0)), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(at(951_782_400, 0)), "2000-02-29T00:00:00.000Z");
        assert_eq!(rfc3339(at(1_700_000_000, 42)), "2023-11-14T22:13:20.042Z");
        assert_eq!(rfc3339(at(4_102_444_799, 999)), "2099-12-31T23:59:59.999Z");
        assert_eq!(
            rfc3339(UNIX_EPOCH - Duration::from_secs(5)),
            "1970-01-01T00:00:00.000Z"
        );
    }

    #[test]
    fn details_under_secret_keys_are_redacted() {
        let e = AuditEvent::new(
            AuditAction::GateChecked,
            AuditOutcome::Denied,
            ConnectorLabel::new("otrs", "prod"),
        )
        .detail("session_token", "abc")
        .detail(
            "nested",
            serde_json::json!({ "password": "hunter2", "state": "open" }),
        );
        assert_eq!(e.detail["session_token"], REDACTED);
        assert_eq!(e.detail["nested"]["password"], REDACTED);
        assert_eq!(e.detail["nested"]["state"], "open");
    }
}
