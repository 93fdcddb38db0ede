//! The coordinator: hosts the source, plans and enqueues the partitions, supervises the
//! worker processes, and checks the sink when every partition is done.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use accesslink_core::partition::{self, Listing};
use accesslink_core::{EntitlementRef, EntitlementType, Person};
use accesslink_servicenow::{ServiceNowClient, ServiceNowConfig, ServiceNowConnector};
use accesslink_testkit::servicenow::ServiceNowMock;
use accesslink_workflow::fulfil::{AccessRequest, Operation};
use apalis::prelude::TaskSink;
use apalis_redis::{ConnectionManager, RedisStorage};
use redis::AsyncCommands;
use secrecy::SecretString;
use tokio::process::{Child, Command};

use serde_json::json;

use crate::{BoxError, FulfilJob, Keys, Liveness, PAGE_SIZE, PASSWORD_ENV, PartitionJob, Summary};

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
    /// Access requests to fulfil alongside the import (each grants one generated user
    /// one of four groups; at most `users`).
    pub requests: usize,
    /// Of those, how many are pushed a second time (an at-least-once delivery).
    pub redeliver: usize,
}

impl RunOptions {
    /// The defaults: 100,000 users in 8 partitions by 4 workers, 100 ms per list call,
    /// nobody killed, no access requests, 10 minutes at most.
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
            requests: 0,
            redeliver: 0,
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
                Stdio::from(std::fs::File::create(self.log(&name))?)
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

    /// Where a worker's log goes (unless [`RunOptions::worker_logs`]); removed at the end
    /// of a run that succeeded.
    fn log(&self, name: &str) -> PathBuf {
        std::env::temp_dir().join(format!("accesslink-job-engine-{name}.log"))
    }

    /// The last lines of a worker's log.
    fn tail(&self, name: &str) -> String {
        let text = std::fs::read_to_string(self.log(name)).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(5)..].join("\n")
    }

    fn remove_logs(&self) {
        for i in 1..=self.started {
            let _ = std::fs::remove_file(self.log(&format!("{}-w{i}", self.run)));
        }
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
    let mut conn = crate::connect(&options.redis_url).await?;

    // The plan, asked of the source by the coordinator's own connector.
    let client = ServiceNowClient::builder(mock.url())
        .basic(mock.user(), SecretString::from(mock.password()))
        .build()?;
    let connector = ServiceNowConnector::new(client, ServiceNowConfig::new().page_size(PAGE_SIZE))?;
    let plan = partition::plan(&connector, &Listing::Accounts, options.partitions).await?;
    let planned = plan.partitions.len() as u32;

    let requests = access_requests(&mock, &run, options.requests.min(options.users));
    let redeliver = options.redeliver.min(requests.len());

    let config = apalis_redis::Config::default().queue(keys.queue());
    let mut queue = RedisStorage::<PartitionJob>::new(conn.clone()).with_config(config);
    let config = apalis_redis::Config::default().queue(keys.requests_queue());
    let mut request_queue = RedisStorage::<FulfilJob>::new(conn.clone()).with_config(config);
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
    for request in requests.iter().chain(&requests[..redeliver]) {
        request_queue
            .push(FulfilJob {
                run: run.clone(),
                request: request.clone(),
            })
            .await?;
    }
    let jobs = Jobs {
        partitions: planned,
        requests: requests.len() as u64,
        request_runs: (requests.len() + redeliver) as u64,
    };

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

    let outcome = supervise(options, &keys, &mut conn, &mut workers, &jobs).await;
    let seconds = started.elapsed().as_secs_f64();
    let () = conn.set(keys.finished(), 1).await?;
    workers.stop(Duration::from_secs(10)).await;
    let (killed, killed_in, restarts) = match outcome {
        Ok(k) => k,
        Err(e) => {
            cleanup(options, &keys, &mut conn).await;
            return Err(e);
        }
    };
    workers.remove_logs();

    let summary = check(
        &mock,
        &keys,
        &mut conn,
        options,
        &requests,
        redeliver,
        planned,
        seconds,
        (killed, killed_in, restarts),
    )
    .await;
    cleanup(options, &keys, &mut conn).await;
    summary
}

/// Workers restarted before the run gives up.
const MAX_RESTARTS: usize = 10;

/// What the run pushed.
struct Jobs {
    partitions: u32,
    requests: u64,
    /// Request jobs pushed, redeliveries included.
    request_runs: u64,
}

