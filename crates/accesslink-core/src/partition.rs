//! Partitioned imports: one listing split into disjoint key ranges that run
//! concurrently, merge into one stream, and resume each from its own token.
//!
//! Against a real service desk an import is bound by the server's latency, not by the
//! client: a million ServiceNow users at 1,000 rows and ~300 ms a page is five minutes
//! in any language. A connector whose API can filter a listing by a key range (ServiceNow
//! `sys_id>=X^sys_id<Y`, GLPI `ID >N` / `ID <M` search criteria) implements
//! [`Partitioner`]: [`partitions`](Partitioner::partitions) splits the key space into
//! [`Partition`]s, and its `list_accounts`/`list_grants` honour
//! [`PageRequest::range`]. [`accounts_partitioned`] and [`grants_partitioned`] then
//! drain the partitions with bounded concurrency through the connector's one client
//! (so one rate limiter and one connection pool), merged into one [`PartitionedStream`].
//!
//! **Exactly once.** The ranges of a plan are disjoint and cover the whole key space
//! (the first has no lower bound, the last no upper bound, each upper bound is the next
//! lower bound), so every row is in exactly one partition whatever was inserted after
//! planning; a property test over random key sets and partition counts checks it. Each
//! partition is a keyset listing of its own, with the [`PagingOptions`] guards of a
//! plain listing, and the runner checks that every account it is handed lies in its
//! partition's range: a server that ignored the range condition would otherwise hand
//! the same rows to several partitions, and that is a `Protocol` error instead.
//!
//! **Resumable.** [`PartitionedStream::checkpoint`] is the map of partition tokens (a
//! [`Checkpoint`], small JSON): finished partitions are marked done, the others carry
//! the token of the page whose items are being yielded (as [`PagingReport::checkpoint`]
//! does: items of that page may be seen again after a resume, never lost). Pass it back
//! through [`Partitions::resume`].
//!
//! **Work units.** A [`Partition`] is a self-contained job: any process with the same
//! connector configuration runs it with [`run_accounts`] / [`run_grants`] (see
//! `docs/scale.md` for the pattern on a job engine).
//!
//! Connectors that cannot split keep the default methods: one partition, the whole
//! listing, which is the plain [`paging::accounts`](crate::paging::accounts) stream.
//!
//! ```no_run
//! use accesslink_core::paging::PagingOptions;
//! use accesslink_core::partition::{Partitioner, Partitions, accounts_partitioned};
//! use futures::TryStreamExt;
//!
//! # async fn run(p: &dyn Partitioner) -> accesslink_core::Result<()> {
//! let mut stream = accounts_partitioned(p, Partitions::new(8), PagingOptions::new());
//! while let Some(account) = stream.try_next().await? {
//!     println!("{}", account.id);
//! }
//! // After a crash: store this, and resume with `Partitions::resume(checkpoint)`.
//! let checkpoint = stream.checkpoint();
//! println!("{}", serde_json::to_string(&checkpoint).expect("serialisable"));
//! # Ok(()) }
//! ```

use std::borrow::Cow;
use std::fmt;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use futures::future::BoxFuture;
use futures::stream::{self, BoxStream, Stream, StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};

use crate::connector::Provisioner;
use crate::error::{Error, Result};
use crate::identity::{Account, EntitlementType, Grant};
use crate::paging::{Page, PageRequest, PageToken, Paged, PagingOptions, PagingReport, paginate};

/// A range of keys: `from <= key < to`, either bound open.
///
/// Text keys compare as byte strings (ServiceNow `sys_id`s are fixed-width lowercase
/// hex, so byte order is the instance's order); number keys as unsigned integers.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum KeyRange {
    /// Every key: the listing is not split.
    #[default]
    All,
    /// Text keys from `from` (inclusive) to `to` (exclusive).
    Text {
        /// Inclusive lower bound; `None` for no lower bound.
        from: Option<String>,
        /// Exclusive upper bound; `None` for no upper bound.
        to: Option<String>,
    },
    /// Number keys from `from` (inclusive) to `to` (exclusive).
    Number {
        /// Inclusive lower bound; `None` for no lower bound.
        from: Option<u64>,
        /// Exclusive upper bound; `None` for no upper bound.
        to: Option<u64>,
    },
}

