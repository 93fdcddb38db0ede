//! The `Provisioner` implementation.
//!
//! Entitlement types: `role` (id: the role's `uniqueId`, granted and revoked on the
//! user: read the user, send its COMPLETE role list by name, check the answer) and
//! `group` (id: the user group's `uniqueId`, granted and revoked through
//! `userGroups/{id}/users`). Grants of both come from `users/search`, whose results
//! carry each user's roles and groups.

use std::collections::HashMap;

use accesslink_core::write::{Attempt, write_with_lookup};
use accesslink_core::{
    Account, AccountChange, AccountId, AccountSpec, CreateOutcome, Entitlement, EntitlementRef,
    EntitlementType, Error, ErrorKind, Grant, GrantOutcome, ObjectSchema, Page, PageRequest,
    Password, Provisioner, Result, RevokeOutcome, async_trait,
};
use serde_json::Value;

use crate::api::{SearchParams, check_id};
use crate::connector::{
    OpsRampConnector, account_of, create_body, encode_token, encode_users_token, update_body,
    users_token_total,
};
use crate::models::{Role, RoleRef, SearchPage, User, UserBody};
use crate::requests::{DeactivateBody, TerminateBody};
use crate::settings::DeleteMode;

fn unknown_type(ty: &EntitlementType) -> Error {
    Error::invalid_input(format!(
        "OpsRamp has no entitlement type {:?}: use `role` or `group`",
        accesslink_core::redact::truncate(ty.as_str(), 40)
    ))
}

/// The next token of a search page: only while the server says more follow and the
/// page was not empty (an empty page ends a listing whatever the flags say).
fn next_of<T>(
    kind: &str,
    params: &SearchParams,
    page: &SearchPage<T>,
) -> Option<accesslink_core::PageToken> {
    let more = page.next_page
        || matches!((page.page_no, page.total_pages), (Some(no), Some(total)) if no < total);
    (more && !page.results.is_empty()).then(|| {
        let mut next = params.clone();
        next.page_no += 1;
        encode_token(kind, &next)
    })
}

fn role_holds(user: &User, role: &Role) -> bool {
    user.roles.iter().any(|r| {
        r.unique_id.as_deref() == Some(role.unique_id.as_str())
            || (r.unique_id.is_none() && r.name.as_deref() == Some(role.name.as_str()))
    })
}

impl OpsRampConnector {
    /// Removes a password from an error about a request that carried it (the body's
    /// password, per account or the configured default): the HTTP client redacts its
    /// own credentials, not a password inside a body.
    fn scrub(&self, e: Error, password: Option<&secrecy::SecretString>) -> Error {
        let e = match &self.config.initial_password {
            Some(p) => scrub_secret(e, p),
            None => e,
        };
        match password {
            Some(p) => scrub_secret(e, p),
            None => e,
        }
    }
}

fn scrub_secret(mut e: Error, p: &secrecy::SecretString) -> Error {
    use secrecy::ExposeSecret as _;
    {
        let p = p.expose_secret();
        if p.is_empty() {
            return e;
        }
        let fix = |s: &mut String| {
            if s.contains(p) {
                *s = s.replace(p, accesslink_core::redact::REDACTED);
            }
        };
        match &mut e {
            Error::Api(api) => {
                if let Some(m) = api.message.as_mut() {
                    fix(m);
                }
                fix(&mut api.body);
            }
            Error::Protocol(pe) => {
                fix(&mut pe.message);
                fix(&mut pe.snippet);
            }
            _ => {}
        }
    }
    e
}

impl OpsRampConnector {
    async fn live_user(&self, id: &AccountId) -> Result<User> {
        check_id("user", id.as_str())?;
        self.client
            .users()
            .get_opt(id.as_str())
            .await?
            .ok_or_else(|| Error::not_found(format!("OpsRamp user {id}")))
    }

    async fn role(&self, id: &str) -> Result<Role> {
        self.client
            .roles()
            .get_opt(id)
            .await?
            .ok_or_else(|| Error::not_found(format!("OpsRamp role {id}")))
    }

    /// The role names a user holds, for a complete list in an update: names as the
    /// user lists them, looked up by `uniqueId` where a reference has no name.
    async fn role_names(&self, user: &User) -> Result<Vec<String>> {
        let mut names = Vec::with_capacity(user.roles.len());
        for r in &user.roles {
            match (&r.name, &r.unique_id) {
                (Some(n), _) => names.push(n.clone()),
                (None, Some(id)) => names.push(self.role(id).await?.name),
                (None, None) => {
                    return Err(Error::protocol(
                        "GET users/{id}",
                        "a role of the user has neither a name nor a uniqueId",
                    ));
                }
            }
        }
        Ok(names)
    }

