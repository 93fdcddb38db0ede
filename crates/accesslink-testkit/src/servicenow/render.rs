//! Printing a row as the Table API does: `sysparm_fields`, the three
//! `sysparm_display_value` modes and `sysparm_exclude_reference_link` (fact sheet §1
//! "Query parameters" and the example after "Status fields").

use serde_json::{Map, Value, json};

use super::schema::{self, TableDef};
use super::state::{Row, State, text};

/// `sysparm_display_value`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Display {
    /// `false` (default): raw values, references as `{link, value}`.
    #[default]
    Raw,
    /// `true`: display strings (a reference's name or number, a state's label).
    Text,
    /// `all`: `{display_value, value}` for every field (plus `link` on references).
    All,
}

/// How rows are printed for one request.
#[derive(Debug, Clone, Default)]
pub(crate) struct View {
    /// `sysparm_fields`, when given.
    pub(crate) fields: Option<Vec<String>>,
    pub(crate) display: Display,
    pub(crate) exclude_links: bool,
}

impl View {
    /// The view the query parameters ask for.
    pub(crate) fn from_params(params: &[(String, String)]) -> View {
        let get = |name: &str| {
            params
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        let fields = get("sysparm_fields")
            .filter(|f| !f.trim().is_empty())
            .map(|f| f.split(',').map(|s| s.trim().to_owned()).collect());
        let display = match get("sysparm_display_value") {
            Some(v) if v.eq_ignore_ascii_case("true") => Display::Text,
            Some(v) if v.eq_ignore_ascii_case("all") => Display::All,
            _ => Display::Raw,
        };
        let exclude_links =
            get("sysparm_exclude_reference_link").is_some_and(|v| v.eq_ignore_ascii_case("true"));
        View {
            fields,
            display,
            exclude_links,
        }
    }

    /// The row of `real` (the table holding it) as read through `def`.
    pub(crate) fn render(&self, state: &State, def: &TableDef, real: &str, row: &Row) -> Value {
        let names: Vec<String> = match &self.fields {
            // Unknown names are silently left out, as the instance does.
            Some(fields) => fields
                .iter()
                .filter(|f| {
                    dot_walk(def, f).is_some()
                        || def.has_field(f) && (!f.starts_with("u_") || row.contains_key(*f))
                })
                .cloned()
                .collect(),
            None => {
                let mut all: Vec<String> =
                    def.all_fields().into_iter().map(str::to_owned).collect();
                let mut custom: Vec<String> = row
                    .keys()
                    .filter(|k| k.starts_with("u_"))
                    .cloned()
                    .collect();
                custom.sort();
                all.extend(custom);
                all
            }
        };
        let labels = schema::table(real).unwrap_or(def);
        let mut out = Map::new();
        for name in names {
            let value = self.field(state, labels, &name, row);
            out.insert(name, value);
        }
        Value::Object(out)
    }

    fn field(&self, state: &State, def: &TableDef, name: &str, row: &Row) -> Value {
        // `caller_id.user_name`: the field of the row the reference points at, printed
        // under the dotted name; empty when the reference is empty or dangling.
        if let Some((reference, target, rest)) = dot_walk(def, name) {
            let raw = text(row, reference);
            let value = state
                .get(target, raw)
                .map(|(_, r)| text(&r, rest).to_owned())
                .unwrap_or_default();
            return match self.display {
                Display::All => json!({"display_value": value, "value": value}),
                _ => json!(value),
            };
        }
        // Journal fields are write-only through the Table API: always "".
        let raw = if schema::is_journal(name) {
            ""
        } else {
            text(row, name)
        };
        if let Some(target) = schema::reference_target(name) {
            if raw.is_empty() {
                return match self.display {
                    Display::All => json!({"display_value": "", "value": ""}),
                    _ => json!(""),
                };
            }
            let link = format!("{}/api/now/table/{target}/{raw}", state.base_url);
            return match (self.display, self.exclude_links) {
                (Display::Raw, true) => json!(raw),
                (Display::Raw, false) => json!({"link": link, "value": raw}),
                (Display::Text, _) => json!(state.display_of(target, raw)),
                (Display::All, exclude) => {
                    let mut v =
                        json!({"display_value": state.display_of(target, raw), "value": raw});
                    if !exclude {
                        v["link"] = json!(link);
                    }
                    v
                }
            };
        }
        let shown = match name {
            "state" => def.state_label(raw).unwrap_or(raw),
            _ => raw,
        };
        match self.display {
            Display::Raw => json!(raw),
            Display::Text => json!(shown),
            Display::All => json!({"display_value": shown, "value": raw}),
        }
    }
}

/// A dot-walked field name (`caller_id.email`): the reference field, the table it points
/// at and the field read there. One level only, like the connector needs.
fn dot_walk<'n>(def: &TableDef, name: &'n str) -> Option<(&'n str, &'static str, &'n str)> {
    let (reference, rest) = name.split_once('.')?;
    if rest.contains('.') || !def.has_field(reference) {
        return None;
    }
    let target = schema::reference_target(reference)?;
    let known = schema::table(target).is_some_and(|t| t.has_field(rest));
    known.then_some((reference, target, rest))
}
