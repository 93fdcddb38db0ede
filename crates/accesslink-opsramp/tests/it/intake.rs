//! The intake contract on OpsRamp: listings by update time (seconds), responses read
//! back, declared schemas, and passwords per account and set later.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use accesslink_core::feed::{ChangeFeed, TicketQuery};
use accesslink_core::{
    AccountId, AccountSpec, Comment, CorrelationId, CreateOutcome, ErrorKind, NewTicket,
    PageRequest, Provisioner, TicketKind, TicketRef, TicketState, TicketingSystem, Visibility,
};
use accesslink_testkit::conformance::{AccountBackend, TicketBackend};
use accesslink_testkit::opsramp::OpsRampMock;
use serde_json::json;

use crate::{PASSWORD, connector, mock};

/// A whole second an hour ago, plus `secs`.
fn base(secs: u64) -> SystemTime {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    UNIX_EPOCH + Duration::from_secs(now - 3600 + secs)
}

/// The decoded `queryString` of every ticket search, in order.
async fn searches(mock: &OpsRampMock) -> Vec<(String, String)> {
    mock.received()
        .await
        .iter()
        .filter(|r| r.url.path().ends_with("/search") && !r.url.path().contains("/users/"))
        .filter(|r| !r.url.path().contains("/responses/"))
        .map(|r| {
            let q = r
                .url
                .query_pairs()
                .find(|(k, _)| k == "queryString")
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default();
            (r.url.path().to_owned(), q)
        })
        .collect()
}

fn ids(ts: &[accesslink_core::Ticket]) -> Vec<String> {
    let mut v: Vec<String> = ts
        .iter()
        .map(|t| t.reference.id().unwrap().to_owned())
        .collect();
    v.sort();
    v
}

async fn open(
    opsramp: &accesslink_opsramp::OpsRampConnector,
    kind: TicketKind,
    id: &str,
) -> String {
    let t = opsramp
        .create_ticket(&NewTicket::new(kind, id, "", CorrelationId::new(id)))
        .await
        .unwrap();
    t.reference.id().unwrap().to_owned()
}

#[tokio::test]
async fn a_poll_sends_the_update_window_and_reads_only_what_changed() {
    let mock = mock(0).await;
    let opsramp = connector(&mock);
    mock.freeze_clock(Some(base(0)));
    let inc = open(&opsramp, TicketKind::Incident, "i-1").await;
    let inc2 = open(&opsramp, TicketKind::Incident, "i-2").await;
    let srq = open(&opsramp, TicketKind::Request, "r-1").await;
    let mut feed = ChangeFeed::new(TicketQuery::new());
    let first = feed.poll(&opsramp).await.unwrap();
    assert_eq!(ids(&first), ids_of(&[&inc, &inc2, &srq]));
    assert_eq!(feed.cursor().watermark(), Some(base(0)));

    // A change in the same second as the watermark, after the poll.
    mock.set_ticket_state(&TicketRef::by_id(inc2.as_str()), TicketState::InProgress)
        .await
        .unwrap();
    assert_eq!(ids(&feed.poll(&opsramp).await.unwrap()), ids_of(&[&inc2]));
    let before = mock.received().await.len();
    assert!(feed.poll(&opsramp).await.unwrap().is_empty());
    let quiet = mock.received().await.len() - before;
    assert_eq!(quiet, 2, "a no-change poll: one search per collection");

    mock.freeze_clock(Some(base(30)));
    opsramp
        .add_comment(&TicketRef::by_id(srq.as_str()), &Comment::public("seen"))
        .await
        .unwrap();
    let changed = feed.poll(&opsramp).await.unwrap();
    assert_eq!(ids(&changed), ids_of(&[&srq]));
    assert_eq!(changed[0].updated, Some(base(30)));

    let sent = searches(&mock).await;
    let last = &sent.last().unwrap().1;
    // watermark base(0) less the one-second overlap, to the second, GMT, ` 0000`.
    let since = accesslink_core::time::format_rfc3339_millis(base(0) - Duration::from_secs(1));
    assert!(
        last.contains(&format!("startUpdationDate:{} 0000", &since[..19])),
        "{last}"
    );
    assert!(
        last.contains("endUpdationDate:")
            && last.contains("startCreationDate:2000-01-01T00:00:00 0000")
    );
    assert!(
        !sent[0].1.contains("startUpdationDate"),
        "no watermark, no update window"
    );
    println!("opsramp change feed: no-change poll {quiet} requests");
}

