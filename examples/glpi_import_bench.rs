//! Benchmark: import every GLPI user through the connector (`paging::accounts` over
//! `GlpiConnector`) and through a plain reqwest loop sending the same search pages, in
//! the same run. Prints throughput, the ratio and the process's peak memory.
//!
//! ```sh
//! cargo run --release --example glpi_import_bench                 # the mock, 100,000 users
//! eval "$(bash ../shared/glpi/start.sh | sed 's/^/export /')"
//! cargo run --release --example glpi_import_bench                 # a real GLPI, all users
//! cargo run --release --example glpi_import_bench -- plain        # one side only (for memory)
//! ```
//!
//! Peak memory is the process's `VmHWM` (the mock, when used, is in the same process),
//! so run one side at a time to compare memory.

mod bench;

use std::time::Instant;

use accesslink::paging::{PagingOptions, accounts};
use accesslink_glpi::api::{Criterion, SearchQuery, SearchType, row_u64};
use accesslink_glpi::{GlpiClient, GlpiConfig, GlpiConnector};
use accesslink_testkit::glpi::GlpiMock;
use futures::TryStreamExt;
use secrecy::{ExposeSecret, SecretString};

use bench::{median, peak_memory_mib};

const PAGE: u64 = 1000;
/// The columns the connector asks for: id, login, family name, first name, email, active.
const COLUMNS: [u32; 6] = [2, 1, 34, 9, 5, 8];

struct Target {
    base: String,
    app_token: SecretString,
    user_token: SecretString,
}

async fn connector(t: &Target) -> usize {
    let client = GlpiClient::builder(t.base.clone())
        .app_token(t.app_token.clone())
        .user_token(t.user_token.clone())
        .build()
        .expect("client");
    let glpi = GlpiConnector::new(client, GlpiConfig::new().page_size(PAGE as u32));
    let mut stream = accounts(&glpi, PagingOptions::new().page_size(PAGE as u32));
    let mut n = 0;
    while stream.try_next().await.expect("import").is_some() {
        n += 1;
    }
    glpi.close().await.ok();
    n
}

async fn plain(t: &Target) -> usize {
    let http = reqwest::Client::new();
    let app = t.app_token.expose_secret();
    let session: serde_json::Value = http
        .get(format!("{}/initSession", t.base))
        .header("App-Token", app)
        .header(
            "Authorization",
            format!("user_token {}", t.user_token.expose_secret()),
        )
        .send()
        .await
        .expect("initSession")
        .json()
        .await
        .expect("session json");
    let token = session["session_token"]
        .as_str()
        .expect("session_token")
        .to_owned();
    let (mut last, mut n) = (0u64, 0usize);
    loop {
        let query = SearchQuery::new(PAGE)
            .criterion(Criterion::new(2, SearchType::Contains, format!(">{last}")))
            .display(COLUMNS)
            .sort(2);
        let body: serde_json::Value = http
            .get(format!("{}/search/User", t.base))
            .query(&query.pairs())
            .header("App-Token", app)
            .header("Session-Token", &token)
            .send()
            .await
            .expect("search")
            .json()
            .await
            .expect("search json");
        let rows = body["data"].as_array().cloned().unwrap_or_default();
        let total = body["totalcount"].as_u64().unwrap_or(0);
        for row in &rows {
            if let Some(id) = row.as_object().and_then(|r| row_u64(r, 2)) {
                last = last.max(id);
                n += 1;
            }
        }
        if rows.is_empty() || rows.len() as u64 >= total {
            break;
        }
    }
    let _ = http
        .get(format!("{}/killSession", t.base))
        .header("App-Token", app)
        .header("Session-Token", &token)
        .send()
        .await;
    n
}

#[tokio::main]
async fn main() {
    let only = std::env::args().nth(1);
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let mock;
    let (target, label) = match (
        var("GLPI_BASE_URL"),
        var("GLPI_APP_TOKEN"),
        var("GLPI_USER_TOKEN"),
    ) {
        (Some(base), Some(app), Some(user)) => (
            Target {
                base,
                app_token: SecretString::from(app),
                user_token: SecretString::from(user),
            },
            "a real GLPI",
        ),
        _ => {
            mock = GlpiMock::builder().generated_users(100_000).start().await;
            (
                Target {
                    base: mock.base_url(),
                    app_token: SecretString::from(mock.app_token()),
                    user_token: SecretString::from(mock.user_token()),
                },
                "the in-process GLPI mock (100,000 generated users)",
            )
        }
    };
    let rounds = 3;
    let (mut tc, mut tp) = (Vec::new(), Vec::new());
    let mut counts = (0, 0);
    for _ in 0..rounds {
        if only.as_deref() != Some("plain") {
            let t = Instant::now();
            counts.0 = connector(&target).await;
            tc.push(t.elapsed());
        }
        if only.as_deref() != Some("connector") {
            let t = Instant::now();
            counts.1 = plain(&target).await;
            tp.push(t.elapsed());
        }
    }
    println!("server:             {label}");
    println!("pages of:           {PAGE}");
    if !tc.is_empty() {
        let c = median(tc);
        println!(
            "connector:          {:>7} users, {:>9.0} users/s ({c:.2?})",
            counts.0,
            counts.0 as f64 / c.as_secs_f64()
        );
    }
    if !tp.is_empty() {
        let p = median(tp);
        println!(
            "plain reqwest:      {:>7} users, {:>9.0} users/s ({p:.2?})",
            counts.1,
            counts.1 as f64 / p.as_secs_f64()
        );
    }
    println!("peak memory (VmHWM): {:.1} MiB", peak_memory_mib());
}
