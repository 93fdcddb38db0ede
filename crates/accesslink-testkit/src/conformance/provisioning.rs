//! The provisioning checks: draining and resuming accounts, and the account lifecycle.

use std::collections::HashSet;

use accesslink_core::paging::{self, PagingOptions, StopReason};
use accesslink_core::{
    AccountId, AccountSpec, Capability, CreateOutcome, EntitlementRef, ErrorKind, GrantOutcome,
    Provisioner, RevokeOutcome,
};
use futures::TryStreamExt;

use super::cx::{Cx, short};
use super::{AccountBackend, Check, ConformanceFailure};

/// Streams every account through `paging::accounts` at `page_size`: no id twice (the
/// report counts no duplicates), as many accounts as the backend holds (and as the target
/// reports, if it does), at least as many pages as the page size implies (it is an upper
/// bound), and the stream ends on the last or an empty page — not a repeated token or an
/// error.
pub async fn drain_accounts(
    p: &dyn Provisioner,
    backend: &dyn AccountBackend,
    page_size: u32,
) -> Result<(), ConformanceFailure> {
    let cx = Cx(Check::DrainAccounts);
    let held = paging_setup(cx, backend, page_size).await?;
    let mut stream = paging::accounts(p, PagingOptions::new().page_size(page_size));
    let mut ids = HashSet::new();
    let mut repeated = Vec::new();
    while let Some(a) = stream
        .try_next()
        .await
        .map_err(|e| ConformanceFailure::from_error(cx.0, "paging::accounts", "every page", e))?
    {
        if !ids.insert(a.id.clone()) {
            repeated.push(a.id);
        }
    }
    let report = stream.report();
    cx.ensure(
        report.duplicates == 0 && repeated.is_empty(),
        "paging::accounts",
        "no account on two pages",
        || {
            format!(
                "{} repeated, first {}",
                report.duplicates + repeated.len() as u64,
                short(&report.duplicate_keys)
            )
        },
    )?;
    cx.ensure(
        matches!(
            report.stopped,
            Some(StopReason::Exhausted | StopReason::EmptyPage)
        ),
        "paging::accounts",
        "to stop on the last page or an empty page",
        || format!("stopped {:?}", report.stopped),
    )?;
    cx.ensure(
        ids.len() == held,
        "paging::accounts",
        format!("{held} accounts (the backend's count)"),
        || format!("{}", ids.len()),
    )?;
    if let Some(total) = report.reported_total {
        cx.ensure(
            total == held as u64,
            "paging::accounts reported total",
            format!("{held}"),
            || format!("{total}"),
        )?;
    }
    let min_pages = held.div_ceil(page_size as usize) as u64;
    cx.ensure(
        report.pages >= min_pages,
        "paging::accounts",
        format!("at least {min_pages} pages of at most {page_size}"),
        || format!("{} pages", report.pages),
    )
}

/// Stops a drain once its second page has started, then resumes a new stream from the
/// report's checkpoint, as an import does after a crash: the two runs together see every
/// account, so page tokens are self-contained and nothing is lost.
pub async fn resume_accounts(
    p: &dyn Provisioner,
    backend: &dyn AccountBackend,
    page_size: u32,
) -> Result<(), ConformanceFailure> {
    let cx = Cx(Check::ResumeAccounts);
    let held = paging_setup(cx, backend, page_size).await?;
    let step = "first run, up to the second page";
    let options = PagingOptions::new().page_size(page_size);
    let mut first = paging::accounts(p, options.clone());
    let mut ids = HashSet::new();
    while first.report().pages < 2 {
        let next = first.try_next().await;
        let Some(a) = next.map_err(|e| ConformanceFailure::from_error(cx.0, step, "a page", e))?
        else {
            return Err(cx.fail(step, "a second page", "the stream ended"));
        };
        ids.insert(a.id);
    }
    let Some(checkpoint) = first.report().checkpoint else {
        return Err(cx.fail(step, "a checkpoint in the report", "None"));
    };
    drop(first);
    let step = "second run, resumed from the checkpoint";
    let resumed: Vec<_> = paging::accounts(p, options.resume_from(Some(checkpoint)))
        .try_collect()
        .await
        .map_err(|e| ConformanceFailure::from_error(cx.0, step, "every page", e))?;
    ids.extend(resumed.into_iter().map(|a| a.id));
    cx.ensure(
        ids.len() == held,
        step,
        format!("{held} accounts across both runs"),
        || format!("{}", ids.len()),
    )
}

/// The backend's account count, which must exceed the page size for paging to be tested.
pub(super) async fn paging_setup(
    cx: Cx,
    backend: &dyn AccountBackend,
    page_size: u32,
) -> Result<usize, ConformanceFailure> {
    cx.ensure(page_size > 0, "setup", "a page size of at least 1", || {
        "0".into()
    })?;
    let held = cx.ok("backend.account_count", backend.account_count().await)?;
    cx.ensure(
        held > page_size as usize,
        "backend.account_count",
        format!("more than {page_size} accounts, so that at least two pages are read"),
        || format!("{held}"),
    )?;
    Ok(held)
}

