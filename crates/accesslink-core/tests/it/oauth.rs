//! OAuth2 grants, refresh ahead of expiry, single-flight renewal, re-auth once.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use accesslink_core::ErrorKind;
use accesslink_core::auth::{ClientAuthStyle, OAuth2Auth, OAuth2Config, OAuth2Grant};
use accesslink_core::http::HttpClient;
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::{builder, fallback};

/// A token endpoint that issues `tok-N` and, for refresh grants, `rt-N`.
#[derive(Clone, Default)]
struct TokenEndpoint {
    issued: Arc<AtomicUsize>,
    bodies: Arc<Mutex<Vec<String>>>,
    expires_in: Option<serde_json::Value>,
    delay: Option<Duration>,
    issue_refresh: bool,
}

impl Respond for TokenEndpoint {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let n = self.issued.fetch_add(1, Ordering::SeqCst) + 1;
        let body = String::from_utf8_lossy(&req.body).into_owned();
        self.bodies.lock().unwrap().push(body);
        let mut answer = json!({"access_token": format!("tok-{n}"), "token_type": "Bearer"});
        if let Some(e) = &self.expires_in {
            answer["expires_in"] = e.clone();
        }
        if self.issue_refresh {
            answer["refresh_token"] = json!(format!("rt-{n}"));
        }
        let t = ResponseTemplate::new(200).set_body_json(answer);
        match self.delay {
            Some(d) => t.set_delay(d),
            None => t,
        }
    }
}

impl TokenEndpoint {
    fn issued(&self) -> usize {
        self.issued.load(Ordering::SeqCst)
    }
}

/// An API that accepts only the tokens in `valid` (all `tok-*` when empty).
async fn api(server: &MockServer, valid: Option<&'static [&'static str]>) {
    Mock::given(method("GET"))
        .and(path("/api/items"))
        .respond_with(move |req: &Request| {
            let auth = req
                .headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            let ok = match valid {
                None => auth.starts_with("Bearer tok-"),
                Some(list) => list.iter().any(|t| auth == format!("Bearer {t}")),
            };
            if ok {
                ResponseTemplate::new(200).set_body_json(json!({"seen": auth}))
            } else {
                ResponseTemplate::new(401).set_body_json(json!({"error": "invalid_token"}))
            }
        })
        .mount(server)
        .await;
}

fn oauth_client(server: &MockServer, config: OAuth2Config) -> (HttpClient, Arc<OAuth2Auth>) {
    let base = builder(server).build().unwrap();
    let auth = Arc::new(OAuth2Auth::new(config, base.clone()));
    (base.with_auth(auth.clone()), auth)
}

fn token_url(server: &MockServer) -> url::Url {
    format!("{}/oauth/token", server.uri()).parse().unwrap()
}

async fn get_seen(client: &HttpClient) -> accesslink_core::Result<String> {
    let v: serde_json::Value = client.send_json(client.get("api/items")?).await?;
    Ok(v["seen"].as_str().unwrap_or_default().to_owned())
}

#[tokio::test]
async fn client_credentials_in_body_with_string_expiry() {
    let server = MockServer::start().await;
    let tokens = TokenEndpoint {
        expires_in: Some(json!("7199")),
        ..Default::default()
    };
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(tokens.clone())
        .mount(&server)
        .await;
    api(&server, None).await;
    fallback(&server).await;
    let config = OAuth2Config::new(
        token_url(&server),
        "my-client",
        OAuth2Grant::ClientCredentials,
    )
    .client_secret(SecretString::from("client-secret-xyz"))
    .client_auth(ClientAuthStyle::RequestBody)
    .scope("global:manage");
    let (client, _) = oauth_client(&server, config);
    assert_eq!(get_seen(&client).await.unwrap(), "Bearer tok-1");
    assert_eq!(
        get_seen(&client).await.unwrap(),
        "Bearer tok-1",
        "token cached"
    );
    assert_eq!(tokens.issued(), 1);
    let body = tokens.bodies.lock().unwrap()[0].clone();
    for part in [
        "grant_type=client_credentials",
        "client_id=my-client",
        "client_secret=client-secret-xyz",
        "scope=global%3Amanage",
    ] {
        assert!(
            body.contains(part),
            "token request body {body:?} lacks {part}"
        );
    }
}

