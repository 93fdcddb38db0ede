//! The mock's data: incidents with their actions, operator changes, persons, operators,
//! operator groups and memberships, and the accepted credentials.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

/// How the mock's tenant writes incident numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum NumberFormat {
    /// `I 2612 001` (the default).
    #[default]
    Spaces,
    /// `I-261207-001`.
    Dashes,
    /// `I2612-001`.
    Compact,
}

/// Who a credential belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AccountType {
    /// An operator: full API.
    Operator,
    /// A person: reads incidents only (self-service scope); everything else is 403.
    Person,
}

#[derive(Debug, Clone)]
pub(crate) struct Incident {
    pub id: String,
    pub number: String,
    pub line: String,
    pub brief: String,
    pub request: String,
    pub caller: Option<Value>,
    pub processing_status: String,
    pub on_hold: bool,
    pub completed: bool,
    pub closed: bool,
    pub closure_code: Option<String>,
    pub operator_group: Option<String>,
    pub external_number: String,
    pub created: String,
    /// The last change (`modificationDate`), stamped by every write.
    pub modified: SystemTime,
    /// The category and subcategory names.
    pub category: Option<String>,
    pub subcategory: Option<String>,
    pub archived: bool,
    /// The progress trail's text entries, oldest first.
    pub actions: Vec<Entry>,
}

/// A text entry of a progress trail.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub id: String,
    pub text: String,
    pub invisible: bool,
    pub at: SystemTime,
    /// `(id, name)` of the operator or person who wrote it.
    pub operator: Option<(String, String)>,
    pub person: Option<(String, String)>,
}

#[derive(Debug, Clone)]
pub(crate) struct Account {
    pub id: String,
    pub login: String,
    pub first: String,
    pub sur: String,
    pub email: String,
    pub archived: bool,
    pub branch: Option<String>,
    pub groups: BTreeSet<String>,
    pub permission_groups: BTreeSet<String>,
    /// The login password (never printed).
    pub password: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct Change {
    pub id: String,
    pub number: String,
    pub brief: String,
    pub change_type: String,
    pub phase: String,
    pub authorization_status: Option<String>,
    /// The requester's person id.
    pub requester: Option<String>,
    pub request: String,
    pub external_number: String,
    pub modified: SystemTime,
    /// The progress trail's memos, oldest first.
    pub progress: Vec<Entry>,
}

/// The processing statuses of the mock's tenant: `(name, on hold, completes and closes)`.
pub(crate) const PROCESSING_STATUSES: [(&str, bool, bool); 5] = [
    ("Logged", false, false),
    ("In progress", false, false),
    ("Waiting for user", true, false),
    ("Completed", false, false),
    ("Closed", false, true),
];

/// The UUID of entry `index` of search list `list` (processing statuses 1, closure
/// codes 2): search-list ids are UUIDs like every TOPdesk id.
fn search_list_id(list: u16, index: Option<usize>) -> String {
    format!(
        "5ea7c411-{list:04x}-4000-8000-{:012x}",
        index.unwrap_or(0xfff)
    )
}

/// The closure codes of the mock's tenant.
pub(crate) const CLOSURE_CODES: [&str; 3] = ["Solved", "Rejected", "Withdrawn"];

/// The incident categories of the mock's tenant, with their subcategories.
pub(crate) const CATEGORIES: [(&str, &[&str]); 2] = [
    ("Access", &["Roles", "Accounts"]),
    ("Hardware", &["Laptop"]),
];

/// The id of category `c` (search list 3) or of subcategory `s` of it (list 4).
pub(crate) fn category_id(c: usize, s: Option<usize>) -> String {
    match s {
        None => search_list_id(3, Some(c)),
        Some(s) => search_list_id(4, Some(c * 16 + s)),
    }
}

/// A TOPdesk timestamp: `2026-12-07T09:30:00.000+0000`.
pub(crate) fn format_time(t: SystemTime) -> String {
    let iso = accesslink_core::time::format_rfc3339_millis(t);
    format!("{}+0000", iso.trim_end_matches('Z'))
}

/// Milliseconds since the epoch of a TOPdesk or ISO 8601 UTC timestamp
/// (`…T09:30:00.000+0000`, `…T09:30:00Z`, `…T09:30:00`); other offsets too.
pub(crate) fn parse_time(s: &str) -> Option<u128> {
    let (date, time) = s.trim().split_once('T')?;
    let (clock, offset) = if let Some(c) = time.strip_suffix('Z') {
        (c, 0)
    } else if let Some(i) = time.rfind(['+', '-']) {
        let (c, off) = time.split_at(i);
        let digits: String = off[1..].chars().filter(char::is_ascii_digit).collect();
        if digits.len() != 4 {
            return None;
        }
        let m = digits[..2].parse::<i32>().ok()? * 60 + digits[2..].parse::<i32>().ok()?;
        (c, if off.starts_with('-') { -m } else { m })
    } else {
        (time, 0)
    };
    let (hms, frac) = clock.split_once('.').unwrap_or((clock, "0"));
    let base = accesslink_core::time::parse_local_datetime(&format!("{date} {hms}"), offset)?;
    let millis: u128 = format!("{frac:0<3}")[..3].parse().ok()?;
    Some(base.duration_since(UNIX_EPOCH).ok()?.as_millis() + millis)
}

#[derive(Debug)]
pub(crate) struct State {
    /// Searches ignore their query (`TicketBackend::ignore_search_filters`).
    pub unfiltered: bool,
    pub credentials: BTreeMap<String, (String, AccountType)>,
    pub incidents: Vec<Incident>,
    pub changes: Vec<Change>,
    pub persons: Vec<Account>,
    pub operators: Vec<Account>,
    pub groups: Vec<(String, String)>,
    pub permission_groups: Vec<(String, String)>,
    pub branches: Vec<String>,
    /// A stopped clock (`TicketBackend::freeze_clock`) and the writes stamped since.
    pub clock: Option<SystemTime>,
    pub tick: u64,
    pub number_format: NumberFormat,
    pub status_drives_flags: bool,
    next_id: u64,
    next_number: u64,
    pub created_incidents: usize,
}

impl State {
    pub(crate) fn new(number_format: NumberFormat) -> State {
        State {
            unfiltered: false,
            credentials: BTreeMap::new(),
            incidents: Vec::new(),
            changes: Vec::new(),
            persons: Vec::new(),
            operators: Vec::new(),
            groups: Vec::new(),
            permission_groups: Vec::new(),
            branches: Vec::new(),
            clock: None,
            tick: 0,
            number_format,
            status_drives_flags: true,
            next_id: 1,
            next_number: 1,
            created_incidents: 0,
        }
    }

