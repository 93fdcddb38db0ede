//! A stateful mock of ManageEngine ServiceDesk Plus v3 — on-premises, Cloud and MSP — as
//! `shared/api/otrs-glpi-topdesk-sdp.md` §4 describes it.
//!
//! | route | answer |
//! |---|---|
//! | `GET {root}/requests`, `/changes` | `list_info` from `input_data` in the query: `row_count` 1-100 (more → 400 4001), 1-based `start_index`, `search_criteria` (`is` with `value` or `values`, `is not`, `contains`, `greater or equal` / `greater than` on epoch-ms strings; fields `id`, `display_id`, `subject`, `title`, `account.name`, `category.name`, `last_updated_time`, `udf_fields.*`), `sort_field` `last_updated_time` (`sort_order` `asc`/`desc`), `has_more_rows`, `total_count`; `response_status` is an **array**. Every write stamps `last_updated_time` (the real clock, or the one set with [`SdpMock::set_clock`]) |
//! | `GET {root}/{entity}/{id}` | the entity by id; 404 with 4001 otherwise |
//! | `POST {root}/{entity}` | `input_data` from the form body (or query): `{"request":{…}}` / `{"change":{…}}`; `subject` / `title` mandatory (400 4012 with `fields`); MSP: `account` mandatory |
//! | `PUT {root}/requests/{id}/close` (on-premises, MSP) or `/_close` (Cloud) | closes with `closure_info`; the other spelling is 404 4007 |
//! | `PUT {root}/{entity}/{id}` | `status` / `stage` by name |
//! | `GET`/`POST {root}/requesters`, `GET`/`PUT {root}/requesters/{id}` | requesters with `list_info` paging (criteria on `email_id`, `login_name`); `name` mandatory; a taken e-mail is 400 4008 |
//! | `POST {root}/{entity}/{id}/notes` | `request_note` / `note` with `description`, `show_to_requester` |
//! | `GET {root}/{entity}/{id}/notes` | `notes` newest first, with `id`, `show_to_requester`, `created_by`, `created_time` |
//! | `GET`/`POST {root}/{entity}/{id}/worklogs` | `worklog` with `description` (mandatory); listed with `owner`, `created_time` |
//! | `GET`/`POST {root}/technicians`, `GET`/`PUT {root}/technicians/{id}` | like requesters, plus `groups` and `roles` (`[{"id":…}]`, written whole; an unknown id is 400 4001) |
//! | `GET {root}/groups`, `/roles`, `/statuses`, `/priorities`, `/categories` | `list_info` pages of `{"id","name"}`; other collections are 404 4007 |
//! | `POST /oauth/v2/token` (Cloud) | form `grant_type=refresh_token` or `authorization_code`; failures are **HTTP 200** `{"error":"invalid_code"}` |
//! | `GET /oauth/v2/auth` (Cloud) | the consent form accepted: 302 to `redirect_uri?code=…&state=…` |
//!
//! `{root}` is `/api/v3` on-premises and MSP, `/app/{portal}/api/v3` on Cloud (another
//! portal is 404 4007). Every API call must send `Accept: application/vnd.manageengine.sdp.v3+json`
//! (else 400). Auth: on-premises and MSP take the technician key in `authtoken` (or the
//! older `TECHNICIAN_KEY` header); a bad key is answered **HTTP 200** with status code
//! 4022, as old builds do. Cloud takes `Authorization: Zoho-oauthtoken <token>`; a bad or
//! expired token is 401 with 4022. Cloud ids are long and differ from `display_id`;
//! on-premises they are equal. Requests pass the [`FaultPlan`] first.

mod backend;
mod people;
mod routes;

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use serde_json::{Value, json};
use wiremock::{MockServer, Request, Respond, ResponseTemplate};

use crate::fault::FaultPlan;
use crate::mock::{Mock, ReceivedRequest, RecordedRequest, RequestLog};
use crate::proxy::FaultProxy;
use crate::server::start_mock;

/// Which ServiceDesk Plus the mock plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Deployment {
    /// On-premises: `/api/v3`, technician key.
    OnPremises,
    /// Cloud: `/app/{portal}/api/v3`, Zoho OAuth.
    Cloud,
    /// MSP: `/api/v3`, technician key, tickets scoped by account.
    Msp,
}

