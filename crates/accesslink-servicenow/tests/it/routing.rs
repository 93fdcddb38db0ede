//! Every prefix reaches its table (as the mock saw it); sys_ids go through `task`.

use accesslink_core::{Comment, ErrorKind, Resolution, TicketKind, TicketState, TicketingSystem};
use accesslink_servicenow::ServiceNowConfig;
use accesslink_testkit::servicenow::ServiceNowMock;
use serde_json::json;

use crate::mock::{basic_on, basic_with, table_requests};

const TABLES: &[(&str, &str, TicketKind)] = &[
    ("incident", "INC", TicketKind::Incident),
    ("change_request", "CHG", TicketKind::Change),
    ("change_task", "CTASK", TicketKind::ChangeTask),
    ("sc_request", "REQ", TicketKind::Request),
    ("sc_req_item", "RITM", TicketKind::RequestItem),
    ("sc_task", "SCTASK", TicketKind::Task),
    ("problem", "PRB", TicketKind::Problem),
    ("pm_project", "PRJ", TicketKind::Project),
    ("pm_project_task", "PRJTASK", TicketKind::ProjectTask),
    ("task", "TASK", TicketKind::Task),
];

#[tokio::test]
async fn every_prefix_is_routed_to_its_table() {
    let mock = ServiceNowMock::start().await;
    let sn = basic_on(&mock);
    for (table, prefix, kind) in TABLES {
        let id = mock.insert(table, json!({ "short_description": format!("a {table}") }));
        let number = mock.row(table, &id).unwrap()["number"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(number.starts_with(prefix), "{number}");
        mock.clear_requests();
        let r = sn.parse_ticket_ref(&number.to_lowercase()).unwrap();
        let t = sn.get_ticket(&r).await.unwrap().expect("found");
        assert_eq!(t.reference.id(), Some(id.as_str()));
        assert_eq!(t.reference.scope(), Some(*table));
        assert_eq!(&t.kind, kind, "{table}");
        assert_eq!(t.title, format!("a {table}"));
        let seen = table_requests(&mock);
        assert_eq!(seen.len(), 1, "{number}: {seen:?}");
        assert_eq!(seen[0].method, "GET");
        assert_eq!(seen[0].path, format!("/api/now/table/{table}"));
        assert_eq!(
            seen[0].param("sysparm_query"),
            Some(format!("number={number}").as_str())
        );
    }
}

#[tokio::test]
async fn a_sys_id_is_read_through_task_and_keeps_its_real_table() {
    let mock = ServiceNowMock::start().await;
    let sn = basic_on(&mock);
    let id = mock.insert(
        "sc_req_item",
        json!({ "short_description": "laptop", "state": "2" }),
    );
    mock.clear_requests();
    let r = sn.parse_ticket_ref(&id.to_uppercase()).unwrap();
    let t = sn.get_ticket(&r).await.unwrap().unwrap();
    assert_eq!(t.kind, TicketKind::RequestItem);
    assert_eq!(t.reference.scope(), Some("sc_req_item"));
    assert_eq!(t.status.state, TicketState::InProgress);
    let seen = table_requests(&mock);
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].path, format!("/api/now/table/task/{id}"));

    // The reference it returned goes straight to the real table next time.
    mock.clear_requests();
    sn.get_ticket(&t.reference).await.unwrap().unwrap();
    assert_eq!(
        table_requests(&mock)[0].path,
        format!("/api/now/table/sc_req_item/{id}")
    );
}

