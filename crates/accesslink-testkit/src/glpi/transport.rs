//! HTTP in and out, as `APIRest.php` does it: where parameters come from (query string,
//! JSON or form body, headers), the error array `["ERROR_…", message]` and the headers of
//! every answer.

use serde_json::{Map, Value};
use wiremock::{Request, ResponseTemplate};

use super::php;

/// Path of the API under the server root.
pub(super) const API_PATH: &str = "/apirest.php";
/// `Accept-Range` bound: PHP's `max_input_vars` (`Toolbox::get_max_input_vars`).
pub(super) const MAX_INPUT_VARS: usize = 1000;

/// An error answer: `[code, message]` with a status. `doc` appends GLPI's
/// `; view documentation in your browser at <api>/#<code>`.
#[derive(Debug, Clone)]
pub(super) struct Failure {
    pub(super) status: u16,
    pub(super) code: &'static str,
    pub(super) message: Value,
    pub(super) doc: bool,
}

impl Failure {
    /// An error whose message gets the documentation suffix.
    pub(super) fn doc(status: u16, code: &'static str, message: &str) -> Failure {
        Failure {
            status,
            code,
            message: message.into(),
            doc: true,
        }
    }

    /// An error whose message is sent as is (a string, `null` or a result array).
    pub(super) fn bare(status: u16, code: &'static str, message: impl Into<Value>) -> Failure {
        Failure {
            status,
            code,
            message: message.into(),
            doc: false,
        }
    }

    /// `ERROR_ITEM_NOT_FOUND` (404).
    pub(super) fn not_found() -> Failure {
        Failure::bare(404, "ERROR_ITEM_NOT_FOUND", "Item not found")
    }

    /// `ERROR_RIGHT_MISSING` (403 since GLPI 10).
    pub(super) fn right() -> Failure {
        Failure::bare(403, "ERROR_RIGHT_MISSING", super::write::DENIED)
    }

    /// `ERROR_RESOURCE_NOT_FOUND_NOR_COMMONDBTM` (400).
    pub(super) fn no_resource() -> Failure {
        Failure::doc(
            400,
            "ERROR_RESOURCE_NOT_FOUND_NOR_COMMONDBTM",
            "resource not found or not an instance of CommonDBTM",
        )
    }

    /// `ERROR_BAD_ARRAY` (400).
    pub(super) fn bad_array() -> Failure {
        Failure::doc(
            400,
            "ERROR_BAD_ARRAY",
            "input parameter must be an array of objects",
        )
    }

    /// The generic `ERROR` (400) GLPI uses for bad parameters.
    pub(super) fn generic(message: &str) -> Failure {
        Failure::doc(400, "ERROR", message)
    }

    /// The answer, naming the API as `api`.
    pub(super) fn respond(&self, api: &str) -> ResponseTemplate {
        let message = match (&self.message, self.doc) {
            (Value::String(m), true) => Value::String(format!(
                "{m}; view documentation in your browser at {api}/#{}",
                self.code
            )),
            (m, _) => m.clone(),
        };
        json(self.status, &Value::Array(vec![self.code.into(), message]))
    }
}

/// A JSON answer as GLPI sends it (`application/json; charset=UTF-8`).
pub(super) fn json(status: u16, body: &Value) -> ResponseTemplate {
    // JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE: serde_json's defaults.
    let text = serde_json::to_string(body).unwrap_or_default();
    ResponseTemplate::new(status).set_body_raw(text, "application/json; charset=UTF-8")
}

/// One parsed request.
#[derive(Debug)]
pub(super) struct Call {
    /// Upper-case method.
    pub(super) method: String,
    /// Path elements after `/apirest.php/`, decoded (`explode('/', trim($path, '/'))`).
    pub(super) elements: Vec<String>,
    /// Query string, then body parameters over them, then the tokens from headers.
    pub(super) params: Map<String, Value>,
    /// `X-GLPI-Sanitized-Content` (default true): false decodes `&#60;` etc. in answers.
    pub(super) sanitized: bool,
}

