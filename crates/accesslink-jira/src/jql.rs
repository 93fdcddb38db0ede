//! A JQL builder that quotes every value, so no input can change a query's meaning.
//!
//! Values are always put in double quotes with `"` and `\` escaped (fact sheet §2 "JQL
//! escaping"): an unquoted value with a space, a reserved character (`+ . , ; ? | * / % ^
//! $ # @ [ ]`) or a reserved word (`AND`, `OR`, `EMPTY`, …) breaks the query or, worse,
//! extends it. For the text operator `~`, Lucene's specials are escaped as well
//! ([`Jql::contains`]). Control characters are refused: Jira has no escape for them, and
//! nothing a connector puts into a query needs one. Field names are not values: they are
//! checked against a small alphabet (`labels`, `customfield_10050`, `cf[10050]`).
//!
//! ```
//! use accesslink_jira::jql::Jql;
//!
//! let q = Jql::new()
//!     .eq("labels", r#"iam "req" 1"#)?
//!     .in_list("key", ["ITSM-1", "ITSM-2"])?
//!     .order_by("created");
//! assert_eq!(
//!     q.to_string(),
//!     r#"labels = "iam \"req\" 1" AND key in ("ITSM-1", "ITSM-2") ORDER BY created ASC"#
//! );
//! # Ok::<(), accesslink_core::Error>(())
//! ```

use std::fmt;

use accesslink_core::{Error, Result};

/// Characters Lucene gives a meaning to in a `~` (text) search.
const LUCENE_SPECIALS: &[char] = &[
    '+', '-', '&', '|', '!', '(', ')', '{', '}', '[', ']', '^', '~', '*', '?', '\\', ':', '"', '/',
];

/// A JQL query: clauses joined with `AND`, and an optional order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Jql {
    clauses: Vec<String>,
    order: Option<String>,
}

/// `"value"`, with `"` and `\` escaped; control characters refused.
pub fn quote(value: &str) -> Result<String> {
    if let Some(c) = value.chars().find(|c| c.is_control()) {
        return Err(Error::invalid_input(format!(
            "a JQL value cannot hold the control character U+{:04X}",
            u32::from(c)
        )));
    }
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    Ok(out)
}

/// The value of a `~` clause: each Lucene special preceded by a backslash for Lucene,
/// then quoted like any value, which doubles that backslash for JQL (`+` is sent as
/// `"\\+"`, which JQL reads as `\+` and Lucene as a literal `+`).
pub fn quote_text(value: &str) -> Result<String> {
    let mut lucene = String::with_capacity(value.len() * 2);
    for c in value.chars() {
        if LUCENE_SPECIALS.contains(&c) {
            lucene.push('\\');
        }
        lucene.push(c);
    }
    quote(&lucene)
}

/// Checks a field name: letters, digits and `_`, or `cf[digits]`.
fn field(name: &str) -> Result<&str> {
    let plain = !name.is_empty()
        && name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    let cf = name
        .strip_prefix("cf[")
        .and_then(|r| r.strip_suffix(']'))
        .is_some_and(|d| !d.is_empty() && d.len() <= 18 && d.bytes().all(|b| b.is_ascii_digit()));
    if plain || cf {
        Ok(name)
    } else {
        Err(Error::invalid_input(format!(
            "{name:?} is not a JQL field name accesslink sends"
        )))
    }
}

impl Jql {
    /// An empty query (matches every issue the caller can see).
    pub fn new() -> Self {
        Jql::default()
    }

    /// `field = "value"`.
    pub fn eq(mut self, name: &str, value: &str) -> Result<Self> {
        self.clauses
            .push(format!("{} = {}", field(name)?, quote(value)?));
        Ok(self)
    }

    /// `field ~ "value"`, Lucene specials escaped (text fields).
    pub fn contains(mut self, name: &str, value: &str) -> Result<Self> {
        self.clauses
            .push(format!("{} ~ {}", field(name)?, quote_text(value)?));
        Ok(self)
    }

