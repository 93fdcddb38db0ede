//! The [`TicketingSystem`] implementation: requests and changes as tickets.

use std::collections::HashSet;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use accesslink_core::feed::TicketQuery;
use accesslink_core::schema::ObjectSchema;
use accesslink_core::write::write_with_lookup;
use accesslink_core::{
    Comment, CorrelationId, Error, NewTicket, Page, PageRequest, Person, Resolution, Result,
    Ticket, TicketComment, TicketKind, TicketRef, TicketingSystem, Visibility, async_trait,
};
use serde_json::{Map, Value, json};

use crate::connector::SdpConnector;
use crate::input::Criteria;
use crate::models::{self, User};
use crate::refs::{Entity, SdpRef};
use crate::status::{approval_of, status_of};

/// Pages read at most for one look-up: a server repeating pages cannot keep us reading.
const MAX_PAGES: usize = 20;

fn person(u: &User) -> Person {
    Person {
        id: u.id.clone(),
        login: u.login_name.clone(),
        name: u.name.clone(),
        email: u.email_id.clone(),
    }
}

fn time(t: Option<&models::Time>) -> Option<SystemTime> {
    t.and_then(|t| t.value)
        .map(|ms| UNIX_EPOCH + Duration::from_millis(ms))
}

impl SdpConnector {
    fn default_entity(&self) -> Entity {
        self.settings.default_entity.into()
    }

    fn entity_for(kind: &TicketKind) -> Entity {
        match kind {
            TicketKind::Change => Entity::Change,
            _ => Entity::Request,
        }
    }

    /// The subject tag that carries a correlation id when no UDF is configured:
    /// `[accesslink:<id>]`.
    pub fn correlation_tag(&self, id: &CorrelationId) -> Result<String> {
        let raw = id.as_str();
        if raw.is_empty()
            || raw.chars().count() > 200
            || raw
                .chars()
                .any(|c| c.is_control() || matches!(c, '[' | ']'))
        {
            return Err(Error::invalid_input(
                "an SDP correlation id must be 1-200 characters without control characters or brackets",
            ));
        }
        Ok(format!("[{}:{raw}]", self.settings.correlation_tag))
    }

    fn correlation_of(&self, row: &models::Ticket) -> Option<String> {
        match &self.settings.correlation_udf {
            Some(udf) => row.udf(udf),
            None => {
                let prefix = format!("[{}:", self.settings.correlation_tag);
                let title = row.title_text();
                let at = title.rfind(&prefix)?;
                let rest = &title[at + prefix.len()..];
                rest.find(']').map(|end| rest[..end].to_owned())
            }
        }
    }

    pub(crate) fn in_scope(&self, row: &models::Ticket) -> bool {
        match self.settings.deployment.account() {
            None => true,
            Some(account) => row.account.as_ref().and_then(|a| a.name.as_deref()) == Some(account),
        }
    }

    pub(crate) fn scoped(&self, c: Criteria) -> Result<Criteria> {
        match self.settings.deployment.account() {
            Some(a) => c.is("account.name", a),
            None => Ok(c),
        }
    }

