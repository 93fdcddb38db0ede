//! TicketSearch: `Kernel/GenericInterface/Operation/Ticket/TicketSearch.pm` feeding
//! `Kernel/System/Ticket/TicketSearch.pm`.
//!
//! The GenericInterface copies only the parameters it knows into the search; everything else
//! is dropped without a word. A dynamic-field condition is taken only when its value is a
//! JSON object (`{"Equals": …}`), which a query string cannot express: that is why
//! `GET /Ticket?DynamicField_X=v` returns every visible ticket, while the same condition in
//! the JSON body of `POST /TicketSearch` filters.

use std::cmp::Ordering;

use serde_json::{Map, Value};

use super::model::{
    FIELDS, LOCKS, PRIORITIES, Principal, QUEUES, STATE_TYPES, TYPES, Table, Ticket, epoch_of,
    id_of, name_of, state, state_id,
};
use super::perl::{Data, array_with_data, given, hash_with_data, list, scalar, truthy};
use super::state::State;

/// `GenericInterface::Operation::TicketSearch###SearchLimit`.
const DEFAULT_LIMIT: usize = 500;

/// Ticket ids, newest first by default; `None` when the search fails, which the operation
/// answers with `{}` like an empty result.
pub(super) fn search(state: &State, who: &Principal, data: &Data) -> Option<Vec<u64>> {
    let limit = match given(data.get("Limit")) {
        Some(l) => l.parse::<usize>().ok()?,
        None => DEFAULT_LIMIT,
    };
    let sort_by = values_or(data.get("SortBy"), "Age")?;
    let order_by = values_or(data.get("OrderBy"), "Down")?;
    let mut keys = Vec::new();
    for (i, field) in sort_by.iter().enumerate() {
        let down = match order_by.get(i).map(String::as_str) {
            Some("Down") => true,
            Some("Up") => false,
            _ => return None,
        };
        keys.push((sort_key(field)?, down));
    }
    let filters = Filters::new(data)?;
    let mut hits: Vec<&Ticket> = state
        .tickets
        .values()
        .filter(|t| state.can_see(who, t) && (state.unfiltered || filters.matches(t)))
        .collect();
    hits.sort_by(|a, b| {
        let primary = keys.iter().fold(Ordering::Equal, |acc, (key, down)| {
            acc.then_with(|| directed(key.compare(a, b), *down))
        });
        // Ties (tickets created in the same second) fall back to the id, newest first when
        // the first key is descending.
        primary.then_with(|| directed(a.id.cmp(&b.id), keys.first().is_none_or(|k| k.1)))
    });
    Some(hits.into_iter().take(limit).map(|t| t.id).collect())
}

/// `$Param{Data}->{SortBy} || 'Age'`: a scalar or a list; anything else fails the search.
fn values_or(value: Option<&Value>, default: &str) -> Option<Vec<String>> {
    if !truthy(value) {
        return Some(vec![default.to_owned()]);
    }
    match value? {
        Value::Array(items) => items.iter().map(|v| scalar(Some(v))).collect(),
        other => scalar(Some(other)).map(|s| vec![s]),
    }
}

fn directed(ordering: Ordering, down: bool) -> Ordering {
    if down { ordering.reverse() } else { ordering }
}

/// A `SortBy` value; unknown ones make the search fail (`Need valid SortBy`).
enum SortKey {
    Created,
    Changed,
    Number,
    Title,
    State,
    Priority,
    Queue,
    Type,
    Lock,
    Owner,
    Responsible,
    Customer,
    Pending,
    Constant,
    Field(String),
}

fn sort_key(name: &str) -> Option<SortKey> {
    Some(match name {
        "Age" | "Created" => SortKey::Created,
        "Changed" => SortKey::Changed,
        "Ticket" | "TicketNumber" => SortKey::Number,
        "Title" => SortKey::Title,
        "State" => SortKey::State,
        "Priority" => SortKey::Priority,
        "Queue" => SortKey::Queue,
        "Type" => SortKey::Type,
        "Lock" => SortKey::Lock,
        "Owner" => SortKey::Owner,
        "Responsible" => SortKey::Responsible,
        "CustomerID" => SortKey::Customer,
        "PendingTime" => SortKey::Pending,
        "Service"
        | "SLA"
        | "TicketEscalation"
        | "EscalationTime"
        | "EscalationUpdateTime"
        | "EscalationResponseTime"
        | "EscalationSolutionTime" => SortKey::Constant,
        other => {
            let field = other.strip_prefix("DynamicField_")?;
            FIELDS.iter().find(|(n, _)| *n == field)?;
            SortKey::Field(field.to_owned())
        }
    })
}

