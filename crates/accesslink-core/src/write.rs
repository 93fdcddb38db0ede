//! Writes that are not safe to repeat blindly: send, and after an ambiguous failure ask
//! "did it land?" before sending again.
//!
//! A create (`POST`) whose answer was lost, timed out or came back 5xx may or may not
//! have been applied. Repeating it blindly risks a second ticket, a second account or a
//! second comment; giving up risks reporting a failure for a write that happened.
//! [`write_with_lookup`] does what every connector needs instead:
//!
//! 1. send the write;
//! 2. on a retryable failure ([`Error::is_retryable`](crate::Error::is_retryable): 5xx, 429, timeouts, broken
//!    connections), look the object up with the caller's `lookup`; found means the
//!    write landed, and that is the answer ([`Written::Found`]);
//! 3. not found: wait (the server's `Retry-After`, or the jittered back-off) and send
//!    again, until [`RetryConfig::max_attempts`] sends or
//!    [`RetryConfig::max_total_delay`] of waiting are spent;
//! 4. a look-up happens after *every* ambiguous failure, the last one included, so a
//!    write that landed on the last attempt is reported as done, not failed.
//!
//! Final errors (4xx, a refused input) end at once with the error. The `send` closure
//! gets an [`Attempt`], so it can decide what a conflict means: "already exists" on the
//! first attempt, "created by us" after an earlier attempt may have landed.
//!
//! ```
//! use accesslink_core::http::RetryConfig;
//! use accesslink_core::write::{write_with_lookup, Written};
//! # async fn create(_: u32) -> accesslink_core::Result<String> { Ok("T1".into()) }
//! # async fn find() -> accesslink_core::Result<Option<String>> { Ok(None) }
//!
//! # async fn run() -> accesslink_core::Result<()> {
//! let retry = RetryConfig::default();
//! let ticket = write_with_lookup(&retry, "create ticket", |a| create(a.number), || find())
//!     .await?
//!     .into_inner();
//! # Ok(()) }
//! ```
//!
//! The client underneath must not repeat the write itself: a `POST` is not retried by
//! [`HttpClient`](crate::http::HttpClient) after an ambiguous failure unless marked
//! [`retry_safe`](crate::http::Request::retry_safe), so there is one budget per write.

use std::future::Future;
use std::time::Duration;

use crate::error::{ErrorKind, Result};
use crate::http::RetryConfig;

/// Which send this is, for the `send` closure of [`write_with_lookup`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Attempt {
    /// 1 for the first send.
    pub number: u32,
    /// Whether an earlier send of this write may have been applied by the server (its
    /// answer was lost, timed out or was a 5xx; a 429 is known not to have been).
    pub maybe_sent: bool,
}

/// How a write ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Written<T> {
    /// The server answered the send.
    Sent(T),
    /// A send failed ambiguously and the look-up found the object: it landed.
    Found(T),
}

impl<T> Written<T> {
    /// The value, however it was obtained.
    pub fn into_inner(self) -> T {
        match self {
            Written::Sent(v) | Written::Found(v) => v,
        }
    }

    /// Whether the value came from a look-up after an ambiguous failure.
    pub fn was_found(&self) -> bool {
        matches!(self, Written::Found(_))
    }

    /// Maps the value.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Written<U> {
        match self {
            Written::Sent(v) => Written::Sent(f(v)),
            Written::Found(v) => Written::Found(f(v)),
        }
    }
}

