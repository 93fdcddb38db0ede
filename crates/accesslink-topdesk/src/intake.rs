//! Intake: listing incidents with an updated-since watermark, reading an incident's
//! progress trail back as comments, and the ticket schema.
//!
//! - **Listing** (`GET /incidents`): the watermark goes to the server as FIQL
//!   `modificationDate=ge=<ISO 8601 UTC, to the second, rounded down>` with
//!   `sort=modificationDate:asc,id:asc`, so a poll reads only what changed, oldest first;
//!   an all-unfinished state filter adds `closed==false`; the scope is a category
//!   (`category:<name>` or a bare name) or an operator group (`operator_group:<uuid or
//!   name>`). Every row is confirmed client side ([`TicketQuery::matches`] and the scope).
//! - **Comments** (`GET /incidents/id/{id}/progresstrail`, pages of 100): the text entries,
//!   `invisibleForCaller` as internal, oldest first.
//! - **Schema**: the incident fields of the vendor's API description, with the allowed
//!   values of the category, subcategory, closure code and processing status search lists
//!   read from their endpoints; operator changes: a fixed list (fact sheet §3.4).

use accesslink_core::schema::{AllowedValue, FieldSchema, FieldType, ObjectSchema};
use accesslink_core::{
    Error, Page, PageRequest, Person, Result, Ticket, TicketComment, TicketKind, TicketQuery,
    TicketRef, TicketState, Visibility, redact,
};
use serde_json::Value;

use crate::api::ListParams;
use crate::connector::TopdeskConnector;
use crate::fiql::{Fiql, Value as FiqlValue};
use crate::models::{Incident, parse_date};
use crate::paging::{Cursor, advance, decode, page};
use crate::refs::uuid;

/// The page token scope of ticket listings.
const TICKETS: &str = "tickets";
/// The sort of a listing: update time, then id, so offsets are stable between polls.
const SORT: &str = "modificationDate:asc,id:asc";
/// Progress-trail pages hold at most 100 entries (vendor API description).
const TRAIL_PAGE: u32 = 100;
/// A progress trail longer than this many pages is refused rather than read forever.
const MAX_TRAIL_PAGES: usize = 1000;

/// What a listing's `scope` names.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Scope {
    Category(String),
    GroupId(String),
    GroupName(String),
}

impl Scope {
    fn parse(raw: &str) -> Result<Scope> {
        let (key, value) = match raw.split_once(':') {
            Some((k @ ("category" | "operator_group"), v)) => (k, v.trim()),
            _ => ("category", raw.trim()),
        };
        if value.is_empty() {
            return Err(Error::invalid_input(format!(
                "scope {:?} names no category or operator group",
                redact::truncate(raw, 60)
            )));
        }
        Ok(match (key, uuid(value)) {
            ("operator_group", Some(id)) => Scope::GroupId(id),
            ("operator_group", None) => Scope::GroupName(value.to_owned()),
            _ => Scope::Category(value.to_owned()),
        })
    }

    fn fiql(&self) -> Result<Fiql> {
        Ok(match self {
            Scope::Category(n) => Fiql::eq("category.name", FiqlValue::text(n)?),
            Scope::GroupId(id) => Fiql::eq("operatorGroup.id", FiqlValue::text(id)?),
            Scope::GroupName(n) => Fiql::eq("operatorGroup.name", FiqlValue::text(n)?),
        })
    }

    /// Whether the incident is in scope (the server's filter is confirmed).
    fn holds(&self, i: &Incident) -> bool {
        let category = i
            .other
            .get("category")
            .and_then(|c| c.get("name"))
            .and_then(Value::as_str);
        let group = i.operator_group.as_ref();
        match self {
            Scope::Category(n) => category.is_some_and(|c| c.eq_ignore_ascii_case(n)),
            Scope::GroupId(id) => group
                .and_then(|g| g.id.as_deref())
                .is_some_and(|g| g.eq_ignore_ascii_case(id)),
            Scope::GroupName(n) => group
                .and_then(|g| g.name.as_deref())
                .is_some_and(|g| g.eq_ignore_ascii_case(n)),
        }
    }
}

fn finished(s: TicketState) -> bool {
    matches!(s, TicketState::Closed | TicketState::Cancelled)
}

