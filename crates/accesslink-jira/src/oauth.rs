//! OAuth 2.0 (3LO) for Jira Cloud with rotating refresh tokens.
//!
//! Atlassian's token endpoint takes a **JSON** body and returns a new refresh token on
//! every renewal while disabling the one used (fact sheet §2 "OAuth 2.0 3LO"); a reused
//! token gets `403 {"error":"invalid_grant"}`. So the renewal hands the new refresh token
//! to a [`RefreshTokenStore`] — an embedder's vault, [`FileRefreshTokenStore`] (atomic:
//! temporary file, then rename) or [`MemoryRefreshTokenStore`] — *before* the old one is
//! forgotten: a crash between the two leaves the store with a token that works.
//!
//! Access tokens are cached by core's [`TokenCache`](accesslink_core::auth::TokenCache) (renewed a minute ahead of expiry by
//! one task, dropped and renewed once on a 401). The consent step that yields the first
//! refresh token is here too: [`ConsentRequest::authorization_url`] (scopes with
//! `offline_access`, `state`, `prompt=consent`) and [`exchange_code`].

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use accesslink_core::auth::{
    AuthProvider, AuthStamp, Placement, RefreshGrant, RefreshTokenAuth, RefreshedToken,
};
use accesslink_core::http::{HttpClient, Request};
use accesslink_core::{Error, ExposeSecret, Result, SecretString, redact};
use async_trait::async_trait;
use serde::Deserialize;
use serde_json::json;
use url::Url;

/// Atlassian's authorization server.
pub const AUTH_URL: &str = "https://auth.atlassian.com";
/// Atlassian's API gateway (`/ex/jira/{cloudid}`, `/oauth/token/accessible-resources`).
pub const API_URL: &str = "https://api.atlassian.com";

/// The refresh-token stores are core's, shared by every connector with rotating tokens.
pub use accesslink_core::auth::{
    FileRefreshTokenStore, MemoryRefreshTokenStore, RefreshTokenStore,
};

/// The token endpoint's answer.
#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default)]
    expires_in: Option<u64>,
}

/// What a Jira OAuth client is: its id and secret and Atlassian's endpoints.
#[derive(Clone)]
pub struct OAuthClient {
    /// The app's client id.
    pub client_id: String,
    /// The app's client secret.
    pub client_secret: SecretString,
    /// The authorization server (default [`AUTH_URL`]; a mock's URL in tests).
    pub auth_url: Url,
}

impl fmt::Debug for OAuthClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthClient")
            .field("client_id", &self.client_id)
            .field("client_secret", &redact::REDACTED)
            .field("auth_url", &redact::url_shown(&self.auth_url))
            .finish()
    }
}

impl OAuthClient {
    fn token_url(&self) -> Result<Url> {
        self.auth_url
            .join("oauth/token")
            .map_err(|e| Error::config(format!("oauth auth_url: {e}")))
    }

    async fn token_call(
        &self,
        http: &HttpClient,
        body: serde_json::Value,
    ) -> Result<TokenResponse> {
        let request = http
            .request_url(http::Method::POST, self.token_url()?)
            .without_auth()
            .json(&body)?;
        http.send_json(request).await
    }
}

/// The authorization request of the consent step.
#[derive(Debug, Clone)]
pub struct ConsentRequest {
    /// Where Atlassian sends the browser back with `code` and `state`.
    pub redirect_uri: Url,
    /// Scopes; `offline_access` is added when missing (no refresh token without it).
    pub scopes: Vec<String>,
    /// An unguessable value the callback must return unchanged (CSRF protection).
    pub state: String,
}

