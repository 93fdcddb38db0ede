//! Issue 23 on the mock: listing by `sys_updated_on`, the journal read back, the
//! dictionary, passwords.

use std::time::{Duration, UNIX_EPOCH};

use accesslink_core::feed::TicketQuery;
use accesslink_core::paging::PageRequest;
use accesslink_core::schema::FieldType;
use accesslink_core::{
    AccountId, AccountSpec, Comment, CreateOutcome, ErrorKind, Password, Provisioner, TicketKind,
    TicketRef, TicketingSystem, Visibility,
};
use accesslink_testkit::conformance::{AccountBackend, TicketBackend};
use accesslink_testkit::servicenow::ServiceNowMock;
use serde_json::json;

use crate::mock::basic_on;

/// 2030-03-17 17:46:40 UTC.
const T0: u64 = 1_900_000_000;

fn incident(mock: &ServiceNowMock, title: &str, updated: &str) -> String {
    mock.insert(
        "incident",
        json!({"short_description": title, "sys_updated_on": updated}),
    )
}

#[tokio::test]
async fn a_watermark_is_a_server_filter_in_utc_and_pages_follow_each_other() {
    let mock = ServiceNowMock::start().await;
    incident(&mock, "old", "2030-03-17 17:46:39");
    let mut ours = Vec::new();
    for i in 0..5 {
        ours.push(incident(
            &mock,
            &format!("same second {i}"),
            "2030-03-17 17:46:40",
        ));
    }
    ours.push(incident(&mock, "later", "2030-03-17 17:47:00"));
    let sn = basic_on(&mock);
    mock.clear_requests();
    let since = UNIX_EPOCH + Duration::from_secs(T0);
    let query = TicketQuery::new()
        .kind(TicketKind::Incident)
        .updated_since(since);
    let mut token = None;
    let mut seen = Vec::new();
    loop {
        let page = sn
            .list_tickets(&query, PageRequest::at(token).size(2))
            .await
            .unwrap();
        seen.extend(
            page.items
                .iter()
                .map(|t| t.reference.id().unwrap().to_owned()),
        );
        token = page.next;
        if token.is_none() {
            break;
        }
    }
    // Inclusive: the five of 17:46:40 are listed, the older one is not.
    let mut want = ours.clone();
    want.sort();
    let mut got = seen.clone();
    got.sort();
    assert_eq!(got, want, "every ticket once");
    assert_eq!(seen.last(), ours.last(), "oldest update first");
    let first = &mock.requests()[0];
    assert_eq!(first.path, "/api/now/table/incident");
    assert_eq!(
        first.param("sysparm_query"),
        Some("sys_updated_on>=2030-03-17 17:46:40^ORDERBYsys_updated_on^ORDERBYsys_id")
    );
    // A watermark inside a second is rounded down for the server (which keeps whole
    // seconds) and confirmed on the rows: 17:46:40 rows are before 17:46:40.400.
    mock.clear_requests();
    let inside = TicketQuery::new()
        .kind(TicketKind::Incident)
        .updated_since(since + Duration::from_millis(400));
    let page = sn
        .list_tickets(&inside, PageRequest::first())
        .await
        .unwrap();
    let ids: Vec<&str> = page.items.iter().filter_map(|t| t.reference.id()).collect();
    assert_eq!(ids, [ours[5].as_str()]);
    assert!(
        mock.requests()[0]
            .param("sysparm_query")
            .unwrap()
            .starts_with("sys_updated_on>=2030-03-17 17:46:40^")
    );
    let bad = sn
        .list_tickets(
            &query,
            PageRequest::at(Some(accesslink_core::paging::PageToken::new(
                "snfeed1|2030-03-17 17:46:40^NQactive=true|",
            ))),
        )
        .await
        .unwrap_err();
    assert_eq!(bad.kind(), ErrorKind::InvalidInput);
}