    /// Sends the complete role list and checks that the answer holds exactly the role
    /// change asked for: replace-vs-merge is undocumented (fact sheet §1.7), so a
    /// server that merged would leave a revoked role in place, and that must not pass
    /// as success.
    async fn set_roles(
        &self,
        user: &User,
        names: Vec<String>,
        role: &Role,
        want: bool,
    ) -> Result<()> {
        let body = UserBody {
            roles: Some(names.into_iter().map(RoleRef::by_name).collect()),
            ..UserBody::default()
        };
        let after = self.client.users().update(&user.id, &body).await?;
        if role_holds(&after, role) == want {
            return Ok(());
        }
        Err(Error::Conflict {
            message: format!(
                "OpsRamp answered the role update of {} {} role {}: user updates may merge role lists on this tenant",
                user.id,
                if want { "without" } else { "still with" },
                role.unique_id
            ),
        })
    }

    /// `POST users` once the login is known to be free; after an ambiguous failure
    /// (timeout, 5xx, dropped connection) the login is looked up before the POST is
    /// repeated, so a create that did land is never made twice.
    async fn create_user(&self, body: &UserBody, login: &str) -> Result<CreateOutcome> {
        let users = self.client.users();
        let written = write_with_lookup(
            self.client.retry_config(),
            "create OpsRamp user",
            |attempt: Attempt| {
                let users = &users;
                async move {
                    match users
                        .create(body)
                        .await
                        .map_err(|e| self.scrub(e, body.password.as_ref()))
                    {
                        Ok(u) => Ok(CreateOutcome::Created(account_of(&u))),
                        // Taken: by an earlier POST of this call whose answer was lost
                        // (the login was free before the first one), else by someone
                        // else between our lookup and our POST.
                        Err(e) if e.kind() == ErrorKind::InvalidInput => {
                            match users.find_by_login(login).await? {
                                Some(u) if attempt.maybe_sent => {
                                    Ok(CreateOutcome::Created(account_of(&u)))
                                }
                                Some(u) => Ok(CreateOutcome::AlreadyExists(account_of(&u))),
                                None => Err(e),
                            }
                        }
                        Err(e) => Err(e),
                    }
                }
            },
            || async {
                Ok(users
                    .find_by_login(login)
                    .await?
                    .map(|u| CreateOutcome::Created(account_of(&u))))
            },
        )
        .await?;
        if written.was_found() {
            tracing::info!("the create landed before its answer was lost");
        }
        Ok(written.into_inner())
    }
}

#[async_trait]
impl Provisioner for OpsRampConnector {
    fn entitlement_types(&self) -> &[EntitlementType] {
        &self.types
    }

    /// `users/search` sorted by ascending id; the token is `users:<pageNo>:<pageSize>`.
    /// Terminated users a tenant still lists are left out, as `get_account` leaves them
    /// out (what TERMINATE leaves behind is undocumented).
    async fn list_accounts(&self, page: PageRequest) -> Result<Page<Account>> {
        let mut params = self.search_params("users", &page)?;
        let mut seen_total = page.token.as_ref().and_then(users_token_total);
        // Core's paging stops on an empty page: a page of only terminated users is
        // skipped here, so a listing only ends with its users.
        loop {
            let found = self.client.users().search_page(&params).await?;
            // Pages are numbered, not keyed: a user removed from a page already read
            // moves every later user one place up, and the first of the next page is
            // never seen. Pages are read in ascending id order, so new users only add to
            // the end; a total that went down means rows shifted under the import.
            if let (Some(before), Some(now)) = (seen_total, found.total_results) {
                if now < before {
                    return Err(Error::from(
                        accesslink_core::ApiError::new(
                            ErrorKind::Conflict,
                            http::StatusCode::OK,
                            format!("GET users/search (page {})", params.page_no),
                        )
                        .with_message(format!(
                            "the user listing shrank from {before} to {now} while it was read (users removed mid-import): later users moved onto pages already read, so this import cannot be complete; run it again from the start"
                        )),
                    ));
                }
            }
            seen_total = seen_total.max(found.total_results);
            let next = next_of("users", &params, &found).map(|_| {
                let mut next = params.clone();
                next.page_no += 1;
                encode_users_token(&next, seen_total)
            });
            let items: Vec<Account> = found
                .results
                .iter()
                .filter(|u| !u.is_terminated())
                .map(account_of)
                .collect();
            match next {
                Some(_) if items.is_empty() => params.page_no += 1,
                _ => return Ok(Page::new(items, next).with_total(found.total_results)),
            }
        }
    }

