//! Comments and closing, kind by kind, each confirmed by reading the row back.

use accesslink_core::write::write_with_lookup;
use accesslink_core::{Comment, Error, Resolution, Result, Ticket, TicketState, Visibility};
use serde_json::{Map, Value, json};

use crate::api::ListParams;
use crate::connector::ServiceNowConnector;
use crate::models::{JournalEntry, TaskRecord};
use crate::query::Query;
use crate::refs::{Locator, Target};
use crate::settings::{CommentField, IncidentClose};
use crate::tickets::show;

/// Journal entries looked at when checking whether a lost comment landed.
const JOURNAL_LOOKBACK: u32 = 20;

impl ServiceNowConnector {
    /// The journal field a comment goes to.
    pub(crate) fn journal_field(&self, c: &Comment) -> &'static str {
        match (self.config.comments, c.visibility) {
            (CommentField::AlwaysComments, _) => "comments",
            (CommentField::AlwaysWorkNotes, _) => "work_notes",
            (_, Visibility::Internal) => "work_notes",
            _ => "comments",
        }
    }

    /// Appends a comment. A PATCH of a journal field is never repeated blindly: after an
    /// ambiguous failure the journal is read, and only a comment that did not land is
    /// sent again.
    pub(crate) async fn comment(&self, table: &str, sys_id: &str, c: &Comment) -> Result<()> {
        let field = self.journal_field(c);
        let api = self.tasks_in(table);
        let patch = json!({ field: c.body });
        write_with_lookup(
            self.client.http().retry_config(),
            "comment",
            |_| async { api.update(sys_id, &patch).await.map(drop) },
            || async {
                let landed = self.journal_has(sys_id, field, &c.body).await?;
                Ok(landed.then_some(()))
            },
        )
        .await
        .map(drop)
    }

    /// Whether the latest journal entries of a row include this text.
    async fn journal_has(&self, sys_id: &str, field: &str, body: &str) -> Result<bool> {
        // The body is compared here, never put into the query: it may hold `^`.
        let query = Query::new()
            .eq("element_id", sys_id)
            .eq("element", field)
            .order_by_desc("sys_created_on");
        let params = ListParams::new(query)
            .limit(JOURNAL_LOOKBACK)
            .no_count(true);
        let entries = self
            .client
            .table::<JournalEntry>("sys_journal_field")
            .list_page(&params)
            .await?
            .items;
        Ok(entries.iter().any(|e| {
            e.element_id.as_deref() == Some(sys_id)
                && e.value.as_deref().map(str::trim) == Some(body.trim())
        }))
    }

    /// Closes a ticket the way its table wants, then reads it back to confirm: a
    /// business rule can abort an update and still answer 200 (fact sheet §1 "Errors,
    /// rate limits, quirks").
    pub(crate) async fn close(&self, target: &Target, how: &Resolution) -> Result<Ticket> {
        let row = self
            .read_row(target)
            .await?
            .ok_or_else(|| Error::not_found(format!("ServiceNow ticket {}", show(target))))?;
        let table = row
            .sys_class_name
            .clone()
            .filter(|t| !t.is_empty())
            .unwrap_or_else(|| target.table.clone());
        let sys_id = row.sys_id.clone().ok_or_else(|| {
            Error::protocol(format!("GET {}", target.table), "a row without sys_id")
        })?;
        let steps = self.close_steps(&table, &row, how);
        if steps.is_empty() {
            return Ok(self.to_ticket(&table, &row));
        }
        let api = self.tasks_in(&table);
        for step in &steps {
            api.update_idempotent(&sys_id, step).await?;
        }
        let at = Target {
            table: table.clone(),
            locator: Locator::SysId(sys_id),
        };
        let after = self.read_row(&at).await?.ok_or_else(|| {
            Error::not_found(format!(
                "ServiceNow ticket {} after closing it",
                show(target)
            ))
        })?;
        let status = self.status_of(&table, &after);
        let wanted = steps
            .last()
            .and_then(|s| s.get("state"))
            .and_then(Value::as_str)
            .unwrap_or_default();
        // Exactly the state asked for: "some finished state" would pass an incident a
        // business rule kept at Resolved (6) when Closed (7) was asked for, or a change
        // cancelled instead of closed.
        if after.state.as_deref() != Some(wanted) {
            let hint = if table == "incident" && status.raw == "6" {
                " (if the instance closes resolved incidents itself, use IncidentClose::ResolveOnly)"
            } else {
                ""
            };
            return Err(Error::Conflict {
                message: format!(
                    "ServiceNow kept {} in state {:?} ({}) instead of {wanted:?} after the close was accepted: a business rule or the state model refused it{hint}",
                    show(target),
                    status.raw,
                    status.state,
                ),
            });
        }
        Ok(self.to_ticket(&table, &after))
    }

    /// The PATCH bodies that close a row of `table`; none when it is already closed.
    fn close_steps(
        &self,
        table: &str,
        row: &TaskRecord,
        how: &Resolution,
    ) -> Vec<Map<String, Value>> {
        let state = self.status_of(table, row).state;
        let notes = if how.notes.trim().is_empty() {
            "Closed by accesslink.".to_owned()
        } else {
            how.notes.clone()
        };
        let obj = |v: Value| match v {
            Value::Object(m) => m,
            _ => Map::new(),
        };
        match table {
            "incident" => {
                let close = self.config.incident_close == IncidentClose::ResolveAndClose;
                match state {
                    TicketState::Closed | TicketState::Cancelled => vec![],
                    TicketState::Resolved if !close => vec![],
                    // Resolved already: its close code and notes are on the row.
                    TicketState::Resolved => vec![obj(json!({ "state": "7" }))],
                    _ if !how.successful => {
                        // Canceled (8) needs no close code, and `Canceled` is none of the
                        // incident's close-code choices: send one only when given.
                        let mut m = obj(json!({ "state": "8", "close_notes": notes }));
                        if let Some(code) = &how.code {
                            m.insert("close_code".into(), code.clone().into());
                        }
                        vec![m]
                    }
                    _ => {
                        // A data policy makes close code and notes mandatory on resolve.
                        let code = how
                            .code
                            .clone()
                            .unwrap_or_else(|| self.config.incident_close_code.clone());
                        let mut steps = vec![obj(json!({
                            "state": "6",
                            "close_code": code,
                            "close_notes": notes,
                        }))];
                        if close {
                            steps.push(obj(json!({ "state": "7" })));
                        }
                        steps
                    }
                }
            }
            // Resolved (106) is not closed yet: close it, as for incidents.
            "problem" => match state {
                TicketState::Closed | TicketState::Cancelled => vec![],
                _ => {
                    let mut m = obj(json!({ "state": "107", "close_notes": notes }));
                    if let Some(code) = &how.code {
                        m.insert("resolution_code".into(), code.clone().into());
                    }
                    vec![m]
                }
            },
            _ if state.is_terminal() => vec![],
            "change_request" => vec![obj(json!({
                "state": "3",
                "close_code": how.code.clone().unwrap_or_else(|| {
                    if how.successful { "successful" } else { "unsuccessful" }.into()
                }),
                "close_notes": notes,
            }))],
            "sc_request" => vec![obj(json!({
                "state": if how.successful { "3" } else { "4" },
                "request_state": if how.successful { "closed_complete" } else { "closed_incomplete" },
                "close_notes": notes,
            }))],
            // The task family: change_task, sc_req_item, sc_task, projects, task, custom.
            _ => vec![obj(json!({
                "state": if how.successful { "3" } else { "4" },
                "close_notes": notes,
            }))],
        }
    }
}
