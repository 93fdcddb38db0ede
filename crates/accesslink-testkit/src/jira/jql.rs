//! The slice of JQL the mock understands: clauses joined by `AND` — `field = value`,
//! `field in (v, …)` — and `ORDER BY field [ASC|DESC]`; values quoted (with `\"` and `\\`
//! escapes) or bare words. Fields: `labels`, `key`, `issuekey`, `id`, `project`,
//! `issuetype`. Anything else is a 400 the way Jira words it.

/// One clause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Clause {
    pub field: String,
    pub values: Vec<String>,
    /// `~` (a text search) rather than `=` / `in`.
    pub text: bool,
    /// `>=` (a date field compared with `yyyy/MM/dd HH:mm`): the minute it names, in
    /// milliseconds since the epoch (the mock's API user's time zone is UTC).
    pub since_ms: Option<u64>,
}

/// A parsed query.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Query {
    pub clauses: Vec<Clause>,
    /// The `ORDER BY` fields, lower case, in order.
    pub order: Vec<String>,
}

struct Lexer<'a> {
    chars: std::iter::Peekable<std::str::Chars<'a>>,
}

#[derive(Debug, PartialEq)]
enum Tok {
    Word(String),
    Quoted(String),
    Sym(char),
}

impl Lexer<'_> {
    fn tokens(mut self) -> Result<Vec<Tok>, String> {
        let mut out = Vec::new();
        while let Some(&c) = self.chars.peek() {
            if c.is_whitespace() {
                self.chars.next();
            } else if c == '"' || c == '\'' {
                self.chars.next();
                let mut s = String::new();
                loop {
                    match self.chars.next() {
                        None => return Err("Error in the JQL Query: unterminated string".into()),
                        Some('\\') => match self.chars.next() {
                            Some(e) => s.push(e),
                            None => return Err("Error in the JQL Query: dangling escape".into()),
                        },
                        Some(q) if q == c => break,
                        Some(other) => s.push(other),
                    }
                }
                out.push(Tok::Quoted(s));
            } else if matches!(c, '=' | '(' | ')' | ',') {
                self.chars.next();
                out.push(Tok::Sym(c));
            } else {
                let mut s = String::new();
                while let Some(&c) = self.chars.peek() {
                    if c.is_whitespace() || matches!(c, '=' | '(' | ')' | ',' | '"' | '\'') {
                        break;
                    }
                    s.push(c);
                    self.chars.next();
                }
                out.push(Tok::Word(s));
            }
        }
        Ok(out)
    }
}

const FIELDS: &[&str] = &[
    "labels",
    "key",
    "issuekey",
    "id",
    "project",
    "issuetype",
    "updated",
];

/// `yyyy/MM/dd HH:mm` or `yyyy-MM-dd HH:mm` (or a bare date) as JQL takes dates, in
/// UTC; milliseconds since the epoch. Seconds are not accepted, as in Jira.
pub(crate) fn parse_jql_date(v: &str) -> Option<u64> {
    let v = v.trim().replace('/', "-");
    let full = if v.len() == 10 {
        format!("{v} 00:00:00")
    } else {
        format!("{v}:00")
    };
    if full.len() != 19 {
        return None;
    }
    let t = accesslink_core::time::parse_local_datetime(&full, 0)?;
    u64::try_from(t.duration_since(std::time::UNIX_EPOCH).ok()?.as_millis()).ok()
}
/// The site's one text custom field, "Correlation ID" (`customfield_10050`).
pub(crate) const CUSTOM_FIELD: &str = "cf[10050]";
const RESERVED: &[char] = &[
    '+', '.', ',', ';', '?', '|', '*', '/', '%', '^', '$', '#', '@', '[', ']',
];

fn value(t: Option<Tok>) -> Result<String, String> {
    match t {
        Some(Tok::Quoted(s)) => Ok(s),
        Some(Tok::Word(w)) if !w.contains(RESERVED) && !w.is_empty() => Ok(w),
        Some(Tok::Word(w)) => Err(format!(
            "Error in the JQL Query: The character '{}' is a reserved JQL character. You must enclose it in a string or use the escape '\\u{:04x}' instead.",
            w.chars().find(|c| RESERVED.contains(c)).unwrap_or('?'),
            u32::from(w.chars().find(|c| RESERVED.contains(c)).unwrap_or('?'))
        )),
        other => Err(format!(
            "Error in the JQL Query: expected a value, found {other:?}"
        )),
    }
}

