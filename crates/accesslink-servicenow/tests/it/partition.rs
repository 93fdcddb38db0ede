//! Partitioned imports: `sys_id` ranges cut at quantiles, run concurrently, checked
//! against the queries the mock received. That every row arrives exactly once, with 1,
//! 3 and 8 partitions, after a resume and when the instance ignores the ranges, is
//! checked by the conformance suite (`tests/it/conformance.rs`).

use std::collections::{BTreeSet, HashMap};

use accesslink_core::paging::{self, PagingOptions};
use accesslink_core::partition::{
    self, Checkpoint, KeyRange, Listing, Partition, Partitions, accounts_partitioned,
    grants_partitioned, run_accounts,
};
use accesslink_core::{EntitlementType, ErrorKind};
use accesslink_testkit::servicenow::ServiceNowMock;
use futures::TryStreamExt;
use serde_json::json;

use crate::mock::{basic_on, table_requests};

/// Every `sys_user` sys_id the mock holds.
fn user_ids(mock: &ServiceNowMock) -> BTreeSet<String> {
    mock.rows("sys_user")
        .iter()
        .map(|r| r["sys_id"].as_str().unwrap().to_owned())
        .collect()
}

/// The `sys_id` range conditions of a partition, as the instance should receive them.
fn conditions(range: &KeyRange) -> String {
    match range {
        KeyRange::Text { from, to } => {
            let mut parts = Vec::new();
            if let Some(f) = from {
                parts.push(format!("sys_id>={f}"));
            }
            if let Some(t) = to {
                parts.push(format!("sys_id<{t}"));
            }
            parts.join("^")
        }
        other => panic!("not a sys_id range: {other:?}"),
    }
}

#[tokio::test]
async fn accounts_split_at_sys_id_quantiles() {
    let mock = ServiceNowMock::builder()
        .synthetic_users(2_000)
        .start()
        .await;
    // Stored users get random sys_ids, spread over the key space unlike the generated
    // ones (which share a prefix): both kinds must land in exactly one partition.
    for i in 0..7 {
        mock.insert("sys_user", json!({"user_name": format!("extra{i}")}));
    }
    let expected = user_ids(&mock);
    assert_eq!(expected.len(), 2_007);
    let sn = basic_on(&mock);
    mock.clear_requests();

    let s = accounts_partitioned(&sn, Partitions::new(4), PagingOptions::new().page_size(300));
    let h = s.handle();
    let got: Vec<String> = s.map_ok(|a| a.id.to_string()).try_collect().await.unwrap();
    assert_eq!(got.len(), expected.len());

    let lists = table_requests(&mock);
    // The plan: one counted request for the size, then one per cut at offset total*i/4.
    let plan_calls: Vec<_> = lists
        .iter()
        .filter(|r| r.param("sysparm_query") == Some("ORDERBYsys_id"))
        .collect();
    assert_eq!(plan_calls.len(), 4, "{plan_calls:?}");
    assert!(
        plan_calls
            .iter()
            .all(|r| r.param("sysparm_limit") == Some("1")
                && r.param("sysparm_fields") == Some("sys_id"))
    );
    // 2,007 rows: the cuts are the rows at 2007*1/4, 2007*2/4 and 2007*3/4.
    let offsets: BTreeSet<&str> = plan_calls
        .iter()
        .filter_map(|r| r.param("sysparm_offset"))
        .collect();
    assert_eq!(offsets, BTreeSet::from(["501", "1003", "1505"]));
    let counted = plan_calls
        .iter()
        .filter(|r| r.param("sysparm_no_count").is_none())
        .count();
    assert_eq!(counted, 1, "only the size look-up pays for a count");

    // Each partition: `sys_id>=X^sys_id<Y` bounds, then keyset, ORDERBYsys_id.
    let report = h.report();
    assert_eq!(report.partitions.len(), 4);
    assert_eq!(report.items, 2_007);
    let mut per_partition: HashMap<u32, usize> = HashMap::new();
    for p in &report.partitions {
        let bounds = conditions(&p.partition.range);
        let first = format!("{bounds}^ORDERBYsys_id");
        assert!(
            lists
                .iter()
                .any(|r| r.param("sysparm_query") == Some(first.as_str())),
            "no first page `{first}`"
        );
        let rows = p.paging.items as usize;
        per_partition.insert(p.partition.index, rows);
        // Balanced by the quantile cuts: about a quarter each.
        assert!(
            (400..=620).contains(&rows),
            "partition {} has {rows} rows",
            p.partition.index
        );
    }
    for r in lists
        .iter()
        .filter(|r| r.param("sysparm_query") != Some("ORDERBYsys_id"))
    {
        let q = r.param("sysparm_query").unwrap();
        assert!(
            report
                .partitions
                .iter()
                .any(|p| q.starts_with(&conditions(&p.partition.range))),
            "a listing outside every partition: {q}"
        );
        assert!(q.ends_with("^ORDERBYsys_id"), "{q}");
    }
}

