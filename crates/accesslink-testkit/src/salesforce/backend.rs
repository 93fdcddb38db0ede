//! [`Mock`] and [`TicketBackend`] over the mock's own state.
//!
//! Conventions (what the Salesforce connector is assumed to do): a ticket reference is a
//! record id (`TicketRef.id`) or a number (`CaseNumber`, Remedyforce `Name`); the
//! correlation id is in `External_Ref__c`; comments are `CaseComment` (`IsPublished`) or
//! Chatter `FeedItem` (`Visibility`).

use accesslink_core::{
    AccountId, Comment, CorrelationId, EntitlementRef, Error, Result, TicketKind, TicketRef,
    TicketState,
};
use async_trait::async_trait;
use serde_json::{Map, Value, json};

use super::{AuthMode, CHANGE, CORRELATION_FIELD, INCIDENT, Profile, SalesforceMock, State, TASK};
use crate::conformance::{AccountBackend, FaultOp, TicketBackend};
use crate::fault::{FaultMatcher, FaultPlan};
use crate::mock::{Mock, RecordedRequest};
use crate::proxy::FaultProxy;

const TICKET_OBJECTS: &[&str] = &["Case", INCIDENT, CHANGE, TASK];

fn text(r: &Map<String, Value>, k: &str) -> String {
    r.get(k).and_then(Value::as_str).unwrap_or("").to_owned()
}

/// The object and id of the ticket a reference names.
fn resolve(s: &State, r: &TicketRef) -> Result<(String, String)> {
    for object in TICKET_OBJECTS {
        let Some(rows) = s.objects.get(*object) else {
            continue;
        };
        for row in rows {
            let id = text(row, "Id");
            let number = if *object == "Case" {
                text(row, "CaseNumber")
            } else {
                text(row, "Name")
            };
            let by_id = r
                .id()
                .is_some_and(|want| want.get(..15).is_some() && id.get(..15) == want.get(..15));
            let by_number = r.number().is_some_and(|n| n == number);
            if by_id || by_number {
                return Ok(((*object).to_owned(), id));
            }
        }
    }
    Err(Error::not_found(format!("ticket {r}")))
}

#[async_trait]
impl TicketBackend for SalesforceMock {
    /// Cases: New / Working / On Hold / Closed / Cancelled (the last two flagged
    /// closed); Remedyforce: the status lookup OPEN / IN PROGRESS / ON HOLD / CLOSED /
    /// CANCELLED.
    async fn set_ticket_state(&self, r: &TicketRef, state: TicketState) -> Result<()> {
        use TicketState as S;
        let (object, id) = resolve(&self.lock(), r)?;
        let patch = if object == "Case" {
            let status = match state {
                S::New => "New",
                S::InProgress | S::Reopened => "Working",
                S::OnHold => "On Hold",
                S::Resolved | S::Closed => "Closed",
                S::Cancelled => "Cancelled",
                _ => return Err(Error::invalid_input(format!("no case status for {state}"))),
            };
            json!({ "Status": status })
        } else {
            let name = match state {
                S::New => "OPEN",
                S::InProgress | S::Reopened => "IN PROGRESS",
                S::OnHold => "ON HOLD",
                S::Resolved | S::Closed => "CLOSED",
                S::Cancelled => "CANCELLED",
                _ => return Err(Error::invalid_input(format!("no status for {state}"))),
            };
            let sid = self
                .status_id(name)
                .ok_or_else(|| Error::not_found(name.to_owned()))?;
            json!({ "BMCServiceDesk__FKStatus__c": sid })
        };
        if self.patch(&object, &id, patch) {
            Ok(())
        } else {
            Err(Error::not_found(format!("ticket {r}")))
        }
    }

    async fn count_with_correlation(&self, id: &CorrelationId) -> Result<usize> {
        let s = self.lock();
        Ok(TICKET_OBJECTS
            .iter()
            .filter_map(|o| s.objects.get(*o))
            .flatten()
            .filter(|r| text(r, CORRELATION_FIELD) == id.as_str())
            .count())
    }

    /// `CaseComment` rows (published = public) and `FeedItem` rows (`AllUsers` = public)
    /// of the record, oldest first.
    async fn comments(&self, r: &TicketRef) -> Result<Vec<Comment>> {
        let s = self.lock();
        let (_, id) = resolve(&s, r)?;
        let mut out = Vec::new();
        for row in s.objects.get("CaseComment").into_iter().flatten() {
            if text(row, "ParentId").get(..15) == id.get(..15) {
                let body = text(row, "CommentBody");
                out.push(if row.get("IsPublished") == Some(&json!(true)) {
                    Comment::public(body)
                } else {
                    Comment::internal(body)
                });
            }
        }
        for row in s.objects.get("FeedItem").into_iter().flatten() {
            if text(row, "ParentId").get(..15) == id.get(..15) {
                let body = text(row, "Body");
                out.push(if text(row, "Visibility") == "InternalUsers" {
                    Comment::internal(body)
                } else {
                    Comment::public(body)
                });
            }
        }
        Ok(out)
    }

