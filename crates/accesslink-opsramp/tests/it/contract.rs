//! The contract: every request the connector sends and every answer the mock gives,
//! checked against JSON Schemas written from OpsRamp's OpenAPI files
//! (`tests/contract/*.json`, each with a `$comment` naming its source file and commit).
//!
//! Each schema file lists its operations under `x-operations` (method, path template
//! as the spec writes it, optional path-parameter schemas, and pointers to the query,
//! request and response schemas). A test records the mock's exchanges, drives the
//! connector through its operations, and then checks each exchange: it must match an
//! operation by method and path, and its query, body and answer must validate. A 2xx
//! answer is checked against the operation's response, any other against its error
//! shape. Every operation the connector uses must have been seen.

use accesslink_core::{
    AccountChange, AccountSpec, Comment, CorrelationId, CreateOutcome, EntitlementType, ErrorKind,
    GrantOutcome, NewTicket, PageRequest, Provisioner, Resolution, RevokeOutcome, TicketKind,
    TicketingSystem,
};
use accesslink_opsramp::api::SearchParams;
use accesslink_opsramp::models::NamedBody;
use accesslink_opsramp::requests::{GroupBody, RoleUpdate, RoleUser};
use accesslink_opsramp::{OpsRampConnector, TokenPath};
use accesslink_testkit::contract::{Contract, ContractOptions, SchemaFile};
use accesslink_testkit::fault::{Fault, FaultMatcher};
use accesslink_testkit::opsramp::OpsRampMock;
use serde_json::json;

use crate::{client, connector, mock, on};

/// The schema files, by name.
const FILES: [SchemaFile; 3] = [
    SchemaFile::new("auth", include_str!("../contract/auth.json")),
    SchemaFile::new(
        "tenancy-access-controls",
        include_str!("../contract/tenancy-access-controls.json"),
    ),
    SchemaFile::new("tickets", include_str!("../contract/tickets.json")),
];

/// The schema files, each header naming the spec commit. Only the user actions may go
/// without a body (ACTIVATE).
fn contract() -> Contract {
    let options = ContractOptions::new()
        .header_contains(["8f65538", ".yaml"])
        .body_optional(|op| op.method() == "POST" && op.params().contains_key("action"));
    Contract::load(&FILES, options)
}

/// Drives the provisioning side through every operation it has.
async fn provision(opsramp: &OpsRampConnector, mock: &OpsRampMock) {
    let role = EntitlementType::role();
    let group = EntitlementType::group();
    // Imports: accounts, both entitlement types and their grants, all pages.
    for page_size in [2, 100] {
        let mut page = PageRequest::first().size(page_size);
        loop {
            let p = opsramp.list_accounts(page).await.unwrap();
            match p.next {
                Some(t) => page = PageRequest::at(Some(t)).size(page_size),
                None => break,
            }
        }
    }
    for ty in [&role, &group] {
        opsramp
            .list_entitlements(ty, PageRequest::first())
            .await
            .unwrap();
        let mut page = PageRequest::first().size(3);
        loop {
            let p = opsramp.list_grants(ty, page).await.unwrap();
            match p.next {
                Some(t) => page = PageRequest::at(Some(t)).size(3),
                None => break,
            }
        }
    }
    // A login with `+` cannot go into a queryString filter: it is looked up in
    // users/minimal.
    let plus = AccountSpec::new("contract+plus")
        .name("Contract", "Plus")
        .email("contract.plus@example.com");
    let made = opsramp.create_account(&plus).await.unwrap();
    assert!(matches!(made, CreateOutcome::Created(_)), "{made:?}");
    // Lifecycle of one new account.
    let spec = AccountSpec::new("contract.user")
        .name("Contract", "User")
        .email("contract.user@example.com")
        .attribute("country", "Turkey")
        .attribute("timeZone", json!({"code": "EST"}));
    let a = opsramp.create_account(&spec).await.unwrap().into_account();
    assert!(opsramp.get_account(&a.id).await.unwrap().is_some());
    opsramp
        .update_account(&a.id, &AccountChange::new().email("c.user@example.com"))
        .await
        .unwrap();
    opsramp.set_enabled(&a.id, false).await.unwrap();
    opsramp.set_enabled(&a.id, true).await.unwrap();
    let role_id = mock.role_id("Network Admin").unwrap();
    let group_id = mock.group_id("Ops").unwrap();
    for e in [
        OpsRampConnector::role_entitlement(&role_id),
        OpsRampConnector::group_entitlement(&group_id),
    ] {
        let granted = opsramp.grant(&a.id, &e).await.unwrap();
        assert_eq!(granted, GrantOutcome::Granted);
        let revoked = opsramp.revoke(&a.id, &e).await.unwrap();
        assert_eq!(revoked, RevokeOutcome::Revoked);
    }
    // Role and group writes, through the typed handles (the seed's raw-JSON writes).
    let c = opsramp.client();
    let made = c
        .roles()
        .create(&NamedBody::named("Contract Role"))
        .await
        .unwrap();
    let update = RoleUpdate::of(made.unique_id.clone())
        .all_clients(true)
        .user(RoleUser::new(a.id.as_str()).login_name("contract.user"));
    c.roles()
        .update_with(&made.unique_id, &update)
        .await
        .unwrap();
    let group = GroupBody::named("Contract Group")
        .email("contract.group@example.com")
        .role(made.unique_id.clone());
    let g = c.user_groups().create_group(&group).await.unwrap();
    let rename = GroupBody::named("Contract Group 2").description("renamed");
    c.user_groups()
        .update_group(&g.unique_id, &rename)
        .await
        .unwrap();
    c.user_groups()
        .add_members(&g.unique_id, &[a.id.as_str()])
        .await
        .unwrap();
    let members = c
        .user_groups()
        .members_page(&g.unique_id, &SearchParams::page(1, 10))
        .await
        .unwrap();
    assert_eq!(members.results.len(), 1);
    c.user_groups().delete(&g.unique_id).await.unwrap();
    c.roles().delete(&made.unique_id).await.unwrap();
    opsramp.delete_account(&a.id).await.unwrap();
}

