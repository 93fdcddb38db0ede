//! Partitioned user imports: `Id` ranges cut at quantiles (within SOQL's `OFFSET` cap)
//! or at equal base-62 widths (beyond it), run concurrently, checked against the mock's
//! own users and the SOQL it received. That every user arrives exactly once, with 1, 3
//! and 8 partitions, after a resume and when the org ignores the ranges, is checked by
//! the conformance suite (`tests/it/provisioning.rs`).

use std::collections::BTreeSet;

use accesslink_core::ErrorKind;
use accesslink_core::paging::PagingOptions;
use accesslink_core::partition::{
    self, KeyRange, Listing, Partition, Partitioner, Partitions, accounts_partitioned, run_accounts,
};
use accesslink_core::{Connector, Provisioner};
use accesslink_testkit::salesforce::SalesforceMock;
use futures::TryStreamExt;
use serde_json::json;

use crate::on;

/// The ids of the internal users the mock holds (what a full import must yield).
fn internal_users(mock: &SalesforceMock) -> BTreeSet<String> {
    mock.records("User")
        .iter()
        .filter(|u| u["UserType"] == "Standard")
        .map(|u| u["Id"].as_str().unwrap().to_owned())
        .collect()
}

/// The SOQL statements of the query requests the mock received since `from`.
async fn soql_since(mock: &SalesforceMock, from: usize) -> Vec<String> {
    mock.received().await[from..]
        .iter()
        .filter(|r| r.url.path().ends_with("/query"))
        .filter_map(|r| {
            r.url
                .query_pairs()
                .find(|(k, _)| k == "q")
                .map(|(_, v)| v.into_owned())
        })
        .collect()
}

/// A range's conditions as the connector writes them.
fn conditions(range: &KeyRange) -> String {
    match range {
        KeyRange::Text { from, to } => {
            let mut parts = Vec::new();
            if let Some(f) = from {
                parts.push(format!("Id >= '{f}'"));
            }
            if let Some(t) = to {
                parts.push(format!("Id < '{t}'"));
            }
            parts.join(" AND ")
        }
        other => panic!("not an Id range: {other:?}"),
    }
}

const LISTING: &str = "SELECT Id,Username,Email,FirstName,LastName,Name,IsActive,ProfileId,UserType FROM User WHERE UserType = 'Standard'";

