//! One retry budget per request: a throttled request waits for `X-RateLimit-Reset`
//! inside core's retry loop, and is sent at most `max_attempts` times in all (before,
//! a second loop around the client could send one GET 18 times).

use std::time::Duration;

use accesslink_core::http::{HttpSettings, RetryConfig};
use accesslink_core::{ErrorKind, Provisioner};
use accesslink_testkit::opsramp::{OpsRampMock, RateLimits};

use crate::{client, on};

/// A mock that allows one plain GET a minute, and a connector with `max_attempts`
/// attempts whose waits are capped at 20 ms (the reset is up to a minute away).
async fn one_get_a_minute(
    max_attempts: u32,
) -> (OpsRampMock, accesslink_opsramp::OpsRampConnector) {
    let mock = OpsRampMock::builder()
        .generated_users(3)
        .rate_limits(RateLimits {
            paged_get: 100,
            get: 1,
            write: 100,
            window: Duration::from_secs(60),
        })
        .start()
        .await;
    let retry = RetryConfig::default()
        .max_attempts(max_attempts)
        .initial_backoff(Duration::from_millis(5))
        .max_backoff(Duration::from_millis(20));
    let opsramp = on(client(&mock)
        .http(HttpSettings::new().retry(retry))
        .build()
        .unwrap());
    (mock, opsramp)
}

/// How many `GET users/{id}` the server received (throttled ones included).
async fn user_gets(mock: &OpsRampMock) -> usize {
    mock.received()
        .await
        .iter()
        .filter(|r| r.method.as_str() == "GET" && r.url.path().contains("/users/USR"))
        .count()
}

#[tokio::test]
async fn a_throttled_get_is_sent_at_most_max_attempts_times_in_all() {
    for max_attempts in [1, 3, 4] {
        let (mock, opsramp) = one_get_a_minute(max_attempts).await;
        opsramp
            .get_account(&"USR0000000001".into())
            .await
            .unwrap()
            .expect("the first GET is in the budget");
        assert_eq!(user_gets(&mock).await, 1);
        let e = opsramp
            .get_account(&"USR0000000002".into())
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::RateLimited, "{e}");
        assert_eq!(
            user_gets(&mock).await,
            1 + max_attempts as usize,
            "max_attempts {max_attempts}: one budget, not one per layer"
        );
        assert_eq!(mock.throttled(), max_attempts as usize);
        let api = e.as_api().expect("the server's answer");
        assert_eq!(api.attempts, max_attempts);
        assert!(api.rate_limit.reset.is_some(), "the reset header was read");
    }
}

#[tokio::test]
async fn a_throttled_get_waits_for_the_reset_and_then_succeeds() {
    // A one-second window: the reset is at most a second away, under the default cap.
    let mock = OpsRampMock::builder()
        .generated_users(3)
        .rate_limits(RateLimits {
            paged_get: 100,
            get: 1,
            write: 100,
            window: Duration::from_secs(1),
        })
        .start()
        .await;
    let opsramp = crate::connector(&mock);
    opsramp.get_account(&"USR0000000001".into()).await.unwrap();
    let got = opsramp
        .get_account(&"USR0000000002".into())
        .await
        .unwrap()
        .expect("found once the window reset");
    assert_eq!(got.id.as_str(), "USR0000000002");
    // Waiting for the reset (not a 2.5–5 ms back-off) means one throttled answer, at
    // most two if the first wait ended right at the boundary.
    let throttled = mock.throttled();
    assert!(
        (1..=2).contains(&throttled),
        "{throttled} throttled answers"
    );
    assert_eq!(user_gets(&mock).await, 2 + throttled);
}

/// The once-more of a read answered 400 (fact sheet §1.3) stays within the request's
/// budget: it happens only when attempts are left, and is a single send.
#[tokio::test]
async fn the_repeat_of_a_read_answered_400_is_inside_the_budget() {
    use accesslink_core::PageRequest;
    use accesslink_testkit::fault::{Fault, FaultMatcher};

    let bad = || Fault::Status {
        status: 400,
        body: Some(r#"{"code":"0400","message":"Unable to authenticate"}"#.into()),
    };
    let unavailable = || Fault::Status {
        status: 503,
        body: None,
    };
    let with = |max_attempts: u32, mock: &OpsRampMock| {
        let retry = RetryConfig::default()
            .max_attempts(max_attempts)
            .initial_backoff(Duration::from_millis(2));
        on(client(mock)
            .http(HttpSettings::new().retry(retry))
            .build()
            .unwrap())
    };
    let search = || FaultMatcher::route("GET", "/users/search");

    // One attempt in all: the 400 is final.
    let mock = crate::mock(10).await;
    mock.faults().push_for(search(), bad(), 1);
    let e = with(1, &mock)
        .list_accounts(PageRequest::first().size(5))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert_eq!(mock.count("users/search"), 1);

    // Two attempts, the first a 503 retried by core, the second a 400: nothing left.
    let mock = crate::mock(10).await;
    mock.faults().push_for(search(), unavailable(), 1);
    mock.faults().push_for(search(), bad(), 1);
    let e = with(2, &mock)
        .list_accounts(PageRequest::first().size(5))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert_eq!(mock.count("users/search"), 2);

    // Three: 503, 400, then the once-more, which succeeds; three sends in all.
    let mock = crate::mock(10).await;
    mock.faults().push_for(search(), unavailable(), 1);
    mock.faults().push_for(search(), bad(), 1);
    let page = with(3, &mock)
        .list_accounts(PageRequest::first().size(5))
        .await
        .unwrap();
    assert_eq!(page.items.len(), 5);
    assert_eq!(mock.count("users/search"), 3);

    // The once-more is not retried itself: a 503 on it is the answer.
    let mock = crate::mock(10).await;
    mock.faults().push_for(search(), bad(), 1);
    mock.faults().push_for(search(), unavailable(), 1);
    let e = with(3, &mock)
        .list_accounts(PageRequest::first().size(5))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unavailable);
    assert_eq!(mock.count("users/search"), 2);
}

/// The metrics hook sees the one budget: retries and rate-limit waits of a throttled
/// GET, one request in all.
#[tokio::test]
async fn metrics_count_the_retries_of_a_throttled_get() {
    use accesslink_core::http::HttpCounters;

    let (mock, _) = one_get_a_minute(3).await;
    let counters = HttpCounters::new();
    let retry = RetryConfig::default()
        .max_attempts(3)
        .initial_backoff(Duration::from_millis(5))
        .max_backoff(Duration::from_millis(20));
    let opsramp = on(client(&mock)
        .http(HttpSettings::new().retry(retry))
        .metrics(counters.clone())
        .build()
        .unwrap());
    opsramp.get_account(&"USR0000000001".into()).await.unwrap();
    opsramp
        .get_account(&"USR0000000002".into())
        .await
        .unwrap_err();
    let s = counters.snapshot();
    assert_eq!((s.requests, s.failed), (2, 1));
    assert_eq!(s.retries, 2, "attempts 2 and 3 of the throttled GET");
    assert_eq!(s.rate_limit_waits, 2);
    assert_eq!(user_gets(&mock).await, 4);
}
