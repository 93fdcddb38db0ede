//! The shared provisioning suite on the stateful mock.

use accesslink_core::{AccountSpec, Capability, Connector, ErrorKind, Provisioner};
use accesslink_opsramp::{DeleteMode, OpsRampConfig, OpsRampConnector};
use accesslink_testkit::conformance::{
    ProvisioningSuite, fresh_id, run_provisioning_suite, unsupported_operations_declared,
};
use secrecy::SecretString;

use crate::{PASSWORD, client, connector, mock};

fn spec() -> AccountSpec {
    AccountSpec::new(fresh_id("new.user"))
        .name("New", "User")
        .email("new.user@example.test")
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
    assert_eq!(report.skipped().count(), 0, "{report}");
    // The suite drained 250 users twice in pages of 100 and resumed once: one token did.
    assert_eq!(mock.tokens_issued(), 1);
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
