//! # accesslink-helix
//!
//! [BMC Helix ITSM](https://www.bmc.com/it-solutions/bmc-helix-itsm.html) (Remedy) over
//! the AR System REST API, as an accesslink
//! [`TicketingSystem`](accesslink_core::TicketingSystem) and
//! [`Provisioner`](accesslink_core::Provisioner).
//!
//! | capability | how |
//! |---|---|
//! | auth | `POST /api/jwt/login` (form body; the answer is the raw token), `Authorization: AR-JWT <token>`, renewed ahead of expiry and once on a 401; `POST /api/jwt/logout` on [`HelixConnector::close`] and, best effort, on drop |
//! | parse | `INC`/`CRQ`/`WO`/`REQ` + digits, checked before any request ([`refs`]) |
//! | create | incidents through `HPD:IncidentInterface_Create`, changes through `CHG:ChangeInterface_Create`, work orders ([`TicketKind::Task`](accesslink_core::TicketKind::Task)) through `WOI:WorkOrderInterface_Create`, each idempotent on a configured correlation field looked up before the create and after an ambiguous failure |
//! | get / batch get | a qualification on the form's number field (`'Incident Number' = "INC…"`), `OR`ed per batch; every hit confirmed |
//! | comment | work log entries (`HPD:WorkLog`, `CHG:WorkLog`, `WOI:WorkInfo`), `View Access` Internal or Public |
//! | close | status, status reason (and resolution for incidents) from settings, confirmed by reading back (incidents, changes, work orders) |
//! | list (change feed) | `'Last Modified Date' >= <epoch seconds>`, `sort=Last Modified Date.asc`, one form after the other; `scope` is the assigned support group ([`intake`]) |
//! | comments read back | work log entries with their ids, submitter, `View Access` and time ([`intake`]) |
//! | schemas | fixed from the vendor documentation, `Status` values from the status map; passwords `Unsupported` ([`intake`]) |
//! | state, approval | status labels through a [`StatusMap`](accesslink_core::StatusMap) ([`status`]); changes, work orders and requests imply their approval by status |
//! | accounts | `CTM:People` by `Remedy Login ID`: import (offset tokens checked against the previous page), create (idempotent on the login), update, `Profile Status` as enable/disable; no delete (`Unsupported`) |
//! | partitioned imports | `CTM:People` split on `Remedy Login ID` ranges cut at login quantiles, each range read by keyset on the login ([`partition`]) |
//! | entitlements | support groups (`CTM:Support Group`), granted through `CTM:Support Group Association` entries; where configured, AR groups (`ar_group`) through the `User` form's `Group List`, edited by a checked read-modify-write that never drops another writer's group ([`groups`]) |
//! | errors | AR message arrays → core kinds by message number; an HTTP 500 is retried only for transient numbers (90–93 by default) or without an AR message ([`error`]) |
//!
//! Qualifications are built only by [`qual`], which refuses quotes and control
//! characters in values. See `docs/connectors/helix.md`.
//!
//! ## Quick start
//!
//! ```no_run
//! use accesslink_core::{CorrelationId, NewTicket, Person, TicketKind, TicketingSystem};
//! use accesslink_helix::{HelixConnector, HelixSettings};
//!
//! # async fn run() -> accesslink_core::Result<()> {
//! let settings: HelixSettings = serde_json::from_value(serde_json::json!({
//!     "base_url": "https://acme-restapi.onbmc.com",
//!     "auth": { "method": "jwt", "username": "svc-iam",
//!               "password": { "env": "HELIX_PASSWORD" } },
//!     "serialize_per_account": true
//! }))
//! .expect("valid settings");
//! let helix = HelixConnector::from_settings(settings)?;
//! let new = NewTicket::new(
//!     TicketKind::Incident,
//!     "Grant payroll access to Jane",
//!     "Requested in IAM request 7781.",
//!     CorrelationId::new("req-7781"),
//! )
//! .requester(Person::login("jdoe"));
//! let ticket = helix.create_ticket(&new).await?; // a second call finds the same incident
//! let change = helix.parse_ticket_ref("CRQ000000000042")?; // refused before any request if malformed
//! let gate = helix.get_ticket(&change).await?;
//! println!("{} {:?}", ticket.reference, gate.map(|t| t.approval));
//! helix.close().await?; // releases the AR licence
//! # Ok(()) }
//! ```

mod client;
mod connector;
pub mod error;
pub mod groups;
pub mod intake;
pub mod models;
pub mod partition;
pub mod provision;
pub mod qual;
pub mod refs;
pub mod settings;
pub mod status;
mod tickets;

pub use client::{EntryPage, HelixClient, segment};
pub use connector::HelixConnector;
pub use settings::{
    ArGroupSettings, CloseSettings, FormSettings, HelixAuth, HelixFields, HelixForms,
    HelixSettings, IncidentDefaults, PeopleSettings, TicketWorkflow, WorkLogSettings,
};
