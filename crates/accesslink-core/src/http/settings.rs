//! [`HttpSettings`]: the transport part of every connector's settings, in one shape.

use std::fmt;
use std::path::PathBuf;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use url::Url;

use super::client::HttpClientBuilder;
use super::ratelimit::RateLimitConfig;
use super::retry::RetryConfig;
use super::timeout::TimeoutConfig;
use crate::error::{Error, Result};

/// Timeouts, retries, client-side rate limit, user agent, extra root certificates and
/// proxy: the `http` table of every connector's settings, taken the same way by every
/// client ([`HttpClientBuilder::settings`]).
///
/// ```toml
/// [instances.prod-it.http]
/// timeouts = { attempt = "20s", total = "2m" }
/// retry = { max_attempts = 4 }
/// rate_limit = { per_second = 20 }
/// user_agent = "acme-iam/3.1"
/// root_certificates = ["/etc/pki/acme-root.pem"]
/// proxy = "http://proxy.acme.internal:3128"
/// ```
#[derive(Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct HttpSettings {
    /// Connect, per-attempt and whole-operation timeouts.
    pub timeouts: TimeoutConfig,
    /// Retries of reads and idempotent writes, and the budget of the look-then-retry of
    /// writes that are not (see [`crate::write`]).
    pub retry: RetryConfig,
    /// A client-side rate limit, to stay under the server's instead of running into it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<RateLimitConfig>,
    /// The `User-Agent` (default `accesslink/<version>`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    /// Extra root certificates (PEM files), for servers behind a private CA. Certificate
    /// verification itself cannot be turned off.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub root_certificates: Vec<PathBuf>,
    /// An HTTP(S) proxy for every request of this connector. Credentials in the proxy
    /// URL are refused: they would be printed wherever the settings are.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proxy: Option<Url>,
    /// Cap on a response body in bytes (default 32 MiB).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_body_bytes: Option<usize>,
    /// A dry run: reads and sign-ins are sent, but the first request that would change
    /// the target (see [`Request::is_write`](super::Request::is_write)) is not; the
    /// operation ends with [`ErrorKind::DryRun`](crate::ErrorKind::DryRun) and an
    /// [`Error::DryRun`] carrying the request it would have sent. The operation runs
    /// through the same code as for real, so what is printed is exactly what would be
    /// sent first; later writes that depend on its answer are not known.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub dry_run: bool,
}

impl fmt::Debug for HttpSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpSettings")
            .field("timeouts", &self.timeouts)
            .field("retry", &self.retry)
            .field("rate_limit", &self.rate_limit)
            .field("user_agent", &self.user_agent)
            .field("root_certificates", &self.root_certificates)
            .field("proxy", &self.proxy.as_ref().map(Url::as_str))
            .field("max_body_bytes", &self.max_body_bytes)
            .field("dry_run", &self.dry_run)
            .finish()
    }
}

impl HttpSettings {
    /// The defaults.
    pub fn new() -> Self {
        HttpSettings::default()
    }

    /// Sets the timeouts.
    #[must_use]
    pub fn timeouts(mut self, t: TimeoutConfig) -> Self {
        self.timeouts = t;
        self
    }

    /// Sets retry behaviour.
    #[must_use]
    pub fn retry(mut self, r: RetryConfig) -> Self {
        self.retry = r;
        self
    }

    /// Sets (or with `None` removes) the client-side rate limit.
    #[must_use]
    pub fn rate_limit(mut self, r: Option<RateLimitConfig>) -> Self {
        self.rate_limit = r;
        self
    }

    /// Sets the `User-Agent`.
    #[must_use]
    pub fn user_agent(mut self, ua: impl Into<String>) -> Self {
        self.user_agent = Some(ua.into());
        self
    }

    /// Adds a root certificate file (PEM).
    #[must_use]
    pub fn root_certificate(mut self, pem_file: impl Into<PathBuf>) -> Self {
        self.root_certificates.push(pem_file.into());
        self
    }

    /// Sends every request through this proxy.
    #[must_use]
    pub fn proxy(mut self, url: Url) -> Self {
        self.proxy = Some(url);
        self
    }

    /// Caps response bodies.
    #[must_use]
    pub fn max_body_bytes(mut self, n: usize) -> Self {
        self.max_body_bytes = Some(n);
        self
    }

