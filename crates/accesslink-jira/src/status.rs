//! Jira statuses and JSM approvals → [`TicketState`] and [`ApprovalState`], as data.
//!
//! Status names belong to workflows (fact sheet §2 "Status model"), so the default map
//! keys on what every workflow shares: the status **category** (`new`, `indeterminate`,
//! `done`) and, in `done`, the **resolution**. A status is looked up as
//!
//! 1. `status:<status name>` (a few common names by default; add yours in settings),
//! 2. `resolution:<resolution name>` when the category is `done` and a resolution is set,
//! 3. `<category key>`,
//!
//! and is `Unknown` (which the gate denies) when none matches — the `undefined` category
//! included. JSM approvals map `pending`, `approved`, `declined`; several approvals on one
//! request combine (any declined → Rejected, else any pending → Requested, else all
//! approved → Approved).
//!
//! ```toml
//! [instances.jira.status_map]
//! states = { "status:Awaiting vendor" = "on_hold", "resolution:Rejected" = "cancelled" }
//! ```

use accesslink_core::{Approval, ApprovalState, StatusMap, TicketState, TicketStatus};

use crate::models::{IssueFields, JsmApproval};

/// The default map.
pub fn default_status_map() -> StatusMap {
    use ApprovalState as A;
    use TicketState as S;
    StatusMap::from_states(&[
        // Status categories, shared by every workflow.
        ("new", S::New),
        ("indeterminate", S::InProgress),
        ("done", S::Closed),
        // Resolutions that mean the work was not done.
        ("resolution:Won't Do", S::Cancelled),
        ("resolution:Won't Fix", S::Cancelled),
        ("resolution:Declined", S::Cancelled),
        ("resolution:Cancelled", S::Cancelled),
        ("resolution:Duplicate", S::Cancelled),
        ("resolution:Resolved", S::Resolved),
        // Status names of the default Jira and JSM workflows that say more than their
        // category.
        ("status:Resolved", S::Resolved),
        ("status:Reopened", S::Reopened),
        ("status:Waiting for customer", S::OnHold),
        ("status:Pending", S::OnHold),
        ("status:On hold", S::OnHold),
        ("status:Canceled", S::Cancelled),
        ("status:Cancelled", S::Cancelled),
        ("status:Declined", S::Cancelled),
    ])
    .approval("pending", A::Requested)
    .approval("approved", A::Approved)
    .approval("declined", A::Rejected)
}

/// The state of an issue from its status, category and resolution.
pub fn status_of(map: &StatusMap, fields: &IssueFields) -> TicketStatus {
    let status = fields.status.as_ref();
    let name = status.and_then(|s| s.name.clone()).unwrap_or_default();
    let category = status
        .and_then(|s| s.status_category.as_ref())
        .and_then(|c| c.key.clone())
        .unwrap_or_default();
    let resolution = fields.resolution.as_ref().and_then(|r| r.name.clone());
    let by_status = (!name.is_empty()).then(|| format!("status:{name}"));
    let by_resolution = resolution
        .as_ref()
        .filter(|_| category == "done")
        .map(|r| format!("resolution:{r}"));
    let state = by_status
        .iter()
        .chain(by_resolution.iter())
        .chain(std::iter::once(&category))
        .find_map(|k| map.get_state(k))
        .unwrap_or(TicketState::Unknown);
    TicketStatus::new(state, name)
}

/// The combined approval of a request's approvals (`None`: not a JSM request).
pub fn approval_of(map: &StatusMap, approvals: Option<&[JsmApproval]>) -> Option<Approval> {
    let approvals = approvals?;
    if approvals.is_empty() {
        return Some(Approval {
            state: ApprovalState::NotRequested,
            raw: String::new(),
        });
    }
    let states: Vec<ApprovalState> = approvals
        .iter()
        .map(|a| map.approval_state(&a.final_decision))
        .collect();
    let state = if states.contains(&ApprovalState::Rejected) {
        ApprovalState::Rejected
    } else if states.contains(&ApprovalState::Unknown) {
        ApprovalState::Unknown
    } else if states.contains(&ApprovalState::Requested) {
        ApprovalState::Requested
    } else {
        ApprovalState::Approved
    };
    let raw = approvals
        .iter()
        .map(|a| a.final_decision.as_str())
        .collect::<Vec<_>>()
        .join(",");
    Some(Approval { state, raw })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fields(v: serde_json::Value) -> IssueFields {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn category_resolution_and_name() {
        let map = default_status_map();
        let rows = [
            (
                json!({"status":{"name":"To Do","statusCategory":{"key":"new"}}}),
                TicketState::New,
            ),
            (
                json!({"status":{"name":"Doing","statusCategory":{"key":"indeterminate"}}}),
                TicketState::InProgress,
            ),
            (
                json!({"status":{"name":"Erledigt","statusCategory":{"key":"done"}},"resolution":{"name":"Done"}}),
                TicketState::Closed,
            ),
            (
                json!({"status":{"name":"Done","statusCategory":{"key":"done"}},"resolution":{"name":"Won't Do"}}),
                TicketState::Cancelled,
            ),
            (
                json!({"status":{"name":"Waiting for customer","statusCategory":{"key":"indeterminate"}}}),
                TicketState::OnHold,
            ),
            (
                json!({"status":{"name":"Reopened","statusCategory":{"key":"new"}}}),
                TicketState::Reopened,
            ),
            (
                json!({"status":{"name":"Limbo","statusCategory":{"key":"undefined"}}}),
                TicketState::Unknown,
            ),
            (json!({}), TicketState::Unknown),
            // A resolution outside `done` (a workflow that forgot to clear it) is ignored.
            (
                json!({"status":{"name":"Doing","statusCategory":{"key":"indeterminate"}},"resolution":{"name":"Won't Do"}}),
                TicketState::InProgress,
            ),
        ];
        for (f, want) in rows {
            assert_eq!(status_of(&map, &fields(f.clone())).state, want, "{f}");
        }
    }

    #[test]
    fn approvals_combine() {
        let map = default_status_map();
        let a = |d: &str| JsmApproval {
            id: "1".into(),
            name: None,
            final_decision: d.into(),
            approvers: vec![],
        };
        let rows: [(&[&str], Option<ApprovalState>); 6] = [
            (&[], Some(ApprovalState::NotRequested)),
            (&["approved"], Some(ApprovalState::Approved)),
            (&["approved", "pending"], Some(ApprovalState::Requested)),
            (
                &["approved", "declined", "pending"],
                Some(ApprovalState::Rejected),
            ),
            (&["approved", "approved"], Some(ApprovalState::Approved)),
            (&["approved", "maybe"], Some(ApprovalState::Unknown)),
        ];
        for (decisions, want) in rows {
            let list: Vec<_> = decisions.iter().map(|d| a(d)).collect();
            assert_eq!(
                approval_of(&map, Some(&list)).map(|x| x.state),
                want,
                "{decisions:?}"
            );
        }
        assert_eq!(approval_of(&map, None), None);
    }

    #[test]
    fn the_docs_page_shows_the_default_map() {
        let page = include_str!("../../../docs/connectors/jira.md");
        default_status_map().check_documented(page).unwrap();
    }
}
