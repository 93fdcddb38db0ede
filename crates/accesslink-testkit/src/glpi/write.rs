//! Adding rows, with the rules and side effects GLPI 10.0.11 applies (observed on the
//! real server, read in its `src/`); [`super::edit`] updates and deletes them.

use serde_json::{Map, Value, json};

use super::edit::{apply_status, priority};
use super::items::{Itemtype, Record, as_id, coerce};
use super::php;
use super::state::{Session, State};
use super::templates::template;

/// The message of every refused right check.
pub(super) const DENIED: &str = "You don't have permission to perform this action.";
/// `ERROR_GLPI_UPDATE`/`_DELETE` message for an unknown id in a batch.
pub(super) const NOT_FOUND: &str = "Item not found";

/// What happened to one row of an update or delete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Outcome {
    /// No such row (or not in the session's entities for a delete/update).
    NotFound,
    /// The session may not touch it.
    Denied,
    /// Done (or refused by the item's own checks when `false`), with GLPI's message.
    Done(bool, String),
}

/// Status values of tickets and changes (`CommonITILObject`).
pub(super) const SOLVED: i64 = 5;
/// Closed.
pub(super) const CLOSED: i64 = 6;

impl State {
    /// `POST /:itemtype` for one input object: the new id and message, or the message of
    /// `ERROR_GLPI_ADD`.
    pub(super) fn add(
        &mut self,
        it: Itemtype,
        input: &Map<String, Value>,
        who: &Session,
    ) -> Result<(i64, String), String> {
        let tmpl = template(it);
        let mut row = Record::new();
        for (key, value) in input {
            if key == "id" || key.starts_with('_') {
                continue;
            }
            if let Some(stored) = tmpl.get(key).and_then(|d| coerce(d, value)) {
                row.insert(key.clone(), stored);
            }
        }
        // GLPI adds the active entity when the input names none.
        if tmpl.contains_key("entities_id") && !row.contains_key("entities_id") {
            row.insert("entities_id".into(), 0.into());
        }
        if it.entity_scoped() && it != Itemtype::Entity {
            let entity = as_id(row.get("entities_id"));
            if !who.entities.contains(&entity) {
                return Err(DENIED.into());
            }
        }
        let now = php::now();
        match it {
            Itemtype::Ticket | Itemtype::Change => self.prepare_itil(it, &mut row, who, &now),
            Itemtype::ITILFollowup => self.prepare_followup(&row, who)?,
            Itemtype::TicketValidation | Itemtype::ChangeValidation => {
                self.prepare_validation(it, &mut row, who, &now)?;
            }
            Itemtype::User => self.prepare_user(&mut row, input)?,
            Itemtype::UserEmail => self.prepare_email(&mut row)?,
            Itemtype::Group => self.prepare_tree(it, &mut row, "groups_id", who)?,
            Itemtype::Entity => self.prepare_tree(it, &mut row, "entities_id", who)?,
            Itemtype::GroupUser => self.prepare_membership(&row)?,
            Itemtype::ProfileUser => self.prepare_profile_link(&row, who)?,
            Itemtype::Profile => {}
        }
        for key in ["date_creation", "date_mod"] {
            if tmpl.contains_key(key) {
                row.insert(key.into(), now.clone().into());
            }
        }
        let name = row
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        let id = self.table_mut(it).insert(row);
        let message = match it {
            Itemtype::Ticket | Itemtype::Change if name.is_empty() => {
                format!("Item successfully added: {} - ID {id} ({id})", it.name())
            }
            Itemtype::Ticket | Itemtype::Change => {
                format!("Item successfully added: {name} ({id})")
            }
            Itemtype::GroupUser => format!("Item successfully added: General - ID {id}"),
            Itemtype::Group | Itemtype::Entity | Itemtype::Profile => {
                format!("Item successfully added: {name}")
            }
            Itemtype::User => format!("Item successfully added: {}", self.display_name(id)),
            _ => String::new(),
        };
        self.after_add(it, id, input, who, &now);
        Ok((id, message))
    }

