//! Serde types of the OpsGenie v2 API, tolerant of missing fields (`Option`,
//! `#[serde(default)]`) and of fields added later (kept in `other`).
//!
//! The shapes follow `shared/api/opsramp-opsgenie.md` §2.2–2.7 (from the opsgenie-oas
//! spec and the go SDK). Jira Service Management Operations, the successor, keeps the
//! user, team and role objects, so these types are meant to move with it.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// `{"data": …, "took": …, "requestId": …}`: the envelope of every read.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Envelope<T> {
    /// The payload.
    pub data: T,
    /// Server time in seconds.
    #[serde(default)]
    pub took: Option<f64>,
    /// The request id (quote it to Atlassian support).
    #[serde(default)]
    pub request_id: Option<String>,
}

/// A paged list: `data`, `totalCount` and `paging` links (users).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ListEnvelope<T> {
    /// The page's items. Required: a listing without `data` (or with `null`) is not an
    /// empty page but a protocol error, since reading it as one would look like an empty
    /// directory.
    pub data: Vec<T>,
    /// How many items the whole listing has.
    #[serde(default, deserialize_with = "accesslink_core::de::opt_u64")]
    pub total_count: Option<u64>,
    /// Links to other pages; `next` is absent on the last page.
    #[serde(default)]
    pub paging: Paging,
    /// The request id.
    #[serde(default)]
    pub request_id: Option<String>,
}

/// Absolute links to other pages of a listing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Paging {
    /// The next page, absent on the last.
    #[serde(default)]
    pub next: Option<String>,
    /// The previous page.
    #[serde(default)]
    pub prev: Option<String>,
    /// The first page.
    #[serde(default)]
    pub first: Option<String>,
    /// The last page.
    #[serde(default)]
    pub last: Option<String>,
}

/// `{"result": …, "data": {"id", "name"}}`: the answer of synchronous writes
/// (the spec's `SuccessResponse`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct SuccessResponse {
    /// `Created`, `Updated`, `Deleted`, `Added`, `Removed`, …
    #[serde(default)]
    pub result: Option<String>,
    /// The object written, when the answer names it.
    #[serde(default)]
    pub data: Option<IdName>,
    /// The request id.
    #[serde(default)]
    pub request_id: Option<String>,
}

/// An object's id and name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct IdName {
    /// The id.
    #[serde(default, deserialize_with = "accesslink_core::de::string")]
    pub id: String,
    /// The name (a user's username, a team's name).
    #[serde(default)]
    pub name: Option<String>,
}

/// A user's global role: `{"id": "Admin", "name": "Admin"}` for built-ins, the role's
/// UUID and name for custom roles.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RoleRef {
    /// The role id (the name for built-in roles).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The role name; this is what assigns a role.
    #[serde(default)]
    pub name: String,
}

impl RoleRef {
    /// A role by name (`admin`, `user`, or a custom role's name).
    pub fn named(name: impl Into<String>) -> Self {
        RoleRef {
            id: None,
            name: name.into(),
        }
    }
}

/// A postal address.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct UserAddress {
    /// Country.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// State.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// City.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    /// Street line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<String>,
    /// Postal code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zip_code: Option<String>,
}

/// A user (`GET /v2/users`, `GET /v2/users/{identifier}`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct User {
    /// The user id (a UUID).
    #[serde(deserialize_with = "accesslink_core::de::string")]
    pub id: String,
    /// The username: the user's e-mail address.
    #[serde(default)]
    pub username: String,
    /// Full name.
    #[serde(default)]
    pub full_name: Option<String>,
    /// Global role.
    #[serde(default)]
    pub role: Option<RoleRef>,
    /// Set by OpsGenie itself (seats, subscription); not writable.
    #[serde(default)]
    pub blocked: Option<bool>,
    /// Whether the e-mail address is verified; not writable.
    #[serde(default)]
    pub verified: Option<bool>,
    /// Time zone (`Europe/Istanbul`).
    #[serde(default)]
    pub time_zone: Option<String>,
    /// Locale (`en_US`).
    #[serde(default)]
    pub locale: Option<String>,
    /// Skype name.
    #[serde(default)]
    pub skype_username: Option<String>,
    /// Address.
    #[serde(default)]
    pub user_address: Option<UserAddress>,
    /// Tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Custom details: each key holds a list of strings.
    #[serde(default)]
    pub details: Map<String, Value>,
    /// When the user was created.
    #[serde(default)]
    pub created_at: Option<String>,
    /// Contacts (`GET …?expand=contact`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub user_contacts: Vec<Value>,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

