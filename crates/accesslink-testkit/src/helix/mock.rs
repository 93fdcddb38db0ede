//! [`Mock`] for the Helix mock.

use serde_json::{Value, json};

use super::HelixMock;
use crate::fault::FaultPlan;
use crate::mock::{Mock, RecordedRequest};
use crate::proxy::FaultProxy;

/// The settings are
///
/// | key | value |
/// |---|---|
/// | `target` | `"helix"` |
/// | `name` | `"helix-mock"` |
/// | `base_url` | [`HelixMock::url`] (the server root) |
/// | `auth` | `{"method": "jwt", "username": …, "password": …}` |
/// | `incident` | `{"customer_login": "jdoe"}` (the customer the mock knows) |
impl Mock for HelixMock {
    fn target(&self) -> &'static str {
        "helix"
    }

    fn url(&self) -> String {
        HelixMock::url(self)
    }

    fn settings(&self) -> Value {
        json!({
            "target": "helix",
            "name": "helix-mock",
            "base_url": HelixMock::url(self),
            "auth": { "method": "jwt", "username": self.username(), "password": self.password() },
            "incident": { "customer_login": "jdoe" },
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

    /// Forgets every token, as an expiry or a server restart does.
    fn expire_credentials(&self) {
        self.lock().tokens.clear();
    }
}
