//! Routing: token endpoints, auth (401/407), tenant, 405, rate limit, then the
//! users, roles and user-group handlers (`users.rs`, `groups.rs`).

use std::collections::HashMap;
use std::time::Duration;

use serde_json::{Value, json};
use wiremock::{Request, ResponseTemplate};

use super::limits::{RateClass, TokenState, Verdict};
use super::{Shared, groups, tickets, users};

/// Where the v2 API lives.
pub(crate) const API_PREFIX: &str = "/api/v2/tenants/";
/// The token path of the spec and the docs.
pub(crate) const TOKEN_PATH: &str = "/auth/oauth/token";
/// The token path real clients (python-opsramp, or-mcp-v2) use.
pub(crate) const TENANCY_TOKEN_PATH: &str = "/tenancy/auth/oauth/token";

/// JSON with a status.
pub(crate) fn json_response(status: u16, body: &Value) -> ResponseTemplate {
    crate::exchange::note(status, body);
    ResponseTemplate::new(status).set_body_raw(body.to_string(), "application/json")
}

/// OpsRamp's generic error shape (fact sheet §1.4).
pub(crate) fn api_error(status: u16, code: &str, message: &str) -> ResponseTemplate {
    json_response(status, &json!({ "code": code, "message": message }))
}

/// The label a request is counted under: `token`, or the route template after the
/// tenant (`users/search`, `users/{id}`, `users/{id}/{action}`, `roles/{id}`,
/// `userGroups/{id}/users`, …).
pub(crate) fn label(method: &str, path: &str) -> String {
    if path == TOKEN_PATH || path == TENANCY_TOKEN_PATH {
        return "token".into();
    }
    let Some(rest) = path.strip_prefix(API_PREFIX) else {
        return "unknown".into();
    };
    let parts: Vec<&str> = rest.split('/').skip(1).collect();
    let templ: Vec<&str> = parts
        .iter()
        .enumerate()
        .map(|(i, p)| match (i, *p) {
            (0, p) => p,
            (1, "search" | "minimal") => parts[1],
            (1, _) => "{id}",
            (2, "users" | "search" | "close" | "responses") => parts[2],
            (2, _) => "{action}",
            _ => "{…}",
        })
        .collect();
    let _ = method;
    templ.join("/")
}

/// The rate class of a route (fact sheet §1.5).
fn class_of(method: &str, parts: &[&str]) -> RateClass {
    if method != "GET" {
        return RateClass::Write;
    }
    match parts {
        [_, "search"] | ["userGroups"] | ["userGroups", _, "users"] => RateClass::PagedGet,
        _ => RateClass::Get,
    }
}

fn with_rate_headers(t: ResponseTemplate, v: &Verdict) -> ResponseTemplate {
    t.insert_header("x-ratelimit-limit", v.limit.to_string())
        .insert_header("x-ratelimit-remaining", v.remaining.to_string())
        .insert_header("x-ratelimit-reset", v.reset.to_string())
}

/// Answers one request (faults already applied by the caller).
pub(crate) fn answer(shared: &Shared, request: &Request) -> ResponseTemplate {
    let path = request.url.path();
    let method = request.method.as_str().to_ascii_uppercase();
    if path == TOKEN_PATH || path == TENANCY_TOKEN_PATH {
        return token(shared, &method, request);
    }
    let Some(rest) = path.strip_prefix(API_PREFIX) else {
        return api_error(404, "0404", "Resource not found");
    };
    let mut state = shared.lock();
    let bearer = request
        .headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim().to_owned());
    match bearer.as_deref().map(|t| state.tokens.state(t)) {
        Some(TokenState::Valid) => {}
        // Fact sheet §1.3: OpsRamp says "token expired" with 407 Proxy Authentication
        // Required, and "not authorized" with 401.
        Some(TokenState::Expired) => {
            state.auth_rejections += 1;
            return json_response(
                407,
                &json!({"error": "invalid_token", "error_description": "Access token expired"}),
            );
        }
        _ => {
            state.auth_rejections += 1;
            return json_response(
                401,
                &json!({"error": "invalid_token", "error_description": "Invalid access token"}),
            );
        }
    }
    let mut segments = rest.split('/');
    let tenant_id = segments.next().unwrap_or("").to_owned();
    let parts: Vec<&str> = segments.collect();
    if !state.tenants.contains_key(&tenant_id) {
        return api_error(410, "0410", "Tenant unavailable or deactivated");
    }
    // Fact sheet §1.7: every write is a POST (deletes aside); PUT and PATCH are refused.
    if matches!(method.as_str(), "PUT" | "PATCH") {
        return api_error(405, "0405", "Request method not supported");
    }
    let verdict = state.windows.check(&tenant_id, class_of(&method, &parts));
    if !verdict.allowed {
        let t = json_response(
            429,
            &json!({"error": "throttled", "error_description": "Too Many Requests"}),
        );
        return with_rate_headers(t, &verdict);
    }
    let query: HashMap<String, String> = request.url.query_pairs().into_owned().collect();
    let body: Option<Value> = serde_json::from_slice(&request.body).ok();
    let tenant = state.tenants.get_mut(&tenant_id).expect("checked above");
    let call = Call {
        method: &method,
        parts: &parts,
        query: &query,
        body: body.as_ref(),
        raw_body: &request.body,
    };
    let t = match parts.first().copied() {
        Some("users") => users::route(tenant, &call),
        Some("roles") => groups::roles(tenant, &call),
        Some("userGroups") => groups::groups(tenant, &call),
        Some(p @ ("incidents" | "serviceRequests")) => {
            let ty = tickets::TicketType::of_path(p).expect("matched");
            tickets::route(tenant, ty, &call)
        }
        _ => api_error(404, "0404", "Resource not found"),
    };
    with_rate_headers(t, &verdict)
}

