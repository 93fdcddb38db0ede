//! What the mock stores, and the default data of a fresh Znuny 7.0 install.
//!
//! IDs and names come from `scripts/database/initial_insert.mysql.sql` of Znuny 7.0.19 (the
//! tarball in `shared/znuny/`); the agent, customer and `AccessRequestID` field are the ones
//! `shared/znuny/setup.sh` creates.

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

/// `(id, name)` rows of a lookup table.
pub(super) type Table = [(u64, &'static str)];

/// `ticket_state` rows; [`state`] adds the state type.
pub(super) const STATES: &Table = &[
    (1, "new"),
    (2, "closed successful"),
    (3, "closed unsuccessful"),
    (4, "open"),
    (5, "removed"),
    (6, "pending reminder"),
    (7, "pending auto close+"),
    (8, "pending auto close-"),
    (9, "merged"),
];
/// The `ticket_state_type` name of each of [`STATES`], in order.
const STATE_TYPE_OF: [&str; 9] = [
    "new",
    "closed",
    "closed",
    "open",
    "removed",
    "pending reminder",
    "pending auto",
    "pending auto",
    "merged",
];
/// `ticket_state_type` rows (for `StateTypeIDs`).
pub(super) const STATE_TYPES: &Table = &[
    (1, "new"),
    (2, "open"),
    (3, "closed"),
    (4, "pending reminder"),
    (5, "pending auto"),
    (6, "removed"),
    (7, "merged"),
];
pub(super) const QUEUES: &Table = &[(1, "Postmaster"), (2, "Raw"), (3, "Junk"), (4, "Misc")];
pub(super) const PRIORITIES: &Table = &[
    (1, "1 very low"),
    (2, "2 low"),
    (3, "3 normal"),
    (4, "4 high"),
    (5, "5 very high"),
];
pub(super) const TYPES: &Table = &[(1, "Unclassified")];
pub(super) const LOCKS: &Table = &[(1, "unlock"), (2, "lock"), (3, "tmp_lock")];
pub(super) const SENDER_TYPES: &Table = &[(1, "agent"), (2, "system"), (3, "customer")];
/// Communication channels; only Email, Phone and Internal may be used for new articles.
pub(super) const CHANNELS: &Table = &[(1, "Email"), (2, "Phone"), (3, "Internal"), (4, "Chat")];
/// `ticket_history_type` rows the mock writes.
pub(super) const HISTORY_TYPES: &Table = &[
    (1, "NewTicket"),
    (15, "AddNote"),
    (16, "Move"),
    (17, "Lock"),
    (18, "Unlock"),
    (21, "CustomerUpdate"),
    (22, "PriorityUpdate"),
    (23, "OwnerUpdate"),
    (26, "SetPendingTime"),
    (27, "StateUpdate"),
    (28, "TicketDynamicFieldUpdate"),
    (34, "ResponsibleUpdate"),
    (30, "FollowUp"),
    (37, "TypeUpdate"),
    (50, "TitleUpdate"),
];

/// The kind of a ticket dynamic field, as far as value validation goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum FieldKind {
    /// Free text (Text, TextArea and the process-management fields).
    Text,
    /// `YYYY-MM-DD HH:MM:SS`.
    DateTime,
}

/// Valid ticket dynamic fields: the five of the initial data plus `AccessRequestID`.
/// TicketGet lists them sorted by name, which is the order here.
pub(super) const FIELDS: [(&str, FieldKind); 6] = [
    ("AccessRequestID", FieldKind::Text),
    ("ProcessManagementActivityID", FieldKind::Text),
    ("ProcessManagementAttachment", FieldKind::Text),
    ("ProcessManagementProcessID", FieldKind::Text),
    ("TicketCalendarEndTime", FieldKind::DateTime),
    ("TicketCalendarStartTime", FieldKind::DateTime),
];

/// Name of the correlation field `setup.sh` creates.
pub(super) const CORRELATION_FIELD: &str = "AccessRequestID";

/// Name of a row by id.
pub(super) fn name_of(table: &Table, id: u64) -> &'static str {
    table.iter().find(|(i, _)| *i == id).map_or("", |(_, n)| n)
}

