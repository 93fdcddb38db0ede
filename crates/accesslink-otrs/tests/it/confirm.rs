//! Issue 15: a search hit is confirmed before it is returned (item 1), and a base URL
//! with a query is refused without echoing it (item 14).

use accesslink_core::{ErrorKind, TicketRef, TicketingSystem};
use accesslink_otrs::{OtrsConnector, OtrsSettings};
use serde_json::json;
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const WS: &str = "/otrs/nph-genericinterface.pl/Webservice/GenericTicketConnectorREST";

fn ticket(id: u64) -> serde_json::Value {
    json!({
        "TicketID": id.to_string(),
        "TicketNumber": format!("20261207100000{id:02}"),
        "Title": format!("ticket {id}"),
        "State": "open",
        "StateType": "open",
        "Queue": "Raw",
        "Type": "Unclassified",
        "CustomerUserID": "apicustomer",
    })
}

/// A server whose TicketSearch ignores `TicketNumber`: it always answers ids 7 and 3.
async fn server() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!("{WS}/Session")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "SessionID": "s-1" })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{WS}/Ticket")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "TicketID": ["7", "3"] })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path_regex(format!("^{WS}/Ticket/[0-9,]+$")))
        .respond_with(|r: &Request| {
            let ids = r
                .url
                .path()
                .rsplit('/')
                .next()
                .unwrap_or_default()
                .to_owned();
            let tickets: Vec<_> = ids.split(',').map(|i| ticket(i.parse().unwrap())).collect();
            ResponseTemplate::new(200).set_body_json(json!({ "Ticket": tickets }))
        })
        .mount(&server)
        .await;
    server
}

fn connector(server: &MockServer) -> OtrsConnector {
    let s: OtrsSettings = serde_json::from_value(json!({
        "base_url": format!("{}{WS}", server.uri()),
        "auth": { "method": "session", "user": "apiagent", "password": "pw-123456" },
    }))
    .unwrap();
    OtrsConnector::from_settings(s).unwrap()
}

async fn searched_numbers(server: &MockServer) -> Vec<String> {
    server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.method.as_str() == "GET" && r.url.path() == format!("{WS}/Ticket"))
        .flat_map(|r| {
            r.url
                .query_pairs()
                .filter(|(k, _)| k == "TicketNumber")
                .map(|(_, v)| v.into_owned())
                .collect::<Vec<_>>()
        })
        .collect()
}

async fn ticket_gets(server: &MockServer) -> usize {
    server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| {
            r.method.as_str() == "GET" && r.url.path().starts_with(&format!("{WS}/Ticket/"))
        })
        .count()
}

#[tokio::test]
async fn get_ticket_returns_none_when_no_search_hit_carries_the_number() {
    let server = server().await;
    let otrs = connector(&server);
    let missing = TicketRef::by_number("2026120799999999");
    assert!(otrs.get_ticket(&missing).await.unwrap().is_none());
    // It did search by number, and read the hits to check them.
    assert_eq!(searched_numbers(&server).await, ["2026120799999999"]);
    assert!(ticket_gets(&server).await >= 1);

    // A number that is among the hits is found, and is that ticket, not the lowest id.
    let seven = TicketRef::by_number("2026120710000007");
    let t = otrs.get_ticket(&seven).await.unwrap().unwrap();
    assert_eq!(t.reference.id(), Some("7"));
    assert_eq!(t.reference.number(), Some("2026120710000007"));

    // An id with a number that is not its own is not that ticket.
    let mismatched = TicketRef::by_id_and_number("3", "2026120710000007");
    assert!(otrs.get_ticket(&mismatched).await.unwrap().is_none());
}

#[tokio::test]
async fn get_tickets_leaves_out_search_hits_that_were_not_asked_for() {
    let server = server().await;
    let otrs = connector(&server);
    let got = otrs
        .get_tickets(&[
            TicketRef::by_number("2026120710000007"),
            TicketRef::by_number("2026120799999999"),
        ])
        .await
        .unwrap();
    let numbers: Vec<_> = got.iter().map(|t| t.reference.number()).collect();
    assert_eq!(numbers, [Some("2026120710000007")]);
    let mut asked = searched_numbers(&server).await;
    asked.sort();
    assert_eq!(asked, ["2026120710000007", "2026120799999999"]);

    let none = otrs
        .get_tickets(&[TicketRef::by_number("2026120799999999")])
        .await
        .unwrap();
    assert!(none.is_empty(), "{none:?}");
}

#[tokio::test]
async fn a_base_url_with_a_query_is_refused_without_echo() {
    const CANARY: &str = "CANARY-otrs-url-4c1d";
    let server = MockServer::start().await;
    for base in [
        format!("{}{WS}?token={CANARY}", server.uri()),
        format!("{}{WS}#{CANARY}", server.uri()),
    ] {
        let s: OtrsSettings = serde_json::from_value(json!({
            "base_url": base,
            "auth": { "method": "session", "user": "apiagent", "password": "pw-123456" },
        }))
        .unwrap();
        let shown = format!("{s:?}");
        assert!(!shown.contains(CANARY), "{shown}");
        let e = OtrsConnector::from_settings(s).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Config, "{e}");
        let printed = format!("{e}\n{e:?}");
        assert!(!printed.contains(CANARY), "{printed}");
    }
    assert!(server.received_requests().await.unwrap().is_empty());
}
