//! A stateful GLPI 10.0.11 legacy REST API (`/apirest.php`).
//!
//! [`GlpiMock`] answers like the server `shared/glpi/setup.sh` installs, as recorded in
//! `shared/glpi/REST.md`, checked request by request against that server and read in its
//! `src/Api/API.php`, `APIRest.php` and `Search.php`. It starts with the data of a fresh
//! install: users `glpi` (Super-Admin, password `glpi`, the API token), `post-only`,
//! `tech`, `normal` and `glpi-system` (ids 2–6); profiles 1–8 (Self-Service … Read-Only);
//! the Root entity (id 0); no groups, tickets or changes.
//!
//! | route | answer |
//! |---|---|
//! | `GET /initSession` (`Authorization: user_token …` or `Basic …`) | `{"session_token"}` |
//! | `GET /killSession` | `true` |
//! | `GET /getFullSession`, `/getMyProfiles`, `/getActiveProfile`, `/getMyEntities`, `/getActiveEntities`; `POST /changeActiveEntities`, `/changeActiveProfile` | session data (a subset of GLPI's) |
//! | `GET /:itemtype/:id` | the row with `links`; `404 ERROR_ITEM_NOT_FOUND` |
//! | `GET /:itemtype`, `GET /:itemtype/:id/:sub_itemtype` | rows with `range` paging (below) |
//! | `POST /:itemtype` (`{"input":{…}}` or a list) | `201 {"id","message"}` + `location`, or a list + `link` |
//! | `PUT`/`PATCH /:itemtype[/:id]` | `200 [{"<id>":true,"message":""}]` |
//! | `DELETE /:itemtype[/:id]` (`force_purge`) | `200 [{"<id>":true,"message":""}]`; trash unless purged |
//! | `GET /search/:itemtype`, `GET /listSearchOptions/:itemtype` | rows keyed by search-option id (below) |
//!
//! Itemtypes: `Ticket`, `Change`, `ITILFollowup`, `TicketValidation`, `ChangeValidation`,
//! `User`, `UserEmail`, `Group`, `Group_User`, `Profile`, `Profile_User`, `Entity`
//! ([`Itemtype`]). The quirks a client must survive are all there:
//! - the `App-Token` is checked on every call (missing or wrong: `400`), before the
//!   `Session-Token` (missing: `400 ERROR_SESSION_TOKEN_MISSING`; unknown, killed or
//!   [expired](GlpiMock::expire_sessions): `401 ERROR_SESSION_TOKEN_INVALID`);
//! - errors are `[code, message]` arrays, the message sometimes `null`, a result list, or
//!   suffixed `; view documentation in your browser at <base>/#<code>`;
//! - ids are integers in GET and add answers but string keys in update/delete results; an
//!   update of an unknown id is `400 ["ERROR_GLPI_UPDATE",null]`, a batch with some
//!   failures `207 ERROR_GLPI_PARTIAL_…` with the results inside the error;
//! - text is stored HTML-encoded (`<` → `&#60;`), and only `X-GLPI-Sanitized-Content:
//!   false` decodes it in GETs (never in searches);
//! - `DELETE` trashes tickets, changes and users (`is_deleted: 1`, still readable by id,
//!   hidden from lists) and purges everything else, with GLPI's cascades;
//! - setting a ticket's status fills `solvedate`/`closedate`; validations recompute the
//!   ticket's `global_validation` (1 none, 2 waiting, 3 accepted, 4 refused);
//! - a new user gets the Self-Service profile on the Root entity (dynamic), its first
//!   address becomes its default e-mail, a duplicate login (any case) is refused;
//! - entities created after a login stay out of that session's reach (`403`).
//!
//! **Paging** (`GET /:itemtype`): `range=a-b` is inclusive; `206` whenever the clamped
//! range is shorter than the total (the last page of several too), `200` only when it
//! covers everything; `Content-Range: a-b/total` and `Accept-Range: <Itemtype> 1000`, no
//! `Content-Range` when nothing matches; a start equal to the total is `206 []`, past it
//! `400 ERROR_RANGE_EXCEED_TOTAL`. Without `range` the session's `list_limit` rows come
//! back (20 for `glpi`, 15 for users without their own) while `Content-Range` says
//! `0-<list_limit>`. The `User` total counts user × `Profile_User` rows, so a user with
//! two profiles counts twice and the last pages can be empty before the total.
//!
//! **Search** (`GET /search/:itemtype?criteria[0][field]=1&criteria[0][searchtype]=contains
//! &criteria[0][value]=…&forcedisplay[0]=2`): `{"totalcount","count","sort","order",
//! "data","content-range"}` (no `data` when empty), rows keyed by option id as strings
//! (`1` name, `2` id, `12` status, `52` approval; User `5` e-mails, `8` active, `13`
//! groups, `20` profiles, `34` last name); `contains` is GLPI's `LIKE` (`^`/`$` anchor,
//! case-insensitive, never matching text with `&`, `<`, `>`), `equals` on field 1
//! compares ids, status takes `notold`/`old`/`process`/`all`; `withindexes` keys rows by
//! id; the same `206`/`Content-Range` rules as lists.
//!
//! Every request is counted in [`GlpiMock::counter`] under GLPI's endpoint name and
//! itemtype (`("GET", "getItems:User")`, `("POST", "createItems:Ticket")`,
//! `("GET", "searchItems:Ticket")`, `("GET", "initSession")`, …) and passes the
//! [`FaultPlan`] first. What the mock does differently from the real server is listed in
//! [`diff`]'s DIFFERENCES.

