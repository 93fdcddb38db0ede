//! Reading, finding and building tickets: the helpers under the `TicketingSystem`
//! implementation.

use std::collections::{BTreeMap, HashSet};

use accesslink_core::time::parse_local_datetime;
use accesslink_core::{
    CorrelationId, Error, NewTicket, Person, Result, Ticket, TicketKind, TicketRef,
};
use serde_json::{Map, Value};

use crate::api::ListParams;
use crate::connector::ServiceNowConnector;
use crate::models::{Reference, TaskRecord};
use crate::query::Query;
use crate::refs::{Locator, Target, kind_of_table};
use crate::status::approval_of;

/// Native fields a [`NewTicket`]'s `extra` may set besides custom `u_*` fields.
const EXTRA_KEYS: &[&str] = &[
    "impact",
    "urgency",
    "category",
    "subcategory",
    "assignment_group",
    "assigned_to",
    "cmdb_ci",
    "business_service",
    "contact_type",
    "location",
    "company",
    "parent",
    "change_request",
    "request",
    "request_item",
    "problem_id",
    "type",
    "risk",
    "start_date",
    "end_date",
    "due_date",
    "justification",
    "implementation_plan",
    "backout_plan",
    "test_plan",
];

/// Correlation candidates read at most: a query whose condition the instance ignored
/// would otherwise read the whole table.
const MAX_CANDIDATES: u32 = 20;

impl ServiceNowConnector {
    /// A link for people to a row.
    pub(crate) fn web_url(&self, table: &str, sys_id: &str) -> String {
        let base = match &self.config.ui_url {
            Some(u) => u.trim_end_matches('/').to_owned(),
            None => self
                .client
                .instance_url()
                .as_str()
                .trim_end_matches('/')
                .to_owned(),
        };
        format!("{base}/{table}.do?sys_id={sys_id}")
    }

    /// Converts a task row to the common model. `table` is where it was read; the
    /// row's `sys_class_name` wins when present (rows read through `task`).
    pub fn to_ticket(&self, table: &str, row: &TaskRecord) -> Ticket {
        let table = row
            .sys_class_name
            .as_deref()
            .filter(|t| !t.is_empty())
            .unwrap_or(table);
        let nonempty = |v: &Option<String>| v.clone().filter(|s| !s.is_empty());
        // Every row the Table API returns has a sys_id; callers check it before here.
        let reference = TicketRef::new(nonempty(&row.sys_id), nonempty(&row.number))
            .unwrap_or_else(|_| TicketRef::by_id(row.sys_id.clone().unwrap_or_default()))
            .with_scope(table);
        let mut t = Ticket::new(
            reference,
            kind_of_table(table),
            row.short_description.clone().unwrap_or_default(),
            self.status_of(table, row),
        );
        t.description = row.description.clone();
        t.requester = [
            ("caller_id", &row.caller_id),
            ("requested_for", &row.requested_for),
            ("opened_by", &row.opened_by),
        ]
        .into_iter()
        .find_map(|(field, r)| r.as_ref().map(|r| (field, r)))
        .map(|(field, r)| {
            let mut p = person(r);
            p.login = dotted(row, field, "user_name");
            p.email = dotted(row, field, "email");
            p
        });
        t.assignee = row.assigned_to.as_ref().map(person);
        t.priority = row.priority.clone();
        // Raw date-times are `YYYY-MM-DD HH:MM:SS` in UTC (fact sheet §1).
        t.created = row
            .sys_created_on
            .as_deref()
            .and_then(|d| parse_local_datetime(d, 0));
        t.updated = row
            .sys_updated_on
            .as_deref()
            .and_then(|d| parse_local_datetime(d, 0));
        t.web_url = row.sys_id.as_deref().map(|id| self.web_url(table, id));
        t.approval = Some(approval_of(&self.status_map, row));
        let resolution = [&row.close_code, &row.close_notes]
            .into_iter()
            .flatten()
            .cloned()
            .collect::<Vec<_>>();
        t.resolution = (!resolution.is_empty()).then(|| resolution.join(": "));
        t.correlation_id = row.correlation_id.clone().map(CorrelationId::new);
        let mut extra = match serde_json::to_value(row) {
            Ok(Value::Object(m)) => m,
            _ => Map::new(),
        };
        extra.insert("table".into(), table.into());
        t.extra = extra;
        t
    }

    /// One ticket, or `None` when the instance has no such row (or hides it).
    pub(crate) async fn read(&self, target: &Target) -> Result<Option<Ticket>> {
        Ok(self
            .read_row(target)
            .await?
            .map(|row| self.to_ticket(&target.table, &row)))
    }

