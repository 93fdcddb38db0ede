//! `/v2/roles`: custom user roles. The built-in roles are not listed here.

use accesslink_core::{Error, Result};

use super::{Identifier, optional};
use crate::client::OpsGenieClient;
use crate::models::{CustomRole, Envelope, IdName, SuccessResponse};
use crate::refs::{check_role, segment};

/// The custom roles handle; see [`OpsGenieClient::roles`].
#[derive(Debug, Clone, Copy)]
pub struct Roles<'c> {
    client: &'c OpsGenieClient,
}

impl<'c> Roles<'c> {
    pub(crate) fn new(client: &'c OpsGenieClient) -> Self {
        Roles { client }
    }

    fn path(role: &Identifier) -> Result<String> {
        Ok(format!("v2/roles/{}", segment(check_role(role.value())?)))
    }

    /// Every custom role (not paged).
    pub async fn list(&self) -> Result<Vec<CustomRole>> {
        let http = self.client.http();
        let req = http.get("v2/roles")?;
        Ok(http.send_json::<Envelope<Vec<CustomRole>>>(req).await?.data)
    }

    /// One custom role; `Ok(None)` when there is none.
    pub async fn get_opt(&self, role: &Identifier) -> Result<Option<CustomRole>> {
        let http = self.client.http();
        let req = http
            .get(&Self::path(role)?)?
            .query_pair("identifierType", role.kind());
        optional(http.send_json::<Envelope<CustomRole>>(req).await).map(|o| o.map(|e| e.data))
    }

    /// Creates a custom role; its id and name.
    pub async fn create(&self, role: &CustomRole) -> Result<IdName> {
        check_role(&role.name)?;
        let http = self.client.http();
        let mut body =
            serde_json::to_value(role).map_err(|e| Error::invalid_input(format!("role: {e}")))?;
        if let Some(m) = body.as_object_mut() {
            m.remove("id");
        }
        let req = http.post("v2/roles")?.json(&body)?;
        let answer: SuccessResponse = http.send_json(req).await?;
        answer
            .data
            .filter(|d| !d.id.is_empty())
            .ok_or_else(|| Error::protocol("POST /v2/roles", "the create answer holds no role id"))
    }

    /// Deletes a custom role.
    pub async fn delete(&self, role: &Identifier) -> Result<()> {
        let http = self.client.http();
        let req = http
            .delete(&Self::path(role)?)?
            .query_pair("identifierType", role.kind());
        http.send(req).await.map(|_| ())
    }
}
