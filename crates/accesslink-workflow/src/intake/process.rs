//! One ticket: markers, comment sync, mapping, the SoD check, provisioning, closing.

use std::cell::Cell;
use std::collections::{BTreeSet, HashMap};

use accesslink_core::paging::{self, PagingOptions};
use accesslink_core::{
    AccountId, AccountSpec, Comment, ConnectorInfo, CreateOutcome, EntitlementRef, EntitlementType,
    Error, GrantOutcome, Provisioner, RequestId, Resolution, Ticket, TicketComment, TicketRef,
};
use futures::TryStreamExt;

use super::config::{OnConflict, OnMappingError};
use super::map::{MapError, Mapped};
use super::marker::{self, Mark};
use super::{
    InboundComment, Intake, IntakeStatus, Source, SourceReport, SourceState, TicketOutcome,
};
use crate::audit::{AuditAction, AuditEvent, AuditOutcome, ConnectorLabel, emit};
use crate::fulfil::{ErrorInfo, error_detail};

/// Adds a ticket to the list read again at the next poll.
pub(super) fn recheck(state: &mut SourceState, r: &TicketRef) {
    if !state.retry.iter().any(|x| same_ref(x, r)) {
        state.retry.push(r.clone());
    }
}

/// Whether two references name the same ticket.
pub(super) fn same_ref(a: &TicketRef, b: &TicketRef) -> bool {
    (a.id().is_some() && a.id() == b.id()) || (a.number().is_some() && a.number() == b.number())
}

fn ticket_key(r: &TicketRef) -> String {
    r.id().or(r.number()).unwrap_or_default().to_owned()
}

/// What the beneficiaries of one application hold, read once per poll (all accounts,
/// to match logins to account ids, and all grants of the type) and kept up to date
/// with the grants the poll makes.
#[derive(Debug, Default)]
pub(super) struct GrantCache {
    /// Application → account id → login (lower case).
    logins: HashMap<String, HashMap<AccountId, String>>,
    /// (application, entitlement type) → login (lower case) → entitlement ids.
    held: HashMap<(String, String), HashMap<String, BTreeSet<String>>>,
}

impl GrantCache {
    async fn held(
        &mut self,
        p: &dyn Provisioner,
        app: &str,
        ty: &EntitlementType,
        login: &str,
    ) -> Result<BTreeSet<String>, Error> {
        let app = app.to_lowercase();
        if !self.logins.contains_key(&app) {
            let accounts: Vec<_> = paging::accounts(p, PagingOptions::new())
                .try_collect()
                .await?;
            let logins = accounts
                .into_iter()
                .map(|a| (a.id, a.login.to_lowercase()))
                .collect();
            self.logins.insert(app.clone(), logins);
        }
        let key = (app.clone(), ty.as_str().to_owned());
        if !self.held.contains_key(&key) {
            let grants: Vec<_> = paging::grants(p, ty, PagingOptions::new())
                .try_collect()
                .await?;
            let logins = &self.logins[&app];
            let mut by_login: HashMap<String, BTreeSet<String>> = HashMap::new();
            for g in grants {
                let who = logins
                    .get(&g.account)
                    .cloned()
                    .unwrap_or_else(|| g.account.as_str().to_lowercase());
                by_login
                    .entry(who)
                    .or_default()
                    .insert(g.entitlement.id.as_str().to_owned());
            }
            self.held.insert(key.clone(), by_login);
        }
        Ok(self.held[&key]
            .get(&login.to_lowercase())
            .cloned()
            .unwrap_or_default())
    }

    /// Records a grant made by this poll, so a later ticket of the same poll sees it.
    fn note(&mut self, app: &str, ty: &EntitlementType, login: &str, entitlement: &str) {
        if let Some(m) = self
            .held
            .get_mut(&(app.to_lowercase(), ty.as_str().to_owned()))
        {
            m.entry(login.to_lowercase())
                .or_default()
                .insert(entitlement.to_owned());
        }
    }
}

/// Everything one ticket's processing needs.
struct Ctx<'a> {
    intake: &'a Intake,
    source: &'a Source,
    ticket: &'a Ticket,
    id: RequestId,
    /// Whether this processing wrote a comment on the ticket.
    wrote: Cell<bool>,
}

