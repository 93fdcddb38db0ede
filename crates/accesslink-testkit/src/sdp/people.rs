//! Requesters: `list_info` paging, get, create, update.

#![allow(
    clippy::result_large_err,
    reason = "the error is the mock's answer, built once per request"
)]

use serde_json::{Value, json};
use wiremock::ResponseTemplate;

use super::routes::{entity, error, ok_status};
use super::{Deployment, Person, State};

fn person_json(p: &Person) -> Value {
    let mut v = json!({"id": p.id, "name": p.name, "email_id": p.email, "login_name": p.login, "is_vipuser": false});
    if let Some(a) = &p.account {
        v["account"] = json!({"name": a});
    }
    v
}

pub(crate) fn answer(
    s: &mut State,
    method: &str,
    rest: &[&str],
    input: Option<&Value>,
) -> ResponseTemplate {
    match (method, rest) {
        ("GET", []) => list(s, input),
        ("POST", []) => create(s, input),
        ("GET", [id]) => match s.people.iter().find(|p| p.id == *id) {
            Some(p) => ResponseTemplate::new(200).set_body_json(
                json!({"response_status": ok_status(), "requester": person_json(p)}),
            ),
            None => error(404, 4001, "The id does not exist", &["id"]),
        },
        ("PUT", [id]) => update(s, id, input),
        _ => error(404, 4007, "Invalid URL", &[]),
    }
}

fn list(s: &State, input: Option<&Value>) -> ResponseTemplate {
    let info = input
        .and_then(|i| i.get("list_info"))
        .cloned()
        .unwrap_or(json!({}));
    let rows_n = info.get("row_count").and_then(Value::as_u64).unwrap_or(10);
    if !(1..=100).contains(&rows_n) {
        return error(400, 4001, "row_count must be 1-100", &["row_count"]);
    }
    let start = info
        .get("start_index")
        .and_then(Value::as_u64)
        .unwrap_or(1)
        .max(1);
    let criteria: Vec<Value> = match info.get("search_criteria") {
        None => Vec::new(),
        Some(Value::Array(a)) => a.clone(),
        Some(o) => vec![o.clone()],
    };
    let mut hits = Vec::new();
    for p in &s.people {
        let mut all = true;
        for c in &criteria {
            let want = c.get("value").and_then(Value::as_str).unwrap_or("");
            let have = match c.get("field").and_then(Value::as_str) {
                Some("email_id") => p.email.as_deref(),
                Some("login_name") => p.login.as_deref(),
                Some("account.name") => p.account.as_deref(),
                _ => return error(400, 4001, "search field not found", &["search_criteria"]),
            };
            all &= have.is_some_and(|h| h.eq_ignore_ascii_case(want));
        }
        if all {
            hits.push(person_json(p));
        }
    }
    let total = hits.len() as u64;
    let page: Vec<Value> = hits
        .into_iter()
        .skip((start - 1) as usize)
        .take(rows_n as usize)
        .collect();
    let more = start - 1 + (page.len() as u64) < total;
    let mut li = json!({"has_more_rows": more, "start_index": start, "row_count": page.len()});
    if info.get("get_total_count").and_then(Value::as_bool) == Some(true) {
        let extra = if total > 0 { s.inflate_total as u64 } else { 0 };
        li["total_count"] = json!(total + extra);
    }
    ResponseTemplate::new(200).set_body_json(
        json!({"response_status": [ok_status()], "list_info": li, "requesters": page}),
    )
}

fn create(s: &mut State, input: Option<&Value>) -> ResponseTemplate {
    let e = match entity(input, "requester") {
        Ok(e) => e.clone(),
        Err(r) => return r,
    };
    let Some(name) = e
        .get("name")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
    else {
        return error(400, 4012, "mandatory field missing", &["name"]);
    };
    let email = e.get("email_id").and_then(Value::as_str).map(str::to_owned);
    if email.as_ref().is_some_and(|m| {
        s.people.iter().any(|p| {
            p.email
                .as_deref()
                .is_some_and(|x| x.eq_ignore_ascii_case(m))
        })
    }) {
        return error(400, 4008, "email_id is not unique", &["email_id"]);
    }
    let account = e
        .get("account")
        .and_then(|a| a.get("name"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    if s.deployment == Deployment::Msp && account.is_none() {
        return error(400, 4012, "mandatory field missing", &["account"]);
    }
    let p = Person {
        id: (1000 + s.people.len() + 1).to_string(),
        name: name.to_owned(),
        email,
        login: e
            .get("login_name")
            .and_then(Value::as_str)
            .map(str::to_owned),
        account,
    };
    let v = person_json(&p);
    s.people.push(p);
    ResponseTemplate::new(201)
        .set_body_json(json!({"response_status": ok_status(), "requester": v}))
}

fn update(s: &mut State, id: &str, input: Option<&Value>) -> ResponseTemplate {
    let e = match entity(input, "requester") {
        Ok(e) => e.clone(),
        Err(r) => return r,
    };
    let Some(p) = s.people.iter_mut().find(|p| p.id == id) else {
        return error(404, 4001, "The id does not exist", &["id"]);
    };
    if let Some(n) = e.get("name").and_then(Value::as_str) {
        p.name = n.to_owned();
    }
    if let Some(m) = e.get("email_id").and_then(Value::as_str) {
        p.email = Some(m.to_owned());
    }
    let v = person_json(p);
    ResponseTemplate::new(200)
        .set_body_json(json!({"response_status": ok_status(), "requester": v}))
}
