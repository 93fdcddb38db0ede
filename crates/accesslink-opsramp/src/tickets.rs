//! The `TicketingSystem` implementation over incidents (`INC…`, `TicketKind::Incident`)
//! and service requests (`SRQ…`, `TicketKind::Request`).
//!
//! The correlation id travels as `extTicketId`, which OpsRamp searches; every search
//! sends an explicit creation window, since without one OpsRamp searches only the last
//! month. Comments are responses (`internal` for internal ones); close is
//! `POST …/{id}/close` with a reason configured on the tenant.

use accesslink_core::StatusMap;
use accesslink_core::write::write_with_lookup;
use accesslink_core::{
    Comment, CorrelationId, Error, ErrorKind, NewTicket, ObjectSchema, Page, PageRequest, Person,
    Resolution, Result, Ticket, TicketComment, TicketKind, TicketQuery, TicketRef, TicketState,
    TicketingSystem, Visibility, async_trait,
};
use serde_json::Value;

use crate::api::{SearchParams, Tickets};
use crate::connector::OpsRampConnector;
use crate::requests::NewResponse;
use crate::status::parse_time;
use crate::ticket_models::{NewOpsTicket, OpsTicket, TicketUser};

/// The `extTicketResponseId` of one `add_comment` call: `al-`, a 64-bit FNV-1a hash of
/// ticket id, visibility and text (so a key names what it was sent with), the process's
/// start time and a per-process counter (so two calls never share a key). Retries of the
/// call reuse it; OpsRamp's `extTicketResponseId` (fact sheet §1.10) carries it.
pub(crate) fn response_key(ticket: &str, internal: bool, text: &str) -> String {
    use std::sync::OnceLock;
    use std::sync::atomic::{AtomicU64, Ordering};
    static START: OnceLock<u64> = OnceLock::new();
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let start = *START.get_or_init(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64)
    });
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let parts: [&[u8]; 3] = [
        ticket.as_bytes(),
        if internal { b"internal" } else { b"public" },
        text.as_bytes(),
    ];
    for part in parts {
        for b in part.iter().chain(std::iter::once(&0u8)) {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    let seq = SEQ.fetch_add(1, Ordering::Relaxed);
    format!("al-{h:016x}-{start:x}-{seq:x}")
}

const INCIDENTS: &str = "incidents";
const SERVICE_REQUESTS: &str = "serviceRequests";

/// `INC` or `SRQ` and 1–16 ASCII digits, any case; the normalised id and its collection.
fn parse_number(raw: &str) -> Result<(String, &'static str)> {
    let bad = || {
        Error::invalid_input(format!(
            "OpsRamp ticket id {:?} must be INC or SRQ followed by 1-16 digits",
            accesslink_core::redact::truncate(raw, 40)
        ))
    };
    let s = raw.trim();
    if s.len() > 19 || !s.is_ascii() {
        return Err(bad());
    }
    let upper = s.to_ascii_uppercase();
    let (collection, digits) = match upper.split_at(3.min(upper.len())) {
        ("INC", d) => (INCIDENTS, d),
        ("SRQ", d) => (SERVICE_REQUESTS, d),
        _ => return Err(bad()),
    };
    if digits.is_empty() || digits.len() > 16 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    Ok((upper, collection))
}

fn reference(id: &str, collection: &str) -> TicketRef {
    TicketRef::by_id_and_number(id, id).with_scope(collection)
}

pub(crate) fn person_of(u: &TicketUser) -> Person {
    let name = [u.first_name.as_deref(), u.last_name.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    Person {
        id: u.id.clone(),
        login: u.login_name.clone(),
        name: (!name.is_empty()).then_some(name),
        email: u.email.clone(),
    }
}

impl OpsRampConnector {
    /// The ticket of an OpsRamp ticket, its status through this connector's map.
    pub(crate) fn ticket_of(&self, t: &OpsTicket, collection: &str) -> Ticket {
        ticket_of_with(t, collection, &self.status)
    }
}

fn ticket_of_with(t: &OpsTicket, collection: &str, map: &StatusMap) -> Ticket {
    let kind = if collection == INCIDENTS {
        TicketKind::Incident
    } else {
        TicketKind::Request
    };
    let status = map.ticket_status(&t.status);
    let mut out = Ticket::new(
        reference(&t.id, collection),
        kind,
        t.subject.clone(),
        status,
    );
    out.description.clone_from(&t.description);
    out.requester = t.requester.as_ref().map(person_of);
    out.assignee = t.assigned_user.as_ref().map(person_of);
    out.priority.clone_from(&t.priority);
    out.created = t.created_date.as_deref().and_then(parse_time);
    out.updated = t.updated_date.as_deref().and_then(parse_time);
    out.correlation_id = t.ext_ticket_id.as_deref().map(CorrelationId::new);
    if matches!(
        out.status.state,
        TicketState::Closed | TicketState::Resolved
    ) {
        out.resolution = t
            .extra
            .get("statusReason")
            .and_then(Value::as_str)
            .map(str::to_owned);
    }
    if let Ok(Value::Object(m)) = serde_json::to_value(t) {
        out.extra = m;
    }
    out
}

/// Correlation ids go into an `extTicketId:` filter, where `+` separates filters.
fn check_correlation(id: &CorrelationId) -> Result<()> {
    id.check_plain()?;
    if id.as_str().contains('+') {
        return Err(Error::invalid_input(
            "an OpsRamp correlation id cannot contain `+`: the search API could not find it",
        ));
    }
    Ok(())
}

impl OpsRampConnector {
    pub(crate) fn tickets(&self, collection: &str) -> Tickets<'_> {
        if collection == INCIDENTS {
            self.client.incidents()
        } else {
            self.client.service_requests()
        }
    }

    /// The collection and id a reference names, checked again: `TicketRef`'s fields are
    /// public, so a reference may not come from `parse_ticket_ref`.
    fn resolve(&self, r: &TicketRef) -> Result<(Tickets<'_>, String)> {
        let raw = r.id().or(r.number()).unwrap_or("");
        let (id, collection) = parse_number(raw)?;
        if let Some(n) = r.number().filter(|_| r.id().is_some()) {
            if !parse_number(n).is_ok_and(|(m, _)| m == id) {
                return Err(Error::invalid_input(
                    "the ticket reference's id and number disagree",
                ));
            }
        }
        if r.scope().is_some_and(|s| s != collection) {
            return Err(Error::invalid_input(format!(
                "ticket {id} is not in {}",
                accesslink_core::redact::truncate(r.scope().unwrap_or(""), 40)
            )));
        }
        Ok((self.tickets(collection), id))
    }

    /// The ticket of `collection` with this `extTicketId`, over the whole configured
    /// creation window. Whether the filter matches exactly or as a substring is not
    /// documented, so hits are compared exactly and every page of them is read: a miss
    /// here would open a second ticket for the same request.
    async fn by_correlation(&self, collection: &str, id: &CorrelationId) -> Result<Option<Ticket>> {
        let until = accesslink_core::time::format_rfc3339_millis(
            std::time::SystemTime::now() + std::time::Duration::from_secs(86_400),
        );
        // The window's offset goes as ` 0000`: a literal `+` would split the filter.
        let mut params = SearchParams::page(1, 100)
            .filter("extTicketId", id.as_str())?
            .filter(
                "startCreationDate",
                &format!("{} 0000", self.config.search_since),
            )?
            .filter("endCreationDate", &format!("{} 0000", &until[..19]))?;
        loop {
            let page = self.tickets(collection).search_page(&params).await?;
            let more = page.next_page && !page.results.is_empty();
            if let Some(t) = page
                .results
                .into_iter()
                .find(|t| t.ext_ticket_id.as_deref() == Some(id.as_str()))
            {
                return Ok(Some(self.ticket_of(&t, collection)));
            }
            // A guard against a server that never stops saying "more".
            if !more || params.page_no >= 1_000 {
                return Ok(None);
            }
            params.page_no += 1;
        }
    }

    fn collection_of(kind: &TicketKind) -> Result<&'static str> {
        match kind {
            TicketKind::Incident => Ok(INCIDENTS),
            TicketKind::Request | TicketKind::RequestItem => Ok(SERVICE_REQUESTS),
            other => Err(Error::invalid_input(format!(
                "OpsRamp opens incidents and service requests, not {other}"
            ))),
        }
    }
}

