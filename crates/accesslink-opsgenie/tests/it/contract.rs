//! The contract: every request the connector sends and every answer the mock gives,
//! checked against JSON Schemas written from OpsGenie's Swagger file
//! (`tests/contract/opsgenie-v2.json`, whose `$comment` names the file and commit).
//!
//! The schema file lists its operations under `x-operations` (method, path template as
//! the spec writes it, the success status, and pointers to the query, request and
//! response schemas). A test records the mock's exchanges, drives the connector through
//! its operations, and then checks each exchange: it must match an operation by method
//! and path, and its query, body and answer must validate; a 2xx answer against the
//! operation's response (and status), any other against the error shape. Every
//! operation must have been seen.

use accesslink_core::{
    AccountChange, AccountId, AccountSpec, Connector, EntitlementType, GrantOutcome, PageRequest,
    Provisioner, RevokeOutcome,
};
use accesslink_opsgenie::models::{CustomRole, NewTeam, NewUser};
use accesslink_opsgenie::{Identifier, OpsGenieConnector};
use accesslink_testkit::contract::{Contract, ContractOptions, SchemaFile};
use accesslink_testkit::opsgenie::OpsGenieMock;
use serde_json::json;

use crate::on_mock;

/// The schema files, by name.
const FILES: [SchemaFile; 1] = [SchemaFile::new(
    "opsgenie-v2",
    include_str!("../contract/opsgenie-v2.json"),
)];

/// The schema file, its header naming the Swagger file and commit; an operation that
/// declares no `status` answers 200, and every declared body is required.
fn contract() -> Contract {
    let options = ContractOptions::new()
        .header_contains(["71c5534", "swagger.json"])
        .default_status(200);
    Contract::load(&FILES, options)
}

/// Drives the connector through every operation it has, then the typed handles
/// through the team and custom-role writes it does not use itself.
async fn drive(og: &OpsGenieConnector, mock: &OpsGenieMock) {
    let team = EntitlementType::team();
    let role = EntitlementType::role();
    og.test_connection().await.unwrap();
    for page_size in [3, 100] {
        let mut page = PageRequest::first().size(page_size);
        loop {
            let p = og.list_accounts(page).await.unwrap();
            match p.next {
                Some(t) => page = PageRequest::at(Some(t)).size(page_size),
                None => break,
            }
        }
    }
    for ty in [&team, &role] {
        og.list_entitlements(ty, PageRequest::first())
            .await
            .unwrap();
        let mut page = PageRequest::first().size(3);
        loop {
            let p = og.list_grants(ty, page).await.unwrap();
            match p.next {
                Some(t) => page = PageRequest::at(Some(t)).size(3),
                None => break,
            }
        }
    }
    let spec = AccountSpec::new("contract.user@example.com").display_name("Contract User");
    let a = og.create_account(&spec).await.unwrap().into_account();
    assert!(og.get_account(&a.id).await.unwrap().is_some());
    og.update_account(&a.id, &AccountChange::new().display_name("Contract U. Ser"))
        .await
        .unwrap();
    let ops = mock.add_team("ops", "Operations");
    mock.add_role("Responder", "user");
    for e in [
        OpsGenieConnector::team_entitlement(ops.clone()),
        OpsGenieConnector::role_entitlement("admin"),
        OpsGenieConnector::role_entitlement("responder"),
    ] {
        assert_eq!(og.grant(&a.id, &e).await.unwrap(), GrantOutcome::Granted);
        assert_eq!(og.revoke(&a.id, &e).await.unwrap(), RevokeOutcome::Revoked);
    }
    // By username: the member endpoints take either.
    let by_name = AccountId::new("contract.user@example.com");
    let e = OpsGenieConnector::team_entitlement(ops);
    assert_eq!(og.grant(&by_name, &e).await.unwrap(), GrantOutcome::Granted);
    assert_eq!(
        og.revoke(&by_name, &e).await.unwrap(),
        RevokeOutcome::Revoked
    );
    let c = og.client();
    c.users().teams(a.id.as_str()).await.unwrap();
    let made = c
        .teams()
        .create(&NewTeam::new("contract", "made here"))
        .await
        .unwrap();
    c.teams().delete(&Identifier::id(made.id)).await.unwrap();
    let r = c
        .roles()
        .create(&CustomRole::new("Auditor", "observer"))
        .await
        .unwrap();
    assert!(
        c.roles()
            .get_opt(&Identifier::id(r.id.clone()))
            .await
            .unwrap()
            .is_some()
    );
    c.roles()
        .delete(&Identifier::name("Auditor"))
        .await
        .unwrap();
    og.delete_account(&a.id).await.unwrap();
}

