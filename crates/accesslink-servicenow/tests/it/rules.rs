//! Business-rule aborts and case-insensitive logins on the stateful mock (fact sheet §1
//! "Business-rule aborts"; the instance's collation folds case). `wire.rs` pins the exact
//! answers with scripted ones; here the mock's rows and request log show that nothing
//! was stored, nothing was sent twice, and the refusal reached the caller.

use accesslink_core::{
    AccountId, AccountSpec, CorrelationId, CreateOutcome, ErrorKind, GrantOutcome, NewTicket,
    Person, Provisioner, Resolution, TicketKind, TicketRef, TicketState, TicketingSystem,
};
use accesslink_servicenow::{group_ref, role_ref};
use accesslink_testkit::servicenow::{AbortHow, AbortRule, ServiceNowMock};
use serde_json::{Value, json};

use crate::mock::{basic_on, table_requests};

/// `"METHOD /path"` of every Table API request, in order.
fn calls(mock: &ServiceNowMock) -> Vec<String> {
    table_requests(mock)
        .into_iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect()
}

/// The bodies of the PATCHes sent to `table`, in order.
fn patches(mock: &ServiceNowMock, table: &str) -> Vec<Value> {
    let prefix = format!("/api/now/table/{table}/");
    table_requests(mock)
        .into_iter()
        .filter(|r| r.method == "PATCH" && r.path.starts_with(&prefix))
        .filter_map(|r| r.body)
        .collect()
}

fn incident(correlation: &str) -> NewTicket {
    NewTicket::new(
        TicketKind::Incident,
        "Grant access to Payroll",
        "requested by the access workflow",
        CorrelationId::new(correlation),
    )
}

#[tokio::test]
async fn an_incident_close_a_rule_drops_is_a_conflict_and_the_row_stays_resolved() {
    let mock = ServiceNowMock::start().await;
    let sn = basic_on(&mock);
    let id = mock.insert("incident", json!({"short_description": "x", "state": "2"}));
    // The rule lets the resolve (6) through and silently drops the close (7).
    mock.abort_writes("incident", AbortRule::new("state", "7", AbortHow::Silent));
    let r = TicketRef::by_id(id.clone()).with_scope("incident");
    let e = sn
        .close_ticket(&r, &Resolution::done("granted"))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conflict, "{e}");
    assert!(e.to_string().contains("ResolveOnly"), "{e}");

    let row = mock.row("incident", &id).unwrap();
    assert_eq!(
        (row["state"].as_str(), row["active"].as_str()),
        (Some("6"), Some("true"))
    );
    assert_eq!(row["closed_at"], "", "never closed");
    assert_eq!(
        patches(&mock, "incident"),
        vec![
            json!({"state": "6", "close_code": "Solution provided", "close_notes": "granted"}),
            json!({"state": "7"}),
        ],
        "each step sent once"
    );
    let path = format!("/api/now/table/incident/{id}");
    assert_eq!(
        calls(&mock),
        vec![
            format!("GET {path}"),
            format!("PATCH {path}"),
            format!("PATCH {path}"),
            format!("GET {path}"),
        ],
        "the row is read back after the accepted close"
    );

    // Without the rule the same close goes through: the rule was the refusal.
    mock.clear_abort_rules();
    let t = sn
        .close_ticket(&r, &Resolution::done("granted"))
        .await
        .unwrap();
    assert_eq!(t.status.state, TicketState::Closed);
    assert_eq!(mock.row("incident", &id).unwrap()["state"], "7");
}

#[tokio::test]
async fn a_change_close_refused_with_403_is_a_conflict_and_the_change_is_unchanged() {
    let mock = ServiceNowMock::start().await;
    let sn = basic_on(&mock);
    let id = mock.insert("change_request", json!({"short_description": "x"}));
    let number = mock.row("change_request", &id).unwrap()["number"]
        .as_str()
        .unwrap()
        .to_owned();
    let before = mock.row("change_request", &id).unwrap();
    mock.abort_writes(
        "task",
        AbortRule::new("state", "3", AbortHow::Forbidden(None)),
    );
    let r = sn.parse_ticket_ref(&number).unwrap();
    let e = sn
        .close_ticket(&r, &Resolution::done("implemented"))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conflict, "{e}");

    assert_eq!(
        mock.row("change_request", &id).unwrap(),
        before,
        "nothing stored"
    );
    assert_eq!(before["state"], "-5");
    assert_eq!(
        patches(&mock, "change_request"),
        vec![json!({"state": "3", "close_code": "successful", "close_notes": "implemented"})],
        "a refusal is not retried"
    );
    assert_eq!(mock.count("PATCH", ""), 1);
}

