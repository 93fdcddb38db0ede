//! Throttling, rejected tokens, broken bodies, 5xx and timeouts: clear errors, nothing
//! lost, no write made twice.

use std::collections::HashSet;
use std::num::NonZeroU32;
use std::time::Duration;

use accesslink_core::http::TimeoutConfig;
use accesslink_core::paging::{PagingOptions, accounts};
use accesslink_core::{AccountSpec, CreateOutcome, ErrorKind, PageRequest, Provisioner};
use accesslink_opsramp::RateLimit;
use accesslink_testkit::fault::{Fault, FaultMatcher};
use accesslink_testkit::opsramp::{OpsRampMock, RateLimits};
use accesslink_testkit::proxy::ProxyFault;
use futures::TryStreamExt;

use crate::{client, connector, mock, on};

fn nz(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).unwrap()
}

#[tokio::test]
async fn bursts_of_429_wait_for_the_reset_and_lose_nothing() {
    // Ten paginated GETs and five writes per second on the server, none on the client.
    let limits = RateLimits {
        paged_get: 10,
        get: 100,
        write: 5,
        window: Duration::from_secs(1),
    };
    let mock = OpsRampMock::builder()
        .generated_users(2_500)
        .rate_limits(limits)
        .start()
        .await;
    let opsramp = connector(&mock);
    let all: Vec<_> = accounts(&opsramp, PagingOptions::new().page_size(100))
        .try_collect()
        .await
        .unwrap();
    let ids: HashSet<_> = all.iter().map(|a| a.id.clone()).collect();
    assert_eq!((all.len(), ids.len()), (2_500, 2_500));
    assert!(mock.throttled() > 0, "the burst was throttled");
    // Twelve creates against five writes a second: throttled POSTs are repeated, and
    // each user exists once.
    for i in 0..12 {
        let login = format!("burst.user{i}");
        let spec = AccountSpec::new(&login)
            .name("Burst", "User")
            .email(format!("{login}@example.test"));
        let out = opsramp.create_account(&spec).await.unwrap();
        assert!(matches!(out, CreateOutcome::Created(_)), "{login}: {out:?}");
        assert_eq!(mock.users_with_login(&login), 1);
    }
}

#[tokio::test]
async fn the_client_side_limit_keeps_the_server_from_throttling() {
    let window = Duration::from_millis(500);
    let mock = OpsRampMock::builder()
        .generated_users(600)
        .rate_limits(RateLimits {
            paged_get: 4,
            get: 100,
            write: 4,
            window,
        })
        .start()
        .await;
    let opsramp = on(client(&mock)
        .rate_limit(Some(RateLimit::new(nz(4), nz(100), nz(4)).per(window)))
        .build()
        .unwrap());
    let all: Vec<_> = accounts(&opsramp, PagingOptions::new().page_size(100))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(all.len(), 600);
    assert_eq!(mock.throttled(), 0, "paced below the server's limit");
}

/// Waiting for a slot of the client-side limit is not part of a request's time: a
/// queue of callers sharing one client (an import with many tasks) must not time out
/// in the queue before their request was even sent.
#[tokio::test]
async fn waiting_for_the_client_side_limit_does_not_count_against_the_timeout() {
    let mock = mock(50).await;
    // One request per class every 400 ms; every operation may take 600 ms in all.
    let window = Duration::from_millis(400);
    let opsramp = on(client(&mock)
        .rate_limit(Some(RateLimit::new(nz(1), nz(1), nz(1)).per(window)))
        .http(crate::quick().timeouts(TimeoutConfig::new().total(Duration::from_millis(600))))
        .build()
        .unwrap());
    // Five callers at once: the last waits four windows (1.6 s) for its slot.
    let calls = (0..5).map(|i| {
        let opsramp = opsramp.clone();
        async move {
            let page = PageRequest::first().size(10);
            let page = if i == 0 {
                page
            } else {
                PageRequest::at(Some(accesslink_core::PageToken::new(format!(
                    "users:{}:10",
                    i + 1
                ))))
            };
            opsramp.list_accounts(page).await
        }
    });
    let results = futures::future::join_all(calls).await;
    for r in &results {
        assert!(r.is_ok(), "{:?}", r.as_ref().err());
    }
    let ids: HashSet<_> = results
        .into_iter()
        .flat_map(|r| r.unwrap().items)
        .map(|a| a.id)
        .collect();
    assert_eq!(ids.len(), 50, "five distinct pages of ten");
    assert_eq!(mock.count("users/search"), 5, "each page asked once");
}

