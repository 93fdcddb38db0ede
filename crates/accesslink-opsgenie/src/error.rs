//! OpsGenie's error answers as core errors.
//!
//! Errors are `{"message": "…", "took": …, "requestId": "…"}`, validation failures
//! (`422`) add `"errors": {"field": "reason"}`, and the `X-Opsgenie-Errortype` header
//! may carry a machine code (`RequestNotProcessed`) — fact sheet §2.2. Throttled
//! answers (`429`) carry `X-RateLimit-State: THROTTLED`, `X-RateLimit-Reason` and
//! `X-RateLimit-Period-In-Sec` but no `Retry-After` (§2.3).

use accesslink_core::ErrorKind;
use accesslink_core::http::{Response, VendorError};
use serde_json::Value;

/// How long a vendor message may get before it is cut.
const MAX_MESSAGE: usize = 300;

/// The kind an OpsGenie error stands for, or `None` to go by the HTTP status.
///
/// | status | message | kind |
/// |---|---|---|
/// | 402 | (plan restriction) | PermissionDenied |
/// | 400, 409, 422 | says "already exists" / "already a member" | Conflict |
/// | 400, 422 | says "not found" / "does not exist" | NotFound |
/// | 404 | with `X-Opsgenie-Errortype: RequestNotProcessed` | Unavailable (asynchronous request not processed yet: retry later) |
pub fn kind_of(status: u16, code: Option<&str>, message: &str) -> Option<ErrorKind> {
    let m = message.to_ascii_lowercase();
    match status {
        402 => Some(ErrorKind::PermissionDenied),
        404 if code == Some("RequestNotProcessed") => Some(ErrorKind::Unavailable),
        400 | 409 | 422 if m.contains("already exist") || m.contains("already a member") => {
            Some(ErrorKind::Conflict)
        }
        400 | 422 if m.contains("not found") || m.contains("does not exist") => {
            Some(ErrorKind::NotFound)
        }
        _ => None,
    }
}

/// The error parser installed on the client: any non-2xx answer is read for its
/// message, `errors` map and error type.
pub(crate) fn parse_error(response: &Response) -> Option<VendorError> {
    if response.status().is_success() {
        return None;
    }
    let code = response
        .header("x-opsgenie-errortype")
        .map(str::to_owned)
        .or_else(|| {
            (response.header("x-ratelimit-state") == Some("THROTTLED")).then(|| "THROTTLED".into())
        });
    let mut message = match serde_json::from_slice::<Value>(response.bytes()) {
        Ok(Value::Object(body)) => {
            let mut m = body
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            if let Some(Value::Object(errors)) = body.get("errors") {
                let fields: Vec<String> = errors
                    .iter()
                    .map(|(k, v)| {
                        format!(
                            "{k}: {}",
                            v.as_str().map_or_else(|| v.to_string(), str::to_owned)
                        )
                    })
                    .collect();
                if !fields.is_empty() {
                    m = format!("{m} ({})", fields.join("; "));
                }
            }
            m
        }
        // A proxy's page: its first line, unless it is markup.
        _ => {
            let text = response.redacted_body(200);
            let first = text.lines().next().unwrap_or("").trim().to_owned();
            if first.starts_with('<') {
                String::new()
            } else {
                first
            }
        }
    };
    if response.status().as_u16() == 429 {
        // No Retry-After: say what OpsGenie did send, so callers can pace themselves.
        let reason = response.header("x-ratelimit-reason").unwrap_or("unknown");
        let period = response.header("x-ratelimit-period-in-sec").unwrap_or("?");
        message = format!("{message} (rate limit {reason}, period {period}s)");
    }
    let message = accesslink_core::redact::truncate(message.trim(), MAX_MESSAGE);
    let kind = kind_of(response.status().as_u16(), code.as_deref(), &message);
    let mut v = VendorError::new(code, (!message.is_empty()).then_some(message));
    v.kind = kind;
    Some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_and_message_to_kind() {
        let rows = [
            (
                402,
                None,
                "Plan restriction",
                Some(ErrorKind::PermissionDenied),
            ),
            (
                404,
                Some("RequestNotProcessed"),
                "Request not processed",
                Some(ErrorKind::Unavailable),
            ),
            (404, None, "No user exists with identifier [x]", None),
            (
                409,
                None,
                "User with username [a@b.c] already exists",
                Some(ErrorKind::Conflict),
            ),
            (
                422,
                None,
                "Username already exists",
                Some(ErrorKind::Conflict),
            ),
            (
                422,
                None,
                "Request body is not processable. (user: User [x] not found)",
                Some(ErrorKind::NotFound),
            ),
            (
                422,
                None,
                "Request body is not processable. (role: must be set)",
                None,
            ),
            (429, Some("THROTTLED"), "Too many requests", None),
            (500, None, "Internal Server Error", None),
        ];
        for (status, code, message, want) in rows {
            assert_eq!(kind_of(status, code, message), want, "{status} {message}");
        }
    }
}
