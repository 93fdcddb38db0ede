//! [`Mock`] for the OpsRamp mock.

use serde_json::{Value, json};

use super::OpsRampMock;
use crate::fault::FaultPlan;
use crate::mock::{Mock, RecordedRequest};
use crate::proxy::FaultProxy;

/// The password the settings give new users; it meets OpsRamp's password rule.
const INITIAL_PASSWORD: &str = "Welcome#2026pw";

/// The settings are
///
/// | key | value |
/// |---|---|
/// | `target` | `"opsramp"` |
/// | `name` | `"opsramp-mock"` |
/// | `base_url` | [`OpsRampMock::url`] |
/// | `tenant_id` | [`OpsRampMock::tenant`] |
/// | `auth` | `{"method": "client_credentials", "client_id": …, "client_secret": …}` |
/// | `initial_password` | `"Welcome#2026pw"`, the password new users get (OpsRamp's rule: 7+ characters, a digit, a special character, both cases) |
impl Mock for OpsRampMock {
    fn target(&self) -> &'static str {
        "opsramp"
    }

    fn url(&self) -> String {
        OpsRampMock::url(self)
    }

    fn settings(&self) -> Value {
        json!({
            "target": "opsramp",
            "name": "opsramp-mock",
            "base_url": OpsRampMock::url(self),
            "tenant_id": self.tenant(),
            "auth": {
                "method": "client_credentials",
                "client_id": self.client_id(),
                "client_secret": self.client_secret(),
            },
            "initial_password": INITIAL_PASSWORD,
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

    /// Expires every access token, as [`OpsRampMock::expire_tokens`] does.
    fn expire_credentials(&self) {
        self.expire_tokens();
    }
}
