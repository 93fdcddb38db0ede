//! A stateful mock of BMC Helix ITSM over the AR System REST API, as
//! `shared/api/servicenow-jira-salesforce-helix.md` §4 describes it.
//!
//! | route | answer |
//! |---|---|
//! | `POST /api/jwt/login` (form `username`, `password`) | **200 `text/plain` raw token** (a JWT with `exp`); a wrong password is `401` with AR error 623; a body that is not a form is `415` |
//! | `POST /api/jwt/logout` (`Authorization: AR-JWT …`) | `204`, the token forgotten |
//! | `GET /api/arsys/v1/entry/{form}?q=&fields=values(…)&sort=F.asc&offset=&limit=` | `{"entries":[{"values","_links":{"self"}}],"_links":{"self","next"?}}`; `next` only while more follow; `sort` honoured (dates in order, ties by entry id); `=`, `!=`, `<`, `<=`, `>`, `>=` (dates against epoch seconds or dates), `LIKE`; a malformed qualification is `400` (1587) |
//! | `GET /api/arsys/v1/entry/{form}/{id}` | the entry, or `404` with AR error 302 |
//! | `POST /api/arsys/v1/entry/HPD:IncidentInterface_Create?fields=values(Incident Number)` | creates an `HPD:Help Desk` incident (`INC` + 12 digits), `201` + `Location` + the values asked for; needs `z1D_Action = CREATE`, the required fields (500/326) and a customer `Login_ID` known in `CTM:People` (500/1291053) |
//! | `POST /api/arsys/v1/entry/CHG:ChangeInterface_Create`, `WOI:WorkOrderInterface_Create` | a change (`CRQ` + 12 digits, `Draft`) or work order (`WO` + 13 digits, `Assigned` unless given) on the base form; `z1D_Action = CREATE` and the summary (`Description`, `Summary`) required (500/326) |
//! | `POST /api/arsys/v1/entry/HPD:WorkLog`, `CHG:WorkLog`, `WOI:WorkInfo` | a work log of an existing incident, change or work order (else 500/1291035); incident work logs get a `Work Log ID` (`WLG…`) and the caller as `Submitter` |
//! | `PUT /api/arsys/v1/entry/{form}/{id}` | `204`; on `HPD:Help Desk`, `Pending`/`Resolved` need `Status_Reason` and `Resolved` a `Resolution` (500 business errors) |
//! | `User` (`Login Name`, `Group List` as `"1;2;"`), `Group` (`Group ID`, `Group Name`) | plain forms; concurrent `Group List` writers on demand ([`HelixMock::concurrent_group_list_after_read`], [`HelixMock::concurrent_group_list_after_write`]) |
//!
//! Every entry gets `Submit Date` and `Last Modified Date` (`2024-05-02T09:14:11.000+0000`,
//! whole seconds) from the mock's clock, which tests can stop ([`HelixMock::freeze_clock`]);
//! every write stamps `Last Modified Date`.
//!
//! Every `/api/arsys` call needs a live `Authorization: AR-JWT <token>` (else `401`, AR
//! error 623). Errors are AR message arrays. Quirks on demand: AR error 9093 (session
//! elsewhere) on the next calls ([`HelixMock::session_elsewhere_next`]), the server's
//! silent "Max Entries Returned" cap ([`HelixMock::set_max_entries`]), pages that
//! repeat ([`HelixMock::set_repeat_pages`]), range bounds ignored
//! ([`HelixMock::set_ignore_ranges`]). Requests pass the [`FaultPlan`] first.

mod backend;
mod mock;
mod qual;
mod state;

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use serde_json::{Map, Value, json};
use wiremock::{MockServer, Request, Respond, ResponseTemplate};

pub use self::state::Record;
use self::state::State;
use crate::data::SyntheticPeople;
use crate::fault::FaultPlan;
use crate::mock::{ReceivedRequest, RequestLog};
use crate::proxy::FaultProxy;
use crate::server::start_mock;

/// The incident base form.
pub const HELP_DESK: &str = state::HELP_DESK;
/// The change form.
pub const CHANGE: &str = state::CHANGE;
/// The work order form.
pub const WORK_ORDER: &str = state::WORK_ORDER;
/// The service request form.
pub const REQUEST: &str = state::REQUEST;
/// The incident work log form.
pub const WORK_LOG: &str = state::WORK_LOG;
/// The people form.
pub const PEOPLE: &str = state::PEOPLE;
/// The change work log form.
pub const CHANGE_WORK_LOG: &str = state::CHANGE_WORK_LOG;
/// The work order work info form.
pub const WORK_ORDER_WORK_INFO: &str = state::WORK_ORDER_WORK_INFO;
/// The support group form.
pub const SUPPORT_GROUP: &str = state::SUPPORT_GROUP;
/// The support group membership form.
pub const ASSOCIATION: &str = state::ASSOCIATION;
/// The AR login form (`Login Name`, `Group List`).
pub const USER: &str = state::USER;
/// The AR group form (`Group ID`, `Group Name`).
pub const GROUP: &str = state::GROUP;