impl KeyRange {
    /// Whether `key` lies in the range. A number range holds no key that is not a
    /// decimal number.
    pub fn contains(&self, key: &str) -> bool {
        match self {
            KeyRange::All => true,
            KeyRange::Text { from, to } => {
                from.as_deref().is_none_or(|f| key >= f) && to.as_deref().is_none_or(|t| key < t)
            }
            KeyRange::Number { from, to } => match key.parse::<u64>() {
                Ok(k) => from.is_none_or(|f| k >= f) && to.is_none_or(|t| k < t),
                Err(_) => false,
            },
        }
    }

    /// Ranges between sorted `boundaries` (duplicates and empty strings dropped):
    /// `[.., b1)`, `[b1, b2)`, …, `[bn, ..)`. Together they hold every text key once.
    pub fn split_text<S: Into<String>>(boundaries: impl IntoIterator<Item = S>) -> Vec<KeyRange> {
        let mut cuts: Vec<String> = boundaries
            .into_iter()
            .map(Into::into)
            .filter(|b| !b.is_empty())
            .collect();
        cuts.sort();
        cuts.dedup();
        let mut ranges = Vec::with_capacity(cuts.len() + 1);
        let mut from = None;
        for cut in cuts {
            ranges.push(KeyRange::Text {
                from: from.take(),
                to: Some(cut.clone()),
            });
            from = Some(cut);
        }
        ranges.push(KeyRange::Text { from, to: None });
        ranges
    }

    /// `n` ranges of equal width over lowercase hex keys, cut on a four-digit prefix
    /// (`[.., "2000")`, `["2000", "4000")`, …): the split for keys that are uniformly
    /// random hex, such as GUIDs. `n` is capped at 65,536.
    pub fn split_hex(n: u32) -> Vec<KeyRange> {
        let n = u64::from(n.clamp(1, 1 << 16));
        KeyRange::split_text((1..n).map(|i| format!("{:04x}", i * 0x1_0000 / n)))
    }

    /// At most `n` ranges of about equal width over the numbers `lo..=hi`; the first
    /// has no lower bound and the last no upper bound, so keys outside `lo..=hi` (rows
    /// created after planning) are in a range too.
    pub fn split_numbers(lo: u64, hi: u64, n: u32) -> Vec<KeyRange> {
        let (lo, hi) = (lo.min(hi), lo.max(hi));
        let span = u128::from(hi - lo) + 1;
        let n = u128::from(n.max(1)).min(span);
        let mut ranges = Vec::new();
        let mut from = None;
        for i in 1..n {
            let cut = lo + (span * i / n) as u64;
            ranges.push(KeyRange::Number {
                from,
                to: Some(cut),
            });
            from = Some(cut);
        }
        ranges.push(KeyRange::Number { from, to: None });
        ranges
    }
}

impl fmt::Display for KeyRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn bound<T: fmt::Display>(b: Option<&T>) -> String {
            b.map_or_else(String::new, ToString::to_string)
        }
        match self {
            KeyRange::All => f.write_str("all keys"),
            KeyRange::Text { from, to } => {
                write!(f, "[{}, {})", bound(from.as_ref()), bound(to.as_ref()))
            }
            KeyRange::Number { from, to } => {
                write!(f, "[{}, {})", bound(from.as_ref()), bound(to.as_ref()))
            }
        }
    }
}

/// Which listing a partition belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Listing {
    /// `list_accounts`.
    Accounts,
    /// `list_grants` of one entitlement type.
    Grants {
        /// The entitlement type.
        entitlement_type: EntitlementType,
    },
}

/// One partition of a listing: a key range and where in it to continue. It serialises
/// to a small JSON object, a job any process with the same connector configuration can
/// run ([`run_accounts`], [`run_grants`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Partition {
    /// The listing.
    pub listing: Listing,
    /// Its place in the plan, from 0.
    pub index: u32,
    /// How many partitions the plan has.
    pub count: u32,
    /// The keys it holds.
    pub range: KeyRange,
    /// Where to continue inside the range (a connector page token); `None` at its start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<PageToken>,
    /// Whether every item of the partition has been yielded.
    #[serde(default)]
    pub done: bool,
}

impl Partition {
    /// The plan of one partition: the whole listing.
    pub fn whole(listing: &Listing) -> Vec<Partition> {
        Partition::plan(listing, vec![KeyRange::All])
    }

