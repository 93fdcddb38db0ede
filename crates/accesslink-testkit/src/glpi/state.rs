//! The mock's database: one [`Table`] per itemtype, seeded like a fresh GLPI 10.0.11
//! install, plus API sessions.
//!
//! Generated users ([`super::GlpiMockBuilder::generated_users`]) are not stored: a table
//! may have a *virtual* id range whose rows are computed from [`SyntheticPeople`] when read.
//! A write to such a row stores the changed row (or its removal) in an overlay, so a test
//! can still trash, purge or edit generated users. Each generated user also has a virtual
//! `UserEmail` (its address, default) and a virtual `Profile_User` (Self-Service on the
//! Root entity, dynamic), as a user created through the API would.

use std::collections::{BTreeSet, HashMap};

use serde_json::{Value, json};

use super::items::{Itemtype, Record, as_id};
use super::php;
use super::table::VirtualKind;
pub(super) use super::table::{Filter, Table, Untouched};
use super::templates::template;
use crate::data::SyntheticPeople;

/// Config `list_limit`: the default page of users whose own `list_limit` is NULL.
const CONFIG_LIST_LIMIT: i64 = 15;

/// Credentials of a user; GLPI never prints them.
#[derive(Debug, Clone, Default)]
pub(super) struct Secret {
    pub(super) password: Option<String>,
    pub(super) api_token: Option<String>,
}

/// One API session (`initSession` → `Session-Token`).
#[derive(Debug, Clone)]
pub(super) struct Session {
    pub(super) user_id: i64,
    /// Active entities, fixed at login: entities created later are out of reach until
    /// the next login, as on the real server.
    pub(super) entities: BTreeSet<i64>,
    /// `$_SESSION['glpilist_limit']`: the user's `list_limit`, else the config's 15.
    pub(super) list_limit: i64,
    pub(super) profile_id: i64,
}

/// Everything the mock serves.
#[derive(Debug)]
pub(super) struct State {
    tables: Vec<Table>,
    pub(super) sessions: HashMap<String, Session>,
    pub(super) session_creates: usize,
    /// Searches ignore their criteria (`TicketBackend::ignore_search_filters`).
    pub(super) unfiltered: bool,
    /// Searches drop their `ID` `<N` criteria, the upper bound of a partition's range
    /// (`AccountBackend::ignore_key_ranges`); the lower bound `>N` is also the keyset
    /// and still holds.
    pub(super) ignore_ranges: bool,
    /// Added to a search's `totalcount` (`AccountBackend::inflate_reported_total`).
    pub(super) total_bias: usize,
    pub(super) app_token: String,
    pub(super) secrets: HashMap<i64, Secret>,
    /// The stopped clock (`TicketBackend::freeze_clock`), epoch seconds.
    pub(super) frozen: Option<u64>,
    /// `url_base_api`: what links and error messages name (the proxy's URL behind one).
    pub(super) api_url: String,
}

fn record(value: Value) -> Record {
    match value {
        Value::Object(map) => map,
        _ => Record::new(),
    }
}

fn token(len: usize) -> String {
    std::iter::repeat_with(fastrand::alphanumeric)
        .take(len)
        .collect()
}

impl State {
    /// A fresh install with `generated` extra users named from `seed`.
    pub(super) fn new(generated: usize, seed: u64) -> State {
        let n = generated as i64;
        let next = [
            (Itemtype::Ticket, 1),
            (Itemtype::Change, 1),
            (Itemtype::ITILFollowup, 1),
            (Itemtype::TicketValidation, 1),
            (Itemtype::ChangeValidation, 1),
            (Itemtype::User, 7 + n),
            (Itemtype::UserEmail, 1 + n),
            (Itemtype::Group, 1),
            (Itemtype::GroupUser, 1),
            (Itemtype::Profile, 9),
            (Itemtype::ProfileUser, 6 + n),
            (Itemtype::Entity, 1),
        ];
        let mut tables: Vec<Table> = next.iter().map(|(_, id)| Table::new(*id)).collect();
        for (it, (declared, _)) in Itemtype::ALL.iter().zip(next.iter()) {
            debug_assert_eq!(it, declared);
        }
        let people = SyntheticPeople::new(generated, seed);
        for (it, first, kind) in [
            (Itemtype::User, 7, VirtualKind::User),
            (Itemtype::UserEmail, 1, VirtualKind::UserEmail),
            (Itemtype::ProfileUser, 6, VirtualKind::ProfileUser),
        ] {
            tables[it as usize].generate(first, n, kind, people, 7);
        }
        let mut state = State {
            tables,
            sessions: HashMap::new(),
            unfiltered: false,
            ignore_ranges: false,
            total_bias: 0,
            session_creates: 0,
            app_token: token(40),
            secrets: HashMap::new(),
            frozen: None,
            api_url: String::new(),
        };
        state.seed();
        state
    }

