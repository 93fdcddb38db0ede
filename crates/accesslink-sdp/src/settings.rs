//! [`SdpSettings`]: one ServiceDesk Plus instance as configuration (deployment kind, auth,
//! core [`HttpSettings`], status overrides, options), and the one path to a connector
//! ([`SdpConnector::from_settings`]).

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use accesslink_core::http::HttpSettings;
use accesslink_core::redact::url_shown;
use accesslink_core::{Error, Result, SecretSource, StatusOverrides};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use url::Url;

use crate::client::SdpClient;
use crate::connector::SdpConnector;
use crate::oauth::{FileRefreshTokenStore, MemoryRefreshTokenStore, RefreshTokenStore, ZohoClient};
use crate::status::default_status_map;

/// A Zoho data centre: chooses the SDP Cloud API domain and the Zoho accounts server
/// (fact sheet §4.2). Both can be overridden (`api_url`, `accounts_url`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DataCentre {
    /// United States: `sdpondemand.manageengine.com`, `accounts.zoho.com`.
    Us,
    /// Europe: `sdpondemand.manageengine.eu`, `accounts.zoho.eu`.
    Eu,
    /// India: `sdpondemand.manageengine.in`, `accounts.zoho.in`.
    In,
    /// Australia: `servicedeskplus.net.au`, `accounts.zoho.com.au`.
    Au,
    /// China: `servicedeskplus.cn`, `accounts.zoho.com.cn`.
    Cn,
    /// Japan: `servicedeskplus.jp`, `accounts.zoho.jp`.
    Jp,
    /// Canada: `servicedeskplus.ca`, `accounts.zoho.ca`.
    Ca,
    /// United Kingdom: `servicedeskplus.uk`, `accounts.zoho.uk`.
    Uk,
    /// Saudi Arabia: `servicedeskplus.sa` (unverified), `accounts.zoho.sa`.
    Sa,
}

impl DataCentre {
    /// Every data centre, in the order of the docs page.
    pub const ALL: [DataCentre; 9] = [
        DataCentre::Us,
        DataCentre::Eu,
        DataCentre::In,
        DataCentre::Au,
        DataCentre::Cn,
        DataCentre::Jp,
        DataCentre::Ca,
        DataCentre::Uk,
        DataCentre::Sa,
    ];

    /// The SDP Cloud API domain (AU, JP, CA, UK and SA come from clients, not the vendor's
    /// page: override with `api_url` where they differ).
    pub fn api_domain(self) -> &'static str {
        match self {
            DataCentre::Us => "sdpondemand.manageengine.com",
            DataCentre::Eu => "sdpondemand.manageengine.eu",
            DataCentre::In => "sdpondemand.manageengine.in",
            DataCentre::Au => "servicedeskplus.net.au",
            DataCentre::Cn => "servicedeskplus.cn",
            DataCentre::Jp => "servicedeskplus.jp",
            DataCentre::Ca => "servicedeskplus.ca",
            DataCentre::Uk => "servicedeskplus.uk",
            DataCentre::Sa => "servicedeskplus.sa",
        }
    }

    /// The Zoho accounts (OAuth) server.
    pub fn accounts_domain(self) -> &'static str {
        match self {
            DataCentre::Us => "accounts.zoho.com",
            DataCentre::Eu => "accounts.zoho.eu",
            DataCentre::In => "accounts.zoho.in",
            DataCentre::Au => "accounts.zoho.com.au",
            DataCentre::Cn => "accounts.zoho.com.cn",
            DataCentre::Jp => "accounts.zoho.jp",
            DataCentre::Ca => "accounts.zoho.ca",
            DataCentre::Uk => "accounts.zoho.uk",
            DataCentre::Sa => "accounts.zoho.sa",
        }
    }
}

