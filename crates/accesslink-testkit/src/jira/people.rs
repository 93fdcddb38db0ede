//! Users, groups and memberships (`rest` is the path after `/rest/api/{v}/`).

use serde_json::{Value, json};

use super::routes::{Call, error, group_json, json_response};
use super::state::{GroupRow, Mode, State};

fn user_param<'c>(state: &State, call: &'c Call<'_>) -> Option<&'c str> {
    let name = match state.mode {
        Mode::Cloud => "accountId",
        Mode::DataCenter => "username",
    };
    call.query
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn param<'c>(call: &'c Call<'_>, name: &str) -> Option<&'c str> {
    call.query
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn num(call: &Call<'_>, name: &str, default: usize) -> usize {
    param(call, name)
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn no_user() -> wiremock::ResponseTemplate {
    error(
        404,
        &["Specified user does not exist or you do not have required permissions"],
        json!({}),
    )
}

fn group_index(state: &State, call: &Call<'_>) -> Option<usize> {
    let (key, by_id) = match state.mode {
        Mode::Cloud => (
            param(call, "groupId").or(param(call, "groupname")),
            param(call, "groupId").is_some(),
        ),
        Mode::DataCenter => (param(call, "groupname"), false),
    };
    let key = key?;
    state.groups.iter().position(|g| {
        if by_id {
            g.id == key
        } else {
            g.name.eq_ignore_ascii_case(key)
        }
    })
}

/// Routes a users or groups request; `None` when it is neither.
pub(crate) fn route(
    state: &mut State,
    call: &Call<'_>,
    rest: &[&str],
) -> Option<wiremock::ResponseTemplate> {
    let cloud = state.mode == Mode::Cloud;
    Some(match (call.method, rest) {
        ("GET", ["users", "search"]) if cloud => {
            let start = num(call, "startAt", 0);
            let size = num(call, "maxResults", 50).clamp(1, 1000);
            let page: Vec<Value> = state
                .users
                .iter()
                .flatten()
                .skip(start)
                .take(size)
                .map(|u| state.user_json(u))
                .collect();
            json_response(200, &Value::Array(page))
        }
        ("GET", ["user", "search"]) => {
            if cloud {
                let q = param(call, "query").unwrap_or("").to_ascii_lowercase();
                let found: Vec<Value> = state
                    .users
                    .iter()
                    .flatten()
                    .filter(|u| {
                        !q.is_empty()
                            && (u.display_name.to_ascii_lowercase().contains(&q)
                                || u.email
                                    .as_deref()
                                    .is_some_and(|e| e.eq_ignore_ascii_case(&q)))
                    })
                    .map(|u| state.user_json(u))
                    .collect();
                json_response(200, &Value::Array(found))
            } else {
                if param(call, "username").is_none() {
                    return Some(error(
                        400,
                        &["The username query parameter was not provided"],
                        json!({}),
                    ));
                }
                let start = num(call, "startAt", 0);
                let size = num(call, "maxResults", 50).clamp(1, 1000);
                let inactive = param(call, "includeInactive") == Some("true");
                let page: Vec<Value> = state
                    .users
                    .iter()
                    .flatten()
                    .filter(|u| inactive || u.active)
                    .skip(start)
                    .take(size)
                    .map(|u| state.user_json(u))
                    .collect();
                json_response(200, &Value::Array(page))
            }
        }
        ("GET", ["user"]) => {
            let Some(i) = user_param(state, call).and_then(|id| state.user_index(id)) else {
                return Some(no_user());
            };
            let u = state.users[i].clone().expect("indexed users exist");
            let mut v = state.user_json(&u);
            if param(call, "expand") == Some("groups") {
                let uid = state.user_id(&u);
                let items: Vec<Value> = state
                    .groups
                    .iter()
                    .filter(|g| g.members.contains(&uid))
                    .map(|g| group_json(g, state.mode))
                    .collect();
                v["groups"] = json!({"size": items.len(), "items": items});
            }
            json_response(200, &v)
        }
        ("POST", ["user"]) => create_user(state, call),
        ("PUT", ["user"]) if !cloud => {
            let Some(i) = user_param(state, call).and_then(|id| state.user_index(id)) else {
                return Some(no_user());
            };
            let body = call.body.clone().unwrap_or(Value::Null);
            let u = state.users[i].as_mut().expect("indexed users exist");
            if let Some(n) = body.get("displayName").and_then(Value::as_str) {
                u.display_name = n.to_owned();
            }
            if let Some(e) = body.get("emailAddress").and_then(Value::as_str) {
                u.email = Some(e.to_owned());
            }
            if let Some(a) = body.get("active").and_then(Value::as_bool) {
                u.active = a;
            }
            let u = u.clone();
            json_response(200, &state.user_json(&u))
        }
        ("DELETE", ["user"]) => {
            let Some(i) = user_param(state, call).and_then(|id| state.user_index(id)) else {
                return Some(no_user());
            };
            let uid = state.users[i]
                .as_ref()
                .map(|u| state.user_id(u))
                .unwrap_or_default();
            state.users[i] = None;
            for g in &mut state.groups {
                g.members.retain(|m| *m != uid);
            }
            wiremock::ResponseTemplate::new(204)
        }
        ("GET", ["user", "groups"]) if cloud => {
            let Some(id) = user_param(state, call).filter(|id| state.user_index(id).is_some())
            else {
                return Some(no_user());
            };
            let list: Vec<Value> = state
                .groups
                .iter()
                .filter(|g| g.members.iter().any(|m| m == id))
                .map(|g| group_json(g, state.mode))
                .collect();
            json_response(200, &Value::Array(list))
        }
        ("GET", ["group", "bulk"]) if cloud => {
            let start = num(call, "startAt", 0);
            let size = num(call, "maxResults", 50).clamp(1, 50);
            let values: Vec<Value> = state
                .groups
                .iter()
                .skip(start)
                .take(size)
                .map(|g| group_json(g, state.mode))
                .collect();
            let last = start + values.len() >= state.groups.len();
            json_response(
                200,
                &json!({"maxResults": size, "startAt": start, "total": state.groups.len(), "isLast": last, "values": values}),
            )
        }
        ("GET", ["groups", "picker"]) if !cloud => {
            let size = num(call, "maxResults", 20).clamp(1, 1000);
            let groups: Vec<Value> = state
                .groups
                .iter()
                .take(size)
                .map(|g| json!({"name": g.name, "html": g.name, "labels": []}))
                .collect();
            json_response(
                200,
                &json!({"header": format!("Showing {} of {} matching groups", groups.len(), state.groups.len()), "total": state.groups.len(), "groups": groups}),
            )
        }
        ("GET", ["group", "member"]) => {
            let Some(g) = group_index(state, call) else {
                return Some(error(404, &["Specified group does not exist."], json!({})));
            };
            let start = num(call, "startAt", 0);
            let size = num(call, "maxResults", 50).clamp(1, 50);
            let inactive = param(call, "includeInactiveUsers") == Some("true");
            let members: Vec<Value> = state.groups[g]
                .members
                .iter()
                .filter_map(|m| state.user_index(m).and_then(|i| state.users[i].clone()))
                .filter(|u| inactive || u.active)
                .map(|u| state.user_json(&u))
                .collect();
            let total = members.len();
            let values: Vec<Value> = members.into_iter().skip(start).take(size).collect();
            let last = start + values.len() >= total;
            json_response(
                200,
                &json!({"maxResults": size, "startAt": start, "total": total, "isLast": last, "values": values}),
            )
        }
        ("POST", ["group", "user"]) => {
            let Some(g) = group_index(state, call) else {
                return Some(error(404, &["Specified group does not exist."], json!({})));
            };
            let field = if cloud { "accountId" } else { "name" };
            let who = call
                .body
                .as_ref()
                .and_then(|b| b.get(field))
                .and_then(Value::as_str)
                .unwrap_or("");
            if state.user_index(who).is_none() {
                return Some(error(
                    400,
                    &[&format!("User '{who}' does not exist.")],
                    json!({}),
                ));
            }
            let group = &mut state.groups[g];
            if group.members.iter().any(|m| m == who) {
                return Some(error(
                    400,
                    &[&format!(
                        "Cannot add user. User is already a member of '{}'",
                        group.name
                    )],
                    json!({}),
                ));
            }
            group.members.push(who.to_owned());
            let v = group_json(group, state.mode);
            json_response(201, &v)
        }
        ("DELETE", ["group", "user"]) => {
            let Some(g) = group_index(state, call) else {
                return Some(error(404, &["Specified group does not exist."], json!({})));
            };
            let who = user_param(state, call).unwrap_or("").to_owned();
            let group = &mut state.groups[g];
            let before = group.members.len();
            group.members.retain(|m| *m != who);
            if group.members.len() == before {
                return Some(error(
                    400,
                    &[&format!("User '{who}' is not a member of '{}'", group.name)],
                    json!({}),
                ));
            }
            wiremock::ResponseTemplate::new(200)
        }
        _ => return None,
    })
}

fn create_user(state: &mut State, call: &Call<'_>) -> wiremock::ResponseTemplate {
    let body = call.body.clone().unwrap_or(Value::Null);
    let email = body
        .get("emailAddress")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let taken = |s: &State, e: &str| {
        s.users.iter().flatten().any(|u| {
            u.email
                .as_deref()
                .is_some_and(|x| x.eq_ignore_ascii_case(e))
        })
    };
    let id = match state.mode {
        Mode::Cloud => {
            let Some(email) = email.filter(|e| e.contains('@')) else {
                return error(
                    400,
                    &[],
                    json!({"emailAddress": "You must specify a valid email address."}),
                );
            };
            if !body.get("products").is_some_and(Value::is_array) {
                return error(400, &[], json!({"products": "products is required"}));
            }
            if taken(state, &email) {
                return error(
                    400,
                    &["A user with that email address already exists."],
                    json!({}),
                );
            }
            let display = email.split('@').next().unwrap_or("").to_owned();
            state.add_user(&display, Some(&email), "atlassian", false)
        }
        Mode::DataCenter => {
            let Some(name) = body
                .get("name")
                .and_then(Value::as_str)
                .filter(|n| !n.is_empty())
            else {
                return error(
                    400,
                    &[],
                    json!({"username": "You must specify a username."}),
                );
            };
            if state.user_index(name).is_some() {
                return error(
                    400,
                    &[],
                    json!({"username": "A user with that username already exists."}),
                );
            }
            let display = body
                .get("displayName")
                .and_then(Value::as_str)
                .unwrap_or(name)
                .to_owned();
            state.add_user(&display, email.as_deref(), "atlassian", false);
            let last = state.users.len() - 1;
            if let Some(u) = state.users[last].as_mut() {
                u.name = name.to_owned();
            }
            name.to_owned()
        }
    };
    let i = state.user_index(&id).expect("just added");
    let u = state.users[i].clone().expect("just added");
    json_response(201, &state.user_json(&u))
}

/// Adds a group; its id (Cloud) or name (Data Center).
pub(crate) fn add_group(state: &mut State, name: &str) -> String {
    let id = format!("276f955c-63d7-42c8-9520-{:012x}", state.groups.len() + 1);
    state.groups.push(GroupRow {
        id: id.clone(),
        name: name.to_owned(),
        members: Vec::new(),
    });
    match state.mode {
        Mode::Cloud => id,
        Mode::DataCenter => name.to_owned(),
    }
}
