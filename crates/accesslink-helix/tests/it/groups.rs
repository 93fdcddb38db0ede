//! AR `Group` membership through the `User` form's `Group List`: a checked
//! read-modify-write that never drops another writer's group.

use accesslink_core::{
    AccountId, Connector, EntitlementType, ErrorKind, GrantOutcome, PageRequest, Provisioner,
    RevokeOutcome,
};
use accesslink_helix::HelixConnector;
use accesslink_testkit::helix::HelixMock;
use serde_json::{Value, json};

use crate::settings_with;

fn with_groups(mock: &HelixMock) -> HelixConnector {
    HelixConnector::from_settings(settings_with(mock, |v| v["ar_groups"] = json!({}))).unwrap()
}

/// The `Group List` values the server received in PUTs, in order.
async fn written_lists(mock: &HelixMock) -> Vec<String> {
    mock.received()
        .await
        .iter()
        .filter(|r| r.method.as_str() == "PUT")
        .map(|r| {
            assert_eq!(
                r.url.path().rsplit_once('/').unwrap().0,
                "/api/arsys/v1/entry/User"
            );
            let body: Value = r.body_json().unwrap();
            let values = body["values"].as_object().unwrap();
            assert_eq!(values.len(), 1, "only the Group List is written: {body}");
            values["Group List"].as_str().unwrap().to_owned()
        })
        .collect()
}

#[tokio::test]
async fn grant_and_revoke_edit_only_their_own_group() {
    let mock = HelixMock::start().await;
    mock.add_user("jdoe", "1000000001;1000000014;");
    let helix = with_groups(&mock);
    let id = AccountId::new("jdoe");
    let g = HelixConnector::ar_group_entitlement("1000000020");
    assert_eq!(helix.grant(&id, &g).await.unwrap(), GrantOutcome::Granted);
    assert_eq!(
        mock.group_list("jdoe").unwrap(),
        "1000000001;1000000014;1000000020;"
    );
    assert_eq!(
        helix.grant(&id, &g).await.unwrap(),
        GrantOutcome::AlreadyGranted
    );
    let old = HelixConnector::ar_group_entitlement("1000000001");
    assert_eq!(
        helix.revoke(&id, &old).await.unwrap(),
        RevokeOutcome::Revoked
    );
    assert_eq!(
        helix.revoke(&id, &old).await.unwrap(),
        RevokeOutcome::AlreadyAbsent
    );
    assert_eq!(mock.group_list("jdoe").unwrap(), "1000000014;1000000020;");
    assert_eq!(
        written_lists(&mock).await,
        [
            "1000000001;1000000014;1000000020;",
            "1000000014;1000000020;"
        ],
        "one write per change, none for the no-ops"
    );
    // The read asks for the user by login, with a quoted qualification.
    let read = mock
        .received()
        .await
        .into_iter()
        .find(|r| r.method.as_str() == "GET" && r.url.path().ends_with("/entry/User"))
        .unwrap();
    assert_eq!(
        crate::param(&read.url, "q").as_deref(),
        Some("'Login Name' = \"jdoe\"")
    );
}

#[tokio::test]
async fn a_change_made_between_read_and_write_is_kept() {
    let mock = HelixMock::start().await;
    mock.add_user("jdoe", "1000000001;");
    let helix = with_groups(&mock);
    // Another client adds 1000000099 right after our first read.
    mock.concurrent_group_list_after_read("jdoe", "1000000001;1000000099;");
    let g = HelixConnector::ar_group_entitlement("1000000020");
    assert_eq!(
        helix.grant(&AccountId::new("jdoe"), &g).await.unwrap(),
        GrantOutcome::Granted
    );
    assert_eq!(
        mock.group_list("jdoe").unwrap(),
        "1000000001;1000000099;1000000020;"
    );
    // The list built on the stale read ("1000000001;1000000020;") was never sent.
    assert_eq!(
        written_lists(&mock).await,
        ["1000000001;1000000099;1000000020;"]
    );
}

