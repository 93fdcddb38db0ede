//! The rules a found ticket is checked against, and break-glass.

use accesslink_core::redact::{redact_text, truncate};
use accesslink_core::{ApprovalState, Ticket};
use serde_json::Value;

use super::policy::{BreakGlassScope, TicketPolicy};
use super::{AccessAttempt, Reason, text};
use crate::fulfil::person_label;

/// Every failing rule for a ticket that was found.
pub(super) fn rules(policy: &TicketPolicy, a: &AccessAttempt, t: &Ticket) -> Vec<Reason> {
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

pub(super) fn break_glass(
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

pub(super) fn clean(message: &str) -> String {
    truncate(&redact_text(message), 300)
}
