//! Checks of the intake contract: ticket listings as a change feed, comments read
//! back, field schemas, and passwords.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use accesslink_core::feed::{ChangeFeed, FeedCursor, TicketQuery};
use accesslink_core::{
    AccountId, AccountSpec, Comment, CorrelationId, CreateOutcome, ErrorKind, NewTicket,
    ObjectSchema, Password, Provisioner, Ticket, TicketRef, TicketState, TicketingSystem,
    Visibility,
};

use super::cx::{Cx, same_ticket, short};
use super::secrets::secrets_never_printed;
use super::{AccountBackend, Check, ConformanceFailure, TicketBackend};
use crate::logs::CapturedLogs;

/// The references of `ours` that a poll's tickets name, in the poll's order.
fn hits<'a>(poll: &[Ticket], ours: &'a [TicketRef]) -> Vec<&'a TicketRef> {
    poll.iter()
        .filter_map(|t| ours.iter().find(|r| same_ticket(&t.reference, r)))
        .collect()
}

fn names(refs: &[&TicketRef]) -> String {
    let v: Vec<String> = refs.iter().map(|r| r.to_string()).collect();
    format!("[{}]", v.join(", "))
}

/// The whole seconds of a time (the clock a frozen backend is set to).
fn second_of(t: SystemTime) -> SystemTime {
    let secs = t.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
    UNIX_EPOCH + Duration::from_secs(secs)
}

/// A change feed over `query` hands out every change once: three tickets opened are
/// listed once by the first poll and not again by the next (which costs at most three
/// requests: a poll reads what changed, not every ticket); a ticket changed afterwards
/// is listed once, and so is another changed in the same second as the last one seen —
/// after that poll, which is what a watermark compared with `>` would miss and one
/// compared with `>=` without memory would repeat. A feed resumed from the stored cursor
/// repeats nothing. With a backend that can freeze its clock, every write lands in the
/// same second; otherwise most do.
///
/// `overlap` is the feed's overlap (at least the server's time granularity). Only the
/// tickets the check opens are looked at, so other traffic on a live server is harmless.
pub async fn change_feed_exactly_once(
    ts: &dyn TicketingSystem,
    backend: &dyn TicketBackend,
    template: &NewTicket,
    query: &TicketQuery,
    overlap: Duration,
) -> Result<(), ConformanceFailure> {
    let cx = Cx(Check::ChangeFeedExactlyOnce);
    let frozen = backend.freeze_clock(Some(second_of(SystemTime::now())));
    let result = feed_steps(cx, ts, backend, template, query, overlap).await;
    if frozen {
        backend.freeze_clock(None);
    }
    result
}

async fn feed_steps(
    cx: Cx,
    ts: &dyn TicketingSystem,
    backend: &dyn TicketBackend,
    template: &NewTicket,
    query: &TicketQuery,
    overlap: Duration,
) -> Result<(), ConformanceFailure> {
    let mut ours = Vec::new();
    let mut earliest: Option<SystemTime> = None;
    for i in 1..=3 {
        let mut new = template.clone();
        new.correlation_id = CorrelationId::new(format!("{}-{i}", template.correlation_id));
        let created = cx.ok("create_ticket", ts.create_ticket(&new).await)?;
        let read = cx.some(
            "get_ticket after create",
            ts.get_ticket(&created.reference).await,
        )?;
        let updated = read.updated.ok_or_else(|| {
            cx.fail(
                "get_ticket after create",
                "a ticket with an update time",
                "updated: None",
            )
        })?;
        earliest = Some(earliest.map_or(updated, |e| e.min(updated)));
        ours.push(read.reference);
    }
    let start = earliest.expect("three tickets were opened");
    let mut q = query.clone();
    q.updated_since = Some(start);
    let mut feed = ChangeFeed::new(q).overlap(overlap);

    let first = cx.ok("first poll", feed.poll(ts).await)?;
    let got = hits(&first, &ours);
    let distinct: BTreeSet<String> = got.iter().map(|r| r.to_string()).collect();
    cx.ensure(
        got.len() == 3 && distinct.len() == 3,
        "first poll",
        format!(
            "each of the opened tickets once: {}",
            names(&ours.iter().collect::<Vec<_>>())
        ),
        || names(&got),
    )?;

    let before = backend.requests_seen();
    let idle = cx.ok("poll with nothing changed", feed.poll(ts).await)?;
    let cost = backend.requests_seen().saturating_sub(before);
    let got = hits(&idle, &ours);
    cx.ensure(
        got.is_empty(),
        "poll with nothing changed",
        "none of the opened tickets",
        || names(&got),
    )?;
    cx.ensure(
        cost <= 3,
        "poll with nothing changed",
        "at most 3 requests (a poll reads what changed, not every ticket)",
        || format!("{cost} requests"),
    )?;

    for (i, state, step) in [
        (0, TicketState::InProgress, "poll after one ticket changed"),
        (
            1,
            TicketState::InProgress,
            "poll after another changed in the same second",
        ),
        (0, TicketState::OnHold, "poll after the first changed again"),
    ] {
        cx.ok(
            "backend.set_ticket_state",
            backend.set_ticket_state(&ours[i], state).await,
        )?;
        let poll = cx.ok(step, feed.poll(ts).await)?;
        let got = hits(&poll, &ours);
        cx.ensure(
            got.len() == 1 && same_ticket(got[0], &ours[i]),
            step,
            format!("exactly [{}]", ours[i]),
            || names(&got),
        )?;
    }

    let token = feed.cursor().to_token();
    let resumed = cx.ok("FeedCursor::from_token", FeedCursor::from_token(&token))?;
    let mut again = ChangeFeed::new(query.clone())
        .overlap(overlap)
        .resume(resumed);
    let poll = cx.ok(
        "poll of a feed resumed from the stored cursor",
        again.poll(ts).await,
    )?;
    let got = hits(&poll, &ours);
    cx.ensure(
        got.is_empty(),
        "poll of a feed resumed from the stored cursor",
        "none of the opened tickets",
        || names(&got),
    )
}

