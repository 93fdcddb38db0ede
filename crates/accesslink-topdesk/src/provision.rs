//! The `Provisioner` implementation: operators and persons as accounts, operator groups
//! and permission groups as entitlements, operators' links to them as grants (fact sheet
//! §3.7, the vendor's API description).
//!
//! Account ids are `operator:<uuid>` or `person:<uuid>`. Disabling archives the account
//! and enabling unarchives it; TOPdesk has no hard delete through the API, so
//! `delete_account` is [`Error::Unsupported`] (and undeclared). Archived accounts cannot
//! be changed, so an update (or a new password) of one unarchives it, changes it and
//! archives it again.
//!
//! Persons and operators go through one generic path: each step is written once over
//! `AccountRecord` and `by_kind!` picks the record type from the account id.

use accesslink_core::schema::{AllowedValue, FieldSchema, FieldType, ObjectSchema};
use accesslink_core::write::write_with_lookup;
use accesslink_core::{
    Account, AccountChange, AccountId, AccountSpec, CreateOutcome, Entitlement, EntitlementRef,
    EntitlementType, Error, Grant, GrantOutcome, Page, PageRequest, Password, Provisioner, Result,
    RevokeOutcome, async_trait, redact,
};
use secrecy::ExposeSecret;
use serde_json::{Map, Value, json};

use crate::api::{AccountRecord, GroupList, ListParams, People};
use crate::connector::{OPERATOR_GROUP, PERMISSION_GROUP, TopdeskConnector};
use crate::fiql::{Fiql, Value as FiqlValue};
use crate::models::{Named, Operator, OperatorGroup, Person};
use crate::paging::{Cursor, advance, decode, encode, page};
use crate::refs::require_uuid;
use crate::settings::AccountKind;

const OPERATOR: &str = "operator";
const PERSON: &str = "person";
/// Attributes the connector sets itself.
const RESERVED: [&str; 8] = [
    "kind",
    "loginName",
    "tasLoginName",
    "id",
    "status",
    "email",
    "surName",
    "password",
];
/// The shortest password TOPdesk takes (vendor API description: "minimum 5 characters").
const MIN_PASSWORD: usize = 5;

/// Runs `$body` with `$t` as the record type of `$kind` (`Operator` or `Person`).
macro_rules! by_kind {
    ($kind:expr, |$t:ident| $body:expr) => {
        match $kind {
            AccountKind::Operator => {
                type $t = Operator;
                $body
            }
            AccountKind::Person => {
                type $t = Person;
                $body
            }
        }
    };
}

/// `operator:<uuid>` / `person:<uuid>`, checked.
pub(crate) fn parse_account(id: &AccountId) -> Result<(AccountKind, String)> {
    let bad = || {
        Error::invalid_input(format!(
            "account id {:?} is not operator:<uuid> or person:<uuid>",
            redact::truncate(id.as_str(), 60)
        ))
    };
    let (kind, uuid) = id.as_str().split_once(':').ok_or_else(bad)?;
    let kind = match kind {
        OPERATOR => AccountKind::Operator,
        PERSON => AccountKind::Person,
        _ => return Err(bad()),
    };
    Ok((kind, crate::refs::uuid(uuid).ok_or_else(bad)?))
}

fn account_id(kind: AccountKind, id: &str) -> AccountId {
    AccountId::new(format!("{}:{id}", kind.as_str()))
}

/// A person or operator record as a core account.
fn to_account<T: AccountRecord>(record: T) -> Account {
    let c = record.into_common();
    let mut a = Account::new(account_id(T::KIND, &c.id), c.login.unwrap_or_default());
    a.display_name = c.dynamic_name;
    a.email = c.email.filter(|e| !e.is_empty());
    a.enabled = c.status.as_deref().map(|s| s != T::ARCHIVED_STATUS);
    let mut attrs = c.other;
    attrs.insert("kind".into(), json!(T::KIND.as_str()));
    attrs.insert("firstName".into(), json!(c.first_name));
    attrs.insert("surName".into(), json!(c.sur_name));
    attrs.insert("status".into(), json!(c.status));
    a.attributes = attrs;
    a
}

/// The group list an entitlement names, and its id.
fn group_of(e: &EntitlementRef) -> Result<(GroupList, String)> {
    let list = group_list(&e.ty)?;
    Ok((list, require_uuid(e.id.as_str(), "group id")?))
}

