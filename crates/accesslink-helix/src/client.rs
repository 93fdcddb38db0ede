//! [`HelixClient`]: JWT login (`POST /api/jwt/login`, the answer's raw token sent as
//! `Authorization: AR-JWT <token>`), renewed ahead of expiry and once on a 401, logout on
//! [`HelixClient::close`] and (best effort) on drop; optional one-request-at-a-time per
//! account (AR error 9093); and entry calls under `/api/arsys/v1/entry/{form}`.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use accesslink_core::auth::{AuthProvider, AuthStamp, Placement, Session, SessionAuth};
use accesslink_core::http::{HttpClient, Request, RetryConfig};
use accesslink_core::redact::{self, REDACTED};
use accesslink_core::{Error, Result, async_trait};
use http::header::AUTHORIZATION;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Map, Value, json};

use crate::error::{ArRetry, parse_error, parse_error_with};
use crate::models::{Entry, EntryList};
use crate::qual::Qual;
use crate::settings::{HelixAuth, HelixSettings};

/// The credentials, redacted from everything the server answers.
#[derive(Clone)]
struct Login {
    username: String,
    password: SecretString,
    auth_string: Option<String>,
}

impl fmt::Debug for Login {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Login")
            .field("username", &self.username)
            .field("password", &REDACTED)
            .finish_non_exhaustive()
    }
}

/// No auth on the login client, but it redacts the password.
#[derive(Debug)]
struct LoginOnly(Login);

#[async_trait]
impl AuthProvider for LoginOnly {
    async fn authorize(&self, _request: &mut Request) -> Result<AuthStamp> {
        Ok(AuthStamp::default())
    }

    fn redact(&self, text: &mut String) {
        redact::redact_values(text, [self.0.password.expose_secret()]);
    }
}

/// The session plus the password, for redaction.
#[derive(Debug)]
struct JwtAuth {
    login: Login,
    session: SessionAuth,
}

#[async_trait]
impl AuthProvider for JwtAuth {
    async fn authorize(&self, request: &mut Request) -> Result<AuthStamp> {
        self.session.authorize(request).await
    }

    fn invalidate(&self, stamp: AuthStamp) {
        self.session.invalidate(stamp);
    }

    fn renewable(&self) -> bool {
        true
    }

    fn redact(&self, text: &mut String) {
        redact::redact_values(text, [self.login.password.expose_secret()]);
        self.session.redact(text);
    }

    async fn close(&self) -> Result<()> {
        self.session.close().await
    }
}

struct Inner {
    http: HttpClient,
    auth: Arc<JwtAuth>,
    gate: Option<tokio::sync::Semaphore>,
    settings: Arc<HelixSettings>,
}

impl Drop for Inner {
    /// Logs out, best effort, when a runtime is there to do it.
    fn drop(&mut self) {
        let auth = self.auth.clone();
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            handle.spawn(async move {
                if let Err(e) = auth.close().await {
                    tracing::debug!(error = %e, "Helix logout on drop failed");
                }
            });
        }
    }
}

/// A client for one AR System server. Cheap to clone: clones share the session.
#[derive(Clone)]
pub struct HelixClient {
    inner: Arc<Inner>,
}

impl fmt::Debug for HelixClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HelixClient")
            .field("base_url", &redact::url_shown(self.inner.http.base_url()))
            .field("auth", &self.inner.auth)
            .field("serialized", &self.inner.gate.is_some())
            .finish()
    }
}

/// The seconds until a JWT's `exp`, if the token is a JWT with one.
fn jwt_ttl(token: &str) -> Option<Duration> {
    use base64::Engine as _;
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let claims: Value = serde_json::from_slice(&bytes).ok()?;
    let exp = claims.get("exp")?.as_u64()?;
    let now = SystemTime::now().duration_since(UNIX_EPOCH).ok()?.as_secs();
    Some(Duration::from_secs(exp.saturating_sub(now)))
}

async fn login(http: &HttpClient, login: &Login, lifetime: Duration) -> Result<Session> {
    let mut form = vec![
        ("username".to_owned(), login.username.clone()),
        (
            "password".to_owned(),
            login.password.expose_secret().to_owned(),
        ),
    ];
    if let Some(a) = &login.auth_string {
        form.push(("authString".to_owned(), a.clone()));
    }
    // Logging in twice is harmless: a lost answer only leaves an unused session.
    let request = http.post("api/jwt/login")?.form(form).retry_safe(true);
    let response = http.send(request).await.map_err(|e| {
        if e.kind() == accesslink_core::ErrorKind::Unauthenticated {
            Error::auth(format!(
                "Helix refused the login of {:?}: {e}",
                login.username
            ))
        } else {
            e
        }
    })?;
    let token = response.text().trim().to_owned();
    let plausible = !token.is_empty()
        && token.len() < 16 * 1024
        && !token.starts_with(['<', '{', '['])
        && token.chars().all(|c| c.is_ascii_graphic());
    if !plausible {
        return Err(Error::protocol(
            "POST /api/jwt/login",
            "the login answer is not a token (expected the raw token as text)",
        ));
    }
    let ttl = jwt_ttl(&token).map_or(lifetime, |t| t.min(lifetime));
    tracing::debug!(ttl_secs = ttl.as_secs(), "Helix JWT obtained");
    Ok(Session {
        token: SecretString::from(token),
        ttl: Some(ttl),
    })
}

