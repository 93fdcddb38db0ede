//! The intake contract: listing tickets by update time (a change feed), reading notes
//! and worklogs back, and the ticket schema.
//!
//! - Listing: one `list_info` search per entity, `last_updated_time` `greater or equal`
//!   the watermark in epoch milliseconds, sorted by `last_updated_time` ascending; MSP
//!   adds `account.name`; the scope is a category (`Access` or `category:Access`), a
//!   template (`template:<name>`) or a site (`site:<name>`). States are filtered client
//!   side (SDP statuses are admin-defined names), and every row is confirmed with
//!   [`TicketQuery::matches`] and the scope. The page token is `<entity>:<start_index>`.
//! - Comments: `GET /{entity}/{id}/notes` (`show_to_requester` → public) and, with
//!   `worklogs = true`, `GET /{entity}/{id}/worklogs` (internal; ids `worklog-<id>`).
//! - Schema: the fields of the v3 docs, with allowed values from the `statuses`,
//!   `priorities` and `categories` collections where the instance answers them.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use accesslink_core::feed::TicketQuery;
use accesslink_core::schema::{AllowedValue, FieldSchema, FieldType, ObjectSchema};
use accesslink_core::{
    Error, ErrorKind, Page, PageRequest, PageToken, Person, Result, Ticket, TicketComment,
    TicketKind, TicketRef, Visibility,
};
use serde_json::Value;

use crate::connector::SdpConnector;
use crate::input::Criteria;
use crate::models::{self, User};
use crate::refs::{Entity, SdpRef};

fn person(u: &User) -> Person {
    Person {
        id: u.id.clone(),
        login: u.login_name.clone(),
        name: u.name.clone(),
        email: u.email_id.clone(),
    }
}

fn at(t: Option<&models::Time>) -> Option<SystemTime> {
    t.and_then(|t| t.value)
        .map(|ms| UNIX_EPOCH + Duration::from_millis(ms))
}

/// Which entities a query's kinds call for, in listing order.
fn entities(query: &TicketQuery) -> Vec<Entity> {
    if query.kinds.is_empty() {
        return vec![Entity::Request, Entity::Change];
    }
    let mut out = Vec::new();
    if query
        .kinds
        .iter()
        .any(|k| matches!(k, TicketKind::Request | TicketKind::Incident))
    {
        out.push(Entity::Request);
    }
    if query.kinds.contains(&TicketKind::Change) {
        out.push(Entity::Change);
    }
    out
}

/// The scope as a search field and value: `category:`, `template:`, `site:`, or a
/// bare category name.
fn scope_of(scope: &str) -> (&'static str, &str) {
    for (prefix, field) in [
        ("category:", "category.name"),
        ("template:", "template.name"),
        ("site:", "site.name"),
    ] {
        if let Some(v) = scope.strip_prefix(prefix) {
            return (field, v);
        }
    }
    ("category.name", scope)
}

fn row_name<'r>(row: &'r models::Ticket, key: &str) -> Option<&'r str> {
    row.rest
        .get(key)
        .and_then(|v| v.get("name"))
        .and_then(Value::as_str)
}

fn token(entity: Entity, start: u64) -> PageToken {
    PageToken::new(format!("{}:{start}", entity.key()))
}

