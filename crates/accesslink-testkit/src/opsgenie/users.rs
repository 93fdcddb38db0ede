//! `/v2/users`: list with offset/limit paging, get, create, PATCH update, delete, teams.

use serde_json::{Map, Value, json};
use wiremock::ResponseTemplate;

use super::routes::{
    Call, USERS_MAX_LIMIT, data, error, ok, result, user_from, user_key, validation,
};
use super::state::{State, User};

fn number(call: &Call<'_>, name: &str, default: usize) -> Result<usize, String> {
    match call.param(name) {
        None => Ok(default),
        Some(v) => v
            .parse::<usize>()
            .map_err(|_| format!("{name} must be a non-negative integer, not [{v}]")),
    }
}

/// `query=<field>:<value>` on the fields the docs list (exact, case-insensitive).
fn filter(users: Vec<User>, state: &State, query: &str) -> Result<Vec<User>, String> {
    let Some((field, value)) = query.split_once(':') else {
        return Err(format!("Invalid query [{query}]"));
    };
    let value = value.trim().trim_matches('"').to_ascii_lowercase();
    let pick = |u: &User| -> Option<String> {
        Some(match field.trim() {
            "username" => u.username.to_ascii_lowercase(),
            "fullName" => u.full_name.to_ascii_lowercase(),
            "role" => state.role_json(&u.role)["name"]
                .as_str()
                .unwrap_or("")
                .to_ascii_lowercase(),
            "blocked" => u.blocked.to_string(),
            "verified" => u.verified.to_string(),
            "locale" => u.locale.to_ascii_lowercase(),
            "timeZone" => u.time_zone.to_ascii_lowercase(),
            _ => return None,
        })
    };
    if let Some(u) = users.first() {
        if pick(u).is_none() {
            return Err(format!("Invalid query field [{field}]"));
        }
    }
    Ok(users
        .into_iter()
        .filter(|u| pick(u).is_some_and(|v| v == value))
        .collect())
}

/// `GET /v2/users?offset=&limit=&sort=&order=&query=`: `totalCount`, `paging` links and
/// the same links in `X-Paging-*` headers; `next` absent on the last page.
pub(crate) fn list(state: &mut State, call: &Call<'_>) -> ResponseTemplate {
    let (offset, limit) = match (
        number(call, "offset", 0),
        number(call, "limit", USERS_MAX_LIMIT),
    ) {
        (Ok(o), Ok(l)) => (o, l.clamp(1, USERS_MAX_LIMIT)),
        (Err(m), _) | (_, Err(m)) => return error(state, 422, &m, None),
    };
    let sort = call.param("sort").or_else(|| call.param("sortField"));
    let order = call.param("order").unwrap_or("asc");
    if !matches!(order, "asc" | "desc") {
        return error(state, 422, "order must be asc or desc", None);
    }
    let query = call.param("query").filter(|q| !q.trim().is_empty());
    let plain = sort.is_none_or(|s| s == "insertedAt") && order == "asc" && query.is_none();
    let (page, total) = if plain {
        (state.users_page(offset, limit), state.total_users())
    } else {
        let mut all = state.all_users();
        if let Some(q) = query {
            match filter(all, state, q) {
                Ok(f) => all = f,
                Err(m) => return error(state, 422, &m, None),
            }
        }
        match sort {
            None | Some("insertedAt") => {}
            Some("username") => all.sort_by_key(|u| u.username.to_ascii_lowercase()),
            Some("fullName") => all.sort_by_key(|u| u.full_name.to_ascii_lowercase()),
            Some(other) => {
                return error(state, 422, &format!("Invalid sort field [{other}]"), None);
            }
        }
        if order == "desc" {
            all.reverse();
        }
        let total = all.len();
        (all.into_iter().skip(offset).take(limit).collect(), total)
    };
    let rows: Vec<Value> = page.iter().map(|u| state.user_json(u, false)).collect();
    let link = |at: usize| {
        let mut url = format!("{}/v2/users?offset={at}&limit={limit}", state.api_url);
        for name in ["sort", "order", "query"] {
            if let Some(v) = call.param(name) {
                let enc: String = url::form_urlencoded::byte_serialize(v.as_bytes()).collect();
                url.push_str(&format!("&{name}={enc}"));
            }
        }
        url
    };
    let last = total.saturating_sub(1) / limit * limit;
    let mut paging = Map::new();
    if offset + limit < total {
        paging.insert("next".into(), json!(link(offset + limit)));
    }
    if offset > 0 {
        paging.insert("prev".into(), json!(link(offset.saturating_sub(limit))));
    }
    paging.insert("first".into(), json!(link(0)));
    paging.insert("last".into(), json!(link(last)));
    let headers: Vec<(String, String)> = paging
        .iter()
        .map(|(k, v)| {
            let mut name = String::from("x-paging-");
            name.push_str(k);
            (name, v.as_str().unwrap_or_default().to_owned())
        })
        .collect();
    let body = Map::from_iter([
        ("totalCount".to_owned(), json!(total + state.total_bias)),
        ("data".to_owned(), Value::Array(rows)),
        ("paging".to_owned(), Value::Object(paging)),
    ]);
    headers.into_iter().fold(ok(state, 200, body), |t, (k, v)| {
        t.insert_header(k.as_str(), v)
    })
}

