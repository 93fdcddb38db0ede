//! The `TicketingSystem` implementation: incidents (create, get, batched get, actions,
//! close, listing and comments read back: `intake.rs`) and operator changes (create,
//! get with their authorization status as the approval, memos, close:
//! `changes.rs`).

use std::collections::HashSet;

use accesslink_core::schema::ObjectSchema;
use accesslink_core::write::write_with_lookup;
use accesslink_core::{
    Comment, CorrelationId, Error, ErrorKind, NewTicket, Page, PageRequest, Resolution, Result,
    Ticket, TicketComment, TicketKind, TicketQuery, TicketRef, TicketingSystem, Visibility,
    async_trait, redact,
};
use serde_json::{Map, Value, json};

use crate::api::ListParams;
use crate::connector::TopdeskConnector;
use crate::fiql::{Fiql, Value as FiqlValue};
use crate::models::{Incident, Named, NewIncident, OperatorChange, parse_date};
use crate::refs::{NumberStyle, TicketNumber, require_uuid, uuid};
use crate::status::{change_approval, change_status, incident_status};

/// The scope of incident references.
pub const INCIDENT: &str = "incident";
/// The scope of operator change references.
pub const CHANGE: &str = "change";
/// TOPdesk keeps 80 characters of a brief description.
const MAX_TITLE: usize = 80;
/// TOPdesk keeps 60 characters of an external number.
const MAX_EXTERNAL_NUMBER: usize = 60;

/// What a reference names, checked.
enum Target {
    IncidentId(String),
    IncidentNumber(String),
    Change(String),
}

impl TopdeskConnector {
    /// Checks a reference again (its fields are public) and says what it names.
    fn target(&self, r: &TicketRef) -> Result<Target> {
        let is_change = r.scope().is_some_and(|s| s.eq_ignore_ascii_case(CHANGE))
            || r.number().is_some_and(|n| n.trim().starts_with(['C', 'c']));
        if is_change {
            if let Some(id) = r.id() {
                return Ok(Target::Change(require_uuid(id, "change id")?));
            }
            let n = TicketNumber::parse(r.number().unwrap_or(""), 'C')?;
            return Ok(Target::Change(n.render(NumberStyle::Compact)));
        }
        if let Some(id) = r.id() {
            return Ok(Target::IncidentId(require_uuid(id, "incident id")?));
        }
        let n = TicketNumber::parse(r.number().unwrap_or(""), 'I')?;
        Ok(Target::IncidentNumber(n.render(self.settings.number_style)))
    }

    fn same_number(&self, a: &str, b: &str) -> bool {
        let style = self.settings.number_style;
        match (TicketNumber::parse(a, 'I'), TicketNumber::parse(b, 'I')) {
            (Ok(a), Ok(b)) => a.render(style) == b.render(style),
            _ => a == b,
        }
    }

    /// The incident a reference names.
    async fn incident(&self, r: &TicketRef) -> Result<Option<Incident>> {
        match self.target(r)? {
            Target::IncidentId(id) => self.client.incidents().get_opt(&id).await,
            Target::IncidentNumber(n) => {
                let found = self.client.incidents().get_by_number_opt(&n).await?;
                if let Some(i) = &found {
                    if !self.same_number(&i.number, &n) {
                        return Err(Error::protocol(
                            "GET /tas/api/incidents/number",
                            format!("asked for incident {n}, got {}", i.number),
                        ));
                    }
                }
                Ok(found)
            }
            Target::Change(_) => Err(Error::invalid_input(format!(
                "{r} names an operator change, not an incident"
            ))),
        }
    }

    /// The UUID of the incident a reference names (read by number when it has no id).
    pub(crate) async fn incident_id(&self, r: &TicketRef) -> Result<String> {
        match self.target(r)? {
            Target::IncidentId(id) => Ok(id),
            Target::Change(_) => Err(Error::Unsupported {
                operation: "reading an operator change's progress trail",
                target: "topdesk",
            }),
            Target::IncidentNumber(_) => Ok(self.required_incident(r).await?.id),
        }
    }

    async fn required_incident(&self, r: &TicketRef) -> Result<Incident> {
        self.incident(r)
            .await?
            .ok_or_else(|| Error::not_found(format!("TOPdesk incident {r}")))
    }

