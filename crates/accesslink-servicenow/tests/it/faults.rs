//! Faults: dropped answers to writes, timeouts, 429 bursts, HTML and truncated bodies.
//! Nothing is lost and no write is made twice.

use std::time::Duration;

use accesslink_core::http::{RetryConfig, TimeoutConfig};
use accesslink_core::paging::{PagingOptions, accounts};
use accesslink_core::{
    AccountId, Comment, CorrelationId, ErrorKind, GrantOutcome, NewTicket, Provisioner, TicketKind,
    TicketingSystem,
};
use accesslink_servicenow::{ServiceNowClient, ServiceNowConfig, ServiceNowConnector, group_ref};
use accesslink_testkit::fault::{Fault, FaultMatcher, RetryAfter};
use accesslink_testkit::proxy::FaultProxy;
use accesslink_testkit::servicenow::ServiceNowMock;
use futures::TryStreamExt;
use secrecy::SecretString;
use serde_json::json;

use crate::mock::basic_on;
use crate::scripted::quick_retry;

/// A mock behind its fault proxy, and a connector talking through the proxy.
async fn behind_proxy(timeouts: TimeoutConfig) -> (ServiceNowMock, ServiceNowConnector) {
    let mock = ServiceNowMock::builder().with_proxy(true).start().await;
    let client = ServiceNowClient::builder(mock.url())
        .basic(mock.user(), SecretString::from(mock.password()))
        .http(
            accesslink_core::http::HttpSettings::new()
                .retry(quick_retry())
                .timeouts(timeouts),
        )
        .build()
        .unwrap();
    let sn = ServiceNowConnector::new(client, ServiceNowConfig::new()).unwrap();
    (mock, sn)
}

fn proxy(mock: &ServiceNowMock) -> &FaultProxy {
    mock.proxy().expect("started with a proxy")
}

fn new_ticket(corr: &str) -> NewTicket {
    NewTicket::new(
        TicketKind::Incident,
        "Grant X",
        "please",
        CorrelationId::new(corr),
    )
}

#[tokio::test]
async fn a_create_whose_answer_is_dropped_makes_one_ticket() {
    let (mock, sn) = behind_proxy(TimeoutConfig::new()).await;
    proxy(&mock).push_for(
        "POST",
        "/api/now/table/incident",
        accesslink_testkit::proxy::ProxyFault::Drop,
        1,
    );
    let t = sn.create_ticket(&new_ticket("REQ-DROP")).await.unwrap();
    assert_eq!(proxy(&mock).applied(), 1, "the answer was dropped");
    assert_eq!(mock.find("incident", "correlation_id", "REQ-DROP").len(), 1);
    assert_eq!(
        mock.count("POST", "/api/now/table/incident"),
        1,
        "no second insert"
    );
    assert_eq!(
        t.reference.id(),
        mock.find("incident", "correlation_id", "REQ-DROP")[0]["sys_id"].as_str()
    );
    // Lookup before, lookup after the lost answer.
    assert_eq!(mock.count("GET", "/api/now/table/incident"), 2);
}

#[tokio::test]
async fn a_create_that_times_out_is_found_instead_of_repeated() {
    let (mock, sn) = behind_proxy(TimeoutConfig::new().attempt(Duration::from_millis(300))).await;
    mock.faults().push_for(
        FaultMatcher::route("POST", "/api/now/table/incident"),
        Fault::Delay(Duration::from_secs(2)),
        1,
    );
    sn.create_ticket(&new_ticket("REQ-SLOW")).await.unwrap();
    assert_eq!(mock.find("incident", "correlation_id", "REQ-SLOW").len(), 1);
    assert_eq!(mock.count("POST", "/api/now/table/incident"), 1);
}

#[tokio::test]
async fn a_create_refused_with_5xx_then_429_is_retried_once_it_is_known_absent() {
    let mock = ServiceNowMock::start().await;
    let sn = basic_on(&mock);
    let post = || FaultMatcher::route("POST", "/api/now/table/incident");
    mock.faults()
        .push_for(
            post(),
            Fault::Status {
                status: 503,
                body: None,
            },
            1,
        )
        .push_for(
            post(),
            Fault::TooManyRequests {
                retry_after: Some(RetryAfter::Seconds(0)),
            },
            1,
        );
    sn.create_ticket(&new_ticket("REQ-BUSY")).await.unwrap();
    assert_eq!(mock.find("incident", "correlation_id", "REQ-BUSY").len(), 1);
    assert_eq!(mock.count("POST", "/api/now/table/incident"), 3);
    assert_eq!(
        mock.count("GET", "/api/now/table/incident"),
        3,
        "a look before each try"
    );
}

