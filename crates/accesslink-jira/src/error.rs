//! Jira's error answers as core errors, and Jira's rate-limit headers as retry decisions.
//!
//! Platform errors are `{"errorMessages":["…"],"errors":{"field":"reason"}}` (sometimes
//! with `warningMessages`); JSM's are `{"errorMessage":"…","i18nErrorMessage":{…}}` (the
//! JSM shape is unverified, so both spellings are read); the OAuth token endpoint answers
//! `{"error":"invalid_grant","error_description":"…"}` (fact sheet §2 "Errors"). A 404
//! means the issue is missing **or** the caller may not see it: Jira does not tell the
//! two apart, and neither can we (`NotFound` either way, the message says so).
//!
//! Throttled answers (429, and some 503) carry `Retry-After` in seconds, which core
//! honours; Cloud also sends `X-RateLimit-Reset` as an ISO 8601 time (`2024-05-02T10:15Z`,
//! not a Unix time), read by [`JiraRateLimit`] when `Retry-After` is missing.

use std::time::{Duration, SystemTime};

use accesslink_core::ErrorKind;
use accesslink_core::http::{Response, RetryClassifier, RetryDecision, RetryKind, VendorError};
use accesslink_core::time::parse_local_datetime;
use http::{HeaderMap, StatusCode};
use serde_json::Value;

/// How long a vendor message may get before it is cut.
const MAX_MESSAGE: usize = 300;

/// The kind a Jira error stands for, or `None` to go by the HTTP status.
///
/// | status | message / code | kind |
/// |---|---|---|
/// | 400 | says "does not exist" / "not found" (a JQL key that is gone, an unknown account) | NotFound |
/// | 400 | says "already exists" / "already a member" | Conflict |
/// | 403 | `invalid_grant` (a used or revoked refresh token) | Unauthenticated |
/// | 403 | `X-Seraph-LoginReason: AUTHENTICATION_DENIED` (Data Center CAPTCHA after failed logins) | Unauthenticated |
pub fn kind_of(status: u16, code: Option<&str>, message: &str) -> Option<ErrorKind> {
    let m = message.to_ascii_lowercase();
    match (status, code) {
        (403, Some("invalid_grant" | "AUTHENTICATION_DENIED")) => Some(ErrorKind::Unauthenticated),
        (400, _) if m.contains("does not exist") || m.contains("not found") => {
            Some(ErrorKind::NotFound)
        }
        (400 | 409, _) if m.contains("already exist") || m.contains("already a member") => {
            Some(ErrorKind::Conflict)
        }
        _ => None,
    }
}