/// Which ServiceDesk Plus: `deployment = { kind = "on_premises", … }`.
#[derive(Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
pub enum SdpDeployment {
    /// On-premises SDP: `{base_url}/api/v3/…` with a technician key.
    OnPremises {
        /// `https://sdp.acme.internal:8443`.
        base_url: Url,
    },
    /// SDP Cloud (OnDemand): `https://{api domain}/app/{portal}/api/v3/…` with Zoho OAuth.
    Cloud {
        /// The data centre (API domain and accounts server).
        data_centre: DataCentre,
        /// The portal name in the URL (`itdesk`).
        portal: String,
        /// Overrides the API root (a custom domain `https://helpdesk.acme.example`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        api_url: Option<Url>,
        /// Overrides the Zoho accounts server (`https://accounts.zohocloud.ca`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        accounts_url: Option<Url>,
    },
    /// SDP MSP (on-premises): `{base_url}/api/v3/…`, every request scoped to `account`.
    Msp {
        /// `https://msp.acme.internal:8443`.
        base_url: Url,
        /// The MSP account (customer) every ticket belongs to and is checked against.
        account: String,
    },
}

impl fmt::Debug for SdpDeployment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SdpDeployment::OnPremises { base_url } => f
                .debug_struct("OnPremises")
                .field("base_url", &url_shown(base_url))
                .finish(),
            SdpDeployment::Cloud {
                data_centre,
                portal,
                api_url,
                accounts_url,
            } => f
                .debug_struct("Cloud")
                .field("data_centre", data_centre)
                .field("portal", portal)
                .field("api_url", &api_url.as_ref().map(url_shown))
                .field("accounts_url", &accounts_url.as_ref().map(url_shown))
                .finish(),
            SdpDeployment::Msp { base_url, account } => f
                .debug_struct("Msp")
                .field("base_url", &url_shown(base_url))
                .field("account", account)
                .finish(),
        }
    }
}

impl SdpDeployment {
    /// Whether this is SDP Cloud (underscore action paths, Zoho OAuth, `display_id`).
    pub fn is_cloud(&self) -> bool {
        matches!(self, SdpDeployment::Cloud { .. })
    }

    /// The MSP account, for MSP.
    pub fn account(&self) -> Option<&str> {
        match self {
            SdpDeployment::Msp { account, .. } => Some(account),
            _ => None,
        }
    }

    /// The API root ending in `/api/v3/`.
    pub fn api_root(&self) -> Result<Url> {
        let (base, path) = match self {
            SdpDeployment::OnPremises { base_url } | SdpDeployment::Msp { base_url, .. } => {
                (base_url.clone(), "api/v3/".to_owned())
            }
            SdpDeployment::Cloud {
                data_centre,
                portal,
                api_url,
                ..
            } => {
                let base = match api_url {
                    Some(u) => u.clone(),
                    None => format!("https://{}/", data_centre.api_domain())
                        .parse()
                        .map_err(|e| Error::config(format!("sdp api domain: {e}")))?,
                };
                (base, format!("app/{portal}/api/v3/"))
            }
        };
        let mut base = base;
        if !base.path().ends_with('/') {
            let p = format!("{}/", base.path());
            base.set_path(&p);
        }
        base.join(&path)
            .map_err(|e| Error::config(format!("sdp base_url: {e}")))
    }

    /// The Zoho accounts server (Cloud only).
    pub fn accounts_url(&self) -> Option<Url> {
        match self {
            SdpDeployment::Cloud {
                data_centre,
                accounts_url,
                ..
            } => Some(accounts_url.clone().unwrap_or_else(|| {
                format!("https://{}/", data_centre.accounts_domain())
                    .parse()
                    .expect("a valid URL")
            })),
            _ => None,
        }
    }
}

/// How the connector signs in: `auth = { method = "technician_key", … }`.
#[derive(Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "method", rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
pub enum SdpAuth {
    /// A technician API key, sent as the `authtoken` header (on-premises and MSP).
    TechnicianKey {
        /// The key.
        key: SecretSource,
    },
    /// Zoho OAuth 2.0 with a refresh token (Cloud): `Authorization: Zoho-oauthtoken …`.
    ZohoOauth {
        /// The client id from the Zoho API console of the data centre.
        client_id: String,
        /// The client secret.
        client_secret: SecretSource,
        /// The refresh token from the consent step (see [`crate::oauth`]).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        refresh_token: Option<SecretSource>,
        /// A file holding the refresh token (written by the consent step); read when
        /// `refresh_token` is absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        refresh_token_file: Option<PathBuf>,
    },
}

impl fmt::Debug for SdpAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SdpAuth::TechnicianKey { key } => {
                f.debug_struct("TechnicianKey").field("key", key).finish()
            }
            SdpAuth::ZohoOauth {
                client_id,
                client_secret,
                refresh_token,
                refresh_token_file,
            } => f
                .debug_struct("ZohoOauth")
                .field("client_id", client_id)
                .field("client_secret", client_secret)
                .field("refresh_token", refresh_token)
                .field("refresh_token_file", refresh_token_file)
                .finish(),
        }
    }
}

