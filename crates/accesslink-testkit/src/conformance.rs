//! The conformance suite every connector runs, against its stateful mock and, where the
//! product runs here (Znuny, GLPI), against a real server.
//!
//! Each check is a `pub async fn` over `&dyn TicketingSystem` or `&dyn Provisioner` that
//! returns `Ok(())` or a [`ConformanceFailure`] naming the check, the step, what was
//! expected and what was found. The checks cannot see the server through the connector
//! alone (that would let a connector vouch for itself), so each takes a backend —
//! [`TicketBackend`] or [`AccountBackend`] — that drives and inspects the server directly:
//! a mock reads its own state, a live suite uses its own client and counts the connector's
//! requests through a proxy.
//!
//! [`run_ticketing_suite`] and [`run_provisioning_suite`] run every check that applies to a
//! connector's declared capabilities and return a [`SuiteReport`]:
//!
//! ```no_run
//! use accesslink_core::{Connector, CorrelationId, NewTicket, TicketKind};
//! use accesslink_testkit::conformance::{
//!     TicketBackend, TicketingSuite, fresh_id, run_ticketing_suite,
//! };
//!
//! # async fn run(connector: &dyn Connector, mock: &dyn TicketBackend) {
//! let template = NewTicket::new(
//!     TicketKind::Incident,
//!     "conformance",
//!     "opened by the accesslink conformance suite",
//!     CorrelationId::new(fresh_id("conf")),
//! );
//! let suite = TicketingSuite::new(template)
//!     .bad_refs(["INC12", "12345678901234567890123"])
//!     .canaries(["agent-password-canary"]);
//! run_ticketing_suite(connector, mock, &suite).await.assert_success();
//! # }
//! ```

use std::collections::HashSet;
use std::fmt::{self, Write as _};
use std::time::{SystemTime, UNIX_EPOCH};

use accesslink_core::paging::{self, PagingOptions, StopReason};
use accesslink_core::redact::truncate;
use accesslink_core::{
    AccountChange, AccountId, AccountSpec, Capability, Comment, Connector, CorrelationId,
    CreateOutcome, EntitlementRef, EntitlementType, Error, ErrorKind, GrantOutcome, NewTicket,
    PageRequest, Provisioner, Resolution, Result, RevokeOutcome, Ticket, TicketKind, TicketRef,
    TicketState, TicketingSystem,
};
use async_trait::async_trait;
use futures::TryStreamExt;

/// Longest error message a rejected ticket reference may produce: the message is logged,
/// so echoing a 10 000-character input would flood the logs.
const MAX_REJECTION_MESSAGE: usize = 1024;

/// Drives and inspects the ticketing server behind a connector, without going through it.
///
/// A mock implements this over its own state; a live suite with its own client, counting
/// the connector's requests through a proxy. Requests the backend makes itself must not be
/// counted in [`requests_seen`](TicketBackend::requests_seen).
#[async_trait]
pub trait TicketBackend: Send + Sync {
    /// Moves a ticket to a state as an agent would (resolve it, say), so a check can
    /// test that the connector follows the change.
    async fn set_ticket_state(&self, r: &TicketRef, state: TicketState) -> Result<()>;

    /// How many tickets on the server carry this correlation id (to prove no duplicates).
    async fn count_with_correlation(&self, id: &CorrelationId) -> Result<usize>;

    /// The comments stored on a ticket, as the server keeps them (body and visibility),
    /// so a check can prove a comment landed instead of being silently dropped.
    async fn comments(&self, r: &TicketRef) -> Result<Vec<Comment>>;

    /// How many requests the connector under test has sent to the server so far.
    fn requests_seen(&self) -> usize;
}

/// Inspects the identity store behind a provisioning connector, without going through it.
///
/// Requests the backend makes itself must not be counted in
/// [`requests_seen`](AccountBackend::requests_seen).
#[async_trait]
pub trait AccountBackend: Send + Sync {
    /// How many accounts the server holds (every account the connector can list).
    async fn account_count(&self) -> Result<usize>;

    /// Whether the account holds the entitlement on the server.
    async fn holds(&self, account: &AccountId, e: &EntitlementRef) -> Result<bool>;

    /// How many requests the connector under test has sent to the server so far.
    fn requests_seen(&self) -> usize;
}

/// One check of the suite.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Check {
    /// [`invalid_ticket_refs_rejected`].
    InvalidTicketRefsRejected,
    /// [`ticket_lifecycle`].
    TicketLifecycle,
    /// [`create_is_idempotent`].
    CreateIsIdempotent,
    /// [`follow_state_change`].
    FollowStateChange,
    /// [`drain_accounts`].
    DrainAccounts,
    /// [`resume_accounts`].
    ResumeAccounts,
    /// [`account_lifecycle`].
    AccountLifecycle,
    /// [`unsupported_operations_declared`].
    UnsupportedOperationsDeclared,
    /// [`secrets_never_printed`].
    SecretsNeverPrinted,
}

impl Check {
    /// The check's name: the name of its function.
    pub fn name(self) -> &'static str {
        match self {
            Check::InvalidTicketRefsRejected => "invalid_ticket_refs_rejected",
            Check::TicketLifecycle => "ticket_lifecycle",
            Check::CreateIsIdempotent => "create_is_idempotent",
            Check::FollowStateChange => "follow_state_change",
            Check::DrainAccounts => "drain_accounts",
            Check::ResumeAccounts => "resume_accounts",
            Check::AccountLifecycle => "account_lifecycle",
            Check::UnsupportedOperationsDeclared => "unsupported_operations_declared",
            Check::SecretsNeverPrinted => "secrets_never_printed",
        }
    }
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A check that failed: which one, at which step, what was expected and what was found.
///
/// When the connector or backend answered with an error, that error is the
/// [`source`](std::error::Error::source) and is not repeated in the message.
#[derive(Debug)]
#[non_exhaustive]
pub struct ConformanceFailure {
    /// The check that failed.
    pub check: Check,
    /// The step within the check (`second create_ticket`, `grant again`).
    pub step: String,
    /// What the contract requires.
    pub expected: String,
    /// What happened instead.
    pub found: String,
    source: Option<Box<Error>>,
}

impl ConformanceFailure {
    /// A failure without an underlying error.
    pub fn new(
        check: Check,
        step: impl Into<String>,
        expected: impl Into<String>,
        found: impl Into<String>,
    ) -> Self {
        ConformanceFailure {
            check,
            step: step.into(),
            expected: expected.into(),
            found: found.into(),
            source: None,
        }
    }

    /// A failure caused by an error from the connector or the backend.
    pub fn from_error(
        check: Check,
        step: impl Into<String>,
        expected: impl Into<String>,
        error: Error,
    ) -> Self {
        ConformanceFailure {
            found: format!("an error of kind `{}`", error.kind()),
            source: Some(Box::new(error)),
            ..ConformanceFailure::new(check, step, expected, "")
        }
    }
}