/// The error parser installed on the client.
pub(crate) fn parse_error(response: &Response) -> Option<VendorError> {
    if response.status().is_success() {
        return None;
    }
    let mut code = response
        .header("x-seraph-loginreason")
        .filter(|r| *r != "OK")
        .map(str::to_owned);
    let message = match serde_json::from_slice::<Value>(response.bytes()) {
        Ok(Value::Object(body)) => {
            let mut parts: Vec<String> = Vec::new();
            if let Some(Value::Array(msgs)) = body.get("errorMessages") {
                parts.extend(msgs.iter().filter_map(Value::as_str).map(str::to_owned));
            }
            if let Some(Value::Object(errors)) = body.get("errors") {
                parts.extend(errors.iter().map(|(k, v)| {
                    format!(
                        "{k}: {}",
                        v.as_str().map_or_else(|| v.to_string(), str::to_owned)
                    )
                }));
            }
            for key in ["errorMessage", "message", "error_description"] {
                if let Some(m) = body.get(key).and_then(Value::as_str) {
                    parts.push(m.to_owned());
                }
            }
            if let Some(e) = body.get("error").and_then(Value::as_str) {
                code = Some(e.to_owned());
            }
            parts.join("; ")
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
    let mut message = accesslink_core::redact::truncate(message.trim(), MAX_MESSAGE);
    let status = response.status().as_u16();
    if status == 404 {
        message = format!("{message} (Jira answers 404 for missing and for hidden issues alike)")
            .trim_start()
            .to_owned();
    }
    if status == 429 {
        if let Some(reason) = response.header("ratelimit-reason") {
            message = format!("{message} (rate limit: {reason})");
        }
    }
    let kind = kind_of(status, code.as_deref(), &message);
    let mut v = VendorError::new(code, (!message.is_empty()).then_some(message));
    v.kind = kind;
    Some(v)
}

/// Jira's rate-limit rules on top of core's: on a 429 or 503 without `Retry-After`,
/// wait until `X-RateLimit-Reset`, an ISO 8601 time on Cloud (`2024-05-02T10:15Z`,
/// `2024-05-02T10:15:30.000+0000`). A `Retry-After` wins (core reads it); a reset time in
/// the past or unreadable leaves the answer to core's back-off.
#[derive(Debug, Clone, Copy, Default)]
#[non_exhaustive]
pub struct JiraRateLimit;

impl RetryClassifier for JiraRateLimit {
    fn classify(
        &self,
        status: StatusCode,
        headers: &HeaderMap,
        now: SystemTime,
    ) -> Option<RetryDecision> {
        if !matches!(status.as_u16(), 429 | 503) || headers.contains_key("retry-after") {
            return None;
        }
        let raw = headers.get("x-ratelimit-reset")?.to_str().ok()?;
        let at = parse_datetime(raw)?;
        let wait = at.duration_since(now).unwrap_or(Duration::ZERO);
        Some(RetryDecision::RetryAfter(RetryKind::Throttling, wait))
    }
}

/// Parses Jira's date-times: `2024-05-02T09:14:11.000+0000` (the API's format, offset
/// without colon), RFC 3339 (`…+00:00`, `…Z`), and the short `2024-05-02T10:15Z` of
/// `X-RateLimit-Reset`. Fractions of seconds are dropped.
pub fn parse_datetime(raw: &str) -> Option<SystemTime> {
    let raw = raw.trim();
    let (date, rest) = raw.split_once('T')?;
    let zone_at = rest.find(['Z', 'z', '+', '-'])?;
    let (time, zone) = rest.split_at(zone_at);
    let offset_minutes = match zone {
        "Z" | "z" => 0,
        _ => {
            let sign = if zone.starts_with('-') { -1 } else { 1 };
            let digits: String = zone[1..].chars().filter(|c| *c != ':').collect();
            if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let h: i32 = digits[..2].parse().ok()?;
            let m: i32 = digits[2..].parse().ok()?;
            sign * (h * 60 + m)
        }
    };
    let time = time.split('.').next()?;
    let time = match time.matches(':').count() {
        1 => format!("{time}:00"),
        2 => time.to_owned(),
        _ => return None,
    };
    parse_local_datetime(&format!("{date} {time}"), offset_minutes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    #[test]
    fn status_and_message_to_kind() {
        let rows = [
            (
                400,
                None,
                "An issue with key 'ITSM-9' does not exist for field 'key'.",
                Some(ErrorKind::NotFound),
            ),
            (
                400,
                None,
                "summary: You must specify a summary of the issue.",
                None,
            ),
            (
                400,
                None,
                "User is already a member of 'jira-admins'.",
                Some(ErrorKind::Conflict),
            ),
            (
                403,
                Some("invalid_grant"),
                "Unknown or invalid refresh token.",
                Some(ErrorKind::Unauthenticated),
            ),
            (
                403,
                Some("AUTHENTICATION_DENIED"),
                "",
                Some(ErrorKind::Unauthenticated),
            ),
            (403, None, "You do not have permission", None),
            (
                404,
                None,
                "Issue does not exist or you do not have permission to see it.",
                None,
            ),
        ];
        for (status, code, message, want) in rows {
            assert_eq!(kind_of(status, code, message), want, "{status} {message}");
        }
    }

    #[test]
    fn jira_times_parse() {
        let base = parse_local_datetime("2024-05-02 09:14:11", 0).unwrap();
        for raw in [
            "2024-05-02T09:14:11.000+0000",
            "2024-05-02T11:14:11.412+0200",
            "2024-05-02T09:14:11Z",
            "2024-05-02T04:14:11-05:00",
        ] {
            assert_eq!(parse_datetime(raw), Some(base), "{raw}");
        }
        assert_eq!(
            parse_datetime("2024-05-02T10:15Z"),
            parse_local_datetime("2024-05-02 10:15:00", 0)
        );
        for bad in [
            "",
            "2024-05-02",
            "1767225600",
            "2024-05-02T10:15+01",
            "soon",
        ] {
            assert_eq!(parse_datetime(bad), None, "{bad}");
        }
    }

    #[test]
    fn reset_header_is_an_iso_time() {
        let now = parse_local_datetime("2024-05-02 10:14:30", 0).unwrap();
        let mut h = HeaderMap::new();
        h.insert(
            "x-ratelimit-reset",
            HeaderValue::from_static("2024-05-02T10:15Z"),
        );
        let d = JiraRateLimit.classify(StatusCode::TOO_MANY_REQUESTS, &h, now);
        assert_eq!(
            d,
            Some(RetryDecision::RetryAfter(
                RetryKind::Throttling,
                Duration::from_secs(30)
            ))
        );
        // Retry-After is core's to read; other statuses are not throttling.
        let mut with_ra = h.clone();
        with_ra.insert("retry-after", HeaderValue::from_static("5"));
        assert_eq!(
            JiraRateLimit.classify(StatusCode::TOO_MANY_REQUESTS, &with_ra, now),
            None
        );
        assert_eq!(
            JiraRateLimit.classify(StatusCode::BAD_REQUEST, &h, now),
            None
        );
        // An epoch number is not what Jira sends: left to core's back-off.
        h.insert("x-ratelimit-reset", HeaderValue::from_static("1714644900"));
        assert_eq!(
            JiraRateLimit.classify(StatusCode::TOO_MANY_REQUESTS, &h, now),
            None
        );
    }
}
