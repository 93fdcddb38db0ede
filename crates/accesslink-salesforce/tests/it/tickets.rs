//! The connector's own behaviour against the mock: tokens and the instance URL, renewal
//! on `INVALID_SESSION_ID`, vendor errors, the daily limit, SOQL escaping, paging
//! faults, approvals, batched reads, requester, close confirmation, secrets.

use accesslink_core::{
    ApprovalState, Comment, CorrelationId, ErrorKind, NewTicket, Resolution, TicketKind, TicketRef,
    TicketState, TicketingSystem,
};
use accesslink_salesforce::SalesforceConnector;
use accesslink_testkit::Mock;
use accesslink_testkit::fault::{Fault, FaultMatcher};
use accesslink_testkit::salesforce::{AuthMode, Profile, SalesforceMock};
use serde_json::json;

use crate::{on, settings_of};

fn new_case(corr: &str) -> NewTicket {
    NewTicket::new(
        TicketKind::Case,
        "Grant payroll access",
        "IAM request",
        CorrelationId::new(corr),
    )
}

/// The SOQL statements the mock received, decoded.
async fn queries(mock: &SalesforceMock) -> Vec<String> {
    mock.received()
        .await
        .iter()
        .filter(|r| r.url.path().ends_with("/query"))
        .filter_map(|r| {
            r.url
                .query_pairs()
                .find(|(k, _)| k == "q")
                .map(|(_, v)| v.into_owned())
        })
        .collect()
}

#[tokio::test]
async fn a_correlation_id_with_quotes_is_escaped_in_soql() {
    let mock = SalesforceMock::start().await;
    let sf = on(&mock);
    let nasty = r"IAM-1' OR Subject != 'x\";
    let t = sf.create_ticket(&new_case(nasty)).await.unwrap();
    assert_eq!(t.correlation_id.as_ref().unwrap().as_str(), nasty);
    // Stored verbatim, and a second create finds it instead of opening another.
    let again = sf.create_ticket(&new_case(nasty)).await.unwrap();
    assert_eq!(again.reference, t.reference);
    let cases = mock.records("Case");
    assert_eq!(cases.len(), 1);
    assert_eq!(cases[0]["External_Ref__c"], json!(nasty));
    let q = queries(&mock).await;
    assert!(
        q.iter()
            .any(|q| q.contains(r"External_Ref__c = 'IAM-1\' OR Subject != \'x\\'")),
        "{q:?}"
    );
    // Control characters never reach a query.
    let before = mock.request_count();
    let e = sf.create_ticket(&new_case("a\nb")).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert_eq!(mock.request_count(), before);
}

#[tokio::test]
async fn calls_go_to_the_instance_url_and_an_expired_session_is_renewed_once() {
    let mock = SalesforceMock::start().await;
    let sf = on(&mock);
    let t = sf.create_ticket(&new_case("IAM-2")).await.unwrap();
    assert_eq!(mock.tokens_issued(), 1);
    assert_eq!(
        sf.client().instance_url().as_deref(),
        Some(mock.instance_url().as_str())
    );
    assert!(t.web_url.unwrap().starts_with(&mock.instance_url()));
    mock.expire_tokens();
    let got = sf.get_ticket(&t.reference).await.unwrap().unwrap();
    assert_eq!(got.reference, t.reference);
    assert_eq!(mock.tokens_issued(), 2);
    // The rejected call was answered 401 once and repeated once with the new token.
    let received = mock.received().await;
    let tokens = received
        .iter()
        .filter(|r| r.url.path() == "/services/oauth2/token")
        .count();
    assert_eq!(tokens, 2);
}