/// Comments read back: a public and an internal comment added through the connector
/// come back from `list_comments` with their text and visibility, under distinct,
/// non-empty ids that a second read repeats; a comment a person adds in the service desk
/// (when the backend can) comes back too, under its own id; and the comments of a ticket
/// that does not exist are a `NotFound` error (when the suite names an absent ticket).
pub async fn comments_read_back(
    ts: &dyn TicketingSystem,
    backend: &dyn TicketBackend,
    new: &NewTicket,
    absent: Option<&str>,
) -> Result<(), ConformanceFailure> {
    let cx = Cx(Check::CommentsReadBack);
    let created = cx.ok("create_ticket", ts.create_ticket(new).await)?;
    let r = created.reference;
    let public = format!("conformance public comment {}", new.correlation_id);
    let internal = format!("conformance internal note {}", new.correlation_id);
    cx.ok(
        "add_comment (public)",
        ts.add_comment(&r, &Comment::public(&public)).await,
    )?;
    cx.ok(
        "add_comment (internal)",
        ts.add_comment(&r, &Comment::internal(&internal)).await,
    )?;
    let person = format!("conformance person comment {}", new.correlation_id);
    let by_person = cx.ok(
        "backend.add_person_comment",
        backend.add_person_comment(&r, &person).await,
    )?;

    let first = cx.ok("list_comments", ts.list_comments(&r).await)?;
    let find = |text: &str| first.iter().find(|c| c.body.contains(text));
    for (text, visibility) in [
        (&public, Visibility::Public),
        (&internal, Visibility::Internal),
    ] {
        let c = find(text).ok_or_else(|| {
            cx.fail(
                "list_comments",
                format!("a comment containing {text:?}"),
                short(&first),
            )
        })?;
        cx.ensure(
            c.visibility == visibility,
            "list_comments",
            format!("{text:?} with visibility {visibility:?}"),
            || format!("{:?}", c.visibility),
        )?;
    }
    if by_person {
        cx.ensure(
            find(&person).is_some(),
            "list_comments after a person commented",
            format!("a comment containing {person:?}"),
            || short(&first),
        )?;
    }
    let ids: BTreeSet<&str> = first.iter().map(|c| c.id.as_str()).collect();
    cx.ensure(
        ids.len() == first.len() && !ids.contains(""),
        "list_comments",
        "distinct, non-empty comment ids",
        || short(&first.iter().map(|c| &c.id).collect::<Vec<_>>()),
    )?;
    let second = cx.ok("list_comments again", ts.list_comments(&r).await)?;
    let again: BTreeSet<&str> = second.iter().map(|c| c.id.as_str()).collect();
    cx.ensure(ids == again, "list_comments again", short(&ids), || {
        short(&again)
    })?;

    if let Some(absent) = absent {
        let absent = cx.ok("parse_ticket_ref(absent)", ts.parse_ticket_ref(absent))?;
        cx.err_kind(
            "list_comments of a ticket that does not exist",
            ts.list_comments(&absent).await,
            ErrorKind::NotFound,
        )?;
    }
    Ok(())
}

fn missing_fields(schema: &ObjectSchema, wanted: &[String]) -> Vec<String> {
    wanted
        .iter()
        .filter(|w| schema.get(w).is_none())
        .cloned()
        .collect()
}

