//! Intake: listing tickets by last update (a change feed), follow-ups read back as
//! comments, field schemas from `listSearchOptions`, and passwords.
//!
//! - **Listing**: `GET /search/<Ticket|Change>` with `date_mod` (search option 19)
//!   `morethan` the watermark's second minus one (GLPI's `morethan` is strict; the
//!   server keeps whole seconds, so this is `>=` the watermark rounded down), sorted by
//!   option 19 ascending, then batched reads of the hits. Keyset pages: the token holds
//!   the last `date_mod` seen and the ids returned in that second.
//! - **Comments**: `GET /<Itemtype>/<id>/ITILFollowup`, oldest first.
//! - **Schema**: `GET /listSearchOptions/<Itemtype>` (the fields the API can search
//!   and show), `User` for accounts.

use std::collections::BTreeSet;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use accesslink_core::feed::TicketQuery;
use accesslink_core::paging::{Page, PageRequest, PageToken};
use accesslink_core::schema::{AllowedValue, FieldSchema, FieldType, ObjectSchema};
use accesslink_core::time::{format_rfc3339_millis, parse_local_datetime};
use accesslink_core::{
    AccountId, Error, Password, Person, Result, Ticket, TicketComment, TicketKind, TicketRef,
    Visibility,
};
use serde_json::{Map, Value};

use crate::api::{Criterion, SearchQuery, SearchType, row_text, row_u64};
use crate::connector::GlpiConnector;
use crate::models::{Followup, decode_text};
use crate::status::ItilKind;

/// Search option ids on ITIL objects.
const OPT_ID: u32 = 2;
const OPT_CATEGORY: u32 = 7;
const OPT_DATE_MOD: u32 = 19;

/// The most rows one listing page asks for (`Accept-Range` is 1000).
const MAX_PAGE: u32 = 1000;

/// Where the next listing page starts.
#[derive(Debug, Default, PartialEq, Eq)]
struct Keyset {
    floor: Option<u64>,
    seen: BTreeSet<u64>,
}

impl Keyset {
    fn parse(token: &str) -> Result<Self> {
        let bad = || {
            Error::invalid_input(format!(
                "not a GLPI listing token: {:?}",
                accesslink_core::redact::truncate(token, 60)
            ))
        };
        let rest = token.strip_prefix("glpi1|").ok_or_else(bad)?;
        let (floor, seen) = rest.split_once('|').ok_or_else(bad)?;
        let floor = floor.parse::<u64>().map_err(|_| bad())?;
        let seen = seen
            .split(',')
            .filter(|s| !s.is_empty())
            .map(|s| s.parse::<u64>().map_err(|_| bad()))
            .collect::<Result<BTreeSet<u64>>>()?;
        Ok(Keyset {
            floor: Some(floor),
            seen,
        })
    }

    fn token(&self) -> PageToken {
        let seen: Vec<String> = self.seen.iter().map(u64::to_string).collect();
        PageToken::new(format!(
            "glpi1|{}|{}",
            self.floor.unwrap_or_default(),
            seen.join(",")
        ))
    }
}

fn secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs()
}

/// Epoch seconds as the server's zone-less `YYYY-MM-DD HH:MM:SS`.
pub(crate) fn server_time(epoch_secs: u64, utc_offset_minutes: i32) -> String {
    let local = i64::try_from(epoch_secs)
        .unwrap_or(i64::MAX)
        .saturating_add(i64::from(utc_offset_minutes) * 60)
        .max(0);
    let at = UNIX_EPOCH + Duration::from_secs(u64::try_from(local).unwrap_or_default());
    format_rfc3339_millis(at)[..19].replacen('T', " ", 1)
}

