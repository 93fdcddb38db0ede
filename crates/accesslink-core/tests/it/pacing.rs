//! The client-side pacing hook: when a `Pacer` is awaited, which attempts it sees, and
//! that its queue does not count against the request's total timeout.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use accesslink_core::auth::{AuthProvider, AuthStamp};
use accesslink_core::http::{Pacer, Request, TimeoutConfig};
use accesslink_core::{Result, async_trait};
use http::{HeaderValue, Method, header::AUTHORIZATION};
use serde_json::json;
use tokio::time::Instant;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::{builder, fallback};

/// Admits one request per `period`, in the order they asked: the n-th caller waits
/// (n-1) periods.
#[derive(Debug)]
struct OnePer {
    period: Duration,
    next: Mutex<Option<Instant>>,
    calls: AtomicU64,
}

impl OnePer {
    fn new(period: Duration) -> Self {
        OnePer {
            period,
            next: Mutex::new(None),
            calls: AtomicU64::new(0),
        }
    }
}

#[async_trait]
impl Pacer for OnePer {
    async fn until_ready(&self, _method: &Method, _path: &str) {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let slot = {
            let mut next = self.next.lock().unwrap();
            let now = Instant::now();
            let slot = next.map_or(now, |n| n.max(now));
            *next = Some(slot + self.period);
            slot
        };
        tokio::time::sleep_until(slot).await;
    }
}

/// Records every call.
#[derive(Debug, Default)]
struct Recorder {
    calls: Mutex<Vec<(Method, String)>>,
}

impl Recorder {
    fn calls(&self) -> Vec<(Method, String)> {
        self.calls.lock().unwrap().clone()
    }
}

#[async_trait]
impl Pacer for Recorder {
    async fn until_ready(&self, method: &Method, path: &str) {
        self.calls
            .lock()
            .unwrap()
            .push((method.clone(), path.to_owned()));
    }
}

#[tokio::test]
async fn the_queue_for_the_pacer_is_not_part_of_the_total_timeout() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/x"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ok": true})))
        .expect(3)
        .mount(&server)
        .await;
    fallback(&server).await;
    let pacer = Arc::new(OnePer::new(Duration::from_millis(300)));
    // Each request may take 200 ms once sent; the third caller's slot is 600 ms away.
    let client = builder(&server)
        .timeouts(TimeoutConfig::new().total(Duration::from_millis(200)))
        .pacer(pacer.clone())
        .build()
        .unwrap();
    let calls = (0..3).map(|_| {
        let client = client.clone();
        async move { client.send(client.get("x").unwrap()).await }
    });
    for r in futures::future::join_all(calls).await {
        let r = r.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.attempts(), 1);
    }
    assert_eq!(
        pacer.calls.load(Ordering::SeqCst),
        3,
        "one slot per request"
    );
    assert_eq!(server.received_requests().await.unwrap().len(), 3);
}

#[tokio::test]
async fn a_custom_pacer_sees_every_attempt_with_method_and_path() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/x"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .with_priority(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/x"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path("/api/y"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    fallback(&server).await;
    let pacer = Arc::new(Recorder::default());
    let client = builder(&server).pacer(pacer.clone()).build().unwrap();
    let r = client.send(client.get("api/x?q=1").unwrap()).await.unwrap();
    assert_eq!(r.attempts(), 2, "the 503 was retried");
    let get = (Method::GET, "/api/x".to_owned());
    assert_eq!(
        pacer.calls(),
        [get.clone(), get.clone()],
        "first try and retry"
    );
    // A `with_auth` copy shares the pacer.
    let other = client.with_auth(Arc::new(accesslink_core::auth::NoAuth));
    other.send(other.put("api/y").unwrap()).await.unwrap();
    assert_eq!(
        pacer.calls(),
        [get.clone(), get, (Method::PUT, "/api/y".to_owned())]
    );
    assert_eq!(server.received_requests().await.unwrap().len(), 3);
}

/// Hands out `Bearer 1`, then `Bearer 2` once the first was rejected.
#[derive(Debug, Default)]
struct Renewing {
    generation: AtomicU64,
}

#[async_trait]
impl AuthProvider for Renewing {
    async fn authorize(&self, request: &mut Request) -> Result<AuthStamp> {
        let g = self.generation.load(Ordering::SeqCst) + 1;
        let value = HeaderValue::from_str(&format!("Bearer {g}")).unwrap();
        request.headers_mut().insert(AUTHORIZATION, value);
        Ok(AuthStamp(g))
    }

    fn invalidate(&self, stamp: AuthStamp) {
        let _ = self.generation.compare_exchange(
            stamp.0 - 1,
            stamp.0,
            Ordering::SeqCst,
            Ordering::SeqCst,
        );
    }

    fn renewable(&self) -> bool {
        true
    }

    fn redact(&self, _text: &mut String) {}
}

#[tokio::test]
async fn the_repeat_after_a_renewed_credential_is_paced_too() {
    let server = MockServer::start().await;
    Mock::given(path("/x"))
        .and(header("authorization", "Bearer 1"))
        .respond_with(ResponseTemplate::new(401))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/x"))
        .and(header("authorization", "Bearer 2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
        .expect(1)
        .mount(&server)
        .await;
    fallback(&server).await;
    let pacer = Arc::new(Recorder::default());
    let client = builder(&server)
        .auth(Arc::new(Renewing::default()))
        .pacer(pacer.clone())
        .build()
        .unwrap();
    let r = client.send(client.get("x").unwrap()).await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        pacer.calls().len(),
        2,
        "every request the server saw was paced"
    );
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn rate_limit_none_after_a_pacer_turns_pacing_off() {
    let server = MockServer::start().await;
    Mock::given(path("/x"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
        .expect(1)
        .mount(&server)
        .await;
    let pacer = Arc::new(Recorder::default());
    let client = builder(&server)
        .pacer(pacer.clone())
        .rate_limit(None)
        .build()
        .unwrap();
    client.send(client.get("x").unwrap()).await.unwrap();
    assert!(pacer.calls().is_empty(), "{:?}", pacer.calls());
}
