//! Neither the password, the client secret nor any token appears in traces (captured at
//! TRACE), `Debug` output or errors — through an OAuth run that exercises the password
//! grant, a 401 and the refresh grant, an ambiguous create failure with its look-ups and
//! retries, and error bodies that echo the credentials back.
//!
//! Its own test binary: tracing's per-callsite interest cache is shared by the process,
//! and tests running beside it without a subscriber would hide events (as in
//! accesslink-core's canary test).

use std::time::Duration;

use accesslink_core::http::RetryConfig;
use accesslink_core::{
    AccountSpec, CorrelationId, ErrorKind, NewTicket, Provisioner, TicketKind, TicketingSystem,
};
use accesslink_servicenow::{ServiceNowClient, ServiceNowConfig, ServiceNowConnector};
use accesslink_testkit::logs::CapturedLogs;
use secrecy::SecretString;
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const USER: &str = "svc.accesslink";
const PASSWORD: &str = "pw-CANARY-5b1e0c77";
const CLIENT_SECRET: &str = "cs-CANARY-9d2f7a31";
const ACCESS_1: &str = "at-CANARY-1111aaaa";
const ACCESS_2: &str = "at-CANARY-2222bbbb";
const REFRESH: &str = "rt-CANARY-3333cccc";

fn form(r: &Request, name: &str) -> Option<String> {
    url::form_urlencoded::parse(&r.body)
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

fn auth(r: &Request) -> String {
    r.headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned()
}

/// An error body that echoes the credentials the client holds: the header it sent, and
/// with OAuth the secrets of its grants.
fn echo(status: u16, r: &Request) -> ResponseTemplate {
    let header = auth(r);
    let detail = if header.starts_with("Bearer ") {
        format!("password={PASSWORD} client_secret={CLIENT_SECRET} refresh_token={REFRESH}")
    } else {
        format!("password={PASSWORD}")
    };
    ResponseTemplate::new(status).set_body_json(json!({
        "error": { "message": format!("rejected {header}"), "detail": detail },
        "status": "failure"
    }))
}

async fn instance() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth_token.do"))
        .respond_with(|r: &Request| {
            let access = match form(r, "grant_type").as_deref() {
                Some("password") => ACCESS_1,
                _ => ACCESS_2,
            };
            ResponseTemplate::new(200).set_body_json(json!({
                "access_token": access, "refresh_token": REFRESH, "scope": "useraccount",
                "token_type": "Bearer", "expires_in": 1799
            }))
        })
        .mount(&server)
        .await;
    // The first access token is rejected (with the token echoed back); the renewed one
    // reads an empty table.
    Mock::given(method("GET"))
        .and(path("/api/now/table/incident"))
        .respond_with(|r: &Request| {
            if auth(r) == format!("Bearer {ACCESS_2}") {
                ResponseTemplate::new(200).set_body_json(json!({ "result": [] }))
            } else {
                echo(401, r)
            }
        })
        .mount(&server)
        .await;
    // Inserts fail ambiguously: looked up, retried, looked up again.
    Mock::given(method("POST"))
        .and(path("/api/now/table/incident"))
        .respond_with(|r: &Request| echo(503, r))
        .mount(&server)
        .await;
    // A long message with the token just where a 300-character cut would split it:
    // cut before redaction, its start would survive.
    Mock::given(method("GET"))
        .and(path("/api/now/table/sys_user"))
        .respond_with(|r: &Request| {
            ResponseTemplate::new(400).set_body_json(json!({
                "error": { "message": format!("{} {}", "x".repeat(285), auth(r)), "detail": null },
                "status": "failure"
            }))
        })
        .mount(&server)
        .await;
    server
}

fn chain(e: &accesslink_core::Error) -> String {
    let mut out = format!("{e}\n{e:?}\n");
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        out.push_str(&format!("{s}\n{s:?}\n"));
        source = s.source();
    }
    out
}

fn base64(s: &str) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let b = s.as_bytes();
    let mut out = String::new();
    for c in b.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= c.len() {
                out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[tokio::test]
async fn no_secret_in_traces_debug_or_errors() {
    let server = instance().await;
    let logs = CapturedLogs::start();

    let retry = RetryConfig::default()
        .max_attempts(2)
        .initial_backoff(Duration::from_millis(1))
        .max_backoff(Duration::from_millis(5));
    let builder = ServiceNowClient::builder(server.uri())
        .oauth_password(
            "sn-client",
            SecretString::from(CLIENT_SECRET),
            USER,
            SecretString::from(PASSWORD),
        )
        .http(accesslink_core::http::HttpSettings::new().retry(retry.clone()));
    let mut printed = format!("{builder:?}\n");
    let sn = ServiceNowConnector::new(builder.build().unwrap(), ServiceNowConfig::new()).unwrap();

    // Password grant, 401 (token echoed), refresh grant, success.
    let r = sn.parse_ticket_ref("INC0010001").unwrap();
    assert!(sn.get_ticket(&r).await.unwrap().is_none());
    // Look-up, insert 503, look-up, insert 503, last look-up: an error echoing secrets.
    let new = NewTicket::new(
        TicketKind::Incident,
        "t",
        "d",
        CorrelationId::new("REQ-SECRET"),
    );
    let e = sn.create_ticket(&new).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unavailable, "{e}");
    printed.push_str(&chain(&e));
    // A 400 echoing the bearer token.
    let e = sn
        .create_account(&AccountSpec::new("jdoe"))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
    printed.push_str(&chain(&e));
    printed.push_str(&format!("{sn:?}\n{:?}\n", sn.client()));

    // Basic: the header is base64 of user:password.
    let basic = ServiceNowConnector::new(
        ServiceNowClient::builder(server.uri())
            .basic(USER, SecretString::from(PASSWORD))
            .http(accesslink_core::http::HttpSettings::new().retry(retry))
            .build()
            .unwrap(),
        ServiceNowConfig::new(),
    )
    .unwrap();
    let e = basic.get_ticket(&r).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unauthenticated, "{e}");
    printed.push_str(&chain(&e));
    printed.push_str(&format!("{basic:?}\n"));
    let traces = logs.text();
    drop(logs);
    // The paths that matter ran and were traced.
    assert!(traces.contains("renewing it once"), "{traces}");
    assert!(
        traces.contains("write failed ambiguously") && traces.contains("create ticket"),
        "the write combinator's warning was captured:\n{traces}"
    );
    assert!(printed.contains("svc.accesslink"), "{printed}");
    let basic_header = base64(&format!("{USER}:{PASSWORD}"));
    for canary in [
        PASSWORD,
        CLIENT_SECRET,
        ACCESS_1,
        ACCESS_2,
        REFRESH,
        basic_header.as_str(),
    ] {
        assert!(!traces.contains(canary), "{canary} in traces:\n{traces}");
        assert!(
            !printed.contains(canary),
            "{canary} in printed output:\n{printed}"
        );
        // Not even the start of one (a cut through it).
        let start: String = canary.chars().take(7).collect();
        assert!(
            !traces.contains(&start) && !printed.contains(&start),
            "{start}… in output:\n{printed}\n{traces}"
        );
    }
    // The server did receive them: the test would catch a leak.
    let received = server.received_requests().await.unwrap();
    let seen: String = received
        .iter()
        .map(|r| format!("{} {}\n", auth(r), String::from_utf8_lossy(&r.body)))
        .collect();
    for canary in [PASSWORD, CLIENT_SECRET, ACCESS_1, ACCESS_2, REFRESH] {
        assert!(seen.contains(canary), "{canary} was never sent");
    }
    assert!(seen.contains(&basic_header));
}
