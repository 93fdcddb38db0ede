//! [`Mock`] for the GLPI mock.

use serde_json::{Value, json};

use super::GlpiMock;
use crate::fault::FaultPlan;
use crate::mock::{Mock, RecordedRequest};
use crate::proxy::FaultProxy;

/// The settings are
///
/// | key | value |
/// |---|---|
/// | `target` | `"glpi"` |
/// | `name` | `"glpi-mock"` |
/// | `base_url` | [`GlpiMock::base_url`], `<url>/apirest.php` |
/// | `auth` | `{"method": "user_token", "user_token": …, "app_token": …}`, the API token of `glpi` and the API client's token |
/// | `read_requester` | `false`: the mock serves no `Ticket_User` / `Change_User` yet |
///
/// `{"method": "password", "user": "glpi", "password": "glpi", "app_token": …}` works too;
/// the connector tests log in with the user token, so the settings do.
impl Mock for GlpiMock {
    fn target(&self) -> &'static str {
        "glpi"
    }

    fn url(&self) -> String {
        self.base_url()
    }

    fn settings(&self) -> Value {
        json!({
            "target": "glpi",
            "name": "glpi-mock",
            "base_url": self.base_url(),
            "auth": {
                "method": "user_token",
                "user_token": self.user_token(),
                "app_token": self.app_token(),
            },
            "read_requester": false,
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

    /// Ends every session, as [`GlpiMock::expire_sessions`] does.
    fn expire_credentials(&self) {
        self.expire_sessions();
    }
}
