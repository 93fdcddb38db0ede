//! Per-route request counting for stateful mocks.
//!
//! Every mock records each request it sees in a [`RouteCounter`]; tests then assert how many
//! times a route was hit ("drained all pages exactly once", "fetched one token, not one per
//! page") without walking `received_requests()` by hand.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// Counts requests per `(method, path)`.
///
/// Cheap to clone: clones share the same counts, so a mock can hold one and hand another to
/// the test.
#[derive(Debug, Clone, Default)]
pub struct RouteCounter {
    inner: Arc<Mutex<BTreeMap<(String, String), usize>>>,
}

impl RouteCounter {
    /// Creates an empty counter.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records one request. The method is compared case-insensitively (stored upper-case);
    /// the path is taken as given, without its query string.
    pub fn record(&self, method: &str, path: &str) {
        *self.lock().entry(key(method, path)).or_insert(0) += 1;
    }

    /// Records one request received by a wiremock server (method and URL path).
    pub(crate) fn record_request(&self, request: &wiremock::Request) {
        self.record(request.method.as_str(), request.url.path());
    }

    /// How many requests were recorded for this method and path.
    pub fn count(&self, method: &str, path: &str) -> usize {
        self.lock().get(&key(method, path)).copied().unwrap_or(0)
    }

    /// How many requests were recorded for this path, whatever their method.
    pub fn count_path(&self, path: &str) -> usize {
        self.lock()
            .iter()
            .filter(|((_, p), _)| p == path)
            .map(|(_, n)| n)
            .sum()
    }

    /// How many requests were recorded in all.
    pub fn total(&self) -> usize {
        self.lock().values().sum()
    }

    /// A copy of the counts keyed `"METHOD /path"`, sorted.
    pub fn snapshot(&self) -> BTreeMap<String, usize> {
        self.lock()
            .iter()
            .map(|((m, p), n)| (format!("{m} {p}"), *n))
            .collect()
    }

    /// Forgets every count.
    pub fn reset(&self) {
        self.lock().clear();
    }

    fn lock(&self) -> MutexGuard<'_, BTreeMap<(String, String), usize>> {
        // A test that panicked while holding the lock must not hide the counts from the
        // assertion that reports it.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn key(method: &str, path: &str) -> (String, String) {
    (method.to_ascii_uppercase(), path.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_per_route_and_per_path() {
        let counter = RouteCounter::new();
        counter.record("GET", "/items");
        counter.record("get", "/items");
        counter.record("POST", "/items");
        counter.record("POST", "/oauth/token");

        assert_eq!(counter.count("GET", "/items"), 2);
        assert_eq!(counter.count("POST", "/items"), 1);
        assert_eq!(counter.count("DELETE", "/items"), 0);
        assert_eq!(counter.count_path("/items"), 3);
        assert_eq!(counter.count_path("/oauth/token"), 1);
        assert_eq!(counter.count_path("/nothing"), 0);
        assert_eq!(counter.total(), 4);
    }

    #[test]
    fn snapshot_is_keyed_by_method_and_path() {
        let counter = RouteCounter::new();
        counter.record("POST", "/oauth/token");
        counter.record("GET", "/items");
        counter.record("GET", "/items");

        let snapshot = counter.snapshot();
        let expected: BTreeMap<String, usize> = [
            ("GET /items".to_owned(), 2),
            ("POST /oauth/token".to_owned(), 1),
        ]
        .into_iter()
        .collect();
        assert_eq!(snapshot, expected);
    }

    #[test]
    fn clones_share_counts_and_reset_clears_them() {
        let counter = RouteCounter::new();
        let clone = counter.clone();
        clone.record("GET", "/a");
        assert_eq!(counter.count("GET", "/a"), 1);

        counter.reset();
        assert_eq!(clone.total(), 0);
        assert!(clone.snapshot().is_empty());
    }
}
