//! Incidents and changes on the wire: what the mock received and what it holds.

use accesslink_core::{
    ApprovalState, Comment, Connector, CorrelationId, ErrorKind, NewTicket, Person, Resolution,
    TicketKind, TicketRef, TicketState, TicketingSystem,
};
use accesslink_testkit::topdesk::{NumberFormat, TopdeskMock};
use serde_json::{Value, json};

use crate::{on_mock, param, settings_with};

fn new(corr: &str) -> NewTicket {
    NewTicket::new(
        TicketKind::Incident,
        "Grant sales-admin on CRM to alice",
        "Requested by bob.",
        CorrelationId::new(corr),
    )
}

#[tokio::test]
async fn test_connection_reads_the_version_with_basic_auth() {
    let mock = TopdeskMock::start().await;
    let td = on_mock(&mock);
    let report = td.test_connection().await.unwrap();
    assert_eq!(report.server_version.as_deref(), Some("3.7.1"));
    let sent = mock.received().await;
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].url.path(), "/tas/api/version");
    use base64::Engine as _;
    let want = base64::engine::general_purpose::STANDARD.encode(format!(
        "{}:{}",
        mock.login(),
        mock.password()
    ));
    assert_eq!(
        sent[0].headers["authorization"],
        format!("Basic {want}").as_str()
    );
}

#[tokio::test]
async fn create_sends_external_number_and_caller_and_is_idempotent() {
    let mock = TopdeskMock::start().await;
    let alice = mock.add_person("alice", "Alice", "Liddell", "alice@example.test");
    let td = on_mock(&mock);
    let mut n = new("REQ-1001");
    n.requester = Some(Person::login("alice"));
    let t = td.create_ticket(&n).await.unwrap();
    assert_eq!(t.reference.number(), Some("I 2612 001"));
    assert_eq!(t.status.state, TicketState::InProgress);
    let again = td.create_ticket(&n).await.unwrap();
    assert_eq!(again.reference, t.reference);
    assert_eq!(mock.incidents_created(), 1);
    let sent = mock.received().await;
    let posts: Vec<_> = sent.iter().filter(|r| r.method == "POST").collect();
    assert_eq!(posts.len(), 1);
    let body: Value = posts[0].body_json().unwrap();
    assert_eq!(body["externalNumber"], "REQ-1001");
    assert_eq!(body["callerLookup"], json!({ "id": alice }));
    assert_eq!(body["status"], "firstLine");
    // The look-up before the create went through the FIQL builder.
    let lookup = sent
        .iter()
        .find(|r| r.url.path() == "/tas/api/incidents" && r.method == "GET")
        .unwrap();
    assert_eq!(
        param(&lookup.url, "query").as_deref(),
        Some("externalNumber=='REQ-1001'")
    );
    // The requester's login and e-mail come back on get.
    let got = td.get_ticket(&t.reference).await.unwrap().unwrap();
    let who = got.requester.unwrap();
    assert_eq!(
        (who.login.as_deref(), who.email.as_deref()),
        (Some("alice"), Some("alice@example.test"))
    );
    assert_eq!(got.correlation_id, Some(CorrelationId::new("REQ-1001")));
}

#[tokio::test]
async fn an_unknown_requester_login_stops_before_the_create() {
    let mock = TopdeskMock::start().await;
    let td = on_mock(&mock);
    let mut n = new("REQ-1002");
    n.requester = Some(Person::login("nobody"));
    let e = td.create_ticket(&n).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
    assert_eq!(mock.incidents_created(), 0);
}

#[tokio::test]
async fn every_spelling_of_a_number_reaches_the_tenant_format() {
    for (format, style, stored) in [
        (NumberFormat::Spaces, "spaces", "I 2612 001"),
        (NumberFormat::Compact, "compact", "I2612-001"),
        (NumberFormat::Dashes, "dashes", "I-261207-001"),
    ] {
        let mock = TopdeskMock::builder().number_format(format).start().await;
        let td = accesslink_topdesk::TopdeskConnector::from_settings(settings_with(&mock, |v| {
            v["number_style"] = json!(style);
        }))
        .unwrap();
        let t = td
            .create_ticket(&new(&format!("REQ-{style}")))
            .await
            .unwrap();
        assert_eq!(t.reference.number(), Some(stored));
        let digits: String = stored.chars().filter(char::is_ascii_digit).collect();
        let (date, seq) = digits.split_at(digits.len() - 3);
        for typed in [
            format!("I {date} {seq}"),
            format!("i{date}-{seq}"),
            format!("I-{date}-{seq}"),
        ] {
            let r = td.parse_ticket_ref(&typed).unwrap();
            assert_eq!(r.number(), Some(stored), "{typed}");
            let got = td.get_ticket(&r).await.unwrap().unwrap();
            assert_eq!(got.reference.id(), t.reference.id());
        }
        let sent = mock.received().await;
        let by_number = sent
            .iter()
            .filter(|r| r.url.path().starts_with("/tas/api/incidents/number/"))
            .count();
        assert_eq!(by_number, 3);
    }
}

