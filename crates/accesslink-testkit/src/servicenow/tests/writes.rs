//! Writes: journal fields, the incident data policy, `active` following `state`, the
//! unique `user_name`, duplicate-friendly link tables, JSON only, deletes.

use reqwest::Method;
use serde_json::{Value, json};

use super::support::{call, get, send_json, split};
use crate::servicenow::ServiceNowMock;

#[tokio::test]
async fn journal_fields_are_write_only() {
    let mock = ServiceNowMock::start().await;
    let inc = mock.insert("incident", json!({"short_description": "x"}));
    let path = format!("/api/now/table/incident/{inc}");
    let (status, body) =
        send_json(&mock, Method::PATCH, &path, &json!({"comments": "hello"})).await;
    assert_eq!(status, 200);
    assert_eq!(
        body["result"]["comments"], "",
        "GET never shows the journal text"
    );
    send_json(
        &mock,
        Method::PUT,
        &path,
        &json!({"work_notes": "internal"}),
    )
    .await;
    assert_eq!(
        mock.journal(&inc),
        [
            ("comments".into(), "hello".into()),
            ("work_notes".into(), "internal".into())
        ]
    );
    let q = [(
        "sysparm_query",
        format!("element_id={inc}^element=comments"),
    )];
    let q: Vec<(&str, &str)> = q.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (_, _, body) = get(&mock, "/api/now/table/sys_journal_field", &q).await;
    let rows = body["result"].as_array().unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(
        (&rows[0]["value"], &rows[0]["name"]),
        (&json!("hello"), &json!("incident"))
    );
}

#[tokio::test]
async fn resolving_an_incident_needs_code_and_notes() {
    let mock = ServiceNowMock::start().await;
    let inc = mock.insert("incident", json!({}));
    let path = format!("/api/now/table/incident/{inc}");
    let (status, body) = send_json(&mock, Method::PATCH, &path, &json!({"state": "6"})).await;
    assert_eq!(status, 403);
    assert_eq!(
        body,
        json!({"error":{"message":"Operation Failed","detail":"Data Policy Exception: \n The following fields are mandatory: Resolution code, Resolution notes\n"},"status":"failure"})
    );
    assert_eq!(
        mock.row("incident", &inc).unwrap()["state"],
        "1",
        "nothing written"
    );
    let patch = json!({"state": "6", "close_code": "Solution provided"});
    let (status, _) = send_json(&mock, Method::PATCH, &path, &patch).await;
    assert_eq!(status, 403, "notes missing too");
    let patch = json!({"state": 6, "close_code": "Solution provided", "close_notes": "ok"});
    let (status, body) = send_json(&mock, Method::PATCH, &path, &patch).await;
    assert_eq!((status, &body["result"]["state"]), (200, &json!("6")));
    assert_eq!(
        body["result"]["active"], "true",
        "resolved incidents stay active"
    );
    // Code and notes already on the row satisfy the policy for the close.
    let (status, body) = send_json(&mock, Method::PATCH, &path, &json!({"state": "7"})).await;
    assert_eq!((status, &body["result"]["active"]), (200, &json!("false")));
    assert!(!body["result"]["closed_at"].as_str().unwrap().is_empty());
}

#[tokio::test]
async fn active_follows_state_per_table() {
    let mock = ServiceNowMock::start().await;
    let cases = [
        ("incident", "8", "false"),
        ("incident", "3", "true"),
        ("change_request", "3", "false"),
        ("change_request", "-1", "true"),
        ("change_task", "4", "false"),
        ("sc_req_item", "2", "true"),
        ("sc_task", "3", "false"),
    ];
    for (table, state, active) in cases {
        let id = mock.insert(table, json!({}));
        let path = format!("/api/now/table/{table}/{id}");
        let (status, body) = send_json(&mock, Method::PATCH, &path, &json!({"state": state})).await;
        assert_eq!(status, 200, "{table} {body}");
        assert_eq!(body["result"]["active"], active, "{table} state {state}");
    }
}

#[tokio::test]
async fn posting_fills_defaults_and_keeps_only_known_and_custom_fields() {
    let mock = ServiceNowMock::start().await;
    let body = json!({"short_description": "x", "u_cost_center": "42", "typo_field": "y",
                      "sys_created_on": "1999-01-01 00:00:00"});
    let (status, body) = send_json(&mock, Method::POST, "/api/now/table/sc_req_item", &body).await;
    assert_eq!(status, 201);
    let r = &body["result"];
    assert_eq!(r["number"], "RITM0010001");
    assert_eq!(
        (&r["state"], &r["active"], &r["approval"]),
        (&json!("1"), &json!("true"), &json!("not requested"))
    );
    assert_eq!(r["u_cost_center"], "42");
    assert!(r.get("typo_field").is_none());
    assert_ne!(
        r["sys_created_on"], "1999-01-01 00:00:00",
        "system fields are not writable"
    );
    let id = r["sys_id"].as_str().unwrap();
    assert!(
        id.len() == 32
            && id
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    );
    let stored = mock.row("sc_req_item", id).unwrap();
    assert!(stored.get("typo_field").is_none());
    for (table, number) in [
        ("change_request", "CHG0030001"),
        ("change_task", "CTASK0010001"),
        ("sc_request", "REQ0010001"),
        ("sc_task", "SCTASK0010001"),
        ("problem", "PRB0040001"),
        ("pm_project", "PRJ0001001"),
        ("pm_project_task", "PRJTASK0001001"),
        ("task", "TASK0010001"),
    ] {
        let (status, body) = send_json(
            &mock,
            Method::POST,
            &format!("/api/now/table/{table}"),
            &json!({}),
        )
        .await;
        assert_eq!((status, &body["result"]["number"]), (201, &json!(number)));
    }
}

