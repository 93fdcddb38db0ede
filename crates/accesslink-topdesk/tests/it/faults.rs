//! Faults: 5xx bursts and 429s on reads are retried, HTML and truncated bodies are
//! protocol errors, a revoked password mid-import ends it with an error, and a comment
//! whose answer is lost is not sent twice.

use accesslink_core::paging::{PagingOptions, accounts};
use accesslink_core::{
    Comment, Connector, CorrelationId, ErrorKind, NewTicket, PageRequest, Provisioner, TicketKind,
    TicketingSystem,
};
use accesslink_testkit::fault::{Fault, FaultMatcher, RetryAfter};
use accesslink_testkit::topdesk::TopdeskMock;
use futures::{StreamExt, TryStreamExt};

use crate::on_mock;

#[tokio::test]
async fn a_5xx_burst_and_429s_are_retried_and_the_import_is_whole() {
    let mock = TopdeskMock::builder()
        .generated_operators(120)
        .start()
        .await;
    let td = on_mock(&mock);
    mock.faults().fail_next(2, 503);
    mock.faults().push(
        Fault::Status {
            status: 502,
            body: Some("Bad Gateway".into()),
        },
        1,
    );
    let all: Vec<_> = accounts(&td, PagingOptions::new().page_size(50))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(all.len(), 120);
    mock.faults().throttle_next(2, Some(RetryAfter::Seconds(0)));
    let p = td
        .list_accounts(PageRequest::first().size(50))
        .await
        .unwrap();
    assert_eq!(p.items.len(), 50);
    assert_eq!(mock.faults().applied(), 5);
}

#[tokio::test]
async fn html_and_truncated_bodies_are_protocol_errors() {
    let mock = TopdeskMock::builder().generated_operators(3).start().await;
    let td = on_mock(&mock);
    for fault in [
        Fault::Html,
        Fault::TruncatedJson,
        Fault::MalformedJson,
        Fault::EmptyBody,
    ] {
        mock.faults().push(fault.clone(), 1);
        let e = td.list_accounts(PageRequest::first()).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Protocol, "{fault:?}: {e}");
    }
    mock.faults().push(Fault::Html, 1);
    let e = td.test_connection().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Protocol);
    assert!(e.to_string().contains("text/html"), "{e}");
}

#[tokio::test]
async fn a_revoked_password_mid_import_ends_it_with_an_error() {
    let mock = TopdeskMock::builder()
        .generated_operators(100)
        .start()
        .await;
    let td = on_mock(&mock);
    let mut stream = accounts(&td, PagingOptions::new().page_size(30));
    let mut seen = 0;
    while let Some(item) = stream.next().await {
        match item {
            Ok(_) => {
                seen += 1;
                if seen == 30 {
                    assert!(mock.revoke_login(mock.login()));
                }
            }
            Err(e) => {
                assert_eq!(e.kind(), ErrorKind::Unauthenticated, "{e}");
                assert_eq!(seen, 30);
                return;
            }
        }
    }
    panic!("the import ended without an error after {seen} accounts");
}

#[tokio::test]
async fn a_comment_whose_answer_is_lost_is_not_sent_again() {
    let mock = TopdeskMock::builder().with_proxy(true).start().await;
    let td = on_mock(&mock);
    let t = td
        .create_ticket(&NewTicket::new(
            TicketKind::Incident,
            "t",
            "d",
            CorrelationId::new("REQ-L1"),
        ))
        .await
        .unwrap();
    mock.faults().push_for(
        FaultMatcher::route("PATCH", "/tas/api/incidents/id/"),
        Fault::DropAfterProcessing,
        1,
    );
    let e = td
        .add_comment(&t.reference, &Comment::public("once"))
        .await
        .unwrap_err();
    assert!(e.is_retryable(), "{e}");
    assert_eq!(
        mock.actions(t.reference.id().unwrap()),
        [("once".to_owned(), false)]
    );
}

#[tokio::test]
async fn a_create_answered_with_a_gateway_error_after_processing_is_found_not_repeated() {
    let mock = TopdeskMock::start().await;
    let td = on_mock(&mock);
    mock.faults().push_for(
        FaultMatcher::route("POST", "/tas/api/incidents"),
        Fault::StatusAfterProcessing { status: 504 },
        1,
    );
    let t = td
        .create_ticket(&NewTicket::new(
            TicketKind::Incident,
            "t",
            "d",
            CorrelationId::new("REQ-G1"),
        ))
        .await
        .unwrap();
    assert_eq!(t.correlation_id, Some(CorrelationId::new("REQ-G1")));
    assert_eq!(mock.incidents_created(), 1);
}

#[tokio::test]
async fn a_throttled_create_is_looked_up_then_sent_again_once() {
    let mock = TopdeskMock::start().await;
    let td = on_mock(&mock);
    mock.faults().push_for(
        FaultMatcher::route("POST", "/tas/api/incidents"),
        Fault::TooManyRequests {
            retry_after: Some(RetryAfter::Seconds(0)),
        },
        1,
    );
    let t = td
        .create_ticket(&NewTicket::new(
            TicketKind::Incident,
            "t",
            "d",
            CorrelationId::new("REQ-429"),
        ))
        .await
        .unwrap();
    assert_eq!(t.correlation_id, Some(CorrelationId::new("REQ-429")));
    assert_eq!(mock.incidents_created(), 1);
    let sent = mock.received().await;
    let posts = sent.iter().filter(|r| r.method == "POST").count();
    let lookups = sent
        .iter()
        .filter(|r| r.method == "GET" && r.url.path() == "/tas/api/incidents")
        .count();
    // Look-up, throttled POST, look-up, POST.
    assert_eq!((posts, lookups), (2, 2));
}
