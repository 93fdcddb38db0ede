//! OTRS state types → [`TicketState`].
//!
//! State names are admin-defined, so the mapping goes by `StateType`, which every
//! state has (see the fact sheet, section 1.11). Closed-type states listed in
//! [`CloseStates::rejected`](crate::CloseStates::rejected) are reported as
//! `Cancelled`, so a refusal is not mistaken for a completion.
//!
//! | StateType | TicketState |
//! |---|---|
//! | `new` | New |
//! | `open` | InProgress |
//! | `pending reminder`, `pending auto` | OnHold |
//! | `closed` | Closed (Cancelled for the configured rejected states) |
//! | `removed` | Cancelled |
//! | `merged` | Cancelled (the work continues in another ticket) |
//! | anything else | Unknown |

use accesslink_core::{TicketState, TicketStatus};

/// The normalised status of a state name and its type.
pub fn map_state(state: &str, state_type: &str, rejected: &[String]) -> TicketStatus {
    let normalised = match state_type {
        "new" => TicketState::New,
        "open" => TicketState::InProgress,
        "pending reminder" | "pending auto" => TicketState::OnHold,
        "closed" if rejected.iter().any(|r| r == state) => TicketState::Cancelled,
        "closed" => TicketState::Closed,
        "removed" | "merged" => TicketState::Cancelled,
        _ => TicketState::Unknown,
    };
    TicketStatus::new(normalised, state)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mapping_table() {
        let rejected = vec!["closed unsuccessful".to_owned()];
        let rows = [
            ("new", "new", TicketState::New),
            ("open", "open", TicketState::InProgress),
            ("pending reminder", "pending reminder", TicketState::OnHold),
            ("pending auto close+", "pending auto", TicketState::OnHold),
            ("pending auto close-", "pending auto", TicketState::OnHold),
            ("closed successful", "closed", TicketState::Closed),
            ("closed unsuccessful", "closed", TicketState::Cancelled),
            ("resolved by IAM", "closed", TicketState::Closed),
            ("removed", "removed", TicketState::Cancelled),
            ("merged", "merged", TicketState::Cancelled),
            ("weird", "Open", TicketState::Unknown),
        ];
        for (state, ty, want) in rows {
            let s = map_state(state, ty, &rejected);
            assert_eq!(s.state, want, "{state}/{ty}");
            assert_eq!(s.raw, state);
        }
    }
}
