//! `GET /search/:itemtype` (`API::searchItems` over `Search::getDatas`) and
//! `GET /listSearchOptions/:itemtype`, for the search options a connector uses.
//!
//! Rows are keyed by search-option id as a string (`{"2":5,"1":"name","12":1}`), values
//! keep their column type, joined columns with several values become arrays. The columns
//! are `1`, then `forcedisplay` (or the default display preferences when there is none),
//! then the criteria and sort fields; ITIL objects (Ticket, Change) always get `2` (id).
//! Text criteria follow `Search::makeTextSearch` ([`TextSearch`]); `equals` on an item
//! link (field 1) or a dropdown compares ids; numeric fields compare exactly or with
//! `<`/`>` operators; the status field takes `notold`, `notclosed`, `old`, `process`,
//! `all`. Criteria are joined with `AND`, `OR`, `AND NOT`, `OR NOT` (SQL precedence) and
//! may nest (`criteria[0][criteria][…]`).

use serde_json::{Map, Value, json};
use wiremock::ResponseTemplate;

mod options;

pub(super) use self::options::list_options;
pub(super) use self::options::option_columns;
use self::options::{Col, Opt, display_preferences, options};
use super::items::{Itemtype, Record, as_id};
use super::listing::{compare, parse_range};
use super::php::{self, TextSearch};
use super::routes::page_headers;
use super::state::{Session, State};
use super::transport::{Call, Failure, json};

/// A column's value in one row: what is displayed, and what `equals` compares.
struct Cell {
    shown: Vec<Value>,
    ids: Vec<Value>,
}

impl Cell {
    fn of(value: Value) -> Cell {
        Cell {
            shown: vec![value.clone()],
            ids: vec![value],
        }
    }

    fn display(&self) -> Value {
        match self.shown.as_slice() {
            [] => Value::Null,
            [one] => one.clone(),
            many => Value::Array(many.to_vec()),
        }
    }
}

fn cell(state: &State, it: Itemtype, id: i64, row: &Record, col: Col) -> Cell {
    let own = |k: &str| {
        if k == "id" {
            Value::from(id)
        } else {
            State::field(it, row, k)
        }
    };
    let named = |target: Itemtype, ids: Vec<i64>, field: &str| {
        let shown = ids.iter().filter_map(|i| {
            let r = state.table(target).get(*i)?;
            Some(if target == Itemtype::User {
                State::field(target, &r, "name")
            } else {
                State::field(target, &r, field)
            })
        });
        let shown: Vec<Value> = shown.collect();
        Cell {
            shown,
            ids: ids.into_iter().map(Value::from).collect(),
        }
    };
    let linked = |child: Itemtype, key: &str| -> Vec<i64> {
        let mut ids: Vec<i64> = state
            .rows_with(child, "users_id", id)
            .iter()
            .map(|(_, r)| as_id(r.get(key)))
            .collect();
        ids.dedup();
        ids
    };
    match col {
        Col::Own(k) => {
            let v = own(k);
            let shown = if v.is_null() { vec![] } else { vec![v.clone()] };
            Cell {
                shown,
                ids: vec![v],
            }
        }
        Col::Link(k) => Cell {
            shown: vec![own(k)],
            ids: vec![Value::from(id)],
        },
        Col::EntityOf(k) => named(Itemtype::Entity, vec![as_id(Some(&own(k)))], "completename"),
        Col::UserOf(k) => named(Itemtype::User, vec![as_id(Some(&own(k)))], "name"),
        Col::Emails => {
            let emails = state.rows_with(Itemtype::UserEmail, "users_id", id);
            let shown: Vec<Value> = emails
                .iter()
                .map(|(_, r)| State::field(Itemtype::UserEmail, r, "email"))
                .collect();
            Cell {
                ids: shown.clone(),
                shown,
            }
        }
        Col::Groups => named(
            Itemtype::Group,
            linked(Itemtype::GroupUser, "groups_id"),
            "completename",
        ),
        Col::Profiles => named(
            Itemtype::Profile,
            linked(Itemtype::ProfileUser, "profiles_id"),
            "name",
        ),
        Col::ProfileEntities => named(
            Itemtype::Entity,
            linked(Itemtype::ProfileUser, "entities_id"),
            "completename",
        ),
        Col::Null => Cell {
            shown: vec![],
            ids: vec![],
        },
    }
}

/// One parsed criterion, or a nested group.
enum Criterion {
    Leaf { link: String, leaf: Leaf },
    Group { link: String, items: Vec<Criterion> },
}

/// A criterion on one field.
struct Leaf {
    field: u32,
    searchtype: String,
    value: String,
    /// The value as a numeric test, for `number` fields.
    numeric: Option<NumericTest>,
}

