//! Gate privileged access on TOPdesk: the incident or change number a user types is
//! checked against TOPdesk with a policy — an open incident the user raised, or an
//! approved, open change — and the gate answers allow or deny with reasons.
//!
//! With no settings it starts the TOPdesk mock in-process:
//!
//! ```sh
//! cargo run --example topdesk_gate
//! ```
//!
//! Against a real TOPdesk (read-only: it checks the numbers given), set
//! `TOPDESK_BASE_URL` (the instance root), `TOPDESK_LOGIN`, `TOPDESK_APP_PASSWORD` and
//! `TOPDESK_NUMBERS` (comma-separated numbers to check, as users type them).

use std::sync::Arc;
use std::time::Instant;

use accesslink::{CorrelationId, NewTicket, Person, Resolution, TicketKind, TicketingSystem};
use accesslink_testkit::topdesk::TopdeskMock;
use accesslink_topdesk::{TopdeskConnector, TopdeskSettings};
use accesslink_workflow::gate::{
    AccessAttempt, ApprovalRule, Principal, RequesterMatch, TicketGate, TicketPolicy, open_states,
};

fn env(k: &str) -> Option<String> {
    std::env::var(k).ok().filter(|v| !v.is_empty())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let real = env("TOPDESK_BASE_URL");
    let mock = match real {
        Some(_) => None,
        None => Some(TopdeskMock::start().await),
    };
    let settings = match &mock {
        Some(m) => TopdeskSettings::new(
            m.url().parse()?,
            m.login(),
            secrecy::SecretString::from(m.password().to_owned()),
        ),
        None => TopdeskSettings::new(
            real.unwrap_or_default().parse()?,
            env("TOPDESK_LOGIN").unwrap_or_default(),
            accesslink::SecretSource::env("TOPDESK_APP_PASSWORD"),
        ),
    };
    let topdesk = Arc::new(TopdeskConnector::from_settings(settings)?);

    let typed: Vec<String> = match &mock {
        None => env("TOPDESK_NUMBERS")
            .unwrap_or_default()
            .split(',')
            .map(|s| s.trim().to_owned())
            .collect(),
        Some(m) => {
            println!("accesslink ticket gate on the in-process TOPdesk mock\n");
            let alice = m.add_person("alice", "Alice", "Liddell", "alice@example.test");
            m.add_person("bob", "Bob", "Builder", "bob@example.test");
            let open = |corr: &str, who: &str| {
                let mut n = NewTicket::new(
                    TicketKind::Incident,
                    "Restart db-prod-01",
                    "The nightly job hangs.",
                    CorrelationId::new(corr),
                );
                n.requester = Some(Person::login(who));
                n
            };
            let alices = topdesk.create_ticket(&open("GATE-1", "alice")).await?;
            let bobs = topdesk.create_ticket(&open("GATE-2", "bob")).await?;
            let done = topdesk.create_ticket(&open("GATE-3", "alice")).await?;
            topdesk
                .close_ticket(&done.reference, &Resolution::done("restarted"))
                .await?;
            m.add_change("C2612-010", "extensive", "progress", Some("authorized"));
            m.add_change("C2612-011", "extensive", "rfc", Some("rejected"));
            m.set_change_requester("C2612-010", &alice);
            m.set_change_requester("C2612-011", &alice);
            let compact = |t: &accesslink::Ticket| {
                t.reference
                    .number()
                    .unwrap_or_default()
                    .replacen(' ', "", 1)
                    .replace(' ', "-")
            };
            vec![
                compact(&alices), // typed as I2612-001
                bobs.reference.number().unwrap_or_default().to_owned(),
                done.reference.number().unwrap_or_default().to_owned(),
                "C2612-010".into(),
                "c 2612 011".into(),
                "I 2612 999".into(),
                "I 2612 001' OR '1'='1".into(),
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
    let gate = TicketGate::new(topdesk.clone(), policy);
    for raw in &typed {
        let attempt = AccessAttempt::new(Principal::new("alice"), "connect", "db-prod-01")
            .ticket(raw.as_str());
        let started = Instant::now();
        let verdict = gate.check(&attempt).await;
        let reasons: Vec<String> = verdict.reasons.iter().map(ToString::to_string).collect();
        println!(
            "{:<24} {:<5} {:>6.1} ms  {}",
            raw,
            if verdict.allow { "ALLOW" } else { "DENY" },
            started.elapsed().as_secs_f64() * 1000.0,
            reasons.join("; ")
        );
    }
    if let Some(m) = &mock {
        println!("\n{} requests to the mock", m.requests());
    }
    Ok(())
}
