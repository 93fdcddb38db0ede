//! `incidents` and `serviceRequests` (fact sheet §1.10).

use accesslink_core::Result;
use serde_json::{Value, json};

use super::{SearchParams, check_id, not_found_as_none, search_query};
use crate::client::OpsRampClient;
use crate::models::SearchPage;
use crate::requests::NewResponse;
use crate::ticket_models::{NewOpsTicket, OpsTicket, TicketResponse};

/// Incidents or service requests of the client's tenant: the same operations on
/// `incidents` and `serviceRequests`.
#[derive(Debug, Clone, Copy)]
pub struct Tickets<'c> {
    client: &'c OpsRampClient,
    collection: &'static str,
}

impl<'c> Tickets<'c> {
    pub(crate) fn new(client: &'c OpsRampClient, collection: &'static str) -> Self {
        Tickets { client, collection }
    }

    /// `incidents` or `serviceRequests`.
    pub fn collection(&self) -> &'static str {
        self.collection
    }

    fn path(&self, rest: &str) -> String {
        self.client.path(&format!("{}{rest}", self.collection))
    }

    /// `POST …` (not repeated after an ambiguous failure: look the `extTicketId` up).
    pub async fn create(&self, body: &NewOpsTicket) -> Result<OpsTicket> {
        let c = self.client;
        c.send_json(c.http().post(&self.path(""))?.json(body)?)
            .await
    }

    /// `GET …/{id}`.
    pub async fn get(&self, id: &str) -> Result<OpsTicket> {
        check_id("ticket", id)?;
        let c = self.client;
        c.send_json(c.http().get(&self.path(&format!("/{id}")))?)
            .await
    }

    /// `GET …/{id}`; `None` for a 404.
    pub async fn get_opt(&self, id: &str) -> Result<Option<OpsTicket>> {
        not_found_as_none(self.get(id).await)
    }

    /// `POST …/{id}` with any subset of the create fields plus `status`, `reason`, `notes`.
    pub async fn update(&self, id: &str, body: &Value) -> Result<OpsTicket> {
        check_id("ticket", id)?;
        let c = self.client;
        let req = c.http().post(&self.path(&format!("/{id}")))?.json(body)?;
        c.send_json(req).await
    }

    /// `POST …/{id}/close` with `{"reason","notes"}`; the reason must be one the tenant
    /// configured for Closed when reasons are enabled. Closing twice is harmless.
    pub async fn close(&self, id: &str, reason: &str, notes: &str) -> Result<()> {
        check_id("ticket", id)?;
        let c = self.client;
        let req = c
            .http()
            .post(&self.path(&format!("/{id}/close")))?
            .json(&json!({ "reason": reason, "notes": notes }))?
            .retry_safe(true);
        c.send(req).await.map(drop)
    }

    /// `POST …/{id}/responses` with `{"description","internal"}` and no key: a lost
    /// answer cannot be told from a lost request. [`respond_with`](Self::respond_with)
    /// sends an `extTicketResponseId` that [`find_response`](Self::find_response) finds.
    pub async fn respond(&self, id: &str, text: &str, internal: bool) -> Result<()> {
        check_id("ticket", id)?;
        let c = self.client;
        let req = c
            .http()
            .post(&self.path(&format!("/{id}/responses")))?
            .json(&json!({ "description": text, "internal": internal }))?;
        c.send(req).await.map(drop)
    }

    /// `POST …/{id}/responses` with a typed body. Not repeated after an ambiguous
    /// failure: look its `extTicketResponseId` up with [`find_response`](Self::find_response)
    /// first (the connector's `add_comment` does).
    pub async fn respond_with(&self, id: &str, body: &NewResponse) -> Result<TicketResponse> {
        check_id("ticket", id)?;
        let c = self.client;
        let req = c
            .http()
            .post(&self.path(&format!("/{id}/responses")))?
            .json(body)?;
        c.send_json(req).await
    }

    /// One page of `…/{id}/responses/search`.
    pub async fn responses_page(
        &self,
        id: &str,
        params: &SearchParams,
    ) -> Result<SearchPage<TicketResponse>> {
        check_id("ticket", id)?;
        let c = self.client;
        let req = search_query(
            c.http()
                .get(&self.path(&format!("/{id}/responses/search")))?,
            params,
        )?;
        c.send_json(req).await
    }

    /// The response of this ticket whose `extTicketResponseId` is `ext_id`, reading
    /// every page of `…/responses/search`.
    pub async fn find_response(&self, id: &str, ext_id: &str) -> Result<Option<TicketResponse>> {
        let mut params = SearchParams::page(1, 100);
        loop {
            let page = self.responses_page(id, &params).await?;
            let more = page.next_page && !page.results.is_empty();
            if let Some(r) = page
                .results
                .into_iter()
                .find(|r| r.ext_ticket_response_id.as_deref() == Some(ext_id))
            {
                return Ok(Some(r));
            }
            // A guard against a server that never stops saying "more".
            if !more || params.page_no >= 1_000 {
                return Ok(None);
            }
            params.page_no += 1;
        }
    }

    /// One page of `…/search`. Without both `startCreationDate` and `endCreationDate`
    /// OpsRamp searches only the last month.
    pub async fn search_page(&self, params: &SearchParams) -> Result<SearchPage<OpsTicket>> {
        let c = self.client;
        let req = search_query(c.http().get(&self.path("/search"))?, params)?;
        c.send_json(req).await
    }
}
