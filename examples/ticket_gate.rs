//! Gate privileged access on a valid OTRS ticket: allow and deny verdicts, with reasons.
//!
//! ```sh
//! cargo run --example ticket_gate
//! ```
//!
//! Runs against the in-process OTRS mock: opens a few tickets, then checks access
//! attempts against a policy (open tickets only, the requester must match, exempt
//! administrators, password retrieval without a ticket) and prints each verdict. The
//! last two attempts meet an ITSM that cannot be reached: denied (fail-closed), then
//! allowed through an audited break-glass.

use std::sync::Arc;

use accesslink::{CorrelationId, NewTicket, Person, Resolution, TicketKind, TicketingSystem};
use accesslink_otrs::{Correlation, OtrsConfig, OtrsConnector};
use accesslink_testkit::otrs::OtrsMock;
use accesslink_workflow::MemorySink;
use accesslink_workflow::gate::{
    AccessAttempt, BreakGlassRule, GatePolicies, Principal, TicketGate, TicketPolicy, Verdict,
};
use secrecy::SecretString;

fn show(what: &str, v: &Verdict) {
    println!("{} {what}", if v.allow { "ALLOW" } else { "DENY " });
    for r in &v.reasons {
        println!("        {:<18} {r}", r.code());
    }
}

fn policy() -> TicketPolicy {
    TicketPolicy::new()
        .requester_must_match(true)
        .exempt(["root-admin"])
        .no_ticket_operations(["retrieve_password"])
        .break_glass(BreakGlassRule::allow(["oncall-lead"]))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mock = OtrsMock::start().await;
    let config = |base: String| {
        OtrsConfig::new(
            base.parse().expect("the mock's URL"),
            mock.agent_login(),
            SecretString::from(mock.agent_password()),
        )
        .customer_user(mock.customer_login())
        .correlation(Correlation::TitleTag)
    };
    let otrs = Arc::new(OtrsConnector::new(config(mock.base_url()))?);

    // Tickets as the service desk would have them.
    let open = |id: &str, requester: &str| {
        NewTicket::new(
            TicketKind::Request,
            "Maintenance on db-prod-1",
            "Planned index rebuild.",
            CorrelationId::new(id),
        )
        .requester(Person::login(requester))
    };
    let valid = otrs
        .create_ticket(&open("CHG-1", mock.customer_login()))
        .await?;
    let closed = otrs
        .create_ticket(&open("CHG-2", mock.customer_login()))
        .await?;
    otrs.close_ticket(&closed.reference, &Resolution::done("finished"))
        .await?;
    let number =
        |t: &accesslink::Ticket| t.reference.number().map(str::to_owned).unwrap_or_default();

    let audit = Arc::new(MemorySink::new());
    let gate = TicketGate::new(otrs.clone(), GatePolicies::new(policy())).with_audit(audit.clone());
    let requester = Principal::new(mock.customer_login());
    let attempt = |who: &Principal, op: &str| AccessAttempt::new(who.clone(), op, "db-prod-1");

    let v = gate
        .check(&attempt(&requester, "connect").ticket(format!("Ticket#{}", number(&valid))))
        .await;
    show("the requester, with an open ticket", &v);

    let v = gate
        .check(&attempt(&Principal::new("mallory"), "connect").ticket(number(&valid)))
        .await;
    show("someone else, with the same ticket", &v);

    let v = gate
        .check(&attempt(&requester, "connect").ticket(number(&closed)))
        .await;
    show("the requester, with a closed ticket", &v);

    let v = gate
        .check(&attempt(&requester, "connect").ticket("2026010199999999"))
        .await;
    show("a ticket that does not exist", &v);

    let v = gate
        .check(&attempt(&requester, "connect").ticket("1 OR 1=1"))
        .await;
    show("an injected ticket id (no request sent)", &v);

    let v = gate.check(&attempt(&requester, "connect")).await;
    show("no ticket at all", &v);

    let v = gate.check(&attempt(&requester, "retrieve_password")).await;
    show("password retrieval, which needs no ticket", &v);

    let v = gate
        .check(&attempt(&Principal::new("root-admin"), "connect"))
        .await;
    show("an exempt administrator", &v);

    // The ITSM is down: fail closed, unless an allowed principal breaks the glass.
    let down = Arc::new(OtrsConnector::new(config(
        "http://127.0.0.1:9/otrs".into(),
    ))?);
    let gate = TicketGate::new(down, GatePolicies::new(policy())).with_audit(audit.clone());
    let v = gate
        .check(&attempt(&requester, "connect").ticket(number(&valid)))
        .await;
    show("the ITSM cannot be reached", &v);
    let v = gate
        .check(
            &attempt(&Principal::new("oncall-lead"), "connect")
                .ticket(number(&valid))
                .break_glass("P1 outage, ITSM down, bridge call 4711"),
        )
        .await;
    show(
        "the ITSM cannot be reached, break-glass by the on-call lead",
        &v,
    );

    println!("\n{} gate decisions audited", audit.events().len());
    Ok(())
}
