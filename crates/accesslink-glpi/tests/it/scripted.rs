//! Scripted-server helpers shared by the wire tests.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use accesslink_core::http::{HttpSettings, RetryConfig};
use accesslink_glpi::{GlpiClient, GlpiConfig, GlpiConnector};
use secrecy::SecretString;
use serde_json::json;
use wiremock::matchers::{any, method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

pub(crate) const APP: &str = "app-secret-token-1234";
pub(crate) const USER: &str = "user-secret-token-5678";

pub(crate) fn glpi_error(status: u16, code: &str, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(json!([code, message]))
}

/// `initSession` handing out `tok1`, `tok2`, …
pub(crate) struct Sessions(AtomicUsize);

impl Respond for Sessions {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let n = self.0.fetch_add(1, Ordering::SeqCst) + 1;
        ResponseTemplate::new(200).set_body_json(json!({ "session_token": format!("tok{n}") }))
    }
}

pub(crate) async fn server() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/apirest.php/initSession"))
        .respond_with(Sessions(AtomicUsize::new(0)))
        .mount(&server)
        .await;
    server
}

/// Names whatever no mock expected, so a failure says which request it was.
pub(crate) async fn fallback(server: &MockServer) {
    Mock::given(any())
        .respond_with(|r: &Request| {
            ResponseTemplate::new(418).set_body_string(format!("unmatched {} {}", r.method, r.url))
        })
        .with_priority(u8::MAX)
        .mount(server)
        .await;
}

pub(crate) fn connector(server: &MockServer, config: GlpiConfig) -> GlpiConnector {
    let client = GlpiClient::builder(format!("{}/apirest.php", server.uri()))
        .app_token(SecretString::from(APP))
        .user_token(SecretString::from(USER))
        .http(
            HttpSettings::new()
                .retry(RetryConfig::default().initial_backoff(Duration::from_millis(5))),
        )
        .build()
        .unwrap();
    GlpiConnector::new(client, config)
}

pub(crate) fn header<'a>(r: &'a Request, name: &str) -> Option<&'a str> {
    r.headers.get(name).and_then(|v| v.to_str().ok())
}

pub(crate) async fn requests_to(server: &MockServer, p: &str) -> Vec<Request> {
    let all = server.received_requests().await.unwrap_or_default();
    all.into_iter().filter(|r| r.url.path() == p).collect()
}

pub(crate) fn plain(server: &MockServer) -> GlpiConnector {
    connector(
        server,
        GlpiConfig::new()
            .read_validations(false)
            .read_requester(false),
    )
}
