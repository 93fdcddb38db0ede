//! Manual mode: open, poll in batches, map states, time out.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use accesslink_core::{
    ApprovalState, EntitlementRef, EntitlementType, ErrorKind, Person, TicketKind, TicketState,
    TicketStatus,
};
use accesslink_workflow::audit::{AuditAction, AuditOutcome, MemorySink};
use accesslink_workflow::fulfil::{
    AccessRequest, Fulfiller, Operation, PollOptions, TaskStatus, TicketTemplate, status_of,
};
use tokio::time::Instant;

use crate::double::{FakeItsm, Op, auth, find_corr, set_approval, ticket, timeout};

pub(crate) fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

pub(crate) fn grant(id: &str) -> AccessRequest {
    AccessRequest::new(id, Operation::Grant, "CRM", Person::login("jdoe"))
        .requester(Person::login("boss"))
        .entitlement(EntitlementRef::new(EntitlementType::role(), "sales-admin"))
        .justification("quarter close")
}

pub(crate) fn fast() -> PollOptions {
    PollOptions::new()
        .initial_interval(ms(100))
        .max_interval(ms(400))
        .deadline(Duration::from_secs(5))
}

pub(crate) fn template() -> TicketTemplate {
    TicketTemplate::builder(TicketKind::Request)
        .build()
        .unwrap()
}

fn manual(itsm: &Arc<FakeItsm>, poll: PollOptions) -> (Fulfiller, Arc<MemorySink>) {
    let sink = Arc::new(MemorySink::new());
    let f = Fulfiller::builder(itsm.clone(), template())
        .poll(poll)
        .audit(sink.clone())
        .build();
    (f, sink)
}

/// Closes the ticket of `corr` at poll round `round`.
fn close_at(itsm: &FakeItsm, round: usize, corr: &'static str) {
    itsm.on_poll(move |n, tickets| {
        if n == round {
            find_corr(tickets, corr).status =
                TicketStatus::new(TicketState::Closed, "closed successful");
        }
    });
}

#[tokio::test(start_paused = true)]
async fn same_request_twice_opens_one_ticket() {
    let itsm = FakeItsm::new();
    let (f, _) = manual(&itsm, fast().deadline(Duration::ZERO));
    let first = f.fulfil(&grant("REQ-1")).await;
    let second = f.fulfil(&grant("REQ-1")).await;
    assert!(matches!(
        first.status,
        TaskStatus::TimedOut { last_error: None }
    ));
    assert!(matches!(second.status, TaskStatus::TimedOut { .. }));
    let calls = itsm.calls();
    assert_eq!(
        calls.create, 2,
        "each run asks the connector's idempotent create"
    );
    assert_eq!(calls.created, 1, "only one ticket exists");
    assert_eq!(itsm.tickets().len(), 1);
    assert_eq!(
        first.ticket.unwrap().reference,
        second.ticket.unwrap().reference
    );
}

#[tokio::test(start_paused = true)]
async fn duplicate_in_one_batch_is_opened_once_and_reported_twice() {
    let itsm = FakeItsm::new();
    close_at(&itsm, 1, "REQ-1");
    let (f, _) = manual(&itsm, fast());
    let out = f.fulfil_all(&[grant("REQ-1"), grant("REQ-1")]).await;
    assert_eq!(itsm.calls().create, 1);
    assert_eq!(out.len(), 2);
    assert_eq!(out[0], out[1]);
    assert_eq!(out[0].status, TaskStatus::Completed);
}

