//! [`OtrsSettings`]: everything the OTRS connector needs, loadable from configuration —
//! where the web service is, how to log in, how its routes are mapped, and the ticket
//! defaults of this installation.

use std::time::Duration;

use accesslink_core::http::{HttpSettings, RateLimitConfig, RetryConfig, TimeoutConfig};
use accesslink_core::{Error, Result, SecretSource, StatusOverrides, TicketKind};
use http::Method;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use url::Url;

/// The instance name used when the settings give none.
pub const DEFAULT_NAME: &str = "otrs";

fn default_name() -> String {
    DEFAULT_NAME.to_owned()
}

/// One operation's route: method and path relative to the web service, with
/// `:TicketID` as the placeholder where the operation takes one.
///
/// In settings: `{ method = "POST", path = "/TicketSearch" }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Route {
    /// The HTTP method (`GET`, `POST`, `PATCH` …).
    #[serde(with = "method_serde")]
    #[schemars(with = "String")]
    pub method: Method,
    /// The path, for example `/Ticket/:TicketID`.
    pub path: String,
}

mod method_serde {
    use http::Method;
    use serde::{Deserialize, Deserializer, Serializer, de};

    pub(super) fn serialize<S: Serializer>(m: &Method, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(m.as_str())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Method, D::Error> {
        let text = String::deserialize(d)?;
        Method::from_bytes(text.to_ascii_uppercase().as_bytes())
            .map_err(|_| de::Error::custom(format!("{text:?} is not an HTTP method")))
    }
}

impl Route {
    /// A route from method and path.
    pub fn new(method: Method, path: impl Into<String>) -> Self {
        Route {
            method,
            path: path.into(),
        }
    }

    pub(crate) fn with_ticket_ids(&self, ids: &str) -> String {
        self.path.replace(":TicketID", ids)
    }

    fn validate(&self, what: &str) -> Result<()> {
        if !self.path.starts_with('/') || self.path.contains("..") || self.path.contains('?') {
            return Err(Error::config(format!(
                "{what}: path {:?} must start with '/' and contain no '..' or query",
                self.path
            )));
        }
        Ok(())
    }
}

/// Routes of the operations the connector uses. Defaults are those of Znuny's
/// `GenericTicketConnectorREST` sample; administrators may map them differently.
/// Every key is optional in settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct Routes {
    /// SessionCreate (`POST /Session`).
    pub session_create: Route,
    /// TicketCreate (`POST /Ticket`).
    pub ticket_create: Route,
    /// TicketGet (`GET /Ticket/:TicketID`, ids comma-separated).
    pub ticket_get: Route,
    /// TicketSearch over query parameters (`GET /Ticket`).
    pub ticket_search: Route,
    /// TicketUpdate (`PATCH /Ticket/:TicketID`).
    pub ticket_update: Route,
}

impl Default for Routes {
    fn default() -> Self {
        Routes {
            session_create: Route::new(Method::POST, "/Session"),
            ticket_create: Route::new(Method::POST, "/Ticket"),
            ticket_get: Route::new(Method::GET, "/Ticket/:TicketID"),
            ticket_search: Route::new(Method::GET, "/Ticket"),
            ticket_update: Route::new(Method::PATCH, "/Ticket/:TicketID"),
        }
    }
}

impl Routes {
    fn validate(&self) -> Result<()> {
        self.session_create.validate("routes.session_create")?;
        self.ticket_create.validate("routes.ticket_create")?;
        self.ticket_get.validate("routes.ticket_get")?;
        self.ticket_search.validate("routes.ticket_search")?;
        self.ticket_update.validate("routes.ticket_update")
    }
}

fn default_search_route() -> Route {
    Route::new(Method::POST, "/TicketSearch")
}

