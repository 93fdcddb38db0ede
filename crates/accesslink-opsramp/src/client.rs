//! `OpsRampClient`: an [`HttpClient`] set up for the v2 API — OAuth2 client
//! credentials on a configurable token path, a token renewed ahead of expiry and once
//! on 401 or 407, the documented rate limit on the client side (core's pacing hook),
//! and a wait until `X-RateLimit-Reset` when the server throttles anyway — with typed
//! handles.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use accesslink_core::auth::{ClientAuthStyle, OAuth2Auth, OAuth2Config, OAuth2Grant};
use accesslink_core::http::{
    HttpClient, HttpClientBuilder, Request, Response, RetryConfig, TimeoutConfig,
};
use accesslink_core::{Error, ErrorKind, Result};
use secrecy::SecretString;
use serde::de::DeserializeOwned;

use crate::api::{Roles, Tickets, UserGroups, Users};
use crate::error::{is_auth_failure, parse_error};
use crate::limits::{Limiters, RateLimit};

/// Where the token endpoint is, relative to the API host.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum TokenPath {
    /// `/auth/oauth/token`, as the spec and the docs say (the default).
    #[default]
    Auth,
    /// `/tenancy/auth/oauth/token`, as OpsRamp's own clients (python-opsramp,
    /// or-mcp-v2) call it.
    Tenancy,
    /// Another path on the API host.
    Custom(String),
}

impl TokenPath {
    /// The path.
    pub fn as_str(&self) -> &str {
        match self {
            TokenPath::Auth => "/auth/oauth/token",
            TokenPath::Tenancy => "/tenancy/auth/oauth/token",
            TokenPath::Custom(p) => p,
        }
    }
}

/// What to do when the server answers 429 anyway.
#[derive(Debug, Clone, Copy)]
struct Throttle {
    waits: u32,
    max_wait: Duration,
}

/// A client for one OpsRamp tenant's v2 API. Cheap to clone: clones share the
/// connection pool, the token and the rate limiter.
#[derive(Clone)]
pub struct OpsRampClient {
    http: HttpClient,
    tenant: Arc<str>,
    throttle: Throttle,
    retry: RetryConfig,
}

impl fmt::Debug for OpsRampClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpsRampClient")
            .field("http", &self.http)
            .field("tenant", &self.tenant)
            .finish_non_exhaustive()
    }
}

/// Builds an [`OpsRampClient`]; see [`OpsRampClient::builder`].
pub struct OpsRampClientBuilder {
    base_url: String,
    tenant: Option<String>,
    credentials: Option<(String, SecretString)>,
    token_path: TokenPath,
    timeouts: TimeoutConfig,
    retry: RetryConfig,
    rate_limit: Option<RateLimit>,
    refresh_ahead: Duration,
    throttle: Throttle,
}

impl fmt::Debug for OpsRampClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpsRampClientBuilder")
            .field("base_url", &self.base_url)
            .field("tenant", &self.tenant)
            .field("key", &self.credentials.as_ref().map(|(k, _)| k))
            .field("secret", &self.credentials.as_ref().map(|_| "[redacted]"))
            .field("token_path", &self.token_path)
            .field("rate_limit", &self.rate_limit)
            .finish_non_exhaustive()
    }
}