/// A request or change as the mock stores it.
#[derive(Debug, Clone, Default)]
pub(crate) struct Row {
    pub(crate) id: String,
    pub(crate) display_id: String,
    pub(crate) title: String,
    pub(crate) description: String,
    pub(crate) status: String,
    pub(crate) stage: Option<String>,
    pub(crate) approval: Option<String>,
    pub(crate) udf: serde_json::Map<String, Value>,
    pub(crate) requester: Option<Value>,
    pub(crate) account: Option<String>,
    pub(crate) category: Option<String>,
    pub(crate) notes: Vec<NoteRow>,
    pub(crate) worklogs: Vec<NoteRow>,
    pub(crate) closure: Option<Value>,
    pub(crate) created: u64,
    pub(crate) updated: u64,
}

/// A note or worklog as the mock stores it.
#[derive(Debug, Clone, Default)]
pub(crate) struct NoteRow {
    pub(crate) id: String,
    pub(crate) text: String,
    pub(crate) public: bool,
    pub(crate) created: u64,
    pub(crate) by: Value,
}

/// A requester as the mock stores it.
#[derive(Debug, Clone, Default)]
pub(crate) struct Person {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) email: Option<String>,
    pub(crate) login: Option<String>,
    pub(crate) account: Option<String>,
    pub(crate) groups: Vec<String>,
    pub(crate) roles: Vec<String>,
}

#[derive(Debug)]
pub(crate) struct State {
    pub(crate) deployment: Deployment,
    pub(crate) portal: String,
    pub(crate) key: String,
    pub(crate) client_id: String,
    pub(crate) client_secret: String,
    pub(crate) refresh_token: String,
    pub(crate) access_tokens: Vec<String>,
    pub(crate) grant_codes: Vec<String>,
    pub(crate) token_calls: usize,
    pub(crate) accounts: Vec<String>,
    pub(crate) requests: Vec<Row>,
    pub(crate) changes: Vec<Row>,
    pub(crate) next: u64,
    pub(crate) ignore_filters: bool,
    pub(crate) people: Vec<Person>,
    pub(crate) technicians: Vec<Person>,
    pub(crate) groups: Vec<(String, String)>,
    pub(crate) roles: Vec<(String, String)>,
    pub(crate) technician_accounts: bool,
    pub(crate) inflate_total: usize,
    pub(crate) clock: Option<u64>,
    pub(crate) next_note: u64,
}

impl State {
    /// The server's time in epoch ms: the frozen clock, or the real one.
    pub(crate) fn now(&self) -> u64 {
        self.clock.unwrap_or_else(|| {
            u64::try_from(
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap_or_default()
                    .as_millis(),
            )
            .unwrap_or(u64::MAX)
        })
    }

    /// The people the conformance backend counts as accounts.
    pub(crate) fn accounts(&self) -> &Vec<Person> {
        if self.technician_accounts {
            &self.technicians
        } else {
            &self.people
        }
    }

    pub(crate) fn rows(&self, change: bool) -> &Vec<Row> {
        if change {
            &self.changes
        } else {
            &self.requests
        }
    }

    pub(crate) fn rows_mut(&mut self, change: bool) -> &mut Vec<Row> {
        if change {
            &mut self.changes
        } else {
            &mut self.requests
        }
    }

    pub(crate) fn new_row(&mut self, change: bool) -> &mut Row {
        self.next += 1;
        let display = self.next.to_string();
        let id = match self.deployment {
            Deployment::Cloud => (123_640_000_000_240_000u64 + self.next * 13).to_string(),
            _ => display.clone(),
        };
        let row = Row {
            id,
            display_id: display,
            status: if change {
                "Requested".into()
            } else {
                "Open".into()
            },
            stage: change.then(|| "Submission".to_owned()),
            created: 1_700_000_000_000 + self.next * 1000,
            updated: self.now(),
            ..Row::default()
        };
        let rows = self.rows_mut(change);
        rows.push(row);
        rows.last_mut().expect("just pushed")
    }
}

/// Options for an [`SdpMock`]; see [`SdpMock::builder`].
#[derive(Debug, Clone)]
pub struct SdpMockBuilder {
    deployment: Deployment,
    proxy: bool,
    technicians: bool,
}

impl SdpMockBuilder {
    /// The deployment kind (default on-premises).
    pub fn deployment(mut self, d: Deployment) -> Self {
        self.deployment = d;
        self
    }

