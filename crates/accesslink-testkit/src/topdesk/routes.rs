//! Routing and the handlers of the TOPdesk mock.

use std::collections::BTreeSet;

use base64::Engine as _;
use serde_json::{Value, json};
use wiremock::{Request, ResponseTemplate};

use super::fiql;
use super::state::{
    Account, AccountType, CATEGORIES, CLOSURE_CODES, Change, Entry, Incident, PROCESSING_STATUSES,
    State, category_id, format_time,
};

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
                "modificationDate",
                "creationDate",
                "onHold",
                "category.id",
                "category.name",
                "subcategory.name",
                "operatorGroup.id",
                "operatorGroup.name",
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
                    .map(|(_, e)| json!({"id": e.id, "memoText": e.text, "invisibleForCaller": e.invisible, "flag": null, "entryDate": format_time(e.at)}))
                    .collect();
                if actions.is_empty() {
                    no_content()
                } else {
                    json_answer(200, &Value::Array(actions))
                }
            }
            None => error(404, "The incident was not found"),
        },
        ("GET", ["incidents", "id", id, "progresstrail"]) => match state.incident(id) {
            Some(i) => progress_trail(request, &state.incidents[i].actions),
            None => error(404, "The incident was not found"),
        },
        ("GET", ["incidents", "categories"]) => json_answer(
            200,
            &Value::Array(
                CATEGORIES
                    .iter()
                    .enumerate()
                    .map(|(c, (name, _))| json!({"id": category_id(c, None), "name": name}))
                    .collect(),
            ),
        ),
        ("GET", ["incidents", "subcategories"]) => json_answer(
            200,
            &Value::Array(
                CATEGORIES
                    .iter()
                    .enumerate()
                    .flat_map(|(c, (cat, subs))| {
                        subs.iter().enumerate().map(move |(s, name)| {
                            json!({"id": category_id(c, Some(s)), "name": name, "category": {"id": category_id(c, None), "name": cat}})
                        })
                    })
                    .collect(),
            ),
        ),
        ("GET", ["incidents", "closure_codes"]) => json_answer(
            200,
            &Value::Array(
                CLOSURE_CODES
                    .iter()
                    .enumerate()
                    .map(|(n, name)| json!({"id": format!("5ea7c411-0002-4000-8000-{n:012x}"), "name": name}))
                    .collect(),
            ),
        ),
        ("GET", ["incidents", "statuses"]) => json_answer(
            200,
            &Value::Array(
                PROCESSING_STATUSES
                    .iter()
                    .enumerate()
                    .map(|(n, (name, hold, closes))| json!({"id": format!("5ea7c411-0001-4000-8000-{n:012x}"), "name": name, "onHold": hold.to_string(), "processingState": if *closes { "closed" } else { "open" }, "response": "false", "default": n == 0}))
                    .collect(),
            ),
        ),
        ("GET", ["operatorChanges"]) => list_changes(state, request),
        ("POST", ["operatorChanges"]) => create_change(state, &body()),
        ("POST", ["operatorChanges", key, what @ ("progresstrail" | "processingStatusTransitions" | "cancel")]) => {
            match state
                .changes
                .iter()
                .position(|c| c.id == *key || c.number == *key)
            {
                Some(at) => change_action(state, at, what, &body()),
                None => error(404, "The change was not found"),
            }
        }
        ("GET", ["permissiongroups"]) => list(
            request,
            false,
            state.permission_groups.len(),
            &|n| {
                let (id, name) = &state.permission_groups[n];
                json!({"id": id, "name": name})
            },
            &["id", "name"],
        ),
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
    let q = param(&["query"]);
    let sort = param(&["sort"]);
    if q.is_none() && sort.is_none() {
        if count == 0 || start >= count {
            return no_content();
        }
        let end = (start + size).min(count);
        let page: Vec<Value> = (start..end).map(render).collect();
        let status = if end < count { 206 } else { 200 };
        return json_answer(status, &Value::Array(page));
    }
    let expr = match q.as_deref().map(fiql::parse) {
        None => None,
        Some(Ok(e)) => Some(e),
        Some(Err(e)) => return error(400, &format!("The query is malformed: {e}")),
    };
    let mut rows = Vec::new();
    for row in (0..count).map(render) {
        let matched = match &expr {
            Some(e) if !unfiltered => fiql::matches(e, &row, fields),
            _ => Ok(true),
        };
        match matched {
            Ok(true) => rows.push(row),
            Ok(false) => {}
            Err(e) => return error(400, &e),
        }
    }
    if let Some(sort) = sort {
        // `field:asc,field:desc`; fields compared as times, numbers or text.
        let mut keys = Vec::new();
        for part in sort.split(',') {
            let (field, dir) = part.split_once(':').unwrap_or((part, "asc"));
            if !fields.contains(&field) || !matches!(dir, "asc" | "desc") {
                return error(400, &format!("Cannot sort on '{part}'"));
            }
            keys.push((field.to_owned(), dir == "desc"));
        }
        rows.sort_by(|a, b| {
            for (field, desc) in &keys {
                let text = |r: &Value| {
                    field
                        .split('.')
                        .try_fold(r, |v, p| v.get(p))
                        .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                        .unwrap_or_default()
                };
                let ord = fiql::compare(&text(a), &text(b)).unwrap_or(std::cmp::Ordering::Equal);
                let ord = if *desc { ord.reverse() } else { ord };
                if ord.is_ne() {
                    return ord;
                }
            }
            std::cmp::Ordering::Equal
        });
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
    let (category, subcategory) = match (name_ref(body, "category"), name_ref(body, "subcategory"))
    {
        (Ok(c), Ok(s)) => (c, s),
        (Err(e), _) | (_, Err(e)) => return error(400, &e),
    };
    if let Some(c) = &category {
        let Some((_, subs)) = CATEGORIES.iter().find(|(n, _)| n == c) else {
            return error(400, &format!("category '{c}' does not exist"));
        };
        if let Some(sc) = &subcategory {
            if !subs.contains(&sc.as_str()) {
                return error(400, "The subcategory does not belong to the given category");
            }
        }
    }
    let id = state.new_id(1);
    let number = state.new_number();
    let now = state.now();
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
        created: format_time(now),
        modified: now,
        category,
        subcategory,
        archived: false,
        actions: Vec::new(),
    };
    if let Some(a) = obj.get("action").and_then(Value::as_str) {
        let invisible = obj
            .get("actionInvisibleForCaller")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let e = state.entry(a, invisible, api_operator(state));
        incident.actions.push(e);
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
    let entry = obj.get("action").and_then(Value::as_str).map(|text| {
        let invisible = flag("actionInvisibleForCaller").unwrap_or(false);
        let by = api_operator(state);
        state.entry(text, invisible, by)
    });
    state.touch(at);
    let i = &mut state.incidents[at];
    if let Some(e) = entry {
        i.actions.push(e);
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
    let password = match password_of(obj) {
        Ok(p) => p,
        Err(e) => return *e,
    };
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
        permission_groups: BTreeSet::new(),
        password,
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
                "password",
            ];
            if let Some(k) = obj.keys().find(|k| !allowed.contains(&k.as_str())) {
                return error(400, &format!("Field '{k}' cannot be changed"));
            }
            let password = match password_of(obj) {
                Ok(p) => p,
                Err(e) => return *e,
            };
            let a = &mut accounts(state, operator)[at];
            if password.is_some() {
                a.password = password;
            }
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
        ("GET", [list @ ("operatorgroups" | "permissiongroups")]) if operator => {
            let (held, known) = if *list == "operatorgroups" {
                (&state.operators[at].groups, &state.groups)
            } else {
                (
                    &state.operators[at].permission_groups,
                    &state.permission_groups,
                )
            };
            // Both answer search-list references `{"id", "name"}`.
            let groups: Vec<Value> = held
                .iter()
                .filter_map(|g| known.iter().find(|(id, _)| id == g))
                .map(|(id, name)| json!({"id": id, "name": name}))
                .collect();
            if groups.is_empty() {
                no_content()
            } else {
                json_answer(200, &Value::Array(groups))
            }
        }
        (m @ ("POST" | "DELETE"), [list @ ("operatorgroups" | "permissiongroups")]) if operator => {
            let permission = *list == "permissiongroups";
            let Some(items) = body.as_array() else {
                return error(400, "The body must be a list of {\"id\"} objects");
            };
            let mut ids = Vec::new();
            for item in items {
                let Some(id) = item.get("id").and_then(Value::as_str) else {
                    return error(400, "The body must be a list of {\"id\"} objects");
                };
                let known = if permission {
                    &state.permission_groups
                } else {
                    &state.groups
                };
                if !known.iter().any(|(g, _)| g == id) {
                    return error(404, &format!("Group {id} was not found"));
                }
                ids.push(id.to_owned());
            }
            let op = &mut state.operators[at];
            let groups = if permission {
                &mut op.permission_groups
            } else {
                &mut op.groups
            };
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

/// The operator the API user is, as progress-trail entries name the writer.
fn api_operator(state: &State) -> Option<(String, String)> {
    let _ = state;
    Some((
        "7d0c0003-0003-4000-8000-00000000a11e".to_owned(),
        "API, Service".to_owned(),
    ))
}

/// `password` of a create or update body: at least 5 characters (the vendor's API
/// description); the error answer otherwise.
fn password_of(
    obj: &serde_json::Map<String, Value>,
) -> Result<Option<String>, Box<ResponseTemplate>> {
    match obj.get("password") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(p)) if p.chars().count() >= 5 => Ok(Some(p.clone())),
        Some(_) => Err(Box::new(error(
            400,
            "password must be at least 5 characters",
        ))),
    }
}

