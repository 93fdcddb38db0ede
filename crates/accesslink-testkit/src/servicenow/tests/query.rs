//! `sysparm_query`: every operator, `^OR`, `^NQ`, `ORDERBY`, ignored unknown fields, the
//! `^` split inside values, and the loud refusal of what the mock does not know.

use serde_json::json;

use super::support::{column, get};
use crate::servicenow::ServiceNowMock;
use crate::servicenow::query::{Op, Query, UNSUPPORTED};
use crate::servicenow::schema;

fn parse(q: &str) -> Result<Query, String> {
    Query::parse(q, schema::table("incident").unwrap())
}

#[test]
fn parser_reads_each_operator() {
    let cases = [
        ("state=1", Op::Eq, "1"),
        ("state!=1", Op::Ne, "1"),
        ("stateIN1,2,3", Op::In, "1,2,3"),
        ("number>INC5", Op::Gt, "INC5"),
        ("number<INC5", Op::Lt, "INC5"),
        ("number>=INC5", Op::Ge, "INC5"),
        ("number<=INC5", Op::Le, "INC5"),
        ("numberSTARTSWITHINC00", Op::StartsWith, "INC00"),
        ("assigned_toISEMPTY", Op::IsEmpty, ""),
        ("assigned_toISNOTEMPTY", Op::IsNotEmpty, ""),
        ("short_description=a=b", Op::Eq, "a=b"),
    ];
    for (text, op, value) in cases {
        let q = parse(text).unwrap_or_else(|p| panic!("{text}: {p}"));
        let cond = &q.groups[0][0][0];
        assert_eq!((cond.op, cond.value.as_str()), (op, value), "{text}");
    }
}

#[test]
fn caret_in_a_value_splits_the_query() {
    // What a connector pasting `x^ORactive=true` into `short_description=` would send.
    let q = parse("short_description=x^ORactive=true").unwrap();
    assert_eq!(q.groups.len(), 1);
    assert_eq!(q.groups[0].len(), 1, "one clause with two alternatives");
    assert_eq!(q.groups[0][0][1].field, "active");
    let q = parse("number=INC1^NQactive=true").unwrap();
    assert_eq!(q.groups.len(), 2, "^NQ starts a second query");
}

#[test]
fn unknown_fields_are_dropped_and_unknown_syntax_refused() {
    let q = parse("no_such_field=1^state=2^ORDERBYno_such^ORDERBYDESCnumber").unwrap();
    assert_eq!(q.groups[0].len(), 2);
    assert!(
        q.groups[0][0].is_empty(),
        "ignored condition leaves an always-true clause"
    );
    assert_eq!(q.order, [("number".to_owned(), true)]);
    for bad in [
        "short_descriptionLIKEpay",
        "caller_id.name=Ada",
        "state=javascript:gs.getUserID()",
        "stateISEMPTYx",
        "=1",
    ] {
        assert!(parse(bad).is_err(), "{bad} must be refused");
    }
}

/// Five incidents with states 1..=5-ish and known numbers.
async fn seeded() -> ServiceNowMock {
    let mock = ServiceNowMock::start().await;
    let rows = [
        ("1", "Payroll", "alpha"),
        ("2", "Printer", ""),
        ("3", "Payroll^ORx", "beta"),
        ("6", "VPN", "gamma"),
        ("7", "Laptop", ""),
    ];
    for (state, desc, corr) in rows {
        mock.insert(
            "incident",
            json!({"state": state, "short_description": desc, "correlation_id": corr,
                   "close_code": "Solution provided", "close_notes": "done"}),
        );
    }
    mock
}

async fn numbers(mock: &ServiceNowMock, query: &str) -> (u16, Vec<String>) {
    let q = [("sysparm_query", query)];
    let (status, _, body) = get(mock, "/api/now/table/incident", &q).await;
    (status, column(&body, "number"))
}

