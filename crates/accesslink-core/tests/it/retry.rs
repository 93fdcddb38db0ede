//! Retries over HTTP: which answers are repeated, how long we wait, POST safety,
//! timeouts and the rate limiter.

use std::num::NonZeroU32;
use std::time::{Duration, Instant};

use accesslink_core::ErrorKind;
use accesslink_core::error::TimeoutPhase;
use accesslink_core::http::{RateLimitConfig, RetryConfig, TimeoutConfig};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::{builder, fallback};

async fn requests_to(server: &MockServer, p: &str) -> usize {
    server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == p)
        .count()
}

#[tokio::test]
async fn transient_statuses_are_retried_until_success() {
    for status in [500u16, 502, 503, 504, 429] {
        let server = MockServer::start().await;
        Mock::given(path("/x"))
            .respond_with(ResponseTemplate::new(status))
            .up_to_n_times(2)
            .with_priority(1)
            .mount(&server)
            .await;
        Mock::given(path("/x"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ok": true})))
            .mount(&server)
            .await;
        let client = builder(&server).build().unwrap();
        let r = client.send(client.get("x").unwrap()).await.unwrap();
        assert_eq!(r.attempts(), 3, "status {status}");
        assert_eq!(requests_to(&server, "/x").await, 3, "status {status}");
    }
}

#[tokio::test]
async fn final_statuses_are_not_retried() {
    for status in [400u16, 401, 403, 404, 409, 422, 501] {
        let server = MockServer::start().await;
        Mock::given(path("/x"))
            .respond_with(ResponseTemplate::new(status).set_body_json(json!({"e": 1})))
            .mount(&server)
            .await;
        let client = builder(&server).build().unwrap();
        let err = client.send(client.get("x").unwrap()).await.unwrap_err();
        if status == 401 {
            // Without a renewable credential a 401 is reported as an auth failure.
            assert_eq!(err.kind(), accesslink_core::ErrorKind::Unauthenticated);
        } else {
            assert_eq!(err.as_api().map(|a| a.status.as_u16()), Some(status));
        }
        assert_eq!(requests_to(&server, "/x").await, 1, "status {status}");
    }
}

#[tokio::test]
async fn retry_after_is_honoured() {
    let server = MockServer::start().await;
    Mock::given(path("/x"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "1"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(path("/x"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
        .mount(&server)
        .await;
    let client = builder(&server).build().unwrap();
    let started = Instant::now();
    client.send(client.get("x").unwrap()).await.unwrap();
    // The back-off alone would be ~10 ms; the server asked for a full second.
    assert!(
        started.elapsed() >= Duration::from_millis(1000),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn exhausted_retries_surface_rate_limit_headers() {
    let server = MockServer::start().await;
    Mock::given(path("/x"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("retry-after", "0")
                .insert_header("x-ratelimit-limit", "100")
                .insert_header("x-ratelimit-remaining", "0")
                .insert_header("x-ratelimit-reset", "1767225600")
                .set_body_json(json!({"message": "Too many requests"})),
        )
        .mount(&server)
        .await;
    let client = builder(&server).build().unwrap();
    let err = client.send(client.get("x").unwrap()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RateLimited);
    assert!(err.is_retryable());
    let api = err.as_api().unwrap();
    assert_eq!(api.attempts, 3);
    assert_eq!(api.rate_limit.limit, Some(100));
    assert_eq!(api.rate_limit.remaining, Some(0));
    assert_eq!(api.rate_limit.reset.as_deref(), Some("1767225600"));
    assert_eq!(api.rate_limit.retry_after, Some(Duration::ZERO));
    assert_eq!(requests_to(&server, "/x").await, 3);
}

#[tokio::test]
async fn post_is_not_repeated_unless_marked_safe() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    let client = builder(&server).build().unwrap();
    let req = client
        .post("create")
        .unwrap()
        .json(&json!({"a": 1}))
        .unwrap();
    let err = client.send(req).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unavailable);
    assert_eq!(
        requests_to(&server, "/create").await,
        1,
        "an unsafe POST is sent once"
    );

    let req = client
        .post("upsert")
        .unwrap()
        .json(&json!({"a": 1}))
        .unwrap()
        .retry_safe(true);
    client.send(req).await.unwrap_err();
    assert_eq!(
        requests_to(&server, "/upsert").await,
        3,
        "a POST marked safe is retried"
    );
}

#[tokio::test]
async fn retries_can_be_disabled_and_budget_limits_waiting() {
    let server = MockServer::start().await;
    Mock::given(path("/x"))
        .respond_with(ResponseTemplate::new(503).insert_header("retry-after", "5"))
        .mount(&server)
        .await;
    let client = builder(&server)
        .retry(RetryConfig::disabled())
        .build()
        .unwrap();
    client.send(client.get("x").unwrap()).await.unwrap_err();
    assert_eq!(requests_to(&server, "/x").await, 1);

    // A 5 s Retry-After does not fit a 1 s waiting budget: give up at once.
    let client = builder(&server)
        .retry(RetryConfig::default().max_total_delay(Duration::from_secs(1)))
        .build()
        .unwrap();
    let started = Instant::now();
    client.send(client.get("x").unwrap()).await.unwrap_err();
    assert_eq!(requests_to(&server, "/x").await, 2);
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn attempt_timeout_is_retried_then_reported() {
    let server = MockServer::start().await;
    Mock::given(path("/slow"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(3)))
        .mount(&server)
        .await;
    fallback(&server).await;
    let client = builder(&server)
        .timeouts(TimeoutConfig::new().attempt(Duration::from_millis(200)))
        .build()
        .unwrap();
    let err = client.send(client.get("slow").unwrap()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert!(matches!(
        err,
        accesslink_core::Error::Timeout {
            phase: TimeoutPhase::Attempt,
            ..
        }
    ));
    assert_eq!(requests_to(&server, "/slow").await, 3);
}

#[tokio::test]
async fn total_timeout_bounds_the_whole_operation() {
    let server = MockServer::start().await;
    Mock::given(path("/slow"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(3)))
        .mount(&server)
        .await;
    let client = builder(&server)
        .timeouts(
            TimeoutConfig::new()
                .attempt(Duration::from_secs(2))
                .total(Duration::from_millis(300)),
        )
        .build()
        .unwrap();
    let err = client.send(client.get("slow").unwrap()).await.unwrap_err();
    assert!(
        matches!(
            err,
            accesslink_core::Error::Timeout {
                phase: TimeoutPhase::Total,
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn connection_refused_is_unavailable_after_retries() {
    // Bind and drop a listener to get a port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let client =
        accesslink_core::http::HttpClient::builder("t", format!("http://127.0.0.1:{port}/"))
            .retry(RetryConfig::default().initial_backoff(Duration::from_millis(5)))
            .build()
            .unwrap();
    let err = client.send(client.post("x").unwrap()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unavailable);
    assert!(err.is_retryable());
    assert!(
        matches!(err, accesslink_core::Error::Transport { .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn rate_limiter_spaces_requests() {
    let server = MockServer::start().await;
    Mock::given(path("/x"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
        .mount(&server)
        .await;
    let five = NonZeroU32::new(5).unwrap();
    let client = builder(&server)
        .rate_limit(Some(
            RateLimitConfig::per_second(five).burst(NonZeroU32::MIN),
        ))
        .build()
        .unwrap();
    let started = Instant::now();
    for _ in 0..6 {
        client.send(client.get("x").unwrap()).await.unwrap();
    }
    // Five requests after the first one need at least 5 × 200 ms of quota.
    assert!(
        started.elapsed() >= Duration::from_millis(950),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(requests_to(&server, "/x").await, 6);
}
