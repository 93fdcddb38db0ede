//! [`Mock`], the one interface of every vendor mock, and the request records it exposes.

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use serde_json::Value;

use crate::fault::FaultPlan;
use crate::proxy::FaultProxy;

/// What every stateful vendor mock offers, so a test, the conformance suite or a tool can
/// drive any of them without knowing which one it holds.
///
/// Object-safe: hold mocks as `Box<dyn Mock>` or pass `&dyn Mock`. Each mock keeps its own
/// inherent methods (seeding data, reading its state); this trait is only the common part.
///
/// ```
/// use accesslink_testkit::Mock;
///
/// fn describe(mock: &dyn Mock) -> String {
///     format!("{} at {} ({} requests so far)", mock.target(), mock.url(), mock.request_count())
/// }
/// ```
pub trait Mock: Send + Sync + fmt::Debug {
    /// The target name, as a connector's `ConnectorInfo::target` and the `target` key of
    /// [`Mock::settings`] spell it (`"otrs"`, `"glpi"`, `"servicenow"`, `"opsramp"`,
    /// `"opsgenie"`).
    fn target(&self) -> &'static str;

    /// The base URL a connector should be built with: the full API root it expects (the
    /// web-service URL for OTRS, `…/apirest.php` for GLPI), through the fault proxy when the
    /// mock runs with one.
    fn url(&self) -> String;

    /// Connector settings that work against this mock, as JSON with inline secrets:
    /// `{"target": …, "name": "<target>-mock", "base_url": …, "auth": {"method": …, …}, …}`.
    /// Each implementation lists the keys it uses.
    fn settings(&self) -> Value;

    /// The fault plan the mock applies to every request before its normal logic.
    fn faults(&self) -> &FaultPlan;

    /// The socket-level fault proxy in front of the mock, when it was started with one.
    fn proxy(&self) -> Option<&FaultProxy>;

    /// How many requests the mock has received (faulted ones included).
    fn request_count(&self) -> usize;

    /// Every request the mock has received, in order (faulted ones included).
    fn request_log(&self) -> Vec<RecordedRequest>;

    /// Invalidates the sessions or tokens the mock has issued, as a server restart or an
    /// expiry does, so the connector's next request must sign in again. Mocks whose
    /// credentials cannot expire say what they do instead.
    fn expire_credentials(&self);
}

/// One request a mock received, as much as tests compare across targets.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RecordedRequest {
    /// The method, upper case (`"GET"`).
    pub method: String,
    /// The URL path (`/api/now/table/incident`).
    pub path: String,
    /// The raw query string, without `?`, when there was one.
    pub query: Option<String>,
    /// Whether the request carried a credential: an `Authorization`, `Session-Token` or
    /// `GenieKey`-style header, or an OTRS `SessionID` / `UserLogin` + `Password` in the
    /// query or JSON body. Only whether, never the value.
    pub credential: bool,
}

impl RecordedRequest {
    /// A record of a wiremock request.
    pub(crate) fn of(request: &wiremock::Request) -> RecordedRequest {
        let header = |name: &str| request.headers.contains_key(name);
        let query = request.url.query().map(str::to_owned);
        let in_query = request
            .url
            .query_pairs()
            .any(|(k, _)| k == "SessionID" || k == "Password");
        let in_body = || {
            let Ok(Value::Object(body)) = serde_json::from_slice::<Value>(&request.body) else {
                return false;
            };
            body.contains_key("SessionID") || body.contains_key("Password")
        };
        RecordedRequest {
            method: request.method.as_str().to_ascii_uppercase(),
            path: request.url.path().to_owned(),
            query,
            credential: header("authorization") || header("session-token") || in_query || in_body(),
        }
    }
}

