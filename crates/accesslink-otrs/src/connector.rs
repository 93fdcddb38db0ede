//! The `Connector` and `TicketingSystem` implementation, on top of the typed handles.

use std::time::Instant;

use accesslink_core::TicketComment;
use accesslink_core::feed::TicketQuery;
use accesslink_core::paging::{Page, PageRequest};
use accesslink_core::schema::ObjectSchema;
use accesslink_core::write::write_with_lookup;
use accesslink_core::{
    Capability, Comment, ConnectionReport, Connector, ConnectorInfo, CorrelationId, Error,
    ErrorKind, NewTicket, Person, Resolution, Result, StatusMap, Ticket, TicketKind, TicketRef,
    TicketingSystem, Visibility, async_trait,
};
use serde_json::{Value, json};

use crate::api::{GetOptions, SearchParams};
use crate::client::OtrsClient;
use crate::models::{
    DynamicFieldValue, NewArticle, OtrsTicket, TicketCreate, TicketFields, TicketUpdate,
};
use crate::settings::{Correlation, OtrsSettings};
use crate::status::{default_status_map, map_state};
use accesslink_core::time::parse_local_datetime as parse_time;

/// Ticket fields a [`NewTicket`]'s `extra` may set directly; other keys are rejected,
/// except `DynamicField_<Name>` which sets a dynamic field.
const TICKET_EXTRA_KEYS: &[&str] = &[
    "Queue",
    "QueueID",
    "Type",
    "TypeID",
    "Priority",
    "PriorityID",
    "State",
    "StateID",
    "Service",
    "ServiceID",
    "SLA",
    "SLAID",
    "Owner",
    "OwnerID",
    "Responsible",
    "ResponsibleID",
    "CustomerID",
    "CustomerUser",
    "Lock",
    "PendingTime",
];

/// OTRS / Znuny as a [`TicketingSystem`].
#[derive(Debug, Clone)]
pub struct OtrsConnector {
    client: OtrsClient,
    info: ConnectorInfo,
    states: StatusMap,
}

impl OtrsConnector {
    /// A connector from settings: the one construction path. Checks every setting and
    /// resolves the password before any request; a problem is an
    /// [`ErrorKind::Config`] error naming the key.
    pub fn from_settings(settings: OtrsSettings) -> Result<Self> {
        let client = OtrsClient::new(settings)?;
        Ok(Self::from_client(client))
    }

    /// A connector from settings; the same as [`OtrsConnector::from_settings`].
    pub fn new(settings: OtrsSettings) -> Result<Self> {
        Self::from_settings(settings)
    }

    /// A connector over an existing client (built by [`OtrsClient::new`] from settings).
    pub fn from_client(client: OtrsClient) -> Self {
        let states = default_status_map().with_overrides(&client.settings().status_map);
        let info = ConnectorInfo::new("otrs", client.settings().name.clone())
            .with([
                Capability::CreateTicket,
                Capability::GetTicket,
                Capability::BatchGetTickets,
                Capability::FindByCorrelation,
                Capability::Comment,
                Capability::CloseTicket,
                Capability::ListTickets,
                Capability::ListComments,
                Capability::TicketSchema,
            ])
            .with_ticket_kinds(ticket_kinds(client.settings()));
        OtrsConnector {
            client,
            info,
            states,
        }
    }

    /// The low-level client.
    pub fn client(&self) -> &OtrsClient {
        &self.client
    }

    pub(crate) fn config(&self) -> &OtrsSettings {
        self.client.settings()
    }

    /// The state table in use: the default with the settings' overrides.
    pub fn status_map(&self) -> &StatusMap {
        &self.states
    }