impl SdpConnector {
    pub(crate) async fn list_tickets_page(
        &self,
        query: &TicketQuery,
        page: PageRequest,
    ) -> Result<Page<Ticket>> {
        let wanted = entities(query);
        let (mut entity, mut start) = match &page.token {
            None => match wanted.first() {
                Some(e) => (*e, 1),
                None => return Ok(Page::new(Vec::new(), None)),
            },
            Some(t) => {
                let bad = || Error::invalid_input("not an SDP ticket page token");
                let (e, n) = t.as_str().split_once(':').ok_or_else(bad)?;
                let e = match e {
                    "request" => Entity::Request,
                    "change" => Entity::Change,
                    _ => return Err(bad()),
                };
                let n = n.parse::<u64>().ok().filter(|n| *n >= 1).ok_or_else(bad)?;
                if !wanted.contains(&e) {
                    return Err(bad());
                }
                (e, n)
            }
        };
        let size = page.size_or(self.settings.batch_size).clamp(1, 100);
        let scope = query.scope.as_deref().map(scope_of);
        let mut c = Criteria::new();
        if let Some(since) = query.updated_since {
            let ms = since
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
            c = c.at_or_after("last_updated_time", ms)?;
        }
        if let Some((field, value)) = scope {
            c = c.is(field, value)?;
        }
        let c = self.scoped(c)?;
        // Rows the client drops (state, kind, scope) can empty a page: read on, so an
        // empty page means the end.
        loop {
            let api = self.client.tickets(entity);
            let listed = api
                .list_page_sorted(&c, start, size, "last_updated_time")
                .await?;
            crate::api::check_page(entity.path(), start, &listed.info, listed.rows.len())?;
            start += listed.rows.len() as u64;
            let mut items = Vec::new();
            for row in &listed.rows {
                let t = self.to_ticket(entity, row);
                if t.updated.is_none() {
                    return Err(Error::protocol(
                        format!("sdp {}", entity.path()),
                        format!("{} {} has no last_updated_time", entity.key(), row.id),
                    ));
                }
                let scope_ok = scope.is_none_or(|(field, value)| {
                    let key = field.trim_end_matches(".name");
                    row_name(row, key).is_some_and(|n| n.eq_ignore_ascii_case(value))
                });
                if self.in_scope(row) && scope_ok && query.matches(&t) {
                    items.push(t);
                }
            }
            let next = if listed.info.has_more_rows == Some(true) {
                Some(token(entity, start))
            } else {
                wanted
                    .iter()
                    .skip_while(|e| **e != entity)
                    .nth(1)
                    .map(|e| token(*e, 1))
            };
            match next {
                Some(t) if items.is_empty() => {
                    let (e, n) = t.as_str().split_once(':').expect("our token");
                    entity = if e == "change" {
                        Entity::Change
                    } else {
                        Entity::Request
                    };
                    start = n.parse().expect("our token");
                }
                next => return Ok(Page::new(items, next)),
            }
        }
    }

    pub(crate) async fn list_comments_of(&self, r: &TicketRef) -> Result<Vec<TicketComment>> {
        let r = SdpRef::of_ticket(r, self.settings.default_entity.into())?;
        let row = self
            .read_row(&r)
            .await?
            .ok_or_else(|| Error::not_found(format!("sdp {r}")))?;
        let api = self.client.worklogs(r.entity);
        let mut out: Vec<TicketComment> = Vec::new();
        for n in api.notes(&row.id).await? {
            let vis = if n.show_to_requester == Some(true) {
                Visibility::Public
            } else {
                Visibility::Internal
            };
            let mut c = TicketComment::new(n.id, vis, n.description.unwrap_or_default());
            c.author = n.created_by.as_ref().map(person);
            c.created = at(n.created_time.as_ref());
            out.push(c);
        }
        if self.settings.worklogs {
            for w in api.list(&row.id).await? {
                let mut c = TicketComment::new(
                    format!("worklog-{}", w.id),
                    Visibility::Internal,
                    w.description.unwrap_or_default(),
                );
                c.author = w.created_by.as_ref().or(w.owner.as_ref()).map(person);
                c.created = at(w.created_time.as_ref().or(w.start_time.as_ref()));
                out.push(c);
            }
        }
        // Oldest first (servers list notes newest first); the sort is stable.
        out.sort_by_key(|c| c.created.unwrap_or(UNIX_EPOCH));
        Ok(out)
    }

    /// Allowed values from a lookup collection; a collection the instance does not
    /// have (404 / 4007) gives none, any other failure is an error.
    async fn allowed(&self, path: &str) -> Result<Vec<AllowedValue>> {
        match self.client.lookups(path).list_all(20).await {
            Ok(rows) => Ok(rows
                .into_iter()
                .filter_map(|n| n.name)
                .map(|n| AllowedValue::new(n, None))
                .collect()),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(Vec::new()),
            Err(e) => Err(e),
        }
    }