    /// The row of a target; a number that more than one row carries is `Conflict`.
    pub(crate) async fn read_row(&self, target: &Target) -> Result<Option<TaskRecord>> {
        let api = self.tasks_in(&target.table);
        match &target.locator {
            Locator::SysId(id) => api.get_opt(id).await,
            Locator::Number(n) => {
                // Numbers are not unique (Number Maintenance resets, imported or cloned
                // rows keep theirs): read two, so a second row sharing the number is
                // seen instead of one of them being picked silently.
                let params = ListParams::new(Query::new().eq("number", n))
                    .limit(2)
                    .no_count(true);
                let page = api.list_page(&params).await?;
                let mut rows = page
                    .items
                    .into_iter()
                    .filter(|r| r.number.as_deref() == Some(n.as_str()));
                let Some(first) = rows.next() else {
                    return Ok(None);
                };
                if let Some(other) = rows.find(|r| r.sys_id != first.sys_id) {
                    let id = |r: &TaskRecord| r.sys_id.clone().unwrap_or_default();
                    return Err(Error::Conflict {
                        message: format!(
                            "ServiceNow number {n} is shared by more than one {} row (sys_ids {} and {}); refer to the ticket by its sys_id",
                            target.table,
                            id(&first),
                            id(&other)
                        ),
                    });
                }
                Ok(Some(first))
            }
        }
    }

    /// The table and `sys_id` of a target, reading the row when only the number is known.
    pub(crate) async fn locate(&self, target: &Target) -> Result<(String, String)> {
        if let Locator::SysId(id) = &target.locator {
            if target.table != "task" {
                return Ok((target.table.clone(), id.clone()));
            }
        }
        let row = self
            .read_row(target)
            .await?
            .ok_or_else(|| Error::not_found(format!("ServiceNow ticket {}", show(target))))?;
        let table = row
            .sys_class_name
            .clone()
            .filter(|t| !t.is_empty())
            .unwrap_or_else(|| target.table.clone());
        let id = row.sys_id.ok_or_else(|| {
            Error::protocol(format!("GET {}", target.table), "a row without sys_id")
        })?;
        Ok((table, id))
    }

    /// Several tickets: `numberIN…` / `sys_idIN…` per table, `batch_size` per request.
    pub(crate) async fn read_many(&self, targets: &[Target]) -> Result<Vec<Ticket>> {
        let mut numbers: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        let mut ids: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for t in targets {
            match &t.locator {
                Locator::Number(n) => numbers.entry(&t.table).or_default().push(n),
                Locator::SysId(id) => ids.entry(&t.table).or_default().push(id),
            }
        }
        let mut out = Vec::with_capacity(targets.len());
        let mut seen = HashSet::new();
        for (field, groups) in [("number", numbers), ("sys_id", ids)] {
            for (table, mut values) in groups {
                values.sort_unstable();
                values.dedup();
                let api = self.tasks_in(table);
                for chunk in values.chunks(self.config.batch_size) {
                    // Room beyond one row per value: numbers are not unique (Number
                    // Maintenance resets, imported rows), and a limit of exactly one per
                    // value would let one duplicated number crowd out another's row.
                    let limit = (chunk.len() as u32).saturating_mul(4).clamp(10, 1000);
                    let params = ListParams::new(Query::new().in_(field, chunk))
                        .limit(limit)
                        .no_count(true);
                    for row in api.list_page(&params).await?.items {
                        // Keep only rows asked for: an ignored condition must not leak
                        // the whole table into the answer.
                        let key = match field {
                            "number" => row.number.as_deref(),
                            _ => row.sys_id.as_deref(),
                        };
                        let asked = key.is_some_and(|k| chunk.contains(&k));
                        if asked && seen.insert(row.sys_id.clone()) {
                            out.push(self.to_ticket(table, &row));
                        }
                    }
                }
            }
        }
        Ok(out)
    }

    /// The oldest live row of `table` carrying the correlation id.
    pub(crate) async fn find_in(&self, table: &str, id: &CorrelationId) -> Result<Option<Ticket>> {
        let mut query = Query::new().eq("correlation_id", id.as_str());
        let display = self
            .config
            .correlation_display
            .as_deref()
            .filter(|_| self.config.match_correlation_display);
        if let Some(d) = display {
            query = query.eq("correlation_display", d);
        }
        let query = query.order_by("sys_created_on").order_by("sys_id");
        let params = ListParams::new(query).limit(MAX_CANDIDATES).no_count(true);
        let rows = self.tasks_in(table).list_page(&params).await?.items;
        let mut matching = rows.iter().filter(|r| {
            r.correlation_id.as_deref() == Some(id.as_str())
                && display.is_none_or(|d| r.correlation_display.as_deref() == Some(d))
        });
        let first = matching.next();
        let more = matching.count();
        if more > 0 {
            tracing::warn!(correlation_id = %id, count = more + 1, "several tickets carry this correlation id; using the oldest");
        }
        Ok(first.map(|r| self.to_ticket(table, r)))
    }

    /// The table of a new ticket.
    pub(crate) fn table_for(&self, kind: &TicketKind) -> Result<String> {
        let table = match kind {
            TicketKind::Incident => "incident",
            TicketKind::Change => "change_request",
            TicketKind::ChangeTask => "change_task",
            TicketKind::Request => self.config.request_table.as_str(),
            TicketKind::RequestItem => "sc_req_item",
            TicketKind::Problem => "problem",
            TicketKind::Project => "pm_project",
            TicketKind::ProjectTask => "pm_project_task",
            TicketKind::Task => "task",
            TicketKind::Other(t) if self.routes.knows_table(t) => t.as_str(),
            other => {
                return Err(Error::invalid_input(format!(
                    "ServiceNow opens task-family tickets, not {other}"
                )));
            }
        };
        Ok(table.to_owned())
    }