impl Ctx<'_> {
    fn desk_label(&self) -> ConnectorLabel {
        self.source.desk.info().into()
    }

    fn event(&self, action: AuditAction, outcome: AuditOutcome, on: &ConnectorInfo) -> AuditEvent {
        AuditEvent::new(action, outcome, on.into())
            .request(&self.id)
            .ticket(Some(&self.ticket.reference))
            .detail("source", self.source.name.as_str())
    }

    fn emit(&self, event: &AuditEvent) {
        emit(self.intake.audit.as_ref(), event);
    }

    async fn comment(&self, body: String) -> Result<(), Error> {
        let result = self
            .source
            .desk
            .add_comment(&self.ticket.reference, &Comment::internal(body))
            .await;
        if result.is_ok() {
            self.wrote.set(true);
        }
        let event = self.event(
            AuditAction::TicketCommented,
            outcome_of(result.is_ok()),
            self.source.desk.info(),
        );
        self.emit(&match &result {
            Ok(()) => event.detail("direction", "outbound"),
            Err(e) => error_detail(event, &ErrorInfo::from(e)),
        });
        result
    }

    /// Comments `text` under a fingerprinted marker unless that marker is already there.
    async fn comment_once(&self, comments: &[TicketComment], mark: Mark, text: &str) {
        let fp = marker::fingerprint(text);
        if marker::has(comments, mark, &self.id, Some(&fp)) {
            return;
        }
        // A failed comment is in the audit trail; the next poll that lists the
        // ticket comments again.
        let _ = self
            .comment(format!(
                "{}\n{text}",
                marker::line(mark, &self.id, Some(&fp))
            ))
            .await;
    }

    async fn close(&self, how: Resolution) -> Result<(), Error> {
        let result = self
            .source
            .desk
            .close_ticket(&self.ticket.reference, &how)
            .await;
        let event = self
            .event(
                AuditAction::TicketClosed,
                outcome_of(result.is_ok()),
                self.source.desk.info(),
            )
            .detail("successful", how.successful);
        self.emit(&match &result {
            Ok(t) => event.detail("raw_state", t.status.raw.as_str()),
            Err(e) => error_detail(event, &ErrorInfo::from(e)),
        });
        result.map(|_| ())
    }
}

fn outcome_of(ok: bool) -> AuditOutcome {
    if ok {
        AuditOutcome::Success
    } else {
        AuditOutcome::Failure
    }
}

fn retrying_or_failed(e: &Error) -> IntakeStatus {
    let info = ErrorInfo::from(e);
    if info.is_retryable() {
        IntakeStatus::Retrying(info)
    } else {
        IntakeStatus::Failed(info)
    }
}

/// Processes one ticket and records its `task_finished` event.
pub(super) async fn process(
    intake: &Intake,
    source: &Source,
    ticket: &Ticket,
    state: &mut SourceState,
    grants: &mut GrantCache,
    report: &mut SourceReport,
) -> TicketOutcome {
    let cx = Ctx {
        intake,
        source,
        ticket,
        id: Intake::request_id(&source.name, &ticket.reference),
        wrote: Cell::new(false),
    };
    let status = run(&cx, state, grants, report).await;
    // Our comment moved the ticket's update time into the second it was written in: a
    // person's change in that same second, with the same status, would look like the
    // change the feed already handed out. A ticket left open after a write is read once
    // more at the next poll, whatever the feed says.
    let left_open = matches!(
        status,
        IntakeStatus::MappingFailed(_) | IntakeStatus::Conflict(_) | IntakeStatus::Failed(_)
    );
    if cx.wrote.get() && left_open && intake.config.on_conflict_leaves_open(&status) {
        recheck(state, &ticket.reference);
    }
    let finished = match &status {
        IntakeStatus::Provisioned | IntakeStatus::ClosedFromMarker | IntakeStatus::NotOpen => true,
        IntakeStatus::Conflict(_) => intake.config.on_conflict == OnConflict::Reject,
        _ => false,
    };
    if finished {
        state.delivered.remove(&ticket_key(&ticket.reference));
    }
    let outcome = match &status {
        IntakeStatus::Provisioned | IntakeStatus::ClosedFromMarker => AuditOutcome::Success,
        IntakeStatus::Retrying(_) | IntakeStatus::NotOpen => AuditOutcome::Pending,
        IntakeStatus::Conflict(_) => AuditOutcome::Denied,
        _ => AuditOutcome::Failure,
    };
    let mut event = cx
        .event(AuditAction::TaskFinished, outcome, source.desk.info())
        .detail("status", status.as_str());
    match &status {
        IntakeStatus::MappingFailed(e) => {
            event = event
                .detail("field", e.field)
                .detail("error", e.to_string());
        }
        IntakeStatus::Conflict(c) => event = event.detail("rule", c.rule.as_str()),
        IntakeStatus::Failed(e) | IntakeStatus::Retrying(e) => event = error_detail(event, e),
        _ => {}
    }
    cx.emit(&event);
    TicketOutcome {
        source: source.name.clone(),
        ticket: ticket.reference.clone(),
        request_id: cx.id,
        status,
    }
}