    fn requests_seen(&self) -> usize {
        self.log.len()
    }

    fn faults(&self) -> Option<&FaultPlan> {
        Some(&self.faults)
    }

    fn drops_connections(&self) -> bool {
        self.proxy.is_some()
    }

    /// A create is `POST …/sobjects/{Case|incident|change}` (after
    /// [`SalesforceMock::expect_upserts`], the upsert `PATCH
    /// …/sobjects/{object}/External_Ref__c/{value}`); a comment is
    /// `POST …/sobjects/CaseComment` or `…/FeedItem`.
    fn fault_route(&self, op: FaultOp) -> Option<FaultMatcher> {
        let post = FaultMatcher::method("POST");
        if self.lock().upserts && matches!(op, FaultOp::CreateTicket(_)) {
            let object = match (op, self.profile) {
                (_, Profile::ServiceCloud) => "Case",
                (FaultOp::CreateTicket(TicketKind::Change), _) => CHANGE,
                _ => INCIDENT,
            };
            return Some(
                FaultMatcher::method("PATCH")
                    .and_path(&format!("/sobjects/{object}/{CORRELATION_FIELD}/")),
            );
        }
        Some(match (op, self.profile) {
            (FaultOp::CreateTicket(_), Profile::ServiceCloud) => {
                post.and_path_suffix("/sobjects/Case")
            }
            (FaultOp::CreateTicket(TicketKind::Change), Profile::Remedyforce) => {
                post.and_path_suffix(&format!("/sobjects/{CHANGE}"))
            }
            (FaultOp::CreateTicket(_), Profile::Remedyforce) => {
                post.and_path_suffix(&format!("/sobjects/{INCIDENT}"))
            }
            (FaultOp::AddComment, Profile::ServiceCloud) => {
                post.and_path_suffix("/sobjects/CaseComment")
            }
            (FaultOp::AddComment, Profile::Remedyforce) => {
                post.and_path_suffix("/sobjects/FeedItem")
            }
        })
    }

    /// Queries then answer every row of the object, whatever their `WHERE` says.
    fn ignore_search_filters(&self, on: bool) -> bool {
        self.lock().unfiltered = on;
        true
    }

    /// Every write then stamps `at` (to the second, as Salesforce keeps times).
    fn freeze_clock(&self, at: Option<std::time::SystemTime>) -> bool {
        self.lock().frozen_clock = at;
        true
    }

    /// A public `CaseComment` (Remedyforce: a `FeedItem` to `AllUsers`) written by a
    /// service-desk agent, not the integration user.
    async fn add_person_comment(&self, r: &TicketRef, body: &str) -> Result<bool> {
        let mut s = self.lock();
        let (object, id) = resolve(&s, r)?;
        let agent = s.agent_id();
        let row = if object == "Case" {
            json!({"ParentId": id, "CommentBody": body, "IsPublished": true, "CreatedById": agent})
        } else {
            json!({"ParentId": id, "Body": body, "Visibility": "AllUsers", "CreatedById": agent})
        };
        let comment_object = if object == "Case" {
            "CaseComment"
        } else {
            "FeedItem"
        };
        s.insert(comment_object, row.as_object().cloned().unwrap_or_default());
        // A comment updates its record's LastModifiedDate.
        s.patch(&object, &id, Map::new());
        Ok(true)
    }

    /// The describe field names of the kind's object.
    fn ticket_fields(&self, kind: &TicketKind) -> Option<Vec<String>> {
        let object = match (self.profile, kind) {
            (Profile::ServiceCloud, _) => "Case",
            (Profile::Remedyforce, TicketKind::Change) => CHANGE,
            (Profile::Remedyforce, TicketKind::Task) => TASK,
            (Profile::Remedyforce, _) => INCIDENT,
        };
        super::describe::field_names(object)
    }
}

#[async_trait]
impl AccountBackend for SalesforceMock {
    /// Internal (`UserType = 'Standard'`) users.
    async fn account_count(&self) -> Result<usize> {
        let s = self.lock();
        Ok(s.objects
            .get("User")
            .into_iter()
            .flatten()
            .filter(|u| text(u, "UserType") == "Standard")
            .count())
    }

