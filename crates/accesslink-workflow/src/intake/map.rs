//! The field map: which ticket fields make which access-request fields.

use std::collections::BTreeMap;
use std::fmt;

use accesslink_core::{Person, Ticket};
use regex::Regex;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The longest value a rule hands on (logins, application and entitlement names).
const MAX_VALUE_LEN: usize = 256;

/// Where one access-request field comes from, and how the value is shaped.
///
/// Exactly one of `field` and `fixed` is set. A `field` value is read from the
/// ticket and trimmed (empty counts as absent); `regex` then keeps its capture (the
/// group named `value`, else the first group, else the whole match); `lookup` then
/// replaces it by the table's entry (exact key first, then ignoring case). An absent
/// value (missing field, empty text, or a regex that does not match) takes
/// `default`; without one it is an error naming the field. A value missing from a
/// `lookup` table is always an error: an unknown application or role is never
/// mapped to a default.
///
/// ```toml
/// entitlement = { field = "title", regex = "access to (?P<value>[\\w ]+)", lookup = { "Sales admin" = "sales-admin" } }
/// application = { field = "extra.DynamicField_Application", default = "CRM" }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct FieldRule {
    /// The ticket field: `title`, `description`, `priority`, `id`, `number`,
    /// `requester.login`, `requester.email`, `requester.name`, `requester.id` (and the
    /// same for `assignee.`), or `extra.<native field>` (a key of the ticket's native
    /// fields, or a dotted path into them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// A fixed value, instead of a field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed: Option<String>,
    /// A regular expression applied to the field's value; its capture is kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regex: Option<String>,
    /// Value → mapped value.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub lookup: BTreeMap<String, String>,
    /// The value when the field is absent, empty, or the regex does not match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
}

impl FieldRule {
    /// A rule reading a ticket field (see [`field`](Self::field) for the names).
    pub fn field(name: impl Into<String>) -> Self {
        FieldRule {
            field: Some(name.into()),
            ..FieldRule::default()
        }
    }

    /// A rule with a fixed value.
    pub fn fixed(value: impl Into<String>) -> Self {
        FieldRule {
            fixed: Some(value.into()),
            ..FieldRule::default()
        }
    }

    /// Keeps a regular expression's capture of the value.
    #[must_use]
    pub fn regex(mut self, pattern: impl Into<String>) -> Self {
        self.regex = Some(pattern.into());
        self
    }

    /// Adds lookup-table entries.
    #[must_use]
    pub fn lookup<K: Into<String>, V: Into<String>>(
        mut self,
        entries: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        self.lookup
            .extend(entries.into_iter().map(|(k, v)| (k.into(), v.into())));
        self
    }

    /// Sets the value used when the field is absent.
    #[must_use]
    pub fn default_value(mut self, value: impl Into<String>) -> Self {
        self.default = Some(value.into());
        self
    }
}

/// Ticket fields → access-request fields. `beneficiary`, `application` and
/// `entitlement` are required; the others are optional.
///
/// ```toml
/// [field_map]
/// beneficiary = { field = "requester.login" }
/// application = { field = "extra.Application", lookup = { "Customer relations" = "CRM" } }
/// entitlement = { field = "title", regex = "role (?P<value>[a-z-]+)" }
/// justification = { field = "description", default = "" }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct FieldMap {
    /// The login of the person whose access changes.
    pub beneficiary: FieldRule,
    /// The beneficiary's email, used when an account is created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub beneficiary_email: Option<FieldRule>,
    /// The application: it selects the provisioner and the SoD rules.
    pub application: FieldRule,
    /// The entitlement's id in the application's provisioner.
    pub entitlement: FieldRule,
    /// The entitlement type (`role`, `group`…); the provisioner's first type when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entitlement_type: Option<FieldRule>,
    /// Why: kept on the request and in audit events' request ids only, never in logs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub justification: Option<FieldRule>,
}

impl FieldMap {
    /// A map with the three required rules.
    pub fn new(beneficiary: FieldRule, application: FieldRule, entitlement: FieldRule) -> Self {
        FieldMap {
            beneficiary,
            beneficiary_email: None,
            application,
            entitlement,
            entitlement_type: None,
            justification: None,
        }
    }

    /// Sets the beneficiary's email rule.
    #[must_use]
    pub fn beneficiary_email(mut self, rule: FieldRule) -> Self {
        self.beneficiary_email = Some(rule);
        self
    }

    /// Sets the entitlement type rule.
    #[must_use]
    pub fn entitlement_type(mut self, rule: FieldRule) -> Self {
        self.entitlement_type = Some(rule);
        self
    }

    /// Sets the justification rule.
    #[must_use]
    pub fn justification(mut self, rule: FieldRule) -> Self {
        self.justification = Some(rule);
        self
    }

