//! The three traits every connector implements, and capability discovery.

use std::collections::BTreeSet;
use std::fmt::{self, Debug};
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::feed::TicketQuery;
use crate::identity::{
    Account, AccountChange, AccountSpec, CreateOutcome, Entitlement, EntitlementRef,
    EntitlementType, Grant, GrantOutcome, RevokeOutcome,
};
use crate::ids::{AccountId, CorrelationId, TicketRef};
use crate::paging::{Page, PageRequest};
use crate::schema::ObjectSchema;
use crate::secret::Password;
use crate::ticket::{Comment, NewTicket, Resolution, Ticket, TicketComment, TicketKind};

/// One thing a connector can do.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Capability {
    /// Open tickets.
    CreateTicket,
    /// Read tickets by reference.
    GetTicket,
    /// Read several tickets in one request.
    BatchGetTickets,
    /// Find a ticket by correlation id.
    FindByCorrelation,
    /// Comment on tickets.
    Comment,
    /// Close tickets.
    CloseTicket,
    /// List accounts.
    ListAccounts,
    /// List entitlements.
    ListEntitlements,
    /// List grants.
    ListGrants,
    /// Create accounts.
    CreateAccount,
    /// Update accounts.
    UpdateAccount,
    /// Enable and disable accounts.
    EnableDisable,
    /// Delete accounts.
    DeleteAccount,
    /// Grant entitlements.
    Grant,
    /// Revoke entitlements.
    Revoke,
    /// List tickets by query, with an updated-since watermark (a change feed).
    ListTickets,
    /// Read a ticket's comments back.
    ListComments,
    /// Describe the fields of ticket kinds.
    TicketSchema,
    /// Describe the fields of accounts.
    AccountSchema,
    /// Set an account's password.
    SetPassword,
    /// Create accounts with a password given per account.
    CreateWithPassword,
}

/// Which target, which instance, and what it can do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ConnectorInfo {
    /// The target system (`servicenow`, `otrs`, …).
    pub target: &'static str,
    /// The instance name from configuration.
    pub instance: String,
    /// What this connector can do against this instance.
    pub capabilities: BTreeSet<Capability>,
    /// The ticket kinds it can open and read.
    pub ticket_kinds: Vec<TicketKind>,
}

impl ConnectorInfo {
    /// Info for a target instance with no capabilities yet.
    pub fn new(target: &'static str, instance: impl Into<String>) -> Self {
        ConnectorInfo {
            target,
            instance: instance.into(),
            capabilities: BTreeSet::new(),
            ticket_kinds: Vec::new(),
        }
    }

    /// Adds capabilities.
    #[must_use]
    pub fn with(mut self, caps: impl IntoIterator<Item = Capability>) -> Self {
        self.capabilities.extend(caps);
        self
    }

    /// Sets the ticket kinds.
    #[must_use]
    pub fn with_ticket_kinds(mut self, kinds: impl IntoIterator<Item = TicketKind>) -> Self {
        self.ticket_kinds = kinds.into_iter().collect();
        self
    }

    /// Whether the connector declares `cap`.
    pub fn supports(&self, cap: &Capability) -> bool {
        self.capabilities.contains(cap)
    }
}

impl fmt::Display for ConnectorInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.target, self.instance)
    }
}

/// What `test_connection` found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ConnectionReport {
    /// The identity we authenticated as, if the target tells.
    pub principal: Option<String>,
    /// The target's version, if it tells.
    pub server_version: Option<String>,
    /// How long authentication plus one cheap read took.
    pub latency: Duration,
}

impl ConnectionReport {
    /// A report with a latency.
    pub fn new(latency: Duration) -> Self {
        ConnectionReport {
            principal: None,
            server_version: None,
            latency,
        }
    }
}

/// A connection to one target instance.
#[async_trait]
pub trait Connector: Send + Sync + Debug {
    /// Target, instance and capabilities.
    fn info(&self) -> &ConnectorInfo;

    /// Authenticates and makes one cheap read.
    async fn test_connection(&self) -> Result<ConnectionReport>;

    /// The ticketing side, if the target has one.
    fn as_ticketing(&self) -> Option<&dyn TicketingSystem> {
        None
    }

    /// The provisioning side, if the target has one.
    fn as_provisioner(&self) -> Option<&dyn Provisioner> {
        None
    }

    /// The provisioning side's split of its listings into key ranges, if it has one
    /// (see [`partition`](crate::partition)). [`Connection::partitioner`](crate::Connection::partitioner)
    /// falls back to one partition for connectors without it.
    fn as_partitioner(&self) -> Option<&dyn crate::partition::Partitioner> {
        None
    }
}

