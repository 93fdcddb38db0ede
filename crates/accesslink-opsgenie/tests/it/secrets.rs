//! The GenieKey never shows in Debug output or errors, and does go on the wire.

use accesslink_core::{Connector, ErrorKind, PageRequest, Provisioner};
use accesslink_opsgenie::{OpsGenieClient, OpsGenieConfig, OpsGenieConnector};
use accesslink_testkit::conformance::secrets_never_printed;
use accesslink_testkit::opsgenie::{KeyAccess, OpsGenieMock};
use secrecy::SecretString;

const KEY: &str = "c0ffee00-5ec7-4e7a-9b1d-genie-canary";

#[tokio::test]
async fn the_key_is_sent_as_genie_key_and_never_printed() {
    let mock = OpsGenieMock::builder()
        .api_key(KEY)
        .generated_users(3)
        .start()
        .await;
    let builder = OpsGenieClient::builder()
        .base_url(mock.url())
        .api_key(SecretString::from(KEY));
    let builder_debug = format!("{builder:?}");
    let og = OpsGenieConnector::new(builder.build().unwrap(), OpsGenieConfig::new());
    let page = og.list_accounts(PageRequest::first()).await.unwrap();
    assert_eq!(page.items.len(), 3);
    let sent = mock.received().await;
    assert_eq!(
        sent[0].headers["authorization"],
        format!("GenieKey {KEY}").as_str()
    );
    assert!(
        sent[0].url.query().is_none_or(|q| !q.contains(KEY)),
        "no apiKey query parameter"
    );
    let output = format!("{builder_debug}\n{og:?}\n{og:#?}\n{:?}", og.client());
    secrets_never_printed(&output, &[KEY]).unwrap();
}

#[tokio::test]
async fn a_refused_key_is_an_auth_error_that_does_not_echo_it() {
    let mock = OpsGenieMock::builder()
        .api_key("the-right-key")
        .start()
        .await;
    let client = OpsGenieClient::builder()
        .base_url(mock.url())
        .api_key(SecretString::from(KEY))
        .build()
        .unwrap();
    let og = OpsGenieConnector::new(client, OpsGenieConfig::new());
    let e = og.test_connection().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unauthenticated);
    let shown = format!("{e} {e:?} {:?}", std::error::Error::source(&e));
    assert!(shown.contains("401"), "{shown}");
    secrets_never_printed(&shown, &[KEY]).unwrap();
    // A static key cannot be renewed: one request, no retry.
    assert_eq!(mock.requests(), 1);
}

#[tokio::test]
async fn a_read_only_key_reads_but_writes_are_permission_denied() {
    let mock = OpsGenieMock::builder()
        .generated_users(2)
        .key_access(KeyAccess::ReadOnly)
        .start()
        .await;
    let og = crate::on_mock(&mock);
    assert_eq!(
        og.list_accounts(PageRequest::first())
            .await
            .unwrap()
            .items
            .len(),
        2
    );
    let id = accesslink_core::AccountId::new(mock.generated_user_id(0).unwrap());
    let e = og.delete_account(&id).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::PermissionDenied);
    assert!(e.to_string().contains("read-only"), "{e}");
    assert_eq!(mock.user_count(), 2);
    assert_eq!(
        og.test_connection().await.unwrap().principal.as_deref(),
        Some("accesslink-mock")
    );
}
