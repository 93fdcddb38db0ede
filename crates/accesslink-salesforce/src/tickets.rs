//! The [`TicketingSystem`] implementation over `Case` (Service Cloud) or Remedyforce's
//! incident and change-request objects.

use std::collections::{HashMap, HashSet};

use accesslink_core::write::write_with_lookup;
use accesslink_core::{
    Comment, CorrelationId, Error, NewTicket, Person, Resolution, Result, Ticket, TicketKind,
    TicketRef, TicketingSystem, Visibility, async_trait,
};
use serde_json::{Map, Value, json};

use crate::connector::SalesforceConnector;
use crate::ids::{RecordRef, SfId};
use crate::models::{ProcessInstance, Record, Related};
use crate::settings::Profile;
use crate::soql::Soql;
use crate::status::{approval_of, status_of};

/// One ticket object of the profile and how its fields are named.
#[derive(Debug, Clone)]
pub(crate) struct Obj {
    pub(crate) name: String,
    pub(crate) kind: TicketKind,
    number: &'static str,
    pub(crate) fields: Vec<String>,
    /// The description field (Remedyforce; `Description` on cases).
    description: String,
}

impl SalesforceConnector {
    /// The ticket objects of the profile, the default one first.
    pub(crate) fn objects(&self) -> Vec<Obj> {
        let cf = self.settings.correlation_field.clone();
        match self.settings.profile {
            Profile::ServiceCloud => {
                let mut fields: Vec<String> = [
                    "Id",
                    "CaseNumber",
                    "Subject",
                    "Description",
                    "Status",
                    "IsClosed",
                    "Priority",
                    "Type",
                    "CreatedDate",
                    "LastModifiedDate",
                    "Contact.Name",
                    "Contact.Email",
                    "CreatedBy.Name",
                    "CreatedBy.Email",
                    "CreatedBy.Username",
                ]
                .into_iter()
                .map(str::to_owned)
                .collect();
                fields.push(cf);
                vec![Obj {
                    name: "Case".into(),
                    kind: TicketKind::Case,
                    number: "CaseNumber",
                    fields,
                    description: "Description".into(),
                }]
            }
            Profile::Remedyforce => {
                let r = &self.settings.remedyforce;
                let fields: Vec<String> = vec![
                    "Id".into(),
                    "Name".into(),
                    r.status_name_field.clone(),
                    r.open_field.clone(),
                    r.description_field.clone(),
                    "CreatedDate".into(),
                    "LastModifiedDate".into(),
                    "CreatedBy.Name".into(),
                    "CreatedBy.Email".into(),
                    "CreatedBy.Username".into(),
                    cf,
                ];
                let mut task_fields = fields.clone();
                for f in &mut task_fields {
                    if *f == r.description_field {
                        f.clone_from(&r.task_description_field);
                    }
                }
                vec![
                    Obj {
                        name: r.incident_object.clone(),
                        kind: TicketKind::Incident,
                        number: "Name",
                        fields: fields.clone(),
                        description: r.description_field.clone(),
                    },
                    Obj {
                        name: r.change_object.clone(),
                        kind: TicketKind::Change,
                        number: "Name",
                        fields,
                        description: r.description_field.clone(),
                    },
                    Obj {
                        name: r.task_object.clone(),
                        kind: TicketKind::Task,
                        number: "Name",
                        fields: task_fields,
                        description: r.task_description_field.clone(),
                    },
                ]
            }
        }
    }

    fn object_for(&self, kind: &TicketKind) -> Obj {
        let objs = self.objects();
        objs.iter()
            .find(|o| &o.kind == kind)
            .cloned()
            .unwrap_or_else(|| objs[0].clone())
    }

    fn select(&self, obj: &Obj) -> Result<Soql> {
        let f: Vec<&str> = obj.fields.iter().map(String::as_str).collect();
        Soql::select(&f, &obj.name)
    }

    /// Checks a correlation id before it reaches SOQL or a URL: 1-255 characters, no
    /// control characters.
    fn check_correlation(id: &CorrelationId) -> Result<&str> {
        let raw = id.as_str();
        if raw.is_empty() || raw.len() > 255 || raw.chars().any(char::is_control) {
            return Err(Error::invalid_input(
                "a Salesforce correlation id must be 1-255 characters without control characters",
            ));
        }
        Ok(raw)
    }

    fn correlation_of(&self, r: &Record) -> Option<String> {
        r.other
            .get(&self.settings.correlation_field)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    }

