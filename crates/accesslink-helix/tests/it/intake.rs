//! The intake contract on the wire: the change feed's filter, order and cost, work logs
//! read back, fixed schemas.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use accesslink_core::{
    Comment, ErrorKind, PageRequest, Provisioner, TicketKind, TicketQuery, TicketState,
    TicketingSystem, Visibility,
};
use accesslink_testkit::conformance::TicketBackend;
use accesslink_testkit::helix::{HELP_DESK, HelixMock};
use serde_json::json;

use crate::{on_mock, param};

const T1: u64 = 1_780_000_000;
const T2: u64 = 1_780_000_600;

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

/// The `q` and `sort` of the list requests that reached `form_path`.
async fn lists(mock: &HelixMock, form_path: &str) -> Vec<(Option<String>, Option<String>)> {
    mock.received()
        .await
        .into_iter()
        .filter(|r| r.method.as_str() == "GET" && r.url.path().ends_with(form_path))
        .map(|r| (param(&r.url, "q"), param(&r.url, "sort")))
        .collect()
}

#[tokio::test]
async fn a_poll_sends_the_watermark_and_reads_only_what_changed() {
    let mock = HelixMock::start().await;
    let helix = on_mock(&mock);
    mock.freeze_clock(Some(at(T1)));
    for n in 0..60 {
        mock.add_incident(&format!("old {n}"), "Assigned");
    }
    mock.freeze_clock(Some(at(T2)));
    let a = mock.add_incident("new a", "Assigned");
    let crq = mock.add_change("new change", "Scheduled For Approval");
    mock.freeze_clock(Some(at(T2 + 5)));
    let b = mock.add_incident("new b", "In Progress");
    // Logged in already: the count below is the poll's own.
    accesslink_core::Connector::test_connection(&helix)
        .await
        .unwrap();
    let before = mock.requests();
    // Half a second past T2: the filter rounds down, so T2 itself is included.
    let query = TicketQuery::new().updated_since(at(T2) + Duration::from_millis(500));
    let mut got = Vec::new();
    let mut page = PageRequest::first();
    loop {
        let p = helix.list_tickets(&query, page).await.unwrap();
        got.extend(p.items);
        match p.next {
            Some(t) => page = PageRequest::at(Some(t)),
            None => break,
        }
    }
    let numbers: Vec<_> = got
        .iter()
        .map(|t| t.reference.number().unwrap().to_owned())
        .collect();
    // T2 is before the watermark's half second: AR's whole seconds make >= T2 the
    // inclusive filter; the client-side check keeps only what the query selects.
    assert_eq!(
        numbers,
        std::slice::from_ref(&b),
        "only what changed at or after the watermark"
    );
    assert!(got.iter().all(|t| t.updated == Some(at(T2 + 5))));
    assert_eq!(
        mock.requests() - before,
        4,
        "one page per form (incidents, changes, work orders, requests), not 60 rows"
    );
    let (q, sort) = lists(&mock, "/entry/HPD:Help%20Desk").await.pop().unwrap();
    assert_eq!(
        q.as_deref(),
        Some(&*format!("'Last Modified Date' >= \"{T2}\""))
    );
    assert_eq!(
        sort.as_deref(),
        Some("Last Modified Date.asc,Request ID.asc")
    );

    // From T2 exactly: both incidents and the change, in update order per form.
    let query = TicketQuery::new().updated_since(at(T2));
    let mut got = Vec::new();
    let mut page = PageRequest::first().size(1);
    loop {
        let p = helix.list_tickets(&query, page).await.unwrap();
        got.extend(p.items);
        match p.next {
            Some(t) => page = PageRequest::at(Some(t)).size(1),
            None => break,
        }
    }
    let numbers: Vec<_> = got
        .iter()
        .map(|t| t.reference.number().unwrap().to_owned())
        .collect();
    assert_eq!(numbers, [a, b, crq]);
    assert_eq!(got[2].kind, TicketKind::Change);
}

