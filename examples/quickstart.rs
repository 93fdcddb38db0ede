//! accesslink's main job: fulfil access requests through OTRS tickets.
//!
//! With no settings, it starts the OTRS mock in-process, submits three access requests
//! (create account, add access, remove access), lets the mock's "agent" work and close
//! the tickets, and prints each request's progress, its outcome and the audit trail.
//!
//! ```sh
//! cargo run --example quickstart
//! ```
//!
//! Against a real OTRS/Znuny, put its settings in the environment (the agent then
//! works the tickets through the same REST API):
//!
//! ```sh
//! eval "$(bash ../shared/znuny/start.sh | sed 's/^/export /')"
//! cargo run --example quickstart
//! ```
//!
//! Variables: `ZNUNY_SEARCH_BASE_URL` (a web service with `POST /TicketSearch`; with
//! only `ZNUNY_BASE_URL` the title-tag correlation is used), `ZNUNY_AGENT_LOGIN`,
//! `ZNUNY_AGENT_PASSWORD`, `ZNUNY_CUSTOMER_LOGIN`, `ZNUNY_CORRELATION_FIELD`.

use std::io;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use accesslink::{
    CorrelationId, EntitlementRef, EntitlementType, Person, Resolution, TicketKind, TicketingSystem,
};
use accesslink_otrs::{Correlation, OtrsConfig, OtrsConnector};
use accesslink_testkit::otrs::OtrsMock;
use accesslink_workflow::MemorySink;
use accesslink_workflow::audit::{AuditEvent, AuditSink};
use accesslink_workflow::fulfil::{
    AccessRequest, Fulfiller, Operation, PollOptions, TaskStatus, TicketTemplate,
};
use secrecy::SecretString;

/// Prints each audit event as it happens, and keeps them for the trail at the end.
#[derive(Debug, Default)]
struct Progress {
    trail: MemorySink,
}

impl AuditSink for Progress {
    fn record(&self, e: &AuditEvent) -> io::Result<()> {
        let request = e.request_id.as_ref().map_or("-", |r| r.as_str());
        let ticket = e
            .ticket
            .as_ref()
            .map_or_else(|| "-".to_owned(), ToString::to_string);
        let detail = if e.detail.is_empty() {
            String::new()
        } else {
            serde_json::to_string(&e.detail).unwrap_or_default()
        };
        println!(
            "  {request:<24} {:<16} {:<8} ticket {ticket:<18} {detail}",
            e.action.as_str(),
            format!("{:?}", e.outcome).to_lowercase(),
        );
        self.trail.record(e)
    }
}

/// Who works the tickets: the mock's agent, or a real agent over REST.
enum Agent {
    Mock(Arc<OtrsMock>),
    Real(Arc<OtrsConnector>),
}

impl Agent {
    /// Takes the ticket of `request` (if it exists yet) to `open`, then closes it.
    async fn work(&self, request: &str, close_as: &str) -> bool {
        match self {
            Agent::Mock(mock) => {
                let Some(&id) = mock
                    .tickets_with_field(mock.correlation_field(), request)
                    .first()
                else {
                    return false;
                };
                mock.set_state(id, "open");
                tokio::time::sleep(Duration::from_millis(400)).await;
                mock.set_state(id, close_as)
            }
            Agent::Real(otrs) => {
                let Ok(Some(t)) = otrs.find_by_correlation(&CorrelationId::new(request)).await
                else {
                    return false;
                };
                let how = if close_as == "closed successful" {
                    Resolution::done("done by the service desk")
                } else {
                    Resolution::failed("refused by the resource owner")
                };
                otrs.close_ticket(&t.reference, &how).await.is_ok()
            }
        }
    }
}

fn env(k: &str) -> Option<String> {
    std::env::var(k).ok().filter(|v| !v.is_empty())
}

