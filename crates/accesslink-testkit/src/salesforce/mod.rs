//! A stateful mock of a Salesforce org (Service Cloud, with the BMC Remedyforce package
//! installed), as `shared/api/servicenow-jira-salesforce-helix.md` §3 describes it.
//!
//! | route | answer |
//! |---|---|
//! | `POST /services/oauth2/token` | form body; `client_credentials`, `password` (password + security token appended) or `refresh_token`; `{access_token, instance_url, id, token_type, issued_at, signature, scope}` with **no `expires_in`** and an `instance_url` on a **different host** (`localhost` instead of `127.0.0.1`); refusals 400 `invalid_client_id` / `invalid_client` / `invalid_grant` / `unsupported_grant_type` |
//! | `GET /services/data/vNN.N/query?q=` | the SOQL subset of the `soql` module: `{totalSize, done, nextRecordsUrl?, records}`, pages of [`SalesforceMock::set_page_size`] rows (default 2000); `Id`s compare and sort in byte order (case-sensitive base-62); `OFFSET` above 2,000 is 400 `NUMBER_OUTSIDE_VALID_RANGE` |
//! | `GET /services/data/vNN.N/query/{cursor}` | the next page |
//! | `POST …/sobjects/{Object}` | 201 `{id, success, errors}`; `CaseNumber`/`Name` auto-numbered, `IsClosed` and the Remedyforce status fields derived |
//! | `PATCH …/sobjects/{Object}/{Id}` | 204 |
//! | `PATCH …/sobjects/{Object}/{ExtIdField}/{value}` | upsert: 201 created, 204 updated, 300 when several match |
//! | `GET …/sobjects/{Object}/{Id}` | the record with `attributes` |
//! | `GET …/limits` | `DailyApiRequests` |
//!
//! API calls must come to the instance host with a live bearer token: otherwise 401
//! `[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]`. Errors
//! are arrays `[{message, errorCode, fields}]`; every answer carries
//! `Sforce-Limit-Info: api-usage=n/limit`, and past [`SalesforceMock::set_daily_limit`]
//! calls every API call is 403 `REQUEST_LIMIT_EXCEEDED` (no `Retry-After`). Requests pass
//! the [`FaultPlan`] first.

mod backend;
mod describe;
pub(crate) mod soql;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, UNIX_EPOCH};

use serde_json::{Map, Value, json};
use wiremock::{MockServer, Request, Respond, ResponseTemplate};

use crate::fault::FaultPlan;
use crate::mock::{ReceivedRequest, RequestLog};
use crate::proxy::FaultProxy;
use crate::server::start_mock;

/// The OAuth grant the mock's settings use (the token endpoint takes all three).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthMode {
    /// Client credentials (the default).
    ClientCredentials,
    /// User name, password and security token.
    Password,
    /// A refresh token.
    RefreshToken,
}

/// The ticket objects the mock's settings point the connector at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Profile {
    /// `Case`.
    ServiceCloud,
    /// Remedyforce incidents and change requests.
    Remedyforce,
}

/// The Remedyforce incident object.
pub const INCIDENT: &str = "BMCServiceDesk__Incident__c";
/// The Remedyforce change request object.
pub const CHANGE: &str = "BMCServiceDesk__Change_Request__c";
/// The Remedyforce task object.
pub const TASK: &str = "BMCServiceDesk__Task__c";
/// The Remedyforce status lookup table.
pub const STATUS: &str = "BMCServiceDesk__Status__c";
/// The correlation field on cases, incidents and changes.
pub const CORRELATION_FIELD: &str = "External_Ref__c";

/// Case statuses whose "Is Closed" flag is set in the mock's org.
pub const CLOSED_CASE_STATUSES: &[&str] = &["Closed", "Cancelled"];

/// Options for a [`SalesforceMock`]; see [`SalesforceMock::builder`].
#[derive(Debug, Clone)]
pub struct SalesforceMockBuilder {
    auth: AuthMode,
    profile: Profile,
    proxy: bool,
    users: usize,
}

impl SalesforceMockBuilder {
    /// Adds `n` generated internal users (`user.N@acme.example`).
    pub fn users(mut self, n: usize) -> Self {
        self.users = n;
        self
    }

    /// The grant in the mock's settings (default client credentials).
    pub fn auth(mut self, auth: AuthMode) -> Self {
        self.auth = auth;
        self
    }

    /// Service Cloud (default) or Remedyforce settings.
    pub fn profile(mut self, profile: Profile) -> Self {
        self.profile = profile;
        self
    }

    /// Puts a [`FaultProxy`] in front (default off), so dropped connections reach the client.
    pub fn with_proxy(mut self, proxy: bool) -> Self {
        self.proxy = proxy;
        self
    }

    /// Starts the server.
    ///
    /// # Panics
    ///
    /// When no loopback port can be bound.
    pub async fn start(self) -> SalesforceMock {
        let mut s = State::new(self.auth);
        let profile = s.profile_id.clone();
        for n in 0..self.users {
            let u = json!({"Username": format!("user.{n}@acme.example"), "Email": format!("user.{n}@acme.example"),
                "FirstName": "User", "LastName": format!("{n}"), "Alias": format!("u{n}").chars().take(8).collect::<String>(),
                "ProfileId": profile, "IsActive": true, "UserType": "Standard"});
            s.insert("User", u.as_object().cloned().unwrap_or_default());
        }
        let state = Arc::new(Mutex::new(s));
        let faults = FaultPlan::new();
        let responder = Responder {
            state: state.clone(),
            faults: faults.clone(),
        };
        let started = start_mock(responder, "accesslink-testkit Salesforce", self.proxy).await;
        let mock = SalesforceMock {
            server: started.server,
            proxy: started.proxy,
            log: started.log,
            state,
            faults,
            profile: self.profile,
        };
        let instance = mock.url().replace("127.0.0.1", "localhost");
        mock.lock().instance_url = instance;
        mock
    }
}

