//! Case statuses and `ProcessInstance` approvals → [`TicketState`] and
//! [`ApprovalState`], as data.
//!
//! `Status` is an org-customisable picklist; whether a value is closed is the value's
//! "Is Closed" flag, which Salesforce exposes as the record's `IsClosed` (Remedyforce: the
//! open flag `BMCServiceDesk__state__c`, `true` = open). **That flag is the truth**: a
//! status is looked up as `status:<name>` and the answer is used only when it agrees
//! with the flag (a terminal state for a closed record, a non-terminal one for an open
//! one); otherwise the record is `closed` or `open`. Add your org's values in settings:
//!
//! ```toml
//! [instances.salesforce.status_map]
//! states = { "status:Waiting on Customer" = "on_hold", "status:Duplicate" = "cancelled" }
//! ```
//!
//! Approvals: the latest `ProcessInstance` of the record decides; values not in the map
//! (the fact sheet verifies only a subset) count as pending (`requested`), so a gate
//! never passes on them.

use accesslink_core::{Approval, ApprovalState, StatusMap, TicketState, TicketStatus};

/// The default map.
pub fn default_status_map() -> StatusMap {
    use ApprovalState as A;
    use TicketState as S;
    StatusMap::from_states(&[
        // The record's flag, when the status name says nothing more.
        ("open", S::InProgress),
        ("closed", S::Closed),
        // Service Cloud's default picklist values.
        ("status:New", S::New),
        ("status:Working", S::InProgress),
        ("status:Escalated", S::InProgress),
        ("status:On Hold", S::OnHold),
        ("status:Closed", S::Closed),
        // Common additions, and Remedyforce's status names.
        ("status:Resolved", S::Resolved),
        ("status:Cancelled", S::Cancelled),
        ("status:Canceled", S::Cancelled),
        ("status:Rejected", S::Cancelled),
        ("status:Opened", S::New),
        ("status:Open", S::InProgress),
        ("status:In Progress", S::InProgress),
        ("status:Pending", S::OnHold),
    ])
    .approval("Pending", A::Requested)
    .approval("Started", A::Requested)
    .approval("Held", A::Requested)
    .approval("Fault", A::Requested)
    .approval("Approved", A::Approved)
    .approval("Rejected", A::Rejected)
    .approval("Removed", A::Rejected)
}

/// The state of a record from its status name and closed flag (`None`: the flag was not
/// read, the name alone decides).
pub fn status_of(map: &StatusMap, name: &str, is_closed: Option<bool>) -> TicketStatus {
    let by_name = (!name.is_empty())
        .then(|| map.get_state(&format!("status:{name}")))
        .flatten();
    let state = match (by_name, is_closed) {
        (Some(s), Some(closed)) if s.is_terminal() == closed => s,
        (Some(s), None) => s,
        (_, Some(true)) => map.get_state("closed").unwrap_or(TicketState::Closed),
        (_, Some(false)) => map.get_state("open").unwrap_or(TicketState::InProgress),
        (None, None) => TicketState::Unknown,
    };
    TicketStatus::new(state, name)
}

/// The approval from the record's latest `ProcessInstance` status (`None`: there is
/// none: `not_requested`). Values not in the map are pending.
pub fn approval_of(map: &StatusMap, latest: Option<&str>) -> Approval {
    match latest {
        None => Approval {
            state: ApprovalState::NotRequested,
            raw: String::new(),
        },
        Some(raw) => Approval {
            state: map.get_approval(raw).unwrap_or(ApprovalState::Requested),
            raw: raw.to_owned(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flag_is_the_truth() {
        let map = default_status_map();
        let rows = [
            ("New", Some(false), TicketState::New),
            ("Working", Some(false), TicketState::InProgress),
            ("Closed", Some(true), TicketState::Closed),
            // An org whose "Closed" value is not flagged closed: open.
            ("Closed", Some(false), TicketState::InProgress),
            // A custom closed value the map does not know: closed.
            ("Erledigt", Some(true), TicketState::Closed),
            ("Cancelled", Some(true), TicketState::Cancelled),
            ("Mystery", None, TicketState::Unknown),
            ("", Some(false), TicketState::InProgress),
            ("CLOSED", Some(true), TicketState::Closed),
        ];
        for (name, flag, want) in rows {
            assert_eq!(status_of(&map, name, flag).state, want, "{name} {flag:?}");
        }
    }

    #[test]
    fn approvals() {
        let map = default_status_map();
        assert_eq!(approval_of(&map, None).state, ApprovalState::NotRequested);
        assert_eq!(
            approval_of(&map, Some("Approved")).state,
            ApprovalState::Approved
        );
        assert_eq!(
            approval_of(&map, Some("Removed")).state,
            ApprovalState::Rejected
        );
        assert_eq!(
            approval_of(&map, Some("SomethingNew")).state,
            ApprovalState::Requested
        );
    }

    #[test]
    fn the_docs_page_shows_the_default_map() {
        let page = include_str!("../../../docs/connectors/salesforce.md");
        default_status_map().check_documented(page).unwrap();
    }
}
