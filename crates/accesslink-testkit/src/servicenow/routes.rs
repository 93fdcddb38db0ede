//! The Table API routes: `GET` list and one, `POST`, `PATCH`/`PUT`, `DELETE` under
//! `/api/now[/v1|/v2]/table/{table}[/{sys_id}]` (fact sheet §1).

use serde_json::{Map, Value, json};
use wiremock::{Request, ResponseTemplate};

use super::listing::select;
use super::query::{Query, UNSUPPORTED};
use super::render::View;
use super::schema::{self, TableDef};
use super::state::{State, text};
use super::write::{Failure, Writer, invalid_table};

/// A JSON answer as the instance sends it.
pub(crate) fn json(status: u16, body: &Value) -> ResponseTemplate {
    let text = serde_json::to_string(body).unwrap_or_default();
    ResponseTemplate::new(status).set_body_raw(text, "application/json;charset=UTF-8")
}

/// The error answer for a failure.
pub(crate) fn failure(f: &Failure) -> ResponseTemplate {
    json(f.status, &f.body())
}

/// A Table API path: the table and the optional sys_id; `None` for other paths.
pub(crate) fn parse_path(path: &str) -> Option<(String, Option<String>)> {
    let rest = path.strip_prefix("/api/now/")?;
    let rest = rest
        .strip_prefix("v1/")
        .or_else(|| rest.strip_prefix("v2/"))
        .unwrap_or(rest);
    let rest = rest.strip_prefix("table/")?;
    let mut parts = rest.trim_end_matches('/').split('/');
    let table = parts.next().filter(|t| !t.is_empty())?.to_owned();
    let id = parts.next().map(str::to_owned);
    if parts.next().is_some() {
        return None;
    }
    Some((table, id))
}

/// The query string, decoded into pairs.
pub(crate) fn query_pairs(request: &Request) -> Vec<(String, String)> {
    request.url.query_pairs().into_owned().collect()
}

fn param<'p>(params: &'p [(String, String)], name: &str) -> Option<&'p str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Answers a Table API call (auth already checked).
pub(crate) fn answer(
    state: &mut State,
    request: &Request,
    table: &str,
    sys_id: Option<&str>,
    page_limit: usize,
) -> ResponseTemplate {
    let Some(def) = schema::table(table) else {
        return failure(&invalid_table(table));
    };
    let params = query_pairs(request);
    let view = View::from_params(&params);
    let method = request.method.as_str().to_ascii_uppercase();
    let outcome = match (method.as_str(), sys_id) {
        ("GET", None) => return list(state, request, def, &params, &view, page_limit),
        ("GET", Some(id)) => get_one(state, def, id, &view).map(|row| json(200, &row)),
        ("POST", None) => body(request).and_then(|mut input| {
            let password = take_password(table, &mut input, &params);
            let Some(id) = state.insert_row(table, &input, Writer::Rest)? else {
                // A business rule dropped the insert without saying so.
                return Ok(json(201, &json!({"result": {}})));
            };
            if let Some(p) = password {
                state.passwords.insert(id.clone(), p);
            }
            let row = get_one(state, def, &id, &view)?;
            let location = format!("{}/api/now/table/{table}/{id}", state.base_url);
            Ok(json(201, &row).insert_header("location", location))
        }),
        ("PATCH" | "PUT", Some(id)) => body(request).and_then(|mut input| {
            let password = take_password(table, &mut input, &params);
            state.update_row(table, id, &input, Writer::Rest)?;
            if let Some(p) = password {
                state.passwords.insert(id.to_owned(), p);
            }
            get_one(state, def, id, &view).map(|row| json(200, &row))
        }),
        ("DELETE", Some(id)) => {
            let visible = state.get(table, id).is_some() && !state.hidden.contains(id);
            if visible && state.delete(table, id) {
                Ok(ResponseTemplate::new(204))
            } else {
                Err(Failure::not_found())
            }
        }
        _ => Err(Failure::new(
            405,
            "Method not Supported",
            format!("{method} is not supported on this resource"),
        )),
    };
    outcome.unwrap_or_else(|f| failure(&f))
}

/// Takes `user_password` out of a `sys_user` write: the instance keeps only its hash and
/// never prints it. With `sysparm_input_display_value=true` the clear text is hashed;
/// without it the value is stored as if it were the hash already, so the password the
/// caller meant does not work (kept here under a prefix no password check matches).
fn take_password(
    table: &str,
    input: &mut Map<String, Value>,
    params: &[(String, String)],
) -> Option<String> {
    if table != "sys_user" {
        return None;
    }
    let value = input.remove("user_password")?;
    let clear = match value {
        Value::String(s) => s,
        other => other.to_string(),
    };
    if param(params, "sysparm_input_display_value") == Some("true") {
        Some(clear)
    } else {
        Some(format!("\u{0}stored-as-hash:{clear}"))
    }
}

