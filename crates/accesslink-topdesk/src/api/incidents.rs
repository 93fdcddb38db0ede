//! `/tas/api/incidents`.

use accesslink_core::Result;
use serde_json::Value;

use super::{ListPage, ListParams, get_opt, list_page, push_segment};
use crate::client::TopdeskClient;
use crate::models::{Action, Incident, Named, NewIncident, ProgressEntry, SubCategory};
use crate::refs::require_uuid;

/// Incidents: `client.incidents()`.
#[derive(Debug, Clone, Copy)]
pub struct Incidents<'c> {
    client: &'c TopdeskClient,
}

impl<'c> Incidents<'c> {
    pub(crate) fn new(client: &'c TopdeskClient) -> Self {
        Incidents { client }
    }

    /// `GET /incidents/id/{id}`; `None` on 404. `id` must be a UUID.
    pub async fn get_opt(&self, id: &str) -> Result<Option<Incident>> {
        let id = require_uuid(id, "incident id")?;
        let http = &self.client.http;
        let req = push_segment(http.get("incidents/id/")?, &id)?;
        get_opt(http, req).await
    }

    /// `GET /incidents/number/{number}` (the number URL-encoded); `None` on 404. Give
    /// the number as the tenant writes it (see [`TicketNumber`](crate::refs::TicketNumber)).
    pub async fn get_by_number_opt(&self, number: &str) -> Result<Option<Incident>> {
        let http = &self.client.http;
        let req = push_segment(http.get("incidents/number/")?, number)?;
        get_opt(http, req).await
    }

    /// One page of `GET /incidents?pageStart=&pageSize=&query=&fields=&sort=`.
    pub async fn list(
        &self,
        start: u64,
        size: u32,
        params: &ListParams,
    ) -> Result<ListPage<Incident>> {
        list_page(&self.client.http, "incidents", start, size, params).await
    }

    /// `POST /incidents`: 201 with the new incident. Not retried by the client: a lost
    /// answer may have created it (the connector looks it up before sending again).
    pub async fn create(&self, new: &NewIncident) -> Result<Incident> {
        let http = &self.client.http;
        let req = http.post("incidents")?.json(new)?;
        http.send_json(req).await
    }

    /// `PATCH /incidents/id/{id}` with a partial body that only sets fields (so it is
    /// repeated after a lost answer); the incident as it is now. Use
    /// [`add_action`](Self::add_action) for actions, which append.
    pub async fn patch(&self, id: &str, body: &Value) -> Result<Incident> {
        let id = require_uuid(id, "incident id")?;
        let http = &self.client.http;
        let req = push_segment(http.patch("incidents/id/")?, &id)?
            .json(body)?
            .retry_safe(true);
        http.send_json(req).await
    }

    /// `PATCH /incidents/id/{id}` with `{"action", "actionInvisibleForCaller"}`: appends
    /// an action to the progress trail. Never repeated after an ambiguous failure (it
    /// would append twice).
    pub async fn add_action(
        &self,
        id: &str,
        text: &str,
        invisible_for_caller: bool,
    ) -> Result<Incident> {
        let id = require_uuid(id, "incident id")?;
        let http = &self.client.http;
        let body = serde_json::json!({
            "action": text,
            "actionInvisibleForCaller": invisible_for_caller,
        });
        let req = push_segment(http.patch("incidents/id/")?, &id)?
            .json(&body)?
            .retry_safe(false);
        http.send_json(req).await
    }

    /// `GET /incidents/id/{id}/actions`: the actions (comments), newest first; 204 when
    /// there are none.
    pub async fn actions(&self, id: &str) -> Result<Vec<Action>> {
        let id = require_uuid(id, "incident id")?;
        let http = &self.client.http;
        let req = push_segment(push_segment(http.get("incidents/id/")?, &id)?, "actions")?;
        let response = http.send(req).await?;
        if response.status() == http::StatusCode::NO_CONTENT {
            return Ok(Vec::new());
        }
        response.json()
    }

    /// One page of `GET /incidents/id/{id}/progresstrail?start=&page_size=` (1..=100):
    /// the progress trail, newest first, in the 206/200/204 contract (see the
    /// [module docs](super)). Mixed entries: texts (`memoText`), attachments, e-mails.
    pub async fn progress_trail(
        &self,
        id: &str,
        start: u64,
        size: u32,
    ) -> Result<ListPage<ProgressEntry>> {
        let id = require_uuid(id, "incident id")?;
        let path = format!("incidents/id/{id}/progresstrail");
        super::list_page_legacy(&self.client.http, &path, start, size.clamp(1, 100)).await
    }

    /// `GET /incidents/categories`: the category search list.
    pub async fn categories(&self) -> Result<Vec<Named>> {
        self.search_list("incidents/categories").await
    }

    /// `GET /incidents/subcategories`: subcategories with their category.
    pub async fn subcategories(&self) -> Result<Vec<SubCategory>> {
        self.search_list("incidents/subcategories").await
    }

    /// `GET /incidents/closure_codes`.
    pub async fn closure_codes(&self) -> Result<Vec<Named>> {
        self.search_list("incidents/closure_codes").await
    }

    /// `GET /incidents/statuses`: the processing statuses.
    pub async fn processing_statuses(&self) -> Result<Vec<Named>> {
        self.search_list("incidents/statuses").await
    }

    /// A search list: a JSON array (204: empty). `null` or an object is `Protocol`.
    async fn search_list<T: serde::de::DeserializeOwned>(&self, path: &str) -> Result<Vec<T>> {
        let http = &self.client.http;
        let req = http.get(path)?;
        let label = http.label(&req);
        let response = http.send(req).await?;
        if response.status() == http::StatusCode::NO_CONTENT {
            return Ok(Vec::new());
        }
        let rows: Option<Vec<T>> = response.json()?;
        rows.ok_or_else(|| accesslink_core::Error::protocol(label, "the search list is null"))
    }
}
