//! How the connector behaves on top of an [`OpsGenieClient`](crate::OpsGenieClient):
//! roles, team member role, page size. Credentials and transport settings live on the
//! client builder.

/// The built-in global roles OpsGenie assigns by name (`GET /v2/roles` lists only custom
/// ones). The fact sheet names `admin` and `user` (older docs also `owner`); custom roles
/// extend `user`, `observer` or `stakeholder`.
pub const BUILT_IN_ROLES: [&str; 5] = ["Owner", "Admin", "User", "Observer", "Stakeholder"];

/// Connector settings. Every field has a documented default.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct OpsGenieConfig {
    /// An instance name for logs and audit (default `opsgenie`).
    pub instance: String,
    /// The role new users get when the spec names none, and the role a `role` revoke
    /// sets back (default `User`): every OpsGenie user holds exactly one role.
    pub default_role: String,
    /// Built-in roles offered as entitlements besides the custom ones (default
    /// [`BUILT_IN_ROLES`]).
    pub built_in_roles: Vec<String>,
    /// The team role a granted team membership gets (default `user`).
    pub member_role: String,
    /// Users per page when the caller asks for no size (default and maximum 100).
    pub page_size: u32,
    /// Whether new users are created without the invitation e-mail (default `false`:
    /// OpsGenie sends it).
    pub invitation_disabled: bool,
}

impl Default for OpsGenieConfig {
    fn default() -> Self {
        OpsGenieConfig {
            instance: "opsgenie".into(),
            default_role: "User".into(),
            built_in_roles: BUILT_IN_ROLES.iter().map(|r| (*r).to_owned()).collect(),
            member_role: "user".into(),
            page_size: 100,
            invitation_disabled: false,
        }
    }
}

impl OpsGenieConfig {
    /// The defaults.
    pub fn new() -> Self {
        OpsGenieConfig::default()
    }

    /// Sets the instance name.
    #[must_use]
    pub fn instance(mut self, name: impl Into<String>) -> Self {
        self.instance = name.into();
        self
    }

    /// Sets the default role.
    #[must_use]
    pub fn default_role(mut self, role: impl Into<String>) -> Self {
        self.default_role = role.into();
        self
    }

    /// Sets the built-in roles offered as entitlements.
    #[must_use]
    pub fn built_in_roles(mut self, roles: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.built_in_roles = roles.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the team role of granted memberships (`user`, `admin`, or a custom team role).
    #[must_use]
    pub fn member_role(mut self, role: impl Into<String>) -> Self {
        self.member_role = role.into();
        self
    }

    /// Sets the default page size (1..=100).
    #[must_use]
    pub fn page_size(mut self, n: u32) -> Self {
        self.page_size = n.clamp(1, 100);
        self
    }

    /// Sets whether new users get the invitation e-mail.
    #[must_use]
    pub fn invitation_disabled(mut self, disabled: bool) -> Self {
        self.invitation_disabled = disabled;
        self
    }
}
