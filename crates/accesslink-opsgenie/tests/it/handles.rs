//! The typed handles, for what the traits do not cover: teams and custom roles by id or
//! name, user streams with a query, the account.

use accesslink_opsgenie::Identifier;
use accesslink_opsgenie::api::{ListUsers, SortOrder, UserSort};
use accesslink_opsgenie::models::{
    CustomRole, MemberUser, NewTeam, NewUser, TeamMember, UserUpdate,
};
use accesslink_testkit::opsgenie::OpsGenieMock;
use futures::TryStreamExt;

use crate::client;

#[tokio::test]
async fn teams_and_members_by_id_and_by_name() {
    let mock = OpsGenieMock::builder().generated_users(3).start().await;
    let c = client(&mock);
    let created = c
        .teams()
        .create(&NewTeam::new("Platform Ops", "on call"))
        .await
        .unwrap();
    let by_name = Identifier::name("Platform Ops");
    let user = mock.generated_user_id(1).unwrap();
    c.teams()
        .add_member(
            &by_name,
            &TeamMember::new(MemberUser::id(user.clone()), "admin"),
        )
        .await
        .unwrap();
    let team = c
        .teams()
        .get(&Identifier::id(created.id.clone()))
        .await
        .unwrap();
    assert_eq!(team.name, "Platform Ops");
    assert_eq!(team.members.len(), 1);
    assert!(team.members[0].user.is(&user));
    assert_eq!(team.members[0].role.as_deref(), Some("admin"));
    let sent = mock.received().await;
    let add = sent
        .iter()
        .find(|r| r.url.path().ends_with("/members"))
        .unwrap();
    // The name goes into the path percent-encoded, with the member endpoints' parameter.
    assert_eq!(add.url.path(), "/v2/teams/Platform%20Ops/members");
    assert_eq!(add.url.query(), Some("teamIdentifierType=name"));
    let teams = c.users().teams(&user).await.unwrap();
    assert_eq!(teams[0].id, created.id);
    c.teams().remove_member(&by_name, &user).await.unwrap();
    assert!(mock.team_members(&created.id).is_empty());
    c.teams().delete(&by_name).await.unwrap();
    assert!(c.teams().get_opt(&by_name).await.unwrap().is_none());
    assert!(c.teams().list().await.unwrap().is_empty());
}

#[tokio::test]
async fn custom_roles_and_users_through_the_handles() {
    let mock = OpsGenieMock::builder().generated_users(230).start().await;
    let c = client(&mock);
    let role = c
        .roles()
        .create(&CustomRole::new("Responder", "observer"))
        .await
        .unwrap();
    let listed = c.roles().list().await.unwrap();
    assert_eq!(listed.len(), 1, "built-in roles are not listed");
    assert_eq!(listed[0].extended_role.as_deref(), Some("observer"));
    let by_id = c
        .roles()
        .get_opt(&Identifier::id(role.id.clone()))
        .await
        .unwrap();
    assert_eq!(by_id.unwrap().name, "Responder");

    let new = NewUser::new("ops.bot@example.com", "Ops Bot", "Responder").invitation_disabled(true);
    let id = c.users().create(&new).await.unwrap().id;
    let user = c.users().get(&id).await.unwrap();
    assert_eq!(user.role_name(), Some("Responder"));
    c.users()
        .update(&id, &UserUpdate::new().role("admin").full_name("Ops Robot"))
        .await
        .unwrap();
    let user = c.users().get("OPS.BOT@example.com").await.unwrap();
    assert_eq!(
        (user.role_name(), user.full_name.as_deref()),
        (Some("Admin"), Some("Ops Robot"))
    );

    // Every admin, sorted by username, two per page.
    let admins: Vec<_> = c
        .users()
        .stream(
            ListUsers::new()
                .query("role:admin")
                .sort(UserSort::Username, SortOrder::Asc)
                .limit(2),
        )
        .try_collect()
        .await
        .unwrap();
    assert_eq!(admins.len(), 6, "users 0, 50, 100, 150, 200 and the bot");
    let names: Vec<&str> = admins.iter().map(|u| u.username.as_str()).collect();
    let mut sorted = names.clone();
    sorted.sort_by_key(|n| n.to_ascii_lowercase());
    assert_eq!(names, sorted);
    assert_eq!(mock.count("GET", "/v2/users"), 3);
    let sent = mock.received().await;
    let list = sent
        .iter()
        .find(|r| r.method.as_str() == "GET" && r.url.path() == "/v2/users")
        .unwrap();
    assert_eq!(
        list.url.query(),
        Some("offset=0&limit=2&sort=username&order=asc&query=role%3Aadmin")
    );

    c.users().delete(&id).await.unwrap();
    assert!(c.users().get_opt(&id).await.unwrap().is_none());
    c.roles()
        .delete(&Identifier::name("Responder"))
        .await
        .unwrap();
    assert!(c.roles().list().await.unwrap().is_empty());
    let account = c.account().await.unwrap();
    assert_eq!(account.user_count, Some(230));
}
