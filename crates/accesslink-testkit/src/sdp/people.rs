//! Requesters and technicians: `list_info` paging, get, create, update (technicians:
//! `groups` and `roles` lists, written whole); support groups, roles and the ticket
//! lookups (statuses, priorities, categories) as `list_info` collections.

#![allow(
    clippy::result_large_err,
    reason = "the error is the mock's answer, built once per request"
)]

use serde_json::{Value, json};
use wiremock::ResponseTemplate;

use super::routes::{ListInfo, entity, error, list_info, ok_status};
use super::{Deployment, Person, State};

fn named(all: &[(String, String)], ids: &[String]) -> Value {
    ids.iter()
        .map(|id| {
            let name = all.iter().find(|(i, _)| i == id).map(|(_, n)| n.clone());
            json!({"id": id, "name": name})
        })
        .collect()
}

fn person_json(s: &State, tech: bool, p: &Person) -> Value {
    let mut v = json!({"id": p.id, "name": p.name, "email_id": p.email, "login_name": p.login, "is_vipuser": false});
    if let Some(a) = &p.account {
        v["account"] = json!({"name": a});
    }
    if tech {
        v["groups"] = named(&s.groups, &p.groups);
        v["roles"] = named(&s.roles, &p.roles);
        v.as_object_mut().expect("an object").remove("is_vipuser");
    }
    v
}

/// The fields `person_json` prints (what an account schema must list).
pub(crate) fn person_fields(s: &State, tech: bool) -> Vec<String> {
    let p = Person {
        account: (s.deployment == Deployment::Msp).then(|| "Acme".to_owned()),
        ..Person::default()
    };
    person_json(s, tech, &p)
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default()
}

fn people(s: &mut State, tech: bool) -> &mut Vec<Person> {
    if tech {
        &mut s.technicians
    } else {
        &mut s.people
    }
}

pub(crate) fn answer(
    s: &mut State,
    tech: bool,
    method: &str,
    rest: &[&str],
    input: Option<&Value>,
) -> ResponseTemplate {
    let key = if tech { "technician" } else { "requester" };
    match (method, rest) {
        ("GET", []) => list(s, tech, input),
        ("POST", []) => create(s, tech, input),
        ("GET", [id]) => match people(s, tech).iter().find(|p| p.id == *id).cloned() {
            Some(p) => {
                let v = person_json(s, tech, &p);
                ResponseTemplate::new(200)
                    .set_body_json(json!({"response_status": ok_status(), key: v}))
            }
            None => error(404, 4001, "The id does not exist", &["id"]),
        },
        ("PUT", [id]) => update(s, tech, id, input),
        _ => error(404, 4007, "Invalid URL", &[]),
    }
}

/// `GET /groups`, `/roles`, `/statuses`, `/priorities`, `/categories`: `list_info` pages.
pub(crate) fn lookups(s: &State, what: &str, input: Option<&Value>) -> ResponseTemplate {
    let fixed = |names: &[&str], base: u32| -> Vec<(String, String)> {
        names
            .iter()
            .zip(base..)
            .map(|(n, i)| (i.to_string(), (*n).to_owned()))
            .collect()
    };
    let rows = match what {
        "groups" => s.groups.clone(),
        "roles" => s.roles.clone(),
        "statuses" => fixed(&["Open", "On Hold", "Resolved", "Closed", "Canceled"], 1),
        "priorities" => fixed(&["Low", "Normal", "Medium", "High", "Urgent"], 11),
        _ => fixed(&["Access", "Hardware", "Software", "Network"], 21),
    };
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
    let total = rows.len() as u64;
    let page: Vec<Value> = rows
        .iter()
        .skip((start - 1) as usize)
        .take(rows_n as usize)
        .map(
            |(id, name)| json!({"id": id, "name": name, "description": format!("{name} ({what})")}),
        )
        .collect();
    let more = start - 1 + (page.len() as u64) < total;
    ResponseTemplate::new(200).set_body_json(json!({
        "response_status": [ok_status()],
        "list_info": {"has_more_rows": more, "start_index": start, "row_count": page.len(), "total_count": total},
        what: page,
    }))
}