    /// The incident as a core ticket.
    pub fn incident_ticket(&self, i: Incident) -> Ticket {
        let reference = TicketRef::by_id_and_number(&i.id, &i.number).with_scope(INCIDENT);
        let status = incident_status(&self.states, &i);
        let mut t = Ticket::new(
            reference,
            TicketKind::Incident,
            i.brief_description.clone().unwrap_or_default(),
            status,
        );
        t.description = i.request.clone();
        t.requester = i.caller.as_ref().map(|c| accesslink_core::Person {
            id: c.id.clone(),
            login: None,
            name: c.dynamic_name.clone(),
            email: c.email.clone(),
        });
        t.assignee = i.operator.as_ref().and_then(|o| {
            o.name.as_ref().map(|n| accesslink_core::Person {
                id: o.id.clone(),
                name: Some(n.clone()),
                ..Default::default()
            })
        });
        t.priority = i.priority.as_ref().and_then(|p| p.name.clone());
        t.created = i.creation_date.as_deref().and_then(parse_date);
        t.updated = i.modification_date.as_deref().and_then(parse_date);
        t.web_url = self.web_url("incident", &i.id);
        t.resolution = if i.closed || i.completed {
            i.closure_code.as_ref().and_then(|c| c.name.clone())
        } else {
            None
        };
        t.correlation_id = i
            .external_number
            .clone()
            .filter(|e| !e.is_empty())
            .map(CorrelationId::new);
        let mut extra = i.other;
        for (k, v) in [
            ("status", json!(i.status)),
            ("closed", json!(i.closed)),
            ("completed", json!(i.completed)),
            ("onHold", json!(i.on_hold)),
            ("processingStatus", json!(i.processing_status)),
            ("closureCode", json!(i.closure_code)),
            ("operatorGroup", json!(i.operator_group)),
        ] {
            extra.insert(k.into(), v);
        }
        t.extra = extra;
        t
    }

    /// The operator change as a core ticket, its authorization status as the approval.
    pub fn change_ticket(&self, c: OperatorChange) -> Ticket {
        let reference = TicketRef::by_id_and_number(&c.id, &c.number).with_scope(CHANGE);
        let status = change_status(&self.states, &c);
        let approval = change_approval(&self.states, &c);
        let mut t = Ticket::new(
            reference,
            TicketKind::Change,
            c.brief_description.clone().unwrap_or_default(),
            status,
        );
        t.approval = Some(approval);
        t.requester = c.requester.as_ref().map(|p| accesslink_core::Person {
            id: p.id.clone(),
            login: None,
            name: p.dynamic_name.clone(),
            email: p.email.clone(),
        });
        t.correlation_id = c
            .external_number
            .clone()
            .filter(|e| !e.is_empty())
            .map(CorrelationId::new);
        t.description = c.request.clone();
        t.updated = c.modification_date.as_deref().and_then(parse_date);
        t.web_url = self.web_url("newchange", &c.id);
        let mut extra = c.other;
        extra.insert("phase".into(), json!(c.phase));
        extra.insert("changeType".into(), json!(c.change_type));
        extra.insert("authorizationStatus".into(), json!(c.authorization_status));
        t.extra = extra;
        t
    }

    /// A link for people (UNVERIFIED form: `/tas/secure/<module>?unid=<id>`).
    fn web_url(&self, module: &str, id: &str) -> Option<String> {
        let mut url = self.settings.base_url.clone();
        let path = format!("{}/tas/secure/{module}", url.path().trim_end_matches('/'));
        url.set_path(&path);
        url.set_query(Some(&format!("unid={id}")));
        Some(url.into())
    }

    /// Reads the caller's login (`tasLoginName`) from their person record.
    async fn with_caller_login(&self, mut t: Ticket) -> Result<Ticket> {
        let person_id = t
            .requester
            .as_ref()
            .and_then(|p| p.id.as_deref())
            .and_then(uuid);
        if let Some(id) = person_id {
            if let Some(p) = self.client.persons().get_opt(&id).await? {
                if let Some(req) = t.requester.as_mut() {
                    req.login = p.tas_login_name.filter(|l| !l.is_empty());
                    if req.email.is_none() {
                        req.email = p.email;
                    }
                }
            }
        }
        Ok(t)
    }