impl User {
    /// The role's name, if the user has one.
    pub fn role_name(&self) -> Option<&str> {
        self.role.as_ref().map(|r| r.name.as_str())
    }
}

/// The body of `POST /v2/users`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct NewUser {
    /// The username: an e-mail address of at most 100 characters.
    pub username: String,
    /// Full name, at most 512 characters.
    pub full_name: String,
    /// Global role.
    pub role: RoleRef,
    /// Skype name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skype_username: Option<String>,
    /// Time zone (sent as `timeZone`, whatever the docs' table says).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
    /// Locale.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    /// Address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_address: Option<UserAddress>,
    /// Tags.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
    /// Custom details.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<Map<String, Value>>,
    /// `true` to skip the invitation e-mail (default: OpsGenie sends it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invitation_disabled: Option<bool>,
}

impl NewUser {
    /// A user with the three required fields.
    pub fn new(
        username: impl Into<String>,
        full_name: impl Into<String>,
        role: impl Into<String>,
    ) -> Self {
        NewUser {
            username: username.into(),
            full_name: full_name.into(),
            role: RoleRef::named(role),
            skype_username: None,
            time_zone: None,
            locale: None,
            user_address: None,
            tags: None,
            details: None,
            invitation_disabled: None,
        }
    }

    /// Sets the time zone.
    #[must_use]
    pub fn time_zone(mut self, tz: impl Into<String>) -> Self {
        self.time_zone = Some(tz.into());
        self
    }

    /// Sets the locale.
    #[must_use]
    pub fn locale(mut self, locale: impl Into<String>) -> Self {
        self.locale = Some(locale.into());
        self
    }

    /// Skips (or sends) the invitation e-mail.
    #[must_use]
    pub fn invitation_disabled(mut self, disabled: bool) -> Self {
        self.invitation_disabled = Some(disabled);
        self
    }
}

/// The body of `PATCH /v2/users/{identifier}`: `None` fields stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct UserUpdate {
    /// New username (e-mail address).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// New full name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub full_name: Option<String>,
    /// New global role.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<RoleRef>,
    /// New Skype name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skype_username: Option<String>,
    /// New time zone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
    /// New locale.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    /// New address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_address: Option<UserAddress>,
    /// New tags.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
    /// New custom details.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<Map<String, Value>>,
}

impl UserUpdate {
    /// No change yet.
    pub fn new() -> Self {
        UserUpdate::default()
    }

    /// Sets the full name.
    #[must_use]
    pub fn full_name(mut self, name: impl Into<String>) -> Self {
        self.full_name = Some(name.into());
        self
    }

    /// Sets the global role by name.
    #[must_use]
    pub fn role(mut self, name: impl Into<String>) -> Self {
        self.role = Some(RoleRef::named(name));
        self
    }

    /// Whether nothing would change.
    pub fn is_empty(&self) -> bool {
        self == &UserUpdate::default()
    }
}

/// A team member's user: by id or by username.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MemberUser {
    /// The user id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The username.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
}

impl MemberUser {
    /// A user by id.
    pub fn id(id: impl Into<String>) -> Self {
        MemberUser {
            id: Some(id.into()),
            username: None,
        }
    }

    /// A user by username.
    pub fn username(username: impl Into<String>) -> Self {
        MemberUser {
            id: None,
            username: Some(username.into()),
        }
    }

    /// Whether this names the user with `id` or `username` (any case).
    pub fn is(&self, identifier: &str) -> bool {
        self.id.as_deref() == Some(identifier)
            || self
                .username
                .as_deref()
                .is_some_and(|u| u.eq_ignore_ascii_case(identifier))
    }
}

/// A member of a team, and its team role (`user`, `admin`, or a custom team role).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TeamMember {
    /// The user.
    #[serde(default)]
    pub user: MemberUser,
    /// The team role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
}

impl TeamMember {
    /// A member with a team role.
    pub fn new(user: MemberUser, role: impl Into<String>) -> Self {
        TeamMember {
            user,
            role: Some(role.into()),
        }
    }
}

/// A team's links.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TeamLinks {
    /// The team's page in the web UI.
    #[serde(default)]
    pub web: Option<String>,
    /// The team's API URL.
    #[serde(default)]
    pub api: Option<String>,
}