#[tokio::test]
async fn token_refusals_are_unauthenticated_with_the_vendor_code() {
    let mock = SalesforceMock::start().await;
    let mut s = settings_of(&mock);
    s.auth = serde_json::from_value(json!({
        "method": "client_credentials", "client_id": "3MVG9mockConsumerKey",
        "client_secret": "wrong-secret"
    }))
    .unwrap();
    let sf = SalesforceConnector::from_settings(s).unwrap();
    let e = sf
        .get_ticket(&TicketRef::by_number("00001001"))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unauthenticated, "{e}");
    assert_eq!(e.vendor_code(), Some("invalid_client"), "{e}");

    let mock = SalesforceMock::builder()
        .auth(AuthMode::Password)
        .start()
        .await;
    let mut s = settings_of(&mock);
    s.auth = serde_json::from_value(json!({
        "method": "password", "client_id": "3MVG9mockConsumerKey",
        "client_secret": mock.client_secret(), "username": "iam@acme.example",
        "password": mock.password(), "security_token": "stale-token"
    }))
    .unwrap();
    let sf = SalesforceConnector::from_settings(s).unwrap();
    let e = sf
        .get_ticket(&TicketRef::by_number("00001001"))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unauthenticated);
    assert_eq!(e.vendor_code(), Some("invalid_grant"));
    assert!(!format!("{e} {e:?}").contains("stale-token"));
}

#[tokio::test]
async fn the_daily_limit_is_rate_limited_not_permission_denied() {
    let mock = SalesforceMock::start().await;
    let sf = on(&mock);
    let t = sf.create_ticket(&new_case("IAM-3")).await.unwrap();
    mock.set_daily_limit(Some(0));
    let before = mock.request_count();
    let e = sf.get_ticket(&t.reference).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::RateLimited, "{e}");
    assert_eq!(e.vendor_code(), Some("REQUEST_LIMIT_EXCEEDED"));
    // A daily quota is not waited out: one request, no retries.
    assert_eq!(mock.request_count(), before + 1);
}

#[tokio::test]
async fn approvals_latest_wins_and_batches_are_one_query_each() {
    let mock = SalesforceMock::start().await;
    mock.set_page_size(3);
    let sf = on(&mock);
    let mut refs = Vec::new();
    for i in 0..7 {
        refs.push(
            sf.create_ticket(&new_case(&format!("B-{i}")))
                .await
                .unwrap(),
        );
    }
    let id = |i: usize| refs[i].reference.id().unwrap().to_owned();
    mock.add_approval(&id(0), "Pending");
    mock.add_approval(&id(0), "Approved");
    mock.add_approval(&id(1), "Approved");
    mock.add_approval(&id(1), "Rejected");
    mock.add_approval(&id(2), "SomethingNew");
    let before = queries(&mock).await.len();
    // Ids, numbers and a 15-character id, mixed; plus one absent number.
    let mut asked: Vec<TicketRef> = refs[..4]
        .iter()
        .map(|t| TicketRef::by_id(t.reference.id().unwrap()))
        .collect();
    asked.extend(
        refs[4..6]
            .iter()
            .map(|t| TicketRef::by_number(t.reference.number().unwrap())),
    );
    asked.push(TicketRef::by_id(&id(6)[..15]));
    asked.push(TicketRef::by_number("99999999"));
    let got = sf.get_tickets(&asked).await.unwrap();
    assert_eq!(got.len(), 7);
    let q = queries(&mock).await;
    let new: Vec<&String> = q[before..].iter().collect();
    assert_eq!(new.len(), 3, "{new:?}");
    assert!(new.iter().any(|q| q.contains("WHERE Id IN (")));
    assert!(new.iter().any(|q| q.contains("WHERE CaseNumber IN (")));
    assert!(
        new.iter()
            .any(|q| q.contains("FROM ProcessInstance WHERE TargetObjectId IN ("))
    );
    let approval = |i: usize| {
        got.iter()
            .find(|t| t.reference.id() == Some(id(i).as_str()))
            .unwrap()
            .approval
            .clone()
            .unwrap()
            .state
    };
    assert_eq!(approval(0), ApprovalState::Approved);
    assert_eq!(approval(1), ApprovalState::Rejected);
    assert_eq!(approval(2), ApprovalState::Requested);
    assert_eq!(approval(3), ApprovalState::NotRequested);
}

