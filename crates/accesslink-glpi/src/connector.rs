//! The `Connector` and `TicketingSystem` implementation, on top of the typed handles.

use std::sync::Arc;
use std::time::Instant;

use accesslink_core::write::write_with_lookup;
use accesslink_core::{
    Capability, Comment, ConnectionReport, Connector, ConnectorInfo, CorrelationId,
    EntitlementType, Error, NewTicket, Provisioner, Resolution, Result, StatusMap, Ticket,
    TicketKind, TicketRef, TicketingSystem, Visibility, async_trait,
};
use serde_json::{Value, json};

use crate::api::{Items, ListParams};
use crate::client::GlpiClient;
use crate::models::{ItilObject, NewTimelineItem, decode_text};
use crate::refs::{parse_raw, reference, resolve};
use crate::settings::{CloseMode, FollowupPrivacy, GlpiConfig, GlpiSettings};
use crate::status::{ItilKind, status_map_with};

/// GLPI as a [`TicketingSystem`] and a [`Provisioner`].
#[derive(Debug, Clone)]
pub struct GlpiConnector {
    pub(crate) client: GlpiClient,
    pub(crate) settings: Arc<GlpiSettings>,
    pub(crate) states: Arc<StatusMap>,
    info: ConnectorInfo,
    pub(crate) types: Arc<[EntitlementType]>,
}

impl GlpiConnector {
    /// A connector from settings: the one construction path. Checks every setting and
    /// resolves the secrets before any request; a problem is an
    /// [`ErrorKind::Config`](accesslink_core::ErrorKind::Config) error naming the key.
    pub fn from_settings(settings: GlpiSettings) -> Result<Self> {
        let client = GlpiClient::from_settings(&settings)?;
        Ok(Self::from_parts(client, settings))
    }

    /// A connector over a client from [`GlpiClient::builder`], with these behaviour
    /// options: sugar that applies `config` onto the client's [`GlpiSettings`].
    /// Out-of-range sizes are brought into range, as [`GlpiConfig`]'s setters do.
    pub fn new(client: GlpiClient, config: GlpiConfig) -> Self {
        let mut settings = client.settings().clone();
        settings.apply(config);
        settings.batch_size = settings.batch_size.clamp(1, 200);
        settings.page_size = settings.page_size.clamp(1, 1000);
        Self::from_parts(client, settings)
    }

    fn from_parts(client: GlpiClient, settings: GlpiSettings) -> Self {
        use Capability as C;
        let states = status_map_with(&settings.status_map);
        let info = ConnectorInfo::new("glpi", settings.name.clone())
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
                TicketKind::Request,
                TicketKind::Change,
            ]);
        GlpiConnector {
            client,
            settings: Arc::new(settings),
            states: Arc::new(states),
            info,
            types: Arc::from([EntitlementType::group(), EntitlementType::new("profile")]),
        }
    }

    /// The low-level client.
    pub fn client(&self) -> &GlpiClient {
        &self.client
    }

    /// The settings.
    pub fn settings(&self) -> &GlpiSettings {
        &self.settings
    }

    /// The status and approval tables in use: the defaults with the settings' overrides.
    pub fn status_map(&self) -> &StatusMap {
        &self.states
    }

    /// Ends the GLPI session (`killSession`); the next call logs in again.
    pub async fn close(&self) -> Result<()> {
        self.client.close().await
    }

    pub(crate) fn items(&self, kind: ItilKind) -> Items<'_, ItilObject> {
        match kind {
            ItilKind::Ticket => self.client.tickets(),
            ItilKind::Change => self.client.changes(),
        }
    }

    /// The id of the live user with this login.
    pub(crate) async fn user_id_by_login(&self, login: &str) -> Result<Option<u64>> {
        let params = ListParams::by_id().exact("name", login);
        let found = self.client.users().list(0, 20, &params).await?;
        Ok(found
            .items
            .into_iter()
            .find(|u| decode_text(&u.name).eq_ignore_ascii_case(login))
            .map(|u| u.id))
    }
}

/// Logins GLPI can hold: 1–255 characters, no control characters, no surrounding space.
pub(crate) fn valid_login(login: &str) -> bool {
    let n = login.chars().count();
    (1..=255).contains(&n) && login.trim() == login && !login.chars().any(char::is_control)
}

#[async_trait]
impl Connector for GlpiConnector {
    fn info(&self) -> &ConnectorInfo {
        &self.info
    }

