//! Test doubles for the intake: a desk that lists tickets by update time (whole
//! seconds, `updated >= since` as servers filter) and reads comments back with ids,
//! and a directory whose account ids are not logins and which lists its grants.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use accesslink_core::paging::{Page, PageRequest, PageToken};
use accesslink_core::{
    Account, AccountChange, AccountId, AccountSpec, Capability, Comment, ConnectionReport,
    Connector, ConnectorInfo, CorrelationId, CreateOutcome, Entitlement, EntitlementRef,
    EntitlementType, Error, Grant, GrantOutcome, NewTicket, Person, Provisioner, Resolution,
    Result, RevokeOutcome, Ticket, TicketComment, TicketKind, TicketQuery, TicketRef, TicketState,
    TicketStatus, TicketingSystem, Visibility, async_trait,
};
use serde_json::Value;

/// Which desk call an injected failure hits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum DeskOp {
    List,
    Comments,
    Comment,
    Close,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct DeskCalls {
    pub(crate) list_pages: usize,
    pub(crate) get_many: usize,
    pub(crate) list_comments: usize,
    pub(crate) comment: usize,
    pub(crate) close: usize,
    /// The `updated_since` each listing's first page asked for.
    pub(crate) since: Vec<Option<SystemTime>>,
}

#[derive(Debug, Default)]
struct DeskState {
    /// Seconds since the desk's epoch; every write stamps the ticket with the clock
    /// and then advances it (so a watermark moves), unless frozen.
    clock: u64,
    frozen: bool,
    tickets: Vec<Ticket>,
    comments: HashMap<String, Vec<TicketComment>>,
    next_comment: u64,
    calls: DeskCalls,
    fail: HashMap<DeskOp, VecDeque<Error>>,
}

/// An in-memory desk with listing and comments.
#[derive(Debug)]
pub(crate) struct FeedDesk {
    info: ConnectorInfo,
    state: Mutex<DeskState>,
}

pub(crate) fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_800_000_000 + secs)
}

