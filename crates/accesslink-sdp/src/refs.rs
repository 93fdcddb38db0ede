//! References users type: a request or change number, checked before any request.
//!
//! Accepted: digits (`102`, `#102`), with an entity prefix `REQ-102` / `request:102` /
//! `CH-102` / `CHG-102` / `change:102` (any case). 1-19 digits, no leading zero, nothing
//! else: a reference never reaches a URL or a search criterion unchecked.

use std::fmt;

use accesslink_core::{Error, Result, TicketRef};

use crate::settings::DefaultEntity;

/// Requests or changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Entity {
    /// `/requests`, entity key `request`.
    Request,
    /// `/changes`, entity key `change`.
    Change,
}

impl Entity {
    /// The path segment (`requests`).
    pub fn path(self) -> &'static str {
        match self {
            Entity::Request => "requests",
            Entity::Change => "changes",
        }
    }

    /// The entity key (`request`).
    pub fn key(self) -> &'static str {
        match self {
            Entity::Request => "request",
            Entity::Change => "change",
        }
    }

    /// The title field (`subject` on requests, `title` on changes).
    pub fn title_field(self) -> &'static str {
        match self {
            Entity::Request => "subject",
            Entity::Change => "title",
        }
    }

    fn from_scope(s: &str) -> Option<Entity> {
        match s {
            "request" => Some(Entity::Request),
            "change" => Some(Entity::Change),
            _ => None,
        }
    }
}

impl From<DefaultEntity> for Entity {
    fn from(d: DefaultEntity) -> Self {
        match d {
            DefaultEntity::Request => Entity::Request,
            DefaultEntity::Change => Entity::Change,
        }
    }
}

/// A checked reference: the entity and a number that is either the id or the display id.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SdpRef {
    /// Requests or changes.
    pub entity: Entity,
    /// The internal id, when known.
    pub id: Option<String>,
    /// The display id (what users see on Cloud), when known.
    pub display_id: Option<String>,
}

impl fmt::Display for SdpRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self
            .display_id
            .as_deref()
            .or(self.id.as_deref())
            .unwrap_or("?");
        write!(f, "{} {n}", self.entity.key())
    }
}

/// Whether `s` is a number SDP could have issued.
pub fn is_number(s: &str) -> bool {
    !s.is_empty() && s.len() <= 19 && s.bytes().all(|b| b.is_ascii_digit()) && !s.starts_with('0')
}

impl SdpRef {
    /// Parses what a user typed; `default` is the entity of a bare number.
    pub fn parse(raw: &str, default: Entity) -> Result<SdpRef> {
        let t = raw.trim();
        let lower = t.to_ascii_lowercase();
        let (entity, rest) = [
            ("request:", Entity::Request),
            ("req-", Entity::Request),
            ("change:", Entity::Change),
            ("chg-", Entity::Change),
            ("ch-", Entity::Change),
            ("#", default),
        ]
        .iter()
        .find_map(|(p, e)| lower.strip_prefix(p).map(|r| (*e, r)))
        .unwrap_or((default, lower.as_str()));
        if !is_number(rest) {
            return Err(Error::invalid_input(format!(
                "{:?} is not a ServiceDesk Plus request or change number (digits, optionally REQ-/CH- prefixed)",
                accesslink_core::redact::truncate(t, 40)
            )));
        }
        Ok(SdpRef {
            entity,
            id: None,
            display_id: Some(rest.to_owned()),
        })
    }

    /// The core reference: number = display id, id = id, scope = entity.
    /// A change's number is written `CH-<display id>`, so what users copy from a
    /// ticket parses back to a change.
    pub fn to_ticket_ref(&self) -> TicketRef {
        let number = self.display_id.as_ref().map(|d| match self.entity {
            Entity::Change => format!("CH-{d}"),
            Entity::Request => d.clone(),
        });
        let r =
            TicketRef::new(self.id.clone(), number).unwrap_or_else(|_| TicketRef::by_number("0"));
        r.with_scope(self.entity.key())
    }

    /// A core reference checked again (it may come from outside).
    pub fn of_ticket(r: &TicketRef, default: Entity) -> Result<SdpRef> {
        let entity = match r.scope() {
            Some(s) => Entity::from_scope(s)
                .ok_or_else(|| Error::invalid_input(format!("{s:?} is not an SDP entity")))?,
            None => default,
        };
        let number = r.number().map(|n| {
            let lower = n.to_ascii_lowercase();
            ["ch-", "chg-", "change:", "req-", "request:", "#"]
                .iter()
                .find_map(|p| lower.strip_prefix(p).map(|_| n[p.len()..].to_owned()))
                .unwrap_or_else(|| n.to_owned())
        });
        for v in [r.id(), number.as_deref()].into_iter().flatten() {
            if !is_number(v) {
                return Err(Error::invalid_input(format!(
                    "{:?} is not an SDP number",
                    accesslink_core::redact::truncate(v, 40)
                )));
            }
        }
        Ok(SdpRef {
            entity,
            id: r.id().map(str::to_owned),
            display_id: number,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_prefixes() {
        let ok = [
            ("102", Entity::Request, "102"),
            (" #102 ", Entity::Request, "102"),
            ("REQ-7", Entity::Request, "7"),
            ("ch-42", Entity::Change, "42"),
            ("CHG-42", Entity::Change, "42"),
            ("change:42", Entity::Change, "42"),
            ("123640000000240013", Entity::Request, "123640000000240013"),
        ];
        for (raw, e, n) in ok {
            let r = SdpRef::parse(raw, Entity::Request).unwrap();
            assert_eq!((r.entity, r.display_id.as_deref()), (e, Some(n)), "{raw}");
        }
        for bad in [
            "",
            "0",
            "012",
            "1e5",
            "+1",
            "-1",
            "1 OR 1=1",
            "1\"",
            "REQ-",
            "CH-x",
            "1/notes",
            "12345678901234567890",
            "١٢",
        ] {
            assert!(SdpRef::parse(bad, Entity::Request).is_err(), "{bad:?}");
        }
        let back = SdpRef::of_ticket(
            &SdpRef::parse("CH-9", Entity::Request)
                .unwrap()
                .to_ticket_ref(),
            Entity::Request,
        )
        .unwrap();
        assert_eq!(back.entity, Entity::Change);
        assert!(SdpRef::of_ticket(&TicketRef::by_number("9; x"), Entity::Request).is_err());
        assert!(
            SdpRef::of_ticket(
                &TicketRef::by_number("9").with_scope("problem"),
                Entity::Request
            )
            .is_err()
        );
    }
}
