//! A typed builder for `sysparm_query`, the only way this crate writes an encoded query.
//!
//! ServiceNow's encoded query has no escape character: the server splits it on `^`, so
//! a value containing `^` — `x^ORactive=true`, `x^NQactive=true` — adds conditions of its
//! own, and a value starting with `javascript:` is run as a script filter (fact sheet §1
//! "Encoded-query injection"). The builder therefore checks every part before anything is
//! sent:
//!
//! - field names are `[a-z0-9_.]+` (dot-walking allowed), at most 80 characters, with no
//!   leading, trailing or doubled dot;
//! - values may not contain `^`, a control character (newline included), nor start with
//!   `javascript:` (any case, after spaces); they may not be empty (use
//!   [`Query::is_empty`]);
//! - `IN` values may not contain `,`, which separates them, and each is checked like any
//!   other value (so `javascript:` is refused in any position, not only the first).
//!
//! A violation is an [`ErrorKind::InvalidInput`](accesslink_core::ErrorKind) from
//! [`Query::encode`] and the request is never sent.
//!
//! ```
//! use accesslink_servicenow::Query;
//!
//! let q = Query::new()
//!     .eq("active", "true")
//!     .starts_with("user_name", "svc_")
//!     .or()
//!     .eq("user_name", "admin")
//!     .order_by("sys_id");
//! assert_eq!(
//!     q.encode().unwrap().as_deref(),
//!     Some("active=true^user_nameSTARTSWITHsvc_^ORuser_name=admin^ORDERBYsys_id")
//! );
//! assert!(Query::new().eq("number", "INC1^ORactive=true").encode().is_err());
//! ```

use std::fmt;

use accesslink_core::{Error, Result};

/// How a condition joins the one before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Join {
    And,
    Or,
    NewQuery,
}

/// An encoded query under construction; see the [module docs](self).
///
/// Methods never fail: the first invalid part is remembered and reported by
/// [`encode`](Query::encode), so a query reads as one chain.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Query {
    parts: Vec<String>,
    order: Vec<String>,
    next_join: Option<Join>,
    error: Option<String>,
}

impl fmt::Debug for Query {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.encode() {
            Ok(q) => f.debug_tuple("Query").field(&q).finish(),
            Err(e) => f.debug_tuple("Query").field(&e.to_string()).finish(),
        }
    }
}

/// Longest field name accepted.
const MAX_FIELD: usize = 80;

/// Checks a field name: `[a-z0-9_.]+`, no empty dot-walk segment.
pub fn check_field(field: &str) -> Result<()> {
    let ok = !field.is_empty()
        && field.len() <= MAX_FIELD
        && field
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'.')
        && field.split('.').all(|s| !s.is_empty());
    if ok {
        Ok(())
    } else {
        Err(Error::invalid_input(format!(
            "{:?} is not a ServiceNow field name ([a-z0-9_.], at most {MAX_FIELD} characters)",
            accesslink_core::redact::truncate(field, 40)
        )))
    }
}

/// Checks a value for an encoded query: see the [module docs](self).
pub fn check_value(value: &str) -> Result<()> {
    let why = if value.is_empty() {
        Some("is empty (use is_empty() to match empty fields)")
    } else if value.contains('^') {
        Some("contains `^`, which would split the encoded query")
    } else if value.chars().any(char::is_control) {
        Some("contains a control character")
    } else if value
        .trim_start()
        .get(..11)
        .is_some_and(|p| p.eq_ignore_ascii_case("javascript:"))
    {
        Some("starts with `javascript:`, which the instance would run as a script")
    } else {
        None
    };
    match why {
        None => Ok(()),
        Some(why) => Err(Error::invalid_input(format!(
            "query value {:?} {why}",
            accesslink_core::redact::truncate(value, 40)
        ))),
    }
}

impl Query {
    /// An empty query (matches every row).
    pub fn new() -> Self {
        Query::default()
    }

    fn fail(&mut self, e: &Error) {
        if self.error.is_none() {
            self.error = Some(e.to_string());
        }
    }