#[tokio::test]
async fn users_split_on_id_ranges_within_and_beyond_the_offset_cap() {
    // 2,990 generated users plus the integration user: 2,991 internal users, so the
    // cuts of 3 partitions (at 997 and 1,994) are within the 2,000 OFFSET cap and
    // those of 8 (up to 2,617) are not.
    let mock = SalesforceMock::builder().users(2_990).start().await;
    let expected = internal_users(&mock);
    assert_eq!(expected.len(), 2_991);
    let sf = on(&mock);
    assert!(sf.as_partitioner().is_some(), "connect() handles split too");

    for n in [1u32, 3, 8] {
        let before = mock.received().await.len();
        let s = accounts_partitioned(&sf, Partitions::new(n), PagingOptions::new().page_size(250));
        let h = s.handle();
        let got: Vec<String> = s.map_ok(|a| a.id.to_string()).try_collect().await.unwrap();
        assert_eq!(got.len(), expected.len(), "{n} partitions");

        let report = h.report();
        assert_eq!(
            report.partitions.len(),
            n as usize,
            "{n} partitions planned"
        );
        assert!(h.checkpoint().is_complete());
        let soql = soql_since(&mock, before).await;
        let listings: Vec<&String> = soql.iter().filter(|q| q.starts_with(LISTING)).collect();
        if n == 1 {
            assert_eq!(report.partitions[0].partition.range, KeyRange::All);
            assert!(
                soql.iter()
                    .all(|q| !q.contains("Id >=") && !q.contains("Id <") && !q.contains("OFFSET")),
                "one partition is the plain listing: {soql:?}"
            );
            continue;
        }
        // Every listing query carries the bounds of one partition, and every partition
        // was asked for its first page (no keyset condition) with its bounds.
        for p in &report.partitions {
            let bounds = conditions(&p.partition.range);
            let first = format!("{LISTING} AND {bounds} ORDER BY Id LIMIT 250");
            assert!(
                listings.iter().any(|q| **q == first),
                "no first page `{first}`"
            );
            let rows = p.paging.items as usize;
            let fair = expected.len() / n as usize;
            assert!(
                rows >= fair / 2 && rows <= fair * 2,
                "{n} partitions: partition {} has {rows} users",
                p.partition.index
            );
        }
        for q in &listings {
            let rest = &q[LISTING.len()..];
            assert!(
                report
                    .partitions
                    .iter()
                    .any(|p| rest.starts_with(&format!(" AND {}", conditions(&p.partition.range)))),
                "a listing outside every partition: {q}"
            );
        }
        let counts = soql
            .iter()
            .filter(|q| q.starts_with("SELECT COUNT() FROM User WHERE UserType = 'Standard'"))
            .count();
        let offsets: BTreeSet<String> = soql
            .iter()
            .filter_map(|q| q.split_once(" LIMIT 1 OFFSET ").map(|(_, k)| k.to_owned()))
            .collect();
        let from_the_end = soql
            .iter()
            .filter(|q| q.ends_with("ORDER BY Id DESC LIMIT 1"))
            .count();
        // The plan's count, then each partition's first page is counted too.
        assert_eq!(counts, 1 + n as usize, "{soql:?}");
        if n == 3 {
            // Exact quantiles: the ids at 2991·1/3 and 2991·2/3.
            assert_eq!(offsets, BTreeSet::from(["997".into(), "1994".into()]));
            assert_eq!(from_the_end, 0);
            let cuts: Vec<String> = expected
                .iter()
                .skip(997)
                .step_by(997)
                .take(2)
                .cloned()
                .collect();
            assert_eq!(
                report
                    .partitions
                    .iter()
                    .filter_map(|p| match &p.partition.range {
                        KeyRange::Text { from, .. } => from.clone(),
                        _ => None,
                    })
                    .collect::<Vec<_>>(),
                cuts,
                "the cuts are the users at those positions in Id order"
            );
        } else {
            // Past the OFFSET cap: the lowest and the highest id, then equal widths.
            assert!(offsets.is_empty(), "no OFFSET above the cap: {offsets:?}");
            assert_eq!(from_the_end, 1);
        }
    }
}

#[tokio::test]
async fn an_empty_org_and_fewer_users_than_partitions_plan_and_import_exactly() {
    let mock = SalesforceMock::builder().start().await;
    // Only the integration user is internal; make it an automated one: no internal users.
    let me = mock.run_as_user_id();
    assert!(mock.patch("User", &me, json!({"UserType": "AutomatedProcess"})));
    assert!(internal_users(&mock).is_empty());
    let sf = on(&mock);
    let plan = partition::plan(&sf, &Listing::Accounts, 8).await.unwrap();
    assert_eq!(plan.partitions.len(), 1);
    assert_eq!(plan.partitions[0].range, KeyRange::All);
    let got: Vec<_> = accounts_partitioned(&sf, Partitions::new(8), PagingOptions::new())
        .try_collect()
        .await
        .unwrap();
    assert!(got.is_empty());

    for i in 0..3 {
        mock.add_user(&format!("few.{i}@acme.example"));
    }
    let expected = internal_users(&mock);
    assert_eq!(expected.len(), 3);
    let plan = partition::plan(&sf, &Listing::Accounts, 8).await.unwrap();
    assert!(
        (2..=3).contains(&plan.partitions.len()),
        "{:?}",
        plan.partitions
    );
    let got: Vec<String> =
        accounts_partitioned(&sf, Partitions::resume(plan), PagingOptions::new())
            .map_ok(|a| a.id.to_string())
            .try_collect()
            .await
            .unwrap();
    assert_eq!(got.len(), 3);
    assert_eq!(got.into_iter().collect::<BTreeSet<_>>(), expected);
}

