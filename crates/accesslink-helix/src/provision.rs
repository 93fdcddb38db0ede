//! The `Provisioner` implementation: `CTM:People` as accounts (keyed by
//! `Remedy Login ID`), support groups as entitlements (`support_group`, by
//! `Support Group ID`), `CTM:Support Group Association` entries as grants.
//!
//! Page tokens are `{offset}:{last entry id}`: lists are sorted by entry id, so every
//! entry of the next page must come after the last one seen, which catches a server
//! that repeats a page or ignores `offset`. One partition of a partitioned import
//! pages by keyset on the login instead (`L:{last login}`, [`crate::partition`]). `Profile Status` is enable/disable; there is
//! no hard delete (`Unsupported`).

use accesslink_core::write::write_with_lookup;
use accesslink_core::{
    Account, AccountChange, AccountId, AccountSpec, CreateOutcome, Entitlement, EntitlementRef,
    EntitlementType, Error, ErrorKind, Grant, GrantOutcome, Page, PageRequest, PageToken,
    Provisioner, Result, RevokeOutcome, async_trait,
};
use serde_json::{Map, Value, json};

use crate::connector::HelixConnector;
use crate::models::Entry;
use crate::partition::LOGIN;
use crate::qual::{Qual, Value as QValue};

/// The entitlement type of support groups.
pub const SUPPORT_GROUP: &str = "support_group";

fn token_parts(token: Option<&PageToken>) -> Result<(u64, Option<String>)> {
    let Some(t) = token else {
        return Ok((0, None));
    };
    let bad = || Error::invalid_input(format!("{:?} is not a Helix page token", t.as_str()));
    let (offset, last) = t.as_str().split_once(':').ok_or_else(bad)?;
    let offset = offset.parse().map_err(|_| bad())?;
    if last.is_empty() || !last.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    Ok((offset, Some(last.to_owned())))
}

impl HelixConnector {
    /// One page of a form, checked against the token's last entry id.
    pub(crate) async fn page_of(
        &self,
        form: &str,
        q: Option<&Qual>,
        page: &PageRequest,
    ) -> Result<(Vec<Entry>, Option<PageToken>)> {
        let (offset, last) = token_parts(page.token.as_ref())?;
        let size = page.size_or(self.settings.page_size).clamp(1, 2000);
        let got = self.client.list(form, q, &[], offset, size).await?;
        let id_field = &self.settings.fields.entry_id;
        let mut previous = last;
        for e in &got.entries {
            let id = e.entry_id(id_field).ok_or_else(|| {
                Error::protocol(format!("GET /entry/{form}"), "an entry without an id")
            })?;
            if previous.as_ref().is_some_and(|p| id.as_str() <= p.as_str()) {
                return Err(Error::protocol(
                    format!("GET /entry/{form}"),
                    format!(
                        "entry {id} at offset {offset} is not after the previous page: the server repeated a page or ignored offset"
                    ),
                ));
            }
            previous = Some(id);
        }
        let next = match (got.more, previous) {
            (true, Some(last)) => Some(PageToken::new(format!(
                "{}:{last}",
                offset + got.entries.len() as u64
            ))),
            _ => None,
        };
        Ok((got.entries, next))
    }

    /// One page of the people in a partition's login range: keyset on the login,
    /// every login after the previous one in byte order ([`crate::partition`]).
    async fn people_in_range(&self, page: &PageRequest) -> Result<Page<Account>> {
        let mut parts = crate::partition::range_qual(page.key_range())?;
        let after = crate::partition::keyset_after(page.token.as_ref())?;
        if let Some(a) = &after {
            parts.push(Qual::gt(LOGIN, &QValue::text(a)?)?);
        }
        let q = Qual::and(parts);
        let size = page.size_or(self.settings.page_size).clamp(1, 2000);
        let form = &self.settings.people.form;
        let got = self
            .client
            .list_sorted(form, q.as_ref(), &[], crate::partition::by_login(), 0, size)
            .await?;
        let items = got
            .entries
            .iter()
            .map(|e| self.account(e))
            .collect::<Result<Vec<_>>>()?;
        let mut previous = after;
        for a in &items {
            let login = a.id.as_str();
            if previous.as_deref().is_some_and(|p| login <= p) {
                return Err(Error::protocol(
                    format!("GET /entry/{form}"),
                    "a login is not after the previous one: the server repeated a page, ignored the keyset condition or sorts logins in another order",
                ));
            }
            previous = Some(login.to_owned());
        }
        let next = if got.more {
            previous.as_deref().map(crate::partition::keyset_token)
        } else {
            None
        };
        Ok(Page::new(items, next))
    }

