//! Integration tests of the Jira connector against the testkit's `JiraMock`.

mod conformance;
mod contract;
mod faults;
mod input;
mod intake;
mod oauth;
mod provisioning;
mod secrets;
mod tickets;

use accesslink_core::http::{HttpSettings, RetryConfig};
use accesslink_jira::{JiraConnector, JiraSettings};
use accesslink_testkit::Mock;
use accesslink_testkit::jira::JiraMock;
use std::time::Duration;

/// The mock's settings as `JiraSettings` (its `target` key belongs to the facade), with
/// fast retries.
pub(crate) fn settings_of(mock: &JiraMock) -> JiraSettings {
    let mut v = mock.settings();
    v.as_object_mut().expect("an object").remove("target");
    let mut s: JiraSettings = serde_json::from_value(v).expect("the mock's settings are valid");
    s.http = HttpSettings::default().retry(
        RetryConfig::default()
            .max_attempts(3)
            .initial_backoff(Duration::from_millis(10))
            .max_backoff(Duration::from_secs(2)),
    );
    s
}

pub(crate) fn on(mock: &JiraMock) -> JiraConnector {
    JiraConnector::from_settings(settings_of(mock)).expect("a connector")
}
