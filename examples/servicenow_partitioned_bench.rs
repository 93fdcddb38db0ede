//! Benchmark: a latency-bound import. The ServiceNow mock answers every list call after
//! a fixed delay (a remote instance's latency); users are imported sequentially
//! (`paging::accounts`) and partitioned (`partition::accounts_partitioned`) with 8 and
//! 16 partitions, through one connector (one client, one rate limiter). Prints, per
//! mode: time, speed-up over sequential, list requests, rows and whether each arrived
//! exactly once, and the peak memory (`VmHWM`).
//!
//! ```sh
//! cargo run --release --example servicenow_partitioned_bench                 # 1,000,000 users, 200 ms
//! cargo run --release --example servicenow_partitioned_bench -- --users 100000 --delay-ms 50
//! cargo run --release --example servicenow_partitioned_bench -- --modes 1,8  # sequential and 8
//! ```
//!
//! Each mode runs in a fresh child process (the example runs itself with `--run`), so
//! every peak is that mode's own (the mock is in-process and counted too). Exactly once
//! is checked with a bitmap over the generated users' indexes (their `sys_id`s end in
//! the index), not a set of ids, so the check adds 125 KB per million users, not the
//! memory of the ids.

mod bench;

use std::process::Command;
use std::time::{Duration, Instant};

use accesslink::paging::{PagingOptions, accounts};
use accesslink::partition::{Partitions, accounts_partitioned};
use accesslink_servicenow::{ServiceNowClient, ServiceNowConfig, ServiceNowConnector};
use accesslink_testkit::servicenow::ServiceNowMock;
use futures::{Stream, TryStreamExt};
use secrecy::SecretString;

use bench::peak_memory_mib;

const PAGE: u32 = 1000;

struct Args {
    users: usize,
    delay_ms: u64,
    modes: Vec<u32>,
    run: Option<u32>,
}

fn args() -> Args {
    let mut a = Args {
        users: 1_000_000,
        delay_ms: 200,
        modes: vec![1, 8, 16],
        run: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().unwrap_or_default();
        match flag.as_str() {
            "--users" => a.users = value.parse().expect("--users N"),
            "--delay-ms" => a.delay_ms = value.parse().expect("--delay-ms MS"),
            "--modes" => {
                a.modes = value
                    .split(',')
                    .map(|m| m.trim().parse().expect("--modes 1,8,16"))
                    .collect();
            }
            "--run" => a.run = Some(value.parse().expect("--run PARTITIONS")),
            other => panic!("unknown flag {other}"),
        }
    }
    a
}

/// What one mode measured, printed by the child as one line for the parent.
struct Outcome {
    secs: f64,
    requests: usize,
    rows: u64,
    exactly_once: bool,
    peak_mib: f64,
}

/// Counts rows and checks each generated user arrives once.
async fn drain(
    stream: impl Stream<Item = accesslink::Result<accesslink::Account>>,
    prefix: &str,
    users: usize,
) -> (u64, bool) {
    let mut seen = vec![0u64; users.div_ceil(64)];
    let (mut rows, mut once) = (0u64, true);
    let mut stream = std::pin::pin!(stream);
    while let Some(a) = stream.try_next().await.expect("import") {
        rows += 1;
        let id = a.id.as_str();
        let index = id
            .strip_prefix(prefix)
            .and_then(|hex| usize::from_str_radix(hex, 16).ok())
            .filter(|&i| i < users);
        match index {
            Some(i) if seen[i / 64] & (1 << (i % 64)) == 0 => seen[i / 64] |= 1 << (i % 64),
            _ => once = false,
        }
    }
    let all = seen.iter().map(|w| u64::from(w.count_ones())).sum::<u64>() == users as u64;
    (rows, once && all)
}

async fn run(users: usize, delay: Duration, partitions: u32) -> Outcome {
    let mock = ServiceNowMock::builder()
        .synthetic_users(users)
        .page_delay(delay)
        .start()
        .await;
    // Generated sys_ids are a fixed prefix and the index in 16 hex digits.
    let first = mock.synthetic_user_id(0).expect("generated users");
    let prefix = first[..first.len() - 16].to_owned();
    let client = ServiceNowClient::builder(mock.url())
        .basic(mock.user(), SecretString::from(mock.password()))
        .build()
        .expect("client");
    let sn = ServiceNowConnector::new(client, ServiceNowConfig::new().page_size(PAGE))
        .expect("connector");
    mock.clear_requests();
    let options = PagingOptions::new().page_size(PAGE);
    let t = Instant::now();
    let (rows, exactly_once) = if partitions <= 1 {
        // The default options, as an embedder would drain a listing.
        drain(accounts(&sn, options), &prefix, users).await
    } else {
        drain(
            accounts_partitioned(&sn, Partitions::new(partitions), options),
            &prefix,
            users,
        )
        .await
    };
    let secs = t.elapsed().as_secs_f64();
    Outcome {
        secs,
        requests: mock.count("GET", "/api/now/table/sys_user"),
        rows,
        exactly_once,
        peak_mib: peak_memory_mib(),
    }
}

#[tokio::main]
async fn main() {
    let a = args();
    let delay = Duration::from_millis(a.delay_ms);
    if let Some(partitions) = a.run {
        let o = run(a.users, delay, partitions).await;
        println!(
            "RESULT {} {} {} {} {}",
            o.secs, o.requests, o.rows, o.exactly_once, o.peak_mib
        );
        return;
    }
    println!(
        "{} users, {} ms per list call, pages of {PAGE}; each mode in its own process",
        a.users, a.delay_ms
    );
    println!(
        "{:<14} {:>9} {:>9} {:>9} {:>10} {:>13} {:>10}",
        "mode", "seconds", "speed-up", "requests", "rows", "exactly once", "peak MiB"
    );
    let exe = std::env::current_exe().expect("own path");
    let mut base = None;
    for &mode in &a.modes {
        let out = Command::new(&exe)
            .args(["--users", &a.users.to_string()])
            .args(["--delay-ms", &a.delay_ms.to_string()])
            .args(["--run", &mode.to_string()])
            .output()
            .expect("child run");
        let text = String::from_utf8_lossy(&out.stdout);
        let Some(line) = text.lines().find(|l| l.starts_with("RESULT ")) else {
            panic!(
                "mode {mode} failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        let f: Vec<&str> = line.split_whitespace().skip(1).collect();
        let secs: f64 = f[0].parse().expect("seconds");
        let base_secs = *base.get_or_insert(secs);
        let name = if mode <= 1 {
            "sequential".to_owned()
        } else {
            format!("{mode} partitions")
        };
        println!(
            "{name:<14} {secs:>9.1} {:>8.2}x {:>9} {:>10} {:>13} {:>10.1}",
            base_secs / secs,
            f[1],
            f[2],
            f[3],
            f[4].parse::<f64>().unwrap_or(f64::NAN)
        );
    }
}
