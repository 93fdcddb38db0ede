//! The fault checks: what a connector must survive on a real network, proved against a
//! backend that can inject faults (a testkit mock). Each check queues its fault on the
//! backend's [`FaultPlan`], requires that the fault fired (a check whose fault never fired
//! proves nothing and fails), and judges the outcome by the server's state, not only by
//! what the connector returned.

use std::collections::{BTreeSet, HashSet};

use accesslink_core::paging::{self, PagingOptions, StopReason};
use accesslink_core::{
    Capability, Comment, Error, ErrorKind, NewTicket, PageRequest, Provisioner, TicketKind,
    TicketingSystem,
};
use futures::TryStreamExt;

use super::cx::{Cx, short};
use super::provisioning::paging_setup;
use super::{AccountBackend, Check, ConformanceFailure, FaultOp, TicketBackend};
use crate::fault::{Fault, FaultMatcher, FaultPlan};

/// Why a ticketing fault check cannot run against `backend`, if it cannot.
pub(super) fn ticket_faults_missing(
    backend: &dyn TicketBackend,
    check: Check,
    kind: &TicketKind,
) -> Option<&'static str> {
    let create = FaultOp::CreateTicket(kind.clone());
    if backend.faults().is_none() {
        return Some("the backend cannot inject faults");
    }
    match check {
        Check::LostCreateAnswer if !backend.drops_connections() => {
            Some("the backend drops no connections (start the mock with the fault proxy)")
        }
        Check::LostCreateAnswer if backend.fault_route(create).is_none() => {
            Some("the backend names no route for ticket creation")
        }
        Check::CommentNotRepeated if backend.fault_route(FaultOp::AddComment).is_none() => {
            Some("the backend names no route for comments")
        }
        _ => None,
    }
}

/// Why an import fault check cannot run against `backend`, if it cannot.
pub(super) fn account_faults_missing(
    backend: &dyn AccountBackend,
    check: Check,
) -> Option<&'static str> {
    if backend.faults().is_none() {
        return Some("the backend cannot inject faults");
    }
    // Whether expiring works is found out by expiring: harmless before a drain, since the
    // connector signs in again on its next request anyway.
    (check == Check::ExpiryMidImport && !backend.expire_credentials())
        .then_some("the backend's credentials cannot expire")
}

/// The backend's fault plan, or a setup failure.
pub(super) fn plan(cx: Cx, faults: Option<&FaultPlan>) -> Result<&FaultPlan, ConformanceFailure> {
    faults.ok_or_else(|| cx.fail("setup", "a backend that can inject faults", "none"))
}

/// Fails when the fault queued at `before` did not fire, and drops it so that it cannot
/// hit a later check.
pub(super) fn fired(
    cx: Cx,
    plan: &FaultPlan,
    before: usize,
    step: &str,
) -> Result<(), ConformanceFailure> {
    let fired = plan.applied().saturating_sub(before);
    if fired == 0 {
        plan.clear();
    }
    cx.ensure(
        fired > 0,
        step,
        "the injected fault to hit a request",
        || "no request matched it (check the backend's fault_route)".into(),
    )
}

/// A ticket create whose answer is lost after the server made the ticket (the connection
/// drops once the server has processed the request) leaves exactly one ticket with the
/// correlation id; the call returns it (with that correlation id) or a retryable error,
/// and a repeat returns that same ticket without making a second one.
///
/// Needs a backend with a fault plan, the fault proxy and a
/// [`fault_route`](TicketBackend::fault_route) for [`FaultOp::CreateTicket`].
pub async fn lost_create_answer(
    ts: &dyn TicketingSystem,
    backend: &dyn TicketBackend,
    new: &NewTicket,
) -> Result<(), ConformanceFailure> {
    let cx = Cx(Check::LostCreateAnswer);
    let plan = plan(cx, backend.faults())?;
    let Some(route) = backend.fault_route(FaultOp::CreateTicket(new.kind.clone())) else {
        return Err(cx.fail("setup", "a route for ticket creation", "none"));
    };
    let id = &new.correlation_id;
    let count =
        |step: &'static str| async move { cx.ok(step, backend.count_with_correlation(id).await) };
    let n = count("backend.count_with_correlation before create").await?;
    cx.ensure(
        n == 0,
        "backend.count_with_correlation before create",
        "0 tickets",
        || format!("{n}"),
    )?;
    let before = plan.applied();
    plan.push_for(route, Fault::DropAfterProcessing, 1);
    let step = "create_ticket whose answer is lost";
    let first = ts.create_ticket(new).await;
    fired(cx, plan, before, step)?;
    let n = count("backend.count_with_correlation after the lost answer").await?;
    cx.ensure(
        n == 1,
        "backend.count_with_correlation after the lost answer",
        "1 ticket",
        || format!("{n}"),
    )?;
    let first = match first {
        Ok(t) => {
            if let Some(found) = &t.correlation_id {
                cx.ensure(found == id, step, format!("correlation id {id}"), || {
                    format!("{found}")
                })?;
            }
            Some(t.reference)
        }
        Err(e) if e.is_retryable() => None,
        Err(e) => {
            let expected = "the ticket or a retryable error";
            return Err(ConformanceFailure::from_error(cx.0, step, expected, e));
        }
    };
    let step = "create_ticket again";
    let again = cx.ok(step, ts.create_ticket(new).await)?;
    if let Some(first) = &first {
        cx.same_ticket(step, &again.reference, first)?;
    }
    let n = count("backend.count_with_correlation after the repeat").await?;
    cx.ensure(
        n == 1,
        "backend.count_with_correlation after the repeat",
        "1 ticket",
        || format!("{n}"),
    )
}

