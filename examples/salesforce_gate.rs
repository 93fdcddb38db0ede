//! Gate privileged access on Salesforce tickets: a Service Cloud case typed by the user
//! must be open, approved (latest `ProcessInstance`) and raised by them (the case's
//! contact); a BMC Remedyforce change request must be open and approved. The gate answers
//! allow or deny with reasons; malformed or injected references are refused before any
//! request.
//!
//! It starts the Salesforce mock in-process twice (client credentials / Service Cloud,
//! password + security token / Remedyforce):
//!
//! ```sh
//! cargo run --example salesforce_gate
//! ```
//!
//! Against a real org, use the same policy with `SalesforceConnector::from_settings`
//! (see `docs/connectors/salesforce.md`).

use std::sync::Arc;

use accesslink::TicketKind;
use accesslink_salesforce::SalesforceConnector;
use accesslink_testkit::Mock;
use accesslink_testkit::salesforce::{AuthMode, CHANGE, Profile, SalesforceMock};
use accesslink_workflow::gate::{
    AccessAttempt, ApprovalRule, Principal, RequesterMatch, TicketGate, TicketPolicy, open_states,
};
use serde_json::json;

fn connector(mock: &SalesforceMock) -> Result<SalesforceConnector, Box<dyn std::error::Error>> {
    let mut settings = mock.settings();
    settings
        .as_object_mut()
        .expect("an object")
        .remove("target");
    Ok(SalesforceConnector::from_settings(serde_json::from_value(
        settings,
    )?)?)
}

fn number(mock: &SalesforceMock, object: &str, id: &str, field: &str) -> String {
    mock.record(object, id).expect("seeded")[field]
        .as_str()
        .expect("a number")
        .to_owned()
}

async fn run(
    gate: &TicketGate,
    who: &Principal,
    typed: &[String],
) -> Result<(), Box<dyn std::error::Error>> {
    for raw in typed {
        let attempt = AccessAttempt::new(who.clone(), "connect", "db-prod-01").ticket(raw.as_str());
        let verdict = gate.check(&attempt).await;
        let reasons: Vec<String> = verdict.reasons.iter().map(ToString::to_string).collect();
        println!(
            "  {:<30} {:<5} {}",
            raw,
            if verdict.allow { "ALLOW" } else { "DENY" },
            reasons.join("; ")
        );
    }
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Service Cloud: cases of the contact Jane Doe, with approvals in several states.
    let sc = SalesforceMock::start().await;
    let jane = sc.contact_id();
    let case = |status: &str| {
        sc.insert(
            "Case",
            json!({"Subject": "Patch db-prod-01", "Status": status, "ContactId": jane}),
        )
    };
    let approved = case("Working");
    sc.add_approval(&approved, "Pending");
    sc.add_approval(&approved, "Approved");
    let pending = case("New");
    sc.add_approval(&pending, "Pending");
    let rejected = case("Working");
    sc.add_approval(&rejected, "Rejected");
    let closed = case("Closed");
    sc.add_approval(&closed, "Approved");
    let not_janes = sc.insert(
        "Case",
        json!({"Subject": "Patch db-prod-01", "Status": "New"}),
    );
    sc.add_approval(&not_janes, "Approved");

    let policy = TicketPolicy::new()
        .allowed_kinds([TicketKind::Case])
        .states_for(TicketKind::Case, open_states())
        .approval(ApprovalRule::Kinds(vec![TicketKind::Case]))
        .requester_must_match(true)
        .requester_match([RequesterMatch::Email]);
    let gate = TicketGate::new(Arc::new(connector(&sc)?), policy);
    println!("Service Cloud cases (client credentials, calls to the instance URL):");
    let typed = vec![
        number(&sc, "Case", &approved, "CaseNumber"),
        approved.clone(),          // the 18-character id
        approved[..15].to_owned(), // the 15-character id
        number(&sc, "Case", &pending, "CaseNumber"),
        number(&sc, "Case", &rejected, "CaseNumber"),
        number(&sc, "Case", &closed, "CaseNumber"),
        number(&sc, "Case", &not_janes, "CaseNumber"),
        "99999999".to_owned(),
        "00001001' OR IsClosed = false".to_owned(),
        approved.to_ascii_uppercase()[..15].to_owned() + "XYZ",
    ];
    let jane = Principal::new("jane").email("jane.doe@acme.example");
    run(&gate, &jane, &typed).await?;
    println!("  {} requests to Salesforce", sc.request_count());

    // Remedyforce: change requests with approval processes.
    let rf = SalesforceMock::builder()
        .auth(AuthMode::Password)
        .profile(Profile::Remedyforce)
        .start()
        .await;
    let change = |status: &str| {
        let sid = rf.status_id(status).expect("a seeded status");
        rf.insert(CHANGE, json!({"BMCServiceDesk__FKStatus__c": sid}))
    };
    let ok = change("IN PROGRESS");
    rf.add_approval(&ok, "Approved");
    let waiting = change("OPEN");
    rf.add_approval(&waiting, "Pending");
    let done = change("CLOSED");
    rf.add_approval(&done, "Approved");
    let policy = TicketPolicy::new()
        .allowed_kinds([TicketKind::Change])
        .states_for(TicketKind::Change, open_states())
        .approval(ApprovalRule::Kinds(vec![TicketKind::Change]));
    let gate = TicketGate::new(Arc::new(connector(&rf)?), policy);
    println!("\nRemedyforce change requests (password + security token):");
    let typed = vec![
        number(&rf, CHANGE, &ok, "Name"),
        number(&rf, CHANGE, &waiting, "Name"),
        number(&rf, CHANGE, &done, "Name"),
    ];
    run(&gate, &Principal::new("jane"), &typed).await?;
    println!("  {} requests to Salesforce", rf.request_count());
    Ok(())
}
