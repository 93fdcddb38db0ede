//! Authentication providers.
//!
//! A provider attaches credentials to each attempt of a request
//! ([`AuthProvider::authorize`]) and is told when the server rejected them
//! ([`AuthProvider::invalidate`]), so it can fetch new ones exactly once.
//! Providers are shared as `Arc<dyn AuthProvider>`.

mod cache;
mod oauth;
mod refresh;
mod session;
mod store;

use std::fmt;

use async_trait::async_trait;
use http::{HeaderName, HeaderValue, header::AUTHORIZATION};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::http::{Body, Request};
use crate::redact;

pub use cache::TokenCache;
pub use oauth::{ClientAuthStyle, OAuth2Auth, OAuth2Config, OAuth2Grant, RefreshTokenHook};
pub use refresh::{RefreshGrant, RefreshTokenAuth, RefreshedToken};
pub use session::{LoginFuture, Session, SessionAuth};
pub use store::{FileRefreshTokenStore, MemoryRefreshTokenStore, RefreshTokenStore};

/// Which credential an attempt used: handed back to [`AuthProvider::invalidate`] so a
/// provider drops only that credential, not one another task has already renewed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct AuthStamp(pub u64);

/// Attaches credentials to requests.
#[async_trait]
pub trait AuthProvider: Send + Sync + fmt::Debug {
    /// Attaches credentials to one attempt, fetching or renewing them if needed.
    async fn authorize(&self, request: &mut Request) -> Result<AuthStamp>;

    /// The server rejected the credential stamped `stamp`: forget it.
    /// Static credentials cannot be renewed, so the default does nothing.
    fn invalidate(&self, stamp: AuthStamp) {
        let _ = stamp;
    }

    /// Whether [`invalidate`](Self::invalidate) leads to a different credential, so
    /// repeating a rejected request is worth it.
    fn renewable(&self) -> bool {
        false
    }

    /// Replaces every credential value this provider holds in `text` with `[redacted]`.
    fn redact(&self, text: &mut String);

    /// Ends a server-side session, if there is one.
    async fn close(&self) -> Result<()> {
        Ok(())
    }
}

/// Where a credential goes in a request.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Placement {
    /// In a header, optionally after a prefix (`"Bearer "`, `"GenieKey "`).
    Header {
        /// The header.
        name: HeaderName,
        /// Text before the credential.
        prefix: Option<String>,
    },
    /// As a query parameter.
    Query {
        /// The parameter name.
        name: String,
    },
    /// As a field of a JSON object body, or as a query parameter when the request has
    /// no JSON object body or is a GET, HEAD or DELETE, whose bodies servers ignore
    /// (OTRS accepts `SessionID` either way).
    BodyFieldOrQuery {
        /// The field and parameter name.
        name: String,
    },
}

impl Placement {
    /// A header without prefix.
    pub fn header(name: HeaderName) -> Self {
        Placement::Header { name, prefix: None }
    }

    /// A header with a prefix.
    pub fn header_with_prefix(name: HeaderName, prefix: impl Into<String>) -> Self {
        Placement::Header {
            name,
            prefix: Some(prefix.into()),
        }
    }

    /// `Authorization: Bearer <credential>`.
    pub fn bearer() -> Self {
        Placement::header_with_prefix(AUTHORIZATION, "Bearer ")
    }

    /// A query parameter.
    pub fn query(name: impl Into<String>) -> Self {
        Placement::Query { name: name.into() }
    }

    /// A JSON body field, or a query parameter without a JSON body.
    pub fn body_field_or_query(name: impl Into<String>) -> Self {
        Placement::BodyFieldOrQuery { name: name.into() }
    }

