//! The `Provisioner` implementation: users, groups and profiles per entity.
//!
//! Entitlement types: `group` (id: the group id; granted through `Group_User`) and
//! `profile` (id: `<profile id>@<entity id>`, such as `6@0` for Technician in the root
//! entity; granted through `Profile_User`).

use accesslink_core::write::write_with_lookup;
use accesslink_core::{
    Account, AccountChange, AccountId, AccountSpec, CreateOutcome, Entitlement, EntitlementRef,
    EntitlementType, Error, ErrorKind, Grant, GrantOutcome, Page, PageRequest, Provisioner, Result,
    RevokeOutcome, async_trait,
};
use serde_json::{Map, Value, json};

use crate::accounts::{
    ACCOUNT_COLUMNS, Target, account_id, check_attributes, check_email, check_text, default_email,
    group_ref, profile_ref, target, unknown_type,
};
use crate::connector::{GlpiConnector, valid_login};
use crate::models::{ProfileUser, decode_text};
use crate::paging::{self, Cursor, seek};
use crate::settings::DeleteMode;

#[async_trait]
impl Provisioner for GlpiConnector {
    fn entitlement_types(&self) -> &[EntitlementType] {
        &self.types
    }

    async fn list_accounts(&self, page: PageRequest) -> Result<Page<Account>> {
        let cursor = paging::decode("User", page.token.as_ref())?;
        let size = self.page_size(&page);
        // One partition's id range (crate::partition), or every id.
        let (floor, below) = crate::partition::id_bounds(page.key_range())?;
        let after = cursor.map_or(0, |c| c.last).max(floor);
        let users = self.client.users();
        let found = paging::search_after(users, after, below, size, &ACCOUNT_COLUMNS).await?;
        let mut accounts = Vec::with_capacity(found.rows.len());
        for row in &found.rows {
            accounts.push(self.account_of_row(row).await?);
        }
        // `total` counts the rows after the cursor, so it is the listing's total only
        // on the first page.
        let more = (found.rows.len() as u64) < found.total;
        let next = match accounts.last() {
            Some(a) if more => Some(paging::encode(
                "User",
                Cursor {
                    last: account_id(&a.id)?,
                    pos: 0,
                },
            )),
            _ => None,
        };
        Ok(Page::new(accounts, next).with_total(cursor.is_none().then_some(found.total)))
    }

    async fn get_account(&self, id: &AccountId) -> Result<Option<Account>> {
        let uid = account_id(id)?;
        Ok(self
            .live_user(uid)
            .await?
            .map(|(user, emails)| self.account_of(&user, &emails)))
    }

    async fn list_entitlements(
        &self,
        ty: &EntitlementType,
        page: PageRequest,
    ) -> Result<Page<Entitlement>> {
        let size = self.page_size(&page);
        match ty.as_str() {
            "group" => {
                let cursor = paging::decode("Group", page.token.as_ref())?;
                let found = seek(self.client.groups(), cursor, size).await?;
                let items = found
                    .items
                    .into_iter()
                    .map(|g| {
                        let name = decode_text(g.completename.as_deref().unwrap_or(&g.name));
                        let mut e = Entitlement::new(group_ref(g.id), name);
                        e.description = g
                            .comment
                            .as_deref()
                            .map(decode_text)
                            .filter(|c| !c.is_empty());
                        if let Ok(Value::Object(m)) = serde_json::to_value(&g) {
                            e.attributes = m;
                            e.attributes.remove("links");
                        }
                        e
                    })
                    .collect();
                Ok(
                    Page::new(items, found.next.map(|c| paging::encode("Group", c)))
                        .with_total(found.total),
                )
            }
            "profile" => {
                let cursor = paging::decode("Profile", page.token.as_ref())?;
                let found = seek(self.client.profiles(), cursor, size).await?;
                let mut entities = Vec::new();
                let mut at = None;
                loop {
                    let batch = seek(self.client.entities(), at, 1000).await?;
                    entities.extend(batch.items);
                    match batch.next {
                        Some(c) => at = Some(c),
                        None => break,
                    }
                }
                let mut items = Vec::with_capacity(found.items.len() * entities.len());
                for p in &found.items {
                    for en in &entities {
                        let entity = decode_text(en.completename.as_deref().unwrap_or(&en.name));
                        let mut e = Entitlement::new(
                            profile_ref(p.id, en.id),
                            format!("{} @ {entity}", decode_text(&p.name)),
                        );
                        e.description = p
                            .comment
                            .as_deref()
                            .map(decode_text)
                            .filter(|c| !c.is_empty());
                        e.attributes = Map::from_iter([
                            ("profiles_id".to_owned(), json!(p.id)),
                            ("entities_id".to_owned(), json!(en.id)),
                            ("interface".to_owned(), json!(p.interface)),
                        ]);
                        items.push(e);
                    }
                }
                let total = found.total.map(|t| t * entities.len() as u64);
                Ok(
                    Page::new(items, found.next.map(|c| paging::encode("Profile", c)))
                        .with_total(total),
                )
            }
            other => Err(unknown_type(other)),
        }
    }

