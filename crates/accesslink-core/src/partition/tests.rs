use std::collections::BTreeSet;

use futures::{StreamExt, TryStreamExt};
use proptest::prelude::*;

use super::*;
use crate::connector::{ConnectionReport, Connector, ConnectorInfo};
use crate::identity::{
    AccountChange, AccountSpec, CreateOutcome, Entitlement, EntitlementRef, GrantOutcome,
    RevokeOutcome,
};
use crate::ids::AccountId;
use crate::paging::Duplicates;

/// How the fake splits its keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Split {
    /// Cannot split: the trait's defaults.
    None,
    /// Hex prefix ranges.
    Hex,
    /// Cut at sampled keys (as ServiceNow does from the key distribution).
    Sampled,
    /// Number ranges over the keys as integers.
    Numbers,
    /// Claims to split but ignores the range (a target that drops the condition).
    Ignores,
}

/// A provisioner over a sorted set of account ids, paged by key (token = last id),
/// recording the range and token of every request.
#[derive(Debug)]
struct Keys {
    info: ConnectorInfo,
    ids: Vec<String>,
    split: Split,
    numeric: bool,
    requests: Mutex<Vec<(Option<KeyRange>, Option<PageToken>)>>,
}

impl Keys {
    fn new(ids: impl IntoIterator<Item = String>, split: Split) -> Keys {
        let numeric = split == Split::Numbers;
        let mut ids: Vec<String> = ids.into_iter().collect();
        // Ordered as the target orders them: numbers by value, text by bytes.
        if numeric {
            ids.sort_by_key(|k| k.parse::<u64>().unwrap());
        } else {
            ids.sort();
        }
        ids.dedup();
        Keys {
            info: ConnectorInfo::new("keys", "test"),
            ids,
            split,
            numeric,
            requests: Mutex::new(Vec::new()),
        }
    }

    fn requests(&self) -> Vec<(Option<KeyRange>, Option<PageToken>)> {
        self.requests.lock().unwrap().clone()
    }

    fn after(&self, id: &str, last: &str) -> bool {
        if self.numeric {
            id.parse::<u64>().unwrap() > last.parse::<u64>().unwrap()
        } else {
            id > last
        }
    }
}

#[crate::async_trait]
impl Connector for Keys {
    fn info(&self) -> &ConnectorInfo {
        &self.info
    }
    async fn test_connection(&self) -> Result<ConnectionReport> {
        unreachable!()
    }
}

#[crate::async_trait]
impl Provisioner for Keys {
    fn entitlement_types(&self) -> &[EntitlementType] {
        &[]
    }
    async fn list_accounts(&self, page: PageRequest) -> Result<Page<Account>> {
        self.requests
            .lock()
            .unwrap()
            .push((page.range.clone(), page.token.clone()));
        let honoured = if self.split == Split::Ignores {
            KeyRange::All
        } else {
            page.key_range().clone()
        };
        let size = page.size_or(3) as usize;
        let last = page.token.as_ref().map(|t| t.as_str().to_owned());
        let rows: Vec<&String> = self
            .ids
            .iter()
            .filter(|id| honoured.contains(id))
            .filter(|id| last.as_deref().is_none_or(|l| self.after(id, l)))
            .collect();
        let total = rows.len() as u64;
        let items: Vec<Account> = rows
            .iter()
            .take(size)
            .map(|id| Account::new(id.as_str(), format!("login-{id}")))
            .collect();
        let next = (rows.len() > size).then(|| PageToken::new(rows[size - 1].clone()));
        Ok(Page::new(items, next).with_total(last.is_none().then_some(total)))
    }
    async fn get_account(&self, _: &AccountId) -> Result<Option<Account>> {
        unreachable!()
    }
    async fn list_entitlements(
        &self,
        _: &EntitlementType,
        _: PageRequest,
    ) -> Result<Page<Entitlement>> {
        unreachable!()
    }
    async fn list_grants(&self, _: &EntitlementType, _: PageRequest) -> Result<Page<Grant>> {
        unreachable!()
    }
    async fn create_account(&self, _: &AccountSpec) -> Result<CreateOutcome> {
        unreachable!()
    }
    async fn update_account(&self, _: &AccountId, _: &AccountChange) -> Result<Account> {
        unreachable!()
    }
    async fn set_enabled(&self, _: &AccountId, _: bool) -> Result<()> {
        unreachable!()
    }
    async fn delete_account(&self, _: &AccountId) -> Result<()> {
        unreachable!()
    }
    async fn grant(&self, _: &AccountId, _: &EntitlementRef) -> Result<GrantOutcome> {
        unreachable!()
    }
    async fn revoke(&self, _: &AccountId, _: &EntitlementRef) -> Result<RevokeOutcome> {
        unreachable!()
    }
}