/// One request a mock received, whole: method, URL (query included), headers and body,
/// for tests that check what the server was sent.
///
/// `Debug` shows header names only, so an `Authorization` value never lands in a test log.
#[derive(Clone)]
#[non_exhaustive]
pub struct ReceivedRequest {
    /// The full URL, query string included.
    pub url: url::Url,
    /// The method.
    pub method: http::Method,
    /// The headers, as sent.
    pub headers: http::HeaderMap,
    /// The body, as sent.
    pub body: Vec<u8>,
}

impl ReceivedRequest {
    /// The body parsed as JSON.
    ///
    /// # Errors
    ///
    /// When the body is not JSON of type `T`.
    pub fn body_json<T: serde::de::DeserializeOwned>(&self) -> serde_json::Result<T> {
        serde_json::from_slice(&self.body)
    }

    /// A copy of a wiremock request.
    pub(crate) fn of(request: wiremock::Request) -> ReceivedRequest {
        ReceivedRequest {
            url: request.url,
            method: request.method,
            headers: request.headers,
            body: request.body,
        }
    }

    /// Every request `server` received, in order.
    pub(crate) async fn all(server: &wiremock::MockServer) -> Vec<ReceivedRequest> {
        let received = server.received_requests().await.unwrap_or_default();
        received.into_iter().map(ReceivedRequest::of).collect()
    }
}

impl fmt::Debug for ReceivedRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.headers.keys().map(|k| k.as_str()).collect();
        f.debug_struct("ReceivedRequest")
            .field("method", &self.method)
            .field("url", &self.url.as_str())
            .field("headers", &names)
            .field("body", &format_args!("{} bytes", self.body.len()))
            .finish()
    }
}

/// The request log a mock's responder appends to; cheap to clone (clones share the log).
#[derive(Debug, Clone, Default)]
pub struct RequestLog {
    inner: Arc<Mutex<Vec<RecordedRequest>>>,
}

impl RequestLog {
    /// An empty log.
    pub fn new() -> RequestLog {
        RequestLog::default()
    }

    /// Appends a record of `request`.
    pub(crate) fn record(&self, request: &wiremock::Request) {
        self.lock().push(RecordedRequest::of(request));
    }

    /// Appends a record.
    pub fn push(&self, request: RecordedRequest) {
        self.lock().push(request);
    }

    /// Every record, in order.
    pub fn all(&self) -> Vec<RecordedRequest> {
        self.lock().clone()
    }

    /// How many requests were recorded.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    fn lock(&self) -> MutexGuard<'_, Vec<RecordedRequest>> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(method: &str, url: &str, headers: &[(&str, &str)], body: &str) -> RecordedRequest {
        let mut map = http::HeaderMap::new();
        for (k, v) in headers {
            map.insert(
                http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                http::HeaderValue::from_str(v).unwrap(),
            );
        }
        let request = wiremock::Request {
            url: url::Url::parse(url).unwrap(),
            method: method.parse().unwrap(),
            headers: map,
            body: body.as_bytes().to_vec(),
        };
        RecordedRequest::of(&request)
    }

    #[test]
    fn credentials_are_noticed_in_headers_query_and_body_but_not_kept() {
        let r = request(
            "get",
            "http://h/api/now/table/incident?sysparm_limit=1",
            &[("Authorization", "Basic YTpi")],
            "",
        );
        assert_eq!(r.method, "GET");
        assert_eq!(r.path, "/api/now/table/incident");
        assert_eq!(r.query.as_deref(), Some("sysparm_limit=1"));
        assert!(r.credential);
        assert!(!format!("{r:?}").contains("YTpi"));

        let glpi = request(
            "GET",
            "http://h/apirest.php/User",
            &[("Session-Token", "s")],
            "",
        );
        assert!(glpi.credential);
        let otrs_query = request("GET", "http://h/Ticket/1?SessionID=abc", &[], "");
        assert!(otrs_query.credential);
        let otrs_login = request(
            "POST",
            "http://h/Session",
            &[],
            r#"{"UserLogin":"a","Password":"b"}"#,
        );
        assert!(otrs_login.credential);
        let anonymous = request("GET", "http://h/Ticket/1", &[], r#"{"Title":"x"}"#);
        assert!(!anonymous.credential);
        assert_eq!(anonymous.query, None);
    }

    #[test]
    fn the_log_is_shared_between_clones() {
        let log = RequestLog::new();
        let clone = log.clone();
        clone.push(request("GET", "http://h/x", &[], ""));
        assert_eq!(log.len(), 1);
        assert!(!log.is_empty());
        assert_eq!(log.all()[0].path, "/x");
    }
}