/// Create → `Created`, again → `AlreadyExists` (same account, no second one on the
/// backend) → get → grant → `Granted` (the backend holds it), again → `AlreadyGranted` →
/// revoke → `Revoked` (the backend no longer holds it), again → `AlreadyAbsent` → disable
/// → delete → `get_account` finds nothing and the backend count is back where it was.
///
/// Disable and delete run when the connector declares `EnableDisable` and
/// `DeleteAccount`; otherwise the call must fail with `Unsupported` (OpsGenie cannot
/// disable, Salesforce cannot delete) and the account is left in place.
pub async fn account_lifecycle(
    p: &dyn Provisioner,
    backend: &dyn AccountBackend,
    spec: &AccountSpec,
    entitlement: &EntitlementRef,
) -> Result<(), ConformanceFailure> {
    let cx = Cx(Check::AccountLifecycle);
    let count = || async move { cx.ok("backend.account_count", backend.account_count().await) };
    let start = count().await?;

    let account = match cx.ok("create_account", p.create_account(spec).await)? {
        CreateOutcome::Created(a) => a,
        other => {
            let found = short(&other);
            return Err(cx.fail(
                "create_account",
                "Created (pass a login that does not exist yet)",
                found,
            ));
        }
    };
    cx.ensure(
        account.login.eq_ignore_ascii_case(&spec.login),
        "create_account",
        format!("login {:?}", spec.login),
        || format!("{:?}", account.login),
    )?;
    let n = count().await?;
    cx.ensure(
        n == start + 1,
        "backend.account_count after create",
        format!("{}", start + 1),
        || format!("{n}"),
    )?;
    let id = account.id;
    match cx.ok("create_account again", p.create_account(spec).await)? {
        CreateOutcome::AlreadyExists(a) if a.id == id => {}
        other => {
            return Err(cx.fail(
                "create_account again",
                format!("AlreadyExists with id {id}"),
                short(&other),
            ));
        }
    }
    let n = count().await?;
    cx.ensure(
        n == start + 1,
        "backend.account_count after the second create",
        format!("{}", start + 1),
        || format!("{n}"),
    )?;
    let got = cx.some("get_account", p.get_account(&id).await)?;
    cx.ensure(
        got.id == id && got.login.eq_ignore_ascii_case(&spec.login),
        "get_account",
        format!("account {id} with login {:?}", spec.login),
        || format!("account {} with login {:?}", got.id, got.login),
    )?;

    grant_and_revoke(cx, p, backend, &id, entitlement).await?;

    let enable = p.info().supports(&Capability::EnableDisable);
    let disabled = p.set_enabled(&id, false).await;
    if enable {
        cx.ok("set_enabled(false)", disabled)?;
        let got = cx.some("get_account after disable", p.get_account(&id).await)?;
        cx.ensure(
            got.enabled != Some(true),
            "get_account after disable",
            "enabled false (or unknown)",
            || "enabled true".into(),
        )?;
    } else {
        let step = "set_enabled(false) without EnableDisable";
        cx.err_kind(step, disabled, ErrorKind::Unsupported)?;
    }

    let delete = p.info().supports(&Capability::DeleteAccount);
    let deleted = p.delete_account(&id).await;
    if !delete {
        let step = "delete_account without DeleteAccount";
        cx.err_kind(step, deleted, ErrorKind::Unsupported)?;
        return Ok(());
    }
    cx.ok("delete_account", deleted)?;
    let gone = cx.ok("get_account after delete", p.get_account(&id).await)?;
    cx.ensure(gone.is_none(), "get_account after delete", "None", || {
        short(&gone)
    })?;
    let n = count().await?;
    cx.ensure(
        n == start,
        "backend.account_count after delete",
        format!("{start}"),
        || format!("{n}"),
    )
}

async fn grant_and_revoke(
    cx: Cx,
    p: &dyn Provisioner,
    backend: &dyn AccountBackend,
    id: &AccountId,
    e: &EntitlementRef,
) -> Result<(), ConformanceFailure> {
    let holds = |step: &'static str, want: bool| async move {
        let held = cx.ok(step, backend.holds(id, e).await)?;
        cx.ensure(held == want, step, format!("holds {e}: {want}"), || {
            format!("holds {e}: {held}")
        })
    };
    let outcome = cx.ok("grant", p.grant(id, e).await)?;
    cx.ensure(outcome == GrantOutcome::Granted, "grant", "Granted", || {
        format!("{outcome:?}")
    })?;
    holds("backend.holds after grant", true).await?;
    let outcome = cx.ok("grant again", p.grant(id, e).await)?;
    cx.ensure(
        outcome == GrantOutcome::AlreadyGranted,
        "grant again",
        "AlreadyGranted",
        || format!("{outcome:?}"),
    )?;
    holds("backend.holds after the second grant", true).await?;

    let outcome = cx.ok("revoke", p.revoke(id, e).await)?;
    cx.ensure(
        outcome == RevokeOutcome::Revoked,
        "revoke",
        "Revoked",
        || format!("{outcome:?}"),
    )?;
    holds("backend.holds after revoke", false).await?;
    let outcome = cx.ok("revoke again", p.revoke(id, e).await)?;
    cx.ensure(
        outcome == RevokeOutcome::AlreadyAbsent,
        "revoke again",
        "AlreadyAbsent",
        || format!("{outcome:?}"),
    )
}
