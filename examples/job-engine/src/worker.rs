//! A worker process: partition jobs from the apalis queue, one at a time, every page
//! committed with its checkpoint in one Redis script; and access requests from a second
//! queue, fulfilled through ServiceNow.

use std::sync::{Arc, LazyLock};
use std::time::Duration;

use accesslink_core::TicketKind;
use accesslink_core::paging::PagingOptions;
use accesslink_core::partition::{Partition, run_accounts};
use accesslink_servicenow::{ServiceNowClient, ServiceNowConfig, ServiceNowConnector};
use accesslink_workflow::fulfil::{Fulfiller, TaskStatus, TicketTemplate};
use apalis::prelude::{BoxDynError, Data, WorkerBuilder, WorkerBuilderExt};
use apalis_redis::{ConnectionManager, RedisStorage};
use futures::TryStreamExt;
use redis::AsyncCommands;
use secrecy::SecretString;

use crate::{BoxError, FulfilJob, Keys, Liveness, PAGE_SIZE, PartitionJob};

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
    connector: Arc<ServiceNowConnector>,
    conn: ConnectionManager,
    keys: Keys,
    name: String,
}

#[derive(Debug)]
struct FulfilContext {
    fulfiller: Fulfiller,
    conn: ConnectionManager,
    keys: Keys,
    name: String,
}

/// Requests fulfilled at once by one worker process.
const FULFIL_CONCURRENCY: usize = 4;

/// The ticket each access request opens: a ServiceNow request item.
fn template() -> TicketTemplate {
    TicketTemplate::builder(TicketKind::RequestItem)
        .title("{operation} {entitlement.id} for {beneficiary}")
        .build()
        .expect("a valid template")
}

static COMMIT_SCRIPT: LazyLock<redis::Script> = LazyLock::new(|| redis::Script::new(COMMIT));

/// Runs the worker until the coordinator marks the run finished: one apalis worker
/// for partitions (named `options.name`, one job at a time) and one for access requests
/// (`<name>-fulfil`, a few at a time), over one connector.
pub async fn run(options: WorkerOptions) -> Result<(), BoxError> {
    let conn = crate::connect(&options.redis_url).await?;
    let keys = Keys::new(&options.run);
    let liveness = options.liveness;
    let queue = |name: String, batch: usize| {
        apalis_redis::Config::default()
            .queue(name)
            .batch_size(batch)
            .heartbeat_interval(liveness.heartbeat)
            .missed_heartbeats(liveness.missed)
    };
    let client = ServiceNowClient::builder(options.servicenow_url.as_str())
        .basic(options.user.as_str(), options.password)
        .build()?;
    let connector = Arc::new(ServiceNowConnector::new(
        client,
        ServiceNowConfig::new().page_size(PAGE_SIZE),
    )?);

    let partitions =
        RedisStorage::<PartitionJob>::new(conn.clone()).with_config(queue(keys.queue(), 1));
    let import = WorkerBuilder::new(options.name.as_str())
        .backend(partitions)
        .concurrency(1)
        .data(Arc::new(Context {
            connector: connector.clone(),
            conn: conn.clone(),
            keys: keys.clone(),
            name: options.name.clone(),
        }))
        .build(run_partition);

    let requests = RedisStorage::<FulfilJob>::new(conn.clone())
        .with_config(queue(keys.requests_queue(), FULFIL_CONCURRENCY));
    let fulfiller = Fulfiller::builder(connector.clone(), template())
        .automated(connector)
        .build();
    let fulfil = WorkerBuilder::new(format!("{}-fulfil", options.name))
        .backend(requests)
        .concurrency(FULFIL_CONCURRENCY)
        .data(Arc::new(FulfilContext {
            fulfiller,
            conn: conn.clone(),
            keys: keys.clone(),
            name: options.name.clone(),
        }))
        .build(fulfil_request);

    // One poll of the run's end for both workers.
    let over = futures::FutureExt::shared(finished(conn, keys));
    let stop = |over: futures::future::Shared<_>| async move {
        over.await;
        Ok::<(), std::io::Error>(())
    };
    tokio::try_join!(
        import.run_until(stop(over.clone())),
        fulfil.run_until(stop(over)),
    )?;
    Ok(())
}

