//! Zoho OAuth 2.0 for ServiceDesk Plus Cloud (fact sheet §4.3).
//!
//! The refresh-token grant goes to the **data centre's** accounts server
//! (`POST {accounts}/oauth/v2/token`, form body `grant_type=refresh_token&client_id=…&client_secret=…&refresh_token=…`);
//! API calls carry `Authorization: Zoho-oauthtoken <access token>` (not `Bearer`). The token
//! endpoint may fail with **HTTP 200** and `{"error":"invalid_code"}`: that is an
//! `Unauthenticated` error here, never a token. Access tokens (about an hour) are cached by
//! core's [`TokenCache`](accesslink_core::auth::TokenCache), renewed a minute ahead by one task, and dropped and renewed once
//! when the API answers 401 or `status_code` 4022. Zoho refresh tokens do not rotate; a
//! new one in an answer is saved to the [`RefreshTokenStore`] all the same.
//!
//! The consent step that yields the first refresh token: [`ConsentRequest::authorization_url`]
//! (`{accounts}/oauth/v2/auth?…&access_type=offline&prompt=consent`) and [`exchange_code`].

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use accesslink_core::auth::{
    AuthProvider, AuthStamp, Placement, RefreshGrant, RefreshTokenAuth, RefreshedToken,
};
use accesslink_core::http::{HttpClient, Request, Response, VendorError};
use accesslink_core::{Error, ErrorKind, ExposeSecret, Result, SecretString, async_trait, redact};
use serde::Deserialize;
use serde_json::Value;
use url::Url;

/// The scopes the connector uses: requests, changes, users and setup.
pub const SCOPES: &[&str] = &[
    "SDPOnDemand.requests.ALL",
    "SDPOnDemand.changes.ALL",
    "SDPOnDemand.users.ALL",
    "SDPOnDemand.setup.READ",
];

/// The refresh-token stores are core's, shared by every connector with rotating tokens.
pub use accesslink_core::auth::{
    FileRefreshTokenStore, MemoryRefreshTokenStore, RefreshTokenStore,
};

/// A Zoho OAuth client: id, secret and the data centre's accounts server.
#[derive(Clone)]
pub struct ZohoClient {
    /// The client id (`1000.ABC…`).
    pub client_id: String,
    /// The client secret.
    pub client_secret: SecretString,
    /// The accounts server (`https://accounts.zoho.eu/`; a mock's URL in tests).
    pub accounts_url: Url,
}

impl fmt::Debug for ZohoClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ZohoClient")
            .field("client_id", &self.client_id)
            .field("client_secret", &redact::REDACTED)
            .field("accounts_url", &redact::url_shown(&self.accounts_url))
            .finish()
    }
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default, deserialize_with = "accesslink_core::de::opt_u64")]
    expires_in: Option<u64>,
}

/// The token endpoint's HTTP-200 errors (`{"error":"invalid_code"}`) as errors.
pub(crate) fn token_error(response: &Response) -> Option<VendorError> {
    let body: Value = serde_json::from_slice(response.bytes()).ok()?;
    let code = body.get("error").and_then(Value::as_str);
    if code.is_none() && response.status().is_success() {
        return None;
    }
    let message = body
        .get("error_description")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .or_else(|| code.map(|c| format!("Zoho token endpoint: {c}")));
    let description = message.as_deref().unwrap_or("").to_ascii_lowercase();
    // Zoho throttles renewals: `{"error":"Access Denied","error_description":"You have
    // made too many requests continuously…"}`.
    let kind = if description.contains("too many requests") {
        Some(ErrorKind::RateLimited)
    } else {
        // Any other `error` is a refused credential; without one (a 5xx with a JSON body)
        // the HTTP status decides, so outages stay retryable.
        code.map(|_| ErrorKind::Unauthenticated)
    };
    let mut v = VendorError::new(code.map(str::to_owned), message);
    v.kind = kind;
    Some(v)
}

impl ZohoClient {
    fn token_url(&self) -> Result<Url> {
        self.accounts_url
            .join("oauth/v2/token")
            .map_err(|e| Error::config(format!("zoho accounts_url: {e}")))
    }

    /// `retry_safe`: the refresh grant may be repeated (Zoho refresh tokens do not
    /// rotate); a grant code is single use, so its exchange is sent once.
    async fn token_call(
        &self,
        http: &HttpClient,
        form: Vec<(String, String)>,
        retry_safe: bool,
    ) -> Result<TokenResponse> {
        let request = http
            .request_url(http::Method::POST, self.token_url()?)
            .without_auth()
            .form(form)
            .retry_safe(retry_safe);
        http.send_json(request).await
    }
}

/// The authorization request of the consent step.
#[derive(Debug, Clone)]
pub struct ConsentRequest {
    /// Where Zoho sends the browser back with `code` (and `state`).
    pub redirect_uri: Url,
    /// Scopes (default [`SCOPES`]).
    pub scopes: Vec<String>,
    /// An unguessable value the callback must return unchanged.
    pub state: String,
}

