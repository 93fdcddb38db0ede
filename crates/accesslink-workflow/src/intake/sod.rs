//! Segregation-of-duties rules as data, checked before anything is provisioned.

use std::collections::BTreeSet;
use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A set of entitlements of one application that no one may hold together (any two
/// of them).
///
/// ```toml
/// [[sod]]
/// name = "payments"
/// application = "CRM"
/// entitlements = ["payments-create", "payments-approve"]
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct SodRule {
    /// A name for people (comments and audit events); the entitlements joined by `+`
    /// when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The application the entitlements belong to (compared ignoring case).
    pub application: String,
    /// The entitlement ids (at least two). Compared exactly, as the provisioner names them.
    pub entitlements: Vec<String>,
}

impl SodRule {
    /// A rule over `entitlements` of `application`.
    pub fn new<S: Into<String>>(
        application: impl Into<String>,
        entitlements: impl IntoIterator<Item = S>,
    ) -> Self {
        SodRule {
            name: None,
            application: application.into(),
            entitlements: entitlements.into_iter().map(Into::into).collect(),
        }
    }

    /// Names the rule.
    #[must_use]
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// The rule's name for people.
    pub fn label(&self) -> String {
        self.name
            .clone()
            .unwrap_or_else(|| self.entitlements.join("+"))
    }

    /// Whether the rule concerns a request for `entitlement` of `application`.
    pub fn covers(&self, application: &str, entitlement: &str) -> bool {
        self.application.eq_ignore_ascii_case(application)
            && self.entitlements.iter().any(|e| e == entitlement)
    }

    pub(crate) fn validate(&self) -> Result<(), String> {
        let distinct: BTreeSet<&String> = self.entitlements.iter().collect();
        if distinct.len() < 2 {
            return Err(format!(
                "SoD rule {}: needs at least two different entitlements",
                self.label()
            ));
        }
        if self.application.trim().is_empty() {
            return Err(format!(
                "SoD rule {}: the application is empty",
                self.label()
            ));
        }
        Ok(())
    }
}

/// A request that would break a rule: what was asked for and what is held already.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SodConflict {
    /// The rule's name.
    pub rule: String,
    /// The application.
    pub application: String,
    /// The entitlement asked for.
    pub requested: String,
    /// The conflicting entitlements the beneficiary holds.
    pub held: Vec<String>,
}

impl fmt::Display for SodConflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "segregation of duties (rule {}): {} on {} conflicts with {} already held",
            self.rule,
            self.requested,
            self.application,
            self.held.join(", ")
        )
    }
}

/// The first rule the request breaks, given what the beneficiary holds now.
pub(crate) fn check(
    rules: &[SodRule],
    application: &str,
    requested: &str,
    held: &BTreeSet<String>,
) -> Option<SodConflict> {
    rules
        .iter()
        .filter(|r| r.covers(application, requested))
        .find_map(|r| {
            let clash: Vec<String> = r
                .entitlements
                .iter()
                .filter(|e| *e != requested && held.contains(*e))
                .cloned()
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            (!clash.is_empty()).then(|| SodConflict {
                rule: r.label(),
                application: application.to_owned(),
                requested: requested.to_owned(),
                held: clash,
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn held(items: &[&str]) -> BTreeSet<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn a_held_partner_entitlement_of_the_same_application_conflicts() {
        let rules = [
            SodRule::new("CRM", ["pay-create", "pay-approve", "pay-audit"]).name("payments"),
            SodRule::new("ERP", ["a", "b"]),
        ];
        let c = check(&rules, "crm", "pay-approve", &held(&["pay-create", "x"])).unwrap();
        assert_eq!(c.rule, "payments");
        assert_eq!(c.held, ["pay-create"]);
        assert_eq!(
            c.to_string(),
            "segregation of duties (rule payments): pay-approve on crm conflicts with pay-create already held"
        );
        // Holding the requested one itself, other applications, other entitlements: no conflict.
        assert!(check(&rules, "CRM", "pay-approve", &held(&["pay-approve"])).is_none());
        assert!(check(&rules, "ERP", "pay-approve", &held(&["pay-create"])).is_none());
        assert!(check(&rules, "CRM", "viewer", &held(&["pay-create"])).is_none());
        assert_eq!(
            check(&rules, "ERP", "a", &held(&["b"])).unwrap().rule,
            "a+b"
        );
    }

    #[test]
    fn a_rule_needs_two_distinct_entitlements() {
        assert!(SodRule::new("CRM", ["a", "a"]).validate().is_err());
        assert!(SodRule::new(" ", ["a", "b"]).validate().is_err());
        assert!(SodRule::new("CRM", ["a", "b"]).validate().is_ok());
    }
}