/// How a ticket is tied to the request that opened it.
///
/// In settings: `correlation = "title_tag"` (the default), or
/// `correlation = { dynamic_field = { name = "AccessRequestID" } }` (with an optional
/// `search = { method = "POST", path = "/TicketSearch" }`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
pub enum Correlation {
    /// A ticket dynamic field holds the correlation id. Searching on it needs a
    /// TicketSearch route that takes a JSON body (`POST /TicketSearch` in a customer
    /// web service): over GET, Znuny ignores dynamic-field conditions and returns
    /// every ticket (see `shared/znuny/REST.md`).
    DynamicField {
        /// The field name, for example `AccessRequestID`.
        name: String,
        /// The body-taking search route (default `POST /TicketSearch`).
        #[serde(default = "default_search_route")]
        search: Route,
    },
    /// A tag `[corr:<id>]` at the end of the title, found with a wildcard title
    /// search over the standard web service. Works on any installation.
    #[default]
    TitleTag,
}

impl Correlation {
    /// A dynamic field searched through `POST /TicketSearch`.
    pub fn dynamic_field(name: impl Into<String>) -> Self {
        Correlation::DynamicField {
            name: name.into(),
            search: default_search_route(),
        }
    }
}

/// Values used when a [`NewTicket`](accesslink_core::NewTicket) does not say (the
/// queue and customer user are top-level settings: [`OtrsSettings::queue`],
/// [`OtrsSettings::customer_user`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct TicketDefaults {
    /// State for new tickets (default `new`).
    pub state: String,
    /// Priority (default `3 normal`).
    pub priority: String,
    /// Ticket type; `None` leaves it to the server (required only when
    /// `Ticket::Type` is enabled).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub r#type: Option<String>,
    /// Ticket types per kind, used both to set `Type` on create and to tell the kind
    /// of a ticket read back, as `[kind, type name]` pairs (`[["request",
    /// "Service Request"]]`). Empty by default: every ticket is then `Other(type)`.
    #[schemars(with = "Vec<(String, String)>")]
    pub kinds: Vec<(TicketKind, String)>,
}

impl Default for TicketDefaults {
    fn default() -> Self {
        TicketDefaults {
            state: "new".into(),
            priority: "3 normal".into(),
            r#type: None,
            kinds: Vec::new(),
        }
    }
}

/// States used to close, and closed states that mean "rejected".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct CloseStates {
    /// State for a successful close (default `closed successful`).
    pub successful: String,
    /// State for an unsuccessful close (default `closed unsuccessful`).
    pub unsuccessful: String,
    /// Closed-type states reported as `Cancelled` rather than `Closed`
    /// (default: `closed unsuccessful`), so a workflow can tell a refusal from a
    /// completion. This is a rule over the state *name* of closed-type states, applied
    /// before the [status map](crate::status).
    pub rejected: Vec<String>,
}

impl Default for CloseStates {
    fn default() -> Self {
        CloseStates {
            successful: "closed successful".into(),
            unsuccessful: "closed unsuccessful".into(),
            rejected: vec!["closed unsuccessful".into()],
        }
    }
}

/// How the connector logs in.
///
/// In settings: `auth = { method = "session", user = "apiagent", password = { env =
/// "ZNUNY_AGENT_PASSWORD" } }`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "method", rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
pub enum OtrsAuth {
    /// An agent's SessionCreate login; the session is shared by all clones and renewed
    /// when an operation answers `*.AuthFail`.
    Session {
        /// Agent login.
        user: String,
        /// Agent password.
        password: SecretSource,
    },
}

