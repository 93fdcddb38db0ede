//! Inserts and updates with the instance's rules: unknown fields dropped, defaults filled,
//! journal fields appended to `sys_journal_field`, `active` following `state`, the
//! incident resolution data policy and the unique `user_name` (fact sheet §1 "Tickets",
//! "Users / groups / roles", "Errors, rate limits, quirks").

use serde_json::{Map, Value, json};

use super::AbortHow;
use super::schema::{self, TableDef};
use super::state::{Row, State, is_sys_id, new_sys_id, text};

/// An error answer `{"error":{"message","detail"},"status":"failure"}`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Failure {
    pub(crate) status: u16,
    pub(crate) message: String,
    pub(crate) detail: Value,
}

impl Failure {
    pub(crate) fn new(status: u16, message: &str, detail: impl Into<Value>) -> Failure {
        Failure {
            status,
            message: message.to_owned(),
            detail: detail.into(),
        }
    }

    /// `404 No Record found`, for missing and ACL-hidden rows alike.
    pub(crate) fn not_found() -> Failure {
        Failure::new(
            404,
            "No Record found",
            "Record doesn't exist or ACL restricts the record retrieval",
        )
    }

    /// The JSON body.
    pub(crate) fn body(&self) -> Value {
        json!({"error": {"message": self.message, "detail": self.detail}, "status": "failure"})
    }
}

/// Who writes: the REST API (every rule applies) or a test acting as an admin on the
/// database (no data policy, no unique check; may set system fields).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Writer {
    Rest,
    Admin,
}

/// Fields the REST API never sets.
fn system(field: &str) -> bool {
    matches!(
        field,
        "sys_id" | "sys_created_on" | "sys_updated_on" | "sys_class_name" | "sys_created_by"
    )
}

/// A written value as the instance stores it: text (numbers and booleans printed, `null`
/// empty, a `{value}` object or reference as its value).
fn coerce(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        Value::Object(o) => o.get("value").map(coerce).unwrap_or_default(),
        other => other.to_string(),
    }
}

/// The fields of `input` this table stores, and the journal entries, in input order.
fn accepted(
    def: &TableDef,
    input: &Map<String, Value>,
    who: Writer,
) -> (Row, Vec<(String, String)>) {
    let mut row = Row::new();
    let mut journal = Vec::new();
    for (k, v) in input {
        if !def.has_field(k) || (who == Writer::Rest && system(k)) {
            continue;
        }
        let v = coerce(v);
        if schema::is_journal(k) {
            if !v.is_empty() {
                journal.push((k.clone(), v));
            }
        } else {
            row.insert(k.clone(), Value::String(v));
        }
    }
    (row, journal)
}

/// The incident data policy: resolving or closing needs a resolution code and notes.
fn data_policy(real: &str, row: &Row) -> Result<(), Failure> {
    let state = text(row, "state");
    let closing = real == "incident" && matches!(state, "6" | "7");
    if closing && (text(row, "close_code").is_empty() || text(row, "close_notes").is_empty()) {
        return Err(Failure::new(
            403,
            "Operation Failed",
            "Data Policy Exception: \n The following fields are mandatory: Resolution code, Resolution notes\n",
        ));
    }
    Ok(())
}

/// `active` and the dates that follow a new `state`.
fn follow_state(def: &TableDef, row: &mut Row, stamp: &str) {
    if !def.task {
        return;
    }
    let state = text(row, "state").to_owned();
    let closed = def.closed_states.contains(&state.as_str());
    row.insert(
        "active".into(),
        json!(if closed { "false" } else { "true" }),
    );
    if def.name == "incident" {
        row.insert("incident_state".into(), json!(state));
        if state == "6" && text(row, "resolved_at").is_empty() {
            row.insert("resolved_at".into(), json!(stamp));
        }
    }
    if closed && text(row, "closed_at").is_empty() {
        row.insert("closed_at".into(), json!(stamp));
    }
}