fn group_list(ty: &EntitlementType) -> Result<GroupList> {
    match ty.as_str() {
        OPERATOR_GROUP => Ok(GroupList::OperatorGroups),
        PERMISSION_GROUP => Ok(GroupList::PermissionGroups),
        other => Err(Error::invalid_input(format!(
            "TOPdesk entitlements are {OPERATOR_GROUP} or {PERMISSION_GROUP}, not {}",
            redact::truncate(other, 40)
        ))),
    }
}

fn list_token(list: GroupList) -> &'static str {
    match list {
        GroupList::PermissionGroups => "pgroup",
        _ => "group",
    }
}

fn grants_token(list: GroupList) -> &'static str {
    match list {
        GroupList::PermissionGroups => "pgrants",
        _ => "grants",
    }
}

/// Logins TOPdesk can hold: 1-100 characters, no control characters, no surrounding space.
fn valid_login(login: &str) -> bool {
    let n = login.chars().count();
    (1..=100).contains(&n) && login.trim() == login && !login.chars().any(char::is_control)
}

/// The password as a body value, checked (at least 5 characters) without showing it.
fn password_value(p: &Password) -> Result<Value> {
    let secret = p.secret().expose_secret();
    if secret.chars().count() < MIN_PASSWORD {
        return Err(Error::invalid_input(format!(
            "a TOPdesk password needs at least {MIN_PASSWORD} characters"
        )));
    }
    if secret.chars().any(char::is_control) {
        return Err(Error::invalid_input(
            "a TOPdesk password cannot hold control characters",
        ));
    }
    Ok(json!(secret))
}

impl TopdeskConnector {
    /// An entitlement reference to an operator group (by UUID).
    pub fn operator_group_entitlement(id: impl Into<String>) -> EntitlementRef {
        EntitlementRef::new(EntitlementType::new(OPERATOR_GROUP), id.into())
    }

    /// An entitlement reference to a permission group (by UUID).
    pub fn permission_group_entitlement(id: impl Into<String>) -> EntitlementRef {
        EntitlementRef::new(EntitlementType::new(PERMISSION_GROUP), id.into())
    }

    fn size(&self, req: &PageRequest) -> u32 {
        req.size_or(self.settings.page_size)
            .min(crate::settings::MAX_PAGE_SIZE)
    }