    async fn get_account(&self, id: &AccountId) -> Result<Option<Account>> {
        check_id("user", id.as_str())?;
        let user = self.client.users().get_opt(id.as_str()).await?;
        // A terminated user is gone for an identity product, whatever the API keeps.
        Ok(user.filter(|u| !u.is_terminated()).map(|u| account_of(&u)))
    }

    async fn list_entitlements(
        &self,
        ty: &EntitlementType,
        page: PageRequest,
    ) -> Result<Page<Entitlement>> {
        match ty.as_str() {
            "role" => {
                let params = self.search_params("roles", &page)?;
                let found = self.client.roles().search_page(&params).await?;
                let next = next_of("roles", &params, &found);
                let items = found
                    .results
                    .iter()
                    .map(|r| {
                        let mut e = Entitlement::new(Self::role_entitlement(&r.unique_id), &r.name);
                        e.description = r.description.clone();
                        if let Ok(Value::Object(m)) = serde_json::to_value(r) {
                            e.attributes = m;
                        }
                        e
                    })
                    .collect();
                Ok(Page::new(items, next).with_total(found.total_results))
            }
            "group" => {
                let params = self.search_params("groups", &page)?;
                let found = self.client.user_groups().list_page(&params).await?;
                let next = next_of("groups", &params, &found);
                let items = found
                    .results
                    .iter()
                    .map(|g| {
                        let mut e =
                            Entitlement::new(Self::group_entitlement(&g.unique_id), &g.name);
                        e.description = g.description.clone();
                        if let Ok(Value::Object(m)) = serde_json::to_value(g) {
                            e.attributes = m;
                        }
                        e
                    })
                    .collect();
                Ok(Page::new(items, next).with_total(found.total_results))
            }
            _ => Err(unknown_type(ty)),
        }
    }

    /// Grants of one type from a page of `users/search` (token `grants:<pageNo>:<size>`).
    /// Role references without a `uniqueId` are resolved by name through `roles/search`.
    async fn list_grants(&self, ty: &EntitlementType, page: PageRequest) -> Result<Page<Grant>> {
        let is_role = match ty.as_str() {
            "role" => true,
            "group" => false,
            _ => return Err(unknown_type(ty)),
        };
        let mut params = self.search_params("grants", &page)?;
        let mut by_name: Option<HashMap<String, String>> = None;
        // Core's paging stops on an empty page: a page of users holding none of these
        // grants is skipped here, so a listing only ends with its users.
        loop {
            let found = self.client.users().search_page_raw(&params).await?;
            let next = next_of("grants", &params, &found);
            let users = self.with_memberships(found.results, is_role).await?;
            let mut grants = Vec::new();
            for u in users.iter().filter(|u| !u.is_terminated()) {
                if is_role {
                    for r in &u.roles {
                        let id = match (&r.unique_id, &r.name) {
                            (Some(id), _) => id.clone(),
                            (None, Some(name)) => {
                                if by_name.is_none() {
                                    by_name = Some(self.role_ids_by_name().await?);
                                }
                                match by_name.as_ref().and_then(|m| m.get(name)) {
                                    Some(id) => id.clone(),
                                    None => continue,
                                }
                            }
                            (None, None) => continue,
                        };
                        grants.push(Grant::new(u.id.clone(), Self::role_entitlement(&id)));
                    }
                } else {
                    for g in u.user_groups.iter().filter_map(|g| g.unique_id.as_deref()) {
                        grants.push(Grant::new(u.id.clone(), Self::group_entitlement(g)));
                    }
                }
            }
            match next {
                Some(_) if grants.is_empty() => params.page_no += 1,
                _ => return Ok(Page::new(grants, next)),
            }
        }
    }

    async fn create_account(&self, spec: &AccountSpec) -> Result<CreateOutcome> {
        let body = create_body(spec, &self.config)?;
        if let Some(u) = self.client.users().find_by_login(&spec.login).await? {
            return Ok(CreateOutcome::AlreadyExists(account_of(&u)));
        }
        let outcome = self.create_user(&body, &spec.login).await?;
        if let (false, CreateOutcome::Created(a)) = (spec.enabled, &outcome) {
            self.set_enabled(&a.id, false).await?;
            let mut a = a.clone();
            a.enabled = Some(false);
            return Ok(CreateOutcome::Created(a));
        }
        Ok(outcome)
    }