    /// Turns the [dry run](Self::dry_run) on or off.
    #[must_use]
    pub fn dry_run(mut self, on: bool) -> Self {
        self.dry_run = on;
        self
    }

    /// Checks what can be checked without a request: the proxy URL, the certificate files.
    pub fn validate(&self) -> Result<()> {
        if let Some(proxy) = &self.proxy {
            if !proxy.username().is_empty() || proxy.password().is_some() {
                return Err(Error::config(
                    "http.proxy: credentials in the proxy URL are not allowed",
                ));
            }
            if !matches!(proxy.scheme(), "http" | "https" | "socks5" | "socks5h") {
                return Err(Error::config(format!(
                    "http.proxy: scheme {:?} is not http, https or socks5",
                    proxy.scheme()
                )));
            }
        }
        if self.retry.max_attempts == 0 {
            return Err(Error::config("http.retry.max_attempts must be at least 1"));
        }
        if self.max_body_bytes == Some(0) {
            return Err(Error::config("http.max_body_bytes must be positive"));
        }
        Ok(())
    }
}

impl HttpClientBuilder {
    /// Applies the settings: timeouts, retry, rate limit, user agent, root certificates
    /// (read now; a missing or malformed file is an error naming it), proxy, body cap.
    pub fn settings(mut self, s: &HttpSettings) -> Result<Self> {
        s.validate()?;
        self = self
            .timeouts(s.timeouts.clone())
            .retry(s.retry.clone())
            .rate_limit(s.rate_limit);
        if let Some(ua) = &s.user_agent {
            self = self.user_agent(ua.clone());
        }
        for path in &s.root_certificates {
            let pem = std::fs::read(path).map_err(|e| {
                Error::config(format!("http.root_certificates: {}: {e}", path.display()))
            })?;
            self = self.add_root_certificate_pem(&pem).map_err(|e| {
                Error::config(format!("http.root_certificates: {}: {e}", path.display()))
            })?;
        }
        if let Some(proxy) = &s.proxy {
            self = self.proxy_url(proxy.clone());
        }
        if let Some(n) = s.max_body_bytes {
            self = self.max_body_bytes(n);
        }
        Ok(self.dry_run(s.dry_run))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn loads_from_json_with_durations() {
        let s: HttpSettings = serde_json::from_value(serde_json::json!({
            "timeouts": { "attempt": "20s", "total": "2m" },
            "retry": { "max_attempts": 5, "initial_backoff": "250ms" },
            "rate_limit": { "per_second": 7 },
            "proxy": "http://proxy.example:3128"
        }))
        .unwrap();
        assert_eq!(s.timeouts.attempt, Some(Duration::from_secs(20)));
        assert_eq!(s.timeouts.total, Some(Duration::from_secs(120)));
        assert_eq!(s.timeouts.connect, None);
        assert_eq!(s.retry.max_attempts, 5);
        assert_eq!(s.retry.initial_backoff, Duration::from_millis(250));
        assert_eq!(s.retry.max_backoff, RetryConfig::default().max_backoff);
        let rl = s.rate_limit.unwrap();
        assert_eq!((rl.per_second.get(), rl.burst.get()), (7, 7));
        s.validate().unwrap();
    }

    #[test]
    fn unknown_keys_and_bad_values_are_refused() {
        for bad in [
            serde_json::json!({ "timeout": {} }),
            serde_json::json!({ "retry": { "attempts": 3 } }),
            serde_json::json!({ "timeouts": { "attempt": "soon" } }),
            serde_json::json!({ "rate_limit": { "per_second": 0 } }),
        ] {
            assert!(
                serde_json::from_value::<HttpSettings>(bad.clone()).is_err(),
                "{bad}"
            );
        }
        let s = HttpSettings::new().proxy("http://u:p@proxy.example".parse().unwrap());
        let e = s.validate().unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::Config);
        assert!(!e.to_string().contains("u:p"), "{e}");
        assert!(!format!("{s:?}").is_empty());
    }

    #[test]
    fn a_missing_certificate_file_is_named() {
        let s = HttpSettings::new().root_certificate("/nonexistent/acme-root.pem");
        let e = crate::http::HttpClient::builder("t", "https://example.test")
            .settings(&s)
            .unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::Config);
        assert!(e.to_string().contains("acme-root.pem"), "{e}");
    }
}
