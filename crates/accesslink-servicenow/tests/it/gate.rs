//! The ticket gate (seed 004) over ServiceNow changes on the mock: only an open,
//! approved change lets a privileged session through; an injected id is denied without
//! a request.

use std::sync::Arc;

use accesslink_core::{Connector, TicketKind};
use accesslink_testkit::servicenow::ServiceNowMock;
use accesslink_workflow::gate::{
    AccessAttempt, ApprovalRule, Principal, RequesterMatch, TicketGate, TicketPolicy, open_states,
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

/// Issue 15 item 3: the requester rule matches a ServiceNow user by login or email, which
/// the ticket row carries through dot-walked fields (`caller_id.user_name`,
/// `caller_id.email`): one request per check, no `sys_user` read per ticket.
#[tokio::test]
async fn the_requester_rule_matches_the_callers_user_name_and_email() {
    let mock = ServiceNowMock::start().await;
    let bob = mock.insert(
        "sys_user",
        json!({ "user_name": "bob.smith", "email": "Bob.Smith@example.com", "name": "Bob Smith" }),
    );
    let inc = number(&mock, "incident", json!({ "state": "2", "caller_id": bob }));
    let gate = |how: RequesterMatch| {
        let policy = TicketPolicy::new()
            .allowed_kinds([TicketKind::Incident])
            .requester_must_match(true)
            .requester_match([how]);
        TicketGate::new(Arc::new(basic_on(&mock)), policy)
    };
    let check = |gate: TicketGate, principal: Principal| {
        let inc = inc.clone();
        async move {
            let attempt =
                AccessAttempt::new(principal, "connect", "db-prod-01").ticket(inc.as_str());
            gate.check(&attempt).await
        }
    };
    mock.clear_requests();
    let v = check(gate(RequesterMatch::Login), Principal::new("bob.smith")).await;
    assert!(v.allow, "{:?}", v.codes());
    let requests = mock.requests();
    assert_eq!(requests.len(), 1, "{requests:?}");
    let fields = requests[0]
        .query
        .iter()
        .find(|(k, _)| k == "sysparm_fields")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    assert!(
        fields.contains("caller_id.user_name") && fields.contains("caller_id.email"),
        "{fields}"
    );

    let v = check(gate(RequesterMatch::Login), Principal::new("alice")).await;
    assert!(!v.allow, "another login is denied");
    // The sys_id alone no longer passes a login rule (the principal names a login).
    let v = check(gate(RequesterMatch::Login), Principal::new(bob.as_str())).await;
    assert!(!v.allow, "the sys_id is not the login");
    let v = check(
        gate(RequesterMatch::Email),
        Principal::new("bob").email("bob.smith@example.com"),
    )
    .await;
    assert!(v.allow, "email, any case: {:?}", v.codes());
}
