//! The intake contract: a change feed over the ticket forms, work logs read back, and
//! fixed field schemas.
//!
//! **Listing.** One form after the other (incidents, changes, work orders, service
//! requests; only the kinds asked for), each with
//! `q = 'Last Modified Date' >= "<epoch seconds>" AND ('Status' = "…" OR …) AND
//! 'Assigned Group' = "<scope>"` and `sort = Last Modified Date.asc,Request ID.asc`, paged
//! by `offset`/`limit` with the client's guards. The watermark is rounded down to the
//! second (AR keeps whole seconds), so the filter is inclusive. Normalised states become
//! the form's native statuses through the status map; `scope` is the assigned support
//! group (the form's `group_field`). Every row is checked again client side (the
//! query, the scope) and must carry a readable update time, else the page is a
//! protocol error. Page tokens are `<form>:<offset>`.
//!
//! **Comments.** `HPD:WorkLog` (`CHG:WorkLog`, `WOI:WorkInfo`) entries of the ticket in
//! entry id order (the order they were written), id `Work Log ID` (else the entry id),
//! author `Submitter`, `View Access` `Internal` → internal, else public, time
//! `Submit Date`, body `Detailed Description`.
//!
//! **Schemas.** Fixed from the vendor documentation (fact sheet §4), with the field
//! names this instance is configured with; `Status` values from the status map.

use accesslink_core::{
    AllowedValue, Error, FieldSchema, FieldType, ObjectSchema, Page, PageRequest, PageToken,
    Person, Result, Ticket, TicketComment, TicketKind, TicketQuery, TicketRef, Visibility,
};

use crate::connector::HelixConnector;
use crate::qual::{Qual, Value as QValue};
use crate::refs::Form;

/// The forms `list_tickets` walks, in order.
const FEED_FORMS: [Form; 4] = [Form::Incident, Form::Change, Form::WorkOrder, Form::Request];

fn parse_token(token: Option<&PageToken>, forms: &[Form]) -> Result<(usize, u64)> {
    let Some(t) = token else {
        return Ok((0, 0));
    };
    let bad = || Error::invalid_input(format!("{:?} is not a Helix ticket page token", t.as_str()));
    let (scope, offset) = t.as_str().split_once(':').ok_or_else(bad)?;
    let at = forms
        .iter()
        .position(|f| f.scope() == scope)
        .ok_or_else(bad)?;
    let offset = offset.parse().map_err(|_| bad())?;
    Ok((at, offset))
}

fn choices<'a>(values: impl IntoIterator<Item = &'a str>) -> Vec<AllowedValue> {
    values
        .into_iter()
        .map(|v| AllowedValue::new(v, None))
        .collect()
}

impl HelixConnector {
    fn feed_forms(query: &TicketQuery) -> Vec<Form> {
        FEED_FORMS
            .into_iter()
            .filter(|f| query.kinds.is_empty() || query.kinds.contains(&f.kind()))
            .collect()
    }

    /// The native statuses of form `f` that map to one of `query.states`.
    fn native_statuses(&self, f: Form, query: &TicketQuery) -> Vec<String> {
        let prefix = format!("{}:", f.scope());
        self.status_map
            .states()
            .filter(|(_, s)| query.states.contains(s))
            .filter_map(|(k, _)| k.strip_prefix(&prefix).map(str::to_owned))
            .collect()
    }

    /// The qualification of form `f` (`Some(None)`: the whole form); `None` when no
    /// status of the form can match (the form is skipped).
    fn feed_qual(&self, f: Form, query: &TicketQuery) -> Result<Option<Option<Qual>>> {
        let fs = self.form(f);
        let mut parts = Vec::new();
        if let Some(since) = query.updated_since {
            parts.push(Qual::at_or_after(&self.settings.fields.updated, since)?);
        }
        if !query.states.is_empty() {
            let natives = self.native_statuses(f, query);
            let alts = natives
                .iter()
                .map(|n| Qual::eq(&fs.status_field, &QValue::text(n)?))
                .collect::<Result<Vec<_>>>()?;
            match Qual::or(alts) {
                Some(q) => parts.push(q),
                None => return Ok(None),
            }
        }
        if let Some(scope) = &query.scope {
            parts.push(Qual::eq(&fs.group_field, &QValue::text(scope)?)?);
        }
        Ok(Some(Qual::and(parts)))
    }

