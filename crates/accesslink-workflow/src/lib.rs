//! # accesslink-workflow
//!
//! The jobs identity products give to ticketing systems, written once over the
//! [`accesslink_core`] traits so they work with every connector:
//!
//! | module | job |
//! |---|---|
//! | [`fulfil`] | an access request becomes a ticket (idempotent on the request id), followed with batched polling, back-off and a deadline to a [`TaskOutcome`]; in automated mode provisioned through a [`Provisioner`](accesslink_core::Provisioner), then commented and closed |
//! | [`gate`] | a [`TicketGate`] checks the ticket id a user types before privileged access against [`GatePolicies`] (a [`TicketPolicy`] per resource group and per user group, super administrators exempt by default) and answers a [`Verdict`] with every reason; [`TicketGate::decide`] turns it into an auto-approval decision; a [`MultiDeskGate`] routes ids across several service desks; policies load from TOML or JSON ([`GateConfig`](gate::GateConfig)) |
//! | [`intake`] | the other direction: an [`Intake`] polls service desks' change feeds for request tickets, maps them through a declarative [`FieldMap`](intake::FieldMap), checks segregation-of-duties rules, provisions, comments and closes — exactly once per ticket across restarts (state in marker comments) — and syncs comments both ways |
//! | [`audit`] | every fulfilment step and gate decision as an [`AuditEvent`], to `tracing` or a JSON-lines file |
//!
//! ## Quick start
//!
//! ```no_run
//! use std::sync::Arc;
//! use std::time::Duration;
//!
//! use accesslink_core::{EntitlementRef, EntitlementType, Person, TicketKind, TicketingSystem};
//! use accesslink_workflow::audit::JsonLinesSink;
//! use accesslink_workflow::fulfil::{AccessRequest, Fulfiller, Operation, PollOptions, TaskStatus, TicketTemplate};
//! use accesslink_workflow::gate::{AccessAttempt, ApprovalRule, GatePolicies, Principal, TicketGate, TicketPolicy};
//!
//! # async fn run(itsm: Arc<dyn TicketingSystem>) -> Result<(), Box<dyn std::error::Error>> {
//! let audit = Arc::new(JsonLinesSink::open("audit.jsonl")?);
//!
//! // Fulfil an access request through a ticket, waiting for people to close it.
//! let template = TicketTemplate::builder(TicketKind::Request)
//!     .title("{operation} {entitlement.id} on {target} for {beneficiary}")
//!     .priority("{attr.priority|3 normal}")
//!     .extra_from_attribute("u_cost_center", "cost_center")
//!     .build()?;
//! let fulfiller = Fulfiller::builder(itsm.clone(), template)
//!     .poll(PollOptions::new().initial_interval(Duration::from_secs(60)).deadline(Duration::from_secs(8 * 3600)))
//!     .audit(audit.clone())
//!     .build();
//! let request = AccessRequest::new("REQ-1042", Operation::Grant, "CRM", Person::login("jdoe"))
//!     .requester(Person::login("manager"))
//!     .entitlement(EntitlementRef::new(EntitlementType::role(), "sales-admin"))
//!     .justification("quarter close")
//!     .attribute("cost_center", "4711");
//! let outcome = fulfiller.fulfil(&request).await;
//! match outcome.status {
//!     TaskStatus::Completed => println!("done: {:?}", outcome.raw_state),
//!     TaskStatus::TimedOut { .. } => println!("still open; run REQ-1042 again later"),
//!     other => println!("ended: {other}"),
//! }
//!
//! // Gate privileged access on an approved change.
//! let policy = TicketPolicy::new()
//!     .allowed_kinds([TicketKind::Change, TicketKind::Incident])
//!     .approval(ApprovalRule::Kinds(vec![TicketKind::Change]))
//!     .requester_must_match(true)
//!     .exempt(["root-admin"])
//!     .no_ticket_operations(["retrieve_password"]);
//! // Contractors must also be the ticket's requester, wherever they connect.
//! let policies = GatePolicies::new(policy)
//!     .user_group("contractors", TicketPolicy::new().requester_must_match(true));
//! let gate = TicketGate::new(itsm, policies).with_audit(audit);
//! let jdoe = Principal::new("jdoe").groups(["contractors"]);
//! let attempt = AccessAttempt::new(jdoe, "connect", "db-prod-1").ticket("CHG0000003");
//! let verdict = gate.check(&attempt).await;
//! if !verdict.allow {
//!     for reason in &verdict.reasons {
//!         println!("denied: {reason} ({})", reason.code());
//!     }
//! }
//! # Ok(()) }
//! ```

pub mod audit;
mod config_file;
pub mod fulfil;
pub mod gate;
pub mod intake;

pub use audit::{AuditEvent, AuditSink, JsonLinesSink, MemorySink, TracingSink};
pub use fulfil::{
    AccessRequest, Fulfiller, Operation, PollOptions, TaskOutcome, TaskStatus, TicketTemplate,
};
pub use gate::{
    AccessAttempt, ApprovalDecision, GatePolicies, MultiDeskGate, Principal, Reason, TicketGate,
    TicketPolicy, Verdict,
};
pub use intake::{Intake, IntakeConfig};