#[async_trait]
impl TicketingSystem for OpsRampConnector {
    fn parse_ticket_ref(&self, raw: &str) -> Result<TicketRef> {
        let (id, collection) = parse_number(raw)?;
        Ok(reference(&id, collection))
    }

    /// Looks the correlation id up first (→ the existing ticket); after an ambiguous
    /// failure of the POST it looks again before repeating it, so one request opens
    /// one ticket.
    async fn create_ticket(&self, new: &NewTicket) -> Result<Ticket> {
        let collection = Self::collection_of(&new.kind)?;
        check_correlation(&new.correlation_id)?;
        if new.title.trim().is_empty() {
            return Err(Error::invalid_input("an OpsRamp ticket needs a subject"));
        }
        if let Some(t) = self.by_correlation(collection, &new.correlation_id).await? {
            return Ok(t);
        }
        let requester = new.requester.as_ref().map(|p| TicketUser {
            id: p.id.clone(),
            login_name: if p.id.is_none() {
                p.login.clone()
            } else {
                None
            },
            ..TicketUser::default()
        });
        let body = NewOpsTicket {
            subject: new.title.clone(),
            description: Some(new.description.clone()).filter(|d| !d.is_empty()),
            priority: new.priority.clone(),
            requester,
            ext_ticket_id: Some(new.correlation_id.as_str().to_owned()),
            extra: new.extra.clone(),
        };
        let tickets = self.tickets(collection);
        let written = write_with_lookup(
            self.client.retry_config(),
            "create OpsRamp ticket",
            |_| async {
                tickets
                    .create(&body)
                    .await
                    .map(|t| self.ticket_of(&t, collection))
            },
            || self.by_correlation(collection, &new.correlation_id),
        )
        .await?;
        Ok(written.into_inner())
    }

