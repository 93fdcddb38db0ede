//! ServiceNow states and approvals → [`TicketState`] and [`ApprovalState`], as data.
//!
//! Each table family numbers its `state` differently (fact sheet §1 "Status fields"), so
//! the keys of the [`StatusMap`] name the family: `incident:6`, `change_request:3`,
//! `problem:107`, `task:3` (every other task table: `task`, `change_task`, `sc_task`,
//! `sc_req_item`, `sc_request`, `pm_project`, `pm_project_task` and custom tables), and
//! `request_state:closed_complete` for `sc_request.request_state`. A row of `table` is
//! looked up as `<table>:<state>` first, then `<family>:<state>`, so settings can map a
//! state of one table (`sc_req_item:5`) without changing its family:
//!
//! ```toml
//! [instances.prod-it.status_map]
//! states = { "incident:9" = "on_hold", "sc_req_item:5" = "cancelled" }
//! approvals = { "u_auto_approved" = "approved" }
//! ```
//!
//! The default table is [`default_status_map`]; the connector page
//! (`docs/connectors/servicenow.md`, "Status mapping") shows it, checked by a test.
//! What is logic rather than mapping stays in code ([`status_of`]):
//!
//! - `sc_request.request_state` is read only when `state` is not in the map;
//! - `on_hold = "true"` makes any open `change_request` state OnHold;
//! - a value still `Unknown` with `active = "false"` (the safest "is it finished"
//!   signal on every task table) is `Closed`;
//! - an empty `approval` is NotRequested.
//!
//! Raw values are kept in [`TicketStatus::raw`] and [`Approval::raw`].

use accesslink_core::{Approval, ApprovalState, StatusMap, TicketState, TicketStatus};

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

    /// The family's prefix in [`StatusMap`] keys (`incident`, `change_request`,
    /// `problem`, `task`).
    pub fn key(self) -> &'static str {
        match self {
            StateFamily::Incident => "incident",
            StateFamily::Change => "change_request",
            StateFamily::Problem => "problem",
            StateFamily::Task => "task",
        }
    }
}

/// The key prefix of `sc_request.request_state` values.
pub const REQUEST_STATE: &str = "request_state";

/// The default map: every family's `state` values, `request_state`, and `approval`.
pub fn default_status_map() -> StatusMap {
    use ApprovalState as A;
    use TicketState as S;
    StatusMap::from_states(&[
        // incident (`state`; the legacy `incident_state` mirrors it). 3 is On Hold
        // (`hold_reason` says why); 4 and 5 are the "Awaiting …" states of old releases.
        ("incident:1", S::New),
        ("incident:2", S::InProgress),
        ("incident:3", S::OnHold),
        ("incident:4", S::OnHold),
        ("incident:5", S::OnHold),
        ("incident:6", S::Resolved),
        ("incident:7", S::Closed),
        ("incident:8", S::Cancelled),
        // change_request: New, then Assess, Authorize (whether it is approved is the
        // approval), Scheduled, Implement, Review; Closed, Canceled.
        ("change_request:-5", S::New),
        ("change_request:-4", S::InProgress),
        ("change_request:-3", S::InProgress),
        ("change_request:-2", S::InProgress),
        ("change_request:-1", S::InProgress),
        ("change_request:0", S::InProgress),
        ("change_request:3", S::Closed),
        ("change_request:4", S::Cancelled),
        // problem (`state`, mirrored by `problem_state`): New, Assess, Root Cause
        // Analysis, Fix in Progress, Resolved, Closed.
        ("problem:101", S::New),
        ("problem:102", S::InProgress),
        ("problem:103", S::InProgress),
        ("problem:104", S::InProgress),
        ("problem:106", S::Resolved),
        ("problem:107", S::Closed),
        // task family: Pending, Open, Work in Progress, Closed Complete, Closed
        // Incomplete, Closed Skipped (the catalogue and project tables are
        // instance-specific: check them on yours, and override where they differ).
        ("task:-5", S::OnHold),
        ("task:1", S::New),
        ("task:2", S::InProgress),
        ("task:3", S::Closed),
        ("task:4", S::Cancelled),
        ("task:7", S::Cancelled),
        // sc_request.request_state, read when `state` is not in the map.
        ("request_state:requested", S::New),
        ("request_state:in_process", S::InProgress),
        ("request_state:closed_complete", S::Closed),
        ("request_state:closed_incomplete", S::Cancelled),
        ("request_state:closed_cancelled", S::Cancelled),
        ("request_state:closed_rejected", S::Cancelled),
    ])
    // The task field `approval`; anything else (`cancelled`, `duplicate`, …) is
    // Unknown, which a gate fails closed on.
    .approval("not requested", A::NotRequested)
    .approval("not_requested", A::NotRequested)
    .approval("not_required", A::NotRequested)
    .approval("requested", A::Requested)
    .approval("approved", A::Approved)
    .approval("rejected", A::Rejected)
}

