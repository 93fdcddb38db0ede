//! The mock's data: users (generated on demand, then written), teams with members,
//! custom user roles, API keys.

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, SystemTime};

use serde_json::{Map, Value, json};

use crate::data::{Person, SyntheticPeople};

/// Built-in global roles: not listed by `GET /v2/roles`, assignable by name (any case).
pub(crate) const BUILT_IN_ROLES: [&str; 5] = ["Owner", "Admin", "User", "Observer", "Stakeholder"];

/// What an API key may do (the "access rights" of an API integration).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyAccess {
    /// Read and write: "Read", "Create and update", "Delete" and "Configuration access".
    Full,
    /// Reads only: writes answer `403`.
    ReadOnly,
    /// No "Configuration access": user, team and role endpoints answer `403`.
    NoConfiguration,
}

/// A user record as OpsGenie stores it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct User {
    pub id: String,
    pub username: String,
    pub full_name: String,
    /// The role's name as assigned (`Admin`, `User`, or a custom role's name).
    pub role: String,
    pub blocked: bool,
    pub verified: bool,
    pub time_zone: String,
    pub locale: String,
    pub skype_username: Option<String>,
    pub user_address: Map<String, Value>,
    pub tags: Vec<String>,
    pub details: Map<String, Value>,
    pub created_at: String,
    pub invitation_disabled: bool,
}

/// Where a user lives: a generated index (possibly rewritten) or a created record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Key {
    Generated(usize),
    Created(u64),
}

/// A team with its members `(user id, team role)`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Team {
    pub id: String,
    pub name: String,
    pub description: String,
    pub members: Vec<(String, String)>,
}

/// A custom user role.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Role {
    pub id: String,
    pub name: String,
    pub extended_role: String,
    pub granted_rights: Vec<String>,
    pub disallowed_rights: Vec<String>,
}

/// Everything the mock knows.
#[derive(Debug)]
pub(crate) struct State {
    /// Added to the users' `totalCount` (`AccountBackend::inflate_reported_total`).
    pub(crate) total_bias: usize,
    people: SyntheticPeople,
    /// Seed-derived first group of generated ids.
    prefix: u32,
    /// Generated users rewritten by a write (kept in their place in the listing).
    rewritten: HashMap<usize, User>,
    /// Generated users deleted.
    deleted: BTreeSet<usize>,
    /// Users created through the API or by seeding, in creation order.
    created: Vec<(u64, User)>,
    /// Lower-case username → key, for rewritten and created users.
    by_name: HashMap<String, Key>,
    next_serial: u64,
    pub teams: Vec<Team>,
    pub roles: Vec<Role>,
    pub keys: HashMap<String, KeyAccess>,
    /// The URL clients reach the mock at (paging links are absolute).
    pub api_url: String,
    pub account_name: String,
    pub users_created: usize,
    pub users_deleted: usize,
}

fn splitmix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A UUID-shaped id whose second group says what it is (`0000` generated user, `0001`
/// created user, `0002` team, `0003` role, `0004` request id) and whose last group is
/// the serial, so ids never collide and a generated id maps back to its index.
pub(crate) fn uuid(prefix: u32, kind: u16, serial: u64) -> String {
    let h = splitmix(serial ^ (u64::from(kind) << 48));
    format!(
        "{prefix:08x}-{kind:04x}-4{:03x}-8{:03x}-{serial:012x}",
        h & 0xfff,
        (h >> 12) & 0xfff
    )
}

fn timestamp(index: u64) -> String {
    // 2020-01-01T00:00:00Z plus one minute per user.
    let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_577_836_800 + index * 60);
    accesslink_core::time::format_rfc3339_millis(t)
}

impl State {
    pub(crate) fn new(generated: usize, seed: u64, key: String, access: KeyAccess) -> Self {
        State {
            total_bias: 0,
            people: SyntheticPeople::new(generated, seed),
            prefix: splitmix(seed) as u32,
            rewritten: HashMap::new(),
            deleted: BTreeSet::new(),
            created: Vec::new(),
            by_name: HashMap::new(),
            next_serial: 1,
            teams: Vec::new(),
            roles: Vec::new(),
            keys: HashMap::from([(key, access)]),
            api_url: String::new(),
            account_name: "accesslink-mock".into(),
            users_created: 0,
            users_deleted: 0,
        }
    }