/// A query parameter.
fn param(request: &Request, names: &[&str]) -> Option<String> {
    request
        .url
        .query_pairs()
        .find(|(k, _)| names.contains(&k.as_ref()))
        .map(|(_, v)| v.into_owned())
}

/// `GET …/progresstrail?start=&page_size=` (1..=100, default 10): newest first, 206
/// while more follow, 200 on the last page, 204 when none.
fn progress_trail(request: &Request, entries: &[Entry]) -> ResponseTemplate {
    let start = match param(request, &["start"]).map(|s| s.parse::<usize>()) {
        None => 0,
        Some(Ok(n)) => n,
        Some(Err(_)) => return error(400, "start must be a number"),
    };
    let size = match param(request, &["page_size"]).map(|s| s.parse::<usize>()) {
        None => 10,
        Some(Ok(n)) if (1..=100).contains(&n) => n,
        _ => return error(400, "page_size must be between 1 and 100"),
    };
    if start >= entries.len() {
        return no_content();
    }
    let page: Vec<Value> = entries
        .iter()
        .rev()
        .skip(start)
        .take(size)
        .map(|e| {
            let who = |p: &Option<(String, String)>| {
                p.as_ref().map(|(id, name)| json!({"id": id, "name": name}))
            };
            json!({
                "id": e.id,
                "memoText": e.text,
                "flag": null,
                "invisibleForCaller": e.invisible,
                "entryDate": format_time(e.at),
                "operator": who(&e.operator),
                "person": who(&e.person),
                "user": who(&e.operator).or_else(|| who(&e.person)),
            })
        })
        .collect();
    let status = if start + page.len() < entries.len() {
        206
    } else {
        200
    };
    json_answer(status, &Value::Array(page))
}