    fn people<T: AccountRecord>(&self) -> People<'_, T> {
        People::new(&self.client)
    }

    async fn find_by_login<T: AccountRecord>(&self, login: &str) -> Result<Option<Account>> {
        let q = Fiql::eq(T::LOGIN_FIELD, FiqlValue::text(login)?);
        let page = self
            .people::<T>()
            .list(0, 5, &ListParams::new().query(q))
            .await?;
        // The server's filter is not trusted to be exact: each hit is compared.
        Ok(page
            .items
            .into_iter()
            .find(|r| r.login().is_some_and(|l| l.eq_ignore_ascii_case(login)))
            .map(to_account))
    }

    async fn read<T: AccountRecord>(&self, id: &str) -> Result<Option<Account>> {
        Ok(self.people::<T>().get_opt(id).await?.map(to_account))
    }

    async fn required<T: AccountRecord>(&self, id: &str) -> Result<Account> {
        self.read::<T>(id)
            .await?
            .ok_or_else(|| Error::not_found(format!("TOPdesk {} {id}", T::KIND.as_str())))
    }

    async fn set_archived<T: AccountRecord>(&self, id: &str, archived: bool) -> Result<()> {
        let people = self.people::<T>();
        if archived {
            let reason = self.settings.archiving_reason.as_deref();
            people.archive(id, reason).await.map(drop)
        } else {
            people.unarchive(id).await.map(drop)
        }
    }

    /// `PATCH`es `body` onto the record; an archived one is unarchived first and archived
    /// again after, even when the change failed (the account was disabled).
    async fn patch_record<T: AccountRecord>(&self, id: &str, body: &Value) -> Result<Account> {
        let current = self.required::<T>(id).await?;
        let archived = current.enabled == Some(false);
        if archived {
            self.set_archived::<T>(id, false).await?;
        }
        let result = self.people::<T>().patch(id, body).await.map(to_account);
        if archived {
            self.set_archived::<T>(id, true).await?;
        }
        let mut account = result?;
        if archived {
            account.enabled = Some(false);
        }
        Ok(account)
    }

    async fn create_record<T: AccountRecord>(&self, spec: &AccountSpec) -> Result<CreateOutcome> {
        let body = self.create_body::<T>(spec)?;
        if let Some(existing) = self.find_by_login::<T>(&spec.login).await? {
            return Ok(CreateOutcome::AlreadyExists(existing));
        }
        let body = &body;
        let written = write_with_lookup(
            self.client.retry_config(),
            "topdesk create account",
            |_| async move { Ok(to_account(self.people::<T>().create(body).await?)) },
            || self.find_by_login::<T>(&spec.login),
        )
        .await?;
        let mut account = written.into_inner();
        if !spec.enabled {
            let (_, uuid) = parse_account(&account.id)?;
            self.set_archived::<T>(&uuid, true).await?;
            account.enabled = Some(false);
        }
        Ok(CreateOutcome::Created(account))
    }

    fn create_body<T: AccountRecord>(&self, spec: &AccountSpec) -> Result<Value> {
        if !valid_login(&spec.login) {
            return Err(Error::invalid_input(format!(
                "login {:?} must be 1-100 characters without control characters or surrounding spaces",
                redact::truncate(&spec.login, 60)
            )));
        }
        let mut body = Map::new();
        let sur = spec
            .last_name
            .clone()
            .or_else(|| spec.display_name.clone())
            .unwrap_or_else(|| spec.login.clone());
        body.insert("surName".into(), json!(sur));
        if let Some(first) = &spec.first_name {
            body.insert("firstName".into(), json!(first));
        }
        if let Some(email) = &spec.email {
            body.insert("email".into(), json!(email));
        }
        body.insert(T::LOGIN_FIELD.into(), json!(spec.login));
        if let Some(p) = &spec.password {
            body.insert("password".into(), password_value(p)?);
        }
        // Both CreatePersonDto and CreateOperatorDto require a branch (vendor API
        // description).
        let branch = match spec.attributes.get("branch") {
            Some(Value::String(b)) => Some(b.clone()),
            Some(Value::Object(o)) => o.get("id").and_then(Value::as_str).map(str::to_owned),
            _ => self.settings.branch.clone(),
        };
        let branch = branch.ok_or_else(|| {
            Error::invalid_input(
                "a new TOPdesk operator or person needs a branch: set `branch` in the settings or the attribute branch",
            )
        })?;
        body.insert(
            "branch".into(),
            json!({ "id": require_uuid(&branch, "branch id")? }),
        );
        for (k, v) in &spec.attributes {
            if k == "branch" || RESERVED.contains(&k.as_str()) {
                continue;
            }
            body.insert(k.clone(), v.clone());
        }
        Ok(Value::Object(body))
    }

    /// One page of `T` at `cursor`, checked against it.
    async fn records_page<T: AccountRecord>(
        &self,
        cursor: &Cursor,
        size: u32,
    ) -> Result<(Vec<T>, Option<Cursor>)> {
        let p = self
            .people::<T>()
            .list(cursor.start, size, &ListParams::new())
            .await?;
        let what = format!("GET /tas/api/{}", T::COLLECTION);
        advance(&what, cursor, p, |r: &T| r.id())
    }

    /// One page of operators or persons at `cursor`; an empty operator listing moves on
    /// to persons in the same call (an empty page would end a drain).
    async fn accounts_page(
        &self,
        mut kind: AccountKind,
        mut cursor: Cursor,
        size: u32,
    ) -> Result<Page<Account>> {
        loop {
            let (items, next) = by_kind!(kind, |T| {
                let (rows, next) = self.records_page::<T>(&cursor, size).await?;
                (rows.into_iter().map(to_account).collect::<Vec<_>>(), next)
            });
            match (kind, next) {
                (_, Some(c)) => return Ok(page(kind.as_str(), items, Some(c))),
                (AccountKind::Operator, None) if items.is_empty() => {
                    kind = AccountKind::Person;
                    cursor = Cursor::start();
                }
                (AccountKind::Operator, None) => {
                    return Ok(Page::new(items, Some(encode(PERSON, &Cursor::start()))));
                }
                (_, None) => return Ok(Page::new(items, None)),
            }
        }
    }

    /// Whether the operator holds the group.
    async fn holds(&self, operator: &str, list: GroupList, group: &str) -> Result<bool> {
        Ok(self
            .people::<Operator>()
            .linked(operator, list)
            .await?
            .iter()
            .any(|g| {
                g.id.as_deref()
                    .is_some_and(|id| id.eq_ignore_ascii_case(group))
            }))
    }

    /// The operator's UUID; persons hold no groups.
    fn operator_of(id: &AccountId) -> Result<String> {
        match parse_account(id)? {
            (AccountKind::Operator, uuid) => Ok(uuid),
            (AccountKind::Person, _) => Err(Error::invalid_input(
                "operator and permission groups hold operators, not persons",
            )),
        }
    }
}

