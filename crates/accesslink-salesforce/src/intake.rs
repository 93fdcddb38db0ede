//! The intake contract: listing tickets with an updated-since watermark, reading
//! comments back, describing ticket and user fields, and setting passwords.
//!
//! - **Listing** sends the watermark as `LastModifiedDate >= 2026-05-28T20:26:41Z` (an
//!   unquoted SOQL date-time literal, UTC, rounded down to the second, which is the
//!   granularity Salesforce reports) and orders by `LastModifiedDate, Id`. Pages are
//!   keyset pages: the token is the object, the last row's time and id; the next page is
//!   the rest of that second (`LastModifiedDate = t AND Id > id ORDER BY Id`) and then
//!   what is later (`LastModifiedDate > t`), so a page boundary inside one second loses
//!   and repeats nothing, and SOQL needs no `OR`. Every row is confirmed client side
//!   (`TicketQuery::matches` and the scope).
//! - **Scope** is `owner:<queue or user name, or its id>` (`OwnerId` / `Owner.Name`) or
//!   `record_type:<DeveloperName>` (`RecordType.DeveloperName`).
//! - **Comments**: `CaseComment` (`IsPublished` → public) or Chatter `FeedItem`
//!   (`Visibility`), oldest first by `CreatedDate, Id`.
//! - **Schemas**: `GET sobjects/{Object}/describe`; picklist values are the allowed
//!   values.
//! - **Passwords**: `POST sobjects/User/{id}/password {"NewPassword"}` (204); sent
//!   once, never repeated blindly (Salesforce refuses a reused password).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use accesslink_core::feed::TicketQuery;
use accesslink_core::schema::{AllowedValue, FieldSchema, FieldType, ObjectSchema};
use accesslink_core::{
    AccountId, Error, Page, PageRequest, PageToken, Password, Person, Result, Ticket,
    TicketComment, TicketKind, TicketRef, Visibility,
};
use secrecy::ExposeSecret;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::connector::SalesforceConnector;
use crate::ids::SfId;
use crate::models::{Record, Related};
use crate::settings::Profile;
use crate::soql::Soql;
use crate::tickets::{Obj, parse_datetime, record_ref};

/// A SOQL date-time literal (`2026-05-28T20:26:41Z`), rounded down to the second.
pub fn datetime_literal(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
    let s = accesslink_core::time::format_rfc3339_millis(UNIX_EPOCH + Duration::from_secs(secs));
    format!("{}Z", &s[..19])
}

/// Where a listing stands: the object (index among the kinds listed), and the last
/// row's time and id (none at the start of an object).
#[derive(Debug, Clone, PartialEq)]
struct Cursor {
    object: usize,
    last: Option<(SystemTime, SfId)>,
}

impl Cursor {
    fn token(&self) -> PageToken {
        PageToken::new(match &self.last {
            None => format!("{}", self.object),
            Some((t, id)) => format!(
                "{}|{}|{}",
                self.object,
                t.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs(),
                id.as_str()
            ),
        })
    }

    fn parse(token: &str) -> Result<Cursor> {
        let bad = || Error::invalid_input(format!("{token:?} is not a Salesforce listing token"));
        let mut parts = token.split('|');
        let object = parts.next().and_then(|o| o.parse().ok()).ok_or_else(bad)?;
        let last = match (parts.next(), parts.next(), parts.next()) {
            (None, None, None) => None,
            (Some(t), Some(id), None) => {
                let secs: u64 = t.parse().map_err(|_| bad())?;
                Some((
                    UNIX_EPOCH + Duration::from_secs(secs),
                    SfId::parse(id).map_err(|_| bad())?,
                ))
            }
            _ => return Err(bad()),
        };
        Ok(Cursor { object, last })
    }
}

/// A scope: which field, the value, and the extra fields read to confirm it.
enum Scope {
    Owner(String),
    RecordType(String),
}

impl Scope {
    fn parse(raw: &str) -> Result<Scope> {
        let (kind, value) = raw.split_once(':').ok_or_else(|| {
            Error::invalid_input(format!(
                "a Salesforce scope is owner:<queue or user> or record_type:<DeveloperName>, not {raw:?}"
            ))
        })?;
        let value = value.trim();
        if value.is_empty() {
            return Err(Error::invalid_input("an empty Salesforce scope"));
        }
        match kind.trim() {
            "owner" | "queue" => Ok(Scope::Owner(value.to_owned())),
            "record_type" => Ok(Scope::RecordType(value.to_owned())),
            other => Err(Error::invalid_input(format!(
                "a Salesforce scope is owner:… or record_type:…, not {other}:…"
            ))),
        }
    }

