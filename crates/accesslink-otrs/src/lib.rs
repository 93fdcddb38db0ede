//! # accesslink-otrs
//!
//! OTRS, ((OTRS)) Community Edition and Znuny as an accesslink
//! [`TicketingSystem`](accesslink_core::TicketingSystem), over the GenericInterface
//! REST web service (`GenericTicketConnectorREST` or a web service of your own with
//! the same operations).
//!
//! | capability | how |
//! |---|---|
//! | create | TicketCreate with the first article; idempotent on the correlation id |
//! | find by correlation | a dynamic field through a body-taking TicketSearch route, or a `[corr:<id>]` title tag; every hit confirmed by reading the ticket |
//! | get by number | TicketSearch `TicketNumber` → TicketGet (which takes the internal id); each hit's number is confirmed |
//! | batched get | TicketGet with a comma list of ids, 50 at a time |
//! | comment | TicketUpdate with an article (public or internal note) |
//! | close | TicketUpdate to a closed state, with the notes as an article |
//! | list (change feed) | TicketSearch `TicketChangeTimeNewerDate` + `SortBy=Changed`, then batched TicketGet |
//! | comments read back | TicketGet `AllArticles=1`: the articles after the first |
//! | ticket schema | declared ticket fields plus the dynamic fields TicketGet lists |
//! | provisioning | not offered: the GenericInterface has no user API |
//!
//! Sessions come from SessionCreate, are shared by all clones, and are renewed once
//! when an operation answers `*.AuthFail` (which OTRS does with HTTP 200). Every
//! `{"Error":{…}}` body becomes an [`Error`](accesslink_core::Error) carrying the OTRS
//! code (`TicketCreate.InvalidParameter` …). States are mapped by their `StateType`:
//! see [`status`].
//!
//! ## Quick start
//!
//! [`OtrsConnector::from_settings`] is the one construction path; [`OtrsSettings`]
//! loads from configuration (TOML, JSON …) or is built in code.
//!
//! ```no_run
//! use accesslink_core::{CorrelationId, NewTicket, TicketKind, TicketingSystem};
//! use accesslink_otrs::{OtrsConnector, OtrsSettings};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let settings: OtrsSettings = serde_json::from_value(serde_json::json!({
//!     "name": "prod-otrs",
//!     "base_url": "https://otrs.example.com/znuny/nph-genericinterface.pl/Webservice/GenericTicketConnectorREST",
//!     "auth": { "method": "session", "user": "apiagent", "password": { "env": "ZNUNY_AGENT_PASSWORD" } },
//!     "customer_user": "iam-service",
//!     "correlation": "title_tag",
//! }))?;
//! let otrs = OtrsConnector::from_settings(settings)?;
//! let ticket = otrs
//!     .create_ticket(&NewTicket::new(
//!         TicketKind::Request,
//!         "Add alice to finance-approvers",
//!         "Requested by bob.",
//!         CorrelationId::new("REQ-42"),
//!     ))
//!     .await?;
//! let same = otrs.parse_ticket_ref(ticket.reference.number().unwrap_or_default())?;
//! println!("{:?}", otrs.get_ticket(&same).await?.map(|t| t.status));
//! # Ok(()) }
//! ```
//!
//! In code, [`OtrsSettings::new`] with its setters builds the same settings:
//!
//! ```no_run
//! use accesslink_otrs::{Correlation, OtrsConnector, OtrsSettings};
//! use accesslink_core::SecretSource;
//!
//! # fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let url = OtrsSettings::web_service_url("https://otrs.example.com", "znuny", "GenericTicketConnectorREST");
//! let settings = OtrsSettings::new(url.parse()?, "apiagent", SecretSource::env("ZNUNY_AGENT_PASSWORD"))
//!     .customer_user("iam-service")
//!     .correlation(Correlation::TitleTag);
//! let otrs = OtrsConnector::from_settings(settings)?;
//! # Ok(()) }
//! ```

pub mod api;
mod client;
mod connector;
mod error;
mod intake;
pub mod models;
pub mod settings;
pub mod status;

pub use client::OtrsClient;
pub use connector::OtrsConnector;
pub use settings::{
    CloseStates, Correlation, OtrsAuth, OtrsConfig, OtrsSettings, Route, Routes, TicketDefaults,
};
