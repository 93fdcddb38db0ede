//! A ServiceNow ticket from start to finish: open it idempotently, read it, comment on it,
//! close it — and refuse a ticket id with an injected query before anything is sent.
//!
//! With no settings it starts the ServiceNow mock in-process:
//!
//! ```sh
//! cargo run --example servicenow_ticket
//! ```
//!
//! Against a real instance (it opens one incident there and closes it):
//!
//! ```sh
//! export SERVICENOW_URL=https://acme.service-now.com SERVICENOW_USER=svc.accesslink
//! export SERVICENOW_PASSWORD=…            # Basic, or add for OAuth:
//! export SERVICENOW_CLIENT_ID=… SERVICENOW_CLIENT_SECRET=…
//! cargo run --example servicenow_ticket
//! ```

use std::time::{SystemTime, UNIX_EPOCH};

use accesslink::SecretSource;
use accesslink::{
    Comment, CorrelationId, ErrorKind, NewTicket, Resolution, TicketKind, TicketingSystem,
};
use accesslink_servicenow::{ServiceNowAuth, ServiceNowConnector, ServiceNowSettings};
use accesslink_testkit::servicenow::ServiceNowMock;

fn env(k: &str) -> Option<String> {
    std::env::var(k).ok().filter(|v| !v.is_empty())
}

/// The connector, and the mock when there is no real instance (kept alive while used).
/// Built the one way every connector is: settings (as a configuration file would hold
/// them, secrets read from the environment) into `from_settings`.
async fn connect()
-> Result<(ServiceNowConnector, Option<ServiceNowMock>), Box<dyn std::error::Error>> {
    if let (Some(url), Some(user), Some(_)) = (
        env("SERVICENOW_URL"),
        env("SERVICENOW_USER"),
        env("SERVICENOW_PASSWORD"),
    ) {
        let password = SecretSource::env("SERVICENOW_PASSWORD");
        let auth = match env("SERVICENOW_CLIENT_ID") {
            Some(id) => ServiceNowAuth::oauth_password(
                id,
                SecretSource::env("SERVICENOW_CLIENT_SECRET"),
                user,
                password,
            ),
            None => ServiceNowAuth::basic(user, password),
        };
        let settings = ServiceNowSettings::new(url.parse()?, auth);
        return Ok((ServiceNowConnector::from_settings(settings)?, None));
    }
    let mock = ServiceNowMock::start().await;
    // The settings JSON of the testkit convention, secrets inline.
    let settings: ServiceNowSettings = serde_json::from_value(serde_json::json!({
        "name": "in-process-mock",
        "base_url": mock.url(),
        "auth": { "method": "basic", "user": mock.user(), "password": mock.password() },
    }))?;
    Ok((ServiceNowConnector::from_settings(settings)?, Some(mock)))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (sn, mock) = connect().await?;
    let on = if mock.is_some() {
        "the in-process ServiceNow mock"
    } else {
        "a real instance"
    };
    println!("ServiceNow ticket example on {on}");

    let stamp = SystemTime::now().duration_since(UNIX_EPOCH)?.as_millis();
    let correlation = CorrelationId::new(format!("ACCESSLINK-EXAMPLE-{stamp}"));
    let new = NewTicket::new(
        TicketKind::Incident,
        "accesslink example: grant alice read access to Payroll",
        "Opened by the accesslink servicenow_ticket example.",
        correlation.clone(),
    )
    .priority("3");
    let first = sn.create_ticket(&new).await?;
    let again = sn.create_ticket(&new).await?;
    if again.reference != first.reference {
        return Err(format!(
            "the repeated create opened a second ticket: {:?} and {:?}",
            first.reference, again.reference
        )
        .into());
    }
    let number = first
        .reference
        .number()
        .map(str::to_owned)
        .unwrap_or_default();
    println!(
        "created {number} ({}), state {} [{}]; created again: {} (same ticket: {})",
        first.reference.id().unwrap_or("?"),
        first.status.state,
        first.status.raw,
        again.reference.number().unwrap_or("?"),
        again.reference == first.reference,
    );

    // What a gate does with the id a user typed.
    let typed = sn.parse_ticket_ref(&number.to_lowercase())?;
    let got = sn.get_ticket(&typed).await?.ok_or("the ticket vanished")?;
    println!(
        "read {number}: {:?}, {} / approval {}",
        got.title,
        got.status.state,
        got.approval_state()
    );
    for injected in [
        "INC0010001^ORactive=true",
        "javascript:gs.getUserID()",
        "INC0010001 OR 1=1",
    ] {
        match sn.parse_ticket_ref(injected) {
            Err(e) if e.kind() == ErrorKind::InvalidInput => {
                println!("refused before any request: {injected:?}");
            }
            other => return Err(format!("{injected:?} was not refused: {other:?}").into()),
        }
    }

    sn.add_comment(
        &got.reference,
        &Comment::public("Access granted by accesslink."),
    )
    .await?;
    sn.add_comment(
        &got.reference,
        &Comment::internal("Provisioned through the IAM connector."),
    )
    .await?;
    println!("commented (customer-visible comment and work note)");

    let closed = sn
        .close_ticket(&got.reference, &Resolution::done("Access granted."))
        .await?;
    println!(
        "closed {number}: {} [{}], resolution {:?}",
        closed.status.state,
        closed.status.raw,
        closed.resolution.as_deref().unwrap_or("")
    );
    if let (Some(mock), Some(id)) = (&mock, closed.reference.id()) {
        println!("journal on the mock: {:?}", mock.journal(id));
        println!("requests the mock received: {}", mock.requests().len());
    }
    Ok(())
}
