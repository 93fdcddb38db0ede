//! The `Connector` implementation.

use std::sync::Arc;
use std::time::Instant;

use accesslink_core::{
    Capability, ConnectionReport, Connector, ConnectorInfo, EntitlementType, Provisioner, Result,
    StatusMap, TicketKind, TicketingSystem, async_trait,
};
use serde::Deserialize;

use crate::client::SalesforceClient;
use crate::settings::{Profile, SalesforceSettings};

/// Salesforce (Service Cloud cases, or BMC Remedyforce incidents and change requests) as
/// a [`TicketingSystem`], and its users, permission sets and public groups as a
/// [`Provisioner`].
#[derive(Debug, Clone)]
pub struct SalesforceConnector {
    pub(crate) client: SalesforceClient,
    pub(crate) settings: Arc<SalesforceSettings>,
    pub(crate) status_map: Arc<StatusMap>,
    info: ConnectorInfo,
    pub(crate) types: Arc<[EntitlementType]>,
}

impl SalesforceConnector {
    /// A connector over a ready client: sugar beside
    /// [`from_settings`](Self::from_settings), which builds the client and calls this.
    pub fn new(
        client: SalesforceClient,
        settings: SalesforceSettings,
        status_map: StatusMap,
    ) -> Self {
        use Capability as C;
        let kinds = match settings.profile {
            Profile::ServiceCloud => vec![TicketKind::Case],
            Profile::Remedyforce => vec![
                TicketKind::Incident,
                TicketKind::Request,
                TicketKind::Change,
                TicketKind::Task,
            ],
        };
        let mut info = ConnectorInfo::new("salesforce", settings.name.clone())
            .with([
                C::ListAccounts,
                C::ListEntitlements,
                C::ListGrants,
                C::UpdateAccount,
                C::EnableDisable,
                C::Grant,
                C::Revoke,
                C::CreateTicket,
                C::GetTicket,
                C::BatchGetTickets,
                C::FindByCorrelation,
                C::Comment,
                C::CloseTicket,
                C::ListTickets,
                C::ListComments,
                C::TicketSchema,
                C::AccountSchema,
                C::SetPassword,
            ])
            .with_ticket_kinds(kinds);
        if settings.user_defaults.profile_id.is_some() {
            info = info.with([C::CreateAccount, C::CreateWithPassword]);
        }
        SalesforceConnector {
            types: Arc::from(
                [
                    crate::provision::PERMISSION_SET,
                    crate::provision::PERMISSION_SET_GROUP,
                    crate::provision::GROUP,
                    crate::provision::QUEUE,
                    crate::provision::PROFILE,
                ]
                .map(EntitlementType::new),
            ),
            client,
            settings: Arc::new(settings),
            status_map: Arc::new(status_map),
            info,
        }
    }

    /// The low-level client.
    pub fn client(&self) -> &SalesforceClient {
        &self.client
    }

    /// The settings.
    pub fn settings(&self) -> &SalesforceSettings {
        &self.settings
    }

    /// The status map in use (defaults plus settings' overrides).
    pub fn status_map(&self) -> &StatusMap {
        &self.status_map
    }
}

#[derive(Deserialize)]
struct Limits {
    #[serde(rename = "DailyApiRequests")]
    daily: Option<serde_json::Value>,
}

#[async_trait]
impl Connector for SalesforceConnector {
    fn info(&self) -> &ConnectorInfo {
        &self.info
    }

    /// Obtains a token (learning the instance URL) and reads `GET limits`, which
    /// needs no object permissions.
    async fn test_connection(&self) -> Result<ConnectionReport> {
        let started = Instant::now();
        let http = self.client.http().await?;
        let limits: Limits = http.send_json(http.get("limits")?).await?;
        let mut report = ConnectionReport::new(started.elapsed());
        report.principal = self.client.instance_url();
        if let Some(d) = limits.daily {
            tracing::debug!(daily = %d, "salesforce daily API requests");
        }
        Ok(report)
    }

    fn as_ticketing(&self) -> Option<&dyn TicketingSystem> {
        Some(self)
    }

    fn as_provisioner(&self) -> Option<&dyn Provisioner> {
        Some(self)
    }

    fn as_partitioner(&self) -> Option<&dyn accesslink_core::partition::Partitioner> {
        Some(self)
    }
}
