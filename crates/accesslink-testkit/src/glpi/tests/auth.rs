//! App-Token, logins and sessions.

use reqwest::Method;
use serde_json::json;

use super::{Api, basic};
use crate::glpi::{GlpiMock, Itemtype};

#[test]
fn every_template_parses_and_has_no_id() {
    for it in Itemtype::ALL {
        let t = crate::glpi::templates::template(it);
        assert!(!t.is_empty() && !t.contains_key("id"), "{}", it.name());
        assert_eq!(Itemtype::from_name(it.name()), Some(it));
    }
    assert_eq!(
        Itemtype::from_name("ticket"),
        None,
        "names are case-sensitive"
    );
}

#[tokio::test]
async fn app_token_is_checked_on_every_call() {
    let mock = GlpiMock::start().await;
    let mut api = Api::login(&mock).await;
    api.app = None;
    let missing = api.get("/initSession").await;
    assert_eq!(
        (missing.status, missing.code()),
        (400, "ERROR_APP_TOKEN_PARAMETERS_MISSING")
    );
    let doc = format!(
        "missing parameter app_token; view documentation in your browser at {}/#ERROR_APP_TOKEN_PARAMETERS_MISSING",
        mock.base_url()
    );
    assert_eq!(missing.body[1], doc.as_str());
    api.app = Some("wrong".into());
    let wrong = api.get("/Ticket/1").await;
    assert_eq!(
        (wrong.status, wrong.code()),
        (400, "ERROR_WRONG_APP_TOKEN_PARAMETER"),
        "even with a valid session"
    );
    api.app = None;
    let app_in_query = api
        .get(&format!("/getMyEntities?app_token={}", mock.app_token()))
        .await;
    assert_eq!(
        app_in_query.status, 200,
        "the token may come as a parameter"
    );
    assert_eq!(
        app_in_query.body,
        json!({"myentities": [{"id": 0, "name": "Root entity"}]})
    );
}

#[tokio::test]
async fn both_login_methods_and_their_errors() {
    let mock = GlpiMock::start().await;
    let api = Api::new(&mock);
    let login = |auth: String| {
        let api = &api;
        async move {
            api.call(
                Method::GET,
                "/initSession",
                None,
                &[("Authorization", &auth)],
            )
            .await
        }
    };
    let by_token = login(format!("user_token {}", mock.user_token())).await;
    let by_password = login(basic(mock.login(), mock.password())).await;
    for answer in [&by_token, &by_password] {
        let token = answer.body["session_token"].as_str().unwrap();
        assert_eq!(answer.status, 200);
        assert!(token.len() == 26 && token.chars().all(|c| c.is_ascii_alphanumeric()));
    }
    assert_ne!(by_token.body, by_password.body);
    assert_eq!(mock.session_creates(), 2);

    let bad_token = login("user_token nope".into()).await;
    assert_eq!(bad_token.status, 401);
    assert_eq!(
        bad_token.body,
        json!([
            "ERROR_GLPI_LOGIN_USER_TOKEN",
            "parameter user_token seems invalid"
        ])
    );
    let bad_password = login(basic("glpi", "wrong")).await;
    assert_eq!(
        bad_password.body,
        json!(["ERROR_GLPI_LOGIN", "Incorrect username or password"])
    );
    assert_eq!(bad_password.status, 401);
    let nothing = api.get("/initSession").await;
    assert_eq!(
        (nothing.status, nothing.code()),
        (400, "ERROR_LOGIN_PARAMETERS_MISSING")
    );
    assert_eq!(mock.session_creates(), 2, "failed logins open no session");

    let tech = login(basic("TECH", "tech")).await;
    assert_eq!(
        tech.status, 200,
        "logins compare case-insensitively, like MySQL"
    );
    assert!(mock.update(Itemtype::User, 4, &json!({"is_active": 0})));
    let inactive = login(basic("tech", "tech")).await;
    let m =
        "You don't have access to this application because your account was deactivated or removed";
    assert_eq!(
        (inactive.status, &inactive.body),
        (401, &json!(["ERROR_GLPI_LOGIN", m]))
    );
}

#[tokio::test]
async fn sessions_expire_and_are_killed() {
    let mock = GlpiMock::start().await;
    let mut api = Api::login(&mock).await;
    assert_eq!(
        api.get("/getFullSession").await.body["session"]["glpiname"],
        "glpi"
    );
    mock.expire_sessions();
    let expired = api.get("/Ticket").await;
    assert_eq!(expired.status, 401);
    assert_eq!(
        expired.body,
        json!(["ERROR_SESSION_TOKEN_INVALID", "session_token seems invalid"])
    );

    api = Api::login(&mock).await;
    let killed = api.get("/killSession").await;
    assert_eq!((killed.status, &killed.body), (200, &json!(true)));
    assert_eq!(api.get("/getMyProfiles").await.status, 401);
    api.session = None;
    let missing = api.get("/Ticket").await;
    assert_eq!(
        (missing.status, missing.code()),
        (400, "ERROR_SESSION_TOKEN_MISSING")
    );
    assert_eq!(mock.session_creates(), 2);
    assert_eq!(mock.count("initSession"), 2);
    assert_eq!(mock.counter().count("GET", "getItems:Ticket"), 2);
}
