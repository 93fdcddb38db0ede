//! [`SalesforceSettings`]: one Salesforce org as configuration (My Domain login URL,
//! OAuth grant, API version, profile, core [`HttpSettings`], status overrides), and the
//! one path to a connector ([`SalesforceConnector::from_settings`]).

use std::fmt;
use std::time::Duration;

use accesslink_core::http::HttpSettings;
use accesslink_core::redact::url_shown;
use accesslink_core::{Error, Result, SecretSource, StatusOverrides};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use url::Url;

use crate::client::{Grant, SalesforceClient};
use crate::connector::SalesforceConnector;
use crate::limits::ApiBudget;
use crate::soql::check_name;
use crate::status::default_status_map;

/// Which objects tickets are: Service Cloud `Case`, or BMC Remedyforce's incidents and
/// change requests (a managed package on the same platform).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Profile {
    /// Service Cloud: tickets are `Case` records, numbered by `CaseNumber`.
    #[default]
    ServiceCloud,
    /// BMC Remedyforce: `BMCServiceDesk__Incident__c` and
    /// `BMCServiceDesk__Change_Request__c`, numbered by `Name`, status through the
    /// `BMCServiceDesk__Status__c` lookup.
    Remedyforce,
}

/// How `set_enabled(false)` disables a user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DisableBy {
    /// `User.IsActive = false` (default): the user is deactivated and frees its licence.
    #[default]
    IsActive,
    /// `UserLogin.IsFrozen = true`: the user cannot log in but stays active (keeps its
    /// licence, ownerships and approval steps), as admins do while a leaver's work is
    /// handed over. Listings then show frozen users as disabled.
    Freeze,
}

/// How the connector obtains its OAuth access token: `auth = { method = "client_credentials", … }`.
#[derive(Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "method", rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
pub enum SalesforceAuth {
    /// The client-credentials flow of an External Client App (or connected app) with a
    /// "Run As" integration user. Needs the org's My Domain as `login_url`.
    ClientCredentials {
        /// The consumer key.
        client_id: String,
        /// The consumer secret.
        client_secret: SecretSource,
    },
    /// The username-password flow (blocked by default in newer orgs): the password with
    /// the user's security token appended, unless the caller's IP is trusted.
    Password {
        /// The consumer key.
        client_id: String,
        /// The consumer secret.
        client_secret: SecretSource,
        /// The Salesforce user name (e-mail shaped).
        username: String,
        /// The password.
        password: SecretSource,
        /// The security token, appended to the password; absent for trusted IP ranges.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        security_token: Option<SecretSource>,
    },
    /// A refresh token from a web-server or JWT flow done elsewhere.
    RefreshToken {
        /// The consumer key.
        client_id: String,
        /// The consumer secret, when the app requires it on refresh.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        client_secret: Option<SecretSource>,
        /// The refresh token.
        refresh_token: SecretSource,
    },
}

impl fmt::Debug for SalesforceAuth {
    /// Secrets are [`SecretSource`]s, whose Debug never shows an inline value.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SalesforceAuth::ClientCredentials {
                client_id,
                client_secret,
            } => f
                .debug_struct("ClientCredentials")
                .field("client_id", client_id)
                .field("client_secret", client_secret)
                .finish(),
            SalesforceAuth::Password {
                client_id,
                client_secret,
                username,
                password,
                security_token,
            } => f
                .debug_struct("Password")
                .field("client_id", client_id)
                .field("client_secret", client_secret)
                .field("username", username)
                .field("password", password)
                .field("security_token", security_token)
                .finish(),
            SalesforceAuth::RefreshToken {
                client_id,
                client_secret,
                refresh_token,
            } => f
                .debug_struct("RefreshToken")
                .field("client_id", client_id)
                .field("client_secret", client_secret)
                .field("refresh_token", refresh_token)
                .finish(),
        }
    }
}

/// Field names of the Remedyforce profile. The fact sheet marks several as unverified,
/// so each is a setting with the name seen in public integration code as its default.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct RemedyforceSettings {
    /// Incidents and service requests (default `BMCServiceDesk__Incident__c`).
    pub incident_object: String,
    /// Change requests (default `BMCServiceDesk__Change_Request__c`).
    pub change_object: String,
    /// Tasks, read for the gate as `TicketKind::Task` (default `BMCServiceDesk__Task__c`).
    pub task_object: String,
    /// The description field of tasks (default `BMCServiceDesk__taskDescription__c`).
    pub task_description_field: String,
    /// The status lookup table (default `BMCServiceDesk__Status__c`).
    pub status_object: String,
    /// The status lookup field on incidents and changes (default `BMCServiceDesk__FKStatus__c`).
    pub status_field: String,
    /// The status name as text (default `BMCServiceDesk__Status_ID__c`).
    pub status_name_field: String,
    /// The open flag, `true` = open (default `BMCServiceDesk__state__c`).
    pub open_field: String,
    /// The description field (default `BMCServiceDesk__incidentDescription__c`).
    pub description_field: String,
    /// The status name set on a successful close (default `CLOSED`).
    pub closed_status: String,
}

