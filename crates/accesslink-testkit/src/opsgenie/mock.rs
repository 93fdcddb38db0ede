//! [`Mock`] for the OpsGenie mock.

use serde_json::{Value, json};

use super::OpsGenieMock;
use crate::fault::FaultPlan;
use crate::mock::{Mock, RecordedRequest};
use crate::proxy::FaultProxy;

/// The settings are
///
/// | key | value |
/// |---|---|
/// | `target` | `"opsgenie"` |
/// | `name` | `"opsgenie-mock"` |
/// | `base_url` | [`OpsGenieMock::url`] |
/// | `auth` | `{"method": "api_key", "key": …}` ([`OpsGenieMock::api_key`]) |
impl Mock for OpsGenieMock {
    fn target(&self) -> &'static str {
        "opsgenie"
    }

    fn url(&self) -> String {
        OpsGenieMock::url(self)
    }

    fn settings(&self) -> Value {
        json!({
            "target": "opsgenie",
            "name": "opsgenie-mock",
            "base_url": OpsGenieMock::url(self),
            "auth": {
                "method": "api_key",
                "key": self.api_key(),
            },
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

    /// Does nothing: OpsGenie API keys do not expire and the API has no session, so there
    /// is nothing to expire. Revoking the key ([`OpsGenieMock::revoke_key`]) is not the
    /// same thing: a connector cannot recover from it by signing in again.
    fn expire_credentials(&self) {}
}
