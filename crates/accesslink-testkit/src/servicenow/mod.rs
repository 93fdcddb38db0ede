//! A stateful ServiceNow instance: the Table API (`/api/now/table/{table}`) and the OAuth
//! token endpoint (`/oauth_token.do`), as the fact sheet
//! `shared/api/servicenow-jira-salesforce-helix.md` §1 describes them.
//!
//! [`ServiceNowMock`] starts empty (no users, groups or tickets) unless
//! [`synthetic_users`](ServiceNowMockBuilder::synthetic_users) asks for generated users.
//! Tests change its data directly ([`insert`](ServiceNowMock::insert),
//! [`update`](ServiceNowMock::update), [`hide`](ServiceNowMock::hide), …) and check what it
//! received ([`requests`](ServiceNowMock::requests), [`count`](ServiceNowMock::count)).
//!
//! ```no_run
//! use accesslink_testkit::servicenow::ServiceNowMock;
//! use serde_json::json;
//!
//! # async fn demo() {
//! let mock = ServiceNowMock::builder().synthetic_users(100_000).start().await;
//! let caller = mock.insert("sys_user", json!({"user_name": "ada", "name": "Ada Lovelace"}));
//! let inc = mock.insert("incident", json!({"short_description": "VPN", "caller_id": caller}));
//! mock.hide("sys_user", &caller); // counted in X-Total-Count, never listed
//! // … point the connector at `mock.url()` with Basic `admin` / `admin-secret` …
//! assert_eq!(mock.count("POST", "/api/now/table/incident"), 0);
//! assert!(mock.journal(&inc).is_empty());
//! # }
//! ```
//!
//! | route | answer |
//! |---|---|
//! | `GET /api/now[/v1\|/v2]/table/{t}` | `200 {"result":[…]}` + `X-Total-Count`, `Link` |
//! | `GET …/table/{t}/{sys_id}` | `200 {"result":{…}}`; `404 No Record found` when missing or hidden |
//! | `POST …/table/{t}` (JSON) | `201 {"result":{…}}` + `Location` |
//! | `PATCH`/`PUT …/table/{t}/{sys_id}` (JSON) | `200 {"result":{…}}` |
//! | `DELETE …/table/{t}/{sys_id}` | `204`, no body |
//! | `POST /oauth_token.do` (form) | `{"access_token","refresh_token","scope","token_type","expires_in"}` |
//!
//! **Tables**: `incident`, `change_request`, `change_task`, `sc_request`, `sc_req_item`,
//! `sc_task`, `problem`, `pm_project`, `pm_project_task`, `task`, `sys_user`,
//! `sys_user_group`, `sys_user_grmember`, `sys_user_role`, `sys_user_has_role`,
//! `sys_journal_field`. `task` is the parent of the ticket tables: a list or `GET` on it
//! sees every ticket, printed with the `task` columns, `sys_class_name` naming the real
//! table. Any other table: `400 Invalid table <t>`. Numbers are prefix + 7 digits from
//! the vendor's Number Maintenance defaults (`INC0010001`, `CHG0030001`, `CTASK0010001`,
//! `REQ0010001`, `RITM0010001`, `SCTASK0010001`, `PRB0040001`, `PRJ0001001`,
//! `PRJTASK0001001`, `TASK0010001`); sys_ids are 32 random lowercase hex digits.
//!
//! **Values** are strings (`"state":"1"`, `"active":"true"`, empty `""`), date-times
//! `YYYY-MM-DD HH:MM:SS` UTC. Reference fields (`caller_id`, `opened_by`, `assigned_to`,
//! `assignment_group`, `requested_for`, `user`, `group`, `role`, `manager`, `parent`,
//! `request`, `request_item`, `change_request`) print as `{"link","value"}`; with
//! `sysparm_exclude_reference_link=true` as the sys_id; with `sysparm_display_value=true`
//! as the display value (a user's or group's `name`, a ticket's `number`; `state` as its
//! label); with `=all` every field is `{"display_value","value"}` (plus `link` on
//! references).
//!
//! **Lists**: `sysparm_fields` (unknown names left out), `sysparm_limit` (default 10000,
//! see [`page_limit_default`](ServiceNowMockBuilder::page_limit_default)),
//! `sysparm_offset`, `sysparm_no_count=true` (no `X-Total-Count`, no `rel="last"`).
//! `X-Total-Count` counts the rows the query matches *including* ACL-hidden ones; `Link`
//! has `first`, `prev` (offset > 0), `next` (rows follow) and `last`. Hidden rows are
//! dropped *after* offset/limit, so a page can be short while more rows exist. An empty
//! list is `200 {"result":[]}`. `name=value` parameters are equality filters, used only
//! without `sysparm_query` (the two are mutually exclusive on the instance).
//!
//! **`sysparm_query`** is split on `^` before anything else, like the instance does, so a
//! `^` inside a value *does* start a new condition — the injection a connector must
//! prevent. Supported: `f=v`, `f!=v`, `fINa,b,c`, `f>v`, `f<v`, `f>=v`, `f<=v` (string
//! comparison; sys_ids are fixed-width hex, so they order), `fSTARTSWITHv`, `fISEMPTY`,
//! `fISNOTEMPTY`, `^` (AND), `^OR` (OR with the previous condition), `^NQ` (union with a new
//! query), `ORDERBYf`, `ORDERBYDESCf`; default order `sys_created_on`, then `sys_id`. A
//! condition on a field the table lacks is silently ignored (vendor quirk: the query
//! matches more rows). Anything else (other operators, dot-walking, `javascript:` values)
//! is `500` with a message starting `mock: unsupported sysparm_query part`, so a connector
//! using more than the mock knows fails loudly instead of passing by accident.
//!
//! **Writes** take `application/json` only (anything else: `400`). Unknown fields are
//! silently dropped; custom `u_*` fields are kept. `comments` and `work_notes` are journal
//! fields: a write appends to `sys_journal_field` (see [`journal`](ServiceNowMock::journal))
//! and reads print `""`. Setting `state` sets `active` (`"false"` for incident 7/8,
//! change 3/4, task family 3/4/7) and `closed_at`/`resolved_at`. An incident saved in state
//! 6 or 7 without `close_code` and `close_notes` is refused with the data-policy `403`. A
//! `sys_user` insert with a taken `user_name` is `403 Operation Failed` /
//! `Error during insert of sys_user (<user_name>)`. `sys_user_grmember` and
//! `sys_user_has_role` have no unique index: duplicates are stored (look before
//! inserting). New `sys_user_has_role` rows get `inherited` `"false"`. Deleting a user
//! deletes its memberships and role grants. Business rules can be added with
//! [`abort_writes`](ServiceNowMock::abort_writes): a REST write setting a field to a value
//! is then dropped silently (`200` with the row unchanged, `201 {"result":{}}`) or refused
//! (`403 Operation Failed`), as the fact sheet's "Business-rule aborts" describes.
//!
//! **Auth** on every Table API call: Basic with the configured user, or `Bearer` with an
//! access token from `/oauth_token.do` (form-encoded only; `grant_type=password` with
//! client and user credentials gives an access and a refresh token, `refresh_token` a new
//! access token with the same refresh token, `client_credentials` an access token; bad
//! credentials `401 {"error":"access_denied"}`). Missing, wrong or
//! [expired](ServiceNowMock::expire_tokens) credentials: `401 User Not Authenticated`.
//!
//! **Order of checks**: every request is logged, then the [`FaultPlan`] is consulted, then
//! the rate limit (when [configured](ServiceNowMockBuilder::rate_limit): `429` with
//! `Retry-After`, `X-RateLimit-Limit`, `X-RateLimit-Reset` and the error body), then auth.
//! A plan fault replaces the work (nothing is written); for "the instance did the work but
//! the answer was lost", start [with the proxy](ServiceNowMockBuilder::with_proxy) and
//! queue a drop on [`proxy()`](ServiceNowMock::proxy).
//!
//! **Generated users**: [`synthetic_users(n)`](ServiceNowMockBuilder::synthetic_users)
//! serves `n` `sys_user` rows computed from their index by
//! [`SyntheticPeople`](crate::data::SyntheticPeople), with sys_ids that sort in index
//! order. A query of one group ordered by `sys_id` (or the default order) turns its
//! `sys_id` bounds into an index range, so keyset pages
//! (`sys_id>X^ORDERBYsys_id&sysparm_limit=1000`) cost their own size; edits, deletes and
//! inserts live in an overlay.
//!
//! **Deliberate differences** from a real instance: string comparisons are
//! case-sensitive by default (the instance's database usually is not; turn
//! [`case_insensitive`](ServiceNowMockBuilder::case_insensitive) on for `=`, `!=`, `IN`,
//! `STARTSWITH` and the `user_name` unique check); a repeated password grant
//! issues a new token instead of extending the live one (KB0791140); business rules,
//! ACL rules other than [`hide`](ServiceNowMock::hide), `sysparm_input_display_value`,
//! dot-walking and the XML format are not modelled; write-only journal fields also print
//! `""` with `sysparm_display_value` (the instance prints the journal there); the rate
//! limit is a fixed window over all callers rather than per user and per hour.

