//! Bad input is refused before any request; qualifications quote every value.

use accesslink_core::{
    CorrelationId, ErrorKind, NewTicket, Person, TicketKind, TicketRef, TicketingSystem,
};
use accesslink_testkit::Mock;
use accesslink_testkit::helix::HelixMock;

use crate::{on_mock, param};

#[tokio::test]
async fn injected_refs_and_correlation_ids_send_nothing() {
    let mock = HelixMock::start().await;
    let helix = on_mock(&mock);
    for raw in [
        "INC1\" OR 'Status' != \"",
        "INC' OR 1=1",
        "CRQ\n1",
        "INC000000000001 OR",
        "",
    ] {
        assert!(helix.parse_ticket_ref(raw).is_err(), "{raw:?}");
    }
    // A reference built by hand is checked again.
    let forged = TicketRef::by_number("INC1\" OR \"1\" = \"1");
    assert_eq!(
        helix.get_ticket(&forged).await.unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
    let wrong_scope = TicketRef::by_number("CRQ000000000001").with_scope("incident");
    assert!(helix.get_ticket(&wrong_scope).await.is_err());
    for bad in ["a\"b", "it's", "x\u{7}"] {
        let new = NewTicket::new(TicketKind::Incident, "t", "d", CorrelationId::new(bad))
            .requester(Person::login("jdoe"));
        assert!(helix.create_ticket(&new).await.is_err(), "{bad:?}");
        assert!(
            helix
                .find_by_correlation(&CorrelationId::new(bad))
                .await
                .is_err()
        );
    }
    let quote_login = NewTicket::new(TicketKind::Incident, "t", "d", CorrelationId::new("ok-1"))
        .requester(Person::login("jd\noe"));
    assert!(helix.create_ticket(&quote_login).await.is_err());
    assert_eq!(mock.request_count(), 0);
}

#[tokio::test]
async fn batched_reads_send_one_or_qualification_per_batch() {
    let mock = HelixMock::start().await;
    let helix = on_mock(&mock);
    let numbers: Vec<String> = (0..30)
        .map(|i| mock.add_incident(&format!("n{i}"), "New"))
        .collect();
    let change = mock.add_change("Firewall", "Scheduled For Approval");
    let mut refs: Vec<_> = numbers
        .iter()
        .map(|n| helix.parse_ticket_ref(n).unwrap())
        .collect();
    refs.push(helix.parse_ticket_ref(&change).unwrap());
    refs.push(helix.parse_ticket_ref("INC000000099999").unwrap());
    let got = helix.get_tickets(&refs).await.unwrap();
    assert_eq!(got.len(), 31);
    let lists: Vec<_> = mock
        .received()
        .await
        .into_iter()
        .filter(|r| r.url.path().starts_with("/api/arsys/v1/entry/"))
        .collect();
    // 31 incident numbers in batches of 25, and the change.
    assert_eq!(
        lists.len(),
        3,
        "{:?}",
        lists.iter().map(|r| r.url.to_string()).collect::<Vec<_>>()
    );
    let q = param(&lists[0].url, "q").unwrap();
    assert_eq!(q.matches(" OR ").count(), 24, "{q}");
    assert!(q.starts_with("('Incident Number' = \"INC"), "{q}");
    assert_eq!(lists[0].url.path(), "/api/arsys/v1/entry/HPD:Help%20Desk");
    assert_eq!(
        lists[2].url.path(),
        "/api/arsys/v1/entry/CHG:Infrastructure%20Change"
    );
}

#[tokio::test]
async fn a_status_poll_of_a_thousand_incidents_takes_forty_searches() {
    let mock = HelixMock::start().await;
    let helix = on_mock(&mock);
    let numbers: Vec<String> = (0..1000)
        .map(|i| {
            mock.add_incident(
                &format!("n{i}"),
                if i % 3 == 0 {
                    "Resolved"
                } else {
                    "In Progress"
                },
            )
        })
        .collect();
    let refs: Vec<_> = numbers
        .iter()
        .map(|n| helix.parse_ticket_ref(n).unwrap())
        .collect();
    let got = helix.get_tickets(&refs).await.unwrap();
    assert_eq!(got.len(), 1000);
    let resolved = got
        .iter()
        .filter(|t| t.status.state == accesslink_core::TicketState::Resolved)
        .count();
    assert_eq!(resolved, 334);
    // One login and 1000 / 25 searches.
    assert_eq!(mock.requests(), 41);
}
