//! `GET /search/<Itemtype>`: criteria, columns, and rows keyed by search-option id.

use serde_json::{Map, Value};

use super::MAX_RANGE;

/// How a search criterion compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SearchType {
    /// SQL `LIKE` (with `^`/`$` anchors); on number fields also `>N`, `<N`.
    Contains,
    /// Equality (on dropdowns and links GLPI compares ids).
    Equals,
    /// Inequality.
    NotEquals,
    /// Negated `contains`.
    NotContains,
    /// `morethan`: strictly after (dates, numbers).
    MoreThan,
}

impl SearchType {
    fn as_str(self) -> &'static str {
        match self {
            SearchType::Contains => "contains",
            SearchType::Equals => "equals",
            SearchType::NotEquals => "notequals",
            SearchType::NotContains => "notcontains",
            SearchType::MoreThan => "morethan",
        }
    }
}

/// One `criteria[i]` of a search, ANDed with the ones before it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Criterion {
    /// The search option id (`listSearchOptions/<Itemtype>`).
    pub field: u32,
    /// The comparison.
    pub searchtype: SearchType,
    /// The value.
    pub value: String,
}

impl Criterion {
    /// A criterion from its parts.
    pub fn new(field: u32, searchtype: SearchType, value: impl Into<String>) -> Self {
        Criterion {
            field,
            searchtype,
            value: value.into(),
        }
    }
}

/// A `GET /search/<Itemtype>` query.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SearchQuery {
    /// Criteria, ANDed.
    pub criteria: Vec<Criterion>,
    /// Search options to return besides the defaults.
    pub forcedisplay: Vec<u32>,
    /// Search option to sort on.
    pub sort: Option<u32>,
    /// Descending instead of ascending.
    pub descending: bool,
    /// First row.
    pub start: u64,
    /// Rows wanted (at most [`MAX_RANGE`]).
    pub limit: u64,
}

impl SearchQuery {
    /// A query for `limit` rows from the first.
    pub fn new(limit: u64) -> Self {
        SearchQuery {
            limit,
            ..SearchQuery::default()
        }
    }

    /// Adds a criterion.
    #[must_use]
    pub fn criterion(mut self, c: Criterion) -> Self {
        self.criteria.push(c);
        self
    }

    /// Adds columns.
    #[must_use]
    pub fn display(mut self, fields: impl IntoIterator<Item = u32>) -> Self {
        self.forcedisplay.extend(fields);
        self
    }

    /// Sorts on a search option, ascending.
    #[must_use]
    pub fn sort(mut self, field: u32) -> Self {
        self.sort = Some(field);
        self
    }

    /// The query as URL parameters (`criteria[0][field]=…`), as the client sends them.
    pub fn pairs(&self) -> Vec<(String, String)> {
        let mut pairs = Vec::new();
        for (i, c) in self.criteria.iter().enumerate() {
            if i > 0 {
                pairs.push((format!("criteria[{i}][link]"), "AND".into()));
            }
            pairs.push((format!("criteria[{i}][field]"), c.field.to_string()));
            pairs.push((
                format!("criteria[{i}][searchtype]"),
                c.searchtype.as_str().into(),
            ));
            pairs.push((format!("criteria[{i}][value]"), c.value.clone()));
        }
        for (i, f) in self.forcedisplay.iter().enumerate() {
            pairs.push((format!("forcedisplay[{i}]"), f.to_string()));
        }
        if let Some(s) = self.sort {
            pairs.push(("sort".into(), s.to_string()));
            pairs.push((
                "order".into(),
                if self.descending { "DESC" } else { "ASC" }.into(),
            ));
        }
        let limit = self.limit.clamp(1, MAX_RANGE);
        pairs.push((
            "range".into(),
            format!("{}-{}", self.start, self.start + limit - 1),
        ));
        pairs
    }
}

/// What a search found: rows keyed by search-option id.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct SearchPage {
    /// Rows matching in all (not only in this range).
    pub total: u64,
    /// This range's rows.
    pub rows: Vec<Map<String, Value>>,
}

/// A search row's value as an id.
pub fn row_u64(row: &Map<String, Value>, field: u32) -> Option<u64> {
    match row.get(&field.to_string())? {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A search row's value as text (several values joined with `, `), decoded.
pub fn row_text(row: &Map<String, Value>, field: u32) -> Option<String> {
    let text = match row.get(&field.to_string())? {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Array(items) => items
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect::<Vec<_>>()
            .join(", "),
        _ => return None,
    };
    Some(crate::models::decode_text(&text)).filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_query_pairs() {
        let q = SearchQuery::new(50)
            .criterion(Criterion::new(2, SearchType::Contains, ">7"))
            .criterion(Criterion::new(1, SearchType::Contains, "^x$"))
            .display([2, 1])
            .sort(2);
        let pairs = q.pairs();
        let has = |k: &str, v: &str| pairs.iter().any(|(a, b)| a == k && b == v);
        assert!(has("criteria[0][field]", "2"));
        assert!(has("criteria[0][value]", ">7"));
        assert!(has("criteria[1][link]", "AND"));
        assert!(!pairs.iter().any(|(k, _)| k == "criteria[0][link]"));
        assert!(has("forcedisplay[1]", "1"));
        assert!(has("sort", "2") && has("order", "ASC"));
        assert!(has("range", "0-49"));
        assert!(
            SearchQuery::new(5000)
                .pairs()
                .contains(&("range".into(), "0-999".into()))
        );
    }

    #[test]
    fn row_values() {
        let row: Map<String, Value> = serde_json::from_str(
            r#"{"1":"probe &#60;b&#62;","2":"7","5":["a@x","b@y"],"8":1,"34":null}"#,
        )
        .unwrap();
        assert_eq!(row_u64(&row, 2), Some(7));
        assert_eq!(row_u64(&row, 8), Some(1));
        assert_eq!(row_text(&row, 1).as_deref(), Some("probe <b>"));
        assert_eq!(row_text(&row, 5).as_deref(), Some("a@x, b@y"));
        assert_eq!(row_text(&row, 34), None);
    }
}
