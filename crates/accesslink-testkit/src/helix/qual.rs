//! The qualification subset the mock understands: `'Field' = "value"`, `!=`, `LIKE`
//! (`%` wildcards), `AND`, `OR`, `NOT`, parentheses; `""` inside a value is a `"`.

use serde_json::{Map, Value};

/// A parsed qualification.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Expr {
    Cmp(String, Op, String),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Op {
    Eq,
    Ne,
    Like,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Field(String),
    Text(String),
    Op(Op),
    And,
    Or,
    Not,
    Open,
    Close,
}

fn lex(s: &str) -> Result<Vec<Tok>, String> {
    let mut out = Vec::new();
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            ' ' => i += 1,
            '(' => {
                out.push(Tok::Open);
                i += 1;
            }
            ')' => {
                out.push(Tok::Close);
                i += 1;
            }
            '\'' => {
                let end = chars[i + 1..]
                    .iter()
                    .position(|&c| c == '\'')
                    .ok_or("unterminated field name")?;
                out.push(Tok::Field(chars[i + 1..i + 1 + end].iter().collect()));
                i += end + 2;
            }
            '"' => {
                let mut v = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err("unterminated value".into()),
                        Some('"') if chars.get(i + 1) == Some(&'"') => {
                            v.push('"');
                            i += 2;
                        }
                        Some('"') => {
                            i += 1;
                            break;
                        }
                        Some(c) => {
                            v.push(*c);
                            i += 1;
                        }
                    }
                }
                out.push(Tok::Text(v));
            }
            '=' => {
                out.push(Tok::Op(Op::Eq));
                i += 1;
            }
            '<' | '>' => {
                let eq = chars.get(i + 1) == Some(&'=');
                out.push(Tok::Op(match (c, eq) {
                    ('<', false) => Op::Lt,
                    ('<', true) => Op::Le,
                    ('>', false) => Op::Gt,
                    _ => Op::Ge,
                }));
                i += if eq { 2 } else { 1 };
            }
            '!' if chars.get(i + 1) == Some(&'=') => {
                out.push(Tok::Op(Op::Ne));
                i += 2;
            }
            _ if c.is_ascii_alphabetic() => {
                let end = chars[i..]
                    .iter()
                    .position(|c| !c.is_ascii_alphabetic())
                    .unwrap_or(chars.len() - i);
                let word: String = chars[i..i + end].iter().collect();
                out.push(match word.to_ascii_uppercase().as_str() {
                    "AND" => Tok::And,
                    "OR" => Tok::Or,
                    "NOT" => Tok::Not,
                    "LIKE" => Tok::Op(Op::Like),
                    _ => return Err(format!("unexpected word {word:?}")),
                });
                i += end;
            }
            other => return Err(format!("unexpected character {other:?}")),
        }
    }
    Ok(out)
}

struct Parser {
    toks: Vec<Tok>,
    at: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.at)
    }
    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.at).cloned();
        self.at += 1;
        t
    }
    fn or(&mut self) -> Result<Expr, String> {
        let mut left = self.and()?;
        while self.peek() == Some(&Tok::Or) {
            self.at += 1;
            left = Expr::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }
    fn and(&mut self) -> Result<Expr, String> {
        let mut left = self.unary()?;
        while self.peek() == Some(&Tok::And) {
            self.at += 1;
            left = Expr::And(Box::new(left), Box::new(self.unary()?));
        }
        Ok(left)
    }
    fn unary(&mut self) -> Result<Expr, String> {
        match self.next() {
            Some(Tok::Not) => Ok(Expr::Not(Box::new(self.unary()?))),
            Some(Tok::Open) => {
                let e = self.or()?;
                match self.next() {
                    Some(Tok::Close) => Ok(e),
                    _ => Err("missing )".into()),
                }
            }
            Some(Tok::Field(f)) => match (self.next(), self.next()) {
                (Some(Tok::Op(op)), Some(Tok::Text(v))) => Ok(Expr::Cmp(f, op, v)),
                _ => Err(format!("expected an operator and a value after '{f}'")),
            },
            other => Err(format!("unexpected {other:?}")),
        }
    }
}

/// Parses a qualification.
pub(crate) fn parse(s: &str) -> Result<Expr, String> {
    let mut p = Parser {
        toks: lex(s)?,
        at: 0,
    };
    let e = p.or()?;
    if p.at != p.toks.len() {
        return Err("trailing tokens".into());
    }
    Ok(e)
}

fn like(value: &str, pattern: &str) -> bool {
    let parts: Vec<&str> = pattern.split('%').collect();
    if parts.len() == 1 {
        return value == pattern;
    }
    let mut rest = value;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            match rest.strip_prefix(part) {
                Some(r) => rest = r,
                None => return false,
            }
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            match rest.find(part) {
                Some(at) => rest = &rest[at + part.len()..],
                None => return false,
            }
        }
    }
    true
}

