//! Accounts and entitlements: validation, conversions and look-ups under the
//! `Provisioner` implementation.

use accesslink_core::{Account, AccountId, EntitlementRef, EntitlementType, Error, Result};
use serde_json::{Map, Value};

use crate::api::{ListParams, check_sys_id};
use crate::connector::ServiceNowConnector;
use crate::models::{GroupMember, User, UserRole, ref_id};
use crate::query::Query;

/// `sys_user` fields `AccountSpec::attributes` and `AccountChange::attributes` may set,
/// besides custom `u_*` fields.
pub(crate) const USER_KEYS: &[&str] = &[
    "title",
    "department",
    "manager",
    "employee_number",
    "phone",
    "mobile_phone",
    "location",
    "company",
    "cost_center",
    "middle_name",
    "preferred_language",
    "time_zone",
    "source",
    "user_password",
    "password_needs_reset",
    "web_service_access_only",
    "internal_integration_user",
    "locked_out",
];

/// What an entitlement reference points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Group,
    Role,
}

pub(crate) fn account_id(id: &AccountId) -> Result<&str> {
    check_sys_id("ServiceNow user id", id.as_str())?;
    Ok(id.as_str())
}

pub(crate) fn target(e: &EntitlementRef) -> Result<(Kind, &str)> {
    let kind = match e.ty.as_str() {
        "group" => Kind::Group,
        "role" => Kind::Role,
        other => return Err(unknown_type(other)),
    };
    check_sys_id(&format!("ServiceNow {} id", e.ty), e.id.as_str())?;
    Ok((kind, e.id.as_str()))
}

pub(crate) fn unknown_type(ty: &str) -> Error {
    Error::invalid_input(format!(
        "ServiceNow entitlement types are \"group\" and \"role\", not {:?}",
        accesslink_core::redact::truncate(ty, 40)
    ))
}

/// A user name the connector can create and look up: 1-100 characters, no control
/// characters, no surrounding spaces, and safe in an encoded query.
pub(crate) fn check_login(login: &str) -> Result<()> {
    let n = login.chars().count();
    if !(1..=100).contains(&n) || login.trim() != login {
        return Err(Error::invalid_input(
            "a ServiceNow user_name is 1-100 characters without surrounding spaces",
        ));
    }
    crate::query::check_value(login)
}

/// Checks free text for a user field.
pub(crate) fn check_text(what: &str, v: &Option<String>) -> Result<()> {
    match v {
        Some(s) if s.chars().any(char::is_control) || s.chars().count() > 100 => {
            Err(Error::invalid_input(format!(
                "{what} must be at most 100 characters without control characters"
            )))
        }
        _ => Ok(()),
    }
}

/// Checks attribute keys and turns values into the strings the Table API stores.
pub(crate) fn attributes(attrs: &Map<String, Value>) -> Result<Map<String, Value>> {
    let mut out = Map::new();
    for (key, value) in attrs {
        let custom =
            key.starts_with("u_") && crate::query::check_field(key).is_ok() && !key.contains('.');
        if !custom && !USER_KEYS.contains(&key.as_str()) {
            return Err(Error::invalid_input(format!(
                "unknown sys_user field {:?} (allowed: u_* custom fields and {})",
                accesslink_core::redact::truncate(key, 40),
                USER_KEYS.join(", ")
            )));
        }
        let v = match value {
            Value::String(s) => s.clone(),
            Value::Bool(b) => b.to_string(),
            Value::Number(n) => n.to_string(),
            Value::Null => String::new(),
            _ => {
                return Err(Error::invalid_input(format!(
                    "sys_user field {key:?} must be a string, number or boolean"
                )));
            }
        };
        out.insert(key.clone(), Value::String(v));
    }
    Ok(out)
}

