//! Intake: listing tickets by update time (a change feed), reading the journal back as
//! comments, the table's fields from `sys_dictionary`/`sys_choice`, and passwords.
//!
//! - **Listing**: `sys_updated_on>=YYYY-MM-DD HH:MM:SS` (UTC, inclusive, to the second)
//!   `^ORDERBYsys_updated_on^ORDERBYsys_id` on the kind's table (`task` with
//!   `sys_class_nameIN…` for several kinds, `task` for none). Pages are keyset pages: the
//!   token holds the update second of the page's last row and the sys_ids returned in
//!   that second; the next page asks again from that second and leaves them out.
//! - **Comments**: `sys_journal_field` rows of the ticket (`element_id`), `comments`
//!   public and `work_notes` internal, oldest first.
//! - **Schema**: `sys_dictionary` rows of the table and of `task` (which every ticket
//!   table extends), choices from `sys_choice`.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{SystemTime, UNIX_EPOCH};

use accesslink_core::feed::TicketQuery;
use accesslink_core::paging::{Page, PageRequest, PageToken};
use accesslink_core::schema::{AllowedValue, FieldSchema, FieldType, ObjectSchema};
use accesslink_core::time::{format_rfc3339_millis, parse_local_datetime};
use accesslink_core::{
    AccountId, Error, Password, Person, Result, Ticket, TicketComment, TicketKind, TicketRef,
    Visibility,
};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::api::ListParams;
use crate::connector::ServiceNowConnector;
use crate::models::{JournalEntry, Record, is_sys_id};
use crate::query::Query;

/// The most rows one listing page asks for.
const MAX_PAGE: u32 = 1000;

/// Where the next listing page starts: rows updated at or after `floor` (the Table
/// API's UTC `YYYY-MM-DD HH:MM:SS`) except the `seen` sys_ids.
#[derive(Debug, Default, PartialEq, Eq)]
struct Keyset {
    floor: Option<String>,
    seen: BTreeSet<String>,
}

impl Keyset {
    fn parse(token: &str) -> Result<Self> {
        let bad = || {
            Error::invalid_input(format!(
                "not a ServiceNow listing token: {:?}",
                accesslink_core::redact::truncate(token, 60)
            ))
        };
        let rest = token.strip_prefix("snfeed1|").ok_or_else(bad)?;
        let (floor, seen) = rest.split_once('|').ok_or_else(bad)?;
        if parse_local_datetime(floor, 0).is_none() || floor.len() != 19 {
            return Err(bad());
        }
        let seen: BTreeSet<String> = seen
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        if !seen.iter().all(|s| is_sys_id(s)) {
            return Err(bad());
        }
        Ok(Keyset {
            floor: Some(floor.to_owned()),
            seen,
        })
    }

    fn token(&self) -> PageToken {
        let seen: Vec<&str> = self.seen.iter().map(String::as_str).collect();
        PageToken::new(format!(
            "snfeed1|{}|{}",
            self.floor.as_deref().unwrap_or_default(),
            seen.join(",")
        ))
    }
}

/// A time as the Table API's `YYYY-MM-DD HH:MM:SS` UTC, rounded down to the second.
pub(crate) fn table_time(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
    let whole = UNIX_EPOCH + std::time::Duration::from_secs(secs);
    format_rfc3339_millis(whole)[..19].replacen('T', " ", 1)
}

/// A `sys_dictionary` row.
#[derive(Debug, Clone, Default, Deserialize)]
struct DictionaryRow {
    #[serde(default)]
    name: String,
    #[serde(default)]
    element: String,
    #[serde(default)]
    column_label: String,
    #[serde(default)]
    internal_type: Value,
    #[serde(default)]
    mandatory: String,
    #[serde(default)]
    read_only: String,
    #[serde(default)]
    reference: Value,
}

impl Record for DictionaryRow {
    fn fields() -> Option<&'static [&'static str]> {
        Some(&[
            "name",
            "element",
            "column_label",
            "internal_type",
            "mandatory",
            "read_only",
            "reference",
        ])
    }
}

/// A `sys_choice` row.
#[derive(Debug, Clone, Default, Deserialize)]
struct ChoiceRow {
    #[serde(default)]
    name: String,
    #[serde(default)]
    element: String,
    #[serde(default)]
    value: String,
    #[serde(default)]
    label: String,
}