impl FeedDesk {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(FeedDesk {
            info: ConnectorInfo::new("feed-desk", "test")
                .with([
                    Capability::GetTicket,
                    Capability::BatchGetTickets,
                    Capability::Comment,
                    Capability::CloseTicket,
                    Capability::ListTickets,
                    Capability::ListComments,
                ])
                .with_ticket_kinds([TicketKind::Request, TicketKind::Incident]),
            state: Mutex::new(DeskState {
                clock: 100,
                next_comment: 1,
                ..DeskState::default()
            }),
        })
    }

    /// A desk whose info lacks `ListComments`.
    pub(crate) fn without_comments() -> Arc<Self> {
        let mut d = Arc::try_unwrap(FeedDesk::new()).unwrap();
        d.info.capabilities.remove(&Capability::ListComments);
        Arc::new(d)
    }

    fn lock(&self) -> MutexGuard<'_, DeskState> {
        self.state.lock().unwrap()
    }

    fn tick(s: &mut DeskState) -> SystemTime {
        let now = at(s.clock);
        if !s.frozen {
            s.clock += 1;
        }
        now
    }

    /// Keeps the clock in the current second (writes share one update time).
    pub(crate) fn freeze(&self, on: bool) {
        self.lock().frozen = on;
    }

    /// Raises a request ticket; returns its id.
    pub(crate) fn raise(&self, title: &str, requester: &str, extra: &[(&str, Value)]) -> String {
        let mut s = self.lock();
        let n = s.tickets.len() + 1;
        let mut t = Ticket::new(
            TicketRef::by_id_and_number(n.to_string(), format!("{}", 2_026_000_000 + n)),
            TicketKind::Request,
            title,
            TicketStatus::new(TicketState::New, "new"),
        );
        t.description = Some(format!("Opened: {title}"));
        t.requester = Some(Person::login(requester));
        for (k, v) in extra {
            t.extra.insert((*k).to_owned(), v.clone());
        }
        t.updated = Some(Self::tick(&mut s));
        let opening = TicketComment::new(
            format!("c{}", s.next_comment),
            Visibility::Public,
            t.description.clone().unwrap(),
        )
        .author(Person::login(requester));
        s.next_comment += 1;
        s.comments.insert(n.to_string(), vec![opening]);
        s.tickets.push(t);
        n.to_string()
    }

    /// A person's comment; stamps the ticket.
    pub(crate) fn person_comment(&self, id: &str, who: &str, visibility: Visibility, body: &str) {
        let mut s = self.lock();
        let cid = format!("c{}", s.next_comment);
        s.next_comment += 1;
        let now = Self::tick(&mut s);
        let c = TicketComment::new(cid, visibility, body)
            .author(Person::login(who))
            .created(now);
        s.comments.entry(id.to_owned()).or_default().push(c);
        Self::ticket_mut(&mut s, id).updated = Some(now);
    }

    /// Changes a ticket as an agent would; stamps it.
    pub(crate) fn edit(&self, id: &str, f: impl FnOnce(&mut Ticket)) {
        let mut s = self.lock();
        let now = Self::tick(&mut s);
        let t = Self::ticket_mut(&mut s, id);
        f(t);
        t.updated = Some(now);
    }

    fn ticket_mut<'a>(s: &'a mut DeskState, id: &str) -> &'a mut Ticket {
        s.tickets
            .iter_mut()
            .find(|t| t.reference.id() == Some(id))
            .expect("ticket")
    }

    pub(crate) fn ticket(&self, id: &str) -> Ticket {
        self.lock()
            .tickets
            .iter()
            .find(|t| t.reference.id() == Some(id))
            .cloned()
            .expect("ticket")
    }

    pub(crate) fn comments(&self, id: &str) -> Vec<TicketComment> {
        self.lock().comments.get(id).cloned().unwrap_or_default()
    }

    /// The bodies of the comments the intake wrote (not the people's).
    pub(crate) fn own_comments(&self, id: &str) -> Vec<String> {
        self.comments(id)
            .into_iter()
            .filter(|c| c.author.is_none())
            .map(|c| c.body)
            .collect()
    }

    pub(crate) fn calls(&self) -> DeskCalls {
        self.lock().calls.clone()
    }

    pub(crate) fn fail_next(&self, op: DeskOp, n: usize, make: fn() -> Error) {
        let mut s = self.lock();
        s.fail.entry(op).or_default().extend((0..n).map(|_| make()));
    }

    fn take_failure(s: &mut DeskState, op: DeskOp) -> Result<()> {
        match s.fail.get_mut(&op).and_then(VecDeque::pop_front) {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

fn matches_ref(t: &Ticket, r: &TicketRef) -> bool {
    (r.id().is_some() && r.id() == t.reference.id())
        || (r.number().is_some() && r.number() == t.reference.number())
}

#[async_trait]
impl Connector for FeedDesk {
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
impl TicketingSystem for FeedDesk {
    fn parse_ticket_ref(&self, raw: &str) -> Result<TicketRef> {
        Ok(TicketRef::by_id(raw))
    }
    async fn create_ticket(&self, _: &NewTicket) -> Result<Ticket> {
        Err(Error::invalid_input("not used by the intake"))
    }
    async fn find_by_correlation(&self, _: &CorrelationId) -> Result<Option<Ticket>> {
        Ok(None)
    }
    async fn get_ticket(&self, r: &TicketRef) -> Result<Option<Ticket>> {
        Ok(self
            .lock()
            .tickets
            .iter()
            .find(|t| matches_ref(t, r))
            .cloned())
    }
    async fn get_tickets(&self, refs: &[TicketRef]) -> Result<Vec<Ticket>> {
        let mut s = self.lock();
        s.calls.get_many += 1;
        Ok(s.tickets
            .iter()
            .filter(|t| refs.iter().any(|r| matches_ref(t, r)))
            .cloned()
            .collect())
    }

    async fn add_comment(&self, r: &TicketRef, c: &Comment) -> Result<()> {
        let mut s = self.lock();
        s.calls.comment += 1;
        Self::take_failure(&mut s, DeskOp::Comment)?;
        let id = r.id().expect("by id").to_owned();
        let cid = format!("c{}", s.next_comment);
        s.next_comment += 1;
        let now = Self::tick(&mut s);
        s.comments
            .entry(id.clone())
            .or_default()
            .push(TicketComment::new(cid, c.visibility, c.body.clone()).created(now));
        Self::ticket_mut(&mut s, &id).updated = Some(now);
        Ok(())
    }

    async fn close_ticket(&self, r: &TicketRef, how: &Resolution) -> Result<Ticket> {
        let mut s = self.lock();
        s.calls.close += 1;
        Self::take_failure(&mut s, DeskOp::Close)?;
        let now = Self::tick(&mut s);
        let t = Self::ticket_mut(&mut s, r.id().expect("by id"));
        let raw = if how.successful {
            "closed successful"
        } else {
            "closed unsuccessful"
        };
        t.status = TicketStatus::new(TicketState::Closed, raw);
        t.resolution = Some(how.notes.clone());
        t.updated = Some(now);
        Ok(t.clone())
    }

    /// Pages of two, ordered by update time then id, filtered server side.
    async fn list_tickets(&self, q: &TicketQuery, page: PageRequest) -> Result<Page<Ticket>> {
        let mut s = self.lock();
        s.calls.list_pages += 1;
        if page.token.is_none() {
            s.calls.since.push(q.updated_since);
        }
        Self::take_failure(&mut s, DeskOp::List)?;
        let mut all: Vec<Ticket> = s.tickets.iter().filter(|t| q.matches(t)).cloned().collect();
        all.sort_by_key(|t| (t.updated, t.reference.id().unwrap().parse::<u64>().unwrap()));
        let start: usize = page
            .token
            .as_ref()
            .map_or(0, |t| t.as_str().parse().unwrap());
        let end = (start + 2).min(all.len());
        let next = (end < all.len()).then(|| PageToken::new(end.to_string()));
        Ok(Page::new(all[start..end].to_vec(), next))
    }

    async fn list_comments(&self, r: &TicketRef) -> Result<Vec<TicketComment>> {
        let mut s = self.lock();
        s.calls.list_comments += 1;
        Self::take_failure(&mut s, DeskOp::Comments)?;
        let id = r.id().expect("by id");
        if !s.tickets.iter().any(|t| t.reference.id() == Some(id)) {
            return Err(Error::not_found(format!("ticket {r}")));
        }
        Ok(s.comments.get(id).cloned().unwrap_or_default())
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct DirCalls {
    pub(crate) list_accounts: usize,
    pub(crate) list_grants: usize,
    pub(crate) create: usize,
    pub(crate) grant: usize,
}

#[derive(Debug, Default)]
struct DirState {
    /// login → account id (`u-<login>`).
    accounts: HashMap<String, String>,
    /// (account id, entitlement id).
    grants: BTreeSet<(String, String)>,
    calls: DirCalls,
    fail_grant: VecDeque<Error>,
}

/// An in-memory directory whose account ids are `u-<login>`.
#[derive(Debug)]
pub(crate) struct GrantDirectory {
    info: ConnectorInfo,
    types: Vec<EntitlementType>,
    state: Mutex<DirState>,
}

impl GrantDirectory {
    pub(crate) fn new(target: &'static str) -> Arc<Self> {
        Arc::new(GrantDirectory {
            info: ConnectorInfo::new(target, "test").with([
                Capability::CreateAccount,
                Capability::Grant,
                Capability::ListAccounts,
                Capability::ListGrants,
            ]),
            types: vec![EntitlementType::role()],
            state: Mutex::new(DirState::default()),
        })
    }

    fn lock(&self) -> MutexGuard<'_, DirState> {
        self.state.lock().unwrap()
    }

    /// An account holding `roles`.
    pub(crate) fn add(&self, login: &str, roles: &[&str]) {
        let mut s = self.lock();
        let id = format!("u-{login}");
        s.accounts.insert(login.to_owned(), id.clone());
        for r in roles {
            s.grants.insert((id.clone(), (*r).to_owned()));
        }
    }

    pub(crate) fn holds(&self, login: &str, role: &str) -> bool {
        self.lock()
            .grants
            .contains(&(format!("u-{login}"), role.to_owned()))
    }

    pub(crate) fn calls(&self) -> DirCalls {
        self.lock().calls.clone()
    }

    pub(crate) fn fail_grant(&self, n: usize, make: fn() -> Error) {
        self.lock().fail_grant.extend((0..n).map(|_| make()));
    }
}

#[async_trait]
impl Connector for GrantDirectory {
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
impl Provisioner for GrantDirectory {
    fn entitlement_types(&self) -> &[EntitlementType] {
        &self.types
    }
    async fn list_accounts(&self, _page: PageRequest) -> Result<Page<Account>> {
        let mut s = self.lock();
        s.calls.list_accounts += 1;
        let mut items: Vec<Account> = s
            .accounts
            .iter()
            .map(|(login, id)| Account::new(id.as_str(), login.as_str()))
            .collect();
        items.sort_by(|a, b| a.id.as_str().cmp(b.id.as_str()));
        Ok(Page::new(items, None))
    }
    async fn get_account(&self, id: &AccountId) -> Result<Option<Account>> {
        let s = self.lock();
        Ok(s.accounts
            .iter()
            .find(|(_, i)| i.as_str() == id.as_str())
            .map(|(l, i)| Account::new(i.as_str(), l.as_str())))
    }
    async fn list_entitlements(
        &self,
        _ty: &EntitlementType,
        _page: PageRequest,
    ) -> Result<Page<Entitlement>> {
        Ok(Page::new(Vec::new(), None))
    }
    async fn list_grants(&self, ty: &EntitlementType, _page: PageRequest) -> Result<Page<Grant>> {
        let mut s = self.lock();
        s.calls.list_grants += 1;
        let items = s
            .grants
            .iter()
            .map(|(a, e)| Grant::new(a.as_str(), EntitlementRef::new(ty.clone(), e.as_str())))
            .collect();
        Ok(Page::new(items, None))
    }
    async fn create_account(&self, spec: &AccountSpec) -> Result<CreateOutcome> {
        let mut s = self.lock();
        s.calls.create += 1;
        let id = format!("u-{}", spec.login);
        let account = Account::new(id.as_str(), spec.login.as_str());
        if s.accounts.contains_key(&spec.login) {
            return Ok(CreateOutcome::AlreadyExists(account));
        }
        s.accounts.insert(spec.login.clone(), id);
        Ok(CreateOutcome::Created(account))
    }
    async fn update_account(&self, _: &AccountId, _: &AccountChange) -> Result<Account> {
        Err(Error::invalid_input("not used"))
    }
    async fn set_enabled(&self, _: &AccountId, _: bool) -> Result<()> {
        Err(Error::invalid_input("not used"))
    }
    async fn delete_account(&self, _: &AccountId) -> Result<()> {
        Err(Error::invalid_input("not used"))
    }
    async fn grant(&self, id: &AccountId, e: &EntitlementRef) -> Result<GrantOutcome> {
        let mut s = self.lock();
        s.calls.grant += 1;
        if let Some(err) = s.fail_grant.pop_front() {
            return Err(err);
        }
        if !s.accounts.values().any(|a| a == id.as_str()) {
            return Err(Error::not_found(format!("account {id}")));
        }
        Ok(
            if s.grants.insert((id.to_string(), e.id.as_str().to_owned())) {
                GrantOutcome::Granted
            } else {
                GrantOutcome::AlreadyGranted
            },
        )
    }
    async fn revoke(&self, _: &AccountId, _: &EntitlementRef) -> Result<RevokeOutcome> {
        Err(Error::invalid_input("not used"))
    }
}
