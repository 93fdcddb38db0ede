//! The [`Provisioner`] implementation: `User`s and five entitlement types, named by
//! the constants of this module: permission sets and permission set groups
//! (`PermissionSetAssignment`), public groups and queues (`GroupMember`), and the
//! profile (one per user, `User.ProfileId`: granted by an update, never revoked).
//!
//! Listings page by keyset (`WHERE Id > :last ORDER BY Id LIMIT n`; the page token is the
//! last id), never `OFFSET` (capped at 2000); every row of a page must lie after the
//! token, so a server that repeats a page is caught. Grants are idempotent:
//! `DUPLICATE_VALUE` is "already granted", a missing assignment "already absent".
//! Users cannot be deleted in Salesforce: `delete_account` is `Unsupported` (deactivate
//! with `set_enabled(false)`).

use accesslink_core::{
    Account, AccountChange, AccountId, AccountSpec, CreateOutcome, Entitlement, EntitlementRef,
    EntitlementType, Error, Grant, GrantOutcome, Page, PageRequest, PageToken, Provisioner, Result,
    RevokeOutcome, async_trait,
};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::connector::SalesforceConnector;
use crate::ids::SfId;
use crate::settings::DisableBy;
use crate::soql::Soql;

/// `permission_set`: permission sets not owned by a profile (`PermissionSetAssignment`).
pub const PERMISSION_SET: &str = "permission_set";
/// `permission_set_group`: permission set groups (`PermissionSetAssignment` with
/// `PermissionSetGroupId`).
pub const PERMISSION_SET_GROUP: &str = "permission_set_group";
/// `group`: public groups (`Group` of `Type = 'Regular'`, `GroupMember`).
pub const GROUP: &str = "group";
/// `queue`: queues (`Group` of `Type = 'Queue'`, `GroupMember`).
pub const QUEUE: &str = "queue";
/// `profile`: the user's profile, one per user (`User.ProfileId`).
pub const PROFILE: &str = "profile";

/// How one entitlement type is held.
#[derive(Debug, Clone, Copy)]
pub(crate) struct AssignmentKind {
    /// The assignment object (`User` for the profile).
    pub(crate) object: &'static str,
    /// Its entitlement field.
    pub(crate) efield: &'static str,
    /// Its account field.
    pub(crate) afield: &'static str,
}

const USER_FIELDS: &[&str] = &[
    "Id",
    "Username",
    "Email",
    "FirstName",
    "LastName",
    "Name",
    "IsActive",
    "ProfileId",
    "UserType",
];

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UserRow {
    id: String,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    is_active: Option<bool>,
    #[serde(flatten)]
    other: Map<String, Value>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Row {
    id: String,
    #[serde(flatten)]
    other: Map<String, Value>,
}

fn token_id(page: &PageRequest) -> Result<Option<SfId>> {
    page.token
        .as_ref()
        .map(|t| {
            SfId::parse(t.as_str()).map_err(|_| {
                Error::invalid_input(format!("{:?} is not a Salesforce page token", t.as_str()))
            })
        })
        .transpose()
}

fn account_id(id: &AccountId) -> Result<SfId> {
    SfId::parse(id.as_str())
}

fn text<'a>(m: &'a Map<String, Value>, k: &str) -> Option<&'a str> {
    m.get(k).and_then(Value::as_str)
}

/// An alias (≤ 8 characters, letters and digits) from the names or the login.
fn alias_of(spec: &AccountSpec) -> String {
    let base = match (&spec.first_name, &spec.last_name) {
        (Some(f), Some(l)) => format!("{}{}", f.chars().next().unwrap_or('x'), l),
        _ => spec.login.split('@').next().unwrap_or("user").to_owned(),
    };
    let a: String = base
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(8)
        .collect::<String>()
        .to_ascii_lowercase();
    if a.is_empty() { "user".into() } else { a }
}

