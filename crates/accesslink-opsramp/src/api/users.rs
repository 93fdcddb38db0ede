//! `users` (fact sheet §1.7).

use accesslink_core::Result;
use serde_json::Value;

use super::{SearchParams, check_id, not_found_as_none, search_query};
use crate::client::OpsRampClient;
use crate::models::{SearchPage, User, UserAction, UserBody};
use crate::requests::{DeactivateBody, TerminateBody};

/// Users of the client's tenant.
#[derive(Debug, Clone, Copy)]
pub struct Users<'c> {
    client: &'c OpsRampClient,
}

impl<'c> Users<'c> {
    pub(crate) fn new(client: &'c OpsRampClient) -> Self {
        Users { client }
    }

    /// One page of `users/search` (minimal users, with their roles and groups).
    pub async fn search_page(&self, params: &SearchParams) -> Result<SearchPage<User>> {
        let c = self.client;
        let req = search_query(c.http().get(&c.path("users/search"))?, params)?;
        c.send_json(req).await
    }

    /// One page of `users/search` as sent, for callers that must tell a missing field
    /// from an empty one.
    pub(crate) async fn search_page_raw(&self, params: &SearchParams) -> Result<SearchPage<Value>> {
        let c = self.client;
        let req = search_query(c.http().get(&c.path("users/search"))?, params)?;
        c.send_json(req).await
    }

    /// The live user with this login name (any case), through a `loginName` search.
    ///
    /// Whether OpsRamp matches the filter exactly or as a substring is not documented
    /// (fact sheet §1.7), so the hits are compared exactly and every page of them is
    /// read: with a substring match the user may be past the first page, and missing it
    /// would make a create of an existing login fail instead of `AlreadyExists`.
    ///
    /// A login with `+` (plus addressing) cannot go into the filter, where `+` separates
    /// filters and has no escape: it is looked up in `users/minimal` (every user in one
    /// answer) and, when found, read in full.
    pub async fn find_by_login(&self, login: &str) -> Result<Option<User>> {
        if login.contains('+') {
            let Some(hit) = self
                .minimal()
                .await?
                .into_iter()
                .find(|u| u.login_name.eq_ignore_ascii_case(login))
            else {
                return Ok(None);
            };
            check_id("user", &hit.id)?;
            // Gone since the listing: not there.
            return self.get_opt(&hit.id).await;
        }
        let mut params = SearchParams::page(1, 100).filter("loginName", login)?;
        loop {
            let page = self.search_page(&params).await?;
            let more = page.next_page && !page.results.is_empty();
            if let Some(u) = page
                .results
                .into_iter()
                .find(|u| u.login_name.eq_ignore_ascii_case(login))
            {
                return Ok(Some(u));
            }
            // A guard against a server that never stops saying "more".
            if !more || params.page_no >= 1_000 {
                return Ok(None);
            }
            params.page_no += 1;
        }
    }

    /// `GET users/{id}`.
    pub async fn get(&self, id: &str) -> Result<User> {
        check_id("user", id)?;
        let c = self.client;
        c.send_json(c.http().get(&c.path(&format!("users/{id}")))?)
            .await
    }

    /// `GET users/{id}`; `None` for a 404.
    pub async fn get_opt(&self, id: &str) -> Result<Option<User>> {
        not_found_as_none(self.get(id).await)
    }

    /// `POST users`. Not repeated after an ambiguous failure: the connector looks the
    /// login up before trying again.
    pub async fn create(&self, body: &UserBody) -> Result<User> {
        let c = self.client;
        let req = c.http().post(&c.path("users"))?.json(body)?;
        c.send_json(req).await
    }

    /// `POST users/{id}` (OpsRamp updates are POST; PUT is 405). Sending the same
    /// fields twice leaves the same user, so it is retried like a PUT.
    pub async fn update(&self, id: &str, body: &UserBody) -> Result<User> {
        check_id("user", id)?;
        let c = self.client;
        let req = c
            .http()
            .post(&c.path(&format!("users/{id}")))?
            .json(body)?
            .retry_safe(true);
        c.send_json(req).await
    }

    /// `POST users/{id}/{ACTIVATE|DEACTIVATE|TERMINATE}` with an optional body
    /// (`{"deactivateReason"}`, `{"terminateReason","maskType"}`). ACTIVATE and
    /// DEACTIVATE are repeatable; TERMINATE is sent once.
    pub async fn act(&self, id: &str, action: UserAction, body: Option<&Value>) -> Result<()> {
        check_id("user", id)?;
        let c = self.client;
        let mut req = c
            .http()
            .post(&c.path(&format!("users/{id}/{}", action.as_str())))?
            .retry_safe(action != UserAction::Terminate);
        if let Some(b) = body {
            req = req.json(b)?;
        }
        c.send(req).await.map(drop)
    }

    /// `POST users/{id}/ACTIVATE` (no body). Repeatable.
    pub async fn activate(&self, id: &str) -> Result<()> {
        self.act(id, UserAction::Activate, None).await
    }

    /// `POST users/{id}/DEACTIVATE` with `{"deactivateReason"}`. Repeatable.
    pub async fn deactivate(&self, id: &str, body: &DeactivateBody) -> Result<()> {
        let body =
            serde_json::to_value(body).map_err(|e| accesslink_core::Error::other(e.to_string()))?;
        self.act(id, UserAction::Deactivate, Some(&body)).await
    }

    /// `POST users/{id}/TERMINATE` with `{"terminateReason","maskType"}`. Final; sent once.
    pub async fn terminate(&self, id: &str, body: &TerminateBody) -> Result<()> {
        let body =
            serde_json::to_value(body).map_err(|e| accesslink_core::Error::other(e.to_string()))?;
        self.act(id, UserAction::Terminate, Some(&body)).await
    }

    /// `GET users/minimal`: every user of the tenant in one bare array (no paging).
    pub async fn minimal(&self) -> Result<Vec<User>> {
        let c = self.client;
        c.send_json(c.http().get(&c.path("users/minimal"))?).await
    }
}
