//! Benchmark: import 100,000 OpsRamp users with 32 concurrent tasks sharing ONE
//! connector (one client, one token, one connection pool), against a plain reqwest loop
//! sending the same `users/search` pages with the same concurrency, in the same run.
//! Prints throughput of both, the ratio, and the token requests the mock counted.
//!
//! ```sh
//! cargo run --release --example opsramp_import_bench                # 100,000 users, 7200 s tokens
//! cargo run --release --example opsramp_import_bench -- 100000 3    # 3 s tokens: one per lifetime
//! ```
//!
//! Work is split with a shared page queue: each task takes the next page number until
//! none is left. Both sides decode every page; the connector also maps each user to an
//! `Account`. The mock runs in the same process, unthrottled, so the figures compare
//! client overhead, not OpsRamp's rate limit (50 pages a minute on a client tenant).

mod bench;

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use accesslink::{PageRequest, PageToken, Provisioner};
use accesslink_opsramp::{OpsRampClient, OpsRampConfig, OpsRampConnector};
use accesslink_testkit::opsramp::{OpsRampMock, RateLimits};
use secrecy::SecretString;

use bench::median;

const TASKS: usize = 32;
const PAGE: u32 = 500;
const ROUNDS: usize = 3;

/// Every page through the connector; the number of accounts read.
async fn connector(opsramp: Arc<OpsRampConnector>, pages: u32) -> usize {
    let next = Arc::new(AtomicU32::new(1));
    let count = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..TASKS {
        let (opsramp, next, count) = (opsramp.clone(), next.clone(), count.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let page = next.fetch_add(1, Ordering::Relaxed);
                if page > pages {
                    return;
                }
                // The connector's page token is `users:<pageNo>:<pageSize>` (see
                // `list_accounts`), so page ranges can be handed out directly.
                let token = PageToken::new(format!("users:{page}:{PAGE}"));
                let got = opsramp
                    .list_accounts(PageRequest::at(Some(token)))
                    .await
                    .expect("a page");
                count.fetch_add(got.items.len(), Ordering::Relaxed);
            }
        }));
    }
    for t in tasks {
        t.await.expect("task");
    }
    count.load(Ordering::Relaxed)
}

/// The same pages with reqwest: one token, then GETs decoded as `serde_json::Value`.
async fn plain(mock: &OpsRampMock, pages: u32) -> usize {
    let http = reqwest::Client::new();
    let token: serde_json::Value = http
        .post(format!("{}/auth/oauth/token", mock.url()))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", &mock.client_id()),
            ("client_secret", &mock.client_secret()),
        ])
        .send()
        .await
        .expect("token")
        .json()
        .await
        .expect("token body");
    let token = Arc::new(token["access_token"].as_str().expect("a token").to_owned());
    let url = Arc::new(format!(
        "{}/api/v2/tenants/{}/users/search",
        mock.url(),
        mock.tenant()
    ));
    let next = Arc::new(AtomicU32::new(1));
    let count = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..TASKS {
        let (http, token, url, next, count) = (
            http.clone(),
            token.clone(),
            url.clone(),
            next.clone(),
            count.clone(),
        );
        tasks.push(tokio::spawn(async move {
            loop {
                let page = next.fetch_add(1, Ordering::Relaxed);
                if page > pages {
                    return;
                }
                let body: serde_json::Value = http
                    .get(url.as_str())
                    .bearer_auth(token.as_str())
                    .query(&[
                        ("pageNo", page.to_string()),
                        ("pageSize", PAGE.to_string()),
                        ("sortName", "id".into()),
                        ("isDescendingOrder", "false".into()),
                    ])
                    .send()
                    .await
                    .expect("a page")
                    .json()
                    .await
                    .expect("a JSON page");
                let n = body["results"].as_array().map_or(0, Vec::len);
                count.fetch_add(n, Ordering::Relaxed);
            }
        }));
    }
    for t in tasks {
        t.await.expect("task");
    }
    count.load(Ordering::Relaxed)
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let mut args = std::env::args().skip(1);
    let users: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let ttl: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(7200);
    let mock = OpsRampMock::builder()
        .generated_users(users)
        .rate_limits(RateLimits::unlimited())
        .token_ttl(Duration::from_secs(ttl))
        .start()
        .await;
    let client = OpsRampClient::builder(mock.url())
        .tenant(mock.tenant())
        .client_credentials(mock.client_id(), SecretString::from(mock.client_secret()))
        // The mock is unthrottled: measure the client, not the documented limit.
        .rate_limit(None)
        .refresh_ahead(Duration::from_secs(1).min(Duration::from_secs(ttl) / 2))
        .build()
        .expect("client");
    let opsramp = Arc::new(OpsRampConnector::new(client, OpsRampConfig::new()));
    let pages = (users as u32).div_ceil(PAGE);
    println!(
        "OpsRamp import bench: {users} users, {pages} pages of {PAGE}, {TASKS} tasks, {ROUNDS} rounds each, token lifetime {ttl} s"
    );

    let (mut conn_times, mut plain_times) = (Vec::new(), Vec::new());
    let started = Instant::now();
    let plain_tokens_before = mock.token_requests();
    for round in 1..=ROUNDS {
        let t = Instant::now();
        let n = plain(&mock, pages).await;
        plain_times.push(t.elapsed());
        assert_eq!(n, users, "plain round {round}");
        let t = Instant::now();
        let n = connector(opsramp.clone(), pages).await;
        conn_times.push(t.elapsed());
        assert_eq!(n, users, "connector round {round}");
    }
    let elapsed = started.elapsed();
    let (c, p) = (median(conn_times.clone()), median(plain_times.clone()));
    let rate = |d: Duration| users as f64 / d.as_secs_f64();
    println!(
        "connector : median {:>8.1} ms  {:>9.0} users/s  (rounds: {:?})",
        c.as_secs_f64() * 1e3,
        rate(c),
        conn_times.iter().map(|d| d.as_millis()).collect::<Vec<_>>()
    );
    println!(
        "plain     : median {:>8.1} ms  {:>9.0} users/s  (rounds: {:?})",
        p.as_secs_f64() * 1e3,
        rate(p),
        plain_times
            .iter()
            .map(|d| d.as_millis())
            .collect::<Vec<_>>()
    );
    println!("ratio connector/plain throughput: {:.2}", rate(c) / rate(p));
    // The plain loop fetched one token per round; the rest are the connector's.
    let connector_tokens = mock.token_requests() - plain_tokens_before - ROUNDS;
    let lifetimes = (elapsed.as_secs_f64() / ttl as f64).ceil().max(1.0);
    println!(
        "token requests at the mock by the connector: {connector_tokens} over {:.1} s ({lifetimes} token lifetime(s) of {ttl} s); 401/407 answers: {}",
        elapsed.as_secs_f64(),
        mock.auth_rejections()
    );
    println!(
        "requests at the mock: {} users/search in all",
        mock.count("users/search")
    );
}
