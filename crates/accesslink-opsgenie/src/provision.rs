//! The `Provisioner` implementation: users, team memberships and global roles.
//!
//! Entitlement types: `team` (id: the team id; held through team membership, read from
//! the team detail) and `role` (id: the role name, `Admin` or a custom role; every user
//! holds exactly one, so a revoke sets the configured default role back).

use accesslink_core::write::{Attempt, write_with_lookup};
use accesslink_core::{
    Account, AccountChange, AccountId, AccountSpec, CreateOutcome, Entitlement, EntitlementRef,
    EntitlementType, Error, ErrorKind, Grant, GrantOutcome, Page, PageRequest, PageToken,
    Provisioner, Result, RevokeOutcome, async_trait,
};
use serde_json::{Value, json};

use crate::accounts::{new_user, user_update};
use crate::api::Identifier;
use crate::connector::OpsGenieConnector;
use crate::models::{MemberUser, TeamMember, User, UserUpdate};
use crate::paging;
use crate::refs::{check_role, check_team, check_user, token, untoken};

/// What an entitlement reference names, checked.
enum Target<'a> {
    Team(&'a str),
    Role(&'a str),
}

fn target(e: &EntitlementRef) -> Result<Target<'_>> {
    match e.ty.as_str() {
        "team" => check_team(e.id.as_str()).map(Target::Team),
        "role" => check_role(e.id.as_str()).map(Target::Role),
        other => Err(unknown_type(other)),
    }
}

fn unknown_type(ty: &str) -> Error {
    Error::invalid_input(format!(
        "OpsGenie entitlement types are `team` and `role`, not {:?}",
        accesslink_core::redact::truncate(ty, 40)
    ))
}

/// A team member body for an account id: a username when it looks like one.
fn member_user(account: &str) -> MemberUser {
    if account.contains('@') {
        MemberUser::username(account)
    } else {
        MemberUser::id(account)
    }
}

impl OpsGenieConnector {
    fn page_size(&self, page: &PageRequest) -> u32 {
        page.size_or(self.config.page_size)
            .min(crate::api::MAX_USERS_PER_PAGE)
    }

    /// One page of users at the cursor a token of `scope` carries (see [`crate::paging`]).
    async fn users_at(
        &self,
        scope: &str,
        page: &PageRequest,
    ) -> Result<(Vec<User>, Option<PageToken>, Option<u64>)> {
        let cursor = paging::decode(scope, page.token.as_ref())?;
        let found = paging::users_after(self.client.users(), cursor, self.page_size(page)).await?;
        let next = found.next.map(|c| paging::encode(scope, &c));
        Ok((found.users, next, found.total))
    }

    /// The canonical name of a role: a configured built-in (any case) or a custom role,
    /// by name or — as seed 002 imports roles by `role.id` — by its id.
    async fn role_name(&self, name: &str) -> Result<String> {
        if let Some(b) = self
            .config
            .built_in_roles
            .iter()
            .find(|b| b.eq_ignore_ascii_case(name))
        {
            return Ok(b.clone());
        }
        let roles = self.client.roles();
        if let Some(r) = roles.get_opt(&Identifier::name(name)).await? {
            return Ok(r.name);
        }
        let id_like = name.len() >= 32 && name.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-');
        if id_like {
            if let Some(r) = roles.get_opt(&Identifier::id(name)).await? {
                return Ok(r.name);
            }
        }
        Err(Error::not_found(format!("OpsGenie role {name:?}")))
    }

    async fn user_required(&self, id: &str) -> Result<User> {
        self.client.users().get(id).await
    }

    async fn is_member(&self, team: &Identifier, account: &str) -> Result<bool> {
        let t = self.client.teams().get(team).await?;
        Ok(t.members.iter().any(|m| m.user.is(account)))
    }
}

#[async_trait]
impl Provisioner for OpsGenieConnector {
    fn entitlement_types(&self) -> &[EntitlementType] {
        self.types()
    }

