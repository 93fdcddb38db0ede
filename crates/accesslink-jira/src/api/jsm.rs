//! Jira Service Management: requests and approvals (`/rest/servicedeskapi`).

use accesslink_core::{Error, Result};
use serde_json::{Map, Value, json};

use super::optional;
use crate::client::JiraClient;
use crate::models::{CreatedRequest, JsmApproval, JsmPage};
use crate::refs::IssueRef;

/// Approval pages read at most per request (50 each): a server that never says
/// `isLastPage` cannot keep the connector reading.
const MAX_APPROVAL_PAGES: u32 = 20;

/// `client.jsm()`.
#[derive(Debug, Clone, Copy)]
pub struct Jsm<'a> {
    client: &'a JiraClient,
}

impl<'a> Jsm<'a> {
    pub(crate) fn new(client: &'a JiraClient) -> Self {
        Jsm { client }
    }

    /// `POST /rest/servicedeskapi/request`: a request of `request_type_id` in
    /// `service_desk_id` with `requestFieldValues` (plain strings: JSM takes text here on
    /// both deployments), raised on behalf of `on_behalf_of` when given (an accountId on
    /// Cloud, a user name on Data Center).
    pub async fn create_request(
        &self,
        service_desk_id: &str,
        request_type_id: &str,
        fields: Map<String, Value>,
        on_behalf_of: Option<&str>,
    ) -> Result<CreatedRequest> {
        let http = self.client.http().await?;
        let mut body = json!({
            "serviceDeskId": service_desk_id,
            "requestTypeId": request_type_id,
            "requestFieldValues": fields,
        });
        if let Some(who) = on_behalf_of {
            body["raiseOnBehalfOf"] = json!(who);
        }
        let req = http.post("rest/servicedeskapi/request")?.json(&body)?;
        http.send_json(req).await
    }

    /// Every approval of a request (`GET …/request/{key}/approval`, `start`/`limit`
    /// paging); `None` when the issue is not a JSM request (404).
    pub async fn approvals(&self, r: &IssueRef) -> Result<Option<Vec<JsmApproval>>> {
        let http = self.client.http().await?;
        let mut all = Vec::new();
        let mut start = 0u64;
        for _ in 0..MAX_APPROVAL_PAGES {
            let req = http
                .get(&format!(
                    "rest/servicedeskapi/request/{}/approval",
                    r.as_str()
                ))?
                .query(&[("start", start), ("limit", 50)])?;
            let Some(page): Option<JsmPage<JsmApproval>> = optional(http.send_json(req).await)?
            else {
                return Ok(None);
            };
            let n = page.values.len() as u64;
            all.extend(page.values);
            if page.is_last_page {
                return Ok(Some(all));
            }
            if n == 0 {
                return Err(Error::protocol(
                    "jira servicedeskapi approval",
                    "an empty page that is not the last",
                ));
            }
            start += n;
        }
        Err(Error::protocol(
            "jira servicedeskapi approval",
            format!("more than {MAX_APPROVAL_PAGES} pages of approvals"),
        ))
    }
}
