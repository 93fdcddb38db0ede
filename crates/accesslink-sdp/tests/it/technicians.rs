//! Technicians as accounts (`accounts = "technician"`): the shared provisioning suite
//! with support groups and roles as entitlements, and what the server received.

use accesslink_core::{
    AccountId, AccountSpec, Capability, Connector, EntitlementRef, EntitlementType, ErrorKind,
    GrantOutcome, PageRequest, Provisioner, RevokeOutcome,
};
use accesslink_testkit::conformance::{Check, ProvisioningSuite, fresh_id, run_provisioning_suite};
use accesslink_testkit::sdp::{Deployment, SdpMock};
use futures::TryStreamExt;
use serde_json::Value;

use crate::on;

async fn suite(deployment: Deployment, e: EntitlementRef) {
    let mock = SdpMock::builder()
        .deployment(deployment)
        .technician_accounts(true)
        .start()
        .await;
    mock.add_technicians(130);
    let sdp = on(&mock);
    assert!(sdp.info().supports(&Capability::Grant));
    let login = fresh_id("new.tech");
    let spec = AccountSpec::new(login.clone())
        .email(format!("{login}@example.test"))
        .name("New", "Technician");
    let s = ProvisioningSuite::new(40, spec, e).canaries([
        mock.key(),
        mock.client_secret(),
        mock.refresh_token(),
    ]);
    let report = run_provisioning_suite(&sdp, &mock, &s).await;
    report.assert_success();
    for (c, why) in report.skipped() {
        // Key-based deployments' keys do not expire in the mock; v3 documents no
        // technician password, so SetPassword is undeclared.
        let honest = (c == Check::ExpiryMidImport && deployment != Deployment::Cloud)
            || (c == Check::PasswordSetAndNeverPrinted && why.contains("SetPassword"))
            // Technician listings are not split by key ranges.
            || (crate::provisioning::is_partition_check(c)
                && why == "the connector does not split account listings");
        assert!(honest, "{c:?} skipped: {report}");
    }
    assert!(
        report
            .passed()
            .any(|c| c == Check::AccountSchemaListsFields)
    );
    assert!(
        report
            .passed()
            .any(|c| c == Check::EntitlementsAndGrantsDrained),
        "{report}"
    );
    assert!(report.passed().any(|c| c == Check::AccountLifecycle));
}

#[tokio::test]
async fn provisioning_suite_technicians_support_group_on_premises() {
    suite(
        Deployment::OnPremises,
        EntitlementRef::new(EntitlementType::group(), "302"),
    )
    .await;
}

#[tokio::test]
async fn provisioning_suite_technicians_role_cloud() {
    suite(
        Deployment::Cloud,
        EntitlementRef::new(EntitlementType::role(), "403"),
    )
    .await;
}

#[tokio::test]
async fn provisioning_suite_technicians_msp() {
    suite(
        Deployment::Msp,
        EntitlementRef::new(EntitlementType::group(), "301"),
    )
    .await;
}

fn input_of(body: &[u8]) -> Value {
    let raw = url::form_urlencoded::parse(body)
        .find(|(k, _)| k == "input_data")
        .map(|(_, v)| v.into_owned())
        .expect("input_data in the form");
    serde_json::from_str(&raw).unwrap()
}

