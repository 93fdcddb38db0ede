//! Generated users: keyset pages by `sys_id` range, offset pages, and the overlay of
//! edits, deletes and inserts on top of them.

use reqwest::Method;
use serde_json::json;

use super::support::{column, get, send_json};
use crate::data::SyntheticPeople;
use crate::servicenow::ServiceNowMock;

async fn page(mock: &ServiceNowMock, query: &str, limit: &str) -> (Option<usize>, Vec<String>) {
    let q = [
        ("sysparm_query", query),
        ("sysparm_limit", limit),
        ("sysparm_fields", "sys_id,user_name"),
    ];
    let (status, headers, body) = get(mock, "/api/now/table/sys_user", &q).await;
    assert_eq!(status, 200, "{body}");
    let total = headers
        .get("x-total-count")
        .map(|v| v.to_str().unwrap().parse().unwrap());
    (total, column(&body, "sys_id"))
}

/// Every sys_id by keyset paging; also checks each page's total.
async fn keyset_all(mock: &ServiceNowMock, limit: usize) -> Vec<String> {
    let mut all: Vec<String> = Vec::new();
    loop {
        let query = match all.last() {
            Some(last) => format!("sys_id>{last}^ORDERBYsys_id"),
            None => "ORDERBYsys_id".to_owned(),
        };
        let (_, ids) = page(mock, &query, &limit.to_string()).await;
        if ids.is_empty() {
            return all;
        }
        all.extend(ids);
    }
}

#[tokio::test]
async fn keyset_pages_walk_a_large_table_in_order() {
    let n = 2_500;
    let mock = ServiceNowMock::builder().synthetic_users(n).start().await;
    let ids = keyset_all(&mock, 1000).await;
    assert_eq!(ids.len(), n);
    assert_eq!(mock.synthetic_user_id(0).as_ref(), Some(&ids[0]));
    assert_eq!(mock.synthetic_user_id(n - 1).as_ref(), Some(&ids[n - 1]));
    assert_eq!(mock.synthetic_user_id(n), None);
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "strictly increasing");
    assert_eq!(
        mock.count("GET", "/sys_user"),
        4,
        "3 full pages and the empty one"
    );
    // The remaining count shrinks with the cursor.
    let (total, _) = page(&mock, &format!("sys_id>{}^ORDERBYsys_id", ids[999]), "10").await;
    assert_eq!(total, Some(n - 1000));
    // Names match the generator.
    let people = SyntheticPeople::new(n, 0);
    let first = mock.row("sys_user", &ids[0]).unwrap();
    assert_eq!(first["user_name"], people.person(0).unwrap().login);
    assert_eq!(first["email"], people.person(0).unwrap().email);
}

#[tokio::test]
async fn a_million_users_serve_a_deep_keyset_page() {
    // The fast path: the bound becomes an index range, no scan of a million rows.
    let mock = ServiceNowMock::builder()
        .synthetic_users(1_000_000)
        .start()
        .await;
    let (_, head) = page(&mock, "ORDERBYsys_id", "1").await;
    let all = mock.table_len("sys_user");
    assert_eq!(all, 1_000_000);
    let (_, ids) = page(&mock, "ORDERBYsys_id", "3").await;
    assert_eq!(ids[0], head[0]);
    let cursor = ids[2].clone();
    let (total, next) = page(&mock, &format!("sys_id>{cursor}^ORDERBYsys_id"), "1000").await;
    assert_eq!(total, Some(999_997));
    assert_eq!(next.len(), 1000);
    assert!(next[0] > cursor);
    let (total, upper) = page(
        &mock,
        &format!("sys_id>={}^sys_id<{}", next[0], next[10]),
        "100",
    )
    .await;
    assert_eq!((total, upper), (Some(10), next[..10].to_vec()));
}

#[tokio::test]
async fn offset_paging_agrees_with_keyset() {
    let mock = ServiceNowMock::builder().synthetic_users(250).start().await;
    let keyset = keyset_all(&mock, 100).await;
    let mut offset = Vec::new();
    for start in (0..300).step_by(70) {
        let q = [
            ("sysparm_query", "ORDERBYsys_id"),
            ("sysparm_limit", "70"),
            ("sysparm_offset", &start.to_string()),
        ];
        let (_, headers, body) = get(&mock, "/api/now/table/sys_user", &q).await;
        assert_eq!(headers["x-total-count"], "250");
        offset.extend(column(&body, "sys_id"));
    }
    assert_eq!(offset, keyset);
}

#[tokio::test]
async fn overlay_edits_deletes_inserts_and_hidden_rows() {
    let mock = ServiceNowMock::builder().synthetic_users(50).start().await;
    let ids = keyset_all(&mock, 50).await;
    // Edit #3 through the API, delete #4, hide #5, insert a user whose sys_id sorts first.
    let path = format!("/api/now/table/sys_user/{}", ids[3]);
    let (status, body) = send_json(&mock, Method::PATCH, &path, &json!({"active": "false"})).await;
    assert_eq!((status, &body["result"]["active"]), (200, &json!("false")));
    assert!(mock.remove("sys_user", &ids[4]));
    mock.hide("sys_user", &ids[5]);
    let early = "00000000000000000000000000000abc";
    mock.insert(
        "sys_user",
        json!({"sys_id": early, "user_name": "early.bird"}),
    );
    assert_eq!(mock.table_len("sys_user"), 50);

    let (total, first) = page(&mock, "ORDERBYsys_id", "7").await;
    assert_eq!(total, Some(50), "hidden row counted, deleted one not");
    let want = [early, &ids[0], &ids[1], &ids[2], &ids[3]];
    assert_eq!(first[..5], want, "inserted row merged in sys_id order");
    assert_eq!(
        first.len(),
        6,
        "the hidden row leaves the page short: {first:?}"
    );
    assert_eq!(first[5], ids[6]);

    let (total, inactive) = page(&mock, "active=false^ORDERBYsys_id", "100").await;
    let people = SyntheticPeople::new(50, 0);
    let generated_inactive = (0..50)
        .filter(|i| ![3, 4].contains(i) && !people.person(*i).unwrap().active)
        .count();
    assert_eq!(total, Some(generated_inactive + 1));
    assert!(inactive.contains(&ids[3]));

    // The duplicate check sees generated logins; a deleted one is free again.
    let taken = people.person(7).unwrap().login;
    let (status, _) = send_json(
        &mock,
        Method::POST,
        "/api/now/table/sys_user",
        &json!({"user_name": taken}),
    )
    .await;
    assert_eq!(status, 403);
    let freed = people.person(4).unwrap().login;
    let (status, _) = send_json(
        &mock,
        Method::POST,
        "/api/now/table/sys_user",
        &json!({"user_name": freed}),
    )
    .await;
    assert_eq!(status, 201);
    let (status, _, _) = get(&mock, &format!("/api/now/table/sys_user/{}", ids[4]), &[]).await;
    assert_eq!(status, 404);
}