    /// A plan from a listing's ranges, numbered in order.
    pub fn plan(listing: &Listing, ranges: Vec<KeyRange>) -> Vec<Partition> {
        let count = ranges.len() as u32;
        ranges
            .into_iter()
            .enumerate()
            .map(|(i, range)| Partition {
                listing: listing.clone(),
                index: i as u32,
                count,
                range,
                token: None,
                done: false,
            })
            .collect()
    }
}

/// The combined checkpoint of a partitioned import: every partition with its own
/// token. Serialise it to resume the import later ([`Partitions::resume`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Checkpoint {
    /// The partitions, finished ones marked `done`.
    pub partitions: Vec<Partition>,
}

impl Checkpoint {
    /// Whether every partition is done.
    pub fn is_complete(&self) -> bool {
        !self.partitions.is_empty() && self.partitions.iter().all(|p| p.done)
    }
}

/// A connector that can split a listing into disjoint key ranges.
///
/// Every method has a default: the whole listing as one partition. A connector that
/// overrides [`partitions`](Self::partitions) with real ranges must also say so in
/// [`splits`](Self::splits) and honour [`PageRequest::range`] in the listing.
#[crate::async_trait]
pub trait Partitioner: Provisioner {
    /// Whether `list_accounts` / `list_grants` of `listing` honour
    /// [`PageRequest::range`]. The runner refuses a partition with a range otherwise.
    fn splits(&self, listing: &Listing) -> bool {
        let _ = listing;
        false
    }

    /// Whether `listing` pages by a key in a strict order that the connector checks,
    /// so a page can never repeat an item: the runner then tracks no keys (constant
    /// memory, less work per item) unless the options ask for a duplicate policy other
    /// than the default. Default `false`.
    fn keyset(&self, listing: &Listing) -> bool {
        let _ = listing;
        false
    }

    /// At most `n` partitions of `listing` whose ranges hold every key exactly once
    /// (see [`Partition::plan`] and the `KeyRange::split_*` helpers). May ask the target
    /// (for the key distribution). Default: one partition, the whole listing.
    async fn partitions(&self, listing: &Listing, n: u32) -> Result<Vec<Partition>> {
        let _ = n;
        Ok(Partition::whole(listing))
    }
}

/// How many partitions to run, how many at once, or a checkpoint to resume.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Partitions {
    /// Partitions to plan (ignored when resuming).
    pub count: u32,
    /// How many run at once; default the count.
    pub concurrency: Option<usize>,
    /// A checkpoint to resume instead of planning.
    pub resume: Option<Checkpoint>,
}

impl Partitions {
    /// `n` partitions (at least 1), all running at once.
    pub fn new(n: u32) -> Self {
        Partitions {
            count: n.max(1),
            concurrency: None,
            resume: None,
        }
    }

    /// Resumes a checkpoint: its unfinished partitions, from their tokens.
    pub fn resume(checkpoint: Checkpoint) -> Self {
        Partitions {
            count: checkpoint.partitions.len().max(1) as u32,
            concurrency: None,
            resume: Some(checkpoint),
        }
    }

    /// Runs at most `n` partitions at once (at least 1).
    #[must_use]
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = Some(n.max(1));
        self
    }
}

impl From<u32> for Partitions {
    fn from(n: u32) -> Self {
        Partitions::new(n)
    }
}

/// Progress of one partition.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PartitionReport {
    /// The partition, its token the current checkpoint.
    pub partition: Partition,
    /// Its paging report (empty until it started).
    pub paging: PagingReport,
}

/// Progress of a partitioned import.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PartitionedReport {
    /// Every partition of the plan (empty until planned).
    pub partitions: Vec<PartitionReport>,
    /// Items yielded, over all partitions.
    pub items: u64,
    /// Pages fetched, over all partitions.
    pub pages: u64,
    /// Items dropped as repeated, over all partitions.
    pub duplicates: u64,
}

impl PartitionedReport {
    /// How many items short of the totals the partitions reported the import is
    /// (summed over partitions that reported one).
    pub fn shortfall(&self) -> Option<u64> {
        let short: Vec<u64> = self
            .partitions
            .iter()
            .filter_map(|p| p.paging.shortfall())
            .collect();
        (!short.is_empty()).then(|| short.iter().sum())
    }
}