/// A running Salesforce mock; see the [module docs](self).
#[derive(Debug)]
pub struct SalesforceMock {
    server: MockServer,
    proxy: Option<FaultProxy>,
    log: RequestLog,
    state: Arc<Mutex<State>>,
    faults: FaultPlan,
    profile: Profile,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl SalesforceMock {
    /// A builder with the defaults: client credentials, Service Cloud, no proxy.
    pub fn builder() -> SalesforceMockBuilder {
        SalesforceMockBuilder {
            auth: AuthMode::ClientCredentials,
            profile: Profile::ServiceCloud,
            proxy: false,
            users: 0,
        }
    }

    /// Starts a mock with the defaults.
    pub async fn start() -> SalesforceMock {
        Self::builder().start().await
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    /// The login URL (`http://127.0.0.1:port`, or the proxy's).
    pub fn url(&self) -> String {
        self.proxy
            .as_ref()
            .map_or_else(|| self.server.uri(), FaultProxy::url)
    }

    /// The instance URL the token answers name (`http://localhost:port`).
    pub fn instance_url(&self) -> String {
        self.lock().instance_url.clone()
    }

    /// The profile the settings point at.
    pub fn profile(&self) -> Profile {
        self.profile
    }

    /// The consumer secret (a canary for secrets tests).
    pub fn client_secret(&self) -> String {
        self.lock().client_secret.clone()
    }

    /// The user's password (a canary).
    pub fn password(&self) -> String {
        self.lock().password.clone()
    }

    /// The user's security token (a canary).
    pub fn security_token(&self) -> String {
        self.lock().security_token.clone()
    }

    /// The refresh token (a canary).
    pub fn refresh_token(&self) -> String {
        self.lock().refresh_token.clone()
    }

    /// Access tokens issued so far.
    pub fn tokens_issued(&self) -> usize {
        self.lock().token_count
    }

    /// The fault plan.
    pub fn faults(&self) -> &FaultPlan {
        &self.faults
    }

    /// Rows per query page (default 2000).
    pub fn set_page_size(&self, n: usize) {
        self.lock().page_size = n.max(1);
    }

    /// After `n` more API calls, every call is 403 `REQUEST_LIMIT_EXCEEDED` (`None`: no
    /// limit).
    pub fn set_daily_limit(&self, n: Option<usize>) {
        let mut s = self.lock();
        let used = s.api_calls;
        s.daily_limit = n.map(|n| used + n);
    }

    /// Tells the conformance backend that the connector creates tickets by upsert on
    /// the External ID field, so fault checks aim at that `PATCH`.
    pub fn expect_upserts(&self, on: bool) {
        self.lock().upserts = on;
    }

    /// Sets the calls counted so far and the daily quota that `Sforce-Limit-Info`
    /// reports (`api-usage=used/quota`; default 0/15000).
    pub fn set_api_usage(&self, used: usize, quota: usize) {
        let mut s = self.lock();
        s.api_calls = used;
        s.api_quota = quota.max(1);
    }

    /// Makes queries ignore `Id >=` and `Id <` conditions (the bounds of a partitioned
    /// listing) while honouring every other condition: a server that ignores the range,
    /// so each partition would receive rows of the others.
    pub fn ignore_id_ranges(&self, on: bool) {
        self.lock().ignore_id_ranges = on;
    }

    /// Drops every access token (sessions expire).
    pub fn expire_tokens(&self) {
        self.lock().tokens.clear();
    }

    /// Every request the server received, with bodies.
    pub async fn received(&self) -> Vec<ReceivedRequest> {
        ReceivedRequest::all(&self.server).await
    }

    /// Inserts a record as an agent would (derived fields filled in); returns its id.
    pub fn insert(&self, object: &str, fields: Value) -> String {
        let mut s = self.lock();
        let Value::Object(map) = fields else {
            panic!("a record is an object");
        };
        s.insert(object, map)
    }

    /// Changes a record's fields as an agent would; `false` when there is no such record.
    pub fn patch(&self, object: &str, id: &str, fields: Value) -> bool {
        let mut s = self.lock();
        let Value::Object(map) = fields else {
            return false;
        };
        s.patch(object, id, map)
    }

    /// A record by id (with derived fields).
    pub fn record(&self, object: &str, id: &str) -> Option<Value> {
        let s = self.lock();
        s.find(object, id).map(|r| Value::Object(r.clone()))
    }

    /// Every record of an object.
    pub fn records(&self, object: &str) -> Vec<Value> {
        self.lock()
            .objects
            .get(object)
            .map(|v| v.iter().cloned().map(Value::Object).collect())
            .unwrap_or_default()
    }

    /// Starts an approval process on a record with this status (`Pending`, `Approved`,
    /// …); the latest one started is the newest by `CreatedDate`.
    pub fn add_approval(&self, target: &str, status: &str) -> String {
        self.insert(
            "ProcessInstance",
            json!({"TargetObjectId": target, "Status": status}),
        )
    }

    /// The Remedyforce status record id of a status name.
    pub fn status_id(&self, name: &str) -> Option<String> {
        let s = self.lock();
        s.status_by_name(name).map(|r| text(r, "Id"))
    }

    /// The id of the seeded contact (`Jane Doe`, `jane.doe@acme.example`).
    pub fn contact_id(&self) -> String {
        self.lock().contact_id.clone()
    }

    /// The seeded profile (`Standard User`), for `user_defaults.profile_id`.
    pub fn profile_id(&self) -> String {
        self.lock().profile_id.clone()
    }

    /// Adds an internal user; returns its id.
    pub fn add_user(&self, username: &str) -> String {
        let profile = self.profile_id();
        self.insert(
            "User",
            json!({"Username": username, "Email": username, "LastName": username, "Alias": "u",
                   "ProfileId": profile, "IsActive": true, "UserType": "Standard"}),
        )
    }

    /// The id of a seeded permission set or group by `Name`.
    pub fn id_by_name(&self, object: &str, name: &str) -> Option<String> {
        let s = self.lock();
        s.objects
            .get(object)?
            .iter()
            .find(|r| text(r, "Name") == name || text(r, "DeveloperName") == name)
            .map(|r| text(r, "Id"))
    }

    /// The id of the run-as integration user (the creator of every record).
    pub fn run_as_user_id(&self) -> String {
        self.lock().user_id.clone()
    }
}

fn text(r: &Map<String, Value>, k: &str) -> String {
    r.get(k).and_then(Value::as_str).unwrap_or("").to_owned()
}

const ID_ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";
const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// The 18-character form of a 15-character id.
pub fn id18(id15: &str) -> String {
    let mut out = id15.to_owned();
    for chunk in id15.as_bytes().chunks(5) {
        let bits = chunk
            .iter()
            .enumerate()
            .filter(|(_, c)| c.is_ascii_uppercase())
            .fold(0usize, |a, (i, _)| a | (1 << i));
        out.push(ID_ALPHABET[bits] as char);
    }
    out
}

fn prefix_of(object: &str) -> &'static str {
    match object {
        "Case" => "500",
        "CaseComment" => "00a",
        "User" => "005",
        "Contact" => "003",
        "ProcessInstance" => "04g",
        "FeedItem" => "0D5",
        "Profile" => "00e",
        "PermissionSet" => "0PS",
        "PermissionSetAssignment" => "0Pa",
        "Group" => "00G",
        "GroupMember" => "011",
        "PermissionSetGroup" => "0PG",
        "UserLogin" => "060",
        INCIDENT => "a2K",
        CHANGE => "a2L",
        TASK => "a2N",
        STATUS => "a2M",
        _ => "a0Z",
    }
}

/// Fields a `Case` has besides custom (`__c`) ones.
const CASE_FIELDS: &[&str] = &[
    "Id",
    "CaseNumber",
    "Subject",
    "Description",
    "Status",
    "IsClosed",
    "Priority",
    "Type",
    "Origin",
    "ContactId",
    "CreatedById",
    "OwnerId",
    "CreatedDate",
    "LastModifiedDate",
    "ClosedDate",
];

pub(crate) struct State {
    auth: AuthMode,
    client_id: String,
    client_secret: String,
    username: String,
    password: String,
    security_token: String,
    refresh_token: String,
    tokens: HashSet<String>,
    token_count: usize,
    pub(crate) instance_url: String,
    pub(crate) objects: BTreeMap<String, Vec<Map<String, Value>>>,
    seq: u64,
    numbers: u64,
    clock: u64,
    cursors: HashMap<String, (Vec<Value>, usize)>,
    cursor_seq: u64,
    page_size: usize,
    pub(crate) unfiltered: bool,
    /// Ignore `Id >=` / `Id <` conditions (a server that ignores partition ranges).
    pub(crate) ignore_id_ranges: bool,
    pub(crate) upserts: bool,
    daily_limit: Option<usize>,
    api_calls: usize,
    api_quota: usize,
    user_id: String,
    contact_id: String,
    pub(crate) profile_id: String,
    pub(crate) total_bias: usize,
    pub(crate) passwords: HashMap<String, String>,
    pub(crate) frozen_clock: Option<std::time::SystemTime>,
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("State")
            .field("auth", &self.auth)
            .field("instance_url", &self.instance_url)
            .finish_non_exhaustive()
    }
}

