//! [`JiraSettings`]: one Jira site as configuration (deployment, base URL, auth, core
//! [`HttpSettings`], status overrides and the connector's options), and the one path to a
//! connector ([`JiraConnector::from_settings`]).

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use accesslink_core::http::HttpSettings;
use accesslink_core::redact::url_shown;
use accesslink_core::{Error, Result, SecretSource, StatusOverrides, TicketKind};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use url::Url;

use crate::client::JiraClient;
use crate::connector::JiraConnector;
use crate::oauth::{
    API_URL, AUTH_URL, FileRefreshTokenStore, MemoryRefreshTokenStore, OAuthClient,
    RefreshTokenStore,
};
use crate::status::default_status_map;

/// Which Jira: Cloud (REST API v3, rich text as ADF, accountIds) or Data Center / Server
/// (REST API v2, rich text as strings, user names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Deployment {
    /// `https://{site}.atlassian.net` or, through OAuth, `api.atlassian.com/ex/jira/{cloudid}`.
    Cloud,
    /// `https://{host}[/{context}]`, Jira Data Center or Server.
    DataCenter,
}

impl Deployment {
    /// The platform REST API prefix: `rest/api/3/` on Cloud, `rest/api/2/` on Data Center.
    pub fn api(self) -> &'static str {
        match self {
            Deployment::Cloud => "rest/api/3/",
            Deployment::DataCenter => "rest/api/2/",
        }
    }
}

/// How the connector signs in: `auth = { method = "basic", … }`.
#[allow(
    clippy::large_enum_variant,
    reason = "one value per configured instance, read once at construction"
)]
#[derive(Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "method", rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
pub enum JiraAuth {
    /// HTTP Basic. Cloud: the account's e-mail and an API token (passwords are refused by
    /// Cloud). Data Center: a user name and password (`user` or `username`, and
    /// `password`, are accepted as the keys' other names).
    Basic {
        /// The e-mail (Cloud) or user name (Data Center).
        #[serde(alias = "username", alias = "user")]
        email: String,
        /// The API token (Cloud) or password (Data Center).
        #[serde(alias = "password")]
        api_token: SecretSource,
    },
    /// `Authorization: Bearer <token>`: a Data Center personal access token (Jira 8.14+).
    Bearer {
        /// The personal access token.
        token: SecretSource,
    },
    /// OAuth 2.0 (3LO) on Cloud through `api.atlassian.com/ex/jira/{cloud_id}`, with
    /// rotating refresh tokens kept in a store (see [`crate::oauth`]).
    Oauth {
        /// The app's client id.
        client_id: String,
        /// The app's client secret.
        client_secret: SecretSource,
        /// A file holding the current refresh token, replaced atomically on every
        /// renewal. Recommended: a token that only lives in memory dies with the process.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        refresh_token_file: Option<PathBuf>,
        /// The first refresh token (from the consent step): used when the file does not
        /// exist yet (it is then written there), or kept in memory without a file.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        refresh_token: Option<SecretSource>,
        /// The site's cloud id; when absent it is looked up in the token's accessible
        /// resources, picking the one whose URL is `base_url`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cloud_id: Option<String>,
        /// The authorization server (default `https://auth.atlassian.com`).
        #[serde(default = "default_auth_url")]
        auth_url: Url,
        /// The API gateway (default `https://api.atlassian.com`).
        #[serde(default = "default_api_url")]
        api_url: Url,
    },
}

impl fmt::Debug for JiraAuth {
    /// Secrets are [`SecretSource`]s, whose Debug never shows an inline value; URLs are
    /// shown without query or fragment.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JiraAuth::Basic { email, api_token } => f
                .debug_struct("Basic")
                .field("email", email)
                .field("api_token", api_token)
                .finish(),
            JiraAuth::Bearer { token } => f.debug_struct("Bearer").field("token", token).finish(),
            JiraAuth::Oauth {
                client_id,
                client_secret,
                refresh_token_file,
                refresh_token,
                cloud_id,
                auth_url,
                api_url,
            } => f
                .debug_struct("Oauth")
                .field("client_id", client_id)
                .field("client_secret", client_secret)
                .field("refresh_token_file", refresh_token_file)
                .field("refresh_token", refresh_token)
                .field("cloud_id", cloud_id)
                .field("auth_url", &url_shown(auth_url))
                .field("api_url", &url_shown(api_url))
                .finish(),
        }
    }
}

