//! What goes on the wire and what comes back: bodies, query parameters, entitlements
//! and grants, regions.

use accesslink_core::paging::{self, PagingOptions};
use accesslink_core::{
    AccountChange, AccountId, AccountSpec, EntitlementType, GrantOutcome, PageRequest, Provisioner,
    RevokeOutcome,
};
use accesslink_opsgenie::{EU_API, OpsGenieClient, OpsGenieConnector, Region, US_API};
use accesslink_testkit::opsgenie::OpsGenieMock;
use futures::TryStreamExt;
use secrecy::SecretString;
use serde_json::{Value, json};

use crate::on_mock;

fn body(r: &accesslink_testkit::ReceivedRequest) -> Value {
    serde_json::from_slice(&r.body).unwrap()
}

#[tokio::test]
async fn create_sends_the_seed_fields_and_takes_the_id_from_the_answer() {
    let mock = OpsGenieMock::start().await;
    let og = on_mock(&mock);
    let spec = AccountSpec::new("jane.doe@example.com")
        .name("Jane", "Doe")
        .attribute("role", "admin")
        .attribute("timeZone", "Europe/Istanbul")
        .attribute("tags", json!(["oncall"]))
        .attribute("details", json!({"costCenter": ["42"]}))
        .attribute("userAddress", json!({"country": "TR", "city": "Istanbul"}))
        .attribute("invitationDisabled", true);
    let a = og.create_account(&spec).await.unwrap().into_account();
    let sent = mock.received().await;
    let post = sent.iter().find(|r| r.method.as_str() == "POST").unwrap();
    assert_eq!(post.url.path(), "/v2/users");
    assert_eq!(
        body(post),
        json!({"username":"jane.doe@example.com","fullName":"Jane Doe","role":{"name":"admin"},
               "timeZone":"Europe/Istanbul","userAddress":{"country":"TR","city":"Istanbul"},
               "tags":["oncall"],"details":{"costCenter":["42"]},"invitationDisabled":true})
    );
    let stored = mock.user("jane.doe@example.com").unwrap();
    assert_eq!(a.id.as_str(), stored["id"].as_str().unwrap());
    assert_eq!(a.display_name.as_deref(), Some("Jane Doe"));
    assert_eq!(a.email.as_deref(), Some("jane.doe@example.com"));
    assert_eq!(a.enabled, Some(true));
    assert_eq!(a.attributes["role"]["name"], "Admin");
    assert_eq!(a.attributes["timeZone"], "Europe/Istanbul");
    // The read-back went by the id the create answered with.
    let last = sent.last().unwrap();
    assert_eq!(last.url.path(), format!("/v2/users/{}", a.id));
}

#[tokio::test]
async fn update_is_a_patch_of_the_changed_fields_and_email_renames() {
    let mock = OpsGenieMock::start().await;
    let og = on_mock(&mock);
    let id = mock
        .add_user("old@example.com", "Old Name", "user")
        .unwrap();
    let change = AccountChange::new()
        .email("new@example.com")
        .attribute("skypeUsername", "new.skype");
    let a = og
        .update_account(&AccountId::new("old@example.com"), &change)
        .await
        .unwrap();
    assert_eq!(
        (a.id.as_str(), a.login.as_str()),
        (id.as_str(), "new@example.com")
    );
    let sent = mock.received().await;
    let patch = sent.iter().find(|r| r.method.as_str() == "PATCH").unwrap();
    assert_eq!(patch.url.path(), "/v2/users/old@example.com");
    assert_eq!(
        body(patch),
        json!({"username":"new@example.com","skypeUsername":"new.skype"})
    );
    assert!(mock.user("old@example.com").is_none());
    assert_eq!(mock.user(&id).unwrap()["skypeUsername"], "new.skype");
}

#[tokio::test]
async fn team_member_endpoints_use_team_identifier_type() {
    let mock = OpsGenieMock::start().await;
    let og = on_mock(&mock);
    let user = mock.add_user("dee@example.com", "Dee", "user").unwrap();
    let team = mock.add_team("ops", "");
    let e = OpsGenieConnector::team_entitlement(team.clone());
    let granted = og.grant(&AccountId::new("dee@example.com"), &e).await;
    assert_eq!(granted.unwrap(), GrantOutcome::Granted);
    let revoked = og.revoke(&AccountId::new(user.clone()), &e).await;
    assert_eq!(revoked.unwrap(), RevokeOutcome::Revoked);
    let sent = mock.received().await;
    let post = sent.iter().find(|r| r.method.as_str() == "POST").unwrap();
    assert_eq!(post.url.path(), format!("/v2/teams/{team}/members"));
    assert_eq!(post.url.query(), Some("teamIdentifierType=id"));
    assert_eq!(
        body(post),
        json!({"user":{"username":"dee@example.com"},"role":"user"})
    );
    let delete = sent.iter().find(|r| r.method.as_str() == "DELETE").unwrap();
    assert_eq!(
        delete.url.path(),
        format!("/v2/teams/{team}/members/{user}")
    );
    assert_eq!(delete.url.query(), Some("teamIdentifierType=id"));
    let detail = sent.iter().find(|r| r.method.as_str() == "GET").unwrap();
    assert_eq!(detail.url.query(), Some("identifierType=id"));
}

