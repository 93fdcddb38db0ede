//! A stateful mock of the OpsGenie REST API v2: users, teams with members, custom user
//! roles, as `shared/api/opsramp-opsgenie.md` §2 describes them.
//!
//! | route | answer |
//! |---|---|
//! | `GET /v2/users?offset=&limit=&sort=&order=&query=` | `{"totalCount","data":[user…],"paging":{next?,prev?,first,last},"took","requestId"}`; limit default and maximum 100; absolute paging links, also in `X-Paging-*` headers |
//! | `GET /v2/users/:identifier[?expand=contact]` | `{"data":user,"expandable":["contact"],…}`; identifier = id or username (any case) |
//! | `POST /v2/users` | `201 {"result":"Created","data":{"id","name"}}`; `409` on a taken username; `422` with `errors` on a bad field |
//! | `PATCH /v2/users/:identifier` | `200 {"result":"Updated","data":{"id","name"}}` (partial) |
//! | `DELETE /v2/users/:identifier` | `200 {"result":"Deleted"}`; the user leaves every team |
//! | `GET /v2/users/:identifier/teams` | `{"data":[{"id","name"}]}` |
//! | `GET /v2/teams` | `{"data":[{"id","name","description","links":{"web","api"}}]}`, not paged, no `expandable` (see `routes.rs`) |
//! | `GET`/`DELETE /v2/teams/:identifier?identifierType=id\|name` | team with `members:[{"user":{"id","username"},"role"}]` |
//! | `POST /v2/teams` | `201 {"result":"Created","data":{"id","name"}}` |
//! | `POST /v2/teams/:identifier/members?teamIdentifierType=` | `{"user":{"id"\|"username"},"role"}` → `200 {"result":"Added"}`; adding a member again keeps one membership |
//! | `DELETE /v2/teams/:identifier/members/:member?teamIdentifierType=` | `200 {"result":"Removed"}`; `404` when not a member |
//! | `GET`/`POST /v2/roles`, `GET`/`DELETE /v2/roles/:identifier?identifierType=` | custom user roles (built-ins `Owner`, `Admin`, `User`, `Observer`, `Stakeholder` are not listed) |
//! | `GET /v2/account` | `{"data":{"name","userCount","plan"}}` |
//!
//! Every request needs `Authorization: GenieKey <key>` ([`OpsGenieMock::api_key`]);
//! without it, or with an unknown key, the answer is `401 {"message":"Could not
//! authenticate",…}`. A [read-only key](KeyAccess::ReadOnly) gets `403` on writes. Errors
//! are `{"message","took","requestId"}`; every answer carries `X-Request-ID`,
//! `X-Response-Time` and `X-RateLimit-State: OK`.
//!
//! [`OpsGenieMock::record_exchanges`] logs each request with the status and JSON body of
//! its answer, for contract tests ([`OpsGenieMock::exchanges`]).
//!
//! Requests pass the [`FaultPlan`] first. A queued [`Fault::TooManyRequests`] is answered
//! the OpsGenie way — `429`, `X-RateLimit-State: THROTTLED`, `X-RateLimit-Reason`,
//! `X-RateLimit-Period-In-Sec: 60`, no `Retry-After` (fact sheet §2.3) — and a
//! [`Fault::Status`] without a body gets an OpsGenie error body. Every request is counted
//! in [`OpsGenieMock::counter`] under its method and route template (`/v2/users/:id`).
//!
//! Users can be generated lazily for large imports ([`OpsGenieMockBuilder::generated_users`]):
//! user `i` comes from [`SyntheticPeople`](crate::data::SyntheticPeople) (username = the
//! person's e-mail, `Admin` for every 50th, `blocked` for the inactive ones) and is only
//! stored once written.

mod backend;
mod mock;
mod routes;
mod state;
#[cfg(test)]
mod tests;
mod users;

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use serde_json::Value;
use wiremock::{MockServer, Request, Respond, ResponseTemplate};

