//! Tickets, normalised the same way for every target.

use std::fmt;
use std::time::SystemTime;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::ids::{CorrelationId, TicketRef};

/// What sort of ticket this is.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum TicketKind {
    /// An incident.
    Incident,
    /// A change request.
    Change,
    /// A task of a change.
    ChangeTask,
    /// A service/catalogue request.
    Request,
    /// An item of a request.
    RequestItem,
    /// A problem.
    Problem,
    /// A project.
    Project,
    /// A task of a project.
    ProjectTask,
    /// A generic task.
    Task,
    /// A case (Salesforce).
    Case,
    /// Any other kind, with the target's own name.
    Other(String),
}

impl fmt::Display for TicketKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            TicketKind::Incident => "incident",
            TicketKind::Change => "change",
            TicketKind::ChangeTask => "change_task",
            TicketKind::Request => "request",
            TicketKind::RequestItem => "request_item",
            TicketKind::Problem => "problem",
            TicketKind::Project => "project",
            TicketKind::ProjectTask => "project_task",
            TicketKind::Task => "task",
            TicketKind::Case => "case",
            TicketKind::Other(s) => s,
        };
        f.write_str(s)
    }
}

/// The normalised state of a ticket, after the OCSF ticket vocabulary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum TicketState {
    /// Opened, not yet worked.
    New,
    /// Being worked.
    InProgress,
    /// Waiting (on the requester, a vendor, a date).
    OnHold,
    /// Solved, not yet closed.
    Resolved,
    /// Closed.
    Closed,
    /// Cancelled, withdrawn or rejected before being worked.
    Cancelled,
    /// Reopened after being resolved or closed.
    Reopened,
    /// A native state the mapping does not know.
    Unknown,
}

impl TicketState {
    /// Whether the ticket is finished (resolved, closed or cancelled).
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            TicketState::Resolved | TicketState::Closed | TicketState::Cancelled
        )
    }

    /// Whether the ticket is still being worked or waiting to be.
    pub fn is_open(self) -> bool {
        matches!(
            self,
            TicketState::New
                | TicketState::InProgress
                | TicketState::OnHold
                | TicketState::Reopened
        )
    }
}

impl fmt::Display for TicketState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TicketState::New => "new",
            TicketState::InProgress => "in_progress",
            TicketState::OnHold => "on_hold",
            TicketState::Resolved => "resolved",
            TicketState::Closed => "closed",
            TicketState::Cancelled => "cancelled",
            TicketState::Reopened => "reopened",
            TicketState::Unknown => "unknown",
        })
    }
}

/// A normalised state with the target's raw value kept beside it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketStatus {
    /// The normalised state.
    pub state: TicketState,
    /// The target's own value (`"7"`, `"closed successful"`, `"Resolved"`).
    pub raw: String,
}

impl TicketStatus {
    /// A status from its parts.
    pub fn new(state: TicketState, raw: impl Into<String>) -> Self {
        TicketStatus {
            state,
            raw: raw.into(),
        }
    }
}

/// Whether the ticket's change or request is approved. Kept apart from the state:
/// a ticket can be open and approved, or closed and rejected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approval {
    /// The normalised approval state.
    pub state: ApprovalState,
    /// The target's own value.
    pub raw: String,
}

/// Normalised approval states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ApprovalState {
    /// No approval was asked for.
    NotRequested,
    /// Waiting for approvers.
    Requested,
    /// Approved.
    Approved,
    /// Rejected.
    Rejected,
    /// A native value the mapping does not know.
    Unknown,
}

impl fmt::Display for ApprovalState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ApprovalState::NotRequested => "not_requested",
            ApprovalState::Requested => "requested",
            ApprovalState::Approved => "approved",
            ApprovalState::Rejected => "rejected",
            ApprovalState::Unknown => "unknown",
        })
    }
}

/// A person as a ticketing system names them.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Person {
    /// The target's id for the person, if known.
    pub id: Option<String>,
    /// A login or user name, if known.
    pub login: Option<String>,
    /// A display name, if known.
    pub name: Option<String>,
    /// An email address, if known.
    pub email: Option<String>,
}

impl Person {
    /// A person known by login only.
    pub fn login(login: impl Into<String>) -> Self {
        Person {
            login: Some(login.into()),
            ..Person::default()
        }
    }

    /// Whether any of the person's identifiers equals `value` (case-insensitive).
    pub fn matches(&self, value: &str) -> bool {
        [&self.id, &self.login, &self.name, &self.email]
            .into_iter()
            .flatten()
            .any(|v| v.eq_ignore_ascii_case(value))
    }
}

/// A ticket as every connector returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Ticket {
    /// Internal id and human number.
    pub reference: TicketRef,
    /// What sort of ticket.
    pub kind: TicketKind,
    /// Title or short description.
    pub title: String,
    /// Description or first article, if the target returned it.
    pub description: Option<String>,
    /// Who asked.
    pub requester: Option<Person>,
    /// Who works it.
    pub assignee: Option<Person>,
    /// The target's priority value.
    pub priority: Option<String>,
    /// When it was opened.
    pub created: Option<SystemTime>,
    /// When it last changed.
    pub updated: Option<SystemTime>,
    /// A link for people.
    pub web_url: Option<String>,
    /// State, normalised and raw.
    pub status: TicketStatus,
    /// Approval, normalised and raw.
    pub approval: Option<Approval>,
    /// Resolution code or notes, if closed.
    pub resolution: Option<String>,
    /// The correlation id the ticket was created with, if found on it.
    pub correlation_id: Option<CorrelationId>,
    /// The target's native fields, as JSON.
    pub extra: Map<String, Value>,
}