fn group_entitlement(
    list: GroupList,
    id: String,
    name: String,
    status: Option<String>,
) -> Entitlement {
    let reference = match list {
        GroupList::PermissionGroups => TopdeskConnector::permission_group_entitlement(id),
        _ => TopdeskConnector::operator_group_entitlement(id),
    };
    let mut e = Entitlement::new(reference, name);
    if let Some(s) = status {
        e.attributes.insert("status".into(), json!(s));
    }
    e
}

/// The fields of persons and operators (vendor API description: PersonDto, OperatorDto,
/// their create and update bodies).
fn account_fields() -> ObjectSchema {
    use FieldType as F;
    let text = |n: &str| FieldSchema::new(n, F::String);
    let reference = |n: &str, to: &str| FieldSchema::new(n, F::Reference(to.into()));
    let statuses = ["person", "personArchived", "operator", "operatorArchived"]
        .map(|s| AllowedValue::new(s, None));
    ObjectSchema::new("account")
        .field(FieldSchema::new("id", F::String).label("UUID").read_only())
        .field(
            FieldSchema::new("kind", F::Choice)
                .label("operator or person (the account id's prefix)")
                .allowed([OPERATOR, PERSON].map(|k| AllowedValue::new(k, None))),
        )
        .field(text("status").read_only().allowed(statuses))
        .field(text("surName").label("Family name").required())
        .field(text("firstName").label("Given name"))
        .field(text("dynamicName").label("Display name").read_only())
        .field(text("email").label("E-mail"))
        .field(text("tasLoginName").label("Login name (persons)"))
        .field(text("loginName").label("Login name (operators)"))
        .field(text("networkLoginName"))
        .field(text("employeeNumber"))
        .field(text("jobTitle"))
        .field(text("phoneNumber").label("Phone (persons)"))
        .field(text("telephone").label("Phone (operators)"))
        .field(text("mobileNumber"))
        .field(reference("branch", "branch").required())
        .field(reference("department", "department"))
        .field(reference("location", "location"))
        .field(reference("budgetHolder", "budgetholder"))
        .field(reference("manager", "person").label("Manager (persons)"))
        .field(FieldSchema::new("isManager", F::Boolean))
        .field(FieldSchema::new("loginPermission", F::Boolean).label("May log in (operators)"))
        .field(FieldSchema::new("archived", F::Boolean).read_only())
        .field(FieldSchema::new("creationDate", F::DateTime).read_only())
        .field(FieldSchema::new("modificationDate", F::DateTime).read_only())
        .field(
            text("password")
                .label("Password (write-only, at least 5 characters; set with set_password)"),
        )
}

#[async_trait]
impl Provisioner for TopdeskConnector {
    fn entitlement_types(&self) -> &[EntitlementType] {
        &self.types
    }

    /// Operators, then persons; `pageStart`/`pageSize` paging with resumable tokens.
    async fn list_accounts(&self, req: PageRequest) -> Result<Page<Account>> {
        let size = self.size(&req);
        let (kind, cursor) = match &req.token {
            Some(t) => match decode(&[OPERATOR, PERSON], t)? {
                (OPERATOR, c) => (AccountKind::Operator, c),
                (_, c) => (AccountKind::Person, c),
            },
            None => (AccountKind::Operator, Cursor::start()),
        };
        self.accounts_page(kind, cursor, size).await
    }

    async fn get_account(&self, id: &AccountId) -> Result<Option<Account>> {
        let (kind, uuid) = parse_account(id)?;
        by_kind!(kind, |T| self.read::<T>(&uuid).await)
    }

