//! Gate privileged access on Jira Service Management changes: the issue key a user types is
//! checked against JSM with a policy — an open change, approved, raised by the user asking
//! — and the gate answers allow or deny with reasons.
//!
//! It starts the Jira mock in-process (Cloud, Basic auth) and seeds JSM change requests with
//! approvals in several states:
//!
//! ```sh
//! cargo run --example jira_gate
//! ```
//!
//! Against a real site, use the same policy with `JiraConnector::from_settings` and
//! `jsm_approvals = true` (see `docs/connectors/jira.md`).

use std::sync::Arc;
use std::time::Instant;

use accesslink::{Resolution, TicketKind, TicketRef, TicketingSystem};
use accesslink_jira::JiraConnector;
use accesslink_testkit::Mock;
use accesslink_testkit::jira::JiraMock;
use accesslink_workflow::gate::{
    AccessAttempt, ApprovalRule, Principal, RequesterMatch, TicketGate, TicketPolicy, open_states,
};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mock = JiraMock::start_cloud().await;
    let alice = mock.add_user(
        "Alice Admin",
        Some("alice@acme.example"),
        "atlassian",
        false,
    );
    let bob = mock.add_user("Bob Builder", Some("bob@acme.example"), "atlassian", false);
    // JSM changes (service desk SD) with their approvals' final decisions.
    let approved = mock.add_jsm_request(
        "Change",
        "Patch db-prod-01",
        &alice,
        &["approved", "approved"],
    );
    let pending = mock.add_jsm_request(
        "Change",
        "Patch db-prod-01",
        &alice,
        &["approved", "pending"],
    );
    let declined = mock.add_jsm_request("Change", "Patch db-prod-01", &alice, &["declined"]);
    let bobs = mock.add_jsm_request("Change", "Patch db-prod-01", &bob, &["approved"]);
    let done = mock.add_jsm_request("Change", "Patch db-prod-01", &alice, &["approved"]);
    let task = mock.add_issue("ITSM", "Task", "Look at db-prod-01", &[]);

    let mut settings = mock.settings();
    settings
        .as_object_mut()
        .expect("an object")
        .remove("target");
    settings["jsm_approvals"] = true.into();
    settings["issue_types"] = serde_json::json!({ "change": "Change" });
    let jira = JiraConnector::from_settings(serde_json::from_value(settings)?)?;
    // The last change is finished already: closed through its workflow's transition.
    jira.close_ticket(
        &TicketRef::by_number(done.clone()),
        &Resolution::done("implemented"),
    )
    .await?;

    // Privileged sessions on production need an open change, approved, that the user raised.
    let policy = TicketPolicy::new()
        .allowed_kinds([TicketKind::Change])
        .states_for(TicketKind::Change, open_states())
        .approval(ApprovalRule::Kinds(vec![TicketKind::Change]))
        .requester_must_match(true)
        .requester_match([RequesterMatch::Email])
        .exempt(["break-glass-admin"]);
    let gate = TicketGate::new(Arc::new(jira), policy);
    println!("accesslink ticket gate on the in-process Jira mock (JSM changes)\n");

    let typed = [
        approved.to_ascii_lowercase(),
        pending,
        declined,
        bobs,
        done,
        task,
        "SD-9999".to_owned(),
        "SD-1 OR project = HR".to_owned(),
    ];
    let alice = Principal::new("alice").email("alice@acme.example");
    for raw in &typed {
        let attempt =
            AccessAttempt::new(alice.clone(), "connect", "db-prod-01").ticket(raw.as_str());
        let started = Instant::now();
        let verdict = gate.check(&attempt).await;
        let reasons: Vec<String> = verdict.reasons.iter().map(ToString::to_string).collect();
        println!(
            "{:<22} {:<5} {:>6.1} ms  {}",
            raw,
            if verdict.allow { "ALLOW" } else { "DENY" },
            started.elapsed().as_secs_f64() * 1000.0,
            reasons.join("; ")
        );
    }
    println!("\n{} requests to Jira", mock.request_count());
    Ok(())
}
