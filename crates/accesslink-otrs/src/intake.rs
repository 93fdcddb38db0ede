//! Intake: listing tickets by change time (a change feed), reading articles back as
//! comments, and describing the ticket fields.
//!
//! - **Listing** is TicketSearch with `TicketChangeTimeNewerDate` (the server's local
//!   time, to the second, inclusive), `SortBy=Changed&OrderBy=Up`, `Queues` for the
//!   scope, `StateType`/`Types` where the query's states and kinds translate, then
//!   batched TicketGet. TicketSearch has a `Limit` but no offset, so pages are keyset
//!   pages: the token holds the change time of the page's last ticket and the ids
//!   already returned at that second; the next page searches again from that second
//!   and leaves those ids out.
//! - **Comments** are the ticket's articles after the first (which is the
//!   description), read with TicketGet `AllArticles=1`.
//! - **Schema**: the GenericTicketConnector has no operation that lists queues,
//!   states, types or priorities, so the ticket fields are declared from the
//!   TicketCreate documentation; the dynamic fields are read from the server (TicketGet
//!   with `DynamicFields=1` lists every ticket dynamic field, set or not).

use std::collections::BTreeSet;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use accesslink_core::feed::TicketQuery;
use accesslink_core::paging::{Page, PageRequest, PageToken};
use accesslink_core::schema::{FieldSchema, FieldType, ObjectSchema};
use accesslink_core::time::{format_rfc3339_millis, parse_local_datetime};
use accesslink_core::{
    Error, Person, Result, Ticket, TicketComment, TicketKind, TicketRef, TicketState, Visibility,
};

use crate::OtrsConnector;
use crate::api::{GetOptions, SearchParams};
use crate::models::OtrsArticle;

/// The most tickets one listing page reads.
const MAX_PAGE: u32 = 500;

/// The most ticket ids one search asks for; a listing with more continues with a
/// search from the last change time read.
const SNAPSHOT: u32 = 10_000;

/// The OTRS state types, in the order of the default status table.
const STATE_TYPES: [&str; 7] = [
    "new",
    "open",
    "pending reminder",
    "pending auto",
    "closed",
    "removed",
    "merged",
];

/// Where a listing stands between pages: the ids the first search found and not read
/// yet (`queue`), and, for a search that may have been cut by its limit (`more`), where
/// the next search starts: at `floor` (seconds since the epoch), leaving out the
/// `seen` ids already returned with that change second.
#[derive(Debug, Default, PartialEq, Eq)]
struct Keyset {
    floor: Option<u64>,
    seen: BTreeSet<u64>,
    queue: Vec<u64>,
    more: bool,
}

fn id_list(text: &str) -> Option<Vec<u64>> {
    text.split(',')
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<u64>().ok())
        .collect()
}

fn join(ids: impl IntoIterator<Item = u64>) -> String {
    ids.into_iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

impl Keyset {
    fn parse(token: &str) -> Result<Self> {
        let bad = || Error::invalid_input(format!("not an OTRS listing token: {token:?}"));
        let parts: Vec<&str> = token.split('|').collect();
        let [floor, seen, queue, more] = parts[..] else {
            return Err(bad());
        };
        Ok(Keyset {
            floor: Some(floor.parse::<u64>().map_err(|_| bad())?),
            seen: id_list(seen).ok_or_else(bad)?.into_iter().collect(),
            queue: id_list(queue).ok_or_else(bad)?,
            more: match more {
                "1" => true,
                "0" => false,
                _ => return Err(bad()),
            },
        })
    }

    fn token(&self) -> PageToken {
        PageToken::new(format!(
            "{}|{}|{}|{}",
            self.floor.unwrap_or_default(),
            join(self.seen.iter().copied()),
            join(self.queue.iter().copied()),
            u8::from(self.more)
        ))
    }
}

fn secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs()
}

