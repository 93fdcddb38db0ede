//! Every "already" outcome is a success, decided from the server's state, and sends
//! no write.

use accesslink_core::{AccountSpec, CreateOutcome, GrantOutcome, Provisioner, RevokeOutcome};
use accesslink_opsramp::OpsRampConnector;

use crate::{connector, mock};

#[tokio::test]
async fn create_of_an_existing_login_in_any_case_is_already_exists() {
    let mock = mock(20).await;
    let opsramp = connector(&mock);
    let existing = mock.user("USR0000000007").unwrap();
    let login = existing["loginName"].as_str().unwrap().to_ascii_uppercase();
    let spec = AccountSpec::new(&login)
        .name("A", "B")
        .email("a.b@example.test");
    match opsramp.create_account(&spec).await.unwrap() {
        CreateOutcome::AlreadyExists(a) => assert_eq!(a.id.as_str(), "USR0000000007"),
        other => panic!("{other:?}"),
    }
    assert_eq!(mock.counter().count("POST", "users"), 0, "no create sent");
    assert_eq!(mock.user_count(), 20);
}

/// Plus-addressed logins (`jane+ops@…`, common where the login is the e-mail, as in
/// seed 001) cannot go into a `loginName:` filter, whose `+` separates filters: they are
/// looked up in `users/minimal` instead, so they can be created once and are
/// `AlreadyExists` the second time.
#[tokio::test]
async fn a_plus_addressed_login_is_created_once() {
    let mock = mock(5).await;
    let opsramp = connector(&mock);
    let login = "jane+ops@example.com";
    let spec = AccountSpec::new(login).name("Jane", "Doe").email(login);
    let first = opsramp.create_account(&spec).await.unwrap();
    let CreateOutcome::Created(a) = first else {
        panic!("{first:?}")
    };
    assert_eq!(mock.user(a.id.as_str()).unwrap()["loginName"], login);
    let again = AccountSpec::new("JANE+OPS@example.com")
        .name("Jane", "Doe")
        .email(login);
    match opsramp.create_account(&again).await.unwrap() {
        CreateOutcome::AlreadyExists(b) => assert_eq!(b.id, a.id),
        other => panic!("{other:?}"),
    }
    assert_eq!(mock.users_with_login(login), 1);
    assert_eq!(mock.counter().count("POST", "users"), 1, "one create sent");
    let received = mock.received().await;
    assert!(
        !received.iter().any(|r| r
            .url
            .query()
            .is_some_and(|q| q.contains("loginName%3Ajane%2Bops"))),
        "no search that would split the login"
    );
    assert_eq!(
        received
            .iter()
            .filter(|r| r.url.path().ends_with("/users/minimal"))
            .count(),
        2,
        "each create looked the login up in users/minimal"
    );
}

#[tokio::test]
async fn role_grants_and_revokes_twice() {
    let mock = mock(5).await;
    let opsramp = connector(&mock);
    let user = "USR0000000004";
    let before = mock.user_roles(user);
    assert_eq!(before.len(), 1, "a generated user holds one role");
    let role = mock.add_role("Auditor");
    let e = OpsRampConnector::role_entitlement(&role);
    assert_eq!(
        opsramp.grant(&user.into(), &e).await.unwrap(),
        GrantOutcome::Granted
    );
    let mut want = before.clone();
    want.push(role.clone());
    want.sort();
    assert_eq!(mock.user_roles(user), want, "the old role was kept");
    let posts = mock.counter().count("POST", "users/{id}");
    assert_eq!(
        opsramp.grant(&user.into(), &e).await.unwrap(),
        GrantOutcome::AlreadyGranted
    );
    assert_eq!(
        mock.counter().count("POST", "users/{id}"),
        posts,
        "no second update"
    );
    assert_eq!(
        opsramp.revoke(&user.into(), &e).await.unwrap(),
        RevokeOutcome::Revoked
    );
    assert_eq!(mock.user_roles(user), before);
    assert_eq!(
        opsramp.revoke(&user.into(), &e).await.unwrap(),
        RevokeOutcome::AlreadyAbsent
    );
    assert_eq!(mock.counter().count("POST", "users/{id}"), posts + 1);
}

