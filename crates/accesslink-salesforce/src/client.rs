//! [`SalesforceClient`]: the OAuth token (with its `instance_url`), the HTTP plumbing at
//! `{instance_url}/services/data/{version}/`, and the few REST calls the connector makes.
//!
//! The token answer has no `expires_in` (fact sheet §3 "Auth"): the token is kept for
//! the configured lifetime (default 2 h) and renewed once when a call is answered 401
//! `INVALID_SESSION_ID` (core's auth retry). Calls go to the token's `instance_url`, not
//! to the login host.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use accesslink_core::auth::{AuthProvider, AuthStamp, Placement, TokenCache};
use accesslink_core::http::{HttpClient, HttpSettings, Request, RetryConfig};
use accesslink_core::{Error, Result, SecretString, async_trait, redact};
use http::Method;
use secrecy::ExposeSecret;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use url::Url;

use crate::error::{parse_error, parse_token_error};
use crate::ids::SfId;
use crate::limits::ApiUsageTracker;
use crate::models::{QueryPage, SaveResult};
use crate::soql::Soql;

/// The grant a client uses (built from [`SalesforceAuth`](crate::SalesforceAuth)).
#[derive(Clone)]
#[non_exhaustive]
pub enum Grant {
    /// `grant_type=client_credentials`.
    ClientCredentials {
        /// Consumer key.
        client_id: String,
        /// Consumer secret.
        client_secret: SecretString,
    },
    /// `grant_type=password`, the security token appended to the password.
    Password {
        /// Consumer key.
        client_id: String,
        /// Consumer secret.
        client_secret: SecretString,
        /// User name.
        username: String,
        /// Password.
        password: SecretString,
        /// Security token.
        security_token: Option<SecretString>,
    },
    /// `grant_type=refresh_token`.
    RefreshToken {
        /// Consumer key.
        client_id: String,
        /// Consumer secret.
        client_secret: Option<SecretString>,
        /// Refresh token.
        refresh_token: SecretString,
    },
}

impl fmt::Debug for Grant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Grant::ClientCredentials { .. } => "ClientCredentials",
            Grant::Password { .. } => "Password",
            Grant::RefreshToken { .. } => "RefreshToken",
        })
    }
}

impl Grant {
    fn form(&self) -> Vec<(String, String)> {
        let p = |k: &str, v: &str| (k.to_owned(), v.to_owned());
        match self {
            Grant::ClientCredentials {
                client_id,
                client_secret,
            } => vec![
                p("grant_type", "client_credentials"),
                p("client_id", client_id),
                p("client_secret", client_secret.expose_secret()),
            ],
            Grant::Password {
                client_id,
                client_secret,
                username,
                password,
                security_token,
            } => {
                let mut pw = password.expose_secret().to_owned();
                if let Some(t) = security_token {
                    pw.push_str(t.expose_secret());
                }
                vec![
                    p("grant_type", "password"),
                    p("client_id", client_id),
                    p("client_secret", client_secret.expose_secret()),
                    p("username", username),
                    p("password", &pw),
                ]
            }
            Grant::RefreshToken {
                client_id,
                client_secret,
                refresh_token,
            } => {
                let mut v = vec![
                    p("grant_type", "refresh_token"),
                    p("client_id", client_id),
                    p("refresh_token", refresh_token.expose_secret()),
                ];
                if let Some(s) = client_secret {
                    v.push(p("client_secret", s.expose_secret()));
                }
                v
            }
        }
    }

    fn secrets(&self) -> Vec<SecretString> {
        match self {
            Grant::ClientCredentials { client_secret, .. } => vec![client_secret.clone()],
            Grant::Password {
                client_secret,
                password,
                security_token,
                ..
            } => {
                let mut v = vec![client_secret.clone(), password.clone()];
                if let Some(t) = security_token {
                    v.push(t.clone());
                    v.push(SecretString::from(format!(
                        "{}{}",
                        password.expose_secret(),
                        t.expose_secret()
                    )));
                }
                v
            }
            Grant::RefreshToken {
                client_secret,
                refresh_token,
                ..
            } => {
                let mut v = vec![refresh_token.clone()];
                v.extend(client_secret.clone());
                v
            }
        }
    }
}