/// Id of a row by exact (case-sensitive) name.
pub(super) fn id_of(table: &Table, name: &str) -> Option<u64> {
    table.iter().find(|(_, n)| *n == name).map(|(i, _)| *i)
}

/// `(name, type)` of a state.
pub(super) fn state(id: u64) -> (&'static str, &'static str) {
    let index = usize::try_from(id).ok().and_then(|i| i.checked_sub(1));
    let kind = index.and_then(|i| STATE_TYPE_OF.get(i)).copied();
    (name_of(STATES, id), kind.unwrap_or(""))
}

/// StateID of a state name.
pub(super) fn state_id(name: &str) -> Option<u64> {
    id_of(STATES, name)
}

/// An agent (`users` row).
#[derive(Debug, Clone)]
pub(super) struct Agent {
    pub(super) id: u64,
    pub(super) login: &'static str,
    pub(super) password: &'static str,
    pub(super) first: &'static str,
    pub(super) last: &'static str,
    pub(super) email: &'static str,
}

/// `root@localhost` (UserID 1, owner of ticket 1) and the `apiagent` of setup.sh (UserID 2).
pub(super) static AGENTS: [Agent; 2] = [
    Agent {
        id: 1,
        login: "root@localhost",
        password: "RootPw-Znuny7",
        first: "Admin",
        last: "OTRS",
        email: "root@localhost",
    },
    Agent {
        id: 2,
        login: "apiagent",
        password: "ApiAgent-Pw1",
        first: "API",
        last: "Agent",
        email: "apiagent@localhost.localdomain",
    },
];

/// A customer user (`customer_user` row).
#[derive(Debug, Clone)]
pub(super) struct Customer {
    pub(super) login: String,
    pub(super) password: String,
    pub(super) customer_id: String,
    pub(super) first: String,
    pub(super) last: String,
    pub(super) email: String,
}

impl Customer {
    pub(super) fn full_name(&self) -> String {
        format!("{} {}", self.first, self.last).trim().to_owned()
    }
}

/// Who a request runs as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Principal {
    /// An agent, by UserID.
    Agent(u64),
    /// A customer user, by login.
    Customer(String),
}

/// A ticket row with its articles, dynamic field values and history.
#[derive(Debug, Clone)]
pub(super) struct Ticket {
    pub(super) id: u64,
    pub(super) number: String,
    pub(super) title: String,
    pub(super) state_id: u64,
    pub(super) queue_id: u64,
    pub(super) priority_id: u64,
    pub(super) type_id: u64,
    pub(super) lock_id: u64,
    pub(super) owner_id: u64,
    pub(super) responsible_id: u64,
    /// `None` is SQL NULL (ticket 1 has no customer).
    pub(super) customer_user: Option<String>,
    pub(super) customer_id: Option<String>,
    pub(super) created: i64,
    pub(super) changed: i64,
    pub(super) create_by: u64,
    pub(super) change_by: u64,
    /// `until_time`: epoch of the pending time, 0 when never set.
    pub(super) pending_until: i64,
    pub(super) fields: BTreeMap<String, String>,
    pub(super) articles: Vec<Article>,
    pub(super) history: Vec<History>,
}

/// An article (`article` + `article_data_mime`).
#[derive(Debug, Clone)]
pub(super) struct Article {
    pub(super) id: u64,
    pub(super) channel_id: u64,
    pub(super) sender_type_id: u64,
    pub(super) visible: bool,
    pub(super) from: String,
    pub(super) to: String,
    pub(super) subject: String,
    pub(super) body: String,
    pub(super) content_type: String,
    pub(super) mime_type: String,
    pub(super) charset: String,
    pub(super) created: i64,
    pub(super) create_by: u64,
    pub(super) attachments: Vec<Attachment>,
}

/// A file attached to an article; `content` is the base64 text the client sent.
#[derive(Debug, Clone)]
pub(super) struct Attachment {
    pub(super) content: String,
    pub(super) content_type: String,
    pub(super) filename: String,
    pub(super) size: usize,
}

