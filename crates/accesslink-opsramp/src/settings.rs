//! [`OpsRampSettings`]: one OpsRamp instance as configuration (base URL, tenant,
//! client credentials, core [`HttpSettings`], status overrides and the connector's own
//! options), the one path to a connector ([`OpsRampConnector::from_settings`]); and
//! [`OpsRampConfig`], the resolved options the connector runs with.

use std::fmt;
use std::time::Duration;

use accesslink_core::http::HttpSettings;
use accesslink_core::{Error, Result, SecretSource, StatusOverrides};
use schemars::JsonSchema;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use url::Url;

use crate::client::{OpsRampClient, TokenPath};
use crate::connector::OpsRampConnector;
use crate::limits::RateLimit;
use crate::models::{MaskType, TimeZone};
use crate::status::default_status_map;

/// What [`Provisioner::delete_account`](accesslink_core::Provisioner::delete_account)
/// does. OpsRamp has no DELETE for users (fact sheet §1.7).
///
/// In settings: `"terminate"`, `{ terminate_masked = "FULL" }` (or `"PARTIAL"`),
/// `"deactivate"`, `"unsupported"`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum DeleteMode {
    /// `POST users/{id}/TERMINATE`: final; the user is gone for good (the default).
    #[default]
    Terminate,
    /// TERMINATE with `maskType` (`PARTIAL` or `FULL`) to mask personal data.
    TerminateMasked(#[schemars(with = "String")] MaskType),
    /// `POST users/{id}/DEACTIVATE`, reversible, as the seed's RemoveAccountJSON does.
    /// The user stays readable (inactive) afterwards.
    Deactivate,
    /// `delete_account` is `Unsupported` and not declared.
    Unsupported,
}

/// The resolved options of an [`OpsRampConnector`]: what
/// [`OpsRampConnector::from_settings`] makes of [`OpsRampSettings`] (secrets read), and
/// what [`OpsRampConnector::new`] takes with a ready client.
#[derive(Clone)]
#[non_exhaustive]
pub struct OpsRampConfig {
    /// The instance name reported in `info()`.
    pub instance: String,
    /// The `deactivateReason` sent when an account is disabled (default
    /// `Disabled by accesslink`).
    pub deactivate_reason: String,
    /// The `terminateReason` sent when an account is deleted with TERMINATE.
    pub terminate_reason: String,
    /// What delete does.
    pub delete_mode: DeleteMode,
    /// The password new users get (OpsRamp's rule: 7+ characters with a digit, a special
    /// character, a lower- and an upper-case letter). `None` sends none.
    pub initial_password: Option<SecretString>,
    /// The time zone new users get when the spec names none (the seed sends
    /// `{"code":"EST","name":"Europe/Istanbul"}`).
    pub time_zone: Option<TimeZone>,
    /// Page size when the caller asks for none (default 100, at most 500).
    pub page_size: u32,
    /// The Closed reason sent when a ticket is closed successfully (default `Completed`):
    /// with `reasonsEnabled`, OpsRamp takes only a reason configured on the tenant.
    pub close_reason: String,
    /// The Closed reason for an unsuccessful outcome (default `Cancelled`).
    pub failed_close_reason: String,
    /// Start of the creation window of correlation searches, `yyyy-MM-ddTHH:mm:ss`
    /// GMT (default `2000-01-01T00:00:00`): without a window OpsRamp searches one month.
    pub search_since: String,
    /// The `queryString` keys of the update-time window of listings (default
    /// `startUpdationDate` / `endUpdationDate`, the names of the users search, which the
    /// fact sheet says tickets share as "updation" windows: **unverified** for tickets).
    pub updated_window_keys: (String, String),
}

impl Default for OpsRampConfig {
    fn default() -> Self {
        OpsRampConfig {
            instance: "opsramp".into(),
            deactivate_reason: "Disabled by accesslink".into(),
            terminate_reason: "Deleted by accesslink".into(),
            delete_mode: DeleteMode::default(),
            initial_password: None,
            time_zone: None,
            page_size: 100,
            close_reason: "Completed".into(),
            failed_close_reason: "Cancelled".into(),
            search_since: "2000-01-01T00:00:00".into(),
            updated_window_keys: ("startUpdationDate".into(), "endUpdationDate".into()),
        }
    }
}

