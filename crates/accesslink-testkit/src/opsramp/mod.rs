//! A stateful OpsRamp v2 API (tenancy and access controls), after
//! `shared/api/opsramp-opsgenie.md` section 1.
//!
//! | route | answer |
//! |---|---|
//! | `POST /auth/oauth/token`, `POST /tenancy/auth/oauth/token` (form: `grant_type=client_credentials`, `client_id`, `client_secret`) | `{"access_token","token_type":"bearer","expires_in":"7199","scope"}`; `400 unsupported_grant_type`, `401 unauthorized` |
//! | `GET /api/v2/tenants/{t}/users/search` | paged envelope; `queryString` filters `uniqueId`, `loginName`, `firstName`, `lastName`, `mailId`, `status` |
//! | `GET …/users/minimal`, `GET …/users/{id}` | bare array; full user or `404` |
//! | `POST …/users`, `POST …/users/{id}` | create (duplicate login: `400`), update (lists replace) |
//! | `POST …/users/{id}/{ACTIVATE,DEACTIVATE,TERMINATE}` | status change; `deactivateReason` kept; TERMINATE removes |
//! | `GET …/roles/search`, `GET/POST/DELETE …/roles[/{id}]` | roles; a role update's `users` are added |
//! | `GET …/userGroups`, `GET/POST/DELETE …/userGroups[/{id}]` | groups (the list is paged) |
//! | `GET/POST/DELETE …/userGroups/{id}/users` | members (paged); add / remove `[{"id"}]`, the DELETE with a body |
//! | `POST …/incidents`, `…/serviceRequests` | create (`subject` required, `extTicketId` kept); ids `INC…`, `SRQ…` |
//! | `GET …/{incidents,serviceRequests}/{id}`, `POST …/{id}` | get (with `allowedStatus`); update incl. `status` + `reason` |
//! | `POST …/{id}/close` (`{"reason","notes"}`), `POST …/{id}/responses` (`{"description","internal","extTicketResponseId"}`) | close; add a response (the ext id is stored and listed) |
//! | `GET …/{incidents,serviceRequests}/search` | `queryString` on `extTicketId`, `status`, `priority`, `subject`, `uniqueId`, creation window |
//!
//! What a client must survive is all there:
//! - every API call needs `Authorization: Bearer`; an expired token is answered `407`
//!   (OpsRamp's "token expired"), a missing or unknown one `401`, both as
//!   `{"error":"invalid_token","error_description"}`; [`OpsRampMock::expire_tokens`]
//!   expires every token issued so far, as an import running past the lifetime sees;
//! - `expires_in` is a string by default ([`OpsRampMockBuilder::expires_in_as_number`]);
//! - unknown tenants are `410`; `PUT` and `PATCH` are `405`; errors are
//!   `{"code","message"}`;
//! - paging is `pageNo` (1-based) and `pageSize` (default 100, at most 1000), sorted by id,
//!   **descending unless `isDescendingOrder=false`**, with `nextPage` and (users and
//!   members only) `nextPageNo`; a page past the end is empty;
//! - `queryString` pairs are split on `+`: a literal `+` decodes to a space and splits
//!   nothing, so clients must send `%2B`;
//! - per tenant and method class, requests are counted in fixed windows
//!   ([`RateLimits`], the documented client-scope limits by default) once auth, tenant
//!   and method pass: those answers carry `X-RateLimit-Limit`, `-Remaining` and `-Reset`
//!   (epoch seconds), and one over
//!   the limit gets `429 {"error":"throttled","error_description":"Too Many Requests"}`
//!   with no `Retry-After`;
//! - tickets follow a status flow (New, Open, Pending, On Hold, Resolved, Closed; out of
//!   Closed only a reopen): `Resolved` and `Closed` have `reasonsEnabled` and take only a
//!   configured reason (Resolved: `Fixed`, `Workaround provided`; Closed: `Completed`,
//!   `Cancelled`, `Duplicate`), a free-text reason is `400`; a response to a `Pending`
//!   ticket reopens it; a search without both `startCreationDate` and `endCreationDate`
//!   covers only the last 30 days ([`OpsRampMock::backdate_ticket`] tests that);
//! - roles and groups in user bodies are named BY NAME (`uniqueId`, and for roles the
//!   integer `id`, are accepted too); the password rule is checked when one is sent;
//!   `userAccountType` (`REGULAR`, `BUSINESS`) and `userGroupType` (`ALL`, `NONE`) take
//!   only the spec's values, anything else is `400 {"code","message"}`;
//! - users print their roles as the spec's user examples do, `{"id": <integer>, "name"}`
//!   (`roles/search` lists `uniqueId`s only, so clients map these by name), their groups
//!   as `{uniqueId, name}`; a group without an email has no `email` field (it is
//!   `format: email` in the spec, and its search example leaves it out), and a group
//!   email that is not one is `400`;
//! - [`OpsRampMock::record_exchanges`] logs each request with the status and JSON body of
//!   its answer, for contract tests ([`OpsRampMock::exchanges`]).
//!
//! Assumptions where the fact sheet says UNVERIFIED: user search results carry `roles`
//! and `userGroups` as the seed's account-to-entitlement mapping reads them; lists sent in a user update replace the old ones; TERMINATE removes the user
//! from reads and searches; adding a member twice or removing a non-member succeeds.
//!
//! Every request is counted in [`OpsRampMock::counter`] under its route template
//! (`token`, `users/search`, `users/{id}`, `users/{id}/{action}`, `roles/search`,
//! `userGroups/{id}/users`, `incidents/{id}/close`, …) and passes the [`FaultPlan`] first.

