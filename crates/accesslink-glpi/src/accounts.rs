//! Accounts and entitlements: validation, conversions and lookups under the
//! `Provisioner` implementation.

use accesslink_core::write::write_with_lookup;
use accesslink_core::{
    Account, AccountId, EntitlementRef, EntitlementType, Error, ErrorKind, GrantOutcome,
    PageRequest, Result,
};
use serde_json::{Map, Value};

use crate::api::{ListParams, row_text, row_u64};
use crate::connector::GlpiConnector;
use crate::models::{GroupUser, ProfileUser, User, UserEmail, decode_text};
use crate::refs::parse_id;

/// User fields `AccountSpec::attributes` and `AccountChange::attributes` may set.
pub(crate) const USER_KEYS: &[&str] = &[
    "realname",
    "firstname",
    "phone",
    "phone2",
    "mobile",
    "comment",
    "registration_number",
    "entities_id",
    "profiles_id",
    "usertitles_id",
    "usercategories_id",
    "locations_id",
    "language",
    "begin_date",
    "end_date",
    "groups_id",
    "users_id_supervisor",
    "nickname",
    "authtype",
    "auths_id",
    "user_dn",
];

/// User search options: login, last name, first name, emails, active.
pub(crate) const ACCOUNT_COLUMNS: [u32; 5] = [1, 34, 9, 5, 8];

/// Native fields never copied into `Account::attributes`.
pub(crate) const HIDDEN: &[&str] = &[
    "links",
    "password",
    "api_token",
    "cookie_token",
    "personal_token",
    "password_forget_token",
];

pub(crate) fn account_id(id: &AccountId) -> Result<u64> {
    parse_id(id.as_str()).ok_or_else(|| {
        Error::invalid_input(format!(
            "GLPI user id {:?} is not a positive integer",
            accesslink_core::redact::truncate(id.as_str(), 60)
        ))
    })
}

/// A group or `profile@entity` entitlement, checked.
pub(crate) enum Target {
    Group(u64),
    Profile { profile: u64, entity: u64 },
}

pub(crate) fn target(e: &EntitlementRef) -> Result<Target> {
    let id = e.id.as_str();
    let bad = |what: &str| {
        Error::invalid_input(format!(
            "GLPI {what} entitlement id {:?} is malformed",
            accesslink_core::redact::truncate(id, 60)
        ))
    };
    match e.ty.as_str() {
        "group" => parse_id(id).map(Target::Group).ok_or_else(|| bad("group")),
        "profile" => {
            let (p, en) = id
                .split_once('@')
                .ok_or_else(|| bad("profile (`<profile>@<entity>`)"))?;
            let entity = if en == "0" { Some(0) } else { parse_id(en) };
            match (parse_id(p), entity) {
                (Some(profile), Some(entity)) => Ok(Target::Profile { profile, entity }),
                _ => Err(bad("profile (`<profile>@<entity>`)")),
            }
        }
        other => Err(unknown_type(other)),
    }
}

pub(crate) fn unknown_type(ty: &str) -> Error {
    Error::invalid_input(format!(
        "GLPI entitlement types are `group` and `profile`, not {:?}",
        accesslink_core::redact::truncate(ty, 40)
    ))
}

/// The entitlement reference of a profile in an entity.
pub(crate) fn profile_ref(profile: u64, entity: u64) -> EntitlementRef {
    EntitlementRef::new(
        EntitlementType::new("profile"),
        format!("{profile}@{entity}"),
    )
}

pub(crate) fn group_ref(group: u64) -> EntitlementRef {
    EntitlementRef::new(EntitlementType::group(), group.to_string())
}

pub(crate) fn check_text(what: &str, v: &Option<String>) -> Result<()> {
    match v {
        Some(s) if s.chars().any(char::is_control) || s.chars().count() > 255 => {
            Err(Error::invalid_input(format!(
                "{what} has control characters or exceeds 255 characters"
            )))
        }
        _ => Ok(()),
    }
}

pub(crate) fn check_email(email: &Option<String>) -> Result<()> {
    match email {
        Some(e)
            if e.len() > 255
                || e.chars().any(|c| c.is_whitespace() || c.is_control())
                || e.split('@').count() != 2
                || e.starts_with('@')
                || e.ends_with('@') =>
        {
            Err(Error::invalid_input("the email address is malformed"))
        }
        _ => Ok(()),
    }
}

pub(crate) fn check_attributes(attrs: &Map<String, Value>) -> Result<()> {
    for key in attrs.keys() {
        if !USER_KEYS.contains(&key.as_str()) {
            return Err(Error::invalid_input(format!(
                "unknown GLPI user field {key:?} in attributes (allowed: {}; passwords are not set through this connector)",
                USER_KEYS.join(", ")
            )));
        }
    }
    Ok(())
}

/// The default email among a user's addresses (the flagged one, else the first, as
/// GLPI's `UserEmail::getDefaultForUser`).
pub(crate) fn default_email(emails: &[UserEmail]) -> Option<&UserEmail> {
    emails
        .iter()
        .find(|e| e.is_default == Some(1))
        .or_else(|| emails.first())
}

pub(crate) fn display_name(first: Option<&str>, last: Option<&str>) -> Option<String> {
    let parts: Vec<&str> = [first, last]
        .into_iter()
        .flatten()
        .filter(|s| !s.is_empty())
        .collect();
    (!parts.is_empty()).then(|| parts.join(" "))
}

