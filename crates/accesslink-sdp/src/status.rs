//! SDP statuses, change stages and approval statuses → [`TicketState`] and
//! [`ApprovalState`], as data (fact sheet §4.6).
//!
//! A status is looked up as `status:<name>`, then `internal:<internal_name>`, then (changes)
//! `stage:<stage name>`, then by its flags: `flag:stopped` (`in_progress` and
//! `stop_timer`), `flag:in_progress`, `flag:finished` (`in_progress == false`); none of
//! these is `Unknown`, which the gate denies. Approval is kept apart from state: the name
//! of `approval_status` is looked up in the approvals table (`null` is `NotRequested`).
//! For changes without an `approval_status`, a change in stage `Implementation`, `Review`
//! or `Close` whose state is not cancelled counts as approved (the fact sheet's default
//! rule: those stages come after the Approval stage). Add rows in settings:
//!
//! ```toml
//! [instances.sdp.status_map]
//! states = { "status:Awaiting Vendor" = "on_hold" }
//! approvals = { "Approved by CAB" = "approved" }
//! ```

use accesslink_core::{Approval, ApprovalState, StatusMap, TicketState, TicketStatus};

use crate::models::Ticket;
use crate::refs::Entity;

/// Stages after approval in the classic change workflow.
const APPROVED_STAGES: &[&str] = &["Implementation", "Review", "Close"];

/// The default map.
pub fn default_status_map() -> StatusMap {
    use ApprovalState as A;
    use TicketState as S;
    StatusMap::from_states(&[
        ("internal:Open", S::InProgress),
        ("internal:Onhold", S::OnHold),
        ("internal:Resolved", S::Resolved),
        ("internal:Closed", S::Closed),
        ("internal:Canceled", S::Cancelled),
        ("internal:Cancelled", S::Cancelled),
        ("status:Requested", S::New),
        ("status:Approved", S::InProgress),
        ("status:Rejected", S::Cancelled),
        ("status:Completed", S::Closed),
        ("status:Canceled", S::Cancelled),
        ("status:Cancelled", S::Cancelled),
        ("stage:Submission", S::New),
        ("stage:Planning", S::InProgress),
        ("stage:Approval", S::InProgress),
        ("stage:Implementation", S::InProgress),
        ("stage:Review", S::InProgress),
        ("stage:Close", S::Closed),
        ("flag:stopped", S::OnHold),
        ("flag:in_progress", S::InProgress),
        ("flag:finished", S::Closed),
    ])
    .approval("Pending Approval", A::Requested)
    .approval("Approval Pending", A::Requested)
    .approval("Pending", A::Requested)
    .approval("Approved", A::Approved)
    .approval("Denied", A::Rejected)
    .approval("Rejected", A::Rejected)
}

/// The state of a request or change.
pub fn status_of(map: &StatusMap, ticket: &Ticket) -> TicketStatus {
    let status = ticket.status.clone().unwrap_or_default();
    let name = status.name.clone().unwrap_or_default();
    let mut keys: Vec<String> = Vec::new();
    if !name.is_empty() {
        keys.push(format!("status:{name}"));
    }
    if let Some(i) = &status.internal_name {
        keys.push(format!("internal:{i}"));
    }
    if let Some(stage) = ticket.stage.as_ref().and_then(|s| s.name.as_ref()) {
        keys.push(format!("stage:{stage}"));
    }
    match (status.in_progress, status.stop_timer) {
        (Some(true), Some(true)) => keys.push("flag:stopped".into()),
        (Some(true), _) => keys.push("flag:in_progress".into()),
        (Some(false), _) => keys.push("flag:finished".into()),
        _ => {}
    }
    let state = map
        .first_state(keys.iter().map(String::as_str))
        .unwrap_or(TicketState::Unknown);
    let raw = match ticket.stage.as_ref().and_then(|s| s.name.as_deref()) {
        Some(stage) => format!("{stage}/{name}"),
        None => name,
    };
    TicketStatus::new(state, raw)
}

