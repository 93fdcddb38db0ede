//! The `Provisioner` implementation: `sys_user` accounts; `group` entitlements granted
//! through `sys_user_grmember` and `role` entitlements through `sys_user_has_role`.
//! Every listing uses keyset paging ([`crate::paging`]).

use accesslink_core::write::write_with_lookup;
use accesslink_core::{
    Account, AccountChange, AccountId, AccountSpec, CreateOutcome, Entitlement, EntitlementRef,
    EntitlementType, Error, ErrorKind, Grant, GrantOutcome, Page, PageRequest, Provisioner, Result,
    RevokeOutcome, async_trait,
};
use serde_json::{Map, Value, json};

use crate::accounts::{
    Kind, account_id, account_of, attributes, check_login, check_text, group_ref, role_ref, target,
    unknown_type,
};
use crate::api::TableApi;
use crate::connector::ServiceNowConnector;
use crate::models::{HasSysId, Record, User, UserRole, ref_id};
use crate::paging::{self, keyset};

impl ServiceNowConnector {
    /// One keyset page of `table`, mapped. Rows `keep` refuses are left out quietly;
    /// rows that cannot be mapped (a membership whose user reference is empty) are
    /// skipped with a warning; a page where none is left is never returned empty with a
    /// next token, since an empty page ends a drain.
    async fn listing<M, T>(
        &self,
        api: &TableApi<'_, M>,
        page: &PageRequest,
        size: u32,
        keep: impl Fn(&M) -> bool + Send,
        map: impl Fn(M) -> Option<T> + Send,
    ) -> Result<Page<T>>
    where
        M: Record + HasSysId + Send,
        T: Send,
    {
        let table = api.table();
        let start = paging::decode(table, page.token.as_ref())?;
        // One partition's key range (crate::partition), or the whole table.
        let filter = crate::partition::range_filter(page.key_range())?;
        let mut after = start.clone();
        let mut total = None;
        let mut first = true;
        loop {
            let found = keyset(api, filter.clone(), after.as_deref(), size).await?;
            if first && start.is_none() {
                // `X-Total-Count` after a cursor counts what is left, so it is the
                // listing's total only on the first page.
                total = found.total;
            }
            first = false;
            let rows: Vec<M> = found.items.into_iter().filter(|r| keep(r)).collect();
            let fetched = rows.len();
            let items: Vec<T> = rows.into_iter().filter_map(&map).collect();
            if items.len() < fetched {
                tracing::warn!(
                    table,
                    skipped = fetched - items.len(),
                    "rows without the fields an item needs were skipped"
                );
            }
            if !items.is_empty() || found.next.is_none() {
                let next = found.next.map(|last| paging::encode(table, &last));
                return Ok(Page::new(items, next).with_total(total));
            }
            after = found.next;
        }
    }

    /// `NotFound` unless the user and the group or role exist (and are visible). The
    /// instance stores a reference to any `sys_id` it is given, so without this a grant
    /// to an account deleted in the meantime would insert an orphan row and report
    /// `Granted`.
    async fn both_exist(&self, kind: Kind, user: &str, id: &str) -> Result<()> {
        if self.client.users().get_opt(user).await?.is_none() {
            return Err(Error::not_found(format!("ServiceNow user {user}")));
        }
        let (what, found) = match kind {
            Kind::Group => ("group", self.client.groups().get_opt(id).await?.is_some()),
            Kind::Role => ("role", self.client.roles().get_opt(id).await?.is_some()),
        };
        if found {
            Ok(())
        } else {
            Err(Error::not_found(format!("ServiceNow {what} {id}")))
        }
    }

    async fn grant_with_lookup(&self, kind: Kind, user: &str, id: &str) -> Result<GrantOutcome> {
        if self.holds(kind, user, id).await? {
            return Ok(GrantOutcome::AlreadyGranted);
        }
        self.both_exist(kind, user, id).await?;
        // Neither table has a unique index: a repeated insert makes a second row, so a
        // failed insert is only repeated after looking again.
        let table = self.grant_table(kind);
        // The value says whether the answer carried a stored row.
        let stored = write_with_lookup(
            self.client.http().retry_config(),
            "grant",
            |_| async {
                Ok(match kind {
                    Kind::Group => self
                        .client
                        .group_members()
                        .create(&json!({ "user": user, "group": id }))
                        .await?
                        .sys_id
                        .is_some(),
                    Kind::Role => self
                        .client
                        .user_roles()
                        .create(&json!({ "user": user, "role": id }))
                        .await?
                        .sys_id
                        .is_some(),
                })
            },
            || async { Ok(self.holds(kind, user, id).await?.then_some(true)) },
        )
        .await?
        .into_inner();
        // 201 without a row: a business rule aborted the insert yet the instance
        // answered success (fact sheet §1 "Business-rule aborts"). `Granted` would tell
        // an access review the user holds what it does not.
        if stored || self.holds(kind, user, id).await? {
            self.remove_racing_copies(kind, user, id).await?;
            Ok(GrantOutcome::Granted)
        } else {
            Err(crate::connector::aborted_insert(&table))
        }
    }

