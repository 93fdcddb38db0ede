//! Hooks a connector or an embedder plugs into [`HttpClient`](super::HttpClient): vendor
//! retry rules on top of the standard classifier, and metrics.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use http::{HeaderMap, HeaderName, Method, StatusCode};

use super::retry::{RetryDecision, RetryKind};

/// A vendor's retry rules, consulted before the standard classifier
/// ([`retry::classify`](super::retry::classify)) for every response.
///
/// Return `Some` to decide (for instance a wait read from a vendor rate-limit header),
/// `None` to leave the response to the standard rules. A server-requested wait is
/// capped by [`RetryConfig::max_backoff`](super::RetryConfig::max_backoff) and counts
/// against the same attempt and delay budget as every other retry of the request:
/// there is one budget per request, whoever classified it.
///
/// The client calls [`classify_response`](Self::classify_response), which sees the
/// body too and defers to [`classify`](Self::classify) unless a vendor overrides it.
pub trait RetryClassifier: Send + Sync + fmt::Debug {
    /// Classifies one response from its status and headers.
    fn classify(
        &self,
        status: StatusCode,
        headers: &HeaderMap,
        now: SystemTime,
    ) -> Option<RetryDecision>;

    /// Classifies one response with its body, which the client has read in full
    /// already (capped by `max_body_bytes`), so looking costs nothing. For vendors whose
    /// status says too little: AR System answers a business refusal and a server outage
    /// alike with HTTP 500, and only the message number in the body tells them apart.
    ///
    /// The default defers to [`classify`](Self::classify), so classifiers written
    /// before this method existed behave as they did.
    fn classify_response(
        &self,
        status: StatusCode,
        headers: &HeaderMap,
        body: &[u8],
        now: SystemTime,
    ) -> Option<RetryDecision> {
        let _ = body;
        self.classify(status, headers, now)
    }
}

/// How a reset header tells the time to wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ResetFormat {
    /// Seconds from now (`X-RateLimit-Reset: 12`).
    SecondsFromNow,
    /// A Unix time in seconds (`X-RateLimit-Reset: 1767225600`).
    EpochSeconds,
    /// A Unix time in milliseconds.
    EpochMillis,
    /// Seconds from now when the value is small, a Unix time in seconds otherwise:
    /// for vendors whose documentation says one and whose servers send the other.
    Either,
}

/// A [`RetryClassifier`] for a vendor's "wait until" header on throttled answers:
/// OpsRamp's `X-RateLimit-Reset` (seconds), ServiceNow's `X-RateLimit-Reset` (Unix
/// time), Jira's `X-RateLimit-Reset`. A standard `Retry-After` still wins when both
/// are sent, since it is what the server asks for this request.
#[derive(Debug, Clone)]
pub struct ResetHeader {
    header: HeaderName,
    format: ResetFormat,
    statuses: Vec<StatusCode>,
}

impl ResetHeader {
    /// Reads `header` in `format` on 429 answers.
    pub fn new(header: HeaderName, format: ResetFormat) -> Self {
        ResetHeader {
            header,
            format,
            statuses: vec![StatusCode::TOO_MANY_REQUESTS],
        }
    }

    /// The statuses that mean "throttled" for this vendor (default 429 only).
    #[must_use]
    pub fn on_statuses(mut self, statuses: impl IntoIterator<Item = StatusCode>) -> Self {
        self.statuses = statuses.into_iter().collect();
        self
    }

    /// The wait the header asks for, if it is present and readable.
    pub fn wait(&self, headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
        let raw = headers.get(&self.header)?.to_str().ok()?.trim();
        let n: f64 = raw
            .parse()
            .ok()
            .filter(|n: &f64| n.is_finite() && *n >= 0.0)?;
        let epoch = |secs: f64| {
            let at = SystemTime::UNIX_EPOCH + Duration::from_secs_f64(secs);
            at.duration_since(now).unwrap_or(Duration::ZERO)
        };
        Some(match self.format {
            ResetFormat::SecondsFromNow => Duration::from_secs_f64(n),
            ResetFormat::EpochSeconds => epoch(n),
            ResetFormat::EpochMillis => epoch(n / 1000.0),
            // No real window is a billion seconds long; no real clock is that early.
            ResetFormat::Either if n < 1_000_000_000.0 => Duration::from_secs_f64(n),
            ResetFormat::Either => epoch(n),
        })
    }
}

