//! Typed references and correlation ids are checked before any request.

use accesslink_core::{CorrelationId, NewTicket, TicketKind, TicketRef, TicketingSystem};
use accesslink_testkit::Mock;
use accesslink_testkit::sdp::SdpMock;

use crate::on;

#[tokio::test]
async fn bad_input_sends_nothing() {
    let mock = SdpMock::start_cloud().await;
    let sdp = on(&mock);
    for bad in [
        "1 OR 1=1",
        "1\"},{\"field\":\"id\"",
        "../1",
        "CH-",
        "0x10",
        "١٢٣",
    ] {
        assert!(sdp.parse_ticket_ref(bad).is_err(), "{bad:?}");
    }
    // A reference built elsewhere is checked again.
    let forged = TicketRef::by_number("1\"}]").with_scope("request");
    assert!(sdp.get_ticket(&forged).await.is_err());
    assert!(sdp.get_tickets(&[forged]).await.is_err());
    // Brackets would break the subject tag; control characters are refused too.
    for id in ["a]b", "a[b", "a\nb", ""] {
        let new = NewTicket::new(TicketKind::Request, "t", "d", CorrelationId::new(id));
        assert!(sdp.create_ticket(&new).await.is_err(), "{id:?}");
    }
    assert_eq!(mock.request_count(), 0);
}