#[tokio::test]
async fn password_grant_then_refresh_token_on_renewal() {
    let server = MockServer::start().await;
    let tokens = TokenEndpoint {
        expires_in: Some(json!(3600)),
        issue_refresh: true,
        ..Default::default()
    };
    Mock::given(method("POST"))
        .and(path("/oauth_token.do"))
        .respond_with(tokens.clone())
        .mount(&server)
        .await;
    // Only the second token is valid: the first request is rejected and renewed.
    api(&server, Some(&["tok-2"])).await;
    fallback(&server).await;
    let url = format!("{}/oauth_token.do", server.uri()).parse().unwrap();
    let config = OAuth2Config::new(
        url,
        "sn-client",
        OAuth2Grant::Password {
            username: "integration".into(),
            password: SecretString::from("user-pass-777"),
        },
    )
    .client_secret(SecretString::from("sn-secret-888"));
    let (client, _) = oauth_client(&server, config);
    assert_eq!(get_seen(&client).await.unwrap(), "Bearer tok-2");
    let bodies = tokens.bodies.lock().unwrap().clone();
    assert_eq!(bodies.len(), 2);
    assert!(
        bodies[0].contains("grant_type=password") && bodies[0].contains("username=integration")
    );
    assert!(
        bodies[1].contains("grant_type=refresh_token") && bodies[1].contains("refresh_token=rt-1"),
        "renewal used the refresh token: {:?}",
        bodies[1]
    );
}

#[tokio::test]
async fn refresh_token_grant_reports_rotated_tokens() {
    let server = MockServer::start().await;
    let tokens = TokenEndpoint {
        expires_in: Some(json!(3600)),
        issue_refresh: true,
        ..Default::default()
    };
    Mock::given(path("/token"))
        .respond_with(tokens.clone())
        .mount(&server)
        .await;
    api(&server, Some(&["tok-2"])).await;
    fallback(&server).await;
    let url = format!("{}/token", server.uri()).parse().unwrap();
    let config = OAuth2Config::new(
        url,
        "jira-app",
        OAuth2Grant::RefreshToken {
            refresh_token: SecretString::from("rt-initial"),
        },
    );
    let rotated = Arc::new(Mutex::new(Vec::new()));
    let seen = rotated.clone();
    let base = builder(&server).build().unwrap();
    let auth = Arc::new(
        OAuth2Auth::new(config, base.clone()).on_refresh_token(Arc::new(
            move |rt: &SecretString| {
                seen.lock().unwrap().push(rt.expose_secret().to_owned());
            },
        )),
    );
    let client = base.with_auth(auth);
    assert_eq!(get_seen(&client).await.unwrap(), "Bearer tok-2");
    let bodies = tokens.bodies.lock().unwrap().clone();
    assert!(
        bodies[0].contains("refresh_token=rt-initial"),
        "{:?}",
        bodies[0]
    );
    assert!(
        bodies[1].contains("refresh_token=rt-1"),
        "rotated token used: {:?}",
        bodies[1]
    );
    assert_eq!(
        *rotated.lock().unwrap(),
        vec!["rt-1".to_owned(), "rt-2".to_owned()]
    );
}

