//! Who may call: Basic or a Bearer token from `POST /oauth_token.do`, and the optional
//! rate limit (fact sheet §1 "Base URL / auth" and "Errors, rate limits, quirks").

use std::collections::HashMap;
use std::fmt;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use wiremock::{Request, ResponseTemplate};

use super::write::Failure;
use crate::tokens::{OAuthEndpoint, TokenStore};

/// Refresh tokens live 100 days by default (`oauth_entity`).
const REFRESH_TTL: Duration = Duration::from_secs(8_640_000);
/// Access tokens: 30 minutes by default.
pub(crate) const ACCESS_TTL: Duration = Duration::from_secs(1800);

/// The credentials the instance accepts; `Debug` hides the password.
pub(crate) struct Auth {
    pub(crate) user: String,
    pub(crate) password: String,
    pub(crate) oauth: OAuthEndpoint,
    pub(crate) ttl: Duration,
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Auth")
            .field("user", &self.user)
            .field("password", &"[redacted]")
            .field("oauth", &self.oauth)
            .field("ttl", &self.ttl)
            .finish()
    }
}

/// `401 User Not Authenticated`, for missing, wrong or expired credentials alike.
pub(crate) fn unauthenticated() -> Failure {
    Failure::new(
        401,
        "User Not Authenticated",
        "Required to provide Auth information",
    )
}

impl Auth {
    /// `Ok` when the request carries the Basic credentials or a live access token.
    pub(crate) fn check(&self, request: &Request) -> Result<(), Failure> {
        if let Some((user, password)) = TokenStore::basic_of(request) {
            if user == self.user && password == self.password {
                return Ok(());
            }
        } else if let Some(token) = TokenStore::bearer_of(request) {
            if self.oauth.tokens().is_valid(&token) {
                return Ok(());
            }
        }
        Err(unauthenticated())
    }

    /// `POST /oauth_token.do`: the password, refresh-token and client-credentials grants,
    /// form-encoded only.
    pub(crate) fn token(&self, request: &Request) -> ResponseTemplate {
        let content_type = request
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !content_type.contains("application/x-www-form-urlencoded") {
            // The docs: "application/json gives an error".
            return oauth_error(
                400,
                "invalid_request",
                "Content-Type must be application/x-www-form-urlencoded",
            );
        }
        let form: HashMap<String, String> = url::form_urlencoded::parse(&request.body)
            .into_owned()
            .collect();
        let field = |name: &str| form.get(name).map(String::as_str);
        let (id, secret) = match TokenStore::basic_of(request) {
            Some((id, secret)) => (Some(id), Some(secret)),
            None => (
                field("client_id").map(str::to_owned),
                field("client_secret").map(str::to_owned),
            ),
        };
        let client_ok = id.as_deref() == Some(self.oauth.client_id())
            && secret.as_deref() == Some(self.oauth.client_secret());
        let grant = field("grant_type");
        if grant.is_some() && !client_ok {
            return access_denied();
        }
        match grant {
            Some("password") => {
                let given = (field("username"), field("password"));
                match self.oauth.user() {
                    Some((u, p)) if given == (Some(u), Some(p)) => {
                        let refresh = self
                            .oauth
                            .refresh_tokens()
                            .issue_with_prefix("rt-", REFRESH_TTL);
                        self.grant(Some(refresh))
                    }
                    _ => access_denied(),
                }
            }
            Some("refresh_token") => match field("refresh_token") {
                // The same refresh token comes back with the new access token.
                Some(rt) if self.oauth.refresh_tokens().is_valid(rt) => {
                    self.grant(Some(rt.to_owned()))
                }
                _ => access_denied(),
            },
            Some("client_credentials") => self.grant(None),
            Some(other) => oauth_error(
                400,
                "unsupported_grant_type",
                &format!("grant type {other} is not supported"),
            ),
            None => oauth_error(400, "invalid_request", "grant_type is required"),
        }
    }

    fn grant(&self, refresh: Option<String>) -> ResponseTemplate {
        let mut body = json!({
            "access_token": self.oauth.tokens().issue(self.ttl),
            "scope": "useraccount",
            "token_type": "Bearer",
            "expires_in": self.ttl.as_secs(),
        });
        if let Some(rt) = refresh {
            body["refresh_token"] = Value::String(rt);
        }
        super::routes::json(200, &body)
    }
}

/// The instance's answer to bad client or user credentials.
fn access_denied() -> ResponseTemplate {
    oauth_error(401, "access_denied", "access_denied")
}

fn oauth_error(status: u16, code: &str, description: &str) -> ResponseTemplate {
    super::routes::json(
        status,
        &json!({"error": code, "error_description": description}),
    )
}

/// The access-token lifetime an [`OAuthEndpoint`] was built with.
pub(crate) fn endpoint_ttl(endpoint: &OAuthEndpoint) -> Duration {
    endpoint.access_token_ttl()
}

/// A fixed-window request limit, like a `sys_rate_limit_rules` entry.
#[derive(Debug)]
pub(crate) struct RateLimit {
    pub(crate) per_window: usize,
    pub(crate) window: Duration,
    /// Window start and requests counted in it.
    pub(crate) used: Mutex<(Instant, usize)>,
}

impl RateLimit {
    pub(crate) fn new(per_window: usize, window: Duration) -> RateLimit {
        RateLimit {
            per_window,
            window,
            used: Mutex::new((Instant::now(), 0)),
        }
    }

    /// Counts a request; the `429` to send instead when the window is used up.
    pub(crate) fn refusal(&self) -> Option<ResponseTemplate> {
        let mut used = self.used.lock().unwrap_or_else(PoisonError::into_inner);
        let now = Instant::now();
        if now.duration_since(used.0) >= self.window {
            *used = (now, 0);
        }
        if used.1 < self.per_window {
            used.1 += 1;
            return None;
        }
        let left = self.window.saturating_sub(now.duration_since(used.0));
        let retry = left.as_secs() + u64::from(left.subsec_nanos() > 0);
        let retry = retry.max(1);
        let epoch = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let failure = Failure::new(
            429,
            "Rate limit exceeded",
            format!(
                "Rate limit of {} requests per {} s exceeded",
                self.per_window,
                self.window.as_secs()
            ),
        );
        Some(
            super::routes::json(429, &failure.body())
                .insert_header("retry-after", retry.to_string())
                .insert_header("x-ratelimit-limit", self.per_window.to_string())
                .insert_header("x-ratelimit-reset", (epoch + retry).to_string())
                .insert_header("x-ratelimit-rule", "5a17c0de000000000000000000000001"),
        )
    }
}
