//! A stateful mock of Jira Cloud, Jira Data Center and Jira Service Management, as
//! `shared/api/servicenow-jira-salesforce-helix.md` §2 describes them.
//!
//! | route | answer |
//! |---|---|
//! | `GET /rest/api/{v}/myself` | the signed-in user |
//! | `GET /rest/api/{v}/issue/{key or id}` | the issue; an old key of a moved issue answers with the new key; 404 `errorMessages` otherwise |
//! | `POST /rest/api/{v}/issue` | 201 `{id,key,self}`; 400 `errors` for a bad project, type, summary, a label with spaces, or rich text of the wrong shape (**a string where v3 wants ADF**, an object where v2 wants a string) |
//! | `PUT /rest/api/{v}/issue/{key}` | `update.labels[].add` → 204 |
//! | `POST /rest/api/{v}/issue/{key}/comment` | 201; body shape checked like descriptions; `sd.public.comment {internal:true}` marks it internal |
//! | `GET /rest/api/{v}/issue/{key}/comment` | `{startAt, maxResults, total, comments}` oldest first; ids, authors, times; `jsdPublic` on Cloud JSM requests; `properties` (`sd.public.comment`) with `expand=properties` |
//! | `GET /rest/api/{v}/issue/createmeta/{project}/issuetypes[/{id}]` | the create screen's issue types (Cloud `issueTypes`, Data Center `values`) and fields (Cloud `fields`, Data Center `values`) with `allowedValues` for priority and issue type |
//! | `GET`/`POST /rest/api/{v}/issue/{key}/transitions` | per-workflow transitions with **different ids** (software: 11/31/41, change: 711/761/771); `expand=transitions.fields` shows whether the screen has `resolution`; setting it where it is not → 400 |
//! | `POST /rest/api/3/search/jql` (Cloud) | `{issues, nextPageToken?, isLast}`, no total, token absent on the last page; `/rest/api/{2,3}/search` → 410 on Cloud |
//! | `POST /rest/api/2/search` (Data Center) | `{startAt, maxResults, total, issues}` |
//! | JQL | `field = v`, `field in (…)`, `AND`, `ORDER BY a ASC, b ASC`; `labels`, `key`, `id`, `project`, `issuetype`, and `updated >= "yyyy/MM/dd HH:mm"` (**minutes only**, read in UTC, the API user's zone here); ordering by `updated` sorts by update time then key; an unknown key in `key in (…)` → 400 as Jira does |
//! | update times | every write (create, label, comment, transition, approval decision, move) stamps `updated` with the server's clock (one second on per write) or the frozen time ([`TicketBackend::freeze_clock`](crate::conformance::TicketBackend::freeze_clock)) |
//! | `POST /rest/servicedeskapi/request` | JSM request in service desk `10` (project `SD`), request types `25` (Change, with a pending approval) and `26` |
//! | `GET /rest/servicedeskapi/request/{key}/approval` | JSM page `{size,start,limit,isLastPage,values}`; 404 for plain issues |
//! | Cloud users | `users/search` (bare array; app and customer accounts included; hidden e-mails absent), `user?accountId=`, `user/search?query=`, `POST`/`DELETE user`, `user/groups` |
//! | Cloud groups | `group/bulk`, `group/member?groupId=`, `POST`/`DELETE group/user?groupId=` |
//! | Data Center users and groups | `user/search?username=.`, `user?username=` (GET/POST/PUT with `active`/DELETE, `expand=groups`), `groups/picker`, `group/member?groupname=`, `group/user?groupname=` |
//! | OAuth (3LO) | `GET /authorize` → 302 with `code` and `state`; `POST /oauth/token` (**JSON body only**) with rotating refresh tokens: a used one → 403 `invalid_grant`; `GET /oauth/token/accessible-resources`; the API under `/ex/jira/{cloudid}/…` with the access token |
//!
//! Auth is checked on every API call (Basic, Bearer PAT, or OAuth access token); a bad one
//! is 401 with `X-Seraph-LoginReason: AUTHENTICATED_FAILED`. Requests pass the
//! [`FaultPlan`] first; a queued [`Fault::TooManyRequests`] is Jira's 429 (`Retry-After`,
//! `X-RateLimit-Reset` as an ISO time, `RateLimit-Reason: jira-cost-based`), and
//! [`JiraMock::throttle_every`] throttles every n-th request the way cost-based limits do.