    fn prepare_itil(&self, it: Itemtype, row: &mut Record, who: &Session, now: &str) {
        let name = row
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .trim_start()
            .to_owned();
        let name = if name.is_empty() {
            // No title: the first 70 characters of the description's text.
            let content = row.get("content").and_then(Value::as_str).unwrap_or("");
            php::sanitize(&text_title(&php::unsanitize(content)))
        } else {
            name
        };
        row.insert("name".into(), name.into());
        for key in ["users_id_recipient", "users_id_lastupdater"] {
            row.insert(key.into(), who.user_id.into());
        }
        if row.get("date").is_none_or(Value::is_null) {
            row.insert("date".into(), now.into());
        }
        if !row.contains_key("priority") {
            let urgency = as_id(Some(&State::field(it, row, "urgency")));
            let impact = as_id(Some(&State::field(it, row, "impact")));
            row.insert("priority".into(), priority(urgency, impact).into());
        }
        let status = as_id(Some(&State::field(it, row, "status")));
        apply_status(it, row, status, now);
    }

    /// A follow-up needs a Ticket or Change the session can see.
    fn prepare_followup(&self, row: &Record, who: &Session) -> Result<(), String> {
        let parent = row.get("itemtype").and_then(Value::as_str);
        let parent = parent.and_then(Itemtype::from_name);
        let parent = parent.filter(|p| matches!(p, Itemtype::Ticket | Itemtype::Change));
        let id = as_id(row.get("items_id"));
        match parent.and_then(|p| Some((p, self.table(p).get(id)?))) {
            Some((p, found)) if self.visible(who, p, id, &found) => Ok(()),
            _ => Err(DENIED.into()),
        }
    }

    fn prepare_validation(
        &self,
        it: Itemtype,
        row: &mut Record,
        who: &Session,
        now: &str,
    ) -> Result<(), String> {
        let Some((parent, key)) = it.validation_parent() else {
            return Err(DENIED.into());
        };
        // No approver or no such ticket: GLPI refuses with an empty message.
        let id = as_id(row.get(key));
        let found = self.table(parent).get(id).ok_or_else(String::new)?;
        if as_id(row.get("users_id_validate")) <= 0 {
            return Err(String::new());
        }
        if !self.visible(who, parent, id, &found) {
            return Err(DENIED.into());
        }
        let entity = as_id(found.get("entities_id"));
        row.insert("entities_id".into(), entity.into());
        row.insert("users_id".into(), who.user_id.into());
        row.insert("submission_date".into(), now.into());
        Ok(())
    }

    fn prepare_user(&self, row: &mut Record, input: &Map<String, Value>) -> Result<(), String> {
        let name = row
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .trim()
            .to_owned();
        if !valid_login(&php::unsanitize(&name)) {
            return Err("The login is not valid. Unable to add the user.".into());
        }
        if self.user_id_by_login(&name).is_some() {
            return Err("Unable to add. The user already exists.".into());
        }
        row.insert("name".into(), name.into());
        if let (Some(p1), Some(p2)) = (input.get("password"), input.get("password2")) {
            if p1 != p2 {
                return Err("Error: the two passwords do not match".into());
            }
            row.insert("password_last_update".into(), php::now().into());
        }
        Ok(())
    }

    fn prepare_email(&mut self, row: &mut Record) -> Result<(), String> {
        let user = as_id(row.get("users_id"));
        if !self.table(Itemtype::User).contains(user) {
            return Err(DENIED.into());
        }
        let emails = self.rows_with(Itemtype::UserEmail, "users_id", user);
        if as_id(row.get("is_default")) == 1 {
            self.clear_default_emails(user, None);
        } else {
            let has_default = emails.iter().any(|(_, e)| as_id(e.get("is_default")) == 1);
            row.insert("is_default".into(), i64::from(!has_default).into());
        }
        Ok(())
    }

    /// Sets `is_default = 0` on every address of `user` but `keep`.
    pub(super) fn clear_default_emails(&mut self, user: i64, keep: Option<i64>) {
        for (id, mut email) in self.rows_with(Itemtype::UserEmail, "users_id", user) {
            if Some(id) != keep && as_id(email.get("is_default")) == 1 {
                email.insert("is_default".into(), 0.into());
                self.table_mut(Itemtype::UserEmail).put(id, email);
            }
        }
    }

