//! Gate privileged access on BMC Helix ITSM: the number a user types (`INC…`, `CRQ…`) is
//! checked against Helix with a policy — an open incident the user raised, or an approved,
//! open change — and the gate answers allow or deny with reasons.
//!
//! With no settings it starts the Helix mock in-process:
//!
//! ```sh
//! cargo run --example helix_gate
//! ```
//!
//! Against a real Helix (read-only: it checks the numbers given), set `HELIX_BASE_URL`
//! (the server root), `HELIX_USERNAME`, `HELIX_PASSWORD` and `HELIX_NUMBERS`
//! (comma-separated numbers, as users type them). The session is logged out at the end.

use std::sync::Arc;
use std::time::Instant;

use accesslink::{CorrelationId, NewTicket, Person, Resolution, TicketKind, TicketingSystem};
use accesslink_helix::{HelixConnector, HelixSettings};
use accesslink_testkit::helix::{CHANGE, HelixMock};
use accesslink_workflow::gate::{
    AccessAttempt, ApprovalRule, Principal, RequesterMatch, TicketGate, TicketPolicy, open_states,
};

fn env(k: &str) -> Option<String> {
    std::env::var(k).ok().filter(|v| !v.is_empty())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let real = env("HELIX_BASE_URL");
    let mock = match real {
        Some(_) => None,
        None => Some(HelixMock::start().await),
    };
    let settings = match &mock {
        Some(m) => {
            let mut s = HelixSettings::new(
                m.url().parse()?,
                m.username(),
                accesslink::SecretSource::from(secrecy::SecretString::from(
                    m.password().to_owned(),
                )),
            );
            s.serialize_per_account = true;
            s
        }
        None => HelixSettings::new(
            real.unwrap_or_default().parse()?,
            env("HELIX_USERNAME").unwrap_or_default(),
            accesslink::SecretSource::env("HELIX_PASSWORD"),
        ),
    };
    let helix = Arc::new(HelixConnector::from_settings(settings)?);

    let typed: Vec<String> = match &mock {
        None => env("HELIX_NUMBERS")
            .unwrap_or_default()
            .split(',')
            .map(|s| s.trim().to_owned())
            .collect(),
        Some(m) => {
            println!("accesslink ticket gate on the in-process Helix mock\n");
            m.add_person("alice", "Alice", "Liddell", "alice@example.test");
            m.add_person("bob", "Bob", "Builder", "bob@example.test");
            let open = |corr: &str, who: &str| {
                NewTicket::new(
                    TicketKind::Incident,
                    "Restart db-prod-01",
                    "The nightly job hangs.",
                    CorrelationId::new(corr),
                )
                .requester(Person::login(who))
            };
            let alices = helix.create_ticket(&open("GATE-1", "alice")).await?;
            let bobs = helix.create_ticket(&open("GATE-2", "bob")).await?;
            let done = helix.create_ticket(&open("GATE-3", "alice")).await?;
            helix
                .close_ticket(&done.reference, &Resolution::done("restarted"))
                .await?;
            let approved = m.add_change("Patch db-prod-01", "Scheduled");
            let waiting = m.add_change("Patch db-prod-02", "Scheduled For Approval");
            let rejected = m.add_change("Drop db-prod-03", "Rejected");
            for crq in [&approved, &waiting, &rejected] {
                let alice = serde_json::json!("alice");
                m.set_field(
                    CHANGE,
                    "Infrastructure Change ID",
                    crq,
                    "Customer Login ID",
                    alice,
                );
            }
            let number =
                |t: &accesslink::Ticket| t.reference.number().unwrap_or_default().to_owned();
            vec![
                format!(
                    "inc{}",
                    number(&alices)
                        .trim_start_matches("INC")
                        .trim_start_matches('0')
                ), // typed short
                number(&bobs),
                number(&done),
                approved,
                waiting,
                rejected,
                "INC000000099999".into(),
                "INC1\" OR 'Status' != \"x".into(),
            ]
        }
    };

    // Privileged sessions need an open incident the user raised, or an approved change.
    let policy = TicketPolicy::new()
        .allowed_kinds([TicketKind::Incident, TicketKind::Change])
        .allowed_states(open_states())
        .approval(ApprovalRule::Kinds(vec![TicketKind::Change]))
        .requester_must_match(true)
        .requester_match([RequesterMatch::Login]);
    let gate = TicketGate::new(helix.clone(), policy);
    for raw in &typed {
        let attempt = AccessAttempt::new(Principal::new("alice"), "connect", "db-prod-01")
            .ticket(raw.as_str());
        let started = Instant::now();
        let verdict = gate.check(&attempt).await;
        let reasons: Vec<String> = verdict.reasons.iter().map(ToString::to_string).collect();
        println!(
            "{:<30} {:<5} {:>6.1} ms  {}",
            raw,
            if verdict.allow { "ALLOW" } else { "DENY" },
            started.elapsed().as_secs_f64() * 1000.0,
            reasons.join("; ")
        );
    }
    helix.close().await?;
    if let Some(m) = &mock {
        let (logins, logouts) = m.logins();
        println!(
            "\n{} requests to the mock; {logins} login(s), {logouts} logout(s)",
            m.requests()
        );
    }
    Ok(())
}