/// An HTML page where JSON belongs (a `200 text/html` login page, as SSO gateways answer
/// expired sessions) is an [`ErrorKind::Protocol`] error that says so (its message or a
/// cause mentions HTML), not a ticket and not a `None`.
pub async fn html_is_a_protocol_error(
    ts: &dyn TicketingSystem,
    backend: &dyn TicketBackend,
    new: &NewTicket,
) -> Result<(), ConformanceFailure> {
    let cx = Cx(Check::HtmlIsAProtocolError);
    let plan = plan(cx, backend.faults())?;
    let created = cx.ok("create_ticket", ts.create_ticket(new).await)?;
    let before = plan.applied();
    plan.push(Fault::Html, 1);
    let step = "get_ticket answered with an HTML page";
    let result = ts.get_ticket(&created.reference).await;
    fired(cx, plan, before, step)?;
    let result = result.map(|t| t.map(|t| t.reference));
    let e = cx.err_kind(step, result, ErrorKind::Protocol)?;
    says_html(cx, step, &e)
}

/// The error, or one of its causes, says the answer was HTML: "protocol error" alone
/// leaves an operator guessing that a login page or a proxy answered.
fn says_html(cx: Cx, step: &str, e: &Error) -> Result<(), ConformanceFailure> {
    let mut chain = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        chain.push_str(": ");
        chain.push_str(&cause.to_string());
        source = cause.source();
    }
    cx.ensure(
        chain.contains("HTML"),
        step,
        "an error saying the answer was HTML",
        || format!("{chain:?}"),
    )
}

/// An HTML page answering an import is an [`ErrorKind::Protocol`] error that says so.
pub async fn html_import_is_a_protocol_error(
    p: &dyn Provisioner,
    backend: &dyn AccountBackend,
) -> Result<(), ConformanceFailure> {
    let cx = Cx(Check::HtmlIsAProtocolError);
    let plan = plan(cx, backend.faults())?;
    let page = PageRequest::first().size(1);
    // Sign in first, so the HTML answers the listing and not a login.
    cx.ok("list_accounts", p.list_accounts(page.clone()).await)?;
    let before = plan.applied();
    plan.push(Fault::Html, 1);
    let step = "list_accounts answered with an HTML page";
    let result = p.list_accounts(page).await;
    fired(cx, plan, before, step)?;
    let result = result.map(|page| page.items.len());
    let e = cx.err_kind(step, result, ErrorKind::Protocol)?;
    says_html(cx, step, &e)
}

/// A comment answered with a `500` is never stored twice: whether the server stored it
/// before failing or not, the server holds at most one copy, exactly one when the server
/// processed it or the call succeeded, and none when the call failed and the server had
/// not processed it.
pub async fn comment_not_repeated(
    ts: &dyn TicketingSystem,
    backend: &dyn TicketBackend,
    new: &NewTicket,
) -> Result<(), ConformanceFailure> {
    let cx = Cx(Check::CommentNotRepeated);
    let plan = plan(cx, backend.faults())?;
    let Some(route) = backend.fault_route(FaultOp::AddComment) else {
        return Err(cx.fail("setup", "a route for comments", "none"));
    };
    let created = cx.ok("create_ticket", ts.create_ticket(new).await)?;
    let r = &created.reference;
    let cases = [
        (
            "not processed",
            Fault::Status {
                status: 500,
                body: None,
            },
        ),
        ("processed", Fault::StatusAfterProcessing { status: 500 }),
    ];
    for (which, fault) in cases {
        let processed = fault.processes();
        let body = format!("accesslink conformance note after a 500 the server {which}");
        let step = format!("add_comment answered with a 500 the server {which}");
        let before = plan.applied();
        plan.push_for(route.clone(), fault, 1);
        let result = ts.add_comment(r, &Comment::internal(body.clone())).await;
        fired(cx, plan, before, &step)?;
        let stored = cx.ok("backend.comments", backend.comments(r).await)?;
        let copies = stored.iter().filter(|c| c.body.contains(&body)).count();
        let expected = match (processed, &result) {
            (true, _) | (false, Ok(())) => 1,
            (false, Err(_)) => 0,
        };
        cx.ensure(
            copies == expected,
            &step,
            format!("{expected} stored cop(ies) of the comment"),
            || format!("{copies}, and the call returned {}", short(&result)),
        )?;
    }
    Ok(())
}

