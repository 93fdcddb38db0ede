//! `OtrsClient`: an [`HttpClient`] set up for the GenericInterface — session login,
//! HTTP-200 errors, `*.AuthFail` detection — with typed handles on top.

use std::sync::Arc;

use accesslink_core::auth::{Placement, Session, SessionAuth};
use accesslink_core::http::{HttpClient, Response, VendorError};
use accesslink_core::{Error, ErrorKind, Result};
use secrecy::{ExposeSecret, SecretString};

use crate::api::Tickets;
use crate::models::{ErrorBody, FaultBody, SessionCreate, SessionCreated};
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

/// Whether a body starts like `{"Error":`: the cheap test before parsing it.
fn looks_like_error(body: &[u8]) -> bool {
    let head = &body[..body.len().min(64)];
    head.windows(7).any(|w| w == b"\"Error\"")
}

/// `*.AuthFail` with HTTP 200 means the session is invalid or expired.
fn is_auth_fail(response: &Response) -> bool {
    looks_like_error(response.bytes())
        && serde_json::from_slice::<ErrorBody>(response.bytes())
            .ok()
            .and_then(|b| b.error.code)
            .is_some_and(|c| c.ends_with(".AuthFail"))
}

/// The error kind an OTRS error code stands for.
pub(crate) fn kind_of(code: &str) -> ErrorKind {
    match code.rsplit('.').next().unwrap_or(code) {
        "AuthFail" | "SessionInvalid" => ErrorKind::Unauthenticated,
        "AccessDenied" => ErrorKind::PermissionDenied,
        "InvalidParameter" | "MissingParameter" | "WrongStructure" | "EmptyRequest" => {
            ErrorKind::InvalidInput
        }
        _ => ErrorKind::Other,
    }
}

/// Every `{"Error":{…}}` body, whatever its status, and the 500 bodies of failed
/// operations (`faultstring` JSON or plain text), become vendor errors.
fn parse_error(response: &Response) -> Option<VendorError> {
    let body = response.bytes();
    if looks_like_error(body) {
        if let Ok(e) = serde_json::from_slice::<ErrorBody>(body) {
            let kind = e.error.code.as_deref().map(kind_of);
            let mut v = VendorError::new(e.error.code, e.error.message);
            v.kind = kind;
            return Some(v);
        }
    }
    if response.status().is_success() {
        return None;
    }
    if let Ok(f) = serde_json::from_slice::<FaultBody>(body) {
        if f.faultstring.is_some() {
            return Some(VendorError::new(f.faultcode, f.faultstring));
        }
    }
    let text = response.redacted_body(200);
    let first_line = text.lines().next().unwrap_or("").trim();
    (!first_line.is_empty()).then(|| VendorError::new(None, Some(first_line.to_owned())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_codes_map_to_kinds() {
        assert_eq!(kind_of("TicketGet.AuthFail"), ErrorKind::Unauthenticated);
        assert_eq!(
            kind_of("SessionGet.SessionInvalid"),
            ErrorKind::Unauthenticated
        );
        assert_eq!(
            kind_of("TicketGet.AccessDenied"),
            ErrorKind::PermissionDenied
        );
        assert_eq!(
            kind_of("TicketCreate.InvalidParameter"),
            ErrorKind::InvalidInput
        );
        assert_eq!(
            kind_of("TicketCreate.MissingParameter"),
            ErrorKind::InvalidInput
        );
        assert_eq!(kind_of("TicketGet.WrongStructure"), ErrorKind::InvalidInput);
        assert_eq!(kind_of("Webservice.InvalidConfiguration"), ErrorKind::Other);
    }

    #[test]
    fn error_sniffing() {
        assert!(looks_like_error(
            br#"{"Error":{"ErrorCode":"TicketGet.AuthFail"}}"#
        ));
        assert!(!looks_like_error(br#"{"Ticket":[{"Title":"an Error"}]}"#));
    }
}