    /// Puts `secret` into `request`.
    pub fn apply(&self, request: &mut Request, secret: &SecretString) -> Result<()> {
        match self {
            Placement::Header { name, prefix } => {
                let text = format!(
                    "{}{}",
                    prefix.as_deref().unwrap_or(""),
                    secret.expose_secret()
                );
                let mut value = HeaderValue::from_str(&text).map_err(|_| {
                    Error::config(format!(
                        "credential for header {name} has characters a header cannot carry"
                    ))
                })?;
                value.set_sensitive(true);
                request.headers_mut().insert(name.clone(), value);
            }
            Placement::Query { name } => {
                request
                    .url_mut()
                    .query_pairs_mut()
                    .append_pair(name, secret.expose_secret());
            }
            Placement::BodyFieldOrQuery { name } => {
                // Servers such as OTRS never read GET bodies: the query it must be.
                let reads_body = !matches!(
                    *request.method(),
                    http::Method::GET | http::Method::HEAD | http::Method::DELETE
                );
                if let (true, Body::Json(Value::Object(map))) = (reads_body, request.body_mut()) {
                    map.insert(
                        name.clone(),
                        Value::String(secret.expose_secret().to_owned()),
                    );
                } else {
                    request
                        .url_mut()
                        .query_pairs_mut()
                        .append_pair(name, secret.expose_secret());
                }
            }
        }
        Ok(())
    }
}

/// A fixed API key (OpsGenie `GenieKey`, SDP technician key, GLPI `App-Token`).
pub struct ApiKeyAuth {
    placement: Placement,
    key: SecretString,
}

impl ApiKeyAuth {
    /// A key placed as `placement` says.
    pub fn new(placement: Placement, key: SecretString) -> Self {
        ApiKeyAuth { placement, key }
    }
}

impl fmt::Debug for ApiKeyAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiKeyAuth")
            .field("placement", &self.placement)
            .field("key", &redact::REDACTED)
            .finish()
    }
}

#[async_trait]
impl AuthProvider for ApiKeyAuth {
    async fn authorize(&self, request: &mut Request) -> Result<AuthStamp> {
        self.placement.apply(request, &self.key)?;
        Ok(AuthStamp::default())
    }

    fn redact(&self, text: &mut String) {
        redact::redact_values(text, [self.key.expose_secret()]);
    }
}

/// HTTP Basic authentication.
pub struct BasicAuth {
    username: String,
    password: SecretString,
    header: SecretString,
}

impl BasicAuth {
    /// Basic auth for a user and password.
    pub fn new(username: impl Into<String>, password: SecretString) -> Self {
        use base64::Engine as _;
        let username = username.into();
        let encoded = base64::engine::general_purpose::STANDARD
            .encode(format!("{username}:{}", password.expose_secret()));
        BasicAuth {
            username,
            password,
            header: SecretString::from(encoded),
        }
    }
}

impl fmt::Debug for BasicAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BasicAuth")
            .field("username", &self.username)
            .field("password", &redact::REDACTED)
            .finish()
    }
}

#[async_trait]
impl AuthProvider for BasicAuth {
    async fn authorize(&self, request: &mut Request) -> Result<AuthStamp> {
        Placement::header_with_prefix(AUTHORIZATION, "Basic ").apply(request, &self.header)?;
        Ok(AuthStamp::default())
    }

    fn redact(&self, text: &mut String) {
        redact::redact_values(
            text,
            [self.password.expose_secret(), self.header.expose_secret()],
        );
    }
}

/// A fixed bearer token or personal access token.
pub struct BearerAuth {
    token: SecretString,
}

impl BearerAuth {
    /// `Authorization: Bearer <token>`.
    pub fn new(token: SecretString) -> Self {
        BearerAuth { token }
    }
}

impl fmt::Debug for BearerAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BearerAuth")
            .field("token", &redact::REDACTED)
            .finish()
    }
}

#[async_trait]
impl AuthProvider for BearerAuth {
    async fn authorize(&self, request: &mut Request) -> Result<AuthStamp> {
        Placement::bearer().apply(request, &self.token)?;
        Ok(AuthStamp::default())
    }

    fn redact(&self, text: &mut String) {
        redact::redact_values(text, [self.token.expose_secret()]);
    }
}

/// No credentials (public endpoints, tests).
#[derive(Debug, Default, Clone, Copy)]
pub struct NoAuth;

#[async_trait]
impl AuthProvider for NoAuth {
    async fn authorize(&self, _request: &mut Request) -> Result<AuthStamp> {
        Ok(AuthStamp::default())
    }

    fn redact(&self, _text: &mut String) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn dyn_auth_provider_is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync + ?Sized>() {}
        assert_send_sync::<dyn AuthProvider>();
        assert_send_sync::<Arc<dyn AuthProvider>>();
    }
}