#[tokio::test]
async fn a_number_goes_url_encoded_into_the_path() {
    let mock = TopdeskMock::start().await;
    let td = on_mock(&mock);
    td.create_ticket(&new("REQ-2001")).await.unwrap();
    let r = td.parse_ticket_ref("I2612-001").unwrap();
    td.get_ticket(&r).await.unwrap().unwrap();
    let sent = mock.received().await;
    assert_eq!(
        sent.last().unwrap().url.path(),
        "/tas/api/incidents/number/I%202612%20001"
    );
    assert!(
        td.get_ticket(&td.parse_ticket_ref("I 2612 999").unwrap())
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn a_batch_is_one_fiql_query_per_batch_size() {
    let mock = TopdeskMock::start().await;
    let td = accesslink_topdesk::TopdeskConnector::from_settings(settings_with(&mock, |v| {
        v["batch_size"] = json!(4);
    }))
    .unwrap();
    for i in 0..10 {
        td.create_ticket(&new(&format!("REQ-B{i}"))).await.unwrap();
    }
    let before = mock.received().await.len();
    // Ten existing, one missing, one asked twice in another spelling.
    let mut refs: Vec<TicketRef> = (1..=10)
        .map(|i| td.parse_ticket_ref(&format!("I2612-{i:03}")).unwrap())
        .collect();
    refs.push(td.parse_ticket_ref("I 2612 099").unwrap());
    refs.push(td.parse_ticket_ref("I-2612-003").unwrap());
    let got = td.get_tickets(&refs).await.unwrap();
    assert_eq!(got.len(), 10);
    let sent = mock.received().await;
    let batch: Vec<_> = sent[before..].iter().collect();
    assert_eq!(batch.len(), 3, "11 distinct numbers in batches of 4");
    assert_eq!(
        param(&batch[0].url, "query").as_deref(),
        Some("number=in=('I 2612 001','I 2612 002','I 2612 003','I 2612 004')")
    );
    assert_eq!(param(&batch[0].url, "pageSize").as_deref(), Some("4"));
    assert!(td.get_tickets(&[]).await.unwrap().is_empty());
    assert_eq!(mock.received().await.len(), sent.len());
}

#[tokio::test]
async fn a_server_that_ignores_the_filter_is_caught() {
    let mock = TopdeskMock::start().await;
    let td = on_mock(&mock);
    td.create_ticket(&new("REQ-F1")).await.unwrap();
    td.create_ticket(&new("REQ-F2")).await.unwrap();
    // An old server without FIQL answers the whole list.
    let all = json!([
        mock.incident("I 2612 001").unwrap(),
        mock.incident("I 2612 002").unwrap()
    ]);
    mock.faults().push_for(
        accesslink_testkit::fault::FaultMatcher::route("GET", "/tas/api/incidents"),
        accesslink_testkit::fault::Fault::Status {
            status: 200,
            body: Some(all.to_string()),
        },
        1,
    );
    let asked = [
        td.parse_ticket_ref("I 2612 002").unwrap(),
        td.parse_ticket_ref("I 2612 003").unwrap(),
    ];
    let e = td.get_tickets(&asked).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Protocol, "{e}");
    assert!(e.to_string().contains("not asked for"), "{e}");
}

#[tokio::test]
async fn comments_are_actions_with_their_visibility() {
    let mock = TopdeskMock::start().await;
    let td = on_mock(&mock);
    let t = td.create_ticket(&new("REQ-C1")).await.unwrap();
    td.add_comment(&t.reference, &Comment::public("Done for you"))
        .await
        .unwrap();
    td.add_comment(&t.reference, &Comment::internal("AD group X"))
        .await
        .unwrap();
    assert_eq!(
        mock.actions("I 2612 001"),
        [
            ("Done for you".to_owned(), false),
            ("AD group X".to_owned(), true)
        ]
    );
    let forced = accesslink_topdesk::TopdeskConnector::from_settings(settings_with(&mock, |v| {
        v["comments_invisible_for_caller"] = json!(true);
    }))
    .unwrap();
    forced
        .add_comment(
            &td.parse_ticket_ref("I 2612 001").unwrap(),
            &Comment::public("hidden"),
        )
        .await
        .unwrap();
    assert_eq!(mock.actions("I 2612 001")[2], ("hidden".to_owned(), true));
}

#[tokio::test]
async fn close_sends_status_code_and_flags_and_reads_back() {
    let mock = TopdeskMock::start().await;
    let td = on_mock(&mock);
    let t = td.create_ticket(&new("REQ-X1")).await.unwrap();
    let closed = td
        .close_ticket(&t.reference, &Resolution::done("granted"))
        .await
        .unwrap();
    assert_eq!(closed.status.state, TicketState::Closed);
    assert_eq!(closed.resolution.as_deref(), Some("Solved"));
    let sent = mock.received().await;
    let patches: Vec<Value> = sent
        .iter()
        .filter(|r| r.method == "PATCH")
        .map(|r| r.body_json().unwrap())
        .collect();
    assert_eq!(
        patches[0],
        json!({"action": "granted", "actionInvisibleForCaller": false})
    );
    assert_eq!(
        patches[1],
        json!({"processingStatus": {"name": "Closed"}, "closureCode": {"name": "Solved"}, "completed": true, "closed": true})
    );
    assert_eq!(
        sent.last().unwrap().method,
        "GET",
        "read back after closing"
    );
    // Closing again changes nothing.
    let n = sent.len();
    td.close_ticket(&t.reference, &Resolution::done("again"))
        .await
        .unwrap();
    assert_eq!(mock.received().await.len(), n + 1);
}

#[tokio::test]
async fn a_close_the_tenant_does_not_apply_is_an_error() {
    let mock = TopdeskMock::start().await;
    // Flags off, and the tenant's processing status does not close: nothing closes it.
    mock.set_status_drives_flags(false);
    let td = accesslink_topdesk::TopdeskConnector::from_settings(settings_with(&mock, |v| {
        v["close"] = json!({ "processing_status": "Completed", "send_flags": false });
    }))
    .unwrap();
    let t = td.create_ticket(&new("REQ-X2")).await.unwrap();
    let e = td
        .close_ticket(&t.reference, &Resolution::done(""))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Protocol);
    assert!(e.to_string().contains("not closed"), "{e}");
}