#[tokio::test]
async fn token_is_renewed_ahead_of_expiry() {
    let server = MockServer::start().await;
    let tokens = TokenEndpoint {
        expires_in: Some(json!(3)),
        ..Default::default()
    };
    Mock::given(path("/oauth/token"))
        .respond_with(tokens.clone())
        .mount(&server)
        .await;
    api(&server, None).await;
    fallback(&server).await;
    let config = OAuth2Config::new(token_url(&server), "c", OAuth2Grant::ClientCredentials)
        .client_secret(SecretString::from("secret-abc"))
        .refresh_ahead(Duration::from_secs(2));
    let (client, _) = oauth_client(&server, config);
    assert_eq!(get_seen(&client).await.unwrap(), "Bearer tok-1");
    // 1.2 s in, the 3 s token is within 2 s of expiry: renewed before it runs out.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(get_seen(&client).await.unwrap(), "Bearer tok-2");
    assert_eq!(tokens.issued(), 2);
    let api_401s = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == "/api/items")
        .count();
    assert_eq!(
        api_401s, 2,
        "no request was rejected: renewal happened ahead"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_requests_fetch_one_token() {
    let server = MockServer::start().await;
    let tokens = TokenEndpoint {
        expires_in: Some(json!(3600)),
        delay: Some(Duration::from_millis(100)),
        ..Default::default()
    };
    Mock::given(path("/oauth/token"))
        .respond_with(tokens.clone())
        .mount(&server)
        .await;
    api(&server, None).await;
    fallback(&server).await;
    let config = OAuth2Config::new(token_url(&server), "c", OAuth2Grant::ClientCredentials)
        .client_secret(SecretString::from("secret-abc"));
    let (client, _) = oauth_client(&server, config);
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let c = client.clone();
            tokio::spawn(async move { get_seen(&c).await })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap().unwrap(), "Bearer tok-1");
    }
    assert_eq!(tokens.issued(), 1, "one token request for fifty callers");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_requests_rejected_together_renew_once() {
    let server = MockServer::start().await;
    let tokens = TokenEndpoint {
        expires_in: Some(json!(3600)),
        delay: Some(Duration::from_millis(50)),
        ..Default::default()
    };
    Mock::given(path("/oauth/token"))
        .respond_with(tokens.clone())
        .mount(&server)
        .await;
    api(&server, Some(&["tok-2"])).await;
    fallback(&server).await;
    let config = OAuth2Config::new(token_url(&server), "c", OAuth2Grant::ClientCredentials)
        .client_secret(SecretString::from("secret-abc"));
    let (client, _) = oauth_client(&server, config);
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let c = client.clone();
            tokio::spawn(async move { get_seen(&c).await })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap().unwrap(), "Bearer tok-2");
    }
    assert_eq!(
        tokens.issued(),
        2,
        "the stale token was replaced once, not fifty times"
    );
}

#[tokio::test]
async fn reauth_happens_once_then_a_clear_error() {
    let server = MockServer::start().await;
    let tokens = TokenEndpoint {
        expires_in: Some(json!(3600)),
        ..Default::default()
    };
    Mock::given(path("/oauth/token"))
        .respond_with(tokens.clone())
        .mount(&server)
        .await;
    api(&server, Some(&[])).await; // rejects every token
    fallback(&server).await;
    let config = OAuth2Config::new(token_url(&server), "c", OAuth2Grant::ClientCredentials)
        .client_secret(SecretString::from("secret-abc"));
    let (client, _) = oauth_client(&server, config);
    let err = get_seen(&client).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthenticated);
    assert!(err.to_string().contains("renewed credential too"), "{err}");
    assert_eq!(tokens.issued(), 2, "one initial token, one renewal");
    let api_calls = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == "/api/items")
        .count();
    assert_eq!(api_calls, 2);
}

#[tokio::test]
async fn token_endpoint_refusal_is_an_auth_error_with_the_oauth_code() {
    let server = MockServer::start().await;
    Mock::given(path("/oauth/token"))
        .respond_with(
            ResponseTemplate::new(400).set_body_json(
                json!({"error": "invalid_client", "error_description": "bad secret"}),
            ),
        )
        .expect(1)
        .mount(&server)
        .await;
    fallback(&server).await;
    let config = OAuth2Config::new(token_url(&server), "c", OAuth2Grant::ClientCredentials)
        .client_secret(SecretString::from("wrong-secret-1"));
    let (client, _) = oauth_client(&server, config);
    let err = get_seen(&client).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthenticated);
    let s = err.to_string();
    assert!(
        s.contains("invalid_client") && s.contains("bad secret"),
        "{s}"
    );
}
