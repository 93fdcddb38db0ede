//! Issue 23 on the mock: listing by change time, comments read back, the ticket schema.

use std::time::{Duration, UNIX_EPOCH};

use accesslink_core::feed::{ChangeFeed, TicketQuery};
use accesslink_core::paging::PageRequest;
use accesslink_core::{Comment, ErrorKind, TicketRef, TicketState, TicketingSystem, Visibility};
use accesslink_testkit::conformance::TicketBackend;
use accesslink_testkit::otrs::OtrsMock;

use crate::tag_connector;

/// 2030-03-17 17:46:40 UTC: after every ticket the mock starts with.
const T0: i64 = 1_900_000_000;

fn at(secs: i64) -> std::time::SystemTime {
    UNIX_EPOCH + Duration::from_secs(u64::try_from(secs).unwrap())
}

/// The query pairs of the TicketSearch requests the server received.
async fn searches(mock: &OtrsMock) -> Vec<Vec<(String, String)>> {
    mock.received()
        .await
        .iter()
        .filter(|r| r.method == "GET" && r.url.path().ends_with("/Ticket"))
        .map(|r| {
            r.url
                .query_pairs()
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect()
        })
        .collect()
}

fn value<'a>(pairs: &'a [(String, String)], key: &str) -> Vec<&'a str> {
    pairs
        .iter()
        .filter(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .collect()
}

#[tokio::test]
async fn a_watermark_is_sent_to_the_server_and_only_changes_are_read() {
    let mock = OtrsMock::start().await;
    mock.set_clock(Some(T0));
    let old = mock.seed_tickets(30, "old");
    mock.set_clock(Some(T0 + 100));
    assert!(mock.set_state(old[4], "open"));
    assert!(mock.set_state(old[9], "open"));
    mock.set_clock(None);
    let otrs = tag_connector(&mock);
    let before = mock.counter().total();

    let query = TicketQuery::new().updated_since(at(T0 + 100));
    let page = otrs
        .list_tickets(&query, PageRequest::first())
        .await
        .unwrap();
    let ids: Vec<String> = page
        .items
        .iter()
        .map(|t| t.reference.id().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 2, "{ids:?}");
    assert!(ids.contains(&old[4].to_string()) && ids.contains(&old[9].to_string()));
    assert!(page.next.is_none());
    assert!(page.items.iter().all(|t| t.updated == Some(at(T0 + 100))));
    // One session, one search, one batched TicketGet: not 30 reads.
    assert_eq!(mock.counter().total() - before, 3);
    let sent = searches(&mock).await;
    let last = sent.last().unwrap();
    assert_eq!(
        value(last, "TicketChangeTimeNewerDate"),
        ["2030-03-17 17:48:19"]
    );
    assert_eq!(value(last, "SortBy"), ["Changed"]);
    assert_eq!(value(last, "OrderBy"), ["Up"]);
}

#[tokio::test]
async fn a_watermark_inside_a_second_is_rounded_down_and_the_bound_is_inclusive() {
    let mock = OtrsMock::start().await;
    mock.set_clock(Some(T0));
    let ids = mock.seed_tickets(1, "edge");
    mock.set_clock(None);
    let otrs = tag_connector(&mock);
    let since = at(T0) + Duration::from_millis(700);
    // The server keeps whole seconds: a ticket changed at T0 may have changed after
    // `since`, so it is asked for (and `matches` keeps only what is at or after it).
    otrs.list_tickets(
        &TicketQuery::new().updated_since(since),
        PageRequest::first(),
    )
    .await
    .unwrap();
    let sent = searches(&mock).await;
    assert_eq!(
        value(sent.last().unwrap(), "TicketChangeTimeNewerDate"),
        ["2030-03-17 17:46:39"]
    );
    let page = otrs
        .list_tickets(
            &TicketQuery::new().updated_since(at(T0)),
            PageRequest::first(),
        )
        .await
        .unwrap();
    assert_eq!(page.items.len(), 1);
    assert_eq!(
        page.items[0].reference.id(),
        Some(ids[0].to_string().as_str())
    );
}

#[tokio::test]
async fn pages_follow_each_other_without_repeats_or_gaps() {
    let mock = OtrsMock::start().await;
    mock.set_clock(Some(T0));
    let mut all = mock.seed_tickets(5, "a");
    mock.set_clock(Some(T0 + 1));
    all.extend(mock.seed_tickets(4, "b"));
    mock.set_clock(None);
    let otrs = tag_connector(&mock);
    let query = TicketQuery::new().updated_since(at(T0));
    let mut token = None;
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let page = otrs
            .list_tickets(&query, PageRequest::at(token.clone()).size(2))
            .await
            .unwrap();
        pages += 1;
        seen.extend(
            page.items
                .iter()
                .map(|t| t.reference.id().unwrap().parse::<u64>().unwrap()),
        );
        token = page.next;
        if token.is_none() {
            break;
        }
    }
    assert_eq!(pages, 5);
    let mut sorted = seen.clone();
    sorted.sort_unstable();
    all.sort_unstable();
    assert_eq!(sorted, all, "every ticket once");
    // Oldest change first.
    let t0: Vec<u64> = seen[..5].to_vec();
    assert!(t0.iter().all(|id| *id < all[5]), "{seen:?}");
    // One search for the whole listing; the pages read from its result.
    assert_eq!(mock.count("TicketSearch"), 1);
    let bad = otrs
        .list_tickets(
            &query,
            PageRequest::at(Some(accesslink_core::paging::PageToken::new("x"))),
        )
        .await
        .unwrap_err();
    assert_eq!(bad.kind(), ErrorKind::InvalidInput);
}

