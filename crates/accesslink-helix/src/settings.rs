//! [`HelixSettings`]: one BMC Helix ITSM (AR System) server as configuration, the one
//! path to a connector ([`HelixConnector::from_settings`]).
//!
//! Form and field names the fact sheet marks unverified are settings with defaults, so a
//! deployment whose workflow differs is configured, not patched.

use accesslink_core::http::HttpSettings;
use accesslink_core::{Error, Result, SecretSource, StatusOverrides};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use url::Url;

use crate::connector::HelixConnector;

/// How the connector signs in: `auth = { method = "jwt", username = "svc-iam",
/// password = { env = "HELIX_PASSWORD" } }`: `POST /api/jwt/login` (form body), the
/// answer's raw token sent as `Authorization: AR-JWT <token>`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "method", rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
pub enum HelixAuth {
    /// AR System JWT login with a user name and password.
    Jwt {
        /// The AR login name.
        username: String,
        /// The password.
        password: SecretSource,
        /// The optional `authString` (an authentication domain for external auth).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        auth_string: Option<String>,
    },
}

/// One ticket form: where a kind of ticket lives and which fields the connector reads.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct FormSettings {
    /// The form name (`HPD:Help Desk`).
    pub form: String,
    /// The field holding the ticket number (`Incident Number`).
    pub id_field: String,
    /// The status field (`Status`).
    pub status_field: String,
    /// The summary field (`Description`).
    pub title_field: String,
    /// The assigned support group field, the `scope` of `list_tickets` (incidents
    /// `Assigned Group`; changes, work orders and requests `ASGRP`, unverified).
    #[serde(default = "default_group_field")]
    pub group_field: String,
}

fn default_group_field() -> String {
    "Assigned Group".into()
}

impl FormSettings {
    /// A form description.
    pub fn new(form: &str, id_field: &str, status_field: &str, title_field: &str) -> Self {
        FormSettings {
            form: form.into(),
            id_field: id_field.into(),
            status_field: status_field.into(),
            title_field: title_field.into(),
            group_field: default_group_field(),
        }
    }

    /// Sets the assigned group field.
    #[must_use]
    pub fn group_field(mut self, field: &str) -> Self {
        self.group_field = field.into();
        self
    }
}

/// The forms of each ticket kind (defaults from fact sheet §4).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct HelixForms {
    /// Incidents are created through this interface form (`HPD:IncidentInterface_Create`).
    pub incident_create: String,
    /// Incidents are read and updated here (`HPD:Help Desk`, `Incident Number`, `Status`,
    /// `Description`).
    pub incident: FormSettings,
    /// Incident work notes (`HPD:WorkLog`).
    pub incident_work_log: String,
    /// Change work notes (`CHG:WorkLog`, unverified; keyed by the change form's id field).
    pub change_work_log: String,
    /// Work order work notes (`WOI:WorkInfo`, unverified; keyed by the work order form's
    /// id field).
    pub work_order_work_log: String,
    /// Changes (`CHG:Infrastructure Change`, `Infrastructure Change ID`,
    /// `Change Request Status`, `Description`).
    pub change: FormSettings,
    /// Work orders (`WOI:WorkOrder`, `Work Order ID`, `Status`, `Summary`; unverified).
    pub work_order: FormSettings,
    /// Service requests (`SRM:Request`, `Request Number`, `Status`, `Summary`; unverified).
    pub request: FormSettings,
}

impl Default for HelixForms {
    fn default() -> Self {
        HelixForms {
            incident_create: "HPD:IncidentInterface_Create".into(),
            incident: FormSettings::new(
                "HPD:Help Desk",
                "Incident Number",
                "Status",
                "Description",
            ),
            incident_work_log: "HPD:WorkLog".into(),
            change_work_log: "CHG:WorkLog".into(),
            work_order_work_log: "WOI:WorkInfo".into(),
            change: FormSettings::new(
                "CHG:Infrastructure Change",
                "Infrastructure Change ID",
                "Change Request Status",
                "Description",
            )
            .group_field("ASGRP"),
            work_order: FormSettings::new("WOI:WorkOrder", "Work Order ID", "Status", "Summary")
                .group_field("ASGRP"),
            request: FormSettings::new("SRM:Request", "Request Number", "Status", "Summary")
                .group_field("ASGRP"),
        }
    }
}