fn default_auth_url() -> Url {
    AUTH_URL.parse().expect("a valid URL")
}
fn default_api_url() -> Url {
    API_URL.parse().expect("a valid URL")
}

/// A Jira Service Management service desk to open requests in (`POST
/// /rest/servicedeskapi/request`) instead of plain issues.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ServiceDeskSettings {
    /// The service desk id (`serviceDeskId`).
    pub id: String,
    /// Request type id per ticket kind (`change = "25"`); kinds not listed are opened
    /// as plain issues in `project`.
    #[serde(default)]
    pub request_types: BTreeMap<String, String>,
}

fn default_name() -> String {
    "jira".into()
}
fn default_issue_type() -> String {
    "Task".into()
}
fn default_label_prefix() -> String {
    "accesslink-".into()
}
fn default_batch_size() -> u32 {
    50
}
fn default_page_size() -> u32 {
    100
}
fn default_account_types() -> Vec<String> {
    vec!["atlassian".into()]
}
fn default_products() -> Vec<String> {
    vec!["jira-software".into()]
}
fn default_resolution() -> String {
    "Done".into()
}
fn default_failed_resolution() -> String {
    "Won't Do".into()
}
fn default_request_type_field() -> String {
    "customfield_10010".into()
}

/// One Jira site, loadable from configuration (`deny_unknown_fields`).
///
/// ```toml
/// [instances.jira-cloud]
/// target = "jira"
/// deployment = "cloud"
/// base_url = "https://acme.atlassian.net"
/// auth = { method = "basic", email = "iam-bot@acme.example", api_token = { env = "JIRA_TOKEN" } }
/// project = "ITSM"
/// issue_types = { change = "Change", incident = "Incident" }
/// jsm_approvals = true
///
/// [instances.jira-dc]
/// target = "jira"
/// deployment = "data_center"
/// base_url = "https://jira.acme.internal/jira"
/// auth = { method = "bearer", token = { file = "/run/secrets/jira-pat" } }
/// ```
#[derive(Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct JiraSettings {
    /// The instance name in errors, logs and `info()` (default `jira`).
    #[serde(default = "default_name")]
    pub name: String,
    /// Cloud or Data Center: chooses API v3 + ADF or v2 + strings, and user identity.
    pub deployment: Deployment,
    /// The site (`https://acme.atlassian.net`, `https://jira.acme.internal/jira`); with
    /// OAuth, the site whose cloud id is looked up, and the base of web links.
    pub base_url: Url,
    /// How to sign in.
    pub auth: JiraAuth,
    /// Timeouts, retries, rate limit, user agent, certificates, proxy, body cap.
    #[serde(default)]
    pub http: HttpSettings,
    /// Additions to the status map (keys: `status:<name>`, `resolution:<name>`, a
    /// category key; see `docs/connectors/jira.md`).
    #[serde(default)]
    pub status_map: StatusOverrides,
    /// The project new issues go to (its key). Without it the connector does not create.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    /// The issue type of new issues (default `Task`).
    #[serde(default = "default_issue_type")]
    pub issue_type: String,
    /// Issue type per ticket kind (`change = "Change"`), over `issue_type`.
    #[serde(default)]
    pub issue_types: BTreeMap<String, String>,
    /// Open these kinds as JSM requests in a service desk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_desk: Option<ServiceDeskSettings>,
    /// Read JSM approvals (`/rest/servicedeskapi/request/{key}/approval`) with every
    /// ticket (default `false`: one more request per ticket).
    #[serde(default)]
    pub jsm_approvals: bool,
    /// A text custom field (`customfield_10050`, single-line) that carries the correlation
    /// id instead of a label: set on create, found with a JQL phrase search
    /// (`cf[10050] ~ "\"id\""`) and compared exactly on the results.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correlation_field: Option<String>,
    /// The correlation label is this prefix and the correlation id (default `accesslink-`).
    #[serde(default = "default_label_prefix")]
    pub correlation_label_prefix: String,
    /// Issues per batched read (`key in (…)`), 1-100 (default 50).
    #[serde(default = "default_batch_size")]
    pub batch_size: u32,
    /// Rows per page of users, groups and members when the caller names no size
    /// (default 100; Cloud allows up to 1000 users, 50 members).
    #[serde(default = "default_page_size")]
    pub page_size: u32,
    /// Cloud account types imported (default `["atlassian"]`; add `app`, `customer`).
    #[serde(default = "default_account_types")]
    pub account_types: Vec<String>,
    /// Products new Cloud users get (default `["jira-software"]`).
    #[serde(default = "default_products")]
    pub products: Vec<String>,
    /// The transition that closes a ticket successfully, by name; default: one whose
    /// target status is in the `done` category, found at run time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub close_transition: Option<String>,
    /// The transition that closes a failed ticket, by name; default: a `done` transition
    /// whose name says cancel, decline or reject, else any `done` one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancel_transition: Option<String>,
    /// The resolution set on success when the transition screen has the field (default `Done`).
    #[serde(default = "default_resolution")]
    pub resolution: String,
    /// The resolution set on failure (default `Won't Do`).
    #[serde(default = "default_failed_resolution")]
    pub failed_resolution: String,
    /// The JSM "Customer Request Type" custom field (default `customfield_10010`, the
    /// usual id on Cloud; **unverified** per site, so configurable): read with every
    /// issue when a service desk is configured, and compared with the request type of a
    /// `PROJ/requestTypeId` listing scope.
    #[serde(default = "default_request_type_field")]
    pub request_type_field: String,
    /// The API user's profile time zone as minutes east of UTC (default `0`): JQL reads
    /// dates in it, so a listing's `updated >= "yyyy/MM/dd HH:mm"` is written in it. A
    /// value east of the real zone only reads more (never misses); with daylight saving,
    /// give the summer offset.
    #[serde(default)]
    pub search_utc_offset_minutes: i32,
}

