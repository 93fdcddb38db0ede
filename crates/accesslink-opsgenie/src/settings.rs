//! [`OpsGenieSettings`]: one OpsGenie account as configuration (base URL, API key, core
//! [`HttpSettings`] and the connector's options), the one path to a connector
//! ([`OpsGenieConnector::from_settings`]); and [`OpsGenieConfig`], the options the
//! connector runs with.

use accesslink_core::http::HttpSettings;
use accesslink_core::{Error, Result, SecretSource};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use url::Url;

use crate::client::OpsGenieClient;
use crate::connector::OpsGenieConnector;

/// The built-in global roles OpsGenie assigns by name (`GET /v2/roles` lists only custom
/// ones). The fact sheet names `admin` and `user` (older docs also `owner`); custom roles
/// extend `user`, `observer` or `stakeholder`.
pub const BUILT_IN_ROLES: [&str; 5] = ["Owner", "Admin", "User", "Observer", "Stakeholder"];

/// The options of an [`OpsGenieConnector`] (every field has a documented default): what
/// [`OpsGenieConnector::from_settings`] makes of [`OpsGenieSettings`], and what
/// [`OpsGenieConnector::new`] takes with a ready client.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct OpsGenieConfig {
    /// An instance name for logs and audit (default `opsgenie`).
    pub instance: String,
    /// The role new users get when the spec names none, and the role a `role` revoke
    /// sets back (default `User`): every OpsGenie user holds exactly one role.
    pub default_role: String,
    /// Built-in roles offered as entitlements besides the custom ones (default
    /// [`BUILT_IN_ROLES`]).
    pub built_in_roles: Vec<String>,
    /// The team role a granted team membership gets (default `user`).
    pub member_role: String,
    /// Users per page when the caller asks for no size (default and maximum 100).
    pub page_size: u32,
    /// Whether new users are created without the invitation e-mail (default `false`:
    /// OpsGenie sends it).
    pub invitation_disabled: bool,
}

impl Default for OpsGenieConfig {
    fn default() -> Self {
        OpsGenieConfig {
            instance: "opsgenie".into(),
            default_role: "User".into(),
            built_in_roles: BUILT_IN_ROLES.iter().map(|r| (*r).to_owned()).collect(),
            member_role: "user".into(),
            page_size: 100,
            invitation_disabled: false,
        }
    }
}

impl OpsGenieConfig {
    /// The defaults.
    pub fn new() -> Self {
        OpsGenieConfig::default()
    }

    /// Sets the instance name.
    #[must_use]
    pub fn instance(mut self, name: impl Into<String>) -> Self {
        self.instance = name.into();
        self
    }

    /// Sets the default role.
    #[must_use]
    pub fn default_role(mut self, role: impl Into<String>) -> Self {
        self.default_role = role.into();
        self
    }

