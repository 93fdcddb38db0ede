//! Requests and changes against the mock: approval apart from state (the gate's "the
//! change must be approved"), display ids on Cloud, `input_data` on the wire, HTTP-200
//! errors, MSP scoping, closing.

use std::sync::Arc;

use accesslink_core::{
    ApprovalState, Comment, CorrelationId, ErrorKind, NewTicket, Person, Resolution, TicketKind,
    TicketState, TicketingSystem,
};
use accesslink_sdp::SdpConnector;
use accesslink_testkit::sdp::{Deployment, SdpMock};
use accesslink_workflow::gate::{
    AccessAttempt, ApprovalRule, Principal, TicketGate, TicketPolicy, open_states,
};
use serde_json::Value;

use crate::{on, settings_of};

fn input_of_query(url: &url::Url) -> Value {
    let raw = url
        .query_pairs()
        .find(|(k, _)| k == "input_data")
        .expect("input_data in the query")
        .1;
    serde_json::from_str(&raw).unwrap()
}

fn input_of_form(body: &[u8]) -> Value {
    let raw = url::form_urlencoded::parse(body)
        .find(|(k, _)| k == "input_data")
        .expect("input_data in the form")
        .1;
    serde_json::from_str(&raw).unwrap()
}

#[tokio::test]
async fn change_approval_is_kept_apart_from_state_and_the_gate_requires_it() {
    for deployment in [Deployment::OnPremises, Deployment::Cloud] {
        let mock = SdpMock::builder().deployment(deployment).start().await;
        let approved =
            mock.add_change("Patch db-prod-01", "Approval", "Approved", Some("Approved"));
        let pending = mock.add_change(
            "Patch db-prod-01",
            "Approval",
            "Requested",
            Some("Pending Approval"),
        );
        let denied = mock.add_change("Patch db-prod-01", "Approval", "Rejected", Some("Denied"));
        let implementing =
            mock.add_change("Patch db-prod-01", "Implementation", "In Progress", None);
        let sdp = on(&mock);
        let expect = [
            (&approved, ApprovalState::Approved),
            (&pending, ApprovalState::Requested),
            (&denied, ApprovalState::Rejected),
            (&implementing, ApprovalState::Approved),
        ];
        for (n, want) in expect {
            let r = sdp.parse_ticket_ref(&format!("CH-{n}")).unwrap();
            let t = sdp.get_ticket(&r).await.unwrap().expect("the change");
            assert_eq!(t.kind, TicketKind::Change);
            assert_eq!(
                t.approval.as_ref().map(|a| a.state),
                Some(want),
                "{n}: {t:?}"
            );
        }
        // Same stage, different approval: the state alone does not decide.
        let a = sdp
            .get_ticket(&sdp.parse_ticket_ref(&format!("CH-{approved}")).unwrap())
            .await
            .unwrap()
            .unwrap();
        let p = sdp
            .get_ticket(&sdp.parse_ticket_ref(&format!("CH-{pending}")).unwrap())
            .await
            .unwrap()
            .unwrap();
        assert!(a.status.state.is_open() && p.status.state.is_open());

        let policy = TicketPolicy::new()
            .allowed_kinds([TicketKind::Change])
            .states_for(TicketKind::Change, open_states())
            .approval(ApprovalRule::Kinds(vec![TicketKind::Change]));
        let gate = TicketGate::new(Arc::new(sdp), policy);
        let alice = Principal::new("alice");
        let verdicts = [
            (format!("CH-{approved}"), true),
            (format!("CH-{pending}"), false),
            (format!("CH-{denied}"), false),
            ("CH-99999".to_owned(), false),
            ("CH-1 OR 1=1".to_owned(), false),
        ];
        for (typed, allow) in verdicts {
            let v = gate
                .check(
                    &AccessAttempt::new(alice.clone(), "connect", "db-prod-01")
                        .ticket(typed.as_str()),
                )
                .await;
            assert_eq!(v.allow, allow, "{deployment:?} {typed}: {:?}", v.reasons);
        }
    }
}

