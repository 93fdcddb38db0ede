//! Routing and the handlers of the TOPdesk mock.

use std::collections::BTreeSet;

use base64::Engine as _;
use serde_json::{Value, json};
use wiremock::{Request, ResponseTemplate};

use super::fiql;
use super::state::{Account, AccountType, CLOSURE_CODES, Incident, PROCESSING_STATUSES, State};

/// The most rows a page may ask for.
pub(crate) const MAX_PAGE_SIZE: usize = 10_000;

pub(crate) fn json_answer(status: u16, body: &Value) -> ResponseTemplate {
    crate::exchange::note(status, body);
    ResponseTemplate::new(status).set_body_raw(body.to_string(), "application/json")
}

/// `204 No Content`, noted for the exchange log as a `null` body.
fn no_content() -> ResponseTemplate {
    crate::exchange::note(204, &Value::Null);
    ResponseTemplate::new(204)
}

/// The older error shape: `[{"message": …}]`.
pub(crate) fn error(status: u16, message: &str) -> ResponseTemplate {
    json_answer(status, &json!([{ "message": message }]))
}

/// The newer error shape: `{"errors": [{"errorCode", "errorMessage"}]}`.
fn error_v2(status: u16, code: &str, message: &str) -> ResponseTemplate {
    json_answer(
        status,
        &json!({ "errors": [{ "errorCode": code, "errorMessage": message }] }),
    )
}

fn segments(request: &Request) -> Option<Vec<String>> {
    let segs: Vec<String> = request
        .url
        .path_segments()?
        .map(|s| {
            url::form_urlencoded::parse(format!("x={}", s.replace('+', "%2B")).as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default()
        })
        .collect();
    let at = segs
        .windows(2)
        .position(|w| w[0] == "tas" && w[1] == "api")?;
    Some(segs[at + 2..].to_vec())
}

/// Who is calling; `None` answers 401.
fn authenticate(state: &State, request: &Request) -> Option<AccountType> {
    let header = request.headers.get("authorization")?.to_str().ok()?;
    let encoded = header.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())?;
    let (login, password) = decoded.split_once(':')?;
    match state.credentials.get(login) {
        Some((p, kind)) if p == password => Some(*kind),
        _ => None,
    }
}

