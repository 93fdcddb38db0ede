//! The `TicketingSystem` implementation: incidents (create through the interface form,
//! read and update on the base form, work notes, resolve), changes, work orders and
//! service requests (read, with the approval their status implies).

use std::collections::HashSet;

use accesslink_core::write::write_with_lookup;
use accesslink_core::{
    Approval, Comment, CorrelationId, Error, NewTicket, ObjectSchema, Page, PageRequest, Person,
    Resolution, Result, Ticket, TicketComment, TicketKind, TicketQuery, TicketRef, TicketState,
    TicketingSystem, Visibility, async_trait, redact,
};
use serde_json::{Map, Value, json};

use crate::connector::HelixConnector;
use crate::models::Entry;
use crate::qual::{Qual, Value as QValue};
use crate::refs::{Form, TicketNumber};
use crate::settings::FormSettings;

impl HelixConnector {
    /// The form settings of a kind of number.
    pub fn form(&self, f: Form) -> &FormSettings {
        let forms = &self.settings.forms;
        match f {
            Form::Incident => &forms.incident,
            Form::Change => &forms.change,
            Form::WorkOrder => &forms.work_order,
            Form::Request => &forms.request,
        }
    }

    /// Checks a reference again (its fields are public) and returns its number.
    pub(crate) fn number_of(&self, r: &TicketRef) -> Result<TicketNumber> {
        let raw = r.number().or(r.id()).unwrap_or("");
        let n = TicketNumber::parse(raw)?;
        if let Some(scope) = r.scope() {
            if scope != n.form().scope() {
                return Err(Error::invalid_input(format!(
                    "{} is not a {scope} number",
                    n.as_str()
                )));
            }
        }
        Ok(n)
    }

    /// Entries of one form whose number is one of `numbers`: one qualification of `OR`s,
    /// every hit checked against what was asked (hits not asked for are left out).
    async fn entries_by_number(&self, f: Form, numbers: &[String]) -> Result<Vec<Entry>> {
        let fs = self.form(f);
        let parts = numbers
            .iter()
            .map(|n| Qual::eq(&fs.id_field, &QValue::text(n)?))
            .collect::<Result<Vec<_>>>()?;
        let Some(q) = Qual::or(parts) else {
            return Ok(Vec::new());
        };
        let found = self.client.list_all(&fs.form, Some(&q), &[], None).await?;
        let mut seen = HashSet::new();
        let mut out = Vec::with_capacity(found.len());
        for e in found {
            let number = e.text(&fs.id_field).unwrap_or_default();
            if !numbers.contains(&number) {
                // A hit that was not asked for: the server did not apply the
                // qualification. It is not the ticket asked for, whatever it is.
                tracing::warn!(
                    form = %fs.form,
                    number = %redact::truncate(&number, 40),
                    "a search returned an entry that was not asked for; ignored"
                );
                continue;
            }
            if seen.insert(number) {
                out.push(e);
            }
        }
        Ok(out)
    }

    async fn entry(&self, n: &TicketNumber) -> Result<Option<Entry>> {
        let found = self
            .entries_by_number(n.form(), &[n.as_str().to_owned()])
            .await?;
        Ok(found.into_iter().next())
    }

    pub(crate) async fn required_entry(&self, n: &TicketNumber) -> Result<Entry> {
        self.entry(n)
            .await?
            .ok_or_else(|| Error::not_found(format!("Helix ticket {}", n.as_str())))
    }

    fn entry_id(&self, e: &Entry, what: &str) -> Result<String> {
        e.entry_id(&self.settings.fields.entry_id).ok_or_else(|| {
            Error::protocol(
                what.to_owned(),
                "the entry has neither a self link nor an entry id",
            )
        })
    }

