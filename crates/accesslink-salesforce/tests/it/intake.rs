//! The intake contract: ticket listings with a watermark (and the change feed over
//! them), comments read back, describe schemas, passwords; Remedyforce tasks.

use std::time::{Duration, UNIX_EPOCH};

use accesslink_core::feed::{ChangeFeed, TicketQuery};
use accesslink_core::{
    AccountId, AccountSpec, Capability, Comment, Connector, ErrorKind, FieldType, PageRequest,
    Provisioner, TicketKind, TicketRef, TicketingSystem, Visibility,
};
use accesslink_testkit::Mock;
use accesslink_testkit::conformance::{AccountBackend, TicketBackend};
use accesslink_testkit::salesforce::{Profile, SalesforceMock};
use serde_json::json;

use crate::on;

fn case(mock: &SalesforceMock, subject: &str) -> String {
    mock.insert("Case", json!({"Subject": subject, "Status": "New"}))
}

async fn queries(mock: &SalesforceMock) -> Vec<String> {
    mock.received()
        .await
        .iter()
        .filter(|r| r.url.path().ends_with("/query"))
        .filter_map(|r| {
            r.url
                .query_pairs()
                .find(|(k, _)| k == "q")
                .map(|(_, v)| v.into_owned())
        })
        .collect()
}

