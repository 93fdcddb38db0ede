//! Bodies that are not what we asked for: too big, HTML, cut off, vendor errors.

use std::sync::Arc;

use accesslink_core::http::VendorError;
use accesslink_core::{Error, ErrorKind};
use serde::Deserialize;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use wiremock::matchers::path;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::builder;

#[derive(Debug, Deserialize)]
struct Items {
    #[allow(dead_code)]
    items: Vec<serde_json::Value>,
}

#[tokio::test]
async fn body_over_the_cap_is_refused() {
    let server = MockServer::start().await;
    let big = "x".repeat(2 * 1024 * 1024);
    Mock::given(path("/big"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "items": [big] })))
        .mount(&server)
        .await;
    let client = builder(&server)
        .max_body_bytes(1024 * 1024)
        .build()
        .unwrap();
    let err = client.send(client.get("big").unwrap()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Protocol);
    assert!(err.to_string().contains("1048576-byte limit"), "{err}");

    let client = builder(&server)
        .max_body_bytes(4 * 1024 * 1024)
        .build()
        .unwrap();
    let ok: Items = client.send_json(client.get("big").unwrap()).await.unwrap();
    assert_eq!(ok.items.len(), 1);
}

#[tokio::test]
async fn html_login_page_is_a_clear_protocol_error() {
    let server = MockServer::start().await;
    Mock::given(path("/items"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            "<!DOCTYPE html><html><title>Sign in</title></html>",
            "text/html; charset=utf-8",
        ))
        .mount(&server)
        .await;
    let client = builder(&server).build().unwrap();
    let err = client
        .send_json::<Items>(client.get("items").unwrap())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Protocol);
    let s = err.to_string();
    assert!(
        s.contains("text/html") && s.contains("Sign in") && s.contains("GET /items"),
        "{s}"
    );
}

#[tokio::test]
async fn wrong_shape_names_the_path() {
    let server = MockServer::start().await;
    Mock::given(path("/items"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"items": "nope"})))
        .mount(&server)
        .await;
    let client = builder(&server).build().unwrap();
    let err = client
        .send_json::<Items>(client.get("items").unwrap())
        .await
        .unwrap_err();
    match err {
        Error::Protocol(p) => assert_eq!(p.json_path.as_deref(), Some("items")),
        other => panic!("{other:?}"),
    }
}

/// A raw server that promises 1000 bytes and sends 20, then closes: wiremock cannot.
async fn cut_off_server() -> (String, Arc<std::sync::atomic::AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let hits = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let h = hits.clone();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            h.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let mut buf = [0u8; 4096];
            let _ = sock.read(&mut buf).await;
            let _ = sock
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{\"items\":[{\"id\":1},")
                .await;
            let _ = sock.shutdown().await;
        }
    });
    (format!("http://{addr}/"), hits)
}

#[tokio::test]
async fn connection_closed_mid_body_is_retried_then_unavailable() {
    let (url, hits) = cut_off_server().await;
    let client = accesslink_core::http::HttpClient::builder("t", url)
        .retry(
            accesslink_core::http::RetryConfig::default()
                .initial_backoff(std::time::Duration::from_millis(5)),
        )
        .build()
        .unwrap();
    let err = client
        .send_json::<Items>(client.get("items").unwrap())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unavailable, "{err:?}");
    assert_eq!(
        hits.load(std::sync::atomic::Ordering::SeqCst),
        3,
        "a GET cut off is retried"
    );

    let err = client
        .send(client.post("items").unwrap())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unavailable);
    assert_eq!(
        hits.load(std::sync::atomic::Ordering::SeqCst),
        4,
        "a POST cut off is not"
    );
}

#[tokio::test]
async fn vendor_errors_in_http_200_bodies_become_api_errors() {
    let server = MockServer::start().await;
    Mock::given(path("/Ticket"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "Error": {"ErrorCode": "TicketCreate.InvalidParameter", "ErrorMessage": "Queue invalid"}
        })))
        .mount(&server)
        .await;
    let client = builder(&server)
        .error_parser(|r| {
            let v: serde_json::Value = serde_json::from_slice(r.bytes()).ok()?;
            let e = v.get("Error")?;
            Some(
                VendorError::new(
                    e["ErrorCode"].as_str().map(str::to_owned),
                    e["ErrorMessage"].as_str().map(str::to_owned),
                )
                .kind(ErrorKind::InvalidInput),
            )
        })
        .build()
        .unwrap();
    let err = client
        .send(client.post("Ticket").unwrap())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert_eq!(err.vendor_code(), Some("TicketCreate.InvalidParameter"));
    let api = err.as_api().unwrap();
    assert_eq!(api.status.as_u16(), 200);
    assert_eq!(api.message.as_deref(), Some("Queue invalid"));
}
