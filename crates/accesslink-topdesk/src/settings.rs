//! [`TopdeskSettings`]: one TOPdesk instance as configuration — the instance URL, the
//! application password, core [`HttpSettings`], the status table overrides and how the
//! connector behaves (closing, comment visibility, number style, paging, new accounts) —
//! and the one path to a connector, [`TopdeskConnector::from_settings`].

use accesslink_core::http::HttpSettings;
use accesslink_core::{Error, Result, SecretSource, StatusOverrides};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use url::Url;

use crate::client::TopdeskClient;
use crate::connector::TopdeskConnector;
use crate::refs::NumberStyle;

/// The most rows TOPdesk returns per page (`pageSize` maximum in the vendor's API
/// description, and the incident list's documented cap).
pub const MAX_PAGE_SIZE: u32 = 10_000;

/// How the connector authenticates (fact sheet §3.2).
///
/// `auth = { method = "application_password", login = "svc-iam", password = { env =
/// "TOPDESK_APP_PASSWORD" } }`: every request carries `Authorization: Basic
/// base64(login:application password)`. The login is the operator's TOPdesk login name,
/// not the name given to the application password. The deprecated token login
/// (`/tas/api/login/operator`) is not offered.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "method", rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
pub enum TopdeskAuth {
    /// An application password of an operator (or person) account.
    ApplicationPassword {
        /// The account's TOPdesk login name.
        login: String,
        /// The application password.
        password: SecretSource,
    },
}

/// What kind of TOPdesk account `create_account` makes when the spec does not say
/// (attribute `kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum AccountKind {
    /// An operator (agent): login `loginName`, operator groups as entitlements. The
    /// default.
    #[default]
    Operator,
    /// A person (end user, caller): login `tasLoginName`.
    Person,
}

impl AccountKind {
    /// `operator` or `person`, the prefix of account ids.
    pub fn as_str(self) -> &'static str {
        match self {
            AccountKind::Operator => "operator",
            AccountKind::Person => "person",
        }
    }
}

/// How `close_ticket` closes an incident. TOPdesk tenants decide whether the processing
/// status drives the `completed`/`closed` flags (fact sheet §3.3), so both are sent and
/// the incident is read back: its `closed` flag is the truth.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct CloseSettings {
    /// The processing status set on close (default `Closed`); `None` sends none.
    #[serde(default = "default_closed_status")]
    pub processing_status: Option<String>,
    /// The closure code of a successful close (default `Solved`); `None` sends none.
    #[serde(default = "default_closure_code")]
    pub closure_code: Option<String>,
    /// The closure code of an unsuccessful close (a [`Resolution`] that is not a
    /// success: rejected, cancelled); default `None`, which uses `closure_code`.
    ///
    /// [`Resolution`]: accesslink_core::Resolution
    #[serde(default)]
    pub failed_closure_code: Option<String>,
    /// Whether `completed: true, closed: true` are sent too (default `true`); turn off for
    /// tenants where the processing status sets the flags and explicit flags conflict.
    #[serde(default = "yes")]
    pub send_flags: bool,
}

impl Default for CloseSettings {
    fn default() -> Self {
        CloseSettings {
            processing_status: default_closed_status(),
            closure_code: default_closure_code(),
            failed_closure_code: None,
            send_flags: true,
        }
    }
}

/// How operator changes are created and closed (fact sheet §3.4; UNVERIFIED against a
/// spec, hence every part configurable).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ChangeSettings {
    /// `simple` (the default) or `extensive`: the `changeType` of new changes.
    #[serde(default = "default_change_type")]
    pub change_type: String,
    /// A change template (UUID) new changes are made from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    /// The `processingStatusTransitions` action of a successful close (default
    /// `close`).
    #[serde(default = "default_close_action")]
    pub close_action: String,
    /// How an unsuccessful close ends a change: `cancel` (the default, `POST
    /// …/cancel`) or a transition action such as `reject`.
    #[serde(default = "default_failed_action")]
    pub failed_close_action: String,
}

