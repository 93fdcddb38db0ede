//! Reading, finding and writing tickets and changes: the helpers under the
//! `TicketingSystem` implementation.

use accesslink_core::{
    CorrelationId, Error, ErrorKind, NewTicket, Person, Result, Ticket, TicketKind,
};
use serde_json::{Map, Value, json};

use crate::api::{Criterion, SearchQuery, SearchType, row_u64};
use crate::connector::{GlpiConnector, valid_login};
use crate::models::{ItilActor, ItilObject, NewItil, NewTimelineItem, Validation, decode_text};
use crate::refs::{reference, tag, title_tag_of};
use crate::status::{ItilKind, approval_of, map_status, map_validation, status_label};
use accesslink_core::time::parse_local_datetime as parse_time;

/// Native ticket and change fields a [`NewTicket`]'s `extra` may set.
const EXTRA_KEYS: &[&str] = &[
    "itilcategories_id",
    "urgency",
    "impact",
    "priority",
    "requesttypes_id",
    "locations_id",
    "entities_id",
    "time_to_resolve",
    "time_to_own",
    "_users_id_assign",
    "_groups_id_assign",
    "_users_id_observer",
    "_groups_id_observer",
    "_groups_id_requester",
];

/// Correlation candidates read at most: a search that ignores its condition would
/// otherwise make the connector read every ticket.
const MAX_CANDIDATES: u64 = 250;

impl GlpiConnector {
    pub(crate) fn web_url(&self, kind: ItilKind, id: u64) -> Option<String> {
        let base = match &self.settings.ui_url {
            Some(u) => u.trim_end_matches('/').to_owned(),
            None => {
                let api = self.client.http().base_url().as_str().trim_end_matches('/');
                api.strip_suffix("/apirest.php")?.to_owned()
            }
        };
        let form = match kind {
            ItilKind::Ticket => "ticket",
            ItilKind::Change => "change",
        };
        Some(format!("{base}/front/{form}.form.php?id={id}"))
    }

    /// Converts a ticket or change to the common model (without approval records or
    /// requester, which take requests of their own).
    pub fn to_ticket(&self, kind: ItilKind, item: &ItilObject) -> Ticket {
        let offset = self.settings.server_utc_offset_minutes;
        let title = decode_text(&item.name);
        let ticket_kind = match (kind, item.kind) {
            (ItilKind::Change, _) => TicketKind::Change,
            (ItilKind::Ticket, Some(1)) => TicketKind::Incident,
            (ItilKind::Ticket, Some(2)) => TicketKind::Request,
            (ItilKind::Ticket, other) => {
                TicketKind::Other(format!("ticket type {}", other.unwrap_or_default()))
            }
        };
        let mut t = Ticket::new(
            reference(kind, item.id),
            ticket_kind,
            title.clone(),
            map_status(&self.states, kind, item.status, item.in_trash()),
        );
        t.correlation_id = title_tag_of(&title).map(CorrelationId::new);
        t.description = item.content.as_deref().map(decode_text);
        t.priority = item.priority.map(|p| p.to_string());
        t.created = item.date.as_deref().and_then(|d| parse_time(d, offset));
        t.updated = item.date_mod.as_deref().and_then(|d| parse_time(d, offset));
        t.web_url = self.web_url(kind, item.id);
        t.approval = Some(approval_of(&self.states, item.global_validation, &[]));
        let label = item.status.and_then(|s| status_label(kind, s));
        let mut extra = match serde_json::to_value(item) {
            Ok(Value::Object(m)) => m,
            _ => Map::new(),
        };
        extra.remove("links");
        extra.insert("itemtype".into(), kind.itemtype().into());
        extra.insert(
            "status_label".into(),
            label.map_or(Value::Null, Value::from),
        );
        t.extra = extra;
        t
    }

