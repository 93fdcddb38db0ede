//! Reference fields and `sysparm_display_value` / `sysparm_exclude_reference_link`.

use serde_json::json;

use super::support::get;
use crate::servicenow::ServiceNowMock;

async fn incident_with_caller() -> (ServiceNowMock, String, String) {
    let mock = ServiceNowMock::start().await;
    let user = mock.insert(
        "sys_user",
        json!({"user_name": "ada", "first_name": "Ada", "last_name": "Lovelace"}),
    );
    let inc = mock.insert("incident", json!({"caller_id": user, "state": "2"}));
    (mock, user, inc)
}

#[tokio::test]
async fn references_print_as_link_value_by_default() {
    let (mock, user, inc) = incident_with_caller().await;
    let path = format!("/api/now/table/incident/{inc}");
    let (_, _, body) = get(
        &mock,
        &path,
        &[("sysparm_fields", "caller_id,state,assigned_to")],
    )
    .await;
    let link = format!("{}/api/now/table/sys_user/{user}", mock.url());
    assert_eq!(
        body["result"],
        json!({"caller_id": {"link": link, "value": user}, "state": "2", "assigned_to": ""})
    );
    let q = [
        ("sysparm_fields", "caller_id"),
        ("sysparm_exclude_reference_link", "true"),
    ];
    let (_, _, body) = get(&mock, &path, &q).await;
    assert_eq!(body["result"], json!({"caller_id": user}));
}

#[tokio::test]
async fn display_value_true_and_all() {
    let (mock, user, inc) = incident_with_caller().await;
    let path = format!("/api/now/table/incident/{inc}");
    let q = [
        ("sysparm_fields", "caller_id,state,number"),
        ("sysparm_display_value", "true"),
    ];
    let (_, _, body) = get(&mock, &path, &q).await;
    assert_eq!(
        body["result"],
        json!({"caller_id": "Ada Lovelace", "state": "In Progress", "number": "INC0010001"})
    );
    let q = [
        ("sysparm_fields", "caller_id,state"),
        ("sysparm_display_value", "all"),
    ];
    let (_, _, body) = get(&mock, &path, &q).await;
    let link = format!("{}/api/now/table/sys_user/{user}", mock.url());
    assert_eq!(
        body["result"],
        json!({
            "caller_id": {"display_value": "Ada Lovelace", "value": user, "link": link},
            "state": {"display_value": "In Progress", "value": "2"},
        })
    );
    let q = [
        ("sysparm_fields", "caller_id"),
        ("sysparm_display_value", "all"),
        ("sysparm_exclude_reference_link", "true"),
    ];
    let (_, _, body) = get(&mock, &path, &q).await;
    assert_eq!(
        body["result"]["caller_id"],
        json!({"display_value": "Ada Lovelace", "value": user})
    );
}

#[tokio::test]
async fn membership_references_show_names() {
    let mock = ServiceNowMock::start().await;
    let user = mock.insert("sys_user", json!({"user_name": "bob", "name": "Bob B"}));
    let group = mock.insert("sys_user_group", json!({"name": "Payroll admins"}));
    mock.insert("sys_user_grmember", json!({"user": user, "group": group}));
    let q = [
        ("sysparm_display_value", "true"),
        ("sysparm_fields", "user,group"),
    ];
    let (_, _, body) = get(&mock, "/api/now/table/sys_user_grmember", &q).await;
    assert_eq!(
        body["result"],
        json!([{"user": "Bob B", "group": "Payroll admins"}])
    );
}
