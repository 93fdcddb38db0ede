//! TOPdesk's paging on the wire: pageStart/pageSize, 206 = more, 200 = last, 204 = none;
//! wrong-shaped answers and repeated pages are errors, never short imports.

use accesslink_core::paging::{PagingOptions, accounts};
use accesslink_core::{EntitlementType, ErrorKind, PageRequest, Provisioner};
use accesslink_testkit::fault::{Fault, FaultMatcher};
use accesslink_testkit::topdesk::TopdeskMock;
use accesslink_topdesk::OPERATOR_GROUP;
use futures::TryStreamExt;
use serde_json::{Value, json};

use crate::{on_mock, param};

#[tokio::test]
async fn a_drain_follows_206_to_200_then_persons_then_204() {
    let mock = TopdeskMock::builder()
        .generated_operators(60)
        .generated_persons(30)
        .start()
        .await;
    let td = on_mock(&mock);
    let all: Vec<_> = accounts(&td, PagingOptions::new().page_size(25))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(all.len(), 90);
    let operators = all
        .iter()
        .filter(|a| a.id.as_str().starts_with("operator:"))
        .count();
    assert_eq!(operators, 60);
    let sent = mock.received().await;
    let asked: Vec<(String, String, String)> = sent
        .iter()
        .map(|r| {
            (
                r.url.path().to_owned(),
                param(&r.url, "pageStart").unwrap(),
                param(&r.url, "pageSize").unwrap(),
            )
        })
        .collect();
    let want: Vec<(String, String, String)> = [
        ("/tas/api/operators", "0"),
        ("/tas/api/operators", "25"),
        ("/tas/api/operators", "50"),
        ("/tas/api/persons", "0"),
        ("/tas/api/persons", "25"),
    ]
    .into_iter()
    .map(|(p, s)| (p.to_owned(), s.to_owned(), "25".to_owned()))
    .collect();
    assert_eq!(asked, want);
    // Archived accounts are disabled.
    assert!(all.iter().any(|a| a.enabled == Some(false)));
}

#[tokio::test]
async fn an_empty_listing_is_204_and_an_empty_page() {
    let mock = TopdeskMock::start().await;
    let td = on_mock(&mock);
    let p = td
        .list_entitlements(&EntitlementType::new(OPERATOR_GROUP), PageRequest::first())
        .await
        .unwrap();
    assert!(p.items.is_empty() && p.next.is_none());
    // No operators: the operator page moves straight on to (no) persons.
    let p = td.list_accounts(PageRequest::first()).await.unwrap();
    assert!(p.items.is_empty() && p.next.is_none());
    assert_eq!(mock.requests(), 3);
}

#[tokio::test]
async fn the_page_size_is_capped_at_the_vendor_maximum() {
    let mock = TopdeskMock::builder().generated_operators(3).start().await;
    let td = on_mock(&mock);
    td.list_accounts(PageRequest::first().size(50_000))
        .await
        .unwrap();
    let sent = mock.received().await;
    assert_eq!(param(&sent[0].url, "pageSize").as_deref(), Some("10000"));
}

#[tokio::test]
async fn wrong_shaped_answers_are_protocol_errors() {
    for (status, body) in [
        (200, "{}"),
        (200, "null"),
        (206, "[]"),
        (201, "[]"),
        (200, r#"{"results":[]}"#),
        (200, r#"[{"surName":"no id"}]"#),
    ] {
        let mock = TopdeskMock::builder().generated_operators(3).start().await;
        let td = on_mock(&mock);
        mock.faults().push(
            Fault::Status {
                status,
                body: Some(body.to_owned()),
            },
            1,
        );
        let e = td.list_accounts(PageRequest::first()).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Protocol, "{status} {body}: {e}");
    }
}

#[tokio::test]
async fn a_repeated_page_ends_the_import_with_an_error() {
    let mock = TopdeskMock::builder().generated_operators(30).start().await;
    let td = on_mock(&mock);
    let first = td
        .list_accounts(PageRequest::first().size(10))
        .await
        .unwrap();
    // The server answers the second page with the first one again.
    let page_one: Vec<Value> = first
        .items
        .iter()
        .map(|a| mock.operator(&a.id.as_str()["operator:".len()..]).unwrap())
        .collect();
    mock.faults().push_for(
        FaultMatcher::route("GET", "/tas/api/operators"),
        Fault::Status {
            status: 206,
            body: Some(json!(page_one).to_string()),
        },
        1,
    );
    let e = td
        .list_accounts(PageRequest::at(first.next.clone()).size(10))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Protocol, "{e}");
    assert!(e.to_string().contains("repeats"), "{e}");
}

#[tokio::test]
async fn an_import_resumes_from_a_stored_token() {
    let mock = TopdeskMock::builder().generated_operators(45).start().await;
    let td = on_mock(&mock);
    let first = td
        .list_accounts(PageRequest::first().size(20))
        .await
        .unwrap();
    let token = first.next.clone().unwrap();
    // A new connector (after a crash) continues where the first stopped.
    let again = on_mock(&mock);
    let rest: Vec<_> = accounts(
        &again,
        PagingOptions::new().page_size(20).resume_from(Some(token)),
    )
    .try_collect()
    .await
    .unwrap();
    assert_eq!(first.items.len() + rest.len(), 45);
    assert!(
        rest.iter()
            .all(|a| !first.items.iter().any(|f| f.id == a.id))
    );
}
