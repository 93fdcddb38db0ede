//! `APIRest::call`: token checks, session endpoints and the generic item routes.

use serde_json::{Map, Value, json};
use wiremock::ResponseTemplate;

use super::items::{Itemtype, as_id, fk_target, is_empty, links};
use super::php;
use super::state::{Session, State};
use super::transport::{Call, Failure, MAX_INPUT_VARS, json, numeric};
use super::write::{DENIED, NOT_FOUND, Outcome};
use super::{listing, search};

/// Answers one API request.
pub(super) fn answer(state: &mut State, call: &Call) -> ResponseTemplate {
    let api = state.api_url.clone();
    match route(state, call) {
        Ok(response) => response,
        Err(failure) => failure.respond(&api),
    }
}

fn route(state: &mut State, call: &Call) -> Result<ResponseTemplate, Failure> {
    let resource = call.resource().to_owned();
    if call.method == "OPTIONS" {
        return Ok(ResponseTemplate::new(200));
    }
    if resource.is_empty() || resource == "api" {
        let page = "<html><body><h1>GLPI API</h1><p>accesslink-testkit mock</p></body></html>";
        return Ok(ResponseTemplate::new(200).set_body_raw(page, "text/html; charset=UTF-8"));
    }
    if resource == "initSession" {
        check_app_token(state, call)?;
        return init_session(state, call);
    }
    check_app_token(state, call)?;
    let token = call.text("session_token").ok_or_else(|| {
        Failure::doc(
            400,
            "ERROR_SESSION_TOKEN_MISSING",
            "parameter session_token is missing or empty",
        )
    })?;
    let session = state.sessions.get(&token).cloned().ok_or_else(|| {
        Failure::bare(
            401,
            "ERROR_SESSION_TOKEN_INVALID",
            "session_token seems invalid",
        )
    })?;
    let ok = |body: Value| Ok(json(200, &body));
    match resource.as_str() {
        "killSession" => {
            state.sessions.remove(&token);
            ok(Value::Bool(true))
        }
        "getFullSession" => ok(json!({"session": full_session(state, &session, &token)})),
        "getMyProfiles" => ok(json!({"myprofiles": my_profiles(state, &session)})),
        "getActiveProfile" => ok(json!({"active_profile": active_profile(state, &session)})),
        "getMyEntities" => ok(json!({"myentities": my_entities(state, &session)})),
        "getActiveEntities" => {
            let active: Vec<Value> = session.entities.iter().map(|e| json!({"id": e})).collect();
            ok(
                json!({"active_entity": {"id": 0, "active_entity_recursive": 1,
                                        "active_entities": active}}),
            )
        }
        "changeActiveEntities" => {
            let root = call.param("entities_id").map_or(0, |v| as_id(Some(v)));
            let entities = state.entity_and_descendants(root);
            if let Some(s) = state.sessions.get_mut(&token) {
                s.entities = entities;
            }
            ok(Value::Bool(true))
        }
        "changeActiveProfile" => {
            let wanted = call.param("profiles_id").map_or(0, |v| as_id(Some(v)));
            let mine = state.rows_with(Itemtype::ProfileUser, "users_id", session.user_id);
            if !mine
                .iter()
                .any(|(_, l)| as_id(l.get("profiles_id")) == wanted)
            {
                return Err(Failure::not_found());
            }
            if let Some(s) = state.sessions.get_mut(&token) {
                s.profile_id = wanted;
            }
            ok(Value::Bool(true))
        }
        "listSearchOptions" => {
            let it = itemtype_at(call, 1)?;
            ok(search::list_options(it))
        }
        "search" => {
            let it = itemtype_at(call, 1)?;
            search::search(state, &session, it, call)
        }
        "getMultipleItems" => multiple_items(state, &session, call),
        _ => items(state, &session, call),
    }
}

fn check_app_token(state: &State, call: &Call) -> Result<(), Failure> {
    match call.text("app_token") {
        Some(t) if t == state.app_token => Ok(()),
        Some(_) => Err(Failure::doc(
            400,
            "ERROR_WRONG_APP_TOKEN_PARAMETER",
            "parameter app_token seems wrong",
        )),
        None => Err(Failure::doc(
            400,
            "ERROR_APP_TOKEN_PARAMETERS_MISSING",
            "missing parameter app_token",
        )),
    }
}

