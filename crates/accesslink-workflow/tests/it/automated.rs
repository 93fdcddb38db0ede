//! Automated mode: provision, comment, close; idempotency and crash recovery.

use std::sync::Arc;

use accesslink_core::{ApprovalState, ErrorKind, Person, TicketState, TicketStatus};
use accesslink_workflow::audit::{AuditAction, AuditOutcome, MemorySink};
use accesslink_workflow::fulfil::{
    AccessRequest, Fulfiller, Operation, PollOptions, Provisioned, TaskStatus,
};

use crate::double::{
    FakeDirectory, FakeItsm, Op, auth, conflict, find_corr, set_approval, timeout,
};
use crate::fulfil::{fast, grant, template};

struct Setup {
    itsm: Arc<FakeItsm>,
    dir: Arc<FakeDirectory>,
    sink: Arc<MemorySink>,
}

impl Setup {
    fn new() -> Self {
        let dir = FakeDirectory::new();
        dir.add_account("jdoe");
        Setup {
            itsm: FakeItsm::new(),
            dir,
            sink: Arc::new(MemorySink::new()),
        }
    }

    fn fulfiller(&self, poll: PollOptions) -> Fulfiller {
        Fulfiller::builder(self.itsm.clone(), template())
            .automated(self.dir.clone())
            .poll(poll)
            .audit(self.sink.clone())
            .build()
    }

    async fn run(&self, r: &AccessRequest) -> accesslink_workflow::TaskOutcome {
        self.fulfiller(fast()).fulfil(r).await
    }
}

#[tokio::test(start_paused = true)]
async fn provisions_then_comments_and_closes() {
    let s = Setup::new();
    let out = s.run(&grant("REQ-1")).await;
    assert_eq!(out.status, TaskStatus::Completed);
    assert_eq!(out.provisioned, Some(Provisioned::Granted));
    assert_eq!(out.raw_state.as_deref(), Some("closed successful"));
    assert!(s.dir.holds("jdoe", "sales-admin"));
    assert_eq!(s.dir.calls().grant, 1);
    let comments = s.itsm.comments_for("REQ-1");
    assert_eq!(comments.len(), 1);
    assert!(
        comments[0].starts_with("accesslink: provisioned REQ-1\n"),
        "{}",
        comments[0]
    );
    let closes = s.itsm.closes();
    assert_eq!(closes.len(), 1);
    assert!(closes[0].successful);
    assert!(
        closes[0]
            .notes
            .starts_with("accesslink: provisioned REQ-1\n")
    );
    assert_eq!(
        s.itsm.calls().get_many,
        0,
        "an open, unapproved-free ticket needs no polling"
    );
    let actions: Vec<_> = s
        .sink
        .events()
        .iter()
        .map(|e| (e.action, e.outcome))
        .collect();
    assert_eq!(
        actions,
        [
            (AuditAction::TicketOpened, AuditOutcome::Success),
            (AuditAction::Provisioned, AuditOutcome::Success),
            (AuditAction::TicketCommented, AuditOutcome::Success),
            (AuditAction::TicketClosed, AuditOutcome::Success),
            (AuditAction::TaskFinished, AuditOutcome::Success),
        ]
    );
    let provisioned = &s.sink.events()[1];
    assert_eq!(provisioned.connector.target, "fake-dir");
    assert_eq!(provisioned.detail["result"], "granted");
}

#[tokio::test(start_paused = true)]
async fn rerun_after_completion_neither_opens_nor_provisions() {
    let s = Setup::new();
    assert_eq!(s.run(&grant("REQ-1")).await.status, TaskStatus::Completed);
    let again = s.run(&grant("REQ-1")).await;
    assert_eq!(again.status, TaskStatus::Completed);
    assert_eq!(s.itsm.calls().created, 1);
    assert_eq!(s.dir.calls().total(), 1, "provisioned once");
    assert_eq!(s.itsm.calls().close, 1);
}

#[tokio::test(start_paused = true)]
async fn crash_before_close_rerun_sees_already_granted_and_closes() {
    let s = Setup::new();
    s.itsm.fail_next(Op::Close, 1, auth);
    let first = s.run(&grant("REQ-1")).await;
    assert!(matches!(&first.status, TaskStatus::Failed(e) if e.kind == ErrorKind::Unauthenticated));
    assert_eq!(first.provisioned, Some(Provisioned::Granted));
    assert_eq!(
        s.itsm.ticket_for("REQ-1").unwrap().status.state,
        TicketState::New
    );

    let second = s.run(&grant("REQ-1")).await;
    assert_eq!(second.status, TaskStatus::Completed);
    assert_eq!(second.provisioned, Some(Provisioned::AlreadyGranted));
    let dir = s.dir.calls();
    assert_eq!(dir.grant, 2);
    assert_eq!(dir.effective_grants, 1, "nothing granted twice");
    assert_eq!(s.itsm.calls().created, 1);
    assert_eq!(
        s.itsm.ticket_for("REQ-1").unwrap().status.state,
        TicketState::Closed
    );
}

