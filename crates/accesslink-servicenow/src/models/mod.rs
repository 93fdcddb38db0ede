//! Typed, tolerant records of the Table API.
//!
//! Every value ServiceNow sends is a string (`"state":"1"`, `"active":"true"`, empty =
//! `""`), but the same field arrives in other shapes depending on the request (fact
//! sheet §1 "Query parameters"): a reference is a plain `sys_id` with
//! `sysparm_exclude_reference_link=true`, `{"link":…,"value":…}` without it, and any
//! field is `{"display_value":…,"value":…}` with `sysparm_display_value=all`. The
//! connector always asks for plain values, but the models accept all three shapes, so a
//! proxy or an instance setting that changes the shape does not break decoding.

mod task;
mod user;

use std::fmt;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};

pub use task::{JournalEntry, TaskRecord};
pub use user::{Group, GroupMember, Role, User, UserRole};

/// A record type of one or more tables, with the fields to ask for.
pub trait Record: serde::de::DeserializeOwned {
    /// The fields sent as `sysparm_fields`; `None` asks for every field.
    fn fields() -> Option<&'static [&'static str]>;
}

impl Record for serde_json::Value {
    fn fields() -> Option<&'static [&'static str]> {
        None
    }
}

/// Rows that carry their `sys_id` (keyset paging orders and resumes on it).
pub trait HasSysId {
    /// The row's `sys_id`, if the instance sent it.
    fn sys_id(&self) -> Option<&str>;
}

macro_rules! has_sys_id {
    ($($t:ty),*) => { $(impl HasSysId for $t { fn sys_id(&self) -> Option<&str> { self.sys_id.as_deref() } })* };
}
has_sys_id!(
    User,
    Group,
    GroupMember,
    Role,
    UserRole,
    TaskRecord,
    JournalEntry
);

impl HasSysId for serde_json::Value {
    fn sys_id(&self) -> Option<&str> {
        self.get("sys_id").and_then(|v| match v {
            serde_json::Value::Object(m) => m.get("value").and_then(serde_json::Value::as_str),
            other => other.as_str(),
        })
    }
}

/// A reference field: the referenced row's `sys_id`, with its display value and API
/// link when the instance sent them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Reference {
    /// The referenced row's `sys_id` (may be empty when only a display value came).
    pub value: String,
    /// The display value (a user's name, a group's name), if sent.
    pub display_value: Option<String>,
    /// The API link of the referenced row, if sent.
    pub link: Option<String>,
}

impl Reference {
    /// A reference to a `sys_id`.
    pub fn new(value: impl Into<String>) -> Self {
        Reference {
            value: value.into(),
            display_value: None,
            link: None,
        }
    }
}

impl Serialize for Reference {
    /// Serialises as the plain `sys_id`, as writes expect it.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.value)
    }
}

/// One field in any of the shapes the instance sends: see the [module docs](self).
#[derive(Default)]
struct Shapes {
    value: Option<String>,
    display_value: Option<String>,
    link: Option<String>,
}

fn scalar_text(v: serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::Null => None,
        serde_json::Value::String(s) => Some(s),
        serde_json::Value::Bool(b) => Some(b.to_string()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        other => Some(other.to_string()),
    }
}

impl<'de> Deserialize<'de> for Shapes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Shapes;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string, number, boolean, null or {value, display_value, link}")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Shapes, E> {
                Ok(Shapes {
                    value: Some(v.to_owned()),
                    ..Shapes::default()
                })
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Shapes, E> {
                Ok(Shapes {
                    value: Some(v),
                    ..Shapes::default()
                })
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Shapes, E> {
                self.visit_string(v.to_string())
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Shapes, E> {
                self.visit_string(v.to_string())
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Shapes, E> {
                self.visit_string(v.to_string())
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Shapes, E> {
                self.visit_string(v.to_string())
            }
            fn visit_unit<E: de::Error>(self) -> Result<Shapes, E> {
                Ok(Shapes::default())
            }
            fn visit_none<E: de::Error>(self) -> Result<Shapes, E> {
                Ok(Shapes::default())
            }
            fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<Shapes, D2::Error> {
                d.deserialize_any(V)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Shapes, A::Error> {
                let mut out = Shapes::default();
                while let Some(key) = map.next_key::<String>()? {
                    let v: serde_json::Value = map.next_value()?;
                    match key.as_str() {
                        "value" => out.value = scalar_text(v),
                        "display_value" => out.display_value = scalar_text(v),
                        "link" => out.link = scalar_text(v),
                        _ => {}
                    }
                }
                Ok(out)
            }
        }
        d.deserialize_any(V)
    }
}

/// A plain field: its raw value as text, `None` when absent, null or `""`.
pub(crate) fn text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let s = Option::<Shapes>::deserialize(d)?.unwrap_or_default();
    // With display values only (`sysparm_display_value=true`) the value is the label.
    Ok(s.value.or(s.display_value).filter(|v| !v.is_empty()))
}

/// A reference field: `None` when absent, null or empty.
pub(crate) fn reference<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Reference>, D::Error> {
    let s = Option::<Shapes>::deserialize(d)?.unwrap_or_default();
    let value = s.value.unwrap_or_default();
    let display_value = s.display_value.filter(|v| !v.is_empty());
    if value.is_empty() && display_value.is_none() {
        return Ok(None);
    }
    Ok(Some(Reference {
        value,
        display_value,
        link: s.link.filter(|v| !v.is_empty()),
    }))
}

/// A boolean field (`"true"`/`"false"`, or a JSON boolean); `None` when unset.
pub(crate) fn flag<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    Ok(match text(d)?.as_deref().map(str::trim) {
        Some(t) if t.eq_ignore_ascii_case("true") || t == "1" => Some(true),
        Some(t) if t.eq_ignore_ascii_case("false") || t == "0" => Some(false),
        _ => None,
    })
}

