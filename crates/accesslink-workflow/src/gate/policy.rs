//! Ticket policies: what makes a ticket good enough to release privileged access.

use std::time::Duration;

use accesslink_core::{TicketKind, TicketState};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::schema::KindName;

/// The characters allowed after a ticket id's prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Charset {
    /// `0-9`.
    Digits,
    /// ASCII letters and digits.
    Alphanumeric,
    /// ASCII letters, digits, `-` and `_`.
    AlphanumericDash,
}

impl Charset {
    fn allows(self, c: char) -> bool {
        match self {
            Charset::Digits => c.is_ascii_digit(),
            Charset::Alphanumeric => c.is_ascii_alphanumeric(),
            Charset::AlphanumericDash => c.is_ascii_alphanumeric() || c == '-' || c == '_',
        }
    }
}

/// A simple ticket id rule, checked before the connector's own parsing: an optional
/// prefix (one of a list, case-insensitive), then `min_len..=max_len` characters of
/// a charset. `INC` + 7 digits is `IdPattern::new(Charset::Digits, 7, 7).prefixes(["INC"])`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct IdPattern {
    /// Accepted prefixes; when not empty, the id must start with one of them.
    #[serde(default)]
    pub prefixes: Vec<String>,
    /// The characters after the prefix.
    pub charset: Charset,
    /// Fewest characters after the prefix.
    pub min_len: usize,
    /// Most characters after the prefix.
    pub max_len: usize,
}

impl IdPattern {
    /// A pattern without prefixes.
    pub fn new(charset: Charset, min_len: usize, max_len: usize) -> Self {
        IdPattern {
            prefixes: Vec::new(),
            charset,
            min_len,
            max_len,
        }
    }

    /// Sets the accepted prefixes.
    #[must_use]
    pub fn prefixes<S: Into<String>>(mut self, prefixes: impl IntoIterator<Item = S>) -> Self {
        self.prefixes = prefixes.into_iter().map(Into::into).collect();
        self
    }

    /// Checks a trimmed id; the error says what is wrong.
    ///
    /// # Errors
    /// When the id does not fit the pattern.
    pub fn check(&self, id: &str) -> Result<(), String> {
        let rest = if self.prefixes.is_empty() {
            id
        } else {
            // Longest prefix first, so `CTASK` is not read as `C` + `TASK…`.
            let mut prefixes: Vec<&String> = self.prefixes.iter().collect();
            prefixes.sort_by_key(|p| std::cmp::Reverse(p.len()));
            prefixes
                .into_iter()
                .find_map(|p| {
                    id.get(..p.len())
                        .filter(|head| head.eq_ignore_ascii_case(p))
                        .map(|_| &id[p.len()..])
                })
                .ok_or_else(|| format!("it must start with one of {:?}", self.prefixes))?
        };
        if let Some(c) = rest.chars().find(|&c| !self.charset.allows(c)) {
            return Err(format!("{c:?} is not allowed ({:?} only)", self.charset));
        }
        let n = rest.chars().count();
        if n < self.min_len || n > self.max_len {
            return Err(format!(
                "{n} characters after the prefix; {}..={} expected",
                self.min_len, self.max_len
            ));
        }
        Ok(())
    }
}

/// When a ticket's change or request must be approved.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ApprovalRule {
    /// Never required.
    #[default]
    Never,
    /// Required for every ticket.
    Always,
    /// Required for these kinds (ServiceDesk Plus "change must be approved": `[change]`).
    Kinds(#[schemars(with = "Vec<KindName>")] Vec<TicketKind>),
}

impl ApprovalRule {
    /// Whether a ticket of `kind` must be approved.
    pub fn requires(&self, kind: &TicketKind) -> bool {
        match self {
            ApprovalRule::Never => false,
            ApprovalRule::Always => true,
            ApprovalRule::Kinds(kinds) => kinds.contains(kind),
        }
    }
}

/// When break-glass may override a denial.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum BreakGlassScope {
    /// Only when the ticketing system could not be asked: it failed
    /// ([`Reason::ItsmUnavailable`](super::Reason::ItsmUnavailable)) or did not
    /// answer within the gate's deadline ([`Reason::GateDeadline`](super::Reason::GateDeadline)).
    #[default]
    ItsmUnavailable,
    /// Any denial.
    AnyDenial,
}

/// Who may break glass, and when. Off by default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct BreakGlassRule {
    /// Whether break-glass is possible at all.
    pub enabled: bool,
    /// Principals (login or email) allowed to break glass; empty means anyone.
    pub principals: Vec<String>,
    /// When it applies.
    pub scope: BreakGlassScope,
    /// The shortest reason accepted, in visible characters (default 10):
    /// whitespace, control and format characters (zero-width spaces and joiners,
    /// the byte-order mark, bidi controls, …), blank fillers and lone combining
    /// marks are not counted.
    pub min_reason_len: usize,
}

