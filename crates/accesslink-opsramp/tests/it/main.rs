//! The OpsRamp connector against the testkit's stateful OpsRamp mock.

mod already;
mod bad_input;
mod comments;
mod conformance;
mod contract;
mod faults;
mod import;
mod intake;
mod secrets;
mod settings;
mod throttle;
mod tickets;
mod typed;
mod variants;
mod wire;

use std::time::Duration;

use accesslink_core::http::{HttpSettings, RetryConfig};
use accesslink_opsramp::{OpsRampClient, OpsRampClientBuilder, OpsRampConfig, OpsRampConnector};
use accesslink_testkit::opsramp::{OpsRampMock, RateLimits};
use secrecy::SecretString;

/// The password new users get in these tests.
pub(crate) const PASSWORD: &str = "Welcome#2026pw";

/// A mock with `users` generated users and no rate limit.
pub(crate) async fn mock(users: usize) -> OpsRampMock {
    OpsRampMock::builder()
        .generated_users(users)
        .rate_limits(RateLimits::unlimited())
        .start()
        .await
}

/// A client builder on the mock: its credentials, no client-side limit, quick retries.
pub(crate) fn client(mock: &OpsRampMock) -> OpsRampClientBuilder {
    OpsRampClient::builder(mock.url())
        .tenant(mock.tenant())
        .client_credentials(mock.client_id(), SecretString::from(mock.client_secret()))
        .rate_limit(None)
        .http(quick())
}

/// Quick retries: the HTTP settings of these tests.
pub(crate) fn quick() -> HttpSettings {
    HttpSettings::new().retry(RetryConfig::default().initial_backoff(Duration::from_millis(5)))
}

/// A connector on the mock.
pub(crate) fn connector(mock: &OpsRampMock) -> OpsRampConnector {
    on(client(mock).build().unwrap())
}

/// A connector over a client, with the test password.
pub(crate) fn on(client: OpsRampClient) -> OpsRampConnector {
    OpsRampConnector::new(
        client,
        OpsRampConfig::new()
            .instance("mock")
            .initial_password(SecretString::from(PASSWORD)),
    )
}
