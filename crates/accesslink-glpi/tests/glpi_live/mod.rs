//! Settings, an administrator's client, fixtures and conformance backends for the live
//! tests; the account tests are in `accounts`. The administrator's client talks to the server directly, never through the
//! proxy, so the proxy counts only what the connector under test sent.

mod accounts;

use std::collections::HashSet;
use std::time::Duration;

use accesslink_core::http::{HttpSettings, RetryConfig};
use accesslink_core::{
    AccountId, Comment, CorrelationId, EntitlementRef, NewTicket, Result, TicketKind, TicketRef,
    TicketState, async_trait,
};
use accesslink_glpi::api::{Criterion, SearchQuery, SearchType, row_u64};
use accesslink_glpi::models::{Followup, GroupUser, ItilObject, ProfileUser};
use accesslink_glpi::{GlpiClient, GlpiConfig, GlpiConnector, GlpiSettings};
use accesslink_testkit::conformance::{AccountBackend, TicketBackend};
use accesslink_testkit::proxy::FaultProxy;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};

/// Login prefix of the import fixture.
pub(crate) const IMPORT_PREFIX: &str = "al-import-";
/// How many import users the fixture holds.
pub(crate) const IMPORT_USERS: usize = 2000;

pub(crate) struct Live {
    pub(crate) base: String,
    pub(crate) app_token: String,
    pub(crate) user_token: String,
    pub(crate) login: String,
    pub(crate) password: String,
}

pub(crate) fn live() -> Option<Live> {
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let Some(base) = var("GLPI_BASE_URL") else {
        if var("ACCESSLINK_REQUIRE_LIVE").as_deref() == Some("1") {
            panic!("ACCESSLINK_REQUIRE_LIVE=1 but GLPI_BASE_URL is not set");
        }
        eprintln!("skipped: GLPI_BASE_URL is not set (see shared/glpi/README.md)");
        return None;
    };
    let need = |k: &str| var(k).unwrap_or_else(|| panic!("GLPI_BASE_URL is set but {k} is not"));
    Some(Live {
        app_token: need("GLPI_APP_TOKEN"),
        user_token: need("GLPI_USER_TOKEN"),
        login: var("GLPI_LOGIN").unwrap_or_else(|| "glpi".into()),
        password: var("GLPI_PASSWORD").unwrap_or_else(|| "glpi".into()),
        base,
    })
}

/// A request ticket with a correlation id.
pub(crate) fn request(id: &str) -> NewTicket {
    NewTicket::new(
        TicketKind::Request,
        "Grant finance-approver to alice",
        "Requested by bob: a < b & c, äöü €",
        CorrelationId::new(id),
    )
}

/// Serialises the tests that create or count users: the drain check compares the
/// connector's count with the server's.
pub(crate) async fn users_lock() -> tokio::sync::MutexGuard<'static, ()> {
    static LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    LOCK.lock().await
}

fn quick_retries() -> RetryConfig {
    RetryConfig::default().initial_backoff(Duration::from_millis(20))
}

impl Live {
    pub(crate) fn client_at(&self, base: &str) -> GlpiClient {
        GlpiClient::builder(base)
            .app_token(SecretString::from(self.app_token.clone()))
            .user_token(SecretString::from(self.user_token.clone()))
            .http(HttpSettings::new().retry(quick_retries()))
            .build()
            .unwrap()
    }

    /// A client straight to the server.
    pub(crate) fn client(&self) -> GlpiClient {
        self.client_at(&self.base)
    }

    /// Built the way a configuration file builds it: settings JSON through
    /// `from_settings`, the tokens from the environment (`live()` checked they are set).
    pub(crate) fn connector(&self) -> GlpiConnector {
        let settings: GlpiSettings = serde_json::from_value(json!({
            "name": "glpi-live",
            "base_url": self.base,
            "auth": {
                "method": "user_token",
                "user_token": { "env": "GLPI_USER_TOKEN" },
                "app_token": { "env": "GLPI_APP_TOKEN" },
            },
            "http": { "retry": { "initial_backoff": "20ms" } },
        }))
        .unwrap();
        GlpiConnector::from_settings(settings).unwrap()
    }

    /// The server behind a loopback fault proxy, and a connector through it.
    pub(crate) async fn through_proxy(&self, config: GlpiConfig) -> (FaultProxy, GlpiConnector) {
        let url = url::Url::parse(&self.base).unwrap();
        let upstream = format!(
            "{}:{}",
            url.host_str().unwrap(),
            url.port_or_known_default().unwrap()
        )
        .parse()
        .unwrap();
        let proxy = FaultProxy::start(upstream).await.unwrap();
        let base = format!("{}{}", proxy.url(), url.path());
        (proxy, GlpiConnector::new(self.client_at(&base), config))
    }

