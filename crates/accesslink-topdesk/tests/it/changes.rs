//! Operator changes through the `TicketingSystem`: create idempotent on `externalNumber`,
//! a lost create answer looked up instead of repeated, memos as comments, close by a
//! transition or a cancel, read back.

use accesslink_core::{
    ApprovalState, Comment, CorrelationId, ErrorKind, NewTicket, Person, Resolution, TicketKind,
    TicketState, TicketingSystem,
};
use accesslink_testkit::fault::{Fault, FaultMatcher};
use accesslink_testkit::topdesk::TopdeskMock;
use serde_json::{Value, json};

use crate::{on_mock, settings_with};

fn change(correlation: &str) -> NewTicket {
    let mut n = NewTicket::new(
        TicketKind::Change,
        "Laptop for J. Doe",
        "Standard laptop, IAM request",
        CorrelationId::new(correlation),
    );
    n.requester = Some(Person::login("alice"));
    n
}

#[tokio::test]
async fn a_change_is_created_once_per_correlation_id() {
    let mock = TopdeskMock::start().await;
    let alice = mock.add_person("alice", "Alice", "Liddell", "alice@example.test");
    let td = on_mock(&mock);
    let t = td.create_ticket(&change("REQ-C1")).await.unwrap();
    assert_eq!(t.kind, TicketKind::Change);
    assert_eq!(t.reference.number(), Some("C2612-001"));
    assert_eq!(t.status.state, TicketState::InProgress); // phase `simple`
    assert_eq!(t.approval_state(), ApprovalState::NotRequested);
    let sent = mock.received().await;
    // Looked up by externalNumber first, in the change list's paging dialect.
    let lookup = sent
        .iter()
        .find(|r| r.method == "GET" && r.url.path() == "/tas/api/operatorChanges")
        .unwrap();
    assert_eq!(
        crate::param(&lookup.url, "query").as_deref(),
        Some("externalNumber=='REQ-C1'")
    );
    assert_eq!(crate::param(&lookup.url, "pageStart").as_deref(), Some("0"));
    let post = sent.iter().find(|r| r.method == "POST").unwrap();
    assert_eq!(post.url.path(), "/tas/api/operatorChanges");
    assert_eq!(
        post.body_json::<Value>().unwrap(),
        json!({
            "requester": {"id": alice},
            "briefDescription": "Laptop for J. Doe",
            "request": "Standard laptop, IAM request",
            "changeType": "simple",
            "externalNumber": "REQ-C1",
        })
    );
    let again = td.create_ticket(&change("REQ-C1")).await.unwrap();
    assert_eq!(again.reference.id(), t.reference.id());
    assert_eq!(mock.change_count(), 1);
    let posts = mock
        .received()
        .await
        .iter()
        .filter(|r| r.method == "POST")
        .count();
    assert_eq!(posts, 1);
    // find_by_correlation falls back to changes when no incident carries the id.
    let found = td
        .find_by_correlation(&CorrelationId::new("REQ-C1"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.kind, TicketKind::Change);
}

#[tokio::test]
async fn a_lost_create_answer_is_looked_up_not_repeated() {
    let mock = TopdeskMock::start().await;
    mock.add_person("alice", "Alice", "Liddell", "alice@example.test");
    let td = on_mock(&mock);
    mock.faults().push_for(
        FaultMatcher::route("POST", "/tas/api/operatorChanges"),
        Fault::StatusAfterProcessing { status: 504 },
        1,
    );
    let t = td.create_ticket(&change("REQ-C2")).await.unwrap();
    assert_eq!(mock.change_count(), 1);
    assert_eq!(
        t.correlation_id.as_ref().map(|c| c.as_str()),
        Some("REQ-C2")
    );
    assert_eq!(mock.faults().applied(), 1);
}

#[tokio::test]
async fn a_change_without_a_requester_is_refused_before_any_request() {
    let mock = TopdeskMock::start().await;
    let td = on_mock(&mock);
    let mut n = change("REQ-C3");
    n.requester = None;
    // The look-up by correlation id runs first; nothing is created.
    let e = td.create_ticket(&n).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
    assert!(mock.received().await.iter().all(|r| r.method == "GET"));
    assert_eq!(mock.change_count(), 0);
}

#[tokio::test]
async fn memos_and_a_successful_close() {
    let mock = TopdeskMock::start().await;
    mock.add_person("alice", "Alice", "Liddell", "alice@example.test");
    let td = on_mock(&mock);
    let t = td.create_ticket(&change("REQ-C4")).await.unwrap();
    td.add_comment(&t.reference, &Comment::internal("ordered from vendor"))
        .await
        .unwrap();
    let closed = td
        .close_ticket(&t.reference, &Resolution::done("delivered"))
        .await
        .unwrap();
    assert_eq!(closed.status.state, TicketState::Closed);
    assert_eq!(
        mock.change_progress("C2612-001"),
        [
            ("ordered from vendor".to_owned(), true),
            ("delivered".to_owned(), false)
        ]
    );
    let sent = mock.received().await;
    let memo = sent
        .iter()
        .find(|r| r.url.path().ends_with("/progresstrail"))
        .unwrap();
    assert_eq!(
        memo.body_json::<Value>().unwrap(),
        json!({"memoText": "ordered from vendor", "type": "memo", "invisibleForCaller": true})
    );
    let transition = sent
        .iter()
        .find(|r| r.url.path().ends_with("/processingStatusTransitions"))
        .unwrap();
    assert_eq!(
        transition.body_json::<Value>().unwrap(),
        json!({"action": "close"})
    );
    // Closing again changes nothing and sends no write.
    let before = mock.requests();
    let again = td
        .close_ticket(&t.reference, &Resolution::done("again"))
        .await
        .unwrap();
    assert_eq!(again.status.state, TicketState::Closed);
    let writes = mock.received().await[before..]
        .iter()
        .filter(|r| r.method != "GET")
        .count();
    assert_eq!(writes, 0);
}

#[tokio::test]
async fn an_unsuccessful_close_cancels_and_a_refused_transition_is_an_error() {
    let mock = TopdeskMock::start().await;
    mock.add_person("alice", "Alice", "Liddell", "alice@example.test");
    let td = on_mock(&mock);
    let t = td.create_ticket(&change("REQ-C5")).await.unwrap();
    let closed = td
        .close_ticket(&t.reference, &Resolution::failed("not approved"))
        .await
        .unwrap();
    assert_eq!(closed.status.state, TicketState::Cancelled);
    assert_eq!(mock.change("C2612-001").unwrap()["phase"], "canceled");

    // An extensive change waiting for approval cannot be closed: the server's 400 is
    // the answer, and the change stays open.
    let td = accesslink_topdesk::TopdeskConnector::from_settings(settings_with(&mock, |v| {
        v["changes"] = json!({"change_type": "extensive"});
    }))
    .unwrap();
    let t = td.create_ticket(&change("REQ-C6")).await.unwrap();
    assert_eq!(t.approval_state(), ApprovalState::Requested);
    let e = td
        .close_ticket(&t.reference, &Resolution::done("x"))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
    assert_eq!(mock.change("C2612-002").unwrap()["phase"], "rfc");
}

#[tokio::test]
async fn find_by_correlation_without_rights_on_changes_is_none() {
    let mock = TopdeskMock::start().await;
    let td = on_mock(&mock);
    mock.faults().push_for(
        FaultMatcher::route("GET", "/tas/api/operatorChanges"),
        Fault::Status {
            status: 403,
            body: Some(r#"[{"message":"No permission"}]"#.into()),
        },
        1,
    );
    let found = td
        .find_by_correlation(&CorrelationId::new("REQ-NONE"))
        .await
        .unwrap();
    assert!(found.is_none());
    assert_eq!(mock.faults().applied(), 1);
    // Other errors are errors.
    mock.faults().push_for(
        FaultMatcher::route("GET", "/tas/api/operatorChanges"),
        Fault::Html,
        1,
    );
    let e = td
        .find_by_correlation(&CorrelationId::new("REQ-NONE"))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Protocol);
}
