//! Issue references typed by people: an issue key (`ITSM-42`) or a numeric issue id
//! (`10042`), checked before any request.
//!
//! A key is a project key — an ASCII letter, then ASCII letters, digits or `_`, at most
//! 255 characters (Jira's own limit; the default pattern is stricter, `[A-Z][A-Z]+`) — a
//! hyphen and an issue number without leading zero. Lower case is accepted and sent in
//! upper case, as Jira resolves keys case-insensitively. An id is 1-18 ASCII digits
//! without leading zero. Anything else (spaces, JQL, path separators, other scripts'
//! digits, a second hyphen) is `InvalidInput`, and no request is sent.

use std::fmt;

use accesslink_core::{Error, Result, TicketRef};

/// The longest issue reference accepted (a 255-character project key and a number).
const MAX_LEN: usize = 255 + 1 + 18;

/// A checked issue reference.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum IssueRef {
    /// An issue key, upper case (`ITSM-42`).
    Key(String),
    /// A numeric issue id (`10042`).
    Id(String),
}

impl IssueRef {
    /// Parses a key or an id; see the [module docs](self).
    pub fn parse(raw: &str) -> Result<IssueRef> {
        let refuse = || {
            let shown: String = raw.chars().take(40).collect();
            Error::invalid_input(format!(
                "{shown:?} is not a Jira issue key (PROJ-123) or numeric issue id"
            ))
        };
        if raw.is_empty() || raw.len() > MAX_LEN {
            return Err(refuse());
        }
        if is_number(raw) {
            return Ok(IssueRef::Id(raw.to_owned()));
        }
        let (project, number) = raw.rsplit_once('-').ok_or_else(refuse)?;
        let project_ok = project.len() <= 255
            && project.starts_with(|c: char| c.is_ascii_alphabetic())
            && project
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !project_ok || !is_number(number) {
            return Err(refuse());
        }
        Ok(IssueRef::Key(format!(
            "{}-{number}",
            project.to_ascii_uppercase()
        )))
    }

    /// The key or id as sent in paths and JQL.
    pub fn as_str(&self) -> &str {
        match self {
            IssueRef::Key(s) | IssueRef::Id(s) => s,
        }
    }

    /// The issue reference a [`TicketRef`] names: its number (the key) when present,
    /// else its id; either is checked like typed input, since a `TicketRef` can be built
    /// from anything.
    pub fn of_ticket(r: &TicketRef) -> Result<IssueRef> {
        match (r.number(), r.id()) {
            (Some(key), _) => IssueRef::parse(key),
            (None, Some(id)) => IssueRef::parse(id),
            (None, None) => Err(Error::invalid_input("an empty ticket reference")),
        }
    }

    /// The [`TicketRef`] of a parsed reference: a key as the number, an id as the id.
    pub fn to_ticket_ref(&self) -> TicketRef {
        match self {
            IssueRef::Key(k) => TicketRef::by_number(k.clone()),
            IssueRef::Id(id) => TicketRef::by_id(id.clone()),
        }
    }
}

impl fmt::Display for IssueRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// 1-18 ASCII digits without leading zero.
fn is_number(s: &str) -> bool {
    !s.is_empty() && s.len() <= 18 && !s.starts_with('0') && s.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;
    use accesslink_core::ErrorKind;

    #[test]
    fn keys_and_ids_parse() {
        let rows = [
            ("ITSM-42", IssueRef::Key("ITSM-42".into())),
            ("itsm-42", IssueRef::Key("ITSM-42".into())),
            ("A1_B-7", IssueRef::Key("A1_B-7".into())),
            ("10042", IssueRef::Id("10042".into())),
            ("1", IssueRef::Id("1".into())),
        ];
        for (raw, want) in rows {
            assert_eq!(IssueRef::parse(raw).unwrap(), want, "{raw}");
        }
    }

    #[test]
    fn everything_else_is_refused() {
        let long_digits = "9".repeat(19);
        let long_project = format!("{}-1", "A".repeat(300));
        let bad = [
            "",
            " ",
            " ITSM-42",
            "ITSM-42 ",
            "ITSM",
            "ITSM-",
            "-42",
            "ITSM-042",
            "ITSM-4a",
            "ITSM--42",
            "IT SM-42",
            "1TSM-42",
            "ITSM-42 OR key is not EMPTY",
            "ITSM-42\"",
            "ITSM-42/../1",
            "0",
            "0042",
            "\u{661}\u{662}",
            "ÄBC-1",
            "ITSM-\u{ff11}",
            &long_digits,
            &long_project,
        ];
        for raw in bad {
            let e = IssueRef::parse(raw).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidInput, "{raw:?}");
            assert!(e.to_string().len() < 200);
        }
    }

    #[test]
    fn ticket_refs_are_checked_too() {
        let r = TicketRef::by_id_and_number("10042", "itsm-42");
        assert_eq!(
            IssueRef::of_ticket(&r).unwrap(),
            IssueRef::Key("ITSM-42".into())
        );
        assert_eq!(
            IssueRef::of_ticket(&TicketRef::by_id("10042")).unwrap(),
            IssueRef::Id("10042".into())
        );
        assert!(IssueRef::of_ticket(&TicketRef::by_id("1 OR 1=1")).is_err());
        assert!(IssueRef::of_ticket(&TicketRef::by_number("ITSM-1/comment")).is_err());
    }
}
