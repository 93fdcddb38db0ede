//! Operator changes through the `TicketingSystem`: create (idempotent on
//! `externalNumber`), memos as comments, close by a processing-status transition or a
//! cancel (fact sheet §3.4; the change API is not in the vendor description this crate's
//! contract is written from, so its shapes are UNVERIFIED and configurable in
//! [`ChangeSettings`](crate::ChangeSettings)).

use accesslink_core::write::write_with_lookup;
use accesslink_core::{
    Comment, CorrelationId, Error, NewTicket, Resolution, Result, Ticket, redact,
};
use serde_json::{Map, Value, json};

use crate::api::ListParams;
use crate::connector::TopdeskConnector;
use crate::fiql::{Fiql, Value as FiqlValue};
use crate::models::OperatorChange;
use crate::refs::uuid;

/// TOPdesk keeps 80 characters of a brief description.
const MAX_TITLE: usize = 80;

/// Whether a change phase is an end (closed, rejected, canceled).
pub(crate) fn finished(c: &OperatorChange) -> bool {
    matches!(
        c.phase.as_deref(),
        Some("closed" | "rejected" | "canceled" | "cancelled")
    )
}

impl TopdeskConnector {
    /// The change whose `externalNumber` is `id`, checked (the server's filter is not
    /// trusted to be exact; whether `/operatorChanges` filters on `externalNumber` is
    /// UNVERIFIED, and a server that ignores the filter is caught by the check).
    pub(crate) async fn find_change(&self, id: &CorrelationId) -> Result<Option<OperatorChange>> {
        let q = Fiql::eq("externalNumber", FiqlValue::text(id.as_str())?);
        let page = self
            .client
            .operator_changes()
            .list(0, 10, &ListParams::new().query(q))
            .await?;
        Ok(page
            .items
            .into_iter()
            .find(|c| c.external_number.as_deref() == Some(id.as_str())))
    }

    /// The requester of a new change as a person UUID: the requester's id, else the
    /// person found by e-mail or login.
    async fn requester_id(&self, new: &NewTicket) -> Result<String> {
        let p = new
            .requester
            .as_ref()
            .ok_or_else(|| Error::invalid_input("a TOPdesk change needs a requester (a person)"))?;
        if let Some(id) = p.id.as_deref().and_then(uuid) {
            return Ok(id);
        }
        let (field, value) = match (&p.email, &p.login) {
            (Some(email), _) => ("email", email),
            (None, Some(login)) => ("tasLoginName", login),
            (None, None) => {
                return Err(Error::invalid_input(
                    "the requester of a TOPdesk change needs an id, an e-mail or a login",
                ));
            }
        };
        let q = if field == "email" {
            Fiql::eq("email", FiqlValue::text(value)?)
        } else {
            Fiql::eq("tasLoginName", FiqlValue::text(value)?)
        };
        let page = self
            .client
            .persons()
            .list(0, 2, &ListParams::new().query(q))
            .await?;
        let hit = page.items.into_iter().find(|x| {
            let v = if field == "email" {
                x.email.as_deref()
            } else {
                x.tas_login_name.as_deref()
            };
            v.is_some_and(|v| v.eq_ignore_ascii_case(value))
        });
        hit.map(|x| x.id).ok_or_else(|| {
            Error::not_found(format!(
                "TOPdesk person with {field} {:?} (the requester)",
                redact::truncate(value, 60)
            ))
        })
    }

