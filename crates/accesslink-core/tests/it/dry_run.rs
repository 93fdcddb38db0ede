//! A dry run sends reads and sign-ins, and stops at the first write with the request it
//! would have sent, secrets masked; the server never sees the write.

use accesslink_core::ErrorKind;
use accesslink_core::http::{HttpClient, HttpSettings};
use serde_json::json;
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

#[tokio::test]
async fn reads_go_out_and_the_first_write_is_planned_not_sent() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ok": true})))
        .mount(&server)
        .await;
    let client = HttpClient::builder("test", server.uri())
        .settings(&HttpSettings::new().dry_run(true))
        .unwrap()
        .build()
        .unwrap();
    let read: serde_json::Value = client
        .send_json(client.get("users").unwrap())
        .await
        .unwrap();
    assert_eq!(read["ok"], true);
    let search = client.post("search").unwrap().read_only();
    client.send(search).await.unwrap();
    let login = client.post("login").unwrap().without_auth();
    client.send(login).await.unwrap();

    let create = client
        .post("users")
        .unwrap()
        .json(&json!({"login": "jdoe", "password": "hunter2-canary", "profile": {"api_token": "t-canary"}}))
        .unwrap();
    let e = client.send(create).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::DryRun);
    assert!(!e.is_retryable());
    let accesslink_core::Error::DryRun(planned) = &e else {
        panic!("{e:?}")
    };
    assert!(
        planned.request.ends_with("POST /users"),
        "{}",
        planned.request
    );
    let body = planned.body.as_deref().unwrap();
    assert!(body.contains("\"login\":\"jdoe\""), "{body}");
    assert!(
        !body.contains("hunter2-canary") && !body.contains("t-canary"),
        "{body}"
    );
    assert!(!format!("{e} {e:?}").contains("canary"));

    let delete = client.delete("users/7").unwrap();
    assert_eq!(
        client.send(delete).await.unwrap_err().kind(),
        ErrorKind::DryRun
    );

    // The server saw the read, the search and the sign-in; never a write.
    let seen: Vec<String> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| format!("{} {}", r.method, r.url.path()))
        .collect();
    assert_eq!(seen, ["GET /users", "POST /search", "POST /login"]);
}
