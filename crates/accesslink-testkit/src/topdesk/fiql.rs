//! The FIQL subset the mock understands (fact sheet §3.5): `==`, `!=`, `=in=(…)`,
//! `=out=(…)`, `=sw=`, `=gt=`, `=ge=`, `=lt=`, `=le=` (timestamps compared as times, to
//! the millisecond; other values as numbers, else text), `;` (AND, binds tighter), `,` (OR), parentheses; values quoted
//! with `'` or `"` (backslash escapes) or bare; `null`. Selectors are dotted paths into
//! the row as the API prints it (`caller.email`), compared as text (`true`, numbers).

use serde_json::Value;

/// A parsed expression.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Expr {
    Or(Vec<Expr>),
    And(Vec<Expr>),
    Cmp {
        field: String,
        op: Op,
        values: Vec<Option<String>>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Op {
    Eq,
    Ne,
    In,
    Out,
    StartsWith,
    Gt,
    Ge,
    Lt,
    Le,
}

struct Parser<'a> {
    s: &'a [u8],
    text: &'a str,
    i: usize,
}

/// Parses a `query`; the error says where it failed.
pub(crate) fn parse(text: &str) -> Result<Expr, String> {
    let mut p = Parser {
        s: text.as_bytes(),
        text,
        i: 0,
    };
    let e = p.or()?;
    if p.i != p.s.len() {
        return Err(format!("unexpected input at position {}", p.i));
    }
    Ok(e)
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn or(&mut self) -> Result<Expr, String> {
        let mut items = vec![self.and()?];
        while self.peek() == Some(b',') {
            self.i += 1;
            items.push(self.and()?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Expr::Or(items)
        })
    }

    fn and(&mut self) -> Result<Expr, String> {
        let mut items = vec![self.primary()?];
        while self.peek() == Some(b';') {
            self.i += 1;
            items.push(self.primary()?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Expr::And(items)
        })
    }

    fn primary(&mut self) -> Result<Expr, String> {
        if self.peek() == Some(b'(') {
            self.i += 1;
            let e = self.or()?;
            if self.peek() != Some(b')') {
                return Err(format!("missing ) at position {}", self.i));
            }
            self.i += 1;
            return Ok(e);
        }
        let start = self.i;
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == b'.' || c == b'_')
        {
            self.i += 1;
        }
        if self.i == start {
            return Err(format!("a field name expected at position {start}"));
        }
        let field = self.text[start..self.i].to_owned();
        let rest = &self.text[self.i..];
        let (op, len) = [
            ("==", Op::Eq),
            ("!=", Op::Ne),
            ("=in=", Op::In),
            ("=out=", Op::Out),
            ("=sw=", Op::StartsWith),
            ("=gt=", Op::Gt),
            ("=ge=", Op::Ge),
            ("=lt=", Op::Lt),
            ("=le=", Op::Le),
        ]
        .into_iter()
        .find(|(t, _)| rest.starts_with(t))
        .map(|(t, op)| (op, t.len()))
        .ok_or_else(|| format!("an operator expected at position {}", self.i))?;
        self.i += len;
        let values = if matches!(op, Op::In | Op::Out) {
            if self.peek() != Some(b'(') {
                return Err(format!("( expected at position {}", self.i));
            }
            self.i += 1;
            let mut v = vec![self.value()?];
            while self.peek() == Some(b',') {
                self.i += 1;
                v.push(self.value()?);
            }
            if self.peek() != Some(b')') {
                return Err(format!(") expected at position {}", self.i));
            }
            self.i += 1;
            v
        } else {
            vec![self.value()?]
        };
        Ok(Expr::Cmp { field, op, values })
    }

    fn value(&mut self) -> Result<Option<String>, String> {
        match self.peek() {
            Some(q @ (b'\'' | b'"')) => {
                self.i += 1;
                let mut out = String::new();
                loop {
                    let rest = &self.text[self.i..];
                    let c = rest
                        .chars()
                        .next()
                        .ok_or_else(|| "unterminated quoted value".to_owned())?;
                    self.i += c.len_utf8();
                    if c == '\\' {
                        let e = self.text[self.i..]
                            .chars()
                            .next()
                            .ok_or_else(|| "dangling backslash".to_owned())?;
                        self.i += e.len_utf8();
                        out.push(e);
                    } else if c as u32 == u32::from(q) {
                        return Ok(Some(out));
                    } else {
                        out.push(c);
                    }
                }
            }
            _ => {
                let start = self.i;
                while self
                    .peek()
                    .is_some_and(|c| !b"'\"();,=!~<> ".contains(&c) && !c.is_ascii_control())
                {
                    self.i += 1;
                }
                if self.i == start {
                    return Err(format!("a value expected at position {start}"));
                }
                let v = &self.text[start..self.i];
                Ok((v != "null").then(|| v.to_owned()))
            }
        }
    }
}

