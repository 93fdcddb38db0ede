//! The HTTP client every connector uses: auth, retries, timeouts, pacing (rate
//! limit), body cap, tracing.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::{Bytes, BytesMut};
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use tokio::time::Instant;
use tracing::Instrument as _;
use url::Url;

use super::hooks::{HttpEvent, HttpMetrics, RetryClassifier};
use super::ratelimit::{Pacer, RateLimitConfig, RateLimiter};
use super::request::{Body, Request};
use super::response::Response;
use super::retry::{AttemptOutcome, RetryConfig, RetryDecision, classify};
use super::timeout::TimeoutConfig;
use crate::auth::{AuthProvider, AuthStamp, NoAuth};
use crate::error::{Error, ErrorKind, Result, TimeoutPhase};
use crate::redact;

/// Decides whether a response means "your credential is no longer valid". The default
/// looks for HTTP 401; connectors add 407 (OpsRamp), HTTP-200 `AuthFail` bodies (OTRS),
/// `ERROR_SESSION_TOKEN_INVALID` (GLPI) and the like.
pub type AuthFailureDetector = Arc<dyn Fn(&Response) -> bool + Send + Sync>;

/// Reads a vendor error out of a response: called by [`HttpClient::send`] on every
/// response, so it can flag HTTP-200 error bodies too.
pub type ErrorParser = Arc<dyn Fn(&Response) -> Option<VendorError> + Send + Sync>;

/// A vendor error found in a response body.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct VendorError {
    /// The vendor's code.
    pub code: Option<String>,
    /// The vendor's message.
    pub message: Option<String>,
    /// The kind, when the vendor code says more than the status (`None`: from status).
    pub kind: Option<ErrorKind>,
}

impl VendorError {
    /// A vendor error from code and message.
    pub fn new(code: Option<String>, message: Option<String>) -> Self {
        VendorError {
            code,
            message,
            kind: None,
        }
    }

    /// Sets the kind.
    #[must_use]
    pub fn kind(mut self, kind: ErrorKind) -> Self {
        self.kind = Some(kind);
        self
    }
}

/// Redacts secrets from text: secret-looking fields, then the auth provider's own values.
#[derive(Debug)]
pub(crate) struct Redactor {
    auth: Arc<dyn AuthProvider>,
}

impl Default for Redactor {
    fn default() -> Self {
        Redactor {
            auth: Arc::new(NoAuth),
        }
    }
}

impl Redactor {
    pub(crate) fn redact(&self, text: &str) -> String {
        let mut out = redact::redact_text(text);
        self.auth.redact(&mut out);
        out
    }
}

struct Inner {
    target: &'static str,
    instance: Arc<str>,
    base: Url,
    http: reqwest::Client,
    timeouts: TimeoutConfig,
    retry: RetryConfig,
    pacer: Option<Arc<dyn Pacer>>,
    max_body_bytes: usize,
    auth: Arc<dyn AuthProvider>,
    auth_failure: AuthFailureDetector,
    error_parser: Option<ErrorParser>,
    redactor: Arc<Redactor>,
    classifier: Option<Arc<dyn RetryClassifier>>,
    metrics: Option<Arc<dyn HttpMetrics>>,
    dry_run: bool,
}

/// A cheap-to-clone HTTP client for one target instance.
#[derive(Clone)]
pub struct HttpClient {
    inner: Arc<Inner>,
}

impl fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpClient")
            .field("target", &self.inner.target)
            .field("instance", &self.inner.instance)
            .field("base", &self.inner.base.as_str())
            .field("timeouts", &self.inner.timeouts)
            .field("retry", &self.inner.retry)
            .field("pacer", &self.inner.pacer)
            .field("max_body_bytes", &self.inner.max_body_bytes)
            .field("auth", &self.inner.auth)
            .finish_non_exhaustive()
    }
}

/// Builds an [`HttpClient`].
pub struct HttpClientBuilder {
    target: &'static str,
    instance: Option<String>,
    base: String,
    user_agent: String,
    timeouts: TimeoutConfig,
    retry: RetryConfig,
    pacer: Option<Arc<dyn Pacer>>,
    max_body_bytes: usize,
    auth: Arc<dyn AuthProvider>,
    auth_failure: AuthFailureDetector,
    error_parser: Option<ErrorParser>,
    default_headers: HeaderMap,
    root_certificates: Vec<reqwest::Certificate>,
    proxy: Option<Url>,
    classifier: Option<Arc<dyn RetryClassifier>>,
    metrics: Option<Arc<dyn HttpMetrics>>,
    dry_run: bool,
}

