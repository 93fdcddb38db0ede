//! # accesslink-core
//!
//! The foundation of [accesslink](https://github.com/accesslink/accesslink): the traits
//! every connector implements, the domain types they speak, one error type, and the
//! HTTP plumbing (auth, retry, timeouts, rate limit, paging) they share.
//!
//! | module | what it holds |
//! |---|---|
//! | [`connector`] | [`Connector`], [`TicketingSystem`], [`Provisioner`], capabilities |
//! | [`ticket`] | [`Ticket`], [`TicketState`], [`ApprovalState`], [`NewTicket`] |
//! | [`identity`] | accounts, entitlements, grants and the `Already…` outcomes |
//! | [`paging`] | [`PageRequest`], [`Page`], streams over all pages |
//! | [`partition`] | [`Partitioner`](partition::Partitioner): listings split into key ranges, run concurrently |
//! | [`feed`] | [`TicketQuery`], [`ChangeFeed`]: ticket listings and change feeds |
//! | [`schema`] | [`ObjectSchema`]: the fields of tickets and accounts, for field maps |
//! | [`http`] | [`HttpClient`](http::HttpClient): retries, timeouts, body cap, tracing |
//! | [`auth`] | API key, Basic, Bearer, OAuth2, session login; token caching |
//! | [`error`] | [`Error`], [`ErrorKind`] |
//! | [`secret`] | [`SecretSource`]: secrets in settings from env, file or inline |
//! | [`status`] | [`StatusMap`]: native states → [`TicketState`], overridable in settings |
//! | [`write`](mod@write) | [`write_with_lookup`](write::write_with_lookup): writes retried only after a look-up |
//!
//! ## Quick start: a client with OAuth2 and retries
//!
//! ```no_run
//! use std::sync::Arc;
//! use std::time::Duration;
//! use accesslink_core::auth::{OAuth2Auth, OAuth2Config, OAuth2Grant};
//! use accesslink_core::http::{HttpClient, RetryConfig, TimeoutConfig};
//! use secrecy::SecretString;
//!
//! # async fn run() -> accesslink_core::Result<()> {
//! let base = HttpClient::builder("example", "https://itsm.example.com/api/")
//!     .timeouts(TimeoutConfig::new().attempt(Duration::from_secs(20)))
//!     .retry(RetryConfig::default().max_attempts(4))
//!     .build()?;
//! let token_url = "https://itsm.example.com/oauth/token".parse().expect("valid URL");
//! let oauth = OAuth2Config::new(token_url, "client-id", OAuth2Grant::ClientCredentials)
//!     .client_secret(SecretString::from("from-your-vault"));
//! let client = base.with_auth(Arc::new(OAuth2Auth::new(oauth, base.clone())));
//!
//! #[derive(serde::Deserialize)]
//! struct Me { name: String }
//! let me: Me = client.send_json(client.get("me")?).await?;
//! println!("signed in as {}", me.name);
//! # Ok(()) }
//! ```
//!
//! ## Draining a provisioner
//!
//! ```no_run
//! use accesslink_core::{Provisioner, paging::{accounts, PagingOptions}};
//! use futures::TryStreamExt;
//!
//! # async fn run(p: &dyn Provisioner) -> accesslink_core::Result<()> {
//! let mut stream = accesslink_core::paging::accounts(p, PagingOptions::new().page_size(500));
//! while let Some(account) = stream.try_next().await? {
//!     println!("{} {}", account.id, account.login);
//! }
//! let report = stream.report();
//! println!("{} accounts in {} pages; resume token {:?}", report.items, report.pages, report.checkpoint);
//! # Ok(()) }
//! ```

pub mod auth;
pub mod connection;
pub mod connector;
pub mod de;
pub mod error;
pub mod feed;
pub mod http;
pub mod identity;
pub mod ids;
pub mod paging;
pub mod partition;
pub mod redact;
pub mod schema;
pub mod secret;
pub mod status;
pub mod ticket;
pub mod time;
pub mod write;

pub use connection::Connection;
pub use connector::{
    Capability, ConnectionReport, Connector, ConnectorInfo, Provisioner, TicketingSystem,
};
pub use error::{ApiError, Error, ErrorKind, PlannedRequest, Result};
pub use feed::{ChangeFeed, FeedCursor, TicketQuery};
pub use identity::{
    Account, AccountChange, AccountSpec, CreateOutcome, Entitlement, EntitlementRef,
    EntitlementType, Grant, GrantOutcome, RevokeOutcome,
};
pub use ids::{AccountId, CorrelationId, EntitlementId, RequestId, TicketRef};
pub use paging::{Page, PageRequest, PageToken};
pub use schema::{AllowedValue, FieldSchema, FieldType, ObjectSchema};
pub use secret::{Password, SecretSource};
pub use status::{StatusMap, StatusOverrides};
pub use ticket::{
    Approval, ApprovalState, Comment, NewTicket, Person, Resolution, Ticket, TicketComment,
    TicketKind, TicketState, TicketStatus, Visibility,
};

/// Re-exported for implementing the traits.
pub use async_trait::async_trait;
/// Re-exported so connectors and embedders use the same secret type.
pub use secrecy::{ExposeSecret, SecretString};