async fn run(
    cx: &Ctx<'_>,
    state: &mut SourceState,
    grants: &mut GrantCache,
    report: &mut SourceReport,
) -> IntakeStatus {
    if !cx.ticket.status.state.is_open() {
        return IntakeStatus::NotOpen;
    }
    let comments = match cx.source.desk.list_comments(&cx.ticket.reference).await {
        Ok(c) => c,
        Err(e) => return retrying_or_failed(&e),
    };
    deliver_comments(cx, &comments, state, report);

    if marker::has(&comments, Mark::Provisioned, &cx.id, None) {
        // The close notes are for people (often public): the markers stay internal.
        let notes = "Access provisioned (recorded earlier on this ticket).";
        return match cx.close(Resolution::done(notes)).await {
            Ok(()) => IntakeStatus::ClosedFromMarker,
            Err(e) => IntakeStatus::Retrying(ErrorInfo::from(&e)),
        };
    }

    let mapped = match cx.intake.mapper.apply(cx.ticket) {
        Ok(m) => m,
        Err(e) => return mapping_failed(cx, &comments, e).await,
    };
    let app_key = mapped.application.trim().to_lowercase();
    let Some(p) = cx.intake.provisioners.get(&app_key).cloned() else {
        let e = MapError {
            field: "application",
            source: "provisioners".into(),
            message: format!(
                "no provisioner is configured for application {:?}",
                mapped.application
            ),
        };
        return mapping_failed(cx, &comments, e).await;
    };
    let ty = match &mapped.entitlement_type {
        Some(t) => EntitlementType::new(t.clone()),
        None => match p.entitlement_types().first() {
            Some(t) => t.clone(),
            None => {
                let e = MapError {
                    field: "entitlement_type",
                    source: "provisioner".into(),
                    message: "not mapped, and the provisioner names no entitlement type".into(),
                };
                return mapping_failed(cx, &comments, e).await;
            }
        },
    };
    let login = mapped.beneficiary.login.clone().unwrap_or_default();

    if let Some(status) = sod_check(cx, &comments, p.as_ref(), &mapped, &ty, &login, grants).await {
        return status;
    }

    let entitlement = EntitlementRef::new(ty.clone(), mapped.entitlement.as_str());
    let done = match provision(cx, p.as_ref(), &mapped, &login, &entitlement).await {
        Ok(done) => done,
        Err(e) => {
            let status = retrying_or_failed(&e);
            if let IntakeStatus::Failed(info) = &status {
                let text = format!("Provisioning failed: {info}");
                cx.comment_once(&comments, Mark::Failed, &text).await;
            }
            return status;
        }
    };
    grants.note(&mapped.application, &ty, &login, &mapped.entitlement);

    let note = format!("{}\n{done}", marker::line(Mark::Provisioned, &cx.id, None));
    if let Err(e) = cx.comment(note).await {
        // Without the marker the next poll provisions again; the provisioner then
        // answers AlreadyExists/AlreadyGranted.
        return IntakeStatus::Retrying(ErrorInfo::from(&e));
    }
    match cx
        .close(Resolution::done(format!("Access provisioned: {done}")))
        .await
    {
        Ok(()) => IntakeStatus::Provisioned,
        Err(e) => IntakeStatus::Retrying(ErrorInfo::from(&e)),
    }
}

async fn mapping_failed(cx: &Ctx<'_>, comments: &[TicketComment], e: MapError) -> IntakeStatus {
    if cx.intake.config.on_mapping_error == OnMappingError::Comment {
        let text = format!("This access request could not be read: {e}");
        cx.comment_once(comments, Mark::MappingFailed, &text).await;
    }
    IntakeStatus::MappingFailed(e)
}

