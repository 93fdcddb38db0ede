//! Accounts on the wire: what creates send, archiving as disable, updates of archived
//! accounts, persons vs operators.

use accesslink_core::{
    AccountChange, AccountSpec, CreateOutcome, ErrorKind, PageRequest, Provisioner,
};
use accesslink_testkit::topdesk::TopdeskMock;
use serde_json::{Value, json};

use crate::on_mock;

#[tokio::test]
async fn an_operator_is_created_with_login_surname_and_branch() {
    let mock = TopdeskMock::start().await;
    let td = on_mock(&mock);
    let a = td
        .create_account(
            &AccountSpec::new("j.doe")
                .name("Jane", "Doe")
                .email("jane@example.test"),
        )
        .await
        .unwrap();
    let CreateOutcome::Created(a) = a else {
        panic!("{a:?}")
    };
    assert!(a.id.as_str().starts_with("operator:"));
    let sent = mock.received().await;
    let post = sent.iter().find(|r| r.method == "POST").unwrap();
    assert_eq!(post.url.path(), "/tas/api/operators");
    let body: Value = post.body_json().unwrap();
    assert_eq!(
        body,
        json!({"loginName": "j.doe", "surName": "Doe", "firstName": "Jane", "email": "jane@example.test", "branch": {"id": mock.branch_id()}})
    );
    // The look-up before it used the FIQL builder.
    let get = sent
        .iter()
        .find(|r| r.url.path() == "/tas/api/operators" && r.method == "GET")
        .unwrap();
    assert_eq!(
        crate::param(&get.url, "query").as_deref(),
        Some("loginName=='j.doe'")
    );
}

#[tokio::test]
async fn a_person_is_created_by_kind_and_is_already_there_the_second_time() {
    let mock = TopdeskMock::start().await;
    let td = on_mock(&mock);
    let spec = AccountSpec::new("p.erson")
        .name("Pat", "Erson")
        .attribute("kind", "person");
    let first = td.create_account(&spec).await.unwrap();
    assert!(matches!(first, CreateOutcome::Created(_)));
    assert!(first.account().id.as_str().starts_with("person:"));
    let again = td.create_account(&spec).await.unwrap();
    assert!(matches!(again, CreateOutcome::AlreadyExists(ref a) if a.id == first.account().id));
    assert_eq!(mock.account_count(), 1);
}

#[tokio::test]
async fn disable_archives_and_an_archived_account_is_updated_in_between() {
    let mock = TopdeskMock::start().await;
    let td = on_mock(&mock);
    let id = td
        .create_account(&AccountSpec::new("a.rchived").name("Ann", "Rchived"))
        .await
        .unwrap()
        .into_account()
        .id;
    td.set_enabled(&id, false).await.unwrap();
    td.set_enabled(&id, false).await.unwrap(); // already: no second archive (the mock refuses one)
    let uuid = &id.as_str()["operator:".len()..];
    assert_eq!(mock.operator(uuid).unwrap()["status"], "operatorArchived");
    let changed = td
        .update_account(&id, &AccountChange::new().email("new@example.test"))
        .await
        .unwrap();
    assert_eq!(changed.email.as_deref(), Some("new@example.test"));
    assert_eq!(changed.enabled, Some(false));
    let op = mock.operator(uuid).unwrap();
    assert_eq!(
        (op["email"].as_str(), op["status"].as_str()),
        (Some("new@example.test"), Some("operatorArchived"))
    );
    let paths: Vec<String> = mock
        .received()
        .await
        .iter()
        .filter(|r| r.method == "PATCH")
        .map(|r| r.url.path().rsplit('/').next().unwrap().to_owned())
        .collect();
    assert_eq!(paths, ["archive", "unarchive", uuid, "archive"]);
    td.set_enabled(&id, true).await.unwrap();
    assert_eq!(mock.operator(uuid).unwrap()["status"], "operator");
    let e = td
        .update_account(&id, &AccountChange::new().display_name("X"))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
}

#[tokio::test]
async fn persons_hold_no_operator_groups() {
    let mock = TopdeskMock::builder().generated_persons(1).start().await;
    let td = on_mock(&mock);
    let group = mock.add_operator_group("Service desk");
    let p = td.list_accounts(PageRequest::first()).await.unwrap();
    let e = td
        .grant(
            &p.items[0].id,
            &accesslink_topdesk::TopdeskConnector::operator_group_entitlement(group),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
}