impl SalesforceConnector {
    fn account_of(u: UserRow) -> Account {
        let login = u.username.clone().unwrap_or_else(|| u.id.clone());
        let mut a = Account::new(u.id, login);
        a.display_name = u.name;
        a.email = u.email.filter(|e| !e.is_empty());
        a.enabled = u.is_active;
        a.attributes = u.other;
        a.attributes.remove("attributes");
        a
    }

    /// One keyset page of `object`: rows after the token, in `Id` order.
    async fn keyset<T: serde::de::DeserializeOwned>(
        &self,
        fields: &[&str],
        object: &str,
        filter: impl Fn(Soql) -> Result<Soql>,
        page: &PageRequest,
        id_of: impl Fn(&T) -> &str,
    ) -> Result<(Vec<T>, Option<PageToken>, Option<u64>)> {
        let size = page.size_or(200).clamp(1, 2000);
        let after = token_id(page)?;
        let filter = |q: Soql| filter(q);
        // The first page also counts the whole listing, so a drain can tell a short one.
        let total = if after.is_none() {
            let count = filter(Soql::count(object)?)?;
            let p: crate::models::QueryPage<Value> = self.client.query_page(&count, None).await?;
            Some(p.total_size)
        } else {
            None
        };
        let mut unique: Vec<&str> = Vec::with_capacity(fields.len());
        for f in fields {
            if !unique.contains(f) {
                unique.push(f);
            }
        }
        let mut q = filter(Soql::select(&unique, object)?)?;
        if let Some(a) = &after {
            q = q.gt("Id", a.as_str())?;
        }
        let q = q.order_by("Id", false)?.limit(size);
        let rows: Vec<T> = self.client.query_all(&q).await?;
        let mut last: Option<&str> = after.as_ref().map(SfId::as_str);
        for r in &rows {
            let id = id_of(r);
            if last.is_some_and(|l| id <= l) {
                return Err(Error::protocol(
                    format!("salesforce {object} listing"),
                    "a row is not after the page token (a repeated or unordered page)",
                ));
            }
            last = Some(id);
        }
        let next = (rows.len() as u32 == size)
            .then(|| rows.last().map(|r| PageToken::new(id_of(r))))
            .flatten();
        Ok((rows, next, total))
    }

    async fn user_by(&self, field: &str, value: &str) -> Result<Option<Account>> {
        let q = Soql::select(USER_FIELDS, "User")?.eq(field, value)?;
        let rows: Vec<UserRow> = self.client.query_all(&q).await?;
        Ok(rows
            .into_iter()
            .find(|u| match field {
                "Id" => u.id.get(..15) == value.get(..15),
                _ => u
                    .username
                    .as_deref()
                    .is_some_and(|n| n.eq_ignore_ascii_case(value)),
            })
            .map(Self::account_of))
    }

    /// How entitlements of `ty` are held: the assignment object and its two fields.
    pub(crate) fn assignment_kind(&self, ty: &EntitlementType) -> Result<AssignmentKind> {
        let k = |object, efield, afield| {
            Ok(AssignmentKind {
                object,
                efield,
                afield,
            })
        };
        match ty.as_str() {
            PERMISSION_SET => k("PermissionSetAssignment", "PermissionSetId", "AssigneeId"),
            PERMISSION_SET_GROUP => k(
                "PermissionSetAssignment",
                "PermissionSetGroupId",
                "AssigneeId",
            ),
            GROUP | QUEUE => k("GroupMember", "GroupId", "UserOrGroupId"),
            PROFILE => k("User", "ProfileId", "Id"),
            other => Err(Error::invalid_input(format!(
                "Salesforce entitlements are permission_set, permission_set_group, group, \
                 queue or profile, not {other}"
            ))),
        }
    }

    /// Stops an import when the org's reported API usage reached
    /// `api_budget.import_stop_percent`.
    pub(crate) fn import_budget(&self, what: &str) -> Result<()> {
        self.client
            .api_usage()
            .check_import(&self.settings.api_budget, what)
    }

