//! [`Mock`] for the Jira mock.

use serde_json::{Value, json};

use super::{AuthMode, JiraMock, Mode};
use crate::fault::FaultPlan;
use crate::mock::{Mock, RecordedRequest};
use crate::proxy::FaultProxy;

/// The settings are `target = "jira"`, `name = "jira-mock"`, the deployment
/// (`cloud`/`data_center`), `base_url` = [`JiraMock::url`], `project = "ITSM"`, a JSM
/// service desk `10` with request types `change = "25"` and `request = "26"`, and the
/// auth the mock was started with (`basic` with `user` and `password` — the e-mail and API
/// token on Cloud, as every mock names Basic credentials — `bearer` with the
/// personal access token, or `oauth` with the client, the current refresh token and the
/// mock as `auth_url` and `api_url`).
impl Mock for JiraMock {
    fn target(&self) -> &'static str {
        "jira"
    }

    fn url(&self) -> String {
        JiraMock::url(self)
    }

    fn settings(&self) -> Value {
        let url = JiraMock::url(self);
        let s = self.lock();
        let auth = match s.auth {
            AuthMode::Basic => json!({"method": "basic", "user": s.user, "password": s.secret}),
            AuthMode::Bearer => json!({"method": "bearer", "token": s.secret}),
            AuthMode::OAuth => json!({
                "method": "oauth",
                "client_id": s.client_id,
                "client_secret": s.client_secret,
                "refresh_token": s.refresh_token,
                "auth_url": url,
                "api_url": url,
            }),
        };
        json!({
            "target": "jira",
            "name": "jira-mock",
            "deployment": match s.mode { Mode::Cloud => "cloud", Mode::DataCenter => "data_center" },
            "base_url": url,
            "auth": auth,
            "project": "ITSM",
            "service_desk": {"id": "10", "request_types": {"change": "25", "request": "26"}},
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

    /// OAuth: drops every access token. Basic and PAT credentials do not expire.
    fn expire_credentials(&self) {
        let mut s = self.lock();
        if s.auth == AuthMode::OAuth {
            s.access_tokens.clear();
        }
    }
}
