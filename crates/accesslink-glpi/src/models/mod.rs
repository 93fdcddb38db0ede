//! GLPI items as the legacy REST API sends them, and the inputs the connector writes.
//!
//! Responses are tolerant: ids and flags arrive as numbers or strings depending on the
//! endpoint (`shared/glpi/REST.md`), unset values as `null`, and every field the models do
//! not name is kept in `other`. Text fields come back HTML-encoded (`&#60;` for `<`):
//! [`decode_text`] undoes it.

use accesslink_core::de;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Undoes the HTML encoding GLPI 10 stores text with (`&#60;` `&#62;` `&#38;`, or the
/// legacy `&lt;` `&gt;` `&amp;` on older data), once — as GLPI's own
/// `Sanitizer::decodeHtmlSpecialChars` does.
pub fn decode_text(s: &str) -> String {
    if !s.contains('&') {
        return s.to_owned();
    }
    if s.contains("&#60;") || s.contains("&#62;") || s.contains("&#38;") {
        s.replace("&#60;", "<")
            .replace("&#62;", ">")
            .replace("&#38;", "&")
    } else {
        s.replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&")
    }
}

/// `GET /initSession` answer.
#[derive(Debug, Deserialize)]
pub(crate) struct InitSession {
    #[serde(default, deserialize_with = "de::opt_string")]
    pub session_token: Option<String>,
}

/// `POST /<Itemtype>` answer for one item: `{"id":12,"message":"…"}`, or
/// `{"id":false,"message":"why"}` when the item was refused.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Created {
    #[serde(default)]
    pub id: Value,
    #[serde(default, deserialize_with = "de::opt_string")]
    pub message: Option<String>,
}