impl fmt::Display for ConformanceFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {}: expected {}, found {}",
            self.check, self.step, self.expected, self.found
        )
    }
}

impl std::error::Error for ConformanceFailure {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_deref().map(|e| e as _)
    }
}

/// How one check went.
#[derive(Debug)]
#[non_exhaustive]
pub enum Outcome {
    /// Every step held.
    Passed,
    /// A step did not hold.
    Failed(ConformanceFailure),
    /// The check does not apply to this connector; the reason says why.
    Skipped(String),
}

/// One check and how it went.
#[derive(Debug)]
#[non_exhaustive]
pub struct CheckResult {
    /// The check.
    pub check: Check,
    /// How it went.
    pub outcome: Outcome,
}

/// Which checks of a suite passed, failed or were skipped, in the order they ran.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct SuiteReport {
    /// One entry per check, in run order.
    pub results: Vec<CheckResult>,
}

impl SuiteReport {
    /// How `check` went, if it ran.
    pub fn outcome(&self, check: Check) -> Option<&Outcome> {
        self.results
            .iter()
            .find(|r| r.check == check)
            .map(|r| &r.outcome)
    }

    /// The failure of `check`, if it failed.
    pub fn failure(&self, check: Check) -> Option<&ConformanceFailure> {
        match self.outcome(check) {
            Some(Outcome::Failed(f)) => Some(f),
            _ => None,
        }
    }

    /// The checks that passed.
    pub fn passed(&self) -> impl Iterator<Item = Check> + '_ {
        self.results
            .iter()
            .filter(|r| matches!(r.outcome, Outcome::Passed))
            .map(|r| r.check)
    }

    /// Every failure.
    pub fn failures(&self) -> impl Iterator<Item = &ConformanceFailure> + '_ {
        self.results.iter().filter_map(|r| match &r.outcome {
            Outcome::Failed(f) => Some(f),
            _ => None,
        })
    }

    /// The checks that were skipped, with the reason.
    pub fn skipped(&self) -> impl Iterator<Item = (Check, &str)> + '_ {
        self.results.iter().filter_map(|r| match &r.outcome {
            Outcome::Skipped(why) => Some((r.check, why.as_str())),
            _ => None,
        })
    }

    /// Whether no check failed.
    pub fn is_success(&self) -> bool {
        self.failures().next().is_none()
    }

    /// Panics with the whole report when a check failed; for use in tests.
    #[track_caller]
    pub fn assert_success(&self) {
        assert!(self.is_success(), "conformance suite failed\n{self}");
    }

    fn record(&mut self, check: Check, result: Result<(), ConformanceFailure>) {
        let outcome = match result {
            Ok(()) => Outcome::Passed,
            Err(f) => Outcome::Failed(f),
        };
        self.results.push(CheckResult { check, outcome });
    }

    fn skip(&mut self, check: Check, why: impl Into<String>) {
        self.results.push(CheckResult {
            check,
            outcome: Outcome::Skipped(why.into()),
        });
    }
}

impl fmt::Display for SuiteReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let failed = self.failures().count();
        let skipped = self.skipped().count();
        let passed = self.results.len() - failed - skipped;
        writeln!(
            f,
            "conformance: {passed} passed, {failed} failed, {skipped} skipped"
        )?;
        for r in &self.results {
            match &r.outcome {
                Outcome::Passed => writeln!(f, "  PASS {}", r.check)?,
                Outcome::Skipped(why) => writeln!(f, "  SKIP {}: {why}", r.check)?,
                Outcome::Failed(failure) => {
                    writeln!(f, "  FAIL {failure}")?;
                    let mut source = std::error::Error::source(failure);
                    while let Some(e) = source {
                        writeln!(f, "       caused by: {e}")?;
                        source = e.source();
                    }
                }
            }
        }
        Ok(())
    }
}

/// What the ticketing suite needs besides the connector and its backend.
#[derive(Clone)]
#[non_exhaustive]
pub struct TicketingSuite {
    /// The ticket each check opens. Its correlation id is the base of the ids the checks
    /// use (`<id>-lifecycle`, `<id>-idempotent`, `<id>-follow`), so it must be fresh on
    /// every run against a real server (see [`fresh_id`]).
    pub template: NewTicket,
    /// Target-specific malformed ticket ids, checked along with [`injection_attempts`].
    pub bad_refs: Vec<String>,
    /// Secret values the connector was configured with; none may appear in its `Debug`.
    pub canaries: Vec<String>,
}

impl TicketingSuite {
    /// A suite opening tickets like `template`.
    pub fn new(template: NewTicket) -> Self {
        TicketingSuite {
            template,
            bad_refs: Vec::new(),
            canaries: Vec::new(),
        }
    }

    /// Adds target-specific malformed ticket ids.
    #[must_use]
    pub fn bad_refs(mut self, refs: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.bad_refs.extend(refs.into_iter().map(Into::into));
        self
    }

    /// Adds secret values that must never be printed.
    #[must_use]
    pub fn canaries(mut self, secrets: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.canaries.extend(secrets.into_iter().map(Into::into));
        self
    }
}

impl fmt::Debug for TicketingSuite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TicketingSuite")
            .field("template", &self.template)
            .field("bad_refs", &self.bad_refs)
            .field(
                "canaries",
                &format_args!("[{} redacted]", self.canaries.len()),
            )
            .finish()
    }
}

/// What the provisioning suite needs besides the connector and its backend.
#[derive(Clone)]
#[non_exhaustive]
pub struct ProvisioningSuite {
    /// The page size to drain accounts with; the backend must hold more accounts than
    /// this, so that paging is exercised.
    pub page_size: u32,
    /// The account the lifecycle check creates; its login must not exist yet.
    pub account: AccountSpec,
    /// An existing entitlement the lifecycle check grants and revokes.
    pub entitlement: EntitlementRef,
    /// Secret values the connector was configured with; none may appear in its `Debug`.
    pub canaries: Vec<String>,
}

impl ProvisioningSuite {
    /// A suite draining at `page_size` and creating `account` with `entitlement`.
    pub fn new(page_size: u32, account: AccountSpec, entitlement: EntitlementRef) -> Self {
        ProvisioningSuite {
            page_size,
            account,
            entitlement,
            canaries: Vec::new(),
        }
    }

    /// Adds secret values that must never be printed.
    #[must_use]
    pub fn canaries(mut self, secrets: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.canaries.extend(secrets.into_iter().map(Into::into));
        self
    }
}

impl fmt::Debug for ProvisioningSuite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProvisioningSuite")
            .field("page_size", &self.page_size)
            .field("account", &self.account)
            .field("entitlement", &self.entitlement)
            .field(
                "canaries",
                &format_args!("[{} redacted]", self.canaries.len()),
            )
            .finish()
    }
}

/// An id no earlier run has used: `<prefix>-<unix millis>-<random hex>`, made of
/// characters every target accepts in correlation ids and logins.
pub fn fresh_id(prefix: &str) -> String {
    let millis = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    format!("{prefix}-{millis}-{:04x}", fastrand::u16(..))
}

