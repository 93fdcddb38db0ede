//! Paging: an opaque, resumable page token, one page of results, and streams over
//! all pages that stop on the last page (an empty page that announces more is followed), fail on a repeated token, and report
//! items a page repeats.
//!
//! An import through these streams yields every item once or ends in an error: a
//! target that repeats pages (under new tokens) ends it after a bounded number of pages
//! that bring nothing new, a reported total that was not reached is reported (and an
//! error with [`PagingOptions::strict_totals()`]), and the completeness guard
//! ([`PagingOptions::expect_at_least()`], [`PagingOptions::previous_count()`]) turns a short
//! import into an error — the library-level version of a mass-deletion guard. An IAM
//! product that took a short import for a good one would deprovision whoever is missing.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;
use std::future::Future;
use std::hash::{BuildHasherDefault, Hasher};
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use futures::stream::{self, BoxStream, Stream, StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};

use crate::connector::Provisioner;
use crate::error::{Error, Result};
use crate::identity::{Account, Entitlement, EntitlementType, Grant};
use crate::partition::KeyRange;

/// An opaque position in a listing. Store it to resume an import after a crash.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PageToken(String);

impl PageToken {
    /// Wraps a connector's token.
    pub fn new(token: impl Into<String>) -> Self {
        PageToken(token.into())
    }

    /// The token as a string, to store.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PageToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Which page to fetch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PageRequest {
    /// Where to continue; `None` for the first page.
    pub token: Option<PageToken>,
    /// The page size wanted; connectors cap it at what the target allows.
    pub size: Option<u32>,
    /// The key range of one partition of the listing (see [`crate::partition`]):
    /// only the items whose key falls in it. `None` (or [`KeyRange::All`]) is the whole
    /// listing. Only connectors whose [`Partitioner::splits`](crate::partition::Partitioner::splits)
    /// says so read it; the partition runner refuses to hand a range to any other.
    pub range: Option<KeyRange>,
}

impl PageRequest {
    /// The first page, with the connector's default size.
    pub fn first() -> Self {
        PageRequest::default()
    }

    /// The page at `token`.
    pub fn at(token: Option<PageToken>) -> Self {
        PageRequest {
            token,
            size: None,
            range: None,
        }
    }

    /// Limits the listing to one partition's key range.
    #[must_use]
    pub fn in_range(mut self, range: KeyRange) -> Self {
        self.range = Some(range);
        self
    }

    /// The key range asked for, [`KeyRange::All`] when none.
    pub fn key_range(&self) -> &KeyRange {
        self.range.as_ref().unwrap_or(&KeyRange::All)
    }

    /// Sets the page size.
    #[must_use]
    pub fn size(mut self, size: u32) -> Self {
        self.size = Some(size);
        self
    }

    /// The page size, or `default` when none was asked for.
    pub fn size_or(&self, default: u32) -> u32 {
        self.size.unwrap_or(default).max(1)
    }
}

/// One page of results.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Page<T> {
    /// The items.
    pub items: Vec<T>,
    /// The token of the next page; `None` on the last page.
    pub next: Option<PageToken>,
    /// The total the target reported, if any.
    pub total: Option<u64>,
}

impl<T> Page<T> {
    /// A page from its parts.
    pub fn new(items: Vec<T>, next: Option<PageToken>) -> Self {
        Page {
            items,
            next,
            total: None,
        }
    }

    /// Sets the total.
    #[must_use]
    pub fn with_total(mut self, total: Option<u64>) -> Self {
        self.total = total;
        self
    }
}

/// What a stream does with an item whose key it has already yielded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Duplicates {
    /// Drop it, count it in the report and log a warning (the default).
    #[default]
    Skip,
    /// End the stream with an `InvalidInput`-free `Protocol` error naming the item.
    Fail,
    /// Yield everything and keep no keys (constant memory).
    Allow,
}

/// Options for draining a listing.
///
/// Besides the page size, the resume point and the duplicate policy, these set what
/// makes an import an error instead of a success (see "What an import guarantees" in
/// `docs/security.md`):
///
/// - a target that keeps answering pages of items already seen (with ever-new tokens)
///   ends the stream with a `Protocol` error after [`max_stale_pages`](Self::max_stale_pages())
///   such pages in a row (default 3); with [`Duplicates::Allow`] nothing is tracked, so
///   only [`max_pages`](Self::max_pages()) bounds a listing;
/// - a reported total that was not reached is always in [`PagingReport::shortfall`],
///   and an error with [`strict_totals`](Self::strict_totals());
/// - the completeness guard ([`expect_at_least`](Self::expect_at_least()),
///   [`previous_count`](Self::previous_count()) with
///   [`max_drop_percent`](Self::max_drop_percent())) ends a short import with an error.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct PagingOptions {
    /// Page size to ask for.
    pub page_size: Option<u32>,
    /// Token to resume from (a checkpoint of an earlier run).
    pub resume_from: Option<PageToken>,
    /// What to do with repeated items.
    pub duplicates: Duplicates,
    /// How many pages in a row may bring no item not seen before (each non-empty and
    /// announcing a next page) before the stream ends with a `Protocol` error: the
    /// target is repeating itself. Default 3; at least 1. Only counted while items are
    /// tracked (not with [`Duplicates::Allow`]).
    pub max_stale_pages: u32,
    /// The most pages one run may fetch; a listing that still announces a next page
    /// after that many ends with a `Protocol` error. Default `None` (unbounded): the
    /// only bound on a looping target when duplicates are not tracked.
    pub max_pages: Option<u64>,
    /// End the stream with a `Protocol` error when the target reported a total and
    /// fewer items arrived. Default `false`: the shortfall is then only reported
    /// ([`PagingReport::shortfall`]) and logged, because some connectors' totals count
    /// rows they leave out (an OpsRamp tenant's terminated users, say).
    pub strict_totals: bool,
    /// The completeness guard's minimum: fewer items than this and the stream ends
    /// with a `Protocol` error instead of success.
    pub expect_at_least: Option<u64>,
    /// The previous run's item count, for the completeness guard with
    /// [`max_drop_percent`](Self::max_drop_percent()).
    pub previous_count: Option<u64>,
    /// How far below [`previous_count`](Self::previous_count()) a run may fall, in percent
    /// (0–100) of it, before it is an error. `None` with a previous count allows no drop.
    pub max_drop_percent: Option<u8>,
}

