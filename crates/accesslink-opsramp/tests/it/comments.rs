//! Comments are responses sent with an `extTicketResponseId`: a response whose answer
//! is lost is found by that key and not written twice; a second call is a second
//! comment.

use std::time::Duration;

use accesslink_core::http::TimeoutConfig;
use accesslink_core::{Comment, CorrelationId, NewTicket, TicketKind, TicketingSystem};
use accesslink_testkit::fault::{Fault, FaultMatcher};
use accesslink_testkit::opsramp::{OpsRampMock, RateLimits};
use accesslink_testkit::proxy::ProxyFault;
use serde_json::Value;

use crate::{client, connector, mock, on};

async fn incident(opsramp: &impl TicketingSystem, corr: &str) -> accesslink_core::Ticket {
    let new = NewTicket::new(
        TicketKind::Incident,
        "Grant Auditors to jdoe",
        "Requested by bob.",
        CorrelationId::new(corr),
    );
    opsramp.create_ticket(&new).await.unwrap()
}

/// The bodies of the `POST …/responses` the mock received, oldest first.
async fn response_posts(mock: &OpsRampMock) -> Vec<Value> {
    mock.received()
        .await
        .iter()
        .filter(|r| r.method.as_str() == "POST" && r.url.path().ends_with("/responses"))
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect()
}

async fn response_searches(mock: &OpsRampMock) -> usize {
    mock.received()
        .await
        .iter()
        .filter(|r| r.url.path().ends_with("/responses/search"))
        .count()
}

#[tokio::test]
async fn a_comment_whose_answer_is_dropped_is_written_once() {
    let mock = OpsRampMock::builder()
        .rate_limits(RateLimits::unlimited())
        .with_proxy(true)
        .start()
        .await;
    let proxy = mock.proxy().unwrap();
    let opsramp = connector(&mock);
    let t = incident(&opsramp, "REQ-DROP-1").await;
    let id = t.reference.id().map(str::to_owned).unwrap();
    // Forwarded and stored, then the connection is dropped before the answer.
    proxy.push_for("POST", "/responses", ProxyFault::Drop, 1);
    opsramp
        .add_comment(&t.reference, &Comment::public("access granted"))
        .await
        .unwrap();
    assert_eq!(proxy.applied(), 1);
    assert_eq!(
        mock.ticket_responses(&id),
        vec![("access granted".to_owned(), false)]
    );
    let posts = response_posts(&mock).await;
    assert_eq!(posts.len(), 1, "the lost answer was not re-sent");
    let key = posts[0]["extTicketResponseId"].as_str().unwrap().to_owned();
    assert!(key.starts_with("al-"), "{key}");
    assert_eq!(posts[0]["description"], "access granted");
    assert_eq!(posts[0]["internal"], false);
    assert_eq!(mock.ticket_response_ext_ids(&id), vec![Some(key)]);
    assert!(
        response_searches(&mock).await >= 1,
        "looked up before re-sending"
    );
}

#[tokio::test]
async fn a_comment_answered_too_late_is_found_not_resent() {
    let mock = mock(0).await;
    let opsramp = connector(&mock);
    let t = incident(&opsramp, "REQ-SLOW-1").await;
    let id = t.reference.id().map(str::to_owned).unwrap();
    let slow = on(client(&mock)
        .http(crate::quick().timeouts(TimeoutConfig::new().attempt(Duration::from_millis(300))))
        .build()
        .unwrap());
    // The mock stores the response, then answers after the client gave up.
    mock.faults().push_for(
        FaultMatcher::route("POST", "/responses"),
        Fault::Delay(Duration::from_secs(1)),
        1,
    );
    slow.add_comment(&t.reference, &Comment::internal("provisioned"))
        .await
        .unwrap();
    assert_eq!(
        mock.ticket_responses(&id),
        vec![("provisioned".to_owned(), true)]
    );
    assert_eq!(response_posts(&mock).await.len(), 1);
}

#[tokio::test]
async fn a_comment_refused_with_502_is_sent_again_with_the_same_key() {
    let mock = mock(0).await;
    let opsramp = connector(&mock);
    let t = incident(&opsramp, "REQ-502-1").await;
    let id = t.reference.id().map(str::to_owned).unwrap();
    // The mock stores nothing on a fault: the lookup finds nothing, the POST is repeated.
    mock.faults().push_for(
        FaultMatcher::route("POST", "/responses"),
        Fault::Status {
            status: 502,
            body: None,
        },
        1,
    );
    opsramp
        .add_comment(&t.reference, &Comment::public("done"))
        .await
        .unwrap();
    assert_eq!(mock.ticket_responses(&id), vec![("done".to_owned(), false)]);
    let posts = response_posts(&mock).await;
    assert_eq!(posts.len(), 2);
    assert_eq!(
        posts[0]["extTicketResponseId"], posts[1]["extTicketResponseId"],
        "a retry of one call reuses its key"
    );
    assert_eq!(response_searches(&mock).await, 1);
}

#[tokio::test]
async fn the_same_text_posted_twice_is_two_comments() {
    let mock = mock(0).await;
    let opsramp = connector(&mock);
    let t = incident(&opsramp, "REQ-TWICE-1").await;
    let id = t.reference.id().map(str::to_owned).unwrap();
    for _ in 0..2 {
        opsramp
            .add_comment(&t.reference, &Comment::public("reminder"))
            .await
            .unwrap();
    }
    assert_eq!(mock.ticket_responses(&id).len(), 2);
    let keys = mock.ticket_response_ext_ids(&id);
    assert!(keys.iter().all(Option::is_some), "{keys:?}");
    assert_ne!(keys[0], keys[1], "each call has its own key");
    assert_eq!(
        response_searches(&mock).await,
        0,
        "no lookup without a failure"
    );
}

#[tokio::test]
async fn a_comment_on_a_missing_ticket_is_not_found_without_a_lookup() {
    let mock = mock(0).await;
    let opsramp = connector(&mock);
    let missing = accesslink_core::TicketRef::by_id("INC0000999999");
    let err = opsramp
        .add_comment(&missing, &Comment::public("x"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), accesslink_core::ErrorKind::NotFound, "{err}");
    assert_eq!(response_posts(&mock).await.len(), 1);
    assert_eq!(response_searches(&mock).await, 0);
}
