//! Incidents and service requests (fact sheet §1.10): the same shapes for both.

use accesslink_core::de;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A person on a ticket (`requester`, `assignedUser`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct TicketUser {
    /// `USR…`.
    #[serde(
        default,
        deserialize_with = "de::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub id: Option<String>,
    /// The login name.
    #[serde(
        default,
        deserialize_with = "de::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub login_name: Option<String>,
    /// Given name.
    #[serde(
        default,
        deserialize_with = "de::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub first_name: Option<String>,
    /// Family name.
    #[serde(
        default,
        deserialize_with = "de::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub last_name: Option<String>,
    /// Email.
    #[serde(
        default,
        deserialize_with = "de::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub email: Option<String>,
}

/// An incident or a service request.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct OpsTicket {
    /// `INC0000001114`, `SRQ0000001113`.
    #[serde(default, deserialize_with = "de::string")]
    pub id: String,
    /// The title.
    #[serde(default, deserialize_with = "de::string")]
    pub subject: String,
    /// The description.
    #[serde(default, deserialize_with = "de::opt_string")]
    pub description: Option<String>,
    /// `New`, `Open`, `Pending`, `On Hold`, `Resolved`, `Closed` (tenant-configurable).
    #[serde(default, deserialize_with = "de::string")]
    pub status: String,
    /// `Low`, `Normal`, `High`, `Urgent`, `Very Low`, or what the tenant uses.
    #[serde(default, deserialize_with = "de::opt_string")]
    pub priority: Option<String>,
    /// The requester.
    #[serde(default)]
    pub requester: Option<TicketUser>,
    /// The assignee.
    #[serde(default)]
    pub assigned_user: Option<TicketUser>,
    /// The external id the ticket was opened with (the correlation id).
    #[serde(default, deserialize_with = "de::opt_string")]
    pub ext_ticket_id: Option<String>,
    /// `2016-11-01T11:54:24+0000`.
    #[serde(default, deserialize_with = "de::opt_string")]
    pub created_date: Option<String>,
    /// Same format.
    #[serde(default, deserialize_with = "de::opt_string")]
    pub updated_date: Option<String>,
    /// The statuses the ticket may move to, and whether each needs a configured reason.
    #[serde(default)]
    pub allowed_status: Vec<AllowedStatus>,
    /// Everything else (`slaDetails`, `customFields`, `statusReason`, …).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One entry of `allowedStatus`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct AllowedStatus {
    /// The status id.
    #[serde(default, deserialize_with = "de::opt_string")]
    pub id: Option<String>,
    /// The status name.
    #[serde(default, deserialize_with = "de::string")]
    pub name: String,
    /// Whether moving there needs one of the tenant's configured reasons.
    #[serde(default)]
    pub reasons_enabled: bool,
}

/// A ticket create body; any other field (`category`, `customFields`, `assigneeGroup`, …)
/// goes in `extra`.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct NewOpsTicket {
    /// The title (the one required field).
    pub subject: String,
    /// The description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The priority.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priority: Option<String>,
    /// The requester (`{"id"}` or `{"loginName"}`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requester: Option<TicketUser>,
    /// The external id (searchable): the correlation id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ext_ticket_id: Option<String>,
    /// Other fields.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A response ("conversation") of a ticket, from `POST …/responses` or
/// `…/responses/search` (fact sheet §1.10).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct TicketResponse {
    /// The text.
    #[serde(default, deserialize_with = "de::opt_string")]
    pub description: Option<String>,
    /// An internal note rather than a public reply.
    #[serde(default)]
    pub internal: Option<bool>,
    /// The caller's id sent with the response (a number in the spec's example: read as
    /// text).
    #[serde(default, deserialize_with = "de::opt_string")]
    pub ext_ticket_response_id: Option<String>,
    /// `+0000`-style timestamp.
    #[serde(default, deserialize_with = "de::opt_string")]
    pub created_date: Option<String>,
    /// Everything else (`creator`, `attachments`, `hasAttachments`, …).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}
