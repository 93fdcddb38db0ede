//! Injection attempts are rejected before any request, or neutralised: the query the
//! mock received holds only what the connector meant.

use accesslink_core::{
    AccountSpec, Comment, CorrelationId, ErrorKind, NewTicket, Person, Provisioner, TicketKind,
    TicketRef, TicketingSystem,
};
use accesslink_testkit::conformance::injection_attempts;
use accesslink_testkit::servicenow::ServiceNowMock;
use serde_json::json;

use crate::mock::{basic_on, table_requests};

const HOSTILE: &[&str] = &[
    "INC0010001^ORactive=true",
    "x^NQactive=true",
    "javascript:gs.getUserID()",
    "a\nb",
];

#[tokio::test]
async fn hostile_ticket_refs_never_reach_the_instance() {
    let mock = ServiceNowMock::start().await;
    let sn = basic_on(&mock);
    let mut all: Vec<String> = HOSTILE.iter().map(|s| s.to_string()).collect();
    all.extend(injection_attempts());
    for raw in &all {
        let e = sn.parse_ticket_ref(raw).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "{raw:?}");
        for r in [
            TicketRef::by_number(raw.as_str()),
            TicketRef::by_id(raw.as_str()),
            TicketRef::by_number(raw.as_str()).with_scope("incident"),
        ] {
            let e = sn.get_ticket(&r).await.unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidInput, "{raw:?}");
            let e = sn.add_comment(&r, &Comment::public("x")).await.unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidInput, "{raw:?}");
        }
        let e = sn
            .get_tickets(&[
                TicketRef::by_number("INC0010001"),
                TicketRef::by_number(raw.as_str()),
            ])
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
    }
    assert!(mock.requests().is_empty(), "{:?}", mock.requests());
}

#[tokio::test]
async fn hostile_logins_correlation_ids_and_fields_never_reach_the_instance() {
    let mock = ServiceNowMock::start().await;
    let sn = basic_on(&mock);
    for v in HOSTILE {
        let e = sn.create_account(&AccountSpec::new(*v)).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "{v:?}");
        let new = NewTicket::new(TicketKind::Incident, "t", "d", CorrelationId::new(*v));
        assert_eq!(
            sn.create_ticket(&new).await.unwrap_err().kind(),
            ErrorKind::InvalidInput
        );
        let e = sn
            .find_by_correlation(&CorrelationId::new(*v))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
        let new = NewTicket::new(TicketKind::Incident, "t", "d", CorrelationId::new("REQ-1"))
            .requester(Person::login(*v));
        assert_eq!(
            sn.create_ticket(&new).await.unwrap_err().kind(),
            ErrorKind::InvalidInput
        );
        let e = sn
            .get_account(&accesslink_core::AccountId::new(*v))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
    }
    for key in [
        "sys_id",
        "active=true^ORx",
        "u_a^b",
        "U_X",
        "caller_id.name",
    ] {
        let new = NewTicket::new(TicketKind::Incident, "t", "d", CorrelationId::new("REQ-2"))
            .extra(key, "1");
        let e = sn.create_ticket(&new).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "{key}");
    }
    assert!(mock.requests().is_empty(), "{:?}", mock.requests());
}

#[tokio::test]
async fn free_text_goes_into_bodies_verbatim_and_queries_hold_only_checked_values() {
    let mock = ServiceNowMock::start().await;
    let sn = basic_on(&mock);
    mock.insert(
        "sys_user",
        json!({ "user_name": "bob", "first_name": "Bob" }),
    );
    let text = "grant x^ORactive=true\njavascript:gs.log(1) ^NQ";
    let new = NewTicket::new(
        TicketKind::Incident,
        text.lines().next().unwrap(),
        text,
        CorrelationId::new("REQ-77"),
    )
    .requester(Person::login("bob"))
    .extra("u_cost_center", "42");
    let t = sn.create_ticket(&new).await.unwrap();
    sn.add_comment(&t.reference, &Comment::internal(text))
        .await
        .unwrap();

    let queries: Vec<(String, String)> = table_requests(&mock)
        .into_iter()
        .filter_map(|r| Some((r.path.clone(), r.param("sysparm_query")?.to_owned())))
        .collect();
    assert_eq!(
        queries,
        vec![
            (
                "/api/now/table/incident".to_owned(),
                "correlation_id=REQ-77^ORDERBYsys_created_on^ORDERBYsys_id".to_owned()
            ),
            (
                "/api/now/table/sys_user".to_owned(),
                "user_name=bob".to_owned()
            ),
        ]
    );
    let id = t.reference.id().map(str::to_owned).unwrap();
    let row = mock.row("incident", &id).unwrap();
    assert_eq!(row["description"], text);
    assert_eq!(row["u_cost_center"], "42");
    assert_eq!(row["correlation_display"], "accesslink");
    assert!(
        mock.journal(&id)
            .contains(&("work_notes".to_owned(), text.to_owned()))
    );
    assert_eq!(mock.table_len("incident"), 1);
}

#[tokio::test]
async fn a_priority_is_sent_as_the_impact_and_urgency_that_compute_it() {
    let mock = ServiceNowMock::start().await;
    let sn = basic_on(&mock);
    // The default Priority Lookup Rules: impact × urgency → priority.
    for (priority, impact, urgency) in [
        ("1", "1", "1"),
        ("2", "1", "2"),
        ("3", "2", "2"),
        ("4", "2", "3"),
        ("5", "3", "3"),
    ] {
        let new = NewTicket::new(
            TicketKind::Incident,
            "t",
            "d",
            CorrelationId::new(format!("REQ-P{priority}")),
        )
        .priority(priority);
        let t = sn.create_ticket(&new).await.unwrap();
        let row = mock.row("incident", t.reference.id().unwrap()).unwrap();
        assert_eq!(
            (row["impact"].as_str(), row["urgency"].as_str()),
            (Some(impact), Some(urgency)),
            "{priority}"
        );
    }
    // Explicit impact in `extra` wins.
    let new = NewTicket::new(TicketKind::Incident, "t", "d", CorrelationId::new("REQ-PX"))
        .priority("1")
        .extra("impact", "3");
    let t = sn.create_ticket(&new).await.unwrap();
    let row = mock.row("incident", t.reference.id().unwrap()).unwrap();
    assert_eq!(
        (row["impact"].as_str(), row["urgency"].as_str()),
        (Some("3"), Some("1"))
    );
    let before = mock.requests().len();
    for bad in ["0", "6", "high", "1^ORactive=true"] {
        let new = NewTicket::new(TicketKind::Incident, "t", "d", CorrelationId::new("REQ-PB"))
            .priority(bad);
        assert_eq!(
            sn.create_ticket(&new).await.unwrap_err().kind(),
            ErrorKind::InvalidInput,
            "{bad}"
        );
    }
    assert_eq!(mock.requests().len(), before, "refused before any request");
}
