//! The instance's data: one ordered map of rows per table, ACL-hidden sys_ids, number
//! counters, and the lazily generated `sys_user` rows ([`Synthetic`]).

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::SystemTime;

use serde_json::{Map, Value};

use super::schema::{self, TableDef};
use crate::data::SyntheticPeople;

/// A row: every value a JSON string, references as sys_ids.
pub(crate) type Row = Map<String, Value>;

/// First 16 hex digits of every generated user's sys_id; the last 16 are the index, so
/// generated sys_ids sort in index order and map back to it.
const SYNTH_PREFIX: &str = "5a17c0de00000000";
/// `sys_created_on` of the generated users: before anything created at run time, so the
/// default order (created, then sys_id) lists them first, in index order.
pub(crate) const SYNTH_CREATED: &str = "2020-01-01 00:00:00";

/// `count` users computed on demand; `shadowed` indexes are no longer served from the
/// generator (edited ones now live in the `sys_user` map, deleted ones nowhere).
#[derive(Debug)]
pub(crate) struct Synthetic {
    pub(crate) people: SyntheticPeople,
    pub(crate) shadowed: HashSet<usize>,
}

impl Synthetic {
    /// The sys_id of generated user `index`.
    pub(crate) fn sys_id(index: usize) -> String {
        format!("{SYNTH_PREFIX}{index:016x}")
    }

    /// The index a sys_id names, if it is a generated user's (whether or not shadowed).
    pub(crate) fn index_of(&self, sys_id: &str) -> Option<usize> {
        let hex = sys_id.strip_prefix(SYNTH_PREFIX)?;
        let index = usize::from_str_radix(hex, 16).ok()?;
        (hex.len() == 16 && index < self.people.len()).then_some(index)
    }

    /// The index of the generated user whose login is `login` (shadowed or not).
    pub(crate) fn index_of_login(&self, login: &str) -> Option<usize> {
        // Generated logins end with the person's 1-based number.
        let digits = login.trim_start_matches(|c: char| !c.is_ascii_digit());
        let index = digits.parse::<usize>().ok()?.checked_sub(1)?;
        let person = self.people.person(index)?;
        (person.login == login).then_some(index)
    }

    /// Whether user `index` is still served from the generator.
    pub(crate) fn live(&self, index: usize) -> bool {
        index < self.people.len() && !self.shadowed.contains(&index)
    }

    /// The row of user `index`.
    pub(crate) fn row(&self, index: usize) -> Option<Row> {
        let p = self.people.person(index)?;
        let pairs = [
            ("sys_id", Self::sys_id(index)),
            ("user_name", p.login),
            ("name", format!("{} {}", p.first_name, p.last_name)),
            ("first_name", p.first_name),
            ("last_name", p.last_name),
            ("email", p.email),
            ("active", p.active.to_string()),
            ("locked_out", "false".into()),
            ("title", String::new()),
            ("department", String::new()),
            ("manager", String::new()),
            ("employee_number", p.id),
            ("phone", String::new()),
            ("sys_class_name", "sys_user".into()),
            ("sys_created_on", SYNTH_CREATED.into()),
            ("sys_updated_on", SYNTH_CREATED.into()),
        ];
        Some(
            pairs
                .into_iter()
                .map(|(k, v)| (k.to_owned(), Value::String(v)))
                .collect(),
        )
    }

    /// The first index whose sys_id is `>= bound` (`> bound` when `strict`).
    pub(crate) fn lower(&self, bound: &str, strict: bool) -> usize {
        partition(self.people.len(), |i| {
            let id = Self::sys_id(i);
            if strict {
                id.as_str() <= bound
            } else {
                id.as_str() < bound
            }
        })
    }
}

/// The first `i` in `0..n` where `before(i)` is false (`before` must be monotone).
fn partition(n: usize, before: impl Fn(usize) -> bool) -> usize {
    let (mut lo, mut hi) = (0, n);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if before(mid) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo
}

