//! `OpsRampClient`: an [`HttpClient`] set up for the v2 API — OAuth2 client
//! credentials on a configurable token path, a token renewed ahead of expiry and once
//! on 401 or 407, the documented rate limit on the client side (core's pacing hook),
//! and `X-RateLimit-Reset` plugged into core's retry classifier, so a throttled request
//! waits for the window to reset within the one retry budget of the request — with
//! typed handles.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use accesslink_core::auth::{ClientAuthStyle, OAuth2Auth, OAuth2Config, OAuth2Grant};
use accesslink_core::http::{
    HttpClient, HttpClientBuilder, HttpMetrics, HttpSettings, Request, ResetFormat, ResetHeader,
    Response, RetryConfig,
};
use accesslink_core::{Error, ErrorKind, Result};
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use secrecy::SecretString;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::api::{Roles, Tickets, UserGroups, Users};
use crate::error::{is_auth_failure, parse_error};
use crate::limits::{Limiters, RateLimit};

/// OpsRamp's throttling header (fact sheet §1.5).
const RESET_HEADER: &str = "x-ratelimit-reset";

/// How `X-RateLimit-Reset` is read: the fact sheet (§1.5, OpsRamp's throttling page)
/// says UTC epoch seconds, which is what the mock sends; `Either` also takes the
/// seconds-from-now some gateways send, so a tenant answering the other way still
/// waits the right time instead of zero.
fn reset_header() -> ResetHeader {
    ResetHeader::new(HeaderName::from_static(RESET_HEADER), ResetFormat::Either)
}

/// Where the token endpoint is, relative to the API host. In settings: `"auth"`,
/// `"tenancy"` or `{ custom = "/other/path" }`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
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

/// A client for one OpsRamp tenant's v2 API. Cheap to clone: clones share the
/// connection pool, the token and the rate limiter.
#[derive(Clone)]
pub struct OpsRampClient {
    http: HttpClient,
    tenant: Arc<str>,
    reset: Arc<ResetHeader>,
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
    http: HttpSettings,
    instance: Option<String>,
    metrics: Option<Arc<dyn HttpMetrics>>,
    rate_limit: Option<RateLimit>,
    refresh_ahead: Duration,
}

