//! `GlpiClient`: an [`HttpClient`] set up for GLPI's legacy REST API — App-Token on
//! every call, session login with a user token or a password, `["ERROR_…", …]` errors,
//! one re-login on a rejected session, `killSession` on close — with typed handles.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use accesslink_core::auth::{AuthProvider, AuthStamp, Placement, Session, SessionAuth};
use accesslink_core::http::{HttpClient, HttpSettings, Request, RetryConfig};
use accesslink_core::redact::{self, REDACTED};
use accesslink_core::{Error, Result, SecretSource, async_trait};
use http::header::AUTHORIZATION;
use http::{HeaderName, HeaderValue};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use url::Url;

use crate::api::Items;
use crate::error::{is_session_failure, login_refused, parse_error};
use crate::models::{
    Entity, Followup, Group, GroupUser, InitSession, ItilActor, ItilObject, Profile, ProfileUser,
    User, UserEmail, Validation,
};
use crate::settings::{GlpiAuth, GlpiSettings};

const APP_TOKEN: HeaderName = HeaderName::from_static("app-token");
const SESSION_TOKEN: HeaderName = HeaderName::from_static("session-token");

/// How the connector logs in.
#[derive(Clone)]
#[non_exhaustive]
pub enum Credentials {
    /// A user's API token (`Authorization: user_token …`; user preferences → Remote access
    /// keys → API token).
    UserToken(SecretString),
    /// A login and password (`Authorization: Basic …`; needs "login with credentials"
    /// enabled in Setup → General → API).
    Password {
        /// The login.
        login: String,
        /// The password.
        password: SecretString,
    },
}

impl Credentials {
    fn who(&self) -> String {
        match self {
            Credentials::UserToken(_) => "the user token".into(),
            Credentials::Password { login, .. } => format!("user {login:?}"),
        }
    }

    fn header(&self) -> Result<HeaderValue> {
        use base64::Engine as _;
        let text = match self {
            Credentials::UserToken(t) => format!("user_token {}", t.expose_secret()),
            Credentials::Password { login, password } => {
                let pair = format!("{login}:{}", password.expose_secret());
                format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(pair)
                )
            }
        };
        let mut v = HeaderValue::from_str(&text)
            .map_err(|_| Error::config("GLPI credentials have characters a header cannot carry"))?;
        v.set_sensitive(true);
        Ok(v)
    }
}

impl Credentials {
    /// Every form of the credential a server could echo: the user token; the password
    /// and the base64 of `login:password` sent as Basic.
    fn redact(&self, text: &mut String) {
        match self {
            Credentials::UserToken(t) => redact::redact_values(text, [t.expose_secret()]),
            Credentials::Password { login, password } => {
                use base64::Engine as _;
                let pair = format!("{login}:{}", password.expose_secret());
                let encoded = base64::engine::general_purpose::STANDARD.encode(&pair);
                redact::redact_values(
                    text,
                    [encoded.as_str(), pair.as_str(), password.expose_secret()],
                );
            }
        }
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credentials::UserToken(_) => f.debug_tuple("UserToken").field(&REDACTED).finish(),
            Credentials::Password { login, .. } => f
                .debug_struct("Password")
                .field("login", login)
                .field("password", &REDACTED)
                .finish(),
        }
    }
}

/// The App-Token alone, on the client that logs in and out; it redacts the login
/// credentials too, which `initSession` carries.
struct AppOnly {
    app_token: Option<SecretString>,
    credentials: Credentials,
    /// The session being ended, on `killSession`.
    session_token: Option<SecretString>,
}

impl fmt::Debug for AppOnly {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppOnly")
            .field("app_token", &self.app_token.as_ref().map(|_| REDACTED))
            .field("credentials", &self.credentials)
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| REDACTED),
            )
            .finish()
    }
}

#[async_trait]
impl AuthProvider for AppOnly {
    async fn authorize(&self, request: &mut Request) -> Result<AuthStamp> {
        if let Some(app) = &self.app_token {
            Placement::header(APP_TOKEN).apply(request, app)?;
        }
        Ok(AuthStamp::default())
    }

    fn redact(&self, text: &mut String) {
        if let Some(app) = &self.app_token {
            redact::redact_values(text, [app.expose_secret()]);
        }
        self.credentials.redact(text);
        if let Some(t) = &self.session_token {
            redact::redact_values(text, [t.expose_secret()]);
        }
    }
}