    fn push(mut self, field: &str, op: &str, value: Option<&str>) -> Self {
        if let Err(e) = check_field(field) {
            self.fail(&e);
            return self;
        }
        if let Some(v) = value {
            if let Err(e) = check_value(v) {
                self.fail(&e);
                return self;
            }
        }
        let join = self.next_join.take().unwrap_or(Join::And);
        let mut part = String::new();
        if !self.parts.is_empty() {
            part.push_str(match join {
                Join::And => "^",
                Join::Or => "^OR",
                Join::NewQuery => "^NQ",
            });
        } else if join != Join::And {
            self.fail(&Error::invalid_input(
                "or()/new_query() needs a condition before it",
            ));
            return self;
        }
        part.push_str(field);
        part.push_str(op);
        if let Some(v) = value {
            part.push_str(v);
        }
        self.parts.push(part);
        self
    }

    /// `field=value`.
    #[must_use]
    pub fn eq(self, field: &str, value: &str) -> Self {
        self.push(field, "=", Some(value))
    }

    /// `field!=value`.
    #[must_use]
    pub fn ne(self, field: &str, value: &str) -> Self {
        self.push(field, "!=", Some(value))
    }

    /// `field>value` (string order on the server; `sys_id` is fixed-width hex, so it
    /// orders as keyset paging needs).
    #[must_use]
    pub fn gt(self, field: &str, value: &str) -> Self {
        self.push(field, ">", Some(value))
    }

    /// `field<value`.
    #[must_use]
    pub fn lt(self, field: &str, value: &str) -> Self {
        self.push(field, "<", Some(value))
    }

    /// `field>=value`.
    #[must_use]
    pub fn ge(self, field: &str, value: &str) -> Self {
        self.push(field, ">=", Some(value))
    }

    /// `field<=value`.
    #[must_use]
    pub fn le(self, field: &str, value: &str) -> Self {
        self.push(field, "<=", Some(value))
    }

    /// `fieldSTARTSWITHvalue`.
    #[must_use]
    pub fn starts_with(self, field: &str, value: &str) -> Self {
        self.push(field, "STARTSWITH", Some(value))
    }

    /// `fieldINa,b,c`. No value may contain `,`; an empty list is refused (it would
    /// match nothing on some releases and everything on others).
    #[must_use]
    pub fn in_<S: AsRef<str>>(mut self, field: &str, values: &[S]) -> Self {
        if values.is_empty() {
            self.fail(&Error::invalid_input(format!(
                "an IN condition on {field:?} needs at least one value"
            )));
            return self;
        }
        for v in values {
            let v = v.as_ref();
            if v.contains(',') {
                self.fail(&Error::invalid_input(format!(
                    "IN value {:?} contains `,`, which separates IN values",
                    accesslink_core::redact::truncate(v, 40)
                )));
                return self;
            }
            // Each value on its own: checking only the joined list would let
            // `javascript:` through anywhere but first, and an empty value through
            // as a stray `,` (fact sheet §1 "Encoded-query injection").
            if let Err(e) = check_value(v) {
                self.fail(&e);
                return self;
            }
        }
        let joined = values
            .iter()
            .map(AsRef::as_ref)
            .collect::<Vec<_>>()
            .join(",");
        self.push(field, "IN", Some(&joined))
    }

    /// `fieldISEMPTY`.
    #[must_use]
    pub fn is_empty(self, field: &str) -> Self {
        self.push(field, "ISEMPTY", None)
    }

    /// `fieldISNOTEMPTY`.
    #[must_use]
    pub fn is_not_empty(self, field: &str) -> Self {
        self.push(field, "ISNOTEMPTY", None)
    }

    /// Joins the next condition with AND (the default; for readability).
    #[must_use]
    pub fn and(mut self) -> Self {
        self.next_join = Some(Join::And);
        self
    }

    /// Joins the next condition with `^OR` (OR with the condition before it).
    #[must_use]
    pub fn or(mut self) -> Self {
        self.next_join = Some(Join::Or);
        self
    }

