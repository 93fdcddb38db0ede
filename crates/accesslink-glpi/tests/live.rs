//! The GLPI connector against a real GLPI 10.0.11 server.
//!
//! Runs when `GLPI_BASE_URL` is set (see `shared/glpi/README.md`:
//! `eval "$(bash ../shared/glpi/start.sh | sed 's/^/export /')"`), and skips with a
//! one-line reason otherwise. With `ACCESSLINK_REQUIRE_LIVE=1` (set by `.ci/run`) a
//! missing server is a failure, not a skip.
//!
//! Variables: `GLPI_BASE_URL`, `GLPI_APP_TOKEN`, `GLPI_USER_TOKEN`, `GLPI_LOGIN`,
//! `GLPI_PASSWORD`. The server keeps its data between runs: every test uses fresh names
//! and purges what it creates, except the 2,000 import users (`al-import-NNNN`), made
//! once and found again on later runs.

mod glpi_live;

use accesslink_core::{
    AccountId, AccountSpec, ApprovalState, Comment, CorrelationId, ErrorKind, Provisioner,
    Resolution, TicketKind, TicketRef, TicketState, TicketingSystem,
};
use accesslink_glpi::api::ListParams;
use accesslink_glpi::models::Followup;
use accesslink_glpi::{GlpiClient, GlpiConfig, GlpiConnector, GlpiSettings};
use accesslink_testkit::conformance::fresh_id;
use accesslink_testkit::proxy::ProxyFault;
use secrecy::SecretString;
use serde_json::json;

use glpi_live::{LiveTickets, live, request};

#[tokio::test]
async fn login_with_token_and_password_and_refusals() {
    let Some(l) = live() else { return };
    let report = accesslink_core::Connector::test_connection(&l.connector())
        .await
        .unwrap();
    assert_eq!(report.principal.as_deref(), Some(l.login.as_str()));
    // The password variant of the settings, as a configuration file would give it.
    let by_password = GlpiConnector::from_settings(
        serde_json::from_value::<GlpiSettings>(json!({
            "base_url": l.base,
            "auth": {
                "method": "password",
                "user": l.login,
                "password": l.password,
                "app_token": { "env": "GLPI_APP_TOKEN" },
            },
        }))
        .unwrap(),
    )
    .unwrap();
    let report = accesslink_core::Connector::test_connection(&by_password)
        .await
        .unwrap();
    assert_eq!(report.principal.as_deref(), Some(l.login.as_str()));
    by_password.close().await.unwrap();

    let wrong_token = GlpiConnector::new(
        GlpiClient::builder(&l.base)
            .app_token(SecretString::from(l.app_token.clone()))
            .user_token(SecretString::from("not-the-user-token-0123456789"))
            .build()
            .unwrap(),
        GlpiConfig::new(),
    );
    let err = accesslink_core::Connector::test_connection(&wrong_token)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthenticated, "{err}");
    assert!(
        err.to_string()
            .contains("refused the login of the user token"),
        "{err}"
    );
    let shown = format!("{err} {err:?} {wrong_token:?}");
    assert!(!shown.contains("not-the-user-token"), "{shown}");
    assert!(!shown.contains(&l.app_token), "{shown}");

    let wrong_app = GlpiConnector::new(
        GlpiClient::builder(&l.base)
            .app_token(SecretString::from("wrong-app-token-0123456789"))
            .user_token(SecretString::from(l.user_token.clone()))
            .build()
            .unwrap(),
        GlpiConfig::new(),
    );
    let err = accesslink_core::Connector::test_connection(&wrong_app)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthenticated, "{err}");
    assert!(err.to_string().contains("App-Token"), "{err}");
    let source = std::error::Error::source(&err)
        .map(ToString::to_string)
        .unwrap_or_default();
    assert!(
        source.contains("ERROR_WRONG_APP_TOKEN_PARAMETER"),
        "{source}"
    );
}

