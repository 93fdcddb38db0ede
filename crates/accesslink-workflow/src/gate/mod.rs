//! The ticket gate: release privileged access only against a valid ticket.
//!
//! A user types a ticket id before a privileged operation; [`TicketGate::check`]
//! decides, in this order:
//!
//! 0. the resource group's name is normalised (trimmed, invisible characters
//!    removed, lower-cased) and selects its policy; a group without a policy gets
//!    the default policy, or is denied with [`Reason::UnknownResourceGroup`] when
//!    [`GatePolicies::deny_unknown_groups`](field@GatePolicies::deny_unknown_groups)
//!    is on;
//! 1. an exempt principal is allowed ([`Reason::Exempt`]), as is an operation the
//!    policy allows without a ticket ([`Reason::NoTicketNeeded`]) and any attempt in
//!    a resource group whose policy does not enforce validation;
//! 2. no id → deny; an id that fails the policy's [`IdPattern`] or the connector's
//!    `parse_ticket_ref` → deny with [`Reason::MalformedId`], **before any request**;
//! 3. `get_ticket`: missing → [`Reason::TicketNotFound`]; an error → deny with
//!    [`Reason::ItsmUnavailable`] (fail closed) unless the policy fails open; no
//!    answer within the gate's deadline ([`TicketGate::with_deadline`], 30 s by
//!    default) → deny with [`Reason::GateDeadline`], always;
//! 4. every rule is evaluated and **every** failing one reported: kind, state for
//!    the kind, approval, requester (on the fields the policy's
//!    [`RequesterMatch`] list names, login only by default), resource field, age;
//! 5. a denied attempt that carries a break-glass reason is allowed when the
//!    policy's [`BreakGlassRule`] permits it — the denial reasons stay in the
//!    verdict, with [`Reason::BreakGlass`] added — or gets
//!    [`Reason::BreakGlassRefused`].
//!
//! Every decision is recorded as a `gate_checked` audit event.

mod policy;
mod reason;
mod text;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use accesslink_core::redact::{redact_text, truncate};
use accesslink_core::{ApprovalState, ErrorKind, Person, Ticket, TicketingSystem};
use serde_json::Value;

use crate::audit::{AuditAction, AuditEvent, AuditOutcome, AuditSink, TracingSink, emit};
use crate::fulfil::person_label;

pub use policy::{
    ApprovalRule, BreakGlassRule, BreakGlassScope, Charset, GatePolicies, IdPattern, KindStates,
    RequesterMatch, TicketPolicy, open_states,
};
pub use reason::Reason;

/// Who is asking for access.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Principal {
    /// Login name.
    pub login: String,
    /// Email, if known.
    pub email: Option<String>,
    /// The principal's id in the ticketing system, if known; compared with the
    /// requester's id only under [`RequesterMatch::Id`].
    pub id: Option<String>,
}

impl Principal {
    /// A principal by login.
    pub fn new(login: impl Into<String>) -> Self {
        Principal {
            login: login.into(),
            email: None,
            id: None,
        }
    }

    /// Sets the email.
    #[must_use]
    pub fn email(mut self, email: impl Into<String>) -> Self {
        self.email = Some(email.into());
        self
    }

    /// Sets the principal's id in the ticketing system (for [`RequesterMatch::Id`]).
    #[must_use]
    pub fn id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(id.into());
        self
    }

    /// Whether `value` is this principal's login or email (case-insensitive).
    /// Used for the policy's own lists (exempt and break-glass principals).
    pub fn is(&self, value: &str) -> bool {
        let value = value.trim();
        !value.is_empty()
            && (same(&self.login, value) || self.email.as_deref().is_some_and(|e| same(e, value)))
    }

    /// Whether this principal is the ticket's requester `p`, comparing only the
    /// fields `how` names, each with its own kind: the principal's login with the
    /// requester's login, email with email, id with id. A login never matches an
    /// id or an email, so a numeric login cannot pass as a requester's internal id.
    pub fn is_requester(&self, p: &Person, how: &[RequesterMatch]) -> bool {
        how.iter().any(|m| {
            let (mine, theirs) = match m {
                RequesterMatch::Login => (Some(self.login.as_str()), p.login.as_deref()),
                RequesterMatch::Email => (self.email.as_deref(), p.email.as_deref()),
                RequesterMatch::Id => (self.id.as_deref(), p.id.as_deref()),
            };
            matches!((mine, theirs), (Some(a), Some(b)) if !a.trim().is_empty() && same(a, b))
        })
    }
}

