//! `roles` (fact sheet §1.8) and `userGroups` with their members (§1.9).

use accesslink_core::Result;
use serde_json::{Value, json};

use super::{SearchParams, check_id, not_found_as_none, search_query};
use crate::client::OpsRampClient;
use crate::models::{NamedBody, Role, SearchPage, User, UserGroup};
use crate::requests::{GroupBody, RoleUpdate};

/// Roles of the client's tenant.
#[derive(Debug, Clone, Copy)]
pub struct Roles<'c> {
    client: &'c OpsRampClient,
}

impl<'c> Roles<'c> {
    pub(crate) fn new(client: &'c OpsRampClient) -> Self {
        Roles { client }
    }

    /// One page of `roles/search` (no `queryString` on this endpoint).
    pub async fn search_page(&self, params: &SearchParams) -> Result<SearchPage<Role>> {
        let c = self.client;
        let req = search_query(c.http().get(&c.path("roles/search"))?, params)?;
        c.send_json(req).await
    }

    /// `GET roles/{id}`.
    pub async fn get(&self, id: &str) -> Result<Role> {
        check_id("role", id)?;
        let c = self.client;
        c.send_json(c.http().get(&c.path(&format!("roles/{id}")))?)
            .await
    }

    /// `GET roles/{id}`; `None` for a 404.
    pub async fn get_opt(&self, id: &str) -> Result<Option<Role>> {
        not_found_as_none(self.get(id).await)
    }

    /// `POST roles`.
    pub async fn create(&self, body: &NamedBody) -> Result<Role> {
        let c = self.client;
        c.send_json(c.http().post(&c.path("roles"))?.json(body)?)
            .await
    }

    /// `POST roles/{id}` with any fields (`users`, `userGroups`, `permissions`,
    /// `clients`, `allClients`, …). Whether lists replace or merge is undocumented.
    pub async fn update(&self, id: &str, body: &Value) -> Result<Role> {
        check_id("role", id)?;
        let c = self.client;
        let req = c.http().post(&c.path(&format!("roles/{id}")))?.json(body)?;
        c.send_json(req).await
    }

    /// `POST roles/{id}` with a typed body: seed 001's AddAccessJSON is
    /// `RoleUpdate::of(id).all_clients(true).user(RoleUser::new(user)…)`. Sending the
    /// same users again leaves the same role, so it is retried like a PUT.
    pub async fn update_with(&self, id: &str, body: &RoleUpdate) -> Result<Role> {
        check_id("role", id)?;
        for u in body.users.iter().flatten() {
            check_id("user", &u.id)?;
        }
        let c = self.client;
        let req = c
            .http()
            .post(&c.path(&format!("roles/{id}")))?
            .json(body)?
            .retry_safe(true);
        c.send_json(req).await
    }

    /// `DELETE roles/{id}`.
    pub async fn delete(&self, id: &str) -> Result<()> {
        check_id("role", id)?;
        let c = self.client;
        c.send(c.http().delete(&c.path(&format!("roles/{id}")))?)
            .await
            .map(drop)
    }
}

/// User groups of the client's tenant.
#[derive(Debug, Clone, Copy)]
pub struct UserGroups<'c> {
    client: &'c OpsRampClient,
}

impl<'c> UserGroups<'c> {
    pub(crate) fn new(client: &'c OpsRampClient) -> Self {
        UserGroups { client }
    }

    /// One page of `userGroups` (minimal groups: no roles, no members).
    pub async fn list_page(&self, params: &SearchParams) -> Result<SearchPage<UserGroup>> {
        let c = self.client;
        let req = search_query(c.http().get(&c.path("userGroups"))?, params)?;
        c.send_json(req).await
    }

    /// `GET userGroups/{id}` (with its roles).
    pub async fn get(&self, id: &str) -> Result<UserGroup> {
        check_id("user group", id)?;
        let c = self.client;
        c.send_json(c.http().get(&c.path(&format!("userGroups/{id}")))?)
            .await
    }

    /// `GET userGroups/{id}`; `None` for a 404.
    pub async fn get_opt(&self, id: &str) -> Result<Option<UserGroup>> {
        not_found_as_none(self.get(id).await)
    }

    /// `POST userGroups` (`name`, `description`, `email`, `roles:[{"uniqueId"}]`).
    pub async fn create(&self, body: &NamedBody) -> Result<UserGroup> {
        let c = self.client;
        c.send_json(c.http().post(&c.path("userGroups"))?.json(body)?)
            .await
    }

    /// `POST userGroups/{id}`.
    pub async fn update(&self, id: &str, body: &NamedBody) -> Result<UserGroup> {
        check_id("user group", id)?;
        let c = self.client;
        let req = c
            .http()
            .post(&c.path(&format!("userGroups/{id}")))?
            .json(body)?
            .retry_safe(true);
        c.send_json(req).await
    }

    /// `POST userGroups` with a typed body (`roles` as `[{"uniqueId"}]`).
    pub async fn create_group(&self, body: &GroupBody) -> Result<UserGroup> {
        let c = self.client;
        c.send_json(c.http().post(&c.path("userGroups"))?.json(body)?)
            .await
    }

    /// `POST userGroups/{id}` with a typed body; send the complete `roles` list (replace
    /// or merge is UNVERIFIED, fact sheet §1.9).
    pub async fn update_group(&self, id: &str, body: &GroupBody) -> Result<UserGroup> {
        check_id("user group", id)?;
        let c = self.client;
        let req = c
            .http()
            .post(&c.path(&format!("userGroups/{id}")))?
            .json(body)?
            .retry_safe(true);
        c.send_json(req).await
    }

    /// `DELETE userGroups/{id}`.
    pub async fn delete(&self, id: &str) -> Result<()> {
        check_id("user group", id)?;
        let c = self.client;
        c.send(c.http().delete(&c.path(&format!("userGroups/{id}")))?)
            .await
            .map(drop)
    }

    /// One page of a group's members.
    pub async fn members_page(&self, id: &str, params: &SearchParams) -> Result<SearchPage<User>> {
        check_id("user group", id)?;
        let c = self.client;
        let req = search_query(
            c.http().get(&c.path(&format!("userGroups/{id}/users")))?,
            params,
        )?;
        c.send_json(req).await
    }

    /// `POST userGroups/{id}/users` with `[{"id":"USR…"}, …]`. Adding a member again
    /// changes nothing, so the request is repeatable.
    pub async fn add_members(&self, id: &str, users: &[&str]) -> Result<()> {
        self.members(http::Method::POST, id, users).await
    }

    /// `DELETE userGroups/{id}/users` with the same array IN THE BODY of the DELETE.
    pub async fn remove_members(&self, id: &str, users: &[&str]) -> Result<()> {
        self.members(http::Method::DELETE, id, users).await
    }

    async fn members(&self, method: http::Method, id: &str, users: &[&str]) -> Result<()> {
        check_id("user group", id)?;
        for u in users {
            check_id("user", u)?;
        }
        let body: Vec<Value> = users.iter().map(|u| json!({ "id": u })).collect();
        let c = self.client;
        let req = c
            .http()
            .request(method, &c.path(&format!("userGroups/{id}/users")))?
            .json(&body)?
            .retry_safe(true);
        c.send(req).await.map(drop)
    }
}
