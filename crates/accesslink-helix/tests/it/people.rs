//! People and support groups on the wire.

use accesslink_core::{
    AccountChange, AccountId, AccountSpec, CreateOutcome, EntitlementType, ErrorKind, GrantOutcome,
    PageRequest, Provisioner, RevokeOutcome,
};
use accesslink_helix::HelixConnector;
use accesslink_testkit::helix::{ASSOCIATION, HelixMock, PEOPLE};

use crate::on_mock;

#[tokio::test]
async fn create_update_disable_and_groups_land_on_the_server() {
    let mock = HelixMock::start().await;
    let helix = on_mock(&mock);
    let spec = AccountSpec::new("asmith")
        .name("Al", "Smith")
        .email("al@example.test");
    let created = helix.create_account(&spec).await.unwrap();
    assert!(matches!(created, CreateOutcome::Created(_)));
    assert_eq!(created.account().id.as_str(), "asmith");
    let stored = mock.person("asmith").unwrap();
    assert_eq!(stored["First Name"], "Al");
    assert_eq!(stored["Internet E-mail"], "al@example.test");
    assert_eq!(stored["Profile Status"], "Enabled");
    assert!(stored["Person ID"].as_str().unwrap().starts_with("PPL"));
    // Again: found, not created twice.
    let again = helix.create_account(&spec).await.unwrap();
    assert!(matches!(again, CreateOutcome::AlreadyExists(_)));
    assert_eq!(mock.entries(PEOPLE).len(), 2); // jdoe and asmith
    let id = AccountId::new("asmith");
    let a = helix
        .update_account(&id, &AccountChange::new().email("al.smith@example.test"))
        .await
        .unwrap();
    assert_eq!(a.email.as_deref(), Some("al.smith@example.test"));
    helix.set_enabled(&id, false).await.unwrap();
    assert_eq!(mock.person("asmith").unwrap()["Profile Status"], "Offline");
    assert_eq!(
        helix.get_account(&id).await.unwrap().unwrap().enabled,
        Some(false)
    );
    helix.set_enabled(&id, true).await.unwrap();
    assert_eq!(mock.person("asmith").unwrap()["Profile Status"], "Enabled");
    assert_eq!(
        helix.delete_account(&id).await.unwrap_err().kind(),
        ErrorKind::Unsupported
    );
    let group = mock.add_support_group("Service Desk");
    let e = HelixConnector::support_group_entitlement(&group);
    assert_eq!(helix.grant(&id, &e).await.unwrap(), GrantOutcome::Granted);
    assert_eq!(
        helix.grant(&id, &e).await.unwrap(),
        GrantOutcome::AlreadyGranted
    );
    assert_eq!(mock.groups_of("asmith"), vec![group.clone()]);
    let assoc = &mock.entries(ASSOCIATION)[0];
    assert_eq!(assoc.values["Support Group Association Role"], "Member");
    let grants = helix
        .list_grants(&EntitlementType::new("support_group"), PageRequest::first())
        .await
        .unwrap();
    assert_eq!(grants.items.len(), 1);
    assert_eq!(grants.items[0].account.as_str(), "asmith");
    assert_eq!(helix.revoke(&id, &e).await.unwrap(), RevokeOutcome::Revoked);
    assert_eq!(
        helix.revoke(&id, &e).await.unwrap(),
        RevokeOutcome::AlreadyAbsent
    );
    assert!(mock.groups_of("asmith").is_empty());
    let deletes = mock
        .received()
        .await
        .iter()
        .filter(|r| r.method.as_str() == "DELETE")
        .count();
    assert_eq!(deletes, 1);
}

#[tokio::test]
async fn injected_logins_and_groups_send_nothing() {
    let mock = HelixMock::start().await;
    let helix = on_mock(&mock);
    let bad = AccountId::new("x\" OR 'Remedy Login ID' != \"");
    assert!(helix.get_account(&bad).await.is_err());
    assert!(helix.set_enabled(&bad, false).await.is_err());
    assert!(
        helix
            .create_account(&AccountSpec::new("a'b"))
            .await
            .is_err()
    );
    let e = HelixConnector::support_group_entitlement("SGP1\" OR \"1\" = \"1");
    assert!(helix.grant(&AccountId::new("jdoe"), &e).await.is_err());
    let wrong_type = accesslink_core::EntitlementRef::new(EntitlementType::group(), "x");
    assert!(
        helix
            .revoke(&AccountId::new("jdoe"), &wrong_type)
            .await
            .is_err()
    );
    let token = PageRequest::at(Some(accesslink_core::PageToken::new("12:1 OR 1")));
    assert_eq!(
        helix.list_accounts(token).await.unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
    assert_eq!(mock.requests(), 0);
}

#[tokio::test]
async fn an_import_walks_every_person_once() {
    let mock = HelixMock::builder().generated_people(57).start().await;
    let helix = on_mock(&mock);
    let mut token = None;
    let mut logins = Vec::new();
    loop {
        let page = helix
            .list_accounts(PageRequest::at(token).size(10))
            .await
            .unwrap();
        logins.extend(page.items.into_iter().map(|a| a.login));
        token = page.next;
        if token.is_none() {
            break;
        }
    }
    assert_eq!(logins.len(), 58);
    let mut unique = logins.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 58);
    let offline = mock
        .entries(PEOPLE)
        .iter()
        .filter(|r| r.values["Profile Status"] == "Offline")
        .count();
    assert!(offline > 0);
}