impl RetryClassifier for ResetHeader {
    fn classify(
        &self,
        status: StatusCode,
        headers: &HeaderMap,
        now: SystemTime,
    ) -> Option<RetryDecision> {
        if !self.statuses.contains(&status) || super::retry::retry_after(headers, now).is_some() {
            return None;
        }
        self.wait(headers, now)
            .map(|d| RetryDecision::RetryAfter(RetryKind::Throttling, d))
    }
}

/// What an [`HttpClient`](super::HttpClient) reports to its [`HttpMetrics`].
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum HttpEvent<'a> {
    /// A request ended (after all its attempts), with a response or an error.
    Request {
        /// The target (`servicenow`).
        target: &'static str,
        /// The connector instance name.
        instance: &'a str,
        /// The method.
        method: &'a Method,
        /// The final status, `None` when no response arrived.
        status: Option<u16>,
        /// Attempts made.
        attempts: u32,
        /// Time from the first attempt to the end.
        latency: Duration,
    },
    /// An attempt is repeated after `delay`.
    Retry {
        /// The target.
        target: &'static str,
        /// The connector instance name.
        instance: &'a str,
        /// Why.
        kind: RetryKind,
        /// The wait before the next attempt.
        delay: Duration,
    },
    /// The client waited because of a rate limit: the server's (throttled answer) or its
    /// own pacer.
    RateLimitWait {
        /// The target.
        target: &'static str,
        /// The connector instance name.
        instance: &'a str,
        /// How long.
        delay: Duration,
    },
    /// A credential the server rejected was renewed.
    CredentialRenewal {
        /// The target.
        target: &'static str,
        /// The connector instance name.
        instance: &'a str,
    },
}

/// Receives [`HttpEvent`]s. Forward them to the `metrics` crate, OpenTelemetry or your
/// own counters; [`HttpCounters`] is a ready-made in-memory one. Called inline on the
/// request path, so keep it cheap and never block.
pub trait HttpMetrics: Send + Sync + fmt::Debug {
    /// Records one event.
    fn record(&self, event: &HttpEvent<'_>);
}

/// Counts [`HttpEvent`]s; share one between connectors to count them together.
#[derive(Debug, Default)]
pub struct HttpCounters {
    requests: AtomicU64,
    failed: AtomicU64,
    retries: AtomicU64,
    rate_limit_waits: AtomicU64,
    rate_limit_wait_micros: AtomicU64,
    renewals: AtomicU64,
}

/// A reading of [`HttpCounters`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct HttpCountersSnapshot {
    /// Requests ended.
    pub requests: u64,
    /// Requests that ended without a 2xx answer.
    pub failed: u64,
    /// Attempts repeated.
    pub retries: u64,
    /// Waits for a rate limit.
    pub rate_limit_waits: u64,
    /// Time spent in those waits.
    pub rate_limit_wait: Duration,
    /// Credentials renewed after a rejection.
    pub credential_renewals: u64,
}

impl HttpCounters {
    /// New counters, shareable as `Arc<dyn HttpMetrics>`.
    pub fn new() -> Arc<Self> {
        Arc::new(HttpCounters::default())
    }

    /// The current counts.
    pub fn snapshot(&self) -> HttpCountersSnapshot {
        HttpCountersSnapshot {
            requests: self.requests.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
            retries: self.retries.load(Ordering::Relaxed),
            rate_limit_waits: self.rate_limit_waits.load(Ordering::Relaxed),
            rate_limit_wait: Duration::from_micros(
                self.rate_limit_wait_micros.load(Ordering::Relaxed),
            ),
            credential_renewals: self.renewals.load(Ordering::Relaxed),
        }
    }
}

