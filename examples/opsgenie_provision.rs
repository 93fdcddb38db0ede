//! Joiner → mover → leaver on OpsGenie: create a user in a team, move them to another
//! team with another role, then remove them, printing each step and the state after it.
//!
//! With no settings it starts the OpsGenie mock in-process:
//!
//! ```sh
//! cargo run --example opsgenie_provision
//! ```
//!
//! Against a real OpsGenie account (an API integration key with Read, Create and update,
//! Delete and Configuration access; the example creates one user and deletes it again):
//!
//! ```sh
//! OPSGENIE_API_KEY=… OPSGENIE_BASE_URL=https://api.eu.opsgenie.com \
//! OPSGENIE_JOINER_TEAM=<team id> OPSGENIE_MOVER_TEAM=<team id> \
//! cargo run --example opsgenie_provision
//! ```
//!
//! Variables: `OPSGENIE_API_KEY`, `OPSGENIE_BASE_URL` (default `https://api.opsgenie.com`),
//! `OPSGENIE_JOINER_TEAM` and `OPSGENIE_MOVER_TEAM` (team ids; default: the first two
//! teams), `OPSGENIE_USERNAME` (default `accesslink.demo+<time>@example.com`),
//! `OPSGENIE_MOVER_ROLE` (default `Admin`).

use std::time::{SystemTime, UNIX_EPOCH};

use accesslink::{AccountChange, AccountId, AccountSpec, Connector, EntitlementRef, Provisioner};
use accesslink_opsgenie::{OpsGenieConnector, OpsGenieSettings, US_API};
use accesslink_testkit::opsgenie::OpsGenieMock;
use secrecy::SecretString;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn env(k: &str) -> Option<String> {
    std::env::var(k).ok().filter(|v| !v.is_empty())
}

/// The connector, and the mock when there is no real account (kept alive while used).
async fn connect() -> Result<(OpsGenieConnector, Option<OpsGenieMock>)> {
    let (base, key, mock) = match env("OPSGENIE_API_KEY") {
        Some(key) => (
            env("OPSGENIE_BASE_URL").unwrap_or_else(|| US_API.into()),
            key,
            None,
        ),
        None => {
            let mock = OpsGenieMock::builder().generated_users(25).start().await;
            mock.add_team("platform-ops", "runs the platform on call");
            mock.add_team("payments-oncall", "first line for payments");
            mock.add_role("Responder", "user");
            (mock.url(), mock.api_key().to_owned(), Some(mock))
        }
    };
    let mut settings = OpsGenieSettings::new(base.parse()?, SecretString::from(key));
    settings.name = if mock.is_some() { "mock" } else { "opsgenie" }.into();
    settings.invitation_disabled = true;
    Ok((OpsGenieConnector::from_settings(settings)?, mock))
}

/// Prints the account with its role and teams, as OpsGenie holds them now.
async fn show(og: &OpsGenieConnector, id: &AccountId) -> Result<()> {
    let Some(a) = og.get_account(id).await? else {
        println!("    state: no such user");
        return Ok(());
    };
    let role = a.attributes["role"]["name"]
        .as_str()
        .unwrap_or("?")
        .to_owned();
    let teams: Vec<String> = og
        .client()
        .users()
        .teams(id.as_str())
        .await?
        .into_iter()
        .map(|t| t.name.unwrap_or(t.id))
        .collect();
    println!(
        "    state: {} <{}> role={role} teams={teams:?}",
        a.display_name.as_deref().unwrap_or("-"),
        a.login
    );
    Ok(())
}

#[tokio::main]
async fn main() -> Result<()> {
    let (og, _mock) = connect().await?;
    let report = og.test_connection().await?;
    println!(
        "connected to {} (account {:?}) in {:?}",
        og.info(),
        report.principal,
        report.latency
    );
    let teams = og.client().teams().list().await?;
    let pick = |var: &str, nth: usize| -> Result<(String, String)> {
        let id = env(var)
            .or_else(|| teams.get(nth).map(|t| t.id.clone()))
            .ok_or("the account needs two teams (or OPSGENIE_JOINER_TEAM / OPSGENIE_MOVER_TEAM)")?;
        let name = teams
            .iter()
            .find(|t| t.id == id)
            .map_or(id.clone(), |t| t.name.clone());
        Ok((id, name))
    };
    let (joiner_team, joiner_name) = pick("OPSGENIE_JOINER_TEAM", 0)?;
    let (mover_team, mover_name) = pick("OPSGENIE_MOVER_TEAM", 1)?;
    let millis = SystemTime::now().duration_since(UNIX_EPOCH)?.as_millis();
    let username =
        env("OPSGENIE_USERNAME").unwrap_or_else(|| format!("accesslink.demo+{millis}@example.com"));
    let mover_role = env("OPSGENIE_MOVER_ROLE").unwrap_or_else(|| "Admin".into());
    let team = |id: &str| OpsGenieConnector::team_entitlement(id);
    let role: EntitlementRef = OpsGenieConnector::role_entitlement(mover_role.clone());

    println!("\n1. joiner: create {username} and add them to {joiner_name}");
    let created = og
        .create_account(&AccountSpec::new(&username).name("Demo", "Joiner"))
        .await?;
    let id = created.account().id.clone();
    println!("    create_account: {} (id {id})", outcome(&created));
    println!(
        "    grant team {joiner_name}: {:?}",
        og.grant(&id, &team(&joiner_team)).await?
    );
    println!(
        "    grant again: {:?}",
        og.grant(&id, &team(&joiner_team)).await?
    );
    show(&og, &id).await?;

    println!("\n2. mover: {joiner_name} → {mover_name}, role {mover_role}, new display name");
    println!(
        "    revoke team {joiner_name}: {:?}",
        og.revoke(&id, &team(&joiner_team)).await?
    );
    println!(
        "    grant team {mover_name}: {:?}",
        og.grant(&id, &team(&mover_team)).await?
    );
    println!(
        "    grant role {mover_role}: {:?}",
        og.grant(&id, &role).await?
    );
    let change = AccountChange::new().display_name("Demo Mover");
    let a = og.update_account(&id, &change).await?;
    println!("    update_account: display name {:?}", a.display_name);
    show(&og, &id).await?;

    println!("\n3. leaver: revoke access, then delete (OpsGenie has no disable)");
    println!(
        "    revoke role {mover_role}: {:?} (back to {})",
        og.revoke(&id, &role).await?,
        og.config().default_role
    );
    println!(
        "    revoke team {mover_name}: {:?}",
        og.revoke(&id, &team(&mover_team)).await?
    );
    match og.set_enabled(&id, false).await {
        Err(e) => println!("    set_enabled(false): {e}"),
        Ok(()) => println!("    set_enabled(false): unexpectedly succeeded"),
    }
    og.delete_account(&id).await?;
    println!("    delete_account: done");
    show(&og, &id).await?;
    Ok(())
}

fn outcome(c: &accesslink::CreateOutcome) -> &'static str {
    match c {
        accesslink::CreateOutcome::Created(_) => "Created",
        accesslink::CreateOutcome::AlreadyExists(_) => "AlreadyExists",
    }
}