/// `GET /operatorChanges?pageStart=&pageSize=&query=`: the newer paging dialect,
/// `{"results": […], "next": url}` (1..=5000 per page), 206 while more follow.
fn list_changes(state: &State, request: &Request) -> ResponseTemplate {
    let start = match param(request, &["pageStart"]).map(|s| s.parse::<usize>()) {
        None => 0,
        Some(Ok(n)) => n,
        Some(Err(_)) => return error(400, "pageStart must be a number"),
    };
    let size = match param(request, &["pageSize"]).map(|s| s.parse::<usize>()) {
        None => 10,
        Some(Ok(n)) if (1..=5000).contains(&n) => n,
        _ => return error(400, "pageSize must be between 1 and 5000"),
    };
    let expr = match param(request, &["query"]).map(|q| fiql::parse(&q)) {
        None => None,
        Some(Ok(e)) => Some(e),
        Some(Err(e)) => return error(400, &format!("The query is malformed: {e}")),
    };
    let mut rows = Vec::new();
    for c in &state.changes {
        let row = state.change_json(c);
        let keep = match &expr {
            Some(e) if !state.unfiltered => {
                match fiql::matches(
                    e,
                    &row,
                    &["id", "number", "externalNumber", "changeType", "phase"],
                ) {
                    Ok(k) => k,
                    Err(e) => return error(400, &e),
                }
            }
            _ => true,
        };
        if keep {
            rows.push(row);
        }
    }
    if start >= rows.len() {
        return no_content();
    }
    let total = rows.len();
    let page: Vec<Value> = rows.into_iter().skip(start).take(size).collect();
    let more = start + page.len() < total;
    let next = more.then(|| {
        format!(
            "/tas/api/operatorChanges?pageStart={}&pageSize={size}",
            start + page.len()
        )
    });
    json_answer(
        if more { 206 } else { 200 },
        &json!({ "results": page, "next": next }),
    )
}

