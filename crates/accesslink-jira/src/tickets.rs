//! The [`TicketingSystem`] implementation: issues and JSM requests as tickets.

use std::collections::HashSet;

use accesslink_core::write::write_with_lookup;
use accesslink_core::{
    Comment, CorrelationId, Error, ErrorKind, NewTicket, ObjectSchema, Page, PageRequest,
    Resolution, Result, Ticket, TicketComment, TicketKind, TicketQuery, TicketRef, TicketingSystem,
    Visibility, async_trait,
};
use futures::{StreamExt, TryStreamExt};
use serde_json::{Map, json};

use crate::adf::text_of;
use crate::api::IssueFieldsRequest;
use crate::connector::{JiraConnector, person};
use crate::error::parse_datetime;
use crate::jql::Jql;
use crate::models::{Issue, Transition};
use crate::refs::IssueRef;
use crate::settings::Deployment;
use crate::status::{approval_of, status_of};

/// Search pages read at most for one batch or correlation look-up: a server repeating
/// pages under new tokens cannot keep the connector reading.
const MAX_PAGES: usize = 50;

/// JSM approval reads in flight at once during a batched read.
const APPROVAL_READS_AT_ONCE: usize = 4;

/// Words in a transition's or status's name that mean "closed without doing it".
const CANCEL_WORDS: &[&str] = &["cancel", "declin", "reject", "won't", "wont"];