/// Which entity a bare number typed by a user names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DefaultEntity {
    /// A request (default).
    #[default]
    Request,
    /// A change.
    Change,
}

/// Which people the [`Provisioner`](accesslink_core::Provisioner) manages as accounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AccountKind {
    /// Requesters (end users; default): no entitlements.
    #[default]
    Requester,
    /// Technicians: support groups and roles as entitlements, membership as grants.
    Technician,
}

/// API paths under `/api/v3/` whose spelling differs per build (fact sheet §4.9: newer
/// Cloud builds also answer `users`; the exact paths are unverified). The list answer's
/// key is the path (`technicians`), the entity key the path without its final `s`
/// (`technician`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct SdpPaths {
    /// Requesters (default `requesters`).
    pub requesters: String,
    /// Technicians (default `technicians`).
    pub technicians: String,
    /// Support groups (default `groups`).
    pub groups: String,
    /// Technician roles (default `roles`).
    pub roles: String,
    /// Request and change statuses, for the ticket schema's allowed values (default `statuses`).
    pub statuses: String,
    /// Priorities, for the ticket schema (default `priorities`).
    pub priorities: String,
    /// Categories, for the ticket schema (default `categories`).
    pub categories: String,
}

impl Default for SdpPaths {
    fn default() -> Self {
        SdpPaths {
            requesters: "requesters".into(),
            technicians: "technicians".into(),
            groups: "groups".into(),
            roles: "roles".into(),
            statuses: "statuses".into(),
            priorities: "priorities".into(),
            categories: "categories".into(),
        }
    }
}

impl SdpPaths {
    fn all(&self) -> [&str; 7] {
        [
            &self.requesters,
            &self.technicians,
            &self.groups,
            &self.roles,
            &self.statuses,
            &self.priorities,
            &self.categories,
        ]
    }
}

fn default_name() -> String {
    "sdp".into()
}
fn default_tag() -> String {
    "accesslink".into()
}
fn default_closure_code() -> String {
    "success".into()
}
fn default_failed_closure_code() -> String {
    "failed".into()
}
fn default_close_stage() -> String {
    "Close".into()
}
fn default_close_status() -> String {
    "Completed".into()
}
fn default_cancel_status() -> String {
    "Canceled".into()
}
fn default_batch_size() -> u32 {
    100
}

/// One ServiceDesk Plus instance, loadable from configuration (`deny_unknown_fields`).
///
/// ```toml
/// [instances.sdp-cloud]
/// target = "sdp"
/// deployment = { kind = "cloud", data_centre = "eu", portal = "itdesk" }
/// auth = { method = "zoho_oauth", client_id = "1000.ABC", client_secret = { env = "ZOHO_SECRET" }, refresh_token = { env = "ZOHO_REFRESH" } }
/// correlation_udf = "udf_sline_301"
///
/// [instances.sdp-onprem]
/// target = "sdp"
/// deployment = { kind = "on_premises", base_url = "https://sdp.acme.internal:8443" }
/// auth = { method = "technician_key", key = { file = "/run/secrets/sdp-key" } }
/// ```
#[derive(Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct SdpSettings {
    /// The instance name in errors, logs and `info()` (default `sdp`).
    #[serde(default = "default_name")]
    pub name: String,
    /// On-premises, Cloud or MSP.
    pub deployment: SdpDeployment,
    /// How to sign in.
    pub auth: SdpAuth,
    /// Timeouts, retries, rate limit, user agent, certificates, proxy, body cap.
    #[serde(default)]
    pub http: HttpSettings,
    /// Additions to the status map (keys in `docs/connectors/sdp.md`).
    #[serde(default)]
    pub status_map: StatusOverrides,
    /// A single-line UDF (`udf_sline_301`) that carries the correlation id; without it
    /// the id is a tag in the subject (`[accesslink:<id>]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correlation_udf: Option<String>,
    /// The word of the subject tag (default `accesslink`: `[accesslink:<id>]`).
    #[serde(default = "default_tag")]
    pub correlation_tag: String,
    /// What a bare number names (default `request`; `CH-42` / `change:42` always a change).
    #[serde(default)]
    pub default_entity: DefaultEntity,
    /// The request template new requests use (`Default Request` when unset, server side).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_template: Option<String>,
    /// The closure code of a successful close (default `success`).
    #[serde(default = "default_closure_code")]
    pub closure_code: String,
    /// The closure code of a failed close (default `failed`).
    #[serde(default = "default_failed_closure_code")]
    pub failed_closure_code: String,
    /// The stage a closed change moves to (default `Close`).
    #[serde(default = "default_close_stage")]
    pub change_close_stage: String,
    /// The status of a successfully closed change (default `Completed`).
    #[serde(default = "default_close_status")]
    pub change_close_status: String,
    /// The status of a failed change (default `Canceled`).
    #[serde(default = "default_cancel_status")]
    pub change_cancel_status: String,
    /// Tickets per batched read and rows per page, 1-100 (the vendor's cap; default 100).
    #[serde(default = "default_batch_size")]
    pub batch_size: u32,
    /// Whether the accounts are requesters (default) or technicians.
    #[serde(default)]
    pub accounts: AccountKind,
    /// API paths that differ per build (people, support groups, roles, lookups).
    #[serde(default)]
    pub paths: SdpPaths,
    /// Internal comments become worklogs (`POST /{requests|changes}/{id}/worklogs`)
    /// instead of private notes, and worklogs are read back with the notes (default
    /// `false`).
    #[serde(default)]
    pub worklogs: bool,
}

