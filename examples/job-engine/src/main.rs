//! `job-engine`: one tenant's ServiceNow import as partition jobs on apalis + Redis.
//!
//! ```sh
//! examples/job-engine/run.sh                    # starts Redis, runs the figures below
//! job-engine run --redis redis://127.0.0.1:6390/ --workers 4 --kill-one
//! job-engine bench --redis redis://127.0.0.1:6390/   # 1, 2 and 4 workers, then a kill
//! ```

use std::time::Duration;

use accesslink_job_engine_example::coordinator::{self, RunOptions};
use accesslink_job_engine_example::worker::{self, WorkerOptions};
use accesslink_job_engine_example::{BoxError, Liveness, PASSWORD_ENV, Summary};
use clap::{Args, Parser, Subcommand};
use secrecy::SecretString;

#[derive(Debug, Parser)]
#[command(about = "One tenant's import as partition jobs on apalis + Redis, exactly once")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Plan, enqueue, run the workers, check the sink.
    Run(RunArgs),
    /// Runs with 1, 2 and 4 workers, then 4 with one killed; prints a table.
    Bench(RunArgs),
    /// A worker process (started by `run`).
    Worker(WorkerArgs),
}

#[derive(Debug, Args)]
struct RunArgs {
    /// The Redis server.
    #[arg(
        long,
        env = "ACCESSLINK_REDIS_URL",
        default_value = "redis://127.0.0.1:6390/"
    )]
    redis: String,
    /// Users in the ServiceNow mock.
    #[arg(long, default_value_t = 100_000)]
    users: usize,
    /// Partitions.
    #[arg(long, default_value_t = 8)]
    partitions: u32,
    /// Worker processes.
    #[arg(long, default_value_t = 4)]
    workers: usize,
    /// The mock's delay per list call, in milliseconds.
    #[arg(long, default_value_t = 100)]
    page_delay_ms: u64,
    /// Kill one worker mid-partition (and start a replacement).
    #[arg(long)]
    kill_one: bool,
    /// Access requests to fulfil alongside the import.
    #[arg(long, default_value_t = 0)]
    requests: usize,
    /// Of those, how many to push twice (an at-least-once delivery).
    #[arg(long, default_value_t = 0)]
    redeliver: usize,
    /// Print the summary as JSON.
    #[arg(long)]
    json: bool,
    /// Let the workers' logs through.
    #[arg(long)]
    worker_logs: bool,
}

#[derive(Debug, Args)]
struct WorkerArgs {
    #[arg(long)]
    redis: String,
    #[arg(long)]
    run: String,
    #[arg(long)]
    name: String,
    #[arg(long)]
    servicenow_url: String,
    #[arg(long)]
    user: String,
    #[arg(long, default_value_t = 1000)]
    heartbeat_ms: u64,
    #[arg(long, default_value_t = 3)]
    missed_heartbeats: usize,
}

fn options(args: &RunArgs) -> Result<RunOptions, BoxError> {
    let mut o = RunOptions::new(&args.redis, std::env::current_exe()?);
    o.users = args.users;
    o.partitions = args.partitions;
    o.workers = args.workers;
    o.page_delay = Duration::from_millis(args.page_delay_ms);
    o.kill_one = args.kill_one;
    o.worker_logs = args.worker_logs;
    o.requests = args.requests;
    o.redeliver = args.redeliver;
    Ok(o)
}

fn print(s: &Summary) {
    println!(
        "{} workers{}{}: {} rows in {:.2} s = {:.0} rows/s; exactly once: {} (missing {}, twice {}, unexpected {}); pages committed {}, list requests {}, partition starts {} ({} resumed), fenced commits {}",
        s.workers,
        match s.killed_in {
            Some((p, pages)) => format!(", one killed in partition {p} after {pages} page(s)"),
            None => String::new(),
        },
        if s.restarts > 0 {
            format!(", {} restarted after being declared dead", s.restarts)
        } else {
            String::new()
        },
        s.rows,
        s.seconds,
        s.rows_per_second(),
        if s.exactly_once() { "yes" } else { "NO" },
        s.missing,
        s.delivered_twice,
        s.unexpected,
        s.pages_committed,
        s.list_requests,
        s.starts,
        s.resumes,
        s.fenced,
    );
    if s.requests > 0 {
        println!(
            "  access requests: {} ({} pushed twice), {} runs; fulfilled {}, request items {} ({} created, {} closed), grants {}",
            s.requests,
            s.redelivered,
            s.fulfil_runs,
            s.fulfilled,
            s.tickets,
            s.ticket_creates,
            s.tickets_closed,
            s.grants,
        );
    }
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,apalis=warn,apalis_redis=warn,apalis_core=warn".into()),
        )
        .init();
    match Cli::parse().command {
        Cmd::Worker(a) => {
            let password =
                std::env::var(PASSWORD_ENV).map_err(|_| format!("{PASSWORD_ENV} is not set"))?;
            worker::run(WorkerOptions {
                redis_url: a.redis,
                run: a.run,
                name: a.name,
                servicenow_url: a.servicenow_url,
                user: a.user,
                password: SecretString::from(password),
                liveness: Liveness {
                    heartbeat: Duration::from_millis(a.heartbeat_ms),
                    missed: a.missed_heartbeats,
                },
            })
            .await
        }
        Cmd::Run(a) => {
            let summary = coordinator::run(&options(&a)?).await?;
            if a.json {
                println!("{}", serde_json::to_string_pretty(&summary)?);
            } else {
                print(&summary);
            }
            if summary.exactly_once() {
                Ok(())
            } else {
                Err("the sink does not hold every row exactly once".into())
            }
        }
        Cmd::Bench(a) => {
            let mut all = Vec::new();
            for (workers, kill_one) in [(1, false), (2, false), (4, false), (4, true)] {
                let mut o = options(&a)?;
                o.workers = workers;
                o.kill_one = kill_one;
                let s = coordinator::run(&o).await?;
                print(&s);
                all.push(s);
            }
            println!();
            println!(
                "| workers | killed | seconds | rows/s | vs 1 worker | rows | exactly once | list requests | starts (resumed) |"
            );
            println!("|---|---|---|---|---|---|---|---|---|");
            let base = all[0].rows_per_second();
            for s in &all {
                println!(
                    "| {} | {} | {:.2} | {:.0} | {:.2}× | {} | {} | {} | {} ({}) |",
                    s.workers,
                    s.killed,
                    s.seconds,
                    s.rows_per_second(),
                    s.rows_per_second() / base,
                    s.rows,
                    if s.exactly_once() { "yes" } else { "NO" },
                    s.list_requests,
                    s.starts,
                    s.resumes
                );
            }
            if all.iter().all(Summary::exactly_once) {
                Ok(())
            } else {
                Err("a run did not hold every row exactly once".into())
            }
        }
    }
}
