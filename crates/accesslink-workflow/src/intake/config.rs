//! Intake configuration from TOML or JSON, with a JSON Schema, checked at load.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use accesslink_core::{TicketKind, TicketQuery, TicketState};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::map::FieldMap;
use super::sod::SodRule;
use crate::config_file;
use crate::gate::schema::KindName;

/// Why intake configuration was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IntakeConfigError {
    /// The file could not be read.
    #[error("cannot read intake configuration from {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The document is not valid TOML/JSON or names something that does not exist;
    /// the message names the path in the document (`field_map.entitlement.regx`).
    #[error("intake configuration is malformed at {path}: {message}")]
    Parse {
        /// Where in the document.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// The configuration parses but cannot work (a rule without a source, a regex
    /// that does not compile, a source without a connector, a connector that cannot
    /// list tickets…).
    #[error("intake configuration is invalid: {0}")]
    Invalid(String),
}

impl From<config_file::LoadError> for IntakeConfigError {
    fn from(e: config_file::LoadError) -> Self {
        match e {
            config_file::LoadError::Read(path, source) => IntakeConfigError::Read { path, source },
            config_file::LoadError::Parse(path, message) => {
                IntakeConfigError::Parse { path, message }
            }
        }
    }
}

/// What to do with a ticket the field map cannot read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum OnMappingError {
    /// Comment the error on the ticket (once per distinct error) and leave it open.
    #[default]
    Comment,
    /// Only report it (audit event and poll report).
    Ignore,
}

/// What to do with a request that breaks a segregation-of-duties rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum OnConflict {
    /// Comment the conflict (once) and leave the ticket open for people.
    #[default]
    LeaveOpen,
    /// Comment the conflict and close the ticket as unsuccessful.
    Reject,
}

/// One service desk the intake polls.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct SourceConfig {
    /// The ticket kinds to pick up (default `["request"]`).
    #[serde(default = "default_kinds")]
    #[schemars(with = "Vec<KindName>")]
    pub kinds: Vec<TicketKind>,
    /// The normalised states to pick up (default new, in_progress, on_hold, reopened).
    #[serde(default = "default_states")]
    pub states: Vec<TicketState>,
    /// The target-native scope: an OTRS queue, a ServiceNow catalogue item, a GLPI
    /// category… (each connector's page says what it takes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// How far before the watermark each poll asks again, in seconds (default 1; a
    /// minute for targets whose filter counts minutes, as Jira's JQL does).
    #[serde(default = "default_overlap")]
    pub overlap_secs: u64,
}

fn default_kinds() -> Vec<TicketKind> {
    vec![TicketKind::Request]
}

fn default_states() -> Vec<TicketState> {
    vec![
        TicketState::New,
        TicketState::InProgress,
        TicketState::OnHold,
        TicketState::Reopened,
    ]
}

fn default_overlap() -> u64 {
    1
}

fn default_interval() -> u64 {
    60
}

impl Default for SourceConfig {
    fn default() -> Self {
        SourceConfig {
            kinds: default_kinds(),
            states: default_states(),
            scope: None,
            overlap_secs: default_overlap(),
        }
    }
}

impl SourceConfig {
    /// Open request tickets of any scope.
    pub fn new() -> Self {
        SourceConfig::default()
    }

    /// Sets the scope.
    #[must_use]
    pub fn scope(mut self, scope: impl Into<String>) -> Self {
        self.scope = Some(scope.into());
        self
    }

    /// Sets the kinds.
    #[must_use]
    pub fn kinds(mut self, kinds: impl IntoIterator<Item = TicketKind>) -> Self {
        self.kinds = kinds.into_iter().collect();
        self
    }

    /// Sets the overlap.
    #[must_use]
    pub fn overlap(mut self, overlap: Duration) -> Self {
        self.overlap_secs = overlap.as_secs();
        self
    }

    /// The listing query of the source.
    pub fn query(&self) -> TicketQuery {
        let mut q = TicketQuery::new().states(self.states.iter().copied());
        for k in &self.kinds {
            q = q.kind(k.clone());
        }
        match &self.scope {
            Some(s) => q.scope(s.clone()),
            None => q,
        }
    }
}