impl Default for PagingOptions {
    fn default() -> Self {
        PagingOptions {
            page_size: None,
            resume_from: None,
            duplicates: Duplicates::default(),
            max_stale_pages: DEFAULT_MAX_STALE_PAGES,
            max_pages: None,
            strict_totals: false,
            expect_at_least: None,
            previous_count: None,
            max_drop_percent: None,
        }
    }
}

/// How many pages in a row may bring nothing new, unless set otherwise.
pub const DEFAULT_MAX_STALE_PAGES: u32 = 3;

impl PagingOptions {
    /// Default options.
    pub fn new() -> Self {
        PagingOptions::default()
    }

    /// Sets the page size.
    #[must_use]
    pub fn page_size(mut self, size: u32) -> Self {
        self.page_size = Some(size);
        self
    }

    /// Resumes from a checkpoint.
    #[must_use]
    pub fn resume_from(mut self, token: Option<PageToken>) -> Self {
        self.resume_from = token;
        self
    }

    /// Sets the duplicate policy.
    #[must_use]
    pub fn duplicates(mut self, policy: Duplicates) -> Self {
        self.duplicates = policy;
        self
    }

    /// Sets how many pages in a row may bring nothing new (at least 1).
    #[must_use]
    pub fn max_stale_pages(mut self, pages: u32) -> Self {
        self.max_stale_pages = pages.max(1);
        self
    }

    /// Bounds the pages one run may fetch.
    #[must_use]
    pub fn max_pages(mut self, pages: Option<u64>) -> Self {
        self.max_pages = pages;
        self
    }

    /// Makes a reported total that was not reached an error.
    #[must_use]
    pub fn strict_totals(mut self, strict: bool) -> Self {
        self.strict_totals = strict;
        self
    }

    /// The completeness guard: fewer than `n` items is an error.
    #[must_use]
    pub fn expect_at_least(mut self, n: u64) -> Self {
        self.expect_at_least = Some(n);
        self
    }

    /// The previous run's item count, for the completeness guard (see
    /// [`max_drop_percent`](Self::max_drop_percent())).
    #[must_use]
    pub fn previous_count(mut self, n: u64) -> Self {
        self.previous_count = Some(n);
        self
    }

    /// How far below the previous count a run may fall, in percent (capped at 100).
    #[must_use]
    pub fn max_drop_percent(mut self, percent: u8) -> Self {
        self.max_drop_percent = Some(percent.min(100));
        self
    }

    /// The fewest items the completeness guard accepts, and why, if a guard is set.
    pub(crate) fn minimum(&self) -> Option<(u64, String)> {
        let from_previous = self.previous_count.map(|prev| {
            let pct = self.max_drop_percent.unwrap_or(0).min(100);
            let drop = (u128::from(prev) * u128::from(pct) / 100) as u64;
            (
                prev - drop,
                format!("previous run {prev}, at most {pct}% fewer"),
            )
        });
        let at_least = self
            .expect_at_least
            .map(|n| (n, "expect_at_least".to_owned()));
        match (at_least, from_previous) {
            (Some(a), Some(b)) => Some(if a.0 >= b.0 { a } else { b }),
            (a, b) => a.or(b),
        }
    }
}

/// Why a stream stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StopReason {
    /// The last page had no next token.
    Exhausted,
    /// The last page came back empty (and had no next token).
    EmptyPage,
    /// The target handed back a token already used: following it would loop, and stopping
    /// could leave rows unseen, so the stream ended with a `Protocol` error.
    RepeatedToken,
    /// An error ended the stream.
    Error,
}

/// What happened while draining a listing, readable while the stream runs and after.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PagingReport {
    /// Pages fetched.
    pub pages: u64,
    /// Items yielded.
    pub items: u64,
    /// Items dropped because a page repeated them.
    pub duplicates: u64,
    /// Keys of the first repeated items (at most 20).
    pub duplicate_keys: Vec<String>,
    /// The total the target last reported.
    pub reported_total: Option<u64>,
    /// The highest total the target reported during a run that started at the first
    /// page (`None` when resumed from a checkpoint: this run's items are then only
    /// part of the listing). Compared with [`items`](Self::items) at the end.
    pub expected_total: Option<u64>,
    /// The token of the page whose items are being yielded: resume from here after
    /// a crash (items of that page may be seen again, never lost).
    pub checkpoint: Option<PageToken>,
    /// Why the stream stopped, once it has.
    pub stopped: Option<StopReason>,
}

