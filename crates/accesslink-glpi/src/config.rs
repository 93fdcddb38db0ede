//! How the connector behaves on top of a [`GlpiClient`](crate::GlpiClient): ticket
//! defaults, comment privacy, closing, deleting, paging and batch sizes. Credentials
//! and transport settings live on the client builder.

/// Which follow-ups are private.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum FollowupPrivacy {
    /// `Visibility::Internal` comments are private follow-ups, `Public` ones public
    /// (the default).
    #[default]
    FromComment,
    /// Every follow-up is private, whatever the comment says.
    AlwaysPrivate,
    /// Every follow-up is public.
    AlwaysPublic,
}

/// What `close_ticket` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum CloseMode {
    /// Add a solution (status 5), then close (status 6). The default.
    #[default]
    SolveAndClose,
    /// Only add the solution; GLPI (or the requester) closes it later.
    SolveOnly,
}

/// What `delete_account` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum DeleteMode {
    /// Move the user to GLPI's trash (`is_deleted = 1`); an administrator can restore it.
    /// The default.
    #[default]
    Trash,
    /// Purge the user for good (`force_purge=true`).
    Purge,
}

/// Connector settings. Every field has a documented default.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct GlpiConfig {
    /// An instance name for logs and audit (default `glpi`).
    pub instance: String,
    /// Entity for new tickets, changes and users; `None` lets GLPI use the session's
    /// active entity (the default).
    pub entity: Option<u64>,
    /// Which follow-ups are private.
    pub followups: FollowupPrivacy,
    /// What closing does.
    pub close: CloseMode,
    /// Status a change is set to when closed with an unsuccessful
    /// [`Resolution`](accesslink_core::Resolution) (default 14, Cancelled). GLPI tickets
    /// have no unsuccessful closed state: they are solved and closed either way.
    pub failed_change_status: u8,
    /// What deleting a user does.
    pub delete: DeleteMode,
    /// Whether profiles granted by the connector extend to child entities (default
    /// `false`, as in GLPI's form).
    pub profile_recursive: bool,
    /// Whether `get_ticket` reads the approval records (one more request; default
    /// `true`). `get_tickets` never does: it relies on `global_validation`.
    pub read_validations: bool,
    /// Whether `get_ticket` reads the requester (two more requests; default `true`).
    pub read_requester: bool,
    /// Items per `getMultipleItems` call in batched reads (default 50).
    pub batch_size: usize,
    /// Rows per page when the caller asks for no size (default 200; at most 1000).
    pub page_size: u32,
    /// Minutes east of UTC of the server's clock, for its zone-less timestamps.
    pub server_utc_offset_minutes: i32,
    /// Base of links for people (`https://glpi.example.com/`); by default derived from
    /// the API URL by dropping `apirest.php`.
    pub ui_url: Option<String>,
}

impl Default for GlpiConfig {
    fn default() -> Self {
        GlpiConfig {
            instance: "glpi".into(),
            entity: None,
            followups: FollowupPrivacy::default(),
            close: CloseMode::default(),
            failed_change_status: 14,
            delete: DeleteMode::default(),
            profile_recursive: false,
            read_validations: true,
            read_requester: true,
            batch_size: 50,
            page_size: 200,
            server_utc_offset_minutes: 0,
            ui_url: None,
        }
    }
}

impl GlpiConfig {
    /// The defaults.
    pub fn new() -> Self {
        GlpiConfig::default()
    }

    /// Sets the instance name.
    #[must_use]
    pub fn instance(mut self, name: impl Into<String>) -> Self {
        self.instance = name.into();
        self
    }

    /// Sets the entity of new items.
    #[must_use]
    pub fn entity(mut self, entity: u64) -> Self {
        self.entity = Some(entity);
        self
    }

    /// Sets follow-up privacy.
    #[must_use]
    pub fn followups(mut self, privacy: FollowupPrivacy) -> Self {
        self.followups = privacy;
        self
    }

    /// Sets what closing does.
    #[must_use]
    pub fn close(mut self, mode: CloseMode) -> Self {
        self.close = mode;
        self
    }

    /// Sets what deleting a user does.
    #[must_use]
    pub fn delete(mut self, mode: DeleteMode) -> Self {
        self.delete = mode;
        self
    }

    /// Sets whether granted profiles are recursive.
    #[must_use]
    pub fn profile_recursive(mut self, on: bool) -> Self {
        self.profile_recursive = on;
        self
    }

    /// Sets whether `get_ticket` reads approval records.
    #[must_use]
    pub fn read_validations(mut self, on: bool) -> Self {
        self.read_validations = on;
        self
    }

    /// Sets whether `get_ticket` reads the requester.
    #[must_use]
    pub fn read_requester(mut self, on: bool) -> Self {
        self.read_requester = on;
        self
    }

    /// Sets the batch size of batched reads (1..=200).
    #[must_use]
    pub fn batch_size(mut self, n: usize) -> Self {
        self.batch_size = n.clamp(1, 200);
        self
    }

    /// Sets the default page size (1..=1000).
    #[must_use]
    pub fn page_size(mut self, n: u32) -> Self {
        self.page_size = n.clamp(1, 1000);
        self
    }

    /// Sets the server's offset from UTC in minutes.
    #[must_use]
    pub fn server_utc_offset_minutes(mut self, minutes: i32) -> Self {
        self.server_utc_offset_minutes = minutes;
        self
    }

    /// Sets the base of links for people.
    #[must_use]
    pub fn ui_url(mut self, url: impl Into<String>) -> Self {
        self.ui_url = Some(url.into());
        self
    }
}
