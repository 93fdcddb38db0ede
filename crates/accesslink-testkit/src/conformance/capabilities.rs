//! Undeclared operations must fail with `Unsupported`, without a request.

use std::fmt;

use accesslink_core::{
    AccountChange, AccountId, AccountSpec, Capability, Comment, Connector, CorrelationId,
    EntitlementRef, EntitlementType, ErrorKind, NewTicket, PageRequest, Provisioner, Resolution,
    Result, TicketKind, TicketRef, TicketingSystem,
};

use super::cx::{Cx, short};
use super::suite::fresh_id;
use super::{Check, ConformanceFailure};

/// One trait method, tied to the capability that declares it.
#[derive(Debug, Clone, Copy)]
enum Op {
    CreateTicket,
    GetTicket,
    GetTickets,
    FindByCorrelation,
    AddComment,
    CloseTicket,
    ListAccounts,
    ListEntitlements,
    ListGrants,
    CreateAccount,
    UpdateAccount,
    SetEnabled,
    DeleteAccount,
    Grant,
    Revoke,
}

impl Op {
    const ALL: [Op; 15] = [
        Op::CreateTicket,
        Op::GetTicket,
        Op::GetTickets,
        Op::FindByCorrelation,
        Op::AddComment,
        Op::CloseTicket,
        Op::ListAccounts,
        Op::ListEntitlements,
        Op::ListGrants,
        Op::CreateAccount,
        Op::UpdateAccount,
        Op::SetEnabled,
        Op::DeleteAccount,
        Op::Grant,
        Op::Revoke,
    ];

    /// The capability that says the method works. `get_tickets` belongs to
    /// `GetTicket`: `BatchGetTickets` only says whether it takes one request.
    fn capability(self) -> Capability {
        match self {
            Op::CreateTicket => Capability::CreateTicket,
            Op::GetTicket | Op::GetTickets => Capability::GetTicket,
            Op::FindByCorrelation => Capability::FindByCorrelation,
            Op::AddComment => Capability::Comment,
            Op::CloseTicket => Capability::CloseTicket,
            Op::ListAccounts => Capability::ListAccounts,
            Op::ListEntitlements => Capability::ListEntitlements,
            Op::ListGrants => Capability::ListGrants,
            Op::CreateAccount => Capability::CreateAccount,
            Op::UpdateAccount => Capability::UpdateAccount,
            Op::SetEnabled => Capability::EnableDisable,
            Op::DeleteAccount => Capability::DeleteAccount,
            Op::Grant => Capability::Grant,
            Op::Revoke => Capability::Revoke,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Op::CreateTicket => "create_ticket",
            Op::GetTicket => "get_ticket",
            Op::GetTickets => "get_tickets",
            Op::FindByCorrelation => "find_by_correlation",
            Op::AddComment => "add_comment",
            Op::CloseTicket => "close_ticket",
            Op::ListAccounts => "list_accounts",
            Op::ListEntitlements => "list_entitlements",
            Op::ListGrants => "list_grants",
            Op::CreateAccount => "create_account",
            Op::UpdateAccount => "update_account",
            Op::SetEnabled => "set_enabled",
            Op::DeleteAccount => "delete_account",
            Op::Grant => "grant",
            Op::Revoke => "revoke",
        }
    }
}

/// A result already shortened to text, shown without quotes.
struct Shown(String);

impl fmt::Debug for Shown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whether a capability belongs to the ticketing side (`Some(true)`), the provisioning
/// side (`Some(false)`), or is one this suite does not know yet.
fn is_ticketing(cap: &Capability) -> Option<bool> {
    match cap {
        Capability::CreateTicket
        | Capability::GetTicket
        | Capability::BatchGetTickets
        | Capability::FindByCorrelation
        | Capability::Comment
        | Capability::CloseTicket => Some(true),
        Capability::ListAccounts
        | Capability::ListEntitlements
        | Capability::ListGrants
        | Capability::CreateAccount
        | Capability::UpdateAccount
        | Capability::EnableDisable
        | Capability::DeleteAccount
        | Capability::Grant
        | Capability::Revoke => Some(false),
        _ => None,
    }
}

