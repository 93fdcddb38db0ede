//! Fulfil an access request through BMC Helix ITSM, on the in-process Helix mock:
//!
//! 1. open an incident for the request (idempotent on the request id: run it twice and
//!    the second create finds the first), and raise a work order for the team that
//!    grants the access;
//! 2. follow both with a change feed over the assigned support group (each poll sends
//!    `'Last Modified Date' >= …` and costs one request per form, not a read of every
//!    open ticket) while an agent works them in the mock;
//! 3. comment on the incident (an internal work note) and read the work log back, the
//!    agent's public note included;
//! 4. close the work order (`Completed` / `Successful`) and resolve the incident, both
//!    confirmed by reading back; log out.
//!
//! ```sh
//! cargo run --example helix_fulfil
//! ```

use std::time::Duration;

use accesslink::feed::{ChangeFeed, TicketQuery};
use accesslink::{
    Comment, CorrelationId, NewTicket, Person, Resolution, TicketKind, TicketingSystem, Visibility,
};
use accesslink_helix::{HelixConnector, HelixSettings};
use accesslink_testkit::helix::{HELP_DESK, HelixMock, WORK_ORDER};
use serde_json::json;

const GROUP: &str = "Identity Access";

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mock = HelixMock::start().await;
    let mut settings = HelixSettings::new(
        mock.url().parse()?,
        mock.username(),
        accesslink::SecretSource::from(secrecy::SecretString::from(mock.password().to_owned())),
    );
    settings.serialize_per_account = true;
    let helix = HelixConnector::from_settings(settings)?;

    // 1. The incident for the request, and a work order for the granting team.
    let request = CorrelationId::new("iam-req-4711");
    let new = NewTicket::new(
        TicketKind::Incident,
        "Access request: payroll-admin for Jane Doe",
        "Requested in the IAM portal (request iam-req-4711); approved by her manager.",
        request.clone(),
    )
    .requester(Person::login("jdoe"));
    let incident = helix.create_ticket(&new).await?;
    let again = helix.create_ticket(&new).await?;
    assert_eq!(
        again.reference, incident.reference,
        "idempotent on the request id"
    );
    println!("incident {} ({})", incident.reference, incident.status.raw);
    let mut wo = new.clone();
    wo.kind = TicketKind::Task;
    wo.title = "Grant payroll-admin to jdoe".into();
    wo.correlation_id = CorrelationId::new("iam-req-4711-grant");
    let work_order = helix.create_ticket(&wo).await?;
    println!(
        "work order {} ({})",
        work_order.reference, work_order.status.raw
    );

    // Both are assigned to the granting team (the agent's side, in the mock).
    let inc = incident.reference.number().unwrap_or_default().to_owned();
    let won = work_order.reference.number().unwrap_or_default().to_owned();
    mock.set_field(
        HELP_DESK,
        "Incident Number",
        &inc,
        "Assigned Group",
        json!(GROUP),
    );
    mock.set_field(WORK_ORDER, "Work Order ID", &won, "ASGRP", json!(GROUP));

    // 2. Follow the team's tickets.
    let mut feed = ChangeFeed::new(TicketQuery::new().scope(GROUP)).overlap(Duration::from_secs(1));
    let before = mock.requests();
    for t in feed.poll(&helix).await? {
        println!(
            "  feed: {} {} ({:?})",
            t.reference, t.status.raw, t.status.state
        );
    }
    println!("  first poll: {} requests", mock.requests() - before);
    // The agent starts on the work order and writes to the requester.
    mock.set_field(
        WORK_ORDER,
        "Work Order ID",
        &won,
        "Status",
        json!("In Progress"),
    );
    mock.add_work_log(
        &inc,
        "Working on it; expect access within the hour.",
        "agent.smith",
        "Public",
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    mock.set_field(
        HELP_DESK,
        "Incident Number",
        &inc,
        "Status",
        json!("In Progress"),
    );
    let before = mock.requests();
    for t in feed.poll(&helix).await? {
        println!(
            "  feed: {} {} ({:?})",
            t.reference, t.status.raw, t.status.state
        );
    }
    println!("  second poll: {} requests", mock.requests() - before);

    // 3. A work note, and the work log read back.
    helix
        .add_comment(
            &incident.reference,
            &Comment::internal(
                "Granted payroll-admin in the payroll system [accesslink:iam-req-4711]",
            ),
        )
        .await?;
    for c in helix.list_comments(&incident.reference).await? {
        let who = c.author.and_then(|p| p.login).unwrap_or_default();
        let vis = if c.visibility == Visibility::Internal {
            "internal"
        } else {
            "public"
        };
        println!("  work log {} by {who} ({vis}): {}", c.id, c.body);
    }

    // 4. Close the work order, resolve the incident.
    let done = helix
        .close_ticket(&work_order.reference, &Resolution::done("Access granted"))
        .await?;
    println!("work order {} → {}", done.reference, done.status.raw);
    let resolved = helix
        .close_ticket(
            &incident.reference,
            &Resolution::done("Access granted; verified with the requester."),
        )
        .await?;
    println!(
        "incident {} → {} ({})",
        resolved.reference,
        resolved.status.raw,
        resolved.resolution.unwrap_or_default()
    );
    helix.close().await?;
    println!(
        "logged out ({} logins, {} logouts)",
        mock.logins().0,
        mock.logins().1
    );
    Ok(())
}