impl ConsentRequest {
    /// A request with the scopes the connector uses (`read:jira-work`,
    /// `write:jira-work`, `read:jira-user`, `manage:jira-configuration`,
    /// `read:servicedesk-request`, `write:servicedesk-request`, `offline_access`) and a
    /// random `state`.
    pub fn new(redirect_uri: Url) -> Self {
        ConsentRequest {
            redirect_uri,
            scopes: [
                "read:jira-work",
                "write:jira-work",
                "read:jira-user",
                "manage:jira-configuration",
                "read:servicedesk-request",
                "write:servicedesk-request",
                "offline_access",
            ]
            .map(String::from)
            .to_vec(),
            state: format!("{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..)),
        }
    }

    /// The URL to send the user's browser to:
    /// `{auth}/authorize?audience=api.atlassian.com&client_id=…&scope=…&redirect_uri=…&state=…&response_type=code&prompt=consent`.
    pub fn authorization_url(&self, client: &OAuthClient) -> Result<Url> {
        let mut url = client
            .auth_url
            .join("authorize")
            .map_err(|e| Error::config(format!("oauth auth_url: {e}")))?;
        let mut scopes = self.scopes.clone();
        if !scopes.iter().any(|s| s == "offline_access") {
            scopes.push("offline_access".into());
        }
        url.query_pairs_mut()
            .append_pair("audience", "api.atlassian.com")
            .append_pair("client_id", &client.client_id)
            .append_pair("scope", &scopes.join(" "))
            .append_pair("redirect_uri", self.redirect_uri.as_str())
            .append_pair("state", &self.state)
            .append_pair("response_type", "code")
            .append_pair("prompt", "consent");
        Ok(url)
    }
}

/// The consent step's second half: checks `returned_state` against the request's, trades
/// the `code` for the first tokens, and saves the refresh token in `store`. `http` is a
/// client without auth (any base URL: the token URL is absolute).
pub async fn exchange_code(
    client: &OAuthClient,
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
    let body = json!({
        "grant_type": "authorization_code",
        "client_id": client.client_id,
        "client_secret": client.client_secret.expose_secret(),
        "code": code,
        "redirect_uri": consent.redirect_uri.as_str(),
    });
    let answer = client.token_call(http, body).await?;
    let refresh = answer.refresh_token.ok_or_else(|| {
        Error::auth("the token answer has no refresh token: was offline_access granted?")
    })?;
    store.save(&SecretString::from(refresh))
}

/// One site the token may reach (`GET /oauth/token/accessible-resources`).
#[derive(Debug, Clone, Deserialize)]
#[non_exhaustive]
pub struct AccessibleResource {
    /// The cloud id.
    pub id: String,
    /// The site URL (`https://acme.atlassian.net`).
    pub url: String,
    /// The site name.
    #[serde(default)]
    pub name: Option<String>,
    /// The scopes granted on it.
    #[serde(default)]
    pub scopes: Vec<String>,
}

/// Atlassian's refresh grant (JSON body, `invalid_grant` explained), for core's
/// [`RefreshTokenAuth`].
#[derive(Debug)]
struct AtlassianGrant {
    client: OAuthClient,
    http: HttpClient,
}

#[async_trait]
impl RefreshGrant for AtlassianGrant {
    async fn refresh(&self, refresh_token: &SecretString) -> Result<RefreshedToken> {
        let body = json!({
            "grant_type": "refresh_token",
            "client_id": self.client.client_id,
            "client_secret": self.client.client_secret.expose_secret(),
            "refresh_token": refresh_token.expose_secret(),
        });
        let answer = self
            .client
            .token_call(&self.http, body)
            .await
            .map_err(|e| {
                if e.vendor_code() == Some("invalid_grant") {
                    Error::auth(
                        "the refresh token was refused (invalid_grant): it was used already, \
                     revoked or expired; run the consent step again",
                    )
                } else {
                    e
                }
            })?;
        Ok(RefreshedToken {
            access_token: SecretString::from(answer.access_token),
            refresh_token: answer.refresh_token.map(SecretString::from),
            expires_in: Some(Duration::from_secs(answer.expires_in.unwrap_or(3600))),
        })
    }

    fn secrets(&self) -> Vec<SecretString> {
        vec![self.client.client_secret.clone()]
    }
}

/// Jira Cloud 3LO tokens from a rotating refresh token.
///
/// The lifecycle (store, unsaved-token safety, cache, redaction) is core's
/// [`RefreshTokenAuth`]; a rotated token the store refused to save is kept in memory and
/// saved first on the next renewal, so the rotation chain survives a store that was down.
pub struct AtlassianOAuth {
    auth: RefreshTokenAuth<AtlassianGrant>,
}

impl fmt::Debug for AtlassianOAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AtlassianOAuth")
            .field("client", &self.auth.grant().client)
            .field("store", self.auth.store())
            .field("cache", self.auth.cache())
            .finish()
    }
}

impl AtlassianOAuth {
    /// A provider renewing through `http` (a client without auth) with the refresh token
    /// in `store`.
    pub fn new(client: OAuthClient, store: Arc<dyn RefreshTokenStore>, http: HttpClient) -> Self {
        AtlassianOAuth {
            auth: RefreshTokenAuth::new(AtlassianGrant { client, http }, store),
        }
    }

    /// The current access token (renewed if due).
    pub async fn access_token(&self) -> Result<SecretString> {
        self.auth.access_token().await
    }

    /// The sites the token reaches, from `{api_url}/oauth/token/accessible-resources`.
    pub async fn accessible_resources(&self, api_url: &Url) -> Result<Vec<AccessibleResource>> {
        let url = api_url
            .join("oauth/token/accessible-resources")
            .map_err(|e| Error::config(format!("oauth api_url: {e}")))?;
        let http = &self.auth.grant().http;
        let mut request = http.request_url(http::Method::GET, url).without_auth();
        let token = self.access_token().await?;
        Placement::bearer().apply(&mut request, &token)?;
        http.send_json(request).await
    }
}

#[async_trait]
impl AuthProvider for AtlassianOAuth {
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
    fn authorization_url_asks_for_consent_and_offline_access() {
        let client = OAuthClient {
            client_id: "app-1".into(),
            client_secret: SecretString::from("s".to_owned()),
            auth_url: AUTH_URL.parse().unwrap(),
        };
        let mut consent = ConsentRequest::new("https://iam.example/cb".parse().unwrap());
        consent.scopes = vec!["read:jira-work".into()];
        let url = consent.authorization_url(&client).unwrap();
        assert_eq!(url.path(), "/authorize");
        let q: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
        assert_eq!(q["scope"], "read:jira-work offline_access");
        assert_eq!(q["audience"], "api.atlassian.com");
        assert_eq!(q["prompt"], "consent");
        assert_eq!(q["response_type"], "code");
        assert_eq!(q["state"], consent.state);
        assert_eq!(q["redirect_uri"], "https://iam.example/cb");
        assert!(!format!("{client:?}").contains("\"s\""));
    }
}
