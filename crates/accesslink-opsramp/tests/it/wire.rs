//! What the server receives: the token request, paging and filters, the role update
//! with the complete list, the DELETE with a body.

use accesslink_core::{AccountChange, AccountSpec, PageRequest, Provisioner};
use accesslink_opsramp::{OpsRampConnector, TokenPath};
use serde_json::{Value, json};

use crate::{PASSWORD, client, connector, mock, on};

fn body(r: &accesslink_testkit::ReceivedRequest) -> Value {
    serde_json::from_slice(&r.body).unwrap()
}

#[tokio::test]
async fn the_token_request_is_a_client_credentials_form_on_the_chosen_path() {
    for (path, want) in [
        (TokenPath::Auth, "/auth/oauth/token"),
        (TokenPath::Tenancy, "/tenancy/auth/oauth/token"),
    ] {
        let mock = mock(3).await;
        let opsramp = on(client(&mock).token_path(path).build().unwrap());
        opsramp.list_accounts(PageRequest::first()).await.unwrap();
        let received = mock.received().await;
        let token = &received[0];
        assert_eq!(token.url.path(), want);
        let form: Vec<(String, String)> = url::form_urlencoded::parse(&token.body)
            .into_owned()
            .collect();
        assert!(form.contains(&("grant_type".into(), "client_credentials".into())));
        assert!(form.contains(&("client_id".into(), mock.client_id())));
        assert!(form.contains(&("client_secret".into(), mock.client_secret())));
        let api = &received[1];
        let auth = api.headers["authorization"].to_str().unwrap();
        assert!(auth.starts_with("Bearer "), "{auth}");
        let q = api.url.query().unwrap();
        for part in [
            "pageNo=1",
            "pageSize=100",
            "sortName=id",
            "isDescendingOrder=false",
        ] {
            assert!(q.contains(part), "{q}");
        }
    }
}

#[tokio::test]
async fn creates_look_the_login_up_with_an_encoded_filter_and_send_the_seed_fields() {
    let mock = mock(3).await;
    let opsramp = connector(&mock);
    let spec = AccountSpec::new("jane.doe@example.com")
        .name("Jane", "Doe")
        .email("jane.doe@example.com")
        .attribute("country", "Turkey")
        .attribute(
            "timeZone",
            json!({"code": "EST", "name": "Europe/Istanbul"}),
        );
    let a = opsramp.create_account(&spec).await.unwrap().into_account();
    assert!(a.id.as_str().starts_with("USR"));
    let received = mock.received().await;
    let lookup = received
        .iter()
        .find(|r| r.url.path().ends_with("/users/search"))
        .unwrap();
    assert!(
        lookup
            .url
            .query()
            .unwrap()
            .contains("queryString=loginName%3Ajane.doe%40example.com"),
        "{:?}",
        lookup.url.query()
    );
    let create = received
        .iter()
        .find(|r| r.method.as_str() == "POST" && r.url.path().ends_with("/users"))
        .unwrap();
    let b = body(create);
    assert_eq!(b["loginName"], "jane.doe@example.com");
    assert_eq!(b["password"], PASSWORD);
    assert_eq!(
        b["timeZone"],
        json!({"code": "EST", "name": "Europe/Istanbul"})
    );
    assert_eq!(mock.user(a.id.as_str()).unwrap()["country"], "Turkey");
    let updated = opsramp
        .update_account(&a.id, &AccountChange::new().attribute("country", "Greece"))
        .await
        .unwrap();
    assert_eq!(updated.attributes["country"], "Greece");
    let update = mock.received().await.into_iter().last().unwrap();
    assert_eq!(update.method.as_str(), "POST", "OpsRamp updates are POST");
    assert_eq!(body(&update), json!({"country": "Greece"}));
}

#[tokio::test]
async fn a_role_grant_sends_the_complete_list_by_name() {
    let mock = mock(4).await;
    let opsramp = connector(&mock);
    let user = "USR0000000001";
    let held = mock.user_roles(user)[0].clone();
    let held_name = mock.user(user).unwrap()["roles"][0]["name"]
        .as_str()
        .unwrap()
        .to_owned();
    let role = mock.add_role("Auditor");
    let _ = opsramp
        .grant(&user.into(), &OpsRampConnector::role_entitlement(&role))
        .await
        .unwrap();
    let update = mock.received().await.into_iter().last().unwrap();
    assert!(update.url.path().ends_with(&format!("/users/{user}")));
    assert_eq!(
        body(&update),
        json!({"roles": [{"name": held_name}, {"name": "Auditor"}]})
    );
    assert!(mock.user_roles(user).contains(&held));
}

#[tokio::test]
async fn group_removal_is_a_delete_with_a_body_and_disable_sends_the_reason() {
    let mock = mock(4).await;
    let opsramp = connector(&mock);
    let user = "USR0000000001"; // generated user 1 is in the first seeded group
    let group = mock.user_groups(user)[0].clone();
    let _ = opsramp
        .revoke(&user.into(), &OpsRampConnector::group_entitlement(&group))
        .await
        .unwrap();
    let delete = mock.received().await.into_iter().last().unwrap();
    assert_eq!(delete.method.as_str(), "DELETE");
    assert_eq!(body(&delete), json!([{"id": user}]));
    opsramp.set_enabled(&user.into(), false).await.unwrap();
    let deactivate = mock.received().await.into_iter().last().unwrap();
    assert!(
        deactivate
            .url
            .path()
            .ends_with(&format!("/users/{user}/DEACTIVATE"))
    );
    assert_eq!(
        body(&deactivate),
        json!({"deactivateReason": "Disabled by accesslink"})
    );
    opsramp.delete_account(&user.into()).await.unwrap();
    let terminate = mock.received().await.into_iter().last().unwrap();
    assert!(terminate.url.path().ends_with("/TERMINATE"));
    assert_eq!(body(&terminate)["terminateReason"], "Deleted by accesslink");
    assert!(!mock.has_user(user));
}

