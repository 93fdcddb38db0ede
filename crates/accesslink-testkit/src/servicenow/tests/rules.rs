//! Opt-in instance behaviour: business-rule aborts and case-insensitive comparisons.

use reqwest::Method;
use serde_json::json;

use super::support::{column, get, send_json};
use crate::servicenow::{AbortHow, AbortRule, ServiceNowMock};

#[tokio::test]
async fn silent_aborts_answer_success_and_store_nothing() {
    let mock = ServiceNowMock::start().await;
    let inc = mock.insert(
        "incident",
        json!({"close_code": "Duplicate", "close_notes": "n"}),
    );
    mock.abort_writes("incident", AbortRule::new("state", "7", AbortHow::Silent));
    let path = format!("/api/now/table/incident/{inc}");
    let patch = json!({"state": "7", "comments": "closing"});
    let (status, body) = send_json(&mock, Method::PATCH, &path, &patch).await;
    assert_eq!(status, 200);
    assert_eq!(
        (&body["result"]["state"], &body["result"]["active"]),
        (&json!("1"), &json!("true"))
    );
    assert_eq!(mock.row("incident", &inc).unwrap()["state"], "1");
    assert!(
        mock.journal(&inc).is_empty(),
        "the comment went with the aborted write"
    );
    // Other writes pass; the rule matches the written value only.
    let (status, body) = send_json(&mock, Method::PATCH, &path, &json!({"state": "2"})).await;
    assert_eq!((status, &body["result"]["state"]), (200, &json!("2")));

    mock.abort_writes(
        "sys_user",
        AbortRule::new("user_name", "blocked", AbortHow::Silent),
    );
    let user = json!({"user_name": "blocked"});
    let (status, body) = send_json(&mock, Method::POST, "/api/now/table/sys_user", &user).await;
    assert_eq!((status, body), (201, json!({"result": {}})));
    assert_eq!(mock.table_len("sys_user"), 0);
    assert!(
        mock.update("incident", &inc, json!({"state": "7"})),
        "admin writes pass"
    );
    assert_eq!(mock.row("incident", &inc).unwrap()["state"], "7");
}

#[tokio::test]
async fn forbidden_aborts_answer_403_and_store_nothing() {
    let mock = ServiceNowMock::start().await;
    let chg = mock.insert("change_request", json!({}));
    mock.abort_writes(
        "task",
        AbortRule::new("state", "3", AbortHow::Forbidden(None)),
    );
    let path = format!("/api/now/table/change_request/{chg}");
    let (status, body) = send_json(&mock, Method::PATCH, &path, &json!({"state": "3"})).await;
    assert_eq!(status, 403);
    assert_eq!(
        body["error"],
        json!({"message": "Operation Failed", "detail": "Error during update of change_request (CHG0030001)"})
    );
    assert_eq!(mock.row("change_request", &chg).unwrap()["state"], "-5");

    let detail = "Users may not be created inactive";
    let rule = AbortRule::new("active", "false", AbortHow::Forbidden(Some(detail.into())));
    mock.abort_writes("sys_user", rule);
    let user = json!({"user_name": "jdoe", "active": false});
    let (status, body) = send_json(&mock, Method::POST, "/api/now/table/sys_user", &user).await;
    assert_eq!((status, &body["error"]["detail"]), (403, &json!(detail)));
    mock.abort_writes(
        "sys_user",
        AbortRule::new("user_name", "x", AbortHow::Forbidden(None)),
    );
    let (_, body) = send_json(
        &mock,
        Method::POST,
        "/api/now/table/sys_user",
        &json!({"user_name": "x"}),
    )
    .await;
    assert_eq!(
        body["error"]["detail"],
        "Error during insert of sys_user (x)"
    );
    assert_eq!(mock.table_len("sys_user"), 0);

    mock.clear_abort_rules();
    let (status, _) = send_json(&mock, Method::POST, "/api/now/table/sys_user", &user).await;
    assert_eq!(status, 201);
}

#[tokio::test]
async fn comparisons_are_exact_by_default_and_fold_case_when_asked() {
    let exact = ServiceNowMock::start().await;
    let ci = ServiceNowMock::builder()
        .case_insensitive(true)
        .synthetic_users(20)
        .start()
        .await;
    for mock in [&exact, &ci] {
        mock.insert(
            "sys_user",
            json!({"user_name": "JDoe", "email": "J.Doe@Example.com"}),
        );
    }
    let cases = [
        ("user_name=jdoe", 0, 1),
        ("user_name!=jdoe^user_nameSTARTSWITHJ", 1, 0),
        ("user_nameINx,JDOE", 0, 1),
        ("emailSTARTSWITHj.doe@", 0, 1),
        ("user_name=JDoe", 1, 1),
    ];
    for (query, in_exact, in_ci) in cases {
        let q = [("sysparm_query", query), ("sysparm_fields", "user_name")];
        let (_, _, body) = get(&exact, "/api/now/table/sys_user", &q).await;
        assert_eq!(column(&body, "user_name").len(), in_exact, "exact: {query}");
        let (_, _, body) = get(&ci, "/api/now/table/sys_user", &q).await;
        let found = column(&body, "user_name");
        assert_eq!(found.len(), in_ci, "folded: {query} {found:?}");
    }
    let again = json!({"user_name": "jdoe"});
    let (status, _) = send_json(&exact, Method::POST, "/api/now/table/sys_user", &again).await;
    assert_eq!(status, 201, "exact: jdoe is not JDoe");
    let (status, body) = send_json(&ci, Method::POST, "/api/now/table/sys_user", &again).await;
    assert_eq!(status, 403);
    assert_eq!(
        body["error"]["detail"],
        "Error during insert of sys_user (jdoe)"
    );

    // Generated logins too, by query and by the unique check.
    let ci = ServiceNowMock::builder()
        .case_insensitive(true)
        .synthetic_users(20)
        .start()
        .await;
    let login = ci.rows("sys_user")[0]["user_name"]
        .as_str()
        .unwrap()
        .to_owned();
    let query = format!("user_name={}", login.to_uppercase());
    let (_, headers, _) = get(
        &ci,
        "/api/now/table/sys_user",
        &[("sysparm_query", query.as_str())],
    )
    .await;
    assert_eq!(headers["x-total-count"], "1");
    let upper = json!({"user_name": login.to_uppercase()});
    let (status, _) = send_json(&ci, Method::POST, "/api/now/table/sys_user", &upper).await;
    assert_eq!(status, 403);
}