    fn seed(&mut self) {
        let root = json!({"name": "Root entity", "completename": "Root entity",
                          "entities_id": null, "level": 1});
        self.table_mut(Itemtype::Entity).seed(0, record(root));
        let profiles = [
            ("Self-Service", "helpdesk", 1, 1),
            ("Observer", "central", 0, 1),
            ("Admin", "central", 0, 3),
            ("Super-Admin", "central", 0, 3),
            ("Hotliner", "central", 0, 3),
            ("Technician", "central", 0, 3),
            ("Supervisor", "central", 0, 3),
            ("Read-Only", "central", 0, 0),
        ];
        for (i, (name, interface, is_default, hardware)) in profiles.into_iter().enumerate() {
            let mut row = record(json!({"name": name, "interface": interface,
                "is_default": is_default, "helpdesk_hardware": hardware}));
            if name == "Hotliner" {
                row.insert("create_ticket_on_login".into(), 1.into());
            }
            self.table_mut(Itemtype::Profile).seed(i as i64 + 1, row);
        }
        // id, login, password, profile; glpi-system cannot log in.
        let users = [
            (2, "glpi", Some("glpi"), Some(4)),
            (3, "post-only", Some("postonly"), Some(1)),
            (4, "tech", Some("tech"), Some(6)),
            (5, "normal", Some("normal"), Some(2)),
            (6, "glpi-system", None, None),
        ];
        for (id, login, password, profile) in users {
            let mut row = record(json!({"name": login, "list_limit": 20,
                "language": "en_GB"}));
            match login {
                "glpi" => {
                    // setup.sh generated its API token, which dates the row.
                    let now = php::now();
                    row.insert("date_mod".into(), now.clone().into());
                    row.insert("api_token_date".into(), now.into());
                    row.remove("language");
                    for key in ["highcontrast_css", "default_central_tab"] {
                        row.insert(key.into(), Value::Null);
                    }
                    for key in ["timeline_action_btn_layout", "timeline_date_format"] {
                        row.insert(key.into(), Value::Null);
                    }
                }
                "glpi-system" => {
                    row = record(json!({"name": login, "realname": "Support"}));
                }
                _ => {}
            }
            self.table_mut(Itemtype::User).seed(id, row);
            let api_token = (login == "glpi").then(|| token(40));
            let password = password.map(str::to_owned);
            self.secrets.insert(
                id,
                Secret {
                    password,
                    api_token,
                },
            );
            if let Some(profile) = profile {
                let link = record(json!({"users_id": id, "profiles_id": profile,
                    "entities_id": 0, "is_recursive": 1}));
                self.table_mut(Itemtype::ProfileUser).seed(id, link);
            }
        }
    }

    pub(super) fn table(&self, it: Itemtype) -> &Table {
        &self.tables[it as usize]
    }

    pub(super) fn table_mut(&mut self, it: Itemtype) -> &mut Table {
        &mut self.tables[it as usize]
    }

    /// A column of a row: the stored value, else the template's.
    pub(super) fn field(it: Itemtype, row: &Record, key: &str) -> Value {
        row.get(key)
            .or_else(|| template(it).get(key))
            .cloned()
            .unwrap_or(Value::Null)
    }

