//! A fully read, size-capped response, and JSON decoding that explains itself.

use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderMap, StatusCode, header::CONTENT_TYPE};
use serde::de::DeserializeOwned;

use crate::error::{ApiError, Error, ErrorKind, ProtocolError, RateLimitInfo, Result};
use crate::redact;

use super::client::Redactor;

/// How much of a body an error keeps.
const ERROR_BODY_CHARS: usize = 1024;
/// How much of a body a protocol error shows.
const SNIPPET_CHARS: usize = 160;

/// A response whose body has been read (within the client's size cap).
#[derive(Clone)]
pub struct Response {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
    pub(crate) request: String,
    pub(crate) attempts: u32,
    pub(crate) redactor: Arc<Redactor>,
}

impl std::fmt::Debug for Response {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Response")
            .field("request", &self.request)
            .field("status", &self.status)
            .field("body_len", &self.body.len())
            .field("attempts", &self.attempts)
            .finish_non_exhaustive()
    }
}

impl Response {
    /// The status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// One header as a string, if present and valid.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The raw body.
    pub fn bytes(&self) -> &Bytes {
        &self.body
    }

    /// The body as text (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// `METHOD /path` of the request that produced this response.
    pub fn request_label(&self) -> &str {
        &self.request
    }

    /// How many attempts it took.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// The content type, if any.
    pub fn content_type(&self) -> Option<&str> {
        self.header(CONTENT_TYPE.as_str())
    }

    /// Rate-limit headers (`Retry-After`, `X-RateLimit-*`, `RateLimit-*`).
    pub fn rate_limit(&self) -> RateLimitInfo {
        let num = |names: &[&str]| {
            names
                .iter()
                .find_map(|n| self.header(n))
                .and_then(|v| v.trim().parse::<u64>().ok())
        };
        RateLimitInfo {
            retry_after: super::retry::retry_after(&self.headers, std::time::SystemTime::now()),
            limit: num(&["x-ratelimit-limit", "ratelimit-limit"]),
            remaining: num(&["x-ratelimit-remaining", "ratelimit-remaining"]),
            reset: ["x-ratelimit-reset", "ratelimit-reset"]
                .iter()
                .find_map(|n| self.header(n))
                .map(str::to_owned),
        }
    }

    /// Decodes the body as JSON into `T`.
    ///
    /// An empty, HTML, truncated or malformed body, or JSON of the wrong shape, is an
    /// [`Error::Protocol`] that names the content type, the JSON path where decoding
    /// stopped, and the start of the body (secrets redacted).
    pub fn json<T: DeserializeOwned>(&self) -> Result<T> {
        decode_json(
            &self.body,
            self.content_type(),
            &self.request,
            &self.redactor,
        )
    }

    /// The body as a redacted, truncated string, for error messages.
    pub fn redacted_body(&self, max_chars: usize) -> String {
        let text = String::from_utf8_lossy(&self.body);
        redact::truncate(&self.redactor.redact(&text), max_chars)
    }

    /// An [`ApiError`] describing this response, with vendor code and message when
    /// the caller parsed them.
    pub fn api_error(
        &self,
        kind: Option<ErrorKind>,
        code: Option<String>,
        message: Option<String>,
    ) -> Error {
        Error::from(ApiError {
            kind: kind.unwrap_or_else(|| ErrorKind::from_status(self.status)),
            status: self.status,
            code,
            message: message.map(|m| self.redactor.redact(&m)),
            request: self.request.clone(),
            body: self.redacted_body(ERROR_BODY_CHARS),
            rate_limit: self.rate_limit(),
            attempts: self.attempts,
        })
    }
}

