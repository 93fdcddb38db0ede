//! Incidents and service requests (the ticketing suite runs in `conformance`): the one-month search window,
//! configured close reasons and creates that must not be made twice.

use accesslink_core::{
    Comment, CorrelationId, ErrorKind, NewTicket, Resolution, TicketKind, TicketRef, TicketState,
    TicketingSystem,
};
use accesslink_opsramp::{OpsRampConfig, OpsRampConnector};
use accesslink_testkit::fault::{Fault, FaultMatcher};

use crate::{client, connector, mock};

fn new(kind: TicketKind, corr: &str) -> NewTicket {
    NewTicket::new(
        kind,
        "Grant Network Admin to jdoe",
        "Requested by bob for the Q3 migration.",
        CorrelationId::new(corr),
    )
    .priority("Low")
}

#[tokio::test]
async fn an_old_ticket_is_found_outside_the_one_month_default_window() {
    let mock = mock(0).await;
    let opsramp = connector(&mock);
    let first = opsramp
        .create_ticket(&new(TicketKind::Request, "REQ-OLD-1"))
        .await
        .unwrap();
    let id = first.reference.id().map(str::to_owned).unwrap();
    assert!(id.starts_with("SRQ"), "{id}");
    assert!(mock.backdate_ticket(&id, 90));
    let again = opsramp
        .create_ticket(&new(TicketKind::Request, "REQ-OLD-1"))
        .await
        .unwrap();
    assert_eq!(again.reference, first.reference);
    assert_eq!(mock.tickets_with_ext_id("REQ-OLD-1"), 1);
    assert_eq!(mock.counter().count("POST", "serviceRequests"), 1);
    let searches: Vec<_> = mock
        .received()
        .await
        .into_iter()
        .filter(|r| r.url.path().ends_with("/search"))
        .collect();
    assert!(searches.iter().all(|r| {
        let q = r.url.query().unwrap_or("");
        q.contains("startCreationDate%3A2000-01-01T00%3A00%3A00%200000")
            && q.contains("endCreationDate")
    }));
}

#[tokio::test]
async fn close_uses_the_configured_reasons_and_twice_is_harmless() {
    let mock = mock(0).await;
    let opsramp = connector(&mock);
    let t = opsramp
        .create_ticket(&new(TicketKind::Incident, "REQ-CLOSE-1"))
        .await
        .unwrap();
    let closed = opsramp
        .close_ticket(&t.reference, &Resolution::failed("rejected by the owner"))
        .await
        .unwrap();
    assert_eq!(closed.status.state, TicketState::Closed);
    assert_eq!(closed.resolution.as_deref(), Some("Cancelled"));
    let id = t.reference.id().map(str::to_owned).unwrap();
    assert_eq!(
        mock.ticket_responses(&id),
        vec![("rejected by the owner".to_owned(), true)]
    );
    let again = opsramp
        .close_ticket(&t.reference, &Resolution::done("again"))
        .await
        .unwrap();
    assert_eq!(again.status.state, TicketState::Closed);
    assert_eq!(mock.count("incidents/{id}/close"), 1, "closed once");

    // A reason the tenant did not configure is refused by OpsRamp, clearly.
    let t = opsramp
        .create_ticket(&new(TicketKind::Incident, "REQ-CLOSE-2"))
        .await
        .unwrap();
    let e = opsramp
        .close_ticket(&t.reference, &Resolution::done("x").code("Because"))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
    assert!(e.to_string().contains("reason configured"), "{e}");
    let custom = OpsRampConnector::new(
        client(&mock).build().unwrap(),
        OpsRampConfig::new().close_reasons("Duplicate", "Cancelled"),
    );
    let closed = custom
        .close_ticket(&t.reference, &Resolution::done("dup of INC…"))
        .await
        .unwrap();
    assert_eq!(closed.resolution.as_deref(), Some("Duplicate"));
}

#[tokio::test]
async fn a_ticket_create_whose_answer_is_lost_opens_one_ticket() {
    let mock = mock(0).await;
    let opsramp = connector(&mock);
    mock.faults().push_for(
        FaultMatcher::route("POST", "/incidents"),
        Fault::Status {
            status: 503,
            body: None,
        },
        1,
    );
    let t = opsramp
        .create_ticket(&new(TicketKind::Incident, "REQ-FLAKY"))
        .await
        .unwrap();
    assert!(t.reference.id().unwrap().starts_with("INC"));
    assert_eq!(mock.tickets_with_ext_id("REQ-FLAKY"), 1);
    assert_eq!(mock.counter().count("POST", "incidents"), 2);
}

#[tokio::test]
async fn unvalidated_references_and_other_kinds_are_refused_without_a_request() {
    let mock = mock(0).await;
    let opsramp = connector(&mock);
    let bad = [
        TicketRef::by_id("INC1/close"),
        TicketRef::by_number("../users"),
        TicketRef::by_id("INC12").with_scope("serviceRequests"),
        TicketRef::by_id_and_number("INC12", "INC13"),
    ];
    for r in &bad {
        let e = opsramp.get_ticket(r).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "{r:?}");
        let e = opsramp
            .add_comment(r, &Comment::public("x"))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "{r:?}");
    }
    let e = opsramp
        .get_tickets(&[TicketRef::by_id("INC1"), TicketRef::by_id("bad one")])
        .await;
    assert_eq!(e.unwrap_err().kind(), ErrorKind::InvalidInput);
    let e = opsramp
        .create_ticket(&new(TicketKind::Change, "REQ-CHG"))
        .await;
    assert_eq!(e.unwrap_err().kind(), ErrorKind::InvalidInput);
    let e = opsramp
        .create_ticket(&new(TicketKind::Incident, "REQ+1"))
        .await;
    assert_eq!(e.unwrap_err().kind(), ErrorKind::InvalidInput);
    assert_eq!(mock.counter().total(), 0);
}
