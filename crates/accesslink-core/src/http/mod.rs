//! HTTP plumbing shared by every connector.
//!
//! One [`HttpClient`] per connector: base URL, auth provider, retry classifier with
//! jittered back-off, timeouts, an optional client-side [`Pacer`] (rate limiter),
//! capped bodies, JSON decoding that names the JSON path, and a `tracing` span per
//! request.

mod client;
mod hooks;
mod ratelimit;
mod request;
mod response;
pub mod retry;
mod settings;
mod timeout;
mod tls;

pub use client::{
    AuthFailureDetector, DEFAULT_MAX_BODY_BYTES, ErrorParser, HttpClient, HttpClientBuilder,
    VendorError,
};
pub use hooks::{
    HttpCounters, HttpCountersSnapshot, HttpEvent, HttpMetrics, ResetFormat, ResetHeader,
    RetryClassifier,
};
pub use ratelimit::{Pacer, RateLimitConfig};
pub use request::{Body, Request};
pub use response::Response;
pub use retry::{RetryConfig, RetryDecision, RetryKind};
pub use settings::HttpSettings;
pub use timeout::TimeoutConfig;