// Handlers return `Result<_, ResponseTemplate>` so an error answer is one `?` away; the
// template is large, but it is built once per request of a test server.
#![allow(clippy::result_large_err)]

mod backend;
mod groups;
mod limits;
mod mock;
mod routes;
mod state;
#[cfg(test)]
mod tests;
mod tickets;
mod users;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use serde_json::{Map, Value};
use wiremock::{MockServer, Request, Respond, ResponseTemplate};

pub use self::limits::{RateClass, RateLimits};
use self::limits::{Tokens, Windows};
use self::state::{SEED_TIME, Status, Tenant, UserRec, user_number};
use crate::counter::RouteCounter;
pub use crate::exchange::Exchange;
use crate::fault::FaultPlan;
use crate::mock::{ReceivedRequest, RequestLog};
use crate::proxy::FaultProxy;
use crate::server::start_mock;

/// Roles every tenant starts with; generated users hold them in turn.
const SEED_ROLES: [&str; 3] = ["Client Administrator", "Client User", "Network Admin"];
/// User groups every tenant starts with; every third generated user is in one.
const SEED_GROUPS: [&str; 2] = ["Implementation Team", "Ops"];

pub(crate) struct MockState {
    pub(crate) tenants: BTreeMap<String, Tenant>,
    pub(crate) tokens: Tokens,
    pub(crate) windows: Windows,
    pub(crate) token_requests: usize,
    pub(crate) auth_rejections: usize,
    pub(crate) client_id: String,
    pub(crate) client_secret: String,
    pub(crate) token_ttl: Duration,
    pub(crate) expires_in_as_string: bool,
    /// Whether answers are logged in `exchanges`.
    pub(crate) recording: bool,
    pub(crate) exchanges: Vec<Exchange>,
}

/// The state, shared between the mock handle and its responder.
#[derive(Clone)]
pub(crate) struct Shared(Arc<Mutex<MockState>>);