    pub(crate) fn serial(&mut self) -> u64 {
        let s = self.next_serial;
        self.next_serial += 1;
        s
    }

    pub(crate) fn new_id(&mut self, kind: u16) -> String {
        let serial = self.serial();
        uuid(self.prefix, kind, serial)
    }

    fn generated_user(&self, index: usize, p: &Person) -> User {
        let n = index as u64;
        User {
            id: uuid(self.prefix, 0, n),
            username: p.email.clone(),
            full_name: format!("{} {}", p.first_name, p.last_name),
            role: if index % 50 == 0 { "Admin" } else { "User" }.into(),
            blocked: !p.active,
            verified: index % 3 != 0,
            time_zone: "Europe/London".into(),
            locale: "en_US".into(),
            skype_username: None,
            user_address: Map::from_iter(
                ["country", "state", "city", "line", "zipCode"]
                    .map(|k| (k.to_owned(), Value::String(String::new()))),
            ),
            tags: Vec::new(),
            details: Map::new(),
            created_at: timestamp(n),
            invitation_disabled: false,
        }
    }

    /// The generated index an id or username names, if that generated user is live and
    /// was never rewritten (rewritten ones are found through `by_name` / their id).
    fn generated_index(&self, identifier: &str) -> Option<usize> {
        let index = if let Some(serial) = identifier
            .strip_prefix(&format!("{:08x}-0000-", self.prefix))
            .and_then(|rest| rest.rsplit('-').next())
        {
            usize::from_str_radix(serial, 16).ok()?
        } else {
            // `first.last<number>@example.com`: the number is index + 1.
            let local = identifier.split('@').next()?;
            let digits = local.trim_start_matches(|c: char| !c.is_ascii_digit());
            digits.parse::<usize>().ok()?.checked_sub(1)?
        };
        if self.deleted.contains(&index) {
            return None;
        }
        let p = self.people.person(index)?;
        let user = self.generated_user(index, &p);
        let matches = user.id == identifier
            || (!self.rewritten.contains_key(&index)
                && user.username.eq_ignore_ascii_case(identifier));
        matches.then_some(index)
    }

    /// The key of the user an identifier (id or username, any case) names.
    pub(crate) fn find_user(&self, identifier: &str) -> Option<Key> {
        if let Some(k) = self.by_name.get(&identifier.to_ascii_lowercase()) {
            return Some(*k);
        }
        if let Some(i) = self.generated_index(identifier) {
            return Some(Key::Generated(i));
        }
        self.created
            .iter()
            .find(|(_, u)| u.id == identifier)
            .map(|(s, _)| Key::Created(*s))
    }

    pub(crate) fn user(&self, key: Key) -> Option<User> {
        match key {
            Key::Generated(i) => {
                if self.deleted.contains(&i) {
                    return None;
                }
                if let Some(u) = self.rewritten.get(&i) {
                    return Some(u.clone());
                }
                self.people.person(i).map(|p| self.generated_user(i, &p))
            }
            Key::Created(s) => self
                .created
                .iter()
                .find(|(c, _)| *c == s)
                .map(|(_, u)| u.clone()),
        }
    }

    pub(crate) fn user_by(&self, identifier: &str) -> Option<User> {
        self.find_user(identifier).and_then(|k| self.user(k))
    }

    pub(crate) fn total_users(&self) -> usize {
        self.people.len() - self.deleted.len() + self.created.len()
    }

    /// The `k`-th live generated index (0-based), skipping deleted ones.
    fn nth_generated(&self, k: usize) -> Option<usize> {
        let mut i = k;
        loop {
            let d = self.deleted.range(..=i).count();
            let candidate = k + d;
            if candidate == i && !self.deleted.contains(&i) {
                return (i < self.people.len()).then_some(i);
            }
            i = candidate.max(i + usize::from(candidate == i));
        }
    }

