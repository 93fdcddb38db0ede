//! Connectors on the testkit's stateful ServiceNow mock.

use accesslink_servicenow::{ServiceNowClient, ServiceNowConfig, ServiceNowConnector};
use accesslink_testkit::servicenow::{ServiceNowMock, SnRequest};
use secrecy::SecretString;

use crate::scripted::quick_retry;

/// A connector signing in with Basic.
pub(crate) fn basic_on(mock: &ServiceNowMock) -> ServiceNowConnector {
    basic_with(mock, ServiceNowConfig::new().instance("mock"))
}

pub(crate) fn basic_with(mock: &ServiceNowMock, config: ServiceNowConfig) -> ServiceNowConnector {
    let client = ServiceNowClient::builder(mock.url())
        .basic(mock.user(), SecretString::from(mock.password()))
        .http(accesslink_core::http::HttpSettings::new().retry(quick_retry()))
        .build()
        .unwrap();
    ServiceNowConnector::new(client, config).unwrap()
}

/// A connector signing in with the OAuth password grant.
pub(crate) fn oauth_on(mock: &ServiceNowMock) -> ServiceNowConnector {
    let o = mock.oauth();
    let client = ServiceNowClient::builder(mock.url())
        .oauth_password(
            o.client_id(),
            SecretString::from(o.client_secret()),
            mock.user(),
            SecretString::from(mock.password()),
        )
        .http(accesslink_core::http::HttpSettings::new().retry(quick_retry()))
        .build()
        .unwrap();
    ServiceNowConnector::new(client, ServiceNowConfig::new().instance("mock-oauth")).unwrap()
}

/// Requests to the Table API (token calls left out), in order.
pub(crate) fn table_requests(mock: &ServiceNowMock) -> Vec<SnRequest> {
    mock.requests()
        .into_iter()
        .filter(|r| r.path.contains("/api/now/"))
        .collect()
}