    pub(crate) async fn list_tickets_page(
        &self,
        query: &TicketQuery,
        page: PageRequest,
    ) -> Result<Page<Ticket>> {
        if let Some(scope) = &query.scope {
            QValue::text(scope)?;
        }
        let forms = Self::feed_forms(query);
        let (mut at, mut offset) = parse_token(page.token.as_ref(), &forms)?;
        let size = page.size_or(self.settings.page_size).clamp(1, 2000);
        let fields = &self.settings.fields;
        let sort = format!("{}.asc,{}.asc", fields.updated, fields.entry_id);
        // A page the client would answer empty (an empty form, or rows the client left
        // out) is never handed back with a next token: core paging stops on an empty
        // page, which would skip the forms after it. The walk goes on instead.
        while at < forms.len() {
            let f = forms[at];
            let Some(q) = self.feed_qual(f, query)? else {
                at += 1;
                offset = 0;
                continue;
            };
            let fs = self.form(f);
            let got = self
                .client
                .list_sorted(&fs.form, q.as_ref(), &[], &sort, offset, size)
                .await?;
            let label = format!("GET /entry/{}", fs.form);
            let mut items = Vec::with_capacity(got.entries.len());
            let mut previous: Option<std::time::SystemTime> = None;
            for e in &got.entries {
                let t = self.ticket(f, e);
                let Some(updated) = t.updated else {
                    return Err(Error::protocol(
                        label,
                        format!("{} has no readable {:?}", t.reference, fields.updated),
                    ));
                };
                if previous.is_some_and(|p| updated < p) {
                    return Err(Error::protocol(
                        label,
                        "the entries are not in update order: the server ignored sort",
                    ));
                }
                previous = Some(updated);
                let in_scope = query
                    .scope
                    .as_ref()
                    .is_none_or(|s| e.text(&fs.group_field).as_deref() == Some(s.as_str()));
                if !in_scope || !query.matches(&t) {
                    tracing::warn!(
                        form = %fs.form,
                        ticket = %t.reference,
                        "the server returned a ticket the query does not select; left out"
                    );
                    continue;
                }
                items.push(t);
            }
            if got.more {
                offset += got.entries.len() as u64;
            } else {
                at += 1;
                offset = 0;
            }
            if items.is_empty() {
                continue;
            }
            let next = forms
                .get(at)
                .map(|n| PageToken::new(format!("{}:{offset}", n.scope())));
            return Ok(Page::new(items, next));
        }
        Ok(Page::new(Vec::new(), None))
    }

    pub(crate) async fn work_log(&self, r: &TicketRef) -> Result<Vec<TicketComment>> {
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
        self.required_entry(&n).await?;
        let id_field = &self.form(n.form()).id_field;
        let q = Qual::eq(id_field, &QValue::text(n.as_str())?)?;
        let entries = self.client.list_all(log_form, Some(&q), &[], None).await?;
        let fields = &self.settings.fields;
        let mut out = Vec::with_capacity(entries.len());
        for e in entries {
            if e.text(id_field).as_deref() != Some(n.as_str()) {
                tracing::warn!(form = %log_form, "a work log of another ticket was returned; left out");
                continue;
            }
            let id = e
                .text(&fields.work_log_id)
                .filter(|s| !s.is_empty())
                .or_else(|| e.entry_id(&fields.entry_id))
                .ok_or_else(|| {
                    Error::protocol(format!("GET /entry/{log_form}"), "a work log without an id")
                })?;
            let visibility = match e.text("View Access") {
                Some(v) if v == self.settings.work_log.internal => Visibility::Internal,
                _ => Visibility::Public,
            };
            let body = e
                .text("Detailed Description")
                .or_else(|| e.text("Description"))
                .unwrap_or_default();
            let mut c = TicketComment::new(id, visibility, body);
            if let Some(who) = e.text(&fields.submitter).filter(|s| !s.is_empty()) {
                c = c.author(Person::login(who));
            }
            if let Some(at) = e.time(&fields.created) {
                c = c.created(at);
            }
            out.push(c);
        }
        Ok(out)
    }

