//! A PAM session storm against the ticket gate, with and without the decision cache.
//!
//! ```sh
//! cargo run --example gate_cache_bench
//! ```
//!
//! Opens 50 incidents in the in-process ServiceNow mock, gives every request to the
//! mock 50 ms of latency (a testkit delay fault), then fires 1,000 concurrent checks
//! (ticket `i % 50`, four operators, so 200 distinct principal × ticket pairs) — a
//! cold wave, then the same 1,000 again while the allows are still fresh (warm) —
//! through a gate without and with a [`DecisionCache`]. It prints, per wave, the
//! requests the ITSM received and the p50/p99/max decision time. Figures are wall
//! clock on this machine (debug build unless run with `--release`); compare the
//! rows, not the absolute numbers.

use std::sync::Arc;
use std::time::{Duration, Instant};

use accesslink::{CorrelationId, NewTicket, TicketKind, TicketingSystem};
use accesslink_servicenow::{ServiceNowConnector, ServiceNowSettings};
use accesslink_testkit::Mock;
use accesslink_testkit::servicenow::ServiceNowMock;
use accesslink_workflow::MemorySink;
use accesslink_workflow::gate::{
    AccessAttempt, DecisionCache, GatePolicies, Principal, TicketGate, TicketPolicy,
};

const TICKETS: usize = 50;
const CHECKS: usize = 1_000;
const LATENCY: Duration = Duration::from_millis(50);

type Res<T> = Result<T, Box<dyn std::error::Error>>;

struct Wave {
    requests: usize,
    allowed: usize,
    p50: Duration,
    p99: Duration,
    max: Duration,
    total: Duration,
}

async fn wave(gate: &TicketGate, mock: &ServiceNowMock, numbers: &[String]) -> Wave {
    let before = mock.request_count();
    let attempts: Vec<AccessAttempt> = (0..CHECKS)
        .map(|i| {
            let who = Principal::new(format!("operator{}", (i / TICKETS) % 4));
            AccessAttempt::new(who, "connect", "db-prod-1")
                .group("prod")
                .ticket(numbers[i % TICKETS].as_str())
        })
        .collect();
    let started = Instant::now();
    let results = futures::future::join_all(attempts.iter().map(|a| async move {
        let t = Instant::now();
        let v = gate.check(a).await;
        (v.allow, t.elapsed())
    }))
    .await;
    let total = started.elapsed();
    let mut times: Vec<Duration> = results.iter().map(|r| r.1).collect();
    times.sort();
    let at = |q: f64| times[((times.len() as f64 * q).ceil() as usize).saturating_sub(1)];
    Wave {
        requests: mock.request_count() - before,
        allowed: results.iter().filter(|r| r.0).count(),
        p50: at(0.50),
        p99: at(0.99),
        max: *times.last().unwrap_or(&Duration::ZERO),
        total,
    }
}

fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1000.0)
}

#[tokio::main]
async fn main() -> Res<()> {
    let mock = ServiceNowMock::start().await;
    let mut settings = mock.settings();
    if let Some(map) = settings.as_object_mut() {
        map.remove("target");
    }
    let settings: ServiceNowSettings = serde_json::from_value(settings)?;
    let snow: Arc<dyn TicketingSystem> = Arc::new(ServiceNowConnector::from_settings(settings)?);

    let mut numbers = Vec::new();
    for i in 0..TICKETS {
        let t = snow
            .create_ticket(&NewTicket::new(
                TicketKind::Incident,
                format!("Privileged maintenance {i}"),
                "Session storm benchmark.",
                CorrelationId::new(format!("BENCH-{i}")),
            ))
            .await?;
        numbers.push(t.reference.number().unwrap_or_default().to_owned());
    }
    // Every request from now on answers after LATENCY (more than the runs need).
    mock.faults().delay_next(100 * CHECKS, LATENCY);

    println!(
        "{CHECKS} concurrent checks of {TICKETS} tickets, {} ms ITSM latency\n",
        LATENCY.as_millis()
    );
    println!(
        "{:<22} {:>8} {:>8} {:>9} {:>9} {:>9} {:>10}",
        "gate / wave", "requests", "allowed", "p50 ms", "p99 ms", "max ms", "wall ms"
    );
    let policies = GatePolicies::new(TicketPolicy::new());
    let audit = Arc::new(MemorySink::new());
    let plain = TicketGate::new(snow.clone(), policies.clone()).with_audit(audit.clone());
    let cached = TicketGate::new(snow.clone(), policies)
        .with_audit(audit.clone())
        .with_cache(DecisionCache::new(Duration::from_secs(30), 10_000));
    for (name, gate) in [("no cache", &plain), ("cache (30 s TTL)", &cached)] {
        for label in ["cold", "warm"] {
            let w = wave(gate, &mock, &numbers).await;
            println!(
                "{:<22} {:>8} {:>8} {:>9} {:>9} {:>9} {:>10}",
                format!("{name} / {label}"),
                w.requests,
                w.allowed,
                ms(w.p50),
                ms(w.p99),
                ms(w.max),
                ms(w.total)
            );
        }
    }
    if let Some(c) = cached.cache() {
        println!(
            "\ncache: {} hits, {} allows held; {} decisions audited",
            c.hits(),
            c.len(),
            audit.events().len()
        );
    }
    Ok(())
}
