//! The shared ticketing suite on the mock: on-premises (technician key), Cloud (Zoho
//! OAuth, portal path, long ids) and MSP (account scoping), requests and changes.

use accesslink_core::{CorrelationId, NewTicket, TicketKind};
use accesslink_testkit::conformance::{TicketingSuite, fresh_id, run_ticketing_suite};
use accesslink_testkit::sdp::{Deployment, SdpMock};

use crate::on;

const BAD_REFS: &[&str] = &[
    "",
    "0",
    "012",
    "REQ-",
    "CH-x",
    "1 OR 1=1",
    "1\"}]",
    "1/notes",
    "-1",
    "+1",
    "1e5",
    "12345678901234567890",
    "display_id is 1",
];

async fn suite(deployment: Deployment, kind: TicketKind) {
    let mock = SdpMock::builder()
        .deployment(deployment)
        .with_proxy(true)
        .start()
        .await;
    let sdp = on(&mock);
    let template = NewTicket::new(
        kind,
        "Grant payroll-admin to alice",
        "Requested by bob.\nSecond line.",
        CorrelationId::new(fresh_id("conf")),
    );
    let canaries = match deployment {
        Deployment::Cloud => vec![mock.client_secret(), mock.refresh_token()],
        _ => vec![mock.key()],
    };
    let suite = TicketingSuite::new(template)
        .bad_refs(BAD_REFS.iter().copied())
        .absent_ref("99999")
        .canaries(canaries);
    let report = run_ticketing_suite(&sdp, &mock, &suite).await;
    report.assert_success();
    assert_eq!(report.skipped().count(), 0, "{report:?}");
    // Every API call carried the v3 Accept header and the deployment's credential.
    let received = mock.received().await;
    let api: Vec<_> = received
        .iter()
        .filter(|r| r.url.path().contains("/api/v3/"))
        .collect();
    assert!(!api.is_empty());
    for r in &api {
        let accept = r
            .headers
            .get("accept")
            .map(|v| v.to_str().unwrap().to_owned());
        assert_eq!(
            accept.as_deref(),
            Some("application/vnd.manageengine.sdp.v3+json"),
            "{}",
            r.url
        );
        match deployment {
            Deployment::Cloud => {
                assert!(r.url.path().starts_with("/app/itdesk/api/v3/"), "{}", r.url);
                let auth = r
                    .headers
                    .get("authorization")
                    .map(|v| v.to_str().unwrap().to_owned());
                assert!(
                    auth.is_some_and(|a| a.starts_with("Zoho-oauthtoken ")),
                    "{}",
                    r.url
                );
            }
            _ => {
                assert!(r.url.path().starts_with("/api/v3/"), "{}", r.url);
                assert_eq!(
                    r.headers
                        .get("authtoken")
                        .map(|v| v.to_str().unwrap().to_owned()),
                    Some(mock.key())
                );
            }
        }
    }
}

#[tokio::test]
async fn ticketing_suite_on_premises_requests() {
    suite(Deployment::OnPremises, TicketKind::Request).await;
}

#[tokio::test]
async fn ticketing_suite_on_premises_changes() {
    suite(Deployment::OnPremises, TicketKind::Change).await;
}

#[tokio::test]
async fn ticketing_suite_cloud_requests() {
    suite(Deployment::Cloud, TicketKind::Request).await;
}

#[tokio::test]
async fn ticketing_suite_cloud_changes() {
    suite(Deployment::Cloud, TicketKind::Change).await;
}

#[tokio::test]
async fn ticketing_suite_msp_requests() {
    suite(Deployment::Msp, TicketKind::Request).await;
}
