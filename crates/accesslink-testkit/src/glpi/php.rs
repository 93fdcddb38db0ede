//! The bits of PHP and GLPI behaviour the API leaks: `parse_str` query arrays, `intval`,
//! truthiness, GLPI's HTML sanitizing of stored text, its `LIKE` text search, dates.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value};

/// `Sanitizer::CHARS_MAPPING` (GLPI 10.0): what is stored instead of `&`, `<`, `>`.
const CHARS: [(char, &str); 3] = [('&', "&#38;"), ('<', "&#60;"), ('>', "&#62;")];
/// The pre-10.0 mapping, still decoded.
const LEGACY: [(char, &str); 2] = [('<', "&lt;"), ('>', "&gt;")];

/// Parses a query string the way PHP's `parse_str` does: `a[b][0]=x` nests, `a[]=x`
/// appends, later keys win. Arrays come back as JSON objects keyed by their PHP keys.
pub(super) fn parse_query(query: &str) -> Map<String, Value> {
    let mut root = Map::new();
    for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
        let (head, path) = split_key(&key);
        if head.is_empty() {
            continue;
        }
        insert(&mut root, &head, &path, Value::String(value.into_owned()));
    }
    root
}

/// `a[b][c]` → (`a`, [`b`, `c`]); an unclosed bracket ends the path, as in PHP.
fn split_key(key: &str) -> (String, Vec<String>) {
    let Some(open) = key.find('[') else {
        return (key.to_owned(), Vec::new());
    };
    let head = key[..open].to_owned();
    let mut path = Vec::new();
    let mut rest = &key[open..];
    while let Some(stripped) = rest.strip_prefix('[') {
        let Some(close) = stripped.find(']') else {
            break;
        };
        path.push(stripped[..close].to_owned());
        rest = &stripped[close + 1..];
    }
    (head, path)
}

fn insert(map: &mut Map<String, Value>, key: &str, path: &[String], value: Value) {
    let key = if key.is_empty() {
        next_index(map)
    } else {
        key.to_owned()
    };
    match path.split_first() {
        None => {
            map.insert(key, value);
        }
        Some((next, rest)) => {
            let slot = map.entry(key).or_insert_with(|| Value::Object(Map::new()));
            if !slot.is_object() {
                *slot = Value::Object(Map::new());
            }
            if let Value::Object(child) = slot {
                insert(child, next, rest, value);
            }
        }
    }
}

fn next_index(map: &Map<String, Value>) -> String {
    let max = map.keys().filter_map(|k| k.parse::<i64>().ok()).max();
    max.map_or(0, |m| m + 1).to_string()
}

/// The elements of a PHP array (a JSON array, or an object in numeric-key order).
pub(super) fn list(value: &Value) -> Vec<&Value> {
    match value {
        Value::Array(items) => items.iter().collect(),
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by_key(|(k, _)| (k.parse::<i64>().unwrap_or(i64::MAX), k.to_string()));
            entries.into_iter().map(|(_, v)| v).collect()
        }
        _ => Vec::new(),
    }
}

/// PHP `intval` of a string: leading whitespace and sign, then digits; 0 otherwise.
pub(super) fn intval(s: &str) -> i64 {
    let s = s.trim_start();
    let (sign, digits) = match s.strip_prefix('-') {
        Some(rest) => (-1, rest),
        None => (1, s.strip_prefix('+').unwrap_or(s)),
    };
    let end = digits
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(digits.len());
    digits[..end].parse::<i64>().map_or(0, |n| sign * n)
}

/// PHP truthiness (`if ($value)`).
pub(super) fn truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64() != Some(0.0),
        Value::String(s) => !s.is_empty() && s != "0",
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

/// `filter_var($v, FILTER_VALIDATE_BOOLEAN)`: `1`, `true`, `on`, `yes` (any case).
pub(super) fn filter_bool(value: &Value) -> bool {
    match value {
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_i64() == Some(1),
        Value::String(s) => matches!(s.to_ascii_lowercase().as_str(), "1" | "true" | "on" | "yes"),
        _ => false,
    }
}

/// A scalar parameter as text (`"5"`, `5` and `true` all have one).
pub(super) fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(if *b { "1".into() } else { String::new() }),
        _ => None,
    }
}

/// `Sanitizer::isHtmlEncoded`: no raw `<`, `>` or bare `&`, and at least one entity GLPI
/// produces.
fn is_html_encoded(s: &str) -> bool {
    let bare_amp = s.match_indices('&').any(|(at, _)| !is_entity(&s[at + 1..]));
    let raw = s.contains('<') || s.contains('>') || bare_amp;
    let encoded = CHARS
        .iter()
        .map(|(_, e)| *e)
        .chain(LEGACY.iter().map(|(_, e)| *e));
    !raw && encoded.into_iter().any(|e| s.contains(e))
}

