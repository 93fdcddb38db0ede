//! The shared ticketing conformance suite on the mock: Service Cloud with client
//! credentials, with the password flow, with the refresh-token flow and with upsert on
//! an External ID; Remedyforce incidents and changes.

use accesslink_core::{CorrelationId, NewTicket, TicketKind};
use accesslink_salesforce::SalesforceConnector;
use accesslink_testkit::conformance::{TicketingSuite, fresh_id, run_ticketing_suite};
use accesslink_testkit::salesforce::{AuthMode, Profile, SalesforceMock};

use crate::{on, settings_of};

const BAD_REFS: &[&str] = &[
    "",
    "CASE-1",
    "00001026' OR Id != null",
    "0000 1026",
    "5005e00000A1b2",
    "5005e00000A1b2CAARX",
    "5005e00000A1b2C!!!",
    "5005e00000A1b2CBAR",
    "1e5",
    "+1",
    "-1",
    "١٢٣",
    "１２３",
];

async fn ticketing_with(mock: &SalesforceMock, sf: &SalesforceConnector, kind: TicketKind) {
    let template = NewTicket::new(
        kind,
        "Grant payroll-admin to alice",
        "Requested by bob.\nSecond line.",
        CorrelationId::new(fresh_id("conf")),
    );
    let suite = TicketingSuite::new(template)
        .bad_refs(BAD_REFS.iter().copied())
        .absent_ref("99999999")
        .canaries([
            mock.client_secret(),
            mock.password(),
            mock.security_token(),
            mock.refresh_token(),
        ]);
    let report = run_ticketing_suite(sf, mock, &suite).await;
    report.assert_success();
    assert_eq!(report.skipped().count(), 0, "{report:?}");
}

async fn mock(auth: AuthMode, profile: Profile) -> SalesforceMock {
    let m = SalesforceMock::builder()
        .auth(auth)
        .profile(profile)
        .with_proxy(true)
        .start()
        .await;
    // Small pages, so every multi-row answer is paged through nextRecordsUrl.
    m.set_page_size(2);
    m
}

/// Every API call went to the instance host with a bearer token; tokens came from the
/// login host with the expected grant.
async fn check_hosts(mock: &SalesforceMock, grant: &str) {
    let received = mock.received().await;
    let (tokens, api): (Vec<_>, Vec<_>) = received
        .iter()
        .partition(|r| r.url.path() == "/services/oauth2/token");
    assert!(!tokens.is_empty());
    for t in &tokens {
        let body = String::from_utf8_lossy(&t.body);
        assert!(body.contains(&format!("grant_type={grant}")), "{body}");
        let host = t.headers.get("host").unwrap().to_str().unwrap();
        assert!(host.starts_with("127.0.0.1"), "{host}");
    }
    assert!(!api.is_empty());
    for r in &api {
        assert!(
            r.url.path().starts_with("/services/data/v62.0/"),
            "{}",
            r.url
        );
        let host = r.headers.get("host").unwrap().to_str().unwrap();
        assert!(host.starts_with("localhost"), "{host}");
        let auth = r.headers.get("authorization").unwrap().to_str().unwrap();
        assert!(auth.starts_with("Bearer 00D"), "{auth}");
    }
}

#[tokio::test]
async fn ticketing_suite_service_cloud_client_credentials() {
    let mock = mock(AuthMode::ClientCredentials, Profile::ServiceCloud).await;
    ticketing_with(&mock, &on(&mock), TicketKind::Case).await;
    check_hosts(&mock, "client_credentials").await;
}

#[tokio::test]
async fn ticketing_suite_service_cloud_password_with_security_token() {
    let mock = mock(AuthMode::Password, Profile::ServiceCloud).await;
    ticketing_with(&mock, &on(&mock), TicketKind::Case).await;
    check_hosts(&mock, "password").await;
    // The security token was appended to the password.
    let received = mock.received().await;
    let token_call = received
        .iter()
        .find(|r| r.url.path() == "/services/oauth2/token")
        .unwrap();
    let form: Vec<(String, String)> = url::form_urlencoded::parse(&token_call.body)
        .into_owned()
        .collect();
    let pw = &form.iter().find(|(k, _)| k == "password").unwrap().1;
    assert_eq!(*pw, format!("{}{}", mock.password(), mock.security_token()));
}

#[tokio::test]
async fn ticketing_suite_service_cloud_refresh_token() {
    let mock = mock(AuthMode::RefreshToken, Profile::ServiceCloud).await;
    ticketing_with(&mock, &on(&mock), TicketKind::Case).await;
    check_hosts(&mock, "refresh_token").await;
}

#[tokio::test]
async fn ticketing_suite_service_cloud_upsert_on_external_id() {
    let mock = mock(AuthMode::ClientCredentials, Profile::ServiceCloud).await;
    let mut s = settings_of(&mock);
    s.correlation_is_external_id = true;
    mock.expect_upserts(true);
    let sf = SalesforceConnector::from_settings(s).unwrap();
    ticketing_with(&mock, &sf, TicketKind::Case).await;
    // Creates were upserts on the External ID, never plain POSTs of a Case.
    let received = mock.received().await;
    assert!(received.iter().any(|r| r.method.as_str() == "PATCH"
        && r.url.path().contains("/sobjects/Case/External_Ref__c/")));
    assert!(
        !received
            .iter()
            .any(|r| r.method.as_str() == "POST" && r.url.path().ends_with("/sobjects/Case"))
    );
}

#[tokio::test]
async fn ticketing_suite_remedyforce() {
    let mock = mock(AuthMode::Password, Profile::Remedyforce).await;
    let sf = on(&mock);
    ticketing_with(&mock, &sf, TicketKind::Incident).await;
    ticketing_with(&mock, &sf, TicketKind::Change).await;
    assert!(!mock.records("BMCServiceDesk__Incident__c").is_empty());
    assert!(!mock.records("BMCServiceDesk__Change_Request__c").is_empty());
}