impl fmt::Debug for SdpSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SdpSettings")
            .field("name", &self.name)
            .field("deployment", &self.deployment)
            .field("auth", &self.auth)
            .field("http", &self.http)
            .field("status_map", &self.status_map)
            .field("correlation_udf", &self.correlation_udf)
            .field("correlation_tag", &self.correlation_tag)
            .field("default_entity", &self.default_entity)
            .field("request_template", &self.request_template)
            .field("closure_code", &self.closure_code)
            .field("failed_closure_code", &self.failed_closure_code)
            .field("change_close_stage", &self.change_close_stage)
            .field("change_close_status", &self.change_close_status)
            .field("change_cancel_status", &self.change_cancel_status)
            .field("batch_size", &self.batch_size)
            .field("accounts", &self.accounts)
            .field("paths", &self.paths)
            .field("worklogs", &self.worklogs)
            .finish()
    }
}

impl SdpSettings {
    /// Settings with defaults for everything but the deployment and auth.
    pub fn new(deployment: SdpDeployment, auth: SdpAuth) -> Self {
        SdpSettings {
            name: default_name(),
            deployment,
            auth,
            http: HttpSettings::default(),
            status_map: StatusOverrides::default(),
            correlation_udf: None,
            correlation_tag: default_tag(),
            default_entity: DefaultEntity::default(),
            request_template: None,
            closure_code: default_closure_code(),
            failed_closure_code: default_failed_closure_code(),
            change_close_stage: default_close_stage(),
            change_close_status: default_close_status(),
            change_cancel_status: default_cancel_status(),
            batch_size: default_batch_size(),
            accounts: AccountKind::default(),
            paths: SdpPaths::default(),
            worklogs: false,
        }
    }