    /// The user's `UserLogin` (its id and `IsFrozen`).
    async fn user_login(&self, user: &SfId) -> Result<Option<(SfId, bool)>> {
        let q = Soql::select(&["Id", "UserId", "IsFrozen"], "UserLogin")?
            .eq("UserId", user.as_str())?;
        let rows: Vec<Row> = self.client.query_all(&q).await?;
        rows.into_iter()
            .find(|r| text(&r.other, "UserId").and_then(|u| u.get(..15)) == Some(user.short()))
            .map(|r| {
                let frozen = r
                    .other
                    .get("IsFrozen")
                    .and_then(Value::as_bool)
                    .unwrap_or(false);
                Ok((SfId::parse(&r.id)?, frozen))
            })
            .transpose()
    }

    /// With `disable_by = "freeze"`, a frozen user is shown disabled: one `UserLogin`
    /// query (`IN`) per page.
    async fn apply_frozen(&self, accounts: &mut [Account]) -> Result<()> {
        if self.settings.disable_by != DisableBy::Freeze || accounts.is_empty() {
            return Ok(());
        }
        let ids: Vec<&str> = accounts.iter().map(|a| a.id.as_str()).collect();
        let q = Soql::select(&["Id", "UserId", "IsFrozen"], "UserLogin")?
            .in_list("UserId", &ids)?
            .eq_bool("IsFrozen", true)?;
        let rows: Vec<Row> = self.client.query_all(&q).await?;
        let frozen: std::collections::HashSet<String> = rows
            .iter()
            .filter(|r| r.other.get("IsFrozen").and_then(Value::as_bool) == Some(true))
            .filter_map(|r| {
                text(&r.other, "UserId")
                    .and_then(|u| u.get(..15))
                    .map(str::to_owned)
            })
            .collect();
        for a in accounts {
            if a.id.as_str().get(..15).is_some_and(|i| frozen.contains(i)) {
                a.enabled = Some(false);
            }
        }
        Ok(())
    }

    /// Whether grants of `ty` are assignment records (bulk-writable as collections);
    /// the profile is a field of the user.
    pub(crate) fn is_collection_kind(&self, ty: &EntitlementType) -> bool {
        matches!(
            ty.as_str(),
            PERMISSION_SET | PERMISSION_SET_GROUP | GROUP | QUEUE
        )
    }

    async fn assignment(&self, account: &SfId, e: &EntitlementRef) -> Result<Option<SfId>> {
        let AssignmentKind {
            object,
            efield,
            afield,
        } = self.assignment_kind(&e.ty)?;
        let eid = SfId::parse(e.id.as_str())?;
        let q = Soql::select(&["Id", efield, afield], object)?
            .eq(afield, account.as_str())?
            .eq(efield, eid.as_str())?;
        let rows: Vec<Row> = self.client.query_all(&q).await?;
        let hit = rows.into_iter().find(|r| {
            text(&r.other, afield).and_then(|v| v.get(..15)) == Some(account.short())
                && text(&r.other, efield).and_then(|v| v.get(..15)) == Some(eid.short())
        });
        hit.map(|r| SfId::parse(&r.id)).transpose()
    }
}

#[async_trait]
impl Provisioner for SalesforceConnector {
    fn entitlement_types(&self) -> &[EntitlementType] {
        &self.types
    }

    /// Internal users (`UserType = 'Standard'`), keyset-paged on `Id`; within one
    /// partition's `Id` range when the request has one ([`crate::partition`]).
    async fn list_accounts(&self, page: PageRequest) -> Result<Page<Account>> {
        self.import_budget("user listing")?;
        // A malformed bound is refused by the filter, before any request.
        let range = page.key_range().clone();
        let (rows, next, total) = self
            .keyset(
                USER_FIELDS,
                "User",
                |q| crate::partition::with_range(crate::partition::internal_users(q)?, &range),
                &page,
                |u: &UserRow| u.id.as_str(),
            )
            .await?;
        let mut accounts: Vec<Account> = rows.into_iter().map(Self::account_of).collect();
        self.apply_frozen(&mut accounts).await?;
        Ok(Page::new(accounts, next).with_total(total))
    }

