//! Variants of OpsRamp's behaviour the fact sheet leaves open, on a scripted server:
//! the connector must be right whichever one a tenant shows.

use accesslink_core::{AccountSpec, CreateOutcome, Provisioner};
use serde_json::{Value, json};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::on;

const TENANT: &str = "client_7";

fn user(id: u32, login: &str) -> Value {
    json!({"id": format!("USR{id:010}"), "loginName": login, "firstName": "J",
           "lastName": "Doe", "email": format!("{login}@example.com"), "status": "active",
           "roles": [], "userGroups": []})
}

fn page(results: &[Value], no: u32, total_pages: u32) -> Value {
    json!({"results": results, "totalResults": 21, "pageNo": no, "pageSize": results.len(),
           "totalPages": total_pages, "nextPage": no < total_pages, "descendingOrder": false})
}

/// A server with a token endpoint, for a client with no limits and quick retries.
async fn server() -> (MockServer, accesslink_opsramp::OpsRampConnector) {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/auth/oauth/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "tok-variants", "token_type": "bearer", "expires_in": "7199"
        })))
        .mount(&server)
        .await;
    let client = accesslink_opsramp::OpsRampClient::builder(server.uri())
        .tenant(TENANT)
        .client_credentials("key", secrecy::SecretString::from("secret-variants"))
        .rate_limit(None)
        .build()
        .unwrap();
    (server, on(client))
}

