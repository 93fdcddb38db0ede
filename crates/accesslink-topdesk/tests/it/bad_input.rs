//! Bad input is refused before any request: the mock's request count proves it.

use accesslink_core::{
    AccountId, AccountSpec, CorrelationId, EntitlementRef, EntitlementType, ErrorKind, NewTicket,
    PageRequest, PageToken, Provisioner, TicketKind, TicketRef, TicketingSystem,
};
use accesslink_testkit::topdesk::TopdeskMock;
use accesslink_topdesk::TopdeskConnector;
use serde_json::json;

use crate::on_mock;

#[tokio::test]
async fn injected_references_never_reach_the_server() {
    let mock = TopdeskMock::start().await;
    let td = on_mock(&mock);
    for r in [
        TicketRef::by_number("I 2405 123' ;number=='x"),
        TicketRef::by_number("I 2405 123/../../operators"),
        TicketRef::by_number("I 2405 123,number=in=(a)"),
        TicketRef::by_id("f197bb75-8822-45e9-82ce-02983504020b/actions"),
        TicketRef::by_id("../version"),
        TicketRef::by_number("C 1810 005%2F..").with_scope("change"),
    ] {
        let e = td.get_ticket(&r).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "{r:?}");
        let e = td.get_tickets(std::slice::from_ref(&r)).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "{r:?}");
    }
    for bad in ["REQ'1", "REQ 1", "REQ;1", "REQ,1", ""] {
        let e = td
            .find_by_correlation(&CorrelationId::new(bad))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "{bad:?}");
    }
    assert_eq!(mock.requests(), 0);
}

#[tokio::test]
async fn bad_tickets_and_accounts_are_refused_before_sending() {
    let mock = TopdeskMock::start().await;
    let td = on_mock(&mock);
    let mut n = NewTicket::new(TicketKind::Incident, "t", "d", CorrelationId::new("REQ-9"));
    n.extra.insert("externalNumber".into(), json!("other"));
    assert_eq!(
        td.create_ticket(&n).await.unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
    let n = NewTicket::new(TicketKind::Problem, "t", "d", CorrelationId::new("REQ-9"));
    assert_eq!(
        td.create_ticket(&n).await.unwrap_err().kind(),
        ErrorKind::Unsupported
    );
    let n = NewTicket::new(TicketKind::Incident, "  ", "d", CorrelationId::new("REQ-9"));
    assert_eq!(
        td.create_ticket(&n).await.unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
    for id in [
        "f197bb75-8822-45e9-82ce-02983504020b",
        "operator:../x",
        "group:f197bb75-8822-45e9-82ce-02983504020b",
        "operator:",
    ] {
        let e = td.get_account(&AccountId::new(id)).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "{id}");
    }
    let op = AccountId::new("operator:f197bb75-8822-45e9-82ce-02983504020b");
    for e in [
        TopdeskConnector::operator_group_entitlement("not-a-uuid"),
        EntitlementRef::new(
            EntitlementType::role(),
            "f197bb75-8822-45e9-82ce-02983504020b",
        ),
    ] {
        assert_eq!(
            td.grant(&op, &e).await.unwrap_err().kind(),
            ErrorKind::InvalidInput
        );
    }
    for login in ["", " padded", "a\nb", &"x".repeat(101)] {
        let e = td
            .create_account(&AccountSpec::new(login))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "{login:?}");
    }
    // A person needs a branch; this connector has none configured.
    let no_branch = TopdeskConnector::from_settings(crate::settings_with(&mock, |v| {
        v.as_object_mut().unwrap().remove("branch");
    }))
    .unwrap();
    let e = no_branch
        .create_account(&AccountSpec::new("p.erson").attribute("kind", "person"))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    for t in [
        "td1:operator:0:x",
        "td1:group:0:-",
        "20",
        "td1:operator:0:-:extra",
    ] {
        let e = td
            .list_accounts(PageRequest::at(Some(PageToken::new(t))))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "{t}");
    }
    assert_eq!(mock.requests(), 0);
}

#[tokio::test]
async fn delete_is_unsupported_without_a_request() {
    let mock = TopdeskMock::builder().generated_operators(1).start().await;
    let td = on_mock(&mock);
    let page = td.list_accounts(PageRequest::first()).await.unwrap();
    let before = mock.requests();
    let e = td.delete_account(&page.items[0].id).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unsupported);
    assert_eq!(mock.requests(), before);
    assert_eq!(mock.account_count(), 1);
}

#[tokio::test]
async fn a_correlation_id_longer_than_external_number_is_refused() {
    let mock = TopdeskMock::start().await;
    let td = on_mock(&mock);
    let n = NewTicket::new(
        TicketKind::Incident,
        "t",
        "d",
        CorrelationId::new("R".repeat(61)),
    );
    let e = td.create_ticket(&n).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert!(e.to_string().contains("60"), "{e}");
    assert_eq!(mock.requests(), 0);
    let n = NewTicket::new(
        TicketKind::Incident,
        "t",
        "d",
        CorrelationId::new("R".repeat(60)),
    );
    td.create_ticket(&n).await.unwrap();
    assert_eq!(mock.incidents_created(), 1);
}
