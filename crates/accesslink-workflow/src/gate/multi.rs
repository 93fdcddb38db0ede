//! Several service desks behind one gate: a typed id goes to the desk that claims it.

use std::sync::Arc;

use accesslink_core::redact::truncate;

use super::approve::{self, ApprovalDecision};
use super::policy::IdPattern;
use super::{AccessAttempt, GateConfigError, Reason, SessionLink, TicketGate, Verdict};
use crate::audit::{
    AuditAction, AuditEvent, AuditOutcome, AuditSink, ConnectorLabel, TracingSink, emit,
};

/// One service desk behind a [`MultiDeskGate`]: a name, a gate over its ticketing
/// system with its own policies, and optional claim patterns.
#[derive(Debug, Clone)]
pub struct Desk {
    name: String,
    gate: TicketGate,
    claims: Vec<IdPattern>,
}

impl Desk {
    /// A desk named `name` (unique within the gate) deciding with `gate`.
    pub fn new(name: impl Into<String>, gate: TicketGate) -> Self {
        Desk {
            name: name.into().trim().to_owned(),
            gate,
            claims: Vec::new(),
        }
    }

    /// Narrows which ids this desk claims: besides its connector's
    /// `parse_ticket_ref` accepting the id, one of these patterns must match.
    #[must_use]
    pub fn claims(mut self, patterns: impl IntoIterator<Item = IdPattern>) -> Self {
        self.claims = patterns.into_iter().collect();
        self
    }

    /// The desk's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The desk's gate.
    pub fn gate(&self) -> &TicketGate {
        &self.gate
    }

    /// Whether the desk claims `raw` (trimmed): its claim patterns, when it has
    /// any, match, and its connector parses it. The error says why not.
    pub fn claim(&self, raw: &str) -> Result<(), String> {
        let raw = raw.trim();
        if !self.claims.is_empty() {
            let mut why = Vec::new();
            for p in &self.claims {
                match p.check(raw) {
                    Ok(()) => {
                        why.clear();
                        break;
                    }
                    Err(e) => why.push(e),
                }
            }
            if !why.is_empty() {
                return Err(format!("no claim pattern matches ({})", why.join("; ")));
            }
        }
        self.gate
            .ticketing()
            .parse_ticket_ref(raw)
            .map(|_| ())
            .map_err(|e| truncate(&e.to_string(), 200))
    }
}

/// One gate over several service desks (ServiceNow for IT, Jira for engineering,
/// GLPI in a subsidiary, …), each with its own policies.
///
/// **Routing.** The id a user types goes to the desk that *claims* it
/// ([`Desk::claim`]: the desk's connector parses it and, when the desk has claim
/// patterns, one matches). Nothing in the router names a target: each connector's
/// own parser and the configured patterns decide.
///
/// - one desk claims it → that desk's gate decides;
/// - several claim it → the one listed first in the order
///   ([`with_order`](Self::with_order)) decides; when the order lists none of
///   them → denied with [`Reason::AmbiguousTicketId`];
/// - none claims it → denied with [`Reason::UnclaimedTicketId`], no request sent.
///
/// An attempt without a ticket id (an exempt principal, an operation without a
/// ticket) is checked by every desk and allowed only when every desk allows it.
/// Routing denials are audited as `gate_checked` with connector `multi-desk`;
/// break-glass cannot override them (no desk's policy applies).
#[derive(Debug, Clone)]
pub struct MultiDeskGate {
    desks: Vec<Desk>,
    order: Vec<String>,
    audit: Arc<dyn AuditSink>,
}

/// The label of routing decisions in audit events.
fn router() -> ConnectorLabel {
    ConnectorLabel::new("multi-desk", "router")
}

impl MultiDeskGate {
    /// A gate over `desks`, without an order, auditing routing denials to tracing.
    ///
    /// # Errors
    /// When there is no desk, or two desks have the same name (case-insensitive).
    pub fn new(desks: impl IntoIterator<Item = Desk>) -> Result<Self, GateConfigError> {
        let desks: Vec<Desk> = desks.into_iter().collect();
        if desks.is_empty() {
            return Err(GateConfigError::Invalid(
                "a multi-desk gate needs at least one desk".into(),
            ));
        }
        for (i, d) in desks.iter().enumerate() {
            if d.name.is_empty() {
                return Err(GateConfigError::Invalid(
                    "a desk name cannot be blank".into(),
                ));
            }
            if desks[..i]
                .iter()
                .any(|o| o.name.eq_ignore_ascii_case(&d.name))
            {
                return Err(GateConfigError::Invalid(format!(
                    "desk {:?} is listed twice",
                    d.name
                )));
            }
        }
        Ok(MultiDeskGate {
            desks,
            order: Vec::new(),
            audit: Arc::new(TracingSink),
        })
    }

    /// Sets the order that settles ids several desks claim (desk names, first wins).
    ///
    /// # Errors
    /// When the order names a desk the gate does not have, or one twice.
    pub fn with_order<S: Into<String>>(
        mut self,
        order: impl IntoIterator<Item = S>,
    ) -> Result<Self, GateConfigError> {
        let order: Vec<String> = order
            .into_iter()
            .map(|s| s.into().trim().to_owned())
            .collect();
        for (i, name) in order.iter().enumerate() {
            if !self.desks.iter().any(|d| d.name.eq_ignore_ascii_case(name)) {
                return Err(GateConfigError::Invalid(format!(
                    "the order names desk {name:?}, which is not configured"
                )));
            }
            if order[..i].iter().any(|o| o.eq_ignore_ascii_case(name)) {
                return Err(GateConfigError::Invalid(format!(
                    "the order names desk {name:?} twice"
                )));
            }
        }
        self.order = order;
        Ok(self)
    }