/// Everything the intake is told by an administrator: the desks it polls and how
/// often, the field map, the SoD rules, and what to do with errors and conflicts.
///
/// ```toml
/// interval_secs = 60
/// on_conflict = "leave_open"        # or "reject"
/// on_mapping_error = "comment"      # or "ignore"
/// sync_comments = true
///
/// [sources.otrs]
/// scope = "Access requests"         # the OTRS queue
///
/// [field_map]
/// beneficiary = { field = "requester.login" }
/// application = { field = "extra.DynamicField_Application", default = "CRM" }
/// entitlement = { field = "title", regex = "role (?P<value>[a-z-]+)" }
/// justification = { field = "description", default = "" }
///
/// [[sod]]
/// application = "CRM"
/// entitlements = ["payments-create", "payments-approve"]
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct IntakeConfig {
    /// Seconds between polls in [`Intake::run`](super::Intake::run) (default 60, at least 1).
    #[serde(default = "default_interval")]
    pub interval_secs: u64,
    /// The service desks by name (the name keys the stored cursor and the request ids).
    pub sources: BTreeMap<String, SourceConfig>,
    /// Ticket fields → access-request fields.
    pub field_map: FieldMap,
    /// Segregation-of-duties rules.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sod: Vec<SodRule>,
    /// What to do with a ticket the field map cannot read.
    #[serde(default)]
    pub on_mapping_error: OnMappingError,
    /// What to do with a request that breaks an SoD rule.
    #[serde(default)]
    pub on_conflict: OnConflict,
    /// Whether comments people add on the tickets are delivered to the identity
    /// product (needs a handler, [`IntakeBuilder::comments`](super::IntakeBuilder::comments)).
    #[serde(default)]
    pub sync_comments: bool,
}

impl IntakeConfig {
    /// A configuration with a field map and no source yet.
    pub fn new(field_map: FieldMap) -> Self {
        IntakeConfig {
            interval_secs: default_interval(),
            sources: BTreeMap::new(),
            field_map,
            sod: Vec::new(),
            on_mapping_error: OnMappingError::default(),
            on_conflict: OnConflict::default(),
            sync_comments: false,
        }
    }

    /// Adds a source.
    #[must_use]
    pub fn source(mut self, name: impl Into<String>, source: SourceConfig) -> Self {
        self.sources.insert(name.into(), source);
        self
    }

    /// Adds an SoD rule.
    #[must_use]
    pub fn sod(mut self, rule: SodRule) -> Self {
        self.sod.push(rule);
        self
    }

    /// Sets what a conflict does.
    #[must_use]
    pub fn on_conflict(mut self, action: OnConflict) -> Self {
        self.on_conflict = action;
        self
    }

    /// Sets what a mapping error does.
    #[must_use]
    pub fn on_mapping_error(mut self, action: OnMappingError) -> Self {
        self.on_mapping_error = action;
        self
    }

    /// Turns comment sync on or off.
    #[must_use]
    pub fn sync_comments(mut self, on: bool) -> Self {
        self.sync_comments = on;
        self
    }

    /// Sets the interval between polls.
    #[must_use]
    pub fn interval(mut self, interval: Duration) -> Self {
        self.interval_secs = interval.as_secs();
        self
    }

    /// Whether a ticket with this status stays open (a rejected conflict is closed).
    pub(crate) fn on_conflict_leaves_open(&self, status: &super::IntakeStatus) -> bool {
        !matches!(status, super::IntakeStatus::Conflict(_))
            || self.on_conflict == OnConflict::LeaveOpen
    }

    /// Parses TOML and checks it ([`validate`](Self::validate)).
    ///
    /// # Errors
    /// [`IntakeConfigError::Parse`] or [`IntakeConfigError::Invalid`].
    pub fn from_toml_str(text: &str) -> Result<Self, IntakeConfigError> {
        let config: IntakeConfig = config_file::from_toml(text)?;
        config.validate()?;
        Ok(config)
    }

    /// Parses JSON and checks it ([`validate`](Self::validate)).
    ///
    /// # Errors
    /// [`IntakeConfigError::Parse`] or [`IntakeConfigError::Invalid`].
    pub fn from_json_str(text: &str) -> Result<Self, IntakeConfigError> {
        let config: IntakeConfig = config_file::from_json(text)?;
        config.validate()?;
        Ok(config)
    }

