//! OTRS states → [`TicketState`], as data: [`default_status_map`].
//!
//! State names are admin-defined, so the default table goes by `StateType`, which every
//! state has (see the fact sheet, section 1.11). A state is looked up by its name
//! first, then by its type ([`StatusMap::first_state`]), so settings can map one custom
//! state (`status_map.states = { "closed by IAM" = "closed" }`) or a whole custom type.
//!
//! One rule is logic rather than mapping: closed-type states listed in
//! [`CloseStates::rejected`](crate::CloseStates::rejected) are reported as `Cancelled`,
//! so a refusal is not mistaken for a completion. `merged` is `Cancelled` because the
//! work continues in another ticket; anything not in the map is `Unknown`.

use accesslink_core::{StatusMap, TicketState, TicketStatus};

/// The default table: OTRS state type → [`TicketState`].
pub fn default_status_map() -> StatusMap {
    StatusMap::from_states(&[
        ("new", TicketState::New),
        ("open", TicketState::InProgress),
        ("pending reminder", TicketState::OnHold),
        ("pending auto", TicketState::OnHold),
        ("closed", TicketState::Closed),
        ("removed", TicketState::Cancelled),
        ("merged", TicketState::Cancelled),
    ])
}

/// The normalised status of a state name and its type: a rejected closed state is
/// `Cancelled`; otherwise the map by name, then by type; otherwise `Unknown`.
pub fn map_state(
    map: &StatusMap,
    state: &str,
    state_type: &str,
    rejected: &[String],
) -> TicketStatus {
    let normalised = if state_type.trim().eq_ignore_ascii_case("closed")
        && rejected
            .iter()
            .any(|r| r.trim().eq_ignore_ascii_case(state.trim()))
    {
        TicketState::Cancelled
    } else {
        map.first_state([state, state_type])
            .unwrap_or(TicketState::Unknown)
    };
    TicketStatus::new(normalised, state)
}

#[cfg(test)]
mod tests {
    use super::*;
    use accesslink_core::StatusOverrides;

    #[test]
    fn mapping_table() {
        let map = default_status_map();
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
            ("weird", "escalated", TicketState::Unknown),
        ];
        for (state, ty, want) in rows {
            let s = map_state(&map, state, ty, &rejected);
            assert_eq!(s.state, want, "{state}/{ty}");
            assert_eq!(s.raw, state);
        }
    }

    #[test]
    fn overrides_go_by_name_before_type() {
        let map = default_status_map().with_overrides(
            &StatusOverrides::new()
                .state("awaiting vendor", TicketState::OnHold)
                .state("closed successful", TicketState::Cancelled),
        );
        let none: &[String] = &[];
        assert_eq!(
            map_state(&map, "Awaiting Vendor", "custom", none).state,
            TicketState::OnHold
        );
        assert_eq!(
            map_state(&map, "closed successful", "closed", none).state,
            TicketState::Cancelled
        );
        assert_eq!(
            map_state(&map, "closed by IAM", "closed", none).state,
            TicketState::Closed
        );
    }

    #[test]
    fn the_docs_page_shows_the_default_table() {
        default_status_map()
            .check_documented(include_str!("../../../docs/connectors/otrs.md"))
            .unwrap_or_else(|e| {
                panic!(
                    "docs/connectors/otrs.md is out of date:\n{e}\nwant:\n{}",
                    default_status_map().markdown_table()
                )
            });
    }
}