    fn validate(&self, has_store: bool) -> Result<()> {
        let bad = |m: String| Err(Error::config(format!("sdp ({}): {m}", self.name)));
        if self.name.trim().is_empty() {
            return bad("name must not be empty".into());
        }
        match (&self.deployment, &self.auth) {
            (SdpDeployment::Cloud { .. }, SdpAuth::TechnicianKey { .. }) => {
                return bad("SDP Cloud takes zoho_oauth, not technician_key".into());
            }
            (
                SdpDeployment::OnPremises { .. } | SdpDeployment::Msp { .. },
                SdpAuth::ZohoOauth { .. },
            ) => {
                return bad("on-premises and MSP take technician_key, not zoho_oauth".into());
            }
            (
                _,
                SdpAuth::ZohoOauth {
                    refresh_token: None,
                    refresh_token_file: None,
                    ..
                },
            ) if !has_store => {
                return bad("zoho_oauth needs refresh_token or refresh_token_file".into());
            }
            _ => {}
        }
        match &self.deployment {
            SdpDeployment::OnPremises { base_url } | SdpDeployment::Msp { base_url, .. } => {
                if !matches!(base_url.scheme(), "https" | "http") {
                    return bad(format!(
                        "base_url: scheme {:?} is not http(s)",
                        base_url.scheme()
                    ));
                }
            }
            SdpDeployment::Cloud { portal, .. } => {
                let ok = !portal.is_empty()
                    && portal.len() <= 100
                    && portal
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
                if !ok {
                    return bad(format!("portal {portal:?} is not a portal name"));
                }
            }
        }
        if let Some(a) = self.deployment.account() {
            if a.trim().is_empty() || a.chars().any(char::is_control) {
                return bad("msp account must be a name".into());
            }
        }
        if let Some(u) = &self.correlation_udf {
            let ok = u.starts_with("udf_")
                && u.len() <= 64
                && u.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
            if !ok {
                return bad(format!(
                    "correlation_udf {u:?} is not a UDF name (udf_sline_301)"
                ));
            }
        }
        if self.correlation_tag.is_empty()
            || !self
                .correlation_tag
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return bad("correlation_tag must be letters, digits, - or _".into());
        }
        for p in self.paths.all() {
            let ok = !p.is_empty()
                && p.len() <= 64
                && p.ends_with('s')
                && p.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
            if !ok {
                return bad(format!(
                    "paths: {p:?} is not an API collection name (lower case, ending in s)"
                ));
            }
        }
        if !(1..=100).contains(&self.batch_size) {
            return bad(format!("batch_size must be 1-100, not {}", self.batch_size));
        }
        Ok(())
    }
}

impl SdpConnector {
    /// The one construction path: checks every option, reads the secrets, builds the
    /// client and the connector. Nothing is sent until the first call.
    ///
    /// ```no_run
    /// use accesslink_sdp::{SdpConnector, SdpSettings};
    ///
    /// # fn run() -> accesslink_core::Result<()> {
    /// let settings: SdpSettings = serde_json::from_value(serde_json::json!({
    ///     "deployment": { "kind": "on_premises", "base_url": "https://sdp.acme.internal:8443" },
    ///     "auth": { "method": "technician_key", "key": { "env": "SDP_KEY" } }
    /// })).expect("valid settings");
    /// let sdp = SdpConnector::from_settings(settings)?;
    /// # Ok(()) }
    /// ```
    pub fn from_settings(s: SdpSettings) -> Result<SdpConnector> {
        Self::build(s, None)
    }

    /// [`from_settings`](Self::from_settings) with an embedder's refresh-token store
    /// (Zoho OAuth only; `refresh_token` and `refresh_token_file` are then ignored).
    pub fn from_settings_with_store(
        s: SdpSettings,
        store: Arc<dyn RefreshTokenStore>,
    ) -> Result<SdpConnector> {
        Self::build(s, Some(store))
    }