mod auth;
mod backend;
mod listing;
mod mock;
mod query;
mod render;
mod routes;
mod schema;
mod serve;
mod state;
#[cfg(test)]
mod tests;
mod write;

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use serde_json::Value;
use wiremock::MockServer;

use self::auth::{Auth, RateLimit};
use self::state::State;
use self::write::{Failure, Writer};
use crate::fault::FaultPlan;
use crate::mock::RequestLog;
use crate::proxy::FaultProxy;
use crate::server::start_mock;
use crate::tokens::OAuthEndpoint;

/// Default page size of the Table API.
const PAGE_LIMIT: usize = 10_000;

/// One request the mock received.
#[derive(Debug, Clone, PartialEq)]
pub struct SnRequest {
    /// Upper-case method.
    pub method: String,
    /// The URL path.
    pub path: String,
    /// Query string pairs, decoded.
    pub query: Vec<(String, String)>,
    /// The body, when it is JSON (never the form of a token request, which holds secrets).
    pub body: Option<Value>,
    /// The `Authorization` scheme only (`"Basic"`, `"Bearer"`), never the credentials.
    pub authorization: Option<String>,
}

impl SnRequest {
    /// The value of a query parameter, if present.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// How a business rule aborts a REST write (fact sheet §1 "Business-rule aborts").
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AbortHow {
    /// The instance answers as if it worked but stores nothing: a `PATCH`/`PUT` gets
    /// `200` with the row unchanged, a `POST` `201 {"result":{}}`.
    Silent,
    /// `403 Operation Failed` with this detail, or by default
    /// `Error during update of <table> (<number>)` (`insert` for a `POST`; the row named
    /// by number, else user name, name or sys_id). Nothing is stored.
    Forbidden(Option<String>),
}

/// A business rule on one table: writes that set `field` to `value` are aborted `how`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AbortRule {
    /// The field (or journal element, `comments`/`work_notes`) the write sets.
    pub field: String,
    /// The value it sets, as the instance stores it (text: `"7"`, `"false"`).
    pub value: String,
    /// What the instance answers.
    pub how: AbortHow,
}

