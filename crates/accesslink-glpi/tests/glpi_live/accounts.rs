//! Accounts, groups and profiles on the real server: every "already" outcome, the
//! 2,000-user import through a killed session, paging while rows are purged and added,
//! and the provisioning conformance suite.

use std::collections::HashSet;

use accesslink_core::paging::{self, PagingOptions};
use accesslink_core::{AccountSpec, ErrorKind, Provisioner};
use accesslink_glpi::api::{Criterion, SearchQuery, SearchType};
use accesslink_glpi::{GlpiConfig, GlpiConnector};
use accesslink_testkit::conformance::fresh_id;
use futures::TryStreamExt;

use super::{
    IMPORT_PREFIX, IMPORT_USERS, LiveAccounts, conformance_group, ensure_import_users, live,
    users_lock,
};

#[tokio::test]
async fn every_already_outcome_on_the_real_server() {
    let Some(l) = live() else { return };
    let _lock = users_lock().await;
    let glpi = l.connector();
    let login = fresh_id("al-already");
    let spec = AccountSpec::new(&login)
        .name("Jane", "Doe")
        .email(format!("{login}@example.test"));
    let created = glpi.create_account(&spec).await.unwrap();
    let accesslink_core::CreateOutcome::Created(account) = created else {
        panic!("expected Created, got {created:?}")
    };
    assert_eq!(
        account.email.as_deref(),
        Some(format!("{login}@example.test").as_str())
    );
    assert_eq!(account.display_name.as_deref(), Some("Jane Doe"));
    let again = glpi.create_account(&spec).await.unwrap();
    assert!(
        matches!(&again, accesslink_core::CreateOutcome::AlreadyExists(a) if a.id == account.id),
        "{again:?}"
    );
    let uid: u64 = account.id.as_str().parse().unwrap();

    let group = l.group(&fresh_id("al-already-group")).await;
    let g = GlpiConnector::group_entitlement(group);
    assert_eq!(
        glpi.grant(&account.id, &g).await.unwrap(),
        accesslink_core::GrantOutcome::Granted
    );
    assert_eq!(
        glpi.grant(&account.id, &g).await.unwrap(),
        accesslink_core::GrantOutcome::AlreadyGranted
    );
    let links: Vec<serde_json::Value> = glpi
        .client()
        .users()
        .sub_items(uid, "Group_User")
        .await
        .unwrap();
    assert_eq!(links.iter().filter(|l| l["groups_id"] == group).count(), 1);
    assert_eq!(
        glpi.revoke(&account.id, &g).await.unwrap(),
        accesslink_core::RevokeOutcome::Revoked
    );
    assert_eq!(
        glpi.revoke(&account.id, &g).await.unwrap(),
        accesslink_core::RevokeOutcome::AlreadyAbsent
    );

    // Technician (id 6) in the root entity; GLPI allows twins, the connector does not.
    let p = GlpiConnector::profile_entitlement(6, 0);
    assert_eq!(
        glpi.grant(&account.id, &p).await.unwrap(),
        accesslink_core::GrantOutcome::Granted
    );
    assert_eq!(
        glpi.grant(&account.id, &p).await.unwrap(),
        accesslink_core::GrantOutcome::AlreadyGranted
    );
    let rows: Vec<serde_json::Value> = glpi
        .client()
        .users()
        .sub_items(uid, "Profile_User")
        .await
        .unwrap();
    assert_eq!(
        rows.iter()
            .filter(|r| r["profiles_id"] == 6 && r["entities_id"] == 0)
            .count(),
        1
    );
    assert_eq!(
        glpi.revoke(&account.id, &p).await.unwrap(),
        accesslink_core::RevokeOutcome::Revoked
    );
    assert_eq!(
        glpi.revoke(&account.id, &p).await.unwrap(),
        accesslink_core::RevokeOutcome::AlreadyAbsent
    );
    let missing = glpi
        .grant(&account.id, &GlpiConnector::group_entitlement(999_999))
        .await
        .unwrap_err();
    assert_eq!(missing.kind(), ErrorKind::NotFound, "{missing}");

    glpi.set_enabled(&account.id, false).await.unwrap();
    glpi.set_enabled(&account.id, false).await.unwrap();
    assert_eq!(
        glpi.client().users().get(uid).await.unwrap().is_active,
        Some(0)
    );
    assert_eq!(
        glpi.get_account(&account.id)
            .await
            .unwrap()
            .unwrap()
            .enabled,
        Some(false)
    );
    glpi.set_enabled(&account.id, true).await.unwrap();
    assert_eq!(
        glpi.client().users().get(uid).await.unwrap().is_active,
        Some(1)
    );

    let updated = glpi
        .update_account(
            &account.id,
            &accesslink_core::AccountChange::new().email(format!("new.{login}@example.test")),
        )
        .await
        .unwrap();
    assert_eq!(
        updated.email.as_deref(),
        Some(format!("new.{login}@example.test").as_str())
    );

    // Delete goes to the trash: GLPI still has the user, the connector no longer sees it.
    glpi.delete_account(&account.id).await.unwrap();
    assert_eq!(
        glpi.client().users().get(uid).await.unwrap().is_deleted,
        Some(1)
    );
    assert!(glpi.get_account(&account.id).await.unwrap().is_none());
    glpi.delete_account(&account.id).await.unwrap();
    let conflict = glpi.create_account(&spec).await.unwrap_err();
    assert_eq!(conflict.kind(), ErrorKind::Conflict, "{conflict}");
    assert!(conflict.to_string().contains("trash"), "{conflict}");

    let purging = GlpiConnector::new(
        l.client(),
        GlpiConfig::new().delete(accesslink_glpi::DeleteMode::Purge),
    );
    purging.delete_account(&account.id).await.unwrap();
    assert!(
        purging
            .client()
            .users()
            .get_opt(uid)
            .await
            .unwrap()
            .is_none()
    );
    purging.delete_account(&account.id).await.unwrap();
    l.purge("Group", group).await;
}