    /// An entry of a ticket form as a core ticket.
    pub fn ticket(&self, f: Form, e: &Entry) -> Ticket {
        let fs = self.form(f);
        let fields = &self.settings.fields;
        let number = e.text(&fs.id_field).unwrap_or_default();
        let raw_status = e.text(&fs.status_field).unwrap_or_default();
        let key = format!("{}:{raw_status}", f.scope());
        let mut status = self.status_map.ticket_status(&key);
        status.raw = raw_status.clone();
        let mut reference = TicketRef::by_number(&number).with_scope(f.scope());
        if let Some(id) = e.entry_id(&fields.entry_id).filter(|id| *id != number) {
            reference = TicketRef::by_id_and_number(id, &number).with_scope(f.scope());
        }
        let mut t = Ticket::new(
            reference,
            f.kind(),
            e.text(&fs.title_field).unwrap_or_default(),
            status,
        );
        t.description = e.text(&fields.detail);
        if f != Form::Incident {
            let state = self.status_map.approval_state(&key);
            t.approval = Some(Approval {
                state,
                raw: raw_status.clone(),
            });
        }
        let first = e.text(&fields.requester_first_name);
        let last = e.text(&fields.requester_last_name);
        let name = match (first, last) {
            (Some(a), Some(b)) => Some(format!("{a} {b}")),
            (a, b) => a.or(b),
        };
        let login = e.text(&fields.requester_login);
        let email = e.text(&fields.requester_email);
        if login.is_some() || name.is_some() || email.is_some() {
            t.requester = Some(Person {
                id: login.clone(),
                login,
                name,
                email,
            });
        }
        t.correlation_id = e
            .text(&fields.correlation)
            .filter(|c| !c.is_empty())
            .map(CorrelationId::new);
        if matches!(
            t.status.state,
            TicketState::Resolved | TicketState::Closed | TicketState::Cancelled
        ) {
            t.resolution = e.text(&fields.resolution);
        }
        t.updated = e.time(&fields.updated);
        t.extra = e.values.clone();
        t
    }

    /// The form a new ticket of `kind` goes to (incidents, changes, work orders).
    fn creatable(kind: &TicketKind) -> Result<Form> {
        match kind {
            TicketKind::Incident => Ok(Form::Incident),
            TicketKind::Change => Ok(Form::Change),
            TicketKind::Task => Ok(Form::WorkOrder),
            _ => Err(Error::Unsupported {
                operation: "creating Helix tickets other than incidents, changes and work orders",
                target: "helix",
            }),
        }
    }

    /// The workflow settings of changes and work orders.
    fn workflow(&self, f: Form) -> Option<&crate::settings::TicketWorkflow> {
        match f {
            Form::Change => Some(&self.settings.change),
            Form::WorkOrder => Some(&self.settings.work_order),
            _ => None,
        }
    }

    /// The correlation field on a form's base form.
    fn correlation_field(&self, f: Form) -> &str {
        self.workflow(f)
            .and_then(|w| w.correlation_field.as_deref())
            .unwrap_or(&self.settings.fields.correlation)
    }

    /// The entry of form `f` carrying this correlation id, checked (the server's
    /// qualification is not trusted to be exact).
    async fn find_correlated(&self, f: Form, id: &CorrelationId) -> Result<Option<Entry>> {
        let fs = self.form(f);
        let field = self.correlation_field(f);
        let q = Qual::eq(field, &QValue::text(id.as_str())?)?;
        let page = self.client.list(&fs.form, Some(&q), &[], 0, 10).await?;
        let mut hits = page
            .entries
            .into_iter()
            .filter(|e| e.text(field).as_deref() == Some(id.as_str()));
        let first = hits.next();
        if hits.next().is_some() {
            tracing::warn!(correlation_id = %id, form = %fs.form, "several Helix tickets carry this correlation id; using the first");
        }
        Ok(first)
    }

    /// Create values of a change or work order: the configured values, then summary,
    /// detail, customer and correlation.
    fn workflow_values(&self, f: Form, new: &NewTicket) -> Result<Map<String, Value>> {
        let w = self
            .workflow(f)
            .ok_or_else(|| Error::other("no workflow for this form"))?;
        let title = new.title.trim();
        if title.is_empty() {
            return Err(Error::invalid_input("a Helix ticket needs a summary"));
        }
        let mut v = w.create_values.clone();
        v.insert(w.create_title_field.clone(), json!(title));
        v.insert(w.create_detail_field.clone(), json!(new.description));
        let login = new
            .requester
            .as_ref()
            .and_then(|p| p.login.clone())
            .or_else(|| self.settings.incident.customer_login.clone());
        if let Some(login) = login {
            if login.chars().any(char::is_control) {
                return Err(Error::invalid_input(
                    "the requester login has control characters",
                ));
            }
            v.insert(w.create_login_field.clone(), json!(login));
        }
        v.insert(
            self.correlation_field(f).to_owned(),
            json!(new.correlation_id.as_str()),
        );
        for (k, val) in &new.extra {
            if k == &w.create_title_field || k == self.correlation_field(f) {
                return Err(Error::invalid_input(format!(
                    "extra field {k:?} is set by the connector"
                )));
            }
            v.insert(k.clone(), val.clone());
        }
        Ok(v)
    }