use self::routes::Call;
pub use self::state::KeyAccess;
use self::state::{Role, State, Team};
use crate::counter::RouteCounter;
pub use crate::exchange::Exchange;
use crate::fault::{Fault, FaultAction, FaultPlan};
use crate::mock::{ReceivedRequest, RequestLog};
use crate::proxy::FaultProxy;
use crate::server::start_mock;

/// Options for an [`OpsGenieMock`]; see [`OpsGenieMock::builder`].
#[derive(Debug, Clone)]
pub struct OpsGenieMockBuilder {
    generated: usize,
    seed: u64,
    key: String,
    access: KeyAccess,
    proxy: bool,
}

impl Default for OpsGenieMockBuilder {
    fn default() -> Self {
        OpsGenieMockBuilder {
            generated: 0,
            seed: 0,
            key: format!("og-mock-{:016x}", fastrand::u64(..)),
            access: KeyAccess::Full,
            proxy: false,
        }
    }
}

impl OpsGenieMockBuilder {
    /// Adds `count` users computed on demand (see the [module docs](self)).
    pub fn generated_users(mut self, count: usize) -> Self {
        self.generated = count;
        self
    }

    /// Seed of the generated names and ids (default 0).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// The API key the mock accepts (default: a random `og-mock-…`).
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.key = key.into();
        self
    }

    /// What that key may do (default [`KeyAccess::Full`]).
    pub fn key_access(mut self, access: KeyAccess) -> Self {
        self.access = access;
        self
    }

    /// Puts a [`FaultProxy`] in front of the server (default off); [`OpsGenieMock::url`]
    /// then points at the proxy, and so do paging links.
    pub fn with_proxy(mut self, proxy: bool) -> Self {
        self.proxy = proxy;
        self
    }

    /// Starts the server (and the proxy, if asked for).
    ///
    /// # Panics
    ///
    /// When no loopback port can be bound, like [`MockServer::start`].
    pub async fn start(self) -> OpsGenieMock {
        let state = Arc::new(Mutex::new(State::new(
            self.generated,
            self.seed,
            self.key.clone(),
            self.access,
        )));
        let faults = FaultPlan::new();
        let counter = RouteCounter::new();
        let exchanges = Arc::new(Mutex::new(None));
        let responder = Responder {
            state: state.clone(),
            faults: faults.clone(),
            counter: counter.clone(),
            exchanges: Arc::clone(&exchanges),
        };
        let started = start_mock(responder, "accesslink-testkit OpsGenie v2", self.proxy).await;
        let mock = OpsGenieMock {
            server: started.server,
            proxy: started.proxy,
            log: started.log,
            state,
            faults,
            counter,
            key: self.key,
            exchanges,
        };
        mock.lock().api_url = mock.url();
        mock
    }
}

/// A running OpsGenie mock; see the [module docs](self).
#[derive(Debug)]
pub struct OpsGenieMock {
    server: MockServer,
    proxy: Option<FaultProxy>,
    log: RequestLog,
    state: Arc<Mutex<State>>,
    faults: FaultPlan,
    counter: RouteCounter,
    key: String,
    /// `Some` once [`OpsGenieMock::record_exchanges`] was called.
    exchanges: Arc<Mutex<Option<Vec<Exchange>>>>,
}

impl OpsGenieMock {
    /// A mock without users, teams or custom roles.
    pub async fn start() -> OpsGenieMock {
        Self::builder().start().await
    }

    /// Options for a new mock.
    pub fn builder() -> OpsGenieMockBuilder {
        OpsGenieMockBuilder::default()
    }

    /// The base URL (`https://api.opsgenie.com` stands here): the proxy's when started
    /// with one.
    pub fn url(&self) -> String {
        self.proxy
            .as_ref()
            .map_or_else(|| self.server.uri(), FaultProxy::url)
    }