#[tokio::test]
async fn ticket_lifecycle_with_private_and_public_followups() {
    let Some(l) = live() else { return };
    let glpi = l.connector();
    let id = fresh_id("LIFE");
    let new = request(&id).priority("4");
    let t = glpi.create_ticket(&new).await.unwrap();
    let tid: u64 = t.reference.id().unwrap().parse().unwrap();
    assert_eq!(t.kind, TicketKind::Request);
    assert_eq!(t.status.state, TicketState::New);
    assert_eq!(t.status.raw, "1");
    assert_eq!(t.approval_state(), ApprovalState::NotRequested);
    assert_eq!(
        t.correlation_id.as_ref().map(CorrelationId::as_str),
        Some(id.as_str())
    );
    assert_eq!(
        t.description.as_deref(),
        Some("Requested by bob: a < b & c, äöü €")
    );
    assert!(
        t.web_url
            .as_deref()
            .unwrap()
            .ends_with(&format!("/front/ticket.form.php?id={tid}"))
    );
    // What the server stored.
    let raw = glpi.client().tickets().get(tid).await.unwrap();
    assert_eq!(
        (raw.kind, raw.other["urgency"].as_u64()),
        (Some(2), Some(4))
    );
    assert!(raw.name.ends_with(&format!("[corr:{id}]")));

    let r = glpi.parse_ticket_ref(&format!("#{tid}")).unwrap();
    assert_eq!(r, t.reference);
    let got = glpi.get_ticket(&r).await.unwrap().unwrap();
    assert_eq!(got.title, t.title);
    assert_eq!(got.extra["validations"], json!([]));

    glpi.add_comment(&r, &Comment::public("visible note"))
        .await
        .unwrap();
    glpi.add_comment(&r, &Comment::internal("internal note"))
        .await
        .unwrap();
    let followups: Vec<Followup> = glpi
        .client()
        .tickets()
        .sub_items(tid, "ITILFollowup")
        .await
        .unwrap();
    let stored: Vec<(&str, Option<u64>)> = followups
        .iter()
        .map(|f| (f.content.as_str(), f.is_private))
        .collect();
    assert!(stored.contains(&("visible note", Some(0))), "{stored:?}");
    assert!(stored.contains(&("internal note", Some(1))), "{stored:?}");

    let closed = glpi
        .close_ticket(&r, &Resolution::done("access granted"))
        .await
        .unwrap();
    assert_eq!(
        (closed.status.state, closed.status.raw.as_str()),
        (TicketState::Closed, "6")
    );
    let raw = glpi.client().tickets().get(tid).await.unwrap();
    assert!(raw.solvedate.is_some() && raw.closedate.is_some());
    let solutions: Vec<serde_json::Value> = glpi
        .client()
        .tickets()
        .sub_items(tid, "ITILSolution")
        .await
        .unwrap();
    assert_eq!(solutions.len(), 1);
    assert_eq!(solutions[0]["content"], "access granted");
    // Closing again is harmless: no second solution (GLPI would refuse it anyway).
    let again = glpi
        .close_ticket(&r, &Resolution::done("again"))
        .await
        .unwrap();
    assert_eq!(again.status.state, TicketState::Closed);
    let solutions: Vec<serde_json::Value> = glpi
        .client()
        .tickets()
        .sub_items(tid, "ITILSolution")
        .await
        .unwrap();
    assert_eq!(solutions.len(), 1);

    assert!(
        glpi.get_ticket(&TicketRef::by_id("999999999"))
            .await
            .unwrap()
            .is_none()
    );
    let err = glpi
        .add_comment(&TicketRef::by_id("999999999"), &Comment::public("x"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    let batch = glpi
        .get_tickets(&[r.clone(), TicketRef::by_id("999999998")])
        .await
        .unwrap();
    assert_eq!(batch.len(), 1);
    assert_eq!(batch[0].reference, r);
    l.purge("Ticket", tid).await;
}

#[tokio::test]
async fn idempotent_create_and_confirmed_correlation() {
    let Some(l) = live() else { return };
    let glpi = l.connector();
    let id = fresh_id("IDEM");
    let first = glpi.create_ticket(&request(&id)).await.unwrap();
    let mut retitled = request(&id);
    retitled.title = "another title".into();
    let second = glpi.create_ticket(&retitled).await.unwrap();
    assert_eq!(first.reference, second.reference);
    assert_eq!(l.count_tagged("Ticket", &id).await, 1);
    let found = glpi
        .find_by_correlation(&CorrelationId::new(&id))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.reference, first.reference);
    // A prefix of a correlation id is another correlation id.
    let prefix = &id[..id.len() - 2];
    assert!(
        glpi.find_by_correlation(&CorrelationId::new(prefix))
            .await
            .unwrap()
            .is_none()
    );
    // Closed tickets are still found: the request keeps its ticket.
    glpi.close_ticket(&first.reference, &Resolution::done("done"))
        .await
        .unwrap();
    let again = glpi.create_ticket(&request(&id)).await.unwrap();
    assert_eq!(again.reference, first.reference);
    // A trashed ticket is not the request's ticket any more.
    let tid: u64 = first.reference.id().unwrap().parse().unwrap();
    glpi.client().tickets().delete(tid, false).await.unwrap();
    let trashed = glpi.get_ticket(&first.reference).await.unwrap().unwrap();
    assert_eq!(trashed.status.state, TicketState::Cancelled);
    assert!(
        glpi.find_by_correlation(&CorrelationId::new(&id))
            .await
            .unwrap()
            .is_none()
    );
    l.purge("Ticket", tid).await;
}

#[tokio::test]
async fn create_again_after_a_dropped_response_gives_one_ticket() {
    let Some(l) = live() else { return };
    let (proxy, glpi) = l.through_proxy(GlpiConfig::new()).await;
    let id = fresh_id("DROP");
    // The server creates the ticket; the client never hears back.
    proxy.push_for("POST", "/Ticket", ProxyFault::Drop, 1);
    let t = glpi.create_ticket(&request(&id)).await.unwrap();
    assert_eq!(proxy.applied(), 1, "the create's answer was dropped");
    assert_eq!(
        proxy.requests_to("POST", "/Ticket"),
        1,
        "no second POST /Ticket"
    );
    assert_eq!(
        l.count_tagged("Ticket", &id).await,
        1,
        "exactly one ticket carries {id}"
    );
    let again = glpi.create_ticket(&request(&id)).await.unwrap();
    assert_eq!(again.reference, t.reference);
    assert_eq!(proxy.requests_to("POST", "/Ticket"), 1);
    l.purge("Ticket", t.reference.id().unwrap().parse().unwrap())
        .await;
}

#[tokio::test]
async fn change_approval_follows_the_validation_records() {
    let Some(l) = live() else { return };
    let glpi = l.connector();
    let mut new = request(&fresh_id("CHG"));
    new.kind = TicketKind::Change;
    let c = glpi.create_ticket(&new).await.unwrap();
    let cid: u64 = c.reference.id().unwrap().parse().unwrap();
    assert_eq!(c.kind, TicketKind::Change);
    assert_eq!(c.reference.number(), Some(format!("CHG-{cid}").as_str()));
    let r = glpi.parse_ticket_ref(&format!("chg{cid}")).unwrap();
    assert_eq!(r, c.reference);

    let me = l.my_user_id().await;
    let validations = glpi.client().change_validations();
    let vid = validations
        .create(
            &json!({ "changes_id": cid, "users_id_validate": me, "comment_submission": "please" }),
        )
        .await
        .unwrap();
    let asked = glpi.get_ticket(&r).await.unwrap().unwrap();
    assert_eq!(asked.approval_state(), ApprovalState::Requested);
    assert_eq!(asked.extra["validations"][0]["approval"], "requested");
    validations
        .update(vid, &json!({ "status": 3, "comment_validation": "ok" }))
        .await
        .unwrap();
    glpi.client()
        .changes()
        .update(cid, &json!({ "status": 7 }))
        .await
        .unwrap();
    let approved = glpi.get_ticket(&r).await.unwrap().unwrap();
    assert_eq!(approved.approval_state(), ApprovalState::Approved);
    assert_eq!(approved.approval.as_ref().unwrap().raw, "3");
    assert_eq!(
        (approved.status.state, approved.status.raw.as_str()),
        (TicketState::InProgress, "7")
    );
    assert_eq!(approved.extra["status_label"], "Accepted");
    assert_eq!(approved.extra["validations"][0]["comment_validation"], "ok");

    // An unsuccessful close cancels a change.
    let cancelled = glpi
        .close_ticket(&r, &Resolution::failed("not needed"))
        .await
        .unwrap();
    assert_eq!(
        (cancelled.status.state, cancelled.status.raw.as_str()),
        (TicketState::Cancelled, "14")
    );
    l.purge("Change", cid).await;
}

#[tokio::test]
async fn update_and_delete_results_are_checked_item_by_item() {
    let Some(l) = live() else { return };
    let glpi = l.connector();
    let err = glpi
        .client()
        .tickets()
        .update(999_999_999, &json!({ "status": 2 }))
        .await
        .unwrap_err();
    assert_eq!(err.vendor_code(), Some("ERROR_GLPI_UPDATE"), "{err}");
    let err = glpi
        .client()
        .users()
        .delete(999_999_999, true)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    assert_eq!(err.vendor_code(), Some("ERROR_GLPI_DELETE"));
    let err = glpi
        .client()
        .items::<serde_json::Value>("NoSuchItemtype")
        .get(1)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    assert_eq!(
        err.vendor_code(),
        Some("ERROR_RESOURCE_NOT_FOUND_NOR_COMMONDBTM")
    );
    // A range past the end is the end, not an error.
    let past = glpi
        .client()
        .profiles()
        .list(100_000, 10, &ListParams::by_id())
        .await
        .unwrap();
    assert!(past.items.is_empty() && !past.more());
}

#[tokio::test]
async fn injected_and_malformed_ids_never_reach_the_server() {
    let Some(l) = live() else { return };
    let (proxy, glpi) = l.through_proxy(GlpiConfig::new()).await;
    for raw in accesslink_testkit::conformance::injection_attempts()
        .iter()
        .map(String::as_str)
        .chain(["#", "0", "012", "CHG-", "INC123", "1 2", "-5", "Ticket#5"])
    {
        let e = glpi.parse_ticket_ref(raw).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "{raw:?}");
        for r in [TicketRef::by_id(raw), TicketRef::by_number(raw)] {
            assert_eq!(
                glpi.get_ticket(&r).await.unwrap_err().kind(),
                ErrorKind::InvalidInput
            );
            assert_eq!(
                glpi.add_comment(&r, &Comment::public("x"))
                    .await
                    .unwrap_err()
                    .kind(),
                ErrorKind::InvalidInput
            );
        }
        let a = AccountId::new(raw);
        assert_eq!(
            glpi.get_account(&a).await.unwrap_err().kind(),
            ErrorKind::InvalidInput
        );
        assert_eq!(
            glpi.set_enabled(&a, false).await.unwrap_err().kind(),
            ErrorKind::InvalidInput
        );
        let e = GlpiConnector::group_entitlement(1);
        assert_eq!(
            glpi.grant(&a, &e).await.unwrap_err().kind(),
            ErrorKind::InvalidInput
        );
    }
    let bad_corr = glpi.create_ticket(&request("REQ 1%")).await.unwrap_err();
    assert_eq!(bad_corr.kind(), ErrorKind::InvalidInput);
    let bad_field = glpi
        .create_ticket(&request("REQ-ok").extra("status", 6))
        .await
        .unwrap_err();
    assert_eq!(bad_field.kind(), ErrorKind::InvalidInput);
    let bad_login = glpi
        .create_account(&AccountSpec::new(" padded "))
        .await
        .unwrap_err();
    assert_eq!(bad_login.kind(), ErrorKind::InvalidInput);
    let bad_attr = glpi
        .create_account(&AccountSpec::new("ok.login").attribute("password", "x"))
        .await
        .unwrap_err();
    assert_eq!(bad_attr.kind(), ErrorKind::InvalidInput);
    let bad_ent =
        accesslink_core::EntitlementRef::new(accesslink_core::EntitlementType::new("profile"), "6");
    assert_eq!(
        glpi.grant(&AccountId::new("5"), &bad_ent)
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidInput
    );
    let bad_token = glpi
        .list_accounts(accesslink_core::PageRequest::at(Some(
            accesslink_core::PageToken::new("glpi1:Group:1:2"),
        )))
        .await
        .unwrap_err();
    assert_eq!(bad_token.kind(), ErrorKind::InvalidInput);
    assert_eq!(proxy.requests(), 0, "nothing was sent");
}

