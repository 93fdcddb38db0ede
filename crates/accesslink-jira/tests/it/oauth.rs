//! OAuth 2.0 (3LO): rotating refresh tokens through the store, a reused token refused,
//! the cloud id looked up, and the consent step.

use std::sync::{Arc, Mutex};

use accesslink_core::http::HttpClient;
use accesslink_core::{
    Connector, ErrorKind, ExposeSecret, PageRequest, Provisioner, Result, SecretString,
};
use accesslink_jira::oauth::{
    ConsentRequest, MemoryRefreshTokenStore, OAuthClient, RefreshTokenStore, exchange_code,
};
use accesslink_jira::{JiraAuth, JiraConnector};
use accesslink_testkit::Mock;
use accesslink_testkit::jira::{AuthMode, JiraMock};

use crate::settings_of;

async fn oauth_mock() -> JiraMock {
    JiraMock::builder().auth(AuthMode::OAuth).start().await
}

#[tokio::test]
async fn every_renewal_is_saved_before_the_old_token_is_forgotten() {
    let mock = oauth_mock().await;
    let dir = std::env::temp_dir().join(format!("jira-oauth-{:x}", fastrand_u64()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("refresh-token");
    let mut s = settings_of(&mock);
    if let JiraAuth::Oauth {
        refresh_token_file, ..
    } = &mut s.auth
    {
        *refresh_token_file = Some(file.clone());
    }
    let first = mock.refresh_token();
    let jira = JiraConnector::from_settings(s.clone()).unwrap();
    // The file was seeded with the configured token before anything was sent.
    assert_eq!(std::fs::read_to_string(&file).unwrap().trim(), first);
    jira.test_connection().await.unwrap();
    assert_eq!(mock.rotations(), 1);
    let second = mock.refresh_token();
    assert_ne!(first, second);
    assert_eq!(std::fs::read_to_string(&file).unwrap().trim(), second);
    // Tokens expire mid-import: the next call renews with the saved token.
    mock.expire_credentials();
    jira.list_accounts(PageRequest::first()).await.unwrap();
    assert_eq!(mock.rotations(), 2);
    assert_eq!(
        std::fs::read_to_string(&file).unwrap().trim(),
        mock.refresh_token()
    );
    // A second connector built later from the same file continues the chain.
    let again = JiraConnector::from_settings(s).unwrap();
    again.test_connection().await.unwrap();
    assert_eq!(mock.rotations(), 3);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn a_reused_refresh_token_is_refused() {
    let mock = oauth_mock().await;
    let s = settings_of(&mock);
    JiraConnector::from_settings(s.clone())
        .unwrap()
        .test_connection()
        .await
        .unwrap();
    // `s` still holds the first token, which the renewal above used up.
    let stale = JiraConnector::from_settings(s).unwrap();
    let e = stale.test_connection().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unauthenticated, "{e}");
    assert!(e.to_string().contains("invalid_grant"), "{e}");
    let token_calls = mock.count("POST", "/oauth/token");
    assert_eq!(token_calls, 2, "one refusal, not a retry loop");
}

#[tokio::test]
async fn the_cloud_id_is_looked_up_once_and_used_for_every_call() {
    let mock = oauth_mock().await;
    let jira = JiraConnector::from_settings(settings_of(&mock)).unwrap();
    jira.test_connection().await.unwrap();
    jira.list_accounts(PageRequest::first()).await.unwrap();
    assert_eq!(mock.count("GET", "/oauth/token/accessible-resources"), 1);
    let prefix = format!("/ex/jira/{}/rest/api/3/", mock.cloud_id());
    let api: Vec<_> = mock
        .received()
        .await
        .into_iter()
        .filter(|r| !r.url.path().starts_with("/oauth/"))
        .collect();
    assert!(api.len() >= 2);
    assert!(
        api.iter().all(|r| r.url.path().starts_with(&prefix)),
        "{api:?}"
    );
    // A site the token does not reach is a configuration error naming the sites it does.
    let mut s = settings_of(&mock);
    s.base_url = "https://elsewhere.atlassian.net".parse().unwrap();
    let e = JiraConnector::from_settings(s)
        .unwrap()
        .test_connection()
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Config, "{e}");
    assert!(e.to_string().contains("other-site.atlassian.net"), "{e}");
}

#[derive(Debug, Default)]
struct FailingStore {
    token: Mutex<Option<SecretString>>,
    down: std::sync::atomic::AtomicBool,
}

impl RefreshTokenStore for FailingStore {
    fn load(&self) -> Result<Option<SecretString>> {
        Ok(self.token.lock().unwrap().clone())
    }
    fn save(&self, t: &SecretString) -> Result<()> {
        if self.down.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(accesslink_core::Error::other("the vault is read-only"));
        }
        *self.token.lock().unwrap() = Some(t.clone());
        Ok(())
    }
}

