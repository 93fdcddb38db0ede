//! The SOQL subset the mock understands:
//! `SELECT f[,f…] FROM Obj [WHERE c [AND c…]] [ORDER BY f [ASC|DESC][, f …]] [LIMIT n]
//! [OFFSET k]` (an `OFFSET` above 2,000 is refused, as Salesforce refuses it),
//! where a condition is `f = v`, `f != v`, `f > v`, `f >= v`, `f < v`, `f <= v`,
//! `f IN (v, …)` or `f LIKE v`, and a value is a quoted string (with Salesforce's
//! backslash escapes), `true`, `false`, `null`, a number, or an unquoted date-time
//! literal `YYYY-MM-DDThh:mm:ssZ` (a quoted value for a `…Date` field is refused, as
//! Salesforce refuses it). Anything else is `MALFORMED_QUERY`, as an unescaped quote in
//! a value would be.

use serde_json::Value;

/// A parsed query.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Query {
    pub(crate) fields: Vec<String>,
    pub(crate) object: String,
    pub(crate) conds: Vec<Cond>,
    pub(crate) order: Vec<(String, bool)>,
    pub(crate) limit: Option<usize>,
    pub(crate) offset: Option<usize>,
}

/// One condition.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cond {
    Cmp(String, String, Value),
    In(String, Vec<Value>),
    Like(String, String),
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    Str(String),
    Sym(String),
}

fn lex(q: &str) -> Result<Vec<Tok>, String> {
    let mut out = Vec::new();
    let mut it = q.chars().peekable();
    while let Some(&c) = it.peek() {
        if c.is_whitespace() {
            it.next();
        } else if c == '\'' {
            it.next();
            let mut s = String::new();
            loop {
                match it.next() {
                    None => return Err("unterminated string literal".into()),
                    Some('\'') => break,
                    Some('\\') => match it.next() {
                        Some('n') => s.push('\n'),
                        Some('t') => s.push('\t'),
                        Some('r') => s.push('\r'),
                        Some('b') => s.push('\u{8}'),
                        Some('f') => s.push('\u{c}'),
                        // `\%` and `\_` stay escaped: only LIKE gives them meaning.
                        Some(e @ ('%' | '_')) => {
                            s.push('\\');
                            s.push(e);
                        }
                        Some(e @ ('\'' | '"' | '\\')) => s.push(e),
                        other => return Err(format!("invalid escape {other:?}")),
                    },
                    Some(ch) => s.push(ch),
                }
            }
            out.push(Tok::Str(s));
        } else if c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-' {
            let mut w = String::new();
            // Date-time literals (`2026-05-28T20:26:41Z`) also hold `:` and `+`.
            let literal = c.is_ascii_digit();
            while let Some(&ch) = it.peek() {
                if ch.is_ascii_alphanumeric()
                    || ch == '_'
                    || ch == '.'
                    || ch == '-'
                    || (literal && (ch == ':' || ch == '+'))
                {
                    w.push(ch);
                    it.next();
                } else {
                    break;
                }
            }
            out.push(Tok::Word(w));
        } else if c == '!' || c == '<' || c == '>' || c == '=' {
            it.next();
            let mut s = c.to_string();
            if it.peek() == Some(&'=') {
                s.push('=');
                it.next();
            }
            out.push(Tok::Sym(s));
        } else if c == ',' || c == '(' || c == ')' {
            it.next();
            out.push(Tok::Sym(c.to_string()));
        } else {
            return Err(format!("unexpected character {c:?}"));
        }
    }
    Ok(out)
}

fn kw(t: Option<&Tok>, k: &str) -> bool {
    matches!(t, Some(Tok::Word(w)) if w.eq_ignore_ascii_case(k))
}