impl Default for ChangeSettings {
    fn default() -> Self {
        ChangeSettings {
            change_type: default_change_type(),
            template: None,
            close_action: default_close_action(),
            failed_close_action: default_failed_action(),
        }
    }
}

fn default_change_type() -> String {
    "simple".into()
}
fn default_close_action() -> String {
    "close".into()
}
fn default_failed_action() -> String {
    "cancel".into()
}
fn default_permission_groups_path() -> String {
    "permissiongroups".into()
}

fn default_closed_status() -> Option<String> {
    Some("Closed".into())
}
fn default_closure_code() -> Option<String> {
    Some("Solved".into())
}
fn yes() -> bool {
    true
}
fn default_name() -> String {
    "topdesk".into()
}
fn default_page_size() -> u32 {
    100
}
fn default_batch_size() -> usize {
    50
}
fn default_status() -> String {
    "firstLine".into()
}

/// One TOPdesk instance, loadable from configuration (`deny_unknown_fields`).
///
/// | key | default | meaning |
/// |---|---|---|
/// | `name` | `topdesk` | instance name in errors, logs and audit |
/// | `base_url` | — | the instance root (`https://acme.topdesk.net`); `/tas/api/` is appended |
/// | `auth` | — | [`TopdeskAuth`]: `{ method = "application_password", login, password }` |
/// | `http` | defaults | core [`HttpSettings`] |
/// | `status_map` | none | [`StatusOverrides`] over the [default table](crate::status::default_status_map) |
/// | `close` | `Closed` / `Solved` | [`CloseSettings`] |
/// | `comments_invisible_for_caller` | `None` | `true`/`false` forces every action's visibility; none follows the comment's |
/// | `number_style` | `spaces` | [`NumberStyle`]: how the tenant writes incident numbers |
/// | `page_size` | 100 | rows per page when the caller asks for none (capped at 10 000) |
/// | `batch_size` | 50 | numbers per `number=in=(…)` query in batched reads (1..=200) |
/// | `incident_status` | `firstLine` | `status` of new incidents: `firstLine`, `secondLine` |
/// | `operator_group` | none | operator group id (UUID) new incidents are assigned to |
/// | `new_account_kind` | `operator` | [`AccountKind`] of created accounts |
/// | `branch` | none | branch id (UUID) of new operators and persons; TOPdesk requires one |
/// | `archiving_reason` | none | archiving reason id sent when disabling accounts |
/// | `changes` | `simple` / `close` / `cancel` | [`ChangeSettings`]: change type, template, close and failed-close actions |
/// | `permission_groups_path` | `permissiongroups` | where permission groups are listed (UNVERIFIED path) |
///
/// ```toml
/// [instances.topdesk]
/// target = "topdesk"
/// base_url = "https://acme.topdesk.net"
/// auth = { method = "application_password", login = "svc-iam", password = { env = "TOPDESK_APP_PASSWORD" } }
/// close = { processing_status = "Closed", closure_code = "Solved" }
/// ```
#[derive(Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct TopdeskSettings {
    /// The instance name in errors, logs and `info()` (default `topdesk`).
    #[serde(default = "default_name")]
    pub name: String,
    /// The instance root (`https://acme.topdesk.net`); the API is under `/tas/api/`.
    pub base_url: Url,
    /// How to authenticate.
    pub auth: TopdeskAuth,
    /// Timeouts, retries, rate limit, user agent, certificates, proxy, body cap.
    #[serde(default)]
    pub http: HttpSettings,
    /// Additions to or changes of the default status table.
    #[serde(default)]
    pub status_map: StatusOverrides,
    /// How incidents are closed.
    #[serde(default)]
    pub close: CloseSettings,
    /// Forces the visibility of every action: `true` hides all from the caller, `false`
    /// shows all; unset (the default) follows each comment's visibility.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comments_invisible_for_caller: Option<bool>,
    /// How the tenant writes incident numbers.
    #[serde(default)]
    pub number_style: NumberStyle,
    /// Rows per page when the caller asks for none (1..=10 000).
    #[serde(default = "default_page_size")]
    pub page_size: u32,
    /// Numbers per FIQL `number=in=(…)` query in batched reads (1..=200).
    #[serde(default = "default_batch_size")]
    pub batch_size: usize,
    /// The `status` of new incidents (`firstLine` or `secondLine`).
    #[serde(default = "default_status")]
    pub incident_status: String,
    /// Operator group (UUID) new incidents are assigned to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator_group: Option<String>,
    /// The kind of account `create_account` makes when the spec does not say.
    #[serde(default)]
    pub new_account_kind: AccountKind,
    /// The branch (UUID) of new operators and persons; TOPdesk requires one (the
    /// attribute `branch` of an [`AccountSpec`](accesslink_core::AccountSpec) overrides it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    /// The archiving reason (UUID) sent when disabling (archiving) an account; tenants
    /// may require one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archiving_reason: Option<String>,
    /// How operator changes are created and closed.
    #[serde(default)]
    pub changes: ChangeSettings,
    /// Where permission groups are listed, under `/tas/api` (default
    /// `permissiongroups`; UNVERIFIED, fact sheet §3.7). An operator's permission groups
    /// are read and linked at `operators/id/{id}/permissiongroups` (vendor API
    /// description).
    #[serde(default = "default_permission_groups_path")]
    pub permission_groups_path: String,
}