impl fmt::Debug for HttpClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpClientBuilder")
            .field("target", &self.target)
            .field("instance", &self.instance)
            .field("base", &self.base)
            .field("timeouts", &self.timeouts)
            .field("retry", &self.retry)
            .field("pacer", &self.pacer)
            .field("auth", &self.auth)
            .finish_non_exhaustive()
    }
}

/// Default cap on a response body: 32 MiB.
pub const DEFAULT_MAX_BODY_BYTES: usize = 32 * 1024 * 1024;

impl HttpClient {
    /// Starts a builder for `target` (used in logs) at `base_url`.
    pub fn builder(target: &'static str, base_url: impl Into<String>) -> HttpClientBuilder {
        HttpClientBuilder {
            target,
            instance: None,
            base: base_url.into(),
            user_agent: concat!("accesslink/", env!("CARGO_PKG_VERSION")).to_owned(),
            timeouts: TimeoutConfig::default(),
            retry: RetryConfig::default(),
            pacer: None,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            auth: Arc::new(NoAuth),
            auth_failure: Arc::new(|r: &Response| r.status() == StatusCode::UNAUTHORIZED),
            error_parser: None,
            default_headers: HeaderMap::new(),
            root_certificates: Vec::new(),
            proxy: None,
            classifier: None,
            metrics: None,
            dry_run: false,
        }
    }

    /// The same client (connection pool, pacer, settings) with another auth provider.
    /// The pacer is shared, not copied: requests of both clients count against one
    /// client-side limit, as they do against the server's.
    pub fn with_auth(&self, auth: Arc<dyn AuthProvider>) -> HttpClient {
        let i = &self.inner;
        HttpClient {
            inner: Arc::new(Inner {
                target: i.target,
                instance: i.instance.clone(),
                base: i.base.clone(),
                http: i.http.clone(),
                timeouts: i.timeouts.clone(),
                retry: i.retry.clone(),
                pacer: i.pacer.clone(),
                max_body_bytes: i.max_body_bytes,
                redactor: Arc::new(Redactor { auth: auth.clone() }),
                auth,
                auth_failure: i.auth_failure.clone(),
                error_parser: i.error_parser.clone(),
                classifier: i.classifier.clone(),
                metrics: i.metrics.clone(),
                dry_run: i.dry_run,
            }),
        }
    }

    /// The base URL.
    pub fn base_url(&self) -> &Url {
        &self.inner.base
    }

    /// The retry settings: the budget of this client's retries, and of the connector's
    /// look-then-retry of writes ([`crate::write::write_with_lookup`]).
    pub fn retry_config(&self) -> &RetryConfig {
        &self.inner.retry
    }

