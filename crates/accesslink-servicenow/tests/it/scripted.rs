//! Helpers for tests against scripted wiremock answers shaped like the instance's.

use std::time::Duration;

use accesslink_core::http::RetryConfig;
use accesslink_servicenow::{ServiceNowClient, ServiceNowConfig, ServiceNowConnector};
use secrecy::SecretString;
use serde_json::{Value, json};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

pub(crate) const USER: &str = "svc.accesslink";
pub(crate) const PASSWORD: &str = "basic-password-canary-81f2";
pub(crate) const CLIENT_ID: &str = "sn-client";
pub(crate) const CLIENT_SECRET: &str = "client-secret-canary-c0ffee";

/// A ServiceNow error body.
pub(crate) fn sn_error(status: u16, message: &str, detail: Option<&str>) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(json!({
        "error": { "message": message, "detail": detail },
        "status": "failure"
    }))
}

/// `{"result": …}`.
pub(crate) fn result(status: u16, v: Value) -> ResponseTemplate {
    let body = Value::Object(serde_json::Map::from_iter([("result".to_owned(), v)]));
    ResponseTemplate::new(status).set_body_json(body)
}

/// Any request no mock matched is answered 599 naming it, so a test fails on it.
pub(crate) async fn fallback(server: &MockServer) {
    Mock::given(any())
        .respond_with(|r: &Request| {
            ResponseTemplate::new(599).set_body_string(format!("unmatched {} {}", r.method, r.url))
        })
        .with_priority(u8::MAX)
        .mount(server)
        .await;
}

pub(crate) fn quick_retry() -> RetryConfig {
    RetryConfig::default()
        .initial_backoff(Duration::from_millis(2))
        .max_backoff(Duration::from_millis(20))
}

pub(crate) fn basic(url: &str) -> ServiceNowConnector {
    let client = ServiceNowClient::builder(url)
        .basic(USER, SecretString::from(PASSWORD))
        .http(accesslink_core::http::HttpSettings::new().retry(quick_retry()))
        .build()
        .unwrap();
    ServiceNowConnector::new(client, ServiceNowConfig::new().instance("wire")).unwrap()
}

pub(crate) fn oauth(url: &str) -> ServiceNowConnector {
    let client = ServiceNowClient::builder(url)
        .oauth_password(
            CLIENT_ID,
            SecretString::from(CLIENT_SECRET),
            USER,
            SecretString::from(PASSWORD),
        )
        .http(accesslink_core::http::HttpSettings::new().retry(quick_retry()))
        .build()
        .unwrap();
    ServiceNowConnector::new(client, ServiceNowConfig::new().instance("wire")).unwrap()
}

/// One query parameter.
pub(crate) fn param(r: &Request, name: &str) -> Option<String> {
    r.url
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

pub(crate) fn header<'a>(r: &'a Request, name: &str) -> Option<&'a str> {
    r.headers.get(name).and_then(|v| v.to_str().ok())
}
