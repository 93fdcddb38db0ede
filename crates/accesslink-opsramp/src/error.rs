//! OpsRamp's error bodies and auth failures (fact sheet §1.3, §1.4).

use accesslink_core::http::{Response, VendorError};
use http::StatusCode;
use serde::Deserialize;

/// Whether the server rejected the token: 401 ("not authorized") or 407, OpsRamp's
/// non-standard "Proxy Authentication Required" for an expired token.
pub fn is_auth_failure(response: &Response) -> bool {
    matches!(
        response.status(),
        StatusCode::UNAUTHORIZED | StatusCode::PROXY_AUTHENTICATION_REQUIRED
    )
}

#[derive(Deserialize)]
struct Body {
    error: Option<String>,
    error_description: Option<String>,
    code: Option<serde_json::Value>,
    message: Option<String>,
}

/// Reads `{"error","error_description"}` (auth, throttling), then `{"code","message"}`
/// (everything else); other bodies stay raw text in the error. Only error statuses are
/// read: OpsRamp does not report errors with 200.
pub fn parse_error(response: &Response) -> Option<VendorError> {
    if response.status().is_success() {
        return None;
    }
    let body: Body = serde_json::from_slice(response.bytes()).ok()?;
    if body.error.is_some() || body.error_description.is_some() {
        return Some(VendorError::new(body.error, body.error_description));
    }
    let code = body.code.map(|c| match c {
        serde_json::Value::String(s) => s,
        other => other.to_string(),
    });
    (code.is_some() || body.message.is_some()).then(|| VendorError::new(code, body.message))
}
