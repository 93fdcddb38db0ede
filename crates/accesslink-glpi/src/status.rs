//! GLPI statuses and approvals → [`TicketState`] and [`ApprovalState`].
//!
//! Status numbers are GLPI's constants (`CommonITILObject`, `Change`); tickets use 1–6,
//! changes also 7–14. An item in the trash (`is_deleted = 1`, still readable by id) is
//! `Cancelled` whatever its status. The raw value kept in [`TicketStatus::raw`] is the
//! status number.
//!
//! | status | ticket label | change label | `TicketState` |
//! |---|---|---|---|
//! | 1 | New | New | New |
//! | 2 | Processing (assigned) | — | InProgress |
//! | 3 | Processing (planned) | — | InProgress |
//! | 4 | Pending | Pending | OnHold |
//! | 5 | Solved | Applied | Resolved |
//! | 6 | Closed | Closed | Closed |
//! | 7 | — | Accepted | InProgress |
//! | 8 | — | Review | InProgress |
//! | 9 | — | Evaluation | InProgress |
//! | 10 | — | Approval | OnHold (waiting for approvers) |
//! | 11 | — | Testing | InProgress |
//! | 12 | — | Qualification | InProgress |
//! | 13 | — | Refused | Cancelled |
//! | 14 | — | Cancelled | Cancelled |
//! | other | | | Unknown |
//!
//! Approval comes from `global_validation` (GLPI's summary of the validation records),
//! and each TicketValidation / ChangeValidation record's `status` maps the same way:
//!
//! | value | meaning | `ApprovalState` |
//! |---|---|---|
//! | 1 | none requested | NotRequested |
//! | 2 | waiting | Requested |
//! | 3 | accepted | Approved |
//! | 4 | refused | Rejected |
//! | other | | Unknown |
//!
//! When `global_validation` is absent (a server that does not send it), the approval
//! is derived from the records: any refused → Rejected, any waiting → Requested, all
//! accepted → Approved, none → NotRequested.

use accesslink_core::{Approval, ApprovalState, TicketState, TicketStatus};

/// Whether an item is a ticket or a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum ItilKind {
    /// A ticket (incident or request).
    Ticket,
    /// A change.
    Change,
}

impl ItilKind {
    /// The itemtype (`Ticket`, `Change`).
    pub fn itemtype(self) -> &'static str {
        match self {
            ItilKind::Ticket => "Ticket",
            ItilKind::Change => "Change",
        }
    }

    /// The itemtype of its approval records.
    pub fn validation_itemtype(self) -> &'static str {
        match self {
            ItilKind::Ticket => "TicketValidation",
            ItilKind::Change => "ChangeValidation",
        }
    }

    /// The itemtype of its actor links.
    pub fn actor_itemtype(self) -> &'static str {
        match self {
            ItilKind::Ticket => "Ticket_User",
            ItilKind::Change => "Change_User",
        }
    }
}

/// The label GLPI shows for a status.
pub fn status_label(kind: ItilKind, status: u64) -> Option<&'static str> {
    let label = match (kind, status) {
        (_, 1) => "New",
        (ItilKind::Ticket, 2) => "Processing (assigned)",
        (ItilKind::Ticket, 3) => "Processing (planned)",
        (_, 4) => "Pending",
        (ItilKind::Ticket, 5) => "Solved",
        (ItilKind::Change, 5) => "Applied",
        (_, 6) => "Closed",
        (ItilKind::Change, 7) => "Accepted",
        (ItilKind::Change, 8) => "Review",
        (ItilKind::Change, 9) => "Evaluation",
        (ItilKind::Change, 10) => "Approval",
        (ItilKind::Change, 11) => "Testing",
        (ItilKind::Change, 12) => "Qualification",
        (ItilKind::Change, 13) => "Refused",
        (ItilKind::Change, 14) => "Cancelled",
        _ => return None,
    };
    Some(label)
}

