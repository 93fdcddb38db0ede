//! `roles` (fact sheet §1.8) and `userGroups` with their members (§1.9).

use serde_json::{Value, json};
use wiremock::ResponseTemplate;

use super::routes::{Call, Paging, api_error, json_response};
use super::state::{SEED_TIME, Tenant, user_number};

fn text(body: &Value, key: &str) -> Option<String> {
    body.get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn role_not_found(id: &str) -> ResponseTemplate {
    api_error(404, "0404", &format!("Role not found: {id}"))
}

fn group_not_found(id: &str) -> ResponseTemplate {
    api_error(404, "0404", &format!("User group not found: {id}"))
}

/// One page of `items` (ids in ascending order) rendered by `render`.
fn page_of(
    c: &Call<'_>,
    ids: &[String],
    render: impl Fn(&str) -> Option<Value>,
    next_no: bool,
) -> ResponseTemplate {
    let paging = match Paging::parse(c.query) {
        Ok(p) => p,
        Err(e) => return e,
    };
    let results = paging
        .positions(ids.len())
        .into_iter()
        .filter_map(|k| render(&ids[k]))
        .collect();
    json_response(200, &paging.envelope(results, ids.len(), next_no))
}

pub(crate) fn roles(t: &mut Tenant, c: &Call<'_>) -> ResponseTemplate {
    match (c.method, &c.parts[1..]) {
        ("GET", ["search"]) => {
            let ids: Vec<String> = t.roles.keys().cloned().collect();
            page_of(c, &ids, |id| t.role_json(id), false)
        }
        ("GET", [id]) => match t.role_json(id) {
            Some(mut v) => {
                v["permissions"] = json!([]);
                json_response(200, &v)
            }
            None => role_not_found(id),
        },
        ("POST", []) => {
            let body = match c.json() {
                Ok(b) => b,
                Err(e) => return e,
            };
            let Some(name) = text(body, "name") else {
                return api_error(400, "0400", "name is required");
            };
            if t.role_by_name(&name).is_some() {
                return api_error(400, "0400", &format!("Role name already exists: {name}"));
            }
            let desc = text(body, "description").unwrap_or_default();
            let id = t.add_role(&name, &desc, false);
            json_response(200, &t.role_json(&id).expect("just added"))
        }
        ("POST", [id]) => {
            let body = match c.json() {
                Ok(b) => b,
                Err(e) => return e,
            };
            if !t.roles.contains_key(*id) {
                return role_not_found(id);
            }
            // Users listed on a role update are added to it (the seed's AddAccessJSON
            // sends one user at a time, which only works if the list merges).
            let mut users = Vec::new();
            if let Some(list) = body.get("users").and_then(Value::as_array) {
                for u in list {
                    let uid = u.get("id").and_then(Value::as_str).unwrap_or("");
                    match user_number(uid).filter(|n| t.user(*n).is_some()) {
                        Some(n) => users.push(n),
                        None => return api_error(404, "0404", &format!("User not found: {uid}")),
                    }
                }
            }
            for n in users {
                t.user_mut(n)
                    .expect("checked")
                    .roles
                    .insert((*id).to_owned());
            }
            let role = t.roles.get_mut(*id).expect("checked");
            if let Some(name) = text(body, "name") {
                role.name = name;
            }
            if let Some(d) = text(body, "description") {
                role.description = d;
            }
            json_response(200, &t.role_json(id).expect("checked"))
        }
        ("DELETE", [id]) => {
            if t.delete_role(id) {
                json_response(200, &json!({ "success": true }))
            } else {
                role_not_found(id)
            }
        }
        _ => api_error(404, "0404", "Resource not found"),
    }
}

pub(crate) fn groups(t: &mut Tenant, c: &Call<'_>) -> ResponseTemplate {
    match (c.method, &c.parts[1..]) {
        ("GET", []) => {
            let ids: Vec<String> = t.groups.keys().cloned().collect();
            page_of(c, &ids, |id| t.group_minimal(id), false)
        }
        ("GET", [id]) => match t.group_full(id) {
            Some(v) => json_response(200, &v),
            None => group_not_found(id),
        },
        ("POST", []) => {
            let body = match c.json() {
                Ok(b) => b,
                Err(e) => return e,
            };
            let Some(name) = text(body, "name") else {
                return api_error(400, "0400", "name is required");
            };
            if t.group_by_name(&name).is_some() {
                return api_error(
                    400,
                    "0400",
                    &format!("User group name already exists: {name}"),
                );
            }
            let id = t.add_group(&name, &text(body, "description").unwrap_or_default(), false);
            if let Err(e) = set_group_fields(t, &id, body) {
                t.delete_group(&id);
                return e;
            }
            json_response(200, &t.group_full(&id).expect("just added"))
        }
        ("POST", [id]) => {
            let body = match c.json() {
                Ok(b) => b,
                Err(e) => return e,
            };
            if !t.groups.contains_key(*id) {
                return group_not_found(id);
            }
            if let Err(e) = set_group_fields(t, id, body) {
                return e;
            }
            json_response(200, &t.group_full(id).expect("checked"))
        }
        ("DELETE", [id]) => {
            if t.delete_group(id) {
                json_response(200, &json!({ "success": true }))
            } else {
                group_not_found(id)
            }
        }
        ("GET", [id, "users"]) => {
            if !t.groups.contains_key(*id) {
                return group_not_found(id);
            }
            let members: Vec<_> = t.users().filter(|u| u.groups.contains(*id)).collect();
            let ids: Vec<String> = (0..members.len()).map(|i| i.to_string()).collect();
            page_of(
                c,
                &ids,
                |k| {
                    let i: usize = k.parse().ok()?;
                    Some(t.user_minimal(&members[i]))
                },
                true,
            )
        }
        ("POST" | "DELETE", [id, "users"]) => members(t, c, id),
        _ => api_error(404, "0404", "Resource not found"),
    }
}

fn set_group_fields(t: &mut Tenant, id: &str, body: &Value) -> Result<(), ResponseTemplate> {
    let mut roles = None;
    if let Some(list) = body.get("roles").and_then(Value::as_array) {
        let mut set = std::collections::BTreeSet::new();
        for r in list {
            let rid = r.get("uniqueId").and_then(Value::as_str).unwrap_or("");
            if !t.roles.contains_key(rid) {
                return Err(role_not_found(rid));
            }
            set.insert(rid.to_owned());
        }
        roles = Some(set);
    }
    // The spec types a group's `email` as `format: email`: refuse what is not one, as a
    // validating server would, in OpsRamp's generic error shape (fact sheet §1.4).
    let email = text(body, "email");
    if let Some(e) = &email {
        if !plausible_email(e) {
            return Err(api_error(400, "0400", &format!("Invalid email: {e}")));
        }
    }
    let g = t.groups.get_mut(id).expect("checked by the caller");
    if let Some(name) = text(body, "name") {
        g.name = name;
    }
    if let Some(d) = text(body, "description") {
        g.description = d;
    }
    if let Some(e) = email {
        g.email = Some(e);
    }
    if let Some(r) = roles {
        g.roles = r;
    }
    g.updated = SEED_TIME.to_owned();
    Ok(())
}

/// `local@domain.tld`, roughly: one `@`, something before it, a dot after it, no spaces.
pub(crate) fn plausible_email(e: &str) -> bool {
    match e.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !e.chars().any(char::is_whitespace)
        }
        None => false,
    }
}

/// `POST` adds, `DELETE` removes: both take `[{"id":"USR…"}]`, the DELETE in its body.
/// Adding a member twice or removing a non-member changes nothing and succeeds.
fn members(t: &mut Tenant, c: &Call<'_>, id: &str) -> ResponseTemplate {
    if !t.groups.contains_key(id) {
        return group_not_found(id);
    }
    let body = match c.json() {
        Ok(b) => b,
        Err(e) => return e,
    };
    let Some(list) = body.as_array() else {
        return api_error(400, "0400", "Expected a list of users");
    };
    let mut numbers = Vec::new();
    for u in list {
        let uid = u.get("id").and_then(Value::as_str).unwrap_or("");
        match user_number(uid).filter(|n| t.user(*n).is_some()) {
            Some(n) => numbers.push(n),
            None => return api_error(404, "0404", &format!("User not found: {uid}")),
        }
    }
    for n in numbers {
        let u = t.user_mut(n).expect("checked");
        if c.method == "POST" {
            u.groups.insert(id.to_owned());
        } else {
            u.groups.remove(id);
        }
    }
    json_response(200, &json!({ "success": true }))
}
