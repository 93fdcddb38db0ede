//! Integration tests of the ServiceDesk Plus connector against the testkit's `SdpMock`.

mod conformance;
mod contract;
mod faults;
mod input;
mod intake;
mod oauth;
mod provisioning;
mod technicians;
mod tickets;

use accesslink_core::http::{HttpSettings, RetryConfig};
use accesslink_sdp::{SdpConnector, SdpSettings};
use accesslink_testkit::Mock;
use accesslink_testkit::sdp::SdpMock;
use std::time::Duration;

/// The mock's settings as `SdpSettings` (its `target` key belongs to the facade), with
/// fast retries.
pub(crate) fn settings_of(mock: &SdpMock) -> SdpSettings {
    let mut v = mock.settings();
    v.as_object_mut().expect("an object").remove("target");
    let mut s: SdpSettings = serde_json::from_value(v).expect("the mock's settings are valid");
    s.http = HttpSettings::default().retry(
        RetryConfig::default()
            .max_attempts(3)
            .initial_backoff(Duration::from_millis(10))
            .max_backoff(Duration::from_secs(2)),
    );
    s
}

pub(crate) fn on(mock: &SdpMock) -> SdpConnector {
    SdpConnector::from_settings(settings_of(mock)).expect("a connector")
}