impl Record for ChoiceRow {
    fn fields() -> Option<&'static [&'static str]> {
        Some(&["name", "element", "value", "label", "sequence"])
    }
}

/// A reference column as text: the sys_id string, or `value` of `{value, link}`.
fn reference_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Object(m) => m
            .get("value")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        _ => String::new(),
    }
}

fn field_type(internal: &str, reference: &str) -> FieldType {
    match internal {
        "string" | "GUID" | "sys_class_name" | "email" | "phone_number_e164" | "url" => {
            FieldType::String
        }
        "journal" | "journal_input" | "journal_list" | "html" | "translated_text" => {
            FieldType::Text
        }
        "integer" | "longint" => FieldType::Integer,
        "decimal" | "float" | "currency" | "price" | "percent_complete" => FieldType::Number,
        "boolean" => FieldType::Boolean,
        "glide_date" => FieldType::Date,
        "glide_date_time" | "due_date" | "calendar_date_time" => FieldType::DateTime,
        "reference" => FieldType::Reference(reference.to_owned()),
        other => FieldType::Other(other.to_owned()),
    }
}

impl ServiceNowConnector {
    /// The table a listing reads and the `sys_class_name` values it keeps.
    fn listing_table(&self, kinds: &[TicketKind]) -> Result<(String, Vec<String>)> {
        match kinds {
            [] => Ok(("task".into(), Vec::new())),
            [one] => Ok((self.table_for(one)?, Vec::new())),
            many => {
                let tables = many
                    .iter()
                    .map(|k| self.table_for(k))
                    .collect::<Result<Vec<_>>>()?;
                Ok(("task".into(), tables))
            }
        }
    }

    /// One page of the tickets a query selects; see the [module docs](self).
    pub(crate) async fn list_page(
        &self,
        query: &TicketQuery,
        page: PageRequest,
    ) -> Result<Page<Ticket>> {
        let size = page.size_or(100).clamp(1, MAX_PAGE);
        let (table, classes) = self.listing_table(&query.kinds)?;
        let mut at = match &page.token {
            Some(t) => Keyset::parse(t.as_str())?,
            None => Keyset {
                floor: query.updated_since.map(table_time),
                seen: BTreeSet::new(),
            },
        };
        // The scope: a catalogue item for request items, an assignment group otherwise.
        let scope_field = if table == "sc_req_item" {
            "cat_item"
        } else {
            "assignment_group"
        };
        let mut q = Query::new();
        if let Some(floor) = &at.floor {
            q = q.ge("sys_updated_on", floor);
        }
        if !classes.is_empty() {
            q = q.in_("sys_class_name", &classes);
        }
        let mut fields = vec![scope_field.to_owned()];
        if let Some(scope) = query.scope.as_deref().map(str::trim) {
            if is_sys_id(scope) {
                q = q.eq(scope_field, scope);
            } else {
                let by_name = format!("{scope_field}.name");
                q = q.eq(&by_name, scope);
                fields.push(by_name);
            }
        }
        let q = q.order_by("sys_updated_on").order_by("sys_id");
        let limit = size.saturating_add(u32::try_from(at.seen.len()).unwrap_or(u32::MAX));
        let params = ListParams::new(q).limit(limit).no_count(true);
        let rows = self
            .tasks_in(&table)
            .with_fields(&fields)
            .list_page(&params)
            .await?
            .items;
        let more = rows.len() >= usize::try_from(limit).unwrap_or(usize::MAX);
        let mut items = Vec::new();
        let mut fresh = 0usize;
        for row in rows {
            let Some(id) = row.sys_id.clone().filter(|s| !s.is_empty()) else {
                return Err(Error::protocol(
                    format!("GET /api/now/table/{table}"),
                    "a row without sys_id",
                ));
            };
            if at.seen.contains(&id) {
                continue;
            }
            fresh += 1;
            let Some(updated) = row.sys_updated_on.clone().filter(|s| !s.is_empty()) else {
                return Err(Error::protocol(
                    format!("GET /api/now/table/{table}"),
                    format!("row {id} has no sys_updated_on"),
                ));
            };
            match at.floor.as_deref() {
                Some(f) if updated.as_str() < f => {}
                Some(f) if updated == f => {
                    at.seen.insert(id.clone());
                }
                _ => {
                    at.floor = Some(updated.clone());
                    at.seen = BTreeSet::from([id.clone()]);
                }
            }
            let in_scope = query.scope.as_deref().map(str::trim).is_none_or(|s| {
                let value = row.other.get(scope_field).map(reference_text);
                let name = row
                    .other
                    .get(&format!("{scope_field}.name"))
                    .map(reference_text);
                value.as_deref() == Some(s) || name.as_deref() == Some(s)
            });
            let in_class = classes.is_empty()
                || row
                    .sys_class_name
                    .as_ref()
                    .is_some_and(|c| classes.contains(c));
            let ticket = self.to_ticket(&table, &row);
            if ticket.updated.is_none() {
                return Err(Error::protocol(
                    format!("GET /api/now/table/{table}"),
                    format!("row {id} has an unreadable sys_updated_on"),
                ));
            }
            if in_scope && in_class && query.matches(&ticket) {
                items.push(ticket);
            } else {
                tracing::debug!(sys_id = %id, "a listed row does not match the query; left out");
            }
        }
        let next = (more && fresh > 0).then(|| at.token());
        Ok(Page::new(items, next))
    }

