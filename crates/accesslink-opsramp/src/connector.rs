//! The `Connector` implementation, the mapping between OpsRamp users and accesslink
//! accounts, and page tokens.

use std::sync::Arc;
use std::time::Instant;

use accesslink_core::{
    Account, AccountChange, AccountSpec, Capability, ConnectionReport, Connector, ConnectorInfo,
    EntitlementType, Error, PageRequest, PageToken, Provisioner, Result, StatusMap, TicketKind,
    TicketingSystem, async_trait,
};
use serde_json::{Map, Value};

use crate::api::{MAX_PAGE_SIZE, SearchParams};
use crate::client::OpsRampClient;
use crate::locks::UserLocks;
use crate::models::{GroupRef, RoleRef, TimeZone, User, UserBody};
use crate::settings::{DeleteMode, OpsRampConfig};

/// OpsRamp as a [`Provisioner`] (users, roles, user groups) and a [`TicketingSystem`]
/// (incidents and service requests).
///
/// Clones share the client and settings, and queue role grants and revokes per user:
/// each writes the user's complete role list, so concurrent changes on one user through
/// this connector run one after the other instead of undoing each other.
#[derive(Debug, Clone)]
pub struct OpsRampConnector {
    pub(crate) client: OpsRampClient,
    pub(crate) config: Arc<OpsRampConfig>,
    info: ConnectorInfo,
    pub(crate) types: Arc<[EntitlementType]>,
    /// Role changes queue per user (see `locks`).
    pub(crate) role_locks: Arc<UserLocks>,
    /// Native ticket status → state: the default table with the settings' overrides.
    pub(crate) status: Arc<StatusMap>,
}

impl OpsRampConnector {
    /// A connector over a ready client, with these options and the default status map:
    /// sugar over the code [`from_settings`](Self::from_settings) runs.
    pub fn new(client: OpsRampClient, config: OpsRampConfig) -> Self {
        OpsRampConnector::assemble(client, config, crate::status::default_status_map())
    }

    /// What both constructors share.
    pub(crate) fn assemble(
        client: OpsRampClient,
        config: OpsRampConfig,
        status: StatusMap,
    ) -> Self {
        use Capability as C;
        let mut caps = vec![
            C::CreateTicket,
            C::GetTicket,
            C::FindByCorrelation,
            C::Comment,
            C::CloseTicket,
            C::ListAccounts,
            C::ListEntitlements,
            C::ListGrants,
            C::CreateAccount,
            C::UpdateAccount,
            C::EnableDisable,
            C::Grant,
            C::Revoke,
            C::ListTickets,
            C::ListComments,
            C::TicketSchema,
            C::AccountSchema,
            C::SetPassword,
            C::CreateWithPassword,
        ];
        if config.delete_mode != DeleteMode::Unsupported {
            caps.push(C::DeleteAccount);
        }
        let info = ConnectorInfo::new("opsramp", config.instance.clone())
            .with(caps)
            .with_ticket_kinds([TicketKind::Incident, TicketKind::Request]);
        OpsRampConnector {
            client,
            config: Arc::new(config),
            info,
            types: Arc::from([EntitlementType::role(), EntitlementType::group()]),
            role_locks: Arc::default(),
            status: Arc::new(status),
        }
    }

    /// The low-level client.
    pub fn client(&self) -> &OpsRampClient {
        &self.client
    }

    /// The settings.
    pub fn config(&self) -> &OpsRampConfig {
        &self.config
    }

    /// The entitlement reference of a role (`ROLE-<uuid>`).
    pub fn role_entitlement(unique_id: &str) -> accesslink_core::EntitlementRef {
        accesslink_core::EntitlementRef::new(EntitlementType::role(), unique_id)
    }

    /// The entitlement reference of a user group (`USRGRP-<uuid>`).
    pub fn group_entitlement(unique_id: &str) -> accesslink_core::EntitlementRef {
        accesslink_core::EntitlementRef::new(EntitlementType::group(), unique_id)
    }

    /// The search parameters of a page request over the listing `kind`: the token's page
    /// and size when resuming (a page number only means something with its size), the
    /// request's size (or the configured one) on the first page.
    pub(crate) fn search_params(&self, kind: &str, page: &PageRequest) -> Result<SearchParams> {
        match &page.token {
            Some(t) => {
                let (no, size) = decode_token(kind, t)?;
                Ok(SearchParams::page(no, size))
            }
            None => Ok(SearchParams::page(
                1,
                page.size_or(self.config.page_size).min(MAX_PAGE_SIZE),
            )),
        }
    }
}

/// `<kind>:<pageNo>:<pageSize>`.
pub(crate) fn encode_token(kind: &str, params: &SearchParams) -> PageToken {
    PageToken::new(format!("{kind}:{}:{}", params.page_no, params.page_size))
}