/// Ticket ids no target accepts: empty and blank input, SQL, path, query-string,
/// ServiceNow encoded-query, script, template and header injection, search wildcards,
/// control characters, non-ASCII digits and very long strings.
pub fn injection_attempts() -> Vec<String> {
    let mut v: Vec<String> = [
        "",
        " ",
        "\t\n",
        "1 OR 1=1",
        "1' OR '1'='1",
        "1; DROP TABLE tickets",
        "../../etc/passwd",
        "..%2F..%2Fetc%2Fpasswd",
        "INC001^ORactive=true",
        "<script>alert(1)</script>",
        "${jndi:ldap://example.invalid/a}",
        r#"{"$ne":null}"#,
        "*",
        "1*",
        "%",
        "1&limit=100000",
        "1?x=y",
        "1#x",
        "1/2",
        "12\u{0}3",
        "1\r\nX-Injected: yes",
        "12\u{1b}[2J",
        "\u{661}\u{662}\u{663}",
        "\u{ff11}\u{ff12}\u{ff13}",
        "\u{1d7cf}\u{1d7d0}\u{1d7d1}",
        "\u{b9}\u{b2}\u{b3}",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    v.push("9".repeat(10_000));
    v.push("A".repeat(10_000));
    v
}

/// Builds failures for one check, so each step reads as one line.
#[derive(Clone, Copy)]
struct Cx(Check);

impl Cx {
    fn fail(
        self,
        step: &str,
        expected: impl Into<String>,
        found: impl Into<String>,
    ) -> ConformanceFailure {
        ConformanceFailure::new(self.0, step, expected, found)
    }

    fn ensure(
        self,
        holds: bool,
        step: &str,
        expected: impl Into<String>,
        found: impl FnOnce() -> String,
    ) -> Result<(), ConformanceFailure> {
        if holds {
            Ok(())
        } else {
            Err(self.fail(step, expected, found()))
        }
    }

    /// The value of a call that must succeed.
    fn ok<T>(self, step: &str, r: Result<T>) -> Result<T, ConformanceFailure> {
        r.map_err(|e| ConformanceFailure::from_error(self.0, step, "success", e))
    }

    /// The value of a read that must find something.
    fn some<T>(self, step: &str, r: Result<Option<T>>) -> Result<T, ConformanceFailure> {
        match r {
            Ok(Some(v)) => Ok(v),
            Ok(None) => Err(self.fail(step, "Some(..)", "None")),
            Err(e) => Err(ConformanceFailure::from_error(self.0, step, "Some(..)", e)),
        }
    }

    /// A call that must fail with `kind`.
    fn err_kind<T: fmt::Debug>(
        self,
        step: &str,
        r: Result<T>,
        kind: ErrorKind,
    ) -> Result<Error, ConformanceFailure> {
        let expected = format!("an error of kind `{kind}`");
        match r {
            Err(e) if e.kind() == kind => Ok(e),
            Err(e) => Err(ConformanceFailure::from_error(self.0, step, expected, e)),
            Ok(v) => Err(self.fail(step, expected, format!("Ok({})", short(&v)))),
        }
    }

    fn same_ticket(
        self,
        step: &str,
        got: &TicketRef,
        want: &TicketRef,
    ) -> Result<(), ConformanceFailure> {
        self.ensure(
            same_ticket(got, want),
            step,
            format!("the same ticket as {want:?}"),
            || format!("{got:?}"),
        )
    }

    fn in_state(
        self,
        step: &str,
        t: &Ticket,
        wanted: &str,
        holds: impl FnOnce(TicketState) -> bool,
    ) -> Result<(), ConformanceFailure> {
        self.ensure(holds(t.status.state), step, wanted.to_owned(), || {
            format!("state {} (raw {:?})", t.status.state, t.status.raw)
        })
    }
}

/// A value's `Debug`, cut short for a message.
fn short(v: &impl fmt::Debug) -> String {
    truncate(&format!("{v:?}"), 160)
}

/// A user-supplied string, cut short and escaped for a message.
fn quoted(raw: &str) -> String {
    format!("{:?}", truncate(raw, 40))
}

/// Whether two references name the same ticket: every part both carry agrees, and
/// they share at least one part (create may return the id and number, a parse only the
/// number).
fn same_ticket(a: &TicketRef, b: &TicketRef) -> bool {
    let ids = match (&a.id(), &b.id()) {
        (Some(x), Some(y)) => Some(x == y),
        _ => None,
    };
    let numbers = match (&a.number(), &b.number()) {
        (Some(x), Some(y)) => Some(x.eq_ignore_ascii_case(y)),
        _ => None,
    };
    match (ids, numbers) {
        (None, None) => false,
        (ids, numbers) => ids.unwrap_or(true) && numbers.unwrap_or(true),
    }
}

/// `new` with its correlation id suffixed, so each check opens its own ticket.
fn derived(new: &NewTicket, suffix: &str) -> NewTicket {
    let mut new = new.clone();
    new.correlation_id = CorrelationId::new(format!("{}-{suffix}", new.correlation_id));
    new
}

/// Every malformed ticket id — `bad` plus [`injection_attempts`] — is rejected by
/// `parse_ticket_ref` with [`ErrorKind::InvalidInput`] and a bounded message, and without
/// a request. The built-in attempts must also be rejected, without a request, when they
/// reach `get_ticket` in an unvalidated [`TicketRef`] (by id and by number): `TicketRef`'s
/// fields are public, so connectors validate again before a reference goes into a URL.
/// (That second part is left out when the connector does not declare `GetTicket`.)
pub async fn invalid_ticket_refs_rejected(
    ts: &dyn TicketingSystem,
    backend: &dyn TicketBackend,
    bad: &[&str],
) -> Result<(), ConformanceFailure> {
    let cx = Cx(Check::InvalidTicketRefsRejected);
    let builtin = injection_attempts();
    let all = bad
        .iter()
        .copied()
        .chain(builtin.iter().map(String::as_str));
    for raw in all {
        let step = format!("parse_ticket_ref({})", quoted(raw));
        let before = backend.requests_seen();
        let e = cx.err_kind(&step, ts.parse_ticket_ref(raw), ErrorKind::InvalidInput)?;
        let sent = backend.requests_seen().saturating_sub(before);
        cx.ensure(sent == 0, &step, "no request", || {
            format!("{sent} request(s)")
        })?;
        let len = e.to_string().chars().count();
        cx.ensure(
            len <= MAX_REJECTION_MESSAGE,
            &step,
            format!("an error message of at most {MAX_REJECTION_MESSAGE} characters"),
            || format!("{len} characters"),
        )?;
    }
    if !ts.info().supports(&Capability::GetTicket) {
        return Ok(());
    }
    for raw in &builtin {
        for (how, r) in [
            ("by_id", TicketRef::by_id(raw.as_str())),
            ("by_number", TicketRef::by_number(raw.as_str())),
        ] {
            let step = format!("get_ticket(TicketRef::{how}({}))", quoted(raw));
            let before = backend.requests_seen();
            let result = ts.get_ticket(&r).await;
            let sent = backend.requests_seen().saturating_sub(before);
            cx.ensure(sent == 0, &step, "no request", || {
                format!("{sent} request(s)")
            })?;
            cx.err_kind(&step, result, ErrorKind::InvalidInput)?;
        }
    }
    Ok(())
}

/// Create → get (same reference and title, open) → parse the ticket's number back and
/// get it → comment (public and internal, both stored with their visibility) → close →
/// get shows a terminal state → `get_tickets` returns it, and an empty batch returns
/// nothing without a request. The backend must count exactly one ticket with the
/// correlation id.
///
/// Titles are compared by containment: some targets carry the correlation tag in the
/// title (OTRS `Correlation::TitleTag`).
pub async fn ticket_lifecycle(
    ts: &dyn TicketingSystem,
    backend: &dyn TicketBackend,
    new: &NewTicket,
) -> Result<(), ConformanceFailure> {
    let cx = Cx(Check::TicketLifecycle);
    let title = new.title.trim();
    let created = cx.ok("create_ticket", ts.create_ticket(new).await)?;
    let r = created.reference.clone();
    cx.ensure(
        created.title.contains(title),
        "create_ticket",
        format!("a title containing {title:?}"),
        || format!("{:?}", created.title),
    )?;
    cx.in_state(
        "create_ticket",
        &created,
        "an open state",
        TicketState::is_open,
    )?;
    if let Some(found) = &created.correlation_id {
        cx.ensure(
            found == &new.correlation_id,
            "create_ticket",
            format!("correlation id {:?}", new.correlation_id.as_str()),
            || format!("{:?}", found.as_str()),
        )?;
    }
    let n = cx.ok(
        "backend.count_with_correlation",
        backend.count_with_correlation(&new.correlation_id).await,
    )?;
    cx.ensure(n == 1, "backend.count_with_correlation", "1 ticket", || {
        format!("{n}")
    })?;

    let got = cx.some("get_ticket", ts.get_ticket(&r).await)?;
    cx.same_ticket("get_ticket", &got.reference, &r)?;
    cx.ensure(
        got.title.contains(title),
        "get_ticket",
        format!("a title containing {title:?}"),
        || format!("{:?}", got.title),
    )?;
    cx.in_state("get_ticket", &got, "an open state", TicketState::is_open)?;

    if let Some(number) = &r.number() {
        let step = format!("parse_ticket_ref({number:?}) of the created ticket");
        let parsed = cx.ok(&step, ts.parse_ticket_ref(number))?;
        let again = cx.some("get_ticket(parsed reference)", ts.get_ticket(&parsed).await)?;
        cx.same_ticket("get_ticket(parsed reference)", &again.reference, &r)?;
    }

    let comments = [
        Comment::public("accesslink conformance public comment"),
        Comment::internal("accesslink conformance internal work note"),
    ];
    for c in &comments {
        let step = format!("add_comment({:?})", c.visibility);
        cx.ok(&step, ts.add_comment(&r, c).await)?;
    }
    let stored = cx.ok("backend.comments", backend.comments(&r).await)?;
    for c in &comments {
        let landed = stored
            .iter()
            .any(|s| s.visibility == c.visibility && s.body.contains(&c.body));
        cx.ensure(
            landed,
            "backend.comments after add_comment",
            format!("a {:?} comment containing {:?}", c.visibility, c.body),
            || format!("{} comment(s): {}", stored.len(), short(&stored)),
        )?;
    }

    let resolution = Resolution::done("closed by the accesslink conformance suite");
    let closed = cx.ok("close_ticket", ts.close_ticket(&r, &resolution).await)?;
    cx.same_ticket("close_ticket", &closed.reference, &r)?;
    cx.in_state(
        "close_ticket",
        &closed,
        "a terminal state",
        TicketState::is_terminal,
    )?;
    let after = cx.some("get_ticket after close", ts.get_ticket(&r).await)?;
    cx.in_state(
        "get_ticket after close",
        &after,
        "a terminal state",
        TicketState::is_terminal,
    )?;

    let batch = cx.ok(
        "get_tickets",
        ts.get_tickets(std::slice::from_ref(&r)).await,
    )?;
    cx.ensure(
        batch.len() == 1 && same_ticket(&batch[0].reference, &r),
        "get_tickets",
        format!("exactly the ticket {r:?}"),
        || short(&batch.iter().map(|t| &t.reference).collect::<Vec<_>>()),
    )?;
    let before = backend.requests_seen();
    let none = cx.ok("get_tickets(&[])", ts.get_tickets(&[]).await)?;
    let sent = backend.requests_seen().saturating_sub(before);
    cx.ensure(
        none.is_empty() && sent == 0,
        "get_tickets(&[])",
        "no tickets and no request",
        || format!("{} ticket(s) and {sent} request(s)", none.len()),
    )
}

/// Creating twice with the same correlation id (the second time with another title, so
/// only the correlation id can be what matches) returns the same ticket, and the backend
/// counts exactly one; `find_by_correlation` finds it, and an unused correlation id finds none.
pub async fn create_is_idempotent(
    ts: &dyn TicketingSystem,
    backend: &dyn TicketBackend,
    new: &NewTicket,
) -> Result<(), ConformanceFailure> {
    let cx = Cx(Check::CreateIsIdempotent);
    let id = &new.correlation_id;
    let count =
        |step: &'static str| async move { cx.ok(step, backend.count_with_correlation(id).await) };
    let n = count("backend.count_with_correlation before create").await?;
    cx.ensure(
        n == 0,
        "backend.count_with_correlation before create",
        "0 tickets (pass a fresh correlation id)",
        || format!("{n}"),
    )?;
    let first = cx.ok("create_ticket", ts.create_ticket(new).await)?;
    let mut retry = new.clone();
    retry.title = format!("{} (retried)", new.title);
    let second = cx.ok("second create_ticket", ts.create_ticket(&retry).await)?;
    cx.same_ticket("second create_ticket", &second.reference, &first.reference)?;
    let n = count("backend.count_with_correlation after two creates").await?;
    cx.ensure(
        n == 1,
        "backend.count_with_correlation after two creates",
        "1 ticket",
        || format!("{n}"),
    )?;

    let found = cx.some("find_by_correlation", ts.find_by_correlation(id).await)?;
    cx.same_ticket("find_by_correlation", &found.reference, &first.reference)?;
    let unused = CorrelationId::new(fresh_id(&format!("{id}-unused")));
    let step = format!("find_by_correlation({:?})", unused.as_str());
    let none = cx.ok(&step, ts.find_by_correlation(&unused).await)?;
    cx.ensure(none.is_none(), &step, "None", || {
        short(&none.map(|t| t.reference))
    })
}

/// Create, let the backend resolve the ticket as an agent would, and see `get_ticket`
/// and `get_tickets` (what fulfilment polls with) report `Resolved` or `Closed`.
pub async fn follow_state_change(
    ts: &dyn TicketingSystem,
    backend: &dyn TicketBackend,
    new: &NewTicket,
) -> Result<(), ConformanceFailure> {
    let cx = Cx(Check::FollowStateChange);
    let created = cx.ok("create_ticket", ts.create_ticket(new).await)?;
    let r = created.reference;
    let before = cx.some("get_ticket", ts.get_ticket(&r).await)?;
    cx.in_state("get_ticket", &before, "an open state", TicketState::is_open)?;
    cx.ok(
        "backend.set_ticket_state(Resolved)",
        backend.set_ticket_state(&r, TicketState::Resolved).await,
    )?;
    let resolved = |s| matches!(s, TicketState::Resolved | TicketState::Closed);
    let step = "get_ticket after the backend resolved it";
    let after = cx.some(step, ts.get_ticket(&r).await)?;
    cx.in_state(step, &after, "resolved or closed", resolved)?;
    let step = "get_tickets after the backend resolved it";
    let batch = cx.ok(step, ts.get_tickets(std::slice::from_ref(&r)).await)?;
    let Some(t) = batch.iter().find(|t| same_ticket(&t.reference, &r)) else {
        return Err(cx.fail(step, format!("the ticket {r:?}"), "no such ticket"));
    };
    cx.in_state(step, t, "resolved or closed", resolved)
}

/// Streams every account through `paging::accounts` at `page_size`: no id twice (the
/// report counts no duplicates), as many accounts as the backend holds (and as the target
/// reports, if it does), at least as many pages as the page size implies (it is an upper
/// bound), and the stream ends on the last or an empty page — not a repeated token or an
/// error.
pub async fn drain_accounts(
    p: &dyn Provisioner,
    backend: &dyn AccountBackend,
    page_size: u32,
) -> Result<(), ConformanceFailure> {
    let cx = Cx(Check::DrainAccounts);
    let held = paging_setup(cx, backend, page_size).await?;
    let mut stream = paging::accounts(p, PagingOptions::new().page_size(page_size));
    let mut ids = HashSet::new();
    let mut repeated = Vec::new();
    while let Some(a) = stream
        .try_next()
        .await
        .map_err(|e| ConformanceFailure::from_error(cx.0, "paging::accounts", "every page", e))?
    {
        if !ids.insert(a.id.clone()) {
            repeated.push(a.id);
        }
    }
    let report = stream.report();
    cx.ensure(
        report.duplicates == 0 && repeated.is_empty(),
        "paging::accounts",
        "no account on two pages",
        || {
            format!(
                "{} repeated, first {}",
                report.duplicates + repeated.len() as u64,
                short(&report.duplicate_keys)
            )
        },
    )?;
    cx.ensure(
        matches!(
            report.stopped,
            Some(StopReason::Exhausted | StopReason::EmptyPage)
        ),
        "paging::accounts",
        "to stop on the last page or an empty page",
        || format!("stopped {:?}", report.stopped),
    )?;
    cx.ensure(
        ids.len() == held,
        "paging::accounts",
        format!("{held} accounts (the backend's count)"),
        || format!("{}", ids.len()),
    )?;
    if let Some(total) = report.reported_total {
        cx.ensure(
            total == held as u64,
            "paging::accounts reported total",
            format!("{held}"),
            || format!("{total}"),
        )?;
    }
    let min_pages = held.div_ceil(page_size as usize) as u64;
    cx.ensure(
        report.pages >= min_pages,
        "paging::accounts",
        format!("at least {min_pages} pages of at most {page_size}"),
        || format!("{} pages", report.pages),
    )
}

/// Stops a drain once its second page has started, then resumes a new stream from the
/// report's checkpoint, as an import does after a crash: the two runs together see every
/// account, so page tokens are self-contained and nothing is lost.
pub async fn resume_accounts(
    p: &dyn Provisioner,
    backend: &dyn AccountBackend,
    page_size: u32,
) -> Result<(), ConformanceFailure> {
    let cx = Cx(Check::ResumeAccounts);
    let held = paging_setup(cx, backend, page_size).await?;
    let step = "first run, up to the second page";
    let options = PagingOptions::new().page_size(page_size);
    let mut first = paging::accounts(p, options.clone());
    let mut ids = HashSet::new();
    while first.report().pages < 2 {
        let next = first.try_next().await;
        let Some(a) = next.map_err(|e| ConformanceFailure::from_error(cx.0, step, "a page", e))?
        else {
            return Err(cx.fail(step, "a second page", "the stream ended"));
        };
        ids.insert(a.id);
    }
    let Some(checkpoint) = first.report().checkpoint else {
        return Err(cx.fail(step, "a checkpoint in the report", "None"));
    };
    drop(first);
    let step = "second run, resumed from the checkpoint";
    let resumed: Vec<_> = paging::accounts(p, options.resume_from(Some(checkpoint)))
        .try_collect()
        .await
        .map_err(|e| ConformanceFailure::from_error(cx.0, step, "every page", e))?;
    ids.extend(resumed.into_iter().map(|a| a.id));
    cx.ensure(
        ids.len() == held,
        step,
        format!("{held} accounts across both runs"),
        || format!("{}", ids.len()),
    )
}

/// The backend's account count, which must exceed the page size for paging to be tested.
async fn paging_setup(
    cx: Cx,
    backend: &dyn AccountBackend,
    page_size: u32,
) -> Result<usize, ConformanceFailure> {
    cx.ensure(page_size > 0, "setup", "a page size of at least 1", || {
        "0".into()
    })?;
    let held = cx.ok("backend.account_count", backend.account_count().await)?;
    cx.ensure(
        held > page_size as usize,
        "backend.account_count",
        format!("more than {page_size} accounts, so that at least two pages are read"),
        || format!("{held}"),
    )?;
    Ok(held)
}

/// Create → `Created`, again → `AlreadyExists` (same account, no second one on the
/// backend) → get → grant → `Granted` (the backend holds it), again → `AlreadyGranted` →
/// revoke → `Revoked` (the backend no longer holds it), again → `AlreadyAbsent` → disable
/// → delete → `get_account` finds nothing and the backend count is back where it was.
///
/// Disable and delete run when the connector declares `EnableDisable` and
/// `DeleteAccount`; otherwise the call must fail with `Unsupported` (OpsGenie cannot
/// disable, Salesforce cannot delete) and the account is left in place.
pub async fn account_lifecycle(
    p: &dyn Provisioner,
    backend: &dyn AccountBackend,
    spec: &AccountSpec,
    entitlement: &EntitlementRef,
) -> Result<(), ConformanceFailure> {
    let cx = Cx(Check::AccountLifecycle);
    let count = || async move { cx.ok("backend.account_count", backend.account_count().await) };
    let start = count().await?;

    let account = match cx.ok("create_account", p.create_account(spec).await)? {
        CreateOutcome::Created(a) => a,
        other => {
            let found = short(&other);
            return Err(cx.fail(
                "create_account",
                "Created (pass a login that does not exist yet)",
                found,
            ));
        }
    };
    cx.ensure(
        account.login.eq_ignore_ascii_case(&spec.login),
        "create_account",
        format!("login {:?}", spec.login),
        || format!("{:?}", account.login),
    )?;
    let n = count().await?;
    cx.ensure(
        n == start + 1,
        "backend.account_count after create",
        format!("{}", start + 1),
        || format!("{n}"),
    )?;
    let id = account.id;
    match cx.ok("create_account again", p.create_account(spec).await)? {
        CreateOutcome::AlreadyExists(a) if a.id == id => {}
        other => {
            return Err(cx.fail(
                "create_account again",
                format!("AlreadyExists with id {id}"),
                short(&other),
            ));
        }
    }
    let n = count().await?;
    cx.ensure(
        n == start + 1,
        "backend.account_count after the second create",
        format!("{}", start + 1),
        || format!("{n}"),
    )?;
    let got = cx.some("get_account", p.get_account(&id).await)?;
    cx.ensure(
        got.id == id && got.login.eq_ignore_ascii_case(&spec.login),
        "get_account",
        format!("account {id} with login {:?}", spec.login),
        || format!("account {} with login {:?}", got.id, got.login),
    )?;

    grant_and_revoke(cx, p, backend, &id, entitlement).await?;

    let enable = p.info().supports(&Capability::EnableDisable);
    let disabled = p.set_enabled(&id, false).await;
    if enable {
        cx.ok("set_enabled(false)", disabled)?;
        let got = cx.some("get_account after disable", p.get_account(&id).await)?;
        cx.ensure(
            got.enabled != Some(true),
            "get_account after disable",
            "enabled false (or unknown)",
            || "enabled true".into(),
        )?;
    } else {
        let step = "set_enabled(false) without EnableDisable";
        cx.err_kind(step, disabled, ErrorKind::Unsupported)?;
    }

    let delete = p.info().supports(&Capability::DeleteAccount);
    let deleted = p.delete_account(&id).await;
    if !delete {
        let step = "delete_account without DeleteAccount";
        cx.err_kind(step, deleted, ErrorKind::Unsupported)?;
        return Ok(());
    }
    cx.ok("delete_account", deleted)?;
    let gone = cx.ok("get_account after delete", p.get_account(&id).await)?;
    cx.ensure(gone.is_none(), "get_account after delete", "None", || {
        short(&gone)
    })?;
    let n = count().await?;
    cx.ensure(
        n == start,
        "backend.account_count after delete",
        format!("{start}"),
        || format!("{n}"),
    )
}

async fn grant_and_revoke(
    cx: Cx,
    p: &dyn Provisioner,
    backend: &dyn AccountBackend,
    id: &AccountId,
    e: &EntitlementRef,
) -> Result<(), ConformanceFailure> {
    let holds = |step: &'static str, want: bool| async move {
        let held = cx.ok(step, backend.holds(id, e).await)?;
        cx.ensure(held == want, step, format!("holds {e}: {want}"), || {
            format!("holds {e}: {held}")
        })
    };
    let outcome = cx.ok("grant", p.grant(id, e).await)?;
    cx.ensure(outcome == GrantOutcome::Granted, "grant", "Granted", || {
        format!("{outcome:?}")
    })?;
    holds("backend.holds after grant", true).await?;
    let outcome = cx.ok("grant again", p.grant(id, e).await)?;
    cx.ensure(
        outcome == GrantOutcome::AlreadyGranted,
        "grant again",
        "AlreadyGranted",
        || format!("{outcome:?}"),
    )?;
    holds("backend.holds after the second grant", true).await?;

    let outcome = cx.ok("revoke", p.revoke(id, e).await)?;
    cx.ensure(
        outcome == RevokeOutcome::Revoked,
        "revoke",
        "Revoked",
        || format!("{outcome:?}"),
    )?;
    holds("backend.holds after revoke", false).await?;
    let outcome = cx.ok("revoke again", p.revoke(id, e).await)?;
    cx.ensure(
        outcome == RevokeOutcome::AlreadyAbsent,
        "revoke again",
        "AlreadyAbsent",
        || format!("{outcome:?}"),
    )
}

