//! Every "already" outcome, with what the mock received: a repeated operation sends no
//! second write.

use accesslink_core::{
    AccountId, AccountSpec, CreateOutcome, ErrorKind, GrantOutcome, Provisioner, RevokeOutcome,
};
use accesslink_opsgenie::OpsGenieConnector;
use accesslink_testkit::opsgenie::OpsGenieMock;

use crate::on_mock;

#[tokio::test]
async fn creating_an_existing_username_is_already_exists_without_a_post() {
    let mock = OpsGenieMock::start().await;
    let og = on_mock(&mock);
    let existing = mock
        .add_user("jane@example.com", "Jane Doe", "user")
        .unwrap();
    // Any case: OpsGenie usernames are e-mail addresses.
    let outcome = og
        .create_account(&AccountSpec::new("Jane@Example.com"))
        .await
        .unwrap();
    match outcome {
        CreateOutcome::AlreadyExists(a) => {
            assert_eq!(a.id.as_str(), existing);
            assert_eq!(a.login, "jane@example.com");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(mock.count("POST", "/v2/users"), 0);
    assert_eq!(mock.user_count(), 1);
}

#[tokio::test]
async fn a_username_taken_between_lookup_and_create_is_already_exists() {
    let mock = OpsGenieMock::start().await;
    let og = on_mock(&mock);
    // The lookup finds nothing (404 from a fault), the POST meets the real user: 409.
    mock.add_user("race@example.com", "Race", "user").unwrap();
    mock.faults().push_for(
        accesslink_testkit::fault::FaultMatcher::route("GET", "/v2/users/race@example.com"),
        accesslink_testkit::fault::Fault::Status {
            status: 404,
            body: Some(r#"{"message":"No user exists with identifier [race@example.com]","took":0.0,"requestId":"r"}"#.into()),
        },
        1,
    );
    let outcome = og
        .create_account(&AccountSpec::new("race@example.com"))
        .await
        .unwrap();
    assert!(
        matches!(outcome, CreateOutcome::AlreadyExists(_)),
        "{outcome:?}"
    );
    assert_eq!(mock.count("POST", "/v2/users"), 1);
    assert_eq!(mock.users_created(), 1, "only the seeded user");
}

#[tokio::test]
async fn team_membership_granted_and_revoked_twice() {
    let mock = OpsGenieMock::start().await;
    let og = on_mock(&mock);
    let user = mock.add_user("sam@example.com", "Sam", "user").unwrap();
    let team = mock.add_team("ops", "");
    let e = OpsGenieConnector::team_entitlement(team.clone());
    let id = AccountId::new(user.clone());
    assert_eq!(og.grant(&id, &e).await.unwrap(), GrantOutcome::Granted);
    assert_eq!(
        og.grant(&id, &e).await.unwrap(),
        GrantOutcome::AlreadyGranted
    );
    assert_eq!(
        mock.team_members(&team),
        [(user.clone(), "user".to_owned())]
    );
    assert_eq!(mock.count("POST", "/v2/teams/:id/members"), 1);
    // By username too: the membership is the same.
    let by_name = AccountId::new("SAM@example.com");
    assert_eq!(
        og.grant(&by_name, &e).await.unwrap(),
        GrantOutcome::AlreadyGranted
    );
    assert_eq!(og.revoke(&id, &e).await.unwrap(), RevokeOutcome::Revoked);
    assert_eq!(
        og.revoke(&id, &e).await.unwrap(),
        RevokeOutcome::AlreadyAbsent
    );
    assert!(mock.team_members(&team).is_empty());
    assert_eq!(mock.count("DELETE", "/v2/teams/:id/members/:member"), 1);
    // Each decision read the team detail first.
    assert_eq!(mock.count("GET", "/v2/teams/:id"), 5);
}

#[tokio::test]
async fn roles_granted_twice_and_revoked_back_to_the_default() {
    let mock = OpsGenieMock::start().await;
    let og = on_mock(&mock);
    let user = mock.add_user("kim@example.com", "Kim", "user").unwrap();
    let id = AccountId::new(user.clone());
    let admin = OpsGenieConnector::role_entitlement("admin");
    assert_eq!(og.grant(&id, &admin).await.unwrap(), GrantOutcome::Granted);
    assert_eq!(mock.user_role(&user).as_deref(), Some("Admin"));
    assert_eq!(
        og.grant(&id, &admin).await.unwrap(),
        GrantOutcome::AlreadyGranted
    );
    assert_eq!(mock.count("PATCH", "/v2/users/:id"), 1);
    assert_eq!(
        og.revoke(&id, &admin).await.unwrap(),
        RevokeOutcome::Revoked
    );
    assert_eq!(
        mock.user_role(&user).as_deref(),
        Some("User"),
        "the default role"
    );
    assert_eq!(
        og.revoke(&id, &admin).await.unwrap(),
        RevokeOutcome::AlreadyAbsent
    );
    assert_eq!(mock.count("PATCH", "/v2/users/:id"), 2);
    // The default role cannot be revoked: a user always holds one.
    let default = OpsGenieConnector::role_entitlement("User");
    let e = og.revoke(&id, &default).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert_eq!(mock.count("PATCH", "/v2/users/:id"), 2);
    // A custom role is checked against /v2/roles; an unknown one is NotFound.
    mock.add_role("Responder", "user");
    let responder = OpsGenieConnector::role_entitlement("responder");
    assert_eq!(
        og.grant(&id, &responder).await.unwrap(),
        GrantOutcome::Granted
    );
    assert_eq!(mock.user_role(&user).as_deref(), Some("Responder"));
    // By the role's id too (seed 002 imports roles by `role.id`).
    let on_call = mock.add_role("On Call Lead", "user");
    let by_id = OpsGenieConnector::role_entitlement(on_call);
    assert_eq!(og.grant(&id, &by_id).await.unwrap(), GrantOutcome::Granted);
    assert_eq!(mock.user_role(&user).as_deref(), Some("On Call Lead"));
    assert_eq!(
        og.grant(&id, &by_id).await.unwrap(),
        GrantOutcome::AlreadyGranted
    );
    let ghost = OpsGenieConnector::role_entitlement("Ghost");
    assert_eq!(
        og.grant(&id, &ghost).await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
    assert_eq!(mock.count("PATCH", "/v2/users/:id"), 4);
}

#[tokio::test]
async fn deleting_twice_is_fine_and_granting_to_a_missing_team_is_not_found() {
    let mock = OpsGenieMock::start().await;
    let og = on_mock(&mock);
    let user = mock.add_user("lee@example.com", "Lee", "user").unwrap();
    let team = mock.add_team("db", "");
    mock.add_member(&team, &user, "admin");
    let id = AccountId::new(user.clone());
    og.delete_account(&id).await.unwrap();
    og.delete_account(&id).await.unwrap();
    assert_eq!(mock.count("DELETE", "/v2/users/:id"), 2);
    assert_eq!(mock.users_deleted(), 1);
    assert!(
        mock.team_members(&team).is_empty(),
        "deleting removes access everywhere"
    );
    assert!(og.get_account(&id).await.unwrap().is_none());
    // A deleted user cannot be granted a team: OpsGenie's 422 "not found" is NotFound.
    let gone = og
        .grant(&id, &OpsGenieConnector::team_entitlement(team.clone()))
        .await;
    assert_eq!(gone.unwrap_err().kind(), ErrorKind::NotFound);
    assert!(mock.team_members(&team).is_empty());
    let other = mock.add_user("max@example.com", "Max", "user").unwrap();
    let missing = OpsGenieConnector::team_entitlement("9d0c9a1e-0000-4000-8000-000000000999");
    let e = og
        .grant(&AccountId::new(other), &missing)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
    assert_eq!(
        mock.count("POST", "/v2/teams/:id/members"),
        1,
        "only the deleted user's"
    );
}
