//! The mock's data: incidents with their actions, operator changes, persons, operators,
//! operator groups and memberships, and the accepted credentials.

use std::collections::{BTreeMap, BTreeSet};

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
    pub archived: bool,
    /// `(text, invisible for caller)`, oldest first.
    pub actions: Vec<(String, bool)>,
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
    pub branches: Vec<String>,
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
            branches: Vec::new(),
            number_format,
            status_drives_flags: true,
            next_id: 1,
            next_number: 1,
            created_incidents: 0,
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
            "modificationDate": i.created,
            "targetDate": "2026-12-14T17:00:00.000+0000",
            "externalNumber": i.external_number,
            "majorCall": false,
            "archived": i.archived,
        })
    }

    pub(crate) fn change_json(&self, c: &Change) -> Value {
        json!({
            "id": c.id,
            "number": c.number,
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