/// Whether a `loginName:` filter matches exactly or by substring is not documented: an
/// exact hit on a later page of a substring search is still the existing user, and no
/// second user is created.
#[tokio::test]
async fn a_login_found_on_a_later_page_of_a_loose_search_is_already_exists() {
    let (server, opsramp) = server().await;
    let search = format!("/api/v2/tenants/{TENANT}/users/search");
    let first: Vec<Value> = (1..=20).map(|i| user(i, &format!("jdoe{i}"))).collect();
    Mock::given(method("GET"))
        .and(path(search.clone()))
        .and(query_param("pageNo", "1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(page(&first, 1, 2)))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(search))
        .and(query_param("pageNo", "2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(page(&[user(99, "jdoe")], 2, 2)))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("/api/v2/tenants/{TENANT}/users")))
        .respond_with(
            ResponseTemplate::new(400)
                .set_body_json(json!({"code": "0400", "message": "login name already exists"})),
        )
        .mount(&server)
        .await;
    let spec = AccountSpec::new("jdoe")
        .name("J", "Doe")
        .email("jdoe@example.com");
    let out = opsramp.create_account(&spec).await.unwrap();
    let CreateOutcome::AlreadyExists(a) = out else {
        panic!("expected AlreadyExists, got {out:?}");
    };
    assert_eq!(a.id.as_str(), "USR0000000099");
    let received = server.received_requests().await.unwrap();
    assert!(
        !received
            .iter()
            .any(|r| r.method.as_str() == "POST" && r.url.path().ends_with("/users")),
        "no create was sent"
    );
}

fn ticket(id: &str, ext: &str) -> Value {
    json!({"id": id, "subject": "Access", "status": "Open", "extTicketId": ext,
           "createdDate": "2026-12-01T10:00:00+0000"})
}

/// The same for `extTicketId`: a ticket whose correlation id is on a later page of a
/// loose search exists, and `create_ticket` must not open a second one.
#[tokio::test]
async fn a_correlation_id_on_a_later_page_of_a_loose_search_opens_no_second_ticket() {
    use accesslink_core::{CorrelationId, NewTicket, TicketKind, TicketingSystem};
    let (server, opsramp) = server().await;
    let search = format!("/api/v2/tenants/{TENANT}/serviceRequests/search");
    let first: Vec<Value> = (10..30)
        .map(|i| ticket(&format!("SRQ00000000{i}"), &format!("REQ-{i}")))
        .collect();
    Mock::given(method("GET"))
        .and(path(search.clone()))
        .and(query_param("pageNo", "1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(page(&first, 1, 2)))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(search))
        .and(query_param("pageNo", "2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(page(
            &[ticket("SRQ0000000001", "REQ-1")],
            2,
            2,
        )))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("/api/v2/tenants/{TENANT}/serviceRequests")))
        .respond_with(ResponseTemplate::new(200).set_body_json(ticket("SRQ0000000777", "REQ-1")))
        .mount(&server)
        .await;
    let new = NewTicket::new(
        TicketKind::Request,
        "Access",
        "for jdoe",
        CorrelationId::new("REQ-1"),
    );
    let t = opsramp.create_ticket(&new).await.unwrap();
    assert_eq!(t.reference.id(), Some("SRQ0000000001"));
    let received = server.received_requests().await.unwrap();
    assert!(
        !received
            .iter()
            .any(|r| r.method.as_str() == "POST" && r.url.path().ends_with("/serviceRequests")),
        "no second ticket was opened"
    );
}

/// `users/search` returns "minimal user objects" (fact sheet §1.7) while seed 001 reads
/// roles and groups from its results: where a tenant's results lack `roles` or
/// `userGroups`, the grants come from each user's detail, never silently as none (an
/// access import would take "none" as every grant revoked).
#[tokio::test]
async fn grants_of_minimal_search_results_come_from_the_user_detail() {
    use accesslink_core::{EntitlementType, PageRequest};
    let (server, opsramp) = server().await;
    let minimal = |id: u32, login: &str| {
        json!({"id": format!("USR{id:010}"), "loginName": login, "firstName": "J",
               "lastName": "Doe", "email": format!("{login}@example.com")})
    };
    Mock::given(method("GET"))
        .and(path(format!("/api/v2/tenants/{TENANT}/users/search")))
        .respond_with(ResponseTemplate::new(200).set_body_json(page(
            &[minimal(1, "ann"), minimal(2, "bob")],
            1,
            1,
        )))
        .mount(&server)
        .await;
    for (id, role, group) in [(1, "ROLE-a", "USRGRP-x"), (2, "ROLE-b", "USRGRP-y")] {
        let mut full = user(id, "u");
        full["roles"] = json!([{"uniqueId": role, "name": role}]);
        full["userGroups"] = json!([{"uniqueId": group, "name": group}]);
        Mock::given(method("GET"))
            .and(path(format!("/api/v2/tenants/{TENANT}/users/USR{id:010}")))
            .respond_with(ResponseTemplate::new(200).set_body_json(full))
            .mount(&server)
            .await;
    }
    let pairs = |page: accesslink_core::Page<accesslink_core::Grant>| {
        let mut v: Vec<(String, String)> = page
            .items
            .into_iter()
            .map(|g| (g.account.to_string(), g.entitlement.id.to_string()))
            .collect();
        v.sort();
        v
    };
    let roles = opsramp
        .list_grants(&EntitlementType::role(), PageRequest::first())
        .await
        .unwrap();
    assert_eq!(
        pairs(roles),
        [
            ("USR0000000001".to_owned(), "ROLE-a".to_owned()),
            ("USR0000000002".to_owned(), "ROLE-b".to_owned())
        ]
    );
    let groups = opsramp
        .list_grants(&EntitlementType::group(), PageRequest::first())
        .await
        .unwrap();
    assert_eq!(
        pairs(groups),
        [
            ("USR0000000001".to_owned(), "USRGRP-x".to_owned()),
            ("USR0000000002".to_owned(), "USRGRP-y".to_owned())
        ]
    );
}

/// What TERMINATE leaves behind is undocumented (fact sheet §1.7). Where a tenant still
/// lists terminated users, they are gone for an identity product, in listings as in
/// `get_account`: an import must not report a deleted account as still there.
#[tokio::test]
async fn terminated_users_a_tenant_still_lists_are_not_accounts_or_grants() {
    use accesslink_core::{EntitlementType, PageRequest};
    let (server, opsramp) = server().await;
    let mut gone = user(2, "gone");
    gone["status"] = json!("TERMINATED");
    gone["roles"] = json!([{"uniqueId": "ROLE-a", "name": "A"}]);
    let mut kept = user(1, "kept");
    kept["roles"] = json!([{"uniqueId": "ROLE-a", "name": "A"}]);
    Mock::given(method("GET"))
        .and(path(format!("/api/v2/tenants/{TENANT}/users/search")))
        .respond_with(ResponseTemplate::new(200).set_body_json(page(
            &[kept, gone.clone(), user(3, "other")],
            1,
            1,
        )))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!(
            "/api/v2/tenants/{TENANT}/users/USR0000000002"
        )))
        .respond_with(ResponseTemplate::new(200).set_body_json(gone))
        .mount(&server)
        .await;
    let accounts = opsramp.list_accounts(PageRequest::first()).await.unwrap();
    let ids: Vec<&str> = accounts.items.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(ids, ["USR0000000001", "USR0000000003"]);
    assert!(
        opsramp
            .get_account(&"USR0000000002".into())
            .await
            .unwrap()
            .is_none()
    );
    let grants = opsramp
        .list_grants(&EntitlementType::role(), PageRequest::first())
        .await
        .unwrap();
    let holders: Vec<&str> = grants.items.iter().map(|g| g.account.as_str()).collect();
    assert_eq!(holders, ["USR0000000001"]);
}

/// A page holding only terminated users is skipped, not returned empty: core's paging
/// ends an import on an empty page, which would lose every user after it.
#[tokio::test]
async fn a_page_of_only_terminated_users_does_not_end_an_import() {
    use accesslink_core::paging::{PagingOptions, accounts};
    use futures::TryStreamExt;
    let (server, opsramp) = server().await;
    let search = format!("/api/v2/tenants/{TENANT}/users/search");
    let mut gone = user(1, "gone");
    gone["status"] = json!("terminated");
    Mock::given(method("GET"))
        .and(path(search.clone()))
        .and(query_param("pageNo", "1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(page(&[gone], 1, 2)))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(search))
        .and(query_param("pageNo", "2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(page(&[user(2, "kept")], 2, 2)))
        .mount(&server)
        .await;
    let all: Vec<_> = accounts(&opsramp, PagingOptions::new().page_size(1))
        .try_collect()
        .await
        .unwrap();
    let ids: Vec<&str> = all.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(ids, ["USR0000000002"]);
}

/// Member additions are repeated after a lost answer; whether OpsRamp answers a repeated
/// addition (or removal) with 200 or an error is not documented. Where it refuses one,
/// the membership is read again: if it is as asked, the grant (revoke) is done.
#[tokio::test]
async fn a_refused_repeat_of_a_member_change_that_landed_is_success() {
    use accesslink_core::{GrantOutcome, RevokeOutcome};
    use accesslink_opsramp::OpsRampConnector;
    let (server, opsramp) = server().await;
    let group = "USRGRP-9a68";
    let user_path = format!("/api/v2/tenants/{TENANT}/users/USR0000000001");
    Mock::given(method("GET"))
        .and(path(format!("/api/v2/tenants/{TENANT}/userGroups/{group}")))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"uniqueId": group, "name": "Ops"})),
        )
        .mount(&server)
        .await;
    let mut member = user(1, "ann");
    member["userGroups"] = json!([{"uniqueId": group, "name": "Ops"}]);
    // Not a member on the first read, a member on every later one.
    Mock::given(method("GET"))
        .and(path(user_path.clone()))
        .respond_with(ResponseTemplate::new(200).set_body_json(user(1, "ann")))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(user_path.clone()))
        .respond_with(ResponseTemplate::new(200).set_body_json(member))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!(
            "/api/v2/tenants/{TENANT}/userGroups/{group}/users"
        )))
        .respond_with(ResponseTemplate::new(400).set_body_json(
            json!({"code": "0400", "message": "User is already a member of the group"}),
        ))
        .mount(&server)
        .await;
    let e = OpsRampConnector::group_entitlement(group);
    let granted = opsramp.grant(&"USR0000000001".into(), &e).await.unwrap();
    assert_eq!(granted, GrantOutcome::Granted);

    // And the other way: a member on the first read, gone on later ones; the DELETE is
    // refused as "not a member".
    server.reset().await;
    let (server2, opsramp2) = (server, opsramp);
    Mock::given(method("POST"))
        .and(path("/auth/oauth/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "tok-variants", "token_type": "bearer", "expires_in": "7199"
        })))
        .mount(&server2)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/api/v2/tenants/{TENANT}/userGroups/{group}")))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"uniqueId": group, "name": "Ops"})),
        )
        .mount(&server2)
        .await;
    let mut member = user(1, "ann");
    member["userGroups"] = json!([{"uniqueId": group, "name": "Ops"}]);
    Mock::given(method("GET"))
        .and(path(user_path.clone()))
        .respond_with(ResponseTemplate::new(200).set_body_json(member))
        .up_to_n_times(1)
        .mount(&server2)
        .await;
    Mock::given(method("GET"))
        .and(path(user_path))
        .respond_with(ResponseTemplate::new(200).set_body_json(user(1, "ann")))
        .mount(&server2)
        .await;
    Mock::given(method("DELETE"))
        .and(path(format!(
            "/api/v2/tenants/{TENANT}/userGroups/{group}/users"
        )))
        .respond_with(
            ResponseTemplate::new(400).set_body_json(
                json!({"code": "0400", "message": "User is not a member of the group"}),
            ),
        )
        .mount(&server2)
        .await;
    let revoked = opsramp2.revoke(&"USR0000000001".into(), &e).await.unwrap();
    assert_eq!(revoked, RevokeOutcome::Revoked);
}