/// Options for a [`HelixMock`]; see [`HelixMock::builder`].
#[derive(Debug, Clone)]
pub struct HelixMockBuilder {
    username: String,
    password: String,
    lifetime: Duration,
    proxy: bool,
    people: usize,
    seed: u64,
}

impl HelixMockBuilder {
    /// Adds `count` generated people to `CTM:People` (from [`SyntheticPeople`]; inactive
    /// ones `Offline`).
    pub fn generated_people(mut self, count: usize) -> Self {
        self.people = count;
        self
    }

    /// Seed of the generated names (default 0).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// The login and password the mock accepts (default `svc-iam` and a random one).
    pub fn credentials(mut self, username: impl Into<String>, password: impl Into<String>) -> Self {
        self.username = username.into();
        self.password = password.into();
        self
    }

    /// How long tokens live (default one hour, the server default).
    pub fn token_lifetime(mut self, lifetime: Duration) -> Self {
        self.lifetime = lifetime;
        self
    }

    /// Puts a [`FaultProxy`] in front of the server (default off).
    pub fn with_proxy(mut self, proxy: bool) -> Self {
        self.proxy = proxy;
        self
    }

    /// Starts the server with one customer, `jdoe` (Jane Doe) in `CTM:People`.
    ///
    /// # Panics
    ///
    /// When no loopback port can be bound, like [`MockServer::start`].
    pub async fn start(self) -> HelixMock {
        let mut state = State::new(self.username.clone(), self.password.clone(), self.lifetime);
        for form in [
            state::HELP_DESK,
            state::WORK_LOG,
            state::CHANGE,
            state::WORK_ORDER,
            state::REQUEST,
            state::PEOPLE,
            state::USER,
            state::GROUP,
        ] {
            state.forms.entry(form.to_owned()).or_default();
        }
        let state = Arc::new(Mutex::new(state));
        let faults = FaultPlan::new();
        let responder = Responder {
            state: state.clone(),
            faults: faults.clone(),
        };
        let started = start_mock(responder, "accesslink-testkit Helix", self.proxy).await;
        let mock = HelixMock {
            server: started.server,
            proxy: started.proxy,
            log: started.log,
            state,
            faults,
            username: self.username,
            password: self.password,
        };
        mock.add_person("jdoe", "Jane", "Doe", "jane.doe@example.test");
        for p in SyntheticPeople::new(self.people, self.seed).iter() {
            let id = mock.add_person(&p.login, &p.first_name, &p.last_name, &p.email);
            if !p.active {
                mock.set_field(
                    PEOPLE,
                    "Request ID",
                    &id,
                    "Profile Status",
                    json!("Offline"),
                );
            }
        }
        mock
    }
}

/// A running Helix mock; see the [module docs](self).
#[derive(Debug)]
pub struct HelixMock {
    server: MockServer,
    proxy: Option<FaultProxy>,
    log: RequestLog,
    state: Arc<Mutex<State>>,
    faults: FaultPlan,
    username: String,
    password: String,
}

impl HelixMock {
    /// A mock with the defaults.
    pub async fn start() -> HelixMock {
        Self::builder().start().await
    }

    /// Options for a new mock.
    pub fn builder() -> HelixMockBuilder {
        HelixMockBuilder {
            username: "svc-iam".into(),
            password: format!("helix-pw-{:016x}", fastrand::u64(..)),
            lifetime: Duration::from_secs(3600),
            proxy: false,
            people: 0,
            seed: 0,
        }
    }

    /// The server root (the API is under `/api`): the proxy's when started with one.
    pub fn url(&self) -> String {
        self.proxy
            .as_ref()
            .map_or_else(|| self.server.uri(), FaultProxy::url)
    }

    /// The login the mock accepts.
    pub fn username(&self) -> &str {
        &self.username
    }

