//! The fail-closed checks: an answer of the wrong shape, a server that serves the same page
//! again, and a server that echoes the request back into an error. Each must end in an
//! error — never in an empty page or a short import that looks like a good one — and no
//! credential the connector holds may reach its errors or logs through the echo.

use std::error::Error as _;
use std::fmt::Write as _;

use accesslink_core::paging::{self, PagingOptions};
use accesslink_core::{ErrorKind, NewTicket, PageRequest, Provisioner, TicketingSystem};
use futures::TryStreamExt;

use super::cx::{Cx, short};
use super::faults::{fired, plan};
use super::provisioning::paging_setup;
use super::secrets::secrets_never_printed;
use super::{AccountBackend, Check, ConformanceFailure, TicketBackend};
use crate::fault::{Fault, FaultMatcher, FaultPlan};
use crate::logs::CapturedLogs;

/// The 200 bodies no listing of any target answers with, sent by
/// [`wrong_shaped_page_is_an_error`] unless a suite names its own: an empty object, `null`,
/// the list fields every target uses set to `null`, a scalar. An empty array is not among
/// them: it is a valid empty page for targets whose listings are bare arrays (GLPI, Jira,
/// TOPdesk); add it with `ProvisioningSuite::wrong_shapes` where it is wrong.
pub fn default_wrong_shapes() -> Vec<String> {
    [
        "{}",
        "null",
        r#"{"result": null}"#,
        r#"{"data": null}"#,
        r#"{"results": null}"#,
        r#""ok""#,
        "42",
    ]
    .map(str::to_owned)
    .to_vec()
}

/// A listing page answered `200` with a body of the wrong shape (each of `shapes`, then a
/// body that is not UTF-8) is an [`ErrorKind::Protocol`] error, never an empty page: a
/// list field that is missing or `null` is not an empty list. An IAM product that took it
/// for one would deprovision every account.
pub async fn wrong_shaped_page_is_an_error(
    p: &dyn Provisioner,
    backend: &dyn AccountBackend,
    shapes: &[String],
) -> Result<(), ConformanceFailure> {
    let cx = Cx(Check::WrongShapedPageIsAnError);
    let plan = plan(cx, backend.faults())?;
    let page = PageRequest::first().size(2);
    // Sign in first, so the bodies answer the listing and not a login.
    cx.ok("list_accounts", p.list_accounts(page.clone()).await)?;
    let faults = shapes
        .iter()
        .map(|body| {
            (
                format!("`{body}`"),
                Fault::Status {
                    status: 200,
                    body: Some(body.clone()),
                },
            )
        })
        .chain([("a body that is not UTF-8".to_owned(), Fault::NotUtf8)]);
    for (what, fault) in faults {
        let step = format!("list_accounts answered 200 with {what}");
        let before = plan.applied();
        plan.push_for(FaultMatcher::method("GET"), fault, 1);
        let result = p.list_accounts(page.clone()).await;
        fired(cx, plan, before, &step)?;
        let result =
            result.map(|page| format!("{} item(s), next {:?}", page.items.len(), page.next));
        cx.err_kind(&step, result, ErrorKind::Protocol)?;
    }
    Ok(())
}

/// A server that serves the first page again whatever the connector asks for next ends the
/// import with an error within a bounded number of requests — not a loop, and not a
/// success with the first page's accounts only.
pub async fn repeated_page_is_an_error(
    p: &dyn Provisioner,
    backend: &dyn AccountBackend,
    page_size: u32,
) -> Result<(), ConformanceFailure> {
    const REPEATS: usize = 16;
    let cx = Cx(Check::RepeatedPageIsAnError);
    let plan = plan(cx, backend.faults())?;
    paging_setup(cx, backend, page_size).await?;
    cx.ok(
        "list_accounts",
        p.list_accounts(PageRequest::first().size(page_size)).await,
    )?;
    let before = plan.applied();
    let sent_before = backend.requests_seen();
    plan.push_for(
        FaultMatcher::method("GET"),
        Fault::RepeatFirstAnswer,
        REPEATS,
    );
    let mut stream = paging::accounts(p, PagingOptions::new().page_size(page_size));
    let mut rows = 0usize;
    let outcome = loop {
        match stream.try_next().await {
            Ok(Some(_)) => rows += 1,
            Ok(None) => break Ok(()),
            Err(e) => break Err(e),
        }
        if backend.requests_seen().saturating_sub(sent_before) > 4 * REPEATS {
            break Ok(());
        }
    };
    let replays = plan.applied().saturating_sub(before);
    plan.clear();
    let sent = backend.requests_seen().saturating_sub(sent_before);
    let step = "paging::accounts while the server serves the first page again";
    cx.ensure(
        replays >= 2,
        step,
        "the first page to be served at least twice",
        || format!("{replays} request(s) matched"),
    )?;
    match outcome {
        Err(_) if sent <= 2 * REPEATS => Ok(()),
        Err(e) => Err(cx.fail(
            step,
            format!("an error within {} requests", 2 * REPEATS),
            format!("an error after {sent} requests: {e}"),
        )),
        Ok(()) => Err(cx.fail(
            step,
            "an error (the listing repeats itself)",
            format!(
                "the stream ended as a success with {rows} row(s) after {sent} request(s), report {}",
                short(&stream.report())
            ),
        )),
    }
}