/// Drives the ticketing side: create, get, comment, close, on both ticket types.
async fn tickets(opsramp: &OpsRampConnector, mock: &OpsRampMock) {
    for kind in [TicketKind::Incident, TicketKind::Request] {
        let new = NewTicket::new(
            kind.clone(),
            "Grant Network Admin to jdoe",
            "Requested by bob.",
            CorrelationId::new(format!("REQ-CONTRACT-{kind:?}")),
        )
        .priority("Low");
        let t = opsramp.create_ticket(&new).await.unwrap();
        assert!(opsramp.get_ticket(&t.reference).await.unwrap().is_some());
        // The typed update (POST …/{id}), as a workflow moving the ticket on would.
        let id = t.reference.id().map(str::to_owned).unwrap();
        let handle = match kind {
            TicketKind::Incident => opsramp.client().incidents(),
            _ => opsramp.client().service_requests(),
        };
        let open = handle
            .update(&id, &json!({"status": "Open"}))
            .await
            .unwrap();
        assert_eq!(open.status, "Open");
        // A comment whose first answer is lost: the connector looks its key up in
        // `responses/search` before sending it again.
        mock.faults().push_for(
            FaultMatcher::route("POST", "/responses"),
            Fault::Status {
                status: 502,
                body: None,
            },
            1,
        );
        opsramp
            .add_comment(&t.reference, &Comment::public("working on it"))
            .await
            .unwrap();
        opsramp
            .add_comment(&t.reference, &Comment::internal("granted"))
            .await
            .unwrap();
        opsramp
            .close_ticket(&t.reference, &Resolution::done("granted"))
            .await
            .unwrap();
        // Creating again finds the ticket by its correlation id instead.
        opsramp.create_ticket(&new).await.unwrap();
    }
}

#[tokio::test]
async fn requests_and_answers_keep_to_the_contract() {
    let contract = contract();
    let mock = mock(7).await;
    mock.record_exchanges();
    let opsramp = connector(&mock);
    provision(&opsramp, &mock).await;
    tickets(&opsramp, &mock).await;
    // The other token path, which OpsRamp's own clients use.
    let tenancy = on(client(&mock)
        .token_path(TokenPath::Tenancy)
        .build()
        .unwrap());
    tenancy.list_accounts(PageRequest::first()).await.unwrap();

    let exchanges = mock.exchanges();
    let (seen, problems) = contract.check(&exchanges);
    assert!(
        problems.is_empty(),
        "{} of {} exchanges break the contract:\n{}",
        problems.len(),
        exchanges.len(),
        problems.join("\n")
    );
    let unseen = contract.unseen(&seen);
    assert!(unseen.is_empty(), "operations never exercised: {unseen:#?}");
}

