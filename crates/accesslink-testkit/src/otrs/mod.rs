//! A stateful Znuny 7.0 (OTRS) GenericInterface REST server.
//!
//! [`OtrsMock`] answers like the server `shared/znuny/setup.sh` installs, as recorded in
//! `shared/znuny/REST.md` and read in the Znuny 7.0.19 sources (`Kernel/GenericInterface`):
//! two web services, `GenericTicketConnectorREST` ([`OtrsMock::base_url`]) and
//! `AccessRequestConnectorREST` ([`OtrsMock::search_base_url`], which adds
//! `POST /TicketSearch`), under `/znuny/` and the `/otrs/` alias.
//!
//! | route | operation |
//! |---|---|
//! | `POST /Session`, `GET /Session/:SessionID` | SessionCreate, SessionGet |
//! | `POST /Ticket` | TicketCreate |
//! | `GET /Ticket/:TicketID` (`2,3` lists), `GET /TicketList?TicketID=` | TicketGet, TicketGetList |
//! | `GET /Ticket` | TicketSearch |
//! | `PATCH /Ticket/:TicketID` | TicketUpdate |
//! | `GET /TicketHistory/:TicketID` | TicketHistoryGet |
//! | `POST /TicketSearch` (second service only) | TicketSearchPost |
//!
//! The quirks a client must survive are all there:
//! - operation errors are HTTP 200 `{"Error":{"ErrorCode":"<Op>.<Kind>","ErrorMessage":…}}`;
//!   an unknown or expired session is `<Op>.AuthFail`; a missing ticket is `AccessDenied`;
//! - transport errors (no route for the path and method, a body that is not JSON) are HTTP 500
//!   `text/plain`; internal failures HTTP 500 `{"faultcode":"Server","faultstring":…}`;
//! - the same id is a string in one answer and a number in the next (`"TicketID":"2"` from
//!   TicketCreate, `2` from TicketGet, `["2"]` from TicketSearch);
//! - no hits is `{}`; GET bodies are never read; search parameters the server does not know,
//!   and `DynamicField_<Name>` conditions sent in a query string, are silently dropped, so the
//!   search widens to every visible ticket;
//! - GenericInterface sessions expire a fixed time after login, however busy they are.
//!
//! Deviations forced by wiremock: an unknown web service gets an empty `500` carrying the
//! [`crate::fault::FAULT_HEADER`] drop request instead of a closed connection; start the mock
//! [`with_proxy`](OtrsMockBuilder::with_proxy) to get the real behaviour. Every request is
//! counted per operation name in [`OtrsMock::counter`] and passes the [`FaultPlan`] first.

mod backend;
mod checks;
mod mock;
mod model;
mod ops;
mod perl;
mod search;
mod state;
#[cfg(test)]
mod tests;
mod transport;
mod write;

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use serde_json::{Value, json};
use wiremock::{MockServer, Request, Respond, ResponseTemplate};

use self::checks::Outcome;
use self::model::{CORRELATION_FIELD, Customer};
use self::state::{Config, GetOptions, State};
use self::transport::{ACCESS_REQUEST, STANDARD, Target, TransportError};
use crate::counter::RouteCounter;
use crate::fault::FaultPlan;
use crate::mock::{ReceivedRequest, RequestLog};
use crate::proxy::FaultProxy;
use crate::server::start_mock;

const AGENT_LOGIN: &str = "apiagent";
const AGENT_PASSWORD: &str = "ApiAgent-Pw1";
const CUSTOMER_LOGIN: &str = "apicustomer";
const CUSTOMER_PASSWORD: &str = "ApiCustomer-Pw1";

/// Counter label of a request outside `/<prefix>/nph-genericinterface.pl/`.
pub const NOT_FOUND: &str = "NotFound";
/// Counter label of a request for a web service that does not exist.
pub const UNKNOWN_WEBSERVICE: &str = "UnknownWebservice";
/// Counter label of a request no route of its web service matches.
pub const UNKNOWN_ROUTE: &str = "UnknownRoute";

/// Options for an [`OtrsMock`]; see [`OtrsMock::builder`].
#[derive(Debug, Clone)]
pub struct OtrsMockBuilder {
    prefix: String,
    idle: Duration,
    max: Duration,
    customers: Vec<Customer>,
    strict_email: bool,
    proxy: bool,
}

