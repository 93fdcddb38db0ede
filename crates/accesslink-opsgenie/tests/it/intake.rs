//! The intake contract on OpsGenie: a declared account schema; no passwords, no ticket
//! listing (OpsGenie is a provisioner only here).

use accesslink_core::{AccountId, Capability, Connector, ErrorKind, Provisioner};
use accesslink_testkit::conformance::AccountBackend;
use accesslink_testkit::opsgenie::OpsGenieMock;

use crate::on_mock;

#[tokio::test]
async fn the_account_schema_covers_the_users_fields_and_passwords_are_unsupported() {
    let mock = OpsGenieMock::start().await;
    let og = on_mock(&mock);
    let schema = og.account_schema().await.unwrap();
    for f in mock.account_fields().unwrap() {
        assert!(schema.get(&f).is_some(), "{f}");
    }
    assert!(schema.get("username").unwrap().required);
    assert!(schema.get("blocked").unwrap().read_only);
    let e = og
        .set_password(&AccountId::new("u-1"), &"Secret-123!".into())
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unsupported);
    assert!(og.info().supports(&Capability::AccountSchema));
    assert!(!og.info().supports(&Capability::SetPassword));
    assert!(!og.info().supports(&Capability::ListTickets));
    assert!(og.as_ticketing().is_none());
    assert_eq!(mock.requests(), 0, "declared and refused without a request");
}