    /// Groups and entities: `completename` is the parent's plus ` > name`.
    fn prepare_tree(
        &self,
        it: Itemtype,
        row: &mut Record,
        parent_key: &str,
        who: &Session,
    ) -> Result<(), String> {
        let parent_id = as_id(row.get(parent_key));
        let name = row
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        if it == Itemtype::Group && parent_id == 0 {
            row.insert("completename".into(), name.into());
            return Ok(());
        }
        let parent = self
            .table(it)
            .get(parent_id)
            .ok_or_else(|| DENIED.to_owned())?;
        if it == Itemtype::Entity && !who.entities.contains(&parent_id) {
            return Err(DENIED.into());
        }
        let complete = State::field(it, &parent, "completename");
        let complete = format!("{} > {name}", complete.as_str().unwrap_or(""));
        let level = as_id(Some(&State::field(it, &parent, "level"))) + 1;
        let mut ancestors = self.ancestors(it, parent_key, parent_id);
        ancestors.push(parent_id);
        row.insert("completename".into(), complete.into());
        row.insert("level".into(), level.into());
        row.insert("ancestors_cache".into(), php_id_map(&ancestors).into());
        Ok(())
    }

    /// Ids above `id` in its tree, root first.
    fn ancestors(&self, it: Itemtype, parent_key: &str, id: i64) -> Vec<i64> {
        let mut chain = Vec::new();
        let mut current = id;
        let table = self.table(it);
        while let Some(parent) = table.get(current).and_then(|r| r.get(parent_key)?.as_i64()) {
            let top = it == Itemtype::Group && parent == 0;
            if top || parent == current || chain.contains(&parent) {
                break;
            }
            chain.insert(0, parent);
            current = parent;
        }
        chain
    }

    fn prepare_membership(&self, row: &Record) -> Result<(), String> {
        let (user, group) = (as_id(row.get("users_id")), as_id(row.get("groups_id")));
        if !self.table(Itemtype::User).contains(user)
            || !self.table(Itemtype::Group).contains(group)
        {
            return Err(DENIED.into());
        }
        let existing = self.rows_with(Itemtype::GroupUser, "users_id", user);
        if existing
            .iter()
            .any(|(_, r)| as_id(r.get("groups_id")) == group)
        {
            return Err(format!(
                "Duplicate entry '{user}-{group}' for key 'unicity'"
            ));
        }
        Ok(())
    }

    fn prepare_profile_link(&self, row: &Record, who: &Session) -> Result<(), String> {
        let user = as_id(row.get("users_id"));
        let profile = as_id(row.get("profiles_id"));
        let entity = as_id(row.get("entities_id"));
        let ok = self.table(Itemtype::User).contains(user)
            && self.table(Itemtype::Profile).contains(profile)
            && who.entities.contains(&entity);
        if ok { Ok(()) } else { Err(DENIED.into()) }
    }

    fn after_add(
        &mut self,
        it: Itemtype,
        id: i64,
        input: &Map<String, Value>,
        who: &Session,
        now: &str,
    ) {
        match it {
            Itemtype::ITILFollowup => {
                let Some(row) = self.table(it).get(id).map(|r| r.into_owned()) else {
                    return;
                };
                let parent = row.get("itemtype").and_then(Value::as_str);
                let items_id = as_id(row.get("items_id"));
                if parent == Some("Ticket") {
                    self.touch(Itemtype::Ticket, items_id, |t| {
                        if t.get("takeintoaccountdate").is_none_or(Value::is_null) {
                            t.insert("takeintoaccountdate".into(), now.into());
                        }
                    });
                }
                let mut row = row;
                row.insert("date".into(), now.into());
                row.insert("users_id".into(), who.user_id.into());
                self.table_mut(it).put(id, row);
            }
            Itemtype::TicketValidation | Itemtype::ChangeValidation => {
                self.recompute_validation(it, id)
            }
            Itemtype::User => self.after_add_user(id, input),
            _ => {}
        }
    }

