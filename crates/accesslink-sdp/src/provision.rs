//! The [`Provisioner`] implementation over requesters (`/api/v3/requesters`).
//!
//! What the v3 API is known to expose for requesters: list, get, create, update. Enabling
//! and disabling, deleting, technicians' roles and support-group membership differ per
//! build and are not verified: they are `Unsupported` here, and the capabilities say so.

use accesslink_core::{
    Account, AccountChange, AccountId, AccountSpec, CreateOutcome, EntitlementRef, EntitlementType,
    Error, Grant, GrantOutcome, Page, PageRequest, PageToken, Provisioner, Result, RevokeOutcome,
    async_trait,
};
use serde_json::{Map, Value, json};

use crate::connector::SdpConnector;
use crate::input::Criteria;
use crate::models::User;

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

impl SdpConnector {
    async fn find_requester(&self, spec: &AccountSpec) -> Result<Option<Account>> {
        let (field, value) = match &spec.email {
            Some(e) => ("email_id", e.as_str()),
            None => ("login_name", spec.login.as_str()),
        };
        let c = Criteria::new().is(field, value)?;
        let (rows, _) = self.client.requesters().list_page(&c, 1, 10).await?;
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
}

#[async_trait]
impl Provisioner for SdpConnector {
    /// None: memberships are not exposed (see the module docs).
    fn entitlement_types(&self) -> &[EntitlementType] {
        &[]
    }

    /// Pages of requesters; the token is the next 1-based `start_index`.
    async fn list_accounts(&self, page: PageRequest) -> Result<Page<Account>> {
        let start = match &page.token {
            None => 1,
            Some(t) => t
                .as_str()
                .parse::<u64>()
                .ok()
                .filter(|n| *n >= 1)
                .ok_or_else(|| Error::invalid_input("not an SDP page token"))?,
        };
        let size = page.size_or(self.settings.batch_size).clamp(1, 100);
        let (rows, info) = self
            .client
            .requesters()
            .list_page(&Criteria::new(), start, size)
            .await?;
        if info.start_index.is_some_and(|s| s != start) {
            return Err(Error::protocol(
                "sdp requesters",
                format!(
                    "asked for rows from {start}, got a page from {:?}",
                    info.start_index
                ),
            ));
        }
        let n = rows.len() as u64;
        let more = info.has_more_rows == Some(true);
        if more && n == 0 {
            return Err(Error::protocol(
                "sdp requesters",
                "an empty page says more rows follow",
            ));
        }
        let items = rows.iter().map(|(u, raw)| account(u, raw)).collect();
        let next = more.then(|| PageToken::new((start + n).to_string()));
        Ok(Page::new(items, next).with_total(info.total_count))
    }

    async fn get_account(&self, id: &AccountId) -> Result<Option<Account>> {
        Ok(self
            .client
            .requesters()
            .get_opt(id.as_str())
            .await?
            .map(|(u, raw)| account(&u, &raw)))
    }

    async fn list_entitlements(
        &self,
        _ty: &EntitlementType,
        _page: PageRequest,
    ) -> Result<Page<accesslink_core::Entitlement>> {
        Err(unsupported("list_entitlements"))
    }

    async fn list_grants(&self, _ty: &EntitlementType, _page: PageRequest) -> Result<Page<Grant>> {
        Err(unsupported("list_grants"))
    }

    /// Looks the requester up by e-mail (or login), creates it when absent. Not repeated
    /// after an ambiguous failure without a look-up ([`write_with_lookup`](accesslink_core::write::write_with_lookup)).
    async fn create_account(&self, spec: &AccountSpec) -> Result<CreateOutcome> {
        if let Some(found) = self.find_requester(spec).await? {
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
            "create sdp requester",
            |_| {
                let f = f.clone();
                async move {
                    let u = self.client.requesters().create(f).await?;
                    let raw = serde_json::to_value(&u).unwrap_or(Value::Null);
                    Ok(account(&u, &raw))
                }
            },
            || self.find_requester(spec),
        )
        .await?;
        Ok(CreateOutcome::Created(written.into_inner()))
    }

    async fn update_account(
        &self,
        id: &AccountId,
        change: &AccountChange,
    ) -> Result<accesslink_core::Account> {
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
                .ok_or_else(|| Error::not_found(format!("sdp requester {id}")));
        }
        let u = self.client.requesters().update(id.as_str(), f).await?;
        let raw = serde_json::to_value(&u).unwrap_or(Value::Null);
        Ok(account(&u, &raw))
    }

    async fn set_enabled(&self, _id: &AccountId, _enabled: bool) -> Result<()> {
        Err(unsupported("set_enabled"))
    }

    async fn delete_account(&self, _id: &AccountId) -> Result<()> {
        Err(unsupported("delete_account"))
    }

    async fn grant(&self, _id: &AccountId, _e: &EntitlementRef) -> Result<GrantOutcome> {
        Err(unsupported("grant"))
    }

    async fn revoke(&self, _id: &AccountId, _e: &EntitlementRef) -> Result<RevokeOutcome> {
        Err(unsupported("revoke"))
    }
}
