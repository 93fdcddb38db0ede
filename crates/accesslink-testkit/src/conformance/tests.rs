//! The suite proves itself against an in-memory connector: the faithful one passes
//! every check, and each deliberately broken variant fails the matching check.

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use std::fmt;

use accesslink_core::redact::truncate;
use accesslink_core::{
    Account, AccountChange, AccountId, AccountSpec, Capability, Comment, ConnectionReport,
    Connector, ConnectorInfo, CorrelationId, CreateOutcome, Entitlement, EntitlementRef,
    EntitlementType, Error, ErrorKind, Grant, GrantOutcome, NewTicket, Page, PageRequest,
    PageToken, Provisioner, Resolution, Result, RevokeOutcome, Ticket, TicketKind, TicketRef,
    TicketState, TicketStatus, TicketingSystem,
};
use async_trait::async_trait;

use super::cx::same_ticket;
use super::*;

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
}

struct StoredTicket {
    ticket: Ticket,
    /// The state on the server, which an agent (the backend) may change.
    state: TicketState,
    /// The state this connector last wrote, which `state_cached` reports instead.
    written: TicketState,
    comments: Vec<Comment>,
}

#[derive(Default)]
struct State {
    tickets: BTreeMap<u64, StoredTicket>,
    accounts: BTreeMap<u64, Account>,
    grants: HashSet<(AccountId, EntitlementRef)>,
    next_ticket: u64,
    next_account: u64,
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

fn ticket_ref(n: u64) -> TicketRef {
    TicketRef::by_id_and_number(n.to_string(), n.to_string())
}

fn digits(s: &str) -> Result<u64> {
    let ok = !s.is_empty() && s.len() <= 18 && s.bytes().all(|b| b.is_ascii_digit());
    ok.then(|| s.parse().ok()).flatten().ok_or_else(|| {
        Error::invalid_input(format!("{:?} is not a ticket number", truncate(s, 40)))
    })
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
        }
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
        let mut st = self.lock();
        if !self.faults.create_not_idempotent {
            self.request();
            if let Some(t) = self.find(&st, &new.correlation_id) {
                return Ok(t);
            }
        }
        self.request();
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
        };
        let view = self.view(&stored);
        st.tickets.insert(n, stored);
        Ok(view)
    }

    async fn find_by_correlation(&self, id: &CorrelationId) -> Result<Option<Ticket>> {
        self.require(&Capability::FindByCorrelation, "find_by_correlation")?;
        self.request();
        Ok(self.find(&self.lock(), id))
    }

    async fn get_ticket(&self, r: &TicketRef) -> Result<Option<Ticket>> {
        self.require(&Capability::GetTicket, "get_ticket")?;
        let n = self.number(r)?;
        self.request();
        let st = self.lock();
        Ok(n.and_then(|n| st.tickets.get(&n)).map(|s| self.view(s)))
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
        Ok(found.map(|s| self.view(s)).collect())
    }

    async fn add_comment(&self, r: &TicketRef, c: &Comment) -> Result<()> {
        self.require(&Capability::Comment, "add_comment")?;
        let n = self.number(r)?;
        self.request();
        let mut st = self.lock();
        let t = n.and_then(|n| st.tickets.get_mut(&n));
        let t = t.ok_or_else(|| Error::not_found(format!("ticket {r}")))?;
        if !self.faults.comment_dropped {
            t.comments.push(c.clone());
        }
        Ok(())
    }

    async fn close_ticket(&self, r: &TicketRef, how: &Resolution) -> Result<Ticket> {
        self.require(&Capability::CloseTicket, "close_ticket")?;
        let n = self.number(r)?;
        self.request();
        let mut st = self.lock();
        let t = n.and_then(|n| st.tickets.get_mut(&n));
        let t = t.ok_or_else(|| Error::not_found(format!("ticket {r}")))?;
        if !self.faults.close_keeps_open {
            t.state = TicketState::Closed;
            t.written = TicketState::Closed;
            t.ticket.resolution = Some(how.notes.clone());
        }
        Ok(self.view(t))
    }
}

