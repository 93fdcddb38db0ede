//! OpsRamp's per-tenant, per-minute rate limits (fact sheet §1.5) and its tokens
//! (§1.2): expired tokens are told apart from unknown ones, because OpsRamp answers
//! the first with 407 and the second with 401.

use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Which of OpsRamp's method classes a request falls in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RateClass {
    /// A paginated GET (`…/search`, `userGroups`, group members).
    PagedGet,
    /// Any other GET.
    Get,
    /// POST, PUT, DELETE.
    Write,
}

/// Requests allowed per window, per tenant and class.
///
/// The documented limits (develop.opsramp.com, 2024+) for the "Other" category (users,
/// groups, roles) are [`RateLimits::client`] and [`RateLimits::partner`], per minute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimits {
    /// Paginated GETs per window.
    pub paged_get: u32,
    /// Other GETs per window.
    pub get: u32,
    /// Writes per window.
    pub write: u32,
    /// The window (one minute on the real service).
    pub window: Duration,
}

impl RateLimits {
    /// A client (customer) tenant: 50 paginated GETs, 500 other GETs and 50 writes a
    /// minute.
    pub fn client() -> Self {
        RateLimits {
            paged_get: 50,
            get: 500,
            write: 50,
            window: Duration::from_secs(60),
        }
    }

    /// A partner (MSP) tenant: 150, 1500 and 150 a minute.
    pub fn partner() -> Self {
        RateLimits {
            paged_get: 150,
            get: 1500,
            write: 150,
            window: Duration::from_secs(60),
        }
    }

    /// No limit (headers still sent, with a huge limit).
    pub fn unlimited() -> Self {
        RateLimits {
            paged_get: u32::MAX,
            get: u32::MAX,
            write: u32::MAX,
            window: Duration::from_secs(60),
        }
    }

    /// The same limits over another window (short windows keep tests fast).
    #[must_use]
    pub fn per(mut self, window: Duration) -> Self {
        self.window = window.max(Duration::from_millis(10));
        self
    }

    fn of(&self, class: RateClass) -> u32 {
        match class {
            RateClass::PagedGet => self.paged_get,
            RateClass::Get => self.get,
            RateClass::Write => self.write,
        }
    }
}

/// Fixed windows counted from the mock's start, as OpsRamp's reset header implies.
#[derive(Debug)]
pub(crate) struct Windows {
    limits: RateLimits,
    started: Instant,
    started_wall: SystemTime,
    counts: HashMap<(String, RateClass), (u64, u32)>,
    pub(crate) throttled: usize,
}

/// What the limiter decided, with the header values to send.
#[derive(Debug, Clone)]
pub(crate) struct Verdict {
    pub(crate) allowed: bool,
    pub(crate) limit: u32,
    pub(crate) remaining: u32,
    /// UTC epoch seconds of the window's end, rounded up.
    pub(crate) reset: u64,
}

impl Windows {
    pub(crate) fn new(limits: RateLimits) -> Self {
        Windows {
            limits,
            started: Instant::now(),
            started_wall: SystemTime::now(),
            counts: HashMap::new(),
            throttled: 0,
        }
    }

    pub(crate) fn set_limits(&mut self, limits: RateLimits) {
        self.limits = limits;
        self.counts.clear();
    }

    /// Counts one request of `class` for `tenant`.
    pub(crate) fn check(&mut self, tenant: &str, class: RateClass) -> Verdict {
        let window = self.limits.window;
        let index = (self.started.elapsed().as_nanos() / window.as_nanos()) as u64;
        let end = self.started_wall + window * (index as u32 + 1);
        let reset = end
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() + u64::from(d.subsec_nanos() > 0))
            .unwrap_or(0);
        let limit = self.limits.of(class);
        let entry = self
            .counts
            .entry((tenant.to_owned(), class))
            .or_insert((index, 0));
        if entry.0 != index {
            *entry = (index, 0);
        }
        let allowed = entry.1 < limit;
        if allowed {
            entry.1 += 1;
        } else {
            self.throttled += 1;
        }
        Verdict {
            allowed,
            limit,
            remaining: limit - entry.1,
            reset,
        }
    }
}

/// What a bearer token is to the mock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenState {
    Valid,
    Expired,
    Unknown,
}

/// Access tokens with their expiry.
#[derive(Debug, Default)]
pub(crate) struct Tokens {
    tokens: HashMap<String, Instant>,
    pub(crate) issued: usize,
}

impl Tokens {
    pub(crate) fn issue(&mut self, ttl: Duration) -> String {
        let mut token = String::with_capacity(36);
        token.extend(std::iter::repeat_with(fastrand::alphanumeric).take(36));
        let token = token.to_ascii_lowercase();
        self.tokens.insert(token.clone(), Instant::now() + ttl);
        self.issued += 1;
        token
    }

    pub(crate) fn state(&self, token: &str) -> TokenState {
        match self.tokens.get(token) {
            Some(at) if Instant::now() < *at => TokenState::Valid,
            Some(_) => TokenState::Expired,
            None => TokenState::Unknown,
        }
    }

    pub(crate) fn expire_all(&mut self) {
        let now = Instant::now();
        for at in self.tokens.values_mut() {
            *at = now;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_count_per_tenant_and_class() {
        let mut w = Windows::new(RateLimits::client());
        for i in 0..50 {
            let v = w.check("client_7", RateClass::PagedGet);
            assert!(v.allowed, "request {i}");
            assert_eq!(v.remaining, 49 - i);
        }
        let v = w.check("client_7", RateClass::PagedGet);
        assert!(!v.allowed);
        assert_eq!((v.limit, v.remaining), (50, 0));
        assert!(w.check("client_7", RateClass::Get).allowed, "other class");
        assert!(
            w.check("msp_1", RateClass::PagedGet).allowed,
            "other tenant"
        );
        assert_eq!(w.throttled, 1);
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        assert!(v.reset > now && v.reset <= now + 61, "{} vs {now}", v.reset);
    }

    #[test]
    fn expired_and_unknown_tokens_differ() {
        let mut t = Tokens::default();
        let a = t.issue(Duration::from_secs(60));
        assert_eq!(t.state(&a), TokenState::Valid);
        assert_eq!(t.state("nope"), TokenState::Unknown);
        t.expire_all();
        assert_eq!(t.state(&a), TokenState::Expired);
        let b = t.issue(Duration::from_secs(60));
        assert_eq!(t.state(&b), TokenState::Valid);
        assert_eq!(t.issued, 2);
    }
}