    /// The full row as GLPI stores it (template filled in, `id` included).
    pub(super) fn full(it: Itemtype, id: i64, row: &Record) -> Record {
        let mut full = template(it).clone();
        full.extend(row.iter().map(|(k, v)| (k.clone(), v.clone())));
        full.insert("id".into(), id.into());
        full
    }

    /// The user named `login` (case-insensitive, as MySQL compares), trash included.
    pub(super) fn user_id_by_login(&self, login: &str) -> Option<i64> {
        let lower = login.to_lowercase();
        let users = self.table(Itemtype::User);
        let written = users
            .stored()
            .chain(users.overlay().filter_map(|(i, r)| Some((i, r?))));
        let found = written.into_iter().find_map(|(id, row)| {
            let name = row.get("name").and_then(Value::as_str)?;
            (name.to_lowercase() == lower).then_some(id)
        });
        found.or_else(|| users.generated_user_named(login))
    }

    /// Rows of `child` whose `key` column is `id` (stored, overlay and generated).
    pub(super) fn rows_with(&self, child: Itemtype, key: &str, id: i64) -> Vec<(i64, Record)> {
        let keep = |_: i64, r: &Record| as_id(r.get(key)) == id;
        // A generated child row belongs to the generated user with the same index.
        let table = self.table(child);
        let mut found: Vec<(i64, Record)> = table
            .stored()
            .chain(table.overlay().filter_map(|(i, r)| Some((i, r?))))
            .filter(|(i, r)| keep(*i, r))
            .map(|(i, r)| (i, r.clone()))
            .collect();
        let generated = table
            .generated_row_of_user(id)
            .filter(|_| key == "users_id");
        if let Some(candidate) = generated.filter(|c| table.is_untouched(*c)) {
            if let Some(row) = table.get(candidate) {
                found.push((candidate, row.into_owned()));
            }
        }
        found.sort_by_key(|(i, _)| *i);
        found
    }

    /// Entity `id` and every entity below it.
    pub(super) fn entity_and_descendants(&self, id: i64) -> BTreeSet<i64> {
        let mut out = BTreeSet::from([id]);
        loop {
            let before = out.len();
            for (child, row) in self.table(Itemtype::Entity).iter() {
                if row
                    .get("entities_id")
                    .and_then(Value::as_i64)
                    .is_some_and(|p| out.contains(&p))
                {
                    out.insert(child);
                }
            }
            if out.len() == before {
                return out;
            }
        }
    }

    /// Opens a session for `user_id`; its entities are fixed now.
    pub(super) fn open_session(&mut self, user_id: i64) -> String {
        let links = self.rows_with(Itemtype::ProfileUser, "users_id", user_id);
        let mut entities = BTreeSet::new();
        for (_, link) in &links {
            let entity = as_id(link.get("entities_id"));
            if as_id(link.get("is_recursive")) == 1 {
                entities.extend(self.entity_and_descendants(entity));
            } else {
                entities.insert(entity);
            }
        }
        let default = links
            .iter()
            .find(|(_, l)| as_id(l.get("is_default_profile")) == 1);
        let profile_id = default
            .or(links.first())
            .map_or(0, |(_, l)| as_id(l.get("profiles_id")));
        let user = self.table(Itemtype::User).get(user_id);
        let own_limit = user.and_then(|u| u.get("list_limit").and_then(Value::as_i64));
        let session = Session {
            user_id,
            entities,
            list_limit: own_limit.unwrap_or(CONFIG_LIST_LIMIT),
            profile_id,
        };
        let id = php::session_id();
        self.sessions.insert(id.clone(), session);
        self.session_creates += 1;
        id
    }

    /// Whether a session may reach a row: entity-scoped itemtypes only in its entities.
    pub(super) fn visible(&self, session: &Session, it: Itemtype, id: i64, row: &Record) -> bool {
        if !it.entity_scoped() {
            return true;
        }
        let entity = if it == Itemtype::Entity {
            id
        } else {
            as_id(row.get("entities_id"))
        };
        session.entities.contains(&entity)
    }
}