    fn account(&self, e: &Entry) -> Result<Account> {
        let login = e
            .text(LOGIN)
            .filter(|l| !l.is_empty())
            .ok_or_else(|| Error::protocol("GET /entry/CTM:People", "a person without a login"))?;
        let mut a = Account::new(AccountId::new(login.clone()), login);
        a.display_name =
            e.text("Full Name")
                .or_else(|| match (e.text("First Name"), e.text("Last Name")) {
                    (Some(f), Some(l)) => Some(format!("{f} {l}")),
                    (f, l) => f.or(l),
                });
        a.email = e.text("Internet E-mail").filter(|m| !m.is_empty());
        a.enabled = e
            .text("Profile Status")
            .map(|s| s == self.settings.people.enabled_status);
        a.attributes = e.values.clone();
        Ok(a)
    }

    async fn person(&self, id: &AccountId) -> Result<Option<Entry>> {
        let q = Qual::eq(LOGIN, &QValue::text(id.as_str())?)?;
        let page = self
            .client
            .list(&self.settings.people.form, Some(&q), &[], 0, 5)
            .await?;
        Ok(page
            .entries
            .into_iter()
            .find(|e| e.text(LOGIN).as_deref() == Some(id.as_str())))
    }

    async fn required_person(&self, id: &AccountId) -> Result<Entry> {
        self.person(id)
            .await?
            .ok_or_else(|| Error::not_found(format!("Helix person {id}")))
    }

    async fn association(&self, id: &AccountId, group: &str) -> Result<Option<Entry>> {
        let q = Qual::and([
            Qual::eq("Login ID", &QValue::text(id.as_str())?)?,
            Qual::eq("Support Group ID", &QValue::text(group)?)?,
        ]);
        let page = self
            .client
            .list(
                &self.settings.people.association_form,
                q.as_ref(),
                &[],
                0,
                5,
            )
            .await?;
        Ok(page.entries.into_iter().find(|e| {
            e.text("Login ID").as_deref() == Some(id.as_str())
                && e.text("Support Group ID").as_deref() == Some(group)
        }))
    }

    fn group_id<'a>(&self, e: &'a EntitlementRef) -> Result<&'a str> {
        if e.ty.as_str() != SUPPORT_GROUP {
            return Err(Error::invalid_input(format!(
                "Helix entitlements are {SUPPORT_GROUP} (or {} where configured), not {}",
                crate::groups::AR_GROUP,
                e.ty
            )));
        }
        let id = e.id.as_str();
        QValue::text(id)?;
        Ok(id)
    }

    async fn put_person(&self, entry: &Entry, values: Map<String, Value>) -> Result<()> {
        let id = entry
            .entry_id(&self.settings.fields.entry_id)
            .ok_or_else(|| {
                Error::protocol("GET /entry/CTM:People", "a person without an entry id")
            })?;
        self.client
            .update(&self.settings.people.form, &id, values)
            .await
    }

    /// A support group entitlement.
    pub fn support_group_entitlement(id: impl Into<String>) -> EntitlementRef {
        EntitlementRef::new(EntitlementType::new(SUPPORT_GROUP), id.into())
    }
}

#[async_trait]
impl Provisioner for HelixConnector {
    fn entitlement_types(&self) -> &[EntitlementType] {
        &self.types
    }

    /// Every person, paged by offset in entry id order; within one partition's login
    /// range (keyset on the login) when the request has one ([`crate::partition`]).
    async fn list_accounts(&self, page: PageRequest) -> Result<Page<Account>> {
        if *page.key_range() != accesslink_core::partition::KeyRange::All {
            return self.people_in_range(&page).await;
        }
        let (entries, next) = self
            .page_of(&self.settings.people.form, None, &page)
            .await?;
        let items = entries
            .iter()
            .map(|e| self.account(e))
            .collect::<Result<_>>()?;
        Ok(Page::new(items, next))
    }

