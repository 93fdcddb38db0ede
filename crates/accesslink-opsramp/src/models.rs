//! Serde types for the v2 tenancy and access-control API, tolerant of what the
//! service sends (fact sheet §1.6–1.9): missing fields default, ids may be numbers or
//! strings, dates are kept as the `+0000`-offset strings OpsRamp writes, and every field
//! the types do not name is kept in `extra`.

use accesslink_core::de;
use secrecy::SecretString;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::{Map, Value};

/// The envelope of every `/search`-style listing.
///
/// A body without a `results` list (missing or `null`) is refused when decoding, unless
/// `totalResults` says `0` (whether OpsRamp leaves the list out of an empty answer is not
/// documented): read as an empty page, it would look like an empty tenant.
#[derive(Debug, Clone, Deserialize)]
#[serde(
    rename_all = "camelCase",
    try_from = "RawSearchPage<T>",
    bound(deserialize = "T: Deserialize<'de>")
)]
#[non_exhaustive]
pub struct SearchPage<T> {
    /// The items of this page.
    pub results: Vec<T>,
    /// Matching items in all.
    pub total_results: Option<u64>,
    /// This page's number (1-based).
    pub page_no: Option<u64>,
    /// The page size the server used.
    pub page_size: Option<u64>,
    /// Pages in all.
    pub total_pages: Option<u64>,
    /// Whether another page follows.
    pub next_page: bool,
    /// The next page's number (only some endpoints send it: loop on `next_page`).
    pub next_page_no: Option<u64>,
    /// Whether the order is descending.
    pub descending_order: Option<bool>,
}

/// [`SearchPage`] as sent, before the `results` list is checked.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawSearchPage<T> {
    #[serde(default = "Option::default")]
    results: Option<Vec<T>>,
    // Matching items in all.
    #[serde(default, deserialize_with = "de::opt_u64")]
    total_results: Option<u64>,
    // This page's number (1-based).
    #[serde(default, deserialize_with = "de::opt_u64")]
    page_no: Option<u64>,
    // The page size the server used.
    #[serde(default, deserialize_with = "de::opt_u64")]
    page_size: Option<u64>,
    // Pages in all.
    #[serde(default, deserialize_with = "de::opt_u64")]
    total_pages: Option<u64>,
    // Whether another page follows.
    #[serde(default)]
    next_page: bool,
    // The next page's number (only some endpoints send it: loop on `next_page`).
    #[serde(default, deserialize_with = "de::opt_u64")]
    next_page_no: Option<u64>,
    // Whether the order is descending.
    #[serde(default)]
    descending_order: Option<bool>,
}

impl<T> TryFrom<RawSearchPage<T>> for SearchPage<T> {
    type Error = String;

    fn try_from(raw: RawSearchPage<T>) -> Result<Self, String> {
        let results = match (raw.results, raw.total_results) {
            (Some(results), _) => results,
            (None, Some(0)) => Vec::new(),
            (None, total) => {
                return Err(format!(
                    "a listing without a `results` list (totalResults {})",
                    total.map_or_else(|| "absent".to_owned(), |t| t.to_string())
                ));
            }
        };
        Ok(SearchPage {
            results,
            total_results: raw.total_results,
            page_no: raw.page_no,
            page_size: raw.page_size,
            total_pages: raw.total_pages,
            next_page: raw.next_page,
            next_page_no: raw.next_page_no,
            descending_order: raw.descending_order,
        })
    }
}

/// A reference to a role, as users and groups list them. OpsRamp prints roles on users
/// with a numeric `id` in some answers and a `uniqueId` in others; either may be absent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct RoleRef {
    /// `ROLE-<uuid>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unique_id: Option<String>,
    /// The legacy numeric id.
    #[serde(
        default,
        deserialize_with = "de::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub id: Option<String>,
    /// The role's name (how user bodies reference it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl RoleRef {
    /// A reference by name, as create and update bodies want it (fact sheet §1.7).
    pub fn by_name(name: impl Into<String>) -> Self {
        RoleRef {
            name: Some(name.into()),
            ..RoleRef::default()
        }
    }
}

/// A reference to a user group, as users list them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct GroupRef {
    /// `USRGRP-<uuid>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unique_id: Option<String>,
    /// The group's name (how user bodies reference it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl GroupRef {
    /// A reference by name.
    pub fn by_name(name: impl Into<String>) -> Self {
        GroupRef {
            name: Some(name.into()),
            ..GroupRef::default()
        }
    }
}

