//! [`TableApi`]: one table, one record type.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use accesslink_core::http::{Request, Response};
use accesslink_core::paging::{Paged, PagingOptions, paginate};
use accesslink_core::{Error, ErrorKind, Page, PageRequest, Result};
use serde::Deserialize;
use serde::Serialize;

use crate::client::ServiceNowClient;
use crate::models::{HasSysId, Record, is_sys_id};
use crate::query::Query;

/// The page size ServiceNow uses when none is given; also the largest this crate asks
/// for (fact sheet §1: no documented maximum, large pages hurt).
pub const MAX_LIMIT: u32 = 10_000;

/// Parameters of a listing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ListParams {
    /// The encoded query.
    pub query: Query,
    /// Rows per page (`sysparm_limit`; 1..=10000, default 1000).
    pub limit: Option<u32>,
    /// `sysparm_offset`, for offset paging.
    pub offset: Option<u64>,
    /// Skip the `count(*)` (`sysparm_no_count=true`): no `X-Total-Count`.
    pub no_count: bool,
}

impl ListParams {
    /// Rows matching `query`.
    pub fn new(query: Query) -> Self {
        ListParams {
            query,
            ..ListParams::default()
        }
    }

    /// Sets the page size.
    #[must_use]
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = Some(limit);
        self
    }

    /// Sets the offset.
    #[must_use]
    pub fn offset(mut self, offset: u64) -> Self {
        self.offset = Some(offset);
        self
    }

    /// Skips the count.
    #[must_use]
    pub fn no_count(mut self, on: bool) -> Self {
        self.no_count = on;
        self
    }
}

/// One page of a listing.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ListPage<M> {
    /// The rows the caller may see. ACLs filter *after* the limit is applied, so a
    /// page can be short, or empty, while more rows exist.
    pub items: Vec<M>,
    /// `X-Total-Count`: rows matching the query, ACL-hidden rows included.
    pub total: Option<u64>,
    /// The offset of `rel="next"` in the `Link` header, if any.
    pub next_offset: Option<u64>,
}

#[derive(Deserialize)]
struct One<M> {
    result: M,
}

#[derive(Deserialize)]
struct Many<M> {
    result: Vec<M>,
}

/// Operations on one table: see the [module docs](crate::api).
pub struct TableApi<'a, M> {
    client: &'a ServiceNowClient,
    table: String,
    extra_fields: Vec<String>,
    _model: PhantomData<fn() -> M>,
}

impl<M> fmt::Debug for TableApi<'_, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TableApi")
            .field("table", &self.table)
            .field("extra_fields", &self.extra_fields)
            .finish()
    }
}

impl<M> Clone for TableApi<'_, M> {
    fn clone(&self) -> Self {
        TableApi {
            client: self.client,
            table: self.table.clone(),
            extra_fields: self.extra_fields.clone(),
            _model: PhantomData,
        }
    }
}

/// Checks a table name: `[a-z0-9_]+`, at most 80 characters.
pub(crate) fn check_table(table: &str) -> Result<()> {
    let ok = !table.is_empty()
        && table.len() <= 80
        && table
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(Error::invalid_input(format!(
            "{:?} is not a ServiceNow table name",
            accesslink_core::redact::truncate(table, 40)
        )))
    }
}

/// Checks a `sys_id` before it goes into a path.
pub(crate) fn check_sys_id(what: &str, id: &str) -> Result<()> {
    if is_sys_id(id) {
        Ok(())
    } else {
        Err(Error::invalid_input(format!(
            "{what} {:?} is not a sys_id (32 lowercase hex characters)",
            accesslink_core::redact::truncate(id, 40)
        )))
    }
}

impl<'a, M: Record> TableApi<'a, M> {
    pub(crate) fn new(client: &'a ServiceNowClient, table: String) -> Self {
        TableApi {
            client,
            table,
            extra_fields: Vec::new(),
            _model: PhantomData,
        }
    }

    /// The table name.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// Also asks for these fields (custom `u_*` fields land in the record's `other`
    /// map, when it has one). Each name is checked before a request.
    #[must_use]
    pub fn with_fields<S: AsRef<str>>(mut self, fields: &[S]) -> Self {
        self.extra_fields
            .extend(fields.iter().map(|f| f.as_ref().to_owned()));
        self
    }

