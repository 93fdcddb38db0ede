//! `/tas/api/operatorChanges` (fact sheet §3.4): read by number or id.

use accesslink_core::Result;

use super::{get_opt, push_segment};
use crate::client::TopdeskClient;
use crate::models::OperatorChange;

/// Operator changes: `client.operator_changes()`.
#[derive(Debug, Clone, Copy)]
pub struct OperatorChanges<'c> {
    client: &'c TopdeskClient,
}

impl<'c> OperatorChanges<'c> {
    pub(crate) fn new(client: &'c TopdeskClient) -> Self {
        OperatorChanges { client }
    }

    /// `GET /operatorChanges/{idOrNumber}`; `None` on 404. Give a UUID or a number as
    /// the tenant writes it (`C1810-005`); both are checked by the connector first.
    pub async fn get_opt(&self, id_or_number: &str) -> Result<Option<OperatorChange>> {
        let http = &self.client.http;
        let req = push_segment(http.get("operatorChanges/")?, id_or_number)?;
        get_opt(http, req).await
    }
}
