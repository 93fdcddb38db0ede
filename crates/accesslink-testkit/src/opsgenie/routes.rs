//! Routing: one request in, one OpsGenie-shaped answer out.

// Lookups return the error response to send as their `Err`: it is built once per
// request and sent as is, so boxing it would buy nothing.
#![allow(clippy::result_large_err)]

use serde_json::{Map, Value, json};
use wiremock::{Request, ResponseTemplate};

use super::state::{Key, KeyAccess, Role, State, Team, User};
use super::users;

/// Users list: default and largest page (spec default 100; docs: at most 100).
pub(crate) const USERS_MAX_LIMIT: usize = 100;

/// A parsed request: method, path segments after `/v2`, query pairs, JSON body.
pub(crate) struct Call<'a> {
    pub method: &'a str,
    pub segments: Vec<String>,
    pub query: Vec<(String, String)>,
    pub body: Option<Value>,
    pub raw_body: &'a [u8],
}

impl<'a> Call<'a> {
    pub(crate) fn parse(request: &'a Request) -> Self {
        let segments = request
            .url
            .path_segments()
            .map(|s| s.filter(|p| !p.is_empty()).map(percent_decode).collect())
            .unwrap_or_default();
        Call {
            method: request.method.as_str(),
            segments,
            query: request.url.query_pairs().into_owned().collect(),
            body: serde_json::from_slice(&request.body).ok(),
            raw_body: &request.body,
        }
    }

    pub(crate) fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The route label requests are counted under: `/v2/users/:id`, `/v2/teams`, …
    pub(crate) fn label(&self) -> String {
        let seg: Vec<&str> = self.segments.iter().map(String::as_str).collect();
        let templ = match seg.as_slice() {
            ["v2", "users"] => "/v2/users",
            ["v2", "users", _] => "/v2/users/:id",
            ["v2", "users", _, "teams"] => "/v2/users/:id/teams",
            ["v2", "teams"] => "/v2/teams",
            ["v2", "teams", _] => "/v2/teams/:id",
            ["v2", "teams", _, "members"] => "/v2/teams/:id/members",
            ["v2", "teams", _, "members", _] => "/v2/teams/:id/members/:member",
            ["v2", "roles"] => "/v2/roles",
            ["v2", "roles", _] => "/v2/roles/:id",
            ["v2", "account"] => "/v2/account",
            _ => "unknown",
        };
        templ.to_owned()
    }
}

fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", s.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// A success envelope: `data` plus `took` and `requestId`, and any extra fields.
pub(crate) fn ok(state: &mut State, status: u16, mut body: Map<String, Value>) -> ResponseTemplate {
    body.insert("took".into(), json!(0.011));
    let rid = state.new_id(4);
    body.insert("requestId".into(), json!(rid));
    respond(status, &Value::Object(body), &rid)
}

pub(crate) fn data(state: &mut State, status: u16, data: Value) -> ResponseTemplate {
    ok(state, status, Map::from_iter([("data".to_owned(), data)]))
}

/// `{"result","data":{id,name}}`: the spec's `SuccessResponse` of sync writes.
pub(crate) fn result(
    state: &mut State,
    status: u16,
    result: &str,
    data: Option<Value>,
) -> ResponseTemplate {
    let mut body = Map::from_iter([("result".to_owned(), json!(result))]);
    if let Some(d) = data {
        body.insert("data".into(), d);
    }
    ok(state, status, body)
}

/// An error body: `{"message","took","requestId"}` (+ `errors` on validation failures).
pub(crate) fn error(
    state: &mut State,
    status: u16,
    message: &str,
    errors: Option<Value>,
) -> ResponseTemplate {
    let rid = state.new_id(4);
    let mut body = json!({ "message": message, "took": 0.002, "requestId": rid });
    if let Some(e) = errors {
        body["errors"] = e;
    }
    respond(status, &body, &rid)
}

pub(crate) fn validation(state: &mut State, field: &str, reason: &str) -> ResponseTemplate {
    error(
        state,
        422,
        "Request body is not processable. Please check the errors.",
        Some(json!({ field: reason })),
    )
}

fn respond(status: u16, body: &Value, rid: &str) -> ResponseTemplate {
    crate::exchange::note(status, body);
    ResponseTemplate::new(status)
        .set_body_raw(body.to_string(), "application/json")
        .insert_header("x-request-id", rid)
        .insert_header("x-response-time", "0.011")
        .insert_header("x-ratelimit-state", "OK")
}