/// One trait method, tied to the capability that declares it.
#[derive(Debug, Clone, Copy)]
enum Op {
    CreateTicket,
    GetTicket,
    GetTickets,
    FindByCorrelation,
    AddComment,
    CloseTicket,
    ListAccounts,
    ListEntitlements,
    ListGrants,
    CreateAccount,
    UpdateAccount,
    SetEnabled,
    DeleteAccount,
    Grant,
    Revoke,
}

impl Op {
    const ALL: [Op; 15] = [
        Op::CreateTicket,
        Op::GetTicket,
        Op::GetTickets,
        Op::FindByCorrelation,
        Op::AddComment,
        Op::CloseTicket,
        Op::ListAccounts,
        Op::ListEntitlements,
        Op::ListGrants,
        Op::CreateAccount,
        Op::UpdateAccount,
        Op::SetEnabled,
        Op::DeleteAccount,
        Op::Grant,
        Op::Revoke,
    ];

    /// The capability that says the method works. `get_tickets` belongs to
    /// `GetTicket`: `BatchGetTickets` only says whether it takes one request.
    fn capability(self) -> Capability {
        match self {
            Op::CreateTicket => Capability::CreateTicket,
            Op::GetTicket | Op::GetTickets => Capability::GetTicket,
            Op::FindByCorrelation => Capability::FindByCorrelation,
            Op::AddComment => Capability::Comment,
            Op::CloseTicket => Capability::CloseTicket,
            Op::ListAccounts => Capability::ListAccounts,
            Op::ListEntitlements => Capability::ListEntitlements,
            Op::ListGrants => Capability::ListGrants,
            Op::CreateAccount => Capability::CreateAccount,
            Op::UpdateAccount => Capability::UpdateAccount,
            Op::SetEnabled => Capability::EnableDisable,
            Op::DeleteAccount => Capability::DeleteAccount,
            Op::Grant => Capability::Grant,
            Op::Revoke => Capability::Revoke,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Op::CreateTicket => "create_ticket",
            Op::GetTicket => "get_ticket",
            Op::GetTickets => "get_tickets",
            Op::FindByCorrelation => "find_by_correlation",
            Op::AddComment => "add_comment",
            Op::CloseTicket => "close_ticket",
            Op::ListAccounts => "list_accounts",
            Op::ListEntitlements => "list_entitlements",
            Op::ListGrants => "list_grants",
            Op::CreateAccount => "create_account",
            Op::UpdateAccount => "update_account",
            Op::SetEnabled => "set_enabled",
            Op::DeleteAccount => "delete_account",
            Op::Grant => "grant",
            Op::Revoke => "revoke",
        }
    }
}