impl Ticket {
    /// A ticket with the required fields; the rest are empty.
    pub fn new(
        reference: TicketRef,
        kind: TicketKind,
        title: impl Into<String>,
        status: TicketStatus,
    ) -> Self {
        Ticket {
            reference,
            kind,
            title: title.into(),
            description: None,
            requester: None,
            assignee: None,
            priority: None,
            created: None,
            updated: None,
            web_url: None,
            status,
            approval: None,
            resolution: None,
            correlation_id: None,
            extra: Map::new(),
        }
    }

    /// The normalised approval state, `NotRequested` when the target has none.
    pub fn approval_state(&self) -> ApprovalState {
        self.approval
            .as_ref()
            .map_or(ApprovalState::NotRequested, |a| a.state)
    }
}

/// A ticket to open. The correlation id is required: it is what makes creation idempotent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct NewTicket {
    /// What sort of ticket.
    pub kind: TicketKind,
    /// Title or short description.
    pub title: String,
    /// Body text.
    pub description: String,
    /// Who asks, if the target records it.
    pub requester: Option<Person>,
    /// Priority in the target's own terms.
    pub priority: Option<String>,
    /// The id of the request this ticket serves.
    pub correlation_id: CorrelationId,
    /// Target-specific fields (ServiceNow `u_*`, OTRS dynamic fields, Jira custom fields).
    pub extra: Map<String, Value>,
}

impl NewTicket {
    /// A new ticket with the required fields.
    pub fn new(
        kind: TicketKind,
        title: impl Into<String>,
        description: impl Into<String>,
        correlation_id: CorrelationId,
    ) -> Self {
        NewTicket {
            kind,
            title: title.into(),
            description: description.into(),
            requester: None,
            priority: None,
            correlation_id,
            extra: Map::new(),
        }
    }

    /// Sets the requester.
    #[must_use]
    pub fn requester(mut self, requester: Person) -> Self {
        self.requester = Some(requester);
        self
    }

    /// Sets the priority.
    #[must_use]
    pub fn priority(mut self, priority: impl Into<String>) -> Self {
        self.priority = Some(priority.into());
        self
    }

    /// Adds a target-specific field.
    #[must_use]
    pub fn extra(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.extra.insert(key.into(), value.into());
        self
    }
}

/// Who may see a comment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Visibility {
    /// Visible to the requester.
    Public,
    /// Internal (a work note).
    Internal,
}

/// A comment to add to a ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Comment {
    /// The text.
    pub body: String,
    /// Who may see it.
    pub visibility: Visibility,
}

impl Comment {
    /// A comment visible to the requester.
    pub fn public(body: impl Into<String>) -> Self {
        Comment {
            body: body.into(),
            visibility: Visibility::Public,
        }
    }

    /// An internal work note.
    pub fn internal(body: impl Into<String>) -> Self {
        Comment {
            body: body.into(),
            visibility: Visibility::Internal,
        }
    }
}

/// A comment read back from a ticket ([`TicketingSystem::list_comments`](crate::TicketingSystem::list_comments)).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TicketComment {
    /// The target's id for the comment (article, journal entry, work note), stable
    /// across reads: what two-way sync remembers to deliver each comment once.
    pub id: String,
    /// Who wrote it, if the target says.
    pub author: Option<Person>,
    /// Who may see it.
    pub visibility: Visibility,
    /// When it was written, if the target says.
    pub created: Option<SystemTime>,
    /// The text (HTML bodies as the target stores them).
    pub body: String,
}

impl TicketComment {
    /// A comment read back with id, visibility and body; author and time unset.
    pub fn new(id: impl Into<String>, visibility: Visibility, body: impl Into<String>) -> Self {
        TicketComment {
            id: id.into(),
            author: None,
            visibility,
            created: None,
            body: body.into(),
        }
    }

    /// Sets the author.
    #[must_use]
    pub fn author(mut self, author: Person) -> Self {
        self.author = Some(author);
        self
    }

    /// Sets the time it was written.
    #[must_use]
    pub fn created(mut self, at: SystemTime) -> Self {
        self.created = Some(at);
        self
    }
}

/// How a ticket is closed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Resolution {
    /// Whether the work succeeded; connectors pick a "closed successful" or
    /// "closed unsuccessful" style state from it.
    pub successful: bool,
    /// A close code in the target's terms, if it needs one.
    pub code: Option<String>,
    /// Close notes.
    pub notes: String,
}

impl Resolution {
    /// A successful close with notes.
    pub fn done(notes: impl Into<String>) -> Self {
        Resolution {
            successful: true,
            code: None,
            notes: notes.into(),
        }
    }

    /// An unsuccessful close with notes.
    pub fn failed(notes: impl Into<String>) -> Self {
        Resolution {
            successful: false,
            code: None,
            notes: notes.into(),
        }
    }

    /// Sets the close code.
    #[must_use]
    pub fn code(mut self, code: impl Into<String>) -> Self {
        self.code = Some(code.into());
        self
    }
}
