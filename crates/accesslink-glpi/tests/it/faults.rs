//! Faults at each step on the stateful GLPI mock: 5xx and 429 bursts, dropped answers,
//! sessions expiring mid-import, truncated bodies (HTML answers are the conformance
//! suite's). Every test checks the mock's state: one ticket per correlation id, every
//! account once, one re-login.

use std::collections::HashSet;
use std::time::Duration;

use accesslink_core::paging::{self, PagingOptions};
use accesslink_core::{
    AccountSpec, Comment, CorrelationId, CreateOutcome, ErrorKind, NewTicket, Provisioner,
    TicketKind, TicketRef, TicketingSystem,
};
use accesslink_glpi::GlpiConnector;
use accesslink_testkit::conformance::{TicketBackend, fresh_id};
use accesslink_testkit::fault::{Fault, FaultMatcher, RetryAfter};
use accesslink_testkit::glpi::GlpiMock;
use accesslink_testkit::proxy::ProxyFault;
use futures::TryStreamExt;

use crate::on_mock;

fn new_ticket(id: &str) -> NewTicket {
    NewTicket::new(
        TicketKind::Request,
        "Grant sales-admin to alice",
        "Requested by bob.",
        CorrelationId::new(id),
    )
}

async fn count(mock: &GlpiMock, id: &str) -> usize {
    mock.count_with_correlation(&CorrelationId::new(id))
        .await
        .unwrap()
}

fn status(code: u16) -> Fault {
    Fault::Status {
        status: code,
        body: None,
    }
}

#[tokio::test]
async fn server_errors_on_create_are_retried_after_a_lookup_without_duplicates() {
    let mock = GlpiMock::start().await;
    let glpi = on_mock(&mock);
    mock.faults().push_for(
        FaultMatcher::route("POST", "/apirest.php/Ticket"),
        status(503),
        2,
    );
    let id = fresh_id("REQ");
    let t = glpi.create_ticket(&new_ticket(&id)).await.unwrap();
    assert_eq!(count(&mock, &id).await, 1);
    assert_eq!(
        mock.count("createItems:Ticket"),
        3,
        "two refused, one accepted"
    );
    // One lookup before the first attempt and one before each retry.
    assert_eq!(mock.count("searchItems:Ticket"), 3);
    assert_eq!(
        t.correlation_id.as_ref().map(CorrelationId::as_str),
        Some(id.as_str())
    );
}

#[tokio::test]
async fn a_lost_create_answer_is_found_not_repeated() {
    let mock = GlpiMock::builder().with_proxy(true).start().await;
    let glpi = on_mock(&mock);
    let id = fresh_id("REQ");
    // The mock creates the ticket; the connection drops before the answer.
    mock.proxy()
        .unwrap()
        .push_for("POST", "/apirest.php/Ticket", ProxyFault::Drop, 1);
    let t = glpi.create_ticket(&new_ticket(&id)).await.unwrap();
    assert_eq!(mock.proxy().unwrap().applied(), 1);
    assert_eq!(mock.count("createItems:Ticket"), 1, "no second POST");
    assert_eq!(count(&mock, &id).await, 1);
    assert!(t.reference.id().is_some());
}

#[tokio::test]
async fn throttled_reads_wait_and_succeed() {
    let mock = GlpiMock::start().await;
    let glpi = on_mock(&mock);
    let t = glpi
        .create_ticket(&new_ticket(&fresh_id("REQ")))
        .await
        .unwrap();
    mock.faults().push_for(
        FaultMatcher::route("GET", "/apirest.php/Ticket/"),
        Fault::TooManyRequests {
            retry_after: Some(RetryAfter::Seconds(1)),
        },
        1,
    );
    let started = std::time::Instant::now();
    assert!(glpi.get_ticket(&t.reference).await.unwrap().is_some());
    assert_eq!(mock.faults().applied(), 1);
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "Retry-After honoured"
    );
}

#[tokio::test]
async fn a_session_expired_mid_import_costs_one_login_and_loses_nothing() {
    let mock = GlpiMock::builder().generated_users(2000).start().await;
    let glpi = on_mock(&mock);
    let mut stream = paging::accounts(&glpi, PagingOptions::new().page_size(250));
    let mut ids = Vec::new();
    while let Some(a) = stream.try_next().await.unwrap() {
        ids.push(a.id.as_str().parse::<i64>().unwrap());
        if stream.report().pages == 3 && mock.session_creates() == 1 {
            mock.expire_sessions();
        }
    }
    let distinct: HashSet<i64> = ids.iter().copied().collect();
    assert_eq!(ids.len(), distinct.len(), "no account twice");
    for id in mock.generated_user_ids() {
        assert!(distinct.contains(&id), "generated user {id} imported");
    }
    assert_eq!(mock.session_creates(), 2, "one re-login");
    assert_eq!(stream.report().duplicates, 0);
}

