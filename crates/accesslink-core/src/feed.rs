//! Listing tickets, and a change feed over them that costs requests in proportion to
//! what changed.
//!
//! [`TicketingSystem::list_tickets`] answers one page of the tickets a [`TicketQuery`]
//! selects: by kind, normalised state, a target-native scope (a ServiceNow catalogue
//! item, an OTRS queue, a GLPI category, a Jira project…) and an *updated since*
//! watermark, which connectors send to the server as a filter so a poll reads only
//! what changed. [`tickets`] drains every page into a stream.
//!
//! [`ChangeFeed`] polls with that watermark and hands out each change once:
//!
//! - the watermark is the latest update time **the server reported**, never the local
//!   clock, so clock skew cannot open a gap;
//! - the next poll asks again from the watermark minus an overlap (inclusive), because
//!   servers keep times to the second (or the minute) and a ticket updated in the same
//!   second as the last one seen, after the poll, must not be missed;
//! - what the overlap brings back is recognised by ticket id, update time and a
//!   fingerprint of its normalised fields ([`FeedCursor`] remembers
//!   them for the overlap window), so it is not handed out twice; a ticket that changed
//!   again is handed out again, even within the same second, when the change shows in
//!   its normalised fields (state, approval, title, priority, assignee…). A change that
//!   shows in none of them (a comment, a native field) and lands in the same second as
//!   the last one handed out is seen with the ticket's next change.
//!
//! The cursor serialises to a short JSON string ([`FeedCursor::to_token`]) that an
//! embedder stores after it has processed a poll's tickets: a restart from it repeats
//! at most that poll, never skips one. Exactly-once *processing* across restarts is
//! the caller's (the intake workflow keeps a marker comment on each ticket).
//!
//! ```no_run
//! use std::time::Duration;
//! use accesslink_core::feed::{ChangeFeed, TicketQuery};
//! use accesslink_core::{TicketKind, TicketState, TicketingSystem};
//!
//! # async fn run(desk: &dyn TicketingSystem, saved: Option<String>) -> accesslink_core::Result<()> {
//! let query = TicketQuery::new()
//!     .kind(TicketKind::Request)
//!     .states([TicketState::New, TicketState::InProgress])
//!     .scope("Access requests");
//! let mut feed = ChangeFeed::new(query).overlap(Duration::from_secs(2));
//! if let Some(token) = saved {
//!     feed = feed.resume(accesslink_core::feed::FeedCursor::from_token(&token)?);
//! }
//! for ticket in feed.poll(desk).await? {
//!     println!("{} changed: {}", ticket.reference, ticket.status.raw);
//! }
//! let token = feed.cursor().to_token(); // store it with the work done
//! # let _ = token; Ok(()) }
//! ```

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures::TryStreamExt;
use serde::{Deserialize, Serialize};

use crate::connector::TicketingSystem;
use crate::error::{Error, Result};
use crate::paging::{Paged, PagingOptions, paginate};
use crate::ticket::{Ticket, TicketKind, TicketState};

/// Which tickets a listing selects. Every part left empty selects everything.
///
/// Connectors send each part to the server as a filter where the API allows, and
/// confirm what comes back with [`TicketQuery::matches`] where it does not, so a
/// listing never holds a ticket the query excludes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TicketQuery {
    /// The kinds to list; empty lists every kind the connector reads.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kinds: Vec<TicketKind>,
    /// The normalised states to list; empty lists every state.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub states: Vec<TicketState>,
    /// Only tickets updated at or after this time (inclusive).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "opt_epoch_millis"
    )]
    pub updated_since: Option<SystemTime>,
    /// A target-native scope: a ServiceNow catalogue item (`sys_id` or name), an OTRS
    /// queue, a GLPI category, an OpsRamp service, a Jira project key (and request type
    /// as `PROJ/request-type`)… Each connector's docs page says what it takes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
}

impl TicketQuery {
    /// A query that selects every ticket.
    pub fn new() -> Self {
        TicketQuery::default()
    }

    /// Adds a kind to list.
    #[must_use]
    pub fn kind(mut self, kind: TicketKind) -> Self {
        self.kinds.push(kind);
        self
    }

    /// Adds states to list.
    #[must_use]
    pub fn states(mut self, states: impl IntoIterator<Item = TicketState>) -> Self {
        self.states.extend(states);
        self
    }