impl Default for BreakGlassRule {
    fn default() -> Self {
        BreakGlassRule {
            enabled: false,
            principals: Vec::new(),
            scope: BreakGlassScope::ItsmUnavailable,
            min_reason_len: 10,
        }
    }
}

impl BreakGlassRule {
    /// Break-glass for these principals (empty: anyone), when the ticketing system
    /// cannot be asked.
    pub fn allow<S: Into<String>>(principals: impl IntoIterator<Item = S>) -> Self {
        BreakGlassRule {
            enabled: true,
            principals: principals.into_iter().map(Into::into).collect(),
            ..BreakGlassRule::default()
        }
    }

    /// Sets the scope.
    #[must_use]
    pub fn scope(mut self, scope: BreakGlassScope) -> Self {
        self.scope = scope;
        self
    }
}

/// Which of the requester's identifiers the principal is compared with when a
/// policy requires the requester to match. Each compares like with like: the
/// principal's login with the requester's login, email with email, id with id
/// (case-insensitive, trimmed). The default list is `[Login]`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum RequesterMatch {
    /// The principal's login equals the requester's login.
    Login,
    /// The principal's email equals the requester's email.
    Email,
    /// The principal's id in the ticketing system ([`Principal::id`](field@super::Principal::id))
    /// equals the requester's id. Internal ids are often small integers, so name
    /// this only when the principal's id really is the target's id.
    Id,
}

/// The states allowed for one kind of ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct KindStates {
    /// The kind.
    #[schemars(with = "KindName")]
    pub kind: TicketKind,
    /// Its allowed states.
    pub states: Vec<TicketState>,
}

/// The open states: New, InProgress, OnHold, Reopened.
pub fn open_states() -> Vec<TicketState> {
    vec![
        TicketState::New,
        TicketState::InProgress,
        TicketState::OnHold,
        TicketState::Reopened,
    ]
}

/// What a ticket must satisfy for one resource group (or by default).
///
/// The default policy enforces validation, accepts any kind in an open state,
/// requires no approval and no requester match (when turned on, it compares
/// logins only), has no exemptions, fails closed when the ticketing system cannot
/// be asked, and has break-glass off. Deserialises from configuration with the
/// same defaults; unknown keys are rejected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct TicketPolicy {
    /// Whether tickets are checked at all for this group (selective enforcement).
    pub enforce: bool,
    /// Accepted kinds; empty accepts every kind.
    #[schemars(with = "Vec<KindName>")]
    pub allowed_kinds: Vec<TicketKind>,
    /// Accepted states, for kinds without their own entry in `states_by_kind`.
    pub allowed_states: Vec<TicketState>,
    /// Accepted states per kind.
    pub states_by_kind: Vec<KindStates>,
    /// When approval is required.
    pub approval: ApprovalRule,
    /// Whether the ticket's requester must be the principal, compared on the
    /// fields `requester_match` names.
    pub requester_must_match: bool,
    /// What identifies the requester as the principal: any listed field that
    /// matches (like with like). Default `[login]`; an empty list matches nobody.
    pub requester_match: Vec<RequesterMatch>,
    /// A native ticket field (in `extra`) that must name the resource accessed.
    pub resource_field: Option<String>,
    /// A format the raw id must have before the connector even parses it.
    pub id_pattern: Option<IdPattern>,
    /// The oldest a ticket may be.
    #[serde(rename = "max_age_secs", with = "opt_secs")]
    #[schemars(with = "Option<u64>")]
    pub max_age: Option<Duration>,
    /// Principals (login or email) never asked for a ticket.
    pub exempt_principals: Vec<String>,
    /// Operations allowed without a ticket (`retrieve_password`, `reset_password`).
    pub no_ticket_operations: Vec<String>,
    /// Allow (recording [`Reason::FailedOpen`](super::Reason::FailedOpen)) instead
    /// of deny when the ticketing system cannot be asked. Off by default.
    pub fail_open: bool,
    /// Break-glass.
    pub break_glass: BreakGlassRule,
}

impl Default for TicketPolicy {
    fn default() -> Self {
        TicketPolicy {
            enforce: true,
            allowed_kinds: Vec::new(),
            allowed_states: open_states(),
            states_by_kind: Vec::new(),
            approval: ApprovalRule::Never,
            requester_must_match: false,
            requester_match: vec![RequesterMatch::Login],
            resource_field: None,
            id_pattern: None,
            max_age: None,
            exempt_principals: Vec::new(),
            no_ticket_operations: Vec::new(),
            fail_open: false,
            break_glass: BreakGlassRule::default(),
        }
    }
}

