//! A generic paged-items API with an OAuth 2 token endpoint, for core's tests and benchmark.
//!
//! [`PagedItemsMock`] serves a [`SyntheticPeople`] data set behind offset/limit paging and,
//! optionally, bearer auth with tokens from its own `POST /oauth/token` (an
//! [`OAuthEndpoint`]: RFC 6749 password, client-credentials and refresh grants). One catch-all wiremock responder records every request in a [`RouteCounter`], asks the
//! [`FaultPlan`] first, then dispatches:
//!
//! | route | answer |
//! |---|---|
//! | `POST /oauth/token` | `{"access_token","token_type":"Bearer","expires_in","refresh_token"?}` or `400 {"error","error_description"}` |
//! | `GET /items?offset=&limit=` | `{"items":[Person…],"total":N}`; limit defaults to 100, capped at 1000; `401 {"error":"invalid_token"}` when auth is required and the token is missing, unknown or expired |
//! | anything else | `404` JSON naming the method and path |

use std::time::Duration;

use serde_json::json;
use wiremock::{MockServer, Request, Respond, ResponseTemplate};

use crate::counter::RouteCounter;
use crate::data::SyntheticPeople;
use crate::fault::FaultPlan;
use crate::mock::{ReceivedRequest, RecordedRequest, RequestLog};
use crate::proxy::FaultProxy;
use crate::server::start_mock;
use crate::tokens::{OAuthEndpoint, TokenStore};

const CLIENT_ID: &str = "testkit-client";
const CLIENT_SECRET: &str = "testkit-secret";
const USERNAME: &str = "testkit-user";
const PASSWORD: &str = "testkit-password";
const DEFAULT_LIMIT: usize = 100;
const MAX_LIMIT: usize = 1000;

/// Options for a [`PagedItemsMock`]; see [`PagedItemsMock::builder`].
#[derive(Debug, Clone)]
pub struct PagedItemsMockBuilder {
    items: usize,
    seed: u64,
    require_auth: bool,
    token_ttl: Duration,
    expires_in_as_string: bool,
    proxy: bool,
}

impl Default for PagedItemsMockBuilder {
    fn default() -> Self {
        Self {
            items: 250,
            seed: 0,
            require_auth: false,
            token_ttl: Duration::from_secs(3600),
            expires_in_as_string: false,
            proxy: false,
        }
    }
}

impl PagedItemsMockBuilder {
    /// Number of items served (default 250).
    pub fn items(mut self, count: usize) -> Self {
        self.items = count;
        self
    }

    /// Seed of the generated people (default 0).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Require a valid bearer token on `GET /items` (default off).
    pub fn require_auth(mut self, required: bool) -> Self {
        self.require_auth = required;
        self
    }

    /// Lifetime of issued access tokens (default one hour).
    pub fn token_ttl(mut self, ttl: Duration) -> Self {
        self.token_ttl = ttl;
        self
    }

    /// Send `expires_in` as a JSON string (`"3600"`), as some vendors do (default off).
    pub fn expires_in_as_string(mut self, as_string: bool) -> Self {
        self.expires_in_as_string = as_string;
        self
    }

    /// Put a [`FaultProxy`] in front of the server; [`PagedItemsMock::url`] then points at the
    /// proxy (default off).
    pub fn with_proxy(mut self, proxy: bool) -> Self {
        self.proxy = proxy;
        self
    }

    /// Starts the server (and the proxy, if asked for).
    ///
    /// # Panics
    ///
    /// When no loopback port can be bound, like [`MockServer::start`].
    pub async fn start(self) -> PagedItemsMock {
        let people = SyntheticPeople::new(self.items, self.seed);
        let faults = FaultPlan::new();
        let counter = RouteCounter::new();
        let oauth = OAuthEndpoint::new(CLIENT_ID, CLIENT_SECRET)
            .with_user(USERNAME, PASSWORD)
            .token_ttl(self.token_ttl)
            .expires_in_as_string(self.expires_in_as_string);
        let responder = Responder {
            people,
            faults: faults.clone(),
            counter: counter.clone(),
            oauth: oauth.clone(),
            require_auth: self.require_auth,
        };
        let started = start_mock(responder, "accesslink-testkit paged items", self.proxy).await;
        PagedItemsMock {
            server: started.server,
            proxy: started.proxy,
            log: started.log,
            people,
            faults,
            counter,
            oauth,
        }
    }
}