fn check_schema(
    cx: Cx,
    step: &str,
    schema: &ObjectSchema,
    wanted: &[String],
) -> Result<(), ConformanceFailure> {
    let missing = missing_fields(schema, wanted);
    cx.ensure(
        missing.is_empty(),
        step,
        format!("every field the server keeps: {wanted:?}"),
        || format!("missing {missing:?}"),
    )?;
    let distinct: BTreeSet<&str> = schema.fields.iter().map(|f| f.name.as_str()).collect();
    cx.ensure(
        distinct.len() == schema.fields.len(),
        step,
        "each field listed once",
        || short(&schema.fields.iter().map(|f| &f.name).collect::<Vec<_>>()),
    )
}

/// The ticket schema of the suite's kind lists every field the server keeps on such
/// tickets ([`TicketBackend::ticket_fields`]), each once.
pub async fn ticket_schema_lists_fields(
    ts: &dyn TicketingSystem,
    backend: &dyn TicketBackend,
    kind: &accesslink_core::TicketKind,
) -> Result<(), ConformanceFailure> {
    let cx = Cx(Check::TicketSchemaListsFields);
    let wanted = backend.ticket_fields(kind).unwrap_or_default();
    let schema = cx.ok("ticket_schema", ts.ticket_schema(kind).await)?;
    check_schema(cx, "ticket_schema", &schema, &wanted)
}

/// The account schema lists every field the server keeps on accounts
/// ([`AccountBackend::account_fields`]), each once.
pub async fn account_schema_lists_fields(
    p: &dyn Provisioner,
    backend: &dyn AccountBackend,
) -> Result<(), ConformanceFailure> {
    let cx = Cx(Check::AccountSchemaListsFields);
    let wanted = backend.account_fields().unwrap_or_default();
    let schema = cx.ok("account_schema", p.account_schema().await)?;
    check_schema(cx, "account_schema", &schema, &wanted)
}

/// Passwords are set and never printed: an account created with a per-account
/// password holds it on the server (when the connector declares
/// `CreateWithPassword`); `set_password` changes it (the old one no longer works);
/// setting the password of an account that does not exist fails; and none of the
/// passwords appears in the connector's TRACE output or its errors. The account (the
/// suite's login with `-pw` appended) is deleted afterwards where the connector can.
pub async fn password_set_and_never_printed(
    p: &dyn Provisioner,
    backend: &dyn AccountBackend,
    spec: &AccountSpec,
    with_create: bool,
) -> Result<(), ConformanceFailure> {
    let cx = Cx(Check::PasswordSetAndNeverPrinted);
    let first = format!("Pw1-canary-{}", fastrand::u64(..));
    let second = format!("Pw2-canary-{}", fastrand::u64(..));
    let logs = CapturedLogs::start();
    let mut spec = spec.clone();
    spec.login = format!("{}-pw", spec.login);
    if with_create {
        spec = spec.password(first.as_str());
    }
    let account = match cx.ok("create_account", p.create_account(&spec).await)? {
        CreateOutcome::Created(a) => a,
        other => {
            return Err(cx.fail("create_account", "Created (a fresh login)", short(&other)));
        }
    };
    let holds = |pw: String| {
        let id = account.id.clone();
        async move { cx.ok("backend.password_is", backend.password_is(&id, &pw).await) }
    };
    if with_create {
        let held = holds(first.clone()).await?;
        cx.ensure(
            held == Some(true),
            "the created account's password on the server",
            "the per-account password",
            || format!("{held:?}"),
        )?;
    }
    cx.ok(
        "set_password",
        p.set_password(&account.id, &Password::from(second.as_str()))
            .await,
    )?;
    let held = holds(second.clone()).await?;
    cx.ensure(
        held == Some(true),
        "after set_password",
        "the new password",
        || format!("{held:?}"),
    )?;
    if with_create {
        let old = holds(first.clone()).await?;
        cx.ensure(
            old == Some(false),
            "after set_password",
            "the old password gone",
            || format!("{old:?}"),
        )?;
    }
    let absent = AccountId::new(format!("{}9999999", account.id));
    let err = p
        .set_password(&absent, &Password::from(second.as_str()))
        .await;
    let mut output = logs.text();
    match &err {
        Ok(()) => {
            return Err(cx.fail(
                "set_password of an account that does not exist",
                "an error",
                "Ok(())",
            ));
        }
        Err(e) => {
            let _ = write!(output, "\n{e}\n{e:?}");
        }
    }
    let _ = write!(output, "\n{spec:?}\n{account:?}");
    // Leave no account behind where the connector can delete it.
    if p.info()
        .supports(&accesslink_core::Capability::DeleteAccount)
    {
        cx.ok("delete_account", p.delete_account(&account.id).await)?;
    }
    secrets_never_printed(&output, &[first.as_str(), second.as_str()]).map_err(|mut f| {
        f.check = cx.0;
        f
    })
}
