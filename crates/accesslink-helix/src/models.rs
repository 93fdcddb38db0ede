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
