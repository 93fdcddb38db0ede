//! Typed handles over the TOPdesk REST API: [`Incidents`], [`OperatorChanges`],
//! [`Persons`] and [`Operators`] (one generic [`People`] handle), [`OperatorGroups`] and
//! [`PermissionGroups`]. The trait impls call these and
//! never build URLs themselves.
//!
//! Lists (fact sheet §3.5, the vendor's API description): `pageStart` (offset) and
//! `pageSize` (at most 10 000); the answer is a bare JSON array, **206 Partial Content**
//! while more rows may follow, **200** on the last page and **204 No Content** when
//! nothing matches. Every handle's `list` enforces that contract: any other 2xx, a body that is
//! not an array (`{}`, `null`), a 206 without rows or a page longer than asked for is a
//! `Protocol` error, never an empty page.

mod changes;
mod incidents;
mod people;

use accesslink_core::http::{HttpClient, Request};
use accesslink_core::{Error, Result};
use http::StatusCode;
use serde::Serialize;
use serde::de::DeserializeOwned;

pub use self::changes::{MAX_CHANGE_PAGE, OperatorChanges};
pub use self::incidents::Incidents;
pub use self::people::{
    AccountRecord, CommonFields, GroupList, OperatorGroups, Operators, People, PermissionGroups,
    Persons,
};
use crate::fiql::Fiql;
use crate::settings::MAX_PAGE_SIZE;

/// What to list: the FIQL filter, the fields to return and the sort order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ListParams {
    /// The FIQL filter.
    pub query: Option<Fiql>,
    /// Fields to return (`fields=`), all when empty.
    pub fields: Vec<&'static str>,
    /// Sort order (`creationDate:asc`), the server's when unset.
    pub sort: Option<&'static str>,
}

impl ListParams {
    /// Everything, in the server's order.
    pub fn new() -> Self {
        ListParams::default()
    }

    /// Filters with a FIQL expression.
    #[must_use]
    pub fn query(mut self, q: Fiql) -> Self {
        self.query = Some(q);
        self
    }

    /// Asks for these fields only.
    #[must_use]
    pub fn fields(mut self, fields: &[&'static str]) -> Self {
        self.fields = fields.to_vec();
        self
    }

    /// Sorts (`id:asc`).
    #[must_use]
    pub fn sort(mut self, sort: &'static str) -> Self {
        self.sort = Some(sort);
        self
    }
}

/// `start`/`page_size`, the older parameter names (the progress trail takes only these).
#[derive(Serialize)]
struct LegacyQuery {
    start: u64,
    page_size: u32,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Query<'a> {
    page_start: u64,
    page_size: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    query: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    fields: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sort: Option<&'a str>,
}

/// One page of a list.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ListPage<T> {
    /// The rows.
    pub items: Vec<T>,
    /// Whether the server said more rows may follow (206).
    pub more: bool,
}

/// Fetches one page of `path` at offset `start` with `size` rows (capped at 10 000),
/// checking TOPdesk's paging contract (see the [module docs](self)).
pub(crate) async fn list_page<T: DeserializeOwned>(
    http: &HttpClient,
    path: &str,
    start: u64,
    size: u32,
    params: &ListParams,
) -> Result<ListPage<T>> {
    let size = size.clamp(1, MAX_PAGE_SIZE);
    let query = Query {
        page_start: start,
        page_size: size,
        query: params.query.as_ref().map(ToString::to_string),
        fields: (!params.fields.is_empty()).then(|| params.fields.join(",")),
        sort: params.sort,
    };
    let req = http.get(path)?.query(&query)?;
    read_page(http, req, size).await
}

/// Fetches one page of `path` with the older `start`/`page_size` parameters, in the same
/// contract as [`list_page`].
pub(crate) async fn list_page_legacy<T: DeserializeOwned>(
    http: &HttpClient,
    path: &str,
    start: u64,
    size: u32,
) -> Result<ListPage<T>> {
    let req = http.get(path)?.query(&LegacyQuery {
        start,
        page_size: size,
    })?;
    read_page(http, req, size).await
}

async fn read_page<T: DeserializeOwned>(
    http: &HttpClient,
    req: Request,
    size: u32,
) -> Result<ListPage<T>> {
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
    // `Option<Vec>` so that `null` is told apart from `[]`; an object fails to decode.
    let items: Option<Vec<T>> = response.json()?;
    let Some(items) = items else {
        return Err(Error::protocol(
            label,
            "the list body is null, not an array of rows",
        ));
    };
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

/// Appends `segment` to the request's path, percent-encoded (a number with spaces
/// becomes `I%202405%20123`).
pub(crate) fn push_segment(mut req: Request, segment: &str) -> Result<Request> {
    req.url_mut()
        .path_segments_mut()
        .map_err(|()| Error::invalid_input("the API URL cannot take a path"))?
        .pop_if_empty()
        .push(segment);
    Ok(req)
}

/// Sends `req`, `Ok(None)` on 404.
pub(crate) async fn get_opt<T: DeserializeOwned>(
    http: &HttpClient,
    req: Request,
) -> Result<Option<T>> {
    match http.send_json(req).await {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.kind() == accesslink_core::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}
