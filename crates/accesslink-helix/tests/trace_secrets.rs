//! Nothing secret reaches the logs: a run traced at TRACE — logins, a token expiring
//! mid-import, a 503, an error body that echoes the password, the logout — never prints
//! the password or a token.
//!
//! Its own test binary: tracing's per-callsite interest cache is shared by the process,
//! and tests running beside it without a subscriber would hide events.

use accesslink_core::{Connector, PageRequest, Provisioner, TicketingSystem};
use accesslink_helix::{HelixConnector, HelixSettings};
use accesslink_testkit::Mock;
use accesslink_testkit::conformance::secrets_never_printed;
use accesslink_testkit::fault::Fault;
use accesslink_testkit::helix::HelixMock;
use accesslink_testkit::logs::CapturedLogs;
use serde_json::json;

#[tokio::test]
async fn a_run_traced_at_trace_prints_no_secret() {
    let mock = HelixMock::builder()
        .credentials("svc-iam", "helix-trace-canary-P4ss")
        .generated_people(40)
        .start()
        .await;
    let logs = CapturedLogs::start();
    let mut v = mock.settings();
    v.as_object_mut().unwrap().remove("target");
    v["http"] =
        json!({ "retry": { "max_attempts": 4, "initial_backoff": "2ms", "max_backoff": "20ms" } });
    let s: HelixSettings = serde_json::from_value(v).unwrap();
    let helix = HelixConnector::from_settings(s).unwrap();
    helix.test_connection().await.unwrap();
    let first = helix
        .list_accounts(PageRequest::first().size(15))
        .await
        .unwrap();
    mock.expire_credentials();
    mock.faults().push(
        Fault::Status {
            status: 503,
            body: None,
        },
        1,
    );
    helix
        .list_accounts(PageRequest::at(first.next).size(15))
        .await
        .unwrap();
    mock.faults().push(
        Fault::Status {
            status: 400,
            body: Some(format!(
                r#"[{{"messageType":"ERROR","messageNumber":8790,"messageText":"echo {}","messageAppendedText":null}}]"#,
                mock.password()
            )),
        },
        1,
    );
    let r = helix.parse_ticket_ref("INC1").unwrap();
    let e = helix.get_ticket(&r).await.unwrap_err();
    tracing::error!(error = %e, debug = ?e, "the read failed");
    helix.close().await.unwrap();
    let traces = logs.text();
    drop(logs);
    assert!(traces.contains("503"), "the 503 was traced");
    let mut secrets = vec![mock.password().to_owned()];
    for r in mock.received().await {
        if let Some(h) = r.headers.get("authorization") {
            secrets.push(h.to_str().unwrap().trim_start_matches("AR-JWT ").to_owned());
        }
    }
    assert!(secrets.len() >= 3, "two tokens seen");
    let refs: Vec<&str> = secrets.iter().map(String::as_str).collect();
    secrets_never_printed(&traces, &refs).unwrap();
}
