//! Offset paging over users that loses nothing when users are deleted mid-import.
//!
//! `GET /v2/users` pages by offset in insertion order (fact sheet §2.4). When users before
//! the cursor are deleted during an import, every later user moves forward, and a plain
//! offset would skip as many users as were deleted — an import that then marks the
//! skipped accounts as gone would deprovision people by mistake. So a token carries the
//! offset *and* the id of the last user read (`og1:users:<offset>:<id>`), and each page
//! asks for one row more, starting at that last user:
//!
//! - the boundary user is first: nothing moved, the rest is the page;
//! - it is further in (rows were added before it): the page starts after it;
//! - it is not there (rows before it were deleted): windows of up to 100 rows are read
//!   backwards until it is found, and the page starts after it. If it is never found (it
//!   was itself deleted, or more than 16 windows of rows went), reading restarts at the
//!   earliest position looked at: users may come twice — the paging helpers drop and
//!   count them — but none is skipped.
//!
//! Pages are asked for in creation order (`sort=insertedAt&order=asc`), so users added
//! during an import are appended and read at the end.

use accesslink_core::{Error, PageToken, Result};

use crate::api::{ListUsers, MAX_USERS_PER_PAGE, SortOrder, UserSort, Users};
use crate::models::User;
use crate::refs::{token, untoken};

/// How many windows a seek reads backwards before giving up on the boundary.
const MAX_SEEKS: usize = 16;

/// Where a user listing stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Cursor {
    /// Position of the next user to read.
    pub offset: u64,
    /// Id of the last user read, when there was one.
    pub last: Option<String>,
    /// How often the listing was read again from earlier because the last user read
    /// was gone: part of the token, so a re-read page never repeats an earlier token
    /// (the paging helpers fail on a repeated token).
    pub restarts: u32,
}

pub(crate) fn encode(scope: &str, c: &Cursor) -> PageToken {
    match (&c.last, c.restarts) {
        (Some(id), 0) => token(scope, format!("{}:{id}", c.offset)),
        (Some(id), r) => token(scope, format!("{}:{id}:{r}", c.offset)),
        (None, _) => token(scope, c.offset),
    }
}

pub(crate) fn decode(scope: &str, t: Option<&PageToken>) -> Result<Option<Cursor>> {
    let Some(value) = untoken(scope, t)? else {
        return Ok(None);
    };
    let bad = || {
        Error::invalid_input(format!(
            "page token {:?} is not an OpsGenie {scope} token",
            accesslink_core::redact::truncate(value, 60)
        ))
    };
    let mut parts = value.splitn(3, ':');
    let offset = parts.next().unwrap_or_default();
    let last = parts.next();
    let restarts = match parts.next() {
        None => 0,
        Some(r) if !r.is_empty() && r.len() <= 6 && r.bytes().all(|b| b.is_ascii_digit()) => {
            r.parse().map_err(|_| bad())?
        }
        Some(_) => return Err(bad()),
    };
    if offset.is_empty() || offset.len() > 12 || !offset.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let last = match last {
        Some(id)
            if !id.is_empty()
                && id.len() <= 64
                && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') =>
        {
            Some(id.to_owned())
        }
        Some(_) => return Err(bad()),
        None => None,
    };
    Ok(Some(Cursor {
        offset: offset.parse().map_err(|_| bad())?,
        last,
        restarts,
    }))
}

/// One page of users, the cursor after it, and the reported total.
#[derive(Debug)]
pub(crate) struct UsersPage {
    pub users: Vec<User>,
    pub next: Option<Cursor>,
    pub total: Option<u64>,
}

async fn window(
    users: Users<'_>,
    offset: u64,
    limit: u64,
) -> Result<(Vec<User>, Option<u64>, bool)> {
    let limit = limit.clamp(1, u64::from(MAX_USERS_PER_PAGE)) as u32;
    // Creation order, asked for explicitly: the default sort is not documented to be
    // `insertedAt`, and only in creation order are new users appended.
    let params = ListUsers::new()
        .offset(offset)
        .limit(limit)
        .sort(UserSort::InsertedAt, SortOrder::Asc);
    let page = users.list(&params).await?;
    let more = page.next_offset().is_some();
    Ok((page.users, page.total, more))
}

