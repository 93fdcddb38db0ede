//! Jira behaviour beyond the suite: rich text per deployment, moved issues, batched
//! reads, per-workflow transitions, JSM approvals and the requester.

use accesslink_core::{
    ApprovalState, Comment, CorrelationId, NewTicket, Resolution, TicketKind, TicketRef,
    TicketState, TicketingSystem,
};
use accesslink_testkit::jira::{JiraMock, Mode};
use serde_json::json;

use crate::{on, settings_of};

#[tokio::test]
async fn cloud_sends_adf_and_data_center_strings() {
    for mode in [Mode::Cloud, Mode::DataCenter] {
        let mock = JiraMock::builder().mode(mode).start().await;
        let jira = on(&mock);
        let new = NewTicket::new(
            TicketKind::Task,
            "Rich",
            "line one\nline two",
            CorrelationId::new("rich-1"),
        );
        let t = jira.create_ticket(&new).await.unwrap();
        assert_eq!(t.description.as_deref(), Some("line one\nline two"));
        jira.add_comment(&t.reference, &Comment::public("done"))
            .await
            .unwrap();
        let key = t.reference.number().unwrap();
        let stored = mock.issue(key).unwrap();
        let comments = mock.comments(key);
        match mode {
            Mode::Cloud => {
                assert_eq!(stored["fields"]["description"]["type"], "doc");
                assert_eq!(
                    stored["fields"]["description"]["content"][1]["content"][0]["text"],
                    "line two"
                );
                assert_eq!(comments[0].0["content"][0]["content"][0]["text"], "done");
            }
            Mode::DataCenter => {
                assert_eq!(stored["fields"]["description"], json!("line one\nline two"));
                assert_eq!(comments[0].0, json!("done"));
            }
        }
        assert_eq!(stored["fields"]["labels"], json!(["accesslink-rich-1"]));
    }
}