impl Default for OtrsMockBuilder {
    fn default() -> Self {
        let apicustomer = Customer {
            login: CUSTOMER_LOGIN.into(),
            password: CUSTOMER_PASSWORD.into(),
            customer_id: "ACME".into(),
            first: "API".into(),
            last: "Customer".into(),
            email: "apicustomer@example.com".into(),
        };
        Self {
            prefix: "znuny".into(),
            idle: Duration::from_secs(7200),
            max: Duration::from_secs(57_600),
            customers: vec![apicustomer],
            strict_email: false,
            proxy: false,
        }
    }
}

impl OtrsMockBuilder {
    /// The install prefix in URLs (default `znuny`; `otrs` is always served too).
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into().trim_matches('/').to_owned();
        self
    }

    /// `SessionMaxIdleTime` (default two hours). The GenericInterface never refreshes a
    /// session, so this is how long a session lives after SessionCreate.
    pub fn session_idle_timeout(mut self, idle: Duration) -> Self {
        self.idle = idle;
        self
    }

    /// `SessionMaxTime` (default 16 hours).
    pub fn session_max_time(mut self, max: Duration) -> Self {
        self.max = max;
        self
    }

    /// Adds a customer user (e-mail `<login>@example.com`) who can log in and be the
    /// `CustomerUser` of tickets.
    pub fn customer_user(
        mut self,
        login: impl Into<String>,
        password: impl Into<String>,
        customer_id: impl Into<String>,
    ) -> Self {
        let login = login.into();
        self.customers.push(Customer {
            email: format!("{login}@example.com"),
            first: login.clone(),
            last: String::new(),
            login,
            password: password.into(),
            customer_id: customer_id.into(),
        });
        self
    }

    /// Check e-mail addresses like a server with `CheckEmailAddresses = 1` (default off, as
    /// setup.sh configures it). Off, TicketCreate accepts any `CustomerUser`, known or not;
    /// on, an unknown one must at least look like an address or the answer is
    /// `TicketCreate.InvalidParameter` "Ticket->CustomerUser parameter is invalid!".
    pub fn check_email_addresses(mut self, check: bool) -> Self {
        self.strict_email = check;
        self
    }

    /// Put a [`FaultProxy`] in front of the server (default off); the URLs then point at the
    /// proxy, and unknown web services and `Fault::DropConnection` close the connection.
    pub fn with_proxy(mut self, proxy: bool) -> Self {
        self.proxy = proxy;
        self
    }

    /// Starts the server (and the proxy, if asked for).
    ///
    /// # Panics
    ///
    /// When no loopback port can be bound, like [`MockServer::start`].
    pub async fn start(self) -> OtrsMock {
        let config = Config {
            idle: self.idle,
            max: self.max,
            customers: self.customers,
        };
        let state = Arc::new(Mutex::new(State::new(config)));
        let faults = FaultPlan::new();
        let counter = RouteCounter::new();
        let mut prefixes = vec![self.prefix.clone()];
        if self.prefix != "otrs" {
            prefixes.push("otrs".into());
        }
        let responder = Responder {
            state: Arc::clone(&state),
            faults: faults.clone(),
            counter: counter.clone(),
            prefixes,
            strict_email: self.strict_email,
        };
        let started = start_mock(
            responder,
            "accesslink-testkit Znuny GenericInterface",
            self.proxy,
        )
        .await;
        OtrsMock {
            server: started.server,
            proxy: started.proxy,
            log: started.log,
            state,
            faults,
            counter,
            prefix: self.prefix,
        }
    }
}

/// A running Znuny mock; see the [module docs](self).
#[derive(Debug)]
pub struct OtrsMock {
    server: MockServer,
    proxy: Option<FaultProxy>,
    log: RequestLog,
    state: Arc<Mutex<State>>,
    faults: FaultPlan,
    counter: RouteCounter,
    prefix: String,
}

impl OtrsMock {
    /// A mock with the defaults of [`OtrsMock::builder`].
    pub async fn start() -> OtrsMock {
        Self::builder().start().await
    }

    /// Options for a new mock.
    pub fn builder() -> OtrsMockBuilder {
        OtrsMockBuilder::default()
    }

    /// Root URL: the proxy's when started with one, the server's otherwise.
    pub fn url(&self) -> String {
        self.proxy
            .as_ref()
            .map_or_else(|| self.server.uri(), FaultProxy::url)
    }

    /// URL of web service `name` (which need not exist) under the configured prefix.
    pub fn webservice_url(&self, name: &str) -> String {
        format!(
            "{}/{}/nph-genericinterface.pl/Webservice/{name}",
            self.url(),
            self.prefix
        )
    }