impl SortKey {
    fn compare(&self, a: &Ticket, b: &Ticket) -> Ordering {
        match self {
            SortKey::Created => a.created.cmp(&b.created),
            SortKey::Changed => a.changed.cmp(&b.changed),
            SortKey::Number => a.number.cmp(&b.number),
            SortKey::Title => a.title.to_lowercase().cmp(&b.title.to_lowercase()),
            SortKey::State => a.state_id.cmp(&b.state_id),
            SortKey::Priority => a.priority_id.cmp(&b.priority_id),
            SortKey::Queue => name_of(QUEUES, a.queue_id).cmp(name_of(QUEUES, b.queue_id)),
            SortKey::Type => a.type_id.cmp(&b.type_id),
            SortKey::Lock => a.lock_id.cmp(&b.lock_id),
            SortKey::Owner => login(a.owner_id).cmp(login(b.owner_id)),
            SortKey::Responsible => login(a.responsible_id).cmp(login(b.responsible_id)),
            SortKey::Customer => a.customer_id.cmp(&b.customer_id),
            SortKey::Pending => a.pending_until.cmp(&b.pending_until),
            SortKey::Constant => Ordering::Equal,
            SortKey::Field(f) => a.fields.get(f).cmp(&b.fields.get(f)),
        }
    }
}

fn login(id: u64) -> &'static str {
    State::agent(id).map_or("", |a| a.login)
}

/// Reads one text column of a ticket.
type Column = fn(&Ticket) -> String;

/// Reads one time column of a ticket (epoch seconds).
type TimeColumn = fn(&Ticket) -> i64;

/// The conditions of one search, resolved to ids where the kernel looks names up.
#[derive(Default)]
struct Filters {
    ticket_ids: Option<Vec<u64>>,
    state_ids: Option<Vec<u64>>,
    queue_ids: Option<Vec<u64>>,
    priority_ids: Option<Vec<u64>>,
    type_ids: Option<Vec<u64>>,
    lock_ids: Option<Vec<u64>>,
    owner_ids: Option<Vec<u64>>,
    responsible_ids: Option<Vec<u64>>,
    /// `(column, expressions)` for TicketNumber, Title, CustomerID, CustomerUserLogin.
    text: Vec<(Column, Vec<String>)>,
    fields: Vec<(String, Map<String, Value>)>,
    /// `(column, at or after, at or before)` of the `Ticket…Time{Newer,Older}Date`
    /// conditions, epoch seconds.
    times: Vec<(TimeColumn, Option<i64>, Option<i64>)>,
}

impl Filters {
    /// `None` when a name does not resolve (`No queue id for queue …`): the search fails.
    fn new(data: &Data) -> Option<Self> {
        let ids = |key: &str| resolve(data, key, |v| v.parse().ok());
        let names = |key: &str, table: &'static Table| resolve(data, key, |n| id_of(table, n));
        // Names are looked up and added to the id list (`push @{ $Param{QueueIDs} }`).
        let mut f = Filters {
            ticket_ids: ids("TicketID")?,
            queue_ids: union(ids("QueueIDs")?, names("Queues", QUEUES)?),
            priority_ids: union(ids("PriorityIDs")?, names("Priorities", PRIORITIES)?),
            type_ids: union(ids("TypeIDs")?, names("Types", TYPES)?),
            lock_ids: union(ids("LockIDs")?, names("Locks", LOCKS)?),
            state_ids: union(ids("StateIDs")?, resolve(data, "States", state_id)?),
            owner_ids: ids("OwnerIDs")?,
            responsible_ids: ids("ResponsibleIDs")?,
            ..Filters::default()
        };
        // StateType arrives as a list, so the kernel's `Open`/`Closed` pseudo types (compared
        // with `eq` on a string) never apply: only real type names, case-sensitive, match.
        if let Some(types) = list(data.get("StateType")) {
            f.state_ids = intersect(f.state_ids, Some(states_of_types(&types)?));
        }
        if let Some(type_ids) = ids("StateTypeIDs")? {
            let types: Vec<String> = type_ids
                .iter()
                .map(|id| name_of(STATE_TYPES, *id).to_owned())
                .collect();
            f.state_ids = intersect(f.state_ids, Some(states_of_types(&types)?));
        }
        let columns: [(&str, Column); 4] = [
            ("TicketNumber", |t| t.number.clone()),
            ("Title", |t| t.title.clone()),
            ("CustomerID", |t| t.customer_id.clone().unwrap_or_default()),
            ("CustomerUserLogin", |t| {
                t.customer_user.clone().unwrap_or_default()
            }),
        ];
        for (key, column) in columns {
            if let Some(values) = list(data.get(key)) {
                f.text.push((column, values));
            }
        }
        f.fields = field_conditions(data);
        // `Ticket{Create,Change,LastChange}Time{Newer,Older}Date`: the server's local
        // `YYYY-MM-DD HH:MM:SS`, inclusive; a value that is not a time fails the search
        // ("Invalid time format"). The mock's local time is UTC. Any article or field
        // change moves `change_time`, so Change and LastChange are the same here.
        let times: [(&str, TimeColumn); 3] = [
            ("TicketCreateTime", |t| t.created),
            ("TicketChangeTime", |t| t.changed),
            ("TicketLastChangeTime", |t| t.changed),
        ];
        for (prefix, column) in times {
            let newer = time_condition(data, &format!("{prefix}NewerDate"))?;
            let older = time_condition(data, &format!("{prefix}OlderDate"))?;
            if newer.is_some() || older.is_some() {
                f.times.push((column, newer, older));
            }
        }
        Some(f)
    }

