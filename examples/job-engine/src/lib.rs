//! One tenant's import, split into partitions and run as jobs on an existing job engine:
//! [apalis](https://docs.rs/apalis) with its Redis backend.
//!
//! - The **coordinator** ([`coordinator::run`]) plans the import with
//!   [`accesslink_core::partition::plan`], pushes each [`Partition`] as an apalis job,
//!   starts worker processes, and waits until every partition is done. With
//!   [`RunOptions::kill_one`](coordinator::RunOptions::kill_one) it kills one worker with `SIGKILL` while that worker is in
//!   the middle of a partition (it has committed at least one page and not the last),
//!   and starts a replacement, as a supervisor (systemd, Kubernetes) would.
//! - A **worker** ([`worker::run`]) takes partition jobs from the queue one at a time and
//!   runs each with [`accesslink_core::partition::run_accounts`]. After every page it
//!   commits, in one Redis script (atomic): the page's rows into the sink, and the
//!   partition's checkpoint (the token of the next page). A job that another worker
//!   started resumes from that checkpoint, so a page is committed exactly once: a
//!   worker killed before its commit leaves nothing of the page behind, and one killed
//!   after it leaves the checkpoint past the page.
//! - **Fencing.** Each start of a partition takes a new lease number; a commit whose
//!   lease is no longer the partition's current one is refused. A worker that was only
//!   stalled past the engine's orphan timeout (its job already handed to another) can
//!   therefore not commit a page twice.
//! - The **sink** is a Redis hash of rows and a hash counting each row's deliveries;
//!   the coordinator's check ([`Summary::exactly_once`]) is that every generated user
//!   is there and was delivered once.
//!
//! - **Fulfilment jobs** ([`FulfilJob`]): an [`AccessRequest`] is a job too. Each worker
//!   process also runs a fulfilment worker on a second queue; whichever takes a request
//!   opens its ServiceNow request item, grants the group, comments and closes. The
//!   request id is the item's correlation id, so a job delivered twice, or taken over
//!   from a killed worker, finds its item and its grant instead of making them again.
//!   [`RunOptions::redeliver`](coordinator::RunOptions::redeliver) pushes some requests
//!   twice, as an at-least-once engine may deliver them. Two deliveries may run *at
//!   once* on two workers (a redelivery, or a worker stalled past the orphan timeout):
//!   a run takes the request's lock in Redis first (renewed while it runs, expiring
//!   soon after a killed worker's last renewal), so the second run waits and then
//!   finds the request fulfilled.
//!
//! The source is the testkit's ServiceNow mock, hosted by the coordinator, with a fixed
//! delay per list call (a remote instance's latency). See `README.md` beside this crate
//! for the commands and the figures measured.

#![forbid(unsafe_code)]

use std::time::Duration;

use accesslink_core::partition::Partition;
pub use accesslink_workflow::fulfil::AccessRequest;
use serde::{Deserialize, Serialize};

pub mod coordinator;
pub mod worker;

/// Rows per page asked of ServiceNow.
pub const PAGE_SIZE: u32 = 1000;

/// The environment variable a worker reads the ServiceNow password from (never argv,
/// which every user of the machine can read).
pub const PASSWORD_ENV: &str = "ACCESSLINK_JOB_ENGINE_SN_PASSWORD";

/// A partition job on the queue: the run it belongs to and the partition as planned
/// (its JSON is the whole payload).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartitionJob {
    /// The run's id (the namespace of its Redis keys).
    pub run: String,
    /// The partition as planned; progress is in Redis ([`Keys::checkpoint`]).
    pub partition: Partition,
}

/// A fulfilment job on the queue: the run and the access request (its JSON is the whole
/// payload; the request id makes running it again harmless).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FulfilJob {
    /// The run's id.
    pub run: String,
    /// The request.
    pub request: AccessRequest,
}

/// The Redis keys of one run.
#[derive(Debug, Clone)]
pub struct Keys {
    run: String,
}

impl Keys {
    /// The keys of run `run`.
    pub fn new(run: &str) -> Self {
        Keys {
            run: run.to_owned(),
        }
    }

    /// The run's id.
    pub fn run(&self) -> &str {
        &self.run
    }

    /// The apalis queue the run's partition jobs are pushed to.
    pub fn queue(&self) -> String {
        format!("accesslink:{}:partitions", self.run)
    }

    /// The apalis queue the run's access requests are pushed to.
    pub fn requests_queue(&self) -> String {
        format!("accesslink:{}:requests", self.run)
    }

    /// The ids of requests whose fulfilment completed.
    pub fn fulfilled(&self) -> String {
        format!("accesslink:{}:fulfilled", self.run)
    }

    /// The lock one run of a request holds while it runs: `worker/number`.
    pub fn request_lock(&self, request: &str) -> String {
        format!("accesslink:{}:request-lock:{request}", self.run)
    }

    /// Request id → how many times a worker ran it.
    pub fn fulfil_runs(&self) -> String {
        format!("accesslink:{}:fulfil-runs", self.run)
    }

    /// The partition's last committed checkpoint (its JSON).
    pub fn checkpoint(&self, index: u32) -> String {
        format!("accesslink:{}:checkpoint:{index}", self.run)
    }

    /// The partition's current lease: `worker/number`.
    pub fn lease(&self, index: u32) -> String {
        format!("accesslink:{}:lease:{index}", self.run)
    }

    /// The counter the partition's lease numbers come from.
    pub fn lease_counter(&self, index: u32) -> String {
        format!("accesslink:{}:lease-counter:{index}", self.run)
    }

    /// The sink: account id → login.
    pub fn rows(&self) -> String {
        format!("accesslink:{}:rows", self.run)
    }