    fn number_of<'r>(&self, obj: &Obj, r: &'r Record) -> Option<&'r str> {
        match obj.number {
            "CaseNumber" => r.case_number.as_deref(),
            _ => r.name.as_deref(),
        }
    }

    /// Converts a record (and its latest approval status) to the common model.
    pub(crate) fn to_ticket(&self, obj: &Obj, r: &Record, approval: Option<&str>) -> Ticket {
        let rf = &self.settings.remedyforce;
        let (status_name, closed, title, description) = match self.settings.profile {
            Profile::ServiceCloud => (
                r.status.clone().unwrap_or_default(),
                r.is_closed,
                r.subject.clone().unwrap_or_default(),
                r.description.clone(),
            ),
            Profile::Remedyforce => {
                let desc = r
                    .other
                    .get(&obj.description)
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                (
                    r.other
                        .get(&rf.status_name_field)
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_owned(),
                    r.other
                        .get(&rf.open_field)
                        .and_then(Value::as_bool)
                        .map(|open| !open),
                    desc.as_deref()
                        .and_then(|d| d.lines().next())
                        .unwrap_or("")
                        .to_owned(),
                    desc,
                )
            }
        };
        let number = self.number_of(obj, r).unwrap_or(&r.id).to_owned();
        let reference = TicketRef::by_id_and_number(r.id.clone(), number);
        let mut t = Ticket::new(
            reference,
            obj.kind.clone(),
            title,
            status_of(&self.status_map, &status_name, closed),
        );
        t.description = description;
        t.requester = r
            .contact
            .as_ref()
            .filter(|c| c.email.is_some() || c.name.is_some())
            .or(r.created_by.as_ref())
            .map(person);
        t.priority = r.priority.clone();
        t.created = r.created_date.as_deref().and_then(parse_datetime);
        t.updated = r.last_modified_date.as_deref().and_then(parse_datetime);
        if let Some(base) = self.client.instance_url() {
            t.web_url = Some(format!("{base}/{}", r.id));
        }
        if self.settings.approvals {
            t.approval = Some(approval_of(&self.status_map, approval));
        }
        t.correlation_id = self.correlation_of(r).map(CorrelationId::new);
        let mut extra = Map::new();
        extra.insert("object".into(), json!(obj.name));
        if let Some(c) = closed {
            extra.insert("is_closed".into(), json!(c));
        }
        if let Some(a) = approval {
            extra.insert("process_instance_status".into(), json!(a));
        }
        t.extra = extra;
        t
    }

    /// The latest `ProcessInstance` status per record, one query for all of them.
    async fn approvals_for(&self, ids: &[String]) -> Result<HashMap<String, String>> {
        if !self.settings.approvals || ids.is_empty() {
            return Ok(HashMap::new());
        }
        let mut out = HashMap::new();
        for chunk in ids.chunks(self.settings.batch_size as usize) {
            let q = Soql::select(
                &["Id", "Status", "TargetObjectId", "CreatedDate"],
                "ProcessInstance",
            )?
            .in_list("TargetObjectId", chunk)?
            .order_by("CreatedDate", true)?;
            let rows: Vec<ProcessInstance> = self.client.query_all(&q).await?;
            let asked: HashSet<&str> = chunk.iter().map(String::as_str).collect();
            for p in rows {
                let (Some(target), Some(status)) = (p.target_object_id, p.status) else {
                    continue;
                };
                // Confirm the hit: only rows about a record asked for, latest first.
                if asked.contains(target.as_str()) {
                    out.entry(target).or_insert(status);
                }
            }
        }
        Ok(out)
    }

    /// Records of `obj` whose `field` is one of `values`, each hit confirmed.
    async fn records_where(
        &self,
        obj: &Obj,
        field: &str,
        values: &[String],
    ) -> Result<Vec<Record>> {
        let mut out = Vec::new();
        for chunk in values.chunks(self.settings.batch_size as usize) {
            let q = if chunk.len() == 1 {
                self.select(obj)?.eq(field, &chunk[0])?
            } else {
                self.select(obj)?.in_list(field, chunk)?
            };
            let rows: Vec<Record> = self.client.query_all(&q).await?;
            let asked: HashSet<&str> = chunk.iter().map(String::as_str).collect();
            out.extend(rows.into_iter().filter(|r| {
                let got = match field {
                    "Id" => Some(r.id.as_str()),
                    "CaseNumber" => r.case_number.as_deref(),
                    "Name" => r.name.as_deref(),
                    f => r.other.get(f).and_then(Value::as_str),
                };
                got.is_some_and(|g| asked.contains(g))
            }));
        }
        Ok(out)
    }

    pub(crate) async fn tickets_of(&self, found: Vec<(Obj, Record)>) -> Result<Vec<Ticket>> {
        let ids: Vec<String> = found.iter().map(|(_, r)| r.id.clone()).collect();
        let approvals = self.approvals_for(&ids).await?;
        Ok(found
            .iter()
            .map(|(o, r)| self.to_ticket(o, r, approvals.get(&r.id).map(String::as_str)))
            .collect())
    }

    pub(crate) async fn read(&self, r: &RecordRef) -> Result<Option<(Obj, Record)>> {
        for obj in self.objects() {
            let (field, value) = match r {
                RecordRef::Id(id) => {
                    if self.settings.profile == Profile::ServiceCloud && id.prefix() != "500" {
                        return Ok(None); // not a Case id: nothing to ask
                    }
                    ("Id", id.as_str().to_owned())
                }
                RecordRef::Number(n) => (obj.number, n.clone()),
            };
            let rows = self.records_where(&obj, field, &[value]).await?;
            if let Some(rec) = rows.into_iter().next() {
                return Ok(Some((obj, rec)));
            }
        }
        Ok(None)
    }

    async fn read_ticket(&self, r: &RecordRef) -> Result<Option<Ticket>> {
        let Some(found) = self.read(r).await? else {
            return Ok(None);
        };
        Ok(self.tickets_of(vec![found]).await?.into_iter().next())
    }

    async fn find(&self, id: &CorrelationId) -> Result<Option<(Obj, Record)>> {
        let raw = Self::check_correlation(id)?.to_owned();
        let field = self.settings.correlation_field.clone();
        for obj in self.objects() {
            let q = self
                .select(&obj)?
                .eq(&field, &raw)?
                .order_by("CreatedDate", false)?;
            let rows: Vec<Record> = self.client.query_all(&q).await?;
            let mut hits = rows
                .into_iter()
                .filter(|r| self.correlation_of(r).as_deref() == Some(raw.as_str()));
            if let Some(first) = hits.next() {
                if hits.next().is_some() {
                    tracing::warn!(
                        correlation = raw,
                        "several records carry one correlation id; using the oldest"
                    );
                }
                return Ok(Some((obj, first)));
            }
        }
        Ok(None)
    }

    fn create_body(&self, obj: &Obj, new: &NewTicket, with_correlation: bool) -> Value {
        let mut body = new.extra.clone();
        match self.settings.profile {
            Profile::ServiceCloud => {
                body.insert("Subject".into(), json!(new.title));
                body.insert("Description".into(), json!(new.description));
                if let Some(o) = &self.settings.case_origin {
                    body.insert("Origin".into(), json!(o));
                }
                if let Some(p) = &new.priority {
                    body.insert("Priority".into(), json!(p));
                }
                let contact = new
                    .requester
                    .as_ref()
                    .and_then(|p| p.id.as_deref())
                    .and_then(|id| SfId::parse(id).ok())
                    .filter(|id| id.prefix() == "003");
                if let Some(c) = contact {
                    body.insert("ContactId".into(), json!(c.as_str()));
                }
            }
            Profile::Remedyforce => {
                body.insert(
                    obj.description.clone(),
                    json!(format!("{}\n\n{}", new.title, new.description)),
                );
            }
        }
        if with_correlation {
            body.insert(
                self.settings.correlation_field.clone(),
                json!(new.correlation_id.as_str()),
            );
        }
        Value::Object(body)
    }

    /// The Remedyforce status record id for a status name.
    async fn remedyforce_status(&self, name: &str) -> Result<SfId> {
        let rf = &self.settings.remedyforce;
        let q = Soql::select(&["Id", "Name"], &rf.status_object)?.eq("Name", name)?;
        let rows: Vec<Record> = self.client.query_all(&q).await?;
        let hit = rows
            .into_iter()
            .find(|r| {
                r.name
                    .as_deref()
                    .is_some_and(|n| n.eq_ignore_ascii_case(name))
            })
            .ok_or_else(|| {
                Error::invalid_input(format!(
                    "no {} named {name:?} in this org",
                    rf.status_object
                ))
            })?;
        SfId::parse(&hit.id)
    }
}

