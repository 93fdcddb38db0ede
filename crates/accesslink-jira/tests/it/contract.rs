//! The contract: every request the connector sends on Jira Cloud and every answer the mock
//! gives, checked against JSON Schemas written from the Jira Cloud platform OpenAPI file
//! (`tests/contract/jira-platform-v3.json`, whose `$comment` names the file and commit;
//! `search/jql` is newer than that file and is written from the fact sheet). JSM has no
//! public description here and is left out of this run (its shapes are checked by the
//! mock's own tests and the connector's models).

use accesslink_core::{
    AccountSpec, Comment, Connector, CorrelationId, EntitlementType, GrantOutcome, NewTicket,
    PageRequest, Provisioner, Resolution, RevokeOutcome, TicketKind, TicketRef, TicketingSystem,
};
use accesslink_jira::{IssueRef, JiraConnector};
use accesslink_testkit::contract::{Contract, ContractOptions, SchemaFile};
use accesslink_testkit::jira::JiraMock;

use crate::on;

const FILES: [SchemaFile; 1] = [SchemaFile::new(
    "jira-platform-v3",
    include_str!("../contract/jira-platform-v3.json"),
)];

fn contract() -> Contract {
    let options = ContractOptions::new()
        .header_contains(["e9edd0e", "platform-swagger.v3.json"])
        .default_status(200);
    Contract::load(&FILES, options)
}

async fn drive(jira: &JiraConnector, mock: &JiraMock) {
    jira.test_connection().await.unwrap();
    let new = NewTicket::new(
        TicketKind::Task,
        "Grant payroll-admin to alice",
        "Requested by bob.\nSecond line.",
        CorrelationId::new("contract-1"),
    );
    let t = jira.create_ticket(&new).await.unwrap();
    let r = t.reference.clone();
    jira.create_ticket(&new).await.unwrap();
    assert!(jira.get_ticket(&r).await.unwrap().is_some());
    let seeded: Vec<TicketRef> = (0..3)
        .map(|i| TicketRef::by_number(mock.add_issue("ITSM", "Task", &format!("s{i}"), &[])))
        .collect();
    assert_eq!(jira.get_tickets(&seeded).await.unwrap().len(), 3);
    // Two searches over several pages of a label (token paging).
    for i in 0..4 {
        mock.add_issue("ITSM", "Task", &format!("dup{i}"), &["accesslink-many"]);
    }
    assert!(
        jira.find_by_correlation(&CorrelationId::new("many"))
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        jira.get_ticket(&TicketRef::by_number("ITSM-999"))
            .await
            .unwrap()
            .is_none()
    );
    jira.add_comment(&r, &Comment::public("public"))
        .await
        .unwrap();
    jira.add_comment(&r, &Comment::internal("internal"))
        .await
        .unwrap();
    let key = IssueRef::parse(r.number().unwrap()).unwrap();
    jira.client()
        .issues()
        .add_label(&key, "extra-label")
        .await
        .unwrap();
    jira.close_ticket(&r, &Resolution::done("granted"))
        .await
        .unwrap();

    let group = mock.add_group("jira-software-users");
    let member = mock.add_user("Member", Some("member@example.com"), "atlassian", false);
    mock.add_member(&group, &member);
    let mut page = PageRequest::first().size(2);
    loop {
        let p = jira.list_accounts(page).await.unwrap();
        match p.next {
            Some(t) => page = PageRequest::at(Some(t)).size(2),
            None => break,
        }
    }
    let g = EntitlementType::group();
    jira.list_entitlements(&g, PageRequest::first())
        .await
        .unwrap();
    let mut page = PageRequest::first();
    loop {
        let p = jira.list_grants(&g, page).await.unwrap();
        match p.next {
            Some(t) => page = PageRequest::at(Some(t)),
            None => break,
        }
    }
    let spec = AccountSpec::new("contract.user@example.com").email("contract.user@example.com");
    let a = jira.create_account(&spec).await.unwrap().into_account();
    assert!(jira.get_account(&a.id).await.unwrap().is_some());
    let e = JiraConnector::group_entitlement(group);
    assert_eq!(jira.grant(&a.id, &e).await.unwrap(), GrantOutcome::Granted);
    assert_eq!(
        jira.grant(&a.id, &e).await.unwrap(),
        GrantOutcome::AlreadyGranted
    );
    assert_eq!(
        jira.revoke(&a.id, &e).await.unwrap(),
        RevokeOutcome::Revoked
    );
    jira.delete_account(&a.id).await.unwrap();
}

#[tokio::test]
async fn cloud_requests_and_answers_keep_to_the_contract() {
    let mock = JiraMock::builder().users(5).start().await;
    mock.record_exchanges();
    let jira = on(&mock);
    drive(&jira, &mock).await;
    let exchanges = mock.exchanges();
    let contract = contract();
    let (seen, problems) = contract.check(&exchanges);
    assert!(problems.is_empty(), "{problems:#?}");
    assert!(
        contract.unseen(&seen).is_empty(),
        "{:?}",
        contract.unseen(&seen)
    );
}

#[tokio::test]
async fn the_contract_catches_what_it_should() {
    let mock = JiraMock::start_cloud().await;
    mock.record_exchanges();
    let jira = on(&mock);
    let t = jira
        .create_ticket(&NewTicket::new(
            TicketKind::Task,
            "t",
            "d",
            CorrelationId::new("neg"),
        ))
        .await
        .unwrap();
    jira.add_comment(&t.reference, &Comment::public("c"))
        .await
        .unwrap();
    let contract = contract();
    let recorded = mock.exchanges();
    let (_, problems) = contract.check(&recorded);
    assert!(problems.is_empty(), "{problems:#?}");
    let find = |method: &str, suffix: &str| {
        recorded
            .iter()
            .find(|x| x.method == method && x.path.ends_with(suffix))
            .cloned()
            .unwrap()
    };
    // A string where v3 wants ADF.
    let mut comment = find("POST", "/comment");
    comment.request_body = br#"{"body":"plain"}"#.to_vec();
    // A create without a summary.
    let mut create = find("POST", "/rest/api/3/issue");
    create.request_body =
        br#"{"fields":{"project":{"key":"ITSM"},"issuetype":{"name":"Task"}}}"#.to_vec();
    // A last page that still carries a token.
    let mut search = find("POST", "/search/jql");
    search.response_body =
        Some(serde_json::json!({"issues": [], "isLast": true, "nextPageToken": "x"}));
    // An issue answer without its key.
    let mut issue = find("GET", &format!("/issue/{}", t.reference.number().unwrap()));
    issue.response_body = Some(serde_json::json!({"id": "1", "fields": {}}));
    for x in [comment, create, search, issue] {
        let (_, problems) = contract.check(std::slice::from_ref(&x));
        assert!(!problems.is_empty(), "{} {} passed", x.method, x.path);
    }
}