/// Decodes JSON with a precise error: see [`Response::json`].
pub(crate) fn decode_json<T: DeserializeOwned>(
    body: &[u8],
    content_type: Option<&str>,
    request: &str,
    redactor: &Redactor,
) -> Result<T> {
    let protocol =
        |message: String, json_path: Option<String>, source: Option<serde_json::Error>| {
            let text = String::from_utf8_lossy(body);
            let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
            Error::Protocol(Box::new(ProtocolError {
                // serde quotes offending values ("invalid type: string …"): redact.
                message: redactor.redact(&message),
                request: request.to_owned(),
                content_type: content_type.map(str::to_owned),
                json_path,
                snippet: redact::truncate(&redactor.redact(&flat), SNIPPET_CHARS),
                source,
            }))
        };
    let first = body.iter().find(|b| !b.is_ascii_whitespace()).copied();
    let Some(first) = first else {
        return Err(protocol(
            "expected JSON, got an empty body".into(),
            None,
            None,
        ));
    };
    let declared_json = content_type.is_some_and(|ct| ct.to_ascii_lowercase().contains("json"));
    if first == b'<' {
        return Err(protocol(
            "expected JSON, got HTML or XML (a proxy or login page?)".into(),
            None,
            None,
        ));
    }
    if !declared_json && !matches!(first, b'{' | b'[' | b'"') && !first.is_ascii_digit() {
        return Err(protocol(
            "expected JSON, got something else".into(),
            None,
            None,
        ));
    }
    // JSON is UTF-8 (RFC 8259 §8.1). serde_json checks only the strings it keeps, so a
    // body whose bad bytes sit in fields the model ignores would pass as a good (often
    // empty) page. Checked once here, and serde_json's `from_str` then skips its own
    // checks, so this costs nothing on good bodies.
    let text = match std::str::from_utf8(body) {
        Ok(text) => text,
        Err(e) => {
            return Err(protocol(
                format!(
                    "the body is not UTF-8 (invalid byte at offset {})",
                    e.valid_up_to()
                ),
                None,
                None,
            ));
        }
    };
    // Fast path: plain serde_json. Only when it fails is the body decoded again with
    // path tracking, which costs about a fifth more on large pages.
    if let Ok(v) = serde_json::from_str::<T>(text) {
        return Ok(v);
    }
    let mut de = serde_json::Deserializer::from_str(text);
    let decoded = serde_path_to_error::deserialize::<_, T>(&mut de)
        .map_err(|err| {
            let path = err.path().to_string();
            (Some(path).filter(|p| p != "."), err.into_inner())
        })
        .and_then(|v| de.end().map(|()| v).map_err(|e| (None, e)));
    decoded.map_err(|(path, inner)| {
        let what = if inner.is_eof() {
            "truncated JSON body"
        } else if inner.is_syntax() {
            "malformed JSON body"
        } else {
            "JSON body of an unexpected shape"
        };
        protocol(format!("{what}: {inner}"), path, Some(inner))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Outer {
        result: Vec<Inner>,
    }
    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Inner {
        id: u64,
    }

    #[test]
    fn a_body_that_is_not_utf8_is_a_protocol_error_even_in_ignored_fields() {
        // `note` is not in the model: serde_json alone would skip its bad bytes and
        // answer an empty page.
        let body = b"{\"result\": [], \"note\": \"\xff\xfe\"}";
        let e = decode_json::<Outer>(
            body,
            Some("application/json"),
            "GET /things",
            &Redactor::default(),
        )
        .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Protocol);
        assert!(
            e.to_string()
                .contains("not UTF-8 (invalid byte at offset 24)"),
            "{e}"
        );
    }

    fn decode(body: &str, ct: Option<&str>) -> Result<Outer> {
        decode_json(body.as_bytes(), ct, "GET /things", &Redactor::default())
    }

    fn protocol(e: Error) -> ProtocolError {
        match e {
            Error::Protocol(p) => *p,
            other => panic!("expected protocol error, got {other:?}"),
        }
    }

    #[test]
    fn wrong_shape_names_the_json_path() {
        let e = protocol(
            decode(
                r#"{"result":[{"id":1},{"id":"x"}]}"#,
                Some("application/json"),
            )
            .unwrap_err(),
        );
        assert_eq!(e.json_path.as_deref(), Some("result[1].id"));
        assert!(
            e.message.starts_with("JSON body of an unexpected shape"),
            "{}",
            e.message
        );
    }

    #[test]
    fn html_empty_truncated_and_trailing_garbage() {
        let e = protocol(
            decode("<html><body>Please log in</body></html>", Some("text/html")).unwrap_err(),
        );
        assert!(e.message.contains("HTML"), "{}", e.message);
        assert_eq!(e.content_type.as_deref(), Some("text/html"));
        assert!(e.snippet.contains("Please log in"));
        let shown = Error::Protocol(Box::new(e)).to_string();
        assert!(
            shown.contains("text/html") && shown.contains("Please log in"),
            "{shown}"
        );

        let e = protocol(decode("  ", Some("application/json")).unwrap_err());
        assert!(e.message.contains("empty body"));

        let e =
            protocol(decode(r#"{"result":[{"id":1},{"i"#, Some("application/json")).unwrap_err());
        assert!(e.message.starts_with("truncated JSON"), "{}", e.message);

        let e =
            protocol(decode(r#"{"result":[]} trailing"#, Some("application/json")).unwrap_err());
        assert!(e.message.starts_with("malformed JSON"), "{}", e.message);

        let e = protocol(decode("Service Unavailable", Some("text/plain")).unwrap_err());
        assert!(e.message.contains("something else"));
    }
}
