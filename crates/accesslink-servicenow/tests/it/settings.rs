//! `ServiceNowSettings` end to end: the settings JSON the testkit convention uses, status
//! map overrides through `get_ticket`, and ServiceNow's `X-RateLimit-Reset` in core's
//! retry classifier.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

use accesslink_core::http::HttpCounters;
use accesslink_core::{Connector, ErrorKind, TicketState, TicketingSystem};
use accesslink_servicenow::{ServiceNowConnector, ServiceNowSettings};
use accesslink_testkit::servicenow::ServiceNowMock;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::scripted::{USER, fallback, result, sn_error};

fn settings(v: Value) -> ServiceNowSettings {
    serde_json::from_value(v).unwrap()
}

/// Quick retries, as JSON: the `http` key of the settings.
fn quick_http() -> Value {
    json!({ "retry": { "initial_backoff": "2ms", "max_backoff": "20ms" } })
}

#[tokio::test]
async fn the_convention_settings_connect_with_basic_and_oauth() {
    let mock = ServiceNowMock::builder().start().await;
    let o = mock.oauth();
    let basic = ServiceNowConnector::from_settings(settings(json!({
        "name": "servicenow-mock",
        "base_url": mock.url(),
        "auth": { "method": "basic", "user": mock.user(), "password": mock.password() },
        "http": quick_http(),
    })))
    .unwrap();
    let report = basic.test_connection().await.unwrap();
    assert_eq!(report.principal.as_deref(), Some(mock.user()));
    assert_eq!(basic.info().instance, "servicenow-mock");
    assert_eq!(mock.count("POST", "/oauth_token.do"), 0);

    let oauth = ServiceNowConnector::from_settings(settings(json!({
        "name": "servicenow-mock-oauth",
        "base_url": mock.url(),
        "auth": {
            "method": "oauth_password",
            "client_id": o.client_id(),
            "client_secret": o.client_secret(),
            "user": mock.user(),
            "password": mock.password(),
            "token_url": format!("{}/oauth_token.do", mock.url().trim_end_matches('/')),
        },
        "http": quick_http(),
    })))
    .unwrap();
    let report = oauth.test_connection().await.unwrap();
    assert_eq!(report.principal.as_deref(), Some(mock.user()));
    assert_eq!(
        mock.count("POST", "/oauth_token.do"),
        1,
        "one password grant"
    );
    let table: Vec<_> = crate::mock::table_requests(&mock);
    let schemes: Vec<_> = table.iter().map(|q| q.authorization.as_deref()).collect();
    assert_eq!(schemes, [Some("Basic"), Some("Bearer")], "{table:?}");
}

#[tokio::test]
async fn a_status_map_override_turns_a_custom_state_into_the_configured_one() {
    let mock = ServiceNowMock::builder().start().await;
    // State 9 is no incident state of the base system: a customer's own.
    let id = mock.insert(
        "incident",
        json!({ "short_description": "awaiting vendor", "state": "9" }),
    );
    let number = mock.row("incident", &id).unwrap()["number"]
        .as_str()
        .unwrap()
        .to_owned();
    let base = json!({
        "base_url": mock.url(),
        "auth": { "method": "basic", "user": mock.user(), "password": mock.password() },
    });
    let plain = ServiceNowConnector::from_settings(settings(base.clone())).unwrap();
    let r = plain.parse_ticket_ref(&number).unwrap();
    let t = plain.get_ticket(&r).await.unwrap().unwrap();
    assert_eq!(
        (t.status.state, t.status.raw.as_str()),
        (TicketState::Unknown, "9")
    );

    let mut custom = base;
    custom["status_map"] = json!({ "states": { "incident:9": "on_hold" } });
    let sn = ServiceNowConnector::from_settings(settings(custom)).unwrap();
    let t = sn.get_ticket(&r).await.unwrap().unwrap();
    assert_eq!(
        (t.status.state, t.status.raw.as_str()),
        (TicketState::OnHold, "9")
    );
    // Only the incident family: a task-family row with state 9 stays unknown.
    assert_eq!(
        sn.status_map().get_state("task:9"),
        None,
        "the override is keyed to incidents"
    );
    // Both reads went to the incident table by number.
    let reads: Vec<_> = crate::mock::table_requests(&mock)
        .into_iter()
        .filter(|q| q.method == "GET")
        .collect();
    assert_eq!(reads.len(), 2, "{reads:?}");
    for q in &reads {
        assert!(q.path.ends_with("/api/now/table/incident"), "{q:?}");
        assert!(
            q.param("sysparm_query")
                .is_some_and(|v| v.contains(&format!("number={number}"))),
            "{q:?}"
        );
    }
}