impl TicketPolicy {
    /// The default policy.
    pub fn new() -> Self {
        TicketPolicy::default()
    }

    /// Turns enforcement on or off.
    #[must_use]
    pub fn enforce(mut self, on: bool) -> Self {
        self.enforce = on;
        self
    }

    /// Sets the accepted kinds.
    #[must_use]
    pub fn allowed_kinds(mut self, kinds: impl IntoIterator<Item = TicketKind>) -> Self {
        self.allowed_kinds = kinds.into_iter().collect();
        self
    }

    /// Sets the accepted states for kinds without their own entry.
    #[must_use]
    pub fn allowed_states(mut self, states: impl IntoIterator<Item = TicketState>) -> Self {
        self.allowed_states = states.into_iter().collect();
        self
    }

    /// Sets the accepted states of one kind.
    #[must_use]
    pub fn states_for(
        mut self,
        kind: TicketKind,
        states: impl IntoIterator<Item = TicketState>,
    ) -> Self {
        self.states_by_kind.retain(|k| k.kind != kind);
        self.states_by_kind.push(KindStates {
            kind,
            states: states.into_iter().collect(),
        });
        self
    }

    /// Sets when approval is required.
    #[must_use]
    pub fn approval(mut self, rule: ApprovalRule) -> Self {
        self.approval = rule;
        self
    }

    /// Requires the ticket's requester to be the principal.
    #[must_use]
    pub fn requester_must_match(mut self, on: bool) -> Self {
        self.requester_must_match = on;
        self
    }

    /// Sets the fields on which the requester is matched (default login only).
    #[must_use]
    pub fn requester_match(mut self, how: impl IntoIterator<Item = RequesterMatch>) -> Self {
        self.requester_match = how.into_iter().collect();
        self
    }

    /// Requires native field `field` to name the resource.
    #[must_use]
    pub fn resource_field(mut self, field: impl Into<String>) -> Self {
        self.resource_field = Some(field.into());
        self
    }

    /// Sets the id pattern.
    #[must_use]
    pub fn id_pattern(mut self, pattern: IdPattern) -> Self {
        self.id_pattern = Some(pattern);
        self
    }

    /// Sets the maximum age.
    #[must_use]
    pub fn max_age(mut self, age: Duration) -> Self {
        self.max_age = Some(age);
        self
    }

    /// Sets the exempt principals.
    #[must_use]
    pub fn exempt<S: Into<String>>(mut self, principals: impl IntoIterator<Item = S>) -> Self {
        self.exempt_principals = principals.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the operations allowed without a ticket.
    #[must_use]
    pub fn no_ticket_operations<S: Into<String>>(
        mut self,
        ops: impl IntoIterator<Item = S>,
    ) -> Self {
        self.no_ticket_operations = ops.into_iter().map(Into::into).collect();
        self
    }

    /// Allows when the ticketing system cannot be asked (not recommended).
    #[must_use]
    pub fn fail_open(mut self, on: bool) -> Self {
        self.fail_open = on;
        self
    }

    /// Sets the break-glass rule.
    #[must_use]
    pub fn break_glass(mut self, rule: BreakGlassRule) -> Self {
        self.break_glass = rule;
        self
    }

    /// The accepted states for a kind.
    pub fn states_of(&self, kind: &TicketKind) -> &[TicketState] {
        self.states_by_kind
            .iter()
            .find(|k| &k.kind == kind)
            .map_or(&self.allowed_states, |k| &k.states)
    }
}

mod opt_secs {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_some(&d.as_secs()),
            None => s.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Duration>, D::Error> {
        Ok(Option::<u64>::deserialize(d)?.map(Duration::from_secs))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_pattern_table() {
        let p = IdPattern::new(Charset::Digits, 7, 7).prefixes(["INC", "CHG", "CTASK"]);
        assert!(p.check("INC0010007").is_ok());
        assert!(p.check("inc0010007").is_ok());
        assert!(p.check("CTASK0000009").is_ok());
        assert!(p.check("INC001000").is_err(), "six digits");
        assert!(p.check("INC00100071").is_err(), "eight digits");
        assert!(p.check("PRB0000007").is_err(), "prefix");
        assert!(p.check("INC00100'7").is_err(), "charset");
        assert!(p.check("").is_err());
        let any = IdPattern::new(Charset::AlphanumericDash, 1, 20);
        assert!(any.check("PROJ-123").is_ok());
        assert!(any.check("PROJ 123").is_err());
    }
}
