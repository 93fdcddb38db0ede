//! The suite proves itself against an in-memory connector: the faithful one passes
//! every check, and each deliberately broken variant fails the matching check. This
//! module is the connector ([`Memory`]) and its helpers; the tests are in `checks` and
//! `faults`.

mod checks;
mod faults;
mod partition;

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use std::fmt;

use accesslink_core::feed::TicketQuery;
use accesslink_core::redact::truncate;
use accesslink_core::{
    Account, AccountChange, AccountId, AccountSpec, ApiError, Capability, Comment,
    ConnectionReport, Connector, ConnectorInfo, CorrelationId, CreateOutcome, Entitlement,
    EntitlementRef, EntitlementType, Error, ErrorKind, Grant, GrantOutcome, NewTicket, Page,
    PageRequest, PageToken, Provisioner, Resolution, Result, RevokeOutcome, Ticket, TicketKind,
    TicketRef, TicketState, TicketStatus, TicketingSystem,
};
use accesslink_core::{
    ExposeSecret, FieldSchema, FieldType, ObjectSchema, Password, Person, TicketComment, Visibility,
};
use async_trait::async_trait;

use super::cx::same_ticket;
use super::*;
use crate::fault::{Fault, FaultAction};

const SECRET: &str = "s3cret-canary-value";

/// Ways to break the in-memory connector, one contract each.
#[derive(Debug, Clone, Copy, Default)]
struct Faults {
    create_not_idempotent: bool,
    parse_accepts_anything: bool,
    get_skips_validation: bool,
    comment_dropped: bool,
    close_keeps_open: bool,
    state_cached: bool,
    pages_overlap: bool,
    grant_never_already: bool,
    silent_disable: bool,
    unsupported_after_request: bool,
    leaks_secret: bool,
    /// After a create fails, send it again without looking it up first.
    create_retried_blindly: bool,
    /// After a comment fails, send it again.
    comment_retried: bool,
    /// Read an HTML answer as "no such ticket".
    html_is_none: bool,
    /// After signing in again, list accounts from the first page.
    relogin_restarts_paging: bool,
    /// Answer a failed entitlement or grant read with an empty page.
    read_errors_swallowed: bool,
    /// Name a route for creates that no request takes.
    wrong_create_route: bool,
    /// Read a listing answered with a body of the wrong shape as an empty last page.
    wrong_shape_is_empty: bool,
    /// Stop, as a success, when a page brings nothing new.
    repeated_page_ends_quietly: bool,
    /// Return the first search hit without checking it is what was asked for.
    search_hits_trusted: bool,
    /// Send the watermark a second later than asked, as an exclusive bound (`>`).
    feed_watermark_pushed: bool,
    /// Read every comment back as public.
    comment_visibility_lost: bool,
    /// Leave a field out of the ticket schema.
    schema_missing_field: bool,
    /// Log the password being set.
    password_logged: bool,
}

struct StoredTicket {
    ticket: Ticket,
    /// The state on the server, which an agent (the backend) may change.
    state: TicketState,
    /// The state this connector last wrote, which `state_cached` reports instead.
    written: TicketState,
    comments: Vec<Comment>,
    /// The comments as `list_comments` reads them back (a person's too).
    read_back: Vec<TicketComment>,
    /// When it last changed, in whole seconds.
    updated: u64,
}

#[derive(Default)]
struct State {
    tickets: BTreeMap<u64, StoredTicket>,
    accounts: BTreeMap<u64, Account>,
    grants: HashSet<(AccountId, EntitlementRef)>,
    next_ticket: u64,
    next_account: u64,
    /// The backend expired the session; the next read signs in again.
    expired: bool,
    /// Searches ignore their filters and answer every ticket.
    unfiltered: bool,
    /// Added to the reported account total.
    total_bias: usize,
    /// The second every write is stamped with while the clock is frozen.
    frozen: Option<u64>,
    next_comment: u64,
    passwords: BTreeMap<u64, String>,
}