    /// One create of a change or work order through its interface form, then the
    /// entry read back from the base form: by the number the answer names when it names
    /// one, else by the correlation id.
    async fn create_workflow_once(
        &self,
        f: Form,
        values: &Map<String, Value>,
        id: &CorrelationId,
    ) -> Result<Entry> {
        let w = self
            .workflow(f)
            .ok_or_else(|| Error::other("no workflow for this form"))?;
        let id_field = self.form(f).id_field.clone();
        let answer = self
            .client
            .create(&w.create_form, values.clone(), &[id_field.as_str()])
            .await?;
        if let Some(number) = answer.get(&id_field).and_then(Value::as_str) {
            let n = TicketNumber::parse(number)?;
            if n.form() == f {
                return self.required_entry(&n).await;
            }
        }
        self.find_correlated(f, id).await?.ok_or_else(|| {
            Error::protocol(
                format!("POST /entry/{}", w.create_form),
                format!(
                    "the create was accepted but no {} carries correlation id {id}",
                    f.scope()
                ),
            )
        })
    }

    fn create_values(&self, new: &NewTicket) -> Result<Map<String, Value>> {
        let title = new.title.trim();
        if title.is_empty() {
            return Err(Error::invalid_input("a Helix incident needs a summary"));
        }
        let d = &self.settings.incident;
        let login = new
            .requester
            .as_ref()
            .and_then(|p| p.login.clone())
            .or_else(|| d.customer_login.clone())
            .ok_or_else(|| {
                Error::invalid_input(
                    "a Helix incident needs a customer: give the requester's login or set incident.customer_login",
                )
            })?;
        if login.chars().any(char::is_control) {
            return Err(Error::invalid_input(
                "the requester login has control characters",
            ));
        }
        let mut v = Map::new();
        v.insert("z1D_Action".into(), json!("CREATE"));
        v.insert("Login_ID".into(), json!(login));
        v.insert("Description".into(), json!(title));
        v.insert("Detailed_Decription".into(), json!(new.description));
        v.insert("Impact".into(), json!(d.impact));
        v.insert("Urgency".into(), json!(d.urgency));
        v.insert("Service_Type".into(), json!(d.service_type));
        v.insert("Reported Source".into(), json!(d.reported_source));
        v.insert("Status".into(), json!(d.status));
        v.insert(
            self.settings.fields.correlation.clone(),
            json!(new.correlation_id.as_str()),
        );
        for (k, val) in &new.extra {
            if v.contains_key(k) {
                return Err(Error::invalid_input(format!(
                    "extra field {k:?} is set by the connector"
                )));
            }
            v.insert(k.clone(), val.clone());
        }
        Ok(v)
    }

    async fn create_once(&self, values: &Map<String, Value>) -> Result<Entry> {
        let id_field = self.settings.forms.incident.id_field.clone();
        let answer = self
            .client
            .create(
                &self.settings.forms.incident_create,
                values.clone(),
                &[id_field.as_str()],
            )
            .await?;
        let number = answer
            .get(&id_field)
            .and_then(Value::as_str)
            .ok_or_else(|| {
                Error::protocol(
                    format!("POST /entry/{}", self.settings.forms.incident_create),
                    format!("the create answer has no {id_field:?}"),
                )
            })?;
        let n = TicketNumber::parse(number)?;
        self.required_entry(&n).await
    }

    fn is_done(t: &Ticket) -> bool {
        matches!(
            t.status.state,
            TicketState::Resolved | TicketState::Closed | TicketState::Cancelled
        )
    }
}

