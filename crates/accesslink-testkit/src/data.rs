//! Large data sets generated on demand.
//!
//! Import tests and benchmarks need 100k+ accounts; holding them as fixtures would bloat the
//! repository and the test's memory. [`SyntheticPeople`] computes person `i` from `(seed, i)`
//! whenever it is asked, so a mock can serve any page of a huge data set in constant memory.

use serde::Serialize;

const FIRST_NAMES: [&str; 16] = [
    "Ada",
    "Alan",
    "Barbara",
    "Claude",
    "Donald",
    "Edsger",
    "Frances",
    "Grace",
    "Hedy",
    "John",
    "Katherine",
    "Linus",
    "Margaret",
    "Niklaus",
    "Radia",
    "Tim",
];

const LAST_NAMES: [&str; 16] = [
    "Lovelace",
    "Turing",
    "Liskov",
    "Shannon",
    "Knuth",
    "Dijkstra",
    "Allen",
    "Hopper",
    "Lamarr",
    "Backus",
    "Johnson",
    "Torvalds",
    "Hamilton",
    "Wirth",
    "Perlman",
    "Berners-Lee",
];

/// Minimum number of digits in a person id.
const MIN_ID_DIGITS: usize = 6;

/// One generated account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Person {
    /// `u-` followed by the 1-based number, zero-padded so lexical order is numeric order.
    pub id: String,
    /// `first.last<number>`, lower-case, unique in the data set.
    pub login: String,
    /// Given name, from a small fixed list.
    pub first_name: String,
    /// Family name, from a small fixed list.
    pub last_name: String,
    /// `<login>@example.com`.
    pub email: String,
    /// `false` for every 17th person (numbers 17, 34, …), `true` otherwise.
    pub active: bool,
}

/// A deterministic, lazily generated list of people.
///
/// Person `i` (0-based) has number `i + 1` and id `u-000001`-style, padded to at least six
/// digits (more when `count` needs more, so ids of one data set always sort numerically).
/// Names depend on `(seed, i)` only, so two instances with the same seed agree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyntheticPeople {
    count: usize,
    seed: u64,
    id_digits: usize,
}

impl SyntheticPeople {
    /// A data set of `count` people whose names are derived from `seed`.
    pub fn new(count: usize, seed: u64) -> Self {
        let id_digits = count.to_string().len().max(MIN_ID_DIGITS);
        Self {
            count,
            seed,
            id_digits,
        }
    }

    /// Number of people.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether the data set has no one in it.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The seed names are derived from.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Person `index` (0-based), or `None` past the end.
    pub fn person(&self, index: usize) -> Option<Person> {
        (index < self.count).then(|| self.generate(index))
    }

    /// Up to `limit` people starting at `offset`; empty when `offset` is past the end.
    pub fn iter_range(
        &self,
        offset: usize,
        limit: usize,
    ) -> impl ExactSizeIterator<Item = Person> + use<> {
        let this = *self;
        let start = offset.min(self.count);
        let end = start.saturating_add(limit).min(self.count);
        (start..end).map(move |i| this.generate(i))
    }

    /// Every person, in id order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = Person> + use<> {
        self.iter_range(0, self.count)
    }

    fn generate(&self, index: usize) -> Person {
        let number = index as u64 + 1;
        let hash = splitmix64(self.seed ^ splitmix64(number));
        let first = FIRST_NAMES[(hash % FIRST_NAMES.len() as u64) as usize];
        let last = LAST_NAMES[((hash >> 32) % LAST_NAMES.len() as u64) as usize];
        let login = format!(
            "{}.{}{number}",
            first.to_ascii_lowercase(),
            last.to_ascii_lowercase()
        );
        Person {
            id: format!("u-{number:0width$}", width = self.id_digits),
            email: format!("{login}@example.com"),
            login,
            first_name: first.to_owned(),
            last_name: last.to_owned(),
            active: number % 17 != 0,
        }
    }
}

/// SplitMix64 finaliser: a fixed, well-mixed hash, so the data never changes with a
/// dependency's RNG algorithm.
fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn ids_are_numbered_padded_and_sorted() {
        let people = SyntheticPeople::new(250_000, 7);
        assert_eq!(people.person(0).unwrap().id, "u-000001");
        assert_eq!(people.person(122).unwrap().id, "u-000123");
        assert_eq!(people.person(249_999).unwrap().id, "u-250000");
        assert_eq!(people.person(250_000), None);

        let ids: Vec<String> = people.iter_range(99_990, 20).map(|p| p.id).collect();
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(ids, sorted, "lexical order must equal numeric order");
        assert_eq!(ids.first().unwrap(), "u-099991");
        assert_eq!(ids.last().unwrap(), "u-100010");
    }

    #[test]
    fn ids_widen_when_the_count_needs_more_digits() {
        let people = SyntheticPeople::new(1_200_000, 1);
        assert_eq!(people.person(0).unwrap().id, "u-0000001");
        assert!(people.person(999_999).unwrap().id < people.person(1_000_000).unwrap().id);
    }

    #[test]
    fn same_seed_same_people_other_seed_other_names() {
        let a = SyntheticPeople::new(1000, 42);
        let b = SyntheticPeople::new(1000, 42);
        let c = SyntheticPeople::new(1000, 43);
        assert_eq!(a.iter().collect::<Vec<_>>(), b.iter().collect::<Vec<_>>());

        let differing = a
            .iter()
            .zip(c.iter())
            .filter(|(x, y)| x.login != y.login)
            .count();
        assert!(
            differing > 500,
            "only {differing} of 1000 logins changed with the seed"
        );
        // The data set size does not change a person's names.
        assert_eq!(
            SyntheticPeople::new(10, 42).person(5).unwrap().login,
            a.person(5).unwrap().login
        );
    }

    #[test]
    fn fields_follow_the_documented_shape() {
        let people = SyntheticPeople::new(100, 3);
        let logins: HashSet<String> = people.iter().map(|p| p.login).collect();
        assert_eq!(logins.len(), 100, "logins are unique");

        let p = people.person(16).unwrap();
        assert_eq!(p.id, "u-000017");
        assert!(!p.active, "the 17th person is inactive");
        assert!(people.person(15).unwrap().active);
        assert!(FIRST_NAMES.contains(&p.first_name.as_str()));
        assert!(LAST_NAMES.contains(&p.last_name.as_str()));
        assert_eq!(
            p.login,
            format!(
                "{}.{}17",
                p.first_name.to_lowercase(),
                p.last_name.to_lowercase()
            )
        );
        assert_eq!(p.email, format!("{}@example.com", p.login));
        assert_eq!(people.iter().filter(|p| !p.active).count(), 5); // 17, 34, 51, 68, 85
    }

    #[test]
    fn iter_range_clamps_at_the_end() {
        let people = SyntheticPeople::new(25, 0);
        assert_eq!(people.iter_range(20, 10).len(), 5);
        assert_eq!(people.iter_range(25, 10).len(), 0);
        assert_eq!(people.iter_range(usize::MAX, usize::MAX).len(), 0);
        assert_eq!(people.iter_range(0, usize::MAX).len(), 25);
        assert!(SyntheticPeople::new(0, 0).is_empty());
    }

    #[test]
    fn person_serialises_as_flat_json() {
        let p = SyntheticPeople::new(5, 0).person(0).unwrap();
        let json = serde_json::to_value(&p).unwrap();
        assert_eq!(json["id"], "u-000001");
        assert_eq!(json["active"], true);
        assert_eq!(json["login"], p.login.as_str());
        assert_eq!(json.as_object().unwrap().len(), 6);
    }
}