#[tokio::test]
async fn the_requester_is_the_contact_with_email_else_the_creator() {
    let mock = SalesforceMock::start().await;
    let sf = on(&mock);
    let mut new = new_case("IAM-4");
    new.requester = Some(accesslink_core::Person {
        id: Some(mock.contact_id()),
        ..Default::default()
    });
    let t = sf.create_ticket(&new).await.unwrap();
    let r = t.requester.unwrap();
    assert_eq!(r.email.as_deref(), Some("jane.doe@acme.example"));
    assert_eq!(r.name.as_deref(), Some("Jane Doe"));
    let case = mock.record("Case", t.reference.id().unwrap()).unwrap();
    assert_eq!(case["ContactId"], json!(mock.contact_id()));
    let t = sf.create_ticket(&new_case("IAM-5")).await.unwrap();
    let r = t.requester.unwrap();
    assert_eq!(r.email.as_deref(), Some("iam@acme.example"));
    assert_eq!(r.login.as_deref(), Some("iam@acme.example"));
}

#[tokio::test]
async fn close_is_confirmed_by_is_closed_not_by_the_label() {
    let mock = SalesforceMock::start().await;
    let mut s = settings_of(&mock);
    // A value that exists but is not flagged closed in the org.
    s.closed_status = "Escalated".into();
    let sf = SalesforceConnector::from_settings(s).unwrap();
    let t = sf.create_ticket(&new_case("IAM-6")).await.unwrap();
    let e = sf
        .close_ticket(&t.reference, &Resolution::done("granted"))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Protocol, "{e}");
    let sf = on(&mock);
    let closed = sf
        .close_ticket(&t.reference, &Resolution::done("granted"))
        .await
        .unwrap();
    assert_eq!(closed.status.state, TicketState::Closed);
    let case = mock.record("Case", t.reference.id().unwrap()).unwrap();
    assert_eq!(case["IsClosed"], json!(true));
    // The notes became a private case comment.
    let comments = mock.records("CaseComment");
    assert!(
        comments
            .iter()
            .any(|c| c["CommentBody"] == json!("granted") && c["IsPublished"] == json!(false))
    );
}

#[tokio::test]
async fn public_and_internal_comments() {
    let mock = SalesforceMock::start().await;
    let sf = on(&mock);
    let t = sf.create_ticket(&new_case("IAM-7")).await.unwrap();
    sf.add_comment(&t.reference, &Comment::public("hello customer"))
        .await
        .unwrap();
    sf.add_comment(&t.reference, &Comment::internal("agents only"))
        .await
        .unwrap();
    let c = mock.records("CaseComment");
    assert_eq!(c.len(), 2);
    assert_eq!(c[0]["IsPublished"], json!(true));
    assert_eq!(c[1]["IsPublished"], json!(false));
    assert_eq!(c[0]["ParentId"], json!(t.reference.id().unwrap()));
}

#[tokio::test]
async fn wrong_shaped_and_repeated_pages_are_errors() {
    let mock = SalesforceMock::start().await;
    let sf = on(&mock);
    let t = sf.create_ticket(&new_case("IAM-8")).await.unwrap();
    for body in [
        "{}",
        "[]",
        "null",
        r#"{"totalSize":1,"done":true,"records":null}"#,
    ] {
        mock.faults().push_for(
            FaultMatcher::method("GET").and_path("/query"),
            Fault::Status {
                status: 200,
                body: Some(body.into()),
            },
            1,
        );
        let e = sf.get_ticket(&t.reference).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Protocol, "{body}: {e}");
    }
    // totalSize larger than the rows received.
    mock.faults().push_for(
        FaultMatcher::method("GET").and_path("/query"),
        Fault::Status {
            status: 200,
            body: Some(r#"{"totalSize":5,"done":true,"records":[]}"#.into()),
        },
        1,
    );
    let e = sf.get_ticket(&t.reference).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Protocol, "{e}");
    // A nextRecordsUrl that repeats, and one that leaves /services/data/.
    let page = |next: &str| {
        format!(r#"{{"totalSize":4,"done":false,"nextRecordsUrl":"{next}","records":[]}}"#)
    };
    mock.faults().push_for(
        FaultMatcher::method("GET").and_path("/query"),
        Fault::Status {
            status: 200,
            body: Some(page("/services/data/v62.0/query/01gX-2")),
        },
        3,
    );
    let e = sf.get_ticket(&t.reference).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Protocol, "{e}");
    mock.faults().clear();
    mock.faults().push_for(
        FaultMatcher::method("GET").and_path("/query"),
        Fault::Status {
            status: 200,
            body: Some(page("https://evil.example/services/data/v62.0/query/x")),
        },
        1,
    );
    let before = mock.request_count();
    let e = sf.get_ticket(&t.reference).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Protocol, "{e}");
    assert_eq!(mock.request_count(), before + 1);
}