    fn status_values(&self, f: Form) -> Vec<AllowedValue> {
        let prefix = format!("{}:", f.scope());
        let mut v: Vec<AllowedValue> = Vec::new();
        for (k, _) in self.status_map.states() {
            if let Some(native) = k.strip_prefix(&prefix) {
                if !v.iter().any(|a| a.value == native) {
                    v.push(AllowedValue::new(native, None));
                }
            }
        }
        v
    }

    pub(crate) fn fixed_ticket_schema(&self, kind: &TicketKind) -> Result<ObjectSchema> {
        let f = match kind {
            TicketKind::Incident => Form::Incident,
            TicketKind::Change => Form::Change,
            TicketKind::Task => Form::WorkOrder,
            TicketKind::Request => Form::Request,
            _ => {
                return Err(Error::Unsupported {
                    operation: "schemas of Helix ticket kinds other than incidents, changes, work orders and requests",
                    target: "helix",
                });
            }
        };
        let fs = self.form(f);
        let fields = &self.settings.fields;
        let impact = choices([
            "1-Extensive/Widespread",
            "2-Significant/Large",
            "3-Moderate/Limited",
            "4-Minor/Localized",
        ]);
        let urgency = choices(["1-Critical", "2-High", "3-Medium", "4-Low"]);
        let dt = |name: &str| FieldSchema::new(name, FieldType::DateTime).read_only();
        let mut s = ObjectSchema::new(fs.form.clone())
            .field(
                FieldSchema::new(fs.id_field.clone(), FieldType::String)
                    .label("Number")
                    .read_only(),
            )
            .field(
                FieldSchema::new(fs.title_field.clone(), FieldType::String)
                    .label("Summary")
                    .required(),
            )
            .field(
                FieldSchema::new(fs.status_field.clone(), FieldType::Choice)
                    .label("Status")
                    .allowed(self.status_values(f)),
            )
            .field(
                FieldSchema::new(fs.group_field.clone(), FieldType::String).label("Assigned group"),
            );
        let correlation = match f {
            Form::Change => self.settings.change.correlation_field.as_deref(),
            Form::WorkOrder => self.settings.work_order.correlation_field.as_deref(),
            _ => None,
        }
        .unwrap_or(&fields.correlation);
        if f != Form::Request {
            s = s.field(FieldSchema::new(correlation, FieldType::String).label("Correlation id"));
        }
        match f {
            Form::Incident => {
                s = s
                    .field(FieldSchema::new(fields.detail.clone(), FieldType::Text).label("Notes"))
                    .field(
                        FieldSchema::new("Impact", FieldType::Choice)
                            .required()
                            .allowed(impact),
                    )
                    .field(
                        FieldSchema::new("Urgency", FieldType::Choice)
                            .required()
                            .allowed(urgency),
                    )
                    .field(
                        FieldSchema::new("Service Type", FieldType::Choice)
                            .required()
                            .allowed(choices([
                                "User Service Restoration",
                                "User Service Request",
                                "Infrastructure Restoration",
                                "Infrastructure Event",
                            ])),
                    )
                    .field(
                        FieldSchema::new("Reported Source", FieldType::Choice)
                            .required()
                            .allowed(choices([
                                "Direct Input",
                                "Email",
                                "Web",
                                "Phone",
                                "Self Service",
                            ])),
                    )
                    .field(FieldSchema::new(
                        fields.status_reason.clone(),
                        FieldType::String,
                    ))
                    .field(FieldSchema::new(fields.resolution.clone(), FieldType::Text));
            }
            Form::Change | Form::WorkOrder => {
                let w = if f == Form::Change {
                    &self.settings.change
                } else {
                    &self.settings.work_order
                };
                s = s
                    .field(FieldSchema::new("Detailed Description", FieldType::Text).label("Notes"))
                    .field(FieldSchema::new(
                        w.status_reason_field.clone(),
                        FieldType::String,
                    ));
                if f == Form::Change {
                    s = s
                        .field(FieldSchema::new("Impact", FieldType::Choice).allowed(impact))
                        .field(FieldSchema::new("Urgency", FieldType::Choice).allowed(urgency))
                        .field(FieldSchema::new("Change Type", FieldType::String));
                }
            }
            Form::Request => {}
        }
        for name in [
            &fields.requester_login,
            &fields.requester_first_name,
            &fields.requester_last_name,
            &fields.requester_email,
        ] {
            s = s.field(FieldSchema::new(name.clone(), FieldType::String).read_only());
        }
        let mut s = s
            .field(FieldSchema::new(fields.entry_id.clone(), FieldType::String).read_only())
            .field(dt(&fields.created))
            .field(dt(&fields.updated));
        // Settings may name one field twice (a correlation field that is also the
        // summary): each is listed once, as first described.
        let mut seen = std::collections::HashSet::new();
        s.fields.retain(|f| seen.insert(f.name.clone()));
        Ok(s)
    }