/// The approval of a request or change, apart from its state.
pub fn approval_of(
    map: &StatusMap,
    entity: Entity,
    ticket: &Ticket,
    state: TicketState,
) -> Approval {
    if let Some(name) = ticket.approval_status.as_ref().and_then(|a| a.name.clone()) {
        return Approval {
            state: map.approval_state(&name),
            raw: name,
        };
    }
    let stage = ticket.stage.as_ref().and_then(|s| s.name.clone());
    if entity == Entity::Change {
        if let Some(stage) = stage.filter(|s| APPROVED_STAGES.contains(&s.as_str())) {
            if state != TicketState::Cancelled {
                return Approval {
                    state: ApprovalState::Approved,
                    raw: format!("stage:{stage}"),
                };
            }
        }
    }
    Approval {
        state: ApprovalState::NotRequested,
        raw: String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn t(v: serde_json::Value) -> Ticket {
        let mut v = v;
        v["id"] = json!("1");
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn statuses_by_name_internal_name_stage_and_flags() {
        let map = default_status_map();
        let rows = [
            (
                json!({"status": {"name": "Open", "internal_name": "Open", "in_progress": true}}),
                TicketState::InProgress,
            ),
            (
                json!({"status": {"name": "On Hold", "internal_name": "Onhold", "in_progress": true, "stop_timer": true}}),
                TicketState::OnHold,
            ),
            (
                json!({"status": {"name": "Resolved", "internal_name": "Resolved", "in_progress": false}}),
                TicketState::Resolved,
            ),
            (
                json!({"status": {"name": "Closed", "internal_name": "Closed", "in_progress": false}}),
                TicketState::Closed,
            ),
            (
                json!({"status": {"name": "Cancelled", "internal_name": "Canceled"}}),
                TicketState::Cancelled,
            ),
            // A custom status known only by its flags.
            (
                json!({"status": {"name": "Waiting on vendor", "in_progress": true, "stop_timer": true}}),
                TicketState::OnHold,
            ),
            (
                json!({"status": {"name": "Fulfilled", "in_progress": false}}),
                TicketState::Closed,
            ),
            (json!({"status": {"name": "Limbo"}}), TicketState::Unknown),
            (json!({}), TicketState::Unknown),
            // Changes: status first, then stage.
            (
                json!({"stage": {"name": "Approval"}, "status": {"name": "Requested"}}),
                TicketState::New,
            ),
            (
                json!({"stage": {"name": "Close"}, "status": {"name": "Completed"}}),
                TicketState::Closed,
            ),
            (
                json!({"stage": {"name": "Review"}, "status": {"name": "In review"}}),
                TicketState::InProgress,
            ),
        ];
        for (v, want) in rows {
            assert_eq!(status_of(&map, &t(v.clone())).state, want, "{v}");
        }
    }

    #[test]
    fn approval_apart_from_state() {
        let map = default_status_map();
        let rows = [
            (
                Entity::Change,
                json!({"approval_status": {"name": "Approved"}, "stage": {"name": "Approval"}, "status": {"name": "Requested"}}),
                ApprovalState::Approved,
            ),
            (
                Entity::Change,
                json!({"approval_status": {"name": "Pending Approval"}, "stage": {"name": "Approval"}}),
                ApprovalState::Requested,
            ),
            (
                Entity::Change,
                json!({"approval_status": {"name": "Denied"}, "stage": {"name": "Approval"}}),
                ApprovalState::Rejected,
            ),
            (
                Entity::Change,
                json!({"approval_status": {"name": "Maybe"}}),
                ApprovalState::Unknown,
            ),
            (
                Entity::Change,
                json!({"approval_status": null, "stage": {"name": "Implementation"}, "status": {"name": "In progress"}}),
                ApprovalState::Approved,
            ),
            (
                Entity::Change,
                json!({"approval_status": null, "stage": {"name": "Close"}, "status": {"name": "Canceled"}}),
                ApprovalState::NotRequested,
            ),
            (
                Entity::Change,
                json!({"approval_status": null, "stage": {"name": "Submission"}}),
                ApprovalState::NotRequested,
            ),
            (
                Entity::Request,
                json!({"approval_status": null, "stage": {"name": "Implementation"}}),
                ApprovalState::NotRequested,
            ),
            (
                Entity::Request,
                json!({"approval_status": {"name": "Approved"}, "status": {"name": "Open", "internal_name": "Open"}}),
                ApprovalState::Approved,
            ),
        ];
        for (e, v, want) in rows {
            let ticket = t(v.clone());
            let st = status_of(&map, &ticket).state;
            assert_eq!(approval_of(&map, e, &ticket, st).state, want, "{v}");
        }
    }

    #[test]
    fn the_docs_page_shows_the_default_map() {
        let page = include_str!("../../../docs/connectors/sdp.md");
        default_status_map().check_documented(page).unwrap();
    }
}