/// OpsRamp sometimes answers 400 for a moment right after issuing a token (fact sheet
/// §1.3; python-opsramp retries it): a read is asked once more, a write is not.
#[tokio::test]
async fn a_transient_400_on_a_read_is_asked_once_more_but_not_on_a_write() {
    let mock = mock(30).await;
    let opsramp = connector(&mock);
    let bad = || Fault::Status {
        status: 400,
        body: Some(r#"{"code":"0400","message":"Unable to authenticate"}"#.into()),
    };
    mock.faults()
        .push_for(FaultMatcher::route("GET", "/users/search"), bad(), 1);
    let page = opsramp
        .list_accounts(PageRequest::first().size(10))
        .await
        .unwrap();
    assert_eq!(page.items.len(), 10);
    assert_eq!(mock.count("users/search"), 2, "asked once more");
    // Twice in a row is a real 400.
    mock.faults()
        .push_for(FaultMatcher::route("GET", "/users/search"), bad(), 2);
    let e = opsramp
        .list_accounts(PageRequest::first().size(10))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert_eq!(mock.count("users/search"), 4);
    // A write is never repeated on a 400.
    mock.faults()
        .push_for(FaultMatcher::route("POST", "/DEACTIVATE"), bad(), 1);
    let e = opsramp
        .set_enabled(&"USR0000000003".into(), false)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert_eq!(mock.counter().count("POST", "users/{id}/{action}"), 1);
}

#[tokio::test]
async fn a_407_renews_the_token_once_then_gives_up() {
    let mock = mock(5).await;
    let opsramp = connector(&mock);
    opsramp.get_account(&"USR0000000001".into()).await.unwrap();
    mock.expire_tokens();
    let got = opsramp.get_account(&"USR0000000002".into()).await.unwrap();
    assert_eq!(got.unwrap().id.as_str(), "USR0000000002");
    assert_eq!((mock.token_requests(), mock.auth_rejections()), (2, 1));

    // A server that keeps answering 407: one renewal, then a clear error.
    let body = r#"{"error":"invalid_token","error_description":"Access token expired"}"#;
    mock.faults().push_for(
        FaultMatcher::path("/users/"),
        Fault::Status {
            status: 407,
            body: Some(body.into()),
        },
        2,
    );
    let e = opsramp
        .get_account(&"USR0000000003".into())
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unauthenticated, "{e}");
    assert!(e.to_string().contains("renewed credential"), "{e}");
    assert_eq!(mock.token_requests(), 3, "exactly one renewal for the 407s");
}

#[tokio::test]
async fn truncated_and_empty_bodies_are_protocol_errors() {
    let mock = mock(50).await;
    let opsramp = connector(&mock);
    let page = || opsramp.list_accounts(PageRequest::first());
    // An HTML answer is the conformance suite's `html_is_a_protocol_error`.
    mock.faults()
        .push_for(FaultMatcher::path("users/search"), Fault::TruncatedJson, 1);
    assert_eq!(page().await.unwrap_err().kind(), ErrorKind::Protocol);
    mock.faults()
        .push_for(FaultMatcher::path("users/search"), Fault::EmptyBody, 1);
    assert_eq!(page().await.unwrap_err().kind(), ErrorKind::Protocol);
    assert_eq!(page().await.unwrap().items.len(), 50, "the next call works");
}

#[tokio::test]
async fn five_hundreds_on_reads_are_retried() {
    let mock = mock(10).await;
    let opsramp = connector(&mock);
    mock.faults().push_for(
        FaultMatcher::path("users/search"),
        Fault::Status {
            status: 503,
            body: None,
        },
        2,
    );
    let page = opsramp.list_accounts(PageRequest::first()).await.unwrap();
    assert_eq!(page.items.len(), 10);
    assert_eq!(mock.count("users/search"), 3);
}