#[tokio::test]
async fn a_disable_a_rule_refuses_is_an_error_and_the_user_stays_active() {
    let mock = ServiceNowMock::start().await;
    let sn = basic_on(&mock);
    let uid = mock.insert("sys_user", json!({"user_name": "jdoe"}));
    let account = AccountId::new(uid.clone());
    let path = format!("/api/now/table/sys_user/{uid}");
    let hr_only = "Users are disabled by HR only";
    // Silent: the row comes back active. 403 with the default detail (`Error during
    // update of sys_user (jdoe)`): a business rule. 403 with the rule's own message: the
    // instance's answer cannot be told from an ACL refusal (fact sheet §1), so it stays
    // PermissionDenied, carrying the rule's text.
    let cases = [
        (AbortHow::Silent, ErrorKind::Conflict),
        (AbortHow::Forbidden(None), ErrorKind::Conflict),
        (
            AbortHow::Forbidden(Some(hr_only.into())),
            ErrorKind::PermissionDenied,
        ),
    ];
    for (how, kind) in cases {
        mock.clear_abort_rules();
        mock.clear_requests();
        mock.abort_writes("sys_user", AbortRule::new("active", "false", how.clone()));
        let e = sn.set_enabled(&account, false).await.unwrap_err();
        assert_eq!(e.kind(), kind, "{how:?}: {e}");
        if let AbortHow::Forbidden(Some(detail)) = &how {
            assert!(e.to_string().contains(detail.as_str()), "{e}");
        }
        let row = mock.row("sys_user", &uid).unwrap();
        assert_eq!(
            (row["active"].as_str(), row["locked_out"].as_str()),
            (Some("true"), Some("false")),
            "{how:?}: not disabled, not locked out"
        );
        assert_eq!(calls(&mock), vec![format!("PATCH {path}")], "{how:?}");
        let enabled = sn.get_account(&account).await.unwrap().unwrap().enabled;
        assert_eq!(enabled, Some(true), "{how:?}");
    }
    // Enabling does not set `active` to false: the rule lets it through.
    sn.set_enabled(&account, true).await.unwrap();
}

#[tokio::test]
async fn a_ticket_insert_answered_without_a_row_is_a_conflict_and_sent_once() {
    let mock = ServiceNowMock::start().await;
    let sn = basic_on(&mock);
    mock.abort_writes(
        "task",
        AbortRule::new("correlation_id", "REQ-ABORT", AbortHow::Silent),
    );
    let e = sn.create_ticket(&incident("REQ-ABORT")).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conflict, "{e}");
    assert!(mock.rows("task").is_empty(), "no ticket stored");
    let list = "/api/now/table/incident";
    assert_eq!(
        calls(&mock),
        vec![
            format!("GET {list}"),
            format!("POST {list}"),
            format!("GET {list}"),
        ],
        "look, insert once, look again: no second POST"
    );
    let posted = table_requests(&mock)
        .into_iter()
        .find(|r| r.method == "POST")
        .unwrap();
    assert_eq!(posted.body.unwrap()["correlation_id"], "REQ-ABORT");

    // Refused outright: the 403 is the answer, nothing is looked up or sent again.
    mock.clear_abort_rules();
    mock.clear_requests();
    mock.abort_writes(
        "incident",
        AbortRule::new("correlation_id", "REQ-403", AbortHow::Forbidden(None)),
    );
    let e = sn.create_ticket(&incident("REQ-403")).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conflict, "{e}");
    assert!(mock.rows("task").is_empty());
    assert_eq!(
        calls(&mock),
        vec![format!("GET {list}"), format!("POST {list}")]
    );
}

#[tokio::test]
async fn an_account_insert_answered_without_a_row_is_a_conflict_and_sent_once() {
    let mock = ServiceNowMock::start().await;
    let sn = basic_on(&mock);
    let list = "/api/now/table/sys_user";
    for how in [AbortHow::Silent, AbortHow::Forbidden(None)] {
        mock.clear_abort_rules();
        mock.clear_requests();
        mock.abort_writes("sys_user", AbortRule::new("user_name", "jdoe", how.clone()));
        let e = sn
            .create_account(&AccountSpec::new("jdoe").name("Jane", "Doe"))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Conflict, "{how:?}: {e}");
        assert_eq!(mock.table_len("sys_user"), 0, "{how:?}: no user stored");
        // The look-up after the answer tells "aborted" from "someone else created it".
        assert_eq!(
            calls(&mock),
            vec![
                format!("GET {list}"),
                format!("POST {list}"),
                format!("GET {list}"),
            ],
            "{how:?}"
        );
    }
}