impl fmt::Debug for OpsRampConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpsRampConfig")
            .field("instance", &self.instance)
            .field("deactivate_reason", &self.deactivate_reason)
            .field("terminate_reason", &self.terminate_reason)
            .field("delete_mode", &self.delete_mode)
            .field(
                "initial_password",
                &self.initial_password.as_ref().map(|_| "[redacted]"),
            )
            .field("time_zone", &self.time_zone)
            .field("page_size", &self.page_size)
            .field("close_reason", &self.close_reason)
            .field("failed_close_reason", &self.failed_close_reason)
            .field("search_since", &self.search_since)
            .field("updated_window_keys", &self.updated_window_keys)
            .finish()
    }
}

impl OpsRampConfig {
    /// The defaults.
    pub fn new() -> Self {
        OpsRampConfig::default()
    }

    /// Sets the instance name.
    #[must_use]
    pub fn instance(mut self, name: impl Into<String>) -> Self {
        self.instance = name.into();
        self
    }

    /// Sets the reason sent with DEACTIVATE.
    #[must_use]
    pub fn deactivate_reason(mut self, reason: impl Into<String>) -> Self {
        self.deactivate_reason = reason.into();
        self
    }

    /// Sets the reason sent with TERMINATE.
    #[must_use]
    pub fn terminate_reason(mut self, reason: impl Into<String>) -> Self {
        self.terminate_reason = reason.into();
        self
    }

    /// Sets what delete does.
    #[must_use]
    pub fn delete_mode(mut self, mode: DeleteMode) -> Self {
        self.delete_mode = mode;
        self
    }

    /// Sets the password new users get.
    #[must_use]
    pub fn initial_password(mut self, password: SecretString) -> Self {
        self.initial_password = Some(password);
        self
    }

    /// Sets the time zone new users get.
    #[must_use]
    pub fn time_zone(mut self, tz: TimeZone) -> Self {
        self.time_zone = Some(tz);
        self
    }

    /// Sets the default page size.
    #[must_use]
    pub fn page_size(mut self, size: u32) -> Self {
        self.page_size = size.clamp(1, crate::api::MAX_PAGE_SIZE);
        self
    }

    /// Sets the Closed reasons for successful and unsuccessful outcomes.
    #[must_use]
    pub fn close_reasons(mut self, success: impl Into<String>, failure: impl Into<String>) -> Self {
        self.close_reason = success.into();
        self.failed_close_reason = failure.into();
        self
    }
}

/// How an OpsRamp instance authenticates: `auth = { method = "client_credentials",
/// client_id = "...", client_secret = { env = "OPSRAMP_SECRET" } }`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "method", rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
pub enum OpsRampAuth {
    /// OAuth2 client credentials of a Custom Integration with inbound auth type OAUTH2
    /// (fact sheet §1.2).
    ClientCredentials {
        /// The integration's key.
        client_id: String,
        /// The integration's secret.
        client_secret: SecretSource,
    },
}

/// The client-side rate limit per method class (fact sheet §1.5): `"client"` (the
/// default), `"partner"`, `"off"`, or `{ custom = { paged_get = 50, get = 500, write =
/// 50, window = "1m" } }`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum TenantLimits {
    /// A client tenant's documented limits ([`RateLimit::client`]).
    #[default]
    Client,
    /// A partner tenant's documented limits ([`RateLimit::partner`]).
    Partner,
    /// No client-side limit (or core's `http.rate_limit`, if set).
    Off,
    /// Other budgets.
    Custom(RateLimit),
}

impl TenantLimits {
    /// The limit the client keeps, if any.
    pub fn rate_limit(&self) -> Option<RateLimit> {
        match self {
            TenantLimits::Client => Some(RateLimit::client()),
            TenantLimits::Partner => Some(RateLimit::partner()),
            TenantLimits::Off => None,
            TenantLimits::Custom(r) => Some(*r),
        }
    }
}

