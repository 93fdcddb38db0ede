//! The fault checks against a fault-injecting in-memory connector: the faithful one
//! passes them, and each broken variant fails the matching one.

use super::*;

/// The fault checks of a run against a backend that injects faults.
const FAULT_CHECKS: [Check; 3] = [
    Check::LostCreateAnswer,
    Check::HtmlIsAProtocolError,
    Check::CommentNotRepeated,
];

#[tokio::test]
async fn a_faithful_connector_passes_the_fault_checks() {
    let m = Memory::new(Faults::default()).injecting();
    let tickets = run_ticketing_suite(&m, &m, &ticketing_suite()).await;
    tickets.assert_success();
    assert_eq!(tickets.skipped().count(), 0, "{tickets}");
    for check in FAULT_CHECKS {
        assert!(tickets.passed().any(|c| c == check), "{check}: {tickets}");
    }
    // Every queued fault fired: none is left to hit a later call.
    assert_eq!(m.plan.pending(), 0);
    let accounts = run_provisioning_suite(&m, &m, &provisioning_suite()).await;
    accounts.assert_success();
    // The memory connector does not split its account listing: only the partition
    // checks are skipped.
    let skipped: Vec<(Check, &str)> = accounts.skipped().collect();
    let no_split = "the connector does not split account listings";
    assert_eq!(
        skipped,
        [
            (Check::PartitionedAccountsExactlyOnce, no_split),
            (Check::PartitionedResumeLosesNothing, no_split),
            (Check::IgnoredRangeIsAProtocolError, no_split),
        ],
        "{accounts}"
    );
    for check in [
        Check::ExpiryMidImport,
        Check::EntitlementsAndGrantsDrained,
        Check::HtmlIsAProtocolError,
        Check::WrongShapedPageIsAnError,
        Check::RepeatedPageIsAnError,
        Check::EchoedRequestNotPrinted,
    ] {
        assert!(accounts.passed().any(|c| c == check), "{check}: {accounts}");
    }
    // lifecycle, idempotent, follow, the lost create (one ticket despite the lost answer),
    // HTML, comment, echo, search: one ticket each; three for the change feed, one for
    // the comments read back.
    assert_eq!(m.lock().tickets.len(), 12);
}

/// The failure of `check` in a ticketing run of a fault-injecting `Memory`.
async fn ticketing_failure(faults: Faults, check: Check) -> ConformanceFailure {
    let m = Memory::new(faults).injecting();
    let report = run_ticketing_suite(&m, &m, &ticketing_suite()).await;
    let failed: Vec<Check> = report.failures().map(|f| f.check).collect();
    assert_eq!(failed, [check], "{report}");
    let Some(Outcome::Failed(f)) = report
        .results
        .into_iter()
        .find(|r| r.check == check)
        .map(|r| r.outcome)
    else {
        unreachable!("asserted above");
    };
    f
}

#[tokio::test]
async fn a_create_repeated_after_a_lost_answer_fails() {
    let faults = Faults {
        create_retried_blindly: true,
        ..Faults::default()
    };
    let f = ticketing_failure(faults, Check::LostCreateAnswer).await;
    assert_eq!(
        f.step,
        "backend.count_with_correlation after the lost answer"
    );
    assert_eq!((f.expected.as_str(), f.found.as_str()), ("1 ticket", "2"));
}

#[tokio::test]
async fn a_fault_that_hits_no_request_fails_instead_of_passing() {
    let faults = Faults {
        wrong_create_route: true,
        ..Faults::default()
    };
    let f = ticketing_failure(faults, Check::LostCreateAnswer).await;
    assert_eq!(f.expected, "the injected fault to hit a request");
    assert!(f.found.contains("fault_route"), "{f}");
}

#[tokio::test]
async fn html_read_as_a_missing_ticket_fails() {
    let faults = Faults {
        html_is_none: true,
        ..Faults::default()
    };
    let f = ticketing_failure(faults, Check::HtmlIsAProtocolError).await;
    assert_eq!(f.expected, "an error of kind `protocol error`");
    assert_eq!(f.found, "Ok(None)");
}

#[tokio::test]
async fn a_comment_sent_again_after_a_processed_500_fails() {
    let faults = Faults {
        comment_retried: true,
        ..Faults::default()
    };
    let f = ticketing_failure(faults, Check::CommentNotRepeated).await;
    // Retrying after a 500 the server did not process is harmless; after one it did, the
    // comment is stored twice.
    assert!(f.step.ends_with("the server processed"), "{f}");
    assert!(f.found.starts_with("2, "), "{f}");
}

#[tokio::test]
async fn paging_from_the_start_after_a_relogin_fails_the_expiry_check() {
    let m = Memory::new(Faults {
        relogin_restarts_paging: true,
        ..Faults::default()
    })
    .injecting();
    let report = run_provisioning_suite(&m, &m, &provisioning_suite()).await;
    let failed: Vec<Check> = report.failures().map(|f| f.check).collect();
    assert_eq!(failed, [Check::ExpiryMidImport], "{report}");
}

#[tokio::test]
async fn a_read_error_answered_with_an_empty_page_fails_the_drain() {
    let m = Memory::new(Faults {
        read_errors_swallowed: true,
        ..Faults::default()
    })
    .injecting();
    let report = run_provisioning_suite(&m, &m, &provisioning_suite()).await;
    let f = report
        .failure(Check::EntitlementsAndGrantsDrained)
        .unwrap_or_else(|| panic!("{report}"));
    assert!(f.expected.contains("the 1 entitlements"), "{f}");
    assert!(f.found.starts_with("0 entitlements"), "{f}");
}

/// The failure of `check` in a provisioning run of a fault-injecting `Memory`.
async fn provisioning_failure(faults: Faults, check: Check) -> (String, String) {
    let m = Memory::new(faults).injecting();
    let report = run_provisioning_suite(&m, &m, &provisioning_suite()).await;
    let failed: Vec<Check> = report.failures().map(|f| f.check).collect();
    assert_eq!(failed, [check], "{report}");
    let f = report.failures().next().unwrap();
    (f.step.clone(), f.found.clone())
}

#[tokio::test]
async fn a_wrong_shaped_page_read_as_empty_fails() {
    let faults = Faults {
        wrong_shape_is_empty: true,
        ..Faults::default()
    };
    let (step, found) = provisioning_failure(faults, Check::WrongShapedPageIsAnError).await;
    assert!(step.contains("answered 200 with `{}`"), "{step}");
    assert!(found.contains("0 item(s)"), "{found}");
}

#[tokio::test]
async fn a_repeated_page_that_ends_the_import_quietly_fails() {
    let faults = Faults {
        repeated_page_ends_quietly: true,
        ..Faults::default()
    };
    let (_, found) = provisioning_failure(faults, Check::RepeatedPageIsAnError).await;
    assert!(found.contains("ended as a success"), "{found}");
}

#[tokio::test]
async fn a_trusted_search_hit_fails_and_names_the_other_ticket() {
    let m = Memory::new(Faults {
        search_hits_trusted: true,
        ..Faults::default()
    });
    let report = run_ticketing_suite(&m, &m, &ticketing_suite()).await;
    let failed: Vec<&ConformanceFailure> = report.failures().collect();
    assert_eq!(failed.len(), 1, "{report}");
    assert_eq!(failed[0].check, Check::SearchHitConfirmed);
    assert!(
        failed[0].step.starts_with("get_ticket of an absent ticket"),
        "{}",
        failed[0]
    );
    assert!(!m.lock().unfiltered, "the check restores the filters");
}