impl State {
    /// Inserts a row; its sys_id.
    pub(crate) fn insert_row(
        &mut self,
        table: &str,
        input: &Map<String, Value>,
        who: Writer,
    ) -> Result<Option<String>, Failure> {
        let def = schema::table(table).ok_or_else(|| invalid_table(table))?;
        if table == "sys_journal_field" && who == Writer::Rest {
            return Err(Failure::new(
                403,
                "ACL Exception Insert Failed due to security constraints",
                json!(null),
            ));
        }
        let (mut row, journal) = accepted(def, input, who);
        let abort = (who == Writer::Rest)
            .then(|| self.abort_rule(def, &row, &journal))
            .flatten();
        let sys_id = match row.remove("sys_id") {
            Some(Value::String(id)) if is_sys_id(&id) && self.get(table, &id).is_none() => id,
            _ => new_sys_id(),
        };
        let stamp = self.clock();
        for f in def.all_fields() {
            row.entry(f).or_insert_with(|| json!(""));
        }
        let set = |row: &mut Row, f: &str, v: String| {
            if text(row, f).is_empty() {
                row.insert(f.to_owned(), Value::String(v));
            }
        };
        set(&mut row, "sys_class_name", table.to_owned());
        set(&mut row, "sys_created_on", stamp.clone());
        set(&mut row, "sys_updated_on", stamp.clone());
        if def.task {
            set(&mut row, "state", def.default_state.to_owned());
            set(&mut row, "approval", "not requested".into());
            set(&mut row, "opened_at", stamp.clone());
            set(&mut row, "sys_created_by", "admin".into());
            set(&mut row, "sys_updated_by", "admin".into());
        }
        match table {
            "sys_user" | "sys_user_group" => set(&mut row, "active", "true".into()),
            "sys_user_has_role" => {
                set(&mut row, "inherited", "false".into());
                set(&mut row, "state", "active".into());
            }
            _ => {}
        }
        if table == "sys_user" {
            set(&mut row, "locked_out", "false".into());
            let full = format!("{} {}", text(&row, "first_name"), text(&row, "last_name"));
            set(&mut row, "name", full.trim().to_owned());
        }
        if def.task && text(&row, "number").is_empty() {
            let number = self.next_number(def);
            row.insert("number".into(), json!(number));
        }
        if who == Writer::Rest {
            data_policy(table, &row)?;
            let name = text(&row, "user_name");
            if table == "sys_user" && !name.is_empty() && self.user_by_name(name).is_some() {
                let detail = format!("Error during insert of sys_user ({name})");
                return Err(Failure::new(403, "Operation Failed", detail));
            }
        }
        match abort {
            Some(AbortHow::Silent) => return Ok(None),
            Some(AbortHow::Forbidden(detail)) => {
                return Err(aborted(detail, "insert", table, &row));
            }
            None => {}
        }
        follow_state(def, &mut row, &stamp);
        row.insert("sys_id".into(), json!(sys_id));
        if let Some(map) = self.map_mut(table) {
            map.insert(sys_id.clone(), row);
        }
        for (element, value) in journal {
            self.add_journal(&sys_id, table, &element, &value);
        }
        Ok(Some(sys_id))
    }