#[tokio::test]
async fn faults_5xx_burst_html_and_truncated_bodies() {
    let mock = SalesforceMock::builder().with_proxy(true).start().await;
    let sf = on(&mock);
    let t = sf.create_ticket(&new_case("IAM-9")).await.unwrap();
    mock.faults().fail_next(2, 503);
    assert!(sf.get_ticket(&t.reference).await.unwrap().is_some());
    mock.faults().html_next(1);
    let e = sf.get_ticket(&t.reference).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Protocol, "{e}");
    mock.faults().truncated_next(1);
    let e = sf.get_ticket(&t.reference).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Protocol, "{e}");
}

#[tokio::test]
async fn secrets_never_in_debug_output() {
    let mock = SalesforceMock::builder()
        .auth(AuthMode::Password)
        .start()
        .await;
    let s = settings_of(&mock);
    let sf = on(&mock);
    sf.create_ticket(&new_case("IAM-10")).await.unwrap();
    let text = format!("{s:?} {sf:?} {:?}", sf.client());
    for canary in [mock.client_secret(), mock.password(), mock.security_token()] {
        assert!(!text.contains(&canary), "{canary} in {text}");
    }
}

#[tokio::test]
async fn remedyforce_close_sets_the_status_lookup_by_name() {
    let mock = SalesforceMock::builder()
        .profile(Profile::Remedyforce)
        .start()
        .await;
    let sf = on(&mock);
    let mut new = new_case("RF-1");
    new.kind = TicketKind::Change;
    let t = sf.create_ticket(&new).await.unwrap();
    assert_eq!(t.kind, TicketKind::Change);
    assert_eq!(t.status.raw, "OPEN");
    assert!(t.status.state.is_open());
    let id = t.reference.id().unwrap().to_owned();
    mock.add_approval(&id, "Approved");
    let got = sf
        .get_ticket(&sf.parse_ticket_ref(t.reference.number().unwrap()).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.approval.unwrap().state, ApprovalState::Approved);
    let closed = sf
        .close_ticket(&t.reference, &Resolution::done(""))
        .await
        .unwrap();
    assert_eq!(closed.status.state, TicketState::Closed);
    let rec = mock
        .record("BMCServiceDesk__Change_Request__c", &id)
        .unwrap();
    assert_eq!(
        rec["BMCServiceDesk__FKStatus__c"],
        json!(mock.status_id("CLOSED").unwrap())
    );
    assert_eq!(rec["BMCServiceDesk__state__c"], json!(false));
}

#[tokio::test]
async fn a_token_endpoint_that_echoes_the_request_does_not_print_the_password() {
    let mock = SalesforceMock::builder()
        .auth(AuthMode::Password)
        .start()
        .await;
    let sf = on(&mock);
    mock.faults().push_for(
        FaultMatcher::route("POST", "/services/oauth2/token"),
        Fault::EchoRequest,
        1,
    );
    let e = sf
        .get_ticket(&TicketRef::by_number("00001001"))
        .await
        .unwrap_err();
    // The echo did reach the token client, and none of the grant's secrets are shown.
    assert_eq!(mock.faults().applied(), 1);
    let text = format!("{e} {e:?}");
    for canary in [mock.client_secret(), mock.password(), mock.security_token()] {
        assert!(!text.contains(&canary), "{canary} in {text}");
    }
}
