//! Typed handles: `client.issues()`, `client.jsm()`, `client.users()`, `client.groups()`.
//!
//! | handle | operation | Cloud | Data Center |
//! |---|---|---|---|
//! | [`Issues`] | `get_opt` | `GET /rest/api/3/issue/{key or id}` | `GET /rest/api/2/issue/{key or id}` |
//! | | `create` | `POST /rest/api/3/issue` (ADF description) | `POST /rest/api/2/issue` (string) |
//! | | `comment` | `POST …/issue/{key}/comment` (ADF body; JSM internal: `sd.public.comment` property) | same, string body |
//! | | `transitions`, `transition` | `GET`/`POST …/issue/{key}/transitions` | same |
//! | | `search_page` | `POST /rest/api/3/search/jql` (`nextPageToken`) | `POST /rest/api/2/search` (`startAt`/`total`) |
//! | [`Jsm`] | `create_request` | `POST /rest/servicedeskapi/request` | same |
//! | | `approvals` | `GET /rest/servicedeskapi/request/{key}/approval` (`start`/`limit`) | same |
//! | [`Users`] | `list_page` | `GET /rest/api/3/users/search` (bare array) | `GET /rest/api/2/user/search?username=.` |
//! | | `get_opt`, `create`, `delete` | `/rest/api/3/user?accountId=` | `/rest/api/2/user?username=` |
//! | | `set_active` | unsupported | `PUT /rest/api/2/user?username=` `{"active":…}` |
//! | [`Groups`] | `list_page` | `GET /rest/api/3/group/bulk` | `GET /rest/api/2/groups/picker` (one page) |
//! | | `members_page` | `GET /rest/api/3/group/member?groupId=` | `GET /rest/api/2/group/member?groupname=` |
//! | | `add_member`, `remove_member` | `POST`/`DELETE /rest/api/3/group/user?groupId=` | `…/2/group/user?groupname=` |
//!
//! Issue keys and ids are checked ([`crate::refs`]) before they reach a path; every other
//! value goes in a query string or a JSON body, never into a path.

mod groups;
mod issues;
mod jsm;
mod users;

pub use groups::Groups;
pub use issues::{FIELDS, IssueFieldsRequest, Issues, SearchPage};
pub use jsm::Jsm;
pub use users::Users;

use accesslink_core::Result;

/// `Ok(None)` for a 404 (missing, or hidden from the caller: Jira does not tell which),
/// the value otherwise.
pub(crate) fn optional<T>(r: Result<T>) -> Result<Option<T>> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.as_api().is_some_and(|a| a.status.as_u16() == 404) => Ok(None),
        Err(e) => Err(e),
    }
}