    /// `field ~ "\"value\""`: a Lucene **phrase** search for the whole value (specials
    /// escaped inside the phrase), the way Jira finds an exact text in a text custom field.
    /// Text search tokenises, so callers compare the field's value on the results.
    pub fn phrase(mut self, name: &str, value: &str) -> Result<Self> {
        let mut lucene = String::with_capacity(value.len() * 2 + 2);
        lucene.push('"');
        for c in value.chars() {
            if LUCENE_SPECIALS.contains(&c) {
                lucene.push('\\');
            }
            lucene.push(c);
        }
        lucene.push('"');
        self.clauses
            .push(format!("{} ~ {}", field(name)?, quote(&lucene)?));
        Ok(self)
    }

    /// `field in ("a", "b")`; an empty list is refused (Jira rejects `in ()`).
    pub fn in_list<I, S>(mut self, name: &str, values: I) -> Result<Self>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let quoted = values
            .into_iter()
            .map(|v| quote(v.as_ref()))
            .collect::<Result<Vec<_>>>()?;
        if quoted.is_empty() {
            return Err(Error::invalid_input("a JQL `in` clause needs a value"));
        }
        self.clauses
            .push(format!("{} in ({})", field(name)?, quoted.join(", ")));
        Ok(self)
    }

    /// Orders by a field, ascending (paging over a stable order).
    #[must_use]
    pub fn order_by(mut self, name: &str) -> Self {
        // Field names here come from code, not input; a bad one is dropped, not sent.
        if let Ok(f) = field(name) {
            self.order = Some(format!("{f} ASC"));
        }
        self
    }

    /// Adds a further ascending order after [`order_by`](Self::order_by)
    /// (`ORDER BY updated ASC, key ASC`).
    #[must_use]
    pub fn then_by(mut self, name: &str) -> Self {
        if let Ok(f) = field(name) {
            self.order = Some(match self.order.take() {
                Some(o) => format!("{o}, {f} ASC"),
                None => format!("{f} ASC"),
            });
        }
        self
    }

    /// `field >= "yyyy/MM/dd HH:mm"`: a date-time field at or after `since`. JQL takes
    /// minutes, no seconds, in the API user's profile time zone: `since` is **rounded
    /// down** to the minute after shifting it by `utc_offset_minutes` (the user's zone,
    /// east of UTC), so the filter never starts after `since`.
    pub fn updated_since(
        mut self,
        name: &str,
        since: std::time::SystemTime,
        utc_offset_minutes: i32,
    ) -> Result<Self> {
        self.clauses.push(format!(
            "{} >= {}",
            field(name)?,
            quote(&jql_minute(since, utc_offset_minutes))?
        ));
        Ok(self)
    }

    /// Whether the query has no clause.
    pub fn is_empty(&self) -> bool {
        self.clauses.is_empty()
    }
}

/// `since` as JQL's `yyyy/MM/dd HH:mm` in a zone `utc_offset_minutes` east of UTC,
/// rounded down to the minute (times before 1970 are the epoch).
pub fn jql_minute(since: std::time::SystemTime, utc_offset_minutes: i32) -> String {
    let secs = since
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX / 2));
    let local = (secs + i64::from(utc_offset_minutes) * 60).max(0);
    let local = std::time::UNIX_EPOCH + std::time::Duration::from_secs(local.unsigned_abs());
    // `2024-05-02T09:14:11.000Z` → `2024/05/02 09:14`: the seconds are dropped (round down).
    let rfc = accesslink_core::time::format_rfc3339_millis(local);
    format!("{} {}", rfc[..10].replace('-', "/"), &rfc[11..16])
}