impl TopdeskConnector {
    /// One page of incidents a query selects (see the [module docs](self)).
    pub(crate) async fn list_incidents(
        &self,
        query: &TicketQuery,
        req: PageRequest,
    ) -> Result<Page<Ticket>> {
        if !query.kinds.is_empty() && !query.kinds.contains(&TicketKind::Incident) {
            return Err(Error::Unsupported {
                operation: "listing tickets other than incidents",
                target: "topdesk",
            });
        }
        let scope = query.scope.as_deref().map(Scope::parse).transpose()?;
        let mut parts = Vec::new();
        if let Some(since) = query.updated_since {
            parts.push(Fiql::ge("modificationDate", FiqlValue::time(since)));
        }
        // A completed partial incident is Closed with `closed == false`, so only the
        // all-unfinished case narrows on the flag; the rest is confirmed client side.
        if !query.states.is_empty() && !query.states.iter().any(|s| finished(*s)) {
            parts.push(Fiql::eq("closed", FiqlValue::bool(false)));
        }
        if let Some(s) = &scope {
            parts.push(s.fiql()?);
        }
        let mut params = ListParams::new().sort(SORT);
        if let Some(q) = parts.into_iter().reduce(Fiql::and) {
            params = params.query(q);
        }
        let size = self.list_size(&req);
        let cursor = match &req.token {
            Some(t) => decode(&[TICKETS], t)?.1,
            None => Cursor::start(),
        };
        let p = self
            .client
            .incidents()
            .list(cursor.start, size, &params)
            .await?;
        let (rows, next) = advance("GET /tas/api/incidents", &cursor, p, |i: &Incident| {
            i.id.as_str()
        })?;
        let mut items = Vec::with_capacity(rows.len());
        for i in rows {
            if i.modification_date
                .as_deref()
                .and_then(parse_date)
                .is_none()
            {
                return Err(Error::protocol(
                    "GET /tas/api/incidents",
                    format!(
                        "incident {} has no readable modificationDate",
                        redact::truncate(&i.number, 40)
                    ),
                ));
            }
            if scope.as_ref().is_some_and(|s| !s.holds(&i)) {
                continue;
            }
            let t = self.incident_ticket(i);
            if query.matches(&t) {
                items.push(t);
            }
        }
        Ok(page(TICKETS, items, next))
    }

    fn list_size(&self, req: &PageRequest) -> u32 {
        req.size_or(self.settings.page_size)
            .min(crate::settings::MAX_PAGE_SIZE)
    }

    /// The text entries of an incident's progress trail, oldest first.
    pub(crate) async fn incident_comments(&self, r: &TicketRef) -> Result<Vec<TicketComment>> {
        let id = self.incident_id(r).await?;
        let api = self.client.incidents();
        let mut cursor = Cursor::start();
        let mut entries = Vec::new();
        for _ in 0..MAX_TRAIL_PAGES {
            let p = api.progress_trail(&id, cursor.start, TRAIL_PAGE).await?;
            if p.items.iter().any(|e| e.id.is_none()) {
                return Err(Error::protocol(
                    "GET /tas/api/incidents/id/progresstrail",
                    "a progress-trail entry without an id",
                ));
            }
            let (rows, next) =
                advance("GET /tas/api/incidents/id/progresstrail", &cursor, p, |e| {
                    e.id.as_deref().unwrap_or("")
                })?;
            entries.extend(rows);
            match next {
                Some(n) => cursor = n,
                None => {
                    // The trail is newest first: reverse, then order by time (stable,
                    // so entries of the same millisecond keep the server's order).
                    entries.reverse();
                    let mut comments: Vec<TicketComment> = entries
                        .into_iter()
                        .filter_map(|e| {
                            let body = e.memo_text?;
                            let visibility = if e.invisible_for_caller {
                                Visibility::Internal
                            } else {
                                Visibility::Public
                            };
                            let mut c =
                                TicketComment::new(e.id.unwrap_or_default(), visibility, body);
                            if let Some(who) = e.operator.or(e.person) {
                                c = c.author(Person {
                                    id: who.id,
                                    name: who.name,
                                    ..Person::default()
                                });
                            }
                            if let Some(at) = e.entry_date.as_deref().and_then(parse_date) {
                                c = c.created(at);
                            }
                            Some(c)
                        })
                        .collect();
                    comments.sort_by_key(|c| c.created);
                    return Ok(comments);
                }
            }
        }
        Err(Error::protocol(
            "GET /tas/api/incidents/id/progresstrail",
            format!("the progress trail has more than {MAX_TRAIL_PAGES} pages"),
        ))
    }

