//! Passwords: `set_password` and a per-account initial password go to TOPdesk as
//! `password` (UpdatePersonDto / CreatePersonDto), checked before any request, never
//! in errors or Debug output.

use accesslink_core::{AccountId, AccountSpec, ErrorKind, Password, Provisioner};
use accesslink_testkit::conformance::AccountBackend;
use accesslink_testkit::topdesk::TopdeskMock;
use serde_json::Value;

use crate::on_mock;

#[tokio::test]
async fn a_password_is_set_on_persons_and_operators_even_archived_ones() {
    let mock = TopdeskMock::start().await;
    let td = on_mock(&mock);
    let person = mock.add_person("p.one", "Pat", "One", "p1@example.test");
    let id = AccountId::new(format!("person:{person}"));
    td.set_password(&id, &Password::from("S3cret-pw"))
        .await
        .unwrap();
    assert_eq!(mock.password_is(&person, "S3cret-pw"), Some(true));
    let patch = mock
        .received()
        .await
        .into_iter()
        .find(|r| r.method == "PATCH")
        .unwrap();
    assert_eq!(patch.url.path(), format!("/tas/api/persons/id/{person}"));
    assert_eq!(
        patch.body_json::<Value>().unwrap(),
        serde_json::json!({"password": "S3cret-pw"})
    );

    // An archived operator: unarchived, set, archived again.
    let op = td
        .create_account(&AccountSpec::new("o.two").name("Olga", "Two"))
        .await
        .unwrap()
        .into_account()
        .id;
    td.set_enabled(&op, false).await.unwrap();
    td.set_password(&op, &Password::from("0ther-pw"))
        .await
        .unwrap();
    assert_eq!(
        AccountBackend::password_is(&mock, &op, "0ther-pw")
            .await
            .unwrap(),
        Some(true)
    );
    let uuid = &op.as_str()["operator:".len()..];
    assert_eq!(mock.operator(uuid).unwrap()["status"], "operatorArchived");
}

#[tokio::test]
async fn bad_passwords_are_refused_before_any_request_and_never_shown() {
    let mock = TopdeskMock::start().await;
    let td = on_mock(&mock);
    let person = mock.add_person("p.one", "Pat", "One", "p1@example.test");
    let id = AccountId::new(format!("person:{person}"));
    for bad in ["abcd", "line\nbreak"] {
        let e = td
            .set_password(&id, &Password::from(bad))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
        assert!(!format!("{e} {e:?}").contains(bad), "{e:?}");
    }
    let e = td
        .create_account(&AccountSpec::new("n.ew").password("abc"))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert_eq!(mock.requests(), 0);
}

#[tokio::test]
async fn an_account_is_created_with_its_own_password() {
    let mock = TopdeskMock::start().await;
    let td = on_mock(&mock);
    let spec = AccountSpec::new("w.pass")
        .name("Will", "Pass")
        .attribute("kind", "person")
        .password("Initial-pw1");
    assert!(!format!("{spec:?}").contains("Initial-pw1"));
    let a = td.create_account(&spec).await.unwrap().into_account();
    let uuid = &a.id.as_str()["person:".len()..];
    assert_eq!(mock.password_is(uuid, "Initial-pw1"), Some(true));
    // Neither the account nor its Debug output holds it.
    assert!(!format!("{a:?}").contains("Initial-pw1"));
}
