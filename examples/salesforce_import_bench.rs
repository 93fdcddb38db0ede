//! Benchmark: importing users through the connector against plain `reqwest` doing the
//! same keyset queries over the same in-process mock, and granting permission sets one
//! request each against sObject Collections (200 per request). Prints the figures;
//! nothing is asserted (benchmarks are programs, not tests).
//!
//! ```sh
//! cargo run --release --example salesforce_import_bench            # 100,000 users
//! SF_BENCH_USERS=10000 cargo run --release --example salesforce_import_bench
//! ```
//!
//! The mock answers from memory in the same process, so the times are dominated by it
//! (its SOQL filter scans every user per page); the ratio shows what the connector adds
//! on top of a bare client (token cache, retries, paging guards, decoding into models).

use std::time::{Duration, Instant};

use accesslink::paging::{PagingOptions, accounts};
use accesslink::{EntitlementRef, EntitlementType, Grant, Provisioner};
use accesslink_salesforce::{SalesforceConnector, SalesforceSettings};
use accesslink_testkit::Mock;
use accesslink_testkit::salesforce::SalesforceMock;
use futures::TryStreamExt;
use serde_json::Value;

const PAGE: usize = 2000;

fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn connector(mock: &SalesforceMock) -> Result<SalesforceConnector, Box<dyn std::error::Error>> {
    let mut v = mock.settings();
    v.as_object_mut().expect("an object").remove("target");
    let s: SalesforceSettings = serde_json::from_value(v)?;
    Ok(SalesforceConnector::from_settings(s)?)
}

/// The same keyset walk with a bare client: token, then `WHERE Id > :last ORDER BY Id
/// LIMIT 2000` until a short page.
async fn plain(mock: &SalesforceMock) -> Result<(usize, usize), Box<dyn std::error::Error>> {
    let http = reqwest::Client::new();
    let settings = mock.settings();
    let client_id = settings["auth"]["client_id"].as_str().unwrap_or_default();
    let token: Value = http
        .post(format!("{}/services/oauth2/token", mock.url()))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", client_id),
            ("client_secret", mock.client_secret().as_str()),
        ])
        .send()
        .await?
        .json()
        .await?;
    let bearer = token["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let base = format!(
        "{}/services/data/v62.0/query",
        token["instance_url"].as_str().unwrap_or_default()
    );
    let (mut rows, mut requests) = (0usize, 1usize);
    let mut last: Option<String> = None;
    loop {
        let mut q = String::from(
            "SELECT Id,Username,Email,FirstName,LastName,Name,IsActive,ProfileId,UserType FROM User WHERE UserType = 'Standard'",
        );
        if let Some(l) = &last {
            q.push_str(&format!(" AND Id > '{l}'"));
        }
        q.push_str(&format!(" ORDER BY Id LIMIT {PAGE}"));
        let page: Value = http
            .get(&base)
            .query(&[("q", q.as_str())])
            .bearer_auth(&bearer)
            .send()
            .await?
            .json()
            .await?;
        requests += 1;
        let records = page["records"].as_array().cloned().unwrap_or_default();
        rows += records.len();
        last = records
            .last()
            .and_then(|r| r["Id"].as_str())
            .map(str::to_owned);
        if records.len() < PAGE {
            return Ok((rows, requests));
        }
    }
}

fn per_sec(n: usize, d: Duration) -> f64 {
    n as f64 / d.as_secs_f64().max(1e-9)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n: usize = std::env::var("SF_BENCH_USERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let started = Instant::now();
    let mock = SalesforceMock::builder().users(n).start().await;
    println!("mock with {n} users started in {:.2?}", started.elapsed());

    // Import: the connector.
    let sf = connector(&mock)?;
    let before = mock.request_count();
    let started = Instant::now();
    let mut stream = accounts(&sf, PagingOptions::new().page_size(PAGE as u32));
    let mut got = 0usize;
    while stream.try_next().await?.is_some() {
        got += 1;
    }
    let connector_time = started.elapsed();
    let connector_requests = mock.request_count() - before;
    let report = stream.report();
    println!(
        "connector: {got} users, {} pages, {connector_requests} requests, {connector_time:.2?} ({:.0}/s), shortfall {:?}",
        report.pages,
        per_sec(got, connector_time),
        report.shortfall()
    );

    // Import: plain reqwest, same queries.
    let before = mock.request_count();
    let started = Instant::now();
    let (rows, requests) = plain(&mock).await?;
    let plain_time = started.elapsed();
    println!(
        "reqwest:   {rows} users, {requests} requests ({} seen by the mock), {plain_time:.2?} ({:.0}/s)",
        mock.request_count() - before,
        per_sec(rows, plain_time),
    );
    println!(
        "ratio connector/reqwest time: {:.2}",
        connector_time.as_secs_f64() / plain_time.as_secs_f64().max(1e-9)
    );
    if let Some(mib) = peak_rss_mib() {
        println!("peak RSS (mock and both imports in one process): {mib:.0} MiB");
    }

    // Grants: 1,000 permission set assignments, one by one and as collections.
    let users: Vec<String> = mock
        .records("User")
        .iter()
        .filter_map(|u| u["Id"].as_str().map(str::to_owned))
        .take(1000)
        .collect();
    let ps = |name: &str| {
        EntitlementRef::new(
            EntitlementType::new("permission_set"),
            mock.id_by_name("PermissionSet", name).expect("seeded"),
        )
    };
    let (payroll, reports) = (ps("Payroll_Admin"), ps("Reports_Viewer"));
    let before = mock.request_count();
    let started = Instant::now();
    for u in &users {
        let _ = sf.grant(&u.as_str().into(), &payroll).await?;
    }
    let single = (started.elapsed(), mock.request_count() - before);
    let jobs: Vec<Grant> = users
        .iter()
        .map(|u| Grant::new(u.as_str(), reports.clone()))
        .collect();
    let before = mock.request_count();
    let started = Instant::now();
    let out = sf.grant_all(&jobs).await?;
    let bulk = (started.elapsed(), mock.request_count() - before);
    println!(
        "grants of {}: one by one {} requests in {:.2?}; sObject Collections {} requests in {:.2?} ({} ok)",
        users.len(),
        single.1,
        single.0,
        bulk.1,
        bulk.0,
        out.iter().filter(|o| o.is_ok()).count()
    );
    Ok(())
}
