//! Nothing secret reaches the logs: a Cloud run traced at TRACE — token renewal, an access
//! token expiring, a 429, an HTTP-200 error body that echoes the secrets — and an
//! on-premises run whose server echoes the technician key never print the client secret,
//! the refresh token, an access token or the key.
//!
//! Its own test binary: tracing's per-callsite interest cache is shared by the process.

use std::time::Duration;

use accesslink_core::http::{HttpSettings, RetryConfig};
use accesslink_core::{Connector, TicketingSystem};
use accesslink_sdp::{SdpConnector, SdpSettings};
use accesslink_testkit::Mock;
use accesslink_testkit::conformance::secrets_never_printed;
use accesslink_testkit::fault::{Fault, FaultMatcher, RetryAfter};
use accesslink_testkit::logs::CapturedLogs;
use accesslink_testkit::sdp::SdpMock;

fn connector(mock: &SdpMock) -> SdpConnector {
    let mut v = mock.settings();
    v.as_object_mut().unwrap().remove("target");
    let mut s: SdpSettings = serde_json::from_value(v).unwrap();
    s.http = HttpSettings::default().retry(
        RetryConfig::default()
            .max_attempts(4)
            .initial_backoff(Duration::from_millis(2))
            .max_backoff(Duration::from_millis(20)),
    );
    SdpConnector::from_settings(s).unwrap()
}

#[tokio::test]
async fn runs_traced_at_trace_print_no_secret() {
    let logs = CapturedLogs::start();
    let cloud = SdpMock::start_cloud().await;
    let n = cloud.add_request("VPN", None);
    let sdp = connector(&cloud);
    let mut secrets = vec![cloud.client_secret(), cloud.refresh_token()];
    sdp.test_connection().await.unwrap();
    let r = sdp.parse_ticket_ref(&n).unwrap();
    sdp.get_ticket(&r).await.unwrap();
    secrets.extend(cloud.access_tokens());
    cloud.expire_credentials();
    cloud
        .faults()
        .throttle_next(1, Some(RetryAfter::Seconds(0)));
    sdp.get_ticket(&r).await.unwrap();
    secrets.extend(cloud.access_tokens());
    let echo = format!(
        r#"{{"response_status":{{"status_code":4000,"status":"failed","messages":[{{"status_code":4001,"message":"echo {} {} {}"}}]}}}}"#,
        cloud.client_secret(),
        cloud.refresh_token(),
        cloud.access_tokens().join(" ")
    );
    cloud.faults().push_for(
        FaultMatcher::method("GET"),
        Fault::Status {
            status: 200,
            body: Some(echo),
        },
        1,
    );
    let e = sdp.get_ticket(&r).await.unwrap_err();
    tracing::error!(error = %e, debug = ?e, "the read failed");
    tracing::error!(connector = ?sdp, "the connector");

    let onprem = SdpMock::start_on_premises().await;
    let m = onprem.add_request("VPN", None);
    let sdp2 = connector(&onprem);
    secrets.push(onprem.key());
    onprem
        .faults()
        .push_for(FaultMatcher::method("GET"), Fault::EchoRequest, 1);
    let e2 = sdp2.get_ticket(&sdp2.parse_ticket_ref(&m).unwrap()).await;
    tracing::error!(result = ?e2.map(|t| t.map(|t| t.title)), connector = ?sdp2, "the echoed read");

    let traces = logs.text();
    drop(logs);
    assert!(traces.contains("429"), "the 429 was traced");
    assert!(cloud.token_calls() >= 2, "the token was renewed");
    let refs: Vec<&str> = secrets.iter().map(String::as_str).collect();
    secrets_never_printed(&traces, &refs).unwrap();
}