    /// The server's time for a write: now, or, with the clock frozen, the frozen time
    /// plus one millisecond per write (wrapping within its second): TOPdesk keeps times
    /// to the millisecond, so writes in the same second still differ.
    pub(crate) fn now(&mut self) -> SystemTime {
        match self.clock {
            Some(t) => {
                self.tick = (self.tick + 1) % 1000;
                t + Duration::from_millis(self.tick)
            }
            None => SystemTime::now(),
        }
    }

    /// Stamps incident `at` as changed now.
    pub(crate) fn touch(&mut self, at: usize) {
        self.incidents[at].modified = self.now();
    }

    /// A new progress-trail entry written by the API user (operator `svc`).
    pub(crate) fn entry(
        &mut self,
        text: &str,
        invisible: bool,
        by: Option<(String, String)>,
    ) -> Entry {
        let id = self.new_id(6);
        Entry {
            id,
            text: text.to_owned(),
            invisible,
            at: self.now(),
            operator: by,
            person: None,
        }
    }

    /// An incident with every field set, to list the keys an incident has.
    pub(crate) fn sample_incident(&self) -> Incident {
        Incident {
            id: String::new(),
            number: String::new(),
            line: "firstLine".into(),
            brief: String::new(),
            request: String::new(),
            caller: None,
            processing_status: "Logged".into(),
            on_hold: false,
            completed: false,
            closed: false,
            closure_code: None,
            operator_group: None,
            external_number: String::new(),
            created: String::new(),
            modified: UNIX_EPOCH,
            category: None,
            subcategory: None,
            archived: false,
            actions: Vec::new(),
        }
    }

    /// An account, to list the keys persons and operators have.
    pub(crate) fn sample_account(&self) -> Account {
        Account {
            id: String::new(),
            login: String::new(),
            first: String::new(),
            sur: String::new(),
            email: String::new(),
            archived: false,
            branch: None,
            groups: BTreeSet::new(),
            permission_groups: BTreeSet::new(),
            password: None,
        }
    }

    /// A fresh UUID; `kind` keeps ids of different objects apart.
    pub(crate) fn new_id(&mut self, kind: u16) -> String {
        let n = self.next_id;
        self.next_id += 1;
        format!(
            "{:08x}-{kind:04x}-4000-8000-{n:012x}",
            0x7d0c_0000_u32 + u32::from(kind)
        )
    }

    pub(crate) fn new_number(&mut self) -> String {
        let n = self.next_number;
        self.next_number += 1;
        match self.number_format {
            NumberFormat::Spaces => format!("I 2612 {n:03}"),
            NumberFormat::Dashes => format!("I-261207-{n:03}"),
            NumberFormat::Compact => format!("I2612-{n:03}"),
        }
    }

