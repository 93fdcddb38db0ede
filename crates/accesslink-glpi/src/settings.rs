//! [`GlpiSettings`]: everything the GLPI connector needs, loadable from configuration —
//! the API URL, how to log in, transport settings, the state table overrides, and how
//! the connector behaves (ticket entity, comment privacy, closing, deleting, paging and
//! batch sizes).
//!
//! [`GlpiConfig`] is the older, code-only form of the behaviour options, kept as sugar
//! for [`GlpiConnector::new`](crate::GlpiConnector::new) over a client from
//! [`GlpiClient::builder`](crate::GlpiClient::builder); both end in a [`GlpiSettings`].

use std::time::Duration;

use accesslink_core::http::HttpSettings;
use accesslink_core::{Error, Result, SecretSource, StatusOverrides};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use url::Url;

/// Which follow-ups are private.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum FollowupPrivacy {
    /// `Visibility::Internal` comments are private follow-ups, `Public` ones public
    /// (the default).
    #[default]
    FromComment,
    /// Every follow-up is private, whatever the comment says.
    AlwaysPrivate,
    /// Every follow-up is public.
    AlwaysPublic,
}

/// What `close_ticket` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CloseMode {
    /// Add a solution (status 5), then close (status 6). The default.
    #[default]
    SolveAndClose,
    /// Only add the solution; GLPI (or the requester) closes it later.
    SolveOnly,
}

/// What `delete_account` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum DeleteMode {
    /// Move the user to GLPI's trash (`is_deleted = 1`); an administrator can restore it.
    /// The default.
    #[default]
    Trash,
    /// Purge the user for good (`force_purge=true`).
    Purge,
}

/// The behaviour options of [`GlpiSettings`] in code-only form, for
/// [`GlpiConnector::new`](crate::GlpiConnector::new) over a client from
/// [`GlpiClient::builder`](crate::GlpiClient::builder). Every field has a documented
/// default; each is the top-level [`GlpiSettings`] key of the same name (`instance` is
/// `name`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct GlpiConfig {
    /// An instance name for logs and audit (default `glpi`).
    pub instance: String,
    /// Entity for new tickets, changes and users; `None` lets GLPI use the session's
    /// active entity (the default).
    pub entity: Option<u64>,
    /// Which follow-ups are private.
    pub followups: FollowupPrivacy,
    /// What closing does.
    pub close: CloseMode,
    /// Status a change is set to when closed with an unsuccessful
    /// [`Resolution`](accesslink_core::Resolution) (default 14, Cancelled). GLPI tickets
    /// have no unsuccessful closed state: they are solved and closed either way.
    pub failed_change_status: u8,
    /// What deleting a user does.
    pub delete: DeleteMode,
    /// Whether profiles granted by the connector extend to child entities (default
    /// `false`, as in GLPI's form).
    pub profile_recursive: bool,
    /// Whether `get_ticket` reads the approval records (one more request; default
    /// `true`). `get_tickets` never does: it relies on `global_validation`.
    pub read_validations: bool,
    /// Whether `get_ticket` reads the requester (two more requests; default `true`).
    pub read_requester: bool,
    /// Items per `getMultipleItems` call in batched reads (default 50).
    pub batch_size: usize,
    /// Rows per page when the caller asks for no size (default 200; at most 1000).
    pub page_size: u32,
    /// Minutes east of UTC of the server's clock, for its zone-less timestamps.
    pub server_utc_offset_minutes: i32,
    /// Base of links for people (`https://glpi.example.com/`); by default derived from
    /// the API URL by dropping `apirest.php`.
    pub ui_url: Option<String>,
}

impl Default for GlpiConfig {
    fn default() -> Self {
        GlpiConfig {
            instance: "glpi".into(),
            entity: None,
            followups: FollowupPrivacy::default(),
            close: CloseMode::default(),
            failed_change_status: 14,
            delete: DeleteMode::default(),
            profile_recursive: false,
            read_validations: true,
            read_requester: true,
            batch_size: 50,
            page_size: 200,
            server_utc_offset_minutes: 0,
            ui_url: None,
        }
    }
}