#[tokio::test]
async fn an_unsuccessful_close_uses_the_failed_closure_code() {
    let mock = TopdeskMock::start().await;
    let td = accesslink_topdesk::TopdeskConnector::from_settings(settings_with(&mock, |v| {
        v["close"] = json!({ "failed_closure_code": "Rejected" });
        v["status_map"] = json!({ "states": { "closure:Rejected": "cancelled" } });
    }))
    .unwrap();
    let t = td.create_ticket(&new("REQ-X3")).await.unwrap();
    let closed = td
        .close_ticket(&t.reference, &Resolution::failed(""))
        .await
        .unwrap();
    assert_eq!(closed.status.state, TicketState::Cancelled);
    assert_eq!(
        mock.incident("I 2612 001").unwrap()["closureCode"]["name"],
        "Rejected"
    );
}

#[tokio::test]
async fn archived_incidents_are_closed() {
    let mock = TopdeskMock::start().await;
    let td = on_mock(&mock);
    let t = td.create_ticket(&new("REQ-A1")).await.unwrap();
    assert!(mock.archive_incident("I 2612 001"));
    let got = td.get_ticket(&t.reference).await.unwrap().unwrap();
    assert_eq!(got.status.state, TicketState::Closed);
    // Comments on archived incidents are refused by TOPdesk (403): a conflict.
    let e = td
        .add_comment(&t.reference, &Comment::public("x"))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conflict, "{e}");
}

#[tokio::test]
async fn changes_carry_their_authorization_as_the_approval() {
    let mock = TopdeskMock::start().await;
    mock.add_change("C2612-001", "extensive", "rfc", Some("authorized"));
    mock.add_change("C2612-002", "extensive", "rfc", None);
    mock.add_change("C2612-003", "simple", "simple", None);
    let td = on_mock(&mock);
    let get = |raw: &'static str| {
        let td = td.clone();
        async move {
            td.get_ticket(&td.parse_ticket_ref(raw).unwrap())
                .await
                .unwrap()
                .unwrap()
        }
    };
    let c = get("C 2612 001").await;
    assert_eq!(
        (c.kind.clone(), c.approval_state()),
        (TicketKind::Change, ApprovalState::Approved)
    );
    assert_eq!(c.status.state, TicketState::New);
    assert_eq!(
        get("c2612-002").await.approval_state(),
        ApprovalState::Requested
    );
    assert_eq!(
        get("C2612-003").await.approval_state(),
        ApprovalState::NotRequested
    );
    let sent = mock.received().await;
    assert_eq!(sent[0].url.path(), "/tas/api/operatorChanges/C2612-001");
}

#[tokio::test]
async fn a_partial_incident_is_closed_by_completed() {
    let mock = TopdeskMock::start().await;
    let td = on_mock(&mock);
    let main = td.create_ticket(&new("REQ-P1")).await.unwrap();
    let number = mock.add_partial(main.reference.number().unwrap()).unwrap();
    let id = mock.incident(&number).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = td.parse_ticket_ref(&id).unwrap();
    let closed = td.close_ticket(&r, &Resolution::done("")).await.unwrap();
    assert_eq!(closed.status.state, TicketState::Closed);
    let stored = mock.incident(&id).unwrap();
    // TOPdesk ignores `closed` on partials: only `completed` is set.
    assert_eq!(
        (stored["completed"].as_bool(), stored["closed"].as_bool()),
        (Some(true), Some(false))
    );
    // The main incident is untouched.
    let main_now = td.get_ticket(&main.reference).await.unwrap().unwrap();
    assert!(main_now.status.state.is_open());
}
