//! The ticketing checks: malformed references, the lifecycle, idempotent create and
//! following a state change.

use accesslink_core::{
    Capability, Comment, CorrelationId, ErrorKind, NewTicket, Resolution, TicketRef, TicketState,
    TicketingSystem,
};

use super::cx::{Cx, quoted, same_ticket, short};
use super::suite::{fresh_id, injection_attempts};
use super::{Check, ConformanceFailure, TicketBackend};

/// Longest error message a rejected ticket reference may produce: the message is logged,
/// so echoing a 10 000-character input would flood the logs.
const MAX_REJECTION_MESSAGE: usize = 1024;

/// Every malformed ticket id — `bad` plus [`injection_attempts`] — is rejected by
/// `parse_ticket_ref` with [`ErrorKind::InvalidInput`] and a bounded message, and without
/// a request. The built-in attempts must also be rejected, without a request, when they
/// reach `get_ticket` in an unvalidated [`TicketRef`] (by id and by number): `TicketRef`'s
/// fields are public, so connectors validate again before a reference goes into a URL.
/// (That second part is left out when the connector does not declare `GetTicket`.)
pub async fn invalid_ticket_refs_rejected(
    ts: &dyn TicketingSystem,
    backend: &dyn TicketBackend,
    bad: &[&str],
) -> Result<(), ConformanceFailure> {
    let cx = Cx(Check::InvalidTicketRefsRejected);
    let builtin = injection_attempts();
    let all = bad
        .iter()
        .copied()
        .chain(builtin.iter().map(String::as_str));
    for raw in all {
        let step = format!("parse_ticket_ref({})", quoted(raw));
        let before = backend.requests_seen();
        let e = cx.err_kind(&step, ts.parse_ticket_ref(raw), ErrorKind::InvalidInput)?;
        let sent = backend.requests_seen().saturating_sub(before);
        cx.ensure(sent == 0, &step, "no request", || {
            format!("{sent} request(s)")
        })?;
        let len = e.to_string().chars().count();
        cx.ensure(
            len <= MAX_REJECTION_MESSAGE,
            &step,
            format!("an error message of at most {MAX_REJECTION_MESSAGE} characters"),
            || format!("{len} characters"),
        )?;
    }
    if !ts.info().supports(&Capability::GetTicket) {
        return Ok(());
    }
    for raw in &builtin {
        for (how, r) in [
            ("by_id", TicketRef::by_id(raw.as_str())),
            ("by_number", TicketRef::by_number(raw.as_str())),
        ] {
            let step = format!("get_ticket(TicketRef::{how}({}))", quoted(raw));
            let before = backend.requests_seen();
            let result = ts.get_ticket(&r).await;
            let sent = backend.requests_seen().saturating_sub(before);
            cx.ensure(sent == 0, &step, "no request", || {
                format!("{sent} request(s)")
            })?;
            cx.err_kind(&step, result, ErrorKind::InvalidInput)?;
        }
    }
    Ok(())
}

/// Create → get (same reference and title, open) → parse the ticket's number back and
/// get it → comment (public and internal, both stored with their visibility) → close →
/// get shows a terminal state → `get_tickets` returns it, and an empty batch returns
/// nothing without a request. The backend must count exactly one ticket with the
/// correlation id.
///
/// Titles are compared by containment: some targets carry the correlation tag in the
/// title (OTRS `Correlation::TitleTag`).
pub async fn ticket_lifecycle(
    ts: &dyn TicketingSystem,
    backend: &dyn TicketBackend,
    new: &NewTicket,
) -> Result<(), ConformanceFailure> {
    let cx = Cx(Check::TicketLifecycle);
    let title = new.title.trim();
    let created = cx.ok("create_ticket", ts.create_ticket(new).await)?;
    let r = created.reference.clone();
    cx.ensure(
        created.title.contains(title),
        "create_ticket",
        format!("a title containing {title:?}"),
        || format!("{:?}", created.title),
    )?;
    cx.in_state(
        "create_ticket",
        &created,
        "an open state",
        TicketState::is_open,
    )?;
    if let Some(found) = &created.correlation_id {
        cx.ensure(
            found == &new.correlation_id,
            "create_ticket",
            format!("correlation id {:?}", new.correlation_id.as_str()),
            || format!("{:?}", found.as_str()),
        )?;
    }
    let n = cx.ok(
        "backend.count_with_correlation",
        backend.count_with_correlation(&new.correlation_id).await,
    )?;
    cx.ensure(n == 1, "backend.count_with_correlation", "1 ticket", || {
        format!("{n}")
    })?;

    let got = cx.some("get_ticket", ts.get_ticket(&r).await)?;
    cx.same_ticket("get_ticket", &got.reference, &r)?;
    cx.ensure(
        got.title.contains(title),
        "get_ticket",
        format!("a title containing {title:?}"),
        || format!("{:?}", got.title),
    )?;
    cx.in_state("get_ticket", &got, "an open state", TicketState::is_open)?;

    if let Some(number) = r.number() {
        let step = format!("parse_ticket_ref({number:?}) of the created ticket");
        let parsed = cx.ok(&step, ts.parse_ticket_ref(number))?;
        let again = cx.some("get_ticket(parsed reference)", ts.get_ticket(&parsed).await)?;
        cx.same_ticket("get_ticket(parsed reference)", &again.reference, &r)?;
    }

    let comments = [
        Comment::public("accesslink conformance public comment"),
        Comment::internal("accesslink conformance internal work note"),
    ];
    for c in &comments {
        let step = format!("add_comment({:?})", c.visibility);
        cx.ok(&step, ts.add_comment(&r, c).await)?;
    }
    let stored = cx.ok("backend.comments", backend.comments(&r).await)?;
    for c in &comments {
        let landed = stored
            .iter()
            .any(|s| s.visibility == c.visibility && s.body.contains(&c.body));
        cx.ensure(
            landed,
            "backend.comments after add_comment",
            format!("a {:?} comment containing {:?}", c.visibility, c.body),
            || format!("{} comment(s): {}", stored.len(), short(&stored)),
        )?;
    }

    let resolution = Resolution::done("closed by the accesslink conformance suite");
    let closed = cx.ok("close_ticket", ts.close_ticket(&r, &resolution).await)?;
    cx.same_ticket("close_ticket", &closed.reference, &r)?;
    cx.in_state(
        "close_ticket",
        &closed,
        "a terminal state",
        TicketState::is_terminal,
    )?;
    let after = cx.some("get_ticket after close", ts.get_ticket(&r).await)?;
    cx.in_state(
        "get_ticket after close",
        &after,
        "a terminal state",
        TicketState::is_terminal,
    )?;

    let batch = cx.ok(
        "get_tickets",
        ts.get_tickets(std::slice::from_ref(&r)).await,
    )?;
    cx.ensure(
        batch.len() == 1 && same_ticket(&batch[0].reference, &r),
        "get_tickets",
        format!("exactly the ticket {r:?}"),
        || short(&batch.iter().map(|t| &t.reference).collect::<Vec<_>>()),
    )?;
    let before = backend.requests_seen();
    let none = cx.ok("get_tickets(&[])", ts.get_tickets(&[]).await)?;
    let sent = backend.requests_seen().saturating_sub(before);
    cx.ensure(
        none.is_empty() && sent == 0,
        "get_tickets(&[])",
        "no tickets and no request",
        || format!("{} ticket(s) and {sent} request(s)", none.len()),
    )
}

