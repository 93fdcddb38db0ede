//! A token cache with expiry, refresh ahead of time, and single-flight renewal.

use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{PoisonError, RwLock};
use std::time::Duration;

use tokio::time::Instant;

use super::AuthStamp;
use crate::error::Result;

struct Entry<T> {
    value: T,
    expires_at: Option<Instant>,
    generation: u64,
}

/// Caches one token.
///
/// - A token is served until `refresh_ahead` before it expires.
/// - Inside that window, the first caller renews it while the others keep using the
///   still-valid token; if renewal fails the old token is served until it expires.
/// - Once expired or invalidated, callers wait on one renewal: however many tasks
///   ask at once, the fetch runs once.
/// - [`invalidate`](Self::invalidate) drops only the token of the given generation,
///   so fifty requests rejected with the same stale token cause one renewal.
pub struct TokenCache<T> {
    slot: RwLock<Option<Entry<T>>>,
    renewing: tokio::sync::Mutex<()>,
    generation: AtomicU64,
    refresh_ahead: Duration,
    /// Counts failed renewals; a caller that waited through one shares its error
    /// instead of trying again, so a failing token endpoint sees one call, not one
    /// per waiting task.
    failures: AtomicU64,
    last_failure: std::sync::Mutex<Option<(crate::ErrorKind, String)>>,
}

impl<T> fmt::Debug for TokenCache<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let slot = self.slot.read().unwrap_or_else(PoisonError::into_inner);
        f.debug_struct("TokenCache")
            .field("cached", &slot.is_some())
            .field("generation", &slot.as_ref().map(|e| e.generation))
            .field("refresh_ahead", &self.refresh_ahead)
            .finish()
    }
}

enum Fresh<T> {
    Use(T, AuthStamp),
    RenewAhead(T, AuthStamp),
    Renew,
}

impl<T: Clone> TokenCache<T> {
    /// An empty cache that renews tokens `refresh_ahead` before they expire.
    pub fn new(refresh_ahead: Duration) -> Self {
        TokenCache {
            slot: RwLock::new(None),
            renewing: tokio::sync::Mutex::new(()),
            generation: AtomicU64::new(0),
            refresh_ahead,
            failures: AtomicU64::new(0),
            last_failure: std::sync::Mutex::new(None),
        }
    }

    fn look(&self) -> Fresh<T> {
        let slot = self.slot.read().unwrap_or_else(PoisonError::into_inner);
        let Some(e) = slot.as_ref() else {
            return Fresh::Renew;
        };
        let stamp = AuthStamp(e.generation);
        match e.expires_at {
            None => Fresh::Use(e.value.clone(), stamp),
            Some(at) => {
                let now = Instant::now();
                if now + self.refresh_ahead < at {
                    Fresh::Use(e.value.clone(), stamp)
                } else if now < at {
                    Fresh::RenewAhead(e.value.clone(), stamp)
                } else {
                    Fresh::Renew
                }
            }
        }
    }

    /// The current token, fetched with `fetch` when there is none or it is due.
    /// `fetch` returns the token and its lifetime (`None`: until invalidated).
    pub async fn get<F, Fut>(&self, fetch: F) -> Result<(T, AuthStamp)>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<(T, Option<Duration>)>>,
    {
        match self.look() {
            Fresh::Use(v, s) => Ok((v, s)),
            Fresh::RenewAhead(v, s) => {
                let Ok(_guard) = self.renewing.try_lock() else {
                    // Someone else is renewing; this token is still valid.
                    return Ok((v, s));
                };
                if let Fresh::Use(v2, s2) = self.look() {
                    return Ok((v2, s2)); // renewed while we took the lock
                }
                match fetch().await {
                    Ok((value, ttl)) => Ok(self.store(value, ttl)),
                    Err(e) => {
                        tracing::warn!(error = %e, "token renewal ahead of expiry failed; using the current token");
                        Ok((v, s))
                    }
                }
            }
            Fresh::Renew => {
                let failures_before = self.failures.load(Ordering::Acquire);
                let _guard = self.renewing.lock().await;
                match self.look() {
                    Fresh::Use(v, s) | Fresh::RenewAhead(v, s) => Ok((v, s)),
                    Fresh::Renew if self.failures.load(Ordering::Acquire) != failures_before => {
                        let (kind, message) = self
                            .last_failure
                            .lock()
                            .unwrap_or_else(PoisonError::into_inner)
                            .clone()
                            .unwrap_or((crate::ErrorKind::Unauthenticated, String::new()));
                        Err(crate::Error::Renewal { kind, message })
                    }
                    Fresh::Renew => match fetch().await {
                        Ok((value, ttl)) => Ok(self.store(value, ttl)),
                        Err(e) => {
                            *self
                                .last_failure
                                .lock()
                                .unwrap_or_else(PoisonError::into_inner) =
                                Some((e.kind(), e.to_string()));
                            self.failures.fetch_add(1, Ordering::AcqRel);
                            Err(e)
                        }
                    },
                }
            }
        }
    }