mod backend;
mod jql;
mod mock;
mod people;
mod routes;
mod state;
#[cfg(test)]
mod tests;

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use serde_json::{Value, json};
use wiremock::{MockServer, Request, Respond, ResponseTemplate};

use self::routes::Call;
pub use self::state::{AuthMode, Mode};
use self::state::{State, StoredApproval};
use crate::counter::RouteCounter;
pub use crate::exchange::Exchange;
use crate::fault::{Fault, FaultAction, FaultPlan, RetryAfter};
use crate::mock::{ReceivedRequest, RequestLog};
use crate::proxy::FaultProxy;
use crate::server::start_mock;

/// Options for a [`JiraMock`]; see [`JiraMock::builder`].
#[derive(Debug, Clone)]
pub struct JiraMockBuilder {
    mode: Mode,
    auth: Option<AuthMode>,
    proxy: bool,
    users: usize,
}

impl JiraMockBuilder {
    /// Cloud (default) or Data Center.
    pub fn mode(mut self, mode: Mode) -> Self {
        self.mode = mode;
        self
    }

    /// The auth the mock takes (default Basic on Cloud, Bearer on Data Center).
    pub fn auth(mut self, auth: AuthMode) -> Self {
        self.auth = Some(auth);
        self
    }

    /// Puts a [`FaultProxy`] in front (default off), so dropped connections reach the client.
    pub fn with_proxy(mut self, proxy: bool) -> Self {
        self.proxy = proxy;
        self
    }

    /// Adds `n` generated users (`user.N@example.com`, every 7th an app account, every
    /// 11th with a hidden e-mail) besides the four seeded ones.
    pub fn users(mut self, n: usize) -> Self {
        self.users = n;
        self
    }

    /// Starts the server.
    ///
    /// # Panics
    ///
    /// When no loopback port can be bound.
    pub async fn start(self) -> JiraMock {
        let auth = self.auth.unwrap_or(match self.mode {
            Mode::Cloud => AuthMode::Basic,
            Mode::DataCenter => AuthMode::Bearer,
        });
        let mut s = State::new(self.mode, auth);
        for n in 0..self.users {
            let email = format!("user.{n}@example.com");
            let ty = if n % 7 == 6 { "app" } else { "atlassian" };
            s.add_user(&format!("User {n}"), Some(&email), ty, n % 11 == 10);
        }
        let state = Arc::new(Mutex::new(s));
        let faults = FaultPlan::new();
        let counter = RouteCounter::new();
        let exchanges = Arc::new(Mutex::new(None));
        let responder = Responder {
            state: state.clone(),
            faults: faults.clone(),
            counter: counter.clone(),
            exchanges: Arc::clone(&exchanges),
        };
        let started = start_mock(responder, "accesslink-testkit Jira", self.proxy).await;
        let mock = JiraMock {
            server: started.server,
            proxy: started.proxy,
            log: started.log,
            state,
            faults,
            counter,
            exchanges,
        };
        let url = mock.url();
        mock.lock().site_url = url;
        mock
    }
}

/// A running Jira mock; see the [module docs](self).
#[derive(Debug)]
pub struct JiraMock {
    server: MockServer,
    proxy: Option<FaultProxy>,
    log: RequestLog,
    state: Arc<Mutex<State>>,
    faults: FaultPlan,
    counter: RouteCounter,
    /// `Some` once [`JiraMock::record_exchanges`] was called.
    exchanges: Arc<Mutex<Option<Vec<Exchange>>>>,
}

impl JiraMock {
    /// From now on, log every request with the status and JSON body of its answer, for
    /// contract tests (off by default).
    pub fn record_exchanges(&self) {
        lock(&self.exchanges).get_or_insert_with(Vec::new);
    }

    /// The requests logged since [`record_exchanges`](Self::record_exchanges), with the
    /// answers. An answer a queued fault replaced has no status or body.
    pub fn exchanges(&self) -> Vec<Exchange> {
        lock(&self.exchanges).clone().unwrap_or_default()
    }

    /// Options for a new mock.
    pub fn builder() -> JiraMockBuilder {
        JiraMockBuilder {
            mode: Mode::Cloud,
            auth: None,
            proxy: false,
            users: 0,
        }
    }

    /// A Cloud mock taking Basic auth.
    pub async fn start_cloud() -> JiraMock {
        Self::builder().start().await
    }

