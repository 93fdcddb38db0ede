//! The intake contract on the mock: listing by update time (what the server received,
//! requests per poll), the change feed, notes and worklogs read back, schemas, and
//! passwords refused.

use std::time::{Duration, UNIX_EPOCH};

use accesslink_core::feed::{ChangeFeed, TicketQuery};
use accesslink_core::{
    AccountId, AccountSpec, Capability, Comment, Connector, CorrelationId, ErrorKind, NewTicket,
    PageRequest, Provisioner, TicketKind, TicketRef, TicketState, TicketingSystem, Visibility,
};
use accesslink_testkit::conformance::{AccountBackend, TicketBackend};
use accesslink_testkit::fault::{Fault, FaultMatcher};
use accesslink_testkit::sdp::SdpMock;
use serde_json::{Value, json};

use crate::{on, settings_of};

const T0: u64 = 1_765_000_000_000;

fn list_info_of(r: &accesslink_testkit::ReceivedRequest) -> Value {
    let raw = r
        .url
        .query_pairs()
        .find(|(k, _)| k == "input_data")
        .map(|(_, v)| v.into_owned())
        .expect("input_data in the query");
    serde_json::from_str::<Value>(&raw).unwrap()["list_info"].clone()
}

async fn lists(mock: &SdpMock, path: &str) -> Vec<Value> {
    mock.received()
        .await
        .iter()
        .filter(|r| r.method.as_str() == "GET" && r.url.path() == path)
        .map(list_info_of)
        .collect()
}

fn numbers(page: &[accesslink_core::Ticket]) -> Vec<String> {
    page.iter()
        .map(|t| t.reference.number().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test]
async fn list_sends_the_watermark_as_epoch_millis_and_sorts_by_update_time() {
    let mock = SdpMock::start_on_premises().await;
    mock.set_clock(Some(T0));
    let old = mock.add_request("old", None);
    mock.set_clock(Some(T0 + 5_000));
    let b = mock.add_request("b", None);
    mock.set_clock(Some(T0 + 3_000));
    let a = mock.add_request("a", None);
    let sdp = on(&mock);
    let q = TicketQuery::new()
        .kind(TicketKind::Request)
        .updated_since(UNIX_EPOCH + Duration::from_millis(T0 + 3_000));
    let page = sdp.list_tickets(&q, PageRequest::first()).await.unwrap();
    // Oldest update first; the old one is not asked for.
    assert_eq!(numbers(&page.items), [a.clone(), b.clone()]);
    assert!(page.next.is_none());
    assert!(page.items.iter().all(|t| t.updated.is_some()));
    assert!(!numbers(&page.items).contains(&old));
    let sent = lists(&mock, "/api/v3/requests").await;
    assert_eq!(sent.len(), 1, "one search, no read of every ticket");
    assert_eq!(
        sent[0]["search_criteria"],
        json!([{"field": "last_updated_time", "condition": "greater or equal", "value": (T0 + 3_000).to_string()}])
    );
    assert_eq!(sent[0]["sort_field"], "last_updated_time");
    assert_eq!(sent[0]["sort_order"], "asc");
    // Only requests were asked for: no change listing.
    assert!(lists(&mock, "/api/v3/changes").await.is_empty());
}

#[tokio::test]
async fn a_server_ignoring_the_filter_is_confirmed_client_side() {
    let mock = SdpMock::start_on_premises().await;
    mock.set_clock(Some(T0));
    mock.add_request("old", None);
    mock.set_clock(Some(T0 + 9_000));
    let new = mock.add_request("new", None);
    mock.ignore_search_filters(true);
    let sdp = on(&mock);
    let q = TicketQuery::new()
        .kind(TicketKind::Request)
        .updated_since(UNIX_EPOCH + Duration::from_millis(T0 + 1));
    let page = sdp.list_tickets(&q, PageRequest::first()).await.unwrap();
    assert_eq!(numbers(&page.items), [new]);
}

#[tokio::test]
async fn scope_is_a_category_and_msp_adds_the_account() {
    let mock = SdpMock::start_msp().await;
    let mine = mock.add_request("vpn", Some("Acme"));
    mock.set_category(&mine, "Access");
    let other = mock.add_request("printer", Some("Acme"));
    mock.set_category(&other, "Hardware");
    let foreign = mock.add_request("vpn", Some("Globex"));
    mock.set_category(&foreign, "Access");
    let sdp = on(&mock);
    let q = TicketQuery::new().kind(TicketKind::Request).scope("Access");
    let page = sdp.list_tickets(&q, PageRequest::first()).await.unwrap();
    assert_eq!(numbers(&page.items), std::slice::from_ref(&mine));
    let sent = lists(&mock, "/api/v3/requests").await;
    let fields: Vec<(&str, &str)> = sent[0]["search_criteria"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["field"].as_str().unwrap(), c["value"].as_str().unwrap()))
        .collect();
    assert_eq!(
        fields,
        [("category.name", "Access"), ("account.name", "Acme")]
    );
    // A server that ignores both criteria still yields only the account's category.
    mock.ignore_search_filters(true);
    let page = sdp.list_tickets(&q, PageRequest::first()).await.unwrap();
    assert_eq!(numbers(&page.items), [mine]);
    // Templates and sites are scopes too.
    let q = TicketQuery::new()
        .kind(TicketKind::Request)
        .scope("template:New hire");
    sdp.list_tickets(&q, PageRequest::first()).await.unwrap();
    let sent = lists(&mock, "/api/v3/requests").await;
    assert_eq!(
        sent.last().unwrap()["search_criteria"][0],
        json!({"field": "template.name", "condition": "is", "value": "New hire"})
    );
}