    /// Converts a TicketGet ticket to the common model.
    pub fn to_ticket(&self, t: OtrsTicket) -> Ticket {
        let config = self.config();
        let status = map_state(
            &self.states,
            &t.state,
            &t.state_type,
            &config.close_states.rejected,
        );
        let kind = t
            .r#type
            .as_deref()
            .map(|ty| {
                config
                    .defaults
                    .kinds
                    .iter()
                    .find(|(_, name)| name == ty)
                    .map_or_else(|| TicketKind::Other(ty.to_owned()), |(k, _)| k.clone())
            })
            .unwrap_or_else(|| TicketKind::Other(String::new()));
        let correlation_id = match &config.correlation {
            Correlation::DynamicField { name, .. } => t.dynamic_field(name),
            Correlation::TitleTag => title_tag_of(&t.title).map(str::to_owned),
        };
        let mut ticket = Ticket::new(
            TicketRef::by_id_and_number(t.ticket_id.to_string(), t.ticket_number.clone()),
            kind,
            t.title.clone(),
            status,
        );
        ticket.description = t.article.first().map(|a| a.body.clone());
        ticket.requester = t.customer_user_id.clone().map(Person::login);
        ticket.assignee = t.owner.clone().map(Person::login);
        ticket.priority = t.priority.clone();
        let offset = config.server_utc_offset_minutes;
        ticket.created = t.created.as_deref().and_then(|s| parse_time(s, offset));
        ticket.updated = t.changed.as_deref().and_then(|s| parse_time(s, offset));
        ticket.correlation_id = correlation_id.map(CorrelationId::new);
        let mut extra = t.other;
        extra.insert("Queue".into(), t.queue.map_or(Value::Null, Value::String));
        extra.insert("StateType".into(), Value::String(t.state_type));
        extra.insert("Type".into(), t.r#type.map_or(Value::Null, Value::String));
        for f in t.dynamic_field {
            extra.insert(format!("DynamicField_{}", f.name), f.value);
        }
        ticket.extra = extra;
        ticket
    }

    async fn read(&self, id: u64, options: GetOptions) -> Result<Option<Ticket>> {
        Ok(self
            .client
            .tickets()
            .get_opt(id, options)
            .await?
            .map(|t| self.to_ticket(t)))
    }

    async fn read_required(&self, id: u64) -> Result<Ticket> {
        self.read(id, GetOptions::with_description())
            .await?
            .ok_or_else(|| Error::not_found(format!("OTRS ticket id {id}")))
    }

    /// The tickets whose number is exactly one of `numbers`, read with their fields.
    ///
    /// A search hit is never trusted: a web service that ignores `TicketNumber` (Znuny
    /// ignores parameters it does not know; a customer web service may map operations
    /// differently) answers with other tickets. Every hit is read and its
    /// `TicketNumber` compared with what was asked; a hit that does not match is
    /// dropped.
    async fn confirmed_by_numbers(&self, numbers: &[String]) -> Result<Vec<OtrsTicket>> {
        let batch = self.config().batch_size;
        let mut out: Vec<OtrsTicket> = Vec::new();
        for chunk in numbers.chunks(batch) {
            let params = SearchParams {
                ticket_numbers: chunk.to_vec(),
                limit: Some(u32::try_from(chunk.len() * 2).unwrap_or(u32::MAX)),
                ..SearchParams::default()
            };
            let mut hits = self.client.tickets().search(&params).await?;
            hits.sort_unstable();
            hits.dedup();
            // A search that ignores its condition and its limit returns every visible
            // ticket: reading them all would be slow and pointless.
            let limit = (5 * batch).max(chunk.len() * 2);
            if hits.len() > limit {
                return Err(Error::protocol(
                    "TicketSearch",
                    format!(
                        "a search by ticket number returned {} tickets (more than {limit}): the web service seems to ignore TicketNumber; check the search route",
                        hits.len()
                    ),
                ));
            }
            for ids in hits.chunks(batch) {
                for t in self.get_many(ids).await? {
                    let asked = chunk.contains(&t.ticket_number);
                    if asked && ids.contains(&t.ticket_id) {
                        out.push(t);
                    } else {
                        tracing::debug!(
                            ticket_id = t.ticket_id,
                            "a search hit does not carry an asked ticket number; ignored"
                        );
                    }
                }
            }
        }
        Ok(out)
    }

    /// Resolves a reference to an internal id, searching by number when needed (a
    /// hit counts only once its number is confirmed).
    async fn id_of(&self, r: &TicketRef) -> Result<Option<u64>> {
        if let Some(id) = &r.id() {
            return parse_id(id).map(Some);
        }
        let Some(number) = r.number() else {
            return Err(Error::invalid_input("empty ticket reference"));
        };
        check_number(number)?;
        let found = self.confirmed_by_numbers(&[number.to_owned()]).await?;
        Ok(found.iter().map(|t| t.ticket_id).min())
    }

    pub(crate) async fn id_required(&self, r: &TicketRef) -> Result<u64> {
        self.id_of(r)
            .await?
            .ok_or_else(|| Error::not_found(format!("OTRS ticket {r}")))
    }

    fn title_with_tag(&self, new: &NewTicket) -> String {
        match self.config().correlation {
            Correlation::TitleTag => format!("{} {}", new.title.trim(), tag(&new.correlation_id)),
            Correlation::DynamicField { .. } => new.title.clone(),
        }
    }

    fn create_body(&self, new: &NewTicket) -> Result<TicketCreate> {
        let config = self.config();
        let d = &config.defaults;
        let customer = new
            .requester
            .as_ref()
            .and_then(|p| p.login.clone().or_else(|| p.email.clone()))
            .or_else(|| config.customer_user.clone())
            .ok_or_else(|| {
                Error::invalid_input(
                    "OTRS needs a customer user: set the requester's login or a default customer user",
                )
            })?;
        let r#type = d
            .kinds
            .iter()
            .find(|(k, _)| k == &new.kind)
            .map(|(_, name)| name.clone())
            .or_else(|| d.r#type.clone());
        let mut fields = TicketFields {
            title: Some(self.title_with_tag(new)),
            queue: Some(config.queue.clone()),
            state: Some(d.state.clone()),
            priority: Some(new.priority.clone().unwrap_or_else(|| d.priority.clone())),
            r#type,
            customer_user: Some(customer),
            ..TicketFields::default()
        };
        let mut dynamic_fields = Vec::new();
        for (key, value) in &new.extra {
            if let Some(name) = key.strip_prefix("DynamicField_") {
                dynamic_fields.push(DynamicFieldValue {
                    name: name.to_owned(),
                    value: value.clone(),
                });
            } else if TICKET_EXTRA_KEYS.contains(&key.as_str()) {
                let text = || value.as_str().map(str::to_owned);
                match key.as_str() {
                    "Queue" => fields.queue = text(),
                    "State" => fields.state = text(),
                    "Priority" => fields.priority = text(),
                    "Type" => fields.r#type = text(),
                    "CustomerUser" => fields.customer_user = text(),
                    _ => {
                        fields.other.insert(key.clone(), value.clone());
                    }
                }
            } else {
                return Err(Error::invalid_input(format!(
                    "unknown OTRS ticket field {key:?} in extra (use DynamicField_<Name> for dynamic fields)"
                )));
            }
        }
        if let Correlation::DynamicField { name, .. } = &config.correlation {
            dynamic_fields.retain(|f| &f.name != name);
            dynamic_fields.push(DynamicFieldValue {
                name: name.clone(),
                value: Value::String(new.correlation_id.as_str().to_owned()),
            });
        }
        let description = if new.description.trim().is_empty() {
            new.title.clone()
        } else {
            new.description.clone()
        };
        Ok(TicketCreate {
            ticket: fields,
            article: NewArticle::plain(new.title.clone(), description, true),
            dynamic_fields,
        })
    }
}

fn ticket_kinds(config: &OtrsSettings) -> Vec<TicketKind> {
    let mut kinds: Vec<TicketKind> = config
        .defaults
        .kinds
        .iter()
        .map(|(k, _)| k.clone())
        .collect();
    if kinds.is_empty() {
        kinds.push(TicketKind::Request);
    }
    kinds
}

/// The title tag of a correlation id.
fn tag(id: &CorrelationId) -> String {
    format!("[corr:{id}]")
}

/// The correlation id in a title's trailing tag, if any.
fn title_tag_of(title: &str) -> Option<&str> {
    let start = title.rfind("[corr:")?;
    let rest = &title[start + 6..];
    let end = rest.find(']')?;
    (end == rest.len() - 1).then(|| &rest[..end])
}

fn parse_id(id: &str) -> Result<u64> {
    let ok = !id.is_empty()
        && id.len() <= 18
        && id.bytes().all(|b| b.is_ascii_digit())
        && !id.starts_with('0');
    ok.then(|| id.parse().ok()).flatten().ok_or_else(|| {
        Error::invalid_input(format!("OTRS ticket id {id:?} is not a positive integer"))
    })
}

fn check_number(n: &str) -> Result<()> {
    if !n.is_empty() && n.len() <= 40 && n.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(Error::invalid_input(format!(
            "OTRS ticket number {n:?} must be 1-40 digits"
        )))
    }
}

#[async_trait]
impl Connector for OtrsConnector {
    fn info(&self) -> &ConnectorInfo {
        &self.info
    }

