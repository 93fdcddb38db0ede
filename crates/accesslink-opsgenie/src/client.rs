//! `OpsGenieClient`: an [`HttpClient`] set up for the OpsGenie REST API v2 —
//! `Authorization: GenieKey <key>` on every call, OpsGenie's error bodies — with typed
//! handles.

use std::fmt;
use std::sync::Arc;

use accesslink_core::auth::{ApiKeyAuth, Placement};
use accesslink_core::http::{HttpClient, RateLimitConfig, RetryConfig, TimeoutConfig};
use accesslink_core::redact::REDACTED;
use accesslink_core::{Error, Result};
use http::header::AUTHORIZATION;
use secrecy::SecretString;

use crate::api::{Roles, Teams, Users};
use crate::error::parse_error;
use crate::models::{AccountInfo, Envelope};

/// The US instance, `https://api.opsgenie.com` (the default).
pub const US_API: &str = "https://api.opsgenie.com";
/// The EU instance, `https://api.eu.opsgenie.com`. A US key does not work there.
pub const EU_API: &str = "https://api.eu.opsgenie.com";
/// The sandbox instance (go SDK constant).
pub const SANDBOX_API: &str = "https://api.sandbox.opsgenie.com";

/// Where the OpsGenie account lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Region {
    /// `api.opsgenie.com`.
    #[default]
    Us,
    /// `api.eu.opsgenie.com`.
    Eu,
    /// `api.sandbox.opsgenie.com`.
    Sandbox,
}

impl Region {
    /// The API base URL of the region.
    pub fn base_url(self) -> &'static str {
        match self {
            Region::Us => US_API,
            Region::Eu => EU_API,
            Region::Sandbox => SANDBOX_API,
        }
    }
}

/// A client for one OpsGenie account. Cheap to clone: clones share the connection pool
/// and the rate limiter.
#[derive(Debug, Clone)]
pub struct OpsGenieClient {
    pub(crate) http: HttpClient,
    retry: Arc<RetryConfig>,
}

/// Builds an [`OpsGenieClient`]; see [`OpsGenieClient::builder`].
pub struct OpsGenieClientBuilder {
    base_url: String,
    api_key: Option<SecretString>,
    timeouts: TimeoutConfig,
    retry: RetryConfig,
    rate_limit: Option<RateLimitConfig>,
}

impl fmt::Debug for OpsGenieClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpsGenieClientBuilder")
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key.as_ref().map(|_| REDACTED))
            .field("timeouts", &self.timeouts)
            .field("retry", &self.retry)
            .field("rate_limit", &self.rate_limit)
            .finish()
    }
}

impl OpsGenieClientBuilder {
    /// The key of an "API" integration (Settings → API key management), sent as
    /// `Authorization: GenieKey <key>`. For users, teams and roles it needs "Read",
    /// "Create and update", "Delete" and "Configuration access".
    #[must_use]
    pub fn api_key(mut self, key: SecretString) -> Self {
        self.api_key = Some(key);
        self
    }

    /// The region's API ([`Region::Us`] by default).
    #[must_use]
    pub fn region(mut self, region: Region) -> Self {
        self.base_url = region.base_url().to_owned();
        self
    }

    /// Any base URL: a proxy, a mock, or a successor API that keeps the v2 paths.
    #[must_use]
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into();
        self
    }

    /// Sets timeouts.
    #[must_use]
    pub fn timeouts(mut self, t: TimeoutConfig) -> Self {
        self.timeouts = t;
        self
    }

    /// Sets retries: reads, PATCH and DELETE are retried on 429 and 5xx; creates and
    /// member additions are retried by the connector after checking they did not land.
    #[must_use]
    pub fn retry(mut self, r: RetryConfig) -> Self {
        self.retry = r;
        self
    }

    /// A client-side rate limit, to stay under the account's per-second buckets
    /// (off by default; OpsGenie's limits depend on the plan).
    #[must_use]
    pub fn rate_limit(mut self, r: Option<RateLimitConfig>) -> Self {
        self.rate_limit = r;
        self
    }

    /// Builds the client. Nothing is sent until the first call.
    pub fn build(self) -> Result<OpsGenieClient> {
        let key = self
            .api_key
            .ok_or_else(|| Error::config("OpsGenie needs an API key (GenieKey)"))?;
        let auth = Arc::new(ApiKeyAuth::new(
            Placement::header_with_prefix(AUTHORIZATION, "GenieKey "),
            key,
        ));
        let retry = Arc::new(self.retry.clone());
        let http = HttpClient::builder("opsgenie", self.base_url)
            .timeouts(self.timeouts)
            .retry(self.retry)
            .rate_limit(self.rate_limit)
            .auth(auth)
            .error_parser(parse_error)
            .build()?;
        Ok(OpsGenieClient { http, retry })
    }
}

impl OpsGenieClient {
    /// Starts a builder for the US instance; see [`OpsGenieClientBuilder::region`] and
    /// [`OpsGenieClientBuilder::base_url`].
    pub fn builder() -> OpsGenieClientBuilder {
        OpsGenieClientBuilder {
            base_url: US_API.to_owned(),
            api_key: None,
            timeouts: TimeoutConfig::default(),
            retry: RetryConfig::default(),
            rate_limit: None,
        }
    }

    /// The underlying HTTP client (the GenieKey goes on every request).
    pub fn http(&self) -> &HttpClient {
        &self.http
    }

    /// The retry settings (also used by the connector's check-then-retry of creates).
    pub fn retry_config(&self) -> &RetryConfig {
        &self.retry
    }

    /// Users.
    pub fn users(&self) -> Users<'_> {
        Users::new(self)
    }

    /// Teams and their members.
    pub fn teams(&self) -> Teams<'_> {
        Teams::new(self)
    }

    /// Custom user roles.
    pub fn roles(&self) -> Roles<'_> {
        Roles::new(self)
    }

    /// `GET /v2/account`: the account the key belongs to.
    pub async fn account(&self) -> Result<AccountInfo> {
        let req = self.http.get("v2/account")?;
        let body: Envelope<AccountInfo> = self.http.send_json(req).await?;
        Ok(body.data)
    }
}
