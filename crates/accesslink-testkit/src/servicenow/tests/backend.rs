//! The conformance backend: ticket states per table, correlation counts, comments from
//! the journal, account counts and grants.

use accesslink_core::{
    AccountId, Comment, CorrelationId, EntitlementRef, EntitlementType, ErrorKind, TicketRef,
    TicketState,
};
use reqwest::Method;
use serde_json::json;

use super::support::{get, send_json};
use crate::conformance::{AccountBackend, TicketBackend};
use crate::servicenow::ServiceNowMock;

#[tokio::test]
async fn set_ticket_state_uses_each_table_s_values() {
    let mock = ServiceNowMock::start().await;
    let cases = [
        ("incident", TicketState::OnHold, "3", "true"),
        ("incident", TicketState::Resolved, "6", "true"),
        ("incident", TicketState::Cancelled, "8", "false"),
        ("change_request", TicketState::New, "-5", "true"),
        ("change_request", TicketState::InProgress, "-1", "true"),
        ("change_request", TicketState::Closed, "3", "false"),
        ("change_request", TicketState::Cancelled, "4", "false"),
        ("sc_req_item", TicketState::OnHold, "-5", "true"),
        ("sc_task", TicketState::InProgress, "2", "true"),
        ("pm_project_task", TicketState::Closed, "3", "false"),
        ("change_task", TicketState::Cancelled, "4", "false"),
    ];
    for (table, state, value, active) in cases {
        let id = mock.insert(table, json!({}));
        mock.set_ticket_state(&TicketRef::by_id(&id), state)
            .await
            .unwrap();
        let row = mock.row(table, &id).unwrap();
        assert_eq!(
            (&row["state"], &row["active"]),
            (&json!(value), &json!(active)),
            "{table} {state}"
        );
    }
    // By number too, PRJTASK routed before PRJ; the resolved incident passes the policy.
    let project_task = mock.rows("pm_project_task")[0].clone();
    let r = TicketRef::by_number(project_task["number"].as_str().unwrap());
    mock.set_ticket_state(&r, TicketState::InProgress)
        .await
        .unwrap();
    let id = project_task["sys_id"].as_str().unwrap();
    assert_eq!(mock.row("pm_project_task", id).unwrap()["state"], "2");
    let inc = mock.find("incident", "state", "6")[0].clone();
    assert_eq!(inc["close_code"], "Solution provided");
    let err = mock
        .set_ticket_state(&TicketRef::by_number("INC9999999"), TicketState::Closed)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(
        TicketBackend::requests_seen(&mock),
        0,
        "the backend sends no requests"
    );
}

#[tokio::test]
async fn correlation_and_comments_read_the_server_state() {
    let mock = ServiceNowMock::start().await;
    let body = json!({"short_description": "x", "correlation_id": "EXT-1"});
    let (_, created) = send_json(&mock, Method::POST, "/api/now/table/incident", &body).await;
    let id = created["result"]["sys_id"].as_str().unwrap().to_owned();
    mock.insert("sc_request", json!({"correlation_id": "EXT-1"}));
    mock.insert("incident", json!({"correlation_id": "EXT-2"}));
    let count = mock
        .count_with_correlation(&CorrelationId::new("EXT-1"))
        .await
        .unwrap();
    assert_eq!(count, 2, "counted across task tables");

    let path = format!("/api/now/table/incident/{id}");
    send_json(&mock, Method::PATCH, &path, &json!({"comments": "public"})).await;
    send_json(
        &mock,
        Method::PATCH,
        &path,
        &json!({"work_notes": "private"}),
    )
    .await;
    let comments = mock
        .comments(&TicketRef::by_number("INC0010001"))
        .await
        .unwrap();
    assert_eq!(
        comments,
        [Comment::public("public"), Comment::internal("private")]
    );
    assert_eq!(TicketBackend::requests_seen(&mock), 3);
}

#[tokio::test]
async fn accounts_and_grants() {
    let mock = ServiceNowMock::builder().synthetic_users(10).start().await;
    let uid = mock.insert("sys_user", json!({"user_name": "jdoe"}));
    let hidden = mock.insert("sys_user", json!({"user_name": "ghost"}));
    mock.hide("sys_user", &hidden);
    assert_eq!(
        mock.account_count().await.unwrap(),
        11,
        "hidden users cannot be listed"
    );
    let gid = mock.insert("sys_user_group", json!({"name": "Payroll"}));
    let rid = mock.insert("sys_user_role", json!({"name": "itil"}));
    let group = EntitlementRef::new(EntitlementType::group(), gid.as_str());
    let role = EntitlementRef::new(EntitlementType::role(), rid.as_str());
    let by_name = AccountId::new("jdoe");
    let by_id = AccountId::new(uid.as_str());
    assert!(!mock.holds(&by_name, &group).await.unwrap());
    send_json(
        &mock,
        Method::POST,
        "/api/now/table/sys_user_grmember",
        &json!({"user": uid, "group": gid}),
    )
    .await;
    send_json(
        &mock,
        Method::POST,
        "/api/now/table/sys_user_has_role",
        &json!({"user": uid, "role": rid}),
    )
    .await;
    assert!(mock.holds(&by_name, &group).await.unwrap());
    assert!(mock.holds(&by_id, &role).await.unwrap());
    let other_role = EntitlementRef::new(EntitlementType::role(), gid.as_str());
    assert!(
        !mock.holds(&by_id, &other_role).await.unwrap(),
        "a group id is no role"
    );
    let err = mock
        .holds(&AccountId::new("nobody"), &group)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    let (status, _, _) = get(&mock, "/api/now/table/sys_user", &[]).await;
    assert_eq!(status, 200);
    assert_eq!(AccountBackend::requests_seen(&mock), 3);
}
