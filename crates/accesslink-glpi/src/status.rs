//! GLPI statuses and approvals → [`TicketState`] and [`ApprovalState`], as data:
//! [`default_status_map`].
//!
//! Status numbers are GLPI's constants (`CommonITILObject`, `Change`); tickets use 1–6,
//! changes 1 and 4–14. The default map is keyed by item kind (`Ticket:2`, `Change:7`):
//! a status a kind does not have (a ticket at 7, a change at 2) is `Unknown`, which the
//! gate denies. A status is looked up as `<Itemtype>:<n>` first (`Change:13`), then as
//! `<n>` ([`StatusMap::first_state`]); a settings override given as a plain `<n>`
//! applies to both kinds ([`status_map_with`]). An item in the trash (`is_deleted = 1`, still readable by id) is
//! `Cancelled` whatever its status: that is a rule, not a mapping. The raw value kept
//! in [`TicketStatus::raw`] is the status number.
//!
//! | status | ticket label | change label | `TicketState` |
//! |---|---|---|---|
//! | 1 | New | New | New |
//! | 2 | Processing (assigned) | — (Unknown) | InProgress |
//! | 3 | Processing (planned) | — (Unknown) | InProgress |
//! | 4 | Pending | Pending | OnHold |
//! | 5 | Solved | Applied | Resolved |
//! | 6 | Closed | Closed | Closed |
//! | 7 | — (Unknown) | Accepted | InProgress |
//! | 8 | — (Unknown) | Review | InProgress |
//! | 9 | — (Unknown) | Evaluation | InProgress |
//! | 10 | — (Unknown) | Approval | OnHold (waiting for approvers) |
//! | 11 | — (Unknown) | Testing | InProgress |
//! | 12 | — (Unknown) | Qualification | InProgress |
//! | 13 | — (Unknown) | Refused | Cancelled |
//! | 14 | — (Unknown) | Cancelled | Cancelled |
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

use accesslink_core::{
    Approval, ApprovalState, StatusMap, StatusOverrides, TicketState, TicketStatus,
};

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

/// The default tables: GLPI status number, by item kind (`Ticket:<n>`, `Change:<n>`)
/// → [`TicketState`], validation value → [`ApprovalState`]. A ticket has statuses 1–6
/// only, a change 1 and 4–14: any other status of a kind is `Unknown`.
pub fn default_status_map() -> StatusMap {
    use TicketState as T;
    let approvals = [
        ("1", ApprovalState::NotRequested),
        ("2", ApprovalState::Requested),
        ("3", ApprovalState::Approved),
        ("4", ApprovalState::Rejected),
    ];
    approvals.into_iter().fold(
        StatusMap::from_states(&[
            ("Ticket:1", T::New),
            ("Ticket:2", T::InProgress),
            ("Ticket:3", T::InProgress),
            ("Ticket:4", T::OnHold),
            ("Ticket:5", T::Resolved),
            ("Ticket:6", T::Closed),
            ("Change:1", T::New),
            ("Change:4", T::OnHold),
            ("Change:5", T::Resolved),
            ("Change:6", T::Closed),
            ("Change:7", T::InProgress),
            ("Change:8", T::InProgress),
            ("Change:9", T::InProgress),
            ("Change:10", T::OnHold),
            ("Change:11", T::InProgress),
            ("Change:12", T::InProgress),
            ("Change:13", T::Cancelled),
            ("Change:14", T::Cancelled),
        ]),
        |m, (k, v)| m.approval(k, v),
    )
}

/// The default map with settings' overrides on top. An override keyed by a plain
/// number (`"42"`, `"5"`) applies to both kinds: it is also set as `Ticket:<n>` and
/// `Change:<n>`, so the kind-keyed defaults do not hide it; an override keyed
/// `<Itemtype>:<n>` wins over a plain one for that kind.
pub fn status_map_with(overrides: &StatusOverrides) -> StatusMap {
    let mut expanded = StatusOverrides::new();
    for (k, v) in &overrides.states {
        if !k.contains(':') {
            for kind in [ItilKind::Ticket, ItilKind::Change] {
                expanded = expanded.state(format!("{}:{}", kind.itemtype(), k.trim()), *v);
            }
        }
    }
    default_status_map()
        .with_overrides(&expanded)
        .with_overrides(overrides)
}

/// The normalised status of a ticket or change: `Cancelled` in the trash; otherwise
/// the map at `<Itemtype>:<n>`, then at `<n>`; otherwise `Unknown`.
pub fn map_status(
    map: &StatusMap,
    kind: ItilKind,
    status: Option<u64>,
    in_trash: bool,
) -> TicketStatus {
    let raw = status.map(|s| s.to_string()).unwrap_or_default();
    if in_trash {
        return TicketStatus::new(TicketState::Cancelled, raw);
    }
    let state = if raw.is_empty() {
        TicketState::Unknown
    } else {
        let qualified = format!("{}:{raw}", kind.itemtype());
        map.first_state([qualified.as_str(), raw.as_str()])
            .unwrap_or(TicketState::Unknown)
    };
    TicketStatus::new(state, raw)
}

