//! Zoho OAuth on the Cloud mock: consent, refresh grant at the accounts server, HTTP-200
//! token errors, expiry renewed once.

use std::sync::Arc;

use accesslink_core::http::HttpSettings;
use accesslink_core::{ErrorKind, ExposeSecret, SecretString, TicketingSystem};
use accesslink_sdp::SdpConnector;
use accesslink_sdp::oauth::{
    ConsentRequest, MemoryRefreshTokenStore, RefreshTokenStore, ZohoClient, exchange_code,
    token_http,
};
use accesslink_testkit::sdp::SdpMock;

use crate::{on, settings_of};

fn client(mock: &SdpMock, secret: &str) -> ZohoClient {
    ZohoClient {
        client_id: mock.client_id(),
        client_secret: SecretString::from(secret.to_owned()),
        accounts_url: mock.url().parse().unwrap(),
    }
}

#[tokio::test]
async fn consent_code_exchange_stores_the_refresh_token() {
    let mock = SdpMock::start_cloud().await;
    let zoho = client(&mock, &mock.client_secret());
    let consent = ConsentRequest::new("https://iam.example/cb".parse().unwrap());
    let url = consent.authorization_url(&zoho).unwrap();
    assert!(
        url.as_str()
            .starts_with(&format!("{}/oauth/v2/auth?", mock.url()))
    );
    let http = token_http(&zoho.accounts_url, &HttpSettings::default()).unwrap();
    let store = MemoryRefreshTokenStore::default();
    // A wrong state is refused before anything is sent.
    let code = mock.consent_code();
    assert!(
        exchange_code(&zoho, &http, &consent, &code, "forged", &store)
            .await
            .is_err()
    );
    assert_eq!(mock.token_calls(), 0);
    exchange_code(&zoho, &http, &consent, &code, &consent.state, &store)
        .await
        .unwrap();
    assert_eq!(
        store.load().unwrap().unwrap().expose_secret(),
        mock.refresh_token()
    );
    // The code is single use; Zoho answers HTTP 200 with an error, which is an error.
    let again = exchange_code(&zoho, &http, &consent, &code, &consent.state, &store)
        .await
        .unwrap_err();
    assert_eq!(again.kind(), ErrorKind::Unauthenticated, "{again}");
    assert_eq!(again.vendor_code(), Some("invalid_code"));
    let received = mock.received().await;
    let token = received
        .iter()
        .find(|r| r.url.path() == "/oauth/v2/token")
        .unwrap();
    let form: Vec<(String, String)> = url::form_urlencoded::parse(&token.body)
        .into_owned()
        .collect();
    assert!(form.contains(&("grant_type".into(), "authorization_code".into())));
    assert!(form.contains(&("redirect_uri".into(), "https://iam.example/cb".into())));
}

#[tokio::test]
async fn the_connector_renews_once_after_expiry() {
    let mock = SdpMock::start_cloud().await;
    let n = mock.add_request("VPN", None);
    let store = Arc::new(MemoryRefreshTokenStore::new(SecretString::from(
        mock.refresh_token(),
    )));
    let sdp = SdpConnector::from_settings_with_store(settings_of(&mock), store).unwrap();
    let r = sdp.parse_ticket_ref(&n).unwrap();
    assert!(sdp.get_ticket(&r).await.unwrap().is_some());
    assert_eq!(mock.token_calls(), 1);
    assert!(sdp.get_ticket(&r).await.unwrap().is_some());
    assert_eq!(mock.token_calls(), 1, "the access token is cached");
    accesslink_testkit::Mock::expire_credentials(&mock);
    assert!(sdp.get_ticket(&r).await.unwrap().is_some());
    assert_eq!(mock.token_calls(), 2, "renewed once on the 401/4022");
    let received = mock.received().await;
    let token = received
        .iter()
        .find(|r| r.url.path() == "/oauth/v2/token")
        .unwrap();
    let form: Vec<(String, String)> = url::form_urlencoded::parse(&token.body)
        .into_owned()
        .collect();
    assert!(form.contains(&("grant_type".into(), "refresh_token".into())));
    assert!(form.contains(&("refresh_token".into(), mock.refresh_token())));
}

#[tokio::test]
async fn a_wrong_client_secret_fails_before_any_api_call() {
    let mock = SdpMock::start_cloud().await;
    let mut s = settings_of(&mock);
    s.auth = serde_json::from_value(serde_json::json!({
        "method": "zoho_oauth", "client_id": mock.client_id(), "client_secret": "nope",
        "refresh_token": mock.refresh_token()
    }))
    .unwrap();
    let sdp = SdpConnector::from_settings(s).unwrap();
    let e = sdp
        .get_ticket(&sdp.parse_ticket_ref("101").unwrap())
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unauthenticated, "{e}");
    assert!(
        !mock
            .received()
            .await
            .iter()
            .any(|r| r.url.path().contains("/api/v3/"))
    );
    let _ = on(&mock);
}