/// The status of a task row of `table` through `map`, with the rules of the
/// [module docs](self).
pub fn status_of(map: &StatusMap, table: &str, row: &TaskRecord) -> TicketStatus {
    let raw = row.state.clone().unwrap_or_default();
    let value = raw.trim();
    let family = StateFamily::of(table);
    let own = format!("{table}:{value}");
    let shared = format!("{}:{value}", family.key());
    let mut state = map
        .first_state([own.as_str(), shared.as_str()])
        .unwrap_or(TicketState::Unknown);
    if state == TicketState::Unknown {
        if let Some(rs) = &row.request_state {
            state = map.ticket_state(&format!("{REQUEST_STATE}:{}", rs.trim()));
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

/// The approval of a row through `map`; an empty value is NotRequested.
pub fn approval_of(map: &StatusMap, row: &TaskRecord) -> Approval {
    let raw = row.approval.clone().unwrap_or_default();
    let state = if raw.trim().is_empty() {
        ApprovalState::NotRequested
    } else {
        map.approval_state(&raw)
    };
    Approval { state, raw }
}

#[cfg(test)]
mod tests {
    use super::*;
    use TicketState as S;
    use accesslink_core::StatusOverrides;

    fn row(state: &str) -> TaskRecord {
        TaskRecord {
            state: Some(state.into()),
            ..TaskRecord::default()
        }
    }

    #[test]
    fn state_tables() {
        let m = default_status_map();
        let rows = [
            ("incident", "1", S::New),
            ("incident", "2", S::InProgress),
            ("incident", "3", S::OnHold),
            ("incident", "6", S::Resolved),
            ("incident", "7", S::Closed),
            ("incident", " 8 ", S::Cancelled),
            ("incident", "9", S::Unknown),
            ("change_request", "-5", S::New),
            ("change_request", "-3", S::InProgress),
            ("change_request", "0", S::InProgress),
            ("change_request", "3", S::Closed),
            ("change_request", "4", S::Cancelled),
            ("change_request", "1", S::Unknown),
            ("problem", "101", S::New),
            ("problem", "104", S::InProgress),
            ("problem", "106", S::Resolved),
            ("problem", "107", S::Closed),
            ("problem", "1", S::Unknown),
            ("sc_task", "-5", S::OnHold),
            ("task", "1", S::New),
            ("change_task", "2", S::InProgress),
            ("sc_req_item", "3", S::Closed),
            ("u_custom", "4", S::Cancelled),
            ("pm_project", "7", S::Cancelled),
            ("task", "6", S::Unknown),
            ("task", "", S::Unknown),
        ];
        for (table, raw, want) in rows {
            assert_eq!(status_of(&m, table, &row(raw)).state, want, "{table} {raw}");
        }
        assert_eq!(StateFamily::of("incident"), StateFamily::Incident);
        assert_eq!(StateFamily::of("sc_req_item"), StateFamily::Task);
    }

    #[test]
    fn refinements() {
        let m = default_status_map();
        let mut r = row("-1");
        r.on_hold = Some("true".into());
        assert_eq!(status_of(&m, "change_request", &r).state, S::OnHold);
        r.state = Some("3".into());
        assert_eq!(status_of(&m, "change_request", &r).state, S::Closed);

        let mut r = row("");
        r.request_state = Some("closed_complete".into());
        assert_eq!(status_of(&m, "sc_request", &r).state, S::Closed);
        r.request_state = Some("closed_rejected".into());
        assert_eq!(status_of(&m, "sc_request", &r).state, S::Cancelled);

        let mut r = row("42");
        assert_eq!(status_of(&m, "incident", &r).state, S::Unknown);
        r.active = Some("false".into());
        let s = status_of(&m, "incident", &r);
        assert_eq!((s.state, s.raw.as_str()), (S::Closed, "42"));
    }

    #[test]
    fn overrides_by_table_before_family() {
        let m = default_status_map().with_overrides(
            &StatusOverrides::new()
                .state("incident:9", S::OnHold)
                .state("sc_req_item:3", S::Resolved)
                .approval("u_auto", ApprovalState::Approved),
        );
        assert_eq!(status_of(&m, "incident", &row("9")).state, S::OnHold);
        assert_eq!(status_of(&m, "sc_req_item", &row("3")).state, S::Resolved);
        // Other tables of the family keep the family's entry.
        assert_eq!(status_of(&m, "sc_task", &row("3")).state, S::Closed);
        let mut r = row("1");
        r.approval = Some("U_AUTO".into());
        assert_eq!(approval_of(&m, &r).state, ApprovalState::Approved);
    }

    #[test]
    fn approval_table() {
        let m = default_status_map();
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
            let mut r = row("1");
            r.approval = Some(raw.into());
            let a = approval_of(&m, &r);
            assert_eq!((a.state, a.raw.as_str()), (want, raw), "{raw}");
        }
    }

    #[test]
    fn the_connector_page_shows_the_default_map() {
        let page = include_str!("../../../docs/connectors/servicenow.md");
        if let Err(e) = default_status_map().check_documented(page) {
            panic!(
                "docs/connectors/servicenow.md is out of date:\n{e}\n\nthe table:\n{}",
                default_status_map().markdown_table()
            );
        }
    }
}