/// The normalised state of a `global_validation` or a validation record's `status`.
pub fn map_validation(map: &StatusMap, value: u64) -> ApprovalState {
    map.approval_state(&value.to_string())
}

/// The approval of an item from its `global_validation`, or from its records when the
/// summary is absent.
pub fn approval_of(map: &StatusMap, global: Option<u64>, records: &[u64]) -> Approval {
    if let Some(g) = global {
        return Approval {
            state: map_validation(map, g),
            raw: g.to_string(),
        };
    }
    let states: Vec<ApprovalState> = records.iter().map(|s| map_validation(map, *s)).collect();
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
        // (status, as a ticket, as a change)
        let rows = [
            (1, New, New),
            (2, InProgress, Unknown),
            (3, InProgress, Unknown),
            (4, OnHold, OnHold),
            (5, Resolved, Resolved),
            (6, Closed, Closed),
            (7, Unknown, InProgress),
            (8, Unknown, InProgress),
            (9, Unknown, InProgress),
            (10, Unknown, OnHold),
            (11, Unknown, InProgress),
            (12, Unknown, InProgress),
            (13, Unknown, Cancelled),
            (14, Unknown, Cancelled),
            (15, Unknown, Unknown),
            (0, Unknown, Unknown),
        ];
        let map = default_status_map();
        for (status, ticket, change) in rows {
            let s = map_status(&map, ItilKind::Ticket, Some(status), false);
            assert_eq!(s.state, ticket, "ticket status {status}");
            assert_eq!(s.raw, status.to_string());
            let s = map_status(&map, ItilKind::Change, Some(status), false);
            assert_eq!(s.state, change, "change status {status}");
        }
        let trashed = map_status(&map, ItilKind::Ticket, Some(2), true);
        assert_eq!((trashed.state, trashed.raw.as_str()), (Cancelled, "2"));
        assert_eq!(
            map_status(&map, ItilKind::Change, None, false).state,
            Unknown
        );
        assert_eq!(status_label(ItilKind::Change, 5), Some("Applied"));
        assert_eq!(status_label(ItilKind::Ticket, 5), Some("Solved"));
        assert_eq!(status_label(ItilKind::Ticket, 13), None);
    }

    #[test]
    fn approval_table() {
        use ApprovalState::*;
        let map = &default_status_map();
        for (v, want) in [
            (1, NotRequested),
            (2, Requested),
            (3, Approved),
            (4, Rejected),
            (9, Unknown),
        ] {
            assert_eq!(map_validation(map, v), want, "{v}");
            let a = approval_of(map, Some(v), &[3]);
            assert_eq!((a.state, a.raw), (want, v.to_string()));
        }
        assert_eq!(approval_of(map, None, &[]).state, NotRequested);
        assert_eq!(approval_of(map, None, &[3, 3]).state, Approved);
        assert_eq!(approval_of(map, None, &[3, 2]).state, Requested);
        assert_eq!(approval_of(map, None, &[2, 4]).state, Rejected);
        assert_eq!(approval_of(map, None, &[3, 4]).raw, "3,4");
    }

    #[test]
    fn overrides_by_kind_then_number() {
        let map = status_map_with(
            &StatusOverrides::new()
                .state("Change:13", TicketState::Closed)
                .state("42", TicketState::OnHold)
                .state("5", TicketState::Closed)
                .state("Change:5", TicketState::InProgress)
                .approval("5", ApprovalState::Approved),
        );
        let state = |kind, n| map_status(&map, kind, Some(n), false).state;
        assert_eq!(state(ItilKind::Change, 13), TicketState::Closed);
        assert_eq!(state(ItilKind::Ticket, 13), TicketState::Unknown);
        // A plain number overrides both kinds' defaults; a kind-keyed one wins.
        assert_eq!(state(ItilKind::Ticket, 5), TicketState::Closed);
        assert_eq!(state(ItilKind::Change, 5), TicketState::InProgress);
        assert_eq!(state(ItilKind::Ticket, 42), TicketState::OnHold);
        assert_eq!(state(ItilKind::Change, 43), TicketState::Unknown);
        assert_eq!(map_validation(&map, 5), ApprovalState::Approved);
    }

    #[test]
    fn the_docs_page_shows_the_default_tables() {
        let map = default_status_map();
        map.check_documented(include_str!("../../../docs/connectors/glpi.md"))
            .unwrap_or_else(|e| {
                panic!(
                    "docs/connectors/glpi.md is out of date:\n{e}\nwant:\n{}",
                    map.markdown_table()
                )
            });
    }
}