    /// `ZNUNY_BASE_URL`: the standard `GenericTicketConnectorREST` service.
    pub fn base_url(&self) -> String {
        self.webservice_url(STANDARD)
    }

    /// `ZNUNY_SEARCH_BASE_URL`: `AccessRequestConnectorREST`, with `POST /TicketSearch`.
    pub fn search_base_url(&self) -> String {
        self.webservice_url(ACCESS_REQUEST)
    }

    /// `ZNUNY_BASE_URL_OTRS_ALIAS`: the standard service under `/otrs/`.
    pub fn alias_base_url(&self) -> String {
        format!(
            "{}/otrs/nph-genericinterface.pl/Webservice/{STANDARD}",
            self.url()
        )
    }

    /// The proxy in front of the server, when started with one.
    pub fn proxy(&self) -> Option<&FaultProxy> {
        self.proxy.as_ref()
    }

    /// `apiagent`.
    pub fn agent_login(&self) -> &'static str {
        AGENT_LOGIN
    }

    /// `ApiAgent-Pw1`.
    pub fn agent_password(&self) -> &'static str {
        AGENT_PASSWORD
    }

    /// `apicustomer` (customer company `ACME`).
    pub fn customer_login(&self) -> &'static str {
        CUSTOMER_LOGIN
    }

    /// `ApiCustomer-Pw1`.
    pub fn customer_password(&self) -> &'static str {
        CUSTOMER_PASSWORD
    }

    /// `AccessRequestID`, the Text dynamic field used for correlation.
    pub fn correlation_field(&self) -> &'static str {
        CORRELATION_FIELD
    }

    /// Moves a ticket to a state by name, as an agent in the UI would (as `root@localhost`;
    /// pending states get a pending time one day ahead). `false` when the ticket or the
    /// state does not exist.
    pub fn set_state(&self, ticket_id: u64, state: &str) -> bool {
        write::set_state(&mut self.lock(), ticket_id, state)
    }

    /// Adds a follow-up to a ticket as the customer `apicustomer` would with TicketUpdate
    /// under the customer's login (sender type `customer`, visible to the customer, an
    /// empty `From`, as the real server stores it). `false` when the ticket does not exist.
    pub fn customer_follow_up(&self, ticket_id: u64, body: &str) -> bool {
        write::customer_follow_up(&mut self.lock(), ticket_id, body)
    }

    /// Creates `count` tickets in queue `Raw`, state `new`, each with one article, as
    /// TicketCreate by `apiagent` would, without going through HTTP (for benchmarks and
    /// large listings); returns their ids.
    pub fn seed_tickets(&self, count: usize, title: &str) -> Vec<u64> {
        let mut state = self.lock();
        (0..count)
            .map(|i| write::seed(&mut state, &format!("{title} {i}")))
            .collect()
    }

    /// Stops (`Some(epoch seconds)`) or restarts (`None`) the clock that stamps
    /// `change_time` and article times, as
    /// [`TicketBackend::freeze_clock`](crate::conformance::TicketBackend::freeze_clock).
    pub fn set_clock(&self, at: Option<i64>) {
        self.lock().frozen = at;
    }

    /// The ticket as an agent's `GET /Ticket/:id?DynamicFields=1&AllArticles=1&Attachments=1`
    /// sees it (the element of the `Ticket` array).
    pub fn ticket_json(&self, ticket_id: u64) -> Option<Value> {
        let state = self.lock();
        let ticket = state.tickets.get(&ticket_id)?;
        let opts = GetOptions {
            dynamic_fields: true,
            all_articles: true,
            attachments: true,
            attachment_contents: true,
            ..GetOptions::default()
        };
        Some(state.ticket_json(ticket, &opts))
    }

    /// Ids of the tickets whose dynamic field `name` is exactly `value`.
    pub fn tickets_with_field(&self, name: &str, value: &str) -> Vec<u64> {
        self.lock().tickets_with_field(name, value)
    }

    /// The articles of a ticket as TicketGet prints them (empty for an unknown ticket).
    pub fn articles(&self, ticket_id: u64) -> Vec<Value> {
        let ticket = self.ticket_json(ticket_id);
        let articles = ticket.as_ref().and_then(|t| t["Article"].as_array());
        articles.cloned().unwrap_or_default()
    }

    /// How many tickets exist, ticket 1 included.
    pub fn ticket_count(&self) -> usize {
        self.lock().tickets.len()
    }

    /// Deletes every session, like `otrs.Console.pl Maint::Session::DeleteAll`.
    pub fn expire_sessions(&self) {
        self.lock().expire_sessions();
    }

    /// How many sessions SessionCreate has issued.
    pub fn session_creates(&self) -> usize {
        self.lock().session_creates
    }

    /// Faults applied before the normal logic.
    pub fn faults(&self) -> &FaultPlan {
        &self.faults
    }

    /// Requests counted by method and operation name (`("POST", "TicketCreate")`,
    /// `("GET", "TicketGetList")`, `("POST", "TicketSearchPost")`, or [`UNKNOWN_ROUTE`],
    /// [`UNKNOWN_WEBSERVICE`], [`NOT_FOUND`]), faulted requests included.
    pub fn counter(&self) -> &RouteCounter {
        &self.counter
    }

    /// How many requests reached `operation` as the web service configuration names it
    /// (`TicketGet` and `TicketGetList` are counted apart, as are `TicketSearch` and
    /// `TicketSearchPost`).
    pub fn count(&self, operation: &str) -> usize {
        self.counter.count_path(operation)
    }

    /// Every request the server received, in order.
    pub async fn received(&self) -> Vec<ReceivedRequest> {
        ReceivedRequest::all(&self.server).await
    }

    fn lock(&self) -> Locked<'_> {
        lock(&self.state)
    }
}