pub(crate) fn get(state: &mut State, call: &Call<'_>, id: &str) -> ResponseTemplate {
    let key = match user_key(state, id) {
        Ok(k) => k,
        Err(r) => return r,
    };
    let user = state.user(key).expect("a found key names a user");
    let contacts = call.param("expand").is_some_and(|e| e.contains("contact"));
    let mut body = state.user_json(&user, contacts);
    let mut m = Map::from_iter([("data".to_owned(), body.take())]);
    m.insert("expandable".into(), json!(["contact"]));
    ok(state, 200, m)
}

pub(crate) fn create(state: &mut State, call: &Call<'_>) -> ResponseTemplate {
    let body = call.body.clone().unwrap_or(Value::Null);
    let user = match user_from(state, &body, None) {
        Ok(u) => u,
        Err((field, reason)) => return validation(state, &field, &reason),
    };
    if state.username_taken(&user.username, None) {
        let name = user.username.clone();
        return error(
            state,
            409,
            &format!("User with username [{name}] already exists"),
            None,
        );
    }
    let name = user.username.clone();
    let id = state.insert_user(user);
    result(
        state,
        201,
        "Created",
        Some(json!({ "id": id, "name": name })),
    )
}

pub(crate) fn update(state: &mut State, call: &Call<'_>, id: &str) -> ResponseTemplate {
    let key = match user_key(state, id) {
        Ok(k) => k,
        Err(r) => return r,
    };
    let current = state.user(key).expect("a found key names a user");
    let body = call.body.clone().unwrap_or(Value::Null);
    let user = match user_from(state, &body, Some(&current)) {
        Ok(u) => u,
        Err((field, reason)) => return validation(state, &field, &reason),
    };
    if state.username_taken(&user.username, Some(key)) {
        let name = user.username.clone();
        return error(
            state,
            409,
            &format!("User with username [{name}] already exists"),
            None,
        );
    }
    let out = json!({ "id": user.id, "name": user.username });
    state.replace_user(key, user);
    result(state, 200, "Updated", Some(out))
}

pub(crate) fn delete(state: &mut State, id: &str) -> ResponseTemplate {
    let key = match user_key(state, id) {
        Ok(k) => k,
        Err(r) => return r,
    };
    state.delete_user(key);
    result(state, 200, "Deleted", None)
}

pub(crate) fn teams(state: &mut State, id: &str) -> ResponseTemplate {
    let key = match user_key(state, id) {
        Ok(k) => k,
        Err(r) => return r,
    };
    let user = state.user(key).expect("a found key names a user");
    let list: Vec<Value> = state
        .teams
        .iter()
        .filter(|t| t.members.iter().any(|(m, _)| *m == user.id))
        .map(|t| json!({ "id": t.id, "name": t.name }))
        .collect();
    data(state, 200, Value::Array(list))
}
