//! A stateful mock of the TOPdesk REST API (`/tas/api`), as `shared/api/otrs-glpi-topdesk-sdp.md`
//! §3 and the vendor's API description (pageStart/pageSize, 206/200/204) describe it.
//!
//! | route | answer |
//! |---|---|
//! | `GET /tas/api/version` | `{"version":"3.7.1"}` |
//! | `GET /tas/api/incidents?pageStart=&pageSize=&query=` | bare array; **206** while more rows follow, **200** on the last page, **204** when nothing matches; `pageSize` 1..=10 000 (default 10), `start`/`page_size` aliases |
//! | `POST /tas/api/incidents` | `201` incident; unknown fields, an 81-character `briefDescription`, an unknown caller are `400` |
//! | `GET /tas/api/incidents/id/{id}`, `/number/{number}` | the incident (numbers matched exactly, in the tenant's [`NumberFormat`]) |
//! | `PATCH`/`PUT /tas/api/incidents/id/{id}` | `action` appends an action; `processingStatus`/`closureCode` by name (unknown: `400`, id and name together: `400`); `completed`/`closed` flags; archived incidents are `403` |
//! | `GET /tas/api/incidents/id/{id}/actions` | actions, newest first; `204` when none |
//! | `GET /tas/api/incidents/id/{id}/progresstrail?start=&page_size=` | text entries newest first (1..=100 per page, 206/200/204), with `entryDate` and the writer |
//! | `GET /tas/api/incidents/{categories,subcategories,closure_codes,statuses}` | the tenant's search lists |
//! | `GET /tas/api/operatorChanges/{idOrNumber}` | change with `phase`, `changeType`, `authorizationStatus`, `externalNumber`, `modificationDate` |
//! | `GET /tas/api/operatorChanges?pageStart=&pageSize=&query=` | `{"results": […], "next"}`, 206 while more (1..=5000 per page) |
//! | `POST /tas/api/operatorChanges` | `201`; `requester.id` (a known person), `briefDescription`, `changeType` required, unknown fields `400`; simple changes start in phase `simple`, extensive ones in `rfc` (authorization `requested`) |
//! | `POST /tas/api/operatorChanges/{id}/progresstrail`, `/processingStatusTransitions`, `/cancel` | memo; `approve`/`reject` from `rfc`, `close` from an open phase (else `400`); cancel unless finished |
//! | `GET /tas/api/permissiongroups`, `GET/POST/DELETE …/operators/id/{id}/permissiongroups` | permission groups and operators' links to them |
//! | `GET/POST /tas/api/persons`, `GET/PATCH …/id/{id}`, `PATCH …/id/{id}/archive\|unarchive` | persons (`tasLoginName`, `branch` required and known) |
//! | same under `/tas/api/operators`, plus `GET/POST/DELETE …/id/{id}/operatorgroups` (`[{"id"}]`) | operators and memberships |
//! | `GET /tas/api/operatorgroups`, `/operatorgroups/id/{id}` | operator groups |
//!
//! FIQL `query` (the subset in `fiql.rs`: `==`, `!=`, `=in=`, `=out=`, `=sw=`, `;`, `,`,
//! parentheses, quoted values with backslash escapes; `=ge=` and friends on times) and
//! `sort` on the fields each list allows; an
//! unknown field or a malformed query is `400`. Archived persons and operators cannot be
//! changed (`403`) until unarchived; archiving twice is `400`. `password` (at least 5
//! characters) is taken on create and `PATCH` and never printed. Every incident write
//! stamps `modificationDate` from the server's clock, which tests can stop
//! ([`TopdeskMock::freeze_clock`]).
//!
//! Auth is `Authorization: Basic base64(login:application password)` on every request,
//! else `401 [{"message"}]`. Operator credentials ([`TopdeskMock::login`]) may do
//! everything; person credentials ([`TopdeskMock::add_person_login`]) only read incidents
//! and get `403` in the newer error shape (`{"errors":[{"errorCode","errorMessage"}]}`)
//! elsewhere. Errors otherwise use the older shape `[{"message"}]`.
//!
//! Requests pass the [`FaultPlan`] first.

mod backend;
mod fiql;
mod mock;
mod routes;
mod state;

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use serde_json::Value;
use wiremock::{MockServer, Request, Respond, ResponseTemplate};

use self::state::{Account, Change, State};
pub use self::state::{AccountType, NumberFormat};
use crate::data::SyntheticPeople;
pub use crate::exchange::Exchange;
use crate::fault::FaultPlan;
use crate::mock::{ReceivedRequest, RequestLog};
use crate::proxy::FaultProxy;
use crate::server::start_mock;

