//! Every "already" outcome, enable/disable, inherited roles and duplicate rows, checked
//! against what the mock holds and received.

use accesslink_core::{
    AccountChange, AccountId, AccountSpec, CreateOutcome, ErrorKind, GrantOutcome, Provisioner,
    RevokeOutcome,
};
use accesslink_servicenow::{group_ref, role_ref};
use accesslink_testkit::servicenow::ServiceNowMock;
use futures::TryStreamExt;
use serde_json::json;

use crate::mock::basic_on;

#[tokio::test]
async fn create_update_enable_disable_delete() {
    let mock = ServiceNowMock::start().await;
    let sn = basic_on(&mock);
    let spec = AccountSpec::new("jdoe")
        .name("Jane", "Doe")
        .email("jdoe@example.test")
        .attribute("u_badge", 42)
        .attribute("title", "Analyst");
    let a = match sn.create_account(&spec).await.unwrap() {
        CreateOutcome::Created(a) => a,
        other => panic!("{other:?}"),
    };
    let row = mock.row("sys_user", a.id.as_str()).unwrap();
    assert_eq!(row["user_name"], "jdoe");
    assert_eq!(row["u_badge"], "42");
    assert_eq!(row["title"], "Analyst");
    assert_eq!(row["active"], "true");
    assert_eq!(a.enabled, Some(true));

    match sn.create_account(&spec).await.unwrap() {
        CreateOutcome::AlreadyExists(b) => assert_eq!(b.id, a.id),
        other => panic!("{other:?}"),
    }
    assert_eq!(mock.find("sys_user", "user_name", "jdoe").len(), 1);
    assert_eq!(mock.count("POST", "/api/now/table/sys_user"), 1);

    let changed = sn
        .update_account(&a.id, &AccountChange::new().email("jane@example.test"))
        .await
        .unwrap();
    assert_eq!(changed.email.as_deref(), Some("jane@example.test"));
    assert_eq!(
        mock.row("sys_user", a.id.as_str()).unwrap()["email"],
        "jane@example.test"
    );
    let e = sn
        .update_account(&a.id, &AccountChange::new().attribute("roles", "admin"))
        .await
        .unwrap_err();
    assert_eq!(
        e.kind(),
        ErrorKind::InvalidInput,
        "unknown fields are refused, not ignored"
    );

    sn.set_enabled(&a.id, false).await.unwrap();
    let row = mock.row("sys_user", a.id.as_str()).unwrap();
    assert_eq!(
        (row["active"].as_str(), row["locked_out"].as_str()),
        (Some("false"), Some("true"))
    );
    assert_eq!(
        sn.get_account(&a.id).await.unwrap().unwrap().enabled,
        Some(false)
    );
    sn.set_enabled(&a.id, true).await.unwrap();
    let row = mock.row("sys_user", a.id.as_str()).unwrap();
    assert_eq!(
        (row["active"].as_str(), row["locked_out"].as_str()),
        (Some("true"), Some("false"))
    );

    sn.delete_account(&a.id).await.unwrap();
    assert!(mock.row("sys_user", a.id.as_str()).is_none());
    sn.delete_account(&a.id).await.unwrap();
    assert!(sn.get_account(&a.id).await.unwrap().is_none());
}

#[tokio::test]
async fn grants_and_revokes_look_before_they_write() {
    let mock = ServiceNowMock::start().await;
    let sn = basic_on(&mock);
    let user = mock.insert("sys_user", json!({ "user_name": "alice" }));
    let group = mock.insert("sys_user_group", json!({ "name": "g" }));
    let role = mock.insert("sys_user_role", json!({ "name": "itil" }));
    let id = AccountId::new(user.clone());
    for e in [group_ref(group.clone()), role_ref(role.clone())] {
        assert_eq!(sn.grant(&id, &e).await.unwrap(), GrantOutcome::Granted);
        assert_eq!(
            sn.grant(&id, &e).await.unwrap(),
            GrantOutcome::AlreadyGranted
        );
        assert_eq!(sn.revoke(&id, &e).await.unwrap(), RevokeOutcome::Revoked);
        assert_eq!(
            sn.revoke(&id, &e).await.unwrap(),
            RevokeOutcome::AlreadyAbsent
        );
    }
    // One insert per table: the second grant found the row (the tables allow duplicates).
    assert_eq!(mock.count("POST", "/api/now/table/sys_user_grmember"), 1);
    assert_eq!(mock.count("POST", "/api/now/table/sys_user_has_role"), 1);
    assert_eq!(mock.table_len("sys_user_grmember"), 0);
    assert_eq!(mock.table_len("sys_user_has_role"), 0);

    // Duplicate membership rows (made by someone else) are all removed.
    for _ in 0..2 {
        mock.insert("sys_user_grmember", json!({ "user": user, "group": group }));
    }
    assert_eq!(
        sn.revoke(&id, &group_ref(group.clone())).await.unwrap(),
        RevokeOutcome::Revoked
    );
    assert_eq!(mock.table_len("sys_user_grmember"), 0);
}