impl JiraConnector {
    /// The label that carries a correlation id: the configured prefix and the id.
    /// Labels cannot hold spaces, and nothing that reaches JQL may hold control characters.
    pub fn correlation_label(&self, id: &CorrelationId) -> Result<String> {
        let raw = id.as_str();
        if raw.is_empty()
            || raw.len() > 200
            || raw.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(Error::invalid_input(
                "a Jira correlation id must be 1-200 characters without spaces or control characters (it becomes a label)",
            ));
        }
        Ok(format!("{}{raw}", self.settings.correlation_label_prefix))
    }

    fn kind_of(&self, issue_type: Option<&str>) -> TicketKind {
        let Some(name) = issue_type else {
            return TicketKind::Other(String::new());
        };
        for (kind, ty) in &self.settings.issue_types {
            if ty.eq_ignore_ascii_case(name) {
                if let Ok(k) = serde_json::from_value::<TicketKind>(json!(kind)) {
                    return k;
                }
            }
        }
        match name.to_ascii_lowercase().as_str() {
            "incident" => TicketKind::Incident,
            "change" | "normal change" | "standard change" | "emergency change" => {
                TicketKind::Change
            }
            "problem" => TicketKind::Problem,
            "service request" | "service request with approvals" | "access" => TicketKind::Request,
            "task" | "sub-task" | "subtask" => TicketKind::Task,
            _ => TicketKind::Other(name.to_owned()),
        }
    }

    /// Converts an issue (and its approvals, when read) to the common model. `asked` is
    /// the reference it was read by: an older key than the issue's means it moved, and
    /// `extra.previous_key` says so.
    pub fn to_ticket(
        &self,
        issue: &Issue,
        approvals: Option<&[crate::models::JsmApproval]>,
        asked: Option<&IssueRef>,
    ) -> Ticket {
        let f = &issue.fields;
        let reference = TicketRef::by_id_and_number(issue.id.clone(), issue.key.clone());
        let mut t = Ticket::new(
            reference,
            self.kind_of(f.issuetype.as_ref().and_then(|t| t.name.as_deref())),
            f.summary.clone().unwrap_or_default(),
            status_of(&self.status_map, f),
        );
        t.description = f.description.as_ref().and_then(text_of);
        t.requester = f.reporter.as_ref().map(person);
        t.assignee = f.assignee.as_ref().map(person);
        t.priority = f.priority.as_ref().and_then(|p| p.name.clone());
        t.created = f.created.as_deref().and_then(parse_datetime);
        t.updated = f.updated.as_deref().and_then(parse_datetime);
        let site = self.client.site().as_str().trim_end_matches('/');
        t.web_url = Some(format!("{site}/browse/{}", issue.key));
        t.approval = approval_of(&self.status_map, approvals);
        t.resolution = f.resolution.as_ref().and_then(|r| r.name.clone());
        t.correlation_id = self.correlation_of(issue).map(CorrelationId::new);
        let mut extra = Map::new();
        if let Ok(v) = serde_json::to_value(issue) {
            extra.insert("issue".into(), v);
        }
        if let Some(status) = &f.status {
            if let Some(key) = status.status_category.as_ref().and_then(|c| c.key.clone()) {
                extra.insert("status_category".into(), json!(key));
            }
        }
        if let Some(IssueRef::Key(old)) = asked {
            if !old.eq_ignore_ascii_case(&issue.key) {
                extra.insert("previous_key".into(), json!(old));
            }
        }
        if let Some(a) = approvals {
            extra.insert("approvals".into(), json!(a));
        }
        t.extra = extra;
        t
    }

    async fn approvals_of(&self, key: &str) -> Result<Option<Vec<crate::models::JsmApproval>>> {
        if !self.settings.jsm_approvals {
            return Ok(None);
        }
        self.client
            .jsm()
            .approvals(&IssueRef::Key(key.to_owned()))
            .await
    }

    async fn read(&self, r: &IssueRef) -> Result<Option<Ticket>> {
        let Some(issue) = self.client.issues().get_opt(r).await? else {
            return Ok(None);
        };
        let approvals = self.approvals_of(&issue.key).await?;
        Ok(Some(self.to_ticket(&issue, approvals.as_deref(), Some(r))))
    }

    /// Every issue matching `jql`, all pages, stopping on a repeated page token.
    pub(crate) async fn search_all(&self, jql: &Jql, size: u32) -> Result<Vec<Issue>> {
        let issues = self.client.issues();
        let mut out = Vec::new();
        let mut at: Option<String> = None;
        let mut seen_tokens = HashSet::new();
        for _ in 0..MAX_PAGES {
            let page = issues.search_page(jql, at.as_deref(), size).await?;
            if let Some(total) = page.total {
                let got = out.len() as u64 + page.issues.len() as u64;
                if page.next.is_none() && got < total && at.is_none() {
                    return Err(Error::protocol(
                        "jira search",
                        format!("{total} issues reported, {got} received"),
                    ));
                }
            }
            out.extend(page.issues);
            match page.next {
                None => return Ok(out),
                Some(next) => {
                    if !seen_tokens.insert(next.clone()) {
                        return Err(Error::protocol(
                            "jira search",
                            "the server repeated a page token",
                        ));
                    }
                    at = Some(next);
                }
            }
        }
        Err(Error::protocol(
            "jira search",
            format!("more than {MAX_PAGES} pages"),
        ))
    }

    /// The correlation id an issue carries: the custom field's text, or the label after
    /// the prefix.
    fn correlation_of(&self, issue: &Issue) -> Option<String> {
        let f = &issue.fields;
        if let Some(field) = &self.settings.correlation_field {
            return f
                .other
                .get(field)
                .and_then(|v| v.as_str())
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned);
        }
        let prefix = &self.settings.correlation_label_prefix;
        f.labels
            .iter()
            .flatten()
            .find_map(|l| l.strip_prefix(prefix.as_str()).filter(|id| !id.is_empty()))
            .map(str::to_owned)
    }

    async fn find_issue(&self, id: &CorrelationId) -> Result<Option<Issue>> {
        let label = self.correlation_label(id)?;
        let jql = match &self.settings.correlation_field {
            // Text search tokenises: the phrase narrows, the exact comparison decides.
            Some(field) => {
                let cf = format!("cf[{}]", field.trim_start_matches("customfield_"));
                Jql::new().phrase(&cf, id.as_str())?.order_by("created")
            }
            None => Jql::new().eq("labels", &label)?.order_by("created"),
        };
        let found: Vec<Issue> = self
            .search_all(&jql, 10)
            .await?
            .into_iter()
            .filter(|i| self.correlation_of(i).as_deref() == Some(id.as_str()))
            .collect();
        if found.len() > 1 {
            tracing::warn!(
                label,
                count = found.len(),
                "several Jira issues carry one correlation label; using the oldest"
            );
        }
        Ok(found.into_iter().next())
    }

    async fn send_create(&self, new: &NewTicket, label: &str) -> Result<String> {
        let desk = self.settings.service_desk.as_ref();
        let request_type = desk.and_then(|d| d.request_types.get(&new.kind.to_string()));
        if let (Some(desk), Some(rt)) = (desk, request_type) {
            let mut fields = new.extra.clone();
            fields.insert("summary".into(), json!(new.title));
            fields.insert("description".into(), json!(new.description));
            match &self.settings.correlation_field {
                Some(f) => fields.insert(f.clone(), json!(new.correlation_id.as_str())),
                None => fields.insert("labels".into(), json!([label])),
            };
            // Cloud takes an account id, Data Center a user name; a login is not an
            // account id, so on Cloud only a requester with an id is raised on behalf of.
            let on_behalf = new
                .requester
                .as_ref()
                .and_then(|p| match self.client.deployment() {
                    Deployment::Cloud => p.id.clone(),
                    Deployment::DataCenter => p.login.clone().or_else(|| p.id.clone()),
                });
            let created = self
                .client
                .jsm()
                .create_request(&desk.id, rt, fields, on_behalf.as_deref())
                .await?;
            return Ok(created.issue_key);
        }
        let project = self.settings.project.clone().ok_or(Error::Unsupported {
            operation: "create_ticket without a configured project",
            target: "jira",
        })?;
        let mut req = IssueFieldsRequest::new(
            project,
            self.settings.issue_type_of(&new.kind),
            new.title.clone(),
        );
        req.description = new.description.clone();
        req.extra = new.extra.clone();
        match &self.settings.correlation_field {
            Some(f) => {
                req.extra
                    .insert(f.clone(), json!(new.correlation_id.as_str()));
            }
            None => req.labels = vec![label.to_owned()],
        }
        if let Some(p) = &new.priority {
            req.extra.insert("priority".into(), json!({ "name": p }));
        }
        Ok(self.client.issues().create(&req).await?.key)
    }

    fn pick_transition<'t>(
        &self,
        transitions: &'t [Transition],
        how: &Resolution,
    ) -> Result<&'t Transition> {
        let named = if how.successful {
            self.settings.close_transition.as_deref()
        } else {
            self.settings.cancel_transition.as_deref()
        };
        if let Some(name) = named {
            return transitions
                .iter()
                .find(|t| t.name.eq_ignore_ascii_case(name))
                .ok_or_else(|| {
                    Error::invalid_input(format!(
                        "the transition {name:?} is not available from the issue's status"
                    ))
                });
        }
        let done: Vec<&Transition> = transitions
            .iter()
            .filter(|t| {
                t.to.as_ref()
                    .and_then(|s| s.status_category.as_ref())
                    .and_then(|c| c.key.as_deref())
                    == Some("done")
            })
            .collect();
        let cancels = |t: &&Transition| {
            let to = t.to.as_ref().and_then(|s| s.name.as_deref()).unwrap_or("");
            let text = format!("{} {to}", t.name).to_ascii_lowercase();
            CANCEL_WORDS.iter().any(|w| text.contains(w))
        };
        // Success never goes through a cancellation; a failure prefers one, and takes any
        // `done` transition where the workflow has none.
        let preferred = done.iter().find(|t| cancels(t) != how.successful);
        let fallback = (!how.successful).then(|| done.first()).flatten();
        preferred.or(fallback).copied().ok_or_else(|| {
            let names: Vec<&str> = transitions.iter().map(|t| t.name.as_str()).collect();
            Error::invalid_input(format!(
                "no transition to a status in the done category fits a {} close (there are {names:?})",
                if how.successful { "successful" } else { "failed" }
            ))
        })
    }
}

