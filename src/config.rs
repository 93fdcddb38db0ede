//! Connectors from configuration: [`ConnectorConfig`] (one instance), [`Config`] (a TOML
//! file of named instances) and [`connect`].
//!
//! ```toml
//! [instances.it-prod]
//! target = "servicenow"
//! base_url = "https://acme.service-now.com"
//! auth = { method = "basic", user = "svc.accesslink", password = { env = "SN_PASSWORD" } }
//! http = { retry = { max_attempts = 4 }, timeouts = { attempt = "20s" } }
//!
//! [instances.eng-desk]
//! target = "otrs"
//! base_url = "https://otrs.acme.example/otrs/nph-genericinterface.pl/Webservice/GenericTicketConnectorREST"
//! auth = { method = "session", user = "svc-iam", password = { file = "/run/secrets/otrs" } }
//! ```
//!
//! The table key is the instance name (errors and logs name it); each table is the
//! target's settings type (`ServiceNowSettings`, `OtrsSettings`, …) plus `target`. Unknown
//! keys are refused, and a load error names the instance, the key and the line. JSON
//! Schemas of every target's settings are in `docs/config/` (and [`Config::json_schema`])
//! for products that render a connection form from them.

// With no target enabled `ConnectorConfig` has no values, and code after a match on
// one is unreachable.
#![cfg_attr(
    not(any(
        feature = "otrs",
        feature = "glpi",
        feature = "servicenow",
        feature = "opsramp",
        feature = "opsgenie",
        feature = "topdesk",
        feature = "jira",
        feature = "salesforce",
        feature = "helix",
        feature = "sdp"
    )),
    allow(unused_variables, unused_mut, unreachable_code, dead_code)
)]

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::sync::Arc;

use accesslink_core::{Connection, Connector, Error, Result};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// One connector instance's settings, tagged by `target`. Only enabled targets (cargo
/// features) are variants.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "target", rename_all = "snake_case")]
#[non_exhaustive]
#[allow(
    clippy::large_enum_variant,
    reason = "one value per configured instance, built once; boxing would only make matching on it clumsier"
)]
pub enum ConnectorConfig {
    /// OTRS / Znuny (feature `otrs`).
    #[cfg(feature = "otrs")]
    Otrs(accesslink_otrs::OtrsSettings),
    /// GLPI (feature `glpi`).
    #[cfg(feature = "glpi")]
    Glpi(accesslink_glpi::GlpiSettings),
    /// ServiceNow (feature `servicenow`).
    #[cfg(feature = "servicenow")]
    Servicenow(accesslink_servicenow::ServiceNowSettings),
    /// OpsRamp (feature `opsramp`).
    #[cfg(feature = "opsramp")]
    Opsramp(accesslink_opsramp::OpsRampSettings),
    /// OpsGenie (feature `opsgenie`).
    #[cfg(feature = "opsgenie")]
    Opsgenie(accesslink_opsgenie::OpsGenieSettings),
    /// TOPdesk (feature `topdesk`).
    #[cfg(feature = "topdesk")]
    Topdesk(accesslink_topdesk::TopdeskSettings),
    /// Jira Cloud, Data Center and Service Management (feature `jira`).
    #[cfg(feature = "jira")]
    Jira(accesslink_jira::JiraSettings),
    /// Salesforce Service Cloud and BMC Remedyforce (feature `salesforce`).
    #[cfg(feature = "salesforce")]
    Salesforce(accesslink_salesforce::SalesforceSettings),
    /// BMC Helix ITSM over the AR System REST API (feature `helix`).
    #[cfg(feature = "helix")]
    Helix(accesslink_helix::HelixSettings),
    /// ManageEngine ServiceDesk Plus on-premises, Cloud and MSP (feature `sdp`).
    #[cfg(feature = "sdp")]
    Sdp(accesslink_sdp::SdpSettings),
}

