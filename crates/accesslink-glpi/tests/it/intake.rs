//! Issue 23 on the mock: listing by `date_mod`, follow-ups read back, passwords.

use std::time::{Duration, UNIX_EPOCH};

use accesslink_core::feed::TicketQuery;
use accesslink_core::paging::PageRequest;
use accesslink_core::{
    AccountId, Comment, ErrorKind, Password, Provisioner, TicketRef, TicketingSystem, Visibility,
};
use accesslink_testkit::conformance::{AccountBackend, TicketBackend};
use accesslink_testkit::glpi::{GlpiMock, Itemtype};
use serde_json::json;

use crate::on_mock;

/// 2030-03-17 17:46:40 UTC.
const T0: u64 = 1_900_000_000;

fn at(secs: u64) -> std::time::SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

async fn search_params(mock: &GlpiMock) -> Vec<Vec<(String, String)>> {
    mock.received()
        .await
        .iter()
        .filter(|r| r.url.path().ends_with("/search/Ticket"))
        .map(|r| {
            r.url
                .query_pairs()
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect()
        })
        .collect()
}

fn get<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

#[tokio::test]
async fn the_watermark_is_morethan_the_second_before_and_only_changes_are_read() {
    let mock = GlpiMock::start().await;
    assert!(mock.freeze_clock(Some(at(T0))));
    for i in 0..3 {
        mock.create(
            Itemtype::Ticket,
            &json!({"name": format!("old {i}"), "content": "x"}),
        )
        .unwrap();
    }
    assert!(mock.freeze_clock(Some(at(T0 + 60))));
    let a = mock
        .create(Itemtype::Ticket, &json!({"name": "new a", "content": "x"}))
        .unwrap();
    let b = mock
        .create(
            Itemtype::Ticket,
            &json!({"name": "new b", "content": "x", "itilcategories_id": 5}),
        )
        .unwrap();
    mock.freeze_clock(None);
    let glpi = on_mock(&mock);
    let page = glpi
        .list_tickets(
            &TicketQuery::new().updated_since(at(T0 + 60)),
            PageRequest::first(),
        )
        .await
        .unwrap();
    let mut ids: Vec<String> = page
        .items
        .iter()
        .map(|t| t.reference.id().unwrap().to_owned())
        .collect();
    ids.sort();
    let mut want = vec![a.to_string(), b.to_string()];
    want.sort();
    assert_eq!(ids, want);
    let sent = search_params(&mock).await;
    let last = sent.last().unwrap();
    assert_eq!(get(last, "criteria[0][field]"), Some("19"));
    assert_eq!(get(last, "criteria[0][searchtype]"), Some("morethan"));
    assert_eq!(get(last, "criteria[0][value]"), Some("2030-03-17 17:47:39"));
    assert_eq!(get(last, "sort"), Some("19"));
    assert_eq!(get(last, "order"), Some("ASC"));

    // The category as the scope: sent, and confirmed on the items read.
    let page = glpi
        .list_tickets(&TicketQuery::new().scope("5"), PageRequest::first())
        .await
        .unwrap();
    let ids: Vec<&str> = page.items.iter().filter_map(|t| t.reference.id()).collect();
    assert_eq!(ids, [b.to_string().as_str()]);
    let sent = search_params(&mock).await;
    let last = sent.last().unwrap();
    assert_eq!(get(last, "criteria[0][field]"), Some("7"));
    assert_eq!(get(last, "criteria[0][value]"), Some("5"));
    assert!(mock.ignore_search_filters(true));
    let page = glpi
        .list_tickets(&TicketQuery::new().scope("5"), PageRequest::first())
        .await
        .unwrap();
    assert_eq!(
        page.items.len(),
        1,
        "the category is confirmed on each item"
    );
}

#[tokio::test]
async fn follow_ups_read_back_as_written() {
    let mock = GlpiMock::start().await;
    let id = mock
        .create(Itemtype::Ticket, &json!({"name": "notes", "content": "x"}))
        .unwrap();
    let glpi = on_mock(&mock);
    let r = TicketRef::by_id(id.to_string());
    let marker = "provisioned <b>crm</b> & done";
    glpi.add_comment(&r, &Comment::public(marker))
        .await
        .unwrap();
    glpi.add_comment(&r, &Comment::internal("note"))
        .await
        .unwrap();
    let comments = glpi.list_comments(&r).await.unwrap();
    let bodies: Vec<&str> = comments.iter().map(|c| c.body.as_str()).collect();
    assert_eq!(bodies, [marker, "note"]);
    let vis: Vec<Visibility> = comments.iter().map(|c| c.visibility).collect();
    assert_eq!(vis, [Visibility::Public, Visibility::Internal]);
    assert!(
        comments
            .iter()
            .all(|c| c.author.is_some() && c.created.is_some())
    );
    let err = glpi
        .list_comments(&TicketRef::by_id("999999"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
}

#[tokio::test]
async fn a_password_is_set_with_both_fields() {
    let mock = GlpiMock::start().await;
    let uid = mock
        .create(Itemtype::User, &json!({"name": "pw.user"}))
        .unwrap();
    let glpi = on_mock(&mock);
    let account = AccountId::new(uid.to_string());
    glpi.set_password(&account, &Password::from("New-Pw-123"))
        .await
        .unwrap();
    assert_eq!(
        mock.password_is(&account, "New-Pw-123").await.unwrap(),
        Some(true)
    );
    let put = mock
        .received()
        .await
        .into_iter()
        .rfind(|r| r.method == "PUT")
        .unwrap();
    let body: serde_json::Value = put.body_json().unwrap();
    assert_eq!(body["input"]["password"], "New-Pw-123");
    assert_eq!(body["input"]["password2"], "New-Pw-123");
    let err = glpi
        .set_password(&AccountId::new("999999"), &Password::from("x-y-z-1"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
}
