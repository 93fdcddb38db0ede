//! [`ServiceNowSettings`]: everything a ServiceNow connector needs, loadable from a
//! configuration file, and [`ServiceNowConfig`], the behaviour part of it (ticket
//! routing, comments, closing, correlation, paging and batch sizes) for connectors built
//! over an existing [`ServiceNowClient`](crate::ServiceNowClient).
//!
//! ```toml
//! [instances.prod-it]
//! target = "servicenow"
//! base_url = "https://acme.service-now.com"
//! auth = { method = "oauth_password", client_id = "3f2c…", client_secret = { env = "SN_CLIENT_SECRET" }, user = "svc.accesslink", password = { env = "SN_PASSWORD" } }
//! request_table = "sc_req_item"
//! http = { retry = { max_attempts = 4 } }
//! status_map = { states = { "incident:9" = "on_hold" } }
//! ```

use std::collections::BTreeMap;
use std::fmt;

use accesslink_core::http::HttpSettings;
use accesslink_core::{SecretSource, StatusOverrides};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use url::Url;

/// Which journal field a comment goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CommentField {
    /// `Visibility::Public` → `comments` (customer-visible), `Internal` → `work_notes`.
    /// The default.
    #[default]
    FromVisibility,
    /// Always `comments`.
    AlwaysComments,
    /// Always `work_notes`.
    AlwaysWorkNotes,
}

/// How `close_ticket` closes an incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum IncidentClose {
    /// Resolve (state 6 with close code and notes), then close (state 7). The default.
    #[default]
    ResolveAndClose,
    /// Only resolve; the instance (or the caller) closes it later.
    ResolveOnly,
}

/// How the connector behaves, for [`ServiceNowConnector::new`](crate::ServiceNowConnector::new)
/// over an existing client: the top-level options of [`ServiceNowSettings`] (which
/// [`ServiceNowSettings::config`] turns into this). Every field has a documented default.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServiceNowConfig {
    /// An instance name for logs and audit (default `servicenow`).
    pub instance: String,
    /// Which journal field comments go to.
    pub comments: CommentField,
    /// How incidents are closed.
    pub incident_close: IncidentClose,
    /// The table `TicketKind::Request` opens (default `sc_request`; `sc_req_item` on
    /// instances where items carry the work).
    pub request_table: String,
    /// Extra number prefixes and their tables (`("UREQ", "u_access_request")`), on top
    /// of INC, CHG, CTASK, REQ, RITM, SCTASK, PRB, PRJ, PRJTASK and TASK.
    pub custom_prefixes: Vec<(String, String)>,
    /// Written to `correlation_display` on create (default `accesslink`).
    pub correlation_display: Option<String>,
    /// Whether correlation look-ups also require `correlation_display` to match
    /// (default `false`: the correlation id alone decides, so a ticket is found even if
    /// the display name changed).
    pub match_correlation_display: bool,
    /// Close code of a successfully closed incident when the resolution has none
    /// (default `Solution provided`).
    pub incident_close_code: String,
    /// Custom fields (`u_*`) read with every ticket into `Ticket::extra`.
    pub extra_fields: Vec<String>,
    /// Tickets per `numberIN…` request in batched reads (default 50).
    pub batch_size: usize,
    /// Rows per page when the caller asks for no size (default 1000; at most 10000).
    pub page_size: u32,
    /// Base of links for people (default: the instance URL).
    pub ui_url: Option<String>,
    /// Entries added to, or changed in, the [default status map](crate::status::default_status_map).
    pub status_map: StatusOverrides,
}

impl Default for ServiceNowConfig {
    fn default() -> Self {
        ServiceNowConfig {
            instance: "servicenow".into(),
            comments: CommentField::default(),
            incident_close: IncidentClose::default(),
            request_table: "sc_request".into(),
            custom_prefixes: Vec::new(),
            correlation_display: Some("accesslink".into()),
            match_correlation_display: false,
            incident_close_code: "Solution provided".into(),
            extra_fields: Vec::new(),
            batch_size: 50,
            page_size: 1000,
            ui_url: None,
            status_map: StatusOverrides::default(),
        }
    }
}