impl AbortRule {
    /// A rule aborting writes that set `field` to `value`.
    pub fn new(field: &str, value: &str, how: AbortHow) -> AbortRule {
        AbortRule {
            field: field.to_owned(),
            value: value.to_owned(),
            how,
        }
    }
}

/// Options for a [`ServiceNowMock`]; see [`ServiceNowMock::builder`]. `Debug` hides the
/// password.
pub struct ServiceNowMockBuilder {
    user: String,
    password: String,
    oauth: Option<OAuthEndpoint>,
    page_limit: usize,
    rate_limit: Option<(usize, Duration)>,
    synthetic: usize,
    seed: u64,
    proxy: bool,
    case_insensitive: bool,
    page_delay: Option<Duration>,
}

impl Default for ServiceNowMockBuilder {
    fn default() -> Self {
        ServiceNowMockBuilder {
            user: "admin".into(),
            password: "admin-secret".into(),
            oauth: None,
            page_limit: PAGE_LIMIT,
            rate_limit: None,
            synthetic: 0,
            seed: 0,
            proxy: false,
            case_insensitive: false,
            page_delay: None,
        }
    }
}

impl fmt::Debug for ServiceNowMockBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServiceNowMockBuilder")
            .field("user", &self.user)
            .field("password", &"[redacted]")
            .field("oauth", &self.oauth)
            .field("page_limit", &self.page_limit)
            .field("rate_limit", &self.rate_limit)
            .field("synthetic", &self.synthetic)
            .field("seed", &self.seed)
            .field("proxy", &self.proxy)
            .field("case_insensitive", &self.case_insensitive)
            .field("page_delay", &self.page_delay)
            .finish()
    }
}