/// A time zone: bodies send `{"code":"EST"}` (and optionally the name).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct TimeZone {
    /// `EST`, `UTC`, …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// `America/New_York`, `Europe/Istanbul`, …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The id OpsRamp answers with.
    #[serde(
        default,
        deserialize_with = "de::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub id: Option<String>,
    /// `GMT -05:00 Eastern`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

impl TimeZone {
    /// A zone by code and name, as the seed's create template sends it.
    pub fn new(code: impl Into<String>, name: impl Into<String>) -> Self {
        TimeZone {
            code: Some(code.into()),
            name: Some(name.into()),
            ..TimeZone::default()
        }
    }
}

/// A user, from `users/search` (minimal) or `users/{id}` (full).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct User {
    /// `USR0000002145`.
    #[serde(default, deserialize_with = "de::string")]
    pub id: String,
    /// The login name.
    #[serde(default, deserialize_with = "de::string")]
    pub login_name: String,
    /// Given name.
    #[serde(default, deserialize_with = "de::opt_string")]
    pub first_name: Option<String>,
    /// Family name.
    #[serde(default, deserialize_with = "de::opt_string")]
    pub last_name: Option<String>,
    /// Email.
    #[serde(default, deserialize_with = "de::opt_string")]
    pub email: Option<String>,
    /// `active`, `inactive` (any case; other values are kept as sent).
    #[serde(default, deserialize_with = "de::opt_string")]
    pub status: Option<String>,
    /// The tenant (`client_16`).
    #[serde(default, deserialize_with = "de::opt_string")]
    pub org_id: Option<String>,
    /// The tenant's name.
    #[serde(default, deserialize_with = "de::opt_string")]
    pub organization_name: Option<String>,
    /// Roles held directly.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub roles: Vec<RoleRef>,
    /// Groups the user is in.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub user_groups: Vec<GroupRef>,
    /// `2016-11-01T11:54:24+0000` (no colon in the offset; `""` for none).
    #[serde(default, deserialize_with = "de::opt_string")]
    pub created_time: Option<String>,
    /// Same format.
    #[serde(default, deserialize_with = "de::opt_string")]
    pub updated_time: Option<String>,
    /// Everything else (timeZone, country, userAccountType, permissions, …).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl User {
    /// Whether the user was terminated (any case): gone for good, whatever the API
    /// still lists.
    pub fn is_terminated(&self) -> bool {
        self.status
            .as_deref()
            .is_some_and(|s| s.eq_ignore_ascii_case("terminated"))
    }

    /// Whether the user can sign in: `Some(true)` for `active`, `Some(false)` for
    /// `inactive`, `None` for anything else.
    pub fn enabled(&self) -> Option<bool> {
        match self
            .status
            .as_deref()
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("active") => Some(true),
            Some("inactive" | "deactivated" | "suspended" | "terminated") => Some(false),
            _ => None,
        }
    }
}

fn null_as_empty<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

fn expose<S: Serializer>(v: &Option<SecretString>, s: S) -> Result<S::Ok, S::Error> {
    use secrecy::ExposeSecret as _;
    match v {
        Some(p) => s.serialize_some(p.expose_secret()),
        None => s.serialize_none(),
    }
}

/// A user create or update body. Updates are `POST users/{id}` with any subset of these
/// fields; send the COMPLETE `roles` / `userGroups` lists, since whether OpsRamp merges
/// or replaces them is undocumented (fact sheet §1.7).
#[derive(Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct UserBody {
    /// The login name (create only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub login_name: Option<String>,
    /// Given name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    /// Family name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    /// Email.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// The initial password (at least 7 characters with a digit, a special character, a
    /// lower- and an upper-case letter).
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "expose")]
    pub password: Option<SecretString>,
    /// Country.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// Time zone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<TimeZone>,
    /// `REGULAR` or `BUSINESS`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_account_type: Option<String>,
    /// Roles BY NAME: the complete list.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<RoleRef>>,
    /// Groups BY NAME: the complete list.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_groups: Option<Vec<GroupRef>>,
    /// Any other field (`phoneNumber`, `designation`, `altEmail`, …).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl std::fmt::Debug for UserBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserBody")
            .field("login_name", &self.login_name)
            .field("first_name", &self.first_name)
            .field("last_name", &self.last_name)
            .field("email", &self.email)
            .field("password", &self.password.as_ref().map(|_| "[redacted]"))
            .field("country", &self.country)
            .field("time_zone", &self.time_zone)
            .field("roles", &self.roles)
            .field("user_groups", &self.user_groups)
            .field("extra", &self.extra)
            .finish_non_exhaustive()
    }
}