/// A ticketing system and identity store in one map, counting every call that a real
/// connector would send as a request.
struct Memory {
    info: ConnectorInfo,
    faults: Faults,
    secret: String,
    types: Vec<EntitlementType>,
    state: Mutex<State>,
    requests: AtomicUsize,
    /// Faults the backend injects, when [`Memory::injecting`].
    plan: FaultPlan,
    injects: bool,
    /// Where the page a `Fault::RepeatFirstAnswer` recorded started.
    recorded_start: Mutex<Option<usize>>,
}

impl fmt::Debug for Memory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secret = if self.faults.leaks_secret {
            self.secret.as_str()
        } else {
            "[redacted]"
        };
        f.debug_struct("Memory")
            .field("info", &self.info)
            .field("secret", &secret)
            .finish_non_exhaustive()
    }
}

/// The server's clock in whole seconds, or the second it is frozen at.
fn now_secs(st: &State) -> u64 {
    st.frozen.unwrap_or_else(|| {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs()
    })
}

fn secs_of(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs()
}

const TICKET_FIELDS: [&str; 4] = ["title", "state", "correlation_id", "updated"];
const ACCOUNT_FIELDS: [&str; 3] = ["login", "email", "enabled"];

fn ticket_ref(n: u64) -> TicketRef {
    TicketRef::by_id_and_number(n.to_string(), n.to_string())
}

fn digits(s: &str) -> Result<u64> {
    let ok = !s.is_empty() && s.len() <= 18 && s.bytes().all(|b| b.is_ascii_digit());
    ok.then(|| s.parse().ok()).flatten().ok_or_else(|| {
        Error::invalid_input(format!("{:?} is not a ticket number", truncate(s, 40)))
    })
}

/// The error a connector reports for a request `fault` answered.
fn fault_error(request: &str, fault: &Fault) -> Error {
    let status = |code: u16| {
        let code = http::StatusCode::from_u16(code).unwrap_or(http::StatusCode::BAD_GATEWAY);
        Error::from(ApiError::new(ErrorKind::Unavailable, code, request))
    };
    match fault {
        Fault::Html => Error::protocol(request, "expected JSON, got HTML"),
        Fault::Status { status: code, .. } | Fault::StatusAfterProcessing { status: code } => {
            status(*code)
        }
        _ => status(502),
    }
}

impl Memory {
    fn new(faults: Faults) -> Self {
        let all = [
            Capability::CreateTicket,
            Capability::GetTicket,
            Capability::BatchGetTickets,
            Capability::FindByCorrelation,
            Capability::Comment,
            Capability::CloseTicket,
            Capability::ListAccounts,
            Capability::ListEntitlements,
            Capability::ListGrants,
            Capability::CreateAccount,
            Capability::UpdateAccount,
            Capability::EnableDisable,
            Capability::DeleteAccount,
            Capability::Grant,
            Capability::Revoke,
            Capability::ListTickets,
            Capability::ListComments,
            Capability::TicketSchema,
            Capability::AccountSchema,
            Capability::SetPassword,
            Capability::CreateWithPassword,
        ];
        let mut state = State::default();
        for n in 1..=7 {
            let mut a = Account::new(format!("u{n}"), format!("user{n}"));
            a.enabled = Some(true);
            state.accounts.insert(n, a);
        }
        state.next_account = 8;
        state.next_ticket = 100;
        Memory {
            info: ConnectorInfo::new("memory", "test")
                .with(all)
                .with_ticket_kinds([TicketKind::Incident]),
            faults,
            secret: SECRET.into(),
            types: vec![EntitlementType::role()],
            state: Mutex::new(state),
            requests: AtomicUsize::new(0),
            plan: FaultPlan::new(),
            injects: false,
            recorded_start: Mutex::new(None),
        }
    }

    /// A backend that can inject faults: every call goes through the fault plan as a
    /// pseudo-request (`POST /tickets`, `GET /accounts`, …).
    fn injecting(mut self) -> Self {
        self.injects = true;
        self
    }

    /// One request through the fault plan: `work` is what the server does. A fault that
    /// processes runs `work`, then fails; any other fault fails without it.
    fn wire<T>(&self, method: &str, path: &str, work: impl FnOnce() -> Result<T>) -> Result<T> {
        self.request();
        let request = format!("{method} {path}");
        let fault = match self.plan.take_for(method, path) {
            Some(FaultAction::Replace(fault)) => fault,
            _ => return work(),
        };
        if fault.processes() {
            let _ = work();
        }
        Err(fault_error(&request, &fault))
    }

