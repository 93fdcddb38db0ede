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

fn ar_body(number: i64, text: &str) -> Option<String> {
    Some(
        serde_json::json!([{
            "messageType": "ERROR",
            "messageNumber": number,
            "messageText": text,
            "messageAppendedText": null,
        }])
        .to_string(),
    )
}

/// How many requests with `method` reached a path ending in `suffix`.
async fn count(mock: &HelixMock, method: &str, suffix: &str) -> usize {
    mock.received()
        .await
        .iter()
        .filter(|r| r.method.as_str() == method && r.url.path().ends_with(suffix))
        .count()
}

#[tokio::test]
async fn a_business_error_on_a_500_is_sent_once() {
    let mock = HelixMock::start().await;
    // The workflow needs a status reason to resolve; this deployment sends none, so the
    // server refuses the PUT (a retry-safe method) with HTTP 500 and AR error 1291160.
    let helix = accesslink_helix::HelixConnector::from_settings(crate::settings_with(&mock, |v| {
        v["close"] = serde_json::json!({ "status_reason": "" })
    }))
    .unwrap();
    let number = mock.add_incident("Printer", "Assigned");
    let r = helix.parse_ticket_ref(&number).unwrap();
    let e = helix
        .close_ticket(&r, &accesslink_core::Resolution::done("granted"))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
    assert_eq!(e.vendor_code(), Some("1291160"), "{e}");
    let puts = mock
        .received()
        .await
        .iter()
        .filter(|r| r.method.as_str() == "PUT")
        .count();
    assert_eq!(puts, 1, "a business refusal is not repeated");
    assert_eq!(mock.incident(&number).unwrap()["Status"], "Assigned");

    // The same on a read: a 500 carrying a workflow message is final.
    let before = mock.requests();
    mock.faults().push(
        Fault::Status {
            status: 500,
            body: ar_body(8939, "Run Process failed"),
        },
        3,
    );
    let e = helix.get_ticket(&r).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
    assert_eq!(mock.requests(), before + 1, "sent once");
    mock.faults().clear();
}

#[tokio::test]
async fn a_bare_500_burst_and_transient_ar_errors_are_retried() {
    let mock = HelixMock::start().await;
    let helix = on_mock(&mock);
    let number = mock.add_incident("Printer", "Assigned");
    let r = helix.parse_ticket_ref(&number).unwrap();
    helix.get_ticket(&r).await.unwrap();
    let get_path = "/entry/HPD:Help%20Desk";

    // A 500 without an AR message (a servlet container's page): an outage.
    let before = count(&mock, "GET", get_path).await;
    mock.faults().push(
        Fault::Status {
            status: 500,
            body: Some("<html><body>HTTP 500 Internal Server Error</body></html>".into()),
        },
        2,
    );
    let t = helix.get_ticket(&r).await.unwrap().unwrap();
    assert_eq!(t.reference.number(), Some(number.as_str()));
    assert_eq!(count(&mock, "GET", get_path).await, before + 3);

    // AR 90/91/92/93 (server unreachable, RPC failed, timeouts) on a 500: retried.
    for (n, text) in [
        (
            90,
            "Cannot establish a network connection to the AR System server",
        ),
        (92, "Timeout during database update"),
        (93, "Timeout during data retrieval due to busy server"),
    ] {
        let before = count(&mock, "GET", get_path).await;
        mock.faults().push(
            Fault::Status {
                status: 500,
                body: ar_body(n, text),
            },
            2,
        );
        assert!(helix.get_ticket(&r).await.unwrap().is_some(), "{n}");
        assert_eq!(count(&mock, "GET", get_path).await, before + 3, "{n}");
    }

    // A burst longer than the budget (4 attempts): Unavailable, retryable by the caller.
    let before = count(&mock, "GET", get_path).await;
    mock.faults().push(
        Fault::Status {
            status: 500,
            body: ar_body(91, "RPC call failed"),
        },
        10,
    );
    let e = helix.get_ticket(&r).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unavailable, "{e}");
    assert!(e.is_retryable());
    assert_eq!(count(&mock, "GET", get_path).await, before + 4);
    mock.faults().clear();
}

#[tokio::test]
async fn configured_transient_numbers_replace_the_defaults() {
    let mock = HelixMock::start().await;
    let helix = accesslink_helix::HelixConnector::from_settings(crate::settings_with(&mock, |v| {
        v["transient_errors"] = serde_json::json!([8760])
    }))
    .unwrap();
    let number = mock.add_incident("Printer", "Assigned");
    let r = helix.parse_ticket_ref(&number).unwrap();
    helix.get_ticket(&r).await.unwrap();
    let before = mock.requests();
    mock.faults().push(
        Fault::Status {
            status: 500,
            body: ar_body(8760, "Server busy"),
        },
        1,
    );
    assert!(helix.get_ticket(&r).await.unwrap().is_some());
    assert_eq!(mock.requests(), before + 2);
    // 92 is no longer in the list: final.
    let before = mock.requests();
    mock.faults().push(
        Fault::Status {
            status: 500,
            body: ar_body(92, "Timeout during database update"),
        },
        3,
    );
    assert!(helix.get_ticket(&r).await.is_err());
    assert_eq!(mock.requests(), before + 1);
    mock.faults().clear();
}
