//! The HTTP side: `Kernel/GenericInterface/Provider.pm` (which web service) and
//! `Transport/HTTP/REST.pm` (which operation, what data, what the response looks like).

use serde_json::{Map, Value};
use wiremock::{Request, ResponseTemplate};

use super::perl::{Data, truthy};
use crate::fault::{FAULT_DROP, FAULT_HEADER};

/// Name of the standard web service (`GenericTicketConnectorREST.yml`, WebserviceID 1).
pub(super) const STANDARD: &str = "GenericTicketConnectorREST";
/// Name of the second web service (`AccessRequestConnectorREST.yml`, WebserviceID 2).
pub(super) const ACCESS_REQUEST: &str = "AccessRequestConnectorREST";

/// The two web services `setup.sh` imports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Service {
    Standard,
    AccessRequest,
}

/// `(operation, method, route)`, in the sorted order REST.pm tries them.
type Route = (&'static str, &'static str, &'static str);

const ROUTES: [Route; 8] = [
    ("SessionCreate", "POST", "/Session"),
    ("SessionGet", "GET", "/Session/:SessionID"),
    ("TicketCreate", "POST", "/Ticket"),
    ("TicketGet", "GET", "/Ticket/:TicketID"),
    ("TicketGetList", "GET", "/TicketList"),
    ("TicketHistoryGet", "GET", "/TicketHistory/:TicketID"),
    ("TicketSearch", "GET", "/Ticket"),
    ("TicketUpdate", "PATCH", "/Ticket/:TicketID"),
];
const SEARCH_POST: Route = ("TicketSearchPost", "POST", "/TicketSearch");

impl Service {
    /// `KeepAlive` of the transport config: `''` for the standard service, `'1'` for ours.
    pub(super) fn keep_alive(self) -> bool {
        self == Service::AccessRequest
    }

    /// The operation for a method and route, with the route's `:Param` values (still
    /// URL-encoded).
    pub(super) fn operation(self, method: &str, uri: &str) -> Option<(&'static str, Data)> {
        let extra = (self == Service::AccessRequest).then_some(SEARCH_POST);
        let mut routes: Vec<Route> = ROUTES.iter().copied().chain(extra).collect();
        routes.sort_by_key(|r| r.0);
        routes
            .into_iter()
            .filter(|(_, m, _)| *m == method)
            .find_map(|(op, _, route)| Some((op, match_route(route, uri)?)))
    }
}

/// `^/Ticket/(?<TicketID>[^/]+)$`-style matching; placeholder values are URL-decoded.
fn match_route(route: &str, uri: &str) -> Option<Data> {
    let (want, got): (Vec<&str>, Vec<&str>) =
        (route.split('/').collect(), uri.split('/').collect());
    if want.len() != got.len() {
        return None;
    }
    let mut params = Map::new();
    for (w, g) in want.iter().zip(&got) {
        match w.strip_prefix(':') {
            Some(name) if !g.is_empty() => {
                params.insert(name.to_owned(), Value::String(unescape(g)));
            }
            Some(_) => return None,
            None if w == g => {}
            None => return None,
        }
    }
    Some(params)
}

/// Where a request went.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Target {
    /// Not `/<prefix>/nph-genericinterface.pl/…` at all: Apache's 404.
    NotFound,
    /// A web service name or id that does not exist: no response at all.
    UnknownService,
    /// A known service and the route after its name.
    Service(Service, String),
}

/// Finds the web service like Provider.pm (`Webservice/<Name>` URL-decoded, or
/// `WebserviceID/<n>`) under one of the served prefixes.
pub(super) fn locate(path: &str, prefixes: &[String]) -> Target {
    let Some(rest) = prefixes.iter().find_map(|p| {
        let head = format!("/{p}/nph-genericinterface.pl/");
        path.strip_prefix(head.as_str())
    }) else {
        return Target::NotFound;
    };
    let (service, after) = if let Some(named) = rest.strip_prefix("Webservice/") {
        let (name, after) = named.split_once('/').map_or((named, ""), |(n, a)| (n, a));
        let service = match unescape(name).as_str() {
            STANDARD => Service::Standard,
            ACCESS_REQUEST => Service::AccessRequest,
            _ => return Target::UnknownService,
        };
        (service, after)
    } else if let Some(by_id) = rest.strip_prefix("WebserviceID/") {
        let (id, after) = by_id.split_once('/').map_or((by_id, ""), |(n, a)| (n, a));
        let service = match id {
            "1" => Service::Standard,
            "2" => Service::AccessRequest,
            _ => return Target::UnknownService,
        };
        (service, after)
    } else {
        return Target::UnknownService;
    };
    // REST.pm cuts the URI after the service name only when a `/route` follows; without
    // one the whole path is what it fails to route.
    let route = if after.is_empty() && !rest.ends_with('/') {
        path.to_owned()
    } else {
        format!("/{after}")
    };
    Target::Service(service, route)
}