/// The common model of a `sys_user` row.
pub(crate) fn account_of(user: &User) -> Account {
    let mut a = Account::new(
        user.sys_id.clone().unwrap_or_default(),
        user.user_name.clone().unwrap_or_default(),
    );
    a.display_name = user.name.clone().or_else(|| {
        let parts: Vec<&str> = [&user.first_name, &user.last_name]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .collect();
        (!parts.is_empty()).then(|| parts.join(" "))
    });
    a.email = user.email.clone();
    // A locked-out user cannot sign in either.
    a.enabled = user
        .active
        .map(|active| active && user.locked_out != Some(true));
    if let Ok(Value::Object(m)) = serde_json::to_value(user) {
        a.attributes = m;
    }
    a
}

impl ServiceNowConnector {
    /// The user with this `user_name`: the exact spelling first, else one differing only
    /// in case. The instance compares `user_name` case-insensitively (its database
    /// collation), both in the query and in the unique index an insert runs into, so
    /// `JDoe` *is* the account `jdoe` would collide with.
    pub(crate) async fn user_by_login(&self, login: &str) -> Result<Option<User>> {
        let params = ListParams::new(Query::new().eq("user_name", login))
            .limit(5)
            .no_count(true);
        let found = self.client.users().list_page(&params).await?;
        Ok(pick_login(found.items, login))
    }

    /// Membership rows of a user in a group (duplicates are possible: there is no
    /// unique index).
    pub(crate) async fn memberships(&self, user: &str, group: &str) -> Result<Vec<GroupMember>> {
        let params = ListParams::new(Query::new().eq("user", user).eq("group", group))
            .limit(100)
            .no_count(true);
        let rows = self.client.group_members().list_page(&params).await?.items;
        Ok(rows
            .into_iter()
            .filter(|m| ref_id(&m.user) == Some(user) && ref_id(&m.group) == Some(group))
            .collect())
    }

    /// Role rows of a user for a role that give it the role ([`UserRole::is_held`]),
    /// direct and inherited. Rows waiting for approval (`state` `requested`, …) are left
    /// out: they are not grants, for look-ups before a grant, nor for a revoke, which
    /// leaves them to their approval.
    pub(crate) async fn role_rows(&self, user: &str, role: &str) -> Result<Vec<UserRole>> {
        let params = ListParams::new(Query::new().eq("user", user).eq("role", role))
            .limit(100)
            .no_count(true);
        let rows = self.client.user_roles().list_page(&params).await?.items;
        Ok(rows
            .into_iter()
            .filter(|r| ref_id(&r.user) == Some(user) && ref_id(&r.role) == Some(role))
            .filter(UserRole::is_held)
            .collect())
    }

    /// Whether the user holds the entitlement (any held row, inherited included).
    pub(crate) async fn holds(&self, kind: Kind, user: &str, id: &str) -> Result<bool> {
        Ok(match kind {
            Kind::Group => !self.memberships(user, id).await?.is_empty(),
            Kind::Role => !self.role_rows(user, id).await?.is_empty(),
        })
    }

    pub(crate) fn page_size(&self, page: &accesslink_core::PageRequest) -> u32 {
        page.size_or(self.config.page_size)
            .clamp(1, crate::api::MAX_LIMIT)
    }
}

/// The row whose `user_name` is `login`, exactly or else ignoring case.
pub(crate) fn pick_login(users: Vec<User>, login: &str) -> Option<User> {
    let same_case = |u: &User| u.user_name.as_deref() == Some(login);
    let any_case = |u: &User| {
        u.user_name
            .as_deref()
            .is_some_and(|n| n.to_lowercase() == login.to_lowercase())
    };
    match users.iter().position(same_case) {
        Some(i) => users.into_iter().nth(i),
        None => users.into_iter().find(any_case),
    }
}

/// The entitlement reference of a group.
pub fn group_ref(sys_id: impl Into<String>) -> EntitlementRef {
    EntitlementRef::new(EntitlementType::group(), sys_id.into())
}

/// The entitlement reference of a role.
pub fn role_ref(sys_id: impl Into<String>) -> EntitlementRef {
    EntitlementRef::new(EntitlementType::role(), sys_id.into())
}