#[async_trait]
impl TicketingSystem for HelixConnector {
    /// Accepts `INC`, `CRQ`, `WO` and `REQ` numbers (any case; short digit runs padded to
    /// 15 characters).
    fn parse_ticket_ref(&self, raw: &str) -> Result<TicketRef> {
        let n = TicketNumber::parse(raw)?;
        Ok(TicketRef::by_number(n.as_str()).with_scope(n.form().scope()))
    }

    /// Looks the correlation id up on the kind's base form (incidents `HPD:Help Desk`,
    /// changes `CHG:Infrastructure Change`, work orders — [`TicketKind::Task`] —
    /// `WOI:WorkOrder`); when absent, creates through the interface form
    /// (`?fields=values(<number field>)`) and reads the ticket back. A lost answer is
    /// followed by the lookup, never by a blind second create.
    async fn create_ticket(&self, new: &NewTicket) -> Result<Ticket> {
        new.correlation_id.check_plain()?;
        QValue::text(new.correlation_id.as_str())?;
        let f = Self::creatable(&new.kind)?;
        let values = if f == Form::Incident {
            self.create_values(new)?
        } else {
            self.workflow_values(f, new)?
        };
        if let Some(existing) = self.find_correlated(f, &new.correlation_id).await? {
            return Ok(self.ticket(f, &existing));
        }
        let values = &values;
        let written = write_with_lookup(
            self.client.retry_config(),
            "helix create ticket",
            |_| async move {
                if f == Form::Incident {
                    self.create_once(values).await
                } else {
                    self.create_workflow_once(f, values, &new.correlation_id)
                        .await
                }
            },
            || self.find_correlated(f, &new.correlation_id),
        )
        .await?;
        Ok(self.ticket(f, &written.into_inner()))
    }

    /// Incidents first, then changes, then work orders.
    async fn find_by_correlation(&self, id: &CorrelationId) -> Result<Option<Ticket>> {
        id.check_plain()?;
        for f in [Form::Incident, Form::Change, Form::WorkOrder] {
            if let Some(e) = self.find_correlated(f, id).await? {
                return Ok(Some(self.ticket(f, &e)));
            }
        }
        Ok(None)
    }

    async fn get_ticket(&self, r: &TicketRef) -> Result<Option<Ticket>> {
        let n = self.number_of(r)?;
        Ok(self.entry(&n).await?.map(|e| self.ticket(n.form(), &e)))
    }

    /// One `GET /entry/{form}?q=('id' = "…" OR …)` per form and `batch_size` numbers.
    async fn get_tickets(&self, refs: &[TicketRef]) -> Result<Vec<Ticket>> {
        let mut by_form: Vec<(Form, Vec<String>)> =
            Form::ALL.iter().map(|f| (*f, Vec::new())).collect();
        for r in refs {
            let n = self.number_of(r)?;
            let list = by_form
                .iter_mut()
                .find(|(f, _)| *f == n.form())
                .map(|(_, l)| l);
            if let Some(list) = list {
                if !list.iter().any(|x| x == n.as_str()) {
                    list.push(n.as_str().to_owned());
                }
            }
        }
        let mut out = Vec::with_capacity(refs.len());
        for (f, numbers) in &by_form {
            for batch in numbers.chunks(self.settings.batch_size) {
                for e in self.entries_by_number(*f, batch).await? {
                    out.push(self.ticket(*f, &e));
                }
            }
        }
        Ok(out)
    }

    /// Incidents, changes, work orders and service requests updated since the
    /// watermark, one form after the other, in update order ([`crate::intake`]).
    async fn list_tickets(&self, query: &TicketQuery, page: PageRequest) -> Result<Page<Ticket>> {
        self.list_tickets_page(query, page).await
    }

    /// The work log of an incident, change or work order, oldest first
    /// ([`crate::intake`]).
    async fn list_comments(&self, r: &TicketRef) -> Result<Vec<TicketComment>> {
        self.work_log(r).await
    }

    /// Fixed from the vendor's documentation (fact sheet §4) with the configured field
    /// names; `Status` values from the status map ([`crate::intake`]).
    async fn ticket_schema(&self, kind: &TicketKind) -> Result<ObjectSchema> {
        self.fixed_ticket_schema(kind)
    }