    pub(crate) async fn purge(&self, itemtype: &'static str, id: u64) {
        if let Err(e) = self
            .client()
            .items::<Value>(itemtype)
            .delete(id, true)
            .await
        {
            eprintln!("could not purge {itemtype} {id}: {e}");
        }
    }

    /// Live items of `itemtype` whose title carries the tag, each read to confirm.
    pub(crate) async fn count_tagged(&self, itemtype: &'static str, id: &str) -> usize {
        let client = self.client();
        let items = client.items::<ItilObject>(itemtype);
        let q = SearchQuery::new(100)
            .criterion(Criterion::new(
                1,
                SearchType::Contains,
                format!("[corr:{id}]$"),
            ))
            .display([2]);
        let page = items.search(&q).await.unwrap();
        let mut n = 0;
        for row in &page.rows {
            let Some(t) = items.get_opt(row_u64(row, 2).unwrap()).await.unwrap() else {
                continue;
            };
            if !t.in_trash() && t.name.ends_with(&format!("[corr:{id}]")) {
                n += 1;
            }
        }
        n
    }

    pub(crate) async fn my_user_id(&self) -> u64 {
        let client = self.client();
        let req = client.http().get("getFullSession").unwrap();
        let v: Value = client.http().send_json(req).await.unwrap();
        v["session"]["glpiID"].as_u64().unwrap()
    }

    pub(crate) async fn group(&self, name: &str) -> u64 {
        self.client()
            .groups()
            .create(&json!({ "name": name, "is_recursive": 1 }))
            .await
            .unwrap()
    }

    pub(crate) async fn user(&self, login: &str) -> u64 {
        self.client()
            .users()
            .create(&json!({ "name": login, "is_active": 1 }))
            .await
            .unwrap()
    }

    /// Kills a session as an administrator or an expiry would, straight at the server.
    pub(crate) async fn kill(&self, token: &SecretString) {
        let r = reqwest::Client::new()
            .get(format!("{}/killSession", self.base.trim_end_matches('/')))
            .header("App-Token", &self.app_token)
            .header("Session-Token", token.expose_secret())
            .send()
            .await
            .unwrap();
        assert!(
            r.status().is_success(),
            "killSession answered {}",
            r.status()
        );
    }
}

/// Makes sure the 2,000 import users exist: finds them by their prefix and creates the
/// missing ones, 100 per request.
pub(crate) async fn ensure_import_users(l: &Live) {
    let client = l.client();
    let mut existing = HashSet::new();
    let mut start = 0;
    loop {
        let mut q = SearchQuery::new(1000)
            .criterion(Criterion::new(
                1,
                SearchType::Contains,
                format!("^{IMPORT_PREFIX}"),
            ))
            .display([1]);
        q.start = start;
        let page = client.users().search(&q).await.unwrap();
        let n = page.rows.len();
        existing.extend(
            page.rows
                .iter()
                .filter_map(|r| r["1"].as_str().map(str::to_owned)),
        );
        start += n as u64;
        if n == 0 || start >= page.total {
            break;
        }
    }
    let missing: Vec<String> = (0..IMPORT_USERS)
        .map(|i| format!("{IMPORT_PREFIX}{i:04}"))
        .filter(|n| !existing.contains(n))
        .collect();
    if missing.is_empty() {
        return;
    }
    eprintln!("creating {} import users (once)", missing.len());
    for chunk in missing.chunks(100) {
        let input: Vec<Value> = chunk
            .iter()
            .map(|n| json!({ "name": n, "is_active": 1, "_useremails": [format!("{n}@example.test")], "_default_email": 0 }))
            .collect();
        let req = client
            .http()
            .post("User")
            .unwrap()
            .json(&json!({ "input": input }))
            .unwrap();
        let created: Vec<Value> = client.http().send_json(req).await.unwrap();
        assert!(
            created.iter().all(|c| c["id"].as_u64().is_some()),
            "{created:?}"
        );
    }
}

fn id_and_type(r: &TicketRef) -> (&'static str, u64) {
    let itemtype = match r.scope() {
        Some("Change") => "Change",
        _ => "Ticket",
    };
    (
        itemtype,
        r.id()
            .and_then(|i| i.parse().ok())
            .expect("a reference with an id"),
    )
}

/// Drives and inspects tickets on the real server for the conformance suite.
pub(crate) struct LiveTickets<'a> {
    pub(crate) live: &'a Live,
    pub(crate) proxy: &'a FaultProxy,
}