#[tokio::test(start_paused = true)]
async fn crash_before_close_rerun_reads_marker_and_skips_provisioning() {
    let s = Setup::new();
    s.itsm.expose_notes(true);
    s.itsm.fail_next(Op::Close, 1, auth);
    let first = s.run(&grant("REQ-1")).await;
    assert!(matches!(first.status, TaskStatus::Failed(_)));

    let second = s.run(&grant("REQ-1")).await;
    assert_eq!(second.status, TaskStatus::Completed);
    assert_eq!(second.provisioned, Some(Provisioned::RecordedOnTicket));
    assert_eq!(
        s.dir.calls().grant,
        1,
        "the marker on the ticket prevents a second call"
    );
    assert_eq!(s.itsm.comments_for("REQ-1").len(), 1, "no second comment");
    assert_eq!(
        s.itsm.ticket_for("REQ-1").unwrap().status.state,
        TicketState::Closed
    );
}

#[tokio::test(start_paused = true)]
async fn marker_of_another_request_does_not_count() {
    let s = Setup::new();
    // An open ticket for REQ-1 that carries the marker of REQ-10, of which REQ-1 is a prefix.
    let mut t = crate::double::ticket(
        "901",
        accesslink_core::TicketKind::Request,
        TicketState::InProgress,
        "open",
    );
    t.correlation_id = Some("REQ-1".into());
    t.extra.insert(
        "articles".into(),
        serde_json::json!(["accesslink: provisioned REQ-10\nx"]),
    );
    s.itsm.insert(t);
    let out = s.run(&grant("REQ-1")).await;
    assert_eq!(out.status, TaskStatus::Completed);
    assert_eq!(out.provisioned, Some(Provisioned::Granted));
    assert_eq!(s.dir.calls().grant, 1);
}

#[tokio::test(start_paused = true)]
async fn transient_close_failure_is_retried_without_provisioning_again() {
    let s = Setup::new();
    s.itsm.fail_next(Op::Close, 1, timeout);
    let out = s.run(&grant("REQ-1")).await;
    assert_eq!(out.status, TaskStatus::Completed);
    assert_eq!(out.provisioned, Some(Provisioned::Granted));
    assert_eq!(s.dir.calls().grant, 1);
    assert_eq!(s.itsm.calls().close, 2);
    assert_eq!(s.itsm.calls().comment, 1);
    assert_eq!(
        s.itsm.calls().get_many,
        1,
        "one round between the two closes"
    );
}

#[tokio::test(start_paused = true)]
async fn final_provisioning_failure_closes_unsuccessfully() {
    let s = Setup::new();
    s.dir.fail_next(1, conflict);
    let out = s.run(&grant("REQ-1")).await;
    assert!(matches!(&out.status, TaskStatus::Failed(e) if e.kind == ErrorKind::Conflict));
    assert_eq!(out.provisioned, None);
    assert_eq!(out.raw_state.as_deref(), Some("closed unsuccessful"));
    let comments = s.itsm.comments_for("REQ-1");
    assert!(comments[0].starts_with("accesslink: provisioning failed REQ-1\n"));
    assert!(!s.itsm.closes()[0].successful);
    assert!(!s.dir.holds("jdoe", "sales-admin"));
}

#[tokio::test(start_paused = true)]
async fn failure_marker_on_closed_ticket_reports_failed_on_rerun() {
    let s = Setup::new();
    s.itsm.expose_notes(true);
    s.dir.fail_next(1, conflict);
    assert!(matches!(
        s.run(&grant("REQ-1")).await.status,
        TaskStatus::Failed(_)
    ));
    let again = s.run(&grant("REQ-1")).await;
    assert!(matches!(&again.status, TaskStatus::Failed(e) if e.kind == ErrorKind::Other));
    assert_eq!(s.dir.calls().grant, 1);
}

#[tokio::test(start_paused = true)]
async fn retryable_provisioning_error_is_retried_at_the_next_round() {
    let s = Setup::new();
    s.dir.fail_next(1, timeout);
    let out = s.run(&grant("REQ-1")).await;
    assert_eq!(out.status, TaskStatus::Completed);
    assert_eq!(s.dir.calls().grant, 2);
    assert_eq!(s.dir.calls().effective_grants, 1);
    assert_eq!(s.itsm.calls().comment, 1);
}

#[tokio::test(start_paused = true)]
async fn retryable_errors_give_up_after_the_attempt_limit() {
    let s = Setup::new();
    s.dir.fail_next(10, timeout);
    let f = Fulfiller::builder(s.itsm.clone(), template())
        .automated(s.dir.clone())
        .poll(fast())
        .provision_attempts(2)
        .build();
    let out = f.fulfil(&grant("REQ-1")).await;
    assert!(matches!(&out.status, TaskStatus::Failed(e) if e.kind == ErrorKind::Timeout));
    assert_eq!(s.dir.calls().grant, 2);
    assert!(!s.itsm.closes()[0].successful);
}

