//! ServiceNow states and approvals → [`TicketState`] and [`ApprovalState`].
//!
//! Each table family has its own `state` numbers (fact sheet §1 "Status fields"); raw
//! values are strings and are kept in [`TicketStatus::raw`].
//!
//! **incident** (`state`; the legacy `incident_state` mirrors it)
//!
//! | state | label | `TicketState` |
//! |---|---|---|
//! | 1 | New | New |
//! | 2 | In Progress | InProgress |
//! | 3 | On Hold (`hold_reason` says why) | OnHold |
//! | 4, 5 | legacy "Awaiting …" states of old releases | OnHold |
//! | 6 | Resolved | Resolved |
//! | 7 | Closed | Closed |
//! | 8 | Canceled | Cancelled |
//!
//! **change_request** (`on_hold = "true"` makes any open state OnHold)
//!
//! | state | label | `TicketState` |
//! |---|---|---|
//! | -5 | New | New |
//! | -4 | Assess | InProgress |
//! | -3 | Authorize | InProgress (whether it is approved is [`ApprovalState`]) |
//! | -2 | Scheduled | InProgress |
//! | -1 | Implement | InProgress |
//! | 0 | Review | InProgress |
//! | 3 | Closed | Closed |
//! | 4 | Canceled | Cancelled |
//!
//! **task family**: `task`, `change_task`, `sc_task`, `sc_req_item`, `sc_request`,
//! `pm_project`, `pm_project_task` and custom tables (values per the fact sheet; the
//! catalogue and project tables are instance-specific, so check them on yours)
//!
//! | state | label | `TicketState` |
//! |---|---|---|
//! | -5 | Pending | OnHold |
//! | 1 | Open | New |
//! | 2 | Work in Progress | InProgress |
//! | 3 | Closed Complete | Closed |
//! | 4 | Closed Incomplete | Cancelled |
//! | 7 | Closed Skipped | Cancelled |
//!
//! `sc_request` also has `request_state`, used when `state` is not in the table:
//! `requested` → New, `in_process` → InProgress, `closed_complete` → Closed,
//! `closed_incomplete` / `closed_cancelled` / `closed_rejected` → Cancelled.
//!
//! **problem** (`state`, mirrored by `problem_state`)
//!
//! | state | label | `TicketState` |
//! |---|---|---|
//! | 101 | New | New |
//! | 102 | Assess | InProgress |
//! | 103 | Root Cause Analysis | InProgress |
//! | 104 | Fix in Progress | InProgress |
//! | 106 | Resolved | Resolved |
//! | 107 | Closed | Closed |
//!
//! Any other value is `Unknown` — unless `active` is `"false"`, the safest "is it
//! finished" signal on every task table, which makes it `Closed`.
//!
//! **approval** (task field `approval`), kept apart from the state:
//!
//! | value | `ApprovalState` |
//! |---|---|
//! | `not requested`, `not_required`, empty | NotRequested |
//! | `requested` | Requested |
//! | `approved` | Approved |
//! | `rejected` | Rejected |
//! | anything else (`cancelled`, `duplicate`, …) | Unknown |

use accesslink_core::{Approval, ApprovalState, TicketState, TicketStatus};

use crate::models::TaskRecord;

/// Which state numbering a table uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StateFamily {
    /// `incident`.
    Incident,
    /// `change_request`.
    Change,
    /// `problem`.
    Problem,
    /// `task` and the tables that use its numbering.
    Task,
}

impl StateFamily {
    /// The numbering of `table`.
    pub fn of(table: &str) -> Self {
        match table {
            "incident" => StateFamily::Incident,
            "change_request" => StateFamily::Change,
            "problem" => StateFamily::Problem,
            _ => StateFamily::Task,
        }
    }
}

/// The normalised state of a `state` value in a family, `Unknown` when not in the table.
pub fn map_state(family: StateFamily, state: &str) -> TicketState {
    use TicketState as S;
    match (family, state.trim()) {
        (StateFamily::Incident, "1") => S::New,
        (StateFamily::Incident, "2") => S::InProgress,
        (StateFamily::Incident, "3" | "4" | "5") => S::OnHold,
        (StateFamily::Incident, "6") => S::Resolved,
        (StateFamily::Incident, "7") => S::Closed,
        (StateFamily::Incident, "8") => S::Cancelled,
        (StateFamily::Change, "-5") => S::New,
        (StateFamily::Change, "-4" | "-3" | "-2" | "-1" | "0") => S::InProgress,
        (StateFamily::Change, "3") => S::Closed,
        (StateFamily::Change, "4") => S::Cancelled,
        (StateFamily::Problem, "101") => S::New,
        (StateFamily::Problem, "102" | "103" | "104") => S::InProgress,
        (StateFamily::Problem, "106") => S::Resolved,
        (StateFamily::Problem, "107") => S::Closed,
        (StateFamily::Task, "-5") => S::OnHold,
        (StateFamily::Task, "1") => S::New,
        (StateFamily::Task, "2") => S::InProgress,
        (StateFamily::Task, "3") => S::Closed,
        (StateFamily::Task, "4" | "7") => S::Cancelled,
        _ => S::Unknown,
    }
}

