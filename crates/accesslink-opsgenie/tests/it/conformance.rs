//! The shared provisioning conformance suite on the stateful mock.

use accesslink_core::{AccountSpec, Capability, Connector};
use accesslink_opsgenie::OpsGenieConnector;
use accesslink_testkit::conformance::{Check, ProvisioningSuite, fresh_id, run_provisioning_suite};
use accesslink_testkit::opsgenie::OpsGenieMock;

use crate::on_mock;

#[tokio::test]
async fn provisioning_suite_with_a_team() {
    let mock = OpsGenieMock::builder().generated_users(730).start().await;
    let og = on_mock(&mock);
    let team = mock.add_team("platform-ops", "on call for the platform");
    let login = format!("{}@example.com", fresh_id("new.user"));
    let suite = ProvisioningSuite::new(
        100,
        AccountSpec::new(login).name("New", "User"),
        OpsGenieConnector::team_entitlement(team),
    )
    .canaries([mock.api_key().to_owned()]);
    let report = run_provisioning_suite(&og, &mock, &suite).await;
    report.assert_success();
    // OpsGenie API keys never expire and there is no session: nothing to expire mid-import.
    // OpsGenie has no password API (docs/connectors/opsgenie.md, "Intake"). The connector
    // does not split its user listing (no Partitioner): the partition checks are
    // skipped with that reason.
    const NO_SPLIT: &str = "the connector does not split account listings";
    let skipped: Vec<_> = report.skipped().collect();
    assert_eq!(
        skipped,
        [
            (
                Check::ExpiryMidImport,
                "the backend's credentials cannot expire"
            ),
            (Check::PartitionedAccountsExactlyOnce, NO_SPLIT),
            (Check::PartitionedResumeLosesNothing, NO_SPLIT),
            (Check::IgnoredRangeIsAProtocolError, NO_SPLIT),
            (
                Check::PasswordSetAndNeverPrinted,
                "the connector does not declare [SetPassword]"
            )
        ],
        "{report}"
    );
    assert!(
        report
            .passed()
            .any(|c| c == Check::AccountSchemaListsFields)
    );
    assert!(
        report
            .passed()
            .any(|c| c == Check::EntitlementsAndGrantsDrained)
    );
    // Disable is undeclared: the suite checked it fails with Unsupported and no request.
    assert!(!og.info().supports(&Capability::EnableDisable));
    assert!(og.info().supports(&Capability::DeleteAccount));
    assert!(og.as_ticketing().is_none());
}

#[tokio::test]
async fn provisioning_suite_with_a_custom_role() {
    let mock = OpsGenieMock::builder().generated_users(150).start().await;
    let og = on_mock(&mock);
    mock.add_role("Responder", "user");
    let login = format!("{}@example.com", fresh_id("role.user"));
    let suite = ProvisioningSuite::new(
        40,
        AccountSpec::new(login),
        OpsGenieConnector::role_entitlement("Responder"),
    );
    run_provisioning_suite(&og, &mock, &suite)
        .await
        .assert_success();
}
