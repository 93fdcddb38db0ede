//! Helpers that turn each step of a check into one line.

use std::fmt;

use accesslink_core::redact::truncate;
use accesslink_core::{Error, ErrorKind, Result, Ticket, TicketRef, TicketState};

use super::{Check, ConformanceFailure};

/// Builds failures for one check, so each step reads as one line.
#[derive(Clone, Copy)]
pub(super) struct Cx(pub(super) Check);

impl Cx {
    pub(super) fn fail(
        self,
        step: &str,
        expected: impl Into<String>,
        found: impl Into<String>,
    ) -> ConformanceFailure {
        ConformanceFailure::new(self.0, step, expected, found)
    }

    pub(super) fn ensure(
        self,
        holds: bool,
        step: &str,
        expected: impl Into<String>,
        found: impl FnOnce() -> String,
    ) -> Result<(), ConformanceFailure> {
        if holds {
            Ok(())
        } else {
            Err(self.fail(step, expected, found()))
        }
    }

    /// The value of a call that must succeed.
    pub(super) fn ok<T>(self, step: &str, r: Result<T>) -> Result<T, ConformanceFailure> {
        r.map_err(|e| ConformanceFailure::from_error(self.0, step, "success", e))
    }

    /// The value of a read that must find something.
    pub(super) fn some<T>(self, step: &str, r: Result<Option<T>>) -> Result<T, ConformanceFailure> {
        match r {
            Ok(Some(v)) => Ok(v),
            Ok(None) => Err(self.fail(step, "Some(..)", "None")),
            Err(e) => Err(ConformanceFailure::from_error(self.0, step, "Some(..)", e)),
        }
    }

    /// A call that must fail with `kind`.
    pub(super) fn err_kind<T: fmt::Debug>(
        self,
        step: &str,
        r: Result<T>,
        kind: ErrorKind,
    ) -> Result<Error, ConformanceFailure> {
        let expected = format!("an error of kind `{kind}`");
        match r {
            Err(e) if e.kind() == kind => Ok(e),
            Err(e) => Err(ConformanceFailure::from_error(self.0, step, expected, e)),
            Ok(v) => Err(self.fail(step, expected, format!("Ok({})", short(&v)))),
        }
    }

    pub(super) fn same_ticket(
        self,
        step: &str,
        got: &TicketRef,
        want: &TicketRef,
    ) -> Result<(), ConformanceFailure> {
        self.ensure(
            same_ticket(got, want),
            step,
            format!("the same ticket as {want:?}"),
            || format!("{got:?}"),
        )
    }

    pub(super) fn in_state(
        self,
        step: &str,
        t: &Ticket,
        wanted: &str,
        holds: impl FnOnce(TicketState) -> bool,
    ) -> Result<(), ConformanceFailure> {
        self.ensure(holds(t.status.state), step, wanted.to_owned(), || {
            format!("state {} (raw {:?})", t.status.state, t.status.raw)
        })
    }
}

/// A value's `Debug`, cut short for a message.
pub(super) fn short(v: &impl fmt::Debug) -> String {
    truncate(&format!("{v:?}"), 160)
}

/// A user-supplied string, cut short and escaped for a message.
pub(super) fn quoted(raw: &str) -> String {
    format!("{:?}", truncate(raw, 40))
}

/// Whether two references name the same ticket: every part both carry agrees, and
/// they share at least one part (create may return the id and number, a parse only the
/// number).
pub(super) fn same_ticket(a: &TicketRef, b: &TicketRef) -> bool {
    let ids = match (a.id(), b.id()) {
        (Some(x), Some(y)) => Some(x == y),
        _ => None,
    };
    let numbers = match (a.number(), b.number()) {
        (Some(x), Some(y)) => Some(x.eq_ignore_ascii_case(y)),
        _ => None,
    };
    match (ids, numbers) {
        (None, None) => false,
        (ids, numbers) => ids.unwrap_or(true) && numbers.unwrap_or(true),
    }
}
