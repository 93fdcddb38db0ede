//! The wire protocol against scripted answers: parameters on every read, reference
//! shapes, error bodies, rate limits, HTML.

use accesslink_core::{AccountSpec, ApprovalState, CreateOutcome};
use accesslink_core::{ErrorKind, Provisioner, TicketState, TicketingSystem};
use serde_json::json;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::scripted::{basic, fallback, header, param, result, sn_error};

const INC_ID: &str = "9d385017c611228701d22104cc95c371";
const CALLER: &str = "5137153cc611227c000bbd1bd8cd2005";

#[tokio::test]
async fn get_by_number_asks_for_fields_and_plain_references() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/now/table/incident"))
        .and(query_param("sysparm_query", "number=INC0010042"))
        .respond_with(result(200, json!([{
            "sys_id": INC_ID, "number": "INC0010042", "state": "2", "active": "true",
            "short_description": "Grant access to Payroll app",
            // The instance ignored exclude_reference_link: the model copes.
            "caller_id": { "link": format!("https://x/api/now/table/sys_user/{CALLER}"), "value": CALLER },
            "assigned_to": { "display_value": "Beth Anglin", "value": "46d44a23a9fe19810012d100cca80666" },
            "approval": "approved", "correlation_id": "IAM-REQ-7781", "sys_class_name": "incident",
            "sys_created_on": "2024-05-02 09:14:11", "close_code": "", "u_cost_center": "42"
        }])))
        .expect(1)
        .mount(&server)
        .await;
    fallback(&server).await;
    let sn = basic(&server.uri());
    let r = sn.parse_ticket_ref("inc0010042").unwrap();
    let t = sn.get_ticket(&r).await.unwrap().unwrap();
    assert_eq!(t.reference.id(), Some(INC_ID));
    assert_eq!(t.reference.scope(), Some("incident"));
    assert_eq!(t.status.state, TicketState::InProgress);
    assert_eq!(t.status.raw, "2");
    assert_eq!(t.approval_state(), ApprovalState::Approved);
    assert_eq!(t.requester.unwrap().id.as_deref(), Some(CALLER));
    assert_eq!(t.assignee.unwrap().name.as_deref(), Some("Beth Anglin"));
    assert_eq!(t.correlation_id.unwrap().as_str(), "IAM-REQ-7781");
    assert_eq!(t.extra["u_cost_center"], "42");
    assert!(t.created.is_some());
    assert_eq!(
        t.web_url.as_deref(),
        Some(format!("{}/incident.do?sys_id={INC_ID}", server.uri()).as_str())
    );

    let seen = server.received_requests().await.unwrap();
    assert_eq!(seen.len(), 1);
    let r = &seen[0];
    assert_eq!(
        param(r, "sysparm_exclude_reference_link").as_deref(),
        Some("true")
    );
    let fields = param(r, "sysparm_fields").unwrap();
    for f in [
        "sys_id",
        "number",
        "state",
        "approval",
        "correlation_id",
        "sys_class_name",
    ] {
        assert!(fields.split(',').any(|x| x == f), "{f} in {fields}");
    }
    assert!(header(r, "authorization").unwrap().starts_with("Basic "));
    assert_eq!(header(r, "accept"), Some("application/json"));
}

#[tokio::test]
async fn a_missing_or_hidden_row_is_none() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/api/now/table/task/{INC_ID}")))
        .respond_with(sn_error(
            404,
            "No Record found",
            Some("Record doesn't exist or ACL restricts the record retrieval"),
        ))
        .expect(1)
        .mount(&server)
        .await;
    fallback(&server).await;
    let sn = basic(&server.uri());
    let r = sn.parse_ticket_ref(INC_ID).unwrap();
    assert!(sn.get_ticket(&r).await.unwrap().is_none());
}