/// Every mock of the enabled features, driven only through [`Mock`].
#[cfg(test)]
mod every_mock {
    use super::*;

    /// One mock of each enabled target, started with or without the fault proxy.
    async fn mocks(proxy: bool) -> Vec<Box<dyn Mock>> {
        let mut all: Vec<Box<dyn Mock>> = Vec::new();
        #[cfg(feature = "otrs")]
        all.push(Box::new(
            crate::otrs::OtrsMock::builder()
                .with_proxy(proxy)
                .start()
                .await,
        ));
        #[cfg(feature = "glpi")]
        all.push(Box::new(
            crate::glpi::GlpiMock::builder()
                .with_proxy(proxy)
                .start()
                .await,
        ));
        #[cfg(feature = "servicenow")]
        all.push(Box::new(
            crate::servicenow::ServiceNowMock::builder()
                .with_proxy(proxy)
                .start()
                .await,
        ));
        #[cfg(feature = "opsramp")]
        all.push(Box::new(
            crate::opsramp::OpsRampMock::builder()
                .with_proxy(proxy)
                .start()
                .await,
        ));
        #[cfg(feature = "opsgenie")]
        all.push(Box::new(
            crate::opsgenie::OpsGenieMock::builder()
                .with_proxy(proxy)
                .start()
                .await,
        ));
        #[cfg(feature = "topdesk")]
        all.push(Box::new(
            crate::topdesk::TopdeskMock::builder()
                .with_proxy(proxy)
                .start()
                .await,
        ));
        #[cfg(feature = "jira")]
        all.push(Box::new(
            crate::jira::JiraMock::builder()
                .with_proxy(proxy)
                .start()
                .await,
        ));
        #[cfg(feature = "salesforce")]
        all.push(Box::new(
            crate::salesforce::SalesforceMock::builder()
                .with_proxy(proxy)
                .start()
                .await,
        ));
        #[cfg(feature = "helix")]
        all.push(Box::new(
            crate::helix::HelixMock::builder()
                .with_proxy(proxy)
                .start()
                .await,
        ));
        #[cfg(feature = "sdp")]
        all.push(Box::new(
            crate::sdp::SdpMock::builder()
                .with_proxy(proxy)
                .start()
                .await,
        ));
        all
    }

    fn client() -> reqwest::Client {
        reqwest::Client::builder().no_proxy().build().unwrap()
    }

    #[tokio::test]
    async fn settings_follow_the_convention() {
        for mock in mocks(false).await {
            let target = mock.target();
            let s = mock.settings();
            assert_eq!(s["target"], target, "{s}");
            assert_eq!(s["name"], format!("{target}-mock"), "{s}");
            // SDP names its base URL inside its deployment kind.
            let base = match s.get("base_url") {
                Some(b) => b,
                None => &s["deployment"]["base_url"],
            };
            assert_eq!(*base, mock.url(), "{s}");
            let method = s["auth"]["method"].as_str().unwrap_or_default();
            let secrets: &[&str] = match method {
                "session" | "basic" => &["user", "password"],
                "user_token" => &["user_token", "app_token"],
                "client_credentials" => &["client_id", "client_secret"],
                "api_key" | "technician_key" => &["key"],
                "application_password" => &["login", "password"],
                "jwt" => &["username", "password"],
                other => panic!("{target}: unknown auth method {other:?}"),
            };
            for key in secrets {
                let value = s["auth"][key].as_str().unwrap_or_default();
                assert!(!value.is_empty(), "{target}: auth.{key} in {s}");
            }
            if target == "opsramp" {
                assert!(s["tenant_id"].is_string(), "{s}");
            }
        }
    }

