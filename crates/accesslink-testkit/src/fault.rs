//! Fault plans: queued failures a stateful mock applies before its normal logic.
//!
//! A test queues faults on the mock's [`FaultPlan`] ("the next 2 requests get a 503", "the
//! next token request is throttled with `Retry-After: 3`"); the mock's responder takes the
//! first matching fault for every request ([`FaultPlan::take_for`]) and, when it gets a
//! [`FaultAction`], answers with the fault instead of (or, for a delay, on top of) its normal
//! response; the faults that act first ([`Fault::processes`]) let the mock do its work, then
//! replace the answer.
//!
//! Faults that need control of the socket (dropped connections, truncated or reset responses)
//! go through [`crate::proxy::FaultProxy`]; [`Fault::DropConnection`] asks that proxy to drop
//! the connection by setting the response header [`FAULT_HEADER`] to [`FAULT_DROP`].

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};

use wiremock::ResponseTemplate;

/// Response header a mock sets to tell the [`crate::proxy::FaultProxy`] to misbehave.
pub const FAULT_HEADER: &str = "x-testkit-fault";
/// Value of [`FAULT_HEADER`] asking the proxy to close the connection without answering.
pub const FAULT_DROP: &str = "drop";

/// Limit reported in `X-RateLimit-Limit` by throttling faults.
const RATE_LIMIT: u32 = 100;

/// The `Retry-After` value of a throttling fault (RFC 9110 §10.2.3 allows both forms).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryAfter {
    /// `Retry-After: <seconds>`.
    Seconds(u64),
    /// `Retry-After: <IMF-fixdate>`, e.g. `Sun, 06 Nov 1994 08:49:37 GMT`.
    HttpDate(SystemTime),
}

impl RetryAfter {
    /// The header value.
    pub fn header_value(&self) -> String {
        match self {
            Self::Seconds(s) => s.to_string(),
            Self::HttpDate(t) => httpdate::fmt_http_date(*t),
        }
    }
}

/// One kind of failure a mock can produce.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// Answer with this status; the body defaults to a small JSON error naming the fault.
    /// An invalid status code (outside 100..=999) is answered as 500.
    Status {
        /// HTTP status code, e.g. 500, 502, 503.
        status: u16,
        /// Body to send instead of the default; sent as JSON when it parses as JSON,
        /// as plain text otherwise.
        body: Option<String>,
    },
    /// `429 Too Many Requests` with `X-RateLimit-Limit`/`X-RateLimit-Remaining: 0` and an
    /// optional `Retry-After`.
    TooManyRequests {
        /// The `Retry-After` header to send, if any.
        retry_after: Option<RetryAfter>,
    },
    /// Answer normally, but only after this delay (to trip client timeouts).
    Delay(Duration),
    /// `200` with `Content-Type: application/json` and a body that is not JSON.
    MalformedJson,
    /// `200` with an HTML login page, as SSO gateways answer expired sessions.
    Html,
    /// `200` JSON whose document stops halfway; `Content-Length` matches what is sent.
    TruncatedJson,
    /// `200` with `Content-Type: application/json` and an empty body.
    EmptyBody,
    /// Close the connection without answering. Only works behind the
    /// [`crate::proxy::FaultProxy`]; without it the client sees a `502` explaining that.
    DropConnection,
    /// The server does its work (creates, updates, stores), then answers with this status
    /// instead of its normal response, as a gateway that timed out after the backend
    /// committed does. The default error body is that of [`Fault::Status`].
    StatusAfterProcessing {
        /// HTTP status code, e.g. 500, 502, 504.
        status: u16,
    },
    /// The server does its work, then the connection closes without an answer: "the server
    /// did it, the client never heard back". Needs the [`crate::proxy::FaultProxy`]; without
    /// it the client sees the `502` of [`Fault::DropConnection`].
    DropAfterProcessing,
    /// Answer the first matching request normally and every further one (the rest of the
    /// queued count) with a copy of that first answer: a server that serves the same page
    /// again whatever the client asks for next. Queue it on the listing's route, after a
    /// warm-up request, with a count above the client's stale-page bound.
    RepeatFirstAnswer,
    /// `200` with `Content-Type: application/json` and a body that is not UTF-8.
    NotUtf8,
    /// `400` with a JSON body that echoes the request (method, URL, every header, the body),
    /// as some gateways and debug endpoints do: a client must not let the credentials it
    /// sent reach its errors or logs through the echo.
    EchoRequest,
}

