//! In-memory test doubles: a ticketing system and a provisioner that count calls,
//! let tests move tickets between states, and fail on demand.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use accesslink_core::paging::{Page, PageRequest};
use accesslink_core::{
    Account, AccountChange, AccountId, AccountSpec, Approval, ApprovalState, Capability, Comment,
    ConnectionReport, Connector, ConnectorInfo, CorrelationId, CreateOutcome, Entitlement,
    EntitlementRef, EntitlementType, Error, Grant, GrantOutcome, NewTicket, Provisioner,
    Resolution, Result, RevokeOutcome, Ticket, TicketKind, TicketRef, TicketState, TicketStatus,
    TicketingSystem, async_trait,
};
use serde_json::Value;

/// Which call an injected failure hits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Op {
    Create,
    Get,
    GetMany,
    Comment,
    Close,
}

/// A retryable error (kind Timeout).
pub(crate) fn timeout() -> Error {
    Error::Timeout {
        request: "GET /tickets".into(),
        phase: accesslink_core::error::TimeoutPhase::Attempt,
        elapsed: Duration::from_secs(30),
    }
}

/// A final error (kind Unauthenticated).
pub(crate) fn auth() -> Error {
    Error::auth("session expired and could not be renewed")
}

/// A final error (kind Conflict).
pub(crate) fn conflict() -> Error {
    Error::Conflict {
        message: "entitlement is locked".into(),
    }
}

type Hook = Box<dyn FnMut(usize, &mut Vec<Ticket>) + Send>;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Calls {
    pub(crate) parse: usize,
    pub(crate) create: usize,
    pub(crate) created: usize,
    pub(crate) get: usize,
    pub(crate) get_many: usize,
    pub(crate) get_many_sizes: Vec<usize>,
    pub(crate) comment: usize,
    pub(crate) close: usize,
    pub(crate) max_creates_in_flight: usize,
}

#[derive(Default)]
struct ItsmState {
    tickets: Vec<Ticket>,
    comments: HashMap<String, Vec<Comment>>,
    closes: Vec<Resolution>,
    calls: Calls,
    fail: HashMap<Op, VecDeque<Error>>,
    on_poll: Option<Hook>,
    expose_notes: bool,
    initial_approval: Option<ApprovalState>,
    create_delay: Duration,
    creates_in_flight: usize,
    hang_get: bool,
    prefix: Option<&'static str>,
    get_delay: Duration,
}

/// An in-memory ticketing system. Ticket numbers are ten digits; ids are small numbers.
#[derive(Debug)]
pub(crate) struct FakeItsm {
    info: ConnectorInfo,
    state: Mutex<ItsmState>,
}

impl std::fmt::Debug for ItsmState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ItsmState")
            .field("tickets", &self.tickets.len())
            .finish()
    }
}

