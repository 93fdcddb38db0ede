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
//! | the transient numbers (default 90, 91, 92, 93: server unreachable, RPC failed, timeouts), 552 (database error) | `Unavailable` |
//! | any other `ERROR` on an HTTP 500 (workflow filters, `Run Process` errors, required fields) | `InvalidInput`: a business refusal, not retried |
//! | other | from the HTTP status |
//!
//! The transport ([`ArRetry`]) reads the body of an HTTP 500: a transient number, or a
//! 500 without an AR message array (a proxy's or servlet container's page: an outage),
//! is retried with back-off like any server error; every other AR message is a
//! business refusal, sent once.

use std::sync::Arc;
use std::time::SystemTime;

use accesslink_core::ErrorKind;
use accesslink_core::http::{Response, RetryClassifier, RetryDecision, RetryKind, VendorError};
use http::{HeaderMap, StatusCode};
use serde::Deserialize;

/// The AR message numbers retried by default: 90 (cannot connect to the AR System
/// server), 91 (RPC call failed), 92 (timeout while the database was updated; "in most
/// cases the operation is still performed"), 93 (timeout during data retrieval, server
/// busy). Not in the vendor fact sheet; from AR error catalogues (92 confirmed by
/// public vendor notes), so configurable (`transient_errors`).
pub const DEFAULT_TRANSIENT: [i64; 4] = [90, 91, 92, 93];

/// Retry rules by AR message number. The client hands it each response's body: an HTTP
/// 500 carrying a business message number is final (repeating the request repeats the
/// refusal), one carrying a transient number (see [`DEFAULT_TRANSIENT`]) or no AR
/// message at all is a server error and retried within the request's budget. Other
/// statuses keep the standard policy (429, 502, 503, 504 retried).
///
/// Writes that are not safe to repeat (POST) are never repeated by the transport
/// whatever this says; creates look up their correlation value instead.
#[derive(Debug, Clone)]
pub struct ArRetry {
    transient: Arc<[i64]>,
}

impl Default for ArRetry {
    fn default() -> Self {
        ArRetry::new(DEFAULT_TRANSIENT)
    }
}

impl ArRetry {
    /// Retries HTTP 500 answers carrying one of `transient` (and bare 500s).
    pub fn new(transient: impl IntoIterator<Item = i64>) -> Self {
        ArRetry {
            transient: transient.into_iter().collect(),
        }
    }

    /// The decision for an HTTP 500 with `body`: `None` (standard rules: retried)
    /// when the body holds no AR message array or a transient number.
    pub fn decide(&self, body: &[u8]) -> Option<RetryDecision> {
        let number = first_error(body)?.message_number?;
        Some(if self.transient.contains(&number) {
            RetryDecision::Retry(RetryKind::ServerError)
        } else {
            RetryDecision::NoRetry
        })
    }
}

impl RetryClassifier for ArRetry {
    /// Status and headers alone cannot tell a refusal from an outage: standard rules.
    fn classify(
        &self,
        _status: StatusCode,
        _headers: &HeaderMap,
        _now: SystemTime,
    ) -> Option<RetryDecision> {
        None
    }

    fn classify_response(
        &self,
        status: StatusCode,
        _headers: &HeaderMap,
        body: &[u8],
        _now: SystemTime,
    ) -> Option<RetryDecision> {
        if status != StatusCode::INTERNAL_SERVER_ERROR {
            return None;
        }
        self.decide(body)
    }
}

/// The first `ERROR` message of an AR error array (else its first message).
fn first_error(body: &[u8]) -> Option<ArMessage> {
    let messages: Vec<ArMessage> = serde_json::from_slice(body).ok()?;
    let at = messages
        .iter()
        .position(|m| m.message_type.as_deref() == Some("ERROR"))
        .unwrap_or(0);
    messages.into_iter().nth(at)
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

/// The kind a message number implies, if it implies one (with the default transient
/// numbers).
pub fn kind_of(number: i64) -> Option<ErrorKind> {
    kind_with(number, &DEFAULT_TRANSIENT)
}

/// The kind a message number implies, with `transient` numbers as `Unavailable`.
pub fn kind_with(number: i64, transient: &[i64]) -> Option<ErrorKind> {
    if transient.contains(&number) {
        return Some(ErrorKind::Unavailable);
    }
    Some(match number {
        302 => ErrorKind::NotFound,
        623 | 624 | 9388 => ErrorKind::Unauthenticated,
        SESSION_ELSEWHERE | 552 => ErrorKind::Unavailable,
        382 => ErrorKind::Conflict,
        307 | 326 => ErrorKind::InvalidInput,
        _ => return None,
    })
}

/// The vendor error in a response: the first `ERROR` message of an AR error array.
pub fn parse_error(response: &Response) -> Option<VendorError> {
    parse_error_with(response, &DEFAULT_TRANSIENT)
}

/// [`parse_error`] with the configured transient numbers.
pub fn parse_error_with(response: &Response, transient: &[i64]) -> Option<VendorError> {
    if response.status().is_success() {
        return None;
    }
    let m = first_error(response.bytes())?;
    let text = match (&m.message_text, &m.message_appended_text) {
        (Some(t), Some(a)) if !a.is_empty() => Some(format!("{t}: {a}")),
        (t, a) => t.clone().or_else(|| a.clone()),
    };
    let mut v = VendorError::new(m.message_number.map(|n| n.to_string()), text);
    if let Some(kind) = m.message_number.and_then(|n| kind_with(n, transient)) {
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
        assert_eq!(kind_with(8939, &[8939]), Some(ErrorKind::Unavailable));
    }

    #[test]
    fn a_500_is_retried_by_its_message_number() {
        let now = SystemTime::now();
        let h = HeaderMap::new();
        let ar = ArRetry::default();
        let body = |n: i64| {
            format!(r#"[{{"messageType":"ERROR","messageNumber":{n},"messageText":"x"}}]"#)
        };
        let c = |status: u16, body: &str| {
            ar.classify_response(
                StatusCode::from_u16(status).unwrap(),
                &h,
                body.as_bytes(),
                now,
            )
        };
        // Business refusals: final.
        for n in [326, 1291053, 382, 302, 9093, 552, 8939] {
            assert_eq!(c(500, &body(n)), Some(RetryDecision::NoRetry), "{n}");
        }
        // Transient numbers: a server error, retried.
        for n in [90, 91, 92, 93] {
            assert_eq!(
                c(500, &body(n)),
                Some(RetryDecision::Retry(RetryKind::ServerError)),
                "{n}"
            );
        }
        // No AR array: left to the standard rules (a 500 is retried there).
        for raw in ["", "<html>Internal Server Error</html>", "{}", "[]"] {
            assert_eq!(c(500, raw), None, "{raw:?}");
        }
        // Other statuses: standard rules, whatever the body.
        assert_eq!(c(503, &body(326)), None);
        assert_eq!(c(400, &body(1587)), None);
        // Configured numbers replace the defaults.
        let custom = ArRetry::new([8760]);
        assert_eq!(
            custom.classify_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                &h,
                body(8760).as_bytes(),
                now
            ),
            Some(RetryDecision::Retry(RetryKind::ServerError))
        );
        assert_eq!(
            custom.classify_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                &h,
                body(92).as_bytes(),
                now
            ),
            Some(RetryDecision::NoRetry)
        );
    }
}
