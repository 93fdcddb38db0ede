//! [`SdpClient`]: one ServiceDesk Plus instance, its deployment, auth and HTTP plumbing,
//! and the typed handles over it.

use std::fmt;
use std::sync::Arc;

use accesslink_core::auth::{ApiKeyAuth, AuthProvider, Placement};
use accesslink_core::http::{HttpClient, HttpSettings, RetryConfig};
use accesslink_core::{Error, Result, SecretString};
use http::{HeaderName, HeaderValue};

use crate::api::{Lookups, People, Tickets, Worklogs};
use crate::error::{is_auth_failure, parse_error};
use crate::oauth::{RefreshTokenStore, ZohoClient, ZohoOAuth, token_http};
use crate::refs::Entity;
use crate::settings::SdpDeployment;

/// The media type every v3 call asks for.
pub const ACCEPT_V3: &str = "application/vnd.manageengine.sdp.v3+json";

enum AuthChoice {
    None,
    Key(SecretString),
    Zoho(ZohoClient, Arc<dyn RefreshTokenStore>),
}

/// Builds an [`SdpClient`]; see [`SdpClient::builder`].
pub struct SdpClientBuilder {
    deployment: SdpDeployment,
    auth: AuthChoice,
    http: HttpSettings,
    instance: String,
}

impl fmt::Debug for SdpClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let auth = match &self.auth {
            AuthChoice::None => "none",
            AuthChoice::Key(_) => "technician_key",
            AuthChoice::Zoho(..) => "zoho_oauth",
        };
        f.debug_struct("SdpClientBuilder")
            .field("deployment", &self.deployment)
            .field("auth", &auth)
            .field("instance", &self.instance)
            .finish()
    }
}

impl SdpClientBuilder {
    /// A technician key, sent as the `authtoken` header.
    #[must_use]
    pub fn technician_key(mut self, key: SecretString) -> Self {
        self.auth = AuthChoice::Key(key);
        self
    }

    /// Zoho OAuth with the refresh token in `store` (Cloud).
    #[must_use]
    pub fn zoho_oauth(mut self, client: ZohoClient, store: Arc<dyn RefreshTokenStore>) -> Self {
        self.auth = AuthChoice::Zoho(client, store);
        self
    }

    /// Core HTTP settings.
    #[must_use]
    pub fn http(mut self, settings: HttpSettings) -> Self {
        self.http = settings;
        self
    }

    /// The instance name in errors and logs (default `sdp`).
    #[must_use]
    pub fn instance(mut self, name: impl Into<String>) -> Self {
        self.instance = name.into();
        self
    }

    /// Builds the client. Nothing is sent until the first call.
    pub fn build(self) -> Result<SdpClient> {
        let auth: Arc<dyn AuthProvider> = match self.auth {
            AuthChoice::None => {
                return Err(Error::config(
                    "sdp needs auth: technician_key or zoho_oauth",
                ));
            }
            AuthChoice::Key(key) => Arc::new(ApiKeyAuth::new(
                Placement::header(HeaderName::from_static("authtoken")),
                key,
            )),
            AuthChoice::Zoho(client, store) => {
                let tokens = token_http(&client.accounts_url, &self.http)?;
                Arc::new(ZohoOAuth::new(client, store, tokens))
            }
        };
        let root = self.deployment.api_root()?;
        let http = HttpClient::builder("sdp", root.as_str())
            .settings(&self.http)?
            .instance(self.instance.clone())
            .auth(auth)
            .default_header(http::header::ACCEPT, HeaderValue::from_static(ACCEPT_V3))
            .error_parser(parse_error)
            .auth_failure(is_auth_failure)
            .build()?;
        Ok(SdpClient {
            inner: Arc::new(Inner {
                deployment: self.deployment,
                http,
                retry: self.http.retry,
            }),
        })
    }
}

struct Inner {
    deployment: SdpDeployment,
    http: HttpClient,
    retry: RetryConfig,
}

/// A client for one ServiceDesk Plus instance. Cheap to clone.
#[derive(Clone)]
pub struct SdpClient {
    inner: Arc<Inner>,
}

impl fmt::Debug for SdpClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SdpClient")
            .field("deployment", &self.inner.deployment)
            .field("http", &self.inner.http)
            .finish()
    }
}

impl SdpClient {
    /// Starts a builder.
    pub fn builder(deployment: SdpDeployment) -> SdpClientBuilder {
        SdpClientBuilder {
            deployment,
            auth: AuthChoice::None,
            http: HttpSettings::default(),
            instance: "sdp".into(),
        }
    }

    /// The deployment.
    pub fn deployment(&self) -> &SdpDeployment {
        &self.inner.deployment
    }

    /// The HTTP client (base: the API root ending in `/api/v3/`).
    pub fn http(&self) -> &HttpClient {
        &self.inner.http
    }

    /// The retry settings.
    pub fn retry_config(&self) -> &RetryConfig {
        &self.inner.retry
    }

    /// Requests.
    pub fn requests(&self) -> Tickets<'_> {
        Tickets::new(self, Entity::Request)
    }

    /// Changes.
    pub fn changes(&self) -> Tickets<'_> {
        Tickets::new(self, Entity::Change)
    }

    /// Requesters at the default path `requesters`.
    pub fn requesters(&self) -> People<'_> {
        People::new(self, "requesters")
    }

    /// People under another path (`technicians`, `users`): the list key is the path,
    /// the entity key the path without its final `s`.
    pub fn people(&self, path: &str) -> People<'_> {
        People::new(self, path)
    }

    /// Named rows under `path` (`groups`, `roles`, `statuses`, `priorities`).
    pub fn lookups(&self, path: &str) -> Lookups<'_> {
        Lookups::new(self, path)
    }

    /// Worklogs and notes of a request or change.
    pub fn worklogs(&self, entity: Entity) -> Worklogs<'_> {
        Worklogs::new(self, entity)
    }

    /// Requests or changes.
    pub fn tickets(&self, entity: Entity) -> Tickets<'_> {
        Tickets::new(self, entity)
    }
}
