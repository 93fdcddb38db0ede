//! The coordinator: hosts the source, plans and enqueues the partitions, supervises the
//! worker processes, and checks the sink when every partition is done.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use accesslink_core::partition::{self, Listing};
use accesslink_servicenow::{ServiceNowClient, ServiceNowConfig, ServiceNowConnector};
use accesslink_testkit::servicenow::ServiceNowMock;
use apalis::prelude::TaskSink;
use apalis_redis::{ConnectionManager, RedisStorage};
use redis::AsyncCommands;
use secrecy::SecretString;
use tokio::process::{Child, Command};

use crate::{BoxError, Keys, Liveness, PAGE_SIZE, PASSWORD_ENV, PartitionJob, Summary};

/// One run of the example.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The Redis server.
    pub redis_url: String,
    /// Users the ServiceNow mock generates.
    pub users: usize,
    /// Partitions to plan.
    pub partitions: u32,
    /// Worker processes.
    pub workers: usize,
    /// The mock's delay per list call.
    pub page_delay: Duration,
    /// Kill one worker mid-partition (and start a replacement).
    pub kill_one: bool,
    /// The executable whose `worker` subcommand is a worker (this example's binary).
    pub worker_exe: PathBuf,
    /// Heartbeats of the workers.
    pub liveness: Liveness,
    /// Give up (an error) when the run takes longer.
    pub timeout: Duration,
    /// Let the workers' logs through to this process's standard error.
    pub worker_logs: bool,
    /// Leave the run's keys in Redis afterwards (default: deleted).
    pub keep_keys: bool,
}

impl RunOptions {
    /// A run of `users` users in `partitions` partitions by `workers` workers, 100 ms
    /// per page, nobody killed.
    pub fn new(redis_url: &str, worker_exe: impl Into<PathBuf>) -> Self {
        RunOptions {
            redis_url: redis_url.to_owned(),
            users: 100_000,
            partitions: 8,
            workers: 4,
            page_delay: Duration::from_millis(100),
            kill_one: false,
            worker_exe: worker_exe.into(),
            liveness: Liveness::default(),
            timeout: Duration::from_secs(600),
            worker_logs: false,
            keep_keys: false,
        }
    }
}

struct Workers<'a> {
    options: &'a RunOptions,
    run: String,
    url: String,
    user: String,
    password: String,
    children: HashMap<String, Child>,
    started: usize,
}

impl Workers<'_> {
    fn spawn(&mut self) -> Result<String, BoxError> {
        self.started += 1;
        let name = format!("{}-w{}", self.run, self.started);
        let child = Command::new(&self.options.worker_exe)
            .arg("worker")
            .arg("--redis")
            .arg(&self.options.redis_url)
            .arg("--run")
            .arg(&self.run)
            .arg("--name")
            .arg(&name)
            .arg("--servicenow-url")
            .arg(&self.url)
            .arg("--user")
            .arg(&self.user)
            .arg("--heartbeat-ms")
            .arg(self.options.liveness.heartbeat.as_millis().to_string())
            .arg("--missed-heartbeats")
            .arg(self.options.liveness.missed.to_string())
            .env(PASSWORD_ENV, &self.password)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(if self.options.worker_logs {
                Stdio::inherit()
            } else {
                Stdio::null()
            })
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| {
                format!(
                    "cannot start worker {}: {e}",
                    self.options.worker_exe.display()
                )
            })?;
        self.children.insert(name.clone(), child);
        Ok(name)
    }

    /// `SIGKILL`: the worker gets no chance to finish its page or say goodbye.
    async fn kill(&mut self, name: &str) -> Result<bool, BoxError> {
        let Some(mut child) = self.children.remove(name) else {
            return Ok(false);
        };
        child.start_kill()?;
        child.wait().await?;
        Ok(true)
    }

    /// Waits for every worker to stop by itself, killing those still running after
    /// `grace`.
    async fn stop(&mut self, grace: Duration) {
        let deadline = Instant::now() + grace;
        for (_, mut child) in self.children.drain() {
            let left = deadline.saturating_duration_since(Instant::now());
            if tokio::time::timeout(left, child.wait()).await.is_err() {
                let _ = child.start_kill();
                let _ = child.wait().await;
            }
        }
    }

    /// A worker that exited by itself before the run was over.
    fn exited(&mut self) -> Option<(String, std::process::ExitStatus)> {
        self.children
            .iter_mut()
            .find_map(|(name, child)| match child.try_wait() {
                Ok(Some(status)) => Some((name.clone(), status)),
                _ => None,
            })
    }
}

