//! Jira Cloud OAuth 2.0 (3LO) from the consent step to a running connector, against the
//! in-process mock's authorization server: build the authorization URL (scopes with
//! `offline_access`, a random `state`), let the "browser" follow it, trade the returned code
//! for the first refresh token (saved in a file store), then run a connector that renews
//! with rotating refresh tokens — each new one saved before the old one is forgotten.
//!
//! ```sh
//! cargo run --example jira_oauth_consent
//! ```

use std::sync::Arc;

use accesslink::http::HttpClient;
use accesslink::{Connector, ExposeSecret, SecretString};
use accesslink_jira::oauth::{
    ConsentRequest, FileRefreshTokenStore, OAuthClient, RefreshTokenStore, exchange_code,
};
use accesslink_jira::{JiraConnector, JiraSettings};
use accesslink_testkit::Mock;
use accesslink_testkit::jira::{AuthMode, JiraMock};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mock = JiraMock::builder().auth(AuthMode::OAuth).start().await;
    let client = OAuthClient {
        client_id: mock.client_id(),
        client_secret: SecretString::from(mock.client_secret()),
        auth_url: format!("{}/", mock.url()).parse()?,
    };

    // 1. Send the user's browser to the authorization URL.
    let consent = ConsentRequest::new("https://iam.example/jira/callback".parse()?);
    let url = consent.authorization_url(&client)?;
    println!("authorize at: {}", url.path());

    // 2. The browser comes back to the callback with `code` and `state` (here: followed by hand).
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let answer = browser.get(url.as_str()).send().await?;
    let back: url::Url = answer.headers()["location"].to_str()?.parse()?;
    let param = |k: &str| {
        back.query_pairs()
            .find(|(name, _)| name == k)
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };

    // 3. Trade the code for the first tokens; the refresh token goes to the store.
    let dir = std::env::temp_dir().join(format!("jira-consent-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let store = Arc::new(FileRefreshTokenStore::new(dir.join("refresh-token")));
    let http = HttpClient::builder("jira", mock.url()).build()?;
    exchange_code(
        &client,
        &http,
        &consent,
        &param("code"),
        &param("state"),
        store.as_ref(),
    )
    .await?;
    println!("first refresh token stored in {}", store.path().display());

    // 4. A connector on the store: the cloud id is found in accessible-resources, and
    //    every renewal rotates the refresh token in the file.
    let mut settings = mock.settings();
    settings
        .as_object_mut()
        .expect("an object")
        .remove("target");
    let settings: JiraSettings = serde_json::from_value(settings)?;
    let jira = JiraConnector::from_settings_with_store(settings, store.clone())?;
    let report = jira.test_connection().await?;
    println!(
        "connected as {:?} in {:.1?}; refresh token rotated: {} (renewals: {})",
        report.principal,
        report.latency,
        store.load()?.map(|t| t.expose_secret().to_owned()) == Some(mock.refresh_token()),
        mock.rotations()
    );
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
