//! Paging: an opaque, resumable page token, one page of results, and streams over
//! all pages that stop on an empty page or a repeated token and report items a
//! page repeats.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;
use std::future::Future;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher, RandomState};
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use futures::stream::{self, BoxStream, Stream, StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};

use crate::connector::Provisioner;
use crate::error::{Error, Result};
use crate::identity::{Account, Entitlement, EntitlementType, Grant};

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
}

impl PageRequest {
    /// The first page, with the connector's default size.
    pub fn first() -> Self {
        PageRequest::default()
    }

    /// The page at `token`.
    pub fn at(token: Option<PageToken>) -> Self {
        PageRequest { token, size: None }
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
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct PagingOptions {
    /// Page size to ask for.
    pub page_size: Option<u32>,
    /// Token to resume from (a checkpoint of an earlier run).
    pub resume_from: Option<PageToken>,
    /// What to do with repeated items.
    pub duplicates: Duplicates,
}

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
}

/// Why a stream stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StopReason {
    /// The last page had no next token.
    Exhausted,
    /// A page came back empty.
    EmptyPage,
    /// The target handed back a token already used: following it would loop.
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
    /// The token of the page whose items are being yielded: resume from here after
    /// a crash (items of that page may be seen again, never lost).
    pub checkpoint: Option<PageToken>,
    /// Why the stream stopped, once it has.
    pub stopped: Option<StopReason>,
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
    report: Arc<Mutex<PagingReport>>,
}

impl<F> State<F> {
    fn update(&self, f: impl FnOnce(&mut PagingReport)) {
        f(&mut self.report.lock().unwrap_or_else(PoisonError::into_inner));
    }
}

/// The keys seen so far, as 128-bit fingerprints: a tenth of the memory of the keys
/// themselves, and a collision among a billion keys has odds below 10^-20.
struct Fingerprints {
    hashers: (RandomState, RandomState),
    seen: HashSet<u128, BuildHasherDefault<IdentityHasher>>,
}

impl Default for Fingerprints {
    fn default() -> Self {
        Fingerprints {
            hashers: (RandomState::new(), RandomState::new()),
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
        let a = self.hashers.0.hash_one(key);
        let b = self.hashers.1.hash_one(key);
        self.seen.insert((u128::from(a) << 64) | u128::from(b))
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
/// The stream stops after a page without a next token, on an empty page, or when
/// the target hands back a token already used. An error ends it.
pub fn paginate<'a, T, F, Fut, K>(options: PagingOptions, key: K, fetch: F) -> Paged<'a, T>
where
    T: Send + 'a,
    F: FnMut(PageRequest) -> Fut + Send + 'a,
    Fut: Future<Output = Result<Page<T>>> + Send + 'a,
    K: for<'x> Fn(&'x T) -> Cow<'x, str> + Send + Sync + 'a,
{
    let report = Arc::new(Mutex::new(PagingReport::default()));
    let state = State {
        fetch,
        next: Some(options.resume_from),
        used: HashSet::new(),
        seen: Fingerprints::default(),
        page_size: options.page_size,
        duplicates: options.duplicates,
        report: report.clone(),
    };
    let key = Arc::new(key);
    let pages = stream::try_unfold(state, move |mut st| {
        let key = key.clone();
        async move {
            let Some(token) = st.next.take() else {
                return Ok(None);
            };
            if !st.used.insert(token.clone()) {
                tracing::warn!(token = ?token, "paging stopped: the target repeated a page token");
                st.update(|r| r.stopped = Some(StopReason::RepeatedToken));
                return Ok(None);
            }
            let request = PageRequest {
                token: token.clone(),
                size: st.page_size,
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
            let mut items = Vec::with_capacity(fetched);
            let mut dup_keys = Vec::new();
            for item in page.items {
                if st.duplicates == Duplicates::Allow {
                    items.push(item);
                    continue;
                }
                let k = key(&item);
                if st.seen.insert(&k) {
                    items.push(item);
                } else {
                    dup_keys.push(k.into_owned());
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
            let stop = if fetched == 0 {
                Some(StopReason::EmptyPage)
            } else if page.next.is_none() {
                Some(StopReason::Exhausted)
            } else {
                None
            };
            st.update(|r| {
                r.pages += 1;
                r.items += items.len() as u64;
                r.duplicates += dup_keys.len() as u64;
                let room = 20usize.saturating_sub(r.duplicate_keys.len());
                r.duplicate_keys.extend(dup_keys.into_iter().take(room));
                if page.total.is_some() {
                    r.reported_total = page.total;
                }
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
    async fn stops_on_empty_page_even_with_a_next_token() {
        let s = paginate(
            PagingOptions::new(),
            |n: &u32| Cow::Owned(n.to_string()),
            |req| {
                let page = if req.token.is_none() {
                    Page::new(vec![1, 2], Some(PageToken::new("a")))
                } else {
                    Page::new(vec![], Some(PageToken::new("b")))
                };
                async move { Ok(page) }
            },
        );
        let h = s.report_handle();
        let all: Vec<u32> = s.try_collect().await.unwrap();
        assert_eq!(all, vec![1, 2]);
        assert_eq!(h.get().stopped, Some(StopReason::EmptyPage));
        assert_eq!(h.get().pages, 2);
    }

    #[tokio::test]
    async fn stops_on_repeated_token() {
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
        let all: Vec<u32> = s.try_collect().await.unwrap();
        assert_eq!(all, vec![1, 2, 3]);
        assert_eq!(*fetches.lock().unwrap(), 3);
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
}
