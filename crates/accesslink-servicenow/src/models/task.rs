//! Rows of `task` and the tables that extend it (incident, change_request, …).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{Record, Reference, reference, text};

/// A row of `task` or any table that extends it. Fields a table does not have stay
/// `None` (the instance ignores unknown names in `sysparm_fields`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TaskRecord {
    /// The row's `sys_id`.
    #[serde(default, deserialize_with = "text")]
    pub sys_id: Option<String>,
    /// The human number (`INC0010001`).
    #[serde(default, deserialize_with = "text")]
    pub number: Option<String>,
    /// The row's real table (`incident`, …), which matters when read through `task`.
    #[serde(
        default,
        deserialize_with = "text",
        skip_serializing_if = "Option::is_none"
    )]
    pub sys_class_name: Option<String>,
    /// Title.
    #[serde(
        default,
        deserialize_with = "text",
        skip_serializing_if = "Option::is_none"
    )]
    pub short_description: Option<String>,
    /// Body.
    #[serde(
        default,
        deserialize_with = "text",
        skip_serializing_if = "Option::is_none"
    )]
    pub description: Option<String>,
    /// The table's state number, as a string (`"2"`, `"-5"`).
    #[serde(
        default,
        deserialize_with = "text",
        skip_serializing_if = "Option::is_none"
    )]
    pub state: Option<String>,
    /// `"true"` while the task is open.
    #[serde(
        default,
        deserialize_with = "text",
        skip_serializing_if = "Option::is_none"
    )]
    pub active: Option<String>,
    /// `not requested`, `requested`, `approved`, `rejected`, …
    #[serde(
        default,
        deserialize_with = "text",
        skip_serializing_if = "Option::is_none"
    )]
    pub approval: Option<String>,
    /// Priority (1–5).
    #[serde(
        default,
        deserialize_with = "text",
        skip_serializing_if = "Option::is_none"
    )]
    pub priority: Option<String>,
    /// Urgency (1–3).
    #[serde(
        default,
        deserialize_with = "text",
        skip_serializing_if = "Option::is_none"
    )]
    pub urgency: Option<String>,
    /// Impact (1–3).
    #[serde(
        default,
        deserialize_with = "text",
        skip_serializing_if = "Option::is_none"
    )]
    pub impact: Option<String>,
    /// Incident caller.
    #[serde(
        default,
        deserialize_with = "reference",
        skip_serializing_if = "Option::is_none"
    )]
    pub caller_id: Option<Reference>,
    /// Requests and request items: who the request is for.
    #[serde(
        default,
        deserialize_with = "reference",
        skip_serializing_if = "Option::is_none"
    )]
    pub requested_for: Option<Reference>,
    /// Who opened the task.
    #[serde(
        default,
        deserialize_with = "reference",
        skip_serializing_if = "Option::is_none"
    )]
    pub opened_by: Option<Reference>,
    /// Assignee.
    #[serde(
        default,
        deserialize_with = "reference",
        skip_serializing_if = "Option::is_none"
    )]
    pub assigned_to: Option<Reference>,
    /// Assignment group.
    #[serde(
        default,
        deserialize_with = "reference",
        skip_serializing_if = "Option::is_none"
    )]
    pub assignment_group: Option<Reference>,
    /// Parent task.
    #[serde(
        default,
        deserialize_with = "reference",
        skip_serializing_if = "Option::is_none"
    )]
    pub parent: Option<Reference>,
    /// The id of the request in the system that opened the task.
    #[serde(
        default,
        deserialize_with = "text",
        skip_serializing_if = "Option::is_none"
    )]
    pub correlation_id: Option<String>,
    /// The name of the system that opened the task.
    #[serde(
        default,
        deserialize_with = "text",
        skip_serializing_if = "Option::is_none"
    )]
    pub correlation_display: Option<String>,
    /// Incident resolution code / change close code.
    #[serde(
        default,
        deserialize_with = "text",
        skip_serializing_if = "Option::is_none"
    )]
    pub close_code: Option<String>,
    /// Close notes.
    #[serde(
        default,
        deserialize_with = "text",
        skip_serializing_if = "Option::is_none"
    )]
    pub close_notes: Option<String>,
    /// Incident: on-hold reason.
    #[serde(
        default,
        deserialize_with = "text",
        skip_serializing_if = "Option::is_none"
    )]
    pub hold_reason: Option<String>,
    /// Change: `"true"` when on hold.
    #[serde(
        default,
        deserialize_with = "text",
        skip_serializing_if = "Option::is_none"
    )]
    pub on_hold: Option<String>,
    /// `sc_request`: `requested`, `in_process`, `closed_complete`, …
    #[serde(
        default,
        deserialize_with = "text",
        skip_serializing_if = "Option::is_none"
    )]
    pub request_state: Option<String>,
    /// `sc_req_item`: `waiting_for_approval`, `fulfillment`, `complete`, …
    #[serde(
        default,
        deserialize_with = "text",
        skip_serializing_if = "Option::is_none"
    )]
    pub stage: Option<String>,
    /// Created, `YYYY-MM-DD HH:MM:SS` UTC.
    #[serde(
        default,
        deserialize_with = "text",
        skip_serializing_if = "Option::is_none"
    )]
    pub sys_created_on: Option<String>,
    /// Last updated, `YYYY-MM-DD HH:MM:SS` UTC.
    #[serde(
        default,
        deserialize_with = "text",
        skip_serializing_if = "Option::is_none"
    )]
    pub sys_updated_on: Option<String>,
    /// Any other field the instance sent (custom `u_*` fields asked for by
    /// configuration), raw.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// The fields asked for on every task read.