    async fn get_account(&self, id: &AccountId) -> Result<Option<Account>> {
        let id = account_id(id)?;
        self.user_by("Id", id.as_str()).await
    }

    /// Permission sets not owned by a profile, permission set groups, public groups
    /// (`Type = 'Regular'`), queues (`Type = 'Queue'`) or profiles.
    async fn list_entitlements(
        &self,
        ty: &EntitlementType,
        page: PageRequest,
    ) -> Result<Page<Entitlement>> {
        self.import_budget("entitlement listing")?;
        let kind = ty.as_str();
        self.assignment_kind(ty)?;
        let (fields, object, label): (&[&str], &str, &str) = match kind {
            PERMISSION_SET => (&["Id", "Name", "Label"], "PermissionSet", "Label"),
            PERMISSION_SET_GROUP => (
                &["Id", "DeveloperName", "MasterLabel"],
                "PermissionSetGroup",
                "MasterLabel",
            ),
            PROFILE => (&["Id", "Name"], "Profile", "Name"),
            _ => (&["Id", "Name", "DeveloperName"], "Group", "Name"),
        };
        let (rows, next, total) = self
            .keyset(
                fields,
                object,
                |q| match kind {
                    PERMISSION_SET => q.eq_bool("IsOwnedByProfile", false),
                    GROUP => q.eq("Type", "Regular"),
                    QUEUE => q.eq("Type", "Queue"),
                    _ => Ok(q),
                },
                &page,
                |r: &Row| r.id.as_str(),
            )
            .await?;
        let items = rows
            .into_iter()
            .map(|r| {
                let name = text(&r.other, label)
                    .or_else(|| text(&r.other, "Name"))
                    .or_else(|| text(&r.other, "DeveloperName"))
                    .unwrap_or(&r.id)
                    .to_owned();
                let mut e = Entitlement::new(EntitlementRef::new(ty.clone(), r.id.clone()), name);
                e.attributes = r.other;
                e.attributes.remove("attributes");
                e
            })
            .collect();
        Ok(Page::new(items, next).with_total(total))
    }

    /// Assignments of permission sets not owned by a profile (and not through a
    /// group), of permission set groups, memberships of public groups or queues, or
    /// each internal user's profile.
    async fn list_grants(&self, ty: &EntitlementType, page: PageRequest) -> Result<Page<Grant>> {
        self.import_budget("grant listing")?;
        let AssignmentKind {
            object,
            efield,
            afield,
        } = self.assignment_kind(ty)?;
        let kind = ty.as_str();
        let (rows, next, total) = self
            .keyset(
                &["Id", efield, afield],
                object,
                |q| match kind {
                    PERMISSION_SET => q
                        .eq_bool("PermissionSet.IsOwnedByProfile", false)?
                        .is_null("PermissionSetGroupId", true),
                    PERMISSION_SET_GROUP => q.is_null("PermissionSetGroupId", false),
                    GROUP => q.eq("Group.Type", "Regular"),
                    QUEUE => q.eq("Group.Type", "Queue"),
                    _ => q.eq("UserType", "Standard"),
                },
                &page,
                |r: &Row| r.id.as_str(),
            )
            .await?;
        let items = rows
            .into_iter()
            .filter_map(|r| {
                let a = if afield == "Id" {
                    r.id.as_str()
                } else {
                    text(&r.other, afield)?
                };
                let e = text(&r.other, efield)?;
                // Group members can be groups: only users are accounts.
                a.starts_with("005").then(|| {
                    Grant::new(a.to_owned(), EntitlementRef::new(ty.clone(), e.to_owned()))
                })
            })
            .collect();
        Ok(Page::new(items, next).with_total(total))
    }