#[tokio::test]
async fn bursts_mid_import_are_retried_and_a_longer_one_resumes_from_the_checkpoint() {
    let mock = GlpiMock::builder().generated_users(600).start().await;
    let glpi = on_mock(&mock);
    let search = || FaultMatcher::route("GET", "/search/User");
    let mut stream = paging::accounts(&glpi, PagingOptions::new().page_size(100));
    let mut ids = Vec::new();
    let failure = loop {
        match stream.try_next().await {
            Ok(Some(a)) => ids.push(a.id),
            Ok(None) => panic!("the long burst should have ended the stream"),
            Err(e) => break e,
        }
        if ids.len() == 150 {
            // Within the retry budget (3 attempts): a 502 then a 429.
            mock.faults().push_for(search(), status(502), 1);
            let throttled = Fault::TooManyRequests {
                retry_after: Some(RetryAfter::Seconds(0)),
            };
            mock.faults().push_for(search(), throttled, 1);
        }
        if ids.len() == 350 {
            // Longer than the budget: the stream ends with the error.
            mock.faults().push_for(search(), status(503), 3);
        }
    };
    assert_eq!(failure.kind(), ErrorKind::Unavailable, "{failure}");
    assert_eq!(mock.faults().applied(), 5);
    // Resume where the report says, as an import does after a crash.
    let checkpoint = stream.report().checkpoint;
    let resumed: Vec<_> = paging::accounts(
        &glpi,
        PagingOptions::new().page_size(100).resume_from(checkpoint),
    )
    .map_ok(|a| a.id)
    .try_collect()
    .await
    .unwrap();
    ids.extend(resumed);
    let distinct: HashSet<_> = ids.iter().collect();
    assert_eq!(
        distinct.len(),
        605,
        "600 generated + 5 seeded users, none lost"
    );
    assert!(
        ids.len() - distinct.len() <= 100,
        "at most the checkpoint's page is read again"
    );
}

#[tokio::test]
async fn a_truncated_body_is_a_protocol_error() {
    let mock = GlpiMock::start().await;
    let glpi = on_mock(&mock);
    let t = glpi
        .create_ticket(&new_ticket(&fresh_id("REQ")))
        .await
        .unwrap();
    let by_id = TicketRef::by_id(t.reference.id().map(str::to_owned).unwrap());
    // An HTML answer is the conformance suite's `html_is_a_protocol_error`.
    mock.faults().push_for(
        FaultMatcher::route("GET", "/apirest.php/Ticket/"),
        Fault::TruncatedJson,
        1,
    );
    let err = glpi.get_ticket(&by_id).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Protocol, "{err}");
}

#[tokio::test]
async fn a_comment_is_not_repeated_after_a_server_error() {
    let mock = GlpiMock::start().await;
    let glpi = on_mock(&mock);
    let t = glpi
        .create_ticket(&new_ticket(&fresh_id("REQ")))
        .await
        .unwrap();
    mock.faults()
        .push_for(FaultMatcher::route("POST", "/ITILFollowup"), status(500), 1);
    let err = glpi
        .add_comment(&t.reference, &Comment::public("hello"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unavailable);
    assert_eq!(mock.count("createItems:ITILFollowup"), 1, "sent once");
}

#[tokio::test]
async fn a_lost_account_create_is_found_not_repeated() {
    let mock = GlpiMock::builder().with_proxy(true).start().await;
    let glpi = on_mock(&mock);
    let login = fresh_id("lost.answer");
    mock.proxy()
        .unwrap()
        .push_for("POST", "/apirest.php/User", ProxyFault::Drop, 1);
    let outcome = glpi
        .create_account(&AccountSpec::new(&login))
        .await
        .unwrap();
    assert!(matches!(outcome, CreateOutcome::Created(_)), "{outcome:?}");
    assert_eq!(mock.count("createItems:User"), 1);
    assert!(mock.user_by_login(&login).is_some());
}

#[tokio::test]
async fn bad_input_is_rejected_before_any_request() {
    let mock = GlpiMock::start().await;
    let glpi: GlpiConnector = on_mock(&mock);
    for bad in ["", "12 34", "1;DROP", "#abc", "../1", "１２３", "CHG", "0"] {
        assert_eq!(
            glpi.parse_ticket_ref(bad).unwrap_err().kind(),
            ErrorKind::InvalidInput,
            "{bad:?}"
        );
    }
    let err = glpi.create_ticket(&new_ticket("REQ 1*")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    let err = glpi
        .create_ticket(&new_ticket("REQ-ok").extra("NoSuchField", "x"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    let mut problem = new_ticket("REQ-ok");
    problem.kind = TicketKind::Problem;
    assert_eq!(
        glpi.create_ticket(&problem).await.unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
    let err = glpi
        .create_ticket(&new_ticket("REQ-ok").priority("urgent"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert_eq!(mock.counter().total(), 0, "nothing was sent");
}