/// The App-Token plus the cached session, on every request after login. Redacts every
/// credential GLPI holds: App-Token, session token, user token or login/password.
struct AppAndSession {
    app_token: Option<SecretString>,
    credentials: Credentials,
    session: SessionAuth,
}

impl fmt::Debug for AppAndSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppAndSession")
            .field("app_token", &self.app_token.as_ref().map(|_| REDACTED))
            .field("session", &self.session)
            .finish()
    }
}

#[async_trait]
impl AuthProvider for AppAndSession {
    async fn authorize(&self, request: &mut Request) -> Result<AuthStamp> {
        if let Some(app) = &self.app_token {
            Placement::header(APP_TOKEN).apply(request, app)?;
        }
        self.session.authorize(request).await
    }

    fn invalidate(&self, stamp: AuthStamp) {
        self.session.invalidate(stamp);
    }

    fn renewable(&self) -> bool {
        true
    }

    fn redact(&self, text: &mut String) {
        if let Some(app) = &self.app_token {
            redact::redact_values(text, [app.expose_secret()]);
        }
        self.credentials.redact(text);
        self.session.redact(text);
    }

    async fn close(&self) -> Result<()> {
        self.session.close().await
    }
}

/// A client for one GLPI instance's `apirest.php`. Cheap to clone: clones share the
/// connection pool and the session.
#[derive(Debug, Clone)]
pub struct GlpiClient {
    pub(crate) http: HttpClient,
    auth: Arc<AppAndSession>,
    settings: Arc<GlpiSettings>,
}

/// Builds a [`GlpiClient`]; see [`GlpiClient::builder`]. Sugar over
/// [`GlpiClient::from_settings`]: `build` makes a [`GlpiSettings`] and goes through it.
pub struct GlpiClientBuilder {
    base_url: String,
    app_token: Option<SecretString>,
    credentials: Option<Credentials>,
    http: HttpSettings,
    session_ttl: Option<Duration>,
}

impl fmt::Debug for GlpiClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GlpiClientBuilder")
            .field("base_url", &self.base_url)
            .field("app_token", &self.app_token.as_ref().map(|_| REDACTED))
            .field("credentials", &self.credentials)
            .field("http", &self.http)
            .field("session_ttl", &self.session_ttl)
            .finish_non_exhaustive()
    }
}

impl GlpiClientBuilder {
    /// The API client's App-Token (Setup → General → API → API clients), sent as the
    /// `App-Token` header on every call, `initSession` included. Leave it out only when
    /// the API client defines none.
    #[must_use]
    pub fn app_token(mut self, token: SecretString) -> Self {
        self.app_token = Some(token);
        self
    }

    /// Logs in with a user's API token.
    #[must_use]
    pub fn user_token(mut self, token: SecretString) -> Self {
        self.credentials = Some(Credentials::UserToken(token));
        self
    }

    /// Logs in with a login and password.
    #[must_use]
    pub fn login(mut self, login: impl Into<String>, password: SecretString) -> Self {
        self.credentials = Some(Credentials::Password {
            login: login.into(),
            password,
        });
        self
    }

    /// Sets the credentials.
    #[must_use]
    pub fn credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = Some(credentials);
        self
    }

    /// Sets the transport settings: timeouts, retries of idempotent requests (and the
    /// budget of the connector's lookup-then-retry of writes), a client-side rate limit
    /// (GLPI has none of its own), user agent, root certificates, proxy.
    #[must_use]
    pub fn http(mut self, http: HttpSettings) -> Self {
        self.http = http;
        self
    }

    /// Logs in again proactively after this long. By default a session is used until
    /// the server rejects it (GLPI sessions expire after the PHP session's idle
    /// lifetime), and then renewed once.
    #[must_use]
    pub fn session_ttl(mut self, ttl: Duration) -> Self {
        self.session_ttl = Some(ttl);
        self
    }

    /// The settings this builder stands for (default behaviour options).
    pub fn into_settings(self) -> Result<GlpiSettings> {
        let base_url: Url = self
            .base_url
            .parse()
            .map_err(|e| Error::config(format!("base_url: {:?}: {e}", self.base_url)))?;
        let credentials = self.credentials.ok_or_else(|| {
            Error::config("auth: GLPI needs a user token or a login and password")
        })?;
        let app_token = self.app_token.map(SecretSource::from);
        let auth = match credentials {
            Credentials::UserToken(t) => GlpiAuth::UserToken {
                user_token: t.into(),
                app_token,
            },
            Credentials::Password { login, password } => GlpiAuth::Password {
                user: login,
                password: password.into(),
                app_token,
            },
        };
        let mut settings = GlpiSettings::new(base_url, auth).http(self.http);
        settings.session_ttl = self.session_ttl;
        Ok(settings)
    }

    /// Builds the client. Nothing is sent until the first call, which logs in.
    pub fn build(self) -> Result<GlpiClient> {
        GlpiClient::from_settings(&self.into_settings()?)
    }
}

