//! Faults: throttling with Jira's headers, 5xx bursts, wrong-shaped bodies, repeated
//! pages, a lost transition answer.

use accesslink_core::{
    CorrelationId, ErrorKind, NewTicket, PageRequest, Provisioner, Resolution, TicketKind,
    TicketRef, TicketingSystem,
};
use accesslink_testkit::fault::{Fault, FaultMatcher};
use accesslink_testkit::jira::{JiraMock, Mode};

use crate::on;

#[tokio::test]
async fn throttling_waits_for_retry_after_or_the_iso_reset() {
    let mock = JiraMock::start_cloud().await;
    let key = mock.add_issue("ITSM", "Task", "t", &[]);
    let jira = on(&mock);
    let r = TicketRef::by_number(key);
    // 429 with only X-RateLimit-Reset (an ISO time): read by JiraRateLimit, then retried.
    mock.throttle_next(1, None);
    assert!(jira.get_ticket(&r).await.unwrap().is_some());
    assert_eq!(mock.count("GET", "/rest/api/3/issue/:id"), 2);
    // 429 with Retry-After, twice: still one answer.
    mock.throttle_next(2, Some(0));
    assert!(jira.get_ticket(&r).await.unwrap().is_some());
    assert_eq!(mock.count("GET", "/rest/api/3/issue/:id"), 5);
    // Past the retry budget: RateLimited, with the reset header in the error.
    mock.throttle_next(5, Some(0));
    let e = jira.get_ticket(&r).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::RateLimited, "{e}");
    assert!(
        e.to_string().contains("jira-cost-based") || format!("{e:?}").contains("jira-cost-based"),
        "{e:?}"
    );
    mock.faults().clear();
}

#[tokio::test]
async fn cost_based_throttling_during_an_import_loses_nothing() {
    let mock = JiraMock::builder().users(300).start().await;
    let jira = on(&mock);
    mock.throttle_every(Some(3));
    let mut n = 0;
    let mut page = PageRequest::first().size(50);
    loop {
        let p = jira.list_accounts(page.clone()).await.unwrap();
        n += p.items.len();
        match p.next {
            Some(t) => page = PageRequest::at(Some(t)).size(50),
            None => break,
        }
    }
    mock.throttle_every(None);
    // 300 generated (every 7th an app account) + the seeded atlassian accounts (2).
    let apps = (0..300).filter(|n| n % 7 == 6).count();
    assert_eq!(n, 300 - apps + 2);
}

#[tokio::test]
async fn a_5xx_burst_on_reads_is_retried_and_on_comments_is_not() {
    let mock = JiraMock::start_cloud().await;
    let key = mock.add_issue("ITSM", "Task", "t", &[]);
    let jira = on(&mock);
    let r = TicketRef::by_number(key.clone());
    mock.faults().fail_next(2, 503);
    assert!(jira.get_ticket(&r).await.unwrap().is_some());
    mock.faults().push_for(
        FaultMatcher::method("POST").and_path_suffix("/comment"),
        Fault::Status {
            status: 500,
            body: None,
        },
        1,
    );
    let e = jira
        .add_comment(&r, &accesslink_core::Comment::public("once"))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unavailable);
    assert_eq!(mock.count("POST", "/rest/api/3/issue/:id/comment"), 1);
}

#[tokio::test]
async fn wrong_shaped_bodies_are_protocol_errors() {
    for body in [
        "{}",
        "[]",
        r#"{"issues":null,"isLast":true}"#,
        r#"{"issues":{}}"#,
    ] {
        let mock = JiraMock::start_cloud().await;
        let jira = on(&mock);
        mock.faults().push_for(
            FaultMatcher::method("POST").and_path_suffix("/search/jql"),
            Fault::Status {
                status: 200,
                body: Some(body.into()),
            },
            1,
        );
        let e = jira
            .find_by_correlation(&CorrelationId::new("x"))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Protocol, "{body}: {e}");
    }
    for body in ["{}", "null", r#"[{"accountId":7}]"#] {
        let mock = JiraMock::start_cloud().await;
        let jira = on(&mock);
        mock.faults().push_for(
            FaultMatcher::method("GET").and_path_suffix("/users/search"),
            Fault::Status {
                status: 200,
                body: Some(body.into()),
            },
            1,
        );
        let e = jira.list_accounts(PageRequest::first()).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Protocol, "{body}: {e}");
    }
}

