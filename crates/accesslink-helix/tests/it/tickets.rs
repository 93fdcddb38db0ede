//! Tickets on the wire: create through the interface form, idempotence, requester,
//! change and work order approval, work notes, close confirmed by reading back.

use accesslink_core::{
    ApprovalState, Comment, CorrelationId, ErrorKind, NewTicket, Person, Resolution, TicketKind,
    TicketState, TicketingSystem,
};
use accesslink_helix::HelixConnector;
use accesslink_testkit::helix::{CHANGE_WORK_LOG, HELP_DESK, HelixMock, WORK_LOG};
use serde_json::{Value, json};

use crate::{on_mock, param, settings_with};

fn new_incident(corr: &str) -> NewTicket {
    NewTicket::new(
        TicketKind::Incident,
        "Grant payroll access to Jane",
        "IAM request 7781",
        CorrelationId::new(corr),
    )
    .requester(Person::login("jdoe"))
}

#[tokio::test]
async fn create_goes_through_the_interface_form_once() {
    let mock = HelixMock::start().await;
    let helix = on_mock(&mock);
    let t = helix
        .create_ticket(&new_incident("req-7781"))
        .await
        .unwrap();
    let number = t.reference.number().unwrap().to_owned();
    assert!(number.starts_with("INC") && number.len() == 15, "{number}");
    assert_eq!(t.status.state, TicketState::New);
    assert_eq!(t.status.raw, "Assigned");
    let requester = t.requester.clone().unwrap();
    assert_eq!(requester.login.as_deref(), Some("jdoe"));
    assert_eq!(requester.name.as_deref(), Some("Jane Doe"));
    assert_eq!(requester.email.as_deref(), Some("jane.doe@example.test"));
    let post = mock
        .received()
        .await
        .into_iter()
        .find(|r| r.method.as_str() == "POST" && r.url.path().contains("/entry/"))
        .unwrap();
    assert_eq!(
        post.url.path(),
        "/api/arsys/v1/entry/HPD:IncidentInterface_Create"
    );
    assert_eq!(
        param(&post.url, "fields").as_deref(),
        Some("values(Incident Number)")
    );
    let body: Value = post.body_json().unwrap();
    assert_eq!(body["values"]["z1D_Action"], "CREATE");
    assert_eq!(body["values"]["Login_ID"], "jdoe");
    assert_eq!(body["values"]["Vendor Ticket Number"], "req-7781");
    assert_eq!(body["values"]["Impact"], "4-Minor/Localized");
    // The second create finds the first.
    let again = helix
        .create_ticket(&new_incident("req-7781"))
        .await
        .unwrap();
    assert_eq!(again.reference.number(), Some(number.as_str()));
    assert_eq!(mock.incidents_created(), 1);
    let stored = mock.incident(&number).unwrap();
    assert_eq!(stored["Vendor Ticket Number"], "req-7781");
}