/// OpsGenie's answer to a throttled request (fact sheet §2.3): `429`,
/// `X-RateLimit-State: THROTTLED`, the reason and period, and no `Retry-After`.
pub(crate) fn throttled(state: &mut State, domain: &str) -> ResponseTemplate {
    error(
        state,
        429,
        "Too many requests. Rate limit exceeded, try again later.",
        None,
    )
    .insert_header("x-ratelimit-state", "THROTTLED")
    .insert_header("x-ratelimit-reason", format!("{domain}:PerMinute"))
    .insert_header("x-ratelimit-period-in-sec", "60")
}

/// The rate-limit domain of a route (fact sheet §2.3): listing users is "Search",
/// the rest of users, teams and roles "Configuration".
pub(crate) fn domain(call: &Call<'_>) -> &'static str {
    if call.method == "GET" && call.label() == "/v2/users" {
        "Search"
    } else {
        "Configuration"
    }
}

/// Checks `Authorization: GenieKey <key>` and the key's rights.
pub(crate) fn authorize(
    state: &mut State,
    request: &Request,
    method: &str,
) -> Option<ResponseTemplate> {
    let header = request
        .headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let key = header
        .strip_prefix("GenieKey ")
        .map(str::trim)
        .filter(|k| !k.is_empty());
    let Some(access) = key.and_then(|k| state.keys.get(k).copied()) else {
        return Some(error(state, 401, "Could not authenticate", None));
    };
    let write = method != "GET";
    match access {
        KeyAccess::Full => None,
        KeyAccess::ReadOnly if write => Some(error(
            state,
            403,
            "You are not authorized for this action: the API key is read-only",
            None,
        )),
        KeyAccess::ReadOnly => None,
        KeyAccess::NoConfiguration => Some(error(
            state,
            403,
            "You are not authorized for this action: the API key has no configuration access",
            None,
        )),
    }
}

/// Routes an authorized request.
pub(crate) fn answer(state: &mut State, call: &Call<'_>) -> ResponseTemplate {
    if call.method != "GET"
        && call.method != "DELETE"
        && !call.raw_body.is_empty()
        && call.body.is_none()
    {
        return error(
            state,
            400,
            "Could not parse request body: malformed JSON",
            None,
        );
    }
    let seg: Vec<&str> = call.segments.iter().map(String::as_str).collect();
    match (call.method, seg.as_slice()) {
        ("GET", ["v2", "account"]) => {
            let count = state.total_users();
            let name = state.account_name.clone();
            data(
                state,
                200,
                json!({ "name": name, "userCount": count,
                        "plan": { "maxUserCount": 1_000_000, "name": "Enterprise", "isYearly": true } }),
            )
        }
        ("GET", ["v2", "users"]) => users::list(state, call),
        ("POST", ["v2", "users"]) => users::create(state, call),
        ("GET", ["v2", "users", id]) => users::get(state, call, id),
        ("PATCH", ["v2", "users", id]) => users::update(state, call, id),
        ("DELETE", ["v2", "users", id]) => users::delete(state, id),
        ("GET", ["v2", "users", id, "teams"]) => users::teams(state, id),
        ("GET", ["v2", "teams"]) => {
            // No `expandable` here, on purpose. opsgenie-oas `swagger.json` (71c5534) has
            // `ListTeamsResponse` extend `BaseResponseWithExpandable`, whose `required:
            // [expandable]` sits beside its `allOf`; the vendor's later OpenAPI 3 file in
            // opsgenie-python-sdk (`opsgenie-oas.yml`) drops that `required`, its model
            // makes the field optional, the go SDK's `ListTeamResult` has no such field
            // at all (only schedule results carry `expandable,omitempty`), and the docs
            // show it on the GETs that can expand something (`GET /v2/users/:id` →
            // `["contact"]`), not on the team list. See docs/connectors/opsgenie.md.
            let list: Vec<Value> = state
                .teams
                .iter()
                .map(|t| state.team_json(t, false))
                .collect();
            data(state, 200, Value::Array(list))
        }
        ("POST", ["v2", "teams"]) => create_team(state, call),
        ("GET", ["v2", "teams", id]) => match team_at(state, call, id, "identifierType") {
            Ok(i) => {
                let v = state.team_json(&state.teams[i], true);
                data(state, 200, v)
            }
            Err(r) => r,
        },
        ("DELETE", ["v2", "teams", id]) => match team_at(state, call, id, "identifierType") {
            Ok(i) => {
                state.teams.remove(i);
                result(state, 200, "Deleted", None)
            }
            Err(r) => r,
        },
        ("POST", ["v2", "teams", id, "members"]) => {
            match team_at(state, call, id, "teamIdentifierType") {
                Ok(i) => add_member(state, call, i),
                Err(r) => r,
            }
        }
        ("DELETE", ["v2", "teams", id, "members", member]) => {
            match team_at(state, call, id, "teamIdentifierType") {
                Ok(i) => remove_member(state, i, member),
                Err(r) => r,
            }
        }
        ("GET", ["v2", "roles"]) => {
            let list: Vec<Value> = state.roles.iter().map(State::custom_role_json).collect();
            data(state, 200, Value::Array(list))
        }
        ("POST", ["v2", "roles"]) => create_role(state, call),
        ("GET", ["v2", "roles", id]) => match role_at(state, call, id) {
            Ok(i) => {
                let v = State::custom_role_json(&state.roles[i]);
                data(state, 200, v)
            }
            Err(r) => r,
        },
        ("DELETE", ["v2", "roles", id]) => match role_at(state, call, id) {
            Ok(i) => {
                state.roles.remove(i);
                result(state, 200, "Deleted", None)
            }
            Err(r) => r,
        },
        (_, ["v2", "users" | "teams" | "roles", ..]) | (_, ["v2", "account"]) => {
            error(state, 405, "Method not allowed", None)
        }
        _ => error(state, 404, "Could not find the requested resource", None),
    }
}

fn by_name(call: &Call<'_>, param: &str) -> Result<bool, String> {
    match call.param(param) {
        None | Some("id") => Ok(false),
        Some("name") => Ok(true),
        Some(other) => Err(format!("{param} must be id or name, not {other}")),
    }
}

fn team_at(
    state: &mut State,
    call: &Call<'_>,
    id: &str,
    param: &str,
) -> Result<usize, ResponseTemplate> {
    let named = by_name(call, param).map_err(|m| error(state, 422, &m, None))?;
    state.team_index(id, named).ok_or_else(|| {
        let kind = if named { "name" } else { "id" };
        error(
            state,
            404,
            &format!("No team exists with {kind} [{id}]"),
            None,
        )
    })
}

fn role_at(state: &mut State, call: &Call<'_>, id: &str) -> Result<usize, ResponseTemplate> {
    let named = by_name(call, "identifierType").map_err(|m| error(state, 422, &m, None))?;
    state.role_index(id, named).ok_or_else(|| {
        error(
            state,
            404,
            &format!("Custom user role with identifier [{id}] not found"),
            None,
        )
    })
}

fn str_field<'v>(body: &'v Value, key: &str) -> Option<&'v str> {
    body.get(key).and_then(Value::as_str)
}

