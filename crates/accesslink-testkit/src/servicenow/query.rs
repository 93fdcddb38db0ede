//! `sysparm_query`, the encoded query, parsed the way the instance does it: split on `^`
//! first, so a `^` inside a value starts a new part (fact sheet §1 "Errors, rate limits,
//! quirks": encoded-query injection). Conditions on fields the table does not have are
//! dropped (the vendor ignores invalid query parts, so the query matches more rows); parts
//! the mock does not implement are refused loudly instead of being guessed at.

use std::cmp::Ordering;

use super::schema::TableDef;
use super::state::{Row, text};

/// The start of the message of the `500` for a query part the mock does not implement.
pub(crate) const UNSUPPORTED: &str = "mock: unsupported sysparm_query part";

/// A comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    /// `=`
    Eq,
    /// `!=`
    Ne,
    /// `IN a,b,c`
    In,
    /// `>`
    Gt,
    /// `<`
    Lt,
    /// `>=`
    Ge,
    /// `<=`
    Le,
    /// `STARTSWITH`
    StartsWith,
    /// `ISEMPTY`
    IsEmpty,
    /// `ISNOTEMPTY`
    IsNotEmpty,
}

/// `field op value`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Cond {
    pub(crate) field: String,
    pub(crate) op: Op,
    pub(crate) value: String,
    /// Compare `=`, `!=`, `IN` and `STARTSWITH` ignoring ASCII case (the opt-in
    /// [`case_insensitive`](super::ServiceNowMockBuilder::case_insensitive) instance).
    pub(crate) fold_case: bool,
}

impl Cond {
    /// Whether the row satisfies it (string comparisons; an absent field reads `""`).
    pub(crate) fn matches(&self, row: &Row) -> bool {
        let v = text(row, &self.field);
        let value = self.value.as_str();
        let same = |a: &str, b: &str| {
            if self.fold_case {
                a.eq_ignore_ascii_case(b)
            } else {
                a == b
            }
        };
        match self.op {
            Op::Eq => same(v, value),
            Op::Ne => !same(v, value),
            Op::In => value.split(',').any(|x| same(x, v)),
            Op::Gt => v > value,
            Op::Lt => v < value,
            Op::Ge => v >= value,
            Op::Le => v <= value,
            Op::StartsWith => v.get(..value.len()).is_some_and(|head| same(head, value)),
            Op::IsEmpty => v.is_empty(),
            Op::IsNotEmpty => !v.is_empty(),
        }
    }
}

/// `a^b^ORc` is `a AND (b OR c)`: a group is a list of clauses, each a list of
/// alternatives. An empty clause (all its conditions dropped) is true.
pub(crate) type Group = Vec<Vec<Cond>>;

/// A parsed query: groups joined by `^NQ` (union), and the order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Query {
    pub(crate) groups: Vec<Group>,
    /// `(field, descending)`, most significant first; empty = the default order.
    pub(crate) order: Vec<(String, bool)>,
}

/// Operators, longest first where one is a prefix of another.
const OPS: &[(&str, Op)] = &[
    ("ISNOTEMPTY", Op::IsNotEmpty),
    ("ISEMPTY", Op::IsEmpty),
    ("STARTSWITH", Op::StartsWith),
    ("!=", Op::Ne),
    (">=", Op::Ge),
    ("<=", Op::Le),
    ("=", Op::Eq),
    (">", Op::Gt),
    ("<", Op::Lt),
    ("IN", Op::In),
];

impl Query {
    /// Drops every `sys_id>=` and `sys_id<` clause: the key ranges of a partitioned
    /// import, as an instance that ignored them would (`sys_id>`, the keyset, stays).
    pub(crate) fn drop_key_ranges(&mut self) {
        for group in &mut self.groups {
            group.retain(|clause| {
                !matches!(clause.as_slice(), [c] if c.field == "sys_id" && matches!(c.op, Op::Ge | Op::Lt))
            });
        }
    }

