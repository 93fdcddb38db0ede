//! OAuth2 client-credentials, password and refresh-token grants, with the `oauth2`
//! crate driven by a closure over our own HTTP client (one reqwest in the tree, and
//! token calls get the same timeouts, retries and tracing as every other call).

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use http::HeaderValue;
use oauth2::basic::{
    BasicErrorResponse, BasicRevocationErrorResponse, BasicTokenIntrospectionResponse,
};
use oauth2::{
    AccessToken, AuthType, ClientId, ClientSecret, EndpointNotSet, EndpointSet, RefreshToken,
    RequestTokenError, ResourceOwnerPassword, ResourceOwnerUsername, Scope, StandardRevocableToken,
    TokenResponse, TokenType, TokenUrl,
};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Deserializer, Serialize};
use url::Url;

use super::{AuthProvider, AuthStamp, Placement, TokenCache};
use crate::error::{Error, Result};
use crate::http::{HttpClient, Request};
use crate::redact;

/// Called with the new refresh token when the server rotates it, so the embedder can
/// persist it (Jira Cloud 3LO, Zoho).
pub type RefreshTokenHook = Arc<dyn Fn(&SecretString) + Send + Sync>;

/// The grant used to obtain tokens.
#[derive(Clone)]
#[non_exhaustive]
pub enum OAuth2Grant {
    /// `client_credentials` (OpsRamp, Salesforce).
    ClientCredentials,
    /// `password`, with a refresh token used when the server issues one (ServiceNow).
    Password {
        /// The user.
        username: String,
        /// The password.
        password: SecretString,
    },
    /// `refresh_token` only: the embedder obtained a refresh token elsewhere (Jira 3LO,
    /// Zoho). Rotated refresh tokens replace it and are reported to the hook.
    RefreshToken {
        /// The initial refresh token.
        refresh_token: SecretString,
    },
}

impl fmt::Debug for OAuth2Grant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OAuth2Grant::ClientCredentials => f.write_str("ClientCredentials"),
            OAuth2Grant::Password { username, .. } => f
                .debug_struct("Password")
                .field("username", username)
                .field("password", &redact::REDACTED)
                .finish(),
            OAuth2Grant::RefreshToken { .. } => f
                .debug_struct("RefreshToken")
                .field("refresh_token", &redact::REDACTED)
                .finish(),
        }
    }
}

/// How the client authenticates to the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ClientAuthStyle {
    /// HTTP Basic with client id and secret (RFC 6749 default).
    #[default]
    BasicHeader,
    /// `client_id` and `client_secret` in the form body (ServiceNow, OpsRamp).
    RequestBody,
}

/// OAuth2 settings.
#[derive(Clone)]
#[non_exhaustive]
pub struct OAuth2Config {
    /// The token endpoint.
    pub token_url: Url,
    /// The client id.
    pub client_id: String,
    /// The client secret, if the client has one.
    pub client_secret: Option<SecretString>,
    /// The grant.
    pub grant: OAuth2Grant,
    /// Scopes to ask for.
    pub scopes: Vec<String>,
    /// How to send the client credentials.
    pub client_auth: ClientAuthStyle,
    /// How long before expiry to renew (default 60 s).
    pub refresh_ahead: Duration,
    /// Lifetime assumed when the server sends no `expires_in` (default 30 min).
    pub default_lifetime: Duration,
}

impl OAuth2Config {
    /// Settings for a token endpoint, client and grant.
    pub fn new(token_url: Url, client_id: impl Into<String>, grant: OAuth2Grant) -> Self {
        OAuth2Config {
            token_url,
            client_id: client_id.into(),
            client_secret: None,
            grant,
            scopes: Vec::new(),
            client_auth: ClientAuthStyle::default(),
            refresh_ahead: Duration::from_secs(60),
            default_lifetime: Duration::from_secs(1800),
        }
    }

    /// Sets the client secret.
    #[must_use]
    pub fn client_secret(mut self, secret: SecretString) -> Self {
        self.client_secret = Some(secret);
        self
    }

    /// Adds a scope.
    #[must_use]
    pub fn scope(mut self, scope: impl Into<String>) -> Self {
        self.scopes.push(scope.into());
        self
    }

    /// Sets how client credentials are sent.
    #[must_use]
    pub fn client_auth(mut self, style: ClientAuthStyle) -> Self {
        self.client_auth = style;
        self
    }

    /// Sets how long before expiry to renew.
    #[must_use]
    pub fn refresh_ahead(mut self, ahead: Duration) -> Self {
        self.refresh_ahead = ahead;
        self
    }
}

impl fmt::Debug for OAuth2Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuth2Config")
            .field("token_url", &self.token_url.as_str())
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| redact::REDACTED),
            )
            .field("grant", &self.grant)
            .field("scopes", &self.scopes)
            .field("client_auth", &self.client_auth)
            .field("refresh_ahead", &self.refresh_ahead)
            .finish()
    }
}

/// A `token_type` of any spelling (`Bearer`, `bearer`), or absent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
struct AnyTokenType(String);