fn init_session(state: &mut State, call: &Call) -> Result<ResponseTemplate, Failure> {
    let login = call.text("login");
    let password = call.text("password");
    let user_token = call.text("user_token");
    let user_id = match (user_token, login, password) {
        (Some(token), _, _) => {
            let found = state.secrets.iter().find_map(|(id, s)| {
                (s.api_token.as_deref() == Some(token.as_str())).then_some(*id)
            });
            found.filter(|id| can_log_in(state, *id)).ok_or_else(|| {
                Failure::bare(
                    401,
                    "ERROR_GLPI_LOGIN_USER_TOKEN",
                    "parameter user_token seems invalid",
                )
            })?
        }
        (None, Some(login), Some(password)) => {
            let id = state.user_id_by_login(&login);
            let secret = id.and_then(|id| state.secrets.get(&id));
            let matches = secret.and_then(|s| s.password.as_deref()) == Some(password.as_str());
            match id {
                Some(id) if matches && can_log_in(state, id) => id,
                Some(_) if matches => {
                    let m = "You don't have access to this application because your account was deactivated or removed";
                    return Err(Failure::bare(401, "ERROR_GLPI_LOGIN", m));
                }
                _ => {
                    return Err(Failure::bare(
                        401,
                        "ERROR_GLPI_LOGIN",
                        "Incorrect username or password",
                    ));
                }
            }
        }
        _ => {
            return Err(Failure::doc(
                400,
                "ERROR_LOGIN_PARAMETERS_MISSING",
                "parameter(s) login, password or user_token are missing",
            ));
        }
    };
    let now = php::now();
    state.touch(Itemtype::User, user_id, |u| {
        u.insert("last_login".into(), now.into());
    });
    let token = state.open_session(user_id);
    let mut body = json!({"session_token": token});
    if call.flag("get_full_session", false) {
        if let Some(session) = state.sessions.get(&token).cloned() {
            body["session"] = full_session(state, &session, &token);
        }
    }
    Ok(json(200, &body))
}

fn can_log_in(state: &State, user_id: i64) -> bool {
    let Some(user) = state.table(Itemtype::User).get(user_id) else {
        return false;
    };
    let field = |k: &str| as_id(Some(&State::field(Itemtype::User, &user, k)));
    field("is_active") == 1 && field("is_deleted") == 0
}

fn full_session(state: &State, session: &Session, token: &str) -> Value {
    let user = state.table(Itemtype::User).get(session.user_id);
    let text = |k: &str| {
        user.as_ref()
            .map_or(Value::Null, |u| State::field(Itemtype::User, u, k))
    };
    json!({
        "valid_id": token, "glpiID": session.user_id, "glpiname": text("name"),
        "glpirealname": text("realname"), "glpifirstname": text("firstname"),
        "glpifriendlyname": state.display_name(session.user_id),
        "glpiactiveprofile": active_profile(state, session),
        "glpiactiveentities": session.entities.iter().collect::<Vec<_>>(),
        "glpiactive_entity": 0, "glpidefault_entity": 0, "glpiis_ids_visible": "0",
        "glpilist_limit": session.list_limit,
    })
}

fn active_profile(state: &State, session: &Session) -> Value {
    let profile = state.table(Itemtype::Profile).get(session.profile_id);
    profile.map_or(Value::Null, |p| {
        Value::Object(State::full(Itemtype::Profile, session.profile_id, &p))
    })
}

fn my_profiles(state: &State, session: &Session) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::new();
    for (_, link) in state.rows_with(Itemtype::ProfileUser, "users_id", session.user_id) {
        let pid = as_id(link.get("profiles_id"));
        let eid = as_id(link.get("entities_id"));
        let entity_name = entity_name(state, eid);
        let entity = json!({"id": eid, "name": entity_name, "is_recursive": as_id(link.get("is_recursive"))});
        match out.iter_mut().find(|p| p["id"] == pid) {
            Some(p) => {
                if let Some(list) = p["entities"].as_array_mut() {
                    list.push(entity);
                }
            }
            None => {
                let name = state
                    .table(Itemtype::Profile)
                    .get(pid)
                    .map_or(Value::Null, |p| State::field(Itemtype::Profile, &p, "name"));
                out.push(json!({"id": pid, "name": name, "entities": [entity]}));
            }
        }
    }
    out
}

