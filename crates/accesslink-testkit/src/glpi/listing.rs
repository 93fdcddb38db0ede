//! `GET /:itemtype` and `GET /:itemtype/:id/:sub_itemtype` (`API::getItems`), with its
//! paging quirks:
//!
//! - `range=a-b` is inclusive; without it the session's `list_limit` rows are returned
//!   (20 for `glpi`) but `Content-Range` says `0-<list_limit>`, one more than sent;
//! - `206` whenever the (clamped) range is shorter than the total, else `200`; a start
//!   equal to the total is still `206` with `[]` and `Content-Range: <n>-<n-1>/<n>`; a
//!   start past the total is `400 ERROR_RANGE_EXCEED_TOTAL`;
//! - no `Content-Range` at all when nothing matches;
//! - the `User` total counts user × `Profile_User` rows (GLPI's count query keeps the
//!   LEFT JOIN its row query de-duplicates), so a user with two profiles counts twice
//!   and the last pages can come back empty before the total is reached;
//! - `searchText[<not a column>]` (and `searchText[all]`) is an empty `200 text/html`.

use std::borrow::Cow;
use std::collections::HashMap;

use serde_json::Value;
use wiremock::ResponseTemplate;

use super::items::{Itemtype, Record, as_id};
use super::php::{self, TextSearch};
use super::routes::{page_headers, render};
use super::state::{Filter, Session, State, Untouched};
use super::transport::{Call, Failure, json};

/// `getItems`.
pub(super) fn get_items(
    state: &State,
    session: &Session,
    it: Itemtype,
    parent: Option<(Itemtype, i64)>,
    call: &Call,
) -> Result<ResponseTemplate, Failure> {
    let range_param = call.text("range");
    let (start, end) = match &range_param {
        Some(r) => parse_range(r)?,
        None => (0, session.list_limit - 1),
    };
    let order = call
        .text("order")
        .unwrap_or_else(|| "ASC".into())
        .to_ascii_uppercase();
    if order != "ASC" && order != "DESC" {
        return Err(Failure::generic("order must be DESC or ASC"));
    }
    let sort = call.text("sort").unwrap_or_else(|| "id".into());
    if sort != "id" && !super::templates::template(it).contains_key(&sort) {
        let message = format!("sort param is not a field of {}", it.table());
        return Err(Failure::generic(&message));
    }
    let parent_filter = match parent {
        Some((p, pid)) => Some(parent_filter(state, session, p, pid, it)?),
        None => None,
    };
    // `(int)$params['is_deleted']`
    let deleted = call.param("is_deleted").map_or(0, |v| as_id(Some(v)));
    let Some(texts) = search_texts(it, call) else {
        return Ok(ResponseTemplate::new(200).set_body_raw("", "text/html; charset=UTF-8"));
    };
    let keep = |id: i64, row: &Record| {
        (!it.has_trash() || as_id(Some(&State::field(it, row, "is_deleted"))) == deleted)
            && state.visible(session, it, id, row)
            && parent_filter.as_ref().is_none_or(|f| f.keeps(it, row))
            && texts.iter().all(|(field, search)| {
                let value = State::field(it, row, field);
                search.matches(php::scalar(&value).as_deref().filter(|_| !value.is_null()))
            })
    };
    // Rows nobody wrote to are generated users and their links: not deleted, Root entity,
    // one address and one profile link per user.
    let untouched = match (&parent_filter, texts.is_empty()) {
        (_, false) => Untouched::Test,
        (None, true) => Untouched::All(!it.has_trash() || deleted == 0),
        (Some(ParentFilter::Key("users_id", user)), true) => {
            let row = state.table(it).generated_row_of_user(*user);
            row.map_or(Untouched::All(false), Untouched::Only)
        }
        (Some(_), true) => Untouched::Test,
    };
    let len = usize::try_from(end - start + 1).unwrap_or(0);
    let start_at = usize::try_from(start).unwrap_or(usize::MAX);
    let (found, rows) = if sort == "id" && order == "ASC" {
        let filter = Filter {
            keep: &keep,
            untouched,
        };
        state.table(it).window(&filter, start_at, len)
    } else {
        sorted_window(state, it, &keep, &sort, &order, start_at, len)
    };
    let total = if it == Itemtype::User {
        found + user_join_extra(state, &keep)
    } else {
        found
    };
    if start > total as i64 {
        let message = format!("Provided range exceed total count of data: {total}");
        return Err(Failure::doc(400, "ERROR_RANGE_EXCEED_TOTAL", &message));
    }
    let only_id = call.flag("only_id", false);
    let body: Vec<Value> = rows
        .iter()
        .map(|(id, row)| render(state, it, *id, row, call, only_id))
        .collect();
    // APIRest.php: the header range is the *parameter* (or `0-list_limit`), end clamped.
    let (head_start, mut head_end) = match range_param {
        Some(_) => (start, end),
        None => (0, session.list_limit),
    };
    let total = total as i64;
    head_end = head_end.min(total - 1);
    let status = if head_end - head_start + 1 < total {
        206
    } else {
        200
    };
    let content_range = (total > 0).then(|| format!("{head_start}-{head_end}/{total}"));
    Ok(page_headers(
        json(status, &Value::Array(body)),
        it,
        content_range,
    ))
}

/// `range=a-b` (`^[0-9]+-[0-9]+$`).
pub(super) fn parse_range(range: &str) -> Result<(i64, i64), Failure> {
    let bad = || Failure::generic("range must be in format : [start-end] with integers");
    let (a, b) = range.split_once('-').ok_or_else(bad)?;
    let digits = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit());
    if !digits(a) || !digits(b) {
        return Err(bad());
    }
    Ok((php::intval(a), php::intval(b)))
}