    /// The fields of incidents (with allowed values read from the search lists) or of
    /// operator changes (fixed).
    pub(crate) async fn schema_of(&self, kind: &TicketKind) -> Result<ObjectSchema> {
        match kind {
            TicketKind::Incident => self.incident_schema().await,
            TicketKind::Change => Ok(change_schema()),
            _ => Err(Error::Unsupported {
                operation: "a schema of tickets other than incidents and changes",
                target: "topdesk",
            }),
        }
    }

    async fn incident_schema(&self) -> Result<ObjectSchema> {
        let api = self.client.incidents();
        let named = |rows: Vec<crate::models::Named>| -> Vec<AllowedValue> {
            rows.into_iter()
                .filter_map(|n| n.name)
                .map(|n| AllowedValue::new(n, None))
                .collect()
        };
        let categories = named(api.categories().await?);
        let subcategories: Vec<AllowedValue> = api
            .subcategories()
            .await?
            .into_iter()
            .filter_map(|s| {
                let name = s.name?;
                let label = s
                    .category
                    .and_then(|c| c.name)
                    .map(|c| format!("{c} / {name}"));
                Some(AllowedValue::new(name, label))
            })
            .collect();
        let closure_codes = named(api.closure_codes().await?);
        let statuses = named(api.processing_statuses().await?);
        let mut schema = ObjectSchema::new("incident");
        for (name, ty) in INCIDENT_FIELDS {
            let mut f = FieldSchema::new(*name, field_type(ty));
            f = match *name {
                "id" | "number" | "creationDate" | "modificationDate" | "creator" | "modifier"
                | "archived" | "requests" | "attachments" => f.read_only(),
                "briefDescription" => f.required().label("Title (at most 80 characters)"),
                "externalNumber" => {
                    f.label("External number: the correlation id (at most 60 characters)")
                }
                "category" => choice(f, categories.clone()),
                "subcategory" => choice(f, subcategories.clone()),
                "closureCode" => choice(f, closure_codes.clone()),
                "processingStatus" => choice(f, statuses.clone()),
                "status" => choice(
                    f,
                    [
                        "firstLine",
                        "secondLine",
                        "partial",
                        "firstLineArchived",
                        "secondLineArchived",
                        "partialArchived",
                    ]
                    .map(|s| AllowedValue::new(s, None))
                    .to_vec(),
                ),
                "escalationStatus" => choice(
                    f,
                    ["Escalated", "Deescalated"]
                        .map(|s| AllowedValue::new(s, None))
                        .to_vec(),
                ),
                "partialIncidents" => f.read_only().multi_valued(),
                "externalLinks" => f.multi_valued(),
                _ => f,
            };
            schema = schema.field(f);
        }
        Ok(schema)
    }
}

fn choice(f: FieldSchema, values: Vec<AllowedValue>) -> FieldSchema {
    let mut f = f.allowed(values);
    f.field_type = FieldType::Choice;
    f
}

/// A type name of [`INCIDENT_FIELDS`] as a core field type.
fn field_type(ty: &str) -> FieldType {
    match ty {
        "string" => FieldType::String,
        "text" => FieldType::Text,
        "boolean" => FieldType::Boolean,
        "number" => FieldType::Number,
        "date-time" => FieldType::DateTime,
        other => match other.strip_prefix("ref:") {
            Some(to) => FieldType::Reference(to.to_owned()),
            None => FieldType::Other(other.to_owned()),
        },
    }
}

