//! Identifiers and page tokens, checked before anything is sent.
//!
//! A user is named by its id (a UUID) or its username (an e-mail address); a team by its
//! id or name; a role by its name. Every identifier that goes into a URL path is checked
//! here and percent-encoded, so nothing typed by a user can change the path or query.

use accesslink_core::redact::truncate;
use accesslink_core::{Error, PageToken, Result};

/// The longest identifier worth looking at (usernames are at most 100 characters).
const MAX_IDENT: usize = 100;

fn plain(s: &str, extra: &str) -> bool {
    !s.is_empty()
        && s.chars().count() <= MAX_IDENT
        && !s.starts_with('.')
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.@+'".contains(c) || extra.contains(c))
}

/// Checks a user identifier: an id or a username of 1–100 characters of
/// `A-Z a-z 0-9 - _ . @ + '`, not starting with a dot.
pub fn check_user(identifier: &str) -> Result<&str> {
    if plain(identifier, "") {
        Ok(identifier)
    } else {
        Err(Error::invalid_input(format!(
            "{:?} is not an OpsGenie user id or username (1-100 characters of A-Z a-z 0-9 - _ . @ + ')",
            truncate(identifier, 60)
        )))
    }
}

/// Checks a username for a new user: an e-mail address OpsGenie accepts.
pub fn check_username(username: &str) -> Result<&str> {
    let parts: Vec<&str> = username.split('@').collect();
    let email = parts.len() == 2
        && !parts[0].is_empty()
        && parts[1].contains('.')
        && !parts[1].starts_with('.')
        && !parts[1].ends_with('.');
    if email && plain(username, "") {
        Ok(username)
    } else {
        Err(Error::invalid_input(format!(
            "{:?} is not a valid OpsGenie username: an e-mail address of at most 100 characters",
            truncate(username, 60)
        )))
    }
}

/// Checks a team identifier: an id, or a name (which may hold spaces).
pub fn check_team(identifier: &str) -> Result<&str> {
    if plain(identifier, " ") && identifier.trim() == identifier {
        Ok(identifier)
    } else {
        Err(Error::invalid_input(format!(
            "{:?} is not an OpsGenie team id or name (1-100 characters of A-Z a-z 0-9 - _ . @ + ' and spaces)",
            truncate(identifier, 60)
        )))
    }
}

/// Checks a role name: 1–100 characters, no control characters, no surrounding space,
/// and not `.` or `..`: the name is a path segment, and URL parsers resolve those dot
/// segments (`/v2/roles/..` is `/v2/`).
pub fn check_role(name: &str) -> Result<&str> {
    let n = name.chars().count();
    if (1..=MAX_IDENT).contains(&n)
        && name.trim() == name
        && !name.chars().any(char::is_control)
        && !matches!(name, "." | "..")
    {
        Ok(name)
    } else {
        Err(Error::invalid_input(format!(
            "{:?} is not an OpsGenie role name (1-100 characters, no control characters, not `.` or `..`)",
            truncate(name, 60)
        )))
    }
}

/// Percent-encodes a path segment: everything but unreserved characters and `@`.
pub(crate) fn segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~@".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A page token: `og1:<scope>:<value>`.
pub(crate) fn token(scope: &str, value: impl std::fmt::Display) -> PageToken {
    PageToken::new(format!("og1:{scope}:{value}"))
}

/// The value of a token of `scope`; `None` for the first page.
pub(crate) fn untoken<'t>(scope: &str, t: Option<&'t PageToken>) -> Result<Option<&'t str>> {
    let Some(t) = t else { return Ok(None) };
    let value = t
        .as_str()
        .strip_prefix("og1:")
        .and_then(|r| r.strip_prefix(scope))
        .and_then(|r| r.strip_prefix(':'))
        .filter(|v| !v.is_empty());
    value.map(Some).ok_or_else(|| {
        Error::invalid_input(format!(
            "page token {:?} is not an OpsGenie {scope} token",
            truncate(t.as_str(), 60)
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers() {
        for ok in [
            "b5b92115-bfe7-43eb-8c2a-e467f2e5ddc4",
            "john.doe@example.com",
            "o'brien+ops@example.co.uk",
        ] {
            assert!(check_user(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            ".",
            "..",
            "../teams",
            "a/b",
            "a?b=c",
            "a#b",
            "a b",
            "a%2Fb",
            "a\nb",
            "é@x.y",
            &"x".repeat(101),
        ] {
            assert!(check_user(bad).is_err(), "{bad:?}");
        }
        assert!(check_username("a@b.co").is_ok());
        for bad in ["ab.co", "a@b", "@b.co", "a@b@c.co", "a@.co", "a b@c.co"] {
            assert!(check_username(bad).is_err(), "{bad:?}");
        }
        assert!(check_team("Platform Ops").is_ok());
        assert!(check_team(" ops").is_err());
        assert!(check_team("ops/../x").is_err());
        assert!(check_role("Responder Lead").is_ok());
        assert!(check_role("a\u{7}").is_err());
        let e = check_user(&"y".repeat(10_000)).unwrap_err();
        assert!(e.to_string().len() < 200);
    }

    #[test]
    fn segments_and_tokens() {
        assert_eq!(segment("Platform Ops"), "Platform%20Ops");
        assert_eq!(segment("o'brien+x@y.z"), "o%27brien%2Bx@y.z");
    }
}
