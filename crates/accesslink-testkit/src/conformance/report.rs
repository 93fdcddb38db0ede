//! The checks, their failures and the report of a suite run.

use std::fmt;

use accesslink_core::Error;

/// One check of the suite.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Check {
    /// [`invalid_ticket_refs_rejected`](super::invalid_ticket_refs_rejected).
    InvalidTicketRefsRejected,
    /// [`ticket_lifecycle`](super::ticket_lifecycle).
    TicketLifecycle,
    /// [`create_is_idempotent`](super::create_is_idempotent).
    CreateIsIdempotent,
    /// [`follow_state_change`](super::follow_state_change).
    FollowStateChange,
    /// [`drain_accounts`](super::drain_accounts).
    DrainAccounts,
    /// [`resume_accounts`](super::resume_accounts).
    ResumeAccounts,
    /// [`account_lifecycle`](super::account_lifecycle).
    AccountLifecycle,
    /// [`unsupported_operations_declared`](super::unsupported_operations_declared).
    UnsupportedOperationsDeclared,
    /// [`secrets_never_printed`](super::secrets_never_printed).
    SecretsNeverPrinted,
    /// [`lost_create_answer`](super::lost_create_answer).
    LostCreateAnswer,
    /// [`html_is_a_protocol_error`](super::html_is_a_protocol_error) (ticketing) and
    /// [`html_import_is_a_protocol_error`](super::html_import_is_a_protocol_error)
    /// (provisioning).
    HtmlIsAProtocolError,
    /// [`comment_not_repeated`](super::comment_not_repeated).
    CommentNotRepeated,
    /// [`expiry_mid_import`](super::expiry_mid_import).
    ExpiryMidImport,
    /// [`entitlements_and_grants_drained`](super::entitlements_and_grants_drained).
    EntitlementsAndGrantsDrained,
    /// [`wrong_shaped_page_is_an_error`](super::wrong_shaped_page_is_an_error).
    WrongShapedPageIsAnError,
    /// [`repeated_page_is_an_error`](super::repeated_page_is_an_error).
    RepeatedPageIsAnError,
    /// [`echoed_request_not_printed`](super::echoed_request_not_printed) (ticketing) and
    /// [`echoed_request_not_printed_import`](super::echoed_request_not_printed_import)
    /// (provisioning).
    EchoedRequestNotPrinted,
    /// [`search_hit_confirmed`](super::search_hit_confirmed).
    SearchHitConfirmed,
    /// [`reported_total_shortfall`](super::reported_total_shortfall).
    ReportedTotalShortfall,
    /// [`change_feed_exactly_once`](super::change_feed_exactly_once).
    ChangeFeedExactlyOnce,
    /// [`comments_read_back`](super::comments_read_back).
    CommentsReadBack,
    /// [`ticket_schema_lists_fields`](super::ticket_schema_lists_fields).
    TicketSchemaListsFields,
    /// [`account_schema_lists_fields`](super::account_schema_lists_fields).
    AccountSchemaListsFields,
    /// [`password_set_and_never_printed`](super::password_set_and_never_printed).
    PasswordSetAndNeverPrinted,
    /// [`partitioned_accounts_exactly_once`](super::partitioned_accounts_exactly_once).
    PartitionedAccountsExactlyOnce,
    /// [`partitioned_resume_loses_nothing`](super::partitioned_resume_loses_nothing).
    PartitionedResumeLosesNothing,
    /// [`ignored_range_is_a_protocol_error`](super::ignored_range_is_a_protocol_error).
    IgnoredRangeIsAProtocolError,
}

impl Check {
    /// Whether the check injects faults, so it runs only against a backend that can
    /// (a testkit mock) and is skipped against a live server.
    pub fn is_fault_check(self) -> bool {
        matches!(
            self,
            Check::LostCreateAnswer
                | Check::HtmlIsAProtocolError
                | Check::CommentNotRepeated
                | Check::ExpiryMidImport
                | Check::EntitlementsAndGrantsDrained
                | Check::WrongShapedPageIsAnError
                | Check::RepeatedPageIsAnError
                | Check::EchoedRequestNotPrinted
                | Check::SearchHitConfirmed
                | Check::ReportedTotalShortfall
                | Check::IgnoredRangeIsAProtocolError
        )
    }

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
            Check::LostCreateAnswer => "lost_create_answer",
            Check::HtmlIsAProtocolError => "html_is_a_protocol_error",
            Check::CommentNotRepeated => "comment_not_repeated",
            Check::ExpiryMidImport => "expiry_mid_import",
            Check::EntitlementsAndGrantsDrained => "entitlements_and_grants_drained",
            Check::WrongShapedPageIsAnError => "wrong_shaped_page_is_an_error",
            Check::RepeatedPageIsAnError => "repeated_page_is_an_error",
            Check::EchoedRequestNotPrinted => "echoed_request_not_printed",
            Check::SearchHitConfirmed => "search_hit_confirmed",
            Check::ReportedTotalShortfall => "reported_total_shortfall",
            Check::ChangeFeedExactlyOnce => "change_feed_exactly_once",
            Check::CommentsReadBack => "comments_read_back",
            Check::TicketSchemaListsFields => "ticket_schema_lists_fields",
            Check::AccountSchemaListsFields => "account_schema_lists_fields",
            Check::PasswordSetAndNeverPrinted => "password_set_and_never_printed",
            Check::PartitionedAccountsExactlyOnce => "partitioned_accounts_exactly_once",
            Check::PartitionedResumeLosesNothing => "partitioned_resume_loses_nothing",
            Check::IgnoredRangeIsAProtocolError => "ignored_range_is_a_protocol_error",
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

    pub(super) fn record(&mut self, check: Check, result: Result<(), ConformanceFailure>) {
        let outcome = match result {
            Ok(()) => Outcome::Passed,
            Err(f) => Outcome::Failed(f),
        };
        self.results.push(CheckResult { check, outcome });
    }

    pub(super) fn skip(&mut self, check: Check, why: impl Into<String>) {
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
