//! The password and the token never show in Debug output or errors, even when the server
//! echoes the request.

use accesslink_core::{Connector, TicketingSystem};
use accesslink_helix::HelixConnector;
use accesslink_testkit::conformance::secrets_never_printed;
use accesslink_testkit::fault::Fault;
use accesslink_testkit::helix::HelixMock;

use crate::settings_with;

const CANARY: &str = "helix-canary-Qx81-password";

#[tokio::test]
async fn the_password_and_token_are_never_printed() {
    let mock = HelixMock::builder()
        .credentials("svc-iam", CANARY)
        .start()
        .await;
    let settings = settings_with(&mock, |_| {});
    let settings_debug = format!("{settings:?}");
    let helix = HelixConnector::from_settings(settings).unwrap();
    helix.test_connection().await.unwrap();
    let sent = mock.received().await;
    let token = sent[1].headers["authorization"]
        .to_str()
        .unwrap()
        .trim_start_matches("AR-JWT ")
        .to_owned();
    let output = format!(
        "{settings_debug}\n{helix:?}\n{helix:#?}\n{:?}",
        helix.client()
    );
    secrets_never_printed(&output, &[CANARY, &token]).unwrap();
    // An echoing server on a read and on the login.
    mock.faults().push(Fault::EchoRequest, 1);
    let r = helix.parse_ticket_ref("INC1").unwrap();
    let e = helix.get_ticket(&r).await.unwrap_err();
    let shown = format!("{e} {e:?} {:?}", std::error::Error::source(&e));
    secrets_never_printed(&shown, &[CANARY, &token]).unwrap();
    helix.close().await.unwrap();
    mock.faults().push(Fault::EchoRequest, 1);
    let e = helix.test_connection().await.unwrap_err();
    let shown = format!("{e} {e:?} {:?}", std::error::Error::source(&e));
    secrets_never_printed(&shown, &[CANARY]).unwrap();
    assert!(
        shown.contains("400") || shown.contains("invalid"),
        "{shown}"
    );
}