/// Field names the connector reads and writes besides the per-form ones (unverified
/// names are here so a deployment can change them).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct HelixFields {
    /// The field carrying the correlation id, on the create form and on the incident
    /// form (default `Vendor Ticket Number`; choose per deployment).
    pub correlation: String,
    /// The requester's login on ticket forms (default `Customer Login ID`, unverified).
    pub requester_login: String,
    /// The requester's first name (default `First Name`).
    pub requester_first_name: String,
    /// The requester's last name (default `Last Name`).
    pub requester_last_name: String,
    /// The requester's e-mail (default `Internet E-mail`).
    pub requester_email: String,
    /// The detailed description (default `Detailed Decription`, AR's own spelling).
    pub detail: String,
    /// The resolution text (default `Resolution`).
    pub resolution: String,
    /// The status reason (default `Status_Reason`).
    pub status_reason: String,
    /// The entry id field, used when an entry has no `_links.self` (default `Request ID`).
    pub entry_id: String,
    /// The update time on every form (default `Last Modified Date`): the change feed's
    /// filter and order.
    pub updated: String,
    /// The creation time on every form (default `Submit Date`).
    pub created: String,
    /// The author of a work log entry (default `Submitter`).
    pub submitter: String,
    /// The id of a work log entry (default `Work Log ID`; the entry id when absent).
    pub work_log_id: String,
}

impl Default for HelixFields {
    fn default() -> Self {
        HelixFields {
            correlation: "Vendor Ticket Number".into(),
            requester_login: "Customer Login ID".into(),
            requester_first_name: "First Name".into(),
            requester_last_name: "Last Name".into(),
            requester_email: "Internet E-mail".into(),
            detail: "Detailed Decription".into(),
            resolution: "Resolution".into(),
            status_reason: "Status_Reason".into(),
            entry_id: "Request ID".into(),
            updated: "Last Modified Date".into(),
            created: "Submit Date".into(),
            submitter: "Submitter".into(),
            work_log_id: "Work Log ID".into(),
        }
    }
}

/// The values a new incident gets (fact sheet §4: the interface form needs them).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct IncidentDefaults {
    /// `Impact` (default `4-Minor/Localized`).
    pub impact: String,
    /// `Urgency` (default `4-Low`).
    pub urgency: String,
    /// `Service_Type` (default `User Service Request`).
    pub service_type: String,
    /// `Reported Source` (default `Direct Input`).
    pub reported_source: String,
    /// `Status` of a new incident (default `Assigned`).
    pub status: String,
    /// The customer login (`Login_ID`) used when a new ticket names no requester
    /// login; Helix needs a customer that exists in `CTM:People`.
    pub customer_login: Option<String>,
}

impl Default for IncidentDefaults {
    fn default() -> Self {
        IncidentDefaults {
            impact: "4-Minor/Localized".into(),
            urgency: "4-Low".into(),
            service_type: "User Service Request".into(),
            reported_source: "Direct Input".into(),
            status: "Assigned".into(),
            customer_login: None,
        }
    }
}

/// How incidents are closed (workflow-dependent: `Resolved` needs a status reason and a
/// resolution; `Closed` is usually set by auto-close).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct CloseSettings {
    /// The status set (default `Resolved`).
    pub status: String,
    /// The status reason of a successful close (default `No Further Action Required`).
    pub status_reason: String,
    /// The status reason of a failed one (default `No Further Action Required`).
    pub failed_status_reason: String,
    /// The resolution text when the caller gives no notes (default `Closed by accesslink`).
    pub resolution: String,
}

impl Default for CloseSettings {
    fn default() -> Self {
        CloseSettings {
            status: "Resolved".into(),
            status_reason: "No Further Action Required".into(),
            failed_status_reason: "No Further Action Required".into(),
            resolution: "Closed by accesslink".into(),
        }
    }
}

/// Work notes (`HPD:WorkLog`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct WorkLogSettings {
    /// `Work Log Type` (default `General Information`).
    pub work_log_type: String,
    /// `View Access` of internal notes (default `Internal`).
    pub internal: String,
    /// `View Access` of public notes (default `Public`).
    pub public: String,
}

