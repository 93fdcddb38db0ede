//! Routing: one request in, one Jira-shaped answer out.

#![allow(clippy::result_large_err)]

use base64::Engine as _;
use serde_json::{Map, Value, json};
use wiremock::{Request, ResponseTemplate};

use super::jql;
use super::state::{AuthMode, GroupRow, IssueRow, Mode, State, StoredApproval, token};

/// A parsed request.
pub(crate) struct Call<'a> {
    pub method: &'a str,
    /// The path, without the `/ex/jira/{cloudid}` prefix of the OAuth gateway.
    pub path: String,
    pub query: Vec<(String, String)>,
    pub body: Option<Value>,
    pub raw_body: &'a [u8],
    pub request: &'a Request,
    pub gateway: bool,
}

impl<'a> Call<'a> {
    pub(crate) fn parse(request: &'a Request, cloud_id: &str) -> Self {
        let full = request.url.path().to_owned();
        let prefix = format!("/ex/jira/{cloud_id}");
        let (path, gateway) = match full.strip_prefix(&prefix) {
            Some(rest) => (rest.to_owned(), true),
            None => (full, false),
        };
        Call {
            method: request.method.as_str(),
            path,
            query: request.url.query_pairs().into_owned().collect(),
            body: serde_json::from_slice(&request.body).ok(),
            raw_body: &request.body,
            request,
            gateway,
        }
    }

    fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn num(&self, name: &str, default: usize) -> usize {
        self.param(name)
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.request.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The route label requests are counted under.
    pub(crate) fn label(&self) -> String {
        let segs: Vec<&str> = self.path.split('/').filter(|s| !s.is_empty()).collect();
        let templ: Vec<String> = segs
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let prev = if i > 0 { segs[i - 1] } else { "" };
                if matches!(prev, "issue" | "request" | "approval")
                    && !matches!(*s, "comment" | "transitions")
                {
                    ":id".to_owned()
                } else {
                    (*s).to_owned()
                }
            })
            .collect();
        format!("/{}", templ.join("/"))
    }
}

pub(crate) fn json_response(status: u16, body: &Value) -> ResponseTemplate {
    crate::exchange::note(status, body);
    ResponseTemplate::new(status).set_body_raw(body.to_string(), "application/json;charset=UTF-8")
}

/// `{"errorMessages":[…],"errors":{…}}`.
#[allow(
    clippy::needless_pass_by_value,
    reason = "callers build the errors object in place"
)]
pub(crate) fn error(status: u16, messages: &[&str], errors: Value) -> ResponseTemplate {
    json_response(
        status,
        &json!({ "errorMessages": messages, "errors": errors }),
    )
}

fn no_content() -> ResponseTemplate {
    ResponseTemplate::new(204)
}

