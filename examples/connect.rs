//! Connectors from one configuration file: ten targets, chosen at run time.
//!
//! Starts the ten testkit mocks (OTRS, GLPI, ServiceNow, OpsRamp, OpsGenie, TOPdesk,
//! Jira, Salesforce, BMC Helix, ServiceDesk Plus), writes a TOML file naming one instance of each with its secrets in environment
//! variables, and runs itself again as a child process with those variables set (the
//! workspace forbids `unsafe`, and `std::env::set_var` is unsafe in edition 2024). The
//! child does what an identity product does with such a file: loads it with one call,
//! connects every instance, tests each connection, opens a ticket and gates privileged
//! access on it through `TicketGate` built from `Connection::ticketing()`, and streams
//! accounts from `Connection::provisioner()` — through the traits only, with no
//! per-target code.
//!
//! ```sh
//! cargo run --features full,testkit --example connect                      # mocks + child
//! cargo run --features full,testkit --example connect -- --config my.toml  # your servers
//! ```

use std::error::Error;
use std::time::SystemTime;

use accesslink::paging::{PagingOptions, accounts};
use accesslink::testkit::Mock;
use accesslink::testkit::glpi::GlpiMock;
use accesslink::testkit::helix::HelixMock;
use accesslink::testkit::jira::JiraMock;
use accesslink::testkit::opsgenie::OpsGenieMock;
use accesslink::testkit::opsramp::OpsRampMock;
use accesslink::testkit::otrs::OtrsMock;
use accesslink::testkit::salesforce::SalesforceMock;
use accesslink::testkit::sdp::SdpMock;
use accesslink::testkit::servicenow::ServiceNowMock;
use accesslink::testkit::topdesk::TopdeskMock;
use accesslink::workflow::{AccessAttempt, Principal, TicketGate, TicketPolicy};
use accesslink::{Config, CorrelationId, NewTicket, TicketKind};
use futures::TryStreamExt;
use serde_json::Value;

/// Auth keys that are not secrets; every other string under `auth` is moved to the
/// environment.
const NOT_SECRET: &[&str] = &[
    "method",
    "user",
    "login",
    "username",
    "email",
    "client_id",
    "token_url",
    "auth_string",
];

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|a| a == "--config") {
        let path = args.get(at + 1).ok_or("--config needs a path")?;
        return run(path).await;
    }

    let opsramp = OpsRampMock::start().await;
    let opsgenie = OpsGenieMock::start().await;
    for (login, first, last) in [("ada", "Ada", "Lovelace"), ("alan", "Alan", "Turing")] {
        opsramp.add_user(login, first, last, &format!("{login}@example.test"));
        opsgenie.add_user(
            &format!("{login}@example.test"),
            &format!("{first} {last}"),
            "User",
        )?;
    }
    let sdp = SdpMock::start_on_premises().await;
    sdp.add_requesters(25);
    let mocks: Vec<Box<dyn Mock>> = vec![
        Box::new(OtrsMock::start().await),
        Box::new(GlpiMock::start().await),
        Box::new(ServiceNowMock::builder().synthetic_users(120).start().await),
        Box::new(opsramp),
        Box::new(opsgenie),
        Box::new(TopdeskMock::builder().generated_persons(40).start().await),
        Box::new(JiraMock::builder().users(30).start().await),
        Box::new(SalesforceMock::builder().users(30).start().await),
        Box::new(HelixMock::builder().generated_people(30).start().await),
        Box::new(sdp),
    ];

    // 1. The configuration file an administrator would write.
    let path = std::env::temp_dir().join(format!("accesslink-connect-{}.toml", std::process::id()));
    let (file, env) = config_file(&mocks)?;
    std::fs::write(&path, file)?;
    println!("== {}\n{}", path.display(), std::fs::read_to_string(&path)?);
    let vars: Vec<&str> = env.iter().map(|(k, _)| k.as_str()).collect();
    println!("== secrets in the environment: {}\n", vars.join(", "));

    // The child runs while this process serves the mocks.
    let status = tokio::process::Command::new(std::env::current_exe()?)
        .arg("--config")
        .arg(&path)
        .envs(env)
        .status()
        .await?;
    std::fs::remove_file(&path)?;
    for mock in &mocks {
        println!(
            "{}: {} requests served",
            mock.target(),
            mock.request_count()
        );
    }
    if !status.success() {
        return Err(format!("the child failed: {status}").into());
    }
    Ok(())
}

