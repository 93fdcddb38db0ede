//! `users`: search, minimal list, get, create, update (POST), ACTIVATE / DEACTIVATE /
//! TERMINATE (fact sheet §1.7).

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};
use wiremock::ResponseTemplate;

use super::routes::{Call, Paging, api_error, json_response, query_string};
use super::state::{SEED_TIME, Status, Tenant, UserRec, user_number};

pub(crate) fn route(t: &mut Tenant, c: &Call<'_>) -> ResponseTemplate {
    match (c.method, &c.parts[1..]) {
        ("GET", ["search"]) => search(t, c),
        ("GET", ["minimal"]) => {
            let all: Vec<Value> = t
                .users()
                .map(|u| {
                    json!({"id": u.id(), "loginName": u.login, "firstName": u.first,
                           "lastName": u.last, "email": u.email, "changePassword": false})
                })
                .collect();
            json_response(200, &Value::Array(all))
        }
        ("GET", [id]) => match t.user_by_id(id) {
            Some(u) => json_response(200, &t.user_full(&u)),
            None => not_found(id),
        },
        ("POST", []) => match c.json() {
            Ok(body) => create(t, body),
            Err(e) => e,
        },
        ("POST", [id]) => match c.json() {
            Ok(body) => update(t, id, body),
            Err(e) => e,
        },
        ("POST", [id, action]) => act(t, id, action, c.body),
        ("DELETE", _) => api_error(405, "0405", "Request method not supported"),
        _ => api_error(404, "0404", "Resource not found"),
    }
}

fn not_found(id: &str) -> ResponseTemplate {
    api_error(404, "0404", &format!("User not found: {id}"))
}

fn search(t: &Tenant, c: &Call<'_>) -> ResponseTemplate {
    let paging = match Paging::parse(c.query) {
        Ok(p) => p,
        Err(e) => return e,
    };
    let filters = match query_string(c.query) {
        Ok(f) => f,
        Err(e) => return e,
    };
    for (k, _) in &filters {
        if !matches!(
            k.as_str(),
            "uniqueId" | "loginName" | "firstName" | "lastName" | "mailId" | "status"
        ) {
            return api_error(400, "0400", &format!("Invalid queryString key: {k}"));
        }
    }
    let (total, page): (usize, Vec<UserRec>) = if filters.is_empty() {
        let total = t.user_count();
        let page = paging
            .positions(total)
            .into_iter()
            .filter_map(|k| t.nth_user(k))
            .collect();
        (total, page)
    } else {
        // Fast path for the lookup every create makes: one login name.
        let hits: Vec<UserRec> = match filters.as_slice() {
            [(k, v)] if k == "loginName" => t.user_by_login(v).into_iter().collect(),
            _ => t.users().filter(|u| matches(u, &filters)).collect(),
        };
        let total = hits.len();
        let page = paging
            .positions(total)
            .into_iter()
            .map(|k| hits[k].clone())
            .collect();
        (total, page)
    };
    let results = page.iter().map(|u| t.user_minimal(u)).collect();
    let mut body = paging.envelope(results, total, true);
    if t.total_bias > 0 {
        body["totalResults"] = (total + t.total_bias).into();
    }
    json_response(200, &body)
}

fn matches(u: &UserRec, filters: &[(String, String)]) -> bool {
    filters.iter().all(|(k, v)| match k.as_str() {
        "uniqueId" => u.id() == *v,
        "loginName" => u.login.eq_ignore_ascii_case(v),
        "firstName" => u.first.eq_ignore_ascii_case(v),
        "lastName" => u.last.eq_ignore_ascii_case(v),
        "mailId" => u.email.eq_ignore_ascii_case(v),
        "status" => u.status.as_str().eq_ignore_ascii_case(v),
        _ => false,
    })
}

/// The spec's password rule: at least 7 characters with a digit, a special character, a
/// lower- and an upper-case letter.
fn password_ok(p: &str) -> bool {
    p.chars().count() >= 7
        && p.chars().any(|c| c.is_ascii_digit())
        && p.chars().any(|c| c.is_ascii_lowercase())
        && p.chars().any(|c| c.is_ascii_uppercase())
        && p.chars().any(|c| !c.is_ascii_alphanumeric())
}

