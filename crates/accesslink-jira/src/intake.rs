//! The intake side of the contract: listings by update time (a change feed), comments
//! read back, and the fields of create screens and accounts.
//!
//! - [`list_tickets`](accesslink_core::TicketingSystem::list_tickets): one enhanced-search
//!   page (`POST /rest/api/3/search/jql` with `nextPageToken` on Cloud, `POST
//!   /rest/api/2/search` with `startAt` on Data Center) of `project = "P" AND updated >=
//!   "yyyy/MM/dd HH:mm" ORDER BY updated ASC, key ASC`. JQL dates are **minutes** in the
//!   API user's time zone: the watermark is rounded down to the minute
//!   ([`Jql::updated_since`]), so a [`ChangeFeed`](accesslink_core::ChangeFeed) over Jira
//!   needs an overlap of at least 60 seconds. Kinds, states and a JSM request type are
//!   checked on the rows (the status map works on categories and resolutions, which JQL
//!   does not filter together).
//! - [`list_comments`](accesslink_core::TicketingSystem::list_comments): `GET
//!   /issue/{key}/comment?orderBy=created&expand=properties`, every page; a comment is
//!   internal when Cloud JSM says `jsdPublic: false`, when its `sd.public.comment`
//!   property says `internal: true`, or when it is restricted to a role or group.
//! - [`ticket_schema`](accesslink_core::TicketingSystem::ticket_schema): createmeta of the
//!   kind's issue type in the configured project, allowed values included.

use std::collections::HashSet;

use accesslink_core::{
    AllowedValue, Error, FieldSchema, FieldType, ObjectSchema, Page, PageRequest, PageToken,
    Result, Ticket, TicketComment, TicketKind, TicketQuery, Visibility,
};
use serde_json::Value;

use crate::adf::text_of;
use crate::connector::{JiraConnector, person};
use crate::error::parse_datetime;
use crate::jql::Jql;
use crate::models::{Issue, IssueComment};
use crate::refs::IssueRef;

/// Comment pages read at most for one ticket (of 100 each).
const MAX_COMMENT_PAGES: u64 = 100;
/// createmeta pages read at most (of 50 each).
const MAX_META_PAGES: u64 = 40;
/// Pages whose rows are all dropped read at most in one listing call.
const MAX_SKIPPED_PAGES: usize = 200;
/// The most issues asked for per listing page.
const MAX_LIST_PAGE: u32 = 100;

/// A listing scope: a project key, optionally with a JSM request type id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Scope {
    pub project: String,
    pub request_type: Option<String>,
}

impl Scope {
    /// `PROJ` or `PROJ/25` (project key, request type id); anything else is refused
    /// before a request.
    pub(crate) fn parse(raw: &str) -> Result<Scope> {
        let (project, rt) = match raw.split_once('/') {
            Some((p, rt)) => (p, Some(rt)),
            None => (raw, None),
        };
        let key_ok = !project.is_empty()
            && project.len() <= 64
            && project.starts_with(|c: char| c.is_ascii_alphabetic())
            && project
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_');
        let rt_ok = rt.is_none_or(|r| {
            !r.is_empty() && r.len() <= 18 && r.bytes().all(|b| b.is_ascii_digit())
        });
        if !key_ok || !rt_ok {
            return Err(Error::invalid_input(format!(
                "a Jira listing scope is a project key or `PROJECT/requestTypeId` (`ITSM`, `SD/25`), not {raw:?}"
            )));
        }
        Ok(Scope {
            project: project.to_owned(),
            request_type: rt.map(str::to_owned),
        })
    }
}

impl JiraConnector {
    /// The JQL of a listing.
    pub(crate) fn listing_jql(&self, query: &TicketQuery, scope: Option<&Scope>) -> Result<Jql> {
        let mut jql = Jql::new();
        if let Some(s) = scope {
            jql = jql.eq("project", &s.project)?;
        }
        if let Some(since) = query.updated_since {
            jql = jql.updated_since("updated", since, self.settings.search_utc_offset_minutes)?;
        }
        Ok(jql.order_by("updated").then_by("key"))
    }

