//! Each check against the faithful in-memory connector and its broken variants.

use super::*;

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
            Check::SearchHitConfirmed,
            Check::ChangeFeedExactlyOnce,
            Check::CommentsReadBack,
            Check::TicketSchemaListsFields,
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
            Check::ReportedTotalShortfall,
            Check::AccountLifecycle,
            Check::AccountSchemaListsFields,
            Check::PasswordSetAndNeverPrinted,
            Check::UnsupportedOperationsDeclared,
            Check::SecretsNeverPrinted,
        ]
    );
    // Eight tickets (lifecycle, idempotent, follow, search, three for the change feed,
    // comments); the accounts of the lifecycle and password checks were deleted.
    assert_eq!(m.lock().tickets.len(), 8);
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
            (Check::EchoedRequestNotPrinted, why),
        ],
        "{tickets}"
    );
    let accounts = run_provisioning_suite(&m, &m, &provisioning_suite()).await;
    let skipped: Vec<(Check, &str)> = accounts.skipped().collect();
    // The memory connector does not split its account listing.
    let no_split = "the connector does not split account listings";
    assert_eq!(
        skipped,
        [
            (Check::ExpiryMidImport, why),
            (Check::EntitlementsAndGrantsDrained, why),
            (Check::HtmlIsAProtocolError, why),
            (Check::WrongShapedPageIsAnError, why),
            (Check::RepeatedPageIsAnError, why),
            (Check::EchoedRequestNotPrinted, why),
            (Check::PartitionedAccountsExactlyOnce, no_split),
            (Check::PartitionedResumeLosesNothing, no_split),
            (Check::IgnoredRangeIsAProtocolError, no_split),
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
    let suite = ticketing_suite()
        .skip(Check::TicketLifecycle, "memory drops comments (#1)")
        .skip(Check::CommentsReadBack, "memory drops comments (#1)");
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
    // Without DeleteAccount the lifecycle and password checks leave their accounts.
    assert_eq!(m.lock().accounts.len(), 9);
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
    // Drain, resume, expiry, entitlements and grants, HTML, wrong shape, repeated page,
    // echo, total, lifecycle.
    assert_eq!(report.failures().count(), 10, "{report}");
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

#[tokio::test]
async fn a_feed_whose_watermark_is_pushed_forward_misses_the_same_second_change() {
    let m = faulty(Faults {
        feed_watermark_pushed: true,
        ..Faults::default()
    });
    let report = run_ticketing_suite(&m, &m, &ticketing_suite()).await;
    let f = report
        .failures()
        .find(|f| f.check == Check::ChangeFeedExactlyOnce)
        .unwrap_or_else(|| panic!("the feed check should fail: {report}"));
    // The clock is frozen, so every ticket is in the second the feed starts from: a
    // bound pushed past it shows none of them.
    assert_eq!(f.step, "first poll", "{f}");
    assert!(f.found.contains("[]"), "{f}");
}

#[tokio::test]
async fn comments_read_back_without_their_visibility_fail() {
    let m = faulty(Faults {
        comment_visibility_lost: true,
        ..Faults::default()
    });
    let new = new_ticket();
    let f = failed(
        comments_read_back(&m, &m, &new, Some("999999")).await,
        Check::CommentsReadBack,
    );
    assert!(f.expected.contains("Internal"), "{f}");
}

#[tokio::test]
async fn a_schema_without_a_field_the_server_keeps_fails() {
    let m = faulty(Faults {
        schema_missing_field: true,
        ..Faults::default()
    });
    let f = failed(
        ticket_schema_lists_fields(&m, &m, &TicketKind::Incident).await,
        Check::TicketSchemaListsFields,
    );
    assert!(f.found.contains("\"title\""), "{f}");
}

#[tokio::test]
async fn a_password_in_the_logs_fails() {
    let m = faulty(Faults {
        password_logged: true,
        ..Faults::default()
    });
    let spec = AccountSpec::new(fresh_id("pw"));
    let f = failed(
        password_set_and_never_printed(&m, &m, &spec, true).await,
        Check::PasswordSetAndNeverPrinted,
    );
    assert!(
        f.to_string().contains("canary") || f.step.contains("output"),
        "{f}"
    );
    // The faithful connector holds the new password afterwards, and the check deleted
    // its account.
    let m = Memory::new(Faults::default());
    password_set_and_never_printed(&m, &m, &spec, true)
        .await
        .unwrap();
    assert!(
        m.lock()
            .accounts
            .values()
            .all(|a| !a.login.ends_with("-pw"))
    );
}