#[tokio::test]
async fn duplicate_user_name_is_refused_but_duplicate_memberships_are_not() {
    let mock = ServiceNowMock::start().await;
    let user = json!({"user_name": "jdoe", "first_name": "Jane", "last_name": "Doe"});
    let (status, body) = send_json(&mock, Method::POST, "/api/now/table/sys_user", &user).await;
    assert_eq!((status, &body["result"]["name"]), (201, &json!("Jane Doe")));
    let uid = body["result"]["sys_id"].as_str().unwrap().to_owned();
    let (status, body) = send_json(&mock, Method::POST, "/api/now/table/sys_user", &user).await;
    assert_eq!(status, 403);
    assert_eq!(
        body,
        json!({"error":{"message":"Operation Failed","detail":"Error during insert of sys_user (jdoe)"},"status":"failure"})
    );
    assert_eq!(mock.find("sys_user", "user_name", "jdoe").len(), 1);

    let gid = mock.insert("sys_user_group", json!({"name": "g"}));
    let rid = mock.insert("sys_user_role", json!({"name": "itil"}));
    for _ in 0..2 {
        let m = json!({"user": uid, "group": gid});
        assert_eq!(
            send_json(&mock, Method::POST, "/api/now/table/sys_user_grmember", &m)
                .await
                .0,
            201
        );
        let r = json!({"user": uid, "role": rid});
        let (status, body) =
            send_json(&mock, Method::POST, "/api/now/table/sys_user_has_role", &r).await;
        assert_eq!(
            (status, &body["result"]["inherited"]),
            (201, &json!("false"))
        );
    }
    assert_eq!(mock.table_len("sys_user_grmember"), 2, "no unique index");
    assert_eq!(mock.table_len("sys_user_has_role"), 2);

    // Deleting the user takes its memberships and grants with it.
    let resp = call(
        &mock,
        Method::DELETE,
        &format!("/api/now/table/sys_user/{uid}"),
    )
    .send()
    .await
    .unwrap();
    let (status, _, body) = split(resp).await;
    assert_eq!((status, body), (204, Value::Null));
    assert_eq!(
        mock.table_len("sys_user_grmember") + mock.table_len("sys_user_has_role"),
        0
    );
    assert_eq!(mock.table_len("sys_user_group"), 1);
    let resp = call(
        &mock,
        Method::DELETE,
        &format!("/api/now/table/sys_user/{uid}"),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(resp.status(), 404);
}

#[tokio::test]
async fn writes_take_json_only() {
    let mock = ServiceNowMock::start().await;
    let resp = call(&mock, Method::POST, "/api/now/table/incident")
        .header("content-type", "application/x-www-form-urlencoded")
        .body("short_description=x")
        .send()
        .await
        .unwrap();
    let (status, _, body) = split(resp).await;
    assert_eq!((status, &body["status"]), (400, &json!("failure")));
    let resp = call(&mock, Method::POST, "/api/now/table/incident")
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert_eq!(mock.table_len("incident"), 0);
    let hidden = mock.insert("incident", json!({}));
    mock.hide("incident", &hidden);
    let path = format!("/api/now/table/incident/{hidden}");
    assert_eq!(
        send_json(&mock, Method::PATCH, &path, &json!({"state": "2"}))
            .await
            .0,
        404
    );
    assert_eq!(mock.row("incident", &hidden).unwrap()["state"], "1");
}

#[tokio::test]
async fn user_name_is_unique_on_update_and_name_follows_first_and_last() {
    let mock = ServiceNowMock::builder().synthetic_users(5).start().await;
    let taken = mock.rows("sys_user")[0]["user_name"]
        .as_str()
        .unwrap()
        .to_owned();
    let id = mock.insert(
        "sys_user",
        json!({"user_name": "jdoe", "first_name": "Jane", "last_name": "Doe"}),
    );
    let path = format!("/api/now/table/sys_user/{id}");
    let (status, body) = send_json(&mock, Method::PATCH, &path, &json!({"user_name": taken})).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(mock.row("sys_user", &id).unwrap()["user_name"], "jdoe");
    let (status, body) = send_json(
        &mock,
        Method::PATCH,
        &path,
        &json!({"last_name": "Roe", "user_name": "jdoe"}),
    )
    .await;
    assert_eq!((status, &body["result"]["name"]), (200, &json!("Jane Roe")));
}
