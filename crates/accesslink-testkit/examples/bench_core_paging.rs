//! Benchmark: drain 100,000 items through accesslink-core's `HttpClient` and paging
//! stream, and through a plain reqwest loop, over the same loopback mock in the same
//! run. Prints throughput of both and their ratio.
//!
//! ```sh
//! cargo run --release -p accesslink-testkit --example bench_core_paging            # 100,000 items, 9 rounds
//! cargo run --release -p accesslink-testkit --example bench_core_paging -- 20000 5  # items, rounds
//! # one client only (plain, core, allow, client), for an instruction counter:
//! valgrind --tool=callgrind --callgrind-out-file=/dev/null \
//!     target/release/examples/bench_core_paging 20000 3 core
//! ```
//!
//! "core" uses the default paging options, which remember every item's key to report
//! items a page repeats; "no dup tracking" turns that off (`Duplicates::Allow`).
//! Rounds alternate between the clients so drift in the machine's load affects
//! both alike; the median of each is reported.
//!
//! It lives in the testkit so that a release build compiles core and the testkit
//! only, not every connector.

use std::borrow::Cow;
use std::time::{Duration, Instant};

use accesslink_core::http::HttpClient;
use accesslink_core::paging::{Duplicates, PagingOptions, paginate};
use accesslink_core::{Page, PageToken};
use accesslink_testkit::paged::PagedItemsMock;
use futures::TryStreamExt;
use serde::Deserialize;

/// The middle of the rounds (the upper one of the two for an even count).
fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

const PAGE: usize = 1000;

#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct Person {
    id: String,
    login: String,
    first_name: String,
    last_name: String,
    email: String,
    active: bool,
}

#[derive(Debug, Deserialize)]
struct Items {
    items: Vec<Person>,
    total: u64,
}

async fn plain(client: &reqwest::Client, base: &str) -> usize {
    let mut offset = 0;
    let mut seen = 0;
    loop {
        let url = format!("{base}/items?offset={offset}&limit={PAGE}");
        let bytes = client
            .get(&url)
            .send()
            .await
            .expect("request")
            .error_for_status()
            .expect("status")
            .bytes()
            .await
            .expect("body");
        let page: Items = serde_json::from_slice(&bytes).expect("json");
        let n = page.items.len();
        seen += n;
        offset += n;
        if n == 0 || offset as u64 >= page.total {
            return seen;
        }
    }
}

async fn core(client: &HttpClient, duplicates: Duplicates) -> usize {
    let stream = paginate(
        PagingOptions::new()
            .page_size(PAGE as u32)
            .duplicates(duplicates),
        |p: &Person| Cow::Borrowed(p.id.as_str()),
        |req| {
            let client = client.clone();
            async move {
                let offset: u64 = req
                    .token
                    .as_ref()
                    .map_or(Ok(0), |t| t.as_str().parse())
                    .map_err(|_| accesslink_core::Error::invalid_input("bad token"))?;
                let limit = req.size_or(PAGE as u32);
                let request = client
                    .get("items")?
                    .query(&[("offset", offset), ("limit", u64::from(limit))])?;
                let page: Items = client.send_json(request).await?;
                let end = offset + page.items.len() as u64;
                let next = (end < page.total).then(|| PageToken::new(end.to_string()));
                Ok(Page::new(page.items, next).with_total(Some(page.total)))
            }
        },
    );
    let mut seen = 0;
    let mut stream = stream;
    while let Some(_p) = stream.try_next().await.expect("stream") {
        seen += 1;
    }
    assert_eq!(stream.report().duplicates, 0);
    seen
}

/// Core's client in a plain loop, without the paging stream: separates the cost of
/// the client from the cost of the stream.
async fn client_only(client: &HttpClient) -> usize {
    let mut offset = 0u64;
    let mut seen = 0;
    loop {
        let request = client
            .get("items")
            .expect("path")
            .query(&[("offset", offset), ("limit", PAGE as u64)])
            .expect("query");
        let page: Items = client.send_json(request).await.expect("page");
        let n = page.items.len();
        seen += n;
        offset += n as u64;
        if n == 0 || offset >= page.total {
            return seen;
        }
    }
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let items: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let rounds: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(9);
    let mock = PagedItemsMock::builder().items(items).start().await;
    let base = mock.url();
    let plain_client = reqwest::Client::new();
    let core_client = HttpClient::builder("bench", base.clone())
        .build()
        .expect("client");

    // One client only, for an instruction counter (`valgrind --tool=callgrind`): run it
    // with 1 and with 3 rounds and halve the difference to get one drain's count.
    if let Some(only) = args.next() {
        for _ in 0..rounds {
            let n = match only.as_str() {
                "plain" => plain(&plain_client, &base).await,
                "core" => core(&core_client, Duplicates::Skip).await,
                "allow" => core(&core_client, Duplicates::Allow).await,
                "client" => client_only(&core_client).await,
                other => panic!("unknown client `{other}`: plain, core, allow or client"),
            };
            assert_eq!(n, items);
        }
        return;
    }

    // Warm up both (connections, allocator, mock).
    assert_eq!(plain(&plain_client, &base).await, items);
    assert_eq!(core(&core_client, Duplicates::Skip).await, items);

    let (mut t_plain, mut t_core, mut t_allow, mut t_client) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for _ in 0..rounds {
        let t = Instant::now();
        assert_eq!(plain(&plain_client, &base).await, items);
        t_plain.push(t.elapsed());
        let t = Instant::now();
        assert_eq!(core(&core_client, Duplicates::Skip).await, items);
        t_core.push(t.elapsed());
        let t = Instant::now();
        assert_eq!(core(&core_client, Duplicates::Allow).await, items);
        t_allow.push(t.elapsed());
        let t = Instant::now();
        assert_eq!(client_only(&core_client).await, items);
        t_client.push(t.elapsed());
    }
    let (p, c, a, k) = (
        median(t_plain.clone()),
        median(t_core.clone()),
        median(t_allow.clone()),
        median(t_client.clone()),
    );
    let rate = |d: Duration| items as f64 / d.as_secs_f64();
    println!(
        "items per drain:       {items} ({} pages of {PAGE})",
        items.div_ceil(PAGE)
    );
    println!("rounds:                {rounds} (median reported)");
    println!(
        "plain reqwest:         {:>10.0} items/s  ({p:?} per drain)",
        rate(p)
    );
    println!(
        "accesslink-core:       {:>10.0} items/s  ({c:?} per drain)",
        rate(c)
    );
    println!(
        "core, no dup tracking: {:>10.0} items/s  ({a:?} per drain)",
        rate(a)
    );
    println!(
        "core client, no stream:{:>10.0} items/s  ({k:?} per drain)",
        rate(k)
    );
    println!("core / plain:          {:>10.3}", rate(c) / rate(p));
    println!("core (no dups) / plain:{:>10.3}", rate(a) / rate(p));
    // Each round's own ratio (the clients ran back to back in it), then their median:
    // drift in the machine's load between rounds cancels out.
    let paired = |other: &[Duration]| {
        let mut r: Vec<f64> = t_plain
            .iter()
            .zip(other)
            .map(|(p, o)| p.as_secs_f64() / o.as_secs_f64())
            .collect();
        r.sort_by(f64::total_cmp);
        r[r.len() / 2]
    };
    println!("paired, median of each round's ratio:");
    println!("  core / plain:          {:>8.3}", paired(&t_core));
    println!("  core (no dups) / plain:{:>8.3}", paired(&t_allow));
    println!("  core client / plain:   {:>8.3}", paired(&t_client));
}
