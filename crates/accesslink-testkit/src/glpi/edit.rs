//! Updating, trashing and purging rows, with the side effects GLPI 10.0.11 applies:
//! status dates, priorities, approvals, cascades.

use serde_json::{Map, Value};

use super::items::{Itemtype, Record, as_id, coerce};
use super::php;
use super::state::{Session, State};
use super::templates::template;
use super::write::{CLOSED, Outcome, SOLVED};

impl State {
    /// `PUT /:itemtype/:id` for one input object (its `id` already resolved).
    pub(super) fn update(
        &mut self,
        it: Itemtype,
        id: i64,
        input: &Map<String, Value>,
        who: &Session,
    ) -> Outcome {
        let Some(old) = self.table(it).get(id).map(|r| r.into_owned()) else {
            return Outcome::NotFound;
        };
        if !self.visible(who, it, id, &old) {
            return Outcome::Denied;
        }
        let tmpl = template(it);
        let mut row = old.clone();
        for (key, value) in input {
            if key == "id" || key.starts_with('_') {
                continue;
            }
            if let Some(stored) = tmpl.get(key).and_then(|d| coerce(d, value)) {
                row.insert(key.clone(), stored);
            }
        }
        let now = php::now();
        let mut message = String::new();
        match it {
            Itemtype::Ticket | Itemtype::Change => {
                row.insert("users_id_lastupdater".into(), who.user_id.into());
                let urgency_or_impact =
                    input.contains_key("urgency") || input.contains_key("impact");
                if urgency_or_impact && !input.contains_key("priority") {
                    let u = as_id(Some(&State::field(it, &row, "urgency")));
                    let i = as_id(Some(&State::field(it, &row, "impact")));
                    row.insert("priority".into(), priority(u, i).into());
                }
                let (before, after) = (
                    State::field(it, &old, "status"),
                    State::field(it, &row, "status"),
                );
                if before != after {
                    apply_status(it, &mut row, as_id(Some(&after)), &now);
                }
            }
            Itemtype::TicketValidation | Itemtype::ChangeValidation => {
                let validator = as_id(row.get("users_id_validate"));
                if input.contains_key("status") && validator == who.user_id {
                    row.insert("validation_date".into(), now.clone().into());
                }
            }
            Itemtype::User => {
                let name = row
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned();
                let taken = self
                    .user_id_by_login(&name)
                    .is_some_and(|other| other != id);
                if taken {
                    row.insert("name".into(), State::field(it, &old, "name"));
                    message = "Unable to update login. A user already exists.".into();
                }
                match (input.get("password"), input.get("password2")) {
                    (Some(p1), Some(p2)) if p1 != p2 => {
                        return Outcome::Done(
                            false,
                            "Error: the two passwords do not match".into(),
                        );
                    }
                    (Some(Value::String(p)), Some(_)) => {
                        self.secrets.entry(id).or_default().password = Some(p.clone());
                        row.insert("password_last_update".into(), now.clone().into());
                    }
                    _ => {}
                }
            }
            Itemtype::UserEmail if as_id(row.get("is_default")) == 1 => {
                self.clear_default_emails(as_id(row.get("users_id")), Some(id));
            }
            _ => {}
        }
        if tmpl.contains_key("date_mod") {
            row.insert("date_mod".into(), now.into());
        }
        self.table_mut(it).put(id, row);
        if it.validation_parent().is_some() {
            self.recompute_validation(it, id);
        }
        Outcome::Done(true, message)
    }

    /// `DELETE /:itemtype/:id`: to the trash, or purged with `force_purge` (always for
    /// itemtypes without a trash), with GLPI's cascades.
    pub(super) fn delete(
        &mut self,
        it: Itemtype,
        id: i64,
        force_purge: bool,
        who: &Session,
    ) -> Outcome {
        let Some(row) = self.table(it).get(id).map(|r| r.into_owned()) else {
            return Outcome::NotFound;
        };
        if !self.visible(who, it, id, &row) || it == Itemtype::Entity && id == 0 {
            return Outcome::Denied;
        }
        if !force_purge && it.has_trash() {
            self.touch(it, id, |r| {
                r.insert("is_deleted".into(), 1.into());
            });
            return Outcome::Done(true, String::new());
        }
        self.purge_row(it, id);
        Outcome::Done(true, String::new())
    }