impl Shared {
    pub(crate) fn lock(&self) -> MutexGuard<'_, MockState> {
        // A test that panicked holding the lock must not hide the state from the next.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Options for an [`OpsRampMock`]; see [`OpsRampMock::builder`].
#[derive(Debug, Clone)]
pub struct OpsRampMockBuilder {
    tenant: String,
    other_tenants: Vec<String>,
    generated: usize,
    seed: u64,
    token_ttl: Duration,
    expires_in_as_string: bool,
    limits: RateLimits,
    proxy: bool,
}

impl OpsRampMockBuilder {
    /// The tenant generated users live in (default `client_7`).
    pub fn tenant(mut self, id: &str) -> Self {
        id.clone_into(&mut self.tenant);
        self
    }

    /// Another tenant, with the seed roles and groups but no users.
    pub fn other_tenant(mut self, id: &str) -> Self {
        self.other_tenants.push(id.to_owned());
        self
    }

    /// `count` users computed on demand from [`crate::data::SyntheticPeople`]
    /// (`USR0000000001` …), each holding one seed role, every third one in a seed group,
    /// every 17th inactive. Nothing is stored until written.
    pub fn generated_users(mut self, count: usize) -> Self {
        self.generated = count;
        self
    }

    /// Seed of the generated names and ids (default 0).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Lifetime of access tokens (default 7200 s; `expires_in` says one second less).
    pub fn token_ttl(mut self, ttl: Duration) -> Self {
        self.token_ttl = ttl;
        self
    }

    /// Send `expires_in` as a JSON number, as OpsRamp's own Go client expects.
    pub fn expires_in_as_number(mut self) -> Self {
        self.expires_in_as_string = false;
        self
    }

    /// The rate limits (default [`RateLimits::client`]).
    pub fn rate_limits(mut self, limits: RateLimits) -> Self {
        self.limits = limits;
        self
    }

    /// Put a [`FaultProxy`] in front of the server (default off).
    pub fn with_proxy(mut self, proxy: bool) -> Self {
        self.proxy = proxy;
        self
    }

    /// Starts the server.
    ///
    /// # Panics
    ///
    /// When no loopback port can be bound, like [`MockServer::start`].
    pub async fn start(self) -> OpsRampMock {
        let secret_part = |n: usize| -> String {
            std::iter::repeat_with(fastrand::alphanumeric)
                .take(n)
                .collect()
        };
        let mut tenants = BTreeMap::new();
        let mut main = Tenant::new(&self.tenant, self.generated, self.seed);
        seed_tenant(&mut main, true);
        tenants.insert(self.tenant.clone(), main);
        for (i, id) in self.other_tenants.iter().enumerate() {
            let mut t = Tenant::new(id, 0, self.seed ^ (i as u64 + 1));
            seed_tenant(&mut t, false);
            tenants.insert(id.clone(), t);
        }
        let shared = Shared(Arc::new(Mutex::new(MockState {
            tenants,
            tokens: Tokens::default(),
            windows: Windows::new(self.limits),
            token_requests: 0,
            auth_rejections: 0,
            client_id: format!("key{}", secret_part(28)),
            client_secret: format!("secret{}", secret_part(32)),
            token_ttl: self.token_ttl,
            expires_in_as_string: self.expires_in_as_string,
            recording: false,
            exchanges: Vec::new(),
        })));
        let faults = FaultPlan::new();
        let counter = RouteCounter::new();
        let responder = Responder {
            shared: shared.clone(),
            faults: faults.clone(),
            counter: counter.clone(),
        };
        let started = start_mock(responder, "accesslink-testkit OpsRamp v2", self.proxy).await;
        OpsRampMock {
            server: started.server,
            proxy: started.proxy,
            log: started.log,
            shared,
            faults,
            counter,
            tenant: self.tenant,
        }
    }
}

fn seed_tenant(t: &mut Tenant, for_generated: bool) {
    for name in SEED_ROLES {
        t.add_role(name, &format!("{name} (seeded)"), for_generated);
    }
    for name in SEED_GROUPS {
        t.add_group(name, &format!("{name} (seeded)"), for_generated);
    }
}

/// A running OpsRamp mock; see the [module docs](self).
pub struct OpsRampMock {
    server: MockServer,
    proxy: Option<FaultProxy>,
    log: RequestLog,
    shared: Shared,
    faults: FaultPlan,
    counter: RouteCounter,
    tenant: String,
}

impl std::fmt::Debug for OpsRampMock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpsRampMock")
            .field("url", &self.url())
            .field("tenant", &self.tenant)
            .field("client_secret", &"[redacted]")
            .finish_non_exhaustive()
    }
}

