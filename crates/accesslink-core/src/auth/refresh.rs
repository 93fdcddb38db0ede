//! One provider for OAuth refresh-token grants whose refresh token lives in a
//! [`RefreshTokenStore`] (Jira Cloud 3LO, Zoho for ServiceDesk Plus Cloud).
//!
//! The vendor says how one renewal is made ([`RefreshGrant`]: the token call, where the
//! access token goes, which extra secrets to redact); [`RefreshTokenAuth`] owns the rest of
//! the lifecycle: the refresh token is loaded from the store, a rotated one is saved
//! before the old one is forgotten, a rotated token the store refused is kept in memory
//! and saved first on the next renewal (so the rotation chain survives a store that was
//! down), and access tokens are cached by [`TokenCache`] (renewed a minute ahead of
//! expiry by one task, dropped and renewed once when the server rejects them).

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};

use super::{AuthProvider, AuthStamp, Placement, RefreshTokenStore, TokenCache};
use crate::error::{Error, Result};
use crate::http::Request;
use crate::redact;

/// What one refresh-token grant returned.
#[derive(Clone)]
pub struct RefreshedToken {
    /// The new access token.
    pub access_token: SecretString,
    /// A new refresh token, when the vendor rotates (or re-issues) it.
    pub refresh_token: Option<SecretString>,
    /// How long the access token lives, if known.
    pub expires_in: Option<Duration>,
}

impl fmt::Debug for RefreshedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RefreshedToken")
            .field("access_token", &redact::REDACTED)
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| redact::REDACTED),
            )
            .field("expires_in", &self.expires_in)
            .finish()
    }
}

/// A vendor's refresh-token grant: the one call [`RefreshTokenAuth`] cannot make itself.
#[async_trait]
pub trait RefreshGrant: Send + Sync + fmt::Debug {
    /// Trades `refresh_token` for an access token at the vendor's token endpoint.
    async fn refresh(&self, refresh_token: &SecretString) -> Result<RefreshedToken>;

    /// Where the access token goes in each request (default `Authorization: Bearer`).
    fn placement(&self) -> Placement {
        Placement::bearer()
    }

    /// Secrets of the grant itself (the client secret) that must be redacted too.
    fn secrets(&self) -> Vec<SecretString> {
        Vec::new()
    }

    /// The error text when the store holds no refresh token.
    fn missing_token_hint(&self) -> &str {
        "no refresh token in the store: run the consent step first"
    }
}

/// An [`AuthProvider`] for a refresh-token grant with a [`RefreshTokenStore`].
pub struct RefreshTokenAuth<G> {
    grant: G,
    store: Arc<dyn RefreshTokenStore>,
    cache: TokenCache<SecretString>,
    /// The refresh token last loaded or received, for redaction.
    current: Mutex<Option<SecretString>>,
    /// A rotated refresh token the store refused to save.
    unsaved: Mutex<Option<SecretString>>,
}

impl<G: fmt::Debug> fmt::Debug for RefreshTokenAuth<G> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RefreshTokenAuth")
            .field("grant", &self.grant)
            .field("store", &self.store)
            .field("cache", &self.cache)
            .finish_non_exhaustive()
    }
}

fn locked<T: Clone>(m: &Mutex<Option<T>>) -> Option<T> {
    m.lock().unwrap_or_else(PoisonError::into_inner).clone()
}

fn set<T>(m: &Mutex<Option<T>>, value: Option<T>) {
    *m.lock().unwrap_or_else(PoisonError::into_inner) = value;
}

impl<G: RefreshGrant> RefreshTokenAuth<G> {
    /// A provider renewing with `grant` from the refresh token in `store`; access
    /// tokens are renewed 60 s before they expire.
    pub fn new(grant: G, store: Arc<dyn RefreshTokenStore>) -> Self {
        RefreshTokenAuth {
            grant,
            store,
            cache: TokenCache::new(Duration::from_secs(60)),
            current: Mutex::new(None),
            unsaved: Mutex::new(None),
        }
    }

    /// The vendor grant.
    pub fn grant(&self) -> &G {
        &self.grant
    }

    /// The refresh-token store.
    pub fn store(&self) -> &Arc<dyn RefreshTokenStore> {
        &self.store
    }

    /// The access-token cache (for Debug output of the vendor types).
    pub fn cache(&self) -> &TokenCache<SecretString> {
        &self.cache
    }