impl fmt::Debug for JiraSettings {
    /// The base URL without query or fragment; secrets as [`SecretSource`] shows them.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JiraSettings")
            .field("name", &self.name)
            .field("deployment", &self.deployment)
            .field("base_url", &url_shown(&self.base_url))
            .field("auth", &self.auth)
            .field("http", &self.http)
            .field("status_map", &self.status_map)
            .field("project", &self.project)
            .field("issue_type", &self.issue_type)
            .field("issue_types", &self.issue_types)
            .field("service_desk", &self.service_desk)
            .field("jsm_approvals", &self.jsm_approvals)
            .field("correlation_field", &self.correlation_field)
            .field("correlation_label_prefix", &self.correlation_label_prefix)
            .field("batch_size", &self.batch_size)
            .field("page_size", &self.page_size)
            .field("account_types", &self.account_types)
            .field("products", &self.products)
            .field("close_transition", &self.close_transition)
            .field("cancel_transition", &self.cancel_transition)
            .field("resolution", &self.resolution)
            .field("failed_resolution", &self.failed_resolution)
            .field("request_type_field", &self.request_type_field)
            .field("search_utc_offset_minutes", &self.search_utc_offset_minutes)
            .finish()
    }
}

impl JiraSettings {
    /// Settings with defaults for everything but the deployment, site and auth.
    pub fn new(deployment: Deployment, base_url: Url, auth: JiraAuth) -> Self {
        JiraSettings {
            name: default_name(),
            deployment,
            base_url,
            auth,
            http: HttpSettings::default(),
            status_map: StatusOverrides::default(),
            project: None,
            issue_type: default_issue_type(),
            issue_types: BTreeMap::new(),
            service_desk: None,
            jsm_approvals: false,
            correlation_field: None,
            correlation_label_prefix: default_label_prefix(),
            batch_size: default_batch_size(),
            page_size: default_page_size(),
            account_types: default_account_types(),
            products: default_products(),
            close_transition: None,
            cancel_transition: None,
            resolution: default_resolution(),
            failed_resolution: default_failed_resolution(),
            request_type_field: default_request_type_field(),
            search_utc_offset_minutes: 0,
        }
    }