/// Answers one request.
pub(crate) fn answer(state: &mut State, request: &Request) -> ResponseTemplate {
    let Some(who) = authenticate(state, request) else {
        return error(
            401,
            "Authentication failed: invalid login name or application password",
        );
    };
    let Some(segs) = segments(request) else {
        return error(404, "Not found");
    };
    let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
    let method = request.method.as_str();
    let body = || serde_json::from_slice::<Value>(&request.body).unwrap_or(Value::Null);
    if who == AccountType::Person {
        let readable = method == "GET" && matches!(segs.first(), Some(&"incidents" | &"version"));
        if !readable {
            return error_v2(403, "forbidden", "Persons cannot use this endpoint");
        }
    }
    match (method, segs.as_slice()) {
        ("GET", ["version"]) => json_answer(200, &json!({ "version": "3.7.1" })),
        ("GET", ["incidents"]) => list(
            request,
            state.unfiltered,
            state.incidents.len(),
            &|n| state.incident_json(&state.incidents[n]),
            &[
                "id",
                "number",
                "externalNumber",
                "status",
                "closed",
                "completed",
                "archived",
                "briefDescription",
                "caller.id",
                "caller.email",
            ],
        ),
        ("POST", ["incidents"]) => create_incident(state, &body()),
        ("GET", ["incidents", "id", id]) => match state.incident(id) {
            Some(i) => json_answer(200, &state.incident_json(&state.incidents[i])),
            None => error(404, "The incident was not found"),
        },
        ("GET", ["incidents", "number", number]) => {
            match state.incidents.iter().find(|i| i.number == *number) {
                Some(i) => json_answer(200, &state.incident_json(i)),
                None => error(404, "The incident was not found"),
            }
        }
        ("PATCH" | "PUT", ["incidents", "id", id]) => match state.incident(id) {
            Some(i) => update_incident(state, i, &body()),
            None => error(404, "The incident was not found"),
        },
        ("GET", ["incidents", "id", id, "actions"]) => match state.incident(id) {
            Some(i) => {
                let actions: Vec<Value> = state.incidents[i]
                    .actions
                    .iter()
                    .enumerate()
                    .rev()
                    .map(|(n, (text, invisible))| json!({"id": format!("a-{n}"), "memoText": text, "invisibleForCaller": invisible, "flag": null}))
                    .collect();
                if actions.is_empty() {
                    no_content()
                } else {
                    json_answer(200, &Value::Array(actions))
                }
            }
            None => error(404, "The incident was not found"),
        },
        ("GET", ["operatorChanges", key]) => {
            match state
                .changes
                .iter()
                .find(|c| c.id == *key || c.number == *key)
            {
                Some(c) => json_answer(200, &state.change_json(c)),
                None => error(404, "The change was not found"),
            }
        }
        ("GET", ["persons"]) => list(
            request,
            false,
            state.persons.len(),
            &|n| state.person_json(&state.persons[n]),
            &["id", "tasLoginName", "email", "archived", "surName"],
        ),
        ("GET", ["operators"]) => list(
            request,
            false,
            state.operators.len(),
            &|n| state.operator_json(&state.operators[n]),
            &["id", "loginName", "email", "archived", "surName"],
        ),
        ("GET", ["operatorgroups"]) => list(
            request,
            false,
            state.groups.len(),
            &|n| state.group_json(&state.groups[n]),
            &["id", "groupName"],
        ),
        ("GET", ["operatorgroups", "id", id]) => match state.groups.iter().find(|(g, _)| g == id) {
            Some(g) => json_answer(200, &state.group_json(g)),
            None => error(404, "The operator group was not found"),
        },
        ("POST", ["persons"]) => create_account(state, false, &body()),
        ("POST", ["operators"]) => create_account(state, true, &body()),
        (_, [kind @ ("persons" | "operators"), "id", id, rest @ ..]) => {
            let operator = *kind == "operators";
            let accounts = if operator {
                &state.operators
            } else {
                &state.persons
            };
            let Some(at) = accounts.iter().position(|a| a.id == *id) else {
                return error(404, "The entity was not found");
            };
            account_route(state, operator, at, method, rest, &body())
        }
        _ => error(404, "Not found"),
    }
}

/// A list answer: 206 while more rows follow, 200 on the last page, 204 when none.
/// Rows are rendered on demand (`render(n)` for row `n` of `count`): without a query only
/// the page is rendered, so a 100k-row import costs one page per request.
/// `unfiltered` answers every row whatever the query asks
/// (`TicketBackend::ignore_search_filters`).
fn list(
    request: &Request,
    unfiltered: bool,
    count: usize,
    render: &dyn Fn(usize) -> Value,
    fields: &[&str],
) -> ResponseTemplate {
    let param = |names: &[&str]| {
        request
            .url
            .query_pairs()
            .find(|(k, _)| names.contains(&k.as_ref()))
            .map(|(_, v)| v.into_owned())
    };
    let start = match param(&["pageStart", "start"]).map(|s| s.parse::<usize>()) {
        None => 0,
        Some(Ok(n)) => n,
        Some(Err(_)) => return error(400, "pageStart must be a number"),
    };
    let size = match param(&["pageSize", "page_size"]).map(|s| s.parse::<usize>()) {
        None => 10,
        Some(Ok(n)) if (1..=MAX_PAGE_SIZE).contains(&n) => n,
        _ => return error(400, "pageSize must be between 1 and 10000"),
    };
    let Some(q) = param(&["query"]) else {
        if count == 0 || start >= count {
            return no_content();
        }
        let end = (start + size).min(count);
        let page: Vec<Value> = (start..end).map(render).collect();
        let status = if end < count { 206 } else { 200 };
        return json_answer(status, &Value::Array(page));
    };
    let expr = match fiql::parse(&q) {
        Ok(e) => e,
        Err(e) => return error(400, &format!("The query is malformed: {e}")),
    };
    let mut rows = Vec::new();
    for row in (0..count).map(render) {
        let matched = if unfiltered {
            Ok(true)
        } else {
            fiql::matches(&expr, &row, fields)
        };
        match matched {
            Ok(true) => rows.push(row),
            Ok(false) => {}
            Err(e) => return error(400, &e),
        }
    }
    let total = rows.len();
    if start >= total {
        return no_content();
    }
    let page: Vec<Value> = rows.into_iter().skip(start).take(size).collect();
    let status = if start + page.len() < total { 206 } else { 200 };
    json_answer(status, &Value::Array(page))
}