/// Tickets: open, follow, comment, close.
#[async_trait]
pub trait TicketingSystem: Connector {
    /// Checks a user-supplied ticket id and turns it into a reference, rejecting
    /// anything malformed or injected before any request is made.
    fn parse_ticket_ref(&self, raw: &str) -> Result<TicketRef>;

    /// Opens a ticket, or returns the one already opened with the same correlation id.
    async fn create_ticket(&self, new: &NewTicket) -> Result<Ticket>;

    /// Finds the ticket opened with this correlation id.
    async fn find_by_correlation(&self, id: &CorrelationId) -> Result<Option<Ticket>>;

    /// Reads one ticket; `Ok(None)` when it does not exist.
    async fn get_ticket(&self, r: &TicketRef) -> Result<Option<Ticket>>;

    /// Reads several tickets, batched where the API allows. Missing tickets are left
    /// out; the order of the result is unspecified.
    async fn get_tickets(&self, refs: &[TicketRef]) -> Result<Vec<Ticket>>;

    /// Adds a comment.
    async fn add_comment(&self, r: &TicketRef, c: &Comment) -> Result<()>;

    /// Closes (or resolves) the ticket and returns it as it is now.
    async fn close_ticket(&self, r: &TicketRef, how: &Resolution) -> Result<Ticket>;

    /// One page of the tickets `query` selects (see [`feed`](crate::feed)). With an
    /// `updated_since` the watermark is sent to the server as a filter (inclusive), so a
    /// poll costs requests in proportion to what changed; every returned ticket carries
    /// its `updated` time. Declared by [`Capability::ListTickets`].
    async fn list_tickets(&self, query: &TicketQuery, page: PageRequest) -> Result<Page<Ticket>> {
        let _ = (query, page);
        Err(unsupported("list_tickets", self.info()))
    }

    /// A ticket's comments (articles, journal entries, work notes), oldest first, with
    /// their ids, authors, visibility and times. A ticket that does not exist is a
    /// `NotFound` error. Declared by [`Capability::ListComments`].
    async fn list_comments(&self, r: &TicketRef) -> Result<Vec<TicketComment>> {
        let _ = r;
        Err(unsupported("list_comments", self.info()))
    }

    /// The fields tickets of `kind` have. Declared by [`Capability::TicketSchema`].
    async fn ticket_schema(&self, kind: &TicketKind) -> Result<ObjectSchema> {
        let _ = kind;
        Err(unsupported("ticket_schema", self.info()))
    }
}

fn unsupported(operation: &'static str, info: &ConnectorInfo) -> Error {
    Error::Unsupported {
        operation,
        target: info.target,
    }
}

/// Accounts, entitlements and grants.
#[async_trait]
pub trait Provisioner: Connector {
    /// The entitlement types the target has.
    fn entitlement_types(&self) -> &[EntitlementType];

    /// One page of accounts.
    async fn list_accounts(&self, page: PageRequest) -> Result<Page<Account>>;

    /// One account; `Ok(None)` when it does not exist.
    async fn get_account(&self, id: &AccountId) -> Result<Option<Account>>;

    /// One page of entitlements of a type.
    async fn list_entitlements(
        &self,
        ty: &EntitlementType,
        page: PageRequest,
    ) -> Result<Page<Entitlement>>;

    /// One page of grants of a type.
    async fn list_grants(&self, ty: &EntitlementType, page: PageRequest) -> Result<Page<Grant>>;

    /// Creates an account; an existing login is `AlreadyExists`, not an error.
    async fn create_account(&self, spec: &AccountSpec) -> Result<CreateOutcome>;

    /// Changes an account's attributes.
    async fn update_account(&self, id: &AccountId, change: &AccountChange) -> Result<Account>;

    /// Enables or disables an account.
    async fn set_enabled(&self, id: &AccountId, enabled: bool) -> Result<()>;

    /// Deletes an account.
    async fn delete_account(&self, id: &AccountId) -> Result<()>;

    /// Grants an entitlement; already held is `AlreadyGranted`.
    async fn grant(&self, id: &AccountId, e: &EntitlementRef) -> Result<GrantOutcome>;

    /// Revokes an entitlement; not held is `AlreadyAbsent`.
    async fn revoke(&self, id: &AccountId, e: &EntitlementRef) -> Result<RevokeOutcome>;

    /// The fields accounts have. Declared by [`Capability::AccountSchema`].
    async fn account_schema(&self) -> Result<ObjectSchema> {
        Err(unsupported("account_schema", self.info()))
    }

    /// Sets an account's password. The value is sent once, never logged, and masked
    /// in dry-run plans. Declared by [`Capability::SetPassword`].
    async fn set_password(&self, id: &AccountId, password: &Password) -> Result<()> {
        let _ = (id, password);
        Err(unsupported("set_password", self.info()))
    }
}