/// The normalised state of `sc_request.request_state`.
pub fn map_request_state(value: &str) -> TicketState {
    match value.trim() {
        "requested" => TicketState::New,
        "in_process" => TicketState::InProgress,
        "closed_complete" => TicketState::Closed,
        "closed_incomplete" | "closed_cancelled" | "closed_rejected" => TicketState::Cancelled,
        _ => TicketState::Unknown,
    }
}

/// The status of a task row of `table`, after the tables in the [module docs](self).
pub fn status_of(table: &str, row: &TaskRecord) -> TicketStatus {
    let raw = row.state.clone().unwrap_or_default();
    let family = StateFamily::of(table);
    let mut state = map_state(family, &raw);
    if state == TicketState::Unknown {
        if let Some(rs) = &row.request_state {
            state = map_request_state(rs);
        }
    }
    if family == StateFamily::Change
        && state.is_open()
        && row
            .on_hold
            .as_deref()
            .is_some_and(|h| h.eq_ignore_ascii_case("true"))
    {
        state = TicketState::OnHold;
    }
    if state == TicketState::Unknown
        && row
            .active
            .as_deref()
            .is_some_and(|a| a.eq_ignore_ascii_case("false"))
    {
        state = TicketState::Closed;
    }
    TicketStatus::new(state, raw)
}

/// The normalised value of an `approval` field.
pub fn map_approval(value: &str) -> ApprovalState {
    match value.trim() {
        "" | "not requested" | "not_requested" | "not_required" => ApprovalState::NotRequested,
        "requested" => ApprovalState::Requested,
        "approved" => ApprovalState::Approved,
        "rejected" => ApprovalState::Rejected,
        _ => ApprovalState::Unknown,
    }
}

/// The approval of a row.
pub fn approval_of(row: &TaskRecord) -> Approval {
    let raw = row.approval.clone().unwrap_or_default();
    Approval {
        state: map_approval(&raw),
        raw,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use StateFamily as F;
    use TicketState as S;

    #[test]
    fn state_tables() {
        let rows = [
            (F::Incident, "1", S::New),
            (F::Incident, "2", S::InProgress),
            (F::Incident, "3", S::OnHold),
            (F::Incident, "6", S::Resolved),
            (F::Incident, "7", S::Closed),
            (F::Incident, "8", S::Cancelled),
            (F::Incident, "9", S::Unknown),
            (F::Change, "-5", S::New),
            (F::Change, "-3", S::InProgress),
            (F::Change, "0", S::InProgress),
            (F::Change, "3", S::Closed),
            (F::Change, "4", S::Cancelled),
            (F::Change, "1", S::Unknown),
            (F::Problem, "101", S::New),
            (F::Problem, "104", S::InProgress),
            (F::Problem, "106", S::Resolved),
            (F::Problem, "107", S::Closed),
            (F::Problem, "1", S::Unknown),
            (F::Task, "-5", S::OnHold),
            (F::Task, "1", S::New),
            (F::Task, "2", S::InProgress),
            (F::Task, "3", S::Closed),
            (F::Task, "4", S::Cancelled),
            (F::Task, "7", S::Cancelled),
            (F::Task, "6", S::Unknown),
            (F::Task, "", S::Unknown),
        ];
        for (family, raw, want) in rows {
            assert_eq!(map_state(family, raw), want, "{family:?} {raw}");
        }
        assert_eq!(F::of("incident"), F::Incident);
        assert_eq!(F::of("sc_req_item"), F::Task);
        assert_eq!(F::of("u_custom"), F::Task);
    }

    fn row(state: &str) -> TaskRecord {
        TaskRecord {
            state: Some(state.into()),
            ..TaskRecord::default()
        }
    }

    #[test]
    fn refinements() {
        let mut r = row("-1");
        r.on_hold = Some("true".into());
        assert_eq!(status_of("change_request", &r).state, S::OnHold);
        r.state = Some("3".into());
        assert_eq!(status_of("change_request", &r).state, S::Closed);

        let mut r = row("");
        r.request_state = Some("closed_complete".into());
        assert_eq!(status_of("sc_request", &r).state, S::Closed);
        r.request_state = Some("closed_rejected".into());
        assert_eq!(status_of("sc_request", &r).state, S::Cancelled);

        let mut r = row("42");
        assert_eq!(status_of("incident", &r).state, S::Unknown);
        r.active = Some("false".into());
        let s = status_of("incident", &r);
        assert_eq!((s.state, s.raw.as_str()), (S::Closed, "42"));
    }

    #[test]
    fn approval_table() {
        let rows = [
            ("not requested", ApprovalState::NotRequested),
            ("", ApprovalState::NotRequested),
            ("not_required", ApprovalState::NotRequested),
            ("requested", ApprovalState::Requested),
            ("approved", ApprovalState::Approved),
            ("rejected", ApprovalState::Rejected),
            ("cancelled", ApprovalState::Unknown),
            ("duplicate", ApprovalState::Unknown),
        ];
        for (raw, want) in rows {
            assert_eq!(map_approval(raw), want, "{raw}");
        }
    }
}
