//! The [`Provisioner`] implementation: `User`s, permission sets
//! (`PermissionSetAssignment`) and public groups (`GroupMember`).
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
use crate::soql::Soql;

/// The permission-set entitlement type (`permission_set`).
pub(crate) fn permission_set() -> EntitlementType {
    EntitlementType::new("permission_set")
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
        let mut q = filter(Soql::select(fields, object)?)?;
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

    fn kind_of(&self, ty: &EntitlementType) -> Result<(&'static str, &'static str, &'static str)> {
        // (assignment object, entitlement field, account field)
        if *ty == permission_set() {
            Ok(("PermissionSetAssignment", "PermissionSetId", "AssigneeId"))
        } else if *ty == EntitlementType::group() {
            Ok(("GroupMember", "GroupId", "UserOrGroupId"))
        } else {
            Err(Error::invalid_input(format!(
                "Salesforce entitlements are permission_set or group, not {ty}"
            )))
        }
    }

    async fn assignment(&self, account: &SfId, e: &EntitlementRef) -> Result<Option<SfId>> {
        let (object, efield, afield) = self.kind_of(&e.ty)?;
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

    /// Internal users (`UserType = 'Standard'`), keyset-paged on `Id`.
    async fn list_accounts(&self, page: PageRequest) -> Result<Page<Account>> {
        let (rows, next, total) = self
            .keyset(
                USER_FIELDS,
                "User",
                |q| q.eq("UserType", "Standard"),
                &page,
                |u: &UserRow| u.id.as_str(),
            )
            .await?;
        Ok(Page::new(rows.into_iter().map(Self::account_of).collect(), next).with_total(total))
    }

    async fn get_account(&self, id: &AccountId) -> Result<Option<Account>> {
        let id = account_id(id)?;
        self.user_by("Id", id.as_str()).await
    }

    /// Permission sets not owned by a profile, or public groups (`Type = 'Regular'`).
    async fn list_entitlements(
        &self,
        ty: &EntitlementType,
        page: PageRequest,
    ) -> Result<Page<Entitlement>> {
        let ps = *ty == permission_set();
        self.kind_of(ty)?;
        let (fields, object): (&[&str], &str) = if ps {
            (&["Id", "Name", "Label"], "PermissionSet")
        } else {
            (&["Id", "Name", "DeveloperName"], "Group")
        };
        let (rows, next, total) = self
            .keyset(
                fields,
                object,
                |q| {
                    if ps {
                        q.eq_bool("IsOwnedByProfile", false)
                    } else {
                        q.eq("Type", "Regular")
                    }
                },
                &page,
                |r: &Row| r.id.as_str(),
            )
            .await?;
        let items = rows
            .into_iter()
            .map(|r| {
                let name = text(&r.other, if ps { "Label" } else { "Name" })
                    .or_else(|| text(&r.other, "Name"))
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

    /// Assignments of permission sets not owned by a profile, or memberships of public
    /// groups.
    async fn list_grants(&self, ty: &EntitlementType, page: PageRequest) -> Result<Page<Grant>> {
        let (object, efield, afield) = self.kind_of(ty)?;
        let ps = *ty == permission_set();
        let (rows, next, total) = self
            .keyset(
                &["Id", efield, afield],
                object,
                |q| {
                    if ps {
                        q.eq_bool("PermissionSet.IsOwnedByProfile", false)
                    } else {
                        q.eq("Group.Type", "Regular")
                    }
                },
                &page,
                |r: &Row| r.id.as_str(),
            )
            .await?;
        let items = rows
            .into_iter()
            .filter_map(|r| {
                let a = text(&r.other, afield)?;
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

    /// `PATCH User {IsActive}`.
    async fn set_enabled(&self, id: &AccountId, enabled: bool) -> Result<()> {
        let sid = account_id(id)?;
        self.client
            .update("User", &sid, &json!({ "IsActive": enabled }))
            .await
    }

    /// Salesforce users cannot be deleted: deactivate them with `set_enabled(false)`.
    async fn delete_account(&self, _id: &AccountId) -> Result<()> {
        Err(Error::Unsupported {
            operation: "delete_account (Salesforce users cannot be deleted; deactivate them)",
            target: "salesforce",
        })
    }

    /// `POST PermissionSetAssignment` / `GroupMember`; `DUPLICATE_VALUE` is
    /// `AlreadyGranted`; after an ambiguous failure the assignment is looked up.
    async fn grant(&self, id: &AccountId, e: &EntitlementRef) -> Result<GrantOutcome> {
        let (object, efield, afield) = self.kind_of(&e.ty)?;
        let account = account_id(id)?;
        let eid = SfId::parse(e.id.as_str())?;
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
    /// (Salesforce refuses; the error says so).
    async fn revoke(&self, id: &AccountId, e: &EntitlementRef) -> Result<RevokeOutcome> {
        let (object, _, _) = self.kind_of(&e.ty)?;
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
