//! Generated users, faults, the conformance backends, and the differential script
//! against the mock and, when `GLPI_BASE_URL` and friends are set, the real server.

use accesslink_core::{
    AccountId, Comment, CorrelationId, EntitlementRef, EntitlementType, TicketRef, TicketState,
};
use serde_json::{Value, json};

use crate::conformance::{AccountBackend, TicketBackend};
use crate::data::SyntheticPeople;
use crate::glpi::diff::{Target, compare, run, standard_script};
use crate::glpi::{GlpiMock, Itemtype};

struct Session {
    base: String,
    app: String,
    token: String,
    client: reqwest::Client,
}

impl Session {
    async fn open(mock: &GlpiMock) -> Session {
        let client = reqwest::Client::builder().no_proxy().build().unwrap();
        let base = mock.base_url();
        let answer: Value = client
            .get(format!("{base}/initSession"))
            .header("App-Token", mock.app_token())
            .header("Authorization", format!("user_token {}", mock.user_token()))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let token = answer["session_token"].as_str().unwrap().to_owned();
        Session {
            base,
            app: mock.app_token(),
            token,
            client,
        }
    }

    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> reqwest::Result<(u16, Option<String>, Value)> {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.base))
            .header("App-Token", &self.app)
            .header("Session-Token", &self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await?;
        let status = response.status().as_u16();
        let range = response
            .headers()
            .get("content-range")
            .map(|v| v.to_str().unwrap().to_owned());
        let body = response.json().await.unwrap_or(Value::Null);
        Ok((status, range, body))
    }

    async fn get(&self, path: &str) -> (u16, Option<String>, Value) {
        self.send(reqwest::Method::GET, path, None).await.unwrap()
    }

    async fn post(&self, path: &str, body: Value) -> (u16, Option<String>, Value) {
        self.send(reqwest::Method::POST, path, Some(body))
            .await
            .unwrap()
    }
}

#[tokio::test]
async fn generated_users_are_served_lazily_and_paged() {
    let count = 100_000;
    let mock = GlpiMock::builder()
        .generated_users(count)
        .seed(7)
        .start()
        .await;
    let api = Session::open(&mock).await;
    let people = SyntheticPeople::new(count, 7);
    let total = count + 5;
    let (status, range, page) = api.get("/User?range=0-999&only_id=1").await;
    assert_eq!(
        (status, range.as_deref()),
        (206, Some(format!("0-999/{total}").as_str()))
    );
    assert_eq!(page.as_array().unwrap().len(), 1000);
    assert_eq!(
        (page[0]["id"].as_i64(), page[5]["id"].as_i64()),
        (Some(2), Some(7))
    );
    let (status, range, page) = api.get("/User?range=100000-100999").await;
    assert_eq!(
        (status, range.as_deref()),
        (206, Some(format!("100000-100004/{total}").as_str())),
        "the last page is still 206"
    );
    let expected = people.person(count - 1).unwrap();
    assert_eq!(page[4]["name"], expected.login.as_str());
    assert_eq!(page[4]["realname"], expected.last_name.as_str());

    let ids = mock.generated_user_ids();
    let user = ids.start + 41_999;
    let person = people.person(41_999).unwrap();
    let (_, _, emails) = api.get(&format!("/User/{user}/UserEmail")).await;
    assert_eq!(
        (
            emails[0]["email"].as_str(),
            emails[0]["is_default"].as_i64()
        ),
        (Some(person.email.as_str()), Some(1))
    );
    let (_, _, links) = api.get(&format!("/User/{user}/Profile_User")).await;
    assert_eq!(links[0]["profiles_id"], 1);
    let path = format!(
        "/search/User?criteria[0][field]=1&criteria[0][searchtype]=contains&criteria[0][value]=^{}$&forcedisplay[0]=2&forcedisplay[1]=5",
        person.login
    );
    let (_, _, found) = api.get(&path).await;
    assert_eq!(
        found["data"],
        json!([{"1": person.login, "2": user, "5": person.email}])
    );

    // The connector's keyset page: `ID contains >N`, sorted by ID.
    let after = ids.start + 98_999;
    let keyset = format!(
        "/search/User?criteria[0][field]=2&criteria[0][searchtype]=contains\
         &criteria[0][value]=%3E{after}&sort=2&order=ASC&forcedisplay[0]=2&forcedisplay[1]=5&range=0-999"
    );
    let (status, range, found) = api.get(&keyset).await;
    assert_eq!((status, range.as_deref()), (200, Some("0-999/1000")));
    let first = people.person(99_000).unwrap();
    assert_eq!(
        found["data"][0],
        json!({"1": first.login, "2": after + 1, "5": first.email})
    );
    assert_eq!(found["data"][999]["2"], ids.end - 1);
    let (status, _, _) = api
        .send(reqwest::Method::DELETE, &format!("/User/{user}"), None)
        .await
        .unwrap();
    assert_eq!(status, 200);
    let (_, range, _) = api.get("/User?range=0-0").await;
    assert_eq!(
        range.as_deref(),
        Some(format!("0-0/{}", total - 1).as_str()),
        "trashed users leave the list"
    );
    assert!(mock.set_password(user, "pw"));
    assert_eq!(mock.user_by_login(&person.login).unwrap()["is_deleted"], 1);
    assert_eq!(
        AccountBackend::account_count(&mock).await.unwrap(),
        total - 1
    );
    let (_, _, created) = api
        .post("/User", json!({"input": {"name": "after.generated"}}))
        .await;
    assert_eq!(
        created["id"].as_i64(),
        Some(ids.end),
        "created users come after the generated ones"
    );
}

