//! The intake contract on Jira: listings by update time (minutes, rounded down),
//! comments read back, createmeta schemas and account schemas.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use accesslink_core::feed::{ChangeFeed, TicketQuery};
use accesslink_core::{
    Comment, CorrelationId, ErrorKind, FieldType, NewTicket, PageRequest, Provisioner, TicketKind,
    TicketRef, TicketState, TicketingSystem, Visibility,
};
use accesslink_testkit::conformance::TicketBackend;
use accesslink_testkit::jira::{JiraMock, Mode};
use serde_json::Value;

use crate::on;

/// 2024-05-02T09:14:00Z plus `secs`.
fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_714_641_240 + secs)
}

/// The JQL of every search the mock received, in order.
async fn searches(mock: &JiraMock) -> Vec<String> {
    mock.received()
        .await
        .iter()
        .filter(|r| r.url.path().ends_with("/search/jql") || r.url.path().ends_with("/search"))
        .filter_map(|r| r.body_json::<Value>().ok())
        .filter_map(|b| b.get("jql").and_then(Value::as_str).map(str::to_owned))
        .collect()
}

fn keys(ts: &[accesslink_core::Ticket]) -> Vec<String> {
    ts.iter()
        .map(|t| t.reference.number().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_same_minute_change_is_found_by_a_filter_rounded_down_to_the_minute() {
    for mode in [Mode::Cloud, Mode::DataCenter] {
        let mock = JiraMock::builder().mode(mode).start().await;
        let jira = on(&mock);
        mock.freeze_clock(Some(at(50)));
        let a = mock.add_issue("ITSM", "Task", "a", &[]);
        let b = mock.add_issue("ITSM", "Task", "b", &[]);
        mock.add_issue("OTHER", "Task", "elsewhere", &[]);
        let mut feed =
            ChangeFeed::new(TicketQuery::new().scope("ITSM")).overlap(Duration::from_secs(60));
        let first = feed.poll(&jira).await.unwrap();
        assert_eq!(keys(&first), [a.clone(), b.clone()], "{mode:?}");
        assert!(first.iter().all(|t| t.updated == Some(at(50))));
        assert_eq!(feed.cursor().watermark(), Some(at(50)));

        // Five seconds later, in the same minute: b changes.
        mock.freeze_clock(Some(at(55)));
        mock.set_ticket_state(&TicketRef::by_number(b.as_str()), TicketState::InProgress)
            .await
            .unwrap();
        let second = feed.poll(&jira).await.unwrap();
        assert_eq!(keys(&second), [b.as_str()], "{mode:?}: only the change");
        assert!(
            feed.poll(&jira).await.unwrap().is_empty(),
            "nothing changed"
        );

        let sent = searches(&mock).await;
        assert_eq!(sent[0], r#"project = "ITSM" ORDER BY updated ASC, key ASC"#);
        // watermark 09:14:50 less 60 s = 09:13:50, rounded down to 09:13.
        assert_eq!(
            sent[1],
            r#"project = "ITSM" AND updated >= "2024/05/02 09:13" ORDER BY updated ASC, key ASC"#
        );
        // A one-second overlap still asks from the start of the minute (09:14:54 → 09:14).
        let mut tight = ChangeFeed::new(TicketQuery::new().scope("ITSM").updated_since(at(54)))
            .overlap(Duration::from_secs(1));
        assert_eq!(keys(&tight.poll(&jira).await.unwrap()), [b.as_str()]);
        assert!(
            searches(&mock)
                .await
                .last()
                .unwrap()
                .contains(r#"updated >= "2024/05/02 09:14""#)
        );
    }
}

#[tokio::test]
async fn a_poll_costs_requests_in_proportion_to_what_changed() {
    let mock = JiraMock::start_cloud().await;
    let jira = on(&mock);
    mock.freeze_clock(Some(at(0)));
    let mut all = Vec::new();
    for n in 0..250 {
        all.push(mock.add_issue("ITSM", "Task", &format!("open {n}"), &[]));
    }
    let mut feed =
        ChangeFeed::new(TicketQuery::new().scope("ITSM")).overlap(Duration::from_secs(60));
    let before = mock.received().await.len();
    assert_eq!(feed.poll(&jira).await.unwrap().len(), 250);
    let full = mock.received().await.len() - before;
    assert_eq!(full, 3, "250 issues in pages of 100");

    // An hour later three issues change.
    mock.freeze_clock(Some(at(3600)));
    for k in [&all[7], &all[100], &all[249]] {
        jira.add_comment(&TicketRef::by_number(k.as_str()), &Comment::public("seen"))
            .await
            .unwrap();
    }
    // This poll still reads the 250 of the last watermark's minute (the overlap) …
    assert_eq!(feed.poll(&jira).await.unwrap().len(), 3);
    // … and from then on a poll reads only what changed: one request.
    let before = mock.received().await.len();
    assert!(feed.poll(&jira).await.unwrap().is_empty());
    let quiet = mock.received().await.len() - before;
    assert_eq!(quiet, 1, "a no-change poll is one search request");
    mock.freeze_clock(Some(at(3700)));
    jira.add_comment(
        &TicketRef::by_number(all[3].as_str()),
        &Comment::public("x"),
    )
    .await
    .unwrap();
    let before = mock.received().await.len();
    assert_eq!(keys(&feed.poll(&jira).await.unwrap()), [all[3].clone()]);
    assert_eq!(mock.received().await.len() - before, 1);
    println!("jira change feed: full read {full} requests, no-change poll {quiet} request(s)");
}

#[tokio::test]
async fn a_request_type_scope_keeps_only_that_request_type() {
    for mode in [Mode::Cloud, Mode::DataCenter] {
        let mock = JiraMock::builder().mode(mode).start().await;
        let jira = on(&mock);
        let mk = |kind, id: &str| NewTicket::new(kind, id, "", CorrelationId::new(id));
        let change = jira
            .create_ticket(&mk(TicketKind::Change, "c-1"))
            .await
            .unwrap();
        let request = jira
            .create_ticket(&mk(TicketKind::Request, "r-1"))
            .await
            .unwrap();
        let task = jira
            .create_ticket(&mk(TicketKind::Task, "t-1"))
            .await
            .unwrap();
        let list = |scope: &str| {
            let q = TicketQuery::new().scope(scope);
            let jira = &jira;
            async move {
                jira.list_tickets(&q, PageRequest::first())
                    .await
                    .unwrap()
                    .items
            }
        };
        assert_eq!(
            keys(&list("SD/26").await),
            keys(std::slice::from_ref(&request)),
            "{mode:?}"
        );
        assert_eq!(
            keys(&list("SD/25").await),
            keys(std::slice::from_ref(&change))
        );
        assert_eq!(keys(&list("ITSM").await), keys(std::slice::from_ref(&task)));
        // Pages of one: the change's page holds nothing of type 26 and is skipped within
        // the call (an empty page would end the listing).
        let q = TicketQuery::new().scope("SD/26");
        let paged: Vec<accesslink_core::Ticket> =
            futures::TryStreamExt::try_collect(accesslink_core::feed::tickets(
                &jira,
                &q,
                accesslink_core::paging::PagingOptions::new().page_size(1),
            ))
            .await
            .unwrap();
        assert_eq!(keys(&paged), keys(std::slice::from_ref(&request)));
        // Kinds and states are confirmed on the rows.
        let q = TicketQuery::new().scope("SD").kind(TicketKind::Change);
        let changes = jira
            .list_tickets(&q, PageRequest::first())
            .await
            .unwrap()
            .items;
        assert_eq!(keys(&changes), keys(std::slice::from_ref(&change)));
        let q = TicketQuery::new().states([TicketState::Closed]);
        assert!(
            jira.list_tickets(&q, PageRequest::first())
                .await
                .unwrap()
                .items
                .is_empty()
        );
        assert!(
            searches(&mock)
                .await
                .iter()
                .any(|j| j.starts_with(r#"project = "SD""#))
        );
    }
}

#[tokio::test]
async fn a_bad_scope_is_refused_before_any_request() {
    let mock = JiraMock::start_cloud().await;
    let jira = on(&mock);
    for bad in [
        r#"ITSM" OR project = "X"#,
        "SD/25 OR 1=1",
        "SD/",
        "",
        "IT SM",
    ] {
        let q = TicketQuery::new().scope(bad);
        let e = jira
            .list_tickets(&q, PageRequest::first())
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "{bad:?}");
    }
    assert!(mock.received().await.is_empty());
}

#[tokio::test]
async fn comments_read_back_with_ids_authors_and_visibility() {
    for mode in [Mode::Cloud, Mode::DataCenter] {
        let mock = JiraMock::builder().mode(mode).start().await;
        let jira = on(&mock);
        let new = NewTicket::new(
            TicketKind::Request,
            "Access",
            "",
            CorrelationId::new("cm-1"),
        );
        let t = jira.create_ticket(&new).await.unwrap();
        let marker = "accesslink: provisioned\nrequest 7781 \"done\"";
        jira.add_comment(&t.reference, &Comment::public(marker))
            .await
            .unwrap();
        jira.add_comment(&t.reference, &Comment::internal("agents only"))
            .await
            .unwrap();
        mock.add_person_comment(&t.reference, "please hurry")
            .await
            .unwrap();
        let read = jira.list_comments(&t.reference).await.unwrap();
        assert_eq!(read.len(), 3, "{mode:?}");
        assert_eq!(
            read[0].body, marker,
            "the connector's text reads back identical"
        );
        assert_eq!(read[0].visibility, Visibility::Public);
        assert_eq!(read[1].visibility, Visibility::Internal, "{mode:?}");
        assert_eq!(read[2].visibility, Visibility::Public);
        assert_eq!(read[2].body, "please hurry");
        let person = read[2].author.as_ref().unwrap();
        assert_eq!(person.email.as_deref(), Some("jane.doe@example.com"));
        assert_eq!(person.name.as_deref(), Some("Jane Doe"));
        let ids: std::collections::HashSet<&str> = read.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids.len(), 3, "ids are distinct");
        assert!(read.iter().all(|c| c.created.is_some()));
        assert_eq!(
            jira.list_comments(&t.reference).await.unwrap(),
            read,
            "stable"
        );

        let gone = jira
            .list_comments(&TicketRef::by_number("ITSM-999"))
            .await
            .unwrap_err();
        assert_eq!(gone.kind(), ErrorKind::NotFound);
    }
}

#[tokio::test]
async fn the_ticket_schema_is_the_create_screen_with_allowed_values() {
    for mode in [Mode::Cloud, Mode::DataCenter] {
        let mock = JiraMock::builder().mode(mode).start().await;
        let jira = on(&mock);
        let schema = jira.ticket_schema(&TicketKind::Task).await.unwrap();
        assert_eq!(schema.object, "Task");
        let summary = schema.get("summary").unwrap();
        assert!(summary.required);
        assert_eq!(summary.label.as_deref(), Some("Summary"));
        let priority = schema.get("priority").unwrap();
        assert_eq!(priority.field_type, FieldType::Choice);
        let names: Vec<&str> = priority.allowed.iter().map(|a| a.value.as_str()).collect();
        assert_eq!(names, ["Highest", "High", "Medium", "Low", "Lowest"]);
        assert!(schema.get("labels").unwrap().multi_valued);
        assert_eq!(
            schema.get("description").unwrap().field_type,
            FieldType::Text
        );
        assert_eq!(schema.get("duedate").unwrap().field_type, FieldType::Date);
        let wanted = mock.ticket_fields(&TicketKind::Task).unwrap();
        for f in &wanted {
            assert!(schema.get(f).is_some(), "{f}");
        }
        let paths: Vec<String> = mock
            .received()
            .await
            .iter()
            .map(|r| r.url.path().to_owned())
            .collect();
        let v = if mode == Mode::Cloud { 3 } else { 2 };
        assert_eq!(
            paths,
            [
                format!("/rest/api/{v}/issue/createmeta/ITSM/issuetypes"),
                format!("/rest/api/{v}/issue/createmeta/ITSM/issuetypes/10001"),
            ]
        );
    }
}

#[tokio::test]
async fn the_account_schema_names_the_users_fields() {
    use accesslink_testkit::conformance::AccountBackend;
    for mode in [Mode::Cloud, Mode::DataCenter] {
        let mock = JiraMock::builder().mode(mode).start().await;
        let jira = on(&mock);
        let schema = jira.account_schema().await.unwrap();
        for f in mock.account_fields().unwrap() {
            assert!(schema.get(&f).is_some(), "{mode:?} {f}");
        }
        assert!(schema.get("emailAddress").unwrap().required);
        assert!(mock.received().await.is_empty(), "declared, not read");
        let e = jira
            .set_password(&accesslink_core::AccountId::new("x"), &"Secret-1".into())
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Unsupported);
    }
}
