//! Partitioned account listings: user id ranges, as two search criteria on the id
//! (`ID >N` and `ID <M`, which GLPI's number search options accept in a `contains`
//! criterion), so accounts import as several concurrent keyset listings
//! ([`accesslink_core::partition`]).
//!
//! The plan asks once for the highest user id (`/search/User` sorted by id, descending,
//! one row) and cuts `1..=max` into ranges of equal width: GLPI ids are auto-increment,
//! so purged users only leave gaps. The last range has no upper bound, so users
//! created after planning are read too.
//!
//! Grants (`Group_User`, `Profile_User`) are read with `GET /<Itemtype>`, which has no
//! id filter: they are not split and run as one partition. Only the account search is
//! keyset-paged with an order check, so only there is duplicate tracking off by default.

use accesslink_core::partition::{KeyRange, Listing, Partition, Partitioner};
use accesslink_core::{Error, Result, async_trait};

use crate::api::{SearchQuery, row_u64};
use crate::connector::GlpiConnector;
use crate::paging::ID_FIELD;

/// The ids a range allows as `(after, below)`: ids greater than `after` and less than
/// `below` (when set). Text ranges are `InvalidInput`.
pub(crate) fn id_bounds(range: &KeyRange) -> Result<(u64, Option<u64>)> {
    match range {
        KeyRange::All => Ok((0, None)),
        KeyRange::Number { from, to } => Ok((from.map_or(0, |f| f.saturating_sub(1)), *to)),
        other => Err(Error::invalid_input(format!(
            "GLPI user listings split on id ranges, not {other}"
        ))),
    }
}

#[async_trait]
impl Partitioner for GlpiConnector {
    /// Accounts only.
    fn splits(&self, listing: &Listing) -> bool {
        *listing == Listing::Accounts
    }

    /// The account search is keyset-paged on the id with an order check.
    fn keyset(&self, listing: &Listing) -> bool {
        *listing == Listing::Accounts
    }

    /// Equal-width id ranges up to the highest user id.
    async fn partitions(&self, listing: &Listing, n: u32) -> Result<Vec<Partition>> {
        if !self.splits(listing) || n <= 1 {
            return Ok(Partition::whole(listing));
        }
        let mut query = SearchQuery::new(1).display([ID_FIELD]).sort(ID_FIELD);
        query.descending = true;
        let found = self.client.users().search(&query).await?;
        let Some(max) = found.rows.first().and_then(|r| row_u64(r, ID_FIELD)) else {
            return Ok(Partition::whole(listing));
        };
        Ok(Partition::plan(listing, KeyRange::split_numbers(1, max, n)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_become_id_bounds() {
        assert_eq!(id_bounds(&KeyRange::All).unwrap(), (0, None));
        let r = KeyRange::Number {
            from: Some(11),
            to: Some(21),
        };
        // Ids 11..=20: greater than 10, less than 21.
        assert_eq!(id_bounds(&r).unwrap(), (10, Some(21)));
        let first = KeyRange::Number {
            from: None,
            to: Some(5),
        };
        assert_eq!(id_bounds(&first).unwrap(), (0, Some(5)));
        let text = KeyRange::Text {
            from: None,
            to: None,
        };
        assert_eq!(
            id_bounds(&text).unwrap_err().kind(),
            accesslink_core::ErrorKind::InvalidInput
        );
    }
}
