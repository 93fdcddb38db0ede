//! The org's daily API quota, as every answer reports it.
//!
//! Salesforce sends `Sforce-Limit-Info: api-usage=used/limit` with every REST answer
//! (fact sheet §3 "Errors, limits, quirks"); when the 24-hour quota is spent, every call
//! is 403 `REQUEST_LIMIT_EXCEEDED` without a `Retry-After` until the window rolls on,
//! which stops the gate and leavers along with the import that spent it. So the client
//! reads the header on every answer ([`ApiUsageTracker`]), hands each reading to an
//! embedder's [`ApiUsageMetrics`], and, with `api_budget.import_stop_percent` set, stops
//! listings (imports) once the reported usage reaches that share of the quota, leaving
//! the rest for the gate and single writes.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use accesslink_core::error::ApiError;
use accesslink_core::{Error, ErrorKind, Result};
use http::StatusCode;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// One reading of `Sforce-Limit-Info: api-usage=used/limit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ApiUsage {
    /// API requests used in the last 24 hours.
    pub used: u64,
    /// The org's 24-hour quota.
    pub limit: u64,
}

impl ApiUsage {
    /// Parses a header value such as `api-usage=25/15000` (other `key=value` parts, as
    /// `per-app-api-usage=…`, are skipped); `None` when it holds no usable reading.
    pub fn parse(header: &str) -> Option<ApiUsage> {
        header.split([',', ';']).find_map(|part| {
            let (key, value) = part.trim().split_once('=')?;
            if !key.trim().eq_ignore_ascii_case("api-usage") {
                return None;
            }
            let (used, limit) = value.trim().split_once('/')?;
            let used = used.trim().parse().ok()?;
            let limit: u64 = limit.trim().parse().ok()?;
            (limit > 0).then_some(ApiUsage { used, limit })
        })
    }

    /// The share of the quota used, in percent (may exceed 100).
    pub fn percent(&self) -> f64 {
        self.used as f64 * 100.0 / self.limit as f64
    }
}

impl fmt::Display for ApiUsage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "api-usage {}/{} ({:.1} %)",
            self.used,
            self.limit,
            self.percent()
        )
    }
}

/// Receives every [`ApiUsage`] reading (forward it to your metrics system). Called
/// inline on the request path: keep it cheap and never block.
pub trait ApiUsageMetrics: Send + Sync + fmt::Debug {
    /// Records one reading.
    fn record(&self, usage: ApiUsage);
}

/// The daily-quota budget: `api_budget = { import_stop_percent = 90 }`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ApiBudget {
    /// Listings (account, entitlement, grant and ticket imports) stop with a
    /// `RateLimited` error once the org's reported usage reaches this share of its
    /// daily quota (1-100); gate reads and single writes still go out. Default: no stop.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub import_stop_percent: Option<u8>,
}

/// The last reading seen, and where readings go. Shared by the client's error parser,
/// which sees every answer.
#[derive(Default)]
pub struct ApiUsageTracker {
    /// `used << 32 | limit`, 0 before the first reading.
    last: AtomicU64,
    metrics: RwLock<Option<Arc<dyn ApiUsageMetrics>>>,
}

impl fmt::Debug for ApiUsageTracker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiUsageTracker")
            .field("last", &self.last())
            .finish_non_exhaustive()
    }
}

impl ApiUsageTracker {
    /// Reads the header of one answer, if it has one.
    pub fn observe(&self, header: Option<&str>) {
        let Some(u) = header.and_then(ApiUsage::parse) else {
            return;
        };
        let packed = (u.used.min(u32::MAX.into()) << 32) | u.limit.min(u32::MAX.into());
        self.last.store(packed, Ordering::Relaxed);
        let metrics = self
            .metrics
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        if let Some(m) = metrics {
            m.record(u);
        }
    }

    /// The last reading, if any answer carried one.
    pub fn last(&self) -> Option<ApiUsage> {
        let packed = self.last.load(Ordering::Relaxed);
        (packed != 0).then_some(ApiUsage {
            used: packed >> 32,
            limit: packed & u64::from(u32::MAX),
        })
    }

    /// Sends every later reading to `metrics`.
    pub fn set_metrics(&self, metrics: Arc<dyn ApiUsageMetrics>) {
        *self
            .metrics
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(metrics);
    }

    /// `Ok` when an import may go on: no threshold, no reading yet, or usage below it.
    /// Otherwise a `RateLimited` error (code `API_BUDGET_THRESHOLD`) naming the usage.
    pub fn check_import(&self, budget: &ApiBudget, what: &str) -> Result<()> {
        let (Some(stop), Some(u)) = (budget.import_stop_percent, self.last()) else {
            return Ok(());
        };
        if u.percent() < f64::from(stop) {
            return Ok(());
        }
        // No answer was refused: the status is the one the quota itself would bring
        // (too many requests); the code says it is our own threshold.
        let e = ApiError::new(
            ErrorKind::RateLimited,
            StatusCode::TOO_MANY_REQUESTS,
            format!("salesforce {what}"),
        )
        .with_code("API_BUDGET_THRESHOLD")
        .with_message(format!(
            "the org reported {u}, at or over the import threshold of {stop} % of its daily \
             quota (api_budget.import_stop_percent); the import stops to leave the rest for \
             the gate and single writes"
        ));
        Err(Error::Api(Box::new(e)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_readings() {
        assert_eq!(
            ApiUsage::parse("api-usage=25/15000"),
            Some(ApiUsage {
                used: 25,
                limit: 15000
            })
        );
        assert_eq!(
            ApiUsage::parse("per-app-api-usage=3/100(appName=x), api-usage=7/50"),
            Some(ApiUsage { used: 7, limit: 50 })
        );
        assert_eq!(ApiUsage::parse("api-usage=7/0"), None);
        assert_eq!(ApiUsage::parse("api-usage=x/10"), None);
        assert_eq!(ApiUsage::parse(""), None);
    }

    #[test]
    fn threshold_stops_at_the_share() {
        let t = ApiUsageTracker::default();
        let budget = ApiBudget {
            import_stop_percent: Some(90),
        };
        t.check_import(&budget, "x").unwrap();
        t.observe(Some("api-usage=899/1000"));
        t.check_import(&budget, "x").unwrap();
        t.observe(Some("api-usage=900/1000"));
        let e = t.check_import(&budget, "user listing").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::RateLimited);
        assert_eq!(e.vendor_code(), Some("API_BUDGET_THRESHOLD"));
        assert!(e.to_string().contains("900/1000"), "{e}");
        t.check_import(&ApiBudget::default(), "x").unwrap();
    }
}