impl Default for WorkLogSettings {
    fn default() -> Self {
        WorkLogSettings {
            work_log_type: "General Information".into(),
            internal: "Internal".into(),
            public: "Public".into(),
        }
    }
}

/// People and support groups (`Provisioner`; field names partly unverified).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct PeopleSettings {
    /// The people form (`CTM:People`); accounts are keyed by `Remedy Login ID`.
    pub form: String,
    /// The support group form (`CTM:Support Group`: `Support Group ID`, `Support Group Name`).
    pub support_group_form: String,
    /// The membership form (`CTM:Support Group Association`: `Login ID`,
    /// `Support Group ID`, `Support Group Association Role`).
    pub association_form: String,
    /// The role of a granted membership (default `Member`).
    pub association_role: String,
    /// `Profile Status` of enabled people (default `Enabled`).
    pub enabled_status: String,
    /// `Profile Status` set to disable (default `Offline`; `Obsolete` is the other choice).
    pub disabled_status: String,
    /// `Company` of new people, when the deployment requires one.
    pub company: Option<String>,
}

impl Default for PeopleSettings {
    fn default() -> Self {
        PeopleSettings {
            form: "CTM:People".into(),
            support_group_form: "CTM:Support Group".into(),
            association_form: "CTM:Support Group Association".into(),
            association_role: "Member".into(),
            enabled_status: "Enabled".into(),
            disabled_status: "Offline".into(),
            company: None,
        }
    }
}

/// AR System `Group` membership as a second entitlement type (`ar_group`), edited
/// through the `User` form's `Group List` (a `;`-separated string of group ids; fact
/// sheet §4: no join form). Off unless configured: `ar_groups = {}` turns it on with
/// these defaults.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct ArGroupSettings {
    /// The login form (`User`).
    pub user_form: String,
    /// Its login field (`Login Name`).
    pub login_field: String,
    /// Its membership field (`Group List`).
    pub group_list_field: String,
    /// The group form (`Group`).
    pub group_form: String,
    /// The group id field (`Group ID`).
    pub group_id_field: String,
    /// The group name field (`Group Name`).
    pub group_name_field: String,
    /// Read-modify-write rounds before a membership change that keeps meeting
    /// concurrent changes gives up with `Conflict` (default 5).
    pub max_rounds: u32,
}

impl Default for ArGroupSettings {
    fn default() -> Self {
        ArGroupSettings {
            user_form: "User".into(),
            login_field: "Login Name".into(),
            group_list_field: "Group List".into(),
            group_form: "Group".into(),
            group_id_field: "Group ID".into(),
            group_name_field: "Group Name".into(),
            max_rounds: 5,
        }
    }
}

/// How one kind of ticket other than incidents (changes, work orders) is created and
/// closed. Interface forms and the fields their workflow requires vary per deployment
/// (fact sheet §4 marks the change interface unverified): `create_values` adds what a
/// deployment needs (`Company`, `Location Company`, …).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct TicketWorkflow {
    /// The interface form creates go through (`CHG:ChangeInterface_Create`,
    /// `WOI:WorkOrderInterface_Create`).
    pub create_form: String,
    /// The summary field on the create form (`Description`, `Summary`).
    pub create_title_field: String,
    /// The detail field on the create form (`Detailed Description`).
    pub create_detail_field: String,
    /// The customer login field on the create form (`Customer Login ID`, unverified).
    pub create_login_field: String,
    /// The correlation field on the create and base forms; `None`: `fields.correlation`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correlation_field: Option<String>,
    /// Values every create sends besides summary, detail, customer and correlation
    /// (`z1D_Action = "CREATE"`, `Impact`, `Urgency`, `Change Type`, `Status`, …).
    #[serde(default)]
    pub create_values: serde_json::Map<String, serde_json::Value>,
    /// The status a close sets (`Completed`).
    pub close_status: String,
    /// The status reason field (`Status Reason`).
    pub status_reason_field: String,
    /// The status reason of a successful close (`Successful`).
    pub status_reason: String,
    /// The status reason of an unsuccessful one (`Unsuccessful`).
    pub failed_status_reason: String,
    /// The field the close notes go in (`None`: none sent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes_field: Option<String>,
}

