//! # accesslink
//!
//! Connector libraries that identity products embed to work with ticketing and
//! operations systems:
//!
//! 1. **Fulfil access requests through tickets**: open a ticket for a request, follow
//!    it to an outcome, never open a duplicate.
//! 2. **Import and provision** accounts, entitlements and grants, with resumable paging
//!    and idempotent grant/revoke.
//! 3. **Gate privileged access on a valid ticket**: fetch a user-supplied ticket id and
//!    apply a policy.
//!
//! This facade re-exports [`accesslink_core`]: the [`Connector`], [`TicketingSystem`]
//! and [`Provisioner`] traits, the domain types, the error type and the HTTP plumbing
//! connectors are built on. Each target connector is a cargo feature that re-exports its
//! crate under the target's name, so one dependency line picks the targets you need:
//!
//! | feature | module | crate |
//! |---|---|---|
//! | `otrs` | `accesslink::otrs` | `accesslink-otrs` (OTRS / Znuny / ((OTRS)) CE) |
//! | `glpi` | `accesslink::glpi` | `accesslink-glpi` |
//! | `servicenow` | `accesslink::servicenow` | `accesslink-servicenow` |
//! | `opsramp` | `accesslink::opsramp` | `accesslink-opsramp` |
//! | `opsgenie` | `accesslink::opsgenie` | `accesslink-opsgenie` |
//! | `topdesk` | `accesslink::topdesk` | `accesslink-topdesk` |
//! | `jira` | `accesslink::jira` | `accesslink-jira` (Jira Cloud, Data Center, Service Management) |
//! | `salesforce` | `accesslink::salesforce` | `accesslink-salesforce` (Service Cloud cases, BMC Remedyforce) |
//! | `helix` | `accesslink::helix` | `accesslink-helix` (BMC Helix ITSM, AR System REST API) |
//! | `sdp` | `accesslink::sdp` | `accesslink-sdp` (ServiceDesk Plus on-premises, Cloud, MSP) |
//! | `workflow` | `accesslink::workflow` | `accesslink-workflow` (fulfilment, ticket gate, audit) |
//! | `full` | all of the above | |
//! | `testkit` | `accesslink::testkit` | `accesslink-testkit` (in-process mock servers of the enabled targets, fault injection, conformance suite) |
//!
//! ```toml
//! [dependencies]
//! accesslink = { version = "0.1", features = ["servicenow", "workflow"] }
//! ```
//!
//! ## Quick start
//!
//! Every connector is driven through the same traits; capabilities are discovered at
//! run time:
//!
//! ```no_run
//! use accesslink::{Connector, CorrelationId, NewTicket, TicketKind};
//!
//! async fn open_request(connector: &dyn Connector) -> accesslink::Result<()> {
//!     let Some(tickets) = connector.as_ticketing() else {
//!         return Err(accesslink::Error::Unsupported {
//!             operation: "tickets",
//!             target: connector.info().target,
//!         });
//!     };
//!     let new = NewTicket::new(
//!         TicketKind::Request,
//!         "Grant role finance-approver to alice",
//!         "Requested by bob, approved by carol.",
//!         CorrelationId::new("REQ-2026-0042"),
//!     );
//!     // Idempotent: running this again returns the same ticket.
//!     let ticket = tickets.create_ticket(&new).await?;
//!     println!("{} is {}", ticket.reference, ticket.status.state);
//!     Ok(())
//! }
//! ```

#![cfg_attr(docsrs, feature(doc_cfg))]

pub use accesslink_core::*;

mod config;
pub use config::{Config, ConnectorConfig, config_schemas, connect};

/// The OTRS / Znuny connector (feature `otrs`).
#[cfg(feature = "otrs")]
#[cfg_attr(docsrs, doc(cfg(feature = "otrs")))]
pub use accesslink_otrs as otrs;

/// The GLPI connector (feature `glpi`).
#[cfg(feature = "glpi")]
#[cfg_attr(docsrs, doc(cfg(feature = "glpi")))]
pub use accesslink_glpi as glpi;

/// The ServiceNow connector (feature `servicenow`).
#[cfg(feature = "servicenow")]
#[cfg_attr(docsrs, doc(cfg(feature = "servicenow")))]
pub use accesslink_servicenow as servicenow;

/// The OpsRamp connector (feature `opsramp`).
#[cfg(feature = "opsramp")]
#[cfg_attr(docsrs, doc(cfg(feature = "opsramp")))]
pub use accesslink_opsramp as opsramp;

/// The OpsGenie connector (feature `opsgenie`).
#[cfg(feature = "opsgenie")]
#[cfg_attr(docsrs, doc(cfg(feature = "opsgenie")))]
pub use accesslink_opsgenie as opsgenie;

/// The Jira connector: Cloud, Data Center and Service Management (feature `jira`).
#[cfg(feature = "jira")]
#[cfg_attr(docsrs, doc(cfg(feature = "jira")))]
pub use accesslink_jira as jira;
/// The Salesforce connector: Service Cloud cases and BMC Remedyforce (feature `salesforce`).
#[cfg(feature = "salesforce")]
#[cfg_attr(docsrs, doc(cfg(feature = "salesforce")))]
pub use accesslink_salesforce as salesforce;

/// The BMC Helix ITSM connector (feature `helix`).
#[cfg(feature = "helix")]
#[cfg_attr(docsrs, doc(cfg(feature = "helix")))]
pub use accesslink_helix as helix;

/// The ManageEngine ServiceDesk Plus connector: on-premises, Cloud and MSP (feature `sdp`).
#[cfg(feature = "sdp")]
#[cfg_attr(docsrs, doc(cfg(feature = "sdp")))]
pub use accesslink_sdp as sdp;
/// The TOPdesk connector (feature `topdesk`).
#[cfg(feature = "topdesk")]
#[cfg_attr(docsrs, doc(cfg(feature = "topdesk")))]
pub use accesslink_topdesk as topdesk;

/// Fulfilment, the ticket gate and audit events (feature `workflow`).
#[cfg(feature = "workflow")]
#[cfg_attr(docsrs, doc(cfg(feature = "workflow")))]
pub use accesslink_workflow as workflow;

/// In-process mock servers, fault injection and the conformance suite.
#[cfg(feature = "testkit")]
#[cfg_attr(docsrs, doc(cfg(feature = "testkit")))]
pub use accesslink_testkit as testkit;

/// The README's Rust examples, compiled as doctests so they cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