/// Everything the instance holds.
#[derive(Debug)]
pub(crate) struct State {
    pub(crate) tables: HashMap<&'static str, BTreeMap<String, Row>>,
    pub(crate) hidden: HashSet<String>,
    numbers: HashMap<&'static str, u64>,
    pub(crate) synthetic: Option<Synthetic>,
    /// Whether equality and the `user_name` unique check ignore ASCII case.
    pub(crate) case_insensitive: bool,
    /// Business rules aborting REST writes, per table.
    pub(crate) abort_rules: Vec<(String, super::AbortRule)>,
    /// Journal entry sys_ids in the order they were written.
    pub(crate) journal_order: Vec<String>,
    /// Listings ignore `sysparm_query` (`TicketBackend::ignore_search_filters`).
    pub(crate) unfiltered: bool,
    /// Listings drop their `sys_id>=` and `sys_id<` conditions, the key ranges of a
    /// partitioned import (`AccountBackend::ignore_key_ranges`); `sys_id>` (keyset)
    /// still holds.
    pub(crate) ignore_ranges: bool,
    /// Added to every `X-Total-Count` (`AccountBackend::inflate_reported_total`).
    pub(crate) total_bias: usize,
    /// `<url>` the links point at.
    pub(crate) base_url: String,
    /// The stopped clock (`TicketBackend::freeze_clock`), as the Table API prints it.
    pub(crate) frozen: Option<String>,
    /// `sys_user` sys_id → the password the instance would check (`user_password` is
    /// write-only: never stored in the row, never printed).
    pub(crate) passwords: std::collections::HashMap<String, String>,
}

/// `YYYY-MM-DD HH:MM:SS` UTC, as the Table API prints date-times.
pub(crate) fn now() -> String {
    let iso = accesslink_core::time::format_rfc3339_millis(SystemTime::now());
    iso[..19].replace('T', " ")
}

/// A new random sys_id (32 lowercase hex digits).
pub(crate) fn new_sys_id() -> String {
    (0..32)
        .map(|_| char::from_digit(fastrand::u32(0..16), 16).unwrap_or('0'))
        .collect()
}