/// The `sys_id` of a reference, for comparisons.
pub(crate) fn ref_id(r: &Option<Reference>) -> Option<&str> {
    r.as_ref()
        .map(|r| r.value.as_str())
        .filter(|v| !v.is_empty())
}

/// Whether `s` is a `sys_id`: 32 lowercase hex characters.
pub fn is_sys_id(s: &str) -> bool {
    s.len() == 32
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Deserialize)]
    struct Probe {
        #[serde(default, deserialize_with = "reference")]
        r: Option<Reference>,
        #[serde(default, deserialize_with = "text")]
        t: Option<String>,
        #[serde(default, deserialize_with = "flag")]
        b: Option<bool>,
    }

    #[test]
    fn a_role_row_is_held_only_when_active_or_without_state() {
        for (row, held) in [
            (json!({}), true),
            (json!({"state": ""}), true),
            (json!({"state": "active"}), true),
            (
                json!({"state": {"display_value": "Active", "value": "active"}}),
                true,
            ),
            (json!({"state": "requested"}), false),
            (json!({"state": "pending_approval"}), false),
            (json!({"state": "inactive"}), false),
        ] {
            let r: UserRole = serde_json::from_value(row.clone()).unwrap();
            assert_eq!(r.is_held(), held, "{row}");
        }
    }

    #[test]
    fn references_in_every_shape() {
        let id = "5137153cc611227c000bbd1bd8cd2005";
        for v in [
            json!({"r": id}),
            json!({"r": {"link": format!("https://x/api/now/table/sys_user/{id}"), "value": id}}),
            json!({"r": {"display_value": "Abel Tuter", "value": id}}),
            json!({"r": {"display_value": "Abel Tuter", "value": id, "link": "https://x"}}),
        ] {
            let p: Probe = serde_json::from_value(v.clone()).unwrap();
            assert_eq!(p.r.unwrap().value, id, "{v}");
        }
        let p: Probe =
            serde_json::from_value(json!({"r": {"display_value": "Abel Tuter", "value": id}}))
                .unwrap();
        assert_eq!(p.r.unwrap().display_value.as_deref(), Some("Abel Tuter"));
        for empty in [
            json!({"r": ""}),
            json!({"r": null}),
            json!({}),
            json!({"r": {"link": "", "value": ""}}),
        ] {
            let p: Probe = serde_json::from_value(empty.clone()).unwrap();
            assert!(p.r.is_none(), "{empty}");
        }
    }

    #[test]
    fn plain_fields_in_every_shape() {
        for (v, want) in [
            (json!({"t": "2"}), Some("2")),
            (json!({"t": 2}), Some("2")),
            (
                json!({"t": {"display_value": "In Progress", "value": "2"}}),
                Some("2"),
            ),
            (json!({"t": ""}), None),
            (json!({"t": null}), None),
            (json!({}), None),
        ] {
            let p: Probe = serde_json::from_value(v.clone()).unwrap();
            assert_eq!(p.t.as_deref(), want, "{v}");
        }
        for (v, want) in [
            (json!({"b": "true"}), Some(true)),
            (json!({"b": false}), Some(false)),
            (
                json!({"b": {"display_value": "true", "value": "false"}}),
                Some(false),
            ),
            (json!({"b": ""}), None),
        ] {
            let p: Probe = serde_json::from_value(v.clone()).unwrap();
            assert_eq!(p.b, want, "{v}");
        }
    }

    #[test]
    fn sys_ids() {
        assert!(is_sys_id("9d385017c611228701d22104cc95c371"));
        for bad in [
            "9D385017C611228701D22104CC95C371",
            "9d385017c611228701d22104cc95c37",
            "9d385017c611228701d22104cc95c3711",
            "9d385017c611228701d22104cc95c37g",
            "",
        ] {
            assert!(!is_sys_id(bad), "{bad}");
        }
    }
}
