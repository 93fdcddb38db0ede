//! The [`Provisioner`] implementation over requesters or technicians (setting
//! `accounts`).
//!
//! Requesters: list, get, create, update; no entitlements. Technicians: the same, plus
//! support groups (`group`) and roles (`role`) as entitlements, listed from `/groups`
//! and `/roles`, with membership as grants: the technician's `groups` / `roles` lists,
//! written back whole with `PUT /technicians/{id}` (a read, then a write of the list
//! with the one entitlement added or removed). The v3 field names and paths for
//! technicians, groups and roles are unverified: the paths are settings
//! ([`SdpPaths`](crate::SdpPaths)). Enabling and disabling (requesters and
//! technicians), deleting and passwords are not documented for v3 and are
//! `Unsupported`.

use accesslink_core::schema::{FieldSchema, FieldType, ObjectSchema};
use accesslink_core::{
    Account, AccountChange, AccountId, AccountSpec, CreateOutcome, Entitlement, EntitlementRef,
    EntitlementType, Error, Grant, GrantOutcome, Page, PageRequest, PageToken, Provisioner, Result,
    RevokeOutcome, async_trait,
};
use serde_json::{Map, Value, json};

use crate::api::People;
use crate::connector::SdpConnector;
use crate::input::Criteria;
use crate::models::{Named, User};
use crate::refs::is_number;
use crate::settings::AccountKind;

fn account(u: &User, raw: &Value) -> Account {
    let mut a = Account::new(
        u.id.clone().unwrap_or_default(),
        u.login_name
            .clone()
            .or_else(|| u.email_id.clone())
            .unwrap_or_default(),
    );
    a.display_name = u.name.clone();
    a.email = u.email_id.clone();
    if let Some(obj) = raw.as_object() {
        a.attributes = obj.clone();
    }
    a
}

fn unsupported(operation: &'static str) -> Error {
    Error::Unsupported {
        operation,
        target: "sdp",
    }
}

fn page_start(page: &PageRequest) -> Result<u64> {
    match &page.token {
        None => Ok(1),
        Some(t) => t
            .as_str()
            .parse::<u64>()
            .ok()
            .filter(|n| *n >= 1)
            .ok_or_else(|| Error::invalid_input("not an SDP page token")),
    }
}

/// The entitlement types technicians have.
pub(crate) fn technician_entitlements() -> Vec<EntitlementType> {
    vec![EntitlementType::group(), EntitlementType::role()]
}