    async fn get_account(&self, id: &AccountId) -> Result<Option<Account>> {
        self.person(id).await?.map(|e| self.account(&e)).transpose()
    }

    async fn list_entitlements(
        &self,
        ty: &EntitlementType,
        page: PageRequest,
    ) -> Result<Page<Entitlement>> {
        if ty.as_str() == crate::groups::AR_GROUP && self.settings.ar_groups.is_some() {
            return self.list_ar_groups(page).await;
        }
        if ty.as_str() != SUPPORT_GROUP {
            return Ok(Page::new(Vec::new(), None));
        }
        let form = &self.settings.people.support_group_form;
        let (entries, next) = self.page_of(form, None, &page).await?;
        let items = entries
            .iter()
            .map(|e| {
                let id = e.text("Support Group ID").ok_or_else(|| {
                    Error::protocol(
                        format!("GET /entry/{form}"),
                        "a support group without an id",
                    )
                })?;
                let name = e.text("Support Group Name").unwrap_or_else(|| id.clone());
                let mut ent = Entitlement::new(Self::support_group_entitlement(id), name);
                ent.attributes = e.values.clone();
                Ok(ent)
            })
            .collect::<Result<_>>()?;
        Ok(Page::new(items, next))
    }

    async fn list_grants(&self, ty: &EntitlementType, page: PageRequest) -> Result<Page<Grant>> {
        if ty.as_str() == crate::groups::AR_GROUP && self.settings.ar_groups.is_some() {
            return self.list_ar_group_grants(page).await;
        }
        if ty.as_str() != SUPPORT_GROUP {
            return Ok(Page::new(Vec::new(), None));
        }
        let form = &self.settings.people.association_form;
        let (entries, next) = self.page_of(form, None, &page).await?;
        let items = entries
            .iter()
            .filter_map(|e| {
                let login = e.text("Login ID")?;
                let group = e.text("Support Group ID")?;
                Some(Grant::new(
                    AccountId::new(login),
                    Self::support_group_entitlement(group),
                ))
            })
            .collect();
        Ok(Page::new(items, next))
    }

    /// `POST /entry/CTM:People`, idempotent on `Remedy Login ID` (looked up before and
    /// after an ambiguous failure).
    async fn create_account(&self, spec: &AccountSpec) -> Result<CreateOutcome> {
        QValue::text(&spec.login)?;
        if spec.login.trim().is_empty() {
            return Err(Error::invalid_input("a Helix person needs a login"));
        }
        let id = AccountId::new(spec.login.clone());
        if let Some(e) = self.person(&id).await? {
            return Ok(CreateOutcome::AlreadyExists(self.account(&e)?));
        }
        let p = &self.settings.people;
        let mut v = Map::new();
        v.insert(LOGIN.into(), json!(spec.login));
        let (first, last) = match (&spec.first_name, &spec.last_name) {
            (Some(f), Some(l)) => (f.clone(), l.clone()),
            _ => {
                let name = spec
                    .display_name
                    .clone()
                    .unwrap_or_else(|| spec.login.clone());
                match name.split_once(' ') {
                    Some((f, l)) => (f.to_owned(), l.to_owned()),
                    None => (name.clone(), name),
                }
            }
        };
        v.insert("First Name".into(), json!(first));
        v.insert("Last Name".into(), json!(last));
        if let Some(m) = &spec.email {
            v.insert("Internet E-mail".into(), json!(m));
        }
        let status = if spec.enabled {
            &p.enabled_status
        } else {
            &p.disabled_status
        };
        v.insert("Profile Status".into(), json!(status));
        if let Some(c) = &p.company {
            v.insert("Company".into(), json!(c));
        }
        for (k, val) in &spec.attributes {
            if v.contains_key(k) {
                return Err(Error::invalid_input(format!(
                    "attribute {k:?} is set by the connector"
                )));
            }
            v.insert(k.clone(), val.clone());
        }
        let (v, id) = (&v, &id);
        let written = write_with_lookup(
            self.client.retry_config(),
            "helix create person",
            |_| async move {
                self.client.create(&p.form, v.clone(), &[]).await?;
                self.required_person(id).await
            },
            || self.person(id),
        )
        .await?;
        let found = written.was_found();
        let account = self.account(&written.into_inner())?;
        Ok(if found {
            CreateOutcome::AlreadyExists(account)
        } else {
            CreateOutcome::Created(account)
        })
    }