/// Jira's 429. Cloud: `Retry-After` (seconds) when `retry_after`, always
/// `X-RateLimit-Reset` as an ISO time, `X-RateLimit-NearLimit`, `RateLimit-Reason`. Data
/// Center (admin-enabled rate limiting): `Retry-After` and the `X-RateLimit-Limit`,
/// `-Remaining`, `-Interval-Seconds`, `-FillRate` family, no reset time.
pub(crate) fn throttled(
    state: &State,
    retry_after: Option<u64>,
    reset_in_secs: u64,
) -> ResponseTemplate {
    let mut t = json_response(
        429,
        &json!({"errorMessages": ["Rate limit exceeded."], "errors": {}}),
    );
    t = match state.mode {
        Mode::Cloud => {
            let reset = State::jira_time(now_ms() + reset_in_secs * 1000);
            // `2024-05-02T10:15:30.000+0000` → `2024-05-02T10:15:30Z`, Cloud's header format.
            let reset = format!("{}Z", &reset[..19]);
            t.insert_header("x-ratelimit-reset", reset)
                .insert_header("x-ratelimit-limit", "350")
                .insert_header("x-ratelimit-remaining", "0")
                .insert_header("x-ratelimit-nearlimit", "true")
                .insert_header("ratelimit-reason", "jira-cost-based")
        }
        Mode::DataCenter => t
            .insert_header("x-ratelimit-limit", "100")
            .insert_header("x-ratelimit-remaining", "0")
            .insert_header("x-ratelimit-interval-seconds", "1")
            .insert_header("x-ratelimit-fillrate", "10"),
    };
    // Data Center always says when to come back; Cloud mostly does.
    let retry_after = match state.mode {
        Mode::DataCenter => Some(retry_after.unwrap_or(reset_in_secs)),
        Mode::Cloud => retry_after,
    };
    if let Some(s) = retry_after {
        t = t.insert_header("retry-after", s.to_string());
    }
    t
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

fn unauthorized() -> ResponseTemplate {
    json_response(
        401,
        &json!({"errorMessages": ["You are not authenticated. Authentication required to perform this operation."], "errors": {}}),
    )
    .insert_header("x-seraph-loginreason", "AUTHENTICATED_FAILED")
}

/// Checks the credentials of an API call; `None` when they are good.
pub(crate) fn authorize(state: &State, call: &Call<'_>) -> Option<ResponseTemplate> {
    let header = call.header("authorization").unwrap_or("");
    let ok = match state.auth {
        AuthMode::Basic => header
            .strip_prefix("Basic ")
            .and_then(|b| {
                base64::engine::general_purpose::STANDARD
                    .decode(b.trim())
                    .ok()
            })
            .and_then(|d| String::from_utf8(d).ok())
            .is_some_and(|d| d == format!("{}:{}", state.user, state.secret)),
        AuthMode::Bearer => header.strip_prefix("Bearer ") == Some(state.secret.as_str()),
        AuthMode::OAuth => {
            call.gateway
                && header
                    .strip_prefix("Bearer ")
                    .is_some_and(|t| state.access_tokens.iter().any(|a| a == t))
        }
    };
    (!ok).then(unauthorized)
}

/// The OAuth endpoints: `/authorize`, `/oauth/token`, `/oauth/token/accessible-resources`.
pub(crate) fn oauth(state: &mut State, call: &Call<'_>) -> Option<ResponseTemplate> {
    match (call.method, call.path.as_str()) {
        ("GET", "/authorize") => Some(authorize_page(state, call)),
        ("POST", "/oauth/token") => Some(token_endpoint(state, call)),
        ("GET", "/oauth/token/accessible-resources") => {
            let header = call.header("authorization").unwrap_or("");
            let ok = header
                .strip_prefix("Bearer ")
                .is_some_and(|t| state.access_tokens.iter().any(|a| a == t));
            if !ok {
                return Some(unauthorized());
            }
            Some(json_response(
                200,
                &json!([
                    {"id": "0000aaaa-0000-4000-8000-00000000beef", "url": "https://other-site.atlassian.net", "name": "other-site", "scopes": ["read:jira-work"], "avatarUrl": "https://example.invalid/a.png"},
                    {"id": state.cloud_id, "url": state.site_url, "name": "acme", "scopes": ["read:jira-work", "write:jira-work"], "avatarUrl": "https://example.invalid/a.png"}
                ]),
            ))
        }
        _ => None,
    }
}

fn authorize_page(state: &mut State, call: &Call<'_>) -> ResponseTemplate {
    let (Some(client), Some(redirect), Some(st)) = (
        call.param("client_id"),
        call.param("redirect_uri"),
        call.param("state"),
    ) else {
        return json_response(400, &json!({"error": "invalid_request"}));
    };
    let scope = call.param("scope").unwrap_or("");
    if client != state.client_id
        || call.param("response_type") != Some("code")
        || call.param("audience") != Some("api.atlassian.com")
    {
        return json_response(400, &json!({"error": "invalid_request"}));
    }
    let code = token("code");
    state.codes.push((code.clone(), redirect.to_owned()));
    let mut to = match url::Url::parse(redirect) {
        Ok(u) => u,
        Err(_) => return json_response(400, &json!({"error": "invalid_request"})),
    };
    if scope.split(' ').any(|s| s == "offline_access") {
        to.query_pairs_mut()
            .append_pair("code", &code)
            .append_pair("state", st);
    } else {
        to.query_pairs_mut()
            .append_pair("code", &code)
            .append_pair("state", st)
            .append_pair("offline", "false");
    }
    ResponseTemplate::new(302).insert_header("location", to.as_str())
}

fn token_endpoint(state: &mut State, call: &Call<'_>) -> ResponseTemplate {
    let is_json = call
        .header("content-type")
        .is_some_and(|c| c.starts_with("application/json"));
    let Some(body) = call.body.as_ref().filter(|_| is_json) else {
        return json_response(
            400,
            &json!({"error": "invalid_request", "error_description": "the body must be JSON"}),
        );
    };
    let s = |k: &str| body.get(k).and_then(Value::as_str).unwrap_or("");
    if s("client_id") != state.client_id || s("client_secret") != state.client_secret {
        return json_response(
            401,
            &json!({"error": "access_denied", "error_description": "Unauthorized"}),
        );
    }
    match s("grant_type") {
        "refresh_token" => {
            if s("refresh_token") != state.refresh_token {
                return json_response(
                    403,
                    &json!({"error": "invalid_grant", "error_description": "Unknown or invalid refresh token."}),
                );
            }
            let old = std::mem::replace(&mut state.refresh_token, token("rt"));
            state.used_refresh_tokens.push(old);
            state.rotations += 1;
        }
        "authorization_code" => {
            let code = s("code");
            let Some(i) = state
                .codes
                .iter()
                .position(|(c, r)| c == code && r == s("redirect_uri"))
            else {
                return json_response(
                    403,
                    &json!({"error": "invalid_grant", "error_description": "Invalid authorization code"}),
                );
            };
            state.codes.remove(i);
            let old = std::mem::replace(&mut state.refresh_token, token("rt"));
            state.used_refresh_tokens.push(old);
        }
        _ => return json_response(400, &json!({"error": "unsupported_grant_type"})),
    }
    let access = token("at");
    state.access_tokens.push(access.clone());
    json_response(
        200,
        &json!({
            "access_token": access,
            "refresh_token": state.refresh_token,
            "expires_in": 3600,
            "scope": "read:jira-work write:jira-work offline_access",
            "token_type": "Bearer",
        }),
    )
}

/// Whether a rich-text value has the deployment's shape: ADF on Cloud, a string on DC.
fn rich_text_ok(state: &State, v: &Value) -> Result<(), &'static str> {
    match (state.mode, v) {
        (Mode::Cloud, Value::Object(o))
            if o.get("type").and_then(Value::as_str) == Some("doc")
                && o.get("version") == Some(&json!(1))
                && o.get("content").is_some_and(Value::is_array) =>
        {
            Ok(())
        }
        (Mode::Cloud, _) => {
            Err("Operation value must be an Atlassian Document (see the Atlassian Document Format)")
        }
        (Mode::DataCenter, Value::String(_)) => Ok(()),
        (Mode::DataCenter, _) => Err("Operation value must be a string"),
    }
}