async fn connect() -> Result<(Arc<OtrsConnector>, Agent, &'static str), Box<dyn std::error::Error>>
{
    if let Some(base) = env("ZNUNY_SEARCH_BASE_URL").or_else(|| env("ZNUNY_BASE_URL")) {
        let correlation = if env("ZNUNY_SEARCH_BASE_URL").is_some() {
            Correlation::dynamic_field(
                env("ZNUNY_CORRELATION_FIELD").unwrap_or_else(|| "AccessRequestID".into()),
            )
        } else {
            Correlation::TitleTag
        };
        let config = OtrsConfig::new(
            base.parse()?,
            env("ZNUNY_AGENT_LOGIN").unwrap_or_else(|| "apiagent".into()),
            SecretString::from(env("ZNUNY_AGENT_PASSWORD").unwrap_or_default()),
        )
        .customer_user(env("ZNUNY_CUSTOMER_LOGIN").unwrap_or_else(|| "apicustomer".into()))
        .correlation(correlation)
        .instance("znuny");
        let otrs = Arc::new(OtrsConnector::new(config)?);
        return Ok((otrs.clone(), Agent::Real(otrs), "a real OTRS/Znuny"));
    }
    let mock = Arc::new(OtrsMock::start().await);
    let config = OtrsConfig::new(
        mock.search_base_url().parse()?,
        mock.agent_login(),
        SecretString::from(mock.agent_password()),
    )
    .customer_user(mock.customer_login())
    .correlation(Correlation::dynamic_field(mock.correlation_field()))
    .instance("in-process mock");
    let otrs = Arc::new(OtrsConnector::new(config)?);
    Ok((otrs, Agent::Mock(mock), "the in-process OTRS mock"))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (otrs, agent, where_) = connect().await?;
    println!("accesslink quickstart: access requests through tickets on {where_}\n");

    let run = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs() % 1_000_000;
    let role = |id: &str| EntitlementRef::new(EntitlementType::role(), id);
    let requests = vec![
        AccessRequest::new(
            format!("REQ-{run}-1"),
            Operation::CreateAccount,
            "CRM",
            Person::login("alice"),
        )
        .requester(Person::login("hr-bot"))
        .justification("new hire, starts Monday"),
        AccessRequest::new(
            format!("REQ-{run}-2"),
            Operation::Grant,
            "CRM",
            Person::login("alice"),
        )
        .requester(Person::login("bob"))
        .entitlement(role("sales-admin"))
        .justification("quarter close"),
        AccessRequest::new(
            format!("REQ-{run}-3"),
            Operation::Revoke,
            "CRM",
            Person::login("carol"),
        )
        .requester(Person::login("bob"))
        .entitlement(role("finance-approver"))
        .justification("moved to marketing"),
    ];

    let template = TicketTemplate::builder(TicketKind::Request)
        .title("{operation} {entitlement.id|} on {target} for {beneficiary}")
        .description("Requested by {requester}.\nJustification: {justification}")
        .build()?;
    let progress = Arc::new(Progress::default());
    let fulfiller = Fulfiller::builder(otrs.clone(), template)
        .poll(
            PollOptions::new()
                .initial_interval(Duration::from_millis(250))
                .max_interval(Duration::from_secs(1))
                .deadline(Duration::from_secs(60)),
        )
        .audit(progress.clone())
        .build();

    // The service desk works the tickets while the workflow follows them: the first
    // two are done, the third is refused by the resource owner.
    let ids: Vec<String> = requests.iter().map(|r| r.id.to_string()).collect();
    let desk = tokio::spawn(async move {
        let plan = [
            ("closed successful", 600),
            ("closed successful", 900),
            ("closed unsuccessful", 1200),
        ];
        for (id, (state, after_ms)) in ids.iter().zip(plan) {
            tokio::time::sleep(Duration::from_millis(after_ms)).await;
            for _ in 0..20 {
                if agent.work(id, state).await {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    });

    println!("progress:");
    let outcomes = fulfiller.fulfil_all(&requests).await;
    desk.await?;

    // Running the same requests again finds the same tickets: no duplicates.
    let again = fulfiller.open(&requests[0]).await?;
    println!(
        "  running {} again finds ticket {} (no duplicate)",
        requests[0].id,
        again.reference.number().unwrap_or("-")
    );

    println!("\noutcomes:");
    for o in &outcomes {
        let ticket = o
            .ticket
            .as_ref()
            .and_then(|t| t.reference.number().map(str::to_owned))
            .unwrap_or_else(|| "-".into());
        println!(
            "  {:<24} {:<10} ticket {ticket:<18} state {:?}",
            o.request_id.as_str(),
            o.status.to_string(),
            o.raw_state.as_deref().unwrap_or("-")
        );
    }

    println!("\naudit trail (JSON lines):");
    for e in progress.trail.events() {
        println!("  {}", serde_json::to_string(&e)?);
    }

    let completed = outcomes
        .iter()
        .filter(|o| o.status == TaskStatus::Completed)
        .count();
    println!("\n{completed} of {} requests completed", outcomes.len());
    Ok(())
}