    /// Offset paging over `GET /v2/users` with the total; the token is
    /// `og1:users:<offset>:<last user id>`, which keeps an import exact while users are
    /// deleted (see `paging`).
    /// The user fields of `GET /v2/users/{id}` and its create body, declared from the
    /// vendor's docs (OpsGenie does not describe its user object). `set_password` stays
    /// `Unsupported`: OpsGenie users sign in through Atlassian accounts or SSO, and the
    /// API has no password call.
    async fn account_schema(&self) -> Result<accesslink_core::ObjectSchema> {
        Ok(crate::accounts::account_schema())
    }

    async fn list_accounts(&self, page: PageRequest) -> Result<Page<Account>> {
        let (users, next, total) = self.users_at("users", &page).await?;
        let accounts = users.iter().map(Self::account_of).collect();
        Ok(Page::new(accounts, next).with_total(total))
    }

    async fn get_account(&self, id: &AccountId) -> Result<Option<Account>> {
        let id = check_user(id.as_str())?;
        Ok(self
            .client
            .users()
            .get_opt(id)
            .await?
            .map(|u| Self::account_of(&u)))
    }

    /// Teams (one page: `GET /v2/teams` is not paged) or roles (the configured built-ins
    /// and the custom roles, one page).
    async fn list_entitlements(
        &self,
        ty: &EntitlementType,
        page: PageRequest,
    ) -> Result<Page<Entitlement>> {
        let scope = match ty.as_str() {
            "team" | "role" => ty.as_str(),
            other => return Err(unknown_type(other)),
        };
        if untoken(scope, page.token.as_ref())?.is_some() {
            return Err(Error::invalid_input(format!(
                "OpsGenie {scope}s come in one page: there is no next page"
            )));
        }
        let items: Vec<Entitlement> = if scope == "team" {
            let teams = self.client.teams().list().await?;
            teams
                .into_iter()
                .map(|t| {
                    let mut e =
                        Entitlement::new(Self::team_entitlement(t.id.clone()), t.name.clone());
                    e.description = t.description.clone().filter(|d| !d.is_empty());
                    if let Ok(Value::Object(m)) = serde_json::to_value(&t) {
                        e.attributes = m;
                        e.attributes.remove("members");
                    }
                    e
                })
                .collect()
        } else {
            let mut items: Vec<Entitlement> = self
                .config
                .built_in_roles
                .iter()
                .map(|r| {
                    let mut e = Entitlement::new(Self::role_entitlement(r.clone()), r.clone());
                    e.attributes.insert("builtIn".into(), json!(true));
                    e
                })
                .collect();
            for r in self.client.roles().list().await? {
                let mut e =
                    Entitlement::new(Self::role_entitlement(r.name.clone()), r.name.clone());
                e.description = r
                    .extended_role
                    .as_ref()
                    .map(|x| format!("custom role extending {x}"));
                if let Ok(Value::Object(m)) = serde_json::to_value(&r) {
                    e.attributes = m;
                }
                e.attributes.insert("builtIn".into(), json!(false));
                items.push(e);
            }
            items
        };
        let total = items.len() as u64;
        Ok(Page::new(items, None).with_total(Some(total)))
    }

    /// Team grants: the members of each team (team detail), teams in id order, several
    /// teams per page until the page size is reached; the token carries the last team
    /// id, so teams added or removed meanwhile do not shift the listing. Role grants:
    /// each user's role, paged like accounts (`og1:roles:<offset>`).
    async fn list_grants(&self, ty: &EntitlementType, page: PageRequest) -> Result<Page<Grant>> {
        match ty.as_str() {
            "team" => {
                let after = untoken("teams", page.token.as_ref())?;
                let size = page.size_or(self.config.page_size) as usize;
                let after = after.map(str::to_owned);
                let mut ids: Vec<String> = self
                    .client
                    .teams()
                    .list()
                    .await?
                    .into_iter()
                    .map(|t| t.id)
                    .filter(|id| after.as_ref().is_none_or(|a| id > a))
                    .collect();
                ids.sort_unstable();
                let mut items = Vec::new();
                let mut last = None;
                let mut rest = ids.into_iter().peekable();
                for id in rest.by_ref() {
                    // A team deleted since the listing has no members to report.
                    let team = self
                        .client
                        .teams()
                        .get_opt(&Identifier::id(id.clone()))
                        .await?;
                    if let Some(t) = team {
                        let e = Self::team_entitlement(t.id.clone());
                        items.extend(
                            t.members.iter().filter_map(|m| {
                                m.user.id.clone().map(|u| Grant::new(u, e.clone()))
                            }),
                        );
                    }
                    last = Some(id);
                    if items.len() >= size {
                        break;
                    }
                }
                let next = match (rest.peek(), last) {
                    (Some(_), Some(l)) => Some(token("teams", l)),
                    _ => None,
                };
                Ok(Page::new(items, next))
            }
            "role" => {
                let (users, next, total) = self.users_at("roles", &page).await?;
                let items = users
                    .iter()
                    .filter_map(|u| {
                        u.role_name()
                            .map(|r| Grant::new(u.id.clone(), Self::role_entitlement(r)))
                    })
                    .collect();
                Ok(Page::new(items, next).with_total(total))
            }
            other => Err(unknown_type(other)),
        }
    }

