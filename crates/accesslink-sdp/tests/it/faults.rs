//! Faults on reads: 5xx bursts and 429 are retried, HTML, truncated and wrong-shaped
//! bodies are protocol errors (never an empty answer), a page that repeats is an error.

use accesslink_core::{ErrorKind, TicketingSystem};
use accesslink_testkit::fault::{Fault, FaultMatcher, RetryAfter};
use accesslink_testkit::sdp::SdpMock;

use crate::on;

#[tokio::test]
async fn bursts_of_5xx_and_429_are_retried() {
    let mock = SdpMock::start_cloud().await;
    let n = mock.add_request("VPN", None);
    let sdp = on(&mock);
    let r = sdp.parse_ticket_ref(&n).unwrap();
    assert!(sdp.get_ticket(&r).await.unwrap().is_some());
    mock.faults().push_for(
        FaultMatcher::method("GET"),
        Fault::Status {
            status: 503,
            body: None,
        },
        2,
    );
    assert!(sdp.get_ticket(&r).await.unwrap().is_some());
    mock.faults().throttle_next(1, Some(RetryAfter::Seconds(0)));
    assert!(sdp.get_ticket(&r).await.unwrap().is_some());
    assert_eq!(mock.faults().applied(), 3);
    // More failures than attempts: the error says unavailable.
    mock.faults().push_for(
        FaultMatcher::method("GET"),
        Fault::Status {
            status: 500,
            body: None,
        },
        5,
    );
    let e = sdp.get_ticket(&r).await.unwrap_err();
    assert!(e.is_retryable(), "{e}");
    mock.faults().clear();
}

#[tokio::test]
async fn broken_and_wrong_shaped_bodies_are_protocol_errors() {
    let mock = SdpMock::start_on_premises().await;
    let n = mock.add_request("VPN", None);
    let sdp = on(&mock);
    let r = sdp.parse_ticket_ref(&n).unwrap();
    let search = || FaultMatcher::method("GET").and_path_suffix("/requests");
    let bodies = [
        "{}",
        "[]",
        r#"{"response_status":[{"status_code":2000}],"list_info":{"has_more_rows":false},"requests":null}"#,
        r#"{"response_status":[{"status_code":2000}],"requests":[]}"#,
    ];
    for body in bodies {
        mock.faults().push_for(
            search(),
            Fault::Status {
                status: 200,
                body: Some(body.into()),
            },
            1,
        );
        let e = sdp.get_ticket(&r).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Protocol, "{body}: {e}");
    }
    for fault in [Fault::Html, Fault::TruncatedJson] {
        mock.faults().push_for(search(), fault.clone(), 1);
        let e = sdp.get_ticket(&r).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Protocol, "{fault:?}: {e}");
    }
}

#[tokio::test]
async fn a_repeated_page_is_an_error() {
    let mock = SdpMock::start_on_premises().await;
    for i in 0..5 {
        mock.add_request(&format!("r{i}"), None);
    }
    let sdp = on(&mock);
    let api = sdp.client().requests();
    let c = accesslink_sdp::input::Criteria::new();
    assert_eq!(api.list_all(&c, 2, 10).await.unwrap().len(), 5);
    mock.faults()
        .push_for(FaultMatcher::method("GET"), Fault::RepeatFirstAnswer, 10);
    let e = api.list_all(&c, 2, 10).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Protocol, "{e}");
    mock.faults().clear();
}
