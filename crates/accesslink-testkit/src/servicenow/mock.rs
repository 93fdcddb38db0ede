//! [`Mock`] for the ServiceNow mock.

use serde_json::{Value, json};

use super::ServiceNowMock;
use crate::fault::FaultPlan;
use crate::mock::{Mock, RecordedRequest};
use crate::proxy::FaultProxy;

/// The settings are
///
/// | key | value |
/// |---|---|
/// | `target` | `"servicenow"` |
/// | `name` | `"servicenow-mock"` |
/// | `base_url` | [`ServiceNowMock::url`], the instance URL (the API is under `/api/now/`) |
/// | `auth` | `{"method": "basic", "user": …, "password": …}` ([`ServiceNowMock::user`], [`ServiceNowMock::password`]) |
impl Mock for ServiceNowMock {
    fn target(&self) -> &'static str {
        "servicenow"
    }

    fn url(&self) -> String {
        ServiceNowMock::url(self)
    }

    fn settings(&self) -> Value {
        json!({
            "target": "servicenow",
            "name": "servicenow-mock",
            "base_url": ServiceNowMock::url(self),
            "auth": {
                "method": "basic",
                "user": self.user(),
                "password": self.password(),
            },
        })
    }

    fn faults(&self) -> &FaultPlan {
        &self.shared.faults
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

    /// Expires every OAuth access token, as [`ServiceNowMock::expire_tokens`] does. Basic
    /// auth has no session, so a connector using it is not affected.
    fn expire_credentials(&self) {
        self.expire_tokens();
    }
}