impl ConnectorConfig {
    /// The target (`servicenow`, `otrs`, …).
    pub fn target(&self) -> &'static str {
        match *self {
            #[cfg(feature = "otrs")]
            ConnectorConfig::Otrs(_) => "otrs",
            #[cfg(feature = "glpi")]
            ConnectorConfig::Glpi(_) => "glpi",
            #[cfg(feature = "servicenow")]
            ConnectorConfig::Servicenow(_) => "servicenow",
            #[cfg(feature = "opsramp")]
            ConnectorConfig::Opsramp(_) => "opsramp",
            #[cfg(feature = "opsgenie")]
            ConnectorConfig::Opsgenie(_) => "opsgenie",
            #[cfg(feature = "topdesk")]
            ConnectorConfig::Topdesk(_) => "topdesk",
            #[cfg(feature = "jira")]
            ConnectorConfig::Jira(_) => "jira",
            #[cfg(feature = "salesforce")]
            ConnectorConfig::Salesforce(_) => "salesforce",
            #[cfg(feature = "helix")]
            ConnectorConfig::Helix(_) => "helix",
            #[cfg(feature = "sdp")]
            ConnectorConfig::Sdp(_) => "sdp",
        }
    }

    /// The instance name.
    pub fn name(&self) -> &str {
        match *self {
            #[cfg(feature = "otrs")]
            ConnectorConfig::Otrs(ref s) => &s.name,
            #[cfg(feature = "glpi")]
            ConnectorConfig::Glpi(ref s) => &s.name,
            #[cfg(feature = "servicenow")]
            ConnectorConfig::Servicenow(ref s) => &s.name,
            #[cfg(feature = "opsramp")]
            ConnectorConfig::Opsramp(ref s) => &s.name,
            #[cfg(feature = "opsgenie")]
            ConnectorConfig::Opsgenie(ref s) => &s.name,
            #[cfg(feature = "topdesk")]
            ConnectorConfig::Topdesk(ref s) => &s.name,
            #[cfg(feature = "jira")]
            ConnectorConfig::Jira(ref s) => &s.name,
            #[cfg(feature = "salesforce")]
            ConnectorConfig::Salesforce(ref s) => &s.name,
            #[cfg(feature = "helix")]
            ConnectorConfig::Helix(ref s) => &s.name,
            #[cfg(feature = "sdp")]
            ConnectorConfig::Sdp(ref s) => &s.name,
        }
    }

    /// Sets the instance name.
    pub fn set_name(&mut self, name: impl Into<String>) {
        let name = name.into();
        match *self {
            #[cfg(feature = "otrs")]
            ConnectorConfig::Otrs(ref mut s) => s.name = name,
            #[cfg(feature = "glpi")]
            ConnectorConfig::Glpi(ref mut s) => s.name = name,
            #[cfg(feature = "servicenow")]
            ConnectorConfig::Servicenow(ref mut s) => s.name = name,
            #[cfg(feature = "opsramp")]
            ConnectorConfig::Opsramp(ref mut s) => s.name = name,
            #[cfg(feature = "opsgenie")]
            ConnectorConfig::Opsgenie(ref mut s) => s.name = name,
            #[cfg(feature = "topdesk")]
            ConnectorConfig::Topdesk(ref mut s) => s.name = name,
            #[cfg(feature = "jira")]
            ConnectorConfig::Jira(ref mut s) => s.name = name,
            #[cfg(feature = "salesforce")]
            ConnectorConfig::Salesforce(ref mut s) => s.name = name,
            #[cfg(feature = "helix")]
            ConnectorConfig::Helix(ref mut s) => s.name = name,
            #[cfg(feature = "sdp")]
            ConnectorConfig::Sdp(ref mut s) => s.name = name,
        }
    }

    /// The instance's transport settings (the `http` table), to change before
    /// connecting: a tool turns on [`HttpSettings::dry_run`](accesslink_core::http::HttpSettings::dry_run) this way.
    pub fn http_mut(&mut self) -> &mut accesslink_core::http::HttpSettings {
        match *self {
            #[cfg(feature = "otrs")]
            ConnectorConfig::Otrs(ref mut s) => &mut s.http,
            #[cfg(feature = "glpi")]
            ConnectorConfig::Glpi(ref mut s) => &mut s.http,
            #[cfg(feature = "servicenow")]
            ConnectorConfig::Servicenow(ref mut s) => &mut s.http,
            #[cfg(feature = "opsramp")]
            ConnectorConfig::Opsramp(ref mut s) => &mut s.http,
            #[cfg(feature = "opsgenie")]
            ConnectorConfig::Opsgenie(ref mut s) => &mut s.http,
            #[cfg(feature = "topdesk")]
            ConnectorConfig::Topdesk(ref mut s) => &mut s.http,
            #[cfg(feature = "jira")]
            ConnectorConfig::Jira(ref mut s) => &mut s.http,
            #[cfg(feature = "salesforce")]
            ConnectorConfig::Salesforce(ref mut s) => &mut s.http,
            #[cfg(feature = "helix")]
            ConnectorConfig::Helix(ref mut s) => &mut s.http,
            #[cfg(feature = "sdp")]
            ConnectorConfig::Sdp(ref mut s) => &mut s.http,
        }
    }

    /// Settings from JSON (the shape of one `[instances.<name>]` table, `target`
    /// included): what the testkit mocks' `settings()` produce.
    pub fn from_json(value: serde_json::Value) -> Result<Self> {
        serde_path_to_error::deserialize(value)
            .map_err(|e| Error::config(format!("settings at `{}`: {}", e.path(), e.inner())))
    }
}

