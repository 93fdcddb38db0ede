//! One error type for every connector, with a small [`ErrorKind`] to branch on.
//!
//! Each variant says what failed at its own layer; the underlying cause is kept
//! in [`std::error::Error::source`] and never repeated in the message.

use std::fmt;
use std::time::Duration;

use http::StatusCode;

/// Result alias used throughout accesslink.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A boxed error used as the source of [`Error::Auth`] and [`Error::Other`].
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A write a dry run did not send: what the connector would have sent, with the
/// credentials and secret-looking body fields masked.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PlannedRequest {
    /// The connector instance and the request (`servicenow (prod): POST /api/now/table/sys_user`).
    pub request: String,
    /// The full URL, query included (credentials in it masked).
    pub url: String,
    /// The body, as it would have been sent (JSON or form), secret-looking fields masked.
    pub body: Option<String>,
}

impl fmt::Display for PlannedRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "dry run: {} not sent", self.request)?;
        if let Some(body) = &self.body {
            write!(f, " (body {body})")?;
        }
        Ok(())
    }
}

/// What kind of failure an [`Error`] is, independent of the target system.
///
/// Branch on this rather than on the variants: new variants may be added, but
/// every error maps to one of these kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The object asked for does not exist (HTTP 404, or a vendor "not found" code).
    NotFound,
    /// Credentials are missing, wrong or expired and could not be renewed.
    Unauthenticated,
    /// The credentials are valid but lack the right to do this.
    PermissionDenied,
    /// The change conflicts with the current state (HTTP 409, duplicate keys).
    Conflict,
    /// The input was rejected before or by the server (bad ticket id, HTTP 400/422).
    InvalidInput,
    /// The server throttled us and retries ran out.
    RateLimited,
    /// The server or the network is unavailable (5xx, connection refused).
    Unavailable,
    /// A timeout elapsed: connect, one attempt, or the whole operation.
    Timeout,
    /// The target system cannot do this operation; see the connector's capabilities.
    Unsupported,
    /// The server answered something we cannot understand (HTML, truncated or malformed JSON).
    Protocol,
    /// The connector's settings are wrong or incomplete (a missing secret, a malformed
    /// URL, an unknown key): found before any request is sent.
    Config,
    /// A dry run stopped before a write: the error carries the request that would have
    /// been sent ([`Error::DryRun`]).
    DryRun,
    /// Anything else.
    Other,
}

impl ErrorKind {
    /// The kind that an HTTP status code stands for, after the table baton-sdk uses.
    pub fn from_status(status: StatusCode) -> Self {
        match status.as_u16() {
            400 | 405 | 411 | 413 | 414 | 415 | 422 => ErrorKind::InvalidInput,
            401 | 407 => ErrorKind::Unauthenticated,
            403 => ErrorKind::PermissionDenied,
            404 | 410 => ErrorKind::NotFound,
            409 | 412 => ErrorKind::Conflict,
            408 | 504 => ErrorKind::Timeout,
            429 => ErrorKind::RateLimited,
            501 => ErrorKind::Unsupported,
            500..=599 => ErrorKind::Unavailable,
            _ => ErrorKind::Other,
        }
    }

    /// Whether an operation that failed with this kind may succeed if repeated later.
    pub fn is_retryable(self) -> bool {
        matches!(
            self,
            ErrorKind::RateLimited | ErrorKind::Unavailable | ErrorKind::Timeout
        )
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            ErrorKind::NotFound => "not found",
            ErrorKind::Unauthenticated => "unauthenticated",
            ErrorKind::PermissionDenied => "permission denied",
            ErrorKind::Conflict => "conflict",
            ErrorKind::InvalidInput => "invalid input",
            ErrorKind::RateLimited => "rate limited",
            ErrorKind::Unavailable => "unavailable",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Unsupported => "unsupported",
            ErrorKind::Protocol => "protocol error",
            ErrorKind::Config => "configuration error",
            ErrorKind::DryRun => "dry run",
            ErrorKind::Other => "other",
        };
        f.write_str(s)
    }
}

/// Which timeout elapsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TimeoutPhase {
    /// Establishing the TCP/TLS connection.
    Connect,
    /// One attempt: sending the request and reading the whole response.
    Attempt,
    /// The whole operation, retries and back-off included.
    Total,
}