async fn logout(http: &HttpClient, token: &SecretString) -> Result<()> {
    let mut request = http.post("api/jwt/logout")?.without_auth();
    Placement::header_with_prefix(AUTHORIZATION, "AR-JWT ").apply(&mut request, token)?;
    let response = http.execute(request).await?;
    // A token the server no longer knows is logged out already.
    if response.status().is_success() || response.status().as_u16() == 401 {
        tracing::debug!("Helix JWT logged out");
        return Ok(());
    }
    let vendor = parse_error(&response).unwrap_or_default();
    Err(response.api_error(vendor.kind, vendor.code, vendor.message))
}

/// Percent-encodes one path segment (form names have spaces and colons; ids may have `|`).
pub fn segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b':') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// One page of a list.
#[derive(Debug, Clone)]
pub struct EntryPage {
    /// The entries.
    pub entries: Vec<Entry>,
    /// Whether `_links.next` was there.
    pub more: bool,
}

impl HelixClient {
    /// A client from settings: checks them and resolves the password before any request.
    /// Nothing is sent until the first call, which logs in.
    pub fn from_settings(settings: &HelixSettings) -> Result<HelixClient> {
        settings.validate()?;
        let HelixAuth::Jwt {
            username,
            password,
            auth_string,
        } = &settings.auth;
        let creds = Login {
            username: username.clone(),
            password: password.resolve("auth.password")?,
            auth_string: auth_string.clone(),
        };
        let transient: Arc<[i64]> = settings.transient_errors.iter().copied().collect();
        let plain = HttpClient::builder("helix", settings.base_url.as_str())
            .instance(settings.name.clone())
            .settings(&settings.http)?
            .auth(Arc::new(LoginOnly(creds.clone())))
            .error_parser(move |r| parse_error_with(r, &transient))
            .retry_classifier(Arc::new(ArRetry::new(settings.transient_errors.clone())))
            .build()?;
        let lifetime = Duration::from_secs(settings.token_lifetime_secs);
        let (login_http, login_creds) = (plain.clone(), creds.clone());
        let session = SessionAuth::new(
            "helix",
            Placement::header_with_prefix(AUTHORIZATION, "AR-JWT "),
            move || {
                let (http, creds) = (login_http.clone(), login_creds.clone());
                Box::pin(async move { login(&http, &creds, lifetime).await })
            },
        )
        .refresh_ahead(Duration::from_secs(settings.renew_ahead_secs));
        let logout_http = plain.clone();
        let session = session.with_logout(move |token| {
            let http = logout_http.clone();
            Box::pin(async move { logout(&http, &token).await })
        });
        let auth = Arc::new(JwtAuth {
            login: creds,
            session,
        });
        Ok(HelixClient {
            inner: Arc::new(Inner {
                http: plain.with_auth(auth.clone()),
                auth,
                gate: settings
                    .serialize_per_account
                    .then(|| tokio::sync::Semaphore::new(1)),
                settings: Arc::new(settings.clone()),
            }),
        })
    }

    /// The HTTP client (the JWT attached to every request).
    pub fn http(&self) -> &HttpClient {
        &self.inner.http
    }

    /// The settings.
    pub fn settings(&self) -> &HelixSettings {
        &self.inner.settings
    }

    /// The retry settings (also the budget of the lookup-then-retry of writes).
    pub fn retry_config(&self) -> &RetryConfig {
        self.inner.http.retry_config()
    }

    /// Logs out (`POST /api/jwt/logout`), releasing the licence; the next call logs in
    /// again.
    pub async fn close(&self) -> Result<()> {
        self.inner.http.close().await
    }

