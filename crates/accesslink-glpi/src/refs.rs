//! Ticket references and correlation tags: checked before anything is sent.
//!
//! GLPI tickets and changes are numbered by id. A user may type `123` or `#123` for
//! ticket 123, and `CHG-123`, `CHG123`, `CHG#123` or `Change-123` (any case) for change
//! 123. Anything else — signs, spaces inside, leading zeros, non-ASCII digits, more than
//! 18 digits — is `InvalidInput`.

use accesslink_core::redact::truncate;
use accesslink_core::{CorrelationId, Error, Result, TicketRef};

use crate::status::ItilKind;

/// Change prefixes, longest first so `change-` wins over `chg`.
const CHANGE_PREFIXES: [&str; 6] = ["change-", "change#", "chg-", "chg#", "chg", "change"];

/// The longest input worth looking at; longer is rejected without echoing it whole.
const MAX_RAW: usize = 64;

/// A positive id of at most 18 ASCII digits, without sign or leading zero.
pub(crate) fn parse_id(s: &str) -> Option<u64> {
    let ok = !s.is_empty()
        && s.len() <= 18
        && s.bytes().all(|b| b.is_ascii_digit())
        && !s.starts_with('0');
    ok.then(|| s.parse().ok()).flatten()
}

/// A user-typed ticket or change id.
pub(crate) fn parse_raw(raw: &str) -> Result<(ItilKind, u64)> {
    let bad = || {
        Error::invalid_input(format!(
            "{:?} is not a GLPI ticket or change id (a positive number, `#123`, or `CHG-123` for a change)",
            truncate(raw, 60)
        ))
    };
    if raw.len() > MAX_RAW {
        return Err(bad());
    }
    let s = raw.trim();
    let lower = s.to_ascii_lowercase();
    let (kind, digits) = if let Some(rest) = s.strip_prefix('#') {
        (ItilKind::Ticket, rest)
    } else if let Some(p) = CHANGE_PREFIXES.iter().find(|p| lower.starts_with(**p)) {
        // The prefixes are ASCII, so the byte offset is a char boundary of `s` too.
        (ItilKind::Change, &s[p.len()..])
    } else {
        (ItilKind::Ticket, s)
    };
    parse_id(digits).map(|id| (kind, id)).ok_or_else(bad)
}

/// The reference of an item: the id, the number people see, and the itemtype as scope.
pub(crate) fn reference(kind: ItilKind, id: u64) -> TicketRef {
    let number = match kind {
        ItilKind::Ticket => id.to_string(),
        ItilKind::Change => format!("CHG-{id}"),
    };
    TicketRef::by_id_and_number(id.to_string(), number).with_scope(kind.itemtype())
}

/// Checks a reference built by hand (with `TicketRef::by_id` and friends) as strictly as
/// `parse_ticket_ref` checks typed input, and says which item it names.
pub(crate) fn resolve(r: &TicketRef) -> Result<(ItilKind, u64)> {
    let scope = match r.scope() {
        None => None,
        Some(s) if s.eq_ignore_ascii_case("Ticket") => Some(ItilKind::Ticket),
        Some(s) if s.eq_ignore_ascii_case("Change") => Some(ItilKind::Change),
        Some(s) => {
            return Err(Error::invalid_input(format!(
                "GLPI ticket reference scope {:?} is neither Ticket nor Change",
                truncate(s, 40)
            )));
        }
    };
    let by_id = match &r.id() {
        Some(id) => Some(parse_id(id).ok_or_else(|| {
            Error::invalid_input(format!(
                "GLPI ticket id {:?} is not a positive integer",
                truncate(id, 60)
            ))
        })?),
        None => None,
    };
    let by_number = r.number().map(parse_raw).transpose()?;
    let (kind, id) = match (by_id, by_number) {
        (Some(id), Some((kind, n))) if id == n => (scope.unwrap_or(kind), id),
        (Some(id), Some((_, n))) => {
            return Err(Error::invalid_input(format!(
                "GLPI ticket reference names two items: id {id} and number {n}"
            )));
        }
        (Some(id), None) => (scope.unwrap_or(ItilKind::Ticket), id),
        (None, Some((kind, n))) => (scope.unwrap_or(kind), n),
        (None, None) => return Err(Error::invalid_input("empty ticket reference")),
    };
    if let (Some(s), Some((k, _))) = (scope, by_number) {
        if s != k {
            return Err(Error::invalid_input(format!(
                "GLPI ticket reference scope {} does not match number {:?}",
                s.itemtype(),
                r.number().unwrap_or_default()
            )));
        }
    }
    Ok((kind, id))
}

