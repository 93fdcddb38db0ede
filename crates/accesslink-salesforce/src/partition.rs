//! Partitioned account imports: `User` `Id` ranges (`Id >= 'X' AND Id < 'Y'`), each
//! drained by the usual keyset paging (`Id > :last ORDER BY Id`), so a large org imports
//! as several concurrent listings ([`accesslink_core::partition`]).
//!
//! **Id order.** SOQL compares and sorts `Id`s as their characters: base-62 digits
//! `0-9`, `A-Z`, `a-z`, case-sensitive, which is byte order (PK chunking relies on the
//! same order). Bounds are always written in the canonical 18-character form, whose
//! byte order is that of the 15-character ids, so the runner's check of each id
//! against its range (byte order) agrees with the server. The listing also checks that
//! every row comes after the previous one in byte order: an org that sorted otherwise
//! would stop the import with a `Protocol` error, never lose or repeat a row.
//!
//! **Where to cut.** One `SELECT COUNT() FROM User WHERE UserType = 'Standard'` gives the
//! size. When every cut's position `k = total·i/n` is within SOQL's `OFFSET` cap of
//! 2,000 ([`MAX_OFFSET`]), the cuts are the ids at those positions
//! (`… ORDER BY Id LIMIT 1 OFFSET k`, one query each, in parallel): exact quantiles.
//! Beyond the cap (orgs of more than about 2,000·n/(n−1) users) the plan reads the
//! lowest and the highest id and cuts the base-62 interval between them into `n`
//! equal widths: ids of one org are allocated by a counter, so the widths are about
//! balanced; ids from other pods or migrations can make them uneven, never wrong.
//! Either way the ranges cover every id (the first is open below, the last above), so
//! users created after planning are read too: the cuts decide the balance, not what
//! is read.
//!
//! Grants are not split (their listings run as one partition). Every listing is
//! keyset-paged on `Id` with an order check, so no page can repeat a row: duplicate
//! tracking is off by default for them ([`Partitioner::keyset`]).

use accesslink_core::partition::{KeyRange, Listing, Partition, Partitioner};
use accesslink_core::{Error, Result, async_trait};
use serde::Deserialize;
use serde_json::Value;

use crate::connector::SalesforceConnector;
use crate::ids::SfId;
use crate::soql::{MAX_OFFSET, Soql};

/// The condition every account listing carries: internal users.
pub(crate) fn internal_users(q: Soql) -> Result<Soql> {
    q.eq("UserType", "Standard")
}

/// Whether `bound` is a canonical 18-character id (what the plan writes). Anything
/// else in a range (a 15-character id, another case, a quote) is refused: the server's
/// and the runner's comparisons would no longer agree.
fn check_bound(bound: &str) -> Result<()> {
    match SfId::parse(bound) {
        Ok(id) if id.as_str() == bound => Ok(()),
        _ => Err(Error::invalid_input(format!(
            "a Salesforce partition bound is an 18-character id: {:?}",
            accesslink_core::redact::truncate(bound, 40)
        ))),
    }
}

/// Adds a key range's `Id >= 'from' AND Id < 'to'` to a query. Number ranges and
/// malformed bounds are `InvalidInput`, before any request.
pub(crate) fn with_range(q: Soql, range: &KeyRange) -> Result<Soql> {
    match range {
        KeyRange::All => Ok(q),
        KeyRange::Text { from, to } => {
            let mut q = q;
            if let Some(f) = from {
                check_bound(f)?;
                q = q.ge("Id", f)?;
            }
            if let Some(t) = to {
                check_bound(t)?;
                q = q.lt("Id", t)?;
            }
            Ok(q)
        }
        other => Err(Error::invalid_input(format!(
            "Salesforce user listings split on Id text ranges, not {other}"
        ))),
    }
}

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// The 15-character id as a base-62 number (its byte order is the number's order).
fn id_number(id: &SfId) -> u128 {
    id.short().bytes().fold(0u128, |n, b| {
        let digit = BASE62.iter().position(|d| *d == b).unwrap_or(0) as u128;
        n * 62 + digit
    })
}

/// The canonical id of a base-62 number below 62^15.
fn id_of_number(mut n: u128) -> Option<SfId> {
    let mut digits = [b'0'; 15];
    for d in digits.iter_mut().rev() {
        *d = BASE62[(n % 62) as usize];
        n /= 62;
    }
    if n != 0 {
        return None;
    }
    SfId::parse(std::str::from_utf8(&digits).ok()?).ok()
}