    fn fields(&self) -> Result<Option<String>> {
        let Some(base) = M::fields() else {
            return Ok(None);
        };
        let mut all: Vec<&str> = base.to_vec();
        for f in &self.extra_fields {
            crate::query::check_field(f)?;
            if !all.contains(&f.as_str()) {
                all.push(f);
            }
        }
        Ok(Some(all.join(",")))
    }

    fn path(&self, sys_id: Option<&str>) -> Result<String> {
        check_table(&self.table)?;
        match sys_id {
            None => Ok(format!("api/now/table/{}", self.table)),
            Some(id) => {
                check_sys_id(&format!("{} sys_id", self.table), id)?;
                Ok(format!("api/now/table/{}/{id}", self.table))
            }
        }
    }

    fn read_params(&self, mut req: Request) -> Result<Request> {
        if let Some(fields) = self.fields()? {
            req = req.query_pair("sysparm_fields", &fields);
        }
        Ok(req.query_pair("sysparm_exclude_reference_link", "true"))
    }

    fn http(&self) -> &accesslink_core::http::HttpClient {
        &self.client.http
    }

    /// One row; `Ok(None)` on 404 (missing, or hidden by an ACL: the instance does not
    /// tell them apart).
    pub async fn get_opt(&self, sys_id: &str) -> Result<Option<M>> {
        let path = self.path(Some(sys_id))?;
        let req = self.read_params(self.http().get(&path)?)?;
        match self.http().send(req).await {
            Ok(r) => Ok(Some(r.json::<One<M>>()?.result)),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// One row; [`ErrorKind::NotFound`] when it does not exist.
    pub async fn get(&self, sys_id: &str) -> Result<M> {
        self.get_opt(sys_id)
            .await?
            .ok_or_else(|| Error::not_found(format!("ServiceNow {} {sys_id}", self.table)))
    }

    /// One page of rows matching `params`.
    pub async fn list_page(&self, params: &ListParams) -> Result<ListPage<M>> {
        let path = self.path(None)?;
        let query = params.query.encode()?;
        let limit = params.limit.unwrap_or(1000).clamp(1, MAX_LIMIT);
        let mut req = self.read_params(self.http().get(&path)?)?;
        if let Some(q) = &query {
            req = req.query_pair("sysparm_query", q);
        }
        req = req.query_pair("sysparm_limit", &limit.to_string());
        if let Some(offset) = params.offset {
            req = req.query_pair("sysparm_offset", &offset.to_string());
        }
        if params.no_count {
            req = req.query_pair("sysparm_no_count", "true");
        }
        let response = self.http().send(req).await?;
        let items = response.json::<Many<M>>()?.result;
        Ok(ListPage {
            items,
            total: response
                .header("x-total-count")
                .and_then(|v| v.trim().parse().ok()),
            next_offset: response.header("link").and_then(next_offset),
        })
    }

    /// `POST`: inserts one row and returns it as the instance stored it. Not repeated
    /// after an ambiguous failure (a lost answer may hide a stored row): callers that
    /// can look the row up do so before trying again.
    pub async fn create<B: Serialize + ?Sized>(&self, body: &B) -> Result<M> {
        let path = self.path(None)?;
        let req = self.read_params(self.http().post(&path)?)?.json(body)?;
        let response = self.http().send(req).await?;
        decode_one(&response)
    }

    /// `PATCH`: changes fields of one row and returns the row. Not repeated after an
    /// ambiguous failure, since journal fields (`comments`, `work_notes`) append.
    pub async fn update<B: Serialize + ?Sized>(&self, sys_id: &str, patch: &B) -> Result<M> {
        self.patch(sys_id, patch, false).await
    }

    /// `PATCH` that only sets values, so repeating it is harmless: repeated after an
    /// ambiguous failure. Refuses patches with journal fields.
    pub async fn update_idempotent(
        &self,
        sys_id: &str,
        patch: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<M> {
        if patch.contains_key("comments") || patch.contains_key("work_notes") {
            return Err(Error::invalid_input(
                "journal fields append: use update(), which is never repeated",
            ));
        }
        self.patch(sys_id, patch, true).await
    }

    async fn patch<B: Serialize + ?Sized>(
        &self,
        sys_id: &str,
        patch: &B,
        repeatable: bool,
    ) -> Result<M> {
        let path = self.path(Some(sys_id))?;
        let req = self
            .read_params(self.http().patch(&path)?)?
            .json(patch)?
            .retry_safe(repeatable);
        let response = self.http().send(req).await?;
        decode_one(&response)
    }

    /// `DELETE` one row. A row that is already gone (404) is not an error: deletes are
    /// repeated after ambiguous failures, and the repeat finds nothing.
    pub async fn delete(&self, sys_id: &str) -> Result<()> {
        let path = self.path(Some(sys_id))?;
        let req = self.http().delete(&path)?;
        match self.http().send(req).await {
            Ok(_) => Ok(()),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e),
        }
    }
}

impl<'a, M: Record + HasSysId + Send + 'a> TableApi<'a, M> {
    /// Every row matching `filter`, keyset-paged on `sys_id` like the connector's
    /// imports (ACL-hidden windows stepped over, only an empty page ends it); resumable
    /// from the report's checkpoint. Rows come in `sys_id` order: a `filter` with
    /// `order_by` is `InvalidInput` (before any request).
    pub fn list_stream(&self, filter: Query, options: PagingOptions) -> Paged<'a, M> {
        let api = self.clone();
        paginate(
            options,
            |m: &M| Cow::Borrowed(m.sys_id().unwrap_or_default()),
            move |req: PageRequest| {
                let api = api.clone();
                let filter = filter.clone();
                async move {
                    let table = api.table().to_owned();
                    let after = crate::paging::decode(&table, req.token.as_ref())?;
                    let size = req.size_or(1000).clamp(1, MAX_LIMIT);
                    let found = crate::paging::keyset(&api, filter, after.as_deref(), size).await?;
                    let next = found.next.map(|last| crate::paging::encode(&table, &last));
                    Ok(Page::new(found.items, next).with_total(if after.is_none() {
                        found.total
                    } else {
                        None
                    }))
                }
            },
        )
    }
}