    fn change_body(&self, new: &NewTicket, requester: &str) -> Result<Value> {
        let title = new.title.trim();
        if title.is_empty() {
            return Err(Error::invalid_input("a TOPdesk change needs a title"));
        }
        let (brief, request) = if title.chars().count() > MAX_TITLE {
            let cut: String = title.chars().take(MAX_TITLE - 1).collect();
            (format!("{cut}…"), format!("{title}\n\n{}", new.description))
        } else {
            (title.to_owned(), new.description.clone())
        };
        let settings = &self.settings.changes;
        let mut body = Map::new();
        body.insert("requester".into(), json!({ "id": requester }));
        body.insert("briefDescription".into(), json!(brief));
        if !request.is_empty() {
            body.insert("request".into(), json!(request));
        }
        body.insert("changeType".into(), json!(settings.change_type));
        if let Some(t) = &settings.template {
            body.insert("template".into(), json!({ "id": t }));
        }
        if let Some(p) = &new.priority {
            // Plain names on changes, unlike the incident API's `{"name"}` (fact sheet).
            body.insert("priority".into(), json!(p));
        }
        body.insert("externalNumber".into(), json!(new.correlation_id.as_str()));
        for (k, v) in &new.extra {
            if body.contains_key(k) || k == "changeType" || k == "template" {
                return Err(Error::invalid_input(format!(
                    "extra field {:?} is set by the connector",
                    redact::truncate(k, 40)
                )));
            }
            body.insert(k.clone(), v.clone());
        }
        Ok(Value::Object(body))
    }

    /// `POST /operatorChanges` unless a change with this `externalNumber` exists; a lost
    /// answer is looked up before sending again.
    pub(crate) async fn create_change(&self, new: &NewTicket) -> Result<Ticket> {
        if let Some(existing) = self.find_change(&new.correlation_id).await? {
            tracing::info!(correlation_id = %new.correlation_id, number = %existing.number, "change already exists");
            return Ok(self.change_ticket(existing));
        }
        let requester = self.requester_id(new).await?;
        let body = self.change_body(new, &requester)?;
        let body = &body;
        let written = write_with_lookup(
            self.client.retry_config(),
            "topdesk create change",
            |_| async move { self.client.operator_changes().create(body).await },
            || self.find_change(&new.correlation_id),
        )
        .await?;
        Ok(self.change_ticket(written.into_inner()))
    }

    pub(crate) async fn required_change(&self, key: &str) -> Result<OperatorChange> {
        self.client
            .operator_changes()
            .get_opt(key)
            .await?
            .ok_or_else(|| Error::not_found(format!("TOPdesk change {key}")))
    }

    /// A memo on the change's progress trail (`invisibleForCaller` as for incidents).
    /// Never sent twice.
    pub(crate) async fn comment_change(&self, key: &str, c: &Comment) -> Result<()> {
        let change = self.required_change(key).await?;
        self.client
            .operator_changes()
            .add_memo(&change.id, &c.body, self.invisible(c))
            .await
    }

    /// The notes as a memo, then the configured transition (`close`) for a success, or
    /// the failed-close action (`cancel`, or a transition such as `reject`); then read
    /// back: only a finished phase counts. A finished change is returned as it is.
    pub(crate) async fn close_change(&self, key: &str, how: &Resolution) -> Result<Ticket> {
        let change = self.required_change(key).await?;
        if finished(&change) {
            return Ok(self.change_ticket(change));
        }
        let api = self.client.operator_changes();
        if !how.notes.trim().is_empty() {
            api.add_memo(&change.id, &how.notes, false).await?;
        }
        let settings = &self.settings.changes;
        let action = if how.successful {
            settings.close_action.as_str()
        } else {
            settings.failed_close_action.as_str()
        };
        if action == "cancel" {
            api.cancel(&change.id).await?;
        } else {
            api.transition(&change.id, action, None).await?;
        }
        let after = self.required_change(&change.id).await?;
        if !finished(&after) {
            return Err(Error::protocol(
                "POST /tas/api/operatorChanges/processingStatusTransitions",
                format!(
                    "change {} is in phase {:?} after the {action:?} action; check changes.close_action against the tenant's change process",
                    after.number,
                    after.phase.as_deref().unwrap_or("unknown")
                ),
            ));
        }
        Ok(self.change_ticket(after))
    }
}