    fn matches(&self, t: &Ticket) -> bool {
        let within = |ids: &Option<Vec<u64>>, id: u64| ids.as_ref().is_none_or(|l| l.contains(&id));
        within(&self.ticket_ids, t.id)
            && within(&self.state_ids, t.state_id)
            && within(&self.queue_ids, t.queue_id)
            && within(&self.priority_ids, t.priority_id)
            && within(&self.type_ids, t.type_id)
            && within(&self.lock_ids, t.lock_id)
            && within(&self.owner_ids, t.owner_id)
            && within(&self.responsible_ids, t.responsible_id)
            && self
                .text
                .iter()
                .all(|(column, values)| text_matches(&column(t), values))
            && self
                .fields
                .iter()
                .all(|(name, ops)| field_matches(t.fields.get(name), ops))
            && self.times.iter().all(|(column, newer, older)| {
                let at = column(t);
                newer.is_none_or(|n| at >= n) && older.is_none_or(|o| at <= o)
            })
    }
}

/// A time condition: `Some(None)` when absent, `None` when it is not a
/// `YYYY-MM-DD HH:MM:SS` time (which fails the search).
fn time_condition(data: &Data, key: &str) -> Option<Option<i64>> {
    let Some(text) = given(data.get(key)) else {
        return Some(None);
    };
    let (date, time) = text.trim().split_once(' ')?;
    let num = |s: &str| s.parse::<i64>().ok();
    let d: Vec<i64> = date.split('-').map(num).collect::<Option<_>>()?;
    let t: Vec<i64> = time.split(':').map(num).collect::<Option<_>>()?;
    match (&d[..], &t[..]) {
        ([y, mo, day], [h, mi, s]) => epoch_of(*y, *mo, *day, *h, *mi, *s).map(Some),
        _ => None,
    }
}

/// A list parameter mapped to ids: `Some(None)` when absent, `None` when one value does not
/// resolve, which fails the search.
fn resolve(data: &Data, key: &str, id: impl Fn(&str) -> Option<u64>) -> Option<Option<Vec<u64>>> {
    let Some(values) = list(data.get(key)) else {
        return Some(None);
    };
    values
        .iter()
        .map(|v| id(v))
        .collect::<Option<Vec<u64>>>()
        .map(Some)
}

fn union(a: Option<Vec<u64>>, b: Option<Vec<u64>>) -> Option<Vec<u64>> {
    match (a, b) {
        (Some(mut a), Some(b)) => {
            a.extend(b);
            Some(a)
        }
        (a, b) => a.or(b),
    }
}

fn intersect(a: Option<Vec<u64>>, b: Option<Vec<u64>>) -> Option<Vec<u64>> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.into_iter().filter(|x| b.contains(x)).collect()),
        (a, b) => a.or(b),
    }
}

/// StateIDs of the named state types; `None` when none of them exists.
fn states_of_types(types: &[String]) -> Option<Vec<u64>> {
    let ids: Vec<u64> = (1..=9)
        .filter(|id| types.iter().any(|t| t == state(*id).1))
        .collect();
    (!ids.is_empty()).then_some(ids)
}

/// One text column against its values, ORed; a value that is only `%` (or `*`) matches all.
fn text_matches(column: &str, values: &[String]) -> bool {
    let used: Vec<String> = values
        .iter()
        .filter(|v| !v.is_empty())
        .map(|v| v.replace('*', "%"))
        .filter(|v| !((1..=3).contains(&v.len()) && v.chars().all(|c| c == '%')))
        .collect();
    used.is_empty() || used.iter().any(|v| query_condition(column, v))
}

