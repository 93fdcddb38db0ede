//! TLS through the process-wide configuration: the platform's roots decide (a private CA
//! is refused), a client's own root certificate is honoured, and HTTP/1.1 is negotiated
//! with a server that offers only it.

use std::sync::Arc;

use accesslink_core::ErrorKind;
use accesslink_core::http::{HttpClient, RetryConfig};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const CA: &str = include_str!("../fixtures/ca.pem");
/// A certificate for `localhost` signed by the test CA (test-only key, never a secret).
const CERT: &str = include_str!("../fixtures/localhost.pem");
const KEY: &str = include_str!("../fixtures/localhost.key");

/// A TLS server on loopback that answers every request with `{"ok":true}` over HTTP/1.1,
/// and tells how many handshakes completed.
async fn server() -> (String, Arc<std::sync::atomic::AtomicUsize>) {
    let certs = vec![CertificateDer::from_pem_slice(CERT.as_bytes()).unwrap()];
    let key = PrivateKeyDer::from_pem_slice(KEY.as_bytes()).unwrap();
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let handshakes = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let done = handshakes.clone();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            let done = done.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                done.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let mut buf = vec![0u8; 4096];
                let mut seen = Vec::new();
                while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tls.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => seen.extend_from_slice(&buf[..n]),
                    }
                }
                let body = br#"{"ok":true}"#;
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                );
                let _ = tls.write_all(head.as_bytes()).await;
                let _ = tls.write_all(body).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    (format!("https://localhost:{port}/"), handshakes)
}

#[derive(Debug, serde::Deserialize)]
struct Answer {
    ok: bool,
}

#[tokio::test]
async fn the_shared_configuration_verifies_against_the_platform_roots() {
    let (url, handshakes) = server().await;
    let client = HttpClient::builder("tls", url)
        .retry(RetryConfig::disabled())
        .build()
        .unwrap();
    let e = client
        .send_json::<Answer>(client.get("ping").unwrap())
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unavailable, "{e}");
    let chain = format!("{e:?}");
    assert!(
        chain.contains("UnknownIssuer") || chain.contains("certificate"),
        "a private CA is not trusted: {chain}"
    );
    assert_eq!(handshakes.load(std::sync::atomic::Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_clients_own_root_certificate_is_honoured() {
    let (url, handshakes) = server().await;
    let client = HttpClient::builder("tls", url)
        .retry(RetryConfig::disabled())
        .add_root_certificate_pem(CA.as_bytes())
        .unwrap()
        .build()
        .unwrap();
    let answer: Answer = client.send_json(client.get("ping").unwrap()).await.unwrap();
    assert!(answer.ok);
    assert_eq!(handshakes.load(std::sync::atomic::Ordering::SeqCst), 1);
}
