//! The intake side of the contract: listings by update time (a change feed), responses
//! read back as comments, and the fixed ticket and user schemas of the vendor's docs.
//!
//! - [`list_tickets`](accesslink_core::TicketingSystem::list_tickets): `GET
//!   …/{incidents,serviceRequests}/search` with the creation window every ticket search
//!   needs (OpsRamp searches one month without one) and, with a watermark, an
//!   update-time window `startUpdationDate:<since> 0000+endUpdationDate:<tomorrow> 0000`
//!   (keys configurable: unverified for tickets). OpsRamp keeps times to the **second**:
//!   the watermark is rounded down to it, so a one-second `ChangeFeed` overlap suffices.
//!   Pages are ordered by id, ascending: an update during a listing does not move a
//!   ticket between pages (the feed orders what changed by update time itself). Kinds
//!   choose the collections; states (the `status` filter takes one value, and filters
//!   are AND-joined) and the scope (a category, which the search documents no filter
//!   for) are checked on the rows.
//! - [`list_comments`](accesslink_core::TicketingSystem::list_comments): every page of
//!   `…/{id}/responses/search`, oldest first; `internal` responses are internal.
//! - Schemas: declared from the fact sheet (§1.7, §1.10).

use std::collections::HashSet;
use std::time::{Duration, SystemTime};

use accesslink_core::{
    AllowedValue, Error, FieldSchema, FieldType as T, ObjectSchema, Page, PageRequest, PageToken,
    Password, Result, Ticket, TicketComment, TicketKind, TicketQuery, Visibility,
};
use secrecy::ExposeSecret as _;
use serde_json::Value;

use crate::api::{SearchParams, Tickets};
use crate::connector::OpsRampConnector;
use crate::status::parse_time;
use crate::ticket_models::{OpsTicket, TicketResponse, TicketUser};

const INCIDENTS: &str = "incidents";
const SERVICE_REQUESTS: &str = "serviceRequests";
/// Pages whose rows are all dropped read at most in one listing call.
const MAX_SKIPPED_PAGES: usize = 1_000;
/// Response pages read at most for one ticket.
const MAX_RESPONSE_PAGES: u32 = 1_000;

/// The statuses of OpsRamp's default flow (fact sheet §1.10).
pub const STATUSES: [&str; 6] = ["New", "Open", "Pending", "On Hold", "Resolved", "Closed"];
/// The priorities the spec lists (§1.10; one docs page says "Very High": any text goes).
pub const PRIORITIES: [&str; 5] = ["Low", "Normal", "High", "Urgent", "Very Low"];

/// `yyyy-MM-ddTHH:mm:ss 0000`: a filter time, GMT, rounded down to the second, its
/// offset after a space (a literal `+` would split the `queryString`).
fn filter_time(t: SystemTime) -> String {
    let s = accesslink_core::time::format_rfc3339_millis(t);
    format!("{} 0000", &s[..19])
}

/// The collections a query's kinds select, in listing order.
fn collections(query: &TicketQuery) -> Vec<&'static str> {
    if query.kinds.is_empty() {
        return vec![INCIDENTS, SERVICE_REQUESTS];
    }
    let mut out = Vec::new();
    for k in &query.kinds {
        let c = match k {
            TicketKind::Incident => INCIDENTS,
            TicketKind::Request | TicketKind::RequestItem => SERVICE_REQUESTS,
            _ => continue,
        };
        if !out.contains(&c) {
            out.push(c);
        }
    }
    out
}

