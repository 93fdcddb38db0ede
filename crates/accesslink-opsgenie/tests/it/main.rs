//! The OpsGenie connector against the testkit's stateful OpsGenie mock: the shared
//! conformance suite, a 10,000-user import under faults, every "already" outcome, bad
//! input, secrets, and the requests on the wire.

mod already;
mod bad_input;
mod conformance;
mod contract;
mod faults;
mod handles;
mod import;
mod intake;
mod secrets;
mod settings;
mod wire;

use std::time::Duration;

use accesslink_core::http::{HttpSettings, RetryConfig};
use accesslink_opsgenie::{OpsGenieClient, OpsGenieConfig, OpsGenieConnector};
use accesslink_testkit::opsgenie::OpsGenieMock;
use secrecy::SecretString;

/// Quick back-off, five attempts: enough for the fault bursts these tests queue.
pub(crate) fn retry() -> RetryConfig {
    RetryConfig::default()
        .max_attempts(5)
        .initial_backoff(Duration::from_millis(2))
        .max_backoff(Duration::from_millis(20))
}

pub(crate) fn client(mock: &OpsGenieMock) -> OpsGenieClient {
    OpsGenieClient::builder()
        .base_url(mock.url())
        .api_key(SecretString::from(mock.api_key().to_owned()))
        .http(HttpSettings::new().retry(retry()))
        .build()
        .unwrap()
}

/// A connector on the mock.
pub(crate) fn on_mock(mock: &OpsGenieMock) -> OpsGenieConnector {
    OpsGenieConnector::new(client(mock), OpsGenieConfig::new().instance("mock"))
}
