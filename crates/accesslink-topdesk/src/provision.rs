//! The `Provisioner` implementation: operators and persons as accounts, operator groups
//! as entitlements, operator-group memberships as grants (fact sheet §3.7).
//!
//! Account ids are `operator:<uuid>` or `person:<uuid>`. Disabling archives the account
//! and enabling unarchives it; TOPdesk has no hard delete through the API, so
//! `delete_account` is [`Error::Unsupported`] (and undeclared). Archived accounts cannot
//! be changed, so an update of one unarchives it, changes it and archives it again.

use accesslink_core::write::write_with_lookup;
use accesslink_core::{
    Account, AccountChange, AccountId, AccountSpec, CreateOutcome, Entitlement, EntitlementRef,
    EntitlementType, Error, Grant, GrantOutcome, Page, PageRequest, Provisioner, Result,
    RevokeOutcome, async_trait, redact,
};
use serde_json::{Map, Value, json};

use crate::api::ListParams;
use crate::connector::{OPERATOR_GROUP, TopdeskConnector};
use crate::fiql::{Fiql, Value as FiqlValue};
use crate::models::{Operator, OperatorGroup, Person};
use crate::paging::{Cursor, advance, decode, encode, page};
use crate::refs::require_uuid;
use crate::settings::AccountKind;

const OPERATOR: &str = "operator";
const PERSON: &str = "person";
/// Attributes the connector sets itself.
const RESERVED: [&str; 7] = [
    "kind",
    "loginName",
    "tasLoginName",
    "id",
    "status",
    "email",
    "surName",
];

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

fn operator_account(o: Operator) -> Account {
    let mut a = Account::new(
        account_id(AccountKind::Operator, &o.id),
        o.login_name.clone().unwrap_or_default(),
    );
    a.display_name = o.dynamic_name.clone();
    a.email = o.email.clone().filter(|e| !e.is_empty());
    a.enabled = o.status.as_deref().map(|s| s != "operatorArchived");
    let mut attrs = o.other;
    attrs.insert("kind".into(), json!(OPERATOR));
    attrs.insert("firstName".into(), json!(o.first_name));
    attrs.insert("surName".into(), json!(o.sur_name));
    attrs.insert("status".into(), json!(o.status));
    a.attributes = attrs;
    a
}

fn person_account(p: Person) -> Account {
    let mut a = Account::new(
        account_id(AccountKind::Person, &p.id),
        p.tas_login_name.clone().unwrap_or_default(),
    );
    a.display_name = p.dynamic_name.clone();
    a.email = p.email.clone().filter(|e| !e.is_empty());
    a.enabled = p.status.as_deref().map(|s| s != "personArchived");
    let mut attrs = p.other;
    attrs.insert("kind".into(), json!(PERSON));
    attrs.insert("firstName".into(), json!(p.first_name));
    attrs.insert("surName".into(), json!(p.sur_name));
    attrs.insert("status".into(), json!(p.status));
    a.attributes = attrs;
    a
}

fn group_id(e: &EntitlementRef) -> Result<String> {
    if e.ty.as_str() != OPERATOR_GROUP {
        return Err(Error::invalid_input(format!(
            "TOPdesk entitlements are {OPERATOR_GROUP}, not {}",
            e.ty
        )));
    }
    require_uuid(e.id.as_str(), "operator group id")
}

/// Logins TOPdesk can hold: 1-100 characters, no control characters, no surrounding space.
fn valid_login(login: &str) -> bool {
    let n = login.chars().count();
    (1..=100).contains(&n) && login.trim() == login && !login.chars().any(char::is_control)
}

impl TopdeskConnector {
    /// An entitlement reference to an operator group (by UUID).
    pub fn operator_group_entitlement(id: impl Into<String>) -> EntitlementRef {
        EntitlementRef::new(EntitlementType::new(OPERATOR_GROUP), id.into())
    }

    fn size(&self, req: &PageRequest) -> u32 {
        req.size_or(self.settings.page_size)
            .min(crate::settings::MAX_PAGE_SIZE)
    }

    async fn find_by_login(&self, kind: AccountKind, login: &str) -> Result<Option<Account>> {
        let value = FiqlValue::text(login)?;
        match kind {
            AccountKind::Operator => {
                let q = Fiql::eq("loginName", value);
                let page = self
                    .client
                    .operators()
                    .list(0, 5, &ListParams::new().query(q))
                    .await?;
                Ok(page
                    .items
                    .into_iter()
                    .find(|o| {
                        o.login_name
                            .as_deref()
                            .is_some_and(|l| l.eq_ignore_ascii_case(login))
                    })
                    .map(operator_account))
            }
            AccountKind::Person => {
                let q = Fiql::eq("tasLoginName", value);
                let page = self
                    .client
                    .persons()
                    .list(0, 5, &ListParams::new().query(q))
                    .await?;
                Ok(page
                    .items
                    .into_iter()
                    .find(|p| {
                        p.tas_login_name
                            .as_deref()
                            .is_some_and(|l| l.eq_ignore_ascii_case(login))
                    })
                    .map(person_account))
            }
        }
    }