    /// The target name.
    pub fn target(&self) -> &'static str {
        self.inner.target
    }

    /// The connector instance name (the target's name unless one was set).
    pub fn instance(&self) -> &str {
        &self.inner.instance
    }

    /// What errors and logs call a request: target, instance, method and path
    /// (`servicenow (prod-it): GET /api/now/table/incident`), never the query, whose
    /// values may carry session ids.
    pub fn label(&self, request: &Request) -> String {
        format!(
            "{} ({}): {}",
            self.inner.target,
            self.inner.instance,
            request.label()
        )
    }

    /// What a dry run shows of a write: the URL and body, credentials and secret-looking
    /// fields masked.
    fn planned(&self, request: &Request, label: String) -> crate::error::PlannedRequest {
        let redact = |text: &str| self.inner.redactor.redact(text);
        let body = match &request.body {
            super::request::Body::Empty => None,
            super::request::Body::Json(v) => Some(redact(&masked(v.clone()).to_string())),
            super::request::Body::Form(pairs) => Some(redact(
                &pairs
                    .iter()
                    .map(|(k, v)| {
                        let v = if secret_key(k) {
                            crate::redact::REDACTED
                        } else {
                            v.as_str()
                        };
                        format!("{k}={v}")
                    })
                    .collect::<Vec<_>>()
                    .join("&"),
            )),
            super::request::Body::Raw { bytes, .. } => Some(format!("<{} bytes>", bytes.len())),
        };
        crate::error::PlannedRequest {
            request: label,
            url: redact(&crate::redact::url_shown(&request.url)),
            body,
        }
    }

    fn emit(&self, event: HttpEvent<'_>) {
        if let Some(m) = &self.inner.metrics {
            m.record(&event);
        }
    }

    /// The auth provider.
    pub fn auth(&self) -> &Arc<dyn AuthProvider> {
        &self.inner.auth
    }

    /// Resolves `path` against the base URL (a leading `/` is ignored, so the base
    /// URL's own path is kept).
    ///
    /// The result must stay under the base URL: an absolute URL or `..` that leaves
    /// it is refused, so credentials are never sent to another host or path.
    pub fn url(&self, path: &str) -> Result<Url> {
        let base = &self.inner.base;
        let url = base
            .join(path.trim_start_matches('/'))
            .map_err(|e| Error::invalid_input(format!("path {path:?}: {e}")))?;
        if url.origin() != base.origin() || !url.path().starts_with(base.path()) {
            return Err(Error::invalid_input(format!(
                "path {path:?} leaves the base URL"
            )));
        }
        Ok(url)
    }

    /// A request to `path` relative to the base URL.
    pub fn request(&self, method: Method, path: &str) -> Result<Request> {
        Ok(Request::new(method, self.url(path)?))
    }

    /// A request to an absolute URL (token endpoints on another host).
    pub fn request_url(&self, method: Method, url: Url) -> Request {
        Request::new(method, url)
    }

    /// A GET request.
    pub fn get(&self, path: &str) -> Result<Request> {
        self.request(Method::GET, path)
    }

    /// A POST request (not retried after an ambiguous failure unless marked
    /// [`retry_safe`](Request::retry_safe)).
    pub fn post(&self, path: &str) -> Result<Request> {
        self.request(Method::POST, path)
    }

    /// A PUT request.
    pub fn put(&self, path: &str) -> Result<Request> {
        self.request(Method::PUT, path)
    }

    /// A PATCH request.
    pub fn patch(&self, path: &str) -> Result<Request> {
        self.request(Method::PATCH, path)
    }

    /// A DELETE request.
    pub fn delete(&self, path: &str) -> Result<Request> {
        self.request(Method::DELETE, path)
    }

    /// Sends and checks the answer: a non-2xx status, or a body the connector's error
    /// parser flags, is an [`Error::Api`] with the vendor's code and message.
    pub async fn send(&self, request: Request) -> Result<Response> {
        let response = self.execute(request).await?;
        let vendor = self
            .inner
            .error_parser
            .as_ref()
            .and_then(|parse| parse(&response));
        if response.status().is_success() && vendor.is_none() {
            return Ok(response);
        }
        let vendor = vendor.unwrap_or_default();
        Err(response.api_error(vendor.kind, vendor.code, vendor.message))
    }

    /// Sends, checks, and decodes the JSON body.
    pub async fn send_json<T: serde::de::DeserializeOwned>(&self, request: Request) -> Result<T> {
        self.send(request).await?.json()
    }

    /// Sends with retries, re-authentication and timeouts, and returns the last
    /// response whatever its status. Transport failures and timeouts are errors.
    ///
    /// The wait for the [pacer](HttpClientBuilder::pacer) before the first attempt
    /// comes before the [total timeout](TimeoutConfig::total) starts, so a request
    /// queued behind others on a shared, rate-limited client does not time out before
    /// it is sent; waits before later attempts count against it.
    pub async fn execute(&self, request: Request) -> Result<Response> {
        let label = self.label(&request);
        if self.inner.dry_run && request.is_write() {
            tracing::info!(request = %label, "dry run: write not sent");
            return Err(Error::DryRun(Box::new(self.planned(&request, label))));
        }
        let span = tracing::debug_span!(
            "http",
            target = self.inner.target,
            instance = &*self.inner.instance,
            method = %request.method,
            path = request.url.path(),
            status = tracing::field::Empty,
            attempts = tracing::field::Empty,
            latency_ms = tracing::field::Empty,
        );
        let queued = Instant::now();
        let total = self.inner.timeouts.total_or_default();
        let result = async {
            self.pace(&request).await;
            let started = Instant::now();
            match tokio::time::timeout(total, self.run(&request, &label)).await {
                Ok(r) => r,
                Err(_) => Err(Error::Timeout {
                    request: label.clone(),
                    phase: TimeoutPhase::Total,
                    elapsed: started.elapsed(),
                }),
            }
        }
        .instrument(span.clone())
        .await;
        span.record("latency_ms", queued.elapsed().as_millis() as u64);
        self.emit(HttpEvent::Request {
            target: self.inner.target,
            instance: &self.inner.instance,
            method: &request.method,
            status: result.as_ref().ok().map(|r| r.status().as_u16()),
            attempts: result.as_ref().map_or(0, Response::attempts),
            latency: queued.elapsed(),
        });
        match &result {
            Ok(r) => {
                span.record("status", r.status().as_u16());
                span.record("attempts", r.attempts());
            }
            Err(e) => {
                tracing::debug!(parent: &span, error = %e, "request failed");
            }
        }
        result
    }

    /// Waits for the pacer, if there is one, before an attempt of `request`.
    async fn pace(&self, request: &Request) {
        if let Some(pacer) = &self.inner.pacer {
            let started = Instant::now();
            pacer.until_ready(&request.method, request.url.path()).await;
            let waited = started.elapsed();
            // Under a millisecond is a free slot, not a wait.
            if waited >= Duration::from_millis(1) {
                self.emit(HttpEvent::RateLimitWait {
                    target: self.inner.target,
                    instance: &self.inner.instance,
                    delay: waited,
                });
            }
        }
    }

    /// The attempts of one request; the first was paced by [`HttpClient::execute`].
    async fn run(&self, request: &Request, label: &str) -> Result<Response> {
        let inner = &self.inner;
        let retry_safe = request.is_retry_safe();
        let mut attempt: u32 = 0;
        let mut paced = true;
        let mut reauthenticated = false;
        let mut waited = Duration::ZERO;
        loop {
            attempt += 1;
            if !std::mem::take(&mut paced) {
                self.pace(request).await;
            }
            let mut req = request.clone();
            let stamp = if req.authenticate {
                Some(inner.auth.authorize(&mut req).await?)
            } else {
                None
            };
            let attempt_timeout = req
                .attempt_timeout
                .unwrap_or(inner.timeouts.attempt_or_default());
            let started = Instant::now();
            let outcome = tokio::time::timeout(attempt_timeout, self.send_once(req, label)).await;
            let latency = started.elapsed();
            let (decision, result) = match outcome {
                Ok(Ok((status, headers, body))) => {
                    let response = Response {
                        status,
                        headers,
                        body,
                        request: label.to_owned(),
                        attempts: attempt,
                        redactor: inner.redactor.clone(),
                    };
                    tracing::debug!(
                        status = status.as_u16(),
                        attempt,
                        latency_ms = latency.as_millis() as u64,
                        "response"
                    );
                    if let Some(stamp) = stamp {
                        if (inner.auth_failure)(&response) {
                            if let Some(err) =
                                self.on_auth_failure(stamp, &response, &mut reauthenticated)
                            {
                                return Err(err);
                            }
                            attempt -= 1; // a renewed credential is not a retry
                            continue;
                        }
                    }
                    let now = SystemTime::now();
                    let decision = inner
                        .classifier
                        .as_ref()
                        .and_then(|c| {
                            c.classify_response(status, &response.headers, &response.body, now)
                        })
                        .map(|d| match d {
                            RetryDecision::RetryAfter(k, wait) => {
                                RetryDecision::RetryAfter(k, wait.min(inner.retry.max_backoff))
                            }
                            other => other,
                        })
                        .unwrap_or_else(|| {
                            classify(
                                AttemptOutcome::Response {
                                    status,
                                    headers: &response.headers,
                                },
                                now,
                                inner.retry.max_backoff,
                            )
                        });
                    (decision, Ok(response))
                }
                Ok(Err(AttemptError::Connect(e))) => {
                    // The request never left: repeating it is always safe.
                    let decision = classify(
                        AttemptOutcome::ConnectError,
                        SystemTime::now(),
                        inner.retry.max_backoff,
                    );
                    if attempt < inner.retry.max_attempts {
                        tracing::debug!(attempt, error = %e, "connect failed; retrying");
                    }
                    let err = if e.is_timeout() {
                        Error::Timeout {
                            request: label.to_owned(),
                            phase: TimeoutPhase::Connect,
                            elapsed: latency,
                        }
                    } else {
                        Error::Transport {
                            request: label.to_owned(),
                            source: Box::new(e),
                        }
                    };
                    (decision, Err((err, true)))
                }
                Ok(Err(AttemptError::Transport(e))) => {
                    let decision = classify(
                        AttemptOutcome::TransportError,
                        SystemTime::now(),
                        inner.retry.max_backoff,
                    );
                    let err = Error::Transport {
                        request: label.to_owned(),
                        source: Box::new(e),
                    };
                    (decision, Err((err, retry_safe)))
                }
                Ok(Err(AttemptError::Fatal(e))) => return Err(e),
                Err(_) => {
                    let decision = classify(
                        AttemptOutcome::Timeout,
                        SystemTime::now(),
                        inner.retry.max_backoff,
                    );
                    let err = Error::Timeout {
                        request: label.to_owned(),
                        phase: TimeoutPhase::Attempt,
                        elapsed: latency,
                    };
                    (decision, Err((err, retry_safe)))
                }
            };
            let may_repeat = match &result {
                Ok(_) => retry_safe,
                Err((_, safe)) => *safe,
            };
            let delay = match decision {
                RetryDecision::NoRetry => None,
                RetryDecision::Retry(_) => Some(inner.retry.backoff(attempt)),
                RetryDecision::RetryAfter(_, d) => Some(d),
            };
            match delay {
                Some(delay)
                    if may_repeat
                        && attempt < inner.retry.max_attempts
                        && waited + delay <= inner.retry.max_total_delay =>
                {
                    tracing::debug!(
                        attempt,
                        delay_ms = delay.as_millis() as u64,
                        ?decision,
                        "retrying"
                    );
                    waited += delay;
                    let kind = match decision {
                        RetryDecision::Retry(k) | RetryDecision::RetryAfter(k, _) => k,
                        RetryDecision::NoRetry => unreachable!("a delay means a retry"),
                    };
                    self.emit(HttpEvent::Retry {
                        target: inner.target,
                        instance: &inner.instance,
                        kind,
                        delay,
                    });
                    if kind == super::retry::RetryKind::Throttling {
                        self.emit(HttpEvent::RateLimitWait {
                            target: inner.target,
                            instance: &inner.instance,
                            delay,
                        });
                    }
                    tokio::time::sleep(delay).await;
                }
                _ => return result.map_err(|(e, _)| e),
            }
        }
    }

    /// Handles a response the detector flagged; `None` means "renew and repeat".
    fn on_auth_failure(
        &self,
        stamp: AuthStamp,
        response: &Response,
        reauthenticated: &mut bool,
    ) -> Option<Error> {
        let auth = &self.inner.auth;
        if !*reauthenticated && auth.renewable() {
            tracing::info!(
                status = response.status().as_u16(),
                "credential rejected; renewing it once"
            );
            auth.invalidate(stamp);
            *reauthenticated = true;
            self.emit(HttpEvent::CredentialRenewal {
                target: self.inner.target,
                instance: &self.inner.instance,
            });
            return None;
        }
        let vendor = self
            .inner
            .error_parser
            .as_ref()
            .and_then(|p| p(response))
            .unwrap_or_default();
        let why = if *reauthenticated {
            "the server rejected the renewed credential too"
        } else {
            "the server rejected the credential"
        };
        let detail = response.api_error(
            Some(ErrorKind::Unauthenticated),
            vendor.code,
            vendor.message,
        );
        Some(Error::Auth {
            message: format!("{}: {why}", response.request_label()),
            source: Some(Box::new(detail)),
        })
    }

    async fn send_once(
        &self,
        req: Request,
        label: &str,
    ) -> std::result::Result<(StatusCode, HeaderMap, Bytes), AttemptError> {
        let inner = &self.inner;
        let mut builder = inner.http.request(req.method, req.url).headers(req.headers);
        builder = match req.body {
            Body::Empty => builder,
            Body::Json(v) => {
                let bytes = serde_json::to_vec(&v).map_err(|e| {
                    AttemptError::Fatal(Error::invalid_input(format!("request body: {e}")))
                })?;
                builder
                    .header(
                        header::CONTENT_TYPE,
                        HeaderValue::from_static("application/json"),
                    )
                    .body(bytes)
            }
            Body::Form(pairs) => builder.form(&pairs),
            Body::Raw {
                bytes,
                content_type,
            } => builder
                .header(
                    header::CONTENT_TYPE,
                    HeaderValue::from_str(&content_type).map_err(|_| {
                        AttemptError::Fatal(Error::invalid_input("bad content type"))
                    })?,
                )
                .body(bytes),
        };
        let mut response = builder.send().await.map_err(|e| {
            // reqwest keeps the whole URL, query included, which may carry a session
            // id or API key: drop it before the error goes anywhere.
            let e = e.without_url();
            if e.is_connect() {
                AttemptError::Connect(e)
            } else {
                AttemptError::Transport(e)
            }
        })?;
        let status = response.status();
        let headers = std::mem::take(response.headers_mut());
        let cap = inner.max_body_bytes;
        let too_big = |len: usize| {
            AttemptError::Fatal(Error::protocol(
                label,
                format!("response body of {len} bytes or more exceeds the {cap}-byte limit"),
            ))
        };
        if let Some(len) = response.content_length() {
            if len as usize > cap {
                return Err(too_big(len as usize));
            }
        }
        let mut body = BytesMut::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| AttemptError::Transport(e.without_url()))?
        {
            if body.len() + chunk.len() > cap {
                return Err(too_big(body.len() + chunk.len()));
            }
            body.extend_from_slice(&chunk);
        }
        Ok((status, headers, body.freeze()))
    }

    /// Ends the auth provider's session, if it has one.
    pub async fn close(&self) -> Result<()> {
        self.inner.auth.close().await
    }
}

