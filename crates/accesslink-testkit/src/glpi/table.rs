//! One itemtype's rows in id order, with an optional *virtual* id range whose rows are
//! generated on read from [`SyntheticPeople`] (see [`super::state`]).

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::items::Record;
use crate::data::SyntheticPeople;

/// `date_creation`/`date_mod` of generated users.
const GENERATED_DATE: &str = "2024-01-02 03:04:05";

/// What generates the rows of a virtual id range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum VirtualKind {
    User,
    UserEmail,
    ProfileUser,
}

#[derive(Debug)]
struct Virtual {
    first: i64,
    count: i64,
    kind: VirtualKind,
    people: SyntheticPeople,
    /// Id of generated user 0.
    user_first: i64,
    /// Rows written since: `Some(row)` replaces the generated one, `None` removed it.
    changed: BTreeMap<i64, Option<Record>>,
}

impl Virtual {
    fn contains(&self, id: i64) -> bool {
        id >= self.first && id < self.first + self.count
    }

    fn generate(&self, id: i64) -> Record {
        let index = (id - self.first) as usize;
        let person = self.people.person(index).unwrap_or_else(|| {
            panic!("generated row {id} is outside the data set");
        });
        let user = self.user_first + index as i64;
        let value = match self.kind {
            VirtualKind::User => json!({
                "name": person.login, "realname": person.last_name,
                "firstname": person.first_name, "is_active": i64::from(person.active),
                "date_creation": GENERATED_DATE, "date_mod": GENERATED_DATE,
            }),
            VirtualKind::UserEmail => json!({
                "users_id": user, "email": person.email, "is_default": 1,
            }),
            VirtualKind::ProfileUser => json!({
                "users_id": user, "profiles_id": 1, "entities_id": 0, "is_recursive": 0,
                "is_dynamic": 1, "is_default_profile": 1,
            }),
        };
        match value {
            Value::Object(map) => map,
            _ => Record::new(),
        }
    }
}

/// The rows of one itemtype, in id order.
#[derive(Debug)]
pub(super) struct Table {
    rows: BTreeMap<i64, Record>,
    virt: Option<Virtual>,
    next_id: i64,
}

/// Which rows a listing keeps.
pub(super) struct Filter<'a> {
    /// Whether a row is kept.
    pub(super) keep: &'a dyn Fn(i64, &Record) -> bool,
    /// What the caller knows of generated rows nobody wrote to.
    pub(super) untouched: Untouched,
}

/// What a [`Filter`] answers for generated rows nobody wrote to; knowing it spares
/// generating 100k rows to count them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Untouched {
    /// Every such row is kept (`true`) or none is.
    All(bool),
    /// Only this one may be kept (`keep` decides); e.g. the address of one user.
    Only(i64),
    /// Unknown: generate each and ask `keep`.
    Test,
}

impl Table {
    pub(super) fn new(next_id: i64) -> Table {
        Table {
            rows: BTreeMap::new(),
            virt: None,
            next_id,
        }
    }

    /// Makes ids `first..first + count` generated rows of `kind`, person `i` at
    /// `first + i`; generated user `i` has id `user_first + i`.
    pub(super) fn generate(
        &mut self,
        first: i64,
        count: i64,
        kind: VirtualKind,
        people: SyntheticPeople,
        user_first: i64,
    ) {
        self.virt = (count > 0).then(|| Virtual {
            first,
            count,
            kind,
            people,
            user_first,
            changed: BTreeMap::new(),
        });
    }

    /// Stores a row under a fixed id (seeding).
    pub(super) fn seed(&mut self, id: i64, row: Record) {
        self.rows.insert(id, row);
    }

