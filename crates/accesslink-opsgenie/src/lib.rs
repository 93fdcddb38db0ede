//! # accesslink-opsgenie
//!
//! [OpsGenie](https://www.atlassian.com/software/opsgenie) as an accesslink
//! [`Provisioner`](accesslink_core::Provisioner): users, team memberships and global
//! roles over the REST API v2, with `Authorization: GenieKey <key>`.
//!
//! | capability | how |
//! |---|---|
//! | accounts | `GET /v2/users`, offset/limit paging (at most 100 a page) with `totalCount`; resumable tokens that survive deletions mid-import (`paging` notes in the docs) |
//! | get | `GET /v2/users/{id or username}` |
//! | create | `POST /v2/users` (the new id from the answer, then read back); an existing username is `AlreadyExists` |
//! | update | `PATCH /v2/users/{id}` |
//! | delete | `DELETE /v2/users/{id}`; a missing user is already deleted |
//! | enable / disable | **unsupported**: OpsGenie has no such API (`blocked` is set by OpsGenie itself); delete instead |
//! | entitlements | `team` (team id) and `role` (role name: the configured built-ins and `GET /v2/roles`) |
//! | grants | team members from each team's detail; each user's role |
//! | grant / revoke team | `POST /v2/teams/{id}/members`, `DELETE …/members/{user}`, checked first so "already" is an outcome |
//! | grant / revoke role | `PATCH` the user's role; a revoke sets [`OpsGenieConfig::default_role`] back |
//! | ticketing | none: alerts and incidents are asynchronous (202 + request id) and are left out |
//!
//! Identifiers are checked and percent-encoded before any request ([`refs`]). Errors
//! (`{"message","errors"}`, `X-Opsgenie-Errortype`) become core errors as
//! [`error::kind_of`] says; 429 and 5xx are retried by core with back-off (OpsGenie sends
//! no `Retry-After`); creates and member additions are looked up before they are sent
//! again, so a retry never makes a twin.
//!
//! OpsGenie's APIs reach end of life on **2027-04-05**; Jira Service Management
//! Operations is the successor. The base URL is configurable
//! ([`OpsGenieClientBuilder::base_url`], [`Region`]) and the models follow the user, team
//! and role objects JSM Operations keeps; see `docs/connectors/opsgenie.md`.
//! [`OpsGenieConnector::from_settings`] with [`OpsGenieSettings`] is the one construction
//! path from configuration.
//!
//! ## Quick start
//!
//! ```no_run
//! use accesslink_core::{AccountSpec, Provisioner};
//! use accesslink_opsgenie::{OpsGenieConnector, OpsGenieSettings};
//!
//! # async fn run() -> accesslink_core::Result<()> {
//! // Usually loaded from a file (`[instances.opsgenie-eu]`, see `OpsGenieSettings`).
//! let settings: OpsGenieSettings = serde_json::from_value(serde_json::json!({
//!     "name": "og-eu",
//!     "base_url": "https://api.eu.opsgenie.com",
//!     "auth": { "method": "api_key", "key": { "env": "OPSGENIE_KEY" } }
//! }))
//! .expect("valid settings");
//! let opsgenie = OpsGenieConnector::from_settings(settings)?;
//! let created = opsgenie
//!     .create_account(&AccountSpec::new("jane.doe@example.com").name("Jane", "Doe"))
//!     .await?;
//! let team = OpsGenieConnector::team_entitlement("3f8a9c2e-0000-4000-8000-000000000001");
//! opsgenie.grant(&created.account().id, &team).await?;
//! # Ok(()) }
//! ```

mod accounts;
pub mod api;
mod client;
mod connector;
pub mod error;
pub mod models;
mod paging;
mod provision;
pub mod refs;
pub mod settings;

/// The old name of [`settings`]: `OpsGenieConfig` and `BUILT_IN_ROLES` live there now.
pub use self::settings as config;
pub use accounts::USER_KEYS;
pub use api::Identifier;
pub use client::{EU_API, OpsGenieClient, OpsGenieClientBuilder, Region, SANDBOX_API, US_API};
pub use connector::OpsGenieConnector;
pub use settings::{BUILT_IN_ROLES, OpsGenieAuth, OpsGenieConfig, OpsGenieSettings};
