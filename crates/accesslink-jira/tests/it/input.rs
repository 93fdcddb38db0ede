//! Bad input never reaches the server, and values that reach JQL arrive quoted.

use accesslink_core::{
    AccountId, Comment, CorrelationId, ErrorKind, NewTicket, Provisioner, Resolution, TicketKind,
    TicketRef, TicketingSystem,
};
use accesslink_jira::JiraConnector;
use accesslink_testkit::Mock;
use accesslink_testkit::jira::JiraMock;

use crate::on;

#[tokio::test]
async fn malformed_refs_send_nothing() {
    let mock = JiraMock::start_cloud().await;
    let jira = on(&mock);
    let bad = [
        TicketRef::by_number("ITSM-1 OR key is not EMPTY"),
        TicketRef::by_number("ITSM-1/../../myself"),
        TicketRef::by_id("10042?fields=*all"),
        TicketRef::by_id("１２３"),
        TicketRef::by_id_and_number("10042", "ITSM-1\""),
    ];
    for r in &bad {
        assert_eq!(
            jira.get_ticket(r).await.unwrap_err().kind(),
            ErrorKind::InvalidInput,
            "{r:?}"
        );
        assert_eq!(
            jira.add_comment(r, &Comment::public("x"))
                .await
                .unwrap_err()
                .kind(),
            ErrorKind::InvalidInput
        );
        assert_eq!(
            jira.close_ticket(r, &Resolution::done("x"))
                .await
                .unwrap_err()
                .kind(),
            ErrorKind::InvalidInput
        );
    }
    // One bad reference in a batch refuses the batch before any request.
    let batch = [TicketRef::by_number("ITSM-1"), bad[0].clone()];
    assert_eq!(
        jira.get_tickets(&batch).await.unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
    // Correlation ids become labels: no spaces or control characters.
    for id in ["two words", "a\nb", ""] {
        let new = NewTicket::new(TicketKind::Task, "t", "d", CorrelationId::new(id));
        assert_eq!(
            jira.create_ticket(&new).await.unwrap_err().kind(),
            ErrorKind::InvalidInput,
            "{id:?}"
        );
    }
    for id in ["a\u{0}b", "x\r\ny"] {
        let e = jira.get_account(&AccountId::new(id)).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
        let g = JiraConnector::group_entitlement(id);
        assert_eq!(
            jira.grant(&AccountId::new("5b10"), &g)
                .await
                .unwrap_err()
                .kind(),
            ErrorKind::InvalidInput
        );
    }
    assert_eq!(mock.request_count(), 0);
}

#[tokio::test]
async fn correlation_values_reach_jql_quoted() {
    let mock = JiraMock::start_cloud().await;
    let jira = on(&mock);
    let sneaky = r#"x"OR"labels"is"not"EMPTY"#;
    assert!(
        jira.find_by_correlation(&CorrelationId::new(sneaky))
            .await
            .unwrap()
            .is_none()
    );
    let received = mock.received().await;
    assert_eq!(received.len(), 1);
    let body: serde_json::Value = received[0].body_json().unwrap();
    assert_eq!(
        body["jql"],
        r#"labels = "accesslink-x\"OR\"labels\"is\"not\"EMPTY" ORDER BY created ASC"#
    );
    assert_eq!(received[0].url.path(), "/rest/api/3/search/jql");
}

#[tokio::test]
async fn lower_case_keys_are_sent_upper_case() {
    let mock = JiraMock::start_cloud().await;
    let key = mock.add_issue("ITSM", "Task", "seeded", &[]);
    let jira = on(&mock);
    let r = jira.parse_ticket_ref(&key.to_ascii_lowercase()).unwrap();
    let t = jira.get_ticket(&r).await.unwrap().unwrap();
    assert_eq!(t.reference.number(), Some(key.as_str()));
    let received = mock.received().await;
    assert_eq!(received[0].url.path(), format!("/rest/api/3/issue/{key}"));
}
