//! # accesslink-servicenow
//!
//! [ServiceNow](https://www.servicenow.com) as an accesslink
//! [`TicketingSystem`](accesslink_core::TicketingSystem) and
//! [`Provisioner`](accesslink_core::Provisioner), over the Table API
//! (`/api/now/table/<table>`).
//!
//! | capability | how |
//! |---|---|
//! | ticket references | `INC`, `CHG`, `CTASK`, `REQ`, `RITM`, `SCTASK`, `PRB`, `PRJ`, `PRJTASK`, `TASK` (+ custom prefixes) routed to their tables, longest prefix first; a 32-hex `sys_id` read through `task`; anything else `InvalidInput` before any request |
//! | create | `POST` to the kind's table with `correlation_id` / `correlation_display`; idempotent: looked up first, and again before any retry |
//! | find by correlation | `task?sysparm_query=correlation_id=…` |
//! | get / batched get | `GET <table>/<sys_id>` or `number=…`; `numberIN…` per table, 50 per request |
//! | comment | `PATCH` of `comments` (customer-visible) or `work_notes`, never repeated without reading the journal |
//! | close | incident 6 (close code + notes) then 7; change 3 with `successful`/`unsuccessful`; `sc_request` `request_state`; task family 3/4; problem 107 — then read back to confirm |
//! | status / approval | [`status::default_status_map`], a core `StatusMap` keyed `<table or family>:<state>` (`incident:6`), overridable in settings; `approval` kept apart |
//! | accounts | `sys_user`, keyset paging on `sys_id` |
//! | entitlements | `group` (`sys_user_group`, grants `sys_user_grmember`), `role` (`sys_user_role`, grants `sys_user_has_role`) |
//! | create / update / enable / disable / delete | `sys_user` `POST`, `PATCH`, `active` (+ `locked_out`), `DELETE` |
//! | grant / revoke | rows looked up first (no unique index); inherited roles refused with `Conflict` |
//! | list (change feed) | `sys_updated_on>=` (UTC second) `^ORDERBYsys_updated_on^ORDERBYsys_id`, keyset pages; `cat_item` / `assignment_group` scope |
//! | comments read back | `sys_journal_field` (`comments` public, `work_notes` internal) |
//! | schemas | `sys_dictionary` + `sys_choice` of the table (and `task`), of `sys_user` for accounts |
//! | passwords | `user_password` with `sysparm_input_display_value=true`, on `set_password` and after a create with `AccountSpec::password` |
//!
//! Queries are only ever built with [`Query`], which refuses values that would change
//! the query (`^`, `^OR`, `^NQ`, newlines, `javascript:`). Every read sends
//! `sysparm_fields` and `sysparm_exclude_reference_link=true`, yet the [`models`]
//! accept references in any shape. Error bodies become core errors ([`error::kind_of`]
//! has the table). Auth is Basic or OAuth2 (password grant, then refresh-token grants at
//! `/oauth_token.do`), renewed ahead of expiry and once on a 401. A 429 is waited out by
//! its `Retry-After`, or else its `X-RateLimit-Reset` (a Unix time), within the
//! request's one retry budget; writes that are not safe to repeat go through core's
//! [`write_with_lookup`](accesslink_core::write::write_with_lookup).
//!
//! ## Quick start
//!
//! One construction path: [`ServiceNowSettings`] (loadable from a configuration file,
//! secrets as references) into [`ServiceNowConnector::from_settings`], which checks
//! every option and resolves every secret before any request.
//!
//! ```no_run
//! use accesslink_core::{CorrelationId, NewTicket, SecretSource, TicketKind, TicketingSystem};
//! use accesslink_servicenow::{ServiceNowAuth, ServiceNowConnector, ServiceNowSettings};
//!
//! # async fn run() -> accesslink_core::Result<()> {
//! let settings: ServiceNowSettings = serde_json::from_value(serde_json::json!({
//!     "name": "acme-prod",
//!     "base_url": "https://acme.service-now.com",
//!     "auth": {
//!         "method": "oauth_password",
//!         "client_id": "oauth-client-id",
//!         "client_secret": { "env": "SN_CLIENT_SECRET" },
//!         "user": "svc.accesslink",
//!         "password": { "env": "SN_PASSWORD" }
//!     },
//!     "request_table": "sc_req_item"
//! }))
//! .map_err(|e| accesslink_core::Error::config(e.to_string()))?;
//! // The same, in code:
//! let _same = ServiceNowSettings::new(
//!     "https://acme.service-now.com".parse().unwrap(),
//!     ServiceNowAuth::basic("svc.accesslink", SecretSource::env("SN_PASSWORD")),
//! )
//! .name("acme-prod");
//! let sn = ServiceNowConnector::from_settings(settings)?;
//! let ticket = sn
//!     .create_ticket(&NewTicket::new(
//!         TicketKind::Request,
//!         "Add alice to finance-approvers",
//!         "Requested by bob.",
//!         CorrelationId::new("REQ-42"),
//!     ))
//!     .await?;
//! println!("opened {:?}", ticket.reference.number());
//! // A ticket id typed by a user: checked before anything is sent.
//! let r = sn.parse_ticket_ref("CHG0030001")?;
//! if let Some(change) = sn.get_ticket(&r).await? {
//!     println!("{} {:?} {:?}", change.title, change.status, change.approval);
//! }
//! # Ok(()) }
//! ```
//!
//! [`ServiceNowClient::builder`] and [`ServiceNowConnector::new`] remain for embedders
//! who build the client themselves; the transport settings go in one
//! [`HttpSettings`](accesslink_core::http::HttpSettings) through `.http(..)`.
//!
//! ## Typed handles
//!
//! Below the traits, `client.incidents()`, `.change_requests()`, `.users()`, … (and
//! `client.table::<serde_json::Value>("u_custom")` for any table) give a [`api::TableApi`]
//! with `get`, `get_opt`, `list_page`, `list_stream`, `create`, `update` and `delete`:
//!
//! ```no_run
//! use accesslink_core::paging::PagingOptions;
//! use accesslink_servicenow::{Query, ServiceNowClient, api::ListParams};
//! use futures::TryStreamExt;
//! use secrecy::SecretString;
//!
//! # async fn run() -> accesslink_core::Result<()> {
//! let client = ServiceNowClient::builder("https://acme.service-now.com")
//!     .basic("svc.accesslink", SecretString::from("password-from-your-vault"))
//!     .build()?;
//! // One page of open P1 incidents, newest first.
//! let page = client
//!     .incidents()
//!     .list_page(
//!         &ListParams::new(Query::new().eq("active", "true").eq("priority", "1").order_by_desc("sys_created_on"))
//!             .limit(50),
//!     )
//!     .await?;
//! println!("{} of {:?}", page.items.len(), page.total);
//! // Every active group, keyset-paged.
//! let groups: Vec<_> = client
//!     .groups()
//!     .list_stream(Query::new().eq("active", "true"), PagingOptions::new().page_size(500))
//!     .try_collect()
//!     .await?;
//! println!("{} groups", groups.len());
//! # Ok(()) }
//! ```

mod accounts;
pub mod api;
mod client;
mod close;
mod connector;
pub mod error;
mod intake;
pub mod models;
mod paging;
mod partition;
mod provision;
pub mod query;
mod refs;
pub mod settings;
pub mod status;
mod tickets;

pub use accounts::{group_ref, role_ref};
pub use client::{Credentials, ServiceNowClient, ServiceNowClientBuilder};
pub use connector::ServiceNowConnector;
pub use query::Query;
pub use refs::{BUILTIN_PREFIXES, kind_of_table};
/// The old name of [`settings`], kept so `accesslink_servicenow::config::…` paths work.
pub use settings as config;
pub use settings::{
    CommentField, IncidentClose, ServiceNowAuth, ServiceNowConfig, ServiceNowSettings,
};