fn person(r: &Related) -> Person {
    Person {
        id: r.id.clone(),
        login: r.username.clone(),
        name: r.name.clone(),
        email: r.email.clone().filter(|e| !e.is_empty()),
    }
}

/// `2024-05-02T10:01:53.000+0000` → a time.
pub(crate) fn parse_datetime(s: &str) -> Option<std::time::SystemTime> {
    let date_time = s.get(..19)?.replacen('T', " ", 1);
    let rest = s.get(19..)?;
    let rest = rest.trim_start_matches(|c: char| c == '.' || c.is_ascii_digit());
    let offset = match rest {
        "" | "Z" => 0,
        o => {
            let sign = if o.starts_with('-') { -1 } else { 1 };
            let digits: String = o.chars().filter(char::is_ascii_digit).collect();
            if digits.len() != 4 {
                return None;
            }
            let h: i32 = digits[..2].parse().ok()?;
            let m: i32 = digits[2..].parse().ok()?;
            sign * (h * 60 + m)
        }
    };
    accesslink_core::time::parse_local_datetime(&date_time, offset)
}

pub(crate) fn record_ref(r: &TicketRef) -> Result<RecordRef> {
    if let Some(id) = r.id() {
        return SfId::parse(id).map(RecordRef::Id);
    }
    match r.number() {
        Some(n) => RecordRef::parse(n),
        None => Err(Error::invalid_input(
            "a ticket reference needs an id or a number",
        )),
    }
}

