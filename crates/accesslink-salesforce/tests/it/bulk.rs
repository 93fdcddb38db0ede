//! sObject Collections grants and revokes, the daily API budget, freezing users, and the
//! entitlement types beyond permission sets and groups.

use std::sync::{Arc, Mutex};

use accesslink_core::{
    AccountId, EntitlementRef, EntitlementType, ErrorKind, Grant, GrantOutcome, PageRequest,
    Provisioner, RevokeOutcome,
};
use accesslink_salesforce::{ApiBudget, ApiUsage, ApiUsageMetrics, DisableBy, SalesforceConnector};
use accesslink_testkit::Mock;
use accesslink_testkit::fault::{Fault, FaultMatcher};
use accesslink_testkit::salesforce::{SalesforceMock, id18};
use serde_json::{Value, json};

use crate::{on, settings_of};

fn users(mock: &SalesforceMock) -> Vec<String> {
    mock.records("User")
        .iter()
        .filter(|u| {
            u["Username"]
                .as_str()
                .is_some_and(|n| n.starts_with("user."))
        })
        .map(|u| u["Id"].as_str().unwrap().to_owned())
        .collect()
}

fn ps(id: &str) -> EntitlementRef {
    EntitlementRef::new(EntitlementType::new("permission_set"), id)
}

async fn posts_to(mock: &SalesforceMock, suffix: &str) -> Vec<Value> {
    mock.received()
        .await
        .iter()
        .filter(|r| r.method.as_str() == "POST" && r.url.path().ends_with(suffix))
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect()
}

#[tokio::test]
async fn collection_grants_map_every_item_in_one_request() {
    let mock = SalesforceMock::builder().users(3).start().await;
    let sf = on(&mock);
    let u = users(&mock);
    let payroll = mock.id_by_name("PermissionSet", "Payroll_Admin").unwrap();
    let team = mock.id_by_name("Group", "Payroll Team").unwrap();
    // u1 already holds Payroll_Admin.
    mock.insert(
        "PermissionSetAssignment",
        json!({"AssigneeId": u[1], "PermissionSetId": payroll}),
    );
    let missing_ps = id18("0PSDw0AbZ00zzzz");
    let grants = vec![
        Grant::new(u[0].as_str(), ps(&payroll)),
        Grant::new(u[1].as_str(), ps(&payroll)),
        Grant::new(
            u[2].as_str(),
            EntitlementRef::new(EntitlementType::group(), team.clone()),
        ),
        Grant::new(u[2].as_str(), ps(&missing_ps)),
        Grant::new("005' OR Id != null", ps(&payroll)),
    ];
    let out = sf.grant_all(&grants).await.unwrap();
    assert_eq!(out.len(), 5);
    assert_eq!(*out[0].as_ref().unwrap(), GrantOutcome::Granted);
    assert_eq!(*out[1].as_ref().unwrap(), GrantOutcome::AlreadyGranted);
    assert_eq!(*out[2].as_ref().unwrap(), GrantOutcome::Granted);
    let e = out[3].as_ref().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    assert_eq!(e.vendor_code(), Some("INVALID_CROSS_REFERENCE_KEY"));
    assert_eq!(out[4].as_ref().unwrap_err().kind(), ErrorKind::InvalidInput);
    // One collection request (assignments of both kinds), the malformed id never sent;
    // no single-record create.
    let bodies = posts_to(&mock, "/composite/sobjects").await;
    assert_eq!(bodies.len(), 1);
    assert_eq!(bodies[0]["allOrNone"], json!(false));
    let records = bodies[0]["records"].as_array().unwrap();
    assert_eq!(records.len(), 4);
    assert!(records.iter().all(|r| r["attributes"]["type"].is_string()));
    assert!(!format!("{records:?}").contains("OR Id"));
    assert!(
        posts_to(&mock, "/sobjects/PermissionSetAssignment")
            .await
            .is_empty()
    );
    assert_eq!(mock.records("PermissionSetAssignment").len(), 2);
    assert_eq!(mock.records("GroupMember").len(), 1);
}

#[tokio::test]
async fn two_hundred_fifty_grants_are_two_requests() {
    let mock = SalesforceMock::builder().users(250).start().await;
    let sf = on(&mock);
    let payroll = mock.id_by_name("PermissionSet", "Payroll_Admin").unwrap();
    let grants: Vec<Grant> = users(&mock)
        .iter()
        .map(|u| Grant::new(u.as_str(), ps(&payroll)))
        .collect();
    assert_eq!(grants.len(), 250);
    let before = mock.request_count();
    let out = sf.grant_all(&grants).await.unwrap();
    assert!(
        out.iter()
            .all(|o| *o.as_ref().unwrap() == GrantOutcome::Granted)
    );
    let bodies = posts_to(&mock, "/composite/sobjects").await;
    let sizes: Vec<usize> = bodies
        .iter()
        .map(|b| b["records"].as_array().unwrap().len())
        .collect();
    assert_eq!(sizes, vec![200, 50]);
    // A token and the two collection calls.
    assert!(mock.request_count() - before <= 3);
    assert_eq!(mock.records("PermissionSetAssignment").len(), 250);
}

