//! Accounts, entitlements and grants.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::ids::{AccountId, EntitlementId};
use crate::secret::Password;

/// An account in the target system.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Account {
    /// The target's id.
    pub id: AccountId,
    /// The login name.
    pub login: String,
    /// Display name, if any.
    pub display_name: Option<String>,
    /// Email, if any.
    pub email: Option<String>,
    /// Whether the account can sign in; `None` when the target does not say.
    pub enabled: Option<bool>,
    /// The target's native attributes.
    pub attributes: Map<String, Value>,
}

impl Account {
    /// An account with id and login.
    pub fn new(id: impl Into<AccountId>, login: impl Into<String>) -> Self {
        Account {
            id: id.into(),
            login: login.into(),
            display_name: None,
            email: None,
            enabled: None,
            attributes: Map::new(),
        }
    }
}

/// An account to create.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AccountSpec {
    /// The login name; "already exists" is decided on it.
    pub login: String,
    /// Display name.
    pub display_name: Option<String>,
    /// Given name.
    pub first_name: Option<String>,
    /// Family name.
    pub last_name: Option<String>,
    /// Email.
    pub email: Option<String>,
    /// Whether the account starts enabled.
    pub enabled: bool,
    /// Target-specific attributes.
    pub attributes: Map<String, Value>,
    /// The account's initial password, for targets whose create takes one (it
    /// overrides a connector's configured default). Never serialised or printed.
    #[serde(skip)]
    pub password: Option<Password>,
}

impl AccountSpec {
    /// An enabled account with a login.
    pub fn new(login: impl Into<String>) -> Self {
        AccountSpec {
            login: login.into(),
            display_name: None,
            first_name: None,
            last_name: None,
            email: None,
            enabled: true,
            attributes: Map::new(),
            password: None,
        }
    }

    /// Sets the initial password.
    #[must_use]
    pub fn password(mut self, password: impl Into<Password>) -> Self {
        self.password = Some(password.into());
        self
    }

    /// Sets the email.
    #[must_use]
    pub fn email(mut self, email: impl Into<String>) -> Self {
        self.email = Some(email.into());
        self
    }

    /// Sets given and family name.
    #[must_use]
    pub fn name(mut self, first: impl Into<String>, last: impl Into<String>) -> Self {
        self.first_name = Some(first.into());
        self.last_name = Some(last.into());
        self
    }

    /// Sets the display name.
    #[must_use]
    pub fn display_name(mut self, name: impl Into<String>) -> Self {
        self.display_name = Some(name.into());
        self
    }

    /// Adds a target-specific attribute.
    #[must_use]
    pub fn attribute(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.attributes.insert(key.into(), value.into());
        self
    }
}

/// Changes to an account; `None` fields stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AccountChange {
    /// New display name.
    pub display_name: Option<String>,
    /// New given name.
    pub first_name: Option<String>,
    /// New family name.
    pub last_name: Option<String>,
    /// New email.
    pub email: Option<String>,
    /// Target-specific attributes to set.
    pub attributes: Map<String, Value>,
}

impl AccountChange {
    /// No change yet.
    pub fn new() -> Self {
        AccountChange::default()
    }

    /// Sets the email.
    #[must_use]
    pub fn email(mut self, email: impl Into<String>) -> Self {
        self.email = Some(email.into());
        self
    }

    /// Sets the display name.
    #[must_use]
    pub fn display_name(mut self, name: impl Into<String>) -> Self {
        self.display_name = Some(name.into());
        self
    }

    /// Sets a target-specific attribute.
    #[must_use]
    pub fn attribute(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.attributes.insert(key.into(), value.into());
        self
    }

    /// Whether nothing would change.
    pub fn is_empty(&self) -> bool {
        self == &AccountChange::default()
    }
}

/// A type of entitlement a target offers (`role`, `group`, `team`, `profile`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct EntitlementType(String);

impl EntitlementType {
    /// Roles.
    pub fn role() -> Self {
        EntitlementType("role".into())
    }

    /// Groups.
    pub fn group() -> Self {
        EntitlementType("group".into())
    }

    /// Teams.
    pub fn team() -> Self {
        EntitlementType("team".into())
    }

    /// Any other type, by name.
    pub fn new(name: impl Into<String>) -> Self {
        EntitlementType(name.into())
    }

    /// The type's name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EntitlementType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A reference to one entitlement: its type and id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct EntitlementRef {
    /// The type.
    pub ty: EntitlementType,
    /// The target's id.
    pub id: EntitlementId,
}

impl EntitlementRef {
    /// A reference from its parts.
    pub fn new(ty: EntitlementType, id: impl Into<EntitlementId>) -> Self {
        EntitlementRef { ty, id: id.into() }
    }
}

impl fmt::Display for EntitlementRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.ty, self.id)
    }
}

/// An entitlement in the target system.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Entitlement {
    /// Type and id.
    pub reference: EntitlementRef,
    /// Display name.
    pub name: String,
    /// Description, if any.
    pub description: Option<String>,
    /// The target's native attributes.
    pub attributes: Map<String, Value>,
}

impl Entitlement {
    /// An entitlement from reference and name.
    pub fn new(reference: EntitlementRef, name: impl Into<String>) -> Self {
        Entitlement {
            reference,
            name: name.into(),
            description: None,
            attributes: Map::new(),
        }
    }
}

/// Who holds what.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Grant {
    /// The account.
    pub account: AccountId,
    /// The entitlement.
    pub entitlement: EntitlementRef,
}

impl Grant {
    /// A grant from its parts.
    pub fn new(account: impl Into<AccountId>, entitlement: EntitlementRef) -> Self {
        Grant {
            account: account.into(),
            entitlement,
        }
    }
}

/// The outcome of creating an account.
#[derive(Debug, Clone, PartialEq)]
#[must_use]
pub enum CreateOutcome {
    /// The account was created.
    Created(Account),
    /// An account with this login already existed; it is returned unchanged.
    AlreadyExists(Account),
}

impl CreateOutcome {
    /// The account, new or existing.
    pub fn account(&self) -> &Account {
        match self {
            CreateOutcome::Created(a) | CreateOutcome::AlreadyExists(a) => a,
        }
    }

    /// Consumes the outcome and returns the account.
    pub fn into_account(self) -> Account {
        match self {
            CreateOutcome::Created(a) | CreateOutcome::AlreadyExists(a) => a,
        }
    }
}

/// The outcome of a grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub enum GrantOutcome {
    /// The entitlement was granted now.
    Granted,
    /// The account already held it.
    AlreadyGranted,
}

/// The outcome of a revoke.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub enum RevokeOutcome {
    /// The entitlement was revoked now.
    Revoked,
    /// The account did not hold it.
    AlreadyAbsent,
}
