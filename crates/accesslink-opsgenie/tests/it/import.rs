//! Importing 10,000+ users through `paging::accounts` while the mock throttles and
//! fails: every user once, none lost, the requests counted at the mock.

use std::collections::HashSet;

use accesslink_core::paging::{self, PagingOptions, StopReason};
use accesslink_core::{ErrorKind, PageRequest, Provisioner};
use accesslink_testkit::fault::{Fault, FaultMatcher};
use accesslink_testkit::opsgenie::OpsGenieMock;
use futures::TryStreamExt;

use crate::on_mock;

const USERS: usize = 10_250;

fn status(code: u16) -> Fault {
    Fault::Status {
        status: code,
        body: None,
    }
}

/// Every user id the mock holds, read from its state (not through the connector).
fn ids_at_the_mock(mock: &OpsGenieMock) -> HashSet<String> {
    (0..mock.user_count())
        .map(|i| mock.generated_user_id(i).unwrap())
        .collect()
}

#[tokio::test]
async fn ten_thousand_users_through_429_bursts_and_5xx_nothing_lost_or_doubled() {
    let mock = OpsGenieMock::builder().generated_users(USERS).start().await;
    let og = on_mock(&mock);
    let mut stream = paging::accounts(&og, PagingOptions::new().page_size(100));
    let mut ids = Vec::with_capacity(USERS);
    while let Some(a) = stream.try_next().await.unwrap() {
        ids.push(a.id.into_string());
        let pages = stream.report().pages;
        // Mid-import, once each: a burst of four 429s, later a 502 and two 503s.
        if pages == 40 && mock.faults().applied() == 0 && mock.faults().pending() == 0 {
            mock.throttle_next(4);
        }
        if pages == 60 && mock.faults().applied() == 4 && mock.faults().pending() == 0 {
            mock.faults().push(status(502), 1);
            mock.faults().push(status(503), 2);
        }
    }
    let report = stream.report();
    assert_eq!(report.stopped, Some(StopReason::Exhausted));
    assert_eq!(report.duplicates, 0);
    assert_eq!(report.reported_total, Some(USERS as u64));
    assert_eq!(ids.len(), USERS);
    let unique: HashSet<String> = ids.into_iter().collect();
    assert_eq!(unique, ids_at_the_mock(&mock), "exactly the mock's users");
    assert_eq!(mock.faults().applied(), 7, "every queued fault fired");
    // The first page holds 100 users; each later one asks for 100 rows starting at the
    // last user read, so it brings 99 new ones: 1 + ceil(10_150 / 99) = 104 pages.
    assert_eq!(report.pages, 104);
    // One request per page plus the seven faulted attempts that were repeated.
    assert_eq!(mock.count("GET", "/v2/users"), 104 + 7);
    assert_eq!(mock.requests(), 104 + 7, "no other request");
}

#[tokio::test]
async fn an_import_cut_by_an_outage_resumes_from_its_checkpoint_without_loss() {
    let mock = OpsGenieMock::builder().generated_users(USERS).start().await;
    let og = on_mock(&mock);
    let options = PagingOptions::new().page_size(100);
    let mut first = paging::accounts(&og, options.clone());
    let mut seen = HashSet::new();
    let err = loop {
        match first.try_next().await {
            Ok(Some(a)) => {
                seen.insert(a.id.into_string());
                if first.report().pages == 30
                    && mock.faults().pending() == 0
                    && mock.faults().applied() == 0
                {
                    // More failures than the five attempts absorb: the stream ends.
                    mock.faults()
                        .push_for(FaultMatcher::route("GET", "/v2/users"), status(503), 5);
                }
            }
            Ok(None) => panic!("the outage should have ended the stream"),
            Err(e) => break e,
        }
    };
    assert_eq!(err.kind(), ErrorKind::Unavailable);
    assert!(err.to_string().contains("503"), "{err}");
    let report = first.report();
    assert_eq!(report.stopped, Some(StopReason::Error));
    let checkpoint = report
        .checkpoint
        .clone()
        .expect("a checkpoint to resume from");
    // Page 30 starts at 100 + 28 × 99 = 2872, after the user read last before it.
    let boundary = mock.generated_user_id(2871).unwrap();
    assert_eq!(
        checkpoint.as_str(),
        format!("og1:users:2872:{boundary}"),
        "the last page read"
    );
    drop(first);
    let resumed: Vec<_> = paging::accounts(&og, options.resume_from(Some(checkpoint)))
        .try_collect()
        .await
        .unwrap();
    // The checkpoint's page is read again (seen twice, never lost).
    assert_eq!(resumed.len(), USERS - 2872);
    seen.extend(resumed.into_iter().map(|a| a.id.into_string()));
    assert_eq!(seen, ids_at_the_mock(&mock));
}

#[tokio::test]
async fn pages_carry_the_total_and_the_last_has_no_token() {
    let mock = OpsGenieMock::builder().generated_users(250).start().await;
    let og = on_mock(&mock);
    let first = og
        .list_accounts(PageRequest::first().size(100))
        .await
        .unwrap();
    assert_eq!((first.items.len(), first.total), (100, Some(250)));
    let boundary = mock.generated_user_id(99).unwrap();
    assert_eq!(
        first.next.as_ref().unwrap().as_str(),
        format!("og1:users:100:{boundary}")
    );
    let last = og
        .list_accounts(
            PageRequest::at(Some(accesslink_core::PageToken::new("og1:users:200"))).size(100),
        )
        .await
        .unwrap();
    assert_eq!(last.items.len(), 50);
    assert!(last.next.is_none());
    // Page sizes above OpsGenie's 100 are capped, not refused.
    let big = og
        .list_accounts(PageRequest::first().size(1000))
        .await
        .unwrap();
    assert_eq!(big.items.len(), 100);
    let sent: Vec<String> = mock
        .received()
        .await
        .iter()
        .map(|r| r.url.query().unwrap_or("").to_owned())
        .collect();
    assert_eq!(
        sent,
        [
            "offset=0&limit=100&sort=insertedAt&order=asc",
            "offset=200&limit=100&sort=insertedAt&order=asc",
            "offset=0&limit=100&sort=insertedAt&order=asc"
        ]
    );
}