/// The name (or id) of a search-list reference; the error is a 400 message.
fn name_ref(body: &Value, key: &str) -> Result<Option<String>, String> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(o)) if o.contains_key("id") && o.contains_key("name") => {
            Err(format!("'{key}': give either id or name, not both"))
        }
        Some(Value::Object(o)) => Ok(o
            .get("name")
            .or_else(|| o.get("id"))
            .and_then(Value::as_str)
            .map(str::to_owned)),
        Some(_) => Err(format!("'{key}' must be an object")),
    }
}

fn create_incident(state: &mut State, body: &Value) -> ResponseTemplate {
    let Some(obj) = body.as_object() else {
        return error(400, "The request body is not a JSON object");
    };
    let known = [
        "callerLookup",
        "caller",
        "status",
        "briefDescription",
        "request",
        "action",
        "actionInvisibleForCaller",
        "category",
        "subcategory",
        "callType",
        "entryType",
        "impact",
        "urgency",
        "priority",
        "operatorGroup",
        "operator",
        "processingStatus",
        "externalNumber",
        "optionalFields1",
        "optionalFields2",
    ];
    if let Some(k) = obj.keys().find(|k| !known.contains(&k.as_str())) {
        return error(400, &format!("Field '{k}' does not exist"));
    }
    let brief = obj
        .get("briefDescription")
        .and_then(Value::as_str)
        .unwrap_or("");
    if brief.chars().count() > 80 {
        return error(400, "briefDescription can only be 80 characters long");
    }
    let line = obj
        .get("status")
        .and_then(Value::as_str)
        .unwrap_or("firstLine");
    if !matches!(line, "firstLine" | "secondLine") {
        return error(400, &format!("status '{line}' is invalid"));
    }
    let caller = match obj.get("callerLookup") {
        None => None,
        Some(lookup) => {
            let found = state.persons.iter().find(|p| {
                lookup.get("id").and_then(Value::as_str) == Some(p.id.as_str())
                    || lookup
                        .get("email")
                        .and_then(Value::as_str)
                        .is_some_and(|e| e.eq_ignore_ascii_case(&p.email))
            });
            match found {
                Some(p) => Some(
                    json!({"id": p.id, "dynamicName": format!("{}, {}", p.sur, p.first), "email": p.email}),
                ),
                None => return error(400, "callerLookup: no person found"),
            }
        }
    };
    let group = match name_ref(body, "operatorGroup") {
        Ok(g) => g,
        Err(e) => return error(400, &e),
    };
    let id = state.new_id(1);
    let number = state.new_number();
    let mut incident = Incident {
        id: id.clone(),
        number,
        line: line.to_owned(),
        brief: brief.to_owned(),
        request: obj
            .get("request")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned(),
        caller,
        processing_status: "Logged".into(),
        on_hold: false,
        completed: false,
        closed: false,
        closure_code: None,
        operator_group: group,
        external_number: obj
            .get("externalNumber")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned(),
        created: "2026-12-07T09:30:00.000+0000".into(),
        archived: false,
        actions: Vec::new(),
    };
    if let Some(a) = obj.get("action").and_then(Value::as_str) {
        let invisible = obj
            .get("actionInvisibleForCaller")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        incident.actions.push((a.to_owned(), invisible));
    }
    state.incidents.push(incident);
    state.created_incidents += 1;
    let i = state.incidents.len() - 1;
    json_answer(201, &state.incident_json(&state.incidents[i]))
}