/// Redacts the grant's secrets from everything the token client prints; attaches nothing.
struct GrantSecrets(Vec<SecretString>);

impl fmt::Debug for GrantSecrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("GrantSecrets")
    }
}

#[async_trait]
impl AuthProvider for GrantSecrets {
    async fn authorize(&self, _request: &mut Request) -> Result<AuthStamp> {
        Ok(AuthStamp::default())
    }

    fn redact(&self, text: &mut String) {
        redact::redact_values(text, self.0.iter().map(|s| s.expose_secret()));
    }
}

#[derive(Clone)]
struct Token {
    access: SecretString,
    instance_url: Url,
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    instance_url: String,
}

/// The OAuth provider: a token and its `instance_url`, cached for the configured
/// lifetime, renewed once on rejection.
pub struct SalesforceOAuth {
    grant: Grant,
    secrets: GrantSecrets,
    token_http: HttpClient,
    cache: TokenCache<Token>,
    lifetime: Duration,
}

impl fmt::Debug for SalesforceOAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SalesforceOAuth")
            .field("grant", &self.grant)
            .field("token_url", &redact::url_shown(self.token_http.base_url()))
            .field("lifetime", &self.lifetime)
            .finish_non_exhaustive()
    }
}

impl SalesforceOAuth {
    async fn fetch(&self) -> Result<(Token, Option<Duration>)> {
        let req = self
            .token_http
            .post("services/oauth2/token")?
            .without_auth()
            .retry_safe(true)
            .form(self.grant.form());
        let answer: TokenAnswer = self.token_http.send_json(req).await?;
        let instance_url = Url::parse(&answer.instance_url)
            .ok()
            .filter(|u| matches!(u.scheme(), "https" | "http") && u.host().is_some())
            .ok_or_else(|| {
                Error::protocol(
                    "salesforce token",
                    "the token answer's instance_url is not an http(s) URL",
                )
            })?;
        if answer.access_token.is_empty() {
            return Err(Error::protocol(
                "salesforce token",
                "the token answer has an empty access_token",
            ));
        }
        Ok((
            Token {
                access: SecretString::from(answer.access_token),
                instance_url,
            },
            Some(self.lifetime),
        ))
    }

    async fn token(&self) -> Result<(Token, AuthStamp)> {
        self.cache.get(|| self.fetch()).await
    }
}

#[async_trait]
impl AuthProvider for SalesforceOAuth {
    async fn authorize(&self, request: &mut Request) -> Result<AuthStamp> {
        let (token, stamp) = self.token().await?;
        Placement::bearer().apply(request, &token.access)?;
        Ok(stamp)
    }

    fn invalidate(&self, stamp: AuthStamp) {
        self.cache.invalidate(stamp);
    }

    fn renewable(&self) -> bool {
        true
    }

    fn redact(&self, text: &mut String) {
        self.secrets.redact(text);
        if let Some(t) = self.cache.peek() {
            redact::redact_values(text, [t.access.expose_secret()]);
        }
    }
}

struct Inner {
    name: String,
    login_url: Url,
    api_version: String,
    http_settings: HttpSettings,
    auth: Arc<SalesforceOAuth>,
    api: tokio::sync::OnceCell<HttpClient>,
    usage: Arc<ApiUsageTracker>,
}

/// A client for one Salesforce org. Cheap to clone.
#[derive(Clone)]
pub struct SalesforceClient {
    inner: Arc<Inner>,
}

impl fmt::Debug for SalesforceClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SalesforceClient")
            .field("name", &self.inner.name)
            .field("login_url", &redact::url_shown(&self.inner.login_url))
            .field("api_version", &self.inner.api_version)
            .field(
                "api",
                &self
                    .inner
                    .api
                    .get()
                    .map(|h| redact::url_shown(h.base_url())),
            )
            .finish()
    }
}

/// Pages of one query read at most: a server that never says `done` cannot keep the
/// connector reading.
pub const MAX_QUERY_PAGES: usize = 1000;

