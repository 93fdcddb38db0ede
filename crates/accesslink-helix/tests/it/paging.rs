//! `offset`/`limit` paging that ends on a missing `_links.next`, and its guards.

use accesslink_core::ErrorKind;
use accesslink_helix::HelixConnector;
use accesslink_testkit::fault::Fault;
use accesslink_testkit::helix::{HELP_DESK, HelixMock};
use serde_json::json;

use crate::{param, settings_with};

fn small_pages(mock: &HelixMock) -> HelixConnector {
    HelixConnector::from_settings(settings_with(mock, |v| v["page_size"] = json!(2))).unwrap()
}

#[tokio::test]
async fn pages_follow_next_until_it_is_absent() {
    let mock = HelixMock::start().await;
    for i in 0..5 {
        mock.add_incident(&format!("n{i}"), "New");
    }
    let helix = small_pages(&mock);
    let all = helix
        .client()
        .list_all(HELP_DESK, None, &["Incident Number"], None)
        .await
        .unwrap();
    let numbers: Vec<_> = all
        .iter()
        .map(|e| e.text("Incident Number").unwrap())
        .collect();
    assert_eq!(numbers.len(), 5);
    let mut dedup = numbers.clone();
    dedup.dedup();
    assert_eq!(dedup, numbers);
    let offsets: Vec<_> = mock
        .received()
        .await
        .iter()
        .filter(|r| r.url.path().contains("/entry/"))
        .map(|r| {
            (
                param(&r.url, "offset").unwrap(),
                param(&r.url, "limit").unwrap(),
            )
        })
        .collect();
    assert_eq!(
        offsets,
        [
            ("0".into(), "2".into()),
            ("2".into(), "2".into()),
            ("4".into(), "2".into())
        ]
    );
}

#[tokio::test]
async fn a_repeated_page_is_an_error() {
    let mock = HelixMock::start().await;
    for i in 0..5 {
        mock.add_incident(&format!("n{i}"), "New");
    }
    mock.set_repeat_pages(true);
    let helix = small_pages(&mock);
    let e = helix
        .client()
        .list_all(HELP_DESK, None, &[], None)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Protocol, "{e}");
}

#[tokio::test]
async fn silent_truncation_is_an_error() {
    let mock = HelixMock::start().await;
    for i in 0..6 {
        mock.add_incident(&format!("n{i}"), "New");
    }
    // The server caps searches at 4 entries and says nothing.
    mock.set_max_entries(Some(4));
    let helix = small_pages(&mock);
    let e = helix
        .client()
        .list_all(HELP_DESK, None, &[], Some(6))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Protocol, "{e}");
    // Told the server's cap, the connector refuses a last page of exactly that size.
    let helix = HelixConnector::from_settings(settings_with(&mock, |v| {
        v["page_size"] = json!(10);
        v["max_entries_returned"] = json!(4);
    }))
    .unwrap();
    let e = helix
        .client()
        .list_all(HELP_DESK, None, &[], None)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("truncated"), "{e}");
}

#[tokio::test]
async fn wrong_shaped_lists_are_protocol_errors() {
    let mock = HelixMock::start().await;
    mock.add_incident("n", "New");
    let helix = small_pages(&mock);
    helix
        .client()
        .list_all(HELP_DESK, None, &[], None)
        .await
        .unwrap();
    for body in [
        "{}",
        "[]",
        "null",
        r#"{"entries":null}"#,
        r#"{"entries":{}}"#,
    ] {
        mock.faults().push(
            Fault::Status {
                status: 200,
                body: Some(body.into()),
            },
            1,
        );
        let e = helix
            .client()
            .list_all(HELP_DESK, None, &[], None)
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Protocol, "{body}: {e}");
    }
    // An empty page with a next link.
    mock.faults().push(
        Fault::Status {
            status: 200,
            body: Some(r#"{"entries":[],"_links":{"next":[{"href":"x?offset=2"}]}}"#.into()),
        },
        1,
    );
    let e = helix
        .client()
        .list_all(HELP_DESK, None, &[], None)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Protocol, "{e}");
}