    /// The password the mock accepts.
    pub fn password(&self) -> &str {
        &self.password
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

    /// Logins and logouts so far.
    pub fn logins(&self) -> (usize, usize) {
        let s = self.lock();
        (s.logins, s.logouts)
    }

    /// How many tokens are live.
    pub fn live_tokens(&self) -> usize {
        self.lock().tokens.len()
    }

    /// Answers the next `n` authenticated API calls with AR error 9093 (500).
    pub fn session_elsewhere_next(&self, n: usize) {
        self.lock().session_elsewhere = n;
    }

    /// Caps every search at `cap` entries, silently (no next link), as the server's
    /// "Max Entries Returned by GetList" does; `None` removes the cap.
    pub fn set_max_entries(&self, cap: Option<usize>) {
        self.lock().max_entries = cap;
    }

    /// Makes every list answer the first page whatever the offset (a server that ignores
    /// `offset`).
    pub fn set_repeat_pages(&self, on: bool) {
        self.lock().repeat_pages = on;
    }

    /// Makes searches ignore every `>=` and `<` comparison (the bounds of a partition's
    /// range) while honouring the rest, `>` included: a server that ignores the range,
    /// so each partition would receive rows of the others.
    pub fn set_ignore_ranges(&self, on: bool) {
        self.lock().ignore_ranges = on;
    }

    /// Removes the person with this login from `CTM:People`; whether there was one.
    pub fn remove_person(&self, login: &str) -> bool {
        let mut s = self.lock();
        let Some(people) = s.forms.get_mut(state::PEOPLE) else {
            return false;
        };
        let before = people.len();
        people.retain(|r| r.values.get("Remedy Login ID").and_then(Value::as_str) != Some(login));
        people.len() != before
    }

    /// Adds a person to `CTM:People`; its entry id.
    pub fn add_person(&self, login: &str, first: &str, last: &str, email: &str) -> String {
        let mut s = self.lock();
        let n = s.next_id;
        s.insert(
            state::PEOPLE,
            obj(json!({
                "Person ID": format!("PPL{n:012}"),
                "Remedy Login ID": login,
                "First Name": first,
                "Last Name": last,
                "Full Name": format!("{first} {last}"),
                "Internet E-mail": email,
                "Profile Status": "Enabled",
            })),
        )
    }

    /// Adds a support group (`SGP` + 12 digits); its id.
    pub fn add_support_group(&self, name: &str) -> String {
        let mut s = self.lock();
        let id = format!("SGP{:012}", s.next_id);
        s.insert(
            state::SUPPORT_GROUP,
            obj(json!({ "Support Group ID": id, "Support Group Name": name, "Status": "Enabled" })),
        );
        id
    }

    /// Adds an AR group (`Group` form) with a numeric id.
    pub fn add_group(&self, id: u64, name: &str) {
        self.lock().insert(
            state::GROUP,
            obj(json!({ "Group ID": id.to_string(), "Group Name": name, "Group Type": "View" })),
        );
    }

    /// Adds an AR login (`User` form) with a `Group List` value as AR stores it
    /// (`"1000000001;1000000014;"`); its entry id.
    pub fn add_user(&self, login: &str, group_list: &str) -> String {
        self.lock().insert(
            state::USER,
            obj(json!({
                "Login Name": login,
                "Full Name": login,
                "Group List": group_list,
                "License Type": "Read",
            })),
        )
    }

    /// A login's raw `Group List`.
    pub fn group_list(&self, login: &str) -> Option<String> {
        self.lock()
            .records(state::USER)
            .iter()
            .find(|r| r.values.get("Login Name").and_then(Value::as_str) == Some(login))
            .and_then(|r| r.values.get("Group List").and_then(Value::as_str))
            .map(str::to_owned)
    }

    /// A concurrent writer: right after the next read of `login`'s `User` entry (between
    /// a client's read and its write), another client sets its `Group List` to `list`.
    pub fn concurrent_group_list_after_read(&self, login: &str, list: &str) {
        self.lock().group_list_writes.push((
            state::Interleave::AfterRead,
            login.into(),
            list.into(),
        ));
    }

    /// A concurrent writer: right after the next write to `login`'s `User` entry, another
    /// client's list, built on a read made before that write, lands (`list`), losing the
    /// write.
    pub fn concurrent_group_list_after_write(&self, login: &str, list: &str) {
        self.lock().group_list_writes.push((
            state::Interleave::AfterWrite,
            login.into(),
            list.into(),
        ));
    }

    /// The support group ids a login holds.
    pub fn groups_of(&self, login: &str) -> Vec<String> {
        self.lock()
            .records(state::ASSOCIATION)
            .iter()
            .filter(|r| r.values.get("Login ID").and_then(Value::as_str) == Some(login))
            .filter_map(|r| {
                r.values
                    .get("Support Group ID")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            })
            .collect()
    }

    /// A person's values by login.
    pub fn person(&self, login: &str) -> Option<Map<String, Value>> {
        self.lock()
            .records(state::PEOPLE)
            .iter()
            .find(|r| r.values.get("Remedy Login ID").and_then(Value::as_str) == Some(login))
            .map(|r| r.values.clone())
    }

    /// How many people `CTM:People` holds.
    pub fn people_count(&self) -> usize {
        self.lock().records(state::PEOPLE).len()
    }

    /// Adds an incident with a status, as an agent would; its number.
    pub fn add_incident(&self, summary: &str, status: &str) -> String {
        let mut s = self.lock();
        s.created_incidents += 1;
        let number = format!("INC{:012}", s.created_incidents);
        s.insert(
            state::HELP_DESK,
            obj(json!({
                "Incident Number": number,
                "Description": summary,
                "Status": status,
                "Customer Login ID": "jdoe",
                "First Name": "Jane",
                "Last Name": "Doe",
                "Internet E-mail": "jane.doe@example.test",
            })),
        );
        number
    }

    /// Adds a change (`CRQ` + 12 digits) with a `Change Request Status`; its number.
    pub fn add_change(&self, summary: &str, status: &str) -> String {
        let mut s = self.lock();
        let number = format!("CRQ{:012}", s.next_id);
        s.insert(
            state::CHANGE,
            obj(json!({
                "Infrastructure Change ID": number,
                "Description": summary,
                "Change Request Status": status,
                "Customer Login ID": "jdoe",
                "First Name": "Jane",
                "Last Name": "Doe",
            })),
        );
        number
    }

    /// Adds a work order (`WO` + 13 digits); its number.
    pub fn add_work_order(&self, summary: &str, status: &str) -> String {
        let mut s = self.lock();
        let number = format!("WO{:013}", s.next_id);
        s.insert(
            state::WORK_ORDER,
            obj(json!({ "Work Order ID": number, "Summary": summary, "Status": status })),
        );
        number
    }

    /// Sets a field of an entry found by `field = value` on `form`, stamping its
    /// `Last Modified Date` (unless that is the field set); `false` when none.
    pub fn set_field(&self, form: &str, field: &str, value: &str, set: &str, to: Value) -> bool {
        let mut s = self.lock();
        let at = json!(state::ar_time(s.clock()));
        match s.find_mut(form, field, value) {
            Some(r) => {
                r.values.insert("Last Modified Date".into(), at);
                r.values.insert(set.to_owned(), to);
                true
            }
            None => false,
        }
    }

    /// Stops the server clock at `at` (every write stamps that time), or lets it run
    /// again (`None`). AR keeps whole seconds.
    pub fn freeze_clock(&self, at: Option<std::time::SystemTime>) {
        self.lock().frozen = at.map(|t| {
            t.duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs())
        });
    }