impl ConsentRequest {
    /// A request for [`SCOPES`] with a random `state`.
    pub fn new(redirect_uri: Url) -> Self {
        ConsentRequest {
            redirect_uri,
            scopes: SCOPES.iter().map(|s| (*s).to_owned()).collect(),
            state: format!("{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..)),
        }
    }

    /// The URL a technician opens to accept the consent form, on the data centre's
    /// accounts server: `{accounts}/oauth/v2/auth?response_type=code&client_id=…&scope=…&redirect_uri=…&access_type=offline&prompt=consent&state=…`
    /// (`access_type=offline` is what yields a refresh token).
    pub fn authorization_url(&self, client: &ZohoClient) -> Result<Url> {
        let mut url = client
            .accounts_url
            .join("oauth/v2/auth")
            .map_err(|e| Error::config(format!("zoho accounts_url: {e}")))?;
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", &client.client_id)
            .append_pair("scope", &self.scopes.join(","))
            .append_pair("redirect_uri", self.redirect_uri.as_str())
            .append_pair("access_type", "offline")
            .append_pair("prompt", "consent")
            .append_pair("state", &self.state);
        Ok(url)
    }
}

/// The consent step's second half: checks `returned_state`, trades the grant `code` for
/// the first tokens at the accounts server, and saves the refresh token in `store`.
/// `http` is a client without auth (the token URL is absolute).
pub async fn exchange_code(
    client: &ZohoClient,
    http: &HttpClient,
    consent: &ConsentRequest,
    code: &str,
    returned_state: &str,
    store: &dyn RefreshTokenStore,
) -> Result<()> {
    if returned_state != consent.state {
        return Err(Error::auth(
            "the OAuth callback's state does not match the request's (possible CSRF)",
        ));
    }
    let form = vec![
        ("grant_type".into(), "authorization_code".into()),
        ("client_id".into(), client.client_id.clone()),
        (
            "client_secret".into(),
            client.client_secret.expose_secret().to_owned(),
        ),
        ("code".into(), code.to_owned()),
        (
            "redirect_uri".into(),
            consent.redirect_uri.as_str().to_owned(),
        ),
    ];
    let answer = client.token_call(http, form, false).await?;
    let refresh = answer.refresh_token.ok_or_else(|| {
        Error::auth("the token answer has no refresh token: was access_type=offline asked?")
    })?;
    store.save(&SecretString::from(refresh))
}

/// A client for the accounts server: no auth, HTTP-200 errors read.
pub fn token_http(
    accounts_url: &Url,
    settings: &accesslink_core::http::HttpSettings,
) -> Result<HttpClient> {
    HttpClient::builder("sdp", accounts_url.as_str())
        .settings(settings)?
        .error_parser(token_error)
        .build()
}

/// Zoho's refresh grant (form body, `retry_safe`, `Zoho-oauthtoken ` header), for
/// core's [`RefreshTokenAuth`].
#[derive(Debug)]
struct ZohoGrant {
    client: ZohoClient,
    http: HttpClient,
}

#[async_trait]
impl RefreshGrant for ZohoGrant {
    async fn refresh(&self, refresh_token: &SecretString) -> Result<RefreshedToken> {
        let form = vec![
            ("grant_type".into(), "refresh_token".into()),
            ("client_id".into(), self.client.client_id.clone()),
            (
                "client_secret".into(),
                self.client.client_secret.expose_secret().to_owned(),
            ),
            (
                "refresh_token".into(),
                refresh_token.expose_secret().to_owned(),
            ),
        ];
        let answer = self.client.token_call(&self.http, form, true).await?;
        Ok(RefreshedToken {
            access_token: SecretString::from(answer.access_token),
            refresh_token: answer.refresh_token.map(SecretString::from),
            expires_in: Some(Duration::from_secs(answer.expires_in.unwrap_or(3600))),
        })
    }

    fn placement(&self) -> Placement {
        Placement::header_with_prefix(http::header::AUTHORIZATION, "Zoho-oauthtoken ")
    }

    fn secrets(&self) -> Vec<SecretString> {
        vec![self.client.client_secret.clone()]
    }

    fn missing_token_hint(&self) -> &str {
        "no Zoho refresh token in the store: run the consent step first"
    }
}

/// Zoho access tokens from a refresh token, as an [`AuthProvider`].
///
/// The lifecycle (store, cache, redaction) is core's [`RefreshTokenAuth`]: a new refresh
/// token the store refused to save is kept in memory and saved first on the next renewal.
pub struct ZohoOAuth {
    auth: RefreshTokenAuth<ZohoGrant>,
}

impl fmt::Debug for ZohoOAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ZohoOAuth")
            .field("client", &self.auth.grant().client)
            .field("store", self.auth.store())
            .field("cache", self.auth.cache())
            .finish()
    }
}

impl ZohoOAuth {
    /// A provider renewing through `http` (see [`token_http`]) with the token in `store`.
    pub fn new(client: ZohoClient, store: Arc<dyn RefreshTokenStore>, http: HttpClient) -> Self {
        ZohoOAuth {
            auth: RefreshTokenAuth::new(ZohoGrant { client, http }, store),
        }
    }
}

#[async_trait]
impl AuthProvider for ZohoOAuth {
    async fn authorize(&self, request: &mut Request) -> Result<AuthStamp> {
        self.auth.authorize(request).await
    }

    fn invalidate(&self, stamp: AuthStamp) {
        self.auth.invalidate(stamp);
    }

    fn renewable(&self) -> bool {
        self.auth.renewable()
    }

    fn redact(&self, text: &mut String) {
        self.auth.redact(text);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authorization_url_is_on_the_accounts_server_and_offline() {
        let client = ZohoClient {
            client_id: "1000.APP".into(),
            client_secret: SecretString::from("s3cr3t".to_owned()),
            accounts_url: "https://accounts.zoho.eu/".parse().unwrap(),
        };
        let consent = ConsentRequest::new("https://iam.example/cb".parse().unwrap());
        let url = consent.authorization_url(&client).unwrap();
        assert_eq!(url.host_str(), Some("accounts.zoho.eu"));
        assert_eq!(url.path(), "/oauth/v2/auth");
        let q: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
        assert_eq!(q["access_type"], "offline");
        assert_eq!(q["response_type"], "code");
        assert_eq!(q["client_id"], "1000.APP");
        assert_eq!(q["state"], consent.state);
        assert!(q["scope"].contains("SDPOnDemand.changes.ALL"));
        assert!(!format!("{client:?}").contains("s3cr3t"));
    }
}
