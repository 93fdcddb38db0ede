//! Id-ordered paging that stays correct while rows are added or purged.
//!
//! GLPI pages with `range=a-b` (an offset). Offsets shift when rows before the cursor
//! are purged during an import, so a plain offset scheme skips rows. Every listing here
//! is ordered by id and every page token carries the last id seen, so the next page
//! starts strictly after it, whatever happened in between:
//!
//! - **keyset** (users): `GET /search/User` with the criterion `ID contains >N` (GLPI's
//!   number fields accept `>N` in a `contains` criterion) sorted by ID — one request per
//!   page, exact by construction. The search also returns login, names, active flag and
//!   emails, so an account page costs one request.
//! - **seek** (groups, profiles, memberships, profile assignments): `GET /<Itemtype>` has
//!   no "id greater than" filter, so the token also carries the position where the last
//!   id was. The next request asks for the window from that position *including* the
//!   last row seen; if that row (or one before it) is at the head of the window, nothing
//!   was skipped. If the window starts after it, rows were purged before the cursor and
//!   the window moves back (doubling each time) until it holds the boundary; if rows
//!   were inserted below the cursor (ids are auto-increment, so only by an import), it
//!   moves forward. Rows added during an import get higher ids and are read at the end.
//!
//! Tokens look like `glpi1:<scope>:<last id>:<position>` and are checked when read back:
//! a token from another listing, or edited by hand, is `InvalidInput`.

use accesslink_core::{Error, PageToken, Result};
use serde::de::DeserializeOwned;

use crate::api::{Criterion, Items, ListParams, SearchPage, SearchQuery, SearchType};

/// How far a seek may wander before giving up (each step is one request).
const MAX_SEEKS: usize = 64;

/// Where a listing stopped: the last id seen and where it was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Cursor {
    pub last: u64,
    pub pos: u64,
}

/// A token for `scope` at `cursor`.
pub(crate) fn encode(scope: &str, cursor: Cursor) -> PageToken {
    PageToken::new(format!("glpi1:{scope}:{}:{}", cursor.last, cursor.pos))
}

/// The cursor in a token, checking it belongs to `scope`.
pub(crate) fn decode(scope: &str, token: Option<&PageToken>) -> Result<Option<Cursor>> {
    let Some(token) = token else {
        return Ok(None);
    };
    let bad = || {
        Error::invalid_input(format!(
            "page token {:?} is not a GLPI {scope} token",
            accesslink_core::redact::truncate(token.as_str(), 60)
        ))
    };
    let mut parts = token.as_str().split(':');
    if parts.next() != Some("glpi1") || parts.next() != Some(scope) {
        return Err(bad());
    }
    let mut num = || {
        parts
            .next()
            .filter(|p| !p.is_empty() && p.len() <= 19 && p.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|p| p.parse::<u64>().ok())
            .ok_or_else(bad)
    };
    let last = num()?;
    let pos = num()?;
    if parts.next().is_some() {
        return Err(bad());
    }
    Ok(Some(Cursor { last, pos }))
}

/// Items with an id.
pub(crate) trait HasId {
    fn id(&self) -> u64;
}

macro_rules! has_id {
    ($($t:ty),*) => { $(impl HasId for $t { fn id(&self) -> u64 { self.id } })* };
}
has_id!(
    crate::models::Group,
    crate::models::Profile,
    crate::models::Entity,
    crate::models::GroupUser,
    crate::models::ProfileUser,
    crate::models::User
);

/// One page of a seek listing.
#[derive(Debug)]
pub(crate) struct SeekPage<T> {
    pub items: Vec<T>,
    pub next: Option<Cursor>,
    pub total: Option<u64>,
}

fn sorted<T: HasId>(itemtype: &str, rows: &[T]) -> Result<()> {
    if rows.windows(2).all(|w| w[0].id() < w[1].id()) {
        Ok(())
    } else {
        Err(Error::protocol(
            format!("GET /{itemtype}"),
            "the listing is not sorted by id although sort=id was asked; paging cannot be trusted",
        ))
    }
}

