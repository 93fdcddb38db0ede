//! A SOQL builder that quotes and escapes every value.
//!
//! SOQL over REST has no bind parameters (fact sheet §3 "SOQL escaping"), so values are
//! only ever written as string literals through [`quote`]: `\` → `\\`, `'` → `\'`,
//! `"` → `\"`, and inside `LIKE` also `%` → `\%` and `_` → `\_`. Control characters are
//! refused rather than escaped. Object and field names are checked against the API-name
//! shape ([`check_name`]), so nothing a user types can become SOQL syntax.

use std::fmt::Write as _;

use accesslink_core::{Error, Result};

/// Longest value accepted in a literal.
pub const MAX_VALUE: usize = 4000;

/// The largest `OFFSET` Salesforce accepts (fact sheet §3 "REST basics").
pub const MAX_OFFSET: u32 = 2000;

/// Checks an object or field API name (`Case`, `External_Ref__c`, `CreatedBy.Email`,
/// `BMCServiceDesk__FKStatus__r.Name`): letters, digits and `_`, starting with a letter,
/// dot-separated, at most 250 characters.
pub fn check_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 250
        && name.split('.').all(|part| {
            part.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        });
    if ok {
        Ok(())
    } else {
        Err(Error::invalid_input(format!(
            "{name:?} is not a Salesforce object or field name"
        )))
    }
}

fn escape(value: &str, like: bool) -> Result<String> {
    if value.len() > MAX_VALUE {
        return Err(Error::invalid_input(format!(
            "a SOQL value is limited to {MAX_VALUE} bytes here"
        )));
    }
    let mut out = String::with_capacity(value.len() + 2);
    out.push('\'');
    for c in value.chars() {
        match c {
            c if c.is_control() => {
                return Err(Error::invalid_input(
                    "a SOQL value must not contain control characters",
                ));
            }
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '"' => out.push_str("\\\""),
            '%' if like => out.push_str("\\%"),
            '_' if like => out.push_str("\\_"),
            c => out.push(c),
        }
    }
    out.push('\'');
    Ok(out)
}

/// A value as a SOQL string literal, quoted and escaped.
pub fn quote(value: &str) -> Result<String> {
    escape(value, false)
}

/// A value as a `LIKE` literal matching it exactly (wildcards escaped); `prefix` adds a
/// trailing `%`.
pub fn quote_like(value: &str, prefix: bool) -> Result<String> {
    let mut q = escape(value, true)?;
    if prefix {
        q.insert(q.len() - 1, '%');
    }
    Ok(q)
}

/// A `SELECT … FROM … [WHERE …] [ORDER BY …] [LIMIT …]` statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Soql {
    text: String,
    has_where: bool,
}

impl Soql {
    /// `SELECT fields FROM object`; every name checked.
    pub fn select(fields: &[&str], object: &str) -> Result<Soql> {
        if fields.is_empty() {
            return Err(Error::invalid_input("a SOQL query needs fields"));
        }
        for f in fields {
            check_name(f)?;
        }
        check_name(object)?;
        Ok(Soql {
            text: format!("SELECT {} FROM {object}", fields.join(",")),
            has_where: false,
        })
    }

    /// `SELECT COUNT() FROM object`: the answer's `totalSize` is the count.
    pub fn count(object: &str) -> Result<Soql> {
        check_name(object)?;
        Ok(Soql {
            text: format!("SELECT COUNT() FROM {object}"),
            has_where: false,
        })
    }

    fn cond(mut self, field: &str, rest: &str) -> Result<Soql> {
        check_name(field)?;
        self.text
            .push_str(if self.has_where { " AND " } else { " WHERE " });
        self.has_where = true;
        let _ = write!(self.text, "{field} {rest}");
        Ok(self)
    }

    /// `AND field = 'value'`.
    pub fn eq(self, field: &str, value: &str) -> Result<Soql> {
        let q = quote(value)?;
        self.cond(field, &format!("= {q}"))
    }

    /// `AND field = true|false`.
    pub fn eq_bool(self, field: &str, value: bool) -> Result<Soql> {
        self.cond(field, &format!("= {value}"))
    }

    /// `AND field = null` (`is = true`) or `AND field != null`.
    pub fn is_null(self, field: &str, is: bool) -> Result<Soql> {
        self.cond(field, if is { "= null" } else { "!= null" })
    }

    /// `AND field > 'value'` (keyset paging on `Id`).
    pub fn gt(self, field: &str, value: &str) -> Result<Soql> {
        let q = quote(value)?;
        self.cond(field, &format!("> {q}"))
    }

    /// `AND field >= 'value'` (the lower bound of a partition's `Id` range).
    pub fn ge(self, field: &str, value: &str) -> Result<Soql> {
        let q = quote(value)?;
        self.cond(field, &format!(">= {q}"))
    }

    /// `AND field < 'value'` (the upper bound of a partition's `Id` range).
    pub fn lt(self, field: &str, value: &str) -> Result<Soql> {
        let q = quote(value)?;
        self.cond(field, &format!("< {q}"))
    }

    /// `AND field IN ('a','b')`; an empty list is refused.
    pub fn in_list(self, field: &str, values: &[impl AsRef<str>]) -> Result<Soql> {
        if values.is_empty() {
            return Err(Error::invalid_input("an IN list must not be empty"));
        }
        let quoted = values
            .iter()
            .map(|v| quote(v.as_ref()))
            .collect::<Result<Vec<_>>>()?;
        self.cond(field, &format!("IN ({})", quoted.join(",")))
    }