#[tokio::test]
async fn faults_apply_before_routing_and_the_proxy_drops() {
    let mock = GlpiMock::builder().with_proxy(true).start().await;
    assert!(mock.base_url().starts_with(&mock.proxy().unwrap().url()));
    let api = Session::open(&mock).await;
    mock.faults().fail_next(1, 503);
    let (status, _, _) = api.get("/Ticket").await;
    assert_eq!(status, 503);
    mock.faults().drop_next(1);
    assert!(
        api.send(reqwest::Method::GET, "/Ticket", None)
            .await
            .is_err(),
        "connection dropped"
    );
    let (status, _, body) = api.get("/Entity/0").await;
    assert_eq!(status, 200);
    let href = format!("{}/Entity/0/Document_Item/", mock.base_url());
    assert!(
        body["links"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["href"] == href.as_str()),
        "links name the proxy"
    );
    assert_eq!(
        mock.counter().count("GET", "getItems:Ticket"),
        2,
        "faulted requests are counted"
    );
}

#[tokio::test]
async fn ticket_backend_reads_the_mock() {
    let mock = GlpiMock::start().await;
    let api = Session::open(&mock).await;
    let (_, _, created) = api
        .post(
            "/Ticket",
            json!({"input": {"name": "Access for bob [corr:req-1]", "content": "c"}}),
        )
        .await;
    let id = created["id"].as_i64().unwrap();
    api.post("/Ticket", json!({"input": {"name": "other [corr:req-10]"}}))
        .await;
    api.post(
        "/ITILFollowup",
        json!({"input": {"itemtype": "Ticket", "items_id": id, "content": "a & b"}}),
    )
    .await;
    api.post("/ITILFollowup", json!({"input": {"itemtype": "Ticket", "items_id": id, "content": "note", "is_private": 1}})).await;
    let seen = TicketBackend::requests_seen(&mock);
    assert_eq!(
        TicketBackend::count_with_correlation(&mock, &CorrelationId::new("req-1"))
            .await
            .unwrap(),
        1
    );
    let r = TicketRef::by_id(id.to_string());
    let comments = mock.comments(&r).await.unwrap();
    assert_eq!(
        comments,
        vec![Comment::public("a & b"), Comment::internal("note")]
    );
    mock.set_ticket_state(&r, TicketState::Resolved)
        .await
        .unwrap();
    assert_eq!(mock.ticket_json(id).unwrap()["status"], 5);
    assert!(
        mock.set_ticket_state(&TicketRef::by_id("999"), TicketState::Closed)
            .await
            .is_err()
    );
    // A change, named as the connector names it: `CHG-<id>` with the Change scope.
    let change = mock
        .create(Itemtype::Change, &json!({"name": "chg [corr:req-2]"}))
        .unwrap();
    let change_ref = TicketRef::by_number(format!("CHG-{change}"));
    mock.set_ticket_state(&change_ref, TicketState::Closed)
        .await
        .unwrap();
    let closed = mock.item_json(Itemtype::Change, change).unwrap();
    assert_eq!(
        (closed["status"].as_i64(), closed["closedate"].is_string()),
        (Some(6), true)
    );
    let req2 = CorrelationId::new("req-2");
    let counted = TicketBackend::count_with_correlation(&mock, &req2).await;
    assert_eq!(counted.unwrap(), 1, "changes carry the tag too");
    assert_eq!(
        TicketBackend::requests_seen(&mock),
        seen,
        "the backend's own reads are not requests"
    );
}

