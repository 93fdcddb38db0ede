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
//! | get by number | TicketSearch `TicketNumber` → TicketGet (which takes the internal id) |
//! | batched get | TicketGet with a comma list of ids, 50 at a time |
//! | comment | TicketUpdate with an article (public or internal note) |
//! | close | TicketUpdate to a closed state, with the notes as an article |
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
//! ```no_run
//! use accesslink_core::{CorrelationId, NewTicket, TicketKind, TicketingSystem};
//! use accesslink_otrs::{Correlation, OtrsConfig, OtrsConnector};
//! use secrecy::SecretString;
//!
//! # async fn run() -> accesslink_core::Result<()> {
//! let url = OtrsConfig::web_service_url("https://otrs.example.com", "znuny", "GenericTicketConnectorREST");
//! let config = OtrsConfig::new(url, "apiagent", SecretString::from("from-your-vault"))
//!     .customer_user("iam-service")
//!     .correlation(Correlation::TitleTag);
//! let otrs = OtrsConnector::new(config)?;
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

pub mod api;
mod client;
pub mod config;
mod connector;
pub mod models;
pub mod status;

pub use client::OtrsClient;
pub use config::{CloseStates, Correlation, OtrsConfig, Route, Routes, TicketDefaults};
pub use connector::OtrsConnector;