impl State {
    fn new(auth: AuthMode) -> State {
        let mut s = State {
            auth,
            client_id: "3MVG9mockConsumerKey".into(),
            client_secret: "sf-client-secret-canary-7781".into(),
            username: "iam@acme.example".into(),
            password: "sf-password-canary-4410".into(),
            security_token: "sftokencanary2291".into(),
            refresh_token: "5Aep861-refresh-canary-0093".into(),
            tokens: HashSet::new(),
            token_count: 0,
            instance_url: String::new(),
            objects: BTreeMap::new(),
            seq: 0,
            numbers: 1000,
            clock: 0,
            cursors: HashMap::new(),
            cursor_seq: 0,
            page_size: 2000,
            unfiltered: false,
            ignore_id_ranges: false,
            upserts: false,
            daily_limit: None,
            api_calls: 0,
            api_quota: 15000,
            user_id: String::new(),
            contact_id: String::new(),
            profile_id: String::new(),
            total_bias: 0,
            passwords: HashMap::new(),
            frozen_clock: None,
        };
        s.profile_id = s.insert(
            "Profile",
            json!({"Name": "Standard User"})
                .as_object()
                .cloned()
                .unwrap_or_default(),
        );
        s.insert(
            "PermissionSet",
            json!({"Name": "X00ex000000profileowned", "Label": "Profile-owned", "IsOwnedByProfile": true})
                .as_object().cloned().unwrap_or_default(),
        );
        for (name, label) in [
            ("Payroll_Admin", "Payroll Admin"),
            ("Reports_Viewer", "Reports Viewer"),
        ] {
            s.insert(
                "PermissionSet",
                json!({"Name": name, "Label": label, "IsOwnedByProfile": false})
                    .as_object()
                    .cloned()
                    .unwrap_or_default(),
            );
        }
        s.insert(
            "PermissionSetGroup",
            json!({"DeveloperName": "Finance_Bundle", "MasterLabel": "Finance Bundle", "Status": "Updated"})
                .as_object()
                .cloned()
                .unwrap_or_default(),
        );
        s.insert(
            "Profile",
            json!({"Name": "Read Only"})
                .as_object()
                .cloned()
                .unwrap_or_default(),
        );
        for (name, ty) in [("Payroll Team", "Regular"), ("Tier 1 Queue", "Queue")] {
            s.insert(
                "Group",
                json!({"Name": name, "DeveloperName": name.replace(' ', "_"), "Type": ty})
                    .as_object()
                    .cloned()
                    .unwrap_or_default(),
            );
        }
        s.user_id = s.insert(
            "User",
            json!({"FirstName": "IAM", "LastName": "Integration", "Username": "iam@acme.example", "Email": "iam@acme.example", "IsActive": true, "UserType": "Standard"})
                .as_object().cloned().unwrap_or_default(),
        );
        s.contact_id = s.insert(
            "Contact",
            json!({"Name": "Jane Doe", "Email": "jane.doe@acme.example"})
                .as_object()
                .cloned()
                .unwrap_or_default(),
        );
        for (name, open) in [
            ("OPEN", true),
            ("IN PROGRESS", true),
            ("ON HOLD", true),
            ("CLOSED", false),
            ("CANCELLED", false),
        ] {
            s.insert(
                STATUS,
                json!({"Name": name, "BMCServiceDesk__state__c": open})
                    .as_object()
                    .cloned()
                    .unwrap_or_default(),
            );
        }
        s
    }

    /// A service-desk agent (a second internal user, made on first use), the author
    /// of comments written "in the UI".
    pub(crate) fn agent_id(&mut self) -> String {
        let existing = self
            .objects
            .get("User")
            .into_iter()
            .flatten()
            .find(|u| text(u, "Username") == "agent@acme.example")
            .map(|u| text(u, "Id"));
        if let Some(id) = existing {
            return id;
        }
        let profile = self.profile_id.clone();
        let u = json!({"FirstName": "Sam", "LastName": "Agent", "Username": "agent@acme.example",
            "Email": "sam.agent@acme.example", "Alias": "sagent", "ProfileId": profile,
            "IsActive": true, "UserType": "Standard"});
        self.insert("User", u.as_object().cloned().unwrap_or_default())
    }