#[async_trait]
impl TicketingSystem for SalesforceConnector {
    /// A ticket number (`00001026`, digits) or a 15/18-character record id (checksum
    /// checked); see [`crate::ids`].
    fn parse_ticket_ref(&self, raw: &str) -> Result<TicketRef> {
        Ok(match RecordRef::parse(raw)? {
            RecordRef::Id(id) => TicketRef::by_id(id.as_str()),
            RecordRef::Number(n) => TicketRef::by_number(n),
        })
    }

    /// With `correlation_is_external_id`, an upsert on the External ID field (the
    /// vendor's own idempotency); otherwise the correlation field is looked up, the
    /// record created when there is none, and looked up again after an ambiguous
    /// failure ([`write_with_lookup`]). The record is read back.
    async fn create_ticket(&self, new: &NewTicket) -> Result<Ticket> {
        let raw = Self::check_correlation(&new.correlation_id)?.to_owned();
        let obj = self.object_for(&new.kind);
        if self.settings.correlation_is_external_id {
            let body = self.create_body(&obj, new, false);
            self.client
                .upsert(&obj.name, &self.settings.correlation_field, &raw, &body)
                .await?;
        } else {
            if let Some(found) = self.find(&new.correlation_id).await? {
                return Ok(self.tickets_of(vec![found]).await?.remove(0));
            }
            let retry = self.client.retry_config().clone();
            let body = self.create_body(&obj, new, true);
            write_with_lookup(
                &retry,
                "create salesforce record",
                |_| self.client.create(&obj.name, &body),
                || async { Ok(self.find(&new.correlation_id).await?.map(|(_, r)| r.id)) },
            )
            .await?;
        }
        let found = self.find(&new.correlation_id).await?.ok_or_else(|| {
            Error::protocol(
                "salesforce create",
                "the new record cannot be found by its correlation id",
            )
        })?;
        Ok(self.tickets_of(vec![found]).await?.remove(0))
    }

    async fn find_by_correlation(&self, id: &CorrelationId) -> Result<Option<Ticket>> {
        let Some(found) = self.find(id).await? else {
            return Ok(None);
        };
        Ok(self.tickets_of(vec![found]).await?.into_iter().next())
    }

    /// One SOQL query by `Id` or number; the hit is confirmed against what was asked.
    async fn get_ticket(&self, r: &TicketRef) -> Result<Option<Ticket>> {
        let r = record_ref(r)?;
        self.read_ticket(&r).await
    }

    /// One SOQL `IN` per batch of ids and per batch of numbers (per object), and one
    /// `ProcessInstance` query per batch; every hit confirmed.
    async fn get_tickets(&self, refs: &[TicketRef]) -> Result<Vec<Ticket>> {
        let parsed = refs.iter().map(record_ref).collect::<Result<Vec<_>>>()?;
        let mut ids = Vec::new();
        let mut numbers = Vec::new();
        let mut seen = HashSet::new();
        for r in parsed {
            if seen.insert(r.clone()) {
                match r {
                    RecordRef::Id(id) => {
                        if self.settings.profile == Profile::Remedyforce || id.prefix() == "500" {
                            ids.push(id.as_str().to_owned());
                        }
                    }
                    RecordRef::Number(n) => numbers.push(n),
                }
            }
        }
        let mut found: Vec<(Obj, Record)> = Vec::new();
        let mut got = HashSet::new();
        for obj in self.objects() {
            for (field, list) in [("Id", &ids), (obj.number, &numbers)] {
                if list.is_empty() {
                    continue;
                }
                for rec in self.records_where(&obj, field, list).await? {
                    if got.insert(rec.id.clone()) {
                        found.push((obj.clone(), rec));
                    }
                }
            }
        }
        self.tickets_of(found).await
    }