fn value(t: Option<Tok>) -> Result<Value, String> {
    match t {
        Some(Tok::Str(s)) => Ok(Value::String(s)),
        Some(Tok::Word(w)) if w.eq_ignore_ascii_case("true") => Ok(Value::Bool(true)),
        Some(Tok::Word(w)) if w.eq_ignore_ascii_case("false") => Ok(Value::Bool(false)),
        Some(Tok::Word(w)) if w.eq_ignore_ascii_case("null") => Ok(Value::Null),
        Some(Tok::Word(w)) if w.parse::<f64>().is_ok() => {
            Ok(serde_json::from_str(&w).unwrap_or(Value::Null))
        }
        Some(Tok::Word(w)) if w.len() == 20 && w.as_bytes()[10] == b'T' && w.ends_with('Z') => {
            // Stored times are `2026-05-28T20:26:41.000+0000`: the same shape compares
            // as text.
            let ok = w[..19].chars().enumerate().all(|(i, c)| match i {
                4 | 7 => c == '-',
                10 => c == 'T',
                13 | 16 => c == ':',
                _ => c.is_ascii_digit(),
            });
            if ok {
                Ok(Value::String(format!("{}.000+0000", &w[..19])))
            } else {
                Err(format!("invalid date-time literal {w}"))
            }
        }
        other => Err(format!("expected a value, found {other:?}")),
    }
}

/// Parses a query.
pub(crate) fn parse(q: &str) -> Result<Query, String> {
    let toks = lex(q)?;
    let mut it = toks.into_iter().peekable();
    if !kw(it.next().as_ref(), "SELECT") {
        return Err("expected SELECT".into());
    }
    let mut fields = Vec::new();
    if matches!(it.peek(), Some(Tok::Word(w)) if w.eq_ignore_ascii_case("COUNT")) {
        it.next();
        if it.next() != Some(Tok::Sym("(".into())) || it.next() != Some(Tok::Sym(")".into())) {
            return Err("expected COUNT()".into());
        }
        fields.push("COUNT()".to_owned());
    }
    while fields.first().is_none_or(|f| f != "COUNT()") {
        match it.next() {
            Some(Tok::Word(w)) => fields.push(w),
            other => return Err(format!("expected a field, found {other:?}")),
        }
        if it.peek() == Some(&Tok::Sym(",".into())) {
            it.next();
        } else {
            break;
        }
    }
    if fields.is_empty() {
        return Err("expected fields".into());
    }
    if !kw(it.next().as_ref(), "FROM") {
        return Err("expected FROM".into());
    }
    let object = match it.next() {
        Some(Tok::Word(w)) => w,
        other => return Err(format!("expected an object, found {other:?}")),
    };
    let mut conds = Vec::new();
    if kw(it.peek(), "WHERE") {
        it.next();
        loop {
            let field = match it.next() {
                Some(Tok::Word(w)) => w,
                other => return Err(format!("expected a field, found {other:?}")),
            };
            match it.next() {
                Some(Tok::Sym(op)) if op != "," && op != "(" && op != ")" => {
                    let v = it.next();
                    if field.ends_with("Date") && matches!(v, Some(Tok::Str(_))) {
                        return Err(format!(
                            "value of filter criterion for field '{field}' must be of type \
                             dateTime and should not be enclosed in quotes"
                        ));
                    }
                    conds.push(Cond::Cmp(field, op, value(v)?));
                }
                Some(Tok::Word(w)) if w.eq_ignore_ascii_case("IN") => {
                    if it.next() != Some(Tok::Sym("(".into())) {
                        return Err("expected ( after IN".into());
                    }
                    let mut vals = Vec::new();
                    loop {
                        vals.push(value(it.next())?);
                        match it.next() {
                            Some(Tok::Sym(s)) if s == "," => {}
                            Some(Tok::Sym(s)) if s == ")" => break,
                            other => return Err(format!("expected , or ), found {other:?}")),
                        }
                    }
                    conds.push(Cond::In(field, vals));
                }
                Some(Tok::Word(w)) if w.eq_ignore_ascii_case("LIKE") => match it.next() {
                    Some(Tok::Str(s)) => conds.push(Cond::Like(field, s)),
                    other => return Err(format!("expected a pattern, found {other:?}")),
                },
                other => return Err(format!("expected an operator, found {other:?}")),
            }
            if kw(it.peek(), "AND") {
                it.next();
            } else {
                break;
            }
        }
    }
    let mut order = Vec::new();
    if kw(it.peek(), "ORDER") {
        it.next();
        if !kw(it.next().as_ref(), "BY") {
            return Err("expected BY".into());
        }
        loop {
            let f = match it.next() {
                Some(Tok::Word(w)) => w,
                other => return Err(format!("expected a field, found {other:?}")),
            };
            let mut desc = false;
            if kw(it.peek(), "DESC") {
                it.next();
                desc = true;
            } else if kw(it.peek(), "ASC") {
                it.next();
            }
            order.push((f, desc));
            if it.peek() == Some(&Tok::Sym(",".into())) {
                it.next();
            } else {
                break;
            }
        }
    }
    let mut limit = None;
    if kw(it.peek(), "LIMIT") {
        it.next();
        match it.next() {
            Some(Tok::Word(w)) => limit = Some(w.parse().map_err(|_| "bad LIMIT")?),
            other => return Err(format!("expected a number, found {other:?}")),
        }
    }
    let mut offset = None;
    if kw(it.peek(), "OFFSET") {
        it.next();
        match it.next() {
            Some(Tok::Word(w)) => offset = Some(w.parse().map_err(|_| "bad OFFSET")?),
            other => return Err(format!("expected a number, found {other:?}")),
        }
    }
    if let Some(t) = it.next() {
        return Err(format!("unexpected {t:?}"));
    }
    Ok(Query {
        fields,
        object,
        conds,
        order,
        limit,
        offset,
    })
}

