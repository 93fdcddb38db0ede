//! What a suite run needs, and the runners that pick the checks a connector's
//! capabilities call for.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use accesslink_core::feed::TicketQuery;

use accesslink_core::{
    AccountSpec, Capability, Connector, CorrelationId, EntitlementRef, NewTicket, Provisioner,
    TicketingSystem,
};

use super::capabilities::unsupported_operations_declared;
use super::faults::{
    account_faults_missing, comment_not_repeated, entitlements_and_grants_drained,
    expiry_mid_import, html_import_is_a_protocol_error, html_is_a_protocol_error,
    lost_create_answer, ticket_faults_missing,
};
use super::intake::{
    account_schema_lists_fields, change_feed_exactly_once, comments_read_back,
    password_set_and_never_printed, ticket_schema_lists_fields,
};
use super::partition::{
    ignored_range_is_a_protocol_error, partitioned_accounts_exactly_once,
    partitioned_resume_loses_nothing,
};
use super::provisioning::{account_lifecycle, drain_accounts, resume_accounts};
use super::secrets::secrets_of;
use super::shape::{
    default_wrong_shapes, echoed_request_not_printed, echoed_request_not_printed_import,
    repeated_page_is_an_error, reported_total_shortfall, search_hit_confirmed,
    wrong_shaped_page_is_an_error,
};
use super::ticketing::{
    create_is_idempotent, follow_state_change, invalid_ticket_refs_rejected, ticket_lifecycle,
};
use super::{AccountBackend, Check, ConformanceFailure, SuiteReport, TicketBackend};

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
    /// Checks not to run, each with the reason the report shows; see `skip`.
    pub skips: Vec<(Check, String)>,
    /// A well-formed reference to a ticket that does not exist, for
    /// [`search_hit_confirmed`]; without one that check is skipped.
    pub absent_ref: Option<String>,
    /// The query [`change_feed_exactly_once`] polls; by default the template's kind.
    /// Set its scope where the connector lists only a scope (a queue, a project).
    pub feed_query: Option<TicketQuery>,
    /// The change feed's overlap: at least the server's time granularity (one second
    /// by default; a minute for Jira).
    pub feed_overlap: Duration,
}

impl TicketingSuite {
    /// A suite opening tickets like `template`.
    pub fn new(template: NewTicket) -> Self {
        TicketingSuite {
            template,
            bad_refs: Vec::new(),
            canaries: Vec::new(),
            skips: Vec::new(),
            absent_ref: None,
            feed_query: None,
            feed_overlap: Duration::from_secs(1),
        }
    }

    /// The query the change-feed check polls (its `updated_since` is set by the check).
    #[must_use]
    pub fn feed_query(mut self, query: TicketQuery) -> Self {
        self.feed_query = Some(query);
        self
    }

    /// The change feed's overlap (the server's time granularity or more).
    #[must_use]
    pub fn feed_overlap(mut self, overlap: Duration) -> Self {
        self.feed_overlap = overlap;
        self
    }

