//! Session login: a connector's own login call, cached, attached where the target wants it.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use futures::future::BoxFuture;
use secrecy::{ExposeSecret, SecretString};

use super::{AuthProvider, AuthStamp, Placement, TokenCache};
use crate::error::Result;
use crate::http::Request;
use crate::redact;

/// A session a login call returned.
#[derive(Clone)]
pub struct Session {
    /// The session id or token.
    pub token: SecretString,
    /// How long the session lives, if the target says (or the connector knows).
    pub ttl: Option<Duration>,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("token", &redact::REDACTED)
            .field("ttl", &self.ttl)
            .finish()
    }
}

/// The future a login or logout call returns.
pub type LoginFuture = BoxFuture<'static, Result<Session>>;
type LoginFn = Arc<dyn Fn() -> LoginFuture + Send + Sync>;
type LogoutFn = Arc<dyn Fn(SecretString) -> BoxFuture<'static, Result<()>> + Send + Sync>;

/// A generic session-login provider (OTRS `SessionCreate`, GLPI `initSession`,
/// BMC Helix `jwt/login`).
///
/// The connector gives the login call (usually a closure over an unauthenticated
/// [`HttpClient`](crate::http::HttpClient)) and where the session goes in each
/// request. The session is cached, shared by every task, renewed by one task when
/// it expires, and dropped when the server rejects it, so the next attempt logs in
/// again exactly once.
pub struct SessionAuth {
    name: &'static str,
    login: LoginFn,
    logout: Option<LogoutFn>,
    placement: Placement,
    cache: TokenCache<SecretString>,
}

impl SessionAuth {
    /// A provider that logs in with `login` and attaches the session as `placement`.
    pub fn new<F>(name: &'static str, placement: Placement, login: F) -> Self
    where
        F: Fn() -> LoginFuture + Send + Sync + 'static,
    {
        SessionAuth {
            name,
            login: Arc::new(login),
            logout: None,
            placement,
            cache: TokenCache::new(Duration::from_secs(30)),
        }
    }

    /// A logout call run by [`AuthProvider::close`] (GLPI `killSession`).
    #[must_use]
    pub fn with_logout<F>(mut self, logout: F) -> Self
    where
        F: Fn(SecretString) -> BoxFuture<'static, Result<()>> + Send + Sync + 'static,
    {
        self.logout = Some(Arc::new(logout));
        self
    }

    /// How long before the session's known expiry to log in again (default 30 s).
    #[must_use]
    pub fn refresh_ahead(mut self, ahead: Duration) -> Self {
        self.cache = TokenCache::new(ahead);
        self
    }

    /// The session token currently cached, if any (for connectors whose API needs it
    /// in a place the placement cannot express).
    pub async fn session(&self) -> Result<(SecretString, AuthStamp)> {
        let login = self.login.clone();
        self.cache
            .get(|| async move {
                let s = login().await?;
                Ok((s.token, s.ttl))
            })
            .await
    }
}

impl fmt::Debug for SessionAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionAuth")
            .field("name", &self.name)
            .field("placement", &self.placement)
            .field("cache", &self.cache)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl AuthProvider for SessionAuth {
    async fn authorize(&self, request: &mut Request) -> Result<AuthStamp> {
        let (token, stamp) = self.session().await?;
        self.placement.apply(request, &token)?;
        Ok(stamp)
    }

    fn invalidate(&self, stamp: AuthStamp) {
        tracing::debug!(
            provider = self.name,
            "session rejected by the server; dropping it"
        );
        self.cache.invalidate(stamp);
    }

    fn renewable(&self) -> bool {
        true
    }

    fn redact(&self, text: &mut String) {
        if let Some(t) = self.cache.peek() {
            redact::redact_values(text, [t.expose_secret()]);
        }
    }

    async fn close(&self) -> Result<()> {
        match (self.cache.take(), &self.logout) {
            (Some(token), Some(logout)) => logout(token).await,
            _ => Ok(()),
        }
    }
}