/// A ticket or a change (both are ITIL objects with the same core fields).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[non_exhaustive]
pub struct ItilObject {
    /// Id.
    #[serde(deserialize_with = "de::u64")]
    pub id: u64,
    /// Title (HTML-encoded as stored).
    #[serde(default, deserialize_with = "de::string")]
    pub name: String,
    /// Description (HTML-encoded as stored).
    #[serde(default, deserialize_with = "de::opt_string")]
    pub content: Option<String>,
    /// Status: 1 new, 2 assigned, 3 planned, 4 waiting, 5 solved, 6 closed; changes
    /// also 7–14 (see [`status`](crate::status)).
    #[serde(default, deserialize_with = "de::opt_u64")]
    pub status: Option<u64>,
    /// Ticket type: 1 incident, 2 request (absent on changes).
    #[serde(default, rename = "type", deserialize_with = "de::opt_u64")]
    pub kind: Option<u64>,
    /// Approval summary: 1 none, 2 waiting, 3 accepted, 4 refused.
    #[serde(default, deserialize_with = "de::opt_u64")]
    pub global_validation: Option<u64>,
    /// 1 when in the trash (still readable by id).
    #[serde(default, deserialize_with = "de::opt_u64")]
    pub is_deleted: Option<u64>,
    /// Entity.
    #[serde(default, deserialize_with = "de::opt_u64")]
    pub entities_id: Option<u64>,
    /// Priority 1–6.
    #[serde(default, deserialize_with = "de::opt_u64")]
    pub priority: Option<u64>,
    /// Opened, server-local `YYYY-MM-DD HH:MM:SS`.
    #[serde(default, deserialize_with = "de::opt_string")]
    pub date: Option<String>,
    /// Last modified, server-local.
    #[serde(default, deserialize_with = "de::opt_string")]
    pub date_mod: Option<String>,
    /// Solved, server-local.
    #[serde(default, deserialize_with = "de::opt_string")]
    pub solvedate: Option<String>,
    /// Closed, server-local.
    #[serde(default, deserialize_with = "de::opt_string")]
    pub closedate: Option<String>,
    /// Every other field, as sent.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

impl ItilObject {
    /// Whether the item is in the trash.
    pub fn in_trash(&self) -> bool {
        self.is_deleted == Some(1)
    }
}

/// A TicketValidation or ChangeValidation record.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[non_exhaustive]
pub struct Validation {
    /// Id.
    #[serde(deserialize_with = "de::u64")]
    pub id: u64,
    /// 2 waiting, 3 accepted, 4 refused.
    #[serde(default, deserialize_with = "de::opt_u64")]
    pub status: Option<u64>,
    /// The approver (user).
    #[serde(default, deserialize_with = "de::opt_u64")]
    pub users_id_validate: Option<u64>,
    /// Why it was asked.
    #[serde(default, deserialize_with = "de::opt_string")]
    pub comment_submission: Option<String>,
    /// What the approver said.
    #[serde(default, deserialize_with = "de::opt_string")]
    pub comment_validation: Option<String>,
    /// When the approver answered.
    #[serde(default, deserialize_with = "de::opt_string")]
    pub validation_date: Option<String>,
}

/// A Ticket_User or Change_User link: who asks (type 1), works (2) or watches (3).
#[derive(Debug, Clone, Deserialize)]
#[non_exhaustive]
pub struct ItilActor {
    /// Link id.
    #[serde(deserialize_with = "de::u64")]
    pub id: u64,
    /// The user.
    #[serde(default, deserialize_with = "de::opt_u64")]
    pub users_id: Option<u64>,
    /// 1 requester, 2 assigned, 3 observer.
    #[serde(default, rename = "type", deserialize_with = "de::opt_u64")]
    pub role: Option<u64>,
    /// A notification address given instead of (or besides) the user's.
    #[serde(default, deserialize_with = "de::opt_string")]
    pub alternative_email: Option<String>,
}

/// A follow-up (comment) on a ticket or change.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[non_exhaustive]
pub struct Followup {
    /// Id.
    #[serde(deserialize_with = "de::u64")]
    pub id: u64,
    /// Text (HTML-encoded as stored).
    #[serde(default, deserialize_with = "de::string")]
    pub content: String,
    /// 1 when private (not shown to the requester).
    #[serde(default, deserialize_with = "de::opt_u64")]
    pub is_private: Option<u64>,
    /// The writer's user id.
    #[serde(default, deserialize_with = "de::opt_u64")]
    pub users_id: Option<u64>,
    /// When it was written (server-local `YYYY-MM-DD HH:MM:SS`).
    #[serde(default, deserialize_with = "de::opt_string")]
    pub date: Option<String>,
}

/// A user.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[non_exhaustive]
pub struct User {
    /// Id.
    #[serde(deserialize_with = "de::u64")]
    pub id: u64,
    /// Login.
    #[serde(default, deserialize_with = "de::string")]
    pub name: String,
    /// Family name.
    #[serde(default, deserialize_with = "de::opt_string")]
    pub realname: Option<String>,
    /// Given name.
    #[serde(default, deserialize_with = "de::opt_string")]
    pub firstname: Option<String>,
    /// 1 when the user can log in.
    #[serde(default, deserialize_with = "de::opt_u64")]
    pub is_active: Option<u64>,
    /// 1 when in the trash.
    #[serde(default, deserialize_with = "de::opt_u64")]
    pub is_deleted: Option<u64>,
    /// Every other field, as sent (`password` and `api_token` are always `null`).
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// An email address of a user.
#[derive(Debug, Clone, Deserialize)]
#[non_exhaustive]
pub struct UserEmail {
    /// Id.
    #[serde(deserialize_with = "de::u64")]
    pub id: u64,
    /// The address.
    #[serde(default, deserialize_with = "de::string")]
    pub email: String,
    /// 1 for the default address.
    #[serde(default, deserialize_with = "de::opt_u64")]
    pub is_default: Option<u64>,
}

/// A group.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[non_exhaustive]
pub struct Group {
    /// Id.
    #[serde(deserialize_with = "de::u64")]
    pub id: u64,
    /// Name.
    #[serde(default, deserialize_with = "de::string")]
    pub name: String,
    /// Full path (`Parent > Child`).
    #[serde(default, deserialize_with = "de::opt_string")]
    pub completename: Option<String>,
    /// Comment.
    #[serde(default, deserialize_with = "de::opt_string")]
    pub comment: Option<String>,
    /// Every other field, as sent.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// A profile (a set of rights).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[non_exhaustive]
pub struct Profile {
    /// Id.
    #[serde(deserialize_with = "de::u64")]
    pub id: u64,
    /// Name.
    #[serde(default, deserialize_with = "de::string")]
    pub name: String,
    /// `central` or `helpdesk`.
    #[serde(default, deserialize_with = "de::opt_string")]
    pub interface: Option<String>,
    /// Comment.
    #[serde(default, deserialize_with = "de::opt_string")]
    pub comment: Option<String>,
}

/// An entity.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[non_exhaustive]
pub struct Entity {
    /// Id (the root entity is 0).
    #[serde(deserialize_with = "de::u64")]
    pub id: u64,
    /// Name.
    #[serde(default, deserialize_with = "de::string")]
    pub name: String,
    /// Full path.
    #[serde(default, deserialize_with = "de::opt_string")]
    pub completename: Option<String>,
}

/// A Group_User link: a user's membership of a group.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[non_exhaustive]
pub struct GroupUser {
    /// Link id.
    #[serde(deserialize_with = "de::u64")]
    pub id: u64,
    /// The user.
    #[serde(deserialize_with = "de::u64")]
    pub users_id: u64,
    /// The group.
    #[serde(deserialize_with = "de::u64")]
    pub groups_id: u64,
    /// 1 when set by an LDAP or rule sync.
    #[serde(default, deserialize_with = "de::opt_u64")]
    pub is_dynamic: Option<u64>,
}

/// A Profile_User link: a user's profile in an entity.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[non_exhaustive]
pub struct ProfileUser {
    /// Link id.
    #[serde(deserialize_with = "de::u64")]
    pub id: u64,
    /// The user.
    #[serde(deserialize_with = "de::u64")]
    pub users_id: u64,
    /// The profile.
    #[serde(deserialize_with = "de::u64")]
    pub profiles_id: u64,
    /// The entity.
    #[serde(deserialize_with = "de::u64")]
    pub entities_id: u64,
    /// 1 when it extends to child entities.
    #[serde(default, deserialize_with = "de::opt_u64")]
    pub is_recursive: Option<u64>,
    /// 1 when set by a rule (GLPI gives new users Self-Service this way).
    #[serde(default, deserialize_with = "de::opt_u64")]
    pub is_dynamic: Option<u64>,
}

/// What `/search/<Itemtype>` answers. With no match GLPI sends no `data` key at all.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct SearchBody {
    #[serde(default, deserialize_with = "de::opt_u64")]
    pub totalcount: Option<u64>,
    /// Rows keyed by search-option id (as a string); an array, or an object keyed by
    /// item id with `withindexes`.
    #[serde(default)]
    pub data: Value,
}

/// The input of a new ticket or change.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[non_exhaustive]
pub struct NewItil {
    /// Title (with the correlation tag).
    pub name: String,
    /// Description.
    pub content: String,
    /// Ticket type (1 incident, 2 request); `None` for changes.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<u8>,
    /// Urgency 1–5.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub urgency: Option<u8>,
    /// Entity.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entities_id: Option<u64>,
    /// Requester (a user id).
    #[serde(
        rename = "_users_id_requester",
        skip_serializing_if = "Option::is_none"
    )]
    pub requester: Option<u64>,
    /// Other native fields.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// The input of a follow-up or a solution.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct NewTimelineItem {
    /// `Ticket` or `Change`.
    pub itemtype: String,
    /// The ticket or change id.
    pub items_id: u64,
    /// Text.
    pub content: String,
    /// 1 for a private follow-up (not sent for solutions).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_private: Option<u8>,
    /// Solution type (solutions only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub solutiontypes_id: Option<u64>,
}