fn default_name() -> String {
    "opsramp".into()
}
fn default_refresh_ahead() -> Duration {
    Duration::from_secs(60)
}
fn default_deactivate_reason() -> String {
    OpsRampConfig::default().deactivate_reason
}
fn default_terminate_reason() -> String {
    OpsRampConfig::default().terminate_reason
}
fn default_page_size() -> u32 {
    OpsRampConfig::default().page_size
}
fn default_close_reason() -> String {
    OpsRampConfig::default().close_reason
}
fn default_failed_close_reason() -> String {
    OpsRampConfig::default().failed_close_reason
}
fn default_search_since() -> String {
    OpsRampConfig::default().search_since
}
fn default_updated_since_key() -> String {
    OpsRampConfig::default().updated_window_keys.0
}
fn default_updated_until_key() -> String {
    OpsRampConfig::default().updated_window_keys.1
}

/// One OpsRamp instance, loadable from configuration (`deny_unknown_fields`).
///
/// Keys: `name` (default `opsramp`), `base_url` (the API host), `tenant_id` (`client_7`,
/// `msp_6` or a UUID), `auth` ([`OpsRampAuth`]), `http` (core [`HttpSettings`]),
/// `status_map` (overrides of [`default_status_map`]), `token_path` (`"auth"`,
/// `"tenancy"`, `{ custom = "/path" }`; default `auth`), `tenant_limits`
/// ([`TenantLimits`], default `client`), `refresh_ahead` (default `"60s"`),
/// `deactivate_reason`, `terminate_reason`, `delete_mode` ([`DeleteMode`]),
/// `initial_password` (a secret), `time_zone` (`{ code = "EST", name = "..." }`),
/// `page_size` (default 100, at most 500), `close_reason` (default `Completed`),
/// `failed_close_reason` (default `Cancelled`), `search_since` (default
/// `2000-01-01T00:00:00`), `updated_since_key` / `updated_until_key` (the listing's
/// update-time filter keys, default `startUpdationDate` / `endUpdationDate`).
///
/// ```toml
/// [instances.opsramp-prod]
/// target = "opsramp"
/// base_url = "https://api.opsramp.com"
/// tenant_id = "client_7"
/// auth = { method = "client_credentials", client_id = "key", client_secret = { env = "OPSRAMP_SECRET" } }
/// token_path = "tenancy"
/// initial_password = { env = "OPSRAMP_INITIAL_PASSWORD" }
/// ```
#[derive(Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct OpsRampSettings {
    /// The instance name in errors, logs and `info()` (default `opsramp`).
    #[serde(default = "default_name")]
    pub name: String,
    /// The API host: `https://api.opsramp.com` or `https://<brand>.api.opsramp.com`.
    pub base_url: Url,
    /// The tenant to act in: a partner (`msp_6`) or client (`client_7`) id, or its UUID.
    pub tenant_id: String,
    /// How to authenticate.
    pub auth: OpsRampAuth,
    /// Timeouts, retries, user agent, certificates, proxy, body cap.
    #[serde(default)]
    pub http: HttpSettings,
    /// Custom ticket statuses mapped on top of the default table.
    #[serde(default)]
    pub status_map: StatusOverrides,
    /// The token endpoint (default `auth`: `/auth/oauth/token`).
    #[serde(default)]
    pub token_path: TokenPath,
    /// The client-side per-class rate limit (default `client`).
    #[serde(default)]
    pub tenant_limits: TenantLimits,
    /// How long before expiry the token is renewed (default 60 s).
    #[serde(default = "default_refresh_ahead", with = "humantime_serde")]
    #[schemars(with = "String")]
    pub refresh_ahead: Duration,
    /// The `deactivateReason` sent when an account is disabled.
    #[serde(default = "default_deactivate_reason")]
    pub deactivate_reason: String,
    /// The `terminateReason` sent when an account is deleted with TERMINATE.
    #[serde(default = "default_terminate_reason")]
    pub terminate_reason: String,
    /// What delete does (default `terminate`).
    #[serde(default)]
    pub delete_mode: DeleteMode,
    /// The password new users get; none is sent when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initial_password: Option<SecretSource>,
    /// The time zone new users get when the spec names none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<serde_json::Value>")]
    pub time_zone: Option<TimeZone>,
    /// Page size when the caller asks for none (1-500).
    #[serde(default = "default_page_size")]
    pub page_size: u32,
    /// The Closed reason of a successful outcome.
    #[serde(default = "default_close_reason")]
    pub close_reason: String,
    /// The Closed reason of an unsuccessful outcome.
    #[serde(default = "default_failed_close_reason")]
    pub failed_close_reason: String,
    /// Start of the creation window of correlation searches (`yyyy-MM-ddTHH:mm:ss`, GMT).
    #[serde(default = "default_search_since")]
    pub search_since: String,
    /// The `queryString` key of the start of a listing's update-time window (default
    /// `startUpdationDate`; unverified for tickets, so configurable).
    #[serde(default = "default_updated_since_key")]
    pub updated_since_key: String,
    /// The key of its end (default `endUpdationDate`).
    #[serde(default = "default_updated_until_key")]
    pub updated_until_key: String,
}