    /// `POST /v2/users` with the new id taken from the answer, then read back. A login
    /// that exists is `AlreadyExists`. A create whose answer is lost or refused with a
    /// 429 or 5xx is looked up before it is sent again, so no twin is made (OpsGenie also
    /// refuses a second user with the same username).
    async fn create_account(&self, spec: &AccountSpec) -> Result<CreateOutcome> {
        let body = new_user(
            spec,
            &self.config.default_role,
            self.config.invitation_disabled,
        )?;
        let users = self.client.users();
        if let Some(u) = users.get_opt(&body.username).await? {
            return Ok(CreateOutcome::AlreadyExists(Self::account_of(&u)));
        }
        let users = &users;
        let body = &body;
        let written = write_with_lookup(
            self.client.retry_config(),
            "create OpsGenie user",
            |attempt: Attempt| async move {
                match users.create(body).await {
                    Ok(created) => Ok(CreateOutcome::Created(match users.get(&created.id).await {
                        Ok(user) => Self::account_of(&user),
                        // The user exists: report it with what the create answered rather
                        // than fail a create that happened.
                        Err(e) => {
                            tracing::warn!(error = %e, id = %created.id, "reading the new OpsGenie user back failed");
                            let mut a = Account::new(created.id, body.username.clone());
                            a.display_name = Some(body.full_name.clone());
                            a.email = Some(body.username.clone());
                            a
                        }
                    })),
                    // Taken: by an earlier POST of this call whose answer was lost (the
                    // username was free before the first one), else by someone else in
                    // between.
                    Err(e) if e.kind() == ErrorKind::Conflict => {
                        match users.get_opt(&body.username).await? {
                            Some(u) if attempt.maybe_sent => {
                                Ok(CreateOutcome::Created(Self::account_of(&u)))
                            }
                            Some(u) => Ok(CreateOutcome::AlreadyExists(Self::account_of(&u))),
                            None => Err(e),
                        }
                    }
                    Err(e) => Err(e),
                }
            },
            // The answer was lost or throttled: the user may exist. It did not before the
            // first attempt, so if it does now, this create made it.
            || async {
                Ok(users
                    .get_opt(&body.username)
                    .await?
                    .map(|u| CreateOutcome::Created(Self::account_of(&u))))
            },
        )
        .await?;
        Ok(written.into_inner())
    }

    /// `PATCH /v2/users/{id}`; `email` renames the user (the username is the address).
    async fn update_account(&self, id: &AccountId, change: &AccountChange) -> Result<Account> {
        let id = check_user(id.as_str())?;
        let patch = user_update(change)?;
        if !patch.is_empty() {
            self.client.users().update(id, &patch).await?;
        }
        // Read back by id once renamed: the old username no longer names the user.
        let lookup = patch
            .username
            .as_deref()
            .filter(|_| id.contains('@'))
            .unwrap_or(id);
        Ok(Self::account_of(&self.user_required(lookup).await?))
    }

    /// OpsGenie has no enable/disable API (`blocked` is set by OpsGenie itself):
    /// remove access with [`delete_account`](Provisioner::delete_account) or by revoking
    /// team memberships.
    async fn set_enabled(&self, _id: &AccountId, _enabled: bool) -> Result<()> {
        Err(Error::Unsupported {
            operation: "set_enabled",
            target: "opsgenie",
        })
    }