#[crate::async_trait]
impl Partitioner for Keys {
    fn splits(&self, _: &Listing) -> bool {
        self.split != Split::None
    }
    fn keyset(&self, _: &Listing) -> bool {
        true
    }
    async fn partitions(&self, listing: &Listing, n: u32) -> Result<Vec<Partition>> {
        let ranges = match self.split {
            Split::None => return Ok(Partition::whole(listing)),
            Split::Hex | Split::Ignores => KeyRange::split_hex(n),
            Split::Sampled => {
                // Every len/n-th key, as a quantile sample of the listing.
                let step = (self.ids.len() / n.max(1) as usize).max(1);
                KeyRange::split_text(self.ids.iter().skip(step).step_by(step).cloned())
            }
            Split::Numbers => {
                let nums: Vec<u64> = self.ids.iter().map(|i| i.parse().unwrap()).collect();
                let lo = nums.iter().copied().min().unwrap_or(0);
                let hi = nums.iter().copied().max().unwrap_or(0);
                KeyRange::split_numbers(lo, hi, n)
            }
        };
        Ok(Partition::plan(listing, ranges))
    }
}

async fn drain(
    p: &dyn Partitioner,
    parts: Partitions,
    options: PagingOptions,
) -> (Result<Vec<String>>, PartitionedHandle) {
    let s = accounts_partitioned(p, parts, options);
    let h = s.handle();
    let r = s.map_ok(|a| a.id.as_str().to_owned()).try_collect().await;
    (r, h)
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

fn hex_id() -> impl Strategy<Value = String> {
    // sys_id-like: 32 lowercase hex digits; a short prefix alphabet makes shared
    // prefixes (and keys on the cut points) likely.
    prop::string::string_regex("[0-9a-f]{1,3}[0-9a-f]{29}").unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    /// The split itself: every key in exactly one range, whatever the keys and count.
    #[test]
    fn every_text_key_is_in_exactly_one_range(
        ids in prop::collection::vec("[0-9a-g]{0,6}", 0..60),
        cuts in prop::collection::vec("[0-9a-g]{0,4}", 0..12),
        n in 1u32..70,
    ) {
        for ranges in [KeyRange::split_hex(n), KeyRange::split_text(cuts.clone())] {
            for id in &ids {
                let holders = ranges.iter().filter(|r| r.contains(id)).count();
                prop_assert_eq!(holders, 1, "{} in {:?}", id, ranges);
            }
        }
        prop_assert!(KeyRange::split_hex(n).len() <= n as usize);
    }

    #[test]
    fn every_number_key_is_in_exactly_one_range(
        ids in prop::collection::vec(any::<u64>(), 0..60),
        lo in any::<u64>(),
        width in 0u64..10_000,
        n in 1u32..70,
    ) {
        let ranges = KeyRange::split_numbers(lo, lo.saturating_add(width), n);
        prop_assert!(ranges.len() <= n as usize);
        for id in ids.iter().copied().chain([lo, lo.saturating_add(width), 0, u64::MAX]) {
            let holders = ranges.iter().filter(|r| r.contains(&id.to_string())).count();
            prop_assert_eq!(holders, 1, "{} in {:?}", id, ranges);
        }
    }

    /// The runner end to end: random keys, partition counts, page sizes and
    /// concurrency; every key arrives exactly once.
    #[test]
    fn a_partitioned_import_yields_every_key_exactly_once(
        ids in prop::collection::btree_set(hex_id(), 0..120),
        n in 1u32..20,
        page in 1u32..9,
        width in 1usize..6,
        sampled in any::<bool>(),
        dup_tracking in any::<bool>(),
    ) {
        let split = if sampled { Split::Sampled } else { Split::Hex };
        let keys = Keys::new(ids.iter().cloned(), split);
        let options = PagingOptions::new().page_size(page).duplicates(
            if dup_tracking { Duplicates::Fail } else { Duplicates::Skip },
        );
        let (got, h) = block_on(drain(&keys, Partitions::new(n).concurrency(width), options));
        let got = got.unwrap();
        let unique: BTreeSet<String> = got.iter().cloned().collect();
        prop_assert_eq!(unique.len(), got.len(), "no key twice");
        prop_assert_eq!(unique, ids.clone(), "no key missing");
        let report = h.report();
        prop_assert_eq!(report.items, ids.len() as u64);
        prop_assert!(h.checkpoint().is_complete());
        // What the target was asked: only ranges of the plan, each partition's first
        // page without a token.
        let plan: Vec<KeyRange> = report.partitions.iter().map(|p| p.partition.range.clone()).collect();
        for (range, _) in keys.requests() {
            let range = range.unwrap_or(KeyRange::All);
            prop_assert!(plan.contains(&range), "{:?} not planned", range);
        }
        let firsts = keys.requests().iter().filter(|(_, t)| t.is_none()).count();
        prop_assert_eq!(firsts, plan.len());
    }

    #[test]
    fn number_partitions_yield_every_key_exactly_once(
        ids in prop::collection::btree_set(0u64..5_000, 0..120),
        n in 1u32..20,
        page in 1u32..9,
    ) {
        let keys = Keys::new(ids.iter().map(u64::to_string), Split::Numbers);
        let (got, _) = block_on(drain(&keys, Partitions::new(n), PagingOptions::new().page_size(page)));
        let mut got: Vec<u64> = got.unwrap().iter().map(|s| s.parse().unwrap()).collect();
        got.sort_unstable();
        prop_assert_eq!(got, ids.into_iter().collect::<Vec<_>>());
    }
}

fn hex_ids(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            format!(
                "{:032x}",
                (i as u128).wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835)
            )
        })
        .collect()
}