    /// Incidents whose `externalNumber` is `id`, checked (the server's filter is not
    /// trusted to be exact).
    async fn find_incident(&self, id: &CorrelationId) -> Result<Option<Incident>> {
        let q = Fiql::eq("externalNumber", FiqlValue::text(id.as_str())?);
        let page = self
            .client
            .incidents()
            .list(0, 10, &ListParams::new().query(q).sort("creationDate:asc"))
            .await?;
        let mut hits = page
            .items
            .into_iter()
            .filter(|i| i.external_number.as_deref() == Some(id.as_str()));
        let first = hits.next();
        if hits.next().is_some() {
            tracing::warn!(correlation_id = %id, "several TOPdesk incidents carry this external number; using the oldest");
        }
        Ok(first)
    }

    /// The caller of a new incident: `{"id"}` or `{"email"}`, or a person found by login.
    async fn caller_lookup(&self, new: &NewTicket) -> Result<Option<Value>> {
        let Some(p) = &new.requester else {
            return Ok(None);
        };
        if let Some(id) = p.id.as_deref().and_then(uuid) {
            return Ok(Some(json!({ "id": id })));
        }
        if let Some(email) = &p.email {
            FiqlValue::text(email)?; // same checks as a query value: no control characters
            return Ok(Some(json!({ "email": email })));
        }
        if let Some(login) = &p.login {
            let q = Fiql::eq("tasLoginName", FiqlValue::text(login)?);
            let page = self
                .client
                .persons()
                .list(0, 2, &ListParams::new().query(q))
                .await?;
            let person = page
                .items
                .into_iter()
                .find(|x| {
                    x.tas_login_name
                        .as_deref()
                        .is_some_and(|l| l.eq_ignore_ascii_case(login))
                })
                .ok_or_else(|| {
                    Error::not_found(format!(
                        "TOPdesk person with login {login:?} (the requester)"
                    ))
                })?;
            return Ok(Some(json!({ "id": person.id })));
        }
        Ok(None)
    }

    fn new_incident(&self, new: &NewTicket) -> Result<NewIncident> {
        if !matches!(new.kind, TicketKind::Incident | TicketKind::Request) {
            return Err(Error::Unsupported {
                operation: "creating tickets other than incidents",
                target: "topdesk",
            });
        }
        let title = new.title.trim();
        if title.is_empty() {
            return Err(Error::invalid_input("a TOPdesk incident needs a title"));
        }
        let (brief, request) = if title.chars().count() > MAX_TITLE {
            let cut: String = title.chars().take(MAX_TITLE - 1).collect();
            (format!("{cut}…"), format!("{title}\n\n{}", new.description))
        } else {
            (title.to_owned(), new.description.clone())
        };
        let mut incident = NewIncident {
            status: self.settings.incident_status.clone(),
            brief_description: brief,
            request: Some(request).filter(|r| !r.is_empty()),
            operator_group: self.settings.operator_group.clone().map(Named::id),
            priority: new.priority.clone().map(Named::name),
            external_number: new.correlation_id.as_str().to_owned(),
            ..NewIncident::default()
        };
        let reserved = [
            "externalNumber",
            "briefDescription",
            "status",
            "callerLookup",
            "caller",
        ];
        let mut extra = Map::new();
        for (k, v) in &new.extra {
            if reserved.contains(&k.as_str()) {
                return Err(Error::invalid_input(format!(
                    "extra field {k:?} is set by the connector"
                )));
            }
            extra.insert(k.clone(), v.clone());
        }
        incident.extra = extra;
        Ok(incident)
    }

    pub(crate) fn invisible(&self, c: &Comment) -> bool {
        self.settings
            .comments_invisible_for_caller
            .unwrap_or(c.visibility == Visibility::Internal)
    }
}

#[async_trait]
impl TicketingSystem for TopdeskConnector {
    /// Accepts incident numbers (`I 2405 123`, `I2405-123`, `I-250520-058`: spaces and
    /// dashes normalised to the tenant's `number_style`), change numbers (`C1810-005`)
    /// and incident UUIDs.
    fn parse_ticket_ref(&self, raw: &str) -> Result<TicketRef> {
        let s = raw.trim();
        if let Some(id) = uuid(s) {
            return Ok(TicketRef::by_id(id).with_scope(INCIDENT));
        }
        if s.starts_with(['C', 'c']) {
            let n = TicketNumber::parse(s, 'C')?;
            return Ok(TicketRef::by_number(n.render(NumberStyle::Compact)).with_scope(CHANGE));
        }
        let n = TicketNumber::parse(s, 'I')?;
        Ok(TicketRef::by_number(n.render(self.settings.number_style)).with_scope(INCIDENT))
    }

