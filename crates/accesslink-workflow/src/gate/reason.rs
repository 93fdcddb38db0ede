//! Why the gate decided as it did: machine-readable codes with human messages.

use std::fmt;

use accesslink_core::{ApprovalState, TicketKind, TicketState};
use serde::{Deserialize, Serialize};

/// One reason behind a [`Verdict`](super::Verdict). Serialised with a `code` tag
/// (`{"code":"state_not_allowed","state":"closed","raw":"closed successful"}`);
/// [`Display`](fmt::Display) gives the sentence for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Reason {
    /// The principal is exempt from ticket validation by a policy's own
    /// `exempt_principals` list.
    Exempt,
    /// The principal is a super administrator, exempt from ticket validation
    /// ([`SuperAdmins`](super::SuperAdmins)); the use is audited.
    SuperAdmin {
        /// What made the principal one: `role:<name>` or `group:<name>`.
        via: String,
    },
    /// The operation is allowed without a ticket (retrieve or reset a password).
    NoTicketNeeded {
        /// The operation.
        operation: String,
    },
    /// The resource group's policy does not enforce ticket validation.
    NotEnforced {
        /// The policy (resource group) that applied.
        policy: String,
    },
    /// The ticket passed every rule.
    TicketValid,
    /// Allowed by break-glass despite the other reasons; the principal's reason is kept.
    BreakGlass {
        /// The reason the principal gave.
        reason: String,
    },
    /// The ticketing system could not be asked and the policy fails open.
    FailedOpen,
    /// No ticket id was given.
    TicketMissing,
    /// The ticket id is malformed; no request was made.
    MalformedId {
        /// What is wrong with it.
        detail: String,
    },
    /// No ticket has this id.
    TicketNotFound,
    /// The ticketing system could not be asked (unreachable, refused, timed out).
    ItsmUnavailable {
        /// The error kind (`unavailable`, `timeout`, `unauthenticated`, …).
        kind: String,
        /// The error, redacted.
        detail: String,
    },
    /// The ticketing system did not answer within the gate's deadline
    /// ([`TicketGate::with_deadline`](super::TicketGate::with_deadline)).
    GateDeadline {
        /// The deadline, in milliseconds.
        deadline_ms: u64,
    },
    /// The ticket's kind is not accepted.
    WrongKind {
        /// The ticket's kind.
        kind: TicketKind,
    },
    /// The ticket's state is not accepted for its kind.
    StateNotAllowed {
        /// The normalised state.
        state: TicketState,
        /// The target's own state value.
        raw: String,
    },
    /// The ticket needs an approved change or request, and is not approved.
    NotApproved {
        /// The normalised approval state.
        approval: ApprovalState,
        /// The target's own approval value, if any.
        raw: Option<String>,
    },
    /// The ticket's requester is not the principal.
    RequesterMismatch {
        /// Who the ticket names as requester, if anyone.
        requester: Option<String>,
    },
    /// The ticket's asset field does not name the resource.
    ResourceMismatch {
        /// The ticket field checked.
        field: String,
        /// What the field holds, if anything.
        found: Option<String>,
    },
    /// The ticket is older than the policy allows.
    TooOld {
        /// The ticket's age in seconds.
        age_secs: u64,
        /// The maximum age in seconds.
        max_secs: u64,
    },
    /// The policy limits the ticket's age, but the ticket has no creation time.
    AgeUnknown,
    /// The attempt names a resource group that has no policy, and the policies
    /// deny unknown groups.
    UnknownResourceGroup {
        /// The group as the attempt named it (trimmed, at most 100 characters).
        group: String,
    },
    /// No service desk behind a [`MultiDeskGate`](super::MultiDeskGate) claims the
    /// ticket id.
    UnclaimedTicketId {
        /// What each desk said.
        detail: String,
    },
    /// Several service desks claim the ticket id and the configured order ranks
    /// none of them.
    AmbiguousTicketId {
        /// The desks that claim it.
        desks: Vec<String>,
    },
    /// Break-glass was asked for and refused.
    BreakGlassRefused {
        /// Why.
        why: String,
    },
}