#[async_trait]
impl Provisioner for Memory {
    fn entitlement_types(&self) -> &[EntitlementType] {
        &self.types
    }

    async fn list_accounts(&self, page: PageRequest) -> Result<Page<Account>> {
        self.require(&Capability::ListAccounts, "list_accounts")?;
        let start: usize = match &page.token {
            None => 0,
            Some(t) => t
                .as_str()
                .parse()
                .map_err(|_| Error::invalid_input("bad page token"))?,
        };
        self.request();
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
        Ok(Page::new(items, next).with_total(Some(st.accounts.len() as u64)))
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
        self.request();
        let e = Entitlement::new(EntitlementRef::new(ty.clone(), "admin"), "Admin");
        Ok(Page::new(vec![e], None))
    }

    async fn list_grants(&self, ty: &EntitlementType, _page: PageRequest) -> Result<Page<Grant>> {
        self.require(&Capability::ListGrants, "list_grants")?;
        self.request();
        let st = self.lock();
        let grants = st.grants.iter().filter(|(_, e)| &e.ty == ty);
        let items = grants
            .map(|(a, e)| Grant::new(a.clone(), e.clone()))
            .collect();
        Ok(Page::new(items, None))
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
        Ok(CreateOutcome::Created(a))
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
        let t = st.tickets.get_mut(&n);
        t.ok_or_else(|| Error::not_found(format!("ticket {r}")))?
            .state = state;
        Ok(())
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
}

#[async_trait]
impl AccountBackend for Memory {
    async fn account_count(&self) -> Result<usize> {
        Ok(self.lock().accounts.len())
    }

    async fn holds(&self, account: &AccountId, e: &EntitlementRef) -> Result<bool> {
        Ok(self.lock().grants.contains(&(account.clone(), e.clone())))
    }

