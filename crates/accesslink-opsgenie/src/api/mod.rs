//! Typed handles: `client.users()`, `client.teams()`, `client.roles()`.
//!
//! | handle | operation | request |
//! |---|---|---|
//! | [`Users`] | `list`, `stream` | `GET /v2/users?offset=&limit=&sort=&order=&query=` |
//! | | `get_opt`, `get` | `GET /v2/users/{id or username}` (404 → `None`) |
//! | | `create` | `POST /v2/users` → the new id |
//! | | `update` | `PATCH /v2/users/{identifier}` |
//! | | `delete` | `DELETE /v2/users/{identifier}` |
//! | | `teams` | `GET /v2/users/{identifier}/teams` |
//! | [`Teams`] | `list` | `GET /v2/teams` (not paged, no members) |
//! | | `get_opt`, `get` | `GET /v2/teams/{identifier}?identifierType=id\|name` (with members) |
//! | | `create`, `delete` | `POST /v2/teams`, `DELETE /v2/teams/{identifier}` |
//! | | `add_member`, `remove_member` | `POST /v2/teams/{identifier}/members`, `DELETE …/members/{user}` (`teamIdentifierType`) |
//! | [`Roles`] | `list`, `get_opt`, `create`, `delete` | `/v2/roles[/{identifier}?identifierType=id\|name]` (custom roles only) |
//!
//! Every identifier is checked ([`crate::refs`]) and percent-encoded before a request.

mod roles;
mod teams;
mod users;

pub use roles::Roles;
pub use teams::Teams;
pub use users::{ListUsers, MAX_USERS_PER_PAGE, SortOrder, UserPage, UserSort, Users};

use accesslink_core::{ErrorKind, Result};

/// A team or custom role, by id or by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identifier {
    value: String,
    by_name: bool,
}

impl Identifier {
    /// By id (the default identifier type).
    pub fn id(id: impl Into<String>) -> Self {
        Identifier {
            value: id.into(),
            by_name: false,
        }
    }

    /// By name.
    pub fn name(name: impl Into<String>) -> Self {
        Identifier {
            value: name.into(),
            by_name: true,
        }
    }

    /// The id or name.
    pub fn value(&self) -> &str {
        &self.value
    }

    /// `id` or `name`: the `identifierType` query value.
    pub fn kind(&self) -> &'static str {
        if self.by_name { "name" } else { "id" }
    }
}

/// `Ok(None)` for a 404, the value otherwise.
pub(crate) fn optional<T>(r: Result<T>) -> Result<Option<T>> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.kind() == ErrorKind::NotFound && e.as_api().is_some() => Ok(None),
        Err(e) => Err(e),
    }
}
