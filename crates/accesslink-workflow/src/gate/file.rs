//! Gate policies from a TOML or JSON file, with a JSON Schema, validated at load.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use accesslink_core::{TicketKind, TicketingSystem};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::policy::{ApprovalRule, IdPattern, TicketPolicy};
use super::scope::GatePolicies;
use super::{DecisionCache, Desk, MultiDeskGate, TicketGate};
use crate::audit::AuditSink;
use crate::config_file;

/// Why gate configuration was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GateConfigError {
    /// The file could not be read.
    #[error("cannot read gate policies from {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid TOML/JSON, or names something that does not exist
    /// (an unknown key, state, kind or approval rule); the message names the path
    /// in the document (`desks.glpi.policies.default.allowed_states[1]`).
    #[error("gate policies are malformed at {path}: {message}")]
    Parse {
        /// Where in the document.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// The configuration parses but cannot work (a desk missing, an order naming
    /// an unknown desk, a kind the desk's target does not have, …).
    #[error("gate policies are invalid: {0}")]
    Invalid(String),
}

impl From<config_file::LoadError> for GateConfigError {
    fn from(e: config_file::LoadError) -> Self {
        match e {
            config_file::LoadError::Read(path, source) => GateConfigError::Read { path, source },
            config_file::LoadError::Parse(path, message) => {
                GateConfigError::Parse { path, message }
            }
        }
    }
}

/// Gate configuration for one or several service desks: policies per desk, claim
/// patterns, the routing order, the gate's deadline and the decision cache.
///
/// ```toml
/// order = ["servicenow", "glpi"]     # settles ids several desks claim
/// deadline_secs = 10
///
/// [cache]
/// ttl_secs = 30
/// max_entries = 10000
///
/// [desks.servicenow]
/// target = "servicenow"              # checked against the connector at build
/// claims = [{ prefixes = ["INC", "CHG"], charset = "digits", min_len = 7, max_len = 7 }]
///
/// [desks.servicenow.policies.default]
/// allowed_kinds = ["change", "incident"]
/// approval = { kinds = ["change"] }
///
/// [desks.servicenow.policies.groups.prod]
/// allowed_kinds = ["change"]
/// approval = "always"
///
/// [desks.servicenow.policies.user_groups.dba]
/// no_ticket_operations = ["retrieve_password"]
///
/// [desks.servicenow.policies.super_admins]
/// roles = ["super_administrator"]
/// ```
///
/// Unknown keys, states, kinds and approval rules are refused when the file is
/// parsed ([`GateConfigError::Parse`], naming the path); the kinds a policy names
/// are checked against what each desk's connector reads
/// (`ConnectorInfo::ticket_kinds`) when the gate is built
/// ([`GateConfigError::Invalid`]), so an administrator's typo cannot open the gate.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct GateConfig {
    /// Desk names, first wins, for ids several desks claim.
    #[serde(default)]
    pub order: Vec<String>,
    /// The gate's deadline for a ticket read, in seconds (default 30).
    #[serde(default)]
    pub deadline_secs: Option<u64>,
    /// The decision cache; none when absent.
    #[serde(default)]
    pub cache: Option<CacheConfig>,
    /// The service desks by name.
    pub desks: BTreeMap<String, DeskConfig>,
}

/// The decision cache's settings ([`DecisionCache`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct CacheConfig {
    /// How long an allow is reused, in seconds (at most 3600).
    pub ttl_secs: u64,
    /// The most allows kept (default 10,000).
    #[serde(default = "default_max_entries")]
    pub max_entries: usize,
}

fn default_max_entries() -> usize {
    DecisionCache::DEFAULT_MAX_ENTRIES
}

/// One service desk in a [`GateConfig`].
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct DeskConfig {
    /// The target the desk's connector must be (`servicenow`, `glpi`, …), checked
    /// when the gate is built; any when absent.
    #[serde(default)]
    pub target: Option<String>,
    /// Patterns narrowing which ids the desk claims ([`Desk::claims`]).
    #[serde(default)]
    pub claims: Vec<IdPattern>,
    /// The desk's policies.
    #[serde(default)]
    pub policies: GatePolicies,
}

impl GateConfig {
    /// Parses TOML and checks it ([`validate`](Self::validate)).
    ///
    /// # Errors
    /// [`GateConfigError::Parse`] or [`GateConfigError::Invalid`].
    pub fn from_toml_str(text: &str) -> Result<Self, GateConfigError> {
        let config: GateConfig = config_file::from_toml(text)?;
        config.validate()?;
        Ok(config)
    }

    /// Parses JSON and checks it ([`validate`](Self::validate)).
    ///
    /// # Errors
    /// [`GateConfigError::Parse`] or [`GateConfigError::Invalid`].
    pub fn from_json_str(text: &str) -> Result<Self, GateConfigError> {
        let config: GateConfig = config_file::from_json(text)?;
        config.validate()?;
        Ok(config)
    }

