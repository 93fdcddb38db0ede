//! Rows of `sys_user`, `sys_user_group`, `sys_user_grmember`, `sys_user_role` and
//! `sys_user_has_role` (fact sheet §1 "Users / groups / roles").

use serde::{Deserialize, Serialize};

use super::{Record, Reference, flag, reference, text};

macro_rules! record_fields {
    ($t:ty, [$($f:literal),* $(,)?]) => {
        impl Record for $t {
            fn fields() -> Option<&'static [&'static str]> {
                Some(&[$($f),*])
            }
        }
    };
}

/// A `sys_user` row.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct User {
    /// `sys_id`.
    #[serde(default, deserialize_with = "text")]
    pub sys_id: Option<String>,
    /// Login.
    #[serde(default, deserialize_with = "text")]
    pub user_name: Option<String>,
    /// Given name.
    #[serde(
        default,
        deserialize_with = "text",
        skip_serializing_if = "Option::is_none"
    )]
    pub first_name: Option<String>,
    /// Family name.
    #[serde(
        default,
        deserialize_with = "text",
        skip_serializing_if = "Option::is_none"
    )]
    pub last_name: Option<String>,
    /// Full name (computed by the instance from first and last name).
    #[serde(
        default,
        deserialize_with = "text",
        skip_serializing_if = "Option::is_none"
    )]
    pub name: Option<String>,
    /// Email.
    #[serde(
        default,
        deserialize_with = "text",
        skip_serializing_if = "Option::is_none"
    )]
    pub email: Option<String>,
    /// Whether the user may sign in.
    #[serde(
        default,
        deserialize_with = "flag",
        skip_serializing_if = "Option::is_none"
    )]
    pub active: Option<bool>,
    /// Whether the account is locked out.
    #[serde(
        default,
        deserialize_with = "flag",
        skip_serializing_if = "Option::is_none"
    )]
    pub locked_out: Option<bool>,
    /// Job title.
    #[serde(
        default,
        deserialize_with = "text",
        skip_serializing_if = "Option::is_none"
    )]
    pub title: Option<String>,
    /// Department.
    #[serde(
        default,
        deserialize_with = "reference",
        skip_serializing_if = "Option::is_none"
    )]
    pub department: Option<Reference>,
    /// Manager.
    #[serde(
        default,
        deserialize_with = "reference",
        skip_serializing_if = "Option::is_none"
    )]
    pub manager: Option<Reference>,
    /// Employee number.
    #[serde(
        default,
        deserialize_with = "text",
        skip_serializing_if = "Option::is_none"
    )]
    pub employee_number: Option<String>,
    /// Last updated.
    #[serde(
        default,
        deserialize_with = "text",
        skip_serializing_if = "Option::is_none"
    )]
    pub sys_updated_on: Option<String>,
}

record_fields!(
    User,
    [
        "sys_id",
        "user_name",
        "first_name",
        "last_name",
        "name",
        "email",
        "active",
        "locked_out",
        "title",
        "department",
        "manager",
        "employee_number",
        "sys_updated_on",
    ]
);

/// A `sys_user_group` row.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Group {
    /// `sys_id`.
    #[serde(default, deserialize_with = "text")]
    pub sys_id: Option<String>,
    /// Name.
    #[serde(default, deserialize_with = "text")]
    pub name: Option<String>,
    /// Description.
    #[serde(
        default,
        deserialize_with = "text",
        skip_serializing_if = "Option::is_none"
    )]
    pub description: Option<String>,
    /// Whether the group is active.
    #[serde(
        default,
        deserialize_with = "flag",
        skip_serializing_if = "Option::is_none"
    )]
    pub active: Option<bool>,
    /// Manager.
    #[serde(
        default,
        deserialize_with = "reference",
        skip_serializing_if = "Option::is_none"
    )]
    pub manager: Option<Reference>,
    /// Email.
    #[serde(
        default,
        deserialize_with = "text",
        skip_serializing_if = "Option::is_none"
    )]
    pub email: Option<String>,
}

record_fields!(
    Group,
    [
        "sys_id",
        "name",
        "description",
        "active",
        "manager",
        "email"
    ]
);

/// A `sys_user_grmember` row: a user in a group.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct GroupMember {
    /// `sys_id` of the membership row.
    #[serde(default, deserialize_with = "text")]
    pub sys_id: Option<String>,
    /// The user.
    #[serde(default, deserialize_with = "reference")]
    pub user: Option<Reference>,
    /// The group.
    #[serde(default, deserialize_with = "reference")]
    pub group: Option<Reference>,
}

record_fields!(GroupMember, ["sys_id", "user", "group"]);

/// A `sys_user_role` row.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Role {
    /// `sys_id`.
    #[serde(default, deserialize_with = "text")]
    pub sys_id: Option<String>,
    /// Name (`itil`, `admin`).
    #[serde(default, deserialize_with = "text")]
    pub name: Option<String>,
    /// Description.
    #[serde(
        default,
        deserialize_with = "text",
        skip_serializing_if = "Option::is_none"
    )]
    pub description: Option<String>,
    /// Whether the role needs elevation.
    #[serde(
        default,
        deserialize_with = "flag",
        skip_serializing_if = "Option::is_none"
    )]
    pub elevated_privilege: Option<bool>,
}

record_fields!(
    Role,
    ["sys_id", "name", "description", "elevated_privilege"]
);

/// A `sys_user_has_role` row: a user holding a role, directly or through a group.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct UserRole {
    /// `sys_id` of the row.
    #[serde(default, deserialize_with = "text")]
    pub sys_id: Option<String>,
    /// The user.
    #[serde(default, deserialize_with = "reference")]
    pub user: Option<Reference>,
    /// The role.
    #[serde(default, deserialize_with = "reference")]
    pub role: Option<Reference>,
    /// `true` when held through a group (`sys_group_has_role`): only direct rows can be
    /// deleted.
    #[serde(
        default,
        deserialize_with = "flag",
        skip_serializing_if = "Option::is_none"
    )]
    pub inherited: Option<bool>,
    /// The group it is inherited from, if any.
    #[serde(
        default,
        deserialize_with = "reference",
        skip_serializing_if = "Option::is_none"
    )]
    pub granted_by: Option<Reference>,
    /// `active` (the default), or `requested` / `pending_approval` / … while a role
    /// request waits for approval.
    #[serde(
        default,
        deserialize_with = "text",
        skip_serializing_if = "Option::is_none"
    )]
    pub state: Option<String>,
}

impl UserRole {
    /// Whether the row gives the user the role: `state` `active`, or no state at all (a
    /// row from before the field existed, or an instance without it). A row in any other
    /// state (`requested`, `pending_approval`, `inactive`, …) is a request the instance has
    /// not granted: the user does not hold the role through it.
    pub fn is_held(&self) -> bool {
        self.state
            .as_deref()
            .map(str::trim)
            .is_none_or(|s| s.is_empty() || s.eq_ignore_ascii_case("active"))
    }
}

record_fields!(
    UserRole,
    ["sys_id", "user", "role", "inherited", "granted_by", "state"]
);