    /// Incidents first, then service requests.
    async fn find_by_correlation(&self, id: &CorrelationId) -> Result<Option<Ticket>> {
        check_correlation(id)?;
        for collection in [INCIDENTS, SERVICE_REQUESTS] {
            if let Some(t) = self.by_correlation(collection, id).await? {
                return Ok(Some(t));
            }
        }
        Ok(None)
    }

    async fn get_ticket(&self, r: &TicketRef) -> Result<Option<Ticket>> {
        let (tickets, id) = self.resolve(r)?;
        let collection = tickets.collection();
        Ok(tickets
            .get_opt(&id)
            .await?
            .map(|t| self.ticket_of(&t, collection)))
    }

    /// One GET per ticket (the API has no batch read); every reference is checked
    /// before the first request.
    async fn get_tickets(&self, refs: &[TicketRef]) -> Result<Vec<Ticket>> {
        let mut resolved = Vec::with_capacity(refs.len());
        for r in refs {
            resolved.push(self.resolve(r)?);
        }
        let mut out = Vec::with_capacity(refs.len());
        for (tickets, id) in resolved {
            if let Some(t) = tickets.get_opt(&id).await? {
                out.push(self.ticket_of(&t, tickets.collection()));
            }
        }
        Ok(out)
    }

    /// A response, `internal` for internal comments, sent with a fresh
    /// `extTicketResponseId` (see `response_key`). After an ambiguous failure (timeout,
    /// 5xx, broken connection) the ticket's responses are searched for that key and the
    /// POST is repeated only when none has it: one call writes one response. Two calls
    /// with the same text write two responses, as a person posting twice would.
    async fn add_comment(&self, r: &TicketRef, c: &Comment) -> Result<()> {
        let (tickets, id) = self.resolve(r)?;
        if c.body.trim().is_empty() {
            return Err(Error::invalid_input("an empty comment"));
        }
        let internal = c.visibility == Visibility::Internal;
        let key = response_key(&id, internal, &c.body);
        let body = NewResponse::new(c.body.clone(), internal).ext_id(key.clone());
        // The response may have been stored after an ambiguous failure: it is looked
        // up by its key before the POST is sent again. If the lookup fails too, the
        // write's error is the one to report.
        write_with_lookup(
            self.client.retry_config(),
            "add OpsRamp response",
            |_| async { tickets.respond_with(&id, &body).await.map(drop) },
            || async { Ok(tickets.find_response(&id, &key).await?.map(drop)) },
        )
        .await
        .map(drop)
        .map_err(|e| not_found_ticket(e, &id))
    }

