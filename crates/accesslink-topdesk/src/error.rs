//! TOPdesk's error answers as core errors (fact sheet §3.6).
//!
//! Error bodies come in three shapes, all read here:
//!
//! - older: an array of objects, `[{"message": "…"}]` (several messages are joined);
//! - newer: `{"errors": [{"errorCode": "item_visibility_invalid", "errorMessage": "…"}]}`
//!   (the first code is kept, the messages joined);
//! - a single object `{"message": "…"}`; and 5xx answers may be plain text.
//!
//! The kind follows the HTTP status (401 Unauthenticated, 403 PermissionDenied, 404
//! NotFound, 409 Conflict, 400 InvalidInput, 429 RateLimited, 5xx Unavailable), except
//! as [`kind_of`] says.

use accesslink_core::ErrorKind;
use accesslink_core::http::{Response, VendorError};
use serde_json::Value;

/// How long a vendor message may get before it is cut.
const MAX_MESSAGE: usize = 300;

/// The kind a TOPdesk error stands for when the status alone says too little, or `None`
/// to go by the status.
///
/// | status | message or code | kind |
/// |---|---|---|
/// | 400 | says "already exists" / "duplicate" / "not unique" | Conflict |
/// | 400 | says "archived" | Conflict (archived items cannot be changed: unarchive first) |
/// | 403 | says "archived" | Conflict |
pub fn kind_of(status: u16, message: &str) -> Option<ErrorKind> {
    let m = message.to_ascii_lowercase();
    match status {
        400 if m.contains("already exist")
            || m.contains("duplicate")
            || m.contains("not unique") =>
        {
            Some(ErrorKind::Conflict)
        }
        400 | 403 if m.contains("archived") => Some(ErrorKind::Conflict),
        _ => None,
    }
}

/// Code and message of a TOPdesk error body, whichever shape it has.
pub fn read_body(body: &[u8]) -> (Option<String>, Option<String>) {
    let text_of = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).map(str::to_owned);
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Array(items)) => {
            let messages: Vec<String> =
                items.iter().filter_map(|i| text_of(i, "message")).collect();
            (None, (!messages.is_empty()).then(|| messages.join("; ")))
        }
        Ok(obj @ Value::Object(_)) => {
            if let Some(Value::Array(errors)) = obj.get("errors") {
                let code = errors.iter().find_map(|e| text_of(e, "errorCode"));
                let messages: Vec<String> = errors
                    .iter()
                    .filter_map(|e| text_of(e, "errorMessage").or_else(|| text_of(e, "message")))
                    .collect();
                (code, (!messages.is_empty()).then(|| messages.join("; ")))
            } else {
                (text_of(&obj, "errorCode"), text_of(&obj, "message"))
            }
        }
        Ok(_) => (None, None),
        Err(_) => {
            let text = String::from_utf8_lossy(body);
            let text = text.trim();
            // Plain-text 5xx answers; an HTML page is left to the body snippet.
            let plain = !text.is_empty() && !text.starts_with('<');
            (None, plain.then(|| text.to_owned()))
        }
    }
}

/// The error parser installed on the client: any non-2xx answer is read for its code
/// and message.
pub(crate) fn parse_error(response: &Response) -> Option<VendorError> {
    if response.status().is_success() {
        return None;
    }
    let (code, message) = read_body(response.bytes());
    let message = message.map(|m| accesslink_core::redact::truncate(&m, MAX_MESSAGE));
    let kind = kind_of(response.status().as_u16(), message.as_deref().unwrap_or(""));
    let mut vendor = VendorError::new(code, message);
    if let Some(kind) = kind {
        vendor = vendor.kind(kind);
    }
    Some(vendor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_body_shape_is_read() {
        let (code, msg) =
            read_body(br#"[{"message":"Field 'x' is unknown"},{"message":"second"}]"#);
        assert_eq!(
            (code, msg.as_deref()),
            (None, Some("Field 'x' is unknown; second"))
        );
        let (code, msg) = read_body(
            br#"{"errors":[{"errorCode":"item_visibility_invalid","errorMessage":"not visible"}]}"#,
        );
        assert_eq!(code.as_deref(), Some("item_visibility_invalid"));
        assert_eq!(msg.as_deref(), Some("not visible"));
        let (_, msg) = read_body(br#"{"message":"Not found"}"#);
        assert_eq!(msg.as_deref(), Some("Not found"));
        let (_, msg) = read_body(b"Internal Server Error");
        assert_eq!(msg.as_deref(), Some("Internal Server Error"));
        assert_eq!(read_body(b"<html>login</html>"), (None, None));
        assert_eq!(read_body(b"null"), (None, None));
    }

    #[test]
    fn kinds() {
        assert_eq!(
            kind_of(400, "A person with this login already exists"),
            Some(ErrorKind::Conflict)
        );
        assert_eq!(
            kind_of(403, "The incident is archived"),
            Some(ErrorKind::Conflict)
        );
        assert_eq!(kind_of(400, "Field 'x' is unknown"), None);
        assert_eq!(kind_of(404, "archived"), None);
    }
}