    /// The proxy in front of the server, when started with one.
    pub fn proxy(&self) -> Option<&FaultProxy> {
        self.proxy.as_ref()
    }

    /// The accepted API key (send it as `Authorization: GenieKey <key>`).
    pub fn api_key(&self) -> &str {
        &self.key
    }

    /// Accepts another key with the given rights.
    pub fn add_key(&self, key: impl Into<String>, access: KeyAccess) {
        self.lock().keys.insert(key.into(), access);
    }

    /// Stops accepting a key (as revoking the integration's key does); `false` when it
    /// was not accepted.
    pub fn revoke_key(&self, key: &str) -> bool {
        self.lock().keys.remove(key).is_some()
    }

    /// Faults applied before the normal logic.
    pub fn faults(&self) -> &FaultPlan {
        &self.faults
    }

    /// Throttles the next `n` requests with OpsGenie's `429`.
    pub fn throttle_next(&self, n: usize) {
        self.faults
            .push(Fault::TooManyRequests { retry_after: None }, n);
    }

    /// Requests counted by method and route template, faulted ones included.
    pub fn counter(&self) -> &RouteCounter {
        &self.counter
    }

    /// How many requests had this method and route template (`"GET", "/v2/users"`).
    pub fn count(&self, method: &str, route: &str) -> usize {
        self.counter.count(method, route)
    }

    /// How many requests the mock has received in all.
    pub fn requests(&self) -> usize {
        self.counter.total()
    }

    /// Every request the server received, in order.
    pub async fn received(&self) -> Vec<ReceivedRequest> {
        ReceivedRequest::all(&self.server).await
    }

    /// How many users exist.
    pub fn user_count(&self) -> usize {
        self.lock().total_users()
    }

    /// How many users `POST /v2/users` (or [`add_user`](Self::add_user)) created.
    pub fn users_created(&self) -> usize {
        self.lock().users_created
    }

    /// How many users were deleted.
    pub fn users_deleted(&self) -> usize {
        self.lock().users_deleted
    }

    /// A user (by id or username) as `GET /v2/users/:id` prints it.
    pub fn user(&self, identifier: &str) -> Option<Value> {
        let state = self.lock();
        state
            .user_by(identifier)
            .map(|u| state.user_json(&u, false))
    }

    /// The name of a user's role (`Admin`, `User`, a custom role's name).
    pub fn user_role(&self, identifier: &str) -> Option<String> {
        self.lock().user_by(identifier).map(|u| u.role)
    }

    /// The id of generated user `index` (0-based), if there is one.
    pub fn generated_user_id(&self, index: usize) -> Option<String> {
        self.lock()
            .users_page(index, 1)
            .first()
            .map(|u| u.id.clone())
    }

    /// Adds a user as `POST /v2/users` would; its id, or why not.
    pub fn add_user(&self, username: &str, full_name: &str, role: &str) -> Result<String, String> {
        let mut state = self.lock();
        let body = serde_json::json!({ "username": username, "fullName": full_name, "role": { "name": role } });
        let user = routes::user_from(&state, &body, None).map_err(|(f, r)| format!("{f}: {r}"))?;
        if state.username_taken(username, None) {
            return Err(format!("username {username} is taken"));
        }
        Ok(state.insert_user(user))
    }

    /// Deletes a user (id or username) as `DELETE /v2/users/:id` would, memberships
    /// included; `false` when there is none.
    pub fn delete_user(&self, identifier: &str) -> bool {
        let mut state = self.lock();
        match state.find_user(identifier) {
            Some(key) => state.delete_user(key),
            None => false,
        }
    }

    /// Adds a team; its id.
    pub fn add_team(&self, name: &str, description: &str) -> String {
        let mut state = self.lock();
        let id = state.new_id(2);
        state.teams.push(Team {
            id: id.clone(),
            name: name.to_owned(),
            description: description.to_owned(),
            members: Vec::new(),
        });
        id
    }

