//! Salesforce's error answers as core errors.
//!
//! REST errors are a JSON **array** `[{"message","errorCode","fields"}]` (fact sheet §3
//! "Errors, limits, quirks"); the token endpoint answers
//! `{"error":"invalid_grant","error_description":"…"}`. The first item's `errorCode` is
//! the vendor code; the kind follows [`kind_of`].

use accesslink_core::ErrorKind;
use accesslink_core::http::{Response, VendorError};
use serde_json::Value;

/// How long a vendor message may get before it is cut.
const MAX_MESSAGE: usize = 300;

/// The kind an `errorCode` stands for, or `None` to go by the HTTP status.
///
/// | errorCode | kind |
/// |---|---|
/// | `REQUEST_LIMIT_EXCEEDED` (403, no `Retry-After`: the org's daily quota or too many long requests) | RateLimited |
/// | `INVALID_SESSION_ID` | Unauthenticated |
/// | `NOT_FOUND`, `ENTITY_IS_DELETED`, `INVALID_CROSS_REFERENCE_KEY` | NotFound |
/// | `DUPLICATE_VALUE` | Conflict |
/// | `INSUFFICIENT_ACCESS…`, `API_DISABLED_FOR_ORG` | PermissionDenied |
/// | `MALFORMED_QUERY`, `INVALID_FIELD`, `INVALID_TYPE`, `REQUIRED_FIELD_MISSING`, `FIELD_CUSTOM_VALIDATION_EXCEPTION`, `INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST` | InvalidInput |
pub fn kind_of(code: &str) -> Option<ErrorKind> {
    Some(match code {
        "REQUEST_LIMIT_EXCEEDED" => ErrorKind::RateLimited,
        "INVALID_SESSION_ID" => ErrorKind::Unauthenticated,
        "NOT_FOUND" | "ENTITY_IS_DELETED" | "INVALID_CROSS_REFERENCE_KEY" => ErrorKind::NotFound,
        "DUPLICATE_VALUE" => ErrorKind::Conflict,
        "API_DISABLED_FOR_ORG" => ErrorKind::PermissionDenied,
        c if c.starts_with("INSUFFICIENT_ACCESS") => ErrorKind::PermissionDenied,
        "MALFORMED_QUERY"
        | "INVALID_FIELD"
        | "INVALID_TYPE"
        | "REQUIRED_FIELD_MISSING"
        | "FIELD_CUSTOM_VALIDATION_EXCEPTION"
        | "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
        | "STRING_TOO_LONG" => ErrorKind::InvalidInput,
        _ => return None,
    })
}

fn first_line(response: &Response) -> String {
    let text = response.redacted_body(200);
    let first = text.lines().next().unwrap_or("").trim().to_owned();
    if first.starts_with('<') {
        String::new()
    } else {
        first
    }
}

/// The error parser of API calls: the error array's items, code from the first.
pub(crate) fn parse_error(response: &Response) -> Option<VendorError> {
    if response.status().is_success() {
        return None;
    }
    let (code, message) = match serde_json::from_slice::<Value>(response.bytes()) {
        Ok(Value::Array(items)) => {
            let code = items
                .iter()
                .find_map(|i| i.get("errorCode").and_then(Value::as_str))
                .map(str::to_owned);
            let parts: Vec<String> = items
                .iter()
                .map(|i| {
                    let m = i.get("message").and_then(Value::as_str).unwrap_or("");
                    match i.get("fields").and_then(Value::as_array) {
                        Some(f) if !f.is_empty() => {
                            let names: Vec<&str> = f.iter().filter_map(Value::as_str).collect();
                            format!("{m} (fields: {})", names.join(", "))
                        }
                        _ => m.to_owned(),
                    }
                })
                .collect();
            (code, parts.join("; "))
        }
        Ok(Value::Object(o)) => (
            o.get("errorCode")
                .or_else(|| o.get("error"))
                .and_then(Value::as_str)
                .map(str::to_owned),
            o.get("message")
                .or_else(|| o.get("error_description"))
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned(),
        ),
        _ => (None, first_line(response)),
    };
    let message = accesslink_core::redact::redact_text(&accesslink_core::redact::truncate(
        message.trim(),
        MAX_MESSAGE,
    ));
    let mut v = VendorError::new(code.clone(), (!message.is_empty()).then_some(message));
    v.kind = code.as_deref().and_then(kind_of);
    Some(v)
}

/// The error parser of the token endpoint: `error` is the code, and any refusal (400
/// `invalid_grant`, `invalid_client`, `invalid_client_id`, 401) is `Unauthenticated`.
pub(crate) fn parse_token_error(response: &Response) -> Option<VendorError> {
    if response.status().is_success() {
        return None;
    }
    let status = response.status().as_u16();
    let (code, message) = match serde_json::from_slice::<Value>(response.bytes()) {
        Ok(Value::Object(o)) => (
            o.get("error").and_then(Value::as_str).map(str::to_owned),
            o.get("error_description")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned(),
        ),
        _ => (None, first_line(response)),
    };
    let message = accesslink_core::redact::redact_text(&accesslink_core::redact::truncate(
        message.trim(),
        MAX_MESSAGE,
    ));
    let mut v = VendorError::new(code.clone(), (!message.is_empty()).then_some(message));
    if code.is_some() && matches!(status, 400 | 401 | 403) {
        v.kind = Some(ErrorKind::Unauthenticated);
    }
    Some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes() {
        assert_eq!(
            kind_of("REQUEST_LIMIT_EXCEEDED"),
            Some(ErrorKind::RateLimited)
        );
        assert_eq!(
            kind_of("INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY"),
            Some(ErrorKind::PermissionDenied)
        );
        assert_eq!(kind_of("DUPLICATE_VALUE"), Some(ErrorKind::Conflict));
        assert_eq!(kind_of("SOMETHING_NEW"), None);
    }
}