#[tokio::test]
async fn a_custom_prefix_is_routed_and_batched_gets_use_number_in() {
    let mock = ServiceNowMock::start().await;
    let sn = basic_with(
        &mock,
        ServiceNowConfig::new()
            .custom_prefix("ACC", "incident")
            .batch_size(2),
    );
    mock.clear_requests();
    let r = sn.parse_ticket_ref("ACC0000001").unwrap();
    assert!(sn.get_ticket(&r).await.unwrap().is_none());
    assert_eq!(table_requests(&mock)[0].path, "/api/now/table/incident");

    let mut refs = Vec::new();
    for i in 0..3 {
        let id = mock.insert("incident", json!({ "short_description": format!("i{i}") }));
        let n = mock.row("incident", &id).unwrap()["number"]
            .as_str()
            .unwrap()
            .to_owned();
        refs.push(sn.parse_ticket_ref(&n).unwrap());
    }
    let id = mock.insert("change_request", json!({ "short_description": "c" }));
    let n = mock.row("change_request", &id).unwrap()["number"]
        .as_str()
        .unwrap()
        .to_owned();
    refs.push(sn.parse_ticket_ref(&n).unwrap());
    refs.push(sn.parse_ticket_ref("INC0999999").unwrap());
    mock.clear_requests();
    let got = sn.get_tickets(&refs).await.unwrap();
    assert_eq!(got.len(), 4, "the missing one is left out");
    let seen = table_requests(&mock);
    // incident: 4 numbers in batches of 2; change_request: 1.
    assert_eq!(seen.len(), 3, "{seen:?}");
    for r in &seen {
        assert!(
            r.param("sysparm_query").unwrap().starts_with("numberIN"),
            "{r:?}"
        );
    }
}

#[tokio::test]
async fn a_duplicated_number_does_not_crowd_another_ticket_out_of_a_batch() {
    let mock = ServiceNowMock::start().await;
    // Two rows share a number (an import reused it); they sort before the third ticket.
    for i in 1..=2 {
        mock.insert(
            "incident",
            json!({ "sys_id": format!("{i:032x}"), "short_description": "dup", "number": "INC0000001",
                    "sys_created_on": "2024-01-01 00:00:00" }),
        );
    }
    let id = mock.insert(
        "incident",
        json!({ "sys_id": "f".repeat(32), "short_description": "other", "number": "INC0000002",
                "sys_created_on": "2024-01-02 00:00:00" }),
    );
    assert_eq!(id, "f".repeat(32));
    let sn = basic_on(&mock);
    let refs = [
        sn.parse_ticket_ref("INC0000001").unwrap(),
        sn.parse_ticket_ref("INC0000002").unwrap(),
    ];
    let got = sn.get_tickets(&refs).await.unwrap();
    assert!(
        got.iter().any(|t| t.reference.id() == Some(id.as_str())),
        "{got:?}"
    );
}

#[tokio::test]
async fn a_number_two_rows_share_is_a_conflict_not_a_guess() {
    let mock = ServiceNowMock::start().await;
    let ids: Vec<String> = (1..=2)
        .map(|i| {
            mock.insert(
                "incident",
                json!({ "sys_id": format!("{i:032x}"), "short_description": format!("dup {i}"),
                        "number": "INC0000001" }),
            )
        })
        .collect();
    let single = mock.insert(
        "incident",
        json!({ "short_description": "single", "number": "INC0000002" }),
    );
    let sn = basic_on(&mock);
    mock.clear_requests();
    let r = sn.parse_ticket_ref("INC0000001").unwrap();
    let e = sn.get_ticket(&r).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conflict, "{e}");
    let msg = e.to_string();
    assert!(msg.contains("INC0000001"), "{msg}");
    for id in &ids {
        assert!(msg.contains(id.as_str()), "{msg}");
    }
    let seen = table_requests(&mock);
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].param("sysparm_query"), Some("number=INC0000001"));
    assert_eq!(seen[0].param("sysparm_limit"), Some("2"));

    // Writes through the number stop at the look-up: nothing reaches either row.
    let e = sn
        .add_comment(&r, &Comment::public("which one?"))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conflict, "{e}");
    let e = sn
        .close_ticket(&r, &Resolution::done("fixed"))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conflict, "{e}");
    assert_eq!(mock.count("PATCH", "/api/now/table/incident"), 0);
    for id in &ids {
        assert_eq!(mock.row("incident", id).unwrap()["state"], "1", "left open");
    }
    for id in &ids {
        assert!(mock.journal(id).is_empty());
    }

    // By sys_id each is readable, and a number only one row carries reads as before.
    let by_id = sn.parse_ticket_ref(&ids[1]).unwrap();
    let t = sn.get_ticket(&by_id).await.unwrap().expect("found");
    assert_eq!(t.title, "dup 2");
    let t = sn
        .get_ticket(&sn.parse_ticket_ref("INC0000002").unwrap())
        .await
        .unwrap()
        .expect("found");
    assert_eq!(t.reference.id(), Some(single.as_str()));
}