    /// Users `offset..offset+limit` in insertion order.
    pub(crate) fn users_page(&self, offset: usize, limit: usize) -> Vec<User> {
        let live_generated = self.people.len() - self.deleted.len();
        let mut out = Vec::with_capacity(limit);
        if offset < live_generated {
            let mut i = self.nth_generated(offset).unwrap_or(self.people.len());
            while out.len() < limit && i < self.people.len() {
                if !self.deleted.contains(&i) {
                    out.extend(self.user(Key::Generated(i)));
                }
                i += 1;
            }
        }
        let skip = offset.saturating_sub(live_generated);
        let room = limit - out.len();
        out.extend(
            self.created
                .iter()
                .skip(skip)
                .take(room)
                .map(|(_, u)| u.clone()),
        );
        out
    }

    /// Every live user, in insertion order (for sorted or filtered listings).
    pub(crate) fn all_users(&self) -> Vec<User> {
        self.users_page(0, self.total_users())
    }

    /// Whether a username (any case) is taken by another user than `except`.
    pub(crate) fn username_taken(&self, username: &str, except: Option<Key>) -> bool {
        self.find_user(username).is_some_and(|k| Some(k) != except)
    }

    pub(crate) fn insert_user(&mut self, mut user: User) -> String {
        let serial = self.serial();
        user.id = uuid(self.prefix, 1, serial);
        if user.created_at.is_empty() {
            user.created_at = accesslink_core::time::format_rfc3339_millis(SystemTime::now());
        }
        self.by_name
            .insert(user.username.to_ascii_lowercase(), Key::Created(serial));
        let id = user.id.clone();
        self.created.push((serial, user));
        self.users_created += 1;
        id
    }

    /// Stores a changed user in its place.
    pub(crate) fn replace_user(&mut self, key: Key, user: User) {
        let old = self.user(key);
        if let Some(old) = &old {
            self.by_name.remove(&old.username.to_ascii_lowercase());
        }
        self.by_name.insert(user.username.to_ascii_lowercase(), key);
        match key {
            Key::Generated(i) => {
                self.rewritten.insert(i, user);
            }
            Key::Created(s) => {
                if let Some(slot) = self.created.iter_mut().find(|(c, _)| *c == s) {
                    slot.1 = user;
                }
            }
        }
    }

    /// Deletes a user and its team memberships.
    pub(crate) fn delete_user(&mut self, key: Key) -> bool {
        let Some(user) = self.user(key) else {
            return false;
        };
        self.by_name.remove(&user.username.to_ascii_lowercase());
        match key {
            Key::Generated(i) => {
                self.rewritten.remove(&i);
                self.deleted.insert(i);
            }
            Key::Created(s) => self.created.retain(|(c, _)| *c != s),
        }
        for team in &mut self.teams {
            team.members.retain(|(id, _)| *id != user.id);
        }
        self.users_deleted += 1;
        true
    }

    /// The canonical name of a role (built-in or custom), matched in any case.
    pub(crate) fn role_name(&self, name: &str) -> Option<String> {
        BUILT_IN_ROLES
            .iter()
            .find(|r| r.eq_ignore_ascii_case(name))
            .map(|r| (*r).to_owned())
            .or_else(|| {
                self.roles
                    .iter()
                    .find(|r| r.name.eq_ignore_ascii_case(name))
                    .map(|r| r.name.clone())
            })
    }

    /// `{"id","name"}` of a user's role: built-ins use the name as id.
    pub(crate) fn role_json(&self, name: &str) -> Value {
        let id = self
            .roles
            .iter()
            .find(|r| r.name == name)
            .map_or_else(|| name.to_owned(), |r| r.id.clone());
        json!({ "id": id, "name": name })
    }

