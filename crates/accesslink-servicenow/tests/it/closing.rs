//! Closing is kind-appropriate (what the mock received) and confirmed; closing a closed
//! ticket writes nothing.

use accesslink_core::{Resolution, TicketRef, TicketState, TicketingSystem};
use accesslink_servicenow::{IncidentClose, ServiceNowConfig};
use accesslink_testkit::servicenow::ServiceNowMock;
use serde_json::{Value, json};

use crate::mock::{basic_on, basic_with};

fn patches(mock: &ServiceNowMock, table: &str) -> Vec<Value> {
    mock.requests()
        .into_iter()
        .filter(|r| r.method == "PATCH" && r.path.starts_with(&format!("/api/now/table/{table}/")))
        .filter_map(|r| r.body)
        .collect()
}

async fn close(
    mock: &ServiceNowMock,
    table: &str,
    how: Resolution,
) -> (accesslink_core::Ticket, Vec<Value>) {
    let sn = basic_on(mock);
    let id = mock.insert(table, json!({ "short_description": "x" }));
    mock.clear_requests();
    let t = sn
        .close_ticket(&TicketRef::by_id(id.clone()).with_scope(table), &how)
        .await
        .unwrap();
    (t, patches(mock, table))
}

#[tokio::test]
async fn each_table_is_closed_its_own_way() {
    let mock = ServiceNowMock::start().await;
    let (t, p) = close(&mock, "incident", Resolution::done("granted")).await;
    assert_eq!(t.status.state, TicketState::Closed);
    assert_eq!(
        p,
        vec![
            json!({"state": "6", "close_code": "Solution provided", "close_notes": "granted"}),
            json!({"state": "7"}),
        ]
    );
    let (t, p) = close(&mock, "incident", Resolution::failed("no budget")).await;
    assert_eq!(t.status.state, TicketState::Cancelled);
    assert_eq!(
        p,
        vec![json!({"state": "8", "close_notes": "no budget"})],
        "no invented close code"
    );
    let (_, p) = close(
        &mock,
        "incident",
        Resolution::failed("dup").code("Duplicate"),
    )
    .await;
    assert_eq!(
        p,
        vec![json!({"state": "8", "close_code": "Duplicate", "close_notes": "dup"})]
    );

    let (t, p) = close(&mock, "change_request", Resolution::failed("rolled back")).await;
    assert_eq!(t.status.state, TicketState::Closed);
    assert_eq!(
        p,
        vec![json!({"state": "3", "close_code": "unsuccessful", "close_notes": "rolled back"})]
    );

    let (t, p) = close(&mock, "sc_request", Resolution::done("ok")).await;
    assert_eq!(t.status.state, TicketState::Closed);
    assert_eq!(
        p,
        vec![json!({"state": "3", "request_state": "closed_complete", "close_notes": "ok"})]
    );

    let (t, p) = close(&mock, "sc_req_item", Resolution::failed("denied")).await;
    assert_eq!(t.status.state, TicketState::Cancelled);
    assert_eq!(p, vec![json!({"state": "4", "close_notes": "denied"})]);

    let (t, p) = close(
        &mock,
        "problem",
        Resolution::done("fixed").code("Fix Applied"),
    )
    .await;
    assert_eq!(t.status.state, TicketState::Closed);
    assert_eq!(p[0]["state"], "107");

    // Already closed: nothing is written.
    let id = t.reference.id().map(str::to_owned).unwrap();
    mock.clear_requests();
    let sn = basic_on(&mock);
    sn.close_ticket(
        &TicketRef::by_id(id).with_scope("problem"),
        &Resolution::done("again"),
    )
    .await
    .unwrap();
    assert!(patches(&mock, "problem").is_empty());
}

#[tokio::test]
async fn resolve_only_stops_at_resolved_and_the_data_policy_is_met() {
    let mock = ServiceNowMock::start().await;
    let sn = basic_with(
        &mock,
        ServiceNowConfig::new().incident_close(IncidentClose::ResolveOnly),
    );
    let id = mock.insert(
        "incident",
        json!({ "short_description": "x", "state": "2" }),
    );
    let t = sn
        .close_ticket(
            &TicketRef::by_id(id.clone()).with_scope("incident"),
            &Resolution::done(""),
        )
        .await
        .unwrap();
    assert_eq!(t.status.state, TicketState::Resolved);
    let row = mock.row("incident", &id).unwrap();
    assert_eq!(row["close_code"], "Solution provided");
    assert_eq!(
        row["close_notes"], "Closed by accesslink.",
        "mandatory notes are never empty"
    );
}

#[tokio::test]
async fn a_resolved_problem_is_closed_not_left_resolved() {
    let mock = ServiceNowMock::start().await;
    let sn = basic_on(&mock);
    let id = mock.insert(
        "problem",
        json!({ "short_description": "x", "state": "106" }),
    );
    mock.clear_requests();
    let t = sn
        .close_ticket(
            &TicketRef::by_id(id.clone()).with_scope("problem"),
            &Resolution::done("fixed"),
        )
        .await
        .unwrap();
    assert_eq!(t.status.state, TicketState::Closed);
    assert_eq!(
        patches(&mock, "problem"),
        vec![json!({"state": "107", "close_notes": "fixed"})]
    );
    assert_eq!(mock.row("problem", &id).unwrap()["state"], "107");
}
