//! Partitioned account imports: `CTM:People` split on `Remedy Login ID` ranges
//! (`'Remedy Login ID' >= "a" AND 'Remedy Login ID' < "m"`), each range read by keyset
//! (`'Remedy Login ID' > "last"`, `sort=Remedy Login ID.asc`), so a large people form
//! imports as several concurrent listings ([`accesslink_core::partition`]).
//!
//! **Why the login, not `Person ID`/`Request ID`.** The account id is the login, and the
//! partition runner checks every account's id against its partition's range: that
//! check is what turns a server that ignored the range into a `Protocol` error instead
//! of rows in several partitions. A split on another field could not be checked, so
//! the split is on the field the runner sees.
//!
//! **Where to cut.** AR REST lists report no total. The plan reads the logins in login
//! order, one page of up to 2,000 (`fields=values(Remedy Login ID)`): a form that fits
//! is cut at exact quantiles from that page, with no further request. A larger form's
//! size is found by probing `offset=k&limit=1` (doubling, then halving to within about
//! 3 %), and the cuts are the logins at `size·i/n`, one `limit=1` look-up each, in
//! parallel: balanced partitions for about `2·log2(size/2000) + n` small requests. A
//! look-up past the end (the estimate is a little high) drops its cut, merging two
//! partitions. A server cap on entries per call ("Max Entries Returned by GetList")
//! that is not configured as `max_entries_returned` makes a short first page look like
//! the whole form: the cuts then fall among its logins and the last partition is the
//! largest — unbalanced, never wrong. Either way the ranges cover every login, those created after planning
//! included: the cuts decide the balance, never what is read.
//!
//! **Order (unverified, hedged).** The split assumes the server compares and sorts
//! `Remedy Login ID` in byte order, as a binary collation does; lowercase ASCII logins
//! (the usual convention) compare the same under case-insensitive collations too. A
//! server that orders otherwise cannot lose or repeat a row unnoticed: each page is
//! checked to be in strictly increasing byte order after the previous one, and the
//! runner checks each login against its range; either stops the import with a
//! `Protocol` error (then import with one partition).
//!
//! Grants are not split. Accounts are paged with an order check in both modes (entry
//! ids for the plain listing, logins in a range), so no page can repeat a row:
//! duplicate tracking is off by default ([`Partitioner::keyset`]).

use accesslink_core::partition::{KeyRange, Listing, Partition, Partitioner};
use accesslink_core::{Error, PageToken, Result, async_trait};

use crate::connector::HelixConnector;
use crate::qual::{Qual, Value as QValue};

/// The field accounts are keyed and split on.
pub(crate) const LOGIN: &str = "Remedy Login ID";
/// The sort of a range listing and of the plan's look-ups.
const BY_LOGIN: &str = "Remedy Login ID.asc";
/// The prefix of a keyset page token (`L:<last login>`), unlike the plain listing's
/// `<offset>:<entry id>`.
const KEYSET: &str = "L:";

/// A login as a qualification value: non-empty, no quotes or control characters.
fn login_value(login: &str, what: &str) -> Result<QValue> {
    if login.is_empty() {
        return Err(Error::invalid_input(format!("an empty login as {what}")));
    }
    QValue::text(login)
}

/// The qualification of a key range (`None` for every login). Number ranges and bounds
/// that cannot be written as a value are `InvalidInput`, before any request.
pub(crate) fn range_qual(range: &KeyRange) -> Result<Vec<Qual>> {
    match range {
        KeyRange::All => Ok(Vec::new()),
        KeyRange::Text { from, to } => {
            let mut parts = Vec::new();
            if let Some(f) = from {
                parts.push(Qual::ge(LOGIN, &login_value(f, "a partition bound")?)?);
            }
            if let Some(t) = to {
                parts.push(Qual::lt(LOGIN, &login_value(t, "a partition bound")?)?);
            }
            Ok(parts)
        }
        other => Err(Error::invalid_input(format!(
            "Helix people split on Remedy Login ID text ranges, not {other}"
        ))),
    }
}

/// The last login of a keyset page token; `None` at the start of a range.
pub(crate) fn keyset_after(token: Option<&PageToken>) -> Result<Option<String>> {
    let Some(t) = token else {
        return Ok(None);
    };
    let last = t.as_str().strip_prefix(KEYSET).ok_or_else(|| {
        Error::invalid_input(format!(
            "{:?} is not a Helix page token of a partition",
            accesslink_core::redact::truncate(t.as_str(), 40)
        ))
    })?;
    login_value(last, "a page token")?;
    Ok(Some(last.to_owned()))
}

/// The token of the page after `last`.
pub(crate) fn keyset_token(last: &str) -> PageToken {
    PageToken::new(format!("{KEYSET}{last}"))
}

/// The sort every range listing uses.
pub(crate) fn by_login() -> &'static str {
    BY_LOGIN
}

/// The offsets `size·i/n` (`0 < k < size`), without repeats.
fn cut_offsets(size: u64, n: u32) -> Vec<u64> {
    let mut offsets: Vec<u64> = (1..u64::from(n))
        .map(|i| size * i / u64::from(n))
        .filter(|&k| k > 0 && k < size)
        .collect();
    offsets.dedup();
    offsets
}