    /// `AND field LIKE 'value'` with the value's wildcards escaped.
    pub fn like(self, field: &str, value: &str, prefix: bool) -> Result<Soql> {
        let q = quote_like(value, prefix)?;
        self.cond(field, &format!("LIKE {q}"))
    }

    /// `AND field <op> <date-time literal>` (`=`, `>`, `>=`, `<`, `<=`); the literal must
    /// be `YYYY-MM-DDThh:mm:ssZ` (SOQL date-times are unquoted), checked character by
    /// character.
    pub fn cmp_literal(self, field: &str, op: &str, literal: &str) -> Result<Soql> {
        if !matches!(op, "=" | ">" | ">=" | "<" | "<=") {
            return Err(Error::invalid_input(format!(
                "{op:?} is not a SOQL comparison"
            )));
        }
        let ok = literal.len() == 20
            && literal.chars().enumerate().all(|(i, c)| match i {
                4 | 7 => c == '-',
                10 => c == 'T',
                13 | 16 => c == ':',
                19 => c == 'Z',
                _ => c.is_ascii_digit(),
            });
        if !ok {
            return Err(Error::invalid_input(format!(
                "{literal:?} is not a SOQL date-time literal"
            )));
        }
        self.cond(field, &format!("{op} {literal}"))
    }

    /// `ORDER BY a [DESC], b [DESC], …`.
    pub fn order_by_fields(mut self, fields: &[(&str, bool)]) -> Result<Soql> {
        let mut parts = Vec::with_capacity(fields.len());
        for (f, desc) in fields {
            check_name(f)?;
            parts.push(format!("{f}{}", if *desc { " DESC" } else { "" }));
        }
        let _ = write!(self.text, " ORDER BY {}", parts.join(","));
        Ok(self)
    }

    /// `ORDER BY field [DESC]`.
    pub fn order_by(mut self, field: &str, desc: bool) -> Result<Soql> {
        check_name(field)?;
        let _ = write!(
            self.text,
            " ORDER BY {field}{}",
            if desc { " DESC" } else { "" }
        );
        Ok(self)
    }

    /// `LIMIT n`.
    #[must_use]
    pub fn limit(mut self, n: u32) -> Soql {
        let _ = write!(self.text, " LIMIT {n}");
        self
    }

    /// `OFFSET n` (after `LIMIT`). Salesforce refuses an offset above 2,000
    /// ([`MAX_OFFSET`]); the builder refuses it too, before any request.
    pub fn offset(mut self, n: u32) -> Result<Soql> {
        if n > MAX_OFFSET {
            return Err(Error::invalid_input(format!(
                "a SOQL OFFSET is at most {MAX_OFFSET}, not {n}"
            )));
        }
        let _ = write!(self.text, " OFFSET {n}");
        Ok(self)
    }

    /// The statement.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_quoted_and_escaped() {
        assert_eq!(quote("IAM-7781").unwrap(), "'IAM-7781'");
        assert_eq!(quote(r"a'b\c").unwrap(), r"'a\'b\\c'");
        assert_eq!(
            quote("x' OR Id != null OR Id = 'y").unwrap(),
            r"'x\' OR Id != null OR Id = \'y'"
        );
        assert_eq!(quote("50%_off").unwrap(), "'50%_off'");
        assert_eq!(quote_like("50%_off", false).unwrap(), r"'50\%\_off'");
        assert_eq!(quote_like("ab", true).unwrap(), "'ab%'");
        for bad in ["a\nb", "a\u{0}", "x\r\nSELECT", "\u{1b}[2J"] {
            assert!(quote(bad).is_err(), "{bad:?}");
        }
        assert!(quote(&"a".repeat(MAX_VALUE + 1)).is_err());
    }

    #[test]
    fn statements() {
        let q = Soql::select(&["Id", "CaseNumber"], "Case")
            .unwrap()
            .eq("External_Ref__c", "it's")
            .unwrap()
            .in_list("CaseNumber", &["1", "2"])
            .unwrap()
            .gt("Id", "500")
            .unwrap()
            .ge("Id", "0")
            .unwrap()
            .lt("Id", "9")
            .unwrap()
            .order_by("Id", false)
            .unwrap()
            .limit(10);
        assert_eq!(
            q.as_str(),
            r"SELECT Id,CaseNumber FROM Case WHERE External_Ref__c = 'it\'s' AND CaseNumber IN ('1','2') AND Id > '500' AND Id >= '0' AND Id < '9' ORDER BY Id LIMIT 10"
        );
        let o = Soql::select(&["Id"], "User")
            .unwrap()
            .order_by("Id", false)
            .unwrap()
            .limit(1)
            .offset(2000)
            .unwrap();
        assert_eq!(
            o.as_str(),
            "SELECT Id FROM User ORDER BY Id LIMIT 1 OFFSET 2000"
        );
        assert!(Soql::select(&["Id"], "User").unwrap().offset(2001).is_err());
        for bad in [
            "",
            "Case;",
            "Case WHERE",
            "1Case",
            "Ca se",
            "a..b",
            "Case__c'",
        ] {
            assert!(Soql::select(&["Id"], bad).is_err(), "{bad:?}");
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
        assert!(
            Soql::select(&["Id"], "Case")
                .unwrap()
                .in_list("Id", &[] as &[&str])
                .is_err()
        );
    }
}
