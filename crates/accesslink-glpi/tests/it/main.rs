//! The GLPI connector against scripted wiremock answers shaped like the real server's
//! (`wire`, `paging`) and against the testkit's stateful GLPI mock (`conformance`,
//! `faults`, `gate`).

mod conformance;
mod faults;
mod gate;
mod intake;
mod paging;
mod partition;
mod scripted;
mod settings;
mod wire;

use std::time::Duration;

use accesslink_core::http::{HttpSettings, RetryConfig};
use accesslink_glpi::{GlpiClient, GlpiConfig, GlpiConnector};
use accesslink_testkit::glpi::GlpiMock;
use secrecy::SecretString;

/// A connector on the mock, logging in with the user token, with quick retries.
pub(crate) fn on_mock(mock: &GlpiMock) -> GlpiConnector {
    let client = GlpiClient::builder(mock.base_url())
        .app_token(SecretString::from(mock.app_token()))
        .user_token(SecretString::from(mock.user_token()))
        .http(
            HttpSettings::new()
                .retry(RetryConfig::default().initial_backoff(Duration::from_millis(5))),
        )
        .build()
        .unwrap();
    // The mock serves no Ticket_User / Change_User yet: requesters are read on the real
    // server (live tests) and against scripted answers (`wire`).
    let config = GlpiConfig::new().instance("mock").read_requester(false);
    GlpiConnector::new(client, config)
}