    async fn fetch(&self) -> Result<(SecretString, Option<Duration>)> {
        // A token the store refused last time is the live one: save it before using it.
        if let Some(token) = locked(&self.unsaved) {
            self.store.save(&token)?;
            set(&self.unsaved, None);
        }
        let old = self
            .store
            .load()?
            .ok_or_else(|| Error::auth(self.grant.missing_token_hint().to_owned()))?;
        set(&self.current, Some(old.clone()));
        let answer = self.grant.refresh(&old).await?;
        if let Some(new) = answer.refresh_token {
            set(&self.current, Some(new.clone()));
            // The old token may be dead now: the new one must be in the store before we
            // go on. If the store refuses, the call fails, but the token is kept in
            // memory and saved first next time, so the chain survives.
            if let Err(e) = self.store.save(&new) {
                set(&self.unsaved, Some(new));
                return Err(e);
            }
        }
        Ok((answer.access_token, answer.expires_in))
    }

    /// The current access token (renewed if due).
    pub async fn access_token(&self) -> Result<SecretString> {
        Ok(self.cache.get(|| self.fetch()).await?.0)
    }
}

#[async_trait]
impl<G: RefreshGrant> AuthProvider for RefreshTokenAuth<G> {
    async fn authorize(&self, request: &mut Request) -> Result<AuthStamp> {
        let (token, stamp) = self.cache.get(|| self.fetch()).await?;
        self.grant.placement().apply(request, &token)?;
        Ok(stamp)
    }

    fn invalidate(&self, stamp: AuthStamp) {
        self.cache.invalidate(stamp);
    }

    fn renewable(&self) -> bool {
        true
    }