/// `<5`, `>= 3` or an exact number, negated by `notequals`/`notcontains`
/// (`Search::addWhere` for `number` fields).
#[derive(Debug, Clone, Copy)]
struct NumericTest {
    op: &'static str,
    bound: f64,
    negate: bool,
}

impl NumericTest {
    fn parse(value: &str, searchtype: &str) -> Option<NumericTest> {
        let negate = matches!(searchtype, "notequals" | "notcontains");
        let trimmed = value.trim();
        let op_len = trimmed
            .find(|ch: char| !matches!(ch, '<' | '>' | '=' | ' '))
            .unwrap_or(0);
        let (op, rest) = trimmed.split_at(op_len);
        let op = match op.replace(' ', "").as_str() {
            "" => "=",
            o if o.starts_with("<=") => "<=",
            o if o.starts_with(">=") => ">=",
            o if o.starts_with('<') => "<",
            o if o.starts_with('>') => ">",
            _ => return None,
        };
        let bound = rest.trim().parse::<f64>().ok()?;
        Some(NumericTest { op, bound, negate })
    }

    /// Whether `x` satisfies the comparison, before negation.
    fn holds(&self, x: f64) -> bool {
        match self.op {
            "<" => x < self.bound,
            "<=" => x <= self.bound,
            ">" => x > self.bound,
            ">=" => x >= self.bound,
            _ => x == self.bound,
        }
    }

    /// The criterion on one number (the row id).
    fn test(&self, x: f64) -> bool {
        self.holds(x) != self.negate
    }

    /// The criterion on a column's values.
    fn matches(&self, c: &Cell) -> bool {
        let n = |v: &Value| php::scalar(v).and_then(|t| t.parse::<f64>().ok());
        let hit = c.ids.iter().filter_map(n).any(|x| self.holds(x));
        hit != self.negate
    }
}

fn parse_criteria(
    value: &Value,
    opts: &[Opt],
    fields: &mut Vec<u32>,
) -> Result<Vec<Criterion>, Failure> {
    let mut out = Vec::new();
    for c in php::list(value) {
        let link = c
            .get("link")
            .and_then(php::scalar)
            .unwrap_or_else(|| "AND".into());
        if let Some(nested) = c.get("criteria") {
            out.push(Criterion::Group {
                link,
                items: parse_criteria(nested, opts, fields)?,
            });
            continue;
        }
        let text = |k: &str| c.get(k).filter(|v| !v.is_null()).and_then(php::scalar);
        let (Some(field), Some(searchtype), Some(value)) =
            (text("field"), text("searchtype"), text("value"))
        else {
            return Err(Failure::generic("Malformed search criteria"));
        };
        let digits = field.chars().all(|c| c.is_ascii_digit());
        let opt = field
            .parse::<u32>()
            .ok()
            .and_then(|f| opts.iter().find(|o| o.0 == f));
        let opt = opt.filter(|_| digits);
        let (field, _, datatype, _) =
            *opt.ok_or_else(|| Failure::generic("Bad field ID in search criteria"))?;
        fields.push(field);
        let numeric = (datatype == "number")
            .then(|| NumericTest::parse(&value, &searchtype))
            .flatten();
        let leaf = Leaf {
            field,
            searchtype,
            value,
            numeric,
        };
        out.push(Criterion::Leaf { link, leaf });
    }
    Ok(out)
}

/// SQL precedence: `NOT` on its operand, `AND` before `OR`; the first link is ignored.
fn eval_all(items: &[Criterion], test: &dyn Fn(&Leaf) -> bool) -> bool {
    let mut any = false;
    let mut group: Option<bool> = None;
    for (i, item) in items.iter().enumerate() {
        let (link, value) = match item {
            Criterion::Leaf { link, leaf } => (link, test(leaf)),
            Criterion::Group { link, items } => (link, eval_all(items, test)),
        };
        let link = if i == 0 {
            "AND".to_owned()
        } else {
            link.to_ascii_uppercase()
        };
        let value = if link.ends_with("NOT") { !value } else { value };
        if link.starts_with("OR") {
            any |= group.unwrap_or(false);
            group = Some(value);
        } else {
            group = Some(group.unwrap_or(true) && value);
        }
    }
    any || group.unwrap_or(true)
}