/// Options for a [`TopdeskMock`]; see [`TopdeskMock::builder`].
#[derive(Debug, Clone)]
pub struct TopdeskMockBuilder {
    persons: usize,
    operators: usize,
    seed: u64,
    login: String,
    password: String,
    number_format: NumberFormat,
    proxy: bool,
}

impl Default for TopdeskMockBuilder {
    fn default() -> Self {
        TopdeskMockBuilder {
            persons: 0,
            operators: 0,
            seed: 0,
            login: "svc-iam".into(),
            password: format!("td-app-{:016x}", fastrand::u64(..)),
            number_format: NumberFormat::default(),
            proxy: false,
        }
    }
}

impl TopdeskMockBuilder {
    /// Adds `count` generated persons (from [`SyntheticPeople`]; every 17th archived).
    pub fn generated_persons(mut self, count: usize) -> Self {
        self.persons = count;
        self
    }

    /// Adds `count` generated operators (every 17th archived).
    pub fn generated_operators(mut self, count: usize) -> Self {
        self.operators = count;
        self
    }

    /// Seed of the generated names (default 0).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// The operator login and application password the mock accepts (default `svc-iam`
    /// and a random `td-app-…`).
    pub fn credentials(mut self, login: impl Into<String>, password: impl Into<String>) -> Self {
        self.login = login.into();
        self.password = password.into();
        self
    }

    /// How the tenant writes incident numbers (default [`NumberFormat::Spaces`]).
    pub fn number_format(mut self, format: NumberFormat) -> Self {
        self.number_format = format;
        self
    }

    /// Puts a [`FaultProxy`] in front of the server (default off).
    pub fn with_proxy(mut self, proxy: bool) -> Self {
        self.proxy = proxy;
        self
    }

    /// Starts the server (and the proxy, if asked for).
    ///
    /// # Panics
    ///
    /// When no loopback port can be bound, like [`MockServer::start`].
    pub async fn start(self) -> TopdeskMock {
        let mut state = State::new(self.number_format);
        state.credentials.insert(
            self.login.clone(),
            (self.password.clone(), AccountType::Operator),
        );
        let branch = state.new_id(9);
        state.branches.push(branch.clone());
        let people = |n: usize, seed: u64| SyntheticPeople::new(n, seed).iter().collect::<Vec<_>>();
        for p in people(self.persons, self.seed) {
            let id = state.new_id(2);
            state.persons.push(Account {
                id,
                login: p.login,
                first: p.first_name,
                sur: p.last_name,
                email: p.email,
                archived: !p.active,
                branch: Some(branch.clone()),
                groups: Default::default(),
                permission_groups: Default::default(),
                password: None,
            });
        }
        for p in people(self.operators, self.seed.wrapping_add(1)) {
            let id = state.new_id(3);
            state.operators.push(Account {
                id,
                login: format!("op.{}", p.login),
                first: p.first_name,
                sur: p.last_name,
                email: p.email,
                archived: !p.active,
                branch: Some(branch.clone()),
                groups: Default::default(),
                permission_groups: Default::default(),
                password: None,
            });
        }
        let state = Arc::new(Mutex::new(state));
        let faults = FaultPlan::new();
        let exchanges = Arc::new(Mutex::new(None));
        let responder = Responder {
            state: state.clone(),
            faults: faults.clone(),
            exchanges: Arc::clone(&exchanges),
        };
        let started = start_mock(responder, "accesslink-testkit TOPdesk", self.proxy).await;
        TopdeskMock {
            server: started.server,
            proxy: started.proxy,
            log: started.log,
            state,
            faults,
            login: self.login,
            password: self.password,
            branch,
            exchanges,
        }
    }
}

/// A running TOPdesk mock; see the [module docs](self).
#[derive(Debug)]
pub struct TopdeskMock {
    server: MockServer,
    proxy: Option<FaultProxy>,
    log: RequestLog,
    state: Arc<Mutex<State>>,
    faults: FaultPlan,
    login: String,
    password: String,
    branch: String,
    /// `Some` once [`TopdeskMock::record_exchanges`] was called.
    exchanges: Arc<Mutex<Option<Vec<Exchange>>>>,
}

impl TopdeskMock {
    /// A mock without data, with operator credentials.
    pub async fn start() -> TopdeskMock {
        Self::builder().start().await
    }

    /// Options for a new mock.
    pub fn builder() -> TopdeskMockBuilder {
        TopdeskMockBuilder::default()
    }

    /// The instance root (`https://acme.topdesk.net` stands here; the API is under
    /// `/tas/api`): the proxy's when started with one.
    pub fn url(&self) -> String {
        self.proxy
            .as_ref()
            .map_or_else(|| self.server.uri(), FaultProxy::url)
    }

    /// The operator login name the mock accepts.
    pub fn login(&self) -> &str {
        &self.login
    }