impl SalesforceClient {
    /// A client that signs in at `login_url` with `grant`. Nothing is sent until the
    /// first call.
    pub fn new(
        name: &str,
        login_url: Url,
        grant: Grant,
        api_version: &str,
        token_lifetime: Duration,
        http: HttpSettings,
    ) -> Result<SalesforceClient> {
        let secrets = grant.secrets();
        let token_http = HttpClient::builder("salesforce", login_url.as_str())
            .settings(&http)?
            .instance(name.to_owned())
            .auth(Arc::new(GrantSecrets(secrets.clone())))
            .error_parser(parse_token_error)
            .build()?;
        let auth = Arc::new(SalesforceOAuth {
            grant,
            secrets: GrantSecrets(secrets),
            token_http,
            cache: TokenCache::new(Duration::from_secs(60).min(token_lifetime / 4)),
            lifetime: token_lifetime,
        });
        Ok(SalesforceClient {
            inner: Arc::new(Inner {
                name: name.to_owned(),
                login_url,
                api_version: api_version.to_owned(),
                http_settings: http,
                auth,
                api: tokio::sync::OnceCell::new(),
                usage: Arc::new(ApiUsageTracker::default()),
            }),
        })
    }

    /// The retry settings.
    pub fn retry_config(&self) -> &RetryConfig {
        &self.inner.http_settings.retry
    }

    /// The HTTP client for API calls, at `{instance_url}/services/data/{version}/`; the
    /// first call obtains a token to learn the instance URL.
    pub async fn http(&self) -> Result<&HttpClient> {
        self.inner
            .api
            .get_or_try_init(|| async {
                let (token, _) = self.inner.auth.token().await?;
                let base = token
                    .instance_url
                    .join(&format!("services/data/{}/", self.inner.api_version))
                    .map_err(|e| Error::config(format!("instance_url: {e}")))?;
                // The error parser sees every answer: it also reads the daily usage.
                let usage = self.inner.usage.clone();
                HttpClient::builder("salesforce", base.as_str())
                    .settings(&self.inner.http_settings)?
                    .instance(self.inner.name.clone())
                    .auth(self.inner.auth.clone())
                    .error_parser(move |r| {
                        usage.observe(r.header("sforce-limit-info"));
                        parse_error(r)
                    })
                    .build()
            })
            .await
    }

    /// The org's daily API usage as the last answer reported it
    /// (`Sforce-Limit-Info: api-usage=used/limit`), with the hook for a metrics system.
    pub fn api_usage(&self) -> &ApiUsageTracker {
        &self.inner.usage
    }

    /// The org's instance URL (after the first call).
    pub fn instance_url(&self) -> Option<String> {
        self.inner.api.get().map(|h| {
            let mut u = h.base_url().clone();
            u.set_path("/");
            u.as_str().trim_end_matches('/').to_owned()
        })
    }