    pub(crate) fn to_ticket(&self, entity: Entity, row: &models::Ticket) -> Ticket {
        let status = status_of(&self.status_map, row);
        let approval = approval_of(&self.status_map, entity, row, status.state);
        let reference = SdpRef {
            entity,
            id: Some(row.id.clone()),
            display_id: Some(row.display_id.clone().unwrap_or_else(|| row.id.clone())),
        }
        .to_ticket_ref();
        let kind = match entity {
            Entity::Change => TicketKind::Change,
            Entity::Request => match row
                .rest
                .get("request_type")
                .and_then(|t| t.get("name"))
                .and_then(Value::as_str)
            {
                Some(t) if t.eq_ignore_ascii_case("incident") => TicketKind::Incident,
                _ => TicketKind::Request,
            },
        };
        let mut t = Ticket::new(reference, kind, row.title_text().to_owned(), status);
        t.description = row.description.clone();
        t.requester = row
            .requester
            .as_ref()
            .or(row.change_requester.as_ref())
            .map(person);
        t.assignee = row
            .technician
            .as_ref()
            .or(row.change_owner.as_ref())
            .map(person);
        t.priority = row.priority.as_ref().and_then(|p| p.name.clone());
        t.created = time(row.created_time.as_ref());
        t.updated = time(row.last_updated_time.as_ref());
        t.approval = Some(approval);
        t.resolution = row
            .closure_info
            .as_ref()
            .and_then(|c| c.get("closure_code"))
            .and_then(|c| c.get("name"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        t.correlation_id = self.correlation_of(row).map(CorrelationId::new);
        if let Some(stage) = row.stage.as_ref().and_then(|s| s.name.clone()) {
            t.extra.insert("stage".into(), json!(stage));
        }
        if let Some(a) = row.account.as_ref().and_then(|a| a.name.clone()) {
            t.extra.insert("account".into(), json!(a));
        }
        t.extra.insert("entity".into(), json!(entity.key()));
        t
    }

    /// Whether a row is the one a reference names (the server's search is not trusted).
    fn confirms(&self, r: &SdpRef, row: &models::Ticket) -> bool {
        let id_ok = r.id.as_ref().is_none_or(|id| *id == row.id);
        let display_ok = r
            .display_id
            .as_ref()
            .is_none_or(|d| row.display_id.as_ref().map_or(*d == row.id, |rd| rd == d));
        id_ok && display_ok && self.in_scope(row)
    }

    pub(crate) async fn read_row(&self, r: &SdpRef) -> Result<Option<models::Ticket>> {
        let api = self.client.tickets(r.entity);
        if let Some(id) = &r.id {
            return Ok(api.get_opt(id).await?.filter(|row| self.confirms(r, row)));
        }
        let Some(display) = &r.display_id else {
            return Ok(None);
        };
        let c = self.scoped(Criteria::new().is("display_id", display)?)?;
        let hits = api.list_all(&c, 10, 2).await?;
        if let Some(row) = hits.into_iter().find(|row| self.confirms(r, row)) {
            return Ok(Some(row));
        }
        // On-premises the UI shows the id (display_id may be absent or differ): try it.
        if !self.client.deployment().is_cloud() {
            let by_id = SdpRef {
                entity: r.entity,
                id: Some(display.clone()),
                display_id: None,
            };
            return Ok(api
                .get_opt(display)
                .await?
                .filter(|row| self.confirms(&by_id, row)));
        }
        Ok(None)
    }

    async fn read(&self, r: &SdpRef) -> Result<Option<Ticket>> {
        Ok(self
            .read_row(r)
            .await?
            .map(|row| self.to_ticket(r.entity, &row)))
    }

    async fn find_in(&self, entity: Entity, id: &CorrelationId) -> Result<Option<models::Ticket>> {
        let c = match &self.settings.correlation_udf {
            Some(udf) => Criteria::new().is(&format!("udf_fields.{udf}"), id.as_str())?,
            None => Criteria::new().contains(entity.title_field(), &self.correlation_tag(id)?)?,
        };
        let c = self.scoped(c)?;
        let rows = self
            .client
            .tickets(entity)
            .list_all(&c, self.settings.batch_size, MAX_PAGES)
            .await?;
        let mut found: Vec<models::Ticket> = rows
            .into_iter()
            .filter(|row| {
                self.in_scope(row) && self.correlation_of(row).as_deref() == Some(id.as_str())
            })
            .collect();
        if found.len() > 1 {
            tracing::warn!(
                count = found.len(),
                "several SDP tickets carry one correlation id; using the oldest"
            );
        }
        Ok(if found.is_empty() {
            None
        } else {
            Some(found.remove(0))
        })
    }

    fn create_fields(&self, entity: Entity, new: &NewTicket) -> Result<Map<String, Value>> {
        let mut f = Map::new();
        let mut title = new.title.clone();
        if self.settings.correlation_udf.is_none() {
            title = format!("{title} {}", self.correlation_tag(&new.correlation_id)?);
        }
        f.insert(entity.title_field().into(), json!(title));
        f.insert("description".into(), json!(new.description));
        if let Some(p) = &new.requester {
            let user = if let Some(e) = &p.email {
                json!({"email_id": e})
            } else if let Some(id) = &p.id {
                json!({"id": id})
            } else if let Some(n) = p.name.as_ref().or(p.login.as_ref()) {
                json!({"name": n})
            } else {
                Value::Null
            };
            if !user.is_null() {
                let key = if entity == Entity::Change {
                    "change_requester"
                } else {
                    "requester"
                };
                f.insert(key.into(), user);
            }
        }
        if let Some(p) = &new.priority {
            f.insert("priority".into(), json!({"name": p}));
        }
        if entity == Entity::Request {
            if let Some(t) = &self.settings.request_template {
                f.insert("template".into(), json!({"name": t}));
            }
        }
        if let Some(a) = self.settings.deployment.account() {
            f.insert("account".into(), json!({"name": a}));
        }
        for (k, v) in &new.extra {
            f.insert(k.clone(), v.clone());
        }
        if let Some(udf) = &self.settings.correlation_udf {
            let mut udfs = match f.remove("udf_fields") {
                Some(Value::Object(m)) => m,
                _ => Map::new(),
            };
            udfs.insert(udf.clone(), json!(new.correlation_id.as_str()));
            f.insert("udf_fields".into(), Value::Object(udfs));
        }
        Ok(f)
    }

    async fn resolve_id(&self, r: &SdpRef) -> Result<String> {
        if let Some(id) = &r.id {
            return Ok(id.clone());
        }
        self.read_row(r)
            .await?
            .map(|row| row.id)
            .ok_or_else(|| Error::not_found(format!("sdp {r}")))
    }
}

#[async_trait]
impl TicketingSystem for SdpConnector {
    /// A request or change number; see [`crate::refs`].
    fn parse_ticket_ref(&self, raw: &str) -> Result<TicketRef> {
        SdpRef::parse(raw, self.default_entity()).map(|r| r.to_ticket_ref())
    }

    /// Looks the correlation id up (UDF or subject tag), creates the request or change
    /// when there is none, and reads it back; after an ambiguous failure the look-up runs
    /// again before another send ([`write_with_lookup`]).
    async fn create_ticket(&self, new: &NewTicket) -> Result<Ticket> {
        let entity = Self::entity_for(&new.kind);
        let fields = self.create_fields(entity, new)?;
        if let Some(found) = self.find_in(entity, &new.correlation_id).await? {
            return Ok(self.to_ticket(entity, &found));
        }
        let retry = self.client.retry_config().clone();
        let api = self.client.tickets(entity);
        let id = write_with_lookup(
            &retry,
            "create sdp ticket",
            |_| {
                let fields = fields.clone();
                async move { Ok(api.create(fields).await?.id) }
            },
            || async {
                Ok(self
                    .find_in(entity, &new.correlation_id)
                    .await?
                    .map(|t| t.id))
            },
        )
        .await?
        .into_inner();
        let r = SdpRef {
            entity,
            id: Some(id.clone()),
            display_id: None,
        };
        self.read(&r).await?.ok_or_else(|| {
            Error::protocol(
                "sdp create",
                format!("the new {} {id} cannot be read back", entity.key()),
            )
        })
    }

    /// Requests first, then changes.
    async fn find_by_correlation(&self, id: &CorrelationId) -> Result<Option<Ticket>> {
        for entity in [Entity::Request, Entity::Change] {
            if let Some(row) = self.find_in(entity, id).await? {
                return Ok(Some(self.to_ticket(entity, &row)));
            }
        }
        Ok(None)
    }

    async fn get_ticket(&self, r: &TicketRef) -> Result<Option<Ticket>> {
        let r = SdpRef::of_ticket(r, self.default_entity())?;
        self.read(&r).await
    }

    /// One `list_info` search per entity and `batch_size` references (`display_id is`
    /// / `id is` with `values`); every hit is checked against what was asked.
    async fn get_tickets(&self, refs: &[TicketRef]) -> Result<Vec<Ticket>> {
        let parsed = refs
            .iter()
            .map(|r| SdpRef::of_ticket(r, self.default_entity()))
            .collect::<Result<Vec<_>>>()?;
        let mut out = Vec::new();
        let mut seen_ids = HashSet::new();
        for entity in [Entity::Request, Entity::Change] {
            let mine: Vec<&SdpRef> = parsed.iter().filter(|r| r.entity == entity).collect();
            for (field, pick) in [("id", true), ("display_id", false)] {
                let mut values: Vec<String> = mine
                    .iter()
                    .filter_map(|r| {
                        if pick {
                            r.id.clone()
                        } else if r.id.is_none() {
                            r.display_id.clone()
                        } else {
                            None
                        }
                    })
                    .collect();
                values.sort();
                values.dedup();
                for chunk in values.chunks(self.settings.batch_size as usize) {
                    let c = self.scoped(Criteria::new().is_any(field, chunk)?)?;
                    let rows = self
                        .client
                        .tickets(entity)
                        .list_all(&c, self.settings.batch_size, MAX_PAGES)
                        .await?;
                    let mut missing: HashSet<&String> = chunk.iter().collect();
                    for row in rows {
                        let asked = mine.iter().find(|r| {
                            let r2 = if pick {
                                r.id.as_ref() == Some(&row.id)
                            } else {
                                r.id.is_none() && self.confirms(r, &row)
                            };
                            r2 && self.confirms(r, &row)
                        });
                        if let Some(r) = asked {
                            missing.remove(
                                if pick {
                                    r.id.as_ref()
                                } else {
                                    r.display_id.as_ref()
                                }
                                .expect("asked by it"),
                            );
                            if seen_ids.insert(row.id.clone()) {
                                out.push(self.to_ticket(entity, &row));
                            }
                        }
                    }
                    // On-premises a typed number may be the id: read the rest one by one.
                    if !pick && !self.client.deployment().is_cloud() {
                        for n in missing {
                            let by_id = SdpRef {
                                entity,
                                id: Some(n.clone()),
                                display_id: None,
                            };
                            if let Some(row) = self.read_row(&by_id).await? {
                                if seen_ids.insert(row.id.clone()) {
                                    out.push(self.to_ticket(entity, &row));
                                }
                            }
                        }
                    }
                }
            }
        }
        Ok(out)
    }

    /// A note: `show_to_requester` for public comments, hidden for internal ones (a
    /// worklog instead, with `worklogs = true`). Sent once: not repeated after an
    /// ambiguous failure.
    async fn add_comment(&self, r: &TicketRef, c: &Comment) -> Result<()> {
        let r = SdpRef::of_ticket(r, self.default_entity())?;
        let id = self.resolve_id(&r).await?;
        if self.settings.worklogs && c.visibility != Visibility::Public {
            return self
                .client
                .worklogs(r.entity)
                .add(&id, &c.body, &Map::new())
                .await
                .map(drop);
        }
        self.client
            .tickets(r.entity)
            .add_note(&id, &c.body, c.visibility == Visibility::Public)
            .await
    }

    /// Requests and changes updated since the watermark (`last_updated_time`
    /// `greater or equal`, epoch ms), oldest update first; see [`crate::intake`].
    async fn list_tickets(&self, query: &TicketQuery, page: PageRequest) -> Result<Page<Ticket>> {
        self.list_tickets_page(query, page).await
    }

    /// Notes (and worklogs with `worklogs = true`), oldest first.
    async fn list_comments(&self, r: &TicketRef) -> Result<Vec<TicketComment>> {
        self.list_comments_of(r).await
    }

    /// The v3 fields of requests or changes, allowed values from the instance's lookups.
    async fn ticket_schema(&self, kind: &TicketKind) -> Result<ObjectSchema> {
        self.ticket_schema_of(kind).await
    }

    /// Requests: the close action with the closure code (`how.code`, else the configured
    /// success or failure code) and the notes as closure comments. Changes: stage
    /// `change_close_stage` with status `change_close_status` (or `change_cancel_status`
    /// on failure), the notes as a note. Confirmed by reading back.
    async fn close_ticket(&self, r: &TicketRef, how: &Resolution) -> Result<Ticket> {
        let r = SdpRef::of_ticket(r, self.default_entity())?;
        let current = self
            .read_row(&r)
            .await?
            .ok_or_else(|| Error::not_found(format!("sdp {r}")))?;
        let before = self.to_ticket(r.entity, &current);
        if before.status.state.is_terminal() {
            return Ok(before);
        }
        let api = self.client.tickets(r.entity);
        let by_id = SdpRef {
            entity: r.entity,
            id: Some(current.id.clone()),
            display_id: None,
        };
        let sent = match r.entity {
            Entity::Request => {
                let code = how.code.clone().unwrap_or_else(|| {
                    if how.successful {
                        self.settings.closure_code.clone()
                    } else {
                        self.settings.failed_closure_code.clone()
                    }
                });
                api.close_request(&current.id, &code, &how.notes).await
            }
            Entity::Change => {
                let status = if how.successful {
                    &self.settings.change_close_status
                } else {
                    &self.settings.change_cancel_status
                };
                let mut f = Map::new();
                f.insert(
                    "stage".into(),
                    json!({"name": self.settings.change_close_stage}),
                );
                f.insert("status".into(), json!({"name": status}));
                let updated = api.update(&current.id, f).await.map(drop);
                if updated.is_ok() && !how.notes.is_empty() {
                    api.add_note(&current.id, &how.notes, false).await?;
                }
                updated
            }
        };
        let after = match sent {
            Ok(()) => self.read(&by_id).await?,
            Err(e) if e.is_retryable() => match self.read(&by_id).await {
                Ok(Some(t)) if t.status.state.is_terminal() => Some(t),
                _ => return Err(e),
            },
            Err(e) => return Err(e),
        };
        let after = after.ok_or_else(|| Error::not_found(format!("sdp {r}")))?;
        if !after.status.state.is_terminal() {
            return Err(Error::protocol(
                "sdp close",
                format!(
                    "the close left {r} in {:?} ({})",
                    after.status.raw, after.status.state
                ),
            ));
        }
        Ok(after)
    }
}
