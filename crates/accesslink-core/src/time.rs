//! Timestamps as ticketing systems send them.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Parses a zone-less `YYYY-MM-DD HH:MM:SS` timestamp (OTRS, GLPI and others send the
/// server's local time), given the server's offset east of UTC in minutes.
pub fn parse_local_datetime(s: &str, utc_offset_minutes: i32) -> Option<SystemTime> {
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

/// Formats a time as RFC 3339 UTC with milliseconds, `2026-01-31T12:34:56.789Z`;
/// times before 1970 are clamped to the epoch.
pub fn format_rfc3339_millis(t: SystemTime) -> String {
    let since = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    let days = i64::try_from(secs / 86_400).unwrap_or(i64::MAX / 2);
    let rem = secs % 86_400;
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        since.subsec_millis()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_round_trips_through_the_parser() {
        let t = UNIX_EPOCH + Duration::from_millis(1_795_392_942_123);
        assert_eq!(format_rfc3339_millis(t), "2026-11-23T00:15:42.123Z");
        assert_eq!(
            format_rfc3339_millis(UNIX_EPOCH),
            "1970-01-01T00:00:00.000Z"
        );
        let back = parse_local_datetime("2026-11-23 00:15:42", 0).unwrap();
        assert_eq!(back, UNIX_EPOCH + Duration::from_secs(1_795_392_942));
    }

    #[test]
    fn local_datetimes() {
        let t = parse_local_datetime("2026-11-23 00:15:42", 0).unwrap();
        assert_eq!(
            t.duration_since(UNIX_EPOCH).unwrap().as_secs(),
            1_795_392_942
        );
        let t = parse_local_datetime("2026-11-23 01:15:42", 60).unwrap();
        assert_eq!(
            t.duration_since(UNIX_EPOCH).unwrap().as_secs(),
            1_795_392_942
        );
        assert!(parse_local_datetime("2026-13-01 00:00:00", 0).is_none());
        assert!(parse_local_datetime("2026-02-30x", 0).is_none());
        assert!(parse_local_datetime("yesterday", 0).is_none());
    }
}
