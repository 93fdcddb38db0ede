//! How the connector behaves on top of a [`ServiceNowClient`](crate::ServiceNowClient):
//! ticket routing, comments, closing, correlation, paging and batch sizes. Credentials
//! and transport settings live on the client builder.

/// Which journal field a comment goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum CommentField {
    /// `Visibility::Public` → `comments` (customer-visible), `Internal` → `work_notes`.
    /// The default.
    #[default]
    FromVisibility,
    /// Always `comments`.
    AlwaysComments,
    /// Always `work_notes`.
    AlwaysWorkNotes,
}

/// How `close_ticket` closes an incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum IncidentClose {
    /// Resolve (state 6 with close code and notes), then close (state 7). The default.
    #[default]
    ResolveAndClose,
    /// Only resolve; the instance (or the caller) closes it later.
    ResolveOnly,
}

/// Connector settings. Every field has a documented default.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServiceNowConfig {
    /// An instance name for logs and audit (default `servicenow`).
    pub instance: String,
    /// Which journal field comments go to.
    pub comments: CommentField,
    /// How incidents are closed.
    pub incident_close: IncidentClose,
    /// The table `TicketKind::Request` opens (default `sc_request`; `sc_req_item` on
    /// instances where items carry the work).
    pub request_table: String,
    /// Extra number prefixes and their tables (`("UREQ", "u_access_request")`), on top
    /// of INC, CHG, CTASK, REQ, RITM, SCTASK, PRB, PRJ, PRJTASK and TASK.
    pub custom_prefixes: Vec<(String, String)>,
    /// Written to `correlation_display` on create (default `accesslink`).
    pub correlation_display: Option<String>,
    /// Whether correlation look-ups also require `correlation_display` to match
    /// (default `false`: the correlation id alone decides, so a ticket is found even if
    /// the display name changed).
    pub match_correlation_display: bool,
    /// Close code of a successfully closed incident when the resolution has none
    /// (default `Solution provided`).
    pub incident_close_code: String,
    /// Custom fields (`u_*`) read with every ticket into `Ticket::extra`.
    pub extra_fields: Vec<String>,
    /// Tickets per `numberIN…` request in batched reads (default 50).
    pub batch_size: usize,
    /// Rows per page when the caller asks for no size (default 1000; at most 10000).
    pub page_size: u32,
    /// Base of links for people (default: the instance URL).
    pub ui_url: Option<String>,
}

impl Default for ServiceNowConfig {
    fn default() -> Self {
        ServiceNowConfig {
            instance: "servicenow".into(),
            comments: CommentField::default(),
            incident_close: IncidentClose::default(),
            request_table: "sc_request".into(),
            custom_prefixes: Vec::new(),
            correlation_display: Some("accesslink".into()),
            match_correlation_display: false,
            incident_close_code: "Solution provided".into(),
            extra_fields: Vec::new(),
            batch_size: 50,
            page_size: 1000,
            ui_url: None,
        }
    }
}

impl ServiceNowConfig {
    /// The defaults.
    pub fn new() -> Self {
        ServiceNowConfig::default()
    }

    /// Sets the instance name.
    #[must_use]
    pub fn instance(mut self, name: impl Into<String>) -> Self {
        self.instance = name.into();
        self
    }

    /// Sets where comments go.
    #[must_use]
    pub fn comments(mut self, field: CommentField) -> Self {
        self.comments = field;
        self
    }

    /// Sets how incidents are closed.
    #[must_use]
    pub fn incident_close(mut self, how: IncidentClose) -> Self {
        self.incident_close = how;
        self
    }

    /// Sets the table of `TicketKind::Request`.
    #[must_use]
    pub fn request_table(mut self, table: impl Into<String>) -> Self {
        self.request_table = table.into();
        self
    }

    /// Adds a number prefix routed to a table (checked when the connector is built).
    #[must_use]
    pub fn custom_prefix(mut self, prefix: impl Into<String>, table: impl Into<String>) -> Self {
        self.custom_prefixes.push((prefix.into(), table.into()));
        self
    }

    /// Sets `correlation_display` (`None`: leave it empty).
    #[must_use]
    pub fn correlation_display(mut self, display: Option<String>) -> Self {
        self.correlation_display = display;
        self
    }

    /// Sets whether correlation look-ups match `correlation_display` too.
    #[must_use]
    pub fn match_correlation_display(mut self, on: bool) -> Self {
        self.match_correlation_display = on;
        self
    }

    /// Sets the default incident close code.
    #[must_use]
    pub fn incident_close_code(mut self, code: impl Into<String>) -> Self {
        self.incident_close_code = code.into();
        self
    }

    /// Adds a custom field read with every ticket.
    #[must_use]
    pub fn extra_field(mut self, field: impl Into<String>) -> Self {
        self.extra_fields.push(field.into());
        self
    }

    /// Sets the batch size of batched reads (1..=100).
    #[must_use]
    pub fn batch_size(mut self, n: usize) -> Self {
        self.batch_size = n.clamp(1, 100);
        self
    }

    /// Sets the default page size (1..=10000).
    #[must_use]
    pub fn page_size(mut self, n: u32) -> Self {
        self.page_size = n.clamp(1, crate::api::MAX_LIMIT);
        self
    }

    /// Sets the base of links for people.
    #[must_use]
    pub fn ui_url(mut self, url: impl Into<String>) -> Self {
        self.ui_url = Some(url.into());
        self
    }
}
