//! [`Mock`] for the Znuny mock.

use serde_json::{Value, json};

use super::OtrsMock;
use crate::fault::FaultPlan;
use crate::mock::{Mock, RecordedRequest};
use crate::proxy::FaultProxy;

/// The settings are
///
/// | key | value |
/// |---|---|
/// | `target` | `"otrs"` |
/// | `name` | `"otrs-mock"` |
/// | `base_url` | [`OtrsMock::base_url`], the full `GenericTicketConnectorREST` web-service URL (what `OtrsConfig::new` takes) |
/// | `auth` | `{"method": "session", "user": "apiagent", "password": "ApiAgent-Pw1"}` |
/// | `customer_user` | `"apicustomer"`, the `CustomerUser` of new tickets |
///
/// Correlation is left to the connector's default (the title tag), which this web service
/// serves; the dynamic-field search needs [`OtrsMock::search_base_url`] instead.
impl Mock for OtrsMock {
    fn target(&self) -> &'static str {
        "otrs"
    }

    fn url(&self) -> String {
        self.base_url()
    }

    fn settings(&self) -> Value {
        json!({
            "target": "otrs",
            "name": "otrs-mock",
            "base_url": self.base_url(),
            "auth": {
                "method": "session",
                "user": self.agent_login(),
                "password": self.agent_password(),
            },
            "customer_user": self.customer_login(),
        })
    }

    fn faults(&self) -> &FaultPlan {
        &self.faults
    }

    fn proxy(&self) -> Option<&FaultProxy> {
        self.proxy.as_ref()
    }

    fn request_count(&self) -> usize {
        self.log.len()
    }

    fn request_log(&self) -> Vec<RecordedRequest> {
        self.log.all()
    }

    /// Deletes every session, as [`OtrsMock::expire_sessions`] does.
    fn expire_credentials(&self) {
        self.expire_sessions();
    }
}