struct Slot {
    partition: Partition,
    report: Option<crate::paging::ReportHandle>,
}

#[derive(Default)]
struct Shared {
    slots: Vec<Slot>,
    items: u64,
}

fn lock(s: &Mutex<Shared>) -> std::sync::MutexGuard<'_, Shared> {
    s.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The merged stream of a partitioned import, with a live report and checkpoint.
pub struct PartitionedStream<'a, T> {
    inner: BoxStream<'a, Result<T>>,
    shared: Arc<Mutex<Shared>>,
}

impl<T> fmt::Debug for PartitionedStream<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PartitionedStream")
            .field("report", &self.report())
            .finish_non_exhaustive()
    }
}

impl<T> PartitionedStream<'_, T> {
    /// A snapshot of progress.
    pub fn report(&self) -> PartitionedReport {
        report_of(&self.shared)
    }

    /// The combined checkpoint: resume from it with [`Partitions::resume`].
    pub fn checkpoint(&self) -> Checkpoint {
        Checkpoint {
            partitions: report_of(&self.shared)
                .partitions
                .into_iter()
                .map(|p| p.partition)
                .collect(),
        }
    }

    /// A handle that reads report and checkpoint after the stream has moved.
    pub fn handle(&self) -> PartitionedHandle {
        PartitionedHandle(self.shared.clone())
    }
}

/// Reads the report and checkpoint of a [`PartitionedStream`] from elsewhere.
#[derive(Clone)]
pub struct PartitionedHandle(Arc<Mutex<Shared>>);

impl fmt::Debug for PartitionedHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("PartitionedHandle")
            .field(&self.report())
            .finish()
    }
}

impl PartitionedHandle {
    /// A snapshot of progress.
    pub fn report(&self) -> PartitionedReport {
        report_of(&self.0)
    }

    /// The combined checkpoint.
    pub fn checkpoint(&self) -> Checkpoint {
        Checkpoint {
            partitions: report_of(&self.0)
                .partitions
                .into_iter()
                .map(|p| p.partition)
                .collect(),
        }
    }
}

fn report_of(shared: &Mutex<Shared>) -> PartitionedReport {
    let s = lock(shared);
    let mut out = PartitionedReport {
        items: s.items,
        ..PartitionedReport::default()
    };
    for slot in &s.slots {
        let paging = slot.report.as_ref().map(|h| h.get()).unwrap_or_default();
        let mut partition = slot.partition.clone();
        if !partition.done && paging.pages > 0 {
            partition.token = paging.checkpoint.clone();
        }
        out.pages += paging.pages;
        out.duplicates += paging.duplicates;
        out.partitions.push(PartitionReport { partition, paging });
    }
    out
}

impl<T> Stream for PartitionedStream<'_, T> {
    type Item = Result<T>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.poll_next_unpin(cx)
    }
}

/// One partition's stream: checks each item's key against the range, marks the
/// partition done when it ends without an error.
struct Run<'a, T> {
    inner: Paged<'a, T>,
    slot: usize,
    index: u32,
    shared: Arc<Mutex<Shared>>,
    range: KeyRange,
    range_key: Option<fn(&T) -> &str>,
    over: bool,
}

impl<T> Stream for Run<'_, T> {
    type Item = Result<T>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.over {
            return Poll::Ready(None);
        }
        let polled = self.inner.poll_next_unpin(cx);
        match polled {
            Poll::Pending => Poll::Pending,
            Poll::Ready(None) => {
                self.over = true;
                lock(&self.shared).slots[self.slot].partition.done = true;
                Poll::Ready(None)
            }
            Poll::Ready(Some(Err(e))) => {
                self.over = true;
                Poll::Ready(Some(Err(e)))
            }
            Poll::Ready(Some(Ok(item))) => {
                if let Some(key) = self.range_key {
                    let k = key(&item);
                    if !self.range.contains(k) {
                        self.over = true;
                        let msg = format!(
                            "partition {} was handed key `{}` outside its range {}: the target ignored the range, and rows would reach several partitions",
                            self.index,
                            crate::redact::truncate(k, 60),
                            self.range
                        );
                        return Poll::Ready(Some(Err(Error::protocol("partitioned listing", msg))));
                    }
                }
                lock(&self.shared).items += 1;
                Poll::Ready(Some(Ok(item)))
            }
        }
    }
}

