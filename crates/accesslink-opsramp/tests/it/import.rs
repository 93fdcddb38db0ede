//! Importing 10,000+ users while the token expires mid-import, and resuming.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use accesslink_core::paging::{PagingOptions, StopReason, accounts, grants};
use accesslink_core::{EntitlementType, PageRequest, PageToken, Provisioner};
use accesslink_testkit::opsramp::{OpsRampMock, RateLimits};
use futures::TryStreamExt;

use crate::{client, connector, mock, on};

#[tokio::test]
async fn ten_thousand_users_with_the_token_expiring_mid_import() {
    let mock = mock(10_500).await;
    let opsramp = connector(&mock);
    let mut stream = accounts(&opsramp, PagingOptions::new().page_size(500));
    let mut ids = HashSet::new();
    let mut expired = false;
    while let Some(a) = stream.try_next().await.unwrap() {
        assert!(ids.insert(a.id.clone()), "{} seen twice", a.id);
        if ids.len() == 4_000 && !expired {
            mock.expire_tokens();
            expired = true;
        }
    }
    let report = stream.report();
    assert_eq!(ids.len(), 10_500, "nothing lost");
    assert_eq!(report.duplicates, 0, "nothing duplicated");
    assert_eq!(report.pages, 21);
    assert_eq!(report.reported_total, Some(10_500));
    assert_eq!(report.stopped, Some(StopReason::Exhausted));
    // One token before, one after the expiry; the one rejected page was asked again.
    assert_eq!(mock.token_requests(), 2);
    assert_eq!(mock.auth_rejections(), 1);
    assert_eq!(mock.count("users/search"), 22);
    let received = mock.received().await;
    assert!(
        received
            .iter()
            .filter(|r| r.url.path().ends_with("/users/search"))
            .all(|r| r
                .url
                .query()
                .unwrap_or("")
                .contains("isDescendingOrder=false")),
        "pages are read in ascending id order, so new users cannot shift them"
    );
}

#[tokio::test]
async fn a_crashed_import_resumes_from_its_checkpoint() {
    let mock = mock(1_234).await;
    let opsramp = connector(&mock);
    let mut first = accounts(&opsramp, PagingOptions::new().page_size(100));
    let mut seen = HashSet::new();
    while first.report().pages < 5 {
        seen.insert(first.try_next().await.unwrap().unwrap().id);
    }
    let checkpoint = first.report().checkpoint.clone();
    assert_eq!(
        checkpoint.as_ref().map(|t| t.as_str()),
        Some("users:5:100:1234")
    );
    drop(first);
    // A new process, a new client: the token carries the page and its size.
    let again = on(client(&mock).build().unwrap());
    let rest: Vec<_> = accounts(&again, PagingOptions::new().resume_from(checkpoint))
        .try_collect()
        .await
        .unwrap();
    seen.extend(rest.into_iter().map(|a| a.id));
    assert_eq!(seen.len(), 1_234);
}

#[tokio::test]
async fn grants_of_both_types_cover_every_user() {
    let mock = mock(3_001).await;
    let opsramp = connector(&mock);
    let role = EntitlementType::role();
    let roles: Vec<_> = grants(&opsramp, &role, PagingOptions::new().page_size(500))
        .try_collect()
        .await
        .unwrap();
    // Every generated user holds one seeded role, every third one a seeded group.
    assert_eq!(roles.len(), 3_001);
    let role_ids: HashSet<_> = mock.role_ids().into_iter().collect();
    assert!(
        roles
            .iter()
            .all(|g| role_ids.contains(g.entitlement.id.as_str()))
    );
    let group = EntitlementType::group();
    let groups: Vec<_> = grants(&opsramp, &group, PagingOptions::new().page_size(500))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(groups.len(), 1_001);
    let first = &groups[0];
    assert_eq!(
        mock.user_groups(first.account.as_str()),
        vec![first.entitlement.id.as_str().to_owned()]
    );
    let ents = opsramp
        .list_entitlements(&group, accesslink_core::PageRequest::first())
        .await
        .unwrap();
    assert_eq!(ents.items.len(), 2);
    assert!(ents.items.iter().any(|e| e.name == "Ops"));
}

