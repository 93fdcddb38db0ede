//! The key's secret, the access token and the initial password never show in Debug
//! output or errors.

use accesslink_core::{AccountSpec, ErrorKind, PageRequest, Provisioner};
use accesslink_opsramp::{OpsRampClient, OpsRampConfig, OpsRampConnector};
use accesslink_testkit::conformance::secrets_never_printed;
use accesslink_testkit::fault::{Fault, FaultMatcher};
use secrecy::SecretString;

use crate::{PASSWORD, client, connector, mock};

/// The access token the mock issued, read from what the client sent.
async fn sent_token(mock: &accesslink_testkit::opsramp::OpsRampMock) -> String {
    let r = mock.received().await;
    let auth = r
        .iter()
        .find_map(|r| r.headers.get("authorization"))
        .expect("an authenticated request");
    auth.to_str()
        .unwrap()
        .trim_start_matches("Bearer ")
        .to_owned()
}

#[tokio::test]
async fn debug_output_and_errors_hold_no_secret() {
    let mock = mock(5).await;
    let builder = client(&mock);
    let opsramp = connector(&mock);
    opsramp.list_accounts(PageRequest::first()).await.unwrap();
    let token = sent_token(&mock).await;
    assert!(token.len() >= 20);
    // An error body that echoes the token and the password, as a careless proxy would.
    let echo = format!(r#"{{"code":"0500","message":"token {token} password {PASSWORD}"}}"#);
    mock.faults().push_for(
        FaultMatcher::route("POST", "/users"),
        Fault::Status {
            status: 500,
            body: Some(echo),
        },
        5,
    );
    let spec = AccountSpec::new("x.y").name("X", "Y").email("x@y.z");
    let e = opsramp.create_account(&spec).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unavailable, "{e}");
    let cfg = OpsRampConfig::new().initial_password(SecretString::from(PASSWORD));
    let output = format!(
        "{builder:?}\n{opsramp:?}\n{opsramp:#?}\n{cfg:?}\n{e}\n{e:?}\n{:?}\n{spec:?}",
        e.as_api().map(|a| &a.body),
    );
    let secret = mock.client_secret();
    secrets_never_printed(&output, &[&secret, &token]).unwrap();
    assert!(
        !output.contains(PASSWORD),
        "the initial password is redacted: {output}"
    );
    assert!(output.contains("[redacted]"));
}

#[tokio::test]
async fn refused_credentials_are_a_clear_error_without_the_secret() {
    let mock = mock(5).await;
    let wrong = "not-the-secret-but-still-secret";
    let opsramp = OpsRampConnector::new(
        OpsRampClient::builder(mock.url())
            .tenant(mock.tenant())
            .client_credentials(mock.client_id(), SecretString::from(wrong))
            .rate_limit(None)
            .build()
            .unwrap(),
        OpsRampConfig::new(),
    );
    let e = opsramp
        .list_accounts(PageRequest::first())
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unauthenticated, "{e}");
    assert!(e.to_string().contains("Bad API credentials"), "{e}");
    secrets_never_printed(&format!("{e}\n{e:?}"), &[wrong]).unwrap();
    assert_eq!(mock.count("users/search"), 0, "no API call without a token");
}

#[tokio::test]
async fn builds_without_tenant_or_credentials_fail_with_config_errors() {
    let e = OpsRampClient::builder("https://api.opsramp.com")
        .client_credentials("k", SecretString::from("s3cret-s3cret"))
        .build()
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Config);
    let e = OpsRampClient::builder("https://api.opsramp.com")
        .tenant("client_7/../msp_1")
        .client_credentials("k", SecretString::from("s3cret-s3cret"))
        .build()
        .unwrap_err();
    assert!(e.to_string().contains("tenant"), "{e}");
    let e = OpsRampClient::builder("https://api.opsramp.com")
        .tenant("client_7")
        .build()
        .unwrap_err();
    assert!(e.to_string().contains("key and secret"), "{e}");
}
