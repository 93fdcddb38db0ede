//! The OTRS connector against the testkit's stateful OTRS mock.

mod confirm;
mod conformance;
mod faults;
mod intake;
mod status;

use accesslink_core::http::HttpSettings;
use accesslink_otrs::{Correlation, OtrsConfig, OtrsConnector};
use accesslink_testkit::otrs::OtrsMock;
use secrecy::SecretString;

/// A connector on the mock's search web service, correlating on the dynamic field.
pub fn df_connector(mock: &OtrsMock, base: &str) -> OtrsConnector {
    OtrsConnector::new(
        OtrsConfig::new(
            base.parse().unwrap(),
            mock.agent_login(),
            SecretString::from(mock.agent_password()),
        )
        .customer_user(mock.customer_login())
        .correlation(Correlation::dynamic_field(mock.correlation_field()))
        .http(
            HttpSettings::new().retry(
                accesslink_core::http::RetryConfig::default()
                    .initial_backoff(std::time::Duration::from_millis(5)),
            ),
        ),
    )
    .unwrap()
}

/// A connector on the standard web service, correlating on the title tag.
pub fn tag_connector(mock: &OtrsMock) -> OtrsConnector {
    OtrsConnector::new(
        OtrsConfig::new(
            mock.base_url().parse().unwrap(),
            mock.agent_login(),
            SecretString::from(mock.agent_password()),
        )
        .customer_user(mock.customer_login())
        .correlation(Correlation::TitleTag)
        .http(
            HttpSettings::new().retry(
                accesslink_core::http::RetryConfig::default()
                    .initial_backoff(std::time::Duration::from_millis(5)),
            ),
        ),
    )
    .unwrap()
}