    /// Parses `sysparm_query` for `table`; `Err` carries the part the mock does not know.
    pub(crate) fn parse(query: &str, table: &TableDef) -> Result<Query, String> {
        let mut q = Query {
            groups: vec![Vec::new()],
            order: Vec::new(),
        };
        for part in query.split('^') {
            if part.is_empty() || part == "EQ" {
                continue;
            }
            if let Some(field) = part.strip_prefix("ORDERBYDESC") {
                if table.has_field(field) {
                    q.order.push((field.to_owned(), true));
                }
                continue;
            }
            if let Some(field) = part.strip_prefix("ORDERBY") {
                if table.has_field(field) {
                    q.order.push((field.to_owned(), false));
                }
                continue;
            }
            let (or, cond) = if let Some(rest) = part.strip_prefix("NQ") {
                q.groups.push(Vec::new());
                (false, rest)
            } else if let Some(rest) = part.strip_prefix("OR") {
                (true, rest)
            } else {
                (false, part)
            };
            if cond.is_empty() {
                continue;
            }
            let cond = parse_cond(cond).ok_or_else(|| part.to_owned())?;
            let group = q.groups.last_mut().expect("at least one group");
            let known = table.has_field(&cond.field);
            match (or, group.last_mut()) {
                (true, Some(clause)) => {
                    if known {
                        clause.push(cond);
                    }
                }
                _ => group.push(if known { vec![cond] } else { Vec::new() }),
            }
        }
        Ok(q)
    }

    /// A query from `name=value` parameters (equality on known fields only).
    pub(crate) fn from_pairs<'a>(
        pairs: impl Iterator<Item = (&'a str, &'a str)>,
        table: &TableDef,
    ) -> Query {
        let group = pairs
            .filter(|(k, _)| table.has_field(k))
            .map(|(k, v)| {
                vec![Cond {
                    field: k.to_owned(),
                    op: Op::Eq,
                    value: v.to_owned(),
                    fold_case: false,
                }]
            })
            .collect();
        Query {
            groups: vec![group],
            order: Vec::new(),
        }
    }

    /// Makes every equality-like condition ignore ASCII case.
    pub(crate) fn fold_case(mut self, fold: bool) -> Query {
        for cond in self.groups.iter_mut().flatten().flatten() {
            cond.fold_case = fold;
        }
        self
    }

    /// Whether the row matches some group.
    pub(crate) fn matches(&self, row: &Row) -> bool {
        self.groups.iter().any(|g| group_matches(g, row))
    }

    /// Orders two rows: the `ORDERBY` fields, then `sys_created_on` and `sys_id` by
    /// default (only `sys_id` after explicit fields, so ties are stable).
    pub(crate) fn compare(&self, a: &Row, b: &Row) -> Ordering {
        let default = [("sys_created_on".to_owned(), false)];
        let keys = if self.order.is_empty() {
            &default[..]
        } else {
            &self.order[..]
        };
        keys.iter()
            .map(|(f, desc)| {
                let o = text(a, f).cmp(text(b, f));
                if *desc { o.reverse() } else { o }
            })
            .find(|o| o.is_ne())
            .unwrap_or_else(|| text(a, "sys_id").cmp(text(b, "sys_id")))
    }

    /// Whether rows come out in plain `sys_id` order, or the default order (which is
    /// `sys_id` order among rows created in the same second).
    pub(crate) fn by_sys_id(&self) -> Option<bool> {
        match self.order.as_slice() {
            [] => Some(false),
            [(f, false)] if f == "sys_id" => Some(true),
            _ => None,
        }
    }
}

/// Whether every clause of a group has a matching alternative.
pub(crate) fn group_matches(group: &Group, row: &Row) -> bool {
    group
        .iter()
        .all(|clause| clause.is_empty() || clause.iter().any(|c| c.matches(row)))
}

/// `field<op>value`; `None` for anything the mock does not implement (other operators,
/// dot-walked fields, `javascript:` values that the instance would evaluate).
fn parse_cond(part: &str) -> Option<Cond> {
    let end = part
        .find(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'))
        .unwrap_or(part.len());
    let (field, rest) = part.split_at(end);
    if field.is_empty() {
        return None;
    }
    let (op, value) = OPS
        .iter()
        .find_map(|(s, op)| rest.strip_prefix(s).map(|v| (*op, v)))?;
    let unary = matches!(op, Op::IsEmpty | Op::IsNotEmpty);
    if (unary && !value.is_empty()) || value.trim_start().starts_with("javascript:") {
        return None;
    }
    Some(Cond {
        field: field.to_owned(),
        op,
        value: value.to_owned(),
        fold_case: false,
    })
}
