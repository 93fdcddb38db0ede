//! List calls: paging headers, ACL-hidden rows, `sysparm_no_count`, `sysparm_fields`,
//! `name=value` filters, the default limit and the versioned paths.

use serde_json::json;

use super::support::{column, get};
use crate::servicenow::ServiceNowMock;

/// Groups `g0`…`g{n-1}` with sys_ids `…01`, `…02`, … (so `ORDERBYsys_id` is name order).
fn groups(mock: &ServiceNowMock, n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            let id = format!("{:032x}", i + 1);
            mock.insert(
                "sys_user_group",
                json!({"sys_id": id, "name": format!("g{i}")}),
            )
        })
        .collect()
}

fn link(headers: &reqwest::header::HeaderMap) -> String {
    headers["link"].to_str().unwrap().to_owned()
}

#[tokio::test]
async fn hidden_rows_count_in_the_total_but_leave_the_page_short() {
    let mock = ServiceNowMock::start().await;
    let ids = groups(&mock, 6);
    mock.hide("sys_user_group", &ids[1]);
    mock.hide("sys_user_group", &ids[2]);
    let q = [("sysparm_query", "ORDERBYsys_id"), ("sysparm_limit", "3")];
    let (status, headers, body) = get(&mock, "/api/now/table/sys_user_group", &q).await;
    assert_eq!(status, 200);
    assert_eq!(
        column(&body, "name"),
        ["g0"],
        "limit applied before the ACL filter"
    );
    assert_eq!(headers["x-total-count"], "6", "hidden rows still counted");
    assert!(
        link(&headers).contains("rel=\"next\""),
        "more rows follow a short page"
    );

    let q = [
        ("sysparm_query", "ORDERBYsys_id"),
        ("sysparm_limit", "3"),
        ("sysparm_offset", "3"),
    ];
    let (_, headers, body) = get(&mock, "/api/now/table/sys_user_group", &q).await;
    assert_eq!(column(&body, "name"), ["g3", "g4", "g5"]);
    assert!(
        !link(&headers).contains("rel=\"next\""),
        "{}",
        link(&headers)
    );
    assert!(link(&headers).contains("rel=\"prev\""));

    let (status, _, body) = get(
        &mock,
        &format!("/api/now/table/sys_user_group/{}", ids[1]),
        &[],
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(body["error"]["message"], "No Record found");
    assert_eq!(
        body["error"]["detail"],
        "Record doesn't exist or ACL restricts the record retrieval"
    );
    assert!(
        mock.row("sys_user_group", &ids[1]).is_some(),
        "hidden, not gone"
    );
}

#[tokio::test]
async fn links_keep_the_query_and_first_page_has_no_prev() {
    let mock = ServiceNowMock::start().await;
    groups(&mock, 5);
    let q = [
        ("sysparm_query", "nameSTARTSWITHg^ORDERBYname"),
        ("sysparm_limit", "2"),
    ];
    let (_, headers, body) = get(&mock, "/api/now/v1/table/sys_user_group", &q).await;
    assert_eq!(column(&body, "name"), ["g0", "g1"]);
    let link = link(&headers);
    let base = format!("{}/api/now/v1/table/sys_user_group?", mock.url());
    let next = format!(
        "<{base}sysparm_offset=2&sysparm_limit=2&sysparm_query=nameSTARTSWITHg%5EORDERBYname>;rel=\"next\""
    );
    assert!(link.contains(&next), "{link}");
    assert!(link.contains("sysparm_offset=4&sysparm_limit=2") && link.contains("rel=\"last\""));
    assert!(!link.contains("rel=\"prev\""), "{link}");
}

#[tokio::test]
async fn no_count_drops_the_total_and_empty_lists_are_200() {
    let mock = ServiceNowMock::start().await;
    groups(&mock, 3);
    let q = [("sysparm_no_count", "true"), ("sysparm_limit", "2")];
    let (_, headers, body) = get(&mock, "/api/now/table/sys_user_group", &q).await;
    assert!(headers.get("x-total-count").is_none());
    assert_eq!(column(&body, "name").len(), 2);
    assert!(link(&headers).contains("rel=\"next\"") && !link(&headers).contains("rel=\"last\""));

    let q = [("sysparm_query", "name=nobody")];
    let (status, headers, body) = get(&mock, "/api/now/table/sys_user_group", &q).await;
    assert_eq!((status, &body), (200, &json!({"result": []})));
    assert_eq!(headers["x-total-count"], "0");
}

#[tokio::test]
async fn fields_pairs_and_default_limit() {
    let mock = ServiceNowMock::builder()
        .page_limit_default(2)
        .start()
        .await;
    groups(&mock, 3);
    let q = [("sysparm_fields", "name,nonsense,sys_id")];
    let (_, headers, body) = get(&mock, "/api/now/v2/table/sys_user_group", &q).await;
    assert_eq!(headers["x-total-count"], "3");
    let rows = body["result"].as_array().unwrap();
    assert_eq!(
        rows.len(),
        2,
        "page_limit_default applies without sysparm_limit"
    );
    let keys: Vec<&String> = rows[0].as_object().unwrap().keys().collect();
    assert_eq!(keys, ["name", "sys_id"], "unknown field left out");

    // name=value pairs filter, unless sysparm_query is there (mutually exclusive).
    let (_, _, body) = get(&mock, "/api/now/table/sys_user_group", &[("name", "g1")]).await;
    assert_eq!(column(&body, "name"), ["g1"]);
    let both = [("name", "g1"), ("sysparm_query", "name=g2")];
    let (_, _, body) = get(&mock, "/api/now/table/sys_user_group", &both).await;
    assert_eq!(column(&body, "name"), ["g2"]);
}

#[tokio::test]
async fn task_lists_every_ticket_table() {
    let mock = ServiceNowMock::start().await;
    let inc = mock.insert("incident", json!({"short_description": "a"}));
    let chg = mock.insert("change_request", json!({"short_description": "b"}));
    let prj = mock.insert("pm_project_task", json!({"short_description": "c"}));
    mock.insert("sys_user", json!({"user_name": "not.a.task"}));
    let q = [("sysparm_query", "ORDERBYnumber")];
    let (_, headers, body) = get(&mock, "/api/now/table/task", &q).await;
    assert_eq!(headers["x-total-count"], "3");
    assert_eq!(
        column(&body, "number"),
        ["CHG0030001", "INC0010001", "PRJTASK0001001"]
    );
    assert_eq!(
        column(&body, "sys_class_name"),
        ["change_request", "incident", "pm_project_task"]
    );
    for id in [inc, chg, prj] {
        let (status, _, _) = get(&mock, &format!("/api/now/table/task/{id}"), &[]).await;
        assert_eq!(status, 200);
    }
    let (status, _, _) = get(
        &mock,
        &format!("/api/now/table/incident/{}", "0".repeat(32)),
        &[],
    )
    .await;
    assert_eq!(status, 404);
    let (status, _, body) = get(&mock, "/api/now/table/cmdb_ci", &[]).await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        json!({"error":{"message":"Invalid table cmdb_ci","detail":null},"status":"failure"})
    );
}
