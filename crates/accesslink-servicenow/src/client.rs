//! `ServiceNowClient`: an [`HttpClient`] set up for one instance's Table API — Basic or
//! OAuth2 (password grant, refresh-token grant, renewed ahead of expiry and once on a
//! 401), the vendor's error bodies — with typed handles over the tables.

use std::fmt;
use std::sync::Arc;

use accesslink_core::auth::{
    AuthProvider, BasicAuth, ClientAuthStyle, OAuth2Auth, OAuth2Config, OAuth2Grant,
};
use accesslink_core::http::{HttpClient, HttpMetrics, HttpSettings, ResetFormat, ResetHeader};
use accesslink_core::redact::REDACTED;
use accesslink_core::{Error, Result};
use http::HeaderName;
use secrecy::SecretString;
use url::Url;

use crate::api::TableApi;
use crate::error::parse_error;
use crate::models::{Group, GroupMember, Record, Role, TaskRecord, User, UserRole};

/// How the client signs in.
#[derive(Clone)]
#[non_exhaustive]
pub enum Credentials {
    /// HTTP Basic with a user and password (the user needs the `rest_service` role,
    /// or `snc_platform_rest_api_access` on newer releases, and read/write ACLs).
    Basic {
        /// The user.
        user: String,
        /// The password.
        password: SecretString,
    },
    /// OAuth2 password grant at `/oauth_token.do` with an OAuth API endpoint
    /// (`oauth_entity`) registered on the instance; the refresh token it returns is used
    /// to renew access tokens.
    OAuthPassword {
        /// The OAuth client id of the `oauth_entity`.
        client_id: String,
        /// Its client secret.
        client_secret: SecretString,
        /// The user.
        user: String,
        /// The user's password.
        password: SecretString,
    },
}

impl Credentials {
    fn user(&self) -> &str {
        match self {
            Credentials::Basic { user, .. } | Credentials::OAuthPassword { user, .. } => user,
        }
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credentials::Basic { user, .. } => f
                .debug_struct("Basic")
                .field("user", user)
                .field("password", &REDACTED)
                .finish(),
            Credentials::OAuthPassword {
                client_id, user, ..
            } => f
                .debug_struct("OAuthPassword")
                .field("client_id", client_id)
                .field("client_secret", &REDACTED)
                .field("user", user)
                .field("password", &REDACTED)
                .finish(),
        }
    }
}

/// A client for one ServiceNow instance. Cheap to clone: clones share the connection
/// pool, the rate limiter and the OAuth token.
#[derive(Debug, Clone)]
pub struct ServiceNowClient {
    pub(crate) http: HttpClient,
    user: Arc<str>,
    oauth: bool,
}

/// Builds a [`ServiceNowClient`]; see [`ServiceNowClient::builder`].
pub struct ServiceNowClientBuilder {
    instance_url: String,
    instance: Option<String>,
    credentials: Option<Credentials>,
    token_url: Option<String>,
    http: HttpSettings,
    metrics: Option<Arc<dyn HttpMetrics>>,
}

impl fmt::Debug for ServiceNowClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServiceNowClientBuilder")
            .field("instance_url", &self.instance_url)
            .field("instance", &self.instance)
            .field("credentials", &self.credentials)
            .field("token_url", &self.token_url)
            .field("http", &self.http)
            .field("metrics", &self.metrics)
            .finish()
    }
}

impl ServiceNowClientBuilder {
    /// Signs in with HTTP Basic.
    #[must_use]
    pub fn basic(mut self, user: impl Into<String>, password: SecretString) -> Self {
        self.credentials = Some(Credentials::Basic {
            user: user.into(),
            password,
        });
        self
    }

    /// Signs in with the OAuth2 password grant (then refresh-token grants).
    #[must_use]
    pub fn oauth_password(
        mut self,
        client_id: impl Into<String>,
        client_secret: SecretString,
        user: impl Into<String>,
        password: SecretString,
    ) -> Self {
        self.credentials = Some(Credentials::OAuthPassword {
            client_id: client_id.into(),
            client_secret,
            user: user.into(),
            password,
        });
        self
    }