    /// Sets the built-in roles offered as entitlements.
    #[must_use]
    pub fn built_in_roles(mut self, roles: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.built_in_roles = roles.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the team role of granted memberships (`user`, `admin`, or a custom team role).
    #[must_use]
    pub fn member_role(mut self, role: impl Into<String>) -> Self {
        self.member_role = role.into();
        self
    }

    /// Sets the default page size (1..=100).
    #[must_use]
    pub fn page_size(mut self, n: u32) -> Self {
        self.page_size = n.clamp(1, 100);
        self
    }

    /// Sets whether new users get the invitation e-mail.
    #[must_use]
    pub fn invitation_disabled(mut self, disabled: bool) -> Self {
        self.invitation_disabled = disabled;
        self
    }
}

/// How an OpsGenie account authenticates: `auth = { method = "api_key", key = { env =
/// "OPSGENIE_KEY" } }`, sent as `Authorization: GenieKey <key>` (fact sheet §2.1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "method", rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
pub enum OpsGenieAuth {
    /// The key of an "API" integration.
    ApiKey {
        /// The key.
        key: SecretSource,
    },
}

fn default_name() -> String {
    "opsgenie".into()
}
fn default_role() -> String {
    OpsGenieConfig::default().default_role
}
fn default_built_in_roles() -> Vec<String> {
    OpsGenieConfig::default().built_in_roles
}
fn default_member_role() -> String {
    OpsGenieConfig::default().member_role
}
fn default_page_size() -> u32 {
    OpsGenieConfig::default().page_size
}

/// One OpsGenie account, loadable from configuration (`deny_unknown_fields`).
///
/// Keys: `name` (default `opsgenie`), `base_url` (`https://api.opsgenie.com`,
/// `https://api.eu.opsgenie.com` — a US key does not work there — or
/// `https://api.sandbox.opsgenie.com`), `auth` ([`OpsGenieAuth`]), `http` (core
/// [`HttpSettings`]), `default_role` (default `User`), `built_in_roles` (default
/// [`BUILT_IN_ROLES`]), `member_role` (default `user`), `page_size` (default and at most
/// 100), `invitation_disabled` (default `false`). OpsGenie has no tickets here, so there
/// is no `status_map`.
///
/// ```toml
/// [instances.opsgenie-eu]
/// target = "opsgenie"
/// base_url = "https://api.eu.opsgenie.com"
/// auth = { method = "api_key", key = { env = "OPSGENIE_KEY" } }
/// member_role = "user"
/// ```
#[derive(Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct OpsGenieSettings {
    /// The instance name in errors, logs and `info()` (default `opsgenie`).
    #[serde(default = "default_name")]
    pub name: String,
    /// The API host of the account's region.
    pub base_url: Url,
    /// How to authenticate.
    pub auth: OpsGenieAuth,
    /// Timeouts, retries, rate limit, user agent, certificates, proxy, body cap.
    #[serde(default)]
    pub http: HttpSettings,
    /// The role new users get when the spec names none, and the role a `role` revoke
    /// sets back.
    #[serde(default = "default_role")]
    pub default_role: String,
    /// Built-in roles offered as entitlements besides the custom ones.
    #[serde(default = "default_built_in_roles")]
    pub built_in_roles: Vec<String>,
    /// The team role a granted team membership gets.
    #[serde(default = "default_member_role")]
    pub member_role: String,
    /// Users per page when the caller asks for no size (1-100).
    #[serde(default = "default_page_size")]
    pub page_size: u32,
    /// Whether new users are created without the invitation e-mail.
    #[serde(default)]
    pub invitation_disabled: bool,
}

impl std::fmt::Debug for OpsGenieSettings {
    /// Secrets are [`SecretSource`]s, whose Debug never shows an inline value; URLs are
    /// shown without query or fragment.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpsGenieSettings")
            .field("name", &self.name)
            .field(
                "base_url",
                &accesslink_core::redact::url_shown(&self.base_url),
            )
            .field("auth", &self.auth)
            .field("http", &self.http)
            .field("default_role", &self.default_role)
            .field("built_in_roles", &self.built_in_roles)
            .field("member_role", &self.member_role)
            .field("page_size", &self.page_size)
            .field("invitation_disabled", &self.invitation_disabled)
            .finish()
    }
}

impl OpsGenieSettings {
    /// Settings with the defaults for everything but the base URL and the key.
    pub fn new(base_url: Url, key: impl Into<SecretSource>) -> Self {
        let d = OpsGenieConfig::default();
        OpsGenieSettings {
            name: default_name(),
            base_url,
            auth: OpsGenieAuth::ApiKey { key: key.into() },
            http: HttpSettings::default(),
            default_role: d.default_role,
            built_in_roles: d.built_in_roles,
            member_role: d.member_role,
            page_size: d.page_size,
            invitation_disabled: d.invitation_disabled,
        }
    }

    fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(Error::config(format!("opsgenie ({}): {m}", self.name)));
        if self.name.trim().is_empty() {
            return bad("name must not be empty".into());
        }
        if !matches!(self.base_url.scheme(), "https" | "http") {
            return bad(format!(
                "base_url: scheme {:?} is not http(s)",
                self.base_url.scheme()
            ));
        }
        if !(1..=100).contains(&self.page_size) {
            return bad(format!("page_size must be 1-100, not {}", self.page_size));
        }
        for (key, v) in [
            ("default_role", &self.default_role),
            ("member_role", &self.member_role),
        ] {
            if v.trim().is_empty() {
                return bad(format!("{key} must not be empty"));
            }
        }
        if self.built_in_roles.iter().any(|r| r.trim().is_empty()) {
            return bad("built_in_roles must not hold an empty name".into());
        }
        Ok(())
    }
}

