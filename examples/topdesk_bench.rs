//! Benchmark on the in-process TOPdesk mock, all figures in one run:
//!
//! 1. import 10,000 and 100,000 persons through the connector (`paging::accounts` over
//!    `TopdeskConnector`, streamed and counted as an import into a store would) and
//!    through a plain reqwest loop over the same `pageStart`/`pageSize` pages (206 =
//!    more, 200 = last), three rounds each: median throughput, the ratio, and the peak
//!    memory of each phase (`VmHWM`, reset between phases through
//!    `/proc/self/clear_refs`; the mock's own data is in every figure and shown apart as
//!    the resident size before the imports);
//! 2. poll 1,000 incidents by number: one `get_tickets` call (one FIQL `number=in=(…)`
//!    per `batch_size` numbers) against 1,000 `get_ticket` calls, requests counted.
//!
//! ```sh
//! cargo run --release --all-features --example topdesk_bench
//! ```

mod bench;

use std::time::{Duration, Instant};

use accesslink::paging::{PagingOptions, accounts};
use accesslink::{CorrelationId, NewTicket, TicketKind, TicketingSystem};
use accesslink_testkit::topdesk::TopdeskMock;
use accesslink_topdesk::{TopdeskConnector, TopdeskSettings};
use futures::TryStreamExt;

use bench::{median, peak_memory_mib};

const SIZES: [usize; 2] = [10_000, 100_000];
const PAGE: u32 = 1000;
const INCIDENTS: usize = 1000;

fn settings(mock: &TopdeskMock) -> TopdeskSettings {
    TopdeskSettings::new(
        mock.url().parse().expect("a URL"),
        mock.login(),
        secrecy::SecretString::from(mock.password().to_owned()),
    )
}

async fn connector(mock: &TopdeskMock) -> usize {
    let td = TopdeskConnector::from_settings(settings(mock)).expect("settings");
    accounts(&td, PagingOptions::new().page_size(PAGE))
        .try_fold(0, |n, _| async move { Ok(n + 1) })
        .await
        .expect("import")
}

/// Resets `VmHWM` to the current resident size (Linux ≥ 4.0); `false` where it cannot.
fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// The resident size (`VmRSS`) in MiB.
fn resident_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// Three rounds of `import`; the median time and the phase's peak memory.
async fn rounds<F, Fut>(persons: usize, import: F) -> (Duration, f64)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = usize>,
{
    let resets = reset_peak();
    let mut times = Vec::new();
    for _ in 0..3 {
        let t = Instant::now();
        assert_eq!(import().await, persons);
        times.push(t.elapsed());
    }
    let peak = if resets { peak_memory_mib() } else { f64::NAN };
    (median(times), peak)
}

async fn plain(mock: &TopdeskMock) -> usize {
    let http = reqwest::Client::new();
    let mut start = 0usize;
    let mut n = 0;
    loop {
        let r = http
            .get(format!("{}/tas/api/persons", mock.url()))
            .basic_auth(mock.login(), Some(mock.password()))
            .query(&[
                ("pageStart", start.to_string()),
                ("pageSize", PAGE.to_string()),
            ])
            .send()
            .await
            .expect("send");
        let status = r.status().as_u16();
        if status == 204 {
            break;
        }
        let rows: Vec<serde_json::Value> = r.json().await.expect("json");
        n += rows.len();
        start += rows.len();
        if status != 206 {
            break;
        }
    }
    n
}

#[tokio::main]
async fn main() {
    for persons in SIZES {
        let mock = TopdeskMock::builder()
            .generated_persons(persons)
            .start()
            .await;
        let data = resident_mib();
        let (ours, ours_peak) = rounds(persons, || connector(&mock)).await;
        let (theirs, theirs_peak) = rounds(persons, || plain(&mock)).await;
        let rate = |d: Duration| persons as f64 / d.as_secs_f64();
        println!("import of {persons} persons, pages of {PAGE}, median of 3:");
        println!(
            "  connector: {:>8.0} persons/s ({ours:.2?}), peak {ours_peak:.1} MiB",
            rate(ours)
        );
        println!(
            "  reqwest:   {:>8.0} persons/s ({theirs:.2?}), peak {theirs_peak:.1} MiB",
            rate(theirs)
        );
        println!(
            "  connector / reqwest throughput: {:.2}; resident before the imports (mock data included): {data:.1} MiB",
            rate(ours) / rate(theirs)
        );
    }

    let mock = TopdeskMock::start().await;
    let td = TopdeskConnector::from_settings(settings(&mock)).expect("settings");
    let mut refs = Vec::with_capacity(INCIDENTS);
    for i in 0..INCIDENTS {
        let new = NewTicket::new(
            TicketKind::Incident,
            "poll me",
            "benchmark",
            CorrelationId::new(format!("BENCH-{i}")),
        );
        refs.push(td.create_ticket(&new).await.expect("create").reference);
    }
    let before = mock.requests();
    let t = Instant::now();
    let got = td.get_tickets(&refs).await.expect("batch");
    let batched = (mock.requests() - before, t.elapsed());
    assert_eq!(got.len(), INCIDENTS);
    let before = mock.requests();
    let t = Instant::now();
    for r in &refs {
        let by_number = td
            .parse_ticket_ref(r.number().unwrap_or_default())
            .expect("number");
        td.get_ticket(&by_number)
            .await
            .expect("get")
            .expect("exists");
    }
    let single = (mock.requests() - before, t.elapsed());
    println!("poll of {INCIDENTS} incidents by number:");
    println!(
        "  get_tickets (batch_size 50): {:>5} requests, {:.2?}",
        batched.0, batched.1
    );
    println!(
        "  get_ticket one by one:       {:>5} requests, {:.2?}",
        single.0, single.1
    );
    println!(
        "peak memory since the last import phase (VmHWM): {:.1} MiB",
        peak_memory_mib()
    );
}
