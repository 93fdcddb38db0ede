//! `TopdeskClient`: an [`HttpClient`] set up for the TOPdesk REST API — Basic auth with
//! an application password on every call, TOPdesk's error bodies — with typed handles.

use std::fmt;
use std::sync::Arc;

use accesslink_core::auth::BasicAuth;
use accesslink_core::http::{HttpClient, HttpMetrics, HttpSettings, RetryConfig};
use accesslink_core::redact::REDACTED;
use accesslink_core::{Error, Result};
use http::HeaderValue;
use http::header::ACCEPT;
use secrecy::SecretString;
use url::Url;

use crate::api::{
    Incidents, OperatorChanges, OperatorGroups, Operators, PermissionGroups, Persons,
};
use crate::error::parse_error;
use crate::models::Version;

/// A client for one TOPdesk instance. Cheap to clone: clones share the connection pool
/// and the rate limiter.
#[derive(Debug, Clone)]
pub struct TopdeskClient {
    pub(crate) http: HttpClient,
}

/// Builds a [`TopdeskClient`]; see [`TopdeskClient::builder`].
pub struct TopdeskClientBuilder {
    base_url: String,
    login: Option<(String, SecretString)>,
    http: HttpSettings,
    instance: Option<String>,
    metrics: Option<Arc<dyn HttpMetrics>>,
}

impl fmt::Debug for TopdeskClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TopdeskClientBuilder")
            .field("base_url", &self.base_url)
            .field("login", &self.login.as_ref().map(|(l, _)| (l, REDACTED)))
            .field("http", &self.http)
            .field("instance", &self.instance)
            .field("metrics", &self.metrics.is_some())
            .finish()
    }
}

/// The API root under an instance URL: `https://acme.topdesk.net` →
/// `https://acme.topdesk.net/tas/api/`. A URL that already ends in `/tas/api` is kept.
pub fn api_root(instance: &str) -> Result<Url> {
    let mut url: Url = instance
        .parse()
        .map_err(|e| Error::config(format!("topdesk base_url {instance:?}: {e}")))?;
    let path = url.path().trim_end_matches('/').to_owned();
    let path = if path.ends_with("/tas/api") {
        format!("{path}/")
    } else {
        format!("{path}/tas/api/")
    };
    url.set_path(&path);
    url.set_query(None);
    url.set_fragment(None);
    Ok(url)
}

impl TopdeskClientBuilder {
    /// The login name and application password of the account the connector acts as,
    /// sent as `Authorization: Basic base64(login:password)` on every request.
    #[must_use]
    pub fn application_password(
        mut self,
        login: impl Into<String>,
        password: SecretString,
    ) -> Self {
        self.login = Some((login.into(), password));
        self
    }

    /// Timeouts, retries, a client-side rate limit (off by default: TOPdesk documents
    /// none), user agent, root certificates, proxy and body cap.
    #[must_use]
    pub fn http(mut self, settings: HttpSettings) -> Self {
        self.http = settings;
        self
    }

    /// Names the connector instance in errors and logs (default `topdesk`).
    #[must_use]
    pub fn instance(mut self, name: impl Into<String>) -> Self {
        self.instance = Some(name.into());
        self
    }

    /// Reports requests, retries and rate-limit waits.
    #[must_use]
    pub fn metrics(mut self, metrics: Arc<dyn HttpMetrics>) -> Self {
        self.metrics = Some(metrics);
        self
    }

    /// Builds the client. Nothing is sent until the first call.
    pub fn build(self) -> Result<TopdeskClient> {
        let (login, password) = self
            .login
            .ok_or_else(|| Error::config("TOPdesk needs a login and an application password"))?;
        let root = api_root(&self.base_url)?;
        let mut http = HttpClient::builder("topdesk", root.as_str())
            .settings(&self.http)?
            .auth(Arc::new(BasicAuth::new(login, password)))
            .default_header(ACCEPT, HeaderValue::from_static("application/json"))
            .error_parser(parse_error);
        if let Some(name) = self.instance {
            http = http.instance(name);
        }
        if let Some(m) = self.metrics {
            http = http.metrics(m);
        }
        Ok(TopdeskClient {
            http: http.build()?,
        })
    }
}

impl TopdeskClient {
    /// Starts a builder for the instance at `base_url` (`https://acme.topdesk.net`).
    pub fn builder(base_url: impl Into<String>) -> TopdeskClientBuilder {
        TopdeskClientBuilder {
            base_url: base_url.into(),
            login: None,
            http: HttpSettings::default(),
            instance: None,
            metrics: None,
        }
    }

    /// The underlying HTTP client (its base URL is the API root, `…/tas/api/`).
    pub fn http(&self) -> &HttpClient {
        &self.http
    }

    /// The retry settings (also used by the connector's look-up-then-retry writes).
    pub fn retry_config(&self) -> &RetryConfig {
        self.http.retry_config()
    }

    /// Incidents.
    pub fn incidents(&self) -> Incidents<'_> {
        Incidents::new(self)
    }

    /// Operator changes.
    pub fn operator_changes(&self) -> OperatorChanges<'_> {
        OperatorChanges::new(self)
    }

    /// Persons (end users).
    pub fn persons(&self) -> Persons<'_> {
        Persons::new(self)
    }

    /// Operators (agents) and their operator groups.
    pub fn operators(&self) -> Operators<'_> {
        Operators::new(self)
    }

    /// Operator groups.
    pub fn operator_groups(&self) -> OperatorGroups<'_> {
        OperatorGroups::new(self)
    }

    /// Permission groups, listed at `path` under `/tas/api` (`permissiongroups`; the
    /// path is UNVERIFIED, see the `permission_groups_path` setting).
    pub fn permission_groups<'c>(&'c self, path: &'c str) -> PermissionGroups<'c> {
        PermissionGroups::new(self, path)
    }

    /// `GET /tas/api/version`: the API version; needs valid credentials.
    pub async fn version(&self) -> Result<Version> {
        let req = self.http.get("version")?;
        self.http.send_json(req).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_api_root_is_under_the_instance() {
        for (given, root) in [
            (
                "https://acme.topdesk.net",
                "https://acme.topdesk.net/tas/api/",
            ),
            (
                "https://acme.topdesk.net/",
                "https://acme.topdesk.net/tas/api/",
            ),
            (
                "https://acme.topdesk.net/tas/api",
                "https://acme.topdesk.net/tas/api/",
            ),
            ("http://127.0.0.1:9/td/", "http://127.0.0.1:9/td/tas/api/"),
        ] {
            assert_eq!(api_root(given).unwrap().as_str(), root, "{given}");
        }
    }
}