impl Default for RemedyforceSettings {
    fn default() -> Self {
        RemedyforceSettings {
            incident_object: "BMCServiceDesk__Incident__c".into(),
            change_object: "BMCServiceDesk__Change_Request__c".into(),
            task_object: "BMCServiceDesk__Task__c".into(),
            task_description_field: "BMCServiceDesk__taskDescription__c".into(),
            status_object: "BMCServiceDesk__Status__c".into(),
            status_field: "BMCServiceDesk__FKStatus__c".into(),
            status_name_field: "BMCServiceDesk__Status_ID__c".into(),
            open_field: "BMCServiceDesk__state__c".into(),
            description_field: "BMCServiceDesk__incidentDescription__c".into(),
            closed_status: "CLOSED".into(),
        }
    }
}

/// Defaults for the fields Salesforce requires on a new `User`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct UserDefaults {
    /// `ProfileId` of new users (`00e…`). Without it the connector does not create users.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile_id: Option<String>,
    /// `TimeZoneSidKey` (default `Europe/London`).
    pub time_zone: String,
    /// `LocaleSidKey` (default `en_US`).
    pub locale: String,
    /// `EmailEncodingKey` (default `UTF-8`).
    pub email_encoding: String,
    /// `LanguageLocaleKey` (default `en_US`).
    pub language: String,
}

impl Default for UserDefaults {
    fn default() -> Self {
        UserDefaults {
            profile_id: None,
            time_zone: "Europe/London".into(),
            locale: "en_US".into(),
            email_encoding: "UTF-8".into(),
            language: "en_US".into(),
        }
    }
}

fn default_name() -> String {
    "salesforce".into()
}
fn default_api_version() -> String {
    "v62.0".into()
}
fn default_token_lifetime() -> u64 {
    7200
}
fn default_correlation_field() -> String {
    "External_Ref__c".into()
}
fn default_closed_status() -> String {
    "Closed".into()
}
fn default_batch_size() -> u32 {
    100
}
fn default_true() -> bool {
    true
}

/// One Salesforce org, loadable from configuration (`deny_unknown_fields`).
///
/// ```toml
/// [instances.salesforce]
/// target = "salesforce"
/// login_url = "https://acme.my.salesforce.com"
/// auth = { method = "client_credentials", client_id = "3MVG9…", client_secret = { env = "SF_SECRET" } }
/// correlation_field = "External_Ref__c"
/// correlation_is_external_id = true
///
/// [instances.remedyforce]
/// target = "salesforce"
/// profile = "remedyforce"
/// login_url = "https://acme.my.salesforce.com"
/// auth = { method = "password", client_id = "3MVG9…", client_secret = { env = "SF_SECRET" },
///          username = "iam@acme.example", password = { env = "SF_PASSWORD" },
///          security_token = { env = "SF_TOKEN" } }
/// ```
#[derive(Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct SalesforceSettings {
    /// The instance name in errors, logs and `info()` (default `salesforce`).
    #[serde(default = "default_name")]
    pub name: String,
    /// Where tokens come from: the org's My Domain (`https://acme.my.salesforce.com`;
    /// required for client credentials), or `https://login.salesforce.com` /
    /// `https://test.salesforce.com`. API calls go to the token's `instance_url`.
    /// `base_url` is accepted as its other name.
    #[serde(alias = "base_url")]
    pub login_url: Url,
    /// How to obtain tokens.
    pub auth: SalesforceAuth,
    /// The REST API version (default `v62.0`).
    #[serde(default = "default_api_version")]
    pub api_version: String,
    /// Service Cloud cases (default) or Remedyforce.
    #[serde(default)]
    pub profile: Profile,
    /// Field names of the Remedyforce profile.
    #[serde(default)]
    pub remedyforce: RemedyforceSettings,
    /// How long a token is used before it is renewed, in seconds (default 7200: the
    /// token answer has no `expires_in`, and the org's session timeout is not visible).
    /// A 401 `INVALID_SESSION_ID` renews it earlier, once.
    #[serde(default = "default_token_lifetime")]
    pub token_lifetime_secs: u64,
    /// Timeouts, retries, rate limit, user agent, certificates, proxy, body cap.
    #[serde(default)]
    pub http: HttpSettings,
    /// Additions to the status map (keys `status:<name>`, `open`, `closed`; see
    /// `docs/connectors/salesforce.md`).
    #[serde(default)]
    pub status_map: StatusOverrides,
    /// The text field on the ticket object that carries the correlation id (default
    /// `External_Ref__c`).
    #[serde(default = "default_correlation_field")]
    pub correlation_field: String,
    /// The correlation field is an External ID: create by upsert
    /// (`PATCH /sobjects/{object}/{field}/{value}`), the vendor's own idempotency.
    /// Otherwise (default) the field is looked up before the create and after an
    /// ambiguous failure.
    #[serde(default)]
    pub correlation_is_external_id: bool,
    /// The `Status` set on a successful close (default `Closed`; must be a value whose
    /// "Is Closed" flag is set in the org).
    #[serde(default = "default_closed_status")]
    pub closed_status: String,
    /// The `Status` set on a failed close (default: `closed_status`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed_status: Option<String>,
    /// `Origin` of new cases (default none: the org's default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case_origin: Option<String>,
    /// References per batched read (one SOQL `IN` per batch), 1-200 (default 100).
    #[serde(default = "default_batch_size")]
    pub batch_size: u32,
    /// Read the latest `ProcessInstance` with every ticket (default `true`).
    #[serde(default = "default_true")]
    pub approvals: bool,
    /// Defaults for new users (provisioning).
    #[serde(default)]
    pub user_defaults: UserDefaults,
    /// How users are disabled: `is_active` (default) or `freeze`.
    #[serde(default)]
    pub disable_by: DisableBy,
    /// The daily API quota budget: stop imports at a share of it.
    #[serde(default)]
    pub api_budget: ApiBudget,
}

