//! GLPI's error answers and per-item write results, as core errors.
//!
//! GLPI reports errors as a two-element JSON array, `["ERROR_CODE", message]`, where the
//! message may be `null`, a sentence ending in `; view documentation in your browser at
//! …`, or — for partial bulk writes answered with `207` — the array of per-item results
//! (see `shared/glpi/REST.md`). Updates and deletes answer `200` with one
//! `{"<id>": true|false, "message": …}` object per item, so a refused item hides inside
//! a successful status; the connector checks every item and turns a refusal into an error.

use accesslink_core::http::{Response, VendorError};
use accesslink_core::{Error, ErrorKind, Result};
use serde_json::{Map, Value};

/// How long a vendor message may get before it is cut (bulk results can be long).
const MAX_MESSAGE: usize = 300;

/// The error kind a GLPI error code stands for, or `None` to go by the HTTP status.
///
/// | code | kind |
/// |---|---|
/// | `ERROR_SESSION_TOKEN_INVALID`, `ERROR_SESSION_TOKEN_MISSING`, `ERROR_GLPI_LOGIN*`, `ERROR_LOGIN_*`, `ERROR_*APP_TOKEN*` | Unauthenticated |
/// | `ERROR_RIGHT_MISSING`, `ERROR_NOT_ALLOWED_IP` | PermissionDenied |
/// | `ERROR_ITEM_NOT_FOUND` | NotFound |
/// | `ERROR_BAD_ARRAY`, `ERROR_JSON_PAYLOAD_*`, `ERROR_*NOT_FOUND_NOR_COMMONDBTM`, `ERROR_METHOD_NOT_ALLOWED`, `ERROR_NOT_DELETED` | InvalidInput |
/// | `ERROR_GLPI_ADD` / `_UPDATE` / `_DELETE` saying "already exists" or "Duplicate entry" | Conflict |
/// | `ERROR_GLPI_ADD` / `_UPDATE` / `_DELETE` saying "Item not found" | NotFound |
/// | `ERROR_GLPI_PARTIAL_*` | Other (some items were written, some not) |
/// | `ERROR_SQL` | Unavailable |
pub fn kind_of(code: &str, message: Option<&str>) -> Option<ErrorKind> {
    let message = message.unwrap_or("");
    let kind = match code {
        "ERROR_SESSION_TOKEN_INVALID"
        | "ERROR_SESSION_TOKEN_MISSING"
        | "ERROR_GLPI_LOGIN"
        | "ERROR_GLPI_LOGIN_USER_TOKEN"
        | "ERROR_LOGIN_PARAMETERS_MISSING"
        | "ERROR_LOGIN_WITH_CREDENTIALS_DISABLED"
        | "ERROR_WRONG_APP_TOKEN_PARAMETER"
        | "ERROR_APP_TOKEN_PARAMETERS_MISSING" => ErrorKind::Unauthenticated,
        "ERROR_RIGHT_MISSING" | "ERROR_NOT_ALLOWED_IP" => ErrorKind::PermissionDenied,
        "ERROR_ITEM_NOT_FOUND" => ErrorKind::NotFound,
        "ERROR_BAD_ARRAY"
        | "ERROR_JSON_PAYLOAD_INVALID"
        | "ERROR_JSON_PAYLOAD_FORBIDDEN"
        | "ERROR_RESOURCE_NOT_FOUND_NOR_COMMONDBTM"
        | "ERROR_ITEMTYPE_NOT_FOUND_NOR_COMMONDBTM"
        | "ERROR_RESOURCE_MISSING"
        | "ERROR_METHOD_NOT_ALLOWED"
        | "ERROR_NOT_DELETED"
        | "ERROR_RANGE_EXCEED_TOTAL" => ErrorKind::InvalidInput,
        "ERROR_GLPI_ADD" | "ERROR_GLPI_UPDATE" | "ERROR_GLPI_DELETE"
            if message.contains("already exists") || message.contains("Duplicate entry") =>
        {
            ErrorKind::Conflict
        }
        "ERROR_GLPI_ADD" | "ERROR_GLPI_UPDATE" | "ERROR_GLPI_DELETE"
            if message.contains("Item not found") =>
        {
            ErrorKind::NotFound
        }
        c if c.starts_with("ERROR_GLPI_PARTIAL_") => ErrorKind::Other,
        "ERROR_SQL" => ErrorKind::Unavailable,
        _ => return None,
    };
    Some(kind)
}