impl ServiceNowConfig {
    /// The defaults.
    pub fn new() -> Self {
        ServiceNowConfig::default()
    }

    /// Sets the instance name.
    #[must_use]
    pub fn instance(mut self, name: impl Into<String>) -> Self {
        self.instance = name.into();
        self
    }

    /// Sets where comments go.
    #[must_use]
    pub fn comments(mut self, field: CommentField) -> Self {
        self.comments = field;
        self
    }

    /// Sets how incidents are closed.
    #[must_use]
    pub fn incident_close(mut self, how: IncidentClose) -> Self {
        self.incident_close = how;
        self
    }

    /// Sets the table of `TicketKind::Request`.
    #[must_use]
    pub fn request_table(mut self, table: impl Into<String>) -> Self {
        self.request_table = table.into();
        self
    }

    /// Adds a number prefix routed to a table (checked when the connector is built).
    #[must_use]
    pub fn custom_prefix(mut self, prefix: impl Into<String>, table: impl Into<String>) -> Self {
        self.custom_prefixes.push((prefix.into(), table.into()));
        self
    }

    /// Sets `correlation_display` (`None`: leave it empty).
    #[must_use]
    pub fn correlation_display(mut self, display: Option<String>) -> Self {
        self.correlation_display = display;
        self
    }

    /// Sets whether correlation look-ups match `correlation_display` too.
    #[must_use]
    pub fn match_correlation_display(mut self, on: bool) -> Self {
        self.match_correlation_display = on;
        self
    }

    /// Sets the default incident close code.
    #[must_use]
    pub fn incident_close_code(mut self, code: impl Into<String>) -> Self {
        self.incident_close_code = code.into();
        self
    }

    /// Adds a custom field read with every ticket.
    #[must_use]
    pub fn extra_field(mut self, field: impl Into<String>) -> Self {
        self.extra_fields.push(field.into());
        self
    }

    /// Sets the batch size of batched reads (1..=100).
    #[must_use]
    pub fn batch_size(mut self, n: usize) -> Self {
        self.batch_size = n.clamp(1, 100);
        self
    }

    /// Sets the default page size (1..=10000).
    #[must_use]
    pub fn page_size(mut self, n: u32) -> Self {
        self.page_size = n.clamp(1, crate::api::MAX_LIMIT);
        self
    }

    /// Sets the base of links for people.
    #[must_use]
    pub fn ui_url(mut self, url: impl Into<String>) -> Self {
        self.ui_url = Some(url.into());
        self
    }

    /// Sets the status map overrides.
    #[must_use]
    pub fn status_map(mut self, overrides: StatusOverrides) -> Self {
        self.status_map = overrides;
        self
    }
}

fn default_name() -> String {
    "servicenow".into()
}

fn default_request_table() -> String {
    "sc_request".into()
}

fn default_correlation_display() -> Option<String> {
    Some("accesslink".into())
}

fn default_incident_close_code() -> String {
    "Solution provided".into()
}

fn default_batch_size() -> usize {
    50
}

fn default_page_size() -> u32 {
    1000
}

/// How the connector signs in, tagged by `method`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "method", rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
pub enum ServiceNowAuth {
    /// HTTP Basic (`{ method = "basic", user, password }`). The user needs the
    /// `rest_service` role (`snc_platform_rest_api_access` on newer releases) and
    /// read/write ACLs on the tables.
    Basic {
        /// The user (`user_name`).
        user: String,
        /// The password.
        password: SecretSource,
    },
    /// OAuth2 password grant, then refresh-token grants
    /// (`{ method = "oauth_password", client_id, client_secret, user, password, token_url? }`),
    /// with an OAuth API endpoint (`oauth_entity`) registered on the instance.
    #[serde(rename = "oauth_password")]
    OAuthPassword {
        /// The OAuth client id of the `oauth_entity`.
        client_id: String,
        /// Its client secret.
        client_secret: SecretSource,
        /// The user.
        user: String,
        /// The user's password.
        password: SecretSource,
        /// The token endpoint (default `<base_url>/oauth_token.do`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        token_url: Option<Url>,
    },
}