mod backend;
pub mod diff;
mod edit;
mod items;
mod listing;
mod mock;
mod php;
mod routes;
mod search;
mod state;
mod table;
mod templates;
#[cfg(test)]
mod tests;
mod transport;
mod write;

use std::ops::Range;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use serde_json::{Map, Value};
use wiremock::{MockServer, Request, Respond, ResponseTemplate};

pub use self::items::Itemtype;
use self::items::as_id;
use self::state::{Session, State};
use self::transport::{API_PATH, Call};
use crate::counter::RouteCounter;
use crate::fault::FaultPlan;
use crate::mock::{ReceivedRequest, RequestLog};
use crate::proxy::FaultProxy;
use crate::server::start_mock;

/// Login of the seeded super-admin.
const LOGIN: &str = "glpi";
/// Its password on a fresh install.
const PASSWORD: &str = "glpi";
/// Id of the `glpi` user.
const GLPI_USER: i64 = 2;
/// Id of the first generated user.
const FIRST_GENERATED: i64 = 7;

/// Options for a [`GlpiMock`]; see [`GlpiMock::builder`].
#[derive(Debug, Clone, Default)]
pub struct GlpiMockBuilder {
    generated: usize,
    seed: u64,
    proxy: bool,
}

impl GlpiMockBuilder {
    /// Adds `count` users computed on demand from [`crate::data::SyntheticPeople`] (ids
    /// from 7, before any user created later), each with its address as default
    /// `UserEmail` and Self-Service on the Root entity. Nothing is stored until written.
    pub fn generated_users(mut self, count: usize) -> Self {
        self.generated = count;
        self
    }

    /// Seed of the generated names (default 0).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Put a [`FaultProxy`] in front of the server (default off); [`GlpiMock::base_url`]
    /// then points at the proxy, and links and error messages name it.
    pub fn with_proxy(mut self, proxy: bool) -> Self {
        self.proxy = proxy;
        self
    }

    /// Starts the server (and the proxy, if asked for).
    ///
    /// # Panics
    ///
    /// When no loopback port can be bound, like [`MockServer::start`].
    pub async fn start(self) -> GlpiMock {
        let state = Arc::new(Mutex::new(State::new(self.generated, self.seed)));
        let faults = FaultPlan::new();
        let counter = RouteCounter::new();
        let responder = Responder {
            state: Arc::clone(&state),
            faults: faults.clone(),
            counter: counter.clone(),
        };
        let started =
            start_mock(responder, "accesslink-testkit GLPI apirest.php", self.proxy).await;
        let mock = GlpiMock {
            server: started.server,
            proxy: started.proxy,
            log: started.log,
            state,
            faults,
            counter,
            generated: self.generated,
        };
        mock.lock().api_url = mock.base_url();
        mock
    }
}

