//! [`Mock`] for the TOPdesk mock.

use serde_json::{Value, json};

use super::TopdeskMock;
use crate::fault::FaultPlan;
use crate::mock::{Mock, RecordedRequest};
use crate::proxy::FaultProxy;

/// The settings are
///
/// | key | value |
/// |---|---|
/// | `target` | `"topdesk"` |
/// | `name` | `"topdesk-mock"` |
/// | `base_url` | [`TopdeskMock::url`] (the instance root) |
/// | `auth` | `{"method": "application_password", "login": …, "password": …}` |
/// | `branch` | [`TopdeskMock::branch_id`] |
impl Mock for TopdeskMock {
    fn target(&self) -> &'static str {
        "topdesk"
    }

    fn url(&self) -> String {
        TopdeskMock::url(self)
    }

    fn settings(&self) -> Value {
        json!({
            "target": "topdesk",
            "name": "topdesk-mock",
            "base_url": TopdeskMock::url(self),
            "auth": {
                "method": "application_password",
                "login": self.login(),
                "password": self.password(),
            },
            "branch": self.branch_id(),
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

    /// Does nothing: application passwords are sent on every request and do not expire
    /// as sessions do. [`TopdeskMock::revoke_login`] is the revocation, from which a
    /// connector cannot recover by signing in again.
    fn expire_credentials(&self) {}
}