/// Runs `call` while every request is answered `400` with a body that echoes the request
/// (headers, URL, body), and checks that none of `canaries` appears in the error (Display,
/// Debug, every source) or in what the connector logged at TRACE level meanwhile.
///
/// The log capture is per thread; a test binary where other tests run without a
/// subscriber can hide events from it (see [`crate::logs`]), which can only make this
/// check pass, never fail wrongly.
async fn echoed<T, F>(
    cx: Cx,
    plan: &FaultPlan,
    canaries: &[String],
    step: &str,
    call: F,
) -> Result<(), ConformanceFailure>
where
    F: std::future::Future<Output = accesslink_core::Result<T>>,
{
    let logs = CapturedLogs::start();
    let before = plan.applied();
    plan.push(Fault::EchoRequest, 4);
    let result = call.await;
    let fired_count = plan.applied().saturating_sub(before);
    plan.clear();
    cx.ensure(
        fired_count > 0,
        step,
        "the echoing server to answer a request",
        || "no request reached it".into(),
    )?;
    let mut output = logs.text();
    if let Err(e) = &result {
        let _ = write!(output, "\n{e}\n{e:?}");
        let mut source = e.source();
        while let Some(s) = source {
            let _ = write!(output, "\n{s}\n{s:?}");
            source = s.source();
        }
    }
    let canaries: Vec<&str> = canaries.iter().map(String::as_str).collect();
    secrets_never_printed(&output, &canaries).map_err(|mut f| {
        f.check = cx.0;
        f.step = format!("{step}: {}", f.step);
        f
    })
}

/// No credential the connector holds (`canaries`) appears in its errors or TRACE output
/// when the server echoes the request it was sent into an error body (a listing).
pub async fn echoed_request_not_printed_import(
    p: &dyn Provisioner,
    backend: &dyn AccountBackend,
    canaries: &[String],
) -> Result<(), ConformanceFailure> {
    let cx = Cx(Check::EchoedRequestNotPrinted);
    let plan = plan(cx, backend.faults())?;
    let page = PageRequest::first().size(2);
    echoed(
        cx,
        plan,
        canaries,
        "list_accounts answered with an echo of the request",
        p.list_accounts(page),
    )
    .await
}

/// No credential the connector holds (`canaries`) appears in its errors or TRACE output
/// when the server echoes the request it was sent into an error body (a create, then a
/// read of the ticket).
pub async fn echoed_request_not_printed(
    ts: &dyn TicketingSystem,
    backend: &dyn TicketBackend,
    new: &NewTicket,
    canaries: &[String],
) -> Result<(), ConformanceFailure> {
    let cx = Cx(Check::EchoedRequestNotPrinted);
    let plan = plan(cx, backend.faults())?;
    let created = cx.ok("create_ticket", ts.create_ticket(new).await)?;
    echoed(
        cx,
        plan,
        canaries,
        "get_ticket answered with an echo of the request",
        ts.get_ticket(&created.reference),
    )
    .await?;
    echoed(
        cx,
        plan,
        canaries,
        "create_ticket answered with an echo of the request",
        ts.create_ticket(new),
    )
    .await
}

