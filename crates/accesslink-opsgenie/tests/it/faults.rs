//! Faults on writes and reads: lost answers, 5xx and 429 on creates and member additions,
//! HTML and truncated bodies, timeouts. Every test checks the mock's state: no twin user,
//! no lost write.

use std::time::Duration;

use accesslink_core::http::{HttpSettings, TimeoutConfig};
use accesslink_core::{
    AccountChange, AccountId, AccountSpec, CreateOutcome, ErrorKind, GrantOutcome, PageRequest,
    Provisioner,
};
use accesslink_opsgenie::{OpsGenieClient, OpsGenieConfig, OpsGenieConnector};
use accesslink_testkit::fault::{Fault, FaultMatcher};
use accesslink_testkit::opsgenie::OpsGenieMock;
use accesslink_testkit::proxy::ProxyFault;
use secrecy::SecretString;

use crate::on_mock;

fn status(code: u16) -> Fault {
    Fault::Status {
        status: code,
        body: None,
    }
}

#[tokio::test]
async fn a_create_refused_with_503_and_429_is_looked_up_then_sent_again_once_each() {
    let mock = OpsGenieMock::start().await;
    let og = on_mock(&mock);
    mock.faults()
        .push_for(FaultMatcher::route("POST", "/v2/users"), status(503), 1)
        .push_for(
            FaultMatcher::route("POST", "/v2/users"),
            Fault::TooManyRequests { retry_after: None },
            1,
        );
    let outcome = og
        .create_account(&AccountSpec::new("new@example.com").display_name("New"))
        .await
        .unwrap();
    assert!(matches!(outcome, CreateOutcome::Created(_)), "{outcome:?}");
    assert_eq!(
        mock.count("POST", "/v2/users"),
        3,
        "two refused, one accepted"
    );
    // One lookup before the first attempt and one after each refusal, then the read-back.
    assert_eq!(mock.count("GET", "/v2/users/:id"), 4);
    assert_eq!(mock.users_created(), 1);
    assert_eq!(mock.user("new@example.com").unwrap()["fullName"], "New");
}

#[tokio::test]
async fn a_lost_create_answer_is_found_not_repeated() {
    let mock = OpsGenieMock::builder().with_proxy(true).start().await;
    let og = on_mock(&mock);
    // The mock creates the user; the connection drops before the answer.
    mock.proxy()
        .unwrap()
        .push_for("POST", "/v2/users", ProxyFault::Drop, 1);
    let outcome = og
        .create_account(&AccountSpec::new("lost@example.com"))
        .await
        .unwrap();
    assert_eq!(mock.proxy().unwrap().applied(), 1);
    match outcome {
        CreateOutcome::Created(a) => assert_eq!(a.login, "lost@example.com"),
        other => panic!("{other:?}"),
    }
    assert_eq!(mock.count("POST", "/v2/users"), 1, "no second POST");
    assert_eq!(mock.users_created(), 1);
}

/// A lost create answer, a lookup that does not see the new user yet (OpsGenie reads may
/// lag its writes), then `409` on the repeat: the user that exists is the one this call
/// made, so the outcome is `Created`, not `AlreadyExists`. No twin either way.
#[tokio::test]
async fn a_lost_create_that_the_repeat_finds_taken_is_created() {
    let mock = OpsGenieMock::builder().with_proxy(true).start().await;
    let og = on_mock(&mock);
    mock.proxy()
        .unwrap()
        .push_for("POST", "/v2/users", ProxyFault::Drop, 1);
    // The first lookup (before the POST) and the one after the lost answer see nothing.
    mock.faults().push_for(
        FaultMatcher::route("GET", "/v2/users/late@example.com"),
        status(404),
        2,
    );
    let outcome = og
        .create_account(&AccountSpec::new("late@example.com"))
        .await
        .unwrap();
    assert_eq!(mock.count("POST", "/v2/users"), 2, "the repeat was refused");
    assert_eq!(mock.users_created(), 1, "no twin");
    match outcome {
        CreateOutcome::Created(a) => assert_eq!(a.login, "late@example.com"),
        other => panic!("{other:?}"),
    }
}