#[tokio::test]
async fn grant_writes_the_whole_list_and_keeps_the_other_groups() {
    let mock = SdpMock::builder().technician_accounts(true).start().await;
    mock.add_technicians(3); // tech 3 (id 5003) is in group 301 with role 401
    let sdp = on(&mock);
    let id = AccountId::new("5003");
    let network_ops = EntitlementRef::new(EntitlementType::group(), "303");
    assert_eq!(
        sdp.grant(&id, &network_ops).await.unwrap(),
        GrantOutcome::Granted
    );
    let (groups, roles) = mock.technician_memberships("5003").unwrap();
    assert_eq!(groups, ["301", "303"]);
    assert_eq!(roles, ["401"]);
    let received = mock.received().await;
    let put: Vec<_> = received
        .iter()
        .filter(|r| r.method.as_str() == "PUT")
        .collect();
    assert_eq!(put.len(), 1);
    assert_eq!(put[0].url.path(), "/api/v3/technicians/5003");
    assert_eq!(
        input_of(&put[0].body),
        serde_json::json!({"technician": {"groups": [{"id": "301"}, {"id": "303"}]}})
    );
    // Held: no write.
    assert_eq!(
        sdp.grant(&id, &network_ops).await.unwrap(),
        GrantOutcome::AlreadyGranted
    );
    assert_eq!(
        sdp.revoke(&id, &EntitlementRef::new(EntitlementType::group(), "301"))
            .await
            .unwrap(),
        RevokeOutcome::Revoked
    );
    assert_eq!(mock.technician_memberships("5003").unwrap().0, ["303"]);
    let puts = mock
        .received()
        .await
        .iter()
        .filter(|r| r.method.as_str() == "PUT")
        .count();
    assert_eq!(puts, 2);
    // A group the server does not know is its error, not a success.
    let e = sdp
        .grant(&id, &EntitlementRef::new(EntitlementType::group(), "999"))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
}

#[tokio::test]
async fn bad_entitlements_are_refused_before_any_request() {
    let mock = SdpMock::builder().technician_accounts(true).start().await;
    mock.add_technicians(3);
    let sdp = on(&mock);
    let id = AccountId::new("5003");
    for e in [
        EntitlementRef::new(EntitlementType::group(), "301 OR 1"),
        EntitlementRef::new(EntitlementType::group(), ""),
        EntitlementRef::new(EntitlementType::team(), "301"),
    ] {
        assert_eq!(
            sdp.grant(&id, &e).await.unwrap_err().kind(),
            ErrorKind::InvalidInput,
            "{e:?}"
        );
    }
    assert_eq!(
        sdp.grant(
            &AccountId::new("5003/groups"),
            &EntitlementRef::new(EntitlementType::group(), "301")
        )
        .await
        .unwrap_err()
        .kind(),
        ErrorKind::InvalidInput
    );
    assert!(mock.received().await.is_empty());
}

#[tokio::test]
async fn grants_list_skips_pages_of_technicians_without_one() {
    let mock = SdpMock::builder().technician_accounts(true).start().await;
    mock.add_technicians(30); // 10 in group 301: technicians 3, 6, … 30
    let sdp = on(&mock);
    // Pages of 2 technicians: every other page holds no member, yet the drain is whole.
    let grants: Vec<_> = accesslink_core::paging::grants(
        &sdp,
        &EntitlementType::group(),
        accesslink_core::paging::PagingOptions::new().page_size(2),
    )
    .try_collect()
    .await
    .unwrap();
    let mut holders: Vec<String> = grants.iter().map(|g| g.account.to_string()).collect();
    holders.sort();
    let want: Vec<String> = (1..=10).map(|i| (5000 + 3 * i).to_string()).collect();
    let mut want = want;
    want.sort();
    assert_eq!(holders, want);
    assert!(grants.iter().all(|g| g.entitlement.id.as_str() == "301"));
    let groups = sdp
        .list_entitlements(&EntitlementType::group(), PageRequest::first())
        .await
        .unwrap();
    let names: Vec<&str> = groups.items.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["Network", "Identity and Access", "Service Desk"]);
    assert!(
        mock.received()
            .await
            .iter()
            .any(|r| r.url.path() == "/api/v3/groups")
    );
}

#[tokio::test]
async fn requesters_have_no_entitlements() {
    let mock = SdpMock::start_on_premises().await;
    let sdp = on(&mock);
    assert!(sdp.entitlement_types().is_empty());
    assert!(!sdp.info().supports(&Capability::Grant));
    let e = sdp
        .grant(
            &AccountId::new("1001"),
            &EntitlementRef::new(EntitlementType::group(), "301"),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unsupported);
    assert!(mock.received().await.is_empty());
}
