//! Keyset paging over a table: `sys_id>last^ORDERBYsys_id`, `sysparm_limit`, no offset.
//!
//! Offset paging skips rows when rows before the cursor are deleted during an import and
//! repeats rows when some are inserted; keyset paging does neither. Two facts of the
//! Table API shape the loop (fact sheet §1 "Query parameters"):
//!
//! - ACLs filter rows *after* the limit is applied, so a page can be short, or empty,
//!   while more rows exist. A short page never ends the listing; only an empty one does,
//!   and only when `X-Total-Count` (which counts hidden rows too) says nothing is left
//!   after the cursor. When it says otherwise, the window was all hidden rows: the loop
//!   steps over it with `sysparm_offset` on the same keyset query until it finds a
//!   visible row or passes the count.
//! - The count is a `select count(*)` on the instance for every request that does not
//!   send `sysparm_no_count=true`. Only the first page of a listing asks for it (it is
//!   the listing's `Page::total`); later pages skip it. An empty page that skipped it is
//!   asked once more *with* the count, since only the count tells the end of the listing
//!   from a window of hidden rows (the `Link` header of an uncounted answer is not
//!   documented to say whether rows follow). That costs two counts per listing instead of
//!   one per page, and the last one counts only the rows after the final cursor.
//! - `sys_id`s are fixed-width lowercase hex, so `>` on strings orders them.
//!
//! The page token is `sn1:<table>:<last sys_id>`; a token from another listing, or
//! edited by hand, is `InvalidInput`.

use accesslink_core::{Error, PageToken, Result};

use crate::api::{ListParams, TableApi};
use crate::models::{HasSysId, Record, is_sys_id};
use crate::query::Query;

/// A token for `table` after `last`.
pub(crate) fn encode(table: &str, last: &str) -> PageToken {
    PageToken::new(format!("sn1:{table}:{last}"))
}

/// The last `sys_id` in a token, checking it belongs to `table`.
pub(crate) fn decode(table: &str, token: Option<&PageToken>) -> Result<Option<String>> {
    let Some(token) = token else {
        return Ok(None);
    };
    let bad = || {
        Error::invalid_input(format!(
            "page token {:?} is not a ServiceNow {table} token",
            accesslink_core::redact::truncate(token.as_str(), 60)
        ))
    };
    let mut parts = token.as_str().splitn(3, ':');
    if parts.next() != Some("sn1") || parts.next() != Some(table) {
        return Err(bad());
    }
    match parts.next() {
        Some(last) if is_sys_id(last) => Ok(Some(last.to_owned())),
        _ => Err(bad()),
    }
}

/// One keyset page.
#[derive(Debug)]
pub(crate) struct KeysetPage<M> {
    pub items: Vec<M>,
    /// The last `sys_id` of this page; `None` when the listing is done.
    pub next: Option<String>,
    /// `X-Total-Count` of a listing's first page (every row, hidden ones included);
    /// `None` after a cursor, where it is not asked for.
    pub total: Option<u64>,
}

/// The page of rows matching `filter` after `after`, `size` at most.
pub(crate) async fn keyset<M: Record + HasSysId>(
    api: &TableApi<'_, M>,
    filter: Query,
    after: Option<&str>,
    size: u32,
) -> Result<KeysetPage<M>> {
    if filter.has_order() {
        // Keyset paging needs the rows in `sys_id` order; an order of the caller's
        // would come first and make every page fail the order check.
        return Err(Error::invalid_input(
            "a keyset-paged listing is ordered by sys_id: leave order_by out of its filter",
        ));
    }
    let mut query = filter;
    if let Some(last) = after {
        // Into every `^NQ` branch of the caller's filter, not just the last.
        query = query.after_sys_id(last);
    }
    let query = query.order_by("sys_id");
    // The count only on the first page of a listing: see the module docs.
    let counted = after.is_none();
    let mut params = ListParams::new(query).limit(size).no_count(!counted);
    let mut page = api.list_page(&params).await?;
    let reported = if counted { page.total } else { None };
    if page.items.is_empty() && !counted {
        // The end, or a window of hidden rows: only the count tells.
        params = params.no_count(false);
        page = api.list_page(&params).await?;
    }
    // Rows after the cursor, hidden ones included (0 when the instance sent no count).
    let left = page.total.unwrap_or(0);
    params = params.no_count(true);
    let mut offset = 0u64;
    // An empty window with rows left after the cursor: every row in it is hidden.
    while page.items.is_empty() {
        offset += u64::from(size);
        if offset >= left {
            break;
        }
        tracing::debug!(
            table = api.table(),
            offset,
            left,
            "a whole page of rows is hidden by ACLs; stepping over it"
        );
        params = params.offset(offset);
        page = api.list_page(&params).await?;
    }
    check_order(api.table(), after, &page.items)?;
    let next = page
        .items
        .last()
        .and_then(|r| r.sys_id())
        .map(str::to_owned);
    Ok(KeysetPage {
        items: page.items,
        next,
        total: reported,
    })
}

/// Refuses a page that is not strictly after the cursor and in `sys_id` order: the
/// instance ignored the keyset condition, and following it could loop or skip rows.
fn check_order<M: HasSysId>(table: &str, after: Option<&str>, rows: &[M]) -> Result<()> {
    let mut prev = after.unwrap_or("");
    for r in rows {
        let Some(id) = r.sys_id() else {
            return Err(Error::protocol(
                format!("GET /api/now/table/{table}"),
                "a row without sys_id although sysparm_fields asked for it",
            ));
        };
        if id <= prev {
            return Err(Error::protocol(
                format!("GET /api/now/table/{table}"),
                format!(
                    "rows out of sys_id order or at or before the cursor ({id} after {prev}); paging cannot be trusted"
                ),
            ));
        }
        prev = id;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use accesslink_core::ErrorKind;

    const ID: &str = "9d385017c611228701d22104cc95c371";

    #[test]
    fn tokens_round_trip_and_are_checked() {
        let t = encode("sys_user", ID);
        assert_eq!(t.as_str(), format!("sn1:sys_user:{ID}"));
        assert_eq!(decode("sys_user", Some(&t)).unwrap().as_deref(), Some(ID));
        assert_eq!(decode("sys_user", None).unwrap(), None);
        for bad in [
            format!("sn1:sys_user_group:{ID}"),
            "sn1:sys_user:".to_owned(),
            format!("sn1:sys_user:{ID}^ORactive=true"),
            format!("sn2:sys_user:{ID}"),
            "20".to_owned(),
            String::new(),
        ] {
            let e = decode("sys_user", Some(&PageToken::new(bad.clone()))).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidInput, "{bad}");
        }
    }

    #[test]
    fn pages_out_of_order_are_refused() {
        let u = |id: &str| crate::models::User {
            sys_id: Some(id.into()),
            ..crate::models::User::default()
        };
        let a = "00000000000000000000000000000001";
        let b = "00000000000000000000000000000002";
        assert!(check_order("sys_user", None, &[u(a), u(b)]).is_ok());
        assert!(check_order("sys_user", None, &[u(b), u(a)]).is_err());
        assert!(check_order("sys_user", Some(b), &[u(a)]).is_err());
        assert!(check_order("sys_user", Some(a), &[u(a)]).is_err());
    }
}