fn ids_of(v: &[&String]) -> Vec<String> {
    let mut out: Vec<String> = v.iter().map(|s| (*s).clone()).collect();
    out.sort();
    out
}

#[tokio::test]
async fn kinds_choose_the_collections_and_scope_and_states_are_checked() {
    let mock = mock(0).await;
    let opsramp = connector(&mock);
    let inc = open(&opsramp, TicketKind::Incident, "i-1").await;
    let mut access = NewTicket::new(TicketKind::Request, "Access", "", CorrelationId::new("r-2"));
    access.extra.insert(
        "category".into(),
        json!({"id": "24", "name": "Access requests"}),
    );
    let srq = opsramp.create_ticket(&access).await.unwrap();
    let srq = srq.reference.id().unwrap().to_owned();
    open(&opsramp, TicketKind::Request, "r-3").await;

    let before = mock.received().await.len();
    let q = TicketQuery::new().kind(TicketKind::Incident);
    let page = opsramp
        .list_tickets(&q, PageRequest::first())
        .await
        .unwrap();
    assert_eq!(ids(&page.items), ids_of(&[&inc]));
    assert!(page.next.is_none(), "incidents only: one collection");
    assert_eq!(mock.received().await.len() - before, 1);

    let q = TicketQuery::new().scope("access REQUESTS");
    let all: Vec<_> = accesslink_core::feed::tickets(&opsramp, &q, Default::default())
        .try_collect_all()
        .await;
    assert_eq!(ids(&all), ids_of(&[&srq]));
    let q = TicketQuery::new().scope("24").states([TicketState::New]);
    let all: Vec<_> = accesslink_core::feed::tickets(&opsramp, &q, Default::default())
        .try_collect_all()
        .await;
    assert_eq!(ids(&all), ids_of(&[&srq]));
    let q = TicketQuery::new().states([TicketState::Closed]);
    let all: Vec<_> = accesslink_core::feed::tickets(&opsramp, &q, Default::default())
        .try_collect_all()
        .await;
    assert!(all.is_empty());

    let before = mock.received().await.len();
    for bad in ["", "a\nb"] {
        let e = opsramp
            .list_tickets(&TicketQuery::new().scope(bad), PageRequest::first())
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
    }
    let e = opsramp
        .list_tickets(
            &TicketQuery::new(),
            PageRequest::at(Some(accesslink_core::PageToken::new("problems:1"))),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert_eq!(
        mock.received().await.len(),
        before,
        "refused before any request"
    );
}

trait CollectAll {
    async fn try_collect_all(self) -> Vec<accesslink_core::Ticket>;
}

impl CollectAll for accesslink_core::paging::Paged<'_, accesslink_core::Ticket> {
    async fn try_collect_all(self) -> Vec<accesslink_core::Ticket> {
        use futures::TryStreamExt;
        self.try_collect().await.unwrap()
    }
}

#[tokio::test]
async fn responses_read_back_as_comments() {
    let mock = mock(0).await;
    let opsramp = connector(&mock);
    let id = open(&opsramp, TicketKind::Request, "c-1").await;
    let r = TicketRef::by_id(id.as_str());
    let marker = "accesslink: provisioned (request 7781)";
    opsramp
        .add_comment(&r, &Comment::public(marker))
        .await
        .unwrap();
    opsramp
        .add_comment(&r, &Comment::internal("agents only"))
        .await
        .unwrap();
    mock.add_person_comment(&r, "please hurry").await.unwrap();
    let read = opsramp.list_comments(&r).await.unwrap();
    let bodies: Vec<&str> = read.iter().map(|c| c.body.as_str()).collect();
    assert_eq!(
        bodies,
        [marker, "agents only", "please hurry"],
        "oldest first"
    );
    assert_eq!(
        read.iter().map(|c| c.visibility).collect::<Vec<_>>(),
        [Visibility::Public, Visibility::Internal, Visibility::Public]
    );
    assert_eq!(
        read[2].author.as_ref().unwrap().login.as_deref(),
        Some("jdoe")
    );
    let unique: std::collections::HashSet<&str> = read.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(unique.len(), 3);
    assert!(read.iter().all(|c| c.created.is_some()));
    assert_eq!(
        opsramp.list_comments(&r).await.unwrap(),
        read,
        "ids are stable"
    );

    let gone = opsramp
        .list_comments(&TicketRef::by_id("INC0000099999"))
        .await
        .unwrap_err();
    assert_eq!(gone.kind(), ErrorKind::NotFound);
}