    /// One ticket or change with its approval records and requester (as configured).
    pub(crate) async fn read(&self, kind: ItilKind, id: u64) -> Result<Option<Ticket>> {
        // An answer for another item is not this one.
        let Some(item) = self.items(kind).get_opt(id).await?.filter(|i| i.id == id) else {
            return Ok(None);
        };
        let global = item.global_validation;
        let mut t = self.to_ticket(kind, &item);
        if self.settings.read_validations {
            let records: Vec<Validation> = self
                .items(kind)
                .sub_items(id, kind.validation_itemtype())
                .await?;
            let statuses: Vec<u64> = records.iter().filter_map(|v| v.status).collect();
            t.approval = Some(approval_of(&self.states, global, &statuses));
            let shown: Vec<Value> = records
                .iter()
                .map(|v| {
                    json!({
                        "id": v.id,
                        "status": v.status,
                        "approval": v.status.map(|s| map_validation(&self.states, s).to_string()),
                        "users_id_validate": v.users_id_validate,
                        "comment_submission": v.comment_submission.as_deref().map(decode_text),
                        "comment_validation": v.comment_validation.as_deref().map(decode_text),
                        "validation_date": v.validation_date,
                    })
                })
                .collect();
            t.extra.insert("validations".into(), Value::Array(shown));
        }
        if self.settings.read_requester {
            let actors: Vec<ItilActor> = self
                .items(kind)
                .sub_items(id, kind.actor_itemtype())
                .await?;
            let first = |role| {
                actors
                    .iter()
                    .find(|a| a.role == Some(role) && a.users_id.is_some_and(|u| u > 0))
            };
            if let Some(a) = first(1) {
                t.requester = Some(self.person(a).await?);
            }
            t.assignee = first(2).map(|a| Person {
                id: a.users_id.map(|u| u.to_string()),
                ..Person::default()
            });
        }
        Ok(Some(t))
    }

    pub(crate) async fn person(&self, a: &ItilActor) -> Result<Person> {
        let uid = a.users_id.unwrap_or_default();
        let user = self.client.users().get_opt(uid).await?;
        Ok(Person {
            id: Some(uid.to_string()),
            login: user.as_ref().map(|u| decode_text(&u.name)),
            name: user.as_ref().and_then(|u| {
                let parts: Vec<String> = [&u.firstname, &u.realname]
                    .into_iter()
                    .flatten()
                    .map(|s| decode_text(s))
                    .collect();
                (!parts.is_empty()).then(|| parts.join(" "))
            }),
            email: a.alternative_email.clone().filter(|e| !e.is_empty()),
        })
    }

    pub(crate) async fn read_required(&self, kind: ItilKind, id: u64) -> Result<Ticket> {
        self.read(kind, id)
            .await?
            .ok_or_else(|| Error::not_found(format!("GLPI {} {id}", kind.itemtype())))
    }