/// Sessions and tokens expire in the middle of an import (after the first page): the
/// drain signs in again and still yields every account exactly once, ending on the last
/// or an empty page.
pub async fn expiry_mid_import(
    p: &dyn Provisioner,
    backend: &dyn AccountBackend,
    page_size: u32,
) -> Result<(), ConformanceFailure> {
    let cx = Cx(Check::ExpiryMidImport);
    let held = paging_setup(cx, backend, page_size).await?;
    let step = "paging::accounts with credentials expired after the first page";
    let mut stream = paging::accounts(p, PagingOptions::new().page_size(page_size));
    let mut ids = HashSet::new();
    let mut repeated = 0usize;
    let mut expired = false;
    while let Some(a) = stream
        .try_next()
        .await
        .map_err(|e| ConformanceFailure::from_error(cx.0, step, "every page", e))?
    {
        if !expired {
            expired = true;
            cx.ensure(
                backend.expire_credentials(),
                step,
                "credentials expired",
                || "the backend could not expire them".into(),
            )?;
        }
        if !ids.insert(a.id) {
            repeated += 1;
        }
    }
    let report = stream.report();
    cx.ensure(
        report.duplicates == 0 && repeated == 0,
        step,
        "no account twice",
        || format!("{} repeated", report.duplicates as usize + repeated),
    )?;
    cx.ensure(
        matches!(
            report.stopped,
            Some(StopReason::Exhausted | StopReason::EmptyPage)
        ),
        step,
        "to stop on the last page or an empty page",
        || format!("stopped {:?}", report.stopped),
    )?;
    cx.ensure(
        ids.len() == held,
        step,
        format!("{held} accounts (the backend's count)"),
        || format!("{}", ids.len()),
    )
}

/// Entitlements and grants of every entitlement type are drained exactly once through a
/// `503` on the first read and, where the backend can, expired credentials: no key twice,
/// and the same set as a drain without faults.
pub async fn entitlements_and_grants_drained(
    p: &dyn Provisioner,
    backend: &dyn AccountBackend,
    page_size: u32,
) -> Result<(), ConformanceFailure> {
    let cx = Cx(Check::EntitlementsAndGrantsDrained);
    let plan = plan(cx, backend.faults())?;
    let options = PagingOptions::new().page_size(page_size);
    let info = p.info();
    for ty in p.entitlement_types() {
        for (what, cap) in [
            ("entitlements", Capability::ListEntitlements),
            ("grants", Capability::ListGrants),
        ] {
            if !info.supports(&cap) {
                continue;
            }
            let drain = |faulted: bool| {
                let options = options.clone();
                let ty = &ty;
                async move {
                    let step = format!(
                        "paging::{what}({ty}){}",
                        if faulted {
                            " through a 503 and expiry"
                        } else {
                            ""
                        }
                    );
                    let keys: Result<Vec<String>, _> = if what == "entitlements" {
                        paging::entitlements(p, ty, options)
                            .map_ok(|e| e.reference.id.to_string())
                            .try_collect()
                            .await
                    } else {
                        paging::grants(p, ty, options)
                            .map_ok(|g| format!("{} holds {}", g.account, g.entitlement.id))
                            .try_collect()
                            .await
                    };
                    let keys = keys.map_err(|e| {
                        ConformanceFailure::from_error(cx.0, &step, "every page", e)
                    })?;
                    let set: BTreeSet<String> = keys.iter().cloned().collect();
                    cx.ensure(set.len() == keys.len(), &step, "no key twice", || {
                        format!("{} repeated", keys.len() - set.len())
                    })?;
                    Ok::<_, ConformanceFailure>((step, set))
                }
            };
            let (_, clean) = drain(false).await?;
            let before = plan.applied();
            plan.push_for(
                FaultMatcher::method("GET"),
                Fault::Status {
                    status: 503,
                    body: None,
                },
                1,
            );
            backend.expire_credentials();
            let (step, faulted) = drain(true).await?;
            fired(cx, plan, before, &step)?;
            cx.ensure(
                faulted == clean,
                &step,
                format!("the {} {what} of a drain without faults", clean.len()),
                || {
                    let lost: Vec<_> = clean.difference(&faulted).take(3).collect();
                    let extra: Vec<_> = faulted.difference(&clean).take(3).collect();
                    format!(
                        "{} {what}; missing {}, unexpected {}",
                        faulted.len(),
                        short(&lost),
                        short(&extra)
                    )
                },
            )?;
        }
    }
    Ok(())
}