impl Fault {
    /// Whether the server runs its normal logic (and its side effects) before the fault
    /// replaces the answer.
    pub fn processes(&self) -> bool {
        matches!(
            self,
            Self::Delay(_) | Self::StatusAfterProcessing { .. } | Self::DropAfterProcessing
        )
    }

    /// The response replacing the normal one, or `None` for [`Fault::Delay`], which keeps it.
    pub(crate) fn to_template(&self) -> Option<ResponseTemplate> {
        let template = match self {
            Self::Status { status, body } => {
                let code = http::StatusCode::from_u16(*status)
                    .unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
                match body {
                    Some(b) if serde_json::from_str::<serde_json::Value>(b).is_ok() => {
                        json(code.as_u16(), b.clone())
                    }
                    Some(b) => ResponseTemplate::new(code).set_body_raw(b.clone(), "text/plain"),
                    None => json(
                        code.as_u16(),
                        serde_json::json!({"error": "testkit fault", "status": code.as_u16()})
                            .to_string(),
                    ),
                }
            }
            Self::TooManyRequests { retry_after } => {
                let mut t = json(429, r#"{"error":"rate_limited"}"#.to_owned())
                    .insert_header("x-ratelimit-limit", RATE_LIMIT.to_string())
                    .insert_header("x-ratelimit-remaining", "0");
                if let Some(ra) = retry_after {
                    t = t.insert_header("retry-after", ra.header_value());
                }
                t
            }
            Self::Delay(_) | Self::RepeatFirstAnswer => return None,
            Self::NotUtf8 => ResponseTemplate::new(200)
                .set_body_raw(NOT_UTF8.to_vec(), "application/json; charset=utf-8"),
            Self::EchoRequest => json(
                400,
                serde_json::json!({"error": "echo", "request": "(not available)"}).to_string(),
            ),
            Self::MalformedJson => json(200, r#"{"items": [{"id": "u-000001",, "login": }"#.into()),
            Self::Html => {
                ResponseTemplate::new(200).set_body_raw(LOGIN_PAGE, "text/html; charset=utf-8")
            }
            Self::TruncatedJson => {
                let half = &TRUNCATED_SOURCE[..TRUNCATED_SOURCE.len() / 2];
                json(200, half.to_owned())
            }
            Self::EmptyBody => json(200, String::new()),
            Self::StatusAfterProcessing { status } => {
                return Self::Status {
                    status: *status,
                    body: None,
                }
                .to_template();
            }
            Self::DropConnection | Self::DropAfterProcessing => ResponseTemplate::new(502)
                .insert_header(FAULT_HEADER, FAULT_DROP)
                .set_body_raw(
                    "testkit: DropConnection needs the FaultProxy in front of the mock",
                    "text/plain",
                ),
        };
        Some(template)
    }
}

fn json(status: u16, body: String) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_raw(body, "application/json")
}

/// JSON-looking bytes that are not UTF-8 (`0xff`, `0xfe`, a lone continuation byte).
const NOT_UTF8: &[u8] = b"{\"data\":[{\"id\":\"\xff\xfe\",\"login\":\"\x80\"}],\"result\":[]}";

/// The answer of [`Fault::EchoRequest`] to `request`: everything the client sent.
fn echo(request: &wiremock::Request) -> Fault {
    let headers: serde_json::Map<String, serde_json::Value> = request
        .headers
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                String::from_utf8_lossy(value.as_bytes())
                    .into_owned()
                    .into(),
            )
        })
        .collect();
    let body = serde_json::json!({
        "error": "bad request",
        "echo": {
            "method": request.method.as_str(),
            "url": request.url.as_str(),
            "headers": headers,
            "body": String::from_utf8_lossy(&request.body),
        }
    });
    Fault::Status {
        status: 400,
        body: Some(body.to_string()),
    }
}