    pub(crate) fn user_json(&self, u: &User, contacts: bool) -> Value {
        let mut v = json!({
            "id": u.id,
            "username": u.username,
            "fullName": u.full_name,
            "role": self.role_json(&u.role),
            "blocked": u.blocked,
            "verified": u.verified,
            "timeZone": u.time_zone,
            "locale": u.locale,
            "userAddress": u.user_address,
            "tags": u.tags,
            "details": u.details,
            "createdAt": u.created_at,
        });
        if let Some(skype) = &u.skype_username {
            v["skypeUsername"] = json!(skype);
        }
        if contacts {
            v["userContacts"] = json!([{
                "to": u.username,
                "id": format!("{}-email", u.id),
                "contactMethod": "email",
                "enabled": true,
            }]);
        }
        v
    }

    /// The team an identifier names, by id or by name.
    pub(crate) fn team_index(&self, identifier: &str, by_name: bool) -> Option<usize> {
        self.teams.iter().position(|t| {
            if by_name {
                t.name.eq_ignore_ascii_case(identifier)
            } else {
                t.id == identifier
            }
        })
    }

    pub(crate) fn team_links(&self, t: &Team) -> Value {
        json!({
            "web": format!("{}/teams/dashboard/{}/main", self.api_url, t.id),
            "api": format!("{}/v2/teams/{}", self.api_url, t.id),
        })
    }

    pub(crate) fn team_json(&self, t: &Team, members: bool) -> Value {
        let mut v = json!({
            "id": t.id,
            "name": t.name,
            "description": t.description,
            "links": self.team_links(t),
        });
        if members {
            let list: Vec<Value> = t
                .members
                .iter()
                .map(|(id, role)| {
                    let username = self.user_by(id).map(|u| u.username).unwrap_or_default();
                    json!({ "user": { "id": id, "username": username }, "role": role })
                })
                .collect();
            v["members"] = Value::Array(list);
        }
        v
    }

    pub(crate) fn role_index(&self, identifier: &str, by_name: bool) -> Option<usize> {
        self.roles.iter().position(|r| {
            if by_name {
                r.name.eq_ignore_ascii_case(identifier)
            } else {
                r.id == identifier
            }
        })
    }

    pub(crate) fn custom_role_json(r: &Role) -> Value {
        json!({
            "id": r.id,
            "name": r.name,
            "extendedRole": r.extended_role,
            "grantedRights": r.granted_rights,
            "disallowedRights": r.disallowed_rights,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(n: usize) -> State {
        State::new(n, 7, "k".into(), KeyAccess::Full)
    }

    #[test]
    fn generated_users_are_found_by_id_and_username_and_page_around_deletions() {
        let mut s = state(10);
        let third = s.users_page(2, 1).remove(0);
        assert_eq!(s.user_by(&third.id), Some(third.clone()));
        assert_eq!(
            s.user_by(&third.username.to_uppercase()),
            Some(third.clone())
        );
        let k = s.find_user(&third.id).unwrap();
        assert!(s.delete_user(k));
        assert_eq!(s.user_by(&third.id), None);
        assert_eq!(s.total_users(), 9);
        let ids: Vec<String> = s.all_users().into_iter().map(|u| u.id).collect();
        assert_eq!(ids.len(), 9);
        assert!(!ids.contains(&third.id));
        // Offsets skip the deleted user: the third row is now the fourth user.
        assert_eq!(s.users_page(2, 1)[0].id, uuid(s.prefix, 0, 3));
        let id = s.insert_user(User {
            username: "new@example.com".into(),
            ..third.clone()
        });
        assert_eq!(s.users_page(9, 5)[0].id, id);
        assert!(s.username_taken("NEW@example.com", None));
    }

    #[test]
    fn a_renamed_generated_user_frees_its_old_username() {
        let mut s = state(3);
        let u = s.users_page(0, 1).remove(0);
        let key = s.find_user(&u.id).unwrap();
        let renamed = User {
            username: "renamed@example.com".into(),
            ..u.clone()
        };
        s.replace_user(key, renamed);
        assert_eq!(s.find_user(&u.username), None);
        assert_eq!(s.find_user("renamed@example.com"), Some(key));
        assert_eq!(s.find_user(&u.id), Some(key));
        assert_eq!(s.users_page(0, 1)[0].username, "renamed@example.com");
    }
}