fn matches(c: &Cell, it: Itemtype, col: Col, leaf: &Leaf) -> bool {
    let (searchtype, value) = (leaf.searchtype.as_str(), leaf.value.as_str());
    let text = |v: &Value| php::scalar(v).filter(|_| !v.is_null());
    let contains = |negate: bool| {
        let search = TextSearch::new(value);
        let subjects: Vec<Option<String>> = if c.shown.is_empty() {
            vec![None]
        } else {
            c.shown.iter().map(text).collect()
        };
        let hit = subjects.iter().any(|s| search.matches(s.as_deref()));
        // `NOT LIKE … OR IS NULL`: NULL never matches a LIKE, so negation covers it.
        hit != negate
    };
    if let Some(numeric) = &leaf.numeric {
        return numeric.matches(c);
    }
    if matches!(col, Col::Own("status"))
        && matches!(it, Itemtype::Ticket | Itemtype::Change)
        && searchtype == "equals"
    {
        let statuses: &[i64] = match value {
            "notold" => &[1, 2, 3, 4],
            "notclosed" => &[1, 2, 3, 4, 5],
            "old" => &[5, 6],
            "process" => &[2, 3],
            "all" => &[1, 2, 3, 4, 5, 6],
            _ => &[],
        };
        if !statuses.is_empty() {
            return statuses.contains(&as_id(c.ids.first()));
        }
    }
    let equal = |v: &Value| text(v).is_some_and(|t| t.to_lowercase() == value.to_lowercase());
    let num = |v: &Value| text(v).and_then(|t| t.parse::<f64>().ok());
    let order = |v: &Value| match (num(v), value.parse::<f64>().ok()) {
        (Some(a), Some(b)) => a.partial_cmp(&b),
        _ => text(v).map(|t| t.as_str().cmp(value)),
    };
    match searchtype {
        "contains" => contains(false),
        "notcontains" => contains(true),
        "equals" | "under" => c.ids.iter().any(equal),
        "notequals" | "notunder" => !c.ids.iter().any(equal),
        "lessthan" => c
            .ids
            .iter()
            .any(|v| order(v) == Some(std::cmp::Ordering::Less)),
        "morethan" => c
            .ids
            .iter()
            .any(|v| order(v) == Some(std::cmp::Ordering::Greater)),
        // An unknown search type adds no condition.
        _ => true,
    }
}