/// The options one partition runs with: the caller's page size, duplicate policy and
/// bounds; its own resume token; no completeness guard (that is over the whole import).
fn partition_options(options: &PagingOptions, part: &Partition, keyset: bool) -> PagingOptions {
    let mut o = options.clone();
    o.resume_from = part.token.clone();
    o.expect_at_least = None;
    o.previous_count = None;
    o.max_drop_percent = None;
    if keyset && o.duplicates == crate::paging::Duplicates::default() {
        o.duplicates = crate::paging::Duplicates::Allow;
    }
    o
}

type Fetch<'a, T> =
    Arc<dyn Fn(&KeyRange, PageRequest) -> BoxFuture<'a, Result<Page<T>>> + Send + Sync + 'a>;

struct Spec<'a, T> {
    listing: Listing,
    options: PagingOptions,
    key: for<'x> fn(&'x T) -> Cow<'x, str>,
    range_key: Option<fn(&T) -> &str>,
    fetch: Fetch<'a, T>,
}

fn run<'a, T: Send + 'a>(
    p: &'a dyn Partitioner,
    parts: Partitions,
    spec: Spec<'a, T>,
) -> PartitionedStream<'a, T> {
    let shared = Arc::new(Mutex::new(Shared::default()));
    let minimum = spec.options.minimum();
    let keyset = p.keyset(&spec.listing);
    let splits = p.splits(&spec.listing);
    let concurrency = parts.concurrency;
    let listing = spec.listing.clone();
    let sh = shared.clone();
    let plan = async move {
        let plan = match parts.resume {
            Some(c) => c.partitions,
            None => p.partitions(&listing, parts.count).await?,
        };
        check_plan(&listing, &plan, splits)?;
        Ok::<_, Error>(plan)
    };
    let spec = Arc::new(spec);
    let merged = stream::once(plan)
        .map_ok(move |plan| {
            let width = concurrency.unwrap_or(plan.len()).max(1);
            let mut runs = Vec::new();
            {
                let mut s = lock(&sh);
                for (slot, part) in plan.into_iter().enumerate() {
                    if !part.done {
                        let range = part.range.clone();
                        let fetch = spec.fetch.clone();
                        let paged = paginate(
                            partition_options(&spec.options, &part, keyset),
                            spec.key,
                            move |req: PageRequest| fetch(&range, req),
                        );
                        s.slots.push(Slot {
                            report: Some(paged.report_handle()),
                            partition: part.clone(),
                        });
                        runs.push(Run {
                            inner: paged,
                            slot,
                            index: part.index,
                            shared: sh.clone(),
                            range: part.range,
                            range_key: spec.range_key,
                            over: false,
                        });
                    } else {
                        s.slots.push(Slot {
                            partition: part,
                            report: None,
                        });
                    }
                }
            }
            stream::iter(runs).flatten_unordered(width)
        })
        .try_flatten();
    let inner = Guarded {
        inner: merged.boxed(),
        shared: shared.clone(),
        minimum,
        over: false,
    }
    .boxed();
    PartitionedStream { inner, shared }
}

/// Refuses a plan the connector cannot run: ranges it cannot list, partitions of
/// another listing, or ranges of mixed kinds.
fn check_plan(listing: &Listing, plan: &[Partition], splits: bool) -> Result<()> {
    if plan.is_empty() {
        return Err(Error::invalid_input("a partition plan needs a partition"));
    }
    for part in plan {
        if &part.listing != listing {
            return Err(Error::invalid_input(format!(
                "partition {} belongs to another listing ({:?}, not {:?})",
                part.index, part.listing, listing
            )));
        }
        if part.range != KeyRange::All && !splits {
            return Err(Error::invalid_input(format!(
                "partition {} has the range {} but this connector cannot list a key range of {:?}",
                part.index, part.range, listing
            )));
        }
    }
    Ok(())
}

/// Ends the merged stream after its first error, and applies the completeness guard
/// to the whole import.
struct Guarded<'a, T> {
    inner: BoxStream<'a, Result<T>>,
    shared: Arc<Mutex<Shared>>,
    minimum: Option<(u64, String)>,
    over: bool,
}

