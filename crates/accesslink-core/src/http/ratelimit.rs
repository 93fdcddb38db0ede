//! An optional client-side rate limiter, shared by all clones of a client.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

/// Requests per second and burst.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RateLimitConfig {
    /// Sustained requests per second.
    pub per_second: NonZeroU32,
    /// Requests allowed at once before the rate applies.
    pub burst: NonZeroU32,
}

impl RateLimitConfig {
    /// `per_second` requests a second with a burst of the same size.
    pub fn per_second(per_second: NonZeroU32) -> Self {
        RateLimitConfig {
            per_second,
            burst: per_second,
        }
    }

    /// Sets the burst.
    #[must_use]
    pub fn burst(mut self, burst: NonZeroU32) -> Self {
        self.burst = burst;
        self
    }
}

#[cfg(feature = "rate-limit")]
type Limiter = governor::DefaultDirectRateLimiter;

/// The limiter itself.
#[derive(Debug, Clone)]
pub(crate) struct RateLimiter {
    #[cfg(feature = "rate-limit")]
    inner: Arc<Limiter>,
    #[cfg(not(feature = "rate-limit"))]
    inner: Arc<()>,
}

impl RateLimiter {
    pub(crate) fn new(config: &RateLimitConfig) -> Self {
        #[cfg(feature = "rate-limit")]
        {
            let quota = governor::Quota::per_second(config.per_second).allow_burst(config.burst);
            RateLimiter {
                inner: Arc::new(governor::RateLimiter::direct(quota)),
            }
        }
        #[cfg(not(feature = "rate-limit"))]
        {
            let _ = config;
            tracing::warn!("rate limit configured but the `rate-limit` feature is off");
            RateLimiter {
                inner: Arc::new(()),
            }
        }
    }

    /// Waits for a slot, with a little jitter so clients do not wake in lockstep.
    pub(crate) async fn until_ready(&self) {
        #[cfg(feature = "rate-limit")]
        self.inner
            .until_ready_with_jitter(governor::Jitter::up_to(Duration::from_millis(5)))
            .await;
    }
}