fn my_entities(state: &State, session: &Session) -> Vec<Value> {
    session
        .entities
        .iter()
        .filter(|e| state.table(Itemtype::Entity).contains(**e))
        .map(|e| json!({"id": e, "name": entity_name(state, *e)}))
        .collect()
}

fn entity_name(state: &State, id: i64) -> Value {
    let entity = state.table(Itemtype::Entity).get(id);
    entity.map_or(Value::Null, |e| State::field(Itemtype::Entity, &e, "name"))
}

/// The itemtype named by path element `index`.
fn itemtype_at(call: &Call, index: usize) -> Result<Itemtype, Failure> {
    let name = call.elements.get(index).map_or("", String::as_str);
    Itemtype::from_name(name).ok_or_else(Failure::no_resource)
}

/// The generic item routes (`/:itemtype[/:id[/:sub_itemtype[/:sub_id]]]`).
fn items(state: &mut State, session: &Session, call: &Call) -> Result<ResponseTemplate, Failure> {
    let mut it = itemtype_at(call, 0)?;
    let mut parent = None;
    if call.elements.len() > 2 {
        parent = Some(it);
        it = itemtype_at(call, 2)?;
    }
    let mut id = call.elements.get(1).and_then(|e| numeric(e));
    let sub_id = call
        .elements
        .get(3)
        .and_then(|e| numeric(e))
        .filter(|i| *i != 0);
    let mut parent_id = None;
    if sub_id.is_some() || parent.is_some() {
        parent_id = Some(id.unwrap_or(0));
        id = sub_id;
    }
    let parent = parent.zip(parent_id);
    match call.method.as_str() {
        "POST" => create(state, session, it, call),
        "PUT" | "PATCH" => {
            let input = call.param("input").ok_or_else(Failure::bad_array)?;
            let mut input = input.clone();
            if let (Some(id), Value::Object(map)) = (id, &mut input) {
                if (id > 0 || id == 0 && it == Itemtype::Entity) && !map.contains_key("id") {
                    map.insert("id".into(), id.into());
                }
            }
            update(state, session, it, &input)
        }
        "DELETE" => {
            let input = match id {
                Some(id) => json!({"id": id}),
                None => call
                    .param("input")
                    .cloned()
                    .ok_or_else(Failure::bad_array)?,
            };
            let purge = call.param("force_purge").is_some_and(php::filter_bool);
            delete(state, session, it, &input, purge)
        }
        _ => match id {
            Some(id) if id > 0 || id == 0 && it == Itemtype::Entity => {
                get_item(state, session, it, id, call)
            }
            _ => listing::get_items(state, session, it, parent, call),
        },
    }
}

/// `GET /getMultipleItems?items[0][itemtype]=Ticket&items[0][items_id]=2&…`: the items
/// in the order asked; the whole call is `404 ERROR_ITEM_NOT_FOUND` when one of them
/// does not exist (observed on GLPI 10.0.11).
fn multiple_items(
    state: &State,
    session: &Session,
    call: &Call,
) -> Result<ResponseTemplate, Failure> {
    let mut asked: Vec<(i64, &Value)> = match call.param("items") {
        Some(Value::Object(m)) => m
            .iter()
            .map(|(k, v)| (k.parse::<i64>().unwrap_or(i64::MAX), v))
            .collect(),
        Some(Value::Array(list)) => (0..).zip(list.iter()).collect(),
        _ => return Err(Failure::no_resource()),
    };
    asked.sort_by_key(|(i, _)| *i);
    let mut out = Vec::with_capacity(asked.len());
    for (_, item) in asked {
        let name = item.get("itemtype").and_then(Value::as_str).unwrap_or("");
        let it = Itemtype::from_name(name).ok_or_else(Failure::no_resource)?;
        let id = as_id(item.get("items_id"));
        let row = state.table(it).get(id).ok_or_else(Failure::not_found)?;
        if !state.visible(session, it, id, &row) {
            return Err(Failure::right());
        }
        out.push(render(state, it, id, &row, call, false));
    }
    Ok(json(200, &Value::Array(out)))
}

fn get_item(
    state: &State,
    session: &Session,
    it: Itemtype,
    id: i64,
    call: &Call,
) -> Result<ResponseTemplate, Failure> {
    let row = state.table(it).get(id).ok_or_else(Failure::not_found)?;
    if !state.visible(session, it, id, &row) {
        return Err(Failure::right());
    }
    let body = render(state, it, id, &row, call, false);
    let mut response = json(200, &body);
    let modified = body
        .get("date_mod")
        .and_then(Value::as_str)
        .and_then(php::parse_datetime);
    if let Some(secs) = modified {
        let time = std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs);
        response = response.insert_header("Last-Modified", httpdate::fmt_http_date(time));
    }
    Ok(response)
}

