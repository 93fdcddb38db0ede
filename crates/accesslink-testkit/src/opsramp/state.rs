//! What one OpsRamp tenant holds: users (generated lazily or stored), roles, user
//! groups and who holds what, rendered as the v2 API prints them.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};

use crate::data::SyntheticPeople;

/// Width of the number in a user id: `USR0000002145` (fact sheet §1.1).
const USER_DIGITS: usize = 10;

/// A user's status as OpsRamp prints it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    Active,
    Inactive,
}

impl Status {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::Inactive => "inactive",
        }
    }
}

/// One user as the mock stores it.
#[derive(Debug, Clone)]
pub(crate) struct UserRec {
    pub(crate) number: u64,
    pub(crate) login: String,
    pub(crate) first: String,
    pub(crate) last: String,
    pub(crate) email: String,
    pub(crate) status: Status,
    /// Role `uniqueId`s.
    pub(crate) roles: BTreeSet<String>,
    /// User group `uniqueId`s.
    pub(crate) groups: BTreeSet<String>,
    /// Every other field the client sent (country, timeZone, phoneNumber, …).
    pub(crate) extra: Map<String, Value>,
    pub(crate) created: String,
    pub(crate) updated: String,
    pub(crate) deactivate_reason: Option<String>,
}

impl UserRec {
    pub(crate) fn id(&self) -> String {
        user_id(self.number)
    }
}

/// A role.
#[derive(Debug, Clone)]
pub(crate) struct RoleRec {
    /// The numeric id users print their roles with (`"roles":[{"id":4,"name":…}]` in the
    /// spec's user examples); `roles/search` never shows it, it lists `uniqueId`s.
    pub(crate) number: u64,
    pub(crate) name: String,
    pub(crate) description: String,
    pub(crate) default_role: bool,
}

/// A user group.
#[derive(Debug, Clone)]
pub(crate) struct GroupRec {
    pub(crate) name: String,
    pub(crate) description: String,
    /// `None` when the group has none: the spec types the field `format: email`, and its
    /// search example simply leaves it out of a group without one, so the mock omits it
    /// rather than print `""` (which no email validator accepts).
    pub(crate) email: Option<String>,
    pub(crate) roles: BTreeSet<String>,
    pub(crate) created: String,
    pub(crate) updated: String,
}

/// `USR` and the number, zero-padded.
pub(crate) fn user_id(number: u64) -> String {
    format!("USR{number:0USER_DIGITS$}")
}

/// The number of a `USR…` id, if it is one.
pub(crate) fn user_number(id: &str) -> Option<u64> {
    let digits = id.strip_prefix("USR")?;
    (digits.len() == USER_DIGITS && digits.bytes().all(|b| b.is_ascii_digit()))
        .then(|| digits.parse().ok())
        .flatten()
}

/// A fixed, clock-free timestamp in OpsRamp's `+0000` form (fact sheet §1.6): the mock's
/// data must not change from run to run.
pub(crate) const SEED_TIME: &str = "2024-01-15T09:30:00+0000";

/// One tenant's data.
#[derive(Debug)]
pub(crate) struct Tenant {
    pub(crate) id: String,
    people: SyntheticPeople,
    /// Generated users written to since: they live in `stored` from then on.
    touched: BTreeSet<u64>,
    /// Generated users terminated without being written first.
    removed: BTreeSet<u64>,
    /// Users created through the API and generated users written to.
    pub(crate) stored: BTreeMap<u64, UserRec>,
    next_number: u64,
    /// Roles by `uniqueId`, in creation order of their ids.
    pub(crate) roles: BTreeMap<String, RoleRec>,
    /// The roles generated users hold, in order.
    generated_roles: Vec<String>,
    /// User groups by `uniqueId`.
    pub(crate) groups: BTreeMap<String, GroupRec>,
    generated_groups: Vec<String>,
    uuid_counter: u64,
    /// The last numeric role id handed out.
    role_seq: u64,
    /// Incidents and service requests by id (`INC…`, `SRQ…`).
    pub(crate) tickets: BTreeMap<String, super::tickets::TicketRec>,
    /// Ticket searches ignore `queryString` (`TicketBackend::ignore_search_filters`).
    pub(crate) unfiltered: bool,
    /// Added to the users' `totalResults` (`AccountBackend::inflate_reported_total`).
    pub(crate) total_bias: usize,
    /// The last ticket number handed out.
    pub(crate) ticket_seq: u64,
    /// `TicketBackend::freeze_clock`: every ticket write stamps this time.
    pub(crate) frozen: Option<std::time::SystemTime>,
    /// Passwords set on create or update, by user number (never served back).
    pub(crate) passwords: BTreeMap<u64, String>,
    /// The seed for ids, so two mocks with the same seed agree.
    seed: u64,
}

