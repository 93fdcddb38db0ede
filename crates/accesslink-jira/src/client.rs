//! [`JiraClient`]: one Jira site, its deployment, auth and HTTP plumbing, and the typed
//! handles over it.

use std::fmt;
use std::sync::Arc;

use accesslink_core::auth::{AuthProvider, BasicAuth, BearerAuth};
use accesslink_core::http::{HttpClient, HttpSettings, RetryConfig};
use accesslink_core::{Error, Result, SecretString, redact};
use url::Url;

use crate::api::{Groups, Issues, Jsm, Users};
use crate::error::{JiraRateLimit, parse_error};
use crate::oauth::{AtlassianOAuth, OAuthClient, RefreshTokenStore};
use crate::settings::Deployment;

#[allow(
    clippy::large_enum_variant,
    reason = "one value per builder, consumed by build()"
)]
enum AuthChoice {
    None,
    Basic(String, SecretString),
    Bearer(SecretString),
    OAuth {
        client: OAuthClient,
        store: Arc<dyn RefreshTokenStore>,
        cloud_id: Option<String>,
        api_url: Url,
    },
}

/// Builds a [`JiraClient`]; see [`JiraClient::builder`].
pub struct JiraClientBuilder {
    deployment: Deployment,
    site: Url,
    auth: AuthChoice,
    http: HttpSettings,
    instance: String,
    extra_fields: Vec<String>,
}

impl fmt::Debug for JiraClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let auth = match &self.auth {
            AuthChoice::None => "none",
            AuthChoice::Basic(..) => "basic",
            AuthChoice::Bearer(_) => "bearer",
            AuthChoice::OAuth { .. } => "oauth",
        };
        f.debug_struct("JiraClientBuilder")
            .field("deployment", &self.deployment)
            .field("site", &redact::url_shown(&self.site))
            .field("auth", &auth)
            .field("http", &self.http)
            .field("instance", &self.instance)
            .finish()
    }
}

impl JiraClientBuilder {
    /// Basic auth: e-mail and API token on Cloud, user name and password on Data Center.
    #[must_use]
    pub fn basic(mut self, user: impl Into<String>, secret: SecretString) -> Self {
        self.auth = AuthChoice::Basic(user.into(), secret);
        self
    }

    /// A Data Center personal access token, sent as `Authorization: Bearer`.
    #[must_use]
    pub fn bearer(mut self, token: SecretString) -> Self {
        self.auth = AuthChoice::Bearer(token);
        self
    }

    /// OAuth 2.0 (3LO) on Cloud; requests go to `{api_url}/ex/jira/{cloud_id}/`, the
    /// cloud id being looked up on first use when `None`.
    #[must_use]
    pub fn oauth(
        mut self,
        client: OAuthClient,
        store: Arc<dyn RefreshTokenStore>,
        cloud_id: Option<String>,
        api_url: Url,
    ) -> Self {
        self.auth = AuthChoice::OAuth {
            client,
            store,
            cloud_id,
            api_url,
        };
        self
    }

    /// Core HTTP settings (timeouts, retries, rate limit, proxy, certificates).
    #[must_use]
    pub fn http(mut self, settings: HttpSettings) -> Self {
        self.http = settings;
        self
    }

    /// Fields read with every issue besides [`FIELDS`](crate::api::FIELDS) (a
    /// correlation custom field, say).
    #[must_use]
    pub fn extra_fields(mut self, fields: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.extra_fields = fields.into_iter().map(Into::into).collect();
        self
    }

    /// The instance name in errors and logs (default `jira`).
    #[must_use]
    pub fn instance(mut self, name: impl Into<String>) -> Self {
        self.instance = name.into();
        self
    }

    fn http_at(&self, base: &str, auth: Arc<dyn AuthProvider>) -> Result<HttpClient> {
        HttpClient::builder("jira", base)
            .settings(&self.http)?
            .instance(self.instance.clone())
            .auth(auth)
            .error_parser(parse_error)
            .retry_classifier(Arc::new(JiraRateLimit))
            .build()
    }

    /// Builds the client. Nothing is sent until the first call.
    pub fn build(self) -> Result<JiraClient> {
        let site = self.site.as_str().to_owned();
        let (http, lazy) = match &self.auth {
            AuthChoice::None => {
                return Err(Error::config("jira needs auth: basic, bearer or oauth"));
            }
            AuthChoice::Basic(user, secret) => (
                Some(self.http_at(
                    &site,
                    Arc::new(BasicAuth::new(user.clone(), secret.clone())),
                )?),
                None,
            ),
            AuthChoice::Bearer(token) => (
                Some(self.http_at(&site, Arc::new(BearerAuth::new(token.clone())))?),
                None,
            ),
            AuthChoice::OAuth {
                client,
                store,
                cloud_id,
                api_url,
            } => {
                let token_http = self.http_at(
                    client.auth_url.as_str(),
                    Arc::new(accesslink_core::auth::NoAuth),
                )?;
                let provider = Arc::new(AtlassianOAuth::new(
                    client.clone(),
                    store.clone(),
                    token_http,
                ));
                match cloud_id {
                    Some(id) => {
                        check_cloud_id(id)?;
                        let base = gateway(api_url, id)?;
                        (Some(self.http_at(base.as_str(), provider)?), None)
                    }
                    None => (
                        None,
                        Some(Lazy {
                            provider,
                            api_url: api_url.clone(),
                        }),
                    ),
                }
            }
        };
        let cell = tokio::sync::OnceCell::new();
        if let Some(http) = http {
            cell.set(http)
                .map_err(|_| Error::other("client set twice"))?;
        }
        Ok(JiraClient {
            inner: Arc::new(Inner {
                deployment: self.deployment,
                site: self.site.clone(),
                http: cell,
                lazy,
                builder_http: self.http,
                instance: self.instance,
                fields: crate::api::FIELDS
                    .iter()
                    .map(|f| (*f).to_owned())
                    .chain(self.extra_fields)
                    .collect(),
            }),
        })
    }
}