/// The incident's fields (vendor API description, definition `Incident`), plus
/// `externalNumber` (in the create body, printed back) and `archived` (printed by
/// tenants, fact sheet §3.3).
const INCIDENT_FIELDS: &[(&str, &str)] = &[
    ("id", "string"),
    ("status", "string"),
    ("number", "string"),
    ("request", "text"),
    ("requests", "url"),
    ("action", "text"),
    ("attachments", "url"),
    ("caller", "ref:person"),
    ("callerBranch", "ref:branch"),
    ("branchExtraFieldA", "ref:searchlist"),
    ("branchExtraFieldB", "ref:searchlist"),
    ("departmentId", "string"),
    ("budgetHolderId", "string"),
    ("briefDescription", "string"),
    ("category", "ref:category"),
    ("subcategory", "ref:subcategory"),
    ("callType", "ref:call_type"),
    ("entryType", "ref:entry_type"),
    ("object", "ref:object"),
    ("asset", "object"),
    ("branch", "ref:branch"),
    ("location", "ref:location"),
    ("impact", "ref:impact"),
    ("urgency", "ref:urgency"),
    ("priority", "ref:priority"),
    ("duration", "ref:duration"),
    ("actualDuration", "number"),
    ("targetDate", "date-time"),
    ("sla", "object"),
    ("responseDate", "date-time"),
    ("onHold", "boolean"),
    ("onHoldDate", "date-time"),
    ("onHoldDuration", "number"),
    ("feedbackMessage", "text"),
    ("feedbackRating", "number"),
    ("operator", "ref:operator"),
    ("operatorGroup", "ref:operatorgroup"),
    ("supplier", "object"),
    ("processingStatus", "ref:processing_status"),
    ("completed", "boolean"),
    ("completedDate", "date-time"),
    ("closed", "boolean"),
    ("closedDate", "date-time"),
    ("closureCode", "ref:closure_code"),
    ("timeSpent", "number"),
    ("timeSpentFirstLine", "number"),
    ("timeSpentSecondLineAndPartials", "number"),
    ("itemCosts", "number"),
    ("objectCosts", "number"),
    ("costs", "number"),
    ("escalationStatus", "string"),
    ("escalationReason", "ref:escalation_reason"),
    ("escalationOperator", "ref:operator"),
    ("callDate", "date-time"),
    ("creator", "ref:operator"),
    ("creationDate", "date-time"),
    ("modifier", "ref:operator"),
    ("modificationDate", "date-time"),
    ("archivingReason", "ref:archiving_reason"),
    ("majorCall", "boolean"),
    ("majorCallObject", "ref:incident"),
    ("publishToSsd", "boolean"),
    ("monitored", "boolean"),
    ("responded", "boolean"),
    ("expectedTimeSpent", "number"),
    ("mainIncident", "ref:incident"),
    ("partialIncidents", "ref:incident"),
    ("optionalFields1", "object"),
    ("optionalFields2", "object"),
    ("externalLinks", "object"),
    ("externalNumber", "string"),
    ("archived", "boolean"),
];

/// The operator change's fields as the connector reads and writes them (fact sheet
/// §3.4; UNVERIFIED against a spec).
fn change_schema() -> ObjectSchema {
    use FieldType as F;
    let values = |v: &[&str]| {
        v.iter()
            .map(|s| AllowedValue::new(*s, None))
            .collect::<Vec<_>>()
    };
    ObjectSchema::new("change")
        .field(FieldSchema::new("id", F::String).read_only())
        .field(FieldSchema::new("number", F::String).read_only())
        .field(FieldSchema::new("briefDescription", F::String).required())
        .field(FieldSchema::new("request", F::Text))
        .field(choice(
            FieldSchema::new("changeType", F::Choice).required(),
            values(&["simple", "extensive"]),
        ))
        .field(choice(
            FieldSchema::new("phase", F::Choice).read_only(),
            values(&[
                "prfc",
                "rfc",
                "simple",
                "progress",
                "evaluation",
                "closed",
                "rejected",
                "canceled",
            ]),
        ))
        .field(FieldSchema::new("authorizationStatus", F::String).read_only())
        .field(FieldSchema::new("requester", F::Reference("person".into())).required())
        .field(FieldSchema::new(
            "template",
            F::Reference("change_template".into()),
        ))
        .field(FieldSchema::new("category", F::String))
        .field(FieldSchema::new("subCategory", F::String))
        .field(FieldSchema::new("impact", F::String))
        .field(FieldSchema::new("benefit", F::String))
        .field(FieldSchema::new("priority", F::String))
        .field(FieldSchema::new("externalNumber", F::String))
        .field(FieldSchema::new("modificationDate", F::DateTime).read_only())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes() {
        assert_eq!(
            Scope::parse("Access").unwrap(),
            Scope::Category("Access".into())
        );
        assert_eq!(
            Scope::parse("category:Access rights").unwrap(),
            Scope::Category("Access rights".into())
        );
        assert_eq!(
            Scope::parse("operator_group:F197BB75-8822-45E9-82CE-02983504020B").unwrap(),
            Scope::GroupId("f197bb75-8822-45e9-82ce-02983504020b".into())
        );
        assert_eq!(
            Scope::parse("operator_group:Identity team").unwrap(),
            Scope::GroupName("Identity team".into())
        );
        assert!(Scope::parse("operator_group: ").is_err());
        assert!(Scope::parse("x' ,y").unwrap().fiql().is_err());
        assert_eq!(
            Scope::parse("Access").unwrap().fiql().unwrap().to_string(),
            "category.name=='Access'"
        );
    }
}