#[tokio::test]
async fn states_kinds_and_scope_go_to_the_server_and_are_checked_again() {
    let mock = HelixMock::start().await;
    let helix = on_mock(&mock);
    let mine = mock.add_incident("mine", "Resolved");
    mock.set_field(
        HELP_DESK,
        "Incident Number",
        &mine,
        "Assigned Group",
        json!("Service Desk"),
    );
    let other = mock.add_incident("other group", "Resolved");
    mock.set_field(
        HELP_DESK,
        "Incident Number",
        &other,
        "Assigned Group",
        json!("Network"),
    );
    mock.add_incident("open", "Assigned");
    mock.add_change("a change", "Draft");
    let query = TicketQuery::new()
        .kind(TicketKind::Incident)
        .states([TicketState::Resolved, TicketState::Closed])
        .scope("Service Desk");
    accesslink_core::Connector::test_connection(&helix)
        .await
        .unwrap();
    let before = mock.requests();
    let p = helix
        .list_tickets(&query, PageRequest::first())
        .await
        .unwrap();
    assert_eq!(p.items.len(), 1);
    assert_eq!(p.items[0].reference.number(), Some(mine.as_str()));
    assert!(p.next.is_none());
    assert_eq!(mock.requests() - before, 1, "incidents only");
    let (q, _) = lists(&mock, "/entry/HPD:Help%20Desk").await.pop().unwrap();
    assert_eq!(
        q.as_deref(),
        Some(
            "(('Status' = \"Resolved\" OR 'Status' = \"Closed\") AND 'Assigned Group' = \"Service Desk\")"
        )
    );

    // A server that ignores the qualification: the rows it should not have sent are
    // left out.
    assert!(mock.ignore_search_filters(true));
    let p = helix
        .list_tickets(&query, PageRequest::first())
        .await
        .unwrap();
    let numbers: Vec<_> = p
        .items
        .iter()
        .map(|t| t.reference.number().unwrap())
        .collect();
    assert_eq!(numbers, [mine.as_str()]);
    mock.ignore_search_filters(false);

    // Quotes in the scope are refused before any request.
    let before = mock.requests();
    let e = helix
        .list_tickets(
            &TicketQuery::new().scope("x\" OR 'Status' != \""),
            PageRequest::first(),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert_eq!(mock.requests(), before);
}

#[tokio::test]
async fn a_row_without_an_update_time_is_a_protocol_error() {
    let mock = HelixMock::start().await;
    let helix = on_mock(&mock);
    let n = mock.add_incident("x", "Assigned");
    let query = TicketQuery::new().kind(TicketKind::Incident);
    let p = helix
        .list_tickets(&query, PageRequest::first())
        .await
        .unwrap();
    assert_eq!(
        p.items[0].updated,
        helix
            .get_ticket(&p.items[0].reference)
            .await
            .unwrap()
            .unwrap()
            .updated
    );
    assert!(p.items[0].updated.is_some());
    mock.set_field(
        HELP_DESK,
        "Incident Number",
        &n,
        "Last Modified Date",
        json!(null),
    );
    let e = helix
        .list_tickets(&query, PageRequest::first())
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Protocol, "{e}");
}

#[tokio::test]
async fn work_logs_read_back_oldest_first_with_ids_authors_and_visibility() {
    let mock = HelixMock::start().await;
    let helix = on_mock(&mock);
    let n = mock.add_incident("Printer", "Assigned");
    let r = helix.parse_ticket_ref(&n).unwrap();
    let body = "Granted payroll access [accesslink:req-77]\nSecond line.";
    helix
        .add_comment(&r, &Comment::internal(body))
        .await
        .unwrap();
    assert!(mock.add_person_comment(&r, "Thanks!").await.unwrap());
    let comments = helix.list_comments(&r).await.unwrap();
    assert_eq!(comments.len(), 2);
    assert_eq!(comments[0].body, body, "read back identical");
    assert_eq!(comments[0].visibility, Visibility::Internal);
    assert_eq!(
        comments[0].author.as_ref().and_then(|p| p.login.as_deref()),
        Some(mock.username())
    );
    assert_eq!(comments[1].body, "Thanks!");
    assert_eq!(comments[1].visibility, Visibility::Public);
    assert_eq!(
        comments[1].author.as_ref().and_then(|p| p.login.as_deref()),
        Some("jdoe")
    );
    assert!(
        comments
            .iter()
            .all(|c| c.id.starts_with("WLG") && c.created.is_some())
    );
    assert_ne!(comments[0].id, comments[1].id);
    // Stable ids across reads.
    let again = helix.list_comments(&r).await.unwrap();
    assert_eq!(again, comments);
    // The work log was asked for by incident number.
    let (q, _) = lists(&mock, "/entry/HPD:WorkLog").await.pop().unwrap();
    assert_eq!(q.as_deref(), Some(&*format!("'Incident Number' = \"{n}\"")));
    // An absent incident is NotFound.
    let absent = helix.parse_ticket_ref("INC000000099999").unwrap();
    let e = helix.list_comments(&absent).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
}