    /// A read through the fault plan, asked once more after a retryable error.
    fn read<T>(&self, path: &str, work: impl Fn() -> Result<T>) -> Result<T> {
        match self.wire("GET", path, &work) {
            Err(e) if e.is_retryable() => self.wire("GET", path, work),
            other => other,
        }
    }

    /// Signs in again when the backend expired the session; `true` when it did.
    fn relogin(&self) -> bool {
        let mut st = self.lock();
        if !std::mem::take(&mut st.expired) {
            return false;
        }
        self.request();
        true
    }

    fn insert_ticket(&self, new: &NewTicket) -> Ticket {
        let mut st = self.lock();
        let n = st.next_ticket;
        st.next_ticket += 1;
        let mut ticket = Ticket::new(
            ticket_ref(n),
            new.kind.clone(),
            new.title.clone(),
            TicketStatus::new(TicketState::New, "new"),
        );
        ticket.correlation_id = Some(new.correlation_id.clone());
        let stored = StoredTicket {
            ticket,
            state: TicketState::New,
            written: TicketState::New,
            comments: Vec::new(),
            read_back: Vec::new(),
            updated: now_secs(&st),
        };
        let view = self.view(&stored);
        st.tickets.insert(n, stored);
        view
    }

    fn lookup(&self, id: &CorrelationId) -> Result<Option<Ticket>> {
        self.read("/tickets", || {
            let st = self.lock();
            Ok(self.find(&st, id).or_else(|| self.trusted_hit(&st)))
        })
    }

    /// What a connector that trusts search hits returns when the server's searches ignore
    /// their filters and the ticket asked for does not exist: the first hit.
    fn trusted_hit(&self, st: &State) -> Option<Ticket> {
        (st.unfiltered && self.faults.search_hits_trusted)
            .then(|| st.tickets.values().next().map(|s| self.view(s)))
            .flatten()
    }

    fn without(mut self, caps: impl IntoIterator<Item = Capability>) -> Self {
        for cap in caps {
            self.info.capabilities.remove(&cap);
        }
        self
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn request(&self) {
        self.requests.fetch_add(1, Ordering::SeqCst);
    }

    fn require(&self, cap: &Capability, operation: &'static str) -> Result<()> {
        if self.info.supports(cap) {
            return Ok(());
        }
        if self.faults.unsupported_after_request {
            self.request();
        }
        Err(Error::Unsupported {
            operation,
            target: "memory",
        })
    }

    /// The ticket number a reference names, validated unless `get_skips_validation`.
    fn number(&self, r: &TicketRef) -> Result<Option<u64>> {
        let raw = r.id().or(r.number()).unwrap_or("");
        if self.faults.get_skips_validation {
            return Ok(raw.parse().ok());
        }
        digits(raw).map(Some)
    }

    fn view(&self, stored: &StoredTicket) -> Ticket {
        let mut t = stored.ticket.clone();
        let state = if self.faults.state_cached {
            stored.written
        } else {
            stored.state
        };
        t.status = TicketStatus::new(state, state.to_string());
        t.updated = Some(UNIX_EPOCH + Duration::from_secs(stored.updated));
        t
    }

    fn find(&self, st: &State, id: &CorrelationId) -> Option<Ticket> {
        st.tickets
            .values()
            .find(|s| s.ticket.correlation_id.as_ref() == Some(id))
            .map(|s| self.view(s))
    }

    fn account_id(id: &AccountId) -> Option<u64> {
        id.as_str().strip_prefix('u')?.parse().ok()
    }
}

#[async_trait]
impl Connector for Memory {
    fn info(&self) -> &ConnectorInfo {
        &self.info
    }

    async fn test_connection(&self) -> Result<ConnectionReport> {
        self.request();
        Ok(ConnectionReport::new(Duration::ZERO))
    }

    fn as_ticketing(&self) -> Option<&dyn TicketingSystem> {
        Some(self)
    }