#[tokio::test]
async fn cloud_display_ids_are_searched_and_confirmed() {
    let mock = SdpMock::start_cloud().await;
    let n = mock.add_request("VPN access", None);
    let id = mock.id_of(false, &n).unwrap();
    assert_ne!(id, n, "Cloud ids differ from display ids");
    let sdp = on(&mock);
    let t = sdp
        .get_ticket(&sdp.parse_ticket_ref(&n).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(t.reference.id(), Some(id.as_str()));
    assert_eq!(t.reference.number(), Some(n.as_str()));
    assert_eq!(
        t.requester
            .as_ref()
            .and_then(|p| p.email.clone())
            .as_deref(),
        Some("jane@example.com")
    );
    assert_eq!(
        t.requester
            .as_ref()
            .and_then(|p| p.login.clone())
            .as_deref(),
        Some("jdoe")
    );
    let received = mock.received().await;
    let search = received
        .iter()
        .find(|r| r.method == "GET" && r.url.path().ends_with("/requests"))
        .expect("a search");
    let info = input_of_query(&search.url);
    assert_eq!(
        info["list_info"]["search_criteria"][0]["field"],
        "display_id"
    );
    assert_eq!(info["list_info"]["search_criteria"][0]["value"], n.as_str());
    // No GET by the display id as if it were the id (Cloud).
    assert!(
        !received
            .iter()
            .any(|r| r.url.path().ends_with(&format!("/requests/{n}")))
    );
}

#[tokio::test]
async fn creates_send_input_data_in_a_form_and_are_idempotent() {
    let mock = SdpMock::start_on_premises().await;
    let mut s = settings_of(&mock);
    s.correlation_udf = Some("udf_sline_301".into());
    s.request_template = Some("Access Request".into());
    let sdp = SdpConnector::from_settings(s).unwrap();
    let new = NewTicket::new(
        TicketKind::Request,
        "Grant VPN",
        "for <b>jane</b>",
        CorrelationId::new("IAM-REQ-123"),
    )
    .requester(Person {
        email: Some("jane@example.com".into()),
        ..Person::default()
    })
    .priority("High");
    let first = sdp.create_ticket(&new).await.unwrap();
    let second = sdp.create_ticket(&new).await.unwrap();
    assert_eq!(first.reference, second.reference);
    assert_eq!(
        first.correlation_id.as_ref().map(CorrelationId::as_str),
        Some("IAM-REQ-123")
    );
    assert_eq!(mock.ticket_count(), 1);
    let received = mock.received().await;
    let posts: Vec<_> = received.iter().filter(|r| r.method == "POST").collect();
    assert_eq!(posts.len(), 1);
    let ct = posts[0]
        .headers
        .get("content-type")
        .unwrap()
        .to_str()
        .unwrap();
    assert!(ct.starts_with("application/x-www-form-urlencoded"), "{ct}");
    let body = input_of_form(&posts[0].body);
    assert_eq!(body["request"]["subject"], "Grant VPN");
    assert_eq!(
        body["request"]["udf_fields"]["udf_sline_301"],
        "IAM-REQ-123"
    );
    assert_eq!(body["request"]["requester"]["email_id"], "jane@example.com");
    assert_eq!(body["request"]["template"]["name"], "Access Request");
    assert_eq!(body["request"]["priority"]["name"], "High");
    // The look-ups searched the UDF.
    let gets: Vec<Value> = received
        .iter()
        .filter(|r| r.method == "GET" && r.url.path().ends_with("/requests"))
        .map(|r| input_of_query(&r.url))
        .collect();
    assert!(
        gets.iter()
            .any(|g| g["list_info"]["search_criteria"][0]["field"] == "udf_fields.udf_sline_301")
    );
}

#[tokio::test]
async fn a_bad_key_answered_with_http_200_is_an_error() {
    let mock = SdpMock::start_on_premises().await;
    let mut s = settings_of(&mock);
    s.auth =
        serde_json::from_value(serde_json::json!({"method": "technician_key", "key": "wrong"}))
            .unwrap();
    let sdp = SdpConnector::from_settings(s).unwrap();
    let e = sdp
        .get_ticket(&sdp.parse_ticket_ref("101").unwrap())
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unauthenticated, "{e}");
    // The mock answered HTTP 200 with status code 4022; a key cannot be renewed, so one
    // search and no retry.
    assert_eq!(mock.received().await.len(), 1);
}

#[tokio::test]
async fn mandatory_fields_missing_is_invalid_input_with_the_fields() {
    let mock = SdpMock::start_msp().await;
    let mut s = settings_of(&mock);
    s.deployment = serde_json::from_value(
        serde_json::json!({"kind": "msp", "base_url": mock.url(), "account": "Initech"}),
    )
    .unwrap();
    let sdp = SdpConnector::from_settings(s).unwrap();
    let e = sdp
        .create_ticket(&NewTicket::new(
            TicketKind::Request,
            "x",
            "y",
            CorrelationId::new("c-1"),
        ))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
    assert_eq!(e.vendor_code(), Some("4001"));
    assert!(
        e.to_string().contains("account") || format!("{e:?}").contains("account"),
        "{e:?}"
    );
}