/// The itemtype a query's kinds list: `Change` for changes only, `Ticket` otherwise.
fn itemtype_of(kinds: &[TicketKind]) -> Result<ItilKind> {
    let changes = kinds.iter().filter(|k| **k == TicketKind::Change).count();
    match changes {
        0 => Ok(ItilKind::Ticket),
        n if n == kinds.len() => Ok(ItilKind::Change),
        _ => Err(Error::invalid_input(
            "GLPI lists tickets and changes apart: ask for Change alone, or for incidents and requests",
        )),
    }
}

fn type_of(internal: &str) -> FieldType {
    match internal {
        "string" | "itemlink" | "email" | "mac" | "ip" => FieldType::String,
        "text" => FieldType::Text,
        "number" | "integer" | "count" => FieldType::Integer,
        "decimal" | "timestamp" | "actiontime" => FieldType::Number,
        "bool" => FieldType::Boolean,
        "date" => FieldType::Date,
        "datetime" | "date_delay" => FieldType::DateTime,
        "dropdown" => FieldType::Reference("dropdown".into()),
        other => FieldType::Other(other.to_owned()),
    }
}

impl GlpiConnector {
    /// One page of the tickets a query selects; see the [module docs](self).
    pub(crate) async fn list_page(
        &self,
        query: &TicketQuery,
        page: PageRequest,
    ) -> Result<Page<Ticket>> {
        let kind = itemtype_of(&query.kinds)?;
        let size = page.size_or(self.settings.page_size).clamp(1, MAX_PAGE);
        let mut at = match &page.token {
            Some(t) => Keyset::parse(t.as_str())?,
            None => Keyset {
                floor: query.updated_since.map(secs),
                seen: BTreeSet::new(),
            },
        };
        let scope = query.scope.as_deref().map(str::trim);
        if let Some(s) = scope
            && (s.is_empty() || s.len() > 255 || s.chars().any(char::is_control))
        {
            return Err(Error::invalid_input(
                "a GLPI scope is an ITIL category id or complete name",
            ));
        }
        let offset = self.settings.server_utc_offset_minutes;
        let limit = size.saturating_add(u32::try_from(at.seen.len()).unwrap_or(u32::MAX));
        let mut search = SearchQuery::new(u64::from(limit))
            .display([OPT_ID, OPT_DATE_MOD, OPT_CATEGORY])
            .sort(OPT_DATE_MOD);
        if let Some(floor) = at.floor {
            // `morethan` is strict: one second before the floor is `>=` the floor.
            search = search.criterion(Criterion::new(
                OPT_DATE_MOD,
                SearchType::MoreThan,
                server_time(floor.saturating_sub(1), offset),
            ));
        }
        match scope {
            Some(id) if id.bytes().all(|b| b.is_ascii_digit()) => {
                search = search.criterion(Criterion::new(OPT_CATEGORY, SearchType::Equals, id));
            }
            Some(name) => {
                let escaped: String = name
                    .chars()
                    .flat_map(|c| match c {
                        '^' | '$' | '\\' | '%' | '_' => vec!['\\', c],
                        c => vec![c],
                    })
                    .collect();
                search = search.criterion(Criterion::new(
                    OPT_CATEGORY,
                    SearchType::Contains,
                    format!("^{escaped}$"),
                ));
            }
            None => {}
        }
        let found = self.items(kind).search(&search).await?;
        let more = found.rows.len() >= usize::try_from(limit).unwrap_or(usize::MAX);
        let mut ids = Vec::new();
        for row in &found.rows {
            let Some(id) = row_u64(row, OPT_ID) else {
                return Err(Error::protocol(
                    format!("GET /search/{}", kind.itemtype()),
                    "a row without its id (option 2)",
                ));
            };
            if at.seen.contains(&id) || ids.contains(&id) {
                continue;
            }
            let in_scope = match scope {
                None => true,
                Some(s) if s.bytes().all(|b| b.is_ascii_digit()) => true,
                Some(name) => row_text(row, OPT_CATEGORY).as_deref() == Some(name),
            };
            if let Some(changed) = row_text(row, OPT_DATE_MOD)
                .as_deref()
                .and_then(|d| parse_local_datetime(d, offset))
                .map(secs)
            {
                match at.floor {
                    Some(f) if changed < f => {}
                    Some(f) if changed == f => {
                        at.seen.insert(id);
                    }
                    _ => {
                        at.floor = Some(changed);
                        at.seen = BTreeSet::from([id]);
                    }
                }
            }
            if in_scope {
                ids.push(id);
            }
        }
        let mut items = Vec::with_capacity(ids.len());
        let read = if ids.is_empty() {
            Vec::new()
        } else {
            self.read_many(kind, &ids).await?
        };
        for id in &ids {
            let Some(item) = read.iter().find(|i| i.id == *id) else {
                continue;
            };
            let ticket = self.to_ticket(kind, item);
            if ticket.updated.is_none() {
                return Err(Error::protocol(
                    format!("GET /{}/{id}", kind.itemtype()),
                    "an item without a readable date_mod",
                ));
            }
            let category_ok = match scope {
                Some(s) if s.bytes().all(|b| b.is_ascii_digit()) => {
                    item.other
                        .get("itilcategories_id")
                        .map(|v| match v {
                            Value::Number(n) => n.to_string(),
                            Value::String(t) => t.clone(),
                            _ => String::new(),
                        })
                        .as_deref()
                        == Some(s)
                }
                _ => true,
            };
            if category_ok && query.matches(&ticket) {
                items.push(ticket);
            } else {
                tracing::debug!(id, "a listed item does not match the query; left out");
            }
        }
        let next = (more && !found.rows.is_empty()).then(|| at.token());
        Ok(Page::new(items, next))
    }