/// Equal after trimming, ignoring ASCII case.
fn same(a: &str, b: &str) -> bool {
    a.trim().eq_ignore_ascii_case(b.trim())
}

/// One attempt at a privileged operation.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AccessAttempt {
    /// Who.
    pub principal: Principal,
    /// What (`connect`, `retrieve_password`, `reset_password`, …).
    pub operation: String,
    /// On what resource (host, account, asset name).
    pub resource: String,
    /// The resource's group, which selects the policy.
    pub resource_group: Option<String>,
    /// The ticket id as the user typed it.
    pub ticket_id: Option<String>,
    /// A break-glass reason, when the principal invokes break-glass.
    pub break_glass: Option<String>,
    /// When the attempt is made (ticket age is measured to it).
    pub at: SystemTime,
}

impl AccessAttempt {
    /// An attempt made now, without a ticket id.
    pub fn new(
        principal: Principal,
        operation: impl Into<String>,
        resource: impl Into<String>,
    ) -> Self {
        AccessAttempt {
            principal,
            operation: operation.into(),
            resource: resource.into(),
            resource_group: None,
            ticket_id: None,
            break_glass: None,
            at: SystemTime::now(),
        }
    }

    /// Sets the ticket id as typed.
    #[must_use]
    pub fn ticket(mut self, raw: impl Into<String>) -> Self {
        self.ticket_id = Some(raw.into());
        self
    }

    /// Sets the resource group.
    #[must_use]
    pub fn group(mut self, group: impl Into<String>) -> Self {
        self.resource_group = Some(group.into());
        self
    }

    /// Invokes break-glass with a reason.
    #[must_use]
    pub fn break_glass(mut self, reason: impl Into<String>) -> Self {
        self.break_glass = Some(reason.into());
        self
    }

    /// Sets the time of the attempt.
    #[must_use]
    pub fn at(mut self, at: SystemTime) -> Self {
        self.at = at;
        self
    }
}

/// The gate's answer.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Verdict {
    /// Whether access is released.
    pub allow: bool,
    /// Why: on a denial every failing rule; on an allowance what allowed it
    /// (and, for break-glass, what it overrode).
    pub reasons: Vec<Reason>,
    /// The ticket, when it was read.
    pub ticket: Option<Ticket>,
    /// The policy that applied: the resource group's (normalised) name, `default`,
    /// or `none` when the attempt named a group without a policy and unknown
    /// groups are denied.
    pub policy: String,
}

impl Verdict {
    /// The codes of the reasons, in order.
    pub fn codes(&self) -> Vec<&'static str> {
        self.reasons.iter().map(Reason::code).collect()
    }
}

/// Checks access attempts against ticket policies over a ticketing system.
#[derive(Debug, Clone)]
pub struct TicketGate {
    tickets: Arc<dyn TicketingSystem>,
    policies: GatePolicies,
    audit: Arc<dyn AuditSink>,
    deadline: Duration,
}

impl TicketGate {
    /// The default deadline for the ticket read of one check: 30 seconds.
    pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(30);

    /// A gate recording decisions to the tracing audit sink, with the
    /// [default deadline](Self::DEFAULT_DEADLINE).
    pub fn new(tickets: Arc<dyn TicketingSystem>, policies: impl Into<GatePolicies>) -> Self {
        TicketGate {
            tickets,
            policies: policies.into(),
            audit: Arc::new(TracingSink),
            deadline: Self::DEFAULT_DEADLINE,
        }
    }

    /// Sets the gate's own deadline for reading the ticket. When the ticketing
    /// system has not answered by then, the check stops waiting and denies with
    /// [`Reason::GateDeadline`] (whatever the policy's `fail_open`); the denial is
    /// audited like any other. The connector's own timeouts still apply inside it.
    #[must_use]
    pub fn with_deadline(mut self, deadline: Duration) -> Self {
        self.deadline = deadline;
        self
    }

    /// The gate's deadline for reading the ticket.
    pub fn deadline(&self) -> Duration {
        self.deadline
    }

    /// Records decisions to `sink` instead.
    #[must_use]
    pub fn with_audit(mut self, sink: Arc<dyn AuditSink>) -> Self {
        self.audit = sink;
        self
    }

    /// The policies.
    pub fn policies(&self) -> &GatePolicies {
        &self.policies
    }