    /// Reads a `.toml` or `.json` file (by extension) and checks it.
    ///
    /// # Errors
    /// [`GateConfigError::Read`], or as the `from_*_str` functions.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, GateConfigError> {
        let config: GateConfig = config_file::load(path.as_ref())?;
        config.validate()?;
        Ok(config)
    }

    /// The JSON Schema of the file format.
    pub fn json_schema() -> serde_json::Value {
        serde_json::to_value(schemars::schema_for!(GateConfig)).unwrap_or_default()
    }

    /// Checks what does not need the connectors: at least one desk, the order names
    /// configured desks once each, id patterns and cache bounds make sense.
    ///
    /// # Errors
    /// [`GateConfigError::Invalid`] naming the first problem.
    pub fn validate(&self) -> Result<(), GateConfigError> {
        let bad = |m: String| Err(GateConfigError::Invalid(m));
        if self.desks.is_empty() {
            return bad("no desk is configured ([desks.<name>])".into());
        }
        for (i, name) in self.order.iter().enumerate() {
            if !self.desks.contains_key(name) {
                return bad(format!(
                    "order names desk {name:?}, which is not configured"
                ));
            }
            if self.order[..i].contains(name) {
                return bad(format!("order names desk {name:?} twice"));
            }
        }
        if let Some(c) = &self.cache
            && (c.ttl_secs == 0 || c.ttl_secs > 3600 || c.max_entries == 0)
        {
            return bad("cache.ttl_secs must be 1..=3600 and cache.max_entries at least 1".into());
        }
        for (desk, d) in &self.desks {
            let patterns = d.claims.iter().map(|p| ("claims".to_owned(), p));
            let policy_patterns = d
                .policies
                .all()
                .filter_map(|(n, p)| p.id_pattern.as_ref().map(|x| (n, x)));
            for (where_, p) in patterns.chain(policy_patterns) {
                if p.min_len > p.max_len || p.max_len == 0 {
                    return bad(format!(
                        "desk {desk:?}, {where_}: id pattern lengths {}..={} are empty",
                        p.min_len, p.max_len
                    ));
                }
            }
        }
        Ok(())
    }

    /// The gate of one desk over its ticketing system, checked against it.
    ///
    /// # Errors
    /// [`GateConfigError::Invalid`] when the desk is not configured or its
    /// policies name what the system cannot say.
    pub fn gate(
        &self,
        desk: &str,
        system: Arc<dyn TicketingSystem>,
        audit: Arc<dyn AuditSink>,
    ) -> Result<TicketGate, GateConfigError> {
        let d = self
            .desks
            .get(desk)
            .ok_or_else(|| GateConfigError::Invalid(format!("desk {desk:?} is not configured")))?;
        check_against(desk, d, system.as_ref())?;
        let mut gate = TicketGate::new(system, d.policies.clone()).with_audit(audit);
        if let Some(secs) = self.deadline_secs {
            gate = gate.with_deadline(Duration::from_secs(secs));
        }
        if let Some(c) = &self.cache {
            gate = gate.with_cache(DecisionCache::new(
                Duration::from_secs(c.ttl_secs),
                c.max_entries,
            ));
        }
        Ok(gate)
    }

    /// The multi-desk gate over named ticketing systems, one per configured desk.
    ///
    /// # Errors
    /// [`GateConfigError::Invalid`] when a desk has no system or a system no desk,
    /// or a desk's policies name what its system cannot say.
    pub fn build(
        &self,
        systems: impl IntoIterator<Item = (String, Arc<dyn TicketingSystem>)>,
        audit: Arc<dyn AuditSink>,
    ) -> Result<MultiDeskGate, GateConfigError> {
        let mut systems: BTreeMap<String, Arc<dyn TicketingSystem>> = systems.into_iter().collect();
        let mut desks = Vec::new();
        for (name, d) in &self.desks {
            let system = systems.remove(name).ok_or_else(|| {
                GateConfigError::Invalid(format!("desk {name:?} has no ticketing system"))
            })?;
            let gate = self.gate(name, system, audit.clone())?;
            desks.push(Desk::new(name.clone(), gate).claims(d.claims.clone()));
        }
        if let Some(extra) = systems.keys().next() {
            return Err(GateConfigError::Invalid(format!(
                "ticketing system {extra:?} has no desk in the configuration"
            )));
        }
        MultiDeskGate::new(desks)?
            .with_order(self.order.clone())
            .map(|g| g.with_audit(audit))
    }
}

/// The desk's target and every kind its policies name, against the connector.
fn check_against(
    desk: &str,
    d: &DeskConfig,
    system: &dyn TicketingSystem,
) -> Result<(), GateConfigError> {
    let info = system.info();
    if let Some(target) = &d.target
        && !target.eq_ignore_ascii_case(info.target)
    {
        return Err(GateConfigError::Invalid(format!(
            "desk {desk:?} is configured for target {target:?}, but its system is {:?}",
            info.target
        )));
    }
    if info.ticket_kinds.is_empty() {
        return Ok(());
    }
    for (policy, p) in d.policies.all() {
        for kind in kinds(p) {
            if !info.ticket_kinds.contains(kind) {
                let known: Vec<String> =
                    info.ticket_kinds.iter().map(ToString::to_string).collect();
                return Err(GateConfigError::Invalid(format!(
                    "desk {desk:?}, policy {policy:?}: {} tickets are never of kind {kind:?} (they are {})",
                    info.target,
                    known.join(", ")
                )));
            }
        }
    }
    Ok(())
}

/// Every kind a policy names.
fn kinds(p: &TicketPolicy) -> impl Iterator<Item = &TicketKind> {
    let approval: &[TicketKind] = match &p.approval {
        ApprovalRule::Kinds(k) => k,
        _ => &[],
    };
    p.allowed_kinds
        .iter()
        .chain(p.states_by_kind.iter().map(|k| &k.kind))
        .chain(approval)
}