    /// The table whose rows grant a group (`sys_user_grmember`) or a role
    /// (`sys_user_has_role`).
    fn grant_table(&self, kind: Kind) -> String {
        match kind {
            Kind::Group => self.client.group_members().table().to_owned(),
            Kind::Role => self.client.user_roles().table().to_owned(),
        }
    }

    /// The rows that give `user` the group or role: memberships, or held role rows with
    /// whether each is inherited and from which group.
    async fn grant_rows(&self, kind: Kind, user: &str, id: &str) -> Result<Vec<GrantRow>> {
        Ok(match kind {
            Kind::Group => self
                .memberships(user, id)
                .await?
                .into_iter()
                .filter_map(|m| {
                    Some(GrantRow {
                        sys_id: m.sys_id?,
                        inherited: false,
                        from: None,
                    })
                })
                .collect(),
            Kind::Role => self
                .role_rows(user, id)
                .await?
                .into_iter()
                .filter_map(|r| {
                    let from = ref_id(&r.granted_by).map(str::to_owned);
                    Some(GrantRow {
                        sys_id: r.sys_id?,
                        inherited: r.inherited == Some(true),
                        from,
                    })
                })
                .collect(),
        })
    }

    /// After an insert: another process granting the same at the same moment can have
    /// found no row too and inserted its own (neither table has a unique index). Of the
    /// direct rows now there, every one but the lowest `sys_id` is deleted. Each racer
    /// keeps the same row (the lowest any of them can see is never deleted by any), so
    /// one row stays whoever runs this first; deleting a row another racer deleted
    /// already is not an error.
    async fn remove_racing_copies(&self, kind: Kind, user: &str, id: &str) -> Result<()> {
        let mut rows: Vec<String> = self
            .grant_rows(kind, user, id)
            .await?
            .into_iter()
            .filter(|r| !r.inherited)
            .map(|r| r.sys_id)
            .collect();
        if rows.len() < 2 {
            return Ok(());
        }
        rows.sort();
        let table = self.grant_table(kind);
        tracing::warn!(
            table = %table,
            copies = rows.len(),
            "the same grant was inserted more than once (a concurrent grant); keeping one row"
        );
        for row in &rows[1..] {
            self.client
                .table::<serde_json::Value>(table.clone())
                .delete(row)
                .await?;
        }
        Ok(())
    }
}

/// A row that grants a group or role ([`ServiceNowConnector::grant_rows`]).
struct GrantRow {
    sys_id: String,
    /// A role held through a group (not removable on the user).
    inherited: bool,
    /// The group it is inherited from, when known.
    from: Option<String>,
}

#[async_trait]
impl Provisioner for ServiceNowConnector {
    fn entitlement_types(&self) -> &[EntitlementType] {
        &self.types
    }

    async fn list_accounts(&self, page: PageRequest) -> Result<Page<Account>> {
        let size = self.page_size(&page);
        let api = self.client.users();
        self.listing(&api, &page, size, |_| true, |u| Some(account_of(&u)))
            .await
    }

    async fn get_account(&self, id: &AccountId) -> Result<Option<Account>> {
        let id = account_id(id)?;
        Ok(self
            .client
            .users()
            .get_opt(id)
            .await?
            .map(|u| account_of(&u)))
    }

    async fn list_entitlements(
        &self,
        ty: &EntitlementType,
        page: PageRequest,
    ) -> Result<Page<Entitlement>> {
        let size = self.page_size(&page);
        match ty.as_str() {
            "group" => {
                let api = self.client.groups();
                self.listing(
                    &api,
                    &page,
                    size,
                    |_| true,
                    |g| {
                        let mut e = Entitlement::new(
                            group_ref(g.sys_id.clone()?),
                            g.name.clone().unwrap_or_default(),
                        );
                        e.description = g.description.clone();
                        if let Ok(Value::Object(m)) = serde_json::to_value(&g) {
                            e.attributes = m;
                        }
                        Some(e)
                    },
                )
                .await
            }
            "role" => {
                let api = self.client.roles();
                self.listing(
                    &api,
                    &page,
                    size,
                    |_| true,
                    |r| {
                        let mut e = Entitlement::new(
                            role_ref(r.sys_id.clone()?),
                            r.name.clone().unwrap_or_default(),
                        );
                        e.description = r.description.clone();
                        if let Ok(Value::Object(m)) = serde_json::to_value(&r) {
                            e.attributes = m;
                        }
                        Some(e)
                    },
                )
                .await
            }
            other => Err(unknown_type(other)),
        }
    }

