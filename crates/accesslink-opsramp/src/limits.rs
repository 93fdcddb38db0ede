//! The client-side rate limiter: OpsRamp's documented per-minute limits (fact sheet
//! §1.5), one budget per method class, awaited before every attempt.

use std::fmt;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use http::Method;

/// Requests allowed per window, per method class, as OpsRamp counts them per tenant.
///
/// The default is [`RateLimit::client`], the documented limits of a client tenant for
/// users, groups and roles; a partner (MSP) tenant may use [`RateLimit::partner`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RateLimit {
    /// Paginated GETs (`…/search`, group lists and members) per window.
    pub paged_get: NonZeroU32,
    /// Other GETs per window.
    pub get: NonZeroU32,
    /// POST, PUT and DELETE per window.
    pub write: NonZeroU32,
    /// The window: one minute on OpsRamp.
    pub window: Duration,
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

/// One governor limiter per class. Each spaces requests evenly (burst 1), so no
/// window of the server's, wherever it starts, sees more than the budget.
#[derive(Clone)]
pub(crate) struct Limiters {
    config: RateLimit,
    paged_get: Arc<DefaultDirectRateLimiter>,
    get: Arc<DefaultDirectRateLimiter>,
    write: Arc<DefaultDirectRateLimiter>,
}

impl fmt::Debug for Limiters {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Limiters").field(&self.config).finish()
    }
}

fn limiter(n: NonZeroU32, window: Duration) -> Arc<DefaultDirectRateLimiter> {
    let period = (window / n.get()).max(Duration::from_nanos(1));
    let quota = Quota::with_period(period)
        .expect("a non-zero period")
        .allow_burst(NonZeroU32::MIN);
    Arc::new(RateLimiter::direct(quota))
}

impl Limiters {
    pub(crate) fn new(config: RateLimit) -> Self {
        Limiters {
            config,
            paged_get: limiter(config.paged_get, config.window),
            get: limiter(config.get, config.window),
            write: limiter(config.write, config.window),
        }
    }

    /// Waits for a slot of the request's class.
    pub(crate) async fn until_ready(&self, method: &Method, path: &str) {
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

    #[tokio::test]
    async fn a_spent_class_budget_leaves_the_others_alone() {
        let l = Limiters::new(RateLimit::new(nz(6), nz(600), nz(6)));
        l.until_ready(&Method::GET, "/x/users/search").await;
        assert!(
            l.paged_get.check().is_err(),
            "the next paged GET must wait 10 s"
        );
        assert!(l.get.check().is_ok(), "other GETs have their own budget");
        assert!(l.write.check().is_ok(), "writes too");
    }
}