/// Builds the connector `config` names, validating its settings (secrets resolved,
/// URLs and options checked) before any request, and returns owned handles on it.
///
/// ```no_run
/// # #[cfg(all(feature = "servicenow", feature = "workflow"))]
/// # fn run(config: &accesslink::ConnectorConfig) -> accesslink::Result<()> {
/// use accesslink::workflow::{TicketGate, TicketPolicy};
/// let conn = accesslink::connect(config)?;
/// let gate = TicketGate::new(conn.ticketing().expect("a ticketing target"), TicketPolicy::new());
/// # let _ = gate; Ok(()) }
/// ```
pub fn connect(config: &ConnectorConfig) -> Result<Connection> {
    let named = |e: Error| -> Error {
        if e.kind() == accesslink_core::ErrorKind::Config {
            Error::config(format!(
                "instance `{}` ({}): {}",
                config.name(),
                config.target(),
                strip_prefix(&e)
            ))
        } else {
            e
        }
    };
    let connector: Arc<dyn Connector> = match *config {
        #[cfg(feature = "otrs")]
        ConnectorConfig::Otrs(ref s) => {
            Arc::new(accesslink_otrs::OtrsConnector::from_settings(s.clone()).map_err(named)?)
        }
        #[cfg(feature = "glpi")]
        ConnectorConfig::Glpi(ref s) => {
            Arc::new(accesslink_glpi::GlpiConnector::from_settings(s.clone()).map_err(named)?)
        }
        #[cfg(feature = "servicenow")]
        ConnectorConfig::Servicenow(ref s) => Arc::new(
            accesslink_servicenow::ServiceNowConnector::from_settings(s.clone()).map_err(named)?,
        ),
        #[cfg(feature = "opsramp")]
        ConnectorConfig::Opsramp(ref s) => {
            Arc::new(accesslink_opsramp::OpsRampConnector::from_settings(s.clone()).map_err(named)?)
        }
        #[cfg(feature = "opsgenie")]
        ConnectorConfig::Opsgenie(ref s) => Arc::new(
            accesslink_opsgenie::OpsGenieConnector::from_settings(s.clone()).map_err(named)?,
        ),
        #[cfg(feature = "topdesk")]
        ConnectorConfig::Topdesk(ref s) => {
            Arc::new(accesslink_topdesk::TopdeskConnector::from_settings(s.clone()).map_err(named)?)
        }
        #[cfg(feature = "jira")]
        ConnectorConfig::Jira(ref s) => {
            Arc::new(accesslink_jira::JiraConnector::from_settings(s.clone()).map_err(named)?)
        }
        #[cfg(feature = "salesforce")]
        ConnectorConfig::Salesforce(ref s) => Arc::new(
            accesslink_salesforce::SalesforceConnector::from_settings(s.clone()).map_err(named)?,
        ),
        #[cfg(feature = "helix")]
        ConnectorConfig::Helix(ref s) => {
            Arc::new(accesslink_helix::HelixConnector::from_settings(s.clone()).map_err(named)?)
        }
        #[cfg(feature = "sdp")]
        ConnectorConfig::Sdp(ref s) => {
            Arc::new(accesslink_sdp::SdpConnector::from_settings(s.clone()).map_err(named)?)
        }
    };
    Ok(Connection::new(connector))
}