    /// Incidents (kinds incident and request) and operator changes (kind change), each
    /// idempotent on `externalNumber`.
    async fn create_ticket(&self, new: &NewTicket) -> Result<Ticket> {
        new.correlation_id.check_plain()?;
        // `externalNumber` holds 60 characters (IncidentCreateBody, vendor API description).
        if new.correlation_id.as_str().len() > MAX_EXTERNAL_NUMBER {
            return Err(Error::invalid_input(format!(
                "a TOPdesk externalNumber holds {MAX_EXTERNAL_NUMBER} characters; the correlation id has {}",
                new.correlation_id.as_str().len()
            )));
        }
        if new.kind == TicketKind::Change {
            return self.create_change(new).await;
        }
        let mut body = self.new_incident(new)?;
        if let Some(existing) = self.find_incident(&new.correlation_id).await? {
            tracing::info!(correlation_id = %new.correlation_id, number = %existing.number, "incident already exists");
            return Ok(self.incident_ticket(existing));
        }
        body.caller_lookup = self.caller_lookup(new).await?;
        let body = &body;
        let written = write_with_lookup(
            self.client.retry_config(),
            "topdesk create incident",
            |_| async move { self.client.incidents().create(body).await },
            || self.find_incident(&new.correlation_id),
        )
        .await?;
        Ok(self.incident_ticket(written.into_inner()))
    }

