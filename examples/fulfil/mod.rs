//! The run shared by the `*_fulfil` examples (`mod fulfil;` in each): two access requests
//! (a grant and a revoke) fulfilled through a service desk's tickets while a simulated
//! service desk closes the first and cancels the second, then the same request run
//! again to show it finds its ticket, and the outcomes printed.

use std::error::Error;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use accesslink::{
    CorrelationId, EntitlementRef, EntitlementType, Person, TicketKind, TicketState,
    TicketingSystem,
};
use accesslink_testkit::Mock;
use accesslink_testkit::conformance::TicketBackend;
use accesslink_workflow::fulfil::{
    AccessRequest, Fulfiller, Operation, PollOptions, TaskStatus, TicketTemplate,
};

/// What the printout calls the desk and its tickets.
pub(crate) struct Desk {
    /// The product (`Jira`).
    pub(crate) name: &'static str,
    /// One of its tickets (`issue`).
    pub(crate) ticket: &'static str,
    /// The kind of ticket a request opens.
    pub(crate) kind: TicketKind,
}

/// Runs the two requests through `tickets` over `mock`; `ticket_count` is how many
/// tickets the mock holds.
pub(crate) async fn run<M>(
    mock: Arc<M>,
    tickets: Arc<dyn TicketingSystem>,
    desk: Desk,
    ticket_count: impl Fn(&M) -> usize,
) -> Result<(), Box<dyn Error>>
where
    M: TicketBackend + Mock + Send + Sync + 'static,
{
    let run = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs() % 1_000_000;
    let group = |id: &str| EntitlementRef::new(EntitlementType::group(), id);
    let requests = vec![
        AccessRequest::new(
            format!("REQ-{run}-1"),
            Operation::Grant,
            "Payroll",
            Person::login("alice"),
        )
        .requester(Person::login("bob"))
        .entitlement(group("payroll-admins"))
        .justification("quarter close"),
        AccessRequest::new(
            format!("REQ-{run}-2"),
            Operation::Revoke,
            "Payroll",
            Person::login("carol"),
        )
        .requester(Person::login("bob"))
        .entitlement(group("payroll-approvers"))
        .justification("moved to marketing"),
    ];
    let template = TicketTemplate::builder(desk.kind)
        .title("{operation} {entitlement.id|} on {target} for {beneficiary}")
        .description("Requested by {requester}.\nJustification: {justification}")
        .build()?;
    let fulfiller = Fulfiller::builder(tickets.clone(), template)
        .poll(
            PollOptions::new()
                .initial_interval(Duration::from_millis(100))
                .max_interval(Duration::from_millis(400))
                .deadline(Duration::from_secs(30)),
        )
        .build();

    // The service desk: the first ticket is closed, the second cancelled.
    let agent = {
        let mock = mock.clone();
        let tickets = tickets.clone();
        let ids: Vec<String> = requests.iter().map(|r| r.id.to_string()).collect();
        tokio::spawn(async move {
            let plan = [TicketState::Closed, TicketState::Cancelled];
            for (id, state) in ids.iter().zip(plan) {
                for _ in 0..50 {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    let found = tickets
                        .find_by_correlation(&CorrelationId::new(id.clone()))
                        .await;
                    if let Ok(Some(t)) = found {
                        let _ = mock.set_ticket_state(&t.reference, state).await;
                        break;
                    }
                }
            }
        })
    };
    let outcomes = fulfiller.fulfil_all(&requests).await;
    agent.await?;

    // Running a request again finds its ticket: no duplicate.
    let again = fulfiller.open(&requests[0]).await?;
    println!(
        "running {} again finds {} (no duplicate; {} {}s in {})\n",
        requests[0].id,
        again.reference.number().unwrap_or("-"),
        ticket_count(&mock),
        desk.ticket,
        desk.name
    );
    for o in &outcomes {
        let key = o
            .ticket
            .as_ref()
            .and_then(|t| t.reference.number().map(str::to_owned))
            .unwrap_or_else(|| "-".into());
        println!(
            "{:<16} {:<10} {} {key:<8} status {}",
            o.request_id.as_str(),
            o.status.to_string(),
            desk.ticket,
            o.raw_state.as_deref().unwrap_or("-")
        );
    }
    let completed = outcomes
        .iter()
        .filter(|o| o.status == TaskStatus::Completed)
        .count();
    println!(
        "\n{completed} of {} requests completed, {} HTTP requests to {}",
        outcomes.len(),
        mock.request_count(),
        desk.name
    );
    Ok(())
}
