//! Timeouts: connect, one attempt, the whole operation.

use std::time::Duration;

/// Timeout settings; `None` fields take the documented defaults. In settings files:
/// `timeouts = { connect = "5s", attempt = "20s", total = "2m" }`.
#[derive(
    Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct TimeoutConfig {
    /// Establishing a connection (default 10 s).
    #[serde(with = "humantime_serde", skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<String>")]
    pub connect: Option<Duration>,
    /// One attempt, from sending to the last body byte (default 30 s).
    #[serde(with = "humantime_serde", skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<String>")]
    pub attempt: Option<Duration>,
    /// The whole operation, retries and back-off included (default 120 s).
    #[serde(with = "humantime_serde", skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<String>")]
    pub total: Option<Duration>,
}

impl TimeoutConfig {
    /// Defaults for every field.
    pub fn new() -> Self {
        TimeoutConfig::default()
    }

    /// Sets the connect timeout.
    #[must_use]
    pub fn connect(mut self, d: Duration) -> Self {
        self.connect = Some(d);
        self
    }

    /// Sets the per-attempt timeout.
    #[must_use]
    pub fn attempt(mut self, d: Duration) -> Self {
        self.attempt = Some(d);
        self
    }

    /// Sets the whole-operation timeout.
    #[must_use]
    pub fn total(mut self, d: Duration) -> Self {
        self.total = Some(d);
        self
    }

    /// Fills fields that are unset here from `other`.
    #[must_use]
    pub fn take_unset_from(self, other: &TimeoutConfig) -> Self {
        TimeoutConfig {
            connect: self.connect.or(other.connect),
            attempt: self.attempt.or(other.attempt),
            total: self.total.or(other.total),
        }
    }

    pub(crate) fn connect_or_default(&self) -> Duration {
        self.connect.unwrap_or(Duration::from_secs(10))
    }

    pub(crate) fn attempt_or_default(&self) -> Duration {
        self.attempt.unwrap_or(Duration::from_secs(30))
    }

    pub(crate) fn total_or_default(&self) -> Duration {
        self.total.unwrap_or(Duration::from_secs(120))
    }
}
