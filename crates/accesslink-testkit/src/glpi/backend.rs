//! [`TicketBackend`] and [`AccountBackend`] over the mock's own state, for the
//! conformance suite.
//!
//! Conventions (what the GLPI connector is assumed to do):
//! - a ticket reference is the GLPI id (`TicketRef.id`, else `number`: `5`, `#5`, or
//!   `CHG-5` for a change); `scope: Some("Change")` (any case) names a Change;
//! - the correlation id travels in the title as the tag `[corr:<id>]` (at its end);
//! - an account is a `User`, named by its numeric id or its login;
//! - entitlements are `group` (a `Group` id: `Group_User`) and `profile` (or `role`): a
//!   `Profile` id or name held through `Profile_User` in any entity, or
//!   `<profile>@<entity>` for one entity (the connector's form).

use accesslink_core::{
    AccountId, Comment, CorrelationId, EntitlementRef, Error, Result, TicketKind, TicketRef,
    TicketState,
};
use async_trait::async_trait;
use serde_json::Value;

use super::GlpiMock;
use super::items::{Itemtype, as_id};
use super::php;
use super::state::State;
use crate::conformance::{AccountBackend, FaultOp, TicketBackend};
use crate::fault::{FaultMatcher, FaultPlan};

impl GlpiMock {
    /// The itemtype and id a reference names.
    fn resolve_ticket(&self, r: &TicketRef) -> Result<(Itemtype, i64)> {
        let raw = r.id().or(r.number()).unwrap_or("").trim();
        let lower = raw.to_ascii_lowercase();
        let change_number = ["chg", "change"].iter().any(|p| lower.starts_with(p));
        let scope = r.scope();
        let it = if change_number || scope.is_some_and(|s| s.eq_ignore_ascii_case("Change")) {
            Itemtype::Change
        } else {
            Itemtype::Ticket
        };
        let digits = raw.trim_start_matches(|c: char| !c.is_ascii_digit());
        let id = digits.parse::<i64>().ok();
        let id = id.filter(|id| self.lock().table(it).contains(*id));
        id.map(|id| (it, id))
            .ok_or_else(|| Error::not_found(format!("ticket {r}")))
    }

    /// The user an account id names: a numeric id, else a login.
    fn resolve_account(&self, account: &AccountId) -> Option<i64> {
        let state = self.lock();
        match account.as_str().parse::<i64>() {
            Ok(id) => state.table(Itemtype::User).contains(id).then_some(id),
            Err(_) => state.user_id_by_login(account.as_str()),
        }
    }
}

#[async_trait]
impl TicketBackend for GlpiMock {
    /// Searches then answer every visible item of the itemtype, whatever their criteria.
    fn ignore_search_filters(&self, on: bool) -> bool {
        self.lock().unfiltered = on;
        true
    }

    /// New → 1, InProgress and Reopened → 2 (assigned), OnHold → 4 (pending),
    /// Resolved → 5, Closed and Cancelled → 6 (GLPI has no cancelled ticket status).
    async fn set_ticket_state(&self, r: &TicketRef, state: TicketState) -> Result<()> {
        let status = match state {
            TicketState::New => 1,
            TicketState::InProgress | TicketState::Reopened => 2,
            TicketState::OnHold => 4,
            TicketState::Resolved => 5,
            TicketState::Closed | TicketState::Cancelled => 6,
            other => return Err(Error::invalid_input(format!("no GLPI status for {other}"))),
        };
        let (it, id) = self.resolve_ticket(r)?;
        let input = serde_json::json!({ "status": status });
        if self.update(it, id, &input) {
            Ok(())
        } else {
            Err(Error::not_found(format!("ticket {r}")))
        }
    }

    /// Tickets and changes (trash included, since a trashed duplicate is still one) whose
    /// title, decoded, contains `[corr:<id>]`.
    async fn count_with_correlation(&self, id: &CorrelationId) -> Result<usize> {
        let tag = format!("[corr:{id}]");
        let state = self.lock();
        let count = [Itemtype::Ticket, Itemtype::Change]
            .into_iter()
            .flat_map(|it| {
                state
                    .table(it)
                    .iter()
                    .map(move |(_, row)| State::field(it, &row, "name"))
            })
            .filter(|name| {
                name.as_str()
                    .is_some_and(|n| php::unsanitize(n).contains(&tag))
            })
            .count();
        Ok(count)
    }

    /// Writes then stamp `date_mod` (and follow-up dates) with that second.
    fn freeze_clock(&self, at: Option<std::time::SystemTime>) -> bool {
        self.lock().frozen = at.map(|t| {
            t.duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default()
                .as_secs()
        });
        true
    }

    /// A public follow-up by `tech` (user 4), added as through the API with tech's
    /// session.
    async fn add_person_comment(&self, r: &TicketRef, body: &str) -> Result<bool> {
        let (it, id) = self.resolve_ticket(r)?;
        let mut state = self.lock();
        let mut who = super::admin(&state);
        who.user_id = 4;
        let input = serde_json::json!({
            "itemtype": it.name(), "items_id": id, "content": body, "is_private": 0,
        });
        let Value::Object(map) = input else {
            return Ok(false);
        };
        state
            .add(Itemtype::ITILFollowup, &map, &who)
            .map(|_| true)
            .map_err(|e| Error::invalid_input(format!("follow-up refused: {e:?}")))
    }

    /// The columns `listSearchOptions/Ticket` (or `Change`) describes.
    fn ticket_fields(&self, kind: &TicketKind) -> Option<Vec<String>> {
        let it = if *kind == TicketKind::Change {
            Itemtype::Change
        } else {
            Itemtype::Ticket
        };
        Some(super::search::option_columns(it))
    }