/// A number, or a date-time (`2024-05-02T09:14:11.000+0000`) as seconds since the
/// epoch: AR compares date fields with either.
pub(crate) fn ordinal(s: &str) -> Option<i64> {
    if let Ok(n) = s.trim().parse::<i64>() {
        return Some(n);
    }
    super::state::parse_ar_time(s).map(|t| t as i64)
}

impl Expr {
    /// Whether an entry's values match.
    #[cfg(test)]
    pub(crate) fn matches(&self, values: &Map<String, Value>) -> bool {
        self.matches_with(values, false)
    }

    /// Whether an entry's values match; with `ignore_ranges`, every `>=` and `<`
    /// comparison holds (a server that ignores a partition's range bounds but honours
    /// the keyset condition `>`).
    pub(crate) fn matches_with(&self, values: &Map<String, Value>, ignore_ranges: bool) -> bool {
        match self {
            Expr::Cmp(_, Op::Ge | Op::Lt, _) if ignore_ranges => true,
            Expr::Cmp(f, op, v) => {
                let have = match values.get(f) {
                    Some(Value::String(s)) => Some(s.clone()),
                    Some(Value::Null) | None => None,
                    Some(other) => Some(other.to_string()),
                };
                match op {
                    Op::Eq => have.as_deref() == Some(v.as_str()),
                    Op::Ne => have.as_deref() != Some(v.as_str()),
                    Op::Like => have.is_some_and(|h| like(&h, v)),
                    Op::Lt | Op::Le | Op::Gt | Op::Ge => {
                        // AR compares null as no match.
                        let Some(h) = have else { return false };
                        let ord = match (ordinal(&h), ordinal(v)) {
                            (Some(a), Some(b)) => a.cmp(&b),
                            _ => h.as_str().cmp(v.as_str()),
                        };
                        match op {
                            Op::Lt => ord.is_lt(),
                            Op::Le => ord.is_le(),
                            Op::Gt => ord.is_gt(),
                            _ => ord.is_ge(),
                        }
                    }
                }
            }
            Expr::And(a, b) => {
                a.matches_with(values, ignore_ranges) && b.matches_with(values, ignore_ranges)
            }
            Expr::Or(a, b) => {
                a.matches_with(values, ignore_ranges) || b.matches_with(values, ignore_ranges)
            }
            Expr::Not(a) => !a.matches_with(values, ignore_ranges),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_subset_parses_and_matches() {
        let e = parse("('Incident Number' = \"INC1\" OR 'Incident Number' = \"INC2\") AND NOT 'Status' = \"Closed\"").unwrap();
        let v = |n: &str, s: &str| {
            json!({"Incident Number": n, "Status": s})
                .as_object()
                .unwrap()
                .clone()
        };
        assert!(e.matches(&v("INC1", "New")));
        assert!(!e.matches(&v("INC1", "Closed")));
        assert!(!e.matches(&v("INC3", "New")));
        let q = parse("'Summary' = \"say \"\"hi\"\"\"").unwrap();
        assert_eq!(q, Expr::Cmp("Summary".into(), Op::Eq, "say \"hi\"".into()));
        assert!(parse("'Status' = \"x\" OR").is_err());
        assert!(parse("'Status' = \"x").is_err());
        assert!(parse("Status = 1").is_err());
        let since = parse("'Last Modified Date' >= \"1714641251\"").unwrap();
        let at = |t: &str| {
            json!({ "Last Modified Date": t })
                .as_object()
                .unwrap()
                .clone()
        };
        assert!(since.matches(&at("2024-05-02T09:14:11.000+0000")));
        assert!(!since.matches(&at("2024-05-02T09:14:10.000+0000")));
        assert!(!since.matches(&json!({}).as_object().unwrap().clone()));
        let range = parse("('Remedy Login ID' >= \"b\" AND 'Remedy Login ID' < \"m\" AND 'Remedy Login ID' > \"c\")").unwrap();
        let login = |l: &str| json!({ "Remedy Login ID": l }).as_object().unwrap().clone();
        assert!(range.matches(&login("d.one")));
        assert!(!range.matches(&login("n.two")), "past the upper bound");
        assert!(
            !range.matches(&login("b.three")),
            "not after the keyset value"
        );
        // Ignoring the range bounds keeps the keyset condition.
        assert!(range.matches_with(&login("n.two"), true));
        assert!(!range.matches_with(&login("b.three"), true));
        let l = parse("'Login' LIKE \"jd%\"").unwrap();
        assert!(l.matches(json!({"Login": "jdoe"}).as_object().unwrap()));
    }
}