#[tokio::test]
async fn an_ambiguous_failure_is_settled_by_a_look_up_never_a_blind_repeat() {
    let mock = SalesforceMock::builder().users(3).start().await;
    let sf = on(&mock);
    let payroll = mock.id_by_name("PermissionSet", "Payroll_Admin").unwrap();
    let grants: Vec<Grant> = users(&mock)
        .iter()
        .map(|u| Grant::new(u.as_str(), ps(&payroll)))
        .collect();
    // The server saves all three, then the gateway answers 504.
    mock.faults().push_for(
        FaultMatcher::route("POST", "/composite/sobjects"),
        Fault::StatusAfterProcessing { status: 504 },
        1,
    );
    let out = sf.grant_all(&grants).await.unwrap();
    assert!(
        out.iter()
            .all(|o| *o.as_ref().unwrap() == GrantOutcome::Granted)
    );
    assert_eq!(mock.records("PermissionSetAssignment").len(), 3);
    assert_eq!(posts_to(&mock, "/composite/sobjects").await.len(), 1);
    let lookups = mock
        .received()
        .await
        .iter()
        .filter(|r| {
            r.url
                .query()
                .is_some_and(|q| q.contains("PermissionSetAssignment") && q.contains("IN"))
        })
        .count();
    assert_eq!(lookups, 1);
}

#[tokio::test]
async fn after_a_refused_attempt_only_the_missing_are_sent_again() {
    let mock = SalesforceMock::builder().users(3).start().await;
    let sf = on(&mock);
    let payroll = mock.id_by_name("PermissionSet", "Payroll_Admin").unwrap();
    let u = users(&mock);
    let grants: Vec<Grant> = u
        .iter()
        .map(|u| Grant::new(u.as_str(), ps(&payroll)))
        .collect();
    // 503 before anything is saved; meanwhile u0 got the set elsewhere.
    mock.faults().push_for(
        FaultMatcher::route("POST", "/composite/sobjects"),
        Fault::Status {
            status: 503,
            body: None,
        },
        1,
    );
    mock.insert(
        "PermissionSetAssignment",
        json!({"AssigneeId": u[0], "PermissionSetId": payroll}),
    );
    let out = sf.grant_all(&grants).await.unwrap();
    assert!(out.iter().all(|o| o.is_ok()), "{out:?}");
    let bodies = posts_to(&mock, "/composite/sobjects").await;
    assert_eq!(bodies.len(), 2, "{bodies:?}");
    assert_eq!(bodies[1]["records"].as_array().unwrap().len(), 2);
    assert_eq!(mock.records("PermissionSetAssignment").len(), 3);
}

#[tokio::test]
async fn collection_revokes_delete_what_is_found() {
    let mock = SalesforceMock::builder().users(3).start().await;
    let sf = on(&mock);
    let payroll = mock.id_by_name("PermissionSet", "Payroll_Admin").unwrap();
    let u = users(&mock);
    let grants: Vec<Grant> = u
        .iter()
        .map(|u| Grant::new(u.as_str(), ps(&payroll)))
        .collect();
    let _ = sf.grant_all(&grants[..2]).await.unwrap();
    let out = sf.revoke_all(&grants).await.unwrap();
    let got: Vec<RevokeOutcome> = out.into_iter().map(Result::unwrap).collect();
    assert_eq!(
        got,
        vec![
            RevokeOutcome::Revoked,
            RevokeOutcome::Revoked,
            RevokeOutcome::AlreadyAbsent
        ]
    );
    assert!(mock.records("PermissionSetAssignment").is_empty());
    let deletes: Vec<String> = mock
        .received()
        .await
        .iter()
        .filter(|r| r.method.as_str() == "DELETE")
        .map(|r| r.url.to_string())
        .collect();
    assert_eq!(deletes.len(), 1, "{deletes:?}");
    assert!(deletes[0].contains("/composite/sobjects?ids="));
    assert!(deletes[0].contains("allOrNone=false"));
}

#[derive(Debug, Default)]
struct Seen(Mutex<Vec<ApiUsage>>);

impl ApiUsageMetrics for Seen {
    fn record(&self, usage: ApiUsage) {
        self.0.lock().unwrap().push(usage);
    }
}

