//! Gate privileged access on GLPI changes: the ticket id a user types is checked against
//! GLPI with a policy — it must be an open, approved change — and the gate answers allow
//! or deny with reasons.
//!
//! With no settings it starts the GLPI mock in-process:
//!
//! ```sh
//! cargo run --example glpi_gate
//! ```
//!
//! Against a real GLPI, put its settings in the environment (the example opens four
//! changes and an incident there, then purges them):
//!
//! ```sh
//! eval "$(bash ../shared/glpi/start.sh | sed 's/^/export /')"
//! cargo run --example glpi_gate
//! ```
//!
//! Variables: `GLPI_BASE_URL`, `GLPI_APP_TOKEN`, `GLPI_USER_TOKEN`.

use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use accesslink::{CorrelationId, NewTicket, TicketKind, TicketingSystem};
use accesslink_glpi::{GlpiClient, GlpiConfig, GlpiConnector};
use accesslink_testkit::glpi::GlpiMock;
use accesslink_workflow::gate::{
    AccessAttempt, ApprovalRule, Principal, TicketGate, TicketPolicy, open_states,
};
use secrecy::SecretString;
use serde_json::json;

fn env(k: &str) -> Option<String> {
    std::env::var(k).ok().filter(|v| !v.is_empty())
}

/// The connector, and the mock when there is no real server (kept alive while used).
async fn connect() -> Result<(GlpiConnector, Option<GlpiMock>), Box<dyn std::error::Error>> {
    let (base, app, user, mock) = match env("GLPI_BASE_URL") {
        Some(base) => (
            base,
            env("GLPI_APP_TOKEN").unwrap_or_default(),
            env("GLPI_USER_TOKEN").unwrap_or_default(),
            None,
        ),
        None => {
            let mock = GlpiMock::start().await;
            (
                mock.base_url(),
                mock.app_token().to_owned(),
                mock.user_token().to_owned(),
                Some(mock),
            )
        }
    };
    let client = GlpiClient::builder(base)
        .app_token(SecretString::from(app))
        .user_token(SecretString::from(user))
        .build()?;
    let instance = if mock.is_some() {
        "in-process mock"
    } else {
        "glpi"
    };
    // The policy below does not match requesters: skip reading them (two requests a check).
    let config = GlpiConfig::new().instance(instance).read_requester(false);
    Ok((GlpiConnector::new(client, config), mock))
}

/// Opens a change and takes its approval to `validation` (3 accepted, 4 refused) as the
/// approver would; returns its id.
async fn change(
    glpi: &GlpiConnector,
    run: u64,
    name: &str,
    validation: Option<u64>,
    status: Option<u64>,
) -> Result<u64, Box<dyn std::error::Error>> {
    let new = NewTicket::new(
        TicketKind::Change,
        format!("{name}: patch db-prod-01"),
        "Maintenance window Saturday 02:00-04:00.",
        CorrelationId::new(format!("GATE-{run}-{}", name.replace(' ', "-"))),
    );
    let c = glpi.create_ticket(&new).await?;
    let id: u64 = c.reference.id().unwrap_or_default().parse()?;
    if let Some(v) = validation {
        let req = glpi.client().http().get("getFullSession")?;
        let session: serde_json::Value = glpi.client().http().send_json(req).await?;
        let me = session["session"]["glpiID"].as_u64().unwrap_or(2);
        let validations = glpi.client().change_validations();
        let vid = validations
            .create(&json!({ "changes_id": id, "users_id_validate": me, "comment_submission": "please approve" }))
            .await?;
        validations
            .update(
                vid,
                &json!({ "status": v, "comment_validation": "reviewed by the CAB" }),
            )
            .await?;
    }
    if let Some(s) = status {
        glpi.client()
            .changes()
            .update(id, &json!({ "status": s }))
            .await?;
    }
    Ok(id)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (glpi, mock) = connect().await?;
    let on = if mock.is_some() {
        "the in-process GLPI mock"
    } else {
        "a real GLPI"
    };
    println!("accesslink ticket gate on {on}\n");
    let run = SystemTime::now().duration_since(UNIX_EPOCH)?.as_millis() as u64;

    let approved = change(&glpi, run, "approved", Some(3), Some(7)).await?;
    let refused = change(&glpi, run, "refused", Some(4), None).await?;
    let closed = change(&glpi, run, "closed", Some(3), Some(6)).await?;
    let pending = change(&glpi, run, "pending", None, None).await?;
    let incident = glpi
        .create_ticket(&NewTicket::new(
            TicketKind::Incident,
            "db-prod-01 is slow",
            "Users report timeouts.",
            CorrelationId::new(format!("GATE-{run}-incident")),
        ))
        .await?;
    let incident_id = incident
        .reference
        .id()
        .map(str::to_owned)
        .unwrap_or_default();

    // Privileged sessions on production need an open, approved change.
    let policy = TicketPolicy::new()
        .allowed_kinds([TicketKind::Change])
        .states_for(TicketKind::Change, open_states())
        .approval(ApprovalRule::Kinds(vec![TicketKind::Change]))
        .exempt(["break-glass-admin"]);
    let glpi = Arc::new(glpi);
    let gate = TicketGate::new(glpi.clone(), policy);

    let typed = [
        format!("CHG-{approved}"),
        format!("chg{refused}"),
        format!("CHG#{closed}"),
        format!("Change-{pending}"),
        format!("#{incident_id}"),
        "CHG-999999999".to_owned(),
        "1 OR 1=1".to_owned(),
    ];
    for raw in &typed {
        let attempt = AccessAttempt::new(Principal::new("alice"), "connect", "db-prod-01")
            .ticket(raw.as_str());
        let started = Instant::now();
        let verdict = gate.check(&attempt).await;
        let reasons: Vec<String> = verdict.reasons.iter().map(ToString::to_string).collect();
        println!(
            "{:<16} {:<5} {:>6.1} ms  {}",
            raw,
            if verdict.allow { "ALLOW" } else { "DENY" },
            started.elapsed().as_secs_f64() * 1000.0,
            reasons.join("; ")
        );
    }

    if mock.is_none() {
        for id in [approved, refused, closed, pending] {
            glpi.client().changes().delete(id, true).await?;
        }
        if let Ok(id) = incident_id.parse() {
            glpi.client().tickets().delete(id, true).await?;
        }
    }
    glpi.close().await?;
    Ok(())
}