/// A time as the server's zone-less `YYYY-MM-DD HH:MM:SS` (whole seconds, rounded
/// down), given the server's offset east of UTC in minutes.
pub(crate) fn server_time(epoch_secs: u64, utc_offset_minutes: i32) -> String {
    let offset = i64::from(utc_offset_minutes) * 60;
    let local = i64::try_from(epoch_secs)
        .unwrap_or(i64::MAX)
        .saturating_add(offset)
        .max(0);
    let at = UNIX_EPOCH + Duration::from_secs(u64::try_from(local).unwrap_or_default());
    // `2026-01-31T12:34:56.789Z` → `2026-01-31 12:34:56`
    format_rfc3339_millis(at)[..19].replacen('T', " ", 1)
}

/// The `From` of an article as a person: `"Full Name" <address>`, `address`, or a
/// bare full name.
fn person_of(article: &OtrsArticle) -> Option<Person> {
    let from = article.from.as_deref().map(str::trim).unwrap_or_default();
    let mut person = Person {
        id: article.create_by.map(|id| id.to_string()),
        ..Person::default()
    };
    if let (Some(open), true) = (from.rfind('<'), from.ends_with('>')) {
        let email = from[open + 1..from.len() - 1].trim();
        let name = from[..open].trim().trim_matches('"').trim();
        person.email = (!email.is_empty()).then(|| email.to_owned());
        person.name = (!name.is_empty()).then(|| name.to_owned());
    } else if from.contains('@') && !from.contains(' ') {
        person.email = Some(from.to_owned());
    } else if !from.is_empty() {
        person.name = Some(from.to_owned());
    }
    (person != Person::default()).then_some(person)
}

impl OtrsConnector {
    /// The `StateType` values that can hold tickets in `states`, or `None` when the
    /// states cannot be translated safely (a state mapped by name in the settings can
    /// be of any type): the states are then checked on the tickets read.
    fn state_types_for(&self, states: &[TicketState]) -> Option<Vec<String>> {
        if states.is_empty() || states.contains(&TicketState::Unknown) {
            return None;
        }
        // Overrides by state name could move a state out of its type's bucket.
        let by_name = self
            .status_map()
            .states()
            .any(|(native, _)| !STATE_TYPES.contains(&native));
        if by_name {
            return None;
        }
        let rejected = !self.config().close_states.rejected.is_empty();
        let types: Vec<String> = STATE_TYPES
            .iter()
            .filter(|ty| {
                let mapped = self.status_map().get_state(ty);
                mapped.is_some_and(|s| states.contains(&s))
                    || (**ty == "closed" && rejected && states.contains(&TicketState::Cancelled))
            })
            .map(|ty| (*ty).to_owned())
            .collect();
        Some(types)
    }

    /// The `Types` values of `kinds`, or `None` when one of them has no type name (the
    /// kinds are then checked on the tickets read).
    fn types_for(&self, kinds: &[TicketKind]) -> Option<Vec<String>> {
        if kinds.is_empty() {
            return None;
        }
        let known = &self.config().defaults.kinds;
        kinds
            .iter()
            .map(|k| match k {
                TicketKind::Other(name) if !name.is_empty() => Some(name.clone()),
                k => known
                    .iter()
                    .find(|(kind, _)| kind == k)
                    .map(|(_, n)| n.clone()),
            })
            .collect()
    }

