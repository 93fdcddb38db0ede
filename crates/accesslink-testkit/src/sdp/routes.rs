//! The mock's routes: auth, `input_data`, `list_info`, entities, close, notes, OAuth.

#![allow(
    clippy::result_large_err,
    reason = "the error is the mock's answer, built once per request"
)]

use serde_json::{Map, Value, json};
use wiremock::{Request, ResponseTemplate};

use super::{Deployment, Row, State};

const ACCEPT_V3: &str = "application/vnd.manageengine.sdp.v3+json";

pub(crate) fn ok_status() -> Value {
    json!({"status_code": 2000, "status": "success"})
}

/// `{"response_status":{"status_code":4000,"status":"failed","messages":[…]}}` with `http`.
pub(crate) fn error(http: u16, code: u32, message: &str, fields: &[&str]) -> ResponseTemplate {
    let mut m = json!({"status_code": code, "type": "failed", "message": message});
    if !fields.is_empty() {
        m["fields"] = json!(fields);
    }
    ResponseTemplate::new(http).set_body_json(json!({
        "response_status": {"status_code": 4000, "status": "failed", "messages": [m]}
    }))
}

fn status_json(change: bool, name: &str) -> Value {
    let (internal, in_progress, stop) = match name {
        "Open" => ("Open", true, false),
        "On Hold" => ("Onhold", true, true),
        "Resolved" => ("Resolved", false, false),
        "Closed" => ("Closed", false, false),
        "Canceled" => ("Canceled", false, false),
        other if change => (
            other,
            !matches!(other, "Completed" | "Canceled" | "Rejected"),
            false,
        ),
        other => (other, true, false),
    };
    json!({"id": format!("{}", name.len()), "name": name, "internal_name": internal,
           "in_progress": in_progress, "stop_timer": stop, "color": "#0066ff"})
}

pub(crate) fn row_json(s: &State, r: &Row, change: bool) -> Value {
    let mut v = json!({
        "id": r.id,
        "display_id": r.display_id,
        "description": r.description,
        "status": status_json(change, &r.status),
        "approval_status": r.approval.as_ref().map(|a| json!({"id": "1", "name": a})),
        "created_time": {"display_value": "Nov 14, 2023 10:13 PM", "value": r.created.to_string()},
        "last_updated_time": {"display_value": "Nov 14, 2023 10:14 PM", "value": r.updated.to_string()},
        "category": r.category.as_ref().map(|c| json!({"id": "7", "name": c})),
        "udf_fields": r.udf,
        "is_trashed": false,
    });
    if change {
        v["title"] = json!(r.title);
        v["stage"] = json!({"id": "2", "name": r.stage});
        v["change_requester"] = r.requester.clone().unwrap_or(Value::Null);
    } else {
        v["subject"] = json!(r.title);
        v["requester"] = r.requester.clone().unwrap_or(Value::Null);
        v["closure_info"] = r.closure.clone().unwrap_or(Value::Null);
        v["has_notes"] = json!(!r.notes.is_empty());
    }
    if s.deployment == Deployment::Msp {
        v["account"] = json!({"id": "3", "name": r.account});
    }
    v
}

fn input_data(request: &Request) -> Result<Option<Value>, ResponseTemplate> {
    let from_query = request
        .url
        .query_pairs()
        .find(|(k, _)| k == "input_data")
        .map(|(_, v)| v.into_owned());
    let from_form = url::form_urlencoded::parse(&request.body)
        .find(|(k, _)| k == "input_data")
        .map(|(_, v)| v.into_owned());
    match from_form.or(from_query) {
        None => Ok(None),
        Some(raw) => serde_json::from_str(&raw)
            .map(Some)
            .map_err(|_| error(400, 4000, "input_data is not valid JSON", &["input_data"])),
    }
}

fn header<'r>(request: &'r Request, name: &str) -> Option<&'r str> {
    request.headers.get(name).and_then(|v| v.to_str().ok())
}