    fn fields(&self) -> &'static [&'static str] {
        match self {
            Scope::Owner(_) => &["OwnerId", "Owner.Name"],
            Scope::RecordType(_) => &["RecordType.DeveloperName"],
        }
    }

    fn filter(&self, q: Soql) -> Result<Soql> {
        match self {
            Scope::Owner(v) => match SfId::parse(v) {
                Ok(id) => q.eq("OwnerId", id.as_str()),
                Err(_) => q.eq("Owner.Name", v),
            },
            Scope::RecordType(v) => q.eq("RecordType.DeveloperName", v),
        }
    }

    fn confirms(&self, r: &Record) -> bool {
        let rel = |rel: &str, f: &str| {
            r.other
                .get(rel)
                .and_then(|o| o.get(f))
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        match self {
            Scope::Owner(v) => match SfId::parse(v) {
                Ok(id) => {
                    r.other
                        .get("OwnerId")
                        .and_then(Value::as_str)
                        .and_then(|o| o.get(..15))
                        == Some(id.short())
                }
                Err(_) => r
                    .owner
                    .as_ref()
                    .and_then(|o| o.name.clone())
                    .or_else(|| rel("Owner", "Name"))
                    .is_some_and(|n| n.eq_ignore_ascii_case(v)),
            },
            Scope::RecordType(v) => {
                rel("RecordType", "DeveloperName").is_some_and(|n| n.eq_ignore_ascii_case(v))
            }
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CommentRow {
    id: String,
    #[serde(default)]
    parent_id: Option<String>,
    #[serde(default)]
    comment_body: Option<String>,
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    is_published: Option<bool>,
    #[serde(default)]
    visibility: Option<String>,
    #[serde(default)]
    created_date: Option<String>,
    #[serde(default)]
    created_by: Option<Related>,
}

/// `GET sobjects/{Object}/describe`: the parts read.
#[derive(Debug, Deserialize)]
struct Describe {
    name: String,
    fields: Vec<DescribeField>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DescribeField {
    name: String,
    #[serde(default)]
    label: Option<String>,
    #[serde(rename = "type")]
    ty: String,
    #[serde(default = "yes")]
    nillable: bool,
    #[serde(default)]
    createable: bool,
    #[serde(default)]
    updateable: bool,
    #[serde(default)]
    defaulted_on_create: bool,
    #[serde(default)]
    reference_to: Vec<String>,
    #[serde(default)]
    picklist_values: Vec<Picklist>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize)]
struct Picklist {
    value: String,
    #[serde(default)]
    label: Option<String>,
    #[serde(default = "yes")]
    active: bool,
}

fn field_of(f: DescribeField) -> FieldSchema {
    let ty = match f.ty.as_str() {
        "id" | "string" | "email" | "phone" | "url" | "encryptedstring" | "combobox" => {
            FieldType::String
        }
        "textarea" => FieldType::Text,
        "boolean" => FieldType::Boolean,
        "int" => FieldType::Integer,
        "double" | "currency" | "percent" => FieldType::Number,
        "date" => FieldType::Date,
        "datetime" => FieldType::DateTime,
        "picklist" | "multipicklist" => FieldType::Choice,
        "reference" => FieldType::Reference(f.reference_to.join("|")),
        other => FieldType::Other(other.to_owned()),
    };
    let multi = f.ty == "multipicklist";
    let mut s = FieldSchema::new(f.name, ty);
    if let Some(l) = f.label {
        s = s.label(l);
    }
    if !f.nillable && f.createable && !f.defaulted_on_create {
        s = s.required();
    }
    if !f.createable && !f.updateable {
        s = s.read_only();
    }
    if multi {
        s = s.multi_valued();
    }
    s.allowed(f.picklist_values.into_iter().filter(|p| p.active).map(|p| {
        let label = p.label.filter(|l| *l != p.value);
        AllowedValue::new(p.value, label)
    }))
}

impl SalesforceConnector {
    /// `GET sobjects/{object}/describe` as a schema.
    pub async fn describe(&self, object: &str) -> Result<ObjectSchema> {
        crate::soql::check_name(object)?;
        let http = self.client.http().await?;
        let d: Describe = http
            .send_json(http.get(&format!("sobjects/{object}/describe"))?)
            .await?;
        if !d.name.eq_ignore_ascii_case(object) || d.fields.is_empty() {
            return Err(Error::protocol(
                format!("salesforce describe {object}"),
                format!(
                    "the answer describes {:?} with {} fields",
                    d.name,
                    d.fields.len()
                ),
            ));
        }
        let mut schema = ObjectSchema::new(d.name);
        for f in d.fields {
            schema = schema.field(field_of(f));
        }
        Ok(schema)
    }

    pub(crate) async fn ticket_schema_of(&self, kind: &TicketKind) -> Result<ObjectSchema> {
        // Remedyforce keeps service requests with incidents.
        let wanted = match (self.settings.profile, kind) {
            (Profile::Remedyforce, TicketKind::Request) => &TicketKind::Incident,
            _ => kind,
        };
        let obj = self
            .objects()
            .into_iter()
            .find(|o| &o.kind == wanted)
            .ok_or_else(|| {
                Error::invalid_input(format!("this Salesforce profile has no {kind:?} tickets"))
            })?;
        self.describe(&obj.name).await
    }

    /// One page of `query` (see the module docs).
    pub(crate) async fn list_tickets_page(
        &self,
        query: &TicketQuery,
        page: PageRequest,
    ) -> Result<Page<Ticket>> {
        self.client
            .api_usage()
            .check_import(&self.settings.api_budget, "ticket listing")?;
        let scope = query.scope.as_deref().map(Scope::parse).transpose()?;
        let objects: Vec<Obj> = self
            .objects()
            .into_iter()
            .filter(|o| query.kinds.is_empty() || query.kinds.contains(&o.kind))
            .collect();
        let size = page.size_or(200).clamp(1, 2000);
        let mut cursor = match &page.token {
            Some(t) => Cursor::parse(t.as_str())?,
            None => Cursor {
                object: 0,
                last: None,
            },
        };
        let Some(obj) = objects.get(cursor.object) else {
            return Ok(Page::new(Vec::new(), None));
        };
        let mut fields: Vec<&str> = obj.fields.iter().map(String::as_str).collect();
        if let Some(s) = &scope {
            fields.extend(s.fields());
        }
        let base = || -> Result<Soql> {
            let q = Soql::select(&fields, &obj.name)?;
            match &scope {
                Some(s) => s.filter(q),
                None => Ok(q),
            }
        };
        let since = query.updated_since.map(datetime_literal);
        let mut rows: Vec<Record> = Vec::new();
        match &cursor.last {
            None => {
                let mut q = base()?;
                if let Some(s) = &since {
                    q = q.cmp_literal("LastModifiedDate", ">=", s)?;
                }
                let q = q
                    .order_by_fields(&[("LastModifiedDate", false), ("Id", false)])?
                    .limit(size);
                rows.extend(self.client.query_all::<Record>(&q).await?);
            }
            Some((t, id)) => {
                let lit = datetime_literal(*t);
                let q = base()?
                    .cmp_literal("LastModifiedDate", "=", &lit)?
                    .gt("Id", id.as_str())?
                    .order_by("Id", false)?
                    .limit(size);
                rows.extend(self.client.query_all::<Record>(&q).await?);
                if (rows.len() as u32) < size {
                    let q = base()?
                        .cmp_literal("LastModifiedDate", ">", &lit)?
                        .order_by_fields(&[("LastModifiedDate", false), ("Id", false)])?
                        .limit(size - rows.len() as u32);
                    rows.extend(self.client.query_all::<Record>(&q).await?);
                }
            }
        }
        // Every row must lie after the cursor, in order, with an update time.
        let what = format!("salesforce {} listing", obj.name);
        let mut last = cursor.last.clone();
        let mut kept = Vec::new();
        for r in &rows {
            let at = r
                .last_modified_date
                .as_deref()
                .and_then(parse_datetime)
                .ok_or_else(|| {
                    Error::protocol(&what, format!("record {} has no LastModifiedDate", r.id))
                })?;
            let id = SfId::parse(&r.id)
                .map_err(|_| Error::protocol(&what, "a row's Id is not an id"))?;
            if let Some((lt, lid)) = &last {
                if (at, id.as_str()) <= (*lt, lid.as_str()) {
                    return Err(Error::protocol(
                        &what,
                        "a row is not after the page token (a repeated or unordered page)",
                    ));
                }
            }
            last = Some((at, id));
            if scope.as_ref().is_none_or(|s| s.confirms(r)) {
                kept.push((obj.clone(), r.clone()));
            }
        }
        let full = rows.len() as u32 >= size;
        let tickets = self.tickets_of(kept).await?;
        let tickets: Vec<Ticket> = tickets.into_iter().filter(|t| query.matches(t)).collect();
        let next = if full {
            cursor.last = last;
            Some(cursor.token())
        } else if cursor.object + 1 < objects.len() {
            Some(
                Cursor {
                    object: cursor.object + 1,
                    last: None,
                }
                .token(),
            )
        } else {
            None
        };
        Ok(Page::new(tickets, next))
    }

    pub(crate) async fn comments_of(&self, r: &TicketRef) -> Result<Vec<TicketComment>> {
        let rr = record_ref(r)?;
        let (_, rec) = self
            .read(&rr)
            .await?
            .ok_or_else(|| Error::not_found(format!("salesforce ticket {r}")))?;
        let (object, fields): (&str, &[&str]) = match self.settings.profile {
            Profile::ServiceCloud => (
                "CaseComment",
                &[
                    "Id",
                    "ParentId",
                    "CommentBody",
                    "IsPublished",
                    "CreatedDate",
                ],
            ),
            Profile::Remedyforce => (
                "FeedItem",
                &["Id", "ParentId", "Body", "Visibility", "CreatedDate"],
            ),
        };
        let mut all: Vec<&str> = fields.to_vec();
        all.extend([
            "CreatedBy.Id",
            "CreatedBy.Name",
            "CreatedBy.Email",
            "CreatedBy.Username",
        ]);
        let q = Soql::select(&all, object)?
            .eq("ParentId", &rec.id)?
            .order_by_fields(&[("CreatedDate", false), ("Id", false)])?;
        let rows: Vec<CommentRow> = self.client.query_all(&q).await?;
        let short = rec.id.get(..15);
        let mut out: Vec<TicketComment> = rows
            .into_iter()
            .filter(|c| c.parent_id.as_deref().and_then(|p| p.get(..15)) == short)
            .map(|c| {
                let (body, visibility) = match self.settings.profile {
                    Profile::ServiceCloud => (
                        c.comment_body.unwrap_or_default(),
                        if c.is_published == Some(true) {
                            Visibility::Public
                        } else {
                            Visibility::Internal
                        },
                    ),
                    Profile::Remedyforce => (
                        c.body.unwrap_or_default(),
                        if c.visibility.as_deref() == Some("InternalUsers") {
                            Visibility::Internal
                        } else {
                            Visibility::Public
                        },
                    ),
                };
                let mut t = TicketComment::new(c.id, visibility, body);
                if let Some(p) = c.created_by.as_ref() {
                    t = t.author(Person {
                        id: p.id.clone(),
                        login: p.username.clone(),
                        name: p.name.clone(),
                        email: p.email.clone().filter(|e| !e.is_empty()),
                    });
                }
                if let Some(at) = c.created_date.as_deref().and_then(parse_datetime) {
                    t = t.created(at);
                }
                t
            })
            .collect();
        out.sort_by(|a, b| (a.created, &a.id).cmp(&(b.created, &b.id)));
        Ok(out)
    }

    /// `POST sobjects/User/{id}/password {"NewPassword"}`: sent once.
    pub(crate) async fn set_password_of(&self, id: &AccountId, password: &Password) -> Result<()> {
        let sid = SfId::parse(id.as_str())?;
        if sid.prefix() != "005" {
            return Err(Error::invalid_input(format!(
                "{id} is not a Salesforce user id"
            )));
        }
        let http = self.client.http().await?;
        let mut body = Map::new();
        body.insert(
            "NewPassword".into(),
            json!(password.secret().expose_secret()),
        );
        let req = http
            .post(&format!("sobjects/User/{}/password", sid.as_str()))?
            .json(&Value::Object(body))?
            .retry_safe(false);
        http.send(req).await.map(|_| ())
    }
}