enum AttemptError {
    Connect(reqwest::Error),
    Transport(reqwest::Error),
    Fatal(Error),
}

impl HttpClientBuilder {
    /// Names the connector instance, so errors and logs say which of several
    /// instances of one target failed (default: the target's name).
    #[must_use]
    pub fn instance(mut self, name: impl Into<String>) -> Self {
        self.instance = Some(name.into());
        self
    }

    /// Sends every request through this proxy.
    #[must_use]
    pub fn proxy_url(mut self, url: Url) -> Self {
        self.proxy = Some(url);
        self
    }

    /// Adds vendor retry rules (a rate-limit reset header, say), consulted before the
    /// standard classifier; see [`RetryClassifier`].
    #[must_use]
    pub fn retry_classifier(mut self, c: Arc<dyn RetryClassifier>) -> Self {
        self.classifier = Some(c);
        self
    }

    /// Reports requests, retries, rate-limit waits and credential renewals to `m`.
    #[must_use]
    pub fn metrics(mut self, m: Arc<dyn HttpMetrics>) -> Self {
        self.metrics = Some(m);
        self
    }

    /// Sets the `User-Agent`.
    #[must_use]
    pub fn user_agent(mut self, ua: impl Into<String>) -> Self {
        self.user_agent = ua.into();
        self
    }