/// What an embedding product does with a configuration file.
async fn run(path: &str) -> Result<(), Box<dyn Error>> {
    // 2. One call loads every instance; each connects without a request yet.
    let config = Config::from_toml_file(path)?;
    for (name, conn) in config.connect_all()? {
        let info = conn.info().clone();
        println!(
            "== {name}: {} ({} capabilities)",
            info.target,
            info.capabilities.len()
        );

        // 3. Test Connection.
        let report = conn.connector().test_connection().await?;
        println!(
            "   connected as {} in {:?}",
            report.principal.as_deref().unwrap_or("?"),
            report.latency
        );

        // 4. A ticket, and privileged access gated on it.
        if let Some(tickets) = conn.ticketing() {
            let kind = info
                .ticket_kinds
                .first()
                .cloned()
                .unwrap_or(TicketKind::Incident);
            let ticket = tickets
                .create_ticket(&NewTicket::new(
                    kind,
                    "Privileged session on db-prod-01",
                    "Maintenance window for the CRM database.",
                    CorrelationId::new(format!("CHG-DEMO-{name}")),
                ))
                .await?;
            let gate = TicketGate::new(tickets, TicketPolicy::new());
            let attempt = AccessAttempt::new(Principal::new("alice"), "connect", "db-prod-01")
                .ticket(ticket.reference.to_string())
                .at(SystemTime::now());
            let verdict = gate.check(&attempt).await;
            println!(
                "   ticket {} ({}): {} {:?}",
                ticket.reference,
                ticket.status.state,
                if verdict.allow { "ALLOW" } else { "DENY" },
                verdict.codes()
            );
            let forged = gate.check(&attempt.clone().ticket("1 OR 1=1")).await;
            println!(
                "   forged id: {} {:?}",
                if forged.allow { "ALLOW" } else { "DENY" },
                forged.codes()
            );
        }

        // 5. Accounts, streamed page by page.
        if let Some(provisioner) = conn.provisioner() {
            let mut stream = accounts(provisioner.as_ref(), PagingOptions::new().page_size(50));
            let mut first = None;
            while let Some(account) = stream.try_next().await? {
                first.get_or_insert(account.login);
            }
            let report = stream.report();
            println!(
                "   {} accounts in {} pages (first: {})",
                report.items,
                report.pages,
                first.as_deref().unwrap_or("-")
            );
        }
    }
    Ok(())
}

/// The TOML file for these mocks: each mock's own settings, secrets replaced by
/// `{ env = "..." }` references, and the variables to set.
type Env = Vec<(String, String)>;

fn config_file(mocks: &[Box<dyn Mock>]) -> Result<(String, Env), Box<dyn Error>> {
    let mut env = Vec::new();
    let mut instances = toml::Table::new();
    for mock in mocks {
        let mut settings = mock.settings();
        let target = mock.target();
        if let Some(Value::Object(auth)) = settings.get_mut("auth") {
            for (key, value) in auth.iter_mut() {
                if NOT_SECRET.contains(&key.as_str()) || !value.is_string() {
                    continue;
                }
                let var = format!("ACCESSLINK_{target}_{key}").to_uppercase();
                env.push((var.clone(), value.as_str().unwrap_or_default().to_owned()));
                *value = serde_json::json!({ "env": var });
            }
        }
        if let Value::Object(map) = &mut settings {
            map.remove("name");
            map.insert("target".into(), Value::String(target.into()));
        }
        let table: toml::Table = serde_json::from_value(settings)?;
        instances.insert(format!("{target}-demo"), toml::Value::Table(table));
    }
    let mut root = toml::Table::new();
    root.insert("instances".into(), toml::Value::Table(instances));
    Ok((toml::to_string_pretty(&root)?, env))
}