#[tokio::test]
async fn schemas_list_what_the_server_keeps_with_status_values() {
    let mock = HelixMock::builder().generated_people(3).start().await;
    let helix = on_mock(&mock);
    let t = helix
        .create_ticket(
            &accesslink_core::NewTicket::new(
                TicketKind::Incident,
                "x",
                "y",
                accesslink_core::CorrelationId::new("req-schema"),
            )
            .requester(accesslink_core::Person::login("jdoe")),
        )
        .await
        .unwrap();
    helix
        .close_ticket(&t.reference, &accesslink_core::Resolution::done("ok"))
        .await
        .unwrap();
    let schema = helix.ticket_schema(&TicketKind::Incident).await.unwrap();
    for field in mock.ticket_fields(&TicketKind::Incident).unwrap() {
        assert!(
            schema.get(&field).is_some(),
            "{field} missing from {schema:?}"
        );
    }
    let status = schema.get("Status").unwrap();
    let values: Vec<_> = status.allowed.iter().map(|a| a.value.as_str()).collect();
    assert_eq!(
        values,
        [
            "New",
            "Assigned",
            "In Progress",
            "Pending",
            "Resolved",
            "Closed",
            "Cancelled"
        ]
    );
    let change = helix.ticket_schema(&TicketKind::Change).await.unwrap();
    assert!(change.get("Change Request Status").unwrap().allowed.len() >= 13);
    assert!(matches!(
        helix.ticket_schema(&TicketKind::Problem).await.unwrap_err(),
        accesslink_core::Error::Unsupported { .. }
    ));
    let people = helix.account_schema().await.unwrap();
    use accesslink_testkit::conformance::AccountBackend;
    for field in mock.account_fields().unwrap() {
        assert!(people.get(&field).is_some(), "{field} missing");
    }
    assert!(people.get("Remedy Login ID").unwrap().required);
}

#[tokio::test]
async fn a_change_feed_sees_a_change_on_a_later_form_once() {
    use accesslink_core::feed::ChangeFeed;
    let mock = HelixMock::start().await;
    let helix = on_mock(&mock);
    mock.freeze_clock(Some(at(T1)));
    let incidents: Vec<String> = (0..3)
        .map(|n| mock.add_incident(&format!("i{n}"), "Assigned"))
        .collect();
    let mut feed = ChangeFeed::new(TicketQuery::new()).overlap(Duration::from_secs(1));
    let first: Vec<String> = feed
        .poll(&helix)
        .await
        .unwrap()
        .iter()
        .map(|t| t.reference.number().unwrap().to_owned())
        .collect();
    assert_eq!(first, incidents);
    // Nothing new on the incident form; a change on the form after it.
    mock.freeze_clock(Some(at(T1 + 30)));
    let crq = mock.add_change("c", "Draft");
    let second: Vec<String> = feed
        .poll(&helix)
        .await
        .unwrap()
        .iter()
        .map(|t| t.reference.number().unwrap().to_owned())
        .collect();
    assert_eq!(second, std::slice::from_ref(&crq));
    // Polled again without a change: nothing handed out twice.
    assert!(feed.poll(&helix).await.unwrap().is_empty());
    // The last poll asked from the watermark minus the overlap, in whole seconds.
    let (q, _) = lists(&mock, "/entry/CHG:Infrastructure%20Change")
        .await
        .pop()
        .unwrap();
    assert_eq!(
        q.as_deref(),
        Some(&*format!("'Last Modified Date' >= \"{}\"", T1 + 29))
    );
}