    /// Sets timeouts.
    #[must_use]
    pub fn timeouts(mut self, t: TimeoutConfig) -> Self {
        self.timeouts = t;
        self
    }

    /// Sets retry behaviour.
    #[must_use]
    pub fn retry(mut self, r: RetryConfig) -> Self {
        self.retry = r;
        self
    }

    /// Turns on the client-side rate limiter: a token bucket (`governor`) [`Pacer`]
    /// for every request alike. `None` turns pacing off. Replaces any pacer set
    /// before; the last of `rate_limit` and [`pacer`](Self::pacer) wins.
    #[must_use]
    pub fn rate_limit(mut self, r: Option<RateLimitConfig>) -> Self {
        self.pacer = r.map(|r| Arc::new(RateLimiter::new(&r)) as Arc<dyn Pacer>);
        self
    }

    /// Sets the client-side pacer, for a vendor whose limits a single token bucket
    /// cannot express (per method class, per endpoint, a sliding window). It is
    /// awaited before every attempt; see [`Pacer`] for when. Replaces any
    /// [`rate_limit`](Self::rate_limit) set before.
    #[must_use]
    pub fn pacer(mut self, pacer: Arc<dyn Pacer>) -> Self {
        self.pacer = Some(pacer);
        self
    }

    /// Caps response bodies (default 32 MiB).
    #[must_use]
    pub fn max_body_bytes(mut self, n: usize) -> Self {
        self.max_body_bytes = n;
        self
    }