#[tokio::test]
async fn an_ignored_range_is_caught_by_the_runners_range_check() {
    let mock = SalesforceMock::builder().users(600).start().await;
    let sf = on(&mock);
    let plan = partition::plan(&sf, &Listing::Accounts, 3).await.unwrap();
    mock.ignore_id_ranges(true);
    let err = accounts_partitioned(
        &sf,
        Partitions::resume(plan),
        PagingOptions::new().page_size(50),
    )
    .try_collect::<Vec<_>>()
    .await
    .unwrap_err();
    // The runner's range check fired (not a keyset check: `Id >` is still honoured).
    assert_eq!(err.kind(), ErrorKind::Protocol, "{err}");
    assert!(err.to_string().contains("outside its range"), "{err}");
    // And the org was asked with the bounds it ignored.
    let soql = soql_since(&mock, 0).await;
    assert!(soql.iter().any(|q| q.contains(" AND Id >= '")));
}

#[tokio::test]
async fn a_tampered_job_is_refused_before_any_request() {
    let mock = SalesforceMock::builder().users(5).start().await;
    let sf = on(&mock);
    // Sign in first, so that only the listing's own requests are counted.
    sf.list_accounts(accesslink_core::PageRequest::first().size(1))
        .await
        .unwrap();
    let before = mock.received().await.len();
    for range in [
        json!({"kind": "text", "from": "005' OR Id != null OR Id = '", "to": null}),
        json!({"kind": "text", "from": "005Dw0AbA000001", "to": null}),
        json!({"kind": "text", "from": null, "to": "005Dw0AbA000001AAA"}),
        json!({"kind": "number", "from": 1, "to": 5}),
    ] {
        let job = json!({"listing": {"kind": "accounts"}, "index": 0, "count": 1, "range": range});
        let partition: Partition = serde_json::from_value(job).unwrap();
        let err = run_accounts(&sf, partition, PagingOptions::new())
            .try_collect::<Vec<_>>()
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{range}: {err}");
    }
    assert_eq!(mock.received().await.len(), before, "nothing sent");
}

#[tokio::test]
async fn grants_do_not_split_but_are_keyset() {
    let mock = SalesforceMock::builder().users(3).start().await;
    let sf = on(&mock);
    let listing = Listing::Grants {
        entitlement_type: accesslink_core::EntitlementType::new("permission_set"),
    };
    assert!(!sf.splits(&listing));
    assert!(sf.keyset(&listing));
    assert!(sf.splits(&Listing::Accounts) && sf.keyset(&Listing::Accounts));
    let plan = sf.partitions(&listing, 8).await.unwrap();
    assert_eq!(plan.len(), 1);
    assert_eq!(plan[0].range, KeyRange::All);
}

#[tokio::test]
async fn partitions_run_as_json_jobs_on_other_connectors() {
    let mock = SalesforceMock::builder().users(700).start().await;
    let plan = partition::plan(&on(&mock), &Listing::Accounts, 4)
        .await
        .unwrap();
    assert_eq!(plan.partitions.len(), 4);
    // Users created after planning fall in some range too.
    for i in 0..30 {
        mock.add_user(&format!("late.{i}@acme.example"));
    }
    let expected = internal_users(&mock);
    assert_eq!(expected.len(), 731);
    let mut got = Vec::new();
    for p in &plan.partitions {
        // A worker: its own connector from the same settings, the job from JSON.
        let job = serde_json::to_string(p).unwrap();
        let worker = on(&mock);
        let partition: Partition = serde_json::from_str(&job).unwrap();
        let s = run_accounts(&worker, partition, PagingOptions::new().page_size(100));
        let h = s.handle();
        got.extend(
            s.map_ok(|a| a.id.to_string())
                .try_collect::<Vec<_>>()
                .await
                .unwrap(),
        );
        assert!(h.checkpoint().is_complete());
    }
    assert_eq!(got.len(), expected.len(), "no user twice");
    assert_eq!(got.into_iter().collect::<BTreeSet<_>>(), expected);
}