const LOGIN_PAGE: &str = "<!DOCTYPE html>\n<html><head><title>Sign in</title></head>\n\
<body><form method=\"post\" action=\"/login\">\n\
<input name=\"username\"><input name=\"password\" type=\"password\">\n\
<button type=\"submit\">Sign in</button></form></body></html>\n";

/// A valid document; [`Fault::TruncatedJson`] sends its first half.
const TRUNCATED_SOURCE: &str = r#"{"items":[{"id":"u-000001","login":"ada.lovelace1","email":"ada.lovelace1@example.com","active":true},{"id":"u-000002","login":"alan.turing2","email":"alan.turing2@example.com","active":true}],"total":2}"#;

/// Which requests a queued fault applies to. The default matches every request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FaultMatcher {
    method: Option<String>,
    path_contains: Option<String>,
    path_suffix: Option<String>,
}

impl FaultMatcher {
    /// Matches every request.
    pub fn any() -> Self {
        Self::default()
    }

    /// Matches requests with this method (case-insensitive).
    pub fn method(method: &str) -> Self {
        Self::any().and_method(method)
    }

    /// Matches requests whose URL path contains `fragment`.
    pub fn path(fragment: &str) -> Self {
        Self::any().and_path(fragment)
    }

    /// Matches requests with this method whose URL path contains `fragment`.
    pub fn route(method: &str, fragment: &str) -> Self {
        Self::method(method).and_path(fragment)
    }

    /// Also requires this method.
    pub fn and_method(mut self, method: &str) -> Self {
        self.method = Some(method.to_ascii_uppercase());
        self
    }

    /// Also requires the URL path to contain `fragment`.
    pub fn and_path(mut self, fragment: &str) -> Self {
        self.path_contains = Some(fragment.to_owned());
        self
    }

    /// Also requires the URL path to end with `suffix` (`/Ticket` matches `POST /Ticket`
    /// but not `POST /TicketSearch`, which [`FaultMatcher::and_path`] would).
    pub fn and_path_suffix(mut self, suffix: &str) -> Self {
        self.path_suffix = Some(suffix.to_owned());
        self
    }

    /// Whether a request with this method and path matches.
    pub fn matches(&self, method: &str, path: &str) -> bool {
        self.method
            .as_deref()
            .is_none_or(|m| m.eq_ignore_ascii_case(method))
            && self
                .path_contains
                .as_deref()
                .is_none_or(|p| path.contains(p))
            && self
                .path_suffix
                .as_deref()
                .is_none_or(|p| path.ends_with(p))
    }
}

/// What a mock must do with a request a fault applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FaultAction {
    /// Answer with the fault's response instead of the normal one.
    Replace(Fault),
    /// Answer normally, delayed by this much.
    Delay(Duration),
    /// Answer normally and keep a copy of the answer ([`Fault::RepeatFirstAnswer`]).
    Record(Recording),
    /// Answer with the copy kept by [`FaultAction::Record`] (normally, if none was kept).
    Replay(Recording),
}

/// The answer a [`Fault::RepeatFirstAnswer`] recorded, shared by the requests that replay it.
#[derive(Clone, Default)]
pub struct Recording(Arc<Mutex<Option<ResponseTemplate>>>);

impl Recording {
    fn get(&self) -> Option<ResponseTemplate> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn set(&self, template: &ResponseTemplate) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = Some(template.clone());
    }
}