fn update_incident(state: &mut State, at: usize, body: &Value) -> ResponseTemplate {
    let Some(obj) = body.as_object() else {
        return error(400, "The request body is not a JSON object");
    };
    if state.incidents[at].archived {
        return error(403, "The incident is archived");
    }
    let known = [
        "action",
        "actionInvisibleForCaller",
        "processingStatus",
        "closureCode",
        "completed",
        "closed",
        "onHold",
        "briefDescription",
        "request",
        "operatorGroup",
    ];
    if let Some(k) = obj.keys().find(|k| !known.contains(&k.as_str())) {
        return error(400, &format!("Field '{k}' does not exist"));
    }
    let status = match name_ref(body, "processingStatus") {
        Ok(s) => s,
        Err(e) => return error(400, &e),
    };
    let status = match status.map(|s| {
        PROCESSING_STATUSES
            .iter()
            .find(|(n, ..)| n.eq_ignore_ascii_case(&s))
            .copied()
            .ok_or(s)
    }) {
        None => None,
        Some(Ok(s)) => Some(s),
        Some(Err(s)) => return error(400, &format!("processingStatus '{s}' does not exist")),
    };
    let code = match name_ref(body, "closureCode") {
        Ok(c) => c,
        Err(e) => return error(400, &e),
    };
    if let Some(c) = &code {
        if !CLOSURE_CODES.iter().any(|k| k.eq_ignore_ascii_case(c)) {
            return error(400, &format!("closureCode '{c}' does not exist"));
        }
    }
    let drives = state.status_drives_flags;
    let flag = |k: &str| obj.get(k).and_then(Value::as_bool);
    let i = &mut state.incidents[at];
    if let Some(text) = obj.get("action").and_then(Value::as_str) {
        let invisible = flag("actionInvisibleForCaller").unwrap_or(false);
        i.actions.push((text.to_owned(), invisible));
    }
    if let Some((name, on_hold, closes)) = status {
        i.processing_status = name.to_owned();
        i.on_hold = on_hold;
        if drives && closes {
            i.completed = true;
            // Partial incidents are never `closed`; `completed` is their end.
            i.closed = i.line != "partial";
        }
    }
    if let Some(c) = code {
        i.closure_code = Some(c);
    }
    if let Some(b) = flag("completed") {
        i.completed = b;
    }
    // Partial incidents ignore `closed` (fact sheet §3.3).
    if let Some(b) = flag("closed").filter(|_| i.line != "partial") {
        i.closed = b;
        if b {
            i.completed = true;
        }
    }
    if let Some(b) = obj.get("briefDescription").and_then(Value::as_str) {
        i.brief = b.to_owned();
    }
    let i = &state.incidents[at];
    json_answer(200, &state.incident_json(i))
}

fn accounts(state: &mut State, operator: bool) -> &mut Vec<Account> {
    if operator {
        &mut state.operators
    } else {
        &mut state.persons
    }
}

fn render(state: &State, operator: bool, at: usize) -> Value {
    if operator {
        state.operator_json(&state.operators[at])
    } else {
        state.person_json(&state.persons[at])
    }
}