impl Tenant {
    pub(crate) fn new(id: &str, generated: usize, seed: u64) -> Self {
        Tenant {
            id: id.to_owned(),
            people: SyntheticPeople::new(generated, seed),
            touched: BTreeSet::new(),
            removed: BTreeSet::new(),
            stored: BTreeMap::new(),
            next_number: generated as u64 + 1,
            roles: BTreeMap::new(),
            generated_roles: Vec::new(),
            groups: BTreeMap::new(),
            generated_groups: Vec::new(),
            uuid_counter: 0,
            // The spec's examples start at 4 ("Client Administrator"); any positive
            // number would do.
            role_seq: 3,
            tickets: BTreeMap::new(),
            unfiltered: false,
            total_bias: 0,
            ticket_seq: 0,
            frozen: None,
            passwords: BTreeMap::new(),
            seed,
        }
    }

    /// The server's time for a write: the frozen time, or the clock.
    pub(crate) fn now(&self) -> std::time::SystemTime {
        self.frozen.unwrap_or_else(std::time::SystemTime::now)
    }

    /// A deterministic UUID-shaped id.
    fn uuid(&mut self) -> String {
        self.uuid_counter += 1;
        let a = splitmix(self.seed ^ splitmix(self.uuid_counter));
        let b = splitmix(a ^ 0x5eed);
        format!(
            "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            (b >> 48) & 0xfff,
            b & 0xffff_ffff_ffff
        )
    }

    /// Adds a role; generated users hold the first roles added before any user reads them
    /// when `for_generated` is set.
    pub(crate) fn add_role(
        &mut self,
        name: &str,
        description: &str,
        for_generated: bool,
    ) -> String {
        let id = format!("ROLE-{}", self.uuid());
        self.role_seq += 1;
        self.roles.insert(
            id.clone(),
            RoleRec {
                number: self.role_seq,
                name: name.to_owned(),
                description: description.to_owned(),
                default_role: false,
            },
        );
        if for_generated {
            self.generated_roles.push(id.clone());
        }
        id
    }

    /// Adds a user group.
    pub(crate) fn add_group(
        &mut self,
        name: &str,
        description: &str,
        for_generated: bool,
    ) -> String {
        let id = format!("USRGRP-{}", self.uuid());
        self.groups.insert(
            id.clone(),
            GroupRec {
                name: name.to_owned(),
                description: description.to_owned(),
                email: None,
                roles: BTreeSet::new(),
                created: SEED_TIME.to_owned(),
                updated: SEED_TIME.to_owned(),
            },
        );
        if for_generated {
            self.generated_groups.push(id.clone());
        }
        id
    }

    fn is_generated(&self, number: u64) -> bool {
        number >= 1 && number <= self.people.len() as u64
    }

    /// Generated user `number` as it was seeded: every user holds one of the generated
    /// roles, every third one also one of the generated groups; every 17th is inactive.
    fn generate(&self, number: u64) -> Option<UserRec> {
        let p = self.people.person((number - 1) as usize)?;
        let i = (number - 1) as usize;
        let mut roles = BTreeSet::new();
        if !self.generated_roles.is_empty() {
            let r = &self.generated_roles[i % self.generated_roles.len()];
            if self.roles.contains_key(r) {
                roles.insert(r.clone());
            }
        }
        let mut groups = BTreeSet::new();
        if !self.generated_groups.is_empty() && i % 3 == 0 {
            let g = &self.generated_groups[(i / 3) % self.generated_groups.len()];
            if self.groups.contains_key(g) {
                groups.insert(g.clone());
            }
        }
        Some(UserRec {
            number,
            login: p.login,
            first: p.first_name,
            last: p.last_name,
            email: p.email,
            status: if p.active {
                Status::Active
            } else {
                Status::Inactive
            },
            roles,
            groups,
            extra: Map::new(),
            created: SEED_TIME.to_owned(),
            updated: SEED_TIME.to_owned(),
            deactivate_reason: None,
        })
    }