#[tokio::test]
async fn error_bodies_become_error_kinds() {
    let rows = [
        (
            sn_error(400, "Invalid table incident", None),
            ErrorKind::InvalidInput,
        ),
        (
            sn_error(
                401,
                "User Not Authenticated",
                Some("Required to provide Auth information"),
            ),
            ErrorKind::Unauthenticated,
        ),
        (
            sn_error(
                403,
                "ACL Exception Insert Failed due to security constraints",
                None,
            ),
            ErrorKind::PermissionDenied,
        ),
        (sn_error(500, "boom", None), ErrorKind::Unavailable),
        (
            ResponseTemplate::new(200)
                .insert_header("content-type", "text/html")
                .set_body_string("<html><body>Instance Hibernating</body></html>"),
            ErrorKind::Protocol,
        ),
        (
            ResponseTemplate::new(200)
                .insert_header("content-type", "application/json")
                .set_body_string(r#"{"result":[{"sys_id":"9d38"#),
            ErrorKind::Protocol,
        ),
    ];
    for (answer, kind) in rows {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/api/now/table/incident"))
            .respond_with(answer)
            .mount(&server)
            .await;
        fallback(&server).await;
        let client = accesslink_servicenow::ServiceNowClient::builder(server.uri())
            .basic("u", secrecy::SecretString::from("p"))
            .http(
                accesslink_core::http::HttpSettings::new()
                    .retry(accesslink_core::http::RetryConfig::disabled()),
            )
            .build()
            .unwrap();
        let sn = accesslink_servicenow::ServiceNowConnector::new(
            client,
            accesslink_servicenow::ServiceNowConfig::new(),
        )
        .unwrap();
        let r = sn.parse_ticket_ref("INC0010001").unwrap();
        let e = sn.get_ticket(&r).await.unwrap_err();
        assert_eq!(e.kind(), kind, "{e}");
    }
}

#[tokio::test]
async fn a_429_carries_the_rate_limit_headers() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/now/table/incident"))
        .respond_with(
            sn_error(429, "Rate limit exceeded", None)
                .insert_header("Retry-After", "0")
                .insert_header("X-RateLimit-Limit", "100")
                .insert_header("X-RateLimit-Reset", "1767225600")
                .insert_header("X-RateLimit-Rule", "0d7a5d06db7f2300f1e5fb4a4b9619c4"),
        )
        .expect(3)
        .mount(&server)
        .await;
    fallback(&server).await;
    let sn = basic(&server.uri());
    let r = sn.parse_ticket_ref("INC0010001").unwrap();
    let e = sn.get_ticket(&r).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::RateLimited);
    let rl = e.rate_limit().expect("rate limit info");
    assert_eq!(rl.limit, Some(100));
    assert_eq!(rl.reset.as_deref(), Some("1767225600"));
    assert!(e.to_string().contains("Rate limit exceeded"), "{e}");
}

#[tokio::test]
async fn a_duplicate_user_name_insert_is_already_exists() {
    // Another writer creates the user between the look-up and the insert.
    let server = MockServer::start().await;
    let existing = json!({ "sys_id": CALLER, "user_name": "jdoe", "active": "true" });
    Mock::given(method("GET"))
        .and(path("/api/now/table/sys_user"))
        .and(query_param("sysparm_query", "user_name=jdoe"))
        .respond_with(result(200, json!([])))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/now/table/sys_user"))
        .respond_with(sn_error(
            403,
            "Operation Failed",
            Some("Error during insert of sys_user (jdoe)"),
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/now/table/sys_user"))
        .and(query_param("sysparm_query", "user_name=jdoe"))
        .respond_with(result(200, json!([existing])))
        .expect(1)
        .mount(&server)
        .await;
    fallback(&server).await;
    let sn = basic(&server.uri());
    match sn.create_account(&AccountSpec::new("jdoe")).await.unwrap() {
        CreateOutcome::AlreadyExists(a) => assert_eq!(a.id.as_str(), CALLER),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_duplicate_user_name_after_a_lost_insert_is_created() {
    // The first insert's answer is a 502, the look-up does not see the row yet, the second
    // insert is refused as a duplicate: the row is ours (an earlier send may have landed),
    // so `Created`, not `AlreadyExists`.
    let server = MockServer::start().await;
    let ours = json!({ "sys_id": CALLER, "user_name": "jdoe", "active": "true" });
    for rows in [json!([]), json!([]), json!([ours])] {
        Mock::given(method("GET"))
            .and(path("/api/now/table/sys_user"))
            .and(query_param("sysparm_query", "user_name=jdoe"))
            .respond_with(result(200, rows))
            .up_to_n_times(1)
            .expect(1)
            .mount(&server)
            .await;
    }
    Mock::given(method("POST"))
        .and(path("/api/now/table/sys_user"))
        .respond_with(sn_error(502, "Bad Gateway", None))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/now/table/sys_user"))
        .respond_with(sn_error(
            403,
            "Operation Failed",
            Some("Error during insert of sys_user (jdoe)"),
        ))
        .expect(1)
        .mount(&server)
        .await;
    fallback(&server).await;
    let sn = basic(&server.uri());
    match sn.create_account(&AccountSpec::new("jdoe")).await.unwrap() {
        CreateOutcome::Created(a) => assert_eq!(a.id.as_str(), CALLER),
        other => panic!("{other:?}"),
    }
    let sent: Vec<String> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| r.method.to_string())
        .collect();
    assert_eq!(sent, ["GET", "POST", "GET", "POST", "GET"]);
}

#[tokio::test]
async fn a_refused_state_change_is_reported_not_swallowed() {
    // A business rule aborts the update: 200, row unchanged (fact sheet §1 quirks).
    let server = MockServer::start().await;
    let row = json!({ "sys_id": INC_ID, "number": "CHG0030001", "state": "-1", "sys_class_name": "change_request" });
    Mock::given(method("GET"))
        .and(path("/api/now/table/change_request"))
        .respond_with(result(200, json!([row.clone()])))
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path(format!("/api/now/table/change_request/{INC_ID}")))
        .respond_with(result(200, row.clone()))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/api/now/table/change_request/{INC_ID}")))
        .respond_with(result(200, row))
        .expect(1)
        .mount(&server)
        .await;
    fallback(&server).await;
    let sn = basic(&server.uri());
    let r = sn.parse_ticket_ref("CHG0030001").unwrap();
    let e = sn
        .close_ticket(&r, &accesslink_core::Resolution::done("done"))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conflict, "{e}");
    let patch = &server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.method.as_str() == "PATCH")
        .unwrap();
    let body: serde_json::Value = serde_json::from_slice(&patch.body).unwrap();
    assert_eq!(
        body,
        json!({"state": "3", "close_code": "successful", "close_notes": "done"})
    );
}