/// Routes an authorized API request.
pub(crate) fn answer(state: &mut State, call: &Call<'_>) -> ResponseTemplate {
    if !matches!(call.method, "GET" | "DELETE") && !call.raw_body.is_empty() && call.body.is_none()
    {
        return error(
            400,
            &["Unexpected character in the request body: not JSON"],
            json!({}),
        );
    }
    let api = format!("/rest/api/{}/", state.version());
    let segs: Vec<String> = call
        .path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    let seg: Vec<&str> = segs.iter().map(String::as_str).collect();
    if let Some(rest) = call.path.strip_prefix(&api) {
        let rest: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
        return platform(state, call, &rest);
    }
    match (call.method, seg.as_slice()) {
        ("GET" | "POST", ["rest", "api", "2" | "3", "search"]) if state.mode == Mode::Cloud => {
            error(
                410,
                &[
                    "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API.",
                ],
                json!({}),
            )
        }
        ("POST", ["rest", "servicedeskapi", "request"]) => jsm_create(state, call),
        ("GET", ["rest", "servicedeskapi", "request", key, "approval"]) => {
            jsm_approvals(state, call, key)
        }
        _ => error(
            404,
            &["null for uri: the mock has no such resource"],
            json!({}),
        ),
    }
}

fn platform(state: &mut State, call: &Call<'_>, rest: &[&str]) -> ResponseTemplate {
    match (call.method, rest) {
        ("GET", ["myself"]) => {
            let me = match state.mode {
                Mode::Cloud => {
                    json!({"accountId": "5b10ac8d82e05b22cc7dffff", "accountType": "atlassian", "displayName": "IAM Bot", "active": true})
                }
                Mode::DataCenter => {
                    json!({"name": state.user, "key": "JIRAUSER10000", "displayName": "IAM Bot", "active": true})
                }
            };
            json_response(200, &me)
        }
        ("GET", ["issue", id]) => match state.issue_index(id) {
            Some(i) => json_response(200, &state.issue_json(&state.issues[i])),
            None => not_found_issue(),
        },
        ("POST", ["issue"]) => create_issue(state, call),
        ("PUT", ["issue", id]) => update_issue(state, call, id),
        ("POST", ["issue", id, "comment"]) => add_comment(state, call, id),
        ("GET", ["issue", id, "comment"]) => list_comments(state, call, id),
        ("GET", ["issue", "createmeta", project, "issuetypes"]) => {
            createmeta_types(state, call, project)
        }
        ("GET", ["issue", "createmeta", project, "issuetypes", type_id]) => {
            createmeta_fields(state, call, project, type_id)
        }
        ("GET", ["issue", id, "transitions"]) => transitions(state, call, id),
        ("POST", ["issue", id, "transitions"]) => do_transition(state, call, id),
        ("POST", ["search", "jql"]) if state.mode == Mode::Cloud => search_jql(state, call),
        ("POST", ["search"]) if state.mode == Mode::DataCenter => search_offset(state, call),
        // Cloud removed `/rest/api/{2,3}/search` (2025) for `search/jql`.
        ("GET" | "POST", ["search"]) => error(
            410,
            &[
                "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API.",
            ],
            json!({}),
        ),
        _ => super::people::route(state, call, rest).unwrap_or_else(|| {
            error(
                404,
                &["null for uri: the mock has no such resource"],
                json!({}),
            )
        }),
    }
}

