//! The [`Provisioner`] implementation: users, groups and memberships.
//!
//! Page tokens are offsets (decimal strings) for accounts and groups, and
//! `<group index>:<member offset>` for grants, so an import resumes where it stopped.

use accesslink_core::write::write_with_lookup;
use accesslink_core::{
    Account, AccountChange, AccountId, AccountSpec, CreateOutcome, Entitlement, EntitlementRef,
    EntitlementType, Error, ErrorKind, Grant, GrantOutcome, ObjectSchema, Page, PageRequest,
    PageToken, Provisioner, Result, RevokeOutcome, async_trait,
};
use serde_json::{Value, json};

use crate::connector::JiraConnector;
use crate::models::{Group, User};
use crate::settings::Deployment;

/// Pages of users skipped at most in one call because every row on them was of an account
/// type not imported (app and customer accounts come in runs).
const MAX_SKIPPED_PAGES: u32 = 100;

fn offset_of(token: Option<&PageToken>) -> Result<u64> {
    match token {
        None => Ok(0),
        Some(t) => t.as_str().parse().map_err(|_| {
            Error::invalid_input(format!("{:?} is not a Jira page token", t.as_str()))
        }),
    }
}

/// Checks an account id or group id/name before it reaches a query string.
fn checked(what: &str, id: &str) -> Result<()> {
    if id.is_empty() || id.len() > 255 || id.chars().any(char::is_control) {
        return Err(Error::invalid_input(format!(
            "{what} must be 1-255 characters without control characters"
        )));
    }
    Ok(())
}

fn group_type(e: &EntitlementRef) -> Result<()> {
    if e.ty != EntitlementType::group() {
        return Err(Error::invalid_input(format!(
            "Jira entitlements are groups, not {}",
            e.ty
        )));
    }
    checked("a group", e.id.as_str())
}

impl JiraConnector {
    /// An account from a user: id = account id (Cloud) or name (Data Center); login =
    /// e-mail on Cloud (the account id when the e-mail is hidden), name on Data Center;
    /// e-mail `None` when hidden — such accounts are kept, never dropped.
    pub fn account_of(&self, u: &User) -> Option<Account> {
        let id = u.id()?.to_owned();
        let login = match self.client.deployment() {
            Deployment::Cloud => u
                .email_address
                .clone()
                .filter(|e| !e.is_empty())
                .unwrap_or_else(|| id.clone()),
            Deployment::DataCenter => u.name.clone().unwrap_or_else(|| id.clone()),
        };
        let mut a = Account::new(id, login);
        a.display_name = u.display_name.clone();
        a.email = u.email_address.clone().filter(|e| !e.is_empty());
        a.enabled = u.active;
        if let Ok(Value::Object(m)) = serde_json::to_value(u) {
            a.attributes = m;
        }
        Some(a)
    }

    fn imported(&self, u: &User) -> bool {
        match (&u.account_type, self.client.deployment()) {
            (Some(t), Deployment::Cloud) => self.settings.account_types.iter().any(|k| k == t),
            _ => true,
        }
    }

    fn group_id(&self, g: &Group) -> String {
        match self.client.deployment() {
            Deployment::Cloud => g.group_id.clone().unwrap_or_else(|| g.name.clone()),
            Deployment::DataCenter => g.name.clone(),
        }
    }

    /// The group at `index` of the group listing.
    async fn group_at(&self, index: u64) -> Result<Option<Group>> {
        // Both deployments answer one group at an offset (Data Center pages the picker's
        // answer itself).
        let page = self.client.groups().list_page(index, 1).await?;
        Ok(page.values.into_iter().next())
    }

    /// An existing account with this login (Cloud: by e-mail through `user/search`; Data
    /// Center: by user name).
    async fn find_login(&self, spec: &AccountSpec) -> Result<Option<Account>> {
        match self.client.deployment() {
            Deployment::DataCenter => Ok(self
                .client
                .users()
                .get_opt(&spec.login)
                .await?
                .and_then(|u| self.account_of(&u))),
            Deployment::Cloud => {
                let email = spec.email.as_deref().unwrap_or(&spec.login);
                let http = self.client.http().await?;
                let req = http
                    .get("rest/api/3/user/search")?
                    .query_pair("query", email);
                let found: Vec<User> = http.send_json(req).await?;
                Ok(found
                    .iter()
                    .find(|u| {
                        u.email_address
                            .as_deref()
                            .is_some_and(|e| e.eq_ignore_ascii_case(email))
                    })
                    .and_then(|u| self.account_of(u)))
            }
        }
    }
}

#[async_trait]
impl Provisioner for JiraConnector {
    fn entitlement_types(&self) -> &[EntitlementType] {
        self.types()
    }

