//! Newtype identifiers, so an account id is never passed where a ticket number belongs.

use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! string_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Wraps a value as it is; connectors validate where the format matters.
            pub fn new(value: impl Into<String>) -> Self {
                Self(value.into())
            }

            /// The value as a string slice.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The value as an owned string.
            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                Self(value.to_owned())
            }
        }

        impl From<String> for $name {
            fn from(value: String) -> Self {
                Self(value)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

string_id!(
    /// The target's own id of an account (a `sys_id`, a numeric user id, a login name).
    AccountId
);
string_id!(
    /// The target's own id of an entitlement (role, group, team, permission set).
    EntitlementId
);
string_id!(
    /// The id that ties a ticket to the request that opened it; creating twice with the
    /// same correlation id returns the first ticket.
    CorrelationId
);
string_id!(
    /// The id of an access request in the identity product.
    RequestId
);

impl CorrelationId {
    /// Checks that the id is 1-100 characters of `A-Z a-z 0-9 - _ . : @ / + =`: request
    /// ids are, and the plain alphabet keeps them safe inside titles, search patterns
    /// (`*`, `%` and `_` are wildcards in some) and query strings.
    pub fn check_plain(&self) -> crate::Result<()> {
        let s = self.as_str();
        let ok = !s.is_empty()
            && s.len() <= 100
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.:@/+=".contains(c));
        if ok {
            Ok(())
        } else {
            Err(crate::Error::invalid_input(format!(
                "correlation id {:?} must be 1-100 characters of A-Z a-z 0-9 - _ . : @ / + =",
                crate::redact::truncate(s, 60)
            )))
        }
    }
}

/// A reference to a ticket that a connector has parsed and validated.
///
/// Build one with `TicketingSystem::parse_ticket_ref`, which rejects malformed or
/// injected input before any request is sent. `id` is the target's internal id when
/// known (OTRS `TicketID`, ServiceNow `sys_id`); `number` the human number
/// (`INC0012345`, `2024010110000011`).
///
/// A reference always names a ticket: it has an id or a number (or both), and neither
/// is empty; the constructors and deserialisation enforce it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "RawTicketRef")]
pub struct TicketRef {
    id: Option<String>,
    number: Option<String>,
    scope: Option<String>,
}

#[derive(Deserialize)]
struct RawTicketRef {
    id: Option<String>,
    number: Option<String>,
    scope: Option<String>,
}

impl TryFrom<RawTicketRef> for TicketRef {
    type Error = crate::Error;

    fn try_from(raw: RawTicketRef) -> crate::Result<Self> {
        let r = TicketRef::new(raw.id, raw.number)?;
        Ok(match raw.scope {
            Some(scope) => r.with_scope(scope),
            None => r,
        })
    }
}

impl TicketRef {
    /// A reference from an id, a number or both; refused when neither is given or
    /// either is empty.
    pub fn new(id: Option<String>, number: Option<String>) -> crate::Result<Self> {
        if id.as_deref() == Some("") || number.as_deref() == Some("") {
            return Err(crate::Error::invalid_input(
                "a ticket reference's id and number cannot be empty",
            ));
        }
        if id.is_none() && number.is_none() {
            return Err(crate::Error::invalid_input(
                "a ticket reference needs an id or a number",
            ));
        }
        Ok(TicketRef {
            id,
            number,
            scope: None,
        })
    }

    /// A reference by internal id.
    pub fn by_id(id: impl Into<String>) -> Self {
        TicketRef {
            id: Some(id.into()),
            number: None,
            scope: None,
        }
    }

    /// A reference by human number.
    pub fn by_number(number: impl Into<String>) -> Self {
        TicketRef {
            id: None,
            number: Some(number.into()),
            scope: None,
        }
    }

    /// A reference by internal id and human number, both known.
    pub fn by_id_and_number(id: impl Into<String>, number: impl Into<String>) -> Self {
        TicketRef {
            id: Some(id.into()),
            number: Some(number.into()),
            scope: None,
        }
    }

    /// Sets the routing hint.
    #[must_use]
    pub fn with_scope(mut self, scope: impl Into<String>) -> Self {
        self.scope = Some(scope.into());
        self
    }

    /// The internal id, when known.
    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    /// The human-facing number, when known.
    pub fn number(&self) -> Option<&str> {
        self.number.as_deref()
    }

    /// The connector-specific routing hint, when set.
    pub fn scope(&self) -> Option<&str> {
        self.scope.as_deref()
    }
}

impl fmt::Display for TicketRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.number, &self.id) {
            (Some(n), _) => f.write_str(n),
            (None, Some(id)) => write!(f, "id {id}"),
            (None, None) => f.write_str("(no ticket)"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticket_refs_cannot_be_empty() {
        assert!(TicketRef::new(None, None).is_err());
        assert!(TicketRef::new(Some(String::new()), Some("INC1".into())).is_err());
        let r = TicketRef::new(Some("42".into()), Some("INC1".into())).unwrap();
        assert_eq!(
            (r.id(), r.number(), r.scope()),
            (Some("42"), Some("INC1"), None)
        );
        let back: TicketRef = serde_json::from_str(
            &serde_json::to_string(&r.clone().with_scope("incident")).unwrap(),
        )
        .unwrap();
        assert_eq!(back.scope(), Some("incident"));
        assert!(
            serde_json::from_str::<TicketRef>(r#"{"id":null,"number":null,"scope":"x"}"#).is_err()
        );
        assert!(
            serde_json::from_str::<TicketRef>(r#"{"id":"","number":null,"scope":null}"#).is_err()
        );
    }

    #[test]
    fn plain_correlation_ids() {
        assert!(
            CorrelationId::new("REQ-2026/01:a_b.c+x=y@z")
                .check_plain()
                .is_ok()
        );
        for bad in [
            "",
            "a b",
            "a*b",
            "a%b",
            "[x]",
            "a\nb",
            "é",
            &"x".repeat(101),
        ] {
            let e = CorrelationId::new(bad).check_plain().unwrap_err();
            assert_eq!(e.kind(), crate::ErrorKind::InvalidInput, "{bad:?}");
        }
    }
}