/// A running GLPI mock; see the [module docs](self).
#[derive(Debug)]
pub struct GlpiMock {
    server: MockServer,
    proxy: Option<FaultProxy>,
    log: RequestLog,
    state: Arc<Mutex<State>>,
    faults: FaultPlan,
    counter: RouteCounter,
    generated: usize,
}

impl GlpiMock {
    /// A fresh install, without generated users or proxy.
    pub async fn start() -> GlpiMock {
        Self::builder().start().await
    }

    /// Options for a new mock.
    pub fn builder() -> GlpiMockBuilder {
        GlpiMockBuilder::default()
    }

    /// Root URL: the proxy's when started with one, the server's otherwise.
    pub fn url(&self) -> String {
        self.proxy
            .as_ref()
            .map_or_else(|| self.server.uri(), FaultProxy::url)
    }

    /// `GLPI_BASE_URL`: `<url>/apirest.php`.
    pub fn base_url(&self) -> String {
        format!("{}{API_PATH}", self.url())
    }

    /// The proxy in front of the server, when started with one.
    pub fn proxy(&self) -> Option<&FaultProxy> {
        self.proxy.as_ref()
    }

    /// `GLPI_APP_TOKEN`: the API client's token, required on every call.
    pub fn app_token(&self) -> String {
        self.lock().app_token.clone()
    }

    /// `GLPI_USER_TOKEN`: the API token of `glpi` (`Authorization: user_token …`).
    pub fn user_token(&self) -> String {
        let state = self.lock();
        let secret = state.secrets.get(&GLPI_USER);
        secret.and_then(|s| s.api_token.clone()).unwrap_or_default()
    }