    /// The user fields the deployment's user API shows and takes (declared: Jira does
    /// not describe its user object). Cloud: only `emailAddress` is written (an
    /// Atlassian account owns the rest); Data Center: name, display name and e-mail.
    async fn account_schema(&self) -> Result<ObjectSchema> {
        use accesslink_core::{AllowedValue, FieldSchema, FieldType as T};
        let s = |n: &str, label: &str| FieldSchema::new(n, T::String).label(label);
        let schema = match self.client.deployment() {
            Deployment::Cloud => ObjectSchema::new("User")
                .field(s("accountId", "Account ID").read_only())
                .field(s("accountType", "Account type").read_only().allowed(
                    ["atlassian", "app", "customer", "unknown"].map(|v| AllowedValue::new(v, None)),
                ))
                .field(s("displayName", "Display name").read_only())
                .field(s("emailAddress", "E-mail").required())
                .field(
                    FieldSchema::new("active", T::Boolean)
                        .label("Active")
                        .read_only(),
                )
                .field(s("timeZone", "Time zone").read_only()),
            Deployment::DataCenter => ObjectSchema::new("User")
                .field(s("name", "Username").required())
                .field(s("key", "User key").read_only())
                .field(s("displayName", "Full name").required())
                .field(s("emailAddress", "E-mail").required())
                .field(FieldSchema::new("active", T::Boolean).label("Active"))
                .field(s("timeZone", "Time zone").read_only()),
        };
        Ok(schema)
    }

    /// Cloud: `users/search` pages, kept when their `accountType` is in `account_types`
    /// (pages of only other types are skipped in the same call, so a page is empty only
    /// at the end). Data Center: `user/search?username=.` with inactive users.
    async fn list_accounts(&self, page: PageRequest) -> Result<Page<Account>> {
        let size = page.size_or(self.settings.page_size).min(1000);
        let mut start = offset_of(page.token.as_ref())?;
        for _ in 0..MAX_SKIPPED_PAGES {
            let users = self.client.users().list_page(start, size).await?;
            if users.is_empty() {
                return Ok(Page::new(Vec::new(), None));
            }
            let next = match self.client.deployment() {
                // Cloud pages can be short before the end: the offset moves by the size asked.
                Deployment::Cloud => start + u64::from(size),
                Deployment::DataCenter => start + users.len() as u64,
            };
            let accounts: Vec<Account> = users
                .iter()
                .filter(|u| self.imported(u))
                .filter_map(|u| self.account_of(u))
                .collect();
            if accounts.is_empty() {
                start = next;
                continue;
            }
            return Ok(Page::new(accounts, Some(PageToken::new(next.to_string()))));
        }
        Err(Error::protocol(
            "jira users/search",
            format!("{MAX_SKIPPED_PAGES} pages without an account of the imported types"),
        ))
    }

    async fn get_account(&self, id: &AccountId) -> Result<Option<Account>> {
        checked("an account id", id.as_str())?;
        Ok(self
            .client
            .users()
            .get_opt(id.as_str())
            .await?
            .and_then(|u| self.account_of(&u)))
    }

    async fn list_entitlements(
        &self,
        ty: &EntitlementType,
        page: PageRequest,
    ) -> Result<Page<Entitlement>> {
        if *ty != EntitlementType::group() {
            return Err(Error::invalid_input(format!(
                "Jira entitlements are groups, not {ty}"
            )));
        }
        let start = offset_of(page.token.as_ref())?;
        let size = page.size_or(self.settings.page_size).min(50);
        let bean = self.client.groups().list_page(start, size).await?;
        let n = bean.values.len() as u64;
        let items = bean
            .values
            .iter()
            .map(|g| {
                let mut e = Entitlement::new(
                    JiraConnector::group_entitlement(self.group_id(g)),
                    g.name.clone(),
                );
                e.attributes.insert("name".into(), json!(g.name));
                e
            })
            .collect();
        let next =
            (bean.is_last != Some(true) && n > 0).then(|| PageToken::new((start + n).to_string()));
        Ok(Page::new(items, next).with_total(bean.total))
    }

    /// Members of one group per page (`<group index>:<member offset>`), inactive included.
    async fn list_grants(&self, ty: &EntitlementType, page: PageRequest) -> Result<Page<Grant>> {
        if *ty != EntitlementType::group() {
            return Err(Error::invalid_input(format!(
                "Jira entitlements are groups, not {ty}"
            )));
        }
        let (mut group, mut offset) = match page.token.as_ref() {
            None => (0, 0),
            Some(t) => {
                let (g, o) = t
                    .as_str()
                    .split_once(':')
                    .ok_or_else(|| Error::invalid_input("not a Jira grant page token"))?;
                let n = |s: &str| {
                    s.parse::<u64>()
                        .map_err(|_| Error::invalid_input("not a Jira grant page token"))
                };
                (n(g)?, n(o)?)
            }
        };
        let size = page.size_or(self.settings.page_size).min(50);
        for _ in 0..MAX_SKIPPED_PAGES {
            let Some(g) = self.group_at(group).await? else {
                return Ok(Page::new(Vec::new(), None));
            };
            let gid = self.group_id(&g);
            let bean = self
                .client
                .groups()
                .members_page(&gid, offset, size)
                .await?;
            let n = bean.values.len() as u64;
            let last = bean.is_last == Some(true) || n == 0;
            let next = if last {
                (group + 1, 0)
            } else {
                (group, offset + n)
            };
            let grants: Vec<Grant> = bean
                .values
                .iter()
                .filter(|u| self.imported(u))
                .filter_map(|u| u.id())
                .map(|id| Grant::new(id.to_owned(), JiraConnector::group_entitlement(gid.clone())))
                .collect();
            if grants.is_empty() {
                (group, offset) = next;
                continue;
            }
            let token = PageToken::new(format!("{}:{}", next.0, next.1));
            return Ok(Page::new(grants, Some(token)));
        }
        Err(Error::protocol(
            "jira group/member",
            "too many empty groups in a row",
        ))
    }