    fn after_add_user(&mut self, id: i64, input: &Map<String, Value>) {
        let password = match (input.get("password"), input.get("password2")) {
            (Some(Value::String(p)), Some(_)) => Some(p.clone()),
            _ => None,
        };
        self.secrets.entry(id).or_default().password = password;
        let default_index = input.get("_default_email").and_then(php::scalar);
        if let Some(emails) = input.get("_useremails") {
            let entries: Vec<(String, &Value)> = match emails {
                Value::Array(list) => list
                    .iter()
                    .enumerate()
                    .map(|(i, v)| (i.to_string(), v))
                    .collect(),
                Value::Object(map) => map.iter().map(|(k, v)| (k.clone(), v)).collect(),
                _ => Vec::new(),
            };
            for (index, email) in entries {
                let Some(email) = email.as_str().map(str::trim).filter(|e| !e.is_empty()) else {
                    continue;
                };
                let is_default = i64::from(default_index.as_deref() == Some(index.as_str()));
                let mut row = Record::new();
                row.insert("users_id".into(), id.into());
                row.insert("email".into(), php::sanitize(email).into());
                row.insert("is_default".into(), is_default.into());
                if self.prepare_email(&mut row).is_ok() {
                    self.table_mut(Itemtype::UserEmail).insert(row);
                }
            }
        }
        // The default authorization rule gives Self-Service on the Root entity, unless the
        // input names a profile.
        let profile = input
            .get("_profiles_id")
            .map(|v| as_id(Some(v)))
            .unwrap_or(0);
        let link = if profile > 0 {
            json!({"users_id": id, "profiles_id": profile,
                   "entities_id": input.get("_entities_id").map_or(0, |v| as_id(Some(v))),
                   "is_recursive": input.get("_is_recursive").map_or(0, |v| as_id(Some(v)))})
        } else {
            json!({"users_id": id, "profiles_id": 1, "entities_id": 0, "is_recursive": 0,
                   "is_dynamic": 1, "is_default_profile": 1})
        };
        if let Value::Object(link) = link {
            self.table_mut(Itemtype::ProfileUser).insert(link);
        }
    }

    /// `formatUserName` of a stored user.
    pub(super) fn display_name(&self, id: i64) -> String {
        let Some(user) = self.table(Itemtype::User).get(id) else {
            return String::new();
        };
        let text = |k: &str| user.get(k).and_then(Value::as_str).map(str::to_owned);
        php::user_display_name(
            &text("name").unwrap_or_default(),
            text("realname").as_deref(),
            text("firstname").as_deref(),
        )
    }

    /// Applies `f` to a stored row, if it exists.
    pub(super) fn touch(&mut self, it: Itemtype, id: i64, f: impl FnOnce(&mut Record)) -> bool {
        let Some(mut row) = self.table(it).get(id).map(|r| r.into_owned()) else {
            return false;
        };
        f(&mut row);
        self.table_mut(it).put(id, row);
        true
    }
}

/// `json_encode` of the PHP array `[id => id, …]`: a list when the ids are `0, 1, …`
/// (`[0]` under the Root entity), an object otherwise (`{"110":110}`).
fn php_id_map(ids: &[i64]) -> String {
    let sequential = ids.iter().enumerate().all(|(i, id)| i as i64 == *id);
    let items: Vec<String> = ids
        .iter()
        .map(|id| {
            if sequential {
                id.to_string()
            } else {
                format!("\"{id}\":{id}")
            }
        })
        .collect();
    if sequential {
        format!("[{}]", items.join(","))
    } else {
        format!("{{{}}}", items.join(","))
    }
}

/// `Auth::isValidLogin`: letters, digits, `'@.-_` and spaces, or an e-mail address.
pub(super) fn valid_login(login: &str) -> bool {
    let plain = !login.is_empty()
        && login
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '\'' | '@' | '.' | '-' | '_' | ' '));
    let email = login.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty() && domain.contains('.') && !login.contains(char::is_whitespace)
    });
    plain || email
}

/// A ticket title from its description: tags dropped, runs of whitespace folded, 70
/// characters kept.
fn text_title(content: &str) -> String {
    let mut text = String::new();
    let mut in_tag = false;
    for c in content.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            _ if !in_tag => text.push(c),
            _ => {}
        }
    }
    let mut folded = String::new();
    let mut blanks = 0;
    for c in text.trim().chars() {
        if c.is_whitespace() {
            blanks += 1;
            if blanks == 2 {
                folded.pop();
                folded.push(' ');
                continue;
            }
            if blanks > 2 {
                continue;
            }
        } else {
            blanks = 0;
        }
        folded.push(c);
    }
    folded.chars().take(70).collect()
}