    /// An incident with this `externalNumber`, else an operator change with it. An
    /// operator without rights on changes (403), or a server without the change API
    /// (404), sees no changes: that look-up is then `None`, not an error.
    async fn find_by_correlation(&self, id: &CorrelationId) -> Result<Option<Ticket>> {
        id.check_plain()?;
        if let Some(i) = self.find_incident(id).await? {
            return Ok(Some(self.incident_ticket(i)));
        }
        match self.find_change(id).await {
            Ok(c) => Ok(c.map(|c| self.change_ticket(c))),
            Err(e) if matches!(e.kind(), ErrorKind::PermissionDenied | ErrorKind::NotFound) => {
                tracing::debug!(error = %e, "no access to operator changes; looked at incidents only");
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    async fn get_ticket(&self, r: &TicketRef) -> Result<Option<Ticket>> {
        if let Target::Change(key) = self.target(r)? {
            return match self.client.operator_changes().get_opt(&key).await? {
                Some(c) => Ok(Some(self.with_caller_login(self.change_ticket(c)).await?)),
                None => Ok(None),
            };
        }
        match self.incident(r).await? {
            Some(i) => Ok(Some(self.with_caller_login(self.incident_ticket(i)).await?)),
            None => Ok(None),
        }
    }

    /// Incident numbers are read with one `GET /incidents?query=number=in=(…)` per
    /// `batch_size` numbers (each hit checked against what was asked); ids and changes
    /// one by one. Callers' logins are not read here.
    async fn get_tickets(&self, refs: &[TicketRef]) -> Result<Vec<Ticket>> {
        let mut numbers = Vec::new();
        let mut singles = Vec::new();
        for r in refs {
            match self.target(r)? {
                Target::IncidentNumber(n) => numbers.push(n),
                // A reference with both: the number batches, the id is checked anyway.
                Target::IncidentId(_) if r.number().is_some() => {
                    let n = TicketNumber::parse(r.number().unwrap_or(""), 'I')?;
                    numbers.push(n.render(self.settings.number_style));
                }
                _ => singles.push(r),
            }
        }
        let mut seen = HashSet::new();
        numbers.retain(|n| seen.insert(n.clone()));
        let mut out = Vec::with_capacity(refs.len());
        for batch in numbers.chunks(self.settings.batch_size) {
            let values = batch
                .iter()
                .map(|n| FiqlValue::text(n))
                .collect::<Result<Vec<_>>>()?;
            let params = ListParams::new().query(Fiql::is_in("number", values)?);
            let size = u32::try_from(batch.len()).unwrap_or(u32::MAX);
            let mut start = 0;
            loop {
                let page = self.client.incidents().list(start, size, &params).await?;
                for i in &page.items {
                    if !batch.iter().any(|n| self.same_number(&i.number, n)) {
                        return Err(Error::protocol(
                            "GET /tas/api/incidents",
                            format!(
                                "the number=in=(…) query returned incident {} that was not asked for: the server did not apply the filter",
                                redact::truncate(&i.number, 40)
                            ),
                        ));
                    }
                }
                start += page.items.len() as u64;
                let more = page.more;
                out.extend(page.items.into_iter().map(|i| self.incident_ticket(i)));
                if !more {
                    break;
                }
            }
        }
        for r in singles {
            let t = match self.target(r)? {
                Target::Change(key) => self
                    .client
                    .operator_changes()
                    .get_opt(&key)
                    .await?
                    .map(|c| self.change_ticket(c)),
                _ => self.incident(r).await?.map(|i| self.incident_ticket(i)),
            };
            out.extend(t);
        }
        Ok(out)
    }

    /// An action on the incident (`invisibleForCaller` from the comment's visibility,
    /// or forced by `comments_invisible_for_caller`). Never sent twice: a lost answer is
    /// an error, not a retry.
    async fn add_comment(&self, r: &TicketRef, c: &Comment) -> Result<()> {
        if c.body.trim().is_empty() {
            return Err(Error::invalid_input("a TOPdesk action needs text"));
        }
        let id = match self.target(r)? {
            Target::IncidentId(id) => id,
            Target::Change(key) => return self.comment_change(&key, c).await,
            Target::IncidentNumber(_) => self.required_incident(r).await?.id,
        };
        self.client
            .incidents()
            .add_action(&id, &c.body, self.invisible(c))
            .await?;
        Ok(())
    }

    /// Closes with the configured processing status and closure code (and the
    /// `completed`/`closed` flags unless turned off), after the notes as an action; then
    /// reads the incident back: only its `closed` flag says it is closed. An incident
    /// closed already is returned as it is.
    async fn close_ticket(&self, r: &TicketRef, how: &Resolution) -> Result<Ticket> {
        if let Target::Change(key) = self.target(r)? {
            return self.close_change(&key, how).await;
        }
        let incident = self.required_incident(r).await?;
        let partial_done = incident.completed && incident.status.as_deref() == Some("partial");
        if incident.closed || incident.archived() || partial_done {
            return Ok(self.incident_ticket(incident));
        }
        let close = &self.settings.close;
        if !how.notes.trim().is_empty() {
            self.client
                .incidents()
                .add_action(&incident.id, &how.notes, false)
                .await?;
        }
        let code = how.code.clone().or_else(|| {
            if how.successful {
                close.closure_code.clone()
            } else {
                close
                    .failed_closure_code
                    .clone()
                    .or_else(|| close.closure_code.clone())
            }
        });
        let mut body = Map::new();
        if let Some(ps) = &close.processing_status {
            body.insert("processingStatus".into(), json!({ "name": ps }));
        }
        if let Some(code) = code {
            body.insert("closureCode".into(), json!({ "name": code }));
        }
        if close.send_flags {
            body.insert("completed".into(), json!(true));
            body.insert("closed".into(), json!(true));
        }
        self.client
            .incidents()
            .patch(&incident.id, &Value::Object(body))
            .await?;
        let after = self
            .client
            .incidents()
            .get_opt(&incident.id)
            .await?
            .ok_or_else(|| Error::not_found(format!("TOPdesk incident {r} (after closing)")))?;
        // Partial incidents ignore `closed`: `completed` is their end (fact sheet §3.3).
        let partial = after.status.as_deref() == Some("partial");
        if !(after.closed || (partial && after.completed)) {
            return Err(Error::protocol(
                "PATCH /tas/api/incidents/id",
                format!(
                    "incident {} is not closed after the close request (closed=false, completed={}); check the close settings against the tenant's processing statuses",
                    after.number, after.completed
                ),
            ));
        }
        Ok(self.incident_ticket(after))
    }

    /// Incidents only (see `intake.rs`): `modificationDate=ge=` with the watermark,
    /// sorted by update time; scope `category:<name>` or `operator_group:<uuid or name>`.
    async fn list_tickets(&self, query: &TicketQuery, page: PageRequest) -> Result<Page<Ticket>> {
        self.list_incidents(query, page).await
    }

    /// An incident's progress trail (text entries), oldest first; operator changes are
    /// `Unsupported`.
    async fn list_comments(&self, r: &TicketRef) -> Result<Vec<TicketComment>> {
        self.incident_comments(r).await
    }

    /// Incidents (allowed values from the search lists) and operator changes (fixed).
    async fn ticket_schema(&self, kind: &TicketKind) -> Result<ObjectSchema> {
        self.schema_of(kind).await
    }
}
