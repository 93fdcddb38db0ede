//! Typed handles over GLPI's generic item endpoints: `client.tickets()`, `client.users()`,
//! … all return an [`Items`] handle with the same operations.
//!
//! | operation | request |
//! |---|---|
//! | [`Items::get_opt`] | `GET /<Itemtype>/<id>` (404 → `None`) |
//! | [`Items::get_many`] | `GET /getMultipleItems?items[i][itemtype]=…&items[i][items_id]=…` |
//! | [`Items::list`] | `GET /<Itemtype>?range=a-b&sort=…` (206/200, `Content-Range`) |
//! | [`Items::sub_items`] | `GET /<Itemtype>/<id>/<Sub>`, every page |
//! | [`Items::search`] | `GET /search/<Itemtype>?criteria[…]…` |
//! | [`Items::create`] | `POST /<Itemtype>` `{"input":{…}}` → the new id |
//! | [`Items::update`] | `PUT /<Itemtype>/<id>` `{"input":{…}}`, per-item result checked |
//! | [`Items::delete`] | `DELETE /<Itemtype>/<id>[?force_purge=true]`, per-item result checked |

use std::fmt;
use std::marker::PhantomData;

use accesslink_core::http::Response;
use accesslink_core::{Error, ErrorKind, Result};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::client::GlpiClient;
use crate::error::{WriteOp, check_items, kind_of};
use crate::models::{Created, SearchBody};

mod search;

pub use search::{Criterion, SearchPage, SearchQuery, SearchType, row_text, row_u64};

/// The most rows GLPI returns per request (`Accept-Range: <Itemtype> 1000`).
pub const MAX_RANGE: u64 = 1000;

/// `Content-Range: <start>-<end>/<total>` (inclusive; `0--1/0` when empty).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContentRange {
    /// First row index.
    pub start: u64,
    /// Last row index, or `None` when the range is empty.
    pub end: Option<u64>,
    /// Rows in all.
    pub total: u64,
}

impl ContentRange {
    /// Parses the header value.
    pub fn parse(s: &str) -> Option<Self> {
        let (range, total) = s.trim().split_once('/')?;
        let total = total.trim().parse().ok()?;
        let (start, end) = range.split_once('-')?;
        let start = start.trim().parse().ok()?;
        let end: i64 = end.trim().parse().ok()?;
        Some(ContentRange {
            start,
            end: u64::try_from(end).ok().filter(|e| *e >= start),
            total,
        })
    }

    /// Whether rows remain after this range.
    pub fn more(&self) -> bool {
        self.end.is_some_and(|e| e + 1 < self.total)
    }
}

/// One range of a listing.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Listing<T> {
    /// The rows, in the order asked for.
    pub items: Vec<T>,
    /// What `Content-Range` said; `None` when GLPI sent none (an empty answer).
    pub range: Option<ContentRange>,
}

impl<T> Listing<T> {
    /// Whether rows remain after this range.
    pub fn more(&self) -> bool {
        self.range.is_some_and(|r| r.more())
    }

    /// The total GLPI reported.
    pub fn total(&self) -> Option<u64> {
        self.range.map(|r| r.total)
    }
}

/// Parameters of a listing (`GET /<Itemtype>`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ListParams {
    /// Field to sort on (default `id`).
    pub sort: Option<String>,
    /// Descending instead of ascending.
    pub descending: bool,
    /// List the trash instead of the live items.
    pub deleted: bool,
    /// `searchText[<field>]=<value>` filters: SQL `LIKE`, `^`/`$` anchor, `_` literal.
    pub search_text: Vec<(String, String)>,
}

impl ListParams {
    /// Sorted by id, ascending: the order every connector listing uses.
    pub fn by_id() -> Self {
        ListParams {
            sort: Some("id".into()),
            ..ListParams::default()
        }
    }

    /// Adds an exact `searchText` match on a field (`^value$`).
    #[must_use]
    pub fn exact(mut self, field: impl Into<String>, value: &str) -> Self {
        self.search_text.push((field.into(), format!("^{value}$")));
        self
    }

    /// Lists the trash.
    #[must_use]
    pub fn deleted(mut self, deleted: bool) -> Self {
        self.deleted = deleted;
        self
    }
}

/// Operations on one itemtype: see the [module docs](self).
pub struct Items<'a, T> {
    client: &'a GlpiClient,
    itemtype: &'static str,
    _model: PhantomData<fn() -> T>,
}

impl<T> fmt::Debug for Items<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Items")
            .field("itemtype", &self.itemtype)
            .finish()
    }
}

impl<T> Clone for Items<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Items<'_, T> {}