/// A configuration file: named connector instances.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Config {
    /// The instances, by name.
    #[serde(default)]
    pub instances: BTreeMap<String, ConnectorConfig>,
}

impl Config {
    /// Parses a TOML document. Each instance takes its table key as its name. Errors
    /// name the instance, the key and the line.
    pub fn from_toml_str(text: &str) -> Result<Self> {
        let mut config: Config = toml::from_str(text).map_err(|e| {
            let at = e
                .span()
                .map(|s| 1 + text[..s.start.min(text.len())].matches('\n').count())
                .map(|line| key_line(text, line, e.message()).unwrap_or(line));
            let instance = at.and_then(|line| instance_at(text, line));
            let mut msg = String::new();
            if let Some(i) = instance {
                msg.push_str(&format!("instance `{i}`: "));
            }
            if let Some(line) = at {
                msg.push_str(&format!("line {line}: "));
            }
            msg.push_str(e.message().trim());
            Error::config(msg)
        })?;
        for (name, instance) in &mut config.instances {
            instance.set_name(name.clone());
        }
        Ok(config)
    }

    /// Reads and parses a TOML file; errors also name the file.
    pub fn from_toml_file(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::config(format!("{}: {e}", path.display())))?;
        Config::from_toml_str(&text)
            .map_err(|e| Error::config(format!("{}: {}", path.display(), strip_prefix(&e))))
    }

    /// The instance named `name`.
    pub fn get(&self, name: &str) -> Option<&ConnectorConfig> {
        self.instances.get(name)
    }

    /// Connects the instance named `name`.
    pub fn connect(&self, name: &str) -> Result<Connection> {
        let config = self
            .get(name)
            .ok_or_else(|| Error::config(format!("no instance named `{name}`")))?;
        connect(config)
    }

    /// Connects every instance, in name order; the first error ends it.
    pub fn connect_all(&self) -> Result<Vec<(String, Connection)>> {
        self.instances
            .iter()
            .map(|(name, c)| Ok((name.clone(), connect(c)?)))
            .collect()
    }

    /// The JSON Schema of a configuration file with every enabled target.
    pub fn json_schema() -> serde_json::Value {
        serde_json::to_value(schemars::schema_for!(Config)).expect("a schema is JSON")
    }
}