/// A result already shortened to text, shown without quotes.
struct Shown(String);

impl fmt::Debug for Shown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whether a capability belongs to the ticketing side (`Some(true)`), the provisioning
/// side (`Some(false)`), or is one this suite does not know yet.
fn is_ticketing(cap: &Capability) -> Option<bool> {
    match cap {
        Capability::CreateTicket
        | Capability::GetTicket
        | Capability::BatchGetTickets
        | Capability::FindByCorrelation
        | Capability::Comment
        | Capability::CloseTicket => Some(true),
        Capability::ListAccounts
        | Capability::ListEntitlements
        | Capability::ListGrants
        | Capability::CreateAccount
        | Capability::UpdateAccount
        | Capability::EnableDisable
        | Capability::DeleteAccount
        | Capability::Grant
        | Capability::Revoke => Some(false),
        _ => None,
    }
}

/// Calls a ticketing method with harmless arguments; the result, shortened.
async fn call_ticketing(ts: &dyn TicketingSystem, op: Op) -> Result<String> {
    let r = TicketRef::by_id_and_number("1", "1");
    let probe = CorrelationId::new(fresh_id("accesslink-conformance-probe"));
    Ok(match op {
        Op::CreateTicket => {
            let kind = ts.info().ticket_kinds.first().cloned();
            let new = NewTicket::new(
                kind.unwrap_or(TicketKind::Incident),
                "accesslink conformance probe",
                "an undeclared operation must fail with Unsupported",
                probe,
            );
            short(&ts.create_ticket(&new).await?.reference)
        }
        Op::GetTicket => short(&ts.get_ticket(&r).await?.map(|t| t.reference)),
        Op::GetTickets => format!("{} ticket(s)", ts.get_tickets(&[r]).await?.len()),
        Op::FindByCorrelation => short(&ts.find_by_correlation(&probe).await?.map(|t| t.reference)),
        Op::AddComment => short(&ts.add_comment(&r, &Comment::internal("probe")).await?),
        Op::CloseTicket => short(
            &ts.close_ticket(&r, &Resolution::done("probe"))
                .await?
                .reference,
        ),
        _ => String::new(),
    })
}