    /// One page of a query: the first (`GET query?q=`), or the next
    /// (`GET {nextRecordsUrl}`, which must stay under `/services/data/`).
    pub async fn query_page<T: DeserializeOwned>(
        &self,
        soql: &Soql,
        next: Option<&str>,
    ) -> Result<QueryPage<T>> {
        let http = self.http().await?;
        let req = match next {
            None => http.get("query")?.query_pair("q", soql.as_str()),
            Some(path) => {
                let ok = path.starts_with("/services/data/")
                    && !path.contains("..")
                    && !path.contains("//")
                    && path
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "/.-_".contains(c));
                if !ok {
                    return Err(Error::protocol(
                        "salesforce query",
                        "nextRecordsUrl is not a path under /services/data/",
                    ));
                }
                let mut url = http.base_url().clone();
                url.set_path(path);
                url.set_query(None);
                http.request_url(Method::GET, url)
            }
        };
        http.send_json(req).await
    }

    /// Every record of a query, following `nextRecordsUrl` until `done`; a repeated
    /// `nextRecordsUrl`, a missing one before `done`, or fewer records than `totalSize`
    /// is a protocol error, never a short answer.
    pub async fn query_all<T: DeserializeOwned>(&self, soql: &Soql) -> Result<Vec<T>> {
        let mut out = Vec::new();
        let mut next: Option<String> = None;
        let mut seen = std::collections::HashSet::new();
        let mut total = None;
        for _ in 0..MAX_QUERY_PAGES {
            let page: QueryPage<T> = self.query_page(soql, next.as_deref()).await?;
            total.get_or_insert(page.total_size);
            out.extend(page.records);
            if page.done {
                let total = total.unwrap_or(0);
                if (out.len() as u64) < total {
                    return Err(Error::protocol(
                        "salesforce query",
                        format!("totalSize {total}, {} records received", out.len()),
                    ));
                }
                return Ok(out);
            }
            let n = page.next_records_url.ok_or_else(|| {
                Error::protocol(
                    "salesforce query",
                    "done is false but there is no nextRecordsUrl",
                )
            })?;
            if !seen.insert(n.clone()) {
                return Err(Error::protocol(
                    "salesforce query",
                    "the server repeated a nextRecordsUrl",
                ));
            }
            next = Some(n);
        }
        Err(Error::protocol(
            "salesforce query",
            format!("more than {MAX_QUERY_PAGES} pages"),
        ))
    }

    /// `GET sobjects/{object}/{id}`; `Ok(None)` on 404.
    pub async fn get_record<T: DeserializeOwned>(
        &self,
        object: &str,
        id: &SfId,
        fields: &[&str],
    ) -> Result<Option<T>> {
        crate::soql::check_name(object)?;
        let http = self.http().await?;
        let req = http
            .get(&format!("sobjects/{object}/{id}"))?
            .query_pair("fields", &fields.join(","));
        match http.send_json(req).await {
            Ok(v) => Ok(Some(v)),
            Err(e) if e.kind() == accesslink_core::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `POST sobjects/{object}` → the new id; a `success: false` answer is an error.
    /// Not repeated after an ambiguous failure.
    pub async fn create(&self, object: &str, body: &Value) -> Result<String> {
        crate::soql::check_name(object)?;
        let http = self.http().await?;
        let req = http
            .post(&format!("sobjects/{object}"))?
            .json(body)?
            .retry_safe(false);
        let r: SaveResult = http.send_json(req).await?;
        r.into_id(object)
    }

    /// `PATCH sobjects/{object}/{field}/{value}`: upsert by External ID, the vendor's
    /// idempotent create (201 created with the id, 204 updated). Safe to repeat.
    pub async fn upsert(
        &self,
        object: &str,
        field: &str,
        value: &str,
        body: &Value,
    ) -> Result<Option<String>> {
        crate::soql::check_name(object)?;
        crate::soql::check_name(field)?;
        let http = self.http().await?;
        let mut url = http.url(&format!("sobjects/{object}/{field}/"))?;
        url.path_segments_mut()
            .map_err(|()| Error::other("base URL cannot take a path"))?
            .pop_if_empty()
            .push(value);
        let req = http
            .request_url(Method::PATCH, url)
            .json(body)?
            .retry_safe(true);
        let resp = http.send(req).await?;
        if resp.bytes().is_empty() {
            return Ok(None);
        }
        let r: SaveResult = resp.json()?;
        r.into_id(object).map(Some)
    }

    /// `PATCH sobjects/{object}/{id}` (204).
    pub async fn update(&self, object: &str, id: &SfId, body: &Value) -> Result<()> {
        crate::soql::check_name(object)?;
        let http = self.http().await?;
        let req = http
            .patch(&format!("sobjects/{object}/{id}"))?
            .json(body)?
            .retry_safe(true);
        http.send(req).await.map(|_| ())
    }
}

impl SalesforceClient {
    /// `DELETE sobjects/{object}/{id}` (204); `Ok(false)` when it was already gone (404).
    pub async fn delete(&self, object: &str, id: &SfId) -> Result<bool> {
        crate::soql::check_name(object)?;
        let http = self.http().await?;
        let req = http
            .delete(&format!("sobjects/{object}/{id}"))?
            .retry_safe(true);
        match http.send(req).await {
            Ok(_) => Ok(true),
            Err(e) if e.kind() == accesslink_core::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e),
        }
    }
}