/// A failure before any operation runs: HTTP 500 (or another code) with a plain-text body.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum TransportError {
    Status(u16, String),
    /// The request kills the script (multipart bodies): no response at all.
    Drop,
}

/// The data REST.pm hands the operation: the JSON body (not for GET, and only with a
/// `Content-Length`) with the query string and route parameters laid over it, and the
/// `X-OTRS-Header-*` headers over those.
pub(super) fn request_data(request: &Request, route_params: Data) -> Result<Data, TransportError> {
    let mut uri_data = query_params(request.url.query().unwrap_or(""));
    uri_data.extend(route_params);
    for (header, key) in [
        ("x-otrs-header-customeruserlogin", "CustomerUserLogin"),
        ("x-otrs-header-password", "Password"),
        ("x-otrs-header-sessionid", "SessionID"),
        ("x-otrs-header-userlogin", "UserLogin"),
    ] {
        let value = request.headers.get(header).and_then(|v| v.to_str().ok());
        if let Some(value) = value.filter(|v| !v.is_empty()) {
            uri_data.insert(key.to_owned(), Value::String(value.to_owned()));
        }
    }
    let method = request.method.as_str();
    let length = request.headers.get(http::header::CONTENT_LENGTH);
    let has_length = length
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim() != "0" && !v.trim().is_empty());
    if method == "GET" || !has_length {
        uri_data.insert("RequestMethod".to_owned(), Value::String(method.to_owned()));
        return Ok(uri_data);
    }
    let content_type = request
        .headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    // CGI.pm swallows form bodies, so nothing is left to read; multipart ones kill the
    // script before it answers (REST.md, quirk 3).
    if content_type.starts_with("application/x-www-form-urlencoded") {
        return Err(TransportError::Status(
            500,
            "Could not read input data".into(),
        ));
    }
    if content_type.starts_with("multipart/form-data") {
        return Err(TransportError::Drop);
    }
    let body = request
        .body
        .strip_prefix(b"\xef\xbb\xbf")
        .unwrap_or(&request.body);
    let text = if content_type.contains("iso-8859-1") || content_type.contains("latin1") {
        body.iter().map(|b| char::from(*b)).collect()
    } else {
        String::from_utf8_lossy(body).into_owned()
    };
    let decoding = || TransportError::Status(500, "Error while decoding request content.".into());
    let decoded = serde_json::from_str::<Value>(&text).map_err(|_| decoding())?;
    let decoded = booleans_to_numbers(decoded);
    if !truthy(Some(&decoded)) {
        return Err(decoding());
    }
    match decoded {
        Value::Object(mut data) if !data.is_empty() => {
            data.extend(uri_data);
            Ok(data)
        }
        // A JSON array reaches the operations as a list of requests, which they cannot
        // handle; the mock refuses it at the transport like other structures.
        _ => Err(TransportError::Status(
            500,
            "Unsupported request content structure.".into(),
        )),
    }
}

/// Kernel::System::JSON decodes `true`/`false` as 1/0.
fn booleans_to_numbers(value: Value) -> Value {
    match value {
        Value::Bool(b) => Value::from(u8::from(b)),
        Value::Array(items) => Value::Array(items.into_iter().map(booleans_to_numbers).collect()),
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (k, booleans_to_numbers(v)))
                .collect(),
        ),
        other => other,
    }
}