    /// `GLPI_LOGIN`: `glpi`.
    pub fn login(&self) -> &'static str {
        LOGIN
    }

    /// `GLPI_PASSWORD`: `glpi`.
    pub fn password(&self) -> &'static str {
        PASSWORD
    }

    /// Sets a user's password (for logging in as a generated user, say); `false` when the
    /// user does not exist.
    pub fn set_password(&self, user_id: i64, password: &str) -> bool {
        let mut state = self.lock();
        if !state.table(Itemtype::User).contains(user_id) {
            return false;
        }
        state.secrets.entry(user_id).or_default().password = Some(password.to_owned());
        true
    }

    /// Ids of the generated users.
    pub fn generated_user_ids(&self) -> Range<i64> {
        FIRST_GENERATED..FIRST_GENERATED + self.generated as i64
    }

    /// Ends every session, as a server restart or session cleanup does: the next call with
    /// an old token gets `401 ERROR_SESSION_TOKEN_INVALID`.
    pub fn expire_sessions(&self) {
        self.lock().sessions.clear();
    }

    /// How many sessions `initSession` has opened.
    pub fn session_creates(&self) -> usize {
        self.lock().session_creates
    }

    /// How many sessions are open.
    pub fn active_sessions(&self) -> usize {
        self.lock().sessions.len()
    }

    /// Faults applied before the normal logic.
    pub fn faults(&self) -> &FaultPlan {
        &self.faults
    }

    /// Requests counted by method and `<endpoint>[:<itemtype>]` label, faulted ones
    /// included (see the [module docs](self)).
    pub fn counter(&self) -> &RouteCounter {
        &self.counter
    }

    /// How many requests had this label, whatever their method.
    pub fn count(&self, label: &str) -> usize {
        self.counter.count_path(label)
    }

    /// Every request the server received, in order.
    pub async fn received(&self) -> Vec<ReceivedRequest> {
        ReceivedRequest::all(&self.server).await
    }

    /// Adds a row as `glpi` would through the API (same checks and side effects); the
    /// new id, or GLPI's `ERROR_GLPI_ADD` message.
    pub fn create(&self, itemtype: Itemtype, input: &Value) -> Result<i64, String> {
        let Value::Object(map) = input else {
            return Err("input must be an object".into());
        };
        let mut state = self.lock();
        let who = admin(&state);
        state.add(itemtype, map, &who).map(|(id, _)| id)
    }

    /// Updates a row as `glpi` would; `false` when it does not exist or GLPI refuses.
    pub fn update(&self, itemtype: Itemtype, id: i64, input: &Value) -> bool {
        let Value::Object(map) = input else {
            return false;
        };
        let mut state = self.lock();
        let who = admin(&state);
        state.update(itemtype, id, map, &who) == write::Outcome::Done(true, String::new())
    }

    /// Purges a row with GLPI's cascades; `false` when there was none.
    pub fn purge(&self, itemtype: Itemtype, id: i64) -> bool {
        self.lock().purge_row(itemtype, id)
    }

    /// The row as `GET /:itemtype/:id` prints it (links included), trash included.
    pub fn item_json(&self, itemtype: Itemtype, id: i64) -> Option<Value> {
        let state = self.lock();
        let row = state.table(itemtype).get(id)?;
        let mut full = State::full(itemtype, id, &row);
        let links = items::links(itemtype, id, &full, &state.api_url);
        if !links.is_empty() {
            full.insert("links".into(), Value::Array(links));
        }
        Some(Value::Object(full))
    }

    /// `GET /Ticket/:id` as the server would print it.
    pub fn ticket_json(&self, id: i64) -> Option<Value> {
        self.item_json(Itemtype::Ticket, id)
    }

    /// How many rows of `itemtype` exist, trashed ones included.
    pub fn count_items(&self, itemtype: Itemtype) -> usize {
        self.lock().table(itemtype).iter().count()
    }

    /// Moves a ticket to a status (1 new … 6 closed) as an agent would, with the dates
    /// GLPI sets; `false` when there is no such ticket.
    pub fn set_ticket_status(&self, id: i64, status: i64) -> bool {
        self.update(
            Itemtype::Ticket,
            id,
            &serde_json::json!({ "status": status }),
        )
    }

    /// Same for a change.
    pub fn set_change_status(&self, id: i64, status: i64) -> bool {
        self.update(
            Itemtype::Change,
            id,
            &serde_json::json!({ "status": status }),
        )
    }

    /// Answers a `TicketValidation` (2 waiting, 3 accepted, 4 refused) as its approver
    /// would (`validation_date` set) and recomputes the ticket's `global_validation`.
    pub fn set_validation(&self, validation_id: i64, status: i64) -> bool {
        self.answer_validation(Itemtype::TicketValidation, validation_id, status)
    }

    /// Same for a `ChangeValidation`.
    pub fn set_change_validation(&self, validation_id: i64, status: i64) -> bool {
        self.answer_validation(Itemtype::ChangeValidation, validation_id, status)
    }

    fn answer_validation(&self, it: Itemtype, id: i64, status: i64) -> bool {
        let mut state = self.lock();
        let Some(row) = state.table(it).get(id) else {
            return false;
        };
        let mut who = admin(&state);
        who.user_id = as_id(row.get("users_id_validate"));
        let input = Map::from_iter([("status".to_owned(), Value::from(status))]);
        state.update(it, id, &input, &who) == write::Outcome::Done(true, String::new())
    }

    /// The follow-ups of a ticket, as `GET /Ticket/:id/ITILFollowup` prints them.
    pub fn followups(&self, ticket_id: i64) -> Vec<Value> {
        let ids: Vec<i64> = {
            let state = self.lock();
            let rows = state.rows_with(Itemtype::ITILFollowup, "items_id", ticket_id);
            rows.into_iter()
                .filter(|(_, r)| r.get("itemtype").and_then(Value::as_str) == Some("Ticket"))
                .map(|(id, _)| id)
                .collect()
        };
        ids.into_iter()
            .filter_map(|id| self.item_json(Itemtype::ITILFollowup, id))
            .collect()
    }

    /// The validations of a ticket.
    pub fn validations(&self, ticket_id: i64) -> Vec<Value> {
        self.children(Itemtype::TicketValidation, "tickets_id", ticket_id)
    }

    fn children(&self, it: Itemtype, key: &str, id: i64) -> Vec<Value> {
        let ids: Vec<i64> = self
            .lock()
            .rows_with(it, key, id)
            .into_iter()
            .map(|(i, _)| i)
            .collect();
        ids.into_iter()
            .filter_map(|i| self.item_json(it, i))
            .collect()
    }

    /// The user with this login (any case, trash included), as `GET /User/:id` prints it.
    pub fn user_by_login(&self, login: &str) -> Option<Value> {
        let id = self.lock().user_id_by_login(login)?;
        self.item_json(Itemtype::User, id)
    }

    /// The addresses of a user, default first.
    pub fn user_emails(&self, user_id: i64) -> Vec<String> {
        let mut emails = self.children(Itemtype::UserEmail, "users_id", user_id);
        emails.sort_by_key(|e| -as_id(e.get("is_default")));
        emails
            .iter()
            .filter_map(|e| e["email"].as_str().map(str::to_owned))
            .collect()
    }

    /// Ids of the users in a group.
    pub fn group_members(&self, group_id: i64) -> Vec<i64> {
        let rows = self
            .lock()
            .rows_with(Itemtype::GroupUser, "groups_id", group_id);
        rows.iter().map(|(_, r)| as_id(r.get("users_id"))).collect()
    }

    /// Ids of the groups a user is in.
    pub fn user_groups(&self, user_id: i64) -> Vec<i64> {
        let rows = self
            .lock()
            .rows_with(Itemtype::GroupUser, "users_id", user_id);
        rows.iter()
            .map(|(_, r)| as_id(r.get("groups_id")))
            .collect()
    }

    /// A user's `(profiles_id, entities_id)` pairs.
    pub fn user_profiles(&self, user_id: i64) -> Vec<(i64, i64)> {
        let rows = self
            .lock()
            .rows_with(Itemtype::ProfileUser, "users_id", user_id);
        let pair = |r: &items::Record| (as_id(r.get("profiles_id")), as_id(r.get("entities_id")));
        rows.iter().map(|(_, r)| pair(r)).collect()
    }

    fn lock(&self) -> Locked<'_> {
        lock(&self.state)
    }
}

