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
//! connectors are built on. Target connectors are added as cargo features as they land
//! (see the README's target table). With the `testkit` feature, the in-process mock
//! servers are available as `accesslink::testkit` so embedders can test against them.
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

pub use accesslink_core::*;

/// In-process mock servers, fault injection and the conformance suite.
#[cfg(feature = "testkit")]
pub use accesslink_testkit as testkit;

/// The README's Rust examples, compiled as doctests so they cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
