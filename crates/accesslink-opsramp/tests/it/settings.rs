//! `OpsRampSettings` → `from_settings` against the mock: the convention JSON connects,
//! and a status override turns a custom state from `unknown` into the configured one.

use accesslink_core::{
    CorrelationId, NewTicket, StatusOverrides, TicketKind, TicketState, TicketingSystem,
};
use accesslink_opsramp::{OpsRampConnector, OpsRampSettings, TenantLimits};
use serde_json::json;

use crate::mock;

/// The settings JSON the testkit's `settings()` emits for this mock.
fn settings(mock: &accesslink_testkit::opsramp::OpsRampMock) -> OpsRampSettings {
    let mut s: OpsRampSettings = serde_json::from_value(json!({
        "name": "opsramp-mock",
        "base_url": mock.url(),
        "tenant_id": mock.tenant(),
        "auth": {
            "method": "client_credentials",
            "client_id": mock.client_id(),
            "client_secret": mock.client_secret(),
        },
    }))
    .unwrap();
    s.tenant_limits = TenantLimits::Off;
    s
}

#[tokio::test]
async fn a_status_override_maps_a_custom_state_through_get_ticket() {
    let mock = mock(0).await;
    let plain = OpsRampConnector::from_settings(settings(&mock)).unwrap();
    let new = NewTicket::new(
        TicketKind::Incident,
        "Grant Network Admin to jdoe",
        "Requested by bob.",
        CorrelationId::new("REQ-STATUS-1"),
    );
    let t = plain.create_ticket(&new).await.unwrap();
    let id = t.reference.id().unwrap().to_owned();
    assert!(mock.set_ticket_status(&id, "Awaiting Vendor"));
    assert_eq!(mock.ticket(&id).unwrap()["status"], "Awaiting Vendor");

    let before = plain.get_ticket(&t.reference).await.unwrap().unwrap();
    assert_eq!(before.status.state, TicketState::Unknown);
    assert_eq!(before.status.raw, "Awaiting Vendor");

    let mut s = settings(&mock);
    s.status_map = StatusOverrides::new().state("awaiting vendor", TicketState::OnHold);
    let mapped = OpsRampConnector::from_settings(s).unwrap();
    let after = mapped.get_ticket(&t.reference).await.unwrap().unwrap();
    assert_eq!(after.status.state, TicketState::OnHold);
    assert_eq!(after.status.raw, "Awaiting Vendor");
    // The defaults still hold beside the override.
    assert!(mock.set_ticket_status(&id, "Resolved"));
    let resolved = mapped.get_ticket(&t.reference).await.unwrap().unwrap();
    assert_eq!(resolved.status.state, TicketState::Resolved);
    assert_eq!(mock.count("incidents/{id}"), 3, "three GETs of the ticket");
}

#[tokio::test]
async fn the_instance_name_is_in_errors() {
    let mock = mock(0).await;
    let opsramp = OpsRampConnector::from_settings(settings(&mock)).unwrap();
    mock.faults().push_for(
        accesslink_testkit::fault::FaultMatcher::path("roles/search"),
        accesslink_testkit::fault::Fault::Status {
            status: 404,
            body: None,
        },
        1,
    );
    let e = accesslink_core::Connector::test_connection(&opsramp)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("opsramp (opsramp-mock)"), "{e}");
}

/// Issue 15 item 14: a base URL with a query or fragment is refused as Config, without
/// echoing the value.
#[test]
fn a_base_url_with_a_query_or_fragment_is_refused_without_echo() {
    const CANARY: &str = "CANARY-opsramp-url-6a1";
    for base in [
        format!("http://127.0.0.1:9/?token={CANARY}"),
        format!("http://127.0.0.1:9/#{CANARY}"),
    ] {
        let s: OpsRampSettings = serde_json::from_value(json!({
            "base_url": base,
            "tenant_id": "client_7",
            "auth": {
                "method": "client_credentials",
                "client_id": "id-123456",
                "client_secret": "secret-123456",
            },
        }))
        .unwrap();
        let shown = format!("{s:?}");
        assert!(!shown.contains(CANARY), "{shown}");
        let e = OpsRampConnector::from_settings(s).unwrap_err();
        assert_eq!(e.kind(), accesslink_core::ErrorKind::Config, "{e}");
        let printed = format!("{e}\n{e:?}");
        assert!(!printed.contains(CANARY), "{printed}");
    }
}