/// Everything the OTRS connector needs; the one input of
/// [`OtrsConnector::from_settings`](crate::OtrsConnector::from_settings).
///
/// Keys (all but `base_url` and `auth` optional):
///
/// | key | default | meaning |
/// |---|---|---|
/// | `name` | `otrs` | instance name, in errors, logs and audit |
/// | `base_url` | — | the web service URL, `https://host/{prefix}/nph-genericinterface.pl/Webservice/{Name}` ([`OtrsSettings::web_service_url`]) |
/// | `auth` | — | [`OtrsAuth`]: `{ method = "session", user, password }` |
/// | `http` | defaults | core [`HttpSettings`]: timeouts, retry, rate limit, user agent, root certificates, proxy |
/// | `status_map` | none | [`StatusOverrides`] over the [default state table](crate::status::default_status_map) |
/// | `routes` | Znuny's sample | [`Routes`] of the operations |
/// | `correlation` | `title_tag` | [`Correlation`] scheme |
/// | `customer_user` | none | customer user when a request names no requester |
/// | `queue` | `Raw` | queue of new tickets |
/// | `defaults` | see [`TicketDefaults`] | state, priority, type and kind types of new tickets |
/// | `close_states` | see [`CloseStates`] | close states and the rejected-state list |
/// | `ticket_hook` | `Ticket#` | prefix users may type before a ticket number |
/// | `batch_size` | 50 | tickets per TicketGet call in batched reads (1..=500) |
/// | `session_ttl` | `1h` | how long a session is used before logging in again |
/// | `server_utc_offset_minutes` | 0 | minutes east of UTC of the server's zone-less timestamps |
///
/// Its `Debug` never shows a secret (an inline password prints as `[redacted]`).
#[derive(Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct OtrsSettings {
    /// An instance name for errors, logs and audit (default `otrs`).
    #[serde(default = "default_name")]
    pub name: String,
    /// The web service URL: `https://host/{prefix}/nph-genericinterface.pl/Webservice/{Name}`.
    pub base_url: Url,
    /// How to log in.
    pub auth: OtrsAuth,
    /// Transport settings: timeouts, retry, rate limit (off by default: OTRS has none),
    /// user agent, root certificates, proxy.
    #[serde(default)]
    pub http: HttpSettings,
    /// Additions to or changes of the default state table, by state name or state type.
    #[serde(default)]
    pub status_map: StatusOverrides,
    /// Operation routes.
    #[serde(default)]
    pub routes: Routes,
    /// Correlation scheme (default `title_tag`).
    #[serde(default)]
    pub correlation: Correlation,
    /// Customer user when the request names no requester login.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_user: Option<String>,
    /// Queue for new tickets (default `Raw`).
    #[serde(default = "default_queue")]
    pub queue: String,
    /// Other ticket defaults.
    #[serde(default)]
    pub defaults: TicketDefaults,
    /// Close states.
    #[serde(default)]
    pub close_states: CloseStates,
    /// Prefix users may type before a ticket number (default `Ticket#`).
    #[serde(default = "default_ticket_hook")]
    pub ticket_hook: String,
    /// Tickets per TicketGet call in batched reads (default 50, 1..=500).
    #[serde(default = "default_batch_size")]
    pub batch_size: usize,
    /// How long a session may be used before logging in again proactively
    /// (default 1 h; Znuny's idle limit is 2 h by default). Expired sessions are
    /// detected anyway through `*.AuthFail`.
    #[serde(default = "default_session_ttl", with = "humantime_serde")]
    #[schemars(with = "String")]
    pub session_ttl: Duration,
    /// Minutes east of UTC of the server's clock, for its zone-less timestamps.
    #[serde(default)]
    pub server_utc_offset_minutes: i32,
}

impl std::fmt::Debug for OtrsSettings {
    /// Secrets are [`SecretSource`]s, whose Debug never shows an inline value; URLs are
    /// shown without query or fragment.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OtrsSettings")
            .field("name", &self.name)
            .field(
                "base_url",
                &accesslink_core::redact::url_shown(&self.base_url),
            )
            .field("auth", &self.auth)
            .field("http", &self.http)
            .field("status_map", &self.status_map)
            .field("routes", &self.routes)
            .field("correlation", &self.correlation)
            .field("customer_user", &self.customer_user)
            .field("queue", &self.queue)
            .field("defaults", &self.defaults)
            .field("close_states", &self.close_states)
            .field("ticket_hook", &self.ticket_hook)
            .field("batch_size", &self.batch_size)
            .field("session_ttl", &self.session_ttl)
            .field("server_utc_offset_minutes", &self.server_utc_offset_minutes)
            .finish()
    }
}