/// The page at `cursor` (the first page without one), `size` users at most.
pub(crate) async fn users_after(
    users: Users<'_>,
    cursor: Option<Cursor>,
    size: u32,
) -> Result<UsersPage> {
    let size = u64::from(size.clamp(1, MAX_USERS_PER_PAGE));
    let mut restarts = cursor.as_ref().map_or(0, |c| c.restarts);
    let (rows, pos, total, more) = match cursor {
        Some(Cursor {
            offset,
            last: Some(last),
            ..
        }) if offset > 0 => {
            let start = offset - 1;
            let (rows, total, more) = window(users, start, size + 1).await?;
            match rows.iter().position(|u| u.id == last) {
                Some(p) => {
                    let pos = start + p as u64 + 1;
                    let rest: Vec<User> = rows.into_iter().skip(p + 1).collect();
                    if rest.is_empty() && more {
                        let (rows, total, more) = window(users, pos, size).await?;
                        (rows, pos, total, more)
                    } else {
                        (rest, pos, total, more)
                    }
                }
                None => {
                    let (pos, found) = seek_back(users, start, &last).await?;
                    restarts += u32::from(!found);
                    let (rows, total, more) = window(users, pos, size).await?;
                    (rows, pos, total, more)
                }
            }
        }
        other => {
            let pos = other.map_or(0, |c| c.offset);
            let (rows, total, more) = window(users, pos, size).await?;
            (rows, pos, total, more)
        }
    };
    let next = match rows.last() {
        Some(u) if more => Some(Cursor {
            offset: pos + rows.len() as u64,
            last: Some(u.id.clone()),
            restarts,
        }),
        _ => None,
    };
    Ok(UsersPage {
        users: rows,
        next,
        total,
    })
}

/// The position right after `last`, looking backwards from `start` (`true`), or the
/// earliest position looked at when `last` is gone (`false`).
async fn seek_back(users: Users<'_>, start: u64, last: &str) -> Result<(u64, bool)> {
    let mut hi = start;
    for _ in 0..MAX_SEEKS {
        if hi == 0 {
            break;
        }
        let lo = hi.saturating_sub(u64::from(MAX_USERS_PER_PAGE) - 1);
        let (rows, _, _) = window(users, lo, hi - lo + 1).await?;
        if let Some(p) = rows.iter().position(|u| u.id == last) {
            tracing::debug!(
                moved = start - (lo + p as u64),
                "users before the cursor were deleted; resuming after the last user read"
            );
            return Ok((lo + p as u64 + 1, true));
        }
        hi = lo;
    }
    tracing::warn!(
        from = hi,
        "the last user read is gone; reading again from an earlier position (users may repeat, none is skipped)"
    );
    Ok((hi, false))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_are_checked() {
        let mut c = Cursor {
            offset: 300,
            last: Some("7b1dcdaf-0000-4aae-80cd-00000000012b".into()),
            restarts: 0,
        };
        let t = encode("users", &c);
        assert_eq!(
            t.as_str(),
            "og1:users:300:7b1dcdaf-0000-4aae-80cd-00000000012b"
        );
        assert_eq!(decode("users", Some(&t)).unwrap(), Some(c.clone()));
        c.restarts = 2;
        let t = encode("users", &c);
        assert!(t.as_str().ends_with(":2"));
        assert_eq!(decode("users", Some(&t)).unwrap(), Some(c));
        let plain = encode(
            "users",
            &Cursor {
                offset: 5,
                last: None,
                restarts: 0,
            },
        );
        assert_eq!(decode("users", Some(&plain)).unwrap().unwrap().offset, 5);
        for bad in [
            "og1:users:x",
            "og1:users:1:",
            "og1:users:1:a/b",
            "og1:users:-1",
            "og1:roles:1",
            "og1:users:1:a:b",
        ] {
            assert!(
                decode("users", Some(&PageToken::new(bad))).is_err(),
                "{bad}"
            );
        }
    }
}
