//! [`Connection`]: owned, shareable handles on one connector instance, whatever its
//! concrete type.
//!
//! A connector chosen at run time from configuration is a `Arc<dyn Connector>`; the
//! workflow (`TicketGate`, `Fulfiller`) and an embedder's own tasks want
//! `Arc<dyn TicketingSystem>` and `Arc<dyn Provisioner>` they can keep and move between
//! tasks. [`Connection::ticketing`] and [`Connection::provisioner`] give them, for any
//! connector, by handing out a small owned handle that forwards every call to the
//! connector's own [`as_ticketing`](Connector::as_ticketing) /
//! [`as_provisioner`](Connector::as_provisioner) side.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;

use crate::connector::{ConnectionReport, Connector, ConnectorInfo, Provisioner, TicketingSystem};
use crate::error::Result;
use crate::feed::TicketQuery;
use crate::identity::{
    Account, AccountChange, AccountSpec, CreateOutcome, Entitlement, EntitlementRef,
    EntitlementType, Grant, GrantOutcome, RevokeOutcome,
};
use crate::ids::{AccountId, CorrelationId, TicketRef};
use crate::paging::{Page, PageRequest};
use crate::partition::{Listing, Partition, Partitioner};
use crate::schema::ObjectSchema;
use crate::secret::Password;
use crate::ticket::{Comment, NewTicket, Resolution, Ticket, TicketComment, TicketKind};

/// Owned handles on one connector instance. Cheap to clone; every handle shares the
/// connector (its HTTP connections, tokens and rate limiter).
///
/// ```
/// # use std::sync::Arc;
/// # use accesslink_core::{Connection, Connector};
/// # fn run(connector: Arc<dyn Connector>) {
/// let conn = Connection::new(connector);
/// if let Some(tickets) = conn.ticketing() {
///     // An `Arc<dyn TicketingSystem>`: hand it to a `TicketGate`, a task, …
///     let _moved = std::thread::spawn(move || drop(tickets));
/// }
/// # }
/// ```
#[derive(Clone)]
pub struct Connection {
    connector: Arc<dyn Connector>,
}

impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection")
            .field("connector", &self.connector)
            .finish()
    }
}

impl Connection {
    /// Handles on `connector`.
    pub fn new(connector: Arc<dyn Connector>) -> Self {
        Connection { connector }
    }

    /// The connector itself.
    pub fn connector(&self) -> Arc<dyn Connector> {
        self.connector.clone()
    }

    /// Target, instance and capabilities.
    pub fn info(&self) -> &ConnectorInfo {
        self.connector.info()
    }

    /// The ticketing side as an owned handle, if the connector has one.
    pub fn ticketing(&self) -> Option<Arc<dyn TicketingSystem>> {
        self.connector.as_ticketing()?;
        Some(Arc::new(Handle(self.connector.clone())))
    }

    /// The provisioning side as an owned handle, if the connector has one.
    pub fn provisioner(&self) -> Option<Arc<dyn Provisioner>> {
        self.connector.as_provisioner()?;
        Some(Arc::new(Handle(self.connector.clone())))
    }

    /// The provisioning side as a [`Partitioner`] for partitioned imports
    /// ([`accounts_partitioned`](crate::partition::accounts_partitioned)), if the
    /// connector has a provisioning side: its own key ranges where it splits its
    /// listings ([`Connector::as_partitioner`]), one partition (the whole listing)
    /// where it does not.
    pub fn partitioner(&self) -> Option<Arc<dyn Partitioner>> {
        self.connector.as_provisioner()?;
        Some(Arc::new(Handle(self.connector.clone())))
    }
}

impl From<Arc<dyn Connector>> for Connection {
    fn from(c: Arc<dyn Connector>) -> Self {
        Connection::new(c)
    }
}

impl From<Box<dyn Connector>> for Connection {
    fn from(c: Box<dyn Connector>) -> Self {
        Connection::new(Arc::from(c))
    }
}

/// Forwards to the connector's own ticketing or provisioning side. Built only after
/// checking that the side exists; connectors answer `as_ticketing`/`as_provisioner`
/// the same way every time.
struct Handle(Arc<dyn Connector>);

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl Handle {
    fn tickets(&self) -> &dyn TicketingSystem {
        self.0
            .as_ticketing()
            .expect("a connector's as_ticketing() changed its answer")
    }

    fn accounts(&self) -> &dyn Provisioner {
        self.0
            .as_provisioner()
            .expect("a connector's as_provisioner() changed its answer")
    }
}

