//! The contract: every request the connector sends and every answer the mock gives,
//! checked against JSON Schemas written from TOPdesk's published API description
//! (`tests/contract/topdesk-tas-api.json`, whose `$comment` names the file, the commit,
//! and the operations taken from the fact sheet instead).
//!
//! A test records the mock's exchanges, drives the connector through every operation it
//! uses, and checks each exchange: it must match an operation by method and path, and
//! its path parameters, query, body and answer must validate (a 2xx answer against the
//! operation's response, any other against the error shape). Every operation must have
//! been seen.

use accesslink_core::{
    AccountChange, AccountSpec, Comment, Connector, CorrelationId, EntitlementType, GrantOutcome,
    NewTicket, PageRequest, Password, Person, Provisioner, Resolution, RevokeOutcome, TicketKind,
    TicketQuery, TicketingSystem,
};
use accesslink_testkit::contract::{Contract, ContractOptions, SchemaFile};
use accesslink_testkit::topdesk::TopdeskMock;
use accesslink_topdesk::{OPERATOR_GROUP, TopdeskConnector};

use crate::on_mock;

const FILES: [SchemaFile; 1] = [SchemaFile::new(
    "topdesk-tas-api",
    include_str!("../contract/topdesk-tas-api.json"),
)];

fn contract() -> Contract {
    let options = ContractOptions::new().header_contains(["c758655", "apiDefinition.swagger.json"]);
    Contract::load(&FILES, options)
}

async fn drive(td: &TopdeskConnector, mock: &TopdeskMock) {
    td.test_connection().await.unwrap();
    mock.add_person("alice", "Alice", "Liddell", "alice@example.test");
    let mut new = NewTicket::new(
        TicketKind::Incident,
        "Grant sales-admin on CRM to alice",
        "Requested by bob.",
        CorrelationId::new("REQ-CONTRACT-1"),
    );
    new.requester = Some(Person::login("alice"));
    let t = td.create_ticket(&new).await.unwrap();
    let by_number = td.parse_ticket_ref("I2612-001").unwrap();
    td.get_ticket(&by_number).await.unwrap().unwrap();
    td.get_ticket(&td.parse_ticket_ref(t.reference.id().unwrap()).unwrap())
        .await
        .unwrap()
        .unwrap();
    td.get_tickets(&[
        by_number.clone(),
        td.parse_ticket_ref("I 2612 404").unwrap(),
    ])
    .await
    .unwrap();
    td.add_comment(&t.reference, &Comment::internal("AD group X"))
        .await
        .unwrap();
    assert_eq!(td.list_comments(&t.reference).await.unwrap().len(), 1);
    td.ticket_schema(&TicketKind::Incident).await.unwrap();
    let since = TicketQuery::new().updated_since(std::time::UNIX_EPOCH);
    assert!(
        !td.list_tickets(&since, PageRequest::first())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    td.close_ticket(&t.reference, &Resolution::done("granted"))
        .await
        .unwrap();
    assert!(
        td.get_ticket(&td.parse_ticket_ref("I 2612 404").unwrap())
            .await
            .unwrap()
            .is_none()
    );

    let mut page = PageRequest::first().size(2);
    loop {
        let p = td.list_accounts(page).await.unwrap();
        match p.next {
            Some(t) => page = PageRequest::at(Some(t)).size(2),
            None => break,
        }
    }
    let group = mock.add_operator_group("Identity team");
    td.list_entitlements(&EntitlementType::new(OPERATOR_GROUP), PageRequest::first())
        .await
        .unwrap();
    let op = td
        .create_account(&AccountSpec::new("c.ontract").name("Con", "Tract"))
        .await
        .unwrap()
        .into_account();
    let person = td
        .create_account(
            &AccountSpec::new("p.contract")
                .name("Per", "Son")
                .attribute("kind", "person"),
        )
        .await
        .unwrap();
    let pg = TopdeskConnector::permission_group_entitlement(mock.add_permission_group("Readers"));
    assert_eq!(td.grant(&op.id, &pg).await.unwrap(), GrantOutcome::Granted);
    assert_eq!(
        td.revoke(&op.id, &pg).await.unwrap(),
        RevokeOutcome::Revoked
    );
    td.set_password(&op.id, &Password::from("Op-secret1"))
        .await
        .unwrap();
    td.set_password(&person.account().id, &Password::from("Pe-secret1"))
        .await
        .unwrap();
    let e = TopdeskConnector::operator_group_entitlement(group);
    assert_eq!(td.grant(&op.id, &e).await.unwrap(), GrantOutcome::Granted);
    td.list_grants(&EntitlementType::new(OPERATOR_GROUP), PageRequest::first())
        .await
        .unwrap();
    assert_eq!(td.revoke(&op.id, &e).await.unwrap(), RevokeOutcome::Revoked);
    td.set_enabled(&op.id, false).await.unwrap();
    td.update_account(&op.id, &AccountChange::new().email("c@example.test"))
        .await
        .unwrap();
    td.set_enabled(&op.id, true).await.unwrap();
    td.get_account(&op.id).await.unwrap().unwrap();
    // An error answer, checked against the error shape.
    assert!(
        td.create_account(
            &AccountSpec::new("x").attribute("branch", "00000000-0000-4000-8000-000000000000")
        )
        .await
        .is_err()
    );
}

#[tokio::test]
async fn requests_and_answers_keep_to_the_contract() {
    let contract = contract();
    let mock = TopdeskMock::builder()
        .generated_operators(3)
        .generated_persons(2)
        .start()
        .await;
    mock.record_exchanges();
    let td = on_mock(&mock);
    drive(&td, &mock).await;
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
async fn the_contract_catches_a_request_the_vendor_would_refuse() {
    // A 61-character external number and a title over 80 characters break
    // IncidentCreateBody: proof that the schema checks what it should.
    let contract = contract();
    let mock = TopdeskMock::start().await;
    mock.record_exchanges();
    let http = reqwest::Client::new();
    use base64::Engine as _;
    let auth = base64::engine::general_purpose::STANDARD.encode(format!(
        "{}:{}",
        mock.login(),
        mock.password()
    ));
    http.post(format!("{}/tas/api/incidents", mock.url()))
        .header("authorization", format!("Basic {auth}"))
        .json(&serde_json::json!({ "briefDescription": "x".repeat(81), "externalNumber": "R".repeat(61) }))
        .send()
        .await
        .unwrap();
    let (_, problems) = contract.check(&mock.exchanges());
    assert!(!problems.is_empty());
}