impl HttpMetrics for HttpCounters {
    fn record(&self, event: &HttpEvent<'_>) {
        match event {
            HttpEvent::Request { status, .. } => {
                self.requests.fetch_add(1, Ordering::Relaxed);
                if !status.is_some_and(|s| (200..300).contains(&s)) {
                    self.failed.fetch_add(1, Ordering::Relaxed);
                }
            }
            HttpEvent::Retry { .. } => {
                self.retries.fetch_add(1, Ordering::Relaxed);
            }
            HttpEvent::RateLimitWait { delay, .. } => {
                self.rate_limit_waits.fetch_add(1, Ordering::Relaxed);
                self.rate_limit_wait_micros
                    .fetch_add(delay.as_micros() as u64, Ordering::Relaxed);
            }
            HttpEvent::CredentialRenewal { .. } => {
                self.renewals.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn h(name: &'static str, v: &str) -> HeaderMap {
        let mut m = HeaderMap::new();
        m.insert(name, HeaderValue::from_str(v).unwrap());
        m
    }

    #[test]
    fn reset_header_table() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let name = HeaderName::from_static("x-ratelimit-reset");
        let secs = ResetHeader::new(name.clone(), ResetFormat::SecondsFromNow);
        let epoch = ResetHeader::new(name.clone(), ResetFormat::EpochSeconds);
        let either = ResetHeader::new(name.clone(), ResetFormat::Either);
        let t = StatusCode::TOO_MANY_REQUESTS;
        let rows: &[(&ResetHeader, StatusCode, HeaderMap, Option<RetryDecision>)] = &[
            (
                &secs,
                t,
                h("x-ratelimit-reset", "7"),
                Some(RetryDecision::RetryAfter(
                    RetryKind::Throttling,
                    Duration::from_secs(7),
                )),
            ),
            (
                &epoch,
                t,
                h("x-ratelimit-reset", "1800000005"),
                Some(RetryDecision::RetryAfter(
                    RetryKind::Throttling,
                    Duration::from_secs(5),
                )),
            ),
            (
                &epoch,
                t,
                h("x-ratelimit-reset", "1700000000"),
                Some(RetryDecision::RetryAfter(
                    RetryKind::Throttling,
                    Duration::ZERO,
                )),
            ),
            (
                &either,
                t,
                h("x-ratelimit-reset", "3"),
                Some(RetryDecision::RetryAfter(
                    RetryKind::Throttling,
                    Duration::from_secs(3),
                )),
            ),
            (
                &either,
                t,
                h("x-ratelimit-reset", "1800000009"),
                Some(RetryDecision::RetryAfter(
                    RetryKind::Throttling,
                    Duration::from_secs(9),
                )),
            ),
            // Not throttled: the header alone decides nothing.
            (&secs, StatusCode::OK, h("x-ratelimit-reset", "7"), None),
            (
                &secs,
                StatusCode::SERVICE_UNAVAILABLE,
                h("x-ratelimit-reset", "7"),
                None,
            ),
            // Unreadable or negative: left to the standard rules.
            (&secs, t, h("x-ratelimit-reset", "soon"), None),
            (&secs, t, h("x-ratelimit-reset", "-4"), None),
            (&secs, t, HeaderMap::new(), None),
            // Retry-After wins.
            (&secs, t, h("retry-after", "2"), None),
        ];
        for (i, (c, status, headers, want)) in rows.iter().enumerate() {
            assert_eq!(c.classify(*status, headers, now), *want, "row {i}");
        }
    }

    #[test]
    fn counters_count() {
        let c = HttpCounters::new();
        let m = Method::GET;
        c.record(&HttpEvent::Request {
            target: "t",
            instance: "i",
            method: &m,
            status: Some(200),
            attempts: 1,
            latency: Duration::ZERO,
        });
        c.record(&HttpEvent::Request {
            target: "t",
            instance: "i",
            method: &m,
            status: Some(503),
            attempts: 3,
            latency: Duration::ZERO,
        });
        c.record(&HttpEvent::Request {
            target: "t",
            instance: "i",
            method: &m,
            status: None,
            attempts: 1,
            latency: Duration::ZERO,
        });
        c.record(&HttpEvent::Retry {
            target: "t",
            instance: "i",
            kind: RetryKind::Throttling,
            delay: Duration::from_millis(5),
        });
        c.record(&HttpEvent::RateLimitWait {
            target: "t",
            instance: "i",
            delay: Duration::from_millis(5),
        });
        c.record(&HttpEvent::CredentialRenewal {
            target: "t",
            instance: "i",
        });
        let s = c.snapshot();
        assert_eq!(
            (
                s.requests,
                s.failed,
                s.retries,
                s.rate_limit_waits,
                s.credential_renewals
            ),
            (3, 2, 1, 1, 1)
        );
        assert_eq!(s.rate_limit_wait, Duration::from_millis(5));
    }
}
