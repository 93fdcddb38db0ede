//! TOPdesk incident flags and change phases ↔ [`TicketState`], and change authorization
//! ↔ [`ApprovalState`], as a core [`StatusMap`] (documented on the connector page and
//! checked against it by a test).
//!
//! Incidents: processing statuses are tenant-defined, so the state comes from the
//! incident's own flags (fact sheet §3.3), as the key `closed` (the `closed` flag, an
//! archived `status`, or a completed partial incident, which ignores `closed`),
//! `completed`, `on_hold` or `open`. Settings can refine it with
//! `processing:<processing status name>` (open incidents) and `closure:<closure code
//! name>` (closed ones) keys — `"closure:Rejected" = "cancelled"` — but a refinement is
//! used only when it agrees with the flags (a finished state for a closed incident, an
//! unfinished one for an open incident): the `closed` flag is the truth.
//!
//! Operator changes: `phase:<phase>` keys for the state; the approval is the change's
//! `authorizationStatus` (UNVERIFIED values, fact sheet §3.4), falling back to
//! `phase:<phase>` approval keys.

use accesslink_core::{
    Approval, ApprovalState, StatusMap, StatusOverrides, TicketState, TicketStatus,
};

use crate::models::{Incident, OperatorChange};

/// The default table.
pub fn default_status_map() -> StatusMap {
    use ApprovalState as A;
    use TicketState as S;
    StatusMap::from_states(&[
        ("open", S::InProgress),
        ("on_hold", S::OnHold),
        ("completed", S::Resolved),
        ("closed", S::Closed),
        ("phase:prfc", S::New),
        ("phase:rfc", S::New),
        ("phase:simple", S::InProgress),
        ("phase:progress", S::InProgress),
        ("phase:evaluation", S::Resolved),
        ("phase:closed", S::Closed),
        ("phase:rejected", S::Cancelled),
        ("phase:canceled", S::Cancelled),
    ])
    .approval("requested", A::Requested)
    .approval("authorized", A::Approved)
    .approval("approved", A::Approved)
    .approval("rejected", A::Rejected)
    .approval("not_required", A::NotRequested)
    .approval("phase:prfc", A::Requested)
    .approval("phase:rfc", A::Requested)
    .approval("phase:progress", A::Approved)
    .approval("phase:evaluation", A::Approved)
    .approval("phase:closed", A::Approved)
    .approval("phase:rejected", A::Rejected)
}

/// The default table with the settings' overrides.
pub fn status_map_with(o: &StatusOverrides) -> StatusMap {
    default_status_map().with_overrides(o)
}

/// The flag key of an incident: `closed`, `completed`, `on_hold` or `open`.
pub fn flag_key(i: &Incident) -> &'static str {
    // Partial incidents ignore `closed`; `completed` is their end (fact sheet §3.3).
    let partial_done = i.completed && i.status.as_deref() == Some("partial");
    if i.closed || i.archived() || partial_done {
        "closed"
    } else if i.completed {
        "completed"
    } else if i.on_hold {
        "on_hold"
    } else {
        "open"
    }
}

/// The status of an incident (see the [module docs](self)).
pub fn incident_status(map: &StatusMap, i: &Incident) -> TicketStatus {
    let flag = flag_key(i);
    let by_flag = map.ticket_state(flag);
    let refinement = if flag == "closed" {
        i.closure_code
            .as_ref()
            .and_then(|c| c.name.as_deref())
            .map(|n| format!("closure:{n}"))
    } else {
        i.processing_status
            .as_ref()
            .and_then(|p| p.name.as_deref())
            .map(|n| format!("processing:{n}"))
    };
    if let Some(key) = refinement {
        if let Some(state) = map.get_state(&key) {
            let finished =
                |s: TicketState| matches!(s, TicketState::Closed | TicketState::Cancelled);
            if finished(state) == finished(by_flag) {
                return TicketStatus::new(state, key);
            }
            tracing::warn!(key, %state, flag, "status_map entry disagrees with the incident's flags; the flags win");
        }
    }
    TicketStatus::new(by_flag, flag)
}