fn create_team(state: &mut State, call: &Call<'_>) -> ResponseTemplate {
    let body = call.body.clone().unwrap_or(Value::Null);
    let Some(name) = str_field(&body, "name").filter(|n| !n.trim().is_empty()) else {
        return validation(state, "name", "Team name can not be empty");
    };
    if state.team_index(name, true).is_some() {
        return error(
            state,
            409,
            &format!("Team with name [{name}] already exists"),
            None,
        );
    }
    let team = Team {
        id: state.new_id(2),
        name: name.to_owned(),
        description: str_field(&body, "description").unwrap_or("").to_owned(),
        members: Vec::new(),
    };
    let out = json!({ "id": team.id, "name": team.name });
    state.teams.push(team);
    result(state, 201, "Created", Some(out))
}

/// `POST /v2/teams/:id/members`: adding a member again keeps one membership (its role
/// is updated), as a member set would.
fn add_member(state: &mut State, call: &Call<'_>, team: usize) -> ResponseTemplate {
    let body = call.body.clone().unwrap_or(Value::Null);
    let user = body.get("user").cloned().unwrap_or(Value::Null);
    let ident = str_field(&user, "id").or_else(|| str_field(&user, "username"));
    let Some(ident) = ident else {
        return validation(state, "user", "User id or username must be given");
    };
    let Some(user) = state.user_by(ident) else {
        return validation(state, "user", &format!("User [{ident}] not found"));
    };
    let role = str_field(&body, "role").unwrap_or("user").to_owned();
    let t = &mut state.teams[team];
    match t.members.iter_mut().find(|(id, _)| *id == user.id) {
        Some(m) => m.1 = role,
        None => t.members.push((user.id.clone(), role)),
    }
    let out = json!({ "id": t.id, "name": t.name });
    result(state, 200, "Added", Some(out))
}

fn remove_member(state: &mut State, team: usize, member: &str) -> ResponseTemplate {
    let user_id = state.user_by(member).map(|u| u.id);
    let t = &mut state.teams[team];
    let before = t.members.len();
    if let Some(id) = &user_id {
        t.members.retain(|(m, _)| m != id);
    }
    if t.members.len() == before {
        let name = t.name.clone();
        return error(
            state,
            404,
            &format!("Member [{member}] not found in team [{name}]"),
            None,
        );
    }
    result(state, 200, "Removed", None)
}

