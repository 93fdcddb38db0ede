//! The decision cache: allows reused for a short time by the same attempt, never a
//! deny, never past the ticket's window, bounded; concurrent reads shared.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use accesslink_core::{TicketKind, TicketState, TicketStatus};
use accesslink_workflow::audit::MemorySink;
use accesslink_workflow::gate::{
    AccessAttempt, BreakGlassRule, BreakGlassScope, DecisionCache, GatePolicies, Principal,
    TicketGate, TicketPolicy,
};

use crate::double::{FakeItsm, Op, ticket, timeout};

const TTL: Duration = Duration::from_secs(30);

fn now() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000)
}

fn setup(policy: TicketPolicy, max: usize) -> (Arc<FakeItsm>, TicketGate, Arc<MemorySink>) {
    let itsm = FakeItsm::new();
    for n in 1..=3 {
        let mut t = ticket(
            &format!("202600000{n}"),
            TicketKind::Change,
            TicketState::InProgress,
            "implement",
        );
        t.created = Some(now() - Duration::from_secs(3600));
        itsm.insert(t);
    }
    let sink = Arc::new(MemorySink::new());
    let gate = TicketGate::new(itsm.clone(), GatePolicies::new(policy))
        .with_audit(sink.clone())
        .with_cache(DecisionCache::new(TTL, max));
    (itsm, gate, sink)
}

fn attempt(who: &str, ticket: &str) -> AccessAttempt {
    AccessAttempt::new(Principal::new(who), "connect", "db-1")
        .group("prod")
        .ticket(ticket)
        .at(now())
}

#[tokio::test(start_paused = true)]
async fn an_allow_is_reused_by_the_same_attempt_until_the_ttl() {
    let (itsm, gate, sink) = setup(TicketPolicy::new(), 100);
    let a = attempt("jdoe", "2026000001");
    let first = gate.check(&a).await;
    let second = gate.check(&a).await;
    assert!(first.allow && second.allow);
    assert_eq!(first, second);
    assert_eq!(itsm.calls().get, 1);
    let events = sink.events();
    assert_eq!(events.len(), 2, "a cached decision is audited too");
    assert_eq!(events[1].detail["cached"], true);
    assert!(!events[0].detail.contains_key("cached"));

    // Another principal, resource group, operation or ticket asks again.
    gate.check(&attempt("eve", "2026000001")).await;
    gate.check(&attempt("jdoe", "2026000001").group("dev"))
        .await;
    gate.check(
        &AccessAttempt::new(Principal::new("jdoe"), "reset_password", "db-1")
            .group("prod")
            .ticket("2026000001")
            .at(now()),
    )
    .await;
    gate.check(&attempt("jdoe", "2026000002")).await;
    assert_eq!(itsm.calls().get, 5);

    tokio::time::advance(TTL + Duration::from_secs(1)).await;
    assert!(gate.check(&a).await.allow);
    assert_eq!(itsm.calls().get, 6, "expired after the TTL");
}

#[tokio::test(start_paused = true)]
async fn a_deny_is_never_reused() {
    let (itsm, gate, _) = setup(TicketPolicy::new(), 100);
    let a = attempt("jdoe", "2026000001");
    itsm.fail_next(Op::Get, 2, timeout);
    assert!(!gate.check(&a).await.allow);
    assert!(!gate.check(&a).await.allow);
    assert!(gate.check(&a).await.allow, "the third read succeeds");
    assert_eq!(itsm.calls().get, 3);
}

#[tokio::test(start_paused = true)]
async fn an_allow_is_not_reused_past_the_tickets_window() {
    // The ticket is an hour old; the policy accepts tickets up to 2 hours old.
    let (itsm, gate, _) = setup(TicketPolicy::new().max_age(Duration::from_secs(7200)), 100);
    let a = attempt("jdoe", "2026000001");
    assert!(gate.check(&a).await.allow);
    assert!(
        gate.check(&a.clone().at(now() + Duration::from_secs(3599)))
            .await
            .allow
    );
    assert_eq!(itsm.calls().get, 1, "inside the window: reused");
    let late = gate
        .check(&a.clone().at(now() + Duration::from_secs(3601)))
        .await;
    assert!(!late.allow);
    assert_eq!(late.codes(), ["too_old"]);
    assert_eq!(itsm.calls().get, 2);
}

#[tokio::test(start_paused = true)]
async fn break_glass_and_fail_open_allows_are_not_cached() {
    let policy = TicketPolicy::new()
        .fail_open(true)
        .break_glass(BreakGlassRule::allow(["jdoe"]).scope(BreakGlassScope::AnyDenial));
    let (itsm, gate, _) = setup(policy, 100);
    let a = attempt("jdoe", "2026000001");
    itsm.fail_next(Op::Get, 1, timeout);
    assert_eq!(gate.check(&a).await.codes(), ["failed_open"]);
    assert!(gate.check(&a).await.codes() == ["ticket_valid"]);
    assert_eq!(itsm.calls().get, 2);

    let mut closed = ticket(
        "2026000009",
        TicketKind::Change,
        TicketState::Closed,
        "closed",
    );
    closed.status = TicketStatus::new(TicketState::Closed, "closed");
    itsm.insert(closed);
    let glass = attempt("jdoe", "2026000009").break_glass("P1 outage, bridge 4711");
    assert!(gate.check(&glass).await.allow);
    assert!(gate.check(&glass).await.allow);
    assert_eq!(itsm.calls().get, 4);
}

#[tokio::test(start_paused = true)]
async fn the_cache_is_bounded() {
    let (itsm, gate, _) = setup(TicketPolicy::new(), 2);
    for n in 1..=3 {
        gate.check(&attempt("jdoe", &format!("202600000{n}"))).await;
    }
    assert_eq!(itsm.calls().get, 3);
    assert_eq!(gate.cache().unwrap().len(), 2);
    // The oldest allow (ticket 1) made room for ticket 3.
    gate.check(&attempt("jdoe", "2026000003")).await;
    gate.check(&attempt("jdoe", "2026000002")).await;
    assert_eq!(itsm.calls().get, 3);
    gate.check(&attempt("jdoe", "2026000001")).await;
    assert_eq!(itsm.calls().get, 4);
    assert_eq!(gate.cache().unwrap().len(), 2);
    assert_eq!(gate.cache().unwrap().hits(), 2);
}

#[tokio::test(start_paused = true)]
async fn concurrent_checks_share_one_read_with_the_cache_only() {
    let (itsm, gate, _) = setup(TicketPolicy::new(), 100);
    itsm.get_delay(Duration::from_millis(50));
    let attempts: Vec<_> = (0..20)
        .map(|i| attempt(&format!("user{i}"), "2026000001"))
        .collect();
    let verdicts = futures::future::join_all(attempts.iter().map(|a| gate.check(a))).await;
    assert!(verdicts.iter().all(|v| v.allow));
    assert_eq!(itsm.calls().get, 1, "twenty principals, one read");

    let plain = TicketGate::new(itsm.clone(), GatePolicies::new(TicketPolicy::new()));
    let verdicts = futures::future::join_all(attempts.iter().map(|a| plain.check(a))).await;
    assert!(verdicts.iter().all(|v| v.allow));
    assert_eq!(itsm.calls().get, 21);
}