impl TokenType for AnyTokenType {}

fn default_token_type() -> AnyTokenType {
    AnyTokenType("bearer".into())
}

/// A token response that tolerates what real servers send: `expires_in` as a number
/// or a string (OpsRamp), `token_type` missing or in any case.
#[derive(Debug, Serialize, Deserialize)]
struct LenientTokenResponse {
    access_token: AccessToken,
    #[serde(default = "default_token_type")]
    token_type: AnyTokenType,
    #[serde(default, deserialize_with = "number_or_string")]
    expires_in: Option<u64>,
    #[serde(default)]
    refresh_token: Option<RefreshToken>,
    #[serde(skip)]
    scopes: Option<Vec<Scope>>,
}

fn number_or_string<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Option<u64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        N(u64),
        F(f64),
        S(String),
    }
    Ok(match Option::<Raw>::deserialize(d)? {
        None => None,
        Some(Raw::N(n)) => Some(n),
        Some(Raw::F(f)) => (f.is_finite() && f >= 0.0).then_some(f as u64),
        Some(Raw::S(s)) => s.trim().parse().ok(),
    })
}

impl TokenResponse for LenientTokenResponse {
    type TokenType = AnyTokenType;

    fn access_token(&self) -> &AccessToken {
        &self.access_token
    }

    fn token_type(&self) -> &AnyTokenType {
        &self.token_type
    }

    fn expires_in(&self) -> Option<Duration> {
        self.expires_in.map(Duration::from_secs)
    }

    fn refresh_token(&self) -> Option<&RefreshToken> {
        self.refresh_token.as_ref()
    }

    fn scopes(&self) -> Option<&Vec<Scope>> {
        self.scopes.as_ref()
    }
}

type Oauth2Client = oauth2::Client<
    BasicErrorResponse,
    LenientTokenResponse,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
>;

/// OAuth2 bearer tokens from a token endpoint, cached and renewed ahead of expiry.
pub struct OAuth2Auth {
    config: OAuth2Config,
    client: Oauth2Client,
    http: HttpClient,
    cache: TokenCache<SecretString>,
    refresh_token: Mutex<Option<SecretString>>,
    on_refresh_token: Option<RefreshTokenHook>,
}

impl fmt::Debug for OAuth2Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuth2Auth")
            .field("config", &self.config)
            .field("cache", &self.cache)
            .finish_non_exhaustive()
    }
}

impl OAuth2Auth {
    /// A provider that calls the token endpoint through `http` (which should carry no
    /// auth of its own; redirects are never followed by accesslink clients).
    pub fn new(config: OAuth2Config, http: HttpClient) -> Self {
        let mut client = oauth2::Client::new(ClientId::new(config.client_id.clone()))
            .set_token_uri(TokenUrl::from_url(config.token_url.clone()))
            .set_auth_type(match config.client_auth {
                ClientAuthStyle::BasicHeader => AuthType::BasicAuth,
                ClientAuthStyle::RequestBody => AuthType::RequestBody,
            });
        if let Some(secret) = &config.client_secret {
            client = client.set_client_secret(ClientSecret::new(secret.expose_secret().to_owned()));
        }
        let refresh_token = match &config.grant {
            OAuth2Grant::RefreshToken { refresh_token } => Some(refresh_token.clone()),
            _ => None,
        };
        OAuth2Auth {
            cache: TokenCache::new(config.refresh_ahead),
            config,
            client,
            http,
            refresh_token: Mutex::new(refresh_token),
            on_refresh_token: None,
        }
    }

    /// Calls `hook` with every new refresh token the server issues.
    #[must_use]
    pub fn on_refresh_token(mut self, hook: RefreshTokenHook) -> Self {
        self.on_refresh_token = Some(hook);
        self
    }

    fn stored_refresh_token(&self) -> Option<SecretString> {
        self.refresh_token
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    async fn fetch(&self) -> Result<(SecretString, Option<Duration>)> {
        let response = match self.stored_refresh_token() {
            Some(rt) => match self.exchange_refresh(&rt).await {
                Ok(r) => r,
                Err(e) if matches!(self.config.grant, OAuth2Grant::RefreshToken { .. }) => {
                    return Err(e);
                }
                Err(e) => {
                    tracing::info!(error = %e, "refresh token refused; using the primary grant");
                    *self
                        .refresh_token
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner) = None;
                    self.exchange_primary().await?
                }
            },
            None => self.exchange_primary().await?,
        };
        if let Some(rt) = response.refresh_token() {
            let new = SecretString::from(rt.secret().clone());
            let changed = self
                .stored_refresh_token()
                .is_none_or(|old| old.expose_secret() != new.expose_secret());
            *self
                .refresh_token
                .lock()
                .unwrap_or_else(PoisonError::into_inner) = Some(new.clone());
            if changed {
                if let Some(hook) = &self.on_refresh_token {
                    hook(&new);
                }
            }
        }
        let ttl = response
            .expires_in()
            .unwrap_or(self.config.default_lifetime);
        Ok((
            SecretString::from(response.access_token().secret().clone()),
            Some(ttl),
        ))
    }

