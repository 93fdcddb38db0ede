//! Benchmark: import Jira Cloud users through the connector (`paging::accounts` over
//! `JiraConnector`) and through a plain reqwest loop sending the same
//! `GET /rest/api/3/users/search?startAt=&maxResults=1000` pages and keeping the same
//! `atlassian` accounts, in the same run, rounds interleaved, medians reported. Then a
//! batched status poll of 1,000 issues: requests used by `get_tickets` against one GET per
//! issue. Prints throughputs, their ratio, requests and the process's peak memory.
//!
//! ```sh
//! cargo run --release --example jira_import_bench   # the mock: 10,000 then 100,000 users
//! ```
//!
//! Each size runs in a fresh child process (the example runs itself with `--size N`), so
//! the peaks (`VmHWM`, mock included — it is in-process) are comparable.

mod bench;

use std::time::Instant;

use accesslink::paging::{Duplicates, PagingOptions, accounts};
use accesslink::{TicketRef, TicketingSystem};
use accesslink_jira::JiraConnector;
use accesslink_testkit::Mock;
use accesslink_testkit::jira::JiraMock;
use futures::TryStreamExt;

use bench::{median, peak_memory_mib};

const PAGE: u32 = 1000;
const ROUNDS: usize = 3;

fn connector_of(mock: &JiraMock) -> JiraConnector {
    let mut settings = mock.settings();
    settings
        .as_object_mut()
        .expect("an object")
        .remove("target");
    settings["page_size"] = PAGE.into();
    JiraConnector::from_settings(serde_json::from_value(settings).expect("settings"))
        .expect("connector")
}

async fn connector(jira: &JiraConnector) -> usize {
    // Offsets over a list that does not change cannot repeat a row: no key set kept.
    let options = PagingOptions::new()
        .page_size(PAGE)
        .duplicates(Duplicates::Allow);
    let mut stream = accounts(jira, options);
    let mut n = 0;
    while stream.try_next().await.expect("import").is_some() {
        n += 1;
    }
    n
}

async fn plain(mock: &JiraMock) -> usize {
    let http = reqwest::Client::new();
    let url = format!("{}/rest/api/3/users/search", mock.url());
    let (mut start, mut n) = (0u64, 0usize);
    loop {
        let rows: Vec<serde_json::Value> = http
            .get(&url)
            .basic_auth(mock.user(), Some(mock.secret()))
            .query(&[("startAt", start), ("maxResults", u64::from(PAGE))])
            .send()
            .await
            .expect("list")
            .json()
            .await
            .expect("list json");
        if rows.is_empty() {
            break;
        }
        n += rows
            .iter()
            .filter(|u| u["accountType"] == "atlassian")
            .count();
        start += u64::from(PAGE);
    }
    n
}

async fn measure(n: usize) {
    let mock = JiraMock::builder().users(n).start().await;
    let jira = connector_of(&mock);
    let (mut tc, mut tp) = (Vec::new(), Vec::new());
    let mut counts = (0, 0);
    for _ in 0..ROUNDS {
        let t = Instant::now();
        counts.0 = connector(&jira).await;
        tc.push(t.elapsed());
        let t = Instant::now();
        counts.1 = plain(&mock).await;
        tp.push(t.elapsed());
    }
    assert_eq!(counts.0, counts.1, "both sides must import the same users");
    let (c, p) = (median(tc), median(tp));
    let (rc, rp) = (
        counts.0 as f64 / c.as_secs_f64(),
        counts.1 as f64 / p.as_secs_f64(),
    );
    println!("server:              the in-process Jira Cloud mock ({n} generated users)");
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

    // A batched status poll of 1,000 issues.
    let keys: Vec<TicketRef> = (0..1000)
        .map(|i| TicketRef::by_number(mock.add_issue("ITSM", "Task", &format!("poll {i}"), &[])))
        .collect();
    let before = mock.request_count();
    let t = Instant::now();
    let got = jira.get_tickets(&keys).await.expect("poll");
    let batched = mock.request_count() - before;
    println!(
        "status poll:         {} issues in {batched} requests (batch_size 50; one GET each: 1000) in {:.2?}",
        got.len(),
        t.elapsed()
    );
    println!("peak memory (VmHWM): {:.1} MiB", peak_memory_mib());
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|a| a == "--size") {
        measure(args[at + 1].parse().expect("--size N")).await;
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