/// The status of an operator change from its phase.
pub fn change_status(map: &StatusMap, c: &OperatorChange) -> TicketStatus {
    let phase = c.phase.as_deref().unwrap_or("unknown");
    map.ticket_status(&format!("phase:{phase}"))
}

/// The approval of an operator change: its authorization status, else its phase.
pub fn change_approval(map: &StatusMap, c: &OperatorChange) -> Approval {
    if let Some(auth) = c.authorization_status.as_deref() {
        if let Some(state) = map.get_approval(auth) {
            return Approval {
                state,
                raw: auth.to_owned(),
            };
        }
    }
    let key = format!("phase:{}", c.phase.as_deref().unwrap_or("unknown"));
    let state = map.get_approval(&key).unwrap_or_else(|| {
        if c.change_type.as_deref() == Some("simple") {
            // Simple changes have no request-for-change approval step.
            ApprovalState::NotRequested
        } else {
            ApprovalState::Unknown
        }
    });
    Approval { state, raw: key }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::Named;

    fn incident(f: impl FnOnce(&mut Incident)) -> Incident {
        let mut i = Incident::default();
        f(&mut i);
        i
    }

    #[test]
    fn the_closed_flag_is_the_truth() {
        let map = default_status_map();
        let s = incident_status(&map, &incident(|_| {}));
        assert_eq!((s.state, s.raw.as_str()), (TicketState::InProgress, "open"));
        let s = incident_status(&map, &incident(|i| i.completed = true));
        assert_eq!(s.state, TicketState::Resolved);
        let s = incident_status(
            &map,
            &incident(|i| i.status = Some("secondLineArchived".into())),
        );
        assert_eq!(s.state, TicketState::Closed);
        // A processing status named "Closed" does not close an incident whose flag says open.
        let map = map.with_overrides(
            &StatusOverrides::new()
                .state("processing:Closed", TicketState::Closed)
                .state("processing:Waiting for vendor", TicketState::OnHold)
                .state("closure:Rejected", TicketState::Cancelled),
        );
        let s = incident_status(
            &map,
            &incident(|i| i.processing_status = Some(Named::name("Closed"))),
        );
        assert_eq!(s.state, TicketState::InProgress);
        let s = incident_status(
            &map,
            &incident(|i| i.processing_status = Some(Named::name("Waiting for vendor"))),
        );
        assert_eq!(
            (s.state, s.raw.as_str()),
            (TicketState::OnHold, "processing:Waiting for vendor")
        );
        let s = incident_status(
            &map,
            &incident(|i| {
                i.closed = true;
                i.closure_code = Some(Named::name("Rejected"));
            }),
        );
        assert_eq!(s.state, TicketState::Cancelled);
    }

    #[test]
    fn change_approval_from_authorization_then_phase() {
        let map = default_status_map();
        let c = |auth: Option<&str>, phase: &str, ty: &str| OperatorChange {
            authorization_status: auth.map(str::to_owned),
            phase: Some(phase.into()),
            change_type: Some(ty.into()),
            ..OperatorChange::default()
        };
        assert_eq!(
            change_approval(&map, &c(Some("authorized"), "rfc", "extensive")).state,
            ApprovalState::Approved
        );
        assert_eq!(
            change_approval(&map, &c(None, "rfc", "extensive")).state,
            ApprovalState::Requested
        );
        assert_eq!(
            change_approval(&map, &c(None, "progress", "extensive")).state,
            ApprovalState::Approved
        );
        assert_eq!(
            change_approval(&map, &c(None, "simple", "simple")).state,
            ApprovalState::NotRequested
        );
        assert_eq!(
            change_approval(&map, &c(None, "canceled", "extensive")).state,
            ApprovalState::Unknown
        );
        assert_eq!(
            change_status(&map, &c(None, "canceled", "extensive")).state,
            TicketState::Cancelled
        );
    }

    #[test]
    fn the_docs_page_shows_the_table() {
        let page = include_str!("../../../docs/connectors/topdesk.md");
        default_status_map().check_documented(page).unwrap();
    }
}