/// REST.pm's own query parser: pairs split on `&` or `;`, `+` is a space in values only,
/// a repeated key becomes a list, and `split '='` keeps only the text up to a second `=`.
/// The first value of a key goes through `$Value || ''`, so a lone `0` becomes `""`.
pub(super) fn query_params(query: &str) -> Data {
    let mut params = Map::new();
    for pair in query.split(['&', ';']).filter(|p| !p.is_empty()) {
        let mut parts = pair.split('=');
        let key = unescape(parts.next().unwrap_or(""));
        let value = unescape(&parts.next().unwrap_or("").replace('+', "%20"));
        match params.get_mut(&key) {
            None => {
                let first = if value == "0" { String::new() } else { value };
                params.insert(key, Value::String(first));
            }
            Some(Value::Array(list)) => list.push(Value::String(value)),
            Some(first) => *first = Value::Array(vec![first.take(), Value::String(value)]),
        }
    }
    params
}

/// `URI::Escape::uri_unescape` followed by a UTF-8 decode.
fn unescape(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `_Output`: 200 is `application/json`, anything else `text/plain`, both with
/// `charset=UTF-8`; `Connection` follows the service's `KeepAlive`.
pub(super) fn output(status: u16, body: String, keep_alive: bool) -> ResponseTemplate {
    let content_type = if status == 200 {
        "application/json; charset=UTF-8"
    } else {
        "text/plain; charset=UTF-8"
    };
    ResponseTemplate::new(status)
        .set_body_raw(body, content_type)
        .insert_header(
            "connection",
            if keep_alive { "Keep-Alive" } else { "close" },
        )
}

/// What the real server does for an unknown web service: the provider returns without
/// printing anything and the client sees the connection close. wiremock cannot close a
/// connection, so this is an empty `500` that a [`crate::proxy::FaultProxy`] in front of the
/// mock turns into a dropped connection.
pub(super) fn no_response() -> ResponseTemplate {
    ResponseTemplate::new(500).insert_header(FAULT_HEADER, FAULT_DROP)
}

/// Apache's 404 for a path outside the GenericInterface.
pub(super) fn not_found() -> ResponseTemplate {
    ResponseTemplate::new(404).set_body_raw(
        "<!DOCTYPE HTML PUBLIC \"-//IETF//DTD HTML 2.0//EN\">\n<html><head>\n\
         <title>404 Not Found</title>\n</head><body>\n<h1>Not Found</h1>\n</body></html>\n",
        "text/html; charset=iso-8859-1",
    )
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn query_strings_parse_like_rest_pm() {
        let q = query_params("States=new&States=open;Title=a+b%2Bc&Limit=0&X=1=2&Flag");
        assert_eq!(q["States"], json!(["new", "open"]));
        assert_eq!(q["Title"], json!("a b+c"));
        assert_eq!(q["Limit"], json!(""));
        assert_eq!(q["X"], json!("1"));
        assert_eq!(q["Flag"], json!(""));
    }

    #[test]
    fn services_and_routes() {
        let prefixes = ["znuny".to_owned(), "otrs".to_owned()];
        let base = "/znuny/nph-genericinterface.pl/Webservice/";
        assert_eq!(
            locate(
                &format!("{base}GenericTicketConnectorREST/Ticket/2"),
                &prefixes
            ),
            Target::Service(Service::Standard, "/Ticket/2".into())
        );
        assert_eq!(
            locate(
                "/otrs/nph-genericinterface.pl/WebserviceID/2/TicketSearch",
                &prefixes
            ),
            Target::Service(Service::AccessRequest, "/TicketSearch".into())
        );
        assert_eq!(
            locate(&format!("{base}Nope/Ticket"), &prefixes),
            Target::UnknownService
        );
        assert_eq!(locate("/other/x", &prefixes), Target::NotFound);

        let op = |s: Service, m: &str, u: &str| s.operation(m, u).map(|(op, _)| op);
        assert_eq!(
            op(Service::Standard, "GET", "/Ticket"),
            Some("TicketSearch")
        );
        assert_eq!(
            op(Service::Standard, "GET", "/Ticket/2,3"),
            Some("TicketGet")
        );
        assert_eq!(op(Service::Standard, "DELETE", "/Ticket/2"), None);
        assert_eq!(op(Service::Standard, "POST", "/TicketSearch"), None);
        assert_eq!(
            op(Service::AccessRequest, "POST", "/TicketSearch"),
            Some("TicketSearchPost")
        );
        let (_, params) = Service::Standard.operation("GET", "/Ticket/a%20b").unwrap();
        assert_eq!(params["TicketID"], json!("a b"));
    }
}