/// The state, locked, with the thread's clock set to the mock's (stopped or running)
/// until the guard drops.
struct Locked<'a> {
    guard: MutexGuard<'a, State>,
    previous: Option<i64>,
}

impl std::ops::Deref for Locked<'_> {
    type Target = State;
    fn deref(&self) -> &State {
        &self.guard
    }
}

impl std::ops::DerefMut for Locked<'_> {
    fn deref_mut(&mut self) -> &mut State {
        &mut self.guard
    }
}

impl Drop for Locked<'_> {
    fn drop(&mut self) {
        model::set_frozen(self.previous);
    }
}

fn lock(state: &Mutex<State>) -> Locked<'_> {
    // A test that panicked while holding the lock must not hide the state from the next one.
    let guard = state.lock().unwrap_or_else(PoisonError::into_inner);
    let previous = model::set_frozen(guard.frozen);
    Locked { guard, previous }
}

struct Responder {
    state: Arc<Mutex<State>>,
    faults: FaultPlan,
    counter: RouteCounter,
    prefixes: Vec<String>,
    strict_email: bool,
}

impl Respond for Responder {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let method = request.method.as_str();
        let target = transport::locate(request.url.path(), &self.prefixes);
        let routed = match &target {
            Target::Service(service, uri) => service.operation(method, uri),
            _ => None,
        };
        let label = match (&target, &routed) {
            (_, Some((operation, _))) => operation,
            (Target::NotFound, _) => NOT_FOUND,
            (Target::UnknownService, _) => UNKNOWN_WEBSERVICE,
            (Target::Service(..), None) => UNKNOWN_ROUTE,
        };
        self.counter.record(method, label);
        let normal = || self.answer(request, &target, routed);
        match self.faults.take(request) {
            Some(action) => action.apply(normal),
            None => normal(),
        }
    }
}

impl Responder {
    fn answer(
        &self,
        request: &Request,
        target: &Target,
        routed: Option<(&'static str, perl::Data)>,
    ) -> ResponseTemplate {
        let (service, uri) = match target {
            Target::NotFound => return transport::not_found(),
            Target::UnknownService => return transport::no_response(),
            Target::Service(service, uri) => (service, uri),
        };
        let keep_alive = service.keep_alive();
        let Some((operation, params)) = routed else {
            let message =
                format!("HTTP::REST Error while determine Operation for request URI '{uri}'.");
            return transport::output(500, message, keep_alive);
        };
        let data = match transport::request_data(request, params) {
            Ok(data) => data,
            Err(TransportError::Status(code, message)) => {
                return transport::output(code, message, keep_alive);
            }
            Err(TransportError::Drop) => return transport::no_response(),
        };
        let outcome = ops::run(&mut lock(&self.state), operation, &data, self.strict_email);
        match outcome {
            Outcome::Data(body) => transport::output(200, body.to_string(), keep_alive),
            Outcome::Fault(message) => {
                let body = json!({"faultcode": "Server", "faultstring": message});
                transport::output(500, body.to_string(), keep_alive)
            }
        }
    }
}
