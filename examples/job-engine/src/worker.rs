//! A worker process: partition jobs from the apalis queue, one at a time; every page
//! committed with its checkpoint in one Redis script.

use std::sync::{Arc, LazyLock};
use std::time::Duration;

use accesslink_core::paging::PagingOptions;
use accesslink_core::partition::{Partition, run_accounts};
use accesslink_servicenow::{ServiceNowClient, ServiceNowConfig, ServiceNowConnector};
use apalis::prelude::{BoxDynError, Data, WorkerBuilder, WorkerBuilderExt};
use apalis_redis::{ConnectionManager, RedisStorage};
use futures::TryStreamExt;
use redis::AsyncCommands;
use secrecy::SecretString;

use crate::{BoxError, Keys, Liveness, PAGE_SIZE, PartitionJob};

/// The page commit, atomic and fenced (KEYS: lease, checkpoint, rows, deliveries, done,
/// stats; ARGV: the committing lease, the checkpoint JSON, 1 when the partition is
/// done, the partition index, then the page's rows as id, login pairs). Returns the
/// rows committed, or -1 when the lease has passed to another worker (nothing written).
const COMMIT: &str = r"
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  redis.call('HINCRBY', KEYS[6], 'fenced', 1)
  return -1
end
for i = 5, #ARGV, 2 do
  redis.call('HSET', KEYS[3], ARGV[i], ARGV[i + 1])
  redis.call('HINCRBY', KEYS[4], ARGV[i], 1)
end
redis.call('SET', KEYS[2], ARGV[2])
redis.call('HINCRBY', KEYS[6], 'pages', 1)
redis.call('HINCRBY', KEYS[6], 'pages:' .. ARGV[4], 1)
if ARGV[3] == '1' then
  redis.call('SADD', KEYS[5], ARGV[4])