impl ServiceNowAuth {
    /// Basic auth.
    pub fn basic(user: impl Into<String>, password: impl Into<SecretSource>) -> Self {
        ServiceNowAuth::Basic {
            user: user.into(),
            password: password.into(),
        }
    }

    /// The OAuth2 password grant at the default token endpoint.
    pub fn oauth_password(
        client_id: impl Into<String>,
        client_secret: impl Into<SecretSource>,
        user: impl Into<String>,
        password: impl Into<SecretSource>,
    ) -> Self {
        ServiceNowAuth::OAuthPassword {
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            user: user.into(),
            password: password.into(),
            token_url: None,
        }
    }
}

/// Everything a ServiceNow connector needs, as a configuration file holds it; built into
/// a connector by [`ServiceNowConnector::from_settings`](crate::ServiceNowConnector::from_settings).
///
/// Keys (unknown keys are refused):
///
/// | key | default | meaning |
/// |---|---|---|
/// | `name` | `servicenow` | instance name in errors, logs and `ConnectorInfo` |
/// | `base_url` | required | the instance URL (`https://acme.service-now.com`) |
/// | `auth` | required | [`ServiceNowAuth`]: `basic` or `oauth_password` |
/// | `http` | defaults | core [`HttpSettings`]: timeouts, retry, rate limit, user agent, root certificates, proxy |
/// | `status_map` | empty | [`StatusOverrides`] on top of [`default_status_map`](crate::status::default_status_map) (keys `<table or family>:<state>`, see [`status`](crate::status)) |
/// | `comments` | `from_visibility` | [`CommentField`]: `from_visibility`, `always_comments`, `always_work_notes` |
/// | `incident_close` | `resolve_and_close` | [`IncidentClose`]: `resolve_and_close`, `resolve_only` |
/// | `request_table` | `sc_request` | the table `TicketKind::Request` opens |
/// | `custom_prefixes` | empty | extra number prefixes → tables (`{ UREQ = "u_access_request" }`) |
/// | `correlation_display` | `accesslink` | written to `correlation_display` on create (empty: left empty) |
/// | `match_correlation_display` | `false` | correlation look-ups also match `correlation_display` |
/// | `incident_close_code` | `Solution provided` | close code when the resolution has none |
/// | `extra_fields` | empty | custom fields read into `Ticket::extra` |
/// | `batch_size` | `50` | tickets per `numberIN…` request (1..=100) |
/// | `page_size` | `1000` | rows per page when the caller asks for no size (1..=10000) |
/// | `ui_url` | the instance URL | base of links for people |
#[derive(Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ServiceNowSettings {
    /// The instance name (default `servicenow`).
    #[serde(default = "default_name")]
    pub name: String,
    /// The instance URL; the Table API is under `/api/now/table/`.
    pub base_url: Url,
    /// How to sign in.
    pub auth: ServiceNowAuth,
    /// Transport: timeouts, retry (also the budget of the look-then-retry of writes),
    /// rate limit, user agent, root certificates, proxy.
    #[serde(default)]
    pub http: HttpSettings,
    /// Entries added to, or changed in, the default status map.
    #[serde(default, skip_serializing_if = "StatusOverrides::is_empty")]
    pub status_map: StatusOverrides,
    /// Which journal field comments go to.
    #[serde(default)]
    pub comments: CommentField,
    /// How incidents are closed.
    #[serde(default)]
    pub incident_close: IncidentClose,
    /// The table `TicketKind::Request` opens (`sc_request`, or `sc_req_item` where
    /// items carry the work).
    #[serde(default = "default_request_table")]
    pub request_table: String,
    /// Extra number prefixes and their tables, on top of the built-in ones.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub custom_prefixes: BTreeMap<String, String>,
    /// Written to `correlation_display` on create; empty or `None` leaves it empty.
    #[serde(default = "default_correlation_display")]
    pub correlation_display: Option<String>,
    /// Whether correlation look-ups also require `correlation_display` to match.
    #[serde(default)]
    pub match_correlation_display: bool,
    /// Close code of a successfully closed incident when the resolution has none.
    #[serde(default = "default_incident_close_code")]
    pub incident_close_code: String,
    /// Custom fields (`u_*`) read with every ticket into `Ticket::extra`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extra_fields: Vec<String>,
    /// Tickets per `numberIN…` request in batched reads (1..=100).
    #[serde(default = "default_batch_size")]
    pub batch_size: usize,
    /// Rows per page when the caller asks for no size (1..=10000).
    #[serde(default = "default_page_size")]
    pub page_size: u32,
    /// Base of links for people (default: the instance URL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ui_url: Option<String>,
}