impl GlpiConfig {
    /// The defaults.
    pub fn new() -> Self {
        GlpiConfig::default()
    }

    /// Sets the instance name.
    #[must_use]
    pub fn instance(mut self, name: impl Into<String>) -> Self {
        self.instance = name.into();
        self
    }

    /// Sets the entity of new items.
    #[must_use]
    pub fn entity(mut self, entity: u64) -> Self {
        self.entity = Some(entity);
        self
    }

    /// Sets follow-up privacy.
    #[must_use]
    pub fn followups(mut self, privacy: FollowupPrivacy) -> Self {
        self.followups = privacy;
        self
    }

    /// Sets what closing does.
    #[must_use]
    pub fn close(mut self, mode: CloseMode) -> Self {
        self.close = mode;
        self
    }

    /// Sets what deleting a user does.
    #[must_use]
    pub fn delete(mut self, mode: DeleteMode) -> Self {
        self.delete = mode;
        self
    }

    /// Sets whether granted profiles are recursive.
    #[must_use]
    pub fn profile_recursive(mut self, on: bool) -> Self {
        self.profile_recursive = on;
        self
    }

    /// Sets whether `get_ticket` reads approval records.
    #[must_use]
    pub fn read_validations(mut self, on: bool) -> Self {
        self.read_validations = on;
        self
    }

    /// Sets whether `get_ticket` reads the requester.
    #[must_use]
    pub fn read_requester(mut self, on: bool) -> Self {
        self.read_requester = on;
        self
    }

    /// Sets the batch size of batched reads (1..=200).
    #[must_use]
    pub fn batch_size(mut self, n: usize) -> Self {
        self.batch_size = n.clamp(1, 200);
        self
    }

    /// Sets the default page size (1..=1000).
    #[must_use]
    pub fn page_size(mut self, n: u32) -> Self {
        self.page_size = n.clamp(1, 1000);
        self
    }

    /// Sets the server's offset from UTC in minutes.
    #[must_use]
    pub fn server_utc_offset_minutes(mut self, minutes: i32) -> Self {
        self.server_utc_offset_minutes = minutes;
        self
    }

    /// Sets the base of links for people.
    #[must_use]
    pub fn ui_url(mut self, url: impl Into<String>) -> Self {
        self.ui_url = Some(url.into());
        self
    }
}

/// The instance name used when the settings give none.
pub const DEFAULT_NAME: &str = "glpi";

fn default_name() -> String {
    DEFAULT_NAME.to_owned()
}

/// How the connector logs in; every variant takes the API client's optional App-Token
/// (Setup → General → API → API clients), sent as the `App-Token` header on every call.
///
/// In settings: `auth = { method = "user_token", user_token = { env = "GLPI_USER_TOKEN" },
/// app_token = { env = "GLPI_APP_TOKEN" } }` or `auth = { method = "password", user =
/// "svc-iam", password = { env = "GLPI_PASSWORD" } }`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "method", rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
pub enum GlpiAuth {
    /// A user's API token (`Authorization: user_token …`; user preferences → Remote
    /// access keys → API token).
    UserToken {
        /// The user's API token.
        user_token: SecretSource,
        /// The API client's App-Token, if it defines one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        app_token: Option<SecretSource>,
    },
    /// A login and password (`Authorization: Basic …`; needs "login with credentials"
    /// enabled in Setup → General → API).
    Password {
        /// The login.
        user: String,
        /// The password.
        password: SecretSource,
        /// The API client's App-Token, if it defines one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        app_token: Option<SecretSource>,
    },
}

impl GlpiAuth {
    /// The App-Token source, if any.
    pub fn app_token(&self) -> Option<&SecretSource> {
        match self {
            GlpiAuth::UserToken { app_token, .. } | GlpiAuth::Password { app_token, .. } => {
                app_token.as_ref()
            }
        }
    }
}