    /// A live user by number.
    pub(crate) fn user(&self, number: u64) -> Option<UserRec> {
        if let Some(u) = self.stored.get(&number) {
            return Some(u.clone());
        }
        if self.is_generated(number)
            && !self.touched.contains(&number)
            && !self.removed.contains(&number)
        {
            return self.generate(number);
        }
        None
    }

    /// A live user by id.
    pub(crate) fn user_by_id(&self, id: &str) -> Option<UserRec> {
        self.user(user_number(id)?)
    }

    /// A live user to change; generated users are stored from now on.
    pub(crate) fn user_mut(&mut self, number: u64) -> Option<&mut UserRec> {
        if !self.stored.contains_key(&number) {
            let generated = self.user(number)?;
            self.touched.insert(number);
            self.stored.insert(number, generated);
        }
        self.stored.get_mut(&number)
    }

    /// Terminates a user: gone from reads and searches.
    pub(crate) fn remove_user(&mut self, number: u64) -> bool {
        if self.user(number).is_none() {
            return false;
        }
        self.stored.remove(&number);
        if self.is_generated(number) {
            self.removed.insert(number);
        }
        true
    }

    /// The live user with this login name (any case). Generated logins end in their
    /// number, which keeps this O(1) for 100k users.
    pub(crate) fn user_by_login(&self, login: &str) -> Option<UserRec> {
        if let Some(u) = self
            .stored
            .values()
            .find(|u| u.login.eq_ignore_ascii_case(login))
        {
            return Some(u.clone());
        }
        let digits: String = login
            .chars()
            .rev()
            .take_while(char::is_ascii_digit)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        let number: u64 = digits.parse().ok()?;
        if !self.is_generated(number) {
            return None;
        }
        self.user(number)
            .filter(|u| u.login.eq_ignore_ascii_case(login))
    }

    /// Stores a new user and returns its number.
    pub(crate) fn insert_user(&mut self, mut rec: UserRec) -> u64 {
        let number = self.next_number;
        self.next_number += 1;
        rec.number = number;
        self.stored.insert(number, rec);
        number
    }

    /// How many live users there are.
    pub(crate) fn user_count(&self) -> usize {
        let n = self.people.len() as u64;
        self.people.len() - self.removed.len() + self.stored.range(n + 1..).count()
    }

    /// The `k`-th live user (0-based) in ascending id order: generated numbers first
    /// (1..=N without the terminated ones), then users created through the API.
    pub(crate) fn nth_user(&self, k: usize) -> Option<UserRec> {
        let n = self.people.len() as u64;
        let generated_live = self.people.len() - self.removed.len();
        if k >= generated_live {
            return self
                .stored
                .range(n + 1..)
                .nth(k - generated_live)
                .map(|(_, u)| u.clone());
        }
        // The k-th number of 1..=N that is not terminated: step past each gap.
        let mut candidate = k as u64 + 1;
        let mut skipped = 0u64;
        loop {
            let gaps = self.removed.range(..=candidate).count() as u64;
            if gaps == skipped {
                break;
            }
            candidate += gaps - skipped;
            skipped = gaps;
        }
        self.user(candidate)
    }