pub(crate) const TASK_FIELDS: &[&str] = &[
    "sys_id",
    "number",
    "sys_class_name",
    "short_description",
    "description",
    "state",
    "active",
    "approval",
    "priority",
    "urgency",
    "impact",
    "caller_id",
    "requested_for",
    "opened_by",
    // Dot-walked: the requester's login and email come with the row, so a gate can match
    // a user name without one more request per ticket (they land in `other`).
    "caller_id.user_name",
    "caller_id.email",
    "requested_for.user_name",
    "requested_for.email",
    "opened_by.user_name",
    "opened_by.email",
    "assigned_to",
    "assignment_group",
    "parent",
    "correlation_id",
    "correlation_display",
    "close_code",
    "close_notes",
    "hold_reason",
    "on_hold",
    "request_state",
    "stage",
    "sys_created_on",
    "sys_updated_on",
];

impl Record for TaskRecord {
    fn fields() -> Option<&'static [&'static str]> {
        Some(TASK_FIELDS)
    }
}

/// A `sys_journal_field` row: one comment or work note.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct JournalEntry {
    /// `sys_id` of the entry.
    #[serde(default, deserialize_with = "text")]
    pub sys_id: Option<String>,
    /// The task's `sys_id`.
    #[serde(default, deserialize_with = "text")]
    pub element_id: Option<String>,
    /// `comments` or `work_notes`.
    #[serde(default, deserialize_with = "text")]
    pub element: Option<String>,
    /// The text.
    #[serde(default, deserialize_with = "text")]
    pub value: Option<String>,
    /// When it was written.
    #[serde(
        default,
        deserialize_with = "text",
        skip_serializing_if = "Option::is_none"
    )]
    pub sys_created_on: Option<String>,
    /// The `user_name` of who wrote it.
    #[serde(
        default,
        deserialize_with = "text",
        skip_serializing_if = "Option::is_none"
    )]
    pub sys_created_by: Option<String>,
}

impl Record for JournalEntry {
    fn fields() -> Option<&'static [&'static str]> {
        Some(&[
            "sys_id",
            "element_id",
            "element",
            "value",
            "sys_created_on",
            "sys_created_by",
        ])
    }
}
