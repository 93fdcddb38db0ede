//! What a request came to, and how ticket states map to it.

use std::fmt;

use accesslink_core::redact::{redact_text, truncate};
use accesslink_core::{ApprovalState, Error, ErrorKind, RequestId, Ticket, TicketState};

/// An error reduced to what the identity product needs: its kind (to branch on, and
/// to decide whether to retry) and a redacted message for people.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ErrorInfo {
    /// The kind of failure.
    pub kind: ErrorKind,
    /// What failed, redacted and truncated.
    pub message: String,
}

impl ErrorInfo {
    /// An error info from its parts.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        ErrorInfo {
            kind,
            message: message.into(),
        }
    }

    /// Whether repeating the request later may succeed.
    pub fn is_retryable(&self) -> bool {
        self.kind.is_retryable()
    }
}

impl From<&Error> for ErrorInfo {
    fn from(e: &Error) -> Self {
        ErrorInfo::new(e.kind(), truncate(&redact_text(&e.to_string()), 500))
    }
}

impl fmt::Display for ErrorInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind, self.message)
    }
}

/// The final status of a request, as the identity product's task status.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TaskStatus {
    /// Done: the ticket was resolved or closed (by people, or by the workflow after
    /// provisioning).
    Completed,
    /// The ticket's approval was rejected.
    Rejected,
    /// The ticket was cancelled (or, for connectors that map it so, closed unsuccessfully).
    Cancelled,
    /// An error ended the request: opening the ticket, provisioning, or closing it.
    Failed(ErrorInfo),
    /// The ticket was still open at the deadline. Run the request again later: it
    /// finds the same ticket.
    TimedOut {
        /// The last error met while following the ticket, if any.
        last_error: Option<ErrorInfo>,
    },
}

impl TaskStatus {
    /// The snake_case name used in audit events.
    pub fn as_str(&self) -> &'static str {
        match self {
            TaskStatus::Completed => "completed",
            TaskStatus::Rejected => "rejected",
            TaskStatus::Cancelled => "cancelled",
            TaskStatus::Failed(_) => "failed",
            TaskStatus::TimedOut { .. } => "timed_out",
        }
    }
}

impl fmt::Display for TaskStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TaskStatus::Failed(e) => write!(f, "failed ({e})"),
            TaskStatus::TimedOut {
                last_error: Some(e),
            } => write!(f, "timed out (last error {e})"),
            other => f.write_str(other.as_str()),
        }
    }
}

/// What the provisioner did for a request in automated mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Provisioned {
    /// The account was created.
    Created,
    /// The account already existed.
    AlreadyExists,
    /// The entitlement was granted.
    Granted,
    /// The account already held the entitlement.
    AlreadyGranted,
    /// The entitlement was revoked.
    Revoked,
    /// The account did not hold the entitlement.
    AlreadyAbsent,
    /// The account was disabled (disabling is idempotent).
    Disabled,
    /// The account was deleted.
    Deleted,
    /// The account did not exist (any more).
    AlreadyDeleted,
    /// Not provisioned again: the ticket already carried this request's
    /// `accesslink: provisioned` marker from an earlier run.
    RecordedOnTicket,
}

impl Provisioned {
    /// The snake_case name used in comments and audit events.
    pub fn as_str(self) -> &'static str {
        match self {
            Provisioned::Created => "created",
            Provisioned::AlreadyExists => "already_exists",
            Provisioned::Granted => "granted",
            Provisioned::AlreadyGranted => "already_granted",
            Provisioned::Revoked => "revoked",
            Provisioned::AlreadyAbsent => "already_absent",
            Provisioned::Disabled => "disabled",
            Provisioned::Deleted => "deleted",
            Provisioned::AlreadyDeleted => "already_deleted",
            Provisioned::RecordedOnTicket => "recorded_on_ticket",
        }
    }
}

/// What became of one request.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct TaskOutcome {
    /// The request.
    pub request_id: RequestId,
    /// The final status.
    pub status: TaskStatus,
    /// The ticket as last read, when one was opened or found.
    pub ticket: Option<Ticket>,
    /// The ticket's raw native state (`closed successful`, `7`), when known.
    pub raw_state: Option<String>,
    /// What the provisioner did, in automated mode.
    pub provisioned: Option<Provisioned>,
}

impl TaskOutcome {
    pub(crate) fn new(request_id: RequestId, status: TaskStatus, ticket: Option<Ticket>) -> Self {
        let raw_state = ticket.as_ref().map(|t| t.status.raw.clone());
        TaskOutcome {
            request_id,
            status,
            ticket,
            raw_state,
            provisioned: None,
        }
    }

    pub(crate) fn with_provisioned(mut self, p: Option<Provisioned>) -> Self {
        self.provisioned = p;
        self
    }

    /// Whether the request completed.
    pub fn is_completed(&self) -> bool {
        self.status == TaskStatus::Completed
    }
}

/// The final status a ticket stands for, or `None` while people are still at work.
///
/// | state | approval | status |
/// |---|---|---|
/// | Resolved, Closed | Rejected | Rejected |
/// | Resolved, Closed | other | Completed |
/// | Cancelled | Rejected | Rejected |
/// | Cancelled | other | Cancelled |
/// | New, InProgress, OnHold, Reopened, Unknown | any | keep waiting |
///
/// An `Unknown` state keeps waiting rather than guessing: the connector's mapping
/// table does not know the value, and a deadline ends the wait.
pub fn status_of(ticket: &Ticket) -> Option<TaskStatus> {
    let rejected = ticket.approval_state() == ApprovalState::Rejected;
    match ticket.status.state {
        TicketState::Resolved | TicketState::Closed if rejected => Some(TaskStatus::Rejected),
        TicketState::Resolved | TicketState::Closed => Some(TaskStatus::Completed),
        TicketState::Cancelled if rejected => Some(TaskStatus::Rejected),
        TicketState::Cancelled => Some(TaskStatus::Cancelled),
        _ => None,
    }
}