    /// A Data Center mock taking a Bearer personal access token.
    pub async fn start_data_center() -> JiraMock {
        Self::builder().mode(Mode::DataCenter).start().await
    }

    /// The base URL (site, authorization server and API gateway at once): the proxy's
    /// when started with one.
    pub fn url(&self) -> String {
        self.proxy
            .as_ref()
            .map_or_else(|| self.server.uri(), FaultProxy::url)
    }

    /// Cloud or Data Center.
    pub fn mode(&self) -> Mode {
        self.lock().mode
    }

    /// The Basic user (an e-mail on Cloud).
    pub fn user(&self) -> String {
        self.lock().user.clone()
    }

    /// The API token, password or personal access token the mock accepts.
    pub fn secret(&self) -> String {
        self.lock().secret.clone()
    }

    /// The OAuth client id.
    pub fn client_id(&self) -> String {
        self.lock().client_id.clone()
    }

    /// The OAuth client secret.
    pub fn client_secret(&self) -> String {
        self.lock().client_secret.clone()
    }

    /// The refresh token valid now (each renewal replaces it).
    pub fn refresh_token(&self) -> String {
        self.lock().refresh_token.clone()
    }

    /// Refresh tokens used up by renewals (reusing one gets 403 `invalid_grant`).
    pub fn used_refresh_tokens(&self) -> Vec<String> {
        self.lock().used_refresh_tokens.clone()
    }

    /// How many refresh-token renewals the token endpoint answered.
    pub fn rotations(&self) -> usize {
        self.lock().rotations
    }

    /// The site's cloud id.
    pub fn cloud_id(&self) -> String {
        self.lock().cloud_id.clone()
    }

    /// Faults applied before the normal logic.
    pub fn faults(&self) -> &FaultPlan {
        &self.faults
    }

    /// Throttles the next `n` requests with Jira's 429; `retry_after` seconds, or only
    /// `X-RateLimit-Reset` (an ISO time one second ahead) when `None`.
    pub fn throttle_next(&self, n: usize, retry_after: Option<u64>) {
        self.faults.push(
            Fault::TooManyRequests {
                retry_after: retry_after.map(RetryAfter::Seconds),
            },
            n,
        );
    }

    /// Throttles every `n`-th API request (cost-based limits), `None` to stop.
    pub fn throttle_every(&self, n: Option<usize>) {
        self.lock().throttle_every = n.filter(|n| *n > 0);
    }

    /// Requests counted by method and route template.
    pub fn counter(&self) -> &RouteCounter {
        &self.counter
    }

    /// How many requests had this method and route template (`"POST", "/rest/api/3/search/jql"`).
    pub fn count(&self, method: &str, route: &str) -> usize {
        self.counter.count(method, route)
    }

    /// Every request the server received, with headers and bodies.
    pub async fn received(&self) -> Vec<ReceivedRequest> {
        ReceivedRequest::all(&self.server).await
    }

    /// Adds an issue as an agent would; its key.
    pub fn add_issue(
        &self,
        project: &str,
        issue_type: &str,
        summary: &str,
        labels: &[&str],
    ) -> String {
        let mut s = self.lock();
        if !s.projects.iter().any(|(p, _)| p == project) {
            s.projects.push((project.to_owned(), 0));
        }
        let i = s.new_issue(project, issue_type);
        let description = match s.mode {
            Mode::Cloud => crate::jira::adf_text("seeded by the mock"),
            Mode::DataCenter => json!("seeded by the mock"),
        };
        let row = &mut s.issues[i];
        row.summary = summary.to_owned();
        row.description = description;
        row.labels = labels.iter().map(|l| (*l).to_owned()).collect();
        row.key.clone()
    }

    /// Adds a JSM request in service desk 10 (project `SD`) with a reporter (a user id)
    /// and approvals with these final decisions; its key.
    pub fn add_jsm_request(
        &self,
        issue_type: &str,
        summary: &str,
        reporter: &str,
        decisions: &[&str],
    ) -> String {
        let key = self.add_issue("SD", issue_type, summary, &[]);
        let mut s = self.lock();
        let reporter = s.user_index(reporter);
        let i = s.issue_index(&key).expect("just added");
        s.issues[i].reporter = reporter;
        s.issues[i].approvals = Some(
            decisions
                .iter()
                .enumerate()
                .map(|(n, d)| StoredApproval {
                    id: (n + 1).to_string(),
                    name: format!("Approval {}", n + 1),
                    decision: (*d).to_owned(),
                })
                .collect(),
        );
        key
    }