impl ServiceNowMockBuilder {
    /// The Basic-auth user (default `admin` / `admin-secret`); also the password-grant
    /// user of the default OAuth endpoint.
    pub fn basic(mut self, user: &str, password: &str) -> Self {
        self.user = user.to_owned();
        self.password = password.to_owned();
        self
    }

    /// The OAuth client, user and token lifetime (default: client `sn-client` /
    /// `sn-secret`, the Basic user, 1800 s).
    pub fn oauth(mut self, endpoint: OAuthEndpoint) -> Self {
        self.oauth = Some(endpoint);
        self
    }

    /// `sysparm_limit` when a list call sends none (default 10000, like the instance).
    pub fn page_limit_default(mut self, n: usize) -> Self {
        self.page_limit = n;
        self
    }

    /// Allows `per_window` Table API calls per `window`; more get `429`.
    pub fn rate_limit(mut self, per_window: usize, window: Duration) -> Self {
        self.rate_limit = Some((per_window, window));
        self
    }

    /// Answers every Table API list call (`GET …/table/{t}`) after `delay`, as a
    /// remote instance's latency would (default none). Delays overlap: concurrent
    /// calls each wait `delay`, not in turn.
    pub fn page_delay(mut self, delay: Duration) -> Self {
        self.page_delay = Some(delay);
        self
    }

    /// Serves `n` generated `sys_user` rows (see the [module docs](self)).
    pub fn synthetic_users(mut self, n: usize) -> Self {
        self.synthetic = n;
        self
    }

    /// Seed of the generated users' names (default 0).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Puts a [`FaultProxy`] in front of the server (default off): [`ServiceNowMock::url`]
    /// and the links then name the proxy, and [`ServiceNowMock::proxy`] can drop or cut
    /// answers *after* the mock did the work ("the server created the ticket, the client
    /// never heard back"). A [`Fault::DropConnection`](crate::fault::Fault) from the
    /// [`FaultPlan`] also needs it, but replaces the work like every plan fault.
    pub fn with_proxy(mut self, proxy: bool) -> Self {
        self.proxy = proxy;
        self
    }

    /// Compares text ignoring ASCII case, as the instance's database usually does
    /// (default off: exact comparisons): `=`, `!=`, `IN` and `STARTSWITH` in queries, and
    /// the `sys_user.user_name` unique check (`JDoe` blocks inserting `jdoe`).
    pub fn case_insensitive(mut self, on: bool) -> Self {
        self.case_insensitive = on;
        self
    }