impl<'a, T: DeserializeOwned> Items<'a, T> {
    pub(crate) fn new(client: &'a GlpiClient, itemtype: &'static str) -> Self {
        Items {
            client,
            itemtype,
            _model: PhantomData,
        }
    }

    /// The itemtype (`Ticket`, `User`, …).
    pub fn itemtype(&self) -> &'static str {
        self.itemtype
    }

    fn check_itemtype(&self) -> Result<()> {
        let ok = !self.itemtype.is_empty()
            && self
                .itemtype
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if ok {
            Ok(())
        } else {
            Err(Error::invalid_input(format!(
                "{:?} is not a GLPI itemtype",
                self.itemtype
            )))
        }
    }

    /// One item; `Ok(None)` when GLPI answers `404 ERROR_ITEM_NOT_FOUND`.
    pub async fn get_opt(&self, id: u64) -> Result<Option<T>> {
        self.check_itemtype()?;
        let req = self.client.http.get(&format!("{}/{id}", self.itemtype))?;
        match self.client.http.send_json(req).await {
            Ok(item) => Ok(Some(item)),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// One item; [`ErrorKind::NotFound`] when it does not exist.
    pub async fn get(&self, id: u64) -> Result<T> {
        self.get_opt(id)
            .await?
            .ok_or_else(|| Error::not_found(format!("GLPI {} {id}", self.itemtype)))
    }

    /// Several items in one request, in the order asked. GLPI fails the whole call with
    /// `404` when any of them does not exist.
    pub async fn get_many(&self, ids: &[u64]) -> Result<Vec<T>> {
        self.check_itemtype()?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut req = self.client.http.get("getMultipleItems")?;
        for (i, id) in ids.iter().enumerate() {
            req = req
                .query_pair(&format!("items[{i}][itemtype]"), self.itemtype)
                .query_pair(&format!("items[{i}][items_id]"), &id.to_string());
        }
        self.client.http.send_json(req).await
    }

    /// Rows `start..start+limit` of the listing. A range past the end
    /// (`400 ERROR_RANGE_EXCEED_TOTAL`) is an empty listing, not an error.
    pub async fn list(&self, start: u64, limit: u64, params: &ListParams) -> Result<Listing<T>> {
        self.check_itemtype()?;
        self.range_of(self.itemtype.to_owned(), start, limit, params)
            .await
    }

    async fn range_of<S: DeserializeOwned>(
        &self,
        path: String,
        start: u64,
        limit: u64,
        params: &ListParams,
    ) -> Result<Listing<S>> {
        let limit = limit.clamp(1, MAX_RANGE);
        let mut req = self
            .client
            .http
            .get(&path)?
            .query_pair("range", &format!("{start}-{}", start + limit - 1));
        if let Some(sort) = &params.sort {
            req = req
                .query_pair("sort", sort)
                .query_pair("order", if params.descending { "DESC" } else { "ASC" });
        }
        if params.deleted {
            req = req.query_pair("is_deleted", "1");
        }
        for (field, value) in &params.search_text {
            req = req.query_pair(&format!("searchText[{field}]"), value);
        }
        let response = match self.client.http.send(req).await {
            Ok(r) => r,
            Err(e) if e.vendor_code() == Some("ERROR_RANGE_EXCEED_TOTAL") => {
                let total = e
                    .as_api()
                    .and_then(|a| a.message.as_deref())
                    .and_then(|m| m.rsplit(':').next())
                    .and_then(|t| t.trim().parse().ok());
                return Ok(Listing {
                    items: Vec::new(),
                    range: total.map(|total| ContentRange {
                        start,
                        end: None,
                        total,
                    }),
                });
            }
            Err(e) => return Err(e),
        };
        let range = content_range(&response);
        Ok(Listing {
            items: response.json()?,
            range,
        })
    }

    /// Every `<Sub>` item of one item (`/User/7/Group_User`), all pages. `NotFound` when
    /// the parent does not exist.
    pub async fn sub_items<S: DeserializeOwned>(&self, id: u64, sub: &str) -> Result<Vec<S>> {
        self.check_itemtype()?;
        check_sub(sub)?;
        let path = format!("{}/{id}/{sub}", self.itemtype);
        let mut all = Vec::new();
        let mut start = 0;
        loop {
            let page: Listing<S> = self
                .range_of(path.clone(), start, MAX_RANGE, &ListParams::by_id())
                .await?;
            let n = page.items.len() as u64;
            let more = page.more();
            all.extend(page.items);
            if n == 0 || !more {
                return Ok(all);
            }
            start += n;
        }
    }

    /// `GET /search/<Itemtype>`. No match is an empty page (GLPI then sends no `data`).
    pub async fn search(&self, query: &SearchQuery) -> Result<SearchPage> {
        self.check_itemtype()?;
        let mut req = self.client.http.get(&format!("search/{}", self.itemtype))?;
        for (k, v) in query.pairs() {
            req = req.query_pair(&k, &v);
        }
        let response = self.client.http.send(req).await?;
        let body: SearchBody = response.json()?;
        // A search answer always says how many rows match; only with none may it leave
        // `data` out (GLPI then sends no `data` key). Anything else is not a search
        // answer: an empty page read from it would look like an empty directory.
        let wrong = |why: &str| {
            response.api_error(
                Some(accesslink_core::ErrorKind::Protocol),
                None,
                Some(format!("not a GLPI search answer: {why}")),
            )
        };
        let Some(total) = body.totalcount else {
            return Err(wrong("no `totalcount`"));
        };
        match &body.data {
            Value::Null if total > 0 => {
                return Err(wrong(&format!("`totalcount` {total} but no `data`")));
            }
            Value::Null | Value::Array(_) | Value::Object(_) => {}
            _ => return Err(wrong("`data` is neither a list nor an object")),
        }
        let rows = match body.data {
            Value::Array(rows) => rows
                .into_iter()
                .filter_map(|r| match r {
                    Value::Object(m) => Some(m),
                    _ => None,
                })
                .collect(),
            // `withindexes`: an object keyed by item id.
            Value::Object(by_id) => by_id
                .into_values()
                .filter_map(|r| match r {
                    Value::Object(m) => Some(m),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        };
        Ok(SearchPage { total, rows })
    }

    /// `POST /<Itemtype>`: creates one item and returns its id. Not retried after an
    /// ambiguous failure: callers that can look the item up do so before trying again.
    pub async fn create<I: Serialize + ?Sized>(&self, input: &I) -> Result<u64> {
        self.check_itemtype()?;
        let req = self
            .client
            .http
            .post(self.itemtype)?
            .json(&json!({ "input": input }))?;
        let response = self.client.http.send(req).await?;
        let created: Created = response.json()?;
        match created.id.as_u64().filter(|id| *id > 0) {
            Some(id) => Ok(id),
            None => {
                let message = created
                    .message
                    .unwrap_or_else(|| "GLPI returned no id".to_owned());
                let kind = kind_of("ERROR_GLPI_ADD", Some(&message)).unwrap_or(ErrorKind::Other);
                Err(response.api_error(Some(kind), Some("ERROR_GLPI_ADD".into()), Some(message)))
            }
        }
    }

    /// `PUT /<Itemtype>/<id>`. The per-item result is checked: an item GLPI refused is an
    /// error, even inside a `200`.
    pub async fn update<I: Serialize + ?Sized>(&self, id: u64, input: &I) -> Result<()> {
        self.check_itemtype()?;
        let req = self
            .client
            .http
            .put(&format!("{}/{id}", self.itemtype))?
            .json(&json!({ "input": input }))?;
        let response = self.client.http.send(req).await?;
        check_items(&response, WriteOp::Update, &[id])
    }

    /// `DELETE /<Itemtype>/<id>`: to the trash, or purged with `purge` (items without a
    /// trash, such as links, are always purged). The per-item result is checked.
    pub async fn delete(&self, id: u64, purge: bool) -> Result<()> {
        self.check_itemtype()?;
        let mut req = self
            .client
            .http
            .delete(&format!("{}/{id}", self.itemtype))?;
        if purge {
            req = req.query_pair("force_purge", "true");
        }
        let response = self.client.http.send(req).await?;
        check_items(&response, WriteOp::Delete, &[id])
    }
}

fn check_sub(sub: &str) -> Result<()> {
    if !sub.is_empty() && sub.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        Ok(())
    } else {
        Err(Error::invalid_input(format!(
            "{sub:?} is not a GLPI itemtype"
        )))
    }
}

fn content_range(response: &Response) -> Option<ContentRange> {
    response
        .header("content-range")
        .and_then(ContentRange::parse)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_ranges_as_the_real_server_sends_them() {
        let r = ContentRange::parse("0-49/56").unwrap();
        assert_eq!((r.start, r.end, r.total, r.more()), (0, Some(49), 56, true));
        let r = ContentRange::parse("0-55/56").unwrap();
        assert!(!r.more());
        // A range starting exactly at the total: 206 with `[]`.
        let r = ContentRange::parse("6-5/6").unwrap();
        assert_eq!((r.end, r.more()), (None, false));
        // An empty search.
        let r = ContentRange::parse("0--1/0").unwrap();
        assert_eq!((r.end, r.total), (None, 0));
        assert!(ContentRange::parse("bytes 0-1/2").is_none());
    }
}