#[tokio::test]
async fn operators_filter_rows_over_http() {
    let mock = seeded().await;
    let n = |i: u32| format!("INC001000{i}");
    let cases: Vec<(&str, Vec<String>)> = vec![
        ("state=2", vec![n(2)]),
        ("state!=2^ORDERBYnumber", vec![n(1), n(3), n(4), n(5)]),
        ("stateIN1,6^ORDERBYnumber", vec![n(1), n(4)]),
        ("number>INC0010003^ORDERBYnumber", vec![n(4), n(5)]),
        ("number<INC0010002", vec![n(1)]),
        ("number>=INC0010004^ORDERBYnumber", vec![n(4), n(5)]),
        ("number<=INC0010002^ORDERBYnumber", vec![n(1), n(2)]),
        (
            "short_descriptionSTARTSWITHPay^ORDERBYnumber",
            vec![n(1), n(3)],
        ),
        ("correlation_idISEMPTY^ORDERBYnumber", vec![n(2), n(5)]),
        (
            "correlation_idISNOTEMPTY^ORDERBYDESCnumber",
            vec![n(4), n(3), n(1)],
        ),
        ("state=1^ORstate=7^ORDERBYnumber", vec![n(1), n(5)]),
        ("state=1^NQstate=2^ORDERBYnumber", vec![n(1), n(2)]),
        ("active=true^state=6", vec![n(4)]),
        ("active=false^ORDERBYnumber", vec![n(5)]),
        // Unknown field ignored: matches more rows, as on the instance.
        ("no_such_field=zzz^state=3", vec![n(3)]),
    ];
    for (query, want) in cases {
        let (status, got) = numbers(&mock, query).await;
        assert_eq!((status, got), (200, want), "{query}");
    }
}

#[tokio::test]
async fn injected_caret_widens_the_match_on_the_server() {
    let mock = seeded().await;
    // The value "Payroll^ORactive=true" pasted as is: the instance sees
    // `short_description=Payroll` OR `active=true`, every open incident.
    let (_, got) = numbers(
        &mock,
        "short_description=Payroll^ORactive=true^ORDERBYnumber",
    )
    .await;
    assert_eq!(
        got,
        ["INC0010001", "INC0010002", "INC0010003", "INC0010004"]
    );
    let (_, got) = numbers(&mock, "correlation_id=nothing^NQstate=1").await;
    assert_eq!(got, ["INC0010001"], "^NQ in a value opens a second query");
}

#[tokio::test]
async fn unsupported_parts_fail_loudly() {
    let mock = seeded().await;
    for q in [
        "short_descriptionLIKEpay",
        "state=javascript:gs.getUserID()",
    ] {
        let query = [("sysparm_query", q)];
        let (status, _, body) = get(&mock, "/api/now/table/incident", &query).await;
        assert_eq!(status, 500, "{q}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.starts_with(UNSUPPORTED), "{message}");
        assert_eq!(body["status"], "failure");
    }
}

#[tokio::test]
async fn default_order_is_created_then_sys_id_and_orderby_overrides() {
    let mock = ServiceNowMock::start().await;
    let ids = [
        ("ffffffffffffffffffffffffffffffff", "2024-01-01 00:00:00"),
        ("00000000000000000000000000000001", "2024-01-02 00:00:00"),
        ("00000000000000000000000000000002", "2024-01-01 00:00:00"),
    ];
    for (id, created) in ids {
        mock.insert(
            "sys_user_role",
            json!({"sys_id": id, "sys_created_on": created}),
        );
    }
    let (_, _, body) = get(&mock, "/api/now/table/sys_user_role", &[]).await;
    let want = [ids[2].0, ids[0].0, ids[1].0];
    assert_eq!(column(&body, "sys_id"), want);
    let q = [("sysparm_query", "ORDERBYsys_id")];
    let (_, _, body) = get(&mock, "/api/now/table/sys_user_role", &q).await;
    assert_eq!(column(&body, "sys_id"), [ids[1].0, ids[2].0, ids[0].0]);
    let q = [("sysparm_query", "ORDERBYDESCsys_id")];
    let (_, _, body) = get(&mock, "/api/now/table/sys_user_role", &q).await;
    assert_eq!(column(&body, "sys_id"), [ids[0].0, ids[2].0, ids[1].0]);
}
