//! The run: open, poll in batches with back-off, provision, finish.

use std::collections::HashMap;

use accesslink_core::{
    ApprovalState, Comment, Error, ErrorKind, Provisioner, Resolution, Ticket, TicketRef,
};
use futures::{StreamExt, stream};
use tokio::time::Instant;

use super::outcome::{ErrorInfo, Provisioned, TaskOutcome, TaskStatus, status_of};
use super::provision::{Plan, carries_marker, failed_marker, provisioned_marker};
use super::request::AccessRequest;
use super::{Fulfiller, error_detail};
use crate::audit::{AuditAction, AuditEvent, AuditOutcome, ConnectorLabel, emit};

/// A request whose ticket is open.
struct Pending<'r> {
    slot: usize,
    req: &'r AccessRequest,
    ticket: Ticket,
    plan: Option<Plan>,
    /// Provisioned earlier in this run (closing then failed transiently).
    provisioned: Option<Provisioned>,
    commented: bool,
    attempts: u32,
    last_error: Option<ErrorInfo>,
}

enum Decision {
    Finish(TaskStatus),
    Provision,
    Wait,
}

enum Step<'r> {
    Done(usize, TaskOutcome),
    Again(Pending<'r>),
}

type Slots = Vec<Option<TaskOutcome>>;

/// The pending indices of one batched read, and what it returned.
type Batch = (Vec<usize>, Result<Vec<Ticket>, Error>);

pub(super) async fn run(f: &Fulfiller, requests: &[AccessRequest]) -> Vec<TaskOutcome> {
    let deadline = Instant::now() + f.poll.deadline;
    let mut slot_of = Vec::with_capacity(requests.len());
    let mut unique: Vec<&AccessRequest> = Vec::new();
    let mut seen = HashMap::new();
    for r in requests {
        let slot = *seen.entry(&r.id).or_insert_with(|| {
            unique.push(r);
            unique.len() - 1
        });
        slot_of.push(slot);
    }
    let mut done: Slots = vec![None; unique.len()];

    let mut pending = open_all(f, &unique, &mut done).await;
    advance(f, &mut pending, &mut done).await;
    let mut delay = f.poll.initial_interval;
    while !pending.is_empty() && Instant::now() < deadline {
        tokio::time::sleep_until((Instant::now() + delay).min(deadline)).await;
        delay = delay
            .saturating_mul(f.poll.multiplier)
            .min(f.poll.max_interval);
        poll_round(f, &mut pending, &mut done).await;
        advance(f, &mut pending, &mut done).await;
    }
    for p in pending {
        let status = TaskStatus::TimedOut {
            last_error: p.last_error,
        };
        done[p.slot] = Some(finish(f, p.req, status, Some(p.ticket), p.provisioned));
    }
    slot_of
        .into_iter()
        .map(|s| done[s].clone().expect("every request reaches an outcome"))
        .collect()
}

async fn open_all<'r>(
    f: &Fulfiller,
    unique: &[&'r AccessRequest],
    done: &mut Slots,
) -> Vec<Pending<'r>> {
    // The futures are built before they are streamed: a closure over borrowed
    // requests inside the stream would make the whole run lose `Send` (rustc's
    // higher-ranked lifetime limitation), and embedders spawn this future.
    let futures: Vec<_> = unique
        .iter()
        .enumerate()
        .map(|(slot, r)| open_one(f, slot, r))
        .collect();
    let opened: Vec<Result<Pending<'r>, (usize, TaskOutcome)>> = stream::iter(futures)
        .buffer_unordered(f.poll.concurrency)
        .collect()
        .await;
    let mut pending = Vec::with_capacity(opened.len());
    for result in opened {
        match result {
            Ok(p) => pending.push(p),
            Err((slot, outcome)) => done[slot] = Some(outcome),
        }
    }
    pending.sort_by_key(|p| p.slot);
    pending
}