fn decode_one<M: serde::de::DeserializeOwned>(response: &Response) -> Result<M> {
    Ok(response.json::<One<M>>()?.result)
}

/// The `sysparm_offset` of the `rel="next"` link of a `Link` header.
pub fn next_offset(link: &str) -> Option<u64> {
    let mut rest = link;
    while let Some(start) = rest.find('<') {
        let after = &rest[start + 1..];
        let end = after.find('>')?;
        let url = &after[..end];
        let tail = &after[end + 1..];
        let params_end = tail.find('<').unwrap_or(tail.len());
        let params = &tail[..params_end];
        let is_next = params
            .split(';')
            .map(|p| p.trim().trim_end_matches(',').trim())
            .any(|p| p.eq_ignore_ascii_case("rel=\"next\"") || p.eq_ignore_ascii_case("rel=next"));
        if is_next {
            let query = url.split_once('?').map_or("", |(_, q)| q);
            return url::form_urlencoded::parse(query.as_bytes())
                .find(|(k, _)| k == "sysparm_offset")
                .and_then(|(_, v)| v.parse().ok());
        }
        rest = &tail[params_end..];
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_headers() {
        let h = r#"<https://x.service-now.com/api/now/table/sys_user?sysparm_limit=2&sysparm_offset=0&sysparm_fields=sys_id%2Cname>;rel="first",<https://x.service-now.com/api/now/table/sys_user?sysparm_limit=2&sysparm_offset=4>;rel="next",<https://x/api/now/table/sys_user?sysparm_offset=0&sysparm_limit=2>;rel="prev",<https://x/api/now/table/sys_user?sysparm_offset=1530&sysparm_limit=2>;rel="last""#;
        assert_eq!(next_offset(h), Some(4));
        let last = r#"<https://x/api/now/table/sys_user?sysparm_offset=0&sysparm_limit=2>;rel="first",<https://x/api/now/table/sys_user?sysparm_offset=2&sysparm_limit=2>;rel="last""#;
        assert_eq!(next_offset(last), None);
        assert_eq!(next_offset(""), None);
        assert_eq!(next_offset("garbage"), None);
    }

    #[test]
    fn names_and_ids_are_checked() {
        assert!(check_table("u_custom_table").is_ok());
        for bad in ["", "Incident", "incident/1", "../x", "a b", "x?y"] {
            assert!(check_table(bad).is_err(), "{bad}");
        }
        assert!(check_sys_id("x", "9d385017c611228701d22104cc95c371").is_ok());
        assert!(check_sys_id("x", "../9d385017c611228701d22104cc95c3").is_err());
    }
}
