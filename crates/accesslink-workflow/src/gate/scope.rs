//! Which policies apply to an attempt: resource-group and user-group policies, the
//! default, and the super administrators' exemption, with their precedence
//! (documented on [`GatePolicies`]).

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Principal;
use super::policy::TicketPolicy;
use super::text::normalise_group;

/// Who counts as a super administrator, and whether they are exempt from ticket
/// validation.
///
/// Super administrators are exempt **by default** (PAM360's rule): the default
/// lists the role `super_administrator`. A principal is one when any of its
/// [roles](field@Principal::roles) is in `roles` or any of its
/// [groups](field@Principal::groups) is in `groups` (names normalised like group
/// names). Each use is audited; set `exempt = false` to make super administrators
/// show tickets like everybody else.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct SuperAdmins {
    /// Whether super administrators are exempt (default true).
    pub exempt: bool,
    /// Roles that make a principal a super administrator (default `["super_administrator"]`).
    pub roles: Vec<String>,
    /// User groups that make a principal a super administrator (default none).
    pub groups: Vec<String>,
}

impl Default for SuperAdmins {
    fn default() -> Self {
        SuperAdmins {
            exempt: true,
            roles: vec![SuperAdmins::DEFAULT_ROLE.to_owned()],
            groups: Vec::new(),
        }
    }
}

impl SuperAdmins {
    /// The role that makes a principal a super administrator by default.
    pub const DEFAULT_ROLE: &'static str = "super_administrator";

    /// No exemption: super administrators show tickets too.
    pub fn none() -> Self {
        SuperAdmins {
            exempt: false,
            ..SuperAdmins::default()
        }
    }

    /// Exempts principals having one of these roles (replacing the default role).
    #[must_use]
    pub fn roles<S: Into<String>>(mut self, roles: impl IntoIterator<Item = S>) -> Self {
        self.roles = roles.into_iter().map(Into::into).collect();
        self
    }

    /// Exempts members of these user groups.
    #[must_use]
    pub fn groups<S: Into<String>>(mut self, groups: impl IntoIterator<Item = S>) -> Self {
        self.groups = groups.into_iter().map(Into::into).collect();
        self
    }

    /// Switches the exemption on or off.
    #[must_use]
    pub fn exempt(mut self, on: bool) -> Self {
        self.exempt = on;
        self
    }

    /// The role or group (`role:<name>` or `group:<name>`) that makes `p` an exempt
    /// super administrator, or `None` (always `None` when the exemption is off).
    pub fn exempting(&self, p: &Principal) -> Option<String> {
        if !self.exempt {
            return None;
        }
        let hit = |mine: &[String], theirs: &[String]| {
            mine.iter()
                .map(|m| normalise_group(m))
                .filter(|m| !m.is_empty())
                .find(|m| theirs.iter().any(|t| normalise_group(t) == *m))
        };
        hit(&p.roles, &self.roles)
            .map(|r| format!("role:{r}"))
            .or_else(|| hit(&p.groups, &self.groups).map(|g| format!("group:{g}")))
    }
}

/// A default policy, one policy per resource group, one per user group, and the
/// super administrators' exemption.
///
/// # Precedence
///
/// The policies that apply to an attempt are:
///
/// 1. the policy of the attempt's resource group, when it has one;
/// 2. the policy of every user group the principal belongs to that has one;
/// 3. the default policy, **only** when neither 1 nor 2 gives a policy — the most
///    specific policies win, so the default never adds to or loosens a group's.
///
/// Each applicable policy decides the attempt on its own (its exemptions, its
/// operations without a ticket, its enforcement switch, its rules). A policy is
/// **stricter** than another *for an attempt* when it denies that attempt and the
/// other allows it; the gate allows only when **every** applicable policy allows,
/// so a deny in a stricter policy is never overridden by a looser one, whichever
/// kind (resource group or user group) each is. The verdict lists the reasons of
/// the denying policies and names them in [`Verdict::denied_by`](field@super::Verdict::denied_by)
/// (on an allow, the reasons of every policy).
/// An attempt naming a resource group without a policy, under
/// [`deny_unknown_groups`](field@GatePolicies::deny_unknown_groups), is denied
/// whatever its user groups say.
///
/// The super administrators' exemption ([`SuperAdmins`]) is checked before all of
/// them: a super administrator needs no ticket (unless the exemption is switched
/// off), and every such use is audited as an `exemption_used` event.
///
/// # Names
///
/// Group names are normalised wherever they are met — when a policy is
/// registered ([`group`](Self::group), [`user_group`](Self::user_group), loading
/// configuration) and when an attempt names a group ([`for_group`](Self::for_group)):
/// surrounding whitespace and invisible characters are trimmed, control and format
/// characters (zero-width spaces, …) removed, and the name lower-cased, so `PROD`,
/// ` prod` and `prod ` all select the policy registered as `prod`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct GatePolicies {
    /// The policy for attempts no resource-group or user-group policy covers.
    pub default: TicketPolicy,
    /// Policies by resource group name. Loading configuration normalises the
    /// names and rejects two that normalise to the same name, or a blank one.
    #[serde(deserialize_with = "groups::deserialize")]
    pub groups: BTreeMap<String, TicketPolicy>,
    /// Policies by user group name (the principal's [groups](field@Principal::groups)),
    /// normalised like resource group names.
    #[serde(deserialize_with = "groups::deserialize")]
    pub user_groups: BTreeMap<String, TicketPolicy>,
    /// Deny an attempt that names a resource group without a policy (with
    /// [`Reason::UnknownResourceGroup`](super::Reason::UnknownResourceGroup))
    /// instead of applying the default policy. Off by default; an attempt that
    /// names no group (or a blank one) always gets the default policy.
    pub deny_unknown_groups: bool,
    /// Who is exempt as a super administrator (by default the role
    /// `super_administrator`).
    pub super_admins: SuperAdmins,
}