fn oauth(s: &mut State, request: &Request) -> Option<ResponseTemplate> {
    let path = request.url.path();
    if path == "/oauth/v2/auth" && request.method.as_str() == "GET" {
        let q: Map<String, Value> = request
            .url
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), json!(v)))
            .collect();
        let redirect = q.get("redirect_uri").and_then(Value::as_str).unwrap_or("");
        if q.get("client_id").and_then(Value::as_str) != Some(&s.client_id) || redirect.is_empty() {
            return Some(ResponseTemplate::new(400).set_body_string("Invalid client"));
        }
        let code = format!("1000.grant.{:x}", fastrand::u64(..));
        s.grant_codes.push(code.clone());
        let mut to = url::Url::parse(redirect).ok()?;
        to.query_pairs_mut().append_pair("code", &code).append_pair(
            "state",
            q.get("state").and_then(Value::as_str).unwrap_or(""),
        );
        return Some(ResponseTemplate::new(302).insert_header("location", to.as_str()));
    }
    if path != "/oauth/v2/token" || request.method.as_str() != "POST" {
        return None;
    }
    s.token_calls += 1;
    let form: Map<String, Value> = url::form_urlencoded::parse(&request.body)
        .map(|(k, v)| (k.into_owned(), json!(v)))
        .collect();
    let get = |k: &str| form.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
    // Zoho answers failures with HTTP 200 and an `error` key.
    let fail = |e: &str| Some(ResponseTemplate::new(200).set_body_json(json!({"error": e})));
    if get("client_id") != s.client_id || get("client_secret") != s.client_secret {
        return fail("invalid_client");
    }
    let access = format!("1000.access.{:x}", fastrand::u64(..));
    match get("grant_type").as_str() {
        "refresh_token" if get("refresh_token") == s.refresh_token => {
            s.access_tokens.push(access.clone());
            Some(ResponseTemplate::new(200).set_body_json(json!({
                "access_token": access, "expires_in": 3600, "api_domain": "https://www.zohoapis.eu", "token_type": "Bearer"
            })))
        }
        "authorization_code" => {
            let code = get("code");
            match s.grant_codes.iter().position(|c| *c == code) {
                Some(i) if !get("redirect_uri").is_empty() => {
                    s.grant_codes.remove(i);
                    s.access_tokens.push(access.clone());
                    Some(ResponseTemplate::new(200).set_body_json(json!({
                        "access_token": access, "refresh_token": s.refresh_token, "expires_in": 3600,
                        "api_domain": "https://www.zohoapis.eu", "token_type": "Bearer"
                    })))
                }
                _ => fail("invalid_code"),
            }
        }
        _ => fail("invalid_code"),
    }
}

fn authorized(s: &State, request: &Request) -> Option<ResponseTemplate> {
    match s.deployment {
        Deployment::Cloud => {
            let ok = header(request, "authorization")
                .and_then(|v| v.strip_prefix("Zoho-oauthtoken "))
                .is_some_and(|t| s.access_tokens.iter().any(|a| a == t));
            (!ok).then(|| error(401, 4022, "Invalid OAuth token or token expired", &[]))
        }
        _ => {
            let key = header(request, "authtoken").or_else(|| header(request, "technician_key"));
            // Old builds answer a bad key with HTTP 200 and status code 4022.
            (key != Some(s.key.as_str())).then(|| error(200, 4022, "Invalid API key", &[]))
        }
    }
}

/// Everything after the API root, or `None` when the path is not under it.
fn api_path<'p>(s: &State, path: &'p str) -> Option<&'p str> {
    match s.deployment {
        Deployment::Cloud => path.strip_prefix(&format!("/app/{}/api/v3/", s.portal)),
        _ => path.strip_prefix("/api/v3/"),
    }
}

