//! Benchmark on the in-process TOPdesk mock, both figures in one run:
//!
//! 1. import 50,000 persons through the connector (`paging::accounts` over
//!    `TopdeskConnector`) and through a plain reqwest loop over the same `pageStart`/
//!    `pageSize` pages (206 = more, 200 = last), three rounds each, median throughput and
//!    the ratio;
//! 2. poll 1,000 incidents by number: one `get_tickets` call (one FIQL `number=in=(…)`
//!    per `batch_size` numbers) against 1,000 `get_ticket` calls, requests counted.
//!
//! ```sh
//! cargo run --release --all-features --example topdesk_bench
//! ```
//!
//! Peak memory (`VmHWM`) includes the mock's 50,000 persons.

mod bench;

use std::time::{Duration, Instant};

use accesslink::paging::{PagingOptions, accounts};
use accesslink::{CorrelationId, NewTicket, TicketKind, TicketingSystem};
use accesslink_testkit::topdesk::TopdeskMock;
use accesslink_topdesk::{TopdeskConnector, TopdeskSettings};
use futures::TryStreamExt;

use bench::{median, peak_memory_mib};

const PERSONS: usize = 50_000;
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
    let all: Vec<_> = accounts(&td, PagingOptions::new().page_size(PAGE))
        .try_collect()
        .await
        .expect("import");
    all.len()
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
    let mock = TopdeskMock::builder()
        .generated_persons(PERSONS)
        .start()
        .await;
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    for _ in 0..3 {
        let t = Instant::now();
        assert_eq!(connector(&mock).await, PERSONS);
        ours.push(t.elapsed());
        let t = Instant::now();
        assert_eq!(plain(&mock).await, PERSONS);
        theirs.push(t.elapsed());
    }
    let rate = |d: Duration| PERSONS as f64 / d.as_secs_f64();
    let (ours, theirs) = (median(ours), median(theirs));
    println!("import of {PERSONS} persons, pages of {PAGE}, median of 3:");
    println!("  connector: {:>8.0} persons/s ({ours:.2?})", rate(ours));
    println!(
        "  reqwest:   {:>8.0} persons/s ({theirs:.2?})",
        rate(theirs)
    );
    println!(
        "  connector / reqwest throughput: {:.2}",
        rate(ours) / rate(theirs)
    );

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
    println!("peak memory (VmHWM): {:.1} MiB", peak_memory_mib());
}