    fn create_body(&self, kind: AccountKind, spec: &AccountSpec) -> Result<Value> {
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
        let login_key = match kind {
            AccountKind::Operator => "loginName",
            AccountKind::Person => "tasLoginName",
        };
        body.insert(login_key.into(), json!(spec.login));
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

    async fn read_account(&self, kind: AccountKind, id: &str) -> Result<Option<Account>> {
        Ok(match kind {
            AccountKind::Operator => self
                .client
                .operators()
                .get_opt(id)
                .await?
                .map(operator_account),
            AccountKind::Person => self.client.persons().get_opt(id).await?.map(person_account),
        })
    }

    async fn archive(&self, kind: AccountKind, id: &str, archived: bool) -> Result<()> {
        let reason = self.settings.archiving_reason.as_deref();
        match (kind, archived) {
            (AccountKind::Operator, true) => {
                self.client.operators().archive(id, reason).await.map(drop)
            }
            (AccountKind::Operator, false) => self.client.operators().unarchive(id).await.map(drop),
            (AccountKind::Person, true) => {
                self.client.persons().archive(id, reason).await.map(drop)
            }
            (AccountKind::Person, false) => self.client.persons().unarchive(id).await.map(drop),
        }
    }

    /// One page of operators or persons at `cursor`; an empty operator listing moves on
    /// to persons in the same call (an empty page would end a drain).
    async fn accounts_page(
        &self,
        mut scope: &'static str,
        mut cursor: Cursor,
        size: u32,
    ) -> Result<Page<Account>> {
        loop {
            let (items, next) = if scope == OPERATOR {
                let p = self
                    .client
                    .operators()
                    .list(cursor.start, size, &ListParams::new())
                    .await?;
                let (rows, next) =
                    advance("GET /tas/api/operators", &cursor, p, |o: &Operator| {
                        o.id.as_str()
                    })?;
                (
                    rows.into_iter().map(operator_account).collect::<Vec<_>>(),
                    next,
                )
            } else {
                let p = self
                    .client
                    .persons()
                    .list(cursor.start, size, &ListParams::new())
                    .await?;
                let (rows, next) = advance("GET /tas/api/persons", &cursor, p, |p: &Person| {
                    p.id.as_str()
                })?;
                (
                    rows.into_iter().map(person_account).collect::<Vec<_>>(),
                    next,
                )
            };
            match next {
                Some(c) => return Ok(page(scope, items, Some(c))),
                None if scope == OPERATOR && items.is_empty() => {
                    scope = PERSON;
                    cursor = Cursor::start();
                }
                None if scope == OPERATOR => {
                    return Ok(Page::new(items, Some(encode(PERSON, &Cursor::start()))));
                }
                None => return Ok(Page::new(items, None)),
            }
        }
    }
}

#[async_trait]
impl Provisioner for TopdeskConnector {
    fn entitlement_types(&self) -> &[EntitlementType] {
        &self.types
    }

    /// Operators, then persons; `pageStart`/`pageSize` paging with resumable tokens.
    async fn list_accounts(&self, req: PageRequest) -> Result<Page<Account>> {
        let size = self.size(&req);
        let (scope, cursor) = match &req.token {
            Some(t) => decode(&[OPERATOR, PERSON], t)?,
            None => (OPERATOR, Cursor::start()),
        };
        let scope = if scope == OPERATOR { OPERATOR } else { PERSON };
        self.accounts_page(scope, cursor, size).await
    }

    async fn get_account(&self, id: &AccountId) -> Result<Option<Account>> {
        let (kind, uuid) = parse_account(id)?;
        self.read_account(kind, &uuid).await
    }

