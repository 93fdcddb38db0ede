//! Keyset paging on the mock: hidden rows, rows inserted and deleted mid-import, token
//! refresh mid-import, resuming from a token, groups, roles and grants.

use std::collections::HashSet;

use accesslink_core::paging::{PagingOptions, accounts};
use accesslink_core::{AccountId, EntitlementType, ErrorKind, PageRequest, PageToken, Provisioner};
use accesslink_testkit::servicenow::ServiceNowMock;
use futures::TryStreamExt;
use serde_json::json;

use crate::mock::{basic_on, oauth_on, table_requests};

/// Every account id, page by page, through the trait.
async fn drain(
    p: &dyn Provisioner,
    size: u32,
    mut between: impl FnMut(usize, &str),
) -> Vec<String> {
    let mut ids = Vec::new();
    let mut token: Option<PageToken> = None;
    let mut pages = 0;
    loop {
        let page = p
            .list_accounts(PageRequest::at(token.clone()).size(size))
            .await
            .unwrap();
        ids.extend(page.items.iter().map(|a| a.id.as_str().to_owned()));
        pages += 1;
        match page.next {
            Some(t) => {
                between(pages, t.as_str());
                token = Some(t);
            }
            None => return ids,
        }
    }
}

fn sorted_ids(mock: &ServiceNowMock) -> Vec<String> {
    let mut ids: Vec<String> = mock
        .rows("sys_user")
        .iter()
        .map(|r| r["sys_id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

#[tokio::test]
async fn keyset_pages_never_stop_on_short_pages_and_step_over_hidden_windows() {
    let mock = ServiceNowMock::start().await;
    for i in 0..40 {
        mock.insert("sys_user", json!({ "user_name": format!("u{i:02}") }));
    }
    let all = sorted_ids(&mock);
    // Scattered hidden rows make short pages; rows 20..30 hide two whole windows of 5.
    let hidden: HashSet<&String> = all
        .iter()
        .enumerate()
        .filter(|(i, _)| matches!(i, 1 | 7 | 13) || (20..30).contains(i))
        .map(|(_, id)| id)
        .collect();
    for id in &hidden {
        mock.hide("sys_user", id);
    }
    let sn = basic_on(&mock);
    mock.clear_requests();
    let seen = drain(&sn, 5, |_, _| {}).await;
    let want: Vec<String> = all
        .iter()
        .filter(|id| !hidden.contains(id))
        .cloned()
        .collect();
    assert_eq!(seen, want, "every visible user once, in sys_id order");

    let lists = table_requests(&mock);
    let mut after_first = false;
    for r in &lists {
        assert_eq!(r.path, "/api/now/table/sys_user");
        assert_eq!(r.param("sysparm_limit"), Some("5"));
        let q = r.param("sysparm_query").unwrap();
        assert!(q.ends_with("ORDERBYsys_id"), "{q}");
        if after_first {
            assert!(q.starts_with("sys_id>"), "{q}");
        }
        after_first = true;
    }
    // Offsets only to step over the wholly hidden windows, and always on a keyset query.
    let stepped: Vec<_> = lists
        .iter()
        .filter(|r| r.param("sysparm_offset").is_some())
        .collect();
    assert!(!stepped.is_empty(), "the hidden windows were stepped over");
    assert!(
        stepped
            .iter()
            .all(|r| r.param("sysparm_query").unwrap().starts_with("sys_id>"))
    );
    // Stepping skips the count; a count after the first page only ever repeats the
    // (uncounted, empty) window just asked for, to tell hidden rows from the end.
    assert!(stepped.iter().all(|r| uncounted(r)), "{stepped:?}");
    for pair in lists.windows(2) {
        if !uncounted(&pair[1]) {
            assert!(uncounted(&pair[0]));
            assert_eq!(
                pair[0].param("sysparm_query"),
                pair[1].param("sysparm_query")
            );
            assert_eq!(pair[1].param("sysparm_offset"), None);
        }
    }
    assert!(!uncounted(&lists[0]));
    // The listing ended on an empty page, not on the last short one.
    let last = lists.last().unwrap();
    assert!(
        last.param("sysparm_query")
            .unwrap()
            .starts_with(&format!("sys_id>{}", want.last().unwrap()))
    );
}

/// Whether a list request skipped the `count(*)`.
fn uncounted(r: &accesslink_testkit::servicenow::SnRequest) -> bool {
    r.param("sysparm_no_count") == Some("true")
}

#[tokio::test]
async fn only_the_first_page_and_the_final_empty_one_pay_for_a_count() {
    let mock = ServiceNowMock::builder()
        .synthetic_users(2_500)
        .start()
        .await;
    let sn = basic_on(&mock);
    mock.clear_requests();
    let first = sn
        .list_accounts(PageRequest::first().size(300))
        .await
        .unwrap();
    assert_eq!(first.total, Some(2_500), "the first page reports the total");
    let mut ids: Vec<String> = first.items.iter().map(|a| a.id.to_string()).collect();
    let mut token = first.next;
    while let Some(t) = token {
        let p = sn
            .list_accounts(PageRequest::at(Some(t)).size(300))
            .await
            .unwrap();
        assert_eq!(p.total, None);
        ids.extend(p.items.iter().map(|a| a.id.to_string()));
        token = p.next;
    }
    let unique: HashSet<&String> = ids.iter().collect();
    assert_eq!((ids.len(), unique.len()), (2_500, 2_500));

    let lists = table_requests(&mock);
    // 9 pages (8 full, one of 100), the empty page, and that page again with the count.
    assert_eq!(
        lists.len(),
        11,
        "{:?}",
        lists
            .iter()
            .map(|r| r.param("sysparm_query"))
            .collect::<Vec<_>>()
    );
    assert!(
        !uncounted(&lists[0]),
        "the first page asks for X-Total-Count"
    );
    let (middle, last) = (&lists[1..lists.len() - 1], &lists[lists.len() - 1]);
    for r in middle {
        assert!(uncounted(r), "{:?}", r.query);
    }
    // The only other counted request confirms the empty page: the same keyset window.
    assert!(!uncounted(last));
    let before = &lists[lists.len() - 2];
    assert_eq!(last.param("sysparm_query"), before.param("sysparm_query"));
    assert_eq!(last.param("sysparm_offset"), None);
    let counted = lists.iter().filter(|r| !uncounted(r)).count();
    assert_eq!(
        counted, 2,
        "two counts for the whole import, not one per page"
    );
}

#[tokio::test]
async fn rows_inserted_and_deleted_mid_import_are_neither_lost_nor_repeated() {
    let mock = ServiceNowMock::builder().synthetic_users(60).start().await;
    let sn = basic_on(&mock);
    let before = sorted_ids(&mock);
    let mut inserted = Vec::new();
    let mut cursor_at_insert = String::new();
    let mut deleted = None;
    let seen = drain(&sn, 10, |page, token| {
        if page == 2 {
            let last = token.rsplit(':').next().unwrap().to_owned();
            // Delete a row already read; insert users that land before and after the cursor.
            deleted = Some(before[3].clone());
            assert!(mock.remove("sys_user", &before[3]));
            for i in 0..6 {
                inserted.push(mock.insert("sys_user", json!({ "user_name": format!("late{i}") })));
            }
            cursor_at_insert = last;
        }
    })
    .await;
    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "no account twice");
    for id in &before {
        assert!(unique.contains(id), "{id} was lost");
    }
    for id in &inserted {
        // Keyset order: a row inserted after the cursor is read, one before it is not
        // (it is picked up by the next import).
        assert_eq!(
            unique.contains(id),
            *id > cursor_at_insert,
            "{id} vs cursor {cursor_at_insert}"
        );
    }
    assert!(deleted.is_some());
}

#[tokio::test]
async fn a_token_expiring_mid_import_costs_exactly_one_refresh() {
    let mock = ServiceNowMock::builder()
        .synthetic_users(3_000)
        .start()
        .await;
    let sn = oauth_on(&mock);
    let mut stream = accounts(&sn, PagingOptions::new().page_size(500));
    let mut ids = HashSet::new();
    let mut n = 0;
    while let Some(a) = stream.try_next().await.unwrap() {
        if n == 1_200 {
            assert_eq!(mock.oauth().tokens().issued(), 1);
            mock.expire_tokens();
        }
        assert!(ids.insert(a.id), "duplicate");
        n += 1;
    }
    assert_eq!(ids.len(), 3_000, "nothing lost");
    assert_eq!(mock.oauth().tokens().issued(), 2, "one token, one renewal");
    assert_eq!(mock.count("POST", "/oauth_token.do"), 2);
    // The rejected request was repeated with the new token.
    let table_calls = mock
        .requests()
        .iter()
        .filter(|r| r.path == "/api/now/table/sys_user")
        .count();
    assert_eq!(
        table_calls,
        6 + 1 + 1 + 1,
        "6 pages, the empty last page, its counted confirmation, and one repeat"
    );
}

#[tokio::test]
async fn an_import_resumes_from_its_token_with_a_new_connector() {
    let mock = ServiceNowMock::builder().synthetic_users(95).start().await;
    let first = basic_on(&mock);
    let p1 = first
        .list_accounts(PageRequest::first().size(40))
        .await
        .unwrap();
    assert_eq!(p1.total, Some(95));
    let token = p1.next.unwrap();
    drop(first);
    let second = basic_on(&mock);
    let mut ids: Vec<AccountId> = p1.items.into_iter().map(|a| a.id).collect();
    let mut at = Some(token);
    while let Some(t) = at {
        let p = second
            .list_accounts(PageRequest::at(Some(t)).size(40))
            .await
            .unwrap();
        assert_eq!(
            p.total, None,
            "a total after the cursor would not be the listing's"
        );
        ids.extend(p.items.into_iter().map(|a| a.id));
        at = p.next;
    }
    let unique: HashSet<_> = ids.iter().collect();
    assert_eq!((ids.len(), unique.len()), (95, 95));

    // A token of another listing, or a forged one, is refused before any request.
    mock.clear_requests();
    for bad in [
        "sn1:sys_user_group:0123456789abcdef0123456789abcdef",
        "sn1:sys_user:x^ORactive=true",
        "17",
    ] {
        let e = second
            .list_accounts(PageRequest::at(Some(PageToken::new(bad))))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
    }
    assert!(mock.requests().is_empty());
}

#[tokio::test]
async fn groups_roles_and_grants_page_by_keyset() {
    let mock = ServiceNowMock::start().await;
    let users: Vec<String> = (0..4)
        .map(|i| mock.insert("sys_user", json!({ "user_name": format!("m{i}") })))
        .collect();
    let groups: Vec<String> = (0..7)
        .map(|i| mock.insert("sys_user_group", json!({ "name": format!("g{i}") })))
        .collect();
    let roles: Vec<String> = (0..6)
        .map(|i| mock.insert("sys_user_role", json!({ "name": format!("r{i}") })))
        .collect();
    for (i, g) in groups.iter().enumerate() {
        mock.insert(
            "sys_user_grmember",
            json!({ "user": users[i % 4], "group": g }),
        );
    }
    for (i, r) in roles.iter().enumerate() {
        mock.insert(
            "sys_user_has_role",
            json!({ "user": users[i % 4], "role": r, "inherited": "false" }),
        );
    }
    let sn = basic_on(&mock);
    for (ty, want) in [("group", groups.len()), ("role", roles.len())] {
        let ty = EntitlementType::new(ty);
        let mut token = None;
        let mut seen = HashSet::new();
        let mut grants = HashSet::new();
        loop {
            let p = sn
                .list_entitlements(&ty, PageRequest::at(token).size(3))
                .await
                .unwrap();
            seen.extend(p.items.into_iter().map(|e| e.reference.id));
            token = p.next;
            if token.is_none() {
                break;
            }
        }
        assert_eq!(seen.len(), want);
        let mut token = None;
        loop {
            let p = sn
                .list_grants(&ty, PageRequest::at(token).size(2))
                .await
                .unwrap();
            for g in p.items {
                assert_eq!(g.entitlement.ty, ty);
                assert!(users.contains(&g.account.as_str().to_owned()));
                grants.insert(g.entitlement.id);
            }
            token = p.next;
            if token.is_none() {
                break;
            }
        }
        assert_eq!(grants, seen);
    }
    let paths: HashSet<String> = table_requests(&mock).into_iter().map(|r| r.path).collect();
    for t in [
        "sys_user_group",
        "sys_user_role",
        "sys_user_grmember",
        "sys_user_has_role",
    ] {
        assert!(paths.contains(&format!("/api/now/table/{t}")), "{t}");
    }
}

#[tokio::test]
async fn a_page_of_unusable_rows_does_not_end_a_drain() {
    let mock = ServiceNowMock::start().await;
    let user = mock.insert("sys_user", json!({ "user_name": "u" }));
    let group = mock.insert("sys_user_group", json!({ "name": "g" }));
    // Memberships whose user was removed behind the instance's back (empty references)
    // fill the first three pages of two; the one good row sorts last.
    for i in 1..=6 {
        let id = format!("{i:032x}");
        mock.insert(
            "sys_user_grmember",
            json!({ "sys_id": id, "user": "", "group": group }),
        );
    }
    let good = "f".repeat(32);
    mock.insert(
        "sys_user_grmember",
        json!({ "sys_id": good, "user": user, "group": group }),
    );
    assert!(mock.row("sys_user_grmember", &good).is_some());
    let sn = basic_on(&mock);
    let ty = EntitlementType::group();
    let all: Vec<_> = accesslink_core::paging::grants(&sn, &ty, PagingOptions::new().page_size(2))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(all.len(), 1, "{all:?}");
    assert_eq!(all[0].account.as_str(), user);
}

#[tokio::test]
async fn a_table_handle_streams_a_filtered_keyset_listing() {
    let mock = ServiceNowMock::start().await;
    for i in 0..8 {
        let state = if i % 4 == 0 { "7" } else { "2" };
        mock.insert(
            "incident",
            json!({ "short_description": format!("i{i}"), "state": state, "close_code": "x", "close_notes": "y" }),
        );
    }
    let sn = basic_on(&mock);
    mock.clear_requests();
    let open: Vec<_> = sn
        .client()
        .incidents()
        .list_stream(
            accesslink_servicenow::Query::new().eq("active", "true"),
            PagingOptions::new().page_size(3),
        )
        .try_collect()
        .await
        .unwrap();
    assert_eq!(open.len(), 6);
    assert!(open.iter().all(|t| t.active.as_deref() == Some("true")));
    let queries: Vec<String> = table_requests(&mock)
        .iter()
        .map(|r| r.param("sysparm_query").unwrap().to_owned())
        .collect();
    assert_eq!(
        queries.len(),
        4,
        "3 + 3 + the empty page, asked again with the count: {queries:?}"
    );
    assert_eq!(queries[0], "active=true^ORDERBYsys_id");
    assert!(
        queries[1].starts_with("active=true^sys_id>") && queries[1].ends_with("^ORDERBYsys_id")
    );
}

#[tokio::test]
async fn a_filter_with_new_query_branches_pages_each_branch_by_keyset() {
    let mock = ServiceNowMock::start().await;
    let mut want = Vec::new();
    for i in 0..9 {
        let state = ["1", "2", "3"][i % 3];
        let id = mock.insert(
            "incident",
            json!({ "short_description": format!("i{i}"), "state": state }),
        );
        if state != "3" {
            want.push(id);
        }
    }
    want.sort();
    let sn = basic_on(&mock);
    mock.clear_requests();
    let got: Vec<String> = sn
        .client()
        .incidents()
        .list_stream(
            accesslink_servicenow::Query::new()
                .eq("state", "1")
                .new_query()
                .eq("state", "2"),
            PagingOptions::new().page_size(2),
        )
        .map_ok(|t| t.sys_id.unwrap())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(got, want, "each row of either branch once, in sys_id order");
    let second = table_requests(&mock)[1]
        .param("sysparm_query")
        .unwrap()
        .to_owned();
    let last = &want[1];
    assert_eq!(
        second,
        format!("state=1^sys_id>{last}^NQstate=2^sys_id>{last}^ORDERBYsys_id")
    );
}

#[tokio::test]
async fn a_keyset_filter_with_its_own_order_is_refused_before_any_request() {
    let mock = ServiceNowMock::start().await;
    for name in ["b", "a", "c"] {
        mock.insert("sys_user_group", json!({ "name": name }));
    }
    let sn = basic_on(&mock);
    mock.clear_requests();
    let e = sn
        .client()
        .groups()
        .list_stream(
            accesslink_servicenow::Query::new().order_by("name"),
            PagingOptions::new().page_size(2),
        )
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
    assert!(mock.requests().is_empty(), "{:?}", mock.requests());
}