#[tokio::test]
async fn ticketing_conformance_suite_against_the_real_server() {
    use accesslink_testkit::conformance::{TicketingSuite, run_ticketing_suite};
    let Some(l) = live() else { return };
    let (proxy, glpi) = l.through_proxy(GlpiConfig::new()).await;
    let backend = LiveTickets {
        live: &l,
        proxy: &proxy,
    };
    let base = fresh_id("CONF");
    let suite = TicketingSuite::new(request(&base))
        .bad_refs(["#", "CHG-", "0", "012", "INC-12", "Ticket#12", "12a"])
        .canaries([l.app_token.clone(), l.user_token.clone()]);
    let report = run_ticketing_suite(&glpi, &backend, &suite).await;
    eprintln!("{report}");
    // Purge what the suite opened, whatever the outcome.
    for check in ["lifecycle", "idempotent", "follow"] {
        let id = CorrelationId::new(format!("{base}-{check}"));
        if let Ok(Some(t)) = l.connector().find_by_correlation(&id).await {
            l.purge("Ticket", t.reference.id().unwrap().parse().unwrap())
                .await;
        }
    }
    report.assert_success();
    // A real server cannot be made to fail on cue: only the fault checks are skipped.
    let skipped = report
        .skipped()
        .filter(|(check, _)| !check.is_fault_check());
    assert_eq!(skipped.count(), 0, "{report}");
}

#[tokio::test]
async fn ticketing_conformance_suite_on_changes_against_the_real_server() {
    use accesslink_testkit::conformance::{TicketingSuite, run_ticketing_suite};
    let Some(l) = live() else { return };
    let (proxy, glpi) = l.through_proxy(GlpiConfig::new()).await;
    let backend = LiveTickets {
        live: &l,
        proxy: &proxy,
    };
    let base = fresh_id("CONFCHG");
    let mut template = request(&base);
    template.kind = TicketKind::Change;
    let suite = TicketingSuite::new(template).canaries([l.app_token.clone()]);
    let report = run_ticketing_suite(&glpi, &backend, &suite).await;
    eprintln!("{report}");
    for check in ["lifecycle", "idempotent", "follow"] {
        let id = CorrelationId::new(format!("{base}-{check}"));
        if let Ok(Some(t)) = l.connector().find_by_correlation(&id).await {
            l.purge("Change", t.reference.id().unwrap().parse().unwrap())
                .await;
        }
    }
    report.assert_success();
}