    /// Sets the credentials.
    #[must_use]
    pub fn credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = Some(credentials);
        self
    }

    /// Overrides the token endpoint (default `<instance>/oauth_token.do`).
    #[must_use]
    pub fn token_url(mut self, url: impl Into<String>) -> Self {
        self.token_url = Some(url.into());
        self
    }

    /// Names the connector instance in errors and logs
    /// (`servicenow (prod-it): GET /api/now/table/incident`).
    #[must_use]
    pub fn instance(mut self, name: impl Into<String>) -> Self {
        self.instance = Some(name.into());
        self
    }

    /// Sets the transport: timeouts, retries (of reads and idempotent writes, and the
    /// budget of the connector's look-up-then-retry of creates, grants and comments),
    /// a client-side rate limit (to stay under the instance's `sys_rate_limit_rules`),
    /// user agent, root certificates, proxy.
    #[must_use]
    pub fn http(mut self, settings: HttpSettings) -> Self {
        self.http = settings;
        self
    }

    /// Reports requests, retries, rate-limit waits and token renewals to `metrics`
    /// (core's [`HttpCounters`](accesslink_core::http::HttpCounters), or a forwarder to
    /// your metrics system).
    #[must_use]
    pub fn metrics(mut self, metrics: Arc<dyn HttpMetrics>) -> Self {
        self.metrics = Some(metrics);
        self
    }

    fn http_client(&self, auth: Option<Arc<dyn AuthProvider>>) -> Result<HttpClient> {
        let mut b = HttpClient::builder("servicenow", self.instance_url.clone())
            .settings(&self.http)?
            // A throttled instance answers 429 with `X-RateLimit-Reset` (a Unix time in
            // seconds) and, on some releases, no `Retry-After` (fact sheet §1 "Errors,
            // rate limits, quirks"); core honours it within the request's one budget.
            .retry_classifier(Arc::new(ResetHeader::new(
                HeaderName::from_static("x-ratelimit-reset"),
                ResetFormat::EpochSeconds,
            )))
            .error_parser(parse_error);
        if let Some(name) = &self.instance {
            b = b.instance(name.clone());
        }
        if let Some(m) = &self.metrics {
            b = b.metrics(m.clone());
        }
        if let Some(auth) = auth {
            b = b.auth(auth);
        }
        b.build()
    }

    /// Builds the client. Nothing is sent until the first call.
    pub fn build(self) -> Result<ServiceNowClient> {
        let credentials = self.credentials.clone().ok_or_else(|| {
            Error::config("ServiceNow needs credentials: basic() or oauth_password()")
        })?;
        let user: Arc<str> = Arc::from(credentials.user());
        let (http, oauth) = match credentials {
            Credentials::Basic { user, password } => (
                self.http_client(Some(Arc::new(BasicAuth::new(user, password))))?,
                false,
            ),
            Credentials::OAuthPassword {
                client_id,
                client_secret,
                user,
                password,
            } => {
                // The client that calls the token endpoint carries no auth of its own.
                let plain = self.http_client(None)?;
                let token_url = match &self.token_url {
                    Some(u) => {
                        Url::parse(u).map_err(|e| Error::config(format!("token URL: {e}")))?
                    }
                    None => plain
                        .base_url()
                        .join("oauth_token.do")
                        .map_err(|e| Error::config(format!("token URL: {e}")))?,
                };
                // ServiceNow reads client id and secret from the form body, which must be
                // form-encoded (fact sheet §1 "Base URL / auth").
                let config = OAuth2Config::new(
                    token_url,
                    client_id,
                    OAuth2Grant::Password {
                        username: user,
                        password,
                    },
                )
                .client_secret(client_secret)
                .client_auth(ClientAuthStyle::RequestBody);
                let auth = OAuth2Auth::new(config, plain.clone());
                (plain.with_auth(Arc::new(auth)), true)
            }
        };
        Ok(ServiceNowClient { http, user, oauth })
    }
}

impl ServiceNowClient {
    /// Starts a builder for the instance at `instance_url`
    /// (`https://acme.service-now.com`); the Table API is under `/api/now/table/`.
    pub fn builder(instance_url: impl Into<String>) -> ServiceNowClientBuilder {
        ServiceNowClientBuilder {
            instance_url: instance_url.into(),
            instance: None,
            credentials: None,
            token_url: None,
            http: HttpSettings::default(),
            metrics: None,
        }
    }

    /// The underlying HTTP client (credentials attached to every request).
    pub fn http(&self) -> &HttpClient {
        &self.http
    }

    /// The instance URL.
    pub fn instance_url(&self) -> &Url {
        self.http.base_url()
    }

    /// The user the client signs in as.
    pub fn user(&self) -> &str {
        &self.user
    }

    /// Whether the client uses OAuth (else Basic).
    pub fn is_oauth(&self) -> bool {
        self.oauth
    }

    /// A handle on any table, decoding rows as `M` (`serde_json::Value` for raw rows,
    /// with every field). The name is checked (`[a-z0-9_]+`) before each request.
    pub fn table<M: Record>(&self, name: impl Into<String>) -> TableApi<'_, M> {
        TableApi::new(self, name.into())
    }

    /// `incident`.
    pub fn incidents(&self) -> TableApi<'_, TaskRecord> {
        self.table("incident")
    }

    /// `change_request`.
    pub fn change_requests(&self) -> TableApi<'_, TaskRecord> {
        self.table("change_request")
    }

    /// `change_task`.
    pub fn change_tasks(&self) -> TableApi<'_, TaskRecord> {
        self.table("change_task")
    }

    /// `sc_request`.
    pub fn requests(&self) -> TableApi<'_, TaskRecord> {
        self.table("sc_request")
    }

    /// `sc_req_item`.
    pub fn request_items(&self) -> TableApi<'_, TaskRecord> {
        self.table("sc_req_item")
    }

    /// `sc_task`.
    pub fn catalog_tasks(&self) -> TableApi<'_, TaskRecord> {
        self.table("sc_task")
    }

    /// `problem`.
    pub fn problems(&self) -> TableApi<'_, TaskRecord> {
        self.table("problem")
    }

    /// `pm_project`.
    pub fn projects(&self) -> TableApi<'_, TaskRecord> {
        self.table("pm_project")
    }

    /// `pm_project_task`.
    pub fn project_tasks(&self) -> TableApi<'_, TaskRecord> {
        self.table("pm_project_task")
    }

    /// `task`: every task-family row; `sys_class_name` tells its table.
    pub fn tasks(&self) -> TableApi<'_, TaskRecord> {
        self.table("task")
    }

    /// `sys_user`.
    pub fn users(&self) -> TableApi<'_, User> {
        self.table("sys_user")
    }

    /// `sys_user_group`.
    pub fn groups(&self) -> TableApi<'_, Group> {
        self.table("sys_user_group")
    }

    /// `sys_user_grmember`.
    pub fn group_members(&self) -> TableApi<'_, GroupMember> {
        self.table("sys_user_grmember")
    }

    /// `sys_user_role`.
    pub fn roles(&self) -> TableApi<'_, Role> {
        self.table("sys_user_role")
    }

    /// `sys_user_has_role`.
    pub fn user_roles(&self) -> TableApi<'_, UserRole> {
        self.table("sys_user_has_role")
    }
}
