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

use std::time::{Duration, SystemTime, UNIX_EPOCH};

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

/// Parses a server-local `YYYY-MM-DD HH:MM:SS` timestamp, given the server's offset.
pub(crate) fn parse_time(s: &str, utc_offset_minutes: i32) -> Option<SystemTime> {
    let s = s.trim();
    let (date, time) = s.split_once(' ')?;
    let mut d = date.split('-').map(|p| p.parse::<i64>().ok());
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    let mut t = time.split(':').map(|p| p.parse::<i64>().ok());
    let (hh, mm, ss) = (t.next()??, t.next()??, t.next()??);
    if !(1..=12).contains(&m) || !(1..=31).contains(&day) || hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    // Days from civil (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + hh * 3600 + mm * 60 + ss - i64::from(utc_offset_minutes) * 60;
    u64::try_from(secs)
        .ok()
        .map(|s| UNIX_EPOCH + Duration::from_secs(s))
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

    #[test]
    fn timestamps() {
        let t = parse_time("2026-11-23 00:15:42", 0).unwrap();
        assert_eq!(
            t.duration_since(UNIX_EPOCH).unwrap().as_secs(),
            1_795_392_942
        );
        let t = parse_time("2026-11-23 01:15:42", 60).unwrap();
        assert_eq!(
            t.duration_since(UNIX_EPOCH).unwrap().as_secs(),
            1_795_392_942
        );
        assert!(parse_time("2026-13-01 00:00:00", 0).is_none());
        assert!(parse_time("yesterday", 0).is_none());
    }
}