impl OpsGenieConnector {
    /// The one construction path: checks every option, reads the key, builds the client
    /// and the connector. Nothing is sent until the first call.
    ///
    /// ```no_run
    /// use accesslink_core::SecretSource;
    /// use accesslink_opsgenie::{OpsGenieConnector, OpsGenieSettings};
    ///
    /// # fn run() -> accesslink_core::Result<()> {
    /// let settings = OpsGenieSettings::new(
    ///     "https://api.eu.opsgenie.com".parse().expect("a URL"),
    ///     SecretSource::env("OPSGENIE_KEY"),
    /// );
    /// let opsgenie = OpsGenieConnector::from_settings(settings)?;
    /// # Ok(()) }
    /// ```
    pub fn from_settings(s: OpsGenieSettings) -> Result<OpsGenieConnector> {
        s.validate()?;
        let OpsGenieAuth::ApiKey { key } = &s.auth;
        let key = key.resolve("opsgenie auth.key")?;
        let client = OpsGenieClient::builder()
            .base_url(s.base_url.as_str())
            .instance(s.name.clone())
            .api_key(key)
            .http(s.http)
            .build()?;
        let config = OpsGenieConfig {
            instance: s.name,
            default_role: s.default_role,
            built_in_roles: s.built_in_roles,
            member_role: s.member_role,
            page_size: s.page_size,
            invitation_disabled: s.invitation_disabled,
        };
        Ok(OpsGenieConnector::new(client, config))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use accesslink_core::ErrorKind;
    use serde_json::json;

    const CANARY: &str = "canary-Gk7vQ2-genie";

    fn convention() -> serde_json::Value {
        json!({
            "name": "opsgenie-mock",
            "base_url": "http://127.0.0.1:9/",
            "auth": { "method": "api_key", "key": CANARY },
        })
    }

    #[test]
    fn the_convention_json_loads() {
        let s: OpsGenieSettings = serde_json::from_value(convention()).unwrap();
        assert_eq!(s.name, "opsgenie-mock");
        assert_eq!((s.page_size, s.member_role.as_str()), (100, "user"));
        assert_eq!(s.built_in_roles.len(), BUILT_IN_ROLES.len());
        let mut more = convention();
        more["http"] = json!({ "retry": { "max_attempts": 5 } });
        more["invitation_disabled"] = json!(true);
        let s: OpsGenieSettings = serde_json::from_value(more).unwrap();
        let c = OpsGenieConnector::from_settings(s).unwrap();
        assert!(c.config().invitation_disabled);
        assert_eq!(c.client().retry_config().max_attempts, 5);
        assert_eq!(c.client().http().instance(), "opsgenie-mock");
    }

    #[test]
    fn unknown_keys_are_refused_by_name() {
        let mut bad = convention();
        bad["region"] = json!("eu");
        let e = serde_json::from_value::<OpsGenieSettings>(bad).unwrap_err();
        assert!(e.to_string().contains("region"), "{e}");
        let mut bad = convention();
        bad["auth"]["api_key"] = json!("k");
        let e = serde_json::from_value::<OpsGenieSettings>(bad).unwrap_err();
        assert!(e.to_string().contains("api_key"), "{e}");
    }

    #[test]
    fn no_secret_in_debug() {
        let s: OpsGenieSettings = serde_json::from_value(convention()).unwrap();
        assert!(!format!("{s:?}").contains(CANARY));
        let c = OpsGenieConnector::from_settings(s).unwrap();
        assert!(!format!("{c:?}").contains(CANARY));
    }

    #[test]
    fn bad_options_are_config_errors_before_any_request() {
        let load = |f: &dyn Fn(&mut serde_json::Value)| {
            let mut v = convention();
            f(&mut v);
            OpsGenieConnector::from_settings(serde_json::from_value(v).unwrap()).unwrap_err()
        };
        for e in [
            load(&|v| v["page_size"] = json!(101)),
            load(&|v| v["member_role"] = json!(" ")),
            load(&|v| v["auth"]["key"] = json!({ "env": "ACCESSLINK_TEST_UNSET_VAR_7" })),
            load(&|v| v["auth"]["key"] = json!("")),
        ] {
            assert_eq!(e.kind(), ErrorKind::Config, "{e}");
        }
        let e = load(&|v| v["auth"]["key"] = json!({ "env": "ACCESSLINK_TEST_UNSET_VAR_7" }));
        assert!(e.to_string().contains("ACCESSLINK_TEST_UNSET_VAR_7"), "{e}");
    }

    #[test]
    fn a_json_schema_is_generated_with_every_key() {
        let schema = serde_json::to_string(&schemars::schema_for!(OpsGenieSettings)).unwrap();
        for key in ["api_key", "member_role", "base_url"] {
            assert!(schema.contains(key), "{key} missing from the schema");
        }
    }
}
