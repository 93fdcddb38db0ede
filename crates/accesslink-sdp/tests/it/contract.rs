//! The contract on Cloud: the requests the connector sends and the mock's answers, checked
//! against JSON Schemas written from the vendor's published connector description
//! (`tests/contract/sdp-cloud.json`, whose `$comment` names the file, the commit and what
//! it does not cover).

use accesslink_core::{CorrelationId, NewTicket, Person, TicketKind, TicketingSystem};
use accesslink_testkit::sdp::SdpMock;
use serde_json::{Value, json};

use crate::on;

const CONTRACT: &str = include_str!("../contract/sdp-cloud.json");

fn problems(def: &str, instance: &Value) -> Vec<String> {
    let mut root: Value = serde_json::from_str(CONTRACT).unwrap();
    root["$ref"] = json!(format!("#/$defs/{def}"));
    let v = jsonschema::validator_for(&root).unwrap();
    v.iter_errors(instance)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

#[tokio::test]
async fn cloud_requests_and_answers_keep_the_contract() {
    let mock = SdpMock::start_cloud().await;
    mock.add_request("seeded", None);
    let sdp = on(&mock);
    let new = NewTicket::new(
        TicketKind::Request,
        "Grant VPN",
        "for jane",
        CorrelationId::new("contract-1"),
    )
    .requester(Person {
        email: Some("jane@example.com".into()),
        ..Person::default()
    });
    let t = sdp.create_ticket(&new).await.unwrap();
    assert!(sdp.get_ticket(&t.reference).await.unwrap().is_some());
    let received = mock.received().await;
    let mut checked = 0;
    for r in received
        .iter()
        .filter(|r| r.url.path().contains("/api/v3/requests"))
    {
        if r.method == "POST" {
            let raw = url::form_urlencoded::parse(&r.body)
                .find(|(k, _)| k == "input_data")
                .unwrap()
                .1;
            let input: Value = serde_json::from_str(&raw).unwrap();
            assert_eq!(
                problems("create_request_input", &input),
                Vec::<String>::new(),
                "{input}"
            );
            checked += 1;
        } else if r.url.path().ends_with("/requests") {
            let raw = r
                .url
                .query_pairs()
                .find(|(k, _)| k == "input_data")
                .unwrap()
                .1;
            let input: Value = serde_json::from_str(&raw).unwrap();
            assert_eq!(
                problems("list_input", &input),
                Vec::<String>::new(),
                "{input}"
            );
            checked += 1;
        }
    }
    assert!(checked >= 2, "{checked}");
    // The mock's answers, asked directly through the connector's client.
    let http = sdp.client().http();
    let list = http
        .send(
            http.get("requests")
                .unwrap()
                .query_pair("input_data", r#"{"list_info":{"row_count":10}}"#),
        )
        .await
        .unwrap()
        .json::<Value>()
        .unwrap();
    assert_eq!(
        problems("request_list_answer", &list),
        Vec::<String>::new(),
        "{list}"
    );
    assert_eq!(list["requests"].as_array().unwrap().len(), 2);
    let one = http
        .send(
            http.get(&format!("requests/{}", t.reference.id().unwrap()))
                .unwrap(),
        )
        .await
        .unwrap()
        .json::<Value>()
        .unwrap();
    assert_eq!(
        problems("request_answer", &one),
        Vec::<String>::new(),
        "{one}"
    );
    // The schemas can fail: a number where the contract wants a string is caught.
    let mut bad = one.clone();
    bad["request"]["id"] = json!(12);
    assert!(!problems("request_answer", &bad).is_empty());
}