fn create_account(state: &mut State, operator: bool, body: &Value) -> ResponseTemplate {
    let Some(obj) = body.as_object() else {
        return error(400, "The request body is not a JSON object");
    };
    let login_key = if operator {
        "loginName"
    } else {
        "tasLoginName"
    };
    let s = |k: &str| obj.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
    let sur = s("surName");
    if sur.is_empty() {
        return error(400, "surName is mandatory");
    }
    let branch = obj
        .get("branch")
        .and_then(|b| b.get("id"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    // CreatePersonDto and CreateOperatorDto both require a branch.
    match &branch {
        None => return error(400, "branch is mandatory"),
        Some(b) if !state.branches.contains(b) => {
            return error(400, "The branch does not exist");
        }
        Some(_) => {}
    }
    let login = s(login_key);
    if !login.is_empty()
        && accounts(state, operator)
            .iter()
            .any(|a| a.login.eq_ignore_ascii_case(&login))
    {
        return error(400, &format!("{login_key} '{login}' is not unique"));
    }
    let id = state.new_id(if operator { 3 } else { 2 });
    accounts(state, operator).push(Account {
        id,
        login,
        first: s("firstName"),
        sur,
        email: s("email"),
        archived: false,
        branch,
        groups: BTreeSet::new(),
    });
    let at = accounts(state, operator).len() - 1;
    json_answer(201, &render(state, operator, at))
}

fn account_route(
    state: &mut State,
    operator: bool,
    at: usize,
    method: &str,
    rest: &[&str],
    body: &Value,
) -> ResponseTemplate {
    match (method, rest) {
        ("GET", []) => json_answer(200, &render(state, operator, at)),
        ("PATCH" | "PUT", []) => {
            if accounts(state, operator)[at].archived {
                return error(403, "Archived persons and operators cannot be modified");
            }
            let Some(obj) = body.as_object() else {
                return error(400, "The request body is not a JSON object");
            };
            let allowed: &[&str] = &[
                "firstName",
                "surName",
                "email",
                "jobTitle",
                "telephone",
                "mobileNumber",
                "employeeNumber",
                "networkLoginName",
                "department",
                "branch",
            ];
            if let Some(k) = obj.keys().find(|k| !allowed.contains(&k.as_str())) {
                return error(400, &format!("Field '{k}' cannot be changed"));
            }
            let a = &mut accounts(state, operator)[at];
            if let Some(v) = obj.get("firstName").and_then(Value::as_str) {
                a.first = v.to_owned();
            }
            if let Some(v) = obj.get("surName").and_then(Value::as_str) {
                a.sur = v.to_owned();
            }
            if let Some(v) = obj.get("email").and_then(Value::as_str) {
                a.email = v.to_owned();
            }
            json_answer(200, &render(state, operator, at))
        }
        ("PATCH" | "PUT", [what @ ("archive" | "unarchive")]) => {
            let archive = *what == "archive";
            let a = &mut accounts(state, operator)[at];
            if a.archived == archive {
                let m = if archive {
                    "already archived"
                } else {
                    "not archived"
                };
                return error(400, &format!("The entity is {m}"));
            }
            a.archived = archive;
            json_answer(200, &render(state, operator, at))
        }
        ("GET", ["operatorgroups"]) if operator => {
            let groups: Vec<Value> = state.operators[at]
                .groups
                .iter()
                .filter_map(|g| state.groups.iter().find(|(id, _)| id == g))
                .map(|g| state.group_json(g))
                .collect();
            if groups.is_empty() {
                no_content()
            } else {
                json_answer(200, &Value::Array(groups))
            }
        }
        (m @ ("POST" | "DELETE"), ["operatorgroups"]) if operator => {
            let Some(items) = body.as_array() else {
                return error(400, "The body must be a list of {\"id\"} objects");
            };
            let mut ids = Vec::new();
            for item in items {
                let Some(id) = item.get("id").and_then(Value::as_str) else {
                    return error(400, "The body must be a list of {\"id\"} objects");
                };
                if !state.groups.iter().any(|(g, _)| g == id) {
                    return error(404, &format!("Operator group {id} was not found"));
                }
                ids.push(id.to_owned());
            }
            let groups = &mut state.operators[at].groups;
            for id in ids {
                if m == "POST" {
                    groups.insert(id);
                } else {
                    groups.remove(&id);
                }
            }
            no_content()
        }
        _ => error(404, "Not found"),
    }
}
