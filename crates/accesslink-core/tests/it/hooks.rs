//! The client's hooks over HTTP: a vendor reset header in the classifier, metrics, the
//! instance name in errors, and settings applied by `HttpClientBuilder::settings`.

use std::sync::Arc;
use std::time::Duration;

use accesslink_core::ErrorKind;
use accesslink_core::http::{HttpCounters, HttpSettings, ResetFormat, ResetHeader, RetryConfig};
use http::HeaderName;
use serde_json::json;
use wiremock::matchers::path;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::{builder, fallback};

fn reset_header() -> Arc<ResetHeader> {
    Arc::new(ResetHeader::new(
        HeaderName::from_static("x-ratelimit-reset"),
        ResetFormat::SecondsFromNow,
    ))
}

#[tokio::test]
async fn a_vendor_reset_header_is_waited_for_within_one_budget() {
    let server = MockServer::start().await;
    Mock::given(path("/x"))
        .respond_with(ResponseTemplate::new(429).insert_header("x-ratelimit-reset", "1"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(path("/x"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ok": true})))
        .mount(&server)
        .await;
    let counters = HttpCounters::new();
    let client = builder(&server)
        .retry(
            RetryConfig::default()
                .max_attempts(3)
                // The jittered back-off alone would wait at most 10 ms.
                .initial_backoff(Duration::from_millis(10))
                .max_backoff(Duration::from_secs(5)),
        )
        .retry_classifier(reset_header())
        .metrics(counters.clone())
        .build()
        .unwrap();
    let r = client.send(client.get("x").unwrap()).await.unwrap();
    assert_eq!(r.attempts(), 2);
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
    let s = counters.snapshot();
    assert_eq!(
        (s.requests, s.failed, s.retries, s.rate_limit_waits),
        (1, 0, 1, 1)
    );
    // The wait the header asked for, not the 10 ms back-off.
    assert!(s.rate_limit_wait >= Duration::from_secs(1), "{s:?}");
}

#[tokio::test]
async fn a_throttled_request_is_sent_at_most_max_attempts_times() {
    let server = MockServer::start().await;
    Mock::given(path("/x"))
        .respond_with(ResponseTemplate::new(429).insert_header("x-ratelimit-reset", "0"))
        .mount(&server)
        .await;
    fallback(&server).await;
    let counters = HttpCounters::new();
    let client = builder(&server)
        .instance("tenant-42")
        .retry_classifier(reset_header())
        .metrics(counters.clone())
        .build()
        .unwrap();
    let err = client.send(client.get("x").unwrap()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RateLimited);
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        3,
        "one budget of 3"
    );
    assert!(
        err.to_string().contains("test (tenant-42): GET /x"),
        "{err}"
    );
    let s = counters.snapshot();
    assert_eq!((s.requests, s.failed, s.retries), (1, 1, 2));
}

#[tokio::test]
async fn settings_apply_timeouts_retry_and_user_agent() {
    let server = MockServer::start().await;
    Mock::given(path("/slow"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_millis(400)))
        .mount(&server)
        .await;
    Mock::given(path("/x"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    let settings: HttpSettings = serde_json::from_value(json!({
        "timeouts": { "attempt": "100ms" },
        "retry": { "max_attempts": 2, "initial_backoff": "1ms" },
        "user_agent": "acme-iam/3.1"
    }))
    .unwrap();
    let client = accesslink_core::http::HttpClient::builder("test", server.uri())
        .settings(&settings)
        .unwrap()
        .build()
        .unwrap();
    let err = client.send(client.get("x").unwrap()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unavailable);
    let seen = server.received_requests().await.unwrap();
    assert_eq!(seen.len(), 2, "max_attempts from the settings");
    assert_eq!(seen[0].headers.get("user-agent").unwrap(), "acme-iam/3.1");
    let err = client.send(client.get("slow").unwrap()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
}