impl GlpiClient {
    /// A client from settings: checks them and resolves the secrets (an unset
    /// environment variable, an unreadable file is an
    /// [`ErrorKind::Config`](accesslink_core::ErrorKind::Config) error naming it)
    /// before any request. Nothing is sent until the first call, which logs in.
    pub fn from_settings(settings: &GlpiSettings) -> Result<GlpiClient> {
        settings.validate()?;
        let credentials = match &settings.auth {
            GlpiAuth::UserToken { user_token, .. } => {
                Credentials::UserToken(user_token.resolve("auth.user_token")?)
            }
            GlpiAuth::Password { user, password, .. } => Credentials::Password {
                login: user.clone(),
                password: password.resolve("auth.password")?,
            },
        };
        // Refuse what a header cannot carry now, not at the first login.
        credentials.header()?;
        let app_token = settings
            .auth
            .app_token()
            .map(|t| t.resolve("auth.app_token"))
            .transpose()?;
        let app_auth: Arc<dyn AuthProvider> = Arc::new(AppOnly {
            app_token: app_token.clone(),
            credentials: credentials.clone(),
            session_token: None,
        });
        // The client that logs in and out: App-Token only.
        let plain = HttpClient::builder("glpi", settings.base_url.as_str())
            .instance(settings.name.clone())
            .settings(&settings.http)?
            .auth(app_auth)
            .auth_failure(is_session_failure)
            .error_parser(parse_error)
            .build()?;
        let login_http = plain.clone();
        let ttl = settings.session_ttl;
        let login_credentials = credentials.clone();
        let session = SessionAuth::new("glpi", Placement::header(SESSION_TOKEN), move || {
            let http = login_http.clone();
            let credentials = login_credentials.clone();
            Box::pin(async move { init_session(&http, &credentials, ttl).await })
        });
        let logout_http = plain.clone();
        let logout_app = app_token.clone();
        let logout_credentials = credentials.clone();
        let session = session.with_logout(move |token| {
            let http = logout_http.clone();
            let app = logout_app.clone();
            let credentials = logout_credentials.clone();
            Box::pin(async move { kill_session(&http, app, credentials, &token).await })
        });
        let auth = Arc::new(AppAndSession {
            app_token,
            credentials,
            session,
        });
        Ok(GlpiClient {
            http: plain.with_auth(auth.clone()),
            auth,
            settings: Arc::new(settings.clone()),
        })
    }
}

async fn init_session(
    http: &HttpClient,
    credentials: &Credentials,
    ttl: Option<Duration>,
) -> Result<Session> {
    let request = http
        .get("initSession")?
        .header(AUTHORIZATION, credentials.header()?)
        // Logging in twice is harmless: a lost answer only leaves an unused session.
        .retry_safe(true);
    let body: InitSession = http
        .send_json(request)
        .await
        .map_err(|e| login_refused(&credentials.who(), e))?;
    let token = body.session_token.ok_or_else(|| {
        Error::protocol(
            "GET /initSession",
            "initSession answered without a session_token",
        )
    })?;
    tracing::debug!("GLPI session opened");
    Ok(Session {
        token: SecretString::from(token),
        ttl,
    })
}

