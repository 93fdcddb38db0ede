//! The `Connector` and `TicketingSystem` implementation, on top of the typed handles.

use std::sync::Arc;
use std::time::Instant;

use accesslink_core::TicketComment;
use accesslink_core::feed::TicketQuery;
use accesslink_core::paging::{Page, PageRequest};
use accesslink_core::schema::ObjectSchema;
use accesslink_core::write::write_with_lookup;
use accesslink_core::{
    Capability, Comment, ConnectionReport, Connector, ConnectorInfo, CorrelationId,
    EntitlementType, Error, NewTicket, Provisioner, Resolution, Result, StatusMap, Ticket,
    TicketKind, TicketRef, TicketingSystem, async_trait,
};

use crate::api::{ListParams, TableApi};
use crate::client::{Credentials, ServiceNowClient};
use crate::models::TaskRecord;
use crate::query::Query;
use crate::refs::Routes;
use crate::settings::{ServiceNowAuth, ServiceNowConfig, ServiceNowSettings};

/// ServiceNow as a [`TicketingSystem`] and a [`Provisioner`].
#[derive(Debug, Clone)]
pub struct ServiceNowConnector {
    pub(crate) client: ServiceNowClient,
    pub(crate) config: Arc<ServiceNowConfig>,
    pub(crate) routes: Arc<Routes>,
    pub(crate) status_map: Arc<StatusMap>,
    info: ConnectorInfo,
    pub(crate) types: Arc<[EntitlementType]>,
}

impl ServiceNowConnector {
    /// The connector the settings describe: every option checked, every secret
    /// resolved, the client built — before any request. Problems are
    /// [`ErrorKind::Config`](accesslink_core::ErrorKind::Config) errors naming the key.
    pub fn from_settings(settings: ServiceNowSettings) -> Result<Self> {
        let config = settings.config()?;
        let (credentials, token_url) = match settings.auth {
            ServiceNowAuth::Basic { user, password } => (
                Credentials::Basic {
                    user,
                    password: password.resolve("servicenow auth.password")?,
                },
                None,
            ),
            ServiceNowAuth::OAuthPassword {
                client_id,
                client_secret,
                user,
                password,
                token_url,
            } => (
                Credentials::OAuthPassword {
                    client_id,
                    client_secret: client_secret.resolve("servicenow auth.client_secret")?,
                    user,
                    password: password.resolve("servicenow auth.password")?,
                },
                token_url,
            ),
        };
        let mut builder = ServiceNowClient::builder(settings.base_url.as_str())
            .instance(settings.name)
            .credentials(credentials)
            .http(settings.http);
        if let Some(u) = token_url {
            builder = builder.token_url(u.as_str());
        }
        Self::new(builder.build()?, config)
    }

    /// A connector over an existing client, with these options: the part of
    /// [`from_settings`](Self::from_settings) after the client is built. Fails with
    /// `ErrorKind::Config` when a custom prefix, table or field name is malformed.
    pub fn new(client: ServiceNowClient, config: ServiceNowConfig) -> Result<Self> {
        use Capability as C;
        let routes = Routes::new(&config.custom_prefixes)?;
        let status_map = crate::status::default_status_map().with_overrides(&config.status_map);
        crate::api::check_table(&config.request_table).map_err(|e| Error::config(e.to_string()))?;
        for f in &config.extra_fields {
            crate::query::check_field(f).map_err(|e| Error::config(e.to_string()))?;
        }
        let info = ConnectorInfo::new("servicenow", config.instance.clone())
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
                C::DeleteAccount,
                C::Grant,
                C::Revoke,
                C::ListTickets,
                C::ListComments,
                C::TicketSchema,
                C::AccountSchema,
                C::SetPassword,
                C::CreateWithPassword,
            ])
            .with_ticket_kinds([
                TicketKind::Incident,
                TicketKind::Change,
                TicketKind::ChangeTask,
                TicketKind::Request,
                TicketKind::RequestItem,
                TicketKind::Problem,
                TicketKind::Project,
                TicketKind::ProjectTask,
                TicketKind::Task,
            ]);
        Ok(ServiceNowConnector {
            client,
            config: Arc::new(config),
            routes: Arc::new(routes),
            status_map: Arc::new(status_map),
            info,
            types: Arc::from([EntitlementType::group(), EntitlementType::role()]),
        })
    }

    /// The low-level client.
    pub fn client(&self) -> &ServiceNowClient {
        &self.client
    }

    /// The settings.
    pub fn config(&self) -> &ServiceNowConfig {
        &self.config
    }

    /// A task-table handle that also reads the configured custom fields.
    pub(crate) fn tasks_in(&self, table: &str) -> TableApi<'_, TaskRecord> {
        self.client
            .table::<TaskRecord>(table)
            .with_fields(&self.config.extra_fields)
    }

    /// The status map in use: the default with the settings' overrides.
    pub fn status_map(&self) -> &StatusMap {
        &self.status_map
    }

    /// The status of a task row of `table`.
    pub(crate) fn status_of(&self, table: &str, row: &TaskRecord) -> accesslink_core::TicketStatus {
        crate::status::status_of(&self.status_map, table, row)
    }
}

#[async_trait]
impl Connector for ServiceNowConnector {
    fn info(&self) -> &ConnectorInfo {
        &self.info
    }

