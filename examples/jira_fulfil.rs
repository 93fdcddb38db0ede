//! Access requests fulfilled through Jira issues: each request opens an issue (once, however
//! often it is run: the correlation label finds it again), an agent works it through the
//! workflow, and the workflow follows the issue to an outcome.
//!
//! It starts the Jira mock in-process (Cloud, Basic auth):
//!
//! ```sh
//! cargo run --example jira_fulfil
//! ```

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use accesslink::{EntitlementRef, EntitlementType, Person, TicketKind, TicketState};
use accesslink_jira::JiraConnector;
use accesslink_testkit::Mock;
use accesslink_testkit::conformance::TicketBackend;
use accesslink_testkit::jira::JiraMock;
use accesslink_workflow::fulfil::{
    AccessRequest, Fulfiller, Operation, PollOptions, TaskStatus, TicketTemplate,
};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mock = Arc::new(JiraMock::start_cloud().await);
    let mut settings = mock.settings();
    settings
        .as_object_mut()
        .expect("an object")
        .remove("target");
    let jira = Arc::new(JiraConnector::from_settings(serde_json::from_value(
        settings,
    )?)?);
    println!("access requests through Jira issues on the in-process Jira mock\n");

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
    let template = TicketTemplate::builder(TicketKind::Task)
        .title("{operation} {entitlement.id|} on {target} for {beneficiary}")
        .description("Requested by {requester}.\nJustification: {justification}")
        .build()?;
    let fulfiller = Fulfiller::builder(jira.clone(), template)
        .poll(
            PollOptions::new()
                .initial_interval(Duration::from_millis(100))
                .max_interval(Duration::from_millis(400))
                .deadline(Duration::from_secs(30)),
        )
        .build();

    // The service desk: the first issue is done, the second is refused (Won't Do).
    let desk = {
        let mock = mock.clone();
        let jira = jira.clone();
        let ids: Vec<String> = requests.iter().map(|r| r.id.to_string()).collect();
        tokio::spawn(async move {
            use accesslink::TicketingSystem;
            let plan = [TicketState::Closed, TicketState::Cancelled];
            for (id, state) in ids.iter().zip(plan) {
                for _ in 0..50 {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    let found = jira
                        .find_by_correlation(&accesslink::CorrelationId::new(id.clone()))
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
    desk.await?;

    // Running a request again finds its issue: no duplicate.
    let again = fulfiller.open(&requests[0]).await?;
    println!(
        "running {} again finds {} (no duplicate; {} issues in Jira)\n",
        requests[0].id,
        again.reference.number().unwrap_or("-"),
        mock.issue_count()
    );
    for o in &outcomes {
        let key = o
            .ticket
            .as_ref()
            .and_then(|t| t.reference.number().map(str::to_owned))
            .unwrap_or_else(|| "-".into());
        println!(
            "{:<16} {:<10} issue {key:<8} status {}",
            o.request_id.as_str(),
            o.status.to_string(),
            o.raw_state.as_deref().unwrap_or("-")
        );
    }
    let completed = outcomes
        .iter()
        .filter(|o| o.status == TaskStatus::Completed)
        .count();
    println!(
        "\n{completed} of {} requests completed, {} requests to Jira",
        outcomes.len(),
        mock.request_count()
    );
    Ok(())
}