    /// Sets the final decision of approval `index` (0-based) of a request.
    pub fn decide_approval(&self, key: &str, index: usize, decision: &str) -> bool {
        let mut s = self.lock();
        let Some(i) = s.issue_index(key) else {
            return false;
        };
        match s.issues[i]
            .approvals
            .as_mut()
            .and_then(|a| a.get_mut(index))
        {
            Some(a) => {
                a.decision = decision.to_owned();
                s.touch(i);
                true
            }
            None => false,
        }
    }

    /// Moves an issue to another project: it gets a new key; the old one still resolves.
    pub fn move_issue(&self, key: &str, project: &str) -> Option<String> {
        let mut s = self.lock();
        let i = s.issue_index(key)?;
        let n = match s.projects.iter_mut().find(|(p, _)| p == project) {
            Some(p) => {
                p.1 += 1;
                p.1
            }
            None => {
                s.projects.push((project.to_owned(), 1));
                1
            }
        };
        let new_key = format!("{project}-{n}");
        let row = &mut s.issues[i];
        let old = std::mem::replace(&mut row.key, new_key.clone());
        row.previous_keys.push(old);
        row.project = project.to_owned();
        s.touch(i);
        Some(new_key)
    }

    /// Adds a public comment as a person (a user id) would in Jira's UI; the comment id.
    pub fn add_comment_by(&self, key: &str, author: &str, text: &str) -> Option<String> {
        let mut s = self.lock();
        let i = s.issue_index(key)?;
        let author = s.user_index(author);
        let body = match s.mode {
            Mode::Cloud => adf_text(text),
            Mode::DataCenter => json!(text),
        };
        Some(s.push_comment(i, body, false, author).to_string())
    }

    /// Stops the server's clock at `at` (ms since the epoch): every write stamps it.
    pub fn freeze_clock_ms(&self, at: Option<u64>) {
        self.lock().frozen_ms = at;
    }

    /// An issue as `GET /issue/{key}` prints it.
    pub fn issue(&self, key: &str) -> Option<Value> {
        let s = self.lock();
        s.issue_index(key).map(|i| s.issue_json(&s.issues[i]))
    }

    /// How many issues exist.
    pub fn issue_count(&self) -> usize {
        self.lock().issues.len()
    }

