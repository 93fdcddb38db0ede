//! AR System REST shapes: entries, lists and links (tolerant: unknown keys ignored,
//! values kept as JSON).

use serde::Deserialize;
use serde_json::{Map, Value};

/// `{"href": …}`.
#[derive(Debug, Clone, Deserialize)]
#[non_exhaustive]
pub struct Href {
    /// The link.
    pub href: String,
}

/// `_links`.
#[derive(Debug, Clone, Default, Deserialize)]
#[non_exhaustive]
pub struct Links {
    /// `self`.
    #[serde(rename = "self", default)]
    pub this: Vec<Href>,
    /// `next`: present while more entries follow.
    #[serde(default)]
    pub next: Option<Vec<Href>>,
}

/// One entry: `{"values": {…}, "_links": {…}}`.
#[derive(Debug, Clone, Deserialize)]
#[non_exhaustive]
pub struct Entry {
    /// The field values by name.
    pub values: Map<String, Value>,
    /// Links (`self` names the entry id).
    #[serde(rename = "_links", default)]
    pub links: Links,
}

impl Entry {
    /// A text value (numbers printed), `None` when absent or null.
    pub fn text(&self, field: &str) -> Option<String> {
        match self.values.get(field)? {
            Value::String(s) => Some(s.clone()),
            Value::Null => None,
            other => Some(other.to_string()),
        }
    }

    /// A date-time value ([`parse_ar_time`]); `None` when absent or not a date-time.
    pub fn time(&self, field: &str) -> Option<std::time::SystemTime> {
        parse_ar_time(self.values.get(field)?.as_str()?)
    }

    /// The entry id: the last segment of `_links.self`, else the `fallback` field.
    pub fn entry_id(&self, fallback: &str) -> Option<String> {
        let from_link = self.links.this.first().and_then(|h| {
            let url = url::Url::parse(&h.href).ok()?;
            let last = url.path_segments()?.next_back()?.to_owned();
            percent_decode(&last)
        });
        from_link.or_else(|| self.text(fallback))
    }
}

/// An AR date-time (`2024-05-02T09:14:11.000+0000`; also `Z` and `+05:30` zones) as a
/// time; `None` when it is not one.
pub fn parse_ar_time(s: &str) -> Option<std::time::SystemTime> {
    let s = s.trim();
    if s.len() < 19 || !s.is_char_boundary(19) {
        return None;
    }
    let (head, rest) = s.split_at(19);
    if head.as_bytes()[10] != b'T' {
        return None;
    }
    let rest = rest.trim_start_matches(|c: char| c == '.' || c.is_ascii_digit());
    let offset = match rest {
        "" | "Z" => 0,
        tz => {
            let sign = match tz.as_bytes()[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let digits: String = tz[1..].chars().filter(|c| *c != ':').collect();
            if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let h: i32 = digits[..2].parse().ok()?;
            let m: i32 = digits[2..].parse().ok()?;
            sign * (h * 60 + m)
        }
    };
    accesslink_core::time::parse_local_datetime(&head.replacen('T', " ", 1), offset)
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok().filter(|s| !s.is_empty())
}

/// A list answer: `{"entries": […], "_links": {…}}`. `entries` is required: a body
/// without it is a protocol error, not an empty page.
#[derive(Debug, Clone, Deserialize)]
#[non_exhaustive]
pub struct EntryList {
    /// The entries.
    pub entries: Vec<Entry>,
    /// Links; `next` while more follow.
    #[serde(rename = "_links", default)]
    pub links: Links,
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn ar_times_parse_with_their_zone() {
        let at = |secs: u64| Some(UNIX_EPOCH + Duration::from_secs(secs));
        assert_eq!(
            parse_ar_time("2024-05-02T09:14:11.000+0000"),
            at(1_714_641_251)
        );
        assert_eq!(parse_ar_time("2024-05-02T09:14:11Z"), at(1_714_641_251));
        assert_eq!(
            parse_ar_time("2024-05-02T11:14:11.000+0200"),
            at(1_714_641_251)
        );
        assert_eq!(
            parse_ar_time("2024-05-02T04:14:11-05:00"),
            at(1_714_641_251)
        );
        for bad in [
            "",
            "2024-05-02",
            "2024-05-02 09:14:11",
            "yesterday",
            "2024-05-02T09:14:11+2",
        ] {
            assert_eq!(parse_ar_time(bad), None, "{bad:?}");
        }
    }
}