fn text(body: &Value, key: &str) -> Option<String> {
    body.get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// Roles and groups in a create/update body are referenced BY NAME (fact sheet §1.7);
/// `uniqueId` is accepted too.
fn resolve(
    t: &Tenant,
    body: &Value,
    key: &str,
) -> Result<Option<BTreeSet<String>>, ResponseTemplate> {
    let Some(list) = body.get(key) else {
        return Ok(None);
    };
    let Some(items) = list.as_array() else {
        return Err(api_error(400, "0400", &format!("{key} must be a list")));
    };
    let mut out = BTreeSet::new();
    for item in items {
        let by_id = item.get("uniqueId").and_then(Value::as_str);
        let by_name = item.get("name").and_then(Value::as_str);
        // The spec's `user.roles` items are `{name, id}` with an integer id: accept that
        // id too (a client echoing a user's roles back sends it).
        let by_number = item.get("id").and_then(Value::as_u64);
        let found = match (key, by_id, by_name) {
            ("roles", Some(id), _) => t.roles.contains_key(id).then(|| id.to_owned()),
            ("roles", None, Some(name)) => t.role_by_name(name),
            ("roles", None, None) => by_number.and_then(|n| t.role_by_number(n)),
            (_, Some(id), _) => t.groups.contains_key(id).then(|| id.to_owned()),
            (_, None, Some(name)) => t.group_by_name(name),
            _ => None,
        };
        match found {
            Some(id) => {
                out.insert(id);
            }
            None => {
                let what = if key == "roles" { "Role" } else { "User group" };
                return Err(api_error(
                    400,
                    "0400",
                    &format!("{what} not found: {}", by_name.or(by_id).unwrap_or("?")),
                ));
            }
        }
    }
    Ok(Some(out))
}

/// Fields kept as sent, beyond the ones the mock models.
pub(crate) const EXTRA_FIELDS: &[&str] = &[
    "altEmail",
    "userAccountType",
    "designation",
    "address",
    "city",
    "state",
    "zip",
    "country",
    "phoneNumber",
    "mobileNumber",
    "timeZone",
    "authType",
    "userNotifications",
    "twoFactorAuthentication",
    "userGroupType",
];

fn extras(body: &Value, into: &mut Map<String, Value>) {
    for k in EXTRA_FIELDS {
        if let Some(v) = body.get(*k) {
            into.insert((*k).to_owned(), v.clone());
        }
    }
}

/// The spec's enums on a user body: `userAccountType` (`REGULAR`, `BUSINESS`) and
/// `userGroupType` (`ALL`, `NONE`). Anything else is refused the way OpsRamp refuses a
/// bad field, `400 {"code","message"}` (fact sheet §1.4), not stored and echoed back.
fn check_enums(body: &Value) -> Result<(), ResponseTemplate> {
    for (key, allowed) in [
        ("userAccountType", &["REGULAR", "BUSINESS"][..]),
        ("userGroupType", &["ALL", "NONE"][..]),
    ] {
        match body.get(key) {
            None => {}
            Some(Value::String(v)) if allowed.contains(&v.as_str()) => {}
            Some(v) => {
                return Err(api_error(
                    400,
                    "0400",
                    &format!(
                        "Invalid value for {key}: {v}; supported values: {}",
                        allowed.join(", ")
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// The password a body sets (checked by [`check_password`] first).
fn password_of(body: &Value) -> Option<String> {
    body.get("password")
        .or_else(|| body.get("password\t"))
        .and_then(Value::as_str)
        .map(str::to_owned)
}

fn check_password(body: &Value) -> Result<(), ResponseTemplate> {
    // The spec's schema names it "password\t" (a stray tab); clients send "password".
    let p = body.get("password").or_else(|| body.get("password\t"));
    match p {
        Some(Value::String(p)) if !password_ok(p) => Err(api_error(
            400,
            "0400",
            "Password must have at least 7 characters with a digit, a special character, a lower-case and an upper-case letter",
        )),
        Some(Value::String(_)) | None => Ok(()),
        Some(_) => Err(api_error(400, "0400", "password must be a string")),
    }
}

fn create(t: &mut Tenant, body: &Value) -> ResponseTemplate {
    let (Some(login), Some(first), Some(last), Some(email)) = (
        text(body, "loginName"),
        text(body, "firstName"),
        text(body, "lastName"),
        text(body, "email"),
    ) else {
        return api_error(
            400,
            "0400",
            "loginName, firstName, lastName and email are required",
        );
    };
    if let Err(e) = check_password(body).and_then(|()| check_enums(body)) {
        return e;
    }
    if t.user_by_login(&login).is_some() {
        return api_error(400, "0400", &format!("Login name already exists: {login}"));
    }
    let roles = match resolve(t, body, "roles") {
        Ok(r) => r.unwrap_or_default(),
        Err(e) => return e,
    };
    let groups = match resolve(t, body, "userGroups") {
        Ok(g) => g.unwrap_or_default(),
        Err(e) => return e,
    };
    let mut extra = Map::new();
    extras(body, &mut extra);
    let rec = UserRec {
        number: 0,
        login,
        first,
        last,
        email,
        status: Status::Active,
        roles,
        groups,
        extra,
        created: SEED_TIME.to_owned(),
        updated: SEED_TIME.to_owned(),
        deactivate_reason: None,
    };
    let number = t.insert_user(rec);
    if let Some(p) = password_of(body) {
        t.passwords.insert(number, p);
    }
    let u = t.user(number).expect("just stored");
    json_response(200, &t.user_full(&u))
}

fn update(t: &mut Tenant, id: &str, body: &Value) -> ResponseTemplate {
    let Some(number) = user_number(id).filter(|n| t.user(*n).is_some()) else {
        return not_found(id);
    };
    if let Err(e) = check_password(body).and_then(|()| check_enums(body)) {
        return e;
    }
    if let Some(login) = text(body, "loginName") {
        let current = t.user(number).expect("checked").login;
        if !login.eq_ignore_ascii_case(&current) {
            return api_error(400, "0400", "loginName cannot be changed");
        }
    }
    // Lists sent are taken as the complete new list (the fact sheet advises
    // read-modify-write because replace-vs-merge is undocumented; replacing is the
    // stricter reading, so a client that sends partial lists loses entries here).
    let roles = match resolve(t, body, "roles") {
        Ok(r) => r,
        Err(e) => return e,
    };
    let groups = match resolve(t, body, "userGroups") {
        Ok(g) => g,
        Err(e) => return e,
    };
    let u = t.user_mut(number).expect("checked");
    for (key, field) in [
        ("firstName", &mut u.first),
        ("lastName", &mut u.last),
        ("email", &mut u.email),
    ] {
        if let Some(v) = text(body, key) {
            *field = v;
        }
    }
    if let Some(r) = roles {
        u.roles = r;
    }
    if let Some(g) = groups {
        u.groups = g;
    }
    extras(body, &mut u.extra);
    u.updated = "2024-06-01T12:00:00+0000".to_owned();
    let u = u.clone();
    if let Some(p) = password_of(body) {
        t.passwords.insert(number, p);
    }
    json_response(200, &t.user_full(&u))
}

fn act(t: &mut Tenant, id: &str, action: &str, body: Option<&Value>) -> ResponseTemplate {
    let Some(number) = user_number(id).filter(|n| t.user(*n).is_some()) else {
        return not_found(id);
    };
    // The action enum is upper case only (develop.opsramp.com, tenantid-users-userid-action).
    match action {
        "ACTIVATE" | "DEACTIVATE" => {
            let reason = body.and_then(|b| text(b, "deactivateReason"));
            let u = t.user_mut(number).expect("checked");
            if action == "ACTIVATE" {
                u.status = Status::Active;
                u.deactivate_reason = None;
            } else {
                u.status = Status::Inactive;
                u.deactivate_reason = reason;
            }
            let u = u.clone();
            json_response(200, &t.user_full(&u))
        }
        "TERMINATE" => {
            let mask = body.and_then(|b| b.get("maskType")).and_then(Value::as_str);
            if mask.is_some_and(|m| m != "PARTIAL" && m != "FULL") {
                return api_error(400, "0400", "maskType must be PARTIAL or FULL");
            }
            t.remove_user(number);
            json_response(200, &json!({ "id": id, "status": "terminated" }))
        }
        _ => api_error(400, "0400", &format!("Invalid action: {action}")),
    }
}