/// Whether a body looks like `["ERROR…`: the cheap test before parsing it.
fn looks_like_error(body: &[u8]) -> bool {
    let start = body
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(body.len());
    let rest = &body[start..];
    rest.starts_with(b"[") && {
        let inner = &rest[1..];
        let at = inner
            .iter()
            .position(|b| !b.is_ascii_whitespace())
            .unwrap_or(inner.len());
        inner[at..].starts_with(b"\"ERROR")
    }
}

/// The code and message of a `["ERROR_…", message]` body.
pub(crate) fn error_array(body: &[u8]) -> Option<(String, Option<String>)> {
    if !looks_like_error(body) {
        return None;
    }
    let Ok(Value::Array(parts)) = serde_json::from_slice::<Value>(body) else {
        return None;
    };
    let code = parts.first()?.as_str()?.to_owned();
    let message = match parts.get(1) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(strip_doc_link(s).to_owned()),
        Some(other) => Some(other.to_string()),
    };
    let message = message
        .map(|m| accesslink_core::redact::truncate(&m, MAX_MESSAGE))
        .filter(|m| !m.is_empty());
    Some((code, message))
}

/// Drops GLPI's `; view documentation in your browser at <url>/#ERROR_…` suffix.
fn strip_doc_link(message: &str) -> &str {
    match message.find("; view documentation in your browser") {
        Some(at) => message[..at].trim_end(),
        None => message,
    }
}

/// The error parser installed on the client: every `["ERROR_…", …]` body is a vendor
/// error, whatever the status (a `207` partial write is one too).
pub(crate) fn parse_error(response: &Response) -> Option<VendorError> {
    if let Some((code, message)) = error_array(response.bytes()) {
        let kind = kind_of(&code, message.as_deref());
        let mut v = VendorError::new(Some(code), message);
        v.kind = kind;
        return Some(v);
    }
    if response.status().is_success() {
        return None;
    }
    // A proxy's or PHP's own error page: keep its first line as the message.
    let text = response.redacted_body(200);
    let first = text.lines().next().unwrap_or("").trim();
    (!first.is_empty() && !first.starts_with('<'))
        .then(|| VendorError::new(None, Some(first.to_owned())))
}

/// Whether the session is gone and logging in again may help: GLPI answers a killed,
/// expired or unknown session with `401 ["ERROR_SESSION_TOKEN_INVALID", …]` and a
/// missing one with `400 ["ERROR_SESSION_TOKEN_MISSING", …]`. A bare 401 without a GLPI
/// code (a reverse proxy's) is treated the same. `ERROR_RIGHT_MISSING`, which GLPI 9.x
/// sends with 401, is not: a new session has the same rights.
pub(crate) fn is_session_failure(response: &Response) -> bool {
    let status = response.status().as_u16();
    if status != 401 && status != 400 {
        return false;
    }
    match error_array(response.bytes()) {
        Some((code, _)) => {
            code == "ERROR_SESSION_TOKEN_INVALID" || code == "ERROR_SESSION_TOKEN_MISSING"
        }
        None => status == 401,
    }
}

/// Checks the per-item results of an update or delete: every id asked for must be
/// answered `true`. A missing or `false` item is an error naming the item and GLPI's
/// message — never a silent success.
pub(crate) fn check_items(response: &Response, op: WriteOp, ids: &[u64]) -> Result<()> {
    let results: Vec<Map<String, Value>> = response.json()?;
    let mut failures = Vec::new();
    for id in ids {
        let key = id.to_string();
        let entry = results.iter().find(|r| r.contains_key(&key));
        let ok = entry.and_then(|r| r.get(&key)).is_some_and(truthy);
        if !ok {
            let message = entry
                .and_then(|r| r.get("message"))
                .and_then(Value::as_str)
                .filter(|m| !m.is_empty())
                .unwrap_or(if entry.is_some() {
                    "refused without a message"
                } else {
                    "missing from GLPI's answer"
                });
            failures.push(format!("{key}: {message}"));
        }
    }
    if failures.is_empty() {
        return Ok(());
    }
    let all = failures.join("; ");
    let kind = if all.contains("not found") || all.contains("missing from") {
        ErrorKind::NotFound
    } else if all.contains("permission") {
        ErrorKind::PermissionDenied
    } else {
        ErrorKind::Other
    };
    let detail = format!(
        "{} of {} item(s) not {}: {}",
        failures.len(),
        ids.len(),
        op.past(),
        accesslink_core::redact::truncate(&all, MAX_MESSAGE)
    );
    Err(response.api_error(Some(kind), Some(op.code().to_owned()), Some(detail)))
}

fn truthy(v: &Value) -> bool {
    match v {
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_u64() == Some(1),
        Value::String(s) => s == "1" || s == "true",
        _ => false,
    }
}