impl PartialEq for Recording {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for Recording {}

impl std::fmt::Debug for Recording {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let recorded = self.0.lock().map(|r| r.is_some()).unwrap_or(false);
        f.debug_struct("Recording")
            .field("recorded", &recorded)
            .finish()
    }
}

impl FaultAction {
    /// The response to send: the fault's, or `normal()` delayed. `normal` runs only when the
    /// normal logic is wanted, so its side effects happen only then.
    pub(crate) fn apply(self, normal: impl FnOnce() -> ResponseTemplate) -> ResponseTemplate {
        match self {
            Self::Delay(d) => normal().set_delay(d),
            Self::Replace(fault) if fault.processes() => {
                let processed = normal();
                fault.to_template().unwrap_or(processed)
            }
            Self::Replace(fault) => fault.to_template().unwrap_or_else(normal),
            Self::Record(recording) => {
                let answer = normal();
                recording.set(&answer);
                answer
            }
            Self::Replay(recording) => recording.get().unwrap_or_else(normal),
        }
    }
}

#[derive(Debug)]
struct Queued {
    matcher: FaultMatcher,
    fault: Fault,
    remaining: usize,
    /// What [`Fault::RepeatFirstAnswer`] recorded; `first` until the first request took it.
    recording: Recording,
    first: bool,
}

#[derive(Debug, Default)]
struct PlanState {
    queue: VecDeque<Queued>,
    applied: usize,
}

/// A queue of faults shared between a test and its mock.
///
/// Cheap to clone: clones share the same queue. Faults fire in the order they were pushed;
/// each request consumes one count of the first queued fault that matches it.
#[derive(Debug, Clone, Default)]
pub struct FaultPlan {
    inner: Arc<Mutex<PlanState>>,
}

impl FaultPlan {
    /// An empty plan.
    pub fn new() -> Self {
        Self::default()
    }

    /// Applies `fault` to the next `times` requests. `times == 0` queues nothing.
    pub fn push(&self, fault: Fault, times: usize) -> &Self {
        self.push_for(FaultMatcher::any(), fault, times)
    }

    /// Applies `fault` to the next `times` requests that `matcher` accepts.
    pub fn push_for(&self, matcher: FaultMatcher, fault: Fault, times: usize) -> &Self {
        if times > 0 {
            self.lock().queue.push_back(Queued {
                matcher,
                fault,
                remaining: times,
                recording: Recording::default(),
                first: true,
            });
        }
        self
    }

    /// The next `n` requests get `status` with the default JSON error body.
    pub fn fail_next(&self, n: usize, status: u16) -> &Self {
        self.push(Fault::Status { status, body: None }, n)
    }

    /// The next `n` requests get a 429 with this `Retry-After`.
    pub fn throttle_next(&self, n: usize, retry_after: Option<RetryAfter>) -> &Self {
        self.push(Fault::TooManyRequests { retry_after }, n)
    }

    /// The next `n` requests are answered normally after `delay`.
    pub fn delay_next(&self, n: usize, delay: Duration) -> &Self {
        self.push(Fault::Delay(delay), n)
    }

    /// The next `n` requests get an HTML login page.
    pub fn html_next(&self, n: usize) -> &Self {
        self.push(Fault::Html, n)
    }

    /// The next `n` requests get a body that is not JSON.
    pub fn malformed_next(&self, n: usize) -> &Self {
        self.push(Fault::MalformedJson, n)
    }

    /// The next `n` requests get a JSON document cut in half.
    pub fn truncated_next(&self, n: usize) -> &Self {
        self.push(Fault::TruncatedJson, n)
    }

    /// The next `n` requests get an empty JSON body.
    pub fn empty_next(&self, n: usize) -> &Self {
        self.push(Fault::EmptyBody, n)
    }

    /// The next `n` requests lose their connection (needs the fault proxy).
    pub fn drop_next(&self, n: usize) -> &Self {
        self.push(Fault::DropConnection, n)
    }