/// One policy that applies to an attempt, with the name verdicts and audit
/// events give it: the resource group's normalised name, `user_group:<name>`, or
/// `default`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Applied<'a> {
    pub(crate) name: &'a str,
    pub(crate) user_group: bool,
    pub(crate) policy: &'a TicketPolicy,
}

impl Applied<'_> {
    pub(crate) fn label(&self) -> String {
        if self.user_group {
            format!("user_group:{}", self.name)
        } else {
            self.name.to_owned()
        }
    }
}

impl GatePolicies {
    /// One policy for everything.
    pub fn new(default: TicketPolicy) -> Self {
        GatePolicies {
            default,
            ..GatePolicies::default()
        }
    }

    /// Adds a resource group's policy under the group's normalised name, replacing
    /// a policy registered under any name that normalises the same.
    #[must_use]
    pub fn group(mut self, name: impl Into<String>, policy: TicketPolicy) -> Self {
        insert(&mut self.groups, &name.into(), policy);
        self
    }

    /// Adds a user group's policy under the group's normalised name, replacing a
    /// policy registered under any name that normalises the same.
    #[must_use]
    pub fn user_group(mut self, name: impl Into<String>, policy: TicketPolicy) -> Self {
        insert(&mut self.user_groups, &name.into(), policy);
        self
    }

    /// Denies attempts naming a resource group that has no policy, instead of
    /// applying the default policy to them (fail closed for unknown groups).
    #[must_use]
    pub fn deny_unknown_groups(mut self, on: bool) -> Self {
        self.deny_unknown_groups = on;
        self
    }

    /// Sets who is exempt as a super administrator.
    #[must_use]
    pub fn super_admins(mut self, rule: SuperAdmins) -> Self {
        self.super_admins = rule;
        self
    }

    /// Every policy in this set, with its label (for validation at load).
    pub(crate) fn all(&self) -> impl Iterator<Item = (String, &TicketPolicy)> {
        std::iter::once(("default".to_owned(), &self.default))
            .chain(self.groups.iter().map(|(k, p)| (k.clone(), p)))
            .chain(
                self.user_groups
                    .iter()
                    .map(|(k, p)| (format!("user_group:{k}"), p)),
            )
    }

    /// The resource group's policy, with its name: the group's policy when the
    /// normalised name has one, else the default policy (named `default`). `None`
    /// when the attempt names a group without a policy and
    /// [`deny_unknown_groups`](field@Self::deny_unknown_groups) is on. User-group
    /// policies are not considered here; the gate applies them too.
    pub fn for_group(&self, group: Option<&str>) -> Option<(&str, &TicketPolicy)> {
        match self.resource_policy(group) {
            Ok(Some((k, p))) => Some((k, p)),
            Ok(None) => Some(("default", &self.default)),
            Err(()) => None,
        }
    }

    /// The resource group's own policy (`Ok(None)`: none, use the default), or
    /// `Err` when the group is unknown and unknown groups are denied.
    fn resource_policy(&self, group: Option<&str>) -> Result<Option<(&str, &TicketPolicy)>, ()> {
        let Some(wanted) = group.map(normalise_group).filter(|g| !g.is_empty()) else {
            return Ok(None);
        };
        match find(&self.groups, &wanted) {
            Some(found) => Ok(Some(found)),
            None if self.deny_unknown_groups => Err(()),
            None => Ok(None),
        }
    }