impl FakeItsm {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(FakeItsm {
            info: ConnectorInfo::new("fake-itsm", "test").with([
                Capability::CreateTicket,
                Capability::GetTicket,
                Capability::BatchGetTickets,
                Capability::Comment,
                Capability::CloseTicket,
            ]),
            state: Mutex::new(ItsmState::default()),
        })
    }

    fn lock(&self) -> MutexGuard<'_, ItsmState> {
        self.state.lock().unwrap()
    }

    /// A system of target `target` whose ticket numbers are `prefix` + digits (the
    /// prefix is required, case-insensitive), reading tickets of `kinds`.
    pub(crate) fn named(
        target: &'static str,
        prefix: Option<&'static str>,
        kinds: impl IntoIterator<Item = TicketKind>,
    ) -> Arc<Self> {
        let itsm = FakeItsm {
            info: ConnectorInfo::new(target, "test")
                .with([Capability::GetTicket, Capability::Comment])
                .with_ticket_kinds(kinds),
            state: Mutex::new(ItsmState::default()),
        };
        itsm.lock().prefix = prefix;
        Arc::new(itsm)
    }

    /// Makes every `get_ticket` take `d` (tokio's clock) before answering.
    pub(crate) fn get_delay(&self, d: Duration) {
        self.lock().get_delay = d;
    }

    /// The bodies of the comments on the ticket with this number.
    pub(crate) fn comments_on(&self, number: &str) -> Vec<String> {
        let s = self.lock();
        let Some(t) = s
            .tickets
            .iter()
            .find(|t| t.reference.number() == Some(number))
        else {
            return Vec::new();
        };
        let id = t.reference.id().unwrap_or(number).to_owned();
        s.comments
            .get(&id)
            .map(|c| c.iter().map(|c| c.body.clone()).collect())
            .unwrap_or_default()
    }

    pub(crate) fn calls(&self) -> Calls {
        self.lock().calls.clone()
    }

    /// Makes the next `n` calls of `op` fail with errors from `make`.
    pub(crate) fn fail_next(&self, op: Op, n: usize, make: fn() -> Error) {
        let mut s = self.lock();
        let q = s.fail.entry(op).or_default();
        q.extend((0..n).map(|_| make()));
    }

    /// Runs `hook(round, tickets)` at the start of every `get_tickets` call (round from 1).
    pub(crate) fn on_poll(&self, hook: impl FnMut(usize, &mut Vec<Ticket>) + Send + 'static) {
        self.lock().on_poll = Some(Box::new(hook));
    }

    /// Surfaces comments (in `extra["articles"]`) and close notes (in `resolution`),
    /// as some connectors do.
    pub(crate) fn expose_notes(&self, on: bool) {
        self.lock().expose_notes = on;
    }

    /// The approval new tickets start with.
    pub(crate) fn initial_approval(&self, a: ApprovalState) {
        self.lock().initial_approval = Some(a);
    }

    /// Makes every `get_ticket` call after this one never return.
    pub(crate) fn hang_get(&self) {
        self.lock().hang_get = true;
    }

    pub(crate) fn create_delay(&self, d: Duration) {
        self.lock().create_delay = d;
    }

    pub(crate) fn insert(&self, t: Ticket) {
        self.lock().tickets.push(t);
    }

    pub(crate) fn tickets(&self) -> Vec<Ticket> {
        self.lock().tickets.clone()
    }

    pub(crate) fn ticket_for(&self, correlation: &str) -> Option<Ticket> {
        self.lock()
            .tickets
            .iter()
            .find(|t| t.correlation_id.as_ref().map(CorrelationId::as_str) == Some(correlation))
            .cloned()
    }

    pub(crate) fn comments_for(&self, correlation: &str) -> Vec<String> {
        let Some(t) = self.ticket_for(correlation) else {
            return Vec::new();
        };
        let id = t.reference.id().unwrap();
        self.lock()
            .comments
            .get(id)
            .map(|c| c.iter().map(|c| c.body.clone()).collect())
            .unwrap_or_default()
    }

    pub(crate) fn closes(&self) -> Vec<Resolution> {
        self.lock().closes.clone()
    }

    fn take_failure(s: &mut ItsmState, op: Op) -> Result<()> {
        match s.fail.get_mut(&op).and_then(VecDeque::pop_front) {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

pub(crate) fn find_corr<'a>(tickets: &'a mut [Ticket], correlation: &str) -> &'a mut Ticket {
    tickets
        .iter_mut()
        .find(|t| t.correlation_id.as_ref().map(CorrelationId::as_str) == Some(correlation))
        .expect("ticket with this correlation id")
}

pub(crate) fn set_approval(t: &mut Ticket, state: ApprovalState, raw: &str) {
    t.approval = Some(Approval {
        state,
        raw: raw.into(),
    });
}

fn matches_ref(t: &Ticket, r: &TicketRef) -> bool {
    (r.id().is_some() && r.id() == t.reference.id())
        || (r.number().is_some() && r.number() == t.reference.number())
}