    /// Lists only tickets updated at or after `since`.
    #[must_use]
    pub fn updated_since(mut self, since: SystemTime) -> Self {
        self.updated_since = Some(since);
        self
    }

    /// Sets the target-native scope.
    #[must_use]
    pub fn scope(mut self, scope: impl Into<String>) -> Self {
        self.scope = Some(scope.into());
        self
    }

    /// Whether a ticket read back satisfies the kind, state and watermark parts (the
    /// scope is target-native and only the connector can check it). A ticket without
    /// an update time does not satisfy a watermark.
    pub fn matches(&self, t: &Ticket) -> bool {
        (self.kinds.is_empty() || self.kinds.contains(&t.kind))
            && (self.states.is_empty() || self.states.contains(&t.status.state))
            && self
                .updated_since
                .is_none_or(|since| t.updated.is_some_and(|u| u >= since))
    }
}

/// Every ticket a query selects, page by page (see [`paginate`] for the guarantees).
pub fn tickets<'a>(
    ts: &'a dyn TicketingSystem,
    query: &'a TicketQuery,
    options: PagingOptions,
) -> Paged<'a, Ticket> {
    paginate(
        options,
        |t: &Ticket| Cow::Owned(ticket_key(t)),
        move |req| ts.list_tickets(query, req),
    )
}

/// Where a [`ChangeFeed`] stands: the watermark and what it already handed out in the
/// overlap window before it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedCursor {
    /// The latest update time seen, in milliseconds since the Unix epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    watermark_ms: Option<u64>,
    /// Ticket id → (update time in ms, fingerprint) of what was handed out inside the
    /// overlap window.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    recent: BTreeMap<String, (u64, String)>,
}

impl FeedCursor {
    /// The latest update time the feed has seen.
    pub fn watermark(&self) -> Option<SystemTime> {
        self.watermark_ms
            .map(|ms| UNIX_EPOCH + Duration::from_millis(ms))
    }

    /// A cursor that starts at `since` (inclusive) with nothing handed out yet.
    pub fn starting_at(since: SystemTime) -> Self {
        FeedCursor {
            watermark_ms: Some(millis(since)),
            recent: BTreeMap::new(),
        }
    }

    /// The cursor as a short JSON string, to store between runs.
    pub fn to_token(&self) -> String {
        serde_json::to_string(self).expect("a cursor always serialises")
    }

    /// Reads a cursor stored with [`to_token`](Self::to_token); anything else is an
    /// `InvalidInput` error.
    pub fn from_token(token: &str) -> Result<Self> {
        serde_json::from_str(token)
            .map_err(|e| Error::invalid_input(format!("not a change-feed cursor: {e}")))
    }
}

fn millis(t: SystemTime) -> u64 {
    u64::try_from(t.duration_since(UNIX_EPOCH).unwrap_or_default().as_millis()).unwrap_or(u64::MAX)
}

/// Polls a ticketing system for tickets that changed since the last poll.
#[derive(Debug, Clone)]
pub struct ChangeFeed {
    query: TicketQuery,
    cursor: FeedCursor,
    overlap: Duration,
    paging: PagingOptions,
}

impl ChangeFeed {
    /// A feed over `query` (its own `updated_since`, if set, is where the first poll
    /// starts), with a one-second overlap.
    pub fn new(query: TicketQuery) -> Self {
        let cursor = query
            .updated_since
            .map(FeedCursor::starting_at)
            .unwrap_or_default();
        ChangeFeed {
            query,
            cursor,
            overlap: Duration::from_secs(1),
            paging: PagingOptions::new(),
        }
    }

    /// How far before the watermark each poll asks again: at least the server's time
    /// granularity (one second for most, a minute for Jira's JQL), more where the
    /// server's listing lags its writes. Default one second.
    #[must_use]
    pub fn overlap(mut self, overlap: Duration) -> Self {
        self.overlap = overlap;
        self
    }

    /// Paging options for each poll's listing (page size, guards).
    #[must_use]
    pub fn paging(mut self, options: PagingOptions) -> Self {
        self.paging = options;
        self
    }

    /// Continues from a stored cursor.
    #[must_use]
    pub fn resume(mut self, cursor: FeedCursor) -> Self {
        self.cursor = cursor;
        self
    }