/// A JQL batch failed because one of its keys is gone (Jira refuses `key in (…)` with a
/// key it does not know): the batch is read one by one instead.
fn missing_key_in_jql(e: &Error) -> bool {
    e.kind() == ErrorKind::NotFound && e.as_api().is_some_and(|a| a.status.as_u16() == 400)
}

#[async_trait]
impl TicketingSystem for JiraConnector {
    /// An issue key (`ITSM-42`, any case) or a numeric id; see [`crate::refs`].
    fn parse_ticket_ref(&self, raw: &str) -> Result<TicketRef> {
        IssueRef::parse(raw).map(|r| r.to_ticket_ref())
    }

    /// Looks the correlation label up, creates the issue (or JSM request) when there is
    /// none, and reads it back. After an ambiguous failure (lost answer, 5xx, timeout) the
    /// label is looked up again before another send ([`write_with_lookup`]).
    async fn create_ticket(&self, new: &NewTicket) -> Result<Ticket> {
        let label = self.correlation_label(&new.correlation_id)?;
        if let Some(found) = self.find_issue(&new.correlation_id).await? {
            let approvals = self.approvals_of(&found.key).await?;
            return Ok(self.to_ticket(&found, approvals.as_deref(), None));
        }
        let retry = self.client.retry_config().clone();
        let key = write_with_lookup(
            &retry,
            "create jira issue",
            |_| self.send_create(new, &label),
            || async { Ok(self.find_issue(&new.correlation_id).await?.map(|i| i.key)) },
        )
        .await?
        .into_inner();
        let r = IssueRef::parse(&key)?;
        self.read(&r).await?.ok_or_else(|| {
            Error::protocol(
                "jira create issue",
                format!("the new issue {key} cannot be read back"),
            )
        })
    }