    /// Every policy that applies to an attempt in `resource_group` by a principal in
    /// `user_groups`, resource group first, then user groups by name; `Err` when the
    /// resource group is unknown and unknown groups are denied.
    pub(crate) fn applicable(
        &self,
        resource_group: Option<&str>,
        user_groups: &[String],
    ) -> Result<Vec<Applied<'_>>, ()> {
        let mut out = Vec::new();
        if let Some((name, policy)) = self.resource_policy(resource_group)? {
            out.push(Applied {
                name,
                user_group: false,
                policy,
            });
        }
        let mut mine: Vec<String> = user_groups
            .iter()
            .map(|g| normalise_group(g))
            .filter(|g| !g.is_empty())
            .collect();
        mine.sort();
        mine.dedup();
        for g in &mine {
            if let Some((name, policy)) = find(&self.user_groups, g) {
                out.push(Applied {
                    name,
                    user_group: true,
                    policy,
                });
            }
        }
        if out.is_empty() {
            out.push(Applied {
                name: "default",
                user_group: false,
                policy: &self.default,
            });
        }
        Ok(out)
    }
}

fn insert(map: &mut BTreeMap<String, TicketPolicy>, name: &str, policy: TicketPolicy) {
    let name = normalise_group(name);
    map.retain(|k, _| normalise_group(k) != name);
    map.insert(name, policy);
}

/// Keys are normalised on the way in; compare normalised anyway, so a key
/// inserted into the public map by hand is found too.
fn find<'a>(
    map: &'a BTreeMap<String, TicketPolicy>,
    wanted: &str,
) -> Option<(&'a str, &'a TicketPolicy)> {
    map.get_key_value(wanted)
        .or_else(|| map.iter().find(|(k, _)| normalise_group(k) == wanted))
        .map(|(k, p)| (k.as_str(), p))
}

impl From<TicketPolicy> for GatePolicies {
    fn from(p: TicketPolicy) -> Self {
        GatePolicies::new(p)
    }
}

mod groups {
    use std::collections::BTreeMap;

    use serde::de::Error as _;
    use serde::{Deserialize, Deserializer};

    use super::{TicketPolicy, normalise_group};

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<BTreeMap<String, TicketPolicy>, D::Error> {
        let raw = BTreeMap::<String, TicketPolicy>::deserialize(d)?;
        let mut out = BTreeMap::new();
        for (name, policy) in raw {
            let key = normalise_group(&name);
            if key.is_empty() {
                return Err(D::Error::custom(format!("group name {name:?} is blank")));
            }
            if out.insert(key.clone(), policy).is_some() {
                return Err(D::Error::custom(format!(
                    "group {name:?} is listed twice (as {key:?} once normalised)"
                )));
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_falls_back_to_default() {
        let p =
            GatePolicies::new(TicketPolicy::new()).group("db", TicketPolicy::new().enforce(false));
        assert_eq!(p.for_group(Some("db")).unwrap().0, "db");
        assert!(!p.for_group(Some("db")).unwrap().1.enforce);
        assert_eq!(p.for_group(Some("web")).unwrap().0, "default");
        assert_eq!(p.for_group(None).unwrap().0, "default");
    }

    fn labels(p: &GatePolicies, rg: Option<&str>, ug: &[&str]) -> Vec<String> {
        let ug: Vec<String> = ug.iter().map(|s| (*s).to_owned()).collect();
        p.applicable(rg, &ug)
            .unwrap()
            .iter()
            .map(Applied::label)
            .collect()
    }

    #[test]
    fn specific_policies_replace_the_default() {
        let p = GatePolicies::new(TicketPolicy::new())
            .group("prod", TicketPolicy::new())
            .user_group("DBA", TicketPolicy::new())
            .user_group("contractors", TicketPolicy::new());
        assert_eq!(labels(&p, None, &[]), ["default"]);
        assert_eq!(labels(&p, Some("web"), &["sales"]), ["default"]);
        assert_eq!(labels(&p, Some(" PROD "), &[]), ["prod"]);
        assert_eq!(labels(&p, Some("web"), &["dba"]), ["user_group:dba"]);
        assert_eq!(
            labels(&p, Some("prod"), &["Contractors", "dba", "dba "]),
            ["prod", "user_group:contractors", "user_group:dba"]
        );
        let strict = p.deny_unknown_groups(true);
        assert!(strict.applicable(Some("web"), &["dba".into()]).is_err());
    }

    #[test]
    fn super_admins_by_role_or_group_and_switchable() {
        let root = Principal::new("root").roles(["Super_Administrator"]);
        let sa = SuperAdmins::default();
        assert_eq!(
            sa.exempting(&root).as_deref(),
            Some("role:super_administrator")
        );
        assert_eq!(
            sa.exempting(&Principal::new("jdoe").groups(["admins"])),
            None
        );
        let by_group = SuperAdmins::default().groups(["pam-admins"]);
        assert_eq!(
            by_group
                .exempting(&Principal::new("x").groups(["PAM-Admins"]))
                .as_deref(),
            Some("group:pam-admins")
        );
        assert_eq!(SuperAdmins::none().exempting(&root), None);
        assert_eq!(SuperAdmins::default().exempt(false).exempting(&root), None);
    }
}