#[tokio::test]
async fn states_are_filtered_client_side_and_empty_pages_read_on() {
    let mock = SdpMock::start_on_premises().await;
    let sdp = on(&mock);
    let mut closed = Vec::new();
    for i in 0..25 {
        let n = mock.add_request(&format!("r{i}"), None);
        if i >= 20 {
            let r = TicketRef::new(None, Some(n.clone())).unwrap();
            mock.set_ticket_state(&r, TicketState::Closed)
                .await
                .unwrap();
            closed.push(n);
        }
    }
    // Pages of 5, both entities: the first four request pages hold no closed request.
    let q = TicketQuery::new().states([TicketState::Closed]);
    let page = sdp
        .list_tickets(&q, PageRequest::first().size(5))
        .await
        .unwrap();
    assert_eq!(numbers(&page.items), closed);
    // The next page is the changes' first.
    assert_eq!(page.next.as_ref().map(|t| t.as_str()), Some("change:1"));
    let rest = sdp
        .list_tickets(&q, PageRequest::at(page.next.clone()).size(5))
        .await
        .unwrap();
    assert!(rest.items.is_empty() && rest.next.is_none());
    // Foreign tokens are refused before any request.
    let before = mock.received().await.len();
    for bad in ["x", "change:0", "problem:1", "request:-1"] {
        let t = accesslink_core::PageToken::new(bad);
        assert_eq!(
            sdp.list_tickets(&q, PageRequest::at(Some(t)))
                .await
                .unwrap_err()
                .kind(),
            ErrorKind::InvalidInput
        );
    }
    assert_eq!(mock.received().await.len(), before);
}

#[tokio::test]
async fn a_row_without_update_time_is_a_protocol_error() {
    let mock = SdpMock::start_on_premises().await;
    let sdp = on(&mock);
    let body = json!({"response_status": [{"status_code": 2000, "status": "success"}],
        "list_info": {"has_more_rows": false, "start_index": 1, "row_count": 1},
        "requests": [{"id": "7", "display_id": "7", "subject": "x",
                      "status": {"name": "Open", "internal_name": "Open", "in_progress": true}}]});
    mock.faults().push_for(
        FaultMatcher::method("GET").and_path_suffix("/requests"),
        Fault::Status {
            status: 200,
            body: Some(body.to_string()),
        },
        1,
    );
    let e = sdp
        .list_tickets(
            &TicketQuery::new().kind(TicketKind::Request),
            PageRequest::first(),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Protocol, "{e}");
}