    /// Where the feed stands; store it once the last poll's tickets are processed.
    pub fn cursor(&self) -> &FeedCursor {
        &self.cursor
    }

    /// The query each poll sends (the watermark, less the overlap, as `updated_since`).
    pub fn next_query(&self) -> TicketQuery {
        let mut q = self.query.clone();
        q.updated_since = self
            .cursor
            .watermark()
            .map(|w| w.checked_sub(self.overlap).unwrap_or(UNIX_EPOCH));
        q
    }

    /// Lists what changed since the last poll, oldest change first, each change once.
    ///
    /// The cursor moves only when the whole listing was read; an error leaves it where
    /// it was, so the next poll asks again. A listed ticket without an update time is a
    /// `Protocol` error: the feed could not place it.
    pub async fn poll(&mut self, ts: &dyn TicketingSystem) -> Result<Vec<Ticket>> {
        let query = self.next_query();
        let listed: Vec<Ticket> = tickets(ts, &query, self.paging.clone())
            .try_collect()
            .await?;
        let mut fresh = Vec::new();
        let mut cursor = self.cursor.clone();
        for t in listed {
            let Some(updated) = t.updated else {
                return Err(Error::protocol(
                    format!("{}: list_tickets", ts.info()),
                    format!(
                        "ticket {} was listed without an update time; a change feed cannot place it",
                        t.reference
                    ),
                ));
            };
            let at = millis(updated);
            let key = ticket_key(&t);
            let seen = cursor
                .recent
                .get(&key)
                .is_some_and(|(ms, print)| *ms == at && *print == fingerprint(&t));
            // Older than the window's floor: a coarse server filter brought back
            // something handed out before the window started.
            let floor = self
                .cursor
                .watermark_ms
                .map(|w| w.saturating_sub(millis_of(self.overlap)));
            if seen || floor.is_some_and(|f| at < f) {
                continue;
            }
            let print = fingerprint(&t);
            cursor.recent.insert(key, (at, print));
            fresh.push(t);
        }
        let watermark = fresh
            .iter()
            .filter_map(|t| t.updated.map(millis))
            .chain(cursor.watermark_ms)
            .max();
        cursor.watermark_ms = watermark;
        if let Some(w) = watermark {
            let floor = w.saturating_sub(millis_of(self.overlap));
            cursor.recent.retain(|_, (at, _)| *at >= floor);
        }
        self.cursor = cursor;
        fresh.sort_by_cached_key(|t| (t.updated, ticket_key(t)));
        Ok(fresh)
    }
}

/// What a ticket looked like when it was handed out: a 64-bit FNV-1a hash of the
/// normalised fields (state and its raw value, approval, kind, title, description,
/// priority, requester, assignee, resolution), so a second change in the same second is
/// recognised whenever it changed one of them. Native fields (`extra`) are left out:
/// some targets return values there that move on every read (an age in seconds), which
/// would hand every ticket in the overlap out again.
fn fingerprint(t: &Ticket) -> String {
    let shown = (
        &t.status,
        &t.approval,
        &t.kind,
        &t.title,
        &t.description,
        &t.priority,
        &t.requester,
        &t.assignee,
        &t.resolution,
    );
    let json = serde_json::to_vec(&shown).unwrap_or_default();
    let hash = json.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    format!("{hash:016x}")
}

/// A ticket's identity in a listing: its id, or its number when the target has no id.
fn ticket_key(t: &Ticket) -> String {
    match (t.reference.id(), t.reference.number()) {
        (Some(id), _) => format!("id:{id}"),
        (None, Some(n)) => format!("no:{n}"),
        (None, None) => String::new(),
    }
}