#[tokio::test]
async fn schemas_cover_the_fields_the_server_keeps() {
    let mock = mock(0).await;
    let opsramp = connector(&mock);
    for kind in [TicketKind::Incident, TicketKind::Request] {
        let schema = opsramp.ticket_schema(&kind).await.unwrap();
        for f in mock.ticket_fields(&kind).unwrap() {
            assert!(schema.get(&f).is_some(), "{kind} {f}");
        }
        assert!(schema.get("subject").unwrap().required);
        let priorities: Vec<&str> = schema
            .get("priority")
            .unwrap()
            .allowed
            .iter()
            .map(|a| a.value.as_str())
            .collect();
        assert_eq!(priorities, ["Low", "Normal", "High", "Urgent", "Very Low"]);
    }
    let e = opsramp
        .ticket_schema(&TicketKind::Change)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    let accounts = opsramp.account_schema().await.unwrap();
    for f in mock.account_fields().unwrap() {
        assert!(accounts.get(&f).is_some(), "{f}");
    }
    assert!(mock.received().await.is_empty(), "declared, not read");
}

#[tokio::test]
async fn a_per_account_password_overrides_the_default_and_can_be_set_later() {
    let mock = mock(0).await;
    let opsramp = connector(&mock);
    let own = "Per-Acc0unt!x";
    let spec = AccountSpec::new("seed001")
        .name("Seed", "One")
        .email("seed001@example.test")
        .password(own);
    assert!(!format!("{spec:?}").contains(own));
    let CreateOutcome::Created(a) = opsramp.create_account(&spec).await.unwrap() else {
        panic!("created")
    };
    assert_eq!(mock.password_is(&a.id, own).await.unwrap(), Some(true));
    assert_eq!(
        mock.password_is(&a.id, PASSWORD).await.unwrap(),
        Some(false)
    );
    let body = mock
        .received()
        .await
        .into_iter()
        .rfind(|r| r.method == "POST" && r.url.path().ends_with("/users"))
        .unwrap()
        .body_json::<serde_json::Value>()
        .unwrap();
    assert_eq!(body["password"], own, "sent once, in the create body");

    let plain = AccountSpec::new("plain")
        .name("Plain", "User")
        .email("plain@example.test");
    let CreateOutcome::Created(b) = opsramp.create_account(&plain).await.unwrap() else {
        panic!("created")
    };
    assert_eq!(mock.password_is(&b.id, PASSWORD).await.unwrap(), Some(true));

    let new = "N3w-Passw0rd!";
    opsramp.set_password(&a.id, &new.into()).await.unwrap();
    assert_eq!(mock.password_is(&a.id, new).await.unwrap(), Some(true));
    let sent = mock.received().await;
    let last = sent.last().unwrap();
    assert_eq!(
        last.url.path(),
        format!("/api/v2/tenants/{}/users/{}", mock.tenant(), a.id)
    );
    let last_body: serde_json::Value = last.body_json().unwrap();
    assert_eq!(last_body, json!({"password": new}), "only the password");

    let before = mock.received().await.len();
    let weak = opsramp
        .set_password(&a.id, &"weakpass".into())
        .await
        .unwrap_err();
    assert_eq!(weak.kind(), ErrorKind::InvalidInput);
    assert!(!weak.to_string().contains("weakpass"));
    assert_eq!(
        mock.received().await.len(),
        before,
        "refused before any request"
    );
    let missing = opsramp
        .set_password(&AccountId::new("USR0000099999"), &new.into())
        .await
        .unwrap_err();
    assert_eq!(missing.kind(), ErrorKind::NotFound);
    assert!(!format!("{missing:?} {missing}").contains(new));
}