#[tokio::test]
async fn a_store_that_cannot_save_stops_the_call() {
    let mock = oauth_mock().await;
    let store = Arc::new(FailingStore {
        token: Mutex::new(Some(SecretString::from(mock.refresh_token()))),
        down: std::sync::atomic::AtomicBool::new(true),
    });
    let jira = JiraConnector::from_settings_with_store(settings_of(&mock), store.clone()).unwrap();
    let e = jira.test_connection().await.unwrap_err();
    assert!(e.to_string().contains("read-only"), "{e}");
    // Nothing but the token call went out: no API call ran on an unsaved rotation.
    assert_eq!(mock.count("GET", "/oauth/token/accessible-resources"), 0);
    assert_eq!(mock.count("POST", "/oauth/token"), 1);
    // While the store is down, nothing is renewed again (the kept token is saved first).
    assert!(jira.test_connection().await.is_err());
    assert_eq!(mock.count("POST", "/oauth/token"), 1);
    // The store is back: the kept token is saved, then used; no consent step needed.
    store.down.store(false, std::sync::atomic::Ordering::SeqCst);
    jira.test_connection().await.unwrap();
    assert_eq!(mock.rotations(), 2);
    let saved = store.token.lock().unwrap().clone().unwrap();
    assert_eq!(saved.expose_secret(), mock.refresh_token());
}

#[tokio::test]
async fn the_consent_step_stores_the_first_refresh_token() {
    let mock = oauth_mock().await;
    let client = OAuthClient {
        client_id: mock.client_id(),
        client_secret: SecretString::from(mock.client_secret()),
        auth_url: format!("{}/", mock.url()).parse().unwrap(),
    };
    let consent = ConsentRequest::new("https://iam.example/callback".parse().unwrap());
    let url = consent.authorization_url(&client).unwrap();
    // The browser's part: follow the authorization URL, read the redirect.
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let answer = browser.get(url.as_str()).send().await.unwrap();
    assert_eq!(answer.status(), 302);
    let back: url::Url = answer.headers()["location"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let q: std::collections::HashMap<_, _> = back.query_pairs().into_owned().collect();
    let store = MemoryRefreshTokenStore::default();
    let http = HttpClient::builder("jira", mock.url()).build().unwrap();
    // A forged state is refused before the code is spent.
    let e = exchange_code(&client, &http, &consent, &q["code"], "forged", &store)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unauthenticated);
    exchange_code(&client, &http, &consent, &q["code"], &q["state"], &store)
        .await
        .unwrap();
    assert_eq!(
        store.load().unwrap().unwrap().expose_secret(),
        mock.refresh_token()
    );
    // The token endpoint got JSON, as Atlassian requires.
    let token_call = mock
        .received()
        .await
        .into_iter()
        .find(|r| r.url.path() == "/oauth/token")
        .unwrap();
    assert!(
        token_call.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let body: serde_json::Value = token_call.body_json().unwrap();
    assert_eq!(body["grant_type"], "authorization_code");
    assert_eq!(body["redirect_uri"], "https://iam.example/callback");
}

fn fastrand_u64() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(7, |d| d.as_nanos() as u64)
}