/// `Some(status)` when the request breaks a rule (or its grants could not be read).
async fn sod_check(
    cx: &Ctx<'_>,
    comments: &[TicketComment],
    p: &dyn Provisioner,
    mapped: &Mapped,
    ty: &EntitlementType,
    login: &str,
    grants: &mut GrantCache,
) -> Option<IntakeStatus> {
    let rules = &cx.intake.config.sod;
    if !rules
        .iter()
        .any(|r| r.covers(&mapped.application, &mapped.entitlement))
    {
        return None;
    }
    let held = match grants.held(p, &mapped.application, ty, login).await {
        Ok(h) => h,
        Err(e) => {
            let event = cx.event(
                AuditAction::ApprovalDecided,
                AuditOutcome::Failure,
                p.info(),
            );
            cx.emit(&error_detail(
                event.detail("policy", "sod"),
                &ErrorInfo::from(&e),
            ));
            return Some(retrying_or_failed(&e));
        }
    };
    let conflict = super::sod::check(rules, &mapped.application, &mapped.entitlement, &held);
    let event = cx
        .event(
            AuditAction::ApprovalDecided,
            if conflict.is_some() {
                AuditOutcome::Denied
            } else {
                AuditOutcome::Allowed
            },
            p.info(),
        )
        .detail("policy", "sod");
    let Some(conflict) = conflict else {
        cx.emit(&event);
        return None;
    };
    cx.emit(
        &event
            .detail("rule", conflict.rule.as_str())
            .detail("held", conflict.held.clone()),
    );
    let text = format!("Not provisioned: {conflict}.");
    cx.comment_once(comments, Mark::Conflict, &text).await;
    if cx.intake.config.on_conflict == OnConflict::Reject {
        if let Err(e) = cx.close(Resolution::failed(text)).await {
            return Some(IntakeStatus::Retrying(ErrorInfo::from(&e)));
        }
    }
    Some(IntakeStatus::Conflict(conflict))
}

/// Creates the account if missing and grants; what was done, for the marker comment.
async fn provision(
    cx: &Ctx<'_>,
    p: &dyn Provisioner,
    mapped: &Mapped,
    login: &str,
    entitlement: &EntitlementRef,
) -> Result<String, Error> {
    let mut spec = AccountSpec::new(login);
    spec.email = mapped.beneficiary.email.clone();
    let created = p.create_account(&spec).await;
    let event = cx
        .event(
            AuditAction::Provisioned,
            outcome_of(created.is_ok()),
            p.info(),
        )
        .detail("call", format!("create account {login}"));
    let account = match created {
        Ok(outcome) => {
            let result = match &outcome {
                CreateOutcome::Created(_) => "created",
                CreateOutcome::AlreadyExists(_) => "already_exists",
            };
            cx.emit(&event.detail("result", result));
            outcome.into_account()
        }
        Err(e) => {
            cx.emit(&error_detail(event, &ErrorInfo::from(&e)));
            return Err(e);
        }
    };
    let granted = p.grant(&account.id, entitlement).await;
    let call = format!("grant {entitlement} to account {}", account.id);
    let event = cx
        .event(
            AuditAction::Provisioned,
            outcome_of(granted.is_ok()),
            p.info(),
        )
        .detail("call", call.as_str());
    match granted {
        Ok(g) => {
            let result = match g {
                GrantOutcome::Granted => "granted",
                GrantOutcome::AlreadyGranted => "already_granted",
            };
            cx.emit(&event.detail("result", result));
            Ok(format!(
                "{call} ({login} on {}): {result}",
                mapped.application
            ))
        }
        Err(e) => {
            cx.emit(&error_detail(event, &ErrorInfo::from(&e)));
            Err(e)
        }
    }
}

/// Delivers the comments people added since the last poll, once each by id.
fn deliver_comments(
    cx: &Ctx<'_>,
    comments: &[TicketComment],
    state: &mut SourceState,
    report: &mut SourceReport,
) {
    let Some(handler) = cx
        .intake
        .comments
        .as_ref()
        .filter(|_| cx.intake.config.sync_comments)
    else {
        return;
    };
    let seen = state
        .delivered
        .entry(ticket_key(&cx.ticket.reference))
        .or_default();
    let opening = cx.ticket.description.as_deref().map(str::trim);
    for c in comments {
        if seen.contains(&c.id) || marker::is_own(c) {
            continue;
        }
        // The article a ticket was opened with is its description, not a comment.
        if opening.is_some_and(|d| !d.is_empty() && d == c.body.trim()) {
            seen.insert(c.id.clone());
            continue;
        }
        let inbound = InboundComment {
            source: cx.source.name.clone(),
            ticket: cx.ticket.reference.clone(),
            request_id: cx.id.clone(),
            comment: c.clone(),
        };
        if !handler.deliver(inbound) {
            break;
        }
        seen.insert(c.id.clone());
        report.comments_delivered += 1;
        cx.emit(
            &AuditEvent::new(
                AuditAction::TicketCommented,
                AuditOutcome::Success,
                cx.desk_label(),
            )
            .request(&cx.id)
            .ticket(Some(&cx.ticket.reference))
            .detail("source", cx.source.name.as_str())
            .detail("direction", "inbound")
            .detail("comment_id", c.id.as_str()),
        );
    }
}
