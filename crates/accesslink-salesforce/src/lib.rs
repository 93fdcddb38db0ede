//! # accesslink-salesforce
//!
//! [Salesforce](https://www.salesforce.com) — Service Cloud cases, and BMC Remedyforce
//! (a managed package on the same platform) — as an accesslink
//! [`TicketingSystem`](accesslink_core::TicketingSystem).
//!
//! | | Service Cloud (`profile = "service_cloud"`) | Remedyforce (`profile = "remedyforce"`) |
//! |---|---|---|
//! | tickets | `Case`, number `CaseNumber` | `BMCServiceDesk__Incident__c` (incidents, requests), `BMCServiceDesk__Change_Request__c`, `BMCServiceDesk__Task__c` (tasks), number `Name` |
//! | closed | `IsClosed` (the status's "Is Closed" flag) | `BMCServiceDesk__state__c` (`true` = open) |
//! | close | `Status` = configured closed value | status lookup `BMCServiceDesk__Status__c` found by name |
//! | comment | `CaseComment` (`IsPublished`) | Chatter `FeedItem` (`Visibility`) |
//!
//! | capability | how |
//! |---|---|
//! | auth | OAuth client credentials (My Domain), username + password + security token, refresh token; the token's `instance_url` is where calls go ([`client`]) |
//! | parse | a number (`00001026`) or a 15/18-character id with its checksum ([`ids`]) |
//! | create | idempotent: upsert on an External ID field, or a lookup of the correlation field before the create and after an ambiguous failure |
//! | get, batch get | SOQL by `Id` or number, one `IN` per batch, each hit confirmed; paging by `nextRecordsUrl` until `done` |
//! | approval | the latest `ProcessInstance` (unknown values are pending) |
//! | state | status name and the closed flag through a [`StatusMap`](accesslink_core::StatusMap) ([`status`]) |
//! | provisioning | `User` (create with the required defaults and an optional initial password, update, `IsActive` or freeze through `UserLogin.IsFrozen`; delete is `Unsupported`), permission sets and permission set groups (`PermissionSetAssignment`), public groups and queues (`GroupMember`) and the profile as entitlements ([`provision`]), keyset paging on `Id` |
//! | partitioned imports | `User` `Id` ranges (`Id >= 'X' AND Id < 'Y'`), cut at `Id` quantiles (`OFFSET`, up to its 2,000 cap) or equal base-62 widths beyond; each range keyset-paged ([`partition`]) |
//! | bulk | [`SalesforceConnector::grant_all`] / [`revoke_all`](SalesforceConnector::revoke_all): sObject Collections, 200 per request, every item's result read ([`composite`]) |
//! | daily quota | `Sforce-Limit-Info` read from every answer, an [`ApiUsageMetrics`] hook, imports stopped at a configured share ([`limits`]) |
//! | intake | `list_tickets` with a `LastModifiedDate` watermark, `list_comments`, schemas from `describe`, `set_password` ([`intake`]) |
//!
//! Every SOQL value goes through a quoting builder ([`soql`]). Error arrays
//! `[{message, errorCode, fields}]` become core errors ([`error`]); the daily-limit
//! `REQUEST_LIMIT_EXCEEDED` (403) is `RateLimited`. See `docs/connectors/salesforce.md`.
//!
//! ## Quick start
//!
//! ```no_run
//! use accesslink_core::{CorrelationId, NewTicket, TicketKind, TicketingSystem};
//! use accesslink_salesforce::{SalesforceConnector, SalesforceSettings};
//!
//! # async fn run() -> accesslink_core::Result<()> {
//! let settings: SalesforceSettings = serde_json::from_value(serde_json::json!({
//!     "login_url": "https://acme.my.salesforce.com",
//!     "auth": { "method": "client_credentials", "client_id": "3MVG9…",
//!               "client_secret": { "env": "SF_CLIENT_SECRET" } },
//!     "correlation_field": "External_Ref__c"
//! }))
//! .expect("valid settings");
//! let sf = SalesforceConnector::from_settings(settings)?;
//! let new = NewTicket::new(
//!     TicketKind::Case,
//!     "Grant payroll access to Jane",
//!     "Requested in IAM request 7781.",
//!     CorrelationId::new("IAM-7781"),
//! );
//! let case = sf.create_ticket(&new).await?; // a second call finds the same case
//! let typed = sf.parse_ticket_ref("00001026")?; // refused before any request if malformed
//! let gate = sf.get_ticket(&typed).await?;
//! println!("{} {:?} {:?}", case.reference, case.status.state, gate.map(|t| t.approval));
//! # Ok(()) }
//! ```

pub mod client;
pub mod composite;
mod connector;
pub mod error;
pub mod ids;
pub mod intake;
pub mod limits;
pub mod models;
pub mod partition;
pub mod provision;
pub mod settings;
pub mod soql;
pub mod status;
mod tickets;

pub use client::SalesforceClient;
pub use connector::SalesforceConnector;
pub use limits::{ApiBudget, ApiUsage, ApiUsageMetrics};
pub use settings::{
    DisableBy, Profile, RemedyforceSettings, SalesforceAuth, SalesforceSettings, UserDefaults,
};
