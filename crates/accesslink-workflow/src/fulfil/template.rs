//! Field mapping from access requests to new tickets, as configuration.
//!
//! Templates are plain text with `{placeholder}`s. They are parsed when the
//! [`TicketTemplate`] is built or deserialised, so an unknown placeholder is a
//! configuration error, never a surprise at run time.
//!
//! | placeholder | value |
//! |---|---|
//! | `{request_id}` | the request id (also the ticket's correlation id) |
//! | `{operation}` | `create_account`, `grant`, `revoke`, `disable`, `delete` or the custom name |
//! | `{target}` | the system or application |
//! | `{account}` | the beneficiary's account id, else login |
//! | `{entitlement}`, `{entitlement.type}`, `{entitlement.id}` | the entitlement (`role admins`), its type, its id |
//! | `{justification}` | the justification |
//! | `{requester}`, `{beneficiary}` | login, else email, else name |
//! | `{requester.login}`, `.email`, `.name` (and the same for `beneficiary`) | one identifier |
//! | `{attr.NAME}` | the request attribute `NAME` (strings as they are, other JSON as JSON) |
//!
//! Any placeholder may carry a default for when its value is empty:
//! `{attr.cost_center|unknown}`. `{{` and `}}` are literal braces.

use std::collections::BTreeMap;

use accesslink_core::{CorrelationId, NewTicket, Person, TicketKind};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::request::{AccessRequest, person_label};