impl TicketWorkflow {
    /// The change defaults: `CHG:ChangeInterface_Create` (`Description`,
    /// `Detailed Description`, `z1D_Action = CREATE`, `Impact 4-Minor/Localized`,
    /// `Urgency 4-Low`, `Change Type = Change`), closed `Completed` / `Successful`.
    pub fn change() -> Self {
        let mut values = serde_json::Map::new();
        values.insert("z1D_Action".into(), "CREATE".into());
        values.insert("Impact".into(), "4-Minor/Localized".into());
        values.insert("Urgency".into(), "4-Low".into());
        values.insert("Change Type".into(), "Change".into());
        TicketWorkflow {
            create_form: "CHG:ChangeInterface_Create".into(),
            create_title_field: "Description".into(),
            create_detail_field: "Detailed Description".into(),
            create_login_field: "Customer Login ID".into(),
            correlation_field: None,
            create_values: values,
            close_status: "Completed".into(),
            status_reason_field: "Status Reason".into(),
            status_reason: "Successful".into(),
            failed_status_reason: "Unsuccessful".into(),
            notes_field: None,
        }
    }

    /// The work order defaults: `WOI:WorkOrderInterface_Create` (`Summary`,
    /// `Detailed Description`, `z1D_Action = CREATE`, `Status = Assigned`), closed
    /// `Completed` / `Successful`.
    pub fn work_order() -> Self {
        let mut values = serde_json::Map::new();
        values.insert("z1D_Action".into(), "CREATE".into());
        values.insert("Status".into(), "Assigned".into());
        TicketWorkflow {
            create_form: "WOI:WorkOrderInterface_Create".into(),
            create_title_field: "Summary".into(),
            create_detail_field: "Detailed Description".into(),
            create_login_field: "Customer Login ID".into(),
            correlation_field: None,
            create_values: values,
            close_status: "Completed".into(),
            status_reason_field: "Status Reason".into(),
            status_reason: "Successful".into(),
            failed_status_reason: "Unsuccessful".into(),
            notes_field: None,
        }
    }
}

fn default_change() -> TicketWorkflow {
    TicketWorkflow::change()
}
fn default_work_order() -> TicketWorkflow {
    TicketWorkflow::work_order()
}

fn default_name() -> String {
    "helix".into()
}
fn default_lifetime() -> u64 {
    3600
}
fn default_ahead() -> u64 {
    120
}
fn default_page_size() -> u32 {
    100
}
fn default_batch_size() -> usize {
    25
}
fn default_transient() -> Vec<i64> {
    crate::error::DEFAULT_TRANSIENT.to_vec()
}

