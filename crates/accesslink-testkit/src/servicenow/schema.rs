//! The tables the mock knows: their fields, reference fields, number prefixes and state
//! labels (fact sheet `shared/api/servicenow-jira-salesforce-helix.md` §1 "Tickets" and
//! "Users / groups / roles").

/// Fields every task-family row has (the `task` parent table's own columns).
const TASK_FIELDS: &[&str] = &[
    "sys_id",
    "number",
    "short_description",
    "description",
    "state",
    "active",
    "approval",
    "priority",
    "urgency",
    "impact",
    "opened_by",
    "opened_at",
    "closed_at",
    "assigned_to",
    "assignment_group",
    "correlation_id",
    "correlation_display",
    "close_notes",
    "comments",
    "work_notes",
    "parent",
    "sys_class_name",
    "sys_created_on",
    "sys_updated_on",
    "sys_created_by",
    "sys_updated_by",
];

/// One table: its name, own fields (on top of the task ones for the task family), the
/// number prefix and first number, and how its `state` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TableDef {
    /// Table name as in the URL.
    pub(crate) name: &'static str,
    /// Whether it extends `task` (so `task` queries see its rows).
    pub(crate) task: bool,
    /// Extra fields.
    pub(crate) fields: &'static [&'static str],
    /// Number prefix and first number (Number Maintenance defaults), for task tables.
    pub(crate) number: Option<(&'static str, u64)>,
    /// State labels, `(value, label)`.
    pub(crate) states: &'static [(&'static str, &'static str)],
    /// The default `state` of a new row.
    pub(crate) default_state: &'static str,
    /// States that make the row inactive (`active` "false").
    pub(crate) closed_states: &'static [&'static str],
}

const INCIDENT_STATES: &[(&str, &str)] = &[
    ("1", "New"),
    ("2", "In Progress"),
    ("3", "On Hold"),
    ("6", "Resolved"),
    ("7", "Closed"),
    ("8", "Canceled"),
];
const CHANGE_STATES: &[(&str, &str)] = &[
    ("-5", "New"),
    ("-4", "Assess"),
    ("-3", "Authorize"),
    ("-2", "Scheduled"),
    ("-1", "Implement"),
    ("0", "Review"),
    ("3", "Closed"),
    ("4", "Canceled"),
];
/// change_task, sc_task, sc_req_item, sc_request, pm_* and task (fact sheet: "same task
/// family of values", unverified for some tables).
const TASK_STATES: &[(&str, &str)] = &[
    ("-5", "Pending"),
    ("1", "Open"),
    ("2", "Work in Progress"),
    ("3", "Closed Complete"),
    ("4", "Closed Incomplete"),
    ("7", "Closed Skipped"),
];
const PROBLEM_STATES: &[(&str, &str)] = &[
    ("101", "New"),
    ("102", "Assess"),
    ("103", "Root Cause Analysis"),
    ("104", "Fix in Progress"),
    ("106", "Resolved"),
    ("107", "Closed"),
];

const fn task(
    name: &'static str,
    fields: &'static [&'static str],
    prefix: &'static str,
    first: u64,
    states: &'static [(&'static str, &'static str)],
    default_state: &'static str,
    closed_states: &'static [&'static str],
) -> TableDef {
    TableDef {
        name,
        task: true,
        fields,
        number: Some((prefix, first)),
        states,
        default_state,
        closed_states,
    }
}

