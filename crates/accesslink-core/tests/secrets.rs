//! A canary secret must never appear in Debug output, error messages or traces.
//!
//! Its own test binary: tracing's per-callsite interest cache is shared by the
//! process, and tests running beside it without a subscriber would hide events.

use std::io::Write;
use std::sync::{Arc, Mutex};

use accesslink_core::auth::{
    ApiKeyAuth, AuthProvider, BasicAuth, BearerAuth, OAuth2Auth, OAuth2Config, OAuth2Grant,
    Placement, Session, SessionAuth,
};
use accesslink_core::http::HttpClient;
use secrecy::SecretString;
use serde_json::json;
use wiremock::matchers::path;
use wiremock::{Mock, MockServer, ResponseTemplate};

use accesslink_core::http::RetryConfig;

fn builder(server: &MockServer) -> accesslink_core::http::HttpClientBuilder {
    HttpClient::builder("test", server.uri()).retry(RetryConfig::disabled())
}

const CANARY: &str = "CANARY-7f3a9c2e-secret";

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn providers(base: &HttpClient, server: &MockServer) -> Vec<Arc<dyn AuthProvider>> {
    let secret = || SecretString::from(CANARY);
    let token_url = format!("{}/oauth/token", server.uri()).parse().unwrap();
    vec![
        Arc::new(BasicAuth::new("svc-user", secret())),
        Arc::new(BearerAuth::new(secret())),
        Arc::new(ApiKeyAuth::new(Placement::query("api_key"), secret())),
        Arc::new(OAuth2Auth::new(
            OAuth2Config::new(
                token_url,
                "client",
                OAuth2Grant::Password {
                    username: "svc".into(),
                    password: secret(),
                },
            )
            .client_secret(secret()),
            base.clone(),
        )),
        Arc::new(SessionAuth::new("s", Placement::query("SessionID"), || {
            Box::pin(async {
                Ok(Session {
                    token: SecretString::from(CANARY),
                    ttl: None,
                })
            })
        })),
    ]
}

#[tokio::test]
async fn canary_never_printed() {
    let server = MockServer::start().await;
    // The token endpoint hands out the canary as a token; the API echoes back
    // whatever credentials it got, in a 400 body and in a header-ish text body.
    Mock::given(path("/oauth/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"access_token": CANARY, "token_type": "Bearer", "expires_in": 3600}),
        ))
        .mount(&server)
        .await;
    Mock::given(path("/echo"))
        .respond_with(|req: &wiremock::Request| {
            let auth = req
                .headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned();
            let query = req.url.query().unwrap_or("").to_owned();
            ResponseTemplate::new(400).set_body_string(format!(
                "bad request; you sent {auth} and {query}; token={CANARY} {{\"password\": \"{CANARY}\"}}"
            ))
        })
        .mount(&server)
        .await;
    Mock::given(path("/html"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            format!("<html>your key {CANARY} is wrong</html>"),
            "text/html",
        ))
        .mount(&server)
        .await;

    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let base = builder(&server).build().unwrap();
    let mut printed = String::new();
    for auth in providers(&base, &server) {
        let client = base.with_auth(auth.clone());
        printed.push_str(&format!("{auth:?}\n{client:?}\n"));
        let err = client.send(client.get("echo").unwrap()).await.unwrap_err();
        printed.push_str(&format!("{err}\n{err:?}\n"));
        let mut source = std::error::Error::source(&err);
        while let Some(s) = source {
            printed.push_str(&format!("{s}\n"));
            source = s.source();
        }
        let err = client
            .send_json::<serde_json::Value>(client.get("html").unwrap())
            .await
            .unwrap_err();
        printed.push_str(&format!("{err}\n{err:?}\n"));
    }
    let config = OAuth2Config::new(
        "https://x.example/token".parse().unwrap(),
        "c",
        OAuth2Grant::RefreshToken {
            refresh_token: SecretString::from(CANARY),
        },
    )
    .client_secret(SecretString::from(CANARY));
    printed.push_str(&format!("{config:?}\n"));

    // A failed connection: reqwest's error would print the URL with its query,
    // where the API key and session ids travel.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dead = HttpClient::builder("test", format!("http://127.0.0.1:{port}/"))
        .retry(RetryConfig::disabled())
        .auth(Arc::new(ApiKeyAuth::new(
            Placement::query("api_key"),
            SecretString::from(CANARY),
        )))
        .build()
        .unwrap();
    let err = dead.send(dead.get("items").unwrap()).await.unwrap_err();
    assert_eq!(err.kind(), accesslink_core::ErrorKind::Unavailable);
    printed.push_str(&format!("{err}\n{err:?}\n"));
    let mut source = std::error::Error::source(&err);
    while let Some(s) = source {
        printed.push_str(&format!("{s}\n{s:?}\n"));
        source = s.source();
    }

    drop(_guard);
    let traces = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        printed.contains("[redacted]"),
        "the test printed redacted values"
    );
    assert!(!traces.is_empty(), "traces were captured");
    assert!(
        !printed.contains(CANARY),
        "canary in printed output:\n{printed}"
    );
    assert!(!traces.contains(CANARY), "canary in traces:\n{traces}");
    // The server did receive the canary: the test would catch a leak.
    let received = server.received_requests().await.unwrap();
    assert!(received.iter().any(|r| {
        r.url.query().is_some_and(|q| q.contains(CANARY))
            || r.headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.contains(CANARY))
    }));
}

/// Issue 15 item 14: a base URL with a query or fragment is refused, as Config, without
/// echoing the value (which may carry a secret).
#[test]
fn base_url_with_query_or_fragment_is_refused_without_echo() {
    for url in [
        format!("http://127.0.0.1:9/?token={CANARY}"),
        format!("https://glpi.example.com/apirest.php?token={CANARY}"),
        format!("https://glpi.example.com/apirest.php#{CANARY}"),
        format!("https://glpi.example.com/?#{CANARY}"),
        "https://glpi.example.com/api?".to_owned(),
    ] {
        let builder = HttpClient::builder("test", url.clone());
        let err = builder.build().expect_err(&url);
        assert_eq!(err.kind(), accesslink_core::ErrorKind::Config, "{url}");
        let printed = format!("{err}\n{err:?}");
        assert!(!printed.contains(CANARY), "{url}: {printed}");
        assert!(!printed.contains(&url), "{url}: {printed}");
    }
}

/// Issue 15 item 14: the "not http(s)" error names the scheme, not the whole URL.
#[test]
fn non_http_base_url_error_names_only_the_scheme() {
    let url = format!("ftp://files.example.com/{CANARY}/");
    let err = HttpClient::builder("test", url).build().unwrap_err();
    assert_eq!(err.kind(), accesslink_core::ErrorKind::Config);
    let printed = format!("{err}\n{err:?}");
    assert!(printed.contains("ftp"), "{printed}");
    assert!(!printed.contains(CANARY), "{printed}");
    assert!(!printed.contains("files.example.com"), "{printed}");
}
