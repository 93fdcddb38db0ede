//! The ticket gate over GLPI changes on the mock: an approved, open change allows; a
//! refused, closed or cancelled one denies, with reasons; malformed ids are refused
//! before any request.

use std::sync::Arc;

use accesslink_core::{
    ApprovalState, CorrelationId, NewTicket, TicketKind, TicketState, TicketingSystem,
};
use accesslink_glpi::GlpiConnector;
use accesslink_testkit::conformance::fresh_id;
use accesslink_testkit::glpi::{GlpiMock, Itemtype};
use accesslink_workflow::gate::{
    AccessAttempt, ApprovalRule, Principal, Reason, TicketGate, TicketPolicy, open_states,
};
use serde_json::json;

use crate::on_mock;

/// A change whose single approval request was answered `validation` (3 accepted, 4
/// refused), then moved to `status`.
async fn change(
    mock: &GlpiMock,
    glpi: &GlpiConnector,
    validation: Option<i64>,
    status: Option<i64>,
) -> u64 {
    let new = NewTicket::new(
        TicketKind::Change,
        "Patch db-prod-01",
        "Saturday 02:00-04:00.",
        CorrelationId::new(fresh_id("CHG")),
    );
    let c = glpi.create_ticket(&new).await.unwrap();
    let id: i64 = c.reference.id().unwrap().parse().unwrap();
    if let Some(v) = validation {
        let vid = mock
            .create(
                Itemtype::ChangeValidation,
                &json!({ "changes_id": id, "users_id_validate": 4, "comment_submission": "CAB" }),
            )
            .unwrap();
        assert!(mock.set_change_validation(vid, v));
    }
    if let Some(s) = status {
        assert!(mock.set_change_status(id, s));
    }
    id as u64
}

fn policy() -> TicketPolicy {
    TicketPolicy::new()
        .allowed_kinds([TicketKind::Change])
        .states_for(TicketKind::Change, open_states())
        .approval(ApprovalRule::Kinds(vec![TicketKind::Change]))
}

fn attempt(raw: &str) -> AccessAttempt {
    AccessAttempt::new(Principal::new("alice"), "connect", "db-prod-01").ticket(raw)
}

#[tokio::test]
async fn approved_changes_allow_and_the_rest_deny_with_reasons() {
    let mock = GlpiMock::start().await;
    let glpi = Arc::new(on_mock(&mock));
    let approved = change(&mock, &glpi, Some(3), Some(7)).await;
    let refused = change(&mock, &glpi, Some(4), None).await;
    let closed = change(&mock, &glpi, Some(3), Some(6)).await;
    let cancelled = change(&mock, &glpi, Some(3), Some(14)).await;
    let waiting = change(&mock, &glpi, Some(2), Some(10)).await;
    let incident = glpi
        .create_ticket(&NewTicket::new(
            TicketKind::Incident,
            "db-prod-01 slow",
            "timeouts",
            CorrelationId::new(fresh_id("INC")),
        ))
        .await
        .unwrap();
    let gate = TicketGate::new(glpi.clone(), policy());

    let v = gate.check(&attempt(&format!("CHG-{approved}"))).await;
    assert!(v.allow, "{v:?}");
    assert_eq!(v.codes(), ["ticket_valid"]);
    let t = v.ticket.unwrap();
    assert_eq!(
        (t.kind.clone(), t.status.state),
        (TicketKind::Change, TicketState::InProgress)
    );
    assert_eq!(t.approval_state(), ApprovalState::Approved);

    let v = gate.check(&attempt(&format!("chg{refused}"))).await;
    assert!(!v.allow);
    assert!(
        v.reasons.contains(&Reason::NotApproved {
            approval: ApprovalState::Rejected,
            raw: Some("4".into())
        }),
        "{:?}",
        v.reasons
    );

    for (id, raw) in [(closed, "6"), (cancelled, "14")] {
        let v = gate.check(&attempt(&format!("CHG#{id}"))).await;
        assert!(!v.allow);
        let expected = if raw == "6" {
            TicketState::Closed
        } else {
            TicketState::Cancelled
        };
        assert_eq!(
            v.reasons,
            [Reason::StateNotAllowed {
                state: expected,
                raw: raw.into()
            }],
            "change {id}"
        );
    }

    let v = gate.check(&attempt(&format!("Change-{waiting}"))).await;
    assert!(!v.allow);
    assert_eq!(v.codes(), ["not_approved"], "pending approval, open state");

    let v = gate
        .check(&attempt(&format!("#{}", incident.reference.id().unwrap())))
        .await;
    assert!(!v.allow);
    assert!(v.codes().contains(&"wrong_kind"), "{:?}", v.codes());

    let v = gate.check(&attempt("CHG-999999")).await;
    assert_eq!(v.codes(), ["ticket_not_found"]);
}

#[tokio::test]
async fn malformed_ids_are_denied_without_a_request() {
    let mock = GlpiMock::start().await;
    let glpi = Arc::new(on_mock(&mock));
    let gate = TicketGate::new(glpi, policy());
    for raw in [
        "1 OR 1=1",
        "CHG-12; DROP",
        "../../etc/passwd",
        "CHG-0",
        "١٢٣",
    ] {
        let v = gate.check(&attempt(raw)).await;
        assert!(!v.allow);
        assert_eq!(v.codes(), ["malformed_id"], "{raw:?}");
    }
    assert_eq!(mock.counter().total(), 0);
}
