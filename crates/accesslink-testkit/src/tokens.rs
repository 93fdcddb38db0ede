//! Opaque bearer tokens with a lifetime, for mocks that check auth on every request.
//!
//! A [`TokenStore`] issues random tokens, answers whether one is still valid, and lets a test
//! expire or revoke them mid-run ("the token expired in the middle of an import").
//! [`OAuthEndpoint`] is an RFC 6749 token endpoint issuing from a store, which a mock serves
//! on whatever path its vendor uses.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use http::header::AUTHORIZATION;
use serde_json::{Value, json};
use wiremock::{Request, ResponseTemplate};

/// Length of the random part of a token.
const TOKEN_LEN: usize = 32;

/// Issues and checks opaque tokens.
///
/// Cheap to clone: clones share the same tokens. Its `Debug` output shows counts only, never a
/// token.
#[derive(Clone, Default)]
pub struct TokenStore {
    inner: Arc<Mutex<Inner>>,
}

#[derive(Default)]
struct Inner {
    /// Token → expiry; `None` when `issued + ttl` does not fit in an `Instant`.
    tokens: HashMap<String, Option<Instant>>,
    issued: usize,
}

impl TokenStore {
    /// Creates an empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Issues a new `tok-…` token valid for `ttl` from now.
    pub fn issue(&self, ttl: Duration) -> String {
        self.issue_with_prefix("tok-", ttl)
    }

    /// Issues a new token starting with `prefix` (e.g. `rt-` for refresh tokens), valid for
    /// `ttl` from now.
    pub fn issue_with_prefix(&self, prefix: &str, ttl: Duration) -> String {
        let mut token = prefix.to_owned();
        token.extend(std::iter::repeat_with(fastrand::alphanumeric).take(TOKEN_LEN));
        let expiry = Instant::now().checked_add(ttl);
        let mut inner = self.lock();
        inner.tokens.insert(token.clone(), expiry);
        inner.issued += 1;
        token
    }

    /// Whether `token` was issued here, was not revoked, and has not expired.
    pub fn is_valid(&self, token: &str) -> bool {
        match self.lock().tokens.get(token) {
            Some(Some(expiry)) => Instant::now() < *expiry,
            Some(None) => true,
            None => false,
        }
    }

    /// Expires every token issued so far; tokens issued afterwards are valid as usual.
    pub fn expire_all(&self) {
        let now = Instant::now();
        for expiry in self.lock().tokens.values_mut() {
            *expiry = Some(now);
        }
    }

    /// Forgets `token`, so it is no longer valid. Returns whether it was known.
    pub fn revoke(&self, token: &str) -> bool {
        self.lock().tokens.remove(token).is_some()
    }

    /// How many tokens were ever issued (revoked and expired ones included).
    pub fn issued(&self) -> usize {
        self.lock().issued
    }

    /// The token of an `Authorization: Bearer …` header, if the request has one.
    pub(crate) fn bearer_of(request: &Request) -> Option<String> {
        let token = auth_param(request, "bearer")?.trim();
        (!token.is_empty()).then(|| token.to_owned())
    }

    /// The user and password of an `Authorization: Basic …` header, if the request has a
    /// well-formed one (base64 of `user:password`, the password may contain `:`).
    pub(crate) fn basic_of(request: &Request) -> Option<(String, String)> {
        let encoded = auth_param(request, "basic")?.trim();
        let decoded = String::from_utf8(STANDARD.decode(encoded).ok()?).ok()?;
        let (user, password) = decoded.split_once(':')?;
        Some((user.to_owned(), password.to_owned()))
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The parameter of the `Authorization` header when its scheme is `scheme`
/// (case-insensitive, as RFC 9110 §11.1 says).
fn auth_param<'r>(request: &'r Request, scheme: &str) -> Option<&'r str> {
    let value = request.headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (found, param) = value.split_once(' ')?;
    found.eq_ignore_ascii_case(scheme).then_some(param)
}

impl fmt::Debug for TokenStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = self.lock();
        f.debug_struct("TokenStore")
            .field("issued", &inner.issued)
            .field("known", &inner.tokens.len())
            .finish_non_exhaustive()
    }
}

/// Refresh tokens outlive any test run; tests expire them by hand when they need to.
const REFRESH_TTL: Duration = Duration::from_secs(24 * 3600);

