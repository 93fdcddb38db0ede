//! The application password never shows in Debug output or errors, even when the server
//! echoes it; it does go on the wire, in the Basic header only.

use accesslink_core::{Connector, ErrorKind, PageRequest, Provisioner, TicketingSystem};
use accesslink_testkit::conformance::secrets_never_printed;
use accesslink_testkit::fault::Fault;
use accesslink_testkit::topdesk::TopdeskMock;
use accesslink_topdesk::TopdeskConnector;
use base64::Engine as _;

use crate::settings_with;

const CANARY: &str = "td-canary-Zq81-app-password";

fn basic(login: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("{login}:{CANARY}"))
}

#[tokio::test]
async fn the_password_is_in_the_header_only_and_never_printed() {
    let mock = TopdeskMock::builder()
        .credentials("svc-iam", CANARY)
        .generated_operators(2)
        .start()
        .await;
    let settings = settings_with(&mock, |_| {});
    let settings_debug = format!("{settings:?}");
    let td = TopdeskConnector::from_settings(settings).unwrap();
    td.list_accounts(PageRequest::first()).await.unwrap();
    let sent = mock.received().await;
    assert_eq!(
        sent[0].headers["authorization"],
        format!("Basic {}", basic("svc-iam")).as_str()
    );
    assert!(sent[0].url.as_str().find(CANARY).is_none());
    let output = format!("{settings_debug}\n{td:?}\n{td:#?}\n{:?}", td.client());
    secrets_never_printed(&output, &[CANARY, &basic("svc-iam")]).unwrap();
}

#[tokio::test]
async fn an_echoing_server_does_not_leak_it_into_errors() {
    let mock = TopdeskMock::builder()
        .credentials("svc-iam", CANARY)
        .start()
        .await;
    let td = TopdeskConnector::from_settings(settings_with(&mock, |_| {})).unwrap();
    let echo = format!(
        r#"[{{"message":"bad request from svc-iam with password {CANARY} (Authorization: Basic {})"}}]"#,
        basic("svc-iam")
    );
    mock.faults().push(
        Fault::Status {
            status: 400,
            body: Some(echo),
        },
        1,
    );
    let e = td.test_connection().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    let shown = format!("{e} {e:?} {:?}", std::error::Error::source(&e));
    assert!(shown.contains("bad request from svc-iam"), "{shown}");
    secrets_never_printed(&shown, &[CANARY, &basic("svc-iam")]).unwrap();
}

#[tokio::test]
async fn a_wrong_password_is_unauthenticated_and_a_person_is_denied() {
    let mock = TopdeskMock::builder()
        .credentials("svc-iam", "the-right-one")
        .start()
        .await;
    let td = TopdeskConnector::from_settings(settings_with(&mock, |v| {
        v["auth"]["password"] = serde_json::json!(CANARY);
    }))
    .unwrap();
    let e = td.test_connection().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unauthenticated);
    secrets_never_printed(&format!("{e} {e:?}"), &[CANARY]).unwrap();
    // A person account reads incidents but gets the newer error shape elsewhere.
    mock.add_person_login("jdoe", CANARY);
    let person = TopdeskConnector::from_settings(settings_with(&mock, |v| {
        v["auth"]["login"] = serde_json::json!("jdoe");
        v["auth"]["password"] = serde_json::json!(CANARY);
    }))
    .unwrap();
    assert!(
        person
            .get_ticket(&person.parse_ticket_ref("I 2612 001").unwrap())
            .await
            .unwrap()
            .is_none()
    );
    let e = person
        .list_accounts(PageRequest::first())
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::PermissionDenied);
    assert_eq!(e.vendor_code(), Some("forbidden"));
}
