//! The session link on the ticket: one comment per session, even when retried.

use std::sync::Arc;

use accesslink_core::{ErrorKind, TicketKind, TicketState};
use accesslink_workflow::audit::{AuditAction, AuditOutcome, MemorySink};
use accesslink_workflow::gate::{
    AccessAttempt, GatePolicies, Principal, SessionLink, TicketGate, TicketPolicy,
};

use crate::double::{FakeItsm, Op, ticket, timeout};

fn setup() -> (Arc<FakeItsm>, TicketGate, Arc<MemorySink>) {
    let itsm = FakeItsm::new();
    itsm.insert(ticket(
        "2026000001",
        TicketKind::Change,
        TicketState::InProgress,
        "implement",
    ));
    itsm.insert(ticket(
        "2026000002",
        TicketKind::Change,
        TicketState::Closed,
        "closed",
    ));
    let sink = Arc::new(MemorySink::new());
    let gate = TicketGate::new(itsm.clone(), GatePolicies::new(TicketPolicy::new()))
        .with_audit(sink.clone());
    (itsm, gate, sink)
}

fn attempt(t: &str) -> AccessAttempt {
    AccessAttempt::new(Principal::new("jdoe"), "connect", "db-prod-1").ticket(t)
}

fn link() -> SessionLink {
    SessionLink::new("rdp-4711", "https://pam.example.com/recordings/rdp-4711")
        .started(std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_800_000_000))
}

#[tokio::test]
async fn the_link_is_commented_once_even_when_called_again() {
    let (itsm, gate, sink) = setup();
    let a = attempt("2026000001");
    let v = gate.check(&a).await;
    assert!(v.allow);
    assert!(gate.link_session(&a, &v, &link()).await.unwrap());
    assert!(!gate.link_session(&a, &v, &link()).await.unwrap());
    let comments = itsm.comments_on("2026000001");
    assert_eq!(
        comments,
        [
            "[accesslink-session:rdp-4711] Privileged session by jdoe (connect on db-prod-1) \
          started 2027-01-15T08:00:00.000Z: https://pam.example.com/recordings/rdp-4711"
        ]
    );
    assert_eq!(itsm.calls().comment, 1);
    let linked: Vec<_> = sink
        .events()
        .into_iter()
        .filter(|e| e.action == AuditAction::SessionLinked)
        .collect();
    assert_eq!(linked.len(), 1);
    assert_eq!(linked[0].outcome, AuditOutcome::Success);
    assert_eq!(linked[0].detail["recording_id"], "rdp-4711");

    // Another session on the same ticket gets its own comment.
    let other = SessionLink::new("rdp-4712", "https://pam.example.com/r/4712");
    assert!(gate.link_session(&a, &v, &other).await.unwrap());
    assert_eq!(itsm.comments_on("2026000001").len(), 2);
}

#[tokio::test]
async fn a_failed_comment_is_retried_and_still_lands_once() {
    let (itsm, gate, sink) = setup();
    let a = attempt("2026000001");
    let v = gate.check(&a).await;
    itsm.fail_next(Op::Comment, 1, timeout);
    let err = gate.link_session(&a, &v, &link()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert!(gate.link_session(&a, &v, &link()).await.unwrap());
    assert!(!gate.link_session(&a, &v, &link()).await.unwrap());
    assert_eq!(itsm.calls().comment, 2);
    assert_eq!(itsm.comments_on("2026000001").len(), 1);
    let outcomes: Vec<_> = sink
        .events()
        .into_iter()
        .filter(|e| e.action == AuditAction::SessionLinked)
        .map(|e| e.outcome)
        .collect();
    assert_eq!(outcomes, [AuditOutcome::Failure, AuditOutcome::Success]);
}

#[tokio::test]
async fn concurrent_calls_comment_once() {
    let (itsm, gate, _) = setup();
    let a = attempt("2026000001");
    let v = gate.check(&a).await;
    let l = link();
    let results = futures::future::join_all((0..8).map(|_| gate.link_session(&a, &v, &l))).await;
    let added = results.into_iter().filter(|r| *r.as_ref().unwrap()).count();
    assert_eq!(added, 1);
    assert_eq!(itsm.comments_on("2026000001").len(), 1);
}

#[tokio::test]
async fn denied_verdicts_and_bad_links_send_nothing() {
    let (itsm, gate, _) = setup();
    let a = attempt("2026000002");
    let denied = gate.check(&a).await;
    assert!(!denied.allow);
    let err = gate.link_session(&a, &denied, &link()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);

    let ok = attempt("2026000001");
    let v = gate.check(&ok).await;
    for bad in [
        SessionLink::new("rdp 1", "https://pam.example.com/r/1"),
        SessionLink::new("", "https://pam.example.com/r/1"),
        SessionLink::new("rdp-1", "javascript:alert(1)"),
        SessionLink::new("rdp-1", "https://pam.example.com/r/1\n[code]evil[/code]"),
    ] {
        let err = gate.link_session(&ok, &v, &bad).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{bad:?}");
    }
    assert_eq!(itsm.calls().comment, 0);
}

#[tokio::test]
async fn attempt_values_cannot_add_lines_to_the_comment() {
    let (itsm, gate, _) = setup();
    let a = AccessAttempt::new(
        Principal::new("jdoe\n[code]<script>[/code]"),
        "connect\r\nApproved-by: cab",
        "db-prod-1",
    )
    .ticket("2026000001");
    let v = gate.check(&a).await;
    assert!(gate.link_session(&a, &v, &link()).await.unwrap());
    let body = itsm.comments_on("2026000001").pop().unwrap();
    assert!(!body.contains('\n') && !body.contains('\r'), "{body:?}");
    assert!(
        body.contains("by jdoe[code]<script>[/code] (connectApproved-by: cab on db-prod-1)"),
        "{body}"
    );
}
