//! When to retry, and how long to wait.

use std::time::{Duration, SystemTime};

use http::{HeaderMap, StatusCode, header::RETRY_AFTER};

/// Retry settings. Every field has a documented default; `disabled()` turns retries off.
///
/// In settings files durations are written as `"200ms"`, `"30s"`, `"1m"`:
///
/// ```toml
/// retry = { max_attempts = 4, initial_backoff = "250ms", max_total_delay = "2m" }
/// ```
#[derive(
    Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct RetryConfig {
    /// Attempts in all, the first included (default 3; 1 disables retries).
    pub max_attempts: u32,
    /// Back-off before the first retry (default 200 ms); doubles each retry, with jitter.
    #[serde(with = "humantime_serde")]
    #[schemars(with = "String")]
    pub initial_backoff: Duration,
    /// Longest single back-off, and cap on a server's `Retry-After` (default 30 s).
    #[serde(with = "humantime_serde")]
    #[schemars(with = "String")]
    pub max_backoff: Duration,
    /// Longest time spent waiting between attempts in one operation (default 60 s).
    #[serde(with = "humantime_serde")]
    #[schemars(with = "String")]
    pub max_total_delay: Duration,
}

impl Default for RetryConfig {
    fn default() -> Self {
        RetryConfig {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(30),
            max_total_delay: Duration::from_secs(60),
        }
    }
}

impl RetryConfig {
    /// No retries: one attempt only.
    pub fn disabled() -> Self {
        RetryConfig {
            max_attempts: 1,
            ..RetryConfig::default()
        }
    }

    /// Sets the number of attempts (at least 1).
    #[must_use]
    pub fn max_attempts(mut self, n: u32) -> Self {
        self.max_attempts = n.max(1);
        self
    }

    /// Sets the first back-off.
    #[must_use]
    pub fn initial_backoff(mut self, d: Duration) -> Self {
        self.initial_backoff = d;
        self
    }

    /// Sets the longest back-off and `Retry-After` cap.
    #[must_use]
    pub fn max_backoff(mut self, d: Duration) -> Self {
        self.max_backoff = d;
        self
    }

    /// Sets the total waiting budget.
    #[must_use]
    pub fn max_total_delay(mut self, d: Duration) -> Self {
        self.max_total_delay = d;
        self
    }

    /// The jittered exponential back-off before retry number `retry` (1-based):
    /// half the exponential step plus a random share of the other half.
    pub fn backoff(&self, retry: u32) -> Duration {
        let exp = self
            .initial_backoff
            .saturating_mul(1u32 << retry.saturating_sub(1).min(20));
        let step = exp.min(self.max_backoff);
        let half = step / 2;
        half + half.mul_f64(fastrand::f64())
    }

    /// The wait before retry number `retry` (1-based) of an operation that failed with
    /// `error`: the server's `Retry-After` when the error carries one (capped by
    /// `max_backoff`), the jittered [`backoff`](Self::backoff) otherwise.
    ///
    /// For the loops connectors run themselves around writes they make safe to repeat
    /// (look the object up, then try again), which the client's own retry loop does not
    /// repeat.
    pub fn delay_after(&self, error: &crate::Error, retry: u32) -> Duration {
        error
            .rate_limit()
            .and_then(|r| r.retry_after)
            .map_or_else(|| self.backoff(retry), |d| d.min(self.max_backoff))
    }

    /// Sleeps for [`delay_after`](Self::delay_after).
    pub async fn back_off(&self, error: &crate::Error, retry: u32) {
        tokio::time::sleep(self.delay_after(error, retry)).await;
    }
}

/// Why an attempt is worth repeating.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RetryKind {
    /// The server throttled us (429, 503).
    Throttling,
    /// The server failed (500, 502, 504).
    ServerError,
    /// The network failed (connect error, timeout, reset).
    Transient,
}

/// What the classifier decided about one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryDecision {
    /// Final: do not retry.
    NoRetry,
    /// Retry after the usual back-off.
    Retry(RetryKind),
    /// Retry after the delay the server asked for (already capped).
    RetryAfter(RetryKind, Duration),
}

/// What one attempt produced, as far as the classifier cares.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum AttemptOutcome<'a> {
    /// A response arrived.
    Response {
        /// Its status.
        status: StatusCode,
        /// Its headers.
        headers: &'a HeaderMap,
    },
    /// The connection could not be made: the request never left.
    ConnectError,
    /// The attempt timed out.
    Timeout,
    /// The connection broke after the request was sent (reset, truncated body).
    TransportError,
}

/// The retry classifier: a pure function of the attempt's outcome, the current time
/// (for `Retry-After` dates) and the cap on server-requested delays.
///
/// 429 and 503 are throttling and honour `Retry-After`; 500, 502 and 504 are server
/// errors; 408, connect errors, timeouts and broken connections are transient;
/// everything else is final.
pub fn classify(outcome: AttemptOutcome<'_>, now: SystemTime, cap: Duration) -> RetryDecision {
    match outcome {
        AttemptOutcome::Response { status, headers } => match status.as_u16() {
            429 | 503 => match retry_after(headers, now) {
                Some(d) => RetryDecision::RetryAfter(RetryKind::Throttling, d.min(cap)),
                None => RetryDecision::Retry(RetryKind::Throttling),
            },
            500 | 502 | 504 => RetryDecision::Retry(RetryKind::ServerError),
            // The server gave up waiting for our request: a timeout like any other.
            408 => RetryDecision::Retry(RetryKind::Transient),
            _ => RetryDecision::NoRetry,
        },
        AttemptOutcome::ConnectError | AttemptOutcome::Timeout | AttemptOutcome::TransportError => {
            RetryDecision::Retry(RetryKind::Transient)
        }
    }
}