/// An OAuth 2 token endpoint (RFC 6749 §4.3 password, §4.4 client credentials, §6 refresh)
/// answering form-encoded `POST`s. Mount it with `Mock::…respond_with(endpoint.clone())`.
///
/// Clients authenticate with Basic auth or `client_id`/`client_secret` form fields (§2.3.1);
/// the client-credentials grant requires both, the others accept a public client that sends
/// no secret. Success is `{"access_token","token_type":"Bearer","expires_in"}` plus a
/// `refresh_token` for the password grant only; failure is `400 {"error",
/// "error_description"}` with `invalid_request`, `invalid_client`, `invalid_grant` or
/// `unsupported_grant_type`. Clones share their token stores; `Debug` hides the secrets.
#[derive(Clone)]
pub struct OAuthEndpoint {
    tokens: TokenStore,
    refresh_tokens: TokenStore,
    client_id: String,
    client_secret: String,
    user: Option<(String, String)>,
    token_ttl: Duration,
    expires_in_as_string: bool,
}

impl OAuthEndpoint {
    /// An endpoint accepting this client, with no password-grant user and a one-hour TTL.
    pub fn new(client_id: &str, client_secret: &str) -> Self {
        Self {
            tokens: TokenStore::new(),
            refresh_tokens: TokenStore::new(),
            client_id: client_id.to_owned(),
            client_secret: client_secret.to_owned(),
            user: None,
            token_ttl: Duration::from_secs(3600),
            expires_in_as_string: false,
        }
    }

    /// Accepts this user on the password grant.
    pub fn with_user(mut self, username: &str, password: &str) -> Self {
        self.user = Some((username.to_owned(), password.to_owned()));
        self
    }

    /// Lifetime of issued access tokens.
    pub fn token_ttl(mut self, ttl: Duration) -> Self {
        self.token_ttl = ttl;
        self
    }

    /// Send `expires_in` as a JSON string (`"3600"`), as some vendors do.
    pub fn expires_in_as_string(mut self, as_string: bool) -> Self {
        self.expires_in_as_string = as_string;
        self
    }

    /// Access tokens issued here; [`TokenStore::issued`] counts token grants.
    pub fn tokens(&self) -> &TokenStore {
        &self.tokens
    }

    /// Refresh tokens issued here, kept apart so they never count as access tokens.
    pub fn refresh_tokens(&self) -> &TokenStore {
        &self.refresh_tokens
    }

    /// How long the access tokens issued here live (set with
    /// [`token_ttl`](Self::token_ttl)).
    pub fn access_token_ttl(&self) -> Duration {
        self.token_ttl
    }

    /// The accepted client id.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The accepted client secret.
    pub fn client_secret(&self) -> &str {
        &self.client_secret
    }

    /// The accepted password-grant user and password, if any.
    pub fn user(&self) -> Option<(&str, &str)> {
        self.user.as_ref().map(|(u, p)| (u.as_str(), p.as_str()))
    }

    /// The RFC 6750 §3.1 `401` to send, or `None` when the request carries a valid bearer
    /// token from this endpoint.
    pub(crate) fn unauthorized(&self, request: &Request) -> Option<ResponseTemplate> {
        if TokenStore::bearer_of(request).is_some_and(|t| self.tokens.is_valid(&t)) {
            return None;
        }
        Some(
            ResponseTemplate::new(401)
                .insert_header("www-authenticate", r#"Bearer error="invalid_token""#)
                .set_body_json(json!({
                    "error": "invalid_token",
                    "error_description": "missing, unknown or expired access token",
                })),
        )
    }

    fn grant(&self, with_refresh: bool) -> ResponseTemplate {
        let secs = self.token_ttl.as_secs();
        let expires_in = if self.expires_in_as_string {
            Value::from(secs.to_string())
        } else {
            Value::from(secs)
        };
        let mut body = json!({
            "access_token": self.tokens.issue(self.token_ttl),
            "token_type": "Bearer",
            "expires_in": expires_in,
        });
        if with_refresh {
            body["refresh_token"] = self
                .refresh_tokens
                .issue_with_prefix("rt-", REFRESH_TTL)
                .into();
        }
        ResponseTemplate::new(200)
            .insert_header("cache-control", "no-store")
            .insert_header("pragma", "no-cache")
            .set_body_json(body)
    }
}

impl OAuthEndpoint {
    /// The token endpoint's answer to `request`: a grant, or an RFC 6749 §5.2 error.
    pub(crate) fn answer(&self, request: &Request) -> ResponseTemplate {
        let form: HashMap<String, String> = url::form_urlencoded::parse(&request.body)
            .into_owned()
            .collect();
        let field = |name: &str| form.get(name).map(String::as_str);
        let (id, secret) = match TokenStore::basic_of(request) {
            Some((id, secret)) => (Some(id), Some(secret)),
            None => (
                field("client_id").map(str::to_owned),
                field("client_secret").map(str::to_owned),
            ),
        };
        let consistent = id.as_deref().is_none_or(|i| i == self.client_id)
            && secret.as_deref().is_none_or(|s| s == self.client_secret);
        let authenticated = consistent && id.is_some() && secret.is_some();

        let grant_type = field("grant_type");
        // Public clients may omit the secret on the password and refresh grants; a wrong
        // one still fails.
        let client_ok = match grant_type {
            Some("client_credentials") => authenticated,
            Some("password" | "refresh_token") => consistent,
            _ => true,
        };
        if !client_ok {
            return oauth_error("invalid_client", "client authentication failed");
        }
        match grant_type {
            Some("client_credentials") => self.grant(false),
            Some("password") => match (&self.user, field("username"), field("password")) {
                (Some((u, p)), Some(user), Some(pass)) if u == user && p == pass => {
                    self.grant(true)
                }
                _ => oauth_error("invalid_grant", "wrong username or password"),
            },
            Some("refresh_token") => match field("refresh_token") {
                Some(token) if self.refresh_tokens.is_valid(token) => self.grant(false),
                _ => oauth_error("invalid_grant", "unknown or expired refresh token"),
            },
            Some(other) => oauth_error(
                "unsupported_grant_type",
                &format!("grant type {other:?} is not supported"),
            ),
            None => oauth_error("invalid_request", "grant_type is required"),
        }
    }
}

/// RFC 6749 §5.2 error response.
fn oauth_error(code: &str, description: &str) -> ResponseTemplate {
    ResponseTemplate::new(400)
        .insert_header("cache-control", "no-store")
        .set_body_json(json!({"error": code, "error_description": description}))
}

impl fmt::Debug for OAuthEndpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthEndpoint")
            .field("client_id", &self.client_id)
            .field("client_secret", &"[redacted]")
            .field("user", &self.user.as_ref().map(|(u, _)| (u, "[redacted]")))
            .field("token_ttl", &self.token_ttl)
            .field("tokens", &self.tokens)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request_with_auth(value: &str) -> wiremock::Request {
        let mut headers = http::HeaderMap::new();
        headers.insert(AUTHORIZATION, value.parse().unwrap());
        wiremock::Request {
            url: "http://localhost/items".parse().unwrap(),
            method: http::Method::GET,
            headers,
            body: Vec::new(),
        }
    }