impl Reason {
    /// The machine-readable code (`state_not_allowed`), as serialised.
    pub fn code(&self) -> &'static str {
        match self {
            Reason::Exempt => "exempt",
            Reason::SuperAdmin { .. } => "super_admin",
            Reason::UnclaimedTicketId { .. } => "unclaimed_ticket_id",
            Reason::AmbiguousTicketId { .. } => "ambiguous_ticket_id",
            Reason::NoTicketNeeded { .. } => "no_ticket_needed",
            Reason::NotEnforced { .. } => "not_enforced",
            Reason::TicketValid => "ticket_valid",
            Reason::BreakGlass { .. } => "break_glass",
            Reason::FailedOpen => "failed_open",
            Reason::TicketMissing => "ticket_missing",
            Reason::MalformedId { .. } => "malformed_id",
            Reason::TicketNotFound => "ticket_not_found",
            Reason::ItsmUnavailable { .. } => "itsm_unavailable",
            Reason::GateDeadline { .. } => "gate_deadline",
            Reason::WrongKind { .. } => "wrong_kind",
            Reason::StateNotAllowed { .. } => "state_not_allowed",
            Reason::NotApproved { .. } => "not_approved",
            Reason::RequesterMismatch { .. } => "requester_mismatch",
            Reason::ResourceMismatch { .. } => "resource_mismatch",
            Reason::TooOld { .. } => "too_old",
            Reason::AgeUnknown => "age_unknown",
            Reason::BreakGlassRefused { .. } => "break_glass_refused",
            Reason::UnknownResourceGroup { .. } => "unknown_resource_group",
        }
    }

    /// Whether this reason, on its own, denies access.
    pub fn denies(&self) -> bool {
        !matches!(
            self,
            Reason::Exempt
                | Reason::SuperAdmin { .. }
                | Reason::NoTicketNeeded { .. }
                | Reason::NotEnforced { .. }
                | Reason::TicketValid
                | Reason::BreakGlass { .. }
                | Reason::FailedOpen
        )
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::Exempt => f.write_str("the principal is exempt from ticket validation"),
            Reason::SuperAdmin { via } => write!(
                f,
                "the principal is a super administrator ({via}), exempt from ticket validation"
            ),
            Reason::UnclaimedTicketId { detail } => {
                write!(f, "no service desk claims the ticket id: {detail}")
            }
            Reason::AmbiguousTicketId { desks } => write!(
                f,
                "service desks {desks:?} all claim the ticket id and no order ranks them"
            ),
            Reason::NoTicketNeeded { operation } => {
                write!(f, "operation {operation:?} is allowed without a ticket")
            }
            Reason::NotEnforced { policy } => {
                write!(f, "ticket validation is not enforced by policy {policy:?}")
            }
            Reason::TicketValid => f.write_str("the ticket satisfies every rule of the policy"),
            Reason::BreakGlass { reason } => write!(f, "break-glass access: {reason}"),
            Reason::FailedOpen => {
                f.write_str("the ticketing system could not be asked and the policy fails open")
            }
            Reason::TicketMissing => f.write_str("a ticket id is required"),
            Reason::MalformedId { detail } => write!(f, "the ticket id is malformed: {detail}"),
            Reason::TicketNotFound => f.write_str("no ticket has this id"),
            Reason::ItsmUnavailable { kind, detail } => {
                write!(
                    f,
                    "the ticketing system could not be asked ({kind}): {detail}"
                )
            }
            Reason::GateDeadline { deadline_ms } => write!(
                f,
                "the ticketing system did not answer within the gate's deadline of {deadline_ms} ms"
            ),
            Reason::WrongKind { kind } => write!(f, "tickets of kind {kind} are not accepted"),
            Reason::StateNotAllowed { state, raw } => {
                write!(
                    f,
                    "the ticket is {state} ({raw:?}), which is not an allowed state"
                )
            }
            Reason::NotApproved { approval, raw } => {
                write!(f, "the ticket is not approved (approval {approval}")?;
                match raw {
                    Some(raw) => write!(f, ", {raw:?})"),
                    None => f.write_str(")"),
                }
            }
            Reason::RequesterMismatch { requester: Some(r) } => {
                write!(f, "the ticket was requested by {r:?}, not by the principal")
            }
            Reason::RequesterMismatch { requester: None } => {
                f.write_str("the ticket names no requester, so it cannot be the principal's")
            }
            Reason::ResourceMismatch {
                field,
                found: Some(found),
            } => write!(
                f,
                "the ticket's {field} is {found:?}, not the resource accessed"
            ),
            Reason::ResourceMismatch { field, found: None } => {
                write!(f, "the ticket has no {field}, so it names no resource")
            }
            Reason::TooOld { age_secs, max_secs } => write!(
                f,
                "the ticket is {age_secs} s old; the policy allows at most {max_secs} s"
            ),
            Reason::AgeUnknown => {
                f.write_str("the ticket has no creation time, so its age cannot be checked")
            }
            Reason::BreakGlassRefused { why } => write!(f, "break-glass refused: {why}"),
            Reason::UnknownResourceGroup { group } => write!(
                f,
                "resource group {group:?} has no policy, and unknown groups are denied"
            ),
        }
    }
}
