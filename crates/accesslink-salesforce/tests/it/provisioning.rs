//! The shared provisioning conformance suite on the mock, and the connector's own
//! provisioning behaviour.

use accesslink_core::{
    AccountId, AccountSpec, EntitlementRef, EntitlementType, ErrorKind, GrantOutcome, Provisioner,
};
use accesslink_salesforce::SalesforceConnector;
use accesslink_testkit::conformance::{Check, ProvisioningSuite, fresh_id, run_provisioning_suite};
use accesslink_testkit::salesforce::{AuthMode, SalesforceMock};
use serde_json::json;

use crate::on;

async fn suite(auth: AuthMode, entitlement: &str) {
    let mock = SalesforceMock::builder().auth(auth).users(45).start().await;
    mock.set_page_size(7);
    let sf: SalesforceConnector = on(&mock);
    let (object, ty) = match entitlement {
        "group" => ("Group", EntitlementType::group()),
        _ => ("PermissionSet", EntitlementType::new("permission_set")),
    };
    let name = if object == "Group" {
        "Payroll Team"
    } else {
        "Payroll_Admin"
    };
    let eid = mock.id_by_name(object, name).unwrap();
    let suite = ProvisioningSuite::new(
        20,
        AccountSpec::new(format!("{}@acme.example", fresh_id("new.user")))
            .email("new.user@acme.example")
            .name("New", "User"),
        EntitlementRef::new(ty, eid),
    )
    .canaries([
        mock.client_secret(),
        mock.password(),
        mock.security_token(),
        mock.refresh_token(),
    ]);
    let report = run_provisioning_suite(&sf, &mock, &suite).await;
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

#[tokio::test]
async fn provisioning_suite_client_credentials_permission_sets() {
    suite(AuthMode::ClientCredentials, "permission_set").await;
}

#[tokio::test]
async fn provisioning_suite_password_groups() {
    suite(AuthMode::Password, "group").await;
}

#[tokio::test]
async fn users_get_the_required_defaults_and_cannot_be_deleted() {
    let mock = SalesforceMock::start().await;
    let sf = on(&mock);
    let spec = AccountSpec::new("jane.o'doe@acme.example").name("Jane", "O'Doe-Smithson");
    let created = sf.create_account(&spec).await.unwrap();
    let id = created.account().id.clone();
    let u = mock.record("User", id.as_str()).unwrap();
    assert_eq!(u["Alias"], json!("jodoesmi"));
    assert_eq!(u["ProfileId"], json!(mock.profile_id()));
    assert_eq!(u["TimeZoneSidKey"], json!("Europe/London"));
    assert_eq!(u["LanguageLocaleKey"], json!("en_US"));
    // The quote in the user name was escaped in the look-up, not interpreted.
    let e = sf.delete_account(&id).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unsupported);
    assert!(mock.record("User", id.as_str()).is_some());
    sf.set_enabled(&id, false).await.unwrap();
    assert_eq!(
        mock.record("User", id.as_str()).unwrap()["IsActive"],
        json!(false)
    );
    // A profile-owned permission set is not listed as an entitlement.
    let page = sf
        .list_entitlements(&EntitlementType::new("permission_set"), Default::default())
        .await
        .unwrap();
    assert_eq!(page.items.len(), 2);
    assert!(page.items.iter().all(|e| e.name != "Profile-owned"));
    // Granting twice: the second is DUPLICATE_VALUE at the server, AlreadyGranted here.
    let ps = mock.id_by_name("PermissionSet", "Reports_Viewer").unwrap();
    let e = EntitlementRef::new(EntitlementType::new("permission_set"), ps);
    assert_eq!(sf.grant(&id, &e).await.unwrap(), GrantOutcome::Granted);
    assert_eq!(
        sf.grant(&id, &e).await.unwrap(),
        GrantOutcome::AlreadyGranted
    );
    assert_eq!(mock.records("PermissionSetAssignment").len(), 1);
    // A malformed account id is refused before any request.
    let before = accesslink_testkit::Mock::request_count(&mock);
    assert!(
        sf.get_account(&AccountId::new("005' OR Id != null"))
            .await
            .is_err()
    );
    assert_eq!(accesslink_testkit::Mock::request_count(&mock), before);
}