    async fn test_connection(&self) -> Result<ConnectionReport> {
        let started = Instant::now();
        let req = self.client.http().get("getFullSession")?;
        let session: Value = self.client.http().send_json(req).await?;
        let mut report = ConnectionReport::new(started.elapsed());
        report.principal = session["session"]["glpiname"].as_str().map(str::to_owned);
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
impl TicketingSystem for GlpiConnector {
    /// Accepts `123` or `#123` for a ticket and `CHG-123` (also `CHG123`, `CHG#123`,
    /// `Change-123`) for a change.
    fn parse_ticket_ref(&self, raw: &str) -> Result<TicketRef> {
        let (kind, id) = parse_raw(raw)?;
        Ok(reference(kind, id))
    }

    async fn create_ticket(&self, new: &NewTicket) -> Result<Ticket> {
        new.correlation_id.check_plain()?;
        // Validate everything before the first request.
        let (kind, mut body, login) = self.create_body(new)?;
        if let Some(existing) = self.find_in(kind, &new.correlation_id).await? {
            tracing::info!(correlation_id = %new.correlation_id, ticket = ?existing.reference.number(), "ticket already exists");
            return Ok(existing);
        }
        if let Some(login) = login {
            let id = self.user_id_by_login(&login).await?.ok_or_else(|| {
                Error::not_found(format!("GLPI user with login {login:?} (the requester)"))
            })?;
            body.requester = Some(id);
        }
        // The answer was lost or the server failed: the item may exist. Look it up by
        // correlation id before trying again, so a retry never opens a second one.
        let body = &body;
        let written = write_with_lookup(
            self.client.retry_config(),
            "glpi create ticket",
            |_| async move {
                let id = self.items(kind).create(body).await?;
                self.read_required(kind, id).await
            },
            || self.find_in(kind, &new.correlation_id),
        )
        .await?;
        Ok(written.into_inner())
    }

    async fn find_by_correlation(&self, id: &CorrelationId) -> Result<Option<Ticket>> {
        id.check_plain()?;
        if let Some(t) = self.find_in(ItilKind::Ticket, id).await? {
            return Ok(Some(t));
        }
        self.find_in(ItilKind::Change, id).await
    }

    async fn get_ticket(&self, r: &TicketRef) -> Result<Option<Ticket>> {
        let (kind, id) = resolve(r)?;
        self.read(kind, id).await
    }

    async fn get_tickets(&self, refs: &[TicketRef]) -> Result<Vec<Ticket>> {
        let mut by_kind: Vec<(ItilKind, u64)> = refs.iter().map(resolve).collect::<Result<_>>()?;
        by_kind.sort_unstable();
        by_kind.dedup();
        let mut out = Vec::with_capacity(by_kind.len());
        for kind in [ItilKind::Ticket, ItilKind::Change] {
            let ids: Vec<u64> = by_kind
                .iter()
                .filter(|(k, _)| *k == kind)
                .map(|(_, id)| *id)
                .collect();
            if ids.is_empty() {
                continue;
            }
            out.extend(
                self.read_many(kind, &ids)
                    .await?
                    .into_iter()
                    .map(|item| self.to_ticket(kind, &item)),
            );
        }
        Ok(out)
    }

    async fn add_comment(&self, r: &TicketRef, c: &Comment) -> Result<()> {
        let (kind, id) = resolve(r)?;
        if c.body.trim().is_empty() {
            return Err(Error::invalid_input("a GLPI follow-up needs text"));
        }
        let private = match self.settings.followups {
            FollowupPrivacy::FromComment => c.visibility == Visibility::Internal,
            FollowupPrivacy::AlwaysPrivate => true,
            FollowupPrivacy::AlwaysPublic => false,
        };
        let input = NewTimelineItem {
            itemtype: kind.itemtype().into(),
            items_id: id,
            content: c.body.clone(),
            is_private: Some(u8::from(private)),
            solutiontypes_id: None,
        };
        match self.client.followups().create(&input).await {
            Ok(_) => Ok(()),
            // GLPI refuses a follow-up on a missing item as a permission problem: say
            // "not found" when that is what it is.
            Err(e) if e.vendor_code() == Some("ERROR_GLPI_ADD") => {
                match self.items(kind).get_opt(id).await? {
                    None => Err(Error::not_found(format!("GLPI {} {id}", kind.itemtype()))),
                    Some(_) => Err(e),
                }
            }
            Err(e) => Err(e),
        }
    }

    async fn close_ticket(&self, r: &TicketRef, how: &Resolution) -> Result<Ticket> {
        let (kind, id) = resolve(r)?;
        let solution_type = match how.code.as_deref() {
            None => None,
            Some(code) => Some(crate::refs::parse_id(code.trim()).ok_or_else(|| {
                Error::invalid_input("a GLPI close code is a solution type id (a positive integer)")
            })?),
        };
        let item = self
            .items(kind)
            .get_opt(id)
            .await?
            .ok_or_else(|| Error::not_found(format!("GLPI {} {id}", kind.itemtype())))?;
        if item.in_trash() {
            return Err(Error::Conflict {
                message: format!("GLPI {} {id} is in the trash", kind.itemtype()),
            });
        }
        let done = matches!(item.status, Some(6 | 13 | 14));
        if !done {
            if kind == ItilKind::Change && !how.successful {
                if !how.notes.trim().is_empty() {
                    self.add_comment(r, &Comment::public(how.notes.clone()))
                        .await?;
                }
                let status = self.settings.failed_change_status;
                self.items(kind)
                    .update(id, &json!({ "status": status }))
                    .await?;
            } else {
                if item.status != Some(5) {
                    self.add_solution(kind, id, &how.notes, solution_type)
                        .await?;
                }
                if self.settings.close == CloseMode::SolveAndClose {
                    self.items(kind).update(id, &json!({ "status": 6 })).await?;
                }
            }
        }
        self.read_required(kind, id).await
    }

    /// `search/<Ticket|Change>` on `date_mod` (option 19, `morethan` the watermark's
    /// second minus one), sorted by it, category (option 7) as the scope, then batched
    /// reads; see `docs/connectors/glpi.md`.
    async fn list_tickets(
        &self,
        query: &accesslink_core::feed::TicketQuery,
        page: accesslink_core::paging::PageRequest,
    ) -> Result<accesslink_core::paging::Page<Ticket>> {
        self.list_page(query, page).await
    }

    /// `GET /<Itemtype>/<id>/ITILFollowup`: `is_private` as the visibility.
    async fn list_comments(&self, r: &TicketRef) -> Result<Vec<accesslink_core::TicketComment>> {
        self.followups_of(r).await
    }

    /// `listSearchOptions/<Ticket|Change>`.
    async fn ticket_schema(
        &self,
        kind: &TicketKind,
    ) -> Result<accesslink_core::schema::ObjectSchema> {
        let itemtype = if *kind == TicketKind::Change {
            "Change"
        } else {
            "Ticket"
        };
        self.search_options(itemtype).await
    }
}
