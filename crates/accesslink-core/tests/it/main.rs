//! Core behaviour over real loopback HTTP (wiremock and raw TCP servers).

mod auth;
mod body;
mod dry_run;
mod hooks;
mod oauth;
mod pacing;
mod retry;
mod session;
mod tls;

use std::time::Duration;

use accesslink_core::http::{HttpClient, HttpClientBuilder, RetryConfig, TimeoutConfig};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

/// A builder pointed at `server` with fast retries, so tests do not sleep long.
pub fn builder(server: &MockServer) -> HttpClientBuilder {
    HttpClient::builder("test", server.uri())
        .retry(
            RetryConfig::default()
                .max_attempts(3)
                .initial_backoff(Duration::from_millis(10))
                .max_backoff(Duration::from_secs(2)),
        )
        .timeouts(TimeoutConfig::new().attempt(Duration::from_secs(5)))
}

/// Mounts a lowest-priority catch-all that names any request no other mock matched.
pub async fn fallback(server: &MockServer) {
    Mock::given(any())
        .respond_with(|req: &wiremock::Request| {
            ResponseTemplate::new(418).set_body_string(format!(
                "unmatched request: {} {}",
                req.method,
                req.url.path()
            ))
        })
        .with_priority(u8::MAX)
        .mount(server)
        .await;
}