#[tokio::test]
async fn dropped_answers_to_grants_and_comments_write_once() {
    let (mock, sn) = behind_proxy(TimeoutConfig::new()).await;
    let proxy = proxy(&mock);
    let user = mock.insert("sys_user", json!({ "user_name": "alice" }));
    let group = mock.insert("sys_user_group", json!({ "name": "g" }));
    let ticket = mock.insert("incident", json!({ "short_description": "t" }));
    use accesslink_testkit::proxy::ProxyFault::Drop;
    proxy.push_for("POST", "/api/now/table/sys_user_grmember", Drop, 1);
    proxy.push_for(
        "PATCH",
        &format!("/api/now/table/incident/{ticket}"),
        Drop,
        1,
    );

    let out = sn
        .grant(&AccountId::new(user.clone()), &group_ref(group.clone()))
        .await
        .unwrap();
    assert_eq!(out, GrantOutcome::Granted);
    assert_eq!(mock.find("sys_user_grmember", "user", &user).len(), 1);

    let r = accesslink_core::TicketRef::by_id(ticket.clone()).with_scope("incident");
    sn.add_comment(&r, &Comment::public("done ^ with care"))
        .await
        .unwrap();
    assert_eq!(
        mock.journal(&ticket),
        vec![("comments".to_owned(), "done ^ with care".to_owned())]
    );
    assert_eq!(proxy.applied(), 2);
    assert_eq!(mock.count("PATCH", "/api/now/table/incident"), 1);
}

#[tokio::test]
async fn a_429_burst_during_an_import_is_waited_out() {
    let mock = ServiceNowMock::builder().synthetic_users(120).start().await;
    let sn = basic_on(&mock);
    mock.faults().push_for(
        FaultMatcher::route("GET", "/api/now/table/sys_user"),
        Fault::TooManyRequests {
            retry_after: Some(RetryAfter::Seconds(0)),
        },
        2,
    );
    let all: Vec<_> = accounts(&sn, PagingOptions::new().page_size(50))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(all.len(), 120);
    assert_eq!(mock.faults().applied(), 2);
}

#[tokio::test]
async fn a_429_that_outlasts_the_retries_is_rate_limited() {
    let mock = ServiceNowMock::builder()
        .rate_limit(2, Duration::from_secs(60))
        .start()
        .await;
    let client = ServiceNowClient::builder(mock.url())
        .basic(mock.user(), SecretString::from(mock.password()))
        .http(
            accesslink_core::http::HttpSettings::new().retry(
                RetryConfig::default()
                    .max_attempts(2)
                    .max_backoff(Duration::from_millis(10)),
            ),
        )
        .build()
        .unwrap();
    let sn = ServiceNowConnector::new(client, ServiceNowConfig::new()).unwrap();
    let r = sn.parse_ticket_ref("INC0010001").unwrap();
    sn.get_ticket(&r).await.unwrap();
    sn.get_ticket(&r).await.unwrap();
    let e = sn.get_ticket(&r).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::RateLimited, "{e}");
    let rl = e.rate_limit().expect("headers kept");
    assert_eq!(rl.limit, Some(2));
    assert!(rl.reset.is_some());
}

#[tokio::test]
async fn html_and_truncated_bodies_stop_an_import_that_then_resumes() {
    let mock = ServiceNowMock::builder().synthetic_users(90).start().await;
    let sn = basic_on(&mock);
    for fault in [Fault::Html, Fault::TruncatedJson, Fault::MalformedJson] {
        let mut stream = accounts(&sn, PagingOptions::new().page_size(40));
        let mut seen = std::collections::HashSet::new();
        for _ in 0..40 {
            seen.insert(stream.try_next().await.unwrap().unwrap().id);
        }
        mock.faults().push_for(
            FaultMatcher::route("GET", "/api/now/table/sys_user"),
            fault.clone(),
            1,
        );
        let e = loop {
            match stream.try_next().await {
                Ok(Some(a)) => {
                    seen.insert(a.id);
                }
                Ok(None) => panic!("the fault was not seen"),
                Err(e) => break e,
            }
        };
        assert_eq!(e.kind(), ErrorKind::Protocol, "{fault:?}: {e}");
        let checkpoint = stream.report().checkpoint;
        drop(stream);
        let rest: Vec<_> = accounts(
            &sn,
            PagingOptions::new().page_size(40).resume_from(checkpoint),
        )
        .try_collect()
        .await
        .unwrap();
        seen.extend(rest.into_iter().map(|a| a.id));
        assert_eq!(seen.len(), 90, "{fault:?}: nothing lost");
    }
}
