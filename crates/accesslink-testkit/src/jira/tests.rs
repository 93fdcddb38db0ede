//! The mock behaves like Jira where the connector's tests cannot see it: token endpoint
//! rules, rich-text shapes per deployment, the removed Cloud search, JQL errors, JSM 404s.

use serde_json::{Value, json};

use super::{AuthMode, JiraMock, Mode};

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// A request with the Data Center mock's personal access token.
async fn post(mock: &JiraMock, path: &str, body: Value) -> (u16, Value) {
    let r = client()
        .post(format!("{}{path}", mock.url()))
        .bearer_auth(mock.secret())
        .json(&body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

async fn basic_post(mock: &JiraMock, path: &str, body: Value) -> (u16, Value) {
    let r = client()
        .post(format!("{}{path}", mock.url()))
        .basic_auth(mock.user(), Some(mock.secret()))
        .json(&body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn the_token_endpoint_takes_json_and_rotates() {
    let mock = JiraMock::builder().auth(AuthMode::OAuth).start().await;
    let url = format!("{}/oauth/token", mock.url());
    let first = mock.refresh_token();
    let form = client()
        .post(&url)
        .form(&[
            ("grant_type", "refresh_token"),
            ("client_id", &mock.client_id()),
            ("client_secret", &mock.client_secret()),
            ("refresh_token", &first),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), 400);
    let body = json!({"grant_type": "refresh_token", "client_id": mock.client_id(),
        "client_secret": mock.client_secret(), "refresh_token": first});
    let ok = client().post(&url).json(&body).send().await.unwrap();
    assert_eq!(ok.status(), 200);
    let tokens: Value = ok.json().await.unwrap();
    assert_ne!(tokens["refresh_token"], json!(first));
    assert_eq!(tokens["refresh_token"], json!(mock.refresh_token()));
    // The used token is dead.
    let again = client().post(&url).json(&body).send().await.unwrap();
    assert_eq!(again.status(), 403);
    let e: Value = again.json().await.unwrap();
    assert_eq!(e["error"], "invalid_grant");
    assert_eq!(mock.used_refresh_tokens(), [first]);
    // The API is only under the gateway, with the access token.
    let at = tokens["access_token"].as_str().unwrap();
    let direct = client()
        .get(format!("{}/rest/api/3/myself", mock.url()))
        .bearer_auth(at)
        .send()
        .await
        .unwrap();
    assert_eq!(direct.status(), 401);
    let gw = client()
        .get(format!(
            "{}/ex/jira/{}/rest/api/3/myself",
            mock.url(),
            mock.cloud_id()
        ))
        .bearer_auth(at)
        .send()
        .await
        .unwrap();
    assert_eq!(gw.status(), 200);
}

#[tokio::test]
async fn rich_text_must_have_the_deployments_shape() {
    let issue = |d: Value| json!({"fields": {"project": {"key": "ITSM"}, "issuetype": {"name": "Task"}, "summary": "s", "description": d}});
    let adf = json!({"type": "doc", "version": 1, "content": []});
    let cloud = JiraMock::start_cloud().await;
    assert_eq!(
        basic_post(&cloud, "/rest/api/3/issue", issue(json!("text")))
            .await
            .0,
        400
    );
    assert_eq!(
        basic_post(&cloud, "/rest/api/3/issue", issue(adf.clone()))
            .await
            .0,
        201
    );
    assert_eq!(
        basic_post(
            &cloud,
            "/rest/api/3/issue/ITSM-1/comment",
            json!({"body": "text"})
        )
        .await
        .0,
        400
    );
    assert_eq!(
        basic_post(
            &cloud,
            "/rest/api/3/issue/ITSM-1/comment",
            json!({"body": adf})
        )
        .await
        .0,
        201
    );
    // The v2 API is not the Cloud mock's: it answers 404.
    assert_eq!(
        basic_post(&cloud, "/rest/api/2/issue", issue(json!("text")))
            .await
            .0,
        404
    );
    let dc = JiraMock::start_data_center().await;
    assert_eq!(
        post(&dc, "/rest/api/2/issue", issue(adf.clone())).await.0,
        400
    );
    assert_eq!(
        post(&dc, "/rest/api/2/issue", issue(json!("text"))).await.0,
        201
    );
    assert_eq!(dc.mode(), Mode::DataCenter);
}

#[tokio::test]
async fn search_behaves_like_each_deployment() {
    let cloud = JiraMock::start_cloud().await;
    for i in 0..3 {
        cloud.add_issue("ITSM", "Task", &format!("t{i}"), &["l1"]);
    }
    // The old search is gone on Cloud.
    assert_eq!(
        basic_post(&cloud, "/rest/api/3/search", json!({"jql": ""}))
            .await
            .0,
        410
    );
    let (s, page) = basic_post(
        &cloud,
        "/rest/api/3/search/jql",
        json!({"jql": "labels = \"l1\"", "maxResults": 2}),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(page["issues"].as_array().unwrap().len(), 2);
    assert!(page.get("total").is_none());
    let token = page["nextPageToken"].as_str().unwrap().to_owned();
    let (_, last) = basic_post(
        &cloud,
        "/rest/api/3/search/jql",
        json!({"jql": "labels = \"l1\"", "maxResults": 2, "nextPageToken": token}),
    )
    .await;
    assert_eq!(last["issues"].as_array().unwrap().len(), 1);
    assert_eq!(last["isLast"], true);
    assert!(last.get("nextPageToken").is_none(), "absent, not null");
    // A token of another query is refused; a key that does not exist fails the JQL.
    let (s, _) = basic_post(
        &cloud,
        "/rest/api/3/search/jql",
        json!({"jql": "labels = \"x\"", "nextPageToken": token}),
    )
    .await;
    assert_eq!(s, 400);
    let (s, e) = basic_post(
        &cloud,
        "/rest/api/3/search/jql",
        json!({"jql": "key in (\"ITSM-1\", \"ITSM-77\")"}),
    )
    .await;
    assert_eq!(s, 400);
    assert!(e["errorMessages"][0].as_str().unwrap().contains("ITSM-77"));
    let (s, _) = basic_post(
        &cloud,
        "/rest/api/3/search/jql",
        json!({"jql": "labels = l1 OR project = HR"}),
    )
    .await;
    assert_eq!(s, 400);
    let dc = JiraMock::start_data_center().await;
    dc.add_issue("ITSM", "Task", "t", &[]);
    let (s, page) = post(
        &dc,
        "/rest/api/2/search",
        json!({"jql": "project = \"ITSM\"", "startAt": 0}),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(page["total"], 1);
    assert_eq!(page["startAt"], 0);
}

#[tokio::test]
async fn jsm_answers_404_for_plain_issues() {
    let mock = JiraMock::start_cloud().await;
    let plain = mock.add_issue("ITSM", "Task", "t", &[]);
    let jsm = mock.add_jsm_request("Change", "c", "nobody", &["pending"]);
    let get = |key: String| {
        let url = format!("{}/rest/servicedeskapi/request/{key}/approval", mock.url());
        let (user, secret) = (mock.user(), mock.secret());
        async move {
            let r = client()
                .get(url)
                .basic_auth(user, Some(secret))
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    let (s, e) = get(plain).await;
    assert_eq!(s, 404);
    assert!(e["errorMessage"].is_string());
    let (s, page) = get(jsm).await;
    assert_eq!(s, 200);
    assert_eq!(page["isLastPage"], true);
    assert_eq!(page["values"][0]["finalDecision"], "pending");
}