#[tokio::test]
async fn the_scope_of_request_items_is_the_catalogue_item() {
    let mock = ServiceNowMock::start().await;
    let item = "0123456789abcdef0123456789abcdef";
    let other = "fedcba9876543210fedcba9876543210";
    let ours = mock.insert(
        "sc_req_item",
        json!({"short_description": "crm", "cat_item": item}),
    );
    mock.insert(
        "sc_req_item",
        json!({"short_description": "vpn", "cat_item": other}),
    );
    let sn = basic_on(&mock);
    mock.clear_requests();
    let query = TicketQuery::new().kind(TicketKind::RequestItem).scope(item);
    let page = sn.list_tickets(&query, PageRequest::first()).await.unwrap();
    let ids: Vec<&str> = page.items.iter().filter_map(|t| t.reference.id()).collect();
    assert_eq!(ids, [ours.as_str()]);
    let sent = mock.requests()[0]
        .param("sysparm_query")
        .unwrap()
        .to_owned();
    assert!(sent.starts_with(&format!("cat_item={item}^")), "{sent}");

    // A server that ignores the query answers both: the connector keeps the scope.
    assert!(mock.ignore_search_filters(true));
    let page = sn.list_tickets(&query, PageRequest::first()).await.unwrap();
    assert_eq!(page.items.len(), 1);
    // A hostile scope never reaches the server.
    let before = mock.requests().len();
    let err = sn
        .list_tickets(
            &TicketQuery::new()
                .kind(TicketKind::Incident)
                .scope("x^NQactive=true"),
            PageRequest::first(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert_eq!(mock.requests().len(), before);
}

#[tokio::test]
async fn the_journal_reads_back_with_ids_authors_and_visibility() {
    let mock = ServiceNowMock::start().await;
    let id = incident(&mock, "journal", "2030-03-17 17:46:40");
    let sn = basic_on(&mock);
    let r = TicketRef::by_id(id.clone());
    sn.add_comment(&r, &Comment::public("marker: provisioned"))
        .await
        .unwrap();
    sn.add_comment(&r, &Comment::internal("a work note"))
        .await
        .unwrap();
    assert!(mock.add_person_comment(&r, "thanks").await.unwrap());
    let comments = sn.list_comments(&r).await.unwrap();
    let bodies: Vec<&str> = comments.iter().map(|c| c.body.as_str()).collect();
    assert_eq!(bodies, ["marker: provisioned", "a work note", "thanks"]);
    let vis: Vec<Visibility> = comments.iter().map(|c| c.visibility).collect();
    assert_eq!(
        vis,
        [Visibility::Public, Visibility::Internal, Visibility::Public]
    );
    let person = comments[2].author.as_ref().unwrap();
    assert_eq!(person.login.as_deref(), Some("beth.anderson"));
    let journal_ids: Vec<String> = mock
        .rows("sys_journal_field")
        .iter()
        .filter(|row| row["element_id"] == id.as_str())
        .map(|row| row["sys_id"].as_str().unwrap().to_owned())
        .collect();
    for c in &comments {
        assert!(journal_ids.contains(&c.id), "{} is a journal sys_id", c.id);
    }
    let err = sn
        .list_comments(&TicketRef::by_number("INC9999999"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
}

#[tokio::test]
async fn schemas_come_from_the_dictionary_with_choices() {
    let mock = ServiceNowMock::start().await;
    let sn = basic_on(&mock);
    let schema = sn.ticket_schema(&TicketKind::Incident).await.unwrap();
    let state = schema.get("state").unwrap();
    assert_eq!(state.field_type, FieldType::Choice);
    let values: Vec<&str> = state.allowed.iter().map(|a| a.value.as_str()).collect();
    assert!(values.contains(&"6") && values.contains(&"8"), "{values:?}");
    assert_eq!(
        schema.get("caller_id").unwrap().field_type,
        FieldType::Reference("sys_user".into())
    );
    assert!(schema.get("short_description").unwrap().required);
    assert!(schema.get("number").unwrap().read_only);
    let sent: Vec<String> = mock
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("sys_dictionary"))
        .filter_map(|r| r.param("sysparm_query").map(str::to_owned))
        .collect();
    assert_eq!(
        sent,
        ["nameINincident,task^elementISNOTEMPTY^ORDERBYname^ORDERBYelement"]
    );
    let accounts = sn.account_schema().await.unwrap();
    for f in mock.account_fields().unwrap() {
        assert!(accounts.get(&f).is_some(), "{f}");
    }
}

#[tokio::test]
async fn passwords_are_sent_as_display_values_once() {
    let mock = ServiceNowMock::start().await;
    let sn = basic_on(&mock);
    let spec = AccountSpec::new("pw.user").password("Initial-Pw-1");
    let CreateOutcome::Created(account) = sn.create_account(&spec).await.unwrap() else {
        panic!("created");
    };
    assert_eq!(
        mock.password_is(&account.id, "Initial-Pw-1").await.unwrap(),
        Some(true)
    );
    mock.clear_requests();
    sn.set_password(&account.id, &Password::from("Second-Pw-2"))
        .await
        .unwrap();
    let reqs = mock.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].method, "PATCH");
    assert_eq!(reqs[0].param("sysparm_input_display_value"), Some("true"));
    assert_eq!(
        reqs[0].body.as_ref().unwrap()["user_password"],
        "Second-Pw-2"
    );
    assert_eq!(
        mock.password_is(&account.id, "Second-Pw-2").await.unwrap(),
        Some(true)
    );
    // The row never prints it.
    let row = mock.row("sys_user", account.id.as_str()).unwrap();
    assert!(!row.to_string().contains("Second-Pw-2"));
    let err = sn
        .set_password(&AccountId::new("not a sys_id"), &Password::from("x"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
}
