//! `/tas/api/persons`, `/tas/api/operators` and `/tas/api/operatorgroups` (fact sheet
//! §3.7).

use accesslink_core::Result;
use accesslink_core::http::HttpClient;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::{ListPage, ListParams, get_opt, list_page, push_segment};
use crate::client::TopdeskClient;
use crate::models::{Operator, OperatorGroup, Person};
use crate::refs::require_uuid;

/// `GET {base}/id/{id}`.
async fn get_by_id<T: DeserializeOwned>(
    http: &HttpClient,
    base: &str,
    id: &str,
    what: &str,
) -> Result<Option<T>> {
    let id = require_uuid(id, what)?;
    let req = push_segment(http.get(base)?, &id)?;
    get_opt(http, req).await
}

/// `PATCH {base}/id/{id}[/{tail}]` with `body`.
async fn patch<T: DeserializeOwned>(
    http: &HttpClient,
    base: &str,
    id: &str,
    tail: Option<&str>,
    body: &Value,
    what: &str,
) -> Result<T> {
    let id = require_uuid(id, what)?;
    let mut req = push_segment(http.patch(base)?, &id)?;
    if let Some(tail) = tail {
        req = push_segment(req, tail)?;
    }
    // Setting fields (and archiving) is idempotent: safe to repeat after a lost answer.
    http.send_json(req.json(body)?.retry_safe(true)).await
}

/// The archive body: `{"id": reason}`, or `{}` without a reason.
fn reason_body(reason: Option<&str>) -> Value {
    match reason {
        Some(r) => json!({ "id": r }),
        None => json!({}),
    }
}

/// Persons: `client.persons()`.
#[derive(Debug, Clone, Copy)]
pub struct Persons<'c> {
    client: &'c TopdeskClient,
}

impl<'c> Persons<'c> {
    pub(crate) fn new(client: &'c TopdeskClient) -> Self {
        Persons { client }
    }

    /// One page of `GET /persons`.
    pub async fn list(
        &self,
        start: u64,
        size: u32,
        params: &ListParams,
    ) -> Result<ListPage<Person>> {
        list_page(&self.client.http, "persons", start, size, params).await
    }

    /// `GET /persons/id/{id}`; `None` on 404.
    pub async fn get_opt(&self, id: &str) -> Result<Option<Person>> {
        get_by_id(&self.client.http, "persons/id/", id, "person id").await
    }

    /// `POST /persons` (not retried by the client).
    pub async fn create(&self, body: &Value) -> Result<Person> {
        let http = &self.client.http;
        http.send_json(http.post("persons")?.json(body)?).await
    }

    /// `PATCH /persons/id/{id}`.
    pub async fn patch(&self, id: &str, body: &Value) -> Result<Person> {
        patch(
            &self.client.http,
            "persons/id/",
            id,
            None,
            body,
            "person id",
        )
        .await
    }

    /// `PATCH /persons/id/{id}/archive` with an optional archiving reason.
    pub async fn archive(&self, id: &str, reason: Option<&str>) -> Result<Person> {
        let body = reason_body(reason);
        patch(
            &self.client.http,
            "persons/id/",
            id,
            Some("archive"),
            &body,
            "person id",
        )
        .await
    }

    /// `PATCH /persons/id/{id}/unarchive`.
    pub async fn unarchive(&self, id: &str) -> Result<Person> {
        patch(
            &self.client.http,
            "persons/id/",
            id,
            Some("unarchive"),
            &json!({}),
            "person id",
        )
        .await
    }
}

/// Operators: `client.operators()`.
#[derive(Debug, Clone, Copy)]
pub struct Operators<'c> {
    client: &'c TopdeskClient,
}

impl<'c> Operators<'c> {
    pub(crate) fn new(client: &'c TopdeskClient) -> Self {
        Operators { client }
    }

    /// One page of `GET /operators`.
    pub async fn list(
        &self,
        start: u64,
        size: u32,
        params: &ListParams,
    ) -> Result<ListPage<Operator>> {
        list_page(&self.client.http, "operators", start, size, params).await
    }