#[tokio::test]
async fn the_mock_refuses_a_string_where_adf_is_required() {
    let mock = JiraMock::start_cloud().await;
    let client = reqwest::Client::new();
    let response = client
        .post(format!("{}/rest/api/3/issue", mock.url()))
        .basic_auth(mock.user(), Some(mock.secret()))
        .json(&json!({"fields": {"project": {"key": "ITSM"}, "issuetype": {"name": "Task"}, "summary": "s", "description": "a string"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: serde_json::Value = response.json().await.unwrap();
    assert!(
        body["errors"]["description"]
            .as_str()
            .unwrap()
            .contains("Atlassian Document")
    );
}

#[tokio::test]
async fn a_moved_issue_answers_under_its_new_key() {
    let mock = JiraMock::start_cloud().await;
    let old = mock.add_issue("ITSM", "Task", "will move", &[]);
    let new_key = mock.move_issue(&old, "OPS").unwrap();
    let jira = on(&mock);
    let t = jira
        .get_ticket(&jira.parse_ticket_ref(&old).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(t.reference.number(), Some(new_key.as_str()));
    assert_eq!(t.extra["previous_key"], json!(old));
}

#[tokio::test]
async fn a_batch_is_one_search_and_a_gone_key_falls_back() {
    let mock = JiraMock::start_cloud().await;
    let keys: Vec<String> = (0..30)
        .map(|i| mock.add_issue("ITSM", "Task", &format!("t{i}"), &[]))
        .collect();
    let jira = on(&mock);
    let refs: Vec<TicketRef> = keys
        .iter()
        .map(|k| TicketRef::by_number(k.clone()))
        .collect();
    let got = jira.get_tickets(&refs).await.unwrap();
    assert_eq!(got.len(), 30);
    assert_eq!(mock.count("POST", "/rest/api/3/search/jql"), 1);
    assert_eq!(mock.count("GET", "/rest/api/3/issue/:id"), 0);
    // One key that does not exist: Jira refuses the JQL; the batch is read one by one.
    let mut with_gone = refs[..3].to_vec();
    with_gone.push(TicketRef::by_number("ITSM-999"));
    let got = jira.get_tickets(&with_gone).await.unwrap();
    assert_eq!(got.len(), 3);
    assert_eq!(mock.count("GET", "/rest/api/3/issue/:id"), 4);
}

#[tokio::test]
async fn data_center_pages_with_start_at_and_total() {
    let mock = JiraMock::builder().mode(Mode::DataCenter).start().await;
    let keys: Vec<String> = (0..7)
        .map(|i| mock.add_issue("ITSM", "Task", &format!("t{i}"), &[]))
        .collect();
    let mut s = settings_of(&mock);
    s.batch_size = 3;
    let jira = accesslink_jira::JiraConnector::from_settings(s).unwrap();
    let refs: Vec<TicketRef> = keys
        .iter()
        .map(|k| TicketRef::by_number(k.clone()))
        .collect();
    let got = jira.get_tickets(&refs).await.unwrap();
    assert_eq!(got.len(), 7);
    // 7 refs in batches of 3: three searches, one page each.
    assert_eq!(mock.count("POST", "/rest/api/2/search"), 3);
}

#[tokio::test]
async fn closing_finds_each_workflows_transition() {
    let mock = JiraMock::start_cloud().await;
    let task = mock.add_issue("ITSM", "Task", "task", &[]);
    let change = mock.add_issue("ITSM", "Change", "change", &[]);
    let jira = on(&mock);
    let t = jira
        .close_ticket(
            &TicketRef::by_number(task.clone()),
            &Resolution::done("granted"),
        )
        .await
        .unwrap();
    assert_eq!(t.status.state, TicketState::Closed);
    assert_eq!(t.resolution.as_deref(), Some("Done"));
    let c = jira
        .close_ticket(
            &TicketRef::by_number(change.clone()),
            &Resolution::failed("not needed"),
        )
        .await
        .unwrap();
    assert_eq!(c.status.raw, "Declined");
    assert_eq!(c.status.state, TicketState::Cancelled);
    let received = mock.received().await;
    let sent: Vec<serde_json::Value> = received
        .iter()
        .filter(|r| r.method == "POST" && r.url.path().ends_with("/transitions"))
        .map(|r| r.body_json().unwrap())
        .collect();
    assert_eq!(sent[0]["transition"]["id"], "31");
    assert_eq!(sent[0]["fields"]["resolution"]["name"], "Done");
    assert_eq!(sent[1]["transition"]["id"], "771");
    // The decline screen has no resolution field: none was sent.
    assert!(sent[1].get("fields").is_none());
    // The notes went in as the transition's comment, as ADF.
    assert_eq!(
        sent[1]["update"]["comment"][0]["add"]["body"]["type"],
        "doc"
    );
    // Closing again is a no-op that sends no transition.
    jira.close_ticket(&TicketRef::by_number(task), &Resolution::done("again"))
        .await
        .unwrap();
    assert_eq!(mock.count("POST", "/rest/api/3/issue/:id/transitions"), 2);
}

#[tokio::test]
async fn jsm_approvals_and_the_requester() {
    let mock = JiraMock::start_cloud().await;
    let jane = mock.add_user(
        "Jane Approver",
        Some("jane.approver@example.com"),
        "atlassian",
        false,
    );
    let hidden = mock.add_user("Hidden Mail", Some("hidden@example.com"), "atlassian", true);
    let approved = mock.add_jsm_request("Change", "deploy", &jane, &["approved", "approved"]);
    let pending = mock.add_jsm_request("Change", "deploy", &hidden, &["approved", "pending"]);
    let declined = mock.add_jsm_request("Change", "deploy", &jane, &["declined", "pending"]);
    let plain = mock.add_issue("ITSM", "Task", "no JSM", &[]);
    let mut s = settings_of(&mock);
    s.jsm_approvals = true;
    let jira = accesslink_jira::JiraConnector::from_settings(s).unwrap();
    let get = |k: &str| {
        let jira = jira.clone();
        let k = k.to_owned();
        async move {
            jira.get_ticket(&TicketRef::by_number(k))
                .await
                .unwrap()
                .unwrap()
        }
    };
    let a = get(&approved).await;
    assert_eq!(a.approval_state(), ApprovalState::Approved);
    let r = a.requester.unwrap();
    assert_eq!(r.id.as_deref(), Some(jane.as_str()));
    assert_eq!(r.email.as_deref(), Some("jane.approver@example.com"));
    assert!(r.matches("Jane Approver"));
    let p = get(&pending).await;
    assert_eq!(p.approval_state(), ApprovalState::Requested);
    assert_eq!(p.requester.unwrap().email, None);
    assert_eq!(
        get(&declined).await.approval_state(),
        ApprovalState::Rejected
    );
    // A plain issue is not a JSM request: no approval at all.
    assert!(get(&plain).await.approval.is_none());
    mock.decide_approval(&pending, 1, "approved");
    assert_eq!(
        get(&pending).await.approval_state(),
        ApprovalState::Approved
    );
}

#[tokio::test]
async fn internal_comments_carry_the_jsm_property() {
    let mock = JiraMock::start_cloud().await;
    let key = mock.add_issue("ITSM", "Task", "t", &[]);
    let jira = on(&mock);
    let r = TicketRef::by_number(key.clone());
    jira.add_comment(&r, &Comment::internal("agents only"))
        .await
        .unwrap();
    jira.add_comment(&r, &Comment::public("everyone"))
        .await
        .unwrap();
    let c = mock.comments(&key);
    assert_eq!(c.len(), 2);
    assert!(c[0].1 && !c[1].1);
}

#[tokio::test]
async fn jsm_requests_are_raised_on_behalf_of_the_requester() {
    use accesslink_core::Person;
    let mock = JiraMock::start_cloud().await;
    let jane = mock.add_user(
        "Jane Requester",
        Some("jane.r@example.com"),
        "atlassian",
        false,
    );
    let jira = on(&mock);
    let mut who = Person::login("jane.r");
    who.id = Some(jane.clone());
    let new = NewTicket::new(
        TicketKind::Change,
        "Deploy",
        "Window Sat",
        CorrelationId::new("jsm-1"),
    )
    .requester(who);
    let t = jira.create_ticket(&new).await.unwrap();
    assert!(t.reference.number().unwrap().starts_with("SD-"));
    assert_eq!(
        t.requester.as_ref().and_then(|p| p.id.as_deref()),
        Some(jane.as_str())
    );
    let sent = mock
        .received()
        .await
        .into_iter()
        .find(|r| r.url.path() == "/rest/servicedeskapi/request")
        .unwrap();
    let body: serde_json::Value = sent.body_json().unwrap();
    assert_eq!(body["raiseOnBehalfOf"], json!(jane));
    assert_eq!(body["serviceDeskId"], "10");
    assert_eq!(body["requestTypeId"], "25");
    // JSM takes plain text in requestFieldValues, on Cloud too.
    assert_eq!(body["requestFieldValues"]["description"], "Window Sat");
    assert_eq!(
        body["requestFieldValues"]["labels"],
        json!(["accesslink-jsm-1"])
    );
    // A login alone is not a Cloud account id: no raiseOnBehalfOf then.
    let new = NewTicket::new(
        TicketKind::Change,
        "Deploy",
        "w",
        CorrelationId::new("jsm-2"),
    )
    .requester(Person::login("jane.r"));
    jira.create_ticket(&new).await.unwrap();
    let last = mock
        .received()
        .await
        .into_iter()
        .filter(|r| r.url.path() == "/rest/servicedeskapi/request")
        .last()
        .unwrap();
    let body: serde_json::Value = last.body_json().unwrap();
    assert!(body.get("raiseOnBehalfOf").is_none(), "{body}");
}

#[tokio::test]
async fn a_batch_reads_each_requests_approvals() {
    let mock = JiraMock::start_cloud().await;
    let jane = mock.add_user("Jane", Some("jane@example.com"), "atlassian", false);
    let decisions: [&[&str]; 3] = [&["approved"], &["pending"], &["declined"]];
    let keys: Vec<String> = decisions
        .iter()
        .map(|d| mock.add_jsm_request("Change", "c", &jane, d))
        .collect();
    let mut s = settings_of(&mock);
    s.jsm_approvals = true;
    let jira = accesslink_jira::JiraConnector::from_settings(s).unwrap();
    let refs: Vec<TicketRef> = keys
        .iter()
        .map(|k| TicketRef::by_number(k.clone()))
        .collect();
    let got = jira.get_tickets(&refs).await.unwrap();
    let by_key = |k: &str| {
        got.iter()
            .find(|t| t.reference.number() == Some(k))
            .unwrap()
            .approval_state()
    };
    assert_eq!(by_key(&keys[0]), ApprovalState::Approved);
    assert_eq!(by_key(&keys[1]), ApprovalState::Requested);
    assert_eq!(by_key(&keys[2]), ApprovalState::Rejected);
    assert_eq!(mock.count("POST", "/rest/api/3/search/jql"), 1);
    assert_eq!(
        mock.count("GET", "/rest/servicedeskapi/request/:id/approval"),
        3
    );
}