    /// Looks the `Username` up, creates the user with the required fields (profile,
    /// locale, time zone, encoding, language from `user_defaults`, an alias derived from
    /// the name), looks up again after an ambiguous failure, and reads it back.
    async fn create_account(&self, spec: &AccountSpec) -> Result<CreateOutcome> {
        let login = spec.login.trim();
        if login.is_empty()
            || login.len() > 80
            || !login.contains('@')
            || login.chars().any(|c| c.is_control() || c.is_whitespace())
        {
            return Err(Error::invalid_input(
                "a Salesforce Username is e-mail shaped, at most 80 characters",
            ));
        }
        let d = &self.settings.user_defaults;
        let profile = d.profile_id.clone().ok_or(Error::Unsupported {
            operation: "create_account without user_defaults.profile_id",
            target: "salesforce",
        })?;
        if let Some(found) = self.user_by("Username", login).await? {
            return Ok(CreateOutcome::AlreadyExists(found));
        }
        let last = spec
            .last_name
            .clone()
            .or_else(|| spec.display_name.clone())
            .unwrap_or_else(|| login.split('@').next().unwrap_or(login).to_owned());
        let mut body = spec.attributes.clone();
        body.insert("Username".into(), json!(login));
        body.insert("LastName".into(), json!(last));
        if let Some(f) = &spec.first_name {
            body.insert("FirstName".into(), json!(f));
        }
        body.insert(
            "Email".into(),
            json!(spec.email.clone().unwrap_or_else(|| login.to_owned())),
        );
        body.insert("Alias".into(), json!(alias_of(spec)));
        body.insert("TimeZoneSidKey".into(), json!(d.time_zone));
        body.insert("LocaleSidKey".into(), json!(d.locale));
        body.insert("EmailEncodingKey".into(), json!(d.email_encoding));
        body.insert("LanguageLocaleKey".into(), json!(d.language));
        body.insert("ProfileId".into(), json!(profile));
        body.insert("IsActive".into(), json!(spec.enabled));
        let body = Value::Object(body);
        let retry = self.client.retry_config().clone();
        let id = accesslink_core::write::write_with_lookup(
            &retry,
            "create salesforce user",
            |_| self.client.create("User", &body),
            || async {
                Ok(self
                    .user_by("Username", login)
                    .await?
                    .map(|a| a.id.as_str().to_owned()))
            },
        )
        .await?
        .into_inner();
        let a = self.user_by("Id", &id).await?.ok_or_else(|| {
            Error::protocol("salesforce create user", "the new user cannot be read back")
        })?;
        // Salesforce's create takes no password: the initial one is set right after.
        if let Some(pw) = &spec.password {
            self.set_password_of(&a.id, pw).await?;
        }
        Ok(CreateOutcome::Created(a))
    }

    async fn update_account(&self, id: &AccountId, change: &AccountChange) -> Result<Account> {
        let sid = account_id(id)?;
        let mut body = change.attributes.clone();
        if let Some(f) = &change.first_name {
            body.insert("FirstName".into(), json!(f));
        }
        if let Some(l) = &change.last_name {
            body.insert("LastName".into(), json!(l));
        }
        if let Some(e) = &change.email {
            body.insert("Email".into(), json!(e));
        }
        if !body.is_empty() {
            self.client
                .update("User", &sid, &Value::Object(body))
                .await?;
        }
        self.user_by("Id", sid.as_str())
            .await?
            .ok_or_else(|| Error::not_found(format!("salesforce user {id}")))
    }

    /// `GET sobjects/User/describe`; picklist values (time zones, locales) are the
    /// allowed values.
    async fn account_schema(&self) -> Result<accesslink_core::ObjectSchema> {
        self.describe("User").await
    }

    /// `POST sobjects/User/{id}/password`, sent once.
    async fn set_password(
        &self,
        id: &AccountId,
        password: &accesslink_core::Password,
    ) -> Result<()> {
        self.set_password_of(id, password).await
    }

    /// `PATCH User {IsActive}`, or, with `disable_by = "freeze"`,
    /// `PATCH UserLogin {IsFrozen}` (the user keeps its licence and cannot log in).
    async fn set_enabled(&self, id: &AccountId, enabled: bool) -> Result<()> {
        let sid = account_id(id)?;
        match self.settings.disable_by {
            DisableBy::IsActive => {
                self.client
                    .update("User", &sid, &json!({ "IsActive": enabled }))
                    .await
            }
            DisableBy::Freeze => {
                let login = self.user_login(&sid).await?.ok_or_else(|| {
                    Error::not_found(format!("salesforce UserLogin of user {id}"))
                })?;
                self.client
                    .update("UserLogin", &login.0, &json!({ "IsFrozen": !enabled }))
                    .await
            }
        }
    }