/// Role grants read the user and write its complete role list: concurrent grants and
/// revokes on one user through one connector (an import with many tasks) must not
/// overwrite each other's change.
#[tokio::test]
async fn concurrent_role_changes_on_one_user_all_land() {
    let mock = mock(5).await;
    let opsramp = connector(&mock);
    let user = "USR0000000004";
    let before = mock.user_roles(user);
    let old = OpsRampConnector::role_entitlement(&before[0]);
    let roles: Vec<String> = (0..6)
        .map(|i| mock.add_role(&format!("Role {i}")))
        .collect();
    let grants = roles.iter().map(|r| {
        let opsramp = opsramp.clone();
        let e = OpsRampConnector::role_entitlement(r);
        async move { opsramp.grant(&user.into(), &e).await.map(|_| ()) }
    });
    let revoke = {
        let opsramp = opsramp.clone();
        async move { opsramp.revoke(&user.into(), &old).await.map(|_| ()) }
    };
    let (granted, revoked) = tokio::join!(futures::future::join_all(grants), revoke);
    for r in granted {
        r.unwrap();
    }
    revoked.unwrap();
    let mut want = roles.clone();
    want.sort();
    let mut held = mock.user_roles(user);
    held.sort();
    assert_eq!(held, want, "every grant landed and the revoke too");
}

#[tokio::test]
async fn group_grants_and_revokes_twice() {
    let mock = mock(5).await;
    let opsramp = connector(&mock);
    let user = "USR0000000002";
    let group = mock.add_group("DBA");
    let e = OpsRampConnector::group_entitlement(&group);
    assert_eq!(
        opsramp.grant(&user.into(), &e).await.unwrap(),
        GrantOutcome::Granted
    );
    assert_eq!(
        opsramp.grant(&user.into(), &e).await.unwrap(),
        GrantOutcome::AlreadyGranted
    );
    assert_eq!(mock.counter().count("POST", "userGroups/{id}/users"), 1);
    assert_eq!(mock.user_groups(user), vec![group.clone()]);
    assert_eq!(
        opsramp.revoke(&user.into(), &e).await.unwrap(),
        RevokeOutcome::Revoked
    );
    assert_eq!(
        opsramp.revoke(&user.into(), &e).await.unwrap(),
        RevokeOutcome::AlreadyAbsent
    );
    assert_eq!(mock.counter().count("DELETE", "userGroups/{id}/users"), 1);
    assert!(mock.user_groups(user).is_empty());
}

#[tokio::test]
async fn enabling_twice_and_disabling_twice_keep_the_state() {
    let mock = mock(3).await;
    let opsramp = connector(&mock);
    let id = "USR0000000001".into();
    for _ in 0..2 {
        opsramp.set_enabled(&id, false).await.unwrap();
        assert_eq!(mock.user_status("USR0000000001"), Some("inactive"));
    }
    assert_eq!(
        mock.deactivate_reason("USR0000000001").as_deref(),
        Some("Disabled by accesslink")
    );
    for _ in 0..2 {
        opsramp.set_enabled(&id, true).await.unwrap();
        assert_eq!(mock.user_status("USR0000000001"), Some("active"));
    }
    let a = opsramp.get_account(&id).await.unwrap().unwrap();
    assert_eq!(a.enabled, Some(true));
}

#[tokio::test]
async fn missing_users_roles_and_groups_are_not_found() {
    let mock = mock(3).await;
    let opsramp = connector(&mock);
    let role = OpsRampConnector::role_entitlement("ROLE-00000000-0000-4000-a000-000000000000");
    let e = opsramp
        .grant(&"USR0000000001".into(), &role)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), accesslink_core::ErrorKind::NotFound, "{e}");
    let group = OpsRampConnector::group_entitlement(&mock.group_id("Ops").unwrap());
    let e = opsramp
        .grant(&"USR0000000999".into(), &group)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), accesslink_core::ErrorKind::NotFound, "{e}");
    assert!(
        opsramp
            .get_account(&"USR0000000999".into())
            .await
            .unwrap()
            .is_none()
    );
}