#[tokio::test(start_paused = true)]
async fn closed_ticket_completes_with_raw_state() {
    let itsm = FakeItsm::new();
    close_at(&itsm, 2, "REQ-1");
    let (f, sink) = manual(&itsm, fast());
    let out = f.fulfil(&grant("REQ-1")).await;
    assert_eq!(out.status, TaskStatus::Completed);
    assert_eq!(out.raw_state.as_deref(), Some("closed successful"));
    assert_eq!(
        out.ticket.as_ref().unwrap().status.state,
        TicketState::Closed
    );
    assert_eq!(out.provisioned, None);
    let calls = itsm.calls();
    assert_eq!(calls.get_many, 2);
    assert_eq!(calls.get, 0, "never one read per ticket");
    let actions: Vec<_> = sink
        .events()
        .iter()
        .map(|e| (e.action, e.outcome))
        .collect();
    assert_eq!(
        actions,
        [
            (AuditAction::TicketOpened, AuditOutcome::Success),
            (AuditAction::TicketsPolled, AuditOutcome::Success),
            (AuditAction::TicketsPolled, AuditOutcome::Success),
            (AuditAction::TaskFinished, AuditOutcome::Success),
        ]
    );
    let last = sink.events().pop().unwrap();
    assert_eq!(last.request_id.unwrap().as_str(), "REQ-1");
    assert_eq!(last.detail["status"], "completed");
    assert_eq!(last.detail["raw_state"], "closed successful");
}

#[tokio::test(start_paused = true)]
async fn polling_is_one_batched_call_per_round() {
    let itsm = FakeItsm::new();
    let ids = ["R1", "R2", "R3", "R4", "R5"];
    itsm.on_poll(move |n, tickets| {
        if n == 3 {
            for id in ids {
                find_corr(tickets, id).status =
                    TicketStatus::new(TicketState::Resolved, "resolved");
            }
        }
    });
    let (f, _) = manual(&itsm, fast());
    let requests: Vec<_> = ids.iter().map(|id| grant(id)).collect();
    let out = f.fulfil_all(&requests).await;
    assert!(out.iter().all(|o| o.status == TaskStatus::Completed));
    let ids_out: Vec<_> = out.iter().map(|o| o.request_id.as_str()).collect();
    assert_eq!(ids_out, ids, "outcomes in request order");
    let calls = itsm.calls();
    assert_eq!(calls.get_many, 3, "three rounds, one call each");
    assert_eq!(calls.get_many_sizes, [5, 5, 5]);
    assert_eq!(calls.get, 0);
}

#[tokio::test(start_paused = true)]
async fn batches_are_split_by_batch_size() {
    let itsm = FakeItsm::new();
    itsm.on_poll(|n, tickets| {
        // Rounds are calls 1-3 and 4-6; close everything during the second round.
        if n == 4 {
            for t in tickets.iter_mut() {
                t.status = TicketStatus::new(TicketState::Closed, "closed");
            }
        }
    });
    let (f, _) = manual(&itsm, fast().batch_size(2));
    let requests: Vec<_> = ["A", "B", "C", "D", "E"]
        .iter()
        .map(|id| grant(id))
        .collect();
    let out = f.fulfil_all(&requests).await;
    assert!(out.iter().all(|o| o.status == TaskStatus::Completed));
    let mut sizes = itsm.calls().get_many_sizes;
    sizes[..3].sort_unstable();
    sizes[3..].sort_unstable();
    assert_eq!(sizes, [1, 2, 2, 1, 2, 2]);
}

#[tokio::test(start_paused = true)]
async fn backoff_is_capped_and_deadline_times_out() {
    let itsm = FakeItsm::new();
    let start = Instant::now();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    itsm.on_poll(move |_, _| log.lock().unwrap().push(start.elapsed()));
    let poll = PollOptions::new()
        .initial_interval(ms(100))
        .max_interval(ms(400))
        .multiplier(2)
        .deadline(ms(1000));
    let (f, _) = manual(&itsm, poll);
    let out = f.fulfil(&grant("REQ-1")).await;
    assert_eq!(out.status, TaskStatus::TimedOut { last_error: None });
    assert_eq!(out.raw_state.as_deref(), Some("new"));
    // Waits of 100, 200, 400, then 400 cut to the deadline: polls at 100, 300, 700, 1000 ms.
    assert_eq!(*seen.lock().unwrap(), [ms(100), ms(300), ms(700), ms(1000)]);
    assert_eq!(start.elapsed(), ms(1000));
}