#[tokio::test]
async fn an_unknown_customer_is_a_business_error_not_retried() {
    let mock = HelixMock::start().await;
    let helix = on_mock(&mock);
    let new = new_incident("req-1").requester(Person::login("nobody"));
    let e = helix.create_ticket(&new).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
    assert_eq!(e.vendor_code(), Some("1291053"));
    let posts = mock
        .received()
        .await
        .into_iter()
        .filter(|r| r.method.as_str() == "POST" && r.url.path().contains("/entry/"))
        .count();
    assert_eq!(posts, 1);
    // No requester and no default customer: refused before any request.
    let mock = HelixMock::start().await;
    let helix = HelixConnector::from_settings(settings_with(&mock, |v| {
        v.as_object_mut().unwrap().remove("incident");
    }))
    .unwrap();
    let mut new = new_incident("req-2");
    new.requester = None;
    assert_eq!(
        helix.create_ticket(&new).await.unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
    assert_eq!(mock.requests(), 0);
}

#[tokio::test]
async fn change_and_work_order_approval_follow_their_status() {
    let mock = HelixMock::start().await;
    let helix = on_mock(&mock);
    for (status, state, approval) in [
        (
            "Request For Authorization",
            TicketState::New,
            ApprovalState::Requested,
        ),
        (
            "Scheduled For Approval",
            TicketState::InProgress,
            ApprovalState::Requested,
        ),
        (
            "Scheduled",
            TicketState::InProgress,
            ApprovalState::Approved,
        ),
        ("Rejected", TicketState::Cancelled, ApprovalState::Rejected),
        ("Closed", TicketState::Closed, ApprovalState::Approved),
    ] {
        let number = mock.add_change("Firewall rule", status);
        let r = helix.parse_ticket_ref(&number.to_lowercase()).unwrap();
        let t = helix.get_ticket(&r).await.unwrap().unwrap();
        assert_eq!(t.kind, TicketKind::Change);
        assert_eq!(t.status.state, state, "{status}");
        assert_eq!(t.approval_state(), approval, "{status}");
        assert_eq!(t.requester.unwrap().login.as_deref(), Some("jdoe"));
    }
    let wo = mock.add_work_order("Laptop", "Waiting Approval");
    let t = helix
        .get_ticket(&helix.parse_ticket_ref(&wo).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(t.title, "Laptop");
    assert_eq!(t.approval_state(), ApprovalState::Requested);
    // An unknown status is Unknown, not a guess.
    let odd = mock.add_change("Odd", "Staged By Plugin");
    let t = helix
        .get_ticket(&helix.parse_ticket_ref(&odd).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(t.approval_state(), ApprovalState::Unknown);
    // A status map override from settings.
    let helix = HelixConnector::from_settings(settings_with(&mock, |v| {
        v["status_map"] = json!({ "approvals": { "change:Staged By Plugin": "approved" } })
    }))
    .unwrap();
    let t = helix
        .get_ticket(&helix.parse_ticket_ref(&odd).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(t.approval_state(), ApprovalState::Approved);
}

#[tokio::test]
async fn work_notes_and_close_land_on_the_server() {
    let mock = HelixMock::start().await;
    let helix = on_mock(&mock);
    let number = mock.add_incident("Printer", "In Progress");
    let r = helix.parse_ticket_ref(&number).unwrap();
    helix
        .add_comment(&r, &Comment::internal("checked the queue"))
        .await
        .unwrap();
    let logs = mock.entries(WORK_LOG);
    assert_eq!(logs.len(), 1);
    assert_eq!(logs[0].values["Incident Number"], number.as_str());
    assert_eq!(logs[0].values["View Access"], "Internal");
    assert_eq!(logs[0].values["Work Log Type"], "General Information");
    let t = helix
        .close_ticket(&r, &Resolution::done("granted"))
        .await
        .unwrap();
    assert_eq!(t.status.state, TicketState::Resolved);
    let stored = mock.incident(&number).unwrap();
    assert_eq!(stored["Status"], "Resolved");
    assert_eq!(stored["Status_Reason"], "No Further Action Required");
    assert_eq!(stored["Resolution"], "granted");
    assert_eq!(t.resolution.as_deref(), Some("granted"));
    // Closing again changes nothing.
    let puts = || async {
        mock.received()
            .await
            .iter()
            .filter(|r| r.method.as_str() == "PUT")
            .count()
    };
    assert_eq!(puts().await, 1);
    helix
        .close_ticket(&r, &Resolution::done("again"))
        .await
        .unwrap();
    assert_eq!(puts().await, 1);
    // Work notes on changes go to the change log form, keyed by the change id.
    let crq = mock.add_change("c", "Draft");
    let cr = helix.parse_ticket_ref(&crq).unwrap();
    helix.add_comment(&cr, &Comment::public("x")).await.unwrap();
    let logs = mock.entries(CHANGE_WORK_LOG);
    assert_eq!(logs.len(), 1);
    assert_eq!(logs[0].values["Infrastructure Change ID"], crq.as_str());
    assert_eq!(logs[0].values["View Access"], "Public");
    // Closing a service request is not supported (and says so, before any request).
    let before = mock.requests();
    let req = helix.parse_ticket_ref("REQ000000000001").unwrap();
    let e = helix
        .close_ticket(&req, &Resolution::done("x"))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unsupported);
    assert_eq!(mock.requests(), before);
}

#[tokio::test]
async fn a_close_the_workflow_refuses_is_an_error_sent_once() {
    let mock = HelixMock::start().await;
    let helix = HelixConnector::from_settings(settings_with(&mock, |v| {
        v["close"] = json!({ "status_reason": "" })
    }))
    .unwrap();
    let number = mock.add_incident("Printer", "In Progress");
    let r = helix.parse_ticket_ref(&number).unwrap();
    let e = helix
        .close_ticket(&r, &Resolution::done("x"))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
    let puts = mock
        .received()
        .await
        .iter()
        .filter(|r| r.method.as_str() == "PUT")
        .count();
    assert_eq!(puts, 1);
    assert_eq!(mock.incident(&number).unwrap()["Status"], "In Progress");
    // A status that does not finish the incident is caught by the read-back.
    let helix = HelixConnector::from_settings(settings_with(&mock, |v| {
        v["close"] = json!({ "status": "In Progress" })
    }))
    .unwrap();
    let e = helix
        .close_ticket(&r, &Resolution::done("x"))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Protocol, "{e}");
    let _ = HELP_DESK;
}

fn new_of(kind: TicketKind, corr: &str) -> NewTicket {
    NewTicket::new(
        kind,
        "Provision payroll access",
        "IAM request 9001",
        CorrelationId::new(corr),
    )
    .requester(Person::login("jdoe"))
}

/// The POSTs that reached `form`.
async fn posts_to(mock: &HelixMock, form_path: &str) -> Vec<Value> {
    mock.received()
        .await
        .into_iter()
        .filter(|r| r.method.as_str() == "POST" && r.url.path().ends_with(form_path))
        .map(|r| {
            assert!(
                param(&r.url, "fields").is_some(),
                "the create asks for the number back"
            );
            r.body_json().unwrap()
        })
        .collect()
}

#[tokio::test]
async fn changes_are_created_once_and_closed_as_configured() {
    let mock = HelixMock::start().await;
    let helix = on_mock(&mock);
    let t = helix
        .create_ticket(&new_of(TicketKind::Change, "req-chg-1"))
        .await
        .unwrap();
    let number = t.reference.number().unwrap().to_owned();
    assert!(number.starts_with("CRQ") && number.len() == 15, "{number}");
    assert_eq!(t.kind, TicketKind::Change);
    assert_eq!(t.status.raw, "Draft");
    assert_eq!(
        t.approval.as_ref().unwrap().state,
        ApprovalState::NotRequested
    );
    assert_eq!(t.correlation_id.as_ref().unwrap().as_str(), "req-chg-1");
    let again = helix
        .create_ticket(&new_of(TicketKind::Change, "req-chg-1"))
        .await
        .unwrap();
    assert_eq!(again.reference.number(), Some(number.as_str()));
    let posts = posts_to(&mock, "/entry/CHG:ChangeInterface_Create").await;
    assert_eq!(posts.len(), 1, "the second create found the first");
    let v = &posts[0]["values"];
    assert_eq!(v["z1D_Action"], "CREATE");
    assert_eq!(v["Description"], "Provision payroll access");
    assert_eq!(v["Detailed Description"], "IAM request 9001");
    assert_eq!(v["Customer Login ID"], "jdoe");
    assert_eq!(v["Vendor Ticket Number"], "req-chg-1");
    assert_eq!(v["Impact"], "4-Minor/Localized");

    let closed = helix
        .close_ticket(&t.reference, &Resolution::done("granted"))
        .await
        .unwrap();
    assert_eq!(closed.status.raw, "Completed");
    assert_eq!(closed.status.state, TicketState::Resolved);
    let put = mock
        .received()
        .await
        .into_iter()
        .find(|r| r.method.as_str() == "PUT")
        .unwrap();
    assert!(
        put.url
            .path()
            .starts_with("/api/arsys/v1/entry/CHG:Infrastructure%20Change/"),
        "{}",
        put.url
    );
    let body: Value = put.body_json().unwrap();
    assert_eq!(
        body["values"],
        json!({ "Change Request Status": "Completed", "Status Reason": "Successful" })
    );
    // Closed already: returned as it is, no second write.
    helix
        .close_ticket(&t.reference, &Resolution::failed("again"))
        .await
        .unwrap();
    let puts = mock
        .received()
        .await
        .iter()
        .filter(|r| r.method.as_str() == "PUT")
        .count();
    assert_eq!(puts, 1);
}

#[tokio::test]
async fn work_orders_are_created_and_closed_with_the_configured_reason() {
    let mock = HelixMock::start().await;
    let helix = crate::HelixConnector::from_settings(settings_with(&mock, |v| {
        v["work_order"] = json!({
            "create_form": "WOI:WorkOrderInterface_Create",
            "create_title_field": "Summary",
            "create_detail_field": "Detailed Description",
            "create_login_field": "Customer Login ID",
            "create_values": { "z1D_Action": "CREATE", "Status": "Assigned", "Location Company": "Calbro" },
            "close_status": "Completed",
            "status_reason_field": "Status Reason",
            "status_reason": "Successful",
            "failed_status_reason": "Cancelled by requester",
        })
    }))
    .unwrap();
    let t = helix
        .create_ticket(&new_of(TicketKind::Task, "req-wo-1"))
        .await
        .unwrap();
    let number = t.reference.number().unwrap().to_owned();
    assert!(number.starts_with("WO") && number.len() == 15, "{number}");
    assert_eq!(t.kind, TicketKind::Task);
    assert_eq!(t.status.raw, "Assigned");
    let posts = posts_to(&mock, "/entry/WOI:WorkOrderInterface_Create").await;
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0]["values"]["Location Company"], "Calbro");
    assert_eq!(posts[0]["values"]["Summary"], "Provision payroll access");
    let closed = helix
        .close_ticket(&t.reference, &Resolution::failed("no longer needed"))
        .await
        .unwrap();
    assert_eq!(closed.status.raw, "Completed");
    let stored = mock
        .entries(accesslink_testkit::helix::WORK_ORDER)
        .into_iter()
        .find(|r| r.values["Work Order ID"] == json!(number))
        .unwrap();
    assert_eq!(stored.values["Status Reason"], "Cancelled by requester");
    // Found by correlation across forms.
    let found = helix
        .find_by_correlation(&CorrelationId::new("req-wo-1"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.reference.number(), Some(number.as_str()));
}

#[tokio::test]
async fn a_lost_change_create_answer_is_looked_up_not_repeated() {
    use accesslink_testkit::fault::{Fault, FaultMatcher};
    let mock = HelixMock::builder().with_proxy(true).start().await;
    let helix = on_mock(&mock);
    mock.faults().push_for(
        FaultMatcher::method("POST").and_path_suffix("/entry/CHG:ChangeInterface_Create"),
        Fault::DropAfterProcessing,
        1,
    );
    let t = helix
        .create_ticket(&new_of(TicketKind::Change, "req-chg-lost"))
        .await
        .unwrap();
    assert_eq!(mock.faults().applied(), 1);
    let changes: Vec<_> = mock
        .entries(accesslink_testkit::helix::CHANGE)
        .into_iter()
        .filter(|r| r.values.get("Vendor Ticket Number") == Some(&json!("req-chg-lost")))
        .collect();
    assert_eq!(changes.len(), 1, "one change, not two");
    assert_eq!(
        t.reference.number(),
        changes[0].values["Infrastructure Change ID"].as_str()
    );
}

#[tokio::test]
async fn a_change_close_the_workflow_refuses_is_a_business_error() {
    let mock = HelixMock::start().await;
    let helix = crate::HelixConnector::from_settings(settings_with(&mock, |v| {
        v["change"] = serde_json::to_value(accesslink_helix::TicketWorkflow::change()).unwrap();
        v["change"]["status_reason"] = json!("");
    }))
    .unwrap();
    let number = mock.add_change("Firewall rule", "Implementation In Progress");
    let r = helix.parse_ticket_ref(&number).unwrap();
    let e = helix
        .close_ticket(&r, &Resolution::done("done"))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
    let puts = mock
        .received()
        .await
        .iter()
        .filter(|r| r.method.as_str() == "PUT")
        .count();
    assert_eq!(puts, 1, "a business refusal is sent once");
}
