//! Import everything a ServiceNow instance knows about access: users, groups, roles,
//! memberships and role grants, page by page with keyset paging, and print a summary.
//!
//! With no settings it starts the ServiceNow mock in-process with 2,500 generated users,
//! a few groups and roles, and their grants:
//!
//! ```sh
//! cargo run --example servicenow_import
//! ```
//!
//! Against a real instance (read-only):
//!
//! ```sh
//! export SERVICENOW_URL=https://acme.service-now.com SERVICENOW_USER=svc.accesslink
//! export SERVICENOW_PASSWORD=…            # Basic, or add for OAuth:
//! export SERVICENOW_CLIENT_ID=… SERVICENOW_CLIENT_SECRET=…
//! cargo run --example servicenow_import
//! ```

use std::time::Instant;

use accesslink::Provisioner;
use accesslink::paging::{PagingOptions, accounts, entitlements, grants};
use accesslink_servicenow::{ServiceNowClient, ServiceNowConfig, ServiceNowConnector};
use accesslink_testkit::servicenow::ServiceNowMock;
use futures::TryStreamExt;
use secrecy::SecretString;
use serde_json::json;

fn env(k: &str) -> Option<String> {
    std::env::var(k).ok().filter(|v| !v.is_empty())
}

/// A mock with users, groups, roles and grants.
async fn seeded_mock() -> ServiceNowMock {
    let mock = ServiceNowMock::builder()
        .synthetic_users(2_500)
        .start()
        .await;
    let users: Vec<String> = mock
        .rows("sys_user")
        .iter()
        .take(300)
        .filter_map(|r| r["sys_id"].as_str().map(str::to_owned))
        .collect();
    let groups: Vec<String> = [
        "crm-admins",
        "payroll-readers",
        "service-desk",
        "network-ops",
    ]
    .iter()
    .map(|g| mock.insert("sys_user_group", json!({ "name": g, "active": "true" })))
    .collect();
    let roles: Vec<String> = ["itil", "admin", "catalog_admin"]
        .iter()
        .map(|r| mock.insert("sys_user_role", json!({ "name": r })))
        .collect();
    for (i, u) in users.iter().enumerate() {
        mock.insert(
            "sys_user_grmember",
            json!({ "user": u, "group": groups[i % groups.len()] }),
        );
        if i % 3 == 0 {
            mock.insert(
                "sys_user_has_role",
                json!({ "user": u, "role": roles[i % roles.len()], "inherited": "false" }),
            );
        }
    }
    mock
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mock;
    let (url, user, password, on) = match (
        env("SERVICENOW_URL"),
        env("SERVICENOW_USER"),
        env("SERVICENOW_PASSWORD"),
    ) {
        (Some(url), Some(user), Some(password)) => (url, user, password, "a real instance"),
        _ => {
            mock = seeded_mock().await;
            (
                mock.url(),
                mock.user().to_owned(),
                mock.password().to_owned(),
                "the in-process ServiceNow mock",
            )
        }
    };
    let builder = ServiceNowClient::builder(url);
    let builder = match (env("SERVICENOW_CLIENT_ID"), env("SERVICENOW_CLIENT_SECRET")) {
        (Some(id), Some(secret)) => builder.oauth_password(
            id,
            SecretString::from(secret),
            user,
            SecretString::from(password),
        ),
        _ => builder.basic(user, SecretString::from(password)),
    };
    let sn = ServiceNowConnector::new(builder.build()?, ServiceNowConfig::new())?;
    println!("ServiceNow import from {on}");

    let options = PagingOptions::new().page_size(1000);
    let started = Instant::now();
    let mut stream = accounts(&sn, options.clone());
    let (mut active, mut inactive) = (0usize, 0usize);
    while let Some(a) = stream.try_next().await? {
        match a.enabled {
            Some(true) => active += 1,
            _ => inactive += 1,
        }
    }
    let report = stream.report();
    println!(
        "accounts:      {:>6} ({active} enabled, {inactive} not) in {} pages, {:.2?}; resume token {:?}",
        report.items,
        report.pages,
        started.elapsed(),
        report.checkpoint.as_ref().map(|t| t.as_str())
    );
    for ty in sn.entitlement_types().to_vec() {
        let started = Instant::now();
        let ents: Vec<_> = entitlements(&sn, &ty, options.clone())
            .try_collect()
            .await?;
        let held: Vec<_> = grants(&sn, &ty, options.clone()).try_collect().await?;
        let names: Vec<&str> = ents.iter().take(5).map(|e| e.name.as_str()).collect();
        println!(
            "{:<14} {:>6} entitlements {names:?}{}, {:>6} grants, {:.2?}",
            format!("{ty}s:"),
            ents.len(),
            if ents.len() > 5 { " …" } else { "" },
            held.len(),
            started.elapsed()
        );
    }
    Ok(())
}