    /// Cloud: `POST /rest/api/3/user` with the e-mail and `products`; Data Center: `POST
    /// /rest/api/2/user`. An existing login is `AlreadyExists`; after an ambiguous failure
    /// the login is looked up before another send.
    async fn create_account(&self, spec: &AccountSpec) -> Result<CreateOutcome> {
        checked("a login", &spec.login)?;
        if let Some(a) = self.find_login(spec).await? {
            return Ok(CreateOutcome::AlreadyExists(a));
        }
        let users = self.client.users();
        let body = users.create_body(
            &spec.login,
            spec.email.as_deref(),
            spec.display_name.as_deref(),
            &self.settings.products,
        );
        let retry = self.client.retry_config().clone();
        let written = write_with_lookup(
            &retry,
            "create jira user",
            |_| async {
                match users.create(&body).await {
                    Ok(u) => self.account_of(&u).ok_or_else(|| {
                        Error::protocol("jira create user", "the answer names no user")
                    }),
                    Err(e) if e.kind() == ErrorKind::Conflict => {
                        self.find_login(spec).await?.ok_or(e)
                    }
                    Err(e) => Err(e),
                }
            },
            || self.find_login(spec),
        )
        .await?;
        let account = written.into_inner();
        // A fresh Cloud answer may lack the e-mail; the login asked for is the login.
        let account = match self.client.deployment() {
            Deployment::Cloud if account.email.is_none() => {
                let mut a = account;
                a.login = spec.email.clone().unwrap_or_else(|| spec.login.clone());
                a
            }
            _ => account,
        };
        Ok(CreateOutcome::Created(account))
    }

    /// Data Center only (`PUT /rest/api/2/user`); Cloud has no such call: `Unsupported`.
    async fn update_account(&self, id: &AccountId, change: &AccountChange) -> Result<Account> {
        checked("an account id", id.as_str())?;
        let mut body = serde_json::Map::new();
        if let Some(n) = &change.display_name {
            body.insert("displayName".into(), json!(n));
        }
        if let Some(e) = &change.email {
            body.insert("emailAddress".into(), json!(e));
        }
        let u = self
            .client
            .users()
            .update(id.as_str(), &Value::Object(body))
            .await?;
        self.account_of(&u)
            .ok_or_else(|| Error::protocol("jira update user", "the answer names no user"))
    }

    /// Data Center: `PUT /rest/api/2/user {"active": …}`. Cloud: `Unsupported` — the
    /// Jira REST API cannot deactivate an account (Atlassian organization admin API or
    /// SCIM does; removing product-access groups removes access).
    async fn set_enabled(&self, id: &AccountId, enabled: bool) -> Result<()> {
        if self.client.deployment() == Deployment::Cloud {
            return Err(Error::Unsupported {
                operation: "enabling or disabling a Jira Cloud account (use the Atlassian organization admin API or SCIM)",
                target: "jira",
            });
        }
        checked("an account id", id.as_str())?;
        self.client
            .users()
            .update(id.as_str(), &json!({ "active": enabled }))
            .await
            .map(drop)
    }

    /// Deletes the user; a user already gone is success.
    async fn delete_account(&self, id: &AccountId) -> Result<()> {
        checked("an account id", id.as_str())?;
        match self.client.users().delete(id.as_str()).await {
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
            other => other,
        }
    }

    async fn grant(&self, id: &AccountId, e: &EntitlementRef) -> Result<GrantOutcome> {
        checked("an account id", id.as_str())?;
        group_type(e)?;
        match self
            .client
            .groups()
            .add_member(e.id.as_str(), id.as_str())
            .await
        {
            Ok(()) => Ok(GrantOutcome::Granted),
            Err(err) if err.kind() == ErrorKind::Conflict => Ok(GrantOutcome::AlreadyGranted),
            Err(err) => Err(err),
        }
    }

    async fn revoke(&self, id: &AccountId, e: &EntitlementRef) -> Result<RevokeOutcome> {
        checked("an account id", id.as_str())?;
        group_type(e)?;
        let held = self.client.users().groups(id.as_str()).await?;
        let in_group = held.iter().any(|g| self.group_id(g) == e.id.as_str());
        if !in_group {
            return Ok(RevokeOutcome::AlreadyAbsent);
        }
        self.client
            .groups()
            .remove_member(e.id.as_str(), id.as_str())
            .await?;
        Ok(RevokeOutcome::Revoked)
    }
}