    fn requests_seen(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
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

#[tokio::test]
async fn a_faithful_connector_passes_every_check() {
    let m = Memory::new(Faults::default());
    let tickets = run_ticketing_suite(&m, &m, &ticketing_suite()).await;
    tickets.assert_success();
    let passed: Vec<Check> = tickets.passed().collect();
    assert_eq!(
        passed,
        [
            Check::InvalidTicketRefsRejected,
            Check::TicketLifecycle,
            Check::CreateIsIdempotent,
            Check::FollowStateChange,
            Check::UnsupportedOperationsDeclared,
            Check::SecretsNeverPrinted,
        ]
    );

    let accounts = run_provisioning_suite(&m, &m, &provisioning_suite()).await;
    accounts.assert_success();
    let passed: Vec<Check> = accounts.passed().collect();
    assert_eq!(
        passed,
        [
            Check::DrainAccounts,
            Check::ResumeAccounts,
            Check::AccountLifecycle,
            Check::UnsupportedOperationsDeclared,
            Check::SecretsNeverPrinted,
        ]
    );
    // Three tickets (lifecycle, idempotent, follow), one each; the account was deleted.
    assert_eq!(m.lock().tickets.len(), 3);
    assert_eq!(m.lock().accounts.len(), 7);
}

#[tokio::test]
async fn fault_checks_are_skipped_with_the_reason_when_the_backend_cannot_inject_faults() {
    let m = Memory::new(Faults::default());
    let tickets = run_ticketing_suite(&m, &m, &ticketing_suite()).await;
    let skipped: Vec<(Check, &str)> = tickets.skipped().collect();
    let why = "the backend cannot inject faults";
    assert_eq!(
        skipped,
        [
            (Check::LostCreateAnswer, why),
            (Check::HtmlIsAProtocolError, why),
            (Check::CommentNotRepeated, why),
        ],
        "{tickets}"
    );
    let accounts = run_provisioning_suite(&m, &m, &provisioning_suite()).await;
    let skipped: Vec<(Check, &str)> = accounts.skipped().collect();
    assert_eq!(
        skipped,
        [
            (Check::ExpiryMidImport, why),
            (Check::EntitlementsAndGrantsDrained, why),
            (Check::HtmlIsAProtocolError, why),
        ],
        "{accounts}"
    );
}

#[tokio::test]
async fn an_explicit_skip_is_reported_with_its_reason_and_does_not_run() {
    // A connector that would fail the lifecycle check passes once it is skipped, and the
    // report still says so.
    let m = faulty(Faults {
        comment_dropped: true,
        ..Faults::default()
    });
    let suite = ticketing_suite().skip(Check::TicketLifecycle, "memory drops comments (#1)");
    let report = run_ticketing_suite(&m, &m, &suite).await;
    report.assert_success();
    assert!(
        matches!(
            report.outcome(Check::TicketLifecycle),
            Some(Outcome::Skipped(why)) if why == "skipped by the suite: memory drops comments (#1)"
        ),
        "{report}"
    );
    assert!(report.passed().any(|c| c == Check::CreateIsIdempotent));
    let suite = provisioning_suite().skip(Check::SecretsNeverPrinted, "not this time");
    let m = faulty(Faults {
        leaks_secret: true,
        ..Faults::default()
    });
    let report = run_provisioning_suite(&m, &m, &suite).await;
    report.assert_success();
    assert!(
        report
            .skipped()
            .any(|(c, why)| c == Check::SecretsNeverPrinted && why.ends_with("not this time")),
        "{report}"
    );
}

#[tokio::test]
async fn undeclared_operations_that_fail_locally_pass() {
    let m = Memory::new(Faults::default()).without([
        Capability::EnableDisable,
        Capability::DeleteAccount,
        Capability::UpdateAccount,
        Capability::Comment,
    ]);
    let tickets = run_ticketing_suite(&m, &m, &ticketing_suite()).await;
    tickets.assert_success();
    assert!(
        matches!(tickets.outcome(Check::TicketLifecycle), Some(Outcome::Skipped(why)) if why.contains("Comment")),
        "{tickets}"
    );
    let accounts = run_provisioning_suite(&m, &m, &provisioning_suite()).await;
    accounts.assert_success();
    assert!(matches!(
        accounts.outcome(Check::AccountLifecycle),
        Some(Outcome::Passed)
    ));
    // Without DeleteAccount the lifecycle leaves its account behind.
    assert_eq!(m.lock().accounts.len(), 8);
}

#[tokio::test]
async fn create_that_is_not_idempotent_fails_the_idempotency_check() {
    let m = faulty(Faults {
        create_not_idempotent: true,
        ..Faults::default()
    });
    let f = failed(
        create_is_idempotent(&m, &m, &new_ticket()).await,
        Check::CreateIsIdempotent,
    );
    assert_eq!(f.step, "second create_ticket", "{f}");
    assert!(f.expected.starts_with("the same ticket as"), "{f}");
    assert!(
        f.to_string()
            .starts_with("create_is_idempotent: second create_ticket: expected the same ticket as"),
        "{f}"
    );

    let report = run_ticketing_suite(&m, &m, &ticketing_suite()).await;
    assert!(
        report.failure(Check::CreateIsIdempotent).is_some(),
        "{report}"
    );
    assert!(matches!(
        report.outcome(Check::InvalidTicketRefsRejected),
        Some(Outcome::Passed)
    ));
    assert!(
        report
            .to_string()
            .contains("FAIL create_is_idempotent: second create_ticket"),
        "{report}"
    );
}

#[tokio::test]
async fn idempotency_check_refuses_a_used_correlation_id() {
    let m = Memory::new(Faults::default());
    let new = new_ticket();
    m.create_ticket(&new).await.unwrap();
    let f = failed(
        create_is_idempotent(&m, &m, &new).await,
        Check::CreateIsIdempotent,
    );
    assert_eq!(f.expected, "0 tickets (pass a fresh correlation id)");
    assert_eq!(f.found, "1");
}

#[tokio::test]
async fn parse_that_accepts_injection_fails_with_the_input_named() {
    let m = faulty(Faults {
        parse_accepts_anything: true,
        ..Faults::default()
    });
    let f = failed(
        invalid_ticket_refs_rejected(&m, &m, &["abc"]).await,
        Check::InvalidTicketRefsRejected,
    );
    assert_eq!(f.step, r#"parse_ticket_ref("abc")"#);
    assert_eq!(f.expected, "an error of kind `invalid input`");
    assert!(f.found.starts_with("Ok(TicketRef"), "{f}");

    // Without a target-specific list, the built-in attempts catch it.
    let f = failed(
        invalid_ticket_refs_rejected(&m, &m, &[]).await,
        Check::InvalidTicketRefsRejected,
    );
    assert_eq!(f.step, r#"parse_ticket_ref("")"#);
}

#[tokio::test]
async fn unvalidated_refs_that_reach_the_server_fail() {
    let m = faulty(Faults {
        get_skips_validation: true,
        ..Faults::default()
    });
    let f = failed(
        invalid_ticket_refs_rejected(&m, &m, &[]).await,
        Check::InvalidTicketRefsRejected,
    );
    assert_eq!(f.step, r#"get_ticket(TicketRef::by_id(""))"#);
    assert_eq!(
        (f.expected.as_str(), f.found.as_str()),
        ("no request", "1 request(s)")
    );
}

#[tokio::test]
async fn every_builtin_attempt_is_rejected_by_a_digits_only_parser() {
    let m = Memory::new(Faults::default());
    for raw in injection_attempts() {
        let e = m.parse_ticket_ref(&raw).expect_err(&raw);
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
    }
    assert!(
        m.parse_ticket_ref(" 42 ").is_ok(),
        "the double accepts valid numbers"
    );
    invalid_ticket_refs_rejected(&m, &m, &["abc"])
        .await
        .unwrap();
    assert_eq!(TicketBackend::requests_seen(&m), 0);
}

#[tokio::test]
async fn dropped_comment_fails_the_lifecycle() {
    let m = faulty(Faults {
        comment_dropped: true,
        ..Faults::default()
    });
    let f = failed(
        ticket_lifecycle(&m, &m, &new_ticket()).await,
        Check::TicketLifecycle,
    );
    assert_eq!(f.step, "backend.comments after add_comment");
    assert!(f.expected.contains("Public comment"), "{f}");
    assert!(f.found.starts_with("0 comment(s)"), "{f}");
}

#[tokio::test]
async fn close_that_leaves_the_ticket_open_fails_the_lifecycle() {
    let m = faulty(Faults {
        close_keeps_open: true,
        ..Faults::default()
    });
    let f = failed(
        ticket_lifecycle(&m, &m, &new_ticket()).await,
        Check::TicketLifecycle,
    );
    assert_eq!(f.step, "close_ticket");
    assert_eq!(f.expected, "a terminal state");
    assert_eq!(f.found, r#"state new (raw "new")"#);
}

#[tokio::test]
async fn a_connector_that_caches_state_fails_to_follow() {
    let m = faulty(Faults {
        state_cached: true,
        ..Faults::default()
    });
    let f = failed(
        follow_state_change(&m, &m, &new_ticket()).await,
        Check::FollowStateChange,
    );
    assert_eq!(f.step, "get_ticket after the backend resolved it");
    assert_eq!(f.expected, "resolved or closed");
    assert!(f.found.starts_with("state new"), "{f}");
}

#[tokio::test]
async fn overlapping_pages_fail_the_drain() {
    let m = faulty(Faults {
        pages_overlap: true,
        ..Faults::default()
    });
    let f = failed(drain_accounts(&m, &m, 3).await, Check::DrainAccounts);
    assert_eq!(f.expected, "no account on two pages");
    assert!(
        f.found.contains("\"u3\""),
        "the first repeated id is named: {f}"
    );
}

#[tokio::test]
async fn drain_needs_more_accounts_than_a_page() {
    let m = Memory::new(Faults::default());
    let f = failed(drain_accounts(&m, &m, 7).await, Check::DrainAccounts);
    assert_eq!(f.step, "backend.account_count");
    assert_eq!(f.found, "7");
    drain_accounts(&m, &m, 1).await.unwrap();
    resume_accounts(&m, &m, 1).await.unwrap();
}

#[tokio::test]
async fn grant_that_never_says_already_granted_fails_the_lifecycle() {
    let m = faulty(Faults {
        grant_never_already: true,
        ..Faults::default()
    });
    let spec = AccountSpec::new("new.user");
    let f = failed(
        account_lifecycle(&m, &m, &spec, &role("admin")).await,
        Check::AccountLifecycle,
    );
    assert_eq!(
        f.to_string(),
        "account_lifecycle: grant again: expected AlreadyGranted, found Granted"
    );
}

#[tokio::test]
async fn lifecycle_refuses_an_existing_login() {
    let m = Memory::new(Faults::default());
    let spec = AccountSpec::new("user1");
    let f = failed(
        account_lifecycle(&m, &m, &spec, &role("admin")).await,
        Check::AccountLifecycle,
    );
    assert_eq!(f.expected, "Created (pass a login that does not exist yet)");
    assert!(f.found.starts_with("AlreadyExists"), "{f}");
}

#[tokio::test]
async fn silent_disable_without_the_capability_fails_two_checks() {
    let m = faulty(Faults {
        silent_disable: true,
        ..Faults::default()
    })
    .without([Capability::EnableDisable]);
    let f = failed(
        unsupported_operations_declared(&m, &|| TicketBackend::requests_seen(&m)).await,
        Check::UnsupportedOperationsDeclared,
    );
    assert_eq!(f.step, "set_enabled without EnableDisable");
    assert_eq!(f.expected, "an error of kind `unsupported`");
    assert_eq!(f.found, "Ok(())");

    let spec = AccountSpec::new("new.user");
    let f = failed(
        account_lifecycle(&m, &m, &spec, &role("admin")).await,
        Check::AccountLifecycle,
    );
    assert_eq!(f.step, "set_enabled(false) without EnableDisable");
}

#[tokio::test]
async fn unsupported_decided_by_a_request_fails() {
    let m = faulty(Faults {
        unsupported_after_request: true,
        ..Faults::default()
    })
    .without([Capability::ListGrants]);
    let f = failed(
        unsupported_operations_declared(&m, &|| TicketBackend::requests_seen(&m)).await,
        Check::UnsupportedOperationsDeclared,
    );
    assert_eq!(f.step, "list_grants without ListGrants");
    assert_eq!(
        (f.expected.as_str(), f.found.as_str()),
        ("no request", "1 request(s)")
    );
}

#[derive(Debug)]
struct TicketingOnly;

#[async_trait]
impl Connector for TicketingOnly {
    fn info(&self) -> &ConnectorInfo {
        static INFO: std::sync::OnceLock<ConnectorInfo> = std::sync::OnceLock::new();
        INFO.get_or_init(|| ConnectorInfo::new("lopsided", "test").with([Capability::Grant]))
    }

    async fn test_connection(&self) -> Result<ConnectionReport> {
        Ok(ConnectionReport::new(Duration::ZERO))
    }
}

#[tokio::test]
async fn capabilities_of_a_missing_side_fail() {
    let f = failed(
        unsupported_operations_declared(&TicketingOnly, &|| 0).await,
        Check::UnsupportedOperationsDeclared,
    );
    assert_eq!(
        f.to_string(),
        "unsupported_operations_declared: declared capability Grant: expected as_provisioner() to be Some, found None"
    );

    let m = Memory::new(Faults::default());
    let report = run_provisioning_suite(&TicketingOnly, &m, &provisioning_suite()).await;
    assert!(!report.is_success());
    // Drain, resume, expiry, entitlements and grants, HTML, lifecycle.
    assert_eq!(report.failures().count(), 6, "{report}");
}

#[tokio::test]
async fn a_leaked_secret_fails_without_being_printed() {
    let m = faulty(Faults {
        leaks_secret: true,
        ..Faults::default()
    });
    let report = run_ticketing_suite(&m, &m, &ticketing_suite()).await;
    let f = report
        .failure(Check::SecretsNeverPrinted)
        .expect("secrets check fails");
    assert!(f.found.contains("secret: \"[canary #0]\""), "{f}");
    let printed = format!("{report}\n{report:?}");
    assert!(!printed.contains(SECRET), "{printed}");
}

#[test]
fn secrets_are_found_percent_encoded_and_short_canaries_refused() {
    let out = "GET /api?token=p%40ss+word%2F1 HTTP/1.1";
    let f = failed(
        secrets_never_printed(out, &["p@ss word/1"]),
        Check::SecretsNeverPrinted,
    );
    assert!(f.found.starts_with("percent-encoded at byte 15"), "{f}");
    assert!(!f.to_string().contains("p@ss"), "{f}");
    secrets_never_printed(out, &["other-secret"]).unwrap();
    let f = failed(
        secrets_never_printed(out, &["abc"]),
        Check::SecretsNeverPrinted,
    );
    assert_eq!(f.step, "canary #0");
}

#[tokio::test]
async fn backend_errors_are_kept_as_the_source() {
    struct Broken;
    #[async_trait]
    impl AccountBackend for Broken {
        async fn account_count(&self) -> Result<usize> {
            Err(Error::other("backend is down"))
        }
        async fn holds(&self, _: &AccountId, _: &EntitlementRef) -> Result<bool> {
            Ok(false)
        }
        fn requests_seen(&self) -> usize {
            0
        }
    }
    let m = Memory::new(Faults::default());
    let f = failed(drain_accounts(&m, &Broken, 2).await, Check::DrainAccounts);
    assert_eq!(f.found, "an error of kind `other`");
    let source = std::error::Error::source(&f).expect("a source");
    assert_eq!(source.to_string(), "backend is down");
    let report = run_provisioning_suite(&m, &Broken, &provisioning_suite()).await;
    assert!(
        report.to_string().contains("caused by: backend is down"),
        "{report}"
    );
}

#[test]
fn report_lists_passed_failed_and_skipped() {
    let mut report = SuiteReport::default();
    report.record(Check::DrainAccounts, Ok(()));
    report.skip(
        Check::AccountLifecycle,
        "the connector does not declare [Grant]",
    );
    let f = ConformanceFailure::new(Check::SecretsNeverPrinted, "canary #0", "absent", "present");
    report.record(Check::SecretsNeverPrinted, Err(f));
    assert_eq!(
        report.to_string(),
        "conformance: 1 passed, 1 failed, 1 skipped\n\
         \x20 PASS drain_accounts\n\
         \x20 SKIP account_lifecycle: the connector does not declare [Grant]\n\
         \x20 FAIL secrets_never_printed: canary #0: expected absent, found present\n"
    );
    assert!(!report.is_success());
    assert_eq!(
        report.skipped().collect::<Vec<_>>(),
        [(
            Check::AccountLifecycle,
            "the connector does not declare [Grant]"
        )]
    );
}

#[test]
fn same_ticket_compares_the_parts_both_carry() {
    let full = ticket_ref(7);
    assert!(same_ticket(&full, &TicketRef::by_number("7")));
    assert!(same_ticket(&TicketRef::by_id("7"), &full));
    assert!(!same_ticket(&full, &TicketRef::by_number("8")));
    assert!(!same_ticket(
        &TicketRef::by_id("7"),
        &TicketRef::by_number("7")
    ));
}

#[test]
fn check_futures_are_send() {
    fn send<T: Send>(_: T) {}
    let m = Memory::new(Faults::default());
    send(run_ticketing_suite(&m, &m, &ticketing_suite()));
    send(run_provisioning_suite(&m, &m, &provisioning_suite()));
}

#[test]
fn fresh_ids_differ_and_use_safe_characters() {
    let (a, b) = (fresh_id("req"), fresh_id("req"));
    assert_ne!(a, b);
    assert!(a.starts_with("req-"));
    assert!(
        a.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'),
        "{a}"
    );
}