    fn as_provisioner(&self) -> Option<&dyn Provisioner> {
        Some(self)
    }
}

#[async_trait]
impl TicketingSystem for Memory {
    fn parse_ticket_ref(&self, raw: &str) -> Result<TicketRef> {
        if self.faults.parse_accepts_anything {
            return Ok(TicketRef::by_number(raw));
        }
        let n = digits(raw.trim())?;
        Ok(TicketRef::by_number(n.to_string()))
    }

    async fn create_ticket(&self, new: &NewTicket) -> Result<Ticket> {
        self.require(&Capability::CreateTicket, "create_ticket")?;
        if new.correlation_id.as_str().is_empty() {
            return Err(Error::invalid_input("empty correlation id"));
        }
        let idempotent = !self.faults.create_not_idempotent;
        if idempotent {
            if let Some(t) = self.lookup(&new.correlation_id)? {
                return Ok(t);
            }
        }
        let create = || Ok(self.insert_ticket(new));
        match self.wire("POST", "/tickets", create) {
            Err(e) if e.is_retryable() && self.faults.create_retried_blindly => {
                self.wire("POST", "/tickets", create)
            }
            // The create may have landed before the answer was lost: look before failing.
            Err(e) if e.is_retryable() && idempotent => self.lookup(&new.correlation_id)?.ok_or(e),
            other => other,
        }
    }

    async fn find_by_correlation(&self, id: &CorrelationId) -> Result<Option<Ticket>> {
        self.require(&Capability::FindByCorrelation, "find_by_correlation")?;
        self.lookup(id)
    }

    async fn get_ticket(&self, r: &TicketRef) -> Result<Option<Ticket>> {
        self.require(&Capability::GetTicket, "get_ticket")?;
        let n = self.number(r)?;
        let get = || {
            let st = self.lock();
            let found = n.and_then(|n| st.tickets.get(&n)).map(|s| self.view(s));
            Ok(found.or_else(|| self.trusted_hit(&st)))
        };
        match self.read("/tickets/n", get) {
            Err(e) if e.kind() == ErrorKind::Protocol && self.faults.html_is_none => Ok(None),
            other => other,
        }
    }

    async fn get_tickets(&self, refs: &[TicketRef]) -> Result<Vec<Ticket>> {
        self.require(&Capability::GetTicket, "get_tickets")?;
        let ns = refs
            .iter()
            .map(|r| self.number(r))
            .collect::<Result<Vec<_>>>()?;
        if ns.is_empty() {
            return Ok(Vec::new());
        }
        self.request();
        let st = self.lock();
        let found = ns.into_iter().flatten().filter_map(|n| st.tickets.get(&n));
        let found: Vec<Ticket> = found.map(|s| self.view(s)).collect();
        Ok(if found.is_empty() {
            self.trusted_hit(&st).into_iter().collect()
        } else {
            found
        })
    }

    async fn add_comment(&self, r: &TicketRef, c: &Comment) -> Result<()> {
        self.require(&Capability::Comment, "add_comment")?;
        let n = self.number(r)?;
        let store = || {
            let mut st = self.lock();
            let t = n.and_then(|n| st.tickets.get_mut(&n));
            let t = t.ok_or_else(|| Error::not_found(format!("ticket {r}")))?;
            if !self.faults.comment_dropped {
                t.comments.push(c.clone());
                let id = st.next_comment;
                st.next_comment += 1;
                let now = now_secs(&st);
                let t = n.and_then(|n| st.tickets.get_mut(&n)).expect("found above");
                t.read_back.push(TicketComment::new(
                    id.to_string(),
                    c.visibility,
                    c.body.clone(),
                ));
                t.updated = now;
            }
            Ok(())
        };
        match self.wire("POST", "/comments", store) {
            Err(e) if e.is_retryable() && self.faults.comment_retried => {
                self.wire("POST", "/comments", store)
            }
            other => other,
        }
    }