/// The state, locked, with the thread's clock set to the mock's (stopped or running)
/// until the guard drops.
struct Locked<'a> {
    guard: MutexGuard<'a, State>,
    previous: Option<u64>,
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
        php::set_frozen(self.previous);
    }
}

fn lock(state: &Mutex<State>) -> Locked<'_> {
    let guard = lock_raw(state);
    let previous = php::set_frozen(guard.frozen);
    Locked { guard, previous }
}

fn lock_raw(state: &Mutex<State>) -> MutexGuard<'_, State> {
    // A test that panicked while holding the lock must not hide the state from the next one.
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A session of `glpi` seeing every entity, for the driving helpers.
fn admin(state: &State) -> Session {
    Session {
        user_id: GLPI_USER,
        entities: state.entity_and_descendants(0),
        list_limit: 20,
        profile_id: 4,
    }
}

struct Responder {
    state: Arc<Mutex<State>>,
    faults: FaultPlan,
    counter: RouteCounter,
}

impl Respond for Responder {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let parsed = Call::parse(request);
        let label = match &parsed {
            Ok(Some(call)) => call.label(),
            Ok(None) => "NotFound".to_owned(),
            Err(_) => "invalidRequest".to_owned(),
        };
        self.counter.record(request.method.as_str(), &label);
        let normal = || {
            let mut state = lock(&self.state);
            match parsed {
                Ok(Some(call)) => routes::answer(&mut state, &call),
                Ok(None) => ResponseTemplate::new(404).set_body_raw("Not Found", "text/html"),
                // Raised while parsing, before GLPI knows its URL: the documentation link
                // reads `at /#ERROR_…` on the real server.
                Err(failure) => failure.respond(""),
            }
        };
        match self.faults.take(request) {
            Some(action) => action.apply(normal),
            None => normal(),
        }
    }
}