#[tokio::test]
async fn an_incident_kept_at_resolved_when_closed_was_asked_is_a_conflict() {
    // A business rule lets the resolve through but aborts the close: 200, state 6.
    let server = MockServer::start().await;
    let open = json!({ "sys_id": INC_ID, "number": "INC0010001", "state": "2", "sys_class_name": "incident" });
    let resolved = json!({ "sys_id": INC_ID, "number": "INC0010001", "state": "6", "active": "true",
        "close_code": "Solution provided", "close_notes": "done", "sys_class_name": "incident" });
    Mock::given(method("GET"))
        .and(path("/api/now/table/incident"))
        .respond_with(result(200, json!([open])))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path(format!("/api/now/table/incident/{INC_ID}")))
        .respond_with(result(200, resolved.clone()))
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/api/now/table/incident/{INC_ID}")))
        .respond_with(result(200, resolved))
        .expect(1)
        .mount(&server)
        .await;
    fallback(&server).await;
    let sn = basic(&server.uri());
    let r = sn.parse_ticket_ref("INC0010001").unwrap();
    let e = sn
        .close_ticket(&r, &accesslink_core::Resolution::done("done"))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conflict, "{e}");
    assert!(e.to_string().contains("ResolveOnly"), "{e}");
}

#[tokio::test]
async fn a_login_differing_only_in_case_already_exists() {
    // The instance matches user_name case-insensitively and so does its unique index:
    // inserting `jdoe` next to `JDoe` would fail, so it is the existing account.
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/now/table/sys_user"))
        .and(query_param("sysparm_query", "user_name=jdoe"))
        .respond_with(result(
            200,
            json!([{ "sys_id": CALLER, "user_name": "JDoe", "active": "true" }]),
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/now/table/sys_user"))
        .respond_with(result(201, json!({})))
        .expect(0)
        .mount(&server)
        .await;
    fallback(&server).await;
    let sn = basic(&server.uri());
    match sn.create_account(&AccountSpec::new("jdoe")).await.unwrap() {
        CreateOutcome::AlreadyExists(a) => {
            assert_eq!(a.id.as_str(), CALLER);
            assert_eq!(a.login, "JDoe");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn test_connection_never_names_another_user_as_the_principal() {
    // A user name that cannot go into a query: the read is unfiltered and returns
    // whichever user sorts first.
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/now/table/sys_user"))
        .respond_with(result(
            200,
            json!([{ "sys_id": CALLER, "user_name": "abel.tuter" }]),
        ))
        .expect(1)
        .mount(&server)
        .await;
    fallback(&server).await;
    let client = accesslink_servicenow::ServiceNowClient::builder(server.uri())
        .basic("svc^integration", secrecy::SecretString::from("p"))
        .build()
        .unwrap();
    let sn = accesslink_servicenow::ServiceNowConnector::new(
        client,
        accesslink_servicenow::ServiceNowConfig::new(),
    )
    .unwrap();
    let report = accesslink_core::Connector::test_connection(&sn)
        .await
        .unwrap();
    assert_eq!(report.principal.as_deref(), Some("svc^integration"));
}

#[tokio::test]
async fn an_insert_answered_without_a_row_is_an_error_not_a_ticket_or_account_without_id() {
    // A business rule aborted the insert and the instance still answered 201.
    let server = MockServer::start().await;
    for table in ["incident", "sys_user"] {
        Mock::given(method("POST"))
            .and(path(format!("/api/now/table/{table}")))
            .respond_with(result(201, json!({})))
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path(format!("/api/now/table/{table}")))
            .respond_with(result(200, json!([])))
            .expect(2)
            .mount(&server)
            .await;
    }
    fallback(&server).await;
    let sn = basic(&server.uri());
    let new = accesslink_core::NewTicket::new(
        accesslink_core::TicketKind::Incident,
        "t",
        "d",
        accesslink_core::CorrelationId::new("REQ-ABORT"),
    );
    let e = sn.create_ticket(&new).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conflict, "{e}");
    let e = sn
        .create_account(&AccountSpec::new("jdoe"))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conflict, "{e}");
}