    fn bearer(value: &str) -> Option<String> {
        TokenStore::bearer_of(&request_with_auth(value))
    }

    fn basic(value: &str) -> Option<(String, String)> {
        TokenStore::basic_of(&request_with_auth(value))
    }

    #[test]
    fn issued_tokens_are_valid_distinct_counted_and_hidden() {
        let store = TokenStore::new();
        let a = store.issue(Duration::from_secs(60));
        let b = store.issue(Duration::from_secs(60));

        assert_eq!(a.len(), "tok-".len() + TOKEN_LEN);
        assert!(a.starts_with("tok-") && a[4..].chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a, b);
        assert!(store.is_valid(&a) && store.is_valid(&b) && !store.is_valid("tok-unknown"));
        assert_eq!(store.issued(), 2);
        let debug = format!("{store:?}");
        assert!(
            !debug.contains(&a) && debug.contains("issued: 2"),
            "{debug}"
        );
    }

    #[test]
    fn expiry_revocation_and_zero_ttl() {
        let store = TokenStore::new();
        let short = store.issue(Duration::ZERO);
        assert!(!store.is_valid(&short), "a zero TTL is already expired");

        let long = store.issue(Duration::from_secs(3600));
        assert!(store.clone().revoke(&long), "clones share tokens");
        assert!(!store.is_valid(&long));
        assert!(!store.revoke(&long), "revoking twice finds nothing");

        let kept = store.issue(Duration::MAX);
        assert!(store.is_valid(&kept), "past Instant's range: never expires");
        store.expire_all();
        assert!(!store.is_valid(&kept));

        let fresh = store.issue(Duration::from_secs(60));
        assert!(store.is_valid(&fresh), "expire_all spares later tokens");
        assert_eq!(
            store.issued(),
            4,
            "revoked and expired tokens count as issued"
        );
    }

    #[test]
    fn bearer_and_basic_headers_are_parsed() {
        assert_eq!(bearer("Bearer tok-abc").as_deref(), Some("tok-abc"));
        assert_eq!(bearer("bearer  tok-xyz ").as_deref(), Some("tok-xyz"));
        assert_eq!((bearer("Bearer "), bearer("Basic dTpw")), (None, None));
        let mut no_header = request_with_auth("Bearer x");
        no_header.headers.clear();
        assert_eq!(TokenStore::bearer_of(&no_header), None);

        // base64("client:s3cr:et"): the password keeps its colon.
        let expected = Some(("client".to_owned(), "s3cr:et".to_owned()));
        assert_eq!(basic("Basic Y2xpZW50OnMzY3I6ZXQ="), expected);
        assert_eq!(basic("Basic !!!"), None);
        assert_eq!(basic("Basic bm9jb2xvbg=="), None, "base64(\"nocolon\")");
        assert_eq!(basic("Bearer tok"), None);
    }