#[tokio::test(start_paused = true)]
async fn waits_for_approval_before_provisioning() {
    let s = Setup::new();
    s.itsm.initial_approval(ApprovalState::Requested);
    let dir = s.dir.clone();
    s.itsm.on_poll(move |n, tickets| {
        assert_eq!(
            dir.calls().grant,
            0,
            "nothing provisioned before approval (round {n})"
        );
        if n == 2 {
            set_approval(
                find_corr(tickets, "REQ-1"),
                ApprovalState::Approved,
                "approved",
            );
        }
    });
    let out = s.run(&grant("REQ-1")).await;
    assert_eq!(out.status, TaskStatus::Completed);
    assert_eq!(s.dir.calls().grant, 1);
    assert_eq!(s.itsm.calls().get_many, 2);
}

#[tokio::test(start_paused = true)]
async fn rejected_approval_is_never_provisioned() {
    let s = Setup::new();
    s.itsm.initial_approval(ApprovalState::Rejected);
    let out = s.run(&grant("REQ-1")).await;
    assert_eq!(out.status, TaskStatus::Rejected);
    assert_eq!(s.dir.calls().total(), 0);
    assert_eq!(s.itsm.calls().close, 0);
}

#[tokio::test(start_paused = true)]
async fn closed_ticket_is_never_provisioned() {
    let s = Setup::new();
    // A person opened (and finished) the request's ticket already.
    let mut t = crate::double::ticket(
        "900",
        accesslink_core::TicketKind::Request,
        TicketState::Closed,
        "closed by hand",
    );
    t.correlation_id = Some("REQ-1".into());
    s.itsm.insert(t);
    let out = s.run(&grant("REQ-1")).await;
    assert_eq!(out.status, TaskStatus::Completed);
    assert_eq!(out.raw_state.as_deref(), Some("closed by hand"));
    assert_eq!(s.dir.calls().total(), 0);
    assert_eq!(s.itsm.calls().created, 0);
}

#[tokio::test(start_paused = true)]
async fn custom_operation_is_left_to_people() {
    let s = Setup::new();
    s.itsm.on_poll(|_, tickets| {
        find_corr(tickets, "REQ-1").status = TicketStatus::new(TicketState::Resolved, "resolved");
    });
    let r = AccessRequest::new(
        "REQ-1",
        Operation::Custom("reset_mfa".into()),
        "VPN",
        Person::login("jdoe"),
    );
    let out = s.run(&r).await;
    assert_eq!(out.status, TaskStatus::Completed);
    assert_eq!(out.provisioned, None);
    assert_eq!(s.dir.calls().total(), 0);
    assert_eq!(s.itsm.calls().close, 0, "people closed it");
}

#[tokio::test(start_paused = true)]
async fn already_outcomes_count_as_success() {
    let s = Setup::new();
    let mut revoke = grant("REQ-R");
    revoke.operation = Operation::Revoke;
    let delete = AccessRequest::new("REQ-D", Operation::Delete, "CRM", Person::login("ghost"));
    let create = AccessRequest::new(
        "REQ-C",
        Operation::CreateAccount,
        "CRM",
        Person::login("jdoe"),
    );
    let out = s
        .fulfiller(fast())
        .fulfil_all(&[revoke, delete, create])
        .await;
    let got: Vec<_> = out
        .iter()
        .map(|o| (o.status.clone(), o.provisioned))
        .collect();
    assert_eq!(
        got,
        [
            (TaskStatus::Completed, Some(Provisioned::AlreadyAbsent)),
            (TaskStatus::Completed, Some(Provisioned::AlreadyDeleted)),
            (TaskStatus::Completed, Some(Provisioned::AlreadyExists)),
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn disable_disables_the_account() {
    let s = Setup::new();
    let r = AccessRequest::new("REQ-X", Operation::Disable, "CRM", Person::login("jdoe"));
    let out = s.run(&r).await;
    assert_eq!(
        (out.status, out.provisioned),
        (TaskStatus::Completed, Some(Provisioned::Disabled))
    );
    assert_eq!(s.dir.is_enabled("jdoe"), Some(false));
}

#[tokio::test(start_paused = true)]
async fn incomplete_request_fails_before_any_ticket() {
    let s = Setup::new();
    let r = AccessRequest::new("REQ-1", Operation::Grant, "CRM", Person::login("jdoe"));
    let out = s.run(&r).await;
    assert!(matches!(&out.status, TaskStatus::Failed(e) if e.kind == ErrorKind::InvalidInput));
    assert!(out.ticket.is_none());
    assert_eq!(s.itsm.calls().create, 0);
}