impl std::fmt::Debug for TopdeskSettings {
    /// The password is a [`SecretSource`], whose Debug never shows an inline value; the
    /// URL is shown without query, fragment or credentials.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TopdeskSettings")
            .field("name", &self.name)
            .field(
                "base_url",
                &accesslink_core::redact::url_shown(&self.base_url),
            )
            .field("auth", &self.auth)
            .field("http", &self.http)
            .field("status_map", &self.status_map)
            .field("close", &self.close)
            .field(
                "comments_invisible_for_caller",
                &self.comments_invisible_for_caller,
            )
            .field("number_style", &self.number_style)
            .field("page_size", &self.page_size)
            .field("batch_size", &self.batch_size)
            .field("incident_status", &self.incident_status)
            .field("operator_group", &self.operator_group)
            .field("new_account_kind", &self.new_account_kind)
            .field("branch", &self.branch)
            .field("archiving_reason", &self.archiving_reason)
            .field("changes", &self.changes)
            .field("permission_groups_path", &self.permission_groups_path)
            .finish()
    }
}

impl TopdeskSettings {
    /// Settings with the defaults for everything but the instance URL and the login.
    pub fn new(base_url: Url, login: impl Into<String>, password: impl Into<SecretSource>) -> Self {
        TopdeskSettings {
            name: default_name(),
            base_url,
            auth: TopdeskAuth::ApplicationPassword {
                login: login.into(),
                password: password.into(),
            },
            http: HttpSettings::default(),
            status_map: StatusOverrides::default(),
            close: CloseSettings::default(),
            comments_invisible_for_caller: None,
            number_style: NumberStyle::default(),
            page_size: default_page_size(),
            batch_size: default_batch_size(),
            incident_status: default_status(),
            operator_group: None,
            new_account_kind: AccountKind::default(),
            branch: None,
            archiving_reason: None,
            changes: ChangeSettings::default(),
            permission_groups_path: default_permission_groups_path(),
        }
    }