impl PagingReport {
    /// How many items short of [`expected_total`](Self::expected_total) the run is:
    /// `None` when no total was reported or it was reached. Read it once the stream has
    /// ended; with [`PagingOptions::strict_totals()`] a shortfall is also an error.
    pub fn shortfall(&self) -> Option<u64> {
        self.expected_total
            .filter(|&total| total > self.items)
            .map(|total| total - self.items)
    }
}

/// A stream over every item of a paged listing, with a live [`PagingReport`].
pub struct Paged<'a, T> {
    inner: BoxStream<'a, Result<T>>,
    report: Arc<Mutex<PagingReport>>,
}

impl<T> fmt::Debug for Paged<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Paged")
            .field("report", &self.report())
            .finish_non_exhaustive()
    }
}

impl<T> Paged<'_, T> {
    /// A snapshot of progress so far.
    pub fn report(&self) -> PagingReport {
        self.report
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// A handle that reads the report after the stream has been consumed or moved.
    pub fn report_handle(&self) -> ReportHandle {
        ReportHandle(self.report.clone())
    }
}

/// Reads the report of a [`Paged`] stream from elsewhere.
#[derive(Debug, Clone)]
pub struct ReportHandle(Arc<Mutex<PagingReport>>);

impl ReportHandle {
    /// A snapshot of progress so far.
    pub fn get(&self) -> PagingReport {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl<T> Stream for Paged<'_, T> {
    type Item = Result<T>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.poll_next_unpin(cx)
    }
}

struct State<F> {
    fetch: F,
    next: Option<Option<PageToken>>,
    used: HashSet<Option<PageToken>>,
    seen: Fingerprints,
    page_size: Option<u32>,
    duplicates: Duplicates,
    max_stale_pages: u32,
    max_pages: Option<u64>,
    strict_totals: bool,
    /// The completeness guard's minimum and its reason.
    minimum: Option<(u64, String)>,
    /// Whether the run started at the first page (totals are comparable).
    from_start: bool,
    /// Pages fetched, items yielded and the highest total reported, in this run.
    pages: u64,
    items: u64,
    expected_total: Option<u64>,
    /// Pages in a row that brought no item not seen before.
    stale: u32,
    report: Arc<Mutex<PagingReport>>,
}

impl<F> State<F> {
    fn update(&self, f: impl FnOnce(&mut PagingReport)) {
        f(&mut self.report.lock().unwrap_or_else(PoisonError::into_inner));
    }

    /// Ends the stream with `err`, recording why.
    fn fail(&self, err: Error) -> Error {
        self.update(|r| r.stopped = Some(StopReason::Error));
        err
    }

    /// The checks made once the listing has ended without an error: the reported total
    /// and the completeness guard.
    fn finish(&self) -> Result<()> {
        if let Some(total) = self.expected_total.filter(|&t| t > self.items) {
            tracing::warn!(
                total,
                received = self.items,
                "the listing ended short of the total the target reported"
            );
            if self.strict_totals {
                return Err(self.fail(Error::protocol(
                    "paging",
                    format!(
                        "the target reported a total of {total} item(s) but the listing ended after {} ({} missing)",
                        self.items,
                        total - self.items
                    ),
                )));
            }
        }
        if let Some((minimum, why)) = &self.minimum {
            if self.items < *minimum {
                return Err(self.fail(Error::protocol(
                    "paging",
                    format!(
                        "import incomplete: received {} item(s), expected at least {minimum} ({why})",
                        self.items
                    ),
                )));
            }
        }
        Ok(())
    }
}

/// The keys seen so far, as 128-bit fingerprints: a tenth of the memory of the keys
/// themselves, and a collision among a billion keys has odds below 10^-20.
///
/// The fingerprint is XXH3-128 with a random seed per stream: one pass over the key.
/// (Two SipHash-1-3 passes, 64 bits each, were most of what duplicate tracking cost;
/// see `docs/scale.md`.) XXH3 is not a keyed PRF: a server could in principle craft
/// colliding keys, but a server that wants a row left out can leave it out, and a
/// dropped repeat is counted in the report.
struct Fingerprints {
    seed: u64,
    seen: HashSet<u128, BuildHasherDefault<IdentityHasher>>,
}

impl Default for Fingerprints {
    fn default() -> Self {
        Fingerprints {
            seed: fastrand::u64(..),
            seen: HashSet::default(),
        }
    }
}

impl Fingerprints {
    fn len(&self) -> usize {
        self.seen.len()
    }

    fn reserve(&mut self, additional: usize) {
        self.seen.reserve(additional);
    }

    /// Records `key`; false when it was already there.
    fn insert(&mut self, key: &str) -> bool {
        self.seen.insert(twox_hash::XxHash3_128::oneshot_with_seed(
            self.seed,
            key.as_bytes(),
        ))
    }
}