fn create_role(state: &mut State, call: &Call<'_>) -> ResponseTemplate {
    let body = call.body.clone().unwrap_or(Value::Null);
    let Some(name) = str_field(&body, "name").filter(|n| !n.trim().is_empty()) else {
        return validation(state, "name", "Role name can not be empty");
    };
    if state.role_name(name).is_some() {
        return error(
            state,
            409,
            &format!("Role with name [{name}] already exists"),
            None,
        );
    }
    let extended = str_field(&body, "extendedRole").unwrap_or("user");
    if !["user", "observer", "stakeholder"].contains(&extended) {
        return validation(
            state,
            "extendedRole",
            "must be one of user, observer, stakeholder",
        );
    }
    let rights = |key: &str| -> Vec<String> {
        body.get(key)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let role = Role {
        id: state.new_id(3),
        name: name.to_owned(),
        extended_role: extended.to_owned(),
        granted_rights: rights("grantedRights"),
        disallowed_rights: rights("disallowedRights"),
    };
    let out = json!({ "id": role.id, "name": role.name });
    state.roles.push(role);
    result(state, 201, "Created", Some(out))
}

/// A user record from a create body, or the field that is wrong.
pub(crate) fn user_from(
    state: &State,
    body: &Value,
    base: Option<&User>,
) -> Result<User, (String, String)> {
    let bad = |f: &str, r: &str| Err((f.to_owned(), r.to_owned()));
    let mut u = base.cloned().unwrap_or(User {
        id: String::new(),
        username: String::new(),
        full_name: String::new(),
        role: "User".into(),
        blocked: false,
        verified: false,
        time_zone: "America/New_York".into(),
        locale: "en_US".into(),
        skype_username: None,
        user_address: Map::new(),
        tags: Vec::new(),
        details: Map::new(),
        created_at: String::new(),
        invitation_disabled: false,
    });
    let Some(obj) = body.as_object() else {
        return bad("body", "must be a JSON object");
    };
    for (k, v) in obj {
        match (k.as_str(), v) {
            ("username", Value::String(s)) => {
                let parts: Vec<&str> = s.split('@').collect();
                let email = parts.len() == 2 && !parts[0].is_empty() && parts[1].contains('.');
                if !email || s.len() > 100 || s.chars().any(char::is_whitespace) {
                    return bad(
                        "username",
                        "must be a valid e-mail address of at most 100 characters",
                    );
                }
                u.username = s.clone();
            }
            ("fullName", Value::String(s)) => {
                if s.trim().is_empty() || s.chars().count() > 512 {
                    return bad("fullName", "must be 1-512 characters");
                }
                u.full_name = s.clone();
            }
            ("role", Value::Object(r)) => {
                let name = r
                    .get("name")
                    .or_else(|| r.get("id"))
                    .and_then(Value::as_str);
                match name.and_then(|n| state.role_name(n)) {
                    Some(n) => u.role = n,
                    None => return bad("role", "Role not found"),
                }
            }
            ("skypeUsername", Value::String(s)) => u.skype_username = Some(s.clone()),
            ("timeZone", Value::String(s)) => u.time_zone = s.clone(),
            ("locale", Value::String(s)) => u.locale = s.clone(),
            ("userAddress", Value::Object(m)) => u.user_address = m.clone(),
            ("details", Value::Object(m)) => {
                if m.values().any(|v| !v.is_array()) {
                    return bad("details", "values must be lists of strings");
                }
                u.details = m.clone();
            }
            ("tags", Value::Array(a)) => {
                u.tags = a
                    .iter()
                    .filter_map(|t| t.as_str().map(str::to_owned))
                    .collect();
            }
            ("invitationDisabled", Value::Bool(b)) => u.invitation_disabled = *b,
            (
                "username" | "fullName" | "role" | "skypeUsername" | "timeZone" | "locale"
                | "userAddress" | "details" | "tags" | "invitationDisabled",
                _,
            ) => return bad(k, "has the wrong type"),
            // Unknown fields are ignored, as Jackson-based services do.
            _ => {}
        }
    }
    if base.is_none() {
        if u.username.is_empty() {
            return bad("username", "Username can not be empty");
        }
        if u.full_name.is_empty() {
            return bad("fullName", "Full name can not be empty");
        }
        if !obj.contains_key("role") {
            return bad("role", "Role can not be empty");
        }
    }
    Ok(u)
}

/// The key of a user, or OpsGenie's 404.
pub(crate) fn user_key(state: &mut State, identifier: &str) -> Result<Key, ResponseTemplate> {
    state.find_user(identifier).ok_or_else(|| {
        error(
            state,
            404,
            &format!("No user exists with identifier [{identifier}]"),
            None,
        )
    })
}
