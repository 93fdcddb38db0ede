//! The session link on the ticket (PAM360's "add the recorded RDP session link to
//! the ChangeID description"): after an allowed session, one comment with who,
//! what, when and the link the PAM product supplies.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::SystemTime;

use accesslink_core::{Capability, Comment, Error, Result};

use super::{AccessAttempt, TicketGate, Verdict};
use crate::audit::{AuditAction, AuditEvent, AuditOutcome, emit, rfc3339};

/// How many linked sessions a gate remembers (oldest forgotten first).
const REMEMBERED: usize = 10_000;

/// The link to a recorded privileged session, supplied by the PAM product.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SessionLink {
    /// The PAM product's session id: 1 to 128 ASCII letters, digits, `-`, `_`,
    /// `.` or `:`. It makes the comment's marker, `[accesslink-session:<id>]`.
    pub session_id: String,
    /// Where the recording is: an `https://` or `http://` URL without spaces or
    /// control characters.
    pub url: String,
    /// When the session started (default: now).
    pub started: SystemTime,
}

impl SessionLink {
    /// A link to session `session_id` at `url`, started now.
    pub fn new(session_id: impl Into<String>, url: impl Into<String>) -> Self {
        SessionLink {
            session_id: session_id.into(),
            url: url.into(),
            started: SystemTime::now(),
        }
    }

    /// Sets when the session started.
    #[must_use]
    pub fn started(mut self, at: SystemTime) -> Self {
        self.started = at;
        self
    }

    /// The marker the comment starts with.
    pub fn marker(&self) -> String {
        format!("[accesslink-session:{}]", self.session_id)
    }

    fn check(&self) -> Result<()> {
        let id_ok = (1..=128).contains(&self.session_id.len())
            && self
                .session_id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.:".contains(c));
        if !id_ok {
            return Err(Error::invalid_input(
                "a session id is 1 to 128 ASCII letters, digits, '-', '_', '.' or ':'",
            ));
        }
        let lower = self.url.to_ascii_lowercase();
        let url_ok = (lower.starts_with("https://") || lower.starts_with("http://"))
            && self.url.len() <= 2048
            && !self
                .url
                .chars()
                .any(|c| c.is_whitespace() || c.is_control());
        if !url_ok {
            return Err(Error::invalid_input(
                "a session link is an http(s) URL without spaces or control characters",
            ));
        }
        Ok(())
    }
}

/// Which sessions this gate has linked, so a retry does not comment twice.
#[derive(Debug, Default)]
pub(super) struct Ledger {
    slots: Mutex<HashMap<String, Arc<tokio::sync::Mutex<bool>>>>,
    order: Mutex<VecDeque<String>>,
}

impl Ledger {
    fn slot(&self, key: &str) -> Arc<tokio::sync::Mutex<bool>> {
        let mut slots = lock(&self.slots);
        if let Some(s) = slots.get(key) {
            return s.clone();
        }
        let mut order = lock(&self.order);
        while order.len() >= REMEMBERED {
            if let Some(old) = order.pop_front() {
                slots.remove(&old);
            }
        }
        order.push_back(key.to_owned());
        slots.entry(key.to_owned()).or_default().clone()
    }
}

impl TicketGate {
    /// Adds the session's link to the ticket an allowed verdict read, as an
    /// internal comment starting with the marker `[accesslink-session:<id>]`:
    /// who, what, on which resource, when, and the URL.
    ///
    /// **Once**: calling it again for the same ticket and session — a retry after
    /// an error, or a concurrent call — comments nothing and returns `Ok(false)`;
    /// `Ok(true)` means this call added the comment. A failed comment is not
    /// remembered, so the retry tries again.
    ///
    /// Across processes: where the connector reads comments back
    /// ([`Capability::ListComments`]), the ticket's comments are read first and a
    /// comment that already carries the marker (another gate's, or this one's before
    /// a restart) means nothing is sent; and a comment whose answer was lost (a
    /// retryable error) is looked for before the error is returned, so a retry does
    /// not comment twice. A connector that cannot read comments back keeps "once"
    /// within this gate (this process, the last 10,000 sessions).
    ///
    /// Audited as `session_linked` (success or failure, the session id as
    /// `recording_id`: audit details under keys that name sessions are redacted).
    ///
    /// # Errors
    /// `InvalidInput` when the verdict is not an allow with a ticket, or the link
    /// is malformed (nothing is sent); the connector's error when commenting fails.
    pub async fn link_session(
        &self,
        attempt: &AccessAttempt,
        verdict: &Verdict,
        link: &SessionLink,
    ) -> Result<bool> {
        link.check()?;
        let Some(ticket) = verdict.ticket.as_ref().filter(|_| verdict.allow) else {
            return Err(Error::invalid_input(
                "only an allowed verdict with a ticket can be linked to a session",
            ));
        };
        let r = &ticket.reference;
        let key = format!("{r:?}\u{0}{}", link.session_id);
        let slot = self.links.slot(&key);
        let mut done = slot.lock().await;
        if *done {
            return Ok(false);
        }
        let marker = link.marker();
        let reads_back = self.tickets.info().supports(&Capability::ListComments);
        if reads_back && self.carries(r, &marker).await? {
            *done = true;
            return Ok(false);
        }
        let body = format!(
            "{} Privileged session by {} ({} on {}) started {}: {}",
            link.marker(),
            plain(&attempt.principal.login),
            plain(&attempt.operation),
            plain(&attempt.resource),
            rfc3339(link.started),
            link.url
        );
        let result = match self.tickets.add_comment(r, &Comment::internal(body)).await {
            // The answer may be lost after the server stored the comment.
            Err(e) if reads_back && e.is_retryable() => match self.carries(r, &marker).await {
                Ok(true) => Ok(()),
                _ => Err(e),
            },
            other => other,
        };
        let mut event = AuditEvent::new(
            AuditAction::SessionLinked,
            if result.is_ok() {
                AuditOutcome::Success
            } else {
                AuditOutcome::Failure
            },
            self.tickets.info().into(),
        )
        .ticket(Some(r))
        .detail("principal", attempt.principal.login.as_str())
        .detail("recording_id", link.session_id.as_str());
        if let Err(e) = &result {
            event = event.detail("error_kind", e.kind().to_string());
        }
        emit(self.audit.as_ref(), &event);
        result?;
        *done = true;
        Ok(true)
    }
}

impl TicketGate {
    /// Whether a comment on the ticket already starts with `marker`.
    async fn carries(&self, r: &accesslink_core::TicketRef, marker: &str) -> Result<bool> {
        let comments = self.tickets.list_comments(r).await?;
        Ok(comments
            .iter()
            .any(|c| c.body.trim_start().starts_with(marker)))
    }
}

/// A value from the attempt as one line of at most 200 characters: the comment
/// must not gain lines (or markup on new lines) from what the PAM product passed.
fn plain(s: &str) -> String {
    let one_line: String = s.chars().filter(|c| !c.is_control()).collect();
    accesslink_core::redact::truncate(one_line.trim(), 200)
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}