    /// A work log entry (`View Access` Internal or Public) on `HPD:WorkLog`, `CHG:WorkLog`
    /// or `WOI:WorkInfo`; service requests: `Unsupported`. Never sent twice: a lost
    /// answer is an error, not a retry.
    async fn add_comment(&self, r: &TicketRef, c: &Comment) -> Result<()> {
        if c.body.trim().is_empty() {
            return Err(Error::invalid_input("a Helix work note needs text"));
        }
        let n = self.number_of(r)?;
        let forms = &self.settings.forms;
        let log_form = match n.form() {
            Form::Incident => &forms.incident_work_log,
            Form::Change => &forms.change_work_log,
            Form::WorkOrder => &forms.work_order_work_log,
            Form::Request => {
                return Err(Error::Unsupported {
                    operation: "work notes on Helix service requests",
                    target: "helix",
                });
            }
        };
        // The ticket must exist: AR would store an orphan work log otherwise.
        self.required_entry(&n).await?;
        let wl = &self.settings.work_log;
        let summary: String = c.body.trim().chars().take(100).collect();
        let access = match c.visibility {
            Visibility::Internal => &wl.internal,
            _ => &wl.public,
        };
        let mut v = Map::new();
        v.insert(self.form(n.form()).id_field.clone(), json!(n.as_str()));
        v.insert("Work Log Type".into(), json!(wl.work_log_type));
        v.insert("Description".into(), json!(summary));
        v.insert("Detailed Description".into(), json!(c.body));
        v.insert("View Access".into(), json!(access));
        v.insert("Secure Work Log".into(), json!("No"));
        self.client.create(log_form, v, &[]).await?;
        Ok(())
    }

    /// Incidents: sets the configured status (default `Resolved`), status reason and
    /// resolution (the notes, else the configured text). Changes and work orders: the
    /// workflow's close status (default `Completed`) and status reason (`Successful` or
    /// `Unsuccessful`; the resolution's code wins). Then reads the ticket back: it must be
    /// resolved, closed or cancelled. A ticket done already is returned as it is;
    /// service requests are `Unsupported`.
    async fn close_ticket(&self, r: &TicketRef, how: &Resolution) -> Result<Ticket> {
        let n = self.number_of(r)?;
        if n.form() == Form::Request {
            return Err(Error::Unsupported {
                operation: "closing Helix service requests",
                target: "helix",
            });
        }
        let entry = self.required_entry(&n).await?;
        let before = self.ticket(n.form(), &entry);
        if Self::is_done(&before) {
            return Ok(before);
        }
        let fs = self.form(n.form());
        let mut v = Map::new();
        if let Some(w) = self.workflow(n.form()) {
            let reason = how.code.clone().unwrap_or_else(|| {
                if how.successful {
                    w.status_reason.clone()
                } else {
                    w.failed_status_reason.clone()
                }
            });
            v.insert(fs.status_field.clone(), json!(w.close_status));
            v.insert(w.status_reason_field.clone(), json!(reason));
            if let Some(field) = &w.notes_field {
                if !how.notes.trim().is_empty() {
                    v.insert(field.clone(), json!(how.notes));
                }
            }
        } else {
            let close = &self.settings.close;
            let fields = &self.settings.fields;
            let reason = how.code.clone().unwrap_or_else(|| {
                if how.successful {
                    close.status_reason.clone()
                } else {
                    close.failed_status_reason.clone()
                }
            });
            let resolution = if how.notes.trim().is_empty() {
                close.resolution.clone()
            } else {
                how.notes.clone()
            };
            v.insert(fs.status_field.clone(), json!(close.status));
            v.insert(fields.status_reason.clone(), json!(reason));
            v.insert(fields.resolution.clone(), json!(resolution));
        }
        let label = format!("PUT /entry/{}", fs.form);
        let id = self.entry_id(&entry, &label)?;
        self.client.update(&fs.form, &id, v).await?;
        let after = self.required_entry(&n).await?;
        let t = self.ticket(n.form(), &after);
        if !Self::is_done(&t) {
            return Err(Error::protocol(
                label,
                format!(
                    "{} is {:?} after the close request; check the close status and status reason settings against the workflow",
                    n.as_str(),
                    t.status.raw
                ),
            ));
        }
        Ok(t)
    }
}