    /// Consumes one count of the first queued fault matching `request`.
    pub(crate) fn take(&self, request: &wiremock::Request) -> Option<FaultAction> {
        match self.take_for(request.method.as_str(), request.url.path()) {
            Some(FaultAction::Replace(Fault::EchoRequest)) => {
                Some(FaultAction::Replace(echo(request)))
            }
            other => other,
        }
    }

    /// Consumes one count of the first queued fault matching a request with this method and
    /// path; what the mock's responder calls for every request.
    pub fn take_for(&self, method: &str, path: &str) -> Option<FaultAction> {
        let mut state = self.lock();
        let index = state
            .queue
            .iter()
            .position(|q| q.matcher.matches(method, path))?;
        let entry = &mut state.queue[index];
        entry.remaining -= 1;
        let fault = entry.fault.clone();
        let recording = entry.recording.clone();
        let first = std::mem::replace(&mut entry.first, false);
        if entry.remaining == 0 {
            state.queue.remove(index);
        }
        state.applied += 1;
        Some(match fault {
            Fault::Delay(d) => FaultAction::Delay(d),
            Fault::RepeatFirstAnswer if first => FaultAction::Record(recording),
            Fault::RepeatFirstAnswer => FaultAction::Replay(recording),
            other => FaultAction::Replace(other),
        })
    }

    /// How many faults have fired so far.
    pub fn applied(&self) -> usize {
        self.lock().applied
    }

    /// How many fault firings are still queued (the sum of remaining counts).
    pub fn pending(&self) -> usize {
        self.lock().queue.iter().map(|q| q.remaining).sum()
    }

    /// Drops every queued fault; the [`FaultPlan::applied`] count is kept.
    pub fn clear(&self) {
        self.lock().queue.clear();
    }

    fn lock(&self) -> MutexGuard<'_, PlanState> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use std::time::UNIX_EPOCH;

    use super::*;

    fn status(code: u16) -> FaultAction {
        FaultAction::Replace(Fault::Status {
            status: code,
            body: None,
        })
    }

    #[test]
    fn faults_fire_in_order_and_count_down() {
        let plan = FaultPlan::new();
        plan.fail_next(2, 503).fail_next(1, 500);
        assert_eq!(plan.pending(), 3);

        assert_eq!(plan.take_for("GET", "/items"), Some(status(503)));
        assert_eq!(plan.take_for("POST", "/x"), Some(status(503)));
        assert_eq!(plan.take_for("GET", "/items"), Some(status(500)));
        assert_eq!(plan.take_for("GET", "/items"), None);
        assert_eq!(plan.applied(), 3);
        assert_eq!(plan.pending(), 0);
    }

    #[test]
    fn matcher_targets_one_route_and_others_skip_it() {
        let plan = FaultPlan::new();
        plan.push_for(
            FaultMatcher::route("post", "/oauth/token"),
            Fault::TooManyRequests { retry_after: None },
            1,
        );
        plan.delay_next(1, Duration::from_millis(5));

        // A GET to /items skips the token fault and takes the delay queued after it.
        assert_eq!(
            plan.take_for("GET", "/items"),
            Some(FaultAction::Delay(Duration::from_millis(5)))
        );
        assert_eq!(
            plan.take_for("GET", "/oauth/token"),
            None,
            "method must match"
        );
        assert_eq!(
            plan.take_for("POST", "/oauth/token"),
            Some(FaultAction::Replace(Fault::TooManyRequests {
                retry_after: None
            }))
        );
        assert_eq!(plan.applied(), 2);
    }

    #[test]
    fn matcher_rules() {
        assert!(FaultMatcher::any().matches("DELETE", "/anything"));
        assert!(FaultMatcher::method("get").matches("GET", "/a"));
        assert!(!FaultMatcher::method("GET").matches("POST", "/a"));
        assert!(FaultMatcher::path("/items").matches("GET", "/api/items/3"));
        assert!(!FaultMatcher::path("/items").matches("GET", "/api/users"));
        assert!(!FaultMatcher::route("GET", "/items").matches("GET", "/users"));
    }