fn not_found_issue() -> ResponseTemplate {
    error(
        404,
        &["Issue does not exist or you do not have permission to see it."],
        json!({}),
    )
}

fn create_issue(state: &mut State, call: &Call<'_>) -> ResponseTemplate {
    let Some(fields) = call
        .body
        .as_ref()
        .and_then(|b| b.get("fields"))
        .and_then(Value::as_object)
    else {
        return error(400, &["Can not deserialize instance of fields"], json!({}));
    };
    let mut errors = Map::new();
    let project = fields
        .get("project")
        .and_then(|p| p.get("key"))
        .and_then(Value::as_str)
        .unwrap_or("");
    if !state.projects.iter().any(|(k, _)| k == project) {
        errors.insert("project".into(), json!("valid project is required"));
    }
    let issue_type = fields
        .get("issuetype")
        .and_then(|t| t.get("name"))
        .and_then(Value::as_str)
        .unwrap_or("");
    if !["Task", "Incident", "Change", "Problem", "Service Request"].contains(&issue_type) {
        errors.insert("issuetype".into(), json!("Specify a valid issue type"));
    }
    let summary = fields.get("summary").and_then(Value::as_str).unwrap_or("");
    if summary.trim().is_empty() {
        errors.insert(
            "summary".into(),
            json!("You must specify a summary of the issue."),
        );
    }
    if let Some(d) = fields.get("description").filter(|d| !d.is_null()) {
        if let Err(m) = rich_text_ok(state, d) {
            errors.insert("description".into(), json!(m));
        }
    }
    let labels = labels_of(fields.get("labels"));
    if let Err(m) = &labels {
        errors.insert("labels".into(), json!(m));
    }
    if !errors.is_empty() {
        return error(400, &[], Value::Object(errors));
    }
    let i = state.new_issue(project, issue_type);
    let row = &mut state.issues[i];
    row.summary = summary.to_owned();
    row.description = fields.get("description").cloned().unwrap_or(Value::Null);
    row.labels = labels.unwrap_or_default();
    for (k, v) in fields {
        if k.starts_with("customfield_") || k == "priority" {
            row.extra.insert(k.clone(), v.clone());
        }
    }
    let (id, key) = (row.id, row.key.clone());
    json_response(
        201,
        &json!({"id": id.to_string(), "key": key, "self": format!("{}/rest/api/{}/issue/{id}", state.site_url, state.version())}),
    )
}

fn labels_of(v: Option<&Value>) -> Result<Vec<String>, String> {
    let Some(v) = v.filter(|v| !v.is_null()) else {
        return Ok(Vec::new());
    };
    let list = v.as_array().ok_or("labels must be an array")?;
    let mut out = Vec::new();
    for l in list {
        let s = l.as_str().ok_or("a label must be a string")?;
        if s.is_empty() || s.chars().any(char::is_whitespace) || s.len() > 255 {
            return Err(format!("The label '{s}' contains spaces which is invalid."));
        }
        out.push(s.to_owned());
    }
    Ok(out)
}

fn update_issue(state: &mut State, call: &Call<'_>, id: &str) -> ResponseTemplate {
    let Some(i) = state.issue_index(id) else {
        return not_found_issue();
    };
    let adds: Vec<Value> = call
        .body
        .as_ref()
        .and_then(|b| b.pointer("/update/labels"))
        .and_then(Value::as_array)
        .map(|ops| ops.iter().filter_map(|op| op.get("add").cloned()).collect())
        .unwrap_or_default();
    let labels = match labels_of(Some(&Value::Array(adds))) {
        Ok(l) => l,
        Err(m) => return error(400, &[], json!({"labels": m})),
    };
    for l in labels {
        if !state.issues[i].labels.contains(&l) {
            state.issues[i].labels.push(l);
        }
    }
    state.touch(i);
    no_content()
}