/// Close is repeated after a lost answer; whether OpsRamp refuses closing a closed
/// ticket is not documented. A refused close of a ticket that is closed on a fresh read
/// is the closed ticket, not an error.
#[tokio::test]
async fn a_refused_repeat_of_a_close_that_landed_is_the_closed_ticket() {
    use accesslink_core::{Resolution, TicketState, TicketingSystem};
    let (server, opsramp) = server().await;
    let get = format!("/api/v2/tenants/{TENANT}/incidents/INC0000000042");
    Mock::given(method("GET"))
        .and(path(get.clone()))
        .respond_with(ResponseTemplate::new(200).set_body_json(ticket("INC0000000042", "REQ-9")))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    let mut closed = ticket("INC0000000042", "REQ-9");
    closed["status"] = json!("Closed");
    Mock::given(method("GET"))
        .and(path(get))
        .respond_with(ResponseTemplate::new(200).set_body_json(closed))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!(
            "/api/v2/tenants/{TENANT}/incidents/INC0000000042/close"
        )))
        .respond_with(
            ResponseTemplate::new(400)
                .set_body_json(json!({"code": "0400", "message": "Ticket is already closed"})),
        )
        .mount(&server)
        .await;
    let r = opsramp.parse_ticket_ref("INC0000000042").unwrap();
    let t = opsramp
        .close_ticket(&r, &Resolution::done("granted"))
        .await
        .unwrap();
    assert_eq!(t.status.state, TicketState::Closed);
}