/// Whether `rest` (after an `&`) starts like `#?[a-z0-9]+;`.
fn is_entity(rest: &str) -> bool {
    let rest = rest.strip_prefix('#').unwrap_or(rest);
    let len = rest
        .find(|c: char| !c.is_ascii_alphanumeric())
        .unwrap_or(rest.len());
    len > 0 && rest[len..].starts_with(';')
}

/// `Sanitizer::encodeHtmlSpecialChars`, as GLPI applies it to every text it stores.
pub(super) fn sanitize(s: &str) -> String {
    if is_html_encoded(s) {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match CHARS.iter().find(|(raw, _)| *raw == c) {
            Some((_, entity)) => out.push_str(entity),
            None => out.push(c),
        }
    }
    out
}

/// `Sanitizer::decodeHtmlSpecialChars`: what `X-GLPI-Sanitized-Content: false` returns.
pub(super) fn unsanitize(s: &str) -> String {
    if !is_html_encoded(s) {
        return s.to_owned();
    }
    let mapping: &[(char, &str)] = if CHARS.iter().any(|(_, e)| s.contains(e)) {
        &CHARS
    } else {
        &LEGACY
    };
    // Reverse order, so `&#38;#60;` decodes to `&#60;`, not `<`.
    let mut out = s.to_owned();
    for (raw, entity) in mapping.iter().rev() {
        out = out.replace(entity, &raw.to_string());
    }
    out
}

/// A text criterion after `Search::makeTextSearchValue` and `makeTextCriteria`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum TextSearch {
    /// `IS NULL` (`''`, `^$`, `$`).
    IsNull,
    /// `IS NULL OR = ''` (`null`, `NULL`).
    NullOrEmpty,
    /// `LIKE` with `%` wildcards, case-insensitive.
    Like(String),
}

impl TextSearch {
    /// The criterion for a user-typed value: `^`/`$` anchor it, `%` is a wildcard, `_` is
    /// literal. The value is un-sanitized first while stored text stays sanitized, so a
    /// value with `&`, `<` or `>` never matches (as on the real server).
    pub(super) fn new(value: &str) -> TextSearch {
        let value = unsanitize(value);
        if value == "NULL" || value == "null" {
            return TextSearch::NullOrEmpty;
        }
        let value = value.trim();
        if value == "^" {
            return TextSearch::Like("%".into());
        }
        if value.is_empty() || value == "^$" || value == "$" {
            return TextSearch::IsNull;
        }
        let mut pattern = match value.strip_prefix('^') {
            Some(rest) => rest.trim_start().to_owned(),
            None => format!("%{value}"),
        };
        pattern = match pattern.strip_suffix('$') {
            Some(rest) => rest.trim_end().to_owned(),
            None => format!("{pattern}%"),
        };
        TextSearch::Like(pattern)
    }

    /// Whether a column value (`None` for SQL `NULL`) matches.
    pub(super) fn matches(&self, subject: Option<&str>) -> bool {
        match (self, subject) {
            (TextSearch::IsNull, s) => s.is_none(),
            (TextSearch::NullOrEmpty, s) => s.is_none_or(str::is_empty),
            (TextSearch::Like(_), None) => false,
            (TextSearch::Like(p), Some(s)) => like(&p.to_lowercase(), &s.to_lowercase()),
        }
    }
}