impl GlpiConnector {
    pub(crate) fn account_of(&self, user: &User, emails: &[UserEmail]) -> Account {
        let first = user.firstname.as_deref().map(decode_text);
        let last = user.realname.as_deref().map(decode_text);
        let mut a = Account::new(user.id.to_string(), decode_text(&user.name));
        a.display_name = display_name(first.as_deref(), last.as_deref());
        a.email = default_email(emails).map(|e| e.email.clone());
        a.enabled = user.is_active.map(|v| v == 1);
        let mut attrs = match serde_json::to_value(user) {
            Ok(Value::Object(m)) => m,
            _ => Map::new(),
        };
        attrs.retain(|k, _| !HIDDEN.contains(&k.as_str()));
        a.attributes = attrs;
        a
    }

    /// An account from a search row; a user with several addresses costs one more
    /// request, to tell the default one.
    pub(crate) async fn account_of_row(&self, row: &Map<String, Value>) -> Result<Account> {
        let id = row_u64(row, 2)
            .ok_or_else(|| Error::protocol("GET /search/User", "a row without an ID"))?;
        let login = row_text(row, 1).unwrap_or_default();
        let first = row_text(row, 9);
        let last = row_text(row, 34);
        let email = match row.get("5") {
            Some(Value::Array(list)) if list.len() > 1 => {
                let emails: Vec<UserEmail> = self.client.users().sub_items(id, "UserEmail").await?;
                default_email(&emails).map(|e| e.email.clone())
            }
            _ => row_text(row, 5),
        };
        let mut a = Account::new(id.to_string(), login);
        a.display_name = display_name(first.as_deref(), last.as_deref());
        a.email = email;
        a.enabled = row_u64(row, 8).map(|v| v == 1);
        a.attributes
            .insert("realname".into(), last.map_or(Value::Null, Value::from));
        a.attributes
            .insert("firstname".into(), first.map_or(Value::Null, Value::from));
        a.attributes.insert(
            "is_active".into(),
            row_u64(row, 8).map_or(Value::Null, Value::from),
        );
        Ok(a)
    }

    /// A live user (not in the trash), with its addresses.
    pub(crate) async fn live_user(&self, id: u64) -> Result<Option<(User, Vec<UserEmail>)>> {
        let Some(user) = self.client.users().get_opt(id).await? else {
            return Ok(None);
        };
        if user.is_deleted == Some(1) {
            return Ok(None);
        }
        let emails = self.client.users().sub_items(id, "UserEmail").await?;
        Ok(Some((user, emails)))
    }

    pub(crate) async fn live_user_required(&self, id: u64) -> Result<(User, Vec<UserEmail>)> {
        self.live_user(id)
            .await?
            .ok_or_else(|| Error::not_found(format!("GLPI user {id}")))
    }

    /// What an existing login means for a create: the live account, or a conflict
    /// when the login belongs to a user in the trash.
    pub(crate) async fn existing_login(&self, login: &str) -> Result<Option<Account>> {
        if let Some(id) = self.user_id_by_login(login).await? {
            let (user, emails) = self.live_user_required(id).await?;
            return Ok(Some(self.account_of(&user, &emails)));
        }
        let params = ListParams::by_id().exact("name", login).deleted(true);
        let trashed = self.client.users().list(0, 20, &params).await?;
        if let Some(u) = trashed
            .items
            .iter()
            .find(|u| decode_text(&u.name).eq_ignore_ascii_case(login))
        {
            return Err(Error::Conflict {
                message: format!(
                    "GLPI login {login:?} belongs to user {} in the trash: restore or purge it first",
                    u.id
                ),
            });
        }
        Ok(None)
    }

    pub(crate) async fn post_link(&self, itemtype: &'static str, input: Value) -> Result<()> {
        self.client
            .items::<Value>(itemtype)
            .create(&input)
            .await
            .map(|_| ())
    }

    /// Adds a link with the same care as a create: on an ambiguous failure, look
    /// (`present`) before trying again.
    pub(crate) async fn grant_link<F, Fut>(
        &self,
        itemtype: &'static str,
        input: Value,
        present: F,
    ) -> Result<GrantOutcome>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<bool>>,
    {
        let input = &input;
        let present = &present;
        let written = write_with_lookup(
            self.client.retry_config(),
            "glpi grant",
            |attempt| async move {
                match self.post_link(itemtype, input.clone()).await {
                    Ok(()) => Ok(GrantOutcome::Granted),
                    // Granted in between (Group_User is unique): by someone else, or by an
                    // earlier attempt of ours whose answer was lost.
                    Err(e) if e.kind() == ErrorKind::Conflict && present().await? => {
                        Ok(if attempt.maybe_sent {
                            GrantOutcome::Granted
                        } else {
                            GrantOutcome::AlreadyGranted
                        })
                    }
                    Err(e) => Err(e),
                }
            },
            || async move { Ok(present().await?.then_some(GrantOutcome::Granted)) },
        )
        .await?;
        Ok(written.into_inner())
    }

    pub(crate) async fn group_links(&self, uid: u64) -> Result<Vec<GroupUser>> {
        self.client.users().sub_items(uid, "Group_User").await
    }

    pub(crate) async fn profile_links(&self, uid: u64) -> Result<Vec<ProfileUser>> {
        self.client.users().sub_items(uid, "Profile_User").await
    }

    /// Purges links; `true` when at least one was still there.
    pub(crate) async fn purge_links(&self, itemtype: &'static str, ids: &[u64]) -> Result<bool> {
        let mut removed = false;
        for &id in ids {
            match self.client.items::<Value>(itemtype).delete(id, true).await {
                Ok(()) => removed = true,
                Err(e) if e.kind() == ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        Ok(removed)
    }

    pub(crate) fn page_size(&self, page: &PageRequest) -> u64 {
        u64::from(page.size_or(self.settings.page_size).min(1000))
    }
}