/// Two processes granting the same at the same moment: both look, both find nothing
/// (every list call answers after 150 ms, so both looks are in flight together), both
/// insert. One row must remain, whichever racer cleans up first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_grants_of_the_same_membership_leave_one_row() {
    let mock = ServiceNowMock::builder()
        .page_delay(std::time::Duration::from_millis(150))
        .start()
        .await;
    let user = mock.insert("sys_user", json!({ "user_name": "alice" }));
    let group = mock.insert("sys_user_group", json!({ "name": "g" }));
    let role = mock.insert("sys_user_role", json!({ "name": "itil" }));
    // Two connectors, as two worker processes would have.
    let (a, b) = (basic_on(&mock), basic_on(&mock));
    let id = AccountId::new(user.clone());
    for (e, table, field, target) in [
        (
            group_ref(group.clone()),
            "sys_user_grmember",
            "group",
            &group,
        ),
        (role_ref(role.clone()), "sys_user_has_role", "role", &role),
    ] {
        let (x, y) = tokio::join!(a.grant(&id, &e), b.grant(&id, &e));
        let outcomes = [x.unwrap(), y.unwrap()];
        assert!(
            outcomes
                .iter()
                .all(|o| matches!(o, GrantOutcome::Granted | GrantOutcome::AlreadyGranted)),
            "{outcomes:?}"
        );
        let path = format!("/api/now/table/{table}");
        assert_eq!(
            mock.count("POST", &path),
            2,
            "both racers inserted: the race happened"
        );
        let rows: Vec<_> = mock
            .find(table, "user", &user)
            .into_iter()
            .filter(|r| r[field] == target.as_str())
            .collect();
        assert_eq!(rows.len(), 1, "one {table} row left: {rows:?}");
        assert!(mock.count("DELETE", &path) >= 1, "the copy was deleted");
    }
}

#[tokio::test]
async fn an_inherited_role_cannot_be_revoked_on_the_user() {
    let mock = ServiceNowMock::start().await;
    let sn = basic_on(&mock);
    let user = mock.insert("sys_user", json!({ "user_name": "bob" }));
    let group = mock.insert("sys_user_group", json!({ "name": "itil-group" }));
    let role = mock.insert("sys_user_role", json!({ "name": "itil" }));
    mock.insert(
        "sys_user_has_role",
        json!({ "user": user, "role": role, "inherited": "true", "granted_by": group }),
    );
    let id = AccountId::new(user.clone());
    assert_eq!(
        sn.grant(&id, &role_ref(role.clone())).await.unwrap(),
        GrantOutcome::AlreadyGranted,
        "held through the group"
    );
    let e = sn.revoke(&id, &role_ref(role.clone())).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conflict);
    assert!(e.to_string().contains("inherited"), "{e}");
    assert_eq!(mock.table_len("sys_user_has_role"), 1, "nothing deleted");
    assert_eq!(mock.count("DELETE", "/api/now/table/sys_user_has_role"), 0);
}

#[tokio::test]
async fn malformed_ids_and_types_are_refused_before_any_request() {
    let mock = ServiceNowMock::start().await;
    let sn = basic_on(&mock);
    let good = "0123456789abcdef0123456789abcdef";
    let id = AccountId::new(good);
    for (account, e) in [
        (AccountId::new("alice"), group_ref(good)),
        (AccountId::new("../sys_user"), group_ref(good)),
        (id.clone(), group_ref("g1")),
        (id.clone(), role_ref("itil^ORactive=true")),
        (
            id.clone(),
            accesslink_core::EntitlementRef::new(accesslink_core::EntitlementType::team(), good),
        ),
    ] {
        assert_eq!(
            sn.grant(&account, &e).await.unwrap_err().kind(),
            ErrorKind::InvalidInput
        );
        assert_eq!(
            sn.revoke(&account, &e).await.unwrap_err().kind(),
            ErrorKind::InvalidInput
        );
    }
    assert_eq!(
        sn.set_enabled(&AccountId::new("x"), false)
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidInput
    );
    assert_eq!(
        sn.delete_account(&AccountId::new("x"))
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidInput
    );
    assert!(mock.requests().is_empty());
}

#[tokio::test]
async fn a_grant_to_a_missing_user_group_or_role_is_not_found_and_writes_nothing() {
    let mock = ServiceNowMock::start().await;
    let sn = basic_on(&mock);
    let user = mock.insert("sys_user", json!({ "user_name": "carol" }));
    let group = mock.insert("sys_user_group", json!({ "name": "g" }));
    let role = mock.insert("sys_user_role", json!({ "name": "itil" }));
    let gone = "0123456789abcdef0123456789abcdef";
    for (account, e) in [
        (gone, group_ref(group.clone())),
        (gone, role_ref(role.clone())),
        (user.as_str(), group_ref(gone)),
        (user.as_str(), role_ref(gone)),
    ] {
        let err = sn.grant(&AccountId::new(account), &e).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotFound, "{account} {e:?}: {err}");
    }
    assert_eq!(mock.count("POST", "/api/now/table/sys_user_grmember"), 0);
    assert_eq!(mock.count("POST", "/api/now/table/sys_user_has_role"), 0);
    assert_eq!(mock.table_len("sys_user_grmember"), 0);
    assert_eq!(mock.table_len("sys_user_has_role"), 0);
}