#[tokio::test]
async fn a_grant_insert_a_rule_refuses_is_an_error_and_no_row_is_stored() {
    let mock = ServiceNowMock::start().await;
    let sn = basic_on(&mock);
    let uid = mock.insert("sys_user", json!({"user_name": "jdoe"}));
    let gid = mock.insert("sys_user_group", json!({"name": "Payroll"}));
    let rid = mock.insert("sys_user_role", json!({"name": "payroll_admin"}));
    let account = AccountId::new(uid.clone());
    let cases = [
        (
            "sys_user_grmember",
            group_ref(gid.clone()),
            AbortHow::Silent,
        ),
        (
            "sys_user_grmember",
            group_ref(gid.clone()),
            AbortHow::Forbidden(None),
        ),
        ("sys_user_has_role", role_ref(rid.clone()), AbortHow::Silent),
        (
            "sys_user_has_role",
            role_ref(rid.clone()),
            AbortHow::Forbidden(None),
        ),
    ];
    for (table, entitlement, how) in cases {
        mock.clear_abort_rules();
        mock.clear_requests();
        mock.abort_writes(table, AbortRule::new("user", &uid, how.clone()));
        let outcome = sn.grant(&account, &entitlement).await;
        let e = match outcome {
            Err(e) => e,
            Ok(o) => panic!("{table} {how:?}: reported {o:?} with no row stored"),
        };
        assert_eq!(e.kind(), ErrorKind::Conflict, "{table} {how:?}: {e}");
        assert_eq!(mock.table_len(table), 0, "{table} {how:?}");
        // Look, check both ends exist, insert once; after a silent drop look again to
        // tell "dropped" from "landed": never a second insert.
        let list = format!("/api/now/table/{table}");
        let (group_or_role, eid) = match table {
            "sys_user_grmember" => ("sys_user_group", &gid),
            _ => ("sys_user_role", &rid),
        };
        let mut expected = vec![
            format!("GET {list}"),
            format!("GET /api/now/table/sys_user/{uid}"),
            format!("GET /api/now/table/{group_or_role}/{eid}"),
            format!("POST {list}"),
        ];
        if how == AbortHow::Silent {
            expected.push(format!("GET {list}"));
        }
        assert_eq!(calls(&mock), expected, "{table} {how:?}");
    }
    // Without the rules both grants land, once each.
    mock.clear_abort_rules();
    for e in [group_ref(gid), role_ref(rid)] {
        assert_eq!(sn.grant(&account, &e).await.unwrap(), GrantOutcome::Granted);
    }
    assert_eq!(mock.table_len("sys_user_grmember"), 1);
    assert_eq!(mock.table_len("sys_user_has_role"), 1);
}

#[tokio::test]
async fn a_login_differing_only_in_case_is_the_existing_account_on_a_folding_instance() {
    let mock = ServiceNowMock::builder()
        .case_insensitive(true)
        .start()
        .await;
    let sn = basic_on(&mock);
    let uid = mock.insert(
        "sys_user",
        json!({"user_name": "JDoe", "first_name": "Jane", "last_name": "Doe"}),
    );
    for login in ["jdoe", "JDOE"] {
        mock.clear_requests();
        match sn.create_account(&AccountSpec::new(login)).await.unwrap() {
            CreateOutcome::AlreadyExists(a) => {
                assert_eq!(a.id.as_str(), uid, "{login}");
                assert_eq!(a.login, "JDoe", "{login}: the stored spelling");
            }
            other => panic!("{login}: {other:?}"),
        }
        assert_eq!(mock.count("POST", ""), 0, "{login}: nothing inserted");
        assert_eq!(
            calls(&mock),
            vec!["GET /api/now/table/sys_user".to_owned()],
            "{login}"
        );
        let asked = &table_requests(&mock)[0];
        let query = format!("user_name={login}");
        assert_eq!(asked.param("sysparm_query"), Some(query.as_str()));
    }
    assert_eq!(mock.table_len("sys_user"), 1);
}

#[tokio::test]
async fn a_requester_given_in_another_case_is_found_on_a_folding_instance() {
    let folding = ServiceNowMock::builder()
        .case_insensitive(true)
        .start()
        .await;
    let exact = ServiceNowMock::start().await;
    let mut ids = Vec::new();
    for mock in [&folding, &exact] {
        ids.push(mock.insert("sys_user", json!({"user_name": "JDoe"})));
    }
    let new = incident("REQ-CASE").requester(Person::login("jdoe"));

    let t = basic_on(&folding).create_ticket(&new).await.unwrap();
    let id = t.reference.id().map(str::to_owned).unwrap();
    assert_eq!(folding.row("incident", &id).unwrap()["caller_id"], ids[0]);
    assert_eq!(t.requester.unwrap().id.as_deref(), Some(ids[0].as_str()));
    let lookups: Vec<_> = table_requests(&folding)
        .into_iter()
        .filter(|r| r.method == "GET" && r.path == "/api/now/table/sys_user")
        .collect();
    assert_eq!(lookups.len(), 1);
    assert_eq!(lookups[0].param("sysparm_query"), Some("user_name=jdoe"));
    assert_eq!(folding.count("POST", "/api/now/table/incident"), 1);

    // The same ticket on an exact-matching instance: no such user, nothing opened. The
    // look-up goes through the instance's comparison, not a local guess.
    let e = basic_on(&exact).create_ticket(&new).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    assert_eq!(exact.count("POST", ""), 0);
    assert!(exact.rows("task").is_empty());
}