    async fn test_connection(&self) -> Result<ConnectionReport> {
        let started = Instant::now();
        let params = SearchParams {
            limit: Some(1),
            ..SearchParams::default()
        };
        self.client.tickets().search(&params).await?;
        let mut report = ConnectionReport::new(started.elapsed());
        report.principal = Some(self.config().user().to_owned());
        Ok(report)
    }

    fn as_ticketing(&self) -> Option<&dyn TicketingSystem> {
        Some(self)
    }
}

#[async_trait]
impl TicketingSystem for OtrsConnector {
    /// Accepts a ticket number as users see it (`2026112310000011`, optionally with
    /// the ticket hook `Ticket#` in front).
    fn parse_ticket_ref(&self, raw: &str) -> Result<TicketRef> {
        let trimmed = raw.trim();
        let hook = &self.config().ticket_hook;
        let number = if !hook.is_empty()
            && trimmed.len() >= hook.len()
            && trimmed.is_char_boundary(hook.len())
            && trimmed[..hook.len()].eq_ignore_ascii_case(hook)
        {
            trimmed[hook.len()..].trim_start()
        } else {
            trimmed
        };
        check_number(number).map_err(|_| {
            Error::invalid_input(format!(
                "{:?} is not an OTRS ticket number (digits, optionally after {hook:?})",
                accesslink_core::redact::truncate(raw, 60)
            ))
        })?;
        Ok(TicketRef::by_number(number))
    }