/// A row as `getItem`/`getItems` print it: `links` (unless `get_hateoas=false`),
/// `expand_dropdowns`, `only_id`, and un-sanitized text when the client asked for it.
pub(super) fn render(
    state: &State,
    it: Itemtype,
    id: i64,
    row: &super::items::Record,
    call: &Call,
    only_id: bool,
) -> Value {
    let mut fields = if only_id {
        let mut m = Map::new();
        m.insert("id".into(), id.into());
        m
    } else {
        State::full(it, id, row)
    };
    if call.flag("get_hateoas", true) {
        let found = links(it, id, &fields, &state.api_url);
        if !found.is_empty() {
            fields.insert("links".into(), Value::Array(found));
        }
    }
    if call.flag("expand_dropdowns", false) {
        let keys: Vec<String> = fields.keys().cloned().collect();
        for key in keys {
            let value = &fields[&key];
            let wanted =
                !is_empty(value) || key == "entities_id" && value.as_i64().is_some_and(|v| v >= 0);
            if wanted && fk_target(&key).is_some() {
                let expanded = dropdown_name(state, &key, value);
                fields.insert(key, expanded);
            }
        }
    }
    if !call.sanitized {
        for value in fields.values_mut() {
            if let Value::String(s) = value {
                *s = php::unsanitize(s);
            }
        }
    }
    Value::Object(fields)
}

/// `Dropdown::getDropdownName` for the foreign keys the mock can name.
fn dropdown_name(state: &State, key: &str, value: &Value) -> Value {
    let id = as_id(Some(value));
    let named =
        |it: Itemtype, field: &str| state.table(it).get(id).map(|r| State::field(it, &r, field));
    let name = match fk_target(key) {
        Some("Entity") => named(Itemtype::Entity, "completename"),
        Some("Group") => named(Itemtype::Group, "completename"),
        Some("Profile") => named(Itemtype::Profile, "name"),
        Some("Ticket") => named(Itemtype::Ticket, "name"),
        Some("Change") => named(Itemtype::Change, "name"),
        Some("User") if state.table(Itemtype::User).contains(id) => {
            Some(state.display_name(id).into())
        }
        Some("RequestType") => ["Helpdesk", "E-Mail", "Phone", "Direct", "Written", "Other"]
            .get((id - 1) as usize)
            .map(|n| Value::from(*n)),
        _ => None,
    };
    name.unwrap_or_else(|| value.clone())
}

/// The objects of an `input` parameter, and whether it was a list.
fn inputs(input: &Value) -> Result<(Vec<&Value>, bool), Failure> {
    match input {
        Value::Object(_) => Ok((vec![input], false)),
        Value::Array(list) => Ok((list.iter().collect(), true)),
        _ => Err(Failure::bad_array()),
    }
}

fn create(
    state: &mut State,
    session: &Session,
    it: Itemtype,
    call: &Call,
) -> Result<ResponseTemplate, Failure> {
    let input = call.param("input").ok_or_else(Failure::bad_array)?;
    let (objects, multiple) = inputs(input)?;
    let mut results = Vec::new();
    let mut failed = 0;
    for object in &objects {
        let result = match object {
            Value::Object(map) => state.add(it, map, session),
            _ => Err(DENIED.to_owned()),
        };
        let (id, message) = match result {
            Ok((id, message)) => (Value::from(id), message),
            Err(message) => {
                failed += 1;
                (Value::Bool(false), message)
            }
        };
        let message = if call.sanitized {
            message
        } else {
            php::unsanitize(&message)
        };
        results.push(json!({"id": id, "message": message}));
    }
    let api = &state.api_url;
    if !multiple {
        let result = results.remove(0);
        if failed > 0 {
            return Err(Failure::bare(
                400,
                "ERROR_GLPI_ADD",
                result["message"].clone(),
            ));
        }
        let location = format!("{api}/{}/{}", it.name(), result["id"]);
        return Ok(json(201, &result).insert_header("location", location));
    }
    if failed == objects.len() {
        return Err(Failure::bare(400, "ERROR_GLPI_ADD", results));
    }
    if failed > 0 {
        return Err(Failure::bare(207, "ERROR_GLPI_PARTIAL_ADD", results));
    }
    let link: Vec<String> = results
        .iter()
        .map(|r| format!("{api}/{}/{}", it.name(), r["id"]))
        .collect();
    Ok(json(201, &Value::Array(results)).insert_header("link", link.join(",")))
}

