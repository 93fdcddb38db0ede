//! [`AccountBackend`] over the mock's own state, for the conformance suite.
//!
//! Conventions (what the OpsRamp connector is assumed to do): an account is a user named
//! by its `USR…` id; entitlements are `role` (a role `uniqueId`) and `group` (a user group
//! `uniqueId`).

use accesslink_core::{AccountId, EntitlementRef, Error, Result};
use async_trait::async_trait;

use super::OpsRampMock;
use crate::conformance::AccountBackend;

#[async_trait]
impl AccountBackend for OpsRampMock {
    /// Live users of the main tenant (terminated ones are gone).
    async fn account_count(&self) -> Result<usize> {
        Ok(self.user_count())
    }

    async fn holds(&self, account: &AccountId, e: &EntitlementRef) -> Result<bool> {
        if !self.has_user(account.as_str()) {
            return Err(Error::not_found(format!("account {account}")));
        }
        let id = e.id.as_str().to_owned();
        match e.ty.as_str() {
            "role" => Ok(self.user_roles(account.as_str()).contains(&id)),
            "group" => Ok(self.user_groups(account.as_str()).contains(&id)),
            other => Err(Error::invalid_input(format!(
                "no OpsRamp entitlement type {other}"
            ))),
        }
    }

    fn requests_seen(&self) -> usize {
        self.counter.total()
    }
}
