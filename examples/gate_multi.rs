//! One ticket gate over four service desks — ServiceNow, GLPI, OTRS and Jira Service
//! Management — with the policies of `examples/gate_multi.toml`: ten access attempts,
//! their verdicts and reasons.
//!
//! ```sh
//! cargo run --example gate_multi
//! ```
//!
//! Runs against the in-process mocks: opens a few tickets on each desk, loads the
//! policies (each desk has its own; ServiceNow's production group and Jira want an
//! approved change), builds the gate (checking every kind the file names against
//! the connectors) and checks attempts. The id a user types is routed to the desk
//! that claims it — by the connector's own parser and the file's claim patterns —
//! and an id no desk claims, or two claim, is denied before any request.

use std::sync::Arc;

use accesslink::{CorrelationId, NewTicket, Resolution, TicketKind, TicketingSystem};
use accesslink_glpi::{GlpiConnector, GlpiSettings};
use accesslink_jira::{JiraConnector, JiraSettings};
use accesslink_otrs::{OtrsConnector, OtrsSettings};
use accesslink_servicenow::{ServiceNowConnector, ServiceNowSettings};
use accesslink_testkit::Mock;
use accesslink_testkit::glpi::GlpiMock;
use accesslink_testkit::jira::JiraMock;
use accesslink_testkit::otrs::OtrsMock;
use accesslink_testkit::servicenow::ServiceNowMock;
use accesslink_workflow::MemorySink;
use accesslink_workflow::audit::AuditAction;
use accesslink_workflow::gate::{AccessAttempt, GateConfig, Principal, SessionLink};
use serde::de::DeserializeOwned;
use serde_json::json;

type Res<T> = Result<T, Box<dyn std::error::Error>>;

/// A mock's own connector settings (the testkit convention), without the target tag.
fn settings<T: DeserializeOwned>(mock: &dyn Mock) -> Res<T> {
    let mut s = mock.settings();
    if let Some(map) = s.as_object_mut() {
        map.remove("target");
    }
    Ok(serde_json::from_value(s)?)
}

fn new(kind: TicketKind, title: &str, corr: &str) -> NewTicket {
    NewTicket::new(
        kind,
        title,
        "Maintenance on db-prod-1.",
        CorrelationId::new(corr),
    )
}

fn number(t: &accesslink::Ticket) -> String {
    t.reference.number().unwrap_or_default().to_owned()
}