    async fn list_grants(&self, ty: &EntitlementType, page: PageRequest) -> Result<Page<Grant>> {
        let size = self.page_size(&page);
        match ty.as_str() {
            "group" => {
                let cursor = paging::decode("Group_User", page.token.as_ref())?;
                let found = seek(self.client.group_users(), cursor, size).await?;
                let items = found
                    .items
                    .iter()
                    .map(|l| Grant::new(l.users_id.to_string(), group_ref(l.groups_id)))
                    .collect();
                Ok(
                    Page::new(items, found.next.map(|c| paging::encode("Group_User", c)))
                        .with_total(found.total),
                )
            }
            "profile" => {
                let cursor = paging::decode("Profile_User", page.token.as_ref())?;
                let found = seek(self.client.profile_users(), cursor, size).await?;
                let items = found
                    .items
                    .iter()
                    .map(|l| {
                        Grant::new(
                            l.users_id.to_string(),
                            profile_ref(l.profiles_id, l.entities_id),
                        )
                    })
                    .collect();
                Ok(
                    Page::new(items, found.next.map(|c| paging::encode("Profile_User", c)))
                        .with_total(found.total),
                )
            }
            other => Err(unknown_type(other)),
        }
    }

    async fn create_account(&self, spec: &AccountSpec) -> Result<CreateOutcome> {
        // Everything is checked before the first request.
        if !valid_login(&spec.login) {
            return Err(Error::invalid_input(
                "a GLPI login is 1-255 characters without control characters or surrounding spaces",
            ));
        }
        check_text("the first name", &spec.first_name)?;
        check_text("the last name", &spec.last_name)?;
        check_text("the display name", &spec.display_name)?;
        check_email(&spec.email)?;
        check_attributes(&spec.attributes)?;
        let mut input = crate::models::NewUser {
            name: spec.login.clone(),
            firstname: spec.first_name.clone(),
            realname: spec.last_name.clone().or_else(|| {
                spec.first_name
                    .is_none()
                    .then(|| spec.display_name.clone())
                    .flatten()
            }),
            is_active: u8::from(spec.enabled),
            entities_id: self.settings.entity,
            ..Default::default()
        };
        if let Some(email) = &spec.email {
            input.emails = vec![email.clone()];
            input.default_email = Some(0);
        }
        input.other = spec.attributes.clone();
        if let Some(password) = &spec.password {
            // GLPI sets a password on add only with both fields (REST.md).
            let clear = secrecy::ExposeSecret::expose_secret(password.secret()).to_owned();
            input.other.insert("password".into(), clear.clone().into());
            input.other.insert("password2".into(), clear.into());
        }

        if let Some(existing) = self.existing_login(&spec.login).await? {
            return Ok(CreateOutcome::AlreadyExists(existing));
        }
        // A lost answer: the user may exist. It did not before the first attempt, so if
        // it does now, this create made it (`Found` → `Created`).
        let input = &input;
        let login = spec.login.as_str();
        let written = write_with_lookup(
            self.client.retry_config(),
            "glpi create user",
            |attempt| async move {
                match self.client.users().create(input).await {
                    Ok(id) => {
                        let (user, emails) = self.live_user_required(id).await?;
                        Ok(CreateOutcome::Created(self.account_of(&user, &emails)))
                    }
                    // "The user already exists": created by someone else in between, or
                    // by an earlier attempt of ours whose answer was lost.
                    Err(e) if e.kind() == ErrorKind::Conflict => {
                        match self.existing_login(login).await? {
                            Some(a) if attempt.maybe_sent => Ok(CreateOutcome::Created(a)),
                            Some(a) => Ok(CreateOutcome::AlreadyExists(a)),
                            None => Err(e),
                        }
                    }
                    Err(e) => Err(e),
                }
            },
            || async move {
                Ok(self
                    .existing_login(login)
                    .await?
                    .map(CreateOutcome::Created))
            },
        )
        .await?;
        Ok(written.into_inner())
    }