    /// Sets the project new issues go to.
    #[must_use]
    pub fn project(mut self, key: impl Into<String>) -> Self {
        self.project = Some(key.into());
        self
    }

    fn validate(&self, has_store: bool) -> Result<()> {
        let bad = |m: String| Err(Error::config(format!("jira ({}): {m}", self.name)));
        if self.name.trim().is_empty() {
            return bad("name must not be empty".into());
        }
        if !matches!(self.base_url.scheme(), "https" | "http") {
            return bad(format!(
                "base_url: scheme {:?} is not http(s)",
                self.base_url.scheme()
            ));
        }
        match (&self.auth, self.deployment) {
            (JiraAuth::Bearer { .. }, Deployment::Cloud) => {
                return bad("bearer (personal access token) is for data_center; Cloud takes basic (e-mail + API token) or oauth".into());
            }
            (JiraAuth::Oauth { .. }, Deployment::DataCenter) => {
                return bad("oauth (3LO) is for cloud; Data Center takes bearer or basic".into());
            }
            (
                JiraAuth::Oauth {
                    refresh_token: None,
                    refresh_token_file: None,
                    ..
                },
                _,
            ) if !has_store => return bad("oauth needs refresh_token_file or refresh_token".into()),
            _ => {}
        }
        if let Some(p) = &self.project {
            if p.is_empty() || !p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return bad(format!("project {p:?} is not a project key"));
            }
        }
        if !(1..=100).contains(&self.batch_size) {
            return bad(format!("batch_size must be 1-100, not {}", self.batch_size));
        }
        if !(1..=1000).contains(&self.page_size) {
            return bad(format!("page_size must be 1-1000, not {}", self.page_size));
        }
        let custom_ok = |f: &str| {
            f.strip_prefix("customfield_").is_some_and(|d| {
                !d.is_empty() && d.len() <= 18 && d.bytes().all(|b| b.is_ascii_digit())
            })
        };
        if !custom_ok(&self.request_type_field) {
            return bad(format!(
                "request_type_field {:?} is not a custom field id (customfield_10010)",
                self.request_type_field
            ));
        }
        if !(-720..=840).contains(&self.search_utc_offset_minutes) {
            return bad(format!(
                "search_utc_offset_minutes must be -720..=840, not {}",
                self.search_utc_offset_minutes
            ));
        }
        if let Some(f) = &self.correlation_field {
            let ok = f.strip_prefix("customfield_").is_some_and(|d| {
                !d.is_empty() && d.len() <= 18 && d.bytes().all(|b| b.is_ascii_digit())
            });
            if !ok {
                return bad(format!(
                    "correlation_field {f:?} is not a custom field id (customfield_10050)"
                ));
            }
        }
        let prefix = &self.correlation_label_prefix;
        if prefix.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return bad("correlation_label_prefix cannot hold spaces (labels have none)".into());
        }
        for kind in self.issue_types.keys().chain(
            self.service_desk
                .iter()
                .flat_map(|s| s.request_types.keys()),
        ) {
            if !KINDS.contains(&kind.as_str()) {
                return bad(format!("{kind:?} is not a ticket kind ({})", kind_names()));
            }
        }
        Ok(())
    }

    /// The issue type of new tickets of `kind`.
    pub(crate) fn issue_type_of(&self, kind: &TicketKind) -> String {
        self.issue_types
            .get(&kind.to_string())
            .cloned()
            .unwrap_or_else(|| self.issue_type.clone())
    }
}

/// The ticket kinds settings can name.
const KINDS: &[&str] = &[
    "incident",
    "change",
    "change_task",
    "request",
    "request_item",
    "problem",
    "project",
    "project_task",
    "task",
    "case",
];

