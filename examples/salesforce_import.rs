//! Import what a Salesforce org knows about access: internal users, permission sets,
//! permission set groups, public groups, queues and profiles, and who holds which —
//! keyset-paged, resumable from a checkpoint, with the org's daily API usage read from
//! every answer and a budget that stops the import at 90 % of the quota.
//!
//! With no settings it starts the Salesforce mock in-process with 3,000 users and their
//! assignments (granted with sObject Collections, 200 per request), imports part of the
//! users, "crashes", and resumes from the stored checkpoint:
//!
//! ```sh
//! cargo run --example salesforce_import
//! ```
//!
//! Against a real org (read-only; client credentials on the org's My Domain):
//!
//! ```sh
//! export SF_LOGIN_URL=https://acme.my.salesforce.com SF_CLIENT_ID=3MVG9…
//! export SF_CLIENT_SECRET=…
//! cargo run --example salesforce_import
//! ```

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Instant;

use accesslink::paging::{PagingOptions, accounts, entitlements, grants};
use accesslink::{EntitlementRef, EntitlementType, Grant, Provisioner};
use accesslink_salesforce::{ApiUsage, ApiUsageMetrics, SalesforceConnector, SalesforceSettings};
use accesslink_testkit::Mock;
use accesslink_testkit::salesforce::SalesforceMock;
use futures::TryStreamExt;
use serde_json::json;

fn env(k: &str) -> Option<String> {
    std::env::var(k).ok().filter(|v| !v.is_empty())
}

/// Prints the usage when it crosses each further 10 % of the quota.
#[derive(Debug, Default)]
struct UsageLog(std::sync::atomic::AtomicU64);

impl ApiUsageMetrics for UsageLog {
    fn record(&self, usage: ApiUsage) {
        let tenth = (usage.percent() / 10.0) as u64;
        if self
            .0
            .fetch_max(tenth, std::sync::atomic::Ordering::Relaxed)
            < tenth
        {
            println!("  (org reports {usage})");
        }
    }
}

/// A mock with users, assignments of every kind, granted in bulk.
async fn seeded(
    users: usize,
) -> Result<(SalesforceMock, SalesforceSettings), Box<dyn std::error::Error>> {
    let mock = SalesforceMock::builder().users(users).start().await;
    let mut v = mock.settings();
    v.as_object_mut().expect("an object").remove("target");
    v["api_budget"] = json!({ "import_stop_percent": 90 });
    let settings: SalesforceSettings = serde_json::from_value(v)?;
    let sf = SalesforceConnector::from_settings(settings.clone())?;
    let ids: Vec<String> = mock
        .records("User")
        .iter()
        .filter_map(|u| u["Id"].as_str().map(str::to_owned))
        .collect();
    let e = |ty: &str, object: &str, name: &str| {
        EntitlementRef::new(
            EntitlementType::new(ty),
            mock.id_by_name(object, name).expect("seeded"),
        )
    };
    let pool = [
        e("permission_set", "PermissionSet", "Payroll_Admin"),
        e("permission_set", "PermissionSet", "Reports_Viewer"),
        e(
            "permission_set_group",
            "PermissionSetGroup",
            "Finance_Bundle",
        ),
        e("group", "Group", "Payroll Team"),
        e("queue", "Group", "Tier 1 Queue"),
    ];
    let jobs: Vec<Grant> = ids
        .iter()
        .enumerate()
        .filter(|(i, _)| i % 2 == 0)
        .map(|(i, u)| Grant::new(u.as_str(), pool[i % pool.len()].clone()))
        .collect();
    let before = mock.request_count();
    let out = sf.grant_all(&jobs).await?;
    println!(
        "seeded {} users, {} assignments in {} requests (sObject Collections)",
        ids.len(),
        out.iter().filter(|o| o.is_ok()).count(),
        mock.request_count() - before
    );
    Ok((mock, settings))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let _mock;
    let settings: SalesforceSettings = match (
        env("SF_LOGIN_URL"),
        env("SF_CLIENT_ID"),
        env("SF_CLIENT_SECRET"),
    ) {
        (Some(url), Some(id), Some(_)) => serde_json::from_value(json!({
            "login_url": url,
            "auth": { "method": "client_credentials", "client_id": id,
                      "client_secret": { "env": "SF_CLIENT_SECRET" } },
            "api_budget": { "import_stop_percent": 90 },
        }))?,
        _ => {
            let (m, s) = seeded(3_000).await?;
            _mock = Some(m);
            s
        }
    };
    let sf = SalesforceConnector::from_settings(settings)?;
    sf.client()
        .api_usage()
        .set_metrics(Arc::new(UsageLog::default()));
    let options = PagingOptions::new().page_size(500);

    // Users: read three pages, then stop as a crash would, keeping the checkpoint.
    let started = Instant::now();
    let mut seen = HashSet::new();
    let mut stream = accounts(&sf, options.clone());
    while let Some(a) = stream.try_next().await? {
        seen.insert(a.id.clone());
        if stream.report().pages == 3 && seen.len() % 500 == 0 {
            break;
        }
    }
    let checkpoint = stream.report().checkpoint;
    drop(stream);
    println!(
        "users: {} read before the stop; checkpoint {:?}",
        seen.len(),
        checkpoint.as_ref().map(|t| t.as_str())
    );
    // Resume from the checkpoint: the checkpoint page may come again, nothing is lost.
    let mut stream = accounts(&sf, options.clone().resume_from(checkpoint));
    let mut again = 0usize;
    while let Some(a) = stream.try_next().await? {
        if !seen.insert(a.id.clone()) {
            again += 1;
        }
    }
    let report = stream.report();
    println!(
        "users: {} in all after resuming ({} pages, {again} seen twice), {:.2?}",
        seen.len(),
        report.pages,
        started.elapsed()
    );

    for ty in sf.entitlement_types().to_vec() {
        let started = Instant::now();
        let ents: Vec<_> = entitlements(&sf, &ty, options.clone())
            .try_collect()
            .await?;
        let held: Vec<_> = grants(&sf, &ty, options.clone()).try_collect().await?;
        let names: Vec<&str> = ents.iter().take(4).map(|e| e.name.as_str()).collect();
        println!(
            "{:<22} {:>3} {names:?}, {:>5} held, {:.2?}",
            format!("{ty}:"),
            ents.len(),
            held.len(),
            started.elapsed()
        );
    }
    if let Some(u) = sf.client().api_usage().last() {
        println!("daily API usage after the import: {u}");
    }
    Ok(())
}
