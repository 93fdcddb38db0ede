//! The partitioned-import checks: a split account listing yields every account once,
//! a checkpoint resumes without losing or re-reading a finished partition, and a server
//! that ignores the range conditions fails the import instead of repeating rows.
//!
//! They run (from [`run_provisioning_suite`](super::run_provisioning_suite)) on
//! connectors whose [`Partitioner`] splits [`Listing::Accounts`]; the listings go through
//! `accesslink_core::partition`, as an import does, and what they yield is compared with
//! what the backend holds ([`AccountBackend::account_ids`]).

use std::collections::{BTreeMap, BTreeSet};

use accesslink_core::partition::{
    self, Checkpoint, Listing, Partitioner, Partitions, accounts_partitioned,
};
use accesslink_core::{ErrorKind, paging::PagingOptions};
use futures::TryStreamExt;

use super::cx::{Cx, short};
use super::provisioning::paging_setup;
use super::{AccountBackend, Check, ConformanceFailure};

/// The partition counts [`partitioned_accounts_exactly_once`] plans.
const COUNTS: [u32; 3] = [1, 3, 8];

/// What the backend holds: its ids when it can list them, else only their number.
struct Held {
    count: usize,
    ids: Option<BTreeSet<String>>,
}

async fn held(
    cx: Cx,
    backend: &dyn AccountBackend,
    page_size: u32,
) -> Result<Held, ConformanceFailure> {
    let count = paging_setup(cx, backend, page_size).await?;
    let ids = cx.ok("backend.account_ids", backend.account_ids().await)?;
    let ids = ids.map(|ids| ids.into_iter().collect::<BTreeSet<_>>());
    if let Some(ids) = &ids {
        cx.ensure(
            ids.len() == count,
            "backend.account_ids",
            format!("{count} distinct ids (the backend's count)"),
            || format!("{}", ids.len()),
        )?;
    }
    Ok(Held { count, ids })
}

/// The ids seen more than once, each with how often.
fn repeats(ids: &[String]) -> BTreeMap<&str, usize> {
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for id in ids {
        *seen.entry(id.as_str()).or_default() += 1;
    }
    seen.retain(|_, n| *n > 1);
    seen
}

/// Compares a set of ids with what the backend holds: the same ids when it lists them,
/// else as many.
fn covers(
    cx: Cx,
    step: &str,
    got: &BTreeSet<String>,
    held: &Held,
) -> Result<(), ConformanceFailure> {
    match &held.ids {
        Some(ids) => {
            let missing: Vec<&String> = ids.difference(got).take(5).collect();
            let extra: Vec<&String> = got.difference(ids).take(5).collect();
            cx.ensure(
                missing.is_empty() && extra.is_empty(),
                step,
                format!("the backend's {} accounts", ids.len()),
                || {
                    format!(
                        "{} accounts; missing {}, not on the backend {}",
                        got.len(),
                        short(&missing),
                        short(&extra)
                    )
                },
            )
        }
        None => cx.ensure(
            got.len() == held.count,
            step,
            format!("{} accounts (the backend's count)", held.count),
            || format!("{}", got.len()),
        ),
    }
}