#[tokio::test]
async fn api_usage_is_read_from_every_answer_and_the_budget_stops_imports() {
    let mock = SalesforceMock::builder().users(5).start().await;
    let mut s = settings_of(&mock);
    s.api_budget = serde_json::from_value(json!({"import_stop_percent": 90})).unwrap();
    assert_eq!(
        s.api_budget,
        serde_json::from_value::<ApiBudget>(json!({"import_stop_percent": 90})).unwrap()
    );
    let sf = SalesforceConnector::from_settings(s).unwrap();
    let seen = Arc::new(Seen::default());
    sf.client().api_usage().set_metrics(seen.clone());
    mock.set_api_usage(1000, 2000);
    let page = sf
        .list_accounts(PageRequest::first().size(100))
        .await
        .unwrap();
    assert!(!page.items.is_empty());
    let last = sf.client().api_usage().last().unwrap();
    assert_eq!((last.used, last.limit), (1002, 2000));
    assert_eq!(seen.0.lock().unwrap().len(), 2, "one reading per answer");
    // Usage past 90 %: the next answer reports it, then imports stop before sending.
    mock.set_api_usage(1799, 2000);
    let user = AccountId::new(users(&mock)[0].clone());
    sf.set_enabled(&user, true).await.unwrap();
    let before = mock.request_count();
    let e = sf
        .list_accounts(PageRequest::first().size(100))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::RateLimited);
    assert_eq!(e.vendor_code(), Some("API_BUDGET_THRESHOLD"));
    assert!(e.to_string().contains("1800/2000"), "{e}");
    let e = sf
        .list_grants(&EntitlementType::group(), PageRequest::first().size(10))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::RateLimited);
    assert_eq!(mock.request_count(), before, "nothing sent");
    // Single writes (a leaver) still go out.
    sf.set_enabled(&user, false).await.unwrap();
    assert_eq!(
        mock.record("User", user.as_str()).unwrap()["IsActive"],
        json!(false)
    );
}

#[tokio::test]
async fn the_daily_quota_403_is_rate_limited() {
    let mock = SalesforceMock::builder().users(2).start().await;
    let sf = on(&mock);
    mock.set_daily_limit(Some(0));
    let e = sf
        .list_accounts(PageRequest::first().size(10))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::RateLimited, "{e}");
    assert_eq!(e.vendor_code(), Some("REQUEST_LIMIT_EXCEEDED"));
}

#[tokio::test]
async fn freeze_disables_through_user_login_and_keeps_the_user_active() {
    let mock = SalesforceMock::builder().users(3).start().await;
    let mut s = settings_of(&mock);
    s.disable_by = DisableBy::Freeze;
    let sf = SalesforceConnector::from_settings(s).unwrap();
    let id = users(&mock)[1].clone();
    let login = |mock: &SalesforceMock| {
        mock.records("UserLogin")
            .into_iter()
            .find(|l| l["UserId"] == json!(id))
            .unwrap()
    };
    sf.set_enabled(&AccountId::new(id.clone()), false)
        .await
        .unwrap();
    assert_eq!(login(&mock)["IsFrozen"], json!(true));
    assert_eq!(mock.record("User", &id).unwrap()["IsActive"], json!(true));
    let page = sf
        .list_accounts(PageRequest::first().size(100))
        .await
        .unwrap();
    for a in &page.items {
        assert_eq!(a.enabled, Some(a.id.as_str() != id), "{}", a.id);
    }
    sf.set_enabled(&AccountId::new(id.clone()), true)
        .await
        .unwrap();
    assert_eq!(login(&mock)["IsFrozen"], json!(false));
    let patched: Vec<String> = mock
        .received()
        .await
        .iter()
        .filter(|r| r.method.as_str() == "PATCH")
        .map(|r| r.url.path().to_owned())
        .collect();
    assert!(
        patched.iter().all(|p| p.contains("/sobjects/UserLogin/")),
        "{patched:?}"
    );
}

