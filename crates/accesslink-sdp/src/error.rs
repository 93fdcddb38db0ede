//! ServiceDesk Plus error answers as core errors (fact sheet §4.8).
//!
//! Success is decided by `response_status` first and the HTTP status second: the envelope
//! is an object on single-entity answers and an **array** on lists, and a failure may
//! arrive with HTTP 200. `status_code` 2000 is success; 4000 is failure with the detail
//! in `messages[]` (`{"status_code":4012,"fields":[…]}`, or `{"status_code":4001,"field":…,"message":…}`).

use accesslink_core::ErrorKind;
use accesslink_core::http::{Response, VendorError};
use serde_json::Value;

/// How long a vendor message may get before it is cut.
const MAX_MESSAGE: usize = 300;

/// The kind a detail code stands for (`None`: go by the HTTP status).
///
/// | code | meaning | kind |
/// |---|---|---|
/// | 4001 | id/name does not exist (HTTP 404) | NotFound |
/// | 4001 | id/name does not exist or not settable (otherwise) | InvalidInput |
/// | 4002 | forbidden / not allowed / missing scope | PermissionDenied |
/// | 4005, 4008 | reference exists / not unique | Conflict |
/// | 4007 | invalid URL / resource not found | NotFound |
/// | 4009, 4012, 4014, 4016, 4021 | non-editable, mandatory missing, read-only, time mismatch, type mismatch | InvalidInput |
/// | 4015 | API rate limit reached | RateLimited |
/// | 4022 | invalid API key / token | Unauthenticated |
/// | 7001 | not allowed by licence | PermissionDenied |
pub fn kind_of(http_status: u16, code: u32) -> Option<ErrorKind> {
    Some(match code {
        4001 if http_status == 404 => ErrorKind::NotFound,
        4001 | 4009 | 4012 | 4014 | 4016 | 4021 => ErrorKind::InvalidInput,
        4002 | 7001 => ErrorKind::PermissionDenied,
        4005 | 4008 => ErrorKind::Conflict,
        4007 => ErrorKind::NotFound,
        4015 => ErrorKind::RateLimited,
        4022 => ErrorKind::Unauthenticated,
        _ => return None,
    })
}

fn code_of(v: &Value) -> Option<u32> {
    match v.get("status_code")? {
        Value::Number(n) => n.as_u64().and_then(|n| u32::try_from(n).ok()),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// The failed `response_status` of a body: `(detail code, message)`; `None` when the body
/// reports success or has no envelope.
pub fn failure_of(body: &Value) -> Option<(u32, String)> {
    let status = body.get("response_status")?;
    let entries: Vec<&Value> = match status {
        Value::Array(a) => a.iter().collect(),
        other => vec![other],
    };
    for e in entries {
        let top = code_of(e).unwrap_or(0);
        let failed = top >= 4000
            || e.get("status")
                .and_then(Value::as_str)
                .is_some_and(|s| s.eq_ignore_ascii_case("failed"));
        if !failed {
            continue;
        }
        let msgs: Vec<&Value> = e
            .get("messages")
            .and_then(Value::as_array)
            .map(|m| m.iter().collect())
            .unwrap_or_default();
        let detail = msgs.iter().find_map(|m| code_of(m)).unwrap_or(top);
        let mut parts = Vec::new();
        for m in &msgs {
            if let Some(t) = m.get("message").and_then(Value::as_str) {
                parts.push(t.to_owned());
            }
            if let Some(f) = m.get("field").and_then(Value::as_str) {
                parts.push(format!("field {f}"));
            }
            if let Some(Value::Array(fs)) = m.get("fields") {
                let names: Vec<&str> = fs.iter().filter_map(Value::as_str).collect();
                parts.push(format!("fields {}", names.join(", ")));
            }
        }
        return Some((detail, parts.join("; ")));
    }
    None
}

/// True when a response says the credential is bad: HTTP 401, or status code 4022 in the
/// body whatever the HTTP status.
pub(crate) fn is_auth_failure(response: &Response) -> bool {
    if response.status().as_u16() == 401 {
        return true;
    }
    serde_json::from_slice::<Value>(response.bytes())
        .ok()
        .and_then(|b| failure_of(&b))
        .is_some_and(|(code, _)| code == 4022)
}

/// The error parser installed on the client: HTTP-200 failures included.
pub(crate) fn parse_error(response: &Response) -> Option<VendorError> {
    let status = response.status().as_u16();
    let body = serde_json::from_slice::<Value>(response.bytes()).ok();
    let failure = body.as_ref().and_then(failure_of);
    if response.status().is_success() && failure.is_none() {
        return None;
    }
    let (code, message) = match failure {
        Some((code, message)) => (Some(code), message),
        None => {
            let text = response.redacted_body(200);
            let first = text.lines().next().unwrap_or("").trim().to_owned();
            (
                None,
                if first.starts_with('<') {
                    String::new()
                } else {
                    first
                },
            )
        }
    };
    let message = accesslink_core::redact::truncate(message.trim(), MAX_MESSAGE);
    let mut v = VendorError::new(
        code.map(|c| c.to_string()),
        (!message.is_empty()).then_some(message),
    );
    v.kind = code.and_then(|c| kind_of(status, c)).or_else(|| {
        // An HTTP-200 failure with an unknown code is still a failure.
        (status < 300).then_some(ErrorKind::Other)
    });
    Some(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn envelopes_object_and_array() {
        let ok = json!({"response_status": {"status_code": 2000, "status": "success"}});
        assert_eq!(failure_of(&ok), None);
        let ok_list = json!({"response_status": [{"status_code": 2000, "status": "success"}]});
        assert_eq!(failure_of(&ok_list), None);
        let missing = json!({"response_status": {"status_code": 4000, "status": "failed",
            "messages": [{"status_code": 4012, "type": "failed", "fields": ["subcategory", "requester"]}]}});
        assert_eq!(
            failure_of(&missing),
            Some((4012, "fields subcategory, requester".into()))
        );
        let in_list = json!({"response_status": [{"status_code": 4000, "status": "failed",
            "messages": [{"status_code": "4022", "message": "Invalid API key"}]}]});
        assert_eq!(failure_of(&in_list), Some((4022, "Invalid API key".into())));
        assert_eq!(failure_of(&json!({})), None);
    }

    #[test]
    fn codes_to_kinds() {
        let rows = [
            (404, 4001, Some(ErrorKind::NotFound)),
            (400, 4001, Some(ErrorKind::InvalidInput)),
            (200, 4012, Some(ErrorKind::InvalidInput)),
            (403, 4002, Some(ErrorKind::PermissionDenied)),
            (400, 4008, Some(ErrorKind::Conflict)),
            (404, 4007, Some(ErrorKind::NotFound)),
            (429, 4015, Some(ErrorKind::RateLimited)),
            (200, 4022, Some(ErrorKind::Unauthenticated)),
            (400, 7001, Some(ErrorKind::PermissionDenied)),
            (500, 4004, None),
        ];
        for (s, c, want) in rows {
            assert_eq!(kind_of(s, c), want, "{s} {c}");
        }
    }
}