    async fn close_ticket(&self, r: &TicketRef, how: &Resolution) -> Result<Ticket> {
        self.require(&Capability::CloseTicket, "close_ticket")?;
        let n = self.number(r)?;
        self.request();
        let mut st = self.lock();
        let now = now_secs(&st);
        let t = n.and_then(|n| st.tickets.get_mut(&n));
        let t = t.ok_or_else(|| Error::not_found(format!("ticket {r}")))?;
        if !self.faults.close_keeps_open {
            t.updated = now;
            t.state = TicketState::Closed;
            t.written = TicketState::Closed;
            t.ticket.resolution = Some(how.notes.clone());
        }
        Ok(self.view(t))
    }

    async fn list_tickets(&self, query: &TicketQuery, page: PageRequest) -> Result<Page<Ticket>> {
        self.require(&Capability::ListTickets, "list_tickets")?;
        self.request();
        Ok(self.listed(query, &page))
    }

    async fn list_comments(&self, r: &TicketRef) -> Result<Vec<TicketComment>> {
        self.require(&Capability::ListComments, "list_comments")?;
        let n = self.number(r)?;
        self.request();
        let st = self.lock();
        let t = n.and_then(|n| st.tickets.get(&n));
        let t = t.ok_or_else(|| Error::not_found(format!("ticket {r}")))?;
        let mut out = t.read_back.clone();
        if self.faults.comment_visibility_lost {
            for c in &mut out {
                c.visibility = Visibility::Public;
            }
        }
        Ok(out)
    }

    async fn ticket_schema(&self, kind: &TicketKind) -> Result<ObjectSchema> {
        self.require(&Capability::TicketSchema, "ticket_schema")?;
        self.request();
        let skip = usize::from(self.faults.schema_missing_field);
        let fields = TICKET_FIELDS[skip..]
            .iter()
            .map(|f| FieldSchema::new(*f, FieldType::String));
        Ok(fields.fold(ObjectSchema::new(kind.to_string()), ObjectSchema::field))
    }
}

impl Memory {
    fn listed(&self, query: &TicketQuery, page: &PageRequest) -> Page<Ticket> {
        let st = self.lock();
        let since = query.updated_since.map(secs_of);
        let pushed = self.faults.feed_watermark_pushed;
        let fresh = |s: &&StoredTicket| {
            since.is_none_or(|since| {
                if pushed {
                    s.updated > since + 1
                } else {
                    s.updated >= since
                }
            })
        };
        let mut all: Vec<(u64, Ticket)> = st
            .tickets
            .values()
            .filter(fresh)
            .map(|s| (s.updated, self.view(s)))
            .filter(|(_, t)| query.matches(t) || since.is_some())
            .collect();
        all.sort_by(|a, b| (a.0, a.1.reference.id()).cmp(&(b.0, b.1.reference.id())));
        let start: usize = page
            .token
            .as_ref()
            .map_or(0, |t| t.as_str().parse().unwrap_or(0));
        let end = (start + page.size_or(50) as usize).min(all.len());
        let next = (end < all.len()).then(|| PageToken::new(end.to_string()));
        let items = all.drain(start.min(end)..end).map(|(_, t)| t).collect();
        Page::new(items, next)
    }
}

#[async_trait]
impl Provisioner for Memory {
    fn entitlement_types(&self) -> &[EntitlementType] {
        &self.types
    }