    fn new_id(&mut self, object: &str) -> String {
        self.seq += 1;
        let mut n = self.seq;
        let mut tail = [b'0'; 6];
        for t in tail.iter_mut().rev() {
            *t = BASE62[(n % 62) as usize];
            n /= 62;
        }
        let id15 = format!(
            "{}Dw0Ab{}{}",
            prefix_of(object),
            char::from(b'A' + (self.seq % 26) as u8),
            std::str::from_utf8(&tail).unwrap_or("000000")
        );
        id18(&id15)
    }

    fn now(&mut self) -> String {
        self.clock += 1;
        let t = self
            .frozen_clock
            .unwrap_or(UNIX_EPOCH + Duration::from_secs(1_780_000_000 + self.clock));
        // Salesforce keeps times to the second.
        let t = UNIX_EPOCH
            + Duration::from_secs(t.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs());
        accesslink_core::time::format_rfc3339_millis(t).replace('Z', "+0000")
    }

    pub(crate) fn find(&self, object: &str, id: &str) -> Option<&Map<String, Value>> {
        let short = &id[..id.len().min(15)];
        self.objects
            .get(object)?
            .iter()
            .find(|r| text(r, "Id").get(..15) == Some(short))
    }

    fn find_any(&self, id: &str) -> Option<(&str, &Map<String, Value>)> {
        let short = &id[..id.len().min(15)];
        // The key prefix names the object: look there first (imports of 100,000 users
        // follow relationships on every row).
        let prefix = short.get(..3).unwrap_or("");
        let by_prefix = self
            .objects
            .iter()
            .filter(|(o, _)| prefix_of(o) == prefix)
            .find_map(|(o, rows)| {
                rows.iter()
                    .find(|r| text(r, "Id").get(..15) == Some(short))
                    .map(|r| (o.as_str(), r))
            });
        by_prefix.or_else(|| {
            self.objects.iter().find_map(|(o, rows)| {
                rows.iter()
                    .find(|r| text(r, "Id").get(..15) == Some(short))
                    .map(|r| (o.as_str(), r))
            })
        })
    }

    fn status_by_name(&self, name: &str) -> Option<&Map<String, Value>> {
        self.objects
            .get(STATUS)?
            .iter()
            .find(|r| text(r, "Name").eq_ignore_ascii_case(name))
    }

    /// Fills the fields Salesforce derives.
    fn derive(&mut self, object: &str, r: &mut Map<String, Value>) {
        let now = self.now();
        r.insert("LastModifiedDate".into(), json!(now));
        match object {
            "User" => {
                let name = format!("{} {}", text(r, "FirstName"), text(r, "LastName"));
                r.insert("Name".into(), json!(name.trim()));
                r.entry("UserType").or_insert(json!("Standard"));
                r.entry("IsActive").or_insert(json!(true));
            }
            "Case" => {
                let status = r
                    .get("Status")
                    .and_then(Value::as_str)
                    .unwrap_or("New")
                    .to_owned();
                let closed = CLOSED_CASE_STATUSES.contains(&status.as_str());
                r.insert("Status".into(), json!(status));
                r.insert("IsClosed".into(), json!(closed));
            }
            INCIDENT | CHANGE | TASK => {
                let fk = r
                    .get("BMCServiceDesk__FKStatus__c")
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                let st = match fk {
                    Some(id) => self.find(STATUS, &id).cloned(),
                    None => self.status_by_name("OPEN").cloned(),
                };
                if let Some(st) = st {
                    r.insert("BMCServiceDesk__FKStatus__c".into(), json!(text(&st, "Id")));
                    r.insert(
                        "BMCServiceDesk__Status_ID__c".into(),
                        json!(text(&st, "Name")),
                    );
                    r.insert(
                        "BMCServiceDesk__state__c".into(),
                        st.get("BMCServiceDesk__state__c")
                            .cloned()
                            .unwrap_or(json!(true)),
                    );
                }
            }
            _ => {}
        }
    }

    pub(crate) fn insert(&mut self, object: &str, mut r: Map<String, Value>) -> String {
        let id = self.new_id(object);
        r.insert("Id".into(), json!(id));
        let now = self.now();
        r.insert("CreatedDate".into(), json!(now));
        if !self.user_id.is_empty() {
            r.entry("CreatedById").or_insert(json!(self.user_id));
        }
        match object {
            "Case" => {
                self.numbers += 1;
                r.insert("CaseNumber".into(), json!(format!("{:08}", self.numbers)));
            }
            INCIDENT | CHANGE | TASK => {
                self.numbers += 1;
                r.insert("Name".into(), json!(format!("{:08}", self.numbers)));
            }
            _ => {}
        }
        self.derive(object, &mut r);
        self.objects.entry(object.to_owned()).or_default().push(r);
        if object == "User" {
            // Every user has one UserLogin (its freeze flag).
            let login = json!({"UserId": id, "IsFrozen": false});
            self.insert("UserLogin", login.as_object().cloned().unwrap_or_default());
        }
        id
    }

    pub(crate) fn patch(&mut self, object: &str, id: &str, fields: Map<String, Value>) -> bool {
        let short = id[..id.len().min(15)].to_owned();
        let Some(pos) = self.objects.get(object).and_then(|rows| {
            rows.iter()
                .position(|r| text(r, "Id").get(..15) == Some(short.as_str()))
        }) else {
            return false;
        };
        let mut r = self.objects[object][pos].clone();
        for (k, v) in fields {
            r.insert(k, v);
        }
        self.derive(object, &mut r);
        if let Some(rows) = self.objects.get_mut(object) {
            rows[pos] = r;
        }
        true
    }