fn list(s: &State, tech: bool, input: Option<&Value>) -> ResponseTemplate {
    let ListInfo {
        info,
        rows_n,
        start,
        criteria,
    } = match list_info(input) {
        Ok(l) => l,
        Err(e) => return e,
    };
    let mut hits = Vec::new();
    let all = if tech { &s.technicians } else { &s.people };
    for p in all {
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
            hits.push(p);
        }
    }
    // Only the page is printed: 100,000 people stay cheap to page through.
    let total = hits.len() as u64;
    let page: Vec<Value> = hits
        .into_iter()
        .skip((start - 1) as usize)
        .take(rows_n as usize)
        .map(|p| person_json(s, tech, p))
        .collect();
    let more = start - 1 + (page.len() as u64) < total;
    let mut li = json!({"has_more_rows": more, "start_index": start, "row_count": page.len()});
    if info.get("get_total_count").and_then(Value::as_bool) == Some(true) {
        let extra = if total > 0 { s.inflate_total as u64 } else { 0 };
        li["total_count"] = json!(total + extra);
    }
    let key = if tech { "technicians" } else { "requesters" };
    ResponseTemplate::new(200)
        .set_body_json(json!({"response_status": [ok_status()], "list_info": li, key: page}))
}

fn create(s: &mut State, tech: bool, input: Option<&Value>) -> ResponseTemplate {
    let key = if tech { "technician" } else { "requester" };
    let e = match entity(input, key) {
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
        people(s, tech).iter().any(|p| {
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
    let base = if tech { 5000 } else { 1000 };
    let p = Person {
        id: (base + people(s, tech).len() + 1).to_string(),
        name: name.to_owned(),
        email,
        login: e
            .get("login_name")
            .and_then(Value::as_str)
            .map(str::to_owned),
        account,
        ..Person::default()
    };
    let v = person_json(s, tech, &p);
    people(s, tech).push(p);
    ResponseTemplate::new(201).set_body_json(json!({"response_status": ok_status(), key: v}))
}

/// The ids of a `[{"id":…}]` list, each checked against `known`.
fn ids_of(
    v: &Value,
    known: &[(String, String)],
    field: &str,
) -> Result<Vec<String>, ResponseTemplate> {
    let Some(list) = v.as_array() else {
        return Err(error(400, 4021, "a list is expected", &[field]));
    };
    let mut out = Vec::new();
    for item in list {
        let Some(id) = item.get("id").and_then(Value::as_str) else {
            return Err(error(400, 4021, "each item needs an id", &[field]));
        };
        if !known.iter().any(|(k, _)| k == id) {
            return Err(error(400, 4001, "The id does not exist", &[field]));
        }
        if !out.iter().any(|o| o == id) {
            out.push(id.to_owned());
        }
    }
    Ok(out)
}

fn update(s: &mut State, tech: bool, id: &str, input: Option<&Value>) -> ResponseTemplate {
    let key = if tech { "technician" } else { "requester" };
    let e = match entity(input, key) {
        Ok(e) => e.clone(),
        Err(r) => return r,
    };
    let mut groups = None;
    let mut roles = None;
    for (field, known, out) in [
        ("groups", &s.groups, &mut groups),
        ("roles", &s.roles, &mut roles),
    ] {
        if let Some(v) = e.get(field) {
            if !tech {
                return error(400, 4001, "requesters have no such field", &[field]);
            }
            match ids_of(v, known, field) {
                Ok(ids) => *out = Some(ids),
                Err(r) => return r,
            }
        }
    }
    let Some(p) = people(s, tech).iter_mut().find(|p| p.id == id) else {
        return error(404, 4001, "The id does not exist", &["id"]);
    };
    if let Some(g) = groups {
        p.groups = g;
    }
    if let Some(r) = roles {
        p.roles = r;
    }
    if let Some(n) = e.get("name").and_then(Value::as_str) {
        p.name = n.to_owned();
    }
    if let Some(m) = e.get("email_id").and_then(Value::as_str) {
        p.email = Some(m.to_owned());
    }
    let p = p.clone();
    let v = person_json(s, tech, &p);
    ResponseTemplate::new(200).set_body_json(json!({"response_status": ok_status(), key: v}))
}