impl OpsRampMock {
    /// Tenant `client_7` with the seed roles and groups, no users, documented limits.
    pub async fn start() -> OpsRampMock {
        Self::builder().start().await
    }

    /// Options for a new mock.
    pub fn builder() -> OpsRampMockBuilder {
        OpsRampMockBuilder {
            tenant: "client_7".into(),
            other_tenants: Vec::new(),
            generated: 0,
            seed: 0,
            token_ttl: Duration::from_secs(7200),
            expires_in_as_string: true,
            limits: RateLimits::client(),
            proxy: false,
        }
    }

    /// The API host (`https://api.opsramp.com` on the real service): the proxy's when
    /// started with one.
    pub fn url(&self) -> String {
        self.proxy
            .as_ref()
            .map_or_else(|| self.server.uri(), FaultProxy::url)
    }

    /// The tenant generated users live in.
    pub fn tenant(&self) -> &str {
        &self.tenant
    }

    /// The integration's key (`client_id`).
    pub fn client_id(&self) -> String {
        self.shared.lock().client_id.clone()
    }

    /// The integration's secret (`client_secret`).
    pub fn client_secret(&self) -> String {
        self.shared.lock().client_secret.clone()
    }

    /// The proxy in front of the server, when started with one.
    pub fn proxy(&self) -> Option<&FaultProxy> {
        self.proxy.as_ref()
    }

    /// Faults applied before the normal logic.
    pub fn faults(&self) -> &FaultPlan {
        &self.faults
    }

    /// Requests counted by method and route template (see the [module docs](self)).
    pub fn counter(&self) -> &RouteCounter {
        &self.counter
    }

    /// How many requests went to this route template, whatever their method.
    pub fn count(&self, label: &str) -> usize {
        self.counter.count_path(label)
    }

    /// Every request the server received, in order.
    pub async fn received(&self) -> Vec<ReceivedRequest> {
        ReceivedRequest::all(&self.server).await
    }

    /// From now on, log every request with the status and JSON body of its answer (off
    /// by default: a 100k-user import would keep every page).
    pub fn record_exchanges(&self) {
        self.shared.lock().recording = true;
    }

    /// The requests logged since [`record_exchanges`](Self::record_exchanges), with the
    /// answers, in order. An answer a queued fault replaced has no status or body.
    pub fn exchanges(&self) -> Vec<Exchange> {
        self.shared.lock().exchanges.clone()
    }

    /// How many token requests arrived (refused ones included).
    pub fn token_requests(&self) -> usize {
        self.shared.lock().token_requests
    }

    /// How many tokens were issued.
    pub fn tokens_issued(&self) -> usize {
        self.shared.lock().tokens.issued
    }

    /// How many API calls were refused with 401 or 407.
    pub fn auth_rejections(&self) -> usize {
        self.shared.lock().auth_rejections
    }

    /// Expires every token issued so far: the next call with one gets `407`.
    pub fn expire_tokens(&self) {
        self.shared.lock().tokens.expire_all();
    }

    /// How many requests were refused with 429.
    pub fn throttled(&self) -> usize {
        self.shared.lock().windows.throttled
    }

    /// Changes the rate limits (counts start over).
    pub fn set_rate_limits(&self, limits: RateLimits) {
        self.shared.lock().windows.set_limits(limits);
    }

    fn with_tenant<R>(&self, f: impl FnOnce(&mut Tenant) -> R) -> R {
        let mut s = self.shared.lock();
        f(s.tenants.get_mut(&self.tenant).expect("the main tenant"))
    }