fn add_comment(state: &mut State, call: &Call<'_>, id: &str) -> ResponseTemplate {
    let Some(i) = state.issue_index(id) else {
        return not_found_issue();
    };
    let Some(body) = call.body.as_ref().and_then(|b| b.get("body")).cloned() else {
        return error(
            400,
            &[],
            json!({"comment": "Comment body can not be empty!"}),
        );
    };
    if let Err(m) = rich_text_ok(state, &body) {
        return error(400, &[], json!({"comment": m}));
    }
    let internal = call
        .body
        .as_ref()
        .and_then(|b| b.get("properties"))
        .and_then(Value::as_array)
        .is_some_and(|ps| {
            ps.iter().any(|p| {
                p.get("key").and_then(Value::as_str) == Some("sd.public.comment")
                    && p.pointer("/value/internal") == Some(&json!(true))
            })
        });
    let id = state.push_comment(i, body.clone(), internal, None);
    json_response(201, &json!({"id": id.to_string(), "body": body}))
}

/// `GET …/issue/{key}/comment?startAt&maxResults&orderBy=created&expand=properties`:
/// offset paging with a total, oldest first.
fn list_comments(state: &mut State, call: &Call<'_>, id: &str) -> ResponseTemplate {
    let Some(i) = state.issue_index(id) else {
        return not_found_issue();
    };
    let start = call.num("startAt", 0);
    let size = call.num("maxResults", 50).clamp(1, 5000);
    let properties = call
        .param("expand")
        .is_some_and(|e| e.contains("properties"));
    let issue = &state.issues[i];
    let page: Vec<Value> = issue
        .comments
        .iter()
        .skip(start)
        .take(size)
        .map(|c| state.comment_json(issue, c, properties))
        .collect();
    json_response(
        200,
        &json!({"startAt": start, "maxResults": size, "total": issue.comments.len(), "comments": page}),
    )
}

/// The issue types a project's create screens offer (the mock: every type its issues
/// use, plus the usual ones), as `createmeta/{project}/issuetypes` lists them: Cloud under
/// `issueTypes`, Data Center under `values`.
fn createmeta_types(state: &mut State, call: &Call<'_>, project: &str) -> ResponseTemplate {
    if !state
        .projects
        .iter()
        .any(|(p, _)| p.eq_ignore_ascii_case(project))
    {
        return error(
            404,
            &[&format!("No project could be found with key '{project}'.")],
            json!({}),
        );
    }
    let types: Vec<Value> = super::ISSUE_TYPES
        .iter()
        .map(|(id, name)| json!({"id": id, "name": name, "subtask": false}))
        .collect();
    let start = call.num("startAt", 0);
    let total = types.len();
    let page: Vec<Value> = types
        .into_iter()
        .skip(start)
        .take(call.num("maxResults", 50))
        .collect();
    let list_key = match state.mode {
        Mode::Cloud => "issueTypes",
        Mode::DataCenter => "values",
    };
    json_response(
        200,
        &json!({list_key: page, "startAt": start, "maxResults": 50, "total": total}),
    )
}

/// The fields of an issue type's create screen (`createmeta/{project}/issuetypes/{id}`):
/// Cloud under `fields`, Data Center under `values`.
fn createmeta_fields(
    state: &mut State,
    call: &Call<'_>,
    project: &str,
    type_id: &str,
) -> ResponseTemplate {
    if !state
        .projects
        .iter()
        .any(|(p, _)| p.eq_ignore_ascii_case(project))
    {
        return error(
            404,
            &[&format!("No project could be found with key '{project}'.")],
            json!({}),
        );
    }
    if !super::ISSUE_TYPES.iter().any(|(id, _)| *id == type_id) {
        return error(404, &["Issue type with given ID does not exist"], json!({}));
    }
    let fields = super::create_fields();
    let start = call.num("startAt", 0);
    let total = fields.len();
    let page: Vec<Value> = fields
        .into_iter()
        .skip(start)
        .take(call.num("maxResults", 50))
        .collect();
    let list_key = match state.mode {
        Mode::Cloud => "fields",
        Mode::DataCenter => "values",
    };
    json_response(
        200,
        &json!({list_key: page, "startAt": start, "maxResults": 50, "total": total}),
    )
}

