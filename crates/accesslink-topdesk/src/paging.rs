//! Resumable page tokens over TOPdesk's offset paging.
//!
//! A token is `td1:<scope>:<offset>:<last id>`: where the next page starts and the id
//! of the last row handed out. The next page must not hold that row again: a server
//! that repeats a page (or a listing that shifted under the cursor) is a `Protocol`
//! error, not a silent duplicate. Tokens are checked when read back; one from another
//! listing or edited by hand is `InvalidInput`.

use accesslink_core::{Error, Page, PageToken, Result, redact};

use crate::api::ListPage;

/// Where a listing continues.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Cursor {
    pub start: u64,
    /// The id of the last row of the previous page (`None` at the start of a scope).
    pub last: Option<String>,
}

impl Cursor {
    pub(crate) fn start() -> Cursor {
        Cursor {
            start: 0,
            last: None,
        }
    }
}

/// The token of `cursor` in `scope`.
pub(crate) fn encode(scope: &str, cursor: &Cursor) -> PageToken {
    PageToken::new(format!(
        "td1:{scope}:{}:{}",
        cursor.start,
        cursor.last.as_deref().unwrap_or("-")
    ))
}

/// The scope and cursor in a token; `scopes` are the scopes the listing accepts.
pub(crate) fn decode<'s>(scopes: &[&'s str], token: &PageToken) -> Result<(&'s str, Cursor)> {
    let bad = || {
        Error::invalid_input(format!(
            "page token {:?} is not a TOPdesk {} token",
            redact::truncate(token.as_str(), 60),
            scopes.join("/")
        ))
    };
    let mut parts = token.as_str().split(':');
    if parts.next() != Some("td1") {
        return Err(bad());
    }
    let scope = parts
        .next()
        .and_then(|s| scopes.iter().find(|x| **x == s))
        .ok_or_else(bad)?;
    let start = parts
        .next()
        .filter(|p| !p.is_empty() && p.len() <= 12 && p.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|p| p.parse::<u64>().ok())
        .ok_or_else(bad)?;
    let last = match parts.next() {
        Some("-") => None,
        Some(id) => Some(crate::refs::uuid(id).ok_or_else(bad)?),
        None => return Err(bad()),
    };
    if parts.next().is_some() {
        return Err(bad());
    }
    Ok((scope, Cursor { start, last }))
}

/// Checks a fetched page against the cursor and returns the rows and the cursor of the
/// next page. `id` names a row.
pub(crate) fn advance<T>(
    what: &str,
    cursor: &Cursor,
    page: ListPage<T>,
    id: impl Fn(&T) -> &str,
) -> Result<(Vec<T>, Option<Cursor>)> {
    let mut seen = std::collections::HashSet::new();
    for row in &page.items {
        let row_id = id(row);
        if cursor.last.as_deref() == Some(row_id) {
            return Err(Error::protocol(
                what,
                format!(
                    "the page at offset {} repeats row {row_id} of the previous page: the server repeated a page or the listing shifted; resume from the last token",
                    cursor.start
                ),
            ));
        }
        if !seen.insert(row_id) {
            return Err(Error::protocol(
                what,
                format!(
                    "row {row_id} appears twice on the page at offset {}",
                    cursor.start
                ),
            ));
        }
    }
    let next = match page.items.last() {
        Some(last) if page.more => Some(Cursor {
            start: cursor.start + page.items.len() as u64,
            last: Some(id(last).to_owned()),
        }),
        _ => None,
    };
    Ok((page.items, next))
}

/// A core page from rows and the next cursor.
pub(crate) fn page<T>(scope: &str, items: Vec<T>, next: Option<Cursor>) -> Page<T> {
    Page::new(items, next.map(|c| encode(scope, &c)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "f197bb75-8822-45e9-82ce-02983504020b";

    #[test]
    fn tokens_round_trip_and_are_checked() {
        let c = Cursor {
            start: 200,
            last: Some(ID.into()),
        };
        let t = encode("operator", &c);
        assert_eq!(t.as_str(), format!("td1:operator:200:{ID}"));
        assert_eq!(
            decode(&["operator", "person"], &t).unwrap(),
            ("operator", c)
        );
        let first = encode("person", &Cursor::start());
        assert_eq!(
            decode(&["operator", "person"], &first).unwrap().1,
            Cursor::start()
        );
        for bad in [
            "td1:group:0:-".to_owned(),
            "td1:operator:0".to_owned(),
            "td1:operator:x:-".to_owned(),
            "td1:operator:-1:-".to_owned(),
            "td1:operator:0:not-a-uuid".to_owned(),
            format!("td1:operator:0:{ID}:x"),
            "td2:operator:0:-".to_owned(),
            String::new(),
        ] {
            let e = decode(&["operator", "person"], &PageToken::new(bad.clone())).unwrap_err();
            assert_eq!(e.kind(), accesslink_core::ErrorKind::InvalidInput, "{bad}");
        }
    }

    #[test]
    fn a_repeated_page_is_an_error() {
        let ids = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<String>>();
        let first = ListPage {
            items: ids(&["a", "b"]),
            more: true,
        };
        let (rows, next) = advance(
            "GET /operators",
            &Cursor::start(),
            first.clone(),
            String::as_str,
        )
        .unwrap();
        assert_eq!(rows.len(), 2);
        let next = next.unwrap();
        assert_eq!((next.start, next.last.as_deref()), (2, Some("b")));
        let e = advance("GET /operators", &next, first, String::as_str).unwrap_err();
        assert_eq!(e.kind(), accesslink_core::ErrorKind::Protocol);
        let dup = ListPage {
            items: ids(&["c", "c"]),
            more: false,
        };
        assert!(advance("GET /operators", &next, dup, String::as_str).is_err());
    }
}
