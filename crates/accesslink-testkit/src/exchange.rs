//! The exchange log: each request with the status and JSON body the mock answered it
//! with, kept only while a mock records them (`OpsRampMock::record_exchanges`,
//! `OpsGenieMock::record_exchanges`), so contract tests can validate both directions
//! without a proxy.

#[cfg(any(
    feature = "opsramp",
    feature = "opsgenie",
    feature = "topdesk",
    feature = "jira"
))]
use std::cell::{Cell, RefCell};

use serde_json::Value;
#[cfg(any(
    feature = "opsramp",
    feature = "opsgenie",
    feature = "topdesk",
    feature = "jira"
))]
use wiremock::Request;

/// One request and the mock's answer to it.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Exchange {
    /// `GET`, `POST`, …
    pub method: String,
    /// The path (`/api/v2/tenants/client_7/users/search`, `/v2/users`).
    pub path: String,
    /// The raw query string, if any.
    pub query: Option<String>,
    /// The request body as received.
    pub request_body: Vec<u8>,
    /// The answer's status; `None` when a queued fault replaced the answer.
    pub status: Option<u16>,
    /// The answer's JSON body; `None` when a fault replaced it.
    pub response_body: Option<Value>,
}

impl Exchange {
    /// The request body as JSON, when it is JSON.
    pub fn request_json(&self) -> Option<Value> {
        serde_json::from_slice(&self.request_body).ok()
    }
}

#[cfg(any(
    feature = "opsramp",
    feature = "opsgenie",
    feature = "topdesk",
    feature = "jira"
))]
thread_local! {
    /// Whether the answer being built on this thread is to be captured.
    static CAPTURING: Cell<bool> = const { Cell::new(false) };
    /// The status and body of the last JSON answer built on this thread while capturing.
    static CAPTURED: RefCell<Option<(u16, Value)>> = const { RefCell::new(None) };
}

/// Called by the JSON answer builder: keeps a copy while a capture is running. The
/// responder builds each answer synchronously on one thread, so a thread-local is
/// enough to hand the body back without changing every handler's return type.
#[cfg(any(
    feature = "opsramp",
    feature = "opsgenie",
    feature = "topdesk",
    feature = "jira"
))]
pub(crate) fn note(status: u16, body: &Value) {
    if CAPTURING.with(Cell::get) {
        CAPTURED.with(|c| *c.borrow_mut() = Some((status, body.clone())));
    }
}

/// Runs `answer` and returns the exchange it produced, when `record` is set.
#[cfg(any(
    feature = "opsramp",
    feature = "opsgenie",
    feature = "topdesk",
    feature = "jira"
))]
pub(crate) fn capture<T>(
    record: bool,
    request: &Request,
    answer: impl FnOnce() -> T,
) -> (T, Option<Exchange>) {
    if !record {
        return (answer(), None);
    }
    CAPTURED.with(|c| c.borrow_mut().take());
    CAPTURING.with(|c| c.set(true));
    let out = answer();
    CAPTURING.with(|c| c.set(false));
    let captured = CAPTURED.with(|c| c.borrow_mut().take());
    let (status, response_body) = match captured {
        Some((s, b)) => (Some(s), Some(b)),
        None => (None, None),
    };
    let exchange = Exchange {
        method: request.method.as_str().to_owned(),
        path: request.url.path().to_owned(),
        query: request.url.query().map(str::to_owned),
        request_body: request.body.clone(),
        status,
        response_body,
    };
    (out, Some(exchange))
}