    async fn create_ticket(&self, new: &NewTicket) -> Result<Ticket> {
        new.correlation_id.check_plain()?;
        // Validate everything before the first request.
        let body = self.create_body(new)?;
        if let Some(existing) = self.find_by_correlation(&new.correlation_id).await? {
            tracing::info!(correlation_id = %new.correlation_id, ticket = ?existing.reference.number(), "ticket already exists");
            return Ok(existing);
        }
        // The answer was lost or the server failed: the ticket may exist. Look it up by
        // correlation id before trying again, so a retry never opens a second ticket.
        let body = &body;
        let written = write_with_lookup(
            &self.config().http.retry,
            "otrs TicketCreate",
            |_| async move {
                let written = self.client.tickets().create(body).await?;
                self.read_required(written.ticket_id).await
            },
            || self.find_by_correlation(&new.correlation_id),
        )
        .await?;
        Ok(written.into_inner())
    }

    async fn find_by_correlation(&self, id: &CorrelationId) -> Result<Option<Ticket>> {
        id.check_plain()?;
        let tickets = self.client.tickets();
        let candidates = match &self.config().correlation {
            Correlation::DynamicField { name, search } => {
                let body = json!({ format!("DynamicField_{name}"): { "Equals": id.as_str() } });
                tickets.search_body(search, &body).await?
            }
            Correlation::TitleTag => {
                let params = SearchParams {
                    title: Some(format!("*{}", tag(id))),
                    ..SearchParams::default()
                };
                tickets.search(&params).await?
            }
        };
        if candidates.is_empty() {
            return Ok(None);
        }
        // A search that ignores its condition returns every visible ticket: reading
        // them all would be slow and pointless.
        let limit = 5 * self.config().batch_size;
        if candidates.len() > limit {
            return Err(Error::protocol(
                "TicketSearch",
                format!(
                    "correlation search returned {} tickets (more than {limit}): the web service seems to ignore the search condition; check the correlation route",
                    candidates.len()
                ),
            ));
        }
        // Never trust a hit: a search parameter the server ignores widens the search
        // to every ticket. Read the candidates and compare the correlation value.
        let mut matching: Vec<Ticket> = Vec::new();
        for chunk in candidates.chunks(self.config().batch_size) {
            for t in self.get_many(chunk).await? {
                let t = self.to_ticket(t);
                if t.correlation_id.as_ref() == Some(id) {
                    matching.push(t);
                }
            }
        }
        matching.sort_by_key(|t| t.reference.id().and_then(|i| i.parse::<u64>().ok()));
        if matching.len() > 1 {
            tracing::warn!(correlation_id = %id, count = matching.len(), "several tickets carry this correlation id; using the oldest");
        }
        let Some(first) = matching.into_iter().next() else {
            return Ok(None);
        };
        // Re-read with the description for a complete answer.
        let id = first
            .reference
            .id()
            .and_then(|i| i.parse::<u64>().ok())
            .ok_or_else(|| Error::protocol("TicketGet", "ticket without id"))?;
        Ok(Some(self.read_required(id).await?))
    }

