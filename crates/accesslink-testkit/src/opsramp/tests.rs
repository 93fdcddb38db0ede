//! The mock's own behaviour, over plain HTTP.

use std::time::Duration;

use serde_json::{Value, json};

use super::{OpsRampMock, RateLimits};

async fn token(mock: &OpsRampMock, path: &str) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(format!("{}{path}", mock.url()))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", &mock.client_id()),
            ("client_secret", &mock.client_secret()),
        ])
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

async fn get(mock: &OpsRampMock, tok: &str, path: &str) -> reqwest::Response {
    reqwest::Client::new()
        .get(format!(
            "{}/api/v2/tenants/{}/{path}",
            mock.url(),
            mock.tenant()
        ))
        .bearer_auth(tok)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn both_token_paths_issue_string_expiry_and_bad_credentials_are_401() {
    let mock = OpsRampMock::start().await;
    for path in ["/auth/oauth/token", "/tenancy/auth/oauth/token"] {
        let (status, body) = token(&mock, path).await;
        assert_eq!(status, 200, "{path}");
        assert_eq!(body["expires_in"], json!("7199"));
        assert_eq!(body["token_type"], json!("bearer"));
    }
    let r = reqwest::Client::new()
        .post(format!("{}/auth/oauth/token", mock.url()))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "nobody"),
            ("client_secret", "wrong"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error_description"], json!("Bad API credentials"));
    let r = reqwest::Client::new()
        .post(format!("{}/auth/oauth/token", mock.url()))
        .form(&[("grant_type", "password")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    assert_eq!(mock.token_requests(), 4);
    assert_eq!(mock.tokens_issued(), 2);
}

#[tokio::test]
async fn expired_token_is_407_unknown_is_401_and_put_is_405() {
    let mock = OpsRampMock::start().await;
    let (_, body) = token(&mock, "/auth/oauth/token").await;
    let tok = body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(
        get(&mock, &tok, "roles/search").await.status().as_u16(),
        200
    );
    assert_eq!(
        get(&mock, "made-up", "roles/search")
            .await
            .status()
            .as_u16(),
        401
    );
    mock.expire_tokens();
    let r = get(&mock, &tok, "roles/search").await;
    assert_eq!(r.status().as_u16(), 407);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"], json!("invalid_token"));
    assert_eq!(mock.auth_rejections(), 2);
    let (_, body) = token(&mock, "/auth/oauth/token").await;
    let tok = body["access_token"].as_str().unwrap().to_owned();
    let r = reqwest::Client::new()
        .put(format!(
            "{}/api/v2/tenants/{}/users/USR0000000001",
            mock.url(),
            mock.tenant()
        ))
        .bearer_auth(&tok)
        .json(&json!({"firstName": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 405);
    let r = reqwest::Client::new()
        .get(format!(
            "{}/api/v2/tenants/client_999/roles/search",
            mock.url()
        ))
        .bearer_auth(&tok)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 410);
}

#[tokio::test]
async fn search_pages_descend_by_default_and_ascend_on_request() {
    let mock = OpsRampMock::builder().generated_users(250).start().await;
    let (_, body) = token(&mock, "/auth/oauth/token").await;
    let tok = body["access_token"].as_str().unwrap().to_owned();
    let page: Value = get(&mock, &tok, "users/search").await.json().await.unwrap();
    assert_eq!(page["totalResults"], json!(250));
    assert_eq!(page["totalPages"], json!(3));
    assert_eq!(page["nextPage"], json!(true));
    assert_eq!(page["nextPageNo"], json!(2));
    assert_eq!(page["results"][0]["id"], json!("USR0000000250"));
    let page: Value = get(
        &mock,
        &tok,
        "users/search?pageNo=3&pageSize=100&isDescendingOrder=false",
    )
    .await
    .json()
    .await
    .unwrap();
    let results = page["results"].as_array().unwrap();
    assert_eq!(results.len(), 50);
    assert_eq!(results[0]["id"], json!("USR0000000201"));
    assert_eq!(page["nextPage"], json!(false));
    // Roles on users are `{"id": <integer>, "name"}`, as in the spec's user examples.
    let role = &results[0]["roles"][0];
    assert!(role["id"].is_u64(), "{role}");
    assert!(role["name"].is_string(), "{role}");
    assert!(role.get("uniqueId").is_none(), "{role}");
    // `%2B` separates pairs; a literal `+` is a space and matches nothing.
    let login = results[0]["loginName"].as_str().unwrap().to_owned();
    let q = format!("users/search?queryString=loginName:{login}%2Bstatus:active");
    let page: Value = get(&mock, &tok, &q).await.json().await.unwrap();
    assert_eq!(page["totalResults"], json!(1), "{page}");
    let q = format!("users/search?queryString=loginName:{login}+status:active");
    let page: Value = get(&mock, &tok, &q).await.json().await.unwrap();
    assert_eq!(page["totalResults"], json!(0), "{page}");
}

#[tokio::test]
async fn the_rate_limit_answers_429_with_reset_headers() {
    let mock = OpsRampMock::builder()
        .rate_limits(RateLimits::client().per(Duration::from_secs(30)))
        .start()
        .await;
    let (_, body) = token(&mock, "/auth/oauth/token").await;
    let tok = body["access_token"].as_str().unwrap().to_owned();
    for i in 0..50 {
        let r = get(&mock, &tok, "roles/search").await;
        assert_eq!(r.status().as_u16(), 200, "request {i}");
        assert_eq!(r.headers()["x-ratelimit-limit"], "50");
    }
    let r = get(&mock, &tok, "roles/search").await;
    assert_eq!(r.status().as_u16(), 429);
    assert_eq!(r.headers()["x-ratelimit-remaining"], "0");
    assert!(r.headers().get("retry-after").is_none());
    let reset: u64 = r.headers()["x-ratelimit-reset"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(reset > 1_700_000_000);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"], json!("throttled"));
    // Non-paginated GETs have their own, larger budget.
    assert_eq!(
        get(&mock, &tok, "users/minimal").await.status().as_u16(),
        200
    );
    assert_eq!(mock.throttled(), 1);
}

#[tokio::test]
async fn terminate_removes_and_lazy_users_survive_writes() {
    let mock = OpsRampMock::builder().generated_users(10).start().await;
    let (_, body) = token(&mock, "/auth/oauth/token").await;
    let tok = body["access_token"].as_str().unwrap().to_owned();
    let c = reqwest::Client::new();
    let base = format!("{}/api/v2/tenants/{}", mock.url(), mock.tenant());
    let r = c
        .post(format!("{base}/users/USR0000000003/DEACTIVATE"))
        .bearer_auth(&tok)
        .json(&json!({"deactivateReason": "left"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(mock.user_status("USR0000000003"), Some("inactive"));
    assert_eq!(
        mock.deactivate_reason("USR0000000003").as_deref(),
        Some("left")
    );
    let r = c
        .post(format!("{base}/users/USR0000000005/TERMINATE"))
        .bearer_auth(&tok)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(mock.user_count(), 9);
    let r = c
        .post(format!("{base}/users/USR0000000003/deactivate"))
        .bearer_auth(&tok)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400, "the action enum is upper case");
    let page: Value = get(&mock, &tok, "users/search?isDescendingOrder=false")
        .await
        .json()
        .await
        .unwrap();
    let ids: Vec<&str> = page["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 9);
    assert!(!ids.contains(&"USR0000000005"));
    assert!(ids.contains(&"USR0000000003"));
    assert_eq!(
        get(&mock, &tok, "users/USR0000000005")
            .await
            .status()
            .as_u16(),
        404
    );
}

#[tokio::test]
async fn tickets_enforce_reasons_and_search_only_the_last_month_by_default() {
    let mock = OpsRampMock::start().await;
    let (_, body) = token(&mock, "/auth/oauth/token").await;
    let tok = body["access_token"].as_str().unwrap().to_owned();
    let c = reqwest::Client::new();
    let base = format!("{}/api/v2/tenants/{}", mock.url(), mock.tenant());
    let created: Value = c
        .post(format!("{base}/serviceRequests"))
        .bearer_auth(&tok)
        .json(&json!({"subject": "Access to CRM", "extTicketId": "REQ-1", "priority": "Low"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("SRQ"), "{id}");
    assert_eq!(created["status"], json!("New"));
    let close = |reason: &'static str| {
        c.post(format!("{base}/serviceRequests/{id}/close"))
            .bearer_auth(&tok)
            .json(&json!({"reason": reason, "notes": "done"}))
            .send()
    };
    assert_eq!(
        close("because").await.unwrap().status().as_u16(),
        400,
        "free text refused"
    );
    assert_eq!(close("Completed").await.unwrap().status().as_u16(), 200);
    assert_eq!(mock.ticket(&id).unwrap()["status"], json!("Closed"));
    let search = |q: &'static str| {
        c.get(format!("{base}/serviceRequests/search?queryString={q}"))
            .bearer_auth(&tok)
            .send()
    };
    let found: Value = search("extTicketId:REQ-1")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(found["totalResults"], json!(1));
    assert!(mock.backdate_ticket(&id, 45));
    let found: Value = search("extTicketId:REQ-1")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(found["totalResults"], json!(0), "older than a month");
    let found: Value = search(
        "extTicketId:REQ-1%2BstartCreationDate:2000-01-01T00:00:00%200000%2BendCreationDate:2100-01-01T00:00:00%200000",
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(found["totalResults"], json!(1), "{found}");
}

#[tokio::test]
async fn creates_check_required_fields_passwords_and_duplicate_logins() {
    let mock = OpsRampMock::builder().generated_users(3).start().await;
    let (_, body) = token(&mock, "/auth/oauth/token").await;
    let tok = body["access_token"].as_str().unwrap().to_owned();
    let c = reqwest::Client::new();
    let url = format!("{}/api/v2/tenants/{}/users", mock.url(), mock.tenant());
    let post = |b: Value| c.post(&url).bearer_auth(&tok).json(&b).send();
    let user = json!({"loginName": "new.one", "firstName": "New", "lastName": "One",
                      "email": "new.one@example.test", "password": "Abcdef1!",
                      "roles": [{"name": "Client User"}], "userGroups": [{"name": "Ops"}]});
    let r = post(user.clone()).await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let created: Value = r.json().await.unwrap();
    assert_eq!(created["id"], json!("USR0000000004"));
    assert_eq!(created["roles"][0]["name"], json!("Client User"));
    assert_eq!(created["userGroups"][0]["name"], json!("Ops"));
    let mut dup = user.clone();
    dup["loginName"] = json!("NEW.ONE");
    assert_eq!(
        post(dup).await.unwrap().status().as_u16(),
        400,
        "logins are unique in any case"
    );
    let mut weak = user.clone();
    weak["loginName"] = json!("weak.one");
    weak["password"] = json!("password");
    assert_eq!(post(weak).await.unwrap().status().as_u16(), 400);
    let mut unknown_role = user.clone();
    unknown_role["loginName"] = json!("role.one");
    unknown_role["roles"] = json!([{"name": "No Such Role"}]);
    assert_eq!(post(unknown_role).await.unwrap().status().as_u16(), 400);
    assert_eq!(
        post(json!({"loginName": "x"}))
            .await
            .unwrap()
            .status()
            .as_u16(),
        400
    );
    assert_eq!(mock.user_count(), 4);
}

#[tokio::test]
async fn group_members_page_and_role_updates_add_users() {
    let mock = OpsRampMock::builder().generated_users(30).start().await;
    let (_, body) = token(&mock, "/auth/oauth/token").await;
    let tok = body["access_token"].as_str().unwrap().to_owned();
    let ops = mock.group_id("Ops").unwrap();
    // Users 1, 4, 7, … hold a seeded group in turn: "Implementation Team", then "Ops".
    let page: Value = get(
        &mock,
        &tok,
        &format!("userGroups/{ops}/users?pageSize=2&isDescendingOrder=false"),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(page["totalResults"], json!(5));
    assert_eq!(page["results"][0]["id"], json!("USR0000000004"));
    assert_eq!(page["nextPageNo"], json!(2));
    let role = mock.add_role("Auditor");
    let r = reqwest::Client::new()
        .post(format!(
            "{}/api/v2/tenants/{}/roles/{role}",
            mock.url(),
            mock.tenant()
        ))
        .bearer_auth(&tok)
        .json(&json!({"users": [{"id": "USR0000000002"}], "allClients": "true"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(mock.user_roles("USR0000000002").contains(&role));
    assert_eq!(
        mock.user_roles("USR0000000002").len(),
        2,
        "added, not replaced"
    );
}

#[tokio::test]
async fn responses_keep_and_list_the_ext_ticket_response_id() {
    let mock = OpsRampMock::start().await;
    let (_, body) = token(&mock, "/auth/oauth/token").await;
    let tok = body["access_token"].as_str().unwrap().to_owned();
    let c = reqwest::Client::new();
    let base = format!("{}/api/v2/tenants/{}", mock.url(), mock.tenant());
    let created: Value = c
        .post(format!("{base}/incidents"))
        .bearer_auth(&tok)
        .json(&json!({"subject": "Printer"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap().to_owned();
    let respond = |b: Value| {
        c.post(format!("{base}/incidents/{id}/responses"))
            .bearer_auth(&tok)
            .json(&b)
            .send()
    };
    let answer: Value = respond(json!({"description": "one", "internal": false,
                                       "extTicketResponseId": "K-1"}))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(answer["extTicketResponseId"], json!("K-1"));
    let answer: Value = respond(json!({"description": "two", "internal": true,
                                       "extTicketResponseId": 12345}))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(
        answer["extTicketResponseId"],
        json!("12345"),
        "kept as text"
    );
    respond(json!({"description": "three"})).await.unwrap();
    assert_eq!(
        mock.ticket_response_ext_ids(&id),
        vec![Some("K-1".into()), Some("12345".into()), None]
    );
    let listed: Value = get(&mock, &tok, &format!("incidents/{id}/responses/search"))
        .await
        .json()
        .await
        .unwrap();
    let ids: Vec<Value> = listed["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["extTicketResponseId"].clone())
        .collect();
    assert_eq!(ids.len(), 3);
    assert!(ids.contains(&json!("K-1")) && ids.contains(&json!("12345")));
    assert!(ids.contains(&Value::Null), "no key, no field");
}

#[tokio::test]
async fn enums_and_group_emails_are_checked_and_no_empty_email_is_printed() {
    let mock = OpsRampMock::builder().generated_users(1).start().await;
    let (_, body) = token(&mock, "/auth/oauth/token").await;
    let tok = body["access_token"].as_str().unwrap().to_owned();
    let c = reqwest::Client::new();
    let base = format!("{}/api/v2/tenants/{}", mock.url(), mock.tenant());
    let user = json!({"loginName": "enum.one", "firstName": "Enum", "lastName": "One",
                      "email": "enum.one@example.test", "userAccountType": "BOGUS"});
    let r = c
        .post(format!("{base}/users"))
        .bearer_auth(&tok)
        .json(&user)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let err: Value = r.json().await.unwrap();
    assert_eq!(err["code"], json!("0400"), "{err}");
    assert!(err["message"].as_str().unwrap().contains("userAccountType"));
    let r = c
        .post(format!("{base}/users/USR0000000001"))
        .bearer_auth(&tok)
        .json(&json!({"userGroupType": "SOME"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    assert_eq!(mock.user_count(), 1);
    // A role may be named by the integer id users print.
    let held = mock.user("USR0000000001").unwrap()["roles"][0].clone();
    let r = c
        .post(format!("{base}/users/USR0000000001"))
        .bearer_auth(&tok)
        .json(&json!({"roles": [{"id": held["id"]}], "userAccountType": "BUSINESS"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let updated: Value = r.json().await.unwrap();
    assert_eq!(updated["roles"][0], held);
    assert_eq!(updated["userAccountType"], json!("BUSINESS"));
    // Seeded groups have no email: the field is left out, never "".
    let page: Value = get(&mock, &tok, "userGroups").await.json().await.unwrap();
    for g in page["results"].as_array().unwrap() {
        assert!(g.get("email").is_none(), "{g}");
    }
    let r = c
        .post(format!("{base}/userGroups"))
        .bearer_auth(&tok)
        .json(&json!({"name": "Mail", "email": "not an email"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let r = c
        .post(format!("{base}/userGroups"))
        .bearer_auth(&tok)
        .json(&json!({"name": "Mail", "email": "mail@example.test"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let g: Value = r.json().await.unwrap();
    assert_eq!(g["email"], json!("mail@example.test"));
}