    /// Checks every rule (one source, known field names, regexes that compile) and
    /// prepares them. The error names the request field and what is wrong.
    pub(crate) fn compile(&self) -> Result<Mapper, String> {
        let one = |name: &'static str, r: &FieldRule| compile_rule(name, r);
        let opt = |name: &'static str, r: &Option<FieldRule>| {
            r.as_ref().map(|r| compile_rule(name, r)).transpose()
        };
        Ok(Mapper {
            beneficiary: one("beneficiary", &self.beneficiary)?,
            beneficiary_email: opt("beneficiary_email", &self.beneficiary_email)?,
            application: one("application", &self.application)?,
            entitlement: one("entitlement", &self.entitlement)?,
            entitlement_type: opt("entitlement_type", &self.entitlement_type)?,
            justification: opt("justification", &self.justification)?,
        })
    }
}

/// Why a ticket could not be mapped: the request field, the ticket field it was
/// read from, and what was wrong. Nothing is provisioned for such a ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct MapError {
    /// The access-request field (`entitlement`).
    pub field: &'static str,
    /// Where it was read from (`title`, `extra.Role`, `fixed`).
    pub source: String,
    /// What was wrong, for people.
    pub message: String,
}

impl fmt::Display for MapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (from {}): {}", self.field, self.source, self.message)
    }
}

impl std::error::Error for MapError {}

/// A ticket's fields as the field map read them.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Mapped {
    /// The beneficiary (login, and email when mapped).
    pub beneficiary: Person,
    /// The application.
    pub application: String,
    /// The entitlement type, when mapped.
    pub entitlement_type: Option<String>,
    /// The entitlement id.
    pub entitlement: String,
    /// The justification (empty when not mapped).
    pub justification: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Id,
    Login,
    Name,
    Email,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum TicketField {
    Title,
    Description,
    Priority,
    Id,
    Number,
    Requester(Part),
    Assignee(Part),
    Extra(String),
}

fn parse_field(name: &str) -> Option<TicketField> {
    let part = |p: &str| match p {
        "id" => Some(Part::Id),
        "login" => Some(Part::Login),
        "name" => Some(Part::Name),
        "email" => Some(Part::Email),
        _ => None,
    };
    Some(match name {
        "title" => TicketField::Title,
        "description" => TicketField::Description,
        "priority" => TicketField::Priority,
        "id" => TicketField::Id,
        "number" => TicketField::Number,
        _ => {
            if let Some(p) = name.strip_prefix("requester.") {
                TicketField::Requester(part(p)?)
            } else if let Some(p) = name.strip_prefix("assignee.") {
                TicketField::Assignee(part(p)?)
            } else {
                let key = name.strip_prefix("extra.")?;
                if key.is_empty() {
                    return None;
                }
                TicketField::Extra(key.to_owned())
            }
        }
    })
}

#[derive(Debug, Clone)]
enum Source {
    Field(String, TicketField),
    Fixed(String),
}

#[derive(Debug, Clone)]
struct Rule {
    name: &'static str,
    source: Source,
    regex: Option<Regex>,
    lookup: BTreeMap<String, String>,
    default: Option<String>,
}

/// A compiled [`FieldMap`].
#[derive(Debug, Clone)]
pub(crate) struct Mapper {
    beneficiary: Rule,
    beneficiary_email: Option<Rule>,
    application: Rule,
    entitlement: Rule,
    entitlement_type: Option<Rule>,
    justification: Option<Rule>,
}

fn compile_rule(name: &'static str, r: &FieldRule) -> Result<Rule, String> {
    let source = match (&r.field, &r.fixed) {
        (Some(f), None) => {
            let parsed = parse_field(f.trim()).ok_or_else(|| {
                format!(
                    "{name}: unknown ticket field {f:?} (title, description, priority, id, number, \
                     requester.login|email|name|id, assignee.…, extra.<native field>)"
                )
            })?;
            Source::Field(f.trim().to_owned(), parsed)
        }
        (None, Some(v)) => Source::Fixed(v.clone()),
        (Some(_), Some(_)) => return Err(format!("{name}: set `field` or `fixed`, not both")),
        (None, None) => return Err(format!("{name}: set `field` or `fixed`")),
    };
    if matches!(source, Source::Fixed(_)) && r.regex.is_some() {
        return Err(format!("{name}: a `fixed` value takes no `regex`"));
    }
    let regex = r
        .regex
        .as_deref()
        .map(Regex::new)
        .transpose()
        .map_err(|e| format!("{name}: the regex does not compile: {e}"))?;
    Ok(Rule {
        name,
        source,
        regex,
        lookup: r.lookup.clone(),
        default: r.default.clone(),
    })
}