impl std::fmt::Debug for OpsRampSettings {
    /// Secrets are [`SecretSource`]s, whose Debug never shows an inline value; URLs are
    /// shown without query or fragment.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpsRampSettings")
            .field("name", &self.name)
            .field(
                "base_url",
                &accesslink_core::redact::url_shown(&self.base_url),
            )
            .field("tenant_id", &self.tenant_id)
            .field("auth", &self.auth)
            .field("http", &self.http)
            .field("status_map", &self.status_map)
            .field("token_path", &self.token_path)
            .field("tenant_limits", &self.tenant_limits)
            .field("refresh_ahead", &self.refresh_ahead)
            .field("deactivate_reason", &self.deactivate_reason)
            .field("terminate_reason", &self.terminate_reason)
            .field("delete_mode", &self.delete_mode)
            .field("initial_password", &self.initial_password)
            .field("time_zone", &self.time_zone)
            .field("page_size", &self.page_size)
            .field("close_reason", &self.close_reason)
            .field("failed_close_reason", &self.failed_close_reason)
            .field("search_since", &self.search_since)
            .field("updated_since_key", &self.updated_since_key)
            .field("updated_until_key", &self.updated_until_key)
            .finish()
    }
}

impl OpsRampSettings {
    /// Settings with the defaults for everything but the instance's address, tenant and
    /// credentials.
    pub fn new(
        base_url: Url,
        tenant_id: impl Into<String>,
        client_id: impl Into<String>,
        client_secret: impl Into<SecretSource>,
    ) -> Self {
        let d = OpsRampConfig::default();
        OpsRampSettings {
            name: default_name(),
            base_url,
            tenant_id: tenant_id.into(),
            auth: OpsRampAuth::ClientCredentials {
                client_id: client_id.into(),
                client_secret: client_secret.into(),
            },
            http: HttpSettings::default(),
            status_map: StatusOverrides::default(),
            token_path: TokenPath::default(),
            tenant_limits: TenantLimits::default(),
            refresh_ahead: default_refresh_ahead(),
            deactivate_reason: d.deactivate_reason,
            terminate_reason: d.terminate_reason,
            delete_mode: d.delete_mode,
            initial_password: None,
            time_zone: None,
            page_size: d.page_size,
            close_reason: d.close_reason,
            failed_close_reason: d.failed_close_reason,
            search_since: d.search_since,
            updated_since_key: d.updated_window_keys.0,
            updated_until_key: d.updated_window_keys.1,
        }
    }