/// Creating twice with the same correlation id (the second time with another title, so
/// only the correlation id can be what matches) returns the same ticket, and the backend
/// counts exactly one; `find_by_correlation` finds it, and an unused correlation id finds none.
pub async fn create_is_idempotent(
    ts: &dyn TicketingSystem,
    backend: &dyn TicketBackend,
    new: &NewTicket,
) -> Result<(), ConformanceFailure> {
    let cx = Cx(Check::CreateIsIdempotent);
    let id = &new.correlation_id;
    let count =
        |step: &'static str| async move { cx.ok(step, backend.count_with_correlation(id).await) };
    let n = count("backend.count_with_correlation before create").await?;
    cx.ensure(
        n == 0,
        "backend.count_with_correlation before create",
        "0 tickets (pass a fresh correlation id)",
        || format!("{n}"),
    )?;
    let first = cx.ok("create_ticket", ts.create_ticket(new).await)?;
    let mut retry = new.clone();
    retry.title = format!("{} (retried)", new.title);
    let second = cx.ok("second create_ticket", ts.create_ticket(&retry).await)?;
    cx.same_ticket("second create_ticket", &second.reference, &first.reference)?;
    let n = count("backend.count_with_correlation after two creates").await?;
    cx.ensure(
        n == 1,
        "backend.count_with_correlation after two creates",
        "1 ticket",
        || format!("{n}"),
    )?;

    let found = cx.some("find_by_correlation", ts.find_by_correlation(id).await)?;
    cx.same_ticket("find_by_correlation", &found.reference, &first.reference)?;
    let unused = CorrelationId::new(fresh_id(&format!("{id}-unused")));
    let step = format!("find_by_correlation({:?})", unused.as_str());
    let none = cx.ok(&step, ts.find_by_correlation(&unused).await)?;
    cx.ensure(none.is_none(), &step, "None", || {
        short(&none.map(|t| t.reference))
    })
}

/// Create, let the backend resolve the ticket as an agent would, and see `get_ticket`
/// and `get_tickets` (what fulfilment polls with) report `Resolved` or `Closed`.
pub async fn follow_state_change(
    ts: &dyn TicketingSystem,
    backend: &dyn TicketBackend,
    new: &NewTicket,
) -> Result<(), ConformanceFailure> {
    let cx = Cx(Check::FollowStateChange);
    let created = cx.ok("create_ticket", ts.create_ticket(new).await)?;
    let r = created.reference;
    let before = cx.some("get_ticket", ts.get_ticket(&r).await)?;
    cx.in_state("get_ticket", &before, "an open state", TicketState::is_open)?;
    cx.ok(
        "backend.set_ticket_state(Resolved)",
        backend.set_ticket_state(&r, TicketState::Resolved).await,
    )?;
    let resolved = |s| matches!(s, TicketState::Resolved | TicketState::Closed);
    let step = "get_ticket after the backend resolved it";
    let after = cx.some(step, ts.get_ticket(&r).await)?;
    cx.in_state(step, &after, "resolved or closed", resolved)?;
    let step = "get_tickets after the backend resolved it";
    let batch = cx.ok(step, ts.get_tickets(std::slice::from_ref(&r)).await)?;
    let Some(t) = batch.iter().find(|t| same_ticket(&t.reference, &r)) else {
        return Err(cx.fail(step, format!("the ticket {r:?}"), "no such ticket"));
    };
    cx.in_state(step, t, "resolved or closed", resolved)
}
