//! TOPdesk objects as the connector reads and writes them (fact sheet §3.3-§3.7). Every
//! field is optional or defaulted: tenants hide fields, person accounts see fewer, and
//! newer versions add more. Fields the connector does not name are kept in `other`.

use std::time::SystemTime;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A reference to a search-list entry or another object: `{"id": …, "name": …}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Named {
    /// The id (a UUID).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl Named {
    /// A reference by name (`{"name": …}`); TOPdesk refuses id and name together.
    pub fn name(name: impl Into<String>) -> Named {
        Named {
            id: None,
            name: Some(name.into()),
        }
    }

    /// A reference by id (`{"id": …}`).
    pub fn id(id: impl Into<String>) -> Named {
        Named {
            id: Some(id.into()),
            name: None,
        }
    }
}

/// The caller of an incident.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Caller {
    /// The person's id, when the caller is a registered person.
    #[serde(default)]
    pub id: Option<String>,
    /// The display name.
    #[serde(default)]
    pub dynamic_name: Option<String>,
    /// The e-mail address.
    #[serde(default)]
    pub email: Option<String>,
}

/// An incident (`GET /tas/api/incidents/id/{id}`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Incident {
    /// The UUID.
    pub id: String,
    /// The number (`I 2405 123`).
    pub number: String,
    /// `firstLine`, `secondLine`, `partial`, or one of those with `Archived`.
    #[serde(default)]
    pub status: Option<String>,
    /// The title (at most 80 characters).
    #[serde(default)]
    pub brief_description: Option<String>,
    /// The request text.
    #[serde(default)]
    pub request: Option<String>,
    /// The caller.
    #[serde(default)]
    pub caller: Option<Caller>,
    /// The tenant-defined processing status.
    #[serde(default)]
    pub processing_status: Option<Named>,
    /// On hold.
    #[serde(default)]
    pub on_hold: bool,
    /// Completed (resolved).
    #[serde(default)]
    pub completed: bool,
    /// Closed: the truth about whether the incident is finished.
    #[serde(default)]
    pub closed: bool,
    /// The closure code.
    #[serde(default)]
    pub closure_code: Option<Named>,
    /// The operator (or operator group) working it.
    #[serde(default)]
    pub operator: Option<Named>,
    /// The operator group.
    #[serde(default)]
    pub operator_group: Option<Named>,
    /// The priority.
    #[serde(default)]
    pub priority: Option<Named>,
    /// When it was created.
    #[serde(default)]
    pub creation_date: Option<String>,
    /// When it last changed.
    #[serde(default)]
    pub modification_date: Option<String>,
    /// The external number: the connector's correlation id.
    #[serde(default)]
    pub external_number: Option<String>,
    /// Every other field.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

impl Incident {
    /// Whether the incident is archived (`status` ends with `Archived`).
    pub fn archived(&self) -> bool {
        self.status
            .as_deref()
            .is_some_and(|s| s.ends_with("Archived"))
    }
}

/// A new incident (`POST /tas/api/incidents`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct NewIncident {
    /// The caller, by id or e-mail.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub caller_lookup: Option<Value>,
    /// `firstLine` or `secondLine`.
    pub status: String,
    /// The title (TOPdesk keeps 80 characters).
    pub brief_description: String,
    /// The request text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request: Option<String>,
    /// The operator group.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operator_group: Option<Named>,
    /// The priority, by name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priority: Option<Named>,
    /// The correlation id.
    pub external_number: String,
    /// Native fields from `NewTicket::extra`.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// An action (comment) on an incident (`GET …/actions`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Action {
    /// The id.
    #[serde(default)]
    pub id: Option<String>,
    /// The text (limited HTML).
    #[serde(default)]
    pub memo_text: Option<String>,
    /// Whether the caller cannot see it.
    #[serde(default)]
    pub invisible_for_caller: bool,
}

/// An entry of a progress trail (`GET …/progresstrail`): a text (`memoText`), an
/// attachment (`fileName`) or an e-mail (`title`), by an operator or a person.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ProgressEntry {
    /// The id.
    #[serde(default)]
    pub id: Option<String>,
    /// The text of a text entry (limited HTML).
    #[serde(default)]
    pub memo_text: Option<String>,
    /// Whether the caller cannot see it.
    #[serde(default)]
    pub invisible_for_caller: bool,
    /// When it was written.
    #[serde(default)]
    pub entry_date: Option<String>,
    /// The operator who wrote it.
    #[serde(default)]
    pub operator: Option<Named>,
    /// The person who wrote it.
    #[serde(default)]
    pub person: Option<Named>,
    /// Every other field.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// A subcategory with its category (`GET /tas/api/incidents/subcategories`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SubCategory {
    /// The id.
    #[serde(default)]
    pub id: Option<String>,
    /// The name.
    #[serde(default)]
    pub name: Option<String>,
    /// The category it belongs to.
    #[serde(default)]
    pub category: Option<Named>,
}

/// A person (end user) (`GET /tas/api/persons/id/{id}`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Person {
    /// The UUID.
    pub id: String,
    /// `person` or `personArchived`.
    #[serde(default)]
    pub status: Option<String>,
    /// The login name for self-service.
    #[serde(default)]
    pub tas_login_name: Option<String>,
    /// Given name.
    #[serde(default)]
    pub first_name: Option<String>,
    /// Family name.
    #[serde(default)]
    pub sur_name: Option<String>,
    /// Display name.
    #[serde(default)]
    pub dynamic_name: Option<String>,
    /// E-mail.
    #[serde(default)]
    pub email: Option<String>,
    /// Every other field.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// An operator (agent) (`GET /tas/api/operators/id/{id}`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Operator {
    /// The UUID.
    pub id: String,
    /// `operator` or `operatorArchived`.
    #[serde(default)]
    pub status: Option<String>,
    /// The login name.
    #[serde(default)]
    pub login_name: Option<String>,
    /// Given name.
    #[serde(default)]
    pub first_name: Option<String>,
    /// Family name.
    #[serde(default)]
    pub sur_name: Option<String>,
    /// Display name.
    #[serde(default)]
    pub dynamic_name: Option<String>,
    /// E-mail.
    #[serde(default)]
    pub email: Option<String>,
    /// Every other field.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// An operator group (`GET /tas/api/operatorgroups`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct OperatorGroup {
    /// The UUID.
    pub id: String,
    /// The group's name.
    #[serde(default)]
    pub group_name: Option<String>,
    /// `operatorGroup` or `operatorGroupArchived`.
    #[serde(default)]
    pub status: Option<String>,
}

/// An operator change (`GET /tas/api/operatorChanges/{idOrNumber}`); only the fields the
/// connector reads (the change object's field names are UNVERIFIED, fact sheet §3.4).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct OperatorChange {
    /// The UUID.
    pub id: String,
    /// The number (`C1810-005`).
    pub number: String,
    /// The title.
    #[serde(default)]
    pub brief_description: Option<String>,
    /// `simple` or `extensive`.
    #[serde(default)]
    pub change_type: Option<String>,
    /// The phase: `rfc`, `progress`, `evaluation`, `closed`, `rejected`, `canceled`, …
    #[serde(default)]
    pub phase: Option<String>,
    /// The authorization status (`requested`, `authorized`, `rejected`, …): the
    /// approval state of the gate.
    #[serde(default)]
    pub authorization_status: Option<String>,
    /// The requester.
    #[serde(default)]
    pub requester: Option<Caller>,
    /// The request text.
    #[serde(default)]
    pub request: Option<String>,
    /// The external number: the connector's correlation id.
    #[serde(default)]
    pub external_number: Option<String>,
    /// When it last changed.
    #[serde(default)]
    pub modification_date: Option<String>,
    /// Every other field.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// `GET /tas/api/version`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Version {
    /// The API version (`3.7.1`).
    pub version: String,
}

/// A TOPdesk timestamp: `2024-05-28T17:00:00.000+0000` (offset without colon), or
/// ISO 8601 with `Z` (with `dateFormat=iso8601`); no offset means UTC.
pub fn parse_date(s: &str) -> Option<SystemTime> {
    let (date, time) = s.trim().split_once('T')?;
    let (clock, offset_minutes) = if let Some(c) = time.strip_suffix('Z') {
        (c, 0)
    } else if let Some(i) = time.rfind(['+', '-']) {
        let (c, off) = time.split_at(i);
        let sign = if off.starts_with('-') { -1 } else { 1 };
        let digits: String = off[1..].chars().filter(char::is_ascii_digit).collect();
        if digits.len() != 4 {
            return None;
        }
        let h: i32 = digits[..2].parse().ok()?;
        let m: i32 = digits[2..].parse().ok()?;
        (c, sign * (h * 60 + m))
    } else {
        (time, 0)
    };
    let (clock, fraction) = clock.split_once('.').unwrap_or((clock, ""));
    let millis = if fraction.is_empty() {
        0
    } else if fraction.len() <= 9 && fraction.bytes().all(|b| b.is_ascii_digit()) {
        format!("{fraction:0<3}")[..3].parse::<u64>().ok()?
    } else {
        return None;
    };
    accesslink_core::time::parse_local_datetime(&format!("{date} {clock}"), offset_minutes)
        .map(|t| t + std::time::Duration::from_millis(millis))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn dates_in_both_formats() {
        let t = UNIX_EPOCH + Duration::from_secs(1_716_915_600);
        assert_eq!(parse_date("2024-05-28T17:00:00.000+0000"), Some(t));
        assert_eq!(parse_date("2024-05-28T17:00:00Z"), Some(t));
        assert_eq!(parse_date("2024-05-28T19:00:00.000+0200"), Some(t));
        assert_eq!(parse_date("2024-05-28T17:00:00"), Some(t));
        assert_eq!(parse_date("yesterday"), None);
        assert_eq!(
            parse_date("2024-05-28T17:00:00.250+0000"),
            Some(t + Duration::from_millis(250))
        );
        assert_eq!(parse_date("2024-05-28T17:00:00.x+0000"), None);
    }
}