/// How the rows of a sub-itemtype are tied to their parent.
enum ParentFilter {
    /// The child has the parent's foreign key (`/User/5/Group_User`).
    Key(&'static str, i64),
    /// The child has `itemtype` + `items_id` (`/Ticket/2/ITILFollowup`).
    Polymorphic(&'static str, i64),
    /// No link GLPI knows without a join the mock does not model: every row.
    None,
}

impl ParentFilter {
    fn keeps(&self, it: Itemtype, row: &Record) -> bool {
        match self {
            ParentFilter::Key(key, id) => as_id(Some(&State::field(it, row, key))) == *id,
            ParentFilter::Polymorphic(name, id) => {
                State::field(it, row, "itemtype").as_str() == Some(name)
                    && as_id(Some(&State::field(it, row, "items_id"))) == *id
            }
            ParentFilter::None => true,
        }
    }
}

fn parent_filter(
    state: &State,
    session: &Session,
    parent: Itemtype,
    parent_id: i64,
    child: Itemtype,
) -> Result<ParentFilter, Failure> {
    let row = state
        .table(parent)
        .get(parent_id)
        .ok_or_else(Failure::not_found)?;
    if !state.visible(session, parent, parent_id, &row) {
        return Err(Failure::right());
    }
    let tmpl = super::templates::template(child);
    Ok(if tmpl.contains_key(parent.foreign_key()) {
        ParentFilter::Key(parent.foreign_key(), parent_id)
    } else if tmpl.contains_key("itemtype") && tmpl.contains_key("items_id") {
        ParentFilter::Polymorphic(parent.name(), parent_id)
    } else {
        ParentFilter::None
    })
}

/// `searchText[field]=text` filters; `None` when a field is not a column: GLPI then
/// builds broken SQL and PHP dies, so the real answer is an empty `200 text/html`
/// (`searchText[all]` too, as GLPI 10.0.11 leaves the `all` key in the query).
fn search_texts(it: Itemtype, call: &Call) -> Option<Vec<(String, TextSearch)>> {
    let Some(Value::Object(map)) = call.param("searchText") else {
        return Some(Vec::new());
    };
    let columns = super::templates::template(it);
    let mut texts = Vec::new();
    for (field, value) in map {
        let Some(value) = php::scalar(value).filter(|v| php::truthy(&Value::String(v.clone())))
        else {
            continue;
        };
        if field != "id" && !columns.contains_key(field) {
            return None;
        }
        texts.push((field.clone(), TextSearch::new(&value)));
    }
    Some(texts)
}

/// Every kept row, sorted by `sort` (MySQL order: NULL first, text case-insensitive).
fn sorted_window<'s>(
    state: &'s State,
    it: Itemtype,
    keep: &dyn Fn(i64, &Record) -> bool,
    sort: &str,
    order: &str,
    start: usize,
    len: usize,
) -> (usize, Vec<(i64, Cow<'s, Record>)>) {
    let mut rows: Vec<(i64, Cow<'s, Record>)> = state
        .table(it)
        .iter()
        .filter(|(id, r)| keep(*id, r))
        .collect();
    rows.sort_by(|(a_id, a), (b_id, b)| {
        let key = |id: i64, r: &Record| {
            if sort == "id" {
                Value::from(id)
            } else {
                State::field(it, r, sort)
            }
        };
        let ordering = compare(&key(*a_id, a), &key(*b_id, b)).then(a_id.cmp(b_id));
        if order == "DESC" {
            ordering.reverse()
        } else {
            ordering
        }
    });
    let total = rows.len();
    let page = rows.into_iter().skip(start).take(len).collect();
    (total, page)
}

/// SQL-ish ordering of two column values.
pub(super) fn compare(a: &Value, b: &Value) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    match (a, b) {
        (Value::Null, Value::Null) => Ordering::Equal,
        (Value::Null, _) => Ordering::Less,
        (_, Value::Null) => Ordering::Greater,
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap_or(0.0), y.as_f64().unwrap_or(0.0));
            x.partial_cmp(&y).unwrap_or(Ordering::Equal)
        }
        _ => {
            let text = |v: &Value| php::scalar(v).unwrap_or_default().to_lowercase();
            text(a).cmp(&text(b))
        }
    }
}

/// Rows the `User` count query adds through its LEFT JOIN on `glpi_profiles_users`: a
/// kept user with `k > 1` profile links adds `k - 1`.
fn user_join_extra(state: &State, keep: &dyn Fn(i64, &Record) -> bool) -> usize {
    let links = state.table(Itemtype::ProfileUser);
    let mut explicit: HashMap<i64, usize> = HashMap::new();
    for (_, row) in links
        .stored()
        .chain(links.overlay().filter_map(|(i, r)| Some((i, r?))))
    {
        *explicit.entry(as_id(row.get("users_id"))).or_default() += 1;
    }
    let users = state.table(Itemtype::User);
    explicit
        .into_iter()
        .filter_map(|(user, count)| {
            let row = users.get(user)?;
            // A generated user's own (virtual) link counts too while nobody wrote to it.
            let implicit = state
                .rows_with(Itemtype::ProfileUser, "users_id", user)
                .iter()
                .filter(|(id, _)| links.is_untouched(*id))
                .count();
            keep(user, &row).then(|| (count + implicit).saturating_sub(1))
        })
        .sum()
}
