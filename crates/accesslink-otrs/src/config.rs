//! Connector configuration: where the web service is, how its routes are mapped,
//! and the ticket defaults of this installation.

use std::fmt;
use std::time::Duration;

use accesslink_core::TicketKind;
use accesslink_core::http::{RateLimitConfig, RetryConfig, TimeoutConfig};
use accesslink_core::redact::REDACTED;
use http::Method;
use secrecy::SecretString;

/// One operation's route: method and path relative to the web service, with
/// `:TicketID` as the placeholder where the operation takes one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// The HTTP method.
    pub method: Method,
    /// The path, for example `/Ticket/:TicketID`.
    pub path: String,
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
}

/// Routes of the operations the connector uses. Defaults are those of Znuny's
/// `GenericTicketConnectorREST` sample; administrators may map them differently.
#[derive(Debug, Clone, PartialEq, Eq)]
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

/// How a ticket is tied to the request that opened it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Correlation {
    /// A ticket dynamic field holds the correlation id. Searching on it needs a
    /// TicketSearch route that takes a JSON body (`POST /TicketSearch` in a customer
    /// web service): over GET, Znuny ignores dynamic-field conditions and returns
    /// every ticket (see `shared/znuny/REST.md`).
    DynamicField {
        /// The field name, for example `AccessRequestID`.
        name: String,
        /// The body-taking search route.
        search: Route,
    },
    /// A tag `[corr:<id>]` at the end of the title, found with a wildcard title
    /// search over the standard web service. Works on any installation.
    TitleTag,
}

impl Correlation {
    /// A dynamic field searched through `POST /TicketSearch`.
    pub fn dynamic_field(name: impl Into<String>) -> Self {
        Correlation::DynamicField {
            name: name.into(),
            search: Route::new(Method::POST, "/TicketSearch"),
        }
    }
}

/// Values used when a [`NewTicket`](accesslink_core::NewTicket) does not say.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TicketDefaults {
    /// Queue for new tickets (default `Raw`).
    pub queue: String,
    /// State for new tickets (default `new`).
    pub state: String,
    /// Priority (default `3 normal`).
    pub priority: String,
    /// Customer user when the request names no requester login.
    pub customer_user: Option<String>,
    /// Ticket type; `None` leaves it to the server (required only when
    /// `Ticket::Type` is enabled).
    pub r#type: Option<String>,
    /// Ticket types per kind, used both to set `Type` on create and to tell the kind
    /// of a ticket read back. Empty by default: every ticket is then `Other(type)`.
    pub kinds: Vec<(TicketKind, String)>,
}

impl Default for TicketDefaults {
    fn default() -> Self {
        TicketDefaults {
            queue: "Raw".into(),
            state: "new".into(),
            priority: "3 normal".into(),
            customer_user: None,
            r#type: None,
            kinds: Vec::new(),
        }
    }
}

/// States used to close, and closed states that mean "rejected".
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CloseStates {
    /// State for a successful close (default `closed successful`).
    pub successful: String,
    /// State for an unsuccessful close (default `closed unsuccessful`).
    pub unsuccessful: String,
    /// Closed-type states reported as `Cancelled` rather than `Closed`
    /// (default: `closed unsuccessful`), so a workflow can tell a refusal from a
    /// completion.
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

/// Everything the OTRS connector needs.
#[derive(Clone)]
#[non_exhaustive]
pub struct OtrsConfig {
    /// The web service URL: `https://host/{prefix}/nph-genericinterface.pl/Webservice/{Name}`.
    pub base_url: String,
    /// An instance name for logs and audit.
    pub instance: String,
    /// Agent login.
    pub user: String,
    /// Agent password.
    pub password: SecretString,
    /// Operation routes.
    pub routes: Routes,
    /// Correlation scheme.
    pub correlation: Correlation,
    /// Ticket defaults.
    pub defaults: TicketDefaults,
    /// Close states.
    pub close: CloseStates,
    /// Prefix users may type before a ticket number (default `Ticket#`).
    pub ticket_hook: String,
    /// Tickets per TicketGet call in batched reads (default 50).
    pub batch_size: usize,
    /// How long a session may be used before logging in again proactively
    /// (default 1 h; Znuny's idle limit is 2 h by default). Expired sessions are
    /// detected anyway through `*.AuthFail`.
    pub session_ttl: Duration,
    /// Minutes east of UTC of the server's clock, for its zone-less timestamps.
    pub server_utc_offset_minutes: i32,
    /// Timeouts.
    pub timeouts: TimeoutConfig,
    /// Retries.
    pub retry: RetryConfig,
    /// Client-side rate limit (off by default: OTRS has none).
    pub rate_limit: Option<RateLimitConfig>,
}

impl OtrsConfig {
    /// A configuration for a web service URL and agent credentials, with Znuny's
    /// default routes and ticket data.
    pub fn new(
        base_url: impl Into<String>,
        user: impl Into<String>,
        password: SecretString,
    ) -> Self {
        OtrsConfig {
            base_url: base_url.into(),
            instance: "otrs".into(),
            user: user.into(),
            password,
            routes: Routes::default(),
            correlation: Correlation::TitleTag,
            defaults: TicketDefaults::default(),
            close: CloseStates::default(),
            ticket_hook: "Ticket#".into(),
            batch_size: 50,
            session_ttl: Duration::from_secs(3600),
            server_utc_offset_minutes: 0,
            timeouts: TimeoutConfig::default(),
            retry: RetryConfig::default(),
            rate_limit: None,
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

    /// Sets the instance name.
    #[must_use]
    pub fn instance(mut self, name: impl Into<String>) -> Self {
        self.instance = name.into();
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
        self.defaults.customer_user = Some(login.into());
        self
    }

    /// Sets the default queue.
    #[must_use]
    pub fn queue(mut self, queue: impl Into<String>) -> Self {
        self.defaults.queue = queue.into();
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
        self.close = close;
        self
    }

    /// Sets the routes.
    #[must_use]
    pub fn routes(mut self, routes: Routes) -> Self {
        self.routes = routes;
        self
    }

    /// Sets the timeouts.
    #[must_use]
    pub fn timeouts(mut self, t: TimeoutConfig) -> Self {
        self.timeouts = t;
        self
    }

    /// Sets retries.
    #[must_use]
    pub fn retry(mut self, r: RetryConfig) -> Self {
        self.retry = r;
        self
    }

    /// Sets the batch size of batched reads (1..=500).
    #[must_use]
    pub fn batch_size(mut self, n: usize) -> Self {
        self.batch_size = n.clamp(1, 500);
        self
    }
}

impl fmt::Debug for OtrsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OtrsConfig")
            .field("base_url", &self.base_url)
            .field("instance", &self.instance)
            .field("user", &self.user)
            .field("password", &REDACTED)
            .field("routes", &self.routes)
            .field("correlation", &self.correlation)
            .field("defaults", &self.defaults)
            .field("close", &self.close)
            .field("batch_size", &self.batch_size)
            .finish_non_exhaustive()
    }
}