#[tokio::test]
async fn a_connector_that_cannot_split_runs_one_partition_without_a_range() {
    let keys = Keys::new(hex_ids(10), Split::None);
    let (got, h) = drain(&keys, Partitions::new(8), PagingOptions::new().page_size(4)).await;
    assert_eq!(got.unwrap().len(), 10);
    let requests = keys.requests();
    assert_eq!(requests.len(), 3, "one listing of three pages");
    assert!(requests.iter().all(|(r, _)| r.is_none()), "{requests:?}");
    let c = h.checkpoint();
    assert_eq!(c.partitions.len(), 1);
    assert_eq!(c.partitions[0].range, KeyRange::All);
}

#[tokio::test]
async fn a_range_for_a_connector_that_cannot_split_is_refused_before_any_request() {
    let keys = Keys::new(hex_ids(10), Split::None);
    let checkpoint = Checkpoint {
        partitions: Partition::plan(&Listing::Accounts, KeyRange::split_hex(2)),
    };
    let (got, _) = drain(&keys, Partitions::resume(checkpoint), PagingOptions::new()).await;
    let err = got.unwrap_err();
    assert_eq!(err.kind(), crate::ErrorKind::InvalidInput);
    assert!(err.to_string().contains("cannot list a key range"), "{err}");
    assert!(keys.requests().is_empty());
}

#[tokio::test]
async fn a_target_that_ignores_the_range_is_a_protocol_error_not_duplicates() {
    let keys = Keys::new(hex_ids(40), Split::Ignores);
    let (got, _) = drain(&keys, Partitions::new(4), PagingOptions::new().page_size(5)).await;
    let err = got.unwrap_err();
    assert_eq!(err.kind(), crate::ErrorKind::Protocol);
    assert!(err.to_string().contains("outside its range"), "{err}");
}

#[tokio::test]
async fn a_checkpoint_resumes_each_partition_from_its_own_token() {
    let ids = hex_ids(60);
    let keys = Keys::new(ids.clone(), Split::Hex);
    let s = accounts_partitioned(&keys, Partitions::new(4), PagingOptions::new().page_size(5));
    let h = s.handle();
    // Stop after 23 items, as a crash would.
    let first: Vec<String> = s
        .take(23)
        .map(|a| a.unwrap().id.as_str().to_owned())
        .collect()
        .await;
    let json = serde_json::to_string(&h.checkpoint()).unwrap();
    let checkpoint: Checkpoint = serde_json::from_str(&json).unwrap();
    assert_eq!(checkpoint, h.checkpoint(), "the checkpoint survives JSON");
    assert!(!checkpoint.is_complete());
    let started = checkpoint
        .partitions
        .iter()
        .filter(|p| p.token.is_some() || p.done)
        .count();
    assert!(started >= 1, "{checkpoint:?}");

    let before = keys.requests().len();
    let (rest, h2) = drain(
        &keys,
        Partitions::resume(checkpoint.clone()),
        PagingOptions::new().page_size(5),
    )
    .await;
    let rest = rest.unwrap();
    // Nothing lost; at most the pages in flight (one per partition) seen again.
    let all: BTreeSet<String> = first.iter().chain(&rest).cloned().collect();
    assert_eq!(all, ids.iter().cloned().collect::<BTreeSet<_>>());
    let again = first.iter().filter(|id| rest.contains(id)).count();
    assert!(again <= 4 * 5, "{again} items seen twice");
    assert!(h2.checkpoint().is_complete());
    // Resumed partitions started from their tokens; finished ones were not asked again.
    let resumed = &keys.requests()[before..];
    for p in &checkpoint.partitions {
        let asked: Vec<_> = resumed
            .iter()
            .filter(|(r, _)| r.as_ref() == Some(&p.range))
            .collect();
        if p.done {
            assert!(
                asked.is_empty(),
                "finished partition {} asked again",
                p.index
            );
        } else {
            assert_eq!(
                asked[0].1, p.token,
                "partition {} resumed elsewhere",
                p.index
            );
        }
    }
}

