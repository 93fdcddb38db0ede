//! Provisioning details the suite does not see: account types, hidden e-mails, what Cloud
//! cannot do, Data Center's `active`, resumable grant tokens.

use accesslink_core::{
    AccountChange, AccountId, EntitlementType, ErrorKind, PageRequest, PageToken, Provisioner,
};
use accesslink_jira::JiraConnector;
use accesslink_testkit::Mock;
use accesslink_testkit::jira::{JiraMock, Mode};

use crate::{on, settings_of};

async fn all_accounts(jira: &JiraConnector) -> Vec<accesslink_core::Account> {
    let mut out = Vec::new();
    let mut page = PageRequest::first().size(3);
    loop {
        let p = jira.list_accounts(page).await.unwrap();
        out.extend(p.items);
        match p.next {
            Some(t) => page = PageRequest::at(Some(t)).size(3),
            None => return out,
        }
    }
}

#[tokio::test]
async fn cloud_keeps_hidden_emails_and_filters_account_types() {
    let mock = JiraMock::builder().users(20).start().await;
    let jira = on(&mock);
    let accounts = all_accounts(&jira).await;
    let private = accounts
        .iter()
        .find(|a| a.display_name.as_deref() == Some("Private Person"))
        .expect("an account with a hidden e-mail is kept");
    assert_eq!(private.email, None);
    assert_eq!(private.login, private.id.as_str());
    assert!(
        accounts
            .iter()
            .all(|a| a.attributes["accountType"] == "atlassian")
    );
    // With app accounts configured, they come too.
    let mut s = settings_of(&mock);
    s.account_types = vec!["atlassian".into(), "app".into()];
    let with_apps = all_accounts(&JiraConnector::from_settings(s).unwrap()).await;
    assert!(with_apps.len() > accounts.len());
    assert!(
        with_apps
            .iter()
            .any(|a| a.display_name.as_deref() == Some("Automation for Jira"))
    );
    assert!(
        with_apps
            .iter()
            .all(|a| a.attributes["accountType"] != "customer")
    );
}

#[tokio::test]
async fn cloud_cannot_disable_or_update_and_sends_nothing_trying() {
    let mock = JiraMock::start_cloud().await;
    let jira = on(&mock);
    let id = AccountId::new(mock.user_ids()[0].clone());
    let e = jira.set_enabled(&id, false).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unsupported);
    assert!(e.to_string().contains("organization admin API"), "{e}");
    let e = jira
        .update_account(&id, &AccountChange::new().display_name("x"))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unsupported);
    assert_eq!(mock.request_count(), 0);
}

#[tokio::test]
async fn data_center_disables_with_active_false() {
    let mock = JiraMock::builder().mode(Mode::DataCenter).start().await;
    let jira = on(&mock);
    let id = mock.user_ids()[0].clone();
    jira.set_enabled(&AccountId::new(id.clone()), false)
        .await
        .unwrap();
    assert_eq!(mock.user_active(&id), Some(false));
    let put = mock
        .received()
        .await
        .into_iter()
        .find(|r| r.method == "PUT")
        .unwrap();
    assert_eq!(put.url.path(), "/rest/api/2/user");
    assert_eq!(put.url.query(), Some(format!("username={id}").as_str()));
    let body: serde_json::Value = put.body_json().unwrap();
    assert_eq!(body, serde_json::json!({"active": false}));
    let a = jira
        .get_account(&AccountId::new(id))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(a.enabled, Some(false));
}

#[tokio::test]
async fn grant_pages_resume_from_their_token() {
    let mock = JiraMock::builder().users(6).start().await;
    // Seeded first: Jane (atlassian), Automation for Jira (app), Private Person
    // (atlassian), Carl Customer (customer); then six generated atlassian users.
    let ids = mock.user_ids();
    let (a, b) = (mock.add_group("alpha"), mock.add_group("beta"));
    for id in &ids[4..10] {
        mock.add_member(&a, id);
    }
    for id in [&ids[1], &ids[7], &ids[8], &ids[9]] {
        mock.add_member(&b, id);
    }
    let jira = on(&mock);
    let g = EntitlementType::group();
    let first = jira
        .list_grants(&g, PageRequest::first().size(2))
        .await
        .unwrap();
    assert_eq!(first.items.len(), 2);
    assert_eq!(first.next, Some(PageToken::new("0:2")));
    // A later run resumes from the token and reads the rest exactly once.
    let mut seen: Vec<_> = first.items;
    let mut page = PageRequest::at(first.next).size(2);
    loop {
        let p = jira.list_grants(&g, page).await.unwrap();
        seen.extend(p.items);
        match p.next {
            Some(t) => page = PageRequest::at(Some(t)).size(2),
            None => break,
        }
    }
    let mut got: Vec<(String, String)> = seen
        .iter()
        .map(|g| (g.account.to_string(), g.entitlement.id.to_string()))
        .collect();
    got.sort();
    let mut want: Vec<(String, String)> = ids[4..10]
        .iter()
        .map(|i| (i.clone(), a.clone()))
        .chain(ids[7..10].iter().map(|i| (i.clone(), b.clone())))
        .collect();
    want.sort();
    // Every membership once; the app account's membership of beta is left out.
    assert_eq!(got, want);
    let e = jira
        .list_grants(&g, PageRequest::at(Some(PageToken::new("x"))))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
}

#[tokio::test]
async fn a_data_center_group_picker_that_sends_less_than_its_total_is_an_error() {
    use accesslink_testkit::fault::{Fault, FaultMatcher};
    let mock = JiraMock::builder().mode(Mode::DataCenter).start().await;
    for name in ["a", "b", "c"] {
        mock.add_group(name);
    }
    let jira = on(&mock);
    let g = EntitlementType::group();
    // The whole list, paged by the connector.
    let first = jira
        .list_entitlements(&g, PageRequest::first().size(2))
        .await
        .unwrap();
    assert_eq!(first.items.len(), 2);
    let rest = jira
        .list_entitlements(&g, PageRequest::at(first.next).size(2))
        .await
        .unwrap();
    assert_eq!(rest.items.len(), 1);
    assert!(rest.next.is_none());
    let picker = mock
        .received()
        .await
        .into_iter()
        .find(|r| r.url.path() == "/rest/api/2/groups/picker")
        .unwrap();
    assert!(picker.url.query().unwrap().contains("maxResults=1000"));
    // A picker answer cut below its total is refused, not imported short.
    mock.faults().push_for(
        FaultMatcher::method("GET").and_path_suffix("/groups/picker"),
        Fault::Status {
            status: 200,
            body: Some(
                r#"{"header":"Showing 1 of 3 matching groups","total":3,"groups":[{"name":"a"}]}"#
                    .into(),
            ),
        },
        1,
    );
    let e = jira
        .list_entitlements(&g, PageRequest::first())
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Protocol, "{e}");
}
