//! OpsRamp ticket statuses → [`TicketState`] as data ([`default_status_map`], which
//! settings extend with `status_map`), and its `+0000` timestamps.
//!
//! `Cancelled`/`Canceled` come from custom status flows; anything not in the map is
//! `Unknown` (the raw status is kept). The table is on the connector's docs page,
//! checked against this map by a test.
//!
//! OpsRamp has no approval on incidents and service requests in the v2 ticket API, so
//! `Ticket::approval` is `None`.

use std::time::SystemTime;

use accesslink_core::{StatusMap, TicketState, TicketStatus};

/// OpsRamp's documented statuses (fact sheet §1.10) and the cancelled states of custom
/// flows, matched in any case with surrounding spaces ignored.
pub fn default_status_map() -> StatusMap {
    StatusMap::from_states(&[
        ("New", TicketState::New),
        ("Open", TicketState::InProgress),
        ("Pending", TicketState::OnHold),
        ("On Hold", TicketState::OnHold),
        ("OnHold", TicketState::OnHold),
        ("Resolved", TicketState::Resolved),
        ("Closed", TicketState::Closed),
        ("Cancelled", TicketState::Cancelled),
        ("Canceled", TicketState::Cancelled),
    ])
}

/// The state of an OpsRamp status in the default map.
pub fn state_of(status: &str) -> TicketState {
    default_status_map().ticket_state(status)
}

/// The status with its raw value, in the default map.
pub fn status_of(status: &str) -> TicketStatus {
    default_status_map().ticket_status(status)
}

/// Parses `2016-11-01T11:54:24+0000` (offset without a colon, which RFC 3339 parsers
/// refuse); `""` and anything else is `None`.
pub fn parse_time(s: &str) -> Option<SystemTime> {
    let s = s.trim();
    let (head, offset) = (s.get(..19)?, s.get(19..)?.trim());
    let minutes = match offset {
        "" | "Z" => 0,
        o => {
            // `split_at_checked`: a server's odd first character is `None`, not a panic.
            let (sign, digits) = o.split_at_checked(1)?;
            let digits = digits.replace(':', "");
            if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let h: i32 = digits[..2].parse().ok()?;
            let m: i32 = digits[2..].parse().ok()?;
            match sign {
                "+" => h * 60 + m,
                "-" => -(h * 60 + m),
                _ => return None,
            }
        }
    };
    accesslink_core::time::parse_local_datetime(&head.replace('T', " "), minutes)
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;

    #[test]
    fn status_table() {
        let rows = [
            ("New", TicketState::New),
            ("Open", TicketState::InProgress),
            ("Pending", TicketState::OnHold),
            ("On Hold", TicketState::OnHold),
            ("Resolved", TicketState::Resolved),
            ("closed", TicketState::Closed),
            ("Cancelled", TicketState::Cancelled),
            ("Awaiting Vendor", TicketState::Unknown),
        ];
        for (raw, want) in rows {
            assert_eq!(state_of(raw), want, "{raw}");
            assert_eq!(status_of(raw).raw, raw);
        }
    }

    #[test]
    fn the_docs_page_shows_the_default_map() {
        default_status_map()
            .check_documented(include_str!("../../../docs/connectors/opsramp.md"))
            .unwrap();
    }

    #[test]
    fn opsramp_times() {
        let t = parse_time("2016-11-01T11:54:24+0000").unwrap();
        assert_eq!(t, UNIX_EPOCH + Duration::from_secs(1_478_001_264));
        let t2 = parse_time("2016-11-01T13:54:24+0200").unwrap();
        assert_eq!(t, t2);
        assert_eq!(parse_time(""), None);
        assert_eq!(parse_time("2016-11-01"), None);
        assert_eq!(parse_time("2016-11-01T11:54:24+00x0"), None);
    }

    #[test]
    fn odd_server_dates_are_none_not_a_panic() {
        for odd in [
            "2016-11-01T11:54:24é0000",
            "2016-11-01T11:54:24\u{2212}0500",
            "2016-11-01T11:5é:24+0000",
        ] {
            assert_eq!(parse_time(odd), None, "{odd:?}");
        }
    }
}