    /// Puts a [`FaultProxy`] in front (default off), so dropped connections reach the client.
    pub fn with_proxy(mut self, proxy: bool) -> Self {
        self.proxy = proxy;
        self
    }

    /// Makes technicians the accounts (default requesters): the settings say
    /// `accounts = "technician"`, and the conformance backend counts technicians and
    /// their support groups and roles.
    pub fn technician_accounts(mut self, on: bool) -> Self {
        self.technicians = on;
        self
    }

    /// Starts the server.
    ///
    /// # Panics
    ///
    /// When no loopback port can be bound.
    pub async fn start(self) -> SdpMock {
        let n = fastrand::u64(..);
        let state = Arc::new(Mutex::new(State {
            deployment: self.deployment,
            portal: "itdesk".into(),
            key: format!("SDPKEY-{n:016X}"),
            client_id: "1000.MOCKCLIENT".into(),
            client_secret: format!("zoho-secret-{n:x}"),
            refresh_token: format!("1000.refresh.{n:x}"),
            access_tokens: Vec::new(),
            grant_codes: Vec::new(),
            token_calls: 0,
            accounts: vec!["Acme".into(), "Globex".into()],
            requests: Vec::new(),
            changes: Vec::new(),
            next: 100,
            ignore_filters: false,
            people: Vec::new(),
            technicians: Vec::new(),
            groups: vec![
                ("301".into(), "Network".into()),
                ("302".into(), "Identity and Access".into()),
                ("303".into(), "Service Desk".into()),
            ],
            roles: vec![
                ("401".into(), "SDAdmin".into()),
                ("402".into(), "SDSiteAdmin".into()),
                ("403".into(), "SDChangeManager".into()),
            ],
            technician_accounts: self.technicians,
            inflate_total: 0,
            clock: None,
            next_note: 500,
        }));
        let faults = FaultPlan::new();
        let responder = Responder {
            state: state.clone(),
            faults: faults.clone(),
        };
        let started =
            start_mock(responder, "accesslink-testkit ServiceDesk Plus", self.proxy).await;
        SdpMock {
            server: started.server,
            proxy: started.proxy,
            log: started.log,
            state,
            faults,
        }
    }
}