    /// Reads a `.toml` or `.json` file (by extension) and checks it.
    ///
    /// # Errors
    /// [`IntakeConfigError::Read`], or as the `from_*_str` functions.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, IntakeConfigError> {
        let config: IntakeConfig = config_file::load(path.as_ref())?;
        config.validate()?;
        Ok(config)
    }

    /// The JSON Schema of the file format.
    pub fn json_schema() -> serde_json::Value {
        serde_json::to_value(schemars::schema_for!(IntakeConfig)).unwrap_or_default()
    }

    /// Checks what does not need the connectors: at least one source with at least
    /// one state, field rules that compile, SoD rules with two entitlements.
    ///
    /// # Errors
    /// [`IntakeConfigError::Invalid`] naming the first problem.
    pub fn validate(&self) -> Result<(), IntakeConfigError> {
        let bad = |m: String| Err(IntakeConfigError::Invalid(m));
        if self.sources.is_empty() {
            return bad("no source is configured ([sources.<name>])".into());
        }
        for (name, s) in &self.sources {
            if name.trim().is_empty() || name.contains(':') {
                return bad(format!("source name {name:?} is empty or holds ':'"));
            }
            if s.states.is_empty() {
                return bad(format!("source {name:?}: `states` is empty"));
            }
            if let Some(closed) = s.states.iter().find(|s| s.is_terminal()) {
                return bad(format!(
                    "source {name:?}: state {closed} is finished; the intake picks up open tickets"
                ));
            }
        }
        self.field_map
            .compile()
            .map_err(|m| IntakeConfigError::Invalid(format!("field_map.{m}")))?;
        for r in &self.sod {
            r.validate().map_err(IntakeConfigError::Invalid)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOML: &str = r#"
        interval_secs = 30
        on_conflict = "reject"
        [sources.otrs]
        scope = "Access"
        [field_map]
        beneficiary = { field = "requester.login" }
        application = { fixed = "CRM" }
        entitlement = { field = "extra.Role", lookup = { "Sales admin" = "sales-admin" } }
        [[sod]]
        application = "CRM"
        entitlements = ["a", "b"]
    "#;

    #[test]
    fn a_toml_file_loads_with_defaults() {
        let c = IntakeConfig::from_toml_str(TOML).unwrap();
        assert_eq!(c.interval_secs, 30);
        assert_eq!(c.on_conflict, OnConflict::Reject);
        assert_eq!(c.on_mapping_error, OnMappingError::Comment);
        let s = &c.sources["otrs"];
        assert_eq!(s.kinds, [TicketKind::Request]);
        assert_eq!(s.states.len(), 4);
        let q = s.query();
        assert_eq!(q.scope.as_deref(), Some("Access"));
        assert_eq!(q.kinds, [TicketKind::Request]);
        let json = serde_json::to_string(&c).unwrap();
        assert_eq!(IntakeConfig::from_json_str(&json).unwrap(), c);
    }

    #[test]
    fn unknown_keys_and_bad_rules_are_refused_with_their_path() {
        let e = IntakeConfig::from_toml_str(&TOML.replace("lookup =", "lookpu =")).unwrap_err();
        let IntakeConfigError::Parse { path, message } = &e else {
            panic!("{e}")
        };
        assert_eq!(path, "field_map.entitlement.lookpu");
        assert!(message.contains("lookpu"), "{message}");
        let e =
            IntakeConfig::from_toml_str(&TOML.replace("\"extra.Role\"", "\"extra.\"")).unwrap_err();
        assert!(
            e.to_string()
                .contains("field_map.entitlement: unknown ticket field"),
            "{e}"
        );
        let e =
            IntakeConfig::from_toml_str(&TOML.replace("[\"a\", \"b\"]", "[\"a\"]")).unwrap_err();
        assert!(e.to_string().contains("at least two"), "{e}");
        let e = IntakeConfig::from_toml_str(
            &TOML.replace("scope = \"Access\"", "states = [\"closed\"]"),
        )
        .unwrap_err();
        assert!(e.to_string().contains("state closed is finished"), "{e}");
    }
}