    /// A dry run: the first write is not sent but returned as [`Error::DryRun`]
    /// (see [`HttpSettings::dry_run`](super::HttpSettings::dry_run)).
    #[must_use]
    pub fn dry_run(mut self, on: bool) -> Self {
        self.dry_run = on;
        self
    }

    /// Sets the auth provider.
    #[must_use]
    pub fn auth(mut self, auth: Arc<dyn AuthProvider>) -> Self {
        self.auth = auth;
        self
    }

    /// Sets what counts as "credential rejected" (default: HTTP 401).
    #[must_use]
    pub fn auth_failure<F>(mut self, detector: F) -> Self
    where
        F: Fn(&Response) -> bool + Send + Sync + 'static,
    {
        self.auth_failure = Arc::new(detector);
        self
    }

    /// Sets the vendor error parser used by [`HttpClient::send`].
    #[must_use]
    pub fn error_parser<F>(mut self, parser: F) -> Self
    where
        F: Fn(&Response) -> Option<VendorError> + Send + Sync + 'static,
    {
        self.error_parser = Some(Arc::new(parser));
        self
    }

    /// Adds a header sent with every request.
    #[must_use]
    pub fn default_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.default_headers.insert(name, value);
        self
    }

    /// Trusts an extra root certificate (PEM), for servers behind a private CA.
    /// Certificate verification itself can never be turned off.
    pub fn add_root_certificate_pem(mut self, pem: &[u8]) -> Result<Self> {
        let cert = reqwest::Certificate::from_pem(pem)
            .map_err(|e| Error::config(format!("root certificate: {e}")))?;
        self.root_certificates.push(cert);
        Ok(self)
    }

    /// Builds the client.
    pub fn build(mut self) -> Result<HttpClient> {
        // The raw string is never echoed: it may hold `user:password@`.
        let mut base =
            Url::parse(&self.base).map_err(|e| Error::config(format!("base URL: {e}")))?;
        if !base.username().is_empty() || base.password().is_some() {
            return Err(Error::config(
                "credentials in the base URL are not allowed; use an auth provider",
            ));
        }
        if !matches!(base.scheme(), "http" | "https") {
            // Only the scheme: the rest of the URL may carry a secret.
            return Err(Error::config(format!(
                "base URL scheme {:?} is not http(s)",
                redact::truncate(base.scheme(), 20)
            )));
        }
        // A query or fragment would be dropped from every request (paths are joined
        // onto the base), and may carry a secret (`?token=…`): refused, never echoed.
        if base.query().is_some() {
            return Err(Error::config(
                "the base URL has a query (`?…`), which is not allowed: requests would drop it, and it may carry a secret; use an auth provider",
            ));
        }
        if base.fragment().is_some() {
            return Err(Error::config(
                "the base URL has a fragment (`#…`), which is not allowed: requests would drop it, and it may carry a secret",
            ));
        }
        if base.scheme() == "http"
            && !matches!(base.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"))
        {
            tracing::warn!(
                target = self.target,
                host = base.host_str(),
                "plain http to a non-loopback host: credentials travel unencrypted"
            );
        }
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        self.default_headers
            .entry(header::ACCEPT)
            .or_insert(HeaderValue::from_static("application/json"));
        let mut http = reqwest::Client::builder()
            .user_agent(self.user_agent)
            .default_headers(self.default_headers)
            .connect_timeout(self.timeouts.connect_or_default())
            // Never follow redirects: a redirect to a login page or another host must
            // surface, and credentials must not follow it.
            .redirect(reqwest::redirect::Policy::none());
        if self.root_certificates.is_empty() {
            // The platform's roots, parsed once per process (see `tls`).
            http = http.tls_backend_preconfigured(super::tls::shared_config()?);
        } else {
            http = http.tls_certs_merge(self.root_certificates);
        }
        if let Some(proxy) = &self.proxy {
            let proxy = reqwest::Proxy::all(proxy.as_str())
                .map_err(|e| Error::config(format!("http.proxy: {e}")))?;
            http = http.proxy(proxy);
        }
        let http = http
            .build()
            .map_err(|e| Error::config(format!("HTTP client: {e}")))?;
        Ok(HttpClient {
            inner: Arc::new(Inner {
                target: self.target,
                instance: self
                    .instance
                    .unwrap_or_else(|| self.target.to_owned())
                    .into(),
                base,
                http,
                timeouts: self.timeouts,
                retry: self.retry,
                pacer: self.pacer,
                max_body_bytes: self.max_body_bytes,
                redactor: Arc::new(Redactor {
                    auth: self.auth.clone(),
                }),
                auth: self.auth,
                auth_failure: self.auth_failure,
                error_parser: self.error_parser,
                classifier: self.classifier,
                metrics: self.metrics,
                dry_run: self.dry_run,
            }),
        })
    }
}