/// `users:<pageNo>:<pageSize>:<total>`: a user listing's token also carries the largest
/// `totalResults` the import has seen, so that a later page can tell the listing shrank.
pub(crate) fn encode_users_token(params: &SearchParams, seen_total: Option<u64>) -> PageToken {
    match seen_total {
        Some(total) => PageToken::new(format!(
            "users:{}:{}:{total}",
            params.page_no, params.page_size
        )),
        None => encode_token("users", params),
    }
}

/// The total a user listing's token carries, if any (see [`encode_users_token`]).
pub(crate) fn users_token_total(t: &PageToken) -> Option<u64> {
    let mut parts = t.as_str().splitn(4, ':');
    (parts.next() == Some("users"))
        .then(|| parts.nth(2).and_then(|total| total.parse().ok()))
        .flatten()
}

fn decode_token(kind: &str, t: &PageToken) -> Result<(u32, u32)> {
    let bad = || {
        Error::invalid_input(format!(
            "page token {:?} is not an OpsRamp {kind} token",
            accesslink_core::redact::truncate(t.as_str(), 60)
        ))
    };
    let mut parts = t.as_str().split(':');
    let (Some(k), Some(no), Some(size)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(bad());
    };
    // User tokens may carry the total seen so far, nothing else may follow.
    let total = parts.next();
    if parts.next().is_some() || total.is_some_and(|t| k != "users" || t.parse::<u64>().is_err()) {
        return Err(bad());
    }
    let no: u32 = no.parse().map_err(|_| bad())?;
    let size: u32 = size.parse().map_err(|_| bad())?;
    if k != kind || no == 0 || size == 0 || size > MAX_PAGE_SIZE {
        return Err(bad());
    }
    Ok((no, size))
}

