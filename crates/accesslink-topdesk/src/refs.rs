//! Identifiers people type, checked before any request: incident numbers (`I 2405 123`,
//! `I2405-123`, `I-250520-058`), operator change numbers (`C1810-005`) and UUIDs.
//!
//! TOPdesk's number format is tenant-configurable and changed over versions (fact sheet
//! §3.3): a letter, a date part and a sequence, separated by spaces or dashes. The parser
//! takes any of these separators and renders the number in the tenant's own
//! [`NumberStyle`], so `i2405-123`, `I 2405 123` and `I-2405-123` name the same
//! incident. Anything else — other characters, other shapes, more than 32 characters — is
//! refused with `InvalidInput` before a request is built.

use std::fmt;

use accesslink_core::{Error, Result, redact};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// How the tenant writes incident numbers (setting `number_style`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum NumberStyle {
    /// `I 2405 123`: letter, date part and sequence separated by spaces (the default).
    #[default]
    Spaces,
    /// `I-250520-058`: separated by dashes.
    Dashes,
    /// `I2405-123`: the letter joined to the date part, a dash before the sequence.
    Compact,
}

/// A parsed incident or change number: the letter, the date part and the sequence.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TicketNumber {
    letter: char,
    date: String,
    seq: String,
}

impl TicketNumber {
    /// Parses a number as people type it; `letter` is `I` (incidents) or `C` (changes).
    /// Spaces and dashes between the parts are accepted; case is ignored.
    pub fn parse(raw: &str, letter: char) -> Result<TicketNumber> {
        let refuse = || {
            Error::invalid_input(format!(
                "{:?} is not a TOPdesk {} number (like {})",
                redact::truncate(raw, 40),
                if letter == 'I' { "incident" } else { "change" },
                if letter == 'I' {
                    "I 2405 123"
                } else {
                    "C1810-005"
                },
            ))
        };
        let s = raw.trim();
        if s.is_empty() || s.len() > 32 || !s.is_ascii() {
            return Err(refuse());
        }
        let mut chars = s.chars();
        let first = chars.next().ok_or_else(refuse)?;
        if !first.eq_ignore_ascii_case(&letter) {
            return Err(refuse());
        }
        let rest = chars.as_str();
        let rest = rest
            .strip_prefix(' ')
            .or_else(|| rest.strip_prefix('-'))
            .unwrap_or(rest);
        let mut parts = rest.split([' ', '-']);
        let (Some(date), Some(seq), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(refuse());
        };
        let digits = |p: &str, lo: usize, hi: usize| {
            (lo..=hi).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit())
        };
        if !digits(date, 4, 6) || !digits(seq, 1, 6) {
            return Err(refuse());
        }
        Ok(TicketNumber {
            letter,
            date: date.to_owned(),
            seq: seq.to_owned(),
        })
    }

    /// The number in a tenant's style.
    pub fn render(&self, style: NumberStyle) -> String {
        let TicketNumber { letter, date, seq } = self;
        match style {
            NumberStyle::Spaces => format!("{letter} {date} {seq}"),
            NumberStyle::Dashes => format!("{letter}-{date}-{seq}"),
            NumberStyle::Compact => format!("{letter}{date}-{seq}"),
        }
    }
}

impl fmt::Display for TicketNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(NumberStyle::Spaces))
    }
}

/// The UUID in `raw` in lower case, or `None` when `raw` is not one
/// (`8-4-4-4-12` hex digits).
pub fn uuid(raw: &str) -> Option<String> {
    let s = raw.trim();
    let groups: Vec<&str> = s.split('-').collect();
    let ok = s.len() == 36
        && groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12])
        && groups
            .iter()
            .all(|g| g.bytes().all(|b| b.is_ascii_hexdigit()));
    ok.then(|| s.to_ascii_lowercase())
}

/// The UUID in `raw`, or `InvalidInput` naming `what`.
pub(crate) fn require_uuid(raw: &str, what: &str) -> Result<String> {
    uuid(raw).ok_or_else(|| {
        Error::invalid_input(format!(
            "{what} {:?} is not a TOPdesk id (a UUID)",
            redact::truncate(raw, 40)
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn incident_numbers_in_every_spelling_become_the_tenant_style() {
        for raw in [
            "I 2405 123",
            "I2405 123",
            "I2405-123",
            "i 2405-123",
            "I-2405-123",
            " I 2405 123 ",
        ] {
            let n = TicketNumber::parse(raw, 'I').unwrap();
            assert_eq!(n.render(NumberStyle::Spaces), "I 2405 123", "{raw}");
            assert_eq!(n.render(NumberStyle::Compact), "I2405-123", "{raw}");
            assert_eq!(n.render(NumberStyle::Dashes), "I-2405-123", "{raw}");
        }
        let n = TicketNumber::parse("I-250520-058", 'I').unwrap();
        assert_eq!(n.render(NumberStyle::Dashes), "I-250520-058");
        assert_eq!(
            TicketNumber::parse("C1810-005", 'C')
                .unwrap()
                .render(NumberStyle::Compact),
            "C1810-005"
        );
    }

    #[test]
    fn anything_else_is_refused() {
        for raw in [
            "",
            "I",
            "I 2405",
            "I  2405 123",
            "I 2405 123 4",
            "I 24 123",
            "I 2405 1234567",
            "X 2405 123",
            "C 2405 123",
            "I 2405 12a",
            "I 2405' 123",
            "I 2405 123;number==x",
            "I\u{661}2405 123",
            "I 2405\t123",
            "I 2405_123",
        ] {
            let e = TicketNumber::parse(raw, 'I').unwrap_err();
            assert_eq!(
                e.kind(),
                accesslink_core::ErrorKind::InvalidInput,
                "{raw:?}"
            );
        }
    }

    #[test]
    fn uuids() {
        assert_eq!(
            uuid("F197BB75-8822-45E9-82CE-02983504020B").as_deref(),
            Some("f197bb75-8822-45e9-82ce-02983504020b")
        );
        for bad in [
            "",
            "f197bb75882245e982ce02983504020b",
            "f197bb75-8822-45e9-82ce-02983504020",
            "g197bb75-8822-45e9-82ce-02983504020b",
            "f197bb75-8822-45e9-82ce-02983504020b/..",
        ] {
            assert!(uuid(bad).is_none(), "{bad}");
        }
    }
}