impl fmt::Debug for ServiceNowSettings {
    /// Secrets are [`SecretSource`]s, whose Debug never shows an inline value.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServiceNowSettings")
            .field("name", &self.name)
            .field(
                "base_url",
                &accesslink_core::redact::url_shown(&self.base_url),
            )
            .field("auth", &self.auth)
            .field("http", &self.http)
            .field("status_map", &self.status_map)
            .field("comments", &self.comments)
            .field("incident_close", &self.incident_close)
            .field("request_table", &self.request_table)
            .field("custom_prefixes", &self.custom_prefixes)
            .field("correlation_display", &self.correlation_display)
            .field("match_correlation_display", &self.match_correlation_display)
            .field("incident_close_code", &self.incident_close_code)
            .field("extra_fields", &self.extra_fields)
            .field("batch_size", &self.batch_size)
            .field("page_size", &self.page_size)
            .field("ui_url", &self.ui_url)
            .finish()
    }
}

impl ServiceNowSettings {
    /// Settings for the instance at `base_url` with every option at its default.
    pub fn new(base_url: Url, auth: ServiceNowAuth) -> Self {
        ServiceNowSettings {
            name: default_name(),
            base_url,
            auth,
            http: HttpSettings::default(),
            status_map: StatusOverrides::default(),
            comments: CommentField::default(),
            incident_close: IncidentClose::default(),
            request_table: default_request_table(),
            custom_prefixes: BTreeMap::new(),
            correlation_display: default_correlation_display(),
            match_correlation_display: false,
            incident_close_code: default_incident_close_code(),
            extra_fields: Vec::new(),
            batch_size: default_batch_size(),
            page_size: default_page_size(),
            ui_url: None,
        }
    }

    /// Sets the instance name.
    #[must_use]
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Sets the transport settings.
    #[must_use]
    pub fn http(mut self, http: HttpSettings) -> Self {
        self.http = http;
        self
    }

    /// Takes the behaviour options (and the instance name) from a [`ServiceNowConfig`].
    #[must_use]
    pub fn with_config(mut self, c: ServiceNowConfig) -> Self {
        self.name = c.instance;
        self.status_map = c.status_map;
        self.comments = c.comments;
        self.incident_close = c.incident_close;
        self.request_table = c.request_table;
        self.custom_prefixes = c.custom_prefixes.into_iter().collect();
        self.correlation_display = c.correlation_display;
        self.match_correlation_display = c.match_correlation_display;
        self.incident_close_code = c.incident_close_code;
        self.extra_fields = c.extra_fields;
        self.batch_size = c.batch_size;
        self.page_size = c.page_size;
        self.ui_url = c.ui_url;
        self
    }