    /// The operator's application password.
    pub fn password(&self) -> &str {
        &self.password
    }

    /// Accepts person credentials (read-only self-service scope).
    pub fn add_person_login(&self, login: &str, password: &str) {
        self.lock()
            .credentials
            .insert(login.to_owned(), (password.to_owned(), AccountType::Person));
    }

    /// Stops accepting a login (as revoking its application password does).
    pub fn revoke_login(&self, login: &str) -> bool {
        self.lock().credentials.remove(login).is_some()
    }

    /// The id of the branch new persons can use.
    pub fn branch_id(&self) -> &str {
        &self.branch
    }

    /// Faults applied before the normal logic.
    pub fn faults(&self) -> &FaultPlan {
        &self.faults
    }

    /// Every request the server received, in order.
    pub async fn received(&self) -> Vec<ReceivedRequest> {
        ReceivedRequest::all(&self.server).await
    }

    /// How many requests the mock has received in all.
    pub fn requests(&self) -> usize {
        self.log.len()
    }

    /// Adds a person; its id.
    pub fn add_person(&self, login: &str, first: &str, sur: &str, email: &str) -> String {
        let mut state = self.lock();
        let id = state.new_id(2);
        state.persons.push(Account {
            id: id.clone(),
            login: login.into(),
            first: first.into(),
            sur: sur.into(),
            email: email.into(),
            archived: false,
            branch: Some(self.branch.clone()),
            groups: Default::default(),
            permission_groups: Default::default(),
            password: None,
        });
        id
    }

    /// Adds an operator group; its id.
    pub fn add_operator_group(&self, name: &str) -> String {
        let mut state = self.lock();
        let id = state.new_id(4);
        state.groups.push((id.clone(), name.into()));
        id
    }

    /// Adds an operator change; its id. `phase` as TOPdesk names it (`rfc`,
    /// `progress`, …), `authorization` its authorization status, if any.
    pub fn add_change(
        &self,
        number: &str,
        change_type: &str,
        phase: &str,
        authorization: Option<&str>,
    ) -> String {
        let mut state = self.lock();
        let id = state.new_id(5);
        let now = state.now();
        state.changes.push(Change {
            id: id.clone(),
            number: number.into(),
            brief: format!("Change {number}"),
            change_type: change_type.into(),
            phase: phase.into(),
            authorization_status: authorization.map(str::to_owned),
            requester: None,
            request: String::new(),
            external_number: String::new(),
            modified: now,
            progress: Vec::new(),
        });
        id
    }

    /// An operator change (by id or number) as `GET /operatorChanges/{id}` prints it.
    pub fn change(&self, id_or_number: &str) -> Option<Value> {
        let state = self.lock();
        state
            .changes
            .iter()
            .find(|c| c.id == id_or_number || c.number == id_or_number)
            .map(|c| state.change_json(c))
    }