/// Calls a ticketing method with harmless arguments; the result, shortened.
async fn call_ticketing(ts: &dyn TicketingSystem, op: Op) -> Result<String> {
    let r = TicketRef::by_id_and_number("1", "1");
    let probe = CorrelationId::new(fresh_id("accesslink-conformance-probe"));
    Ok(match op {
        Op::CreateTicket => {
            let kind = ts.info().ticket_kinds.first().cloned();
            let new = NewTicket::new(
                kind.unwrap_or(TicketKind::Incident),
                "accesslink conformance probe",
                "an undeclared operation must fail with Unsupported",
                probe,
            );
            short(&ts.create_ticket(&new).await?.reference)
        }
        Op::GetTicket => short(&ts.get_ticket(&r).await?.map(|t| t.reference)),
        Op::GetTickets => format!("{} ticket(s)", ts.get_tickets(&[r]).await?.len()),
        Op::FindByCorrelation => short(&ts.find_by_correlation(&probe).await?.map(|t| t.reference)),
        Op::AddComment => short(&ts.add_comment(&r, &Comment::internal("probe")).await?),
        Op::CloseTicket => short(
            &ts.close_ticket(&r, &Resolution::done("probe"))
                .await?
                .reference,
        ),
        _ => String::new(),
    })
}

/// Calls a provisioning method with harmless arguments (an account that does not
/// exist); the result, shortened.
async fn call_provisioning(p: &dyn Provisioner, op: Op) -> Result<String> {
    let id = AccountId::new("accesslink-conformance-absent");
    let ty = p.entitlement_types().first().cloned();
    let ty = ty.unwrap_or_else(EntitlementType::role);
    let e = EntitlementRef::new(ty.clone(), "accesslink-conformance-absent");
    let page = || PageRequest::first().size(1);
    Ok(match op {
        Op::ListAccounts => short(&p.list_accounts(page()).await?.items.len()),
        Op::ListEntitlements => short(&p.list_entitlements(&ty, page()).await?.items.len()),
        Op::ListGrants => short(&p.list_grants(&ty, page()).await?.items.len()),
        Op::CreateAccount => {
            let spec = AccountSpec::new(fresh_id("accesslink-conformance-probe"));
            short(&p.create_account(&spec).await?)
        }
        Op::UpdateAccount => short(&p.update_account(&id, &AccountChange::new()).await?.id),
        Op::SetEnabled => short(&p.set_enabled(&id, true).await?),
        Op::DeleteAccount => short(&p.delete_account(&id).await?),
        Op::Grant => short(&p.grant(&id, &e).await?),
        Op::Revoke => short(&p.revoke(&id, &e).await?),
        _ => String::new(),
    })
}

/// Every trait method whose capability the connector does not declare fails with
/// [`ErrorKind::Unsupported`] — never `Ok`, never a silent no-op — and decides so
/// without a request (capabilities are known locally). Every declared capability
/// belongs to a side the connector exposes (`as_ticketing()`, `as_provisioner()`).
///
/// `requests_seen` reads the backend's request count
/// (`&|| backend.requests_seen()`). Arguments are harmless: an account and an
/// entitlement that do not exist, ticket `1`, a fresh correlation id.
pub async fn unsupported_operations_declared(
    c: &dyn Connector,
    requests_seen: &(dyn Fn() -> usize + Sync),
) -> Result<(), ConformanceFailure> {
    let cx = Cx(Check::UnsupportedOperationsDeclared);
    let info = c.info();
    let (ts, p) = (c.as_ticketing(), c.as_provisioner());
    for cap in &info.capabilities {
        let (missing, side) = match is_ticketing(cap) {
            Some(true) => (ts.is_none(), "as_ticketing()"),
            Some(false) => (p.is_none(), "as_provisioner()"),
            None => (false, ""),
        };
        cx.ensure(
            !missing,
            &format!("declared capability {cap:?}"),
            format!("{side} to be Some"),
            || "None".into(),
        )?;
    }
    for op in Op::ALL {
        let cap = op.capability();
        if info.supports(&cap) {
            continue;
        }
        let before = requests_seen();
        let result = match (is_ticketing(&cap), ts, p) {
            (Some(true), Some(ts), _) => call_ticketing(ts, op).await,
            (Some(false), _, Some(p)) => call_provisioning(p, op).await,
            _ => continue,
        };
        let step = format!("{} without {cap:?}", op.name());
        let sent = requests_seen().saturating_sub(before);
        cx.err_kind(&step, result.map(Shown), ErrorKind::Unsupported)?;
        cx.ensure(sent == 0, &step, "no request", || {
            format!("{sent} request(s)")
        })?;
    }
    Ok(())
}
