//! The mock over HTTP, held to the exchanges recorded in `shared/glpi/REST.md` and
//! re-checked on the real GLPI 10.0.11, plus generated users, faults, the conformance
//! backends and the differential script.

mod auth;
mod extra;
mod items;
mod search;

use base64::Engine as _;
use reqwest::Method;
use serde_json::Value;

use super::GlpiMock;

/// One answer: status, headers, JSON body.
#[derive(Debug)]
pub(super) struct Answer {
    pub(super) status: u16,
    pub(super) headers: reqwest::header::HeaderMap,
    pub(super) body: Value,
}

impl Answer {
    pub(super) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub(super) fn code(&self) -> &str {
        self.body[0].as_str().unwrap_or("")
    }
}

/// A client holding the App-Token and, after [`Api::login`], a session.
pub(super) struct Api {
    base: String,
    pub(super) app: Option<String>,
    pub(super) session: Option<String>,
    client: reqwest::Client,
}

impl Api {
    pub(super) fn new(mock: &GlpiMock) -> Api {
        Api {
            base: mock.base_url(),
            app: Some(mock.app_token()),
            session: None,
            client: reqwest::Client::builder().no_proxy().build().unwrap(),
        }
    }

    pub(super) async fn login(mock: &GlpiMock) -> Api {
        let mut api = Api::new(mock);
        let auth = format!("user_token {}", mock.user_token());
        let answer = api
            .call(
                Method::GET,
                "/initSession",
                None,
                &[("Authorization", &auth)],
            )
            .await;
        assert_eq!(answer.status, 200, "{answer:?}");
        api.session = Some(answer.body["session_token"].as_str().unwrap().to_owned());
        api
    }

    pub(super) async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        extra: &[(&str, &str)],
    ) -> Answer {
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if let Some(app) = &self.app {
            request = request.header("App-Token", app);
        }
        if let Some(session) = &self.session {
            request = request.header("Session-Token", session);
        }
        for (k, v) in extra {
            request = request.header(*k, *v);
        }
        if let Some(body) = body {
            request = request
                .header("Content-Type", "application/json")
                .body(body.to_string());
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Answer {
            status,
            headers,
            body,
        }
    }

    pub(super) async fn get(&self, path: &str) -> Answer {
        self.call(Method::GET, path, None, &[]).await
    }

    pub(super) async fn post(&self, path: &str, body: Value) -> Answer {
        self.call(Method::POST, path, Some(&body), &[]).await
    }

    pub(super) async fn put(&self, path: &str, body: Value) -> Answer {
        self.call(Method::PUT, path, Some(&body), &[]).await
    }

    pub(super) async fn delete(&self, path: &str) -> Answer {
        self.call(Method::DELETE, path, None, &[]).await
    }
}

pub(super) fn basic(login: &str, password: &str) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{login}:{password}"));
    format!("Basic {encoded}")
}