impl fmt::Display for TimeoutPhase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TimeoutPhase::Connect => "connect",
            TimeoutPhase::Attempt => "attempt",
            TimeoutPhase::Total => "operation",
        })
    }
}

/// Rate-limit information a server sent with its last answer
/// (`Retry-After`, `X-RateLimit-*`, `RateLimit-*`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RateLimitInfo {
    /// How long the server asked us to wait.
    pub retry_after: Option<Duration>,
    /// The request quota of the current window.
    pub limit: Option<u64>,
    /// Requests left in the current window.
    pub remaining: Option<u64>,
    /// The raw reset value (epoch seconds or seconds from now, depending on the vendor).
    pub reset: Option<String>,
}

impl RateLimitInfo {
    /// True when no rate-limit header was present.
    pub fn is_empty(&self) -> bool {
        self == &RateLimitInfo::default()
    }
}

/// An error answer from the target's API.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ApiError {
    /// What the error means, from the status or the vendor code.
    pub kind: ErrorKind,
    /// The HTTP status (vendors that report errors with 200 keep 200 here).
    pub status: StatusCode,
    /// The vendor's own error code (`Ticket.AuthFail`, `ERROR_SESSION_TOKEN_INVALID`, …).
    pub code: Option<String>,
    /// The vendor's human message.
    pub message: Option<String>,
    /// HTTP method and path (query values that may carry secrets removed).
    pub request: String,
    /// The start of the response body, with secret-looking values redacted.
    pub body: String,
    /// Rate-limit headers of the response.
    pub rate_limit: RateLimitInfo,
    /// How many attempts were made.
    pub attempts: u32,
}

impl ApiError {
    /// An API error of `kind` with `status` for `request` (`METHOD /path`), for
    /// connectors that detect errors themselves and for test doubles.
    pub fn new(kind: ErrorKind, status: StatusCode, request: impl Into<String>) -> Self {
        ApiError {
            kind,
            status,
            code: None,
            message: None,
            request: request.into(),
            body: String::new(),
            rate_limit: RateLimitInfo::default(),
            attempts: 1,
        }
    }

    /// Sets the vendor code.
    #[must_use]
    pub fn with_code(mut self, code: impl Into<String>) -> Self {
        self.code = Some(code.into());
        self
    }

    /// Sets the vendor message.
    #[must_use]
    pub fn with_message(mut self, message: impl Into<String>) -> Self {
        self.message = Some(message.into());
        self
    }

    /// Sets the rate-limit information.
    #[must_use]
    pub fn with_rate_limit(mut self, rate_limit: RateLimitInfo) -> Self {
        self.rate_limit = rate_limit;
        self
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} returned {}", self.request, self.status)?;
        if let Some(code) = &self.code {
            write!(f, " [{code}]")?;
        }
        if let Some(message) = &self.message {
            write!(f, ": {message}")?;
        }
        if let Some(after) = self.rate_limit.retry_after {
            write!(f, " (retry after {}s)", after.as_secs())?;
        }
        if self.attempts > 1 {
            write!(f, " after {} attempts", self.attempts)?;
        }
        Ok(())
    }
}

/// A body that could not be understood.
#[derive(Debug)]
#[non_exhaustive]
pub struct ProtocolError {
    /// What was wrong.
    pub message: String,
    /// HTTP method and path of the request.
    pub request: String,
    /// The `Content-Type` the server sent, if any.
    pub content_type: Option<String>,
    /// Where in the JSON document decoding failed (`result[3].sys_id`).
    pub json_path: Option<String>,
    /// The start of the body, redacted.
    pub snippet: String,
    pub(crate) source: Option<serde_json::Error>,
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.request, self.message)?;
        if let Some(path) = &self.json_path {
            write!(f, " at `{path}`")?;
        }
        match &self.content_type {
            Some(ct) => write!(f, " (content type {ct}")?,
            None => write!(f, " (no content type")?,
        }
        if self.snippet.is_empty() {
            write!(f, ", empty body)")
        } else {
            write!(f, ", body starts {:?})", self.snippet)
        }
    }
}

impl std::error::Error for ProtocolError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_ref().map(|e| e as _)
    }
}