/// A search hit is confirmed before it is returned: while the server's searches ignore
/// what they are asked for and answer with every ticket (as Znuny does with a parameter
/// it does not know, or a web service that maps operations differently), a read of a
/// ticket that does not exist (`absent`, a well-formed reference) finds nothing — never
/// another ticket, which a gate would take for the one the user typed — and neither does a
/// batched read of the absent ticket, nor a lookup by a correlation id no ticket carries
/// (which may also fail: a create then stops instead of confirming another ticket).
pub async fn search_hit_confirmed(
    ts: &dyn TicketingSystem,
    backend: &dyn TicketBackend,
    new: &NewTicket,
    absent: &str,
) -> Result<(), ConformanceFailure> {
    let cx = Cx(Check::SearchHitConfirmed);
    // A ticket the unfiltered searches will offer.
    let created = cx.ok("create_ticket", ts.create_ticket(new).await)?;
    let absent = cx.ok("parse_ticket_ref(absent)", ts.parse_ticket_ref(absent))?;
    cx.ensure(
        backend.ignore_search_filters(true),
        "backend.ignore_search_filters(true)",
        "a backend whose searches can ignore their filters",
        || "the backend cannot".into(),
    )?;
    let outcome = async {
        let step = "get_ticket of an absent ticket while searches ignore their filters";
        match ts.get_ticket(&absent).await {
            Ok(None) => {}
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            Ok(Some(t)) => {
                return Err(cx.fail(
                    step,
                    "None (no hit matches what was asked)",
                    format!("ticket {} (created as {})", t.reference, created.reference),
                ));
            }
            Err(e) => return Err(ConformanceFailure::from_error(cx.0, step, "None", e)),
        }
        let step = "get_tickets of an absent ticket while searches ignore their filters";
        // An error is closed too: the caller learns nothing it could act on.
        if let Ok(found) = ts.get_tickets(std::slice::from_ref(&absent)).await {
            cx.ensure(found.is_empty(), step, "no ticket, or an error", || {
                let refs: Vec<String> = found.iter().map(|t| t.reference.to_string()).collect();
                refs.join(", ")
            })?;
        }
        let step = "find_by_correlation of an unused id while searches ignore their filters";
        let unused = accesslink_core::CorrelationId::new(format!("{}-unused", new.correlation_id));
        // An error is closed too: a create that cannot tell whether its ticket exists
        // fails instead of confirming another ticket or opening a twin.
        match ts.find_by_correlation(&unused).await {
            Ok(None) | Err(_) => Ok(()),
            Ok(Some(t)) => {
                Err(cx.fail(step, "None, or an error", format!("ticket {}", t.reference)))
            }
        }
    }
    .await;
    backend.ignore_search_filters(false);
    outcome
}

/// A reported total that was not reached is reported: while the server says it holds more
/// accounts than it lists, a drain still ends (the listing is what it is) but its report
/// names the total and the shortfall, and with `strict_totals` the drain is an error.
pub async fn reported_total_shortfall(
    p: &dyn Provisioner,
    backend: &dyn AccountBackend,
    page_size: u32,
) -> Result<(), ConformanceFailure> {
    const EXTRA: usize = 5;
    let cx = Cx(Check::ReportedTotalShortfall);
    let held = paging_setup(cx, backend, page_size).await?;
    cx.ensure(
        backend.inflate_reported_total(EXTRA),
        "backend.inflate_reported_total",
        "a backend whose totals can be inflated",
        || "the backend cannot".into(),
    )?;
    let outcome = async {
        let step = "paging::accounts while the server reports more accounts than it lists";
        let mut stream = paging::accounts(p, PagingOptions::new().page_size(page_size));
        let mut rows = 0usize;
        while let Some(_a) = stream
            .try_next()
            .await
            .map_err(|e| ConformanceFailure::from_error(cx.0, step, "every page", e))?
        {
            rows += 1;
        }
        let report = stream.report();
        let expected = (held + EXTRA) as u64;
        cx.ensure(
            rows == held && report.expected_total == Some(expected),
            step,
            format!("{held} rows and an expected total of {expected}"),
            || format!("{rows} rows, expected total {:?}", report.expected_total),
        )?;
        cx.ensure(
            report.shortfall() == Some(EXTRA as u64),
            step,
            format!("a shortfall of {EXTRA}"),
            || format!("{:?}", report.shortfall()),
        )?;
        let step = "paging::accounts with strict_totals";
        let strict = PagingOptions::new()
            .page_size(page_size)
            .strict_totals(true);
        let result: accesslink_core::Result<Vec<_>> =
            paging::accounts(p, strict).try_collect().await;
        let result = result.map(|all| format!("{} rows", all.len()));
        cx.err_kind(step, result, ErrorKind::Protocol).map(|_| ())
    }
    .await;
    backend.inflate_reported_total(0);
    outcome
}