    /// The journal of a ticket, oldest first.
    pub(crate) async fn journal_of(&self, r: &TicketRef) -> Result<Vec<TicketComment>> {
        let target = self.routes.resolve(r)?;
        let (_, sys_id) = self.locate(&target).await?;
        let api = self.client.table::<JournalEntry>("sys_journal_field");
        let mut entries: Vec<JournalEntry> = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let filter = Query::new()
                .eq("element_id", &sys_id)
                .in_("element", &["comments", "work_notes"]);
            let page = crate::paging::keyset(&api, filter, after.as_deref(), 1000).await?;
            let done = page.items.len() < 1000 || page.next.is_none();
            entries.extend(page.items);
            after = page.next;
            if done {
                break;
            }
        }
        entries.retain(|e| {
            e.element_id.as_deref() == Some(sys_id.as_str())
                && matches!(e.element.as_deref(), Some("comments" | "work_notes"))
        });
        entries.sort_by(|a, b| {
            (a.sys_created_on.as_deref(), a.sys_id.as_deref())
                .cmp(&(b.sys_created_on.as_deref(), b.sys_id.as_deref()))
        });
        Ok(entries
            .into_iter()
            .map(|e| {
                let visibility = if e.element.as_deref() == Some("comments") {
                    Visibility::Public
                } else {
                    Visibility::Internal
                };
                let mut c = TicketComment::new(
                    e.sys_id.clone().unwrap_or_default(),
                    visibility,
                    e.value.clone().unwrap_or_default(),
                );
                if let Some(by) = e.sys_created_by.clone().filter(|s| !s.is_empty()) {
                    c = c.author(Person::login(by));
                }
                if let Some(at) = e
                    .sys_created_on
                    .as_deref()
                    .and_then(|s| parse_local_datetime(s, 0))
                {
                    c = c.created(at);
                }
                c
            })
            .collect())
    }

    /// The fields of `table` (and of `task` for task-family tables) from
    /// `sys_dictionary`, with the active `sys_choice` values.
    pub(crate) async fn dictionary(&self, table: &str, parents: &[&str]) -> Result<ObjectSchema> {
        let mut names: Vec<&str> = vec![table];
        names.extend(parents.iter().copied().filter(|p| *p != table));
        let dict = self.client.table::<DictionaryRow>("sys_dictionary");
        let filter = Query::new()
            .in_("name", &names)
            .is_not_empty("element")
            .order_by("name")
            .order_by("element");
        let rows = dict
            .list_page(&ListParams::new(filter).limit(MAX_PAGE).no_count(true))
            .await?
            .items;
        if rows.is_empty() {
            return Err(Error::protocol(
                "GET /api/now/table/sys_dictionary",
                format!(
                    "no dictionary rows for {table}: the user may lack read access to sys_dictionary"
                ),
            ));
        }
        let choices = self.client.table::<ChoiceRow>("sys_choice");
        let filter = Query::new()
            .in_("name", &names)
            .eq("inactive", "false")
            .order_by("sequence");
        let choice_rows = choices
            .list_page(&ListParams::new(filter).limit(MAX_PAGE).no_count(true))
            .await?
            .items;
        // A table's own choices for a column replace its parent's.
        let mut allowed: BTreeMap<String, (usize, Vec<AllowedValue>)> = BTreeMap::new();
        for c in choice_rows {
            let rank = names
                .iter()
                .position(|n| *n == c.name)
                .unwrap_or(usize::MAX);
            let entry = allowed
                .entry(c.element.clone())
                .or_insert((rank, Vec::new()));
            if rank < entry.0 {
                *entry = (rank, Vec::new());
            }
            if rank == entry.0 {
                let label = (!c.label.is_empty() && c.label != c.value).then_some(c.label);
                entry.1.push(AllowedValue::new(c.value, label));
            }
        }
        // The table's own definition of a column wins over the parent's.
        let mut by_element: BTreeMap<String, (usize, DictionaryRow)> = BTreeMap::new();
        for row in rows {
            let rank = names
                .iter()
                .position(|n| *n == row.name)
                .unwrap_or(usize::MAX);
            match by_element.get(&row.element) {
                Some((r, _)) if *r <= rank => {}
                _ => {
                    by_element.insert(row.element.clone(), (rank, row));
                }
            }
        }
        let mut schema = ObjectSchema::new(table);
        for (element, (_, row)) in by_element {
            let internal = reference_text(&row.internal_type);
            let reference = reference_text(&row.reference);
            let mut f = FieldSchema::new(element.clone(), field_type(&internal, &reference));
            if !row.column_label.is_empty() {
                f = f.label(row.column_label.clone());
            }
            if row.mandatory == "true" {
                f = f.required();
            }
            if row.read_only == "true" {
                f = f.read_only();
            }
            if let Some((_, values)) = allowed.remove(&element) {
                f = f.allowed(values);
                if f.field_type == FieldType::Integer {
                    f.field_type = FieldType::Choice;
                }
            }
            schema = schema.field(f);
        }
        Ok(schema)
    }

    /// The ticket table's fields.
    pub(crate) async fn ticket_fields(&self, kind: &TicketKind) -> Result<ObjectSchema> {
        let table = self.table_for(kind)?;
        self.dictionary(&table, &["task"]).await
    }

    /// Sets `user_password` with `sysparm_input_display_value=true`, so the instance
    /// hashes the clear text it receives (without it the value is stored as if it were
    /// already the hash, and the password does not work).
    pub(crate) async fn put_password(&self, id: &AccountId, password: &Password) -> Result<()> {
        let id = crate::accounts::account_id(id)?;
        let mut body = Map::new();
        body.insert(
            "user_password".into(),
            Value::String(secrecy::ExposeSecret::expose_secret(password.secret()).to_owned()),
        );
        let path = format!("api/now/table/sys_user/{id}");
        let http = self.client.http();
        let req = http
            .patch(&path)?
            .query_pair("sysparm_input_display_value", "true")
            .query_pair("sysparm_fields", "sys_id")
            .json(&body)?;
        match http.send(req).await {
            Ok(_) => Ok(()),
            Err(e) if e.kind() == accesslink_core::ErrorKind::NotFound => {
                Err(Error::not_found(format!("ServiceNow sys_user {id}")))
            }
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_hostile_ones_are_refused() {
        let k = Keyset {
            floor: Some("2026-12-07 10:00:00".into()),
            seen: BTreeSet::from(["9d385017c611228701d22104cc95c371".to_owned()]),
        };
        let t = k.token();
        assert_eq!(
            t.as_str(),
            "snfeed1|2026-12-07 10:00:00|9d385017c611228701d22104cc95c371"
        );
        assert_eq!(Keyset::parse(t.as_str()).unwrap(), k);
        for bad in [
            "",
            "snfeed1|x|",
            "snfeed1|2026-12-07 10:00:00^ORactive=true|",
            "snfeed1|2026-12-07 10:00:00|x^y",
            "sn1|2026-12-07 10:00:00|",
        ] {
            assert!(Keyset::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn times_are_whole_utc_seconds() {
        let t = UNIX_EPOCH + std::time::Duration::from_millis(1_796_679_913_999);
        assert_eq!(table_time(t), "2026-12-07 21:45:13");
    }
}