    async fn find_by_correlation(&self, id: &CorrelationId) -> Result<Option<Ticket>> {
        let Some(issue) = self.find_issue(id).await? else {
            return Ok(None);
        };
        let approvals = self.approvals_of(&issue.key).await?;
        Ok(Some(self.to_ticket(&issue, approvals.as_deref(), None)))
    }

    async fn get_ticket(&self, r: &TicketRef) -> Result<Option<Ticket>> {
        let r = IssueRef::of_ticket(r)?;
        self.read(&r).await
    }

    /// One JQL search per batch (`key in (…)`, `id in (…)`, `batch_size` at a time);
    /// only hits that are what was asked are kept, an asked issue no hit answers (moved,
    /// or a search that ignored its query) is read on its own, and a batch Jira refuses
    /// because a key is gone is read issue by issue.
    async fn get_tickets(&self, refs: &[TicketRef]) -> Result<Vec<Ticket>> {
        let parsed = refs
            .iter()
            .map(IssueRef::of_ticket)
            .collect::<Result<Vec<_>>>()?;
        let mut seen = HashSet::new();
        let (mut keys, mut ids) = (Vec::new(), Vec::new());
        for r in parsed {
            if seen.insert(r.clone()) {
                match r {
                    IssueRef::Key(k) => keys.push(k),
                    IssueRef::Id(i) => ids.push(i),
                }
            }
        }
        let size = self.settings.batch_size as usize;
        let mut issues: Vec<(Issue, Option<IssueRef>)> = Vec::new();
        for (field, list) in [("key", &keys), ("id", &ids)] {
            for chunk in list.chunks(size) {
                let jql = Jql::new().in_list(field, chunk)?;
                match self.search_all(&jql, size as u32).await {
                    Ok(found) => {
                        // Never trust a hit: keep only the issues asked for. An asked
                        // reference no hit answers (a moved issue, found under its new key,
                        // or a search that ignored the query) is read on its own, which
                        // resolves a move and finds nothing for an absent issue.
                        let mut answered = HashSet::new();
                        for issue in found {
                            let own = if field == "key" {
                                &issue.key
                            } else {
                                &issue.id
                            };
                            if let Some(asked) = chunk.iter().find(|a| a.eq_ignore_ascii_case(own))
                            {
                                answered.insert(asked.clone());
                                issues.push((issue, None));
                            }
                        }
                        for one in chunk.iter().filter(|a| !answered.contains(*a)) {
                            let r = if field == "key" {
                                IssueRef::Key(one.clone())
                            } else {
                                IssueRef::Id(one.clone())
                            };
                            if let Some(i) = self.client.issues().get_opt(&r).await? {
                                issues.push((i, Some(r)));
                            }
                        }
                    }
                    Err(e) if missing_key_in_jql(&e) => {
                        for one in chunk {
                            let r = if field == "key" {
                                IssueRef::Key(one.clone())
                            } else {
                                IssueRef::Id(one.clone())
                            };
                            if let Some(i) = self.client.issues().get_opt(&r).await? {
                                issues.push((i, Some(r)));
                            }
                        }
                    }
                    Err(e) => return Err(e),
                }
            }
        }
        let mut ids_seen = HashSet::new();
        issues.retain(|(i, _)| ids_seen.insert(i.id.clone()));
        // Approvals are one request per JSM request: a few at a time, in order.
        futures::stream::iter(issues)
            .map(|(issue, asked)| async move {
                let approvals = self.approvals_of(&issue.key).await?;
                Ok(self.to_ticket(&issue, approvals.as_deref(), asked.as_ref()))
            })
            .buffered(APPROVAL_READS_AT_ONCE)
            .try_collect()
            .await
    }