/// The accesslink error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Input rejected before any request was sent (malformed ticket id, missing field).
    #[error("invalid input: {message}")]
    InvalidInput {
        /// What was wrong.
        message: String,
    },
    /// The connector or client is misconfigured.
    #[error("invalid configuration: {message}")]
    Config {
        /// What was wrong.
        message: String,
    },
    /// The target system cannot do this.
    #[error("{operation} is not supported by {target}")]
    Unsupported {
        /// The operation asked for.
        operation: &'static str,
        /// The target system.
        target: &'static str,
    },
    /// The server answered with an error.
    #[error("{0}")]
    Api(Box<ApiError>),
    /// The request could not be sent or the response not received.
    #[error("{request}: transport failed")]
    Transport {
        /// HTTP method and path.
        request: String,
        /// The underlying transport error (the HTTP library's own type, boxed so it is
        /// not part of this crate's API; URLs are stripped from it).
        #[source]
        source: BoxError,
    },
    /// A timeout elapsed.
    #[error("{request}: {phase} timeout after {elapsed:?}")]
    Timeout {
        /// HTTP method and path.
        request: String,
        /// Which timeout.
        phase: TimeoutPhase,
        /// How long we waited.
        elapsed: Duration,
    },
    /// The response could not be understood.
    #[error("{0}")]
    Protocol(Box<ProtocolError>),
    /// Authentication failed and could not be renewed.
    #[error("authentication failed: {message}")]
    Auth {
        /// What failed.
        message: String,
        /// The cause, if any.
        #[source]
        source: Option<BoxError>,
    },
    /// Renewing a credential failed for a caller that was waiting on another's
    /// renewal; the kind and message are those of that renewal's error.
    #[error("credential renewal failed: {message}")]
    Renewal {
        /// The kind of the renewal's error.
        kind: ErrorKind,
        /// Its message.
        message: String,
    },
    /// A named object does not exist where the operation needs it.
    #[error("{what} not found")]
    NotFound {
        /// What was looked for.
        what: String,
    },
    /// The operation conflicts with the object's state.
    #[error("conflict: {message}")]
    Conflict {
        /// What conflicts.
        message: String,
    },
    /// A dry run ([`HttpSettings::dry_run`](crate::http::HttpSettings::dry_run)) reached a
    /// write and did not send it: here is what it would have sent.
    #[error("{0}")]
    DryRun(Box<PlannedRequest>),
    /// Anything else.
    #[error("{message}")]
    Other {
        /// What failed.
        message: String,
        /// The cause, if any.
        #[source]
        source: Option<BoxError>,
    },
}

impl Error {
    /// The kind of failure.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::InvalidInput { .. } => ErrorKind::InvalidInput,
            Error::Config { .. } => ErrorKind::Config,
            Error::Unsupported { .. } => ErrorKind::Unsupported,
            Error::Api(api) => api.kind,
            Error::Transport { source, .. } => {
                if source
                    .downcast_ref::<reqwest::Error>()
                    .is_some_and(reqwest::Error::is_timeout)
                {
                    ErrorKind::Timeout
                } else {
                    // Refused, reset, or cut off mid-body: the network or server failed.
                    ErrorKind::Unavailable
                }
            }
            Error::Timeout { .. } => ErrorKind::Timeout,
            Error::Protocol(_) => ErrorKind::Protocol,
            Error::Auth { .. } => ErrorKind::Unauthenticated,
            Error::Renewal { kind, .. } => *kind,
            Error::NotFound { .. } => ErrorKind::NotFound,
            Error::Conflict { .. } => ErrorKind::Conflict,
            Error::DryRun(_) => ErrorKind::DryRun,
            Error::Other { .. } => ErrorKind::Other,
        }
    }

    /// Whether the same operation may succeed if repeated later.
    pub fn is_retryable(&self) -> bool {
        self.kind().is_retryable()
    }

    /// The API error, if the server answered with one.
    pub fn as_api(&self) -> Option<&ApiError> {
        match self {
            Error::Api(api) => Some(api),
            _ => None,
        }
    }

    /// The vendor's error code, if the server sent one.
    pub fn vendor_code(&self) -> Option<&str> {
        self.as_api().and_then(|a| a.code.as_deref())
    }

    /// The rate-limit headers of the last answer, if any.
    pub fn rate_limit(&self) -> Option<&RateLimitInfo> {
        self.as_api()
            .map(|a| &a.rate_limit)
            .filter(|r| !r.is_empty())
    }

    /// An [`Error::InvalidInput`].
    pub fn invalid_input(message: impl Into<String>) -> Self {
        Error::InvalidInput {
            message: message.into(),
        }
    }

    /// An [`Error::Config`].
    pub fn config(message: impl Into<String>) -> Self {
        Error::Config {
            message: message.into(),
        }
    }

    /// An [`Error::NotFound`].
    pub fn not_found(what: impl Into<String>) -> Self {
        Error::NotFound { what: what.into() }
    }

    /// An [`Error::Other`] without a source.
    pub fn other(message: impl Into<String>) -> Self {
        Error::Other {
            message: message.into(),
            source: None,
        }
    }

    /// An [`Error::Auth`] without a source.
    pub fn auth(message: impl Into<String>) -> Self {
        Error::Auth {
            message: message.into(),
            source: None,
        }
    }

    /// An [`Error::Protocol`] with just a message, for answers that are valid JSON
    /// but make no sense (a create that returns no id).
    pub fn protocol(request: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Protocol(Box::new(ProtocolError {
            message: message.into(),
            request: request.into(),
            content_type: None,
            json_path: None,
            snippet: String::new(),
            source: None,
        }))
    }
}