#[tokio::test]
async fn the_completeness_guard_counts_the_whole_import() {
    let keys = Keys::new(hex_ids(30), Split::Hex);
    // Each partition has fewer than 25 keys; the import has 30.
    let (got, _) = drain(
        &keys,
        Partitions::new(4),
        PagingOptions::new().expect_at_least(25),
    )
    .await;
    assert_eq!(got.unwrap().len(), 30);
    let (got, _) = drain(
        &keys,
        Partitions::new(4),
        PagingOptions::new().expect_at_least(31),
    )
    .await;
    let err = got.unwrap_err();
    assert!(
        err.to_string().contains("received 30") && err.to_string().contains("at least 31"),
        "{err}"
    );
}

#[tokio::test]
async fn concurrency_bounds_the_partitions_in_flight() {
    let keys = Keys::new(hex_ids(80), Split::Hex);
    let s = accounts_partitioned(
        &keys,
        Partitions::new(8).concurrency(2),
        PagingOptions::new().page_size(100),
    );
    let h = s.handle();
    let mut s = std::pin::pin!(s);
    s.next().await.unwrap().unwrap();
    // One item in: at most two partitions have asked for a page.
    assert!(keys.requests().len() <= 2, "{:?}", keys.requests());
    let rest: Vec<_> = s.try_collect().await.unwrap();
    assert_eq!(rest.len(), 79);
    assert_eq!(keys.requests().len(), 8);
    assert_eq!(h.report().partitions.len(), 8);
}

#[test]
fn partitions_serialise_to_small_json() {
    let p = &Partition::plan(&Listing::Accounts, KeyRange::split_hex(2))[1];
    let json = serde_json::to_value(p).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "listing": {"kind": "accounts"},
            "index": 1,
            "count": 2,
            "range": {"kind": "text", "from": "8000", "to": null},
            "done": false
        })
    );
    let g = Partition::plan(
        &Listing::Grants {
            entitlement_type: EntitlementType::group(),
        },
        KeyRange::split_numbers(1, 10, 2),
    );
    assert_eq!(
        serde_json::to_value(&g[0]).unwrap()["range"],
        serde_json::json!({"kind": "number", "from": null, "to": 6})
    );
    assert_eq!(
        serde_json::to_value(&g[0]).unwrap()["listing"],
        serde_json::json!({"kind": "grants", "entitlement_type": "group"})
    );
}

#[test]
fn ranges_and_splits() {
    assert_eq!(
        KeyRange::split_hex(4)
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
        ["[, 4000)", "[4000, 8000)", "[8000, c000)", "[c000, )"]
    );
    assert_eq!(
        KeyRange::split_hex(1),
        vec![KeyRange::Text {
            from: None,
            to: None
        }]
    );
    let r = KeyRange::Text {
        from: Some("4000".into()),
        to: Some("8000".into()),
    };
    assert!(
        r.contains("4000") && r.contains("7fffffff") && !r.contains("8000") && !r.contains("3fff")
    );
    let n = KeyRange::Number {
        from: Some(10),
        to: Some(20),
    };
    assert!(
        n.contains("10")
            && n.contains("19")
            && !n.contains("20")
            && !n.contains("9")
            && !n.contains("x")
    );
    // More partitions than numbers: one per number, no empty ones.
    assert_eq!(KeyRange::split_numbers(5, 7, 10).len(), 3);
    assert_eq!(KeyRange::split_text(["b", "a", "b", ""]).len(), 3);
}
