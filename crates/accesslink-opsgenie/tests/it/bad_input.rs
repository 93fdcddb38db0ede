//! Malformed or injected identifiers, tokens and specs are rejected before any request:
//! the mock counts none.

use accesslink_core::{
    AccountChange, AccountId, AccountSpec, EntitlementRef, EntitlementType, ErrorKind, PageRequest,
    PageToken, Provisioner,
};
use accesslink_opsgenie::{Identifier, OpsGenieConnector};
use accesslink_testkit::conformance::injection_attempts;
use accesslink_testkit::opsgenie::OpsGenieMock;

use crate::on_mock;

fn bad_accounts() -> Vec<String> {
    let mut ids: Vec<String> = [
        "",
        ".",
        "..",
        "../teams",
        "a/b",
        "a?b=1",
        "a#b",
        "a b",
        "a%2Fb",
        "jane@example.com/../../v2/teams",
        "x\r\nAuthorization: GenieKey stolen",
    ]
    .map(str::to_owned)
    .to_vec();
    ids.push("y".repeat(101));
    // The shared list, minus entries that happen to be well-formed ids here.
    ids.extend(
        injection_attempts()
            .into_iter()
            .filter(|s| accesslink_opsgenie::refs::check_user(s).is_err()),
    );
    ids
}

#[tokio::test]
async fn bad_account_ids_send_nothing() {
    let mock = OpsGenieMock::builder().generated_users(5).start().await;
    let og = on_mock(&mock);
    let team = OpsGenieConnector::team_entitlement("4b1c-valid");
    let role = OpsGenieConnector::role_entitlement("Admin");
    for raw in bad_accounts() {
        let id = AccountId::new(raw.clone());
        let results = [
            og.get_account(&id).await.map(|_| ()),
            og.update_account(&id, &AccountChange::new().display_name("x"))
                .await
                .map(|_| ()),
            og.delete_account(&id).await,
            og.grant(&id, &team).await.map(|_| ()),
            og.revoke(&id, &team).await.map(|_| ()),
            og.grant(&id, &role).await.map(|_| ()),
        ];
        for r in results {
            let e = r.unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidInput, "{raw:?}: {e}");
            assert!(e.to_string().len() < 300, "bounded message for {raw:?}");
        }
    }
    assert_eq!(mock.requests(), 0, "{:?}", mock.counter().snapshot());
}

#[tokio::test]
async fn bad_entitlements_tokens_and_specs_send_nothing() {
    let mock = OpsGenieMock::builder().generated_users(5).start().await;
    let og = on_mock(&mock);
    let id = AccountId::new("jane@example.com");
    let bad_refs = [
        EntitlementRef::new(EntitlementType::team(), "ops/../../users"),
        EntitlementRef::new(EntitlementType::team(), "ops?identifierType=name"),
        EntitlementRef::new(EntitlementType::team(), ""),
        EntitlementRef::new(EntitlementType::role(), "Admin\n"),
        EntitlementRef::new(EntitlementType::role(), " Admin"),
        EntitlementRef::new(EntitlementType::group(), "ops"),
        EntitlementRef::new(EntitlementType::new("profile"), "1"),
    ];
    for e in &bad_refs {
        for r in [
            og.grant(&id, e).await.map(|_| ()),
            og.revoke(&id, e).await.map(|_| ()),
        ] {
            assert_eq!(r.unwrap_err().kind(), ErrorKind::InvalidInput, "{e:?}");
        }
    }
    for token in [
        "og1:teams:x",
        "og1:users:-5",
        "og1:users:1e3",
        "20",
        "og1:users:",
    ] {
        let page = PageRequest::at(Some(PageToken::new(token)));
        let e = og.list_accounts(page.clone()).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "{token}");
        let e = og
            .list_grants(&EntitlementType::role(), page)
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "{token}");
    }
    let e = og
        .list_entitlements(&EntitlementType::group(), PageRequest::first())
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    for spec in [
        AccountSpec::new("not-an-email"),
        AccountSpec::new("a@b.c/../x"),
        AccountSpec::new("a@example.com").attribute("password", "secret"),
        AccountSpec::new("a@example.com").email("other@example.com"),
        AccountSpec::new("a@example.com").attribute("role", "Adm\u{0}in"),
    ] {
        let e = og.create_account(&spec).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "{spec:?}");
    }
    let change = AccountChange::new().email("not-an-email");
    let e = og.update_account(&id, &change).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    // The typed handles check too.
    let teams = og.client().teams();
    assert!(teams.get_opt(&Identifier::name("a/b")).await.is_err());
    assert!(og.client().users().get_opt("../account").await.is_err());
    // Disabling is unsupported, decided without a request.
    let e = og.set_enabled(&id, false).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unsupported);
    assert_eq!(mock.requests(), 0, "{:?}", mock.counter().snapshot());
}

/// A role name goes into `/v2/roles/{name}`: `.` and `..` are dot segments, which URL
/// parsers resolve — `..` would read `/v2/` instead of a role.
#[tokio::test]
async fn dot_segment_role_names_send_nothing() {
    let mock = OpsGenieMock::builder().generated_users(1).start().await;
    let og = on_mock(&mock);
    let id = AccountId::new(mock.generated_user_id(0).unwrap());
    for name in [".", ".."] {
        let role = OpsGenieConnector::role_entitlement(name);
        for r in [
            og.grant(&id, &role).await.map(|_| ()),
            og.revoke(&id, &role).await.map(|_| ()),
        ] {
            assert_eq!(r.unwrap_err().kind(), ErrorKind::InvalidInput, "{name:?}");
        }
        let roles = og.client().roles();
        let e = roles.get_opt(&Identifier::name(name)).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "{name:?}");
    }
    assert_eq!(mock.requests(), 0, "{:?}", mock.counter().snapshot());
}
