//! Issue 15 item 13: no GLPI credential — user token, login/password and their Basic
//! base64, App-Token, session token — appears in an error (Display, Debug, source
//! chain) or in TRACE output when the server echoes the request's headers in an error
//! body, as text, as a JSON object, or inside GLPI's `["ERROR_…", "…"]`.
//!
//! Its own test binary: tracing's per-callsite interest cache is shared by the process,
//! and tests running beside it without a subscriber would hide events.

use accesslink_glpi::{GlpiClient, GlpiSettings};
use accesslink_testkit::logs::CapturedLogs;
use base64::Engine as _;
use serde_json::{Value, json};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const USER_TOKEN: &str = "CANARY-glpi-user-token-7d1";
const APP_TOKEN: &str = "CANARY-glpi-app-token-5e2";
const LOGIN: &str = "svc-iam";
const PASSWORD: &str = "CANARY-glpi-pw-3f9";
const SESSION: &str = "CANARY-glpi-session-8a4";

fn basic() -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("{LOGIN}:{PASSWORD}"))
}

fn canaries() -> Vec<String> {
    vec![
        USER_TOKEN.into(),
        APP_TOKEN.into(),
        PASSWORD.into(),
        SESSION.into(),
        basic(),
    ]
}

/// The request's headers as `name: value` lines.
fn headers_text(r: &Request) -> String {
    r.headers
        .iter()
        .map(|(k, v)| format!("{k}: {}\r\n", v.to_str().unwrap_or("?")))
        .collect()
}

fn headers_json(r: &Request) -> Value {
    r.headers
        .iter()
        .map(|(k, v)| (k.to_string(), json!(v.to_str().unwrap_or("?"))))
        .collect::<serde_json::Map<_, _>>()
        .into()
}

/// 400 echoing the headers: `Ticket/1` as text, `Ticket/2` as a JSON object (and as one
/// string in it), `Ticket/3` in GLPI's error array.
fn echo(r: &Request) -> ResponseTemplate {
    let text = headers_text(r);
    match r.url.path().rsplit('/').next() {
        Some("1") => ResponseTemplate::new(400).set_body_string(text),
        Some("2") => ResponseTemplate::new(400)
            .set_body_json(json!({ "headers": headers_json(r), "raw": text })),
        _ => ResponseTemplate::new(400)
            .set_body_json(json!(["ERROR_BAD_ARRAY", format!("you sent {text}")])),
    }
}

async fn server(login_ok: bool) -> MockServer {
    let server = MockServer::start().await;
    let login = if login_ok {
        Mock::given(method("GET"))
            .and(path("/apirest.php/initSession"))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(json!({ "session_token": SESSION })),
            )
    } else {
        Mock::given(method("GET"))
            .and(path("/apirest.php/initSession"))
            .respond_with(|r: &Request| {
                ResponseTemplate::new(401).set_body_json(json!([
                    "ERROR_LOGIN_PARAMETERS_MISSING",
                    format!("echo {}", headers_text(r))
                ]))
            })
    };
    login.mount(&server).await;
    Mock::given(method("GET"))
        .and(path_regex("^/apirest.php/Ticket/[0-9]+$"))
        .respond_with(echo)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/apirest.php/killSession"))
        .respond_with(|r: &Request| {
            ResponseTemplate::new(400).set_body_string(format!("bye {}", headers_text(r)))
        })
        .mount(&server)
        .await;
    server
}

fn settings(server: &MockServer, auth: &Value) -> GlpiSettings {
    serde_json::from_value(json!({
        "base_url": format!("{}/apirest.php", server.uri()),
        "auth": auth,
        "http": { "retry": { "max_attempts": 1 } },
    }))
    .unwrap()
}

fn print_error(e: &accesslink_core::Error, out: &mut String) {
    out.push_str(&format!("{e}\n{e:?}\n"));
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        out.push_str(&format!("{s}\n{s:?}\n"));
        source = s.source();
    }
}

fn assert_clean(what: &str, text: &str) {
    for c in canaries() {
        assert!(!text.contains(&c), "{c} in {what}:\n{text}");
    }
}

async fn run(auth: Value) {
    let logs = CapturedLogs::start();
    let mut printed = String::new();

    let server = server(true).await;
    let client = GlpiClient::from_settings(&settings(&server, &auth)).unwrap();
    for id in [1, 2, 3] {
        let e = client.tickets().get(id).await.unwrap_err();
        print_error(&e, &mut printed);
    }
    if let Err(e) = client.close().await {
        print_error(&e, &mut printed);
    }
    printed.push_str(&format!("{client:?}\n"));

    // A login refused with an echo.
    let refusing = server_refusing().await;
    let client = GlpiClient::from_settings(&settings(&refusing, &auth)).unwrap();
    let e = client.tickets().get(1).await.unwrap_err();
    print_error(&e, &mut printed);

    let traces = logs.text();
    assert!(
        printed.contains("[redacted]"),
        "the echo was read:\n{printed}"
    );
    assert!(!traces.is_empty());
    assert_clean("errors", &printed);
    assert_clean("traces", &traces);

    // The server did receive the credentials: the test would catch a leak.
    let received: String = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(headers_text)
        .collect();
    assert!(
        received.contains(APP_TOKEN) && received.contains(SESSION),
        "{received}"
    );
}

async fn server_refusing() -> MockServer {
    server(false).await
}

#[tokio::test]
async fn user_token_never_leaks_from_echoed_headers() {
    run(json!({ "method": "user_token", "user_token": USER_TOKEN, "app_token": APP_TOKEN })).await;
}

#[tokio::test]
async fn login_and_password_never_leak_from_echoed_headers() {
    run(json!({ "method": "password", "user": LOGIN, "password": PASSWORD, "app_token": APP_TOKEN }))
        .await;
}
