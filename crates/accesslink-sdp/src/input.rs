//! `input_data` (fact sheet §4.4, §4.7): every payload is JSON inside one parameter,
//! `input_data`, in the query string on GET and in an `application/x-www-form-urlencoded`
//! body on POST/PUT/DELETE; and the `list_info` search criteria, built only by
//! [`Criteria`], which puts every value into the JSON as a JSON string (serde escapes it)
//! and refuses control characters and over-long values, so no value can change a
//! criterion's field, condition or structure.

use accesslink_core::http::Request;
use accesslink_core::{Error, Result};
use serde_json::{Value, json};

/// Puts `payload` into a GET request's query as `input_data`.
pub fn query(request: Request, payload: &Value) -> Request {
    request.query_pair("input_data", &payload.to_string())
}

/// Puts `payload` into a POST/PUT request's form body as `input_data`.
pub fn form(request: Request, payload: &Value) -> Request {
    request.form(vec![("input_data".into(), payload.to_string())])
}

/// Fields a criterion may name: a fixed list, never caller text.
pub const FIELDS: &[&str] = &[
    "id",
    "display_id",
    "subject",
    "title",
    "account.name",
    "email_id",
    "login_name",
    "last_updated_time",
    "category.name",
    "template.name",
    "site.name",
];

fn checked(value: &str) -> Result<()> {
    if value.is_empty() || value.chars().count() > 250 || value.chars().any(char::is_control) {
        return Err(Error::invalid_input(
            "an SDP search value must be 1-250 characters without control characters",
        ));
    }
    Ok(())
}

fn field_ok(field: &str) -> bool {
    FIELDS.contains(&field)
        || field.strip_prefix("udf_fields.").is_some_and(|u| {
            u.starts_with("udf_") && u.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        })
}

/// A `search_criteria` list joined with `AND`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Criteria {
    items: Vec<Value>,
}

impl Criteria {
    /// No criteria.
    pub fn new() -> Self {
        Criteria::default()
    }

    fn push(mut self, field: &str, condition: &str, value: Value) -> Result<Self> {
        if !field_ok(field) {
            return Err(Error::invalid_input(format!(
                "{field:?} is not a searchable SDP field"
            )));
        }
        let mut c = json!({"field": field, "condition": condition});
        match value {
            Value::Array(_) => c["values"] = value,
            v => c["value"] = v,
        }
        if !self.items.is_empty() {
            c["logical_operator"] = json!("AND");
        }
        self.items.push(c);
        Ok(self)
    }

    /// `field is value`.
    pub fn is(self, field: &str, value: &str) -> Result<Self> {
        checked(value)?;
        self.push(field, "is", json!(value))
    }

    /// `field is` any of `values` (`"values": […]`).
    pub fn is_any(self, field: &str, values: &[String]) -> Result<Self> {
        if values.is_empty() || values.len() > 100 {
            return Err(Error::invalid_input("1-100 values per SDP criterion"));
        }
        for v in values {
            checked(v)?;
        }
        self.push(field, "is", json!(values))
    }

    /// `field contains value`.
    pub fn contains(self, field: &str, value: &str) -> Result<Self> {
        checked(value)?;
        self.push(field, "contains", json!(value))
    }

    /// `field greater or equal` an epoch-milliseconds time (sent as a string, as SDP
    /// writes times).
    pub fn at_or_after(self, field: &str, epoch_ms: u64) -> Result<Self> {
        self.push(field, "greater or equal", json!(epoch_ms.to_string()))
    }

    /// The criteria as JSON.
    pub fn to_value(&self) -> Value {
        Value::Array(self.items.clone())
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

/// A `list_info` page request: 1-based `start_index`, `row_count` 1-100, oldest first.
pub fn list_info(criteria: &Criteria, start_index: u64, row_count: u32) -> Value {
    list_info_sorted(criteria, start_index, row_count, "created_time")
}

/// A `list_info` page request sorted ascending on `sort_field` (`created_time`,
/// `last_updated_time`).
pub fn list_info_sorted(
    criteria: &Criteria,
    start_index: u64,
    row_count: u32,
    sort_field: &str,
) -> Value {
    let mut info = json!({
        "row_count": row_count.clamp(1, 100),
        "start_index": start_index.max(1),
        "sort_field": sort_field,
        "sort_order": "asc",
        "get_total_count": true,
    });
    if !criteria.is_empty() {
        info["search_criteria"] = criteria.to_value();
    }
    json!({ "list_info": info })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_stay_values() {
        let hostile = r#"1"},{"field":"id","condition":"is not","value":"0"#;
        let c = Criteria::new().is("display_id", hostile).unwrap();
        let v = c.to_value();
        assert_eq!(v.as_array().unwrap().len(), 1);
        assert_eq!(v[0]["value"], hostile);
        assert_eq!(v[0]["field"], "display_id");
        // Round trip through the wire form keeps one criterion.
        let back: Value = serde_json::from_str(&list_info(&c, 1, 10).to_string()).unwrap();
        assert_eq!(
            back["list_info"]["search_criteria"]
                .as_array()
                .unwrap()
                .len(),
            1
        );
        for bad in ["", "a\nb", "x\u{0}"] {
            assert!(Criteria::new().is("subject", bad).is_err(), "{bad:?}");
        }
        assert!(Criteria::new().is("status.name\" or 1", "x").is_err());
        assert!(Criteria::new().is("udf_fields.udf_sline_1", "x").is_ok());
        assert!(Criteria::new().is("udf_fields.udf sline", "x").is_err());
        let two = Criteria::new()
            .is("subject", "a")
            .unwrap()
            .is("account.name", "b")
            .unwrap()
            .to_value();
        assert_eq!(two[1]["logical_operator"], "AND");
        assert!(two[0].get("logical_operator").is_none());
    }

    #[test]
    fn page_size_is_capped() {
        let v = list_info(&Criteria::new(), 0, 500);
        assert_eq!(v["list_info"]["row_count"], 100);
        assert_eq!(v["list_info"]["start_index"], 1);
        assert!(v["list_info"].get("search_criteria").is_none());
    }
}
