//! [`AccountBackend`] over the mock's own state, for the conformance suite.
//!
//! Conventions (what the OpsGenie connector is assumed to do): an account is a user,
//! named by its id or username; entitlements are `team` (a team id, or a name) held
//! through team membership, and `role` (a role name, any case) held as the user's role.

use accesslink_core::{AccountId, EntitlementRef, Error, Result};
use async_trait::async_trait;

use super::OpsGenieMock;
use crate::conformance::AccountBackend;
use crate::fault::FaultPlan;

#[async_trait]
impl AccountBackend for OpsGenieMock {
    /// What `GET /v2/users/{id}?expand=contact` shows.
    fn account_fields(&self) -> Option<Vec<String>> {
        Some(
            [
                "id",
                "username",
                "fullName",
                "role",
                "blocked",
                "verified",
                "timeZone",
                "locale",
                "userAddress",
                "tags",
                "details",
                "createdAt",
                "skypeUsername",
                "userContacts",
            ]
            .map(str::to_owned)
            .to_vec(),
        )
    }

    /// The users' `totalCount` then counts `extra` users more than the account holds.
    fn inflate_reported_total(&self, extra: usize) -> bool {
        self.lock().total_bias = extra;
        true
    }

    async fn account_count(&self) -> Result<usize> {
        Ok(self.user_count())
    }

    async fn holds(&self, account: &AccountId, e: &EntitlementRef) -> Result<bool> {
        let state = self.lock();
        let Some(user) = state.user_by(account.as_str()) else {
            return Err(Error::not_found(format!("OpsGenie user {account}")));
        };
        match e.ty.as_str() {
            "team" => {
                let id = e.id.as_str();
                let team = state
                    .team_index(id, false)
                    .or_else(|| state.team_index(id, true))
                    .ok_or_else(|| Error::not_found(format!("OpsGenie team {id}")))?;
                Ok(state.teams[team].members.iter().any(|(m, _)| *m == user.id))
            }
            "role" => Ok(user.role.eq_ignore_ascii_case(e.id.as_str())),
            other => Err(Error::invalid_input(format!(
                "OpsGenie entitlement types are team and role, not {other}"
            ))),
        }
    }

    fn requests_seen(&self) -> usize {
        self.requests()
    }

    fn faults(&self) -> Option<&FaultPlan> {
        Some(&self.faults)
    }

    /// API keys do not expire and OpsGenie has no session: nothing to expire.
    fn expire_credentials(&self) -> bool {
        false
    }
}