    #[tokio::test]
    async fn the_request_log_records_what_the_server_was_sent() {
        for mock in mocks(false).await {
            let target = mock.target();
            let before = mock.request_count();
            let url = format!("{}/accesslink-probe?page=2", mock.url());
            let sent = client()
                .get(&url)
                .header("Authorization", "Bearer probe-token")
                .send()
                .await;
            assert!(sent.is_ok(), "{target}: {sent:?}");
            assert_eq!(mock.request_count(), before + 1, "{target}");
            let log = mock.request_log();
            let last = log.last().unwrap();
            assert_eq!(last.method, "GET", "{target}");
            assert!(
                last.path.ends_with("/accesslink-probe"),
                "{target}: {last:?}"
            );
            assert_eq!(last.query.as_deref(), Some("page=2"), "{target}");
            assert!(last.credential, "{target}");
        }
    }

    #[tokio::test]
    async fn faults_and_the_proxy_are_the_mocks_own() {
        for mock in mocks(true).await {
            let target = mock.target();
            let proxy = mock.proxy().expect("started with the proxy");
            assert!(mock.url().starts_with(&proxy.url()), "{target}");
            mock.faults().html_next(1);
            let answer = client().get(mock.url()).send().await.unwrap();
            let kind = answer.headers()["content-type"]
                .to_str()
                .unwrap()
                .to_owned();
            assert!(kind.starts_with("text/html"), "{target}: {kind}");
            assert_eq!(mock.faults().applied(), 1, "{target}");
            assert!(proxy.requests() >= 1, "{target}: through the proxy");
        }
        for mock in mocks(false).await {
            assert!(mock.proxy().is_none(), "{}", mock.target());
        }
    }

    /// OTRS: the settings' user and password open a session, and expiry ends it.
    #[cfg(feature = "otrs")]
    #[tokio::test]
    async fn an_expired_otrs_session_is_refused() {
        let mock: Box<dyn Mock> = Box::new(crate::otrs::OtrsMock::start().await);
        let s = mock.settings();
        let login = serde_json::json!({
            "UserLogin": s["auth"]["user"],
            "Password": s["auth"]["password"],
        });
        let session: Value = client()
            .post(format!("{}/Session", mock.url()))
            .json(&login)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let id = session["SessionID"].as_str().expect("a session").to_owned();
        let get = || async {
            let url = format!("{}/Ticket/1?SessionID={id}", mock.url());
            let body: Value = client()
                .get(url)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            body
        };
        assert!(get().await["Ticket"].is_array());
        mock.expire_credentials();
        let refused = get().await;
        assert_eq!(
            refused["Error"]["ErrorCode"], "TicketGet.AuthFail",
            "{refused}"
        );
    }

    /// GLPI: the settings' tokens open a session, and expiry ends it.
    #[cfg(feature = "glpi")]
    #[tokio::test]
    async fn an_expired_glpi_session_is_refused() {
        let mock: Box<dyn Mock> = Box::new(crate::glpi::GlpiMock::start().await);
        let s = mock.settings();
        let app = s["auth"]["app_token"].as_str().unwrap().to_owned();
        let user = s["auth"]["user_token"].as_str().unwrap();
        let session: Value = client()
            .get(format!("{}/initSession", mock.url()))
            .header("App-Token", &app)
            .header("Authorization", format!("user_token {user}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let token = session["session_token"]
            .as_str()
            .expect("a session")
            .to_owned();
        let status = || async {
            let url = format!("{}/getFullSession", mock.url());
            let request = client().get(url).header("App-Token", &app);
            let answer = request.header("Session-Token", &token).send().await;
            answer.unwrap().status().as_u16()
        };
        assert_eq!(status().await, 200);
        mock.expire_credentials();
        assert_eq!(status().await, 401);
    }
}