    /// The progress-trail memos of a change (by id or number): `(text, invisible for
    /// caller)`, oldest first.
    pub fn change_progress(&self, id_or_number: &str) -> Vec<(String, bool)> {
        self.lock()
            .changes
            .iter()
            .find(|c| c.id == id_or_number || c.number == id_or_number)
            .map(|c| {
                c.progress
                    .iter()
                    .map(|e| (e.text.clone(), e.invisible))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// How many operator changes exist.
    pub fn change_count(&self) -> usize {
        self.lock().changes.len()
    }

    /// Adds a permission group; its id.
    pub fn add_permission_group(&self, name: &str) -> String {
        let mut state = self.lock();
        let id = state.new_id(7);
        state.permission_groups.push((id.clone(), name.into()));
        id
    }

    /// The permission-group ids of an operator (by id or login).
    pub fn permission_groups_of(&self, id_or_login: &str) -> Vec<String> {
        self.lock()
            .operators
            .iter()
            .find(|o| o.id == id_or_login || o.login.eq_ignore_ascii_case(id_or_login))
            .map(|o| o.permission_groups.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Sets an incident's category and subcategory (by names of the tenant's lists), as
    /// an operator would; `false` when there is no such incident.
    pub fn set_incident_category(
        &self,
        id_or_number: &str,
        category: &str,
        sub: Option<&str>,
    ) -> bool {
        let mut state = self.lock();
        let Some(at) = state
            .incidents
            .iter()
            .position(|i| i.id == id_or_number || i.number == id_or_number)
        else {
            return false;
        };
        state.incidents[at].category = Some(category.to_owned());
        state.incidents[at].subcategory = sub.map(str::to_owned);
        state.touch(at);
        true
    }

    /// Stops the server's clock at `at`, or lets it run again (`None`). Writes are then
    /// stamped `at` plus one millisecond per write, within the same second (TOPdesk keeps
    /// times to the millisecond).
    pub fn freeze_clock(&self, at: Option<std::time::SystemTime>) {
        let mut state = self.lock();
        state.clock = at;
        state.tick = 0;
    }

    /// Sets the requester (a person id) of a change (by number); `false` when none.
    pub fn set_change_requester(&self, number: &str, person_id: &str) -> bool {
        let mut state = self.lock();
        match state.changes.iter_mut().find(|c| c.number == number) {
            Some(c) => {
                c.requester = Some(person_id.to_owned());
                true
            }
            None => false,
        }
    }

    /// An incident (by id or number) as `GET /incidents/id/{id}` prints it.
    pub fn incident(&self, id_or_number: &str) -> Option<Value> {
        let state = self.lock();
        state
            .incidents
            .iter()
            .find(|i| i.id == id_or_number || i.number == id_or_number)
            .map(|i| state.incident_json(i))
    }

    /// The actions of an incident (by id or number): `(text, invisible for caller)`,
    /// oldest first.
    pub fn actions(&self, id_or_number: &str) -> Vec<(String, bool)> {
        let state = self.lock();
        state
            .incidents
            .iter()
            .find(|i| i.id == id_or_number || i.number == id_or_number)
            .map(|i| {
                i.actions
                    .iter()
                    .map(|e| (e.text.clone(), e.invisible))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Adds a partial incident under the incident `main` (by number or id), as an operator
    /// would; its number, or `None` when there is no such incident.
    pub fn add_partial(&self, main: &str) -> Option<String> {
        let mut state = self.lock();
        let base = state
            .incidents
            .iter()
            .find(|i| i.id == main || i.number == main)?
            .clone();
        let id = state.new_id(1);
        let number = format!("{}/1", base.number);
        let mut partial = base;
        partial.id = id;
        partial.number = number.clone();
        partial.line = "partial".into();
        partial.external_number = String::new();
        partial.actions.clear();
        state.incidents.push(partial);
        Some(number)
    }

    /// How many incidents `POST /incidents` created.
    pub fn incidents_created(&self) -> usize {
        self.lock().created_incidents
    }

    /// Archives an incident (by id or number) as an operator would; `false` when none.
    pub fn archive_incident(&self, id_or_number: &str) -> bool {
        let mut state = self.lock();
        match state
            .incidents
            .iter_mut()
            .find(|i| i.id == id_or_number || i.number == id_or_number)
        {
            Some(i) => {
                i.archived = true;
                true
            }
            None => false,
        }
    }

    /// Whether a processing status that closes also sets `completed`/`closed` (default
    /// `true`); off, only explicit flags close.
    pub fn set_status_drives_flags(&self, on: bool) {
        self.lock().status_drives_flags = on;
    }

    /// An operator (by id or login) as `GET /operators/id/{id}` prints it.
    pub fn operator(&self, id_or_login: &str) -> Option<Value> {
        let state = self.lock();
        state
            .operators
            .iter()
            .find(|o| o.id == id_or_login || o.login.eq_ignore_ascii_case(id_or_login))
            .map(|o| state.operator_json(o))
    }

    /// The group ids of an operator (by id or login).
    pub fn operator_groups_of(&self, id_or_login: &str) -> Vec<String> {
        self.lock()
            .operators
            .iter()
            .find(|o| o.id == id_or_login || o.login.eq_ignore_ascii_case(id_or_login))
            .map(|o| o.groups.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Whether `password` is the password of the person or operator `id`.
    pub fn password_is(&self, id: &str, password: &str) -> Option<bool> {
        let state = self.lock();
        state
            .persons
            .iter()
            .chain(&state.operators)
            .find(|a| a.id.eq_ignore_ascii_case(id))
            .map(|a| a.password.as_deref() == Some(password))
    }

    /// How many persons and operators exist (archived ones included).
    pub fn account_count(&self) -> usize {
        let state = self.lock();
        state.persons.len() + state.operators.len()
    }

    /// From now on, log every request with the status and JSON body of its answer (a
    /// `204` as `null`), for contract tests.
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
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

struct Responder {
    state: Arc<Mutex<State>>,
    faults: FaultPlan,
    exchanges: Arc<Mutex<Option<Vec<Exchange>>>>,
}

impl Respond for Responder {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let record = lock(&self.exchanges).is_some();
        let (answer, logged) = crate::exchange::capture(record, request, || {
            let normal = || routes::answer(&mut lock(&self.state), request);
            match self.faults.take(request) {
                Some(action) => action.apply(normal),
                None => normal(),
            }
        });
        if let (Some(e), Some(log)) = (logged, lock(&self.exchanges).as_mut()) {
            log.push(e);
        }
        answer
    }
}