/// Parses `Retry-After` as delta-seconds or an HTTP-date; a date in the past is zero.
pub fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    if let Ok(secs) = value.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(retry_after: Option<&str>) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Some(v) = retry_after {
            h.insert(RETRY_AFTER, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn delay_after_prefers_the_servers_retry_after_capped() {
        use crate::error::{ApiError, ErrorKind, RateLimitInfo};
        let cfg = RetryConfig::default()
            .initial_backoff(Duration::from_millis(100))
            .max_backoff(Duration::from_secs(5));
        let throttled = |after: u64| -> crate::Error {
            let info = RateLimitInfo {
                retry_after: Some(Duration::from_secs(after)),
                ..RateLimitInfo::default()
            };
            ApiError::new(
                ErrorKind::RateLimited,
                StatusCode::TOO_MANY_REQUESTS,
                "GET /x",
            )
            .with_rate_limit(info)
            .into()
        };
        assert_eq!(cfg.delay_after(&throttled(2), 1), Duration::from_secs(2));
        assert_eq!(cfg.delay_after(&throttled(600), 1), Duration::from_secs(5));
        // No Retry-After: the jittered back-off for that retry, 50–100 ms on the first.
        let plain: crate::Error =
            ApiError::new(ErrorKind::Unavailable, StatusCode::BAD_GATEWAY, "GET /x").into();
        for _ in 0..50 {
            let d = cfg.delay_after(&plain, 1);
            assert!(
                d >= Duration::from_millis(50) && d <= Duration::from_millis(100),
                "{d:?}"
            );
        }
    }

    #[test]
    fn classifier_table() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let in_90s = httpdate::fmt_http_date(now + Duration::from_secs(90));
        let past = httpdate::fmt_http_date(now - Duration::from_secs(90));
        let cap = Duration::from_secs(60);
        use RetryDecision::*;
        use RetryKind::*;
        let rows: Vec<(u16, Option<&str>, RetryDecision)> = vec![
            (200, None, NoRetry),
            (201, None, NoRetry),
            (400, None, NoRetry),
            (401, None, NoRetry),
            (408, None, Retry(Transient)),
            (403, None, NoRetry),
            (404, None, NoRetry),
            (409, None, NoRetry),
            (422, None, NoRetry),
            (429, None, Retry(Throttling)),
            (
                429,
                Some("7"),
                RetryAfter(Throttling, Duration::from_secs(7)),
            ),
            (429, Some("0"), RetryAfter(Throttling, Duration::ZERO)),
            (
                429,
                Some("1.5"),
                RetryAfter(Throttling, Duration::from_millis(1500)),
            ),
            (429, Some(&in_90s), RetryAfter(Throttling, cap)),
            (429, Some(&past), RetryAfter(Throttling, Duration::ZERO)),
            (429, Some("soon"), Retry(Throttling)),
            (429, Some("3600"), RetryAfter(Throttling, cap)),
            (503, None, Retry(Throttling)),
            (
                503,
                Some("2"),
                RetryAfter(Throttling, Duration::from_secs(2)),
            ),
            (500, None, Retry(ServerError)),
            (500, Some("5"), Retry(ServerError)),
            (502, None, Retry(ServerError)),
            (504, None, Retry(ServerError)),
            (501, None, NoRetry),
            (505, None, NoRetry),
        ];
        for (status, ra, want) in rows {
            let h = headers(ra);
            let got = classify(
                AttemptOutcome::Response {
                    status: StatusCode::from_u16(status).unwrap(),
                    headers: &h,
                },
                now,
                cap,
            );
            assert_eq!(got, want, "status {status} retry-after {ra:?}");
        }
        for outcome in [
            AttemptOutcome::ConnectError,
            AttemptOutcome::Timeout,
            AttemptOutcome::TransportError,
        ] {
            assert_eq!(classify(outcome, now, cap), Retry(Transient), "{outcome:?}");
        }
    }

    #[test]
    fn http_date_in_the_near_future_is_honoured_exactly() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let h = headers(Some(&httpdate::fmt_http_date(
            now + Duration::from_secs(12),
        )));
        assert_eq!(retry_after(&h, now), Some(Duration::from_secs(12)));
    }

    #[test]
    fn backoff_grows_jittered_and_capped() {
        let cfg = RetryConfig::default()
            .initial_backoff(Duration::from_millis(100))
            .max_backoff(Duration::from_millis(1000));
        for _ in 0..200 {
            let b1 = cfg.backoff(1);
            assert!(
                b1 >= Duration::from_millis(50) && b1 <= Duration::from_millis(100),
                "{b1:?}"
            );
            let b3 = cfg.backoff(3);
            assert!(
                b3 >= Duration::from_millis(200) && b3 <= Duration::from_millis(400),
                "{b3:?}"
            );
            let b10 = cfg.backoff(10);
            assert!(
                b10 >= Duration::from_millis(500) && b10 <= Duration::from_millis(1000),
                "{b10:?}"
            );
        }
        assert_eq!(RetryConfig::disabled().max_attempts, 1);
    }
}