    async fn exchange_primary(&self) -> Result<LenientTokenResponse> {
        let http = |req| token_call(self.http.clone(), req);
        let scopes = self.config.scopes.iter().map(|s| Scope::new(s.clone()));
        let result = match &self.config.grant {
            OAuth2Grant::ClientCredentials => {
                self.client
                    .exchange_client_credentials()
                    .add_scopes(scopes)
                    .request_async(&http)
                    .await
            }
            OAuth2Grant::Password { username, password } => {
                let user = ResourceOwnerUsername::new(username.clone());
                let pass = ResourceOwnerPassword::new(password.expose_secret().to_owned());
                self.client
                    .exchange_password(&user, &pass)
                    .add_scopes(scopes)
                    .request_async(&http)
                    .await
            }
            OAuth2Grant::RefreshToken { .. } => {
                return Err(Error::auth(
                    "no refresh token left to renew the access token",
                ));
            }
        };
        result.map_err(|e| token_error("token request", e))
    }

    async fn exchange_refresh(&self, rt: &SecretString) -> Result<LenientTokenResponse> {
        let http = |req| token_call(self.http.clone(), req);
        let rt = RefreshToken::new(rt.expose_secret().to_owned());
        self.client
            .exchange_refresh_token(&rt)
            .request_async(&http)
            .await
            .map_err(|e| token_error("refresh token request", e))
    }
}

async fn token_call(http: HttpClient, req: oauth2::HttpRequest) -> Result<oauth2::HttpResponse> {
    let (parts, body) = req.into_parts();
    let url = Url::parse(&parts.uri.to_string())
        .map_err(|e| Error::config(format!("token endpoint URL: {e}")))?;
    let mut request = http
        .request_url(parts.method, url)
        .without_auth()
        .retry_safe(true);
    for (name, value) in &parts.headers {
        let mut value: HeaderValue = value.clone();
        value.set_sensitive(true);
        request.headers_mut().insert(name.clone(), value);
    }
    let content_type = parts
        .headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/x-www-form-urlencoded")
        .to_owned();
    let request: Request = request.raw_body(body, content_type);
    let response = http.execute(request).await?;
    let mut out = http::Response::builder().status(response.status());
    for (name, value) in response.headers() {
        out = out.header(name, value);
    }
    out.body(response.bytes().to_vec())
        .map_err(|e| Error::other(format!("token response: {e}")))
}

fn token_error(what: &str, e: RequestTokenError<Error, BasicErrorResponse>) -> Error {
    match e {
        RequestTokenError::ServerResponse(r) => {
            let mut message = format!("{what} refused: {}", r.error());
            if let Some(d) = r.error_description() {
                message.push_str(": ");
                message.push_str(&redact::redact_text(d));
            }
            Error::auth(message)
        }
        RequestTokenError::Request(e) => e,
        RequestTokenError::Parse(source, _body) => Error::Auth {
            message: format!("{what}: the answer is not an OAuth2 token response"),
            source: Some(Box::new(source.into_inner())),
        },
        RequestTokenError::Other(message) => Error::auth(format!("{what}: {message}")),
    }
}

#[async_trait]
impl AuthProvider for OAuth2Auth {
    async fn authorize(&self, request: &mut Request) -> Result<AuthStamp> {
        let (token, stamp) = self.cache.get(|| self.fetch()).await?;
        Placement::bearer().apply(request, &token)?;
        Ok(stamp)
    }

    fn invalidate(&self, stamp: AuthStamp) {
        self.cache.invalidate(stamp);
    }

    fn renewable(&self) -> bool {
        true
    }

    fn redact(&self, text: &mut String) {
        let mut secrets: Vec<String> = Vec::new();
        if let Some(t) = self.cache.peek() {
            secrets.push(t.expose_secret().to_owned());
        }
        if let Some(t) = self.stored_refresh_token() {
            secrets.push(t.expose_secret().to_owned());
        }
        if let Some(s) = &self.config.client_secret {
            secrets.push(s.expose_secret().to_owned());
        }
        if let OAuth2Grant::Password { password, .. } = &self.config.grant {
            secrets.push(password.expose_secret().to_owned());
        }
        redact::redact_values(text, secrets.iter().map(String::as_str));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lenient_token_response_accepts_string_expiry_and_missing_type() {
        let r: LenientTokenResponse = serde_json::from_str(
            r#"{"access_token":"a","expires_in":"7199","token_type":"bearer"}"#,
        )
        .unwrap();
        assert_eq!(r.expires_in(), Some(Duration::from_secs(7199)));
        let r: LenientTokenResponse =
            serde_json::from_str(r#"{"access_token":"a","expires_in":3600}"#).unwrap();
        assert_eq!(r.expires_in(), Some(Duration::from_secs(3600)));
        assert_eq!(r.token_type().0, "bearer");
        let r: LenientTokenResponse = serde_json::from_str(r#"{"access_token":"a"}"#).unwrap();
        assert_eq!(r.expires_in(), None);
    }
}