impl SdpConnector {
    /// The people the accounts are.
    pub(crate) fn people(&self) -> People<'_> {
        match self.settings.accounts {
            AccountKind::Requester => self.client.people(&self.settings.paths.requesters),
            AccountKind::Technician => self.client.people(&self.settings.paths.technicians),
        }
    }

    fn what(&self) -> &'static str {
        match self.settings.accounts {
            AccountKind::Requester => "sdp requesters",
            AccountKind::Technician => "sdp technicians",
        }
    }

    /// The collection path and the technician's membership field of an entitlement type.
    fn membership(&self, ty: &EntitlementType, op: &'static str) -> Result<(&str, &'static str)> {
        if self.settings.accounts != AccountKind::Technician {
            return Err(unsupported(op));
        }
        match ty.as_str() {
            "group" => Ok((&self.settings.paths.groups, "groups")),
            "role" => Ok((&self.settings.paths.roles, "roles")),
            other => Err(Error::invalid_input(format!(
                "SDP technicians have group and role entitlements, not {other:?}"
            ))),
        }
    }

    async fn find_person(&self, spec: &AccountSpec) -> Result<Option<Account>> {
        let (field, value) = match &spec.email {
            Some(e) => ("email_id", e.as_str()),
            None => ("login_name", spec.login.as_str()),
        };
        let c = Criteria::new().is(field, value)?;
        let (rows, _) = self.people().list_page(&c, 1, 10).await?;
        Ok(rows
            .iter()
            .find(|(u, _)| match field {
                "email_id" => u
                    .email_id
                    .as_deref()
                    .is_some_and(|e| e.eq_ignore_ascii_case(value)),
                _ => u.login_name.as_deref() == Some(value),
            })
            .map(|(u, raw)| account(u, raw)))
    }

    /// Adds (`add`) or removes an entitlement from a technician's list; `Ok(false)` when
    /// there was nothing to do.
    async fn set_membership(&self, id: &AccountId, e: &EntitlementRef, add: bool) -> Result<bool> {
        let op = if add { "grant" } else { "revoke" };
        let (_, field) = self.membership(&e.ty, op)?;
        if !is_number(e.id.as_str()) {
            return Err(Error::invalid_input(format!(
                "an SDP {} id is digits",
                e.ty
            )));
        }
        let people = self.people();
        let (user, _) = people
            .get_opt(id.as_str())
            .await?
            .ok_or_else(|| Error::not_found(format!("sdp technician {id}")))?;
        let list = |u: &User| -> Vec<Named> {
            let l = if field == "groups" {
                &u.groups
            } else {
                &u.roles
            };
            l.clone().unwrap_or_default()
        };
        let current = list(&user);
        let held = current
            .iter()
            .any(|n| n.id.as_deref() == Some(e.id.as_str()));
        if held == add {
            return Ok(false);
        }
        let mut ids: Vec<Value> = current
            .iter()
            .filter_map(|n| n.id.clone())
            .filter(|i| add || i != e.id.as_str())
            .map(|i| json!({ "id": i }))
            .collect();
        if add {
            ids.push(json!({ "id": e.id.as_str() }));
        }
        let mut f = Map::new();
        f.insert(field.into(), Value::Array(ids));
        let after = people.update(id.as_str(), f).await?;
        let now = list(&after)
            .iter()
            .any(|n| n.id.as_deref() == Some(e.id.as_str()));
        if now != add {
            return Err(Error::protocol(
                "sdp technician",
                format!("the update left {field} of {id} without the change"),
            ));
        }
        Ok(true)
    }
}

#[async_trait]
impl Provisioner for SdpConnector {
    /// Technicians: `group` (support groups) and `role`; requesters: none.
    fn entitlement_types(&self) -> &[EntitlementType] {
        &self.entitlement_types
    }

    /// Pages of requesters or technicians; the token is the next 1-based `start_index`.
    async fn list_accounts(&self, page: PageRequest) -> Result<Page<Account>> {
        let start = page_start(&page)?;
        let size = page.size_or(self.settings.batch_size).clamp(1, 100);
        let (rows, info) = self
            .people()
            .list_page(&Criteria::new(), start, size)
            .await?;
        crate::api::check_page(self.what(), start, &info, rows.len())?;
        let n = rows.len() as u64;
        let more = info.has_more_rows == Some(true);
        let items = rows.iter().map(|(u, raw)| account(u, raw)).collect();
        let next = more.then(|| PageToken::new((start + n).to_string()));
        Ok(Page::new(items, next).with_total(info.total_count))
    }

    async fn get_account(&self, id: &AccountId) -> Result<Option<Account>> {
        Ok(self
            .people()
            .get_opt(id.as_str())
            .await?
            .map(|(u, raw)| account(&u, &raw)))
    }