/// A member removal whose answer is lost is repeated (DELETE is idempotent) and the
/// repeat is answered 404: the membership was there and this call removed it —
/// `Revoked`, not `AlreadyAbsent`.
#[tokio::test]
async fn a_lost_member_removal_is_revoked() {
    let mock = OpsGenieMock::builder().with_proxy(true).start().await;
    let og = on_mock(&mock);
    let user = mock.add_user("cy@example.com", "Cy", "user").unwrap();
    let team = mock.add_team("ops", "");
    assert!(mock.add_member(&team, &user, "user"));
    mock.proxy()
        .unwrap()
        .push_for("DELETE", &format!("/members/{user}"), ProxyFault::Drop, 1);
    let e = OpsGenieConnector::team_entitlement(team.clone());
    let outcome = og.revoke(&AccountId::new(user.clone()), &e).await.unwrap();
    assert_eq!(
        mock.proxy().unwrap().applied(),
        1,
        "the first answer was lost"
    );
    assert_eq!(outcome, accesslink_core::RevokeOutcome::Revoked);
    assert!(mock.team_members(&team).is_empty());
}

/// Someone else adds the member between the check and the POST, and OpsGenie refuses
/// the addition as a duplicate: the user holds the team, so the grant is
/// `AlreadyGranted`, not an error.
#[tokio::test]
async fn a_member_added_by_someone_else_meanwhile_is_already_granted() {
    let mock = OpsGenieMock::start().await;
    let og = on_mock(&mock);
    let user = mock.add_user("di@example.com", "Di", "user").unwrap();
    let team = mock.add_team("ops", "");
    assert!(mock.add_member(&team, &user, "user"));
    // The check still sees the team without the member …
    let before = format!(
        r#"{{"data":{{"id":"{team}","name":"ops","description":"","members":[]}},"took":0.01,"requestId":"r1"}}"#
    );
    mock.faults().push_for(
        FaultMatcher::route("GET", &format!("/v2/teams/{team}")),
        Fault::Status {
            status: 200,
            body: Some(before),
        },
        1,
    );
    // … and the POST is refused as a duplicate.
    mock.faults().push_for(
        FaultMatcher::route("POST", "/members"),
        Fault::Status {
            status: 409,
            body: Some(
                r#"{"message":"User is already a member of the team","took":0.01,"requestId":"r2"}"#
                    .into(),
            ),
        },
        1,
    );
    let e = OpsGenieConnector::team_entitlement(team.clone());
    let outcome = og.grant(&AccountId::new(user), &e).await.unwrap();
    assert_eq!(outcome, GrantOutcome::AlreadyGranted);
    assert_eq!(mock.team_members(&team).len(), 1);
}

#[tokio::test]
async fn a_lost_member_addition_is_found_not_repeated() {
    let mock = OpsGenieMock::builder().with_proxy(true).start().await;
    let og = on_mock(&mock);
    let user = mock.add_user("ann@example.com", "Ann", "user").unwrap();
    let team = mock.add_team("ops", "");
    mock.proxy()
        .unwrap()
        .push_for("POST", "/members", ProxyFault::Drop, 1);
    let e = OpsGenieConnector::team_entitlement(team.clone());
    let outcome = og.grant(&AccountId::new(user.clone()), &e).await.unwrap();
    assert_eq!(outcome, GrantOutcome::Granted);
    assert_eq!(mock.count("POST", "/v2/teams/:id/members"), 1);
    assert_eq!(mock.team_members(&team).len(), 1);
}

#[tokio::test]
async fn a_throttled_member_addition_waits_and_lands_once() {
    let mock = OpsGenieMock::start().await;
    let og = on_mock(&mock);
    let user = mock.add_user("bo@example.com", "Bo", "user").unwrap();
    let team = mock.add_team("ops", "");
    mock.faults().push_for(
        FaultMatcher::route("POST", "/members"),
        Fault::TooManyRequests { retry_after: None },
        3,
    );
    let e = OpsGenieConnector::team_entitlement(team.clone());
    assert_eq!(
        og.grant(&AccountId::new(user), &e).await.unwrap(),
        GrantOutcome::Granted
    );
    assert_eq!(mock.count("POST", "/v2/teams/:id/members"), 4);
    assert_eq!(mock.team_members(&team).len(), 1);
}

