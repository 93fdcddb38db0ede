//! Partitioned listings: `sys_id` key ranges (`sys_id>=X^sys_id<Y`, then the keyset
//! condition and `ORDERBYsys_id`), so accounts and grants import as several concurrent
//! keyset listings ([`accesslink_core::partition`]).
//!
//! **Where to cut.** A `sys_id` is 32 hex digits, but not reliably uniform ones:
//! records loaded by an import set or shipped with a plugin share long prefixes, so
//! equal-width hex prefix ranges can leave one partition with most of the rows. The plan
//! cuts at quantiles instead: one counted request for the table's size, then (in
//! parallel) one `sysparm_limit=1&sysparm_offset=k` request per cut for the `sys_id` at
//! position `k` in `sys_id` order, `sysparm_fields=sys_id` only. A cut whose row is
//! hidden by an ACL (the instance drops it after the limit) is left out, merging two
//! partitions. Without `X-Total-Count` the plan falls back to hex prefix ranges
//! ([`KeyRange::split_hex`]). Either way the ranges cover every key, rows inserted after
//! planning included: the cuts only decide the balance, never what is read.
//!
//! Every listing is keyset-paged with a strict order check ([`crate::paging`]), so no
//! page can repeat a row: duplicate tracking is off by default for the partitions
//! ([`Partitioner::keyset`]).

use accesslink_core::partition::{KeyRange, Listing, Partition, Partitioner};
use accesslink_core::{Error, Result, async_trait};
use serde::Deserialize;

use crate::api::ListParams;
use crate::connector::ServiceNowConnector;
use crate::models::{HasSysId, Record};
use crate::query::Query;

/// The table a listing reads, when it can be split.
fn table_of(listing: &Listing) -> Option<&'static str> {
    match listing {
        Listing::Accounts => Some("sys_user"),
        Listing::Grants { entitlement_type } => match entitlement_type.as_str() {
            "group" => Some("sys_user_grmember"),
            "role" => Some("sys_user_has_role"),
            _ => None,
        },
        _ => None,
    }
}

/// Whether `v` can bound a `sys_id` range: lowercase hex, at most 32 digits (so it can
/// neither carry a `^` nor compare in another order than the instance's).
fn is_bound(v: &str) -> bool {
    !v.is_empty() && v.len() <= 32 && v.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// The filter of a key range: `sys_id>=from^sys_id<to`. Other ranges, and bounds that
/// are not lowercase hex, are `InvalidInput` (checked before any request).
pub(crate) fn range_filter(range: &KeyRange) -> Result<Query> {
    let mut q = Query::new();
    match range {
        KeyRange::All => {}
        KeyRange::Text { from, to } => {
            for b in [from, to].into_iter().flatten() {
                if !is_bound(b) {
                    return Err(Error::invalid_input(format!(
                        "a ServiceNow partition bound is lowercase hex, at most 32 digits: {:?}",
                        accesslink_core::redact::truncate(b, 40)
                    )));
                }
            }
            if let Some(f) = from {
                q = q.ge("sys_id", f);
            }
            if let Some(t) = to {
                q = q.lt("sys_id", t);
            }
        }
        other => {
            return Err(Error::invalid_input(format!(
                "ServiceNow listings split on sys_id text ranges, not {other}"
            )));
        }
    }
    Ok(q)
}

/// A row with only its `sys_id`, for the cut look-ups.
#[derive(Debug, Deserialize)]
struct SysIdOnly {
    sys_id: Option<String>,
}

impl Record for SysIdOnly {
    fn fields() -> Option<&'static [&'static str]> {
        Some(&["sys_id"])
    }
}

impl HasSysId for SysIdOnly {
    fn sys_id(&self) -> Option<&str> {
        self.sys_id.as_deref()
    }
}

impl ServiceNowConnector {
    /// The `sys_id`s at the `n`-quantiles of `table` in `sys_id` order; `None` when the
    /// instance sent no count.
    async fn cuts(&self, table: &str, n: u32) -> Result<Option<Vec<String>>> {
        let api = self.client.table::<SysIdOnly>(table);
        let by_id = || ListParams::new(Query::new().order_by("sys_id")).limit(1);
        let Some(total) = api.list_page(&by_id()).await?.total else {
            return Ok(None);
        };
        let n = u64::from(n);
        let offsets: Vec<u64> = (1..n)
            .map(|i| total * i / n)
            .filter(|&k| k > 0 && k < total)
            .collect();
        let looks = offsets.iter().map(|&k| {
            let api = &api;
            async move {
                let page = api.list_page(&by_id().offset(k).no_count(true)).await?;
                Ok::<_, Error>(page.items.into_iter().next().and_then(|r| r.sys_id))
            }
        });
        let found = futures::future::try_join_all(looks).await?;
        Ok(Some(
            found
                .into_iter()
                .flatten()
                .filter(|s| is_bound(s))
                .collect(),
        ))
    }
}

#[async_trait]
impl Partitioner for ServiceNowConnector {
    /// Accounts, group memberships and role grants.
    fn splits(&self, listing: &Listing) -> bool {
        table_of(listing).is_some()
    }

    /// Every listing is keyset-paged on `sys_id` with an order check.
    fn keyset(&self, listing: &Listing) -> bool {
        table_of(listing).is_some()
    }

    /// Cut at `sys_id` quantiles (see the module docs); one partition when `n` is 1 or
    /// the listing cannot be split.
    async fn partitions(&self, listing: &Listing, n: u32) -> Result<Vec<Partition>> {
        let Some(table) = table_of(listing).filter(|_| n > 1) else {
            return Ok(Partition::whole(listing));
        };
        let ranges = match self.cuts(table, n).await? {
            Some(cuts) => KeyRange::split_text(cuts),
            None => KeyRange::split_hex(n),
        };
        Ok(Partition::plan(listing, ranges))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use accesslink_core::ErrorKind;

    #[test]
    fn ranges_become_sys_id_conditions_and_hostile_bounds_are_refused() {
        let r = KeyRange::Text {
            from: Some("4000".into()),
            to: Some("8000".into()),
        };
        assert_eq!(
            range_filter(&r).unwrap().encode().unwrap().as_deref(),
            Some("sys_id>=4000^sys_id<8000")
        );
        let open = KeyRange::Text {
            from: None,
            to: Some("8".into()),
        };
        assert_eq!(
            range_filter(&open).unwrap().encode().unwrap().as_deref(),
            Some("sys_id<8")
        );
        assert_eq!(
            range_filter(&KeyRange::All).unwrap().encode().unwrap(),
            None
        );
        for bad in ["4000^ORactive=true", "ABCD", "", &"a".repeat(33)] {
            let r = KeyRange::Text {
                from: Some(bad.to_owned()),
                to: None,
            };
            assert_eq!(
                range_filter(&r).unwrap_err().kind(),
                ErrorKind::InvalidInput,
                "{bad}"
            );
        }
        let n = KeyRange::Number {
            from: Some(1),
            to: None,
        };
        assert_eq!(
            range_filter(&n).unwrap_err().kind(),
            ErrorKind::InvalidInput
        );
    }
}
