//! JWT login on the wire, renewal ahead of expiry and once on a 401, logout on close and
//! drop, AR error 9093.

use std::time::Duration;

use accesslink_core::{Connector, ErrorKind, TicketingSystem};
use accesslink_helix::HelixConnector;
use accesslink_testkit::Mock;
use accesslink_testkit::helix::HelixMock;
use serde_json::json;

use crate::{on_mock, settings_with};

#[tokio::test]
async fn login_is_a_form_post_and_the_token_goes_as_ar_jwt() {
    let mock = HelixMock::start().await;
    let helix = on_mock(&mock);
    helix.test_connection().await.unwrap();
    let sent = mock.received().await;
    assert_eq!(sent[0].url.path(), "/api/jwt/login");
    assert_eq!(sent[0].method.as_str(), "POST");
    assert!(
        sent[0].headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/x-www-form-urlencoded")
    );
    let form: Vec<(String, String)> = url::form_urlencoded::parse(&sent[0].body)
        .into_owned()
        .collect();
    assert!(
        form.contains(&("username".into(), "svc-iam".into())),
        "{form:?}"
    );
    assert!(form.contains(&("password".into(), mock.password().into())));
    assert!(!sent[0].headers.contains_key("authorization"));
    let auth = sent[1].headers["authorization"].to_str().unwrap();
    assert!(auth.starts_with("AR-JWT ey"), "{auth}");
    assert!(!sent[1].url.as_str().contains(mock.password()));
}

#[tokio::test]
async fn close_logs_out_and_the_next_call_logs_in_again() {
    let mock = HelixMock::start().await;
    let helix = on_mock(&mock);
    helix.test_connection().await.unwrap();
    assert_eq!(mock.live_tokens(), 1);
    helix.close().await.unwrap();
    assert_eq!(mock.logins(), (1, 1));
    assert_eq!(mock.live_tokens(), 0);
    let last = mock.received().await.pop().unwrap();
    assert_eq!(last.url.path(), "/api/jwt/logout");
    assert!(
        last.headers["authorization"]
            .to_str()
            .unwrap()
            .starts_with("AR-JWT ")
    );
    helix.test_connection().await.unwrap();
    assert_eq!(mock.logins(), (2, 1));
}

#[tokio::test]
async fn dropping_the_connector_logs_out() {
    let mock = HelixMock::start().await;
    let helix = on_mock(&mock);
    helix.test_connection().await.unwrap();
    drop(helix);
    // The logout runs on a spawned task: let it run.
    for _ in 0..200 {
        if mock.logins().1 == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(mock.logins(), (1, 1));
    assert_eq!(mock.live_tokens(), 0);
}

#[tokio::test]
async fn an_expired_token_is_renewed_once_and_the_call_succeeds() {
    let mock = HelixMock::start().await;
    let helix = on_mock(&mock);
    let number = mock.add_incident("Printer", "Assigned");
    let r = helix.parse_ticket_ref(&number).unwrap();
    helix.get_ticket(&r).await.unwrap().unwrap();
    mock.expire_credentials();
    let t = helix.get_ticket(&r).await.unwrap().unwrap();
    assert_eq!(t.reference.number(), Some(number.as_str()));
    assert_eq!(mock.logins().0, 2);
}

#[tokio::test]
async fn the_token_is_renewed_ahead_of_its_exp_claim() {
    // Tokens live 100 s; renewing 120 s ahead means every call needs a new one — which
    // only happens if the connector read `exp` (its own lifetime setting is an hour).
    let mock = HelixMock::builder()
        .token_lifetime(Duration::from_secs(100))
        .start()
        .await;
    let helix =
        HelixConnector::from_settings(settings_with(&mock, |v| v["renew_ahead_secs"] = json!(120)))
            .unwrap();
    helix.test_connection().await.unwrap();
    helix.test_connection().await.unwrap();
    assert_eq!(mock.logins().0, 2);
    // With the default 120 s ahead and an hour-long token: one login.
    let mock = HelixMock::start().await;
    let helix = on_mock(&mock);
    helix.test_connection().await.unwrap();
    helix.test_connection().await.unwrap();
    assert_eq!(mock.logins().0, 1);
}

#[tokio::test]
async fn a_wrong_password_is_unauthenticated_without_a_storm() {
    let mock = HelixMock::start().await;
    let helix = HelixConnector::from_settings(settings_with(&mock, |v| {
        v["auth"]["password"] = json!("not-the-password")
    }))
    .unwrap();
    let e = helix.test_connection().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unauthenticated, "{e}");
    assert!(mock.request_count() <= 2, "{}", mock.request_count());
    assert!(
        mock.received()
            .await
            .iter()
            .all(|r| r.url.path() == "/api/jwt/login")
    );
}

#[tokio::test]
async fn session_elsewhere_is_classified_and_not_hammered() {
    let mock = HelixMock::start().await;
    let helix = on_mock(&mock);
    let number = mock.add_incident("Printer", "Assigned");
    let r = helix.parse_ticket_ref(&number).unwrap();
    helix.get_ticket(&r).await.unwrap();
    let before = mock.requests();
    mock.session_elsewhere_next(1);
    let e = helix.get_ticket(&r).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unavailable, "{e}");
    assert!(e.is_retryable());
    assert_eq!(e.vendor_code(), Some("9093"));
    assert_eq!(mock.requests(), before + 1);
    // The caller's retry succeeds.
    assert!(helix.get_ticket(&r).await.unwrap().is_some());
}

#[tokio::test]
async fn serialized_calls_still_all_succeed() {
    let mock = HelixMock::start().await;
    let helix = HelixConnector::from_settings(settings_with(&mock, |v| {
        v["serialize_per_account"] = json!(true)
    }))
    .unwrap();
    let numbers: Vec<String> = (0..8)
        .map(|i| mock.add_incident(&format!("n{i}"), "New"))
        .collect();
    let refs: Vec<_> = numbers
        .iter()
        .map(|n| helix.parse_ticket_ref(n).unwrap())
        .collect();
    let gets = refs.iter().map(|r| helix.get_ticket(r));
    let all = futures::future::join_all(gets).await;
    assert!(all.iter().all(|t| matches!(t, Ok(Some(_)))));
    assert_eq!(mock.logins().0, 1);
}