#[tokio::test]
async fn a_bogus_account_type_is_refused_as_opsramp_refuses_and_flagged_on_the_way_out() {
    let contract = contract();
    let mock = mock(0).await;
    mock.record_exchanges();
    let opsramp = connector(&mock);
    let bad = AccountSpec::new("contract.bad")
        .name("Contract", "Bad")
        .email("contract.bad@example.com")
        .attribute("userAccountType", "BOGUS");
    let e = opsramp.create_account(&bad).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
    assert_eq!(mock.user_count(), 0);
    let exchanges = mock.exchanges();
    let create = exchanges
        .iter()
        .find(|x| x.method == "POST" && x.path.ends_with("/users"))
        .expect("the create was sent");
    // The mock answers in OpsRamp's generic error shape, which the contract accepts...
    assert_eq!(create.status, Some(400));
    let body = create.response_body.as_ref().unwrap();
    assert_eq!(body["code"], "0400", "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("userAccountType")
    );
    // ...and the contract flags the request itself: the connector passes attributes
    // through, the spec's enum is what catches the value.
    let (_, problems) = contract.check(&exchanges);
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert!(problems[0].contains("/userAccountType"), "{problems:?}");
}

#[tokio::test]
async fn the_mock_answers_with_the_documented_role_and_group_shapes() {
    let mock = mock(3).await;
    let user = mock.user("USR0000000001").unwrap();
    // `{"id": <integer>, "name"}` as in the spec's user examples, not `{uniqueId, name}`.
    let r = &user["roles"][0];
    assert!(r["id"].is_u64(), "{r}");
    assert!(r.get("uniqueId").is_none(), "{r}");
    let contract = contract();
    let tac = 1;
    assert_eq!(
        contract.problems(tac, "#/$defs/userOut", &user),
        Vec::<String>::new()
    );
}

#[tokio::test]
async fn role_grants_printed_as_id_and_name_map_to_the_roles_unique_ids() {
    // Users print roles as `{"id": <integer>, "name"}`; roles/search lists `uniqueId`s
    // only. The connector maps the references by name, once per listing.
    let mock = mock(6).await;
    let opsramp = connector(&mock);
    let page = opsramp
        .list_grants(&EntitlementType::role(), PageRequest::first())
        .await
        .unwrap();
    assert_eq!(page.items.len(), 6, "{:?}", page.items);
    for g in &page.items {
        assert!(g.entitlement.id.as_str().starts_with("ROLE-"), "{g:?}");
        let held = mock.user_roles(g.account.as_str());
        assert_eq!(held, [g.entitlement.id.as_str().to_owned()], "{g:?}");
    }
    assert_eq!(mock.counter().count("GET", "roles/search"), 1);
}

#[test]
fn the_validator_rejects_the_old_mock_defects() {
    let contract = contract();
    let tac = 1;
    let group =
        json!({"uniqueId": "USRGRP-1", "name": "Ops", "createdTime": "2024-01-15T09:30:00+0000"});
    assert!(
        contract
            .problems(tac, "#/$defs/userGroup", &group)
            .is_empty()
    );
    // An empty string is no email: the old mock sent "email": "" for groups without one.
    let mut empty = group.clone();
    empty["email"] = json!("");
    let p = contract.problems(tac, "#/$defs/userGroup", &empty);
    assert!(p.iter().any(|p| p.contains("/email")), "{p:?}");
    // Role references on users were {uniqueId, name}.
    let user = json!({"id": "USR0000000001", "loginName": "a",
                      "roles": [{"uniqueId": "ROLE-1", "name": "Client User"}]});
    let p = contract.problems(tac, "#/$defs/userOut", &user);
    assert!(p.iter().any(|p| p.contains("/roles/0")), "{p:?}");
    // A user echoing a value outside the enum, as the old mock stored and returned it.
    let user = json!({"id": "USR0000000001", "loginName": "a", "userAccountType": "BOGUS"});
    assert!(!contract.problems(tac, "#/$defs/userOut", &user).is_empty());
    // RFC 3339 offsets with a colon are not what OpsRamp writes; "" is.
    let t = contract.problems(tac, "#/$defs/time", &json!("2024-01-15T09:30:00+00:00"));
    assert!(!t.is_empty());
    assert!(
        contract
            .problems(tac, "#/$defs/time", &json!(""))
            .is_empty()
    );
    // And a request the spec does not describe is caught on the way out.
    let body = json!({"loginName": "a", "firstName": "A", "lastName": "B",
                      "email": "a@b.c", "password\t": "Abcdef1!"});
    assert!(
        !contract
            .problems(tac, "#/$defs/userCreate", &body)
            .is_empty()
    );
}
