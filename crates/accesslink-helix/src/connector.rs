//! The `Connector` implementation.

use std::sync::Arc;
use std::time::Instant;

use accesslink_core::{
    Capability, ConnectionReport, Connector, ConnectorInfo, EntitlementType, Provisioner, Result,
    StatusMap, TicketKind, TicketingSystem, async_trait,
};

use crate::client::HelixClient;
use crate::settings::HelixSettings;
use crate::status::status_map_with;

/// BMC Helix ITSM as a [`TicketingSystem`] and a [`Provisioner`].
#[derive(Debug, Clone)]
pub struct HelixConnector {
    pub(crate) client: HelixClient,
    pub(crate) settings: Arc<HelixSettings>,
    pub(crate) status_map: Arc<StatusMap>,
    info: ConnectorInfo,
    pub(crate) types: Arc<[EntitlementType]>,
}

impl HelixConnector {
    /// The one construction path from configuration: checks the settings and resolves
    /// the password before any request; the first call logs in.
    pub fn from_settings(settings: HelixSettings) -> Result<HelixConnector> {
        let client = HelixClient::from_settings(&settings)?;
        let map = status_map_with(&settings.status_map);
        Ok(HelixConnector::new(client, settings, map))
    }

    /// A connector over a ready client.
    pub fn new(client: HelixClient, settings: HelixSettings, status_map: StatusMap) -> Self {
        use Capability as C;
        let info = ConnectorInfo::new("helix", settings.name.clone())
            .with([
                C::CreateTicket,
                C::GetTicket,
                C::BatchGetTickets,
                C::FindByCorrelation,
                C::Comment,
                C::CloseTicket,
                C::ListAccounts,
                C::ListEntitlements,
                C::ListGrants,
                C::CreateAccount,
                C::UpdateAccount,
                C::EnableDisable,
                C::Grant,
                C::Revoke,
                C::ListTickets,
                C::ListComments,
                C::TicketSchema,
                C::AccountSchema,
            ])
            .with_ticket_kinds([
                TicketKind::Incident,
                TicketKind::Change,
                TicketKind::Task,
                TicketKind::Request,
            ]);
        let settings_has_groups = settings.ar_groups.is_some();
        HelixConnector {
            client,
            settings: Arc::new(settings),
            status_map: Arc::new(status_map),
            info,
            types: if settings_has_groups {
                Arc::from([
                    EntitlementType::new(crate::provision::SUPPORT_GROUP),
                    EntitlementType::new(crate::groups::AR_GROUP),
                ])
            } else {
                Arc::from([EntitlementType::new(crate::provision::SUPPORT_GROUP)])
            },
        }
    }

    /// The low-level client.
    pub fn client(&self) -> &HelixClient {
        &self.client
    }

    /// The settings.
    pub fn settings(&self) -> &HelixSettings {
        &self.settings
    }

    /// The status map in use.
    pub fn status_map(&self) -> &StatusMap {
        &self.status_map
    }

    /// Logs out (`POST /api/jwt/logout`), releasing the AR licence the session holds.
    pub async fn close(&self) -> Result<()> {
        self.client.close().await
    }
}

#[async_trait]
impl Connector for HelixConnector {
    fn info(&self) -> &ConnectorInfo {
        &self.info
    }

    /// Logs in and reads one incident entry (`limit=1`), proving the login and read access
    /// on the incident form.
    async fn test_connection(&self) -> Result<ConnectionReport> {
        let started = Instant::now();
        let form = &self.settings.forms.incident;
        self.client
            .list(&form.form, None, &[form.id_field.as_str()], 0, 1)
            .await?;
        let mut report = ConnectionReport::new(started.elapsed());
        let crate::settings::HelixAuth::Jwt { username, .. } = &self.settings.auth;
        report.principal = Some(username.clone());
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