    /// The `uniqueId` of the role with this name.
    pub fn role_id(&self, name: &str) -> Option<String> {
        self.with_tenant(|t| t.role_by_name(name))
    }

    /// The `uniqueId` of the user group with this name.
    pub fn group_id(&self, name: &str) -> Option<String> {
        self.with_tenant(|t| t.group_by_name(name))
    }

    /// Every role `uniqueId`, in id order.
    pub fn role_ids(&self) -> Vec<String> {
        self.with_tenant(|t| t.roles.keys().cloned().collect())
    }

    /// Every user group `uniqueId`, in id order.
    pub fn group_ids(&self) -> Vec<String> {
        self.with_tenant(|t| t.groups.keys().cloned().collect())
    }

    /// Adds a role; its `uniqueId`.
    pub fn add_role(&self, name: &str) -> String {
        self.with_tenant(|t| t.add_role(name, "", false))
    }

    /// Adds a user group; its `uniqueId`.
    pub fn add_group(&self, name: &str) -> String {
        self.with_tenant(|t| t.add_group(name, "", false))
    }

    /// Adds an active user without roles or groups; its id.
    pub fn add_user(&self, login: &str, first: &str, last: &str, email: &str) -> String {
        self.with_tenant(|t| {
            let n = t.insert_user(UserRec {
                number: 0,
                login: login.to_owned(),
                first: first.to_owned(),
                last: last.to_owned(),
                email: email.to_owned(),
                status: Status::Active,
                roles: Default::default(),
                groups: Default::default(),
                extra: Map::new(),
                created: SEED_TIME.to_owned(),
                updated: SEED_TIME.to_owned(),
                deactivate_reason: None,
            });
            state::user_id(n)
        })
    }

    /// The user as `GET users/{id}` prints it.
    pub fn user(&self, id: &str) -> Option<Value> {
        self.with_tenant(|t| t.user_by_id(id).map(|u| t.user_full(&u)))
    }

    /// The user with this login (any case), as `GET users/{id}` prints it.
    pub fn user_by_login(&self, login: &str) -> Option<Value> {
        self.with_tenant(|t| t.user_by_login(login).map(|u| t.user_full(&u)))
    }

    /// How many live users the main tenant holds.
    pub fn user_count(&self) -> usize {
        self.with_tenant(|t| t.user_count())
    }

    /// How many live users have this login (any case): more than one would be a
    /// duplicate create.
    pub fn users_with_login(&self, login: &str) -> usize {
        self.with_tenant(|t| {
            t.users()
                .filter(|u| u.login.eq_ignore_ascii_case(login))
                .count()
        })
    }

    /// The role `uniqueId`s a user holds.
    pub fn user_roles(&self, id: &str) -> Vec<String> {
        self.with_tenant(|t| {
            t.user_by_id(id)
                .map(|u| u.roles.into_iter().collect())
                .unwrap_or_default()
        })
    }

    /// The user group `uniqueId`s a user is in.
    pub fn user_groups(&self, id: &str) -> Vec<String> {
        self.with_tenant(|t| {
            t.user_by_id(id)
                .map(|u| u.groups.into_iter().collect())
                .unwrap_or_default()
        })
    }

