//! Request data as the Perl operations see it.
//!
//! Znuny decodes the JSON body (booleans become 1/0) and merges the query string into it, then
//! the operations test values with Perl truthiness (`""` and `"0"` are false) and the
//! `IsStringWithData`/`IsHashRefWithData`/`IsArrayRefWithData` helpers. These functions give
//! the same answers for a `serde_json` value.

use serde_json::{Map, Value};

/// The data an operation receives: body, query string and route parameters merged.
pub(super) type Data = Map<String, Value>;

/// Perl's `if ($Value)`.
pub(super) fn truthy(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_f64() != Some(0.0),
        Some(Value::String(s)) => !s.is_empty() && s != "0",
        Some(Value::Array(_) | Value::Object(_)) => true,
    }
}

/// A defined scalar as Perl stringifies it (`IsString`), possibly empty.
pub(super) fn scalar(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(if *b { "1" } else { "0" }.to_owned()),
        _ => None,
    }
}

/// `IsStringWithData`: a non-empty scalar.
pub(super) fn string_with_data(value: Option<&Value>) -> Option<String> {
    scalar(value).filter(|s| !s.is_empty())
}

/// A truthy scalar, e.g. a name given as `Ticket->{Queue}` (`"0"` counts as absent).
pub(super) fn given(value: Option<&Value>) -> Option<String> {
    if truthy(value) { scalar(value) } else { None }
}

/// `IsHashRefWithData`.
pub(super) fn hash_with_data(value: Option<&Value>) -> Option<&Map<String, Value>> {
    value?.as_object().filter(|m| !m.is_empty())
}

/// `IsArrayRefWithData`.
pub(super) fn array_with_data(value: Option<&Value>) -> Option<&Vec<Value>> {
    value?.as_array().filter(|a| !a.is_empty())
}

/// A search list parameter (`TicketSearch.pm` `_GetParams`): every element of a non-empty
/// array, or the one value of a non-empty string; anything else is no parameter at all.
pub(super) fn list(value: Option<&Value>) -> Option<Vec<String>> {
    if let Some(items) = array_with_data(value) {
        return Some(
            items
                .iter()
                .map(|v| scalar(Some(v)).unwrap_or_default())
                .collect(),
        );
    }
    string_with_data(value).map(|s| vec![s])
}

/// Strips leading and trailing whitespace from every string value of an object, as the
/// operations do with `s{ (?: \A\s+ | \s+\z ) }{}gx for values %$Ticket`.
pub(super) fn trimmed(object: &Map<String, Value>) -> Map<String, Value> {
    object
        .iter()
        .map(|(k, v)| match v {
            Value::String(s) => (k.clone(), Value::String(s.trim().to_owned())),
            other => (k.clone(), other.clone()),
        })
        .collect()
}

/// An object or array of objects as a list (`_MakeArrayRef`).
pub(super) fn one_or_many(value: &Value) -> Vec<Value> {
    match value {
        Value::Array(items) => items.clone(),
        other => vec![other.clone()],
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn perl_truthiness() {
        for falsy in [json!(null), json!(""), json!("0"), json!(0), json!(false)] {
            assert!(!truthy(Some(&falsy)), "{falsy}");
        }
        for true_ in [json!("0.0"), json!(" "), json!(1), json!([]), json!({})] {
            assert!(truthy(Some(&true_)), "{true_}");
        }
        assert_eq!(
            list(Some(&json!(["a", 2]))),
            Some(vec!["a".into(), "2".into()])
        );
        assert_eq!(list(Some(&json!({"Equals": "x"}))), None);
    }
}
