//! The job-engine example against a real Redis: several worker processes import one
//! tenant's partitions from the apalis queue; one is killed mid-partition; every row
//! still lands exactly once.
//!
//! Redis: `ACCESSLINK_REDIS_URL` (`.ci/run` starts one), or else a private
//! `redis-server` this test starts when one is on `PATH`. Without either the tests say
//! so and pass, unless `ACCESSLINK_REQUIRE_LIVE=1`, which CI sets: then they fail.

use std::collections::HashMap;
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use accesslink_core::PageToken;
use accesslink_core::partition::{KeyRange, Listing, Partition};
use accesslink_job_engine_example::coordinator::{self, RunOptions};
use accesslink_job_engine_example::worker::commit_page;
use accesslink_job_engine_example::{Keys, Summary};
use redis::AsyncCommands;

/// A Redis to test against; stops the private server when dropped.
struct Redis {
    url: String,
    child: Option<Child>,
}

impl Drop for Redis {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn redis() -> Option<Redis> {
    if let Ok(url) = std::env::var("ACCESSLINK_REDIS_URL") {
        return Some(Redis { url, child: None });
    }
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port");
    let started = Command::new("redis-server")
        .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
        .args(["--save", "", "--appendonly", "no"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    match started {
        Ok(child) => {
            let redis = Redis {
                url: format!("redis://127.0.0.1:{port}/"),
                child: Some(child),
            };
            for _ in 0..100 {
                if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return Some(redis);
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            panic!("redis-server did not start on port {port}");
        }
        Err(e) => {
            assert!(
                std::env::var("ACCESSLINK_REQUIRE_LIVE").as_deref() != Ok("1"),
                "ACCESSLINK_REQUIRE_LIVE=1 but there is no Redis: set ACCESSLINK_REDIS_URL or install redis-server ({e})"
            );
            eprintln!("skipped: no ACCESSLINK_REDIS_URL and no redis-server on PATH ({e})");
            None
        }
    }
}

fn options(redis: &Redis) -> RunOptions {
    let mut o = RunOptions::new(&redis.url, env!("CARGO_BIN_EXE_job-engine"));
    o.users = 24_000;
    o.partitions = 4;
    o.workers = 2;
    o.page_delay = Duration::from_millis(80);
    o.timeout = Duration::from_secs(120);
    o.keep_keys = true;
    o
}

async fn connection(redis: &Redis) -> redis::aio::ConnectionManager {
    accesslink_job_engine_example::connect(&redis.url)
        .await
        .expect("redis")
}

/// Reads the sink back from Redis, independently of the coordinator's own check, then
/// deletes the run's keys.
async fn sink(redis: &Redis, summary: &Summary) -> HashMap<String, u64> {
    let mut conn = connection(redis).await;
    let keys = Keys::new(&summary.run);
    let deliveries: HashMap<String, u64> = conn.hgetall(keys.deliveries()).await.expect("hgetall");
    let rows: u64 = conn.hlen(keys.rows()).await.expect("hlen");
    assert_eq!(
        rows,
        deliveries.len() as u64,
        "every row has a delivery count"
    );
    let found: Vec<String> = conn.keys(keys.pattern()).await.expect("keys");
    let _: () = conn.del(found).await.expect("del");
    deliveries
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_mid_partition_leaves_every_row_exactly_once() {
    let Some(redis) = redis() else { return };
    let mut o = options(&redis);
    o.workers = 3;
    o.kill_one = true;
    o.requests = 40;
    o.redeliver = 10;
    let summary = coordinator::run(&o).await.expect("run");
    let deliveries = sink(&redis, &summary).await;

    assert_eq!(summary.killed, 1, "{summary:?}");
    let (partition, pages) = summary.killed_in.expect("where the kill landed");
    assert!(partition < summary.partitions && pages >= 1, "{summary:?}");
    // The killed worker's partition was taken again and resumed from its checkpoint.
    assert!(summary.resumes >= 1, "{summary:?}");
    assert!(
        summary.starts > u64::from(summary.partitions),
        "{summary:?}"
    );

    // Read back from Redis: 24,000 distinct ids, each delivered by exactly one commit.
    assert_eq!(deliveries.len(), 24_000);
    let twice: Vec<_> = deliveries.iter().filter(|(_, n)| **n != 1).collect();
    assert!(
        twice.is_empty(),
        "delivered more than once: {:?}",
        &twice[..twice.len().min(5)]
    );
    assert!(summary.exactly_once(), "{summary:?}");
    // Each partition commits each of its pages once: 24,000 rows in pages of 1,000 is
    // 24 pages, one more per partition whose cut is not on a page boundary. The page
    // the killed worker was reading was asked again by its successor, so the source
    // saw more list calls than commits.
    let parts = u64::from(summary.partitions);
    assert!(
        (24..24 + parts).contains(&summary.pages_committed),
        "{summary:?}"
    );
    assert!(
        summary.list_requests > summary.pages_committed,
        "{summary:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_kill_each_partition_runs_once() {
    let Some(redis) = redis() else { return };
    let summary = coordinator::run(&options(&redis)).await.expect("run");
    let deliveries = sink(&redis, &summary).await;

    assert!(summary.exactly_once(), "{summary:?}");
    assert_eq!(deliveries.len(), 24_000);
    assert!(deliveries.values().all(|n| *n == 1));
    // Each partition started once, unless the machine stalled a worker long enough for
    // the others to declare it dead (then it was restarted and its job taken again).
    if summary.restarts == 0 {
        assert_eq!(summary.starts, u64::from(summary.partitions), "{summary:?}");
        assert_eq!((summary.resumes, summary.fenced), (0, 0), "{summary:?}");
    }
    assert_eq!((summary.requests, summary.fulfil_runs), (0, 0));
}

#[tokio::test]
async fn a_commit_under_a_lost_lease_writes_nothing() {
    let Some(redis) = redis() else { return };
    let mut conn = connection(&redis).await;
    let keys = Keys::new(&format!("fence-{}", std::process::id()));
    let mut partition = Partition::plan(&Listing::Accounts, vec![KeyRange::All])
        .pop()
        .expect("one partition");
    partition.token = Some(PageToken::new("next"));
    let page = vec![("u1".to_owned(), "alice".to_owned())];

    // Worker a took the partition first; worker b took it over since.
    let _: () = conn.set(keys.lease(0), "b/2").await.expect("set");
    let stale = commit_page(&mut conn, &keys, "a/1", &partition, &page)
        .await
        .expect("commit");
    assert!(!stale, "a commit under a lost lease must be refused");
    let rows: u64 = conn.hlen(keys.rows()).await.expect("hlen");
    let checkpoint: Option<String> = conn.get(keys.checkpoint(0)).await.expect("get");
    let fenced: Option<u64> = conn.hget(keys.stats(), "fenced").await.expect("hget");
    assert_eq!((rows, checkpoint, fenced), (0, None, Some(1)));

    // The current lease commits the rows and the checkpoint together.
    let current = commit_page(&mut conn, &keys, "b/2", &partition, &page)
        .await
        .expect("commit");
    assert!(current);
    let login: Option<String> = conn.hget(keys.rows(), "u1").await.expect("hget");
    let stored: String = conn.get(keys.checkpoint(0)).await.expect("get");
    let stored: Partition = serde_json::from_str(&stored).expect("checkpoint JSON");
    assert_eq!(login.as_deref(), Some("alice"));
    assert_eq!(stored.token, Some(PageToken::new("next")));
    assert!(!stored.done);

    let found: Vec<String> = conn.keys(keys.pattern()).await.expect("keys");
    let _: () = conn.del(found).await.expect("del");
}