    /// The JSM request type id an issue carries in the request type field.
    fn request_type_of(&self, issue: &Issue) -> Option<String> {
        let v = issue.fields.other.get(&self.settings.request_type_field)?;
        let id = v.pointer("/requestType/id")?;
        match id {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }

    pub(crate) async fn list_page(
        &self,
        query: &TicketQuery,
        page: PageRequest,
    ) -> Result<Page<Ticket>> {
        let scope = query.scope.as_deref().map(Scope::parse).transpose()?;
        if scope.as_ref().is_some_and(|s| s.request_type.is_some())
            && self.settings.service_desk.is_none()
        {
            return Err(Error::invalid_input(
                "a `PROJECT/requestTypeId` scope needs `service_desk` configured (the request type field is read with it)",
            ));
        }
        let jql = self.listing_jql(query, scope.as_ref())?;
        let size = page.size_or(MAX_LIST_PAGE).clamp(1, MAX_LIST_PAGE);
        let mut at = page.token.as_ref().map(|t| t.as_str().to_owned());
        let mut seen = HashSet::new();
        // A page whose rows were all dropped here is not handed out empty (an empty page
        // ends a listing): the next one is read in the same call.
        for _ in 0..MAX_SKIPPED_PAGES {
            let (out, next) = self
                .list_one(query, scope.as_ref(), &jql, at.as_deref(), size)
                .await?;
            match next {
                Some(n) if out.is_empty() => {
                    if !seen.insert(n.clone()) {
                        return Err(Error::protocol(
                            "jira search",
                            "the server repeated a page token",
                        ));
                    }
                    at = Some(n);
                }
                next => return Ok(Page::new(out, next.map(PageToken::new))),
            }
        }
        Err(Error::protocol(
            "jira search",
            format!("{MAX_SKIPPED_PAGES} pages in a row held nothing the query selects"),
        ))
    }

    /// One search page, filtered; the next page's token.
    async fn list_one(
        &self,
        query: &TicketQuery,
        scope: Option<&Scope>,
        jql: &Jql,
        at: Option<&str>,
        size: u32,
    ) -> Result<(Vec<Ticket>, Option<String>)> {
        let found = self.client.issues().search_page(jql, at, size).await?;
        let mut out = Vec::with_capacity(found.issues.len());
        for issue in &found.issues {
            if issue
                .fields
                .updated
                .as_deref()
                .and_then(parse_datetime)
                .is_none()
            {
                return Err(Error::protocol(
                    "jira list_tickets",
                    format!(
                        "issue {} was listed without a readable `updated` time",
                        issue.key
                    ),
                ));
            }
            if let Some(rt) = scope.and_then(|s| s.request_type.as_deref()) {
                if self.request_type_of(issue).as_deref() != Some(rt) {
                    continue;
                }
            }
            if let Some(s) = scope {
                let project = issue.fields.project.as_ref().and_then(|p| p.key.as_deref());
                if project.is_some_and(|p| !p.eq_ignore_ascii_case(&s.project)) {
                    continue;
                }
            }
            let t = self.to_ticket(issue, None, None);
            if query.matches(&t) {
                out.push(t);
            }
        }
        Ok((out, found.next))
    }

    pub(crate) async fn comments_of(&self, r: &IssueRef) -> Result<Vec<TicketComment>> {
        let issues = self.client.issues();
        let mut out = Vec::new();
        let mut seen = HashSet::new();
        let mut start = 0u64;
        for _ in 0..MAX_COMMENT_PAGES {
            let page = match issues.comments_page(r, start, 100).await {
                Ok(p) => p,
                Err(e) if e.as_api().is_some_and(|a| a.status.as_u16() == 404) => {
                    return Err(Error::not_found(format!("jira issue {r}")));
                }
                Err(e) => return Err(e),
            };
            let n = page.comments.len() as u64;
            for c in page.comments {
                if !seen.insert(c.id.clone()) {
                    return Err(Error::protocol(
                        "jira comments",
                        format!("comment {} was listed twice", c.id),
                    ));
                }
                out.push(comment_of(c));
            }
            start += n;
            if start >= page.total {
                return Ok(out);
            }
            if n == 0 {
                return Err(Error::protocol(
                    "jira comments",
                    format!("an empty page at {start} of a total of {}", page.total),
                ));
            }
        }
        Err(Error::protocol(
            "jira comments",
            format!("more than {MAX_COMMENT_PAGES} pages"),
        ))
    }

    /// Every row of a createmeta listing.
    async fn createmeta_all(&self, project: &str, issue_type: Option<&str>) -> Result<Vec<Value>> {
        let mut out = Vec::new();
        for _ in 0..MAX_META_PAGES {
            let page = self
                .client
                .issues()
                .createmeta_page(project, issue_type, out.len() as u64)
                .await?;
            let total = page.total;
            let rows = page.rows().ok_or_else(|| {
                Error::protocol(
                    "jira createmeta",
                    "the answer has no `issueTypes`, `fields` or `values` list",
                )
            })?;
            let n = rows.len();
            out.extend(rows);
            match total {
                Some(t) if (out.len() as u64) < t && n > 0 => {}
                Some(t) if (out.len() as u64) < t => {
                    return Err(Error::protocol(
                        "jira createmeta",
                        format!("{t} rows reported, {} received", out.len()),
                    ));
                }
                _ => return Ok(out),
            }
        }
        Err(Error::protocol(
            "jira createmeta",
            format!("more than {MAX_META_PAGES} pages"),
        ))
    }

    pub(crate) async fn schema_of(&self, kind: &TicketKind) -> Result<ObjectSchema> {
        let project = self.settings.project.clone().ok_or(Error::Unsupported {
            operation: "ticket_schema without a configured project",
            target: "jira",
        })?;
        let wanted = self.settings.issue_type_of(kind);
        let types = self.createmeta_all(&project, None).await?;
        let id = types
            .iter()
            .find(|t| {
                t.get("name")
                    .and_then(Value::as_str)
                    .is_some_and(|n| n.eq_ignore_ascii_case(&wanted))
            })
            .and_then(|t| id_text(t.get("id")?))
            .ok_or_else(|| {
                let names: Vec<&str> = types
                    .iter()
                    .filter_map(|t| t.get("name").and_then(Value::as_str))
                    .collect();
                Error::invalid_input(format!(
                    "issue type {wanted:?} (kind {kind}) cannot be created in {project} (there are {names:?})"
                ))
            })?;
        let fields = self.createmeta_all(&project, Some(&id)).await?;
        let mut schema = ObjectSchema::new(wanted);
        for f in &fields {
            schema = schema.field(field_of(f)?);
        }
        Ok(schema)
    }
}

fn id_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A createmeta field as a [`FieldSchema`].
fn field_of(f: &Value) -> Result<FieldSchema> {
    let name = f
        .get("fieldId")
        .or_else(|| f.get("key"))
        .and_then(Value::as_str)
        .ok_or_else(|| Error::protocol("jira createmeta", "a field without `fieldId`"))?;
    let schema = f.get("schema").cloned().unwrap_or(Value::Null);
    let ty = schema.get("type").and_then(Value::as_str).unwrap_or("");
    let system = schema.get("system").and_then(Value::as_str).unwrap_or("");
    let custom = schema.get("custom").and_then(Value::as_str).unwrap_or("");
    let (elem, multi) = if ty == "array" {
        (
            schema.get("items").and_then(Value::as_str).unwrap_or(""),
            true,
        )
    } else {
        (ty, false)
    };
    let field_type = match elem {
        "string" if system == "description" || custom.ends_with(":textarea") => FieldType::Text,
        "string" => FieldType::String,
        "number" if custom.ends_with(":float") => FieldType::Number,
        "number" => FieldType::Number,
        "date" => FieldType::Date,
        "datetime" => FieldType::DateTime,
        "user" => FieldType::Reference("user".into()),
        "group" => FieldType::Reference("group".into()),
        "project" => FieldType::Reference("project".into()),
        "issuetype" | "priority" | "option" | "resolution" | "component" | "version" => {
            FieldType::Choice
        }
        other => FieldType::Other(if other.is_empty() { "unknown" } else { other }.to_owned()),
    };
    let mut out = FieldSchema::new(name, field_type);
    if let Some(label) = f.get("name").and_then(Value::as_str) {
        out = out.label(label);
    }
    if f.get("required").and_then(Value::as_bool) == Some(true) {
        out = out.required();
    }
    if multi {
        out = out.multi_valued();
    }
    if let Some(Value::Array(values)) = f.get("allowedValues") {
        let allowed: Vec<AllowedValue> = values.iter().filter_map(allowed_of).collect();
        out = out.allowed(allowed);
    }
    Ok(out)
}

/// An allowed value: options send `value`, projects `key`, the rest `name`; the label
/// is the name where the value is something else.
fn allowed_of(v: &Value) -> Option<AllowedValue> {
    let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
    let name = s("name");
    let value = s("value")
        .or_else(|| s("key"))
        .or_else(|| name.clone())
        .or_else(|| s("id"))?;
    let label = name.filter(|n| *n != value);
    Some(AllowedValue::new(value, label))
}

/// A comment read back.
fn comment_of(c: IssueComment) -> TicketComment {
    let property_internal = c.properties.iter().flatten().any(|p| {
        p.get("key").and_then(Value::as_str) == Some("sd.public.comment")
            && p.pointer("/value/internal") == Some(&Value::Bool(true))
    });
    let internal = c.jsd_public == Some(false)
        || property_internal
        || c.visibility.is_some_and(|v| !v.is_null());
    let visibility = if internal {
        Visibility::Internal
    } else {
        Visibility::Public
    };
    let mut out = TicketComment::new(c.id, visibility, text_of(&c.body).unwrap_or_default());
    if let Some(a) = &c.author {
        out = out.author(person(a));
    }
    if let Some(at) = c.created.as_deref().and_then(parse_datetime) {
        out = out.created(at);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn scopes_are_project_keys_with_an_optional_request_type() {
        assert_eq!(
            Scope::parse("SD/25").unwrap(),
            Scope {
                project: "SD".into(),
                request_type: Some("25".into())
            }
        );
        assert_eq!(Scope::parse("ITSM").unwrap().request_type, None);
        for bad in ["", "SD/", "SD/x", "a b", "SD/25/1", "\"X\" OR 1=1", "1SD"] {
            assert!(Scope::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn createmeta_fields_become_schemas() {
        let f = field_of(
            &json!({"fieldId": "priority", "name": "Priority", "required": false,
            "schema": {"type": "priority", "system": "priority"},
            "allowedValues": [{"id": "1", "name": "High"}, {"id": "2", "name": "Low"}]}),
        )
        .unwrap();
        assert_eq!(f.field_type, FieldType::Choice);
        assert_eq!(f.allowed[0], AllowedValue::new("High", None));
        let f = field_of(
            &json!({"fieldId": "labels", "name": "Labels", "required": true,
            "schema": {"type": "array", "items": "string"}}),
        )
        .unwrap();
        assert!(f.multi_valued && f.required);
        let f = field_of(&json!({"fieldId": "customfield_1", "name": "Team",
            "schema": {"type": "option", "custom": "x:select"},
            "allowedValues": [{"id": "7", "value": "Red"}]}))
        .unwrap();
        assert_eq!(f.allowed[0].value, "Red");
        assert!(field_of(&json!({"name": "no id"})).is_err());
    }

    #[test]
    fn comment_visibility_comes_from_jsm_flags_properties_and_restrictions() {
        let c = |v: Value| comment_of(serde_json::from_value(v).unwrap()).visibility;
        assert_eq!(c(json!({"id": "1", "body": "x"})), Visibility::Public);
        assert_eq!(
            c(json!({"id": "1", "body": "x", "jsdPublic": false})),
            Visibility::Internal
        );
        assert_eq!(
            c(
                json!({"id": "1", "body": "x", "properties": [{"key": "sd.public.comment", "value": {"internal": true}}]})
            ),
            Visibility::Internal
        );
        assert_eq!(
            c(
                json!({"id": "1", "body": "x", "visibility": {"type": "role", "value": "Developers"}})
            ),
            Visibility::Internal
        );
    }
}