impl Mapper {
    /// Maps a ticket, or names the first field that could not be mapped.
    pub(crate) fn apply(&self, t: &Ticket) -> Result<Mapped, MapError> {
        let login = self.beneficiary.required(t)?;
        let email = self
            .beneficiary_email
            .as_ref()
            .map(|r| r.optional(t))
            .transpose()?
            .flatten();
        let beneficiary = Person {
            login: Some(login),
            email,
            ..Person::default()
        };
        Ok(Mapped {
            beneficiary,
            application: self.application.required(t)?,
            entitlement_type: self
                .entitlement_type
                .as_ref()
                .map(|r| r.required(t))
                .transpose()?,
            entitlement: self.entitlement.required(t)?,
            justification: self
                .justification
                .as_ref()
                .map(|r| r.optional(t))
                .transpose()?
                .flatten()
                .unwrap_or_default(),
        })
    }
}

impl Rule {
    fn source_name(&self) -> String {
        match &self.source {
            Source::Field(name, _) => name.clone(),
            Source::Fixed(_) => "fixed".into(),
        }
    }

    fn error(&self, message: impl Into<String>) -> MapError {
        MapError {
            field: self.name,
            source: self.source_name(),
            message: message.into(),
        }
    }

    fn required(&self, t: &Ticket) -> Result<String, MapError> {
        self.optional(t)?.ok_or_else(|| {
            let what = match &self.source {
                Source::Field(..) if self.regex.is_some() => {
                    "is empty or does not match the regex, and the rule has no default"
                }
                _ => "is empty, and the rule has no default",
            };
            self.error(what)
        })
    }

    /// The value, `Ok(None)` when absent and without default.
    fn optional(&self, t: &Ticket) -> Result<Option<String>, MapError> {
        let raw = match &self.source {
            Source::Fixed(v) => Some(v.clone()),
            Source::Field(_, f) => read(t, f).map_err(|m| self.error(m))?,
        };
        let raw = raw.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let captured = match (&self.regex, raw) {
            (Some(re), Some(v)) => re.captures(&v).and_then(|c| {
                c.name("value")
                    .or_else(|| c.get(1))
                    .or_else(|| c.get(0))
                    .map(|m| m.as_str().trim().to_owned())
                    .filter(|s| !s.is_empty())
            }),
            (None, v) => v,
            (Some(_), None) => None,
        };
        let value = match captured {
            Some(v) => v,
            None => match &self.default {
                Some(d) => return Ok(Some(d.clone())),
                None => return Ok(None),
            },
        };
        let value = if self.lookup.is_empty() {
            value
        } else {
            self.look_up(&value)?
        };
        check_value(&value).map_err(|m| self.error(m))?;
        Ok(Some(value))
    }

    fn look_up(&self, value: &str) -> Result<String, MapError> {
        if let Some(v) = self.lookup.get(value) {
            return Ok(v.clone());
        }
        if let Some((_, v)) = self
            .lookup
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(value))
        {
            return Ok(v.clone());
        }
        let known: Vec<&str> = self.lookup.keys().take(10).map(String::as_str).collect();
        let more = if self.lookup.len() > known.len() {
            ", …"
        } else {
            ""
        };
        Err(self.error(format!(
            "{:?} is not in the lookup table (known: {}{more})",
            shorten(value),
            known.join(", ")
        )))
    }
}

/// Values go to provisioners as logins and ids: no control characters, bounded length.
fn check_value(v: &str) -> Result<(), String> {
    if v.chars().any(char::is_control) {
        return Err(format!("{:?} holds control characters", shorten(v)));
    }
    if v.len() > MAX_VALUE_LEN {
        return Err(format!("the value is longer than {MAX_VALUE_LEN} bytes"));
    }
    Ok(())
}

fn shorten(v: &str) -> String {
    accesslink_core::redact::truncate(v, 60)
}

fn read(t: &Ticket, f: &TicketField) -> Result<Option<String>, String> {
    let person = |p: &Option<Person>, part: &Part| {
        p.as_ref().and_then(|p| match part {
            Part::Id => p.id.clone(),
            Part::Login => p.login.clone(),
            Part::Name => p.name.clone(),
            Part::Email => p.email.clone(),
        })
    };
    Ok(match f {
        TicketField::Title => Some(t.title.clone()),
        TicketField::Description => t.description.clone(),
        TicketField::Priority => t.priority.clone(),
        TicketField::Id => t.reference.id().map(str::to_owned),
        TicketField::Number => t.reference.number().map(str::to_owned),
        TicketField::Requester(p) => person(&t.requester, p),
        TicketField::Assignee(p) => person(&t.assignee, p),
        TicketField::Extra(key) => {
            let value = t.extra.get(key).or_else(|| {
                let mut parts = key.split('.');
                let first = t.extra.get(parts.next()?)?;
                parts.try_fold(first, |v, k| v.get(k))
            });
            match value {
                None => None,
                Some(v) => scalar(v)?,
            }
        }
    })
}