    /// Records routing denials and approval decisions to `sink` (each desk's gate
    /// keeps its own sink for its decisions).
    #[must_use]
    pub fn with_audit(mut self, sink: Arc<dyn AuditSink>) -> Self {
        self.audit = sink;
        self
    }

    /// The desks.
    pub fn desks(&self) -> &[Desk] {
        &self.desks
    }

    /// The desk that decides `raw`, or the routing denial.
    ///
    /// # Errors
    /// [`Reason::UnclaimedTicketId`] or [`Reason::AmbiguousTicketId`].
    pub fn route(&self, raw: &str) -> Result<&Desk, Reason> {
        let mut claimants = Vec::new();
        let mut refusals = Vec::new();
        for d in &self.desks {
            match d.claim(raw) {
                Ok(()) => claimants.push(d),
                Err(why) => refusals.push(format!("{}: {why}", d.name)),
            }
        }
        match claimants.as_slice() {
            [] => Err(Reason::UnclaimedTicketId {
                detail: truncate(&refusals.join("; "), 600),
            }),
            [one] => Ok(one),
            many => self
                .order
                .iter()
                .find_map(|o| many.iter().find(|d| d.name.eq_ignore_ascii_case(o)))
                .copied()
                .ok_or_else(|| Reason::AmbiguousTicketId {
                    desks: many.iter().map(|d| d.name.clone()).collect(),
                }),
        }
    }

    /// Decides an attempt: routed to one desk by its ticket id, or checked by every
    /// desk when it has none; see the [type docs](Self).
    pub async fn check(&self, a: &AccessAttempt) -> Verdict {
        let raw = a
            .ticket_id
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty());
        let Some(raw) = raw else {
            return self.check_everywhere(a).await;
        };
        match self.route(raw) {
            Ok(desk) => prefixed(desk, desk.gate.check(a).await),
            Err(reason) => self.routing_denial(a, reason),
        }
    }

    /// [`check`](Self::check), turned into an auto-approval decision
    /// ([`TicketGate::decide`]); audited as `approval_decided`.
    pub async fn decide(&self, a: &AccessAttempt) -> ApprovalDecision {
        let verdict = self.check(a).await;
        let decision = ApprovalDecision::from_verdict(&verdict);
        let label = match (
            &verdict.ticket,
            a.ticket_id.as_deref().map(|r| self.route(r)),
        ) {
            (Some(_), Some(Ok(desk))) => desk.gate.ticketing().info().into(),
            _ => router(),
        };
        approve::record(self.audit.as_ref(), label, a, &verdict, &decision);
        decision
    }

    /// Adds the session link to the ticket of an allowed verdict, through the desk
    /// the ticket id routes to; see [`TicketGate::link_session`].
    ///
    /// # Errors
    /// As [`TicketGate::link_session`]; `InvalidInput` when the id routes nowhere.
    pub async fn link_session(
        &self,
        a: &AccessAttempt,
        verdict: &Verdict,
        link: &SessionLink,
    ) -> accesslink_core::Result<bool> {
        let desk = a
            .ticket_id
            .as_deref()
            .ok_or(())
            .and_then(|raw| self.route(raw).map_err(|_| ()))
            .map_err(|()| {
                accesslink_core::Error::invalid_input("the attempt's ticket id routes to no desk")
            })?;
        desk.gate.link_session(a, verdict, link).await
    }

    async fn check_everywhere(&self, a: &AccessAttempt) -> Verdict {
        let mut out = Verdict {
            allow: true,
            reasons: Vec::new(),
            ticket: None,
            policy: String::new(),
            denied_by: Vec::new(),
        };
        let mut policies = Vec::new();
        let mut said = Vec::new();
        for d in &self.desks {
            let v = prefixed(d, d.gate.check(a).await);
            policies.push(v.policy.clone());
            said.push(v);
        }
        out.allow = said.iter().all(|v| v.allow);
        for v in said.iter().filter(|v| out.allow || !v.allow) {
            for r in &v.reasons {
                if !out.reasons.contains(r) {
                    out.reasons.push(r.clone());
                }
            }
            out.denied_by.extend(v.denied_by.iter().cloned());
        }
        out.policy = policies.join(" + ");
        out
    }

    fn routing_denial(&self, a: &AccessAttempt, reason: Reason) -> Verdict {
        let mut reasons = vec![reason];
        if a.break_glass.is_some() {
            reasons.push(Reason::BreakGlassRefused {
                why: "the ticket id routes to no service desk, so no policy permits break-glass"
                    .into(),
            });
        }
        let v = Verdict {
            allow: false,
            reasons,
            ticket: None,
            policy: "none".into(),
            denied_by: vec!["router".into()],
        };
        let event = AuditEvent::new(AuditAction::GateChecked, AuditOutcome::Denied, router())
            .detail("principal", a.principal.login.as_str())
            .detail("operation", a.operation.as_str())
            .detail("resource", a.resource.as_str())
            .detail("policy", "none")
            .detail("codes", v.codes())
            .detail(
                "reasons",
                serde_json::to_value(&v.reasons).unwrap_or_default(),
            )
            .detail(
                "ticket_id",
                truncate(a.ticket_id.as_deref().unwrap_or_default().trim(), 64),
            );
        emit(self.audit.as_ref(), &event);
        v
    }
}

/// The verdict with the desk's name before each policy name.
fn prefixed(desk: &Desk, mut v: Verdict) -> Verdict {
    let p = |s: &str| {
        s.split(" + ")
            .map(|x| format!("{}/{x}", desk.name))
            .collect::<Vec<_>>()
            .join(" + ")
    };
    v.policy = p(&v.policy);
    v.denied_by = v.denied_by.iter().map(|s| p(s)).collect();
    v
}
