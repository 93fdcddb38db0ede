//! `incidents` and `serviceRequests` (fact sheet §1.10): create, get, update (POST),
//! close with a configured reason, responses (public or internal, with the caller's
//! `extTicketResponseId`), and search with its
//! one-month default window.

use std::time::{Duration, SystemTime};

use serde_json::{Map, Value, json};
use wiremock::ResponseTemplate;

use super::routes::{Call, Paging, api_error, json_response, query_string};
use super::state::Tenant;

/// The statuses of the default status flow.
pub(crate) const STATUSES: [&str; 6] = ["New", "Open", "Pending", "On Hold", "Resolved", "Closed"];
/// Reasons configured for `Resolved` (`reasonsEnabled: true`).
pub(crate) const RESOLVED_REASONS: [&str; 2] = ["Fixed", "Workaround provided"];
/// Reasons configured for `Closed` (`reasonsEnabled: true`).
pub(crate) const CLOSED_REASONS: [&str; 3] = ["Completed", "Cancelled", "Duplicate"];
const PRIORITIES: [&str; 5] = ["Low", "Normal", "High", "Urgent", "Very Low"];

/// Which list a ticket is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TicketType {
    Incident,
    ServiceRequest,
}

impl TicketType {
    pub(crate) fn of_path(segment: &str) -> Option<Self> {
        match segment {
            "incidents" => Some(TicketType::Incident),
            "serviceRequests" => Some(TicketType::ServiceRequest),
            _ => None,
        }
    }

    pub(crate) fn prefix(self) -> &'static str {
        match self {
            TicketType::Incident => "INC",
            TicketType::ServiceRequest => "SRQ",
        }
    }
}

/// One response ("conversation") on a ticket.
#[derive(Debug, Clone)]
pub(crate) struct Response {
    pub(crate) description: String,
    pub(crate) internal: bool,
    pub(crate) created: String,
    /// The caller's `extTicketResponseId`, stored and returned as sent (§1.10).
    pub(crate) ext_id: Option<String>,
    /// `creator{id,loginName}` of a response a person wrote in the UI.
    pub(crate) creator: Option<Value>,
}

impl Response {
    fn json(&self) -> Value {
        let mut v = json!({"description": self.description, "internal": self.internal,
                           "createdDate": self.created, "hasAttachments": false});
        if let Some(x) = &self.ext_id {
            v["extTicketResponseId"] = json!(x);
        }
        if let Some(c) = &self.creator {
            v["creator"] = c.clone();
        }
        v
    }
}

/// One ticket.
#[derive(Debug, Clone)]
pub(crate) struct TicketRec {
    pub(crate) ty: TicketType,
    pub(crate) fields: Map<String, Value>,
    pub(crate) status: String,
    pub(crate) old_status: String,
    pub(crate) created: SystemTime,
    pub(crate) updated: SystemTime,
    pub(crate) responses: Vec<Response>,
    pub(crate) reason: Option<String>,
}

/// `2016-11-01T11:54:24+0000`: OpsRamp's body format (no colon in the offset).
pub(crate) fn format_time(t: SystemTime) -> String {
    let s = crate_time(t);
    format!("{}+0000", &s[..19])
}

fn crate_time(t: SystemTime) -> String {
    accesslink_core::time::format_rfc3339_millis(t)
}

/// Parses `yyyy-MM-ddTHH:mm:ss` at the start of a filter value (the offset, which
/// arrives as ` 0000` because a literal `+` would split the queryString, is ignored: GMT).
fn parse_filter_time(v: &str) -> Option<SystemTime> {
    let head = v.get(..19)?.replace('T', " ");
    accesslink_core::time::parse_local_datetime(&head, 0)
}

impl TicketRec {
    pub(crate) fn json(&self, id: &str) -> Value {
        let mut v = Value::Object(self.fields.clone());
        v["id"] = json!(id);
        v["status"] = json!(self.status);
        v["oldStatus"] = json!(self.old_status);
        v["createdDate"] = json!(format_time(self.created));
        v["updatedDate"] = json!(format_time(self.updated));
        v["source"] = json!("INTEGRATION");
        let allowed: Vec<Value> = allowed_from(&self.status)
            .iter()
            .map(|s| {
                let reasons = matches!(*s, "Resolved" | "Closed");
                json!({"id": s, "name": s, "reasonsEnabled": reasons, "reasonsDefined": reasons})
            })
            .collect();
        v["allowedStatus"] = Value::Array(allowed);
        if let Some(r) = &self.reason {
            v["statusReason"] = json!(r);
        }
        v
    }
}