/// A native field's value as text: strings, numbers and booleans as they are; a
/// list of one value (OTRS dynamic fields) as that value.
fn scalar(v: &Value) -> Result<Option<String>, String> {
    Ok(match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Array(items) => match items.as_slice() {
            [] => None,
            [one] => scalar(one)?,
            _ => return Err(format!("holds {} values, not one", items.len())),
        },
        Value::Object(_) => return Err("holds an object, not a value".into()),
    })
}

#[cfg(test)]
mod tests {
    use accesslink_core::{TicketKind, TicketRef, TicketState, TicketStatus};
    use serde_json::json;

    use super::*;

    fn ticket() -> Ticket {
        let mut t = Ticket::new(
            TicketRef::by_id_and_number("7", "2026120710000007"),
            TicketKind::Request,
            "Please grant role sales-admin",
            TicketStatus::new(TicketState::New, "new"),
        );
        t.requester = Some(Person::login("jdoe"));
        t.extra
            .insert("DynamicField_App".into(), json!(["Customer relations"]));
        t.extra.insert("nested".into(), json!({ "a": { "b": 42 } }));
        t.extra.insert("many".into(), json!(["x", "y"]));
        t
    }

    fn map() -> FieldMap {
        FieldMap::new(
            FieldRule::field("requester.login"),
            FieldRule::field("extra.DynamicField_App").lookup([("customer relations", "CRM")]),
            FieldRule::field("title").regex(r"role (?P<value>[a-z-]+)"),
        )
    }

    #[test]
    fn a_ticket_maps_through_field_regex_and_case_insensitive_lookup() {
        let m = map().compile().unwrap().apply(&ticket()).unwrap();
        assert_eq!(m.beneficiary.login.as_deref(), Some("jdoe"));
        assert_eq!(m.application, "CRM");
        assert_eq!(m.entitlement, "sales-admin");
        assert_eq!(m.justification, "");
    }

    #[test]
    fn a_dotted_path_and_a_number_read_as_text() {
        let f = map().entitlement_type(FieldRule::field("extra.nested.a.b"));
        let m = f.compile().unwrap().apply(&ticket()).unwrap();
        assert_eq!(m.entitlement_type.as_deref(), Some("42"));
    }

    #[test]
    fn each_failure_names_the_request_field_and_its_source() {
        let mut t = ticket();
        t.title = "Please grant something".into();
        let e = map().compile().unwrap().apply(&t).unwrap_err();
        assert_eq!((e.field, e.source.as_str()), ("entitlement", "title"));
        assert!(e.message.contains("does not match the regex"), "{e}");

        let mut t = ticket();
        t.extra.insert("DynamicField_App".into(), json!("Payroll"));
        let e = map().compile().unwrap().apply(&t).unwrap_err();
        assert_eq!(e.field, "application");
        assert!(
            e.to_string()
                .contains("\"Payroll\" is not in the lookup table"),
            "{e}"
        );

        let mut f = map();
        f.application = FieldRule::field("extra.many");
        let e = f.compile().unwrap().apply(&ticket()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "application (from extra.many): holds 2 values, not one"
        );

        let mut t = ticket();
        t.requester = Some(Person::login("evil\nlogin"));
        let e = map().compile().unwrap().apply(&t).unwrap_err();
        assert_eq!(e.field, "beneficiary");
        assert!(e.message.contains("control characters"), "{e}");
    }

    #[test]
    fn a_default_fills_an_absent_field_but_never_a_lookup_miss() {
        let mut f = map();
        f.application = FieldRule::field("extra.Missing").default_value("CRM");
        assert_eq!(
            f.compile().unwrap().apply(&ticket()).unwrap().application,
            "CRM"
        );
        f.application = FieldRule::field("extra.DynamicField_App")
            .lookup([("Other", "X")])
            .default_value("CRM");
        assert!(f.compile().unwrap().apply(&ticket()).is_err());
    }

    #[test]
    fn bad_rules_are_refused_when_compiled() {
        let mut f = map();
        f.entitlement = FieldRule::field("titel");
        assert!(
            f.compile()
                .unwrap_err()
                .contains("unknown ticket field \"titel\"")
        );
        f.entitlement = FieldRule::field("title").regex("(unclosed");
        assert!(
            f.compile()
                .unwrap_err()
                .starts_with("entitlement: the regex")
        );
        f.entitlement = FieldRule::default();
        assert!(f.compile().is_err());
        f.entitlement = FieldRule {
            fixed: Some("x".into()),
            field: Some("title".into()),
            ..FieldRule::default()
        };
        assert!(f.compile().unwrap_err().contains("not both"));
    }
}
