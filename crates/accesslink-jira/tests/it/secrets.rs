//! Secrets never show: not in Debug of settings, client or connector, not in errors, not
//! even when the server echoes the request.

use accesslink_core::{ErrorKind, TicketRef, TicketingSystem};
use accesslink_jira::{JiraConnector, JiraSettings};
use accesslink_testkit::conformance::secrets_never_printed;
use accesslink_testkit::fault::{Fault, FaultMatcher};
use accesslink_testkit::jira::{AuthMode, JiraMock};

use crate::{on, settings_of};

#[tokio::test]
async fn debug_and_errors_hold_no_secret_even_when_echoed() {
    for auth in [AuthMode::Basic, AuthMode::OAuth] {
        let mock = JiraMock::builder().auth(auth).start().await;
        let key = mock.add_issue("ITSM", "Task", "t", &[]);
        let jira = on(&mock);
        let settings = settings_of(&mock);
        // A warm-up call, so an OAuth access token exists.
        jira.get_ticket(&TicketRef::by_number(key.clone()))
            .await
            .unwrap();
        // The secrets this connector holds: the API token, or the client secret and the
        // current refresh token.
        let canaries: Vec<String> = match auth {
            AuthMode::OAuth => vec![mock.client_secret(), mock.refresh_token()],
            _ => vec![mock.secret()],
        };
        // The server echoes them in an error body.
        let echo = format!(
            r#"{{"errorMessages":["bad auth {}"],"errors":{{}}}}"#,
            canaries.join(" / ")
        );
        mock.faults().push_for(
            FaultMatcher::method("GET").and_path_suffix(&format!("/issue/{key}")),
            Fault::Status {
                status: 400,
                body: Some(echo),
            },
            1,
        );
        let e = jira
            .get_ticket(&TicketRef::by_number(key))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
        let mut text = format!("{e}\n{e:?}\n{jira:?}\n{settings:?}\n{:?}", jira.client());
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            text.push_str(&format!("\n{s}\n{s:?}"));
            source = s.source();
        }
        let refs: Vec<&str> = canaries.iter().map(String::as_str).collect();
        secrets_never_printed(&text, &refs).unwrap();
    }
}

#[test]
fn inline_secrets_in_settings_are_never_printed() {
    let s: JiraSettings = serde_json::from_value(serde_json::json!({
        "deployment": "cloud",
        "base_url": "https://acme.atlassian.net/?token=url-canary",
        "auth": {"method": "oauth", "client_id": "app", "client_secret": "client-secret-canary",
                 "refresh_token": "refresh-token-canary"}
    }))
    .unwrap();
    let shown = format!("{s:?}");
    secrets_never_printed(
        &shown,
        &["client-secret-canary", "refresh-token-canary", "url-canary"],
    )
    .unwrap();
    let jira = JiraConnector::from_settings(s).unwrap();
    secrets_never_printed(
        &format!("{jira:?}"),
        &["client-secret-canary", "refresh-token-canary"],
    )
    .unwrap();
}

#[test]
fn wrong_combinations_are_refused_at_construction() {
    let cases = [
        serde_json::json!({"deployment": "cloud", "base_url": "https://a.atlassian.net",
            "auth": {"method": "bearer", "token": "t"}}),
        serde_json::json!({"deployment": "data_center", "base_url": "https://jira.example",
            "auth": {"method": "oauth", "client_id": "a", "client_secret": "s", "refresh_token": "r"}}),
        serde_json::json!({"deployment": "cloud", "base_url": "https://a.atlassian.net",
            "auth": {"method": "oauth", "client_id": "a", "client_secret": "s"}}),
        serde_json::json!({"deployment": "cloud", "base_url": "https://a.atlassian.net",
            "auth": {"method": "basic", "email": "e", "api_token": "t"}, "batch_size": 0}),
        serde_json::json!({"deployment": "cloud", "base_url": "https://a.atlassian.net",
            "auth": {"method": "basic", "email": "e", "api_token": "t"}, "issue_types": {"changes": "Change"}}),
        serde_json::json!({"deployment": "cloud", "base_url": "https://a.atlassian.net",
            "auth": {"method": "basic", "email": "e", "api_token": "t"}, "correlation_label_prefix": "a b"}),
    ];
    for c in cases {
        let s: JiraSettings = serde_json::from_value(c.clone()).unwrap();
        let e = JiraConnector::from_settings(s).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Config, "{c}");
    }
    // Unknown keys are refused by name.
    let e = serde_json::from_value::<JiraSettings>(serde_json::json!({
        "deployment": "cloud", "base_url": "https://a.atlassian.net",
        "auth": {"method": "basic", "email": "e", "api_token": "t"}, "projekt": "X"
    }))
    .unwrap_err();
    assert!(e.to_string().contains("projekt"), "{e}");
}