/// One API call, parsed.
pub(crate) struct Call<'a> {
    pub(crate) method: &'a str,
    pub(crate) parts: &'a [&'a str],
    pub(crate) query: &'a HashMap<String, String>,
    pub(crate) body: Option<&'a Value>,
    pub(crate) raw_body: &'a [u8],
}

impl Call<'_> {
    /// The JSON body, or a 400 saying it is missing or malformed.
    pub(crate) fn json(&self) -> Result<&Value, ResponseTemplate> {
        self.body.ok_or_else(|| {
            let what = if self.raw_body.is_empty() {
                "Request body is missing"
            } else {
                "Malformed JSON request body"
            };
            api_error(400, "0400", what)
        })
    }
}

/// `POST /auth/oauth/token` and `/tenancy/auth/oauth/token` (fact sheet §1.2).
fn token(shared: &Shared, method: &str, request: &Request) -> ResponseTemplate {
    if method != "POST" {
        return api_error(405, "0405", "Request method not supported");
    }
    let form: HashMap<String, String> = url::form_urlencoded::parse(&request.body)
        .into_owned()
        .collect();
    let mut state = shared.lock();
    state.token_requests += 1;
    let grant = form.get("grant_type").map(String::as_str).unwrap_or("");
    if grant != "client_credentials" {
        return json_response(
            400,
            &json!({
                "error": "unsupported_grant_type",
                "error_description": format!("Unsupported grant type: {grant}"),
            }),
        );
    }
    let ok = form.get("client_id") == Some(&state.client_id)
        && form.get("client_secret") == Some(&state.client_secret);
    if !ok {
        return json_response(
            401,
            &json!({"error": "unauthorized", "error_description": "Bad API credentials"}),
        );
    }
    let ttl = state.token_ttl;
    let access = state.tokens.issue(ttl);
    // The spec's example sends `expires_in` as a string, "7199" for a 7200 s token.
    let secs = ttl.saturating_sub(Duration::from_secs(1)).as_secs().max(1);
    let expires_in = if state.expires_in_as_string {
        Value::from(secs.to_string())
    } else {
        Value::from(secs)
    };
    json_response(
        200,
        &json!({
            "access_token": access,
            "token_type": "bearer",
            "expires_in": expires_in,
            "scope": "global:manage",
        }),
    )
}

/// Paging parameters and the envelope of every `/search`-style GET (fact sheet §1.6).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Paging {
    pub(crate) page_no: usize,
    pub(crate) page_size: usize,
    pub(crate) descending: bool,
}

/// Largest page the mock serves (the spec states none; this one keeps pages bounded).
pub(crate) const MAX_PAGE_SIZE: usize = 1000;

impl Paging {
    pub(crate) fn parse(query: &HashMap<String, String>) -> Result<Paging, ResponseTemplate> {
        let num = |key: &str, default: usize| match query.get(key) {
            None => Ok(default),
            Some(v) => v
                .trim()
                .parse::<usize>()
                .ok()
                .filter(|n| *n >= 1)
                .ok_or_else(|| api_error(400, "0400", &format!("Invalid value for {key}"))),
        };
        let page_no = num("pageNo", 1)?;
        let page_size = num("pageSize", 100)?.min(MAX_PAGE_SIZE);
        if let Some(sort) = query.get("sortName") {
            if sort != "id" && sort != "uniqueId" {
                return Err(api_error(400, "0400", "Invalid sortName"));
            }
        }
        let descending = match query.get("isDescendingOrder").map(String::as_str) {
            None => true,
            Some("true") => true,
            Some("false") => false,
            Some(_) => {
                return Err(api_error(
                    400,
                    "0400",
                    "Invalid value for isDescendingOrder",
                ));
            }
        };
        Ok(Paging {
            page_no,
            page_size,
            descending,
        })
    }

    /// The 0-based positions of this page's items in ascending order, given `total`.
    pub(crate) fn positions(&self, total: usize) -> Vec<usize> {
        let start = (self.page_no - 1).saturating_mul(self.page_size);
        let end = start.saturating_add(self.page_size).min(total);
        let range = start.min(total)..end;
        if self.descending {
            range.map(|i| total - 1 - i).collect()
        } else {
            range.collect()
        }
    }

    /// The envelope around `results`.
    pub(crate) fn envelope(self, results: Vec<Value>, total: usize, next_no: bool) -> Value {
        let total_pages = total.div_ceil(self.page_size);
        let next = self.page_no < total_pages;
        let mut v = json!({
            "results": Value::Array(results),
            "totalResults": total,
            "orderBy": "id",
            "pageNo": self.page_no,
            "pageSize": self.page_size,
            "totalPages": total_pages,
            "nextPage": next,
            "previousPageNo": self.page_no - 1,
            "descendingOrder": self.descending,
        });
        // Fact sheet §1.6: only some endpoints (users/search among them) send it.
        if next_no {
            v["nextPageNo"] = json!(self.page_no + 1);
        }
        v
    }
}

/// `queryString=key:value+key:value` (fact sheet §1.6). A literal `+` reaches the server
/// as a space once the query is decoded, so it splits nothing: clients must send `%2B`.
pub(crate) fn query_string(
    query: &HashMap<String, String>,
) -> Result<Vec<(String, String)>, ResponseTemplate> {
    let Some(raw) = query.get("queryString") else {
        return Ok(Vec::new());
    };
    raw.split('+')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            pair.split_once(':')
                .map(|(k, v)| (k.trim().to_owned(), v.to_owned()))
                .ok_or_else(|| api_error(400, "0400", &format!("Invalid queryString: {pair}")))
        })
        .collect()
}