/// For 1, 3 and 8 partitions: plans with [`partition::plan`] (at most that many
/// partitions, at least one), drains the plan with [`accounts_partitioned`] at
/// `page_size`, and requires every account exactly once — no id yielded twice, none
/// dropped as a duplicate, every partition done, and the ids the backend holds
/// ([`AccountBackend::account_ids`]; their number when the backend cannot list them).
pub async fn partitioned_accounts_exactly_once(
    p: &dyn Partitioner,
    backend: &dyn AccountBackend,
    page_size: u32,
) -> Result<(), ConformanceFailure> {
    let cx = Cx(Check::PartitionedAccountsExactlyOnce);
    let held = held(cx, backend, page_size).await?;
    let options = PagingOptions::new().page_size(page_size);
    for n in COUNTS {
        let step = format!("partition::plan with {n}");
        let plan = cx.ok(&step, partition::plan(p, &Listing::Accounts, n).await)?;
        let planned = plan.partitions.len();
        cx.ensure(
            (1..=n as usize).contains(&planned),
            &step,
            format!("between 1 and {n} partitions"),
            || format!("{planned}"),
        )?;
        let step = format!("accounts_partitioned over {planned} partition(s) (asked {n})");
        let stream = accounts_partitioned(p, Partitions::resume(plan), options.clone());
        let handle = stream.handle();
        let got: Vec<String> = stream
            .map_ok(|a| a.id.to_string())
            .try_collect()
            .await
            .map_err(|e| ConformanceFailure::from_error(cx.0, &step, "every page", e))?;
        let twice = repeats(&got);
        let report = handle.report();
        cx.ensure(
            twice.is_empty() && report.duplicates == 0,
            &step,
            "no account twice",
            || {
                format!(
                    "{} yielded twice or more ({}), {} dropped as duplicates",
                    twice.len(),
                    short(&twice.keys().take(5).collect::<Vec<_>>()),
                    report.duplicates
                )
            },
        )?;
        cx.ensure(
            handle.checkpoint().is_complete(),
            &step,
            "every partition done",
            || short(&handle.checkpoint()),
        )?;
        covers(cx, &step, &got.into_iter().collect(), &held)?;
    }
    Ok(())
}

/// Plans 3 partitions, stops the import after about half the accounts, and resumes it
/// from the checkpoint, passed through JSON as a job engine stores it. The two runs
/// together hold every account the backend holds; the resumed run yields no account
/// twice and none in the range of a partition the checkpoint marks done (it was asked
/// again); and an account of both runs can only be one of a page that was in flight, so
/// there are at most as many as partitions × `page_size`.
pub async fn partitioned_resume_loses_nothing(
    p: &dyn Partitioner,
    backend: &dyn AccountBackend,
    page_size: u32,
) -> Result<(), ConformanceFailure> {
    let cx = Cx(Check::PartitionedResumeLosesNothing);
    let held = held(cx, backend, page_size).await?;
    let options = PagingOptions::new().page_size(page_size);
    let plan = cx.ok(
        "partition::plan with 3",
        partition::plan(p, &Listing::Accounts, 3).await,
    )?;
    let planned = plan.partitions.len();
    let stop = (held.count / 2).max(1);
    let step = format!("first run, stopped after {stop} of {} accounts", held.count);
    let mut first_run = accounts_partitioned(p, Partitions::resume(plan), options.clone());
    let mut first = Vec::new();
    while first.len() < stop {
        let next = first_run.try_next().await;
        let next = next.map_err(|e| ConformanceFailure::from_error(cx.0, &step, "a page", e))?;
        let Some(a) = next else {
            return Err(cx.fail(
                &step,
                format!("{stop} accounts"),
                format!("{}", first.len()),
            ));
        };
        first.push(a.id.to_string());
    }
    let checkpoint = first_run.checkpoint();
    drop(first_run);
    let step = "the checkpoint through JSON";
    let json = serde_json::to_string(&checkpoint)
        .map_err(|e| cx.fail(step, "a JSON checkpoint", e.to_string()))?;
    let checkpoint: Checkpoint = serde_json::from_str(&json)
        .map_err(|e| cx.fail(step, "the checkpoint read back", e.to_string()))?;
    cx.ensure(
        checkpoint.partitions.len() == planned && !checkpoint.is_complete(),
        step,
        format!("{planned} partitions, not all done"),
        || short(&checkpoint),
    )?;
    let done: Vec<_> = checkpoint
        .partitions
        .iter()
        .filter(|part| part.done)
        .map(|part| part.range.clone())
        .collect();

    let step = "second run, resumed from the checkpoint";
    let second: Vec<String> = accounts_partitioned(p, Partitions::resume(checkpoint), options)
        .map_ok(|a| a.id.to_string())
        .try_collect()
        .await
        .map_err(|e| ConformanceFailure::from_error(cx.0, step, "every page", e))?;
    let twice = repeats(&second);
    cx.ensure(twice.is_empty(), step, "no account twice", || {
        short(&twice.keys().take(5).collect::<Vec<_>>())
    })?;
    let again: Vec<&String> = second
        .iter()
        .filter(|id| done.iter().any(|r| r.contains(id)))
        .take(5)
        .collect();
    cx.ensure(
        again.is_empty(),
        step,
        "no account of a partition the checkpoint marks done",
        || format!("{} (done ranges {})", short(&again), short(&done)),
    )?;
    let first: BTreeSet<String> = first.into_iter().collect();
    let second: BTreeSet<String> = second.into_iter().collect();
    let both = first.intersection(&second).count();
    let bound = planned * page_size as usize;
    cx.ensure(
        both <= bound,
        step,
        format!(
            "at most {bound} accounts of both runs (a page in flight per partition, {planned} × {page_size})"
        ),
        || format!("{both}: the resume started over"),
    )?;
    let all: BTreeSet<String> = first.union(&second).cloned().collect();
    covers(cx, "both runs together", &all, &held)
}