    /// Service Cloud: a `CaseComment` (`IsPublished` = public). Remedyforce: a Chatter
    /// `FeedItem` (`Visibility` `AllUsers` or `InternalUsers`). Sent once.
    async fn add_comment(&self, r: &TicketRef, c: &Comment) -> Result<()> {
        let r = record_ref(r)?;
        let (_, rec) = self
            .read(&r)
            .await?
            .ok_or_else(|| Error::not_found(format!("salesforce record {r:?}")))?;
        let public = c.visibility != Visibility::Internal;
        match self.settings.profile {
            Profile::ServiceCloud => {
                self.client
                    .create(
                        "CaseComment",
                        &json!({"ParentId": rec.id, "CommentBody": c.body, "IsPublished": public}),
                    )
                    .await?;
            }
            Profile::Remedyforce => {
                let vis = if public { "AllUsers" } else { "InternalUsers" };
                self.client
                    .create(
                        "FeedItem",
                        &json!({"ParentId": rec.id, "Body": c.body, "Visibility": vis}),
                    )
                    .await?;
            }
        }
        Ok(())
    }

    /// Keyset pages over `LastModifiedDate, Id` with the watermark as
    /// `LastModifiedDate >= <second>`; scope `owner:<queue or user>` or
    /// `record_type:<DeveloperName>` (see [`crate::intake`]).
    async fn list_tickets(
        &self,
        query: &accesslink_core::TicketQuery,
        page: accesslink_core::PageRequest,
    ) -> Result<accesslink_core::Page<Ticket>> {
        self.list_tickets_page(query, page).await
    }

    /// `CaseComment`s (`IsPublished` = public) or `FeedItem`s (`Visibility`), oldest
    /// first.
    async fn list_comments(&self, r: &TicketRef) -> Result<Vec<accesslink_core::TicketComment>> {
        self.comments_of(r).await
    }

    /// `GET sobjects/{Object}/describe`; picklist values are the allowed values.
    async fn ticket_schema(&self, kind: &TicketKind) -> Result<accesslink_core::ObjectSchema> {
        self.ticket_schema_of(kind).await
    }

    /// Sets the configured closed status (Remedyforce: the status lookup found by name),
    /// adds the notes as a private comment, and reads the record back: it must then be
    /// closed by its own flag (`IsClosed`, or the open flag false).
    async fn close_ticket(&self, r: &TicketRef, how: &Resolution) -> Result<Ticket> {
        let r = record_ref(r)?;
        let (obj, rec) = self
            .read(&r)
            .await?
            .ok_or_else(|| Error::not_found(format!("salesforce record {r:?}")))?;
        let current = self
            .tickets_of(vec![(obj.clone(), rec.clone())])
            .await?
            .remove(0);
        if current.status.state.is_terminal() {
            return Ok(current);
        }
        let id = SfId::parse(&rec.id)?;
        if !how.notes.is_empty() {
            let tr = TicketRef::by_id(id.as_str());
            self.add_comment(&tr, &Comment::internal(how.notes.clone()))
                .await?;
        }
        let body = match self.settings.profile {
            Profile::ServiceCloud => {
                let status = if how.successful {
                    self.settings.closed_status.clone()
                } else {
                    self.settings
                        .failed_status
                        .clone()
                        .unwrap_or_else(|| self.settings.closed_status.clone())
                };
                json!({ "Status": status })
            }
            Profile::Remedyforce => {
                let rf = &self.settings.remedyforce;
                let sid = self.remedyforce_status(&rf.closed_status).await?;
                json!({ rf.status_field.clone(): sid.as_str() })
            }
        };
        self.client.update(&obj.name, &id, &body).await?;
        let after = self
            .read_ticket(&RecordRef::Id(id))
            .await?
            .ok_or_else(|| Error::not_found(format!("salesforce record {r:?}")))?;
        if after.extra.get("is_closed") != Some(&json!(true)) {
            return Err(Error::protocol(
                "salesforce close",
                format!(
                    "the record is not closed after setting {body} (is that value flagged closed in the org?)"
                ),
            ));
        }
        Ok(after)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datetimes() {
        let a = parse_datetime("2024-05-02T10:01:53.000+0000").unwrap();
        let b = parse_datetime("2024-05-02T12:01:53.000+0200").unwrap();
        assert_eq!(a, b);
        assert!(parse_datetime("yesterday").is_none());
    }
}