    /// A field of a row, following one relationship (`CreatedBy.Email` through
    /// `CreatedById`).
    fn get(&self, r: &Map<String, Value>, field: &str) -> Value {
        match field.split_once('.') {
            None => r
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(field))
                .map(|(_, v)| v.clone())
                .unwrap_or(Value::Null),
            Some((rel, f)) => {
                let key = if rel.ends_with("__r") {
                    format!("{}__c", rel.trim_end_matches("__r"))
                } else {
                    format!("{rel}Id")
                };
                let id = text(r, &key);
                match self.find_any(&id) {
                    Some((_, other)) => self.get(other, f),
                    None => Value::Null,
                }
            }
        }
    }

    fn project(&self, object: &str, r: &Map<String, Value>, fields: &[String]) -> Value {
        let mut out = Map::new();
        out.insert("attributes".into(), self.attributes(object, &text(r, "Id")));
        for f in fields {
            match f.split_once('.') {
                None => {
                    out.insert(f.clone(), self.get(r, f));
                }
                Some((rel, sub)) => {
                    let key = if rel.ends_with("__r") {
                        format!("{}__c", rel.trim_end_matches("__r"))
                    } else {
                        format!("{rel}Id")
                    };
                    match self.find_any(&text(r, &key)) {
                        None => {
                            out.insert(rel.to_owned(), Value::Null);
                        }
                        Some((o, other)) => {
                            let entry = out.entry(rel.to_owned()).or_insert_with(
                                || json!({"attributes": self.attributes(o, &text(other, "Id"))}),
                            );
                            if let Value::Object(m) = entry {
                                m.insert(sub.to_owned(), self.get(other, sub));
                            }
                        }
                    }
                }
            }
        }
        Value::Object(out)
    }

    fn attributes(&self, object: &str, id: &str) -> Value {
        json!({"type": object, "url": format!("/services/data/v62.0/sobjects/{object}/{id}")})
    }
}

fn sf_error(status: u16, code: &str, message: &str, fields: &[&str]) -> ResponseTemplate {
    ResponseTemplate::new(status)
        .set_body_json(json!([{"message": message, "errorCode": code, "fields": fields}]))
}

fn token_error(code: &str, description: &str) -> ResponseTemplate {
    ResponseTemplate::new(400)
        .set_body_json(json!({"error": code, "error_description": description}))
}

struct Responder {
    state: Arc<Mutex<State>>,
    faults: FaultPlan,
}

impl Respond for Responder {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let normal = || self.answer(request);
        match self.faults.take(request) {
            Some(action) => action.apply(normal),
            None => normal(),
        }
    }
}

impl Responder {
    fn answer(&self, request: &Request) -> ResponseTemplate {
        let mut s = lock(&self.state);
        let path = request.url.path().to_owned();
        if path == "/services/oauth2/token" && request.method.as_str() == "POST" {
            return token(&mut s, request);
        }
        let Some(rest) = path.strip_prefix("/services/data/") else {
            return sf_error(
                404,
                "NOT_FOUND",
                "The requested resource does not exist",
                &[],
            );
        };
        let Some((version, rest)) = rest.split_once('/') else {
            return sf_error(
                404,
                "NOT_FOUND",
                "The requested resource does not exist",
                &[],
            );
        };
        let ok_version = version
            .strip_prefix('v')
            .and_then(|v| v.split_once('.'))
            .is_some_and(|(a, b)| a.parse::<u32>().is_ok() && b.parse::<u32>().is_ok());
        if !ok_version {
            return sf_error(
                404,
                "NOT_FOUND",
                "The requested resource does not exist",
                &[],
            );
        }
        // API calls belong on the instance host, not the login host.
        let host = request
            .headers
            .get("host")
            .and_then(|h| h.to_str().ok())
            .unwrap_or("");
        if !host.starts_with("localhost") {
            return sf_error(
                401,
                "INVALID_SESSION_ID",
                "This session is not valid for use with the REST API (login host)",
                &[],
            );
        }
        let bearer = request
            .headers
            .get("authorization")
            .and_then(|h| h.to_str().ok())
            .and_then(|h| h.strip_prefix("Bearer "))
            .unwrap_or("");
        if !s.tokens.contains(bearer) {
            return sf_error(401, "INVALID_SESSION_ID", "Session expired or invalid", &[]);
        }
        s.api_calls += 1;
        let usage = format!("api-usage={}/{}", s.api_calls, s.api_quota);
        if s.daily_limit.is_some_and(|l| s.api_calls > l) {
            return sf_error(
                403,
                "REQUEST_LIMIT_EXCEEDED",
                "TotalRequests Limit exceeded.",
                &[],
            )
            .insert_header("Sforce-Limit-Info", usage.as_str());
        }
        let answer = api(&mut s, request, version, rest);
        answer.insert_header("Sforce-Limit-Info", usage.as_str())
    }
}

fn token(s: &mut State, request: &Request) -> ResponseTemplate {
    let form: HashMap<String, String> = url::form_urlencoded::parse(&request.body)
        .into_owned()
        .collect();
    let get = |k: &str| form.get(k).map(String::as_str).unwrap_or("");
    if get("client_id") != s.client_id {
        return token_error("invalid_client_id", "client identifier invalid");
    }
    let secret_ok = get("client_secret") == s.client_secret;
    match get("grant_type") {
        "client_credentials" => {
            if !secret_ok {
                return token_error("invalid_client", "invalid client credentials");
            }
        }
        "password" => {
            if !secret_ok {
                return token_error("invalid_client", "invalid client credentials");
            }
            let want = format!("{}{}", s.password, s.security_token);
            if get("username") != s.username || get("password") != want {
                return token_error("invalid_grant", "authentication failure");
            }
        }
        "refresh_token" => {
            if form.contains_key("client_secret") && !secret_ok {
                return token_error("invalid_client", "invalid client credentials");
            }
            if get("refresh_token") != s.refresh_token {
                return token_error("invalid_grant", "expired access/refresh token");
            }
        }
        _ => return token_error("unsupported_grant_type", "grant type not supported"),
    }
    s.token_count += 1;
    let access = format!(
        "00DDw0000001mock!AQ{:04}.tok{}",
        s.token_count,
        s.token_count * 7919
    );
    s.tokens.insert(access.clone());
    let body = json!({
        "access_token": access,
        "instance_url": s.instance_url,
        "id": format!("{}/id/00DDw0000001mockEAA/{}", s.instance_url, s.user_id),
        "token_type": "Bearer",
        "issued_at": "1714640000000",
        "signature": "c2lnbmF0dXJl",
        "scope": "api",
    });
    ResponseTemplate::new(200).set_body_json(body)
}

