//! Nothing secret reaches the logs: an OAuth run traced at TRACE — token renewals that
//! rotate the refresh token, credentials expiring mid-import, a 429, an error body that
//! echoes the secrets — never prints the client secret or a refresh or access token.
//!
//! Its own test binary: tracing's per-callsite interest cache is shared by the process,
//! and tests running beside it without a subscriber would hide events.

use std::time::Duration;

use accesslink_core::http::{HttpSettings, RetryConfig};
use accesslink_core::{Connector, PageRequest, Provisioner, TicketRef, TicketingSystem};
use accesslink_jira::{JiraConnector, JiraSettings};
use accesslink_testkit::Mock;
use accesslink_testkit::conformance::secrets_never_printed;
use accesslink_testkit::fault::{Fault, FaultMatcher};
use accesslink_testkit::jira::{AuthMode, JiraMock};
use accesslink_testkit::logs::CapturedLogs;

#[tokio::test]
async fn an_oauth_run_traced_at_trace_prints_no_secret() {
    let mock = JiraMock::builder()
        .auth(AuthMode::OAuth)
        .users(120)
        .start()
        .await;
    let key = mock.add_issue("ITSM", "Task", "t", &[]);
    let logs = CapturedLogs::start();
    let mut v = mock.settings();
    v.as_object_mut().unwrap().remove("target");
    let mut s: JiraSettings = serde_json::from_value(v).unwrap();
    s.http = HttpSettings::default().retry(
        RetryConfig::default()
            .max_attempts(4)
            .initial_backoff(Duration::from_millis(2))
            .max_backoff(Duration::from_millis(20)),
    );
    let jira = JiraConnector::from_settings(s).unwrap();
    let mut secrets = vec![mock.client_secret(), mock.refresh_token()];
    jira.test_connection().await.unwrap();
    let first = jira
        .list_accounts(PageRequest::first().size(50))
        .await
        .unwrap();
    mock.expire_credentials();
    mock.throttle_next(1, Some(0));
    jira.list_accounts(PageRequest::at(first.next).size(50))
        .await
        .unwrap();
    secrets.push(mock.refresh_token());
    mock.faults().push_for(
        FaultMatcher::method("GET").and_path_suffix(&format!("/issue/{key}")),
        Fault::Status {
            status: 400,
            body: Some(format!(
                r#"{{"errorMessages":["echo {} {}"],"errors":{{}}}}"#,
                mock.client_secret(),
                mock.refresh_token()
            )),
        },
        1,
    );
    let e = jira
        .get_ticket(&TicketRef::by_number(key))
        .await
        .unwrap_err();
    tracing::error!(error = %e, debug = ?e, "the read failed");
    let traces = logs.text();
    drop(logs);
    assert!(mock.rotations() >= 2, "the refresh token rotated");
    assert!(traces.contains("status=429"), "the 429 was traced");
    let refs: Vec<&str> = secrets.iter().map(String::as_str).collect();
    secrets_never_printed(&traces, &refs).unwrap();
}
