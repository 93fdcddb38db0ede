//! Typed handles: `client.users()`, `client.roles()`, `client.user_groups()`.
//!
//! | operation | request |
//! |---|---|
//! | [`Users::search_page`] | `GET users/search?pageNo&pageSize&sortName&isDescendingOrder&queryString` |
//! | [`Users::get_opt`] | `GET users/{id}` (404 → `None`) |
//! | [`Users::create`] / [`Users::update`] | `POST users` / `POST users/{id}` |
//! | [`Users::act`] | `POST users/{id}/{ACTIVATE,DEACTIVATE,TERMINATE}` |
//! | [`Roles::search_page`] / [`Roles::get_opt`] | `GET roles/search` / `GET roles/{id}` |
//! | [`Roles::create`] / [`Roles::update`] / [`Roles::delete`] | `POST roles` / `POST roles/{id}` / `DELETE roles/{id}` |
//! | [`UserGroups::list_page`] / [`UserGroups::get_opt`] | `GET userGroups` / `GET userGroups/{id}` |
//! | [`UserGroups::members_page`] | `GET userGroups/{id}/users` |
//! | [`UserGroups::add_members`] / [`UserGroups::remove_members`] | `POST` / `DELETE userGroups/{id}/users` with `[{"id"}]` |
//! | [`Tickets::create`] / [`Tickets::get_opt`] / [`Tickets::update`] | `POST incidents` / `GET incidents/{id}` / `POST incidents/{id}` (and `serviceRequests`) |
//! | [`Tickets::close`] / [`Tickets::respond`] / [`Tickets::search_page`] | `POST …/{id}/close` / `POST …/{id}/responses` / `GET …/search` |

mod groups;
mod tickets;
mod users;

use accesslink_core::http::Request;
use accesslink_core::{Error, ErrorKind, Result};
use serde::Serialize;

pub use groups::{Roles, UserGroups};
pub use tickets::Tickets;
pub use users::Users;

/// The most the connector asks for per page. The spec states no maximum; 500 keeps
/// answers small enough for the default body cap with room to spare.
pub const MAX_PAGE_SIZE: u32 = 500;

/// Paging of every `/search`-style GET (fact sheet §1.6). The default asks for page 1
/// of 100 sorted by id ASCENDING: OpsRamp's own default is descending, which moves
/// every item down a page whenever a user is created during an import.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct SearchParams {
    /// 1-based page number.
    pub page_no: u32,
    /// Items per page.
    pub page_size: u32,
    /// The sort key (`id`).
    pub sort_name: String,
    /// `false` for ascending ids.
    pub is_descending_order: bool,
    /// `key:value` filters joined with `+` (sent as `%2B`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query_string: Option<String>,
}

impl Default for SearchParams {
    fn default() -> Self {
        SearchParams {
            page_no: 1,
            page_size: 100,
            sort_name: "id".into(),
            is_descending_order: false,
            query_string: None,
        }
    }
}

impl SearchParams {
    /// Page `page_no` (1-based) of `page_size` items, ascending by id.
    pub fn page(page_no: u32, page_size: u32) -> Self {
        SearchParams {
            page_no: page_no.max(1),
            page_size: page_size.clamp(1, MAX_PAGE_SIZE),
            ..SearchParams::default()
        }
    }

    /// Adds a `key:value` filter. Values cannot hold `+` (it separates filters and has
    /// no escape) or control characters: such a value is refused, never sent.
    pub fn filter(mut self, key: &str, value: &str) -> Result<Self> {
        check_filter(key)?;
        check_filter(value)?;
        let pair = format!("{key}:{value}");
        self.query_string = Some(match self.query_string.take() {
            Some(q) => format!("{q}+{pair}"),
            None => pair,
        });
        Ok(self)
    }
}

fn check_filter(s: &str) -> Result<()> {
    if s.is_empty() || s.len() > 255 || s.contains('+') || s.chars().any(char::is_control) {
        return Err(Error::invalid_input(format!(
            "OpsRamp search filter {:?} must be 1-255 characters without `+` or control characters",
            accesslink_core::redact::truncate(s, 60)
        )));
    }
    Ok(())
}

/// Sets the search parameters as the request's query with spaces as `%20` (fact sheet
/// §1.6). Form encoding writes a space as `+`, which OpsRamp's `queryString` may read as
/// its filter separator, splitting `… 0000` date offsets and logins with a space; a
/// literal `+` is already `%2B` there, so every remaining `+` is a space.
pub(crate) fn search_query(req: Request, params: &SearchParams) -> Result<Request> {
    let mut req = req.query(params)?;
    let fixed = req.url().query().map(|q| q.replace('+', "%20"));
    req.url_mut().set_query(fixed.as_deref());
    Ok(req)
}

/// Ids that go into paths (`USR0000002145`, `ROLE-<uuid>`, `USRGRP-<uuid>`): 1-64
/// letters, digits, `_` or `-`. Anything else is refused before a request is made.
pub fn check_id(what: &str, id: &str) -> Result<()> {
    let ok = (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(Error::invalid_input(format!(
            "OpsRamp {what} id {:?} must be 1-64 letters, digits, `_` or `-`",
            accesslink_core::redact::truncate(id, 60)
        )))
    }
}

/// `Ok(None)` for a 404.
pub(crate) fn not_found_as_none<T>(r: Result<T>) -> Result<Option<T>> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_join_with_plus_and_refuse_injection() {
        let p = SearchParams::page(2, 50)
            .filter("loginName", "jdoe")
            .unwrap()
            .filter("status", "active")
            .unwrap();
        assert_eq!(
            p.query_string.as_deref(),
            Some("loginName:jdoe+status:active")
        );
        let q = serde_urlencoded::to_string(&p).unwrap();
        assert!(
            q.contains("queryString=loginName%3Ajdoe%2Bstatus%3Aactive"),
            "{q}"
        );
        assert!(q.contains("isDescendingOrder=false"), "{q}");
        for bad in ["a+status:inactive", "", "x\ny"] {
            let e = SearchParams::default()
                .filter("loginName", bad)
                .unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidInput, "{bad:?}");
        }
    }

    #[test]
    fn ids_that_would_change_the_path_are_refused() {
        assert!(check_id("user", "USR0000002145").is_ok());
        assert!(check_id("role", "ROLE-0074a2f1-9c1e-4f7e-8f00-0a1b2c3d4e5f").is_ok());
        for bad in [
            "",
            "../roles",
            "USR1/ACTIVATE",
            "USR1?x=1",
            "USR 1",
            "USR%2F1",
        ] {
            assert!(check_id("user", bad).is_err(), "{bad:?}");
        }
    }
}