    async fn list_accounts(&self, page: PageRequest) -> Result<Page<Account>> {
        self.require(&Capability::ListAccounts, "list_accounts")?;
        let restart = self.relogin() && self.faults.relogin_restarts_paging;
        let start: usize = match &page.token {
            _ if restart => 0,
            None => 0,
            Some(t) => t
                .as_str()
                .parse()
                .map_err(|_| Error::invalid_input("bad page token"))?,
        };
        let mut start = start;
        let action = if self.injects {
            self.plan.take_for("GET", "/accounts")
        } else {
            None
        };
        match action {
            None | Some(FaultAction::Delay(_)) => self.request(),
            Some(FaultAction::Record(_)) => {
                self.request();
                *self.recorded_start.lock().unwrap() = Some(start);
            }
            Some(FaultAction::Replay(_)) => {
                self.request();
                let recorded = *self.recorded_start.lock().unwrap();
                if self.faults.repeated_page_ends_quietly && recorded != Some(start) {
                    return Ok(Page::new(Vec::new(), None));
                }
                start = recorded.unwrap_or(start);
            }
            Some(FaultAction::Replace(Fault::NotUtf8 | Fault::Status { status: 200, .. })) => {
                self.request();
                if self.faults.wrong_shape_is_empty {
                    return Ok(Page::new(Vec::new(), None));
                }
                return Err(Error::protocol(
                    "GET /accounts",
                    "the list field is missing",
                ));
            }
            Some(FaultAction::Replace(Fault::EchoRequest)) => {
                self.request();
                let e = ApiError::new(
                    ErrorKind::InvalidInput,
                    http::StatusCode::BAD_REQUEST,
                    "GET /accounts",
                );
                return Err(Error::from(e));
            }
            Some(FaultAction::Replace(fault)) => {
                self.request();
                return Err(fault_error("GET /accounts", &fault));
            }
        }
        let st = self.lock();
        let end = (start + page.size_or(3) as usize).min(st.accounts.len());
        let items: Vec<Account> = st
            .accounts
            .values()
            .skip(start)
            .take(end - start)
            .cloned()
            .collect();
        // The overlap fault repeats the last item of every page on the next one.
        let resume = if self.faults.pages_overlap {
            end - 1
        } else {
            end
        };
        let next = (end < st.accounts.len()).then(|| PageToken::new(resume.to_string()));
        let total = st.accounts.len() + st.total_bias;
        Ok(Page::new(items, next).with_total(Some(total as u64)))
    }

    async fn get_account(&self, id: &AccountId) -> Result<Option<Account>> {
        self.request();
        let n = Memory::account_id(id);
        Ok(n.and_then(|n| self.lock().accounts.get(&n).cloned()))
    }

    async fn list_entitlements(
        &self,
        ty: &EntitlementType,
        _page: PageRequest,
    ) -> Result<Page<Entitlement>> {
        self.require(&Capability::ListEntitlements, "list_entitlements")?;
        self.relogin();
        let list = || {
            let e = Entitlement::new(EntitlementRef::new(ty.clone(), "admin"), "Admin");
            Ok(Page::new(vec![e], None))
        };
        if self.faults.read_errors_swallowed {
            let page = self.wire("GET", "/entitlements", list);
            return page.or_else(|_| Ok(Page::new(Vec::new(), None)));
        }
        self.read("/entitlements", list)
    }

    async fn list_grants(&self, ty: &EntitlementType, _page: PageRequest) -> Result<Page<Grant>> {
        self.require(&Capability::ListGrants, "list_grants")?;
        self.relogin();
        let list = || {
            let st = self.lock();
            let grants = st.grants.iter().filter(|(_, e)| &e.ty == ty);
            let items = grants
                .map(|(a, e)| Grant::new(a.clone(), e.clone()))
                .collect();
            Ok(Page::new(items, None))
        };
        if self.faults.read_errors_swallowed {
            let page = self.wire("GET", "/grants", list);
            return page.or_else(|_| Ok(Page::new(Vec::new(), None)));
        }
        self.read("/grants", list)
    }

    async fn create_account(&self, spec: &AccountSpec) -> Result<CreateOutcome> {
        self.require(&Capability::CreateAccount, "create_account")?;
        self.request();
        let mut st = self.lock();
        if let Some(a) = st.accounts.values().find(|a| a.login == spec.login) {
            return Ok(CreateOutcome::AlreadyExists(a.clone()));
        }
        let n = st.next_account;
        st.next_account += 1;
        let mut a = Account::new(format!("u{n}"), spec.login.clone());
        a.enabled = Some(spec.enabled);
        st.accounts.insert(n, a.clone());
        if let Some(pw) = &spec.password {
            st.passwords
                .insert(n, pw.secret().expose_secret().to_owned());
        }
        Ok(CreateOutcome::Created(a))
    }

    async fn account_schema(&self) -> Result<ObjectSchema> {
        self.require(&Capability::AccountSchema, "account_schema")?;
        self.request();
        let fields = ACCOUNT_FIELDS
            .iter()
            .map(|f| FieldSchema::new(*f, FieldType::String));
        Ok(fields.fold(ObjectSchema::new("account"), ObjectSchema::field))
    }

