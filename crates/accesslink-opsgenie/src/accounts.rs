//! Account specs and changes as OpsGenie user bodies, checked before any request.
//!
//! `AccountSpec::attributes` and `AccountChange::attributes` may hold the OpsGenie user
//! fields in [`USER_KEYS`], under their API names; anything else is `InvalidInput`.

use accesslink_core::{AccountChange, AccountSpec, Error, Result};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::models::{NewUser, RoleRef, UserUpdate};
use crate::refs::{check_role, check_username};

/// User fields the attributes may set.
pub const USER_KEYS: &[&str] = &[
    "role",
    "timeZone",
    "locale",
    "skypeUsername",
    "userAddress",
    "tags",
    "details",
    "invitationDisabled",
];

fn check_attributes(attrs: &Map<String, Value>, create: bool) -> Result<()> {
    for key in attrs.keys() {
        let allowed = USER_KEYS.contains(&key.as_str()) && (create || key != "invitationDisabled");
        if !allowed {
            return Err(Error::invalid_input(format!(
                "unknown OpsGenie user field {key:?} in attributes (allowed: {})",
                USER_KEYS.join(", ")
            )));
        }
    }
    Ok(())
}

fn field<T: DeserializeOwned>(attrs: &Map<String, Value>, key: &str) -> Result<Option<T>> {
    attrs
        .get(key)
        .map(|v| {
            serde_json::from_value(v.clone()).map_err(|e| {
                Error::invalid_input(format!(
                    "OpsGenie user field {key:?} has the wrong type: {e}"
                ))
            })
        })
        .transpose()
}

fn full_name(display: Option<&str>, first: Option<&str>, last: Option<&str>) -> Option<String> {
    let joined: Vec<&str> = [first, last]
        .into_iter()
        .flatten()
        .filter(|s| !s.is_empty())
        .collect();
    display
        .map(str::to_owned)
        .or_else(|| (!joined.is_empty()).then(|| joined.join(" ")))
}

fn check_full_name(name: &str) -> Result<()> {
    let n = name.chars().count();
    if (1..=512).contains(&n) && !name.chars().any(char::is_control) && !name.trim().is_empty() {
        Ok(())
    } else {
        Err(Error::invalid_input(
            "an OpsGenie full name is 1-512 characters without control characters",
        ))
    }
}

/// The role named in attributes (`"role": "Admin"` or `{"name": "Admin"}`).
fn role_of(attrs: &Map<String, Value>) -> Result<Option<String>> {
    let name = match attrs.get("role") {
        None => return Ok(None),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Object(m)) => match m.get("name") {
            Some(Value::String(s)) => s.clone(),
            _ => return Err(Error::invalid_input("attribute role needs a name")),
        },
        Some(_) => return Err(Error::invalid_input("attribute role is a role name")),
    };
    check_role(&name)?;
    Ok(Some(name))
}

/// The `POST /v2/users` body of a spec: username = login (an e-mail address), full name
/// = display name, else first and last name, else the login.
pub(crate) fn new_user(
    spec: &AccountSpec,
    default_role: &str,
    invitation_disabled: bool,
) -> Result<NewUser> {
    check_username(&spec.login)?;
    if let Some(email) = &spec.email {
        if !email.eq_ignore_ascii_case(&spec.login) {
            return Err(Error::invalid_input(
                "an OpsGenie username is the e-mail address: login and email must agree",
            ));
        }
    }
    if !spec.enabled {
        return Err(Error::Unsupported {
            operation: "create_account with enabled: false",
            target: "opsgenie",
        });
    }
    check_attributes(&spec.attributes, true)?;
    let name = full_name(
        spec.display_name.as_deref(),
        spec.first_name.as_deref(),
        spec.last_name.as_deref(),
    )
    .unwrap_or_else(|| spec.login.clone());
    check_full_name(&name)?;
    let a = &spec.attributes;
    let role = role_of(a)?.unwrap_or_else(|| default_role.to_owned());
    let mut user = NewUser::new(spec.login.clone(), name, role);
    user.time_zone = field(a, "timeZone")?;
    user.locale = field(a, "locale")?;
    user.skype_username = field(a, "skypeUsername")?;
    user.user_address = field(a, "userAddress")?;
    user.tags = field(a, "tags")?;
    user.details = field(a, "details")?;
    user.invitation_disabled =
        field(a, "invitationDisabled")?.or(invitation_disabled.then_some(true));
    Ok(user)
}

