//! `OtrsClient`: an [`HttpClient`] set up for the GenericInterface — session login,
//! HTTP-200 errors, `*.AuthFail` detection — with typed handles on top.

use std::sync::Arc;

use accesslink_core::auth::{Placement, Session, SessionAuth};
use accesslink_core::http::HttpClient;
use accesslink_core::{Error, ErrorKind, Result};
use secrecy::{ExposeSecret, SecretString};

use crate::api::Tickets;
use crate::error::{is_auth_fail, parse_error};
use crate::models::{SessionCreate, SessionCreated};
use crate::settings::{OtrsAuth, OtrsSettings, Route};

/// A client for one OTRS/Znuny web service. Cheap to clone.
#[derive(Debug, Clone)]
pub struct OtrsClient {
    pub(crate) http: HttpClient,
    pub(crate) settings: Arc<OtrsSettings>,
}

impl OtrsClient {
    /// Builds a client from settings, after checking them and resolving the password:
    /// nothing is sent until the first call, which logs in.
    pub fn new(settings: OtrsSettings) -> Result<Self> {
        settings.validate()?;
        let OtrsAuth::Session { user, password } = &settings.auth;
        let password = password.resolve("auth.password")?;
        let user = user.clone();
        let plain = HttpClient::builder("otrs", settings.base_url.as_str())
            .instance(settings.name.clone())
            .settings(&settings.http)?
            .auth_failure(is_auth_fail)
            .error_parser(parse_error)
            .build()?;
        let login_http = plain.clone();
        let route = settings.routes.session_create.clone();
        let ttl = settings.session_ttl;
        let auth = SessionAuth::new(
            "otrs",
            Placement::body_field_or_query("SessionID"),
            move || {
                let http = login_http.clone();
                let route = route.clone();
                let user = user.clone();
                let password = password.clone();
                Box::pin(async move { login(&http, &route, &user, &password, ttl).await })
            },
        );
        Ok(OtrsClient {
            http: plain.with_auth(Arc::new(auth)),
            settings: Arc::new(settings),
        })
    }

    /// Ticket operations.
    pub fn tickets(&self) -> Tickets<'_> {
        Tickets { client: self }
    }

    /// The underlying HTTP client.
    pub fn http(&self) -> &HttpClient {
        &self.http
    }

    /// The settings the client was built from.
    pub fn settings(&self) -> &OtrsSettings {
        &self.settings
    }
}

async fn login(
    http: &HttpClient,
    route: &Route,
    user: &str,
    password: &SecretString,
    ttl: std::time::Duration,
) -> Result<Session> {
    let request = http
        .request(route.method.clone(), &route.path)?
        .json(&SessionCreate {
            user_login: user,
            password: password.expose_secret(),
        })?
        .without_auth()
        // Logging in twice is harmless: a lost answer only leaves an unused session.
        .retry_safe(true);
    let created: SessionCreated = match http.send_json(request).await {
        Ok(c) => c,
        Err(e) if e.kind() == ErrorKind::Unauthenticated => {
            return Err(Error::Auth {
                message: format!("OTRS refused the login of agent {user:?}"),
                source: Some(Box::new(e)),
            });
        }
        Err(e) => return Err(e),
    };
    let id = created.session_id.ok_or_else(|| {
        Error::protocol("POST Session", "SessionCreate answered without a SessionID")
    })?;
    Ok(Session {
        token: SecretString::from(id),
        ttl: Some(ttl),
    })
}