async fn open_one<'r>(
    f: &Fulfiller,
    slot: usize,
    r: &'r AccessRequest,
) -> Result<Pending<'r>, (usize, TaskOutcome)> {
    let plan = match f.provisioner.as_deref() {
        Some(p) => Plan::for_request(r, p)
            .map_err(|e| (slot, finish(f, r, TaskStatus::Failed(e), None, None)))?,
        None => None,
    };
    let ticket = f.open(r).await.map_err(|e| {
        let status = TaskStatus::Failed(ErrorInfo::from(&e));
        (slot, finish(f, r, status, None, None))
    })?;
    Ok(Pending {
        slot,
        req: r,
        ticket,
        plan,
        provisioned: None,
        commented: false,
        attempts: 0,
        last_error: None,
    })
}

/// One batched read of every pending ticket.
async fn poll_round(f: &Fulfiller, pending: &mut Vec<Pending<'_>>, done: &mut Slots) {
    let chunks: Vec<Vec<usize>> = (0..pending.len())
        .collect::<Vec<_>>()
        .chunks(f.poll.batch_size)
        .map(<[usize]>::to_vec)
        .collect();
    let batches = chunks.len();
    let futures: Vec<_> = chunks
        .into_iter()
        .map(|idx| {
            let refs: Vec<TicketRef> = idx
                .iter()
                .map(|&i| pending[i].ticket.reference.clone())
                .collect();
            async move { (idx, f.tickets.get_tickets(&refs).await) }
        })
        .collect();
    let results: Vec<Batch> = stream::iter(futures)
        .buffer_unordered(f.poll.concurrency)
        .collect()
        .await;

    let mut failed: HashMap<usize, ErrorInfo> = HashMap::new();
    let mut errors = Vec::new();
    for (idx, result) in results {
        match result {
            Ok(tickets) => {
                for i in idx {
                    let p = &mut pending[i];
                    match tickets.iter().find(|t| same_ticket(t, p)) {
                        Some(t) => {
                            p.ticket = t.clone();
                            p.last_error = None;
                        }
                        None => {
                            let what = format!("ticket {} is no longer found", p.ticket.reference);
                            failed.insert(i, ErrorInfo::new(ErrorKind::NotFound, what));
                        }
                    }
                }
            }
            Err(e) => {
                let info = ErrorInfo::from(&e);
                for i in idx {
                    if info.is_retryable() {
                        pending[i].last_error = Some(info.clone());
                    } else {
                        failed.insert(i, info.clone());
                    }
                }
                errors.push(info);
            }
        }
    }
    let mut event = AuditEvent::new(
        AuditAction::TicketsPolled,
        if errors.is_empty() {
            AuditOutcome::Success
        } else {
            AuditOutcome::Failure
        },
        f.tickets.info().into(),
    )
    .detail("pending", pending.len())
    .detail("batches", batches)
    .detail("failed_batches", errors.len());
    if let Some(e) = errors.first() {
        event = error_detail(event, e);
    }
    emit(f.audit.as_ref(), &event);

    if failed.is_empty() {
        return;
    }
    let mut kept = Vec::with_capacity(pending.len());
    for (i, p) in pending.drain(..).enumerate() {
        match failed.remove(&i) {
            Some(e) => {
                done[p.slot] = Some(finish(
                    f,
                    p.req,
                    TaskStatus::Failed(e),
                    Some(p.ticket),
                    p.provisioned,
                ))
            }
            None => kept.push(p),
        }
    }
    *pending = kept;
}

/// Whether a ticket from a batched read is the pending request's ticket.
fn same_ticket(t: &Ticket, p: &Pending<'_>) -> bool {
    let (a, b) = (&t.reference, &p.ticket.reference);
    t.correlation_id
        .as_ref()
        .is_some_and(|c| c.as_str() == p.req.id.as_str())
        || (a.id().is_some() && a.id() == b.id())
        || (a.number().is_some() && a.number() == b.number())
}