/// The default flow: anything but the current status, and nothing out of Closed but a
/// reopen to Open.
fn allowed_from(status: &str) -> Vec<&'static str> {
    if status == "Closed" {
        return vec!["Open"];
    }
    STATUSES.into_iter().filter(|s| *s != status).collect()
}

/// Checks a move to `to` with `reason`: allowed by the flow, and a configured reason
/// where the status has `reasonsEnabled` (a free-text reason is refused).
fn check_move(from: &str, to: &str, reason: Option<&str>) -> Result<(), ResponseTemplate> {
    if !STATUSES.contains(&to) {
        return Err(api_error(400, "0400", &format!("Invalid status: {to}")));
    }
    if !allowed_from(from).contains(&to) {
        return Err(api_error(
            400,
            "0400",
            &format!("Status change from {from} to {to} is not allowed"),
        ));
    }
    let reasons: &[&str] = match to {
        "Resolved" => &RESOLVED_REASONS,
        "Closed" => &CLOSED_REASONS,
        _ => &[],
    };
    if !reasons.is_empty() && !reason.is_some_and(|r| reasons.contains(&r)) {
        return Err(api_error(
            400,
            "0400",
            &format!(
                "A reason configured for {to} is required: one of {}",
                reasons.join(", ")
            ),
        ));
    }
    Ok(())
}

