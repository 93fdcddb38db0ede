//! Access requests fulfilled through ServiceNow request items on the stateful mock:
//! by people (a lost create answer, failing polls, expired OAuth tokens, never a
//! duplicate ticket, nothing new on a re-run), and automated (the group membership
//! granted, the item commented on and closed).

use std::sync::Arc;
use std::time::Duration;

use accesslink::http::RetryConfig;
use accesslink::{CorrelationId, EntitlementRef, EntitlementType, Person, TicketKind};
use accesslink_servicenow::{ServiceNowClient, ServiceNowConfig, ServiceNowConnector};
use accesslink_testkit::conformance::TicketBackend;
use accesslink_testkit::fault::{Fault, FaultMatcher};
use accesslink_testkit::proxy::ProxyFault;
use accesslink_testkit::servicenow::ServiceNowMock;
use accesslink_workflow::fulfil::{
    AccessRequest, Fulfiller, Operation, PollOptions, TaskStatus, TicketTemplate,
};
use secrecy::SecretString;
use serde_json::json;

fn connector(mock: &ServiceNowMock, oauth: bool) -> Arc<ServiceNowConnector> {
    let b = ServiceNowClient::builder(mock.url()).http(
        accesslink_core::http::HttpSettings::new()
            .retry(RetryConfig::default().initial_backoff(Duration::from_millis(5))),
    );
    let b = if oauth {
        let o = mock.oauth();
        b.oauth_password(
            o.client_id(),
            SecretString::from(o.client_secret()),
            mock.user(),
            SecretString::from(mock.password()),
        )
    } else {
        b.basic(mock.user(), SecretString::from(mock.password()))
    };
    Arc::new(ServiceNowConnector::new(b.build().unwrap(), ServiceNowConfig::new()).unwrap())
}

fn template() -> TicketTemplate {
    TicketTemplate::builder(TicketKind::RequestItem)
        .title("{operation} {entitlement.id} for {beneficiary}")
        .build()
        .unwrap()
}

fn poll() -> PollOptions {
    PollOptions::new()
        .initial_interval(Duration::from_millis(50))
        .max_interval(Duration::from_millis(200))
        .deadline(Duration::from_secs(30))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn people_fulfil_requests_through_items_despite_faults() {
    let mock = Arc::new(ServiceNowMock::builder().with_proxy(true).start().await);
    mock.insert("sys_user", json!({ "user_name": "bob" }));
    let group = mock.insert("sys_user_group", json!({ "name": "crm-admins" }));
    let sn = connector(&mock, true);
    let fulfiller = Fulfiller::builder(sn, template()).poll(poll()).build();
    let reqs: Vec<AccessRequest> = (0..4)
        .map(|i| {
            AccessRequest::new(
                format!("REQ-SN{i}"),
                Operation::Grant,
                "CRM",
                Person::login("alice"),
            )
            .requester(Person::login("bob"))
            .entitlement(EntitlementRef::new(EntitlementType::group(), group.clone()))
        })
        .collect();
    mock.proxy()
        .unwrap()
        .push_for("POST", "/api/now/table/sc_req_item", ProxyFault::Drop, 1);
    mock.faults().push_for(
        FaultMatcher::route("GET", "/api/now/table/sc_req_item"),
        Fault::Status {
            status: 502,
            body: None,
        },
        3,
    );

    // The fulfilment team: once the four items exist, the tokens expire (an admin
    // revoked them), then each item is closed complete.
    let agent_mock = mock.clone();
    let agent = tokio::spawn(async move {
        loop {
            let ids: Vec<String> = (0..4)
                .flat_map(|i| {
                    agent_mock.find("sc_req_item", "correlation_id", &format!("REQ-SN{i}"))
                })
                .filter_map(|r| r["sys_id"].as_str().map(str::to_owned))
                .collect();
            if ids.len() == 4 {
                tokio::time::sleep(Duration::from_millis(200)).await;
                agent_mock.expire_tokens();
                for id in ids {
                    tokio::time::sleep(Duration::from_millis(30)).await;
                    assert!(agent_mock.update("sc_req_item", &id, json!({ "state": "3" })));
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
        assert_eq!(o.raw_state.as_deref(), Some("3"));
    }
    for r in &reqs {
        let n = mock
            .count_with_correlation(&CorrelationId::new(r.id.as_str()))
            .await
            .unwrap();
        assert_eq!(n, 1, "{} has {n} items", r.id);
    }
    assert_eq!(
        mock.count("POST", "/api/now/table/sc_req_item"),
        4,
        "the lost create included"
    );
    assert_eq!(mock.proxy().unwrap().applied(), 1);
    assert_eq!(mock.faults().pending(), 0);
    assert_eq!(mock.oauth().tokens().issued(), 2, "one token, one renewal");

    // A crash and a restart: the same requests find their items.
    let again = fulfiller.fulfil_all(&reqs).await;
    assert!(again.iter().all(|o| o.status == TaskStatus::Completed));
    assert_eq!(
        mock.count("POST", "/api/now/table/sc_req_item"),
        4,
        "nothing new"
    );
}

#[tokio::test]
async fn automated_fulfilment_grants_then_comments_and_closes() {
    let mock = ServiceNowMock::start().await;
    let alice = mock.insert("sys_user", json!({ "user_name": "alice" }));
    let group = mock.insert("sys_user_group", json!({ "name": "payroll-readers" }));
    let sn = connector(&mock, false);
    let fulfiller = Fulfiller::builder(sn.clone(), template())
        .automated(sn)
        .poll(poll())
        .build();
    let r = AccessRequest::new(
        "REQ-AUTO-1",
        Operation::Grant,
        "Payroll",
        Person::login("alice"),
    )
    .account(alice.clone())
    .entitlement(EntitlementRef::new(EntitlementType::group(), group.clone()));
    let o = fulfiller.fulfil(&r).await;
    assert_eq!(o.status, TaskStatus::Completed, "{o:?}");
    let members = mock.find("sys_user_grmember", "user", &alice);
    assert_eq!(members.len(), 1);
    assert_eq!(members[0]["group"], group.as_str());
    let items = mock.find("sc_req_item", "correlation_id", "REQ-AUTO-1");
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["state"], "3", "closed complete");
    let id = items[0]["sys_id"].as_str().unwrap();
    assert!(
        mock.journal(id)
            .iter()
            .any(|(_, text)| text.contains("accesslink: provisioned REQ-AUTO-1")),
        "{:?}",
        mock.journal(id)
    );
    // Run again: already granted, already closed, nothing written twice.
    let again = fulfiller.fulfil(&r).await;
    assert_eq!(again.status, TaskStatus::Completed);
    assert_eq!(mock.find("sys_user_grmember", "user", &alice).len(), 1);
    assert_eq!(mock.count("POST", "/api/now/table/sc_req_item"), 1);
}