    /// Reads the signed-in user's own `sys_user` row: proves the credentials and the
    /// Table API access in one request.
    async fn test_connection(&self) -> Result<ConnectionReport> {
        let started = Instant::now();
        let user = self.client.user().to_owned();
        let query = match crate::query::check_value(&user) {
            Ok(()) => Query::new().eq("user_name", &user),
            Err(_) => Query::new(),
        };
        let page = self
            .client
            .users()
            .list_page(&ListParams::new(query).limit(1).no_count(true))
            .await?;
        let mut report = ConnectionReport::new(started.elapsed());
        // Only the signed-in user's own row names the principal: the unfiltered read
        // (a user name a query cannot carry) returns whichever user comes first.
        report.principal = crate::accounts::pick_login(page.items, &user)
            .and_then(|u| u.user_name)
            .or(Some(user));
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

#[async_trait]
impl TicketingSystem for ServiceNowConnector {
    /// Accepts a number with a known prefix (`INC0010001`, `RITM0010007`, any case,
    /// surrounding spaces ignored) or a 32-hex `sys_id`.
    fn parse_ticket_ref(&self, raw: &str) -> Result<TicketRef> {
        self.routes.parse(raw)
    }

    async fn create_ticket(&self, new: &NewTicket) -> Result<Ticket> {
        new.correlation_id.check_plain()?;
        // Everything is checked before the first request.
        let (table, mut body, login) = self.create_body(new)?;
        if let Some(existing) = self.find_in(&table, &new.correlation_id).await? {
            tracing::info!(correlation_id = %new.correlation_id, ticket = ?existing.reference.number(), "ticket already exists");
            return Ok(existing);
        }
        if let Some((field, login)) = login {
            let id = self.user_id_by_login(&login).await?.ok_or_else(|| {
                Error::not_found(format!(
                    "ServiceNow user with user_name {login:?} (the requester)"
                ))
            })?;
            body.insert(field.to_owned(), id.into());
        }
        let api = self.tasks_in(&table);
        // The answer may be lost or the instance may fail with the row stored: look
        // before sending again, so a retry never opens a second ticket. `None` is a
        // 201 without a row.
        let written = write_with_lookup(
            self.client.http().retry_config(),
            "create ticket",
            |_| async {
                let row = api.create(&body).await?;
                Ok(row.sys_id.is_some().then(|| self.to_ticket(&table, &row)))
            },
            || async { Ok(self.find_in(&table, &new.correlation_id).await?.map(Some)) },
        )
        .await?;
        match written.into_inner() {
            Some(t) => Ok(t),
            // 201 without a row: a business rule aborted the insert yet the instance
            // answered success (fact sheet §1 quirks). Never a ticket without an id.
            None => self
                .find_in(&table, &new.correlation_id)
                .await?
                .ok_or_else(|| aborted_insert(&table)),
        }
    }

    /// Looks on `task`, which holds every task-family table.
    async fn find_by_correlation(&self, id: &CorrelationId) -> Result<Option<Ticket>> {
        id.check_plain()?;
        self.find_in("task", id).await
    }

    async fn get_ticket(&self, r: &TicketRef) -> Result<Option<Ticket>> {
        let target = self.routes.resolve(r)?;
        self.read(&target).await
    }

    async fn get_tickets(&self, refs: &[TicketRef]) -> Result<Vec<Ticket>> {
        let targets = refs
            .iter()
            .map(|r| self.routes.resolve(r))
            .collect::<Result<Vec<_>>>()?;
        self.read_many(&targets).await
    }

    async fn add_comment(&self, r: &TicketRef, c: &Comment) -> Result<()> {
        let target = self.routes.resolve(r)?;
        if c.body.trim().is_empty() {
            return Err(Error::invalid_input("a ServiceNow comment needs text"));
        }
        let (table, sys_id) = self.locate(&target).await?;
        self.comment(&table, &sys_id, c).await
    }

    async fn close_ticket(&self, r: &TicketRef, how: &Resolution) -> Result<Ticket> {
        let target = self.routes.resolve(r)?;
        if how
            .code
            .as_deref()
            .is_some_and(|c| c.chars().any(char::is_control))
        {
            return Err(Error::invalid_input(
                "a close code may not hold control characters",
            ));
        }
        self.close(&target, how).await
    }

    /// `sys_updated_on>=` (UTC, to the second) on the kind's table, oldest update
    /// first; `scope` is a catalogue item (`cat_item`) for request items, an
    /// assignment group otherwise, by sys_id or name. See `docs/connectors/servicenow.md`.
    async fn list_tickets(&self, query: &TicketQuery, page: PageRequest) -> Result<Page<Ticket>> {
        self.list_page(query, page).await
    }

    /// `sys_journal_field` rows: `comments` public, `work_notes` internal, oldest first.
    async fn list_comments(&self, r: &TicketRef) -> Result<Vec<TicketComment>> {
        self.journal_of(r).await
    }

    /// `sys_dictionary` of the kind's table and of `task`, with `sys_choice` values.
    async fn ticket_schema(&self, kind: &TicketKind) -> Result<ObjectSchema> {
        self.ticket_fields(kind).await
    }
}

/// The error of an insert the instance answered as a success without storing a row.
pub(crate) fn aborted_insert(table: &str) -> Error {
    Error::Conflict {
        message: format!(
            "ServiceNow answered the insert into {table} without a stored row: a business rule aborted it"
        ),
    }
}