    /// Account id → how many times a commit delivered it.
    pub fn deliveries(&self) -> String {
        format!("accesslink:{}:deliveries", self.run)
    }

    /// The indexes of finished partitions.
    pub fn done(&self) -> String {
        format!("accesslink:{}:done", self.run)
    }

    /// Counters: `pages`, `pages:<index>`, `starts`, `resumes`, `fenced`.
    pub fn stats(&self) -> String {
        format!("accesslink:{}:stats", self.run)
    }

    /// A partition that failed for good: index → error.
    pub fn failed(&self) -> String {
        format!("accesslink:{}:failed", self.run)
    }

    /// Set by the coordinator when the run is over: workers stop.
    pub fn finished(&self) -> String {
        format!("accesslink:{}:finished", self.run)
    }

    /// Every key of the run but the apalis queue's own.
    pub fn pattern(&self) -> String {
        format!("accesslink:{}:*", self.run)
    }
}

/// How the engine notices a dead worker: the heartbeat interval and the beats it may
/// miss (apalis-redis re-enqueues a dead worker's jobs after both).
#[derive(Debug, Clone, Copy)]
pub struct Liveness {
    /// Between two heartbeats.
    pub heartbeat: Duration,
    /// Missed heartbeats before the worker counts as dead.
    pub missed: usize,
}

impl Default for Liveness {
    /// A heartbeat a second, dead after three missed: a killed worker's jobs are back
    /// on the queue within about four seconds. Shorter, and a worker that a loaded
    /// machine merely stalls is declared dead too (apalis then stops it, and the
    /// coordinator restarts it).
    fn default() -> Self {
        Liveness {
            heartbeat: Duration::from_secs(1),
            missed: 3,
        }
    }
}

/// What a run measured and found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// The run's id (its Redis keys are `accesslink:<run>:*`).
    pub run: String,
    /// Users the source holds.
    pub users: u64,
    /// Partitions planned.
    pub partitions: u32,
    /// Worker processes started at the beginning.
    pub workers: usize,
    /// Workers killed mid-partition (and replaced).
    pub killed: usize,
    /// Workers that stopped by themselves and were restarted (apalis stops a worker
    /// that other workers declared dead while it was only stalled).
    pub restarts: usize,
    /// The partition the killed worker was in, and the pages it had committed of it.
    pub killed_in: Option<(u32, u64)>,
    /// Seconds from the first job pushed to the last partition done.
    pub seconds: f64,
    /// Rows in the sink.
    pub rows: u64,
    /// Rows delivered more than once.
    pub delivered_twice: u64,
    /// Generated users missing from the sink.
    pub missing: u64,
    /// Rows in the sink that the source does not hold.
    pub unexpected: u64,
    /// Pages committed (all partitions).
    pub pages_committed: u64,
    /// List requests the source answered (committed pages, pages re-read after the
    /// kill, the plan's look-ups and each partition's last empty page).
    pub list_requests: u64,
    /// Partition starts (a job taken from the queue), and how many resumed a checkpoint.
    pub starts: u64,
    /// Of [`starts`](Self::starts), those that resumed a checkpoint.
    pub resumes: u64,
    /// Commits refused because their lease had passed to another worker.
    pub fenced: u64,
    /// Access requests pushed (each once, some twice: see `redelivered`).
    pub requests: u64,
    /// Requests pushed a second time.
    pub redelivered: u64,
    /// Fulfilment runs by workers (more than the requests when jobs were delivered
    /// twice or taken over from the killed worker).
    pub fulfil_runs: u64,
    /// Requests whose fulfilment completed.
    pub fulfilled: u64,
    /// Request items in ServiceNow carrying a request's correlation id.
    pub tickets: u64,
    /// Request items closed complete.
    pub tickets_closed: u64,
    /// Group memberships in ServiceNow for the requests' (user, group) pairs.
    pub grants: u64,
    /// Request items the workers asked ServiceNow to create (`POST`), redeliveries
    /// included: equal to the requests when no run opened a second one.
    pub ticket_creates: u64,
}

impl Summary {
    /// Rows per second over the run.
    pub fn rows_per_second(&self) -> f64 {
        self.rows as f64 / self.seconds.max(f64::EPSILON)
    }

    /// Every user in the sink, each delivered once, nothing else; and every access
    /// request fulfilled with one ticket, closed, and one grant.
    pub fn exactly_once(&self) -> bool {
        self.rows == self.users
            && self.missing == 0
            && self.unexpected == 0
            && self.delivered_twice == 0
            && self.fulfilled == self.requests
            && self.tickets == self.requests
            && self.tickets_closed == self.requests
            && self.grants == self.requests
            && self.ticket_creates == self.requests
    }
}

/// A Redis connection for the queue, the sink and the coordinator: a
/// [`ConnectionManager`](redis::aio::ConnectionManager) (reconnects by itself) that
/// waits up to 10 s for an answer. The redis crate's default, 500 ms, is shorter than a
/// loaded two-core machine sometimes takes, and a worker whose backend errors stops.
pub async fn connect(url: &str) -> Result<redis::aio::ConnectionManager, BoxError> {
    let config = redis::aio::ConnectionManagerConfig::new()
        .set_response_timeout(Some(Duration::from_secs(10)))
        .set_connection_timeout(Some(Duration::from_secs(10)));
    let client = redis::Client::open(url).map_err(|e| format!("Redis URL {url}: {e}"))?;
    Ok(client
        .get_connection_manager_with_config(config)
        .await
        .map_err(|e| format!("cannot reach Redis at {url}: {e}"))?)
}

/// An error of the example: a message for the terminal.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