/// A reduced `Kernel::System::DB::QueryCondition`: `||` ORs, `&&` or `+` ANDs, a leading
/// `!` negates, parentheses are dropped, mixing AND and OR matches nothing. Each word is an
/// equality, or a LIKE when it holds `%`; both ignore case, as MariaDB's `utf8_general_ci`
/// collation does. Quotes and backslash escapes are not modelled.
fn query_condition(column: &str, expression: &str) -> bool {
    let expr: String = expression
        .trim()
        .chars()
        .filter(|c| !matches!(c, '(' | ')'))
        .collect();
    let expr = expr.replace('+', "&&");
    let (words, any): (Vec<&str>, bool) = match (expr.contains("||"), expr.contains("&&")) {
        (true, true) => return false,
        (true, false) => (expr.split("||").collect(), true),
        (false, _) => (expr.split("&&").collect(), false),
    };
    let hit = |word: &str| {
        let word = word.trim();
        match word.strip_prefix('!') {
            Some(w) => !like(column, w),
            None => like(column, word),
        }
    };
    let words = words.into_iter().filter(|w| !w.trim().is_empty());
    if any {
        words.into_iter().any(hit)
    } else {
        words.into_iter().all(hit)
    }
}

/// SQL `=` or `LIKE` (with `%` only), case-insensitive.
fn like(value: &str, pattern: &str) -> bool {
    let value = value.to_lowercase();
    let pattern = pattern.to_lowercase();
    if !pattern.contains('%') {
        return value == pattern;
    }
    let parts: Vec<&str> = pattern.split('%').collect();
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !value.starts_with(first) || value.len() < first.len() + last.len() {
        return false;
    }
    let mut rest = &value[first.len()..];
    for part in &parts[1..parts.len() - 1] {
        match rest.find(part) {
            Some(i) => rest = &rest[i + part.len()..],
            None => return false,
        }
    }
    rest.ends_with(last)
}

/// `_GetDynamicFields`: a `DynamicField` object/array with `Name`, or `DynamicField_<Name>`
/// keys; only known fields with a non-empty object of operators count.
fn field_conditions(data: &Data) -> Vec<(String, Map<String, Value>)> {
    let mut raw: Vec<(String, Value)> = Vec::new();
    let named = |item: &Value| (scalar(item.get("Name")).unwrap_or_default(), item.clone());
    let df = data.get("DynamicField");
    if truthy(df) {
        // A `DynamicField` parameter that is neither shape means no condition at all.
        if hash_with_data(df).is_some() {
            raw.extend(df.map(named));
        } else if let Some(items) = array_with_data(df) {
            raw.extend(items.iter().map(named));
        }
    } else {
        for (key, v) in data {
            let name = key.strip_prefix("DynamicField_").unwrap_or_default();
            if !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric()) {
                raw.push((name.to_owned(), v.clone()));
            }
        }
    }
    FIELDS
        .iter()
        .filter_map(|(name, _)| {
            let (_, v) = raw.iter().rev().find(|(n, _)| n == name)?;
            let mut ops = hash_with_data(Some(v))?.clone();
            ops.remove("Name");
            Some(((*name).to_owned(), ops))
        })
        .collect()
}

/// The operators of one field condition, ANDed; an array value ORs its elements.
fn field_matches(value: Option<&String>, ops: &Map<String, Value>) -> bool {
    ops.iter().all(|(op, wanted)| {
        let wanted: Vec<String> = match wanted {
            Value::Array(items) => items.iter().filter_map(|v| scalar(Some(v))).collect(),
            other => scalar(Some(other)).into_iter().collect(),
        };
        let value = value.map(String::as_str);
        let one = |w: &String| match (op.as_str(), value) {
            ("Empty", v) => {
                let empty = v.is_none_or(str::is_empty);
                if w.is_empty() || w == "0" {
                    !empty
                } else {
                    empty
                }
            }
            (_, None) => false,
            ("Equals", Some(v)) => v.to_lowercase() == w.to_lowercase(),
            ("Like", Some(v)) => like(v, &w.replace('*', "%")),
            ("GreaterThan", Some(v)) => v > w.as_str(),
            ("GreaterThanEquals", Some(v)) => v >= w.as_str(),
            ("SmallerThan", Some(v)) => v < w.as_str(),
            ("SmallerThanEquals", Some(v)) => v <= w.as_str(),
            _ => true,
        };
        wanted.iter().any(one)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_conditions() {
        assert!(query_condition(
            "Access request [corr:R-1]",
            "Access request [corr:R-1]"
        ));
        assert!(query_condition("Access Request", "access request"));
        assert!(!query_condition("a+b", "a+b"), "`+` means AND");
        assert!(query_condition("verify-1-2", "verify-%"));
        assert!(query_condition("x [corr:R-1] y", "%[corr:R-1]%"));
        assert!(!query_condition("x [corr:R-12] y", "%[corr:R-1]%"));
        assert!(query_condition("b", "a||b"));
        assert!(!query_condition("b", "!b"));
        assert!(!query_condition("ab", "a&&b||c"));
    }
}