/// Parses `jql`; the error is Jira's message.
pub(crate) fn parse(jql: &str) -> Result<Query, String> {
    if jql.chars().any(char::is_control) {
        return Err("Error in the JQL Query: a control character".into());
    }
    let mut toks = Lexer {
        chars: jql.chars().peekable(),
    }
    .tokens()?
    .into_iter()
    .peekable();
    let mut q = Query::default();
    loop {
        let field = match toks.next() {
            None => break,
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("order") => {
                match toks.next() {
                    Some(Tok::Word(b)) if b.eq_ignore_ascii_case("by") => {}
                    _ => return Err("Error in the JQL Query: expected BY".into()),
                }
                loop {
                    let Some(Tok::Word(f)) = toks.next() else {
                        return Err("Error in the JQL Query: expected a field to order by".into());
                    };
                    q.order.push(f.to_ascii_lowercase());
                    if let Some(Tok::Word(d)) = toks.peek() {
                        if d.eq_ignore_ascii_case("asc") {
                            toks.next();
                        } else if d.eq_ignore_ascii_case("desc") {
                            return Err(
                                "Error in the JQL Query: the mock orders ascending only".into()
                            );
                        }
                    }
                    match toks.next() {
                        None => break,
                        Some(Tok::Sym(',')) => {}
                        Some(_) => {
                            return Err("Error in the JQL Query: text after ORDER BY".into());
                        }
                    }
                }
                break;
            }
            Some(Tok::Word(w)) => w.to_ascii_lowercase(),
            other => {
                return Err(format!(
                    "Error in the JQL Query: expected a field, found {other:?}"
                ));
            }
        };
        let custom = field == CUSTOM_FIELD;
        if !FIELDS.contains(&field.as_str()) && !custom {
            return Err(format!(
                "Field '{field}' does not exist or you do not have permission to view it."
            ));
        }
        let mut text = false;
        let mut since_ms = None;
        let values = match toks.next() {
            Some(Tok::Word(w)) if w == ">" && field == "updated" => {
                if toks.next() != Some(Tok::Sym('=')) {
                    return Err("Error in the JQL Query: the mock takes 'updated >=' only".into());
                }
                let v = value(toks.next())?;
                since_ms = Some(parse_jql_date(&v).ok_or_else(|| {
                    format!(
                        "Date value '{v}' for field 'updated' is invalid. Valid formats include: 'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', or a period format e.g. '-5d', '4w 2d'."
                    )
                })?);
                vec![v]
            }
            _ if field == "updated" => {
                return Err("Error in the JQL Query: the mock takes 'updated >=' only".into());
            }
            Some(Tok::Word(w)) if w == "~" => {
                text = true;
                vec![value(toks.next())?]
            }
            Some(Tok::Sym('=')) => vec![value(toks.next())?],
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("in") => {
                if toks.next() != Some(Tok::Sym('(')) {
                    return Err("Error in the JQL Query: expected '('".into());
                }
                let mut vs = vec![value(toks.next())?];
                loop {
                    match toks.next() {
                        Some(Tok::Sym(',')) => vs.push(value(toks.next())?),
                        Some(Tok::Sym(')')) => break,
                        _ => return Err("Error in the JQL Query: expected ',' or ')'".into()),
                    }
                }
                vs
            }
            other => {
                return Err(format!(
                    "Error in the JQL Query: expected an operator, found {other:?}"
                ));
            }
        };
        let field = if field == "issuekey" {
            "key".into()
        } else {
            field
        };
        if custom != text {
            return Err(format!(
                "Error in the JQL Query: the operator is not supported by '{field}' in the mock (custom fields take '~', others '=' and 'in')"
            ));
        }
        q.clauses.push(Clause {
            field,
            values,
            text,
            since_ms,
        });
        match toks.peek() {
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("and") => {
                toks.next();
            }
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("order") => {}
            None => break,
            Some(other) => {
                return Err(format!(
                    "Error in the JQL Query: expected AND or ORDER BY, found {other:?} (the mock knows no OR)"
                ));
            }
        }
    }
    Ok(q)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_values_with_escapes() {
        let q = parse(r#"labels = "a \"b\" \\c" AND key in ("X-1", Y-2) ORDER BY created ASC"#)
            .unwrap();
        assert_eq!(q.clauses[0].values, [r#"a "b" \c"#]);
        assert_eq!(q.clauses[1].field, "key");
        assert_eq!(q.clauses[1].values, ["X-1", "Y-2"]);
    }

    #[test]
    fn custom_fields_take_text_search() {
        let q = parse(r#"cf[10050] ~ "\"EXT\\-1\"" ORDER BY created ASC"#).unwrap();
        assert!(q.clauses[0].text);
        assert_eq!(q.clauses[0].values, [r#""EXT\-1""#]);
        assert!(parse("cf[10050] = x").is_err());
        assert!(parse("cf[99999] ~ x").is_err());
    }

    #[test]
    fn updated_since_takes_minutes_and_order_takes_a_list() {
        let q = parse(r#"updated >= "2024/05/02 09:14" ORDER BY updated ASC, key ASC"#).unwrap();
        assert_eq!(q.clauses[0].since_ms, Some(1_714_641_240_000));
        assert_eq!(q.order, ["updated", "key"]);
        assert!(
            parse(r#"updated >= "2024/05/02 09:14:11""#).is_err(),
            "no seconds"
        );
        assert!(parse(r#"updated = "2024/05/02 09:14""#).is_err());
    }

    #[test]
    fn injection_and_reserved_characters_are_errors() {
        assert!(parse("labels = a OR key = b").is_err());
        assert!(parse("labels = a.b").is_err());
        assert!(parse("summary = x").is_err());
        assert!(parse("labels = \"x\ny\"").is_err());
    }
}