#[tokio::test]
async fn the_watermark_is_a_server_filter_at_second_granularity() {
    let mock = SalesforceMock::start().await;
    let sf = on(&mock);
    assert!(sf.info().supports(&Capability::ListTickets));
    let ids: Vec<String> = (0..5).map(|n| case(&mock, &format!("case {n}"))).collect();
    let third = mock.record("Case", &ids[2]).unwrap()["LastModifiedDate"]
        .as_str()
        .unwrap()
        .to_owned();
    let updated = sf
        .get_ticket(&TicketRef::by_id(&ids[2]))
        .await
        .unwrap()
        .unwrap()
        .updated
        .unwrap();
    let since =
        accesslink_salesforce::intake::datetime_literal(updated + Duration::from_millis(700));
    // Rounded down to the second, unquoted, UTC.
    assert_eq!(format!("{}.000+0000", &since[..19]), third);
    let list = |at| {
        let sf = &sf;
        async move {
            let page = sf
                .list_tickets(
                    &TicketQuery::new().updated_since(at),
                    PageRequest::first().size(50),
                )
                .await
                .unwrap();
            assert!(page.items.iter().all(|t| t.updated.is_some()));
            page.items
                .iter()
                .filter_map(|t| t.reference.id().map(str::to_owned))
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(list(updated).await, ids[2..].to_vec());
    // Asked from 700 ms into that second: the server (to the second) answers the third
    // ticket too, and the client drops it, as the query excludes it.
    assert_eq!(
        list(updated + Duration::from_millis(700)).await,
        ids[3..].to_vec()
    );
    let sent = queries(&mock).await;
    let listing = sent
        .iter()
        .find(|q| q.contains("LastModifiedDate >="))
        .unwrap();
    assert!(
        listing.contains(&format!("LastModifiedDate >= {since} ")),
        "{listing}"
    );
    assert!(
        listing.contains("ORDER BY LastModifiedDate,Id"),
        "{listing}"
    );
}

#[tokio::test]
async fn pages_inside_one_second_lose_and_repeat_nothing() {
    let mock = SalesforceMock::start().await;
    let sf = on(&mock);
    let at = UNIX_EPOCH + Duration::from_secs(1_790_000_000);
    assert!(TicketBackend::freeze_clock(&mock, Some(at)));
    let mut ids: Vec<String> = (0..5)
        .map(|n| case(&mock, &format!("same second {n}")))
        .collect();
    ids.sort();
    let query = TicketQuery::new().updated_since(at);
    let mut token = None;
    let mut got = Vec::new();
    for _ in 0..10 {
        let page = sf
            .list_tickets(&query, PageRequest::at(token).size(2))
            .await
            .unwrap();
        got.extend(
            page.items
                .iter()
                .map(|t| t.reference.id().unwrap().to_owned()),
        );
        token = page.next;
        if token.is_none() {
            break;
        }
    }
    assert_eq!(got, ids);
    // A page boundary inside the second asks the rest of that second by Id.
    assert!(
        queries(&mock)
            .await
            .iter()
            .any(|q| q.contains("LastModifiedDate = ") && q.contains("Id > '"))
    );
    // A forged token is refused before any request.
    let before = mock.request_count();
    let e = sf
        .list_tickets(
            &query,
            PageRequest::at(Some(accesslink_core::PageToken::new("0|x|' OR Id != null"))),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert_eq!(mock.request_count(), before);
}

#[tokio::test]
async fn a_change_feed_hands_each_change_out_once_and_a_quiet_poll_is_cheap() {
    let mock = SalesforceMock::start().await;
    let sf = on(&mock);
    let ids: Vec<String> = (0..3).map(|n| case(&mock, &format!("feed {n}"))).collect();
    let mut feed = ChangeFeed::new(TicketQuery::new().kind(TicketKind::Case));
    let first = feed.poll(&sf).await.unwrap();
    assert_eq!(first.len(), 3);
    let quiet_before = mock.request_count();
    assert!(feed.poll(&sf).await.unwrap().is_empty());
    // One listing query (the overlap brings the last ticket back, recognised), and
    // its approval look-up.
    assert!(mock.request_count() - quiet_before <= 2);
    mock.patch("Case", &ids[0], json!({"Status": "Working"}));
    let changed = feed.poll(&sf).await.unwrap();
    assert_eq!(changed.len(), 1);
    assert_eq!(changed[0].reference.id(), Some(ids[0].as_str()));
    assert_eq!(changed[0].status.raw, "Working");
}

#[tokio::test]
async fn scope_is_the_owner_or_record_type_and_is_confirmed() {
    let mock = SalesforceMock::start().await;
    let sf = on(&mock);
    let queue = mock.id_by_name("Group", "Tier 1 Queue").unwrap();
    let mine = case(&mock, "queued");
    mock.patch("Case", &mine, json!({"OwnerId": queue}));
    case(&mock, "not queued");
    let q = TicketQuery::new().scope("owner:Tier 1 Queue");
    let page = sf
        .list_tickets(&q, PageRequest::first().size(10))
        .await
        .unwrap();
    let got: Vec<&str> = page.items.iter().filter_map(|t| t.reference.id()).collect();
    assert_eq!(got, [mine.as_str()]);
    assert!(
        queries(&mock)
            .await
            .iter()
            .any(|q| q.contains("Owner.Name = 'Tier 1 Queue'"))
    );
    // By id too; a server that ignores the filter cannot widen the answer.
    assert!(TicketBackend::ignore_search_filters(&mock, true));
    let page = sf
        .list_tickets(
            &TicketQuery::new().scope(format!("owner:{queue}")),
            PageRequest::first().size(10),
        )
        .await
        .unwrap();
    assert_eq!(page.items.len(), 1);
    TicketBackend::ignore_search_filters(&mock, false);
    // A quote in the scope stays inside the literal.
    let page = sf
        .list_tickets(
            &TicketQuery::new().scope("owner:x' OR Owner.Name != 'y"),
            PageRequest::first().size(10),
        )
        .await
        .unwrap();
    assert!(page.items.is_empty());
    assert!(
        queries(&mock)
            .await
            .iter()
            .any(|q| q.contains(r"Owner.Name = 'x\' OR Owner.Name != \'y'"))
    );
    let before = mock.request_count();
    for bad in ["Tier 1 Queue", "owner:", "shelf:x"] {
        let e = sf
            .list_tickets(&TicketQuery::new().scope(bad), PageRequest::first())
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "{bad}");
    }
    assert_eq!(mock.request_count(), before);
}

#[tokio::test]
async fn comments_read_back_oldest_first_with_authors_and_visibility() {
    let mock = SalesforceMock::start().await;
    let sf = on(&mock);
    let id = case(&mock, "comments");
    let r = TicketRef::by_id(&id);
    sf.add_comment(&r, &Comment::public("Granted: payroll-admin.\nLine two."))
        .await
        .unwrap();
    sf.add_comment(&r, &Comment::internal("note for agents"))
        .await
        .unwrap();
    assert!(
        TicketBackend::add_person_comment(&mock, &r, "Please also add reports")
            .await
            .unwrap()
    );
    let comments = sf.list_comments(&r).await.unwrap();
    let bodies: Vec<&str> = comments.iter().map(|c| c.body.as_str()).collect();
    assert_eq!(
        bodies,
        [
            "Granted: payroll-admin.\nLine two.",
            "note for agents",
            "Please also add reports"
        ]
    );
    let vis: Vec<Visibility> = comments.iter().map(|c| c.visibility).collect();
    assert_eq!(
        vis,
        [Visibility::Public, Visibility::Internal, Visibility::Public]
    );
    let agent = comments[2].author.as_ref().unwrap();
    assert_eq!(agent.email.as_deref(), Some("sam.agent@acme.example"));
    assert_eq!(agent.login.as_deref(), Some("agent@acme.example"));
    assert!(
        comments
            .iter()
            .all(|c| c.created.is_some() && c.id.starts_with("00a"))
    );
    // Stable ids.
    let again = sf.list_comments(&r).await.unwrap();
    assert_eq!(again, comments);
    // An absent ticket is NotFound.
    let e = sf
        .list_comments(&TicketRef::by_number("99999999"))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
}

#[tokio::test]
async fn schemas_come_from_describe_with_picklists() {
    let mock = SalesforceMock::start().await;
    let sf = on(&mock);
    let case = sf.ticket_schema(&TicketKind::Case).await.unwrap();
    assert_eq!(case.object, "Case");
    let want = TicketBackend::ticket_fields(&mock, &TicketKind::Case).unwrap();
    let names: Vec<&str> = case.fields.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, want.iter().map(String::as_str).collect::<Vec<_>>());
    let status = case.get("Status").unwrap();
    assert_eq!(status.field_type, FieldType::Choice);
    assert!(status.allowed.iter().any(|v| v.value == "On Hold"));
    assert!(case.get("CaseNumber").unwrap().read_only);
    assert_eq!(
        case.get("ContactId").unwrap().field_type,
        FieldType::Reference("Contact".into())
    );
    let user = sf.account_schema().await.unwrap();
    assert!(user.get("LastName").unwrap().required);
    assert!(!user.get("FirstName").unwrap().required);
    assert!(
        user.get("TimeZoneSidKey")
            .unwrap()
            .allowed
            .iter()
            .any(|v| v.value == "Europe/London")
    );
    assert_eq!(
        user.fields.len(),
        AccountBackend::account_fields(&mock).unwrap().len()
    );
    let e = sf.ticket_schema(&TicketKind::Change).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    let sent: Vec<String> = mock
        .received()
        .await
        .iter()
        .filter(|r| r.url.path().ends_with("/describe"))
        .map(|r| r.url.path().to_owned())
        .collect();
    assert_eq!(
        sent,
        [
            "/services/data/v62.0/sobjects/Case/describe",
            "/services/data/v62.0/sobjects/User/describe"
        ]
    );
}

#[tokio::test]
async fn passwords_are_set_once_and_never_printed() {
    let mock = SalesforceMock::builder().users(1).start().await;
    let sf = on(&mock);
    let canary = "Pw-canary-7731x";
    let spec = AccountSpec::new("pw.user@acme.example")
        .name("Pw", "User")
        .password(canary);
    assert!(!format!("{spec:?}").contains(canary));
    let created = sf.create_account(&spec).await.unwrap();
    let id = created.account().id.clone();
    assert_eq!(
        AccountBackend::password_is(&mock, &id, canary)
            .await
            .unwrap(),
        Some(true)
    );
    let posts = mock
        .received()
        .await
        .iter()
        .filter(|r| r.url.path().ends_with("/password"))
        .count();
    assert_eq!(posts, 1);
    sf.set_password(&id, &"Second-pass-99".into())
        .await
        .unwrap();
    assert_eq!(
        AccountBackend::password_is(&mock, &id, "Second-pass-99")
            .await
            .unwrap(),
        Some(true)
    );
    // Refused by the org's policy: the error names the code, never the value.
    let weak = "weakcanary";
    let e = sf.set_password(&id, &weak.into()).await.unwrap_err();
    assert_eq!(e.vendor_code(), Some("INVALID_NEW_PASSWORD"));
    assert!(!format!("{e} {e:?}").contains(weak));
    // Not a user id: refused before any request.
    let before = mock.request_count();
    let e = sf
        .set_password(&AccountId::new(mock.profile_id()), &"Abcdefgh1".into())
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert_eq!(mock.request_count(), before);
}

#[tokio::test]
async fn remedyforce_tasks_are_read_for_the_gate() {
    let mock = SalesforceMock::builder()
        .profile(Profile::Remedyforce)
        .start()
        .await;
    let sf = on(&mock);
    assert!(sf.info().ticket_kinds.contains(&TicketKind::Task));
    let id = mock.insert(
        "BMCServiceDesk__Task__c",
        json!({"BMCServiceDesk__taskDescription__c": "Provision laptop\nfor Jane"}),
    );
    let number = mock.record("BMCServiceDesk__Task__c", &id).unwrap()["Name"]
        .as_str()
        .unwrap()
        .to_owned();
    let t = sf
        .get_ticket(&sf.parse_ticket_ref(&number).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(t.kind, TicketKind::Task);
    assert_eq!(t.title, "Provision laptop");
    assert_eq!(t.reference.id(), Some(id.as_str()));
    let tasks = sf
        .list_tickets(
            &TicketQuery::new().kind(TicketKind::Task),
            PageRequest::first().size(10),
        )
        .await
        .unwrap();
    assert_eq!(tasks.items.len(), 1);
}
