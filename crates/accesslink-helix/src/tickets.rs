//! The `TicketingSystem` implementation: incidents (create through the interface form,
//! read and update on the base form, work notes, resolve), changes, work orders and
//! service requests (read, with the approval their status implies).

use std::collections::HashSet;

use accesslink_core::write::write_with_lookup;
use accesslink_core::{
    Approval, Comment, CorrelationId, Error, NewTicket, Person, Resolution, Result, Ticket,
    TicketKind, TicketRef, TicketState, TicketingSystem, Visibility, async_trait, redact,
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
    fn number_of(&self, r: &TicketRef) -> Result<TicketNumber> {
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

    async fn required_entry(&self, n: &TicketNumber) -> Result<Entry> {
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
        t.extra = e.values.clone();
        t
    }

    /// The incident carrying this correlation id, checked (the server's qualification is
    /// not trusted to be exact).
    async fn find_incident(&self, id: &CorrelationId) -> Result<Option<Entry>> {
        let fs = &self.settings.forms.incident;
        let field = &self.settings.fields.correlation;
        let q = Qual::eq(field, &QValue::text(id.as_str())?)?;
        let page = self.client.list(&fs.form, Some(&q), &[], 0, 10).await?;
        let mut hits = page
            .entries
            .into_iter()
            .filter(|e| e.text(field).as_deref() == Some(id.as_str()));
        let first = hits.next();
        if hits.next().is_some() {
            tracing::warn!(correlation_id = %id, "several Helix incidents carry this correlation id; using the first");
        }
        Ok(first)
    }

    fn create_values(&self, new: &NewTicket) -> Result<Map<String, Value>> {
        if new.kind != TicketKind::Incident {
            return Err(Error::Unsupported {
                operation: "creating Helix tickets other than incidents",
                target: "helix",
            });
        }
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

    /// Looks the correlation id up on the incident form; when absent, creates through
    /// the interface form (`?fields=values(Incident Number)`) and reads the incident back.
    /// A lost answer is followed by the lookup, never by a blind second create.
    async fn create_ticket(&self, new: &NewTicket) -> Result<Ticket> {
        new.correlation_id.check_plain()?;
        QValue::text(new.correlation_id.as_str())?;
        let values = self.create_values(new)?;
        if let Some(existing) = self.find_incident(&new.correlation_id).await? {
            return Ok(self.ticket(Form::Incident, &existing));
        }
        let values = &values;
        let written = write_with_lookup(
            self.client.retry_config(),
            "helix create incident",
            |_| async move { self.create_once(values).await },
            || self.find_incident(&new.correlation_id),
        )
        .await?;
        Ok(self.ticket(Form::Incident, &written.into_inner()))
    }

    async fn find_by_correlation(&self, id: &CorrelationId) -> Result<Option<Ticket>> {
        id.check_plain()?;
        Ok(self
            .find_incident(id)
            .await?
            .map(|e| self.ticket(Form::Incident, &e)))
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

    /// Sets the configured status (default `Resolved`), status reason and resolution
    /// (the notes, else the configured text) on the incident, then reads it back: it must
    /// be resolved, closed or cancelled. An incident done already is returned as it is.
    async fn close_ticket(&self, r: &TicketRef, how: &Resolution) -> Result<Ticket> {
        let n = self.number_of(r)?;
        if n.form() != Form::Incident {
            return Err(Error::Unsupported {
                operation: "closing Helix tickets other than incidents",
                target: "helix",
            });
        }
        let entry = self.required_entry(&n).await?;
        let before = self.ticket(Form::Incident, &entry);
        if Self::is_done(&before) {
            return Ok(before);
        }
        let close = &self.settings.close;
        let fields = &self.settings.fields;
        let fs = &self.settings.forms.incident;
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
        let mut v = Map::new();
        v.insert(fs.status_field.clone(), json!(close.status));
        v.insert(fields.status_reason.clone(), json!(reason));
        v.insert(fields.resolution.clone(), json!(resolution));
        let id = self.entry_id(&entry, "PUT /entry/HPD:Help Desk")?;
        self.client.update(&fs.form, &id, v).await?;
        let after = self.required_entry(&n).await?;
        let t = self.ticket(Form::Incident, &after);
        if !Self::is_done(&t) {
            return Err(Error::protocol(
                format!("PUT /entry/{}", fs.form),
                format!(
                    "incident {} is {:?} after the close request; check close.status and close.status_reason against the workflow",
                    n.as_str(),
                    t.status.raw
                ),
            ));
        }
        Ok(t)
    }
}