#[async_trait]
impl TicketBackend for LiveTickets<'_> {
    async fn set_ticket_state(&self, r: &TicketRef, state: TicketState) -> Result<()> {
        let (itemtype, id) = id_and_type(r);
        let status = match (itemtype, state) {
            (_, TicketState::New) => 1,
            (_, TicketState::OnHold) => 4,
            (_, TicketState::Resolved) => 5,
            (_, TicketState::Closed) => 6,
            ("Change", TicketState::Cancelled) => 14,
            (_, TicketState::Cancelled) => 6,
            _ => 2,
        };
        self.live
            .client()
            .items::<Value>(itemtype)
            .update(id, &json!({ "status": status }))
            .await
    }

    async fn count_with_correlation(&self, id: &CorrelationId) -> Result<usize> {
        Ok(self.live.count_tagged("Ticket", id.as_str()).await
            + self.live.count_tagged("Change", id.as_str()).await)
    }

    async fn comments(&self, r: &TicketRef) -> Result<Vec<Comment>> {
        let (itemtype, id) = id_and_type(r);
        let followups: Vec<Followup> = self
            .live
            .client()
            .items::<Value>(itemtype)
            .sub_items(id, "ITILFollowup")
            .await?;
        Ok(followups
            .into_iter()
            .map(|f| {
                if f.is_private == Some(1) {
                    Comment::internal(f.content)
                } else {
                    Comment::public(f.content)
                }
            })
            .collect())
    }

    /// Columns the real server's `listSearchOptions` shows (observed on GLPI 10.0.11).
    fn ticket_fields(&self, kind: &TicketKind) -> Option<Vec<String>> {
        let mut names = vec![
            "id", "name", "content", "status", "urgency", "priority", "date", "date_mod",
        ];
        if *kind != TicketKind::Change {
            names.extend(["type", "impact", "itilcategories_id"]);
        }
        Some(names.into_iter().map(str::to_owned).collect())
    }

    fn requests_seen(&self) -> usize {
        self.proxy.requests()
    }
}

/// Inspects users and their links on the real server for the conformance suite.
pub(crate) struct LiveAccounts<'a> {
    pub(crate) live: &'a Live,
    pub(crate) proxy: &'a FaultProxy,
}

#[async_trait]
impl AccountBackend for LiveAccounts<'_> {
    async fn account_count(&self) -> Result<usize> {
        let q = SearchQuery::new(1).criterion(Criterion::new(2, SearchType::Contains, ">0"));
        Ok(self.live.client().users().search(&q).await?.total as usize)
    }

    async fn holds(&self, account: &AccountId, e: &EntitlementRef) -> Result<bool> {
        let uid: u64 = account.as_str().parse().expect("numeric id");
        let users = self.live.client();
        if e.ty.as_str() == "group" {
            let links: Vec<GroupUser> = users.users().sub_items(uid, "Group_User").await?;
            Ok(links
                .iter()
                .any(|l| l.groups_id.to_string() == e.id.as_str()))
        } else {
            let rows: Vec<ProfileUser> = users.users().sub_items(uid, "Profile_User").await?;
            Ok(rows
                .iter()
                .any(|r| format!("{}@{}", r.profiles_id, r.entities_id) == e.id.as_str()))
        }
    }

    /// Columns the real server's `listSearchOptions/User` shows (observed on 10.0.11).
    fn account_fields(&self) -> Option<Vec<String>> {
        let names = [
            "id",
            "name",
            "realname",
            "firstname",
            "is_active",
            "phone",
            "mobile",
            "comment",
            "date_mod",
        ];
        Some(names.iter().map(|s| (*s).to_owned()).collect())
    }

    /// Logs in as the user (`initSession` with Basic auth): the password works or not.
    async fn password_is(&self, account: &AccountId, password: &str) -> Result<Option<bool>> {
        let uid: u64 = account.as_str().parse().map_err(|_| {
            accesslink_core::Error::invalid_input(format!("not a GLPI user id: {account}"))
        })?;
        let user: Value = self.live.client().items::<Value>("User").get(uid).await?;
        let login = user["name"].as_str().unwrap_or_default().to_owned();
        let answer = reqwest::Client::new()
            .get(format!(
                "{}/initSession",
                self.live.base.trim_end_matches('/')
            ))
            .header("App-Token", &self.live.app_token)
            .basic_auth(login, Some(password))
            .send()
            .await
            .map_err(|e| accesslink_core::Error::invalid_input(e.to_string()))?;
        Ok(Some(answer.status().is_success()))
    }

    fn requests_seen(&self) -> usize {
        self.proxy.requests()
    }
}

/// The group the provisioning conformance grants: found by name, created once.
pub(crate) async fn conformance_group(l: &Live) -> u64 {
    let name = "al-conformance-group";
    let client = l.client();
    let params = accesslink_glpi::api::ListParams::by_id().exact("name", name);
    let found = client.groups().list(0, 10, &params).await.unwrap();
    match found.items.first() {
        Some(g) => g.id,
        None => l.group(name).await,
    }
}
