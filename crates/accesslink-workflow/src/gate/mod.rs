//! The ticket gate: release privileged access only against a valid ticket.
//!
//! A user types a ticket id before a privileged operation; [`TicketGate::check`]
//! decides, in this order:
//!
//! 0. a super administrator ([`SuperAdmins`], the role `super_administrator` by
//!    default) is allowed ([`Reason::SuperAdmin`]) unless the exemption is off;
//!    every such use is audited as an `exemption_used` event;
//! 1. the policies that apply are chosen ([precedence](GatePolicies#precedence)): the resource
//!    group's policy (names normalised: trimmed, invisible characters removed,
//!    lower-cased) and the policy of each of the principal's user groups, or the
//!    default policy when none of those exists; a resource group without a policy
//!    is denied with [`Reason::UnknownResourceGroup`] when
//!    [`GatePolicies::deny_unknown_groups`](field@GatePolicies::deny_unknown_groups)
//!    is on;
//! 2. each applicable policy decides on its own: a principal it exempts is allowed
//!    ([`Reason::Exempt`]), as is an operation it allows without a ticket
//!    ([`Reason::NoTicketNeeded`]) and any attempt when it does not enforce
//!    validation; otherwise it needs the ticket:
//! 3. no id → deny; an id that fails a policy's [`IdPattern`] or the connector's
//!    `parse_ticket_ref` → deny with [`Reason::MalformedId`], **before any request**;
//! 4. `get_ticket` (once, whatever the number of policies): missing →
//!    [`Reason::TicketNotFound`]; an error → deny with [`Reason::ItsmUnavailable`]
//!    (fail closed) unless the policy fails open; no answer within the gate's
//!    deadline ([`TicketGate::with_deadline`], 30 s by default) → deny with
//!    [`Reason::GateDeadline`], always;
//! 5. every rule is evaluated and **every** failing one reported: kind, state for
//!    the kind, approval, requester (on the fields the policy's
//!    [`RequesterMatch`] list names, login only by default), resource field, age;
//! 6. the attempt is allowed only when every applicable policy allows it (a deny
//!    is never overridden by a looser policy); [`Verdict::denied_by`](field@Verdict::denied_by)
//!    names the policies that denied;
//! 7. a denied attempt that carries a break-glass reason is allowed when the
//!    [`BreakGlassRule`] of **every** denying policy permits it — the denial
//!    reasons stay in the verdict, with [`Reason::BreakGlass`] added — or gets
//!    [`Reason::BreakGlassRefused`].
//!
//! Every decision is recorded as a `gate_checked` audit event. On top of the gate:
//! [`TicketGate::decide`] turns a verdict into an auto-approval decision,
//! [`TicketGate::link_session`] comments an allowed session's link on the ticket
//! once, [`DecisionCache`] reuses allows for a short time in session storms, and
//! [`MultiDeskGate`] puts several service desks behind one gate.

mod approve;
mod cache;
mod evaluate;
mod file;
mod link;
mod multi;
mod policy;
mod reason;
mod rules;
pub(crate) mod schema;
mod scope;
mod text;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use accesslink_core::{Person, Ticket, TicketingSystem};

use crate::audit::{AuditSink, TracingSink};

pub use approve::ApprovalDecision;
pub use cache::DecisionCache;
pub use file::{DeskConfig, GateConfig, GateConfigError};
pub use link::SessionLink;
pub use multi::{Desk, MultiDeskGate};
pub use policy::{
    ApprovalRule, BreakGlassRule, BreakGlassScope, Charset, IdPattern, KindStates, RequesterMatch,
    TicketPolicy, open_states,
};
pub use reason::Reason;
pub use scope::{GatePolicies, SuperAdmins};

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
    /// The user groups the principal belongs to in the IAM product; they select
    /// user-group policies ([`GatePolicies::user_group`]) and may make the principal
    /// a super administrator ([`SuperAdmins::groups`](field@SuperAdmins::groups)).
    pub groups: Vec<String>,
    /// The principal's roles in the IAM product; they may make the principal a
    /// super administrator ([`SuperAdmins::roles`](field@SuperAdmins::roles)).
    pub roles: Vec<String>,
}

impl Principal {
    /// A principal by login.
    pub fn new(login: impl Into<String>) -> Self {
        Principal {
            login: login.into(),
            email: None,
            id: None,
            groups: Vec::new(),
            roles: Vec::new(),
        }
    }

    /// Sets the user groups.
    #[must_use]
    pub fn groups<S: Into<String>>(mut self, groups: impl IntoIterator<Item = S>) -> Self {
        self.groups = groups.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the roles.
    #[must_use]
    pub fn roles<S: Into<String>>(mut self, roles: impl IntoIterator<Item = S>) -> Self {
        self.roles = roles.into_iter().map(Into::into).collect();
        self
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
    /// The policies that applied, joined with ` + `: the resource group's
    /// (normalised) name, `user_group:<name>` for each user group's, `default`;
    /// `super_admins` for a super administrator; `none` when the attempt named a
    /// group without a policy and unknown groups are denied; behind a
    /// [`MultiDeskGate`], prefixed with the desk (`servicenow/prod`).
    pub policy: String,
    /// The policies that denied the attempt (empty when it is allowed, also by
    /// break-glass: then it names those whose denial was overridden).
    pub denied_by: Vec<String>,
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
    cache: Option<Arc<DecisionCache>>,
    links: Arc<link::Ledger>,
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
            cache: None,
            links: Arc::default(),
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

    /// Reuses allows for a short time and shares concurrent reads of the same
    /// ticket; see [`DecisionCache`].
    #[must_use]
    pub fn with_cache(mut self, cache: DecisionCache) -> Self {
        self.cache = Some(Arc::new(cache));
        self
    }

    /// The decision cache, when the gate has one.
    pub fn cache(&self) -> Option<&DecisionCache> {
        self.cache.as_deref()
    }

    /// The ticketing system behind the gate.
    pub fn ticketing(&self) -> &Arc<dyn TicketingSystem> {
        &self.tickets
    }

    /// The policies.
    pub fn policies(&self) -> &GatePolicies {
        &self.policies
    }

    /// Decides an attempt; see the [module docs](self). Every decision is audited
    /// (`gate_checked`; a super administrator's also as `exemption_used`).
    pub async fn check(&self, attempt: &AccessAttempt) -> Verdict {
        if let Some(v) = self.cache.as_ref().and_then(|c| c.get(attempt)) {
            self.record(attempt, &v, true);
            return v;
        }
        let (verdict, window_end) = self.evaluate(attempt).await;
        if let Some(cache) = &self.cache {
            cache.offer(attempt, &verdict, window_end);
        }
        self.record(attempt, &verdict, false);
        verdict
    }
}