    async fn set_password(&self, id: &AccountId, password: &Password) -> Result<()> {
        self.require(&Capability::SetPassword, "set_password")?;
        self.request();
        let value = password.secret().expose_secret();
        if self.faults.password_logged {
            tracing::debug!(account = %id, password = value, "setting the password");
        }
        let mut st = self.lock();
        let n = Memory::account_id(id).filter(|n| st.accounts.contains_key(n));
        let n = n.ok_or_else(|| Error::not_found(format!("account {id}")))?;
        st.passwords.insert(n, value.to_owned());
        Ok(())
    }

    async fn update_account(&self, id: &AccountId, change: &AccountChange) -> Result<Account> {
        self.require(&Capability::UpdateAccount, "update_account")?;
        self.request();
        let mut st = self.lock();
        let a = Memory::account_id(id).and_then(|n| st.accounts.get_mut(&n));
        let a = a.ok_or_else(|| Error::not_found(format!("account {id}")))?;
        if let Some(email) = &change.email {
            a.email = Some(email.clone());
        }
        Ok(a.clone())
    }

    async fn set_enabled(&self, id: &AccountId, enabled: bool) -> Result<()> {
        if self.faults.silent_disable && !self.info.supports(&Capability::EnableDisable) {
            return Ok(());
        }
        self.require(&Capability::EnableDisable, "set_enabled")?;
        self.request();
        let mut st = self.lock();
        let a = Memory::account_id(id).and_then(|n| st.accounts.get_mut(&n));
        let a = a.ok_or_else(|| Error::not_found(format!("account {id}")))?;
        a.enabled = Some(enabled);
        Ok(())
    }

    async fn delete_account(&self, id: &AccountId) -> Result<()> {
        self.require(&Capability::DeleteAccount, "delete_account")?;
        self.request();
        let mut st = self.lock();
        let n = Memory::account_id(id);
        n.and_then(|n| st.accounts.remove(&n))
            .ok_or_else(|| Error::not_found(format!("account {id}")))?;
        st.grants.retain(|(a, _)| a != id);
        Ok(())
    }

    async fn grant(&self, id: &AccountId, e: &EntitlementRef) -> Result<GrantOutcome> {
        self.require(&Capability::Grant, "grant")?;
        self.request();
        let mut st = self.lock();
        let exists = Memory::account_id(id).is_some_and(|n| st.accounts.contains_key(&n));
        if !exists {
            return Err(Error::not_found(format!("account {id}")));
        }
        let new = st.grants.insert((id.clone(), e.clone()));
        Ok(if new || self.faults.grant_never_already {
            GrantOutcome::Granted
        } else {
            GrantOutcome::AlreadyGranted
        })
    }

    async fn revoke(&self, id: &AccountId, e: &EntitlementRef) -> Result<RevokeOutcome> {
        self.require(&Capability::Revoke, "revoke")?;
        self.request();
        let removed = self.lock().grants.remove(&(id.clone(), e.clone()));
        Ok(if removed {
            RevokeOutcome::Revoked
        } else {
            RevokeOutcome::AlreadyAbsent
        })
    }
}

#[async_trait]
impl TicketBackend for Memory {
    async fn set_ticket_state(&self, r: &TicketRef, state: TicketState) -> Result<()> {
        let n = digits(r.id().unwrap_or(""))?;
        let mut st = self.lock();
        let now = now_secs(&st);
        let t = st.tickets.get_mut(&n);
        let t = t.ok_or_else(|| Error::not_found(format!("ticket {r}")))?;
        t.state = state;
        t.updated = now;
        Ok(())
    }

    fn freeze_clock(&self, at: Option<SystemTime>) -> bool {
        self.lock().frozen = at.map(secs_of);
        true
    }

