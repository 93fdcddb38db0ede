//! ServiceNow's error answers as core errors.
//!
//! The Table API reports errors as `{"error":{"message":…,"detail":…},"status":"failure"}`
//! (fact sheet §1 "Errors, rate limits, quirks"); `detail` may be `null` or absent. The
//! kind comes from the HTTP status, with three refinements [`kind_of`] documents.

use accesslink_core::ErrorKind;
use accesslink_core::http::{Response, VendorError};
use serde::Deserialize;

/// How long a vendor message may get before it is cut. Generous on purpose: the text is
/// redacted by core *after* this parser returns, so a cut may only ever drop whole words
/// (half a token would no longer match the redactor and its start would be printed).
const MAX_MESSAGE: usize = 4096;

/// Cuts `s` to at most `max` characters at a whitespace boundary (see [`MAX_MESSAGE`]).
fn cut_at_word(s: &str, max: usize) -> String {
    let Some((at, _)) = s.char_indices().nth(max) else {
        return s.to_owned();
    };
    let head = &s[..at];
    let keep = head.rfind(char::is_whitespace).unwrap_or(0);
    format!("{}…", head[..keep].trim_end())
}

#[derive(Debug, Deserialize)]
struct Body {
    error: Option<Detail>,
}

#[derive(Debug, Deserialize)]
struct Detail {
    message: Option<String>,
    detail: Option<serde_json::Value>,
}

/// The message and detail of a ServiceNow error body, if the body is one.
pub fn error_body(body: &[u8]) -> Option<(Option<String>, Option<String>)> {
    let first = body.iter().find(|b| !b.is_ascii_whitespace())?;
    if *first != b'{' {
        return None;
    }
    let parsed: Body = serde_json::from_slice(body).ok()?;
    let e = parsed.error?;
    let detail = match e.detail {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(s)) => Some(s),
        Some(other) => Some(other.to_string()),
    };
    let clean = |s: String| {
        let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
        (!s.is_empty()).then(|| cut_at_word(&s, MAX_MESSAGE))
    };
    Some((e.message.and_then(clean), detail.and_then(clean)))
}

/// The error kind of a ServiceNow error, or `None` to go by the HTTP status
/// ([`ErrorKind::from_status`]: 400 InvalidInput, 401 Unauthenticated, 403
/// PermissionDenied, 404 NotFound, 429 RateLimited, 5xx Unavailable).
///
/// | status | message / detail | kind |
/// |---|---|---|
/// | 403 | detail `Error during insert of <table> (…)` | Conflict: an insert refused by a unique index (a `sys_user` with an existing `user_name`) or a business rule; the connector looks the row up to tell which |
/// | 403 | detail `Error during update of <table> (…)` | Conflict: an update a business rule aborted (not an ACL: permissions are not the problem) |
/// | 403 | detail `Data Policy Exception: … mandatory …` | InvalidInput: a mandatory field is missing (close code and notes on resolve) |
/// | 400 | message `Invalid table …` | InvalidInput (from the status) |
/// | 401 | `User Not Authenticated` | Unauthenticated (from the status; the client renews an OAuth token once first) |
pub fn kind_of(status: u16, message: Option<&str>, detail: Option<&str>) -> Option<ErrorKind> {
    let detail = detail.unwrap_or("");
    let message = message.unwrap_or("");
    match status {
        403 if detail.starts_with("Error during insert of")
            || detail.starts_with("Error during update of") =>
        {
            Some(ErrorKind::Conflict)
        }
        403 if detail.contains("Data Policy Exception") || message.contains("Data Policy") => {
            Some(ErrorKind::InvalidInput)
        }
        _ => None,
    }
}

/// The error parser installed on the client.
pub(crate) fn parse_error(response: &Response) -> Option<VendorError> {
    if response.status().is_success() {
        return None;
    }
    if let Some((message, detail)) = error_body(response.bytes()) {
        let kind = kind_of(
            response.status().as_u16(),
            message.as_deref(),
            detail.as_deref(),
        );
        let text = match (message, detail) {
            (Some(m), Some(d)) => Some(format!("{m}: {d}")),
            (m, d) => m.or(d),
        };
        let mut v = VendorError::new(None, text);
        v.kind = kind;
        return Some(v);
    }
    // A proxy's error page: keep its first line when it is not markup.
    let text = response.redacted_body(200);
    let first = text.lines().next().unwrap_or("").trim();
    (!first.is_empty() && !first.starts_with('<'))
        .then(|| VendorError::new(None, Some(first.to_owned())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_bodies_as_the_instance_sends_them() {
        let (m, d) = error_body(
            br#"{"error":{"message":"No Record found","detail":"Record doesn't exist or ACL restricts the record retrieval"},"status":"failure"}"#,
        )
        .unwrap();
        assert_eq!(m.as_deref(), Some("No Record found"));
        assert_eq!(
            d.as_deref(),
            Some("Record doesn't exist or ACL restricts the record retrieval")
        );
        let (m, d) = error_body(
            br#"{"error":{"message":"Invalid table x","detail":null},"status":"failure"}"#,
        )
        .unwrap();
        assert_eq!((m.as_deref(), d), (Some("Invalid table x"), None));
        // The data-policy detail has newlines; they are folded.
        let (_, d) = error_body(
            br#"{"error":{"message":"Operation Failed","detail":"Data Policy Exception: \n The following fields are mandatory: Resolution code\n"},"status":"failure"}"#,
        )
        .unwrap();
        assert_eq!(
            d.as_deref(),
            Some("Data Policy Exception: The following fields are mandatory: Resolution code")
        );
        // A long message is cut between words only: never through a token, whose start
        // would escape the redaction that runs afterwards.
        let long = format!(
            r#"{{"error":{{"message":"{} tok-secret-123","detail":null}},"status":"failure"}}"#,
            "x ".repeat(2046)
        );
        let (m, _) = error_body(long.as_bytes()).unwrap();
        let m = m.unwrap();
        assert!(m.ends_with("x…"), "{}", &m[m.len() - 20..]);
        assert!(!m.contains("tok"), "no part of the token survives a cut");
        assert!(error_body(br#"{"result":[]}"#).is_none());
        assert!(error_body(b"<html>login</html>").is_none());
        assert!(error_body(b"").is_none());
    }

    #[test]
    fn statuses_and_details_map_to_kinds() {
        let rows = [
            (
                403,
                Some("Operation Failed"),
                Some("Error during insert of sys_user (jdoe)"),
                Some(ErrorKind::Conflict),
            ),
            (
                403,
                Some("Operation Failed"),
                Some("Data Policy Exception: The following fields are mandatory: Resolution code"),
                Some(ErrorKind::InvalidInput),
            ),
            (
                403,
                Some("Operation Failed"),
                Some("Error during update of incident (INC0010001)"),
                Some(ErrorKind::Conflict),
            ),
            (
                403,
                Some("ACL Exception Insert Failed due to security constraints"),
                None,
                None,
            ),
            (400, Some("Invalid table x"), None, None),
            (401, Some("User Not Authenticated"), None, None),
            (
                500,
                Some("Error during insert of sys_user"),
                Some("Error during insert of sys_user (x)"),
                None,
            ),
        ];
        for (status, message, detail, want) in rows {
            assert_eq!(
                kind_of(status, message, detail),
                want,
                "{status} {detail:?}"
            );
        }
    }
}