/// The fingerprints are already uniform hashes: use their low bits as they are.
#[derive(Default)]
struct IdentityHasher(u64);

impl Hasher for IdentityHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }

    fn write_u128(&mut self, v: u128) {
        self.0 = v as u64;
    }
}

/// Drains a paged listing: `fetch` gets each [`PageRequest`] and returns a [`Page`];
/// `key` names an item so repeated items are caught (borrow it from the item where
/// you can: `|a: &Account| Cow::Borrowed(a.id.as_str())`).
///
/// The stream stops after a page without a next token (an empty page with one is
/// followed, and counts as a page that brought nothing new), or when
/// the target hands back a token already used. An error ends it, and so do (as
/// `Protocol` errors) the bounds and guards of [`PagingOptions`]: too many pages in a
/// row that bring nothing new, more pages than `max_pages`, a reported total not
/// reached under `strict_totals`, fewer items than the completeness guard accepts.
pub fn paginate<'a, T, F, Fut, K>(options: PagingOptions, key: K, fetch: F) -> Paged<'a, T>
where
    T: Send + 'a,
    F: FnMut(PageRequest) -> Fut + Send + 'a,
    Fut: Future<Output = Result<Page<T>>> + Send + 'a,
    K: for<'x> Fn(&'x T) -> Cow<'x, str> + Send + Sync + 'a,
{
    let report = Arc::new(Mutex::new(PagingReport::default()));
    let minimum = options.minimum();
    let from_start = options.resume_from.is_none();
    let state = State {
        fetch,
        next: Some(options.resume_from),
        used: HashSet::new(),
        seen: Fingerprints::default(),
        page_size: options.page_size,
        duplicates: options.duplicates,
        max_stale_pages: options.max_stale_pages.max(1),
        max_pages: options.max_pages,
        strict_totals: options.strict_totals,
        minimum,
        from_start,
        pages: 0,
        items: 0,
        expected_total: None,
        stale: 0,
        report: report.clone(),
    };
    let key = Arc::new(key);
    let pages = stream::try_unfold(state, move |mut st| {
        let key = key.clone();
        async move {
            let Some(token) = st.next.take() else {
                st.finish()?;
                return Ok(None);
            };
            if !st.used.insert(token.clone()) {
                // Following the token would loop; stopping here would end a listing that
                // may not have shown every row as if it were complete. Neither is safe.
                tracing::warn!(token = ?token, "paging failed: the target repeated a page token");
                st.update(|r| r.stopped = Some(StopReason::RepeatedToken));
                return Err(Error::protocol(
                    "paging",
                    format!(
                        "the target handed back a page token it gave before (`{}`) after {} page(s): a listing that loops cannot be known complete",
                        token.as_ref().map_or("", PageToken::as_str),
                        st.pages
                    ),
                ));
            }
            if let Some(max) = st.max_pages.filter(|&max| st.pages >= max) {
                return Err(st.fail(Error::protocol(
                    "paging",
                    format!(
                        "the listing still announces a next page (token `{}`) after {max} page(s), the most allowed (max_pages)",
                        token.as_ref().map_or("", PageToken::as_str)
                    ),
                )));
            }
            let request = PageRequest {
                token: token.clone(),
                size: st.page_size,
                range: None,
            };
            let page = match (st.fetch)(request).await {
                Ok(page) => page,
                Err(e) => {
                    st.update(|r| r.stopped = Some(StopReason::Error));
                    return Err(e);
                }
            };
            let fetched = page.items.len();
            if st.duplicates != Duplicates::Allow {
                // Size the key set once from the reported total instead of rehashing
                // it as it grows (capped, in case a target reports nonsense).
                let expected = page.total.map_or(fetched, |t| t.min(10_000_000) as usize);
                st.seen.reserve(expected.saturating_sub(st.seen.len()));
            }
            let mut items = page.items;
            let mut dup_keys = Vec::new();
            if st.duplicates != Duplicates::Allow {
                // The page is kept as it came (no copy of its items) unless it repeats
                // one; only then is a mask of the new ones built and applied.
                let mut repeated: Option<Vec<bool>> = None;
                for (i, item) in items.iter().enumerate() {
                    let k = key(item);
                    if !st.seen.insert(&k) {
                        repeated.get_or_insert_with(|| vec![false; fetched])[i] = true;
                        dup_keys.push(k.into_owned());
                    }
                }
                if let Some(repeated) = repeated {
                    let mut flags = repeated.into_iter();
                    items.retain(|_| !flags.next().unwrap_or(false));
                }
            }
            if !dup_keys.is_empty() {
                tracing::warn!(count = dup_keys.len(), first = %dup_keys[0], "a page repeated items already seen");
                if st.duplicates == Duplicates::Fail {
                    st.update(|r| r.stopped = Some(StopReason::Error));
                    return Err(Error::protocol(
                        "paging",
                        format!(
                            "page repeated {} item(s) already seen, first `{}`",
                            dup_keys.len(),
                            dup_keys[0]
                        ),
                    ));
                }
            }
            // An empty page that announces a next one is followed, not taken for the end
            // (a target that filters rows out of a page, ServiceNow's ACLs say, answers
            // them); it counts as a page that brought nothing new, so a target that only
            // answers empty pages ends in an error after `max_stale_pages`.
            let stop = match (fetched, page.next.is_none()) {
                (0, true) => Some(StopReason::EmptyPage),
                (_, true) => Some(StopReason::Exhausted),
                _ => None,
            };
            st.pages += 1;
            st.items += items.len() as u64;
            if st.from_start {
                st.expected_total = st.expected_total.max(page.total);
            }
            if !items.is_empty() || st.duplicates == Duplicates::Allow {
                st.stale = 0;
            } else if stop.is_none() {
                // A page of items already seen (or of none) that says there is more: the
                // target is repeating itself, whatever its tokens say.
                st.stale += 1;
                if st.stale >= st.max_stale_pages {
                    st.update(|r| {
                        r.pages += 1;
                        r.duplicates += dup_keys.len() as u64;
                    });
                    return Err(st.fail(Error::protocol(
                        "paging",
                        format!(
                            "the target is repeating pages: {} page(s) in a row brought no new item (page {}, token `{}`, next `{}`)",
                            st.stale,
                            st.pages,
                            token.as_ref().map_or("", PageToken::as_str),
                            page.next.as_ref().map_or("", PageToken::as_str)
                        ),
                    )));
                }
            }
            let expected_total = st.expected_total;
            st.update(|r| {
                r.pages += 1;
                r.items += items.len() as u64;
                r.duplicates += dup_keys.len() as u64;
                let room = 20usize.saturating_sub(r.duplicate_keys.len());
                r.duplicate_keys.extend(dup_keys.into_iter().take(room));
                if page.total.is_some() {
                    r.reported_total = page.total;
                }
                r.expected_total = expected_total;
                r.checkpoint = token;
                r.stopped = stop;
            });
            st.next = if stop.is_some() {
                None
            } else {
                Some(page.next)
            };
            Ok(Some((items, st)))
        }
    });
    let inner = pages
        .map_ok(|items| stream::iter(items.into_iter().map(Ok)))
        .try_flatten()
        .boxed();
    Paged { inner, report }
}