impl<T> Stream for Guarded<'_, T> {
    type Item = Result<T>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.over {
            return Poll::Ready(None);
        }
        match self.inner.poll_next_unpin(cx) {
            Poll::Ready(Some(Err(e))) => {
                self.over = true;
                Poll::Ready(Some(Err(e)))
            }
            Poll::Ready(None) => {
                self.over = true;
                let items = lock(&self.shared).items;
                if let Some((minimum, why)) = &self.minimum {
                    if items < *minimum {
                        return Poll::Ready(Some(Err(Error::protocol(
                            "partitioned listing",
                            format!(
                                "import incomplete: received {items} item(s), expected at least {minimum} ({why})"
                            ),
                        ))));
                    }
                }
                Poll::Ready(None)
            }
            other => other,
        }
    }
}

fn account_key(a: &Account) -> Cow<'_, str> {
    Cow::Borrowed(a.id.as_str())
}

fn account_id(a: &Account) -> &str {
    a.id.as_str()
}

fn grant_key(g: &Grant) -> Cow<'_, str> {
    Cow::Owned(format!("{}\u{1f}{}", g.account, g.entitlement.id))
}

/// Every account, the partitions running concurrently and merged into one stream.
/// `parts` is a partition count (`8.into()`), or [`Partitions`] with a concurrency
/// bound or a checkpoint to resume. Options apply to each partition, except the
/// completeness guard, which applies to the whole import.
pub fn accounts_partitioned<'a>(
    p: &'a dyn Partitioner,
    parts: impl Into<Partitions>,
    options: PagingOptions,
) -> PartitionedStream<'a, Account> {
    let fetch: Fetch<'a, Account> =
        Arc::new(move |range: &KeyRange, req: PageRequest| p.list_accounts(with_range(req, range)));
    run(
        p,
        parts.into(),
        Spec {
            listing: Listing::Accounts,
            options,
            key: account_key,
            range_key: Some(account_id),
            fetch,
        },
    )
}

/// Every grant of a type, partitioned like [`accounts_partitioned`]. The range is on
/// the connector's key for grant rows (not a field of [`Grant`]), so the runner cannot
/// check it item by item; the connector's keyset checks do.
pub fn grants_partitioned<'a>(
    p: &'a dyn Partitioner,
    ty: &'a EntitlementType,
    parts: impl Into<Partitions>,
    options: PagingOptions,
) -> PartitionedStream<'a, Grant> {
    let fetch: Fetch<'a, Grant> = Arc::new(move |range: &KeyRange, req: PageRequest| {
        p.list_grants(ty, with_range(req, range))
    });
    run(
        p,
        parts.into(),
        Spec {
            listing: Listing::Grants {
                entitlement_type: ty.clone(),
            },
            options,
            key: grant_key,
            range_key: None,
            fetch,
        },
    )
}

fn with_range(req: PageRequest, range: &KeyRange) -> PageRequest {
    if *range == KeyRange::All {
        req
    } else {
        req.in_range(range.clone())
    }
}

/// Runs one partition of accounts (a job from another process), from its token.
/// The stream's report and checkpoint name this one partition.
pub fn run_accounts<'a>(
    p: &'a dyn Partitioner,
    partition: Partition,
    options: PagingOptions,
) -> PartitionedStream<'a, Account> {
    let checkpoint = Checkpoint {
        partitions: vec![partition],
    };
    accounts_partitioned(p, Partitions::resume(checkpoint), options)
}

/// Runs one partition of grants of `ty` (a job from another process), from its token.
pub fn run_grants<'a>(
    p: &'a dyn Partitioner,
    ty: &'a EntitlementType,
    partition: Partition,
    options: PagingOptions,
) -> PartitionedStream<'a, Grant> {
    let checkpoint = Checkpoint {
        partitions: vec![partition],
    };
    grants_partitioned(p, ty, Partitions::resume(checkpoint), options)
}

/// Plans a partitioned import without running it: the jobs to hand to workers.
pub async fn plan(p: &dyn Partitioner, listing: &Listing, n: u32) -> Result<Checkpoint> {
    let partitions = p.partitions(listing, n.max(1)).await?;
    check_plan(listing, &partitions, p.splits(listing))?;
    Ok(Checkpoint { partitions })
}

#[cfg(test)]
mod tests;