#[tokio::test]
async fn session_killed_mid_import_of_2000_users_loses_and_repeats_nothing() {
    let Some(l) = live() else { return };
    let _lock = users_lock().await;
    ensure_import_users(&l).await;
    let (proxy, glpi) = l.through_proxy(GlpiConfig::new()).await;
    let started = std::time::Instant::now();
    let mut stream = paging::accounts(&glpi, PagingOptions::new().page_size(250));
    let mut logins = Vec::new();
    let mut killed = false;
    while let Some(a) = stream.try_next().await.unwrap() {
        if a.login.starts_with(IMPORT_PREFIX) {
            logins.push(a.login);
        }
        if !killed && stream.report().pages == 3 {
            // As an administrator (or session expiry) would: the token dies server-side.
            l.kill(&glpi.client().session_token().await.unwrap()).await;
            killed = true;
        }
    }
    let report = stream.report();
    eprintln!(
        "imported {} accounts in {} pages in {:?}, through one session kill",
        report.items,
        report.pages,
        started.elapsed()
    );
    assert!(killed && report.pages >= 8, "{report:?}");
    assert_eq!(report.duplicates, 0);
    let distinct: HashSet<&String> = logins.iter().collect();
    assert_eq!(logins.len(), IMPORT_USERS, "every import user once");
    assert_eq!(distinct.len(), IMPORT_USERS);
    assert_eq!(
        proxy.requests_to("GET", "/initSession"),
        2,
        "one re-login after the kill"
    );
    assert_eq!(
        proxy.requests_to("GET", "/search/User") as u64,
        report.pages + 1,
        "one search per page, plus the one repeated after the re-login"
    );
}