impl HelixConnector {
    /// The people form's entries at `offset` in login order: one, or none past the end.
    async fn entries_at(&self, offset: u64) -> Result<Vec<crate::models::Entry>> {
        Ok(self
            .client
            .list_sorted(
                &self.settings.people.form,
                None,
                &[LOGIN],
                BY_LOGIN,
                offset,
                1,
            )
            .await?
            .entries)
    }

    /// The login at `offset` in login order, if there is one.
    async fn login_at(&self, offset: u64) -> Result<Option<String>> {
        Ok(self
            .entries_at(offset)
            .await?
            .first()
            .and_then(|e| e.text(LOGIN)))
    }

    /// Whether the people form has an entry at `offset`.
    async fn has_entry_at(&self, offset: u64) -> Result<bool> {
        Ok(!self.entries_at(offset).await?.is_empty())
    }

    /// The cut logins of a plan of `n` partitions (see the module docs).
    async fn login_cuts(&self, n: u32) -> Result<Vec<String>> {
        let probe = self
            .settings
            .max_entries_returned
            .map_or(2000, |m| m.min(2000))
            .max(1);
        let first = self
            .client
            .list_sorted(
                &self.settings.people.form,
                None,
                &[LOGIN],
                BY_LOGIN,
                0,
                probe,
            )
            .await?;
        let logins: Vec<String> = first.entries.iter().filter_map(|e| e.text(LOGIN)).collect();
        if !first.more {
            let size = logins.len() as u64;
            return Ok(cut_offsets(size, n)
                .into_iter()
                .filter_map(|k| logins.get(k as usize).cloned())
                .collect());
        }
        // At least `lo` entries; doubling finds an offset past the end, halving narrows.
        let mut lo = first.entries.len() as u64;
        let mut hi = None;
        for _ in 0..64 {
            let k = lo.saturating_mul(2);
            if self.has_entry_at(k).await? {
                lo = k + 1;
            } else {
                hi = Some(k);
                break;
            }
        }
        let mut hi = hi.ok_or_else(|| {
            Error::protocol(
                "GET /entry/CTM:People",
                "no end found while sizing the form",
            )
        })?;
        while hi - lo > (lo / 32).max(1) {
            let mid = lo + (hi - lo) / 2;
            if self.has_entry_at(mid).await? {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        let logins = &logins;
        let looks = cut_offsets(hi, n).into_iter().map(|k| async move {
            match logins.get(k as usize) {
                Some(l) => Ok(Some(l.clone())),
                None => self.login_at(k).await,
            }
        });
        let found = futures::future::try_join_all(looks).await?;
        Ok(found.into_iter().flatten().collect())
    }
}

#[async_trait]
impl Partitioner for HelixConnector {
    /// Accounts (`CTM:People`).
    fn splits(&self, listing: &Listing) -> bool {
        *listing == Listing::Accounts
    }

    /// Accounts are paged with a strict order check in both modes.
    fn keyset(&self, listing: &Listing) -> bool {
        *listing == Listing::Accounts
    }

    /// Login ranges cut at quantiles (see the module docs); one partition when `n` is
    /// 1, the form is empty or the listing is not the accounts'.
    async fn partitions(&self, listing: &Listing, n: u32) -> Result<Vec<Partition>> {
        if !self.splits(listing) || n <= 1 {
            return Ok(Partition::whole(listing));
        }
        // A login that cannot be written as a bound (a quote in it) is left out as a
        // cut, merging two partitions.
        let cuts: Vec<String> = self
            .login_cuts(n)
            .await?
            .into_iter()
            .filter(|c| login_value(c, "a cut").is_ok())
            .collect();
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

    #[test]
    fn ranges_become_login_conditions_and_hostile_bounds_are_refused() {
        let r = KeyRange::Text {
            from: Some("j.doe".into()),
            to: Some("m.smith".into()),
        };
        let q = Qual::and(range_qual(&r).unwrap()).unwrap();
        assert_eq!(
            q.as_str(),
            "('Remedy Login ID' >= \"j.doe\" AND 'Remedy Login ID' < \"m.smith\")"
        );
        assert!(range_qual(&KeyRange::All).unwrap().is_empty());
        for bad in ["a\" OR 'Status' != \"", "it's", "", "a\nb"] {
            let r = KeyRange::Text {
                from: None,
                to: Some(bad.to_owned()),
            };
            assert_eq!(
                range_qual(&r).unwrap_err().kind(),
                ErrorKind::InvalidInput,
                "{bad:?}"
            );
        }
        let n = KeyRange::Number {
            from: Some(1),
            to: None,
        };
        assert_eq!(range_qual(&n).unwrap_err().kind(), ErrorKind::InvalidInput);
    }

    #[test]
    fn keyset_tokens() {
        assert_eq!(keyset_after(None).unwrap(), None);
        let t = keyset_token("a.b:c");
        assert_eq!(keyset_after(Some(&t)).unwrap().as_deref(), Some("a.b:c"));
        for bad in ["40:000000000000012", "L:", "L:x\"y"] {
            assert_eq!(
                keyset_after(Some(&PageToken::new(bad))).unwrap_err().kind(),
                ErrorKind::InvalidInput,
                "{bad}"
            );
        }
    }

    #[test]
    fn cut_offsets_are_inside_and_unique() {
        assert_eq!(cut_offsets(2991, 3), vec![997, 1994]);
        assert_eq!(cut_offsets(3, 8), vec![1, 2]);
        assert!(cut_offsets(0, 8).is_empty());
        assert!(cut_offsets(1, 8).is_empty());
    }
}