#[tokio::test]
async fn permission_set_groups_queues_and_the_profile() {
    let mock = SalesforceMock::builder().users(2).start().await;
    let sf = on(&mock);
    let types: Vec<&str> = sf.entitlement_types().iter().map(|t| t.as_str()).collect();
    assert_eq!(
        types,
        [
            "permission_set",
            "permission_set_group",
            "group",
            "queue",
            "profile"
        ]
    );
    let u = AccountId::new(users(&mock)[0].clone());
    // Permission set group: an assignment with PermissionSetGroupId.
    let psg_ty = EntitlementType::new("permission_set_group");
    let groups = sf
        .list_entitlements(&psg_ty, PageRequest::first().size(10))
        .await
        .unwrap();
    assert_eq!(groups.items.len(), 1);
    assert_eq!(groups.items[0].name, "Finance Bundle");
    let psg = groups.items[0].reference.clone();
    assert_eq!(sf.grant(&u, &psg).await.unwrap(), GrantOutcome::Granted);
    assert_eq!(
        sf.grant(&u, &psg).await.unwrap(),
        GrantOutcome::AlreadyGranted
    );
    let psa = mock.records("PermissionSetAssignment");
    assert_eq!(psa.len(), 1);
    assert_eq!(psa[0]["PermissionSetGroupId"], json!(psg.id.as_str()));
    let g = sf
        .list_grants(&psg_ty, PageRequest::first().size(10))
        .await
        .unwrap();
    assert_eq!(g.items.len(), 1);
    let g = sf
        .list_grants(
            &EntitlementType::new("permission_set"),
            PageRequest::first().size(10),
        )
        .await
        .unwrap();
    assert!(
        g.items.is_empty(),
        "a group's assignment is not a permission set grant"
    );
    // Queues: only Type = 'Queue' groups.
    let queue_ty = EntitlementType::new("queue");
    let queues = sf
        .list_entitlements(&queue_ty, PageRequest::first().size(10))
        .await
        .unwrap();
    let names: Vec<&str> = queues.items.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["Tier 1 Queue"]);
    let q = queues.items[0].reference.clone();
    assert_eq!(sf.grant(&u, &q).await.unwrap(), GrantOutcome::Granted);
    assert_eq!(sf.revoke(&u, &q).await.unwrap(), RevokeOutcome::Revoked);
    assert_eq!(
        sf.revoke(&u, &q).await.unwrap(),
        RevokeOutcome::AlreadyAbsent
    );
    // The profile: granted by an update, never revoked.
    let profile_ty = EntitlementType::new("profile");
    let read_only = mock.id_by_name("Profile", "Read Only").unwrap();
    let p = EntitlementRef::new(profile_ty.clone(), read_only.clone());
    assert_eq!(sf.grant(&u, &p).await.unwrap(), GrantOutcome::Granted);
    assert_eq!(
        mock.record("User", u.as_str()).unwrap()["ProfileId"],
        json!(read_only)
    );
    assert_eq!(
        sf.grant(&u, &p).await.unwrap(),
        GrantOutcome::AlreadyGranted
    );
    let e = sf.revoke(&u, &p).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unsupported);
    let held = sf
        .list_grants(&profile_ty, PageRequest::first().size(50))
        .await
        .unwrap();
    assert!(
        held.items
            .iter()
            .any(|g| g.account == u && g.entitlement.id.as_str() == read_only)
    );
    // The profile in a bulk job goes one by one; revoking it there is Unsupported too.
    let out = sf
        .revoke_all(&[
            Grant::new(u.clone(), p.clone()),
            Grant::new(u.clone(), psg.clone()),
        ])
        .await
        .unwrap();
    assert_eq!(out[0].as_ref().unwrap_err().kind(), ErrorKind::Unsupported);
    assert_eq!(*out[1].as_ref().unwrap(), RevokeOutcome::Revoked);
}

#[tokio::test]
async fn a_wrong_shaped_collection_answer_is_settled_by_a_look_up() {
    let mock = SalesforceMock::builder().users(2).start().await;
    let sf = on(&mock);
    let payroll = mock.id_by_name("PermissionSet", "Payroll_Admin").unwrap();
    let grants: Vec<Grant> = users(&mock)
        .iter()
        .map(|u| Grant::new(u.as_str(), ps(&payroll)))
        .collect();
    // 200 with fewer results than records, then `{}`: never read as "nothing to do".
    for body in ["[]", "{}"] {
        mock.faults().push_for(
            FaultMatcher::route("POST", "/composite/sobjects"),
            Fault::Status {
                status: 200,
                body: Some(body.into()),
            },
            1,
        );
    }
    let out = sf.grant_all(&grants).await.unwrap();
    assert!(
        out.iter()
            .all(|o| *o.as_ref().unwrap() == GrantOutcome::Granted)
    );
    // Two unreadable answers, each followed by a look-up, then the real write.
    assert_eq!(posts_to(&mock, "/composite/sobjects").await.len(), 3);
    assert_eq!(mock.records("PermissionSetAssignment").len(), 2);
    // A request refused as a whole stops the job with the vendor's error.
    mock.faults().push_for(
        FaultMatcher::route("POST", "/composite/sobjects"),
        Fault::Status {
            status: 400,
            body: Some(r#"[{"message":"bad","errorCode":"JSON_PARSER_ERROR"}]"#.into()),
        },
        1,
    );
    let e = sf.grant_all(&grants).await.unwrap_err();
    assert_eq!(e.vendor_code(), Some("JSON_PARSER_ERROR"));
}
