//! The ticket gate (seed 004) over ServiceNow changes on the mock: only an open,
//! approved change lets a privileged session through; an injected id is denied without
//! a request.

use std::sync::Arc;

use accesslink_core::{Connector, TicketKind};
use accesslink_testkit::servicenow::ServiceNowMock;
use accesslink_workflow::gate::{
    AccessAttempt, ApprovalRule, Principal, TicketGate, TicketPolicy, open_states,
};
use serde_json::json;

use crate::mock::basic_on;

fn number(mock: &ServiceNowMock, table: &str, row: serde_json::Value) -> String {
    let id = mock.insert(table, row);
    mock.row(table, &id).unwrap()["number"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn only_an_open_approved_change_is_allowed() {
    let mock = ServiceNowMock::start().await;
    let approved = number(
        &mock,
        "change_request",
        json!({ "state": "-1", "approval": "approved" }),
    );
    let rejected = number(
        &mock,
        "change_request",
        json!({ "state": "-1", "approval": "rejected" }),
    );
    let requested = number(
        &mock,
        "change_request",
        json!({ "state": "-3", "approval": "requested" }),
    );
    let closed = number(
        &mock,
        "change_request",
        json!({ "state": "3", "approval": "approved" }),
    );
    let incident = number(&mock, "incident", json!({ "state": "2" }));
    let policy = TicketPolicy::new()
        .allowed_kinds([TicketKind::Change])
        .states_for(TicketKind::Change, open_states())
        .approval(ApprovalRule::Kinds(vec![TicketKind::Change]));
    let gate = TicketGate::new(Arc::new(basic_on(&mock)), policy);
    let check = |raw: String| {
        let gate = &gate;
        async move {
            let attempt = AccessAttempt::new(Principal::new("alice"), "connect", "db-prod-01")
                .ticket(raw.as_str());
            gate.check(&attempt).await
        }
    };
    assert!(check(approved.to_lowercase()).await.allow);
    for raw in [
        rejected,
        requested,
        closed,
        incident,
        "CHG9999999".to_owned(),
    ] {
        let v = check(raw.clone()).await;
        assert!(!v.allow, "{raw}: {:?}", v.codes());
    }
    mock.clear_requests();
    let v = check("CHG0030001^ORapproval=approved".to_owned()).await;
    assert!(!v.allow);
    assert!(mock.requests().is_empty(), "denied before any request");
}

#[tokio::test]
async fn test_connection_reads_the_signed_in_user() {
    let mock = ServiceNowMock::start().await;
    mock.insert("sys_user", json!({ "user_name": mock.user() }));
    let sn = basic_on(&mock);
    let report = sn.test_connection().await.unwrap();
    assert_eq!(report.principal.as_deref(), Some(mock.user()));
    let seen = mock.requests();
    assert_eq!(seen.len(), 1);
    assert_eq!(
        seen[0].param("sysparm_query"),
        Some(format!("user_name={}", mock.user()).as_str())
    );
}
