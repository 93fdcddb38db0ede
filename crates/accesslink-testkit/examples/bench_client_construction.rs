//! Benchmark: construct 1,000 HTTP clients, as an IAM product running a thousand tenant
//! connectors does, with core's process-wide TLS configuration (the platform's root
//! certificates parsed once) and, for comparison, with a TLS configuration built per
//! client as plain reqwest does it (the roots parsed again each time). Same run, same
//! machine; prints the time per client of both and the ratio.
//!
//! ```sh
//! cargo run --release -p accesslink-testkit --example bench_client_construction          # 1,000 clients
//! cargo run --release -p accesslink-testkit --example bench_client_construction -- 200   # clients
//! ```

use std::time::Instant;

use accesslink_core::http::HttpClient;

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let _guard = runtime.enter();

    // Per client: what every client cost before core shared its TLS configuration.
    let start = Instant::now();
    for _ in 0..n {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("plain reqwest client");
        std::hint::black_box(client);
    }
    let per_client = start.elapsed();

    // Shared: the first client builds the configuration, every later one clones it.
    let start = Instant::now();
    for i in 0..n {
        let client = HttpClient::builder("bench", format!("https://tenant-{i}.example.invalid/"))
            .build()
            .expect("accesslink client");
        std::hint::black_box(client);
    }
    let shared = start.elapsed();

    let ms = |d: std::time::Duration| d.as_secs_f64() * 1_000.0;
    println!("{n} clients");
    println!(
        "  TLS configuration per client (plain reqwest): {:>9.1} ms total, {:>7.3} ms per client",
        ms(per_client),
        ms(per_client) / n as f64
    );
    println!(
        "  shared TLS configuration (accesslink core):   {:>9.1} ms total, {:>7.3} ms per client",
        ms(shared),
        ms(shared) / n as f64
    );
    println!(
        "  speed-up: {:.1}x",
        per_client.as_secs_f64() / shared.as_secs_f64().max(f64::EPSILON)
    );
}