    /// Starts the server.
    ///
    /// # Panics
    ///
    /// When no loopback port can be bound, like [`MockServer::start`].
    pub async fn start(self) -> ServiceNowMock {
        let oauth = self.oauth.unwrap_or_else(|| {
            OAuthEndpoint::new("sn-client", "sn-secret")
                .with_user(&self.user, &self.password)
                .token_ttl(auth::ACCESS_TTL)
        });
        let mut state = State::new(self.synthetic, self.seed);
        state.case_insensitive = self.case_insensitive;
        let shared = Arc::new(Shared {
            state: Mutex::new(state),
            log: Mutex::new(Vec::new()),
            faults: FaultPlan::new(),
            auth: Auth {
                user: self.user,
                password: self.password,
                ttl: auth::endpoint_ttl(&oauth),
                oauth,
            },
            rate: self.rate_limit.map(|(n, w)| RateLimit::new(n, w)),
            page_limit: self.page_limit,
            page_delay: self.page_delay,
        });
        let responder = serve::Responder(Arc::clone(&shared));
        let started = start_mock(responder, "accesslink-testkit ServiceNow", self.proxy).await;
        let mock = ServiceNowMock {
            server: started.server,
            proxy: started.proxy,
            log: started.log,
            shared,
        };
        lock(&mock.shared.state).base_url = mock.url();
        mock
    }
}

#[derive(Debug)]
struct Shared {
    state: Mutex<State>,
    log: Mutex<Vec<SnRequest>>,
    faults: FaultPlan,
    auth: Auth,
    rate: Option<RateLimit>,
    page_limit: usize,
    page_delay: Option<Duration>,
}

/// A running ServiceNow instance; see the [module docs](self).
#[derive(Debug)]
pub struct ServiceNowMock {
    server: MockServer,
    proxy: Option<FaultProxy>,
    log: RequestLog,
    shared: Arc<Shared>,
}

impl ServiceNowMock {
    /// An empty instance with the default credentials.
    pub async fn start() -> ServiceNowMock {
        Self::builder().start().await
    }

    /// Options for a new instance.
    pub fn builder() -> ServiceNowMockBuilder {
        ServiceNowMockBuilder::default()
    }

    /// The instance URL (`http://127.0.0.1:<port>`, the proxy's when started with one);
    /// the API is under `/api/now/table/{table}`.
    pub fn url(&self) -> String {
        self.proxy
            .as_ref()
            .map_or_else(|| self.server.uri(), FaultProxy::url)
    }

    /// The proxy in front of the server, when started [with one](ServiceNowMockBuilder::with_proxy).
    pub fn proxy(&self) -> Option<&FaultProxy> {
        self.proxy.as_ref()
    }

    /// The OAuth client and its token stores (`oauth().tokens().issued()`).
    pub fn oauth(&self) -> &OAuthEndpoint {
        &self.shared.auth.oauth
    }

    /// The Basic-auth user.
    pub fn user(&self) -> &str {
        &self.shared.auth.user
    }

    /// The Basic-auth password.
    pub fn password(&self) -> &str {
        &self.shared.auth.password
    }

    /// Expires every access token issued so far (refresh tokens stay valid).
    pub fn expire_tokens(&self) {
        self.shared.auth.oauth.tokens().expire_all();
    }

    /// Faults applied before anything else.
    pub fn faults(&self) -> &FaultPlan {
        &self.shared.faults
    }

    /// Every request received, in order (faulted ones included).
    pub fn requests(&self) -> Vec<SnRequest> {
        self.log().clone()
    }

    /// Requests whose method is `method` (any case; `""` for any) and whose path contains
    /// `path_fragment`.
    pub fn count(&self, method: &str, path_fragment: &str) -> usize {
        self.log()
            .iter()
            .filter(|r| method.is_empty() || r.method.eq_ignore_ascii_case(method))
            .filter(|r| r.path.contains(path_fragment))
            .count()
    }

    /// Forgets the requests received so far.
    pub fn clear_requests(&self) {
        self.log().clear();
    }

    /// Inserts a row as an admin would (no data policy or unique check; `sys_id` and
    /// system fields may be given); fills sys_id, number, dates, `sys_class_name` and the
    /// defaults. Returns the sys_id.
    ///
    /// # Panics
    ///
    /// When `table` is not one of the mock's tables or `row` is not an object.
    pub fn insert(&self, table: &str, row: Value) -> String {
        let Value::Object(map) = row else {
            panic!("ServiceNowMock::insert needs a JSON object, got {row}");
        };
        let inserted = self.state().insert_row(table, &map, Writer::Admin);
        let inserted =
            inserted.unwrap_or_else(|f: Failure| panic!("insert into {table}: {}", f.message));
        inserted.unwrap_or_else(|| panic!("insert into {table}: dropped"))
    }