    /// Technicians: support groups or roles, a page of `/groups` or `/roles`.
    async fn list_entitlements(
        &self,
        ty: &EntitlementType,
        page: PageRequest,
    ) -> Result<Page<Entitlement>> {
        let (path, _) = self.membership(ty, "list_entitlements")?;
        let start = page_start(&page)?;
        let size = page.size_or(self.settings.batch_size).clamp(1, 100);
        let (rows, info) = self.client.lookups(path).list_page(start, size).await?;
        crate::api::check_page(path, start, &info, rows.len())?;
        let n = rows.len() as u64;
        let items = rows
            .into_iter()
            .map(|(row, raw)| {
                let id = row
                    .id
                    .ok_or_else(|| Error::protocol(format!("sdp {path}"), "a row has no id"))?;
                let mut e = Entitlement::new(
                    EntitlementRef::new(ty.clone(), id),
                    row.name.unwrap_or_default(),
                );
                if let Some(d) = raw.get("description").and_then(Value::as_str) {
                    e.description = Some(d.to_owned());
                }
                Ok(e)
            })
            .collect::<Result<Vec<_>>>()?;
        let next =
            (info.has_more_rows == Some(true)).then(|| PageToken::new((start + n).to_string()));
        Ok(Page::new(items, next).with_total(info.total_count))
    }

    /// Technicians' memberships, read from pages of technicians (the token is the next
    /// technician `start_index`). Pages of technicians without one are read on, so a
    /// page of grants is empty only at the end.
    async fn list_grants(&self, ty: &EntitlementType, page: PageRequest) -> Result<Page<Grant>> {
        let (_, field) = self.membership(ty, "list_grants")?;
        let mut start = page_start(&page)?;
        let size = page.size_or(self.settings.batch_size).clamp(1, 100);
        loop {
            let (rows, info) = self
                .people()
                .list_page(&Criteria::new(), start, size)
                .await?;
            crate::api::check_page(self.what(), start, &info, rows.len())?;
            start += rows.len() as u64;
            let more = info.has_more_rows == Some(true);
            let mut grants = Vec::new();
            for (u, _) in &rows {
                let Some(id) = &u.id else {
                    return Err(Error::protocol(self.what(), "a technician has no id"));
                };
                let list = if field == "groups" {
                    &u.groups
                } else {
                    &u.roles
                };
                for n in list.iter().flatten() {
                    if let Some(eid) = &n.id {
                        grants.push(Grant::new(
                            id.clone(),
                            EntitlementRef::new(ty.clone(), eid.clone()),
                        ));
                    }
                }
            }
            if !grants.is_empty() || !more {
                let next = more.then(|| PageToken::new(start.to_string()));
                return Ok(Page::new(grants, next));
            }
        }
    }

    /// Looks the person up by e-mail (or login), creates them when absent. Not repeated
    /// after an ambiguous failure without a look-up ([`write_with_lookup`](accesslink_core::write::write_with_lookup)).
    /// A per-account password is refused: v3 documents none.
    async fn create_account(&self, spec: &AccountSpec) -> Result<CreateOutcome> {
        if spec.password.is_some() {
            return Err(unsupported("create_account with a password"));
        }
        if let Some(found) = self.find_person(spec).await? {
            return Ok(CreateOutcome::AlreadyExists(found));
        }
        let mut f = Map::new();
        let name = spec.display_name.clone().unwrap_or_else(|| {
            match (&spec.first_name, &spec.last_name) {
                (Some(a), Some(b)) => format!("{a} {b}"),
                _ => spec.login.clone(),
            }
        });
        f.insert("name".into(), json!(name));
        f.insert("login_name".into(), json!(spec.login));
        if let Some(e) = &spec.email {
            f.insert("email_id".into(), json!(e));
        }
        if let Some(a) = self.settings.deployment.account() {
            f.insert("account".into(), json!({"name": a}));
        }
        for (k, v) in &spec.attributes {
            f.insert(k.clone(), v.clone());
        }
        let retry = self.client.retry_config().clone();
        let written = accesslink_core::write::write_with_lookup(
            &retry,
            "create sdp account",
            |_| {
                let f = f.clone();
                async move {
                    let u = self.people().create(f).await?;
                    let raw = serde_json::to_value(&u).unwrap_or(Value::Null);
                    Ok(account(&u, &raw))
                }
            },
            || self.find_person(spec),
        )
        .await?;
        Ok(CreateOutcome::Created(written.into_inner()))
    }

