//! Typed request bodies for the writes seed 001 configures as raw JSON: a role update
//! that adds users (fact sheet §1.8), the user ACTIVATE/DEACTIVATE/TERMINATE bodies
//! (§1.7), a user group with its roles (§1.9) and a ticket response with its
//! `extTicketResponseId` (§1.10). Every optional field is left out of the JSON when
//! `None`, so a body carries only what the caller set.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::models::{GroupRef, MaskType, RoleRef};

/// One user of a role update's `users` list: `{id, loginName, firstName, lastName,
/// email}` as seed 001's AddAccessJSON sends it. Only `id` is required.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct RoleUser {
    /// `USR…`.
    pub id: String,
    /// The login name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub login_name: Option<String>,
    /// Given name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    /// Family name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    /// Email.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

impl RoleUser {
    /// A user by id.
    pub fn new(id: impl Into<String>) -> Self {
        RoleUser {
            id: id.into(),
            ..RoleUser::default()
        }
    }

    /// Sets `loginName`.
    pub fn login_name(mut self, v: impl Into<String>) -> Self {
        self.login_name = Some(v.into());
        self
    }

    /// Sets `firstName` and `lastName`.
    pub fn name(mut self, first: impl Into<String>, last: impl Into<String>) -> Self {
        self.first_name = Some(first.into());
        self.last_name = Some(last.into());
        self
    }

    /// Sets `email`.
    pub fn email(mut self, v: impl Into<String>) -> Self {
        self.email = Some(v.into());
        self
    }
}

/// The body of `POST roles/{id}` (fact sheet §1.8). Whether OpsRamp replaces or merges
/// the lists is UNVERIFIED; seed 001 sends one user per call, which only works if they
/// merge.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct RoleUpdate {
    /// `ROLE-…`: seed 001 repeats the role's id in the body.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unique_id: Option<String>,
    /// A new name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// A new description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Whether the role covers every client. A boolean in the OpsRamp schema; seed 001
    /// writes it as the string `"true"`, which this type does not reproduce.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub all_clients: Option<bool>,
    /// Users to put in the role.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub users: Option<Vec<RoleUser>>,
    /// User groups to put in the role (`{"uniqueId"}`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_groups: Option<Vec<GroupRef>>,
    /// Any other field (`permissions`, `clients`, …).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl RoleUpdate {
    /// An update of this role, with its `uniqueId` in the body as seed 001 sends it.
    pub fn of(role_id: impl Into<String>) -> Self {
        RoleUpdate {
            unique_id: Some(role_id.into()),
            ..RoleUpdate::default()
        }
    }

    /// Sets `allClients`.
    pub fn all_clients(mut self, v: bool) -> Self {
        self.all_clients = Some(v);
        self
    }

    /// Adds a user to `users`.
    pub fn user(mut self, u: RoleUser) -> Self {
        self.users.get_or_insert_with(Vec::new).push(u);
        self
    }

    /// Adds a user group (by `uniqueId`) to `userGroups`.
    pub fn user_group(mut self, unique_id: impl Into<String>) -> Self {
        self.user_groups
            .get_or_insert_with(Vec::new)
            .push(GroupRef {
                unique_id: Some(unique_id.into()),
                name: None,
            });
        self
    }

    /// Sets any other field.
    pub fn field(mut self, key: impl Into<String>, value: Value) -> Self {
        self.extra.insert(key.into(), value);
        self
    }
}

/// The body of `POST users/{id}/DEACTIVATE`: `{"deactivateReason"}` (seed 001's
/// DisableAccountJSON).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct DeactivateBody {
    /// Why the user is disabled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deactivate_reason: Option<String>,
}

impl DeactivateBody {
    /// A body with this reason.
    pub fn reason(reason: impl Into<String>) -> Self {
        DeactivateBody {
            deactivate_reason: Some(reason.into()),
        }
    }
}

