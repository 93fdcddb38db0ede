//! Intake: listing incidents by update time (the filter the server receives), scopes,
//! a change feed, the progress trail read back as comments, and the ticket schema.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use accesslink_core::feed::{ChangeFeed, TicketQuery};
use accesslink_core::{
    CorrelationId, ErrorKind, FieldType, NewTicket, PageRequest, Person, TicketKind, TicketState,
    TicketingSystem, Visibility,
};
use accesslink_testkit::conformance::TicketBackend;
use accesslink_testkit::topdesk::TopdeskMock;

use crate::{on_mock, param};

fn new(correlation: &str) -> NewTicket {
    NewTicket::new(
        TicketKind::Incident,
        format!("Access for {correlation}"),
        "IAM request",
        CorrelationId::new(correlation),
    )
}

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

#[tokio::test]
async fn the_watermark_goes_to_the_server_and_rows_come_oldest_first() {
    let mock = TopdeskMock::start().await;
    let td = on_mock(&mock);
    let t0 = 1_796_000_000; // 2026-11-30
    for (n, secs) in [("A", t0 + 30), ("B", t0 + 10), ("C", t0 + 20)] {
        mock.freeze_clock(Some(at(secs) + Duration::from_millis(400)));
        td.create_ticket(&new(n)).await.unwrap();
    }
    mock.freeze_clock(None);
    let before = mock.requests();
    // Since 20.9 s: rounded down to 20 s on the wire, so C (20.4 s) is in.
    let q = TicketQuery::new().updated_since(at(t0 + 20) + Duration::from_millis(900));
    let page = td.list_tickets(&q, PageRequest::first()).await.unwrap();
    let got: Vec<_> = page
        .items
        .iter()
        .map(|t| t.correlation_id.clone().unwrap().as_str().to_owned())
        .collect();
    // C is older than the watermark by 0.5 s; the server's inclusive, coarser filter
    // brings it, the client-side check drops it.
    assert_eq!(got, ["A"]);
    assert!(page.items.iter().all(|t| t.updated.is_some()));
    let sent = &mock.received().await[before..];
    assert_eq!(sent.len(), 1);
    assert_eq!(
        param(&sent[0].url, "query").as_deref(),
        Some("modificationDate=ge=2026-11-30T00:53:40Z")
    );
    assert_eq!(
        param(&sent[0].url, "sort").as_deref(),
        Some("modificationDate:asc,id:asc")
    );
    let all = td
        .list_tickets(
            &TicketQuery::new().updated_since(at(t0)),
            PageRequest::first(),
        )
        .await
        .unwrap();
    let order: Vec<_> = all
        .items
        .iter()
        .map(|t| t.correlation_id.clone().unwrap().as_str().to_owned())
        .collect();
    assert_eq!(order, ["B", "C", "A"]);
}

#[tokio::test]
async fn scope_and_state_filters_are_sent_and_confirmed() {
    let mock = TopdeskMock::start().await;
    let td = on_mock(&mock);
    let a = td.create_ticket(&new("S1")).await.unwrap();
    td.create_ticket(&new("S2")).await.unwrap();
    assert!(mock.set_incident_category(a.reference.id().unwrap(), "Access", Some("Roles")));
    let before = mock.requests();
    let q = TicketQuery::new()
        .scope("category:Access")
        .states([TicketState::New, TicketState::InProgress]);
    let page = td.list_tickets(&q, PageRequest::first()).await.unwrap();
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0].reference.id(), a.reference.id());
    let sent = &mock.received().await[before..];
    assert_eq!(
        param(&sent[0].url, "query").as_deref(),
        Some("(closed==false);(category.name=='Access')")
    );
    // The server ignoring the filter is caught: rows out of scope are dropped.
    assert!(TicketBackend::ignore_search_filters(&mock, true));
    let page = td.list_tickets(&q, PageRequest::first()).await.unwrap();
    assert_eq!(page.items.len(), 1);
    // Kinds TOPdesk cannot list, and scopes that cannot be quoted, are refused.
    let e = td
        .list_tickets(
            &TicketQuery::new().kind(TicketKind::Change),
            PageRequest::first(),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unsupported);
    let n = mock.requests();
    let e = td
        .list_tickets(&TicketQuery::new().scope("x';y"), PageRequest::first())
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert_eq!(mock.requests(), n);
}

