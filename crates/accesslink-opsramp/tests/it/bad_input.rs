//! Malformed or injected ids, tokens and specs are refused before any request.

use accesslink_core::{
    AccountChange, AccountSpec, EntitlementRef, EntitlementType, ErrorKind, PageRequest, PageToken,
    Provisioner,
};
use accesslink_opsramp::OpsRampConnector;
use accesslink_testkit::conformance::injection_attempts;

use crate::{connector, mock};

#[tokio::test]
async fn injected_ids_never_reach_the_server() {
    let mock = mock(3).await;
    let opsramp = connector(&mock);
    let mut bad: Vec<String> = injection_attempts();
    bad.extend(["USR1/ACTIVATE", "../roles", "USR1?x=1", "USR%2F1", "USR 1"].map(String::from));
    let good_role = OpsRampConnector::role_entitlement("ROLE-1");
    for id in &bad {
        let id = id.as_str().into();
        let kinds = [
            opsramp.get_account(&id).await.map(drop),
            opsramp.set_enabled(&id, false).await,
            opsramp.delete_account(&id).await,
            opsramp
                .update_account(&id, &AccountChange::new().email("x@y.z"))
                .await
                .map(drop),
            opsramp.grant(&id, &good_role).await.map(drop),
            opsramp.revoke(&id, &good_role).await.map(drop),
        ];
        for (i, r) in kinds.into_iter().enumerate() {
            let e = r.unwrap_err();
            assert_eq!(
                e.kind(),
                ErrorKind::InvalidInput,
                "call {i} with {id:?}: {e}"
            );
            assert!(e.to_string().len() < 300, "bounded message");
        }
    }
    for eid in &bad {
        for ty in [EntitlementType::role(), EntitlementType::group()] {
            let e = EntitlementRef::new(ty, eid.as_str());
            let err = opsramp
                .grant(&"USR0000000001".into(), &e)
                .await
                .unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{eid:?}");
        }
    }
    let team = EntitlementRef::new(EntitlementType::team(), "T1");
    assert_eq!(
        opsramp
            .grant(&"USR0000000001".into(), &team)
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidInput
    );
    assert_eq!(mock.counter().total(), 0, "not even a token request");
}

#[tokio::test]
async fn bad_specs_tokens_and_logins_never_reach_the_server() {
    let mock = mock(3).await;
    let opsramp = connector(&mock);
    let specs = [
        AccountSpec::new("no.names").email("a@b.c"),
        AccountSpec::new("no.email").name("A", "B"),
        AccountSpec::new("a\u{7}b@example.com")
            .name("A", "B")
            .email("ab@example.com"),
        AccountSpec::new(" padded").name("A", "B").email("a@b.c"),
        AccountSpec::new("x")
            .name("A", "B")
            .email("a@b.c")
            .attribute("apiToken", "s3cr3t-value"),
    ];
    for s in &specs {
        let e = opsramp.create_account(s).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "{}: {e}", s.login);
        assert!(!e.to_string().contains("s3cr3t-value"));
    }
    for t in [
        "roles:1:100",
        "users:0:100",
        "users:1:9999",
        "users;DROP",
        "",
    ] {
        let page = PageRequest::at(Some(PageToken::new(t)));
        let e = opsramp.list_accounts(page).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "{t:?}");
    }
    let e = opsramp
        .list_entitlements(&EntitlementType::new("permissionSet"), PageRequest::first())
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert_eq!(mock.counter().total(), 0);
}
