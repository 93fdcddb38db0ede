//! Static auth providers: what the server receives.

use std::sync::Arc;

use accesslink_core::ErrorKind;
use accesslink_core::auth::{ApiKeyAuth, BasicAuth, BearerAuth, Placement};
use accesslink_core::http::HttpClient;
use http::HeaderName;
use secrecy::SecretString;
use serde_json::json;
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::{builder, fallback};

#[tokio::test]
async fn basic_auth_sends_encoded_credentials() {
    let server = MockServer::start().await;
    // "alice:s3cret-pw" in base64.
    Mock::given(method("GET"))
        .and(path("/api/me"))
        .and(header("authorization", "Basic YWxpY2U6czNjcmV0LXB3"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"name": "alice"})))
        .expect(1)
        .mount(&server)
        .await;
    fallback(&server).await;
    let client = builder(&server)
        .auth(Arc::new(BasicAuth::new(
            "alice",
            SecretString::from("s3cret-pw"),
        )))
        .build()
        .unwrap();
    let me: serde_json::Value = client
        .send_json(client.get("/api/me").unwrap())
        .await
        .unwrap();
    assert_eq!(me["name"], "alice");
}

#[tokio::test]
async fn bearer_and_api_key_placements() {
    let server = MockServer::start().await;
    Mock::given(path("/bearer"))
        .and(header("authorization", "Bearer pat-123456"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/genie"))
        .and(header("authorization", "GenieKey key-abcdef"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/query"))
        .and(query_param("api_key", "key-abcdef"))
        .and(query_param("limit", "5"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
        .expect(1)
        .mount(&server)
        .await;
    fallback(&server).await;

    let base = builder(&server).build().unwrap();
    let bearer = base.with_auth(Arc::new(BearerAuth::new(SecretString::from("pat-123456"))));
    bearer.send(bearer.get("bearer").unwrap()).await.unwrap();

    let genie = base.with_auth(Arc::new(ApiKeyAuth::new(
        Placement::header_with_prefix(http::header::AUTHORIZATION, "GenieKey "),
        SecretString::from("key-abcdef"),
    )));
    genie.send(genie.get("genie").unwrap()).await.unwrap();

    let query = base.with_auth(Arc::new(ApiKeyAuth::new(
        Placement::query("api_key"),
        SecretString::from("key-abcdef"),
    )));
    let req = query.get("query").unwrap().query(&[("limit", 5)]).unwrap();
    query.send(req).await.unwrap();
}

#[tokio::test]
async fn static_credential_rejected_is_a_clear_unauthenticated_error_after_one_request() {
    let server = MockServer::start().await;
    Mock::given(any_path())
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({"error": "bad key"})))
        .expect(1)
        .mount(&server)
        .await;
    let client = builder(&server)
        .auth(Arc::new(ApiKeyAuth::new(
            Placement::header(HeaderName::from_static("x-api-key")),
            SecretString::from("wrong-key-999"),
        )))
        .build()
        .unwrap();
    let err = client.send(client.get("x").unwrap()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthenticated);
    assert!(err.to_string().contains("rejected the credential"), "{err}");
}

#[tokio::test]
async fn base_url_path_is_kept_and_credentials_in_url_refused() {
    let server = MockServer::start().await;
    Mock::given(path("/otrs/nph-genericinterface.pl/Webservice/GT/Ticket/1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ok": true})))
        .expect(1)
        .mount(&server)
        .await;
    fallback(&server).await;
    let base = format!(
        "{}/otrs/nph-genericinterface.pl/Webservice/GT",
        server.uri()
    );
    let client = HttpClient::builder("t", base).build().unwrap();
    client.send(client.get("/Ticket/1").unwrap()).await.unwrap();
    for escape in [
        "https://evil.example/steal",
        "../../other",
        "http://127.0.0.1:1/x",
    ] {
        let err = client.get(escape).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{escape}");
    }

    let err = HttpClient::builder("t", "https://user:pw@example.com/")
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    assert!(!err.to_string().contains("pw@"), "{err}");
}

fn any_path() -> wiremock::matchers::PathRegexMatcher {
    wiremock::matchers::path_regex(".*")
}