/// The JSON Schemas published under `docs/config/`: one file per enabled target
/// (`servicenow.schema.json`: one `[instances.<name>]` table of that target, `target`
/// included) and `accesslink.schema.json` for a whole file. An IAM product can render
/// its connection form from them.
pub fn config_schemas() -> Vec<(&'static str, serde_json::Value)> {
    fn one<T: JsonSchema>(target: &str) -> serde_json::Value {
        let mut v = serde_json::to_value(schemars::schema_for!(T)).expect("a schema is JSON");
        if let Some(obj) = v.as_object_mut() {
            // The file form carries the tag that picks the target.
            if let Some(props) = obj.get_mut("properties").and_then(|p| p.as_object_mut()) {
                props.insert(
                    "target".into(),
                    serde_json::json!({ "const": target, "description": "The target system." }),
                );
            }
            if let Some(req) = obj.get_mut("required").and_then(|r| r.as_array_mut()) {
                req.insert(0, "target".into());
            }
        }
        v
    }
    let mut out = vec![("accesslink.schema.json", Config::json_schema())];
    #[cfg(feature = "otrs")]
    out.push((
        "otrs.schema.json",
        one::<accesslink_otrs::OtrsSettings>("otrs"),
    ));
    #[cfg(feature = "glpi")]
    out.push((
        "glpi.schema.json",
        one::<accesslink_glpi::GlpiSettings>("glpi"),
    ));
    #[cfg(feature = "servicenow")]
    out.push((
        "servicenow.schema.json",
        one::<accesslink_servicenow::ServiceNowSettings>("servicenow"),
    ));
    #[cfg(feature = "opsramp")]
    out.push((
        "opsramp.schema.json",
        one::<accesslink_opsramp::OpsRampSettings>("opsramp"),
    ));
    #[cfg(feature = "opsgenie")]
    out.push((
        "opsgenie.schema.json",
        one::<accesslink_opsgenie::OpsGenieSettings>("opsgenie"),
    ));
    #[cfg(feature = "topdesk")]
    out.push((
        "topdesk.schema.json",
        one::<accesslink_topdesk::TopdeskSettings>("topdesk"),
    ));
    #[cfg(feature = "jira")]
    out.push((
        "jira.schema.json",
        one::<accesslink_jira::JiraSettings>("jira"),
    ));
    #[cfg(feature = "salesforce")]
    out.push((
        "salesforce.schema.json",
        one::<accesslink_salesforce::SalesforceSettings>("salesforce"),
    ));
    #[cfg(feature = "helix")]
    out.push((
        "helix.schema.json",
        one::<accesslink_helix::HelixSettings>("helix"),
    ));
    #[cfg(feature = "sdp")]
    out.push(("sdp.schema.json", one::<accesslink_sdp::SdpSettings>("sdp")));
    out
}

impl fmt::Display for ConnectorConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.name(), self.target())
    }
}

/// The instance whose table the 1-based `line` falls in.
fn instance_at(text: &str, line: usize) -> Option<String> {
    text.lines()
        .take(line)
        .filter_map(|l| {
            let l = l.trim();
            let inner = l.strip_prefix('[')?.trim_start_matches('[');
            let rest = inner.trim().strip_prefix("instances.")?;
            let name = rest
                .split(['.', ']'])
                .next()?
                .trim()
                .trim_matches('"')
                .to_owned();
            Some(name)
        })
        .last()
}

/// The line of an unknown key inside the table that starts at `header` (serde reports
/// an internally tagged table's errors at its header), when the message names the key.
fn key_line(text: &str, header: usize, message: &str) -> Option<usize> {
    let key = message.split("unknown field `").nth(1)?.split('`').next()?;
    text.lines()
        .enumerate()
        .skip(header)
        .take_while(|(_, l)| !l.trim_start().starts_with('['))
        .find(|(_, l)| {
            let l = l.trim_start();
            l.strip_prefix(key)
                .or_else(|| l.strip_prefix(&format!("\"{key}\"")))
                .is_some_and(|rest| rest.trim_start().starts_with(['=', '.']))
        })
        .map(|(i, _)| i + 1)
}

/// The message of a config error without its "invalid configuration: " prefix.
fn strip_prefix(e: &Error) -> String {
    match e {
        Error::Config { message } => message.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instance_of_a_line() {
        let text = "[instances.a]\ntarget = \"x\"\n\n[instances.\"b-2\".http]\nretry = 1\n";
        assert_eq!(instance_at(text, 2).as_deref(), Some("a"));
        assert_eq!(instance_at(text, 5).as_deref(), Some("b-2"));
        assert_eq!(instance_at("x = 1", 1), None);
    }

    #[test]
    fn empty_and_unknown_top_level() {
        assert!(Config::from_toml_str("").unwrap().instances.is_empty());
        let e = Config::from_toml_str("instance = 1").unwrap_err();
        assert_eq!(e.kind(), accesslink_core::ErrorKind::Config);
        assert!(e.to_string().contains("instance"), "{e}");
    }
}
