//! The `Connector` implementation and the conversions the ticketing and provisioning
//! sides share.

use std::sync::Arc;
use std::time::Instant;

use accesslink_core::{
    Capability, ConnectionReport, Connector, ConnectorInfo, EntitlementType, Person, Provisioner,
    Result, StatusMap, TicketKind, TicketingSystem, async_trait,
};

use crate::client::JiraClient;
use crate::models::User;
use crate::settings::{Deployment, JiraSettings};

/// Jira (Cloud or Data Center, with Jira Service Management) as a [`TicketingSystem`] and
/// a [`Provisioner`].
#[derive(Debug, Clone)]
pub struct JiraConnector {
    pub(crate) client: JiraClient,
    pub(crate) settings: Arc<JiraSettings>,
    pub(crate) status_map: Arc<StatusMap>,
    info: ConnectorInfo,
    types: Arc<[EntitlementType]>,
}

impl JiraConnector {
    /// A connector over a ready client: sugar beside
    /// [`from_settings`](Self::from_settings), which builds the client and calls this.
    pub fn new(client: JiraClient, settings: JiraSettings, status_map: StatusMap) -> Self {
        use Capability as C;
        let mut caps = vec![
            C::GetTicket,
            C::BatchGetTickets,
            C::FindByCorrelation,
            C::Comment,
            C::CloseTicket,
            C::ListAccounts,
            C::ListEntitlements,
            C::ListGrants,
            C::CreateAccount,
            C::DeleteAccount,
            C::Grant,
            C::Revoke,
            C::ListTickets,
            C::ListComments,
            C::AccountSchema,
        ];
        if settings.project.is_some() {
            caps.push(C::TicketSchema);
        }
        if settings.project.is_some() || settings.service_desk.is_some() {
            caps.push(C::CreateTicket);
        }
        // Jira Cloud's REST API has no user update or deactivation (org admin API/SCIM).
        if client.deployment() == Deployment::DataCenter {
            caps.extend([C::UpdateAccount, C::EnableDisable]);
        }
        let info = ConnectorInfo::new("jira", settings.name.clone())
            .with(caps)
            .with_ticket_kinds([
                TicketKind::Incident,
                TicketKind::Change,
                TicketKind::Request,
                TicketKind::Problem,
                TicketKind::Task,
            ]);
        JiraConnector {
            client,
            settings: Arc::new(settings),
            status_map: Arc::new(status_map),
            info,
            types: Arc::from([EntitlementType::group()]),
        }
    }

    /// The low-level client.
    pub fn client(&self) -> &JiraClient {
        &self.client
    }

    /// The settings.
    pub fn settings(&self) -> &JiraSettings {
        &self.settings
    }

    /// The status map in use (defaults plus settings' overrides).
    pub fn status_map(&self) -> &StatusMap {
        &self.status_map
    }

    pub(crate) fn types(&self) -> &[EntitlementType] {
        &self.types
    }

    /// A group entitlement: the group id on Cloud, the group name on Data Center.
    pub fn group_entitlement(group: impl Into<String>) -> accesslink_core::EntitlementRef {
        accesslink_core::EntitlementRef::new(EntitlementType::group(), group.into())
    }
}

/// A person from a Jira user: id = account id (Cloud) or key/name (Data Center), login =
/// name (Data Center) or account id (Cloud), the display name, and the e-mail when the
/// user's privacy settings show it.
pub(crate) fn person(u: &User) -> Person {
    Person {
        id: u
            .account_id
            .clone()
            .or_else(|| u.key.clone())
            .or_else(|| u.name.clone()),
        login: u.name.clone().or_else(|| u.account_id.clone()),
        name: u.display_name.clone(),
        email: u.email_address.clone().filter(|e| !e.is_empty()),
    }
}

#[async_trait]
impl Connector for JiraConnector {
    fn info(&self) -> &ConnectorInfo {
        &self.info
    }

    /// `GET /rest/api/{v}/myself`: checks the credentials (and, with OAuth, finds the
    /// cloud id) and names the account.
    async fn test_connection(&self) -> Result<ConnectionReport> {
        let started = Instant::now();
        let http = self.client.http().await?;
        let req = http.get(&self.client.api_path("myself"))?;
        let me: User = http.send_json(req).await?;
        let mut report = ConnectionReport::new(started.elapsed());
        report.principal = me.display_name.or(me.name).or(me.account_id);
        Ok(report)
    }

    fn as_ticketing(&self) -> Option<&dyn TicketingSystem> {
        Some(self)
    }

    fn as_provisioner(&self) -> Option<&dyn Provisioner> {
        Some(self)
    }
}