    /// Adds an `HPD:WorkLog` entry to an incident as `submitter` would in the AR client
    /// (`View Access` `Public` or `Internal`); its `Work Log ID`.
    pub fn add_work_log(
        &self,
        number: &str,
        body: &str,
        submitter: &str,
        view_access: &str,
    ) -> String {
        let mut s = self.lock();
        let id = format!("WLG{:012}", s.next_id);
        let summary: String = body.chars().take(100).collect();
        s.insert(
            state::WORK_LOG,
            obj(json!({
                "Incident Number": number,
                "Work Log ID": id,
                "Work Log Type": "General Information",
                "Description": summary,
                "Detailed Description": body,
                "View Access": view_access,
                "Secure Work Log": "No",
                "Submitter": submitter,
            })),
        );
        id
    }

    /// The entries of a form.
    pub fn entries(&self, form: &str) -> Vec<Record> {
        self.lock().records(form).to_vec()
    }

    /// An incident's values by number.
    pub fn incident(&self, number: &str) -> Option<Map<String, Value>> {
        self.lock()
            .records(state::HELP_DESK)
            .iter()
            .find(|r| r.values.get("Incident Number").and_then(Value::as_str) == Some(number))
            .map(|r| r.values.clone())
    }

    /// How many incidents were created through the interface form or added.
    pub fn incidents_created(&self) -> usize {
        self.lock().created_incidents
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }
}

fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

fn lock<T>(state: &Mutex<T>) -> MutexGuard<'_, T> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

struct Responder {
    state: Arc<Mutex<State>>,
    faults: FaultPlan,
}

impl Respond for Responder {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let url = &request.url;
        let base = format!(
            "{}://{}{}",
            url.scheme(),
            url.host_str().unwrap_or("localhost"),
            url.port().map(|p| format!(":{p}")).unwrap_or_default()
        );
        let normal = || lock(&self.state).answer(&base, request);
        match self.faults.take(request) {
            Some(action) => action.apply(normal),
            None => normal(),
        }
    }
}
