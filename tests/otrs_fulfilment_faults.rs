//! Fulfilment over the OTRS mock with a fault at every step — lookups refused, a
//! create answer lost, polls failing and timing out, the session deleted mid-run —
//! and never a duplicate ticket. Then the same requests run again after a "crash":
//! nothing new is created.

use std::sync::Arc;
use std::time::Duration;

use accesslink::http::{HttpSettings, RetryConfig, TimeoutConfig};
use accesslink::{CorrelationId, EntitlementRef, EntitlementType, Person};
use accesslink_otrs::{Correlation, OtrsConfig, OtrsConnector};
use accesslink_testkit::conformance::TicketBackend;
use accesslink_testkit::fault::{Fault, FaultMatcher};
use accesslink_testkit::otrs::OtrsMock;
use accesslink_testkit::proxy::ProxyFault;
use accesslink_workflow::MemorySink;
use accesslink_workflow::fulfil::{
    AccessRequest, Fulfiller, Operation, PollOptions, TaskStatus, TicketTemplate,
};
use secrecy::SecretString;

fn requests(n: usize) -> Vec<AccessRequest> {
    (0..n)
        .map(|i| {
            AccessRequest::new(
                format!("REQ-F{i}"),
                Operation::Grant,
                "CRM",
                Person::login("alice"),
            )
            .requester(Person::login("bob"))
            .entitlement(EntitlementRef::new(
                EntitlementType::role(),
                format!("role-{i}"),
            ))
        })
        .collect()
}

fn fulfiller(mock: &OtrsMock, audit: Arc<MemorySink>) -> Fulfiller {
    let config = OtrsConfig::new(
        mock.search_base_url().parse().unwrap(),
        mock.agent_login(),
        SecretString::from(mock.agent_password()),
    )
    .customer_user(mock.customer_login())
    .correlation(Correlation::dynamic_field(mock.correlation_field()))
    .http(
        HttpSettings::new()
            .timeouts(TimeoutConfig::new().attempt(Duration::from_millis(400)))
            .retry(RetryConfig::default().initial_backoff(Duration::from_millis(5))),
    );
    let otrs = Arc::new(OtrsConnector::new(config).unwrap());
    let template = TicketTemplate::builder(accesslink::TicketKind::Request)
        .title("{operation} {entitlement.id} for {beneficiary}")
        .build()
        .unwrap();
    Fulfiller::builder(otrs, template)
        .poll(
            PollOptions::new()
                .initial_interval(Duration::from_millis(50))
                .max_interval(Duration::from_millis(200))
                .deadline(Duration::from_secs(30)),
        )
        .audit(audit)
        .build()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_at_every_step_never_duplicate_a_ticket() {
    let mock = Arc::new(OtrsMock::builder().with_proxy(true).start().await);
    let audit = Arc::new(MemorySink::new());
    let fulfiller = fulfiller(&mock, audit.clone());
    let reqs = requests(5);

    // Lookups refused twice, one create answer lost after the server acted, polls
    // failing and one answering too late.
    mock.faults().push_for(
        FaultMatcher::route("POST", "/TicketSearch"),
        Fault::Status {
            status: 503,
            body: None,
        },
        2,
    );
    mock.proxy()
        .unwrap()
        .push_for("POST", "/Ticket", ProxyFault::Drop, 1);
    mock.faults().push_for(
        FaultMatcher::route("GET", "/Ticket/"),
        Fault::Status {
            status: 502,
            body: None,
        },
        4,
    );
    mock.faults().push_for(
        FaultMatcher::route("GET", "/Ticket/"),
        Fault::Delay(Duration::from_secs(2)),
        1,
    );

    // The agent: once all five tickets exist, delete every session (as an admin
    // would), then close the tickets.
    let agent_mock = mock.clone();
    let agent = tokio::spawn(async move {
        let field = agent_mock.correlation_field();
        loop {
            let ids: Vec<u64> = (0..5)
                .flat_map(|i| agent_mock.tickets_with_field(field, &format!("REQ-F{i}")))
                .collect();
            if ids.len() == 5 {
                tokio::time::sleep(Duration::from_millis(300)).await;
                agent_mock.expire_sessions();
                for id in ids {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    assert!(agent_mock.set_state(id, "closed successful"));
                }
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    });

    let outcomes = fulfiller.fulfil_all(&reqs).await;
    agent.await.unwrap();
    for o in &outcomes {
        assert_eq!(o.status, TaskStatus::Completed, "{o:?}");
        assert_eq!(o.raw_state.as_deref(), Some("closed successful"));
    }
    for r in &reqs {
        let n = mock
            .count_with_correlation(&CorrelationId::new(r.id.as_str()))
            .await
            .unwrap();
        assert_eq!(n, 1, "{} has {n} tickets", r.id);
    }
    assert_eq!(
        mock.count("TicketCreate"),
        5,
        "one create per request, the lost one included"
    );
    assert_eq!(mock.proxy().unwrap().applied(), 1);
    assert_eq!(mock.faults().pending(), 0, "every injected fault was met");
    assert_eq!(
        mock.session_creates(),
        2,
        "one login, one re-login after the sessions were deleted"
    );
    assert!(audit.events().len() >= 10);

    // A crash and a restart: the same requests run again find their tickets.
    let creates_before = mock.count("TicketCreate");
    let again = fulfiller.fulfil_all(&reqs).await;
    assert!(again.iter().all(|o| o.status == TaskStatus::Completed));
    assert_eq!(
        mock.count("TicketCreate"),
        creates_before,
        "nothing new was created"
    );
}
