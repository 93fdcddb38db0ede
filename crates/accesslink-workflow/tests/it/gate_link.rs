//! The session link on the ticket: one comment per session, even when retried.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use accesslink_core::{
    Capability, Comment, ConnectionReport, Connector, ConnectorInfo, CorrelationId, ErrorKind,
    NewTicket, Resolution, Result, Ticket, TicketComment, TicketKind, TicketRef, TicketState,
    TicketingSystem, Visibility, async_trait,
};
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

/// The fake desk, reading its comments back (`ListComments`), and able to lose the
/// answer to a comment the server stored.
#[derive(Debug)]
struct ReadsBack {
    itsm: Arc<FakeItsm>,
    info: ConnectorInfo,
    lose_next_answer: std::sync::atomic::AtomicBool,
    lists: std::sync::atomic::AtomicUsize,
}

impl ReadsBack {
    fn new(itsm: Arc<FakeItsm>) -> Arc<Self> {
        let info = itsm.info().clone().with([Capability::ListComments]);
        Arc::new(ReadsBack {
            itsm,
            info,
            lose_next_answer: false.into(),
            lists: 0.into(),
        })
    }
}

#[async_trait]
impl Connector for ReadsBack {
    fn info(&self) -> &ConnectorInfo {
        &self.info
    }
    async fn test_connection(&self) -> Result<ConnectionReport> {
        self.itsm.test_connection().await
    }
    fn as_ticketing(&self) -> Option<&dyn TicketingSystem> {
        Some(self)
    }
}

#[async_trait]
impl TicketingSystem for ReadsBack {
    fn parse_ticket_ref(&self, raw: &str) -> Result<TicketRef> {
        self.itsm.parse_ticket_ref(raw)
    }
    async fn create_ticket(&self, new: &NewTicket) -> Result<Ticket> {
        self.itsm.create_ticket(new).await
    }
    async fn find_by_correlation(&self, id: &CorrelationId) -> Result<Option<Ticket>> {
        self.itsm.find_by_correlation(id).await
    }
    async fn get_ticket(&self, r: &TicketRef) -> Result<Option<Ticket>> {
        self.itsm.get_ticket(r).await
    }
    async fn get_tickets(&self, refs: &[TicketRef]) -> Result<Vec<Ticket>> {
        self.itsm.get_tickets(refs).await
    }
    async fn add_comment(&self, r: &TicketRef, c: &Comment) -> Result<()> {
        self.itsm.add_comment(r, c).await?;
        if self.lose_next_answer.swap(false, Ordering::SeqCst) {
            return Err(timeout());
        }
        Ok(())
    }
    async fn close_ticket(&self, r: &TicketRef, how: &Resolution) -> Result<Ticket> {
        self.itsm.close_ticket(r, how).await
    }
    async fn list_comments(&self, r: &TicketRef) -> Result<Vec<TicketComment>> {
        self.lists.fetch_add(1, Ordering::SeqCst);
        let number = r.number().unwrap_or_default();
        Ok(self
            .itsm
            .comments_on(number)
            .into_iter()
            .enumerate()
            .map(|(i, body)| TicketComment::new(i.to_string(), Visibility::Internal, body))
            .collect())
    }
}

#[tokio::test]
async fn a_second_gate_reads_the_marker_back_and_comments_nothing() {
    let (itsm, _, _) = setup();
    let desk = ReadsBack::new(itsm.clone());
    let policies = GatePolicies::new(TicketPolicy::new());
    // Two gates, as in two processes: neither shares the other's memory.
    let first = TicketGate::new(desk.clone(), policies.clone());
    let second = TicketGate::new(desk.clone(), policies);
    let a = attempt("2026000001");
    let v = first.check(&a).await;
    assert!(first.link_session(&a, &v, &link()).await.unwrap());
    let v2 = second.check(&a).await;
    assert!(!second.link_session(&a, &v2, &link()).await.unwrap());
    assert_eq!(itsm.comments_on("2026000001").len(), 1);
    assert_eq!(itsm.calls().comment, 1);
    // Each gate looked before commenting.
    assert_eq!(desk.lists.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_comment_whose_answer_was_lost_is_found_and_not_sent_again() {
    let (itsm, _, sink) = setup();
    let desk = ReadsBack::new(itsm.clone());
    let gate = TicketGate::new(desk.clone(), GatePolicies::new(TicketPolicy::new()))
        .with_audit(sink.clone());
    let a = attempt("2026000001");
    let v = gate.check(&a).await;
    desk.lose_next_answer.store(true, Ordering::SeqCst);
    // The server stored it; the lost answer is recovered by reading the comments back.
    assert!(gate.link_session(&a, &v, &link()).await.unwrap());
    assert!(!gate.link_session(&a, &v, &link()).await.unwrap());
    assert_eq!(itsm.calls().comment, 1);
    assert_eq!(itsm.comments_on("2026000001").len(), 1);
}

#[tokio::test]
async fn a_comment_that_did_not_land_is_still_an_error_with_read_back() {
    let (itsm, _, _) = setup();
    let desk = ReadsBack::new(itsm.clone());
    let gate = TicketGate::new(desk.clone(), GatePolicies::new(TicketPolicy::new()));
    let a = attempt("2026000001");
    let v = gate.check(&a).await;
    itsm.fail_next(Op::Comment, 1, timeout);
    let err = gate.link_session(&a, &v, &link()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert!(itsm.comments_on("2026000001").is_empty());
    assert!(gate.link_session(&a, &v, &link()).await.unwrap());
    assert_eq!(itsm.comments_on("2026000001").len(), 1);
}