/// Users deleted behind the cursor move every later user forward; a plain offset would
/// skip as many users as were deleted. Every user still there must be read.
#[tokio::test]
async fn users_deleted_mid_import_do_not_make_others_skipped() {
    let mock = OpsGenieMock::builder().generated_users(1000).start().await;
    let og = on_mock(&mock);
    let all: Vec<String> = (0..1000)
        .map(|i| mock.generated_user_id(i).unwrap())
        .collect();
    let mut stream = paging::accounts(&og, PagingOptions::new().page_size(100));
    let mut seen = HashSet::new();
    let mut deleted = false;
    while let Some(a) = stream.try_next().await.unwrap() {
        seen.insert(a.id.into_string());
        if !deleted && stream.report().pages == 3 && seen.len() == 298 {
            // 40 users already read, and 5 not read yet, leave.
            for id in all[10..50].iter().chain(&all[600..605]) {
                assert!(mock.delete_user(id));
            }
            deleted = true;
        }
    }
    assert!(deleted);
    let now: HashSet<String> = ids_at_the_mock(&mock);
    assert_eq!(now.len(), 955);
    let missed: Vec<_> = now.difference(&seen).collect();
    assert!(
        missed.is_empty(),
        "{} users skipped, first {:?}",
        missed.len(),
        missed.first()
    );
    assert!(
        all[600..605].iter().all(|id| !seen.contains(id)),
        "deleted before being read"
    );
    assert_eq!(
        stream.report().duplicates,
        0,
        "the boundary was found: nothing read twice"
    );
    // Finding the boundary after the deletions cost two more requests: one backwards
    // window, then the page read from right after the boundary.
    let pages = stream.report().pages as usize;
    assert_eq!(mock.count("GET", "/v2/users"), pages + 2);
}

/// When the last user read is itself deleted, the boundary cannot be found: the listing
/// is read again from earlier, so users repeat (and are dropped) but none is lost.
#[tokio::test]
async fn the_last_user_read_deleted_mid_import_repeats_users_but_loses_none() {
    let mock = OpsGenieMock::builder().generated_users(600).start().await;
    let og = on_mock(&mock);
    let all: Vec<String> = (0..600)
        .map(|i| mock.generated_user_id(i).unwrap())
        .collect();
    let mut stream = paging::accounts(&og, PagingOptions::new().page_size(100));
    let mut seen = HashSet::new();
    let mut deleted = false;
    while let Some(a) = stream.try_next().await.unwrap() {
        seen.insert(a.id.into_string());
        // After page 2 (users 0..199), the last one read and 20 before it leave.
        if !deleted && seen.len() == 199 {
            for id in all[170..191].iter().chain(std::iter::once(&all[198])) {
                assert!(mock.delete_user(id));
            }
            deleted = true;
        }
    }
    assert!(deleted);
    let now = ids_at_the_mock(&mock);
    assert!(
        now.is_subset(&seen),
        "{} users skipped",
        now.difference(&seen).count()
    );
    assert!(
        stream.report().duplicates > 0,
        "users were read twice and dropped"
    );
}

/// The GenieKey has no expiry, but it can be revoked or rotated mid-import: the import
/// stops with `Unauthenticated` (one request, no retry), and a connector with the new
/// key resumes from the checkpoint without losing anyone.
#[tokio::test]
async fn a_key_rotated_mid_import_stops_it_cleanly_and_the_new_key_resumes_it() {
    let mock = OpsGenieMock::builder().generated_users(USERS).start().await;
    let og = on_mock(&mock);
    let options = PagingOptions::new().page_size(100);
    let mut first = paging::accounts(&og, options.clone());
    let mut seen = HashSet::new();
    let old_key = mock.api_key().to_owned();
    let err = loop {
        match first.try_next().await {
            Ok(Some(a)) => {
                seen.insert(a.id.into_string());
                if seen.len() == 5_000 {
                    assert!(mock.revoke_key(&old_key));
                    mock.add_key(
                        "rotated-key-0001",
                        accesslink_testkit::opsgenie::KeyAccess::Full,
                    );
                }
            }
            Ok(None) => panic!("the revoked key should have ended the stream"),
            Err(e) => break e,
        }
    };
    assert_eq!(err.kind(), ErrorKind::Unauthenticated);
    let requests = mock.count("GET", "/v2/users");
    assert_eq!(
        requests as u64,
        first.report().pages + 1,
        "the 401 was not retried"
    );
    let checkpoint = first.report().checkpoint;
    drop(first);
    let client = accesslink_opsgenie::OpsGenieClient::builder()
        .base_url(mock.url())
        .api_key(secrecy::SecretString::from("rotated-key-0001"))
        .build()
        .unwrap();
    let og = accesslink_opsgenie::OpsGenieConnector::new(client, Default::default());
    let rest: Vec<_> = paging::accounts(&og, options.resume_from(checkpoint))
        .try_collect()
        .await
        .unwrap();
    seen.extend(rest.into_iter().map(|a| a.id.into_string()));
    assert_eq!(seen, ids_at_the_mock(&mock));
}