/// Makes the server ignore key ranges ([`AccountBackend::ignore_key_ranges`]), then
/// drains a 3-partition plan: the import must end in a `Protocol` error (every
/// partition would otherwise list the same rows), and no account may have been yielded
/// twice before it. Restores the ranges whatever the outcome.
pub async fn ignored_range_is_a_protocol_error(
    p: &dyn Partitioner,
    backend: &dyn AccountBackend,
    page_size: u32,
) -> Result<(), ConformanceFailure> {
    let cx = Cx(Check::IgnoredRangeIsAProtocolError);
    paging_setup(cx, backend, page_size).await?;
    let plan = cx.ok(
        "partition::plan with 3",
        partition::plan(p, &Listing::Accounts, 3).await,
    )?;
    let planned = plan.partitions.len();
    cx.ensure(
        planned > 1,
        "partition::plan with 3",
        "more than one partition",
        || format!("{planned}"),
    )?;
    cx.ensure(
        backend.ignore_key_ranges(true),
        "backend.ignore_key_ranges(true)",
        "true",
        || "false".into(),
    )?;
    let outcome = drain_until_error(p, plan, page_size).await;
    backend.ignore_key_ranges(false);
    let (ids, error) = outcome;
    let step = format!("accounts_partitioned over {planned} partitions, ranges ignored");
    let twice = repeats(&ids);
    cx.ensure(
        twice.is_empty(),
        &step,
        "no account twice before the error",
        || {
            format!(
                "{} yielded twice or more ({})",
                twice.len(),
                short(&twice.keys().take(5).collect::<Vec<_>>())
            )
        },
    )?;
    let expected = format!("an error of kind `{}`", ErrorKind::Protocol);
    match error {
        Some(e) if e.kind() == ErrorKind::Protocol => Ok(()),
        Some(e) => Err(ConformanceFailure::from_error(cx.0, &step, expected, e)),
        None => Err(cx.fail(
            &step,
            expected,
            format!("the import ended after {} accounts", ids.len()),
        )),
    }
}

/// Drains a plan until its end or its first error.
async fn drain_until_error(
    p: &dyn Partitioner,
    plan: Checkpoint,
    page_size: u32,
) -> (Vec<String>, Option<accesslink_core::Error>) {
    let options = PagingOptions::new().page_size(page_size);
    let mut stream = accounts_partitioned(p, Partitions::resume(plan), options);
    let mut ids = Vec::new();
    loop {
        match stream.try_next().await {
            Ok(Some(a)) => ids.push(a.id.to_string()),
            Ok(None) => return (ids, None),
            Err(e) => return (ids, Some(e)),
        }
    }
}