    /// `CTM:People` as the connector reads and writes it.
    pub(crate) fn fixed_account_schema(&self) -> ObjectSchema {
        let p = &self.settings.people;
        let yes_no = || choices(["Yes", "No"]);
        let fields = &self.settings.fields;
        ObjectSchema::new(p.form.clone())
            .field(FieldSchema::new("Person ID", FieldType::String).read_only())
            .field(
                FieldSchema::new("Remedy Login ID", FieldType::String)
                    .label("Login")
                    .required(),
            )
            .field(FieldSchema::new("First Name", FieldType::String).required())
            .field(FieldSchema::new("Last Name", FieldType::String).required())
            .field(FieldSchema::new("Full Name", FieldType::String).read_only())
            .field(FieldSchema::new("Internet E-mail", FieldType::String).label("Email"))
            .field(FieldSchema::new("Company", FieldType::String))
            .field(FieldSchema::new("Organization", FieldType::String))
            .field(FieldSchema::new("Department", FieldType::String))
            .field(
                FieldSchema::new("Profile Status", FieldType::Choice).allowed(choices([
                    "Proposed", "Enabled", "Offline", "Obsolete", "Archive", "Delete",
                ])),
            )
            .field(FieldSchema::new("Support Staff", FieldType::Choice).allowed(yes_no()))
            .field(FieldSchema::new("VIP", FieldType::Choice).allowed(yes_no()))
            .field(FieldSchema::new("Client Type", FieldType::String))
            .field(
                FieldSchema::new("License Type", FieldType::Choice)
                    .allowed(choices(["Read", "Fixed", "Floating"])),
            )
            .field(FieldSchema::new(fields.entry_id.clone(), FieldType::String).read_only())
            .field(FieldSchema::new(fields.created.clone(), FieldType::DateTime).read_only())
            .field(FieldSchema::new(fields.updated.clone(), FieldType::DateTime).read_only())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_name_a_form_and_an_offset() {
        let forms = [Form::Incident, Form::Change];
        assert_eq!(parse_token(None, &forms).unwrap(), (0, 0));
        let t = PageToken::new("change:200");
        assert_eq!(parse_token(Some(&t), &forms).unwrap(), (1, 200));
        for bad in ["work_order:0", "incident", "incident:x", ":1"] {
            assert!(
                parse_token(Some(&PageToken::new(bad)), &forms).is_err(),
                "{bad}"
            );
        }
    }
}
