//! Typed handles over the v3 API: [`Tickets`] for requests and changes, [`People`] for
//! requesters and technicians, [`Lookups`] for support groups, roles, statuses,
//! priorities and categories, [`Worklogs`] and notes of a ticket.

mod lookups;
mod people;
mod tickets;
mod worklogs;

pub use lookups::Lookups;
pub use people::{People, Requesters};
pub use tickets::{ListPage, Tickets};
pub use worklogs::{Note, Worklog, Worklogs};

use accesslink_core::{Error, Result};
use serde_json::{Map, Value};

use crate::client::SdpClient;
use crate::input;
use crate::models::ListInfo;

/// `GET /{path}?input_data={"list_info":…}`: the rows under `key` and the answer's
/// `list_info`. A body without either is a protocol error, never an empty page.
pub(crate) async fn list_rows(
    client: &SdpClient,
    path: &str,
    key: &str,
    list_info: &Value,
) -> Result<(Vec<Value>, ListInfo)> {
    let http = client.http();
    let what = format!("sdp {path}");
    let req = input::query(http.get(path)?, list_info);
    let mut body: Map<String, Value> = http.send_json(req).await?;
    let Some(Value::Array(rows)) = body.remove(key) else {
        return Err(Error::protocol(
            what,
            format!("the list answer has no {key:?} array"),
        ));
    };
    let Some(info @ Value::Object(_)) = body.remove("list_info") else {
        return Err(Error::protocol(what, "the list answer has no list_info"));
    };
    let info: ListInfo = serde_json::from_value(info)
        .map_err(|e| Error::protocol(what, format!("list_info: {e}")))?;
    Ok((rows, info))
}

/// Checks a page against what was asked: it starts at `start`, and a page that says
/// more rows follow is not empty.
pub(crate) fn check_page(what: &str, start: u64, info: &ListInfo, rows: usize) -> Result<()> {
    if info.start_index.is_some_and(|s| s != start) {
        return Err(Error::protocol(
            format!("sdp {what}"),
            format!(
                "asked for rows from {start}, got a page from {:?}",
                info.start_index
            ),
        ));
    }
    if info.has_more_rows == Some(true) && rows == 0 {
        return Err(Error::protocol(
            format!("sdp {what}"),
            "an empty page says more rows follow",
        ));
    }
    Ok(())
}