    /// One page of the tickets a query selects; see the [module docs](self).
    pub(crate) async fn list_page(
        &self,
        query: &TicketQuery,
        page: PageRequest,
    ) -> Result<Page<Ticket>> {
        let size = page
            .size_or(u32::try_from(self.config().batch_size).unwrap_or(50))
            .clamp(1, MAX_PAGE);
        let mut at = match &page.token {
            Some(t) => Keyset::parse(t.as_str())?,
            None => Keyset {
                floor: query.updated_since.map(secs),
                ..Keyset::default()
            },
        };
        if let Some(scope) = &query.scope
            && (scope.trim().is_empty() || scope.len() > 200 || scope.contains(['\n', '\r']))
        {
            return Err(Error::invalid_input(format!(
                "OTRS scope {:?} must be a queue name",
                accesslink_core::redact::truncate(scope, 60)
            )));
        }
        let offset = self.config().server_utc_offset_minutes;
        let size = usize::try_from(size).unwrap_or(usize::MAX);
        if at.queue.is_empty() {
            // A search: the first page, or after a search cut by its limit.
            let state_types = self.state_types_for(&query.states);
            if state_types.as_ref().is_some_and(Vec::is_empty) {
                // No state type holds these states: nothing to ask.
                return Ok(Page::new(Vec::new(), None));
            }
            let limit = SNAPSHOT.saturating_add(u32::try_from(at.seen.len()).unwrap_or(u32::MAX));
            let params = SearchParams {
                queues: query.scope.iter().cloned().collect(),
                state_types: state_types.unwrap_or_default(),
                types: self.types_for(&query.kinds).unwrap_or_default(),
                // One second early: Znuny 7.0.19 was seen leaving out a ticket
                // changed in the very second asked for (while including one in
                // another run); the tickets read are compared with the watermark.
                changed_since: at.floor.map(|f| server_time(f.saturating_sub(1), offset)),
                sort_by: Some("Changed".into()),
                order_by: Some("Up".into()),
                limit: Some(limit),
                ..SearchParams::default()
            };
            let hits = self.client().tickets().search(&params).await?;
            at.more = hits.len() >= usize::try_from(limit).unwrap_or(usize::MAX);
            for id in hits {
                if !at.seen.contains(&id) && !at.queue.contains(&id) {
                    at.queue.push(id);
                }
            }
        }
        let ids: Vec<u64> = at.queue.drain(..size.min(at.queue.len())).collect();
        let mut read = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(self.config().batch_size) {
            read.extend(self.get_many(chunk).await?);
        }
        // Keep the search's order (by change time); TicketGet answers in its own.
        read.sort_by_key(|t| ids.iter().position(|id| *id == t.ticket_id));
        let mut items = Vec::with_capacity(read.len());
        for t in read {
            let id = t.ticket_id;
            let ticket = self.to_ticket(t);
            let Some(updated) = ticket.updated else {
                return Err(Error::protocol(
                    "TicketGet",
                    format!("ticket {id} has no readable Changed time"),
                ));
            };
            // Where a search after this one would start.
            let changed = secs(updated);
            match at.floor {
                Some(f) if changed < f => {}
                Some(f) if changed == f => {
                    at.seen.insert(id);
                }
                _ => {
                    at.floor = Some(changed);
                    at.seen = BTreeSet::from([id]);
                }
            }
            let in_scope = query.scope.as_ref().is_none_or(|q| {
                ticket.extra.get("Queue").and_then(|v| v.as_str()) == Some(q.as_str())
            });
            if query.matches(&ticket) && in_scope {
                items.push(ticket);
            } else {
                tracing::debug!(
                    ticket_id = id,
                    "a listed ticket does not match the query; left out"
                );
            }
        }
        let next = (!at.queue.is_empty() || (at.more && !ids.is_empty())).then(|| at.token());
        Ok(Page::new(items, next))
    }

    /// The ticket's articles after the first, oldest first.
    pub(crate) async fn comments(&self, r: &TicketRef) -> Result<Vec<TicketComment>> {
        let id = self.id_required(r).await?;
        let ticket = self
            .client()
            .tickets()
            .get_opt(id, GetOptions::articles_only())
            .await?
            .ok_or_else(|| Error::not_found(format!("OTRS ticket {r}")))?;
        if let Some(n) = r.number()
            && ticket.ticket_number != n
        {
            return Err(Error::not_found(format!("OTRS ticket {r}")));
        }
        let offset = self.config().server_utc_offset_minutes;
        let mut articles = ticket.article;
        articles.sort_by_key(|a| a.article_id);
        Ok(articles
            .into_iter()
            .skip(1)
            .map(|a| {
                let visibility = if a.is_visible_for_customer == Some(1) {
                    Visibility::Public
                } else {
                    Visibility::Internal
                };
                let mut c =
                    TicketComment::new(a.article_id.to_string(), visibility, a.body.clone());
                if let Some(p) = person_of(&a) {
                    c = c.author(p);
                }
                if let Some(at) = a
                    .create_time
                    .as_deref()
                    .and_then(|s| parse_local_datetime(s, offset))
                {
                    c = c.created(at);
                }
                c
            })
            .collect())
    }