#[tokio::test]
async fn a_change_feed_poll_costs_requests_for_what_changed() {
    let mock = SdpMock::start_on_premises().await;
    mock.set_clock(Some(T0));
    for i in 0..250 {
        mock.add_request(&format!("open {i}"), None);
    }
    let sdp = on(&mock);
    let mut feed = ChangeFeed::new(
        TicketQuery::new()
            .kind(TicketKind::Request)
            .updated_since(UNIX_EPOCH + Duration::from_millis(T0)),
    );
    let first = feed.poll(&sdp).await.unwrap();
    assert_eq!(first.len(), 250);
    // A note 10 s later: that request only is handed out (the overlap re-reads the
    // second of the first poll, and nothing of it is handed out twice).
    let note = |at: u64, n: &'static str| {
        mock.set_clock(Some(at));
        let r = sdp.parse_ticket_ref(n).unwrap();
        let sdp = &sdp;
        async move {
            sdp.add_comment(&r, &Comment::internal("checked"))
                .await
                .unwrap();
        }
    };
    note(T0 + 10_000, "#117").await;
    let second = feed.poll(&sdp).await.unwrap();
    assert_eq!(numbers(&second), ["117"]);
    // Another 10 s later: one search, one request handed out.
    note(T0 + 20_000, "#118").await;
    let before = mock.received().await.len();
    let third = feed.poll(&sdp).await.unwrap();
    assert_eq!(numbers(&third), ["118"]);
    assert_eq!(mock.received().await.len() - before, 1);
    let sent = lists(&mock, "/api/v3/requests").await;
    assert_eq!(
        sent.last().unwrap()["search_criteria"][0]["value"],
        (T0 + 10_000 - 1_000).to_string(),
        "the watermark less the one-second overlap"
    );
    assert!(feed.poll(&sdp).await.unwrap().is_empty());
}

#[tokio::test]
async fn comments_read_back_oldest_first_with_ids_authors_and_visibility() {
    let mock = SdpMock::start_cloud().await;
    let sdp = on(&mock);
    let t = sdp
        .create_ticket(&NewTicket::new(
            TicketKind::Request,
            "VPN",
            "please",
            CorrelationId::new("c-1"),
        ))
        .await
        .unwrap();
    mock.set_clock(Some(T0));
    sdp.add_comment(&t.reference, &Comment::public("<b>granted</b> & done"))
        .await
        .unwrap();
    mock.set_clock(Some(T0 + 1_000));
    sdp.add_comment(&t.reference, &Comment::internal("audit 42"))
        .await
        .unwrap();
    mock.set_clock(Some(T0 + 2_000));
    assert!(
        mock.add_person_comment(&t.reference, "thanks")
            .await
            .unwrap()
    );
    let got = sdp.list_comments(&t.reference).await.unwrap();
    let bodies: Vec<&str> = got.iter().map(|c| c.body.as_str()).collect();
    assert_eq!(bodies, ["<b>granted</b> & done", "audit 42", "thanks"]);
    let vis: Vec<Visibility> = got.iter().map(|c| c.visibility).collect();
    assert_eq!(
        vis,
        [Visibility::Public, Visibility::Internal, Visibility::Public]
    );
    assert_eq!(
        got[2].author.as_ref().unwrap().login.as_deref(),
        Some("jdoe")
    );
    assert_eq!(
        got[0].author.as_ref().unwrap().login.as_deref(),
        Some("iam-bot")
    );
    assert_eq!(
        got[1].created,
        Some(UNIX_EPOCH + Duration::from_millis(T0 + 1_000))
    );
    let ids: std::collections::BTreeSet<&str> = got.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids.len(), 3);
    // Stable ids across reads.
    assert_eq!(sdp.list_comments(&t.reference).await.unwrap(), got);
    let cloud_notes = mock
        .received()
        .await
        .iter()
        .filter(|r| r.method.as_str() == "GET" && r.url.path().ends_with("/notes"))
        .count();
    assert_eq!(cloud_notes, 2);
    let absent = sdp.parse_ticket_ref("99999").unwrap();
    assert_eq!(
        sdp.list_comments(&absent).await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
}

