//! `/requests` and `/changes`: get, list with `list_info`, create, update, close, notes.

use accesslink_core::{Error, ErrorKind, Result};
use serde_json::{Map, Value, json};

use crate::client::SdpClient;
use crate::input::{self, Criteria};
use crate::models::{ListInfo, Ticket};
use crate::refs::{Entity, is_number};

/// One page of a list.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ListPage {
    /// The rows.
    pub rows: Vec<Ticket>,
    /// The answer's `list_info`.
    pub info: ListInfo,
}

/// Requests or changes of one instance; see [`SdpClient::requests`].
#[derive(Debug, Clone, Copy)]
pub struct Tickets<'c> {
    client: &'c SdpClient,
    entity: Entity,
}

fn check_id(id: &str) -> Result<()> {
    if is_number(id) {
        Ok(())
    } else {
        Err(Error::invalid_input("an SDP id is digits"))
    }
}

impl<'c> Tickets<'c> {
    pub(crate) fn new(client: &'c SdpClient, entity: Entity) -> Self {
        Tickets { client, entity }
    }

    fn what(&self) -> String {
        format!("sdp {}", self.entity.key())
    }

    fn entity_of(&self, mut body: Map<String, Value>) -> Result<Ticket> {
        let v = body.remove(self.entity.key()).ok_or_else(|| {
            Error::protocol(
                self.what(),
                format!("the answer has no {:?} object", self.entity.key()),
            )
        })?;
        serde_json::from_value(v)
            .map_err(|e| Error::protocol(self.what(), format!("{}: {e}", self.entity.key())))
    }

    /// `GET /{entity}/{id}`; `None` when it does not exist (404, 4001/4007).
    pub async fn get_opt(&self, id: &str) -> Result<Option<Ticket>> {
        check_id(id)?;
        let http = self.client.http();
        let req = http.get(&format!("{}/{id}", self.entity.path()))?;
        match http.send_json::<Map<String, Value>>(req).await {
            Ok(body) => self.entity_of(body).map(Some),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `GET /{entity}?input_data={"list_info":…}`: one page. A body without the entity
    /// list or without `list_info` is a protocol error, never an empty page.
    pub async fn list_page(
        &self,
        criteria: &Criteria,
        start_index: u64,
        row_count: u32,
    ) -> Result<ListPage> {
        self.list_page_sorted(criteria, start_index, row_count, "created_time")
            .await
    }

    /// [`list_page`](Self::list_page) sorted ascending on `sort_field`
    /// (`last_updated_time` for a change feed).
    pub async fn list_page_sorted(
        &self,
        criteria: &Criteria,
        start_index: u64,
        row_count: u32,
        sort_field: &str,
    ) -> Result<ListPage> {
        let http = self.client.http();
        let req = input::query(
            http.get(self.entity.path())?,
            &input::list_info_sorted(criteria, start_index, row_count, sort_field),
        );
        let mut body: Map<String, Value> = http.send_json(req).await?;
        let rows = match body.remove(self.entity.path()) {
            Some(Value::Array(rows)) => rows,
            _ => {
                return Err(Error::protocol(
                    self.what(),
                    format!("the list answer has no {:?} array", self.entity.path()),
                ));
            }
        };
        let info: ListInfo = match body.remove("list_info") {
            Some(v @ Value::Object(_)) => serde_json::from_value(v)
                .map_err(|e| Error::protocol(self.what(), format!("list_info: {e}")))?,
            _ => {
                return Err(Error::protocol(
                    self.what(),
                    "the list answer has no list_info",
                ));
            }
        };
        let rows = rows
            .into_iter()
            .map(serde_json::from_value)
            .collect::<std::result::Result<Vec<Ticket>, _>>()
            .map_err(|e| Error::protocol(self.what(), format!("{}[]: {e}", self.entity.path())))?;
        Ok(ListPage { rows, info })
    }

    /// Every row matching `criteria`, at most `max_pages` pages of `row_count`. Pages that
    /// start elsewhere than asked, or repeat a row, are protocol errors.
    pub async fn list_all(
        &self,
        criteria: &Criteria,
        row_count: u32,
        max_pages: usize,
    ) -> Result<Vec<Ticket>> {
        let mut out: Vec<Ticket> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let mut start = 1u64;
        for _ in 0..max_pages {
            let page = self.list_page(criteria, start, row_count).await?;
            if page.info.start_index.is_some_and(|s| s != start) {
                return Err(Error::protocol(
                    self.what(),
                    format!(
                        "asked for rows from {start}, got a page from {:?}",
                        page.info.start_index
                    ),
                ));
            }
            let n = page.rows.len() as u64;
            for row in page.rows {
                if !seen.insert(row.id.clone()) {
                    return Err(Error::protocol(
                        self.what(),
                        format!("row {} came twice: the server repeats pages", row.id),
                    ));
                }
                out.push(row);
            }
            if page.info.has_more_rows != Some(true) {
                return Ok(out);
            }
            if n == 0 {
                return Err(Error::protocol(
                    self.what(),
                    "an empty page says more rows follow",
                ));
            }
            start += n;
        }
        Err(Error::protocol(
            self.what(),
            format!("more than {max_pages} pages"),
        ))
    }

    /// `POST /{entity}` with `input_data={"<entity>":{…}}`.
    pub async fn create(&self, fields: Map<String, Value>) -> Result<Ticket> {
        let http = self.client.http();
        let req = input::form(
            http.post(self.entity.path())?,
            &json!({ self.entity.key(): fields }),
        );
        let body = http.send_json(req).await?;
        self.entity_of(body)
    }

    /// `PUT /{entity}/{id}` with `input_data={"<entity>":{…}}`.
    pub async fn update(&self, id: &str, fields: Map<String, Value>) -> Result<Ticket> {
        check_id(id)?;
        let http = self.client.http();
        let req = input::form(
            http.put(&format!("{}/{id}", self.entity.path()))?,
            &json!({ self.entity.key(): fields }),
        );
        let body = http.send_json(req).await?;
        self.entity_of(body)
    }

    /// Requests: `PUT /requests/{id}/close` (on-premises) or `/_close` (Cloud) with
    /// `closure_info`.
    pub async fn close_request(&self, id: &str, closure_code: &str, comments: &str) -> Result<()> {
        check_id(id)?;
        if self.entity != Entity::Request {
            return Err(Error::invalid_input(
                "only requests have a close action; move a change to its close stage",
            ));
        }
        let action = if self.client.deployment().is_cloud() {
            "_close"
        } else {
            "close"
        };
        let http = self.client.http();
        let payload = json!({"request": {"closure_info": {
            "requester_ack_resolution": true,
            "requester_ack_comments": comments,
            "closure_comments": comments,
            "closure_code": {"name": closure_code},
        }}});
        let req = input::form(http.put(&format!("requests/{id}/{action}"))?, &payload);
        http.send(req).await.map(drop)
    }

    /// `POST /{entity}/{id}/notes`: `request_note` on requests, `note` on changes
    /// (unverified); `show_to_requester` = `public`. Sent once.
    pub async fn add_note(&self, id: &str, text: &str, public: bool) -> Result<()> {
        check_id(id)?;
        let key = match self.entity {
            Entity::Request => "request_note",
            Entity::Change => "note",
        };
        let http = self.client.http();
        let payload = json!({ key: {
            "description": text,
            "show_to_requester": public,
            "notify_technician": false,
            "mark_first_response": false,
            "add_to_linked_requests": false,
        }});
        let req = input::form(
            http.post(&format!("{}/{id}/notes", self.entity.path()))?,
            &payload,
        );
        http.send(req).await.map(drop)
    }
}