    /// The follow-ups of a ticket, oldest first.
    pub(crate) async fn followups_of(&self, r: &TicketRef) -> Result<Vec<TicketComment>> {
        let (kind, id) = crate::refs::resolve(r)?;
        let mut list: Vec<Followup> = match self
            .client
            .items::<Value>(kind.itemtype())
            .sub_items::<Followup>(id, "ITILFollowup")
            .await
        {
            Ok(list) => list,
            Err(e) if e.kind() == accesslink_core::ErrorKind::NotFound => {
                return Err(Error::not_found(format!("GLPI {} {id}", kind.itemtype())));
            }
            Err(e) => return Err(e),
        };
        list.sort_by(|a, b| (a.date.as_deref(), a.id).cmp(&(b.date.as_deref(), b.id)));
        let offset = self.settings.server_utc_offset_minutes;
        Ok(list
            .into_iter()
            .map(|f| {
                let visibility = if f.is_private == Some(1) {
                    Visibility::Internal
                } else {
                    Visibility::Public
                };
                let mut c =
                    TicketComment::new(f.id.to_string(), visibility, decode_text(&f.content));
                if let Some(user) = f.users_id.filter(|u| *u > 0) {
                    c = c.author(Person {
                        id: Some(user.to_string()),
                        ..Person::default()
                    });
                }
                if let Some(at) = f
                    .date
                    .as_deref()
                    .and_then(|d| parse_local_datetime(d, offset))
                {
                    c = c.created(at);
                }
                c
            })
            .collect())
    }

