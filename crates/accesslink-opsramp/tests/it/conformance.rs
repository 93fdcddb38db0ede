//! The shared conformance suites on the stateful mock, fault checks included: the
//! ticketing suite on incidents and service requests, the provisioning suite on roles and
//! groups.

use accesslink_core::{
    AccountSpec, Capability, Connector, CorrelationId, ErrorKind, NewTicket, Provisioner,
    TicketKind,
};
use accesslink_opsramp::{DeleteMode, OpsRampConfig, OpsRampConnector};
use accesslink_testkit::conformance::{
    Check, ProvisioningSuite, TicketingSuite, fresh_id, run_provisioning_suite,
    run_ticketing_suite, unsupported_operations_declared,
};
use accesslink_testkit::opsramp::{OpsRampMock, RateLimits};
use secrecy::SecretString;

use crate::{PASSWORD, client, connector, mock};

fn spec() -> AccountSpec {
    AccountSpec::new(fresh_id("new.user"))
        .name("New", "User")
        .email("new.user@example.test")
}

#[tokio::test]
async fn ticketing_suite_on_incidents_and_service_requests() {
    for kind in [TicketKind::Incident, TicketKind::Request] {
        // Behind the fault proxy, so that a lost create answer can be a dropped connection.
        let mock = OpsRampMock::builder()
            .rate_limits(RateLimits::unlimited())
            .with_proxy(true)
            .start()
            .await;
        let opsramp = connector(&mock);
        let template = NewTicket::new(
            kind.clone(),
            "Grant Network Admin to jdoe",
            "Requested by bob for the Q3 migration.",
            CorrelationId::new(fresh_id("REQ")),
        )
        .priority("Low");
        let suite = TicketingSuite::new(template)
            .bad_refs(["INC", "SRQ-12", "CHG0000001", "INC12x", "12345"])
            .canaries([mock.client_secret(), PASSWORD.to_owned()])
            .absent_ref("INC999999");
        let report = run_ticketing_suite(&opsramp, &mock, &suite).await;
        report.assert_success();
        assert_eq!(report.skipped().count(), 0, "{kind:?}: {report}");
    }
}

#[tokio::test]
async fn provisioning_suite_with_roles() {
    let mock = mock(250).await;
    let opsramp = connector(&mock);
    let role = mock.add_role("Auditor");
    let suite = ProvisioningSuite::new(100, spec(), OpsRampConnector::role_entitlement(&role))
        .canaries([mock.client_secret(), PASSWORD.to_owned()]);
    let report = run_provisioning_suite(&opsramp, &mock, &suite).await;
    report.assert_success();
    // The user listing is not split by key ranges: only the partition checks are
    // skipped, with that reason.
    let skipped: Vec<_> = report.skipped().collect();
    assert_eq!(
        skipped,
        [
            (Check::PartitionedAccountsExactlyOnce, NO_SPLIT),
            (Check::PartitionedResumeLosesNothing, NO_SPLIT),
            (Check::IgnoredRangeIsAProtocolError, NO_SPLIT),
        ],
        "{report}"
    );
    // The suite drained 250 users in pages of 100 several times; its fault checks expired
    // the token between drains: each expiry cost one refused request and one new token,
    // and nothing else asked for a token.
    assert!(mock.auth_rejections() > 0);
    assert_eq!(mock.tokens_issued(), 1 + mock.auth_rejections());
}

#[tokio::test]
async fn provisioning_suite_with_groups() {
    let mock = mock(150).await;
    let opsramp = connector(&mock);
    let group = mock.group_id("Ops").unwrap();
    let suite = ProvisioningSuite::new(100, spec(), OpsRampConnector::group_entitlement(&group))
        .canaries([mock.client_secret()]);
    run_provisioning_suite(&opsramp, &mock, &suite)
        .await
        .assert_success();
}

#[tokio::test]
async fn without_delete_the_capability_is_absent_and_delete_is_unsupported() {
    let mock = mock(3).await;
    let opsramp = OpsRampConnector::new(
        client(&mock).build().unwrap(),
        OpsRampConfig::new()
            .delete_mode(DeleteMode::Unsupported)
            .initial_password(SecretString::from(PASSWORD)),
    );
    assert!(!opsramp.info().supports(&Capability::DeleteAccount));
    let before = mock.counter().total();
    let e = opsramp
        .delete_account(&"USR0000000001".into())
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unsupported);
    assert_eq!(mock.counter().total(), before, "decided without a request");
    unsupported_operations_declared(&opsramp, &|| mock.counter().total())
        .await
        .unwrap();
    assert!(mock.has_user("USR0000000001"));
}

#[tokio::test]
async fn delete_as_deactivate_keeps_the_user_inactive() {
    let mock = mock(3).await;
    let opsramp = OpsRampConnector::new(
        client(&mock).build().unwrap(),
        OpsRampConfig::new()
            .delete_mode(DeleteMode::Deactivate)
            .deactivate_reason("Removed by IGA"),
    );
    opsramp
        .delete_account(&"USR0000000002".into())
        .await
        .unwrap();
    assert_eq!(mock.user_status("USR0000000002"), Some("inactive"));
    assert_eq!(
        mock.deactivate_reason("USR0000000002").as_deref(),
        Some("Removed by IGA")
    );
    assert_eq!(mock.count("users/{id}/{action}"), 1);
}

const NO_SPLIT: &str = "the connector does not split account listings";