/// Ends a session. A session the server no longer knows is already ended: not an error.
async fn kill_session(
    http: &HttpClient,
    app_token: Option<SecretString>,
    credentials: Credentials,
    token: &SecretString,
) -> Result<()> {
    // Sent without the auth provider, so that a rejected session is an answer to read
    // rather than a credential failure to report; the provider still redacts every
    // credential, the session being ended included, from what the server answers.
    let http = http.with_auth(Arc::new(AppOnly {
        app_token: app_token.clone(),
        credentials,
        session_token: Some(token.clone()),
    }));
    let mut request = http.get("killSession")?.without_auth();
    if let Some(app) = &app_token {
        Placement::header(APP_TOKEN).apply(&mut request, app)?;
    }
    Placement::header(SESSION_TOKEN).apply(&mut request, token)?;
    let response = http.execute(request).await?;
    if response.status().is_success() || is_session_failure(&response) {
        tracing::debug!("GLPI session closed");
        return Ok(());
    }
    let vendor = parse_error(&response).unwrap_or_default();
    Err(response.api_error(vendor.kind, vendor.code, vendor.message))
}

impl GlpiClient {
    /// Starts a builder for the API at `base_url`, the URL of `apirest.php`
    /// (`https://glpi.example.com/apirest.php`).
    pub fn builder(base_url: impl Into<String>) -> GlpiClientBuilder {
        GlpiClientBuilder {
            base_url: base_url.into(),
            app_token: None,
            credentials: None,
            http: HttpSettings::default(),
            session_ttl: None,
        }
    }

    /// The underlying HTTP client (session and App-Token attached to every request).
    pub fn http(&self) -> &HttpClient {
        &self.http
    }

    /// The retry settings of [`GlpiSettings::http`] (also the budget of the connector's
    /// lookup-then-retry of writes).
    pub fn retry_config(&self) -> &RetryConfig {
        &self.settings.http.retry
    }

    /// The settings the client was built from.
    pub fn settings(&self) -> &GlpiSettings {
        &self.settings
    }

    /// The session token, logging in first if there is none. For calls this crate does
    /// not wrap: send it as the `Session-Token` header along with the App-Token.
    pub async fn session_token(&self) -> Result<SecretString> {
        Ok(self.auth.session.session().await?.0)
    }

    /// Ends the session with `killSession`. The client stays usable: the next call logs
    /// in again.
    pub async fn close(&self) -> Result<()> {
        self.http.close().await
    }

    /// A handle on any itemtype, decoding items as `T` (`serde_json::Value` for raw).
    /// The itemtype must be a GLPI class name (`Computer`, `TicketTask`, …).
    pub fn items<T: DeserializeOwned>(&self, itemtype: &'static str) -> Items<'_, T> {
        Items::new(self, itemtype)
    }

    /// Tickets.
    pub fn tickets(&self) -> Items<'_, ItilObject> {
        self.items("Ticket")
    }

    /// Changes.
    pub fn changes(&self) -> Items<'_, ItilObject> {
        self.items("Change")
    }

    /// Follow-ups of tickets and changes (`ITILFollowup`).
    pub fn followups(&self) -> Items<'_, Followup> {
        self.items("ITILFollowup")
    }

    /// Solutions of tickets and changes (`ITILSolution`).
    pub fn solutions(&self) -> Items<'_, serde_json::Value> {
        self.items("ITILSolution")
    }

    /// Approval records of tickets.
    pub fn ticket_validations(&self) -> Items<'_, Validation> {
        self.items("TicketValidation")
    }

    /// Approval records of changes.
    pub fn change_validations(&self) -> Items<'_, Validation> {
        self.items("ChangeValidation")
    }

    /// Ticket actors (requesters, assignees, observers).
    pub fn ticket_users(&self) -> Items<'_, ItilActor> {
        self.items("Ticket_User")
    }

    /// Users.
    pub fn users(&self) -> Items<'_, User> {
        self.items("User")
    }

    /// Users' email addresses.
    pub fn user_emails(&self) -> Items<'_, UserEmail> {
        self.items("UserEmail")
    }

    /// Groups.
    pub fn groups(&self) -> Items<'_, Group> {
        self.items("Group")
    }

    /// Group memberships.
    pub fn group_users(&self) -> Items<'_, GroupUser> {
        self.items("Group_User")
    }

    /// Profiles.
    pub fn profiles(&self) -> Items<'_, Profile> {
        self.items("Profile")
    }

    /// Profile assignments per entity.
    pub fn profile_users(&self) -> Items<'_, ProfileUser> {
        self.items("Profile_User")
    }

    /// Entities.
    pub fn entities(&self) -> Items<'_, Entity> {
        self.items("Entity")
    }
}