    /// The table, the request body, and the requester field and login when the
    /// requester must be looked up.
    #[allow(clippy::type_complexity)]
    pub(crate) fn create_body(
        &self,
        new: &NewTicket,
    ) -> Result<(String, Map<String, Value>, Option<(&'static str, String)>)> {
        let table = self.table_for(&new.kind)?;
        let title = new.title.trim();
        if title.is_empty() {
            return Err(Error::invalid_input("a ServiceNow ticket needs a title"));
        }
        if title.chars().count() > 160 {
            return Err(Error::invalid_input(
                "the title exceeds short_description's 160 characters",
            ));
        }
        let mut body = Map::new();
        for (key, value) in &new.extra {
            let custom = key.starts_with("u_")
                && crate::query::check_field(key).is_ok()
                && !key.contains('.');
            if !custom && !EXTRA_KEYS.contains(&key.as_str()) {
                return Err(Error::invalid_input(format!(
                    "unknown ServiceNow ticket field {:?} in extra (allowed: u_* custom fields and {})",
                    accesslink_core::redact::truncate(key, 40),
                    EXTRA_KEYS.join(", ")
                )));
            }
            // The Table API stores strings; objects and arrays would be dropped silently.
            let v = match value {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                Value::Null => String::new(),
                _ => {
                    return Err(Error::invalid_input(format!(
                        "extra field {key:?} must be a string, number or boolean"
                    )));
                }
            };
            body.insert(key.clone(), Value::String(v));
        }
        body.insert("short_description".into(), title.into());
        body.insert("description".into(), new.description.clone().into());
        body.insert("correlation_id".into(), new.correlation_id.as_str().into());
        if let Some(d) = &self.config.correlation_display {
            body.insert("correlation_display".into(), d.clone().into());
        }
        if let Some(p) = new.priority.as_deref().map(str::trim) {
            // `priority` is read-only on the instance: it is computed from impact and
            // urgency through the Priority Lookup Rules. Setting urgency alone would leave
            // impact at its default (3 - Low), so priority 1 would come out as 3; set both
            // to the pair the default matrix maps to the asked priority. `impact` or
            // `urgency` given in `extra` win.
            let (impact, urgency) = match p {
                "1" => ("1", "1"),
                "2" => ("1", "2"),
                "3" => ("2", "2"),
                "4" => ("2", "3"),
                "5" => ("3", "3"),
                _ => {
                    return Err(Error::invalid_input(format!(
                        "ServiceNow priority must be 1 (Critical) to 5 (Planning), not {:?}",
                        accesslink_core::redact::truncate(p, 20)
                    )));
                }
            };
            body.entry("impact").or_insert_with(|| impact.into());
            body.entry("urgency").or_insert_with(|| urgency.into());
        }
        let field = match table.as_str() {
            "incident" => "caller_id",
            "sc_request" | "sc_req_item" => "requested_for",
            _ => "opened_by",
        };
        let mut login = None;
        if let Some(p) = &new.requester {
            match (&p.id, &p.login) {
                (Some(id), _) => {
                    crate::api::check_sys_id("the requester's id", id)?;
                    body.insert(field.into(), id.clone().into());
                }
                (None, Some(l)) => {
                    let l = l.trim();
                    crate::query::check_value(l)?;
                    login = Some((field, l.to_owned()));
                }
                _ => {
                    return Err(Error::invalid_input(
                        "ServiceNow requesters are users: give the requester's sys_id or user_name",
                    ));
                }
            }
        }
        Ok((table, body, login))
    }

    /// The `sys_id` of the user with this `user_name`.
    pub(crate) async fn user_id_by_login(&self, login: &str) -> Result<Option<String>> {
        let params = ListParams::new(Query::new().eq("user_name", login))
            .limit(2)
            .no_count(true);
        let found = self.client.users().list_page(&params).await?;
        Ok(crate::accounts::pick_login(found.items, login).and_then(|u| u.sys_id))
    }
}

/// A dot-walked field of a row (`caller_id.user_name`), as a raw string or a
/// `{display_value, value}` pair; `None` when absent or empty.
fn dotted(row: &TaskRecord, reference: &str, field: &str) -> Option<String> {
    let v = row.other.get(&format!("{reference}.{field}"))?;
    let s = match v {
        Value::String(s) => s.as_str(),
        Value::Object(m) => m.get("value").and_then(Value::as_str)?,
        _ => return None,
    };
    (!s.is_empty()).then(|| s.to_owned())
}

fn person(r: &Reference) -> Person {
    Person {
        id: (!r.value.is_empty()).then(|| r.value.clone()),
        name: r.display_value.clone(),
        ..Person::default()
    }
}

/// A target for messages.
pub(crate) fn show(t: &Target) -> String {
    match &t.locator {
        Locator::Number(n) => n.clone(),
        Locator::SysId(id) => format!("{} {id}", t.table),
    }
}
