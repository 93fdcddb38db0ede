//! The application password never reaches the logs, at TRACE, through a whole ticket
//! lifecycle and an error. Its own binary: tracing caches call-site interest per process.

use accesslink_core::{
    Comment, CorrelationId, NewTicket, PageRequest, Provisioner, Resolution, TicketKind,
    TicketingSystem,
};
use accesslink_testkit::Mock;
use accesslink_testkit::conformance::secrets_never_printed;
use accesslink_testkit::fault::Fault;
use accesslink_testkit::logs::CapturedLogs;
use accesslink_testkit::topdesk::TopdeskMock;
use accesslink_topdesk::{TopdeskConnector, TopdeskSettings};
use base64::Engine as _;

const CANARY: &str = "td-trace-canary-7f3e";

#[tokio::test]
async fn nothing_secret_in_trace_logs() {
    let logs = CapturedLogs::start();
    let mock = TopdeskMock::builder()
        .credentials("svc-iam", CANARY)
        .generated_operators(3)
        .start()
        .await;
    let mut v = Mock::settings(&mock);
    v.as_object_mut().unwrap().remove("target");
    let settings: TopdeskSettings = serde_json::from_value(v).unwrap();
    let td = TopdeskConnector::from_settings(settings).unwrap();
    let t = td
        .create_ticket(&NewTicket::new(
            TicketKind::Incident,
            "title",
            "body",
            CorrelationId::new("REQ-T1"),
        ))
        .await
        .unwrap();
    td.add_comment(&t.reference, &Comment::internal("note"))
        .await
        .unwrap();
    td.close_ticket(&t.reference, &Resolution::done("done"))
        .await
        .unwrap();
    td.list_accounts(PageRequest::first()).await.unwrap();
    mock.faults().push(
        Fault::Status {
            status: 500,
            body: Some(format!("server error for password {CANARY}")),
        },
        5,
    );
    assert!(td.list_accounts(PageRequest::first()).await.is_err());
    let text = logs.text();
    assert!(
        text.contains("/tas/api/incidents"),
        "the capture saw the requests"
    );
    let header = base64::engine::general_purpose::STANDARD.encode(format!("svc-iam:{CANARY}"));
    secrets_never_printed(&text, &[CANARY, &header]).unwrap();
}
