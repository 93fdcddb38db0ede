//! The shared conformance suites on the stateful TOPdesk mock.

use accesslink_core::{AccountSpec, Capability, Connector, CorrelationId, NewTicket, TicketKind};
use accesslink_testkit::conformance::{
    Check, ProvisioningSuite, TicketingSuite, fresh_id, run_provisioning_suite, run_ticketing_suite,
};
use accesslink_testkit::topdesk::TopdeskMock;
use accesslink_topdesk::TopdeskConnector;

use crate::on_mock;

#[tokio::test]
async fn ticketing_suite_on_the_mock() {
    // Behind the fault proxy, so that a lost create answer can be a dropped connection.
    let mock = TopdeskMock::builder().with_proxy(true).start().await;
    let td = on_mock(&mock);
    let template = NewTicket::new(
        TicketKind::Incident,
        "Grant sales-admin on CRM to alice",
        "Requested by bob through the IAM portal.",
        CorrelationId::new(fresh_id("conf")),
    );
    let suite = TicketingSuite::new(template)
        .bad_refs([
            "I",
            "I 2405",
            "I 2405 123 4",
            "X 2405 123",
            "C 2405",
            "I 24 123",
            "2405 123",
        ])
        .canaries([mock.password().to_owned()])
        .absent_ref("I 9912 999");
    let report = run_ticketing_suite(&td, &mock, &suite).await;
    report.assert_success();
    assert_eq!(report.skipped().count(), 0, "{report}");
    // Lost create answer, HTML page, a 500 on a comment.
    assert!(mock.faults().applied() >= 3);
}

#[tokio::test]
async fn provisioning_suite_on_the_mock() {
    let mock = TopdeskMock::builder()
        .generated_operators(130)
        .generated_persons(170)
        .start()
        .await;
    let td = on_mock(&mock);
    let group = mock.add_operator_group("Identity team");
    let suite = ProvisioningSuite::new(
        40,
        AccountSpec::new(fresh_id("op.new"))
            .name("New", "Operator")
            .email("new.op@example.test"),
        TopdeskConnector::operator_group_entitlement(group),
    )
    .canaries([mock.password().to_owned()]);
    let report = run_provisioning_suite(&td, &mock, &suite).await;
    report.assert_success();
    // Application passwords are not sessions: nothing to expire mid-import. TOPdesk's
    // lists report no total (206 means more, 200 the last page): none to inflate. The
    // listing is not split: the partition checks are skipped with that reason.
    const NO_SPLIT: &str = "the connector does not split account listings";
    let skipped: Vec<_> = report.skipped().collect();
    assert_eq!(
        skipped,
        [
            (
                Check::ExpiryMidImport,
                "the backend's credentials cannot expire"
            ),
            (
                Check::ReportedTotalShortfall,
                "the backend's totals cannot be inflated"
            ),
            (Check::PartitionedAccountsExactlyOnce, NO_SPLIT),
            (Check::PartitionedResumeLosesNothing, NO_SPLIT),
            (Check::IgnoredRangeIsAProtocolError, NO_SPLIT)
        ],
        "{report}"
    );
    // No hard delete: undeclared, and the suite checked it fails with Unsupported.
    assert!(!td.info().supports(&Capability::DeleteAccount));
    assert!(td.info().supports(&Capability::EnableDisable));
}