/// A route's result: a body for `200`, or a failure.
type Outcome = Result<Value, Failure>;

/// `GET …/{sys_id}`: `{"result":{…}}`, 404 when missing or hidden.
fn get_one(state: &State, def: &TableDef, id: &str, view: &View) -> Outcome {
    if state.hidden.contains(id) {
        return Err(Failure::not_found());
    }
    let (real, row) = state.get(def.name, id).ok_or_else(Failure::not_found)?;
    Ok(json!({"result": view.render(state, def, real, &row)}))
}

/// The JSON object of a write; only `application/json` is read.
fn body(request: &Request) -> Result<Map<String, Value>, Failure> {
    let content_type = request
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !content_type.contains("application/json") {
        return Err(Failure::new(
            400,
            "Invalid Content-Type",
            format!("Content-Type {content_type:?} is not supported: send application/json"),
        ));
    }
    match serde_json::from_slice::<Value>(&request.body) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(Failure::new(
            400,
            "Exception while reading request",
            "The payload is not valid JSON.",
        )),
    }
}

/// `GET /api/now/table/{t}`: a page with `X-Total-Count` and `Link`.
fn list(
    state: &State,
    request: &Request,
    def: &TableDef,
    params: &[(String, String)],
    view: &View,
    page_limit: usize,
) -> ResponseTemplate {
    let q = match param(params, "sysparm_query").filter(|q| !q.is_empty()) {
        Some(raw) => match Query::parse(raw, def) {
            Ok(q) => q,
            Err(part) => {
                let message = format!("{UNSUPPORTED}: {part}");
                return failure(&Failure::new(500, &message, Value::Null));
            }
        },
        // name=value pairs count only without sysparm_query (they are mutually exclusive).
        None => Query::from_pairs(
            params
                .iter()
                .filter(|(k, _)| !k.starts_with("sysparm_"))
                .map(|(k, v)| (k.as_str(), v.as_str())),
            def,
        ),
    };
    let mut q = q.fold_case(state.case_insensitive);
    if state.ignore_ranges {
        q.drop_key_ranges();
    }
    let number = |name: &str| param(params, name).and_then(|v| v.trim().parse::<usize>().ok());
    let limit = number("sysparm_limit").unwrap_or(page_limit);
    let offset = number("sysparm_offset").unwrap_or(0);
    let no_count = param(params, "sysparm_no_count").is_some_and(|v| v == "true");
    let page = select(state, def.name, &q, offset, limit, !no_count);
    // ACL filtering after the limit: hidden rows leave holes in the page.
    let result: Vec<Value> = page
        .rows
        .iter()
        .filter(|r| !state.hidden.contains(text(r, "sys_id")))
        .map(|r| {
            let real = schema::table(text(r, "sys_class_name")).map_or(def.name, |d| d.name);
            view.render(state, def, real, r)
        })
        .collect();
    let mut answer = json(200, &json!({"result": result}));
    if let Some(total) = page.total {
        answer = answer.insert_header("x-total-count", (total + state.total_bias).to_string());
    }
    let link = links(state, request, params, offset, limit, page.total, page.more);
    answer.insert_header("link", link)
}

/// `Link` with `first`, `prev` (past the first page), `next` (when rows follow) and
/// `last` (when counted).
fn links(
    state: &State,
    request: &Request,
    params: &[(String, String)],
    offset: usize,
    limit: usize,
    total: Option<usize>,
    more: bool,
) -> String {
    let base = format!("{}{}", state.base_url, request.url.path());
    let at = |o: usize| {
        let mut s = url::form_urlencoded::Serializer::new(String::new());
        s.append_pair("sysparm_offset", &o.to_string());
        s.append_pair("sysparm_limit", &limit.to_string());
        for (k, v) in params {
            if k != "sysparm_offset" && k != "sysparm_limit" {
                s.append_pair(k, v);
            }
        }
        format!("<{base}?{}>", s.finish())
    };
    let mut out = vec![format!("{};rel=\"first\"", at(0))];
    if offset > 0 {
        out.push(format!("{};rel=\"prev\"", at(offset.saturating_sub(limit))));
    }
    if more {
        out.push(format!("{};rel=\"next\"", at(offset.saturating_add(limit))));
    }
    if let Some(total) = total {
        let last = if total == 0 || limit == 0 {
            0
        } else {
            (total - 1) / limit * limit
        };
        out.push(format!("{};rel=\"last\"", at(last)));
    }
    out.join(",")
}