/// A template that is not valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TemplateError {
    /// A placeholder names no known field.
    #[error("{field}: unknown placeholder `{{{name}}}`")]
    UnknownPlaceholder {
        /// Which template (`title`, `description`, `priority`, `extra.<name>`).
        field: String,
        /// The placeholder as written.
        name: String,
    },
    /// A `{` is never closed.
    #[error("{field}: `{{` at byte {at} is not closed (write `{{{{` for a literal brace)")]
    Unclosed {
        /// Which template.
        field: String,
        /// Byte offset of the brace.
        at: usize,
    },
    /// A `}` closes nothing.
    #[error("{field}: `}}` at byte {at} closes nothing (write `}}}}` for a literal brace)")]
    StrayBrace {
        /// Which template.
        field: String,
        /// Byte offset of the brace.
        at: usize,
    },
    /// The title template is blank.
    #[error("title: a ticket title must not be blank")]
    BlankTitle,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PersonPart {
    Label,
    Login,
    Email,
    Name,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Field {
    RequestId,
    Operation,
    Target,
    Account,
    Entitlement,
    EntitlementType,
    EntitlementId,
    Justification,
    Requester(PersonPart),
    Beneficiary(PersonPart),
    Attr(String),
}

impl Field {
    fn parse(name: &str) -> Option<Field> {
        let person = |part: &str| match part {
            "" => Some(PersonPart::Label),
            ".login" => Some(PersonPart::Login),
            ".email" => Some(PersonPart::Email),
            ".name" => Some(PersonPart::Name),
            _ => None,
        };
        Some(match name {
            "request_id" => Field::RequestId,
            "operation" => Field::Operation,
            "target" => Field::Target,
            "account" => Field::Account,
            "entitlement" => Field::Entitlement,
            "entitlement.type" => Field::EntitlementType,
            "entitlement.id" => Field::EntitlementId,
            "justification" => Field::Justification,
            _ => {
                if let Some(attr) = name.strip_prefix("attr.") {
                    return (!attr.is_empty()).then(|| Field::Attr(attr.to_owned()));
                }
                if let Some(rest) = name.strip_prefix("requester") {
                    return person(rest).map(Field::Requester);
                }
                if let Some(rest) = name.strip_prefix("beneficiary") {
                    return person(rest).map(Field::Beneficiary);
                }
                return None;
            }
        })
    }

    fn value(&self, r: &AccessRequest) -> String {
        let person = |p: &Person, part: PersonPart| -> String {
            match part {
                PersonPart::Label => person_label(p).to_owned(),
                PersonPart::Login => p.login.clone().unwrap_or_default(),
                PersonPart::Email => p.email.clone().unwrap_or_default(),
                PersonPart::Name => p.name.clone().unwrap_or_default(),
            }
        };
        match self {
            Field::RequestId => r.id.to_string(),
            Field::Operation => r.operation.to_string(),
            Field::Target => r.target.clone(),
            Field::Account => r.account_id().map(|a| a.to_string()).unwrap_or_default(),
            Field::Entitlement => r
                .entitlement
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
            Field::EntitlementType => r
                .entitlement
                .as_ref()
                .map(|e| e.ty.to_string())
                .unwrap_or_default(),
            Field::EntitlementId => r
                .entitlement
                .as_ref()
                .map(|e| e.id.to_string())
                .unwrap_or_default(),
            Field::Justification => r.justification.clone(),
            Field::Requester(part) => person(&r.requester, *part),
            Field::Beneficiary(part) => person(&r.beneficiary, *part),
            Field::Attr(name) => match r.attributes.get(name) {
                None | Some(Value::Null) => String::new(),
                Some(Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
            },
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Text(String),
    Field {
        field: Field,
        default: Option<String>,
    },
}

/// A parsed text template.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Template {
    source: String,
    segments: Vec<Segment>,
}

impl Template {
    fn parse(field: &str, source: &str) -> Result<Template, TemplateError> {
        let mut segments = Vec::new();
        let mut text = String::new();
        let mut rest = source;
        let mut offset = 0;
        while let Some(i) = rest.find(['{', '}']) {
            text.push_str(&rest[..i]);
            let brace = rest.as_bytes()[i];
            let after = &rest[i + 1..];
            if after.as_bytes().first() == Some(&brace) {
                text.push(char::from(brace));
                rest = &after[1..];
                offset += i + 2;
                continue;
            }
            if brace == b'}' {
                return Err(TemplateError::StrayBrace {
                    field: field.into(),
                    at: offset + i,
                });
            }
            let unclosed = || TemplateError::Unclosed {
                field: field.into(),
                at: offset + i,
            };
            let close = after.find('}').ok_or_else(unclosed)?;
            let inner = &after[..close];
            if inner.contains('{') {
                return Err(unclosed());
            }
            let (name, default) = match inner.split_once('|') {
                Some((n, d)) => (n.trim(), Some(d.to_owned())),
                None => (inner.trim(), None),
            };
            let parsed = Field::parse(name).ok_or_else(|| TemplateError::UnknownPlaceholder {
                field: field.into(),
                name: inner.to_owned(),
            })?;
            if !text.is_empty() {
                segments.push(Segment::Text(std::mem::take(&mut text)));
            }
            segments.push(Segment::Field {
                field: parsed,
                default,
            });
            rest = &after[close + 1..];
            offset += i + close + 2;
        }
        text.push_str(rest);
        if !text.is_empty() {
            segments.push(Segment::Text(text));
        }
        Ok(Template {
            source: source.to_owned(),
            segments,
        })
    }

    fn render(&self, r: &AccessRequest) -> String {
        let mut out = String::new();
        for s in &self.segments {
            match s {
                Segment::Text(t) => out.push_str(t),
                Segment::Field { field, default } => {
                    let v = field.value(r);
                    match default {
                        Some(d) if v.trim().is_empty() => out.push_str(d),
                        _ => out.push_str(&v),
                    }
                }
            }
        }
        out
    }
}

/// Where a native ticket field gets its value.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Extra {
    /// A request attribute, copied as JSON (type kept); left out when absent.
    Attribute(String),
    /// A text template.
    Template(Template),
    /// A constant.
    Value(Value),
}

/// The default title.
pub const DEFAULT_TITLE: &str =
    "Access request {request_id}: {operation} {entitlement} on {target} for {beneficiary}";

/// The default description.
pub const DEFAULT_DESCRIPTION: &str = "Access request {request_id}\n\
Operation: {operation}\n\
Target: {target}\n\
Beneficiary: {beneficiary} (account {account|unknown})\n\
Entitlement: {entitlement|none}\n\
Requested by: {requester|unknown}\n\
Justification: {justification|none}\n";

/// How an access request becomes a new ticket: kind, title and description
/// templates, priority, and native fields (`extra`) mapped from request attributes.
///
/// Build one with [`TicketTemplate::builder`] or deserialise it from configuration:
///
/// ```toml
/// kind = "request"
/// title = "{operation} {entitlement.id} on {target} for {beneficiary}"
/// priority = "{attr.priority|3 normal}"
/// [extra]
/// u_cost_center = { attribute = "cost_center" }
/// u_application = { template = "{target}" }
/// u_source = { value = "accesslink" }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "TemplateConfig", into = "TemplateConfig")]
pub struct TicketTemplate {
    kind: TicketKind,
    title: Template,
    description: Template,
    priority: Option<Template>,
    extra: BTreeMap<String, Extra>,
    set_requester: bool,
}

impl TicketTemplate {
    /// A builder with the default title and description.
    pub fn builder(kind: TicketKind) -> TicketTemplateBuilder {
        TicketTemplateBuilder {
            config: TemplateConfig {
                kind,
                title: DEFAULT_TITLE.into(),
                description: DEFAULT_DESCRIPTION.into(),
                priority: None,
                extra: BTreeMap::new(),
                set_requester: true,
            },
        }
    }

    /// The kind of ticket opened.
    pub fn kind(&self) -> &TicketKind {
        &self.kind
    }

    /// The new ticket for a request; its correlation id is the request id.
    pub fn render(&self, r: &AccessRequest) -> NewTicket {
        let mut new = NewTicket::new(
            self.kind.clone(),
            self.title.render(r).trim(),
            self.description.render(r),
            CorrelationId::new(r.id.as_str()),
        );
        if let Some(p) = &self.priority {
            let p = p.render(r);
            if !p.trim().is_empty() {
                new = new.priority(p.trim());
            }
        }
        if self.set_requester && !person_label(&r.requester).is_empty() {
            new = new.requester(r.requester.clone());
        }
        for (name, source) in &self.extra {
            let value = match source {
                Extra::Attribute(a) => match r.attributes.get(a) {
                    None | Some(Value::Null) => continue,
                    Some(v) => v.clone(),
                },
                Extra::Template(t) => Value::String(t.render(r)),
                Extra::Value(v) => v.clone(),
            };
            new = new.extra(name.clone(), value);
        }
        new
    }
}

/// Builds a [`TicketTemplate`]; [`build`](Self::build) checks every template.
#[derive(Debug, Clone)]
pub struct TicketTemplateBuilder {
    config: TemplateConfig,
}

impl TicketTemplateBuilder {
    /// The title template.
    #[must_use]
    pub fn title(mut self, template: impl Into<String>) -> Self {
        self.config.title = template.into();
        self
    }

    /// The description template.
    #[must_use]
    pub fn description(mut self, template: impl Into<String>) -> Self {
        self.config.description = template.into();
        self
    }

    /// The priority template, in the target's own terms; a blank result sets none.
    #[must_use]
    pub fn priority(mut self, template: impl Into<String>) -> Self {
        self.config.priority = Some(template.into());
        self
    }

    /// Sets native field `field` to request attribute `attribute` (JSON type kept;
    /// the field is left out when the request lacks the attribute).
    #[must_use]
    pub fn extra_from_attribute(
        mut self,
        field: impl Into<String>,
        attribute: impl Into<String>,
    ) -> Self {
        self.config
            .extra
            .insert(field.into(), ExtraConfig::Attribute(attribute.into()));
        self
    }

    /// Sets native field `field` to a rendered text template.
    #[must_use]
    pub fn extra_template(mut self, field: impl Into<String>, template: impl Into<String>) -> Self {
        self.config
            .extra
            .insert(field.into(), ExtraConfig::Template(template.into()));
        self
    }

    /// Sets native field `field` to a constant.
    #[must_use]
    pub fn extra_value(mut self, field: impl Into<String>, value: impl Into<Value>) -> Self {
        self.config
            .extra
            .insert(field.into(), ExtraConfig::Value(value.into()));
        self
    }

    /// Whether the request's requester becomes the ticket's requester (default true).
    #[must_use]
    pub fn set_requester(mut self, on: bool) -> Self {
        self.config.set_requester = on;
        self
    }

    /// Parses and checks every template.
    ///
    /// # Errors
    /// On an unknown placeholder, an unbalanced brace, or a blank title.
    pub fn build(self) -> Result<TicketTemplate, TemplateError> {
        TicketTemplate::try_from(self.config)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct TemplateConfig {
    kind: TicketKind,
    #[serde(default = "default_title")]
    title: String,
    #[serde(default = "default_description")]
    description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    priority: Option<String>,
    #[serde(default)]
    extra: BTreeMap<String, ExtraConfig>,
    #[serde(default = "yes")]
    set_requester: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
enum ExtraConfig {
    Attribute(String),
    Template(String),
    Value(Value),
}

fn default_title() -> String {
    DEFAULT_TITLE.into()
}

fn default_description() -> String {
    DEFAULT_DESCRIPTION.into()
}

fn yes() -> bool {
    true
}

impl TryFrom<TemplateConfig> for TicketTemplate {
    type Error = TemplateError;

    fn try_from(c: TemplateConfig) -> Result<Self, TemplateError> {
        if c.title.trim().is_empty() {
            return Err(TemplateError::BlankTitle);
        }
        let mut extra = BTreeMap::new();
        for (name, source) in c.extra {
            let e = match source {
                ExtraConfig::Attribute(a) => Extra::Attribute(a),
                ExtraConfig::Template(t) => {
                    Extra::Template(Template::parse(&format!("extra.{name}"), &t)?)
                }
                ExtraConfig::Value(v) => Extra::Value(v),
            };
            extra.insert(name, e);
        }
        Ok(TicketTemplate {
            kind: c.kind,
            title: Template::parse("title", &c.title)?,
            description: Template::parse("description", &c.description)?,
            priority: c
                .priority
                .as_deref()
                .map(|p| Template::parse("priority", p))
                .transpose()?,
            extra,
            set_requester: c.set_requester,
        })
    }
}

impl From<TicketTemplate> for TemplateConfig {
    fn from(t: TicketTemplate) -> Self {
        TemplateConfig {
            kind: t.kind,
            title: t.title.source,
            description: t.description.source,
            priority: t.priority.map(|p| p.source),
            extra: t
                .extra
                .into_iter()
                .map(|(k, e)| {
                    let c = match e {
                        Extra::Attribute(a) => ExtraConfig::Attribute(a),
                        Extra::Template(t) => ExtraConfig::Template(t.source),
                        Extra::Value(v) => ExtraConfig::Value(v),
                    };
                    (k, c)
                })
                .collect(),
            set_requester: t.set_requester,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(s: &str) -> TemplateError {
        Template::parse("title", s).unwrap_err()
    }

    #[test]
    fn parse_errors_name_the_problem() {
        assert_eq!(
            err("x {nope} y"),
            TemplateError::UnknownPlaceholder {
                field: "title".into(),
                name: "nope".into()
            }
        );
        assert_eq!(
            err("ab {target"),
            TemplateError::Unclosed {
                field: "title".into(),
                at: 3
            }
        );
        assert_eq!(
            err("a {tar{get}"),
            TemplateError::Unclosed {
                field: "title".into(),
                at: 2
            }
        );
        assert_eq!(
            err("ab } c"),
            TemplateError::StrayBrace {
                field: "title".into(),
                at: 3
            }
        );
        assert!(matches!(
            err("{attr.}"),
            TemplateError::UnknownPlaceholder { .. }
        ));
        assert!(matches!(
            err("{requester.phone}"),
            TemplateError::UnknownPlaceholder { .. }
        ));
        assert!(matches!(
            err("{}"),
            TemplateError::UnknownPlaceholder { .. }
        ));
    }

    #[test]
    fn literal_braces_and_defaults() {
        let t = Template::parse("title", "{{x}} {attr.missing|n/a} {target}}}").unwrap();
        let r = AccessRequest::new(
            "R1",
            super::super::Operation::Grant,
            "CRM",
            Person::login("ann"),
        );
        assert_eq!(t.render(&r), "{x} n/a CRM}");
    }
}