    pub(crate) fn incident(&self, id: &str) -> Option<usize> {
        self.incidents.iter().position(|i| i.id == id)
    }

    pub(crate) fn person_json(&self, p: &Account) -> Value {
        json!({
            "id": p.id,
            "status": if p.archived { "personArchived" } else { "person" },
            "surName": p.sur,
            "firstName": p.first,
            "dynamicName": format!("{}, {}", p.sur, p.first),
            "email": p.email,
            "tasLoginName": p.login,
            "networkLoginName": p.login,
            "branch": p.branch.as_ref().map(|b| json!({"id": b, "name": "Head office"})),
            "archived": p.archived,
            "creationDate": "2026-12-01T09:00:00.000+0000",
        })
    }

    pub(crate) fn operator_json(&self, o: &Account) -> Value {
        json!({
            "id": o.id,
            "status": if o.archived { "operatorArchived" } else { "operator" },
            "surName": o.sur,
            "firstName": o.first,
            "dynamicName": format!("{}, {}", o.sur, o.first),
            "email": o.email,
            "loginName": o.login,
            "branch": o.branch.as_ref().map(|b| json!({"id": b, "name": "Head office"})),
            "loginPermission": !o.archived,
            "archived": o.archived,
        })
    }

    pub(crate) fn incident_json(&self, i: &Incident) -> Value {
        let status = if i.archived {
            format!("{}Archived", i.line)
        } else {
            i.line.clone()
        };
        json!({
            "id": i.id,
            "number": i.number,
            "status": status,
            "briefDescription": i.brief,
            "request": i.request,
            "caller": i.caller,
            "processingStatus": {"id": search_list_id(1, PROCESSING_STATUSES.iter().position(|(n, ..)| *n == i.processing_status)), "name": i.processing_status},
            "onHold": i.on_hold,
            "completed": i.completed,
            "completedDate": i.completed.then_some("2026-12-07T10:00:00.000+0000"),
            "closed": i.closed,
            "closedDate": i.closed.then_some("2026-12-07T10:00:00.000+0000"),
            "closureCode": i.closure_code.as_ref().map(|c| json!({"id": search_list_id(2, CLOSURE_CODES.iter().position(|k| k == c)), "name": c})),
            "operator": null,
            "operatorGroup": i.operator_group.as_ref().map(|g| json!({"id": g, "name": self.group_name(g)})),
            "creationDate": i.created,
            "modificationDate": format_time(i.modified),
            "category": i.category.as_ref().map(|c| self.category_json(c, None)),
            "subcategory": i.subcategory.as_ref().map(|sc| self.category_json(i.category.as_deref().unwrap_or(""), Some(sc))),
            "targetDate": "2026-12-14T17:00:00.000+0000",
            "externalNumber": i.external_number,
            "majorCall": false,
            "archived": i.archived,
        })
    }

    /// `{"id", "name"}` of a category, or of a subcategory `sub` of it.
    pub(crate) fn category_json(&self, category: &str, sub: Option<&str>) -> Value {
        let c = CATEGORIES.iter().position(|(n, _)| *n == category);
        let s = match (c, sub) {
            (Some(c), Some(sub)) => CATEGORIES[c].1.iter().position(|n| *n == sub),
            _ => None,
        };
        let id = match (c, sub) {
            (Some(c), None) => category_id(c, None),
            (Some(c), Some(_)) if s.is_some() => category_id(c, s),
            _ => search_list_id(5, None),
        };
        json!({ "id": id, "name": sub.unwrap_or(category) })
    }

    pub(crate) fn change_json(&self, c: &Change) -> Value {
        json!({
            "id": c.id,
            "number": c.number,
            "request": c.request,
            "externalNumber": c.external_number,
            "modificationDate": format_time(c.modified),
            "briefDescription": c.brief,
            "changeType": c.change_type,
            "phase": c.phase,
            "authorizationStatus": c.authorization_status,
            "requester": c.requester.as_ref().and_then(|id| self.persons.iter().find(|p| &p.id == id)).map(|p| json!({"id": p.id, "dynamicName": format!("{}, {}", p.sur, p.first), "email": p.email})),
        })
    }

    pub(crate) fn group_json(&self, (id, name): &(String, String)) -> Value {
        json!({ "id": id, "groupName": name, "status": "operatorGroup" })
    }

    pub(crate) fn group_name(&self, id: &str) -> Option<String> {
        self.groups
            .iter()
            .find(|(g, _)| g == id)
            .map(|(_, n)| n.clone())
    }
}