fn transitions(state: &mut State, call: &Call<'_>, id: &str) -> ResponseTemplate {
    let Some(i) = state.issue_index(id) else {
        return not_found_issue();
    };
    let issue = &state.issues[i];
    let wf = state.workflow_of(&issue.issue_type);
    let expand_fields = call
        .param("expand")
        .is_some_and(|e| e.contains("transitions.fields"));
    let list: Vec<Value> = wf
        .transitions
        .iter()
        .filter(|t| t.to != issue.status)
        .map(|t| {
            let to = wf.statuses.iter().find(|s| s.id == t.to).cloned().unwrap_or_else(|| wf.statuses[0].clone());
            let mut v = json!({
                "id": t.id, "name": t.name, "to": state.status_json(&to),
                "hasScreen": t.resolution, "isGlobal": true, "isInitial": false, "isAvailable": true, "isConditional": false,
            });
            if expand_fields {
                v["fields"] = if t.resolution {
                    json!({"resolution": {"required": false, "name": "Resolution", "key": "resolution", "operations": ["set"]}})
                } else {
                    json!({})
                };
            }
            v
        })
        .collect();
    json_response(200, &json!({"expand": "transitions", "transitions": list}))
}

fn do_transition(state: &mut State, call: &Call<'_>, id: &str) -> ResponseTemplate {
    let Some(i) = state.issue_index(id) else {
        return not_found_issue();
    };
    let body = call.body.clone().unwrap_or(Value::Null);
    let tid = body
        .pointer("/transition/id")
        .and_then(Value::as_str)
        .unwrap_or("");
    let wf = state.workflow_of(&state.issues[i].issue_type);
    let Some(t) = wf
        .transitions
        .iter()
        .find(|t| t.id == tid && t.to != state.issues[i].status)
    else {
        return error(
            400,
            &[&format!(
                "Transition id '{tid}' is not valid for this issue."
            )],
            json!({}),
        );
    };
    let resolution = body
        .pointer("/fields/resolution/name")
        .and_then(Value::as_str);
    if resolution.is_some() && !t.resolution {
        return error(
            400,
            &[],
            json!({"resolution": "Field 'resolution' cannot be set. It is not on the appropriate screen, or unknown."}),
        );
    }
    let comments: Vec<Value> = body
        .pointer("/update/comment")
        .and_then(Value::as_array)
        .map(|ops| {
            ops.iter()
                .filter_map(|op| op.pointer("/add/body").cloned())
                .collect()
        })
        .unwrap_or_default();
    for c in &comments {
        if let Err(m) = rich_text_ok(state, c) {
            return error(400, &[], json!({"comment": m}));
        }
    }
    let to = wf.statuses.iter().find(|s| s.id == t.to).cloned();
    for body in comments {
        state.push_comment(i, body, false, None);
    }
    state.touch(i);
    let issue = &mut state.issues[i];
    issue.status = t.to.to_owned();
    issue.resolution = match to.map(|s| s.category) {
        Some("done") => Some(resolution.unwrap_or("Done").to_owned()),
        _ => None,
    };
    no_content()
}

/// The issues a query selects, in creation order; `Err` is the 400 Jira sends.
fn select(state: &State, jql_text: &str) -> Result<Vec<usize>, ResponseTemplate> {
    let q = jql::parse(jql_text).map_err(|m| error(400, &[&m], json!({})))?;
    if state.unfiltered {
        return Ok((0..state.issues.len()).collect());
    }
    for c in &q.clauses {
        if c.field == "key" {
            for k in &c.values {
                if state.issue_index(k).is_none() {
                    return Err(error(
                        400,
                        &[&format!(
                            "An issue with key '{k}' does not exist for field 'key'."
                        )],
                        json!({}),
                    ));
                }
            }
        }
    }
    let matches = |i: &IssueRow| {
        q.clauses.iter().all(|c| {
            c.values.iter().any(|v| match c.field.as_str() {
                jql::CUSTOM_FIELD => {
                    let stored = i.extra.get("customfield_10050").and_then(Value::as_str);
                    stored.is_some_and(|s| s.contains(&lucene_phrase(v)))
                }
                "labels" => i.labels.iter().any(|l| l == v),
                "key" => {
                    i.key.eq_ignore_ascii_case(v)
                        || i.previous_keys.iter().any(|k| k.eq_ignore_ascii_case(v))
                }
                "id" => i.id.to_string() == *v,
                "project" => i.project.eq_ignore_ascii_case(v),
                "issuetype" => i.issue_type.eq_ignore_ascii_case(v),
                "updated" => c.since_ms.is_some_and(|since| i.updated_ms >= since),
                _ => false,
            })
        })
    };
    let mut out: Vec<usize> = (0..state.issues.len())
        .filter(|&i| matches(&state.issues[i]))
        .collect();
    // `ORDER BY updated ASC, key ASC`: by update time, then project and number.
    if q.order.first().map(String::as_str) == Some("updated") {
        out.sort_by_cached_key(|&i| {
            let row = &state.issues[i];
            let (project, n) = row.key.rsplit_once('-').unwrap_or((&row.key, "0"));
            (
                row.updated_ms,
                project.to_owned(),
                n.parse::<u64>().unwrap_or(0),
            )
        });
    }
    Ok(out)
}