/// A running ServiceDesk Plus mock; see the [module docs](self).
#[derive(Debug)]
pub struct SdpMock {
    server: MockServer,
    proxy: Option<FaultProxy>,
    log: RequestLog,
    state: Arc<Mutex<State>>,
    faults: FaultPlan,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl SdpMock {
    /// Options for a new mock.
    pub fn builder() -> SdpMockBuilder {
        SdpMockBuilder {
            deployment: Deployment::OnPremises,
            proxy: false,
            technicians: false,
        }
    }

    /// An on-premises mock.
    pub async fn start_on_premises() -> SdpMock {
        Self::builder().start().await
    }

    /// A Cloud mock (portal `itdesk`).
    pub async fn start_cloud() -> SdpMock {
        Self::builder().deployment(Deployment::Cloud).start().await
    }

    /// An MSP mock (accounts `Acme` and `Globex`; settings use `Acme`).
    pub async fn start_msp() -> SdpMock {
        Self::builder().deployment(Deployment::Msp).start().await
    }

    /// The base URL (server root: API, accounts server and consent page at once), the
    /// proxy's when started with one.
    pub fn url(&self) -> String {
        self.proxy
            .as_ref()
            .map_or_else(|| self.server.uri(), FaultProxy::url)
    }

    /// The deployment kind.
    pub fn deployment(&self) -> Deployment {
        self.lock().deployment
    }

    /// The technician key (on-premises, MSP).
    pub fn key(&self) -> String {
        self.lock().key.clone()
    }

    /// The Zoho client secret (Cloud).
    pub fn client_secret(&self) -> String {
        self.lock().client_secret.clone()
    }

    /// The Zoho client id (Cloud).
    pub fn client_id(&self) -> String {
        self.lock().client_id.clone()
    }

    /// The refresh token the token endpoint accepts.
    pub fn refresh_token(&self) -> String {
        self.lock().refresh_token.clone()
    }

    /// Access tokens issued and still valid.
    pub fn access_tokens(&self) -> Vec<String> {
        self.lock().access_tokens.clone()
    }

    /// How many calls the token endpoint answered.
    pub fn token_calls(&self) -> usize {
        self.lock().token_calls
    }

    /// A grant code as if a technician had accepted the consent form (single use).
    pub fn consent_code(&self) -> String {
        let code = format!("1000.grant.{:x}", fastrand::u64(..));
        self.lock().grant_codes.push(code.clone());
        code
    }

    /// Faults applied before the normal logic.
    pub fn faults(&self) -> &FaultPlan {
        &self.faults
    }

    /// Every request the server received, with headers and bodies.
    pub async fn received(&self) -> Vec<ReceivedRequest> {
        ReceivedRequest::all(&self.server).await
    }

    /// Adds a change as a change manager would: stage, status and approval status (`None`:
    /// no approval). Its display id.
    pub fn add_change(
        &self,
        title: &str,
        stage: &str,
        status: &str,
        approval: Option<&str>,
    ) -> String {
        let mut s = self.lock();
        let account = (s.deployment == Deployment::Msp).then(|| "Acme".to_owned());
        let row = s.new_row(true);
        row.title = title.to_owned();
        row.stage = Some(stage.to_owned());
        row.status = status.to_owned();
        row.approval = approval.map(str::to_owned);
        row.account = account;
        row.requester =
            Some(json!({"id": "5", "name": "Jane Doe", "email_id": "jane@example.com"}));
        row.display_id.clone()
    }

    /// Adds a request (in MSP, in `account`); its display id.
    pub fn add_request(&self, subject: &str, account: Option<&str>) -> String {
        let mut s = self.lock();
        let row = s.new_row(false);
        row.title = subject.to_owned();
        row.account = account.map(str::to_owned);
        row.requester = Some(
            json!({"id": "5", "name": "Jane Doe", "email_id": "jane@example.com", "login_name": "jdoe"}),
        );
        row.display_id.clone()
    }

    /// Adds `n` requesters (`user.N@example.com`, login `userN`).
    pub fn add_requesters(&self, n: usize) {
        let mut s = self.lock();
        let account = (s.deployment == Deployment::Msp).then(|| "Acme".to_owned());
        for _ in 0..n {
            let i = s.people.len() + 1;
            s.people.push(Person {
                id: (1000 + i).to_string(),
                name: format!("User {i}"),
                email: Some(format!("user.{i}@example.com")),
                login: Some(format!("user{i}")),
                account: account.clone(),
                ..Person::default()
            });
        }
    }

    /// Adds `n` technicians (`tech.N@example.com`, login `techN`); every third is in
    /// the support group `301` (Network) and has the role `401` (SDAdmin).
    pub fn add_technicians(&self, n: usize) {
        let mut s = self.lock();
        let account = (s.deployment == Deployment::Msp).then(|| "Acme".to_owned());
        for _ in 0..n {
            let i = s.technicians.len() + 1;
            let member = i % 3 == 0;
            s.technicians.push(Person {
                id: (5000 + i).to_string(),
                name: format!("Tech {i}"),
                email: Some(format!("tech.{i}@example.com")),
                login: Some(format!("tech{i}")),
                account: account.clone(),
                groups: if member {
                    vec!["301".into()]
                } else {
                    Vec::new()
                },
                roles: if member {
                    vec!["401".into()]
                } else {
                    Vec::new()
                },
            });
        }
    }

    /// The support group and role ids of a technician by id.
    pub fn technician_memberships(&self, id: &str) -> Option<(Vec<String>, Vec<String>)> {
        self.lock()
            .technicians
            .iter()
            .find(|p| p.id == id)
            .map(|p| (p.groups.clone(), p.roles.clone()))
    }

    /// Sets a request's category by display id (stamps its update time).
    pub fn set_category(&self, display_id: &str, category: &str) -> bool {
        let mut s = self.lock();
        let now = s.now();
        match s.requests.iter_mut().find(|r| r.display_id == display_id) {
            Some(r) => {
                r.category = Some(category.to_owned());
                r.updated = now;
                true
            }
            None => false,
        }
    }

    /// Stops the server's clock at `ms` (epoch milliseconds) or lets it run (`None`).
    pub fn set_clock(&self, ms: Option<u64>) {
        self.lock().clock = ms;
    }

    /// The worklogs of a ticket by display id: their texts.
    pub fn worklogs(&self, change: bool, display_id: &str) -> Vec<String> {
        let s = self.lock();
        s.rows(change)
            .iter()
            .find(|r| r.display_id == display_id)
            .map(|r| r.worklogs.iter().map(|w| w.text.clone()).collect())
            .unwrap_or_default()
    }

    /// How many requesters exist.
    pub fn requester_count(&self) -> usize {
        self.lock().people.len()
    }

    /// Sets a change's approval status by display id (`None`: no approval).
    pub fn set_approval(&self, display_id: &str, approval: Option<&str>) -> bool {
        let mut s = self.lock();
        let now = s.now();
        match s.changes.iter_mut().find(|r| r.display_id == display_id) {
            Some(r) => {
                r.approval = approval.map(str::to_owned);
                r.updated = now;
                true
            }
            None => false,
        }
    }

    /// A request (`change = false`) or change by display id, as `GET` prints it.
    pub fn ticket(&self, change: bool, display_id: &str) -> Option<Value> {
        let s = self.lock();
        s.rows(change)
            .iter()
            .find(|r| r.display_id == display_id)
            .map(|r| routes::row_json(&s, r, change))
    }

    /// The internal id of a request or change by display id.
    pub fn id_of(&self, change: bool, display_id: &str) -> Option<String> {
        let s = self.lock();
        s.rows(change)
            .iter()
            .find(|r| r.display_id == display_id)
            .map(|r| r.id.clone())
    }

    /// How many requests and changes exist.
    pub fn ticket_count(&self) -> usize {
        let s = self.lock();
        s.requests.len() + s.changes.len()
    }

    /// The notes of a ticket by display id: text and whether shown to the requester.
    pub fn notes(&self, change: bool, display_id: &str) -> Vec<(String, bool)> {
        let s = self.lock();
        s.rows(change)
            .iter()
            .find(|r| r.display_id == display_id)
            .map(|r| r.notes.iter().map(|n| (n.text.clone(), n.public)).collect())
            .unwrap_or_default()
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }
}

/// The settings are `target = "sdp"`, `name = "sdp-mock"` and: on-premises,
/// `deployment = {kind = "on_premises", base_url}` with `technician_key`; Cloud,
/// `{kind = "cloud", data_centre = "eu", portal = "itdesk", api_url, accounts_url}` (both
/// the mock) with `zoho_oauth` (client id, secret, refresh token); MSP,
/// `{kind = "msp", base_url, account = "Acme"}` with `technician_key`.
impl Mock for SdpMock {
    fn target(&self) -> &'static str {
        "sdp"
    }