#[tokio::test]
async fn token_endpoint_outages_are_retried_and_throttling_says_so() {
    use accesslink_testkit::fault::{Fault, FaultMatcher};
    let mock = SdpMock::start_cloud().await;
    let n = mock.add_request("VPN", None);
    let token = || FaultMatcher::method("POST").and_path_suffix("/oauth/v2/token");
    // A 503 with a JSON body is an outage, not a refused credential: retried.
    mock.faults().push_for(
        token(),
        Fault::Status {
            status: 503,
            body: Some(r#"{"message":"maintenance"}"#.into()),
        },
        1,
    );
    let sdp = on(&mock);
    let r = sdp.parse_ticket_ref(&n).unwrap();
    assert!(sdp.get_ticket(&r).await.unwrap().is_some());
    assert_eq!(mock.faults().applied(), 1);
    // Zoho's renewal throttling arrives with HTTP 200.
    let sdp = on(&mock);
    mock.faults().push_for(
        token(),
        Fault::Status {
            status: 200,
            body: Some(r#"{"error":"Access Denied","error_description":"You have made too many requests continuously. Please try again after some time."}"#.into()),
        },
        1,
    );
    let e = sdp.get_ticket(&r).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::RateLimited, "{e}");
}

/// A store that refuses its first save (a vault that was briefly down).
#[derive(Debug)]
struct RefusesOnce {
    token: std::sync::Mutex<Option<SecretString>>,
    refusals_left: std::sync::atomic::AtomicUsize,
    saved: std::sync::Mutex<Vec<String>>,
}

impl RefreshTokenStore for RefusesOnce {
    fn load(&self) -> accesslink_core::Result<Option<SecretString>> {
        Ok(self.token.lock().unwrap().clone())
    }
    fn save(&self, t: &SecretString) -> accesslink_core::Result<()> {
        use std::sync::atomic::Ordering;
        if self
            .refusals_left
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
        {
            return Err(accesslink_core::Error::other("the vault is read-only"));
        }
        self.saved
            .lock()
            .unwrap()
            .push(t.expose_secret().to_owned());
        *self.token.lock().unwrap() = Some(t.clone());
        Ok(())
    }
}

#[tokio::test]
async fn a_new_refresh_token_the_store_refused_is_saved_on_the_next_renewal() {
    use accesslink_testkit::fault::{Fault, FaultMatcher};
    let mock = SdpMock::start_cloud().await;
    let n = mock.add_request("VPN", None);
    // The store holds a token the mock no longer accepts; Zoho's (faulted) answer to it
    // issues the mock's live refresh token, which the store refuses to save once.
    let store = Arc::new(RefusesOnce {
        token: std::sync::Mutex::new(Some(SecretString::from("1000.refresh.retired".to_owned()))),
        refusals_left: 1.into(),
        saved: std::sync::Mutex::new(Vec::new()),
    });
    let answer = serde_json::json!({
        "access_token": "1000.access.unused", "refresh_token": mock.refresh_token(),
        "expires_in": 3600, "token_type": "Bearer"
    });
    mock.faults().push_for(
        FaultMatcher::method("POST").and_path_suffix("/oauth/v2/token"),
        Fault::Status {
            status: 200,
            body: Some(answer.to_string()),
        },
        1,
    );
    let sdp = SdpConnector::from_settings_with_store(settings_of(&mock), store.clone()).unwrap();
    let r = sdp.parse_ticket_ref(&n).unwrap();
    let e = sdp.get_ticket(&r).await.unwrap_err();
    assert!(e.to_string().contains("read-only"), "{e}");
    assert!(store.saved.lock().unwrap().is_empty());
    // The store works again: the kept token is saved first and renews; without it the
    // retired token would be sent and refused.
    assert!(sdp.get_ticket(&r).await.unwrap().is_some());
    assert_eq!(*store.saved.lock().unwrap(), [mock.refresh_token()]);
    let received = mock.received().await;
    let sent: Vec<String> = received
        .iter()
        .filter(|r| r.url.path() == "/oauth/v2/token")
        .map(|r| {
            url::form_urlencoded::parse(&r.body)
                .find(|(k, _)| k == "refresh_token")
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default()
        })
        .collect();
    assert_eq!(
        sent,
        ["1000.refresh.retired".to_owned(), mock.refresh_token()]
    );
}