impl fmt::Debug for OpsRampClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpsRampClientBuilder")
            .field("base_url", &self.base_url)
            .field("tenant", &self.tenant)
            .field("key", &self.credentials.as_ref().map(|(k, _)| k))
            .field("secret", &self.credentials.as_ref().map(|_| "[redacted]"))
            .field("token_path", &self.token_path)
            .field("http", &self.http)
            .field("instance", &self.instance)
            .field("metrics", &self.metrics.is_some())
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

    /// Timeouts, retries (of reads and idempotent writes, and the budget of the
    /// look-then-retry of creates), user agent, root certificates, proxy and body cap:
    /// core's [`HttpSettings`], applied when the client is built.
    ///
    /// Leave `rate_limit` of the settings unset to keep OpsRamp's per-class limit
    /// ([`rate_limit`](Self::rate_limit)); setting both is refused.
    #[must_use]
    pub fn http(mut self, settings: HttpSettings) -> Self {
        self.http = settings;
        self
    }

    /// Names the connector instance in errors and logs (default `opsramp`).
    #[must_use]
    pub fn instance(mut self, name: impl Into<String>) -> Self {
        self.instance = Some(name.into());
        self
    }

    /// Reports requests, retries, rate-limit waits and token renewals of the API
    /// client (core's [`HttpMetrics`], e.g. an
    /// [`HttpCounters`](accesslink_core::http::HttpCounters)).
    #[must_use]
    pub fn metrics(mut self, metrics: Arc<dyn HttpMetrics>) -> Self {
        self.metrics = Some(metrics);
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
        if self.http.rate_limit.is_some() && self.rate_limit.is_some() {
            return Err(Error::config(
                "OpsRamp: set either http.rate_limit or the per-class tenant limit, not both",
            ));
        }
        let reset = Arc::new(reset_header());
        let http = || -> Result<HttpClientBuilder> {
            let mut b = HttpClient::builder("opsramp", self.base_url.clone())
                .settings(&self.http)?
                // One budget per request: a 429 waits for `X-RateLimit-Reset` inside
                // core's retry loop, not in a second loop around it.
                .retry_classifier(reset.clone())
                .auth_failure(is_auth_failure)
                .error_parser(parse_error);
            if let Some(name) = &self.instance {
                b = b.instance(name.clone());
            }
            Ok(b)
        };
        // The token endpoint is in none of the rate-limited API categories (fact sheet
        // §1.5): token requests go through a client without the pacer.
        let plain = http()?.build()?;
        let token_url = plain.url(self.token_path.as_str())?;
        let config = OAuth2Config::new(token_url, key, OAuth2Grant::ClientCredentials)
            .client_secret(secret)
            // Fact sheet §1.2: client_id and client_secret travel in the form body.
            .client_auth(ClientAuthStyle::RequestBody)
            .refresh_ahead(self.refresh_ahead);
        let mut api = http()?;
        if let Some(m) = &self.metrics {
            api = api.metrics(m.clone());
        }
        let mut api = api.auth(Arc::new(OAuth2Auth::new(config, plain)));
        if let Some(limit) = self.rate_limit {
            // Core awaits it before every attempt, retries and the repeat after a
            // renewed token included; the first attempt's wait comes before the
            // request's timeouts start.
            api = api.pacer(Arc::new(Limiters::new(limit)));
        }
        Ok(OpsRampClient {
            http: api.build()?,
            tenant: Arc::from(tenant),
            reset,
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
            http: HttpSettings::default(),
            instance: None,
            metrics: None,
            rate_limit: Some(RateLimit::client()),
            refresh_ahead: Duration::from_secs(60),
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

    /// The retry settings (the HTTP client's: one budget for everything).
    pub fn retry_config(&self) -> &RetryConfig {
        self.http.retry_config()
    }

    /// `api/v2/tenants/<tenant>/<rest>`.
    pub(crate) fn path(&self, rest: &str) -> String {
        format!("api/v2/tenants/{}/{rest}", self.tenant)
    }

    /// Sends and checks the answer. The client-side limit is waited for before every
    /// attempt, the first one before the request's timeouts start. A 429 (which OpsRamp
    /// sends without `Retry-After`) waits until `X-RateLimit-Reset` inside core's retry
    /// loop: one budget ([`RetryConfig::max_attempts`]) per request. A throttled write
    /// that core does not repeat comes back as a `RateLimited` error whose
    /// `retry_after` is the reset wait, so the look-then-retry of creates waits for the
    /// window too.
    ///
    /// A GET answered 400 is asked once more after a short back-off, when the request
    /// has attempts left: OpsRamp sometimes answers 400 for a moment right after issuing
    /// a token (fact sheet §1.3). The repeat is a single send, not retried itself, so
    /// the request stays within its budget. Writes are never repeated on a 400.
    pub async fn send(&self, request: Request) -> Result<Response> {
        let again = (request.method() == Method::GET).then(|| request.clone().retry_safe(false));
        let first = self.http.send(request).await;
        let used = match (&first, &again) {
            (Err(e), Some(_)) => e
                .as_api()
                .filter(|a| a.status == StatusCode::BAD_REQUEST)
                .map(|a| a.attempts),
            _ => None,
        };
        match (used, again) {
            (Some(used), Some(again)) if used < self.retry_config().max_attempts => {
                tracing::debug!("OpsRamp answered a read 400; asking once more");
                tokio::time::sleep(self.retry_config().backoff(used)).await;
                self.http
                    .send(again)
                    .await
                    .map_err(|e| self.with_reset_wait(e))
            }
            _ => first.map_err(|e| self.with_reset_wait(e)),
        }
    }

    /// A throttled answer's `X-RateLimit-Reset` as the error's `retry_after`, which core's
    /// write combinator ([`accesslink_core::write`]) waits for before sending again.
    fn with_reset_wait(&self, mut e: Error) -> Error {
        if let Error::Api(api) = &mut e {
            if api.kind == ErrorKind::RateLimited && api.rate_limit.retry_after.is_none() {
                let wait = api
                    .rate_limit
                    .reset
                    .as_deref()
                    .and_then(|v| HeaderValue::from_str(v).ok())
                    .and_then(|v| {
                        let mut h = HeaderMap::new();
                        h.insert(HeaderName::from_static(RESET_HEADER), v);
                        self.reset.wait(&h, SystemTime::now())
                    });
                api.rate_limit.retry_after = wait;
            }
        }
        e
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