/// Calls a provisioning method with harmless arguments (an account that does not
/// exist); the result, shortened.
async fn call_provisioning(p: &dyn Provisioner, op: Op) -> Result<String> {
    let id = AccountId::new("accesslink-conformance-absent");
    let ty = p.entitlement_types().first().cloned();
    let ty = ty.unwrap_or_else(EntitlementType::role);
    let e = EntitlementRef::new(ty.clone(), "accesslink-conformance-absent");
    let page = || PageRequest::first().size(1);
    Ok(match op {
        Op::ListAccounts => short(&p.list_accounts(page()).await?.items.len()),
        Op::ListEntitlements => short(&p.list_entitlements(&ty, page()).await?.items.len()),
        Op::ListGrants => short(&p.list_grants(&ty, page()).await?.items.len()),
        Op::CreateAccount => {
            let spec = AccountSpec::new(fresh_id("accesslink-conformance-probe"));
            short(&p.create_account(&spec).await?)
        }
        Op::UpdateAccount => short(&p.update_account(&id, &AccountChange::new()).await?.id),
        Op::SetEnabled => short(&p.set_enabled(&id, true).await?),
        Op::DeleteAccount => short(&p.delete_account(&id).await?),
        Op::Grant => short(&p.grant(&id, &e).await?),
        Op::Revoke => short(&p.revoke(&id, &e).await?),
        _ => String::new(),
    })
}

