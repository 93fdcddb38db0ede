//! The `Connector` implementation and the shared parts of the connector.

use std::sync::Arc;
use std::time::Instant;

use accesslink_core::{
    Capability, ConnectionReport, Connector, ConnectorInfo, EntitlementType, Provisioner, Result,
    StatusMap, TicketKind, TicketingSystem, async_trait,
};

use crate::client::TopdeskClient;
use crate::settings::TopdeskSettings;
use crate::status::status_map_with;

/// TOPdesk as a [`TicketingSystem`] (incidents and operator changes) and a
/// [`Provisioner`] (operators and persons; operator groups and permission groups).
#[derive(Debug, Clone)]
pub struct TopdeskConnector {
    pub(crate) client: TopdeskClient,
    pub(crate) settings: Arc<TopdeskSettings>,
    pub(crate) states: Arc<StatusMap>,
    info: ConnectorInfo,
    pub(crate) types: Arc<[EntitlementType]>,
}

/// The entitlement type of operator groups.
pub const OPERATOR_GROUP: &str = "operator_group";
/// The entitlement type of permission groups.
pub const PERMISSION_GROUP: &str = "permission_group";

impl TopdeskConnector {
    /// A connector over a ready client with these settings (their `base_url` and `auth`
    /// are not used again). Prefer [`TopdeskConnector::from_settings`].
    pub fn new(client: TopdeskClient, settings: TopdeskSettings) -> Self {
        use Capability as C;
        let states = status_map_with(&settings.status_map);
        let info = ConnectorInfo::new("topdesk", settings.name.clone())
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
                C::SetPassword,
                C::CreateWithPassword,
            ])
            .with_ticket_kinds([TicketKind::Incident, TicketKind::Change]);
        TopdeskConnector {
            client,
            settings: Arc::new(settings),
            states: Arc::new(states),
            info,
            types: Arc::from([
                EntitlementType::new(OPERATOR_GROUP),
                EntitlementType::new(PERMISSION_GROUP),
            ]),
        }
    }

    /// The low-level client.
    pub fn client(&self) -> &TopdeskClient {
        &self.client
    }

    /// The settings.
    pub fn settings(&self) -> &TopdeskSettings {
        &self.settings
    }

    /// The status and approval tables in use: the defaults with the settings' overrides.
    pub fn status_map(&self) -> &StatusMap {
        &self.states
    }
}

#[async_trait]
impl Connector for TopdeskConnector {
    fn info(&self) -> &ConnectorInfo {
        &self.info
    }

    /// `GET /tas/api/version` with the credentials: proves the URL, the login and the
    /// application password in one cheap read.
    async fn test_connection(&self) -> Result<ConnectionReport> {
        let started = Instant::now();
        let version = self.client.version().await?;
        let mut report = ConnectionReport::new(started.elapsed());
        report.server_version = Some(version.version);
        let crate::settings::TopdeskAuth::ApplicationPassword { login, .. } = &self.settings.auth;
        report.principal = Some(login.clone());
        Ok(report)
    }

    fn as_ticketing(&self) -> Option<&dyn TicketingSystem> {
        Some(self)
    }

    fn as_provisioner(&self) -> Option<&dyn Provisioner> {
        Some(self)
    }
}
