//! Helix statuses ↔ [`TicketState`] and [`ApprovalState`], as a core [`StatusMap`]
//! (documented on the connector page and checked against it by a test).
//!
//! Keys are `<scope>:<status label>`: `incident:Assigned`, `change:Scheduled For Approval`,
//! `work_order:Waiting Approval`, `request:In Review`. Changes, work orders and requests
//! have no approval field on the form: the approval is implied by the status (fact sheet
//! §4; approval records live in `AP:*` forms, not read here).

use accesslink_core::{ApprovalState, StatusMap, StatusOverrides, TicketState};

/// The default table.
pub fn default_status_map() -> StatusMap {
    use ApprovalState as A;
    use TicketState as S;
    StatusMap::from_states(&[
        ("incident:New", S::New),
        ("incident:Assigned", S::New),
        ("incident:In Progress", S::InProgress),
        ("incident:Pending", S::OnHold),
        ("incident:Resolved", S::Resolved),
        ("incident:Closed", S::Closed),
        ("incident:Cancelled", S::Cancelled),
        ("change:Draft", S::New),
        ("change:Request For Authorization", S::New),
        ("change:Request For Change", S::New),
        ("change:Planning In Progress", S::InProgress),
        ("change:Scheduled For Review", S::InProgress),
        ("change:Scheduled For Approval", S::InProgress),
        ("change:Scheduled", S::InProgress),
        ("change:Implementation In Progress", S::InProgress),
        ("change:Pending", S::OnHold),
        ("change:Rejected", S::Cancelled),
        ("change:Completed", S::Resolved),
        ("change:Closed", S::Closed),
        ("change:Cancelled", S::Cancelled),
        ("work_order:Assigned", S::New),
        ("work_order:Pending", S::OnHold),
        ("work_order:Waiting Approval", S::New),
        ("work_order:Planning", S::InProgress),
        ("work_order:In Progress", S::InProgress),
        ("work_order:Completed", S::Resolved),
        ("work_order:Rejected", S::Cancelled),
        ("work_order:Cancelled", S::Cancelled),
        ("work_order:Closed", S::Closed),
        ("request:Draft", S::New),
        ("request:In Cart", S::New),
        ("request:In Review", S::New),
        ("request:Submitted", S::New),
        ("request:Waiting Approval", S::New),
        ("request:Planning", S::InProgress),
        ("request:In Progress", S::InProgress),
        ("request:Completed", S::Resolved),
        ("request:Rejected", S::Cancelled),
        ("request:Cancelled", S::Cancelled),
        ("request:Closed", S::Closed),
    ])
    .approval("change:Draft", A::NotRequested)
    .approval("change:Request For Authorization", A::Requested)
    .approval("change:Request For Change", A::Requested)
    .approval("change:Scheduled For Approval", A::Requested)
    .approval("change:Planning In Progress", A::Approved)
    .approval("change:Scheduled For Review", A::Approved)
    .approval("change:Scheduled", A::Approved)
    .approval("change:Implementation In Progress", A::Approved)
    .approval("change:Completed", A::Approved)
    .approval("change:Closed", A::Approved)
    .approval("change:Rejected", A::Rejected)
    .approval("work_order:Waiting Approval", A::Requested)
    .approval("work_order:Planning", A::Approved)
    .approval("work_order:In Progress", A::Approved)
    .approval("work_order:Completed", A::Approved)
    .approval("work_order:Rejected", A::Rejected)
    .approval("request:Waiting Approval", A::Requested)
    .approval("request:In Review", A::Requested)
    .approval("request:Planning", A::Approved)
    .approval("request:In Progress", A::Approved)
    .approval("request:Completed", A::Approved)
    .approval("request:Rejected", A::Rejected)
}

/// The default table with the settings' overrides.
pub fn status_map_with(o: &StatusOverrides) -> StatusMap {
    default_status_map().with_overrides(o)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_docs_page_shows_the_default_table() {
        let page = include_str!("../../../docs/connectors/helix.md");
        if let Err(e) = default_status_map().check_documented(page) {
            panic!(
                "{e}\n\nexpected table:\n{}",
                default_status_map().markdown_table()
            );
        }
    }
}