    /// A well-formed reference to a ticket that does not exist on the server (a number
    /// far beyond the ones in use), for [`search_hit_confirmed`].
    #[must_use]
    pub fn absent_ref(mut self, raw: impl Into<String>) -> Self {
        self.absent_ref = Some(raw.into());
        self
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

    /// Does not run `check`; the report lists it as skipped with `reason`. For a known
    /// failure of one connector, named in the reason, never to make a suite pass quietly.
    #[must_use]
    pub fn skip(mut self, check: Check, reason: impl Into<String>) -> Self {
        self.skips.push((check, reason.into()));
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
            .field("skips", &self.skips)
            .field("absent_ref", &self.absent_ref)
            .field("feed_query", &self.feed_query)
            .field("feed_overlap", &self.feed_overlap)
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
    /// Checks not to run, each with the reason the report shows; see `skip`.
    pub skips: Vec<(Check, String)>,
    /// The `200` bodies [`wrong_shaped_page_is_an_error`] answers a listing with
    /// ([`default_wrong_shapes`] unless changed with `wrong_shapes`).
    pub wrong_shapes: Vec<String>,
}

impl ProvisioningSuite {
    /// A suite draining at `page_size` and creating `account` with `entitlement`.
    pub fn new(page_size: u32, account: AccountSpec, entitlement: EntitlementRef) -> Self {
        ProvisioningSuite {
            page_size,
            account,
            entitlement,
            canaries: Vec::new(),
            skips: Vec::new(),
            wrong_shapes: default_wrong_shapes(),
        }
    }

    /// Adds target-specific wrong-shaped listing bodies (`[]` where a listing is an
    /// object, a body whose list field has the wrong name…).
    #[must_use]
    pub fn wrong_shapes(mut self, bodies: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.wrong_shapes.extend(bodies.into_iter().map(Into::into));
        self
    }

    /// Adds secret values that must never be printed.
    #[must_use]
    pub fn canaries(mut self, secrets: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.canaries.extend(secrets.into_iter().map(Into::into));
        self
    }

    /// Does not run `check`; the report lists it as skipped with `reason`. For a known
    /// failure of one connector, named in the reason, never to make a suite pass quietly.
    #[must_use]
    pub fn skip(mut self, check: Check, reason: impl Into<String>) -> Self {
        self.skips.push((check, reason.into()));
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
            .field("skips", &self.skips)
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

/// `new` with its correlation id suffixed, so each check opens its own ticket.
fn derived(new: &NewTicket, suffix: &str) -> NewTicket {
    let mut new = new.clone();
    new.correlation_id = CorrelationId::new(format!("{}-{suffix}", new.correlation_id));
    new
}

/// The capabilities of `needed` that `c` does not declare, as a skip reason.
fn lacking(c: &dyn Connector, needed: &[Capability]) -> Option<String> {
    let missing: Vec<_> = needed
        .iter()
        .filter(|cap| !c.info().supports(cap))
        .collect();
    (!missing.is_empty()).then(|| format!("the connector does not declare {missing:?}"))
}

/// Why `check` does not run: the suite skips it explicitly, or the connector lacks a
/// capability of `needed`.
fn why_not(
    c: &dyn Connector,
    skips: &[(Check, String)],
    check: Check,
    needed: &[Capability],
) -> Option<String> {
    let explicit = skips.iter().find(|(k, _)| *k == check);
    let explicit = explicit.map(|(_, why)| format!("skipped by the suite: {why}"));
    explicit.or_else(|| lacking(c, needed))
}

/// Runs every ticketing check that applies to the connector's capabilities, then the fault
/// checks when the backend can inject faults.
///
/// `invalid_ticket_refs_rejected` and `unsupported_operations_declared` always run;
/// `secrets_never_printed` runs when the suite has canaries. The fault checks
/// (`lost_create_answer`, `html_is_a_protocol_error`, `comment_not_repeated`) are skipped,
/// with the reason, against a backend without a [`FaultPlan`](crate::fault::FaultPlan)
/// (a live server). When the connector has no ticketing side, every ticketing check fails.
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
        Check::LostCreateAnswer,
        Check::HtmlIsAProtocolError,
        Check::CommentNotRepeated,
    ];
    let Some(ts) = c.as_ticketing() else {
        for check in checks {
            let f = ConformanceFailure::new(check, "as_ticketing()", "Some", "None");
            report.record(check, Err(f));
        }
        return report;
    };
    let skips = &suite.skips;
    match why_not(c, skips, Check::InvalidTicketRefsRejected, &[]) {
        Some(why) => report.skip(Check::InvalidTicketRefsRejected, why),
        None => {
            let bad: Vec<&str> = suite.bad_refs.iter().map(String::as_str).collect();
            let result = invalid_ticket_refs_rejected(ts, backend, &bad).await;
            report.record(Check::InvalidTicketRefsRejected, result);
        }
    }
    let lifecycle = [C::CreateTicket, C::GetTicket, C::Comment, C::CloseTicket];
    match why_not(c, skips, Check::TicketLifecycle, &lifecycle) {
        Some(why) => report.skip(Check::TicketLifecycle, why),
        None => {
            let new = derived(&suite.template, "lifecycle");
            let result = ticket_lifecycle(ts, backend, &new).await;
            report.record(Check::TicketLifecycle, result);
        }
    }
    let idempotent = [C::CreateTicket, C::FindByCorrelation];
    match why_not(c, skips, Check::CreateIsIdempotent, &idempotent) {
        Some(why) => report.skip(Check::CreateIsIdempotent, why),
        None => {
            let new = derived(&suite.template, "idempotent");
            let result = create_is_idempotent(ts, backend, &new).await;
            report.record(Check::CreateIsIdempotent, result);
        }
    }
    match why_not(
        c,
        skips,
        Check::FollowStateChange,
        &[C::CreateTicket, C::GetTicket],
    ) {
        Some(why) => report.skip(Check::FollowStateChange, why),
        None => {
            let new = derived(&suite.template, "follow");
            let result = follow_state_change(ts, backend, &new).await;
            report.record(Check::FollowStateChange, result);
        }
    }
    let faults = [
        (Check::LostCreateAnswer, idempotent.to_vec(), "lost"),
        (
            Check::HtmlIsAProtocolError,
            vec![C::CreateTicket, C::GetTicket],
            "html",
        ),
        (
            Check::CommentNotRepeated,
            vec![C::CreateTicket, C::Comment],
            "comment",
        ),
    ];
    for (check, needed, suffix) in faults {
        let why = why_not(c, skips, check, &needed).or_else(|| {
            ticket_faults_missing(backend, check, &suite.template.kind).map(str::to_owned)
        });
        if let Some(why) = why {
            report.skip(check, why);
            continue;
        }
        let new = derived(&suite.template, suffix);
        let result = match check {
            Check::LostCreateAnswer => lost_create_answer(ts, backend, &new).await,
            Check::HtmlIsAProtocolError => html_is_a_protocol_error(ts, backend, &new).await,
            _ => comment_not_repeated(ts, backend, &new).await,
        };
        report.record(check, result);
    }
    let check = Check::EchoedRequestNotPrinted;
    let why = why_not(c, skips, check, &[C::CreateTicket, C::GetTicket])
        .or_else(|| {
            backend
                .faults()
                .is_none()
                .then(|| "the backend cannot inject faults".into())
        })
        .or_else(|| {
            suite
                .canaries
                .is_empty()
                .then(|| "the suite has no canaries".into())
        });
    match why {
        Some(why) => report.skip(check, why),
        None => {
            let new = derived(&suite.template, "echo");
            let result = echoed_request_not_printed(ts, backend, &new, &suite.canaries).await;
            report.record(check, result);
        }
    }
    let check = Check::SearchHitConfirmed;
    let needed = [C::CreateTicket, C::GetTicket, C::FindByCorrelation];
    let why = why_not(c, skips, check, &needed).or_else(|| {
        suite
            .absent_ref
            .is_none()
            .then(|| "the suite names no absent ticket reference (absent_ref)".into())
    });
    let why = why.or_else(|| {
        // Asking is harmless: the check turns it on again itself.
        (!backend.ignore_search_filters(false))
            .then(|| "the backend's searches cannot ignore their filters".into())
    });
    match (why, &suite.absent_ref) {
        (None, Some(absent)) => {
            let new = derived(&suite.template, "search");
            let result = search_hit_confirmed(ts, backend, &new, absent).await;
            report.record(check, result);
        }
        (why, _) => report.skip(check, why.unwrap_or_default()),
    }
    intake_ticket_checks(c, ts, backend, suite, &mut report).await;
    let seen = || backend.requests_seen();
    common_checks(c, &seen, skips, &suite.canaries, &mut report).await;
    report
}

/// Runs every provisioning check that applies to the connector's capabilities, then the
/// fault checks when the backend can inject faults.
///
/// Accounts are drained before the lifecycle check changes them.
/// `unsupported_operations_declared` always runs; `secrets_never_printed` runs when the
/// suite has canaries. The fault checks (`expiry_mid_import`,
/// `entitlements_and_grants_drained`, `html_is_a_protocol_error`) are skipped, with the
/// reason, against a backend without a [`FaultPlan`](crate::fault::FaultPlan), and
/// `expiry_mid_import` against one whose credentials cannot expire. The partition
/// checks (`partitioned_accounts_exactly_once`, `partitioned_resume_loses_nothing`,
/// `ignored_range_is_a_protocol_error`) run when the connector splits its account
/// listing and are skipped with "the connector does not split account listings"
/// otherwise. When the connector has no provisioning side, every provisioning check
/// fails.
pub async fn run_provisioning_suite(
    c: &dyn Connector,
    backend: &dyn AccountBackend,
    suite: &ProvisioningSuite,
) -> SuiteReport {
    use Capability as C;
    let mut report = SuiteReport::default();
    let checks = [
        Check::DrainAccounts,
        Check::ResumeAccounts,
        Check::ExpiryMidImport,
        Check::EntitlementsAndGrantsDrained,
        Check::HtmlIsAProtocolError,
        Check::WrongShapedPageIsAnError,
        Check::RepeatedPageIsAnError,
        Check::EchoedRequestNotPrinted,
        Check::ReportedTotalShortfall,
        Check::AccountLifecycle,
    ];
    let Some(p) = c.as_provisioner() else {
        for check in checks {
            let f = ConformanceFailure::new(check, "as_provisioner()", "Some", "None");
            report.record(check, Err(f));
        }
        return report;
    };
    let skips = &suite.skips;
    let size = suite.page_size;
    for check in checks {
        let needed: &[Capability] = match check {
            Check::EntitlementsAndGrantsDrained => &[],
            Check::AccountLifecycle => &[C::CreateAccount, C::Grant, C::Revoke],
            _ => &[C::ListAccounts],
        };
        let mut why = why_not(c, skips, check, needed);
        if check == Check::EntitlementsAndGrantsDrained {
            let info = c.info();
            let lists = info.supports(&C::ListEntitlements) || info.supports(&C::ListGrants);
            why = why.or_else(|| {
                (!lists).then(|| "the connector lists neither entitlements nor grants".into())
            });
        }
        let fault_check = matches!(
            check,
            Check::ExpiryMidImport
                | Check::EntitlementsAndGrantsDrained
                | Check::HtmlIsAProtocolError
                | Check::WrongShapedPageIsAnError
                | Check::RepeatedPageIsAnError
                | Check::EchoedRequestNotPrinted
        );
        if check == Check::EchoedRequestNotPrinted && suite.canaries.is_empty() {
            why = why.or_else(|| Some("the suite has no canaries".into()));
        }
        // Asking with 0 is harmless: it restores the truth.
        if check == Check::ReportedTotalShortfall && !backend.inflate_reported_total(0) {
            why = why.or_else(|| Some("the backend's totals cannot be inflated".into()));
        }
        if fault_check {
            why = why.or_else(|| account_faults_missing(backend, check).map(str::to_owned));
        }
        if let Some(why) = why {
            report.skip(check, why);
            continue;
        }
        let result = match check {
            Check::DrainAccounts => drain_accounts(p, backend, size).await,
            Check::ResumeAccounts => resume_accounts(p, backend, size).await,
            Check::ExpiryMidImport => expiry_mid_import(p, backend, size).await,
            Check::EntitlementsAndGrantsDrained => {
                entitlements_and_grants_drained(p, backend, size).await
            }
            Check::HtmlIsAProtocolError => html_import_is_a_protocol_error(p, backend).await,
            Check::WrongShapedPageIsAnError => {
                wrong_shaped_page_is_an_error(p, backend, &suite.wrong_shapes).await
            }
            Check::RepeatedPageIsAnError => repeated_page_is_an_error(p, backend, size).await,
            Check::ReportedTotalShortfall => reported_total_shortfall(p, backend, size).await,
            Check::EchoedRequestNotPrinted => {
                echoed_request_not_printed_import(p, backend, &suite.canaries).await
            }
            _ => account_lifecycle(p, backend, &suite.account, &suite.entitlement).await,
        };
        report.record(check, result);
    }
    partition_checks(c, backend, suite, &mut report).await;
    intake_account_checks(c, p, backend, suite, &mut report).await;
    let seen = || backend.requests_seen();
    common_checks(c, &seen, skips, &suite.canaries, &mut report).await;
    report
}

async fn common_checks(
    c: &dyn Connector,
    requests_seen: &(dyn Fn() -> usize + Sync),
    skips: &[(Check, String)],
    canaries: &[String],
    report: &mut SuiteReport,
) {
    let check = Check::UnsupportedOperationsDeclared;
    match why_not(c, skips, check, &[]) {
        Some(why) => report.skip(check, why),
        None => report.record(
            check,
            unsupported_operations_declared(c, requests_seen).await,
        ),
    }
    let check = Check::SecretsNeverPrinted;
    match why_not(c, skips, check, &[]) {
        Some(why) => report.skip(check, why),
        None if canaries.is_empty() => report.skip(check, "the suite has no canaries"),
        None => report.record(check, secrets_of(c, canaries)),
    }
}

/// The intake checks of the ticketing suite: each runs when the connector declares
/// the capability it needs and is skipped, with the reason, otherwise.
async fn intake_ticket_checks(
    c: &dyn Connector,
    ts: &dyn TicketingSystem,
    backend: &dyn TicketBackend,
    suite: &TicketingSuite,
    report: &mut SuiteReport,
) {
    use Capability as C;
    let skips = &suite.skips;
    let check = Check::ChangeFeedExactlyOnce;
    let needed = [C::CreateTicket, C::GetTicket, C::ListTickets];
    match why_not(c, skips, check, &needed) {
        Some(why) => report.skip(check, why),
        None => {
            let query = suite
                .feed_query
                .clone()
                .unwrap_or_else(|| TicketQuery::new().kind(suite.template.kind.clone()));
            let new = derived(&suite.template, "feed");
            let result =
                change_feed_exactly_once(ts, backend, &new, &query, suite.feed_overlap).await;
            report.record(check, result);
        }
    }
    let check = Check::CommentsReadBack;
    match why_not(
        c,
        skips,
        check,
        &[C::CreateTicket, C::Comment, C::ListComments],
    ) {
        Some(why) => report.skip(check, why),
        None => {
            let new = derived(&suite.template, "comments");
            let absent = suite.absent_ref.as_deref();
            report.record(check, comments_read_back(ts, backend, &new, absent).await);
        }
    }
    let check = Check::TicketSchemaListsFields;
    let kind = &suite.template.kind;
    let why = why_not(c, skips, check, &[C::TicketSchema]).or_else(|| {
        backend
            .ticket_fields(kind)
            .is_none()
            .then(|| "the backend does not list its ticket fields".into())
    });
    match why {
        Some(why) => report.skip(check, why),
        None => report.record(check, ticket_schema_lists_fields(ts, backend, kind).await),
    }
}

/// The reason the partition checks are skipped for a connector that does not split.
const NO_SPLIT: &str = "the connector does not split account listings";

/// The partitioned-import checks: each runs when the connector lists accounts and its
/// [`Partitioner`](accesslink_core::partition::Partitioner) splits the account
/// listing, and is skipped, with the reason, otherwise;
/// `ignored_range_is_a_protocol_error` also needs a backend that can ignore ranges.
async fn partition_checks(
    c: &dyn Connector,
    backend: &dyn AccountBackend,
    suite: &ProvisioningSuite,
    report: &mut SuiteReport,
) {
    use accesslink_core::partition::Listing;
    let size = suite.page_size;
    let splitter = c.as_partitioner().filter(|p| p.splits(&Listing::Accounts));
    for check in [
        Check::PartitionedAccountsExactlyOnce,
        Check::PartitionedResumeLosesNothing,
        Check::IgnoredRangeIsAProtocolError,
    ] {
        let mut why = why_not(c, &suite.skips, check, &[Capability::ListAccounts]);
        if splitter.is_none() {
            why = why.or_else(|| Some(NO_SPLIT.into()));
        }
        // Asking with `false` is harmless: it restores the ranges.
        if check == Check::IgnoredRangeIsAProtocolError && !backend.ignore_key_ranges(false) {
            why = why.or_else(|| Some("the backend cannot ignore key ranges".into()));
        }
        let (None, Some(p)) = (&why, splitter) else {
            report.skip(check, why.unwrap_or_default());
            continue;
        };
        let result = match check {
            Check::PartitionedAccountsExactlyOnce => {
                partitioned_accounts_exactly_once(p, backend, size).await
            }
            Check::PartitionedResumeLosesNothing => {
                partitioned_resume_loses_nothing(p, backend, size).await
            }
            _ => ignored_range_is_a_protocol_error(p, backend, size).await,
        };
        report.record(check, result);
    }
}

/// The intake checks of the provisioning suite, like [`intake_ticket_checks`].
async fn intake_account_checks(
    c: &dyn Connector,
    p: &dyn Provisioner,
    backend: &dyn AccountBackend,
    suite: &ProvisioningSuite,
    report: &mut SuiteReport,
) {
    use Capability as C;
    let skips = &suite.skips;
    let check = Check::AccountSchemaListsFields;
    let why = why_not(c, skips, check, &[C::AccountSchema]).or_else(|| {
        backend
            .account_fields()
            .is_none()
            .then(|| "the backend does not list its account fields".into())
    });
    match why {
        Some(why) => report.skip(check, why),
        None => report.record(check, account_schema_lists_fields(p, backend).await),
    }
    let check = Check::PasswordSetAndNeverPrinted;
    let mut why = why_not(c, skips, check, &[C::CreateAccount, C::SetPassword]);
    if why.is_none() {
        // Asking about an account that does not exist tells whether the backend can.
        let probe = backend
            .password_is(&accesslink_core::AccountId::new("accesslink-probe"), "x")
            .await;
        if matches!(probe, Ok(None)) {
            why = Some("the backend cannot tell an account's password".into());
        }
    }
    match why {
        Some(why) => report.skip(check, why),
        None => {
            let with_create = c.info().supports(&C::CreateWithPassword);
            let result =
                password_set_and_never_printed(p, backend, &suite.account, with_create).await;
            report.record(check, result);
        }
    }
}
