//! Typed handles over the Table API: `client.incidents()`, `client.users()`, … all return
//! a [`TableApi`] with the same operations.
//!
//! | operation | request |
//! |---|---|
//! | [`TableApi::get_opt`] | `GET /api/now/table/<t>/<sys_id>` (404 → `None`) |
//! | [`TableApi::list_page`] | `GET /api/now/table/<t>?sysparm_query=…&sysparm_limit=…` (`X-Total-Count`, `Link`) |
//! | [`TableApi::create`] | `POST /api/now/table/<t>` → 201 `{"result":{…}}` |
//! | [`TableApi::update`] | `PATCH /api/now/table/<t>/<sys_id>` |
//! | [`TableApi::delete`] | `DELETE /api/now/table/<t>/<sys_id>` → 204 |
//!
//! Every read sends `sysparm_fields` (the record type's fields) and
//! `sysparm_exclude_reference_link=true`; every `sys_id` is checked (32 lowercase hex)
//! and every table name (`[a-z0-9_]+`) before a request is built.

mod table;

pub use table::{ListPage, ListParams, MAX_LIMIT, TableApi, next_offset};
pub(crate) use table::{check_sys_id, check_table};