/// Tenant ids are `msp_6`, `client_7` or UUIDs: letters, digits, `_` and `-`. Checked
/// because the id goes into every path.
fn valid_tenant(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

impl OpsRampClientBuilder {
    /// The tenant to act in: a partner (`msp_6`) or client (`client_7`) id, or its UUID.
    #[must_use]
    pub fn tenant(mut self, id: impl Into<String>) -> Self {
        self.tenant = Some(id.into());
        self
    }

    /// The key and secret of a Custom Integration with inbound auth type OAUTH2.
    #[must_use]
    pub fn client_credentials(mut self, key: impl Into<String>, secret: SecretString) -> Self {
        self.credentials = Some((key.into(), secret));
        self
    }

    /// The token endpoint (default [`TokenPath::Auth`]).
    #[must_use]
    pub fn token_path(mut self, path: TokenPath) -> Self {
        self.token_path = path;
        self
    }

    /// Sets timeouts.
    #[must_use]
    pub fn timeouts(mut self, t: TimeoutConfig) -> Self {
        self.timeouts = t;
        self
    }

    /// Sets retries of idempotent requests (and of creates after a lookup).
    #[must_use]
    pub fn retry(mut self, r: RetryConfig) -> Self {
        self.retry = r;
        self
    }

    /// The client-side rate limit (default [`RateLimit::client`]); `None` turns it off.
    #[must_use]
    pub fn rate_limit(mut self, limit: Option<RateLimit>) -> Self {
        self.rate_limit = limit;
        self
    }

    /// How long before expiry the token is renewed (default 60 s). OpsRamp issues no
    /// refresh token: renewal re-runs the client-credentials grant.
    #[must_use]
    pub fn refresh_ahead(mut self, ahead: Duration) -> Self {
        self.refresh_ahead = ahead;
        self
    }

    /// How often a throttled request waits for the window to reset and tries again
    /// (default 5), and the longest single wait (default 65 s).
    #[must_use]
    pub fn throttle_waits(mut self, waits: u32, max_wait: Duration) -> Self {
        self.throttle = Throttle { waits, max_wait };
        self
    }

    /// Builds the client. Nothing is sent until the first call, which fetches a token.
    pub fn build(self) -> Result<OpsRampClient> {
        let tenant = self
            .tenant
            .ok_or_else(|| Error::config("OpsRamp needs a tenant id (msp_… or client_…)"))?;
        if !valid_tenant(&tenant) {
            return Err(Error::config(
                "the OpsRamp tenant id must be 1-64 letters, digits, `_` or `-`",
            ));
        }
        let (key, secret) = self
            .credentials
            .ok_or_else(|| Error::config("OpsRamp needs the integration's key and secret"))?;
        let http = || -> HttpClientBuilder {
            HttpClient::builder("opsramp", self.base_url.clone())
                .timeouts(self.timeouts.clone())
                .retry(self.retry.clone())
                .auth_failure(is_auth_failure)
                .error_parser(parse_error)
        };
        // The token endpoint is in none of the rate-limited API categories (fact sheet
        // §1.5): token requests go through a client without the pacer.
        let plain = http().build()?;
        let token_url = plain.url(self.token_path.as_str())?;
        let config = OAuth2Config::new(token_url, key, OAuth2Grant::ClientCredentials)
            .client_secret(secret)
            // Fact sheet §1.2: client_id and client_secret travel in the form body.
            .client_auth(ClientAuthStyle::RequestBody)
            .refresh_ahead(self.refresh_ahead);
        let mut api = http().auth(Arc::new(OAuth2Auth::new(config, plain)));
        if let Some(limit) = self.rate_limit {
            // Core awaits it before every attempt, retries and the repeat after a
            // renewed token included; the first attempt's wait comes before the
            // request's timeouts start.
            api = api.pacer(Arc::new(Limiters::new(limit)));
        }
        Ok(OpsRampClient {
            http: api.build()?,
            tenant: Arc::from(tenant),
            throttle: self.throttle,
            retry: self.retry,
        })
    }
}

impl OpsRampClient {
    /// Starts a builder for the API host (`https://api.opsramp.com` or
    /// `https://<brand>.api.opsramp.com`).
    pub fn builder(base_url: impl Into<String>) -> OpsRampClientBuilder {
        OpsRampClientBuilder {
            base_url: base_url.into(),
            tenant: None,
            credentials: None,
            token_path: TokenPath::default(),
            timeouts: TimeoutConfig::default(),
            retry: RetryConfig::default(),
            rate_limit: Some(RateLimit::client()),
            refresh_ahead: Duration::from_secs(60),
            throttle: Throttle {
                waits: 5,
                max_wait: Duration::from_secs(65),
            },
        }
    }

    /// The underlying HTTP client (token and rate limiter attached to every request).
    pub fn http(&self) -> &HttpClient {
        &self.http
    }

    /// The tenant id.
    pub fn tenant(&self) -> &str {
        &self.tenant
    }

    /// The retry settings.
    pub fn retry_config(&self) -> &RetryConfig {
        &self.retry
    }

    /// `api/v2/tenants/<tenant>/<rest>`.
    pub(crate) fn path(&self, rest: &str) -> String {
        format!("api/v2/tenants/{}/{rest}", self.tenant)
    }

    /// Sends and checks the answer. The client-side limit is waited for before every
    /// attempt, the first one before the request's timeouts start. A 429 (which OpsRamp sends without `Retry-After`)
    /// waits until `X-RateLimit-Reset` and repeats the request, writes included: a
    /// throttled request was not processed.
    ///
    /// A GET answered 400 is asked once more after a short back-off: OpsRamp sometimes
    /// answers 400 for a moment right after issuing a token (fact sheet §1.3). Writes
    /// are never repeated on a 400.
    pub async fn send(&self, request: Request) -> Result<Response> {
        let mut waited = 0;
        let mut asked_again = false;
        loop {
            match self.http.send(request.clone()).await {
                Err(e) if e.kind() == ErrorKind::RateLimited && waited < self.throttle.waits => {
                    waited += 1;
                    let wait = reset_wait(&e, SystemTime::now())
                        .unwrap_or_else(|| self.retry.backoff(waited))
                        .min(self.throttle.max_wait);
                    tracing::info!(
                        wait_ms = wait.as_millis() as u64,
                        "OpsRamp throttled; waiting for the window to reset"
                    );
                    tokio::time::sleep(wait).await;
                }
                Err(e)
                    if !asked_again
                        && request.method() == http::Method::GET
                        && e.as_api().is_some_and(|a| a.status == 400) =>
                {
                    asked_again = true;
                    tracing::debug!("OpsRamp answered a read 400; asking once more");
                    tokio::time::sleep(self.retry.backoff(1)).await;
                }
                other => return other,
            }
        }
    }

    /// Sends, checks and decodes the JSON body.
    pub async fn send_json<T: DeserializeOwned>(&self, request: Request) -> Result<T> {
        self.send(request).await?.json()
    }

    /// Users.
    pub fn users(&self) -> Users<'_> {
        Users::new(self)
    }

    /// Roles.
    pub fn roles(&self) -> Roles<'_> {
        Roles::new(self)
    }

    /// User groups and their members.
    pub fn user_groups(&self) -> UserGroups<'_> {
        UserGroups::new(self)
    }

    /// Incidents (`INC…`).
    pub fn incidents(&self) -> Tickets<'_> {
        Tickets::new(self, "incidents")
    }

    /// Service requests (`SRQ…`).
    pub fn service_requests(&self) -> Tickets<'_> {
        Tickets::new(self, "serviceRequests")
    }
}

/// How long until `X-RateLimit-Reset` (UTC epoch seconds), plus a little so the new
/// window has surely begun.
fn reset_wait(e: &Error, now: SystemTime) -> Option<Duration> {
    let reset: u64 = e.rate_limit()?.reset.as_deref()?.trim().parse().ok()?;
    let at = UNIX_EPOCH + Duration::from_secs(reset);
    Some(at.duration_since(now).unwrap_or(Duration::ZERO) + Duration::from_millis(50))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenant_ids() {
        for ok in ["msp_6", "client_7", "3fa85f64-5717-4562-b3fc-2c963f66afa6"] {
            assert!(valid_tenant(ok), "{ok}");
        }
        for bad in [
            "",
            "client 7",
            "../x",
            "client_7/users",
            "a?b",
            &"x".repeat(65),
        ] {
            assert!(!valid_tenant(bad), "{bad:?}");
        }
    }

    #[test]
    fn token_paths() {
        assert_eq!(TokenPath::default().as_str(), "/auth/oauth/token");
        assert_eq!(TokenPath::Tenancy.as_str(), "/tenancy/auth/oauth/token");
    }
}