#[async_trait]
impl Connector for FakeItsm {
    fn info(&self) -> &ConnectorInfo {
        &self.info
    }

    async fn test_connection(&self) -> Result<ConnectionReport> {
        Ok(ConnectionReport::new(Duration::ZERO))
    }

    fn as_ticketing(&self) -> Option<&dyn TicketingSystem> {
        Some(self)
    }
}

#[async_trait]
impl TicketingSystem for FakeItsm {
    fn parse_ticket_ref(&self, raw: &str) -> Result<TicketRef> {
        let prefix = {
            let mut s = self.lock();
            s.calls.parse += 1;
            s.prefix
        };
        let raw = raw.trim();
        let raw = match prefix {
            None => raw,
            Some(p) => match raw.get(..p.len()) {
                Some(head) if head.eq_ignore_ascii_case(p) => &raw[p.len()..],
                _ => {
                    return Err(Error::invalid_input(format!(
                        "{raw:?} does not start with {p}"
                    )));
                }
            },
        };
        if raw.is_empty() || raw.len() > 20 || !raw.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Error::invalid_input(format!(
                "{raw:?} is not a ticket number"
            )));
        }
        Ok(TicketRef::by_number(format!(
            "{}{raw}",
            prefix.unwrap_or_default()
        )))
    }

    async fn create_ticket(&self, new: &NewTicket) -> Result<Ticket> {
        let delay = {
            let mut s = self.lock();
            s.calls.create += 1;
            Self::take_failure(&mut s, Op::Create)?;
            s.creates_in_flight += 1;
            s.calls.max_creates_in_flight = s.calls.max_creates_in_flight.max(s.creates_in_flight);
            s.create_delay
        };
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        let mut s = self.lock();
        s.creates_in_flight -= 1;
        if let Some(t) = s
            .tickets
            .iter()
            .find(|t| t.correlation_id.as_ref() == Some(&new.correlation_id))
        {
            return Ok(t.clone());
        }
        s.calls.created += 1;
        let n = s.tickets.len() + 1;
        let mut t = Ticket::new(
            TicketRef::by_id_and_number(n.to_string(), format!("{}", 2_026_000_000 + n)),
            new.kind.clone(),
            new.title.clone(),
            TicketStatus::new(TicketState::New, "new"),
        );
        t.description = Some(new.description.clone());
        t.requester = new.requester.clone();
        t.priority = new.priority.clone();
        t.correlation_id = Some(new.correlation_id.clone());
        t.extra = new.extra.clone();
        t.created = Some(SystemTime::now());
        if let Some(a) = s.initial_approval {
            set_approval(&mut t, a, &a.to_string());
        }
        s.tickets.push(t.clone());
        Ok(t)
    }

    async fn find_by_correlation(&self, id: &CorrelationId) -> Result<Option<Ticket>> {
        Ok(self.ticket_for(id.as_str()))
    }

    async fn get_ticket(&self, r: &TicketRef) -> Result<Option<Ticket>> {
        let (hang, delay) = {
            let mut s = self.lock();
            s.calls.get += 1;
            (s.hang_get, s.get_delay)
        };
        if hang {
            std::future::pending::<()>().await;
        }
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        let mut s = self.lock();
        Self::take_failure(&mut s, Op::Get)?;
        Ok(s.tickets.iter().find(|t| matches_ref(t, r)).cloned())
    }

    async fn get_tickets(&self, refs: &[TicketRef]) -> Result<Vec<Ticket>> {
        let mut s = self.lock();
        s.calls.get_many += 1;
        s.calls.get_many_sizes.push(refs.len());
        let round = s.calls.get_many;
        if let Some(mut hook) = s.on_poll.take() {
            hook(round, &mut s.tickets);
            s.on_poll = Some(hook);
        }
        Self::take_failure(&mut s, Op::GetMany)?;
        Ok(s.tickets
            .iter()
            .filter(|t| refs.iter().any(|r| matches_ref(t, r)))
            .cloned()
            .collect())
    }

    async fn add_comment(&self, r: &TicketRef, c: &Comment) -> Result<()> {
        let mut s = self.lock();
        s.calls.comment += 1;
        Self::take_failure(&mut s, Op::Comment)?;
        let expose = s.expose_notes;
        let t = s
            .tickets
            .iter_mut()
            .find(|t| matches_ref(t, r))
            .ok_or_else(|| Error::not_found(format!("ticket {r}")))?;
        if expose {
            let articles = t
                .extra
                .entry("articles")
                .or_insert_with(|| Value::Array(Vec::new()));
            if let Value::Array(a) = articles {
                a.push(Value::String(c.body.clone()));
            }
        }
        let id = t.reference.id().map(str::to_owned).unwrap();
        s.comments.entry(id).or_default().push(c.clone());
        Ok(())
    }

    async fn close_ticket(&self, r: &TicketRef, how: &Resolution) -> Result<Ticket> {
        let mut s = self.lock();
        s.calls.close += 1;
        Self::take_failure(&mut s, Op::Close)?;
        s.closes.push(how.clone());
        let expose = s.expose_notes;
        let t = s
            .tickets
            .iter_mut()
            .find(|t| matches_ref(t, r))
            .ok_or_else(|| Error::not_found(format!("ticket {r}")))?;
        let raw = if how.successful {
            "closed successful"
        } else {
            "closed unsuccessful"
        };
        t.status = TicketStatus::new(TicketState::Closed, raw);
        if expose {
            t.resolution = Some(how.notes.clone());
        }
        Ok(t.clone())
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct DirCalls {
    pub(crate) create: usize,
    pub(crate) grant: usize,
    pub(crate) revoke: usize,
    pub(crate) set_enabled: usize,
    pub(crate) delete: usize,
    /// Grants that changed something (`Granted`, not `AlreadyGranted`).
    pub(crate) effective_grants: usize,
}

impl DirCalls {
    pub(crate) fn total(&self) -> usize {
        self.create + self.grant + self.revoke + self.set_enabled + self.delete
    }
}

#[derive(Debug, Default)]
struct DirState {
    accounts: HashMap<String, bool>,
    grants: BTreeSet<(String, String)>,
    calls: DirCalls,
    fail: VecDeque<Error>,
}

/// An in-memory directory.
#[derive(Debug)]
pub(crate) struct FakeDirectory {
    info: ConnectorInfo,
    types: Vec<EntitlementType>,
    state: Mutex<DirState>,
}

impl FakeDirectory {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(FakeDirectory {
            info: ConnectorInfo::new("fake-dir", "test").with([
                Capability::CreateAccount,
                Capability::Grant,
                Capability::Revoke,
                Capability::EnableDisable,
                Capability::DeleteAccount,
            ]),
            types: vec![EntitlementType::role()],
            state: Mutex::new(DirState::default()),
        })
    }

    fn lock(&self) -> MutexGuard<'_, DirState> {
        self.state.lock().unwrap()
    }

    pub(crate) fn calls(&self) -> DirCalls {
        self.lock().calls.clone()
    }

    pub(crate) fn add_account(&self, login: &str) {
        self.lock().accounts.insert(login.into(), true);
    }

    pub(crate) fn is_enabled(&self, login: &str) -> Option<bool> {
        self.lock().accounts.get(login).copied()
    }

    pub(crate) fn holds(&self, login: &str, role: &str) -> bool {
        self.lock()
            .grants
            .contains(&(login.to_owned(), role.to_owned()))
    }

    /// Makes the next `n` provisioning calls fail.
    pub(crate) fn fail_next(&self, n: usize, make: fn() -> Error) {
        self.lock().fail.extend((0..n).map(|_| make()));
    }

    fn begin(&self) -> Result<MutexGuard<'_, DirState>> {
        let mut s = self.lock();
        match s.fail.pop_front() {
            Some(e) => Err(e),
            None => Ok(s),
        }
    }
}