    /// `GET /operators/id/{id}`; `None` on 404.
    pub async fn get_opt(&self, id: &str) -> Result<Option<Operator>> {
        get_by_id(&self.client.http, "operators/id/", id, "operator id").await
    }

    /// `POST /operators` (not retried by the client).
    pub async fn create(&self, body: &Value) -> Result<Operator> {
        let http = &self.client.http;
        http.send_json(http.post("operators")?.json(body)?).await
    }

    /// `PATCH /operators/id/{id}`.
    pub async fn patch(&self, id: &str, body: &Value) -> Result<Operator> {
        patch(
            &self.client.http,
            "operators/id/",
            id,
            None,
            body,
            "operator id",
        )
        .await
    }

    /// `PATCH /operators/id/{id}/archive` with an optional archiving reason.
    pub async fn archive(&self, id: &str, reason: Option<&str>) -> Result<Operator> {
        let body = reason_body(reason);
        patch(
            &self.client.http,
            "operators/id/",
            id,
            Some("archive"),
            &body,
            "operator id",
        )
        .await
    }

    /// `PATCH /operators/id/{id}/unarchive`.
    pub async fn unarchive(&self, id: &str) -> Result<Operator> {
        patch(
            &self.client.http,
            "operators/id/",
            id,
            Some("unarchive"),
            &json!({}),
            "operator id",
        )
        .await
    }

    /// `GET /operators/id/{id}/operatorgroups`: the operator's groups (204: none).
    pub async fn groups(&self, id: &str) -> Result<Vec<OperatorGroup>> {
        let id = require_uuid(id, "operator id")?;
        let http = &self.client.http;
        let req = push_segment(
            push_segment(http.get("operators/id/")?, &id)?,
            "operatorgroups",
        )?;
        let response = http.send(req).await?;
        if response.status() == http::StatusCode::NO_CONTENT {
            return Ok(Vec::new());
        }
        response.json()
    }

    /// `POST /operators/id/{id}/operatorgroups` with `[{"id": group}]`: adds the
    /// operator to the group (idempotent at TOPdesk: adding again keeps one link).
    pub async fn add_group(&self, id: &str, group: &str) -> Result<()> {
        self.link(http::Method::POST, id, group).await
    }

    /// `DELETE /operators/id/{id}/operatorgroups` with `[{"id": group}]`.
    pub async fn remove_group(&self, id: &str, group: &str) -> Result<()> {
        self.link(http::Method::DELETE, id, group).await
    }

    async fn link(&self, method: http::Method, id: &str, group: &str) -> Result<()> {
        let id = require_uuid(id, "operator id")?;
        let group = require_uuid(group, "operator group id")?;
        let http = &self.client.http;
        let req = push_segment(
            push_segment(http.request(method, "operators/id/")?, &id)?,
            "operatorgroups",
        )?
        .json(&json!([{ "id": group }]))?;
        http.send(req).await?;
        Ok(())
    }
}

/// Operator groups: `client.operator_groups()`.
#[derive(Debug, Clone, Copy)]
pub struct OperatorGroups<'c> {
    client: &'c TopdeskClient,
}

impl<'c> OperatorGroups<'c> {
    pub(crate) fn new(client: &'c TopdeskClient) -> Self {
        OperatorGroups { client }
    }

    /// One page of `GET /operatorgroups`.
    pub async fn list(
        &self,
        start: u64,
        size: u32,
        params: &ListParams,
    ) -> Result<ListPage<OperatorGroup>> {
        list_page(&self.client.http, "operatorgroups", start, size, params).await
    }

    /// `GET /operatorgroups/id/{id}`; `None` on 404.
    pub async fn get_opt(&self, id: &str) -> Result<Option<OperatorGroup>> {
        get_by_id(
            &self.client.http,
            "operatorgroups/id/",
            id,
            "operator group id",
        )
        .await
    }
}