    async fn get_ticket(&self, r: &TicketRef) -> Result<Option<Ticket>> {
        let Some(id) = self.id_of(r).await? else {
            return Ok(None);
        };
        let ticket = self.read(id, GetOptions::with_description()).await?;
        // A reference that names a number too must name this ticket.
        Ok(ticket.filter(|t| match r.number() {
            Some(n) => t.reference.number() == Some(n),
            None => true,
        }))
    }

    async fn get_tickets(&self, refs: &[TicketRef]) -> Result<Vec<Ticket>> {
        let mut ids = Vec::with_capacity(refs.len());
        let mut numbers = Vec::new();
        for r in refs {
            match (r.id(), r.number()) {
                (Some(id), _) => ids.push(parse_id(id)?),
                (None, Some(n)) => {
                    check_number(n)?;
                    numbers.push(n.to_owned())
                }
                (None, None) => return Err(Error::invalid_input("empty ticket reference")),
            }
        }
        ids.sort_unstable();
        ids.dedup();
        // Tickets asked by number are read (and confirmed) by `confirmed_by_numbers`.
        let mut found = self.confirmed_by_numbers(&numbers).await?;
        found.retain(|t| ids.binary_search(&t.ticket_id).is_err());
        for chunk in ids.chunks(self.config().batch_size) {
            found.extend(self.get_many(chunk).await?);
        }
        found.sort_by_key(|t| t.ticket_id);
        found.dedup_by_key(|t| t.ticket_id);
        Ok(found.into_iter().map(|t| self.to_ticket(t)).collect())
    }

    async fn add_comment(&self, r: &TicketRef, c: &Comment) -> Result<()> {
        let id = self.id_required(r).await?;
        let visible = c.visibility == Visibility::Public;
        let subject = if visible { "Comment" } else { "Internal note" };
        let update = TicketUpdate {
            article: Some(NewArticle::plain(subject, c.body.clone(), visible)),
            ..TicketUpdate::default()
        };
        let written = self
            .client
            .tickets()
            .update(id, &update)
            .await
            .map_err(not_found_as(r))?;
        if written.article_id.is_none() {
            return Err(Error::protocol(
                "TicketUpdate",
                "the comment was not stored: no ArticleID in the answer",
            ));
        }
        Ok(())
    }