    /// Updates a row of `table` (any task table through `task`).
    pub(crate) fn update_row(
        &mut self,
        table: &str,
        sys_id: &str,
        input: &Map<String, Value>,
        who: Writer,
    ) -> Result<(), Failure> {
        let hidden = who == Writer::Rest && self.hidden.contains(sys_id);
        let Some((real, current)) = self.get(table, sys_id).filter(|_| !hidden) else {
            return Err(Failure::not_found());
        };
        let def = schema::table(real).ok_or_else(|| invalid_table(real))?;
        let (patch, journal) = accepted(def, input, who);
        let mut row = current.into_owned();
        let abort = (who == Writer::Rest)
            .then(|| self.abort_rule(def, &patch, &journal))
            .flatten();
        let state_set = patch.contains_key("state");
        // sys_user.name is calculated from the first and last names.
        let renamed = real == "sys_user"
            && !patch.contains_key("name")
            && (patch.contains_key("first_name") || patch.contains_key("last_name"));
        row.extend(patch);
        if renamed {
            let full = format!("{} {}", text(&row, "first_name"), text(&row, "last_name"));
            row.insert("name".into(), json!(full.trim()));
        }
        let stamp = self.clock();
        if who == Writer::Rest {
            data_policy(real, &row)?;
            let name = text(&row, "user_name");
            let owner = (real == "sys_user" && !name.is_empty())
                .then(|| self.user_by_name(name))
                .flatten();
            if owner.is_some_and(|o| o != sys_id) {
                let detail = format!("Error during update of sys_user ({name})");
                return Err(Failure::new(403, "Operation Failed", detail));
            }
        }
        match abort {
            // Answered 200 with the row as it was: nothing is stored.
            Some(AbortHow::Silent) => return Ok(()),
            Some(AbortHow::Forbidden(detail)) => {
                return Err(aborted(detail, "update", real, &row));
            }
            None => {}
        }
        if state_set {
            follow_state(def, &mut row, &stamp);
        }
        row.insert("sys_updated_on".into(), json!(stamp));
        self.materialise(sys_id);
        if let Some(map) = self.map_mut(real) {
            map.insert(sys_id.to_owned(), row);
        }
        for (element, value) in journal {
            self.add_journal(sys_id, real, &element, &value);
        }
        Ok(())
    }

    /// Appends a `comments`/`work_notes` entry for a row of `table`, written by `admin`.
    pub(crate) fn add_journal(
        &mut self,
        element_id: &str,
        table: &str,
        element: &str,
        value: &str,
    ) {
        self.add_journal_by(element_id, table, element, value, "admin");
    }

    /// Appends a `comments`/`work_notes` entry written by the user `by`.
    pub(crate) fn add_journal_by(
        &mut self,
        element_id: &str,
        table: &str,
        element: &str,
        value: &str,
        by: &str,
    ) {
        // Entries of one second must still list in the order written (the default order
        // breaks `sys_created_on` ties by sys_id), so the first 8 digits count up.
        let id = format!("{:08x}{}", self.journal_order.len() + 1, &new_sys_id()[8..]);
        let stamp = self.clock();
        let row: Row = [
            ("sys_id", id.as_str()),
            ("element_id", element_id),
            ("element", element),
            ("value", value),
            ("name", table),
            ("sys_class_name", "sys_journal_field"),
            ("sys_created_on", stamp.as_str()),
            ("sys_created_by", by),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), json!(v)))
        .collect();
        if let Some(map) = self.map_mut("sys_journal_field") {
            map.insert(id.clone(), row);
        }
        self.journal_order.push(id);
    }
}

impl State {
    /// How the first business rule matching a write to `def` aborts it, if one does: the
    /// write sets the rule's field (or journal element) to its value.
    fn abort_rule(
        &self,
        def: &TableDef,
        written: &Row,
        journal: &[(String, String)],
    ) -> Option<AbortHow> {
        self.abort_rules.iter().find_map(|(table, rule)| {
            let on_table = table == def.name || (table == "task" && def.task);
            let sets = written.get(&rule.field).and_then(Value::as_str) == Some(&rule.value)
                || journal
                    .iter()
                    .any(|(e, v)| *e == rule.field && *v == rule.value);
            (on_table && sets).then(|| rule.how.clone())
        })
    }
}

/// The `403` of a business rule: its detail, or `Error during <op> of <table> (<row>)`
/// naming the row by number, user name, name or sys_id.
fn aborted(detail: Option<String>, op: &str, table: &str, row: &Row) -> Failure {
    let detail = detail.unwrap_or_else(|| {
        let name = ["number", "user_name", "name", "sys_id"]
            .iter()
            .map(|f| text(row, f))
            .find(|v| !v.is_empty())
            .unwrap_or("");
        format!("Error during {op} of {table} ({name})")
    });
    Failure::new(403, "Operation Failed", detail)
}

/// `400 Invalid table <x>`.
pub(crate) fn invalid_table(table: &str) -> Failure {
    Failure::new(400, &format!("Invalid table {table}"), json!(null))
}