    pub(crate) async fn ticket_schema_of(&self, kind: &TicketKind) -> Result<ObjectSchema> {
        let entity = match kind {
            TicketKind::Change => Entity::Change,
            TicketKind::Request | TicketKind::Incident => Entity::Request,
            other => {
                return Err(Error::invalid_input(format!(
                    "SDP has requests and changes, not {other:?}"
                )));
            }
        };
        let s = |name: &str, t: FieldType| FieldSchema::new(name, t);
        let reference =
            |name: &str, to: &str| FieldSchema::new(name, FieldType::Reference(to.into()));
        let time = |name: &str| FieldSchema::new(name, FieldType::DateTime);
        let paths = &self.settings.paths;
        let priorities = self.allowed(&paths.priorities).await?;
        let categories = self.allowed(&paths.categories).await?;
        let mut schema = ObjectSchema::new(entity.key())
            .field(s("id", FieldType::String).read_only())
            .field(
                s("display_id", FieldType::String)
                    .label("Number")
                    .read_only(),
            )
            .field(
                s(entity.title_field(), FieldType::String)
                    .label(if entity == Entity::Change {
                        "Title"
                    } else {
                        "Subject"
                    })
                    .required(),
            )
            .field(s("description", FieldType::Text).label("Description"));
        let status = s("status", FieldType::String).label("Status");
        schema = match entity {
            Entity::Request => {
                let statuses = self.allowed(&paths.statuses).await?;
                schema
                    .field(status.allowed(statuses))
                    .field(reference("requester", "requester").label("Requester"))
                    .field(reference("technician", "technician").label("Technician"))
                    .field(reference("group", "group").label("Group"))
                    .field(reference("request_type", "request_type").label("Request type"))
                    .field(reference("mode", "mode").label("Mode"))
                    .field(reference("level", "level").label("Level"))
                    .field(reference("urgency", "urgency").label("Urgency"))
                    .field(reference("impact", "impact").label("Impact"))
                    .field(reference("template", "template").label("Template"))
                    .field(
                        s("closure_info", FieldType::Other("closure_info".into())).label("Closure"),
                    )
                    .field(s("has_notes", FieldType::Boolean).read_only())
            }
            Entity::Change => schema
                .field(status)
                .field(
                    s("stage", FieldType::String).label("Stage").allowed(
                        [
                            "Submission",
                            "Planning",
                            "Approval",
                            "Implementation",
                            "Review",
                            "Close",
                        ]
                        .map(|v| AllowedValue::new(v, None)),
                    ),
                )
                .field(reference("change_requester", "requester").label("Requester"))
                .field(reference("change_manager", "technician").label("Change manager"))
                .field(reference("change_owner", "technician").label("Change owner"))
                .field(reference("change_type", "change_type").label("Change type"))
                .field(reference("risk", "risk").label("Risk"))
                .field(reference("impact", "impact").label("Impact"))
                .field(reference("urgency", "urgency").label("Urgency"))
                .field(reference("group", "group").label("Group"))
                .field(reference("template", "template").label("Template"))
                .field(reference("workflow", "workflow").label("Workflow"))
                .field(s("reason_for_change", FieldType::Text).label("Reason for change"))
                .field(s("roll_out_plan", FieldType::Text).label("Roll-out plan"))
                .field(s("back_out_plan", FieldType::Text).label("Back-out plan"))
                .field(time("scheduled_start_time").label("Scheduled start"))
                .field(time("scheduled_end_time").label("Scheduled end")),
        };
        schema = schema
            .field(
                s("priority", FieldType::String)
                    .label("Priority")
                    .allowed(priorities),
            )
            .field(
                s("category", FieldType::String)
                    .label("Category")
                    .allowed(categories),
            )
            .field(reference("subcategory", "subcategory").label("Subcategory"))
            .field(reference("item", "item").label("Item"))
            .field(reference("site", "site").label("Site"))
            .field(
                s("approval_status", FieldType::String)
                    .label("Approval status")
                    .read_only(),
            )
            .field(time("created_time").label("Created").read_only())
            .field(time("last_updated_time").label("Last updated").read_only())
            .field(time("completed_time").label("Completed").read_only())
            .field(s("is_trashed", FieldType::Boolean).read_only())
            .field(
                s("udf_fields", FieldType::Other("udf_fields".into())).label("Additional fields"),
            );
        if self.settings.deployment.account().is_some() {
            schema = schema.field(reference("account", "account").label("Account").required());
        }
        if let Some(udf) = &self.settings.correlation_udf {
            schema = schema.field(s(udf.as_str(), FieldType::String).label("Correlation id"));
        }
        Ok(schema)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_name_a_field() {
        assert_eq!(scope_of("Access"), ("category.name", "Access"));
        assert_eq!(scope_of("category:A:B"), ("category.name", "A:B"));
        assert_eq!(scope_of("template:New hire"), ("template.name", "New hire"));
        assert_eq!(scope_of("site:Berlin"), ("site.name", "Berlin"));
        assert_eq!(
            entities(&TicketQuery::new().kind(TicketKind::Incident)),
            [Entity::Request]
        );
        assert!(entities(&TicketQuery::new().kind(TicketKind::Problem)).is_empty());
    }
}
