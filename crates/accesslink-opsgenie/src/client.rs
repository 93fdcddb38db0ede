//! `OpsGenieClient`: an [`HttpClient`] set up for the OpsGenie REST API v2 —
//! `Authorization: GenieKey <key>` on every call, OpsGenie's error bodies — with typed
//! handles.

use std::fmt;
use std::sync::Arc;

use accesslink_core::auth::{ApiKeyAuth, Placement};
use accesslink_core::http::{HttpClient, HttpMetrics, HttpSettings, RetryConfig};
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
///
/// In settings the base URL is given as is; these are the three documented hosts.
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
}

/// Builds an [`OpsGenieClient`]; see [`OpsGenieClient::builder`].
pub struct OpsGenieClientBuilder {
    base_url: String,
    api_key: Option<SecretString>,
    http: HttpSettings,
    instance: Option<String>,
    metrics: Option<Arc<dyn HttpMetrics>>,
}

impl fmt::Debug for OpsGenieClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpsGenieClientBuilder")
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key.as_ref().map(|_| REDACTED))
            .field("http", &self.http)
            .field("instance", &self.instance)
            .field("metrics", &self.metrics.is_some())
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

    /// Timeouts, retries, a client-side rate limit (off by default; OpsGenie's limits
    /// depend on the plan), user agent, root certificates, proxy and body cap: core's
    /// [`HttpSettings`]. Reads, PATCH and DELETE are retried on 429 and 5xx; creates and
    /// member additions are retried by the connector after checking they did not land,
    /// within the same `retry` budget.
    #[must_use]
    pub fn http(mut self, settings: HttpSettings) -> Self {
        self.http = settings;
        self
    }

    /// Names the connector instance in errors and logs (default `opsgenie`).
    #[must_use]
    pub fn instance(mut self, name: impl Into<String>) -> Self {
        self.instance = Some(name.into());
        self
    }

    /// Reports requests, retries and rate-limit waits (core's [`HttpMetrics`], e.g. an
    /// [`HttpCounters`](accesslink_core::http::HttpCounters)).
    #[must_use]
    pub fn metrics(mut self, metrics: Arc<dyn HttpMetrics>) -> Self {
        self.metrics = Some(metrics);
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
        let mut http = HttpClient::builder("opsgenie", self.base_url)
            .settings(&self.http)?
            .auth(auth)
            .error_parser(parse_error);
        if let Some(name) = self.instance {
            http = http.instance(name);
        }
        if let Some(m) = self.metrics {
            http = http.metrics(m);
        }
        Ok(OpsGenieClient {
            http: http.build()?,
        })
    }
}

impl OpsGenieClient {
    /// Starts a builder for the US instance; see [`OpsGenieClientBuilder::region`] and
    /// [`OpsGenieClientBuilder::base_url`].
    pub fn builder() -> OpsGenieClientBuilder {
        OpsGenieClientBuilder {
            base_url: US_API.to_owned(),
            api_key: None,
            http: HttpSettings::default(),
            instance: None,
            metrics: None,
        }
    }

    /// The underlying HTTP client (the GenieKey goes on every request).
    pub fn http(&self) -> &HttpClient {
        &self.http
    }

    /// The retry settings (also used by the connector's check-then-retry of creates).
    pub fn retry_config(&self) -> &RetryConfig {
        self.http.retry_config()
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
