//! Client-side pacing: the [`Pacer`] hook awaited before every attempt, and the
//! optional governor rate limiter that is its default implementation. Both are shared
//! by all clones of a client.

use std::fmt;
use std::num::NonZeroU32;
#[cfg(feature = "rate-limit")]
use std::sync::Arc;
#[cfg(feature = "rate-limit")]
use std::time::Duration;

use async_trait::async_trait;
use http::Method;

/// Holds requests back on the client side so the server's limit is never reached.
///
/// [`HttpClient`](super::HttpClient) awaits [`until_ready`](Pacer::until_ready) before
/// every attempt it sends: the first, each retry and the repeat after a renewed
/// credential, so every request the server counts is paced. The first attempt's wait
/// comes *before* the request's [total timeout](super::TimeoutConfig::total) starts:
/// a queue of tasks sharing a rate-limited client is not a slow server, and a caller
/// far back in it must not time out before its request was ever sent. Later attempts
/// wait inside the request's budget.
///
/// [`HttpClientBuilder::rate_limit`](super::HttpClientBuilder::rate_limit) installs a
/// token bucket (`governor`) that paces every request alike; a connector whose vendor
/// counts differently (per method class, per endpoint, over a sliding window) sets its
/// own with [`HttpClientBuilder::pacer`](super::HttpClientBuilder::pacer). One pacer is
/// shared by every clone of a client and by [`HttpClient::with_auth`](super::HttpClient::with_auth)
/// copies, so it must be `Send + Sync` and keep its state behind shared references.
///
/// ```
/// use accesslink_core::async_trait;
/// use accesslink_core::http::Pacer;
///
/// /// Writes wait a second; reads go at once.
/// #[derive(Debug)]
/// struct SlowWrites;
///
/// #[async_trait]
/// impl Pacer for SlowWrites {
///     async fn until_ready(&self, method: &http::Method, _path: &str) {
///         if method != http::Method::GET {
///             tokio::time::sleep(std::time::Duration::from_secs(1)).await;
///         }
///     }
/// }
/// ```
#[async_trait]
pub trait Pacer: Send + Sync + fmt::Debug {
    /// Returns once a request with this method to this URL path (the full path, base
    /// URL's included, without the query) may be sent. Called once per attempt; it
    /// should take the slot it grants, so two calls never share one.
    async fn until_ready(&self, method: &Method, path: &str);
}

/// Requests per second and burst. In settings files:
/// `rate_limit = { per_second = 20, burst = 40 }` (`burst` defaults to `per_second`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
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

impl<'de> serde::Deserialize<'de> for RateLimitConfig {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Raw {
            per_second: NonZeroU32,
            burst: Option<NonZeroU32>,
        }
        let raw = Raw::deserialize(d)?;
        Ok(RateLimitConfig {
            per_second: raw.per_second,
            burst: raw.burst.unwrap_or(raw.per_second),
        })
    }
}

#[cfg(feature = "rate-limit")]
type Limiter = governor::DefaultDirectRateLimiter;

/// The limiter behind [`HttpClientBuilder::rate_limit`](super::HttpClientBuilder::rate_limit):
/// one token bucket for every request, whatever its method or path.
#[derive(Debug, Clone)]
pub(crate) struct RateLimiter {
    #[cfg(feature = "rate-limit")]
    inner: Arc<Limiter>,
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
            RateLimiter {}
        }
    }
}

#[async_trait]
impl Pacer for RateLimiter {
    /// Waits for a slot, with a little jitter so clients do not wake in lockstep.
    async fn until_ready(&self, _method: &Method, _path: &str) {
        #[cfg(feature = "rate-limit")]
        self.inner
            .until_ready_with_jitter(governor::Jitter::up_to(Duration::from_millis(5)))
            .await;
    }
}