    /// The comments of an issue as stored: body as sent and whether internal.
    pub fn comments(&self, key: &str) -> Vec<(Value, bool)> {
        let s = self.lock();
        s.issue_index(key)
            .map(|i| {
                s.issues[i]
                    .comments
                    .iter()
                    .map(|c| (c.body.clone(), c.internal))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Adds a user (`ty`: `atlassian`, `app`, `customer`); its id (account id on Cloud,
    /// name on Data Center).
    pub fn add_user(
        &self,
        display: &str,
        email: Option<&str>,
        ty: &str,
        email_hidden: bool,
    ) -> String {
        self.lock().add_user(display, email, ty, email_hidden)
    }

    /// Whether a user (id) is active, `None` when unknown.
    pub fn user_active(&self, id: &str) -> Option<bool> {
        let s = self.lock();
        s.user_index(id)
            .and_then(|i| s.users[i].as_ref())
            .map(|u| u.active)
    }

    /// The ids of every user (account ids on Cloud, names on Data Center), in order.
    pub fn user_ids(&self) -> Vec<String> {
        let s = self.lock();
        s.users.iter().flatten().map(|u| s.user_id(u)).collect()
    }

    /// How many users exist, of every type.
    pub fn user_count(&self) -> usize {
        self.lock().users.iter().flatten().count()
    }

    /// Adds a group; its id (Cloud) or name (Data Center).
    pub fn add_group(&self, name: &str) -> String {
        people::add_group(&mut self.lock(), name)
    }

    /// Adds a member (user id) to a group (id or name).
    pub fn add_member(&self, group: &str, user: &str) -> bool {
        let mut s = self.lock();
        match s
            .groups
            .iter_mut()
            .find(|g| g.id == group || g.name == group)
        {
            Some(g) if !g.members.iter().any(|m| m == user) => {
                g.members.push(user.to_owned());
                true
            }
            _ => false,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }
}

/// The "Customer Request Type" custom field JSM requests carry (`{"requestType":{"id":…}}`).
pub const REQUEST_TYPE_FIELD: &str = "customfield_10010";

/// The issue types of the mock's create screens: id and name.
pub(crate) const ISSUE_TYPES: &[(&str, &str)] = &[
    ("10001", "Task"),
    ("10002", "Incident"),
    ("10003", "Change"),
    ("10004", "Problem"),
    ("10005", "Service Request"),
];

/// The fields of every create screen, as createmeta lists them.
pub(crate) fn create_fields() -> Vec<Value> {
    let user = "user";
    let types: Vec<Value> = ISSUE_TYPES
        .iter()
        .map(|(id, name)| json!({"id": id, "name": name}))
        .collect();
    vec![
        json!({"fieldId": "project", "key": "project", "name": "Project", "required": true, "schema": {"type": "project", "system": "project"}, "operations": ["set"]}),
        json!({"fieldId": "issuetype", "key": "issuetype", "name": "Issue Type", "required": true, "schema": {"type": "issuetype", "system": "issuetype"}, "operations": [], "allowedValues": types}),
        json!({"fieldId": "summary", "key": "summary", "name": "Summary", "required": true, "schema": {"type": "string", "system": "summary"}, "operations": ["set"]}),
        json!({"fieldId": "description", "key": "description", "name": "Description", "required": false, "schema": {"type": "string", "system": "description"}, "operations": ["set"]}),
        json!({"fieldId": "labels", "key": "labels", "name": "Labels", "required": false, "schema": {"type": "array", "items": "string", "system": "labels"}, "operations": ["add", "set", "remove"]}),
        json!({"fieldId": "priority", "key": "priority", "name": "Priority", "required": false, "schema": {"type": "priority", "system": "priority"}, "operations": ["set"],
               "allowedValues": [{"id": "1", "name": "Highest"}, {"id": "2", "name": "High"}, {"id": "3", "name": "Medium"}, {"id": "4", "name": "Low"}, {"id": "5", "name": "Lowest"}]}),
        json!({"fieldId": "assignee", "key": "assignee", "name": "Assignee", "required": false, "schema": {"type": user, "system": "assignee"}, "operations": ["set"]}),
        json!({"fieldId": "reporter", "key": "reporter", "name": "Reporter", "required": true, "schema": {"type": user, "system": "reporter"}, "operations": ["set"]}),
        json!({"fieldId": "duedate", "key": "duedate", "name": "Due date", "required": false, "schema": {"type": "date", "system": "duedate"}, "operations": ["set"]}),
        json!({"fieldId": "customfield_10050", "key": "customfield_10050", "name": "Correlation ID", "required": false, "schema": {"type": "string", "custom": "com.atlassian.jira.plugin.system.customfieldtypes:textfield", "customId": 10050}, "operations": ["set"]}),
    ]
}

/// An ADF document with one paragraph.
pub(crate) fn adf_text(text: &str) -> Value {
    json!({"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [{"type": "text", "text": text}]}]})
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
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
        let cloud_id = lock(&self.state).cloud_id.clone();
        let call = Call::parse(request, &cloud_id);
        self.counter.record(request.method.as_str(), &call.label());
        let normal = || {
            let mut state = lock(&self.state);
            if let Some(r) = routes::oauth(&mut state, &call) {
                return r;
            }
            state.served += 1;
            if let Some(n) = state.throttle_every {
                if state.served % n == 0 {
                    return routes::throttled(&state, Some(1), 1);
                }
            }
            if let Some(denied) = routes::authorize(&state, &call) {
                return denied;
            }
            routes::answer(&mut state, &call)
        };
        match self.faults.take(request) {
            Some(FaultAction::Replace(Fault::TooManyRequests { retry_after })) => {
                let secs = match retry_after {
                    Some(RetryAfter::Seconds(s)) => Some(s),
                    Some(_) => Some(1),
                    None => None,
                };
                routes::throttled(&lock(&self.state), secs, 1)
            }
            Some(FaultAction::Replace(Fault::Status { status, body: None })) => {
                let reason = http::StatusCode::from_u16(status)
                    .ok()
                    .and_then(|s| s.canonical_reason())
                    .unwrap_or("Error");
                routes::error(status, &[reason], json!({}))
            }
            Some(action) => action.apply(normal),
            None => normal(),
        }
    }
}
