//! Create, read, list: the round trip a connector starts with.

use reqwest::Method;
use serde_json::json;

use super::support::{get, send_json};
use crate::servicenow::ServiceNowMock;

#[tokio::test]
async fn created_incident_reads_back_by_id_and_number() {
    let mock = ServiceNowMock::start().await;
    let (status, body) = send_json(
        &mock,
        Method::POST,
        "/api/now/table/incident",
        &json!({"short_description": "Payroll access", "urgency": 2, "bogus": "x"}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let id = body["result"]["sys_id"].as_str().unwrap().to_owned();
    assert_eq!(body["result"]["number"], "INC0010001");
    assert_eq!(body["result"]["state"], "1");
    assert_eq!(
        body["result"]["urgency"], "2",
        "numbers are stored as strings"
    );
    assert!(body["result"].get("bogus").is_none());

    let (status, _, one) = get(&mock, &format!("/api/now/table/incident/{id}"), &[]).await;
    assert_eq!(
        (status, &one["result"]["short_description"]),
        (200, &json!("Payroll access"))
    );
    let (status, headers, list) = get(
        &mock,
        "/api/now/v2/table/task",
        &[("sysparm_query", "number=INC0010001")],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(headers["x-total-count"], "1");
    assert_eq!(list["result"][0]["sys_class_name"], "incident");
    assert_eq!(mock.count("POST", "/incident"), 1);
    assert_eq!(mock.count("GET", "/table/"), 2);
}

#[tokio::test]
async fn list_pages_by_offset_with_total_and_links() {
    let mock = ServiceNowMock::start().await;
    for i in 0..5 {
        mock.insert("sys_user_group", json!({"name": format!("g{i}")}));
    }
    let q = [
        ("sysparm_query", "ORDERBYname"),
        ("sysparm_limit", "2"),
        ("sysparm_offset", "2"),
    ];
    let (status, headers, body) = get(&mock, "/api/now/table/sys_user_group", &q).await;
    assert_eq!(status, 200);
    assert_eq!(super::support::column(&body, "name"), ["g2", "g3"]);
    assert_eq!(headers["x-total-count"], "5");
    let link = headers["link"].to_str().unwrap();
    for rel in ["first", "prev", "next", "last"] {
        assert!(link.contains(&format!("rel=\"{rel}\"")), "{rel} in {link}");
    }
    assert!(link.contains("sysparm_offset=4&sysparm_limit=2"), "{link}");
}

#[tokio::test]
async fn request_log_counts_and_clears() {
    let mock = ServiceNowMock::start().await;
    get(&mock, "/api/now/table/sys_user", &[("sysparm_limit", "5")]).await;
    let body = json!({"element": "comments", "value": "forged"});
    let (status, _) = send_json(
        &mock,
        Method::POST,
        "/api/now/table/sys_journal_field",
        &body,
    )
    .await;
    assert_eq!(
        status, 403,
        "the journal is read-only through the Table API"
    );
    assert_eq!(mock.table_len("sys_journal_field"), 0);
    let log = mock.requests();
    assert_eq!(log.len(), 2);
    assert_eq!(
        (log[0].method.as_str(), log[0].path.as_str()),
        ("GET", "/api/now/table/sys_user")
    );
    assert_eq!(log[0].param("sysparm_limit"), Some("5"));
    assert_eq!(log[1].body, Some(body));
    assert_eq!(
        (mock.count("get", "sys_user"), mock.count("", "/api/now/")),
        (1, 2)
    );
    mock.clear_requests();
    assert!(mock.requests().is_empty());
    assert_eq!(mock.count("", ""), 0);
}
