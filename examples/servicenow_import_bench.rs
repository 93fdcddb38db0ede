//! Benchmark: import users from ServiceNow through the connector (`paging::accounts` over
//! `ServiceNowConnector`) and through a plain reqwest loop sending the same keyset pages
//! (`sys_id>last^ORDERBYsys_id`, 1,000 rows, the same fields, `sysparm_no_count=true`
//! after the first page), in the same run, rounds interleaved, medians reported. Prints
//! both throughputs, their ratio and the process's peak memory.
//!
//! ```sh
//! cargo run --release --example servicenow_import_bench      # the mock: 10,000 then 100,000 users
//! SERVICENOW_URL=… SERVICENOW_USER=… SERVICENOW_PASSWORD=… \
//!   cargo run --release --example servicenow_import_bench    # a real instance, all users
//! ```
//!
//! On the mock each size runs in a fresh child process (the example runs itself with
//! `--size N`), so the peaks (`VmHWM`, mock included — it is in-process) are comparable:
//! flat memory means the 100,000-user peak is close to the 10,000-user one.

mod bench;

use std::time::Instant;

use accesslink::paging::{Duplicates, PagingOptions, accounts};
use accesslink_servicenow::{ServiceNowClient, ServiceNowConfig, ServiceNowConnector};
use accesslink_testkit::servicenow::ServiceNowMock;
use futures::TryStreamExt;
use secrecy::{ExposeSecret, SecretString};

use bench::{median, peak_memory_mib};

const PAGE: u32 = 1000;
const ROUNDS: usize = 3;
/// The fields the connector asks for on `sys_user`.
const FIELDS: &str = "sys_id,user_name,first_name,last_name,name,email,active,locked_out,title,department,manager,employee_number,sys_updated_on";

struct Target {
    url: String,
    user: String,
    password: SecretString,
}

async fn connector(t: &Target) -> usize {
    let client = ServiceNowClient::builder(t.url.clone())
        .basic(t.user.clone(), t.password.clone())
        .build()
        .expect("client");
    let sn = ServiceNowConnector::new(client, ServiceNowConfig::new().page_size(PAGE))
        .expect("connector");
    // Keyset pages cannot repeat a row, so the stream keeps no key set.
    let options = PagingOptions::new()
        .page_size(PAGE)
        .duplicates(Duplicates::Allow);
    let mut stream = accounts(&sn, options);
    let mut n = 0;
    while stream.try_next().await.expect("import").is_some() {
        n += 1;
    }
    n
}

async fn plain(t: &Target) -> usize {
    let http = reqwest::Client::new();
    let url = format!("{}/api/now/table/sys_user", t.url.trim_end_matches('/'));
    let (mut last, mut n) = (String::new(), 0usize);
    loop {
        let query = if last.is_empty() {
            "ORDERBYsys_id".to_owned()
        } else {
            format!("sys_id>{last}^ORDERBYsys_id")
        };
        let mut request = http
            .get(&url)
            .basic_auth(&t.user, Some(t.password.expose_secret()))
            .header("Accept", "application/json")
            .query(&[
                ("sysparm_query", query.as_str()),
                ("sysparm_limit", &PAGE.to_string()),
                ("sysparm_fields", FIELDS),
                ("sysparm_exclude_reference_link", "true"),
            ]);
        if !last.is_empty() {
            // Like the connector: the count only on the first page.
            request = request.query(&[("sysparm_no_count", "true")]);
        }
        let body: serde_json::Value = request
            .send()
            .await
            .expect("list")
            .json()
            .await
            .expect("list json");
        let rows = body["result"].as_array().map_or(&[][..], Vec::as_slice);
        // Like the connector: only an empty page ends the listing (ACLs make short ones).
        let Some(tail) = rows.last().and_then(|r| r["sys_id"].as_str()) else {
            break;
        };
        last = tail.to_owned();
        n += rows.len();
    }
    n
}

/// Interleaved rounds against one target; prints one line per side and the ratio.
async fn measure(target: &Target, label: &str) {
    let (mut tc, mut tp) = (Vec::new(), Vec::new());
    let mut counts = (0, 0);
    for _ in 0..ROUNDS {
        let t = Instant::now();
        counts.0 = connector(target).await;
        tc.push(t.elapsed());
        let t = Instant::now();
        counts.1 = plain(target).await;
        tp.push(t.elapsed());
    }
    assert_eq!(counts.0, counts.1, "both sides must import the same users");
    let (c, p) = (median(tc), median(tp));
    let (rc, rp) = (
        counts.0 as f64 / c.as_secs_f64(),
        counts.1 as f64 / p.as_secs_f64(),
    );
    println!("server:              {label}");
    println!("pages of:            {PAGE}, median of {ROUNDS} interleaved rounds");
    println!(
        "connector:           {:>7} users, {rc:>9.0} users/s ({c:.2?})",
        counts.0
    );
    println!(
        "plain reqwest:       {:>7} users, {rp:>9.0} users/s ({p:.2?})",
        counts.1
    );
    println!("connector / plain:   {:.2}", rc / rp);
    println!("peak memory (VmHWM): {:.1} MiB", peak_memory_mib());
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|a| a == "--size") {
        let n: usize = args[at + 1].parse().expect("--size N");
        let mock = ServiceNowMock::builder().synthetic_users(n).start().await;
        let target = Target {
            url: mock.url(),
            user: mock.user().to_owned(),
            password: SecretString::from(mock.password().to_owned()),
        };
        measure(
            &target,
            &format!("the in-process ServiceNow mock ({n} generated users)"),
        )
        .await;
        return;
    }
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    if let (Some(url), Some(user), Some(password)) = (
        var("SERVICENOW_URL"),
        var("SERVICENOW_USER"),
        var("SERVICENOW_PASSWORD"),
    ) {
        let target = Target {
            url,
            user,
            password: SecretString::from(password),
        };
        measure(&target, "a real instance").await;
        return;
    }
    let me = std::env::current_exe().expect("own path");
    for n in [10_000, 100_000] {
        let out = std::process::Command::new(&me)
            .args(["--size", &n.to_string()])
            .output()
            .expect("run the child");
        print!("{}", String::from_utf8_lossy(&out.stdout));
        eprint!("{}", String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success(), "the {n}-user run failed");
        println!();
    }
}