/// Whether a body field's name says it holds a secret.
fn secret_key(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    [
        "password",
        "secret",
        "token",
        "apikey",
        "api_key",
        "credential",
    ]
    .iter()
    .any(|k| n.contains(k))
}

/// `v` with the values of secret-looking fields masked, at any depth.
fn masked(v: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match v {
        Value::Object(m) => Value::Object(
            m.into_iter()
                .map(|(k, v)| {
                    let v = if secret_key(&k) && !v.is_null() {
                        Value::String(crate::redact::REDACTED.to_owned())
                    } else {
                        masked(v)
                    };
                    (k, v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(masked).collect()),
        other => other,
    }
}

#[cfg(test)]
mod classifier_tests {
    //! The client hands response bodies to a vendor classifier; classifiers that only
    //! know statuses keep working.

    use super::*;
    use wiremock::matchers::path;
    use wiremock::{Mock, MockServer, ResponseTemplate};

    /// A 500 whose body names a refusal is final; any other 500 goes to the standard rules.
    #[derive(Debug)]
    struct BodyAware;

    impl RetryClassifier for BodyAware {
        fn classify(&self, _: StatusCode, _: &HeaderMap, _: SystemTime) -> Option<RetryDecision> {
            panic!("the client must call classify_response when it is overridden")
        }

        fn classify_response(
            &self,
            status: StatusCode,
            _: &HeaderMap,
            body: &[u8],
            _: SystemTime,
        ) -> Option<RetryDecision> {
            let refusal = body.windows(7).any(|w| w == b"refused");
            (status == StatusCode::INTERNAL_SERVER_ERROR && refusal)
                .then_some(RetryDecision::NoRetry)
        }
    }

    /// A classifier written before bodies were passed: every 500 is final.
    #[derive(Debug)]
    struct StatusOnly;

    impl RetryClassifier for StatusOnly {
        fn classify(
            &self,
            status: StatusCode,
            _: &HeaderMap,
            _: SystemTime,
        ) -> Option<RetryDecision> {
            (status == StatusCode::INTERNAL_SERVER_ERROR).then_some(RetryDecision::NoRetry)
        }
    }

    fn client(server: &MockServer, c: Arc<dyn RetryClassifier>) -> HttpClient {
        HttpClient::builder("test", server.uri())
            .retry(
                RetryConfig::default()
                    .max_attempts(3)
                    .initial_backoff(Duration::from_millis(5)),
            )
            .retry_classifier(c)
            .build()
            .unwrap()
    }

    async fn burst_then_ok(server: &MockServer, body: &'static str, burst: u64) {
        Mock::given(path("/x"))
            .respond_with(ResponseTemplate::new(500).set_body_string(body))
            .up_to_n_times(burst)
            .with_priority(1)
            .mount(server)
            .await;
        Mock::given(path("/x"))
            .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
            .mount(server)
            .await;
    }

    #[tokio::test]
    async fn a_refusal_in_the_body_is_sent_once() {
        let server = MockServer::start().await;
        burst_then_ok(&server, "[{\"why\":\"refused\"}]", 5).await;
        let c = client(&server, Arc::new(BodyAware));
        let err = c.send(c.get("x").unwrap()).await.unwrap_err();
        let api = err.as_api().expect("an API error");
        assert_eq!(api.status, StatusCode::INTERNAL_SERVER_ERROR, "{err}");
        assert_eq!(server.received_requests().await.unwrap().len(), 1);
    }

    #[tokio::test]
    async fn a_body_the_classifier_leaves_alone_follows_the_standard_rules() {
        let server = MockServer::start().await;
        burst_then_ok(&server, "[{\"why\":\"outage\"}]", 2).await;
        let c = client(&server, Arc::new(BodyAware));
        let r = c.send(c.get("x").unwrap()).await.unwrap();
        assert_eq!(r.attempts(), 3);
        assert_eq!(server.received_requests().await.unwrap().len(), 3);
    }

    #[tokio::test]
    async fn a_status_only_classifier_still_decides() {
        let server = MockServer::start().await;
        burst_then_ok(&server, "[{\"why\":\"outage\"}]", 2).await;
        let c = client(&server, Arc::new(StatusOnly));
        assert!(c.send(c.get("x").unwrap()).await.is_err());
        assert_eq!(server.received_requests().await.unwrap().len(), 1);
    }

    #[test]
    fn the_default_defers_to_classify() {
        let now = SystemTime::now();
        let h = HeaderMap::new();
        let s = StatusCode::INTERNAL_SERVER_ERROR;
        assert_eq!(
            StatusOnly.classify_response(s, &h, b"anything", now),
            Some(RetryDecision::NoRetry)
        );
        assert_eq!(
            StatusOnly.classify_response(StatusCode::BAD_GATEWAY, &h, b"", now),
            None
        );
        assert_eq!(
            BodyAware.classify_response(s, &h, b"refused", now),
            Some(RetryDecision::NoRetry)
        );
    }
}