/// The body of `POST users/{id}/TERMINATE`: `{"terminateReason","maskType"}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct TerminateBody {
    /// Why the user is ended.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub terminate_reason: Option<String>,
    /// How personal data is masked (`PARTIAL`, `FULL`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mask_type: Option<MaskType>,
}

impl TerminateBody {
    /// A body with this reason.
    pub fn reason(reason: impl Into<String>) -> Self {
        TerminateBody {
            terminate_reason: Some(reason.into()),
            mask_type: None,
        }
    }

    /// Sets `maskType`.
    pub fn mask(mut self, m: MaskType) -> Self {
        self.mask_type = Some(m);
        self
    }
}

/// The body of `POST userGroups` and `POST userGroups/{id}`: `{"name","description",
/// "email","roles":[{"uniqueId"}]}` (fact sheet §1.9).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct GroupBody {
    /// The name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The group's email.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// The group's roles; whether an update replaces or merges them is UNVERIFIED
    /// (read-modify-write and send the whole list).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<RoleRef>>,
}

impl GroupBody {
    /// A body with a name.
    pub fn named(name: impl Into<String>) -> Self {
        GroupBody {
            name: Some(name.into()),
            ..GroupBody::default()
        }
    }

    /// Sets `description`.
    pub fn description(mut self, v: impl Into<String>) -> Self {
        self.description = Some(v.into());
        self
    }

    /// Sets `email`.
    pub fn email(mut self, v: impl Into<String>) -> Self {
        self.email = Some(v.into());
        self
    }

    /// Adds a role (by `uniqueId`) to `roles`.
    pub fn role(mut self, unique_id: impl Into<String>) -> Self {
        self.roles.get_or_insert_with(Vec::new).push(RoleRef {
            unique_id: Some(unique_id.into()),
            ..RoleRef::default()
        });
        self
    }
}

/// The body of `POST …/{ticketId}/responses` (fact sheet §1.10).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct NewResponse {
    /// The text.
    pub description: String,
    /// An internal note rather than a public reply.
    pub internal: bool,
    /// The caller's id for this response; OpsRamp stores it and returns it in
    /// `responses/search`, which lets a retry find a response whose answer was lost.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ext_ticket_response_id: Option<String>,
}

impl NewResponse {
    /// A response with this text.
    pub fn new(description: impl Into<String>, internal: bool) -> Self {
        NewResponse {
            description: description.into(),
            internal,
            ext_ticket_response_id: None,
        }
    }

    /// Sets `extTicketResponseId`.
    pub fn ext_id(mut self, id: impl Into<String>) -> Self {
        self.ext_ticket_response_id = Some(id.into());
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_seed_style_role_update_has_the_seeds_fields_and_nothing_unset() {
        let body = RoleUpdate::of("ROLE-1").all_clients(true).user(
            RoleUser::new("USR0000000042")
                .login_name("jdoe@sav.com")
                .name("John", "Doe")
                .email("jdoe@sav.com"),
        );
        assert_eq!(
            serde_json::to_value(&body).unwrap(),
            json!({"uniqueId":"ROLE-1","allClients":true,"users":[{"id":"USR0000000042",
                "loginName":"jdoe@sav.com","firstName":"John","lastName":"Doe",
                "email":"jdoe@sav.com"}]})
        );
        assert_eq!(
            serde_json::to_value(RoleUser::new("USR1")).unwrap(),
            json!({"id":"USR1"})
        );
    }

    #[test]
    fn act_and_group_bodies_skip_what_is_unset() {
        assert_eq!(
            serde_json::to_value(DeactivateBody::default()).unwrap(),
            json!({})
        );
        assert_eq!(
            serde_json::to_value(TerminateBody::reason("left").mask(MaskType::Full)).unwrap(),
            json!({"terminateReason":"left","maskType":"FULL"})
        );
        assert_eq!(
            serde_json::to_value(GroupBody::named("Ops").role("ROLE-9")).unwrap(),
            json!({"name":"Ops","roles":[{"uniqueId":"ROLE-9"}]})
        );
    }
}
