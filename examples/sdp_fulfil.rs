//! Access requests fulfilled through ServiceDesk Plus requests: each access request opens
//! an SDP request (once, however often it is run: the correlation tag in the subject finds
//! it again), a technician works it, and the workflow follows it to an outcome.
//!
//! It starts the SDP mock in-process (Cloud, Zoho OAuth):
//!
//! ```sh
//! cargo run --example sdp_fulfil
//! ```

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use accesslink::{EntitlementRef, EntitlementType, Person, TicketKind, TicketState};
use accesslink_sdp::SdpConnector;
use accesslink_testkit::Mock;
use accesslink_testkit::conformance::TicketBackend;
use accesslink_testkit::sdp::SdpMock;
use accesslink_workflow::fulfil::{
    AccessRequest, Fulfiller, Operation, PollOptions, TaskStatus, TicketTemplate,
};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mock = Arc::new(SdpMock::start_cloud().await);
    let mut settings = mock.settings();
    settings
        .as_object_mut()
        .expect("an object")
        .remove("target");
    let sdp = Arc::new(SdpConnector::from_settings(serde_json::from_value(
        settings,
    )?)?);
    println!(
        "access requests through ServiceDesk Plus requests on the in-process SDP Cloud mock\n"
    );

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
    let template = TicketTemplate::builder(TicketKind::Request)
        .title("{operation} {entitlement.id|} on {target} for {beneficiary}")
        .description("Requested by {requester}.\nJustification: {justification}")
        .build()?;
    let fulfiller = Fulfiller::builder(sdp.clone(), template)
        .poll(
            PollOptions::new()
                .initial_interval(Duration::from_millis(100))
                .max_interval(Duration::from_millis(400))
                .deadline(Duration::from_secs(30)),
        )
        .build();

    // The service desk: the first request is closed, the second cancelled.
    let desk = {
        let mock = mock.clone();
        let sdp = sdp.clone();
        let ids: Vec<String> = requests.iter().map(|r| r.id.to_string()).collect();
        tokio::spawn(async move {
            use accesslink::TicketingSystem;
            let plan = [TicketState::Closed, TicketState::Cancelled];
            for (id, state) in ids.iter().zip(plan) {
                for _ in 0..50 {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    let found = sdp
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

    // Running a request again finds its SDP request: no duplicate.
    let again = fulfiller.open(&requests[0]).await?;
    println!(
        "running {} again finds {} (no duplicate; {} requests in SDP)\n",
        requests[0].id,
        again.reference.number().unwrap_or("-"),
        mock.ticket_count()
    );
    for o in &outcomes {
        let key = o
            .ticket
            .as_ref()
            .and_then(|t| t.reference.number().map(str::to_owned))
            .unwrap_or_else(|| "-".into());
        println!(
            "{:<16} {:<10} request {key:<8} status {}",
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
        "\n{completed} of {} requests completed, {} HTTP requests to SDP",
        outcomes.len(),
        mock.request_count()
    );
    Ok(())
}