#[tokio::test]
async fn rows_purged_and_added_during_an_import_are_neither_skipped_nor_repeated() {
    let Some(l) = live() else { return };
    let _lock = users_lock().await;
    let glpi = l.connector();
    let prefix = fresh_id("al-shift");
    // Groups page with offsets (seek), users with the id keyset: both are exercised.
    let mut groups = Vec::new();
    for i in 0..30 {
        groups.push(l.group(&format!("{prefix}-g{i:02}")).await);
    }
    let mut users = Vec::new();
    for i in 0..30 {
        users.push(l.user(&format!("{prefix}-u{i:02}")).await);
    }
    let ty = accesslink_core::EntitlementType::group();
    let mut seen_groups = Vec::new();
    let mut stream = paging::entitlements(&glpi, &ty, PagingOptions::new().page_size(10));
    let mut purged = Vec::new();
    let mut added = Vec::new();
    while let Some(e) = stream.try_next().await.unwrap() {
        if e.name.starts_with(&prefix) {
            seen_groups.push(e.reference.id.as_str().parse::<u64>().unwrap());
        }
        // Once ten of ours are read, purge five already read and add three.
        if seen_groups.len() == 10 && purged.is_empty() {
            for &g in &groups[..5] {
                l.purge("Group", g).await;
                purged.push(g);
            }
            for i in 0..3 {
                added.push(l.group(&format!("{prefix}-new{i}")).await);
            }
        }
    }
    let want: Vec<u64> = groups.iter().chain(&added).copied().collect();
    let mut got = seen_groups.clone();
    got.sort_unstable();
    assert_eq!(got, want, "every group once, the new ones too");

    let mut seen_users = Vec::new();
    let mut purged_users = Vec::new();
    // Resume just below our users (the token format is documented), so the test does
    // not page through the 2,000 import users ten at a time.
    let start = accesslink_core::PageToken::new(format!("glpi1:User:{}:0", users[0] - 1));
    let options = PagingOptions::new().page_size(10).resume_from(Some(start));
    let mut stream = paging::accounts(&glpi, options);
    while let Some(a) = stream.try_next().await.unwrap() {
        if a.login.starts_with(&prefix) {
            seen_users.push(a.id.as_str().parse::<u64>().unwrap());
        }
        if seen_users.len() == 10 && purged_users.is_empty() {
            for &u in &users[..5] {
                l.purge("User", u).await;
                purged_users.push(u);
            }
        }
    }
    assert_eq!(seen_users, users, "every user once, in id order");
    for g in groups.iter().chain(&added).filter(|g| !purged.contains(g)) {
        l.purge("Group", *g).await;
    }
    for u in users.iter().filter(|u| !purged_users.contains(u)) {
        l.purge("User", *u).await;
    }
}

#[tokio::test]
async fn search_keyset_matches_the_servers_own_count() {
    let Some(l) = live() else { return };
    let _lock = users_lock().await;
    ensure_import_users(&l).await;
    let glpi = l.connector();
    let page = glpi
        .client()
        .users()
        .search(&SearchQuery::new(1).criterion(Criterion::new(
            1,
            SearchType::Contains,
            format!("^{IMPORT_PREFIX}"),
        )))
        .await
        .unwrap();
    assert_eq!(page.total, IMPORT_USERS as u64);
    let first = glpi
        .list_accounts(accesslink_core::PageRequest::first().size(1000))
        .await
        .unwrap();
    assert!(first.items.len() <= 1000 && first.next.is_some());
    assert!(first.total.unwrap() >= IMPORT_USERS as u64);
    let one = first
        .items
        .iter()
        .find(|a| a.login.starts_with(IMPORT_PREFIX))
        .unwrap();
    assert_eq!(
        one.email.as_deref(),
        Some(format!("{}@example.test", one.login).as_str())
    );
}

#[tokio::test]
async fn provisioning_conformance_suite_against_the_real_server() {
    use accesslink_testkit::conformance::{ProvisioningSuite, run_provisioning_suite};
    let Some(l) = live() else { return };
    let _lock = users_lock().await;
    ensure_import_users(&l).await;
    let group = conformance_group(&l).await;
    // Purge rather than trash, so the run leaves nothing behind.
    let config = GlpiConfig::new().delete(accesslink_glpi::DeleteMode::Purge);
    let (proxy, glpi) = l.through_proxy(config).await;
    let backend = LiveAccounts {
        live: &l,
        proxy: &proxy,
    };
    let login = fresh_id("al-conf");
    let suite = ProvisioningSuite::new(
        500,
        AccountSpec::new(&login)
            .name("Conformance", "Run")
            .email(format!("{login}@example.test")),
        GlpiConnector::group_entitlement(group),
    )
    .canaries([l.app_token.clone(), l.user_token.clone()]);
    let report = run_provisioning_suite(&glpi, &backend, &suite).await;
    eprintln!("{report}");
    report.assert_success();
    // A real server cannot be made to fail on cue: only the fault checks are skipped.
    let skipped = report
        .skipped()
        .filter(|(check, _)| !check.is_fault_check());
    assert_eq!(skipped.count(), 0, "{report}");
}
