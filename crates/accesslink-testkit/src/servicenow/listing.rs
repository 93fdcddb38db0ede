//! Selecting a page of rows for a list call: filter, order, offset and limit, and the
//! total count. ACL-hidden rows are still in the page here; the route drops them after
//! the limit, as the instance does (fact sheet §1 "Query parameters": limit applied before
//! ACL filtering).
//!
//! `sys_user` with generated users takes a fast path when the query is one group ordered
//! by `sys_id` (or the default order): `sys_id` bounds become an index range found by
//! binary search, so a keyset page costs its own size, not the table's.

use std::borrow::Cow;
use std::cmp::Ordering;

use super::query::{Cond, Op, Query, group_matches};
use super::state::{Row, SYNTH_CREATED, State, Synthetic, text};

/// One page before ACL filtering.
#[derive(Debug)]
pub(crate) struct Page {
    /// Rows matching the query (hidden ones included); `None` when not counted.
    pub(crate) total: Option<usize>,
    /// The rows at `offset..offset+limit` in order.
    pub(crate) rows: Vec<Row>,
    /// Whether rows follow the page.
    pub(crate) more: bool,
}

/// The page of `table` at `offset` of at most `limit` rows. `count` asks for the total
/// (it may cost a scan for generated users when the query is not on `sys_id` alone).
pub(crate) fn select(
    state: &State,
    table: &str,
    q: &Query,
    offset: usize,
    limit: usize,
    count: bool,
) -> Page {
    if table == "sys_user" && q.groups.len() == 1 {
        if let (Some(synth), Some(by_id)) = (&state.synthetic, q.by_sys_id()) {
            return select_generated(state, synth, q, by_id, offset, limit, count);
        }
    }
    let mut rows: Vec<Cow<'_, Row>> = state
        .scan(table)
        .filter(|r| state.unfiltered || q.matches(r))
        .collect();
    rows.sort_by(|a, b| q.compare(a, b));
    let total = rows.len();
    let end = offset.saturating_add(limit).min(total);
    let page = rows
        .get(offset.min(total)..end)
        .unwrap_or_default()
        .iter()
        .map(|r| r.clone().into_owned())
        .collect();
    Page {
        total: count.then_some(total),
        rows: page,
        more: total > offset.saturating_add(limit),
    }
}

/// The index range `lo..hi` of generated users the `sys_id` bounds of `group` allow, and
/// the clauses left to check row by row.
fn bounds(synth: &Synthetic, group: &[Vec<Cond>]) -> (usize, usize, Vec<Vec<Cond>>) {
    let (mut lo, mut hi) = (0, synth.people.len());
    let mut residual = Vec::new();
    for clause in group {
        match clause.as_slice() {
            // A login names one generated user (its number ends it): a lookup by
            // `user_name` costs one row, not the table.
            [c] if c.field == "user_name" && c.op == Op::Eq => {
                // Generated logins are lower-case.
                let login = if c.fold_case {
                    c.value.to_ascii_lowercase()
                } else {
                    c.value.clone()
                };
                match synth.index_of_login(&login) {
                    Some(i) => {
                        lo = lo.max(i);
                        hi = hi.min(i + 1);
                    }
                    None => hi = lo,
                }
                residual.push(clause.clone());
            }
            [c] if c.field == "sys_id" => {
                // sys_ids are lower-case hex, so a folded equality is a lower-case one.
                let folded = c.value.to_ascii_lowercase();
                let v = if c.fold_case && c.op == Op::Eq {
                    folded.as_str()
                } else {
                    c.value.as_str()
                };
                match c.op {
                    Op::Gt => lo = lo.max(synth.lower(v, true)),
                    Op::Ge => lo = lo.max(synth.lower(v, false)),
                    Op::Lt => hi = hi.min(synth.lower(v, false)),
                    Op::Le => hi = hi.min(synth.lower(v, true)),
                    Op::Eq => {
                        lo = lo.max(synth.lower(v, false));
                        hi = hi.min(synth.lower(v, true));
                    }
                    _ => residual.push(clause.clone()),
                }
            }
            _ => residual.push(clause.clone()),
        }
    }
    (lo, hi.max(lo), residual)
}

fn select_generated(
    state: &State,
    synth: &Synthetic,
    q: &Query,
    by_id: bool,
    offset: usize,
    limit: usize,
    count: bool,
) -> Page {
    let group = &q.groups[0];
    let (lo, hi, residual) = bounds(synth, group);
    // Stored rows (created at run time, or generated ones since edited): few, sorted here.
    let mut stored: Vec<&Row> = state
        .map("sys_user")
        .into_iter()
        .flat_map(|m| m.values())
        .filter(|r| group_matches(group, r))
        .collect();
    stored.sort_by(|a, b| q.compare(a, b));
    let key = |created: &str, id: &str| -> (String, String) {
        let created = if by_id { "" } else { created };
        (created.to_owned(), id.to_owned())
    };
    // Generated users in the range that are still generated and pass the other clauses;
    // a row is built only when a clause needs it.
    let next_generated = |cursor: &mut usize| -> Option<(usize, Option<Row>)> {
        while *cursor < hi {
            let i = *cursor;
            *cursor += 1;
            if !synth.live(i) {
                continue;
            }
            if residual.is_empty() {
                return Some((i, None));
            }
            let row = synth.row(i)?;
            if group_matches(&residual, &row) {
                return Some((i, Some(row)));
            }
        }
        None
    };
    let end = offset.saturating_add(limit);
    let (mut cursor, mut m, mut pos) = (lo, 0, 0);
    let mut pending = next_generated(&mut cursor);
    let mut rows = Vec::new();
    while pos < end {
        let take_generated = match (&pending, stored.get(m)) {
            (None, None) => break,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (Some((i, _)), Some(r)) => {
                let g = key(SYNTH_CREATED, &Synthetic::sys_id(*i));
                let s = key(text(r, "sys_created_on"), text(r, "sys_id"));
                g.cmp(&s) != Ordering::Greater
            }
        };
        if take_generated {
            let (i, row) = pending.take().unwrap_or_default();
            if pos >= offset {
                rows.extend(row.or_else(|| synth.row(i)));
            }
            pending = next_generated(&mut cursor);
        } else {
            if pos >= offset {
                rows.push(stored[m].clone());
            }
            m += 1;
        }
        pos += 1;
    }
    let total = count.then(|| {
        let generated = if residual.is_empty() {
            let shadowed = synth.shadowed.iter().filter(|i| (lo..hi).contains(*i));
            hi - lo - shadowed.count()
        } else {
            let mut c = lo;
            std::iter::from_fn(|| next_generated(&mut c)).count()
        };
        generated + stored.len()
    });
    let more = match total {
        Some(t) => t > end,
        None => pending.is_some() || m < stored.len(),
    };
    Page { total, rows, more }
}