/// Everything the GLPI connector needs; the one input of
/// [`GlpiConnector::from_settings`](crate::GlpiConnector::from_settings).
///
/// Keys (all but `base_url` and `auth` optional):
///
/// | key | default | meaning |
/// |---|---|---|
/// | `name` | `glpi` | instance name, in errors, logs and audit |
/// | `base_url` | — | the URL of `apirest.php` (`https://glpi.example.com/apirest.php`) |
/// | `auth` | — | [`GlpiAuth`]: `{ method = "user_token", user_token, app_token? }` or `{ method = "password", user, password, app_token? }` |
/// | `http` | defaults | core [`HttpSettings`]: timeouts, retry, rate limit, user agent, root certificates, proxy |
/// | `status_map` | none | [`StatusOverrides`] over the [default tables](crate::status::default_status_map) |
/// | `session_ttl` | none | log in again proactively after this long (`"30m"`); by default a session is used until GLPI rejects it |
/// | `entity` | none | entity id of new tickets, changes and users (none: the session's active entity) |
/// | `followups` | `from_comment` | [`FollowupPrivacy`]: `from_comment`, `always_private`, `always_public` |
/// | `close` | `solve_and_close` | [`CloseMode`]: `solve_and_close`, `solve_only` |
/// | `failed_change_status` | 14 | status of a change closed unsuccessfully (1..=14) |
/// | `delete` | `trash` | [`DeleteMode`]: `trash`, `purge` |
/// | `profile_recursive` | false | granted profiles extend to child entities |
/// | `read_validations` | true | `get_ticket` reads the approval records |
/// | `read_requester` | true | `get_ticket` reads the requester |
/// | `batch_size` | 50 | items per `getMultipleItems` call (1..=200) |
/// | `page_size` | 200 | rows per page when the caller asks for no size (1..=1000) |
/// | `server_utc_offset_minutes` | 0 | minutes east of UTC of the server's zone-less timestamps |
/// | `ui_url` | derived | base of links for people; by default the API URL without `apirest.php` |
///
/// Its `Debug` never shows a secret (inline tokens and passwords print as `[redacted]`).
#[derive(Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct GlpiSettings {
    /// An instance name for errors, logs and audit (default `glpi`).
    #[serde(default = "default_name")]
    pub name: String,
    /// The URL of `apirest.php` (`https://glpi.example.com/apirest.php`).
    pub base_url: Url,
    /// How to log in.
    pub auth: GlpiAuth,
    /// Transport settings: timeouts, retry, rate limit (off by default: GLPI has none),
    /// user agent, root certificates, proxy.
    #[serde(default)]
    pub http: HttpSettings,
    /// Additions to or changes of the default status and approval tables.
    #[serde(default)]
    pub status_map: StatusOverrides,
    /// Logs in again proactively after this long; by default a session is used until
    /// the server rejects it (GLPI sessions expire after the PHP session's idle
    /// lifetime), and then renewed once.
    #[serde(
        default,
        with = "humantime_serde",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(with = "Option<String>")]
    pub session_ttl: Option<Duration>,
    /// Entity for new tickets, changes and users; `None` lets GLPI use the session's
    /// active entity (the default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entity: Option<u64>,
    /// Which follow-ups are private.
    #[serde(default)]
    pub followups: FollowupPrivacy,
    /// What closing does.
    #[serde(default)]
    pub close: CloseMode,
    /// Status a change is set to when closed with an unsuccessful
    /// [`Resolution`](accesslink_core::Resolution) (default 14, Cancelled).
    #[serde(default = "default_failed_change_status")]
    pub failed_change_status: u8,
    /// What deleting a user does.
    #[serde(default)]
    pub delete: DeleteMode,
    /// Whether profiles granted by the connector extend to child entities (default
    /// `false`, as in GLPI's form).
    #[serde(default)]
    pub profile_recursive: bool,
    /// Whether `get_ticket` reads the approval records (default `true`).
    #[serde(default = "yes")]
    pub read_validations: bool,
    /// Whether `get_ticket` reads the requester (default `true`).
    #[serde(default = "yes")]
    pub read_requester: bool,
    /// Items per `getMultipleItems` call in batched reads (default 50, 1..=200).
    #[serde(default = "default_batch_size")]
    pub batch_size: usize,
    /// Rows per page when the caller asks for no size (default 200, 1..=1000).
    #[serde(default = "default_page_size")]
    pub page_size: u32,
    /// Minutes east of UTC of the server's clock, for its zone-less timestamps.
    #[serde(default)]
    pub server_utc_offset_minutes: i32,
    /// Base of links for people (`https://glpi.example.com/`); by default derived from
    /// the API URL by dropping `apirest.php`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ui_url: Option<String>,
}