    async fn close_ticket(&self, r: &TicketRef, how: &Resolution) -> Result<Ticket> {
        let id = self.id_required(r).await?;
        let close = &self.config().close_states;
        let state = how.code.clone().unwrap_or_else(|| {
            if how.successful {
                close.successful.clone()
            } else {
                close.unsuccessful.clone()
            }
        });
        let update = TicketUpdate {
            ticket: Some(TicketFields {
                state: Some(state),
                ..TicketFields::default()
            }),
            article: (!how.notes.trim().is_empty())
                .then(|| NewArticle::plain("Closed", how.notes.clone(), true)),
            ..TicketUpdate::default()
        };
        self.client
            .tickets()
            .update(id, &update)
            .await
            .map_err(not_found_as(r))?;
        self.read_required(id).await
    }

    /// TicketSearch by change time (`TicketChangeTimeNewerDate`, the server's local
    /// time to the second), queue (`scope`), state types and types, oldest change
    /// first, then batched TicketGet; see `docs/connectors/otrs.md`.
    async fn list_tickets(&self, query: &TicketQuery, page: PageRequest) -> Result<Page<Ticket>> {
        self.list_page(query, page).await
    }

    /// The articles after the first (the description), oldest first: id `ArticleID`,
    /// `IsVisibleForCustomer` as the visibility, `From` and `CreateBy` as the author.
    async fn list_comments(&self, r: &TicketRef) -> Result<Vec<TicketComment>> {
        self.comments(r).await
    }

    /// The ticket fields (declared) and the ticket dynamic fields (read from the server).
    async fn ticket_schema(&self, kind: &TicketKind) -> Result<ObjectSchema> {
        self.schema(kind).await
    }
}

impl OtrsConnector {
    /// TicketGet for a batch; when the server refuses the batch because one id is
    /// missing or hidden, falls back to one call per id and leaves the missing out.
    pub(crate) async fn get_many(&self, ids: &[u64]) -> Result<Vec<OtrsTicket>> {
        let tickets = self.client.tickets();
        match tickets.get(ids, GetOptions::with_fields()).await {
            Ok(list) => Ok(list),
            Err(e) if e.kind() == ErrorKind::PermissionDenied && ids.len() == 1 => Ok(Vec::new()),
            Err(e) if e.kind() == ErrorKind::PermissionDenied => {
                tracing::debug!(
                    count = ids.len(),
                    "batched TicketGet refused; reading one by one"
                );
                let mut out = Vec::with_capacity(ids.len());
                for &id in ids {
                    if let Some(t) = tickets.get_opt(id, GetOptions::with_fields()).await? {
                        out.push(t);
                    }
                }
                Ok(out)
            }
            Err(e) => Err(e),
        }
    }
}

/// OTRS reports a missing ticket as AccessDenied; on writes to a ticket we just
/// resolved, say "not found" plainly.
fn not_found_as(r: &TicketRef) -> impl FnOnce(Error) -> Error + '_ {
    move |e| {
        if e.kind() == ErrorKind::PermissionDenied {
            Error::NotFound {
                what: format!("OTRS ticket {r} (or no write access to it)"),
            }
        } else {
            e
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn title_tags() {
        assert_eq!(title_tag_of("Grant X [corr:REQ-1]"), Some("REQ-1"));
        assert_eq!(title_tag_of("Grant X [corr:REQ-1] later"), None);
        assert_eq!(title_tag_of("Grant X"), None);
        assert!(
            CorrelationId::new("REQ-2026/01:a_b.c")
                .check_plain()
                .is_ok()
        );
        for bad in ["", "a b", "a*b", "a%b", "[x]", "a\nb", &"x".repeat(101)] {
            assert!(CorrelationId::new(bad).check_plain().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn ids_and_numbers() {
        assert_eq!(parse_id("42").unwrap(), 42);
        for bad in ["0", "042", "-1", "1.5", "1,2", "", "99999999999999999999"] {
            assert!(parse_id(bad).is_err(), "{bad:?}");
        }
        assert!(check_number("2026112310000011").is_ok());
        assert!(check_number("20261123 1").is_err());
    }
}