impl fmt::Display for Jql {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.clauses.join(" AND "))?;
        if let Some(order) = &self.order {
            if !self.clauses.is_empty() {
                f.write_str(" ")?;
            }
            write!(f, "ORDER BY {order}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use accesslink_core::ErrorKind;

    #[test]
    fn values_are_always_quoted_and_escaped() {
        let rows = [
            ("plain", r#""plain""#),
            ("two words", r#""two words""#),
            (
                r#"a" OR key is not EMPTY OR "x"#,
                r#""a\" OR key is not EMPTY OR \"x""#,
            ),
            (r"back\slash", r#""back\\slash""#),
            (r#"\" OR 1=1"#, r#""\\\" OR 1=1""#),
            ("AND", r#""AND""#),
            ("", r#""""#),
        ];
        for (input, want) in rows {
            assert_eq!(quote(input).unwrap(), want, "{input:?}");
        }
    }

    #[test]
    fn control_characters_are_refused() {
        for bad in ["a\nb", "a\u{0}", "x\r\nORDER BY key", "\u{1b}[2J", "\u{85}"] {
            let e = quote(bad).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidInput, "{bad:?}");
            assert_eq!(quote_text(bad).unwrap_err().kind(), ErrorKind::InvalidInput);
        }
    }

    #[test]
    fn text_search_escapes_lucene_specials() {
        assert_eq!(quote_text("EXT-123").unwrap(), r#""EXT\\-123""#);
        assert_eq!(quote_text("a+b*").unwrap(), r#""a\\+b\\*""#);
        assert_eq!(quote_text(r#"say "hi""#).unwrap(), r#""say \\\"hi\\\"""#);
        assert_eq!(quote_text("plain").unwrap(), r#""plain""#);
        assert_eq!(quote_text(r"a\").unwrap(), r#""a\\\\""#);
    }

    #[test]
    fn field_names_are_checked() {
        for ok in ["labels", "key", "cf[10050]", "customfield_10050"] {
            assert!(Jql::new().eq(ok, "x").is_ok(), "{ok}");
        }
        for bad in [
            "",
            "labels = x OR key",
            "cf[]",
            "cf[1a]",
            "1abc",
            "a b",
            "key\"",
            "(key)",
        ] {
            assert_eq!(
                Jql::new().eq(bad, "x").unwrap_err().kind(),
                ErrorKind::InvalidInput,
                "{bad}"
            );
        }
    }

    #[test]
    fn update_times_are_minutes_rounded_down_in_the_users_zone() {
        use std::time::{Duration, UNIX_EPOCH};
        // 2024-05-02T09:14:59Z
        let t = UNIX_EPOCH + Duration::from_secs(1_714_641_299);
        assert_eq!(jql_minute(t, 0), "2024/05/02 09:14");
        assert_eq!(jql_minute(t, 120), "2024/05/02 11:14");
        assert_eq!(jql_minute(t, -600), "2024/05/01 23:14");
        let q = Jql::new()
            .eq("project", "ITSM")
            .unwrap()
            .updated_since("updated", t, 0)
            .unwrap()
            .order_by("updated")
            .then_by("key");
        assert_eq!(
            q.to_string(),
            r#"project = "ITSM" AND updated >= "2024/05/02 09:14" ORDER BY updated ASC, key ASC"#
        );
    }

    #[test]
    fn clauses_join_with_and_and_order_last() {
        let q = Jql::new()
            .eq("project", "IT")
            .unwrap()
            .contains("cf[10050]", "EXT-1")
            .unwrap()
            .order_by("key");
        assert_eq!(
            q.to_string(),
            r#"project = "IT" AND cf[10050] ~ "EXT\\-1" ORDER BY key ASC"#
        );
        assert_eq!(Jql::new().order_by("key").to_string(), "ORDER BY key ASC");
        assert_eq!(
            Jql::new().phrase("cf[10050]", "EXT-1").unwrap().to_string(),
            r##"cf[10050] ~ "\"EXT\\-1\"""##
        );
        assert!(Jql::new().in_list("key", Vec::<String>::new()).is_err());
    }
}