/// The normalised status of a ticket or change.
pub fn map_status(status: Option<u64>, in_trash: bool) -> TicketStatus {
    let raw = status.map(|s| s.to_string()).unwrap_or_default();
    if in_trash {
        return TicketStatus::new(TicketState::Cancelled, raw);
    }
    let state = match status {
        Some(1) => TicketState::New,
        Some(2 | 3 | 7 | 8 | 9 | 11 | 12) => TicketState::InProgress,
        Some(4 | 10) => TicketState::OnHold,
        Some(5) => TicketState::Resolved,
        Some(6) => TicketState::Closed,
        Some(13 | 14) => TicketState::Cancelled,
        _ => TicketState::Unknown,
    };
    TicketStatus::new(state, raw)
}

/// The normalised state of a `global_validation` or a validation record's `status`.
pub fn map_validation(value: u64) -> ApprovalState {
    match value {
        1 => ApprovalState::NotRequested,
        2 => ApprovalState::Requested,
        3 => ApprovalState::Approved,
        4 => ApprovalState::Rejected,
        _ => ApprovalState::Unknown,
    }
}

/// The approval of an item from its `global_validation`, or from its records when the
/// summary is absent.
pub fn approval_of(global: Option<u64>, records: &[u64]) -> Approval {
    if let Some(g) = global {
        return Approval {
            state: map_validation(g),
            raw: g.to_string(),
        };
    }
    let states: Vec<ApprovalState> = records.iter().map(|s| map_validation(*s)).collect();
    let state = if states.is_empty() {
        ApprovalState::NotRequested
    } else if states.contains(&ApprovalState::Rejected) {
        ApprovalState::Rejected
    } else if states.contains(&ApprovalState::Requested) {
        ApprovalState::Requested
    } else if states.iter().all(|s| *s == ApprovalState::Approved) {
        ApprovalState::Approved
    } else {
        ApprovalState::Unknown
    };
    let raw = records
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(",");
    Approval { state, raw }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_table() {
        use TicketState::*;
        let rows = [
            (1, New),
            (2, InProgress),
            (3, InProgress),
            (4, OnHold),
            (5, Resolved),
            (6, Closed),
            (7, InProgress),
            (8, InProgress),
            (9, InProgress),
            (10, OnHold),
            (11, InProgress),
            (12, InProgress),
            (13, Cancelled),
            (14, Cancelled),
            (15, Unknown),
            (0, Unknown),
        ];
        for (status, want) in rows {
            let s = map_status(Some(status), false);
            assert_eq!(s.state, want, "status {status}");
            assert_eq!(s.raw, status.to_string());
        }
        let trashed = map_status(Some(2), true);
        assert_eq!((trashed.state, trashed.raw.as_str()), (Cancelled, "2"));
        assert_eq!(map_status(None, false).state, Unknown);
        assert_eq!(status_label(ItilKind::Change, 5), Some("Applied"));
        assert_eq!(status_label(ItilKind::Ticket, 5), Some("Solved"));
        assert_eq!(status_label(ItilKind::Ticket, 13), None);
    }

    #[test]
    fn approval_table() {
        use ApprovalState::*;
        for (v, want) in [
            (1, NotRequested),
            (2, Requested),
            (3, Approved),
            (4, Rejected),
            (9, Unknown),
        ] {
            assert_eq!(map_validation(v), want, "{v}");
            let a = approval_of(Some(v), &[3]);
            assert_eq!((a.state, a.raw), (want, v.to_string()));
        }
        assert_eq!(approval_of(None, &[]).state, NotRequested);
        assert_eq!(approval_of(None, &[3, 3]).state, Approved);
        assert_eq!(approval_of(None, &[3, 2]).state, Requested);
        assert_eq!(approval_of(None, &[2, 4]).state, Rejected);
        assert_eq!(approval_of(None, &[3, 4]).raw, "3,4");
    }
}
