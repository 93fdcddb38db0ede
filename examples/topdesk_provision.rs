//! Joiner → mover → leaver for a TOPdesk operator with operator groups and a
//! permission group: create the operator, grant the first team's group and a permission
//! group, set a password, move to another team (grant, revoke), then revoke the
//! permission group and archive (disable) — TOPdesk has no hard delete — and show the
//! "already" outcomes when each step runs twice.
//!
//! With no settings it starts the TOPdesk mock in-process:
//!
//! ```sh
//! cargo run --example topdesk_provision
//! ```
//!
//! Against a real TOPdesk (it creates and archives a real operator), set
//! `TOPDESK_BASE_URL`, `TOPDESK_LOGIN`, `TOPDESK_APP_PASSWORD`, `TOPDESK_GROUP_FROM` and
//! `TOPDESK_GROUP_TO` (operator group UUIDs), `TOPDESK_PERMISSION_GROUP` (a permission group
//! UUID) and `TOPDESK_BRANCH` (the branch UUID of the new operator).

use accesslink::{AccountSpec, Provisioner};
use accesslink_testkit::topdesk::TopdeskMock;
use accesslink_topdesk::{TopdeskConnector, TopdeskSettings};

fn env(k: &str) -> Option<String> {
    std::env::var(k).ok().filter(|v| !v.is_empty())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mock = match env("TOPDESK_BASE_URL") {
        Some(_) => None,
        None => Some(TopdeskMock::builder().generated_operators(5).start().await),
    };
    let (settings, from, to, permissions) = match &mock {
        Some(m) => (
            TopdeskSettings::new(
                m.url().parse()?,
                m.login(),
                secrecy::SecretString::from(m.password().to_owned()),
            ),
            m.add_operator_group("Service desk"),
            m.add_operator_group("Identity team"),
            m.add_permission_group("1st line operators"),
        ),
        None => (
            TopdeskSettings::new(
                env("TOPDESK_BASE_URL").unwrap_or_default().parse()?,
                env("TOPDESK_LOGIN").unwrap_or_default(),
                accesslink::SecretSource::env("TOPDESK_APP_PASSWORD"),
            ),
            env("TOPDESK_GROUP_FROM").unwrap_or_default(),
            env("TOPDESK_GROUP_TO").unwrap_or_default(),
            env("TOPDESK_PERMISSION_GROUP").unwrap_or_default(),
        ),
    };
    let mut settings = settings;
    // New operators need a branch (TOPdesk requires one).
    settings.branch = match &mock {
        Some(m) => Some(m.branch_id().to_owned()),
        None => env("TOPDESK_BRANCH"),
    };
    let topdesk = TopdeskConnector::from_settings(settings)?;
    let from = TopdeskConnector::operator_group_entitlement(from);
    let to = TopdeskConnector::operator_group_entitlement(to);
    let permissions = TopdeskConnector::permission_group_entitlement(permissions);

    let spec = AccountSpec::new("j.doe")
        .name("Jane", "Doe")
        .email("jane.doe@example.test");
    let created = topdesk.create_account(&spec).await?;
    println!(
        "joiner: created {} ({})",
        created.account().id,
        created.account().login
    );
    let again = topdesk.create_account(&spec).await?;
    println!(
        "joiner again: already exists = {}",
        matches!(again, accesslink::CreateOutcome::AlreadyExists(_))
    );
    let id = created.account().id.clone();
    println!("grant {from}: {:?}", topdesk.grant(&id, &from).await?);
    println!("grant {from} again: {:?}", topdesk.grant(&id, &from).await?);
    println!(
        "grant {permissions}: {:?}",
        topdesk.grant(&id, &permissions).await?
    );
    // A first password (the value would come from a vault; it is never printed).
    topdesk
        .set_password(&id, &accesslink::Password::from("Welcome-2026!"))
        .await?;
    println!("password set");

    println!("mover: grant {to}: {:?}", topdesk.grant(&id, &to).await?);
    println!(
        "mover: revoke {from}: {:?}",
        topdesk.revoke(&id, &from).await?
    );
    println!(
        "revoke {from} again: {:?}",
        topdesk.revoke(&id, &from).await?
    );

    println!(
        "leaver: revoke {permissions}: {:?}",
        topdesk.revoke(&id, &permissions).await?
    );
    topdesk.set_enabled(&id, false).await?;
    topdesk.set_enabled(&id, false).await?;
    let after = topdesk.get_account(&id).await?;
    println!(
        "leaver: archived (enabled = {:?})",
        after.and_then(|a| a.enabled)
    );
    match topdesk.delete_account(&id).await {
        Err(e) => println!("delete: {e}"),
        Ok(()) => println!("delete: done"),
    }
    if let Some(m) = &mock {
        println!("\n{} requests to the mock", m.requests());
    }
    Ok(())
}
