//! Partitioned people imports: `Remedy Login ID` ranges cut at login quantiles, each
//! read by keyset on the login, run concurrently, checked against the mock's own people
//! and the qualifications it received. That every person arrives exactly once, with 1,
//! 3 and 8 partitions, after a resume and when the server ignores the ranges, is
//! checked by the conformance suite (`tests/it/conformance.rs`).

use std::collections::BTreeSet;

use accesslink_core::paging::PagingOptions;
use accesslink_core::partition::{
    self, KeyRange, Listing, Partition, Partitioner, Partitions, accounts_partitioned, run_accounts,
};
use accesslink_core::{Connector, ErrorKind, PageRequest, Provisioner};
use accesslink_testkit::ReceivedRequest;
use accesslink_testkit::helix::{HelixMock, PEOPLE};
use futures::TryStreamExt;
use serde_json::json;

use crate::{on_mock, param};

/// Every login in the mock's `CTM:People` (what a full import must yield).
fn people(mock: &HelixMock) -> BTreeSet<String> {
    mock.entries(PEOPLE)
        .iter()
        .map(|r| r.values["Remedy Login ID"].as_str().unwrap().to_owned())
        .collect()
}

/// The people searches the mock received since `from`.
async fn searches_since(mock: &HelixMock, from: usize) -> Vec<ReceivedRequest> {
    mock.received().await[from..]
        .iter()
        .filter(|r| r.method == "GET" && r.url.path().ends_with("/entry/CTM:People"))
        .cloned()
        .collect()
}

/// A range's qualification as the connector writes it (before any keyset condition).
fn conditions(range: &KeyRange) -> Vec<String> {
    match range {
        KeyRange::Text { from, to } => {
            let mut parts = Vec::new();
            if let Some(f) = from {
                parts.push(format!("'Remedy Login ID' >= \"{f}\""));
            }
            if let Some(t) = to {
                parts.push(format!("'Remedy Login ID' < \"{t}\""));
            }
            parts
        }
        other => panic!("not a login range: {other:?}"),
    }
}

/// Whether a qualification is exactly a range's conditions, or those and a keyset
/// condition after them.
fn is_range_listing(q: &str, range: &KeyRange) -> bool {
    let parts = conditions(range);
    let bare = if parts.len() == 1 {
        parts[0].clone()
    } else {
        format!("({})", parts.join(" AND "))
    };
    let prefix = format!("({} AND 'Remedy Login ID' > \"", parts.join(" AND "));
    q == bare || q.starts_with(&prefix)
}

#[tokio::test]
async fn people_split_on_login_ranges_planned_from_login_probes() {
    let mock = HelixMock::builder().generated_people(3_000).start().await;
    let expected = people(&mock);
    assert_eq!(expected.len(), 3_001, "3,000 generated and jdoe");
    let helix = on_mock(&mock);
    assert!(
        helix.as_partitioner().is_some(),
        "connect() handles split too"
    );

    for n in [1u32, 3, 8] {
        let before = mock.received().await.len();
        let s = accounts_partitioned(
            &helix,
            Partitions::new(n),
            PagingOptions::new().page_size(250),
        );
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
        let searches = searches_since(&mock, before).await;
        if n == 1 {
            assert_eq!(report.partitions[0].partition.range, KeyRange::All);
            assert!(
                searches.iter().all(|r| param(&r.url, "q").is_none()
                    && param(&r.url, "sort").as_deref() == Some("Request ID.asc")),
                "one partition is the plain listing"
            );
            continue;
        }
        // The plan reads logins only (one page of 2,000, then limit=1 probes); the
        // listings read whole entries, sorted by login, each within one partition.
        let (plan, listings): (Vec<_>, Vec<_>) = searches
            .iter()
            .partition(|r| param(&r.url, "fields").is_some());
        assert!(plan.iter().all(|r| {
            param(&r.url, "fields").as_deref() == Some("values(Remedy Login ID)")
                && param(&r.url, "sort").as_deref() == Some("Remedy Login ID.asc")
                && param(&r.url, "q").is_none()
        }));
        assert_eq!(
            plan.iter()
                .filter(|r| param(&r.url, "limit").as_deref() == Some("2000"))
                .count(),
            1
        );
        // 3,001 people do not fit one page: the size is probed with `limit=1` requests
        // past the first page (doubling to 4,000, then halving).
        let probes: BTreeSet<u64> = plan
            .iter()
            .filter(|r| param(&r.url, "limit").as_deref() == Some("1"))
            .map(|r| param(&r.url, "offset").unwrap().parse().unwrap())
            .collect();
        assert!(probes.contains(&4_000), "{probes:?}");
        assert!(probes.iter().all(|&k| k >= 2_000), "{probes:?}");
        assert!(plan.len() < 20, "{} planning requests", plan.len());
        for r in &listings {
            assert_eq!(
                param(&r.url, "sort").as_deref(),
                Some("Remedy Login ID.asc")
            );
            assert_eq!(
                param(&r.url, "offset").as_deref(),
                Some("0"),
                "keyset, not offset"
            );
            let q = param(&r.url, "q").expect("a qualification");
            assert!(
                report
                    .partitions
                    .iter()
                    .any(|p| is_range_listing(&q, &p.partition.range)),
                "a listing outside every partition: {q}"
            );
        }
        let fair = expected.len() / n as usize;
        for p in &report.partitions {
            let first = conditions(&p.partition.range);
            assert!(
                listings.iter().any(|r| {
                    let q = param(&r.url, "q").unwrap();
                    first.iter().all(|c| q.contains(c.as_str())) && !q.contains(" > ")
                }),
                "no first page of partition {}",
                p.partition.index
            );
            let rows = p.paging.items as usize;
            assert!(
                rows >= fair / 2 && rows <= fair * 2,
                "{n} partitions: partition {} has {rows} people",
                p.partition.index
            );
        }
    }
}