impl From<ApiError> for Error {
    fn from(e: ApiError) -> Self {
        Error::Api(Box::new(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_table() {
        let rows = [
            (400, ErrorKind::InvalidInput),
            (401, ErrorKind::Unauthenticated),
            (403, ErrorKind::PermissionDenied),
            (404, ErrorKind::NotFound),
            (407, ErrorKind::Unauthenticated),
            (409, ErrorKind::Conflict),
            (422, ErrorKind::InvalidInput),
            (429, ErrorKind::RateLimited),
            (500, ErrorKind::Unavailable),
            (501, ErrorKind::Unsupported),
            (502, ErrorKind::Unavailable),
            (503, ErrorKind::Unavailable),
            (504, ErrorKind::Timeout),
            (302, ErrorKind::Other),
        ];
        for (status, kind) in rows {
            let s = StatusCode::from_u16(status).unwrap();
            assert_eq!(ErrorKind::from_status(s), kind, "status {status}");
        }
    }

    #[test]
    fn api_errors_can_be_built_outside_the_client() {
        let e = Error::from(
            ApiError::new(
                ErrorKind::Unavailable,
                StatusCode::SERVICE_UNAVAILABLE,
                "GET /x",
            )
            .with_code("Busy")
            .with_message("try later"),
        );
        assert!(e.is_retryable());
        assert_eq!(
            e.to_string(),
            "GET /x returned 503 Service Unavailable [Busy]: try later"
        );
    }

    #[test]
    fn retryable_kinds() {
        assert!(ErrorKind::RateLimited.is_retryable());
        assert!(ErrorKind::Unavailable.is_retryable());
        assert!(ErrorKind::Timeout.is_retryable());
        assert!(!ErrorKind::NotFound.is_retryable());
        assert!(!Error::invalid_input("x").is_retryable());
    }

    #[test]
    fn api_error_display_names_code_and_retry_after() {
        let e = Error::from(ApiError {
            kind: ErrorKind::RateLimited,
            status: StatusCode::TOO_MANY_REQUESTS,
            code: Some("TooMany".into()),
            message: Some("slow down".into()),
            request: "GET /api/now/table/incident".into(),
            body: String::new(),
            rate_limit: RateLimitInfo {
                retry_after: Some(Duration::from_secs(7)),
                ..Default::default()
            },
            attempts: 3,
        });
        let s = e.to_string();
        assert_eq!(
            s,
            "GET /api/now/table/incident returned 429 Too Many Requests [TooMany]: slow down (retry after 7s) after 3 attempts"
        );
        assert_eq!(e.kind(), ErrorKind::RateLimited);
        assert_eq!(e.vendor_code(), Some("TooMany"));
        assert_eq!(
            e.rate_limit().and_then(|r| r.retry_after),
            Some(Duration::from_secs(7))
        );
    }
}