fn decide(p: &Pending<'_>) -> Decision {
    if let Some(status) = status_of(&p.ticket) {
        if p.plan.is_some()
            && status != TaskStatus::Rejected
            && carries_marker(&p.ticket, &failed_marker(&p.req.id))
        {
            let e = ErrorInfo::new(
                ErrorKind::Other,
                "an earlier run closed the ticket after provisioning failed",
            );
            return Decision::Finish(TaskStatus::Failed(e));
        }
        return Decision::Finish(status);
    }
    if p.plan.is_none() {
        return Decision::Wait;
    }
    match p.ticket.approval_state() {
        ApprovalState::Rejected => Decision::Finish(TaskStatus::Rejected),
        ApprovalState::Approved | ApprovalState::NotRequested
            if p.ticket.status.state.is_open() =>
        {
            Decision::Provision
        }
        _ => Decision::Wait,
    }
}

/// Finishes what can be finished and provisions what is ready.
async fn advance<'r>(f: &Fulfiller, pending: &mut Vec<Pending<'r>>, done: &mut Slots) {
    let mut ready = Vec::new();
    let mut waiting = Vec::with_capacity(pending.len());
    for p in pending.drain(..) {
        match decide(&p) {
            Decision::Finish(status) => {
                let provisioned = p.provisioned.or_else(|| {
                    (p.plan.is_some() && carries_marker(&p.ticket, &provisioned_marker(&p.req.id)))
                        .then_some(Provisioned::RecordedOnTicket)
                });
                done[p.slot] = Some(finish(f, p.req, status, Some(p.ticket), provisioned));
            }
            Decision::Provision => ready.push(p),
            Decision::Wait => waiting.push(p),
        }
    }
    // `ready` is only filled when there is a provisioner (a plan needs one).
    if let Some(prov) = f.provisioner.as_deref() {
        let futures: Vec<_> = ready
            .into_iter()
            .map(|p| provision_one(f, prov, p))
            .collect();
        let steps: Vec<Step<'r>> = stream::iter(futures)
            .buffer_unordered(f.poll.concurrency)
            .collect()
            .await;
        for step in steps {
            match step {
                Step::Done(slot, outcome) => done[slot] = Some(outcome),
                Step::Again(p) => waiting.push(p),
            }
        }
    } else {
        waiting.extend(ready);
    }
    waiting.sort_by_key(|p| p.slot);
    *pending = waiting;
}

async fn provision_one<'r>(f: &Fulfiller, prov: &dyn Provisioner, mut p: Pending<'r>) -> Step<'r> {
    let Some(plan) = p.plan.clone() else {
        return Step::Again(p);
    };
    let id = p.req.id.clone();
    let result = match p.provisioned {
        Some(already) => Ok(already),
        None if carries_marker(&p.ticket, &provisioned_marker(&id)) => {
            Ok(Provisioned::RecordedOnTicket)
        }
        None => {
            p.attempts += 1;
            let result = plan.run(prov).await;
            let event = AuditEvent::new(
                AuditAction::Provisioned,
                if result.is_ok() {
                    AuditOutcome::Success
                } else {
                    AuditOutcome::Failure
                },
                ConnectorLabel::from(prov.info()),
            )
            .request(&id)
            .ticket(Some(&p.ticket.reference))
            .detail("call", plan.describe())
            .detail("attempt", p.attempts);
            let event = match &result {
                Ok(what) => event.detail("result", what.as_str()),
                Err(e) => error_detail(event, &ErrorInfo::from(e)),
            };
            emit(f.audit.as_ref(), &event);
            result
        }
    };
    match result {
        Ok(what) => {
            p.provisioned = Some(what);
            let note = format!(
                "{}\n{}: {}",
                provisioned_marker(&id),
                plan.describe(),
                what.as_str()
            );
            if !p.commented && what != Provisioned::RecordedOnTicket {
                p.commented = comment(f, &p, &note).await;
            }
            match close(f, &p, Resolution::done(note)).await {
                Ok(t) => Step::Done(
                    p.slot,
                    finish(f, p.req, TaskStatus::Completed, Some(t), Some(what)),
                ),
                Err(e) if e.is_retryable() => {
                    p.last_error = Some(ErrorInfo::from(&e));
                    Step::Again(p)
                }
                Err(e) => {
                    let mut info = ErrorInfo::from(&e);
                    info.message = format!(
                        "provisioned ({}), but closing the ticket failed: {}",
                        what.as_str(),
                        info.message
                    );
                    Step::Done(
                        p.slot,
                        finish(
                            f,
                            p.req,
                            TaskStatus::Failed(info),
                            Some(p.ticket),
                            Some(what),
                        ),
                    )
                }
            }
        }
        Err(e) if e.is_retryable() && p.attempts < f.provision_attempts => {
            p.last_error = Some(ErrorInfo::from(&e));
            Step::Again(p)
        }
        Err(e) => {
            let info = ErrorInfo::from(&e);
            let note = format!("{}\n{}: {info}", failed_marker(&id), plan.describe());
            comment(f, &p, &note).await;
            let ticket = close(f, &p, Resolution::failed(note))
                .await
                .unwrap_or(p.ticket);
            Step::Done(
                p.slot,
                finish(f, p.req, TaskStatus::Failed(info), Some(ticket), None),
            )
        }
    }
}