/// How long a request lock lives without renewal (a killed worker's lock frees itself
/// this long after its last renewal).
const REQUEST_LOCK_TTL: Duration = Duration::from_secs(3);

/// Renews a lock if it is still ours; deletes it when asked (ARGV[2] = 0).
const LOCK: &str = r"
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return 0
end
if ARGV[2] == '0' then
  redis.call('DEL', KEYS[1])
else
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 1
";

static LOCK_SCRIPT: LazyLock<redis::Script> = LazyLock::new(|| redis::Script::new(LOCK));

/// One run's hold on a request: taken with `SET NX PX`, renewed in the background
/// while the run lasts, released (if still ours) at the end.
struct RequestLock {
    key: String,
    token: String,
    conn: ConnectionManager,
    renewal: tokio::task::JoinHandle<()>,
}

impl RequestLock {
    async fn take(conn: &ConnectionManager, key: String, owner: &str) -> Result<Self, BoxError> {
        let mut c = conn.clone();
        let number: u64 = c.incr(format!("{key}:counter"), 1).await?;
        let token = format!("{owner}/{number}");
        let ttl = REQUEST_LOCK_TTL.as_millis() as u64;
        let deadline = tokio::time::Instant::now() + REQUEST_LOCK_TTL * 20;
        loop {
            let taken: Option<String> = redis::cmd("SET")
                .arg(&key)
                .arg(&token)
                .arg("NX")
                .arg("PX")
                .arg(ttl)
                .query_async(&mut c)
                .await?;
            if taken.is_some() {
                break;
            }
            if tokio::time::Instant::now() > deadline {
                return Err(format!("the lock {key} stayed taken").into());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let renewal = {
            let (mut c, key, token) = (conn.clone(), key.clone(), token.clone());
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(REQUEST_LOCK_TTL / 3).await;
                    let renewed: Result<i64, _> = LOCK_SCRIPT
                        .key(&key)
                        .arg(&token)
                        .arg(ttl)
                        .invoke_async(&mut c)
                        .await;
                    if !matches!(renewed, Ok(1)) {
                        return;
                    }
                }
            })
        };
        Ok(RequestLock {
            key,
            token,
            conn: conn.clone(),
            renewal,
        })
    }

    async fn release(mut self) {
        self.renewal.abort();
        let _: Result<i64, _> = LOCK_SCRIPT
            .key(&self.key)
            .arg(&self.token)
            .arg(0)
            .invoke_async(&mut self.conn)
            .await;
    }
}

/// One access request: fulfilled (or found fulfilled) through ServiceNow, under the
/// request's lock.
async fn fulfil_request(
    job: FulfilJob,
    context: Data<Arc<FulfilContext>>,
) -> Result<(), BoxDynError> {
    let keys = &context.keys;
    let id = job.request.id.as_str().to_owned();
    let lock = RequestLock::take(&context.conn, keys.request_lock(&id), &context.name).await?;
    let result = fulfil_locked(&context, &job, &id).await;
    lock.release().await;
    result
}

async fn fulfil_locked(
    context: &FulfilContext,
    job: &FulfilJob,
    id: &str,
) -> Result<(), BoxDynError> {
    let keys = &context.keys;
    let mut conn = context.conn.clone();
    let () = conn.hincr(keys.fulfil_runs(), id, 1).await?;
    let outcome = context.fulfiller.fulfil(&job.request).await;
    if outcome.status == TaskStatus::Completed {
        let () = conn.sadd(keys.fulfilled(), id).await?;
        tracing::info!(worker = %context.name, request = %id, "request fulfilled");
        return Ok(());
    }
    let message = format!(
        "request {id} ended {:?} (ticket state {:?})",
        outcome.status, outcome.raw_state
    );
    let () = conn
        .hset(keys.failed(), format!("request:{id}"), &message)
        .await?;
    tracing::error!(worker = %context.name, request = %id, "{message}");
    Err(message.into())
}

/// Resolves when the coordinator has marked the run finished. A failed look-up is
/// logged and tried again: Redis being slow to answer is no reason to stop working.
async fn finished(mut conn: ConnectionManager, keys: Keys) {
    loop {
        match conn.exists::<_, bool>(keys.finished()).await {
            Ok(true) => return,
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %e, "cannot tell whether the run is over"),
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
        context.connector.as_ref(),
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