#[tokio::main]
async fn main() -> Res<()> {
    let (sn_mock, glpi_mock, otrs_mock, jira_mock) = (
        ServiceNowMock::start().await,
        GlpiMock::start().await,
        OtrsMock::start().await,
        JiraMock::start_cloud().await,
    );
    let snow = Arc::new(ServiceNowConnector::from_settings(settings::<
        ServiceNowSettings,
    >(&sn_mock)?)?);
    let glpi = Arc::new(GlpiConnector::from_settings(settings::<GlpiSettings>(
        &glpi_mock,
    )?)?);
    let otrs = Arc::new(OtrsConnector::from_settings(settings::<OtrsSettings>(
        &otrs_mock,
    )?)?);
    // JSM changes: the issue type that is a change, and their approvals read.
    let mut jira_settings = jira_mock.settings();
    jira_settings["jsm_approvals"] = true.into();
    jira_settings["issue_types"] = json!({ "change": "Change" });
    jira_settings
        .as_object_mut()
        .ok_or("Jira settings are an object")?
        .remove("target");
    let jira = Arc::new(JiraConnector::from_settings(serde_json::from_value::<
        JiraSettings,
    >(jira_settings)?)?);

    // Tickets as the service desks would have them.
    let change = snow
        .create_ticket(&new(TicketKind::Change, "Patch db-prod-1", "G-1"))
        .await?;
    let sys_id = change.reference.id().unwrap_or_default().to_owned();
    sn_mock.update("change_request", &sys_id, json!({ "approval": "approved" }));
    let incident = snow
        .create_ticket(&new(TicketKind::Incident, "db-prod-1 is slow", "G-2"))
        .await?;
    let glpi_ticket = glpi
        .create_ticket(&new(TicketKind::Incident, "VPN for a contractor", "G-3"))
        .await?;
    let glpi_change = glpi
        .create_ticket(&new(TicketKind::Change, "Firewall rule", "G-4"))
        .await?;
    let otrs_open = otrs
        .create_ticket(&new(TicketKind::Request, "Index rebuild", "G-5"))
        .await?;
    let otrs_closed = otrs
        .create_ticket(&new(TicketKind::Request, "Old request", "G-6"))
        .await?;
    otrs.close_ticket(&otrs_closed.reference, &Resolution::done("finished"))
        .await?;
    // JSM change requests in project SD: one approved, one with an approval pending.
    let requester = jira_mock.add_user("John Doe", Some("jdoe@acme.example"), "atlassian", false);
    let jira_approved = jira_mock.add_jsm_request(
        "Change",
        "Patch db-prod-1",
        &requester,
        &["approved", "approved"],
    );
    let jira_pending = jira_mock.add_jsm_request(
        "Change",
        "Patch db-prod-1",
        &requester,
        &["approved", "pending"],
    );

    // The policies, from the file; the gate, checked against the connectors.
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/gate_multi.toml");
    let config = GateConfig::load(path)?;
    let audit = Arc::new(MemorySink::new());
    let gate = config.build(
        [
            ("servicenow".to_owned(), snow as Arc<dyn TicketingSystem>),
            ("glpi".to_owned(), glpi as Arc<dyn TicketingSystem>),
            ("otrs".to_owned(), otrs as Arc<dyn TicketingSystem>),
            ("jira".to_owned(), jira as Arc<dyn TicketingSystem>),
        ],
        audit.clone(),
    )?;

    let jdoe = Principal::new("jdoe");
    let connect = |who: &Principal, group: &str, id: Option<String>| {
        let a = AccessAttempt::new(who.clone(), "connect", "db-prod-1").group(group);
        match id {
            Some(id) => a.ticket(id),
            None => a,
        }
    };
    let glpi_id = |t: &accesslink::Ticket| t.reference.id().unwrap_or_default().to_owned();
    let attempts = [
        (
            "approved change, production",
            connect(&jdoe, "prod", Some(number(&change))),
        ),
        (
            "incident, production",
            connect(&jdoe, "prod", Some(number(&incident))),
        ),
        (
            "GLPI ticket",
            connect(&jdoe, "web", Some(format!("#{}", glpi_id(&glpi_ticket)))),
        ),
        (
            "GLPI change, not approved",
            connect(&jdoe, "web", Some(format!("CHG-{}", glpi_id(&glpi_change)))),
        ),
        (
            "open OTRS ticket",
            connect(&jdoe, "web", Some(number(&otrs_open))),
        ),
        (
            "closed OTRS ticket",
            connect(&jdoe, "web", Some(number(&otrs_closed))),
        ),
        (
            "approved JSM change",
            connect(&jdoe, "web", Some(jira_approved)),
        ),
        (
            "JSM change, an approval pending",
            connect(&jdoe, "web", Some(jira_pending)),
        ),
        (
            "an id GLPI and OTRS both claim",
            connect(&jdoe, "web", Some("12345678".into())),
        ),
        (
            "super administrator, no ticket",
            connect(
                &Principal::new("root").roles(["super_administrator"]),
                "prod",
                None,
            ),
        ),
    ];
    for (i, (what, attempt)) in attempts.iter().enumerate() {
        let v = gate.check(attempt).await;
        println!(
            "{:>2}. {} {what}  [{} → {}]",
            i + 1,
            if v.allow { "ALLOW" } else { "DENY " },
            attempt.ticket_id.as_deref().unwrap_or("no ticket"),
            v.policy
        );
        for r in &v.reasons {
            println!("           {:<22} {r}", r.code());
        }
    }

    // The approval workflow's call, and the session link on the ticket, once.
    let first = &attempts[0].1;
    let decision = gate.decide(first).await;
    println!(
        "\nauto-approval of attempt 1: {}",
        if decision.is_auto() {
            "approve automatically"
        } else {
            "manual approval"
        }
    );
    let verdict = gate.check(first).await;
    let link = SessionLink::new("rdp-4711", "https://pam.example.com/recordings/rdp-4711");
    let added = gate.link_session(first, &verdict, &link).await?;
    let again = gate.link_session(first, &verdict, &link).await?;
    println!("session link commented: {added}, on retry: {again}");

    let events = audit.events();
    let count = |a: AuditAction| events.iter().filter(|e| e.action == a).count();
    println!(
        "\naudited: {} gate decisions, {} super-administrator exemptions, {} approval decisions, {} session links",
        count(AuditAction::GateChecked),
        count(AuditAction::ExemptionUsed),
        count(AuditAction::ApprovalDecided),
        count(AuditAction::SessionLinked),
    );
    Ok(())
}