/// The title tag of a correlation id.
pub(crate) fn tag(id: &CorrelationId) -> String {
    format!("[corr:{id}]")
}

/// The correlation id in a title's trailing tag, if any.
pub(crate) fn title_tag_of(title: &str) -> Option<&str> {
    let title = title.trim_end();
    let start = title.rfind("[corr:")?;
    let rest = &title[start + 6..];
    let end = rest.find(']')?;
    (end == rest.len() - 1 && end > 0).then(|| &rest[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_ids() {
        let ok = [
            ("123", ItilKind::Ticket, 123),
            (" 42 ", ItilKind::Ticket, 42),
            ("#7", ItilKind::Ticket, 7),
            ("CHG-12", ItilKind::Change, 12),
            ("chg12", ItilKind::Change, 12),
            ("CHG#3", ItilKind::Change, 3),
            ("Change-99", ItilKind::Change, 99),
            ("change5", ItilKind::Change, 5),
        ];
        for (raw, kind, id) in ok {
            assert_eq!(parse_raw(raw).unwrap(), (kind, id), "{raw:?}");
        }
        for bad in [
            "",
            "#",
            "0",
            "012",
            "-1",
            "+1",
            "1.0",
            "1 2",
            "1#x",
            "##1",
            "CHG-",
            "CHG--1",
            "INC-1",
            "Ticket#1",
            "١٢٣",
            "１２３",
            "1234567890123456789",
            "12\u{0}3",
        ] {
            assert!(parse_raw(bad).is_err(), "{bad:?}");
        }
        let long = "9".repeat(10_000);
        let e = parse_raw(&long).unwrap_err();
        assert!(e.to_string().len() < 200, "{e}");
    }

    #[test]
    fn references_are_checked_again() {
        assert_eq!(
            resolve(&TicketRef::by_id("5")).unwrap(),
            (ItilKind::Ticket, 5)
        );
        assert_eq!(
            resolve(&reference(ItilKind::Change, 5)).unwrap(),
            (ItilKind::Change, 5)
        );
        assert_eq!(
            resolve(&TicketRef::by_number("CHG-5")).unwrap(),
            (ItilKind::Change, 5)
        );
        assert_eq!(
            resolve(&TicketRef::by_id("5").with_scope("Change")).unwrap(),
            (ItilKind::Change, 5)
        );
        for bad in [
            TicketRef::by_id("5 OR 1=1"),
            TicketRef::by_id("#5"),
            TicketRef::by_number("5/../6"),
            TicketRef::by_id("5").with_scope("Problem"),
            TicketRef::by_number("CHG-5").with_scope("Ticket"),
            TicketRef::by_id_and_number("5", "6"),
        ] {
            assert!(resolve(&bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn tags() {
        assert_eq!(title_tag_of("Grant X [corr:REQ-1]"), Some("REQ-1"));
        assert_eq!(title_tag_of("Grant X [corr:REQ-1] "), Some("REQ-1"));
        assert_eq!(title_tag_of("Grant X [corr:REQ-1] later"), None);
        assert_eq!(title_tag_of("Grant X [corr:]"), None);
        assert!(
            CorrelationId::new("REQ-2026/01:a_b.c")
                .check_plain()
                .is_ok()
        );
        for bad in ["", "a b", "a%b", "[x]", "a\nb", &"x".repeat(101)] {
            assert!(CorrelationId::new(bad).check_plain().is_err(), "{bad:?}");
        }
    }
}
