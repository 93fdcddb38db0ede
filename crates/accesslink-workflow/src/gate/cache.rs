//! The decision cache: allows reused for a short time, concurrent reads shared.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};

use accesslink_core::{TicketRef, TicketingSystem};
use tokio::sync::OnceCell;
use tokio::time::Instant;

use super::evaluate::{Read, to_read};
use super::text::normalise_group;
use super::{AccessAttempt, Reason, Verdict};

/// Reuses the gate's ALLOW verdicts for a short time, for PAM session storms.
///
/// - **Only allows from a validated ticket are stored**: a verdict with
///   [`Reason::TicketValid`] and neither [`Reason::BreakGlass`] nor
///   [`Reason::FailedOpen`]. A DENY is never stored, so it can never come back as
///   an ALLOW, and every denied attempt asks the ticketing system again.
/// - **Same attempt only**: the key is everything the verdict depends on except
///   the time — principal (login, email, id, user groups), resource group
///   (normalised), resource, operation and ticket id as typed (trimmed).
/// - **Short and bounded**: an entry lives at most `ttl` (tokio's clock), never
///   past the ticket's window (its creation time plus the smallest `max_age` of the
///   policies that read it, compared with the attempt's time), and the cache
///   holds at most `max_entries` (expired entries are dropped first, then the
///   entry closest to expiry, the oldest among equals).
/// - **Shared reads**: checks that need the same ticket at the same time share
///   one `get_ticket` call (each still applies its own policies); the result is
///   not kept once the read is over.
///
/// A hit is audited like any decision, with `"cached": true` in the detail.
#[derive(Debug)]
pub struct DecisionCache {
    ttl: Duration,
    max_entries: usize,
    entries: Mutex<HashMap<String, Entry>>,
    inflight: Mutex<HashMap<TicketRef, Arc<OnceCell<Read>>>>,
    hits: AtomicU64,
    seq: AtomicU64,
}

#[derive(Debug)]
struct Entry {
    seq: u64,
    verdict: Verdict,
    expires: Instant,
    window_end: Option<SystemTime>,
}

impl DecisionCache {
    /// The default time an allow is reused: 30 seconds.
    pub const DEFAULT_TTL: Duration = Duration::from_secs(30);
    /// The default bound on entries: 10,000.
    pub const DEFAULT_MAX_ENTRIES: usize = 10_000;

    /// A cache keeping allows for `ttl`, at most `max_entries` of them (at least one).
    pub fn new(ttl: Duration, max_entries: usize) -> Self {
        DecisionCache {
            ttl,
            max_entries: max_entries.max(1),
            entries: Mutex::default(),
            inflight: Mutex::default(),
            hits: AtomicU64::new(0),
            seq: AtomicU64::new(0),
        }
    }

    /// How many checks were answered from the cache.
    pub fn hits(&self) -> u64 {
        self.hits.load(Ordering::Relaxed)
    }

    /// How many allows the cache holds (expired ones included until evicted).
    pub fn len(&self) -> usize {
        lock(&self.entries).len()
    }

    /// Whether the cache holds nothing.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Forgets every stored allow (after a policy change, for instance).
    pub fn clear(&self) {
        lock(&self.entries).clear();
    }

    pub(super) fn get(&self, a: &AccessAttempt) -> Option<Verdict> {
        let key = key(a)?;
        let mut entries = lock(&self.entries);
        let entry = entries.get(&key)?;
        let live = Instant::now() < entry.expires && entry.window_end.is_none_or(|end| a.at <= end);
        if !live {
            entries.remove(&key);
            return None;
        }
        self.hits.fetch_add(1, Ordering::Relaxed);
        Some(entry.verdict.clone())
    }

    pub(super) fn offer(&self, a: &AccessAttempt, v: &Verdict, window_end: Option<SystemTime>) {
        let cacheable = v.allow
            && v.ticket.is_some()
            && v.reasons.contains(&Reason::TicketValid)
            && !v
                .reasons
                .iter()
                .any(|r| matches!(r, Reason::BreakGlass { .. } | Reason::FailedOpen));
        let Some(key) = key(a).filter(|_| cacheable) else {
            return;
        };
        if window_end.is_some_and(|end| a.at > end) {
            return;
        }
        let now = Instant::now();
        let mut entries = lock(&self.entries);
        if entries.len() >= self.max_entries && !entries.contains_key(&key) {
            entries.retain(|_, e| e.expires > now);
            if entries.len() >= self.max_entries {
                let first = entries
                    .iter()
                    .min_by_key(|(_, e)| (e.expires, e.seq))
                    .map(|(k, _)| k.clone());
                if let Some(first) = first {
                    entries.remove(&first);
                }
            }
        }
        entries.insert(
            key,
            Entry {
                seq: self.seq.fetch_add(1, Ordering::Relaxed),
                verdict: v.clone(),
                expires: now + self.ttl,
                window_end,
            },
        );
    }

    /// One `get_ticket` for every check that needs `r` while it is under way.
    pub(super) async fn shared_read(&self, t: &dyn TicketingSystem, r: &TicketRef) -> Read {
        let cell = lock(&self.inflight)
            .entry(r.clone())
            .or_insert_with(|| Arc::new(OnceCell::new()))
            .clone();
        let read = cell
            .get_or_init(|| async { to_read(t.get_ticket(r).await) })
            .await
            .clone();
        let mut inflight = lock(&self.inflight);
        if inflight.get(r).is_some_and(|c| Arc::ptr_eq(c, &cell)) {
            inflight.remove(r);
        }
        read
    }
}

impl Default for DecisionCache {
    fn default() -> Self {
        DecisionCache::new(Self::DEFAULT_TTL, Self::DEFAULT_MAX_ENTRIES)
    }
}

/// The cache key, or `None` for an attempt without a ticket id (nothing to reuse).
fn key(a: &AccessAttempt) -> Option<String> {
    let ticket = a
        .ticket_id
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())?;
    let p = &a.principal;
    let mut groups: Vec<String> = p.groups.iter().map(|g| normalise_group(g)).collect();
    groups.sort();
    groups.dedup();
    // JSON keeps the parts apart whatever characters they hold.
    Some(
        serde_json::json!([
            p.login.trim().to_lowercase(),
            p.email.as_deref().map(|e| e.trim().to_lowercase()),
            p.id.as_deref().map(str::trim),
            groups,
            a.resource_group.as_deref().map(normalise_group),
            a.resource.trim(),
            a.operation.trim().to_lowercase(),
            ticket,
        ])
        .to_string(),
    )
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}