    async fn update_account(&self, id: &AccountId, change: &AccountChange) -> Result<Account> {
        check_id("user", id.as_str())?;
        let body = update_body(change)?;
        if change.is_empty() {
            return Ok(account_of(&self.live_user(id).await?));
        }
        let u = self.client.users().update(id.as_str(), &body).await?;
        Ok(account_of(&u))
    }

    /// The user fields of the create and update bodies (fact sheet §1.7), declared:
    /// OpsRamp does not describe its user object.
    async fn account_schema(&self) -> Result<ObjectSchema> {
        Ok(crate::intake::account_schema())
    }

    /// `POST users/{id}` with only `password` (update takes the create fields;
    /// `changePassword` needs the current password, which an IAM system does not know).
    /// The value is checked against OpsRamp's rule first, never logged, and removed from
    /// any error text.
    async fn set_password(&self, id: &AccountId, password: &Password) -> Result<()> {
        check_id("user", id.as_str())?;
        crate::intake::check_password(password)?;
        let body = UserBody {
            password: Some(password.secret().clone()),
            ..UserBody::default()
        };
        self.client
            .users()
            .update(id.as_str(), &body)
            .await
            .map(drop)
            .map_err(|e| self.scrub(e, body.password.as_ref()))
    }

    /// ACTIVATE, or DEACTIVATE with the configured `deactivateReason`.
    async fn set_enabled(&self, id: &AccountId, enabled: bool) -> Result<()> {
        check_id("user", id.as_str())?;
        let users = self.client.users();
        if enabled {
            users.activate(id.as_str()).await
        } else {
            let body = DeactivateBody::reason(self.config.deactivate_reason.clone());
            users.deactivate(id.as_str(), &body).await
        }
    }

    /// As [`DeleteMode`] says: TERMINATE by default.
    async fn delete_account(&self, id: &AccountId) -> Result<()> {
        let mask = match self.config.delete_mode {
            DeleteMode::Unsupported => {
                return Err(Error::Unsupported {
                    operation: "delete_account",
                    target: "opsramp",
                });
            }
            DeleteMode::Deactivate => return self.set_enabled(id, false).await,
            DeleteMode::Terminate => None,
            DeleteMode::TerminateMasked(m) => Some(m),
        };
        check_id("user", id.as_str())?;
        let mut body = TerminateBody::reason(self.config.terminate_reason.clone());
        body.mask_type = mask;
        self.client.users().terminate(id.as_str(), &body).await
    }

    async fn grant(&self, id: &AccountId, e: &EntitlementRef) -> Result<GrantOutcome> {
        check_id("user", id.as_str())?;
        let eid = e.id.as_str();
        match e.ty.as_str() {
            "role" => {
                check_id("role", eid)?;
                let role = self.role(eid).await?;
                // Read-modify-write of the role list: one change per user at a time.
                let _queue = self.role_locks.lock(id.as_str()).await;
                let user = self.live_user(id).await?;
                if role_holds(&user, &role) {
                    return Ok(GrantOutcome::AlreadyGranted);
                }
                let mut names = self.role_names(&user).await?;
                names.push(role.name.clone());
                self.set_roles(&user, names, &role, true).await?;
                Ok(GrantOutcome::Granted)
            }
            "group" => {
                check_id("user group", eid)?;
                let group = self.client.user_groups().get_opt(eid).await?;
                let group =
                    group.ok_or_else(|| Error::not_found(format!("OpsRamp user group {eid}")))?;
                let user = self.live_user(id).await?;
                if in_group(&user, &group.unique_id, &group.name) {
                    return Ok(GrantOutcome::AlreadyGranted);
                }
                let added = self
                    .client
                    .user_groups()
                    .add_members(eid, &[id.as_str()])
                    .await;
                self.settle_membership(added, id, &group.unique_id, &group.name, true)
                    .await?;
                Ok(GrantOutcome::Granted)
            }
            _ => Err(unknown_type(&e.ty)),
        }
    }