/// Which write a per-item result belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WriteOp {
    Update,
    Delete,
}

impl WriteOp {
    fn code(self) -> &'static str {
        match self {
            WriteOp::Update => "ERROR_GLPI_PARTIAL_UPDATE",
            WriteOp::Delete => "ERROR_GLPI_PARTIAL_DELETE",
        }
    }

    fn past(self) -> &'static str {
        match self {
            WriteOp::Update => "updated",
            WriteOp::Delete => "deleted",
        }
    }
}

/// Turns a failed login into an [`Error::Auth`] that says who was refused.
pub(crate) fn login_refused(who: &str, e: Error) -> Error {
    if e.kind() != ErrorKind::Unauthenticated {
        return e;
    }
    let message = match e.vendor_code() {
        Some("ERROR_WRONG_APP_TOKEN_PARAMETER" | "ERROR_APP_TOKEN_PARAMETERS_MISSING") => {
            "GLPI refused the App-Token (check the API client's token and IP range)".to_owned()
        }
        Some("ERROR_LOGIN_WITH_CREDENTIALS_DISABLED") => {
            "GLPI does not allow login with credentials (Setup → General → API)".to_owned()
        }
        _ => format!("GLPI refused the login of {who}"),
    };
    Error::Auth {
        message,
        source: Some(Box::new(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_arrays_as_the_real_server_sends_them() {
        let (code, msg) = error_array(br#"["ERROR_GLPI_UPDATE",null]"#).unwrap();
        assert_eq!((code.as_str(), msg), ("ERROR_GLPI_UPDATE", None));
        let (code, msg) = error_array(
            br#"["ERROR_RANGE_EXCEED_TOTAL","Provided range exceed total count of data: 56; view documentation in your browser at http://127.0.0.1:8081/apirest.php/#ERROR_RANGE_EXCEED_TOTAL"]"#,
        )
        .unwrap();
        assert_eq!(code, "ERROR_RANGE_EXCEED_TOTAL");
        assert_eq!(
            msg.as_deref(),
            Some("Provided range exceed total count of data: 56")
        );
        let (code, msg) = error_array(
            br#"["ERROR_GLPI_PARTIAL_DELETE",[{"8":true,"message":""},{"12345":false,"message":"Item not found"}]]"#,
        )
        .unwrap();
        assert_eq!(code, "ERROR_GLPI_PARTIAL_DELETE");
        assert!(msg.unwrap().contains("Item not found"));
        assert!(error_array(br#"[{"id":2,"name":"x"}]"#).is_none());
        assert!(error_array(br#"["not an error"]"#).is_none());
        assert!(error_array(b"true").is_none());
        assert!(error_array(b"  [ \"ERROR_SQL\" , \"boom\"]").is_some());
    }

    #[test]
    fn codes_map_to_kinds() {
        let rows = [
            (
                "ERROR_SESSION_TOKEN_INVALID",
                None,
                Some(ErrorKind::Unauthenticated),
            ),
            (
                "ERROR_WRONG_APP_TOKEN_PARAMETER",
                None,
                Some(ErrorKind::Unauthenticated),
            ),
            (
                "ERROR_GLPI_LOGIN_USER_TOKEN",
                None,
                Some(ErrorKind::Unauthenticated),
            ),
            (
                "ERROR_RIGHT_MISSING",
                None,
                Some(ErrorKind::PermissionDenied),
            ),
            ("ERROR_ITEM_NOT_FOUND", None, Some(ErrorKind::NotFound)),
            ("ERROR_BAD_ARRAY", None, Some(ErrorKind::InvalidInput)),
            (
                "ERROR_GLPI_ADD",
                Some("Unable to add. The user already exists."),
                Some(ErrorKind::Conflict),
            ),
            (
                "ERROR_GLPI_ADD",
                Some("Duplicate entry '7-1' for key 'unicity'"),
                Some(ErrorKind::Conflict),
            ),
            ("ERROR_GLPI_ADD", Some("You don't have permission"), None),
            (
                "ERROR_GLPI_DELETE",
                Some("Item not found"),
                Some(ErrorKind::NotFound),
            ),
            ("ERROR_GLPI_PARTIAL_UPDATE", None, Some(ErrorKind::Other)),
            ("ERROR_SQL", None, Some(ErrorKind::Unavailable)),
            ("ERROR_SOMETHING_NEW", None, None),
        ];
        for (code, msg, want) in rows {
            assert_eq!(kind_of(code, msg), want, "{code} {msg:?}");
        }
    }
}