#[tokio::test]
async fn scope_states_and_kinds_go_to_the_server_and_are_confirmed() {
    let mock = OtrsMock::start().await;
    let ids = mock.seed_tickets(3, "scoped");
    assert!(mock.set_state(ids[1], "open"));
    assert!(mock.set_state(ids[2], "closed successful"));
    let otrs = tag_connector(&mock);
    let query = TicketQuery::new()
        .states([TicketState::InProgress])
        .scope("Raw");
    let page = otrs
        .list_tickets(&query, PageRequest::first())
        .await
        .unwrap();
    assert_eq!(page.items.len(), 1);
    assert_eq!(
        page.items[0].reference.id(),
        Some(ids[1].to_string().as_str())
    );
    let sent = searches(&mock).await;
    let last = sent.last().unwrap();
    assert_eq!(value(last, "Queues"), ["Raw"]);
    assert_eq!(value(last, "StateType"), ["open"]);

    // A queue that does not exist fails the search on the server: nothing, not all.
    let page = otrs
        .list_tickets(
            &TicketQuery::new().scope("NoSuchQueue"),
            PageRequest::first(),
        )
        .await
        .unwrap();
    assert!(page.items.is_empty());

    // A server that ignores the conditions answers everything: the connector drops
    // what the query excludes.
    assert!(mock.ignore_search_filters(true));
    let page = otrs
        .list_tickets(&query, PageRequest::first())
        .await
        .unwrap();
    assert_eq!(page.items.len(), 1, "{:?}", page.items);
    let page = otrs
        .list_tickets(&TicketQuery::new().scope("Misc"), PageRequest::first())
        .await
        .unwrap();
    assert!(page.items.is_empty(), "no ticket is in Misc");
}

#[tokio::test]
async fn a_change_feed_delivers_same_second_changes_once() {
    let mock = OtrsMock::start().await;
    mock.set_clock(Some(T0));
    let ids = mock.seed_tickets(3, "feed");
    let otrs = tag_connector(&mock);
    let mut feed = ChangeFeed::new(TicketQuery::new().updated_since(at(T0)));
    assert_eq!(feed.poll(&otrs).await.unwrap().len(), 3);
    assert!(feed.poll(&otrs).await.unwrap().is_empty());
    // Changed in the same second as the watermark, after the poll.
    assert!(mock.set_state(ids[0], "open"));
    let changed = feed.poll(&otrs).await.unwrap();
    assert_eq!(changed.len(), 1);
    assert_eq!(changed[0].status.raw, "open");
    assert!(feed.poll(&otrs).await.unwrap().is_empty());
    mock.set_clock(None);
}

#[tokio::test]
async fn comments_read_back_with_ids_authors_and_visibility() {
    let mock = OtrsMock::start().await;
    let id = mock.seed_tickets(1, "comments")[0];
    let otrs = tag_connector(&mock);
    let r = TicketRef::by_id(id.to_string());
    otrs.add_comment(&r, &Comment::public("marker: provisioned äöü"))
        .await
        .unwrap();
    otrs.add_comment(&r, &Comment::internal("internal note"))
        .await
        .unwrap();
    assert!(mock.customer_follow_up(id, "thanks"));
    let comments = otrs.list_comments(&r).await.unwrap();
    let bodies: Vec<&str> = comments.iter().map(|c| c.body.as_str()).collect();
    assert_eq!(
        bodies,
        ["marker: provisioned äöü", "internal note", "thanks"]
    );
    let vis: Vec<Visibility> = comments.iter().map(|c| c.visibility).collect();
    assert_eq!(
        vis,
        [Visibility::Public, Visibility::Internal, Visibility::Public]
    );
    // Ids are the server's ArticleIDs.
    let articles = mock.articles(id);
    let article_ids: Vec<String> = articles[1..]
        .iter()
        .map(|a| a["ArticleID"].to_string())
        .collect();
    let ids: Vec<&str> = comments.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, article_ids);
    let agent = comments[1].author.as_ref().unwrap();
    assert_eq!(agent.name.as_deref(), Some("API Agent"));
    assert_eq!(agent.id.as_deref(), Some("2"));
    assert!(comments.iter().all(|c| c.created.is_some()));
    // Read again: the same ids.
    assert_eq!(otrs.list_comments(&r).await.unwrap(), comments);

    let err = otrs
        .list_comments(&TicketRef::by_id("999999"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
}

#[tokio::test]
async fn the_schema_lists_the_ticket_and_dynamic_fields() {
    let mock = OtrsMock::start().await;
    let otrs = tag_connector(&mock);
    let schema = otrs
        .ticket_schema(&accesslink_core::TicketKind::Request)
        .await
        .unwrap();
    let want = mock
        .ticket_fields(&accesslink_core::TicketKind::Request)
        .unwrap();
    for name in &want {
        assert!(schema.get(name).is_some(), "{name} missing from {schema:?}");
    }
    assert!(schema.get("DynamicField_AccessRequestID").is_some());
    assert!(schema.get("Title").unwrap().required);
    assert!(schema.get("TicketNumber").unwrap().read_only);
}