    /// The row with this id (template fields not included).
    pub(super) fn get(&self, id: i64) -> Option<Cow<'_, Record>> {
        if let Some(v) = self.virt.as_ref().filter(|v| v.contains(id)) {
            return match v.changed.get(&id) {
                Some(Some(row)) => Some(Cow::Borrowed(row)),
                Some(None) => None,
                None => Some(Cow::Owned(v.generate(id))),
            };
        }
        self.rows.get(&id).map(Cow::Borrowed)
    }

    pub(super) fn contains(&self, id: i64) -> bool {
        self.get(id).is_some()
    }

    /// Stores a new row under the next id and returns the id.
    pub(super) fn insert(&mut self, row: Record) -> i64 {
        let id = self.next_id;
        self.next_id += 1;
        self.rows.insert(id, row);
        id
    }

    /// Replaces an existing row.
    pub(super) fn put(&mut self, id: i64, row: Record) {
        match self.virt.as_mut().filter(|v| v.contains(id)) {
            Some(v) => {
                v.changed.insert(id, Some(row));
            }
            None => {
                self.rows.insert(id, row);
            }
        }
    }

    /// Removes a row; `false` when there was none.
    pub(super) fn remove(&mut self, id: i64) -> bool {
        if !self.contains(id) {
            return false;
        }
        match self.virt.as_mut().filter(|v| v.contains(id)) {
            Some(v) => {
                v.changed.insert(id, None);
            }
            None => {
                self.rows.remove(&id);
            }
        }
        true
    }

    /// Every id in order, without reading rows.
    pub(super) fn ids(&self) -> Box<dyn Iterator<Item = i64> + '_> {
        let Some(v) = &self.virt else {
            return Box::new(self.rows.keys().copied());
        };
        let before = self.rows.range(..v.first).map(|(id, _)| *id);
        let after = self.rows.range(v.first + v.count..).map(|(id, _)| *id);
        let removed = |id: &i64| matches!(v.changed.get(id), Some(None));
        let generated = (v.first..v.first + v.count).filter(move |id| !removed(id));
        Box::new(before.chain(generated).chain(after))
    }

    /// Every row in id order.
    pub(super) fn iter(&self) -> Box<dyn Iterator<Item = (i64, Cow<'_, Record>)> + '_> {
        let Some(v) = &self.virt else {
            return Box::new(self.rows.iter().map(|(id, r)| (*id, Cow::Borrowed(r))));
        };
        let before = self.rows.range(..v.first);
        let after = self.rows.range(v.first + v.count..);
        let generated = (v.first..v.first + v.count).filter_map(|id| Some((id, self.get(id)?)));
        Box::new(
            before
                .map(borrowed)
                .chain(generated)
                .chain(after.map(borrowed)),
        )
    }

    /// How many rows `filter` keeps, and the kept rows from the `start`-th (0-based), at
    /// most `len`, in id order. Untouched generated rows are skipped by arithmetic when
    /// `filter.untouched` is known.
    pub(super) fn window(
        &self,
        filter: &Filter<'_>,
        start: usize,
        len: usize,
    ) -> (usize, Vec<(i64, Cow<'_, Record>)>) {
        let mut page = Page {
            start,
            len,
            total: 0,
            rows: Vec::new(),
        };
        let keep = |id: i64, row: &Record| (filter.keep)(id, row);
        let Some(v) = &self.virt else {
            for (id, row) in self.rows.iter().filter(|(id, r)| keep(**id, r)) {
                page.push(*id, Cow::Borrowed(row));
            }
            return (page.total, page.rows);
        };
        for (id, row) in self.rows.range(..v.first).filter(|(id, r)| keep(**id, r)) {
            page.push(*id, Cow::Borrowed(row));
        }
        let end = v.first + v.count;
        let mut cursor = v.first;
        let changed = v.changed.iter().map(|(id, r)| (*id, r.as_ref()));
        for (next, row) in changed.chain(std::iter::once((end, None))) {
            // The untouched run [cursor, next).
            match filter.untouched {
                Untouched::All(true) => page.run(cursor, next, |id| v.generate(id)),
                Untouched::All(false) => {}
                Untouched::Only(id) if (cursor..next).contains(&id) => {
                    let row = v.generate(id);
                    if keep(id, &row) {
                        page.push(id, Cow::Owned(row));
                    }
                }
                Untouched::Only(_) => {}
                Untouched::Test => {
                    for id in cursor..next {
                        let row = v.generate(id);
                        if keep(id, &row) {
                            page.push(id, Cow::Owned(row));
                        }
                    }
                }
            }
            if let Some(row) = row.filter(|r| next < end && keep(next, r)) {
                page.push(next, Cow::Borrowed(row));
            }
            cursor = next + 1;
        }
        for (id, row) in self.rows.range(end..).filter(|(id, r)| keep(**id, r)) {
            page.push(*id, Cow::Borrowed(row));
        }
        (page.total, page.rows)
    }

    /// The generated row (`UserEmail`, `Profile_User`) of generated user `user`.
    pub(super) fn generated_row_of_user(&self, user: i64) -> Option<i64> {
        let v = self.virt.as_ref().filter(|v| v.kind != VirtualKind::User)?;
        let candidate = v.first + (user - v.user_first);
        v.contains(candidate).then_some(candidate)
    }

    /// The generated user whose login is `login` (any case), without scanning: generated
    /// logins end in the person's number.
    pub(super) fn generated_user_named(&self, login: &str) -> Option<i64> {
        let v = self.virt.as_ref().filter(|v| v.kind == VirtualKind::User)?;
        let digits = login.len() - login.trim_end_matches(|c: char| c.is_ascii_digit()).len();
        let number: i64 = login[login.len() - digits..].parse().ok()?;
        let id = v.first + number - 1;
        let person = v.people.person(usize::try_from(number - 1).ok()?)?;
        let fits = v.contains(id) && !v.changed.contains_key(&id);
        (fits && person.login.eq_ignore_ascii_case(login)).then_some(id)
    }

    /// Whether `id` is a generated row nobody wrote to.
    pub(super) fn is_untouched(&self, id: i64) -> bool {
        self.virt
            .as_ref()
            .is_some_and(|v| v.contains(id) && !v.changed.contains_key(&id))
    }

    /// The rows written over generated ones (`None`: removed).
    pub(super) fn overlay(&self) -> impl Iterator<Item = (i64, Option<&Record>)> {
        let changed = self.virt.iter().flat_map(|v| v.changed.iter());
        changed.map(|(id, row)| (*id, row.as_ref()))
    }

    /// The stored rows that are not generated.
    pub(super) fn stored(&self) -> impl Iterator<Item = (i64, &Record)> {
        self.rows.iter().map(|(id, r)| (*id, r))
    }
}

fn borrowed<'t>((id, row): (&i64, &'t Record)) -> (i64, Cow<'t, Record>) {
    (*id, Cow::Borrowed(row))
}

/// A window being filled while rows are counted.
struct Page<'t> {
    start: usize,
    len: usize,
    total: usize,
    rows: Vec<(i64, Cow<'t, Record>)>,
}

impl<'t> Page<'t> {
    fn push(&mut self, id: i64, row: Cow<'t, Record>) {
        if self.total >= self.start && self.rows.len() < self.len {
            self.rows.push((id, row));
        }
        self.total += 1;
    }

    /// Counts the kept ids `from..to` and generates only those inside the window.
    fn run(&mut self, from: i64, to: i64, generate: impl Fn(i64) -> Record) {
        let run = (to - from) as usize;
        let skip = self.start.saturating_sub(self.total).min(run);
        let room = self.len.saturating_sub(self.rows.len()).min(run - skip);
        let first = from + skip as i64;
        for id in first..first + room as i64 {
            self.rows.push((id, Cow::Owned(generate(id))));
        }
        self.total += run;
    }
}