    /// The ticket fields: declared ones plus the dynamic fields the server lists.
    pub(crate) async fn schema(&self, kind: &TicketKind) -> Result<ObjectSchema> {
        let _ = kind;
        let text = |name: &str| FieldSchema::new(name, FieldType::String);
        let mut schema = ObjectSchema::new("Ticket")
            .field(
                FieldSchema::new("TicketID", FieldType::Integer)
                    .label("Ticket ID")
                    .read_only(),
            )
            .field(text("TicketNumber").label("Ticket number").read_only())
            .field(text("Title").label("Title").required())
            .field(text("Queue").label("Queue").required())
            .field(text("State").label("State").required())
            .field(text("StateType").label("State type").read_only())
            .field(text("Priority").label("Priority").required())
            .field(text("Type").label("Type"))
            .field(text("CustomerUser").label("Customer user").required())
            .field(text("CustomerID").label("Customer"))
            .field(text("Owner").label("Owner"))
            .field(text("Responsible").label("Responsible"))
            .field(text("Lock").label("Lock"))
            .field(text("Service").label("Service"))
            .field(text("SLA").label("SLA"))
            .field(FieldSchema::new("PendingTime", FieldType::DateTime).label("Pending time"))
            .field(
                FieldSchema::new("Created", FieldType::DateTime)
                    .label("Created")
                    .read_only(),
            )
            .field(
                FieldSchema::new("Changed", FieldType::DateTime)
                    .label("Changed")
                    .read_only(),
            );
        // TicketGet with DynamicFields=1 lists every ticket dynamic field, set or not:
        // the newest visible ticket shows their names.
        let newest = self
            .client()
            .tickets()
            .search(&SearchParams {
                limit: Some(1),
                ..SearchParams::default()
            })
            .await?;
        let ticket = match newest.first() {
            Some(id) => {
                self.client()
                    .tickets()
                    .get_opt(*id, GetOptions::with_fields())
                    .await?
            }
            None => None,
        };
        // No let chain here: they need Rust 1.88, and the workspace's MSRV is 1.85.
        if let Some(t) = ticket {
            for f in t.dynamic_field {
                schema = schema.field(
                    FieldSchema::new(
                        format!("DynamicField_{}", f.name),
                        FieldType::Other("DynamicField".into()),
                    )
                    .label(f.name),
                );
            }
        }
        Ok(schema)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_times_round_down_and_shift_by_the_offset() {
        // 2026-12-07 21:45:13 UTC
        let t = 1_796_679_913;
        assert_eq!(server_time(t, 0), "2026-12-07 21:45:13");
        assert_eq!(server_time(t, 60), "2026-12-07 22:45:13");
        assert_eq!(server_time(t, -600), "2026-12-07 11:45:13");
        assert_eq!(
            parse_local_datetime(&server_time(t, 120), 120),
            Some(UNIX_EPOCH + Duration::from_secs(t))
        );
    }

    #[test]
    fn keyset_tokens_round_trip_and_bad_ones_are_refused() {
        let k = Keyset {
            floor: Some(1_796_679_913),
            seen: BTreeSet::from([3, 12]),
            queue: vec![40, 7],
            more: true,
        };
        assert_eq!(k.token().as_str(), "1796679913|3,12|40,7|1");
        assert_eq!(Keyset::parse(k.token().as_str()).unwrap(), k);
        for bad in ["", "x|1||0", "12", "12|a||0", "12|1;2||1", "12|||2", "12||"] {
            assert!(Keyset::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn senders_become_people() {
        let a = |from: &str| OtrsArticle {
            article_id: 1,
            subject: String::new(),
            body: String::new(),
            is_visible_for_customer: Some(1),
            from: Some(from.into()),
            create_by: Some(2),
            create_time: None,
        };
        let p = person_of(&a("\"API Customer\" <apicustomer@example.com>")).unwrap();
        assert_eq!(p.email.as_deref(), Some("apicustomer@example.com"));
        assert_eq!(p.name.as_deref(), Some("API Customer"));
        assert_eq!(p.id.as_deref(), Some("2"));
        let p = person_of(&a("API Agent")).unwrap();
        assert_eq!((p.name.as_deref(), p.email), (Some("API Agent"), None));
        let p = person_of(&a("x@example.com")).unwrap();
        assert_eq!(p.email.as_deref(), Some("x@example.com"));
    }
}