    async fn update_account(&self, id: &AccountId, change: &AccountChange) -> Result<Account> {
        let uid = account_id(id)?;
        check_text("the first name", &change.first_name)?;
        check_text("the last name", &change.last_name)?;
        check_text("the display name", &change.display_name)?;
        check_email(&change.email)?;
        check_attributes(&change.attributes)?;
        let (_, emails) = self.live_user_required(uid).await?;
        let mut input = change.attributes.clone();
        if let Some(f) = &change.first_name {
            input.insert("firstname".into(), f.clone().into());
        }
        match (&change.last_name, &change.display_name) {
            (Some(l), _) => {
                input.insert("realname".into(), l.clone().into());
            }
            (None, Some(d)) if change.first_name.is_none() => {
                input.insert("realname".into(), d.clone().into());
            }
            _ => {}
        }
        if !input.is_empty() {
            self.client.users().update(uid, &input).await?;
        }
        if let Some(email) = &change.email {
            match default_email(&emails) {
                Some(current) if current.email.eq_ignore_ascii_case(email) => {}
                Some(current) => {
                    self.client
                        .user_emails()
                        .update(current.id, &json!({ "email": email, "is_default": 1 }))
                        .await?;
                }
                None => {
                    let input = json!({ "users_id": uid, "email": email, "is_default": 1 });
                    self.client.user_emails().create(&input).await?;
                }
            }
        }
        let (user, emails) = self.live_user_required(uid).await?;
        Ok(self.account_of(&user, &emails))
    }

    async fn set_enabled(&self, id: &AccountId, enabled: bool) -> Result<()> {
        let uid = account_id(id)?;
        let (user, _) = self.live_user_required(uid).await?;
        if user.is_active.map(|v| v == 1) == Some(enabled) {
            return Ok(());
        }
        self.client
            .users()
            .update(uid, &json!({ "is_active": u8::from(enabled) }))
            .await
    }

    /// Moves the user to the trash, or purges it with [`DeleteMode::Purge`]. A user
    /// that does not exist is already deleted: not an error.
    async fn delete_account(&self, id: &AccountId) -> Result<()> {
        let uid = account_id(id)?;
        let purge = self.settings.delete == DeleteMode::Purge;
        match self.client.users().delete(uid, purge).await {
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
            other => other,
        }
    }

    async fn grant(&self, id: &AccountId, e: &EntitlementRef) -> Result<GrantOutcome> {
        let uid = account_id(id)?;
        match target(e)? {
            Target::Group(gid) => {
                if self
                    .group_links(uid)
                    .await?
                    .iter()
                    .any(|l| l.groups_id == gid)
                {
                    return Ok(GrantOutcome::AlreadyGranted);
                }
                // GLPI answers a missing group with "permission denied": say what it is.
                if self.client.groups().get_opt(gid).await?.is_none() {
                    return Err(Error::not_found(format!("GLPI group {gid}")));
                }
                let input = json!({ "users_id": uid, "groups_id": gid });
                self.grant_link("Group_User", input, || async move {
                    Ok(self
                        .group_links(uid)
                        .await?
                        .iter()
                        .any(|l| l.groups_id == gid))
                })
                .await
            }
            Target::Profile { profile, entity } => {
                let held = |links: &[ProfileUser]| {
                    links
                        .iter()
                        .any(|l| l.profiles_id == profile && l.entities_id == entity)
                };
                if held(&self.profile_links(uid).await?) {
                    return Ok(GrantOutcome::AlreadyGranted);
                }
                if self.client.profiles().get_opt(profile).await?.is_none() {
                    return Err(Error::not_found(format!("GLPI profile {profile}")));
                }
                if self.client.entities().get_opt(entity).await?.is_none() {
                    return Err(Error::not_found(format!("GLPI entity {entity}")));
                }
                let input = json!({
                    "users_id": uid,
                    "profiles_id": profile,
                    "entities_id": entity,
                    "is_recursive": u8::from(self.settings.profile_recursive),
                });
                // Profile_User has no uniqueness: the lookup is all that prevents twins.
                self.grant_link("Profile_User", input, || async move {
                    Ok(held(&self.profile_links(uid).await?))
                })
                .await
            }
        }
    }

    async fn revoke(&self, id: &AccountId, e: &EntitlementRef) -> Result<RevokeOutcome> {
        let uid = account_id(id)?;
        let removed = match target(e)? {
            Target::Group(gid) => {
                let ids: Vec<u64> = self
                    .group_links(uid)
                    .await?
                    .iter()
                    .filter(|l| l.groups_id == gid)
                    .map(|l| l.id)
                    .collect();
                self.purge_links("Group_User", &ids).await?
            }
            Target::Profile { profile, entity } => {
                // Every matching assignment goes, recursive or not, dynamic or not.
                let ids: Vec<u64> = self
                    .profile_links(uid)
                    .await?
                    .iter()
                    .filter(|l| l.profiles_id == profile && l.entities_id == entity)
                    .map(|l| l.id)
                    .collect();
                self.purge_links("Profile_User", &ids).await?
            }
        };
        Ok(if removed {
            RevokeOutcome::Revoked
        } else {
            RevokeOutcome::AlreadyAbsent
        })
    }

    /// `listSearchOptions/User`.
    async fn account_schema(&self) -> Result<accesslink_core::schema::ObjectSchema> {
        self.search_options("User").await
    }

    /// `PUT /User/<id>` with `password` and `password2`.
    async fn set_password(
        &self,
        id: &AccountId,
        password: &accesslink_core::Password,
    ) -> Result<()> {
        self.put_password(id, password).await
    }
}