    /// `POST …/close` with the resolution's code, else the configured success or failure
    /// reason, and its notes. An already closed ticket is returned as it is.
    async fn close_ticket(&self, r: &TicketRef, how: &Resolution) -> Result<Ticket> {
        let (tickets, id) = self.resolve(r)?;
        let collection = tickets.collection();
        let current = tickets
            .get_opt(&id)
            .await?
            .ok_or_else(|| Error::not_found(format!("OpsRamp ticket {id}")))?;
        if self.status.ticket_status(&current.status).state == TicketState::Closed {
            return Ok(self.ticket_of(&current, collection));
        }
        let reason = how.code.clone().unwrap_or_else(|| {
            if how.successful {
                self.config.close_reason.clone()
            } else {
                self.config.failed_close_reason.clone()
            }
        });
        if let Err(e) = tickets.close(&id, &reason, &how.notes).await {
            // Close is repeated after a lost answer, and whether OpsRamp refuses to close
            // a closed ticket is undocumented: a refusal of a ticket now closed is done.
            // A refused reason leaves the ticket open and stays an error.
            if !matches!(e.kind(), ErrorKind::InvalidInput | ErrorKind::Conflict) {
                return Err(e);
            }
            return match tickets.get_opt(&id).await? {
                Some(t) if self.status.ticket_status(&t.status).state == TicketState::Closed => {
                    Ok(self.ticket_of(&t, collection))
                }
                _ => Err(e),
            };
        }
        let after = tickets
            .get_opt(&id)
            .await?
            .ok_or_else(|| Error::not_found(format!("OpsRamp ticket {id}")))?;
        Ok(self.ticket_of(&after, collection))
    }

    /// One page of incidents, then service requests (as the kinds select), with the
    /// creation window and, with a watermark, the update-time window (seconds, GMT,
    /// rounded down); states and the category scope checked on the rows. See
    /// [`crate::intake`].
    async fn list_tickets(&self, query: &TicketQuery, page: PageRequest) -> Result<Page<Ticket>> {
        self.list_page(query, page).await
    }

    /// Every response, oldest first (`internal` ones internal), with its creator and time.
    async fn list_comments(&self, r: &TicketRef) -> Result<Vec<TicketComment>> {
        let (tickets, id) = self.resolve(r)?;
        self.responses_of(tickets, &id).await
    }

    /// The fields of incidents or service requests, declared from the vendor's docs.
    async fn ticket_schema(&self, kind: &TicketKind) -> Result<ObjectSchema> {
        crate::intake::ticket_schema(kind)
    }
}

fn not_found_ticket(e: Error, id: &str) -> Error {
    if e.kind() == ErrorKind::NotFound {
        Error::not_found(format!("OpsRamp ticket {id}"))
    } else {
        e
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn response_keys_name_the_content_and_differ_per_call() {
        let a = response_key("INC0000000001", false, "done");
        let b = response_key("INC0000000001", false, "done");
        let internal = response_key("INC0000000001", true, "done");
        assert_ne!(a, b, "two calls, two keys");
        // The hash part (`al-<16 hex>`) is the same for the same content only.
        assert_eq!(a[..19], b[..19]);
        assert_ne!(a[..19], internal[..19]);
        assert!(a.starts_with("al-") && a.len() <= 64, "{a}");
        assert!(a.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-'));
    }

    #[test]
    fn ticket_numbers() {
        assert_eq!(
            parse_number("INC0000001114").unwrap(),
            ("INC0000001114".into(), INCIDENTS)
        );
        assert_eq!(
            parse_number(" srq12 ").unwrap(),
            ("SRQ12".into(), SERVICE_REQUESTS)
        );
        for bad in [
            "",
            "INC",
            "CHG0000001",
            "INC12a",
            "INC\u{661}",
            "INC 12",
            "INC-12",
            "SRQ12345678901234567",
        ] {
            assert!(parse_number(bad).is_err(), "{bad:?}");
        }
    }
}