    /// The `Id` of every internal (`UserType = 'Standard'`) user.
    async fn account_ids(&self) -> Result<Option<Vec<String>>> {
        let s = self.lock();
        Ok(Some(
            s.objects
                .get("User")
                .into_iter()
                .flatten()
                .filter(|u| text(u, "UserType") == "Standard")
                .map(|u| text(u, "Id").to_owned())
                .collect(),
        ))
    }

    /// Queries then ignore their `Id >=` / `Id <` conditions
    /// ([`ignore_id_ranges`](SalesforceMock::ignore_id_ranges)).
    fn ignore_key_ranges(&self, on: bool) -> bool {
        self.ignore_id_ranges(on);
        true
    }

    /// `permission_set` / `permission_set_group`: a `PermissionSetAssignment`;
    /// `group` / `queue`: a `GroupMember`; `profile`: the user's `ProfileId`.
    async fn holds(&self, account: &AccountId, e: &EntitlementRef) -> Result<bool> {
        let s = self.lock();
        let (object, efield, afield) = match e.ty.as_str() {
            "permission_set" => ("PermissionSetAssignment", "PermissionSetId", "AssigneeId"),
            "permission_set_group" => (
                "PermissionSetAssignment",
                "PermissionSetGroupId",
                "AssigneeId",
            ),
            "group" | "queue" => ("GroupMember", "GroupId", "UserOrGroupId"),
            "profile" => ("User", "ProfileId", "Id"),
            other => return Err(Error::invalid_input(format!("no entitlement type {other}"))),
        };
        let a = account.as_str();
        let id = e.id.as_str();
        Ok(s.objects.get(object).into_iter().flatten().any(|r| {
            text(r, afield).get(..15) == a.get(..15) && text(r, efield).get(..15) == id.get(..15)
        }))
    }

    fn requests_seen(&self) -> usize {
        self.log.len()
    }

    fn faults(&self) -> Option<&FaultPlan> {
        Some(&self.faults)
    }

    /// Drops every access token: the next call is 401 `INVALID_SESSION_ID`.
    fn expire_credentials(&self) -> bool {
        self.expire_tokens();
        true
    }

    /// Every non-empty query's `totalSize` then counts `extra` rows more.
    fn inflate_reported_total(&self, extra: usize) -> bool {
        self.lock().total_bias = extra;
        true
    }

    /// The describe field names of `User`.
    fn account_fields(&self) -> Option<Vec<String>> {
        super::describe::field_names("User")
    }

    /// The password last set through `POST …/sobjects/User/{id}/password`.
    async fn password_is(&self, account: &AccountId, password: &str) -> Result<Option<bool>> {
        let s = self.lock();
        let short = account.as_str().get(..15).unwrap_or("");
        Ok(Some(s.passwords.get(short).is_some_and(|p| p == password)))
    }
}

/// The settings are `target = "salesforce"`, `name = "salesforce-mock"`, `base_url` =
/// [`SalesforceMock::url`] (the login URL; the facade accepts `base_url` as its other
/// name), the grant the mock was started with, the profile, and `External_Ref__c` as
/// the correlation field.
impl Mock for SalesforceMock {
    fn target(&self) -> &'static str {
        "salesforce"
    }

    fn url(&self) -> String {
        SalesforceMock::url(self)
    }

    fn settings(&self) -> Value {
        let url = SalesforceMock::url(self);
        let s = self.lock();
        let auth = match s.auth {
            AuthMode::ClientCredentials => json!({
                "method": "client_credentials",
                "client_id": s.client_id,
                "client_secret": s.client_secret,
            }),
            AuthMode::Password => json!({
                "method": "password",
                "client_id": s.client_id,
                "client_secret": s.client_secret,
                "username": s.username,
                "password": s.password,
                "security_token": s.security_token,
            }),
            AuthMode::RefreshToken => json!({
                "method": "refresh_token",
                "client_id": s.client_id,
                "client_secret": s.client_secret,
                "refresh_token": s.refresh_token,
            }),
        };
        json!({
            "target": "salesforce",
            "name": "salesforce-mock",
            "base_url": url,
            "auth": auth,
            "profile": match self.profile {
                Profile::ServiceCloud => "service_cloud",
                Profile::Remedyforce => "remedyforce",
            },
            "correlation_field": CORRELATION_FIELD,
            "user_defaults": {"profile_id": s.profile_id},
        })
    }

    fn faults(&self) -> &FaultPlan {
        &self.faults
    }

    fn proxy(&self) -> Option<&FaultProxy> {
        self.proxy.as_ref()
    }

    fn request_count(&self) -> usize {
        self.log.len()
    }

    fn request_log(&self) -> Vec<RecordedRequest> {
        self.log.all()
    }

    /// Drops every access token: the next call is 401 `INVALID_SESSION_ID`.
    fn expire_credentials(&self) {
        self.expire_tokens();
    }
}