/// 429 with only `X-RateLimit-Reset` (a Unix time two seconds ahead) for the first
/// `throttled` requests, then an empty result.
struct Throttled {
    seen: Arc<AtomicUsize>,
    throttled: usize,
}

impl Respond for Throttled {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        if self.seen.fetch_add(1, Ordering::SeqCst) < self.throttled {
            let reset = SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .unwrap()
                .as_secs()
                + 2;
            sn_error(429, "Rate limit exceeded", None)
                .insert_header("x-ratelimit-limit", "100")
                .insert_header("x-ratelimit-reset", reset.to_string())
        } else {
            result(200, json!([]))
        }
    }
}

async fn throttling_server(throttled: usize) -> (MockServer, Arc<AtomicUsize>) {
    let server = MockServer::start().await;
    let seen = Arc::new(AtomicUsize::new(0));
    Mock::given(method("GET"))
        .and(path("/api/now/table/incident"))
        .respond_with(Throttled {
            seen: seen.clone(),
            throttled,
        })
        .mount(&server)
        .await;
    fallback(&server).await;
    (server, seen)
}

fn throttled_connector(server: &MockServer, counters: &Arc<HttpCounters>) -> ServiceNowConnector {
    let client = accesslink_servicenow::ServiceNowClient::builder(server.uri())
        .instance("prod-it")
        .basic(USER, secrecy::SecretString::from("p"))
        .http(
            accesslink_core::http::HttpSettings::new().retry(
                accesslink_core::http::RetryConfig::default()
                    .max_attempts(2)
                    .initial_backoff(Duration::from_millis(1))
                    .max_backoff(Duration::from_secs(5)),
            ),
        )
        .metrics(counters.clone())
        .build()
        .unwrap();
    ServiceNowConnector::new(client, accesslink_servicenow::ServiceNowConfig::new()).unwrap()
}

#[tokio::test]
async fn a_429_with_only_x_ratelimit_reset_waits_until_the_reset_and_retries_once() {
    let (server, seen) = throttling_server(1).await;
    let counters = HttpCounters::new();
    let sn = throttled_connector(&server, &counters);
    let r = sn.parse_ticket_ref("INC0010001").unwrap();
    assert!(sn.get_ticket(&r).await.unwrap().is_none());
    assert_eq!(seen.load(Ordering::SeqCst), 2, "one retry");
    let received = server.received_requests().await.unwrap();
    assert!(
        received
            .iter()
            .all(|q| q.url.path() == "/api/now/table/incident")
    );
    let c = counters.snapshot();
    assert_eq!(
        (c.requests, c.retries, c.rate_limit_waits),
        (1, 1, 1),
        "{c:?}"
    );
    // The wait came from the reset header (1-2 s ahead), not the 1 ms back-off.
    assert!(
        c.rate_limit_wait > Duration::from_millis(500)
            && c.rate_limit_wait <= Duration::from_secs(2),
        "{c:?}"
    );
}

#[tokio::test]
async fn reset_waits_share_the_requests_one_budget() {
    let (server, seen) = throttling_server(usize::MAX).await;
    let counters = HttpCounters::new();
    let sn = throttled_connector(&server, &counters);
    let r = sn.parse_ticket_ref("INC0010001").unwrap();
    let e = sn.get_ticket(&r).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::RateLimited, "{e}");
    assert!(e.to_string().contains("servicenow (prod-it)"), "{e}");
    assert_eq!(
        seen.load(Ordering::SeqCst),
        2,
        "max_attempts = 2, one budget"
    );
    let c = counters.snapshot();
    assert_eq!(
        (c.requests, c.retries, c.rate_limit_waits),
        (1, 1, 1),
        "{c:?}"
    );
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

/// Issue 15 item 14: a base URL with a query or fragment is refused before any request,
/// as Config, without echoing the value.
#[tokio::test]
async fn a_base_url_with_a_query_or_fragment_is_refused_without_echo() {
    const CANARY: &str = "CANARY-servicenow-url-2b8";
    let server = MockServer::start().await;
    for base in [
        format!("{}/?token={CANARY}", server.uri()),
        format!("{}/#{CANARY}", server.uri()),
    ] {
        let s = settings(json!({
            "base_url": base,
            "auth": { "method": "basic", "user": "svc", "password": "pw-123456" },
        }));
        let shown = format!("{s:?}");
        assert!(!shown.contains(CANARY), "{shown}");
        let e = ServiceNowConnector::from_settings(s).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Config, "{e}");
        let printed = format!("{e}\n{e:?}");
        assert!(!printed.contains(CANARY), "{printed}");
    }
    assert!(server.received_requests().await.unwrap().is_empty());
}
