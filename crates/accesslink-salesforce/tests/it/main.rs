//! Integration tests of the Salesforce connector against the testkit's `SalesforceMock`.

mod bulk;
mod conformance;
mod contract;
mod intake;
mod partition;
mod provisioning;
mod tickets;

use accesslink_core::http::{HttpSettings, RetryConfig};
use accesslink_salesforce::{SalesforceConnector, SalesforceSettings};
use accesslink_testkit::Mock;
use accesslink_testkit::salesforce::SalesforceMock;
use std::time::Duration;

/// The mock's settings as `SalesforceSettings` (its `target` key belongs to the facade),
/// with fast retries.
pub(crate) fn settings_of(mock: &SalesforceMock) -> SalesforceSettings {
    let mut v = mock.settings();
    v.as_object_mut().expect("an object").remove("target");
    let mut s: SalesforceSettings =
        serde_json::from_value(v).expect("the mock's settings are valid");
    s.http = HttpSettings::default().retry(
        RetryConfig::default()
            .max_attempts(3)
            .initial_backoff(Duration::from_millis(10))
            .max_backoff(Duration::from_secs(2)),
    );
    s
}

pub(crate) fn on(mock: &SalesforceMock) -> SalesforceConnector {
    SalesforceConnector::from_settings(settings_of(mock)).expect("a connector")
}
