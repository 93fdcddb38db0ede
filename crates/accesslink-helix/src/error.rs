//! AR System error arrays → core errors, by message number first, then HTTP status.
//!
//! A body is `[{"messageType":"ERROR","messageNumber":302,"messageText":"Entry does not
//! exist in database","messageAppendedText":"…"}]`. Many business errors come as HTTP
//! 500, so the number decides:
//!
//! | number | kind |
//! |---|---|
//! | 302 (entry does not exist) | `NotFound` |
//! | 623, 624, 9388 (authentication failed, token invalid) | `Unauthenticated` |
//! | 9093 (user connected from another machine / incompatible session) | `Unavailable` (retryable by the caller; set `serialize_per_account`) |
//! | 382 (duplicate value on a unique index) | `Conflict` |
//! | 307, 326 (required field missing) | `InvalidInput` |
//! | 90, 91, 92, 93, 552 (server unreachable or busy, database error) | `Unavailable` |
//! | any other `ERROR` on an HTTP 500 (workflow filters, `Run Process` errors, required fields) | `InvalidInput`: a business refusal, not retried |
//! | other | from the HTTP status |
//!
//! HTTP 500 is not retried by the transport ([`ArRetry`]).

use std::time::SystemTime;

use accesslink_core::ErrorKind;
use accesslink_core::http::{Response, RetryClassifier, RetryDecision, VendorError};
use http::{HeaderMap, StatusCode};
use serde::Deserialize;

/// AR answers business and workflow errors (and 9093) with HTTP 500: repeating the
/// request repeats the refusal, so a 500 is not retried by the transport. Gateway
/// answers (502, 503, 504) and 429 keep the standard policy.
#[derive(Debug, Clone, Copy, Default)]
pub struct ArRetry;

impl RetryClassifier for ArRetry {
    fn classify(
        &self,
        status: StatusCode,
        _headers: &HeaderMap,
        _now: SystemTime,
    ) -> Option<RetryDecision> {
        (status == StatusCode::INTERNAL_SERVER_ERROR).then_some(RetryDecision::NoRetry)
    }
}

/// One AR message.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ArMessage {
    /// `ERROR`, `WARNING` or `NOTE`.
    #[serde(default)]
    pub message_type: Option<String>,
    /// The AR message number.
    #[serde(default)]
    pub message_number: Option<i64>,
    /// The message.
    #[serde(default)]
    pub message_text: Option<String>,
    /// The detail (often the useful part).
    #[serde(default)]
    pub message_appended_text: Option<String>,
}

/// AR error 9093: the same user is connected elsewhere.
pub const SESSION_ELSEWHERE: i64 = 9093;

/// The kind a message number implies, if it implies one.
pub fn kind_of(number: i64) -> Option<ErrorKind> {
    Some(match number {
        302 => ErrorKind::NotFound,
        623 | 624 | 9388 => ErrorKind::Unauthenticated,
        SESSION_ELSEWHERE | 90..=93 | 552 => ErrorKind::Unavailable,
        382 => ErrorKind::Conflict,
        307 | 326 => ErrorKind::InvalidInput,
        _ => return None,
    })
}

/// The vendor error in a response: the first `ERROR` message of an AR error array.
pub fn parse_error(response: &Response) -> Option<VendorError> {
    if response.status().is_success() {
        return None;
    }
    let messages: Vec<ArMessage> = serde_json::from_slice(response.bytes()).ok()?;
    let m = messages
        .iter()
        .find(|m| m.message_type.as_deref() == Some("ERROR"))
        .or_else(|| messages.first())?;
    let text = match (&m.message_text, &m.message_appended_text) {
        (Some(t), Some(a)) if !a.is_empty() => Some(format!("{t}: {a}")),
        (t, a) => t.clone().or_else(|| a.clone()),
    };
    let mut v = VendorError::new(m.message_number.map(|n| n.to_string()), text);
    if let Some(kind) = m.message_number.and_then(kind_of) {
        v = v.kind(kind);
    } else if response.status().as_u16() == 500 && m.message_number.is_some() {
        // AR answers business and workflow errors with 500: retrying cannot help.
        v = v.kind(ErrorKind::InvalidInput);
    }
    Some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_decide_the_kind() {
        assert_eq!(kind_of(302), Some(ErrorKind::NotFound));
        assert_eq!(kind_of(9093), Some(ErrorKind::Unavailable));
        assert_eq!(kind_of(382), Some(ErrorKind::Conflict));
        assert_eq!(kind_of(8939), None);
    }
}