/// One AR System server, loadable from configuration (`deny_unknown_fields`).
///
/// ```toml
/// [instances.helix]
/// target = "helix"
/// base_url = "https://acme-restapi.onbmc.com"
/// auth = { method = "jwt", username = "svc-iam", password = { env = "HELIX_PASSWORD" } }
/// serialize_per_account = true
/// fields = { correlation = "Vendor Ticket Number" }
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct HelixSettings {
    /// An instance name for logs and audit (default `helix`).
    #[serde(default = "default_name")]
    pub name: String,
    /// The server root (`https://acme-restapi.onbmc.com`, `https://ar.example.com:8443`);
    /// the API is under `/api/arsys/v1` and `/api/jwt`.
    pub base_url: Url,
    /// How to sign in.
    pub auth: HelixAuth,
    /// Core transport settings.
    #[serde(default)]
    pub http: HttpSettings,
    /// Status map overrides (keys `incident:<Status>`, `change:<Change Request Status>`,
    /// `work_order:<Status>`, `request:<Status>`).
    #[serde(default)]
    pub status_map: StatusOverrides,
    /// How long a token lives when its `exp` cannot be read (seconds, default 3600: the
    /// server default; servers allow 1 minute to 12 hours).
    #[serde(default = "default_lifetime")]
    pub token_lifetime_secs: u64,
    /// How long before expiry the token is renewed (seconds, default 120).
    #[serde(default = "default_ahead")]
    pub renew_ahead_secs: u64,
    /// Send one request at a time through this account (AR error 9093: the same user
    /// connected from another machine; default `false`).
    #[serde(default)]
    pub serialize_per_account: bool,
    /// Entries per page (`limit`, default 100).
    #[serde(default = "default_page_size")]
    pub page_size: u32,
    /// The server's "Max Entries Returned by GetList", when known: a last page of exactly
    /// this many entries is refused as a silent truncation.
    #[serde(default)]
    pub max_entries_returned: Option<u32>,
    /// Ticket numbers per batched read (one qualification of `OR`s, default 25).
    #[serde(default = "default_batch_size")]
    pub batch_size: usize,
    /// AR message numbers that make an HTTP 500 a transient failure, retried with
    /// back-off (default `[90, 91, 92, 93]`: server unreachable, RPC failed, timeouts);
    /// every other AR message on a 500 is a business refusal, sent once.
    #[serde(default = "default_transient")]
    pub transient_errors: Vec<i64>,
    /// Form names.
    #[serde(default)]
    pub forms: HelixForms,
    /// Field names.
    #[serde(default)]
    pub fields: HelixFields,
    /// Values of new incidents.
    #[serde(default)]
    pub incident: IncidentDefaults,
    /// How incidents are closed.
    #[serde(default)]
    pub close: CloseSettings,
    /// Work notes.
    #[serde(default)]
    pub work_log: WorkLogSettings,
    /// People and support groups.
    #[serde(default)]
    pub people: PeopleSettings,
    /// AR `Group` membership through `User.Group List` as entitlement type `ar_group`;
    /// `None` (the default): not offered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ar_groups: Option<ArGroupSettings>,
    /// How changes are created and closed.
    #[serde(default = "default_change")]
    pub change: TicketWorkflow,
    /// How work orders are created and closed.
    #[serde(default = "default_work_order")]
    pub work_order: TicketWorkflow,
}

impl HelixSettings {
    /// Settings with defaults for everything but the server and the login.
    pub fn new(base_url: Url, username: impl Into<String>, password: SecretSource) -> Self {
        HelixSettings {
            name: default_name(),
            base_url,
            auth: HelixAuth::Jwt {
                username: username.into(),
                password,
                auth_string: None,
            },
            http: HttpSettings::default(),
            status_map: StatusOverrides::default(),
            token_lifetime_secs: default_lifetime(),
            renew_ahead_secs: default_ahead(),
            serialize_per_account: false,
            page_size: default_page_size(),
            max_entries_returned: None,
            batch_size: default_batch_size(),
            transient_errors: default_transient(),
            forms: HelixForms::default(),
            fields: HelixFields::default(),
            incident: IncidentDefaults::default(),
            close: CloseSettings::default(),
            work_log: WorkLogSettings::default(),
            people: PeopleSettings::default(),
            ar_groups: None,
            change: TicketWorkflow::change(),
            work_order: TicketWorkflow::work_order(),
        }
    }

    /// Checks what serde cannot.
    pub fn validate(&self) -> Result<()> {
        if !matches!(self.base_url.scheme(), "http" | "https") {
            return Err(Error::config("base_url must be http or https"));
        }
        if !(1..=2000).contains(&self.page_size) {
            return Err(Error::config("page_size must be 1..=2000"));
        }
        if !(1..=100).contains(&self.batch_size) {
            return Err(Error::config("batch_size must be 1..=100"));
        }
        if !(60..=43_200).contains(&self.token_lifetime_secs) {
            return Err(Error::config(
                "token_lifetime_secs must be 60..=43200 (1 minute to 12 hours)",
            ));
        }
        if self.renew_ahead_secs >= self.token_lifetime_secs {
            return Err(Error::config(
                "renew_ahead_secs must be shorter than token_lifetime_secs",
            ));
        }
        if let Some(g) = &self.ar_groups {
            if !(1..=20).contains(&g.max_rounds) {
                return Err(Error::config("ar_groups.max_rounds must be 1..=20"));
            }
        }
        let HelixAuth::Jwt { username, .. } = &self.auth;
        if username.is_empty() || username.chars().any(char::is_control) {
            return Err(Error::config("auth.username must be a plain login name"));
        }
        Ok(())
    }

    /// Builds the connector (sugar for [`HelixConnector::from_settings`]).
    pub fn into_connector(self) -> Result<HelixConnector> {
        HelixConnector::from_settings(self)
    }
}