    /// Checks every option; a problem is a `Config` error naming the key.
    pub(crate) fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(Error::config(format!("topdesk ({}): {m}", self.name)));
        if self.name.trim().is_empty() {
            return bad("name must not be empty".into());
        }
        if !matches!(self.base_url.scheme(), "https" | "http") {
            return bad(format!(
                "base_url: scheme {:?} is not http(s)",
                self.base_url.scheme()
            ));
        }
        let TopdeskAuth::ApplicationPassword { login, .. } = &self.auth;
        if login.trim().is_empty() || login.contains(':') || login.chars().any(char::is_control) {
            return bad("auth.login must be a login name without ':' or control characters".into());
        }
        if !(1..=MAX_PAGE_SIZE).contains(&self.page_size) {
            return bad(format!(
                "page_size must be 1-{MAX_PAGE_SIZE}, not {}",
                self.page_size
            ));
        }
        if !(1..=200).contains(&self.batch_size) {
            return bad(format!("batch_size must be 1-200, not {}", self.batch_size));
        }
        if !matches!(self.incident_status.as_str(), "firstLine" | "secondLine") {
            return bad(format!(
                "incident_status must be firstLine or secondLine, not {:?}",
                self.incident_status
            ));
        }
        if !matches!(self.changes.change_type.as_str(), "simple" | "extensive") {
            return bad(format!(
                "changes.change_type must be simple or extensive, not {:?}",
                self.changes.change_type
            ));
        }
        for (key, v) in [
            ("changes.close_action", &self.changes.close_action),
            (
                "changes.failed_close_action",
                &self.changes.failed_close_action,
            ),
        ] {
            if v.is_empty() || !v.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return bad(format!(
                    "{key} must be an action name such as close, not {v:?}"
                ));
            }
        }
        let path = &self.permission_groups_path;
        let segment_ok = |s: &str| {
            !s.is_empty()
                && s != "."
                && s != ".."
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_".contains(c))
        };
        if !path.split('/').all(segment_ok) {
            return bad(format!(
                "permission_groups_path must be a path under /tas/api such as permissiongroups, not {path:?}"
            ));
        }
        for (key, v) in [
            ("operator_group", &self.operator_group),
            ("branch", &self.branch),
            ("archiving_reason", &self.archiving_reason),
            ("changes.template", &self.changes.template),
        ] {
            if let Some(v) = v {
                if crate::refs::uuid(v).is_none() {
                    return bad(format!("{key} must be a UUID, not {v:?}"));
                }
            }
        }
        for (key, v) in [
            ("close.processing_status", &self.close.processing_status),
            ("close.closure_code", &self.close.closure_code),
            ("close.failed_closure_code", &self.close.failed_closure_code),
        ] {
            if v.as_deref().is_some_and(|v| v.trim().is_empty()) {
                return bad(format!("{key} must not be empty (leave it out instead)"));
            }
        }
        if self.close.processing_status.is_none()
            && self.close.closure_code.is_none()
            && !self.close.send_flags
        {
            return bad("close: set a processing_status, a closure_code or send_flags".into());
        }
        Ok(())
    }
}