    fn url(&self) -> String {
        SdpMock::url(self)
    }

    fn settings(&self) -> Value {
        let url = SdpMock::url(self);
        let s = self.lock();
        let (deployment, auth) = match s.deployment {
            Deployment::OnPremises => (
                json!({"kind": "on_premises", "base_url": url}),
                json!({"method": "technician_key", "key": s.key}),
            ),
            Deployment::Msp => (
                json!({"kind": "msp", "base_url": url, "account": "Acme"}),
                json!({"method": "technician_key", "key": s.key}),
            ),
            Deployment::Cloud => (
                json!({"kind": "cloud", "data_centre": "eu", "portal": s.portal, "api_url": url, "accounts_url": url}),
                json!({"method": "zoho_oauth", "client_id": s.client_id, "client_secret": s.client_secret, "refresh_token": s.refresh_token}),
            ),
        };
        let mut v =
            json!({"target": "sdp", "name": "sdp-mock", "deployment": deployment, "auth": auth});
        if s.technician_accounts {
            v["accounts"] = json!("technician");
        }
        v
    }

    fn faults(&self) -> &FaultPlan {
        &self.faults
    }

    fn proxy(&self) -> Option<&FaultProxy> {
        self.proxy.as_ref()
    }

    fn request_count(&self) -> usize {
        self.log.len()
    }

    fn request_log(&self) -> Vec<RecordedRequest> {
        self.log.all()
    }

    /// Cloud: drops every access token (the refresh token stays valid). Technician keys
    /// do not expire here.
    fn expire_credentials(&self) {
        self.lock().access_tokens.clear();
    }
}

struct Responder {
    state: Arc<Mutex<State>>,
    faults: FaultPlan,
}

impl Respond for Responder {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let normal = || routes::answer(&mut lock(&self.state), request);
        match self.faults.take(request) {
            Some(action) => action.apply(normal),
            None => normal(),
        }
    }
}
