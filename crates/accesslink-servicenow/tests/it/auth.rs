//! Basic and OAuth on the wire: the token endpoint is called form-encoded with the
//! password grant, then refresh-token grants; a rejected token is renewed once; secrets
//! never appear in `Debug` or errors.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use accesslink_core::{ErrorKind, TicketingSystem};
use accesslink_testkit::conformance::secrets_never_printed;
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::scripted::{CLIENT_SECRET, PASSWORD, basic, fallback, header, oauth, result, sn_error};

fn form(r: &Request) -> Vec<(String, String)> {
    url::form_urlencoded::parse(&r.body).into_owned().collect()
}

fn field(r: &Request, name: &str) -> Option<String> {
    form(r).into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
}

#[tokio::test]
async fn oauth_password_then_refresh_grant_after_a_401() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth_token.do"))
        .respond_with(|r: &Request| {
            let grant = field(r, "grant_type").unwrap_or_default();
            let token = if grant == "password" {
                "tok-1"
            } else {
                "tok-2"
            };
            ResponseTemplate::new(200).set_body_json(json!({
                "access_token": token, "refresh_token": "refresh-1", "scope": "useraccount",
                "token_type": "Bearer", "expires_in": 1799
            }))
        })
        .expect(2)
        .mount(&server)
        .await;
    // The first token is rejected (expired early on the instance), the second works.
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = calls.clone();
    Mock::given(method("GET"))
        .and(path("/api/now/table/incident"))
        .respond_with(move |r: &Request| {
            seen.fetch_add(1, Ordering::SeqCst);
            if header(r, "authorization") == Some("Bearer tok-2") {
                result(200, json!([]))
            } else {
                sn_error(
                    401,
                    "User Not Authenticated",
                    Some("Required to provide Auth information"),
                )
            }
        })
        .mount(&server)
        .await;
    fallback(&server).await;
    let sn = oauth(&server.uri());
    let r = sn.parse_ticket_ref("INC0010001").unwrap();
    assert!(sn.get_ticket(&r).await.unwrap().is_none());
    assert_eq!(calls.load(Ordering::SeqCst), 2);

    let tokens: Vec<Request> = server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.url.path() == "/oauth_token.do")
        .collect();
    assert_eq!(tokens.len(), 2);
    for t in &tokens {
        assert_eq!(
            header(t, "content-type"),
            Some("application/x-www-form-urlencoded")
        );
        // Client credentials in the body, as ServiceNow reads them.
        assert_eq!(field(t, "client_id").as_deref(), Some("sn-client"));
        assert_eq!(field(t, "client_secret").as_deref(), Some(CLIENT_SECRET));
    }
    assert_eq!(field(&tokens[0], "grant_type").as_deref(), Some("password"));
    assert_eq!(field(&tokens[0], "password").as_deref(), Some(PASSWORD));
    assert_eq!(
        field(&tokens[1], "grant_type").as_deref(),
        Some("refresh_token")
    );
    assert_eq!(
        field(&tokens[1], "refresh_token").as_deref(),
        Some("refresh-1")
    );
}

#[tokio::test]
async fn bad_basic_credentials_are_unauthenticated_after_one_request() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/now/table/incident"))
        .respond_with(sn_error(
            401,
            "User Not Authenticated",
            Some("Required to provide Auth information"),
        ))
        .expect(1)
        .mount(&server)
        .await;
    fallback(&server).await;
    let sn = basic(&server.uri());
    let r = sn.parse_ticket_ref("INC0010001").unwrap();
    let e = sn.get_ticket(&r).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unauthenticated);
    secrets_never_printed(&format!("{e} {e:?}"), &[PASSWORD]).unwrap();
}

#[tokio::test]
async fn refused_oauth_is_unauthenticated_without_secrets() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth_token.do"))
        .respond_with(
            ResponseTemplate::new(401).set_body_json(
                json!({"error": "access_denied", "error_description": "access_denied"}),
            ),
        )
        .mount(&server)
        .await;
    fallback(&server).await;
    let sn = oauth(&server.uri());
    let r = sn.parse_ticket_ref("INC0010001").unwrap();
    let e = sn.get_ticket(&r).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unauthenticated, "{e}");
    let only_token_calls = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .all(|r| r.url.path() == "/oauth_token.do");
    assert!(only_token_calls, "no Table API call without a token");
    secrets_never_printed(&format!("{e} {e:?}"), &[PASSWORD, CLIENT_SECRET]).unwrap();
}

#[test]
fn debug_output_has_no_secrets() {
    let b = basic("http://127.0.0.1:9");
    let o = oauth("http://127.0.0.1:9");
    let builder = accesslink_servicenow::ServiceNowClient::builder("http://127.0.0.1:9")
        .oauth_password(
            "sn-client",
            secrecy::SecretString::from(CLIENT_SECRET),
            "u",
            secrecy::SecretString::from(PASSWORD),
        );
    let text = format!("{b:?} {o:?} {builder:?} {:?} {:?}", b.client(), o.client());
    assert!(
        text.contains("svc.accesslink"),
        "the user name is not a secret"
    );
    secrets_never_printed(&text, &[PASSWORD, CLIENT_SECRET]).unwrap();
}