fn text(body: &Value, key: &str) -> Option<String> {
    body.get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn not_found(id: &str) -> ResponseTemplate {
    api_error(404, "0404", &format!("Ticket not found: {id}"))
}

pub(crate) fn route(t: &mut Tenant, ty: TicketType, c: &Call<'_>) -> ResponseTemplate {
    let now = t.now();
    let found = |t: &Tenant, id: &str| t.tickets.get(id).filter(|r| r.ty == ty).is_some();
    match (c.method, &c.parts[1..]) {
        ("GET", ["search"]) => search(t, ty, c, now),
        ("POST", []) => match c.json() {
            Ok(body) => create(t, ty, body, now),
            Err(e) => e,
        },
        ("GET", [id]) => match t.tickets.get(*id).filter(|r| r.ty == ty) {
            Some(r) => json_response(200, &r.json(id)),
            None => not_found(id),
        },
        ("POST", [id]) if found(t, id) => {
            let body = match c.json() {
                Ok(b) => b,
                Err(e) => return e,
            };
            let rec = t.tickets.get_mut(*id).expect("checked");
            if let Some(to) = text(body, "status") {
                if let Err(e) = check_move(&rec.status, &to, text(body, "reason").as_deref()) {
                    return e;
                }
                rec.old_status = std::mem::replace(&mut rec.status, to);
                rec.reason = text(body, "reason");
            }
            for key in ["subject", "description", "priority"] {
                if let Some(v) = body.get(key) {
                    rec.fields.insert(key.into(), v.clone());
                }
            }
            rec.updated = now;
            json_response(200, &rec.json(id))
        }
        ("POST", [id, "close"]) if found(t, id) => {
            let body = c.body.cloned().unwrap_or(Value::Null);
            let rec = t.tickets.get_mut(*id).expect("checked");
            let reason = text(&body, "reason");
            if let Err(e) = check_move(&rec.status, "Closed", reason.as_deref()) {
                return e;
            }
            rec.old_status = std::mem::replace(&mut rec.status, "Closed".into());
            rec.reason = reason;
            if let Some(notes) = text(&body, "notes") {
                rec.responses.push(Response {
                    description: notes,
                    internal: true,
                    created: format_time(now),
                    ext_id: None,
                    creator: None,
                });
            }
            rec.updated = now;
            json_response(200, &rec.json(id))
        }
        ("POST", [id, "responses"]) if found(t, id) => {
            let body = match c.json() {
                Ok(b) => b,
                Err(e) => return e,
            };
            let Some(description) = text(body, "description") else {
                return api_error(400, "0400", "description is required");
            };
            let internal = body
                .get("internal")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            // Any scalar is accepted and kept as text (the spec's example is "12345").
            let ext_id = match body.get("extTicketResponseId") {
                Some(Value::String(x)) if !x.trim().is_empty() => Some(x.trim().to_owned()),
                Some(Value::Number(n)) => Some(n.to_string()),
                _ => None,
            };
            let rec = t.tickets.get_mut(*id).expect("checked");
            let response = Response {
                description,
                internal,
                created: format_time(now),
                ext_id,
                creator: None,
            };
            let answer = response.json();
            rec.responses.push(response);
            // Adding a response to a Pending ticket flips it to Open (a tenant setting,
            // on in the mock).
            if rec.status == "Pending" {
                rec.old_status = std::mem::replace(&mut rec.status, "Open".into());
            }
            rec.updated = now;
            json_response(200, &answer)
        }
        ("GET", [id, "responses", "search"]) if found(t, id) => {
            let rec = &t.tickets[*id];
            let all: Vec<String> = (0..rec.responses.len()).map(|i| i.to_string()).collect();
            let paging = match Paging::parse(c.query) {
                Ok(p) => p,
                Err(e) => return e,
            };
            let results = paging
                .positions(all.len())
                .into_iter()
                .map(|k| rec.responses[k].json())
                .collect();
            json_response(200, &paging.envelope(results, all.len(), true))
        }
        (_, [id, ..]) if !found(t, id) => not_found(id),
        _ => api_error(404, "0404", "Resource not found"),
    }
}

fn create(t: &mut Tenant, ty: TicketType, body: &Value, now: SystemTime) -> ResponseTemplate {
    let Some(subject) = text(body, "subject") else {
        return api_error(400, "0400", "subject is required");
    };
    if let Some(p) = text(body, "priority") {
        if !PRIORITIES.contains(&p.as_str()) {
            return api_error(400, "0400", &format!("Invalid priority: {p}"));
        }
    }
    let Value::Object(mut fields) = body.clone() else {
        return api_error(400, "0400", "Expected a JSON object");
    };
    fields.insert("subject".into(), json!(subject));
    fields.remove("status");
    t.ticket_seq += 1;
    let id = format!("{}{:010}", ty.prefix(), 1000 + t.ticket_seq);
    let rec = TicketRec {
        ty,
        fields,
        status: "New".into(),
        old_status: String::new(),
        created: now,
        updated: now,
        responses: Vec::new(),
        reason: None,
    };
    let v = rec.json(&id);
    t.tickets.insert(id, rec);
    json_response(200, &v)
}

/// Without both `startCreationDate` and `endCreationDate`, a search covers only the
/// last month (fact sheet §1.10).
fn search(t: &Tenant, ty: TicketType, c: &Call<'_>, now: SystemTime) -> ResponseTemplate {
    let paging = match Paging::parse(c.query) {
        Ok(p) => p,
        Err(e) => return e,
    };
    let filters = match query_string(c.query) {
        Ok(f) => f,
        Err(e) => return e,
    };
    let mut start = now - Duration::from_secs(30 * 86_400);
    let mut end = now + Duration::from_secs(86_400);
    let get = |k: &str| {
        filters
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.as_str())
    };
    if let (Some(s), Some(e)) = (get("startCreationDate"), get("endCreationDate")) {
        match (parse_filter_time(s), parse_filter_time(e)) {
            (Some(s), Some(e)) => (start, end) = (s, e),
            _ => {
                return api_error(
                    400,
                    "0400",
                    "Invalid creation date (yyyy-MM-ddTHH:mm:ss 0000)",
                );
            }
        }
    }
    let hits: Vec<(&String, &TicketRec)> = t
        .tickets
        .iter()
        .filter(|(_, r)| r.ty == ty && r.created >= start && r.created <= end)
        .filter(|(id, r)| {
            t.unfiltered
                || filters.iter().all(|(k, v)| match k.as_str() {
                    "startCreationDate" | "endCreationDate" => true,
                    // Update-time window, to the second (the API's time format).
                    "startUpdationDate" => {
                        parse_filter_time(v).is_some_and(|s| seconds(r.updated) >= s)
                    }
                    "endUpdationDate" => {
                        parse_filter_time(v).is_some_and(|e| seconds(r.updated) <= e)
                    }
                    "uniqueId" => *id == v,
                    "status" => r.status.eq_ignore_ascii_case(v),
                    "extTicketId" | "priority" | "subject" => {
                        r.fields.get(k).and_then(Value::as_str) == Some(v.as_str())
                    }
                    _ => false,
                })
        })
        .collect();
    let results = paging
        .positions(hits.len())
        .into_iter()
        .map(|k| hits[k].1.json(hits[k].0))
        .collect();
    json_response(200, &paging.envelope(results, hits.len(), true))
}

/// A time truncated to the second, as OpsRamp shows and compares it.
fn seconds(t: SystemTime) -> SystemTime {
    let d = t.duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    std::time::UNIX_EPOCH + Duration::from_secs(d.as_secs())
}

/// Moves a ticket back in time, to test the one-month search window.
pub(crate) fn backdate(t: &mut Tenant, id: &str, days: u64) -> bool {
    match t.tickets.get_mut(id) {
        Some(r) => {
            r.created -= Duration::from_secs(days * 86_400);
            true
        }
        None => false,
    }
}