    /// Starts a new query with `^NQ`: rows matching either query.
    #[must_use]
    pub fn new_query(mut self) -> Self {
        self.next_join = Some(Join::NewQuery);
        self
    }

    /// `ORDERBYfield` (ascending), after the conditions.
    #[must_use]
    pub fn order_by(mut self, field: &str) -> Self {
        match check_field(field) {
            Ok(()) => self.order.push(format!("ORDERBY{field}")),
            Err(e) => self.fail(&e),
        }
        self
    }

    /// `ORDERBYDESCfield`.
    #[must_use]
    pub fn order_by_desc(mut self, field: &str) -> Self {
        match check_field(field) {
            Ok(()) => self.order.push(format!("ORDERBYDESC{field}")),
            Err(e) => self.fail(&e),
        }
        self
    }

    /// Whether `order_by`/`order_by_desc` was used.
    pub(crate) fn has_order(&self) -> bool {
        !self.order.is_empty()
    }

    /// `sys_id>last` ANDed to every `^NQ` branch, for keyset paging. Appending it once
    /// would bind it to the last branch only (`a^NQb^sys_id>x` is `a OR (b AND
    /// sys_id>x)`), so the rows of the other branches would come back on every page.
    #[must_use]
    pub(crate) fn after_sys_id(mut self, last: &str) -> Self {
        if let Err(e) = check_value(last) {
            self.fail(&e);
            return self;
        }
        if self.next_join.is_some_and(|j| j != Join::And) {
            // Left for `encode` to report: the keyset condition must not complete it.
            return self;
        }
        let cond = format!("sys_id>{last}");
        if self.parts.is_empty() {
            self.parts.push(cond);
            return self;
        }
        let mut parts = Vec::with_capacity(self.parts.len() + 2);
        for (i, p) in std::mem::take(&mut self.parts).into_iter().enumerate() {
            if i > 0 && p.starts_with("^NQ") {
                parts.push(format!("^{cond}"));
            }
            parts.push(p);
        }
        parts.push(format!("^{cond}"));
        self.parts = parts;
        self
    }