    /// The stored row (hidden ones included), raw values.
    pub fn row(&self, table: &str, sys_id: &str) -> Option<Value> {
        let state = self.state();
        let (_, row) = state.get(table, sys_id)?;
        Some(Value::Object(row.into_owned()))
    }

    /// Every row of a table (task family for `task`, generated users included).
    pub fn rows(&self, table: &str) -> Vec<Value> {
        let state = self.state();
        let mut rows: Vec<Value> = state
            .scan(table)
            .map(|r| Value::Object(r.into_owned()))
            .collect();
        rows.sort_by(|a, b| a["sys_id"].as_str().cmp(&b["sys_id"].as_str()));
        rows
    }

    /// Rows of `table` whose `field` is `value`.
    pub fn find(&self, table: &str, field: &str, value: &str) -> Vec<Value> {
        if table == "sys_user" && field == "user_name" {
            let state = self.state();
            let id = state.user_by_name(value);
            let row = id.and_then(|id| state.get("sys_user", &id).map(|(_, r)| r.into_owned()));
            return row.map(Value::Object).into_iter().collect();
        }
        let state = self.state();
        state
            .scan(table)
            .filter(|r| state::text(r, field) == value)
            .map(|r| Value::Object(r.into_owned()))
            .collect()
    }

    /// Updates a row as an admin would (no data policy; `state` still sets `active`);
    /// `false` when there is no such row.
    pub fn update(&self, table: &str, sys_id: &str, patch: Value) -> bool {
        let Value::Object(map) = patch else {
            return false;
        };
        let updated = self.state().update_row(table, sys_id, &map, Writer::Admin);
        updated.is_ok()
    }

    /// Deletes a row (a user with its memberships and roles); `false` when absent.
    pub fn remove(&self, table: &str, sys_id: &str) -> bool {
        self.state().delete(table, sys_id)
    }

    /// Hides a row by ACL: still counted in `X-Total-Count`, never listed, `404` by id.
    pub fn hide(&self, table: &str, sys_id: &str) {
        let mut state = self.state();
        if state.get(table, sys_id).is_some() {
            state.hidden.insert(sys_id.to_owned());
        }
    }

    /// Adds a business rule aborting REST writes to `table` (`task`: every ticket table)
    /// that set the rule's field to its value; rules are tried in the order added.
    /// Writes through this struct's own methods are never aborted.
    pub fn abort_writes(&self, table: &str, rule: AbortRule) {
        self.state().abort_rules.push((table.to_owned(), rule));
    }

    /// Removes every business rule.
    pub fn clear_abort_rules(&self) {
        self.state().abort_rules.clear();
    }

    /// The journal of a row: `(element, value)` with element `comments` or `work_notes`,
    /// oldest first.
    pub fn journal(&self, sys_id: &str) -> Vec<(String, String)> {
        let state = self.state();
        let Some(map) = state.map("sys_journal_field") else {
            return Vec::new();
        };
        state
            .journal_order
            .iter()
            .filter_map(|id| map.get(id))
            .filter(|r| state::text(r, "element_id") == sys_id)
            .map(|r| {
                let element = state::text(r, "element").to_owned();
                (element, state::text(r, "value").to_owned())
            })
            .collect()
    }

    /// The sys_id of generated user `index` (0-based, in sys_id order), `None` past the
    /// end; the user may since have been edited or deleted.
    pub fn synthetic_user_id(&self, index: usize) -> Option<String> {
        let state = self.state();
        let synth = state.synthetic.as_ref()?;
        (index < synth.people.len()).then(|| state::Synthetic::sys_id(index))
    }

    /// How many rows a table has (hidden ones and generated users included).
    pub fn table_len(&self, table: &str) -> usize {
        self.state().len(table)
    }

    fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.shared.state)
    }

    fn log(&self) -> MutexGuard<'_, Vec<SnRequest>> {
        lock(&self.shared.log)
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A test that panicked while holding the lock must not hide the state from the next one.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}