pub(crate) fn answer(s: &mut State, request: &Request) -> ResponseTemplate {
    if let Some(r) = oauth(s, request) {
        return r;
    }
    let path = request.url.path().to_owned();
    let Some(rest) = api_path(s, &path) else {
        return error(404, 4007, "Invalid URL", &[]);
    };
    if let Some(denied) = authorized(s, request) {
        return denied;
    }
    if !header(request, "accept").is_some_and(|a| a.contains(ACCEPT_V3)) {
        return error(400, 4000, "the v3 Accept header is missing", &[]);
    }
    let input = match input_data(request) {
        Ok(v) => v,
        Err(e) => return e,
    };
    let parts: Vec<&str> = rest.split('/').collect();
    let method = request.method.as_str();
    match parts[0] {
        "requesters" => {
            return super::people::answer(s, false, method, &parts[1..], input.as_ref());
        }
        "technicians" => {
            return super::people::answer(s, true, method, &parts[1..], input.as_ref());
        }
        "groups" | "roles" | "statuses" | "priorities" | "categories"
            if method == "GET" && parts.len() == 1 =>
        {
            return super::people::lookups(s, parts[0], input.as_ref());
        }
        _ => {}
    }
    let change = match parts[0] {
        "requests" => false,
        "changes" => true,
        _ => return error(404, 4007, "Invalid URL", &[]),
    };
    let cloud = s.deployment == Deployment::Cloud;
    match (method, &parts[1..]) {
        ("GET", []) => list(s, change, input.as_ref()),
        ("POST", []) => create(s, change, input.as_ref()),
        ("GET", [id]) => match find(s, change, id) {
            Some(i) => single(s, change, i),
            None => error(404, 4001, "The id does not exist", &["id"]),
        },
        ("PUT", [id]) => update(s, change, id, input.as_ref()),
        ("PUT", [id, action]) if !change && *action == if cloud { "_close" } else { "close" } => {
            close(s, id, input.as_ref())
        }
        ("POST", [id, "notes"]) => note(s, change, id, input.as_ref()),
        ("GET", [id, what @ ("notes" | "worklogs")]) => notes_list(s, change, id, what),
        ("POST", [id, "worklogs"]) => worklog(s, change, id, input.as_ref()),
        _ => error(404, 4007, "Invalid URL", &[]),
    }
}

fn find(s: &State, change: bool, id: &str) -> Option<usize> {
    s.rows(change).iter().position(|r| r.id == id)
}

fn single(s: &State, change: bool, i: usize) -> ResponseTemplate {
    let key = if change { "change" } else { "request" };
    ResponseTemplate::new(200).set_body_json(json!({
        "response_status": ok_status(),
        key: row_json(s, &s.rows(change)[i], change),
    }))
}

fn field_of(r: &Row, field: &str, change: bool) -> Option<String> {
    Some(match field {
        "id" => r.id.clone(),
        "display_id" => r.display_id.clone(),
        "subject" if !change => r.title.clone(),
        "title" if change => r.title.clone(),
        "account.name" => r.account.clone()?,
        "category.name" => r.category.clone()?,
        "last_updated_time" => r.updated.to_string(),
        f => {
            let udf = f.strip_prefix("udf_fields.")?;
            r.udf.get(udf)?.as_str()?.to_owned()
        }
    })
}