/// Waits for every partition to be done and every request job to have run; kills one
/// worker mid-partition if asked; restarts workers that stop by themselves. Returns
/// how many were killed, where, and how many restarted.
async fn supervise(
    options: &RunOptions,
    keys: &Keys,
    conn: &mut ConnectionManager,
    workers: &mut Workers<'_>,
    jobs: &Jobs,
) -> Result<(usize, Option<(u32, u64)>, usize), BoxError> {
    let planned = jobs.partitions;
    let started = Instant::now();
    let mut restarts = 0;
    let mut killed = 0;
    let mut killed_in = None;
    loop {
        let done: HashSet<u32> = conn.smembers(keys.done()).await?;
        let fulfilled: u64 = conn.scard(keys.fulfilled()).await?;
        let runs: HashMap<String, u64> = conn.hgetall(keys.fulfil_runs()).await?;
        if done.len() as u32 >= planned
            && fulfilled >= jobs.requests
            && runs.values().sum::<u64>() >= jobs.request_runs
        {
            return Ok((killed, killed_in, restarts));
        }
        let failed: HashMap<String, String> = conn.hgetall(keys.failed()).await?;
        if let Some((job, error)) = failed.into_iter().next() {
            return Err(format!("{job} failed: {error}").into());
        }
        if let Some((name, status)) = workers.exited() {
            let tail = workers.tail(&name);
            workers.children.remove(&name);
            if restarts >= MAX_RESTARTS {
                return Err(format!(
                    "worker {name} exited before the run was over ({status}), after {restarts} restarts; its log ends:\n{tail}"
                )
                .into());
            }
            // As a supervisor would: a worker that another declared dead (it missed its
            // heartbeats) has been stopped by apalis; its jobs are back on the queue.
            tracing::warn!(worker = %name, %status, "worker stopped; starting another\n{tail}");
            restarts += 1;
            workers.spawn()?;
        }
        if started.elapsed() > options.timeout {
            return Err(format!(
                "{} of {planned} partitions done and {fulfilled} of {} requests fulfilled after {:?}",
                done.len(),
                jobs.requests,
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

/// Access requests over generated users: user `i` asks for group `app-<i mod 4>` for
/// themselves.
fn access_requests(mock: &ServiceNowMock, run: &str, n: usize) -> Vec<AccessRequest> {
    if n == 0 {
        return Vec::new();
    }
    let groups: Vec<String> = (0..4)
        .map(|k| mock.insert("sys_user_group", json!({ "name": format!("app-{k}") })))
        .collect();
    (0..n)
        .filter_map(|i| {
            let user = mock.synthetic_user_id(i)?;
            let login = mock.row("sys_user", &user)?["user_name"]
                .as_str()?
                .to_owned();
            Some(
                AccessRequest::new(
                    format!("{run}-REQ-{i}"),
                    Operation::Grant,
                    "app",
                    Person::login(login.clone()),
                )
                // Self-service: the user asks for their own access.
                .requester(Person::login(login))
                .account(user)
                .entitlement(EntitlementRef::new(
                    EntitlementType::group(),
                    groups[i % groups.len()].clone(),
                ))
                .justification("granted by the job-engine example"),
            )
        })
        .collect()
}

#[allow(clippy::too_many_arguments)]
async fn check(
    mock: &ServiceNowMock,
    keys: &Keys,
    conn: &mut ConnectionManager,
    options: &RunOptions,
    requests: &[AccessRequest],
    redeliver: usize,
    planned: u32,
    seconds: f64,
    (killed, killed_in, restarts): (usize, Option<(u32, u64)>, usize),
) -> Result<Summary, BoxError> {
    let users = mock.table_len("sys_user") as u64;
    let expected: HashSet<String> = (0..options.users)
        .filter_map(|i| mock.synthetic_user_id(i))
        .collect();
    let rows: HashSet<String> = conn.hkeys(keys.rows()).await?;
    let deliveries: HashMap<String, u64> = conn.hgetall(keys.deliveries()).await?;
    let stats: HashMap<String, u64> = conn.hgetall(keys.stats()).await?;
    let stat = |k: &str| stats.get(k).copied().unwrap_or(0);
    let fulfil_runs: HashMap<String, u64> = conn.hgetall(keys.fulfil_runs()).await?;
    let fulfilled: u64 = conn.scard(keys.fulfilled()).await?;

    // What ServiceNow holds for each request: its items, and the membership it asked for.
    let (mut tickets, mut tickets_closed, mut grants) = (0, 0, 0);
    for r in requests {
        let items = mock.find("sc_req_item", "correlation_id", r.id.as_str());
        tickets += items.len() as u64;
        tickets_closed += items.iter().filter(|i| i["state"] == "3").count() as u64;
        if let (Some(user), Some(group)) = (&r.account, &r.entitlement) {
            grants += mock
                .find("sys_user_grmember", "user", user.as_str())
                .iter()
                .filter(|m| m["group"] == group.id.as_str())
                .count() as u64;
        }
    }
    // The import's list calls (pages of PAGE_SIZE), not the fulfilment's look-ups.
    let limit = PAGE_SIZE.to_string();
    let list_requests = mock
        .requests()
        .iter()
        .filter(|r| r.method == "GET" && r.path == "/api/now/table/sys_user")
        .filter(|r| {
            r.query
                .iter()
                .any(|(k, v)| k == "sysparm_limit" && *v == limit)
        })
        .count() as u64;
    Ok(Summary {
        run: keys.run().to_owned(),
        users,
        partitions: planned,
        workers: options.workers.max(1),
        killed,
        restarts,
        killed_in,
        seconds,
        rows: rows.len() as u64,
        delivered_twice: deliveries.values().filter(|&&n| n > 1).count() as u64,
        missing: expected.difference(&rows).count() as u64,
        unexpected: rows.difference(&expected).count() as u64,
        pages_committed: stat("pages"),
        list_requests,
        starts: stat("starts"),
        resumes: stat("resumes"),
        fenced: stat("fenced"),
        requests: requests.len() as u64,
        redelivered: redeliver as u64,
        fulfil_runs: fulfil_runs.values().sum(),
        fulfilled,
        tickets,
        tickets_closed,
        grants,
        ticket_creates: mock
            .requests()
            .iter()
            .filter(|r| r.method == "POST" && r.path == "/api/now/table/sc_req_item")
            .count() as u64,
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