/// `POST /operatorChanges` (fact sheet §3.4, as the HelloID connector sends it).
fn create_change(state: &mut State, body: &Value) -> ResponseTemplate {
    let Some(obj) = body.as_object() else {
        return error(400, "The request body is not a JSON object");
    };
    let known = [
        "requester",
        "briefDescription",
        "request",
        "action",
        "changeType",
        "template",
        "category",
        "subCategory",
        "impact",
        "benefit",
        "priority",
        "externalNumber",
    ];
    if let Some(k) = obj.keys().find(|k| !known.contains(&k.as_str())) {
        return error(400, &format!("Field '{k}' does not exist"));
    }
    let brief = obj
        .get("briefDescription")
        .and_then(Value::as_str)
        .unwrap_or("");
    if brief.is_empty() || brief.chars().count() > 80 {
        return error(
            400,
            "briefDescription is mandatory and at most 80 characters long",
        );
    }
    let change_type = obj.get("changeType").and_then(Value::as_str).unwrap_or("");
    if !matches!(change_type, "simple" | "extensive") {
        return error(400, "changeType must be simple or extensive");
    }
    let requester = obj
        .get("requester")
        .and_then(|r| r.get("id"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    match &requester {
        Some(r) if state.persons.iter().any(|p| &p.id == r) => {}
        _ => return error(400, "requester: a known person id is mandatory"),
    }
    let id = state.new_id(5);
    let number = format!("C2612-{:03}", state.changes.len() + 1);
    let simple = change_type == "simple";
    let mut change = Change {
        id,
        number,
        brief: brief.to_owned(),
        change_type: change_type.to_owned(),
        phase: if simple { "simple" } else { "rfc" }.to_owned(),
        authorization_status: (!simple).then(|| "requested".to_owned()),
        requester,
        request: obj
            .get("request")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned(),
        external_number: obj
            .get("externalNumber")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned(),
        modified: state.now(),
        progress: Vec::new(),
    };
    if let Some(a) = obj.get("action").and_then(Value::as_str) {
        let e = state.entry(a, false, api_operator(state));
        change.progress.push(e);
    }
    state.changes.push(change);
    let c = &state.changes[state.changes.len() - 1];
    json_answer(201, &state.change_json(c))
}

/// `POST /operatorChanges/{id}/progresstrail` (`{"memoText", "type": "memo",
/// "invisibleForCaller"}`), `…/processingStatusTransitions` (`{"action", "comment"}`:
/// `approve`/`reject` from `rfc`, `close` from an open phase) and `…/cancel`.
fn change_action(state: &mut State, at: usize, what: &str, body: &Value) -> ResponseTemplate {
    let Some(obj) = body.as_object() else {
        return error(400, "The request body is not a JSON object");
    };
    let finished = |p: &str| matches!(p, "closed" | "rejected" | "canceled");
    let phase = state.changes[at].phase.clone();
    match what {
        "progresstrail" => {
            if let Some(k) = obj
                .keys()
                .find(|k| !["memoText", "type", "invisibleForCaller"].contains(&k.as_str()))
            {
                return error(400, &format!("Field '{k}' does not exist"));
            }
            let Some(text) = obj
                .get("memoText")
                .and_then(Value::as_str)
                .filter(|t| !t.is_empty())
            else {
                return error(400, "memoText is mandatory");
            };
            let invisible = obj
                .get("invisibleForCaller")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            let by = api_operator(state);
            let e = state.entry(text, invisible, by);
            let now = state.now();
            let c = &mut state.changes[at];
            c.progress.push(e);
            c.modified = now;
            json_answer(201, &json!({"id": c.progress.last().map(|e| e.id.clone())}))
        }
        "cancel" => {
            if finished(&phase) {
                return error(
                    400,
                    &format!("A change in phase '{phase}' cannot be canceled"),
                );
            }
            state.changes[at].phase = "canceled".into();
            let now = state.now();
            state.changes[at].modified = now;
            no_content()
        }
        _ => {
            let action = obj.get("action").and_then(Value::as_str).unwrap_or("");
            let next = match (action, phase.as_str()) {
                ("approve", "rfc" | "prfc") => Some(("progress", Some("authorized"))),
                ("reject", "rfc" | "prfc") => Some(("rejected", Some("rejected"))),
                ("close", "simple" | "progress" | "evaluation") => Some(("closed", None)),
                _ => None,
            };
            let Some((to, auth)) = next else {
                return error(
                    400,
                    &format!("Transition '{action}' is not possible from phase '{phase}'"),
                );
            };
            let comment = obj
                .get("comment")
                .and_then(Value::as_str)
                .filter(|t| !t.is_empty());
            let entry = comment.map(|t| {
                let by = api_operator(state);
                state.entry(t, false, by)
            });
            let now = state.now();
            let c = &mut state.changes[at];
            c.phase = to.into();
            if let Some(a) = auth {
                c.authorization_status = Some(a.into());
            }
            c.progress.extend(entry);
            c.modified = now;
            let c = &state.changes[at];
            json_answer(200, &state.change_json(c))
        }
    }
}