fn text_at(row: &Value, path: &str) -> Option<String> {
    let mut v = row;
    for part in path.split('.') {
        v = v.get(part)?;
    }
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// Orders two values of a field: as times when both are timestamps, as numbers when
/// both are numbers; `None` when they are not comparable.
pub(crate) fn compare(a: &str, b: &str) -> Option<std::cmp::Ordering> {
    use super::state::parse_time;
    match (parse_time(a), parse_time(b)) {
        (Some(x), Some(y)) => return Some(x.cmp(&y)),
        (Some(_), None) | (None, Some(_)) => return None,
        (None, None) => {}
    }
    match (a.parse::<f64>(), b.parse::<f64>()) {
        (Ok(x), Ok(y)) => x.partial_cmp(&y),
        _ => Some(a.cmp(b)),
    }
}

/// Whether `row` matches; `fields` are the selectors the resource allows.
pub(crate) fn matches(e: &Expr, row: &Value, fields: &[&str]) -> Result<bool, String> {
    Ok(match e {
        Expr::Or(items) => {
            for i in items {
                if matches(i, row, fields)? {
                    return Ok(true);
                }
            }
            false
        }
        Expr::And(items) => {
            for i in items {
                if !matches(i, row, fields)? {
                    return Ok(false);
                }
            }
            true
        }
        Expr::Cmp { field, op, values } => {
            if !fields.contains(&field.as_str()) {
                return Err(format!("Field '{field}' cannot be used in a query"));
            }
            let actual = text_at(row, field);
            let eq = |v: &Option<String>| match (v, &actual) {
                (None, None) => true,
                (Some(v), Some(a)) => v == a,
                _ => false,
            };
            match op {
                Op::Eq => eq(&values[0]),
                Op::Ne => !eq(&values[0]),
                Op::In => values.iter().any(eq),
                Op::Out => !values.iter().any(eq),
                Op::StartsWith => match (&values[0], &actual) {
                    (Some(v), Some(a)) => a.starts_with(v.as_str()),
                    _ => false,
                },
                Op::Gt | Op::Ge | Op::Lt | Op::Le => {
                    let (Some(v), Some(a)) = (&values[0], &actual) else {
                        return Ok(false);
                    };
                    let ord = compare(a, v)
                        .ok_or_else(|| format!("'{v}' cannot be compared with field '{field}'"))?;
                    match op {
                        Op::Gt => ord.is_gt(),
                        Op::Ge => ord.is_ge(),
                        Op::Lt => ord.is_lt(),
                        _ => ord.is_le(),
                    }
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_subset() {
        let row = json!({"number": "I 2405 123", "archived": false, "caller": {"email": "a@b"}});
        let f = ["number", "archived", "caller.email"];
        let yes = |q: &str| matches(&parse(q).unwrap(), &row, &f).unwrap();
        assert!(yes("number=='I 2405 123'"));
        assert!(yes("number=in=('I 2405 122','I 2405 123')"));
        assert!(!yes("number=out=('I 2405 123')"));
        assert!(yes("archived==false;caller.email==a@b"));
        assert!(yes("(number=='x'),(archived==false)"));
        assert!(yes(r"number=='I 2405 123',number=='a\'b'"));
        assert!(!yes(r"number=='I 2405 123\';x'"));
        assert!(yes("number=sw='I 24'"));
        assert!(parse("number=='x").is_err());
        assert!(parse("number~x").is_err());
        assert!(matches(&parse("secret==x").unwrap(), &row, &f).is_err());
        let row = json!({"modificationDate": "2026-12-07T09:30:00.500+0000"});
        let f = ["modificationDate"];
        let yes = |q: &str| matches(&parse(q).unwrap(), &row, &f).unwrap();
        assert!(yes("modificationDate=ge=2026-12-07T09:30:00Z"));
        assert!(yes("modificationDate=ge=2026-12-07T10:30:00.500+0100"));
        assert!(!yes("modificationDate=gt=2026-12-07T09:30:00.500Z"));
        assert!(yes("modificationDate=lt=2026-12-07T09:30:01Z"));
        assert!(matches(&parse("modificationDate=ge=x").unwrap(), &row, &f).is_err());
    }
}
