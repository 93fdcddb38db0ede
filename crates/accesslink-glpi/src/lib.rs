//! # accesslink-glpi
//!
//! [GLPI](https://glpi-project.org) as an accesslink
//! [`TicketingSystem`](accesslink_core::TicketingSystem) and
//! [`Provisioner`](accesslink_core::Provisioner), over the legacy REST API
//! (`apirest.php`, GLPI 9.5 – 11). Proven against a real GLPI 10.0.11.
//!
//! | capability | how |
//! |---|---|
//! | create | `POST /Ticket` (incident: type 1, request: type 2) or `POST /Change`, title ending in `[corr:<id>]`; idempotent on the correlation id |
//! | find by correlation | `/search/<Itemtype>` on the title tag; every hit confirmed by reading the item |
//! | get | `GET /Ticket/<id>` or `/Change/<id>`, with the approval records and the requester |
//! | batched get | `getMultipleItems`, 50 per call |
//! | comment | an `ITILFollowup`, private or public |
//! | close | an `ITILSolution` (status 5), then status 6; an unsuccessful change is cancelled |
//! | accounts | users with their default email; keyset paging on the user id |
//! | entitlements | groups (`Group_User`) and profiles per entity (`Profile_User`, id `<profile>@<entity>`) |
//! | enable / disable | `is_active` |
//! | delete | to the trash (default) or purged ([`DeleteMode`]) |
//! | list (change feed) | `/search/<Itemtype>` on `date_mod` (option 19) `morethan` the second before the watermark, sorted by it, category (option 7) as scope |
//! | comments read back | `ITILFollowup`s, `is_private` as the visibility, text decoded |
//! | schemas | `listSearchOptions/<Itemtype>` (`User` for accounts) |
//! | passwords | `password` + `password2` on `PUT /User/<id>` and on create |
//!
//! The session from `initSession` (user token or login and password) is cached, shared
//! by every clone, renewed once when GLPI answers `ERROR_SESSION_TOKEN_INVALID`, and
//! ended with `killSession` by [`GlpiConnector::close`]. The App-Token goes on every
//! call. Error arrays `["ERROR_…", message]` become [`Error`](accesslink_core::Error)s
//! keeping the GLPI code ([`error::kind_of`] has the table); per-item results of updates
//! and deletes are checked item by item. Statuses and approvals are mapped as
//! [`status`] says. Paging is ordered by id and stays correct while rows are added or
//! purged (see the `paging` notes in `docs/connectors/glpi.md`).
//!
//! ## Quick start
//!
//! [`GlpiConnector::from_settings`] is the one construction path; [`GlpiSettings`]
//! loads from configuration (TOML, JSON …) or is built in code.
//!
//! ```no_run
//! use accesslink_core::{CorrelationId, NewTicket, TicketKind, TicketingSystem};
//! use accesslink_glpi::{GlpiConnector, GlpiSettings};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let settings: GlpiSettings = serde_json::from_value(serde_json::json!({
//!     "name": "glpi-prod",
//!     "base_url": "https://glpi.example.com/apirest.php",
//!     "auth": {
//!         "method": "user_token",
//!         "user_token": { "env": "GLPI_USER_TOKEN" },
//!         "app_token": { "env": "GLPI_APP_TOKEN" },
//!     },
//! }))?;
//! let glpi = GlpiConnector::from_settings(settings)?;
//! let ticket = glpi
//!     .create_ticket(&NewTicket::new(
//!         TicketKind::Request,
//!         "Add alice to finance-approvers",
//!         "Requested by bob.",
//!         CorrelationId::new("REQ-42"),
//!     ))
//!     .await?;
//! let typed = glpi.parse_ticket_ref("#42")?;
//! println!("{:?} {:?}", ticket.status, glpi.get_ticket(&typed).await?.map(|t| t.approval));
//! glpi.close().await?;
//! # Ok(()) }
//! ```
//!
//! In code, the client builder and [`GlpiConfig`] are sugar that end in the same
//! settings:
//!
//! ```no_run
//! use accesslink_core::http::{HttpSettings, RetryConfig};
//! use accesslink_glpi::{GlpiClient, GlpiConfig, GlpiConnector};
//! use secrecy::SecretString;
//!
//! # fn run() -> accesslink_core::Result<()> {
//! let client = GlpiClient::builder("https://glpi.example.com/apirest.php")
//!     .app_token(SecretString::from("app-token-from-your-vault"))
//!     .user_token(SecretString::from("user-token-from-your-vault"))
//!     .http(HttpSettings::new().retry(RetryConfig::default().max_attempts(4)))
//!     .build()?;
//! let glpi = GlpiConnector::new(client, GlpiConfig::new().instance("glpi-prod"));
//! # Ok(()) }
//! ```

mod accounts;
pub mod api;
mod client;
mod connector;
pub mod error;
mod intake;
pub mod models;
mod paging;
mod partition;
mod provision;
mod refs;
pub mod settings;
pub mod status;
mod tickets;

pub use client::{Credentials, GlpiClient, GlpiClientBuilder};
pub use connector::GlpiConnector;
pub use settings::{CloseMode, DeleteMode, FollowupPrivacy, GlpiAuth, GlpiConfig, GlpiSettings};
pub use status::ItilKind;

impl GlpiConnector {
    /// The entitlement reference of a profile in an entity (`6@0`: Technician in the
    /// root entity).
    pub fn profile_entitlement(profile: u64, entity: u64) -> accesslink_core::EntitlementRef {
        accounts::profile_ref(profile, entity)
    }

    /// The entitlement reference of a group.
    pub fn group_entitlement(group: u64) -> accesslink_core::EntitlementRef {
        accesslink_core::EntitlementRef::new(
            accesslink_core::EntitlementType::group(),
            group.to_string(),
        )
    }
}
