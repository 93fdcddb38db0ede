//! The one way a FIQL `query=` is built: [`Fiql`], a builder that quotes every value.
//!
//! TOPdesk filters lists with FIQL (fact sheet §3.5): `number=='I 2405 123'`,
//! `number=in=('I 2405 123','I 2405 124')`, `;` for AND, `,` for OR. User input never
//! reaches a query as text: field names are compile-time constants checked against
//! `[A-Za-z][A-Za-z0-9.]*`, and every value goes in single quotes with `\` and `'`
//! escaped by a backslash (the RSQL/FIQL quoting rule). Whether every TOPdesk version
//! honours backslash escapes is not verified, so values that would need one are refused
//! unless the caller opts in with [`Value::escaped`]; control characters and values over
//! 255 characters are always refused.

use std::fmt;

use accesslink_core::{Error, Result, redact};

/// The longest value a query takes.
const MAX_VALUE: usize = 255;

/// A FIQL value, quoted when it is rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Value {
    text: String,
}

impl Value {
    /// A text value that needs no escaping: refused when it holds `'`, `"`, `\`, a
    /// control character, or more than 255 characters.
    pub fn text(raw: &str) -> Result<Value> {
        if raw.contains(['\'', '"', '\\']) {
            return Err(refuse(raw, "holds a quote or backslash"));
        }
        Value::escaped(raw)
    }

    /// A text value in which `'` and `\` are escaped with a backslash; refused when it
    /// holds a control character or more than 255 characters.
    pub fn escaped(raw: &str) -> Result<Value> {
        if raw.chars().any(char::is_control) {
            return Err(refuse(raw, "holds a control character"));
        }
        if raw.chars().count() > MAX_VALUE {
            return Err(refuse(raw, "is longer than 255 characters"));
        }
        let mut text = String::with_capacity(raw.len() + 2);
        text.push('\'');
        for c in raw.chars() {
            if c == '\'' || c == '\\' {
                text.push('\\');
            }
            text.push(c);
        }
        text.push('\'');
        Ok(Value { text })
    }

    /// A point in time, unquoted, as ISO 8601 UTC to the second, rounded down
    /// (`2026-12-07T09:30:00Z`): generated here, so nothing to escape.
    pub fn time(t: std::time::SystemTime) -> Value {
        let iso = accesslink_core::time::format_rfc3339_millis(t);
        let seconds = iso.split('.').next().unwrap_or(&iso);
        Value {
            text: format!("{seconds}Z"),
        }
    }

    /// `true` or `false`, unquoted.
    pub fn bool(b: bool) -> Value {
        Value {
            text: b.to_string(),
        }
    }
}

fn refuse(raw: &str, why: &str) -> Error {
    Error::invalid_input(format!(
        "{:?} cannot go into a TOPdesk query: it {why}",
        redact::truncate(raw, 40)
    ))
}

/// A FIQL expression; render it with `to_string()` into the `query` parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fiql(String);

fn field(name: &'static str) -> &'static str {
    let ok = name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '.');
    assert!(ok, "FIQL field names are constants: {name:?}");
    name
}

impl Fiql {
    /// `field==value`.
    pub fn eq(name: &'static str, value: Value) -> Fiql {
        let Value { text } = value;
        Fiql(format!("{}=={text}", field(name)))
    }

    /// `field=ge=value` (at or after, for times).
    pub fn ge(name: &'static str, value: Value) -> Fiql {
        let Value { text } = value;
        Fiql(format!("{}=ge={text}", field(name)))
    }

    /// `field=in=(v1,v2,…)`; refused when `values` is empty.
    pub fn is_in(name: &'static str, values: impl IntoIterator<Item = Value>) -> Result<Fiql> {
        let values: Vec<String> = values.into_iter().map(|v| v.text).collect();
        if values.is_empty() {
            return Err(Error::invalid_input(
                "an =in= query needs at least one value",
            ));
        }
        Ok(Fiql(format!("{}=in=({})", field(name), values.join(","))))
    }

    /// `self;other` (AND; binds tighter than OR).
    #[must_use]
    pub fn and(self, other: Fiql) -> Fiql {
        let (Fiql(a), Fiql(b)) = (self, other);
        Fiql(format!("({a});({b})"))
    }

    /// `self,other` (OR).
    #[must_use]
    pub fn or(self, other: Fiql) -> Fiql {
        let (Fiql(a), Fiql(b)) = (self, other);
        Fiql(format!("({a}),({b})"))
    }
}

impl fmt::Display for Fiql {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_quoted_and_escaped() {
        let q = Fiql::eq("number", Value::text("I 2405 123").unwrap());
        assert_eq!(q.to_string(), "number=='I 2405 123'");
        let q = Fiql::eq("externalNumber", Value::escaped(r"a'b\c").unwrap());
        assert_eq!(q.to_string(), r"externalNumber=='a\'b\\c'");
        let q = Fiql::is_in("number", ["I 1", "I 2"].map(|v| Value::text(v).unwrap())).unwrap();
        assert_eq!(q.to_string(), "number=in=('I 1','I 2')");
        let q = Fiql::eq("archived", Value::bool(false))
            .and(Fiql::eq("loginName", Value::text("x;y,z==w").unwrap()));
        assert_eq!(q.to_string(), "(archived==false);(loginName=='x;y,z==w')");
        let t = std::time::UNIX_EPOCH + std::time::Duration::from_millis(1_716_915_600_750);
        let q = Fiql::ge("modificationDate", Value::time(t));
        assert_eq!(q.to_string(), "modificationDate=ge=2024-05-28T17:00:00Z");
    }

    #[test]
    fn what_cannot_be_quoted_is_refused() {
        for bad in ["a'b", "a\"b", r"a\b", "a\nb", "a\u{0}b", &"x".repeat(256)] {
            assert!(Value::text(bad).is_err(), "{bad:?}");
        }
        for bad in ["a\nb", "\u{1b}[2J", &"x".repeat(256)] {
            assert!(Value::escaped(bad).is_err(), "{bad:?}");
        }
        assert!(Fiql::is_in("number", []).is_err());
    }
}