    /// The encoded query, `None` when there is no condition and no order; the first
    /// invalid part as [`InvalidInput`](accesslink_core::ErrorKind::InvalidInput).
    pub fn encode(&self) -> Result<Option<String>> {
        if let Some(e) = &self.error {
            return Err(Error::invalid_input(
                e.trim_start_matches("invalid input: "),
            ));
        }
        if self.next_join.is_some_and(|j| j != Join::And) {
            return Err(Error::invalid_input(
                "or()/new_query() needs a condition after it",
            ));
        }
        let mut out = self.parts.concat();
        for o in &self.order {
            if !out.is_empty() {
                out.push('^');
            }
            out.push_str(o);
        }
        Ok((!out.is_empty()).then_some(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use accesslink_core::ErrorKind;

    #[test]
    fn operators_encode_as_the_table_api_reads_them() {
        let q = Query::new()
            .eq("a", "1")
            .ne("b", "2")
            .gt("sys_id", "0f")
            .lt("c", "9")
            .ge("d", "x")
            .le("e", "y")
            .starts_with("f", "pre")
            .in_("number", &["INC1", "INC2"])
            .is_empty("g")
            .is_not_empty("h")
            .or()
            .eq("caller_id.user_name", "bob")
            .new_query()
            .eq("i", "=ok")
            .order_by("sys_id")
            .order_by_desc("number");
        assert_eq!(
            q.encode().unwrap().unwrap(),
            "a=1^b!=2^sys_id>0f^c<9^d>=x^e<=y^fSTARTSWITHpre^numberININC1,INC2^gISEMPTY^hISNOTEMPTY^ORcaller_id.user_name=bob^NQi==ok^ORDERBYsys_id^ORDERBYDESCnumber"
        );
        assert_eq!(Query::new().encode().unwrap(), None);
        assert_eq!(
            Query::new().order_by("sys_id").encode().unwrap().as_deref(),
            Some("ORDERBYsys_id")
        );
    }

    #[test]
    fn hostile_values_are_refused() {
        let hostile = [
            "INC0010001^ORactive=true",
            "x^NQactive=true",
            "x^",
            "^",
            "a\nb",
            "a\rb",
            "a\u{0}b",
            "\t",
            "javascript:gs.getUserID()",
            "  JavaScript:1",
            "",
        ];
        for v in hostile {
            for q in [
                Query::new().eq("number", v),
                Query::new().ne("number", v),
                Query::new().gt("sys_id", v),
                Query::new().starts_with("user_name", v),
                Query::new().eq("active", "true").or().eq("number", v),
            ] {
                let e = q.encode().unwrap_err();
                assert_eq!(e.kind(), ErrorKind::InvalidInput, "{v:?}");
            }
        }
        // Harmless look-alikes pass unchanged.
        for v in [
            "a=b",
            "OR",
            "NQ",
            "ORDERBYx",
            "java script:",
            "x javascript:",
            "100%",
        ] {
            let q = Query::new().eq("short_description", v).encode().unwrap();
            assert_eq!(q.unwrap(), format!("short_description={v}"));
        }
    }

    #[test]
    fn in_values_may_not_carry_commas() {
        let e = Query::new()
            .in_("number", &["INC1", "INC2,INC3"])
            .encode()
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
        let none: [&str; 0] = [];
        assert!(Query::new().in_("number", &none).encode().is_err());
        assert!(Query::new().in_("number", &["a^ORb"]).encode().is_err());
        // Every value is checked, not only the joined list's start.
        for list in [
            &["INC1", "javascript:gs.getUserID()"][..],
            &["INC1", " JavaScript:1"][..],
            &["INC1", ""][..],
            &["", "INC1"][..],
        ] {
            let e = Query::new().in_("number", list).encode().unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidInput, "{list:?}");
        }
    }

    #[test]
    fn hostile_field_names_are_refused() {
        for f in [
            "",
            "Number",
            "number=1^active",
            "a b",
            ".a",
            "a.",
            "a..b",
            "a^b",
            "a\nb",
            &"a".repeat(81),
        ] {
            assert!(Query::new().eq(f, "1").encode().is_err(), "{f:?}");
            assert!(Query::new().order_by(f).encode().is_err(), "{f:?}");
        }
    }

    #[test]
    fn the_keyset_condition_joins_every_branch() {
        let x = "0123456789abcdef0123456789abcdef";
        let q = |q: Query| {
            q.after_sys_id(x)
                .order_by("sys_id")
                .encode()
                .unwrap()
                .unwrap()
        };
        assert_eq!(q(Query::new()), format!("sys_id>{x}^ORDERBYsys_id"));
        assert_eq!(
            q(Query::new().eq("a", "1").or().eq("b", "2")),
            format!("a=1^ORb=2^sys_id>{x}^ORDERBYsys_id")
        );
        assert_eq!(
            q(Query::new()
                .eq("a", "1")
                .new_query()
                .eq("b", "2")
                .eq("c", "3")),
            format!("a=1^sys_id>{x}^NQb=2^c=3^sys_id>{x}^ORDERBYsys_id")
        );
        assert!(Query::new().after_sys_id("x^ORa=1").encode().is_err());
        assert!(
            Query::new()
                .eq("a", "1")
                .or()
                .after_sys_id(x)
                .encode()
                .is_err(),
            "a dangling or() is not completed by the keyset condition"
        );
    }

    #[test]
    fn dangling_joins_are_refused() {
        assert!(Query::new().or().eq("a", "1").encode().is_err());
        assert!(Query::new().eq("a", "1").or().encode().is_err());
        assert!(Query::new().eq("a", "1").new_query().encode().is_err());
        assert!(Query::new().eq("a", "1").and().encode().is_ok());
    }

    #[test]
    fn the_first_error_is_the_one_reported() {
        let e = Query::new()
            .eq("Bad", "1")
            .eq("number", "x^y")
            .encode()
            .unwrap_err();
        assert!(e.to_string().contains("\"Bad\""), "{e}");
    }
}