fn api(s: &mut State, request: &Request, version: &str, rest: &str) -> ResponseTemplate {
    let method = request.method.as_str();
    let parts: Vec<&str> = rest.split('/').collect();
    match (method, parts.as_slice()) {
        ("GET", ["limits"]) => ResponseTemplate::new(200).set_body_json(json!({
            "DailyApiRequests": {"Max": s.api_quota, "Remaining": s.api_quota - s.api_calls.min(s.api_quota)}
        })),
        ("GET", ["query"]) => {
            let q = request
                .url
                .query_pairs()
                .find(|(k, _)| k == "q")
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default();
            query(s, version, &q)
        }
        ("GET", ["query", cursor]) => match s.cursors.remove(*cursor) {
            Some((rows, total)) => page(s, version, rows, total),
            None => sf_error(400, "INVALID_QUERY_LOCATOR", "invalid query locator", &[]),
        },
        ("POST", ["sobjects", object]) => {
            let body: Value = match serde_json::from_slice(&request.body) {
                Ok(Value::Object(m)) => Value::Object(m),
                _ => {
                    return sf_error(
                        400,
                        "JSON_PARSER_ERROR",
                        "The request body is not a JSON object",
                        &[],
                    );
                }
            };
            create(s, object, body)
        }
        ("POST", ["composite", "sobjects"]) => composite_create(s, &request.body),
        ("DELETE", ["composite", "sobjects"]) => {
            let ids: Vec<String> = request
                .url
                .query_pairs()
                .find(|(k, _)| k == "ids")
                .map(|(_, v)| v.split(',').map(str::to_owned).collect())
                .unwrap_or_default();
            composite_delete(s, &ids)
        }
        ("GET", ["sobjects", object, "describe"]) => match describe::describe(object) {
            Some(d) => ResponseTemplate::new(200).set_body_json(d),
            None => sf_error(
                404,
                "NOT_FOUND",
                "The requested resource does not exist",
                &[],
            ),
        },
        ("POST", ["sobjects", "User", id, "password"]) => {
            let new = serde_json::from_slice::<Value>(&request.body)
                .ok()
                .and_then(|v| {
                    v.get("NewPassword")
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                });
            let Some(new) = new else {
                return sf_error(
                    400,
                    "JSON_PARSER_ERROR",
                    "The request body must be {\"NewPassword\": \"…\"}",
                    &[],
                );
            };
            if s.find("User", id).is_none() {
                return sf_error(
                    404,
                    "NOT_FOUND",
                    "The requested resource does not exist",
                    &[],
                );
            }
            // The org's default policy: 8 characters, letters and digits.
            let ok = new.chars().count() >= 8
                && new.chars().any(|c| c.is_alphabetic())
                && new.chars().any(|c| c.is_ascii_digit());
            if !ok {
                return sf_error(
                    400,
                    "INVALID_NEW_PASSWORD",
                    "Your password must be at least 8 characters long and mix letters and numbers.",
                    &[],
                );
            }
            let short = id[..id.len().min(15)].to_owned();
            s.passwords.insert(short, new);
            ResponseTemplate::new(204)
        }
        ("GET", ["sobjects", object, id]) => match s.find(object, id) {
            Some(r) => {
                let fields: Vec<String> = r.keys().cloned().collect();
                let v = s.project(object, &r.clone(), &fields);
                ResponseTemplate::new(200).set_body_json(v)
            }
            None => sf_error(
                404,
                "NOT_FOUND",
                "The requested resource does not exist",
                &[],
            ),
        },
        ("PATCH", ["sobjects", object, id]) => {
            let Ok(Value::Object(m)) = serde_json::from_slice::<Value>(&request.body) else {
                return sf_error(
                    400,
                    "JSON_PARSER_ERROR",
                    "The request body is not a JSON object",
                    &[],
                );
            };
            if let Some(bad) = unknown_field(object, &m) {
                return bad;
            }
            if s.patch(object, id, m) {
                ResponseTemplate::new(204)
            } else {
                sf_error(
                    404,
                    "NOT_FOUND",
                    "The requested resource does not exist",
                    &[],
                )
            }
        }
        ("PATCH", ["sobjects", object, field, value]) => {
            let value = percent_decode(value);
            let Ok(Value::Object(mut m)) = serde_json::from_slice::<Value>(&request.body) else {
                return sf_error(
                    400,
                    "JSON_PARSER_ERROR",
                    "The request body is not a JSON object",
                    &[],
                );
            };
            if let Some(bad) = unknown_field(object, &m) {
                return bad;
            }
            let hits: Vec<String> = s
                .objects
                .get(*object)
                .map(|rows| {
                    rows.iter()
                        .filter(|r| text(r, field) == value)
                        .map(|r| text(r, "Id"))
                        .collect()
                })
                .unwrap_or_default();
            match hits.as_slice() {
                [] => {
                    m.insert((*field).to_owned(), json!(value));
                    let id = s.insert(object, m);
                    ResponseTemplate::new(201).set_body_json(
                        json!({"id": id, "success": true, "errors": [], "created": true}),
                    )
                }
                [one] => {
                    s.patch(object, one, m);
                    ResponseTemplate::new(204)
                }
                many => ResponseTemplate::new(300).set_body_json(json!(many)),
            }
        }
        ("DELETE", ["sobjects", "User", _]) => sf_error(
            400,
            "INVALID_OPERATION",
            "Users cannot be deleted; deactivate them instead",
            &[],
        ),
        ("DELETE", ["sobjects", object, id]) => {
            let before = s.objects.get(*object).map_or(0, Vec::len);
            let short = id[..id.len().min(15)].to_owned();
            if let Some(rows) = s.objects.get_mut(*object) {
                rows.retain(|r| text(r, "Id").get(..15) != Some(short.as_str()));
            }
            if s.objects.get(*object).map_or(0, Vec::len) < before {
                ResponseTemplate::new(204)
            } else {
                sf_error(
                    404,
                    "NOT_FOUND",
                    "The requested resource does not exist",
                    &[],
                )
            }
        }
        _ => sf_error(
            404,
            "NOT_FOUND",
            "The requested resource does not exist",
            &[],
        ),
    }
}