#[async_trait]
impl Connector for FakeDirectory {
    fn info(&self) -> &ConnectorInfo {
        &self.info
    }

    async fn test_connection(&self) -> Result<ConnectionReport> {
        Ok(ConnectionReport::new(Duration::ZERO))
    }

    fn as_provisioner(&self) -> Option<&dyn Provisioner> {
        Some(self)
    }
}

#[async_trait]
impl Provisioner for FakeDirectory {
    fn entitlement_types(&self) -> &[EntitlementType] {
        &self.types
    }

    async fn list_accounts(&self, _page: PageRequest) -> Result<Page<Account>> {
        Ok(Page::new(Vec::new(), None))
    }

    async fn get_account(&self, id: &AccountId) -> Result<Option<Account>> {
        Ok(self
            .lock()
            .accounts
            .contains_key(id.as_str())
            .then(|| Account::new(id.clone(), id.as_str())))
    }

    async fn list_entitlements(
        &self,
        _ty: &EntitlementType,
        _page: PageRequest,
    ) -> Result<Page<Entitlement>> {
        Ok(Page::new(Vec::new(), None))
    }

    async fn list_grants(&self, _ty: &EntitlementType, _page: PageRequest) -> Result<Page<Grant>> {
        Ok(Page::new(Vec::new(), None))
    }

