//! AR System qualifications (`'Field' = "value"`), built only here.
//!
//! Field names go between single quotes and may not contain one; values go between double
//! quotes with a `"` doubled (the fact sheet marks the doubling unverified, so values
//! with a `"` are refused instead unless [`Value::text_escaped`] is used). Control
//! characters are refused everywhere. A qualification cannot be written from a string:
//! every piece goes through [`Qual::eq`], [`Qual::ge`], [`Qual::lt`], [`Qual::gt`],
//! [`Qual::like_prefix`], [`Qual::or`] and [`Qual::and`].

use std::fmt;

use accesslink_core::{Error, Result};

/// A checked qualification value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Value(String);

impl Value {
    /// A text value: refused when it holds a `"`, a `'` or a control character.
    pub fn text(v: &str) -> Result<Value> {
        if v.contains(['"', '\'']) {
            return Err(Error::invalid_input(format!(
                "{:?}: quotes are not allowed in a Helix search value",
                accesslink_core::redact::truncate(v, 40)
            )));
        }
        Self::text_escaped(v)
    }

    /// A text value whose `"` are doubled (AR's escape, unverified); control characters
    /// are still refused.
    pub fn text_escaped(v: &str) -> Result<Value> {
        if v.chars().any(char::is_control) {
            return Err(Error::invalid_input(
                "control characters are not allowed in a Helix search value",
            ));
        }
        Ok(Value(v.replace('"', "\"\"")))
    }
}

fn field(name: &str) -> Result<String> {
    if name.is_empty() || name.contains('\'') || name.chars().any(char::is_control) {
        return Err(Error::invalid_input(format!(
            "{name:?} is not a Helix field name"
        )));
    }
    Ok(format!("'{name}'"))
}

/// A qualification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Qual(String);

impl Qual {
    /// `'field' = "value"`.
    pub fn eq(name: &str, value: &Value) -> Result<Qual> {
        Ok(Qual(format!("{} = \"{}\"", field(name)?, value.0)))
    }

    /// `'field' >= "value"` (the lower bound of a partition's key range).
    pub fn ge(name: &str, value: &Value) -> Result<Qual> {
        Ok(Qual(format!("{} >= \"{}\"", field(name)?, value.0)))
    }

    /// `'field' < "value"` (the upper bound of a partition's key range).
    pub fn lt(name: &str, value: &Value) -> Result<Qual> {
        Ok(Qual(format!("{} < \"{}\"", field(name)?, value.0)))
    }

    /// `'field' > "value"` (keyset paging after the last key of a page).
    pub fn gt(name: &str, value: &Value) -> Result<Qual> {
        Ok(Qual(format!("{} > \"{}\"", field(name)?, value.0)))
    }

    /// `'field' LIKE "value%"` (`%` and `_` in the value are refused: they are wildcards).
    pub fn like_prefix(name: &str, value: &Value) -> Result<Qual> {
        if value.0.contains(['%', '_']) {
            return Err(Error::invalid_input(
                "wildcards are not allowed in a prefix",
            ));
        }
        Ok(Qual(format!("{} LIKE \"{}%\"", field(name)?, value.0)))
    }

    /// `'field' >= "<seconds since the epoch>"`: a date field at or after `t`, rounded
    /// down to the second (AR keeps whole seconds; an integer date value is read as
    /// epoch seconds, which avoids the server's locale and time zone).
    pub fn at_or_after(name: &str, t: std::time::SystemTime) -> Result<Qual> {
        let secs = t
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Ok(Qual(format!("{} >= \"{secs}\"", field(name)?)))
    }

    /// The alternatives joined with `OR`, in parentheses; `None` for none.
    pub fn or(parts: impl IntoIterator<Item = Qual>) -> Option<Qual> {
        Self::join(parts, " OR ")
    }

    /// The parts joined with `AND`, in parentheses; `None` for none.
    pub fn and(parts: impl IntoIterator<Item = Qual>) -> Option<Qual> {
        Self::join(parts, " AND ")
    }

    fn join(parts: impl IntoIterator<Item = Qual>, op: &str) -> Option<Qual> {
        let parts: Vec<String> = parts.into_iter().map(|q| q.0).collect();
        match parts.len() {
            0 => None,
            1 => parts.into_iter().next().map(Qual),
            _ => Some(Qual(format!("({})", parts.join(op)))),
        }
    }

    /// The text for the `q` parameter.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Qual {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_and_fields_are_quoted() {
        let q = Qual::eq("Incident Number", &Value::text("INC000000000001").unwrap()).unwrap();
        assert_eq!(q.as_str(), "'Incident Number' = \"INC000000000001\"");
        let v = Value::text("j.doe").unwrap();
        assert_eq!(
            Qual::and([
                Qual::ge("Remedy Login ID", &v).unwrap(),
                Qual::lt("Remedy Login ID", &v).unwrap(),
                Qual::gt("Remedy Login ID", &v).unwrap(),
            ])
            .unwrap()
            .as_str(),
            "('Remedy Login ID' >= \"j.doe\" AND 'Remedy Login ID' < \"j.doe\" AND 'Remedy Login ID' > \"j.doe\")"
        );
        let or = Qual::or([q.clone(), q]).unwrap();
        assert!(or.as_str().starts_with("('Incident Number'"), "{or}");
        assert!(or.as_str().contains(" OR "));
        let t = std::time::UNIX_EPOCH + std::time::Duration::from_millis(1_714_641_251_999);
        assert_eq!(
            Qual::at_or_after("Last Modified Date", t).unwrap().as_str(),
            "'Last Modified Date' >= \"1714641251\""
        );
    }

    #[test]
    fn injection_is_refused_or_escaped() {
        for bad in ["x\" OR 'Status' != \"", "it's", "a\nb", "tab\there"] {
            assert!(Value::text(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            Value::text_escaped("say \"hi\"").unwrap().0,
            "say \"\"hi\"\""
        );
        assert!(Value::text_escaped("a\u{0}").is_err());
        assert!(Qual::eq("Sta'tus", &Value::text("x").unwrap()).is_err());
        assert!(Qual::like_prefix("Login", &Value::text("a%").unwrap()).is_err());
    }
}
