//! The `Connector` implementation and the helpers the `Provisioner` uses.

use std::sync::Arc;
use std::time::Instant;

use accesslink_core::{
    Account, Capability, ConnectionReport, Connector, ConnectorInfo, EntitlementRef,
    EntitlementType, Provisioner, Result, async_trait,
};
use serde_json::Value;

use crate::client::OpsGenieClient;
use crate::models::User;
use crate::settings::OpsGenieConfig;

/// OpsGenie as a [`Provisioner`]: users, team memberships and global roles.
///
/// There is no ticketing side (see the crate docs), and no enable/disable: OpsGenie has
/// none, so [`set_enabled`](Provisioner::set_enabled) is `Unsupported` and
/// [`delete_account`](Provisioner::delete_account) is how access is removed.
#[derive(Debug, Clone)]
pub struct OpsGenieConnector {
    pub(crate) client: OpsGenieClient,
    pub(crate) config: Arc<OpsGenieConfig>,
    info: ConnectorInfo,
    types: Arc<[EntitlementType]>,
}

impl OpsGenieConnector {
    /// A connector over a ready client, with these options: sugar beside
    /// [`from_settings`](Self::from_settings), which builds the client and calls this.
    pub fn new(client: OpsGenieClient, config: OpsGenieConfig) -> Self {
        use Capability as C;
        let info = ConnectorInfo::new("opsgenie", config.instance.clone()).with([
            C::ListAccounts,
            C::ListEntitlements,
            C::ListGrants,
            C::CreateAccount,
            C::UpdateAccount,
            C::DeleteAccount,
            C::Grant,
            C::Revoke,
            C::AccountSchema,
        ]);
        OpsGenieConnector {
            client,
            config: Arc::new(config),
            info,
            types: Arc::from([EntitlementType::team(), EntitlementType::role()]),
        }
    }

    /// The low-level client.
    pub fn client(&self) -> &OpsGenieClient {
        &self.client
    }

    /// The settings.
    pub fn config(&self) -> &OpsGenieConfig {
        &self.config
    }

    /// The entitlement reference of a team membership (by team id).
    pub fn team_entitlement(team_id: impl Into<String>) -> EntitlementRef {
        EntitlementRef::new(EntitlementType::team(), team_id.into())
    }

    /// The entitlement reference of a global role (by name: `Admin`, or a custom role).
    pub fn role_entitlement(role: impl Into<String>) -> EntitlementRef {
        EntitlementRef::new(EntitlementType::role(), role.into())
    }

    pub(crate) fn types(&self) -> &[EntitlementType] {
        &self.types
    }

    /// An account from a user: id, username as login and e-mail, full name, and
    /// `enabled = !blocked` (OpsGenie blocks users itself, for seats or subscription).
    pub(crate) fn account_of(user: &User) -> Account {
        let mut a = Account::new(user.id.clone(), user.username.clone());
        a.display_name = user.full_name.clone().filter(|n| !n.is_empty());
        a.email = Some(user.username.clone()).filter(|u| u.contains('@'));
        a.enabled = user.blocked.map(|b| !b);
        if let Ok(Value::Object(m)) = serde_json::to_value(user) {
            a.attributes = m;
        }
        a
    }
}

#[async_trait]
impl Connector for OpsGenieConnector {
    fn info(&self) -> &ConnectorInfo {
        &self.info
    }

    /// `GET /v2/account`: checks the key and names the account.
    async fn test_connection(&self) -> Result<ConnectionReport> {
        let started = Instant::now();
        let account = self.client.account().await?;
        let mut report = ConnectionReport::new(started.elapsed());
        report.principal = account.name;
        Ok(report)
    }

    fn as_provisioner(&self) -> Option<&dyn Provisioner> {
        Some(self)
    }
}