    async fn create_account(&self, spec: &AccountSpec) -> Result<CreateOutcome> {
        self.lock().calls.create += 1;
        let mut s = self.begin()?;
        let account = Account::new(spec.login.as_str(), spec.login.as_str());
        if s.accounts.contains_key(&spec.login) {
            return Ok(CreateOutcome::AlreadyExists(account));
        }
        s.accounts.insert(spec.login.clone(), spec.enabled);
        Ok(CreateOutcome::Created(account))
    }

    async fn update_account(&self, _id: &AccountId, _change: &AccountChange) -> Result<Account> {
        Err(Error::Unsupported {
            operation: "update_account",
            target: "fake-dir",
        })
    }

    async fn set_enabled(&self, id: &AccountId, enabled: bool) -> Result<()> {
        self.lock().calls.set_enabled += 1;
        let mut s = self.begin()?;
        match s.accounts.get_mut(id.as_str()) {
            Some(e) => {
                *e = enabled;
                Ok(())
            }
            None => Err(Error::not_found(format!("account {id}"))),
        }
    }

    async fn delete_account(&self, id: &AccountId) -> Result<()> {
        self.lock().calls.delete += 1;
        let mut s = self.begin()?;
        match s.accounts.remove(id.as_str()) {
            Some(_) => Ok(()),
            None => Err(Error::not_found(format!("account {id}"))),
        }
    }

    async fn grant(&self, id: &AccountId, e: &EntitlementRef) -> Result<GrantOutcome> {
        self.lock().calls.grant += 1;
        let mut s = self.begin()?;
        if s.grants.insert((id.to_string(), e.id.to_string())) {
            s.calls.effective_grants += 1;
            Ok(GrantOutcome::Granted)
        } else {
            Ok(GrantOutcome::AlreadyGranted)
        }
    }

    async fn revoke(&self, id: &AccountId, e: &EntitlementRef) -> Result<RevokeOutcome> {
        self.lock().calls.revoke += 1;
        let mut s = self.begin()?;
        if s.grants.remove(&(id.to_string(), e.id.to_string())) {
            Ok(RevokeOutcome::Revoked)
        } else {
            Ok(RevokeOutcome::AlreadyAbsent)
        }
    }
}

/// A ticket for gate tests.
pub(crate) fn ticket(number: &str, kind: TicketKind, state: TicketState, raw: &str) -> Ticket {
    Ticket::new(
        TicketRef::by_id_and_number(format!("id-{number}"), number),
        kind,
        "privileged access",
        TicketStatus::new(state, raw),
    )
}
