//! `/tas/api/operatorChanges` (fact sheet §3.4; not in the vendor's API description this
//! crate's contract is written from, so every shape here is UNVERIFIED and read
//! tolerantly).

use accesslink_core::{Error, Result};
use http::StatusCode;
use serde::Serialize;
use serde_json::{Value, json};

use super::{ListPage, ListParams, get_opt, push_segment};
use crate::client::TopdeskClient;
use crate::models::OperatorChange;
use crate::refs::require_uuid;

/// The most rows a change list returns per page (a client's figure, fact sheet §3.5).
pub const MAX_CHANGE_PAGE: u32 = 5000;

/// Operator changes: `client.operator_changes()`.
#[derive(Debug, Clone, Copy)]
pub struct OperatorChanges<'c> {
    client: &'c TopdeskClient,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Query {
    page_start: u64,
    page_size: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    query: Option<String>,
}

impl<'c> OperatorChanges<'c> {
    pub(crate) fn new(client: &'c TopdeskClient) -> Self {
        OperatorChanges { client }
    }

    /// `GET /operatorChanges/{idOrNumber}`; `None` on 404. Give a UUID or a number as
    /// the tenant writes it (`C1810-005`); both are checked by the connector first.
    pub async fn get_opt(&self, id_or_number: &str) -> Result<Option<OperatorChange>> {
        let http = &self.client.http;
        let req = push_segment(http.get("operatorChanges/")?, id_or_number)?;
        get_opt(http, req).await
    }

    /// One page of `GET /operatorChanges?pageStart=&pageSize=&query=`: the newer paging
    /// dialect, `{"results": […], "next": …}` with 206 while more follow, 200 on the last
    /// page, 204 when none; a bare array is accepted too. Anything else is `Protocol`.
    pub async fn list(
        &self,
        start: u64,
        size: u32,
        params: &ListParams,
    ) -> Result<ListPage<OperatorChange>> {
        let http = &self.client.http;
        let size = size.clamp(1, MAX_CHANGE_PAGE);
        let query = Query {
            page_start: start,
            page_size: size,
            query: params.query.as_ref().map(ToString::to_string),
        };
        let req = http.get("operatorChanges")?.query(&query)?;
        let label = http.label(&req);
        let response = http.send(req).await?;
        let more = match response.status() {
            StatusCode::NO_CONTENT => {
                return Ok(ListPage {
                    items: Vec::new(),
                    more: false,
                });
            }
            StatusCode::PARTIAL_CONTENT => true,
            StatusCode::OK => false,
            other => {
                return Err(Error::protocol(
                    label,
                    format!("a list answered {other}; TOPdesk lists answer 200, 206 or 204"),
                ));
            }
        };
        let body: Value = response.json()?;
        let rows = match body {
            Value::Object(mut o) => match o.remove("results") {
                Some(rows @ Value::Array(_)) => rows,
                _ => {
                    return Err(Error::protocol(
                        label,
                        "the change list has no `results` array",
                    ));
                }
            },
            rows @ Value::Array(_) => rows,
            _ => {
                return Err(Error::protocol(
                    label,
                    "the change list is neither an object with `results` nor an array",
                ));
            }
        };
        let items: Vec<OperatorChange> = serde_json::from_value(rows)
            .map_err(|e| Error::protocol(label.clone(), format!("a change row: {e}")))?;
        if more && items.is_empty() {
            return Err(Error::protocol(
                label,
                "206 Partial Content without rows: the server announces more pages but sent none",
            ));
        }
        if items.len() > size as usize {
            return Err(Error::protocol(
                label,
                format!("{} rows on a page of {size}", items.len()),
            ));
        }
        Ok(ListPage { items, more })
    }

    /// `POST /operatorChanges`: the new change. Not retried by the client: a lost
    /// answer may have created it (the connector looks it up before sending again).
    pub async fn create(&self, body: &Value) -> Result<OperatorChange> {
        let http = &self.client.http;
        http.send_json(http.post("operatorChanges")?.json(body)?)
            .await
    }

    /// `POST /operatorChanges/{id}/progresstrail` with `{"memoText", "type": "memo",
    /// "invisibleForCaller"}`: appends a memo. Never repeated after an ambiguous failure.
    pub async fn add_memo(&self, id: &str, text: &str, invisible_for_caller: bool) -> Result<()> {
        let body = json!({
            "memoText": text,
            "type": "memo",
            "invisibleForCaller": invisible_for_caller,
        });
        self.post_at(id, "progresstrail", &body).await
    }

    /// `POST /operatorChanges/{id}/processingStatusTransitions` with `{"action",
    /// "comment"}` (`approve`, `reject`, `close`, …).
    pub async fn transition(&self, id: &str, action: &str, comment: Option<&str>) -> Result<()> {
        let mut body = json!({ "action": action });
        if let Some(c) = comment {
            body["comment"] = json!(c);
        }
        self.post_at(id, "processingStatusTransitions", &body).await
    }

    /// `POST /operatorChanges/{id}/cancel`.
    pub async fn cancel(&self, id: &str) -> Result<()> {
        self.post_at(id, "cancel", &json!({})).await
    }

    async fn post_at(&self, id: &str, tail: &str, body: &Value) -> Result<()> {
        let id = require_uuid(id, "change id")?;
        let http = &self.client.http;
        let req = push_segment(push_segment(http.post("operatorChanges/")?, &id)?, tail)?
            .json(body)?
            .retry_safe(false);
        http.send(req).await?;
        Ok(())
    }
}