impl TopdeskConnector {
    /// The one construction path: checks every option, reads the password, builds the
    /// client and the connector. Nothing is sent until the first call.
    ///
    /// ```no_run
    /// use accesslink_core::SecretSource;
    /// use accesslink_topdesk::{TopdeskConnector, TopdeskSettings};
    ///
    /// # fn run() -> accesslink_core::Result<()> {
    /// let settings = TopdeskSettings::new(
    ///     "https://acme.topdesk.net".parse().expect("a URL"),
    ///     "svc-iam",
    ///     SecretSource::env("TOPDESK_APP_PASSWORD"),
    /// );
    /// let topdesk = TopdeskConnector::from_settings(settings)?;
    /// # Ok(()) }
    /// ```
    pub fn from_settings(s: TopdeskSettings) -> Result<TopdeskConnector> {
        s.validate()?;
        let TopdeskAuth::ApplicationPassword { login, password } = &s.auth;
        let password = password.resolve("topdesk auth.password")?;
        let client = TopdeskClient::builder(s.base_url.as_str())
            .instance(s.name.clone())
            .application_password(login.clone(), password)
            .http(s.http.clone())
            .build()?;
        Ok(TopdeskConnector::new(client, s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use accesslink_core::ErrorKind;
    use serde_json::json;

    const CANARY: &str = "canary-Td93-app-password";

    fn convention() -> serde_json::Value {
        json!({
            "name": "topdesk-mock",
            "base_url": "http://127.0.0.1:9/",
            "auth": { "method": "application_password", "login": "svc-iam", "password": CANARY },
        })
    }

    fn load(f: &dyn Fn(&mut serde_json::Value)) -> Result<TopdeskConnector> {
        let mut v = convention();
        f(&mut v);
        TopdeskConnector::from_settings(serde_json::from_value(v).unwrap())
    }

    #[test]
    fn the_convention_json_loads_with_its_defaults() {
        let c = load(&|_| {}).unwrap();
        let s = c.settings();
        assert_eq!((s.page_size, s.batch_size), (100, 50));
        assert_eq!(s.close.processing_status.as_deref(), Some("Closed"));
        assert_eq!(s.close.closure_code.as_deref(), Some("Solved"));
        assert_eq!(s.number_style, NumberStyle::Spaces);
        assert_eq!(s.new_account_kind, AccountKind::Operator);
        assert_eq!(
            c.client().http().base_url().as_str(),
            "http://127.0.0.1:9/tas/api/"
        );
        assert_eq!(c.client().http().instance(), "topdesk-mock");
        let c = load(&|v| {
            v["http"] = json!({ "retry": { "max_attempts": 6 } });
            v["number_style"] = json!("compact");
            v["status_map"] = json!({ "states": { "closure:Rejected": "cancelled" } });
        })
        .unwrap();
        assert_eq!(c.client().retry_config().max_attempts, 6);
        assert_eq!(c.settings().number_style, NumberStyle::Compact);
        assert_eq!(
            c.status_map().get_state("closure:Rejected"),
            Some(accesslink_core::TicketState::Cancelled)
        );
    }

    #[test]
    fn unknown_keys_are_refused_by_name() {
        for (path, key) in [
            (None, "tenant"),
            (Some("auth"), "token"),
            (Some("close"), "code"),
        ] {
            let mut v = convention();
            match path {
                None => v[key] = json!("x"),
                Some(p) => {
                    if v.get(p).is_none() {
                        v[p] = json!({});
                    }
                    v[p][key] = json!("x");
                }
            }
            let e = serde_json::from_value::<TopdeskSettings>(v).unwrap_err();
            assert!(e.to_string().contains(key), "{e}");
        }
    }

    #[test]
    fn no_secret_in_debug() {
        let s: TopdeskSettings = serde_json::from_value(convention()).unwrap();
        assert!(!format!("{s:?}").contains(CANARY));
        let c = TopdeskConnector::from_settings(s).unwrap();
        assert!(!format!("{c:?} {:?}", c.client()).contains(CANARY));
    }

    #[test]
    fn bad_options_are_config_errors() {
        for e in [
            load(&|v| v["page_size"] = json!(10_001)),
            load(&|v| v["page_size"] = json!(0)),
            load(&|v| v["batch_size"] = json!(201)),
            load(&|v| v["incident_status"] = json!("partial")),
            load(&|v| v["branch"] = json!("head office")),
            load(&|v| v["operator_group"] = json!("not-a-uuid")),
            load(&|v| v["close"] = json!({ "closure_code": " " })),
            load(&|v| {
                v["close"] =
                    json!({ "processing_status": null, "closure_code": null, "send_flags": false })
            }),
            load(&|v| v["auth"]["login"] = json!("a:b")),
            load(&|v| v["auth"]["login"] = json!(" ")),
            load(&|v| v["base_url"] = json!("ftp://td.example/")),
            load(&|v| v["auth"]["password"] = json!({ "env": "ACCESSLINK_TEST_UNSET_VAR_TD" })),
        ] {
            assert_eq!(e.unwrap_err().kind(), ErrorKind::Config);
        }
    }

    #[test]
    fn a_json_schema_is_generated_with_every_key() {
        let schema = serde_json::to_string(&schemars::schema_for!(TopdeskSettings)).unwrap();
        for key in [
            "application_password",
            "number_style",
            "batch_size",
            "closure_code",
            "branch",
        ] {
            assert!(schema.contains(key), "{key} missing from the schema");
        }
    }
}