/// Adds an internal result comment; reports whether it was stored.
async fn comment(f: &Fulfiller, p: &Pending<'_>, body: &str) -> bool {
    let result = f
        .tickets
        .add_comment(&p.ticket.reference, &Comment::internal(body))
        .await;
    let event = ticket_event(f, p, AuditAction::TicketCommented, result.is_ok());
    let event = match &result {
        Ok(()) => event,
        Err(e) => error_detail(event, &ErrorInfo::from(e)),
    };
    emit(f.audit.as_ref(), &event);
    result.is_ok()
}

async fn close(f: &Fulfiller, p: &Pending<'_>, how: Resolution) -> Result<Ticket, Error> {
    let result = f.tickets.close_ticket(&p.ticket.reference, &how).await;
    let event = ticket_event(f, p, AuditAction::TicketClosed, result.is_ok())
        .detail("successful", how.successful);
    let event = match &result {
        Ok(t) => event.detail("raw_state", t.status.raw.as_str()),
        Err(e) => error_detail(event, &ErrorInfo::from(e)),
    };
    emit(f.audit.as_ref(), &event);
    result
}

fn ticket_event(f: &Fulfiller, p: &Pending<'_>, action: AuditAction, ok: bool) -> AuditEvent {
    AuditEvent::new(
        action,
        if ok {
            AuditOutcome::Success
        } else {
            AuditOutcome::Failure
        },
        f.tickets.info().into(),
    )
    .request(&p.req.id)
    .ticket(Some(&p.ticket.reference))
}

/// The outcome of a request, recorded as the `task_finished` audit event.
fn finish(
    f: &Fulfiller,
    r: &AccessRequest,
    status: TaskStatus,
    ticket: Option<Ticket>,
    provisioned: Option<Provisioned>,
) -> TaskOutcome {
    let outcome = TaskOutcome::new(r.id.clone(), status, ticket).with_provisioned(provisioned);
    let ok = matches!(
        outcome.status,
        TaskStatus::Completed | TaskStatus::Rejected | TaskStatus::Cancelled
    );
    let mut event = AuditEvent::new(
        AuditAction::TaskFinished,
        match &outcome.status {
            TaskStatus::TimedOut { .. } => AuditOutcome::Pending,
            _ if ok => AuditOutcome::Success,
            _ => AuditOutcome::Failure,
        },
        f.tickets.info().into(),
    )
    .request(&r.id)
    .ticket(outcome.ticket.as_ref().map(|t| &t.reference))
    .detail("status", outcome.status.as_str());
    if let Some(raw) = &outcome.raw_state {
        event = event.detail("raw_state", raw.as_str());
    }
    if let Some(p) = provisioned {
        event = event.detail("provisioned", p.as_str());
    }
    match &outcome.status {
        TaskStatus::Failed(e)
        | TaskStatus::TimedOut {
            last_error: Some(e),
        } => event = error_detail(event, e),
        _ => {}
    }
    emit(f.audit.as_ref(), &event);
    outcome
}