    fn store(&self, value: T, ttl: Option<Duration>) -> (T, AuthStamp) {
        let generation = self.generation.fetch_add(1, Ordering::Relaxed) + 1;
        let entry = Entry {
            value: value.clone(),
            expires_at: ttl.map(|d| Instant::now() + d),
            generation,
        };
        *self.slot.write().unwrap_or_else(PoisonError::into_inner) = Some(entry);
        (value, AuthStamp(generation))
    }

    /// Drops the token if it is still the one stamped `stamp`.
    pub fn invalidate(&self, stamp: AuthStamp) {
        let mut slot = self.slot.write().unwrap_or_else(PoisonError::into_inner);
        if slot.as_ref().is_some_and(|e| e.generation == stamp.0) {
            *slot = None;
        }
    }

    /// Drops the token whatever it is, returning it.
    pub fn take(&self) -> Option<T> {
        self.slot
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
            .map(|e| e.value)
    }

    /// The cached token, if any, without renewing.
    pub fn peek(&self) -> Option<T> {
        self.slot
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .map(|e| e.value.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::AtomicUsize;

    #[tokio::test(start_paused = true)]
    async fn renews_ahead_once_and_serves_old_token_meanwhile() {
        let cache = Arc::new(TokenCache::<u32>::new(Duration::from_secs(60)));
        let fetches = Arc::new(AtomicUsize::new(0));
        let fetch = |n: u32| {
            let f = fetches.clone();
            move || async move {
                f.fetch_add(1, Ordering::SeqCst);
                Ok((n, Some(Duration::from_secs(300))))
            }
        };
        assert_eq!(cache.get(fetch(1)).await.unwrap().0, 1);
        assert_eq!(
            cache.get(fetch(99)).await.unwrap().0,
            1,
            "fresh token reused"
        );
        tokio::time::advance(Duration::from_secs(250)).await; // inside the 60 s window
        assert_eq!(cache.get(fetch(2)).await.unwrap().0, 2, "renewed ahead");
        assert_eq!(fetches.load(Ordering::SeqCst), 2);
        tokio::time::advance(Duration::from_secs(400)).await; // expired
        assert_eq!(cache.get(fetch(3)).await.unwrap().0, 3);
    }

    #[tokio::test(start_paused = true)]
    async fn failed_ahead_renewal_keeps_valid_token() {
        let cache = TokenCache::<u32>::new(Duration::from_secs(60));
        cache
            .get(|| async { Ok((1, Some(Duration::from_secs(100)))) })
            .await
            .unwrap();
        tokio::time::advance(Duration::from_secs(50)).await;
        let (v, _) = cache
            .get(|| async { Err(crate::Error::auth("token endpoint down")) })
            .await
            .unwrap();
        assert_eq!(v, 1);
        tokio::time::advance(Duration::from_secs(60)).await;
        let err = cache
            .get(|| async { Err::<(u32, _), _>(crate::Error::auth("token endpoint down")) })
            .await
            .unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::Unauthenticated);
    }

    #[tokio::test]
    async fn invalidate_only_drops_the_stamped_generation() {
        let cache = TokenCache::<u32>::new(Duration::ZERO);
        let (_, s1) = cache.get(|| async { Ok((1, None)) }).await.unwrap();
        cache.invalidate(s1);
        let (v, s2) = cache.get(|| async { Ok((2, None)) }).await.unwrap();
        assert_eq!(v, 2);
        cache.invalidate(s1); // stale stamp: ignored
        assert_eq!(cache.peek(), Some(2));
        cache.invalidate(s2);
        assert_eq!(cache.peek(), None);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failed_renewal_is_shared_with_the_callers_waiting_on_it() {
        let cache = Arc::new(TokenCache::<u32>::new(Duration::ZERO));
        let fetches = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..20 {
            let cache = cache.clone();
            let fetches = fetches.clone();
            tasks.push(tokio::spawn(async move {
                cache
                    .get(|| async move {
                        fetches.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        Err::<(u32, _), _>(crate::Error::auth("token endpoint said no"))
                    })
                    .await
                    .unwrap_err()
            }));
        }
        for t in tasks {
            let e = t.await.unwrap();
            assert_eq!(e.kind(), crate::ErrorKind::Unauthenticated);
            assert!(e.to_string().contains("token endpoint said no"), "{e}");
        }
        assert_eq!(
            fetches.load(Ordering::SeqCst),
            1,
            "one failing call, not twenty"
        );
        // A later caller, not waiting during that failure, tries again.
        let (v, _) = cache.get(|| async { Ok((5, None)) }).await.unwrap();
        assert_eq!(v, 5);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn fifty_concurrent_callers_fetch_once() {
        let cache = Arc::new(TokenCache::<u32>::new(Duration::ZERO));
        let fetches = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..50 {
            let cache = cache.clone();
            let fetches = fetches.clone();
            tasks.push(tokio::spawn(async move {
                cache
                    .get(|| async move {
                        fetches.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        Ok((7, None))
                    })
                    .await
                    .unwrap()
                    .0
            }));
        }
        for t in tasks {
            assert_eq!(t.await.unwrap(), 7);
        }
        assert_eq!(fetches.load(Ordering::SeqCst), 1);
    }
}