#[tokio::test]
async fn a_disabled_spec_is_created_then_deactivated() {
    let mock = mock(1).await;
    let opsramp = connector(&mock);
    let mut spec = AccountSpec::new("parked.user")
        .name("Parked", "User")
        .email("parked.user@example.test");
    spec.enabled = false;
    let a = opsramp.create_account(&spec).await.unwrap().into_account();
    assert_eq!(a.enabled, Some(false));
    assert_eq!(mock.user_status(a.id.as_str()), Some("inactive"));
    let last = mock.received().await.into_iter().last().unwrap();
    assert!(last.url.path().ends_with("/DEACTIVATE"), "{}", last.url);
}

#[tokio::test]
async fn each_tenant_is_its_own_path_and_an_unknown_one_is_410() {
    let mock = accesslink_testkit::opsramp::OpsRampMock::builder()
        .generated_users(7)
        .other_tenant("msp_1123")
        .rate_limits(accesslink_testkit::opsramp::RateLimits::unlimited())
        .start()
        .await;
    let msp = on(client(&mock).tenant("msp_1123").build().unwrap());
    let page = msp.list_accounts(PageRequest::first()).await.unwrap();
    assert!(page.items.is_empty(), "the partner tenant has no users");
    let roles = msp
        .list_entitlements(
            &accesslink_core::EntitlementType::role(),
            PageRequest::first(),
        )
        .await
        .unwrap();
    assert_eq!(roles.items.len(), 3);
    let path = mock
        .received()
        .await
        .into_iter()
        .last()
        .unwrap()
        .url
        .path()
        .to_owned();
    assert_eq!(path, "/api/v2/tenants/msp_1123/roles/search");
    let gone = on(client(&mock).tenant("client_404").build().unwrap());
    let e = gone.list_accounts(PageRequest::first()).await.unwrap_err();
    assert_eq!(e.kind(), accesslink_core::ErrorKind::NotFound, "{e}");
    assert_eq!(e.as_api().map(|a| a.status.as_u16()), Some(410));
    let main = connector(&mock);
    assert_eq!(
        main.list_accounts(PageRequest::first())
            .await
            .unwrap()
            .items
            .len(),
        7
    );
}

/// Seed 001 sends a per-user `deactivateReason` (`${user.customproperty7}`): the typed
/// connector takes one per call too, checked before any request.
#[tokio::test]
async fn a_disable_may_carry_its_own_reason() {
    let mock = mock(2).await;
    let opsramp = connector(&mock);
    let user = "USR0000000002";
    opsramp
        .disable_with_reason(&user.into(), "Contract ended 2026-12-31")
        .await
        .unwrap();
    let last = mock.received().await.into_iter().last().unwrap();
    assert!(
        last.url
            .path()
            .ends_with(&format!("/users/{user}/DEACTIVATE"))
    );
    assert_eq!(
        body(&last),
        json!({"deactivateReason": "Contract ended 2026-12-31"})
    );
    assert_eq!(mock.user_status(user), Some("inactive"));
    assert_eq!(
        mock.deactivate_reason(user).as_deref(),
        Some("Contract ended 2026-12-31")
    );
    let before = mock.counter().total();
    for bad in ["../x", "USR1/ACTIVATE"] {
        let e = opsramp
            .disable_with_reason(&bad.into(), "r")
            .await
            .unwrap_err();
        assert_eq!(e.kind(), accesslink_core::ErrorKind::InvalidInput);
    }
    assert_eq!(mock.counter().total(), before, "bad ids sent nothing");
}

/// In `queryString`, `+` separates filters, and the fact sheet (§1.6) says to send
/// spaces as `%20`: a `+` for a space, as form encoding writes it, may be read as a
/// separator and split `… 0000` (the date offset) or a login with a space in two.
#[tokio::test]
async fn search_filters_send_spaces_as_percent_20_never_a_plus() {
    use accesslink_core::{CorrelationId, TicketingSystem};
    let mock = mock(3).await;
    let opsramp = connector(&mock);
    let spec = AccountSpec::new("john doe")
        .name("John", "Doe")
        .email("john.doe@example.com");
    let created = opsramp.create_account(&spec).await.unwrap();
    assert!(matches!(
        created,
        accesslink_core::CreateOutcome::Created(_)
    ));
    assert!(
        opsramp
            .find_by_correlation(&CorrelationId::new("REQ-77"))
            .await
            .unwrap()
            .is_none()
    );
    let searches: Vec<String> = mock
        .received()
        .await
        .into_iter()
        .filter(|r| r.url.path().ends_with("/search"))
        .map(|r| r.url.query().unwrap_or("").to_owned())
        .collect();
    assert!(searches.len() >= 3, "{searches:?}");
    for q in &searches {
        assert!(!q.contains('+'), "a literal + in {q}");
    }
    assert!(
        searches
            .iter()
            .any(|q| q.contains("queryString=loginName%3Ajohn%20doe")),
        "{searches:?}"
    );
    assert!(
        searches
            .iter()
            .any(|q| q.contains("startCreationDate%3A2000-01-01T00%3A00%3A00%200000")),
        "{searches:?}"
    );
    assert_eq!(mock.users_with_login("john doe"), 1);
}