#[async_trait]
impl Connector for Handle {
    fn info(&self) -> &ConnectorInfo {
        self.0.info()
    }

    async fn test_connection(&self) -> Result<ConnectionReport> {
        self.0.test_connection().await
    }

    fn as_ticketing(&self) -> Option<&dyn TicketingSystem> {
        self.0.as_ticketing()
    }

    fn as_provisioner(&self) -> Option<&dyn Provisioner> {
        self.0.as_provisioner()
    }
}

#[async_trait]
impl TicketingSystem for Handle {
    fn parse_ticket_ref(&self, raw: &str) -> Result<TicketRef> {
        self.tickets().parse_ticket_ref(raw)
    }

    async fn create_ticket(&self, new: &NewTicket) -> Result<Ticket> {
        self.tickets().create_ticket(new).await
    }

    async fn find_by_correlation(&self, id: &CorrelationId) -> Result<Option<Ticket>> {
        self.tickets().find_by_correlation(id).await
    }

    async fn get_ticket(&self, r: &TicketRef) -> Result<Option<Ticket>> {
        self.tickets().get_ticket(r).await
    }

    async fn get_tickets(&self, refs: &[TicketRef]) -> Result<Vec<Ticket>> {
        self.tickets().get_tickets(refs).await
    }

    async fn add_comment(&self, r: &TicketRef, c: &Comment) -> Result<()> {
        self.tickets().add_comment(r, c).await
    }

    async fn close_ticket(&self, r: &TicketRef, how: &Resolution) -> Result<Ticket> {
        self.tickets().close_ticket(r, how).await
    }

    async fn list_tickets(&self, query: &TicketQuery, page: PageRequest) -> Result<Page<Ticket>> {
        self.tickets().list_tickets(query, page).await
    }

    async fn list_comments(&self, r: &TicketRef) -> Result<Vec<TicketComment>> {
        self.tickets().list_comments(r).await
    }

    async fn ticket_schema(&self, kind: &TicketKind) -> Result<ObjectSchema> {
        self.tickets().ticket_schema(kind).await
    }
}

#[async_trait]
impl Provisioner for Handle {
    fn entitlement_types(&self) -> &[EntitlementType] {
        self.accounts().entitlement_types()
    }

    async fn list_accounts(&self, page: PageRequest) -> Result<Page<Account>> {
        self.accounts().list_accounts(page).await
    }

    async fn get_account(&self, id: &AccountId) -> Result<Option<Account>> {
        self.accounts().get_account(id).await
    }

    async fn list_entitlements(
        &self,
        ty: &EntitlementType,
        page: PageRequest,
    ) -> Result<Page<Entitlement>> {
        self.accounts().list_entitlements(ty, page).await
    }

    async fn list_grants(&self, ty: &EntitlementType, page: PageRequest) -> Result<Page<Grant>> {
        self.accounts().list_grants(ty, page).await
    }

    async fn create_account(&self, spec: &AccountSpec) -> Result<CreateOutcome> {
        self.accounts().create_account(spec).await
    }

    async fn update_account(&self, id: &AccountId, change: &AccountChange) -> Result<Account> {
        self.accounts().update_account(id, change).await
    }

    async fn set_enabled(&self, id: &AccountId, enabled: bool) -> Result<()> {
        self.accounts().set_enabled(id, enabled).await
    }

    async fn delete_account(&self, id: &AccountId) -> Result<()> {
        self.accounts().delete_account(id).await
    }

    async fn grant(&self, id: &AccountId, e: &EntitlementRef) -> Result<GrantOutcome> {
        self.accounts().grant(id, e).await
    }

    async fn revoke(&self, id: &AccountId, e: &EntitlementRef) -> Result<RevokeOutcome> {
        self.accounts().revoke(id, e).await
    }

    async fn account_schema(&self) -> Result<ObjectSchema> {
        self.accounts().account_schema().await
    }

    async fn set_password(&self, id: &AccountId, password: &Password) -> Result<()> {
        self.accounts().set_password(id, password).await
    }
}

#[async_trait]
impl Partitioner for Handle {
    fn splits(&self, listing: &Listing) -> bool {
        self.0.as_partitioner().is_some_and(|p| p.splits(listing))
    }

    fn keyset(&self, listing: &Listing) -> bool {
        self.0.as_partitioner().is_some_and(|p| p.keyset(listing))
    }

    async fn partitions(&self, listing: &Listing, n: u32) -> Result<Vec<Partition>> {
        match self.0.as_partitioner() {
            Some(p) => p.partitions(listing, n).await,
            None => Ok(Partition::whole(listing)),
        }
    }
}
