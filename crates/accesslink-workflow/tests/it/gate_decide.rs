//! Auto-approval by ticket: a verdict turned into approve-automatically or
//! route-to-people, audited with the ticket.

use std::sync::Arc;

use accesslink_core::{ApprovalState, Person, TicketKind, TicketState};
use accesslink_workflow::audit::{AuditAction, AuditOutcome, MemorySink};
use accesslink_workflow::gate::{
    AccessAttempt, ApprovalDecision, ApprovalRule, BreakGlassRule, BreakGlassScope, GatePolicies,
    Principal, Reason, SuperAdmins, TicketGate, TicketPolicy,
};

use crate::double::{FakeItsm, Op, set_approval, ticket, timeout};

fn setup(policy: TicketPolicy) -> (Arc<FakeItsm>, TicketGate, Arc<MemorySink>) {
    let itsm = FakeItsm::new();
    let mut approved = ticket(
        "2026000001",
        TicketKind::Change,
        TicketState::InProgress,
        "implement",
    );
    set_approval(&mut approved, ApprovalState::Approved, "approved");
    approved.requester = Some(Person::login("jdoe"));
    let mut pending = ticket("2026000002", TicketKind::Change, TicketState::New, "new");
    set_approval(&mut pending, ApprovalState::Requested, "requested");
    itsm.insert(approved);
    itsm.insert(pending);
    let sink = Arc::new(MemorySink::new());
    let gate = TicketGate::new(itsm.clone(), GatePolicies::new(policy)).with_audit(sink.clone());
    (itsm, gate, sink)
}

fn attempt(ticket: &str) -> AccessAttempt {
    AccessAttempt::new(Principal::new("jdoe"), "retrieve_password", "db-1").ticket(ticket)
}

#[tokio::test]
async fn a_validated_ticket_is_approved_automatically_and_audited_with_it() {
    let (_, gate, sink) = setup(TicketPolicy::new().approval(ApprovalRule::Always));
    let d = gate.decide(&attempt("2026000001")).await;
    let ApprovalDecision::AutoApprove { ticket } = &d else {
        panic!("expected auto-approval, got {d:?}");
    };
    assert_eq!(ticket.reference.number(), Some("2026000001"));
    let events = sink.events();
    assert_eq!(
        events.iter().map(|e| e.action).collect::<Vec<_>>(),
        [AuditAction::GateChecked, AuditAction::ApprovalDecided]
    );
    let e = &events[1];
    assert_eq!(e.outcome, AuditOutcome::Allowed);
    assert_eq!(e.detail["decision"], "auto_approve");
    assert_eq!(
        e.ticket.as_ref().and_then(|t| t.number()),
        Some("2026000001")
    );
}

#[tokio::test]
async fn an_invalid_ticket_goes_to_manual_approval_with_its_reasons() {
    let (_, gate, sink) = setup(TicketPolicy::new().approval(ApprovalRule::Always));
    let d = gate.decide(&attempt("2026000002")).await;
    assert_eq!(
        d,
        ApprovalDecision::ManualApproval {
            reasons: vec![Reason::NotApproved {
                approval: ApprovalState::Requested,
                raw: Some("requested".into())
            }],
            ticket: Some(accesslink_core::TicketRef::by_id_and_number(
                "id-2026000002",
                "2026000002"
            )),
        }
    );
    let e = sink.events().pop().unwrap();
    assert_eq!(
        (e.action, e.outcome),
        (AuditAction::ApprovalDecided, AuditOutcome::Pending)
    );
    assert_eq!(e.detail["decision"], "manual_approval");
    assert_eq!(e.detail["codes"], serde_json::json!(["not_approved"]));

    let d = gate.decide(&attempt("2026009999")).await;
    assert!(!d.is_auto());
}

#[tokio::test]
async fn allows_without_a_validated_ticket_are_not_auto_approved() {
    // A super administrator, an operation without a ticket, and break-glass all pass
    // the gate, but none validated a ticket.
    let policy = TicketPolicy::new()
        .no_ticket_operations(["retrieve_password"])
        .break_glass(BreakGlassRule::allow(["jdoe"]).scope(BreakGlassScope::AnyDenial));
    let (itsm, gate, _) = setup(policy.clone());
    let root = AccessAttempt::new(
        Principal::new("root").roles([SuperAdmins::DEFAULT_ROLE]),
        "connect",
        "db-1",
    );
    assert!(gate.check(&root).await.allow);
    assert_eq!(
        gate.decide(&root).await,
        ApprovalDecision::ManualApproval {
            reasons: vec![Reason::SuperAdmin {
                via: "role:super_administrator".into()
            }],
            ticket: None
        }
    );
    assert!(
        !gate.decide(&attempt("2026000001")).await.is_auto(),
        "no ticket was needed"
    );
    itsm.fail_next(Op::Get, 1, timeout);
    let glass = AccessAttempt::new(Principal::new("jdoe"), "connect", "db-1")
        .ticket("2026000001")
        .break_glass("ITSM down, P1 bridge 4711");
    let d = gate.decide(&glass).await;
    match d {
        ApprovalDecision::ManualApproval { reasons, .. } => {
            assert!(reasons.iter().any(|r| r.code() == "break_glass"));
        }
        other => panic!("break-glass must not auto-approve: {other:?}"),
    }
}