#[tokio::test]
async fn msp_tickets_of_another_account_are_not_ours() {
    let mock = SdpMock::start_msp().await;
    let ours = mock.add_request("ours", Some("Acme"));
    let theirs = mock.add_request("theirs", Some("Globex"));
    let sdp = on(&mock);
    assert!(
        sdp.get_ticket(&sdp.parse_ticket_ref(&ours).unwrap())
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        sdp.get_ticket(&sdp.parse_ticket_ref(&theirs).unwrap())
            .await
            .unwrap()
            .is_none()
    );
    let both = [
        sdp.parse_ticket_ref(&ours).unwrap(),
        sdp.parse_ticket_ref(&theirs).unwrap(),
    ];
    let got = sdp.get_tickets(&both).await.unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].extra["account"], "Acme");
    // Searches were scoped to the account.
    let received = mock.received().await;
    let search = received
        .iter()
        .find(|r| r.method == "GET" && r.url.path().ends_with("/requests"))
        .unwrap();
    let criteria = input_of_query(&search.url)["list_info"]["search_criteria"].clone();
    assert!(
        criteria
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["field"] == "account.name" && c["value"] == "Acme"),
        "{criteria}"
    );
}

#[tokio::test]
async fn batched_reads_use_one_search_per_batch() {
    let mock = SdpMock::start_cloud().await;
    let ns: Vec<String> = (0..5)
        .map(|i| mock.add_request(&format!("r{i}"), None))
        .collect();
    let sdp = on(&mock);
    let refs: Vec<_> = ns
        .iter()
        .map(|n| sdp.parse_ticket_ref(n).unwrap())
        .collect();
    let before = mock.received().await.len();
    let got = sdp.get_tickets(&refs).await.unwrap();
    let mut numbers: Vec<String> = got
        .iter()
        .map(|t| t.reference.number().unwrap().to_owned())
        .collect();
    numbers.sort();
    assert_eq!(numbers, ns);
    let received = mock.received().await;
    let lists: Vec<_> = received[before..]
        .iter()
        .filter(|r| r.url.path().contains("/api/v3/"))
        .collect();
    assert_eq!(lists.len(), 1, "one search for five references");
    let c = &input_of_query(&lists[0].url)["list_info"]["search_criteria"][0];
    assert_eq!(c["values"].as_array().unwrap().len(), 5);
}

#[tokio::test]
async fn closing_uses_the_deployments_action_and_notes_keep_visibility() {
    for (deployment, action) in [
        (Deployment::OnPremises, "/close"),
        (Deployment::Cloud, "/_close"),
    ] {
        let mock = SdpMock::builder().deployment(deployment).start().await;
        let n = mock.add_request("VPN", None);
        let sdp = on(&mock);
        let r = sdp.parse_ticket_ref(&n).unwrap();
        sdp.add_comment(&r, &Comment::internal("checked by IAM"))
            .await
            .unwrap();
        sdp.add_comment(&r, &Comment::public("granted"))
            .await
            .unwrap();
        assert_eq!(
            mock.notes(false, &n),
            vec![
                ("checked by IAM".to_owned(), false),
                ("granted".to_owned(), true)
            ]
        );
        let closed = sdp
            .close_ticket(&r, &Resolution::done("Granted by IAM"))
            .await
            .unwrap();
        assert_eq!(closed.status.state, TicketState::Closed);
        assert_eq!(closed.resolution.as_deref(), Some("success"));
        let received = mock.received().await;
        let put = received.iter().find(|r| r.method == "PUT").unwrap();
        assert!(
            put.url.path().ends_with(action),
            "{deployment:?}: {}",
            put.url
        );
        let body = input_of_form(&put.body);
        assert_eq!(
            body["request"]["closure_info"]["closure_comments"],
            "Granted by IAM"
        );
        // A second close is a no-op: already terminal, nothing sent.
        let puts = received.iter().filter(|r| r.method == "PUT").count();
        sdp.close_ticket(&r, &Resolution::done("again"))
            .await
            .unwrap();
        assert_eq!(
            mock.received()
                .await
                .iter()
                .filter(|r| r.method == "PUT")
                .count(),
            puts
        );
    }
}

#[tokio::test]
async fn changes_close_by_stage_and_status() {
    let mock = SdpMock::start_on_premises().await;
    let n = mock.add_change("Patch", "Implementation", "In Progress", Some("Approved"));
    let sdp = on(&mock);
    let r = sdp.parse_ticket_ref(&format!("change:{n}")).unwrap();
    let t = sdp
        .close_ticket(&r, &Resolution::failed("rolled back"))
        .await
        .unwrap();
    assert_eq!(t.status.state, TicketState::Cancelled);
    let v = mock.ticket(true, &n).unwrap();
    assert_eq!(v["stage"]["name"], "Close");
    assert_eq!(v["status"]["name"], "Canceled");
    assert_eq!(
        mock.notes(true, &n),
        vec![("rolled back".to_owned(), false)]
    );
}