/// Every account of a provisioner, page by page.
pub fn accounts<'a>(p: &'a dyn Provisioner, options: PagingOptions) -> Paged<'a, Account> {
    paginate(
        options,
        |a: &Account| Cow::Borrowed(a.id.as_str()),
        move |req| p.list_accounts(req),
    )
}

/// Every entitlement of a type, page by page.
pub fn entitlements<'a>(
    p: &'a dyn Provisioner,
    ty: &'a EntitlementType,
    options: PagingOptions,
) -> Paged<'a, Entitlement> {
    paginate(
        options,
        |e: &Entitlement| Cow::Borrowed(e.reference.id.as_str()),
        move |req| p.list_entitlements(ty, req),
    )
}

/// Every grant of a type, page by page.
pub fn grants<'a>(
    p: &'a dyn Provisioner,
    ty: &'a EntitlementType,
    options: PagingOptions,
) -> Paged<'a, Grant> {
    paginate(
        options,
        |g: &Grant| Cow::Owned(format!("{}\u{1f}{}", g.account, g.entitlement.id)),
        move |req| p.list_grants(ty, req),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numbers_page(req: &PageRequest, total: u32) -> Page<u32> {
        let start: u32 = req
            .token
            .as_ref()
            .map_or(0, |t| t.as_str().parse().unwrap());
        let size = req.size_or(10);
        let end = (start + size).min(total);
        let next = (end < total).then(|| PageToken::new(end.to_string()));
        Page::new((start..end).collect(), next)
    }

    #[tokio::test]
    async fn drains_every_page_once() {
        let calls = Arc::new(Mutex::new(Vec::new()));
        let c = calls.clone();
        let s = paginate(
            PagingOptions::new().page_size(7),
            |n: &u32| Cow::Owned(n.to_string()),
            move |req| {
                c.lock().unwrap().push(req.token.clone());
                let page = numbers_page(&req, 30);
                async move { Ok(page) }
            },
        );
        let handle = s.report_handle();
        let all: Vec<u32> = s.try_collect().await.unwrap();
        assert_eq!(all, (0..30).collect::<Vec<_>>());
        assert_eq!(calls.lock().unwrap().len(), 5);
        let r = handle.get();
        assert_eq!((r.pages, r.items, r.duplicates), (5, 30, 0));
        assert_eq!(r.stopped, Some(StopReason::Exhausted));
        assert_eq!(r.checkpoint, Some(PageToken::new("28")));
    }

    #[tokio::test]
    async fn an_empty_page_with_a_next_token_is_followed() {
        let s = paginate(
            PagingOptions::new(),
            |n: &u32| Cow::Owned(n.to_string()),
            |req| {
                let page = match req.token.as_ref().map(PageToken::as_str) {
                    None => Page::new(vec![1, 2], Some(PageToken::new("a"))),
                    Some("a") => Page::new(vec![], Some(PageToken::new("b"))),
                    _ => Page::new(vec![3], None),
                };
                async move { Ok(page) }
            },
        );
        let h = s.report_handle();
        let all: Vec<u32> = s.try_collect().await.unwrap();
        // Stopping at the empty page would have been a short success without 3.
        assert_eq!(all, vec![1, 2, 3]);
        assert_eq!(h.get().stopped, Some(StopReason::Exhausted));
        assert_eq!(h.get().pages, 3);
    }

    #[tokio::test]
    async fn only_empty_pages_announcing_more_end_in_an_error() {
        let s = paginate(
            PagingOptions::new(),
            |n: &u32| Cow::Owned(n.to_string()),
            |req| {
                let n: u32 = req
                    .token
                    .as_ref()
                    .map_or(0, |t| t.as_str().parse().unwrap());
                let items = if n == 0 { vec![1] } else { vec![] };
                async move { Ok(Page::new(items, Some(PageToken::new((n + 1).to_string())))) }
            },
        );
        let h = s.report_handle();
        let err = s.try_collect::<Vec<u32>>().await.unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::Protocol, "{err}");
        assert!(err.to_string().contains("brought no new item"), "{err}");
        // The first page, then DEFAULT_MAX_STALE_PAGES empty ones.
        assert_eq!(h.get().pages, 1 + u64::from(DEFAULT_MAX_STALE_PAGES));
    }

    #[tokio::test]
    async fn an_empty_last_page_ends_the_listing() {
        let s = paginate(
            PagingOptions::new(),
            |n: &u32| Cow::Owned(n.to_string()),
            |req| {
                let page = if req.token.is_none() {
                    Page::new(vec![1, 2], Some(PageToken::new("a")))
                } else {
                    Page::new(vec![], None)
                };
                async move { Ok(page) }
            },
        );
        let h = s.report_handle();
        let all: Vec<u32> = s.try_collect().await.unwrap();
        assert_eq!(all, vec![1, 2]);
        assert_eq!(h.get().stopped, Some(StopReason::EmptyPage));
    }

    #[tokio::test]
    async fn a_repeated_token_is_an_error_not_a_loop_or_a_short_success() {
        let fetches = Arc::new(Mutex::new(0));
        let f = fetches.clone();
        let s = paginate(
            PagingOptions::new(),
            |n: &u32| Cow::Owned(n.to_string()),
            move |req| {
                *f.lock().unwrap() += 1;
                // "a" → "b" → "a": a loop.
                let page = match req.token.as_ref().map(PageToken::as_str) {
                    None => Page::new(vec![1], Some(PageToken::new("a"))),
                    Some("a") => Page::new(vec![2], Some(PageToken::new("b"))),
                    _ => Page::new(vec![3], Some(PageToken::new("a"))),
                };
                async move { Ok(page) }
            },
        );
        let h = s.report_handle();
        let mut s = std::pin::pin!(s);
        let mut all = Vec::new();
        let e = loop {
            match s.try_next().await {
                Ok(Some(n)) => all.push(n),
                Ok(None) => panic!("a looping listing must not end as a success"),
                Err(e) => break e,
            }
        };
        assert_eq!(all, vec![1, 2, 3]);
        assert_eq!(e.kind(), crate::ErrorKind::Protocol);
        assert!(
            e.to_string().contains("page token it gave before (`a`)"),
            "{e}"
        );
        assert_eq!(
            *fetches.lock().unwrap(),
            3,
            "the repeated token is not fetched again"
        );
        assert_eq!(h.get().stopped, Some(StopReason::RepeatedToken));
    }

    #[tokio::test]
    async fn reports_repeated_items() {
        let s = paginate(
            PagingOptions::new(),
            |n: &u32| Cow::Owned(n.to_string()),
            |req| {
                let page = match req.token {
                    None => Page::new(vec![1, 2, 3], Some(PageToken::new("x"))),
                    Some(_) => Page::new(vec![3, 4], None),
                };
                async move { Ok(page) }
            },
        );
        let h = s.report_handle();
        let all: Vec<u32> = s.try_collect().await.unwrap();
        assert_eq!(all, vec![1, 2, 3, 4]);
        let r = h.get();
        assert_eq!(r.duplicates, 1);
        assert_eq!(r.duplicate_keys, vec!["3".to_owned()]);
    }

    #[tokio::test]
    async fn fail_policy_ends_with_error_naming_the_item() {
        let s = paginate(
            PagingOptions::new().duplicates(Duplicates::Fail),
            |n: &u32| Cow::Owned(format!("user-{n}")),
            |req| {
                let page = match req.token {
                    None => Page::new(vec![1, 2], Some(PageToken::new("x"))),
                    Some(_) => Page::new(vec![2], None),
                };
                async move { Ok(page) }
            },
        );
        let err = s.try_collect::<Vec<_>>().await.unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::Protocol);
        assert!(err.to_string().contains("user-2"), "{err}");
    }

    #[tokio::test]
    async fn resumes_from_checkpoint_and_error_ends_the_stream() {
        let s = paginate(
            PagingOptions::new()
                .resume_from(Some(PageToken::new("20")))
                .page_size(10),
            |n: &u32| Cow::Owned(n.to_string()),
            |req| {
                let page = numbers_page(&req, 35);
                async move { Ok(page) }
            },
        );
        let all: Vec<u32> = s.try_collect().await.unwrap();
        assert_eq!(all, (20..35).collect::<Vec<_>>());

        let s = paginate(
            PagingOptions::new(),
            |n: &u32| Cow::Owned(n.to_string()),
            |req| {
                let r = if req.token.is_none() {
                    Ok(Page::new(vec![1], Some(PageToken::new("next"))))
                } else {
                    Err(Error::other("boom"))
                };
                async move { r }
            },
        );
        let h = s.report_handle();
        let results: Vec<Result<u32>> = s.collect().await;
        assert_eq!(results.len(), 2);
        assert!(results[1].is_err());
        assert_eq!(h.get().stopped, Some(StopReason::Error));
        assert_eq!(
            h.get().checkpoint,
            None,
            "the first page is the one to redo"
        );
    }

    /// Item 8: a target answering the same items with ever-new tokens (OpsRamp's page 1
    /// with `nextPage: true`, OpsGenie's repeated `paging.next`).
    fn looping(
        calls: &Arc<Mutex<u32>>,
    ) -> impl FnMut(PageRequest) -> std::future::Ready<Result<Page<u32>>> + Send + 'static {
        let calls = calls.clone();
        move |_req| {
            let mut n = calls.lock().unwrap();
            *n += 1;
            if *n > 100 {
                // The test's own bound, so that a missing one fails instead of hanging.
                return std::future::ready(Err(Error::other("test bound: 100 calls")));
            }
            let next = PageToken::new(format!("page-{}", *n + 1));
            std::future::ready(Ok(Page::new(vec![1, 2, 3], Some(next))))
        }
    }

    #[tokio::test]
    async fn repeated_page_with_new_tokens_ends_in_error_after_bounded_calls() {
        let calls = Arc::new(Mutex::new(0));
        let s = paginate(
            PagingOptions::new(),
            |n: &u32| Cow::Owned(n.to_string()),
            looping(&calls),
        );
        let h = s.report_handle();
        let results: Vec<Result<u32>> = s.take(1000).collect().await;
        // The first page's items, then one error, then the end.
        assert_eq!(results.len(), 4, "{results:?}");
        let err = results[3].as_ref().unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::Protocol);
        let msg = err.to_string();
        assert!(msg.contains("repeating pages"), "{msg}");
        assert!(msg.contains("page 4") && msg.contains("`page-4`"), "{msg}");
        // One page of items, then DEFAULT_MAX_STALE_PAGES pages of nothing new.
        assert_eq!(*calls.lock().unwrap(), 1 + DEFAULT_MAX_STALE_PAGES);
        let r = h.get();
        assert_eq!(r.stopped, Some(StopReason::Error));
        assert_eq!((r.pages, r.items, r.duplicates), (4, 3, 9));
    }

    #[tokio::test]
    async fn stale_page_bound_is_configurable_and_new_items_reset_it() {
        let calls = Arc::new(Mutex::new(0));
        let s = paginate(
            PagingOptions::new().max_stale_pages(1),
            |n: &u32| Cow::Owned(n.to_string()),
            looping(&calls),
        );
        // Bounded here so that a missing bound fails the test instead of hanging it.
        let results: Vec<Result<u32>> = s.take(100).collect().await;
        assert_eq!(results.len(), 4, "three items, then the error");
        assert_eq!(
            results[3].as_ref().unwrap_err().kind(),
            crate::ErrorKind::Protocol
        );
        assert_eq!(*calls.lock().unwrap(), 2);

        // Two stale pages, then one new item, then two stale pages: progress resets the
        // count, so a bound of three is never reached.
        let s = paginate(
            PagingOptions::new(),
            |n: &u32| Cow::Owned(n.to_string()),
            |req| {
                let at: u32 = req
                    .token
                    .as_ref()
                    .map_or(0, |t| t.as_str().parse().unwrap());
                let items = if at == 3 { vec![1, 9] } else { vec![1] };
                let next = (at < 5).then(|| PageToken::new((at + 1).to_string()));
                async move { Ok(Page::new(items, next)) }
            },
        );
        let all: Vec<u32> = s.try_collect().await.unwrap();
        assert_eq!(all, vec![1, 9]);
    }

    #[tokio::test]
    async fn without_duplicate_tracking_max_pages_bounds_a_looping_target() {
        let calls = Arc::new(Mutex::new(0));
        let s = paginate(
            PagingOptions::new()
                .duplicates(Duplicates::Allow)
                .max_pages(Some(5)),
            |n: &u32| Cow::Owned(n.to_string()),
            looping(&calls),
        );
        let results: Vec<Result<u32>> = s.take(1000).collect().await;
        assert_eq!(results.len(), 16, "five pages of three, then the error");
        let err = results[15].as_ref().unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::Protocol);
        assert!(err.to_string().contains("after 5 page(s)"), "{err}");
        assert!(err.to_string().contains("`page-6`"), "{err}");
        assert_eq!(*calls.lock().unwrap(), 5);

        // A listing of exactly `max_pages` pages is fine.
        let s = paginate(
            PagingOptions::new().page_size(10).max_pages(Some(3)),
            |n: &u32| Cow::Owned(n.to_string()),
            |req| {
                let page = numbers_page(&req, 30);
                async move { Ok(page) }
            },
        );
        assert_eq!(s.try_collect::<Vec<_>>().await.unwrap().len(), 30);
    }

    /// Item 10: a page saying total 10 with 2 rows and no next.
    fn short_listing(_req: PageRequest) -> std::future::Ready<Result<Page<u32>>> {
        std::future::ready(Ok(Page::new(vec![1, 2], None).with_total(Some(10))))
    }

    #[tokio::test]
    async fn a_reported_total_not_reached_is_a_shortfall_in_the_report() {
        let s = paginate(
            PagingOptions::new(),
            |n: &u32| Cow::Owned(n.to_string()),
            short_listing,
        );
        let h = s.report_handle();
        let all: Vec<u32> = s.try_collect().await.unwrap();
        assert_eq!(all, vec![1, 2]);
        let r = h.get();
        assert_eq!(r.stopped, Some(StopReason::Exhausted));
        assert_eq!(r.expected_total, Some(10));
        assert_eq!(r.shortfall(), Some(8));

        // The highest total of the run counts; a reached total is no shortfall.
        let s = paginate(
            PagingOptions::new().page_size(10).strict_totals(true),
            |n: &u32| Cow::Owned(n.to_string()),
            |req| {
                let page = numbers_page(&req, 25);
                let total = if req.token.is_none() { 25 } else { 3 };
                async move { Ok(page.with_total(Some(total))) }
            },
        );
        let h = s.report_handle();
        assert_eq!(s.try_collect::<Vec<_>>().await.unwrap().len(), 25);
        assert_eq!(
            (h.get().expected_total, h.get().shortfall()),
            (Some(25), None)
        );
    }

    #[tokio::test]
    async fn strict_totals_make_a_shortfall_an_error_naming_both_numbers() {
        let s = paginate(
            PagingOptions::new().strict_totals(true),
            |n: &u32| Cow::Owned(n.to_string()),
            short_listing,
        );
        let h = s.report_handle();
        let results: Vec<Result<u32>> = s.collect().await;
        assert_eq!(results.len(), 3, "{results:?}");
        let err = results[2].as_ref().unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::Protocol);
        let msg = err.to_string();
        assert!(
            msg.contains("total of 10") && msg.contains("after 2"),
            "{msg}"
        );
        assert_eq!(h.get().stopped, Some(StopReason::Error));
        assert_eq!(h.get().shortfall(), Some(8));
    }

    #[tokio::test]
    async fn a_resumed_run_has_no_total_to_compare() {
        let s = paginate(
            PagingOptions::new()
                .strict_totals(true)
                .resume_from(Some(PageToken::new("x"))),
            |n: &u32| Cow::Owned(n.to_string()),
            short_listing,
        );
        let h = s.report_handle();
        assert_eq!(s.try_collect::<Vec<_>>().await.unwrap(), vec![1, 2]);
        assert_eq!(h.get().reported_total, Some(10));
        assert_eq!((h.get().expected_total, h.get().shortfall()), (None, None));
    }

    /// Item 12: the completeness guard.
    fn ten_items() -> impl FnMut(PageRequest) -> std::future::Ready<Result<Page<u32>>> + Send {
        |req| std::future::ready(Ok(numbers_page(&req, 10)))
    }

    #[tokio::test]
    async fn completeness_guard_expect_at_least_ends_a_short_import_in_error() {
        let s = paginate(
            PagingOptions::new().page_size(4).expect_at_least(11),
            |n: &u32| Cow::Owned(n.to_string()),
            ten_items(),
        );
        let h = s.report_handle();
        let results: Vec<Result<u32>> = s.collect().await;
        assert_eq!(results.len(), 11);
        let err = results[10].as_ref().unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::Protocol);
        let msg = err.to_string();
        assert!(
            msg.contains("received 10") && msg.contains("at least 11"),
            "{msg}"
        );
        assert_eq!(h.get().stopped, Some(StopReason::Error));

        let s = paginate(
            PagingOptions::new().page_size(4).expect_at_least(10),
            |n: &u32| Cow::Owned(n.to_string()),
            ten_items(),
        );
        assert_eq!(s.try_collect::<Vec<_>>().await.unwrap().len(), 10);
    }

    #[tokio::test]
    async fn completeness_guard_previous_count_and_drop_percent() {
        let run = |options: PagingOptions| async move {
            paginate(options, |n: &u32| Cow::Owned(n.to_string()), ten_items())
                .try_collect::<Vec<_>>()
                .await
        };
        // 100 last time, 10 now: a 90% drop.
        let err = run(PagingOptions::new()
            .previous_count(100)
            .max_drop_percent(50))
        .await
        .unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::Protocol);
        let msg = err.to_string();
        assert!(
            msg.contains("received 10") && msg.contains("at least 50"),
            "{msg}"
        );
        assert!(msg.contains("previous run 100"), "{msg}");
        // 12 last time, at most 20% fewer: 10 is enough (12 - 2).
        run(PagingOptions::new().previous_count(12).max_drop_percent(20))
            .await
            .unwrap();
        // Without a percentage, no drop is allowed.
        run(PagingOptions::new().previous_count(11))
            .await
            .unwrap_err();
        run(PagingOptions::new().previous_count(10)).await.unwrap();
        // An empty listing is an error when the guard expects anything at all.
        let err = paginate(
            PagingOptions::new().expect_at_least(1),
            |n: &u32| Cow::Owned(n.to_string()),
            |_req| async { Ok(Page::new(Vec::new(), None)) },
        )
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
        assert!(err.to_string().contains("received 0"), "{err}");
    }
}
