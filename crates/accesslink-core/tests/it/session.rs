//! The generic session-login provider: login once, attach the session where the
//! target wants it, re-login once when the server says the session is gone — even
//! when it says so with HTTP 200.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use accesslink_core::ErrorKind;
use accesslink_core::auth::{Placement, Session, SessionAuth};
use accesslink_core::http::{HttpClient, Response};
use secrecy::SecretString;
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::{builder, fallback};

/// Mounts an OTRS-like API: `POST /Session` issues `sess-N`; `/Ticket` accepts only
/// the sessions listed in `valid` and answers HTTP 200 with an AuthFail error otherwise.
async fn otrs_like(server: &MockServer, valid: &'static [&'static str]) -> Arc<AtomicUsize> {
    let logins = Arc::new(AtomicUsize::new(0));
    let l = logins.clone();
    Mock::given(method("POST"))
        .and(path("/Session"))
        .respond_with(move |req: &Request| {
            let body: serde_json::Value = serde_json::from_slice(&req.body).unwrap_or_default();
            if body["Password"] != "agent-pass-42" {
                return ResponseTemplate::new(200).set_body_json(json!({"Error": {"ErrorCode": "SessionCreate.AuthFail", "ErrorMessage": "Authorization failing!"}}));
            }
            let n = l.fetch_add(1, Ordering::SeqCst) + 1;
            ResponseTemplate::new(200).set_body_json(json!({"SessionID": format!("sess-{n}")}))
        })
        .mount(server)
        .await;
    Mock::given(path("/Ticket"))
        .respond_with(move |req: &Request| {
            let from_query = req
                .url
                .query_pairs()
                .find(|(k, _)| k == "SessionID")
                .map(|(_, v)| v.into_owned());
            let from_body = serde_json::from_slice::<serde_json::Value>(&req.body)
                .ok()
                .and_then(|v| v["SessionID"].as_str().map(str::to_owned));
            let session = from_body.or(from_query).unwrap_or_default();
            if valid.contains(&session.as_str()) {
                ResponseTemplate::new(200).set_body_json(json!({"TicketID": 7, "session": session}))
            } else {
                ResponseTemplate::new(200).set_body_json(json!({"Error": {"ErrorCode": "TicketGet.AuthFail", "ErrorMessage": "Authorization failing!"}}))
            }
        })
        .mount(server)
        .await;
    fallback(server).await;
    logins
}

fn is_auth_fail(r: &Response) -> bool {
    serde_json::from_slice::<serde_json::Value>(r.bytes())
        .ok()
        .and_then(|v| {
            v["Error"]["ErrorCode"]
                .as_str()
                .map(|c| c.ends_with(".AuthFail"))
        })
        .unwrap_or(false)
}

fn session_client(server: &MockServer, password: &'static str) -> HttpClient {
    let plain = builder(server).auth_failure(is_auth_fail).build().unwrap();
    let login_client = plain.clone();
    let auth = SessionAuth::new(
        "otrs",
        Placement::body_field_or_query("SessionID"),
        move || {
            let c = login_client.clone();
            Box::pin(async move {
                let req = c
                    .post("Session")?
                    .json(&json!({"UserLogin": "agent", "Password": password}))?
                    .without_auth();
                let v: serde_json::Value = c.send_json(req).await?;
                match v["SessionID"].as_str() {
                    Some(id) => Ok(Session {
                        token: SecretString::from(id.to_owned()),
                        ttl: None,
                    }),
                    None => Err(accesslink_core::Error::auth(format!(
                        "login refused: {}",
                        v["Error"]["ErrorCode"].as_str().unwrap_or("no SessionID")
                    ))),
                }
            })
        },
    );
    plain.with_auth(Arc::new(auth))
}

#[tokio::test]
async fn session_goes_in_query_for_get_and_body_for_post() {
    let server = MockServer::start().await;
    let logins = otrs_like(&server, &["sess-1"]).await;
    let client = session_client(&server, "agent-pass-42");
    let v: serde_json::Value = client
        .send_json(client.get("Ticket").unwrap())
        .await
        .unwrap();
    assert_eq!(v["session"], "sess-1");
    let req = client
        .post("Ticket")
        .unwrap()
        .json(&json!({"Ticket": {}}))
        .unwrap();
    let v: serde_json::Value = client.send_json(req).await.unwrap();
    assert_eq!(v["session"], "sess-1");
    assert_eq!(logins.load(Ordering::SeqCst), 1, "session cached");
    let received = server.received_requests().await.unwrap();
    let post = received
        .iter()
        .find(|r| r.method.as_str() == "POST" && r.url.path() == "/Ticket")
        .unwrap();
    let body: serde_json::Value = serde_json::from_slice(&post.body).unwrap();
    assert_eq!(body["SessionID"], "sess-1");
    assert!(
        post.url.query().is_none(),
        "POST carries the session in its body only"
    );
}

#[tokio::test]
async fn http_200_auth_fail_relogs_in_once() {
    let server = MockServer::start().await;
    // sess-1 is "expired" on the server; sess-2 works.
    let logins = otrs_like(&server, &["sess-2"]).await;
    let client = session_client(&server, "agent-pass-42");
    let v: serde_json::Value = client
        .send_json(client.get("Ticket").unwrap())
        .await
        .unwrap();
    assert_eq!(v["session"], "sess-2");
    assert_eq!(logins.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn second_auth_fail_is_a_clear_error() {
    let server = MockServer::start().await;
    let logins = otrs_like(&server, &[]).await;
    let client = session_client(&server, "agent-pass-42");
    let err = client
        .send(client.get("Ticket").unwrap())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthenticated);
    assert!(err.to_string().contains("GET /Ticket"), "{err}");
    assert_eq!(logins.load(Ordering::SeqCst), 2, "exactly one re-login");
    let tickets = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == "/Ticket")
        .count();
    assert_eq!(tickets, 2);
}

#[tokio::test]
async fn wrong_password_fails_login_without_looping() {
    let server = MockServer::start().await;
    let logins = otrs_like(&server, &["sess-1"]).await;
    let client = session_client(&server, "wrong-password");
    let err = client
        .send(client.get("Ticket").unwrap())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthenticated);
    assert!(err.to_string().contains("SessionCreate.AuthFail"), "{err}");
    assert_eq!(logins.load(Ordering::SeqCst), 0);
    let attempts = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == "/Session")
        .count();
    assert_eq!(attempts, 1, "a refused login is not repeated");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_requests_share_one_login() {
    let server = MockServer::start().await;
    let logins = otrs_like(&server, &["sess-1"]).await;
    let client = session_client(&server, "agent-pass-42");
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let c = client.clone();
            tokio::spawn(async move { c.send(c.get("Ticket").unwrap()).await.map(|_| ()) })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    assert_eq!(logins.load(Ordering::SeqCst), 1);
}
