//! Transport faults: gateway 5xx bursts and 429 on reads are retried; a dropped or
//! truncated answer and an HTML page are errors, never empty results.

use accesslink_core::{ErrorKind, PageRequest, Provisioner, TicketingSystem};
use accesslink_testkit::Mock;
use accesslink_testkit::fault::Fault;
use accesslink_testkit::helix::HelixMock;

use crate::on_mock;

#[tokio::test]
async fn gateway_bursts_and_429_on_reads_are_retried() {
    let mock = HelixMock::start().await;
    let helix = on_mock(&mock);
    let number = mock.add_incident("Printer", "Assigned");
    let r = helix.parse_ticket_ref(&number).unwrap();
    helix.get_ticket(&r).await.unwrap();
    let before = mock.requests();
    mock.faults().push(
        Fault::Status {
            status: 503,
            body: None,
        },
        2,
    );
    assert!(helix.get_ticket(&r).await.unwrap().is_some());
    assert_eq!(mock.requests(), before + 3);
    mock.faults()
        .push(Fault::TooManyRequests { retry_after: None }, 1);
    assert!(helix.get_ticket(&r).await.unwrap().is_some());
}

#[tokio::test]
async fn broken_answers_are_errors_not_empty_pages() {
    let mock = HelixMock::builder().generated_people(5).start().await;
    let helix = on_mock(&mock);
    helix.list_accounts(PageRequest::first()).await.unwrap();
    for fault in [
        Fault::Html,
        Fault::TruncatedJson,
        Fault::EmptyBody,
        Fault::MalformedJson,
    ] {
        mock.faults().push(fault.clone(), 10);
        let e = helix.list_accounts(PageRequest::first()).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Protocol, "{fault:?}: {e}");
        mock.faults().clear();
    }
}

#[tokio::test]
async fn credential_expiry_mid_import_logs_in_again() {
    let mock = HelixMock::builder().generated_people(30).start().await;
    let helix = on_mock(&mock);
    let first = helix
        .list_accounts(PageRequest::first().size(10))
        .await
        .unwrap();
    Mock::expire_credentials(&mock);
    let second = helix
        .list_accounts(PageRequest::at(first.next).size(10))
        .await
        .unwrap();
    assert_eq!(second.items.len(), 10);
    assert_eq!(mock.logins().0, 2);
}