/// A running paged-items API; see the [module docs](self).
#[derive(Debug)]
pub struct PagedItemsMock {
    server: MockServer,
    proxy: Option<FaultProxy>,
    log: RequestLog,
    people: SyntheticPeople,
    faults: FaultPlan,
    counter: RouteCounter,
    oauth: OAuthEndpoint,
}

impl PagedItemsMock {
    /// Options for a new mock.
    pub fn builder() -> PagedItemsMockBuilder {
        PagedItemsMockBuilder::default()
    }

    /// Base URL clients use: the proxy's when started with a proxy, the server's otherwise.
    pub fn url(&self) -> String {
        match &self.proxy {
            Some(proxy) => proxy.url(),
            None => self.server.uri(),
        }
    }

    /// The token endpoint, `<url>/oauth/token`.
    pub fn token_url(&self) -> String {
        format!("{}/oauth/token", self.url())
    }

    /// Every request the mock received, in order (faulted ones included).
    pub fn request_log(&self) -> Vec<RecordedRequest> {
        self.log.all()
    }

    /// Faults applied by the mock before its normal logic.
    pub fn faults(&self) -> &FaultPlan {
        &self.faults
    }

    /// The proxy in front of the server, when started with one.
    pub fn proxy(&self) -> Option<&FaultProxy> {
        self.proxy.as_ref()
    }

    /// Counts of every request the server received (faulted ones included).
    pub fn counter(&self) -> &RouteCounter {
        &self.counter
    }

    /// The token endpoint's state: its tokens, refresh tokens and accepted credentials.
    pub fn oauth(&self) -> &OAuthEndpoint {
        &self.oauth
    }

    /// Access tokens issued by the token endpoint; [`TokenStore::issued`] counts grants
    /// (refresh tokens are kept apart, in [`OAuthEndpoint::refresh_tokens`]).
    pub fn tokens(&self) -> &TokenStore {
        self.oauth.tokens()
    }

    /// The data set served.
    pub fn people(&self) -> &SyntheticPeople {
        &self.people
    }

    /// The client id the token endpoint accepts.
    pub fn client_id(&self) -> &'static str {
        CLIENT_ID
    }

    /// The client secret the token endpoint accepts.
    pub fn client_secret(&self) -> &'static str {
        CLIENT_SECRET
    }

    /// The user name the password grant accepts.
    pub fn username(&self) -> &'static str {
        USERNAME
    }

    /// The password the password grant accepts.
    pub fn password(&self) -> &'static str {
        PASSWORD
    }

    /// Every request the server received, in order.
    pub async fn received(&self) -> Vec<ReceivedRequest> {
        ReceivedRequest::all(&self.server).await
    }
}

struct Responder {
    people: SyntheticPeople,
    faults: FaultPlan,
    counter: RouteCounter,
    oauth: OAuthEndpoint,
    require_auth: bool,
}

impl Respond for Responder {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        self.counter.record_request(request);
        match self.faults.take(request) {
            Some(action) => action.apply(|| self.route(request)),
            None => self.route(request),
        }
    }
}

impl Responder {
    fn route(&self, request: &Request) -> ResponseTemplate {
        match (request.method.as_str(), request.url.path()) {
            ("POST", "/oauth/token") => self.oauth.answer(request),
            ("GET", "/items") => self.items(request),
            (method, path) => ResponseTemplate::new(404).set_body_json(json!({
                "error": "not_found",
                "message": format!("no route for {method} {path}"),
                "method": method,
                "path": path,
            })),
        }
    }