fn matches(r: &Row, c: &Value, change: bool) -> Result<bool, ResponseTemplate> {
    let field = c.get("field").and_then(Value::as_str).unwrap_or("");
    let known = [
        "id",
        "display_id",
        "account.name",
        "category.name",
        "last_updated_time",
        if change { "title" } else { "subject" },
    ];
    if !known.contains(&field) && !field.starts_with("udf_fields.udf_") {
        return Err(error(
            400,
            4001,
            "search field not found",
            &["search_criteria"],
        ));
    }
    let have = field_of(r, field, change);
    let values: Vec<String> = match (c.get("values"), c.get("value")) {
        (Some(Value::Array(vs)), _) => vs
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        (_, Some(Value::String(v))) => vec![v.clone()],
        _ => {
            return Err(error(
                400,
                4001,
                "search value missing",
                &["search_criteria"],
            ));
        }
    };
    let cond = c.get("condition").and_then(Value::as_str).unwrap_or("is");
    let number = |v: &str| v.parse::<u64>().ok();
    Ok(match cond {
        // Times compare as epoch milliseconds (the value is a string, as SDP writes it).
        "greater or equal" | "greater than" => {
            let (Some(h), Some(v)) = (
                have.as_deref().and_then(number),
                values.first().and_then(|v| number(v)),
            ) else {
                return Err(error(400, 4021, "not a time", &["search_criteria"]));
            };
            if cond == "greater than" {
                h > v
            } else {
                h >= v
            }
        }
        "is" => have.is_some_and(|h| values.contains(&h)),
        "is not" => have.is_none_or(|h| values.iter().all(|v| *v != h)),
        "contains" => have.is_some_and(|h| {
            values
                .iter()
                .any(|v| h.to_lowercase().contains(&v.to_lowercase()))
        }),
        _ => {
            return Err(error(
                400,
                4001,
                "search condition not supported",
                &["search_criteria"],
            ));
        }
    })
}

/// A listing's `list_info`: the document, rows per page, the 1-based start and the
/// search criteria.
pub(super) struct ListInfo {
    pub(super) info: Value,
    pub(super) rows_n: u64,
    pub(super) start: u64,
    pub(super) criteria: Vec<Value>,
}

/// Reads `list_info` as the vendor checks it: a row count outside 1–100, or criteria
/// that are neither an object nor an array, are a 400.
pub(super) fn list_info(input: Option<&Value>) -> Result<ListInfo, ResponseTemplate> {
    let info = input
        .and_then(|i| i.get("list_info"))
        .cloned()
        .unwrap_or(json!({}));
    let rows_n = info.get("row_count").and_then(Value::as_u64).unwrap_or(10);
    if !(1..=100).contains(&rows_n) {
        return Err(error(400, 4001, "row_count must be 1-100", &["row_count"]));
    }
    let start = info
        .get("start_index")
        .and_then(Value::as_u64)
        .unwrap_or(1)
        .max(1);
    let criteria: Vec<Value> = match info.get("search_criteria") {
        None => Vec::new(),
        Some(Value::Array(a)) => a.clone(),
        Some(o @ Value::Object(_)) => vec![o.clone()],
        Some(_) => return Err(error(400, 4001, "search_criteria", &["search_criteria"])),
    };
    Ok(ListInfo {
        info,
        rows_n,
        start,
        criteria,
    })
}

fn list(s: &State, change: bool, input: Option<&Value>) -> ResponseTemplate {
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
    for r in s.rows(change) {
        let mut all = true;
        if !s.ignore_filters {
            for c in &criteria {
                match matches(r, c, change) {
                    Ok(m) => all &= m,
                    Err(e) => return e,
                }
            }
        }
        if all {
            hits.push(row_json(s, r, change));
        }
    }
    let sort = info.get("sort_field").and_then(Value::as_str);
    let desc = info.get("sort_order").and_then(Value::as_str) == Some("desc");
    if sort == Some("last_updated_time") {
        let key = |v: &Value| {
            let t = v["last_updated_time"]["value"]
                .as_str()
                .and_then(|t| t.parse::<u64>().ok());
            (t, v["id"].as_str().map(str::to_owned))
        };
        hits.sort_by_key(key);
    }
    if desc {
        hits.reverse();
    }
    let total = hits.len() as u64;
    let page: Vec<Value> = hits
        .into_iter()
        .skip((start - 1) as usize)
        .take(rows_n as usize)
        .collect();
    let more = start - 1 + (page.len() as u64) < total;
    let key = if change { "changes" } else { "requests" };
    let mut li = json!({"has_more_rows": more, "start_index": start, "row_count": page.len()});
    if info.get("get_total_count").and_then(Value::as_bool) == Some(true) {
        li["total_count"] = json!(total);
    }
    ResponseTemplate::new(200).set_body_json(json!({
        "response_status": [ok_status()],
        "list_info": li,
        key: page,
    }))
}