/// Every trait method whose capability the connector does not declare fails with
/// [`ErrorKind::Unsupported`] — never `Ok`, never a silent no-op — and decides so
/// without a request (capabilities are known locally). Every declared capability
/// belongs to a side the connector exposes (`as_ticketing()`, `as_provisioner()`).
///
/// `requests_seen` reads the backend's request count
/// (`&|| backend.requests_seen()`). Arguments are harmless: an account and an
/// entitlement that do not exist, ticket `1`, a fresh correlation id.
pub async fn unsupported_operations_declared(
    c: &dyn Connector,
    requests_seen: &(dyn Fn() -> usize + Sync),
) -> Result<(), ConformanceFailure> {
    let cx = Cx(Check::UnsupportedOperationsDeclared);
    let info = c.info();
    let (ts, p) = (c.as_ticketing(), c.as_provisioner());
    for cap in &info.capabilities {
        let (missing, side) = match is_ticketing(cap) {
            Some(true) => (ts.is_none(), "as_ticketing()"),
            Some(false) => (p.is_none(), "as_provisioner()"),
            None => (false, ""),
        };
        cx.ensure(
            !missing,
            &format!("declared capability {cap:?}"),
            format!("{side} to be Some"),
            || "None".into(),
        )?;
    }
    for op in Op::ALL {
        let cap = op.capability();
        if info.supports(&cap) {
            continue;
        }
        let before = requests_seen();
        let result = match (is_ticketing(&cap), ts, p) {
            (Some(true), Some(ts), _) => call_ticketing(ts, op).await,
            (Some(false), _, Some(p)) => call_provisioning(p, op).await,
            _ => continue,
        };
        let step = format!("{} without {cap:?}", op.name());
        let sent = requests_seen().saturating_sub(before);
        cx.err_kind(&step, result.map(Shown), ErrorKind::Unsupported)?;
        cx.ensure(sent == 0, &step, "no request", || {
            format!("{sent} request(s)")
        })?;
    }
    Ok(())
}

/// None of `canaries` (secret values a connector was configured with) appears in
/// `output` (its `Debug`, a log capture, an error message), as is or percent-encoded.
/// The failure says where, with the secret masked, never the secret itself.
pub fn secrets_never_printed(output: &str, canaries: &[&str]) -> Result<(), ConformanceFailure> {
    let cx = Cx(Check::SecretsNeverPrinted);
    let forms: Vec<(usize, &str, String)> = canaries
        .iter()
        .enumerate()
        .flat_map(|(i, c)| {
            let encoded: String = url::form_urlencoded::byte_serialize(c.as_bytes()).collect();
            [
                (i, "as is", (*c).to_owned()),
                (i, "percent-encoded", encoded),
            ]
        })
        .collect();
    for (i, c) in canaries.iter().enumerate() {
        let len = c.chars().count();
        cx.ensure(
            len >= 4,
            &format!("canary #{i}"),
            "at least 4 characters (a shorter one matches by chance)",
            || format!("{len}"),
        )?;
    }
    let mut masked = output.to_owned();
    for (i, _, needle) in &forms {
        masked = masked.replace(needle.as_str(), &format!("[canary #{i}]"));
    }
    for (i, form, needle) in &forms {
        if let Some(at) = output.find(needle.as_str()) {
            let mark = format!("[canary #{i}]");
            let pos = masked.find(&mark).unwrap_or(0);
            return Err(cx.fail(
                &format!("canary #{i} ({} characters)", canaries[*i].chars().count()),
                "absent from the output",
                format!("{form} at byte {at}: …{}…", window(&masked, pos, 40)),
            ));
        }
    }
    Ok(())
}