#[tokio::test]
async fn a_short_token_is_renewed_ahead_of_expiry_without_a_rejection() {
    let mock = OpsRampMock::builder()
        .generated_users(300)
        .rate_limits(RateLimits::unlimited())
        .token_ttl(Duration::from_secs(3))
        .expires_in_as_number()
        .start()
        .await;
    let opsramp = Arc::new(on(client(&mock)
        .refresh_ahead(Duration::from_millis(2_500))
        .build()
        .unwrap()));
    let page = opsramp
        .list_accounts(accesslink_core::PageRequest::first().size(100))
        .await
        .unwrap();
    assert_eq!(page.items.len(), 100);
    // Inside the renewal window (the last 2.5 s of a 2 s `expires_in`): the next call
    // renews first.
    tokio::time::sleep(Duration::from_millis(100)).await;
    opsramp
        .list_accounts(accesslink_core::PageRequest::at(page.next))
        .await
        .unwrap();
    assert_eq!(mock.tokens_issued(), 2);
    assert_eq!(
        mock.auth_rejections(),
        0,
        "renewed before the server refused"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixteen_tasks_share_one_renewal_when_the_token_expires() {
    let mock = Arc::new(mock(12_000).await);
    let opsramp = Arc::new(connector(&mock));
    let next = Arc::new(AtomicU32::new(1));
    let seen = Arc::new(Mutex::new(HashSet::new()));
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let (mock, opsramp, next, seen) =
            (mock.clone(), opsramp.clone(), next.clone(), seen.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let page = next.fetch_add(1, Ordering::SeqCst);
                if page > 60 {
                    return;
                }
                if page == 30 {
                    mock.expire_tokens();
                }
                let token = PageToken::new(format!("users:{page}:200"));
                let got = opsramp
                    .list_accounts(PageRequest::at(Some(token)))
                    .await
                    .unwrap();
                let mut s = seen.lock().unwrap();
                for a in got.items {
                    assert!(s.insert(a.id), "a user on two pages");
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(seen.lock().unwrap().len(), 12_000);
    assert_eq!(mock.tokens_issued(), 2, "one renewal shared by every task");
    assert!(mock.auth_rejections() >= 1);
}

#[tokio::test]
async fn users_created_during_an_import_are_neither_repeated_nor_lost() {
    let mock = mock(1_000).await;
    let opsramp = connector(&mock);
    let mut stream = accounts(&opsramp, PagingOptions::new().page_size(100));
    let mut ids = HashSet::new();
    let mut added = Vec::new();
    while let Some(a) = stream.try_next().await.unwrap() {
        assert!(ids.insert(a.id.clone()), "{} twice", a.id);
        // While page 3 is read, five users are created: ascending ids put them at the
        // end, so no page shifts (OpsRamp's descending default would repeat users).
        if ids.len() == 250 {
            for i in 0..5 {
                let login = format!("late.joiner{i}");
                added.push(mock.add_user(
                    &login,
                    "Late",
                    "Joiner",
                    &format!("{login}@example.test"),
                ));
            }
        }
    }
    assert_eq!(stream.report().duplicates, 0);
    assert_eq!(ids.len(), 1_005);
    assert!(
        added
            .iter()
            .all(|id| ids.contains(&accesslink_core::AccountId::new(id.as_str())))
    );
}

/// Issue 15 item 11: users removed while an import runs move every later user one place
/// up, onto pages already read. The import must not end as a success without them.
#[tokio::test]
async fn users_removed_mid_import_end_it_with_an_error_not_a_short_success() {
    let mock = mock(95).await;
    let opsramp = connector(&mock);
    // A checkpoint taken before the removals, as a crashed run leaves one.
    let checkpoint = opsramp
        .list_accounts(PageRequest::first().size(10))
        .await
        .unwrap()
        .next;
    let mut stream = accounts(&opsramp, PagingOptions::new().page_size(10));
    let mut seen = Vec::new();
    while seen.len() < 10 {
        seen.push(stream.try_next().await.unwrap().unwrap().id);
    }
    // Three users of the first page are terminated by an administrator meanwhile.
    for id in &seen[..3] {
        opsramp.delete_account(id).await.unwrap();
    }
    let mut later = Vec::new();
    let e = loop {
        match stream.try_next().await {
            Ok(Some(a)) => later.push(a.id),
            Ok(None) => panic!(
                "ended as a success with {} users of the 92 left",
                seen.len() - 3 + later.len()
            ),
            Err(e) => break e,
        }
    };
    assert_eq!(e.kind(), accesslink_core::ErrorKind::Conflict, "{e}");
    assert!(e.to_string().contains("shrank from 95 to 92"), "{e}");
    assert!(
        later.is_empty(),
        "the error comes with the first shifted page"
    );
    let received = mock.received().await;
    let searches = received
        .iter()
        .filter(|r| r.url.path().ends_with("/users/search"))
        .count();
    assert_eq!(
        searches, 3,
        "the checkpoint's page, the stream's first, the shifted one"
    );

    // Resuming from the checkpoint taken before the removals is refused too.
    let resumed = opsramp
        .list_accounts(PageRequest::at(checkpoint).size(10))
        .await
        .unwrap_err();
    assert_eq!(resumed.kind(), accesslink_core::ErrorKind::Conflict);

    // Started again from the beginning, the import is complete.
    let all: Vec<_> = accounts(&opsramp, PagingOptions::new().page_size(10))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(all.len(), 92);
}