    fn items(&self, request: &Request) -> ResponseTemplate {
        if self.require_auth {
            if let Some(unauthorized) = self.oauth.unauthorized(request) {
                return unauthorized;
            }
        }
        let mut offset = 0;
        let mut limit = DEFAULT_LIMIT;
        for (name, value) in request.url.query_pairs() {
            let target = match name.as_ref() {
                "offset" => &mut offset,
                "limit" => &mut limit,
                _ => continue,
            };
            match value.parse() {
                Ok(n) => *target = n,
                Err(_) => {
                    return ResponseTemplate::new(400).set_body_json(json!({
                        "error": "invalid_request",
                        "error_description": format!("{name} must be a non-negative integer"),
                    }));
                }
            }
        }
        let items: Vec<_> = self
            .people
            .iter_range(offset, limit.min(MAX_LIMIT))
            .collect();
        ResponseTemplate::new(200).set_body_json(json!({
            "items": items,
            "total": self.people.len(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;

    fn client() -> reqwest::Client {
        reqwest::Client::builder().no_proxy().build().unwrap()
    }

    async fn get_json(client: &reqwest::Client, url: String) -> (u16, Value) {
        let resp = client.get(url).send().await.unwrap();
        (resp.status().as_u16(), resp.json().await.unwrap())
    }

    fn ids(page: &Value) -> Vec<&str> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["id"].as_str().unwrap())
            .collect()
    }

    #[tokio::test]
    async fn paging_math() {
        let mock = PagedItemsMock::builder().items(250).start().await;
        let c = client();
        let url = mock.url();

        let (status, first) = get_json(&c, format!("{url}/items")).await;
        assert_eq!((status, first["total"].as_u64()), (200, Some(250)));
        assert_eq!(ids(&first).len(), 100, "default limit");
        assert_eq!(ids(&first)[0], "u-000001");

        let (_, last) = get_json(&c, format!("{url}/items?offset=200&limit=100")).await;
        assert_eq!(ids(&last).len(), 50, "the last page is shorter");
        assert_eq!(*ids(&last).last().unwrap(), "u-000250");

        let (status, past) = get_json(&c, format!("{url}/items?offset=300")).await;
        assert_eq!((status, past["total"].as_u64()), (200, Some(250)));
        assert!(ids(&past).is_empty());

        let (status, bad) = get_json(&c, format!("{url}/items?limit=-1")).await;
        assert_eq!(
            (status, bad["error"].as_str()),
            (400, Some("invalid_request"))
        );
        assert_eq!(mock.counter().count("GET", "/items"), 4);
    }

    #[tokio::test]
    async fn limit_is_capped_and_a_drain_sees_every_item_once() {
        let mock = PagedItemsMock::builder().items(2500).seed(9).start().await;
        let c = client();
        let (_, big) = get_json(&c, format!("{}/items?limit=5000", mock.url())).await;
        assert_eq!(ids(&big).len(), 1000);

        let mut seen = Vec::new();
        loop {
            let url = format!("{}/items?offset={}&limit=300", mock.url(), seen.len());
            let (_, page) = get_json(&c, url).await;
            let page_ids: Vec<String> = ids(&page).into_iter().map(str::to_owned).collect();
            let done = page_ids.len() < 300;
            seen.extend(page_ids);
            if done {
                break;
            }
        }
        assert_eq!(seen.len(), 2500);
        assert!(
            seen.windows(2).all(|w| w[0] < w[1]),
            "ids strictly increase, so none repeats"
        );
        assert_eq!(mock.counter().count("GET", "/items"), 1 + 9);
    }

    #[tokio::test]
    async fn required_auth_accepts_granted_tokens_only() {
        let mock = PagedItemsMock::builder()
            .require_auth(true)
            .token_ttl(Duration::from_secs(60))
            .expires_in_as_string(true)
            .start()
            .await;
        let c = client();
        let items = format!("{}/items", mock.url());

        let resp = c.get(&items).send().await.unwrap();
        assert_eq!(resp.status(), 401);
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["error"], "invalid_token");

        let form = [
            ("grant_type", "password"),
            ("username", mock.username()),
            ("password", mock.password()),
        ];
        let resp = c
            .post(mock.token_url())
            .basic_auth(mock.client_id(), Some(mock.client_secret()))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        let grant: Value = resp.json().await.unwrap();
        assert_eq!(grant["expires_in"], "60");
        assert!(grant["refresh_token"].is_string());
        let access = grant["access_token"].as_str().unwrap();

        let resp = c.get(&items).bearer_auth(access).send().await.unwrap();
        assert_eq!(resp.status(), 200);
        let last = mock.received().await.pop().unwrap();
        assert_eq!(
            last.headers["authorization"],
            format!("Bearer {access}").as_str()
        );
        assert_eq!(mock.tokens().issued(), 1);

        mock.tokens().expire_all();
        let resp = c.get(&items).bearer_auth(access).send().await.unwrap();
        assert_eq!(resp.status(), 401, "an expired token is refused");
        assert_eq!(mock.counter().count("POST", "/oauth/token"), 1);
        assert_eq!(mock.counter().count("GET", "/items"), 3);
    }

    #[tokio::test]
    async fn faults_apply_once_and_only_where_targeted() {
        let mock = PagedItemsMock::builder().items(10).start().await;
        let c = client();
        let items = format!("{}/items", mock.url());
        mock.faults().fail_next(1, 503);
        mock.faults().push_for(
            crate::fault::FaultMatcher::path("/oauth/token"),
            crate::fault::Fault::TooManyRequests { retry_after: None },
            1,
        );

        assert_eq!(c.get(&items).send().await.unwrap().status(), 503);
        let (status, page) = get_json(&c, items.clone()).await;
        assert_eq!((status, ids(&page).len()), (200, 10));
        assert_eq!(mock.faults().applied(), 1);
        assert_eq!(mock.faults().pending(), 1, "the token fault still waits");
        assert_eq!(
            mock.counter().count("GET", "/items"),
            2,
            "faulted requests are counted"
        );

        let resp = c.post(mock.token_url()).send().await.unwrap();
        assert_eq!(resp.status(), 429);

        mock.faults().delay_next(1, Duration::from_secs(2));
        let quick = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_millis(100))
            .build()
            .unwrap();
        assert!(quick.get(&items).send().await.unwrap_err().is_timeout());
        // The delay was consumed by one request. The next one uses the patient client, so a
        // slow machine cannot make this test flaky.
        assert_eq!(c.get(&items).send().await.unwrap().status(), 200);
        assert_eq!((mock.faults().applied(), mock.faults().pending()), (3, 0));
    }

    #[tokio::test]
    async fn dropped_connection_through_the_proxy() {
        let mock = PagedItemsMock::builder()
            .items(3)
            .with_proxy(true)
            .start()
            .await;
        let proxy = mock.proxy().unwrap();
        assert_eq!(mock.url(), proxy.url());
        let c = client();
        mock.faults().drop_next(1);

        let err = c
            .get(format!("{}/items", mock.url()))
            .send()
            .await
            .unwrap_err();
        assert!(err.is_request(), "expected a transport error, got {err:?}");
        let (status, page) = get_json(&c, format!("{}/items", mock.url())).await;
        assert_eq!((status, ids(&page).len()), (200, 3));
        assert_eq!((proxy.requests(), mock.counter().total()), (2, 2));
    }

    #[tokio::test]
    async fn unknown_routes_name_method_and_path() {
        let mock = PagedItemsMock::builder().start().await;
        let resp = client()
            .delete(format!("{}/items/7", mock.url()))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 404);
        let body: Value = resp.json().await.unwrap();
        assert_eq!(
            (body["method"].as_str(), body["path"].as_str()),
            (Some("DELETE"), Some("/items/7"))
        );
        assert_eq!(mock.counter().snapshot().get("DELETE /items/7"), Some(&1));
    }
}