    /// Every membership row and every role row that gives the role, inherited ones
    /// included (they are held; they just cannot be revoked directly). Role rows waiting
    /// for approval (`state` other than `active`) are not grants and are left out.
    async fn list_grants(&self, ty: &EntitlementType, page: PageRequest) -> Result<Page<Grant>> {
        let size = self.page_size(&page);
        match ty.as_str() {
            "group" => {
                let api = self.client.group_members();
                self.listing(
                    &api,
                    &page,
                    size,
                    |_| true,
                    |m| {
                        Some(Grant::new(
                            ref_id(&m.user)?.to_owned(),
                            group_ref(ref_id(&m.group)?),
                        ))
                    },
                )
                .await
            }
            "role" => {
                let api = self.client.user_roles();
                // Only rows that give the role: a request waiting for approval is not a
                // grant (see `UserRole::is_held`).
                self.listing(&api, &page, size, UserRole::is_held, |r| {
                    Some(Grant::new(
                        ref_id(&r.user)?.to_owned(),
                        role_ref(ref_id(&r.role)?),
                    ))
                })
                .await
            }
            other => Err(unknown_type(other)),
        }
    }

    async fn create_account(&self, spec: &AccountSpec) -> Result<CreateOutcome> {
        // Everything is checked before the first request.
        check_login(&spec.login)?;
        check_text("the first name", &spec.first_name)?;
        check_text("the last name", &spec.last_name)?;
        check_text("the display name", &spec.display_name)?;
        check_text("the email", &spec.email)?;
        let mut body: Map<String, Value> = attributes(&spec.attributes)?;
        body.insert("user_name".into(), spec.login.clone().into());
        let (first, last) = match (&spec.first_name, &spec.last_name, &spec.display_name) {
            (None, None, Some(d)) => match d.split_once(' ') {
                Some((f, l)) => (Some(f.to_owned()), Some(l.to_owned())),
                None => (None, Some(d.clone())),
            },
            (f, l, _) => (f.clone(), l.clone()),
        };
        if let Some(f) = first {
            body.insert("first_name".into(), f.into());
        }
        if let Some(l) = last {
            body.insert("last_name".into(), l.into());
        }
        if let Some(e) = &spec.email {
            body.insert("email".into(), e.clone().into());
        }
        body.insert("active".into(), spec.enabled.to_string().into());
        if let Some(existing) = self.user_by_login(&spec.login).await? {
            return Ok(CreateOutcome::AlreadyExists(account_of(&existing)));
        }
        let inserted = write_with_lookup(
            self.client.http().retry_config(),
            "create user",
            |attempt| {
                let body = &body;
                async move {
                    Ok(match self.client.users().create(body).await {
                        Ok(u) if u.sys_id.is_some() => UserInsert::Row(Box::new(u)),
                        Ok(_) => UserInsert::Empty,
                        Err(e) if e.kind() == ErrorKind::Conflict => {
                            UserInsert::Conflict(e, attempt.maybe_sent)
                        }
                        Err(e) => return Err(e),
                    })
                }
            },
            || async {
                Ok(self
                    .user_by_login(&spec.login)
                    .await?
                    .map(|u| UserInsert::Row(Box::new(u))))
            },
        )
        .await?
        .into_inner();
        let created = match inserted {
            UserInsert::Row(u) => CreateOutcome::Created(account_of(&u)),
            // 201 without a row: a business rule aborted the insert (fact sheet §1).
            UserInsert::Empty => match self.user_by_login(&spec.login).await? {
                Some(u) => CreateOutcome::Created(account_of(&u)),
                None => return Err(crate::connector::aborted_insert("sys_user")),
            },
            // 403 "Error during insert of sys_user": the user_name exists — another
            // writer got there first, or (after an ambiguous failure) our own earlier
            // send landed — or a business rule refused. Look to tell.
            UserInsert::Conflict(e, maybe_sent) => match self.user_by_login(&spec.login).await? {
                Some(u) if maybe_sent => CreateOutcome::Created(account_of(&u)),
                Some(u) => return Ok(CreateOutcome::AlreadyExists(account_of(&u))),
                None => return Err(e),
            },
        };
        // The initial password goes in its own PATCH with
        // `sysparm_input_display_value=true` (which the insert cannot carry without
        // reading every other field as a display value too).
        if let (CreateOutcome::Created(account), Some(password)) = (&created, &spec.password) {
            self.put_password(&account.id, password).await?;
        }
        Ok(created)
    }

