//! `OpsGenieSettings` → `from_settings` against the mock: the convention JSON connects
//! and every request carries the key from the settings; the instance name is in errors.

use accesslink_core::{Connector, PageRequest, Provisioner};
use accesslink_opsgenie::{OpsGenieConnector, OpsGenieSettings};
use accesslink_testkit::opsgenie::OpsGenieMock;
use serde_json::json;

fn settings(mock: &OpsGenieMock, key: &str) -> OpsGenieSettings {
    serde_json::from_value(json!({
        "name": "opsgenie-mock",
        "base_url": mock.url(),
        "auth": { "method": "api_key", "key": key },
        "http": { "retry": { "max_attempts": 1 } },
    }))
    .unwrap()
}

#[tokio::test]
async fn the_convention_json_connects_with_the_key() {
    let mock = OpsGenieMock::builder().generated_users(5).start().await;
    let opsgenie = OpsGenieConnector::from_settings(settings(&mock, mock.api_key())).unwrap();
    let page = opsgenie
        .list_accounts(PageRequest::first().size(5))
        .await
        .unwrap();
    assert_eq!(page.items.len(), 5);
    let received = mock.received().await;
    assert!(!received.is_empty());
    for r in &received {
        assert_eq!(
            r.headers["authorization"].to_str().unwrap(),
            format!("GenieKey {}", mock.api_key())
        );
    }
}

#[tokio::test]
async fn a_wrong_key_fails_naming_the_instance() {
    let mock = OpsGenieMock::builder().generated_users(1).start().await;
    let opsgenie = OpsGenieConnector::from_settings(settings(&mock, "not-the-key")).unwrap();
    let e = opsgenie.test_connection().await.unwrap_err();
    assert_eq!(e.kind(), accesslink_core::ErrorKind::Unauthenticated, "{e}");
    assert!(e.to_string().contains("opsgenie (opsgenie-mock)"), "{e}");
    assert!(!e.to_string().contains("not-the-key"), "{e}");
}

/// Issue 15 item 14: a base URL with a query or fragment is refused as Config, without
/// echoing the value.
#[test]
fn a_base_url_with_a_query_or_fragment_is_refused_without_echo() {
    const CANARY: &str = "CANARY-opsgenie-url-3c7";
    for base in [
        format!("http://127.0.0.1:9/?token={CANARY}"),
        format!("http://127.0.0.1:9/#{CANARY}"),
    ] {
        let s: OpsGenieSettings = serde_json::from_value(json!({
            "base_url": base,
            "auth": { "method": "api_key", "key": "key-1234567890" },
        }))
        .unwrap();
        let shown = format!("{s:?}");
        assert!(!shown.contains(CANARY), "{shown}");
        let e = OpsGenieConnector::from_settings(s).unwrap_err();
        assert_eq!(e.kind(), accesslink_core::ErrorKind::Config, "{e}");
        let printed = format!("{e}\n{e:?}");
        assert!(!printed.contains(CANARY), "{printed}");
    }
}