    /// The ticket's follow-ups in id order: private ones are internal notes, the others
    /// public comments; bodies decoded.
    async fn comments(&self, r: &TicketRef) -> Result<Vec<Comment>> {
        let (it, id) = self.resolve_ticket(r)?;
        let state = self.lock();
        let rows = state.rows_with(Itemtype::ITILFollowup, "items_id", id);
        let comments = rows
            .iter()
            .filter(|(_, f)| f.get("itemtype").and_then(Value::as_str) == Some(it.name()))
            .map(|(_, f)| {
                let body = State::field(Itemtype::ITILFollowup, f, "content");
                let body = php::unsanitize(body.as_str().unwrap_or(""));
                if as_id(f.get("is_private")) == 1 {
                    Comment::internal(body)
                } else {
                    Comment::public(body)
                }
            });
        Ok(comments.collect())
    }

    fn requests_seen(&self) -> usize {
        self.counter.total()
    }

    fn faults(&self) -> Option<&FaultPlan> {
        Some(&self.faults)
    }

    fn drops_connections(&self) -> bool {
        self.proxy.is_some()
    }

    /// A ticket is created with `POST …/Ticket`, a change with `POST …/Change`; a comment
    /// is `POST …/ITILFollowup`.
    fn fault_route(&self, op: FaultOp) -> Option<FaultMatcher> {
        match op {
            FaultOp::CreateTicket(TicketKind::Change) => {
                Some(FaultMatcher::method("POST").and_path_suffix("/Change"))
            }
            FaultOp::CreateTicket(_) => {
                Some(FaultMatcher::method("POST").and_path_suffix("/Ticket"))
            }
            FaultOp::AddComment => Some(FaultMatcher::route("POST", "/ITILFollowup")),
        }
    }
}

#[async_trait]
impl AccountBackend for GlpiMock {
    /// A search's `totalcount` then counts `extra` items more than match (the
    /// `content-range` and the status stay true to the rows held).
    fn inflate_reported_total(&self, extra: usize) -> bool {
        self.lock().total_bias = extra;
        true
    }

    /// Users not in the trash (what `GET /User` lists; `glpi-system` included).
    async fn account_count(&self) -> Result<usize> {
        let state = self.lock();
        let keep = |_: i64, row: &super::items::Record| {
            as_id(Some(&State::field(Itemtype::User, row, "is_deleted"))) == 0
        };
        let filter = super::state::Filter {
            keep: &keep,
            untouched: super::state::Untouched::All(true),
        };
        Ok(state.table(Itemtype::User).window(&filter, 0, 0).0)
    }

    /// The ids of the users not in the trash.
    async fn account_ids(&self) -> Result<Option<Vec<String>>> {
        let state = self.lock();
        let ids = state
            .table(Itemtype::User)
            .iter()
            .filter(|(_, row)| as_id(Some(&State::field(Itemtype::User, row, "is_deleted"))) == 0)
            .map(|(id, _)| id.to_string())
            .collect();
        Ok(Some(ids))
    }

    /// Searches then drop their `ID` `<N` criteria (the upper bound of a partition; the
    /// lower bound is also the keyset and still holds).
    fn ignore_key_ranges(&self, on: bool) -> bool {
        self.lock().ignore_ranges = on;
        true
    }

    async fn holds(&self, account: &AccountId, e: &EntitlementRef) -> Result<bool> {
        let Some(user) = self.resolve_account(account) else {
            return Err(Error::not_found(format!("account {account}")));
        };
        let state = self.lock();
        match e.ty.as_str() {
            "group" => {
                let group = e.id.as_str().parse::<i64>().unwrap_or(-1);
                let rows = state.rows_with(Itemtype::GroupUser, "users_id", user);
                Ok(rows.iter().any(|(_, r)| as_id(r.get("groups_id")) == group))
            }
            "profile" | "role" => {
                let (profile, entity) = match e.id.as_str().split_once('@') {
                    Some((p, e)) => (p, e.parse::<i64>().ok()),
                    None => (e.id.as_str(), None),
                };
                let profile_id = profile.parse::<i64>().ok().or_else(|| {
                    state.table(Itemtype::Profile).iter().find_map(|(id, row)| {
                        (State::field(Itemtype::Profile, &row, "name").as_str() == Some(profile))
                            .then_some(id)
                    })
                });
                let rows = state.rows_with(Itemtype::ProfileUser, "users_id", user);
                Ok(rows.iter().any(|(_, r)| {
                    Some(as_id(r.get("profiles_id"))) == profile_id
                        && entity.is_none_or(|en| as_id(r.get("entities_id")) == en)
                }))
            }
            other => Err(Error::invalid_input(format!(
                "no GLPI entitlement type {other}"
            ))),
        }
    }

    fn requests_seen(&self) -> usize {
        self.counter.total()
    }

    fn faults(&self) -> Option<&FaultPlan> {
        Some(&self.faults)
    }

    /// The columns `listSearchOptions/User` describes.
    fn account_fields(&self) -> Option<Vec<String>> {
        Some(super::search::option_columns(Itemtype::User))
    }

    /// Whether the user's stored password is `password` (GLPI keeps a hash; the mock
    /// the clear text, never printed).
    async fn password_is(&self, account: &AccountId, password: &str) -> Result<Option<bool>> {
        let id = self
            .resolve_account(account)
            .ok_or_else(|| Error::not_found(format!("account {account}")))?;
        let state = self.lock();
        Ok(Some(
            state.secrets.get(&id).and_then(|s| s.password.as_deref()) == Some(password),
        ))
    }

    fn expire_credentials(&self) -> bool {
        self.expire_sessions();
        true
    }
}