    /// A public comment, or an internal one (JSM `sd.public.comment` property; plain Jira
    /// projects have no internal comments and show it to everyone who sees the issue).
    /// Sent once: a comment is not repeated after an ambiguous failure.
    async fn add_comment(&self, r: &TicketRef, c: &Comment) -> Result<()> {
        let r = IssueRef::of_ticket(r)?;
        let internal = c.visibility == Visibility::Internal;
        self.client.issues().comment(&r, &c.body, internal).await
    }

    /// Finds, at run time, a transition to a status in the `done` category (ids and
    /// names differ per workflow), sets the resolution when the transition's screen has
    /// the field, adds the notes as a comment, and reads the issue back to confirm.
    async fn close_ticket(&self, r: &TicketRef, how: &Resolution) -> Result<Ticket> {
        let r = IssueRef::of_ticket(r)?;
        let current = self
            .read(&r)
            .await?
            .ok_or_else(|| Error::not_found(format!("jira issue {r}")))?;
        if current.status.state.is_terminal() {
            return Ok(current);
        }
        let transitions = self.client.issues().transitions(&r).await?;
        let t = self.pick_transition(&transitions, how)?;
        let has_resolution = t
            .fields
            .as_ref()
            .is_some_and(|f| f.contains_key("resolution"));
        let resolution = has_resolution.then(|| {
            how.code.clone().unwrap_or_else(|| {
                if how.successful {
                    self.settings.resolution.clone()
                } else {
                    self.settings.failed_resolution.clone()
                }
            })
        });
        let sent = self
            .client
            .issues()
            .transition(&r, &t.id, resolution.as_deref(), &how.notes)
            .await;
        let after = match sent {
            Ok(()) => self.read(&r).await?,
            // The answer may be lost after the transition landed: read back to know.
            Err(e) if e.is_retryable() => match self.read(&r).await {
                Ok(Some(t)) if t.status.state.is_terminal() => Some(t),
                _ => return Err(e),
            },
            Err(e) => return Err(e),
        };
        let after = after.ok_or_else(|| Error::not_found(format!("jira issue {r}")))?;
        if !after.status.state.is_terminal() {
            return Err(Error::protocol(
                "jira transition",
                format!(
                    "transition {:?} left {r} in {:?} ({})",
                    t.name, after.status.raw, after.status.state
                ),
            ));
        }
        Ok(after)
    }