#[tokio::test]
async fn data_center_totals_are_checked() {
    let mock = JiraMock::builder().mode(Mode::DataCenter).start().await;
    let jira = on(&mock);
    // A page that claims 5 issues and brings none, on the first page.
    mock.faults().push_for(
        FaultMatcher::method("POST").and_path_suffix("/rest/api/2/search"),
        Fault::Status {
            status: 200,
            body: Some(r#"{"startAt":0,"maxResults":50,"total":5,"issues":[]}"#.into()),
        },
        1,
    );
    let e = jira
        .find_by_correlation(&CorrelationId::new("x"))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Protocol, "{e}");
    // A page at another offset than asked.
    mock.faults().push_for(
        FaultMatcher::method("POST").and_path_suffix("/rest/api/2/search"),
        Fault::Status {
            status: 200,
            body: Some(r#"{"startAt":7,"maxResults":50,"total":0,"issues":[]}"#.into()),
        },
        1,
    );
    let e = jira
        .find_by_correlation(&CorrelationId::new("x"))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Protocol, "{e}");
}

#[tokio::test]
async fn a_repeated_page_token_is_an_error() {
    let mock = JiraMock::start_cloud().await;
    let jira = on(&mock);
    let page = r#"{"issues":[],"nextPageToken":"same","isLast":false}"#;
    mock.faults().push_for(
        FaultMatcher::method("POST").and_path_suffix("/search/jql"),
        Fault::Status {
            status: 200,
            body: Some(page.into()),
        },
        3,
    );
    let e = jira
        .find_by_correlation(&CorrelationId::new("x"))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Protocol, "{e}");
    assert!(
        e.to_string().contains("repeated") || format!("{e:?}").contains("repeated"),
        "{e:?}"
    );
    mock.faults().clear();
}

#[tokio::test]
async fn a_lost_transition_answer_is_read_back() {
    let mock = JiraMock::builder().with_proxy(true).start().await;
    let jira = on(&mock);
    let new = NewTicket::new(TicketKind::Task, "t", "d", CorrelationId::new("lost-close"));
    let t = jira.create_ticket(&new).await.unwrap();
    mock.faults().push_for(
        FaultMatcher::method("POST").and_path_suffix("/transitions"),
        Fault::DropAfterProcessing,
        1,
    );
    let closed = jira
        .close_ticket(&t.reference, &Resolution::done("ok"))
        .await
        .unwrap();
    assert!(closed.status.state.is_terminal());
    assert_eq!(mock.count("POST", "/rest/api/3/issue/:id/transitions"), 1);
}

#[tokio::test]
async fn html_from_a_proxy_is_a_protocol_error() {
    let mock = JiraMock::start_cloud().await;
    let key = mock.add_issue("ITSM", "Task", "t", &[]);
    let jira = on(&mock);
    mock.faults().html_next(1);
    let e = jira
        .get_ticket(&TicketRef::by_number(key))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Protocol, "{e}");
    mock.faults().truncated_next(1);
    let e = jira.list_accounts(PageRequest::first()).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Protocol, "{e}");
}

#[tokio::test]
async fn data_center_throttling_is_retried_and_reported() {
    let mock = JiraMock::builder().mode(Mode::DataCenter).start().await;
    let key = mock.add_issue("ITSM", "Task", "t", &[]);
    let jira = on(&mock);
    let r = TicketRef::by_number(key);
    mock.throttle_next(2, Some(0));
    assert!(jira.get_ticket(&r).await.unwrap().is_some());
    assert_eq!(mock.count("GET", "/rest/api/2/issue/:id"), 3);
    mock.throttle_next(5, Some(0));
    let e = jira.get_ticket(&r).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::RateLimited, "{e}");
    // The X-RateLimit-* family is in the error for the caller to pace itself.
    let info = e.rate_limit().expect("rate-limit headers in the error");
    assert!(!info.is_empty(), "{info:?}");
    mock.faults().clear();
}
