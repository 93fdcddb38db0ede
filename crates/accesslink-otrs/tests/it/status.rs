//! The state table as settings: an override turns a custom state into a known one,
//! read through `get_ticket` against a wiremock server.

use accesslink_core::{TicketRef, TicketState, TicketingSystem};
use accesslink_otrs::{OtrsConnector, OtrsSettings};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// A password that must never show in Debug output.
const CANARY: &str = "canary-pw-5b2e-otrs";

const WS: &str = "/otrs/nph-genericinterface.pl/Webservice/GenericTicketConnectorREST";

async fn server() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!("{WS}/Session")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "SessionID": "s-1" })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{WS}/Ticket/42")))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({ "Ticket": [{
                "TicketID": "42",
                "TicketNumber": "2026120710000042",
                "Title": "Grant X [corr:REQ-1]",
                "State": "awaiting vendor",
                "StateType": "pending vendor",
                "Queue": "Raw",
                "Type": "Unclassified",
                "CustomerUserID": "apicustomer",
            }]})),
        )
        .expect(2)
        .mount(&server)
        .await;
    server
}

fn settings(server: &MockServer, status_map: &serde_json::Value) -> OtrsSettings {
    serde_json::from_value(json!({
        "name": "otrs-mock",
        "base_url": format!("{}{WS}", server.uri()),
        "auth": { "method": "session", "user": "apiagent", "password": CANARY },
        "status_map": status_map,
    }))
    .unwrap()
}

#[tokio::test]
async fn an_override_maps_a_custom_state_through_get_ticket() {
    let server = server().await;
    let id = TicketRef::by_id("42");

    let plain = OtrsConnector::from_settings(settings(&server, &json!({}))).unwrap();
    let t = plain.get_ticket(&id).await.unwrap().unwrap();
    assert_eq!(t.status.state, TicketState::Unknown);
    assert_eq!(t.status.raw, "awaiting vendor");

    let custom = OtrsConnector::from_settings(settings(
        &server,
        &json!({ "states": { "Awaiting Vendor": "on_hold" } }),
    ))
    .unwrap();
    let t = custom.get_ticket(&id).await.unwrap().unwrap();
    assert_eq!(t.status.state, TicketState::OnHold);
    let shown = format!("{custom:?}");
    assert!(!shown.contains(CANARY), "{shown}");
    assert!(shown.contains("otrs-mock"), "{shown}");
    assert_eq!(t.status.raw, "awaiting vendor");

    // The login carried the resolved password.
    let logins: Vec<serde_json::Value> = server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.method.as_str() == "POST")
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect();
    assert_eq!(logins[0]["UserLogin"], "apiagent");
    assert_eq!(logins[0]["Password"], CANARY);

    // What the server was asked: TicketGet of id 42 with the session, twice.
    let gets: Vec<_> = server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.method.as_str() == "GET")
        .collect();
    assert_eq!(gets.len(), 2);
    for r in gets {
        assert_eq!(r.url.path(), format!("{WS}/Ticket/42"));
        let q: Vec<(String, String)> = r.url.query_pairs().into_owned().collect();
        assert!(q.contains(&("SessionID".into(), "s-1".into())), "{q:?}");
    }
}

#[tokio::test]
async fn bad_settings_fail_before_any_request() {
    let server = MockServer::start().await;
    let mut s = settings(&server, &json!({}));
    s.batch_size = 0;
    let e = OtrsConnector::from_settings(s).unwrap_err();
    assert_eq!(e.kind(), accesslink_core::ErrorKind::Config, "{e}");
    assert!(e.to_string().contains("batch_size"), "{e}");

    let s: OtrsSettings = serde_json::from_value(json!({
        "base_url": format!("{}{WS}", server.uri()),
        "auth": { "method": "session", "user": "apiagent",
                  "password": { "env": "ACCESSLINK_OTRS_TEST_UNSET_PASSWORD" } },
    }))
    .unwrap();
    let e = OtrsConnector::from_settings(s).unwrap_err();
    assert_eq!(e.kind(), accesslink_core::ErrorKind::Config, "{e}");
    assert!(
        e.to_string()
            .contains("ACCESSLINK_OTRS_TEST_UNSET_PASSWORD"),
        "{e}"
    );
    assert!(server.received_requests().await.unwrap().is_empty());
}
