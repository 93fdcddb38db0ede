//! The shared conformance suites on the stateful mock, with Basic and with OAuth, fault
//! checks included: the mock runs behind the fault proxy so that a lost create answer can
//! be a dropped connection.

use accesslink_core::{AccountSpec, CorrelationId, NewTicket, TicketKind};
use accesslink_servicenow::{ServiceNowConnector, group_ref};
use accesslink_testkit::conformance::{
    Check, ProvisioningSuite, TicketingSuite, fresh_id, run_provisioning_suite, run_ticketing_suite,
};
use accesslink_testkit::servicenow::ServiceNowMock;
use serde_json::json;

use crate::mock::{basic_on, oauth_on};

const BAD_REFS: &[&str] = &[
    "INC",
    "INC-0010001",
    "XYZ0010001",
    "INC0010001^ORactive=true",
    "INC0010001^NQactive=true",
    "javascript:gs.getUserID()",
    "9d385017c611228701d22104cc95c37",
    "PRJTASK",
];

async fn ticketing(mock: &ServiceNowMock, sn: &ServiceNowConnector, kind: TicketKind) {
    let template = NewTicket::new(
        kind,
        "Grant sales-admin on CRM to alice",
        "Requested by bob.",
        CorrelationId::new(fresh_id("conf")),
    );
    let o = mock.oauth();
    let suite = TicketingSuite::new(template)
        .bad_refs(BAD_REFS.iter().copied())
        .canaries([mock.password(), o.client_secret()])
        .absent_ref("INC9999999");
    // A change goes on hold by its `on_hold` flag, not its `state`: put on hold in the
    // same second as its last change it keeps its update time and raw state, and the
    // change feed tells it by the normalised state (`OnHold`) in its fingerprint.
    let report = run_ticketing_suite(sn, mock, &suite).await;
    report.assert_success();
    let skipped: Vec<_> = report.skipped().collect();
    assert!(skipped.is_empty(), "{report:?}");
}

#[tokio::test]
async fn ticketing_suite_with_basic_for_every_kind() {
    let mock = ServiceNowMock::builder().with_proxy(true).start().await;
    let sn = basic_on(&mock);
    for kind in [
        TicketKind::Incident,
        TicketKind::Change,
        TicketKind::ChangeTask,
        TicketKind::Request,
        TicketKind::RequestItem,
        TicketKind::Problem,
        TicketKind::Project,
        TicketKind::ProjectTask,
        TicketKind::Task,
    ] {
        ticketing(&mock, &sn, kind).await;
    }
}

#[tokio::test]
async fn ticketing_suite_with_oauth() {
    let mock = ServiceNowMock::builder().with_proxy(true).start().await;
    let sn = oauth_on(&mock);
    ticketing(&mock, &sn, TicketKind::Incident).await;
    assert!(
        mock.requests()
            .iter()
            .all(|r| r.path == "/oauth_token.do" || r.authorization.as_deref() == Some("Bearer"))
    );
}

async fn provisioning(mock: &ServiceNowMock, sn: &ServiceNowConnector, role: bool) {
    let ent = if role {
        let id = mock.insert("sys_user_role", json!({ "name": "itil" }));
        accesslink_servicenow::role_ref(id)
    } else {
        group_ref(mock.insert("sys_user_group", json!({ "name": "crm-admins" })))
    };
    let o = mock.oauth();
    let suite = ProvisioningSuite::new(
        100,
        AccountSpec::new(fresh_id("new.user"))
            .name("New", "User")
            .email("new.user@example.test"),
        ent,
    )
    .canaries([mock.password(), o.client_secret()]);
    let report = run_provisioning_suite(sn, mock, &suite).await;
    report.assert_success();
    assert_eq!(report.skipped().count(), 0, "{report:?}");
    // The partitioned-import checks ran (the connector splits its account listing).
    for check in [
        Check::PartitionedAccountsExactlyOnce,
        Check::PartitionedResumeLosesNothing,
        Check::IgnoredRangeIsAProtocolError,
    ] {
        assert!(report.passed().any(|c| c == check), "{check}: {report}");
    }
}

#[tokio::test]
async fn provisioning_suite_with_basic_groups_and_roles() {
    let mock = ServiceNowMock::builder().synthetic_users(250).start().await;
    let sn = basic_on(&mock);
    provisioning(&mock, &sn, false).await;
    provisioning(&mock, &sn, true).await;
}

#[tokio::test]
async fn provisioning_suite_with_oauth() {
    let mock = ServiceNowMock::builder().synthetic_users(250).start().await;
    let sn = oauth_on(&mock);
    provisioning(&mock, &sn, false).await;
}