const fn plain(name: &'static str, fields: &'static [&'static str]) -> TableDef {
    TableDef {
        name,
        task: false,
        fields,
        number: None,
        states: &[],
        default_state: "",
        closed_states: &[],
    }
}

const TASK_CLOSED: &[&str] = &["3", "4", "7"];

/// Every table, `task` first.
pub(crate) const TABLES: &[TableDef] = &[
    task("task", &[], "TASK", 10_001, TASK_STATES, "1", TASK_CLOSED),
    task(
        "incident",
        &[
            "caller_id",
            "category",
            "subcategory",
            "hold_reason",
            "incident_state",
            "close_code",
            "resolved_at",
        ],
        "INC",
        10_001,
        INCIDENT_STATES,
        "1",
        &["7", "8"],
    ),
    task(
        "change_request",
        &[
            "type",
            "on_hold",
            "risk",
            "start_date",
            "end_date",
            "close_code",
            "requested_by",
        ],
        "CHG",
        30_001,
        CHANGE_STATES,
        "-5",
        &["3", "4"],
    ),
    task(
        "change_task",
        &["change_request", "change_task_type"],
        "CTASK",
        10_001,
        TASK_STATES,
        "1",
        TASK_CLOSED,
    ),
    task(
        "sc_request",
        &["requested_for", "request_state"],
        "REQ",
        10_001,
        TASK_STATES,
        "1",
        TASK_CLOSED,
    ),
    task(
        "sc_req_item",
        &["request", "requested_for", "cat_item", "stage", "quantity"],
        "RITM",
        10_001,
        TASK_STATES,
        "1",
        TASK_CLOSED,
    ),
    task(
        "sc_task",
        &["request", "request_item", "requested_for"],
        "SCTASK",
        10_001,
        TASK_STATES,
        "1",
        TASK_CLOSED,
    ),
    task(
        "problem",
        &["problem_state", "known_error", "cause_notes", "fix_notes"],
        "PRB",
        40_001,
        PROBLEM_STATES,
        "101",
        &["107"],
    ),
    task(
        "pm_project",
        &["start_date", "end_date", "percent_complete"],
        "PRJ",
        1_001,
        TASK_STATES,
        "-5",
        TASK_CLOSED,
    ),
    task(
        "pm_project_task",
        &["start_date", "end_date", "percent_complete"],
        "PRJTASK",
        1_001,
        TASK_STATES,
        "-5",
        TASK_CLOSED,
    ),
    plain(
        "sys_user",
        &[
            "sys_id",
            "user_name",
            "first_name",
            "last_name",
            "name",
            "email",
            "active",
            "locked_out",
            "title",
            "department",
            "manager",
            "employee_number",
            "phone",
            "sys_class_name",
            "sys_created_on",
            "sys_updated_on",
        ],
    ),
    plain(
        "sys_user_group",
        &[
            "sys_id",
            "name",
            "description",
            "active",
            "manager",
            "email",
            "type",
            "sys_class_name",
            "sys_created_on",
            "sys_updated_on",
        ],
    ),
    plain(
        "sys_user_grmember",
        &[
            "sys_id",
            "user",
            "group",
            "sys_class_name",
            "sys_created_on",
            "sys_updated_on",
        ],
    ),
    plain(
        "sys_user_role",
        &[
            "sys_id",
            "name",
            "description",
            "elevated_privilege",
            "suffix",
            "sys_class_name",
            "sys_created_on",
            "sys_updated_on",
        ],
    ),
    plain(
        "sys_user_has_role",
        &[
            "sys_id",
            "user",
            "role",
            "inherited",
            "granted_by",
            "state",
            "sys_class_name",
            "sys_created_on",
            "sys_updated_on",
        ],
    ),
    plain(
        "sys_journal_field",
        &[
            "sys_id",
            "element_id",
            "element",
            "value",
            "name",
            "sys_class_name",
            "sys_created_on",
            "sys_created_by",
        ],
    ),
    plain(
        "sys_dictionary",
        &[
            "sys_id",
            "name",
            "element",
            "column_label",
            "internal_type",
            "mandatory",
            "read_only",
            "reference",
            "max_length",
            "active",
            "sys_class_name",
            "sys_created_on",
            "sys_updated_on",
        ],
    ),
    plain(
        "sys_choice",
        &[
            "sys_id",
            "name",
            "element",
            "value",
            "label",
            "sequence",
            "inactive",
            "language",
            "sys_class_name",
            "sys_created_on",
            "sys_updated_on",
        ],
    ),
];

/// The `internal_type` the dictionary gives a column, and the table a reference
/// points to (fact sheet §1; the mock's own approximation of the base system).
pub(crate) fn internal_type(field: &str) -> (&'static str, Option<&'static str>) {
    if let Some(target) = reference_target(field) {
        return ("reference", Some(target));
    }
    let kind = match field {
        "sys_id" => "GUID",
        "comments" | "work_notes" => "journal_input",
        "description" | "close_notes" | "cause_notes" | "fix_notes" => "string",
        "active" | "locked_out" | "known_error" => "boolean",
        "state" | "priority" | "urgency" | "impact" | "quantity" | "percent_complete"
        | "problem_state" | "incident_state" | "sequence" | "max_length" => "integer",
        "sys_class_name" => "sys_class_name",
        "email" => "email",
        f if f.ends_with("_on") || f.ends_with("_at") || f.ends_with("_date") => "glide_date_time",
        _ => "string",
    };
    (kind, None)
}

/// The table called `name`.
pub(crate) fn table(name: &str) -> Option<&'static TableDef> {
    TABLES.iter().find(|t| t.name == name)
}

/// The tables a query on `name` reads: itself, or every task table for `task`.
pub(crate) fn family(name: &str) -> Vec<&'static str> {
    if name == "task" {
        TABLES.iter().filter(|t| t.task).map(|t| t.name).collect()
    } else {
        table(name).map(|t| t.name).into_iter().collect()
    }
}

impl TableDef {
    /// Whether `field` is a column of this table (custom `u_*` columns always are: the
    /// mock accepts any, as if the admin had created it).
    pub(crate) fn has_field(&self, field: &str) -> bool {
        field.starts_with("u_")
            || self.fields.contains(&field)
            || (self.task && TASK_FIELDS.contains(&field))
    }

    /// Every column, in a stable order (task columns first).
    pub(crate) fn all_fields(&self) -> Vec<&'static str> {
        let mut out: Vec<&'static str> = if self.task {
            TASK_FIELDS.to_vec()
        } else {
            Vec::new()
        };
        for f in self.fields {
            if !out.contains(f) {
                out.push(f);
            }
        }
        out
    }

    /// The label of a state value, for `sysparm_display_value`.
    pub(crate) fn state_label(&self, value: &str) -> Option<&'static str> {
        self.states
            .iter()
            .find(|(v, _)| *v == value)
            .map(|(_, l)| *l)
    }
}

/// The table a reference field points to, if `field` is one.
pub(crate) fn reference_target(field: &str) -> Option<&'static str> {
    Some(match field {
        "caller_id" | "opened_by" | "assigned_to" | "requested_for" | "requested_by" | "user"
        | "manager" => "sys_user",
        "assignment_group" | "group" | "granted_by" => "sys_user_group",
        "role" => "sys_user_role",
        "parent" => "task",
        "request" => "sc_request",
        "request_item" => "sc_req_item",
        "change_request" => "change_request",
        _ => return None,
    })
}

/// Journal fields: write-only through the Table API, kept in `sys_journal_field`.
pub(crate) fn is_journal(field: &str) -> bool {
    matches!(field, "comments" | "work_notes")
}