    /// The behaviour options, checked: a range or name the connector cannot use is an
    /// [`ErrorKind::Config`](accesslink_core::ErrorKind::Config) error naming the key.
    pub fn config(&self) -> accesslink_core::Result<ServiceNowConfig> {
        use accesslink_core::Error;
        if self.name.trim().is_empty() {
            return Err(Error::config("servicenow settings: name is empty"));
        }
        if !matches!(self.base_url.scheme(), "http" | "https") {
            return Err(Error::config(format!(
                "servicenow settings: base_url scheme {:?} is not http or https",
                self.base_url.scheme()
            )));
        }
        if !(1..=100).contains(&self.batch_size) {
            return Err(Error::config(format!(
                "servicenow settings: batch_size {} is not within 1..=100",
                self.batch_size
            )));
        }
        if !(1..=crate::api::MAX_LIMIT).contains(&self.page_size) {
            return Err(Error::config(format!(
                "servicenow settings: page_size {} is not within 1..={}",
                self.page_size,
                crate::api::MAX_LIMIT
            )));
        }
        if let Some(u) = &self.ui_url {
            Url::parse(u)
                .map_err(|e| Error::config(format!("servicenow settings: ui_url: {e}")))?;
        }
        Ok(ServiceNowConfig {
            instance: self.name.clone(),
            comments: self.comments,
            incident_close: self.incident_close,
            request_table: self.request_table.clone(),
            custom_prefixes: self
                .custom_prefixes
                .iter()
                .map(|(p, t)| (p.clone(), t.clone()))
                .collect(),
            correlation_display: self.correlation_display.clone().filter(|d| !d.is_empty()),
            match_correlation_display: self.match_correlation_display,
            incident_close_code: self.incident_close_code.clone(),
            extra_fields: self.extra_fields.clone(),
            batch_size: self.batch_size,
            page_size: self.page_size,
            ui_url: self.ui_url.clone(),
            status_map: self.status_map.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use accesslink_core::ErrorKind;
    use serde_json::json;

    const CANARY: &str = "settings-canary-5e1f";

    #[test]
    fn the_convention_json_loads_for_both_auth_methods() {
        let s: ServiceNowSettings = serde_json::from_value(json!({
            "name": "servicenow-mock",
            "base_url": "http://127.0.0.1:9/",
            "auth": { "method": "basic", "user": "admin", "password": CANARY },
        }))
        .unwrap();
        assert_eq!(s.name, "servicenow-mock");
        assert_eq!(s.batch_size, 50);
        assert_eq!(s.request_table, "sc_request");
        assert_eq!(s.correlation_display.as_deref(), Some("accesslink"));
        assert!(matches!(&s.auth, ServiceNowAuth::Basic { user, .. } if user == "admin"));

        let s: ServiceNowSettings = serde_json::from_value(json!({
            "base_url": "http://127.0.0.1:9/",
            "auth": {
                "method": "oauth_password", "client_id": "cid", "client_secret": CANARY,
                "user": "admin", "password": { "env": "SN_PW" },
                "token_url": "http://127.0.0.1:9/oauth_token.do"
            },
            "comments": "always_work_notes",
            "incident_close": "resolve_only",
            "custom_prefixes": { "UREQ": "u_access_request" },
            "status_map": { "states": { "incident:9": "on_hold" } },
            "http": { "retry": { "max_attempts": 5 } },
        }))
        .unwrap();
        assert_eq!(s.name, "servicenow", "the default name");
        assert_eq!(s.http.retry.max_attempts, 5);
        let ServiceNowAuth::OAuthPassword {
            password,
            token_url,
            ..
        } = &s.auth
        else {
            panic!("{:?}", s.auth)
        };
        assert_eq!(password, &SecretSource::env("SN_PW"));
        assert_eq!(
            token_url.as_ref().map(Url::as_str),
            Some("http://127.0.0.1:9/oauth_token.do")
        );
        let c = s.config().unwrap();
        assert_eq!(c.comments, CommentField::AlwaysWorkNotes);
        assert_eq!(c.incident_close, IncidentClose::ResolveOnly);
        assert_eq!(
            c.custom_prefixes,
            vec![("UREQ".to_owned(), "u_access_request".to_owned())]
        );
        assert_eq!(
            c.status_map.states.get("incident:9"),
            Some(&accesslink_core::TicketState::OnHold)
        );
    }

    #[test]
    fn unknown_keys_are_refused_by_name() {
        for (bad, key) in [
            (
                json!({ "base_url": "http://x/", "auth": { "method": "basic", "user": "u", "password": "p" }, "page_sise": 5 }),
                "page_sise",
            ),
            (
                json!({ "base_url": "http://x/", "auth": { "method": "basic", "user": "u", "password": "p", "token_url": "http://x/" } }),
                "token_url",
            ),
            (
                json!({ "base_url": "http://x/", "auth": { "method": "kerberos" } }),
                "kerberos",
            ),
        ] {
            let e = serde_json::from_value::<ServiceNowSettings>(bad)
                .unwrap_err()
                .to_string();
            assert!(e.contains(key), "{key}: {e}");
        }
    }

    #[test]
    fn the_json_schema_names_every_key_and_both_auth_methods() {
        let schema = serde_json::to_value(schemars::schema_for!(ServiceNowSettings)).unwrap();
        let text = schema.to_string();
        for key in [
            "base_url",
            "auth",
            "http",
            "status_map",
            "request_table",
            "custom_prefixes",
            "batch_size",
            "page_size",
            "\"basic\"",
            "\"oauth_password\"",
            "token_url",
            "always_work_notes",
            "resolve_only",
        ] {
            assert!(text.contains(key), "{key} not in the schema: {text}");
        }
        assert_eq!(schema["required"], json!(["base_url", "auth"]));
        assert_eq!(schema["additionalProperties"], json!(false));
    }

    #[test]
    fn debug_never_shows_a_secret() {
        let s = ServiceNowSettings::new(
            "https://acme.service-now.com".parse().unwrap(),
            ServiceNowAuth::oauth_password(
                "cid",
                secrecy::SecretString::from(CANARY),
                "svc",
                secrecy::SecretString::from(CANARY),
            ),
        );
        let printed = format!("{s:?} {s:#?}");
        assert!(!printed.contains(CANARY), "{printed}");
        assert!(
            printed.contains("cid") && printed.contains("svc"),
            "{printed}"
        );
        let serialised = serde_json::to_string(&s).unwrap();
        assert!(!serialised.contains(CANARY), "{serialised}");
    }

    #[test]
    fn from_settings_checks_everything_before_any_request() {
        let base = || {
            ServiceNowSettings::new(
                "http://127.0.0.1:9/".parse().unwrap(),
                ServiceNowAuth::basic("u", secrecy::SecretString::from("p")),
            )
        };
        let missing = ServiceNowSettings::new(
            "http://127.0.0.1:9/".parse().unwrap(),
            ServiceNowAuth::basic("u", SecretSource::env("ACCESSLINK_SN_TEST_UNSET_VAR")),
        );
        let mut batch = base();
        batch.batch_size = 0;
        let mut page = base();
        page.page_size = 20_000;
        let mut table = base();
        table.request_table = "sc_request^ORactive=true".into();
        let mut prefix = base();
        prefix
            .custom_prefixes
            .insert("u-req".into(), "u_req".into());
        let mut ui = base();
        ui.ui_url = Some("not a url".into());
        let proxy = base()
            .http(HttpSettings::new().proxy("http://user:pw@proxy.example:3128".parse().unwrap()));
        for (s, needle) in [
            (missing, "ACCESSLINK_SN_TEST_UNSET_VAR"),
            (batch, "batch_size"),
            (page, "page_size"),
            (table, "sc_request"),
            (prefix, "u-req"),
            (ui, "ui_url"),
            (proxy, "proxy"),
        ] {
            let e = crate::ServiceNowConnector::from_settings(s).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Config, "{e}");
            assert!(e.to_string().contains(needle), "{needle}: {e}");
        }
        let sn = crate::ServiceNowConnector::from_settings(base().name("prod-it")).unwrap();
        assert_eq!(sn.client().http().instance(), "prod-it");
        assert_eq!(sn.config().instance, "prod-it");
    }
}