/// What `POST users/{id}/{action}` does (the enum is upper case on the wire).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum UserAction {
    /// Re-enable a deactivated user.
    Activate,
    /// Disable a user (reversible), with an optional reason.
    Deactivate,
    /// End a user for good (final; `maskType` masks personal data).
    Terminate,
}

impl UserAction {
    /// The path segment.
    pub fn as_str(self) -> &'static str {
        match self {
            UserAction::Activate => "ACTIVATE",
            UserAction::Deactivate => "DEACTIVATE",
            UserAction::Terminate => "TERMINATE",
        }
    }
}

/// How TERMINATE masks the user's personal data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
#[non_exhaustive]
pub enum MaskType {
    /// Mask some fields.
    Partial,
    /// Mask every personal field.
    Full,
}

/// A role, from `roles/search` or `roles/{id}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Role {
    /// `ROLE-<uuid>`.
    #[serde(default, deserialize_with = "de::string")]
    pub unique_id: String,
    /// The name.
    #[serde(default, deserialize_with = "de::string")]
    pub name: String,
    /// The description.
    #[serde(default, deserialize_with = "de::opt_string")]
    pub description: Option<String>,
    /// Whether it is one of OpsRamp's built-in roles.
    #[serde(default)]
    pub default_role: Option<bool>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A user group, from `userGroups` (minimal) or `userGroups/{id}` (with roles).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct UserGroup {
    /// `USRGRP-<uuid>`.
    #[serde(default, deserialize_with = "de::string")]
    pub unique_id: String,
    /// The name.
    #[serde(default, deserialize_with = "de::string")]
    pub name: String,
    /// The description.
    #[serde(default, deserialize_with = "de::opt_string")]
    pub description: Option<String>,
    /// The group's email.
    #[serde(default, deserialize_with = "de::opt_string")]
    pub email: Option<String>,
    /// Roles the group carries (full answers only).
    #[serde(default, deserialize_with = "null_as_empty")]
    pub roles: Vec<RoleRef>,
    /// `+0000`-style timestamps.
    #[serde(default, deserialize_with = "de::opt_string")]
    pub created_time: Option<String>,
    /// Same format.
    #[serde(default, deserialize_with = "de::opt_string")]
    pub updated_time: Option<String>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A role or group create/update body.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct NamedBody {
    /// The name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Any other field (`email`, `roles`, `permissions`, `allClients`, …).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl NamedBody {
    /// A body with a name.
    pub fn named(name: impl Into<String>) -> Self {
        NamedBody {
            name: Some(name.into()),
            ..NamedBody::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fact_sheets_user_decodes_with_numeric_role_ids() {
        let u: User = serde_json::from_str(
            r#"{"id":"USR0000002145","loginName":"ScarletJohn","firstName":"Scarlet","lastName":"John",
               "email":"scarlet@example.com","status":"active","orgId":"client_16",
               "timeZone":{"id":"7","name":"America/New_York","label":"GMT -05:00 Eastern","code":"EST"},
               "roles":[{"id":4,"name":"Client Administrator"}],
               "userGroups":[{"uniqueId":"USRGRP-13cf","name":"Implementation Team"}],
               "createdTime":"2016-11-01T11:54:24+0000","updatedTime":""}"#,
        )
        .unwrap();
        assert_eq!(u.roles[0].id.as_deref(), Some("4"));
        assert_eq!(u.roles[0].unique_id, None);
        assert_eq!(u.user_groups[0].unique_id.as_deref(), Some("USRGRP-13cf"));
        assert_eq!(u.updated_time, None);
        assert_eq!(u.enabled(), Some(true));
        assert_eq!(u.extra["timeZone"]["code"], "EST");
    }

    #[test]
    fn a_body_sends_the_password_but_debug_hides_it() {
        let body = UserBody {
            login_name: Some("jdoe".into()),
            password: Some(SecretString::from("Sup3r$ecret")),
            roles: Some(vec![RoleRef::by_name("Client User")]),
            ..UserBody::default()
        };
        let json = serde_json::to_value(&body).unwrap();
        assert_eq!(json["password"], "Sup3r$ecret");
        assert_eq!(json["roles"], serde_json::json!([{"name": "Client User"}]));
        assert!(json.get("email").is_none());
        assert!(!format!("{body:?}").contains("Sup3r$ecret"));
    }
}
