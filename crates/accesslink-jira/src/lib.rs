//! # accesslink-jira
//!
//! [Jira](https://www.atlassian.com/software/jira) — Cloud, Data Center and Jira Service
//! Management — as an accesslink [`TicketingSystem`](accesslink_core::TicketingSystem)
//! and [`Provisioner`](accesslink_core::Provisioner).
//!
//! | | Cloud | Data Center |
//! |---|---|---|
//! | API | REST v3, rich text as ADF ([`adf`]) | REST v2, rich text as strings |
//! | auth | e-mail + API token (Basic); OAuth 2.0 3LO with rotating refresh tokens ([`oauth`]) | personal access token (Bearer); Basic |
//! | search | `POST /rest/api/3/search/jql`, `nextPageToken`, no total | `POST /rest/api/2/search`, `startAt`/`total` |
//! | users | `accountId`; `users/search` filtered by `accountType`; no deactivation (`Unsupported`) | `name`; full CRUD with `active` |
//! | groups | `group/bulk`, members by `groupId` | `groups/picker`, members by group name |
//!
//! | capability | how |
//! |---|---|
//! | parse | issue key (`ITSM-42`) or numeric id, checked before any request ([`refs`]) |
//! | create | issue in the configured project (or JSM request in a service desk, raised on behalf of the requester), idempotent on a correlation **label** (or a text custom field, `correlation_field`) looked up with JQL before the create and after an ambiguous failure |
//! | get | by key or id; a moved issue answers under its new key and `extra.previous_key` names the old one |
//! | batch get | one JQL `key in (…)` search per `batch_size` references |
//! | comment | public, or JSM-internal (`sd.public.comment`) |
//! | close | a transition to a `done`-category status found at run time (ids differ per workflow), resolution when the screen has it, confirmed by reading back |
//! | state | `statusCategory` + `resolution` (+ status names) through a [`StatusMap`](accesslink_core::StatusMap) ([`status`]) |
//! | approval | JSM approvals (`pending`/`approved`/`declined`, combined) with `jsm_approvals = true` |
//! | requester | reporter with account id, name and e-mail where visible |
//! | list (change feed) | JQL `updated >= "yyyy/MM/dd HH:mm"` (minutes, rounded down: a `ChangeFeed` needs ≥ 60 s overlap), `ORDER BY updated ASC, key ASC`, scope `PROJ` or `PROJ/requestTypeId` ([`intake`]) |
//! | comments read back | `GET /issue/{key}/comment`, ids, authors, JSM visibility |
//! | schemas | createmeta of the kind's issue type; accounts: the user fields of the deployment |
//! | passwords | not on Cloud (Atlassian accounts own them) |
//!
//! Every JQL value goes through a quoting builder ([`jql`]). Errors
//! (`errorMessages`/`errors`, JSM's `errorMessage`, OAuth's `error`) become core errors
//! ([`error`]); 429/503 honour `Retry-After` and Cloud's ISO `X-RateLimit-Reset`
//! ([`error::JiraRateLimit`]). [`JiraConnector::from_settings`] with [`JiraSettings`] is
//! the one construction path from configuration; see `docs/connectors/jira.md`.
//!
//! ## Quick start
//!
//! ```no_run
//! use accesslink_core::{CorrelationId, NewTicket, TicketKind, TicketingSystem};
//! use accesslink_jira::{JiraConnector, JiraSettings};
//!
//! # async fn run() -> accesslink_core::Result<()> {
//! let settings: JiraSettings = serde_json::from_value(serde_json::json!({
//!     "deployment": "cloud",
//!     "base_url": "https://acme.atlassian.net",
//!     "auth": { "method": "basic", "email": "iam-bot@acme.example",
//!               "api_token": { "env": "JIRA_TOKEN" } },
//!     "project": "ITSM"
//! }))
//! .expect("valid settings");
//! let jira = JiraConnector::from_settings(settings)?;
//! let new = NewTicket::new(
//!     TicketKind::Task,
//!     "Grant payroll access to Jane",
//!     "Requested in IAM request 7781.",
//!     CorrelationId::new("req-7781"),
//! );
//! let ticket = jira.create_ticket(&new).await?; // a second call finds the same issue
//! let typed = jira.parse_ticket_ref("itsm-42")?; // refused before any request if malformed
//! let gate = jira.get_ticket(&typed).await?;
//! println!("{} {:?} {:?}", ticket.reference, ticket.status.state, gate.map(|t| t.approval));
//! # Ok(()) }
//! ```

pub mod adf;
pub mod api;
mod client;
mod connector;
pub mod error;
pub mod intake;
pub mod jql;
pub mod models;
pub mod oauth;
mod provision;
pub mod refs;
pub mod settings;
pub mod status;
mod tickets;

pub use client::{JiraClient, JiraClientBuilder};
pub use connector::JiraConnector;
pub use refs::IssueRef;
pub use settings::{Deployment, JiraAuth, JiraSettings, ServiceDeskSettings};