pub(crate) fn entity<'v>(
    input: Option<&'v Value>,
    key: &str,
) -> Result<&'v Map<String, Value>, ResponseTemplate> {
    input
        .and_then(|i| i.get(key))
        .and_then(Value::as_object)
        .ok_or_else(|| {
            error(
                400,
                4012,
                &format!("input_data needs a {key} object"),
                &[key],
            )
        })
}

fn name_of(v: Option<&Value>) -> Option<String> {
    v.and_then(|v| v.get("name"))
        .and_then(Value::as_str)
        .map(str::to_owned)
}

fn create(s: &mut State, change: bool, input: Option<&Value>) -> ResponseTemplate {
    let key = if change { "change" } else { "request" };
    let title_key = if change { "title" } else { "subject" };
    let e = match entity(input, key) {
        Ok(e) => e.clone(),
        Err(r) => return r,
    };
    let title = e
        .get(title_key)
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    if title.trim().is_empty() {
        return error(400, 4012, "mandatory field missing", &[title_key]);
    }
    let account = name_of(e.get("account"));
    if s.deployment == Deployment::Msp {
        match &account {
            None => return error(400, 4012, "mandatory field missing", &["account"]),
            Some(a) if !s.accounts.contains(a) => {
                return error(400, 4001, "account does not exist", &["account"]);
            }
            _ => {}
        }
    }
    let mut udf = Map::new();
    if let Some(u) = e.get("udf_fields") {
        let Some(u) = u.as_object() else {
            return error(400, 4021, "udf_fields must be an object", &["udf_fields"]);
        };
        for (k, v) in u {
            if !k.starts_with("udf_") {
                return error(400, 4001, "no such field", &[k]);
            }
            udf.insert(k.clone(), v.clone());
        }
    }
    let req_key = if change {
        "change_requester"
    } else {
        "requester"
    };
    let requester = e.get(req_key).map(|u| {
        json!({"id": "5", "name": u.get("name").cloned().unwrap_or(json!("Jane Doe")),
               "email_id": u.get("email_id").cloned().unwrap_or(Value::Null)})
    });
    let row = s.new_row(change);
    row.title = title;
    row.description = e
        .get("description")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    row.udf = udf;
    row.account = account;
    row.requester = requester;
    let i = s.rows(change).len() - 1;
    single(s, change, i)
}

fn update(s: &mut State, change: bool, id: &str, input: Option<&Value>) -> ResponseTemplate {
    let key = if change { "change" } else { "request" };
    let e = match entity(input, key) {
        Ok(e) => e.clone(),
        Err(r) => return r,
    };
    let Some(i) = find(s, change, id) else {
        return error(404, 4001, "The id does not exist", &["id"]);
    };
    let now = s.now();
    let row = &mut s.rows_mut(change)[i];
    row.updated = now;
    if let Some(st) = name_of(e.get("status")) {
        row.status = st;
    }
    if let Some(stage) = name_of(e.get("stage")) {
        if !change {
            return error(400, 4001, "requests have no stage", &["stage"]);
        }
        row.stage = Some(stage);
    }
    single(s, change, i)
}

fn close(s: &mut State, id: &str, input: Option<&Value>) -> ResponseTemplate {
    let e = match entity(input, "request") {
        Ok(e) => e.clone(),
        Err(r) => return r,
    };
    let Some(i) = find(s, false, id) else {
        return error(404, 4001, "The id does not exist", &["id"]);
    };
    let now = s.now();
    let row = &mut s.requests[i];
    if row.status == "Closed" {
        return error(400, 4002, "The request is already closed", &[]);
    }
    row.updated = now;
    row.status = "Closed".into();
    row.closure = e.get("closure_info").cloned();
    ResponseTemplate::new(200).set_body_json(json!({"response_status": ok_status()}))
}