    /// Decides an attempt; see the [module docs](self).
    pub async fn check(&self, attempt: &AccessAttempt) -> Verdict {
        let Some((name, policy)) = self.policies.for_group(attempt.resource_group.as_deref())
        else {
            return self.unknown_group(attempt);
        };
        let (mut reasons, ticket) = self.evaluate(name, policy, attempt).await;
        let mut allow = !reasons.iter().any(Reason::denies);
        if let (false, Some(why)) = (allow, &attempt.break_glass) {
            match break_glass(policy, attempt, &reasons, why) {
                Ok(r) => {
                    allow = true;
                    reasons.push(r);
                }
                Err(r) => reasons.push(r),
            }
        }
        let verdict = Verdict {
            allow,
            reasons,
            ticket,
            policy: name.to_owned(),
        };
        self.record(attempt, &verdict);
        verdict
    }

    /// The denial of an attempt naming a resource group without a policy, when
    /// unknown groups are denied. No policy applies, so none permits break-glass.
    fn unknown_group(&self, attempt: &AccessAttempt) -> Verdict {
        let group = attempt.resource_group.as_deref().unwrap_or_default();
        let mut reasons = vec![Reason::UnknownResourceGroup {
            group: truncate(group.trim(), 100),
        }];
        if attempt.break_glass.is_some() {
            reasons.push(Reason::BreakGlassRefused {
                why: "no policy covers the resource group, so none permits break-glass".into(),
            });
        }
        let verdict = Verdict {
            allow: false,
            reasons,
            ticket: None,
            policy: "none".into(),
        };
        self.record(attempt, &verdict);
        verdict
    }

    async fn evaluate(
        &self,
        name: &str,
        policy: &TicketPolicy,
        a: &AccessAttempt,
    ) -> (Vec<Reason>, Option<Ticket>) {
        if policy.exempt_principals.iter().any(|p| a.principal.is(p)) {
            return (vec![Reason::Exempt], None);
        }
        if policy
            .no_ticket_operations
            .iter()
            .any(|op| op.trim().eq_ignore_ascii_case(a.operation.trim()))
        {
            return (
                vec![Reason::NoTicketNeeded {
                    operation: a.operation.clone(),
                }],
                None,
            );
        }
        if !policy.enforce {
            return (
                vec![Reason::NotEnforced {
                    policy: name.to_owned(),
                }],
                None,
            );
        }
        let Some(raw) = a
            .ticket_id
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        else {
            return (vec![Reason::TicketMissing], None);
        };
        if let Some(Err(detail)) = policy.id_pattern.as_ref().map(|p| p.check(raw)) {
            return (vec![Reason::MalformedId { detail }], None);
        }
        let r = match self.tickets.parse_ticket_ref(raw) {
            Ok(r) => r,
            Err(e) => {
                return (
                    vec![Reason::MalformedId {
                        detail: clean(&e.to_string()),
                    }],
                    None,
                );
            }
        };
        // The gate's own deadline: a connector call that never returns must not
        // leave the check pending for ever.
        let Ok(answer) = tokio::time::timeout(self.deadline, self.tickets.get_ticket(&r)).await
        else {
            let deadline_ms = u64::try_from(self.deadline.as_millis()).unwrap_or(u64::MAX);
            return (vec![Reason::GateDeadline { deadline_ms }], None);
        };
        let ticket = match answer {
            Ok(Some(t)) => t,
            Ok(None) => return (vec![Reason::TicketNotFound], None),
            Err(e) if e.kind() == ErrorKind::NotFound => {
                return (vec![Reason::TicketNotFound], None);
            }
            Err(e) => {
                let mut reasons = vec![Reason::ItsmUnavailable {
                    kind: e.kind().to_string(),
                    detail: clean(&e.to_string()),
                }];
                if policy.fail_open {
                    reasons = vec![Reason::FailedOpen];
                }
                return (reasons, None);
            }
        };
        let mut reasons = rules(policy, a, &ticket);
        if reasons.is_empty() {
            reasons.push(Reason::TicketValid);
        }
        (reasons, Some(ticket))
    }

    fn record(&self, a: &AccessAttempt, v: &Verdict) {
        let reasons = serde_json::to_value(&v.reasons).unwrap_or(Value::Null);
        let mut event = AuditEvent::new(
            AuditAction::GateChecked,
            if v.allow {
                AuditOutcome::Allowed
            } else {
                AuditOutcome::Denied
            },
            self.tickets.info().into(),
        )
        .ticket(v.ticket.as_ref().map(|t| &t.reference))
        .detail("principal", a.principal.login.as_str())
        .detail("operation", a.operation.as_str())
        .detail("resource", a.resource.as_str())
        .detail("policy", v.policy.as_str())
        .detail("codes", v.codes())
        .detail("reasons", reasons);
        if let Some(raw) = &a.ticket_id {
            event = event.detail("ticket_id", truncate(raw.trim(), 64));
        }
        if let Some(group) = &a.resource_group {
            event = event.detail("resource_group", group.as_str());
        }
        emit(self.audit.as_ref(), &event);
    }
}