/// A listing token: `<collection>:<pageNo>`.
fn parse_token(token: &str, allowed: &[&'static str]) -> Result<(&'static str, u32)> {
    let bad = || Error::invalid_input(format!("{token:?} is not an OpsRamp listing token"));
    let (c, n) = token.split_once(':').ok_or_else(bad)?;
    let c = allowed.iter().copied().find(|a| *a == c).ok_or_else(bad)?;
    let n: u32 = n.parse().map_err(|_| bad())?;
    if n == 0 {
        return Err(bad());
    }
    Ok((c, n))
}

/// Whether a ticket is in the scope: its category's name (any case) or id.
fn in_scope(t: &OpsTicket, scope: &str) -> bool {
    let Some(cat) = t.extra.get("category") else {
        return false;
    };
    let text = |k: &str| match cat.get(k) {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    text("name").is_some_and(|n| n.eq_ignore_ascii_case(scope))
        || text("id").is_some_and(|i| i == scope)
        || text("uniqueId").is_some_and(|i| i == scope)
}

impl OpsRampConnector {
    pub(crate) async fn list_page(
        &self,
        query: &TicketQuery,
        page: PageRequest,
    ) -> Result<Page<Ticket>> {
        if let Some(s) = &query.scope {
            if s.trim().is_empty() || s.len() > 128 || s.chars().any(char::is_control) {
                return Err(Error::invalid_input(
                    "an OpsRamp listing scope is a category name or id (1-128 characters)",
                ));
            }
        }
        let all = collections(query);
        let (mut collection, mut page_no) = match page.token.as_ref() {
            Some(t) => parse_token(t.as_str(), &all)?,
            None => match all.first() {
                Some(c) => (*c, 1),
                None => return Ok(Page::new(Vec::new(), None)),
            },
        };
        let size = page.size_or(self.config.page_size);
        // A page whose rows were all dropped here is not handed out empty (an empty page
        // ends a listing): the next one is read in the same call.
        for _ in 0..MAX_SKIPPED_PAGES {
            let (out, next) = self
                .list_one(query, &all, collection, page_no, size)
                .await?;
            match next {
                Some((c, n)) if out.is_empty() => (collection, page_no) = (c, n),
                next => {
                    let next = next.map(|(c, n)| PageToken::new(format!("{c}:{n}")));
                    return Ok(Page::new(out, next));
                }
            }
        }
        Err(Error::protocol(
            "OpsRamp ticket search",
            format!("{MAX_SKIPPED_PAGES} pages in a row held nothing the query selects"),
        ))
    }

    /// One search page of `collection`, filtered; the next page's place.
    #[allow(clippy::type_complexity)]
    async fn list_one(
        &self,
        query: &TicketQuery,
        all: &[&'static str],
        collection: &'static str,
        page_no: u32,
        size: u32,
    ) -> Result<(Vec<Ticket>, Option<(&'static str, u32)>)> {
        let until = filter_time(SystemTime::now() + Duration::from_secs(86_400));
        let mut params = SearchParams::page(page_no, size)
            .filter(
                "startCreationDate",
                &format!("{} 0000", self.config.search_since),
            )?
            .filter("endCreationDate", &until)?;
        if let Some(since) = query.updated_since {
            let (from, to) = &self.config.updated_window_keys;
            params = params
                .filter(from, &filter_time(since))?
                .filter(to, &until)?;
        }
        let found = self.tickets(collection).search_page(&params).await?;
        let more = found.next_page && !found.results.is_empty();
        let mut out = Vec::with_capacity(found.results.len());
        for t in &found.results {
            if t.updated_date.as_deref().and_then(parse_time).is_none() {
                return Err(Error::protocol(
                    "OpsRamp ticket search",
                    format!("ticket {} was listed without a readable updatedDate", t.id),
                ));
            }
            if query.scope.as_deref().is_some_and(|s| !in_scope(t, s)) {
                continue;
            }
            let ticket = self.ticket_of(t, collection);
            if query.matches(&ticket) {
                out.push(ticket);
            }
        }
        let next = if more {
            Some((collection, page_no + 1))
        } else {
            all.iter()
                .skip_while(|c| **c != collection)
                .nth(1)
                .map(|c| (*c, 1))
        };
        Ok((out, next))
    }

    pub(crate) async fn responses_of(
        &self,
        tickets: Tickets<'_>,
        id: &str,
    ) -> Result<Vec<TicketComment>> {
        let mut params = SearchParams::page(1, 100);
        let mut out = Vec::new();
        let mut seen = HashSet::new();
        loop {
            let page = tickets.responses_page(id, &params).await.map_err(|e| {
                if e.kind() == accesslink_core::ErrorKind::NotFound {
                    Error::not_found(format!("OpsRamp ticket {id}"))
                } else {
                    e
                }
            })?;
            let more = page.next_page && !page.results.is_empty();
            for r in page.results {
                let c = comment_of(id, out.len(), &r);
                if !seen.insert(c.id.clone()) {
                    return Err(Error::protocol(
                        "OpsRamp responses",
                        format!("response {} was listed twice", c.id),
                    ));
                }
                out.push(c);
            }
            if !more {
                return Ok(out);
            }
            if params.page_no >= MAX_RESPONSE_PAGES {
                return Err(Error::protocol(
                    "OpsRamp responses",
                    format!("more than {MAX_RESPONSE_PAGES} pages"),
                ));
            }
            params.page_no += 1;
        }
    }
}

/// A response as a comment. Its id is the response's `id` where OpsRamp sends one (the
/// spec's response object names none: unverified), else its `extTicketResponseId`, else
/// `<ticket>#<position>` — responses are only appended, so a position is stable.
fn comment_of(ticket: &str, position: usize, r: &TicketResponse) -> TicketComment {
    let id = match r.extra.get("id") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => r
            .ext_ticket_response_id
            .clone()
            .unwrap_or_else(|| format!("{ticket}#{position}")),
    };
    let visibility = if r.internal == Some(true) {
        Visibility::Internal
    } else {
        Visibility::Public
    };
    let mut c = TicketComment::new(id, visibility, r.description.clone().unwrap_or_default());
    if let Some(u) = r
        .extra
        .get("creator")
        .and_then(|v| serde_json::from_value::<TicketUser>(v.clone()).ok())
    {
        c = c.author(crate::tickets::person_of(&u));
    }
    if let Some(at) = r.created_date.as_deref().and_then(parse_time) {
        c = c.created(at);
    }
    c
}

/// The ticket fields of incidents and service requests (fact sheet §1.10), declared.
pub fn ticket_schema(kind: &TicketKind) -> Result<ObjectSchema> {
    let object = match kind {
        TicketKind::Incident => "incident",
        TicketKind::Request | TicketKind::RequestItem => "serviceRequest",
        other => {
            return Err(Error::invalid_input(format!(
                "OpsRamp has incidents and service requests, not {other}"
            )));
        }
    };
    let s = |n: &str, label: &str| FieldSchema::new(n, T::String).label(label);
    let r =
        |n: &str, to: &str, label: &str| FieldSchema::new(n, T::Reference(to.into())).label(label);
    let values = |v: &[&str]| {
        v.iter()
            .map(|x| AllowedValue::new(*x, None))
            .collect::<Vec<_>>()
    };
    Ok(ObjectSchema::new(object)
        .field(s("id", "Ticket id").read_only())
        .field(s("subject", "Subject").required())
        .field(FieldSchema::new("description", T::Text).label("Description"))
        .field(s("status", "Status").allowed(values(&STATUSES)))
        .field(s("oldStatus", "Previous status").read_only())
        .field(s("priority", "Priority").allowed(values(&PRIORITIES)))
        .field(r("requester", "user", "Requester"))
        .field(r("assignedUser", "user", "Assigned user"))
        .field(r("assigneeGroup", "userGroup", "Assignee group"))
        .field(r("category", "category", "Category"))
        .field(r("subCategory", "subCategory", "Sub-category"))
        .field(r("businessImpact", "businessImpact", "Business impact"))
        .field(r("urgency", "urgency", "Urgency"))
        .field(r("resources", "resource", "Resources").multi_valued())
        .field(
            FieldSchema::new("customFields", T::Other("customField".into()))
                .label("Custom fields")
                .multi_valued(),
        )
        .field(s("extTicketId", "External ticket id"))
        .field(s("cc", "Cc"))
        .field(s("toEmail", "To e-mail"))
        .field(FieldSchema::new("dueDate", T::DateTime).label("Due date"))
        .field(r("parentId", "ticket", "Parent ticket"))
        .field(
            FieldSchema::new("createdDate", T::DateTime)
                .label("Created")
                .read_only(),
        )
        .field(
            FieldSchema::new("updatedDate", T::DateTime)
                .label("Updated")
                .read_only(),
        )
        .field(s("source", "Source").read_only().allowed(values(&[
            "PORTAL",
            "INTEGRATION",
            "MOBILE",
            "EMAIL",
        ])))
        .field(
            FieldSchema::new("allowedStatus", T::Other("status".into()))
                .label("Allowed statuses")
                .read_only()
                .multi_valued(),
        )
        .field(s("statusReason", "Status reason").read_only()))
}

/// The user fields of the create, update and get bodies (fact sheet §1.7), declared.
pub fn account_schema() -> ObjectSchema {
    let s = |n: &str, label: &str| FieldSchema::new(n, T::String).label(label);
    let values = |v: &[&str]| {
        v.iter()
            .map(|x| AllowedValue::new(*x, None))
            .collect::<Vec<_>>()
    };
    ObjectSchema::new("user")
        .field(s("id", "User id").read_only())
        .field(s("loginName", "Login name").required())
        .field(s("firstName", "First name").required())
        .field(s("lastName", "Last name").required())
        .field(s("email", "E-mail").required())
        .field(s("altEmail", "Alternate e-mail"))
        .field(s("userAccountType", "Account type").allowed(values(&["REGULAR", "BUSINESS"])))
        .field(s("designation", "Designation"))
        .field(s("address", "Address"))
        .field(s("city", "City"))
        .field(s("state", "State"))
        .field(s("zip", "Zip"))
        .field(s("country", "Country"))
        .field(s("phoneNumber", "Phone"))
        .field(s("mobileNumber", "Mobile"))
        .field(FieldSchema::new("timeZone", T::Other("timeZone".into())).label("Time zone"))
        .field(
            FieldSchema::new("roles", T::Reference("role".into()))
                .label("Roles")
                .multi_valued(),
        )
        .field(
            FieldSchema::new("userGroups", T::Reference("userGroup".into()))
                .label("User groups")
                .multi_valued(),
        )
        .field(s("userGroupType", "User group type").allowed(values(&["ALL", "NONE"])))
        .field(s("authType", "Authentication type"))
        .field(
            s("status", "Status")
                .read_only()
                .allowed(values(&["active", "inactive"])),
        )
        .field(
            FieldSchema::new("userNotifications", T::Other("notification".into()))
                .label("Notifications")
                .multi_valued(),
        )
        .field(
            FieldSchema::new("twoFactorAuthentication", T::Boolean)
                .label("Two-factor authentication"),
        )
        .field(
            FieldSchema::new("createdTime", T::DateTime)
                .label("Created")
                .read_only(),
        )
        .field(
            FieldSchema::new("updatedTime", T::DateTime)
                .label("Updated")
                .read_only(),
        )
}

/// OpsRamp's password rule (§1.7): at least 7 characters with a digit, a special
/// character, a lower- and an upper-case letter. The error never holds the value.
pub fn check_password(p: &Password) -> Result<()> {
    let p = p.secret().expose_secret();
    let ok = p.chars().count() >= 7
        && p.chars().any(|c| c.is_ascii_digit())
        && p.chars().any(|c| !c.is_alphanumeric())
        && p.chars().any(char::is_lowercase)
        && p.chars().any(char::is_uppercase)
        && !p.chars().any(char::is_control);
    if ok {
        Ok(())
    } else {
        Err(Error::invalid_input(
            "an OpsRamp password needs 7+ characters with a digit, a special character, a lower- and an upper-case letter",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tokens_name_a_listed_collection_and_a_page() {
        let all = [INCIDENTS, SERVICE_REQUESTS];
        assert_eq!(
            parse_token("serviceRequests:3", &all).unwrap(),
            (SERVICE_REQUESTS, 3)
        );
        for bad in ["incidents", "incidents:0", "problems:1", "incidents:x", ""] {
            assert!(parse_token(bad, &all).is_err(), "{bad:?}");
        }
        assert!(parse_token("incidents:1", &[SERVICE_REQUESTS]).is_err());
    }

    #[test]
    fn filter_times_are_seconds_gmt_with_a_space_for_the_offset() {
        let t = std::time::UNIX_EPOCH + Duration::from_millis(1_714_641_299_999);
        assert_eq!(filter_time(t), "2024-05-02T09:14:59 0000");
    }

    #[test]
    fn a_response_without_an_id_is_named_by_its_key_or_position() {
        let r = |v: Value| serde_json::from_value::<TicketResponse>(v).unwrap();
        assert_eq!(
            comment_of("INC1", 0, &r(json!({"id": 77, "description": "x"}))).id,
            "77"
        );
        assert_eq!(
            comment_of(
                "INC1",
                0,
                &r(json!({"description": "x", "extTicketResponseId": "al-1"}))
            )
            .id,
            "al-1"
        );
        let c = comment_of(
            "INC1",
            4,
            &r(json!({"description": "x", "internal": true,
            "creator": {"id": "USR1", "loginName": "jdoe"}, "createdDate": "2024-05-02T09:14:11+0000"})),
        );
        assert_eq!(c.id, "INC1#4");
        assert_eq!(c.visibility, Visibility::Internal);
        assert_eq!(c.author.unwrap().login.as_deref(), Some("jdoe"));
        assert!(c.created.is_some());
    }

    #[test]
    fn passwords_follow_the_rule_and_errors_do_not_hold_them() {
        assert!(check_password(&"Sup3r$ecret".into()).is_ok());
        for bad in [
            "short1!",
            "nodigits!A",
            "NoSpecial1",
            "lower$1x",
            "UPPER$1X",
        ] {
            let e = check_password(&bad.into()).map(|()| bad).unwrap_err();
            assert!(!e.to_string().contains(bad), "{e}");
        }
    }
}