/// The page after `cursor` (the first page without one), `size` rows at most.
pub(crate) async fn seek<T: HasId + DeserializeOwned>(
    items: Items<'_, T>,
    cursor: Option<Cursor>,
    size: u64,
) -> Result<SeekPage<T>> {
    let by_id = ListParams::by_id();
    let Some(cursor) = cursor else {
        let listing = items.list(0, size, &by_id).await?;
        sorted(items.itemtype(), &listing.items)?;
        let next = match listing.items.last() {
            Some(last) if listing.more() => Some(Cursor {
                last: last.id(),
                pos: listing.items.len() as u64 - 1,
            }),
            _ => None,
        };
        return Ok(SeekPage {
            total: listing.total(),
            items: listing.items,
            next,
        });
    };
    let mut start = cursor.pos;
    let mut step = size.max(1);
    for _ in 0..MAX_SEEKS {
        // One row more than a page: the boundary row, then a full page.
        let listing = items.list(start, size + 1, &by_id).await?;
        let total = listing.total();
        let more_after = listing.more();
        let rows = listing.items;
        sorted(items.itemtype(), &rows)?;
        let first_after = rows.iter().position(|r| r.id() > cursor.last);
        match (rows.first(), first_after) {
            (None, _) if start == 0 => {
                return Ok(SeekPage {
                    items: Vec::new(),
                    next: None,
                    total,
                });
            }
            // Fewer rows than the cursor's position, or a window that starts after the
            // last row seen: rows before the cursor were purged. Move back.
            (None, _) | (Some(_), Some(0)) if start > 0 => {
                tracing::debug!(
                    itemtype = items.itemtype(),
                    start,
                    step,
                    "rows before the cursor were purged; seeking back"
                );
                start = start.saturating_sub(step);
                if let Some(t) = total {
                    start = start.min(t.saturating_sub(1));
                }
                step = step.saturating_mul(2);
            }
            // Every row is at or before the cursor.
            (Some(_), None) => {
                if !more_after {
                    return Ok(SeekPage {
                        items: Vec::new(),
                        next: None,
                        total,
                    });
                }
                start += rows.len() as u64 - 1;
            }
            (_, first) => {
                let skip = first.unwrap_or(0);
                let available = rows.len() - skip;
                let take = available.min(size as usize);
                let more = available > take || more_after;
                let page: Vec<T> = rows.into_iter().skip(skip).take(take).collect();
                let next = match page.last() {
                    Some(last) if more => Some(Cursor {
                        last: last.id(),
                        pos: start + (skip + take) as u64 - 1,
                    }),
                    _ => None,
                };
                return Ok(SeekPage {
                    items: page,
                    next,
                    total,
                });
            }
        }
    }
    Err(Error::protocol(
        format!("GET /{}", items.itemtype()),
        format!(
            "the listing kept shifting under the cursor for {MAX_SEEKS} requests; resume the import later"
        ),
    ))
}

/// Search option of the id, the same on every itemtype.
pub(crate) const ID_FIELD: u32 = 2;

/// The search page of rows with an id greater than `after` (and below `below`, for
/// one partition of the listing: `crate::partition`), sorted by id.
pub(crate) async fn search_after<T: DeserializeOwned>(
    items: Items<'_, T>,
    after: u64,
    below: Option<u64>,
    size: u64,
    display: &[u32],
) -> Result<SearchPage> {
    let mut fields = vec![ID_FIELD];
    fields.extend(display.iter().copied().filter(|f| *f != ID_FIELD));
    let mut query = SearchQuery::new(size).criterion(Criterion::new(
        ID_FIELD,
        SearchType::Contains,
        format!(">{after}"),
    ));
    if let Some(below) = below {
        query = query.criterion(Criterion::new(
            ID_FIELD,
            SearchType::Contains,
            format!("<{below}"),
        ));
    }
    let query = query.display(fields).sort(ID_FIELD);
    let page = items.search(&query).await?;
    let ids: Vec<Option<u64>> = page
        .rows
        .iter()
        .map(|r| crate::api::row_u64(r, ID_FIELD))
        .collect();
    let ok = ids
        .iter()
        .all(|id| id.is_some_and(|id| id > after && below.is_none_or(|b| id < b)))
        && ids.windows(2).all(|w| w[0] < w[1]);
    if !ok {
        return Err(Error::protocol(
            format!("GET /search/{}", items.itemtype()),
            format!(
                "the search for ids above {after} returned rows out of order or at or below it; paging cannot be trusted"
            ),
        ));
    }
    Ok(page)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_are_checked() {
        let c = Cursor {
            last: 1234,
            pos: 56,
        };
        let t = encode("User", c);
        assert_eq!(t.as_str(), "glpi1:User:1234:56");
        assert_eq!(decode("User", Some(&t)).unwrap(), Some(c));
        assert_eq!(decode("User", None).unwrap(), None);
        for bad in [
            "glpi1:Group:1:2",
            "glpi1:User:1",
            "glpi1:User:1:2:3",
            "glpi1:User:-1:2",
            "glpi1:User:1:x",
            "glpi2:User:1:2",
            "20",
            "",
        ] {
            let e = decode("User", Some(&PageToken::new(bad))).unwrap_err();
            assert_eq!(e.kind(), accesslink_core::ErrorKind::InvalidInput, "{bad}");
        }
    }
}
