//! Basic and OAuth, token expiry, the request log's redaction; faults and the rate limit.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use super::support::{client, get, split};
use crate::fault::{Fault, FaultMatcher};
use crate::servicenow::ServiceNowMock;
use crate::tokens::OAuthEndpoint;

const UNAUTHENTICATED: &str = r#"{"error":{"message":"User Not Authenticated","detail":"Required to provide Auth information"},"status":"failure"}"#;

async fn token(mock: &ServiceNowMock, form: &[(&str, &str)]) -> (u16, Value) {
    let resp = client()
        .post(format!("{}/oauth_token.do", mock.url()))
        .form(form)
        .send()
        .await
        .unwrap();
    let (status, _, body) = split(resp).await;
    (status, body)
}

async fn with_bearer(mock: &ServiceNowMock, token: &str) -> u16 {
    let url = format!("{}/api/now/table/incident", mock.url());
    client()
        .get(url)
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn basic_auth_good_bad_and_missing() {
    let mock = ServiceNowMock::builder().basic("svc", "pw").start().await;
    assert_eq!(get(&mock, "/api/now/table/incident", &[]).await.0, 200);
    let url = format!("{}/api/now/table/incident", mock.url());
    for req in [
        client().get(&url).basic_auth("svc", Some("wrong")),
        client().get(&url),
        client().get(&url).bearer_auth("tok-forged"),
    ] {
        let (status, _, body) = split(req.send().await.unwrap()).await;
        assert_eq!(status, 401);
        assert_eq!(
            body,
            serde_json::from_str::<Value>(UNAUTHENTICATED).unwrap()
        );
    }
    let log = mock.requests();
    assert_eq!(log.len(), 4);
    assert_eq!(log[0].authorization.as_deref(), Some("Basic"));
    assert_eq!(log[3].authorization.as_deref(), Some("Bearer"));
    assert_eq!(log[2].authorization, None);
    let printed = format!("{log:?}");
    assert!(
        !printed.contains("pw") && !printed.contains("wrong") && !printed.contains("tok-forged")
    );
}

#[tokio::test]
async fn password_grant_then_refresh_after_expiry() {
    let mock = ServiceNowMock::start().await;
    let form = [
        ("grant_type", "password"),
        ("client_id", "sn-client"),
        ("client_secret", "sn-secret"),
        ("username", "admin"),
        ("password", "admin-secret"),
    ];
    let (status, grant) = token(&mock, &form).await;
    assert_eq!(status, 200, "{grant}");
    assert_eq!(
        (&grant["token_type"], &grant["scope"]),
        (&json!("Bearer"), &json!("useraccount"))
    );
    assert_eq!(grant["expires_in"], 1800);
    let access = grant["access_token"].as_str().unwrap().to_owned();
    let refresh = grant["refresh_token"].as_str().unwrap().to_owned();
    assert_eq!(with_bearer(&mock, &access).await, 200);

    mock.expire_tokens();
    assert_eq!(with_bearer(&mock, &access).await, 401, "expired mid-run");
    let form = [
        ("grant_type", "refresh_token"),
        ("client_id", "sn-client"),
        ("client_secret", "sn-secret"),
        ("refresh_token", refresh.as_str()),
    ];
    let (status, renewed) = token(&mock, &form).await;
    assert_eq!(status, 200, "refresh tokens survive expire_tokens");
    assert_eq!(
        renewed["refresh_token"],
        refresh.as_str(),
        "same refresh token back"
    );
    let new_access = renewed["access_token"].as_str().unwrap();
    assert_ne!(new_access, access);
    assert_eq!(with_bearer(&mock, new_access).await, 200);
    assert_eq!(mock.oauth().tokens().issued(), 2);
    let printed = format!("{:?}", mock.requests());
    assert!(
        !printed.contains("admin-secret") && !printed.contains("sn-secret"),
        "{printed}"
    );
}

#[tokio::test]
async fn token_endpoint_refuses_bad_credentials_and_json() {
    let endpoint = OAuthEndpoint::new("cid", "csecret")
        .with_user("u", "p")
        .token_ttl(Duration::from_secs(60));
    let mock = ServiceNowMock::builder().oauth(endpoint).start().await;
    let good = [
        ("grant_type", "password"),
        ("client_id", "cid"),
        ("client_secret", "csecret"),
        ("username", "u"),
        ("password", "p"),
    ];
    let (status, grant) = token(&mock, &good).await;
    assert_eq!(
        (status, &grant["expires_in"]),
        (200, &json!(60)),
        "the endpoint's TTL"
    );
    for (i, bad) in [
        ("client_secret", "nope"),
        ("password", "nope"),
        ("client_id", "other"),
    ]
    .into_iter()
    .enumerate()
    {
        let mut form = good.to_vec();
        form.retain(|(k, _)| *k != bad.0);
        form.push(bad);
        let (status, body) = token(&mock, &form).await;
        assert_eq!(
            (status, &body["error"]),
            (401, &json!("access_denied")),
            "case {i}"
        );
    }
    let resp = client()
        .post(format!("{}/oauth_token.do", mock.url()))
        .json(
            &json!({"grant_type": "password", "client_id": "cid", "client_secret": "csecret",
                      "username": "u", "password": "p"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400, "JSON bodies are refused");
    let (status, _) = token(
        &mock,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", "cid"),
            ("client_secret", "csecret"),
            ("refresh_token", "rt-bogus"),
        ],
    )
    .await;
    assert_eq!(status, 401);
    assert_eq!(
        mock.oauth().tokens().issued(),
        1,
        "only the good grant issued a token"
    );
}

#[tokio::test]
async fn faults_come_first_and_are_logged() {
    let mock = ServiceNowMock::start().await;
    mock.faults()
        .push_for(FaultMatcher::route("POST", "/incident"), Fault::Html, 1);
    mock.faults().fail_next(1, 503);
    // The 503 is queued after the HTML fault but matches the GET first.
    assert_eq!(get(&mock, "/api/now/table/incident", &[]).await.0, 503);
    let resp = super::support::call(&mock, Method::POST, "/api/now/table/incident")
        .json(&json!({"short_description": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let ct = resp.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(ct.contains("html"), "{ct}");
    assert_eq!(
        mock.table_len("incident"),
        0,
        "a replaced answer writes nothing"
    );
    assert_eq!(get(&mock, "/api/now/table/incident", &[]).await.0, 200);
    assert_eq!(mock.faults().applied(), 2);
    assert_eq!(mock.count("", "/api/now/table/incident"), 3);
}

#[tokio::test]
async fn rate_limit_answers_429_with_headers() {
    let mock = ServiceNowMock::builder()
        .rate_limit(2, Duration::from_secs(3600))
        .start()
        .await;
    for _ in 0..2 {
        assert_eq!(get(&mock, "/api/now/table/incident", &[]).await.0, 200);
    }
    let (status, headers, body) = get(&mock, "/api/now/table/incident", &[]).await;
    assert_eq!(status, 429);
    assert_eq!(headers["x-ratelimit-limit"], "2");
    let retry: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((3500..=3600).contains(&retry), "{retry}");
    let reset: u64 = headers["x-ratelimit-reset"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(reset > 1_700_000_000);
    assert_eq!(
        (&body["error"]["message"], &body["status"]),
        (&json!("Rate limit exceeded"), &json!("failure"))
    );
}

#[tokio::test]
async fn proxy_drops_the_answer_after_the_work_is_done() {
    let mock = ServiceNowMock::builder().with_proxy(true).start().await;
    let proxy = mock.proxy().expect("proxy");
    proxy.push_for(
        "POST",
        "/api/now/table/incident",
        crate::proxy::ProxyFault::Drop,
        1,
    );
    let sent = super::support::call(&mock, Method::POST, "/api/now/table/incident")
        .json(&json!({"correlation_id": "EXT-9"}))
        .send()
        .await;
    assert!(sent.is_err(), "the client never hears back");
    assert_eq!(
        mock.table_len("incident"),
        1,
        "but the instance created the row"
    );
    let (status, headers, _) = get(&mock, "/api/now/table/incident", &[]).await;
    assert_eq!(status, 200);
    let link = headers["link"].to_str().unwrap();
    assert!(
        link.starts_with(&format!("<{}/api/now/table/incident?", proxy.url())),
        "{link}"
    );
}

#[tokio::test]
async fn debug_output_hides_the_secrets() {
    let builder = ServiceNowMock::builder().basic("svc", "basic-pw-123");
    assert!(!format!("{builder:?}").contains("basic-pw-123"));
    let mock = builder.start().await;
    let printed = format!("{mock:?}");
    assert!(printed.contains("svc"), "the user is fine to show");
    for secret in ["basic-pw-123", "sn-secret"] {
        assert!(!printed.contains(secret), "{secret} in {printed}");
    }
}
