//! Access requests as the identity product hands them over.

use std::fmt;

use accesslink_core::{AccountId, EntitlementRef, Person, RequestId};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// What a request asks for.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Operation {
    /// Create an account for the beneficiary.
    CreateAccount,
    /// Grant the entitlement to the beneficiary's account.
    Grant,
    /// Revoke the entitlement from the beneficiary's account.
    Revoke,
    /// Disable the beneficiary's account.
    Disable,
    /// Delete the beneficiary's account.
    Delete,
    /// Anything else, by the identity product's own name; always fulfilled by people.
    Custom(String),
}

impl Operation {
    /// The name used in templates and audit events (`grant`, `create_account`, or the
    /// custom name).
    pub fn as_str(&self) -> &str {
        match self {
            Operation::CreateAccount => "create_account",
            Operation::Grant => "grant",
            Operation::Revoke => "revoke",
            Operation::Disable => "disable",
            Operation::Delete => "delete",
            Operation::Custom(name) => name,
        }
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One access request: who wants what on which system, and why.
///
/// The id is the request's identity across runs: it becomes the ticket's correlation
/// id, so fulfilling the same request again finds its ticket instead of opening another.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AccessRequest {
    /// The identity product's id for the request.
    pub id: RequestId,
    /// Who asked.
    pub requester: Person,
    /// Whose access changes.
    pub beneficiary: Person,
    /// The beneficiary's account id in the target, when known. Provisioning falls back
    /// to the beneficiary's login when it is not set.
    pub account: Option<AccountId>,
    /// What is asked for.
    pub operation: Operation,
    /// The system or application concerned (`CRM`, `SAP-PRD`).
    pub target: String,
    /// The entitlement to grant or revoke.
    pub entitlement: Option<EntitlementRef>,
    /// Why.
    pub justification: String,
    /// Further request fields, for templates and native ticket fields.
    #[serde(default)]
    pub attributes: Map<String, Value>,
}

impl AccessRequest {
    /// A request with no requester, entitlement, justification or attributes yet.
    pub fn new(
        id: impl Into<RequestId>,
        operation: Operation,
        target: impl Into<String>,
        beneficiary: Person,
    ) -> Self {
        AccessRequest {
            id: id.into(),
            requester: Person::default(),
            beneficiary,
            account: None,
            operation,
            target: target.into(),
            entitlement: None,
            justification: String::new(),
            attributes: Map::new(),
        }
    }

    /// Sets who asked.
    #[must_use]
    pub fn requester(mut self, requester: Person) -> Self {
        self.requester = requester;
        self
    }

    /// Sets the beneficiary's account id in the target.
    #[must_use]
    pub fn account(mut self, account: impl Into<AccountId>) -> Self {
        self.account = Some(account.into());
        self
    }

    /// Sets the entitlement.
    #[must_use]
    pub fn entitlement(mut self, entitlement: EntitlementRef) -> Self {
        self.entitlement = Some(entitlement);
        self
    }

    /// Sets the justification.
    #[must_use]
    pub fn justification(mut self, text: impl Into<String>) -> Self {
        self.justification = text.into();
        self
    }

    /// Adds an attribute.
    #[must_use]
    pub fn attribute(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.attributes.insert(key.into(), value.into());
        self
    }

    /// The account to provision: [`account`](Self::account) or else the beneficiary's login.
    pub fn account_id(&self) -> Option<AccountId> {
        self.account.clone().or_else(|| {
            self.beneficiary
                .login
                .as_deref()
                .filter(|l| !l.trim().is_empty())
                .map(AccountId::from)
        })
    }
}

/// The best single name for a person: login, else email, else name, else id.
pub(crate) fn person_label(p: &Person) -> &str {
    [&p.login, &p.email, &p.name, &p.id]
        .into_iter()
        .flatten()
        .map(String::as_str)
        .find(|s| !s.trim().is_empty())
        .unwrap_or("")
}