    /// `listSearchOptions/<itemtype>` as a schema: one field per database column the
    /// options name (a column shown by several options once).
    pub(crate) async fn search_options(&self, itemtype: &'static str) -> Result<ObjectSchema> {
        let req = self
            .client
            .http()
            .get(&format!("listSearchOptions/{itemtype}"))?;
        let options: Map<String, Value> = self.client.http().send_json(req).await?;
        let mut schema = ObjectSchema::new(itemtype);
        let mut seen = BTreeSet::new();
        for (key, opt) in &options {
            if key.parse::<u32>().is_err() {
                continue;
            }
            let Some(o) = opt.as_object() else { continue };
            let text = |k: &str| o.get(k).and_then(Value::as_str).unwrap_or_default();
            let (table, field, label, datatype) =
                (text("table"), text("field"), text("name"), text("datatype"));
            if field.is_empty() {
                continue;
            }
            // A column of the item itself keeps its name; a joined one is named by the
            // foreign key (`glpi_itilcategories` → `itilcategories_id`).
            let own = format!("glpi_{}s", itemtype.to_ascii_lowercase());
            let name = if table == own || table.is_empty() {
                field.to_owned()
            } else if datatype == "dropdown" {
                format!("{}_id", table.trim_start_matches("glpi_"))
            } else {
                continue;
            };
            if !seen.insert(name.clone()) {
                continue;
            }
            let mut f = FieldSchema::new(name.clone(), type_of(datatype)).label(decode_text(label));
            if matches!(name.as_str(), "id" | "date_mod" | "date_creation") {
                f = f.read_only();
            }
            if name == "name" {
                f = f.required();
            }
            if name == "status" && matches!(itemtype, "Ticket" | "Change") {
                // Fixed by GLPI (CommonITILObject): not in the API's answers.
                let labels = [
                    "New",
                    "Processing (assigned)",
                    "Processing (planned)",
                    "Pending",
                    "Solved",
                    "Closed",
                ];
                f = f.allowed(
                    labels
                        .iter()
                        .enumerate()
                        .map(|(i, l)| AllowedValue::new((i + 1).to_string(), Some((*l).into()))),
                );
                f.field_type = FieldType::Choice;
            }
            schema = schema.field(f);
        }
        if schema.fields.is_empty() {
            return Err(Error::protocol(
                format!("GET /listSearchOptions/{itemtype}"),
                "no search options in the answer",
            ));
        }
        Ok(schema)
    }

    /// `PUT /User/<id>` with `password` and `password2`.
    pub(crate) async fn put_password(&self, id: &AccountId, password: &Password) -> Result<()> {
        let id: u64 = id
            .as_str()
            .parse()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| Error::invalid_input("a GLPI user id is a positive integer"))?;
        let clear = secrecy::ExposeSecret::expose_secret(password.secret()).to_owned();
        if clear.is_empty() {
            return Err(Error::invalid_input("an empty password"));
        }
        let mut input = Map::new();
        input.insert("password".into(), Value::String(clear.clone()));
        input.insert("password2".into(), Value::String(clear));
        match self.client.users().update(id, &input).await {
            Ok(()) => Ok(()),
            // GLPI answers an update of a missing item with 400 ERROR_GLPI_UPDATE.
            Err(e) if e.vendor_code() == Some("ERROR_GLPI_UPDATE") => {
                match self.client.users().get_opt(id).await? {
                    None => Err(Error::not_found(format!("GLPI User {id}"))),
                    Some(_) => Err(e),
                }
            }
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_bad_ones_are_refused() {
        let k = Keyset {
            floor: Some(1_900_000_000),
            seen: BTreeSet::from([4, 9]),
        };
        assert_eq!(k.token().as_str(), "glpi1|1900000000|4,9");
        assert_eq!(Keyset::parse(k.token().as_str()).unwrap(), k);
        for bad in ["", "glpi1|x|", "glpi1|12|a", "sn|12|", "glpi1|12"] {
            assert!(Keyset::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn server_times() {
        assert_eq!(server_time(1_900_000_000, 0), "2030-03-17 17:46:40");
        assert_eq!(server_time(1_900_000_000, 60), "2030-03-17 18:46:40");
    }

    #[test]
    fn kinds_pick_one_itemtype() {
        assert_eq!(itemtype_of(&[]).unwrap(), ItilKind::Ticket);
        assert_eq!(
            itemtype_of(&[TicketKind::Incident, TicketKind::Request]).unwrap(),
            ItilKind::Ticket
        );
        assert_eq!(
            itemtype_of(&[TicketKind::Change]).unwrap(),
            ItilKind::Change
        );
        assert!(itemtype_of(&[TicketKind::Change, TicketKind::Incident]).is_err());
    }
}
