//! One check: the applicable policies, one ticket read, every policy's reasons,
//! combined so that a deny always stands.

use std::time::SystemTime;

use accesslink_core::redact::truncate;
use accesslink_core::{ErrorKind, Ticket, TicketRef};
use serde_json::Value;

use super::rules::{break_glass, clean, rules};
use super::scope::Applied;
use super::{AccessAttempt, Reason, TicketGate, Verdict};
use crate::audit::{AuditAction, AuditEvent, AuditOutcome, emit};

/// What reading the ticket gave, shared by every policy that needs it.
#[derive(Debug, Clone)]
pub(super) enum Read {
    /// No id was typed.
    Missing,
    /// The connector refused the id.
    Malformed(String),
    /// The gate's deadline passed.
    Deadline(u64),
    /// The ticketing system failed (kind, redacted detail).
    Failed(ErrorKind, String),
    /// No such ticket.
    NotFound,
    /// The ticket.
    Found(Box<Ticket>),
}

/// What one policy said.
struct Said {
    label: String,
    reasons: Vec<Reason>,
}

impl Said {
    fn denies(&self) -> bool {
        self.reasons.iter().any(Reason::denies)
    }
}

impl TicketGate {
    /// Decides an attempt, uncached; also returns when the ticket's window ends
    /// (the earliest `created + max_age` of the policies that read it), for the cache.
    pub(super) async fn evaluate(&self, a: &AccessAttempt) -> (Verdict, Option<SystemTime>) {
        if let Some(via) = self.policies.super_admins.exempting(&a.principal) {
            self.record_exemption(a, &via);
            return (
                verdict(true, vec![Reason::SuperAdmin { via }], None, "super_admins"),
                None,
            );
        }
        let Ok(applied) = self
            .policies
            .applicable(a.resource_group.as_deref(), &a.principal.groups)
        else {
            return (unknown_group(a), None);
        };
        let mut said = Vec::new();
        let mut needing = Vec::new();
        for ap in &applied {
            match before_ticket(ap, a) {
                Some(reasons) => said.push(Said {
                    label: ap.label(),
                    reasons,
                }),
                None => needing.push(*ap),
            }
        }
        let mut ticket = None;
        let mut window_end = None;
        if !needing.is_empty() {
            let read = self.read(&needing, a, &mut said).await;
            for ap in &needing {
                let reasons = match &read {
                    Ok(read) => after_read(ap, a, read),
                    Err(refused_by) if refused_by.contains(&ap.label()) => continue,
                    // No ticket is read for an id an applicable policy refuses, so
                    // this policy validated nothing: it denies too (and must permit
                    // break-glass on its own for an override).
                    Err(refused_by) => vec![Reason::MalformedId {
                        detail: format!("refused by the id pattern of {}", refused_by.join(", ")),
                    }],
                };
                said.push(Said {
                    label: ap.label(),
                    reasons,
                });
            }
            if let Ok(Read::Found(t)) = read {
                window_end = needing
                    .iter()
                    .filter_map(|ap| ap.policy.max_age)
                    .filter_map(|max| t.created.map(|c| c + max))
                    .min();
                ticket = Some(*t);
            }
        }
        // Reasons in the order of the policies (resource group first).
        said.sort_by_key(|s| applied.iter().position(|ap| ap.label() == s.label));
        let label = applied
            .iter()
            .map(Applied::label)
            .collect::<Vec<_>>()
            .join(" + ");
        let mut v = combine(&said, ticket, &label);
        if let (false, Some(why)) = (v.allow, &a.break_glass) {
            // Every denying policy must permit break-glass on its own reasons.
            let verdicts: Vec<Result<Reason, Reason>> = said
                .iter()
                .filter(|s| s.denies())
                .map(|s| {
                    let ap = applied.iter().find(|ap| ap.label() == s.label);
                    let policy = ap.map_or(&self.policies.default, |ap| ap.policy);
                    break_glass(policy, a, &s.reasons, why)
                })
                .collect();
            match verdicts.iter().find_map(|r| r.as_ref().err()) {
                Some(refused) => v.reasons.push(refused.clone()),
                None => {
                    if let Some(Ok(granted)) = verdicts.into_iter().next() {
                        v.allow = true;
                        v.reasons.push(granted);
                    }
                }
            }
        }
        (v, window_end)
    }