    #[test]
    fn zero_times_and_clear() {
        let plan = FaultPlan::new();
        plan.html_next(0);
        assert_eq!(plan.pending(), 0);
        plan.html_next(3);
        let shared = plan.clone();
        assert_eq!(
            shared.take_for("GET", "/"),
            Some(FaultAction::Replace(Fault::Html))
        );
        shared.clear();
        assert_eq!(plan.take_for("GET", "/"), None);
        assert_eq!(plan.applied(), 1, "clear keeps the applied count");
    }

    #[test]
    fn retry_after_header_values() {
        assert_eq!(RetryAfter::Seconds(3).header_value(), "3");
        let date = UNIX_EPOCH + Duration::from_secs(784_111_777);
        assert_eq!(
            RetryAfter::HttpDate(date).header_value(),
            "Sun, 06 Nov 1994 08:49:37 GMT"
        );
    }

    #[test]
    fn delay_keeps_the_normal_response_and_replace_ignores_it() {
        let mut called = false;
        let _ = FaultAction::Replace(Fault::Html).apply(|| {
            called = true;
            ResponseTemplate::new(200)
        });
        assert!(!called, "a replacing fault must not run the normal logic");
        assert!(Fault::Delay(Duration::ZERO).to_template().is_none());
    }

    #[test]
    fn faults_after_processing_run_the_normal_logic_then_replace_its_answer() {
        for fault in [
            Fault::StatusAfterProcessing { status: 502 },
            Fault::DropAfterProcessing,
        ] {
            assert!(fault.processes(), "{fault:?}");
            let mut called = false;
            let _ = FaultAction::Replace(fault.clone()).apply(|| {
                called = true;
                ResponseTemplate::new(201)
            });
            assert!(called, "{fault:?} must let the server do its work");
        }
        assert!(!Fault::Html.processes());
        assert!(!Fault::DropConnection.processes());
    }

    /// One response served from a fault's template.
    struct Served {
        status: u16,
        headers: http::HeaderMap,
        body: Vec<u8>,
    }

    impl Served {
        fn header(&self, name: &str) -> &str {
            self.headers[name].to_str().unwrap()
        }

        fn json(&self) -> serde_json::Result<serde_json::Value> {
            serde_json::from_slice(&self.body)
        }
    }

    #[tokio::test]
    async fn the_answer_after_processing_is_the_status_or_the_drop_request() {
        let served = serve(Fault::StatusAfterProcessing { status: 504 }).await;
        assert_eq!(served.status, 504);
        assert_eq!(served.json().unwrap()["status"], 504);
        let served = serve(Fault::DropAfterProcessing).await;
        assert_eq!(served.header(FAULT_HEADER), FAULT_DROP);
    }

    async fn serve(fault: Fault) -> Served {
        let server = wiremock::MockServer::start().await;
        wiremock::Mock::given(wiremock::matchers::any())
            .respond_with(fault.to_template().unwrap())
            .mount(&server)
            .await;
        let client = reqwest::Client::builder().no_proxy().build().unwrap();
        let resp = client.get(server.uri()).send().await.unwrap();
        Served {
            status: resp.status().as_u16(),
            headers: resp.headers().clone(),
            body: resp.bytes().await.unwrap().to_vec(),
        }
    }

    /// A server that answers `GET /page/N` with `{"page": N}`, through `plan`.
    struct Paged(FaultPlan);

    impl wiremock::Respond for Paged {
        fn respond(&self, request: &wiremock::Request) -> ResponseTemplate {
            let path = request.url.path().to_owned();
            let normal = || {
                let n: u32 = path.rsplit('/').next().unwrap().parse().unwrap();
                ResponseTemplate::new(200).set_body_json(serde_json::json!({ "page": n }))
            };
            match self.0.take(request) {
                Some(action) => action.apply(normal),
                None => normal(),
            }
        }
    }