/// Sends a write that is not safe to repeat, looking it up after every ambiguous
/// failure before sending again; see the [module docs](self).
///
/// `what` names the write in logs (`"create incident"`). A failing look-up ends the
/// write with the write's own error (the look-up's is logged): without the look-up,
/// another send could duplicate it.
pub async fn write_with_lookup<T, S, SF, L, LF>(
    retry: &RetryConfig,
    what: &str,
    mut send: S,
    mut lookup: L,
) -> Result<Written<T>>
where
    S: FnMut(Attempt) -> SF,
    SF: Future<Output = Result<T>>,
    L: FnMut() -> LF,
    LF: Future<Output = Result<Option<T>>>,
{
    let max_attempts = retry.max_attempts.max(1);
    let mut attempt = Attempt {
        number: 1,
        maybe_sent: false,
    };
    let mut waited = Duration::ZERO;
    loop {
        let error = match send(attempt).await {
            Ok(v) => return Ok(Written::Sent(v)),
            Err(e) if !e.is_retryable() => return Err(e),
            Err(e) => e,
        };
        // A throttled send was refused before it was processed; anything else
        // retryable may have been applied.
        attempt.maybe_sent |= error.kind() != ErrorKind::RateLimited;
        tracing::warn!(what, attempt = attempt.number, error = %error, "write failed ambiguously; looking before sending again");
        match lookup().await {
            Ok(Some(v)) => return Ok(Written::Found(v)),
            Ok(None) => {}
            Err(look) => {
                tracing::warn!(what, error = %look, "look-up after a failed write failed; not sending again");
                return Err(error);
            }
        }
        let delay = retry.delay_after(&error, attempt.number);
        if attempt.number >= max_attempts || waited + delay > retry.max_total_delay {
            return Err(error);
        }
        waited += delay;
        tokio::time::sleep(delay).await;
        attempt.number += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{ApiError, Error};
    use http::StatusCode;
    use std::sync::Mutex;

    fn api(status: u16) -> Error {
        let s = StatusCode::from_u16(status).unwrap();
        ApiError::new(ErrorKind::from_status(s), s, "POST /x").into()
    }

    /// What one step of a scripted run does.
    #[derive(Clone, Copy, Debug)]
    enum Step {
        /// The send succeeds.
        Ok,
        /// The send fails with this status; `landed` says whether the server applied it.
        Fail(u16, bool),
    }

    /// Runs the combinator against a scripted server; returns the outcome, the sends
    /// made, the look-ups made, objects on the server, and the `Attempt`s seen.
    async fn run(
        max_attempts: u32,
        script: &[Step],
    ) -> (Result<Written<u32>>, usize, usize, u32, Vec<Attempt>) {
        let retry = RetryConfig::default()
            .max_attempts(max_attempts)
            .initial_backoff(Duration::from_millis(1))
            .max_backoff(Duration::from_millis(2));
        let stored = Mutex::new(0u32);
        let sends = Mutex::new(Vec::new());
        let looks = Mutex::new(0usize);
        let out = write_with_lookup(
            &retry,
            "test write",
            |a| {
                let i = sends.lock().unwrap().len();
                sends.lock().unwrap().push(a);
                let step = script.get(i).copied().unwrap_or(Step::Ok);
                let stored = &stored;
                async move {
                    match step {
                        Step::Ok => {
                            *stored.lock().unwrap() += 1;
                            Ok(7)
                        }
                        Step::Fail(status, landed) => {
                            if landed {
                                *stored.lock().unwrap() += 1;
                            }
                            Err(api(status))
                        }
                    }
                }
            },
            || {
                *looks.lock().unwrap() += 1;
                let found = *stored.lock().unwrap() > 0;
                async move { Ok(found.then_some(7)) }
            },
        )
        .await;
        let sends = sends.into_inner().unwrap();
        let n = sends.len();
        (
            out,
            n,
            looks.into_inner().unwrap(),
            stored.into_inner().unwrap(),
            sends,
        )
    }

    #[tokio::test]
    async fn table() {
        use Step::*;
        // (attempts, script, Ok(found?) or Err(kind), sends, looks, stored)
        type Want = std::result::Result<bool, ErrorKind>;
        type Row<'a> = (u32, &'a [Step], Want, usize, usize, u32);
        let rows: &[Row<'_>] = &[
            (3, &[Ok], Result::Ok(false), 1, 0, 1),
            // Lost answer, the write landed: found by the look-up, never sent twice.
            (3, &[Fail(502, true)], Result::Ok(true), 1, 1, 1),
            // Failed for real: looked, not found, sent again.
            (3, &[Fail(503, false), Ok], Result::Ok(false), 2, 1, 1),
            // Throttled twice, then through.
            (
                3,
                &[Fail(429, false), Fail(429, false), Ok],
                Result::Ok(false),
                3,
                2,
                1,
            ),
            // Out of attempts, nothing landed: the last error, after a last look.
            (
                2,
                &[Fail(500, false), Fail(500, false)],
                Err(ErrorKind::Unavailable),
                2,
                2,
                0,
            ),
            // Landed on the last attempt: the last look finds it.
            (
                2,
                &[Fail(500, false), Fail(504, true)],
                Result::Ok(true),
                2,
                2,
                1,
            ),
            // Final errors end at once, without a look.
            (
                3,
                &[Fail(400, false)],
                Err(ErrorKind::InvalidInput),
                1,
                0,
                0,
            ),
            (3, &[Fail(409, false)], Err(ErrorKind::Conflict), 1, 0, 0),
            // One attempt configured: still one look after an ambiguous failure.
            (1, &[Fail(500, true)], Result::Ok(true), 1, 1, 1),
            (1, &[Fail(500, false)], Err(ErrorKind::Unavailable), 1, 1, 0),
        ];
        for (i, (attempts, script, want, sends, looks, stored)) in rows.iter().enumerate() {
            let (out, n_sends, n_looks, n_stored, _) = run(*attempts, script).await;
            let got = out.map(|w| w.was_found()).map_err(|e| e.kind());
            assert_eq!(got, *want, "row {i}: outcome");
            assert_eq!(n_sends, *sends, "row {i}: sends");
            assert_eq!(n_looks, *looks, "row {i}: look-ups");
            assert_eq!(n_stored, *stored, "row {i}: objects on the server");
            assert!(n_stored <= 1, "row {i}: duplicated write");
        }
    }

    #[tokio::test]
    async fn attempts_say_whether_an_earlier_send_may_have_landed() {
        use Step::*;
        let (_, _, _, _, seen) = run(4, &[Fail(429, false), Fail(502, false), Ok]).await;
        let seen: Vec<(u32, bool)> = seen.iter().map(|a| (a.number, a.maybe_sent)).collect();
        assert_eq!(seen, vec![(1, false), (2, false), (3, true)]);
    }

    #[tokio::test]
    async fn a_failing_lookup_ends_with_the_writes_error() {
        let retry = RetryConfig::default().initial_backoff(Duration::from_millis(1));
        let sends = Mutex::new(0);
        let out: Result<Written<u32>> = write_with_lookup(
            &retry,
            "w",
            |_| {
                *sends.lock().unwrap() += 1;
                async { Err(api(502)) }
            },
            || async { Err(Error::other("lookup broke")) },
        )
        .await;
        let e = out.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Unavailable, "{e}");
        assert_eq!(*sends.lock().unwrap(), 1, "no second send without a look");
    }

    #[tokio::test]
    async fn the_delay_budget_ends_the_write() {
        let retry = RetryConfig::default()
            .max_attempts(10)
            .initial_backoff(Duration::from_millis(40))
            .max_backoff(Duration::from_millis(40))
            .max_total_delay(Duration::from_millis(50));
        let sends = Mutex::new(0);
        let out: Result<Written<u32>> = write_with_lookup(
            &retry,
            "w",
            |_| {
                *sends.lock().unwrap() += 1;
                async { Err(api(503)) }
            },
            || async { Ok(None) },
        )
        .await;
        assert!(out.is_err());
        // Jittered delays are 20-40 ms: two fit in 50 ms at most, one at least.
        let n = *sends.lock().unwrap();
        assert!((2..=3).contains(&n), "{n} sends");
    }
}