/// The input of a new user.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[non_exhaustive]
pub struct NewUser {
    /// Login.
    pub name: String,
    /// Family name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub realname: Option<String>,
    /// Given name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub firstname: Option<String>,
    /// 1 to start active.
    pub is_active: u8,
    /// Entity.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entities_id: Option<u64>,
    /// Email addresses; GLPI makes the one at `_default_email` the default.
    #[serde(rename = "_useremails", skip_serializing_if = "Vec::is_empty")]
    pub emails: Vec<String>,
    /// Index in `_useremails` of the default address.
    #[serde(rename = "_default_email", skip_serializing_if = "Option::is_none")]
    pub default_email: Option<u32>,
    /// Other native fields.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoding_matches_glpis_sanitizer() {
        assert_eq!(
            decode_text("probe &#60;b&#62; &#38; \"x\""),
            "probe <b> & \"x\""
        );
        assert_eq!(decode_text("a &#38;#60; b"), "a &#60; b", "decoded once");
        assert_eq!(decode_text("legacy &lt;p&gt;"), "legacy <p>");
        assert_eq!(decode_text("plain"), "plain");
    }

    #[test]
    fn ticket_as_the_real_server_sends_it() {
        // Trimmed from shared/glpi/REST.md and a GET on the real server.
        let t: ItilObject = serde_json::from_str(
            r#"{"id":1,"entities_id":0,"name":"probe &#60;b&#62; [corr:PROBE-1]","date":"2026-11-23 22:19:24",
                "closedate":null,"solvedate":null,"status":1,"content":"line1\nline2 a &#60; b","urgency":3,
                "priority":3,"type":2,"global_validation":1,"is_deleted":0,
                "links":[{"rel":"Entity","href":"http://127.0.0.1:8081/apirest.php/Entity/0"}]}"#,
        )
        .unwrap();
        assert_eq!((t.id, t.status, t.kind), (1, Some(1), Some(2)));
        assert_eq!(t.global_validation, Some(1));
        assert!(!t.in_trash());
        assert_eq!(t.other["urgency"], 3);
        let stringly: ItilObject =
            serde_json::from_str(r#"{"id":"2","status":"5","is_deleted":"1"}"#).unwrap();
        assert_eq!((stringly.id, stringly.status), (2, Some(5)));
        assert!(stringly.in_trash());
    }

    #[test]
    fn links_and_users() {
        let g: GroupUser = serde_json::from_str(
            r#"{"id":2,"users_id":58,"groups_id":"2","is_dynamic":0,"is_manager":0}"#,
        )
        .unwrap();
        assert_eq!((g.users_id, g.groups_id), (58, 2));
        let p: ProfileUser = serde_json::from_str(
            r#"{"id":6,"users_id":7,"profiles_id":1,"entities_id":0,"is_recursive":0,"is_dynamic":1,"is_default_profile":1}"#,
        )
        .unwrap();
        assert_eq!(p.is_dynamic, Some(1));
        let u: User = serde_json::from_str(
            r#"{"id":58,"name":"user.x","is_active":1,"password":null,"realname":null}"#,
        )
        .unwrap();
        assert_eq!(u.realname, None);
        assert!(u.other.contains_key("password"));
    }
}
