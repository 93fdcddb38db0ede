//! The mock over HTTP, with a plain reqwest client: auth, envelopes, paging, writes.

use serde_json::{Value, json};

use super::{KeyAccess, OpsGenieMock};
use crate::fault::FaultMatcher;

struct Client {
    http: reqwest::Client,
    base: String,
    key: String,
}

impl Client {
    fn new(mock: &OpsGenieMock) -> Self {
        Client {
            http: reqwest::Client::builder().no_proxy().build().unwrap(),
            base: mock.url(),
            key: mock.api_key().to_owned(),
        }
    }

    async fn send(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> (u16, reqwest::header::HeaderMap, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header("authorization", format!("GenieKey {}", self.key));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = resp.text().await.unwrap();
        (
            status,
            headers,
            serde_json::from_str(&text).unwrap_or(Value::Null),
        )
    }
}

#[tokio::test]
async fn the_genie_key_is_checked_on_every_request() {
    let mock = OpsGenieMock::builder().generated_users(3).start().await;
    let mut c = Client::new(&mock);
    let (status, headers, body) = c.send("GET", "/v2/users", None).await;
    assert_eq!(status, 200);
    assert_eq!(headers["x-ratelimit-state"], "OK");
    assert!(body["requestId"].is_string() && body["took"].is_number());
    c.key = "wrong".into();
    let (status, _, body) = c.send("GET", "/v2/teams", None).await;
    assert_eq!(status, 401);
    assert_eq!(body["message"], "Could not authenticate");
    let plain = reqwest::Client::new();
    let r = plain
        .get(format!("{}/v2/users", mock.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    mock.add_key("read-only", KeyAccess::ReadOnly);
    c.key = "read-only".into();
    let (status, _, _) = c.send("GET", "/v2/users", None).await;
    assert_eq!(status, 200);
    let body = json!({"username": "a@example.com", "fullName": "A", "role": {"name": "user"}});
    let (status, _, _) = c.send("POST", "/v2/users", Some(body)).await;
    assert_eq!(status, 403);
    assert_eq!(mock.user_count(), 3);
    assert_eq!(mock.count("GET", "/v2/users"), 3);
}

#[tokio::test]
async fn users_page_with_total_and_absolute_links() {
    let mock = OpsGenieMock::builder().generated_users(250).start().await;
    let c = Client::new(&mock);
    let (status, headers, body) = c.send("GET", "/v2/users?offset=200&limit=30", None).await;
    assert_eq!(status, 200);
    assert_eq!(body["totalCount"], 250);
    assert_eq!(body["data"].as_array().unwrap().len(), 30);
    let next = format!("{}/v2/users?offset=230&limit=30", mock.url());
    assert_eq!(body["paging"]["next"], next.as_str());
    assert_eq!(headers["x-paging-next"], next.as_str());
    assert_eq!(
        body["paging"]["last"],
        format!("{}/v2/users?offset=240&limit=30", mock.url()).as_str()
    );
    let (_, _, last) = c.send("GET", "/v2/users?offset=240&limit=30", None).await;
    assert_eq!(last["data"].as_array().unwrap().len(), 10);
    assert!(last["paging"].get("next").is_none());
    // The limit is capped at 100.
    let (_, _, big) = c.send("GET", "/v2/users?limit=1000", None).await;
    assert_eq!(big["data"].as_array().unwrap().len(), 100);
    let (status, _, _) = c.send("GET", "/v2/users?offset=x", None).await;
    assert_eq!(status, 422);
    let (_, _, admins) = c
        .send("GET", "/v2/users?query=role:admin&limit=100", None)
        .await;
    assert_eq!(
        admins["totalCount"], 5,
        "every 50th generated user is an admin"
    );
}

#[tokio::test]
async fn users_create_update_delete_and_team_membership() {
    let mock = OpsGenieMock::start().await;
    let c = Client::new(&mock);
    let new =
        json!({"username": "jane@example.com", "fullName": "Jane Doe", "role": {"name": "admin"}});
    let (status, _, body) = c.send("POST", "/v2/users", Some(new.clone())).await;
    assert_eq!(status, 201);
    let id = body["data"]["id"].as_str().unwrap().to_owned();
    assert_eq!(body["data"]["name"], "jane@example.com");
    let (status, _, _) = c.send("POST", "/v2/users", Some(new)).await;
    assert_eq!(status, 409);
    let bad = json!({"username": "not-an-email", "fullName": "X", "role": {"name": "user"}});
    let (status, _, body) = c.send("POST", "/v2/users", Some(bad)).await;
    assert_eq!(status, 422);
    assert!(body["errors"]["username"].is_string());
    let (_, _, got) = c.send("GET", "/v2/users/JANE@example.com", None).await;
    assert_eq!(got["data"]["id"], id.as_str());
    assert_eq!(got["data"]["role"], json!({"id": "Admin", "name": "Admin"}));
    let (status, _, _) = c
        .send(
            "PATCH",
            &format!("/v2/users/{id}"),
            Some(json!({"fullName": "Jane D."})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(mock.user(&id).unwrap()["fullName"], "Jane D.");

    let team = mock.add_team("ops", "on call");
    let add = json!({"user": {"username": "jane@example.com"}, "role": "user"});
    let path = format!("/v2/teams/{team}/members?teamIdentifierType=id");
    assert_eq!(c.send("POST", &path, Some(add.clone())).await.0, 200);
    assert_eq!(c.send("POST", &path, Some(add)).await.0, 200);
    assert_eq!(mock.team_members(&team).len(), 1, "no twin membership");
    let (_, _, detail) = c
        .send("GET", "/v2/teams/ops?identifierType=name", None)
        .await;
    assert_eq!(detail["data"]["members"][0]["user"]["id"], id.as_str());
    let (_, _, teams) = c.send("GET", &format!("/v2/users/{id}/teams"), None).await;
    assert_eq!(teams["data"][0]["id"], team.as_str());

    assert_eq!(
        c.send("DELETE", &format!("/v2/users/{id}"), None).await.0,
        200
    );
    assert!(
        mock.team_members(&team).is_empty(),
        "deleting a user ends its memberships"
    );
    let (status, _, body) = c.send("DELETE", &format!("/v2/users/{id}"), None).await;
    assert_eq!(status, 404);
    assert!(body["message"].as_str().unwrap().contains(&id));
    let member = format!("/v2/teams/{team}/members/{id}");
    assert_eq!(c.send("DELETE", &member, None).await.0, 404);
}

#[tokio::test]
async fn throttling_is_answered_the_opsgenie_way() {
    let mock = OpsGenieMock::start().await;
    let c = Client::new(&mock);
    mock.throttle_next(1);
    mock.faults().push_for(
        FaultMatcher::path("/v2/teams"),
        crate::fault::Fault::Status {
            status: 503,
            body: None,
        },
        1,
    );
    let (status, headers, body) = c.send("GET", "/v2/users", None).await;
    assert_eq!(status, 429);
    assert_eq!(headers["x-ratelimit-state"], "THROTTLED");
    assert_eq!(headers["x-ratelimit-reason"], "Search:PerMinute");
    assert_eq!(headers["x-ratelimit-period-in-sec"], "60");
    assert!(headers.get("retry-after").is_none());
    assert!(body["message"].is_string());
    let (status, _, body) = c.send("GET", "/v2/teams", None).await;
    assert_eq!(status, 503);
    assert_eq!(body["message"], "Service Unavailable");
    assert_eq!(c.send("GET", "/v2/teams", None).await.0, 200);
}