impl Call {
    /// Parses a request under [`API_PATH`]; `Ok(None)` for other paths. Errors are those
    /// `parseIncomingParams` raises before any token is checked.
    pub(super) fn parse(request: &Request) -> Result<Option<Call>, Failure> {
        let Some(rest) = request.url.path().strip_prefix(API_PATH) else {
            return Ok(None);
        };
        if !(rest.is_empty() || rest.starts_with('/')) {
            return Ok(None);
        }
        let elements = percent_decode(rest.trim_matches('/'))
            .split('/')
            .map(str::to_owned)
            .collect::<Vec<_>>();
        let method = request.method.as_str().to_ascii_uppercase();
        let mut params = php::parse_query(request.url.query().unwrap_or(""));
        let header = |name: &str| {
            request
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let body = String::from_utf8_lossy(&request.body);
        let body = body.trim();
        if !body.is_empty() && method == "GET" {
            return Err(Failure::doc(
                400,
                "ERROR_JSON_PAYLOAD_FORBIDDEN",
                "GET Request should not have json payload (http body)",
            ));
        }
        let inline_doc = elements[0].is_empty() || elements[0] == "api";
        let content_type = header("content-type")
            .unwrap_or_else(|| if inline_doc { "" } else { "application/json" }.into());
        if content_type.contains("application/json") {
            match serde_json::from_str::<Value>(body) {
                Ok(Value::Object(map)) => params.extend(map),
                Ok(Value::Array(items)) if !items.is_empty() => {
                    params.extend(
                        items
                            .into_iter()
                            .enumerate()
                            .map(|(i, v)| (i.to_string(), v)),
                    );
                }
                // `if ($body_params = json_decode($body))`: falsy documents count as invalid.
                _ if !body.is_empty() => {
                    return Err(Failure::bare(
                        400,
                        "ERROR_JSON_PAYLOAD_INVALID",
                        "JSON payload seems not valid",
                    ));
                }
                _ => {}
            }
        } else if content_type.contains("application/x-www-form-urlencoded") {
            params.extend(php::parse_query(body));
        }
        if let Some((login, password)) = crate::tokens::TokenStore::basic_of(request) {
            params.insert("login".into(), login.into());
            params.insert("password".into(), password.into());
        }
        if let Some(auth) = header("authorization").filter(|a| a.contains("user_token")) {
            if let Some(token) = auth.split(' ').nth(1) {
                params.insert("user_token".into(), token.into());
            }
        }
        if let Some(token) = header("session-token") {
            params.insert("session_token".into(), token.into());
        }
        if let Some(token) = header("app-token") {
            params.insert("app_token".into(), token.into());
        }
        for value in params.values_mut() {
            match value.as_str() {
                Some("true") => *value = Value::Bool(true),
                Some("false") => *value = Value::Bool(false),
                _ => {}
            }
        }
        let sanitized =
            header("x-glpi-sanitized-content").is_none_or(|v| php::filter_bool(&Value::String(v)));
        Ok(Some(Call {
            method,
            elements,
            params,
            sanitized,
        }))
    }

    /// The first path element (`initSession`, `Ticket`, `search`, …).
    pub(super) fn resource(&self) -> &str {
        self.elements[0].trim()
    }

    /// A parameter, if present.
    pub(super) fn param(&self, name: &str) -> Option<&Value> {
        self.params.get(name)
    }

    /// A scalar parameter as text, if present and non-empty.
    pub(super) fn text(&self, name: &str) -> Option<String> {
        self.param(name)
            .and_then(php::scalar)
            .filter(|s| !s.is_empty())
    }

    /// A PHP-truthy parameter, or `default` when absent.
    pub(super) fn flag(&self, name: &str, default: bool) -> bool {
        self.param(name).map_or(default, php::truthy)
    }

    /// The label this request is counted under in [`crate::counter::RouteCounter`].
    pub(super) fn label(&self) -> String {
        let resource = self.resource();
        let second = self.elements.get(1).map_or("", String::as_str);
        match resource {
            "" | "api" => "doc".into(),
            "search" => format!("searchItems:{second}"),
            "listSearchOptions" => format!("listSearchOptions:{second}"),
            r if r.starts_with(|c: char| c.is_ascii_lowercase()) => r.to_owned(),
            itemtype => {
                let id = numeric(second);
                let child = self.elements.get(2).filter(|c| !c.is_empty());
                let target = match child {
                    Some(child) => format!("{itemtype}/{child}"),
                    None => itemtype.to_owned(),
                };
                let op = match self.method.as_str() {
                    "POST" => "createItems",
                    "PUT" | "PATCH" => "updateItems",
                    "DELETE" => "deleteItems",
                    _ => {
                        let item_id = match child {
                            Some(_) => self.elements.get(3).and_then(|e| numeric(e)),
                            None => id,
                        };
                        let entity_root = itemtype == "Entity" && item_id == Some(0);
                        if item_id.is_some_and(|i| i > 0) || entity_root {
                            "getItem"
                        } else {
                            "getItems"
                        }
                    }
                };
                format!("{op}:{target}")
            }
        }
    }
}

/// PHP `is_numeric` + `intval` for a path element (digits, optional sign).
pub(super) fn numeric(element: &str) -> Option<i64> {
    let digits = element.strip_prefix('-').unwrap_or(element);
    let ok = !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit());
    ok.then(|| php::intval(element))
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(h), Some(l)) if hex(*h).is_some() && hex(*l).is_some() => {
                let value = hex(*h).unwrap_or(0) * 16 + hex(*l).unwrap_or(0);
                out.push(value as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
