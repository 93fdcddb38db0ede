//! Faults at each step: 5xx bursts, session expiry, dropped answers, timeouts, truncated
//! JSON (HTML answers are checked by the conformance suite).
//! Every test checks the mock's state: one ticket per correlation id, whatever failed.

use std::time::Duration;

use accesslink_core::http::{HttpSettings, RetryConfig, TimeoutConfig};
use accesslink_core::{
    Comment, CorrelationId, ErrorKind, NewTicket, TicketKind, TicketRef, TicketingSystem,
};
use accesslink_otrs::{Correlation, OtrsConfig, OtrsConnector};
use accesslink_testkit::conformance::{TicketBackend, fresh_id};
use accesslink_testkit::fault::{Fault, FaultMatcher};
use accesslink_testkit::otrs::OtrsMock;
use accesslink_testkit::proxy::ProxyFault;
use secrecy::SecretString;

use crate::{df_connector, tag_connector};

fn new_ticket(id: &str) -> NewTicket {
    NewTicket::new(
        TicketKind::Request,
        "Grant sales-admin to alice",
        "Requested by bob.",
        CorrelationId::new(id),
    )
}

async fn count(mock: &OtrsMock, id: &str) -> usize {
    mock.count_with_correlation(&CorrelationId::new(id))
        .await
        .unwrap()
}

#[tokio::test]
async fn server_errors_on_create_are_retried_without_duplicates() {
    let mock = OtrsMock::start().await;
    let otrs = tag_connector(&mock);
    // The first two creates fail before the server does anything.
    mock.faults().push_for(
        FaultMatcher::route("POST", "/Ticket"),
        Fault::Status {
            status: 503,
            body: None,
        },
        2,
    );
    let id = fresh_id("REQ");
    let t = otrs.create_ticket(&new_ticket(&id)).await.unwrap();
    assert_eq!(count(&mock, &id).await, 1);
    assert_eq!(mock.count("TicketCreate"), 3, "two refused, one accepted");
    assert_eq!(mock.faults().applied(), 2);
    assert!(t.reference.number().is_some());
}

#[tokio::test]
async fn a_lost_create_answer_is_found_not_repeated() {
    let mock = OtrsMock::builder().with_proxy(true).start().await;
    let otrs = df_connector(&mock, &mock.search_base_url());
    let id = fresh_id("REQ");
    // The server creates the ticket; the connection drops before the answer.
    mock.proxy()
        .unwrap()
        .push_for("POST", "/Ticket", ProxyFault::Drop, 1);
    let t = otrs.create_ticket(&new_ticket(&id)).await.unwrap();
    assert_eq!(mock.proxy().unwrap().applied(), 1);
    assert_eq!(mock.count("TicketCreate"), 1, "no second TicketCreate");
    assert_eq!(count(&mock, &id).await, 1);
    assert_eq!(
        t.correlation_id.as_ref().map(CorrelationId::as_str),
        Some(id.as_str())
    );
}

#[tokio::test]
async fn a_create_that_times_out_after_the_server_acted_is_found() {
    let mock = OtrsMock::start().await;
    let otrs = OtrsConnector::new(
        OtrsConfig::new(
            mock.base_url().parse().unwrap(),
            mock.agent_login(),
            SecretString::from(mock.agent_password()),
        )
        .customer_user(mock.customer_login())
        .correlation(Correlation::TitleTag)
        .http(
            HttpSettings::new()
                .timeouts(TimeoutConfig::new().attempt(Duration::from_millis(300)))
                .retry(RetryConfig::default().initial_backoff(Duration::from_millis(5))),
        ),
    )
    .unwrap();
    // The mock stores the ticket, then answers too late.
    mock.faults().push_for(
        FaultMatcher::route("POST", "/Ticket"),
        Fault::Delay(Duration::from_secs(2)),
        1,
    );
    let id = fresh_id("REQ");
    otrs.create_ticket(&new_ticket(&id)).await.unwrap();
    assert_eq!(mock.count("TicketCreate"), 1);
    assert_eq!(count(&mock, &id).await, 1);
}

#[tokio::test]
async fn session_expiry_mid_run_logs_in_again_once() {
    let mock = OtrsMock::start().await;
    let otrs = tag_connector(&mock);
    let t = otrs
        .create_ticket(&new_ticket(&fresh_id("REQ")))
        .await
        .unwrap();
    assert_eq!(mock.session_creates(), 1);
    mock.expire_sessions();
    let refs = vec![t.reference.clone(); 1];
    // Several calls after the expiry share the one new session.
    assert_eq!(otrs.get_tickets(&refs).await.unwrap().len(), 1);
    otrs.add_comment(&t.reference, &Comment::internal("note"))
        .await
        .unwrap();
    assert!(otrs.get_ticket(&t.reference).await.unwrap().is_some());
    assert_eq!(mock.session_creates(), 2);
}

#[tokio::test]
async fn get_bursts_are_retried_and_truncated_json_is_a_protocol_error() {
    let mock = OtrsMock::start().await;
    let otrs = tag_connector(&mock);
    let t = otrs
        .create_ticket(&new_ticket(&fresh_id("REQ")))
        .await
        .unwrap();
    let id = t.reference.id().map(str::to_owned).unwrap();
    let by_id = TicketRef::by_id(id);

    mock.faults().push_for(
        FaultMatcher::route("GET", "/Ticket/"),
        Fault::Status {
            status: 502,
            body: None,
        },
        2,
    );
    assert!(otrs.get_ticket(&by_id).await.unwrap().is_some());
    assert_eq!(mock.faults().applied(), 2);

    // An HTML answer is the conformance suite's `html_is_a_protocol_error`.
    mock.faults().push_for(
        FaultMatcher::route("GET", "/Ticket/"),
        Fault::TruncatedJson,
        1,
    );
    let err = otrs.get_ticket(&by_id).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Protocol, "{err}");
}

#[tokio::test]
async fn a_comment_is_not_repeated_after_a_server_error() {
    let mock = OtrsMock::start().await;
    let otrs = tag_connector(&mock);
    let t = otrs
        .create_ticket(&new_ticket(&fresh_id("REQ")))
        .await
        .unwrap();
    mock.faults().push_for(
        FaultMatcher::route("PATCH", "/Ticket/"),
        Fault::Status {
            status: 500,
            body: None,
        },
        1,
    );
    let err = otrs
        .add_comment(&t.reference, &Comment::public("hello"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unavailable);
    assert_eq!(
        mock.count("TicketUpdate"),
        1,
        "a PATCH adding an article is sent once"
    );
}

#[tokio::test]
async fn bad_input_is_rejected_before_any_request() {
    let mock = OtrsMock::start().await;
    let otrs = tag_connector(&mock);
    let before = mock.requests_seen();
    for bad in ["", "12 34", "1;DROP", "Ticket#abc", "../1", "１２３"] {
        assert_eq!(
            otrs.parse_ticket_ref(bad).unwrap_err().kind(),
            ErrorKind::InvalidInput,
            "{bad:?}"
        );
    }
    let err = otrs.create_ticket(&new_ticket("REQ 1*")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    let err = otrs
        .create_ticket(&new_ticket("REQ-ok").extra("NoSuchField", "x"))
        .await;
    assert_eq!(err.unwrap_err().kind(), ErrorKind::InvalidInput);
    assert_eq!(mock.requests_seen(), before, "nothing was sent");
}
