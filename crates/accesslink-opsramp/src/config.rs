//! Connector settings: what disable and delete send, the defaults a new user gets, and
//! the page size.

use std::fmt;

use secrecy::SecretString;

use crate::models::{MaskType, TimeZone};

/// What [`Provisioner::delete_account`](accesslink_core::Provisioner::delete_account)
/// does. OpsRamp has no DELETE for users (fact sheet §1.7).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum DeleteMode {
    /// `POST users/{id}/TERMINATE`: final; the user is gone for good (the default).
    #[default]
    Terminate,
    /// TERMINATE with `maskType` (`PARTIAL` or `FULL`) to mask personal data.
    TerminateMasked(MaskType),
    /// `POST users/{id}/DEACTIVATE`, reversible, as the seed's RemoveAccountJSON does.
    /// The user stays readable (inactive) afterwards.
    Deactivate,
    /// `delete_account` is `Unsupported` and not declared.
    Unsupported,
}

/// Settings of an [`OpsRampConnector`](crate::OpsRampConnector).
#[derive(Clone)]
#[non_exhaustive]
pub struct OpsRampConfig {
    /// The instance name reported in `info()`.
    pub instance: String,
    /// The `deactivateReason` sent when an account is disabled (default
    /// `Disabled by accesslink`).
    pub deactivate_reason: String,
    /// The `terminateReason` sent when an account is deleted with TERMINATE.
    pub terminate_reason: String,
    /// What delete does.
    pub delete_mode: DeleteMode,
    /// The password new users get (OpsRamp's rule: 7+ characters with a digit, a special
    /// character, a lower- and an upper-case letter). `None` sends none.
    pub initial_password: Option<SecretString>,
    /// The time zone new users get when the spec names none (the seed sends
    /// `{"code":"EST","name":"Europe/Istanbul"}`).
    pub time_zone: Option<TimeZone>,
    /// Page size when the caller asks for none (default 100, at most 500).
    pub page_size: u32,
    /// The Closed reason sent when a ticket is closed successfully (default `Completed`):
    /// with `reasonsEnabled`, OpsRamp takes only a reason configured on the tenant.
    pub close_reason: String,
    /// The Closed reason for an unsuccessful outcome (default `Cancelled`).
    pub failed_close_reason: String,
    /// Start of the creation window of correlation searches, `yyyy-MM-ddTHH:mm:ss`
    /// GMT (default `2000-01-01T00:00:00`): without a window OpsRamp searches one month.
    pub search_since: String,
}

impl Default for OpsRampConfig {
    fn default() -> Self {
        OpsRampConfig {
            instance: "opsramp".into(),
            deactivate_reason: "Disabled by accesslink".into(),
            terminate_reason: "Deleted by accesslink".into(),
            delete_mode: DeleteMode::default(),
            initial_password: None,
            time_zone: None,
            page_size: 100,
            close_reason: "Completed".into(),
            failed_close_reason: "Cancelled".into(),
            search_since: "2000-01-01T00:00:00".into(),
        }
    }
}

impl fmt::Debug for OpsRampConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpsRampConfig")
            .field("instance", &self.instance)
            .field("deactivate_reason", &self.deactivate_reason)
            .field("terminate_reason", &self.terminate_reason)
            .field("delete_mode", &self.delete_mode)
            .field(
                "initial_password",
                &self.initial_password.as_ref().map(|_| "[redacted]"),
            )
            .field("time_zone", &self.time_zone)
            .field("page_size", &self.page_size)
            .field("close_reason", &self.close_reason)
            .field("failed_close_reason", &self.failed_close_reason)
            .field("search_since", &self.search_since)
            .finish()
    }
}

impl OpsRampConfig {
    /// The defaults.
    pub fn new() -> Self {
        OpsRampConfig::default()
    }

    /// Sets the instance name.
    #[must_use]
    pub fn instance(mut self, name: impl Into<String>) -> Self {
        self.instance = name.into();
        self
    }

    /// Sets the reason sent with DEACTIVATE.
    #[must_use]
    pub fn deactivate_reason(mut self, reason: impl Into<String>) -> Self {
        self.deactivate_reason = reason.into();
        self
    }

    /// Sets the reason sent with TERMINATE.
    #[must_use]
    pub fn terminate_reason(mut self, reason: impl Into<String>) -> Self {
        self.terminate_reason = reason.into();
        self
    }

    /// Sets what delete does.
    #[must_use]
    pub fn delete_mode(mut self, mode: DeleteMode) -> Self {
        self.delete_mode = mode;
        self
    }

    /// Sets the password new users get.
    #[must_use]
    pub fn initial_password(mut self, password: SecretString) -> Self {
        self.initial_password = Some(password);
        self
    }

    /// Sets the time zone new users get.
    #[must_use]
    pub fn time_zone(mut self, tz: TimeZone) -> Self {
        self.time_zone = Some(tz);
        self
    }

    /// Sets the default page size.
    #[must_use]
    pub fn page_size(mut self, size: u32) -> Self {
        self.page_size = size.clamp(1, crate::api::MAX_PAGE_SIZE);
        self
    }

    /// Sets the Closed reasons for successful and unsuccessful outcomes.
    #[must_use]
    pub fn close_reasons(mut self, success: impl Into<String>, failure: impl Into<String>) -> Self {
        self.close_reason = success.into();
        self.failed_close_reason = failure.into();
        self
    }
}
