//! Nothing secret reaches the logs: an OAuth run traced at TRACE — token grant, a 407
//! renewal, a 429, a create whose error body echoes the token and the password, refused
//! credentials — never prints the client secret, an access token or the initial password.
//!
//! Its own test binary: tracing's per-callsite interest cache is shared by the process,
//! and tests running beside it without a subscriber would hide events.

use std::time::Duration;

use accesslink_core::http::{HttpSettings, RetryConfig};
use accesslink_core::{AccountSpec, ErrorKind, PageRequest, Provisioner};
use accesslink_opsramp::{OpsRampClient, OpsRampConfig, OpsRampConnector};
use accesslink_testkit::conformance::secrets_never_printed;
use accesslink_testkit::fault::{Fault, FaultMatcher};
use accesslink_testkit::logs::CapturedLogs;
use accesslink_testkit::opsramp::{OpsRampMock, RateLimits};
use secrecy::SecretString;

const PASSWORD: &str = "Trace#2026pw-canary";

fn client(mock: &OpsRampMock, secret: &str) -> OpsRampClient {
    OpsRampClient::builder(mock.url())
        .tenant(mock.tenant())
        .client_credentials(mock.client_id(), SecretString::from(secret.to_owned()))
        .rate_limit(None)
        .http(
            HttpSettings::new()
                .retry(RetryConfig::default().initial_backoff(Duration::from_millis(5))),
        )
        .build()
        .unwrap()
}

#[tokio::test]
async fn an_oauth_run_traced_at_trace_prints_no_secret() {
    let mock = OpsRampMock::builder()
        .generated_users(250)
        .rate_limits(RateLimits::unlimited())
        .start()
        .await;
    let logs = CapturedLogs::start();

    let opsramp = OpsRampConnector::new(
        client(&mock, &mock.client_secret()),
        OpsRampConfig::new().initial_password(SecretString::from(PASSWORD)),
    );
    let first = opsramp
        .list_accounts(PageRequest::first().size(100))
        .await
        .unwrap();
    // The token expires: the next call is answered 407 and renews it.
    mock.expire_tokens();
    let second = opsramp
        .list_accounts(PageRequest::at(first.next.clone()))
        .await
        .unwrap();
    assert_eq!(second.items.len(), 100);
    // Throttled once: the 429 is waited out.
    mock.faults().throttle_next(1, None);
    opsramp
        .list_accounts(PageRequest::at(second.next.clone()))
        .await
        .unwrap();
    // A server error that echoes the token and the password back.
    let token = mock
        .received()
        .await
        .iter()
        .rev()
        .find_map(|r| r.headers.get("authorization"))
        .unwrap()
        .to_str()
        .unwrap()
        .trim_start_matches("Bearer ")
        .to_owned();
    mock.faults().push_for(
        FaultMatcher::route("POST", "/users"),
        Fault::Status {
            status: 500,
            body: Some(format!(
                r#"{{"code":"0500","message":"token {token} password {PASSWORD}"}}"#
            )),
        },
        5,
    );
    let spec = AccountSpec::new("trace.user")
        .name("Trace", "User")
        .email("trace.user@example.com");
    let e = opsramp.create_account(&spec).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unavailable, "{e}");
    tracing::error!(error = %e, debug = ?e, "the create failed");
    let created = opsramp.create_account(&spec).await.unwrap();
    assert!(matches!(
        created,
        accesslink_core::CreateOutcome::Created(_)
    ));
    // Refused credentials.
    let wrong = "wrong-secret-canary-0f9e";
    let refused = OpsRampConnector::new(client(&mock, wrong), OpsRampConfig::new());
    let e = refused
        .list_accounts(PageRequest::first())
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unauthenticated, "{e}");
    tracing::error!(error = %e, debug = ?e, "refused");
    let traces = logs.text();
    drop(logs);
    assert!(
        traces.contains("renewing it once"),
        "the 407 renewal was traced:\n{traces}"
    );
    assert!(traces.contains("status=429"), "the 429 was traced");
    assert!(mock.tokens_issued() >= 2, "a second token was issued");
    let tokens: Vec<String> = mock
        .received()
        .await
        .iter()
        .filter_map(|r| r.headers.get("authorization"))
        .map(|v| v.to_str().unwrap().trim_start_matches("Bearer ").to_owned())
        .collect();
    assert!(
        tokens.iter().any(|t| *t != tokens[0]),
        "two tokens were sent"
    );
    let secret = mock.client_secret();
    let mut secrets: Vec<&str> = vec![&secret, PASSWORD, wrong];
    secrets.extend(tokens.iter().map(String::as_str));
    secrets_never_printed(&traces, &secrets).unwrap();
}