/// Up to `radius` bytes either side of `at`, on character boundaries.
fn window(s: &str, at: usize, radius: usize) -> &str {
    let mut start = at.saturating_sub(radius);
    while !s.is_char_boundary(start) {
        start -= 1;
    }
    let mut end = (at + radius).min(s.len());
    while !s.is_char_boundary(end) {
        end += 1;
    }
    &s[start..end]
}

/// The secrets check of a suite: the connector's `Debug`, plain and pretty.
fn secrets_of(c: &dyn Connector, canaries: &[String]) -> Result<(), ConformanceFailure> {
    let mut output = String::new();
    let _ = write!(output, "{c:?}\n{c:#?}");
    let canaries: Vec<&str> = canaries.iter().map(String::as_str).collect();
    secrets_never_printed(&output, &canaries)
}

/// The capabilities of `needed` that `c` does not declare, as a skip reason.
fn lacking(c: &dyn Connector, needed: &[Capability]) -> Option<String> {
    let missing: Vec<_> = needed
        .iter()
        .filter(|cap| !c.info().supports(cap))
        .collect();
    (!missing.is_empty()).then(|| format!("the connector does not declare {missing:?}"))
}

/// Runs every ticketing check that applies to the connector's capabilities.
///
/// `invalid_ticket_refs_rejected` and `unsupported_operations_declared` always run;
/// `secrets_never_printed` runs when the suite has canaries. When the connector has no
/// ticketing side, every ticketing check fails.
pub async fn run_ticketing_suite(
    c: &dyn Connector,
    backend: &dyn TicketBackend,
    suite: &TicketingSuite,
) -> SuiteReport {
    use Capability as C;
    let mut report = SuiteReport::default();
    let checks = [
        Check::InvalidTicketRefsRejected,
        Check::TicketLifecycle,
        Check::CreateIsIdempotent,
        Check::FollowStateChange,
    ];
    let Some(ts) = c.as_ticketing() else {
        for check in checks {
            let f = ConformanceFailure::new(check, "as_ticketing()", "Some", "None");
            report.record(check, Err(f));
        }
        return report;
    };
    let bad: Vec<&str> = suite.bad_refs.iter().map(String::as_str).collect();
    report.record(
        Check::InvalidTicketRefsRejected,
        invalid_ticket_refs_rejected(ts, backend, &bad).await,
    );

    let lifecycle = [C::CreateTicket, C::GetTicket, C::Comment, C::CloseTicket];
    match lacking(c, &lifecycle) {
        Some(why) => report.skip(Check::TicketLifecycle, why),
        None => {
            let new = derived(&suite.template, "lifecycle");
            let result = ticket_lifecycle(ts, backend, &new).await;
            report.record(Check::TicketLifecycle, result);
        }
    }
    match lacking(c, &[C::CreateTicket, C::FindByCorrelation]) {
        Some(why) => report.skip(Check::CreateIsIdempotent, why),
        None => {
            let new = derived(&suite.template, "idempotent");
            let result = create_is_idempotent(ts, backend, &new).await;
            report.record(Check::CreateIsIdempotent, result);
        }
    }
    match lacking(c, &[C::CreateTicket, C::GetTicket]) {
        Some(why) => report.skip(Check::FollowStateChange, why),
        None => {
            let new = derived(&suite.template, "follow");
            let result = follow_state_change(ts, backend, &new).await;
            report.record(Check::FollowStateChange, result);
        }
    }
    common_checks(c, &|| backend.requests_seen(), &suite.canaries, &mut report).await;
    report
}

/// Runs every provisioning check that applies to the connector's capabilities.
///
/// Accounts are drained before the lifecycle check changes them.
/// `unsupported_operations_declared` always runs; `secrets_never_printed` runs when the
/// suite has canaries. When the connector has no provisioning side, every provisioning
/// check fails.
pub async fn run_provisioning_suite(
    c: &dyn Connector,
    backend: &dyn AccountBackend,
    suite: &ProvisioningSuite,
) -> SuiteReport {
    let mut report = SuiteReport::default();
    let checks = [
        Check::DrainAccounts,
        Check::ResumeAccounts,
        Check::AccountLifecycle,
    ];
    let Some(p) = c.as_provisioner() else {
        for check in checks {
            let f = ConformanceFailure::new(check, "as_provisioner()", "Some", "None");
            report.record(check, Err(f));
        }
        return report;
    };
    match lacking(c, &[Capability::ListAccounts]) {
        Some(why) => {
            report.skip(Check::DrainAccounts, why.clone());
            report.skip(Check::ResumeAccounts, why);
        }
        None => {
            let result = drain_accounts(p, backend, suite.page_size).await;
            report.record(Check::DrainAccounts, result);
            let result = resume_accounts(p, backend, suite.page_size).await;
            report.record(Check::ResumeAccounts, result);
        }
    }
    let needed = [
        Capability::CreateAccount,
        Capability::Grant,
        Capability::Revoke,
    ];
    match lacking(c, &needed) {
        Some(why) => report.skip(Check::AccountLifecycle, why),
        None => {
            let result = account_lifecycle(p, backend, &suite.account, &suite.entitlement).await;
            report.record(Check::AccountLifecycle, result);
        }
    }
    common_checks(c, &|| backend.requests_seen(), &suite.canaries, &mut report).await;
    report
}

async fn common_checks(
    c: &dyn Connector,
    requests_seen: &(dyn Fn() -> usize + Sync),
    canaries: &[String],
    report: &mut SuiteReport,
) {
    let result = unsupported_operations_declared(c, requests_seen).await;
    report.record(Check::UnsupportedOperationsDeclared, result);
    if canaries.is_empty() {
        report.skip(Check::SecretsNeverPrinted, "the suite has no canaries");
    } else {
        report.record(Check::SecretsNeverPrinted, secrets_of(c, canaries));
    }
}

#[cfg(test)]
mod tests {
    //! The suite proves itself against an in-memory connector: the faithful one passes
    //! every check, and each deliberately broken variant fails the matching check.

    use std::collections::{BTreeMap, HashSet};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Mutex, MutexGuard, PoisonError};
    use std::time::Duration;

    use accesslink_core::{
        Account, ConnectionReport, ConnectorInfo, Entitlement, Grant, Page, PageToken, TicketStatus,
    };

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

        async fn list_grants(
            &self,
            ty: &EntitlementType,
            _page: PageRequest,
        ) -> Result<Page<Grant>> {
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
        ProvisioningSuite::new(2, AccountSpec::new(fresh_id("jdoe")), role("admin"))
            .canaries([SECRET])
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
            f.to_string().starts_with(
                "create_is_idempotent: second create_ticket: expected the same ticket as"
            ),
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
        assert_eq!(report.failures().count(), 3, "{report}");
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
        let f =
            ConformanceFailure::new(Check::SecretsNeverPrinted, "canary #0", "absent", "present");
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
}