    async fn list_entitlements(
        &self,
        ty: &EntitlementType,
        req: PageRequest,
    ) -> Result<Page<Entitlement>> {
        if ty.as_str() != OPERATOR_GROUP {
            return Err(Error::invalid_input(format!(
                "TOPdesk entitlements are {OPERATOR_GROUP}, not {ty}"
            )));
        }
        let size = self.size(&req);
        let cursor = match &req.token {
            Some(t) => decode(&["group"], t)?.1,
            None => Cursor::start(),
        };
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
                let name = g.group_name.clone().unwrap_or_default();
                let mut e = Entitlement::new(Self::operator_group_entitlement(g.id.clone()), name);
                e.attributes.insert("status".into(), json!(g.status));
                e
            })
            .collect();
        Ok(page("group", items, next))
    }

    /// Per page of operators, each operator's groups (one request per operator).
    async fn list_grants(&self, ty: &EntitlementType, req: PageRequest) -> Result<Page<Grant>> {
        if ty.as_str() != OPERATOR_GROUP {
            return Err(Error::invalid_input(format!(
                "TOPdesk entitlements are {OPERATOR_GROUP}, not {ty}"
            )));
        }
        let size = self.size(&req);
        let cursor = match &req.token {
            Some(t) => decode(&["grants"], t)?.1,
            None => Cursor::start(),
        };
        let mut cursor = cursor;
        // Operators without groups give no grants; an empty page would end a drain, so
        // read on until a page has grants or the operators end.
        loop {
            let p = self
                .client
                .operators()
                .list(cursor.start, size, &ListParams::new())
                .await?;
            let (rows, next) = advance("GET /tas/api/operators", &cursor, p, |o: &Operator| {
                o.id.as_str()
            })?;
            let mut grants = Vec::new();
            for o in rows {
                for g in self.client.operators().groups(&o.id).await? {
                    grants.push(Grant::new(
                        account_id(AccountKind::Operator, &o.id),
                        Self::operator_group_entitlement(g.id),
                    ));
                }
            }
            match next {
                Some(n) if grants.is_empty() => cursor = n,
                next => return Ok(page("grants", grants, next)),
            }
        }
    }

    /// Creates an operator (`loginName`) or a person (`tasLoginName`, needs a branch),
    /// by the attribute `kind` or the `new_account_kind` setting; an existing login is
    /// `AlreadyExists`. A lost answer is looked up by login before sending again.
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
        let body = self.create_body(kind, spec)?;
        if let Some(existing) = self.find_by_login(kind, &spec.login).await? {
            return Ok(CreateOutcome::AlreadyExists(existing));
        }
        let body = &body;
        let written = write_with_lookup(
            self.client.retry_config(),
            "topdesk create account",
            |_| async move {
                Ok(match kind {
                    AccountKind::Operator => {
                        operator_account(self.client.operators().create(body).await?)
                    }
                    AccountKind::Person => {
                        person_account(self.client.persons().create(body).await?)
                    }
                })
            },
            || self.find_by_login(kind, &spec.login),
        )
        .await?;
        let mut account = written.into_inner();
        if !spec.enabled {
            let (_, uuid) = parse_account(&account.id)?;
            self.archive(kind, &uuid, true).await?;
            account.enabled = Some(false);
        }
        Ok(CreateOutcome::Created(account))
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
                    "attribute {k:?} cannot be changed here"
                )));
            }
            body.insert(k.clone(), v.clone());
        }
        let current = self
            .read_account(kind, &uuid)
            .await?
            .ok_or_else(|| Error::not_found(format!("TOPdesk account {id}")))?;
        if body.is_empty() {
            return Ok(current);
        }
        let archived = current.enabled == Some(false);
        if archived {
            self.archive(kind, &uuid, false).await?;
        }
        let body = Value::Object(body);
        let result = match kind {
            AccountKind::Operator => self
                .client
                .operators()
                .patch(&uuid, &body)
                .await
                .map(operator_account),
            AccountKind::Person => self
                .client
                .persons()
                .patch(&uuid, &body)
                .await
                .map(person_account),
        };
        if archived {
            // Archive again even when the change failed: the account was disabled.
            self.archive(kind, &uuid, true).await?;
        }
        let mut account = result?;
        if archived {
            account.enabled = Some(false);
        }
        Ok(account)
    }

    /// Archive (disable) or unarchive (enable); already in that state is success.
    async fn set_enabled(&self, id: &AccountId, enabled: bool) -> Result<()> {
        let (kind, uuid) = parse_account(id)?;
        let current = self
            .read_account(kind, &uuid)
            .await?
            .ok_or_else(|| Error::not_found(format!("TOPdesk account {id}")))?;
        if current.enabled == Some(enabled) {
            return Ok(());
        }
        self.archive(kind, &uuid, !enabled).await
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

    /// Adds the operator to the operator group; already a member is `AlreadyGranted`.
    async fn grant(&self, id: &AccountId, e: &EntitlementRef) -> Result<GrantOutcome> {
        let (kind, uuid) = parse_account(id)?;
        let group = group_id(e)?;
        if kind != AccountKind::Operator {
            return Err(Error::invalid_input(
                "operator groups hold operators, not persons",
            ));
        }
        let ops = self.client.operators();
        if ops
            .groups(&uuid)
            .await?
            .iter()
            .any(|g| g.id.eq_ignore_ascii_case(&group))
        {
            return Ok(GrantOutcome::AlreadyGranted);
        }
        // Adding a member again keeps one link, so a retry is harmless; the check
        // above gives the outcome.
        ops.add_group(&uuid, &group).await?;
        Ok(GrantOutcome::Granted)
    }

    /// Removes the operator from the operator group; not a member is `AlreadyAbsent`.
    async fn revoke(&self, id: &AccountId, e: &EntitlementRef) -> Result<RevokeOutcome> {
        let (kind, uuid) = parse_account(id)?;
        let group = group_id(e)?;
        if kind != AccountKind::Operator {
            return Err(Error::invalid_input(
                "operator groups hold operators, not persons",
            ));
        }
        let ops = self.client.operators();
        if !ops
            .groups(&uuid)
            .await?
            .iter()
            .any(|g| g.id.eq_ignore_ascii_case(&group))
        {
            return Ok(RevokeOutcome::AlreadyAbsent);
        }
        ops.remove_group(&uuid, &group).await?;
        Ok(RevokeOutcome::Revoked)
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
}