#[tokio::test]
async fn worklogs_take_internal_comments_when_configured() {
    let mock = SdpMock::start_on_premises().await;
    let mut s = settings_of(&mock);
    s.worklogs = true;
    let sdp = accesslink_sdp::SdpConnector::from_settings(s).unwrap();
    let n = mock.add_change(
        "Firewall",
        "Implementation",
        "In Progress",
        Some("Approved"),
    );
    let r = sdp.parse_ticket_ref(&format!("CH-{n}")).unwrap();
    sdp.add_comment(&r, &Comment::internal("2h on the rule set"))
        .await
        .unwrap();
    sdp.add_comment(&r, &Comment::public("done")).await.unwrap();
    assert_eq!(mock.worklogs(true, &n), ["2h on the rule set"]);
    assert_eq!(mock.notes(true, &n), [("done".to_owned(), true)]);
    let posted: Vec<String> = mock
        .received()
        .await
        .iter()
        .filter(|r| r.method.as_str() == "POST")
        .map(|r| r.url.path().to_owned())
        .collect();
    assert_eq!(
        posted,
        [
            format!("/api/v3/changes/{n}/worklogs"),
            format!("/api/v3/changes/{n}/notes")
        ]
    );
    let got = sdp.list_comments(&r).await.unwrap();
    let wl = got
        .iter()
        .find(|c| c.body == "2h on the rule set")
        .expect("the worklog is read back");
    assert!(wl.id.starts_with("worklog-"));
    assert_eq!(wl.visibility, Visibility::Internal);
    // Without the setting the worklog is not read (and internal comments are notes).
    let plain = on(&mock);
    assert_eq!(plain.list_comments(&r).await.unwrap().len(), 1);
}

#[tokio::test]
async fn ticket_schema_lists_every_field_with_the_instance_values() {
    let mock = SdpMock::start_on_premises().await;
    let sdp = on(&mock);
    assert!(sdp.info().supports(&Capability::TicketSchema));
    for kind in [TicketKind::Request, TicketKind::Change] {
        let schema = sdp.ticket_schema(&kind).await.unwrap();
        for f in mock.ticket_fields(&kind).unwrap() {
            assert!(schema.get(&f).is_some(), "{kind:?} schema lacks {f}");
        }
        let prio: Vec<&str> = schema
            .get("priority")
            .unwrap()
            .allowed
            .iter()
            .map(|a| a.value.as_str())
            .collect();
        assert_eq!(prio, ["Low", "Normal", "Medium", "High", "Urgent"]);
    }
    let req = sdp.ticket_schema(&TicketKind::Request).await.unwrap();
    assert!(req.get("subject").unwrap().required);
    assert!(req.get("display_id").unwrap().read_only);
    assert_eq!(req.get("status").unwrap().allowed.len(), 5);
    let chg = sdp.ticket_schema(&TicketKind::Change).await.unwrap();
    assert!(chg.get("title").unwrap().required);
    assert_eq!(chg.get("stage").unwrap().allowed[0].value, "Submission");
    // A lookup path the build does not have leaves the values out, no error.
    let mut s = settings_of(&mock);
    s.paths.statuses = "request_statuses".into();
    let other = accesslink_sdp::SdpConnector::from_settings(s).unwrap();
    let req = other.ticket_schema(&TicketKind::Request).await.unwrap();
    assert!(req.get("status").unwrap().allowed.is_empty());
    assert_eq!(
        sdp.ticket_schema(&TicketKind::Problem)
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidInput
    );
}

#[tokio::test]
async fn account_schema_and_passwords() {
    for technicians in [false, true] {
        let mock = SdpMock::builder()
            .technician_accounts(technicians)
            .start()
            .await;
        let sdp = on(&mock);
        let schema = sdp.account_schema().await.unwrap();
        for f in mock.account_fields().unwrap() {
            assert!(schema.get(&f).is_some(), "schema lacks {f}");
        }
        assert_eq!(schema.get("groups").is_some(), technicians);
        assert!(!sdp.info().supports(&Capability::SetPassword));
        assert!(!sdp.info().supports(&Capability::CreateWithPassword));
        let e = sdp
            .set_password(&AccountId::new("1001"), &"Sw0rdfish!canary".into())
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Unsupported);
        let spec = AccountSpec::new("pw.user").password("Sw0rdfish!canary");
        let e = sdp.create_account(&spec).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Unsupported);
        assert!(!format!("{e} {e:?}").contains("Sw0rdfish"));
        assert!(mock.received().await.is_empty(), "nothing was sent");
    }
}