    async fn revoke(&self, id: &AccountId, e: &EntitlementRef) -> Result<RevokeOutcome> {
        check_id("user", id.as_str())?;
        let eid = e.id.as_str();
        match e.ty.as_str() {
            "role" => {
                check_id("role", eid)?;
                let role = self.role(eid).await?;
                let _queue = self.role_locks.lock(id.as_str()).await;
                let user = self.live_user(id).await?;
                if !role_holds(&user, &role) {
                    return Ok(RevokeOutcome::AlreadyAbsent);
                }
                let mut names = Vec::new();
                for (r, name) in user.roles.iter().zip(self.role_names(&user).await?) {
                    let same = r.unique_id.as_deref() == Some(role.unique_id.as_str())
                        || (r.unique_id.is_none() && name == role.name);
                    if !same {
                        names.push(name);
                    }
                }
                self.set_roles(&user, names, &role, false).await?;
                Ok(RevokeOutcome::Revoked)
            }
            "group" => {
                check_id("user group", eid)?;
                let group = self.client.user_groups().get_opt(eid).await?;
                let group =
                    group.ok_or_else(|| Error::not_found(format!("OpsRamp user group {eid}")))?;
                let user = self.live_user(id).await?;
                if !in_group(&user, &group.unique_id, &group.name) {
                    return Ok(RevokeOutcome::AlreadyAbsent);
                }
                let removed = self
                    .client
                    .user_groups()
                    .remove_members(eid, &[id.as_str()])
                    .await;
                self.settle_membership(removed, id, &group.unique_id, &group.name, false)
                    .await?;
                Ok(RevokeOutcome::Revoked)
            }
            _ => Err(unknown_type(&e.ty)),
        }
    }
}

fn in_group(user: &User, unique_id: &str, name: &str) -> bool {
    user.user_groups.iter().any(|g| {
        g.unique_id.as_deref() == Some(unique_id)
            || (g.unique_id.is_none() && g.name.as_deref() == Some(name))
    })
}

impl OpsRampConnector {
    /// The result of a member addition (`want` = member) or removal. Both are repeated
    /// after a lost answer, and whether OpsRamp refuses a repeat ("already a member",
    /// "not a member") is undocumented: on a refusal the user is read again, and a
    /// membership that is as asked is success.
    async fn settle_membership(
        &self,
        result: Result<()>,
        id: &AccountId,
        unique_id: &str,
        name: &str,
        want: bool,
    ) -> Result<()> {
        match result {
            Err(e) if matches!(e.kind(), ErrorKind::InvalidInput | ErrorKind::Conflict) => {
                if in_group(&self.live_user(id).await?, unique_id, name) == want {
                    return Ok(());
                }
                Err(e)
            }
            other => other,
        }
    }

    /// DEACTIVATE with this `deactivateReason` instead of the configured one, as seed
    /// 001's DisableAccountJSON sends a reason per user. Repeatable, like
    /// [`set_enabled`](Provisioner::set_enabled).
    pub async fn disable_with_reason(&self, id: &AccountId, reason: &str) -> Result<()> {
        check_id("user", id.as_str())?;
        self.client
            .users()
            .deactivate(id.as_str(), &DeactivateBody::reason(reason))
            .await
    }

    /// The users of a `users/search` page with their roles (or groups). The fact sheet
    /// calls search results "minimal user objects" while seed 001 reads roles and groups
    /// from them: a result without the list is read in full (`GET users/{id}`) rather
    /// than taken as holding nothing, which an access import would read as every grant
    /// revoked. A user gone since the search is left out.
    async fn with_memberships(&self, results: Vec<Value>, roles: bool) -> Result<Vec<User>> {
        let key = if roles { "roles" } else { "userGroups" };
        let mut users = Vec::with_capacity(results.len());
        for raw in results {
            if raw.get(key).is_some() {
                let u = serde_json::from_value::<User>(raw).map_err(|e| {
                    Error::protocol("GET users/search", format!("a user did not decode: {e}"))
                })?;
                users.push(u);
                continue;
            }
            let id = match raw.get("id") {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Number(n)) => n.to_string(),
                _ => {
                    return Err(Error::protocol("GET users/search", "a user without an id"));
                }
            };
            check_id("user", &id)?;
            tracing::debug!(user = %id, list = key, "search result without the list; reading the user");
            if let Some(u) = self.client.users().get_opt(&id).await? {
                users.push(u);
            }
        }
        Ok(users)
    }

    /// Every role's `uniqueId` by name, from all pages of `roles/search`.
    async fn role_ids_by_name(&self) -> Result<HashMap<String, String>> {
        let mut out = HashMap::new();
        let mut params = SearchParams::page(1, crate::api::MAX_PAGE_SIZE);
        loop {
            let page = self.client.roles().search_page(&params).await?;
            let more = page.next_page && !page.results.is_empty();
            out.extend(page.results.into_iter().map(|r| (r.name, r.unique_id)));
            if !more || params.page_no > 10_000 {
                return Ok(out);
            }
            params.page_no += 1;
        }
    }
}