    /// `DELETE /v2/users/{id}`; a user that does not exist is already deleted.
    async fn delete_account(&self, id: &AccountId) -> Result<()> {
        let id = check_user(id.as_str())?;
        match self.client.users().delete(id).await {
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
            other => other,
        }
    }

    async fn grant(&self, id: &AccountId, e: &EntitlementRef) -> Result<GrantOutcome> {
        let account = check_user(id.as_str())?;
        match target(e)? {
            Target::Team(team) => {
                let team = Identifier::id(team);
                if self.is_member(&team, account).await? {
                    return Ok(GrantOutcome::AlreadyGranted);
                }
                let member = TeamMember::new(member_user(account), self.config.member_role.clone());
                let (team, member) = (&team, &member);
                let written = write_with_lookup(
                    self.client.retry_config(),
                    "add OpsGenie team member",
                    |attempt: Attempt| async move {
                        match self.client.teams().add_member(team, member).await {
                            Ok(()) => Ok(GrantOutcome::Granted),
                            // Refused as a duplicate: added by an earlier POST of this
                            // call, or by someone else since the check.
                            Err(err) if err.kind() == ErrorKind::Conflict => {
                                if !self.is_member(team, account).await? {
                                    return Err(err);
                                }
                                Ok(if attempt.maybe_sent {
                                    GrantOutcome::Granted
                                } else {
                                    GrantOutcome::AlreadyGranted
                                })
                            }
                            Err(err) => Err(err),
                        }
                    },
                    // Look before sending again: the lost add may have landed.
                    || async {
                        Ok(self
                            .is_member(team, account)
                            .await?
                            .then_some(GrantOutcome::Granted))
                    },
                )
                .await?;
                Ok(written.into_inner())
            }
            Target::Role(role) => {
                let role = self.role_name(role).await?;
                let user = self.user_required(account).await?;
                if user
                    .role_name()
                    .is_some_and(|r| r.eq_ignore_ascii_case(&role))
                {
                    return Ok(GrantOutcome::AlreadyGranted);
                }
                self.client
                    .users()
                    .update(&user.id, &UserUpdate::new().role(role))
                    .await?;
                Ok(GrantOutcome::Granted)
            }
        }
    }

    /// A team membership is removed; a role is replaced by the configured default role
    /// (revoking the default role itself is refused: every user holds one role).
    async fn revoke(&self, id: &AccountId, e: &EntitlementRef) -> Result<RevokeOutcome> {
        let account = check_user(id.as_str())?;
        match target(e)? {
            Target::Team(team) => {
                let team = Identifier::id(team);
                if !self.is_member(&team, account).await? {
                    return Ok(RevokeOutcome::AlreadyAbsent);
                }
                match self.client.teams().remove_member(&team, account).await {
                    Ok(()) => Ok(RevokeOutcome::Revoked),
                    // The DELETE was repeated after a lost answer or a 5xx: the earlier
                    // attempt removed the member the check saw.
                    Err(err)
                        if err.kind() == ErrorKind::NotFound
                            && err.as_api().is_some_and(|a| a.attempts > 1) =>
                    {
                        Ok(RevokeOutcome::Revoked)
                    }
                    // Removed by someone else in between.
                    Err(err) if err.kind() == ErrorKind::NotFound => {
                        Ok(RevokeOutcome::AlreadyAbsent)
                    }
                    Err(err) => Err(err),
                }
            }
            Target::Role(role) => {
                let role = self.role_name(role).await?;
                let user = self.user_required(account).await?;
                if !user
                    .role_name()
                    .is_some_and(|r| r.eq_ignore_ascii_case(&role))
                {
                    return Ok(RevokeOutcome::AlreadyAbsent);
                }
                let default = &self.config.default_role;
                if role.eq_ignore_ascii_case(default) {
                    return Err(Error::invalid_input(format!(
                        "{role} is the default role, which a revoke would set again: grant another role instead"
                    )));
                }
                self.client
                    .users()
                    .update(&user.id, &UserUpdate::new().role(default.clone()))
                    .await?;
                Ok(RevokeOutcome::Revoked)
            }
        }
    }
}