#[tokio::test]
async fn requests_and_answers_keep_to_the_contract() {
    let contract = contract();
    let mock = OpsGenieMock::builder().generated_users(7).start().await;
    mock.record_exchanges();
    let og = on_mock(&mock);
    drive(&og, &mock).await;

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
async fn errors_keep_to_the_error_shape_and_bad_requests_are_flagged() {
    let contract = contract();
    let mock = OpsGenieMock::start().await;
    mock.add_user("taken@example.com", "Taken", "user").unwrap();
    mock.record_exchanges();
    let og = on_mock(&mock);
    // 404 on a read.
    let nobody = AccountId::new("nobody@example.com");
    assert!(og.get_account(&nobody).await.unwrap().is_none());
    // The typed handle sends what it is given and the server (here the mock) judges:
    // 409 for a taken username, 422 for a role that does not exist.
    let users = og.client().users();
    let taken = NewUser::new("taken@example.com", "Taken Again", "user");
    assert!(users.create(&taken).await.is_err());
    let bad = NewUser::new("fresh@example.com", "Fresh", "No Such Role");
    assert!(users.create(&bad).await.is_err());
    let exchanges = mock.exchanges();
    let statuses: Vec<Option<u16>> = exchanges.iter().map(|x| x.status).collect();
    assert_eq!(statuses, [Some(404), Some(409), Some(422)]);
    assert!(exchanges[2].response_body.as_ref().unwrap()["errors"].is_object());
    // The requests keep to the spec, and every error answer to the error shape.
    let (_, problems) = contract.check(&exchanges);
    assert_eq!(problems, Vec::<String>::new());
}

#[test]
fn the_validator_rejects_what_the_spec_forbids() {
    let contract = contract();
    let base = json!({"took": 0.01, "requestId": "r-1"});
    let user =
        json!({"id": "u-1", "username": "a@example.com", "role": {"id": "User", "name": "User"}});
    let mut get = base.clone();
    get["data"] = user.clone();
    // A get-user answer without `expandable` breaks the spec; the team list may lack it.
    let p = contract.problems(0, "#/$defs/getUserResponse", &get);
    assert!(p.iter().any(|p| p.contains("expandable")), "{p:?}");
    get["expandable"] = json!(["contact"]);
    assert!(
        contract
            .problems(0, "#/$defs/getUserResponse", &get)
            .is_empty()
    );
    let mut teams = base.clone();
    teams["data"] = json!([{"id": "t-1", "name": "ops", "description": ""}]);
    assert!(
        contract
            .problems(0, "#/$defs/listTeamsResponse", &teams)
            .is_empty()
    );
    teams["data"][0]["id"] = json!(7);
    assert!(
        !contract
            .problems(0, "#/$defs/listTeamsResponse", &teams)
            .is_empty()
    );
    // No requestId, or a non-RFC 3339 createdAt, or a role without a name.
    let p = contract.problems(
        0,
        "#/$defs/successResponse",
        &json!({"result": "Created", "took": 0.1}),
    );
    assert!(p.iter().any(|p| p.contains("requestId")), "{p:?}");
    let mut odd = user.clone();
    odd["createdAt"] = json!("2017-05-12 08:34:26");
    odd["role"] = json!({"id": "x"});
    let mut list = base.clone();
    list["data"] = json!([odd]);
    assert_eq!(
        contract
            .problems(0, "#/$defs/listUsersResponse", &list)
            .len(),
        2
    );
    // Requests: a username that is no email, an undeclared field, a bad sort.
    let body =
        json!({"username": "jdoe", "fullName": "J", "role": {"name": "user"}, "password": "x"});
    assert_eq!(
        contract
            .problems(0, "#/$defs/createUserPayload", &body)
            .len(),
        2
    );
    let q = json!({"sort": "email"});
    assert!(
        !contract
            .problems(0, "#/$defs/listUsersQuery", &q)
            .is_empty()
    );
}
