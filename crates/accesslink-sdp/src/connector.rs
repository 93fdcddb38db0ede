//! The `Connector` implementation.

use std::sync::Arc;
use std::time::Instant;

use accesslink_core::{
    Capability, ConnectionReport, Connector, ConnectorInfo, EntitlementType, Provisioner, Result,
    StatusMap, TicketKind, TicketingSystem, async_trait,
};

use crate::client::SdpClient;
use crate::input::Criteria;
use crate::settings::{AccountKind, SdpSettings};

/// ServiceDesk Plus (on-premises, Cloud or MSP) as a [`TicketingSystem`] and, over
/// requesters or technicians (setting `accounts`), a [`Provisioner`].
#[derive(Debug, Clone)]
pub struct SdpConnector {
    pub(crate) client: SdpClient,
    pub(crate) settings: Arc<SdpSettings>,
    pub(crate) status_map: Arc<StatusMap>,
    pub(crate) entitlement_types: Vec<EntitlementType>,
    info: ConnectorInfo,
}

impl SdpConnector {
    /// A connector over a ready client: sugar beside
    /// [`from_settings`](Self::from_settings), which builds the client and calls this.
    pub fn new(client: SdpClient, settings: SdpSettings, status_map: StatusMap) -> Self {
        use Capability as C;
        let technicians = settings.accounts == AccountKind::Technician;
        let mut info = ConnectorInfo::new("sdp", settings.name.clone())
            .with([
                C::CreateTicket,
                C::GetTicket,
                C::BatchGetTickets,
                C::FindByCorrelation,
                C::Comment,
                C::CloseTicket,
                C::ListAccounts,
                C::CreateAccount,
                C::UpdateAccount,
                C::ListTickets,
                C::ListComments,
                C::TicketSchema,
                C::AccountSchema,
            ])
            .with_ticket_kinds([
                TicketKind::Request,
                TicketKind::Change,
                TicketKind::Incident,
            ]);
        let mut entitlement_types = Vec::new();
        if technicians {
            info = info.with([C::ListEntitlements, C::ListGrants, C::Grant, C::Revoke]);
            entitlement_types = crate::provision::technician_entitlements();
        }
        SdpConnector {
            client,
            settings: Arc::new(settings),
            status_map: Arc::new(status_map),
            entitlement_types,
            info,
        }
    }

    /// The low-level client.
    pub fn client(&self) -> &SdpClient {
        &self.client
    }

    /// The settings.
    pub fn settings(&self) -> &SdpSettings {
        &self.settings
    }

    /// The status map in use (defaults plus settings' overrides).
    pub fn status_map(&self) -> &StatusMap {
        &self.status_map
    }
}

#[async_trait]
impl Connector for SdpConnector {
    fn info(&self) -> &ConnectorInfo {
        &self.info
    }

    /// One cheap read: the first request row (`row_count` 1), which checks the key or
    /// token, the portal and the v3 API.
    async fn test_connection(&self) -> Result<ConnectionReport> {
        let started = Instant::now();
        self.client
            .requests()
            .list_page(&Criteria::new(), 1, 1)
            .await?;
        Ok(ConnectionReport::new(started.elapsed()))
    }

    fn as_ticketing(&self) -> Option<&dyn TicketingSystem> {
        Some(self)
    }

    fn as_provisioner(&self) -> Option<&dyn Provisioner> {
        Some(self)
    }
}
