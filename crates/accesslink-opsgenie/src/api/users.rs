//! `/v2/users`.

use std::borrow::Cow;

use accesslink_core::paging::{Paged, PagingOptions, paginate};
use accesslink_core::{Error, Page, PageToken, Result};
use serde::Serialize;

use super::optional;
use crate::client::OpsGenieClient;
use crate::models::{
    Envelope, IdName, ListEnvelope, NewUser, Paging, SuccessResponse, User, UserUpdate,
};
use crate::refs::{check_user, check_username, segment};

/// The most users one page returns (fact sheet §2.4).
pub const MAX_USERS_PER_PAGE: u32 = 100;

/// Sort field of a user listing (the go SDK and the docs send `sort`, not the spec's
/// `sortField`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub enum UserSort {
    /// By username.
    Username,
    /// By full name.
    FullName,
    /// By creation (the default order).
    InsertedAt,
}

/// Sort order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum SortOrder {
    /// Ascending.
    Asc,
    /// Descending.
    Desc,
}

/// Parameters of `GET /v2/users`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ListUsers {
    /// 0-based offset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
    /// Page size, 1–100.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// Sort field.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sort: Option<UserSort>,
    /// Sort order.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order: Option<SortOrder>,
    /// A search query such as `role:admin` or `blocked:true`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
}

impl ListUsers {
    /// The first page at the server's default size.
    pub fn new() -> Self {
        ListUsers::default()
    }

    /// Sets the offset.
    #[must_use]
    pub fn offset(mut self, offset: u64) -> Self {
        self.offset = Some(offset);
        self
    }

    /// Sets the page size (capped at 100).
    #[must_use]
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = Some(limit.clamp(1, MAX_USERS_PER_PAGE));
        self
    }

    /// Sets the sort field and order.
    #[must_use]
    pub fn sort(mut self, sort: UserSort, order: SortOrder) -> Self {
        self.sort = Some(sort);
        self.order = Some(order);
        self
    }

    /// Sets the search query.
    #[must_use]
    pub fn query(mut self, query: impl Into<String>) -> Self {
        self.query = Some(query.into());
        self
    }
}

/// One page of users.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct UserPage {
    /// The users.
    pub users: Vec<User>,
    /// How many users the listing has.
    pub total: Option<u64>,
    /// Links to other pages.
    pub paging: Paging,
    /// The offset this page was asked at.
    pub offset: u64,
}

impl UserPage {
    /// The offset of the next page, or `None` on the last. Taken from `paging.next` (its
    /// host is ignored: a proxy or mock may stand in front), else from the total.
    pub fn next_offset(&self) -> Option<u64> {
        let next = self.paging.next.as_deref()?;
        let from_link = url::Url::parse(next).ok().and_then(|u| {
            u.query_pairs()
                .find(|(k, _)| k == "offset")
                .and_then(|(_, v)| v.parse::<u64>().ok())
        });
        let after = self.offset + self.users.len() as u64;
        match from_link {
            // A link that does not move forward would loop: trust the count instead.
            Some(o) if o > self.offset => Some(o),
            _ if self.users.is_empty() => None,
            _ => Some(after),
        }
    }
}

/// The users handle; see [`OpsGenieClient::users`].
#[derive(Debug, Clone, Copy)]
pub struct Users<'c> {
    client: &'c OpsGenieClient,
}

impl<'c> Users<'c> {
    pub(crate) fn new(client: &'c OpsGenieClient) -> Self {
        Users { client }
    }

    fn path(identifier: &str) -> Result<String> {
        Ok(format!("v2/users/{}", segment(check_user(identifier)?)))
    }

    /// One page.
    pub async fn list(&self, params: &ListUsers) -> Result<UserPage> {
        let http = self.client.http();
        let req = http.get("v2/users")?.query(params)?;
        let body: ListEnvelope<User> = http.send_json(req).await?;
        Ok(UserPage {
            users: body.data,
            total: body.total_count,
            paging: body.paging,
            offset: params.offset.unwrap_or(0),
        })
    }

    /// Every user, page by page (offset tokens), with duplicate detection.
    pub fn stream(&self, params: ListUsers) -> Paged<'c, User> {
        let client = self.client;
        let size = params.limit;
        paginate(
            PagingOptions::new(),
            |u: &User| Cow::Borrowed(u.id.as_str()),
            move |req| {
                let mut p = params.clone();
                let users = client.users();
                async move {
                    let offset = match req.token {
                        Some(t) => t.as_str().parse::<u64>().map_err(|_| {
                            Error::invalid_input("a user stream token is an offset")
                        })?,
                        None => 0,
                    };
                    p.offset = Some(offset);
                    p.limit = size;
                    let page = users.list(&p).await?;
                    let next = page.next_offset().map(|o| PageToken::new(o.to_string()));
                    Ok(Page::new(page.users, next).with_total(page.total))
                }
            },
        )
    }

    /// One user by id or username; `Ok(None)` when there is none.
    pub async fn get_opt(&self, identifier: &str) -> Result<Option<User>> {
        let http = self.client.http();
        let req = http.get(&Self::path(identifier)?)?;
        optional(http.send_json::<Envelope<User>>(req).await).map(|o| o.map(|e| e.data))
    }

    /// One user; a missing one is an error.
    pub async fn get(&self, identifier: &str) -> Result<User> {
        self.get_opt(identifier)
            .await?
            .ok_or_else(|| Error::not_found(format!("OpsGenie user {identifier:?}")))
    }

    /// Creates a user; the new id and username. Sent once: a lost answer is for the
    /// caller to check (the connector looks the username up before trying again).
    pub async fn create(&self, new: &NewUser) -> Result<IdName> {
        check_username(&new.username)?;
        let http = self.client.http();
        let req = http.post("v2/users")?.json(new)?;
        let body: SuccessResponse = http.send_json(req).await?;
        body.data
            .filter(|d| !d.id.is_empty())
            .ok_or_else(|| Error::protocol("POST /v2/users", "the create answer holds no user id"))
    }

    /// Changes a user (PATCH: only the fields set). Repeating it is harmless, so it is
    /// retried like a read.
    pub async fn update(&self, identifier: &str, change: &UserUpdate) -> Result<()> {
        if let Some(u) = &change.username {
            check_username(u)?;
        }
        let http = self.client.http();
        let req = http
            .patch(&Self::path(identifier)?)?
            .json(change)?
            .retry_safe(true);
        http.send(req).await.map(|_| ())
    }

    /// Deletes a user.
    pub async fn delete(&self, identifier: &str) -> Result<()> {
        let http = self.client.http();
        let req = http.delete(&Self::path(identifier)?)?;
        http.send(req).await.map(|_| ())
    }

    /// The teams a user is in.
    pub async fn teams(&self, identifier: &str) -> Result<Vec<IdName>> {
        let http = self.client.http();
        let req = http.get(&format!("{}/teams", Self::path(identifier)?))?;
        Ok(http.send_json::<Envelope<Vec<IdName>>>(req).await?.data)
    }
}