    /// Operator groups (`GET /operatorgroups`) or permission groups (`GET
    /// /permissiongroups`, the `permission_groups_path` setting).
    async fn list_entitlements(
        &self,
        ty: &EntitlementType,
        req: PageRequest,
    ) -> Result<Page<Entitlement>> {
        let list = group_list(ty)?;
        let size = self.size(&req);
        let token = list_token(list);
        let cursor = match &req.token {
            Some(t) => decode(&[token], t)?.1,
            None => Cursor::start(),
        };
        let (items, next) = match list {
            GroupList::PermissionGroups => {
                let path = &self.settings.permission_groups_path;
                let p = self
                    .client
                    .permission_groups(path)
                    .list(cursor.start, size, &ListParams::new())
                    .await?;
                let what = format!("GET /tas/api/{path}");
                let (rows, next) =
                    advance(&what, &cursor, p, |g: &Named| g.id.as_deref().unwrap_or(""))?;
                let mut items = Vec::with_capacity(rows.len());
                for g in rows {
                    let id = g.id.ok_or_else(|| {
                        Error::protocol(what.clone(), "a permission group without an id")
                    })?;
                    items.push(group_entitlement(
                        list,
                        id,
                        g.name.unwrap_or_default(),
                        None,
                    ));
                }
                (items, next)
            }
            _ => {
                let p = self
                    .client
                    .operator_groups()
                    .list(cursor.start, size, &ListParams::new())
                    .await?;
                let (rows, next) = advance(
                    "GET /tas/api/operatorgroups",
                    &cursor,
                    p,
                    |g: &OperatorGroup| g.id.as_str(),
                )?;
                let items = rows
                    .into_iter()
                    .map(|g| {
                        group_entitlement(list, g.id, g.group_name.unwrap_or_default(), g.status)
                    })
                    .collect();
                (items, next)
            }
        };
        Ok(page(token, items, next))
    }

    /// Per page of operators, each operator's groups of that type (one request per
    /// operator: `GET /operators/id/{id}/operatorgroups` or `…/permissiongroups`).
    async fn list_grants(&self, ty: &EntitlementType, req: PageRequest) -> Result<Page<Grant>> {
        let list = group_list(ty)?;
        let size = self.size(&req);
        let token = grants_token(list);
        let mut cursor = match &req.token {
            Some(t) => decode(&[token], t)?.1,
            None => Cursor::start(),
        };
        // Operators without groups give no grants; an empty page would end a drain, so
        // read on until a page has grants or the operators end.
        loop {
            let (rows, next) = self.records_page::<Operator>(&cursor, size).await?;
            let mut grants = Vec::new();
            for o in rows {
                for g in self.people::<Operator>().linked(&o.id, list).await? {
                    let Some(gid) = g.id else { continue };
                    let e = match list {
                        GroupList::PermissionGroups => Self::permission_group_entitlement(gid),
                        _ => Self::operator_group_entitlement(gid),
                    };
                    grants.push(Grant::new(account_id(AccountKind::Operator, &o.id), e));
                }
            }
            match next {
                Some(n) if grants.is_empty() => cursor = n,
                next => return Ok(page(token, grants, next)),
            }
        }
    }

    /// Creates an operator (`loginName`) or a person (`tasLoginName`, needs a branch),
    /// by the attribute `kind` or the `new_account_kind` setting, with the spec's
    /// password when it has one; an existing login is `AlreadyExists`. A lost answer is
    /// looked up by login before sending again.
    async fn create_account(&self, spec: &AccountSpec) -> Result<CreateOutcome> {
        let kind = match spec.attributes.get("kind").and_then(Value::as_str) {
            None => self.settings.new_account_kind,
            Some(OPERATOR) => AccountKind::Operator,
            Some(PERSON) => AccountKind::Person,
            Some(other) => {
                return Err(Error::invalid_input(format!(
                    "attribute kind must be operator or person, not {:?}",
                    redact::truncate(other, 40)
                )));
            }
        };
        by_kind!(kind, |T| self.create_record::<T>(spec).await)
    }

    /// `PATCH` of the names, e-mail and attributes; an archived account is unarchived,
    /// changed and archived again (TOPdesk refuses changes to archived accounts).
    /// `display_name` is refused: TOPdesk derives `dynamicName` from the name parts.
    async fn update_account(&self, id: &AccountId, change: &AccountChange) -> Result<Account> {
        let (kind, uuid) = parse_account(id)?;
        if change.display_name.is_some() {
            return Err(Error::invalid_input(
                "TOPdesk derives the display name (dynamicName); change first_name or last_name",
            ));
        }
        let mut body = Map::new();
        for (k, v) in [
            ("firstName", &change.first_name),
            ("surName", &change.last_name),
            ("email", &change.email),
        ] {
            if let Some(v) = v {
                body.insert(k.into(), json!(v));
            }
        }
        for (k, v) in &change.attributes {
            if RESERVED.contains(&k.as_str()) && !body.contains_key(k) {
                return Err(Error::invalid_input(format!(
                    "attribute {:?} cannot be changed here",
                    redact::truncate(k, 40)
                )));
            }
            body.insert(k.clone(), v.clone());
        }
        if body.is_empty() {
            return by_kind!(kind, |T| self.required::<T>(&uuid).await);
        }
        let body = Value::Object(body);
        by_kind!(kind, |T| self.patch_record::<T>(&uuid, &body).await)
    }

