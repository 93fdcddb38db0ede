//! Partitioned account imports: user id ranges as two search criteria, run
//! concurrently, checked against the queries the mock received. That every user
//! arrives exactly once, with 1, 3 and 8 partitions, after a resume and when the
//! server ignores the ranges, is checked by the conformance suite
//! (`tests/it/conformance.rs`).

use std::collections::BTreeSet;

use accesslink_core::paging::{self, PagingOptions};
use accesslink_core::partition::{
    KeyRange, Listing, Partition, Partitioner, Partitions, accounts_partitioned, grants_partitioned,
};
use accesslink_core::{EntitlementType, ErrorKind};
use accesslink_testkit::glpi::GlpiMock;
use futures::TryStreamExt;

use crate::on_mock;

/// The `criteria[i][value]`s, `sort`, `order` and `range` of a search request.
fn search_params(
    r: &accesslink_testkit::ReceivedRequest,
) -> (Vec<String>, Option<String>, Option<String>) {
    let q: Vec<(String, String)> = r.url.query_pairs().into_owned().collect();
    let get = |k: &str| q.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let values = q
        .iter()
        .filter(|(k, _)| k.starts_with("criteria[") && k.ends_with("[value]"))
        .map(|(_, v)| v.clone())
        .collect();
    (values, get("order"), get("range"))
}

#[tokio::test]
async fn accounts_split_on_id_ranges_as_search_criteria() {
    let mock = GlpiMock::builder().generated_users(230).start().await;
    let glpi = on_mock(&mock);
    let plain: BTreeSet<String> = paging::accounts(&glpi, PagingOptions::new())
        .map_ok(|a| a.id.to_string())
        .try_collect()
        .await
        .unwrap();
    assert!(plain.len() >= 230, "{}", plain.len());
    let max: u64 = plain
        .iter()
        .map(|id| id.parse::<u64>().unwrap())
        .max()
        .unwrap();
    let before = mock.received().await.len();

    let s = accounts_partitioned(
        &glpi,
        Partitions::new(4),
        PagingOptions::new().page_size(40),
    );
    let h = s.handle();
    let got: Vec<String> = s.map_ok(|a| a.id.to_string()).try_collect().await.unwrap();
    assert_eq!(got.len(), plain.len());

    let report = h.report();
    let ranges: Vec<KeyRange> = report
        .partitions
        .iter()
        .map(|p| p.partition.range.clone())
        .collect();
    // Equal widths over 1..=max, the last one open.
    assert_eq!(ranges, KeyRange::split_numbers(1, max, 4));

    let searches: Vec<_> = mock.received().await[before..]
        .iter()
        .filter(|r| r.url.path().ends_with("/search/User"))
        .cloned()
        .collect();
    // The plan: the highest id, one row, sorted descending.
    let (values, order, range) = search_params(&searches[0]);
    assert_eq!(
        (values.len(), order.as_deref(), range.as_deref()),
        (0, Some("DESC"), Some("0-0"))
    );
    // Each partition's first page: `>from-1`, and `<to` except for the last one.
    for r in &ranges {
        let KeyRange::Number { from, to } = r else {
            panic!("{r:?}")
        };
        let mut want = vec![format!(">{}", from.map_or(0, |f| f - 1))];
        want.extend(to.map(|t| format!("<{t}")));
        assert!(
            searches.iter().any(|s| search_params(s).0 == want),
            "no first page with {want:?}"
        );
    }
    for s in &searches[1..] {
        let (values, order, _) = search_params(s);
        assert_eq!(order.as_deref(), Some("ASC"));
        assert!(
            !values.is_empty() && values[0].starts_with('>'),
            "{values:?}"
        );
    }
}

#[tokio::test]
async fn grants_do_not_split_and_run_whole() {
    let mock = GlpiMock::builder().generated_users(5).start().await;
    let glpi = on_mock(&mock);
    let ty = EntitlementType::group();
    let listing = Listing::Grants {
        entitlement_type: ty.clone(),
    };
    assert!(!glpi.splits(&listing));
    let plan = glpi.partitions(&listing, 8).await.unwrap();
    assert_eq!(plan.len(), 1);
    assert_eq!(plan[0].range, KeyRange::All);
    let plain: Vec<_> = paging::grants(&glpi, &ty, PagingOptions::new())
        .try_collect()
        .await
        .unwrap();
    let split: Vec<_> = grants_partitioned(&glpi, &ty, Partitions::new(8), PagingOptions::new())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(split, plain);
}

#[tokio::test]
async fn a_text_range_is_refused_before_any_search() {
    let mock = GlpiMock::builder().generated_users(5).start().await;
    let glpi = on_mock(&mock);
    let partition: Partition = serde_json::from_value(serde_json::json!({
        "listing": {"kind": "accounts"}, "index": 0, "count": 1,
        "range": {"kind": "text", "from": "a", "to": null}
    }))
    .unwrap();
    let before = mock.received().await.len();
    let err = accesslink_core::partition::run_accounts(&glpi, partition, PagingOptions::new())
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    let searches = mock.received().await[before..]
        .iter()
        .filter(|r| r.url.path().contains("/search/"))
        .count();
    assert_eq!(searches, 0);
}