/// Runs the example once and returns what it measured and found.
pub async fn run(options: &RunOptions) -> Result<Summary, BoxError> {
    let mock = ServiceNowMock::builder()
        .synthetic_users(options.users)
        .page_delay(options.page_delay)
        .start()
        .await;
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH)?.as_nanos();
    let run = format!("{}-{nanos:x}", std::process::id());
    let keys = Keys::new(&run);
    let mut conn = apalis_redis::connect(options.redis_url.as_str())
        .await
        .map_err(|e| format!("cannot reach Redis at {}: {e}", options.redis_url))?;

    // The plan, asked of the source by the coordinator's own connector.
    let client = ServiceNowClient::builder(mock.url())
        .basic(mock.user(), SecretString::from(mock.password()))
        .build()?;
    let connector = ServiceNowConnector::new(client, ServiceNowConfig::new().page_size(PAGE_SIZE))?;
    let plan = partition::plan(&connector, &Listing::Accounts, options.partitions).await?;
    let planned = plan.partitions.len() as u32;

    let config = apalis_redis::Config::default().queue(keys.queue());
    let mut queue = RedisStorage::<PartitionJob>::new(conn.clone()).with_config(config);
    mock.clear_requests();
    let started = Instant::now();
    for partition in plan.partitions {
        queue
            .push(PartitionJob {
                run: run.clone(),
                partition,
            })
            .await?;
    }

    let mut workers = Workers {
        options,
        run: run.clone(),
        url: mock.url(),
        user: mock.user().to_owned(),
        password: mock.password().to_owned(),
        children: HashMap::new(),
        started: 0,
    };
    for _ in 0..options.workers.max(1) {
        workers.spawn()?;
    }

    let outcome = supervise(options, &keys, &mut conn, &mut workers, planned).await;
    let seconds = started.elapsed().as_secs_f64();
    let () = conn.set(keys.finished(), 1).await?;
    workers.stop(Duration::from_secs(10)).await;
    let (killed, killed_in) = match outcome {
        Ok(k) => k,
        Err(e) => {
            cleanup(options, &keys, &mut conn).await;
            return Err(e);
        }
    };

    let summary = check(
        &mock, &keys, &mut conn, options, planned, seconds, killed, killed_in,
    )
    .await;
    cleanup(options, &keys, &mut conn).await;
    summary
}

/// Waits for every partition to be done; kills one worker mid-partition if asked.
/// Returns how many were killed, and where.
async fn supervise(
    options: &RunOptions,
    keys: &Keys,
    conn: &mut ConnectionManager,
    workers: &mut Workers<'_>,
    planned: u32,
) -> Result<(usize, Option<(u32, u64)>), BoxError> {
    let started = Instant::now();
    let mut killed = 0;
    let mut killed_in = None;
    loop {
        let done: HashSet<u32> = conn.smembers(keys.done()).await?;
        if done.len() as u32 >= planned {
            return Ok((killed, killed_in));
        }
        let failed: HashMap<u32, String> = conn.hgetall(keys.failed()).await?;
        if let Some((index, error)) = failed.into_iter().next() {
            return Err(format!("partition {index} failed: {error}").into());
        }
        if let Some((name, status)) = workers.exited() {
            return Err(format!("worker {name} exited before the run was over ({status})").into());
        }
        if started.elapsed() > options.timeout {
            return Err(format!(
                "{} of {planned} partitions done after {:?}",
                done.len(),
                options.timeout
            )
            .into());
        }
        if options.kill_one && killed == 0 {
            for index in (0..planned).filter(|i| !done.contains(i)) {
                let pages: Option<u64> = conn.hget(keys.stats(), format!("pages:{index}")).await?;
                let lease: Option<String> = conn.get(keys.lease(index)).await?;
                let (Some(pages @ 1..), Some(lease)) = (pages, lease) else {
                    continue;
                };
                let owner = lease.rsplit_once('/').map_or(lease.as_str(), |(w, _)| w);
                if workers.kill(owner).await? {
                    tracing::info!(
                        worker = owner,
                        partition = index,
                        pages,
                        "killed mid-partition"
                    );
                    killed += 1;
                    killed_in = Some((index, pages));
                    workers.spawn()?;
                    break;
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[allow(clippy::too_many_arguments)]
async fn check(
    mock: &ServiceNowMock,
    keys: &Keys,
    conn: &mut ConnectionManager,
    options: &RunOptions,
    planned: u32,
    seconds: f64,
    killed: usize,
    killed_in: Option<(u32, u64)>,
) -> Result<Summary, BoxError> {
    let users = mock.table_len("sys_user") as u64;
    let expected: HashSet<String> = (0..options.users)
        .filter_map(|i| mock.synthetic_user_id(i))
        .collect();
    let rows: HashSet<String> = conn.hkeys(keys.rows()).await?;
    let deliveries: HashMap<String, u64> = conn.hgetall(keys.deliveries()).await?;
    let stats: HashMap<String, u64> = conn.hgetall(keys.stats()).await?;
    let stat = |k: &str| stats.get(k).copied().unwrap_or(0);
    Ok(Summary {
        run: keys.run().to_owned(),
        users,
        partitions: planned,
        workers: options.workers.max(1),
        killed,
        killed_in,
        seconds,
        rows: rows.len() as u64,
        delivered_twice: deliveries.values().filter(|&&n| n > 1).count() as u64,
        missing: expected.difference(&rows).count() as u64,
        unexpected: rows.difference(&expected).count() as u64,
        pages_committed: stat("pages"),
        list_requests: mock.count("GET", "/api/now/table/sys_user") as u64,
        starts: stat("starts"),
        resumes: stat("resumes"),
        fenced: stat("fenced"),
    })
}

/// Deletes the run's keys (its sink, counters and the apalis queue's keys).
async fn cleanup(options: &RunOptions, keys: &Keys, conn: &mut ConnectionManager) {
    if options.keep_keys {
        return;
    }
    let found: Result<Vec<String>, _> = conn.keys(keys.pattern()).await;
    if let Ok(found) = found
        && !found.is_empty()
    {
        let _: Result<(), _> = conn.del(found).await;
    }
}