/// A team (`GET /v2/teams` without members, `GET /v2/teams/{identifier}` with them).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Team {
    /// The team id.
    #[serde(deserialize_with = "accesslink_core::de::string")]
    pub id: String,
    /// The name.
    #[serde(default)]
    pub name: String,
    /// The description.
    #[serde(default)]
    pub description: Option<String>,
    /// Members (team detail only).
    #[serde(default)]
    pub members: Vec<TeamMember>,
    /// Links.
    #[serde(default)]
    pub links: Option<TeamLinks>,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// The body of `POST /v2/teams`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct NewTeam {
    /// The name.
    pub name: String,
    /// The description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Initial members.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<TeamMember>,
}

impl NewTeam {
    /// A team with a name and a description.
    pub fn new(name: impl Into<String>, description: impl Into<String>) -> Self {
        NewTeam {
            name: name.into(),
            description: Some(description.into()),
            members: Vec::new(),
        }
    }
}

/// A custom user role (`/v2/roles`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct CustomRole {
    /// The role id.
    #[serde(default, deserialize_with = "accesslink_core::de::string")]
    pub id: String,
    /// The name, which assigns the role.
    #[serde(default)]
    pub name: String,
    /// The built-in role it extends: `user`, `observer` or `stakeholder`.
    #[serde(default)]
    pub extended_role: Option<String>,
    /// Rights added.
    #[serde(default)]
    pub granted_rights: Vec<String>,
    /// Rights removed.
    #[serde(default)]
    pub disallowed_rights: Vec<String>,
}

impl CustomRole {
    /// A role to create: a name extending `user`, `observer` or `stakeholder`.
    pub fn new(name: impl Into<String>, extended_role: impl Into<String>) -> Self {
        CustomRole {
            id: String::new(),
            name: name.into(),
            extended_role: Some(extended_role.into()),
            granted_rights: Vec::new(),
            disallowed_rights: Vec::new(),
        }
    }
}

/// `GET /v2/account`: the OpsGenie account the key belongs to.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct AccountInfo {
    /// The account name.
    #[serde(default)]
    pub name: Option<String>,
    /// How many users it has.
    #[serde(default, deserialize_with = "accesslink_core::de::opt_u64")]
    pub user_count: Option<u64>,
    /// The plan.
    #[serde(default)]
    pub plan: Option<Value>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fact_sheet_user_list_decodes() {
        let body = r#"{"totalCount":8,
          "data":[{"id":"b5b92115-bfe7-43eb-8c2a-e467f2e5ddc4","username":"john.doe@example.com","fullName":"John Doe",
            "role":{"id":"Admin","name":"Admin"},"blocked":false,"verified":false,
            "timeZone":"Europe/Istanbul","locale":"en_US",
            "userAddress":{"country":"","state":"","city":"","line":"","zipCode":""},
            "tags":["tag1"],"details":{"k":["v1","v2"]},"createdAt":"2017-05-12T08:34:26.74Z","future":1}],
          "paging":{"next":"https://api.opsgenie.com/v2/users?offset=1&limit=1","first":"f","last":"l"},
          "took":0.261,"requestId":"d2c50d0c-1c44-4fa5-99d4-20d1e7ca9938"}"#;
        let page: ListEnvelope<User> = serde_json::from_str(body).unwrap();
        assert_eq!(page.total_count, Some(8));
        let u = &page.data[0];
        assert_eq!(u.role_name(), Some("Admin"));
        assert_eq!(
            u.user_address.as_ref().unwrap().zip_code.as_deref(),
            Some("")
        );
        assert_eq!(u.other["future"], 1);
        assert_eq!(
            page.paging.next.as_deref(),
            Some("https://api.opsgenie.com/v2/users?offset=1&limit=1")
        );
        // Missing optional fields are fine.
        let u: User = serde_json::from_str(r#"{"id":"x"}"#).unwrap();
        assert_eq!((u.username.as_str(), u.role), ("", None));
    }

    #[test]
    fn writes_skip_unset_fields() {
        let new = NewUser::new("a@b.c", "A B", "user").time_zone("Europe/Paris");
        assert_eq!(
            serde_json::to_value(&new).unwrap(),
            serde_json::json!({"username":"a@b.c","fullName":"A B","role":{"name":"user"},"timeZone":"Europe/Paris"})
        );
        let change = UserUpdate::new().role("admin");
        assert_eq!(
            serde_json::to_value(&change).unwrap(),
            serde_json::json!({"role":{"name":"admin"}})
        );
        let member = TeamMember::new(MemberUser::username("a@b.c"), "user");
        assert_eq!(
            serde_json::to_value(&member).unwrap(),
            serde_json::json!({"user":{"username":"a@b.c"},"role":"user"})
        );
    }
}