    /// Checks the id against the patterns of the policies that need a ticket, parses
    /// it and reads the ticket once. `Err` with the refusing policies' labels when a
    /// policy's id pattern refused the id (their reasons are pushed to `said`;
    /// nothing is read).
    async fn read(
        &self,
        needing: &[Applied<'_>],
        a: &AccessAttempt,
        said: &mut Vec<Said>,
    ) -> Result<Read, Vec<String>> {
        let Some(raw) = a
            .ticket_id
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        else {
            return Ok(Read::Missing);
        };
        let mut refused_by = Vec::new();
        for ap in needing {
            if let Some(Err(detail)) = ap.policy.id_pattern.as_ref().map(|p| p.check(raw)) {
                refused_by.push(ap.label());
                said.push(Said {
                    label: ap.label(),
                    reasons: vec![Reason::MalformedId { detail }],
                });
            }
        }
        if !refused_by.is_empty() {
            return Err(refused_by);
        }
        let r = match self.tickets.parse_ticket_ref(raw) {
            Ok(r) => r,
            Err(e) => return Ok(Read::Malformed(clean(&e.to_string()))),
        };
        Ok(self.fetch(&r).await)
    }

    /// Reads a ticket within the gate's deadline; concurrent reads of the same
    /// ticket are shared when the gate has a cache.
    pub(super) async fn fetch(&self, r: &TicketRef) -> Read {
        let get = async {
            match &self.cache {
                Some(cache) => cache.shared_read(self.tickets.as_ref(), r).await,
                None => to_read(self.tickets.get_ticket(r).await),
            }
        };
        // The gate's own deadline: a connector call that never returns must not
        // leave the check pending for ever.
        match tokio::time::timeout(self.deadline, get).await {
            Ok(read) => read,
            Err(_) => Read::Deadline(u64::try_from(self.deadline.as_millis()).unwrap_or(u64::MAX)),
        }
    }

    fn record_exemption(&self, a: &AccessAttempt, via: &str) {
        let event = AuditEvent::new(
            AuditAction::ExemptionUsed,
            AuditOutcome::Allowed,
            self.tickets.info().into(),
        )
        .detail("principal", a.principal.login.as_str())
        .detail("operation", a.operation.as_str())
        .detail("resource", a.resource.as_str())
        .detail("via", via);
        emit(self.audit.as_ref(), &event);
    }

    pub(super) fn record(&self, a: &AccessAttempt, v: &Verdict, cached: bool) {
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
        if !v.denied_by.is_empty() {
            event = event.detail("denied_by", v.denied_by.clone());
        }
        if cached {
            event = event.detail("cached", true);
        }
        if let Some(raw) = &a.ticket_id {
            event = event.detail("ticket_id", truncate(raw.trim(), 64));
        }
        if let Some(group) = &a.resource_group {
            event = event.detail("resource_group", group.as_str());
        }
        if !a.principal.groups.is_empty() {
            event = event.detail("user_groups", a.principal.groups.clone());
        }
        emit(self.audit.as_ref(), &event);
    }
}

/// A connector answer as a [`Read`].
pub(super) fn to_read(answer: accesslink_core::Result<Option<Ticket>>) -> Read {
    match answer {
        Ok(Some(t)) => Read::Found(Box::new(t)),
        Ok(None) => Read::NotFound,
        Err(e) if e.kind() == ErrorKind::NotFound => Read::NotFound,
        Err(e) => Read::Failed(e.kind(), clean(&e.to_string())),
    }
}

/// What a policy decides without the ticket, if anything.
fn before_ticket(ap: &Applied<'_>, a: &AccessAttempt) -> Option<Vec<Reason>> {
    let policy = ap.policy;
    if policy.exempt_principals.iter().any(|p| a.principal.is(p)) {
        return Some(vec![Reason::Exempt]);
    }
    if policy
        .no_ticket_operations
        .iter()
        .any(|op| op.trim().eq_ignore_ascii_case(a.operation.trim()))
    {
        return Some(vec![Reason::NoTicketNeeded {
            operation: a.operation.clone(),
        }]);
    }
    if !policy.enforce {
        return Some(vec![Reason::NotEnforced { policy: ap.label() }]);
    }
    None
}

/// What a policy that needs the ticket says about the read.
fn after_read(ap: &Applied<'_>, a: &AccessAttempt, read: &Read) -> Vec<Reason> {
    match read {
        Read::Missing => vec![Reason::TicketMissing],
        Read::Malformed(detail) => vec![Reason::MalformedId {
            detail: detail.clone(),
        }],
        Read::Deadline(deadline_ms) => vec![Reason::GateDeadline {
            deadline_ms: *deadline_ms,
        }],
        Read::NotFound => vec![Reason::TicketNotFound],
        Read::Failed(_, _) if ap.policy.fail_open => vec![Reason::FailedOpen],
        Read::Failed(kind, detail) => vec![Reason::ItsmUnavailable {
            kind: kind.to_string(),
            detail: detail.clone(),
        }],
        Read::Found(t) => {
            let mut reasons = rules(ap.policy, a, t);
            if reasons.is_empty() {
                reasons.push(Reason::TicketValid);
            }
            reasons
        }
    }
}

/// Allowed only when no policy denies; reasons of every policy, each once.
fn combine(said: &[Said], ticket: Option<Ticket>, label: &str) -> Verdict {
    let denied_by: Vec<String> = said
        .iter()
        .filter(|s| s.denies())
        .map(|s| s.label.clone())
        .collect();
    let allow = denied_by.is_empty();
    let mut reasons: Vec<Reason> = Vec::new();
    // On a denial, the denying reasons only: what a looser policy allowed is beside
    // the point.
    for s in said.iter().filter(|s| allow || s.denies()) {
        for r in &s.reasons {
            if !reasons.contains(r) {
                reasons.push(r.clone());
            }
        }
    }
    let mut v = verdict(allow, reasons, ticket, label);
    v.denied_by = denied_by;
    v
}

fn verdict(allow: bool, reasons: Vec<Reason>, ticket: Option<Ticket>, policy: &str) -> Verdict {
    Verdict {
        allow,
        reasons,
        ticket,
        policy: policy.to_owned(),
        denied_by: Vec::new(),
    }
}

/// The denial of an attempt naming a resource group without a policy, when
/// unknown groups are denied. No policy applies, so none permits break-glass.
fn unknown_group(a: &AccessAttempt) -> Verdict {
    let group = a.resource_group.as_deref().unwrap_or_default();
    let mut reasons = vec![Reason::UnknownResourceGroup {
        group: truncate(group.trim(), 100),
    }];
    if a.break_glass.is_some() {
        reasons.push(Reason::BreakGlassRefused {
            why: "no policy covers the resource group, so none permits break-glass".into(),
        });
    }
    let mut v = verdict(false, reasons, None, "none");
    v.denied_by = vec!["none".into()];
    v
}