fn kind_names() -> String {
    KINDS.join(", ")
}

impl JiraConnector {
    /// The one construction path: checks every option, reads the secrets, builds the
    /// client and the connector. Nothing is sent until the first call. With OAuth, the
    /// refresh token lives in `refresh_token_file` (or memory); to keep it in your own
    /// vault use [`from_settings_with_store`](Self::from_settings_with_store).
    ///
    /// ```no_run
    /// use accesslink_core::SecretSource;
    /// use accesslink_jira::{Deployment, JiraAuth, JiraConnector, JiraSettings};
    ///
    /// # fn run() -> accesslink_core::Result<()> {
    /// let auth: JiraAuth = serde_json::from_value(serde_json::json!({
    ///     "method": "bearer", "token": { "env": "JIRA_PAT" }
    /// })).expect("valid auth");
    /// let settings = JiraSettings::new(
    ///     Deployment::DataCenter,
    ///     "https://jira.acme.internal".parse().expect("a URL"),
    ///     auth,
    /// )
    /// .project("ITSM");
    /// let jira = JiraConnector::from_settings(settings)?;
    /// # Ok(()) }
    /// ```
    pub fn from_settings(s: JiraSettings) -> Result<JiraConnector> {
        Self::build(s, None)
    }

    /// [`from_settings`](Self::from_settings) with an embedder's refresh-token store
    /// (OAuth only; `refresh_token_file` and `refresh_token` are then ignored).
    pub fn from_settings_with_store(
        s: JiraSettings,
        store: Arc<dyn RefreshTokenStore>,
    ) -> Result<JiraConnector> {
        Self::build(s, Some(store))
    }

    fn build(s: JiraSettings, store: Option<Arc<dyn RefreshTokenStore>>) -> Result<JiraConnector> {
        s.validate(store.is_some())?;
        let mut builder = JiraClient::builder(s.deployment, s.base_url.clone())
            .extra_fields(
                s.correlation_field
                    .iter()
                    .chain(s.service_desk.as_ref().map(|_| &s.request_type_field))
                    .cloned(),
            )
            .instance(s.name.clone())
            .http(s.http.clone());
        builder = match &s.auth {
            JiraAuth::Basic { email, api_token } => {
                builder.basic(email.clone(), api_token.resolve("jira auth.api_token")?)
            }
            JiraAuth::Bearer { token } => builder.bearer(token.resolve("jira auth.token")?),
            JiraAuth::Oauth {
                client_id,
                client_secret,
                refresh_token_file,
                refresh_token,
                cloud_id,
                auth_url,
                api_url,
            } => {
                let store: Arc<dyn RefreshTokenStore> = match (store, refresh_token_file) {
                    (Some(store), _) => store,
                    (None, Some(path)) => {
                        let file = FileRefreshTokenStore::new(path.clone());
                        if file.load()?.is_none() {
                            let first = refresh_token.as_ref().ok_or_else(|| {
                                Error::config(format!(
                                    "jira oauth: {} holds no refresh token and no refresh_token is configured",
                                    path.display()
                                ))
                            })?;
                            file.save(&first.resolve("jira auth.refresh_token")?)?;
                        }
                        Arc::new(file)
                    }
                    (None, None) => {
                        let first = refresh_token.as_ref().ok_or_else(|| {
                            Error::config("jira oauth needs refresh_token_file or refresh_token")
                        })?;
                        Arc::new(MemoryRefreshTokenStore::new(
                            first.resolve("jira auth.refresh_token")?,
                        ))
                    }
                };
                let client = OAuthClient {
                    client_id: client_id.clone(),
                    client_secret: client_secret.resolve("jira auth.client_secret")?,
                    auth_url: auth_url.clone(),
                };
                builder.oauth(client, store, cloud_id.clone(), api_url.clone())
            }
        };
        let client = builder.build()?;
        let map = default_status_map().with_overrides(&s.status_map);
        Ok(JiraConnector::new(client, s, map))
    }
}
