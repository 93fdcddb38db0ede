//! # accesslink-sdp
//!
//! [ManageEngine ServiceDesk Plus](https://www.manageengine.com/products/service-desk/) —
//! on-premises, Cloud (every Zoho data centre) and MSP — as an accesslink
//! [`TicketingSystem`](accesslink_core::TicketingSystem) and, over requesters, a
//! [`Provisioner`](accesslink_core::Provisioner) (list, get, create, update; disabling,
//! deleting and memberships are `Unsupported`).
//!
//! | | on-premises | Cloud | MSP |
//! |---|---|---|---|
//! | API root | `{base_url}/api/v3/` | `https://{dc api domain}/app/{portal}/api/v3/` | `{base_url}/api/v3/` |
//! | auth | technician key, `authtoken` header | Zoho OAuth refresh token at the data centre's accounts server, `Authorization: Zoho-oauthtoken` ([`oauth`]) | technician key |
//! | close action | `PUT requests/{id}/close` | `PUT requests/{id}/_close` | `…/close` |
//! | scoping | — | portal in the path | every ticket carries and is checked against `account` |
//!
//! | capability | how |
//! |---|---|
//! | parse | digits, `#102`, `REQ-102`, `CH-42`, `change:42`, checked before any request ([`refs`]) |
//! | create | request (or change for `TicketKind::Change`) idempotent on a correlation UDF or a subject tag `[accesslink:<id>]`, looked up before the create and after an ambiguous failure |
//! | get | by id, or by display id through a `list_info` search (hits confirmed); on-premises a number not found as display id is read as id |
//! | batch get | one `list_info` search per `batch_size` references (`values` list) |
//! | comment | a note, `show_to_requester` for public comments |
//! | close | requests: the close action with closure code and comments; changes: close stage and status; read back |
//! | state / approval | status name, internal name, change stage, flags → state; `approval_status` → approval, apart ([`status`]) |
//! | list / comments / schema | `last_updated_time` searches for a change feed, notes and worklogs read back, request and change fields ([`intake`]) |
//!
//! Every payload is JSON in one `input_data` parameter (query on GET, form body on
//! POST/PUT, [`input`]); search values only through [`input::Criteria`]. Errors in
//! `response_status` — HTTP 200 included — become core errors ([`error`]). Every call
//! sends `Accept: application/vnd.manageengine.sdp.v3+json`.
//!
//! ## Quick start
//!
//! ```no_run
//! use accesslink_core::{CorrelationId, NewTicket, TicketKind, TicketingSystem};
//! use accesslink_sdp::{SdpConnector, SdpSettings};
//!
//! # async fn run() -> accesslink_core::Result<()> {
//! let settings: SdpSettings = serde_json::from_value(serde_json::json!({
//!     "deployment": { "kind": "cloud", "data_centre": "eu", "portal": "itdesk" },
//!     "auth": { "method": "zoho_oauth", "client_id": "1000.APP",
//!               "client_secret": { "env": "ZOHO_SECRET" },
//!               "refresh_token": { "env": "ZOHO_REFRESH" } }
//! }))
//! .expect("valid settings");
//! let sdp = SdpConnector::from_settings(settings)?;
//! let new = NewTicket::new(
//!     TicketKind::Request,
//!     "Grant payroll access to Jane",
//!     "Requested in IAM request 7781.",
//!     CorrelationId::new("req-7781"),
//! );
//! let ticket = sdp.create_ticket(&new).await?; // a second call finds the same request
//! let typed = sdp.parse_ticket_ref("CH-42")?; // refused before any request if malformed
//! let change = sdp.get_ticket(&typed).await?;
//! println!("{} {:?}", ticket.reference, change.map(|c| c.approval));
//! # Ok(()) }
//! ```

pub mod api;
mod client;
mod connector;
pub mod error;
pub mod input;
pub mod intake;
pub mod models;
pub mod oauth;
mod provision;
pub mod refs;
pub mod settings;
pub mod status;
mod tickets;

pub use client::{ACCEPT_V3, SdpClient, SdpClientBuilder};
pub use connector::SdpConnector;
pub use refs::{Entity, SdpRef};
pub use settings::{
    AccountKind, DataCentre, DefaultEntity, SdpAuth, SdpDeployment, SdpPaths, SdpSettings,
};