/// A `ticket_history` row.
#[derive(Debug, Clone)]
pub(super) struct History {
    pub(super) type_id: u64,
    pub(super) name: String,
    pub(super) article_id: u64,
    pub(super) created: i64,
    pub(super) create_by: u64,
    pub(super) owner_id: u64,
    pub(super) priority_id: u64,
    pub(super) queue_id: u64,
    pub(super) state_id: u64,
    pub(super) type_id_ticket: u64,
}

thread_local! {
    /// The stopped clock of the mock whose state this thread holds locked, if stopped
    /// (`TicketBackend::freeze_clock`); set and restored by the state's lock guard.
    static FROZEN: std::cell::Cell<Option<i64>> = const { std::cell::Cell::new(None) };
}

/// Makes [`now_epoch`] answer `frozen` (when `Some`) on this thread; returns the value
/// it replaces.
pub(super) fn set_frozen(frozen: Option<i64>) -> Option<i64> {
    FROZEN.with(|f| f.replace(frozen))
}

/// Seconds since the epoch: the real clock, or the mock's stopped one.
pub(super) fn now_epoch() -> i64 {
    if let Some(at) = FROZEN.with(std::cell::Cell::get) {
        return at;
    }
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// `(year, month, day)` of a day count since 1970-01-01 (H. Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

/// Day count since 1970-01-01 of a civil date (inverse of [`civil_from_days`]).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468
}

/// Epoch of a civil date and time, `None` when the date does not exist.
pub(super) fn epoch_of(y: i64, mo: i64, d: i64, h: i64, mi: i64, s: i64) -> Option<i64> {
    let days = days_from_civil(y, mo, d);
    let valid = civil_from_days(days) == (y, mo, d)
        && (0..24).contains(&h)
        && (0..60).contains(&mi)
        && (0..60).contains(&s);
    valid.then_some(days * 86_400 + h * 3600 + mi * 60 + s)
}

/// `YYYY-MM-DD HH:MM:SS`. The real server prints its local time; the mock uses UTC.
pub(super) fn format_time(epoch: i64) -> String {
    let (y, mo, d) = civil_from_days(epoch.div_euclid(86_400));
    let secs = epoch.rem_euclid(86_400);
    format!(
        "{y:04}-{mo:02}-{d:02} {:02}:{:02}:{:02}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// A DateChecksum ticket number (`Kernel/System/Ticket/Number/DateChecksum.pm`): date,
/// SystemID 10 (setup.sh), a five-digit counter and a check digit, so the first ticket of
/// 2026-11-23 is `2026112310000011` as in REST.md.
pub(super) fn ticket_number(epoch: i64, counter: u64) -> String {
    let (y, mo, d) = civil_from_days(epoch.div_euclid(86_400));
    let base = format!("{y:04}{mo:02}{d:02}10{counter:05}");
    let sum: u32 = base
        .bytes()
        .zip([1, 2].into_iter().cycle())
        .map(|(b, m)| u32::from(b - b'0') * m)
        .sum();
    let check = match 10 - sum % 10 {
        10 => 1,
        c => c,
    };
    format!("{base}{check}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticket_numbers_match_the_real_server() {
        // 2026-11-23 00:00:00 UTC; REST.md shows counters 1 and 3 of that day.
        let day = epoch_of(2026, 11, 23, 0, 0, 0).unwrap();
        assert_eq!(ticket_number(day, 1), "2026112310000011");
        assert_eq!(ticket_number(day, 3), "2026112310000039");
    }

    #[test]
    fn calendar_round_trips() {
        let t = epoch_of(2030, 1, 2, 3, 4, 5).unwrap();
        assert_eq!(format_time(t), "2030-01-02 03:04:05");
        assert_eq!(format_time(0), "1970-01-01 00:00:00");
        assert!(epoch_of(2030, 2, 30, 0, 0, 0).is_none());
        assert!(epoch_of(2030, 13, 1, 0, 0, 0).is_none());
    }
}
