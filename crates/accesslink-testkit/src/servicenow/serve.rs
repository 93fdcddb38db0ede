//! Answering one request: log it, consult the fault plan, then the token endpoint or the
//! rate limit, auth and the Table API routes.

use std::sync::Arc;

use serde_json::Value;
use wiremock::{Request, Respond, ResponseTemplate};

use super::write::Failure;
use super::{Shared, SnRequest, lock, routes};

/// The wiremock responder of every request.
pub(super) struct Responder(pub(super) Arc<Shared>);

impl Respond for Responder {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let shared = &self.0;
        lock(&shared.log).push(logged(request));
        let normal = || shared.route(request);
        let answer = match shared.faults.take(request) {
            Some(action) => action.apply(normal),
            None => normal(),
        };
        let list = request.method.as_str() == "GET"
            && routes::parse_path(request.url.path()).is_some_and(|(_, id)| id.is_none());
        match shared.page_delay {
            Some(delay) if list => answer.set_delay(delay),
            _ => answer,
        }
    }
}

/// What the request log keeps of a request.
fn logged(request: &Request) -> SnRequest {
    let path = request.url.path().to_owned();
    let body = (path != "/oauth_token.do")
        .then(|| serde_json::from_slice::<Value>(&request.body).ok())
        .flatten();
    let authorization = request
        .headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_whitespace().next())
        .map(str::to_owned);
    SnRequest {
        method: request.method.as_str().to_ascii_uppercase(),
        path,
        query: routes::query_pairs(request),
        body,
        authorization,
    }
}

impl Shared {
    /// The normal answer (no fault).
    fn route(&self, request: &Request) -> ResponseTemplate {
        let path = request.url.path();
        if path == "/oauth_token.do" {
            if request.method.as_str() != "POST" {
                let f = Failure::new(405, "Method not Supported", Value::Null);
                return routes::failure(&f);
            }
            return self.auth.token(request);
        }
        if let Some(rate) = &self.rate {
            if let Some(answer) = rate.refusal() {
                return answer;
            }
        }
        if let Err(f) = self.auth.check(request) {
            return routes::failure(&f)
                .insert_header("www-authenticate", "BASIC realm=\"Service-now\"");
        }
        match routes::parse_path(path) {
            Some((table, id)) => {
                let mut state = lock(&self.state);
                routes::answer(&mut state, request, &table, id.as_deref(), self.page_limit)
            }
            None => routes::failure(&Failure::new(
                400,
                "Requested URI does not represent any resource",
                Value::Null,
            )),
        }
    }
}