    /// `active` or `inactive`; `None` when there is no such live user.
    pub fn user_status(&self, id: &str) -> Option<&'static str> {
        self.with_tenant(|t| t.user_by_id(id).map(|u| u.status.as_str()))
    }

    /// The `deactivateReason` of the last DEACTIVATE, while the user stays inactive.
    pub fn deactivate_reason(&self, id: &str) -> Option<String> {
        self.with_tenant(|t| t.user_by_id(id).and_then(|u| u.deactivate_reason))
    }

    /// A ticket (`INC…` or `SRQ…`) as `GET` prints it.
    pub fn ticket(&self, id: &str) -> Option<Value> {
        self.with_tenant(|t| t.tickets.get(id).map(|r| r.json(id)))
    }

    /// How many tickets of either type carry this `extTicketId`.
    pub fn tickets_with_ext_id(&self, ext: &str) -> usize {
        self.with_tenant(|t| {
            t.tickets
                .values()
                .filter(|r| r.fields.get("extTicketId").and_then(Value::as_str) == Some(ext))
                .count()
        })
    }

    /// Sets a ticket's status as an agent would, bypassing the flow; `false` when there
    /// is no such ticket.
    pub fn set_ticket_status(&self, id: &str, status: &str) -> bool {
        self.with_tenant(|t| {
            let now = t.now();
            match t.tickets.get_mut(id) {
                Some(r) => {
                    r.old_status = std::mem::replace(&mut r.status, status.to_owned());
                    r.updated = now;
                    true
                }
                None => false,
            }
        })
    }

    /// Stops the tenant's ticket clock at `at` (every ticket write stamps it), or lets
    /// it run (`None`).
    pub fn freeze_ticket_clock(&self, at: Option<std::time::SystemTime>) {
        self.with_tenant(|t| t.frozen = at);
    }

    /// Adds a public response as a person (`creator{id,loginName}`) would in the UI,
    /// stamping the ticket's update time; `false` when there is no such ticket.
    pub fn add_response_by(&self, id: &str, user_id: &str, login: &str, text: &str) -> bool {
        self.with_tenant(|t| {
            let now = t.now();
            match t.tickets.get_mut(id) {
                Some(r) => {
                    r.responses.push(tickets::Response {
                        description: text.to_owned(),
                        internal: false,
                        created: tickets::format_time(now),
                        ext_id: None,
                        creator: Some(serde_json::json!({"id": user_id, "loginName": login})),
                    });
                    r.updated = now;
                    true
                }
                None => false,
            }
        })
    }

    /// Whether `password` is the one last set for a user (`None`: no such user, or
    /// none set).
    pub fn password_matches(&self, user_id: &str, password: &str) -> Option<bool> {
        let number = state::user_number(user_id)?;
        self.with_tenant(|t| t.passwords.get(&number).map(|p| p == password))
    }

    /// The responses of a ticket: `(description, internal)`, oldest first.
    pub fn ticket_responses(&self, id: &str) -> Vec<(String, bool)> {
        self.with_tenant(|t| {
            t.tickets
                .get(id)
                .map(|r| {
                    r.responses
                        .iter()
                        .map(|x| (x.description.clone(), x.internal))
                        .collect()
                })
                .unwrap_or_default()
        })
    }

    /// The `extTicketResponseId` of each response of a ticket, oldest first.
    pub fn ticket_response_ext_ids(&self, id: &str) -> Vec<Option<String>> {
        self.with_tenant(|t| {
            t.tickets
                .get(id)
                .map(|r| r.responses.iter().map(|x| x.ext_id.clone()).collect())
                .unwrap_or_default()
        })
    }

    /// Moves a ticket's creation date `days` into the past (outside the default search
    /// window past 30); `false` when there is no such ticket.
    pub fn backdate_ticket(&self, id: &str, days: u64) -> bool {
        self.with_tenant(|t| tickets::backdate(t, id, days))
    }

    /// Whether a user id names a live user.
    pub fn has_user(&self, id: &str) -> bool {
        user_number(id).is_some() && self.user(id).is_some()
    }
}

struct Responder {
    shared: Shared,
    faults: FaultPlan,
    counter: RouteCounter,
}

impl Respond for Responder {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let method = request.method.as_str();
        self.counter
            .record(method, &routes::label(method, request.url.path()));
        let normal = || routes::answer(&self.shared, request);
        let record = self.shared.lock().recording;
        let (answer, logged) =
            crate::exchange::capture(record, request, || match self.faults.take(request) {
                Some(action) => action.apply(normal),
                None => normal(),
            });
        if let Some(e) = logged {
            self.shared.lock().exchanges.push(e);
        }
        answer
    }
}