    /// Checks the options that need no secret and no request.
    fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(Error::config(format!("opsramp ({}): {m}", self.name)));
        if self.name.trim().is_empty() {
            return bad("name must not be empty".into());
        }
        if !matches!(self.base_url.scheme(), "https" | "http") {
            return bad(format!(
                "base_url: scheme {:?} is not http(s)",
                self.base_url.scheme()
            ));
        }
        if !(1..=crate::api::MAX_PAGE_SIZE).contains(&self.page_size) {
            return bad(format!(
                "page_size must be 1-{}, not {}",
                crate::api::MAX_PAGE_SIZE,
                self.page_size
            ));
        }
        for (key, v) in [
            ("deactivate_reason", &self.deactivate_reason),
            ("terminate_reason", &self.terminate_reason),
            ("close_reason", &self.close_reason),
            ("failed_close_reason", &self.failed_close_reason),
        ] {
            if v.trim().is_empty() {
                return bad(format!("{key} must not be empty"));
            }
        }
        for key in [&self.updated_since_key, &self.updated_until_key] {
            if key.is_empty() || key.len() > 64 || !key.chars().all(|c| c.is_ascii_alphanumeric()) {
                return bad(format!(
                    "{key:?} is not a search filter key (letters and digits)"
                ));
            }
        }
        if crate::status::parse_time(&format!("{}+0000", self.search_since)).is_none() {
            return bad(format!(
                "search_since {:?} is not yyyy-MM-ddTHH:mm:ss",
                self.search_since
            ));
        }
        if self.http.rate_limit.is_some() && self.tenant_limits != TenantLimits::Off {
            return bad(
                "set http.rate_limit or tenant_limits, not both (tenant_limits = \"off\")".into(),
            );
        }
        Ok(())
    }
}

