//! Permission groups as a second entitlement type of operators: listed, granted and
//! revoked through `operators/id/{id}/permissiongroups` (vendor API description), with
//! "already" outcomes.

use accesslink_core::paging::{PagingOptions, entitlements, grants};
use accesslink_core::{
    AccountSpec, EntitlementType, ErrorKind, GrantOutcome, PageRequest, Provisioner, RevokeOutcome,
};
use accesslink_testkit::topdesk::TopdeskMock;
use accesslink_topdesk::{OPERATOR_GROUP, PERMISSION_GROUP, TopdeskConnector};
use futures::TryStreamExt;
use serde_json::{Value, json};

use crate::on_mock;

#[tokio::test]
async fn permission_groups_are_granted_and_revoked_once() {
    let mock = TopdeskMock::start().await;
    let td = on_mock(&mock);
    let admins = mock.add_permission_group("Application managers");
    let readers = mock.add_permission_group("Readers");
    let group = mock.add_operator_group("Service desk");
    assert_eq!(
        td.entitlement_types()
            .iter()
            .map(EntitlementType::as_str)
            .collect::<Vec<_>>(),
        [OPERATOR_GROUP, PERMISSION_GROUP]
    );
    let op = td
        .create_account(&AccountSpec::new("o.p").name("Otto", "P"))
        .await
        .unwrap()
        .into_account()
        .id;
    let uuid = op.as_str()["operator:".len()..].to_owned();
    let e = TopdeskConnector::permission_group_entitlement(&admins);
    assert_eq!(td.grant(&op, &e).await.unwrap(), GrantOutcome::Granted);
    assert_eq!(
        td.grant(&op, &e).await.unwrap(),
        GrantOutcome::AlreadyGranted
    );
    assert_eq!(
        mock.permission_groups_of(&uuid),
        std::slice::from_ref(&admins)
    );
    // Operator groups are a separate list.
    assert!(mock.operator_groups_of(&uuid).is_empty());
    let posts: Vec<_> = mock
        .received()
        .await
        .into_iter()
        .filter(|r| r.method == "POST" && r.url.path().ends_with("/permissiongroups"))
        .collect();
    assert_eq!(posts.len(), 1);
    assert_eq!(
        posts[0].url.path(),
        format!("/tas/api/operators/id/{uuid}/permissiongroups")
    );
    assert_eq!(
        posts[0].body_json::<Value>().unwrap(),
        json!([{ "id": admins }])
    );

    let ty = EntitlementType::new(PERMISSION_GROUP);
    let listed: Vec<_> = entitlements(&td, &ty, PagingOptions::new().page_size(1))
        .try_collect()
        .await
        .unwrap();
    let names: Vec<_> = listed.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["Application managers", "Readers"]);
    assert_eq!(listed[1].reference.id.as_str(), readers);
    let held: Vec<_> = grants(&td, &ty, PagingOptions::new())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(held.len(), 1);
    assert_eq!(held[0].entitlement, e);

    assert_eq!(td.revoke(&op, &e).await.unwrap(), RevokeOutcome::Revoked);
    assert_eq!(
        td.revoke(&op, &e).await.unwrap(),
        RevokeOutcome::AlreadyAbsent
    );
    assert!(mock.permission_groups_of(&uuid).is_empty());

    // An unknown type is refused before any request.
    let n = mock.requests();
    let bad = accesslink_core::EntitlementRef::new(EntitlementType::new("role"), group);
    assert_eq!(
        td.grant(&op, &bad).await.unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
    let e = td
        .list_entitlements(&EntitlementType::new("role"), PageRequest::first())
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert_eq!(mock.requests(), n);
}

#[tokio::test]
async fn the_permission_group_path_is_a_setting() {
    let mock = TopdeskMock::start().await;
    mock.add_permission_group("Readers");
    let td = TopdeskConnector::from_settings(crate::settings_with(&mock, |v| {
        v["permission_groups_path"] = json!("permissionGroups");
    }))
    .unwrap();
    // The mock serves `permissiongroups`: another path is the server's 404.
    let e = td
        .list_entitlements(
            &EntitlementType::new(PERMISSION_GROUP),
            PageRequest::first(),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
    assert_eq!(
        mock.received().await[0].url.path(),
        "/tas/api/permissionGroups"
    );
    for bad in ["../persons", "a b", "", "x?y=1"] {
        let r = TopdeskConnector::from_settings(crate::settings_with(&mock, |v| {
            v["permission_groups_path"] = json!(bad);
        }));
        assert!(r.is_err(), "{bad}");
    }
}