end
return (#ARGV - 4) / 2
";

/// What a worker process needs: where the queue is, which run, and how to reach the
/// source (the same connector configuration as every other worker).
#[derive(Debug)]
pub struct WorkerOptions {
    /// The Redis server (`redis://127.0.0.1:6379/`).
    pub redis_url: String,
    /// The run's id.
    pub run: String,
    /// The worker's name, unique among the run's workers.
    pub name: String,
    /// The ServiceNow instance.
    pub servicenow_url: String,
    /// Its user.
    pub user: String,
    /// Its password.
    pub password: SecretString,
    /// Heartbeats.
    pub liveness: Liveness,
}

#[derive(Debug)]
struct Context {
    connector: ServiceNowConnector,
    conn: ConnectionManager,
    keys: Keys,
    name: String,
}

static COMMIT_SCRIPT: LazyLock<redis::Script> = LazyLock::new(|| redis::Script::new(COMMIT));

/// Runs the worker until the coordinator marks the run finished.
pub async fn run(options: WorkerOptions) -> Result<(), BoxError> {
    let conn = apalis_redis::connect(options.redis_url.as_str()).await?;
    let keys = Keys::new(&options.run);
    let config = apalis_redis::Config::default()
        .queue(keys.queue())
        .batch_size(1)
        .heartbeat_interval(options.liveness.heartbeat)
        .missed_heartbeats(options.liveness.missed);
    let storage = RedisStorage::<PartitionJob>::new(conn.clone()).with_config(config);
    let client = ServiceNowClient::builder(options.servicenow_url.as_str())
        .basic(options.user.as_str(), options.password)
        .build()?;
    let connector = ServiceNowConnector::new(client, ServiceNowConfig::new().page_size(PAGE_SIZE))?;
    let context = Arc::new(Context {
        connector,
        conn: conn.clone(),
        keys: keys.clone(),
        name: options.name.clone(),
    });
    let worker = WorkerBuilder::new(options.name.as_str())
        .backend(storage)
        .concurrency(1)
        .data(context)
        .build(run_partition);
    worker.run_until(finished(conn, keys)).await?;
    Ok(())
}

/// Resolves when the coordinator has marked the run finished.
async fn finished(mut conn: ConnectionManager, keys: Keys) -> Result<(), std::io::Error> {
    loop {
        let over: bool = conn
            .exists(keys.finished())
            .await
            .map_err(std::io::Error::other)?;
        if over {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// One job: take the partition's lease, resume from its committed checkpoint, and
/// commit page by page.
async fn run_partition(job: PartitionJob, context: Data<Arc<Context>>) -> Result<(), BoxDynError> {
    let index = job.partition.index;
    match import(&context, job).await {
        Ok(()) => Ok(()),
        Err(e) => {
            // Kept for the coordinator, which fails the run (the client has already
            // retried what it could).
            let mut conn = context.conn.clone();
            let _: Result<(), _> = conn.hset(context.keys.failed(), index, e.to_string()).await;
            tracing::error!(worker = %context.name, partition = index, error = %e, "partition failed");
            Err(e)
        }
    }
}

async fn import(context: &Context, job: PartitionJob) -> Result<(), BoxError> {
    let keys = &context.keys;
    let index = job.partition.index;
    let mut conn = context.conn.clone();

    // A new lease: from now on only this worker's commits count for the partition.
    let number: u64 = conn.incr(keys.lease_counter(index), 1).await?;
    let lease = format!("{}/{number}", context.name);
    let () = conn.set(keys.lease(index), &lease).await?;

    let stored: Option<String> = conn.get(keys.checkpoint(index)).await?;
    let resumed = stored.is_some();
    let partition: Partition = match stored {
        Some(json) => serde_json::from_str(&json)?,
        None => job.partition,
    };
    let () = conn.hincr(keys.stats(), "starts", 1).await?;
    if resumed {
        let () = conn.hincr(keys.stats(), "resumes", 1).await?;
    }
    tracing::info!(worker = %context.name, partition = index, resumed, done = partition.done, "partition taken");
    if partition.done {
        return Ok(());
    }

    let mut at = partition.token.clone();
    let mut stream = run_accounts(
        &context.connector,
        partition,
        PagingOptions::new().page_size(PAGE_SIZE),
    );
    let mut page: Vec<(String, String)> = Vec::with_capacity(PAGE_SIZE as usize);
    while let Some(account) = stream.try_next().await? {
        // The checkpoint is the token of the page this account came from: when it
        // moves, every account buffered so far belongs to the pages before it.
        let checkpoint = only(stream.checkpoint().partitions)?;
        if checkpoint.token != at {
            if !commit_page(&mut conn, keys, &lease, &checkpoint, &page).await? {
                tracing::warn!(worker = %context.name, partition = index, "lease lost: another worker has the partition");
                return Ok(());
            }
            at = checkpoint.token.clone();
            page.clear();
        }
        page.push((account.id.to_string(), account.login));
    }
    let checkpoint = only(stream.checkpoint().partitions)?;
    if !checkpoint.done {
        return Err("the partition's stream ended without finishing it".into());
    }
    if !commit_page(&mut conn, keys, &lease, &checkpoint, &page).await? {
        tracing::warn!(worker = %context.name, partition = index, "lease lost: another worker has the partition");
        return Ok(());
    }
    tracing::info!(worker = %context.name, partition = index, "partition done");
    Ok(())
}

fn only(partitions: Vec<Partition>) -> Result<Partition, BoxError> {
    let mut partitions = partitions.into_iter();
    match (partitions.next(), partitions.next()) {
        (Some(p), None) => Ok(p),
        _ => Err("a single-partition run reported another number of partitions".into()),
    }
}

/// Commits a page's rows with the checkpoint after it, in one Redis script: both or
/// neither. `lease` is the committing worker's lease on the partition
/// ([`Keys::lease`]); when it is no longer the current one, nothing is written and the
/// answer is `false` (the partition has passed to another worker). `checkpoint.done`
/// also marks the partition done.
pub async fn commit_page(
    conn: &mut ConnectionManager,
    keys: &Keys,
    lease: &str,
    checkpoint: &Partition,
    page: &[(String, String)],
) -> Result<bool, BoxError> {
    let index = checkpoint.index;
    let mut invocation = COMMIT_SCRIPT.prepare_invoke();
    invocation
        .key(keys.lease(index))
        .key(keys.checkpoint(index))
        .key(keys.rows())
        .key(keys.deliveries())
        .key(keys.done())
        .key(keys.stats())
        .arg(lease)
        .arg(serde_json::to_string(checkpoint)?)
        .arg(u8::from(checkpoint.done))
        .arg(index);
    for (id, login) in page {
        invocation.arg(id).arg(login);
    }
    let committed: i64 = invocation.invoke_async(conn).await?;
    Ok(committed >= 0)
}