/// Every failing rule for a ticket that was found.
fn rules(policy: &TicketPolicy, a: &AccessAttempt, t: &Ticket) -> Vec<Reason> {
    let mut reasons = Vec::new();
    if !policy.allowed_kinds.is_empty() && !policy.allowed_kinds.contains(&t.kind) {
        reasons.push(Reason::WrongKind {
            kind: t.kind.clone(),
        });
    }
    if !policy.states_of(&t.kind).contains(&t.status.state) {
        reasons.push(Reason::StateNotAllowed {
            state: t.status.state,
            raw: t.status.raw.clone(),
        });
    }
    if policy.approval.requires(&t.kind) && t.approval_state() != ApprovalState::Approved {
        reasons.push(Reason::NotApproved {
            approval: t.approval_state(),
            raw: t.approval.as_ref().map(|x| x.raw.clone()),
        });
    }
    if policy.requester_must_match {
        let matched = t
            .requester
            .as_ref()
            .is_some_and(|p| a.principal.is_requester(p, &policy.requester_match));
        if !matched {
            let requester = t
                .requester
                .as_ref()
                .map(|p| person_label(p).to_owned())
                .filter(|s| !s.is_empty());
            reasons.push(Reason::RequesterMismatch { requester });
        }
    }
    if let Some(field) = &policy.resource_field {
        let value = t.extra.get(field).filter(|v| !v.is_null());
        if !value.is_some_and(|v| names(v, &a.resource)) {
            reasons.push(Reason::ResourceMismatch {
                field: field.clone(),
                found: value.map(|v| match v {
                    Value::String(s) => truncate(s, 100),
                    other => truncate(&other.to_string(), 100),
                }),
            });
        }
    }
    if let Some(max) = policy.max_age {
        match t.created {
            None => reasons.push(Reason::AgeUnknown),
            Some(created) => {
                // A creation time in the future (clock skew) counts as age zero.
                let age = a.at.duration_since(created).unwrap_or_default();
                if age > max {
                    reasons.push(Reason::TooOld {
                        age_secs: age.as_secs(),
                        max_secs: max.as_secs(),
                    });
                }
            }
        }
    }
    reasons
}

/// Whether a native field value names `resource`: a string or number equal to it
/// (case-insensitive), a list containing it, or a reference object (ServiceNow
/// `{display_value, value}`, a `{name, id}` asset) one of whose identifiers is it.
fn names(v: &Value, resource: &str) -> bool {
    let resource = resource.trim();
    match v {
        Value::String(s) => !resource.is_empty() && s.trim().eq_ignore_ascii_case(resource),
        Value::Number(n) => n.to_string() == resource,
        Value::Array(items) => items.iter().any(|i| names(i, resource)),
        Value::Object(map) => ["display_value", "value", "name", "id"]
            .iter()
            .filter_map(|k| map.get(*k))
            .any(|i| names(i, resource)),
        _ => false,
    }
}

fn break_glass(
    policy: &TicketPolicy,
    a: &AccessAttempt,
    reasons: &[Reason],
    why: &str,
) -> Result<Reason, Reason> {
    let rule = &policy.break_glass;
    let refuse = |why: &str| {
        Err(Reason::BreakGlassRefused {
            why: why.to_owned(),
        })
    };
    if !rule.enabled {
        return refuse("break-glass is not enabled by the policy");
    }
    if !rule.principals.is_empty() && !rule.principals.iter().any(|p| a.principal.is(p)) {
        return refuse("the principal may not break glass");
    }
    // Only visible characters count: twelve zero-width spaces are no reason.
    if text::visible_len(why) < rule.min_reason_len {
        return refuse(&format!(
            "a reason of at least {} visible characters is required",
            rule.min_reason_len
        ));
    }
    let unavailable = reasons.iter().any(|r| {
        matches!(
            r,
            Reason::ItsmUnavailable { .. } | Reason::GateDeadline { .. }
        )
    });
    if rule.scope == BreakGlassScope::ItsmUnavailable && !unavailable {
        return refuse("break-glass applies only when the ticketing system cannot be asked");
    }
    Ok(Reason::BreakGlass {
        reason: truncate(why.trim(), 500),
    })
}

fn clean(message: &str) -> String {
    truncate(&redact_text(message), 300)
}