impl std::fmt::Debug for GlpiSettings {
    /// Secrets are [`SecretSource`]s, whose Debug never shows an inline value; URLs are
    /// shown without query or fragment.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GlpiSettings")
            .field("name", &self.name)
            .field(
                "base_url",
                &accesslink_core::redact::url_shown(&self.base_url),
            )
            .field("auth", &self.auth)
            .field("http", &self.http)
            .field("status_map", &self.status_map)
            .field("session_ttl", &self.session_ttl)
            .field("entity", &self.entity)
            .field("followups", &self.followups)
            .field("close", &self.close)
            .field("failed_change_status", &self.failed_change_status)
            .field("delete", &self.delete)
            .field("profile_recursive", &self.profile_recursive)
            .field("read_validations", &self.read_validations)
            .field("read_requester", &self.read_requester)
            .field("batch_size", &self.batch_size)
            .field("page_size", &self.page_size)
            .field("server_utc_offset_minutes", &self.server_utc_offset_minutes)
            .field("ui_url", &self.ui_url)
            .finish()
    }
}

fn default_failed_change_status() -> u8 {
    14
}

fn yes() -> bool {
    true
}

fn default_batch_size() -> usize {
    50
}

fn default_page_size() -> u32 {
    200
}

impl GlpiSettings {
    /// Settings for an `apirest.php` URL and a way to log in, with every option at its
    /// default.
    pub fn new(base_url: Url, auth: GlpiAuth) -> Self {
        let d = GlpiConfig::default();
        let mut s = GlpiSettings {
            name: String::new(),
            base_url,
            auth,
            http: HttpSettings::default(),
            status_map: StatusOverrides::default(),
            session_ttl: None,
            entity: None,
            followups: FollowupPrivacy::default(),
            close: CloseMode::default(),
            failed_change_status: 0,
            delete: DeleteMode::default(),
            profile_recursive: false,
            read_validations: true,
            read_requester: true,
            batch_size: 0,
            page_size: 0,
            server_utc_offset_minutes: 0,
            ui_url: None,
        };
        s.apply(d);
        s
    }

    /// Takes every behaviour option (and the instance name) from a [`GlpiConfig`].
    pub fn apply(&mut self, c: GlpiConfig) {
        let GlpiConfig {
            instance,
            entity,
            followups,
            close,
            failed_change_status,
            delete,
            profile_recursive,
            read_validations,
            read_requester,
            batch_size,
            page_size,
            server_utc_offset_minutes,
            ui_url,
        } = c;
        self.name = instance;
        self.entity = entity;
        self.followups = followups;
        self.close = close;
        self.failed_change_status = failed_change_status;
        self.delete = delete;
        self.profile_recursive = profile_recursive;
        self.read_validations = read_validations;
        self.read_requester = read_requester;
        self.batch_size = batch_size;
        self.page_size = page_size;
        self.server_utc_offset_minutes = server_utc_offset_minutes;
        self.ui_url = ui_url;
    }

    /// Sets the transport settings (timeouts, retry, rate limit …).
    #[must_use]
    pub fn http(mut self, http: HttpSettings) -> Self {
        self.http = http;
        self
    }

    /// Sets the status map overrides.
    #[must_use]
    pub fn status_map(mut self, overrides: StatusOverrides) -> Self {
        self.status_map = overrides;
        self
    }