fn note(s: &mut State, change: bool, id: &str, input: Option<&Value>) -> ResponseTemplate {
    let key = if change { "note" } else { "request_note" };
    let e = match entity(input, key) {
        Ok(e) => e.clone(),
        Err(r) => return r,
    };
    let Some(i) = find(s, change, id) else {
        return error(404, 4001, "The id does not exist", &["id"]);
    };
    let Some(text) = e
        .get("description")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
    else {
        return error(400, 4012, "mandatory field missing", &["description"]);
    };
    let public = e
        .get("show_to_requester")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let n = push_note(s, change, i, text, public, false);
    ResponseTemplate::new(201).set_body_json(json!({
        "response_status": ok_status(),
        key: note_json(&n),
    }))
}

/// The integration technician, as whom the API key or token writes.
fn api_user() -> Value {
    json!({"id": "4", "name": "IAM Integration", "email_id": "iam@example.com", "login_name": "iam-bot"})
}

/// Stores a note (or worklog) written now by `by` (the API user when `Null`) and stamps
/// the ticket's update time.
pub(crate) fn push_note(
    s: &mut State,
    change: bool,
    i: usize,
    text: &str,
    public: bool,
    worklog: bool,
) -> super::NoteRow {
    push_note_by(s, change, i, text, public, worklog, api_user())
}

pub(crate) fn push_note_by(
    s: &mut State,
    change: bool,
    i: usize,
    text: &str,
    public: bool,
    worklog: bool,
    by: Value,
) -> super::NoteRow {
    s.next_note += 1;
    let now = s.now();
    let n = super::NoteRow {
        id: s.next_note.to_string(),
        text: text.to_owned(),
        public,
        created: now,
        by,
    };
    let row = &mut s.rows_mut(change)[i];
    row.updated = now;
    if worklog {
        row.worklogs.push(n.clone());
    } else {
        row.notes.push(n.clone());
    }
    n
}

fn note_json(n: &super::NoteRow) -> Value {
    json!({"id": n.id, "description": n.text, "show_to_requester": n.public,
           "created_by": n.by, "created_time": {"display_value": "Nov 14, 2023", "value": n.created.to_string()}})
}

/// `GET /{entity}/{id}/notes` (newest first, as the UI lists them) or `/worklogs`.
fn notes_list(s: &State, change: bool, id: &str, what: &str) -> ResponseTemplate {
    let Some(i) = find(s, change, id) else {
        return error(404, 4001, "The id does not exist", &["id"]);
    };
    let row = &s.rows(change)[i];
    let rows: Vec<Value> = if what == "notes" {
        row.notes.iter().rev().map(note_json).collect()
    } else {
        row.worklogs
            .iter()
            .map(|w| {
                json!({"id": w.id, "description": w.text, "owner": w.by, "created_by": w.by,
                           "start_time": {"value": w.created.to_string()},
                           "created_time": {"value": w.created.to_string()}})
            })
            .collect()
    };
    let n = rows.len();
    ResponseTemplate::new(200).set_body_json(json!({
        "response_status": [ok_status()],
        "list_info": {"has_more_rows": false, "start_index": 1, "row_count": n},
        what: rows,
    }))
}

/// `POST /{entity}/{id}/worklogs` with `{"worklog":{"description":…}}`.
fn worklog(s: &mut State, change: bool, id: &str, input: Option<&Value>) -> ResponseTemplate {
    let e = match entity(input, "worklog") {
        Ok(e) => e.clone(),
        Err(r) => return r,
    };
    let Some(i) = find(s, change, id) else {
        return error(404, 4001, "The id does not exist", &["id"]);
    };
    let Some(text) = e
        .get("description")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
    else {
        return error(400, 4012, "mandatory field missing", &["description"]);
    };
    let w = push_note(s, change, i, text, false, true);
    ResponseTemplate::new(201).set_body_json(json!({
        "response_status": ok_status(),
        "worklog": {"id": w.id, "description": w.text, "owner": w.by,
                    "start_time": {"value": w.created.to_string()}},
    }))
}