    fn redact(&self, text: &mut String) {
        let mut secrets = self.grant.secrets();
        secrets.extend(self.cache.peek());
        secrets.extend(locked(&self.current));
        secrets.extend(locked(&self.unsaved));
        redact::redact_values(text, secrets.iter().map(|s| s.expose_secret()));
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::super::MemoryRefreshTokenStore;
    use super::*;

    fn s(v: &str) -> SecretString {
        SecretString::from(v.to_owned())
    }

    /// An in-memory grant: rotates `refresh-N` → `refresh-N+1` and answers `access-N+1`; refuses a
    /// token it has already rotated away (like Atlassian's invalid_grant).
    #[derive(Debug, Default)]
    struct Rotating {
        calls: AtomicUsize,
        seen: Mutex<Vec<String>>,
    }

    #[async_trait]
    impl RefreshGrant for Rotating {
        async fn refresh(&self, refresh_token: &SecretString) -> Result<RefreshedToken> {
            tokio::task::yield_now().await;
            let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
            let rt = refresh_token.expose_secret().to_owned();
            let expected = format!("refresh-{}", n - 1);
            self.seen.lock().unwrap().push(rt.clone());
            if rt != expected {
                return Err(Error::auth(format!("invalid_grant for {rt}")));
            }
            Ok(RefreshedToken {
                access_token: s(&format!("access-{n}")),
                refresh_token: Some(s(&format!("refresh-{n}"))),
                expires_in: Some(Duration::from_secs(3600)),
            })
        }

        fn placement(&self) -> Placement {
            Placement::header_with_prefix(http::header::AUTHORIZATION, "Test ")
        }

        fn secrets(&self) -> Vec<SecretString> {
            vec![s("client-secret-canary")]
        }

        fn missing_token_hint(&self) -> &str {
            "no test token: consent first"
        }
    }

    /// A store that refuses saves while `down` is set.
    #[derive(Debug)]
    struct Flaky {
        inner: MemoryRefreshTokenStore,
        down: std::sync::atomic::AtomicBool,
        saves: Mutex<Vec<String>>,
    }

    impl RefreshTokenStore for Flaky {
        fn load(&self) -> Result<Option<SecretString>> {
            self.inner.load()
        }
        fn save(&self, token: &SecretString) -> Result<()> {
            if self.down.load(Ordering::SeqCst) {
                return Err(Error::config("vault down"));
            }
            self.saves
                .lock()
                .unwrap()
                .push(token.expose_secret().to_owned());
            self.inner.save(token)
        }
    }

    fn flaky(initial: &str) -> Arc<Flaky> {
        Arc::new(Flaky {
            inner: MemoryRefreshTokenStore::new(s(initial)),
            down: false.into(),
            saves: Mutex::new(Vec::new()),
        })
    }

    fn request() -> Request {
        Request::new(http::Method::GET, "https://x.example/a".parse().unwrap())
    }

    fn auth_header(r: &Request) -> String {
        r.headers()[http::header::AUTHORIZATION]
            .to_str()
            .unwrap()
            .to_owned()
    }

    #[tokio::test]
    async fn rotation_is_saved_and_placed() {
        let store = flaky("refresh-0");
        let auth = RefreshTokenAuth::new(Rotating::default(), store.clone());
        let mut r = request();
        auth.authorize(&mut r).await.unwrap();
        assert_eq!(auth_header(&r), "Test access-1");
        assert_eq!(*store.saves.lock().unwrap(), ["refresh-1"]);
        assert_eq!(store.load().unwrap().unwrap().expose_secret(), "refresh-1");
    }

    #[tokio::test]
    async fn a_refused_save_keeps_the_chain() {
        let store = flaky("refresh-0");
        let auth = RefreshTokenAuth::new(Rotating::default(), store.clone());
        store.down.store(true, Ordering::SeqCst);
        let err = auth.access_token().await.unwrap_err();
        assert!(err.to_string().contains("vault down"), "{err}");
        // The store still holds the used token; the rotated one is only in memory.
        assert_eq!(store.load().unwrap().unwrap().expose_secret(), "refresh-0");
        store.down.store(false, Ordering::SeqCst);
        let token = auth.access_token().await.unwrap();
        assert_eq!(token.expose_secret(), "access-2");
        // refresh-1 was saved first, then used, then refresh-2 saved.
        assert_eq!(*store.saves.lock().unwrap(), ["refresh-1", "refresh-2"]);
        assert_eq!(
            *auth.grant().seen.lock().unwrap(),
            ["refresh-0", "refresh-1"]
        );
    }

    #[tokio::test]
    async fn an_empty_store_is_a_clear_auth_error() {
        #[derive(Debug)]
        struct Empty;
        impl RefreshTokenStore for Empty {
            fn load(&self) -> Result<Option<SecretString>> {
                Ok(None)
            }
            fn save(&self, _: &SecretString) -> Result<()> {
                Ok(())
            }
        }
        let auth = RefreshTokenAuth::new(Rotating::default(), Arc::new(Empty));
        let err = auth.access_token().await.unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::Unauthenticated);
        assert!(
            err.to_string().contains("no test token: consent first"),
            "{err}"
        );
        assert_eq!(auth.grant().calls.load(Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn redacts_client_secret_access_and_refresh_token() {
        let auth = RefreshTokenAuth::new(Rotating::default(), flaky("refresh-0"));
        auth.access_token().await.unwrap();
        let mut text = "a client-secret-canary b access-1 c refresh-1 d".to_owned();
        auth.redact(&mut text);
        assert!(!text.contains("client-secret-canary"), "{text}");
        assert!(!text.contains("access-1"), "{text}");
        assert!(!text.contains("refresh-1"), "{text}");
        assert!(text.starts_with("a ") && text.ends_with(" d"), "{text}");
        let debug = format!("{auth:?}");
        // (The test grant and store record tokens in their own Debug; the provider adds none.)
        assert!(!debug.contains("access-1"), "{debug}");
        assert!(!debug.contains("client-secret-canary"), "{debug}");
    }

    #[tokio::test]
    async fn invalidate_forces_exactly_one_renewal() {
        let auth = RefreshTokenAuth::new(Rotating::default(), flaky("refresh-0"));
        let mut r = request();
        let stamp = auth.authorize(&mut r).await.unwrap();
        auth.authorize(&mut request()).await.unwrap();
        assert_eq!(auth.grant().calls.load(Ordering::SeqCst), 1);
        auth.invalidate(stamp);
        auth.invalidate(stamp);
        let mut r = request();
        auth.authorize(&mut r).await.unwrap();
        auth.authorize(&mut request()).await.unwrap();
        assert_eq!(auth_header(&r), "Test access-2");
        assert_eq!(auth.grant().calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn concurrent_authorize_calls_share_one_refresh() {
        let auth = RefreshTokenAuth::new(Rotating::default(), flaky("refresh-0"));
        let calls = (0..8).map(|_| async {
            let mut r = request();
            auth.authorize(&mut r).await.map(|_| auth_header(&r))
        });
        let headers = futures::future::join_all(calls).await;
        for h in headers {
            assert_eq!(h.unwrap(), "Test access-1");
        }
        assert_eq!(auth.grant().calls.load(Ordering::SeqCst), 1);
    }
}