    #[tokio::test]
    async fn repeat_first_answer_serves_the_first_page_again_then_stops() {
        let plan = FaultPlan::new();
        let server = wiremock::MockServer::start().await;
        wiremock::Mock::given(wiremock::matchers::any())
            .respond_with(Paged(plan.clone()))
            .mount(&server)
            .await;
        let client = reqwest::Client::builder().no_proxy().build().unwrap();
        let page = |n: u32| {
            let client = client.clone();
            let url = format!("{}/page/{n}", server.uri());
            async move {
                let v: serde_json::Value =
                    client.get(url).send().await.unwrap().json().await.unwrap();
                v["page"].as_u64().unwrap()
            }
        };
        plan.push_for(FaultMatcher::path("/page/"), Fault::RepeatFirstAnswer, 3);
        assert_eq!(page(1).await, 1, "the first request is answered normally");
        assert_eq!(page(2).await, 1, "then the first answer again");
        assert_eq!(page(3).await, 1);
        assert_eq!(page(4).await, 4, "the count is spent: normal again");
        assert_eq!(plan.applied(), 3);
    }

    #[tokio::test]
    async fn echo_request_sends_back_every_header_and_the_body() {
        let plan = FaultPlan::new();
        let server = wiremock::MockServer::start().await;
        wiremock::Mock::given(wiremock::matchers::any())
            .respond_with(Paged(plan.clone()))
            .mount(&server)
            .await;
        plan.push(Fault::EchoRequest, 1);
        let resp = reqwest::Client::builder()
            .no_proxy()
            .build()
            .unwrap()
            .post(format!("{}/page/1?token=q-canary", server.uri()))
            .header("authorization", "Bearer h-canary")
            .body("b-canary")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 400);
        let v: serde_json::Value = resp.json().await.unwrap();
        assert_eq!(v["echo"]["headers"]["authorization"], "Bearer h-canary");
        assert_eq!(v["echo"]["body"], "b-canary");
        assert!(
            v["echo"]["url"]
                .as_str()
                .unwrap()
                .contains("token=q-canary")
        );

        let r = serve(Fault::NotUtf8).await;
        assert_eq!(r.status, 200);
        assert!(std::str::from_utf8(&r.body).is_err());
    }

    #[tokio::test]
    async fn templates_produce_the_promised_responses() {
        let r = serve(Fault::TooManyRequests {
            retry_after: Some(RetryAfter::Seconds(7)),
        })
        .await;
        assert_eq!((r.status, r.header("retry-after")), (429, "7"));
        let limits = (
            r.header("x-ratelimit-limit"),
            r.header("x-ratelimit-remaining"),
        );
        assert_eq!(limits, ("100", "0"));
        assert!(r.json().is_ok());

        let r = serve(Fault::Status {
            status: 502,
            body: Some("bad gateway".into()),
        })
        .await;
        assert_eq!((r.status, r.header("content-type")), (502, "text/plain"));
        assert_eq!(r.body, b"bad gateway");

        let r = serve(Fault::TruncatedJson).await;
        assert_eq!(
            (r.status, r.header("content-type")),
            (200, "application/json")
        );
        assert_eq!(r.header("content-length"), r.body.len().to_string());
        assert!(r.json().unwrap_err().is_eof(), "cut mid-document");

        let r = serve(Fault::MalformedJson).await;
        assert_eq!(r.status, 200);
        assert!(r.json().unwrap_err().is_syntax());

        let r = serve(Fault::Html).await;
        assert!(r.header("content-type").starts_with("text/html"));
        assert!(r.status == 200 && String::from_utf8_lossy(&r.body).contains("<form"));

        let r = serve(Fault::EmptyBody).await;
        assert_eq!(
            (r.status, r.header("content-type")),
            (200, "application/json")
        );
        assert!(r.body.is_empty());

        let r = serve(Fault::DropConnection).await;
        assert_eq!((r.status, r.header(FAULT_HEADER)), (502, FAULT_DROP));
    }
}
