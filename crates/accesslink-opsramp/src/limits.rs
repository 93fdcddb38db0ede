//! The client-side rate limiter: OpsRamp's documented per-minute limits (fact sheet
//! §1.5), one budget per method class, set as core's [`Pacer`], which core awaits
//! before every attempt (the first one before the request's timeouts start).

use std::collections::VecDeque;
use std::fmt;
use std::num::NonZeroU32;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use accesslink_core::async_trait;
use accesslink_core::http::Pacer;
use http::Method;
use tokio::time::Instant;

/// Requests allowed per window, per method class, as OpsRamp counts them per tenant.
///
/// The default is [`RateLimit::client`], the documented limits of a client tenant for
/// users, groups and roles; a partner (MSP) tenant may use [`RateLimit::partner`].
///
/// In settings: `{ paged_get = 50, get = 500, write = 50, window = "1m" }`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct RateLimit {
    /// Paginated GETs (`…/search`, group lists and members) per window.
    pub paged_get: NonZeroU32,
    /// Other GETs per window.
    pub get: NonZeroU32,
    /// POST, PUT and DELETE per window.
    pub write: NonZeroU32,
    /// The window: one minute on OpsRamp.
    #[serde(default = "one_minute", with = "humantime_serde")]
    #[schemars(with = "String")]
    pub window: Duration,
}

fn one_minute() -> Duration {
    Duration::from_secs(60)
}

const fn nz(n: u32) -> NonZeroU32 {
    match NonZeroU32::new(n) {
        Some(n) => n,
        None => NonZeroU32::MIN,
    }
}

impl Default for RateLimit {
    fn default() -> Self {
        RateLimit::client()
    }
}

impl RateLimit {
    /// A client tenant: 50 paginated GETs, 500 other GETs, 50 writes a minute.
    pub fn client() -> Self {
        RateLimit {
            paged_get: nz(50),
            get: nz(500),
            write: nz(50),
            window: Duration::from_secs(60),
        }
    }

    /// A partner (MSP) tenant: 150, 1500 and 150 a minute.
    pub fn partner() -> Self {
        RateLimit {
            paged_get: nz(150),
            get: nz(1500),
            write: nz(150),
            window: Duration::from_secs(60),
        }
    }

    /// Other budgets per window.
    pub fn new(paged_get: NonZeroU32, get: NonZeroU32, write: NonZeroU32) -> Self {
        RateLimit {
            paged_get,
            get,
            write,
            window: Duration::from_secs(60),
        }
    }

    /// The same budgets over another window.
    #[must_use]
    pub fn per(mut self, window: Duration) -> Self {
        self.window = window.max(Duration::from_millis(1));
        self
    }
}

/// A sliding-window log per class: a request goes once fewer than `n` were sent in
/// the last window. Bursts up to the budget go at once, and no window of the server's,
/// wherever it starts, ever sees more than the budget (a token bucket would allow its
/// burst plus a window's refill, which is why core's governor limiter is not used).
pub(crate) struct Limiters {
    config: RateLimit,
    paged_get: Log,
    get: Log,
    write: Log,
}

impl fmt::Debug for Limiters {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Limiters").field(&self.config).finish()
    }
}

/// The send times of the last `n` requests of one class.
pub(crate) struct Log {
    n: usize,
    window: Duration,
    sent: Mutex<VecDeque<Instant>>,
}

impl Log {
    fn new(n: NonZeroU32, window: Duration) -> Self {
        Log {
            n: n.get() as usize,
            window,
            sent: Mutex::new(VecDeque::new()),
        }
    }

    /// Takes a slot now, or says how long until the oldest one leaves the window.
    fn try_take(&self, now: Instant) -> Result<(), Duration> {
        let mut sent = self.sent.lock().unwrap_or_else(PoisonError::into_inner);
        while sent
            .front()
            .is_some_and(|t| now.duration_since(*t) >= self.window)
        {
            sent.pop_front();
        }
        if sent.len() < self.n {
            sent.push_back(now);
            return Ok(());
        }
        let oldest = *sent.front().expect("n >= 1 entries");
        Err(self.window - now.duration_since(oldest))
    }

    async fn until_ready(&self) {
        while let Err(wait) = self.try_take(Instant::now()) {
            tokio::time::sleep(wait).await;
        }
    }
}

impl Limiters {
    pub(crate) fn new(config: RateLimit) -> Self {
        Limiters {
            config,
            paged_get: Log::new(config.paged_get, config.window),
            get: Log::new(config.get, config.window),
            write: Log::new(config.write, config.window),
        }
    }
}

#[async_trait]
impl Pacer for Limiters {
    /// Waits for a slot of the request's class and takes it.
    async fn until_ready(&self, method: &Method, path: &str) {
        let l = if *method != Method::GET {
            &self.write
        } else if is_paged(path) {
            &self.paged_get
        } else {
            &self.get
        };
        l.until_ready().await;
    }
}

/// Paginated GETs: `…/search`, `…/userGroups` and `…/userGroups/{id}/users`.
fn is_paged(path: &str) -> bool {
    let path = path.trim_end_matches('/');
    if path.ends_with("/search") || path.ends_with("/userGroups") {
        return true;
    }
    let mut rev = path.rsplit('/');
    matches!(
        (rev.next(), rev.next(), rev.next()),
        (Some("users"), Some(_), Some("userGroups"))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_follow_the_documented_table() {
        assert!(is_paged("/api/v2/tenants/client_7/users/search"));
        assert!(is_paged("/api/v2/tenants/client_7/roles/search"));
        assert!(is_paged("/api/v2/tenants/client_7/userGroups"));
        assert!(is_paged(
            "/api/v2/tenants/client_7/userGroups/USRGRP-1/users"
        ));
        assert!(!is_paged("/api/v2/tenants/client_7/users/USR0000000001"));
        assert!(!is_paged("/api/v2/tenants/client_7/userGroups/USRGRP-1"));
    }

    #[tokio::test(start_paused = true)]
    async fn a_budget_goes_at_once_then_waits_for_the_window() {
        let l = Limiters::new(RateLimit::new(nz(3), nz(100), nz(3)).per(Duration::from_secs(60)));
        let start = Instant::now();
        for _ in 0..3 {
            l.until_ready(&Method::GET, "/x/users/search").await;
        }
        assert_eq!(start.elapsed(), Duration::ZERO, "the budget is a burst");
        l.until_ready(&Method::GET, "/x/users/USR1").await;
        l.until_ready(&Method::POST, "/x/users").await;
        assert_eq!(
            start.elapsed(),
            Duration::ZERO,
            "other classes have their own"
        );
        tokio::time::advance(Duration::from_secs(20)).await;
        l.until_ready(&Method::GET, "/x/users/search").await;
        assert_eq!(
            start.elapsed(),
            Duration::from_secs(60),
            "the 4th waits for the 1st to age out"
        );
    }

    #[test]
    fn no_window_sees_more_than_the_budget() {
        let log = Log::new(nz(5), Duration::from_secs(10));
        let t0 = Instant::now();
        let mut sent = Vec::new();
        let mut now = t0;
        while sent.len() < 40 {
            match log.try_take(now) {
                Ok(()) => sent.push(now),
                Err(wait) => now += wait,
            }
            now += Duration::from_millis(700);
        }
        for (i, start) in sent.iter().enumerate() {
            let within = sent[i..]
                .iter()
                .filter(|t| t.duration_since(*start) < Duration::from_secs(10))
                .count();
            assert!(within <= 5, "{within} requests within 10 s of request {i}");
        }
    }
}