    /// Archive (disable) or unarchive (enable); already in that state is success.
    async fn set_enabled(&self, id: &AccountId, enabled: bool) -> Result<()> {
        let (kind, uuid) = parse_account(id)?;
        by_kind!(kind, |T| {
            let current = self.required::<T>(&uuid).await?;
            if current.enabled == Some(enabled) {
                return Ok(());
            }
            self.set_archived::<T>(&uuid, !enabled).await
        })
    }

    /// TOPdesk's API has no hard delete of operators or persons: archive them
    /// (`set_enabled(false)`) instead.
    async fn delete_account(&self, id: &AccountId) -> Result<()> {
        let _ = id;
        Err(Error::Unsupported {
            operation: "deleting accounts (archive them with set_enabled(false))",
            target: "topdesk",
        })
    }

    /// Links the operator to the operator or permission group; already linked is
    /// `AlreadyGranted`.
    async fn grant(&self, id: &AccountId, e: &EntitlementRef) -> Result<GrantOutcome> {
        let (list, group) = group_of(e)?;
        let operator = Self::operator_of(id)?;
        if self.holds(&operator, list, &group).await? {
            return Ok(GrantOutcome::AlreadyGranted);
        }
        // Linking again keeps one link, so a retry is harmless; the check above gives
        // the outcome.
        self.people::<Operator>()
            .link(&operator, list, &group)
            .await?;
        Ok(GrantOutcome::Granted)
    }

    /// Unlinks the operator from the group; not linked is `AlreadyAbsent`.
    async fn revoke(&self, id: &AccountId, e: &EntitlementRef) -> Result<RevokeOutcome> {
        let (list, group) = group_of(e)?;
        let operator = Self::operator_of(id)?;
        if !self.holds(&operator, list, &group).await? {
            return Ok(RevokeOutcome::AlreadyAbsent);
        }
        self.people::<Operator>()
            .unlink(&operator, list, &group)
            .await?;
        Ok(RevokeOutcome::Revoked)
    }

    /// A fixed schema from the vendor's API description (TOPdesk has no field-metadata
    /// endpoint for persons or operators); no request.
    async fn account_schema(&self) -> Result<ObjectSchema> {
        Ok(account_fields())
    }

    /// `PATCH …/id/{uuid}` with `{"password"}` (UpdatePersonDto / UpdateOperatorDto;
    /// the connector's operator needs the "Settings > Login Settings" permission).
    /// At least 5 characters, checked before any request. An archived account is
    /// unarchived, changed and archived again.
    async fn set_password(&self, id: &AccountId, password: &Password) -> Result<()> {
        let (kind, uuid) = parse_account(id)?;
        let body = json!({ "password": password_value(password)? });
        by_kind!(kind, |T| self
            .patch_record::<T>(&uuid, &body)
            .await
            .map(drop))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_ids() {
        let id = AccountId::new("operator:F197BB75-8822-45E9-82CE-02983504020B");
        let (kind, uuid) = parse_account(&id).unwrap();
        assert_eq!(
            (kind, uuid.as_str()),
            (
                AccountKind::Operator,
                "f197bb75-8822-45e9-82ce-02983504020b"
            )
        );
        for bad in [
            "f197bb75-8822-45e9-82ce-02983504020b",
            "group:f197bb75-8822-45e9-82ce-02983504020b",
            "person:1",
            "person:",
        ] {
            assert!(parse_account(&AccountId::new(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn short_passwords_are_refused_without_showing_them() {
        let e = password_value(&Password::from("abc1")).unwrap_err();
        assert_eq!(e.kind(), accesslink_core::ErrorKind::InvalidInput);
        assert!(!e.to_string().contains("abc1"), "{e}");
        assert_eq!(
            password_value(&Password::from("abcde")).unwrap(),
            json!("abcde")
        );
    }
}
