//! Serde types for the SDP objects the connector reads, tolerant of what real servers
//! send: ids and times as strings or numbers, `null` for absent lookups, custom fields
//! nested in `udf_fields` (before build 15200) or at the top level (after).

use accesslink_core::de;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A lookup (`{"id":"..","name":".."}`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Named {
    /// The id.
    #[serde(default, deserialize_with = "de::opt_string")]
    pub id: Option<String>,
    /// The name.
    #[serde(default, deserialize_with = "de::opt_string")]
    pub name: Option<String>,
}

/// A status (`{"name":"On Hold","internal_name":"Onhold","in_progress":true,"stop_timer":true}`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Status {
    /// The display name.
    #[serde(default, deserialize_with = "de::opt_string")]
    pub name: Option<String>,
    /// The system name (`Open`, `Onhold`, `Resolved`, `Closed`, `Canceled`).
    #[serde(default, deserialize_with = "de::opt_string")]
    pub internal_name: Option<String>,
    /// Whether the ticket is being worked on.
    #[serde(default)]
    pub in_progress: Option<bool>,
    /// Whether the SLA timer stops (on hold).
    #[serde(default)]
    pub stop_timer: Option<bool>,
}

/// A user (`requester`, `technician`, `change_requester`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct User {
    /// The id.
    #[serde(default, deserialize_with = "de::opt_string")]
    pub id: Option<String>,
    /// The display name.
    #[serde(default, deserialize_with = "de::opt_string")]
    pub name: Option<String>,
    /// The e-mail.
    #[serde(default, deserialize_with = "de::opt_string")]
    pub email_id: Option<String>,
    /// The login name.
    #[serde(default, deserialize_with = "de::opt_string")]
    pub login_name: Option<String>,
    /// Technicians: the support groups they belong to (unverified field name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub groups: Option<Vec<Named>>,
    /// Technicians: their roles (unverified field name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<Named>>,
}

/// A time (`{"display_value":"…","value":"1593000300533"}`, epoch millis as a string).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Time {
    /// Epoch milliseconds.
    #[serde(default, deserialize_with = "de::opt_u64")]
    pub value: Option<u64>,
}

/// A request or a change, as far as the connector reads it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Ticket {
    /// The id (a JSON string).
    #[serde(deserialize_with = "de::string")]
    pub id: String,
    /// The display id (differs from `id` on Cloud).
    #[serde(default, deserialize_with = "de::opt_string")]
    pub display_id: Option<String>,
    /// Requests: the subject.
    #[serde(default, deserialize_with = "de::opt_string")]
    pub subject: Option<String>,
    /// Changes: the title.
    #[serde(default, deserialize_with = "de::opt_string")]
    pub title: Option<String>,
    /// The description (HTML allowed).
    #[serde(default, deserialize_with = "de::opt_string")]
    pub description: Option<String>,
    /// The status.
    #[serde(default)]
    pub status: Option<Status>,
    /// Changes: the stage.
    #[serde(default)]
    pub stage: Option<Named>,
    /// The approval status (`null` when no approval).
    #[serde(default)]
    pub approval_status: Option<Named>,
    /// Requests: the requester.
    #[serde(default)]
    pub requester: Option<User>,
    /// Changes: the requester.
    #[serde(default)]
    pub change_requester: Option<User>,
    /// The technician (requests) .
    #[serde(default)]
    pub technician: Option<User>,
    /// Changes: the owner.
    #[serde(default)]
    pub change_owner: Option<User>,
    /// The priority.
    #[serde(default)]
    pub priority: Option<Named>,
    /// MSP: the account.
    #[serde(default)]
    pub account: Option<Named>,
    /// Created.
    #[serde(default)]
    pub created_time: Option<Time>,
    /// Last updated.
    #[serde(default)]
    pub last_updated_time: Option<Time>,
    /// Closure information (requests).
    #[serde(default)]
    pub closure_info: Option<Value>,
    /// Custom fields before build 15200 (nested).
    #[serde(default)]
    pub udf_fields: Option<Map<String, Value>>,
    /// Everything else, top-level custom fields after build 15200 included.
    #[serde(flatten)]
    pub rest: Map<String, Value>,
}

impl Ticket {
    /// The value of a UDF, nested (`udf_fields.udf_x`) or top-level (build 15200+).
    pub fn udf(&self, name: &str) -> Option<String> {
        self.udf_fields
            .as_ref()
            .and_then(|u| u.get(name))
            .or_else(|| self.rest.get(name))
            .and_then(|v| match v {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
    }

    /// The subject or title.
    pub fn title_text(&self) -> &str {
        self.subject
            .as_deref()
            .or(self.title.as_deref())
            .unwrap_or("")
    }
}

/// `list_info` of a list answer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ListInfo {
    /// Whether more rows follow.
    #[serde(default)]
    pub has_more_rows: Option<bool>,
    /// The 1-based index of the first row.
    #[serde(default, deserialize_with = "de::opt_u64")]
    pub start_index: Option<u64>,
    /// Rows in this page.
    #[serde(default, deserialize_with = "de::opt_u64")]
    pub row_count: Option<u64>,
    /// The total, when asked for.
    #[serde(default, deserialize_with = "de::opt_u64")]
    pub total_count: Option<u64>,
}