fn update(
    state: &mut State,
    session: &Session,
    it: Itemtype,
    input: &Value,
) -> Result<ResponseTemplate, Failure> {
    let (objects, multiple) = inputs(input)?;
    let mut results = Vec::new();
    let mut failed = 0;
    for object in &objects {
        let Some(raw_id) = object.get("id") else {
            // An object without an id is answered with an empty array, not counted.
            results.push(json!([]));
            continue;
        };
        let key = php::scalar(raw_id).unwrap_or_default();
        let empty = Map::new();
        let map = object.as_object().unwrap_or(&empty);
        match state.update(it, as_id(Some(raw_id)), map, session) {
            // GLPI `continue`s here: the row is counted as failed but left out.
            Outcome::NotFound => failed += 1,
            Outcome::Denied => {
                failed += 1;
                results.push(keyed(&key, false, DENIED));
            }
            Outcome::Done(ok, message) => {
                if !ok {
                    failed += 1;
                }
                let key = as_id(Some(raw_id)).to_string();
                results.push(keyed(&key, ok, &message));
            }
        }
    }
    finish(
        results,
        failed,
        objects.len(),
        multiple,
        "ERROR_GLPI_UPDATE",
        "ERROR_GLPI_PARTIAL_UPDATE",
    )
}

fn delete(
    state: &mut State,
    session: &Session,
    it: Itemtype,
    input: &Value,
    purge: bool,
) -> Result<ResponseTemplate, Failure> {
    let (objects, multiple) = inputs(input)?;
    let mut results = Vec::new();
    let mut failed = 0;
    for object in &objects {
        let Some(raw_id) = object.get("id") else {
            continue;
        };
        let key = php::scalar(raw_id).unwrap_or_default();
        let (ok, message) = match state.delete(it, as_id(Some(raw_id)), purge, session) {
            Outcome::NotFound => (false, NOT_FOUND.to_owned()),
            Outcome::Denied => (false, DENIED.to_owned()),
            Outcome::Done(ok, message) => (ok, message),
        };
        if !ok {
            failed += 1;
        }
        results.push(keyed(&key, ok, &message));
    }
    finish(
        results,
        failed,
        objects.len(),
        multiple,
        "ERROR_GLPI_DELETE",
        "ERROR_GLPI_PARTIAL_DELETE",
    )
}

/// `{"<id>": ok, "message": …}`: the id as a string key, as GLPI prints PHP arrays.
fn keyed(key: &str, ok: bool, message: &str) -> Value {
    let mut map = Map::new();
    map.insert(key.to_owned(), Value::Bool(ok));
    map.insert("message".into(), message.into());
    Value::Object(map)
}

/// The answer of an update or delete batch: the collection (even for one item), or the
/// single error message, or the whole collection inside `ERROR_GLPI_…`/`PARTIAL_…`.
fn finish(
    results: Vec<Value>,
    failed: usize,
    count: usize,
    multiple: bool,
    error: &'static str,
    partial: &'static str,
) -> Result<ResponseTemplate, Failure> {
    if !multiple && failed > 0 {
        let message = results
            .first()
            .map_or(Value::Null, |r| r["message"].clone());
        return Err(Failure::bare(400, error, message));
    }
    if multiple && failed == count {
        return Err(Failure::bare(400, error, results));
    }
    if multiple && failed > 0 {
        return Err(Failure::bare(207, partial, results));
    }
    Ok(json(200, &Value::Array(results)))
}

/// The pagination headers of a list: `Accept-Range` always, `Content-Range` when there is
/// anything, and `Access-Control-Expose-Headers` on GETs.
pub(super) fn page_headers(
    response: ResponseTemplate,
    it: Itemtype,
    content_range: Option<String>,
) -> ResponseTemplate {
    let response = response
        .insert_header("Accept-Range", format!("{} {MAX_INPUT_VARS}", it.name()))
        .insert_header(
            "Access-Control-Expose-Headers",
            "content-type, content-range, accept-range",
        );
    match content_range {
        Some(range) => response.insert_header("Content-Range", range),
        None => response,
    }
}