impl fmt::Debug for SalesforceSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SalesforceSettings")
            .field("name", &self.name)
            .field("login_url", &url_shown(&self.login_url))
            .field("auth", &self.auth)
            .field("api_version", &self.api_version)
            .field("profile", &self.profile)
            .field("remedyforce", &self.remedyforce)
            .field("token_lifetime_secs", &self.token_lifetime_secs)
            .field("http", &self.http)
            .field("status_map", &self.status_map)
            .field("correlation_field", &self.correlation_field)
            .field(
                "correlation_is_external_id",
                &self.correlation_is_external_id,
            )
            .field("closed_status", &self.closed_status)
            .field("failed_status", &self.failed_status)
            .field("case_origin", &self.case_origin)
            .field("batch_size", &self.batch_size)
            .field("approvals", &self.approvals)
            .field("user_defaults", &self.user_defaults)
            .field("disable_by", &self.disable_by)
            .field("api_budget", &self.api_budget)
            .finish()
    }
}

impl SalesforceSettings {
    /// Settings with defaults for everything but the login URL and auth.
    pub fn new(login_url: Url, auth: SalesforceAuth) -> Self {
        SalesforceSettings {
            name: default_name(),
            login_url,
            auth,
            api_version: default_api_version(),
            profile: Profile::default(),
            remedyforce: RemedyforceSettings::default(),
            token_lifetime_secs: default_token_lifetime(),
            http: HttpSettings::default(),
            status_map: StatusOverrides::default(),
            correlation_field: default_correlation_field(),
            correlation_is_external_id: false,
            closed_status: default_closed_status(),
            failed_status: None,
            case_origin: None,
            batch_size: default_batch_size(),
            approvals: true,
            user_defaults: UserDefaults::default(),
            disable_by: DisableBy::default(),
            api_budget: ApiBudget::default(),
        }
    }

    /// The ticket lifetime as a duration.
    pub fn token_lifetime(&self) -> Duration {
        Duration::from_secs(self.token_lifetime_secs)
    }

    fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(Error::config(format!("salesforce ({}): {m}", self.name)));
        if self.name.trim().is_empty() {
            return bad("name must not be empty".into());
        }
        if !matches!(self.login_url.scheme(), "https" | "http") {
            return bad(format!(
                "login_url: scheme {:?} is not http(s)",
                self.login_url.scheme()
            ));
        }
        let v = self.api_version.strip_prefix('v').unwrap_or("");
        let ok_version = v.split_once('.').is_some_and(|(a, b)| {
            !a.is_empty()
                && !b.is_empty()
                && a.chars().all(|c| c.is_ascii_digit())
                && b.chars().all(|c| c.is_ascii_digit())
        });
        if !ok_version {
            return bad(format!(
                "api_version {:?} is not like \"v62.0\"",
                self.api_version
            ));
        }
        if !(60..=86_400).contains(&self.token_lifetime_secs) {
            return bad("token_lifetime_secs must be 60-86400".into());
        }
        if self
            .api_budget
            .import_stop_percent
            .is_some_and(|p| !(1..=100).contains(&p))
        {
            return bad("api_budget.import_stop_percent must be 1-100".into());
        }
        if !(1..=200).contains(&self.batch_size) {
            return bad("batch_size must be 1-200".into());
        }
        let r = &self.remedyforce;
        for name in [
            &self.correlation_field,
            &r.incident_object,
            &r.change_object,
            &r.status_object,
            &r.status_field,
            &r.status_name_field,
            &r.open_field,
            &r.description_field,
            &r.task_object,
            &r.task_description_field,
        ] {
            check_name(name).or_else(|e| bad(e.to_string()))?;
        }
        if let Some(p) = &self.user_defaults.profile_id {
            crate::ids::SfId::parse(p)
                .ok()
                .filter(|id| id.prefix() == "00e")
                .map_or_else(
                    || {
                        bad(format!(
                            "user_defaults.profile_id {p:?} is not a profile id"
                        ))
                    },
                    |_| Ok(()),
                )?;
        }
        Ok(())
    }
}

impl SalesforceConnector {
    /// The connector for one org: validates the settings, resolves the secrets and
    /// builds the client. Nothing is sent until the first call.
    ///
    /// ```no_run
    /// use accesslink_salesforce::{SalesforceConnector, SalesforceSettings};
    ///
    /// # fn run() -> accesslink_core::Result<()> {
    /// let settings: SalesforceSettings = serde_json::from_value(serde_json::json!({
    ///     "login_url": "https://acme.my.salesforce.com",
    ///     "auth": { "method": "client_credentials", "client_id": "3MVG9",
    ///               "client_secret": { "env": "SF_SECRET" } }
    /// })).expect("valid settings");
    /// let sf = SalesforceConnector::from_settings(settings)?;
    /// # Ok(()) }
    /// ```
    pub fn from_settings(s: SalesforceSettings) -> Result<SalesforceConnector> {
        s.validate()?;
        let grant = match &s.auth {
            SalesforceAuth::ClientCredentials {
                client_id,
                client_secret,
            } => Grant::ClientCredentials {
                client_id: client_id.clone(),
                client_secret: client_secret.resolve("salesforce auth.client_secret")?,
            },
            SalesforceAuth::Password {
                client_id,
                client_secret,
                username,
                password,
                security_token,
            } => Grant::Password {
                client_id: client_id.clone(),
                client_secret: client_secret.resolve("salesforce auth.client_secret")?,
                username: username.clone(),
                password: password.resolve("salesforce auth.password")?,
                security_token: security_token
                    .as_ref()
                    .map(|t| t.resolve("salesforce auth.security_token"))
                    .transpose()?,
            },
            SalesforceAuth::RefreshToken {
                client_id,
                client_secret,
                refresh_token,
            } => Grant::RefreshToken {
                client_id: client_id.clone(),
                client_secret: client_secret
                    .as_ref()
                    .map(|t| t.resolve("salesforce auth.client_secret"))
                    .transpose()?,
                refresh_token: refresh_token.resolve("salesforce auth.refresh_token")?,
            },
        };
        let client = SalesforceClient::new(
            &s.name,
            s.login_url.clone(),
            grant,
            &s.api_version,
            s.token_lifetime(),
            s.http.clone(),
        )?;
        let map = default_status_map().with_overrides(&s.status_map);
        Ok(SalesforceConnector::new(client, s, map))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: serde_json::Value) -> std::result::Result<SalesforceSettings, String> {
        serde_json::from_value(v).map_err(|e| e.to_string())
    }

    #[test]
    fn defaults_and_refusals() {
        let base = json!({
            "login_url": "https://acme.my.salesforce.com",
            "auth": {"method": "client_credentials", "client_id": "c", "client_secret": "s"}
        });
        let s = parse(base.clone()).unwrap();
        assert_eq!(s.api_version, "v62.0");
        assert_eq!(s.profile, Profile::ServiceCloud);
        assert_eq!(s.token_lifetime_secs, 7200);
        assert!(SalesforceConnector::from_settings(s).is_ok());
        let mut unknown = base.clone();
        unknown["colour"] = json!("red");
        assert!(parse(unknown).is_err());
        for (key, value) in [
            ("api_version", json!("62")),
            ("correlation_field", json!("Ref__c' OR Id != null")),
            ("batch_size", json!(0)),
            ("token_lifetime_secs", json!(5)),
        ] {
            let mut v = base.clone();
            v[key] = value;
            let s = parse(v).unwrap();
            let e = SalesforceConnector::from_settings(s).unwrap_err();
            assert_eq!(e.kind(), accesslink_core::ErrorKind::Config, "{key}");
        }
    }
}