/// The account of a user: `attributes` hold the user's fields as OpsRamp sent them.
pub(crate) fn account_of(u: &User) -> Account {
    let mut a = Account::new(u.id.clone(), u.login_name.clone());
    let name = [u.first_name.as_deref(), u.last_name.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    a.display_name = (!name.is_empty()).then_some(name);
    a.email.clone_from(&u.email);
    a.enabled = u.enabled();
    if let Ok(Value::Object(m)) = serde_json::to_value(u) {
        a.attributes = m;
    }
    a
}

/// Logins go into a `loginName:` search filter (or, with `+`, are looked up in
/// `users/minimal`): 1-255 characters, no control characters, no surrounding spaces.
pub(crate) fn check_login(login: &str) -> Result<()> {
    let n = login.chars().count();
    if !(1..=255).contains(&n) || login.trim() != login || login.chars().any(char::is_control) {
        return Err(Error::invalid_input(
            "an OpsRamp login name must be 1-255 characters without control characters or surrounding spaces",
        ));
    }
    Ok(())
}

/// Splits a display name into first and last name at the last space.
fn split_name(display: &str) -> (String, String) {
    match display.trim().rsplit_once(' ') {
        Some((first, last)) => (first.trim().to_owned(), last.trim().to_owned()),
        None => (display.trim().to_owned(), display.trim().to_owned()),
    }
}

/// Typed fields an attribute map may set; everything else goes into `extra` as is.
fn take_attributes(attributes: &Map<String, Value>, body: &mut UserBody) -> Result<()> {
    for (k, v) in attributes {
        if accesslink_core::redact::is_sensitive_key(k) {
            return Err(Error::invalid_input(format!(
                "attribute {k:?} looks like a secret: set the initial password in OpsRampConfig"
            )));
        }
        let bad = |what: &str| Error::invalid_input(format!("attribute {k:?} must be {what}"));
        match k.as_str() {
            "country" => body.country = Some(v.as_str().ok_or_else(|| bad("a string"))?.into()),
            "userAccountType" => {
                body.user_account_type = Some(v.as_str().ok_or_else(|| bad("a string"))?.into());
            }
            "timeZone" => {
                body.time_zone = Some(
                    serde_json::from_value::<TimeZone>(v.clone())
                        .map_err(|_| bad("{code,name}"))?,
                );
            }
            "roles" => {
                body.roles = Some(
                    serde_json::from_value::<Vec<RoleRef>>(v.clone())
                        .map_err(|_| bad("[{name}]"))?,
                );
            }
            "userGroups" => {
                body.user_groups = Some(
                    serde_json::from_value::<Vec<GroupRef>>(v.clone())
                        .map_err(|_| bad("[{name}]"))?,
                );
            }
            "loginName" | "id" => return Err(bad("left to the connector")),
            _ => {
                body.extra.insert(k.clone(), v.clone());
            }
        }
    }
    Ok(())
}

/// The create body of a spec, checked before any request.
pub(crate) fn create_body(spec: &AccountSpec, config: &OpsRampConfig) -> Result<UserBody> {
    check_login(&spec.login)?;
    let (first, last) = match (&spec.first_name, &spec.last_name, &spec.display_name) {
        (Some(f), Some(l), _) => (f.clone(), l.clone()),
        (_, _, Some(d)) if !d.trim().is_empty() => split_name(d),
        _ => {
            return Err(Error::invalid_input(
                "OpsRamp needs a first and last name (or a display name) for a new user",
            ));
        }
    };
    let Some(email) = spec.email.clone() else {
        return Err(Error::invalid_input(
            "OpsRamp needs an email for a new user",
        ));
    };
    let mut body = UserBody {
        login_name: Some(spec.login.clone()),
        first_name: Some(first),
        last_name: Some(last),
        email: Some(email),
        // A per-account password (seed 001) overrides the configured default.
        password: spec
            .password
            .as_ref()
            .map(|p| p.secret().clone())
            .or_else(|| config.initial_password.clone()),
        time_zone: config.time_zone.clone(),
        ..UserBody::default()
    };
    take_attributes(&spec.attributes, &mut body)?;
    Ok(body)
}

/// The update body of a change.
pub(crate) fn update_body(change: &AccountChange) -> Result<UserBody> {
    let mut body = UserBody {
        first_name: change.first_name.clone(),
        last_name: change.last_name.clone(),
        email: change.email.clone(),
        ..UserBody::default()
    };
    if let (Some(d), None, None) = (&change.display_name, &body.first_name, &body.last_name) {
        let (f, l) = split_name(d);
        body.first_name = Some(f);
        body.last_name = Some(l);
    }
    take_attributes(&change.attributes, &mut body)?;
    Ok(body)
}

#[async_trait]
impl Connector for OpsRampConnector {
    fn info(&self) -> &ConnectorInfo {
        &self.info
    }

    /// Fetches a token and reads one page of one role.
    async fn test_connection(&self) -> Result<ConnectionReport> {
        let started = Instant::now();
        self.client
            .roles()
            .search_page(&SearchParams::page(1, 1))
            .await?;
        let mut report = ConnectionReport::new(started.elapsed());
        report.principal = Some(format!("tenant {}", self.client.tenant()));
        Ok(report)
    }

    fn as_provisioner(&self) -> Option<&dyn Provisioner> {
        Some(self)
    }

    fn as_ticketing(&self) -> Option<&dyn TicketingSystem> {
        Some(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_tokens_round_trip_and_refuse_strangers() {
        let t = encode_token("users", &SearchParams::page(3, 250));
        assert_eq!(t.as_str(), "users:3:250");
        assert_eq!(decode_token("users", &t).unwrap(), (3, 250));
        for bad in [
            "roles:3:250",
            "users:0:10",
            "users:1:0",
            "users:1:501",
            "users:x:1",
            "users:1:1:x",
            "users:1:1:1:1",
            "",
        ] {
            assert!(
                decode_token("users", &PageToken::new(bad)).is_err(),
                "{bad:?}"
            );
        }
        // User tokens may carry the total seen so far; no other kind may.
        let t = encode_users_token(&SearchParams::page(3, 250), Some(1_234));
        assert_eq!(t.as_str(), "users:3:250:1234");
        assert_eq!(decode_token("users", &t).unwrap(), (3, 250));
        assert_eq!(users_token_total(&t), Some(1_234));
        assert_eq!(users_token_total(&PageToken::new("users:3:250")), None);
        assert!(decode_token("roles", &PageToken::new("roles:1:1:1")).is_err());
    }

    #[test]
    fn create_bodies_are_checked_before_any_request() {
        let cfg = OpsRampConfig::new();
        let ok = AccountSpec::new("jdoe@example.com")
            .display_name("Jane Q Doe")
            .email("jdoe@example.com")
            .attribute("country", "United States");
        let b = create_body(&ok, &cfg).unwrap();
        assert_eq!(
            (b.first_name.as_deref(), b.last_name.as_deref()),
            (Some("Jane Q"), Some("Doe"))
        );
        assert_eq!(b.country.as_deref(), Some("United States"));
        let no_email = AccountSpec::new("jdoe").name("J", "D");
        assert!(create_body(&no_email, &cfg).is_err());
        let plus = AccountSpec::new("j+doe@example.com")
            .name("J", "D")
            .email("x@y");
        assert!(
            create_body(&plus, &cfg).is_ok(),
            "looked up in users/minimal"
        );
        let ctrl = AccountSpec::new("j\ndoe").name("J", "D").email("x@y");
        assert!(create_body(&ctrl, &cfg).is_err());
        let secret = AccountSpec::new("jdoe")
            .name("J", "D")
            .email("x@y")
            .attribute("password", "Abc$1234");
        let e = create_body(&secret, &cfg).unwrap_err();
        assert!(!e.to_string().contains("Abc$1234"));
    }
}