    async fn update_account(&self, id: &AccountId, change: &AccountChange) -> Result<Account> {
        let id = account_id(id)?;
        check_text("the first name", &change.first_name)?;
        check_text("the last name", &change.last_name)?;
        check_text("the display name", &change.display_name)?;
        check_text("the email", &change.email)?;
        let mut patch = attributes(&change.attributes)?;
        if let Some(f) = &change.first_name {
            patch.insert("first_name".into(), f.clone().into());
        }
        if let Some(l) = &change.last_name {
            patch.insert("last_name".into(), l.clone().into());
        }
        if let (Some(d), None, None) = (&change.display_name, &change.first_name, &change.last_name)
        {
            // `name` is computed from first and last name.
            let (f, l) = d.split_once(' ').unwrap_or(("", d));
            patch.insert("first_name".into(), f.into());
            patch.insert("last_name".into(), l.into());
        }
        if let Some(e) = &change.email {
            patch.insert("email".into(), e.clone().into());
        }
        if patch.is_empty() {
            return self
                .get_account(&AccountId::new(id))
                .await?
                .ok_or_else(|| Error::not_found(format!("ServiceNow user {id}")));
        }
        let user = self.client.users().update_idempotent(id, &patch).await?;
        Ok(account_of(&user))
    }

    /// `active`, and `locked_out` on disable (so open sessions end too); enabling
    /// clears `locked_out`.
    async fn set_enabled(&self, id: &AccountId, enabled: bool) -> Result<()> {
        let id = account_id(id)?;
        let patch = match json!({ "active": enabled.to_string(), "locked_out": (!enabled).to_string() })
        {
            Value::Object(m) => m,
            _ => Map::new(),
        };
        let user = self.client.users().update_idempotent(id, &patch).await?;
        if user.active != Some(enabled) {
            return Err(Error::Conflict {
                message: format!(
                    "ServiceNow kept user {id} active={:?} after the change was accepted: a business rule refused it",
                    user.active
                ),
            });
        }
        Ok(())
    }

    /// Deleting a user that is already gone is not an error.
    async fn delete_account(&self, id: &AccountId) -> Result<()> {
        let id = account_id(id)?;
        self.client.users().delete(id).await
    }

    async fn grant(&self, id: &AccountId, e: &EntitlementRef) -> Result<GrantOutcome> {
        let user = account_id(id)?;
        let (kind, eid) = target(e)?;
        self.grant_with_lookup(kind, user, eid).await
    }

    /// Deletes every direct row that grants it (there may be duplicates). A role still
    /// held through a group (`inherited = true`) cannot be revoked on the user: that is a
    /// `Conflict` naming the group to remove the user from (after removing any direct
    /// rows). Role rows waiting for approval are not grants and are left alone.
    async fn revoke(&self, id: &AccountId, e: &EntitlementRef) -> Result<RevokeOutcome> {
        let user = account_id(id)?;
        let (kind, eid) = target(e)?;
        let rows = self.grant_rows(kind, user, eid).await?;
        if rows.is_empty() {
            return Ok(RevokeOutcome::AlreadyAbsent);
        }
        let (inherited, direct): (Vec<_>, Vec<_>) = rows.into_iter().partition(|r| r.inherited);
        if direct.is_empty() {
            let groups: Vec<String> = inherited.iter().filter_map(|r| r.from.clone()).collect();
            return Err(Error::Conflict {
                message: format!(
                    "role {eid} is inherited by user {user} through group(s) [{}]; remove the user from the group instead",
                    groups.join(", ")
                ),
            });
        }
        let table = self.grant_table(kind);
        for row in &direct {
            self.client
                .table::<serde_json::Value>(table.clone())
                .delete(&row.sys_id)
                .await?;
        }
        if !inherited.is_empty() {
            // The user still holds the role: `Revoked` would tell an access review it is
            // gone. The direct rows are removed, so a repeat lands here again, not on a
            // different answer.
            let groups: Vec<String> = inherited.iter().filter_map(|r| r.from.clone()).collect();
            return Err(Error::Conflict {
                message: format!(
                    "the direct grant of role {eid} to user {user} was removed, but the user still inherits it through group(s) [{}]; remove the user from the group to revoke it",
                    groups.join(", ")
                ),
            });
        }
        Ok(RevokeOutcome::Revoked)
    }

    /// `sys_dictionary` of `sys_user`, with `sys_choice` values.
    async fn account_schema(&self) -> Result<accesslink_core::schema::ObjectSchema> {
        self.dictionary("sys_user", &[]).await
    }

    /// `PATCH sys_user/{id}?sysparm_input_display_value=true` with `user_password`.
    async fn set_password(
        &self,
        id: &AccountId,
        password: &accesslink_core::Password,
    ) -> Result<()> {
        self.put_password(id, password).await
    }
}

/// What one `sys_user` insert answered, for [`ServiceNowConnector::create_account`].
enum UserInsert {
    /// A stored row (from the answer, or found by the look-up).
    Row(Box<User>),
    /// 201 without a row.
    Empty,
    /// A conflict, and whether an earlier send of this insert may have landed.
    Conflict(Error, bool),
}