    async fn mount(endpoint: &OAuthEndpoint) -> (wiremock::MockServer, String) {
        let server = wiremock::MockServer::start().await;
        wiremock::Mock::given(wiremock::matchers::method("POST"))
            .and(wiremock::matchers::path("/oauth/token"))
            .respond_with({
                let endpoint = endpoint.clone();
                move |r: &wiremock::Request| endpoint.answer(r)
            })
            .mount(&server)
            .await;
        let url = format!("{}/oauth/token", server.uri());
        (server, url)
    }

    async fn post_form(url: &str, form: &[(&str, &str)]) -> (u16, Value) {
        let client = reqwest::Client::builder().no_proxy().build().unwrap();
        let resp = client.post(url).form(form).send().await.unwrap();
        (resp.status().as_u16(), resp.json().await.unwrap())
    }

    /// Posts `form` and asserts a `400` with this RFC 6749 error code.
    async fn refused(url: &str, form: &[(&str, &str)], code: &str) {
        let (status, body) = post_form(url, form).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some(code)),
            "{form:?}"
        );
    }

    #[tokio::test]
    async fn client_credentials_grant() {
        let endpoint = OAuthEndpoint::new("cid", "csecret");
        let (_server, url) = mount(&endpoint).await;
        let cc = ("grant_type", "client_credentials");
        let resp = reqwest::Client::builder()
            .no_proxy()
            .build()
            .unwrap()
            .post(&url)
            .basic_auth("cid", Some("csecret"))
            .form(&[cc])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.headers()["cache-control"], "no-store");
        let grant: Value = resp.json().await.unwrap();
        assert_eq!(
            (&grant["token_type"], &grant["expires_in"]),
            (&json!("Bearer"), &json!(3600))
        );
        assert!(grant.get("refresh_token").is_none());
        let access = grant["access_token"].as_str().unwrap();
        assert!(endpoint.tokens().is_valid(access));

        // Form credentials work too; a missing or wrong secret does not.
        let id = ("client_id", "cid");
        assert_eq!(
            post_form(&url, &[cc, id, ("client_secret", "csecret")])
                .await
                .0,
            200
        );
        refused(&url, &[cc, id], "invalid_client").await;
        refused(&url, &[cc, id, ("client_secret", "nope")], "invalid_client").await;
        refused(&url, &[], "invalid_request").await;
        refused(
            &url,
            &[("grant_type", "implicit")],
            "unsupported_grant_type",
        )
        .await;
        assert_eq!(endpoint.tokens().issued(), 2);
    }

    #[tokio::test]
    async fn password_and_refresh_grants() {
        let endpoint = OAuthEndpoint::new("cid", "csecret")
            .with_user("ada", "pw")
            .token_ttl(Duration::from_secs(60))
            .expires_in_as_string(true);
        let (_server, url) = mount(&endpoint).await;
        let (pw, ada) = (("grant_type", "password"), ("username", "ada"));

        let (status, grant) =
            post_form(&url, &[pw, ada, ("client_id", "cid"), ("password", "pw")]).await;
        assert_eq!(status, 200);
        assert_eq!(grant["expires_in"], "60", "expires_in sent as a string");
        let refresh = grant["refresh_token"].as_str().unwrap().to_owned();
        assert!(refresh.starts_with("rt-"));
        refused(&url, &[pw, ada, ("password", "bad")], "invalid_grant").await;
        refused(
            &url,
            &[pw, ada, ("password", "pw"), ("client_id", "x")],
            "invalid_client",
        )
        .await;

        let rt = ("grant_type", "refresh_token");
        let (status, renewed) = post_form(&url, &[rt, ("refresh_token", &refresh)]).await;
        assert_eq!(status, 200);
        assert!(
            endpoint
                .tokens()
                .is_valid(renewed["access_token"].as_str().unwrap())
        );
        assert!(renewed.get("refresh_token").is_none());
        refused(&url, &[rt, ("refresh_token", "rt-bogus")], "invalid_grant").await;
        endpoint.refresh_tokens().expire_all();
        refused(&url, &[rt, ("refresh_token", &refresh)], "invalid_grant").await;

        let issued = (
            endpoint.tokens().issued(),
            endpoint.refresh_tokens().issued(),
        );
        assert_eq!(issued, (2, 1));
        assert!(!format!("{endpoint:?}").contains("csecret"));
    }

    #[test]
    fn unauthorized_checks_the_bearer_token() {
        let endpoint = OAuthEndpoint::new("cid", "csecret");
        let token = endpoint.tokens().issue(Duration::from_secs(60));
        let check = |v: &str| endpoint.unauthorized(&request_with_auth(v)).is_none();
        assert!(check(&format!("Bearer {token}")));
        assert!(!check("Bearer tok-forged"));
        assert!(!check("Basic Y2lkOmNzZWNyZXQ="));
    }
}