/// The text of a Lucene phrase (`"EXT\-1"` → `EXT-1`): quotes dropped, escapes undone.
fn lucene_phrase(v: &str) -> String {
    let inner = v
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(v);
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn search_jql(state: &mut State, call: &Call<'_>) -> ResponseTemplate {
    let body = call.body.clone().unwrap_or(Value::Null);
    let jql_text = body
        .get("jql")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    let size = body
        .get("maxResults")
        .and_then(Value::as_u64)
        .unwrap_or(50)
        .clamp(1, 5000) as usize;
    let start = match body.get("nextPageToken").and_then(Value::as_str) {
        None => 0,
        Some(t) => match state.search_tokens.get(t) {
            Some((q, at)) if *q == jql_text => *at,
            _ => {
                return error(
                    400,
                    &["The provided next page token is invalid or expired."],
                    json!({}),
                );
            }
        },
    };
    let selected = match select(state, &jql_text) {
        Ok(s) => s,
        Err(e) => return e,
    };
    let page: Vec<Value> = selected
        .iter()
        .skip(start)
        .take(size)
        .map(|&i| state.issue_json(&state.issues[i]))
        .collect();
    let end = start + page.len();
    let mut out = json!({"issues": page});
    if end < selected.len() {
        let t = token("npt");
        state.search_tokens.insert(t.clone(), (jql_text, end));
        out["nextPageToken"] = json!(t);
        out["isLast"] = json!(false);
    } else {
        // The last page has no `nextPageToken` at all (JRACLOUD-92184).
        out["isLast"] = json!(true);
    }
    json_response(200, &out)
}

fn search_offset(state: &mut State, call: &Call<'_>) -> ResponseTemplate {
    let body = call.body.clone().unwrap_or(Value::Null);
    let jql_text = body
        .get("jql")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    let size = body
        .get("maxResults")
        .and_then(Value::as_u64)
        .unwrap_or(50)
        .clamp(1, 1000) as usize;
    let start = body.get("startAt").and_then(Value::as_u64).unwrap_or(0) as usize;
    let selected = match select(state, &jql_text) {
        Ok(s) => s,
        Err(e) => return e,
    };
    let page: Vec<Value> = selected
        .iter()
        .skip(start)
        .take(size)
        .map(|&i| state.issue_json(&state.issues[i]))
        .collect();
    json_response(
        200,
        &json!({"expand": "schema,names", "startAt": start, "maxResults": size, "total": selected.len(), "issues": page}),
    )
}

fn jsm_create(state: &mut State, call: &Call<'_>) -> ResponseTemplate {
    let body = call.body.clone().unwrap_or(Value::Null);
    let s = |k: &str| body.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
    let desk = s("serviceDeskId");
    let Some(project) = state
        .service_desks
        .iter()
        .find(|(d, _)| *d == desk)
        .map(|(_, p)| p.clone())
    else {
        return json_response(
            404,
            &json!({"errorMessage": "The service desk does not exist.", "i18nErrorMessage": {"i18nKey": "sd.error.servicedesk.not.found", "parameters": []}}),
        );
    };
    let rt = s("requestTypeId");
    let Some(issue_type) = state
        .request_types
        .iter()
        .find(|(r, _, d)| *r == rt && *d == desk)
        .map(|(_, t, _)| t.clone())
    else {
        return json_response(
            400,
            &json!({"errorMessage": "The request type does not exist.", "i18nErrorMessage": {"i18nKey": "sd.error.requesttype.not.found", "parameters": []}}),
        );
    };
    let values = body
        .get("requestFieldValues")
        .cloned()
        .unwrap_or(Value::Null);
    let summary = values
        .get("summary")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    if summary.trim().is_empty() {
        return json_response(
            400,
            &json!({"errorMessage": "Summary: You must specify a summary of the issue.", "i18nErrorMessage": {"i18nKey": "sd.validation.field.required", "parameters": []}}),
        );
    }
    // JSM takes plain text in requestFieldValues on both deployments.
    let description = values.get("description").cloned().unwrap_or(Value::Null);
    if !(description.is_null() || description.is_string()) {
        return json_response(
            400,
            &json!({"errorMessage": "Description: the value must be text.", "i18nErrorMessage": {"i18nKey": "sd.validation.field.type", "parameters": []}}),
        );
    }
    let labels = match labels_of(values.get("labels")) {
        Ok(l) => l,
        Err(m) => {
            return json_response(
                400,
                &json!({"errorMessage": m, "i18nErrorMessage": {"i18nKey": "sd.validation", "parameters": []}}),
            );
        }
    };
    let reporter = match body.get("raiseOnBehalfOf").and_then(Value::as_str) {
        None => None,
        Some(who) => match state.user_index(who) {
            Some(u) => Some(u),
            None => {
                return json_response(
                    400,
                    &json!({"errorMessage": format!("The user '{who}' does not exist."), "i18nErrorMessage": {"i18nKey": "sd.error.user", "parameters": []}}),
                );
            }
        },
    };
    let i = state.new_issue(&project, &issue_type);
    let approvals = (issue_type == "Change").then(|| {
        vec![StoredApproval {
            id: "1".into(),
            name: "Change manager approval".into(),
            decision: "pending".into(),
        }]
    });
    let desc_value = match (state.mode, &description) {
        (Mode::Cloud, Value::String(t)) => {
            json!({"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [{"type": "text", "text": t}]}]})
        }
        _ => description.clone(),
    };
    let row = &mut state.issues[i];
    row.summary = summary;
    row.description = desc_value;
    row.labels = labels;
    row.reporter = reporter;
    row.approvals = Some(approvals.unwrap_or_default());
    // Cloud and Data Center keep the request type in the "Customer Request Type" field.
    row.extra.insert(
        super::REQUEST_TYPE_FIELD.into(),
        json!({"requestType": {"id": rt, "name": issue_type, "serviceDeskId": desk}}),
    );
    if let Some(values) = values.as_object() {
        for (k, v) in values {
            if k.starts_with("customfield_") {
                row.extra.insert(k.clone(), v.clone());
            }
        }
    }
    let (id, key) = (row.id, row.key.clone());
    let status = state.status_def(&state.issues[i]);
    json_response(
        201,
        &json!({
            "issueId": id.to_string(), "issueKey": key, "requestTypeId": rt, "serviceDeskId": desk,
            "currentStatus": {"status": status.name, "statusCategory": status.category.to_ascii_uppercase()},
        }),
    )
}

fn jsm_approvals(state: &mut State, call: &Call<'_>, key: &str) -> ResponseTemplate {
    let Some(i) = state.issue_index(key) else {
        return json_response(
            404,
            &json!({"errorMessage": "The request does not exist.", "i18nErrorMessage": {"i18nKey": "sd.request.not.found", "parameters": []}}),
        );
    };
    let Some(approvals) = &state.issues[i].approvals else {
        return json_response(
            404,
            &json!({"errorMessage": "This issue is not a customer request.", "i18nErrorMessage": {"i18nKey": "sd.request.not.request", "parameters": []}}),
        );
    };
    let start = call.num("start", 0);
    let limit = call.num("limit", 50).clamp(1, 50);
    let values: Vec<Value> = approvals
        .iter()
        .skip(start)
        .take(limit)
        .map(|a| json!({
            "id": a.id, "name": a.name, "finalDecision": a.decision, "canAnswerApproval": true,
            "approvers": [{"approver": {"accountId": "5b10ac8d82e05b22cc7d0000", "displayName": "Jane Doe"}, "approverDecision": a.decision}],
            "createdDate": {"iso8601": "2024-05-02T09:14:11+0000", "epochMillis": 1_714_641_251_000_u64},
        }))
        .collect();
    let last = start + values.len() >= approvals.len();
    json_response(
        200,
        &json!({"size": values.len(), "start": start, "limit": limit, "isLastPage": last, "values": values}),
    )
}

/// A group's JSON.
pub(crate) fn group_json(g: &GroupRow, mode: Mode) -> Value {
    match mode {
        Mode::Cloud => json!({"name": g.name, "groupId": g.id}),
        Mode::DataCenter => json!({"name": g.name}),
    }
}