#[tokio::test]
async fn group_memberships_split_like_accounts_and_match_the_plain_listing() {
    let mock = ServiceNowMock::builder().start().await;
    let groups: Vec<String> = (0..3)
        .map(|i| mock.insert("sys_user_group", json!({"name": format!("g{i}")})))
        .collect();
    for u in 0..40 {
        let user = mock.insert("sys_user", json!({"user_name": format!("u{u}")}));
        for g in groups.iter().take(1 + u % 3) {
            mock.insert("sys_user_grmember", json!({"user": user, "group": g}));
        }
    }
    let sn = basic_on(&mock);
    let ty = EntitlementType::group();
    let key = |g: &accesslink_core::Grant| format!("{}/{}", g.account, g.entitlement.id);
    let plain: Vec<String> = paging::grants(&sn, &ty, PagingOptions::new())
        .map_ok(|g| key(&g))
        .try_collect()
        .await
        .unwrap();
    // 14 users in one group, 13 in two, 13 in three.
    assert_eq!(plain.len(), 79);
    mock.clear_requests();
    let split: Vec<String> = grants_partitioned(
        &sn,
        &ty,
        Partitions::new(5),
        PagingOptions::new().page_size(7),
    )
    .map_ok(|g| key(&g))
    .try_collect()
    .await
    .unwrap();
    assert_eq!(split.len(), 79, "every membership once");
    assert_eq!(
        split.iter().collect::<BTreeSet<_>>(),
        plain.iter().collect::<BTreeSet<_>>()
    );
    let ranged = table_requests(&mock)
        .iter()
        .filter(|r| r.path.ends_with("/sys_user_grmember"))
        .filter(|r| {
            r.param("sysparm_query")
                .is_some_and(|q| q.contains("sys_id>=") || q.contains("sys_id<"))
        })
        .count();
    assert!(ranged >= 5, "every partition's listing carries its range");
}

#[tokio::test]
async fn partitions_run_as_json_jobs_on_other_connectors() {
    let mock = ServiceNowMock::builder().synthetic_users(900).start().await;
    let expected = user_ids(&mock);
    let planner = basic_on(&mock);
    let plan = partition::plan(&planner, &Listing::Accounts, 3)
        .await
        .unwrap();
    assert_eq!(plan.partitions.len(), 3);
    let jobs: Vec<String> = plan
        .partitions
        .iter()
        .map(|p| serde_json::to_string(p).unwrap())
        .collect();
    let mut got = Vec::new();
    for job in &jobs {
        // A worker: its own connector from the same settings, the job from JSON.
        let worker = basic_on(&mock);
        let partition: Partition = serde_json::from_str(job).unwrap();
        let s = run_accounts(&worker, partition, PagingOptions::new().page_size(250));
        let h = s.handle();
        let ids: Vec<String> = s.map_ok(|a| a.id.to_string()).try_collect().await.unwrap();
        assert!(h.checkpoint().is_complete());
        got.extend(ids);
    }
    assert_eq!(got.len(), expected.len(), "no user twice");
    assert_eq!(got.into_iter().collect::<BTreeSet<_>>(), expected);
}

#[tokio::test]
async fn a_tampered_job_is_refused_before_any_request() {
    let mock = ServiceNowMock::builder().synthetic_users(10).start().await;
    let sn = basic_on(&mock);
    mock.clear_requests();
    for range in [
        json!({"kind": "text", "from": "0^ORactive=false", "to": null}),
        json!({"kind": "text", "from": "ABC", "to": null}),
        json!({"kind": "number", "from": 1, "to": 5}),
    ] {
        let job = json!({
            "listing": {"kind": "accounts"},
            "index": 0, "count": 1,
            "range": range,
        });
        let partition: Partition = serde_json::from_value(job).unwrap();
        let err = run_accounts(&sn, partition, PagingOptions::new())
            .try_collect::<Vec<_>>()
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{range}: {err}");
    }
    assert_eq!(mock.count("GET", "/api/now/table/"), 0);
}

#[tokio::test]
async fn one_partition_is_the_plain_listing() {
    let mock = ServiceNowMock::builder().synthetic_users(50).start().await;
    let sn = basic_on(&mock);
    mock.clear_requests();
    let s = accounts_partitioned(&sn, Partitions::new(1), PagingOptions::new());
    let h = s.handle();
    assert_eq!(s.try_collect::<Vec<_>>().await.unwrap().len(), 50);
    let c: Checkpoint = h.checkpoint();
    assert_eq!(c.partitions.len(), 1);
    assert_eq!(c.partitions[0].range, KeyRange::All);
    // No planning request: the first list call is the listing itself.
    let lists = table_requests(&mock);
    assert_eq!(lists[0].param("sysparm_query"), Some("ORDERBYsys_id"));
    assert_ne!(
        lists[0].param("sysparm_limit"),
        Some("1"),
        "not a cut look-up"
    );
}
