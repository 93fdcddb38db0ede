//! The shared conformance suites on the stateful GLPI mock.

use accesslink_core::feed::TicketQuery;
use accesslink_core::{AccountSpec, CorrelationId, NewTicket, TicketKind};
use accesslink_glpi::GlpiConnector;
use accesslink_testkit::conformance::{
    Check, ProvisioningSuite, comment_not_repeated, create_is_idempotent,
    echoed_request_not_printed, follow_state_change, fresh_id, html_is_a_protocol_error,
    invalid_ticket_refs_rejected, lost_create_answer, run_provisioning_suite, search_hit_confirmed,
};
use accesslink_testkit::conformance::{
    change_feed_exactly_once, comments_read_back, ticket_schema_lists_fields,
};
use accesslink_testkit::glpi::{GlpiMock, Itemtype};
use serde_json::json;
use std::time::Duration;

use crate::on_mock;

#[tokio::test]
async fn provisioning_suite_on_the_mock() {
    let mock = GlpiMock::builder().generated_users(730).start().await;
    let glpi = on_mock(&mock);
    let group = mock
        .create(
            Itemtype::Group,
            &json!({ "name": "crm-admins", "is_recursive": 1 }),
        )
        .unwrap();
    let suite = ProvisioningSuite::new(
        100,
        AccountSpec::new(fresh_id("new.user"))
            .name("New", "User")
            .email("new.user@example.test"),
        GlpiConnector::group_entitlement(group as u64),
    )
    .canaries([mock.app_token(), mock.user_token()]);
    let report = run_provisioning_suite(&glpi, &mock, &suite).await;
    report.assert_success();
    assert_eq!(report.skipped().count(), 0, "{report}");
    // The partitioned-import checks ran (the connector splits its account listing).
    for check in [
        Check::PartitionedAccountsExactlyOnce,
        Check::PartitionedResumeLosesNothing,
        Check::IgnoredRangeIsAProtocolError,
    ] {
        assert!(report.passed().any(|c| c == check), "{check}: {report}");
    }
}

/// The ticketing checks that do not close a ticket, fault checks included, one by one,
/// until the mock can. The mock runs behind the fault proxy so that a lost create answer
/// can be a dropped connection.
#[tokio::test]
async fn ticketing_checks_that_need_no_solution_on_the_mock() {
    let mock = GlpiMock::builder().with_proxy(true).start().await;
    let glpi = on_mock(&mock);
    invalid_ticket_refs_rejected(&glpi, &mock, &["#", "CHG-", "0", "012", "INC-12"])
        .await
        .unwrap();
    for kind in [
        TicketKind::Request,
        TicketKind::Incident,
        TicketKind::Change,
    ] {
        let new = |suffix: &str| {
            NewTicket::new(
                kind.clone(),
                "Grant sales-admin on CRM to alice",
                "Requested by bob.",
                CorrelationId::new(fresh_id(suffix)),
            )
        };
        create_is_idempotent(&glpi, &mock, &new("IDEM"))
            .await
            .unwrap();
        follow_state_change(&glpi, &mock, &new("FOLLOW"))
            .await
            .unwrap();
        lost_create_answer(&glpi, &mock, &new("LOST"))
            .await
            .unwrap();
        html_is_a_protocol_error(&glpi, &mock, &new("HTML"))
            .await
            .unwrap();
        comment_not_repeated(&glpi, &mock, &new("COMMENT"))
            .await
            .unwrap();
        // Issue 15 item 1: with searches answering every ticket, an absent ticket is
        // still absent (tickets and changes are read by id; the correlation lookup is a
        // search whose hits must be confirmed).
        let absent = if kind == TicketKind::Change {
            "CHG-999999"
        } else {
            "999999"
        };
        search_hit_confirmed(&glpi, &mock, &new("SEARCH"), absent)
            .await
            .unwrap();
        echoed_request_not_printed(
            &glpi,
            &mock,
            &new("ECHO"),
            &[mock.app_token(), mock.user_token()],
        )
        .await
        .unwrap();
        // Issue 23: the intake checks.
        let query = TicketQuery::new().kind(kind.clone());
        change_feed_exactly_once(&glpi, &mock, &new("FEED"), &query, Duration::from_secs(1))
            .await
            .unwrap();
        comments_read_back(&glpi, &mock, &new("NOTES"), Some(absent))
            .await
            .unwrap();
        ticket_schema_lists_fields(&glpi, &mock, &kind)
            .await
            .unwrap();
    }
    // Per kind: a lost create answer, an HTML page, two 500s on comments, and at least
    // one echo each for the read and the create.
    assert!(
        mock.faults().applied() >= 3 * 6,
        "{}",
        mock.faults().applied()
    );
}