#[tokio::test]
async fn an_empty_form_and_fewer_people_than_partitions_plan_and_import_exactly() {
    let mock = HelixMock::start().await;
    assert!(mock.remove_person("jdoe"));
    let helix = on_mock(&mock);
    let plan = partition::plan(&helix, &Listing::Accounts, 8)
        .await
        .unwrap();
    assert_eq!(plan.partitions.len(), 1);
    assert_eq!(plan.partitions[0].range, KeyRange::All);
    let got: Vec<_> = accounts_partitioned(&helix, Partitions::new(8), PagingOptions::new())
        .try_collect()
        .await
        .unwrap();
    assert!(got.is_empty());

    for (login, first) in [("c.one", "C"), ("a.two", "A"), ("b.three", "B")] {
        mock.add_person(login, first, "Few", &format!("{login}@example.test"));
    }
    let expected = people(&mock);
    assert_eq!(expected.len(), 3);
    let plan = partition::plan(&helix, &Listing::Accounts, 8)
        .await
        .unwrap();
    // Cuts at positions 1 and 2 in login order: b.three and c.one.
    let ranges: Vec<KeyRange> = plan.partitions.iter().map(|p| p.range.clone()).collect();
    assert_eq!(ranges, KeyRange::split_text(["b.three", "c.one"]));
    let got: Vec<String> =
        accounts_partitioned(&helix, Partitions::resume(plan), PagingOptions::new())
            .map_ok(|a| a.id.to_string())
            .try_collect()
            .await
            .unwrap();
    assert_eq!(got.len(), 3);
    assert_eq!(got.into_iter().collect::<BTreeSet<_>>(), expected);
}

#[tokio::test]
async fn an_ignored_range_is_caught_by_the_runners_range_check() {
    let mock = HelixMock::builder().generated_people(600).start().await;
    let helix = on_mock(&mock);
    let plan = partition::plan(&helix, &Listing::Accounts, 3)
        .await
        .unwrap();
    mock.set_ignore_ranges(true);
    let before = mock.received().await.len();
    let err = accounts_partitioned(
        &helix,
        Partitions::resume(plan),
        PagingOptions::new().page_size(50),
    )
    .try_collect::<Vec<_>>()
    .await
    .unwrap_err();
    // The runner's range check fired (the keyset condition `>` is still honoured).
    assert_eq!(err.kind(), ErrorKind::Protocol, "{err}");
    assert!(err.to_string().contains("outside its range"), "{err}");
    let searches = searches_since(&mock, before).await;
    assert!(
        searches
            .iter()
            .any(|r| param(&r.url, "q").is_some_and(|q| q.contains("'Remedy Login ID' >= \""))),
        "the server was asked with the bounds it ignored"
    );
}

#[tokio::test]
async fn a_tampered_job_or_token_is_refused_before_any_request() {
    let mock = HelixMock::builder().generated_people(5).start().await;
    let helix = on_mock(&mock);
    // Log in first, so that only the listing's own requests are counted.
    helix
        .list_accounts(PageRequest::first().size(1))
        .await
        .unwrap();
    let before = mock.requests();
    for range in [
        json!({"kind": "text", "from": "a\" OR 'Profile Status' != \"", "to": null}),
        json!({"kind": "text", "from": null, "to": "it's"}),
        json!({"kind": "number", "from": 1, "to": 5}),
    ] {
        let job = json!({"listing": {"kind": "accounts"}, "index": 0, "count": 1, "range": range});
        let partition: Partition = serde_json::from_value(job).unwrap();
        let err = run_accounts(&helix, partition, PagingOptions::new())
            .try_collect::<Vec<_>>()
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{range}: {err}");
    }
    // A plain listing's token handed to a range listing.
    let ranged = PageRequest::at(Some(accesslink_core::PageToken::new("40:000000000000012")))
        .in_range(KeyRange::Text {
            from: Some("a".into()),
            to: None,
        });
    let err = helix.list_accounts(ranged).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    assert_eq!(mock.requests(), before, "nothing sent");
}

#[tokio::test]
async fn grants_do_not_split() {
    let mock = HelixMock::start().await;
    let helix = on_mock(&mock);
    let listing = Listing::Grants {
        entitlement_type: accesslink_core::EntitlementType::new("support_group"),
    };
    assert!(!helix.splits(&listing));
    assert!(helix.splits(&Listing::Accounts) && helix.keyset(&Listing::Accounts));
    let plan = helix.partitions(&listing, 8).await.unwrap();
    assert_eq!(plan.len(), 1);
    assert_eq!(plan[0].range, KeyRange::All);
}

#[tokio::test]
async fn partitions_run_as_json_jobs_on_other_connectors() {
    let mock = HelixMock::builder().generated_people(700).start().await;
    let plan = partition::plan(&on_mock(&mock), &Listing::Accounts, 4)
        .await
        .unwrap();
    assert_eq!(plan.partitions.len(), 4);
    // People created after planning, before the first cut and after the last, fall in
    // the open first and last ranges.
    mock.add_person("aaa.early", "Early", "Bird", "early@example.test");
    mock.add_person("zzz.late", "Late", "Comer", "late@example.test");
    let expected = people(&mock);
    assert_eq!(expected.len(), 703);
    let mut got = Vec::new();
    for p in &plan.partitions {
        // A worker: its own connector from the same settings, the job from JSON.
        let job = serde_json::to_string(p).unwrap();
        let worker = on_mock(&mock);
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
    assert_eq!(got.len(), expected.len(), "no person twice");
    assert_eq!(got.into_iter().collect::<BTreeSet<_>>(), expected);
}