fn default_queue() -> String {
    "Raw".into()
}

fn default_ticket_hook() -> String {
    "Ticket#".into()
}

fn default_batch_size() -> usize {
    50
}

fn default_session_ttl() -> Duration {
    Duration::from_secs(3600)
}

/// The former name of [`OtrsSettings`], kept so `OtrsConfig::new(..)` and
/// `OtrsConfig::web_service_url(..)` still read naturally.
pub type OtrsConfig = OtrsSettings;

impl OtrsSettings {
    /// Settings for a web service URL and agent credentials, with Znuny's default
    /// routes and ticket data.
    pub fn new(base_url: Url, user: impl Into<String>, password: impl Into<SecretSource>) -> Self {
        OtrsSettings {
            name: default_name(),
            base_url,
            auth: OtrsAuth::Session {
                user: user.into(),
                password: password.into(),
            },
            http: HttpSettings::default(),
            status_map: StatusOverrides::default(),
            routes: Routes::default(),
            correlation: Correlation::TitleTag,
            customer_user: None,
            queue: default_queue(),
            defaults: TicketDefaults::default(),
            close_states: CloseStates::default(),
            ticket_hook: default_ticket_hook(),
            batch_size: default_batch_size(),
            session_ttl: default_session_ttl(),
            server_utc_offset_minutes: 0,
        }
    }

    /// The web service URL from its parts: server (`https://otrs.example.com`),
    /// install prefix (`znuny` or `otrs`) and web service name.
    pub fn web_service_url(server: &str, prefix: &str, webservice: &str) -> String {
        format!(
            "{}/{}/nph-genericinterface.pl/Webservice/{}",
            server.trim_end_matches('/'),
            prefix.trim_matches('/'),
            webservice
        )
    }

    /// The agent login of the auth settings.
    pub fn user(&self) -> &str {
        match &self.auth {
            OtrsAuth::Session { user, .. } => user,
        }
    }

