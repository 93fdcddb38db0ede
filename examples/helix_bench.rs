//! Benchmark on the in-process Helix mock, both figures in one run:
//!
//! 1. import 20,000 `CTM:People` entries through the connector (`paging::accounts` over
//!    `HelixConnector`) and through a plain reqwest loop over the same `offset`/`limit`
//!    pages (JWT login, then pages until `_links.next` is absent), three rounds each,
//!    median throughput and the ratio;
//! 2. poll 1,000 incidents by number: one `get_tickets` call (one `OR` qualification per
//!    `batch_size` numbers) against 1,000 `get_ticket` calls, requests counted.
//!
//! ```sh
//! cargo run --release --all-features --example helix_bench
//! ```
//!
//! `HELIX_BENCH_PEOPLE` changes the number of people. Peak memory (`VmHWM`) includes the
//! mock's people; `HELIX_BENCH_ONLY=connector` or `=reqwest` runs one side of the import
//! (one round, no poll), so two runs give each side's own peak.

mod bench;

use std::time::{Duration, Instant};

use accesslink::TicketingSystem;
use accesslink::paging::{PagingOptions, accounts};
use accesslink_helix::{HelixConnector, HelixSettings};
use accesslink_testkit::helix::HelixMock;
use futures::TryStreamExt;

use bench::{median, peak_memory_mib};

const PAGE: u32 = 1000;
const INCIDENTS: usize = 1000;

fn settings(mock: &HelixMock) -> HelixSettings {
    let mut s = HelixSettings::new(
        mock.url().parse().expect("a URL"),
        mock.username(),
        accesslink::SecretSource::from(secrecy::SecretString::from(mock.password().to_owned())),
    );
    s.page_size = PAGE;
    s
}

async fn connector(mock: &HelixMock) -> usize {
    let helix = HelixConnector::from_settings(settings(mock)).expect("settings");
    let all: Vec<_> = accounts(&helix, PagingOptions::new().page_size(PAGE))
        .try_collect()
        .await
        .expect("import");
    helix.close().await.expect("logout");
    all.len()
}

async fn plain(mock: &HelixMock) -> usize {
    let http = reqwest::Client::new();
    let token = http
        .post(format!("{}/api/jwt/login", mock.url()))
        .form(&[("username", mock.username()), ("password", mock.password())])
        .send()
        .await
        .expect("login")
        .text()
        .await
        .expect("token");
    let mut offset = 0usize;
    let mut n = 0;
    loop {
        let page: serde_json::Value = http
            .get(format!("{}/api/arsys/v1/entry/CTM:People", mock.url()))
            .header("Authorization", format!("AR-JWT {token}"))
            .query(&[("offset", offset.to_string()), ("limit", PAGE.to_string())])
            .send()
            .await
            .expect("send")
            .json()
            .await
            .expect("json");
        let rows = page["entries"].as_array().map_or(0, Vec::len);
        n += rows;
        offset += rows;
        if page["_links"]["next"].is_null() {
            break;
        }
    }
    http.post(format!("{}/api/jwt/logout", mock.url()))
        .header("Authorization", format!("AR-JWT {token}"))
        .send()
        .await
        .expect("logout");
    n
}

#[tokio::main]
async fn main() {
    let people: usize = std::env::var("HELIX_BENCH_PEOPLE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let mock = HelixMock::builder().generated_people(people).start().await;
    let total = people + 1; // and the mock's own customer
    let only = std::env::var("HELIX_BENCH_ONLY").unwrap_or_default();
    if !only.is_empty() {
        let base = peak_memory_mib();
        let t = Instant::now();
        let n = match only.as_str() {
            "connector" => connector(&mock).await,
            "reqwest" => plain(&mock).await,
            other => panic!("HELIX_BENCH_ONLY is connector or reqwest, not {other:?}"),
        };
        assert_eq!(n, total);
        println!(
            "{only}: {total} people in {:.2?}; peak memory (VmHWM) {:.1} MiB ({:.1} MiB with the mock before the import)",
            t.elapsed(),
            peak_memory_mib(),
            base
        );
        return;
    }
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    for _ in 0..3 {
        let t = Instant::now();
        assert_eq!(connector(&mock).await, total);
        ours.push(t.elapsed());
        let t = Instant::now();
        assert_eq!(plain(&mock).await, total);
        theirs.push(t.elapsed());
    }
    let rate = |d: Duration| total as f64 / d.as_secs_f64();
    let (ours, theirs) = (median(ours), median(theirs));
    println!("import of {total} people, pages of {PAGE}, median of 3:");
    println!("  connector: {:>8.0} people/s ({ours:.2?})", rate(ours));
    println!("  reqwest:   {:>8.0} people/s ({theirs:.2?})", rate(theirs));
    println!(
        "  ratio:     {:.2} (connector time / reqwest time)",
        ours.as_secs_f64() / theirs.as_secs_f64()
    );

    let helix = HelixConnector::from_settings(settings(&mock)).expect("settings");
    let numbers: Vec<String> = (0..INCIDENTS)
        .map(|i| mock.add_incident(&format!("incident {i}"), "In Progress"))
        .collect();
    let refs: Vec<_> = numbers
        .iter()
        .map(|n| helix.parse_ticket_ref(n).expect("a number"))
        .collect();
    let before = mock.requests();
    let t = Instant::now();
    let got = helix.get_tickets(&refs).await.expect("poll");
    let batched = (mock.requests() - before, t.elapsed());
    assert_eq!(got.len(), INCIDENTS);
    let before = mock.requests();
    let t = Instant::now();
    for r in &refs {
        helix.get_ticket(r).await.expect("get");
    }
    let single = (mock.requests() - before, t.elapsed());
    println!("status poll of {INCIDENTS} incidents:");
    println!("  get_tickets: {} requests ({:.2?})", batched.0, batched.1);
    println!("  get_ticket:  {} requests ({:.2?})", single.0, single.1);
    helix.close().await.expect("logout");
    println!("peak memory (VmHWM): {:.1} MiB", peak_memory_mib());
}
