//! The shared provisioning suite over requesters on the mock (on-premises and Cloud with
//! expiry mid-import), and what SDP does not expose declared `Unsupported`.

use accesslink_core::{
    AccountChange, AccountId, AccountSpec, CreateOutcome, EntitlementRef, EntitlementType,
    ErrorKind, PageRequest, Provisioner,
};
use accesslink_testkit::conformance::{Check, ProvisioningSuite, fresh_id, run_provisioning_suite};
use accesslink_testkit::sdp::{Deployment, SdpMock};

use crate::on;

async fn suite(deployment: Deployment) {
    let mock = SdpMock::builder().deployment(deployment).start().await;
    mock.add_requesters(130);
    let sdp = on(&mock);
    let login = fresh_id("new.user");
    let spec = AccountSpec::new(login.clone())
        .email(format!("{login}@example.test"))
        .name("New", "User");
    let s = ProvisioningSuite::new(40, spec, EntitlementRef::new(EntitlementType::group(), "none"))
        .canaries([mock.key(), mock.client_secret(), mock.refresh_token()])
        .skip(Check::AccountLifecycle, "SDP requesters cannot be disabled, deleted or granted entitlements through the v3 API as verified (Unsupported)")
        .skip(Check::EntitlementsAndGrantsDrained, "SDP exposes no memberships (Unsupported)");
    let report = run_provisioning_suite(&sdp, &mock, &s).await;
    report.assert_success();
    for (c, why) in report.skipped() {
        // The v3 API documents no password for requesters: SetPassword is undeclared.
        let honest = matches!(
            c,
            Check::AccountLifecycle | Check::EntitlementsAndGrantsDrained
        ) || (c == Check::ExpiryMidImport && deployment != Deployment::Cloud)
            || (c == Check::PasswordSetAndNeverPrinted && why.contains("SetPassword"))
            // Requester listings are not split by key ranges.
            || (is_partition_check(c) && why == "the connector does not split account listings");
        assert!(honest, "{c:?} skipped: {report}");
    }
    assert!(
        report
            .passed()
            .any(|c| c == Check::AccountSchemaListsFields)
    );
}

#[tokio::test]
async fn provisioning_suite_on_premises() {
    suite(Deployment::OnPremises).await;
}

#[tokio::test]
async fn provisioning_suite_cloud_with_expiry_mid_import() {
    suite(Deployment::Cloud).await;
}

#[tokio::test]
async fn requesters_create_once_update_and_refuse_the_rest() {
    let mock = SdpMock::start_msp().await;
    let sdp = on(&mock);
    let spec = AccountSpec::new("jdoe")
        .email("jane@example.com")
        .display_name("Jane Doe");
    let created = sdp.create_account(&spec).await.unwrap();
    assert!(matches!(created, CreateOutcome::Created(_)));
    let again = sdp.create_account(&spec).await.unwrap();
    assert!(matches!(again, CreateOutcome::AlreadyExists(_)));
    assert_eq!(mock.requester_count(), 1);
    let id = created.account().id.clone();
    let updated = sdp
        .update_account(&id, &AccountChange::new().display_name("Jane D."))
        .await
        .unwrap();
    assert_eq!(updated.display_name.as_deref(), Some("Jane D."));
    let got = sdp.get_account(&id).await.unwrap().unwrap();
    assert_eq!(
        got.attributes["account"]["name"], "Acme",
        "MSP requesters carry the account"
    );
    assert!(
        sdp.get_account(&AccountId::new("99999"))
            .await
            .unwrap()
            .is_none()
    );
    let e = sdp.set_enabled(&id, false).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unsupported);
    assert_eq!(
        sdp.delete_account(&id).await.unwrap_err().kind(),
        ErrorKind::Unsupported
    );
    assert_eq!(
        sdp.list_grants(&EntitlementType::group(), PageRequest::first())
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::Unsupported
    );
    // The page token is checked before any request.
    let before = mock.received().await.len();
    assert!(
        sdp.list_accounts(PageRequest::at(Some(accesslink_core::PageToken::new("x"))).size(10))
            .await
            .is_err()
    );
    assert_eq!(mock.received().await.len(), before);
}

/// The partitioned-import checks, skipped for a connector that does not split.
pub(crate) fn is_partition_check(check: Check) -> bool {
    matches!(
        check,
        Check::PartitionedAccountsExactlyOnce
            | Check::PartitionedResumeLosesNothing
            | Check::IgnoredRangeIsAProtocolError
    )
}
