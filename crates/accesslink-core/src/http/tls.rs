//! One TLS configuration per process.
//!
//! reqwest builds a new rustls configuration for every client, and with it a new platform
//! verifier that reads and parses the system's root certificates again (a few to tens of
//! milliseconds each time). An IAM product that runs a thousand tenant connectors paid that
//! a thousand times. Core builds the configuration reqwest would build — the platform
//! verifier over rustls' default crypto provider, HTTP/2 and HTTP/1.1 offered by ALPN — once,
//! on first use, and hands every client a clone (clones share the verifier and its roots).
//! A client that adds its own root certificates
//! ([`HttpClientBuilder::add_root_certificate_pem`](super::HttpClientBuilder::add_root_certificate_pem),
//! `http.root_certificates` in settings) gets its own configuration, as before.

use std::sync::{Arc, OnceLock};

use rustls::ClientConfig;
use rustls::crypto::CryptoProvider;

use crate::error::{Error, Result};

/// The process-wide client configuration, built on first use.
pub(crate) fn shared_config() -> Result<ClientConfig> {
    static SHARED: OnceLock<std::result::Result<ClientConfig, String>> = OnceLock::new();
    SHARED
        .get_or_init(build)
        .clone()
        .map_err(|e| Error::config(format!("TLS configuration: {e}")))
}

/// How many times the shared configuration was built (once per process, unless the
/// first build failed), for the tests.
#[cfg(test)]
pub(crate) fn builds() -> usize {
    BUILDS.load(std::sync::atomic::Ordering::SeqCst)
}

#[cfg(test)]
static BUILDS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

fn build() -> std::result::Result<ClientConfig, String> {
    #[cfg(test)]
    BUILDS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    // An embedder that installed a process default provider gets it, as with reqwest.
    let provider = CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(rustls::crypto::aws_lc_rs::default_provider()));
    let verifier = rustls_platform_verifier::Verifier::new(provider.clone())
        .map_err(|e| format!("platform certificate verifier: {e}"))?;
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS versions: {e}"))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_configuration_is_built_once_and_offers_h2_and_http1() {
        let a = shared_config().unwrap();
        for _ in 0..10 {
            shared_config().unwrap();
        }
        crate::http::HttpClient::builder("test", "https://example.invalid/")
            .build()
            .unwrap();
        // However many clients: the roots were read once.
        assert_eq!(builds(), 1);
        assert_eq!(a.alpn_protocols, [b"h2".to_vec(), b"http/1.1".to_vec()]);
    }
}