    /// Checks everything that can be checked without a request (the password is
    /// resolved separately, by the client).
    pub fn validate(&self) -> Result<()> {
        if self.name.trim().is_empty() {
            return Err(Error::config("name: must not be empty"));
        }
        if !matches!(self.base_url.scheme(), "http" | "https") {
            return Err(Error::config(format!(
                "base_url: scheme {:?} is not http or https",
                self.base_url.scheme()
            )));
        }
        if !self.base_url.username().is_empty() || self.base_url.password().is_some() {
            return Err(Error::config(
                "base_url: credentials in the URL are not allowed (use auth)",
            ));
        }
        if self.base_url.query().is_some() {
            return Err(Error::config("base_url: must not have a query"));
        }
        match &self.auth {
            OtrsAuth::Session { user, .. } if user.trim().is_empty() => {
                return Err(Error::config("auth.user: must not be empty"));
            }
            OtrsAuth::Session { .. } => {}
        }
        self.http.validate()?;
        self.routes.validate()?;
        if let Correlation::DynamicField { name, search } = &self.correlation {
            if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric()) {
                return Err(Error::config(format!(
                    "correlation.dynamic_field.name: {name:?} must be letters and digits"
                )));
            }
            search.validate("correlation.dynamic_field.search")?;
        }
        if !(1..=500).contains(&self.batch_size) {
            return Err(Error::config(format!(
                "batch_size: {} is not in 1..=500",
                self.batch_size
            )));
        }
        if self.queue.trim().is_empty() {
            return Err(Error::config("queue: must not be empty"));
        }
        if self.session_ttl.is_zero() {
            return Err(Error::config("session_ttl: must be positive"));
        }
        Ok(())
    }

    /// Sets the instance name.
    #[must_use]
    pub fn instance(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Sets the correlation scheme.
    #[must_use]
    pub fn correlation(mut self, c: Correlation) -> Self {
        self.correlation = c;
        self
    }

    /// Sets the default customer user.
    #[must_use]
    pub fn customer_user(mut self, login: impl Into<String>) -> Self {
        self.customer_user = Some(login.into());
        self
    }

    /// Sets the default queue.
    #[must_use]
    pub fn queue(mut self, queue: impl Into<String>) -> Self {
        self.queue = queue.into();
        self
    }

    /// Sets the ticket defaults.
    #[must_use]
    pub fn defaults(mut self, defaults: TicketDefaults) -> Self {
        self.defaults = defaults;
        self
    }

    /// Sets the close states.
    #[must_use]
    pub fn close_states(mut self, close: CloseStates) -> Self {
        self.close_states = close;
        self
    }

    /// Sets the routes.
    #[must_use]
    pub fn routes(mut self, routes: Routes) -> Self {
        self.routes = routes;
        self
    }

    /// Sets the transport settings (timeouts, retry, rate limit …).
    #[must_use]
    pub fn http(mut self, http: HttpSettings) -> Self {
        self.http = http;
        self
    }

    /// Sets the status map overrides.
    #[must_use]
    pub fn status_map(mut self, overrides: StatusOverrides) -> Self {
        self.status_map = overrides;
        self
    }

    /// Sets the batch size of batched reads (1..=500; checked by
    /// [`OtrsConnector::from_settings`](crate::OtrsConnector::from_settings)).
    #[must_use]
    pub fn batch_size(mut self, n: usize) -> Self {
        self.batch_size = n;
        self
    }

    /// The timeouts of the transport settings (read-only shortcut).
    pub fn timeouts(&self) -> &TimeoutConfig {
        &self.http.timeouts
    }

    /// The retry settings of the transport settings (read-only shortcut).
    pub fn retry(&self) -> &RetryConfig {
        &self.http.retry
    }

    /// The client-side rate limit of the transport settings (read-only shortcut).
    pub fn rate_limit(&self) -> Option<&RateLimitConfig> {
        self.http.rate_limit.as_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use accesslink_core::ErrorKind;
    use serde_json::json;

    const CANARY: &str = "canary-3f9c1e-otrs-password";

    fn convention() -> serde_json::Value {
        json!({
            "name": "otrs-mock",
            "base_url": "http://127.0.0.1:8080/otrs/nph-genericinterface.pl/Webservice/GenericTicketConnectorREST",
            "auth": { "method": "session", "user": "apiagent", "password": CANARY },
            "customer_user": "apicustomer",
            "queue": "Access",
            "correlation": { "dynamic_field": { "name": "AccessRequestID" } }
        })
    }

    #[test]
    fn the_convention_json_loads() {
        let s: OtrsSettings = serde_json::from_value(convention()).unwrap();
        assert_eq!(s.name, "otrs-mock");
        assert_eq!(s.user(), "apiagent");
        assert_eq!(s.customer_user.as_deref(), Some("apicustomer"));
        assert_eq!(s.queue, "Access");
        assert_eq!(s.correlation, Correlation::dynamic_field("AccessRequestID"));
        assert_eq!(s.batch_size, 50);
        assert_eq!(s.routes, Routes::default());
        assert_eq!(s.close_states, CloseStates::default());
        assert_eq!(s.session_ttl, Duration::from_secs(3600));
        s.validate().unwrap();

        let minimal: OtrsSettings = serde_json::from_value(json!({
            "base_url": "https://otrs.example.com/znuny/nph-genericinterface.pl/Webservice/W",
            "auth": { "method": "session", "user": "a", "password": { "env": "OTRS_PW" } },
            "correlation": "title_tag",
            "session_ttl": "30m",
            "routes": { "ticket_search": { "method": "post", "path": "/TicketSearch" } },
            "status_map": { "states": { "closed by IAM": "closed" } }
        }))
        .unwrap();
        assert_eq!(minimal.name, "otrs");
        assert_eq!(minimal.queue, "Raw");
        assert_eq!(minimal.session_ttl, Duration::from_secs(1800));
        assert_eq!(minimal.routes.ticket_search.method, Method::POST);
        assert_eq!(minimal.routes.ticket_get, Routes::default().ticket_get);
        assert_eq!(
            minimal.auth,
            OtrsAuth::Session {
                user: "a".into(),
                password: SecretSource::env("OTRS_PW")
            }
        );
    }

    #[test]
    fn unknown_keys_are_refused_by_name() {
        for (at, patch) in [
            ("top", json!({ "qeueu": "x" })),
            (
                "auth",
                json!({ "auth": { "method": "session", "user": "a", "password": "p", "token": "t" } }),
            ),
            ("defaults", json!({ "defaults": { "colour": "red" } })),
        ] {
            let mut v = convention();
            for (k, val) in patch.as_object().unwrap() {
                v[k] = val.clone();
            }
            let e = serde_json::from_value::<OtrsSettings>(v).unwrap_err();
            let key = match at {
                "top" => "qeueu",
                "auth" => "token",
                _ => "colour",
            };
            assert!(e.to_string().contains(key), "{at}: {e}");
        }
        let mut v = convention();
        v["auth"]["method"] = json!("oauth");
        let e = serde_json::from_value::<OtrsSettings>(v).unwrap_err();
        assert!(e.to_string().contains("oauth"), "{e}");
    }

    #[test]
    fn debug_never_shows_the_password() {
        let s: OtrsSettings = serde_json::from_value(convention()).unwrap();
        let shown = format!("{s:?}");
        assert!(!shown.contains(CANARY), "{shown}");
        assert!(shown.contains("apiagent"), "{shown}");
        let serialised = serde_json::to_string(&s).unwrap();
        assert!(!serialised.contains(CANARY), "{serialised}");
    }

    #[test]
    fn validation_names_the_key_and_is_a_config_error() {
        let base = || serde_json::from_value::<OtrsSettings>(convention()).unwrap();
        let cases: Vec<(OtrsSettings, &str)> = vec![
            (base().batch_size(0), "batch_size"),
            (base().batch_size(501), "batch_size"),
            (base().instance(" "), "name"),
            (base().queue(""), "queue"),
            (
                base().correlation(Correlation::dynamic_field("a b")),
                "correlation",
            ),
            (
                {
                    let mut s = base();
                    s.base_url = "ftp://otrs.example.com/x".parse().unwrap();
                    s
                },
                "base_url",
            ),
            (
                {
                    let mut s = base();
                    s.base_url = "https://u:p@otrs.example.com/x".parse().unwrap();
                    s
                },
                "base_url",
            ),
            (
                {
                    let mut r = Routes::default();
                    r.ticket_get.path = "Ticket/../x".into();
                    base().routes(r)
                },
                "routes.ticket_get",
            ),
        ];
        for (s, key) in cases {
            let e = s.validate().unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Config, "{e}");
            assert!(e.to_string().contains(key), "{key}: {e}");
        }
    }
    #[test]
    fn the_json_schema_names_every_key() {
        let schema = serde_json::to_value(schemars::schema_for!(OtrsSettings)).unwrap();
        let text = schema.to_string();
        let required = schema["required"].as_array().unwrap();
        assert!(required.contains(&json!("base_url")), "{text}");
        assert!(required.contains(&json!("auth")), "{text}");
        assert!(!required.contains(&json!("name")), "{text}");
        for key in [
            "name",
            "base_url",
            "auth",
            "http",
            "status_map",
            "batch_size",
        ] {
            assert!(schema["properties"].get(key).is_some(), "{key}: {text}");
        }
        assert_eq!(schema["additionalProperties"], json!(false), "{text}");
        assert!(text.contains("\"session\""), "{text}");
    }
}