    async fn update_account(&self, id: &AccountId, change: &AccountChange) -> Result<Account> {
        let entry = self.required_person(id).await?;
        let mut v = Map::new();
        if let Some(f) = &change.first_name {
            v.insert("First Name".into(), json!(f));
        }
        if let Some(l) = &change.last_name {
            v.insert("Last Name".into(), json!(l));
        }
        if let Some(m) = &change.email {
            v.insert("Internet E-mail".into(), json!(m));
        }
        for (k, val) in &change.attributes {
            if k == LOGIN {
                return Err(Error::invalid_input("the login cannot be changed"));
            }
            v.insert(k.clone(), val.clone());
        }
        if !v.is_empty() {
            self.put_person(&entry, v).await?;
        }
        let after = self.required_person(id).await?;
        self.account(&after)
    }

    /// `Profile Status` = `Enabled` or the configured disabled status.
    async fn set_enabled(&self, id: &AccountId, enabled: bool) -> Result<()> {
        let entry = self.required_person(id).await?;
        let p = &self.settings.people;
        let status = if enabled {
            &p.enabled_status
        } else {
            &p.disabled_status
        };
        if entry.text("Profile Status").as_deref() == Some(status.as_str()) {
            return Ok(());
        }
        let mut v = Map::new();
        v.insert("Profile Status".into(), json!(status));
        self.put_person(&entry, v).await
    }

    /// `CTM:People` fixed from the vendor documentation ([`crate::intake`]).
    async fn account_schema(&self) -> Result<accesslink_core::ObjectSchema> {
        Ok(self.fixed_account_schema())
    }

    async fn delete_account(&self, _id: &AccountId) -> Result<()> {
        Err(Error::Unsupported {
            operation: "deleting Helix people (set Profile Status instead)",
            target: "helix",
        })
    }

    /// A `CTM:Support Group Association` entry; one that exists already is `AlreadyGranted`.
    /// An `ar_group` (where configured) is a read-modify-write of the user's
    /// `Group List` with checks ([`crate::groups`]).
    async fn grant(&self, id: &AccountId, e: &EntitlementRef) -> Result<GrantOutcome> {
        if e.ty.as_str() == crate::groups::AR_GROUP {
            return self.grant_ar_group(id, e).await;
        }
        let group = self.group_id(e)?;
        QValue::text(id.as_str())?;
        if self.association(id, group).await?.is_some() {
            return Ok(GrantOutcome::AlreadyGranted);
        }
        self.required_person(id).await?;
        let p = &self.settings.people;
        let mut v = Map::new();
        v.insert("Login ID".into(), json!(id.as_str()));
        v.insert("Support Group ID".into(), json!(group));
        v.insert(
            "Support Group Association Role".into(),
            json!(p.association_role),
        );
        match self.client.create(&p.association_form, v, &[]).await {
            Ok(_) => Ok(GrantOutcome::Granted),
            Err(err) if err.kind() == ErrorKind::Conflict => Ok(GrantOutcome::AlreadyGranted),
            Err(err) => Err(err),
        }
    }

    /// Deletes the association entry; none is `AlreadyAbsent`.
    /// An `ar_group` is removed from the user's `Group List` the same checked way.
    async fn revoke(&self, id: &AccountId, e: &EntitlementRef) -> Result<RevokeOutcome> {
        if e.ty.as_str() == crate::groups::AR_GROUP {
            return self.revoke_ar_group(id, e).await;
        }
        let group = self.group_id(e)?;
        let Some(entry) = self.association(id, group).await? else {
            return Ok(RevokeOutcome::AlreadyAbsent);
        };
        let entry_id = entry
            .entry_id(&self.settings.fields.entry_id)
            .ok_or_else(|| {
                Error::protocol(
                    "GET /entry/CTM:Support Group Association",
                    "an entry without an id",
                )
            })?;
        match self
            .client
            .delete(&self.settings.people.association_form, &entry_id)
            .await
        {
            Ok(()) => Ok(RevokeOutcome::Revoked),
            Err(err) if err.kind() == ErrorKind::NotFound => Ok(RevokeOutcome::AlreadyAbsent),
            Err(err) => Err(err),
        }
    }
}