#[tokio::test]
async fn a_write_lost_to_a_stale_writer_is_made_again() {
    let mock = HelixMock::start().await;
    mock.add_user("jdoe", "1000000001;");
    let helix = with_groups(&mock);
    // Another client read "1000000001;" before our write and lands its own list after it.
    mock.concurrent_group_list_after_write("jdoe", "1000000001;1000000077;");
    let g = HelixConnector::ar_group_entitlement("1000000020");
    assert_eq!(
        helix.grant(&AccountId::new("jdoe"), &g).await.unwrap(),
        GrantOutcome::Granted
    );
    assert_eq!(
        mock.group_list("jdoe").unwrap(),
        "1000000001;1000000077;1000000020;"
    );
    assert_eq!(
        written_lists(&mock).await,
        [
            "1000000001;1000000020;",
            "1000000001;1000000077;1000000020;"
        ]
    );
}

#[tokio::test]
async fn endless_concurrent_changes_end_in_conflict() {
    let mock = HelixMock::start().await;
    mock.add_user("jdoe", "1;");
    let helix = HelixConnector::from_settings(settings_with(&mock, |v| {
        v["ar_groups"] = json!({ "max_rounds": 3 })
    }))
    .unwrap();
    for n in 0..10 {
        mock.concurrent_group_list_after_read("jdoe", &format!("1;{};", 500 + n));
    }
    let e = helix
        .grant(
            &AccountId::new("jdoe"),
            &HelixConnector::ar_group_entitlement("20"),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conflict, "{e}");
    assert!(
        written_lists(&mock).await.is_empty(),
        "nothing written on a stale read"
    );
}

#[tokio::test]
async fn groups_and_grants_are_listed_and_bad_ids_refused_before_any_request() {
    let mock = HelixMock::start().await;
    mock.add_group(1000000001, "Administrator");
    mock.add_group(1000000014, "Incident Master");
    mock.add_user("jdoe", "1000000001;1000000014;");
    mock.add_user("asmith", "");
    let helix = with_groups(&mock);
    let ty = EntitlementType::new("ar_group");
    assert!(helix.entitlement_types().contains(&ty));
    let groups = helix
        .list_entitlements(&ty, PageRequest::first())
        .await
        .unwrap();
    let names: Vec<_> = groups.items.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["Administrator", "Incident Master"]);
    let grants = helix.list_grants(&ty, PageRequest::first()).await.unwrap();
    let pairs: Vec<_> = grants
        .items
        .iter()
        .map(|g| (g.account.as_str(), g.entitlement.id.as_str()))
        .collect();
    assert_eq!(pairs, [("jdoe", "1000000001"), ("jdoe", "1000000014")]);

    let before = mock.requests();
    for bad in ["", "12a", "1;2", "1\" OR 'Login Name' != \""] {
        let e = helix
            .grant(
                &AccountId::new("jdoe"),
                &HelixConnector::ar_group_entitlement(bad),
            )
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "{bad:?}: {e}");
    }
    let e = helix
        .grant(
            &AccountId::new("x\" OR \"1\" = \"1"),
            &HelixConnector::ar_group_entitlement("1"),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
    assert_eq!(mock.requests(), before, "refused before any request");
}

#[tokio::test]
async fn ar_groups_are_off_unless_configured() {
    let mock = HelixMock::start().await;
    mock.add_user("jdoe", "1;");
    let helix = crate::on_mock(&mock);
    assert!(
        !helix
            .entitlement_types()
            .contains(&EntitlementType::new("ar_group"))
    );
    let e = helix
        .grant(
            &AccountId::new("jdoe"),
            &HelixConnector::ar_group_entitlement("2"),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
    assert_eq!(mock.group_list("jdoe").unwrap(), "1;");
    let _ = helix.info();
}