    /// Salesforce users cannot be deleted: deactivate them with `set_enabled(false)`.
    async fn delete_account(&self, _id: &AccountId) -> Result<()> {
        Err(Error::Unsupported {
            operation: "delete_account (Salesforce users cannot be deleted; deactivate them)",
            target: "salesforce",
        })
    }

    /// `POST PermissionSetAssignment` / `GroupMember`; `DUPLICATE_VALUE` is
    /// `AlreadyGranted`; after an ambiguous failure the assignment is looked up. The
    /// profile: `PATCH User {ProfileId}` (the same profile is `AlreadyGranted`). For
    /// many grants at once see [`SalesforceConnector::grant_all`].
    async fn grant(&self, id: &AccountId, e: &EntitlementRef) -> Result<GrantOutcome> {
        let AssignmentKind {
            object,
            efield,
            afield,
        } = self.assignment_kind(&e.ty)?;
        let account = account_id(id)?;
        let eid = SfId::parse(e.id.as_str())?;
        if e.ty.as_str() == PROFILE {
            let user = self
                .user_by("Id", account.as_str())
                .await?
                .ok_or_else(|| Error::not_found(format!("salesforce user {id}")))?;
            let current = user.attributes.get("ProfileId").and_then(Value::as_str);
            if current.and_then(|c| c.get(..15)) == Some(eid.short()) {
                return Ok(GrantOutcome::AlreadyGranted);
            }
            self.client
                .update("User", &account, &json!({ "ProfileId": eid.as_str() }))
                .await?;
            return Ok(GrantOutcome::Granted);
        }
        let body = json!({ afield: account.as_str(), efield: eid.as_str() });
        match self.client.create(object, &body).await {
            Ok(_) => Ok(GrantOutcome::Granted),
            Err(err) if err.vendor_code() == Some("DUPLICATE_VALUE") => {
                Ok(GrantOutcome::AlreadyGranted)
            }
            Err(err) if err.is_retryable() => match self.assignment(&account, e).await {
                Ok(Some(_)) => Ok(GrantOutcome::Granted),
                _ => Err(err),
            },
            Err(err) => Err(err),
        }
    }

    /// Finds the assignment and deletes it; none (or gone meanwhile) is
    /// `AlreadyAbsent`. Assignments of profile-owned permission sets cannot be revoked
    /// (Salesforce refuses; the error says so). The profile cannot be revoked: every
    /// user has exactly one (`Unsupported`; grant another profile instead).
    async fn revoke(&self, id: &AccountId, e: &EntitlementRef) -> Result<RevokeOutcome> {
        let AssignmentKind { object, .. } = self.assignment_kind(&e.ty)?;
        if e.ty.as_str() == PROFILE {
            return Err(Error::Unsupported {
                operation: "revoke of a profile (every Salesforce user has exactly one; grant another)",
                target: "salesforce",
            });
        }
        let account = account_id(id)?;
        let Some(a) = self.assignment(&account, e).await? else {
            return Ok(RevokeOutcome::AlreadyAbsent);
        };
        match self.client.delete(object, &a).await {
            Ok(true) => Ok(RevokeOutcome::Revoked),
            Ok(false) => Ok(RevokeOutcome::AlreadyAbsent),
            Err(err) => Err(err),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_are_short_and_plain() {
        let spec = AccountSpec::new("jane.o'doe@acme.example").name("Jane", "O'Doe-Smithson");
        assert_eq!(alias_of(&spec), "jodoesmi");
        assert_eq!(alias_of(&AccountSpec::new("x+y@acme.example")), "xy");
        assert_eq!(alias_of(&AccountSpec::new("@acme.example")), "user");
    }
}
