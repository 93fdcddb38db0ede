//! # accesslink-opsramp
//!
//! [OpsRamp](https://www.opsramp.com) (HPE OpsRamp) as an accesslink
//! [`Provisioner`](accesslink_core::Provisioner) and
//! [`TicketingSystem`](accesslink_core::TicketingSystem), over the v2 API: users, roles and
//! user groups of one tenant, and its incidents and service requests.
//!
//! | capability | how |
//! |---|---|
//! | accounts | `users/search`, ascending ids, resumable page token `users:<pageNo>:<pageSize>` |
//! | get | `GET users/{id}` (404 → `None`) |
//! | create | `loginName` search first (→ `AlreadyExists`), then `POST users`; never repeated blindly |
//! | update | `POST users/{id}` (OpsRamp updates are POST) |
//! | enable / disable | `POST users/{id}/ACTIVATE` / `DEACTIVATE` with a configurable `deactivateReason` (or one per call: [`OpsRampConnector::disable_with_reason`]) |
//! | delete | `POST users/{id}/TERMINATE` (final), or DEACTIVATE, or none ([`DeleteMode`]) |
//! | entitlements | `role` (`ROLE-<uuid>`, `roles/search`) and `group` (`USRGRP-<uuid>`, `userGroups`) |
//! | grants | from `users/search`, whose results carry each user's roles and groups (else from `GET users/{id}`) |
//! | grant / revoke role | read the user, send its complete role list by name, check the answer |
//! | grant / revoke group | `POST` / `DELETE userGroups/{id}/users` after a membership check |
//! | create ticket | `POST incidents` (`TicketKind::Incident`) or `POST serviceRequests` (`Request`), `extTicketId` = correlation id; idempotent |
//! | find by correlation | `…/search?queryString=extTicketId:<id>` with an explicit creation window |
//! | get ticket | `GET incidents/{id}` / `serviceRequests/{id}` (`INC…` / `SRQ…`); statuses as [`status`] maps them |
//! | comment | `POST …/{id}/responses`, `internal` for internal comments, an `extTicketResponseId` per call so a lost answer is not written twice |
//! | close | `POST …/{id}/close` with a configured reason and the notes |
//! | list (change feed) | `…/search` with the creation window and an update-time window (`startUpdationDate`, seconds GMT, rounded down; keys configurable), ids ascending, category scope and states checked on the rows ([`intake`]) |
//! | comments read back | every page of `…/{id}/responses/search`, oldest first |
//! | schemas | declared from the vendor's docs ([`intake::ticket_schema`], [`intake::account_schema`]) |
//! | passwords | per-account `AccountSpec::password` on create (over `initial_password`); `set_password` by `POST users/{id}` `{"password"}` |
//!
//! Auth is OAuth2 client credentials against `/auth/oauth/token` or
//! `/tenancy/auth/oauth/token` ([`TokenPath`]); `expires_in` may be a string or a number.
//! OpsRamp issues no refresh token: the grant runs again 60 s before expiry, and once
//! more when the API answers 401 or 407 (its "token expired"). The documented rate
//! limits are kept on the client side by default ([`RateLimit::client`]); a 429 anyway
//! waits for `X-RateLimit-Reset` within the request's one retry budget (core's
//! classifier, [`accesslink_core::http::ResetHeader`]).
//!
//! ## Quick start
//!
//! ```no_run
//! use accesslink_core::paging::{PagingOptions, accounts};
//! use accesslink_core::{
//!     AccountSpec, Comment, CorrelationId, NewTicket, Provisioner, Resolution, TicketKind,
//!     TicketingSystem,
//! };
//! use accesslink_opsramp::{OpsRampConnector, OpsRampSettings};
//! use futures::TryStreamExt;
//!
//! # async fn run() -> accesslink_core::Result<()> {
//! // Usually loaded from a file (`[instances.opsramp-prod]`, see `OpsRampSettings`).
//! let settings: OpsRampSettings = serde_json::from_value(serde_json::json!({
//!     "name": "opsramp-prod",
//!     "base_url": "https://api.opsramp.com",
//!     "tenant_id": "client_7",
//!     "auth": {
//!         "method": "client_credentials",
//!         "client_id": "integration-key",
//!         "client_secret": { "env": "OPSRAMP_SECRET" }
//!     },
//!     "token_path": "tenancy",
//!     "initial_password": { "env": "OPSRAMP_INITIAL_PASSWORD" },
//!     "deactivate_reason": "Left the company"
//! }))
//! .expect("valid settings");
//! let opsramp = OpsRampConnector::from_settings(settings)?;
//! let mut users = accounts(&opsramp, PagingOptions::new().page_size(500));
//! while let Some(a) = users.try_next().await? {
//!     println!("{} {} {:?}", a.id, a.login, a.enabled);
//! }
//! let new = AccountSpec::new("jdoe@example.com")
//!     .name("Jane", "Doe")
//!     .email("jdoe@example.com")
//!     .attribute("country", "United States");
//! let account = opsramp.create_account(&new).await?.into_account();
//! let role = OpsRampConnector::role_entitlement("ROLE-0074c3e1-5fbd-4d8b-9a51-0a1b2c3d4e5f");
//! opsramp.grant(&account.id, &role).await?;
//!
//! // The same connector opens and closes service requests, once per request id.
//! let request = NewTicket::new(
//!     TicketKind::Request,
//!     "Grant Network Admin to jdoe",
//!     "Approved by the owner.",
//!     CorrelationId::new("REQ-2026-0042"),
//! );
//! let srq = opsramp.create_ticket(&request).await?;
//! opsramp.add_comment(&srq.reference, &Comment::internal("provisioned by accesslink")).await?;
//! opsramp.close_ticket(&srq.reference, &Resolution::done("granted")).await?;
//! # Ok(()) }
//! ```

pub mod api;
mod client;
mod connector;
pub mod error;
pub mod intake;
mod limits;
mod locks;
pub mod models;
mod provision;
pub mod requests;
pub mod settings;
pub mod status;
pub mod ticket_models;
mod tickets;

/// The old name of [`settings`]: `DeleteMode` and `OpsRampConfig` live there now.
pub use self::settings as config;
pub use client::{OpsRampClient, OpsRampClientBuilder, TokenPath};
pub use connector::OpsRampConnector;
pub use limits::RateLimit;
pub use settings::{DeleteMode, OpsRampAuth, OpsRampConfig, OpsRampSettings, TenantLimits};