#[tokio::test]
async fn patches_are_retried_like_reads_and_throttling_past_the_budget_is_rate_limited() {
    let mock = OpsGenieMock::start().await;
    let og = on_mock(&mock);
    let user = mock.add_user("cy@example.com", "Cy", "user").unwrap();
    let id = AccountId::new(user.clone());
    mock.faults()
        .push_for(FaultMatcher::route("PATCH", "/v2/users/"), status(502), 2);
    let a = og
        .update_account(&id, &AccountChange::new().display_name("Cy Young"))
        .await
        .unwrap();
    assert_eq!(a.display_name.as_deref(), Some("Cy Young"));
    assert_eq!(mock.count("PATCH", "/v2/users/:id"), 3);
    mock.throttle_next(5);
    let e = og.get_account(&id).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::RateLimited);
    assert_eq!(e.vendor_code(), Some("THROTTLED"));
    assert!(e.to_string().contains("Configuration:PerMinute"), "{e}");
    assert_eq!(mock.faults().applied(), 7);
}

#[tokio::test]
async fn html_truncated_and_empty_bodies_are_protocol_errors() {
    let mock = OpsGenieMock::builder().generated_users(10).start().await;
    let og = on_mock(&mock);
    for fault in [
        Fault::Html,
        Fault::TruncatedJson,
        Fault::MalformedJson,
        Fault::EmptyBody,
    ] {
        mock.faults().push(fault.clone(), 1);
        let e = og.list_accounts(PageRequest::first()).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Protocol, "{fault:?}: {e}");
        assert!(e.to_string().contains("GET /v2/users"), "{e}");
    }
    // A proxy's HTML error page with a 502 is retried, then the real answer comes.
    mock.faults().push(
        Fault::Status {
            status: 502,
            body: Some("<html><body>Bad gateway</body></html>".into()),
        },
        1,
    );
    assert_eq!(
        og.list_accounts(PageRequest::first())
            .await
            .unwrap()
            .items
            .len(),
        10
    );
}

#[tokio::test]
async fn a_slow_answer_is_a_timeout_after_the_attempts() {
    let mock = OpsGenieMock::builder().generated_users(1).start().await;
    let client = OpsGenieClient::builder()
        .base_url(mock.url())
        .api_key(SecretString::from(mock.api_key().to_owned()))
        .http(
            HttpSettings::new()
                .retry(crate::retry().max_attempts(2))
                .timeouts(TimeoutConfig::new().attempt(Duration::from_millis(100))),
        )
        .build()
        .unwrap();
    let og = OpsGenieConnector::new(client, OpsGenieConfig::new());
    mock.faults().delay_next(2, Duration::from_millis(400));
    let e = og.list_accounts(PageRequest::first()).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Timeout);
    assert_eq!(mock.count("GET", "/v2/users"), 2);
}

#[tokio::test]
async fn a_failed_read_back_still_reports_the_created_user() {
    let mock = OpsGenieMock::start().await;
    let og = on_mock(&mock);
    // The lookup before the create is answered normally (a zero delay is "no fault");
    // the read-back after it fails on every attempt.
    let reads = || FaultMatcher::route("GET", "/v2/users/");
    mock.faults()
        .push_for(reads(), Fault::Delay(Duration::ZERO), 1)
        .push_for(reads(), status(503), 5);
    let spec = AccountSpec::new("rb@example.com").display_name("Read Back");
    let outcome = og.create_account(&spec).await.unwrap();
    let CreateOutcome::Created(a) = outcome else {
        panic!("{outcome:?}")
    };
    let stored = mock.user("rb@example.com").unwrap();
    assert_eq!(a.id.as_str(), stored["id"].as_str().unwrap());
    assert_eq!(
        (a.login.as_str(), a.display_name.as_deref()),
        ("rb@example.com", Some("Read Back"))
    );
    assert_eq!(mock.count("POST", "/v2/users"), 1);
    assert_eq!(mock.faults().applied(), 6);
}
