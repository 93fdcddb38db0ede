//! Everything seed 001 configures as raw JSON, written through the typed bodies of
//! `accesslink_opsramp::requests`: the mock's state changes and it received the seed's
//! shape.

use accesslink_opsramp::models::MaskType;
use accesslink_opsramp::requests::{
    DeactivateBody, GroupBody, RoleUpdate, RoleUser, TerminateBody,
};
use serde_json::{Value, json};

use crate::{client, mock};

fn body(r: &accesslink_testkit::ReceivedRequest) -> Value {
    serde_json::from_slice(&r.body).unwrap()
}

async fn last_to(mock: &accesslink_testkit::opsramp::OpsRampMock, suffix: &str) -> Value {
    let received = mock.received().await;
    let r = received
        .iter()
        .rev()
        .find(|r| r.method.as_str() == "POST" && r.url.path().ends_with(suffix))
        .unwrap_or_else(|| panic!("no POST to …{suffix}"));
    body(r)
}

#[tokio::test]
async fn a_seed_style_role_grant_puts_the_user_in_the_role() {
    let mock = mock(0).await;
    let c = client(&mock).build().unwrap();
    let user = mock.add_user("jdoe@sav.com", "John", "Doe", "jdoe@sav.com");
    let role = mock.add_role("Auditors");
    assert!(!mock.user_roles(&user).contains(&role));
    // Seed 001 AddAccessJSON (roles): uniqueId, allClients and one user with its names.
    let update = RoleUpdate::of(role.clone()).all_clients(true).user(
        RoleUser::new(user.clone())
            .login_name("jdoe@sav.com")
            .name("John", "Doe")
            .email("jdoe@sav.com"),
    );
    let got = c.roles().update_with(&role, &update).await.unwrap();
    assert_eq!(got.unique_id, role);
    assert_eq!(mock.user_roles(&user), vec![role.clone()]);
    assert_eq!(
        last_to(&mock, &format!("/roles/{role}")).await,
        json!({"uniqueId": role, "allClients": true, "users": [{"id": user,
            "loginName": "jdoe@sav.com", "firstName": "John", "lastName": "Doe",
            "email": "jdoe@sav.com"}]})
    );
    // A second user merges with the first (the seed grants one user per call).
    let other = mock.add_user("asmith", "Ann", "Smith", "asmith@sav.com");
    c.roles()
        .update_with(
            &role,
            &RoleUpdate::of(role.clone()).user(RoleUser::new(other.clone())),
        )
        .await
        .unwrap();
    assert_eq!(mock.user_roles(&other), vec![role.clone()]);
    assert_eq!(mock.user_roles(&user), vec![role.clone()]);
}

#[tokio::test]
async fn a_role_update_with_an_injected_user_id_sends_nothing() {
    let mock = mock(0).await;
    let c = client(&mock).build().unwrap();
    let role = mock.add_role("Auditors");
    let before = mock.received().await.len();
    let update = RoleUpdate::of(role.clone()).user(RoleUser::new("USR1/../../x"));
    assert!(c.roles().update_with(&role, &update).await.is_err());
    assert_eq!(mock.received().await.len(), before);
}

#[tokio::test]
async fn typed_act_bodies_change_the_status_and_carry_the_reason() {
    let mock = mock(0).await;
    let c = client(&mock).build().unwrap();
    let user = mock.add_user("leaver", "Lee", "Ver", "leaver@sav.com");
    c.users()
        .deactivate(&user, &DeactivateBody::reason("Contract ended"))
        .await
        .unwrap();
    assert_eq!(mock.user_status(&user), Some("inactive"));
    assert_eq!(
        mock.deactivate_reason(&user).as_deref(),
        Some("Contract ended")
    );
    assert_eq!(
        last_to(&mock, "/DEACTIVATE").await,
        json!({"deactivateReason": "Contract ended"})
    );
    c.users().activate(&user).await.unwrap();
    assert_eq!(mock.user_status(&user), Some("active"));
    let received = mock.received().await;
    let activate = received
        .iter()
        .rfind(|r| r.url.path().ends_with("/ACTIVATE"))
        .unwrap();
    assert!(activate.body.is_empty(), "ACTIVATE has no body");
    c.users()
        .terminate(
            &user,
            &TerminateBody::reason("Left").mask(MaskType::Partial),
        )
        .await
        .unwrap();
    assert!(!mock.has_user(&user));
    assert_eq!(
        last_to(&mock, "/TERMINATE").await,
        json!({"terminateReason": "Left", "maskType": "PARTIAL"})
    );
}

#[tokio::test]
async fn a_typed_group_carries_its_roles_by_unique_id() {
    let mock = mock(0).await;
    let c = client(&mock).build().unwrap();
    let role = mock.add_role("Auditors");
    let g = c
        .user_groups()
        .create_group(
            &GroupBody::named("Audit")
                .email("audit@sav.com")
                .role(role.clone()),
        )
        .await
        .unwrap();
    assert_eq!(
        last_to(&mock, "/userGroups").await,
        json!({"name": "Audit", "email": "audit@sav.com", "roles": [{"uniqueId": role}]})
    );
    let read = c.user_groups().get(&g.unique_id).await.unwrap();
    let roles: Vec<_> = read
        .roles
        .iter()
        .filter_map(|r| r.unique_id.clone())
        .collect();
    assert_eq!(roles, vec![role.clone()]);
    // An update with an unknown role is refused by the mock and changes nothing.
    let bad = GroupBody::default().role("ROLE-nope");
    assert!(
        c.user_groups()
            .update_group(&g.unique_id, &bad)
            .await
            .is_err()
    );
    let read = c.user_groups().get(&g.unique_id).await.unwrap();
    assert_eq!(read.roles.len(), 1);
}
