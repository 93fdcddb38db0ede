//! The contract from the fact sheet (`tests/contract/salesforce.json`; Salesforce
//! publishes no OpenAPI description of its REST API, see the file's `$comment`): the
//! requests the connector sends and the mock's answers, both checked against it, so the
//! mock cannot drift from the vendor while staying in step with the connector.

use accesslink_core::http::HttpClient;
use accesslink_core::{
    AccountId, AccountSpec, EntitlementRef, EntitlementType, Grant, PageRequest, Provisioner,
};
use accesslink_salesforce::{DisableBy, SalesforceConnector};
use accesslink_testkit::salesforce::SalesforceMock;
use http::Method;
use serde_json::{Value, json};

use crate::settings_of;

const CONTRACT: &str = include_str!("../contract/salesforce.json");

fn problems(def: &str, instance: &Value) -> Vec<String> {
    let mut root: Value = serde_json::from_str(CONTRACT).unwrap();
    root["$ref"] = json!(format!("#/$defs/{def}"));
    let v = jsonschema::validator_for(&root).unwrap();
    v.iter_errors(instance)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

fn valid(def: &str, instance: &Value) {
    assert_eq!(
        problems(def, instance),
        Vec::<String>::new(),
        "{def}: {instance}"
    );
}

#[test]
fn the_contract_refuses_what_the_fact_sheet_rules_out() {
    // An error object instead of an array; a token with expires_in; a page not done
    // without nextRecordsUrl; a failed item without errors; 201 records.
    assert!(!problems("error", &json!({"message": "x", "errorCode": "X"})).is_empty());
    let token = json!({"access_token": "a", "instance_url": "https://x", "id": "i",
        "token_type": "Bearer", "issued_at": "1", "signature": "s", "expires_in": 7200});
    assert!(!problems("token", &token).is_empty());
    assert!(
        !problems(
            "query_page",
            &json!({"totalSize": 3, "done": false, "records": []})
        )
        .is_empty()
    );
    assert!(
        !problems(
            "collection_results",
            &json!([{"success": false, "errors": []}])
        )
        .is_empty()
    );
    let many: Vec<Value> = (0..201)
        .map(|_| json!({"attributes": {"type": "GroupMember"}}))
        .collect();
    assert!(
        !problems(
            "collection_request",
            &json!({"allOrNone": false, "records": many})
        )
        .is_empty()
    );
}

#[tokio::test]
async fn requests_and_answers_keep_the_contract() {
    let mock = SalesforceMock::builder().users(5).start().await;
    mock.set_page_size(2);
    let mut s = settings_of(&mock);
    s.disable_by = DisableBy::Freeze;
    let sf = SalesforceConnector::from_settings(s).unwrap();

    // Drive the connector.
    let users: Vec<String> = mock
        .records("User")
        .iter()
        .filter_map(|u| u["Id"].as_str().map(str::to_owned))
        .collect();
    let ps = mock.id_by_name("PermissionSet", "Payroll_Admin").unwrap();
    let psg = mock
        .id_by_name("PermissionSetGroup", "Finance_Bundle")
        .unwrap();
    let group = mock.id_by_name("Group", "Payroll Team").unwrap();
    let e = |ty: &str, id: &str| EntitlementRef::new(EntitlementType::new(ty), id);
    let created = sf
        .create_account(&AccountSpec::new("contract@acme.example").name("Con", "Tract"))
        .await
        .unwrap();
    let id = created.account().id.clone();
    for (ty, eid) in [
        ("permission_set", &ps),
        ("permission_set_group", &psg),
        ("group", &group),
    ] {
        assert_eq!(
            sf.grant(&id, &e(ty, eid)).await.unwrap(),
            accesslink_core::GrantOutcome::Granted
        );
    }
    let jobs: Vec<Grant> = users
        .iter()
        .map(|u| Grant::new(u.as_str(), e("permission_set", &ps)))
        .collect();
    let _ = sf.grant_all(&jobs).await.unwrap();
    sf.set_enabled(&AccountId::new(users[1].clone()), false)
        .await
        .unwrap();
    let _ = sf
        .list_accounts(PageRequest::first().size(3))
        .await
        .unwrap();

    // What the connector sent.
    let mut checked = 0;
    for r in mock.received().await {
        let path = r.url.path();
        let body = || serde_json::from_slice::<Value>(&r.body).unwrap();
        let def = match (r.method.as_str(), path.rsplit('/').next().unwrap_or("")) {
            ("POST", "sobjects") if path.ends_with("/composite/sobjects") => "collection_request",
            ("POST", "PermissionSetAssignment" | "GroupMember") => "assignment_create",
            ("POST", "User") => "user_create",
            ("PATCH", _) if path.contains("/sobjects/UserLogin/") => "freeze",
            _ => continue,
        };
        valid(def, &body());
        if def == "collection_request" {
            for rec in body()["records"].as_array().unwrap() {
                let mut rec = rec.clone();
                rec.as_object_mut().unwrap().remove("attributes");
                valid("assignment_create", &rec);
            }
        }
        checked += 1;
    }
    assert!(checked >= 6, "{checked} requests checked");

    // What the mock answers, read through a bare client on the same URLs.
    let token_http = HttpClient::builder("contract", mock.url()).build().unwrap();
    let settings = accesslink_testkit::Mock::settings(&mock);
    let token = token_http
        .execute(
            token_http
                .post("services/oauth2/token")
                .unwrap()
                .without_auth()
                .form(vec![
                    ("grant_type".into(), "client_credentials".into()),
                    (
                        "client_id".into(),
                        settings["auth"]["client_id"].as_str().unwrap().into(),
                    ),
                    ("client_secret".into(), mock.client_secret()),
                ]),
        )
        .await
        .unwrap();
    let token: Value = token.json().unwrap();
    valid("token", &token);
    let http = sf.client().http().await.unwrap();
    let page = http
        .execute(http.get("query").unwrap().query_pair(
            "q",
            "SELECT Id,Username,LastModifiedDate FROM User ORDER BY Id",
        ))
        .await
        .unwrap();
    let usage = page.header("sforce-limit-info").unwrap().to_owned();
    valid("limit_info", &json!(usage));
    let page: Value = page.json().unwrap();
    assert_eq!(page["done"], json!(false));
    valid("query_page", &page);
    let next = page["nextRecordsUrl"].as_str().unwrap();
    let mut url = http.base_url().clone();
    url.set_path(next);
    let next: Value = http
        .execute(http.request_url(Method::GET, url))
        .await
        .unwrap()
        .json()
        .unwrap();
    valid("query_page", &next);
    let records = json!({"allOrNone": false, "records": [
        {"attributes": {"type": "GroupMember"}, "GroupId": group, "UserOrGroupId": users[2]},
        {"attributes": {"type": "GroupMember"}, "GroupId": group, "UserOrGroupId": users[2]},
    ]});
    let results: Value = http
        .execute(
            http.post("composite/sobjects")
                .unwrap()
                .json(&records)
                .unwrap(),
        )
        .await
        .unwrap()
        .json()
        .unwrap();
    valid("collection_results", &results);
    assert_eq!(
        results[1]["errors"][0]["statusCode"],
        json!("DUPLICATE_VALUE")
    );
    let gone = results[0]["id"].as_str().unwrap();
    let deleted: Value = http
        .execute(
            http.request(Method::DELETE, "composite/sobjects")
                .unwrap()
                .query_pair("ids", &format!("{gone},{gone}"))
                .query_pair("allOrNone", "false"),
        )
        .await
        .unwrap()
        .json()
        .unwrap();
    valid("collection_results", &deleted);
    let bad = http
        .execute(http.get("query").unwrap().query_pair("q", "SELECT FROM"))
        .await
        .unwrap();
    assert_eq!(bad.status().as_u16(), 400);
    valid("error", &bad.json().unwrap());
    mock.set_daily_limit(Some(0));
    let limited = http.execute(http.get("limits").unwrap()).await.unwrap();
    assert_eq!(limited.status().as_u16(), 403);
    assert!(limited.header("retry-after").is_none());
    valid("error", &limited.json().unwrap());
}
