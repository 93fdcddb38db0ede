//! A request description that can be sent more than once (for retries and re-auth).

use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method};
use serde::Serialize;
use serde_json::Value;
use url::Url;

use crate::error::{Error, Result};

/// A request body.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub enum Body {
    /// No body.
    #[default]
    Empty,
    /// A JSON document.
    Json(Value),
    /// `application/x-www-form-urlencoded` pairs.
    Form(Vec<(String, String)>),
    /// Raw bytes with a content type.
    Raw {
        /// The bytes.
        bytes: Bytes,
        /// Their content type.
        content_type: String,
    },
}

/// An HTTP request to the target, relative to the client's base URL.
///
/// Cheap to clone; the client clones it for each attempt so authentication can
/// be applied afresh.
#[derive(Debug, Clone)]
pub struct Request {
    pub(crate) method: Method,
    pub(crate) url: Url,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Body,
    pub(crate) retry_safe: Option<bool>,
    pub(crate) attempt_timeout: Option<Duration>,
    pub(crate) authenticate: bool,
    pub(crate) read_only: bool,
}

impl Request {
    pub(crate) fn new(method: Method, url: Url) -> Self {
        Request {
            method,
            url,
            headers: HeaderMap::new(),
            body: Body::Empty,
            retry_safe: None,
            attempt_timeout: None,
            authenticate: true,
            read_only: false,
        }
    }

    /// The method.
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The full URL.
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// Mutable access to the URL (auth providers add query parameters here).
    pub fn url_mut(&mut self) -> &mut Url {
        &mut self.url
    }

    /// The headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// Mutable access to the headers.
    pub fn headers_mut(&mut self) -> &mut HeaderMap {
        &mut self.headers
    }

    /// The body.
    pub fn body(&self) -> &Body {
        &self.body
    }

    /// Mutable access to the body (auth providers add session fields here).
    pub fn body_mut(&mut self) -> &mut Body {
        &mut self.body
    }

    /// Appends query parameters from a `Serialize` struct; `None` fields are skipped
    /// by `#[serde(skip_serializing_if = "Option::is_none")]` on the struct.
    pub fn query<T: Serialize + ?Sized>(mut self, params: &T) -> Result<Self> {
        let encoded = serde_urlencoded::to_string(params)
            .map_err(|e| Error::invalid_input(format!("query parameters: {e}")))?;
        if !encoded.is_empty() {
            let pairs: Vec<(String, String)> = url::form_urlencoded::parse(encoded.as_bytes())
                .into_owned()
                .collect();
            self.url.query_pairs_mut().extend_pairs(pairs);
        }
        Ok(self)
    }

    /// Appends one query parameter.
    #[must_use]
    pub fn query_pair(mut self, key: &str, value: &str) -> Self {
        self.url.query_pairs_mut().append_pair(key, value);
        self
    }

    /// Sets a header.
    #[must_use]
    pub fn header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.insert(name, value);
        self
    }

    /// Sets a JSON body from any `Serialize` value.
    pub fn json<T: Serialize + ?Sized>(mut self, body: &T) -> Result<Self> {
        let value = serde_json::to_value(body)
            .map_err(|e| Error::invalid_input(format!("request body: {e}")))?;
        self.body = Body::Json(value);
        Ok(self)
    }

    /// Sets a form body.
    #[must_use]
    pub fn form(mut self, pairs: Vec<(String, String)>) -> Self {
        self.body = Body::Form(pairs);
        self
    }

    /// Sets a raw body.
    #[must_use]
    pub fn raw_body(mut self, bytes: impl Into<Bytes>, content_type: impl Into<String>) -> Self {
        self.body = Body::Raw {
            bytes: bytes.into(),
            content_type: content_type.into(),
        };
        self
    }

    /// Declares whether repeating this request is harmless. GET, HEAD, PUT, DELETE and
    /// OPTIONS are by default; POST and PATCH are not, and are then retried only when
    /// the connection could not be made at all.
    #[must_use]
    pub fn retry_safe(mut self, safe: bool) -> Self {
        self.retry_safe = Some(safe);
        self
    }

    /// Overrides the per-attempt timeout for this request.
    #[must_use]
    pub fn attempt_timeout(mut self, timeout: Duration) -> Self {
        self.attempt_timeout = Some(timeout);
        self
    }

    /// Sends the request without credentials (login calls, token endpoints).
    #[must_use]
    pub fn without_auth(mut self) -> Self {
        self.authenticate = false;
        self
    }

    /// Marks a request whose method is not `GET` as a read that changes nothing (a search
    /// sent as `POST`), so a [dry run](super::HttpSettings::dry_run) sends it.
    #[must_use]
    pub fn read_only(mut self) -> Self {
        self.read_only = true;
        self
    }

    /// Whether the request may change the target: any method but `GET`, `HEAD` and
    /// `OPTIONS`, unless marked [`read_only`](Self::read_only) or sent without
    /// credentials (a sign-in).
    pub fn is_write(&self) -> bool {
        !self.read_only
            && self.authenticate
            && !matches!(self.method, Method::GET | Method::HEAD | Method::OPTIONS)
    }

    /// Whether the request may be repeated after an ambiguous failure.
    pub fn is_retry_safe(&self) -> bool {
        self.retry_safe.unwrap_or(matches!(
            self.method,
            Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS
        ))
    }

    /// `METHOD /path`, without query: what errors and logs show, since query values
    /// may carry session ids.
    pub fn label(&self) -> String {
        format!("{} {}", self.method, self.url.path())
    }
}