    /// Every live user in ascending id order, lazily.
    pub(crate) fn users(&self) -> impl Iterator<Item = UserRec> + '_ {
        (0..self.user_count()).map_while(|k| self.nth_user(k))
    }

    /// A role as a user lists it: `{"id": <number>, "name"}`, the shape of the spec's
    /// `user.roles` items (`id` typed integer) and of every user example in it (create,
    /// get). Groups list their roles in full, with `uniqueId` ([`Self::role_json`]).
    fn role_ref(&self, id: &str) -> Option<Value> {
        let r = self.roles.get(id)?;
        Some(json!({ "id": r.number, "name": r.name }))
    }

    fn group_ref(&self, id: &str) -> Option<Value> {
        let g = self.groups.get(id)?;
        Some(json!({ "uniqueId": id, "name": g.name }))
    }

    /// A user as `users/search` lists it: the minimal fields plus its roles and groups,
    /// which the seed's account-to-entitlement mapping reads from the search results.
    pub(crate) fn user_minimal(&self, u: &UserRec) -> Value {
        let roles: Vec<Value> = u.roles.iter().filter_map(|r| self.role_ref(r)).collect();
        let groups: Vec<Value> = u.groups.iter().filter_map(|g| self.group_ref(g)).collect();
        json!({
            "id": u.id(),
            "loginName": u.login,
            "firstName": u.first,
            "lastName": u.last,
            "email": u.email,
            "status": u.status.as_str(),
            "orgId": self.id,
            "organizationName": format!("Tenant {}", self.id),
            "roles": roles,
            "userGroups": groups,
            "createdTime": u.created,
            "updatedTime": u.updated,
        })
    }

    /// A user as `GET users/{id}` prints it.
    pub(crate) fn user_full(&self, u: &UserRec) -> Value {
        let mut v = self.user_minimal(u);
        let map = v.as_object_mut().expect("an object");
        for (k, val) in &u.extra {
            map.entry(k.clone()).or_insert_with(|| val.clone());
        }
        map.entry("userAccountType").or_insert(json!("REGULAR"));
        map.entry("authType").or_insert(json!("LOCAL"));
        map.entry("timeZone").or_insert(json!({
            "id": "7", "name": "America/New_York", "label": "GMT -05:00 Eastern", "code": "EST"
        }));
        map.entry("twoFactorAuthentication").or_insert(json!(false));
        v
    }

    pub(crate) fn role_json(&self, id: &str) -> Option<Value> {
        let r = self.roles.get(id)?;
        Some(json!({
            "uniqueId": id,
            "name": r.name,
            "description": r.description,
            "defaultRole": r.default_role,
        }))
    }

    pub(crate) fn group_minimal(&self, id: &str) -> Option<Value> {
        let g = self.groups.get(id)?;
        let mut v = json!({
            "uniqueId": id,
            "name": g.name,
            "description": g.description,
            "createdTime": g.created,
            "updatedTime": g.updated,
        });
        if let Some(e) = &g.email {
            v["email"] = json!(e);
        }
        Some(v)
    }

    pub(crate) fn group_full(&self, id: &str) -> Option<Value> {
        let mut v = self.group_minimal(id)?;
        let roles: Vec<Value> = self.groups[id]
            .roles
            .iter()
            .filter_map(|r| self.role_json(r))
            .collect();
        v["roles"] = Value::Array(roles);
        Some(v)
    }

    /// The role with this name (any case).
    pub(crate) fn role_by_name(&self, name: &str) -> Option<String> {
        self.roles
            .iter()
            .find(|(_, r)| r.name.eq_ignore_ascii_case(name))
            .map(|(id, _)| id.clone())
    }

    /// The role with this numeric id (the one users print).
    pub(crate) fn role_by_number(&self, number: u64) -> Option<String> {
        self.roles
            .iter()
            .find(|(_, r)| r.number == number)
            .map(|(id, _)| id.clone())
    }

    /// The group with this name (any case).
    pub(crate) fn group_by_name(&self, name: &str) -> Option<String> {
        self.groups
            .iter()
            .find(|(_, g)| g.name.eq_ignore_ascii_case(name))
            .map(|(id, _)| id.clone())
    }

    /// Drops a role everywhere it is held.
    pub(crate) fn delete_role(&mut self, id: &str) -> bool {
        if self.roles.remove(id).is_none() {
            return false;
        }
        for u in self.stored.values_mut() {
            u.roles.remove(id);
        }
        for g in self.groups.values_mut() {
            g.roles.remove(id);
        }
        true
    }

    /// Drops a group and its memberships.
    pub(crate) fn delete_group(&mut self, id: &str) -> bool {
        if self.groups.remove(id).is_none() {
            return false;
        }
        for u in self.stored.values_mut() {
            u.groups.remove(id);
        }
        true
    }
}

fn splitmix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}