    /// Reads items in batches of `batch_size` (`getMultipleItems`); when GLPI refuses a
    /// batch because one is missing, reads that batch one by one and leaves the missing
    /// out.
    pub(crate) async fn read_many(&self, kind: ItilKind, ids: &[u64]) -> Result<Vec<ItilObject>> {
        let items = self.items(kind);
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(self.settings.batch_size) {
            // One item is one plain read: no need for getMultipleItems.
            if let [id] = chunk {
                out.extend(items.get_opt(*id).await?.filter(|i| i.id == *id));
                continue;
            }
            match items.get_many(chunk).await {
                // Keep only the items asked for: a server that ignores `items[…]` must
                // not put other items in the answer.
                Ok(found) => out.extend(found.into_iter().filter(|i| chunk.contains(&i.id))),
                Err(e) if e.kind() == ErrorKind::NotFound => {
                    tracing::debug!(
                        count = chunk.len(),
                        "batched read refused; reading one by one"
                    );
                    for &id in chunk {
                        out.extend(items.get_opt(id).await?.filter(|i| i.id == id));
                    }
                }
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }

    /// The live item of `kind` carrying the correlation tag, every search hit confirmed
    /// by reading it.
    pub(crate) async fn find_in(
        &self,
        kind: ItilKind,
        id: &CorrelationId,
    ) -> Result<Option<Ticket>> {
        let query = SearchQuery::new(MAX_CANDIDATES + 1)
            .criterion(Criterion::new(
                1,
                SearchType::Contains,
                format!("{}$", tag(id)),
            ))
            .display([2])
            .sort(2);
        let page = self.items(kind).search(&query).await?;
        if page.total > MAX_CANDIDATES {
            return Err(Error::protocol(
                format!("GET /search/{}", kind.itemtype()),
                format!(
                    "the correlation search matched {} items (more than {MAX_CANDIDATES}): GLPI seems to ignore the title condition",
                    page.total
                ),
            ));
        }
        let mut candidates: Vec<u64> = page.rows.iter().filter_map(|r| row_u64(r, 2)).collect();
        if candidates.is_empty() {
            return Ok(None);
        }
        candidates.sort_unstable();
        candidates.dedup();
        // Never trust a hit: read it and compare the tag.
        let mut matching: Vec<u64> = self
            .read_many(kind, &candidates)
            .await?
            .into_iter()
            .filter(|t| !t.in_trash() && title_tag_of(&decode_text(&t.name)) == Some(id.as_str()))
            .map(|t| t.id)
            .collect();
        matching.sort_unstable();
        if matching.len() > 1 {
            tracing::warn!(correlation_id = %id, count = matching.len(), "several items carry this correlation id; using the oldest");
        }
        match matching.first() {
            Some(&first) => self.read(kind, first).await,
            None => Ok(None),
        }
    }

    /// The request body, validated; the requester's login, when it must be looked up.
    pub(crate) fn create_body(
        &self,
        new: &NewTicket,
    ) -> Result<(ItilKind, NewItil, Option<String>)> {
        let (kind, ticket_type) = match &new.kind {
            TicketKind::Incident => (ItilKind::Ticket, Some(1)),
            TicketKind::Request => (ItilKind::Ticket, Some(2)),
            TicketKind::Change => (ItilKind::Change, None),
            other => {
                return Err(Error::invalid_input(format!(
                    "GLPI opens incidents, requests and changes, not {other}"
                )));
            }
        };
        let title = new.title.trim();
        if title.is_empty() {
            return Err(Error::invalid_input("a GLPI ticket needs a title"));
        }
        let name = format!("{title} {}", tag(&new.correlation_id));
        if name.chars().count() > 255 {
            return Err(Error::invalid_input(
                "the title with its correlation tag exceeds GLPI's 255 characters",
            ));
        }
        let urgency = match new.priority.as_deref().map(str::trim) {
            None => None,
            Some(p) => Some(
                p.parse::<u8>()
                    .ok()
                    .filter(|u| (1..=5).contains(u))
                    .ok_or_else(|| {
                        Error::invalid_input(format!(
                            "GLPI priority (urgency) must be 1-5, not {:?}",
                            accesslink_core::redact::truncate(p, 20)
                        ))
                    })?,
            ),
        };
        let mut other = Map::new();
        for (key, value) in &new.extra {
            if !EXTRA_KEYS.contains(&key.as_str()) {
                return Err(Error::invalid_input(format!(
                    "unknown GLPI ticket field {key:?} in extra (allowed: {})",
                    EXTRA_KEYS.join(", ")
                )));
            }
            other.insert(key.clone(), value.clone());
        }
        let (requester, login) = match &new.requester {
            None => (None, None),
            Some(p) => match (&p.id, &p.login) {
                (Some(id), _) => (
                    Some(crate::refs::parse_id(id).ok_or_else(|| {
                        Error::invalid_input("the requester's GLPI id must be a positive integer")
                    })?),
                    None,
                ),
                (None, Some(login)) if valid_login(login) => (None, Some(login.trim().to_owned())),
                _ => {
                    return Err(Error::invalid_input(
                        "GLPI requesters are users: give the requester's GLPI id or login",
                    ));
                }
            },
        };
        let content = if new.description.trim().is_empty() {
            title.to_owned()
        } else {
            new.description.clone()
        };
        let body = NewItil {
            name,
            content,
            kind: ticket_type,
            urgency,
            entities_id: self.settings.entity,
            requester,
            other,
        };
        Ok((kind, body, login))
    }

    pub(crate) async fn add_solution(
        &self,
        kind: ItilKind,
        id: u64,
        notes: &str,
        solution_type: Option<u64>,
    ) -> Result<()> {
        let input = NewTimelineItem {
            itemtype: kind.itemtype().into(),
            items_id: id,
            content: if notes.trim().is_empty() {
                "Resolved.".into()
            } else {
                notes.to_owned()
            },
            is_private: None,
            solutiontypes_id: solution_type,
        };
        match self.client.solutions().create(&input).await {
            Ok(_) => Ok(()),
            // The answer was lost: the solution may be there. Look before failing.
            Err(e) if e.is_retryable() => match self.items(kind).get_opt(id).await? {
                Some(item) if item.status == Some(5) => Ok(()),
                _ => Err(e),
            },
            Err(e) => Err(e),
        }
    }
}