#[tokio::test]
async fn a_change_feed_hands_out_each_change_once() {
    let mock = TopdeskMock::start().await;
    let td = on_mock(&mock);
    mock.freeze_clock(Some(at(1_796_000_000)));
    let a = td.create_ticket(&new("F1")).await.unwrap();
    td.create_ticket(&new("F2")).await.unwrap();
    let mut feed = ChangeFeed::new(TicketQuery::new()).overlap(Duration::from_secs(2));
    assert_eq!(feed.poll(&td).await.unwrap().len(), 2);
    assert_eq!(feed.poll(&td).await.unwrap().len(), 0);
    // A change in the same second as the watermark is still seen.
    TicketBackend::set_ticket_state(&mock, &a.reference, TicketState::OnHold)
        .await
        .unwrap();
    let changed = feed.poll(&td).await.unwrap();
    assert_eq!(changed.len(), 1);
    assert_eq!(changed[0].status.state, TicketState::OnHold);
    assert_eq!(feed.poll(&td).await.unwrap().len(), 0);
}

#[tokio::test]
async fn the_progress_trail_reads_back_oldest_first() {
    let mock = TopdeskMock::start().await;
    let td = on_mock(&mock);
    let alice = mock.add_person("alice", "Alice", "Liddell", "alice@example.test");
    let mut n = new("P1");
    n.requester = Some(Person::login("alice"));
    let t = td.create_ticket(&n).await.unwrap();
    // 120 entries: two pages of 100, read with the trail's own paging.
    for i in 0..118 {
        let c = if i % 2 == 0 {
            accesslink_core::Comment::public(format!("note {i} <b>x</b>\nline"))
        } else {
            accesslink_core::Comment::internal(format!("note {i}"))
        };
        td.add_comment(&t.reference, &c).await.unwrap();
    }
    assert!(
        TicketBackend::add_person_comment(&mock, &t.reference, "thanks")
            .await
            .unwrap()
    );
    td.add_comment(&t.reference, &accesslink_core::Comment::public("last"))
        .await
        .unwrap();
    let before = mock.requests();
    let comments = td.list_comments(&t.reference).await.unwrap();
    assert_eq!(comments.len(), 120);
    assert_eq!(comments[0].body, "note 0 <b>x</b>\nline");
    assert_eq!(comments[0].visibility, Visibility::Public);
    assert_eq!(comments[1].visibility, Visibility::Internal);
    assert_eq!(comments[118].body, "thanks");
    let author = comments[118].author.as_ref().unwrap();
    assert_eq!(author.id.as_deref(), Some(alice.as_str()));
    assert_eq!(comments[119].body, "last");
    assert!(
        comments
            .iter()
            .all(|c| c.created.is_some() && !c.id.is_empty())
    );
    let ids: std::collections::HashSet<_> = comments.iter().map(|c| c.id.clone()).collect();
    assert_eq!(ids.len(), 120);
    let sent = &mock.received().await[before..];
    assert_eq!(sent.len(), 2);
    assert_eq!(param(&sent[1].url, "start").as_deref(), Some("100"));
    assert_eq!(param(&sent[1].url, "page_size").as_deref(), Some("100"));
    // Stable ids across reads.
    let again = td.list_comments(&t.reference).await.unwrap();
    assert_eq!(again, comments);
    // An incident that does not exist is NotFound, by id and by number.
    for raw in ["0b7c0001-0001-4000-8000-00000000ffff", "I 2612 999"] {
        let r = td.parse_ticket_ref(raw).unwrap();
        let e = td.list_comments(&r).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NotFound, "{raw}: {e}");
    }
}

#[tokio::test]
async fn the_incident_schema_lists_every_field_and_the_search_lists() {
    let mock = TopdeskMock::start().await;
    let td = on_mock(&mock);
    let schema = td.ticket_schema(&TicketKind::Incident).await.unwrap();
    let fields = TicketBackend::ticket_fields(&mock, &TicketKind::Incident).unwrap();
    for f in &fields {
        assert!(schema.get(f).is_some(), "{f} missing");
    }
    let category = schema.get("category").unwrap();
    assert_eq!(category.field_type, FieldType::Choice);
    let names: Vec<_> = category.allowed.iter().map(|v| v.value.as_str()).collect();
    assert_eq!(names, ["Access", "Hardware"]);
    let sub = schema.get("subcategory").unwrap();
    assert_eq!(sub.allowed[0].label.as_deref(), Some("Access / Roles"));
    let codes: Vec<_> = schema
        .get("closureCode")
        .unwrap()
        .allowed
        .iter()
        .map(|v| v.value.clone())
        .collect();
    assert_eq!(codes, ["Solved", "Rejected", "Withdrawn"]);
    assert!(schema.get("briefDescription").unwrap().required);
    let paths: Vec<_> = mock
        .received()
        .await
        .iter()
        .map(|r| r.url.path().to_owned())
        .collect();
    assert_eq!(
        paths,
        [
            "/tas/api/incidents/categories",
            "/tas/api/incidents/subcategories",
            "/tas/api/incidents/closure_codes",
            "/tas/api/incidents/statuses"
        ]
    );
    let change = td.ticket_schema(&TicketKind::Change).await.unwrap();
    assert!(change.get("changeType").is_some());
    let e = td.ticket_schema(&TicketKind::Problem).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unsupported);
}