/// `POST composite/sobjects`: `{allOrNone, records}` (only `allOrNone = false` is
/// modelled), at most 200 records, each with `attributes.type`; 200 with one result per
/// record, in order, each with its own `success`.
fn composite_create(s: &mut State, body: &[u8]) -> ResponseTemplate {
    let Ok(Value::Object(b)) = serde_json::from_slice::<Value>(body) else {
        return sf_error(
            400,
            "JSON_PARSER_ERROR",
            "The request body is not a JSON object",
            &[],
        );
    };
    let Some(records) = b.get("records").and_then(Value::as_array) else {
        return sf_error(
            400,
            "REQUIRED_FIELD_MISSING",
            "records is required",
            &["records"],
        );
    };
    if records.len() > 200 {
        return sf_error(
            400,
            "EXCEEDED_ID_LIMIT",
            "record limit reached. cannot submit more than 200 records into this call",
            &[],
        );
    }
    let results: Vec<Value> = records
        .iter()
        .map(|r| {
            let mut m = r.as_object().cloned().unwrap_or_default();
            let ty = m
                .remove("attributes")
                .and_then(|a| a.get("type").and_then(Value::as_str).map(str::to_owned));
            let Some(ty) = ty else {
                return ItemError::new(400, "INVALID_TYPE", "attributes.type is required", &[])
                    .item();
            };
            match create_item(s, &ty, Value::Object(m)) {
                Ok(id) => json!({"id": id, "success": true, "errors": []}),
                Err(e) => e.item(),
            }
        })
        .collect();
    ResponseTemplate::new(200).set_body_json(results)
}

/// `DELETE composite/sobjects?ids=…&allOrNone=false`: one result per id.
fn composite_delete(s: &mut State, ids: &[String]) -> ResponseTemplate {
    if ids.is_empty() || ids.len() > 200 {
        return sf_error(
            400,
            "EXCEEDED_ID_LIMIT",
            "between 1 and 200 ids are allowed",
            &[],
        );
    }
    let results: Vec<Value> = ids
        .iter()
        .map(|id| {
            let short = id[..id.len().min(15)].to_owned();
            let object = s.find_any(id).map(|(o, _)| o.to_owned());
            match object {
                Some(o) if o == "User" => ItemError::new(
                    400,
                    "INVALID_OPERATION",
                    "Users cannot be deleted; deactivate them instead",
                    &[],
                )
                .item(),
                Some(o) => {
                    if let Some(rows) = s.objects.get_mut(&o) {
                        rows.retain(|r| text(r, "Id").get(..15) != Some(short.as_str()));
                    }
                    json!({"id": id, "success": true, "errors": []})
                }
                None => ItemError::new(400, "ENTITY_IS_DELETED", "entity is deleted", &[]).item(),
            }
        })
        .collect();
    ResponseTemplate::new(200).set_body_json(results)
}

fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("v={}", s.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// One record's refusal: the status a single-record call would answer, and the item
/// of the error array (`errorCode` there, `statusCode` in collection answers).
#[derive(Debug, Clone)]
pub(crate) struct ItemError {
    status: u16,
    code: String,
    message: String,
    fields: Vec<String>,
}

impl ItemError {
    fn new(status: u16, code: &str, message: &str, fields: &[&str]) -> ItemError {
        ItemError {
            status,
            code: code.to_owned(),
            message: message.to_owned(),
            fields: fields.iter().map(|f| (*f).to_owned()).collect(),
        }
    }

    fn response(&self) -> ResponseTemplate {
        ResponseTemplate::new(self.status).set_body_json(
            json!([{"message": self.message, "errorCode": self.code, "fields": self.fields}]),
        )
    }

    fn item(&self) -> Value {
        json!({"success": false, "errors": [
            {"statusCode": self.code, "message": self.message, "fields": self.fields}
        ]})
    }
}

fn unknown_field_error(object: &str, m: &Map<String, Value>) -> Option<ItemError> {
    let known: &[&str] = match object {
        "Case" => CASE_FIELDS,
        "CaseComment" => &["ParentId", "CommentBody", "IsPublished"],
        "FeedItem" => &["ParentId", "Body", "Visibility"],
        _ => return None,
    };
    m.keys()
        .find(|k| !known.contains(&k.as_str()) && !k.ends_with("__c"))
        .map(|k| {
            ItemError::new(
                400,
                "INVALID_FIELD",
                &format!("No such column '{k}' on sobject of type {object}"),
                &[k],
            )
        })
}

fn unknown_field(object: &str, m: &Map<String, Value>) -> Option<ResponseTemplate> {
    let known: &[&str] = match object {
        "Case" => CASE_FIELDS,
        "CaseComment" => &["ParentId", "CommentBody", "IsPublished"],
        "FeedItem" => &["ParentId", "Body", "Visibility"],
        _ => return None,
    };
    m.keys()
        .find(|k| !known.contains(&k.as_str()) && !k.ends_with("__c"))
        .map(|k| {
            sf_error(
                400,
                "INVALID_FIELD",
                &format!("No such column '{k}' on sobject of type {object}"),
                &[k],
            )
        })
}

/// Creates one record, or says why not (the checks Salesforce makes).
fn create_item(s: &mut State, object: &str, body: Value) -> Result<String, ItemError> {
    let Value::Object(m) = body else {
        return Err(ItemError::new(
            400,
            "JSON_PARSER_ERROR",
            "not an object",
            &[],
        ));
    };
    if let Some(bad) = unknown_field_error(object, &m) {
        return Err(bad);
    }
    match object {
        "CaseComment" | "FeedItem" => {
            let parent = text(&m, "ParentId");
            if s.find_any(&parent).is_none() {
                return Err(ItemError::new(
                    400,
                    "INVALID_CROSS_REFERENCE_KEY",
                    "invalid cross reference id",
                    &["ParentId"],
                ));
            }
            let body_field = if object == "CaseComment" {
                "CommentBody"
            } else {
                "Body"
            };
            if text(&m, body_field).is_empty() {
                return Err(ItemError::new(
                    400,
                    "REQUIRED_FIELD_MISSING",
                    &format!("Required fields are missing: [{body_field}]"),
                    &[body_field],
                ));
            }
        }
        "User" => {
            const REQUIRED: &[&str] = &[
                "Username",
                "LastName",
                "Email",
                "Alias",
                "TimeZoneSidKey",
                "LocaleSidKey",
                "EmailEncodingKey",
                "LanguageLocaleKey",
                "ProfileId",
            ];
            let missing: Vec<&str> = REQUIRED
                .iter()
                .copied()
                .filter(|f| text(&m, f).is_empty())
                .collect();
            if !missing.is_empty() {
                return Err(ItemError::new(
                    400,
                    "REQUIRED_FIELD_MISSING",
                    &format!("Required fields are missing: {missing:?}"),
                    &missing,
                ));
            }
            if text(&m, "Alias").chars().count() > 8 {
                return Err(ItemError::new(
                    400,
                    "STRING_TOO_LONG",
                    "Alias: data value too large",
                    &["Alias"],
                ));
            }
            let username = text(&m, "Username");
            let taken = s
                .objects
                .get("User")
                .into_iter()
                .flatten()
                .any(|u| text(u, "Username").eq_ignore_ascii_case(&username));
            if taken {
                return Err(ItemError::new(
                    400,
                    "DUPLICATE_USERNAME",
                    "Duplicate Username",
                    &["Username"],
                ));
            }
            if s.find("Profile", &text(&m, "ProfileId")).is_none() {
                return Err(ItemError::new(
                    400,
                    "INVALID_CROSS_REFERENCE_KEY",
                    "Profile ID: id value of incorrect type",
                    &["ProfileId"],
                ));
            }
        }
        "PermissionSetAssignment" | "GroupMember" => {
            let (efield, afield, eobj) = if object == "GroupMember" {
                ("GroupId", "UserOrGroupId", "Group")
            } else if m.get("PermissionSetGroupId").is_some_and(|v| !v.is_null()) {
                ("PermissionSetGroupId", "AssigneeId", "PermissionSetGroup")
            } else {
                ("PermissionSetId", "AssigneeId", "PermissionSet")
            };
            let (e, a) = (text(&m, efield), text(&m, afield));
            if s.find(eobj, &e).is_none() || s.find("User", &a).is_none() {
                return Err(ItemError::new(
                    400,
                    "INVALID_CROSS_REFERENCE_KEY",
                    "invalid cross reference id",
                    &[efield, afield],
                ));
            }
            let dup = s.objects.get(object).into_iter().flatten().any(|r| {
                text(r, efield).get(..15) == e.get(..15) && text(r, afield).get(..15) == a.get(..15)
            });
            if dup {
                return Err(ItemError::new(
                    400,
                    "DUPLICATE_VALUE",
                    "duplicate value found: Assignee already has this entitlement",
                    &[],
                ));
            }
        }
        "Case" => {
            if let Some(c) = m.get("ContactId").and_then(Value::as_str) {
                if s.find("Contact", c).is_none() {
                    return Err(ItemError::new(
                        400,
                        "INVALID_CROSS_REFERENCE_KEY",
                        "Contact ID: id value of incorrect type",
                        &["ContactId"],
                    ));
                }
            }
        }
        _ => {}
    }
    let parent = matches!(object, "CaseComment" | "FeedItem").then(|| text(&m, "ParentId"));
    let id = s.insert(object, m);
    // A comment updates its record's LastModifiedDate.
    if let Some(parent) = parent {
        if let Some(o) = s.find_any(&parent).map(|(o, _)| o.to_owned()) {
            s.patch(&o, &parent, Map::new());
        }
    }
    Ok(id)
}

fn create(s: &mut State, object: &str, body: Value) -> ResponseTemplate {
    match create_item(s, object, body) {
        Ok(id) => ResponseTemplate::new(201)
            .set_body_json(json!({"id": id, "success": true, "errors": []})),
        Err(e) => e.response(),
    }
}

fn query(s: &mut State, version: &str, q: &str) -> ResponseTemplate {
    let parsed = match soql::parse(q) {
        Ok(p) => p,
        Err(e) => {
            return sf_error(
                400,
                "MALFORMED_QUERY",
                &format!("unexpected token: {e}"),
                &[],
            );
        }
    };
    if parsed.object == "Case" {
        for f in parsed.fields.iter().filter(|f| *f != "COUNT()") {
            let ok = CASE_FIELDS.contains(&f.as_str())
                || f.ends_with("__c")
                || f.starts_with("Contact.")
                || f.starts_with("CreatedBy.")
                || f.starts_with("Owner.")
                || f.starts_with("RecordType.");
            if !ok {
                return sf_error(
                    400,
                    "INVALID_FIELD",
                    &format!("No such column '{f}' on entity 'Case'"),
                    &[],
                );
            }
        }
    }
    if parsed.offset.is_some_and(|k| k > 2000) {
        return sf_error(
            400,
            "NUMBER_OUTSIDE_VALID_RANGE",
            "Maximum SOQL offset allowed is 2000",
            &[],
        );
    }
    let rows: Vec<Map<String, Value>> = s.objects.get(&parsed.object).cloned().unwrap_or_default();
    // A server that ignores partition ranges drops `Id >=` and `Id <`, keeping the rest.
    let conds: Vec<&soql::Cond> = parsed
        .conds
        .iter()
        .filter(|c| !(s.ignore_id_ranges && c.is_id_range()))
        .collect();
    let mut hits: Vec<Map<String, Value>> = rows
        .into_iter()
        .filter(|r| s.unfiltered || conds.iter().all(|c| c.matches(&|f| s.get(r, f))))
        .collect();
    if !parsed.order.is_empty() {
        hits.sort_by(|a, b| {
            for (f, desc) in &parsed.order {
                let (x, y) = (s.get(a, f), s.get(b, f));
                let o = x.as_str().unwrap_or("").cmp(y.as_str().unwrap_or(""));
                let o = if *desc { o.reverse() } else { o };
                if o != std::cmp::Ordering::Equal {
                    return o;
                }
            }
            std::cmp::Ordering::Equal
        });
    }
    if let Some(k) = parsed.offset {
        hits.drain(..k.min(hits.len()));
    }
    if let Some(n) = parsed.limit {
        hits.truncate(n);
    }
    let projected: Vec<Value> = hits
        .iter()
        .map(|r| s.project(&parsed.object, r, &parsed.fields))
        .collect();
    if parsed.fields == ["COUNT()"] {
        // Counts are what a listing's total is read from: the bias applies here.
        let mut total = hits.len();
        if total > 0 {
            total += s.total_bias;
        }
        return ResponseTemplate::new(200)
            .set_body_json(json!({"totalSize": total, "done": true, "records": []}));
    }
    let total = projected.len();
    page(s, version, projected, total)
}

fn page(s: &mut State, version: &str, mut rows: Vec<Value>, total: usize) -> ResponseTemplate {
    let rest = if rows.len() > s.page_size {
        rows.split_off(s.page_size)
    } else {
        Vec::new()
    };
    let mut body = json!({"totalSize": total, "done": rest.is_empty(), "records": rows});
    if !rest.is_empty() {
        s.cursor_seq += 1;
        let cursor = format!("01gDw00000{:05}-{}", s.cursor_seq, total - rest.len());
        body["nextRecordsUrl"] = json!(format!("/services/data/{version}/query/{cursor}"));
        s.cursors.insert(cursor, (rest, total));
    }
    ResponseTemplate::new(200).set_body_json(body)
}