    /// Removes a row and what GLPI removes with it; `false` when there was no row.
    pub(super) fn purge_row(&mut self, it: Itemtype, id: i64) -> bool {
        let parent = it.validation_parent().and_then(|(p, key)| {
            let row = self.table(it).get(id)?;
            Some((p, as_id(row.get(key))))
        });
        if !self.table_mut(it).remove(id) {
            return false;
        }
        let children: &[(Itemtype, &str)] = match it {
            Itemtype::User => &[
                (Itemtype::UserEmail, "users_id"),
                (Itemtype::GroupUser, "users_id"),
                (Itemtype::ProfileUser, "users_id"),
            ],
            Itemtype::Group => &[(Itemtype::GroupUser, "groups_id")],
            Itemtype::Profile => &[(Itemtype::ProfileUser, "profiles_id")],
            Itemtype::Ticket => &[(Itemtype::TicketValidation, "tickets_id")],
            Itemtype::Change => &[(Itemtype::ChangeValidation, "changes_id")],
            _ => &[],
        };
        for (child, key) in children {
            for (child_id, _) in self.rows_with(*child, key, id) {
                self.table_mut(*child).remove(child_id);
            }
        }
        if matches!(it, Itemtype::Ticket | Itemtype::Change) {
            for (fid, row) in self.rows_with(Itemtype::ITILFollowup, "items_id", id) {
                if row.get("itemtype").and_then(Value::as_str) == Some(it.name()) {
                    self.table_mut(Itemtype::ITILFollowup).remove(fid);
                }
            }
        }
        if it == Itemtype::User {
            self.secrets.remove(&id);
        }
        if let Some((parent_it, parent_id)) = parent {
            self.set_global_validation(parent_it, parent_id);
        }
        true
    }

    /// Recomputes `global_validation` of the ticket or change validation `id` belongs to.
    pub(super) fn recompute_validation(&mut self, it: Itemtype, id: i64) {
        let Some((parent, key)) = it.validation_parent() else {
            return;
        };
        let Some(row) = self.table(it).get(id) else {
            return;
        };
        let parent_id = as_id(row.get(key));
        self.set_global_validation(parent, parent_id);
    }

    /// `CommonITILValidation::computeValidationStatus`: with `validation_percent` 0 one
    /// approval (else one refusal) decides; otherwise the accepted share must reach it.
    fn set_global_validation(&mut self, parent: Itemtype, parent_id: i64) {
        let child = match parent {
            Itemtype::Ticket => Itemtype::TicketValidation,
            _ => Itemtype::ChangeValidation,
        };
        let statuses: Vec<i64> = self
            .rows_with(child, parent.foreign_key(), parent_id)
            .iter()
            .map(|(_, r)| as_id(Some(&State::field(child, r, "status"))))
            .collect();
        let Some(row) = self.table(parent).get(parent_id) else {
            return;
        };
        let percent = as_id(Some(&State::field(parent, &row, "validation_percent")));
        let global = global_validation(&statuses, percent);
        self.touch(parent, parent_id, |r| {
            r.insert("global_validation".into(), global.into());
        });
    }
}

/// `computeValidation` over the statuses of an item's validations (1 none, 2 waiting,
/// 3 accepted, 4 refused).
pub(super) fn global_validation(statuses: &[i64], percent: i64) -> i64 {
    if statuses.is_empty() {
        return 1;
    }
    let total = statuses.len() as f64;
    let share = |s: i64| {
        (statuses.iter().filter(|x| **x == s).count() as f64 * 100.0 / total).round() as i64
    };
    let (accepted, refused) = (share(3), share(4));
    if percent > 0 {
        if accepted >= percent {
            return 3;
        }
        if refused + percent > 100 {
            return 4;
        }
    } else if accepted > 0 {
        return 3;
    } else if refused > 0 {
        return 4;
    }
    2
}

/// The default `priority_matrix` of a fresh install, `[urgency][impact]`.
pub(super) fn priority(urgency: i64, impact: i64) -> i64 {
    const MATRIX: [[i64; 5]; 5] = [
        [1, 1, 2, 2, 2],
        [1, 2, 2, 3, 3],
        [2, 2, 3, 4, 4],
        [2, 3, 4, 4, 5],
        [2, 3, 4, 5, 5],
    ];
    let (u, i) = (urgency - 1, impact - 1);
    if (0..5).contains(&u) && (0..5).contains(&i) {
        MATRIX[u as usize][i as usize]
    } else {
        ((urgency + impact) as f64 / 2.0).round() as i64
    }
}

/// Dates GLPI sets when a ticket or change reaches `status`: solved fills `solvedate`,
/// closed fills `closedate` (and `solvedate` if empty), reopening clears both; pending
/// starts `begin_waiting_date`; a ticket taken into account gets `takeintoaccountdate`.
pub(super) fn apply_status(it: Itemtype, row: &mut Record, status: i64, now: &str) {
    let mut set = |key: &str, value: Value| {
        row.insert(key.into(), value);
    };
    match status {
        SOLVED => set("solvedate", now.into()),
        CLOSED => {
            set("closedate", now.into());
            if row.get("solvedate").is_none_or(Value::is_null) {
                row.insert("solvedate".into(), now.into());
            }
        }
        1..=4 => {
            set("solvedate", Value::Null);
            set("closedate", Value::Null);
            let waiting = if status == 4 {
                Value::from(now)
            } else {
                Value::Null
            };
            set("begin_waiting_date", waiting);
        }
        _ => {}
    }
    if it == Itemtype::Ticket
        && matches!(status, 2 | 3)
        && row.get("takeintoaccountdate").is_none_or(Value::is_null)
    {
        row.insert("takeintoaccountdate".into(), now.into());
    }
}
