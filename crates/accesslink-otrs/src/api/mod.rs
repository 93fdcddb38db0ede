//! Typed handles over the GenericTicketConnector operations.

use accesslink_core::{ErrorKind, Result};
use serde::Serialize;
use serde_json::Value;

use crate::client::OtrsClient;
use crate::models::{
    OtrsTicket, SearchResult, TicketCreate, TicketGetResult, TicketUpdate, TicketWritten,
};
use crate::settings::Route;

/// Options of TicketGet.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct GetOptions {
    /// Include dynamic fields.
    #[serde(rename = "DynamicFields", serialize_with = "flag")]
    pub dynamic_fields: bool,
    /// Include articles.
    #[serde(rename = "AllArticles", serialize_with = "flag")]
    pub all_articles: bool,
    /// Only this many articles (oldest first).
    #[serde(rename = "ArticleLimit", skip_serializing_if = "Option::is_none")]
    pub article_limit: Option<u32>,
}

impl GetOptions {
    /// Dynamic fields, no articles: what following a ticket needs.
    pub fn with_fields() -> Self {
        GetOptions {
            dynamic_fields: true,
            all_articles: false,
            article_limit: None,
        }
    }

    /// Dynamic fields and the first article (the description).
    pub fn with_description() -> Self {
        GetOptions {
            dynamic_fields: true,
            all_articles: true,
            article_limit: Some(1),
        }
    }

    /// Every article, no dynamic fields: what reading comments needs.
    pub fn articles_only() -> Self {
        GetOptions {
            dynamic_fields: false,
            all_articles: true,
            article_limit: None,
        }
    }

    /// Dynamic fields and every article.
    pub fn with_articles() -> Self {
        GetOptions {
            dynamic_fields: true,
            all_articles: true,
            article_limit: None,
        }
    }
}

fn flag<S: serde::Serializer>(v: &bool, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_u8(u8::from(*v))
}

/// TicketSearch parameters sent as query parameters (GET routes). Repeated values
/// become arrays on the server.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchParams {
    /// Exact ticket numbers.
    pub ticket_numbers: Vec<String>,
    /// Title: exact, or a pattern when it contains `*`.
    pub title: Option<String>,
    /// State types (`new`, `open`, …; case-sensitive).
    pub state_types: Vec<String>,
    /// Queue names (`Queues`; an unknown name fails the search, which answers `{}`).
    pub queues: Vec<String>,
    /// Ticket type names (`Types`).
    pub types: Vec<String>,
    /// `TicketChangeTimeNewerDate`: tickets changed at or after this server-local
    /// `YYYY-MM-DD HH:MM:SS` (inclusive, to the second).
    pub changed_since: Option<String>,
    /// `SortBy` (`Changed`, `Age`, …; an unknown one answers `{}`).
    pub sort_by: Option<String>,
    /// `OrderBy`: `Up` for ascending, `Down` (the default) for descending.
    pub order_by: Option<String>,
    /// Maximum hits (server default 500).
    pub limit: Option<u32>,
}

impl SearchParams {
    fn pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = Vec::new();
        pairs.extend(
            self.ticket_numbers
                .iter()
                .map(|n| ("TicketNumber", n.clone())),
        );
        if let Some(t) = &self.title {
            pairs.push(("Title", t.clone()));
        }
        pairs.extend(self.state_types.iter().map(|s| ("StateType", s.clone())));
        pairs.extend(self.queues.iter().map(|q| ("Queues", q.clone())));
        pairs.extend(self.types.iter().map(|t| ("Types", t.clone())));
        if let Some(t) = &self.changed_since {
            pairs.push(("TicketChangeTimeNewerDate", t.clone()));
        }
        if let Some(s) = &self.sort_by {
            pairs.push(("SortBy", s.clone()));
        }
        if let Some(o) = &self.order_by {
            pairs.push(("OrderBy", o.clone()));
        }
        if let Some(l) = self.limit {
            pairs.push(("Limit", l.to_string()));
        }
        pairs
    }
}

/// Ticket operations: `client.tickets()`.
#[derive(Debug, Clone, Copy)]
pub struct Tickets<'a> {
    pub(crate) client: &'a OtrsClient,
}

impl Tickets<'_> {
    fn route_request(
        &self,
        route: &Route,
        ids: Option<&str>,
    ) -> Result<accesslink_core::http::Request> {
        let path = match ids {
            Some(ids) => route.with_ticket_ids(ids),
            None => route.path.clone(),
        };
        self.client.http.request(route.method.clone(), &path)
    }

    /// TicketCreate. Not retried after an ambiguous failure: the connector looks the
    /// ticket up by correlation id before trying again.
    pub async fn create(&self, body: &TicketCreate) -> Result<TicketWritten> {
        let req = self
            .route_request(&self.client.settings.routes.ticket_create, None)?
            .json(body)?;
        self.client.http.send_json(req).await
    }

    /// TicketGet for one or more internal ids. Fails as a whole with
    /// `PermissionDenied` (`TicketGet.AccessDenied`) when any id does not exist or
    /// is not visible.
    pub async fn get(&self, ids: &[u64], options: GetOptions) -> Result<Vec<OtrsTicket>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let joined = ids.iter().map(u64::to_string).collect::<Vec<_>>().join(",");
        let req = self
            .route_request(&self.client.settings.routes.ticket_get, Some(&joined))?
            // A web service may map TicketGet to POST: still a read.
            .read_only()
            .query(&options)?;
        let result: TicketGetResult = self.client.http.send_json(req).await?;
        Ok(result.tickets)
    }

    /// TicketGet for one id; `Ok(None)` when it does not exist or is not visible
    /// (OTRS does not tell the two apart).
    pub async fn get_opt(&self, id: u64, options: GetOptions) -> Result<Option<OtrsTicket>> {
        match self.get(&[id], options).await {
            Ok(mut tickets) => Ok(tickets.pop()),
            Err(e) if e.kind() == ErrorKind::PermissionDenied => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// TicketSearch over the query-parameter route. Parameters the server does not
    /// understand are silently ignored by it — so only the ones in
    /// [`SearchParams`] are offered.
    pub async fn search(&self, params: &SearchParams) -> Result<Vec<u64>> {
        // TicketSearch is often mapped to POST: still a read.
        let mut req = self
            .route_request(&self.client.settings.routes.ticket_search, None)?
            .read_only();
        for (k, v) in params.pairs() {
            req = req.query_pair(k, &v);
        }
        let result: SearchResult = self.client.http.send_json(req).await?;
        Ok(result.ticket_ids)
    }

    /// TicketSearch over a route that takes a JSON body (needed for dynamic-field
    /// conditions).
    pub async fn search_body(&self, route: &Route, body: &Value) -> Result<Vec<u64>> {
        let req = self
            .route_request(route, None)?
            .json(body)?
            .retry_safe(true);
        let result: SearchResult = self.client.http.send_json(req).await?;
        Ok(result.ticket_ids)
    }

    /// TicketUpdate: change fields and/or add an article.
    pub async fn update(&self, id: u64, body: &TicketUpdate) -> Result<TicketWritten> {
        let req = self
            .route_request(
                &self.client.settings.routes.ticket_update,
                Some(&id.to_string()),
            )?
            .json(body)?;
        self.client.http.send_json(req).await
    }
}