/// Whether `s` looks like a sys_id.
pub(crate) fn is_sys_id(s: &str) -> bool {
    s.len() == 32
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

impl State {
    pub(crate) fn new(synthetic_users: usize, seed: u64) -> State {
        let tables = schema::TABLES
            .iter()
            .map(|t| (t.name, BTreeMap::new()))
            .collect();
        let numbers = schema::TABLES
            .iter()
            .filter_map(|t| t.number.map(|(_, first)| (t.name, first)))
            .collect();
        let synthetic = (synthetic_users > 0).then(|| Synthetic {
            people: SyntheticPeople::new(synthetic_users, seed),
            shadowed: HashSet::new(),
        });
        State {
            tables,
            hidden: HashSet::new(),
            numbers,
            synthetic,
            journal_order: Vec::new(),
            unfiltered: false,
            ignore_ranges: false,
            total_bias: 0,
            case_insensitive: false,
            abort_rules: Vec::new(),
            base_url: String::new(),
            frozen: None,
            passwords: std::collections::HashMap::new(),
        }
        .with_dictionary()
    }

    /// The time writes are stamped with: the stopped clock, or now.
    pub(crate) fn clock(&self) -> String {
        self.frozen.clone().unwrap_or_else(now)
    }

    /// `sys_dictionary` rows for every column of every table (`task` columns under
    /// `task`, a child table's own columns under its name, as the instance keeps them)
    /// and `sys_choice` rows for each table's `state` values.
    fn with_dictionary(mut self) -> Self {
        let stamp = now();
        let mut dictionary = BTreeMap::new();
        let mut choices = BTreeMap::new();
        for def in schema::TABLES {
            let own: Vec<&str> = if def.task && def.name != "task" {
                def.fields.to_vec()
            } else {
                def.all_fields()
            };
            for element in own {
                let (kind, reference) = schema::internal_type(element);
                let read_only = matches!(
                    element,
                    "sys_id"
                        | "number"
                        | "sys_created_on"
                        | "sys_updated_on"
                        | "sys_created_by"
                        | "sys_updated_by"
                        | "sys_class_name"
                );
                let mandatory = matches!(element, "short_description" | "user_name" | "name")
                    && (element != "name" || !def.task);
                let row: Row = [
                    ("sys_id", new_sys_id()),
                    ("name", def.name.to_owned()),
                    ("element", element.to_owned()),
                    ("column_label", label_of(element)),
                    ("internal_type", kind.to_owned()),
                    ("mandatory", mandatory.to_string()),
                    ("read_only", read_only.to_string()),
                    ("reference", reference.unwrap_or_default().to_owned()),
                    ("max_length", "40".to_owned()),
                    ("active", "true".to_owned()),
                    ("sys_class_name", "sys_dictionary".to_owned()),
                    ("sys_created_on", stamp.clone()),
                    ("sys_updated_on", stamp.clone()),
                ]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), Value::String(v)))
                .collect();
                dictionary.insert(text(&row, "sys_id").to_owned(), row);
            }
            for (i, (value, label)) in def.states.iter().enumerate() {
                let row: Row = [
                    ("sys_id", new_sys_id()),
                    ("name", def.name.to_owned()),
                    ("element", "state".to_owned()),
                    ("value", (*value).to_owned()),
                    ("label", (*label).to_owned()),
                    ("sequence", (i * 10).to_string()),
                    ("inactive", "false".to_owned()),
                    ("language", "en".to_owned()),
                    ("sys_class_name", "sys_choice".to_owned()),
                    ("sys_created_on", stamp.clone()),
                    ("sys_updated_on", stamp.clone()),
                ]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), Value::String(v)))
                .collect();
                choices.insert(text(&row, "sys_id").to_owned(), row);
            }
        }
        self.tables.insert("sys_dictionary", dictionary);
        self.tables.insert("sys_choice", choices);
        self
    }

    /// The next number of a task table (`INC0010001`, …).
    pub(crate) fn next_number(&mut self, def: &TableDef) -> String {
        let Some((prefix, _)) = def.number else {
            return String::new();
        };
        let n = self.numbers.entry(def.name).or_insert(1);
        let number = format!("{prefix}{:07}", *n);
        *n += 1;
        number
    }

    /// The stored map of one table.
    pub(crate) fn map(&self, table: &str) -> Option<&BTreeMap<String, Row>> {
        self.tables.get(table)
    }

    /// The stored map of one table, mutable.
    pub(crate) fn map_mut(&mut self, table: &str) -> Option<&mut BTreeMap<String, Row>> {
        self.tables.get_mut(table)
    }

    /// The row `sys_id` of `table` (any task table for `task`) and the table really holding
    /// it, hidden rows included.
    pub(crate) fn get(&self, table: &str, sys_id: &str) -> Option<(&'static str, Cow<'_, Row>)> {
        for name in schema::family(table) {
            if let Some(row) = self.map(name).and_then(|m| m.get(sys_id)) {
                return Some((name, Cow::Borrowed(row)));
            }
        }
        if table == "sys_user" {
            let synth = self.synthetic.as_ref()?;
            let index = synth.index_of(sys_id).filter(|i| synth.live(*i))?;
            return synth.row(index).map(|r| ("sys_user", Cow::Owned(r)));
        }
        None
    }

    /// Every row of `table` (task family for `task`), generated users included.
    pub(crate) fn scan<'s>(&'s self, table: &str) -> Box<dyn Iterator<Item = Cow<'s, Row>> + 's> {
        let stored = schema::family(table)
            .into_iter()
            .filter_map(|name| self.map(name))
            .flat_map(|m| m.values().map(Cow::Borrowed));
        match (&self.synthetic, table) {
            (Some(synth), "sys_user") => {
                let generated = (0..synth.people.len())
                    .filter(|i| synth.live(*i))
                    .filter_map(|i| synth.row(i).map(Cow::Owned));
                Box::new(generated.chain(stored))
            }
            _ => Box::new(stored),
        }
    }

    /// How many rows `table` has, hidden ones included.
    pub(crate) fn len(&self, table: &str) -> usize {
        let stored: usize = schema::family(table)
            .into_iter()
            .filter_map(|name| self.map(name))
            .map(BTreeMap::len)
            .sum();
        let generated = match (&self.synthetic, table) {
            (Some(s), "sys_user") => s.people.len() - s.shadowed.len(),
            _ => 0,
        };
        stored + generated
    }

    /// Moves a generated user into the `sys_user` map so it can be edited.
    pub(crate) fn materialise(&mut self, sys_id: &str) {
        let Some(synth) = self.synthetic.as_mut() else {
            return;
        };
        let Some(index) = synth.index_of(sys_id).filter(|i| synth.live(*i)) else {
            return;
        };
        if let Some(row) = synth.row(index) {
            synth.shadowed.insert(index);
            if let Some(map) = self.tables.get_mut("sys_user") {
                map.insert(sys_id.to_owned(), row);
            }
        }
    }

    /// Removes a row (and, for a user, its memberships and roles); `false` when absent.
    pub(crate) fn delete(&mut self, table: &str, sys_id: &str) -> bool {
        let Some((real, _)) = self.get(table, sys_id) else {
            return false;
        };
        self.materialise(sys_id);
        let removed = self.map_mut(real).and_then(|m| m.remove(sys_id)).is_some();
        self.hidden.remove(sys_id);
        if real == "sys_user" {
            for link in ["sys_user_grmember", "sys_user_has_role"] {
                if let Some(map) = self.map_mut(link) {
                    map.retain(|_, r| r.get("user").and_then(Value::as_str) != Some(sys_id));
                }
            }
        }
        removed
    }

    /// The sys_id of the user called `user_name`, generated ones included.
    pub(crate) fn user_by_name(&self, user_name: &str) -> Option<String> {
        let fold = self.case_insensitive;
        let same = |name: &str| {
            if fold {
                name.eq_ignore_ascii_case(user_name)
            } else {
                name == user_name
            }
        };
        let stored = self
            .map("sys_user")?
            .iter()
            .find_map(|(id, r)| same(text(r, "user_name")).then(|| id.clone()));
        if stored.is_some() {
            return stored;
        }
        let synth = self.synthetic.as_ref()?;
        // Generated logins are lower-case.
        let login = if fold {
            user_name.to_ascii_lowercase()
        } else {
            user_name.to_owned()
        };
        let index = synth.index_of_login(&login)?;
        synth.live(index).then(|| Synthetic::sys_id(index))
    }

    /// The display value of a reference to `sys_id` in `table`: a user's or group's name,
    /// a task's number.
    pub(crate) fn display_of(&self, table: &str, sys_id: &str) -> String {
        let Some((real, row)) = self.get(table, sys_id) else {
            return String::new();
        };
        let field = if schema::table(real).is_some_and(|d| d.task) {
            "number"
        } else {
            "name"
        };
        text(&row, field).to_owned()
    }
}

/// A column label from its name: `short_description` → `Short description`.
fn label_of(element: &str) -> String {
    let words = element.replace('_', " ");
    let mut chars = words.chars();
    chars
        .next()
        .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
        .unwrap_or_default()
}

/// A field of a row as text (`""` when absent).
pub(crate) fn text<'r>(row: &'r Row, field: &str) -> &'r str {
    row.get(field).and_then(Value::as_str).unwrap_or("")
}
