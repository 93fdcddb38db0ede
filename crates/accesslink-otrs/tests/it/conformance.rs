//! The shared conformance suite, fault checks included, in both correlation modes. The
//! mock runs behind the fault proxy so that a lost create answer can be a dropped
//! connection.

use accesslink_core::feed::TicketQuery;
use accesslink_core::{CorrelationId, NewTicket, TicketKind};
use accesslink_testkit::conformance::{TicketingSuite, fresh_id, run_ticketing_suite};
use accesslink_testkit::otrs::OtrsMock;

use crate::{df_connector, tag_connector};

fn suite(mock: &OtrsMock) -> TicketingSuite {
    let template = NewTicket::new(
        TicketKind::Request,
        "Grant sales-admin on CRM to alice",
        "Requested by bob.",
        CorrelationId::new(fresh_id("REQ")),
    );
    TicketingSuite::new(template)
        .bad_refs(["#12", "Ticket#", "12a", "0x10", "２０２６"])
        .canaries([mock.agent_password()])
        .absent_ref("2026999999999999")
        // Without `defaults.kinds` tickets read back as `Other("Unclassified")`: the
        // feed lists the connector's queue.
        .feed_query(TicketQuery::new().scope("Raw"))
}

async fn mock() -> OtrsMock {
    OtrsMock::builder().with_proxy(true).start().await
}

#[tokio::test]
async fn conformance_with_dynamic_field_correlation() {
    let mock = mock().await;
    let otrs = df_connector(&mock, &mock.search_base_url());
    let report = run_ticketing_suite(&otrs, &mock, &suite(&mock)).await;
    report.assert_success();
    assert_eq!(report.skipped().count(), 0, "{report}");
    // The lost create answer was a dropped connection at the proxy.
    assert!(mock.proxy().unwrap().requests() > 0);
}

#[tokio::test]
async fn conformance_with_title_tag_correlation() {
    let mock = mock().await;
    let otrs = tag_connector(&mock);
    let report = run_ticketing_suite(&otrs, &mock, &suite(&mock)).await;
    report.assert_success();
    assert_eq!(report.skipped().count(), 0, "{report}");
}