/// `n` equal-width cuts of the base-62 interval `[lo, hi]`, strictly inside it.
fn interpolate(lo: &SfId, hi: &SfId, n: u32) -> Vec<String> {
    let (a, b) = (id_number(lo), id_number(hi));
    if b <= a {
        return Vec::new();
    }
    let span = b - a + 1;
    (1..u128::from(n))
        .filter_map(|i| {
            let cut = a + span * i / u128::from(n);
            (cut > a && cut <= b).then_some(cut)
        })
        .filter_map(id_of_number)
        .map(|id| id.as_str().to_owned())
        .collect()
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct IdOnly {
    id: String,
}

impl SalesforceConnector {
    /// The internal users' ids in `Id` order, `LIMIT 1`, optionally from the end or at
    /// an offset.
    async fn id_at(&self, desc: bool, offset: u32) -> Result<Option<SfId>> {
        let mut q = internal_users(Soql::select(&["Id"], "User")?)?
            .order_by("Id", desc)?
            .limit(1);
        if offset > 0 {
            q = q.offset(offset)?;
        }
        let page: crate::models::QueryPage<IdOnly> = self.client.query_page(&q, None).await?;
        page.records
            .into_iter()
            .next()
            .map(|r| {
                SfId::parse(&r.id).map_err(|_| {
                    Error::protocol("salesforce User listing", "an Id that is not an id")
                })
            })
            .transpose()
    }

    /// The cut ids of a plan of `n` partitions (see the module docs).
    async fn user_cuts(&self, n: u32) -> Result<Vec<String>> {
        let count = internal_users(Soql::count("User")?)?;
        let page: crate::models::QueryPage<Value> = self.client.query_page(&count, None).await?;
        let total = page.total_size;
        let mut offsets: Vec<u64> = (1..u64::from(n))
            .map(|i| total * i / u64::from(n))
            .filter(|&k| k > 0 && k < total)
            .collect();
        // Fewer users than partitions: several cuts at one position.
        offsets.dedup();
        if offsets.is_empty() {
            return Ok(Vec::new());
        }
        if offsets.iter().all(|&k| k <= u64::from(MAX_OFFSET)) {
            let looks = offsets.iter().map(|&k| self.id_at(false, k as u32));
            let found = futures::future::try_join_all(looks).await?;
            return Ok(found
                .into_iter()
                .flatten()
                .map(|id| id.as_str().to_owned())
                .collect());
        }
        let (lo, hi) = futures::future::try_join(self.id_at(false, 0), self.id_at(true, 0)).await?;
        Ok(match (lo, hi) {
            (Some(lo), Some(hi)) => interpolate(&lo, &hi, n),
            _ => Vec::new(),
        })
    }
}

#[async_trait]
impl Partitioner for SalesforceConnector {
    /// Accounts (`User`).
    fn splits(&self, listing: &Listing) -> bool {
        *listing == Listing::Accounts
    }

    /// Accounts and every grant listing are keyset-paged on `Id` with an order check.
    fn keyset(&self, listing: &Listing) -> bool {
        match listing {
            Listing::Accounts => true,
            Listing::Grants { entitlement_type } => self.assignment_kind(entitlement_type).is_ok(),
            _ => false,
        }
    }

    /// `Id` ranges cut at quantiles, or at equal base-62 widths past the `OFFSET` cap
    /// (see the module docs); one partition when `n` is 1, the org has no users or the
    /// listing is not the accounts'.
    async fn partitions(&self, listing: &Listing, n: u32) -> Result<Vec<Partition>> {
        if !self.splits(listing) || n <= 1 {
            return Ok(Partition::whole(listing));
        }
        self.import_budget("partition plan")?;
        let cuts = self.user_cuts(n).await?;
        if cuts.is_empty() {
            return Ok(Partition::whole(listing));
        }
        Ok(Partition::plan(listing, KeyRange::split_text(cuts)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use accesslink_core::ErrorKind;

    fn id(s: &str) -> SfId {
        SfId::parse(s).unwrap()
    }

    #[test]
    fn base62_round_trips_in_byte_order() {
        let a = id("005Dw0AbA000001");
        let b = id("005Dw0AbZ00zzzz");
        assert!(id_number(&a) < id_number(&b));
        assert_eq!(id_of_number(id_number(&a)).unwrap(), a);
        assert_eq!(id_of_number(id_number(&b)).unwrap(), b);
        // "9" < "A" < "a" in bytes and in digit value.
        let nine = id("005Dw0Ab9000000");
        let upper = id("005Dw0AbA000000");
        let lower = id("005Dw0Aba000000");
        assert!(id_number(&nine) < id_number(&upper));
        assert!(id_number(&upper) < id_number(&lower));
        assert!(id_of_number(62u128.pow(15)).is_none());
    }

    #[test]
    fn interpolated_cuts_are_sorted_inside_the_interval() {
        let lo = id("005Dw0AbA000001");
        let hi = id("005Dw0AbZ000100");
        let cuts = interpolate(&lo, &hi, 8);
        assert_eq!(cuts.len(), 7);
        let mut sorted = cuts.clone();
        sorted.sort();
        assert_eq!(sorted, cuts, "byte order is numeric order");
        assert!(
            cuts.iter()
                .all(|c| c.as_str() > lo.as_str() && c.as_str() <= hi.as_str())
        );
        assert!(cuts.iter().all(|c| check_bound(c).is_ok()));
        // One id, or a reversed pair: nothing to cut.
        assert!(interpolate(&lo, &lo, 8).is_empty());
        assert!(interpolate(&hi, &lo, 8).is_empty());
    }

    #[test]
    fn ranges_become_id_conditions_and_hostile_bounds_are_refused() {
        let base = || Soql::select(&["Id"], "User").unwrap();
        let from = id("005Dw0AbA000001");
        let to = id("005Dw0AbZ000100");
        let r = KeyRange::Text {
            from: Some(from.as_str().into()),
            to: Some(to.as_str().into()),
        };
        assert_eq!(
            with_range(base(), &r).unwrap().as_str(),
            format!("SELECT Id FROM User WHERE Id >= '{from}' AND Id < '{to}'")
        );
        assert_eq!(
            with_range(base(), &KeyRange::All).unwrap().as_str(),
            "SELECT Id FROM User"
        );
        for bad in [
            "005Dw0AbA000001",                     // 15 characters
            "005Dw0AbA000001AAA",                  // a suffix that says another case
            "005Dw0AbA00000' OR Id != null OR 'x", // injection
            "",
        ] {
            let r = KeyRange::Text {
                from: Some(bad.to_owned()),
                to: None,
            };
            assert_eq!(
                with_range(base(), &r).unwrap_err().kind(),
                ErrorKind::InvalidInput,
                "{bad}"
            );
        }
        let n = KeyRange::Number {
            from: Some(1),
            to: None,
        };
        assert_eq!(
            with_range(base(), &n).unwrap_err().kind(),
            ErrorKind::InvalidInput
        );
    }
}