fn like(pattern: &str, text: &str) -> bool {
    // `%` any run, `_` one character, `\%`/`\_` literal; case-insensitive.
    let p: Vec<(char, bool)> = {
        let mut v = Vec::new();
        let mut it = pattern.chars();
        while let Some(c) = it.next() {
            if c == '\\' {
                if let Some(n) = it.next() {
                    v.push((n, true));
                }
            } else {
                v.push((c, false));
            }
        }
        v
    };
    let t: Vec<char> = text.to_lowercase().chars().collect();
    fn go(p: &[(char, bool)], t: &[char]) -> bool {
        match p.first() {
            None => t.is_empty(),
            Some(('%', false)) => (0..=t.len()).any(|i| go(&p[1..], &t[i..])),
            Some(('_', false)) => !t.is_empty() && go(&p[1..], &t[1..]),
            Some((c, _)) => {
                t.first()
                    .is_some_and(|x| c.to_lowercase().eq(std::iter::once(*x)))
                    && go(&p[1..], &t[1..])
            }
        }
    }
    go(&p, &t)
}

fn cmp(a: &Value, b: &Value) -> Option<std::cmp::Ordering> {
    match (a, b) {
        (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
        (Value::Number(x), Value::Number(y)) => x.as_f64()?.partial_cmp(&y.as_f64()?),
        (Value::Bool(x), Value::Bool(y)) => Some(x.cmp(y)),
        (Value::Null, Value::Null) => Some(std::cmp::Ordering::Equal),
        _ => None,
    }
}

/// Salesforce compares ids case-insensitively across the 15/18 forms: an 18-character id
/// equals its 15-character prefix.
fn eq(field: &str, a: &Value, b: &Value) -> bool {
    if field.eq_ignore_ascii_case("Id") || field.ends_with("Id") {
        if let (Value::String(x), Value::String(y)) = (a, b) {
            let (x, y) = (&x[..x.len().min(15)], &y[..y.len().min(15)]);
            return x == y;
        }
    }
    match (a, b) {
        // Text comparisons are case-insensitive in SOQL.
        (Value::String(x), Value::String(y)) => x.eq_ignore_ascii_case(y),
        _ => a == b,
    }
}

impl Cond {
    /// Whether this is a bound of an `Id` range (`Id >= v`, `Id < v`), what a
    /// partitioned listing adds; the keyset condition `Id > v` is not.
    pub(crate) fn is_id_range(&self) -> bool {
        matches!(self, Cond::Cmp(f, op, _) if f.eq_ignore_ascii_case("Id") && (op == ">=" || op == "<"))
    }

    /// Whether a row (its field values by `get`) matches.
    pub(crate) fn matches(&self, get: &dyn Fn(&str) -> Value) -> bool {
        match self {
            Cond::Cmp(f, op, v) => {
                let x = get(f);
                match op.as_str() {
                    "=" => eq(f, &x, v),
                    "!=" => !eq(f, &x, v),
                    ">" => cmp(&x, v) == Some(std::cmp::Ordering::Greater),
                    "<" => cmp(&x, v) == Some(std::cmp::Ordering::Less),
                    ">=" => cmp(&x, v).is_some_and(|o| o != std::cmp::Ordering::Less),
                    "<=" => cmp(&x, v).is_some_and(|o| o != std::cmp::Ordering::Greater),
                    _ => false,
                }
            }
            Cond::In(f, vals) => {
                let x = get(f);
                vals.iter().any(|v| eq(f, &x, v))
            }
            Cond::Like(f, p) => get(f).as_str().is_some_and(|t| like(p, t)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_the_connector_sends() {
        let q = parse(r"SELECT Id,CaseNumber FROM Case WHERE External_Ref__c = 'it\'s' AND CaseNumber IN ('1','2') AND IsClosed = false ORDER BY CreatedDate DESC LIMIT 5").unwrap();
        assert_eq!(q.object, "Case");
        assert_eq!(q.conds.len(), 3);
        assert_eq!(
            q.conds[0],
            Cond::Cmp(
                "External_Ref__c".into(),
                "=".into(),
                Value::String("it's".into())
            )
        );
        assert_eq!(q.order, vec![("CreatedDate".into(), true)]);
        assert_eq!(q.limit, Some(5));
        assert_eq!(q.offset, None);
        let o = parse("SELECT Id FROM User ORDER BY Id LIMIT 1 OFFSET 2000").unwrap();
        assert_eq!((o.limit, o.offset), (Some(1), Some(2000)));
        assert!(parse("SELECT Id FROM User OFFSET x").is_err());
        // An unescaped quote breaks the statement, as it would on Salesforce.
        assert!(parse("SELECT Id FROM Case WHERE Subject = 'a' OR '1'='1'").is_err());
        assert!(parse("SELECT Id FROM Case WHERE Subject = 'a").is_err());
    }

    #[test]
    fn ids_compare_in_byte_order_and_range_bounds_are_known() {
        // Base-62 ids are case-sensitive: `9` < `A` < `Z` < `a` in bytes, as on the server.
        let row = |id: &str| {
            let id = Value::String(id.to_owned());
            move |_: &str| id.clone()
        };
        let q = parse(
            "SELECT Id FROM User WHERE Id >= '005Dw0AbZ000000AAA' AND Id < '005Dw0Abb000000AAA'",
        )
        .unwrap();
        let inside = |id: &str| q.conds.iter().all(|c| c.matches(&row(id)));
        assert!(inside("005Dw0AbZ000001AAA"));
        assert!(
            inside("005Dw0Aba000000AAA"),
            "lower case sorts after upper case"
        );
        assert!(!inside("005Dw0Ab9000000AAA"), "digits sort before letters");
        assert!(
            !inside("005Dw0Abb000000AAA"),
            "the upper bound is exclusive"
        );
        assert!(q.conds.iter().all(Cond::is_id_range));
        let keyset = parse("SELECT Id FROM User WHERE Id > 'x'").unwrap();
        assert!(!keyset.conds[0].is_id_range());
    }

    #[test]
    fn like_escapes() {
        assert!(like(r"50\%\_off", "50%_off"));
        assert!(!like(r"50\%\_off", "50%xoff"));
        assert!(like("ab%", "abc"));
        assert!(like("a_c", "abc"));
    }
}