    /// Sets the instance name.
    #[must_use]
    pub fn instance(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Checks everything that can be checked without a request (secrets are resolved
    /// separately, by the client). Problems are [`ErrorKind::Config`] errors naming the
    /// key.
    ///
    /// [`ErrorKind::Config`]: accesslink_core::ErrorKind::Config
    pub fn validate(&self) -> Result<()> {
        if self.name.trim().is_empty() {
            return Err(Error::config("name: must not be empty"));
        }
        check_url("base_url", &self.base_url)?;
        if let GlpiAuth::Password { user, .. } = &self.auth {
            if user.trim().is_empty() {
                return Err(Error::config("auth.user: must not be empty"));
            }
            if user.contains(':') {
                return Err(Error::config(
                    "auth.user: a login with ':' cannot be sent with Basic auth",
                ));
            }
        }
        self.http.validate()?;
        if !(1..=200).contains(&self.batch_size) {
            return Err(Error::config(format!(
                "batch_size: {} is not in 1..=200",
                self.batch_size
            )));
        }
        if !(1..=1000).contains(&self.page_size) {
            return Err(Error::config(format!(
                "page_size: {} is not in 1..=1000",
                self.page_size
            )));
        }
        if !(1..=14).contains(&self.failed_change_status) {
            return Err(Error::config(format!(
                "failed_change_status: {} is not a GLPI change status (1..=14)",
                self.failed_change_status
            )));
        }
        if let Some(ui) = &self.ui_url {
            let url: Url = ui
                .parse()
                .map_err(|e| Error::config(format!("ui_url: {ui:?}: {e}")))?;
            check_url("ui_url", &url)?;
        }
        if self.session_ttl.is_some_and(|t| t.is_zero()) {
            return Err(Error::config("session_ttl: must be positive"));
        }
        Ok(())
    }
}

fn check_url(key: &str, url: &Url) -> Result<()> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(Error::config(format!(
            "{key}: scheme {:?} is not http or https",
            url.scheme()
        )));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::config(format!(
            "{key}: credentials in the URL are not allowed"
        )));
    }
    if url.query().is_some() {
        return Err(Error::config(format!("{key}: must not have a query")));
    }
    if url.fragment().is_some() {
        return Err(Error::config(format!("{key}: must not have a fragment")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use accesslink_core::ErrorKind;
    use serde_json::json;

    const CANARY_TOKEN: &str = "canary-7d1a-glpi-user-token";
    const CANARY_APP: &str = "canary-7d1a-glpi-app-token";
    const CANARY_PW: &str = "canary-7d1a-glpi-password";

    fn token_json() -> serde_json::Value {
        json!({
            "name": "glpi-mock",
            "base_url": "http://127.0.0.1:8080/apirest.php",
            "auth": { "method": "user_token", "user_token": CANARY_TOKEN, "app_token": CANARY_APP },
        })
    }

    #[test]
    fn the_convention_json_loads() {
        let s: GlpiSettings = serde_json::from_value(token_json()).unwrap();
        assert_eq!(s.name, "glpi-mock");
        assert_eq!(s.base_url.path(), "/apirest.php");
        assert_eq!(
            s.auth.app_token(),
            Some(&SecretSource::from(secrecy::SecretString::from(CANARY_APP)))
        );
        assert_eq!(s.batch_size, 50);
        assert_eq!(s.page_size, 200);
        assert_eq!(s.failed_change_status, 14);
        assert!(s.read_validations && s.read_requester);
        assert_eq!(s.close, CloseMode::SolveAndClose);
        s.validate().unwrap();

        let p: GlpiSettings = serde_json::from_value(json!({
            "base_url": "https://glpi.example.com/apirest.php",
            "auth": { "method": "password", "user": "svc-iam", "password": { "env": "GLPI_PW" } },
            "delete": "purge",
            "followups": "always_private",
            "close": "solve_only",
            "entity": 3,
            "session_ttl": "20m",
            "status_map": { "states": { "Change:13": "closed" } },
        }))
        .unwrap();
        assert_eq!(p.name, "glpi");
        assert_eq!(p.delete, DeleteMode::Purge);
        assert_eq!(p.followups, FollowupPrivacy::AlwaysPrivate);
        assert_eq!(p.close, CloseMode::SolveOnly);
        assert_eq!(p.entity, Some(3));
        assert_eq!(p.session_ttl, Some(Duration::from_secs(1200)));
        assert_eq!(p.auth.app_token(), None);
        p.validate().unwrap();

        // The defaults of GlpiConfig and of the settings are the same.
        let from_code = GlpiSettings::new(s.base_url.clone(), s.auth.clone());
        let from_json: GlpiSettings = serde_json::from_value(json!({
            "base_url": "http://127.0.0.1:8080/apirest.php",
            "auth": { "method": "user_token", "user_token": CANARY_TOKEN, "app_token": CANARY_APP },
        }))
        .unwrap();
        assert_eq!(
            serde_json::to_value(&from_code).unwrap(),
            serde_json::to_value(&from_json).unwrap()
        );
    }

    #[test]
    fn unknown_keys_are_refused_by_name() {
        let mut v = token_json();
        v["page_sise"] = json!(10);
        let e = serde_json::from_value::<GlpiSettings>(v).unwrap_err();
        assert!(e.to_string().contains("page_sise"), "{e}");

        let mut v = token_json();
        v["auth"]["password"] = json!("x");
        let e = serde_json::from_value::<GlpiSettings>(v).unwrap_err();
        assert!(e.to_string().contains("password"), "{e}");

        let mut v = token_json();
        v["auth"]["method"] = json!("basic");
        let e = serde_json::from_value::<GlpiSettings>(v).unwrap_err();
        assert!(e.to_string().contains("basic"), "{e}");

        let mut v = token_json();
        v["delete"] = json!("shred");
        let e = serde_json::from_value::<GlpiSettings>(v).unwrap_err();
        assert!(e.to_string().contains("shred"), "{e}");
    }

    #[test]
    fn debug_never_shows_a_secret() {
        let s: GlpiSettings = serde_json::from_value(token_json()).unwrap();
        let p: GlpiSettings = serde_json::from_value(json!({
            "base_url": "https://glpi.example.com/apirest.php",
            "auth": { "method": "password", "user": "svc-iam", "password": CANARY_PW, "app_token": CANARY_APP },
        }))
        .unwrap();
        for shown in [
            format!("{s:?}"),
            format!("{p:?}"),
            format!("{s:#?}"),
            serde_json::to_string(&s).unwrap(),
            serde_json::to_string(&p).unwrap(),
        ] {
            for canary in [CANARY_TOKEN, CANARY_APP, CANARY_PW] {
                assert!(!shown.contains(canary), "{shown}");
            }
        }
        assert!(format!("{p:?}").contains("svc-iam"));
    }

    #[test]
    fn validation_names_the_key_and_is_a_config_error() {
        let base = || serde_json::from_value::<GlpiSettings>(token_json()).unwrap();
        let mut cases: Vec<(GlpiSettings, &str)> = Vec::new();
        let mut s = base();
        s.batch_size = 0;
        cases.push((s, "batch_size"));
        let mut s = base();
        s.page_size = 1001;
        cases.push((s, "page_size"));
        let mut s = base();
        s.failed_change_status = 15;
        cases.push((s, "failed_change_status"));
        let mut s = base();
        s.ui_url = Some("not a url".into());
        cases.push((s, "ui_url"));
        let mut s = base();
        s.base_url = "ftp://glpi.example.com/apirest.php".parse().unwrap();
        cases.push((s, "base_url"));
        cases.push((base().instance(""), "name"));
        for (s, key) in cases {
            let e = s.validate().unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Config, "{e}");
            assert!(e.to_string().contains(key), "{key}: {e}");
        }
    }
    #[test]
    fn the_json_schema_names_every_key() {
        let schema = serde_json::to_value(schemars::schema_for!(GlpiSettings)).unwrap();
        let text = schema.to_string();
        let required = schema["required"].as_array().unwrap();
        assert!(required.contains(&json!("base_url")), "{text}");
        assert!(required.contains(&json!("auth")), "{text}");
        assert!(!required.contains(&json!("name")), "{text}");
        for key in [
            "name",
            "base_url",
            "auth",
            "http",
            "status_map",
            "batch_size",
        ] {
            assert!(schema["properties"].get(key).is_some(), "{key}: {text}");
        }
        assert_eq!(schema["additionalProperties"], json!(false), "{text}");
        for method in ["user_token", "password"] {
            assert!(text.contains(&format!("\"{method}\"")), "{method}: {text}");
        }
    }
}