fn millis_of(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

mod opt_epoch_millis {
    use std::time::{Duration, SystemTime, UNIX_EPOCH};

    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(
        t: &Option<SystemTime>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.serialize_u64(super::millis(*t)),
            None => s.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<SystemTime>, D::Error> {
        Ok(Option::<u64>::deserialize(d)?.map(|ms| UNIX_EPOCH + Duration::from_millis(ms)))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use async_trait::async_trait;

    use super::*;
    use crate::connector::{ConnectionReport, Connector, ConnectorInfo};
    use crate::ids::{CorrelationId, TicketRef};
    use crate::paging::{Page, PageRequest, PageToken};
    use crate::ticket::{Comment, NewTicket, Resolution, TicketStatus};

    /// A desk whose clock is whole seconds and whose filter is `updated >= since`,
    /// rounded down to `granularity` seconds as coarse servers do; pages of two.
    #[derive(Debug)]
    struct Desk {
        info: ConnectorInfo,
        tickets: Mutex<Vec<Ticket>>,
        granularity: u64,
        asked: Mutex<Vec<Option<SystemTime>>>,
    }

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_800_000_000 + secs)
    }

    impl Desk {
        fn new(granularity: u64) -> Self {
            Desk {
                info: ConnectorInfo::new("fake", "t"),
                tickets: Mutex::new(Vec::new()),
                granularity,
                asked: Mutex::new(Vec::new()),
            }
        }

        fn put(&self, id: &str, secs: u64, status: &str) {
            let mut all = self.tickets.lock().unwrap();
            all.retain(|t| t.reference.id() != Some(id));
            let mut t = Ticket::new(
                TicketRef::by_id(id),
                TicketKind::Request,
                id,
                TicketStatus::new(TicketState::InProgress, status),
            );
            t.updated = Some(at(secs));
            all.push(t);
        }
    }

    #[async_trait]
    impl Connector for Desk {
        fn info(&self) -> &ConnectorInfo {
            &self.info
        }
        async fn test_connection(&self) -> Result<ConnectionReport> {
            unreachable!()
        }
    }

    #[async_trait]
    impl TicketingSystem for Desk {
        fn parse_ticket_ref(&self, raw: &str) -> Result<TicketRef> {
            Ok(TicketRef::by_id(raw))
        }
        async fn create_ticket(&self, _: &NewTicket) -> Result<Ticket> {
            unreachable!()
        }
        async fn find_by_correlation(&self, _: &CorrelationId) -> Result<Option<Ticket>> {
            unreachable!()
        }
        async fn get_ticket(&self, _: &TicketRef) -> Result<Option<Ticket>> {
            unreachable!()
        }
        async fn get_tickets(&self, _: &[TicketRef]) -> Result<Vec<Ticket>> {
            unreachable!()
        }
        async fn add_comment(&self, _: &TicketRef, _: &Comment) -> Result<()> {
            unreachable!()
        }
        async fn close_ticket(&self, _: &TicketRef, _: &Resolution) -> Result<Ticket> {
            unreachable!()
        }
        async fn list_tickets(&self, q: &TicketQuery, page: PageRequest) -> Result<Page<Ticket>> {
            if page.token.is_none() {
                self.asked.lock().unwrap().push(q.updated_since);
            }
            let since = q.updated_since.map(|s| {
                let secs = s.duration_since(UNIX_EPOCH).unwrap().as_secs();
                UNIX_EPOCH + Duration::from_secs(secs - secs % self.granularity)
            });
            let mut all: Vec<Ticket> = self
                .tickets
                .lock()
                .unwrap()
                .iter()
                .filter(|t| since.is_none_or(|s| t.updated.is_none_or(|u| u >= s)))
                .cloned()
                .collect();
            all.sort_by_key(|t| t.reference.id().map(str::to_owned));
            let start: usize = page
                .token
                .as_ref()
                .map_or(0, |t| t.as_str().parse().unwrap());
            let end = (start + 2).min(all.len());
            let next = (end < all.len()).then(|| PageToken::new(end.to_string()));
            Ok(Page::new(all[start..end].to_vec(), next))
        }
    }

    fn ids(ts: &[Ticket]) -> Vec<&str> {
        ts.iter().map(|t| t.reference.id().unwrap()).collect()
    }

    #[tokio::test]
    async fn a_change_in_the_same_second_as_the_watermark_is_delivered_once() {
        let desk = Desk::new(1);
        desk.put("a", 10, "new");
        desk.put("b", 12, "new");
        desk.put("c", 11, "new");
        let mut feed = ChangeFeed::new(TicketQuery::new());
        assert_eq!(ids(&feed.poll(&desk).await.unwrap()), ["a", "c", "b"]);
        assert_eq!(feed.cursor().watermark(), Some(at(12)));
        assert!(
            feed.poll(&desk).await.unwrap().is_empty(),
            "nothing changed"
        );

        // Another ticket written in the same second as the watermark, after the poll.
        desk.put("d", 12, "new");
        assert_eq!(ids(&feed.poll(&desk).await.unwrap()), ["d"]);
        assert!(feed.poll(&desk).await.unwrap().is_empty());

        // The same ticket changed again within that second: a new status is a change.
        desk.put("d", 12, "in progress");
        assert_eq!(ids(&feed.poll(&desk).await.unwrap()), ["d"]);
        // …and so is a change of a field with the same status, in the same second.
        desk.tickets.lock().unwrap().iter_mut().for_each(|t| {
            if t.reference.id() == Some("d") {
                t.priority = Some("1".into());
            }
        });
        assert_eq!(ids(&feed.poll(&desk).await.unwrap()), ["d"]);
        assert!(feed.poll(&desk).await.unwrap().is_empty());
        desk.put("a", 20, "in progress");
        assert_eq!(ids(&feed.poll(&desk).await.unwrap()), ["a"]);
        assert!(feed.poll(&desk).await.unwrap().is_empty());

        // The watermark is sent, less the overlap, so polls read only the window.
        let asked = desk.asked.lock().unwrap().clone();
        assert_eq!(asked[0], None);
        assert_eq!(asked.last().copied().flatten(), Some(at(19)));
    }

    #[tokio::test]
    async fn a_stored_cursor_resumes_without_repeating_or_skipping() {
        let desk = Desk::new(1);
        desk.put("a", 10, "new");
        desk.put("b", 10, "new");
        let mut feed = ChangeFeed::new(TicketQuery::new());
        assert_eq!(feed.poll(&desk).await.unwrap().len(), 2);
        let token = feed.cursor().to_token();

        desk.put("c", 10, "new");
        let mut again =
            ChangeFeed::new(TicketQuery::new()).resume(FeedCursor::from_token(&token).unwrap());
        assert_eq!(ids(&again.poll(&desk).await.unwrap()), ["c"]);
        assert!(FeedCursor::from_token("{not json").is_err());
    }

    #[tokio::test]
    async fn a_minute_granular_filter_with_a_minute_overlap_repeats_nothing() {
        let desk = Desk::new(60);
        desk.put("a", 61, "new");
        desk.put("b", 100, "new");
        let mut feed = ChangeFeed::new(TicketQuery::new()).overlap(Duration::from_secs(60));
        assert_eq!(feed.poll(&desk).await.unwrap().len(), 2);
        desk.put("c", 101, "new");
        // The server answers from the start of the minute: a, b and c; only c is new.
        assert_eq!(ids(&feed.poll(&desk).await.unwrap()), ["c"]);
    }

    #[tokio::test]
    async fn a_ticket_without_an_update_time_is_an_error_and_the_cursor_stays() {
        let desk = Desk::new(1);
        desk.put("a", 10, "new");
        let mut feed = ChangeFeed::new(TicketQuery::new());
        feed.poll(&desk).await.unwrap();
        let before = feed.cursor().clone();
        desk.put("b", 11, "new");
        desk.tickets.lock().unwrap()[1].updated = None;
        let err = feed.poll(&desk).await.unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::Protocol);
        assert!(err.to_string().contains("without an update time"), "{err}");
        assert_eq!(feed.cursor(), &before);
    }

    #[test]
    fn a_query_matches_kind_state_and_watermark() {
        let mut t = Ticket::new(
            TicketRef::by_id("1"),
            TicketKind::Incident,
            "t",
            TicketStatus::new(TicketState::InProgress, "open"),
        );
        let q = TicketQuery::new()
            .kind(TicketKind::Incident)
            .states([TicketState::InProgress])
            .updated_since(at(5));
        assert!(!q.matches(&t), "no update time fails a watermark");
        t.updated = Some(at(5));
        assert!(q.matches(&t));
        t.updated = Some(at(4));
        assert!(!q.matches(&t));
        t.updated = Some(at(6));
        t.kind = TicketKind::Change;
        assert!(!q.matches(&t));
        assert!(TicketQuery::new().matches(&t));
        let json = serde_json::to_string(&q).unwrap();
        assert_eq!(serde_json::from_str::<TicketQuery>(&json).unwrap(), q);
    }
}