    async fn permit(&self) -> Result<Option<tokio::sync::SemaphorePermit<'_>>> {
        match &self.inner.gate {
            Some(g) => g
                .acquire()
                .await
                .map(Some)
                .map_err(|_| Error::other("Helix request gate closed")),
            None => Ok(None),
        }
    }

    /// Sends a request (one at a time with `serialize_per_account`).
    pub async fn send(&self, request: Request) -> Result<accesslink_core::http::Response> {
        let _permit = self.permit().await?;
        self.inner.http.send(request).await
    }

    fn entry_path(form: &str) -> String {
        format!("api/arsys/v1/entry/{}", segment(form))
    }

    /// `GET /entry/{form}?q=…&fields=values(…)&sort=<entry id>.asc&offset=…&limit=…`.
    pub async fn list(
        &self,
        form: &str,
        q: Option<&Qual>,
        fields: &[&str],
        offset: u64,
        limit: u32,
    ) -> Result<EntryPage> {
        let sort = format!("{}.asc", self.settings().fields.entry_id);
        self.list_sorted(form, q, fields, &sort, offset, limit)
            .await
    }

    /// [`list`](Self::list) with another `sort` (`Last Modified Date.asc,Request ID.asc`).
    pub async fn list_sorted(
        &self,
        form: &str,
        q: Option<&Qual>,
        fields: &[&str],
        sort: &str,
        offset: u64,
        limit: u32,
    ) -> Result<EntryPage> {
        let http = self.http();
        let mut request = http.get(&Self::entry_path(form))?;
        if let Some(q) = q {
            request = request.query_pair("q", q.as_str());
        }
        if !fields.is_empty() {
            request = request.query_pair("fields", &format!("values({})", fields.join(",")));
        }
        request = request
            .query_pair("sort", sort)
            .query_pair("offset", &offset.to_string())
            .query_pair("limit", &limit.to_string());
        let label = format!("GET /entry/{form}");
        let response = self.send(request).await?;
        let list: EntryList = response.json()?;
        if list.entries.len() > limit as usize {
            return Err(Error::protocol(
                label,
                format!("asked for {limit} entries, got {}", list.entries.len()),
            ));
        }
        let more = list.links.next.as_ref().is_some_and(|n| !n.is_empty());
        if more && list.entries.is_empty() {
            return Err(Error::protocol(label, "an empty page with a next link"));
        }
        if !more {
            if let Some(max) = self.settings().max_entries_returned {
                if list.entries.len() as u64 == u64::from(max) && limit > max {
                    return Err(Error::protocol(
                        label,
                        format!(
                            "the server returned exactly its Max Entries Returned ({max}) and no next link: the list was truncated; raise the server limit or lower page_size"
                        ),
                    ));
                }
            }
        }
        Ok(EntryPage {
            entries: list.entries,
            more,
        })
    }

    /// Every entry matching `q`, page by page until `_links.next` is absent. A page that
    /// repeats the previous one is an error; so is a full last page when `expected`
    /// says more exist.
    pub async fn list_all(
        &self,
        form: &str,
        q: Option<&Qual>,
        fields: &[&str],
        expected: Option<usize>,
    ) -> Result<Vec<Entry>> {
        let limit = self.settings().page_size;
        let id_field = self.settings().fields.entry_id.clone();
        let mut out: Vec<Entry> = Vec::new();
        let mut previous_first: Option<String> = None;
        let mut offset = 0u64;
        loop {
            let page = self.list(form, q, fields, offset, limit).await?;
            let first = page.entries.first().and_then(|e| e.entry_id(&id_field));
            if first.is_some() && first == previous_first {
                return Err(Error::protocol(
                    format!("GET /entry/{form}"),
                    format!("the page at offset {offset} repeats the previous one"),
                ));
            }
            previous_first = first;
            offset += page.entries.len() as u64;
            let full = page.entries.len() == limit as usize;
            out.extend(page.entries);
            if !page.more {
                if let Some(n) = expected {
                    if full && out.len() < n {
                        return Err(Error::protocol(
                            format!("GET /entry/{form}"),
                            format!(
                                "{} of {n} known entries, and the last page was full with no next link: truncated",
                                out.len()
                            ),
                        ));
                    }
                }
                return Ok(out);
            }
        }
    }

    /// `POST /entry/{form}?fields=values(…)` with `{"values": …}`; the values asked
    /// for, from the answer. Not retried (a write); see `write_with_lookup`.
    pub async fn create(
        &self,
        form: &str,
        values: Map<String, Value>,
        fields: &[&str],
    ) -> Result<Map<String, Value>> {
        let http = self.http();
        let mut request = http.post(&Self::entry_path(form))?;
        if !fields.is_empty() {
            request = request.query_pair("fields", &format!("values({})", fields.join(",")));
        }
        let request = request.json(&json!({ "values": values }))?;
        let response = self.send(request).await?;
        if response.bytes().is_empty() {
            return Ok(Map::new());
        }
        let body: Value = response.json()?;
        Ok(body
            .get("values")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default())
    }

    /// `PUT /entry/{form}/{id}` with only the changed values.
    pub async fn update(&self, form: &str, id: &str, values: Map<String, Value>) -> Result<()> {
        let http = self.http();
        let path = format!("{}/{}", Self::entry_path(form), segment(id));
        let request = http.put(&path)?.json(&json!({ "values": values }))?;
        self.send(request).await?;
        Ok(())
    }
}

impl HelixClient {
    /// `DELETE /entry/{form}/{id}`.
    pub async fn delete(&self, form: &str, id: &str) -> Result<()> {
        let http = self.http();
        let path = format!("{}/{}", Self::entry_path(form), segment(id));
        self.send(http.delete(&path)?).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_are_encoded() {
        assert_eq!(segment("HPD:Help Desk"), "HPD:Help%20Desk");
        assert_eq!(segment("000001|000002"), "000001%7C000002");
        assert_eq!(segment("a/b?c#"), "a%2Fb%3Fc%23");
    }
}