#[tokio::test]
async fn a_create_whose_answer_is_lost_is_not_made_twice() {
    let mock = mock(10).await;
    let opsramp = connector(&mock);
    // 502 after the user was stored? The mock stores nothing on a fault, so the
    // connector's lookup finds nothing and the POST is sent again: one user.
    mock.faults().push_for(
        FaultMatcher::route("POST", "/users"),
        Fault::Status {
            status: 502,
            body: None,
        },
        1,
    );
    let spec = AccountSpec::new("flaky.one")
        .name("Flaky", "One")
        .email("flaky.one@example.test");
    let out = opsramp.create_account(&spec).await.unwrap();
    assert!(matches!(out, CreateOutcome::Created(_)));
    assert_eq!(mock.users_with_login("flaky.one"), 1);
    assert_eq!(mock.counter().count("POST", "users"), 2);

    // The answer comes too late: the user was created, the client timed out. The
    // lookup finds it, and no second POST is sent.
    let slow = on(client(&mock)
        .http(crate::quick().timeouts(TimeoutConfig::new().attempt(Duration::from_millis(300))))
        .build()
        .unwrap());
    mock.faults().push_for(
        FaultMatcher::route("POST", "/users"),
        Fault::Delay(Duration::from_secs(1)),
        1,
    );
    let spec = AccountSpec::new("slow.one")
        .name("Slow", "One")
        .email("slow.one@example.test");
    let out = slow.create_account(&spec).await.unwrap();
    assert!(
        matches!(out, CreateOutcome::Created(ref a) if a.login == "slow.one"),
        "{out:?}"
    );
    assert_eq!(mock.users_with_login("slow.one"), 1);
    assert_eq!(
        mock.counter().count("POST", "users"),
        3,
        "one POST for slow.one"
    );
}

/// The answer of a create is late, the lookup after it does not see the user yet (a
/// search lagging the write), and the repeat is refused "already exists": the user is the
/// one this call made — `Created`, not `AlreadyExists` — and there is one.
#[tokio::test]
async fn a_late_create_that_the_repeat_finds_taken_is_created() {
    let mock = mock(3).await;
    let slow = on(client(&mock)
        .http(crate::quick().timeouts(TimeoutConfig::new().attempt(Duration::from_millis(300))))
        .build()
        .unwrap());
    mock.faults().push_for(
        FaultMatcher::route("POST", "/users"),
        Fault::Delay(Duration::from_secs(1)),
        1,
    );
    // The lookup before the POST and the one after the timeout find nothing.
    let empty = r#"{"results":[],"totalResults":0,"pageNo":1,"pageSize":100,"totalPages":0,"nextPage":false}"#;
    mock.faults().push_for(
        FaultMatcher::route("GET", "/users/search"),
        Fault::Status {
            status: 200,
            body: Some(empty.into()),
        },
        2,
    );
    let spec = AccountSpec::new("late.one")
        .name("Late", "One")
        .email("late.one@example.test");
    let out = slow.create_account(&spec).await.unwrap();
    assert_eq!(
        mock.counter().count("POST", "users"),
        2,
        "the repeat was refused"
    );
    assert_eq!(mock.users_with_login("late.one"), 1, "no twin");
    assert!(
        matches!(out, CreateOutcome::Created(ref a) if a.login == "late.one"),
        "{out:?}"
    );
}

#[tokio::test]
async fn dropped_connections_lose_no_page_and_duplicate_no_write() {
    let mock = OpsRampMock::builder()
        .generated_users(300)
        .rate_limits(RateLimits::unlimited())
        .with_proxy(true)
        .start()
        .await;
    let proxy = mock.proxy().unwrap();
    let opsramp = connector(&mock);
    // The proxy forwards the request, then drops or resets the client's connection.
    proxy.push_for("GET", "/users/search", ProxyFault::Reset, 1);
    let all: Vec<_> = accounts(&opsramp, PagingOptions::new().page_size(100))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(all.len(), 300);
    proxy.push_for("POST", "/users", ProxyFault::Drop, 1);
    let spec = AccountSpec::new("dropped.one")
        .name("Dropped", "One")
        .email("dropped.one@example.test");
    let out = opsramp.create_account(&spec).await.unwrap();
    assert!(matches!(out, CreateOutcome::Created(_)), "{out:?}");
    assert_eq!(mock.users_with_login("dropped.one"), 1);
    assert_eq!(
        mock.counter().count("POST", "users"),
        1,
        "the lost answer was not re-sent"
    );
    let id = out.account().id.clone();
    let group = mock.group_id("Ops").unwrap();
    proxy.push_for("POST", "/users", ProxyFault::Drop, 1);
    let granted = opsramp
        .grant(
            &id,
            &accesslink_opsramp::OpsRampConnector::group_entitlement(&group),
        )
        .await
        .unwrap();
    assert_eq!(granted, accesslink_core::GrantOutcome::Granted);
    assert_eq!(mock.user_groups(id.as_str()), vec![group]);
    assert_eq!(proxy.applied(), 3);
}

#[tokio::test]
async fn test_connection_fetches_a_token_and_reads_one_role() {
    let mock = mock(0).await;
    let opsramp = connector(&mock);
    let report = accesslink_core::Connector::test_connection(&opsramp)
        .await
        .unwrap();
    assert_eq!(report.principal.as_deref(), Some("tenant client_7"));
    assert_eq!((mock.token_requests(), mock.count("roles/search")), (1, 1));
}