    /// Makes a user (id or username) a member of a team (id) with a team role; `false`
    /// when either does not exist.
    pub fn add_member(&self, team_id: &str, user: &str, role: &str) -> bool {
        let mut state = self.lock();
        let (Some(t), Some(u)) = (state.team_index(team_id, false), state.user_by(user)) else {
            return false;
        };
        let members = &mut state.teams[t].members;
        if !members.iter().any(|(m, _)| *m == u.id) {
            members.push((u.id, role.to_owned()));
        }
        true
    }

    /// The members of a team (id): `(user id, team role)`.
    pub fn team_members(&self, team_id: &str) -> Vec<(String, String)> {
        let state = self.lock();
        state
            .team_index(team_id, false)
            .map(|t| state.teams[t].members.clone())
            .unwrap_or_default()
    }

    /// Ids of the teams a user (id or username) is in.
    pub fn user_teams(&self, user: &str) -> Vec<String> {
        let state = self.lock();
        let Some(u) = state.user_by(user) else {
            return Vec::new();
        };
        state
            .teams
            .iter()
            .filter(|t| t.members.iter().any(|(m, _)| *m == u.id))
            .map(|t| t.id.clone())
            .collect()
    }

    /// Adds a custom user role extending `user`, `observer` or `stakeholder`; its id.
    pub fn add_role(&self, name: &str, extended_role: &str) -> String {
        let mut state = self.lock();
        let id = state.new_id(3);
        state.roles.push(Role {
            id: id.clone(),
            name: name.to_owned(),
            extended_role: extended_role.to_owned(),
            granted_rights: Vec::new(),
            disallowed_rights: Vec::new(),
        });
        id
    }

    /// From now on, log every request with the status and JSON body of its answer (off
    /// by default: a 100k-user import would keep every page).
    pub fn record_exchanges(&self) {
        lock(&self.exchanges).get_or_insert_with(Vec::new);
    }

    /// The requests logged since [`record_exchanges`](Self::record_exchanges), with the
    /// answers, in order. An answer a queued fault replaced has no status or body.
    pub fn exchanges(&self) -> Vec<Exchange> {
        lock(&self.exchanges).clone().unwrap_or_default()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }
}

fn lock<T>(state: &Mutex<T>) -> MutexGuard<'_, T> {
    // A test that panicked while holding the lock must not hide the state from the next.
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

struct Responder {
    state: Arc<Mutex<State>>,
    faults: FaultPlan,
    counter: RouteCounter,
    exchanges: Arc<Mutex<Option<Vec<Exchange>>>>,
}

impl Respond for Responder {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let record = lock(&self.exchanges).is_some();
        let (answer, logged) = crate::exchange::capture(record, request, || self.answer(request));
        if let (Some(e), Some(log)) = (logged, lock(&self.exchanges).as_mut()) {
            log.push(e);
        }
        answer
    }
}

impl Responder {
    fn answer(&self, request: &Request) -> ResponseTemplate {
        let call = Call::parse(request);
        self.counter.record(request.method.as_str(), &call.label());
        let normal = || {
            let mut state = lock(&self.state);
            if let Some(denied) = routes::authorize(&mut state, request, call.method) {
                return denied;
            }
            routes::answer(&mut state, &call)
        };
        match self.faults.take(request) {
            Some(FaultAction::Replace(Fault::TooManyRequests { .. })) => {
                routes::throttled(&mut lock(&self.state), routes::domain(&call))
            }
            Some(FaultAction::Replace(Fault::Status { status, body: None })) => {
                let reason = http::StatusCode::from_u16(status)
                    .ok()
                    .and_then(|s| s.canonical_reason())
                    .unwrap_or("Error");
                routes::error(&mut lock(&self.state), status, reason, None)
            }
            Some(action) => action.apply(normal),
            None => normal(),
        }
    }
}