    /// One search page of `project = "P" AND updated >= "yyyy/MM/dd HH:mm" ORDER BY
    /// updated ASC, key ASC` (the watermark rounded down to the minute in the API user's
    /// zone; scope `PROJ` or `PROJ/requestTypeId`); kinds, states and the request type
    /// are checked on the rows. See [`crate::intake`].
    async fn list_tickets(&self, query: &TicketQuery, page: PageRequest) -> Result<Page<Ticket>> {
        self.list_page(query, page).await
    }

    /// Every comment, oldest first, with ids, authors, times and visibility (JSM
    /// `jsdPublic`/`sd.public.comment`, role or group restrictions); ADF bodies as text.
    async fn list_comments(&self, r: &TicketRef) -> Result<Vec<TicketComment>> {
        let r = IssueRef::of_ticket(r)?;
        self.comments_of(&r).await
    }

    /// The create screen of the kind's issue type in the configured project (createmeta),
    /// with allowed values.
    async fn ticket_schema(&self, kind: &TicketKind) -> Result<ObjectSchema> {
        self.schema_of(kind).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jira() -> JiraConnector {
        let s: crate::JiraSettings = serde_json::from_value(json!({
            "deployment": "cloud", "base_url": "https://a.atlassian.net",
            "auth": {"method": "basic", "email": "e", "api_token": "t"}
        }))
        .unwrap();
        JiraConnector::from_settings(s).unwrap()
    }

    fn transition(id: &str, name: &str, to: &str, category: &str) -> Transition {
        serde_json::from_value(json!({"id": id, "name": name, "to": {"name": to, "statusCategory": {"key": category}}}))
            .unwrap()
    }

    #[test]
    fn transitions_are_picked_by_category_and_intent() {
        let j = jira();
        let all = [
            transition("11", "Start", "In Progress", "indeterminate"),
            transition("41", "Won't do", "Done", "done"),
            transition("31", "Resolve", "Done", "done"),
        ];
        assert_eq!(
            j.pick_transition(&all, &Resolution::done("x")).unwrap().id,
            "31"
        );
        assert_eq!(
            j.pick_transition(&all, &Resolution::failed("x"))
                .unwrap()
                .id,
            "41"
        );
        // Only a cancellation leads to done: a success is refused, a failure takes it.
        let cancel_only = [all[0].clone(), all[1].clone()];
        assert!(
            j.pick_transition(&cancel_only, &Resolution::done("x"))
                .is_err()
        );
        assert_eq!(
            j.pick_transition(&cancel_only, &Resolution::failed("x"))
                .unwrap()
                .id,
            "41"
        );
        // No cancellation: a failure takes the plain done transition.
        let plain = [all[0].clone(), all[2].clone()];
        assert_eq!(
            j.pick_transition(&plain, &Resolution::failed("x"))
                .unwrap()
                .id,
            "31"
        );
        assert!(
            j.pick_transition(&all[..1], &Resolution::failed("x"))
                .is_err()
        );
    }

    #[test]
    fn correlation_labels_refuse_spaces_and_controls() {
        let j = jira();
        assert_eq!(
            j.correlation_label(&CorrelationId::new("req-7781"))
                .unwrap(),
            "accesslink-req-7781"
        );
        for bad in ["", "a b", "a\tb", "x\u{0}"] {
            assert!(
                j.correlation_label(&CorrelationId::new(bad)).is_err(),
                "{bad:?}"
            );
        }
    }
}
