//! # accesslink-topdesk
//!
//! [TOPdesk](https://www.topdesk.com) as an accesslink
//! [`TicketingSystem`](accesslink_core::TicketingSystem) and
//! [`Provisioner`](accesslink_core::Provisioner), over the REST API under `/tas/api` with
//! an application password (`Authorization: Basic base64(login:application password)`).
//!
//! | capability | how |
//! |---|---|
//! | test connection | `GET /tas/api/version` with the credentials |
//! | ticket references | incident numbers in any spelling (`I 2405 123`, `I2405-123`, `I-250520-058`), normalised to the tenant's [`NumberStyle`]; change numbers (`C1810-005`); UUIDs — all checked before any request ([`refs`]) |
//! | create | `POST /incidents` with `externalNumber` = correlation id; looked up first, and again after an ambiguous failure, so a retry never makes a twin |
//! | get | `GET /incidents/id/{uuid}` or `/incidents/number/{number}`; the caller's login from `GET /persons/id/{uuid}`; operator changes with `GET /operatorChanges/{idOrNumber}`, their authorization status as the approval |
//! | changes | create (`POST /operatorChanges`, idempotent on `externalNumber`), memos (`…/progresstrail`), close by a processing-status transition or a cancel ([`ChangeSettings`]) |
//! | intake | `list_tickets` (incidents, FIQL `modificationDate=ge=`, sorted by update time; scope: category or operator group), `list_comments` (the progress trail), `ticket_schema` (search lists as allowed values), `account_schema` |
//! | batched get | one `GET /incidents?query=number=in=(…)` per `batch_size` numbers; each hit checked against what was asked |
//! | comment | `PATCH /incidents/id/{uuid}` with `action` and `actionInvisibleForCaller`, never repeated blindly |
//! | close | processing status + closure code (+ `completed`/`closed`), read back: the `closed` flag is the truth |
//! | accounts | operators then persons, `pageStart`/`pageSize` with 206/200/204, resumable tokens; create, update, archive/unarchive as disable/enable; **no delete** (`Unsupported`) |
//! | entitlements, grants | operator groups and permission groups; links through `/operators/id/{uuid}/operatorgroups` and `…/permissiongroups` |
//! | passwords | `set_password` and per-account initial passwords (`password`, at least 5 characters) |
//!
//! Every FIQL `query=` is built by [`fiql::Fiql`], which quotes every value and refuses
//! what it cannot quote. Lists follow TOPdesk's paging contract ([`api`]): a wrong-shaped
//! body is a `Protocol` error, never an empty page. Error bodies in both TOPdesk shapes
//! become core errors ([`error`]). [`TopdeskConnector::from_settings`] with
//! [`TopdeskSettings`] is the one construction path from configuration; see
//! `docs/connectors/topdesk.md`.
//!
//! ## Quick start
//!
//! ```no_run
//! use accesslink_core::TicketingSystem;
//! use accesslink_topdesk::{TopdeskConnector, TopdeskSettings};
//!
//! # async fn run() -> accesslink_core::Result<()> {
//! // Usually loaded from a file (`[instances.topdesk]`, see `TopdeskSettings`).
//! let settings: TopdeskSettings = serde_json::from_value(serde_json::json!({
//!     "base_url": "https://acme.topdesk.net",
//!     "auth": {
//!         "method": "application_password",
//!         "login": "svc-iam",
//!         "password": { "env": "TOPDESK_APP_PASSWORD" }
//!     }
//! }))
//! .expect("valid settings");
//! let topdesk = TopdeskConnector::from_settings(settings)?;
//! let r = topdesk.parse_ticket_ref("I2405-123")?; // the user typed it
//! if let Some(ticket) = topdesk.get_ticket(&r).await? {
//!     println!("{} is {}", ticket.reference, ticket.status.state);
//! }
//! # Ok(()) }
//! ```

pub mod api;
mod changes;
mod client;
mod connector;
pub mod error;
pub mod fiql;
mod intake;
pub mod models;
mod paging;
mod provision;
pub mod refs;
pub mod settings;
pub mod status;
mod tickets;

pub use client::{TopdeskClient, TopdeskClientBuilder, api_root};
pub use connector::{OPERATOR_GROUP, PERMISSION_GROUP, TopdeskConnector};
pub use refs::{NumberStyle, TicketNumber};
pub use settings::{
    AccountKind, ChangeSettings, CloseSettings, MAX_PAGE_SIZE, TopdeskAuth, TopdeskSettings,
};
pub use tickets::{CHANGE, INCIDENT};