    async fn add_person_comment(&self, r: &TicketRef, body: &str) -> Result<bool> {
        let n = digits(r.id().unwrap_or(""))?;
        let mut st = self.lock();
        let id = st.next_comment;
        st.next_comment += 1;
        let t = st.tickets.get_mut(&n);
        let t = t.ok_or_else(|| Error::not_found(format!("ticket {r}")))?;
        let c = TicketComment::new(id.to_string(), Visibility::Public, body)
            .author(Person::login("agent.smith"));
        t.read_back.push(c);
        Ok(true)
    }

    fn ticket_fields(&self, _kind: &TicketKind) -> Option<Vec<String>> {
        Some(TICKET_FIELDS.iter().map(|f| (*f).to_owned()).collect())
    }

    async fn count_with_correlation(&self, id: &CorrelationId) -> Result<usize> {
        let st = self.lock();
        let mine = |s: &&StoredTicket| s.ticket.correlation_id.as_ref() == Some(id);
        Ok(st.tickets.values().filter(mine).count())
    }

    async fn comments(&self, r: &TicketRef) -> Result<Vec<Comment>> {
        let n = digits(r.id().unwrap_or(""))?;
        Ok(self
            .lock()
            .tickets
            .get(&n)
            .map(|t| t.comments.clone())
            .unwrap_or_default())
    }

    fn requests_seen(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }

    fn faults(&self) -> Option<&FaultPlan> {
        self.injects.then_some(&self.plan)
    }

    fn drops_connections(&self) -> bool {
        self.injects
    }

    fn ignore_search_filters(&self, on: bool) -> bool {
        self.lock().unfiltered = on;
        true
    }

    fn fault_route(&self, op: FaultOp) -> Option<FaultMatcher> {
        Some(match op {
            FaultOp::CreateTicket(_) if self.faults.wrong_create_route => {
                FaultMatcher::route("POST", "/nowhere")
            }
            FaultOp::CreateTicket(_) => FaultMatcher::route("POST", "/tickets"),
            FaultOp::AddComment => FaultMatcher::route("POST", "/comments"),
        })
    }
}

#[async_trait]
impl AccountBackend for Memory {
    fn inflate_reported_total(&self, extra: usize) -> bool {
        self.lock().total_bias = extra;
        true
    }

    fn account_fields(&self) -> Option<Vec<String>> {
        Some(ACCOUNT_FIELDS.iter().map(|f| (*f).to_owned()).collect())
    }

    async fn password_is(&self, account: &AccountId, password: &str) -> Result<Option<bool>> {
        let st = self.lock();
        let held = Memory::account_id(account).and_then(|n| st.passwords.get(&n));
        Ok(Some(held.is_some_and(|p| p == password)))
    }

    async fn account_count(&self) -> Result<usize> {
        Ok(self.lock().accounts.len())
    }

    async fn holds(&self, account: &AccountId, e: &EntitlementRef) -> Result<bool> {
        Ok(self.lock().grants.contains(&(account.clone(), e.clone())))
    }

    fn requests_seen(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }

    fn faults(&self) -> Option<&FaultPlan> {
        self.injects.then_some(&self.plan)
    }

    fn expire_credentials(&self) -> bool {
        self.lock().expired = self.injects;
        self.injects
    }
}

fn new_ticket() -> NewTicket {
    NewTicket::new(
        TicketKind::Incident,
        "Grant access to payroll",
        "opened by the conformance self-test",
        CorrelationId::new(fresh_id("req")),
    )
}

fn ticketing_suite() -> TicketingSuite {
    TicketingSuite::new(new_ticket())
        .bad_refs(["abc", "0x10"])
        .canaries([SECRET])
        .absent_ref("999999")
}

fn role(id: &str) -> EntitlementRef {
    EntitlementRef::new(EntitlementType::role(), id)
}

fn provisioning_suite() -> ProvisioningSuite {
    ProvisioningSuite::new(2, AccountSpec::new(fresh_id("jdoe")), role("admin")).canaries([SECRET])
}

fn faulty(faults: Faults) -> Memory {
    Memory::new(faults)
}

/// The failure of `check`, asserting that it failed.
#[track_caller]
fn failed(result: Result<(), ConformanceFailure>, check: Check) -> ConformanceFailure {
    let f = result.expect_err("the check should fail");
    assert_eq!(f.check, check, "{f}");
    f
}
