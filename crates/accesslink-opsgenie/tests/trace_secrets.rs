//! Nothing secret reaches the logs: a provisioning run traced at TRACE — reads, a 429
//! burst, a create whose error body echoes the key, a grant, a refused key — never
//! prints the GenieKey (or the refused one).
//!
//! Its own test binary: tracing's per-callsite interest cache is shared by the process,
//! and tests running beside it without a subscriber would hide events.

use std::time::Duration;

use accesslink_core::http::{HttpSettings, RetryConfig};
use accesslink_core::{AccountSpec, Connector, ErrorKind, PageRequest, Provisioner};
use accesslink_opsgenie::{OpsGenieClient, OpsGenieConfig, OpsGenieConnector};
use accesslink_testkit::conformance::secrets_never_printed;
use accesslink_testkit::fault::{Fault, FaultMatcher};
use accesslink_testkit::logs::CapturedLogs;
use accesslink_testkit::opsgenie::OpsGenieMock;
use secrecy::SecretString;

const KEY: &str = "5ec7e7a9-trace-genie-key-canary";
const WRONG: &str = "0bad0bad-refused-genie-key-canary";

fn connector(mock: &OpsGenieMock, key: &str) -> OpsGenieConnector {
    let client = OpsGenieClient::builder()
        .base_url(mock.url())
        .api_key(SecretString::from(key.to_owned()))
        .http(
            HttpSettings::new().retry(
                RetryConfig::default()
                    .max_attempts(5)
                    .initial_backoff(Duration::from_millis(2))
                    .max_backoff(Duration::from_millis(20)),
            ),
        )
        .build()
        .unwrap();
    OpsGenieConnector::new(client, OpsGenieConfig::new())
}

#[tokio::test]
async fn a_provisioning_run_traced_at_trace_prints_no_key() {
    let mock = OpsGenieMock::builder()
        .api_key(KEY)
        .generated_users(150)
        .start()
        .await;
    let team = mock.add_team("platform-ops", "on call");
    let logs = CapturedLogs::start();

    let og = connector(&mock, KEY);
    let first = og.list_accounts(PageRequest::first()).await.unwrap();
    mock.throttle_next(2);
    og.list_accounts(PageRequest::at(first.next.clone()))
        .await
        .unwrap();
    // A server error that echoes the key, on the create.
    mock.faults().push_for(
        FaultMatcher::route("POST", "/v2/users"),
        Fault::Status {
            status: 500,
            body: Some(format!(
                r#"{{"message":"key GenieKey {KEY} refused","took":0.1,"requestId":"r"}}"#
            )),
        },
        5,
    );
    let spec = AccountSpec::new("trace.user@example.com").name("Trace", "User");
    let e = og.create_account(&spec).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unavailable, "{e}");
    tracing::error!(error = %e, debug = ?e, "the create failed");
    let created = og.create_account(&spec).await.unwrap().into_account();
    let granted = og
        .grant(&created.id, &OpsGenieConnector::team_entitlement(team))
        .await
        .unwrap();
    assert_eq!(granted, accesslink_core::GrantOutcome::Granted);
    let refused = connector(&mock, WRONG);
    let e = refused.test_connection().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unauthenticated, "{e}");
    tracing::error!(error = %e, debug = ?e, "refused");
    let traces = logs.text();
    drop(logs);
    assert!(traces.contains("status=429"), "the 429s were traced");
    assert!(traces.contains("status=401"), "the refused key was traced");
    let sent = mock.received().await;
    assert!(
        sent.iter().any(|r| r
            .headers
            .get("authorization")
            .is_some_and(|v| v == format!("GenieKey {KEY}").as_str())),
        "the key did go on the wire"
    );
    secrets_never_printed(&traces, &[KEY, WRONG]).unwrap();
}