    fn build(s: SdpSettings, store: Option<Arc<dyn RefreshTokenStore>>) -> Result<SdpConnector> {
        s.validate(store.is_some())?;
        let builder = SdpClient::builder(s.deployment.clone())
            .instance(s.name.clone())
            .http(s.http.clone());
        let builder = match &s.auth {
            SdpAuth::TechnicianKey { key } => builder.technician_key(key.resolve("sdp auth.key")?),
            SdpAuth::ZohoOauth {
                client_id,
                client_secret,
                refresh_token,
                refresh_token_file,
            } => {
                let store: Arc<dyn RefreshTokenStore> =
                    match (store, refresh_token, refresh_token_file) {
                        (Some(store), _, _) => store,
                        (None, Some(t), _) => Arc::new(MemoryRefreshTokenStore::new(
                            t.resolve("sdp auth.refresh_token")?,
                        )),
                        (None, None, Some(path)) => {
                            Arc::new(FileRefreshTokenStore::new(path.clone()))
                        }
                        (None, None, None) => {
                            return Err(Error::config("zoho_oauth needs a refresh token"));
                        }
                    };
                let accounts = s
                    .deployment
                    .accounts_url()
                    .ok_or_else(|| Error::config("zoho_oauth is for cloud"))?;
                let client = ZohoClient {
                    client_id: client_id.clone(),
                    client_secret: client_secret.resolve("sdp auth.client_secret")?,
                    accounts_url: accounts,
                };
                builder.zoho_oauth(client, store)
            }
        };
        let client = builder.build()?;
        let map = default_status_map().with_overrides(&s.status_map);
        Ok(SdpConnector::new(client, s, map))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_centres_have_their_own_hosts() {
        let rows = [
            (
                DataCentre::Us,
                "https://sdpondemand.manageengine.com/app/itdesk/api/v3/",
                "https://accounts.zoho.com/",
            ),
            (
                DataCentre::Eu,
                "https://sdpondemand.manageengine.eu/app/itdesk/api/v3/",
                "https://accounts.zoho.eu/",
            ),
            (
                DataCentre::In,
                "https://sdpondemand.manageengine.in/app/itdesk/api/v3/",
                "https://accounts.zoho.in/",
            ),
            (
                DataCentre::Au,
                "https://servicedeskplus.net.au/app/itdesk/api/v3/",
                "https://accounts.zoho.com.au/",
            ),
            (
                DataCentre::Cn,
                "https://servicedeskplus.cn/app/itdesk/api/v3/",
                "https://accounts.zoho.com.cn/",
            ),
            (
                DataCentre::Jp,
                "https://servicedeskplus.jp/app/itdesk/api/v3/",
                "https://accounts.zoho.jp/",
            ),
            (
                DataCentre::Ca,
                "https://servicedeskplus.ca/app/itdesk/api/v3/",
                "https://accounts.zoho.ca/",
            ),
            (
                DataCentre::Uk,
                "https://servicedeskplus.uk/app/itdesk/api/v3/",
                "https://accounts.zoho.uk/",
            ),
            (
                DataCentre::Sa,
                "https://servicedeskplus.sa/app/itdesk/api/v3/",
                "https://accounts.zoho.sa/",
            ),
        ];
        assert_eq!(rows.len(), DataCentre::ALL.len());
        for (dc, api, accounts) in rows {
            let d = SdpDeployment::Cloud {
                data_centre: dc,
                portal: "itdesk".into(),
                api_url: None,
                accounts_url: None,
            };
            assert_eq!(d.api_root().unwrap().as_str(), api, "{dc:?}");
            assert_eq!(d.accounts_url().unwrap().as_str(), accounts, "{dc:?}");
        }
        let onprem = SdpDeployment::OnPremises {
            base_url: "https://sdp.acme:8443/sdp".parse().unwrap(),
        };
        assert_eq!(
            onprem.api_root().unwrap().as_str(),
            "https://sdp.acme:8443/sdp/api/v3/"
        );
        assert_eq!(onprem.accounts_url(), None);
    }

    #[test]
    fn auth_must_fit_the_deployment() {
        let bad = [
            serde_json::json!({"deployment": {"kind": "cloud", "data_centre": "eu", "portal": "itdesk"},
                "auth": {"method": "technician_key", "key": "k"}}),
            serde_json::json!({"deployment": {"kind": "on_premises", "base_url": "https://x"},
                "auth": {"method": "zoho_oauth", "client_id": "c", "client_secret": "s", "refresh_token": "r"}}),
            serde_json::json!({"deployment": {"kind": "cloud", "data_centre": "eu", "portal": "it desk"},
                "auth": {"method": "zoho_oauth", "client_id": "c", "client_secret": "s", "refresh_token": "r"}}),
            serde_json::json!({"deployment": {"kind": "cloud", "data_centre": "eu", "portal": "itdesk"},
                "auth": {"method": "zoho_oauth", "client_id": "c", "client_secret": "s"}}),
            serde_json::json!({"deployment": {"kind": "on_premises", "base_url": "https://x"},
                "auth": {"method": "technician_key", "key": "k"}, "correlation_udf": "subject"}),
            serde_json::json!({"deployment": {"kind": "on_premises", "base_url": "https://x"},
                "auth": {"method": "technician_key", "key": "k"}, "batch_size": 101}),
        ];
        for v in bad {
            let s: SdpSettings = serde_json::from_value(v.clone()).unwrap();
            assert!(SdpConnector::from_settings(s).is_err(), "{v}");
        }
        let unknown = serde_json::json!({"deployment": {"kind": "on_premises", "base_url": "https://x"},
            "auth": {"method": "technician_key", "key": "k"}, "portal": "x"});
        assert!(serde_json::from_value::<SdpSettings>(unknown).is_err());
    }
}