/// `GET /search/:itemtype`.
pub(super) fn search(
    state: &State,
    session: &Session,
    it: Itemtype,
    call: &Call,
) -> Result<ResponseTemplate, Failure> {
    let opts = options(it);
    let mut criteria_fields = Vec::new();
    let mut criteria = match call.param("criteria") {
        Some(c @ (Value::Object(_) | Value::Array(_))) => {
            parse_criteria(c, &opts, &mut criteria_fields)?
        }
        _ => Vec::new(),
    };
    if state.ignore_ranges {
        // The `<N` bound on the id (search option 2) of a partition's range.
        criteria.retain(|c| {
            !matches!(c, Criterion::Leaf { leaf, .. }
                if leaf.field == 2 && leaf.numeric.is_some_and(|n| n.op == "<"))
        });
    }
    let forced: Vec<u32> = match call.param("forcedisplay") {
        None => Vec::new(),
        Some(v @ (Value::Object(_) | Value::Array(_))) => php::list(v)
            .into_iter()
            .map(|f| as_id(Some(f)) as u32)
            .collect(),
        Some(v) => vec![as_id(Some(v)) as u32],
    };
    let (start, end) = match call.text("range") {
        Some(r) => parse_range(&r)?,
        None => (0, session.list_limit - 1),
    };
    let (sort_out, sort_ids): (Value, Vec<u32>) = match call.param("sort") {
        None => (json!(["1"]), vec![1]),
        Some(v @ (Value::Object(_) | Value::Array(_))) => {
            let list: Vec<Value> = php::list(v).into_iter().cloned().collect();
            let ids = list.iter().map(|x| as_id(Some(x)) as u32).collect();
            (Value::Array(list), ids)
        }
        Some(v) => (json!([as_id(Some(v))]), vec![as_id(Some(v)) as u32]),
    };
    let order_out = match call.param("order") {
        Some(v @ (Value::Object(_) | Value::Array(_))) => {
            Value::Array(php::list(v).into_iter().cloned().collect())
        }
        Some(v) if matches!(php::scalar(v).as_deref(), Some("ASC" | "DESC")) => json!([v]),
        _ => json!(["ASC"]),
    };
    let descending = order_out.get(0).and_then(Value::as_str) == Some("DESC");
    let mut view: Vec<u32> = vec![1];
    if matches!(it, Itemtype::Ticket | Itemtype::Change) {
        view.insert(0, 2);
    }
    let shown: &[u32] = if forced.is_empty() {
        display_preferences(it)
    } else {
        &forced
    };
    view.extend(shown.iter().chain(&criteria_fields).chain(&sort_ids));
    let mut columns: Vec<Opt> = Vec::new();
    for f in view {
        if let Some(opt) = opts
            .iter()
            .find(|o| o.0 == f)
            .filter(|o| !columns.iter().any(|c| c.0 == o.0))
        {
            columns.push(*opt);
        }
    }
    let deleted = call.param("is_deleted").map_or(0, |v| as_id(Some(v)));
    let table = state.table(it);
    let sort_opt = sort_ids
        .first()
        .and_then(|s| opts.iter().find(|o| o.0 == *s));
    // A lookup by exact login (`^login$` on field 1) can hit at most one generated user,
    // which spares generating the others.
    let exact_login = match criteria.as_slice() {
        [Criterion::Leaf { leaf, .. }]
            if it == Itemtype::User && leaf.field == 1 && leaf.searchtype == "contains" =>
        {
            match TextSearch::new(&leaf.value) {
                TextSearch::Like(p) if !p.contains('%') => Some(table.generated_user_named(&p)),
                _ => None,
            }
        }
        _ => None,
    };
    let mut hits: Vec<(i64, Value)> = Vec::new();
    // Rows are read lazily: the id-keyset pattern (`ID contains >N`, sorted by ID) then
    // costs an integer comparison per row, not a generated row.
    for id in table.ids() {
        if exact_login.is_some_and(|only| only != Some(id) && table.is_untouched(id)) {
            continue;
        }
        let row = std::cell::OnceCell::new();
        let row = || row.get_or_init(|| table.get(id).unwrap_or_default());
        let column = |col: Col| match col {
            Col::Own("id") => Cell::of(Value::from(id)),
            col => cell(state, it, id, row(), col),
        };
        let field_test = |leaf: &Leaf| {
            let Some((_, _, _, col)) = opts.iter().find(|o| o.0 == leaf.field) else {
                return true;
            };
            match (col, &leaf.numeric) {
                (Col::Own("id"), Some(numeric)) => numeric.test(id as f64),
                _ => matches(&column(*col), it, *col, leaf),
            }
        };
        // Generated rows nobody wrote to are live and in the Root entity.
        let live = if table.is_untouched(id) {
            !it.has_trash() || deleted == 0
        } else {
            let trash = as_id(Some(&State::field(it, row(), "is_deleted")));
            (!it.has_trash() || trash == deleted) && state.visible(session, it, id, row())
        };
        if live && (state.unfiltered || eval_all(&criteria, &field_test)) {
            // Ids come in order: a sort on the id needs no key.
            let key = match sort_opt {
                Some((_, _, _, Col::Own("id"))) | None => Value::Null,
                Some(o) => column(o.3).display(),
            };
            hits.push((id, key));
        }
    }
    hits.sort_by(|(a_id, a), (b_id, b)| {
        let o = compare(a, b).then(a_id.cmp(b_id));
        if descending { o.reverse() } else { o }
    });
    let total = hits.len() as i64;
    if start > total {
        let message = format!("Provided range exceed total count of data: {total}");
        return Err(Failure::doc(400, "ERROR_RANGE_EXCEED_TOTAL", &message));
    }
    let len = usize::try_from(end - start + 1).unwrap_or(0);
    let page: Vec<i64> = hits
        .iter()
        .skip(start as usize)
        .take(len)
        .map(|(id, _)| *id)
        .collect();
    let render = |id: i64| {
        let row = state.table(it).get(id).unwrap_or_default();
        let mut line = Map::new();
        for (opt_id, _, _, col) in &columns {
            line.insert(
                opt_id.to_string(),
                cell(state, it, id, &row, *col).display(),
            );
        }
        Value::Object(line)
    };
    let count = page.len() as i64;
    let content_range = format!("{start}-{}/{total}", end.min(total - 1));
    // An inflated total still says 0 with no rows: a body with a count and no `data` is
    // not a search answer.
    let reported = if total > 0 {
        total as usize + state.total_bias
    } else {
        0
    };
    let mut body =
        json!({"totalcount": reported, "count": count, "sort": sort_out, "order": order_out});
    if count > 0 {
        body["data"] = if call.param("withindexes").is_some() {
            Value::Object(
                page.iter()
                    .map(|id| (id.to_string(), render(*id)))
                    .collect(),
            )
        } else {
            Value::Array(page.iter().map(|id| render(*id)).collect())
        };
    }
    body["content-range"] = content_range.clone().into();
    let status = if count >= total { 200 } else { 206 };
    Ok(page_headers(
        json(status, &body),
        it,
        (total > 0).then_some(content_range),
    ))
}