#[tokio::test]
async fn account_backend_reads_memberships_and_profiles() {
    let mock = GlpiMock::start().await;
    assert_eq!(mock.account_count().await.unwrap(), 5);
    let group = mock
        .create(Itemtype::Group, &json!({"name": "ops"}))
        .unwrap();
    let user = mock
        .create(
            Itemtype::User,
            &json!({"name": "carol", "_useremails": ["c@example.test"]}),
        )
        .unwrap();
    mock.create(
        Itemtype::GroupUser,
        &json!({"users_id": user, "groups_id": group}),
    )
    .unwrap();
    let account = AccountId::new("carol");
    let in_group = EntitlementRef::new(EntitlementType::group(), group.to_string());
    assert!(mock.holds(&account, &in_group).await.unwrap());
    let technician = EntitlementRef::new(EntitlementType::role(), "Technician");
    assert!(!mock.holds(&account, &technician).await.unwrap());
    mock.create(
        Itemtype::ProfileUser,
        &json!({"users_id": user, "profiles_id": 6, "entities_id": 0}),
    )
    .unwrap();
    assert!(
        mock.holds(&AccountId::new(user.to_string()), &technician)
            .await
            .unwrap()
    );
    let self_service = EntitlementRef::new(EntitlementType::new("profile"), "1@0");
    assert!(mock.holds(&account, &self_service).await.unwrap());
    assert_eq!(mock.user_emails(user), ["c@example.test"]);
    assert!(
        mock.holds(&AccountId::new("nobody"), &in_group)
            .await
            .is_err()
    );
}

#[tokio::test]
async fn differential_script_runs_against_the_mock() {
    let mock = GlpiMock::start().await;
    let observed = run(&Target::of_mock(&mock), &standard_script("mockonly"))
        .await
        .unwrap();
    let statuses: Vec<u16> = observed.iter().take(9).map(|o| o.status).collect();
    assert_eq!(statuses, [400, 400, 401, 401, 400, 200, 200, 401, 200]);
    assert!(compare(&observed, &observed).is_empty());
    let created = observed.iter().find(|o| o.step == "POST /Ticket").unwrap();
    assert_eq!(
        (created.status, &created.skeleton),
        (201, &json!({"id": "int", "message": "string"}))
    );
    assert_eq!(
        mock.count_items(Itemtype::Ticket),
        0,
        "the script purges what it creates"
    );
    assert_eq!(mock.count_items(Itemtype::User), 5);
}

#[tokio::test]
async fn differential_script_matches_the_real_server() {
    let Some(real) = Target::from_env() else {
        eprintln!(
            "skipped: GLPI_BASE_URL/GLPI_APP_TOKEN/GLPI_USER_TOKEN/GLPI_LOGIN/GLPI_PASSWORD not set"
        );
        return;
    };
    let mock = GlpiMock::start().await;
    let script = standard_script(&crate::conformance::fresh_id("diff"));
    let ours = run(&Target::of_mock(&mock), &script).await.unwrap();
    let theirs = run(&real, &script).await.unwrap();
    let differences = compare(&ours, &theirs);
    assert!(differences.is_empty(), "{}", differences.join("\n"));
}