/// The `PATCH` body of a change: `email` renames the user (its username is its e-mail
/// address).
pub(crate) fn user_update(change: &AccountChange) -> Result<UserUpdate> {
    check_attributes(&change.attributes, false)?;
    let mut u = UserUpdate::new();
    u.full_name = full_name(
        change.display_name.as_deref(),
        change.first_name.as_deref(),
        change.last_name.as_deref(),
    );
    if let Some(name) = &u.full_name {
        check_full_name(name)?;
    }
    if let Some(email) = &change.email {
        check_username(email)?;
        u.username = Some(email.clone());
    }
    let a = &change.attributes;
    u.role = role_of(a)?.map(RoleRef::named);
    u.time_zone = field(a, "timeZone")?;
    u.locale = field(a, "locale")?;
    u.skype_username = field(a, "skypeUsername")?;
    u.user_address = field(a, "userAddress")?;
    u.tags = field(a, "tags")?;
    u.details = field(a, "details")?;
    Ok(u)
}

/// The user fields OpsGenie shows and takes (`GET /v2/users/{id}`, `POST /v2/users`),
/// declared from its API docs: username (the e-mail, required), full name (required),
/// role (a built-in `Admin`/`User`/`Observer`/`Stakeholder`/`Owner` or a custom role's
/// name, required), time zone, locale, address, tags, details, and the read-only id,
/// `blocked`, `verified`, `createdAt` and contacts.
pub(crate) fn account_schema() -> accesslink_core::ObjectSchema {
    use accesslink_core::{FieldSchema, FieldType as T, ObjectSchema};
    let s = |n: &str, label: &str| FieldSchema::new(n, T::String).label(label);
    ObjectSchema::new("user")
        .field(s("id", "User id").read_only())
        .field(s("username", "Username (e-mail)").required())
        .field(s("fullName", "Full name").required())
        .field(
            FieldSchema::new("role", T::Reference("role".into()))
                .label("Role")
                .required(),
        )
        .field(s("skypeUsername", "Skype username"))
        .field(s("timeZone", "Time zone"))
        .field(s("locale", "Locale"))
        .field(FieldSchema::new("userAddress", T::Other("address".into())).label("Address"))
        .field(s("tags", "Tags").multi_valued())
        .field(FieldSchema::new("details", T::Other("map of string lists".into())).label("Details"))
        .field(
            FieldSchema::new("blocked", T::Boolean)
                .label("Blocked")
                .read_only(),
        )
        .field(
            FieldSchema::new("verified", T::Boolean)
                .label("Verified")
                .read_only(),
        )
        .field(
            FieldSchema::new("createdAt", T::DateTime)
                .label("Created")
                .read_only(),
        )
        .field(
            FieldSchema::new("userContacts", T::Other("contact".into()))
                .label("Contacts")
                .read_only()
                .multi_valued(),
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use accesslink_core::ErrorKind;
    use serde_json::json;

    #[test]
    fn specs_become_user_bodies() {
        let spec = AccountSpec::new("jane@example.com")
            .name("Jane", "Doe")
            .attribute("role", "Admin")
            .attribute("timeZone", "Europe/Paris");
        let u = new_user(&spec, "User", true).unwrap();
        assert_eq!(
            serde_json::to_value(&u).unwrap(),
            json!({"username":"jane@example.com","fullName":"Jane Doe","role":{"name":"Admin"},
                   "timeZone":"Europe/Paris","invitationDisabled":true})
        );
        let plain = new_user(&AccountSpec::new("x@example.com"), "User", false).unwrap();
        assert_eq!(plain.full_name, "x@example.com");
        assert_eq!(plain.role.name, "User");
        for bad in [
            AccountSpec::new("not-an-email"),
            AccountSpec::new("a@example.com").email("b@example.com"),
            AccountSpec::new("a@example.com").attribute("password", "x"),
            AccountSpec::new("a@example.com").attribute("tags", "not-a-list"),
            AccountSpec::new("a@example.com").display_name("bad\u{0}name"),
        ] {
            assert_eq!(
                new_user(&bad, "User", false).unwrap_err().kind(),
                ErrorKind::InvalidInput,
                "{bad:?}"
            );
        }
        let mut disabled = AccountSpec::new("a@example.com");
        disabled.enabled = false;
        assert_eq!(
            new_user(&disabled, "User", false).unwrap_err().kind(),
            ErrorKind::Unsupported
        );
    }

    #[test]
    fn changes_become_patches() {
        let change = AccountChange::new()
            .display_name("Jane D.")
            .email("jane.d@example.com")
            .attribute("skypeUsername", "jane.d");
        let u = user_update(&change).unwrap();
        assert_eq!(
            serde_json::to_value(&u).unwrap(),
            json!({"username":"jane.d@example.com","fullName":"Jane D.","skypeUsername":"jane.d"})
        );
        assert!(user_update(&AccountChange::new()).unwrap().is_empty());
        assert!(user_update(&AccountChange::new().attribute("invitationDisabled", true)).is_err());
    }
}