impl OpsRampConnector {
    /// The one construction path: checks every option, reads the secrets, builds the
    /// client and the connector. Nothing is sent until the first call.
    ///
    /// ```no_run
    /// use accesslink_opsramp::{OpsRampConnector, OpsRampSettings};
    /// use accesslink_core::SecretSource;
    ///
    /// # fn run() -> accesslink_core::Result<()> {
    /// let settings = OpsRampSettings::new(
    ///     "https://api.opsramp.com".parse().expect("a URL"),
    ///     "client_7",
    ///     "integration-key",
    ///     SecretSource::env("OPSRAMP_SECRET"),
    /// );
    /// let opsramp = OpsRampConnector::from_settings(settings)?;
    /// # Ok(()) }
    /// ```
    pub fn from_settings(s: OpsRampSettings) -> Result<OpsRampConnector> {
        s.validate()?;
        let OpsRampAuth::ClientCredentials {
            client_id,
            client_secret,
        } = &s.auth;
        if client_id.trim().is_empty() {
            return Err(Error::config(format!(
                "opsramp ({}): auth.client_id must not be empty",
                s.name
            )));
        }
        let secret = client_secret.resolve("opsramp auth.client_secret")?;
        let initial_password = s
            .initial_password
            .as_ref()
            .map(|p| p.resolve("opsramp initial_password"))
            .transpose()?;
        let client = OpsRampClient::builder(s.base_url.as_str())
            .instance(s.name.clone())
            .tenant(s.tenant_id.clone())
            .client_credentials(client_id.clone(), secret)
            .token_path(s.token_path.clone())
            .http(s.http.clone())
            .rate_limit(s.tenant_limits.rate_limit())
            .refresh_ahead(s.refresh_ahead)
            .build()?;
        let config = OpsRampConfig {
            instance: s.name,
            deactivate_reason: s.deactivate_reason,
            terminate_reason: s.terminate_reason,
            delete_mode: s.delete_mode,
            initial_password,
            time_zone: s.time_zone,
            page_size: s.page_size,
            close_reason: s.close_reason,
            failed_close_reason: s.failed_close_reason,
            search_since: s.search_since,
            updated_window_keys: (s.updated_since_key, s.updated_until_key),
        };
        Ok(OpsRampConnector::assemble(
            client,
            config,
            default_status_map().with_overrides(&s.status_map),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const CANARY: &str = "canary-Zq8pW3-secret";

    fn convention() -> serde_json::Value {
        json!({
            "name": "opsramp-mock",
            "base_url": "http://127.0.0.1:9/",
            "auth": { "method": "client_credentials", "client_id": "key-1", "client_secret": CANARY },
            "tenant_id": "client_7",
        })
    }

    #[test]
    fn the_convention_json_loads() {
        let s: OpsRampSettings = serde_json::from_value(convention()).unwrap();
        assert_eq!(s.name, "opsramp-mock");
        assert_eq!(s.tenant_id, "client_7");
        assert_eq!(s.token_path, TokenPath::Auth);
        assert_eq!(s.tenant_limits, TenantLimits::Client);
        assert_eq!(s.page_size, 100);
        assert_eq!(s.refresh_ahead, Duration::from_secs(60));
        let OpsRampAuth::ClientCredentials { client_id, .. } = &s.auth;
        assert_eq!(client_id, "key-1");
        let mut more = convention();
        more["token_path"] = json!({ "custom": "/x/token" });
        more["tenant_limits"] =
            json!({ "custom": { "paged_get": 3, "get": 4, "write": 5, "window": "10s" } });
        more["delete_mode"] = json!({ "terminate_masked": "FULL" });
        more["status_map"] = json!({ "states": { "Awaiting Vendor": "on_hold" } });
        more["http"] = json!({ "retry": { "max_attempts": 5 } });
        let s: OpsRampSettings = serde_json::from_value(more).unwrap();
        assert_eq!(s.token_path, TokenPath::Custom("/x/token".into()));
        assert_eq!(s.delete_mode, DeleteMode::TerminateMasked(MaskType::Full));
        assert_eq!(s.http.retry.max_attempts, 5);
        let limit = s.tenant_limits.rate_limit().unwrap();
        assert_eq!((limit.paged_get.get(), limit.write.get()), (3, 5));
        assert_eq!(limit.window, Duration::from_secs(10));
        let c = OpsRampConnector::from_settings(s).unwrap();
        assert_eq!(c.client().http().instance(), "opsramp-mock");
    }

    #[test]
    fn unknown_keys_are_refused_by_name() {
        let mut bad = convention();
        bad["tenant"] = json!("client_7");
        let e = serde_json::from_value::<OpsRampSettings>(bad).unwrap_err();
        assert!(e.to_string().contains("tenant"), "{e}");
        let mut bad = convention();
        bad["auth"]["client_key"] = json!("k");
        let e = serde_json::from_value::<OpsRampSettings>(bad).unwrap_err();
        assert!(e.to_string().contains("client_key"), "{e}");
    }

    #[test]
    fn no_secret_in_debug() {
        let mut v = convention();
        v["initial_password"] = json!(CANARY);
        let s: OpsRampSettings = serde_json::from_value(v).unwrap();
        assert!(!format!("{s:?}").contains(CANARY));
        let c = OpsRampConnector::from_settings(s).unwrap();
        assert!(!format!("{c:?}").contains(CANARY));
    }

    #[test]
    fn bad_options_are_config_errors_before_any_request() {
        use accesslink_core::ErrorKind;
        let load = |f: &dyn Fn(&mut serde_json::Value)| {
            let mut v = convention();
            f(&mut v);
            OpsRampConnector::from_settings(serde_json::from_value(v).unwrap()).unwrap_err()
        };
        for e in [
            load(&|v| v["page_size"] = json!(0)),
            load(&|v| v["tenant_id"] = json!("client_7/../msp_1")),
            load(&|v| v["search_since"] = json!("yesterday")),
            load(&|v| v["auth"]["client_secret"] = json!({ "env": "ACCESSLINK_TEST_UNSET_VAR_9" })),
            load(&|v| v["http"] = json!({ "rate_limit": { "per_second": 2 } })),
        ] {
            assert_eq!(e.kind(), ErrorKind::Config, "{e}");
        }
        let e =
            load(&|v| v["auth"]["client_secret"] = json!({ "env": "ACCESSLINK_TEST_UNSET_VAR_9" }));
        assert!(e.to_string().contains("ACCESSLINK_TEST_UNSET_VAR_9"), "{e}");
    }

    #[test]
    fn a_json_schema_is_generated_with_every_key() {
        let schema = serde_json::to_string(&schemars::schema_for!(OpsRampSettings)).unwrap();
        for key in [
            "tenant_id",
            "client_credentials",
            "tenant_limits",
            "terminate_masked",
        ] {
            assert!(schema.contains(key), "{key} missing from the schema");
        }
    }
}