    async fn update_account(&self, id: &AccountId, change: &AccountChange) -> Result<Account> {
        let mut f = Map::new();
        if let Some(n) = &change.display_name {
            f.insert("name".into(), json!(n));
        }
        if let Some(e) = &change.email {
            f.insert("email_id".into(), json!(e));
        }
        for (k, v) in &change.attributes {
            f.insert(k.clone(), v.clone());
        }
        if f.is_empty() {
            return self
                .get_account(id)
                .await?
                .ok_or_else(|| Error::not_found(format!("{} {id}", self.what())));
        }
        let u = self.people().update(id.as_str(), f).await?;
        let raw = serde_json::to_value(&u).unwrap_or(Value::Null);
        Ok(account(&u, &raw))
    }

    async fn set_enabled(&self, _id: &AccountId, _enabled: bool) -> Result<()> {
        Err(unsupported("set_enabled"))
    }

    async fn delete_account(&self, _id: &AccountId) -> Result<()> {
        Err(unsupported("delete_account"))
    }

    /// Technicians: adds the group or role to the technician's list (held:
    /// `AlreadyGranted`).
    async fn grant(&self, id: &AccountId, e: &EntitlementRef) -> Result<GrantOutcome> {
        Ok(if self.set_membership(id, e, true).await? {
            GrantOutcome::Granted
        } else {
            GrantOutcome::AlreadyGranted
        })
    }

    /// Technicians: removes the group or role from the technician's list (not held:
    /// `AlreadyAbsent`).
    async fn revoke(&self, id: &AccountId, e: &EntitlementRef) -> Result<RevokeOutcome> {
        Ok(if self.set_membership(id, e, false).await? {
            RevokeOutcome::Revoked
        } else {
            RevokeOutcome::AlreadyAbsent
        })
    }

    /// Fixed from the v3 docs (SDP has no metadata endpoint for people): name, login,
    /// e-mail, phone, mobile, job title, department, employee id; MSP: account;
    /// technicians: groups and roles.
    async fn account_schema(&self) -> Result<ObjectSchema> {
        let key = match self.settings.accounts {
            AccountKind::Requester => "requester",
            AccountKind::Technician => "technician",
        };
        let mut s = ObjectSchema::new(key)
            .field(FieldSchema::new("id", FieldType::String).read_only())
            .field(
                FieldSchema::new("name", FieldType::String)
                    .label("Name")
                    .required(),
            )
            .field(FieldSchema::new("login_name", FieldType::String).label("Login name"))
            .field(FieldSchema::new("email_id", FieldType::String).label("E-mail"))
            .field(FieldSchema::new("phone", FieldType::String).label("Phone"))
            .field(FieldSchema::new("mobile", FieldType::String).label("Mobile"))
            .field(FieldSchema::new("job_title", FieldType::String).label("Job title"))
            .field(
                FieldSchema::new("department", FieldType::Reference("department".into()))
                    .label("Department"),
            )
            .field(FieldSchema::new("employee_id", FieldType::String).label("Employee id"))
            .field(FieldSchema::new("is_vipuser", FieldType::Boolean).label("VIP user"))
            .field(FieldSchema::new("site", FieldType::Reference("site".into())).label("Site"));
        if self.settings.deployment.account().is_some() {
            s = s.field(
                FieldSchema::new("account", FieldType::Reference("account".into()))
                    .label("Account")
                    .required(),
            );
        }
        if self.settings.accounts == AccountKind::Technician {
            s = s
                .field(
                    FieldSchema::new("groups", FieldType::Reference("group".into()))
                        .label("Support groups")
                        .multi_valued(),
                )
                .field(
                    FieldSchema::new("roles", FieldType::Reference("role".into()))
                        .label("Roles")
                        .multi_valued(),
                );
        }
        Ok(s)
    }
}
