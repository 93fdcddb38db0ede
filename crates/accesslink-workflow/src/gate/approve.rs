//! Auto-approval by ticket (PAM360's "approve access requests by validating the
//! service request ticket ID"): a verdict turned into a decision an approval
//! workflow can act on.

use accesslink_core::{Ticket, TicketRef};
use serde_json::Value;

use super::{AccessAttempt, Reason, TicketGate, Verdict};
use crate::audit::{AuditAction, AuditEvent, AuditOutcome, AuditSink, emit};

/// What an IAM product's approval workflow should do with an access request.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ApprovalDecision {
    /// Approve automatically: the ticket was read and satisfies every applicable
    /// policy.
    AutoApprove {
        /// The validated ticket.
        ticket: Box<Ticket>,
    },
    /// Route to people for approval. Also when the gate allowed without a
    /// validated ticket (super administrator, exemption, operation without a
    /// ticket, enforcement off, break-glass, fail-open): auto-approval needs a
    /// ticket that validates, so those reasons are listed here instead.
    ManualApproval {
        /// Why the request could not be approved automatically.
        reasons: Vec<Reason>,
        /// The ticket, when one was read.
        ticket: Option<TicketRef>,
    },
}

impl ApprovalDecision {
    /// From a verdict: auto-approve only a validated ticket.
    pub fn from_verdict(v: &Verdict) -> Self {
        let validated = v.allow
            && v.reasons.contains(&Reason::TicketValid)
            && !v
                .reasons
                .iter()
                .any(|r| matches!(r, Reason::BreakGlass { .. } | Reason::FailedOpen));
        match (&v.ticket, validated) {
            (Some(t), true) => ApprovalDecision::AutoApprove {
                ticket: Box::new(t.clone()),
            },
            (t, _) => ApprovalDecision::ManualApproval {
                reasons: v.reasons.clone(),
                ticket: t.as_ref().map(|t| t.reference.clone()),
            },
        }
    }

    /// Whether the request is approved automatically.
    pub fn is_auto(&self) -> bool {
        matches!(self, ApprovalDecision::AutoApprove { .. })
    }
}

impl TicketGate {
    /// Checks the attempt (audited as `gate_checked`) and decides whether its
    /// access request can be approved automatically; the decision is audited as
    /// `approval_decided` with the ticket (outcome `allowed` for auto-approval,
    /// `pending` for manual approval).
    pub async fn decide(&self, attempt: &AccessAttempt) -> ApprovalDecision {
        let verdict = self.check(attempt).await;
        let decision = ApprovalDecision::from_verdict(&verdict);
        record(
            self.audit.as_ref(),
            self.tickets.info().into(),
            attempt,
            &verdict,
            &decision,
        );
        decision
    }
}

pub(super) fn record(
    sink: &dyn AuditSink,
    connector: crate::audit::ConnectorLabel,
    a: &AccessAttempt,
    v: &Verdict,
    d: &ApprovalDecision,
) {
    let (outcome, name) = if d.is_auto() {
        (AuditOutcome::Allowed, "auto_approve")
    } else {
        (AuditOutcome::Pending, "manual_approval")
    };
    let event = AuditEvent::new(AuditAction::ApprovalDecided, outcome, connector)
        .ticket(v.ticket.as_ref().map(|t| &t.reference))
        .detail("decision", name)
        .detail("principal", a.principal.login.as_str())
        .detail("operation", a.operation.as_str())
        .detail("resource", a.resource.as_str())
        .detail("policy", v.policy.as_str())
        .detail("codes", v.codes())
        .detail(
            "reasons",
            serde_json::to_value(&v.reasons).unwrap_or(Value::Null),
        );
    emit(sink, &event);
}