#[tokio::test]
async fn entitlements_and_grants_of_teams_and_roles() {
    let mock = OpsGenieMock::builder().generated_users(120).start().await;
    let og = on_mock(&mock);
    let ops = mock.add_team("ops", "on call");
    let db = mock.add_team("db", "");
    let empty = mock.add_team("empty", "");
    mock.add_role("Responder", "user");
    let u = |i| mock.generated_user_id(i).unwrap();
    for i in 0..3 {
        mock.add_member(&ops, &u(i), "user");
    }
    mock.add_member(&db, &u(5), "admin");

    let teams = og
        .list_entitlements(&EntitlementType::team(), PageRequest::first())
        .await
        .unwrap();
    let names: Vec<&str> = teams.items.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["ops", "db", "empty"]);
    assert_eq!(teams.items[0].description.as_deref(), Some("on call"));
    assert!(
        teams.items[0].attributes["links"]["web"].is_string(),
        "the seed maps links.web"
    );
    assert!(teams.next.is_none());

    let roles = og
        .list_entitlements(&EntitlementType::role(), PageRequest::first())
        .await
        .unwrap();
    let names: Vec<&str> = roles
        .items
        .iter()
        .map(|e| e.reference.id.as_str())
        .collect();
    assert_eq!(
        names,
        [
            "Owner",
            "Admin",
            "User",
            "Observer",
            "Stakeholder",
            "Responder"
        ]
    );

    // One team per page at size 1; the empty team ends the listing without an empty page.
    let ty = EntitlementType::team();
    let grants: Vec<_> = paging::grants(&og, &ty, PagingOptions::new().page_size(1))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(grants.len(), 4);
    assert!(grants.iter().all(|g| g.entitlement.ty == ty));
    let in_db: Vec<_> = grants
        .iter()
        .filter(|g| g.entitlement.id.as_str() == db)
        .collect();
    assert_eq!(in_db.len(), 1);
    assert_eq!(in_db[0].account.as_str(), u(5));
    assert_eq!(
        mock.count("GET", "/v2/teams/:id"),
        3,
        "each team's detail read once"
    );
    let _ = empty;

    let ty = EntitlementType::role();
    let grants: Vec<_> = paging::grants(&og, &ty, PagingOptions::new().page_size(50))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(grants.len(), 120, "every user holds one role");
    let admins = grants
        .iter()
        .filter(|g| g.entitlement.id.as_str() == "Admin")
        .count();
    assert_eq!(admins, 3, "users 0, 50 and 100 are admins");
}

#[test]
fn regions_pick_the_api_host() {
    assert_eq!(Region::Us.base_url(), US_API);
    assert_eq!(Region::Eu.base_url(), "https://api.eu.opsgenie.com");
    assert_eq!(EU_API, Region::Eu.base_url());
    let key = || SecretString::from("k".to_owned());
    let eu = OpsGenieClient::builder()
        .region(Region::Eu)
        .api_key(key())
        .build()
        .unwrap();
    assert_eq!(
        eu.http().base_url().as_str(),
        "https://api.eu.opsgenie.com/"
    );
    let us = OpsGenieClient::builder().api_key(key()).build().unwrap();
    assert_eq!(us.http().base_url().as_str(), "https://api.opsgenie.com/");
    let e = OpsGenieClient::builder().build().unwrap_err();
    assert_eq!(e.kind(), accesslink_core::ErrorKind::Config);
}

/// The account listing asks for creation order explicitly: OpsGenie's default sort is
/// not documented to be `insertedAt` (the docs list `username` among the fields), and
/// only in creation order do users added during an import land at the end.
#[tokio::test]
async fn account_pages_ask_for_creation_order() {
    let mock = OpsGenieMock::builder().generated_users(250).start().await;
    let og = on_mock(&mock);
    let all: Vec<_> = paging::accounts(&og, PagingOptions::new())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(all.len(), 250);
    let lists: Vec<_> = mock
        .received()
        .await
        .into_iter()
        .filter(|r| r.url.path() == "/v2/users")
        .collect();
    assert!(lists.len() >= 3);
    for r in &lists {
        let q: Vec<(String, String)> = r.url.query_pairs().into_owned().collect();
        assert!(
            q.contains(&("sort".into(), "insertedAt".into()))
                && q.contains(&("order".into(), "asc".into())),
            "{q:?}"
        );
    }
}