/// SQL `LIKE` with `%` only.
fn like(pattern: &str, subject: &str) -> bool {
    let parts: Vec<&str> = pattern.split('%').collect();
    if parts.len() == 1 {
        return pattern == subject;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !subject.starts_with(first) || subject.len() < first.len() + last.len() {
        return false;
    }
    let mut rest = &subject[first.len()..subject.len() - last.len()];
    if !subject.ends_with(last) {
        return false;
    }
    for middle in &parts[1..parts.len() - 1] {
        match rest.find(middle) {
            Some(at) => rest = &rest[at + middle.len()..],
            None => return false,
        }
    }
    true
}

/// `formatUserName` with GLPI's default (real name first): `Doe Jane`, else the login.
pub(super) fn user_display_name(
    login: &str,
    realname: Option<&str>,
    first: Option<&str>,
) -> String {
    match (
        realname.filter(|r| !r.is_empty()),
        first.filter(|f| !f.is_empty()),
    ) {
        (Some(r), Some(f)) => format!("{r} {f}"),
        (Some(r), None) => r.to_owned(),
        _ => login.to_owned(),
    }
}

thread_local! {
    /// The stopped clock of the mock whose state this thread holds locked
    /// (`TicketBackend::freeze_clock`); set and restored by the state's lock guard.
    static FROZEN: std::cell::Cell<Option<u64>> = const { std::cell::Cell::new(None) };
}

/// Makes [`now`] answer `frozen` (when `Some`) on this thread; returns what it replaces.
pub(super) fn set_frozen(frozen: Option<u64>) -> Option<u64> {
    FROZEN.with(|f| f.replace(frozen))
}

/// The server's clock as GLPI prints dates: `2026-11-23 22:23:01` (UTC here).
pub(super) fn now() -> String {
    let secs = FROZEN.with(std::cell::Cell::get).unwrap_or_else(|| {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    });
    datetime(secs)
}

/// `YYYY-MM-DD HH:MM:SS` of a Unix time (days-to-civil, proleptic Gregorian).
pub(super) fn datetime(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let (h, m, s) = (rem / 3600, rem / 60 % 60, rem % 60);
    format!("{year:04}-{month:02}-{day:02} {h:02}:{m:02}:{s:02}")
}

/// Unix time of a `YYYY-MM-DD HH:MM:SS` date, for `Last-Modified`.
pub(super) fn parse_datetime(s: &str) -> Option<u64> {
    let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, se) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let y = if mo <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = if mo > 2 { mo - 3 } else { mo + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    u64::try_from(days * 86_400 + h * 3600 + mi * 60 + se).ok()
}

/// A PHP session id as GLPI hands it out: 26 characters of `[0-9a-v]`.
pub(super) fn session_id() -> String {
    const ALPHABET: &[u8] = b"0123456789abcdefghijklmnopqrstuv";
    (0..26)
        .map(|_| ALPHABET[fastrand::usize(..ALPHABET.len())] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_query_nests_like_php() {
        let q = parse_query(
            "criteria[0][field]=1&criteria[0][value]=a+b&criteria[1][field]=2\
             &forcedisplay[]=2&forcedisplay[]=12&range=0-9&searchText[name]=%5Ex",
        );
        assert_eq!(q["criteria"]["0"]["value"], "a b");
        assert_eq!(q["criteria"]["1"]["field"], "2");
        assert_eq!(q["forcedisplay"]["1"], "12");
        assert_eq!(q["searchText"]["name"], "^x");
        assert_eq!(q["range"], "0-9");
        let fields: Vec<_> = list(&q["forcedisplay"]).into_iter().cloned().collect();
        assert_eq!(fields, vec![Value::from("2"), Value::from("12")]);
    }

    #[test]
    fn sanitize_round_trip_and_idempotence() {
        assert_eq!(sanitize("a <b> & c"), "a &#60;b&#62; &#38; c");
        assert_eq!(
            sanitize("a &#60;b&#62;"),
            "a &#60;b&#62;",
            "already encoded"
        );
        assert_eq!(sanitize("\"quotes\" stay"), "\"quotes\" stay");
        assert_eq!(unsanitize("a &#60;b&#62; &#38; c"), "a <b> & c");
        assert_eq!(unsanitize("x &lt;y&gt;"), "x <y>");
        assert_eq!(unsanitize("a & b"), "a & b", "not encoded: left alone");
    }

    #[test]
    fn text_search_follows_make_text_search_value() {
        let m = |v: &str, s: Option<&str>| TextSearch::new(v).matches(s);
        assert!(m("PROBE", Some("probe x")));
        assert!(m("^probe", Some("probe x")) && !m("^robe", Some("probe x")));
        assert!(m("x$", Some("probe x")) && !m("probe$", Some("probe x")));
        assert!(m("^probe x$", Some("Probe X")));
        assert!(m("pro%e", Some("probe")), "% is a wildcard");
        assert!(!m("prob_", Some("probe")), "_ is literal");
        assert!(m("prob_", Some("prob_e")));
        assert!(
            !m("<b>", Some("&#60;b&#62;")),
            "raw text never matches stored text"
        );
        assert!(!m("&#60;b", Some("&#60;b&#62;")));
        assert!(m("^", Some("")) && !m("^", None));
        assert!(m("^$", None) && !m("^$", Some("")));
        assert!(m("null", Some("")) && m("NULL", None));
    }

    #[test]
    fn dates_round_trip() {
        assert_eq!(datetime(0), "1970-01-01 00:00:00");
        assert_eq!(datetime(1_795_472_581), "2026-11-23 22:23:01");
        assert_eq!(parse_datetime("2026-11-23 22:23:01"), Some(1_795_472_581));
        assert_eq!(
            parse_datetime("2000-02-29 12:00:00").map(datetime).unwrap(),
            "2000-02-29 12:00:00"
        );
    }

    #[test]
    fn php_scalars() {
        assert_eq!(intval(" 42abc"), 42);
        assert_eq!(intval("-7"), -7);
        assert_eq!(intval("abc"), 0);
        assert!(
            truthy(&Value::from("1")) && !truthy(&Value::from("0")) && !truthy(&Value::from(""))
        );
        assert!(filter_bool(&Value::from("true")) && filter_bool(&Value::from("YES")));
        assert!(!filter_bool(&Value::from("0")) && !filter_bool(&Value::from("false")));
        let id = session_id();
        assert_eq!(id.len(), 26);
        assert!(
            id.chars()
                .all(|c| c.is_ascii_digit() || ('a'..='v').contains(&c))
        );
    }
}