fn check_cloud_id(id: &str) -> Result<()> {
    let ok =
        !id.is_empty() && id.len() <= 64 && id.chars().all(|c| c.is_ascii_hexdigit() || c == '-');
    if ok {
        Ok(())
    } else {
        Err(Error::config(format!("{id:?} is not a cloud id")))
    }
}

fn gateway(api_url: &Url, cloud_id: &str) -> Result<Url> {
    api_url
        .join(&format!("ex/jira/{cloud_id}/"))
        .map_err(|e| Error::config(format!("oauth api_url: {e}")))
}

struct Lazy {
    provider: Arc<AtlassianOAuth>,
    api_url: Url,
}

struct Inner {
    deployment: Deployment,
    site: Url,
    http: tokio::sync::OnceCell<HttpClient>,
    lazy: Option<Lazy>,
    builder_http: HttpSettings,
    instance: String,
    fields: Vec<String>,
}

/// A client for one Jira site. Cheap to clone.
#[derive(Clone)]
pub struct JiraClient {
    inner: Arc<Inner>,
}

impl fmt::Debug for JiraClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JiraClient")
            .field("deployment", &self.inner.deployment)
            .field("site", &redact::url_shown(&self.inner.site))
            .field("instance", &self.inner.instance)
            .field(
                "api",
                &self
                    .inner
                    .http
                    .get()
                    .map(|h| redact::url_shown(h.base_url())),
            )
            .finish()
    }
}

impl JiraClient {
    /// Starts a builder for a site (`https://acme.atlassian.net`).
    pub fn builder(deployment: Deployment, site: Url) -> JiraClientBuilder {
        JiraClientBuilder {
            deployment,
            site,
            auth: AuthChoice::None,
            http: HttpSettings::default(),
            instance: "jira".into(),
            extra_fields: Vec::new(),
        }
    }

    /// The fields read with every issue.
    pub fn fields(&self) -> &[String] {
        &self.inner.fields
    }

    /// Cloud or Data Center.
    pub fn deployment(&self) -> Deployment {
        self.inner.deployment
    }

    /// The site URL (for web links).
    pub fn site(&self) -> &Url {
        &self.inner.site
    }

    /// The retry settings.
    pub fn retry_config(&self) -> &RetryConfig {
        &self.inner.builder_http.retry
    }

    /// The HTTP client for API calls. With OAuth and no configured cloud id, the first
    /// call looks the cloud id up in the token's accessible resources (the site whose
    /// URL is the configured site).
    pub async fn http(&self) -> Result<&HttpClient> {
        self.inner
            .http
            .get_or_try_init(|| async {
                let Some(lazy) = &self.inner.lazy else {
                    return Err(Error::other("jira client has no HTTP client"));
                };
                let sites = lazy.provider.accessible_resources(&lazy.api_url).await?;
                let want = self.inner.site.as_str().trim_end_matches('/');
                let site = sites
                    .iter()
                    .find(|r| r.url.trim_end_matches('/').eq_ignore_ascii_case(want))
                    .ok_or_else(|| {
                        let seen: Vec<&str> = sites.iter().map(|r| r.url.as_str()).collect();
                        Error::config(format!(
                            "the OAuth token does not reach {want} (it reaches {seen:?}); set cloud_id or base_url"
                        ))
                    })?;
                check_cloud_id(&site.id)?;
                let base = gateway(&lazy.api_url, &site.id)?;
                HttpClient::builder("jira", base.as_str())
                    .settings(&self.inner.builder_http)?
                    .instance(self.inner.instance.clone())
                    .auth(lazy.provider.clone())
                    .error_parser(parse_error)
                    .retry_classifier(Arc::new(JiraRateLimit))
                    .build()
            })
            .await
    }

    /// A platform API path for this deployment: `rest/api/3/{rest}` or `rest/api/2/{rest}`.
    pub fn api_path(&self, rest: &str) -> String {
        format!("{}{rest}", self.inner.deployment.api())
    }

    /// Issues, comments, transitions and search.
    pub fn issues(&self) -> Issues<'_> {
        Issues::new(self)
    }

    /// Jira Service Management requests and approvals.
    pub fn jsm(&self) -> Jsm<'_> {
        Jsm::new(self)
    }

    /// Users.
    pub fn users(&self) -> Users<'_> {
        Users::new(self)
    }

    /// Groups and their members.
    pub fn groups(&self) -> Groups<'_> {
        Groups::new(self)
    }
}