#[tokio::test]
async fn revoking_a_role_held_directly_and_through_a_group_is_a_conflict_not_revoked() {
    let mock = ServiceNowMock::start().await;
    let sn = basic_on(&mock);
    let user = mock.insert("sys_user", json!({ "user_name": "dave" }));
    let group = mock.insert("sys_user_group", json!({ "name": "itil-group" }));
    let role = mock.insert("sys_user_role", json!({ "name": "itil" }));
    let direct = mock.insert(
        "sys_user_has_role",
        json!({ "user": user, "role": role, "inherited": "false" }),
    );
    mock.insert(
        "sys_user_has_role",
        json!({ "user": user, "role": role, "inherited": "true", "granted_by": group }),
    );
    let id = AccountId::new(user.clone());
    for _ in 0..2 {
        let e = sn.revoke(&id, &role_ref(role.clone())).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Conflict, "{e}");
        assert!(e.to_string().contains(&group), "names the group: {e}");
    }
    assert!(
        mock.row("sys_user_has_role", &direct).is_none(),
        "the direct row is gone"
    );
    assert_eq!(
        mock.table_len("sys_user_has_role"),
        1,
        "the inherited row stays"
    );
    assert_eq!(mock.count("DELETE", "/api/now/table/sys_user_has_role"), 1);
}

#[tokio::test]
async fn role_rows_waiting_for_approval_are_not_grants() {
    let mock = ServiceNowMock::start().await;
    let sn = basic_on(&mock);
    let user = mock.insert("sys_user", json!({ "user_name": "carol" }));
    let asked = mock.insert("sys_user_role", json!({ "name": "itil" }));
    let held = mock.insert("sys_user_role", json!({ "name": "knowledge" }));
    let only_asked = mock.insert("sys_user_role", json!({ "name": "approver_user" }));
    let requested = mock.insert(
        "sys_user_has_role",
        json!({ "user": user, "role": asked, "inherited": "false", "state": "requested" }),
    );
    mock.insert(
        "sys_user_has_role",
        json!({ "user": user, "role": held, "inherited": "false", "state": "active" }),
    );
    let pending = mock.insert(
        "sys_user_has_role",
        json!({ "user": user, "role": only_asked, "inherited": "false", "state": "pending_approval" }),
    );
    assert_eq!(
        mock.row("sys_user_has_role", &requested).unwrap()["state"],
        "requested"
    );
    let grants = |sn: &accesslink_servicenow::ServiceNowConnector| {
        let sn = sn.clone();
        async move {
            let ty = accesslink_core::EntitlementType::role();
            let all: Vec<accesslink_core::Grant> =
                accesslink_core::paging::grants(&sn, &ty, Default::default())
                    .try_collect()
                    .await
                    .unwrap();
            all.into_iter()
                .map(|g| (g.account.as_str().to_owned(), g.entitlement.id.to_string()))
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        grants(&sn).await,
        vec![(user.clone(), held.clone())],
        "a requested or pending row is not listed as a grant"
    );

    // Granting a role the user has only asked for inserts the grant; the request stays.
    let id = AccountId::new(user.clone());
    let e = role_ref(asked.clone());
    assert_eq!(sn.grant(&id, &e).await.unwrap(), GrantOutcome::Granted);
    assert_eq!(mock.count("POST", "/api/now/table/sys_user_has_role"), 1);
    assert_eq!(
        sn.grant(&id, &e).await.unwrap(),
        GrantOutcome::AlreadyGranted
    );
    assert_eq!(mock.count("POST", "/api/now/table/sys_user_has_role"), 1);
    let mut listed = grants(&sn).await;
    listed.sort();
    let mut want = vec![(user.clone(), held.clone()), (user.clone(), asked.clone())];
    want.sort();
    assert_eq!(listed, want);

    // Revoking removes the grant and leaves the request to its approval.
    assert_eq!(sn.revoke(&id, &e).await.unwrap(), RevokeOutcome::Revoked);
    assert_eq!(mock.count("DELETE", "/api/now/table/sys_user_has_role"), 1);
    assert_eq!(
        mock.row("sys_user_has_role", &requested).unwrap()["state"],
        "requested"
    );
    assert_eq!(
        sn.revoke(&id, &e).await.unwrap(),
        RevokeOutcome::AlreadyAbsent
    );
    // A role only asked for is not held: nothing to revoke, nothing deleted.
    assert_eq!(
        sn.revoke(&id, &role_ref(only_asked.clone())).await.unwrap(),
        RevokeOutcome::AlreadyAbsent
    );
    assert_eq!(mock.count("DELETE", "/api/now/table/sys_user_has_role"), 1);
    assert!(mock.row("sys_user_has_role", &pending).is_some());
    assert_eq!(mock.table_len("sys_user_has_role"), 3);
}