#[test]
fn status_mapping_table() {
    use ApprovalState as A;
    use TicketState as S;
    let rows = [
        (S::Resolved, None, Some(TaskStatus::Completed)),
        (S::Closed, Some(A::Approved), Some(TaskStatus::Completed)),
        (S::Closed, Some(A::Rejected), Some(TaskStatus::Rejected)),
        (S::Resolved, Some(A::Rejected), Some(TaskStatus::Rejected)),
        (S::Cancelled, None, Some(TaskStatus::Cancelled)),
        (S::Cancelled, Some(A::Rejected), Some(TaskStatus::Rejected)),
        (S::New, None, None),
        (S::InProgress, Some(A::Rejected), None),
        (S::OnHold, Some(A::Requested), None),
        (S::Reopened, None, None),
        (S::Unknown, None, None),
    ];
    for (state, approval, expected) in rows {
        let mut t = ticket("1", TicketKind::Request, state, "raw");
        if let Some(a) = approval {
            set_approval(&mut t, a, "x");
        }
        assert_eq!(status_of(&t), expected, "{state:?} {approval:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn rejection_via_approval() {
    let itsm = FakeItsm::new();
    itsm.on_poll(|n, tickets| {
        if n == 1 {
            let t = find_corr(tickets, "REQ-1");
            set_approval(t, ApprovalState::Rejected, "rejected");
            t.status = TicketStatus::new(TicketState::Cancelled, "withdrawn");
            let t = find_corr(tickets, "REQ-2");
            t.status = TicketStatus::new(TicketState::Cancelled, "withdrawn");
        }
    });
    let (f, _) = manual(&itsm, fast());
    let out = f.fulfil_all(&[grant("REQ-1"), grant("REQ-2")]).await;
    assert_eq!(out[0].status, TaskStatus::Rejected);
    assert_eq!(out[0].raw_state.as_deref(), Some("withdrawn"));
    assert_eq!(out[1].status, TaskStatus::Cancelled);
}

#[tokio::test(start_paused = true)]
async fn create_failure_is_failed_with_its_kind() {
    let itsm = FakeItsm::new();
    itsm.fail_next(Op::Create, 1, auth);
    let (f, sink) = manual(&itsm, fast());
    let out = f.fulfil(&grant("REQ-1")).await;
    let TaskStatus::Failed(e) = &out.status else {
        panic!("expected Failed, got {:?}", out.status)
    };
    assert_eq!(e.kind, ErrorKind::Unauthenticated);
    assert!(out.ticket.is_none());
    assert_eq!(itsm.calls().get_many, 0);
    let opened = &sink.events()[0];
    assert_eq!(
        (opened.action, opened.outcome),
        (AuditAction::TicketOpened, AuditOutcome::Failure)
    );
    assert_eq!(opened.detail["error_kind"], "unauthenticated");
}

#[tokio::test(start_paused = true)]
async fn transient_poll_error_is_retried_next_round() {
    let itsm = FakeItsm::new();
    itsm.fail_next(Op::GetMany, 1, timeout);
    close_at(&itsm, 2, "REQ-1");
    let (f, sink) = manual(&itsm, fast());
    let out = f.fulfil(&grant("REQ-1")).await;
    assert_eq!(out.status, TaskStatus::Completed);
    assert_eq!(itsm.calls().get_many, 2);
    let polls: Vec<_> = sink
        .events()
        .into_iter()
        .filter(|e| e.action == AuditAction::TicketsPolled)
        .map(|e| e.outcome)
        .collect();
    assert_eq!(polls, [AuditOutcome::Failure, AuditOutcome::Success]);
}

#[tokio::test(start_paused = true)]
async fn final_poll_error_fails_the_batch() {
    let itsm = FakeItsm::new();
    itsm.fail_next(Op::GetMany, 1, auth);
    let (f, _) = manual(&itsm, fast());
    let out = f.fulfil_all(&[grant("A"), grant("B")]).await;
    for o in &out {
        assert!(matches!(&o.status, TaskStatus::Failed(e) if e.kind == ErrorKind::Unauthenticated));
        assert!(o.ticket.is_some(), "the ticket opened is still reported");
    }
    assert_eq!(itsm.calls().get_many, 1);
}

#[tokio::test(start_paused = true)]
async fn persistent_transient_errors_time_out_with_the_last_error() {
    let itsm = FakeItsm::new();
    itsm.fail_next(Op::GetMany, 100, timeout);
    let (f, _) = manual(&itsm, fast().deadline(ms(500)));
    let out = f.fulfil(&grant("REQ-1")).await;
    match out.status {
        TaskStatus::TimedOut {
            last_error: Some(e),
        } => assert_eq!(e.kind, ErrorKind::Timeout),
        other => panic!("expected TimedOut with an error, got {other:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn vanished_ticket_fails_as_not_found() {
    let itsm = FakeItsm::new();
    itsm.on_poll(|n, tickets| {
        if n == 1 {
            tickets.clear();
        }
    });
    let (f, _) = manual(&itsm, fast());
    let out = f.fulfil(&grant("REQ-1")).await;
    assert!(matches!(&out.status, TaskStatus::Failed(e) if e.kind == ErrorKind::NotFound));
}

#[tokio::test(start_paused = true)]
async fn creates_run_with_bounded_concurrency() {
    let itsm = FakeItsm::new();
    itsm.create_delay(ms(10));
    let (f, _) = manual(&itsm, fast().concurrency(2).deadline(Duration::ZERO));
    let requests: Vec<_> = (1..=6).map(|i| grant(&format!("R{i}"))).collect();
    let out = f.fulfil_all(&requests).await;
    assert_eq!(out.len(), 6);
    let calls = itsm.calls();
    assert_eq!(calls.created, 6);
    assert_eq!(calls.max_creates_in_flight, 2);
}

#[tokio::test(start_paused = true)]
async fn unknown_state_keeps_waiting() {
    let itsm = FakeItsm::new();
    itsm.on_poll(|n, tickets| {
        let t = find_corr(tickets, "REQ-1");
        t.status = match n {
            1 => TicketStatus::new(TicketState::Unknown, "frozen"),
            _ => TicketStatus::new(TicketState::Closed, "closed"),
        };
    });
    let (f, _) = manual(&itsm, fast());
    let out = f.fulfil(&grant("REQ-1")).await;
    assert_eq!(out.status, TaskStatus::Completed);
    assert_eq!(itsm.calls().get_many, 2);
}

#[test]
fn futures_are_send() {
    fn assert_send<T: Send>(_: T) {}
    let itsm = FakeItsm::new();
    let (f, _) = manual(&itsm, fast());
    let r = grant("X");
    assert_send(f.fulfil(&r));
}

#[tokio::test(start_paused = true)]
async fn out_of_range_options_are_clamped() {
    let itsm = FakeItsm::new();
    itsm.on_poll(|n, tickets| {
        if n == 3 {
            for t in tickets.iter_mut() {
                t.status = TicketStatus::new(TicketState::Closed, "closed");
            }
        }
    });
    let mut poll = PollOptions::new();
    poll.initial_interval = Duration::ZERO;
    poll.max_interval = Duration::ZERO;
    poll.multiplier = 0;
    poll.batch_size = 0;
    poll.concurrency = 0;
    let (f, _) = manual(&itsm, poll);
    let start = Instant::now();
    let out = f.fulfil_all(&[grant("A"), grant("B")]).await;
    assert!(out.iter().all(|o| o.status == TaskStatus::Completed));
    assert_eq!(itsm.calls().get_many_sizes, [1, 1, 1, 1], "batches of one");
    assert_eq!(
        start.elapsed(),
        ms(2),
        "rounds 1 ms apart, not a tight loop"
    );
}
