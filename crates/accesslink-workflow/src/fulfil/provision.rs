//! Automated mode: what to ask the provisioner for, and the markers left on tickets.

use accesslink_core::{
    AccountId, AccountSpec, Capability, CreateOutcome, EntitlementRef, Error, ErrorKind,
    GrantOutcome, Provisioner, RequestId, RevokeOutcome, Ticket,
};
use serde_json::Value;

use super::outcome::{ErrorInfo, Provisioned};
use super::request::{AccessRequest, Operation};

/// The marker the workflow writes (in a comment and in the close notes) once a
/// request is provisioned: `accesslink: provisioned <request id>`.
pub fn provisioned_marker(id: &RequestId) -> String {
    format!("accesslink: provisioned {id}")
}

/// The marker written when provisioning failed for good:
/// `accesslink: provisioning failed <request id>`.
pub fn failed_marker(id: &RequestId) -> String {
    format!("accesslink: provisioning failed {id}")
}

/// Whether the ticket, as the connector returned it, carries `marker` in its
/// description, resolution notes or any string of its native fields.
///
/// The core traits cannot list comments, so this only sees markers where the
/// connector surfaces comments or close notes; elsewhere the provisioner's
/// `Already…` outcomes keep a second run harmless. The marker must be followed by
/// whitespace or the end of the text, so `REQ-1` does not match `REQ-10`.
pub fn carries_marker(ticket: &Ticket, marker: &str) -> bool {
    let found = |s: &str| {
        s.match_indices(marker).any(|(i, m)| {
            s[i + m.len()..]
                .chars()
                .next()
                .is_none_or(char::is_whitespace)
        })
    };
    fn any_string(v: &Value, f: &dyn Fn(&str) -> bool) -> bool {
        match v {
            Value::String(s) => f(s),
            Value::Array(items) => items.iter().any(|i| any_string(i, f)),
            Value::Object(map) => map.values().any(|i| any_string(i, f)),
            _ => false,
        }
    }
    ticket.description.as_deref().is_some_and(found)
        || ticket.resolution.as_deref().is_some_and(found)
        || ticket.extra.values().any(|v| any_string(v, &found))
}

/// One provisioning call.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Plan {
    CreateAccount(AccountSpec),
    Grant(AccountId, EntitlementRef),
    Revoke(AccountId, EntitlementRef),
    Disable(AccountId),
    Delete(AccountId),
}

impl Plan {
    /// The call for a request, `Ok(None)` when the provisioner cannot do the
    /// operation (a custom operation, or a capability it does not declare): such
    /// requests are left to people. A request the provisioner could do but which
    /// lacks what the call needs is an error, found before any ticket is opened.
    pub(crate) fn for_request(
        r: &AccessRequest,
        p: &dyn Provisioner,
    ) -> Result<Option<Plan>, ErrorInfo> {
        let capability = match r.operation {
            Operation::CreateAccount => Capability::CreateAccount,
            Operation::Grant => Capability::Grant,
            Operation::Revoke => Capability::Revoke,
            Operation::Disable => Capability::EnableDisable,
            Operation::Delete => Capability::DeleteAccount,
            _ => return Ok(None),
        };
        if !p.info().supports(&capability) {
            return Ok(None);
        }
        let invalid = |what: &str| {
            ErrorInfo::new(
                ErrorKind::InvalidInput,
                format!("request {} ({}) has no {what}", r.id, r.operation),
            )
        };
        let account = || {
            r.account_id()
                .ok_or_else(|| invalid("account id or beneficiary login"))
        };
        let entitlement = || r.entitlement.clone().ok_or_else(|| invalid("entitlement"));
        Ok(Some(match r.operation {
            Operation::CreateAccount => {
                let login = r
                    .beneficiary
                    .login
                    .as_deref()
                    .filter(|l| !l.trim().is_empty())
                    .ok_or_else(|| invalid("beneficiary login"))?;
                let mut spec = AccountSpec::new(login);
                spec.email = r.beneficiary.email.clone();
                spec.display_name = r.beneficiary.name.clone();
                Plan::CreateAccount(spec)
            }
            Operation::Grant => Plan::Grant(account()?, entitlement()?),
            Operation::Revoke => Plan::Revoke(account()?, entitlement()?),
            Operation::Disable => Plan::Disable(account()?),
            _ => Plan::Delete(account()?),
        }))
    }

    /// Runs the call. "Already" answers are success; so is a delete of an account
    /// that is gone, which is what a repeated delete meets.
    pub(crate) async fn run(&self, p: &dyn Provisioner) -> Result<Provisioned, Error> {
        Ok(match self {
            Plan::CreateAccount(spec) => match p.create_account(spec).await? {
                CreateOutcome::Created(_) => Provisioned::Created,
                CreateOutcome::AlreadyExists(_) => Provisioned::AlreadyExists,
            },
            Plan::Grant(a, e) => match p.grant(a, e).await? {
                GrantOutcome::Granted => Provisioned::Granted,
                GrantOutcome::AlreadyGranted => Provisioned::AlreadyGranted,
            },
            Plan::Revoke(a, e) => match p.revoke(a, e).await? {
                RevokeOutcome::Revoked => Provisioned::Revoked,
                RevokeOutcome::AlreadyAbsent => Provisioned::AlreadyAbsent,
            },
            Plan::Disable(a) => {
                p.set_enabled(a, false).await?;
                Provisioned::Disabled
            }
            Plan::Delete(a) => match p.delete_account(a).await {
                Ok(()) => Provisioned::Deleted,
                Err(e) if e.kind() == ErrorKind::NotFound => Provisioned::AlreadyDeleted,
                Err(e) => return Err(e),
            },
        })
    }

    /// What the call does, for people (`grant role admins to account ann`).
    pub(crate) fn describe(&self) -> String {
        match self {
            Plan::CreateAccount(spec) => format!("create account {}", spec.login),
            Plan::Grant(a, e) => format!("grant {e} to account {a}"),
            Plan::Revoke(a, e) => format!("revoke {e} from account {a}"),
            Plan::Disable(a) => format!("disable account {a}"),
            Plan::Delete(a) => format!("delete account {a}"),
        }
    }
}
